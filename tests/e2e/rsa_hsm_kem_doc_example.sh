#!/bin/sh
# rsa_hsm_kem_doc_example: the C example of docs/kem.md, built as a user would, wraps a fresh
# data key with a CMK in the token and unwraps it (so the documentation stays true).
. "$(dirname "$0")/lib.sh"
cd "$WORK"
command -v cc >/dev/null || { skip "docs/kem.md example" "no C compiler"; exit 0; }
keygen "kemdoc-$$" || { fail "make the CMK" "cmk-keygen failed"; exit 1; }
awk '/^```c$/ { f = 1; next } /^```$/ { f = 0 } f' "$CMK_TOP/docs/kem.md" >kem_example.c
check "the example in docs/kem.md builds warning-free" \
    cc -std=c11 -Wall -Wextra -Werror kem_example.c -o kem_example -lcrypto
check "it wraps and unwraps a data key with the token's CMK" sh -c \
    "env ${CMK_TEST_PRELOAD:+LD_PRELOAD=$CMK_TEST_PRELOAD} ./kem_example 'pkcs11:token=$CMK_TEST_TOKEN;object=kemdoc-$$' | grep -q 'unwrapped the 32-byte data key: same'"
