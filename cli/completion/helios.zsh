#compdef helios
# zsh completion for helios. Save it as _helios in a directory of $fpath before compinit
# runs, or load it after compinit with
#   source <(helios completion zsh)
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
# Autoloaded from $fpath this file is the body of _helios: define it, then complete now.
# Sourced, it registers the function instead.
if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then
  _helios "$@"
elif (( $+functions[compdef] )); then
  compdef _helios helios
fi
