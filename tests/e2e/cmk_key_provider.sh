#!/bin/sh
# cmk_key_provider: the provider honours what `cmk key` keeps in the token, for the `openssl`
# command and for `cmk encrypt/decrypt`: `pkcs11:object=NAME` is the current version and `;id=`
# picks one; a disabled version or deleted key is refused saying which; an expired or
# not-yet-valid key wraps nothing but still unwraps; old versions keep unwrapping after a
# rotation. With `audit-log` in its openssl.cnf section the provider records its wraps, unwraps
# and refusals in a chain `cmk audit verify` checks.
. "$(dirname "$0")/lib.sh"

export HOME="$WORK/home" XDG_DATA_HOME="$WORK/xdg"
mkdir -p "$HOME"
unset CMK_CONFIG
export CMK_AUDIT_LOG="$WORK/audit.log"
need key-state "the provider honours cmk key's state"
field() {
    cmk key show "$1" --json | python3 -c "import json,sys; d=json.load(sys.stdin); print($2)"
}
pct() { printf %s "$1" | sed 's/../%&/g'; } # hex -> RFC 7512 percent-encoding
command -v python3 >/dev/null || { skip "cmk key provider" "python3 is not installed (reads --json)"; exit 0; }

# the provider's audit log goes to the same file as cmk's: one chain
sed "/^\[cmk_sect\]/a audit-log = $CMK_AUDIT_LOG" "$OPENSSL_CONF" >"$WORK/openssl.cnf"
export OPENSSL_CONF="$WORK/openssl.cnf"

k=prov-$$
key="pkcs11:token=$CMK_TEST_TOKEN;object=$k"
cmk key create "$k" >/dev/null
v1=$(field "$k" 'd["current_version"]')
cmk key rotate "$k" >/dev/null
v2=$(field "$k" 'd["current_version"]')
head -c 32 /dev/urandom >"$WORK/dk"

cmk key public "$k" | openssl pkey -pubin -outform DER -out "$WORK/v2.der"
check "object=NAME loads the current version" sh -c \
    "openssl pkey -in '$key;type=public' -pubin -pubout -outform DER | cmp - '$WORK/v2.der'"
cmk key public "$k" --version "$v1" | openssl pkey -pubin -outform DER -out "$WORK/v1.der"
check ";id= picks an older version" sh -c \
    "openssl pkey -in '$key;type=public;id=$(pct "$v1")' -pubin -pubout -outform DER | cmp - '$WORK/v1.der'"

wrap() { # wrap VERSION-URI OUT
    openssl pkeyutl -encrypt -inkey "$1" -pkeyopt rsa_padding_mode:oaep -in "$WORK/dk" -out "$2"
}
unwrap() { # unwrap URI IN
    openssl pkeyutl -decrypt -inkey "$1" -pkeyopt rsa_padding_mode:oaep -in "$2" -out "$WORK/dk.out" &&
        cmp "$WORK/dk" "$WORK/dk.out"
}
check "the provider wraps under the current version" wrap "$key" "$WORK/w2"
check "... and unwraps" unwrap "$key" "$WORK/w2"
check "it wraps under version 1 by id" wrap "$key;id=$(pct "$v1")" "$WORK/w1"
check "version 1 still unwraps after the rotation" unwrap "$key;id=$(pct "$v1")" "$WORK/w1"

cmk key disable "$k" --version "$v1" >/dev/null
refuse "a disabled version is refused, saying so" "version $v1 is disabled" \
    unwrap "$key;id=$(pct "$v1")" "$WORK/w1"
check "the current version still unwraps" unwrap "$key" "$WORK/w2"
cmk key disable "$k" >/dev/null
refuse "a disabled key is refused by the provider" "is disabled" unwrap "$key" "$WORK/w2"
cmk key enable "$k" >/dev/null

cmk key update "$k" --expires @1000000 >/dev/null
refuse "an expired key wraps nothing, saying so" "expired on 1970-01-12" wrap "$key" "$WORK/w3"
check "an expired key still unwraps" unwrap "$key" "$WORK/w2"
cmk key update "$k" --expires none --not-before +10d >/dev/null
refuse "a not-yet-valid key wraps nothing, saying so" "is not valid before" wrap "$key" "$WORK/w3"
cmk key update "$k" --not-before none >/dev/null

cmk key delete "$k" >/dev/null
refuse "a deleted key is refused, saying so" "is deleted" unwrap "$key" "$WORK/w2"
cmk key recover "$k" >/dev/null
check "a recovered key unwraps again" unwrap "$key" "$WORK/w2"

# the cmk command's data plane goes through the same provider
echo "a file under a CMK" >"$WORK/f"
check "cmk encrypt" cmk encrypt --key "$k" -o "$WORK/f.cmk" "$WORK/f"
cmk key rotate "$k" >/dev/null
check "cmk decrypt after a rotation (the file names its version)" \
    subsh "cmk decrypt -o '$WORK/f.out' '$WORK/f.cmk' && cmp '$WORK/f' '$WORK/f.out'"
cmk key disable "$k" --version "$v2" >/dev/null
refuse "cmk decrypt of a file under a disabled version is refused" "is disabled" \
    cmk decrypt -o "$WORK/f.out2" "$WORK/f.cmk"
cmk decrypt -o "$WORK/f.out2" "$WORK/f.cmk" >/dev/null 2>&1
rc=$?
if [ "$rc" -eq 4 ]; then ok "... with exit code 4"; else fail "... with exit code 4" "exit $rc"; fi

check "the provider recorded its unwraps (prog=openssl)" \
    grep -q "op=unwrap.outcome=ok.*prog=openssl" "$CMK_AUDIT_LOG"
check "... its refusals (a disabled key at load, an expired key at wrap)" sh -c \
    "grep -q 'op=load.outcome=refused.*prog=openssl' '$CMK_AUDIT_LOG' && grep -q 'op=wrap.outcome=refused.*prog=openssl' '$CMK_AUDIT_LOG'"
check "... and its wraps" grep -q "op=wrap.outcome=ok.*prog=openssl" "$CMK_AUDIT_LOG"
check "cmk's own data plane is recorded by the provider (prog=cmk)" \
    grep -q "op=unwrap.outcome=ok.*prog=cmk" "$CMK_AUDIT_LOG"
check "cmk and the provider keep one verified chain" cmk audit verify
