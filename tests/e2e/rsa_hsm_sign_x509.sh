#!/bin/sh
# rsa_hsm_sign_x509: a key made in the token for signing (`--ops sign`) signs certificates
# with the real `openssl` command: `req -new -x509 -key pkcs11:...` makes a self-signed CA
# certificate `openssl verify` accepts, with PKCS#1 v1.5 and with RSA-PSS (-sigopt), and
# `x509 -req -CA ... -CAkey pkcs11:...` issues a certificate for an ordinary CSR.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
key="pkcs11:token=$CMK_TEST_TOKEN;object=x509-$$"
keygen "x509-$$" --ops sign || { fail "make a signing key in the token" "cmk-keygen failed"; exit 1; }
openssl pkey -in "$key" -pubout -out pub.pem

check "req -x509 signs a self-signed certificate with the token key" \
    openssl req -new -x509 -key "$key" -subj "/CN=cmk test CA $$" -days 1 -sha256 -out ca.pem
check "openssl verify accepts it" openssl verify -CAfile ca.pem ca.pem
check "it carries the token's public key" sh -c \
    "openssl x509 -in ca.pem -noout -pubkey | cmp - pub.pem"
check "its signature is sha256WithRSAEncryption" sh -c \
    "openssl x509 -in ca.pem -noout -text | grep -q 'Signature Algorithm: sha256WithRSAEncryption'"

check "req -x509 -sigopt rsa_padding_mode:pss signs with RSA-PSS" \
    openssl req -new -x509 -key "$key" -subj "/CN=cmk test PSS $$" -days 1 -sha384 \
    -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest -out pss.pem
check "openssl verify accepts the RSA-PSS certificate" openssl verify -CAfile pss.pem pss.pem
check "its AlgorithmIdentifier is RSASSA-PSS with SHA-384 and a 48-byte salt" sh -c \
    "openssl x509 -in pss.pem -noout -text | grep -A4 'Signature Algorithm: rsassaPss' | tr -d ' ' | grep -q 'SaltLength:0x30'"

openssl req -new -newkey rsa:2048 -nodes -keyout leaf.key -subj /CN=leaf -out leaf.csr 2>/dev/null
check "x509 -req -CAkey pkcs11:... issues a certificate for a CSR" \
    openssl x509 -req -in leaf.csr -CA ca.pem -CAkey "$key" -CAcreateserial -days 1 \
    -sha512 -out leaf.pem
check "openssl verify accepts the issued certificate under the token's CA" \
    openssl verify -CAfile ca.pem leaf.pem
check "a certificate request signed by the token key verifies" sh -c \
    "openssl req -new -key '$key' -subj /CN=csr -out tok.csr && openssl req -in tok.csr -verify -noout"
