#!/bin/sh
# faults_provider_pkeyutl: `openssl pkeyutl -decrypt -inkey pkcs11:...` through the provider, with
# the token behind build/cmk-faultmod.so (docs/testing-faults.md): one lost session is mended,
# a device removed for good and a token gone are named, a device error is not retried, and
# nothing is written when the unwrap fails.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
faults_use
label="fault-$$"
key="pkcs11:token=$CMK_TEST_TOKEN;object=$label"
keygen "$label" --pubout pub.pem >/dev/null ||
    { fail "make the CMK" "cmk-keygen failed"; exit 1; }

# The provider loads the fault module, which forwards to the real one.
sed "s|^pkcs11-module-path = .*|pkcs11-module-path = $fm|" "$OPENSSL_CONF" >fault.cnf
export OPENSSL_CONF="$WORK/fault.cnf"
if ! openssl pkey -in "$key" -pubout >/dev/null 2>err; then
    fail "the provider loads the key through the fault module" "$(tail -n 1 err)"
    exit 1
fi

openssl rand 32 >dk
openssl pkeyutl -encrypt -pubin -inkey pub.pem -pkeyopt rsa_padding_mode:oaep -in dk -out dk.w
unwrap() { # unwrap OUT
    openssl pkeyutl -decrypt -inkey "$key" -pkeyopt rsa_padding_mode:oaep -in dk.w -out "$1"
}

arm ""
check "through the fault module, with no fault armed, the CMK unwraps" sh -c \
    "openssl pkeyutl -decrypt -inkey '$key' -pkeyopt rsa_padding_mode:oaep -in dk.w -out dk.0 && cmp dk dk.0"

arm "C_Decrypt once CKR_SESSION_HANDLE_INVALID"
check "one lost session (C_Decrypt: CKR_SESSION_HANDLE_INVALID) is mended" sh -c \
    "openssl pkeyutl -decrypt -inkey '$key' -pkeyopt rsa_padding_mode:oaep -in dk.w -out dk.1 && cmp dk dk.1"
check "... the fault fired once" test "$(fired 'C_Decrypt CKR_SESSION_HANDLE_INVALID')" -eq 1

arm "C_DecryptInit once CKR_DEVICE_REMOVED"
check "a device removed and back (C_DecryptInit: CKR_DEVICE_REMOVED) is mended" sh -c \
    "openssl pkeyutl -decrypt -inkey '$key' -pkeyopt rsa_padding_mode:oaep -in dk.w -out dk.2 && cmp dk dk.2"

arm "C_Decrypt always CKR_DEVICE_REMOVED"
refuse "a device removed for good is named, with the token" \
    "C_Decrypt with key '$label' on token '$CMK_TEST_TOKEN': CKR_DEVICE_REMOVED" unwrap dk.3
check "... tried twice, no more" test "$(fired 'C_Decrypt CKR_DEVICE_REMOVED')" -le 2
check "... and no plaintext was written" test ! -s dk.3

arm "C_Decrypt always CKR_DEVICE_MEMORY"
refuse "a device out of memory is named" "on token '$CMK_TEST_TOKEN': CKR_DEVICE_MEMORY" unwrap dk.4
check "... and not retried" test "$(fired 'C_Decrypt CKR_DEVICE_MEMORY')" -eq 1
check "... and no plaintext was written" test ! -s dk.4

arm "token removed"
refuse "a token gone for good is named" "no token matches 'pkcs11:token=$CMK_TEST_TOKEN" unwrap dk.5
check "... and no plaintext was written" test ! -s dk.5

arm "C_Decrypt delay 300ms"
check "a slow token is waited for" sh -c \
    "openssl pkeyutl -decrypt -inkey '$key' -pkeyopt rsa_padding_mode:oaep -in dk.w -out dk.6 && cmp dk dk.6"

arm ""
check "once the faults clear, the CMK unwraps again" sh -c \
    "openssl pkeyutl -decrypt -inkey '$key' -pkeyopt rsa_padding_mode:oaep -in dk.w -out dk.7 && cmp dk dk.7"
