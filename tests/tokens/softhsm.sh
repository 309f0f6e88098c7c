#!/bin/sh
# tests/tokens/softhsm.sh DIR: the SoftHSM test token (softhsm-config/mktoken.sh) in DIR.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
exec sh "$top/softhsm-config/mktoken.sh" "$1" cmk-test
