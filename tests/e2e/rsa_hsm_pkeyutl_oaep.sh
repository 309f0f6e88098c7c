#!/bin/sh
# rsa_hsm_pkeyutl_oaep: a CMK made in the token wraps and unwraps through `openssl pkeyutl`
# with -inkey pkcs11:...; blobs wrapped in memory with its exported public key unwrap in the
# token; OAEP labels and PKCS#1 v1.5 too.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
key="pkcs11:token=$CMK_TEST_TOKEN;object=oaep-$$"
keygen "oaep-$$" --pubout keygen-pub.pem || { fail "make the CMK" "cmk-keygen failed"; exit 1; }
openssl rand 32 >dk

check "openssl pkey -pubout reads the public key off the token" \
    openssl pkey -in "$key" -pubout -out pub.pem
check "it is the key cmk-keygen made" cmp pub.pem keygen-pub.pem
check "openssl storeutl lists the key" sh -c "openssl storeutl '$key' | grep -q 'Pkey'"

# Wrapped in memory by the default provider, unwrapped in the token.
openssl pkeyutl -encrypt -pubin -inkey pub.pem -pkeyopt rsa_padding_mode:oaep -in dk -out dk.mem
check "OAEP blob wrapped in memory unwraps in the token" sh -c \
    "openssl pkeyutl -decrypt -inkey '$key' -pkeyopt rsa_padding_mode:oaep -in dk.mem -out dk.1 && cmp dk dk.1"

# Wrapped through the provider (the token's public key object), unwrapped in the token.
check "OAEP wrap through the provider" \
    openssl pkeyutl -encrypt -inkey "$key" -pkeyopt rsa_padding_mode:oaep -in dk -out dk.tok
check "the wrapped key is one modulus long (256 bytes)" test "$(wc -c <dk.tok)" -eq 256
check "the wrapped key is not the data key" sh -c "! cmp -s dk dk.tok"
check "OAEP round trip through the provider" sh -c \
    "openssl pkeyutl -decrypt -inkey '$key' -pkeyopt rsa_padding_mode:oaep -in dk.tok -out dk.2 && cmp dk dk.2"
check "a public-only view (type=public) wraps too" \
    openssl pkeyutl -encrypt -pubin -inkey "$key;type=public" -pkeyopt rsa_padding_mode:oaep \
    -in dk -out dk.pub
check "... and the token unwraps it" sh -c \
    "openssl pkeyutl -decrypt -inkey '$key' -pkeyopt rsa_padding_mode:oaep -in dk.pub -out dk.3 && cmp dk dk.3"

# OAEP with a label: the token must see the same label.
openssl pkeyutl -encrypt -pubin -inkey pub.pem -pkeyopt rsa_padding_mode:oaep \
    -pkeyopt rsa_oaep_label:0102030405 -in dk -out dk.lbl
refuse "a blob wrapped with an OAEP label does not unwrap without it" "CKR_" \
    openssl pkeyutl -decrypt -inkey "$key" -pkeyopt rsa_padding_mode:oaep -in dk.lbl -out dk.5
# SoftHSM 2.6.1 ignores pSourceData in C_Decrypt (a label-less blob would unwrap under any
# label): there the provider decrypts raw in the token and OpenSSL checks the label.
check "OAEP with a label unwraps with that label" sh -c \
    "openssl pkeyutl -decrypt -inkey '$key' -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_label:0102030405 -in dk.lbl -out dk.4 && cmp dk dk.4"
refuse "... and not with another label" "decoding failed|CKR_" \
    openssl pkeyutl -decrypt -inkey "$key" -pkeyopt rsa_padding_mode:oaep \
    -pkeyopt rsa_oaep_label:0102030406 -in dk.lbl -out dk.8
openssl pkeyutl -encrypt -pubin -inkey pub.pem -pkeyopt rsa_padding_mode:oaep -in dk -out dk.nolbl
refuse "a blob made without a label does not unwrap under one" "decoding failed|CKR_" \
    openssl pkeyutl -decrypt -inkey "$key" -pkeyopt rsa_padding_mode:oaep \
    -pkeyopt rsa_oaep_label:0102030405 -in dk.nolbl -out dk.9

# PKCS#1 v1.5 (the default padding).
openssl pkeyutl -encrypt -pubin -inkey pub.pem -in dk -out dk.v15
check "PKCS#1 v1.5 blob wrapped in memory unwraps in the token" sh -c \
    "openssl pkeyutl -decrypt -inkey '$key' -in dk.v15 -out dk.6 && cmp dk dk.6"
check "PKCS#1 v1.5 round trip through the provider" sh -c \
    "openssl pkeyutl -encrypt -inkey '$key' -in dk -out dk.v15t && openssl pkeyutl -decrypt -inkey '$key' -in dk.v15t -out dk.7 && cmp dk dk.7"

refuse "the private key is never written out" "never leaves the token|unable|error" \
    openssl pkey -in "$key" -out priv.pem
