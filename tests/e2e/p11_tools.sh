#!/bin/sh
# p11_tools: cmk-keygen makes and imports RSA keys in the test token, writes their public keys,
# and fails in one line naming the CKR; cmk-token-init makes a token from PIN files.
. "$(dirname "$0")/lib.sh"
pin="file:$CMK_TEST_PIN_FILE"
mod="$CMK_TEST_MODULE"
tag="e2e-$$"
kg() { "$BUILD_DIR/cmk-keygen" --init-args "${CMK_TEST_INIT_ARGS:-}" "$@"; }
# SoftHSM is also found by its p11-kit module name; the other kinds by their path
byname=$mod
[ "$CMK_TEST_TOKEN_KIND" != softhsm ] || byname=softhsm2

check "generate a key pair and write its public key" \
    kg --module "$mod" --token "$CMK_TEST_TOKEN" --pin-source "$pin" --label "$tag-gen" \
    --id 0a0b0c --pubout "$WORK/gen.pub"
check "the public key is a 2048-bit RSA key" sh -c \
    "openssl pkey -pubin -in '$WORK/gen.pub' -noout -text | grep -q 'Public-Key: (2048 bit)'"

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/imp.pem" 2>/dev/null
openssl pkey -in "$WORK/imp.pem" -outform DER -out "$WORK/imp.der"
check "import a PEM private key" \
    kg --module "$byname" --token "$CMK_TEST_TOKEN" --pin-source "$pin" --label "$tag-pem" --import "$WORK/imp.pem" \
    --pubout "$WORK/imp.pub"
check "its public key is the one OpenSSL derives" sh -c \
    "openssl pkey -in '$WORK/imp.pem' -pubout | cmp -s - '$WORK/imp.pub'"
check "import a DER private key" \
    kg --module "$mod" --token "$CMK_TEST_TOKEN" --pin-source "$pin" --label "$tag-der" --import "$WORK/imp.der"
# what pkcs11-tool (from outside) says of the imported private key's access
if _why=$(lacks pkcs11-tool); then
    skip "the imported key is sensitive and not extractable" "$_why"
else
    access=$(pkcs11-tool --module "$mod" --token-label "$CMK_TEST_TOKEN" --login --pin "$(cat "$CMK_TEST_PIN_FILE")" -O \
        --type privkey 2>/dev/null |
        awk -v l="$tag-der" '$1 == "label:" { f = ($2 == l) } f && $1 == "Access:"')
    check "the imported key is sensitive and not extractable ($access)" sh -c \
        "echo '$access' | grep -q sensitive && ! echo '$access' | grep -qw extractable"
fi
check "a sign key" \
    kg --module "$mod" --token "$CMK_TEST_TOKEN" --pin-source "$pin" --label "$tag-sign" --ops sign

echo wrong >"$WORK/wrong.pin"
refuse "a wrong PIN is named" "^cmk-keygen: C_Login on token 'cmk-test': CKR_PIN_INCORRECT$" \
    kg --module "$mod" --token "$CMK_TEST_TOKEN" --pin-source "file:$WORK/wrong.pin" --label "$tag-x"
refuse "a missing token is named" "P11_R_TOKEN_NOT_FOUND" \
    kg --module "$mod" --token no-such-token --pin-source "$pin" --label "$tag-x"
refuse "a missing module is named" "/nonexistent/lib.so.*P11_R_MODULE_LOAD" \
    kg --module /nonexistent/lib.so --pin-source "$pin" --label "$tag-x"
refuse "a PIN on the command line is refused" "usage" \
    kg --module "$mod" --token "$CMK_TEST_TOKEN" --pin-source 1234 --label "$tag-x"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/ec.pem" 2>/dev/null
refuse "a non-RSA key is not imported" "not an RSA private key" \
    kg --module "$mod" --token "$CMK_TEST_TOKEN" --pin-source "$pin" --label "$tag-ec" --import "$WORK/ec.pem"

need token-init "cmk-token-init makes a second token"
umask 077
openssl rand -hex 8 >"$WORK/so.pin"
openssl rand -hex 8 >"$WORK/user.pin"
check "cmk-token-init makes a second token" \
    "$BUILD_DIR/cmk-token-init" --module "$mod" --label "$tag-tok" \
    --so-pin-source "file:$WORK/so.pin" --pin-source "file:$WORK/user.pin"
check "and keys can be made in it with its PIN" \
    kg --module "$mod" --token "$tag-tok" --pin-source "file:$WORK/user.pin" --label k
softhsm2-util --delete-token --token "$tag-tok" >/dev/null 2>&1 || true
