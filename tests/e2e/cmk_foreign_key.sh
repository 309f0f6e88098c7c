#!/bin/sh
# cmk_foreign_key: `cmk encrypt` under a key made by another PKCS#11 tool (build/cmk-keygen
# here, as pkcs11-tool or a vendor's would). A file's header names the key's version by its
# CKA_ID: a key without one is refused with one line saying so, and nothing is written.
. "$(dirname "$0")/lib.sh"

cd "$WORK"
printf 'payload' >plain

if keygen "noid-$$"; then
    refuse "a key without CKA_ID is refused, saying why" "key 'noid-$$' has no CKA_ID" \
        cmk encrypt --key "noid-$$" -o noid.cmk plain
    cmk encrypt --key "noid-$$" -o noid.cmk plain >/dev/null 2>&1
    rc=$?
    if [ "$rc" -eq 3 ]; then ok "... as a configuration error (exit 3)"; else fail "... as a configuration error (exit 3)" "exit $rc"; fi
    check "... and nothing is written" test ! -e noid.cmk
else
    fail "a key without CKA_ID" "cmk-keygen could not make it"
fi
if keygen "withid-$$" --id c0ffee; then
    check "a key with a CKA_ID encrypts and decrypts" subsh \
        "cmk encrypt --key 'withid-$$' -o id.cmk plain && cmk inspect id.cmk | grep -q c0ffee &&
         cmk decrypt -o - id.cmk | grep -qx payload"
else
    fail "a key with a CKA_ID" "cmk-keygen could not make it"
fi
