#!/bin/sh
# rsa_hsm_errors: each way a pkcs11: key can fail to load says why and exits non-zero:
# wrong PIN (CKR_PIN_INCORRECT), missing module (its path), missing token, missing object,
# a public-only key asked to decrypt.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
key="pkcs11:token=$CMK_TEST_TOKEN;object=err-$$"
keygen "err-$$" --pubout pub.pem || { fail "make the CMK" "cmk-keygen failed"; exit 1; }
openssl rand 32 >dk
openssl pkeyutl -encrypt -pubin -inkey pub.pem -pkeyopt rsa_padding_mode:oaep -in dk -out dk.w

# A configuration whose PIN file holds a wrong PIN (tried once: SoftHSM counts failures).
openssl rand -hex 16 >wrong.pin
sed "s|^pkcs11-module-token-pin = .*|pkcs11-module-token-pin = file:$WORK/wrong.pin|" \
    "$OPENSSL_CONF" >wrong-pin.cnf
refuse "wrong PIN: refused, naming CKR_PIN_INCORRECT" "C_Login on token '$CMK_TEST_TOKEN': CKR_PIN_INCORRECT" \
    env OPENSSL_CONF="$WORK/wrong-pin.cnf" openssl pkeyutl -decrypt -inkey "$key" \
    -pkeyopt rsa_padding_mode:oaep -in dk.w -out dk.1

sed "s|^pkcs11-module-path = .*|pkcs11-module-path = $WORK/no-such-module.so|" \
    "$OPENSSL_CONF" >no-module.cnf
refuse "missing module: refused, naming its path" "loading PKCS#11 module '$WORK/no-such-module.so'" \
    env OPENSSL_CONF="$WORK/no-module.cnf" openssl pkey -in "$key" -pubout

grep -v '^pkcs11-module-path' "$OPENSSL_CONF" >no-path.cnf
refuse "no pkcs11-module-path: refused, naming the option" "pkcs11-module-path is not set" \
    env OPENSSL_CONF="$WORK/no-path.cnf" openssl pkey -in "$key" -pubout

refuse "missing token: refused, naming the URI" "no token matches 'pkcs11:token=no-such-token" \
    openssl pkey -in "pkcs11:token=no-such-token;object=err-$$" -pubout
refuse "a misspelled URI attribute: refused, naming it" "unknown attribute 'objet'" \
    openssl pkey -in "pkcs11:token=$CMK_TEST_TOKEN;objet=err-$$" -pubout
refuse "missing object: refused, naming the URI" "no RSA key matches .*object=no-such-key" \
    openssl pkey -in "pkcs11:token=$CMK_TEST_TOKEN;object=no-such-key" -pubout
refuse "public-only view cannot decrypt" "names a public key only|needs the private key" \
    openssl pkeyutl -decrypt -inkey "$key;type=public" -pkeyopt rsa_padding_mode:oaep \
    -in dk.w -out dk.2
refuse "a corrupted blob is refused by the token with its CKR" "C_Decrypt with key 'err-$$'.*CKR_" \
    sh -c "head -c 255 dk.w >bad.w; tail -c 1 dk.w | tr '\\000-\\377' '\\001-\\377\\000' >>bad.w; ! cmp -s dk.w bad.w && openssl pkeyutl -decrypt -inkey '$key' -pkeyopt rsa_padding_mode:oaep -in bad.w -out dk.3"
check "the right PIN still works after all that" sh -c \
    "openssl pkeyutl -decrypt -inkey '$key' -pkeyopt rsa_padding_mode:oaep -in dk.w -out dk.4 && cmp dk dk.4"
