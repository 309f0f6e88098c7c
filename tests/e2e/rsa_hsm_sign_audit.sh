#!/bin/sh
# rsa_hsm_sign_audit: who may sign with a token key, and the audit log's record of it. A CMK
# made for encryption only is refused by `openssl pkeyutl -sign` and `openssl req` with one
# line naming the key; a key created by `cmk key create --ops sign,verify` signs until it
# expires or is disabled, and verifying stays allowed; with `audit-log` in the provider's
# openssl.cnf section every signature and refusal is recorded, in a chain `cmk audit verify`
# accepts.
. "$(dirname "$0")/lib.sh"
need key-state "signing under cmk key's state"
cd "$WORK"
export HOME="$WORK/home" XDG_DATA_HOME="$WORK/xdg"
mkdir -p "$HOME"
unset CMK_CONFIG
export CMK_AUDIT_LOG="$WORK/audit.log"
sed "/^\[cmk_sect\]/a audit-log = $CMK_AUDIT_LOG" "$OPENSSL_CONF" >openssl.cnf
export OPENSSL_CONF="$WORK/openssl.cnf"

enc="enc-$$" sig="sig-$$"
cmk key create "$enc" >/dev/null || { fail "cmk key create" "an encryption key"; exit 1; }
cmk key create "$sig" --ops sign,verify >/dev/null ||
    { fail "cmk key create --ops sign,verify" "a signing key"; exit 1; }
enc_uri="pkcs11:token=$CMK_TEST_TOKEN;object=$enc"
sig_uri="pkcs11:token=$CMK_TEST_TOKEN;object=$sig"
printf 'sign me\n' >msg
openssl dgst -sha256 -binary -out msg.sha256 msg

refuse "pkeyutl -sign with an encryption-only CMK is refused, naming the key" \
    "key '$enc' is not permitted to sign" \
    openssl pkeyutl -sign -inkey "$enc_uri" -pkeyopt digest:sha256 -in msg.sha256 -out x.sig
refuse "req -x509 with an encryption-only CMK is refused, naming the key" \
    "key '$enc' is not permitted to sign" \
    openssl req -new -x509 -key "$enc_uri" -subj /CN=no -days 1 -out no.pem

openssl pkey -in "$sig_uri" -pubout -out sig.pub
check "pkeyutl -sign with a signing CMK" \
    openssl pkeyutl -sign -inkey "$sig_uri" -pkeyopt digest:sha256 -in msg.sha256 -out msg.sig
check "... the signature verifies with its public key (default provider)" \
    openssl pkeyutl -verify -pubin -inkey sig.pub -pkeyopt digest:sha256 -in msg.sha256 \
    -sigfile msg.sig
check "dgst -sign with RSA-PSS" \
    openssl dgst -sha384 -sign "$sig_uri" -sigopt rsa_padding_mode:pss -out msg.pss msg

cmk key update "$sig" --expires @1000000 >/dev/null
refuse "an expired key signs nothing, saying so" \
    "key '$sig' expired on 1970-01-12T.*: it still verifies, but signs nothing new" \
    openssl dgst -sha256 -sign "$sig_uri" -out late.sig msg
check "an expired key still verifies" \
    openssl dgst -sha384 -verify "$sig_uri" -sigopt rsa_padding_mode:pss -signature msg.pss msg
cmk key update "$sig" --expires none >/dev/null
cmk key disable "$sig" >/dev/null
refuse "a disabled key signs nothing, saying so" "is disabled" \
    openssl dgst -sha256 -sign "$sig_uri" -out off.sig msg
cmk key enable "$sig" >/dev/null
check "enabled again, it signs" openssl dgst -sha256 -sign "$sig_uri" -out on.sig msg

check "the audit log records the signatures (op=sign, outcome=ok)" \
    grep -q "key=$sig.*op=sign.outcome=ok.*prog=openssl" "$CMK_AUDIT_LOG"
check "... the refusal of the encryption-only key" \
    grep -q "key=$enc.*op=sign.outcome=refused.*not permitted to sign" "$CMK_AUDIT_LOG"
check "... and the refusal of the expired key" \
    grep -q "key=$sig.*op=sign.outcome=refused.*expired" "$CMK_AUDIT_LOG"
n=$(grep -c "key=$sig.*op=sign.outcome=ok" "$CMK_AUDIT_LOG")
if [ "$n" -eq 3 ]; then ok "one record per signature made (3)"; else fail "one record per signature made (3)" "$n records"; fi
check "cmk audit verify accepts the chain" cmk audit verify
