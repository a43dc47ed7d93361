# idekube: ~/.zshrc for interactive zsh (set IDEKUBE_PREFERED_SHELL=/bin/zsh to use it).
HISTFILE=~/.zsh_history
HISTSIZE=10000
SAVEHIST=10000
setopt appendhistory histignoredups
bindkey -e
autoload -Uz compinit && compinit -u

# >>> idekube: hooks >>>
# Hooks of the image's layers (conda, ROS, ...): /etc/idekube/zshrc.d/*.zsh
if [ -d /etc/idekube/zshrc.d ]; then
    for __idekube_rc in /etc/idekube/zshrc.d/*.zsh(N); do
        . "$__idekube_rc"
    done
    unset __idekube_rc
fi
# <<< idekube: hooks <<<
