#!/bin/sh
# tests/run.sh: runs every test of cmk against throw-away tokens and adds them up.
# CUnit programs ($BUILD/tests/test_*) come first, once, against a SoftHSM token; then the
# end-to-end scripts (tests/e2e/*.sh), which drive the real `openssl` command, once per token
# kind in CMK_TEST_TOKENS (default "softhsm nss p11kit"; tests/tokens/KIND.sh makes each, in
# $BUILD/test-token-KIND, or $BUILD/test-token for softhsm), reported as name[kind].
# Each prints a closing line
#     cmk-tests: N passed, N failed, N skipped
# and the last line of this script sums them: "N passed, N failed, N skipped".
# A program that dies without its closing line counts as one failure.
# TESTS="pattern" runs only the tests whose name (with its [kind]) contains pattern.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
export CMK_TOP="$top" CMK_BUILD="$top/$BUILD"
logs="$top/$BUILD/test-logs"
mkdir -p "$logs"

passed=0 failed=0 skipped=0
# Background servers a token kind started (p11kit): stopped by their own pids however this ends.
servers=""
tokens_stop() {
    for pid in $servers; do kill "$pid" 2>/dev/null; done
    servers=""
}
trap tokens_stop EXIT
trap 'exit 130' INT TERM

# token_use KIND: makes a throw-away token of KIND (once a run) and sources its env. 1 when it
# cannot.
made=""
token_use() {
    dir="$top/$BUILD/test-token-$1"
    [ "$1" = softhsm ] && dir="$top/$BUILD/test-token"
    # What one kind's env exports must not leak into the next; nor may the tools that make a
    # token (openssl rand, certutil) load the last kind's cmk.so (a sanitized build, unpreloaded).
    unset SOFTHSM2_CONF P11_KIT_SERVER_ADDRESS CMK_TEST_SERVER_PID_FILE CMK_TEST_INIT_ARGS \
        OPENSSL_CONF
    case " $made " in *" $1 "*)
        . "$dir/env"
        export CMK_AUDIT_LOG="$dir/audit.log"
        return 0
        ;;
    esac
    made="$made $1"
    if ! BUILD=$BUILD sh "$top/tests/tokens/$1.sh" "$dir" >"$logs/token-$1.log" 2>&1; then
        [ -f "$dir/p11-kit-server.pid" ] && servers="$servers $(cat "$dir/p11-kit-server.pid")"
        echo "FAIL: could not make the $1 test token (tests/tokens/$1.sh):"
        cat "$logs/token-$1.log"
        failed=$((failed + 1))
        return 1
    fi
    . "$dir/env"
    [ -z "${CMK_TEST_SERVER_PID_FILE:-}" ] || servers="$servers $(cat "$CMK_TEST_SERVER_PID_FILE")"
    # cmk (and the provider it loads) record key operations in an audit log: the tests' go
    # beside the throw-away token, never into the user's own (~/.local/share/cmk/audit.log).
    export CMK_AUDIT_LOG="$dir/audit.log"
}

# No test may touch the user's own files: the embedded token and its audit log live under HOME.
export HOME="$top/$BUILD/test-home" XDG_DATA_HOME="$top/$BUILD/test-home/.local/share"
rm -rf "$HOME" && mkdir -p "$HOME"

run_one() { # name command...
    name=$1
    shift
    case "$name" in *"${TESTS:-}"*) ;; *) return 0 ;; esac
    log="$logs/$(printf %s "$name" | tr '[]' '-_').log"
    printf '=== %s\n' "$name"
    t0=$(date +%s)
    timeout "${CMK_TEST_TIMEOUT:-600}" "$@" >"$log" 2>&1
    rc=$?
    cat "$log"
    echo "($name: $(($(date +%s) - t0)) s)"
    line=$(grep -E '^cmk-tests: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$log" | tail -n 1)
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
# In the ASan builds, LeakSanitizer reads tests/lsan.supp: third-party code only, each with why.
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$top/tests/lsan.supp:print_suppressions=0}"
token_use softhsm || { echo "$passed passed, $failed failed, $skipped skipped"; exit 1; }
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
for kind in ${CMK_TEST_TOKENS-softhsm nss p11kit}; do
    # a kind's token is made only when one of its scripts is to run
    wanted=0
    for t in "$top"/tests/e2e/*.sh; do
        case "$t" in */lib.sh) continue ;; esac
        case "$(basename "$t" .sh)[$kind]" in *"${TESTS:-}"*) wanted=1 ;; esac
    done
    [ "$wanted" -eq 1 ] || continue
    k0=$(date +%s)
    if token_use "$kind"; then
        for t in "$top"/tests/e2e/*.sh; do
            case "$t" in */lib.sh) continue ;; esac
            run_one "$(basename "$t" .sh)[$kind]" env ${e2e_preload:+LD_PRELOAD=$e2e_preload} sh "$t"
        done
    fi
    tokens_stop
    times="${times:-}${times:+, }$kind $(($(date +%s) - k0)) s"
done
[ -z "${times:-}" ] || echo "(end-to-end time per token kind: $times)"

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
