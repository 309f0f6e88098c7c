#!/bin/sh
# rsa_hsm_cms_sign: `openssl cms -sign -inkey pkcs11:...` with a token signing key (PKCS#1 v1.5
# and RSA-PSS) and `openssl cms -verify` against its self-signed certificate; a changed
# message fails verification.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
key="pkcs11:token=$CMK_TEST_TOKEN;object=cmssig-$$"
keygen "cmssig-$$" --ops sign || { fail "make a signing key in the token" "cmk-keygen failed"; exit 1; }
openssl req -new -x509 -key "$key" -subj "/CN=cmk signer $$" -days 1 -out signer.pem 2>req.log ||
    { fail "self-signed certificate for the token key" "$(tail -n 3 req.log)"; exit 1; }
printf 'a contract signed by a key that never leaves the token\n' >doc.txt

check "cms -sign with the token key" \
    openssl cms -sign -nodetach -binary -inkey "$key" -signer signer.pem -in doc.txt -outform DER -out doc.p7s
check "cms -verify gives the content back" sh -c \
    "openssl cms -verify -binary -inform DER -in doc.p7s -CAfile signer.pem -out back.txt && cmp doc.txt back.txt"
check "cms -sign -keyopt rsa_padding_mode:pss" \
    openssl cms -sign -nodetach -binary -inkey "$key" -signer signer.pem -keyopt rsa_padding_mode:pss \
    -in doc.txt -outform DER -out pss.p7s
check "the SignerInfo names RSASSA-PSS" sh -c \
    "openssl cms -cmsout -print -inform DER -in pss.p7s | grep -q rsassaPss"
check "cms -verify accepts the RSA-PSS signature" sh -c \
    "openssl cms -verify -binary -inform DER -in pss.p7s -CAfile signer.pem -out back2.txt && cmp doc.txt back2.txt"
check "a detached signature verifies against its document" sh -c \
    "openssl cms -sign -binary -inkey '$key' -signer signer.pem -in doc.txt -outform DER -out det.p7s && openssl cms -verify -binary -inform DER -in det.p7s -content doc.txt -CAfile signer.pem -out /dev/null"
printf 'a contract signed by a key that never leaves the token!\n' >changed.txt
refuse "a changed document fails verification" "verify|Verification failure|digest failure" \
    openssl cms -verify -binary -inform DER -in det.p7s -content changed.txt -CAfile signer.pem \
    -out /dev/null
