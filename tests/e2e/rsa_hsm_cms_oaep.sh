#!/bin/sh
# rsa_hsm_cms_oaep: `openssl cms -encrypt` to a certificate for a token key (RSA-OAEP key
# transport), then `openssl cms -decrypt -inkey pkcs11:...`: the plaintext comes back.
# The certificate is issued by a throw-away CA in memory over the token's public key (the
# token key does not sign: signatures are a later issue).
. "$(dirname "$0")/lib.sh"
cd "$WORK"
key="pkcs11:token=$CMK_TEST_TOKEN;object=cms-$$"
keygen "cms-$$" || { fail "make the CMK" "cmk-keygen failed"; exit 1; }
openssl pkey -in "$key" -pubout -out pub.pem
openssl req -new -x509 -newkey rsa:2048 -nodes -keyout ca.key -subj /CN=cmk-test-ca \
    -days 1 -out ca.pem 2>/dev/null
openssl req -new -key ca.key -subj "/CN=cmk-$$" -out cmk.csr
check "a CA in memory issues a certificate for the token's public key" \
    openssl x509 -req -in cmk.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
    -force_pubkey pub.pem -days 1 -out cmk.crt
check "the certificate carries the token's key" sh -c \
    "openssl x509 -in cmk.crt -noout -pubkey | cmp - pub.pem"

printf 'customer data under a customer-managed key\n' >plain.txt
check "cms -encrypt with RSA-OAEP key transport" \
    openssl cms -encrypt -binary -recip cmk.crt -keyopt rsa_padding_mode:oaep -aes-256-cbc \
    -in plain.txt -out msg.cms
check "the message names RSAES-OAEP" sh -c \
    "openssl cms -cmsout -print -in msg.cms | grep -q rsaesOaep"
check "cms -decrypt with the token key gives the plaintext back" sh -c \
    "openssl cms -decrypt -in msg.cms -inkey '$key' -recip cmk.crt -out back.txt && cmp plain.txt back.txt"
check "cms with PKCS#1 v1.5 key transport round trips too" sh -c \
    "openssl cms -encrypt -binary -recip cmk.crt -in plain.txt -out v15.cms && openssl cms -decrypt -in v15.cms -inkey '$key' -recip cmk.crt -out back2.txt && cmp plain.txt back2.txt"
