#!/bin/sh
# bench/run.sh: `make bench`. Runs every bench/*.sh (each prints its figures as ratios against a
# reference measured in the same run) against a throw-away token in $BUILD/bench-token.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
export CMK_TOP="$top" CMK_BUILD="$top/$BUILD"
tokdir="$top/$BUILD/bench-token"
BUILD=$BUILD sh "$top/softhsm-config/mktoken.sh" "$tokdir" cmk-bench >/dev/null || exit 1
. "$tokdir/env"
rc=0
for b in "$top"/bench/*.sh; do
    case "$b" in */run.sh) continue ;; esac
    case "$(basename "$b")" in *"${BENCH:-}"*) ;; *) continue ;; esac
    echo "=== $(basename "$b" .sh)"
    sh "$b" || rc=1
done
exit $rc
