#!/bin/sh
# rsa_hsm_provider_order: with cmk listed before and after the default provider, token keys
# wrap, unwrap and sign through cmk, and in-memory RSA (genrsa, pkey, pkeyutl, a self-signed
# certificate) still works: cmk never captures an in-memory key (docs/architecture-provider.md).
. "$(dirname "$0")/lib.sh"
cd "$WORK"
key="pkcs11:token=$CMK_TEST_TOKEN;object=order-$$"
keygen "order-$$" || { fail "make the CMK" "cmk-keygen failed"; exit 1; }
skey="pkcs11:token=$CMK_TEST_TOKEN;object=order-sign-$$"
keygen "order-sign-$$" --ops sign || { fail "make a signing key" "cmk-keygen failed"; exit 1; }
openssl rand 32 >dk

# The same openssl.cnf with the two provider lines swapped.
awk '/^default = default_sect/ { d = $0; next } /^cmk = cmk_sect/ { print; print d; next } { print }' \
    "$OPENSSL_CONF" >cmk-first.cnf
cp "$OPENSSL_CONF" cmk-last.cnf
check "cmk-first.cnf lists cmk first" sh -c \
    "grep -A1 '^\[provider_sect\]' cmk-first.cnf | grep -q '^cmk = '"

for order in first last; do
    export OPENSSL_CONF="$WORK/cmk-$order.cnf"
    check "cmk $order: both providers active" sh -c \
        "openssl list -providers | grep -c 'status: active' | grep -q 2"
    check "cmk $order: OAEP round trip with the token key" sh -c \
        "openssl pkeyutl -encrypt -inkey '$key' -pkeyopt rsa_padding_mode:oaep -in dk -out dk.$order && openssl pkeyutl -decrypt -inkey '$key' -pkeyopt rsa_padding_mode:oaep -in dk.$order -out dk.$order.out && cmp dk dk.$order.out"
    check "cmk $order: the token key signs a certificate openssl verify accepts" sh -c \
        "openssl req -new -x509 -key '$skey' -subj /CN=tok-$order -days 1 -out tokcrt-$order.pem && openssl verify -CAfile tokcrt-$order.pem tokcrt-$order.pem"
    check "cmk $order: openssl genrsa" openssl genrsa -out mem-$order.pem 2048
    check "cmk $order: openssl genpkey -algorithm RSA" \
        openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out gen-$order.pem
    check "cmk $order: openssl pkey -in mem.pem -pubout" \
        openssl pkey -in mem-$order.pem -pubout -out mempub-$order.pem
    check "cmk $order: in-memory pkeyutl OAEP round trip" sh -c \
        "openssl pkeyutl -encrypt -pubin -inkey mempub-$order.pem -pkeyopt rsa_padding_mode:oaep -in dk -out m.$order && openssl pkeyutl -decrypt -inkey mem-$order.pem -pkeyopt rsa_padding_mode:oaep -in m.$order -out m.$order.out && cmp dk m.$order.out"
    check "cmk $order: in-memory sign and verify" sh -c \
        "openssl dgst -sha256 -sign gen-$order.pem -out sig.$order dk && openssl pkey -in gen-$order.pem -pubout -out genpub-$order.pem && openssl dgst -sha256 -verify genpub-$order.pem -signature sig.$order dk"
    check "cmk $order: self-signed certificate in memory" \
        openssl req -new -x509 -key mem-$order.pem -subj /CN=order -days 1 -out crt-$order.pem
    check "cmk $order: a blob wrapped in memory for the token key unwraps" sh -c \
        "openssl pkey -in '$key' -pubout -out tokpub-$order.pem && openssl pkeyutl -encrypt -pubin -inkey tokpub-$order.pem -pkeyopt rsa_padding_mode:oaep -in dk -out t.$order && openssl pkeyutl -decrypt -inkey '$key' -pkeyopt rsa_padding_mode:oaep -in t.$order -out t.$order.out && cmp dk t.$order.out"
    # In one process: a token key loaded as the very first use of RSA, then "RSA" fetched by
    # name (genrsa's way) must be the default provider's, and token keys still work.
    for t in test_keymgmt_rsa test_asymcipher_rsa test_kem_rsa test_signature_rsa; do
        check "cmk $order: $t in one process" sh -c \
            "'$BUILD_DIR/tests/$t' >$t-$order.log 2>&1 && grep -q '^cmk-tests: [0-9]* passed, 0 failed' $t-$order.log"
    done
done
