# bash completion for helios. Load it with
#   source <(helios completion bash)
# or save it as /etc/bash_completion.d/helios (or ~/.local/share/bash-completion/completions/helios).
#
# helios answers completion requests itself: given the words typed so far followed by
# --generate-bash-completion it prints the candidates (commands, or the flags of the command
# when the current word starts with "-"), one a line.
_helios_complete() {
  local cur="${COMP_WORDS[COMP_CWORD]}"
  local -a typed=("${COMP_WORDS[@]:1:COMP_CWORD-1}")
  local candidates
  if [[ "$cur" == -* ]]; then
    candidates=$("${COMP_WORDS[0]}" "${typed[@]}" "$cur" --generate-bash-completion 2>/dev/null)
  else
    candidates=$("${COMP_WORDS[0]}" "${typed[@]}" --generate-bash-completion 2>/dev/null)
  fi
  local IFS=$'\n'
  COMPREPLY=($(compgen -W "$candidates" -- "$cur"))
}
complete -o bashdefault -o default -F _helios_complete helios
