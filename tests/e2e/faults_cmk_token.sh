#!/bin/sh
# faults_cmk_token: `cmk encrypt`, `decrypt` and `rewrap` with the token behind
# build/cmk-faultmod.so (docs/testing-faults.md): one lost session while wrapping or unwrapping
# is mended; a device removed for good, a device error and a token gone fail in one line naming
# the CKR and the token, leave nothing under the final name, no temporary file, and a file being
# rewrapped as it was.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
faults_use
key="tokfault-$$"
fcmk() { # cmk through the fault module: lib.sh's cmk with --module the fault module
    cmk --module "$fm" "$@"
}
keygen "$key" --id 0a01 >/dev/null ||
    { fail "make the CMK" "cmk-keygen failed"; exit 1; }
head -c 300000 /dev/urandom >data
arm ""
if ! fcmk encrypt --key "$key" -o data.cmk data 2>err; then
    fail "encrypt the file the token faults start from" "$(tail -n 1 err)"
    exit 1
fi
sums=$(cksum data data.cmk)
# nothing NAME FINAL: nothing under FINAL and no temporary file beside it
nothing() {
    check "$1: nothing under the final name" test ! -e "$2"
    check "$1: no temporary file left" sh -c "if ls -a | grep cmk-tmp-; then exit 1; fi"
}

arm "C_Decrypt once CKR_SESSION_HANDLE_INVALID"
check "decrypt: one lost session is mended" subsh "fcmk decrypt -o out.1 data.cmk && cmp data out.1"
check "decrypt: ... the fault fired once" test "$(fired 'C_Decrypt CKR_SESSION_HANDLE_INVALID')" -eq 1

arm "C_Encrypt once CKR_SESSION_HANDLE_INVALID"
check "encrypt: one lost session is mended" fcmk encrypt --key "$key" -o data.2.cmk data
check "encrypt: ... the fault fired once" test "$(fired 'C_Encrypt CKR_SESSION_HANDLE_INVALID')" -eq 1
arm ""
check "encrypt: ... and the file decrypts" subsh "fcmk decrypt -o out.2 data.2.cmk && cmp data out.2"

arm "C_Decrypt always CKR_DEVICE_REMOVED"
refuse "decrypt: a device removed for good is named" \
    "^cmk: unwrapping with key '$key' version 0a01: C_Decrypt with key '$key' on token '$CMK_TEST_TOKEN': CKR_DEVICE_REMOVED$" \
    fcmk decrypt -o out.3 data.cmk
check "decrypt: ... tried twice, no more" test "$(fired 'C_Decrypt CKR_DEVICE_REMOVED')" -eq 2
nothing "decrypt, device removed" out.3

arm "C_Decrypt always CKR_DEVICE_MEMORY"
refuse "decrypt: a device error is named" \
    "^cmk: unwrapping with key '$key' .*on token '$CMK_TEST_TOKEN': CKR_DEVICE_MEMORY$" \
    fcmk decrypt -o out.4 data.cmk
check "decrypt: ... and not retried" test "$(fired 'C_Decrypt CKR_DEVICE_MEMORY')" -eq 1
nothing "decrypt, device error" out.4

arm "C_Encrypt always CKR_DEVICE_REMOVED"
refuse "encrypt: a device removed for good is named" \
    "^cmk: wrapping a key under '$key': C_Encrypt with key '$key' on token '$CMK_TEST_TOKEN': CKR_DEVICE_REMOVED$" \
    fcmk encrypt --key "$key" -o out.5.cmk data
nothing "encrypt, device removed" out.5.cmk

# rewrap replaces the only copy: a fault that is mended rewraps it, any other leaves it as it was.
cp data.cmk rw.cmk
arm "C_Decrypt once CKR_SESSION_HANDLE_INVALID"
check "rewrap: one lost session is mended" fcmk rewrap rw.cmk
check "rewrap: ... the file is rewrapped" sh -c "! cmp -s data.cmk rw.cmk"
arm ""
check "rewrap: ... and decrypts" subsh "fcmk decrypt -o out.rw rw.cmk && cmp data out.rw"
cp rw.cmk rw.before
for rule in "C_Decrypt always CKR_DEVICE_REMOVED" "C_Encrypt always CKR_DEVICE_MEMORY" \
    "token removed"; do
    arm "$rule"
    refuse "rewrap: $rule: refused in one line" "^cmk: .*(CKR_|P11_R_)" fcmk rewrap rw.cmk
    check "rewrap: $rule: the file is unchanged" cmp rw.before rw.cmk
    check "rewrap: $rule: no temporary file left" sh -c "if ls -a | grep cmk-tmp-; then exit 1; fi"
done

arm "token removed"
refuse "decrypt: a token gone is named" "^cmk: .*no token matches 'pkcs11:token=$CMK_TEST_TOKEN" \
    fcmk decrypt -o out.6 data.cmk
nothing "decrypt, token gone" out.6
refuse "encrypt: a token gone is named" "^cmk: no token matches 'pkcs11:token=$CMK_TEST_TOKEN" \
    fcmk encrypt --key "$key" -o out.7.cmk data
nothing "encrypt, token gone" out.7.cmk
check "the inputs are intact" test "$(cksum data data.cmk)" = "$sums"

# SoftHSM rewrites its token file at every C_Login (ftruncate, then write): cmk holds SIGTERM
# while it logs in, so a signal then ends it only once the login is done. With C_Login slowed to
# 1.5 s and SIGTERM sent 0.3 s in, cmk must not end before the login's 1.5 s are over (a lower
# bound only: a loaded machine makes it later, never earlier).
arm "C_Login delay 1500ms"
t0=$(date +%s%N)
"$BUILD_DIR/cmk" --config "$CMK_TEST_CMK_CONF" --module "$fm" encrypt --key "$key" -o term.cmk \
    data 2>/dev/null &
pid=$! # cmk itself, not a subshell
sleep 0.3
kill -TERM "$pid"
wait "$pid" 2>/dev/null
rc=$? t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
if [ "$ms" -ge 1500 ] && [ "$rc" -eq 143 ]; then
    ok "SIGTERM during C_Login is held until the login is done ($ms ms, then ended by it)"
else
    fail "SIGTERM during C_Login is held until the login is done" "ended after $ms ms, exit $rc"
fi
nothing "encrypt, SIGTERM during login" term.cmk
arm ""
check "the token still logs in afterwards" fcmk encrypt --key "$key" -o after.cmk data
