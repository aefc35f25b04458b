# bash completion for helios. Load it with
#   source <(helios completion bash)
# or save it as /etc/bash_completion.d/helios (or ~/.local/share/bash-completion/completions/helios).
#
# helios answers completion requests itself: given the words typed so far followed by
# --generate-bash-completion it prints the candidates (commands, or the flags of the command
# when the current word starts with "-"), one a line.
_helios_complete() {
  # The words come from the line itself, not COMP_WORDS, which bash also splits at ":" and
  # "=" (COMP_WORDBREAKS): "-z http://10.0.0.5:5801" must reach helios as two words.
  local line="${COMP_LINE:0:COMP_POINT}"
  local -a words
  read -r -a words <<< "$line"
  local cur=""
  if [[ "$line" != *[[:space:]] && ${#words[@]} -gt 0 ]]; then
    cur="${words[${#words[@]}-1]}"
    unset 'words[${#words[@]}-1]'
  fi
  local candidates
  if [[ "$cur" == -* ]]; then
    candidates=$("${words[0]}" "${words[@]:1}" "$cur" --generate-bash-completion 2>/dev/null)
  else
    candidates=$("${words[0]}" "${words[@]:1}" --generate-bash-completion 2>/dev/null)
  fi
  local IFS=$'\n'
  COMPREPLY=($(compgen -W "$candidates" -- "$cur"))
  # bash replaces only the part of the word after its last ":" or "=".
  local head="${cur%"${cur##*[:=]}"}"
  if [[ -n "$head" ]]; then
    COMPREPLY=("${COMPREPLY[@]#"$head"}")
  fi
}
complete -o bashdefault -o default -F _helios_complete helios
