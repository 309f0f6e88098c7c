#!/bin/sh
# tests/run.sh: runs every test of cmk against a throw-away SoftHSM token and adds them up.
# CUnit programs ($BUILD/tests/test_*) come first, then the end-to-end scripts (tests/e2e/*.sh),
# which drive the real `openssl` command. Each prints a closing line
#     cmk-tests: N passed, N failed, N skipped
# and the last line of this script sums them: "N passed, N failed, N skipped".
# A program that dies without its closing line counts as one failure.
# TESTS="pattern" runs only the tests whose file name contains pattern.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
export CMK_TOP="$top" CMK_BUILD="$top/$BUILD"
logs="$top/$BUILD/test-logs"
mkdir -p "$logs"

tokdir="$top/$BUILD/test-token"
if ! BUILD=$BUILD sh "$top/softhsm-config/mktoken.sh" "$tokdir" cmk-test >"$logs/mktoken.log" 2>&1; then
    echo "tests: could not make the test token:" >&2
    cat "$logs/mktoken.log" >&2
    echo "0 passed, 1 failed, 0 skipped"
    exit 1
fi
. "$tokdir/env"
# No test may touch the user's own files: the embedded token and its audit log live under HOME.
export HOME="$top/$BUILD/test-home" XDG_DATA_HOME="$top/$BUILD/test-home/.local/share"
rm -rf "$HOME" && mkdir -p "$HOME"
# cmk (and the provider it loads) record key operations in an audit log: the tests' go beside
# the throw-away token, never into the user's own (~/.local/share/cmk/audit.log).
export CMK_AUDIT_LOG="$tokdir/audit.log"

passed=0 failed=0 skipped=0
run_one() { # name command...
    name=$1
    shift
    case "$name" in *"${TESTS:-}"*) ;; *) return 0 ;; esac
    printf '=== %s\n' "$name"
    t0=$(date +%s)
    timeout "${CMK_TEST_TIMEOUT:-600}" "$@" >"$logs/$name.log" 2>&1
    rc=$?
    cat "$logs/$name.log"
    echo "($name: $(($(date +%s) - t0)) s)"
    line=$(grep -E '^cmk-tests: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$logs/$name.log" | tail -n 1)
    if [ -z "$line" ]; then
        echo "FAIL: $name exited $rc without its closing line"
        failed=$((failed + 1))
        return 0
    fi
    set -- $line
    p=$2 f=$4 s=$6
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "FAIL: $name exited $rc"
        f=1
    fi
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

# CMK_TEST_VALGRIND=1 (make check-valgrind): each CUnit program runs under valgrind's memcheck;
# an invalid access or a leak definitely lost fails it (exit 99). tests/valgrind.supp holds the
# suppressions, third-party code only.
vg=
[ -n "${CMK_TEST_VALGRIND:-}" ] &&
    vg="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
        --show-leak-kinds=definite --gen-suppressions=all --suppressions=$top/tests/valgrind.supp"
for t in "$top/$BUILD"/tests/test_*; do
    # shellcheck disable=SC2086
    [ -x "$t" ] && run_one "$(basename "$t")" $vg "$t"
done
# A sanitized cmk.so loaded into the system's openssl needs the sanitizer runtime preloaded.
# CMK_TEST_SANITIZE names the sanitizer for the scripts' own skips.
case "$BUILD" in
*san-*address*)
    e2e_preload=$(${CC:-cc} -print-file-name=libasan.so)
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} CMK_TEST_SANITIZE=address
    ;;
*san-*thread*)
    # TSan's runtime cannot be preloaded into sh (dash and bash die at their first setjmp): only
    # openssl gets it, through a wrapper first on PATH, and other programs that load cmk.so
    # through $CMK_TEST_PRELOAD. cmk itself is built with TSan.
    e2e_preload=
    mkdir -p "$top/$BUILD/tsan-bin"
    export CMK_TEST_PRELOAD="$(${CC:-cc} -print-file-name=libtsan.so)" CMK_TEST_SANITIZE=thread
    printf '#!/bin/sh\nLD_PRELOAD=%s exec %s "$@"\n' "$CMK_TEST_PRELOAD" "$(command -v openssl)" \
        >"$top/$BUILD/tsan-bin/openssl"
    chmod +x "$top/$BUILD/tsan-bin/openssl"
    export PATH="$top/$BUILD/tsan-bin:$PATH"
    ;;
*) e2e_preload= ;;
esac
for t in "$top"/tests/e2e/*.sh; do
    case "$t" in */lib.sh) continue ;; esac
    run_one "$(basename "$t" .sh)" env ${e2e_preload:+LD_PRELOAD=$e2e_preload} sh "$t"
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
