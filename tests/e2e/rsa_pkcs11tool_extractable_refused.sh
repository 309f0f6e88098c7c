#!/bin/sh
# rsa_pkcs11tool_extractable_refused: a key pair made from outside with
# `pkcs11-tool --keypairgen --extractable` is not a customer-managed key: loading its private
# half is refused with a message that says so; its public half may still be read.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
command -v pkcs11-tool >/dev/null || { skip "extractable key refused" "pkcs11-tool (opensc) missing"; exit 0; }
need pkcs11-tool "extractable key refused"
label="extractable-$$"
key="pkcs11:token=$CMK_TEST_TOKEN;object=$label"
# pkcs11-tool takes the PIN on its command line: a short-lived process on a throw-away token.
# It is not ours, so it runs without a sanitizer run's preload (and so without the openssl.cnf
# that loads a sanitized cmk.so): with p11-kit-client.so (0.24.1) ASan stops it at a heap
# overflow in the client's copy of an attribute into pkcs11-tool's buffer.
if ! env -u LD_PRELOAD -u OPENSSL_CONF pkcs11-tool --module "$CMK_TEST_MODULE" --token-label "$CMK_TEST_TOKEN" --login \
    --pin "$(cat "$CMK_TEST_PIN_FILE")" --keypairgen --key-type rsa:2048 --label "$label" \
    --id "$(printf '%s' "$label" | od -An -tx1 | tr -d ' \n')" --extractable \
    --usage-decrypt >pkcs11-tool.log 2>&1; then
    fail "pkcs11-tool makes an extractable key" "$(tail -n 3 pkcs11-tool.log)"
    exit 1
fi
openssl rand 32 >dk
check "its public half can be read (-pubin)" openssl pkey -pubin -in "$key" -pubout -out pub.pem
openssl pkeyutl -encrypt -pubin -inkey pub.pem -pkeyopt rsa_padding_mode:oaep -in dk -out dk.w
refuse "unwrap with it is refused: extractable, not a CMK" "is extractable.*not a customer-managed key" \
    openssl pkeyutl -decrypt -inkey "$key" -pkeyopt rsa_padding_mode:oaep -in dk.w -out dk.1
refuse "openssl pkey on its private half is refused the same way" "not a customer-managed key" \
    openssl pkey -in "$key" -noout
