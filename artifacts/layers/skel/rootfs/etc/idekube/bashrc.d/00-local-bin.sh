# shellcheck shell=sh
# idekube: programs installed with `pip install --user` and the like.
case ":$PATH:" in
    *":$HOME/.local/bin:"*) ;;
    *) PATH="$HOME/.local/bin:$PATH" ;;
esac
export PATH
