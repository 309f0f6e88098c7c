# tests/e2e/lib.sh: sourced by every end-to-end script. Each script reads like a user's session:
# it runs the real `openssl` command and `cmk` against the token tests/run.sh made, and says for
# each step `ok NAME`, `fail NAME WHY` or `skip NAME WHY`. At exit it prints the closing line
# tests/run.sh adds up. The token's settings are in $CMK_TEST_DIR/env (source it to replay):
# CMK_TEST_TOKEN_KIND (softhsm, nss, p11kit: tests/tokens/), CMK_TEST_MODULE and
# CMK_TEST_INIT_ARGS (the module and its C_Initialize init args, empty for none),
# CMK_TEST_TOKEN (its label), CMK_TEST_PIN_FILE, OPENSSL_CONF (loads cmk for it) and
# CMK_TEST_CMK_CONF (the same token for `cmk --config`).
set -u
: "${CMK_TOP:?run through tests/run.sh (make check)}"
: "${CMK_TEST_DIR:?run through tests/run.sh (make check)}"
BUILD_DIR=${CMK_BUILD:-$CMK_TOP/build}
_passed=0 _failed=0 _skipped=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cmk-e2e.XXXXXX")
_finish() {
    rm -rf "$WORK"
    echo "cmk-tests: $_passed passed, $_failed failed, $_skipped skipped"
}
trap _finish EXIT

ok() { echo "PASS: $1"; _passed=$((_passed + 1)); }
fail() { echo "FAIL: $1: $2"; _failed=$((_failed + 1)); }
skip() { echo "SKIP: $1: $2"; _skipped=$((_skipped + 1)); }

# check NAME COMMAND...: ok when COMMAND succeeds; otherwise fail, showing its output.
check() {
    _name=$1
    shift
    if "$@" >"$WORK/out" 2>&1; then ok "$_name"; else fail "$_name" "$(tail -n 5 "$WORK/out")"; fi
}
# refuse NAME PATTERN COMMAND...: ok when COMMAND fails and its output matches PATTERN.
refuse() {
    _name=$1 _pat=$2
    shift 2
    if "$@" >"$WORK/out" 2>&1; then
        fail "$_name" "succeeded but should have been refused"
    elif grep -Eq "$_pat" "$WORK/out"; then
        ok "$_name"
    else
        fail "$_name" "refused, but the message lacks /$_pat/: $(tail -n 3 "$WORK/out")"
    fi
}

# keygen LABEL [cmk-keygen options...]: makes an RSA key pair in the test token with
# build/cmk-keygen (sensitive, non-extractable); says why when it cannot.
keygen() {
    _label=$1
    shift
    "$BUILD_DIR/cmk-keygen" --module "$CMK_TEST_MODULE" --init-args "${CMK_TEST_INIT_ARGS:-}" \
        --token "$CMK_TEST_TOKEN" --pin-source "file:$CMK_TEST_PIN_FILE" --label "$_label" "$@" >"$WORK/keygen.log" 2>&1 ||
        { cat "$WORK/keygen.log" >&2; return 1; }
}

# cmk ARGS...: the cmk command on the test token ($CMK_TEST_CMK_CONF). A script that needs
# another setting (the fault module, a config of its own) passes it after --config or calls
# "$BUILD_DIR/cmk" itself, saying so. Run with `&`, this function is a subshell: to kill cmk by
# its pid, start "$BUILD_DIR/cmk" itself in the background.
cmk() { "$BUILD_DIR/cmk" --config "$CMK_TEST_CMK_CONF" "$@"; }
# subsh CODE: runs shell code in a subshell of the script, for check and refuse; unlike `sh -c`
# it sees the script's functions (cmk).
subsh() { (eval "$1"); }

# faults_use: the fault module (docs/testing-faults.md), $fm, forwards to the token's module, with
# its rules in $WORK/control and its log in $WORK/log; a missing module fails the script. Then
# arm RULE... replaces the rules and empties the log, and fired WHAT says how many faults the log
# shows starting with WHAT.
faults_use() {
    fm="$BUILD_DIR/cmk-faultmod.so"
    [ -f "$fm" ] || { fail "fault module" "no $fm (make tests builds it)"; exit 1; }
    export CMK_FAULT_MODULE="$CMK_TEST_MODULE" CMK_FAULT_CONTROL="$WORK/control"
    export CMK_FAULT_LOG="$WORK/log"
}
arm() {
    printf '%s\n' "$@" >"$WORK/control.tmp" && mv "$WORK/control.tmp" "$WORK/control" &&
        rm -f "$WORK/log"
}
fired() { grep -c "^$1" "$WORK/log" 2>/dev/null || true; }

# What a token kind lacks, each with its evidence: a script (or a step) that needs it says so
# and skips on the kinds without it. `need WHAT NAME` skips NAME and ends the script.
lacks() { # lacks WHAT: why this kind cannot do WHAT; nothing (status 1) when it can
    case "${CMK_TEST_TOKEN_KIND:-softhsm}:$1" in
    nss:key-state)
        # NSS 3.87 softokn: C_CreateObject of a CKO_DATA object with CKA_TOKEN true returns
        # CKR_ATTRIBUTE_VALUE_INVALID (it keeps only session data objects)
        echo "NSS softokn keeps no token data objects (CKO_DATA), where cmk key keeps a key's state" ;;
    nss:pkcs11-tool)
        echo "pkcs11-tool cannot give NSS softokn its init args (C_Initialize(NULL): CKR_ARGUMENTS_BAD)" ;;
    nss:token-init | p11kit:token-init)
        echo "only SoftHSM makes new tokens in free slots (NSS has none; p11-kit server serves one token)" ;;
    *) return 1 ;;
    esac
}
need() { # need WHAT NAME: skips NAME and ends the script when this token kind lacks WHAT
    if _why=$(lacks "$1"); then
        skip "$2" "$_why"
        exit 0
    fi
}
