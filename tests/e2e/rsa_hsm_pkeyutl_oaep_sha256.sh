#!/bin/sh
# rsa_hsm_pkeyutl_oaep_sha256: SHA-256 OAEP asked of a token that cannot do it (SoftHSM 2.6.1)
# is refused with a message that says so; encryption, a public operation, is done in memory.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
key="pkcs11:token=$CMK_TEST_TOKEN;object=sha256-$$"
keygen "sha256-$$" --pubout pub.pem || { fail "make the CMK" "cmk-keygen failed"; exit 1; }
openssl rand 32 >dk
openssl pkeyutl -encrypt -pubin -inkey pub.pem -pkeyopt rsa_padding_mode:oaep \
    -pkeyopt rsa_oaep_md:sha256 -in dk -out dk.256

case "$CMK_TEST_TOKEN_KIND" in
softhsm | p11kit) # SoftHSM 2.6.1, itself or behind p11-kit server
    refuse "SHA-256 OAEP unwrap is refused: the token cannot do SHA-256 OAEP" \
        "cannot do RSA-OAEP with SHA-256" \
        openssl pkeyutl -decrypt -inkey "$key" -pkeyopt rsa_padding_mode:oaep \
        -pkeyopt rsa_oaep_md:sha256 -in dk.256 -out dk.1
    refuse "... with MGF1-SHA-256 set on its own too" "cannot do RSA-OAEP with SHA-256" \
        openssl pkeyutl -decrypt -inkey "$key" -pkeyopt rsa_padding_mode:oaep \
        -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 -in dk.256 -out dk.1
    ;;
*)
    check "SHA-256 OAEP unwraps in the token" sh -c \
        "openssl pkeyutl -decrypt -inkey '$key' -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -in dk.256 -out dk.1 && cmp dk dk.1"
    ;;
esac
check "SHA-256 OAEP wrap through the provider (in memory where the token cannot)" \
    openssl pkeyutl -encrypt -inkey "$key" -pkeyopt rsa_padding_mode:oaep \
    -pkeyopt rsa_oaep_md:sha256 -in dk -out dk.p256
check "... gives a modulus-long blob" test "$(wc -c <dk.p256)" -eq 256
refuse "an unknown OAEP digest is refused by name" "unknown digest 'nosuchmd'|nosuchmd" \
    openssl pkeyutl -decrypt -inkey "$key" -pkeyopt rsa_padding_mode:oaep \
    -pkeyopt rsa_oaep_md:nosuchmd -in dk.256 -out dk.2
refuse "a padding the provider does not offer is refused" "only pkcs1 and oaep|padding" \
    openssl pkeyutl -decrypt -inkey "$key" -pkeyopt rsa_padding_mode:none -in dk.256 -out dk.2
