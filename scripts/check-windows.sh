#!/usr/bin/env bash
# The Windows build and its proof under Wine: scripts/windows.sh (this name is kept for those
# who knew it).
exec "$(dirname "$0")/windows.sh" "$@"
