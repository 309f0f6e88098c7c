#!/bin/sh
# rsa_hsm_cms_authenveloped: a token key made for decryption and signing (`--ops decrypt,sign`)
# certifies itself (`req -x509 -key pkcs11:...`); `openssl cms -encrypt` to that certificate
# with RSA-OAEP key transport, as EnvelopedData (AES-256-CBC) and as AuthEnvelopedData
# (-aes-256-gcm), and `openssl cms -decrypt -inkey pkcs11:...` gives the plaintext back; a
# tampered AuthEnvelopedData is refused.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
key="pkcs11:token=$CMK_TEST_TOKEN;object=cmsenv-$$"
keygen "cmsenv-$$" --ops decrypt,sign ||
    { fail "make a decrypt+sign key in the token" "cmk-keygen failed"; exit 1; }
check "the token key certifies itself" \
    openssl req -new -x509 -key "$key" -subj "/CN=cmk recipient $$" -days 1 -out recip.pem
printf 'customer data under a customer-managed key\n' >plain.txt

check "cms -encrypt, RSA-OAEP key transport, AES-256-CBC" \
    openssl cms -encrypt -binary -recip recip.pem -keyopt rsa_padding_mode:oaep -aes-256-cbc \
    -in plain.txt -outform DER -out cbc.cms
check "cms -decrypt with the token key gives it back" sh -c \
    "openssl cms -decrypt -binary -inform DER -in cbc.cms -inkey '$key' -recip recip.pem -out cbc.out && cmp plain.txt cbc.out"
check "cms -encrypt -aes-256-gcm (AuthEnvelopedData), RSA-OAEP key transport" \
    openssl cms -encrypt -binary -recip recip.pem -keyopt rsa_padding_mode:oaep -aes-256-gcm \
    -in plain.txt -outform DER -out gcm.cms
check "the message is AuthEnvelopedData with RSAES-OAEP" sh -c \
    "openssl cms -cmsout -print -inform DER -in gcm.cms >gcm.txt && grep -q authEnvelopedData gcm.txt && grep -q rsaesOaep gcm.txt"
check "cms -decrypt of the AuthEnvelopedData with the token key gives it back" sh -c \
    "openssl cms -decrypt -binary -inform DER -in gcm.cms -inkey '$key' -recip recip.pem -out gcm.out && cmp plain.txt gcm.out"
# the last byte of the DER is inside the GCM tag (the mac, at the end of the structure)
python3 -c "import sys; b=bytearray(open('gcm.cms','rb').read()); b[-1]^=1; open('bad.cms','wb').write(b)" 2>/dev/null ||
    { skip "a tampered AuthEnvelopedData" "python3 is not installed"; exit 0; }
# (`openssl cms -decrypt` itself streams: it has written the plaintext to -out before the tag
# check fails, and only its exit status says so; OpenSSL 3.0's command, not cmk.)
refuse "a tampered AuthEnvelopedData is refused" "Error decrypting CMS structure" \
    openssl cms -decrypt -binary -inform DER -in bad.cms -inkey "$key" -recip recip.pem -out bad.out
