#!/bin/sh
# rsa_imported_pkeyutl_oaep: a key made in memory and imported into the token (bring your own
# key, cmk-keygen --import) lets the test check what the provider writes: blobs it wraps
# (in the token, or in memory where the token cannot) unwrap with OpenSSL and the original
# key, with OAEP SHA-1, OAEP SHA-256, an OAEP label and PKCS#1 v1.5.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
key="pkcs11:token=$CMK_TEST_TOKEN;object=byok-$$"
openssl genrsa -out mem.pem 2048 2>/dev/null
openssl pkey -in mem.pem -pubout -out mem.pub.pem
keygen "byok-$$" --import mem.pem || { fail "import the key" "cmk-keygen --import failed"; exit 1; }
openssl rand 32 >dk

check "the token's public key is the imported one" sh -c \
    "openssl pkey -in '$key' -pubout | cmp - mem.pub.pem"
# unwrap_in_memory NAME -pkeyopt...: wrap through the provider, unwrap with mem.pem.
unwrap_in_memory() {
    _n=$1
    shift
    check "$_n" sh -c "openssl pkeyutl -encrypt -inkey '$key' $* -in dk -out w && openssl pkeyutl -decrypt -inkey mem.pem $* -in w -out back && cmp dk back"
}
unwrap_in_memory "OAEP SHA-1 wrapped by the provider unwraps with the original key" \
    -pkeyopt rsa_padding_mode:oaep
unwrap_in_memory "OAEP SHA-256 (wrapped in memory) unwraps with the original key" \
    -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256
unwrap_in_memory "OAEP SHA-256 with MGF1-SHA-1 unwraps with the original key" \
    -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha1
unwrap_in_memory "OAEP with a label wrapped by the provider unwraps with that label" \
    -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_label:6c6162656c
unwrap_in_memory "PKCS#1 v1.5 wrapped by the provider unwraps with the original key" \
    -pkeyopt rsa_padding_mode:pkcs1
check "OAEP SHA-1 wrapped in memory unwraps in the token" sh -c \
    "openssl pkeyutl -encrypt -pubin -inkey mem.pub.pem -pkeyopt rsa_padding_mode:oaep -in dk -out w2 && openssl pkeyutl -decrypt -inkey '$key' -pkeyopt rsa_padding_mode:oaep -in w2 -out back2 && cmp dk back2"
