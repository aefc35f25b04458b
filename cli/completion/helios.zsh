#compdef helios
# zsh completion for helios. Load it with
#   source <(helios completion zsh)
# after compinit, or save it as _helios in a directory of $fpath.
#
# helios answers completion requests itself: given the words typed so far followed by
# --generate-bash-completion it prints the candidates, one a line.
_helios() {
  local -a candidates
  local cur=${words[CURRENT]}
  if [[ $cur == -* ]]; then
    candidates=("${(@f)$(${words[1]} ${words[2,CURRENT-1]} $cur --generate-bash-completion 2>/dev/null)}")
  else
    candidates=("${(@f)$(${words[1]} ${words[2,CURRENT-1]} --generate-bash-completion 2>/dev/null)}")
  fi
  if [[ -n ${candidates[1]} ]]; then
    _describe 'helios' candidates
  else
    _files
  fi
}
if (( $+functions[compdef] )); then
  compdef _helios helios
fi
