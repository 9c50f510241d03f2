# Sourced by the scripts of scripts/ (bash): what they need from Debian's packages.

# apt_install SCRIPT [PACKAGE...]: installs the missing Debian packages with apt-get when this is
# root on a Debian/Ubuntu machine; otherwise says which are missing and how to install them, in
# SCRIPT's name, and exits 2. Nothing to do without packages.
apt_install() {
  local script="$1"
  shift
  [ $# -gt 0 ] || return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y "$@"
  else
    echo "$script: missing $*; install them (Debian: sudo apt-get install -y $*)" >&2
    exit 2
  fi
}
