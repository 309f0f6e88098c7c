#!/bin/sh
# cmk_key: the key life cycle through `cmk key`, checked from outside the command with
# pkcs11-tool (attributes, object counts) as well as through cmk itself: create (RSA-HSM and
# imported RSA), show/list/public, rotate (by hand, by policy, two at once), disable/enable
# (and the token refusing other programs), expiry and not-before, check, delete/recover/purge,
# purge protection, name reuse, and every refusal's exit code and message.
. "$(dirname "$0")/lib.sh"

export HOME="$WORK/home" XDG_DATA_HOME="$WORK/xdg"
mkdir -p "$HOME"
unset CMK_CONFIG CMK_AUDIT_LOG
LOG="$XDG_DATA_HOME/cmk/audit.log"
p11() {
    pkcs11-tool --module "$CMK_TEST_MODULE" --token-label "$CMK_TEST_TOKEN" \
        --pin "$(cat "$CMK_TEST_PIN_FILE")" "$@" 2>/dev/null
}
# objects LABEL TYPE: how many token objects of TYPE (Private, Public, Data) carry LABEL.
objects() {
    p11 -O | awk -v l="$1" -v t="$2" -v q="'" '/^[A-Z]/ { type = $1 }
        $1 == "label:" && ($2 == l || $2 == q l q) && type == t { n++ } END { print n + 0 }'
}
# usage ID: the Usage line pkcs11-tool shows for the private key whose CKA_ID is ID.
usage() {
    p11 -O | awk -v id="$1" '/^[A-Z]/ { type = $1; cur = "" } $1 == "ID:" { cur = $2 }
        $1 == "Usage:" && cur == id && type == "Private" { sub(/^ *Usage: */, ""); print }'
}
# field NAME JSONPATH: a value out of `cmk key show NAME --json` (versions[0].id, ...).
field() {
    cmk key show "$1" --json | python3 -c "import json,sys; d=json.load(sys.stdin); print($2)"
}
expect() { # expect NAME WANT GOT
    if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "wanted '$2', got '$3'"; fi
}
exits() { # exits NAME CODE COMMAND...: ok when COMMAND exits with CODE
    _n=$1 _c=$2
    shift 2
    "$@" >"$WORK/out" 2>&1
    _rc=$?
    if [ "$_rc" -eq "$_c" ]; then ok "$_n"; else fail "$_n" "exit $_rc, wanted $_c: $(tail -n 2 "$WORK/out")"; fi
}
command -v pkcs11-tool >/dev/null || { skip "cmk key" "pkcs11-tool (opensc) is not installed"; exit 0; }
need key-state "cmk key"
need pkcs11-tool "cmk key (checked from outside with pkcs11-tool)"
command -v python3 >/dev/null || { skip "cmk key" "python3 is not installed (reads --json)"; exit 0; }

k=app-$$ imp=byok-$$

# --- create -----------------------------------------------------------------------------------
check "cmk key create makes an RSA-HSM key" cmk key create "$k"
expect "the key has one private and one public object and a state object" "1 1 1" \
    "$(objects "$k" Private) $(objects "$k" Public) $(objects "$k" Data)"
v1=$(field "$k" 'd["current_version"]')
expect "its version id is 24 hex digits" 24 "$(printf %s "$v1" | tr -dc 0-9a-f | wc -c)"
check "pkcs11-tool sees it generated in the token, sensitive, never extractable" sh -c \
    "pkcs11-tool --module '$CMK_TEST_MODULE' --token-label '$CMK_TEST_TOKEN' --pin \$(cat '$CMK_TEST_PIN_FILE') -O 2>/dev/null | grep -A3 'ID: *$v1' | grep -q 'sensitive, always sensitive, never extractable, local'"
expect "pkcs11-tool: the private key decrypts and unwraps" "decrypt, unwrap" "$(usage "$v1")"
expect "show: kind, size, retention, ops by default" "RSA-HSM 2048 90 ['wrap' 'unwrap']" \
    "$(field "$k" 'd["kind"], d["size"], d["retention_days"], d["operations"]' | tr -d '(),')"
refuse "a second key of one name is refused" "already exists" cmk key create "$k"
exits "... with exit code 4 (refused)" 4 cmk key create "$k"
exits "--size 1024 is a usage error" 2 cmk key create "x$k" --size 1024
exits "--retention-days 5 is a usage error" 2 cmk key create "x$k" --retention-days 5
exits "--ops wrap alone is a usage error (the token pairs wrap with unwrap)" 2 \
    cmk key create "x$k" --ops wrap
exits "--kty RSA without --import is a usage error" 2 cmk key create "x$k" --kty RSA
exits "a name with a slash is a usage error" 2 cmk key create "a/b"
exits "show of a missing key fails (1)" 1 cmk key show "none-$$"
expect "refused creations made no objects" "0 0" "$(objects "x$k" Private) $(objects "x$k" Data)"

openssl genrsa -out "$WORK/mine.pem" 3072 2>/dev/null
openssl pkey -in "$WORK/mine.pem" -outform DER -out "$WORK/mine.der"
check "cmk key create --import takes your own key (PEM)" cmk key create "$imp" --import "$WORK/mine.pem"
expect "show reports it imported (RSA) at its own size" "RSA 3072" \
    "$(field "$imp" 'd["kind"], d["size"]' | tr -d '(),')"
vi=$(field "$imp" 'd["current_version"]')
check "pkcs11-tool: the imported key is sensitive but not local" sh -c \
    "pkcs11-tool --module '$CMK_TEST_MODULE' --token-label '$CMK_TEST_TOKEN' --pin \$(cat '$CMK_TEST_PIN_FILE') -O 2>/dev/null | grep -A3 'ID: *$vi' | grep 'Access:' | grep -v local | grep -q sensitive"
check "cmk key create --import takes DER too" cmk key create "der-$$" --kty RSA --import "$WORK/mine.der"
exits "importing a 1024-bit key is refused" 2 subsh \
    "openssl genrsa -out '$WORK/small.pem' 1024 2>/dev/null; cmk key create 'small-$$' --import '$WORK/small.pem'"
expect "public: the PEM's SHA-256 SPKI fingerprint is the one show reports" \
    "$(field "$imp" 'd["versions"][0]["fingerprint_sha256"]')" \
    "$(cmk key public "$imp" | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)"
expect "public: the imported key's public half is the customer's" \
    "$(openssl pkey -in "$WORK/mine.pem" -pubout -outform DER | sha256sum)" \
    "$(cmk key public "$imp" | openssl pkey -pubin -outform DER | sha256sum)"

# --- rotate -----------------------------------------------------------------------------------
check "cmk key rotate adds a version" cmk key rotate "$k"
v2=$(field "$k" 'd["current_version"]')
expect "the new version is current and newer" "2 yes" \
    "$(field "$k" 'len(d["versions"])') $( [ "$v2" \> "$v1" ] && echo yes)"
expect "pkcs11-tool: two key pairs under the name" "2 2 1" \
    "$(objects "$k" Private) $(objects "$k" Public) $(objects "$k" Data)"
expect "public --version picks an older version" \
    "$(field "$k" 'd["versions"][0]["fingerprint_sha256"]')" \
    "$(cmk key public "$k" --version "$v1" | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)"
refuse "an imported key rotates only with --import" "rotate it with --import" cmk key rotate "$imp"
check "cmk key rotate --import rotates an imported key" cmk key rotate "$imp" --import "$WORK/mine.pem"

# two processes rotating one key at once: every version is kept, ids differ
for i in 1 2 3; do
    cmk key rotate "$k" >>"$WORK/rot" 2>&1 &
    cmk key rotate "$k" >>"$WORK/rot" 2>&1 &
    wait
done
grep -v "^rotated key" "$WORK/rot"
expect "six concurrent rotations: eight versions, none lost" "8 8 8" \
    "$(field "$k" 'len(d["versions"])') $(objects "$k" Private) $(field "$k" 'len(set(v["id"] for v in d["versions"]))')"
expect "... and the newest is current" "True" \
    "$(field "$k" 'd["current_version"] == max(v["id"] for v in d["versions"])')"

# rotation policy: a key whose only version is from 2020 and rotates every day is due
due=due-$$
cmk key create "$due" --rotate-after 1 >/dev/null
vd=$(field "$due" 'd["current_version"]')
p11 --login --delete-object --type privkey --id "$vd" >/dev/null
p11 --login --delete-object --type pubkey --id "$vd" >/dev/null
keygen "$due" --id 0005af3107a4000000000001 \
    --ops decrypt >/dev/null 2>&1
exits "cmk key check reports the overdue rotation (exit 1)" 1 cmk key check --within 0
cp "$WORK/out" "$WORK/check.out"
check "... naming the key" grep -q "^$due: rotation was due" "$WORK/check.out"
check "cmk key rotate --due rotates what is due" cmk key rotate --due
expect "... which made a second, current version" "2" "$(field "$due" 'len(d["versions"])')"
exits "... and nothing is due any more (exit 0)" 0 cmk key check --within 0

# --- disable / enable -------------------------------------------------------------------------
cmk key public "$k" --version "$v1" >"$WORK/v1.pem"
echo "a data key" >"$WORK/msg"
openssl pkeyutl -encrypt -pubin -inkey "$WORK/v1.pem" -in "$WORK/msg" -out "$WORK/ct"
check "pkcs11-tool decrypts with version 1" p11 --decrypt -m RSA-PKCS --id "$v1" --input-file "$WORK/ct"
check "cmk key disable --version turns one version off" cmk key disable "$k" --version "$v1"
expect "pkcs11-tool: that private key may do nothing" "none" "$(usage "$v1")"
expect "pkcs11-tool: the current version is untouched" "decrypt, unwrap" "$(usage "$v2")"
refuse "pkcs11-tool --decrypt is refused by the token itself" "CKR_KEY_FUNCTION_NOT_PERMITTED" \
    pkcs11-tool --module "$CMK_TEST_MODULE" --token-label "$CMK_TEST_TOKEN" \
    --pin "$(cat "$CMK_TEST_PIN_FILE")" --decrypt -m RSA-PKCS --id "$v1" --input-file "$WORK/ct"
expect "show: version 1 disabled, the key still enabled" "disabled enabled" \
    "$(field "$k" 'd["versions"][0]["state"], d["status"]' | tr -d "(),'")"
check "cmk key enable --version turns it back on" cmk key enable "$k" --version "$v1"
check "pkcs11-tool decrypts with version 1 again" p11 --decrypt -m RSA-PKCS --id "$v1" --input-file "$WORK/ct"
check "cmk key disable NAME revokes every version" cmk key disable "$k"
expect "list shows it disabled" "disabled" "$(cmk key list | awk -v k="$k" '$1 == k { print $2 }')"
refuse "encrypt under a disabled key is refused, saying so" "is disabled" \
    cmk encrypt --key "$k" -o "$WORK/x.cmk" "$WORK/msg"
exits "... with exit code 4" 4 cmk encrypt --key "$k" -o "$WORK/x.cmk" "$WORK/msg"
refuse "rotating a disabled key is refused" "enable it before rotating" cmk key rotate "$k"
check "cmk key enable NAME" cmk key enable "$k"
expect "pkcs11-tool: every version decrypts again" "decrypt, unwrap" "$(usage "$v1")"

# --- validity window --------------------------------------------------------------------------
check "cmk key update --not-before in 10 days" cmk key update "$k" --not-before +10d
refuse "encrypt before not-before is refused" "not valid before" \
    cmk encrypt --key "$k" -o "$WORK/x.cmk" "$WORK/msg"
check "cmk key update --expires in the past (and no not-before)" \
    cmk key update "$k" --not-before none --expires @1000000
refuse "encrypt after expiry is refused" "expired on 1970-01-12" \
    cmk encrypt --key "$k" -o "$WORK/x.cmk" "$WORK/msg"
check "an expired key still unwraps in the token" \
    p11 --decrypt -m RSA-PKCS --id "$v1" --input-file "$WORK/ct"
expect "show says expired" "expired" "$(field "$k" 'd["status"]')"
check "cmk key update --expires none" cmk key update "$k" --expires none

# --- delete / recover / purge -----------------------------------------------------------------
cmk key disable "$k" --version "$v1" >/dev/null
check "cmk key delete soft-deletes" cmk key delete "$k"
expect "list hides it, list --deleted shows it" "0 1" \
    "$(cmk key list | grep -c "^$k ") $(cmk key list --deleted | grep -c "^$k ")"
expect "pkcs11-tool: its objects are all still there" "8 1" "$(objects "$k" Private) $(objects "$k" Data)"
expect "pkcs11-tool: the current version is revoked in the token" "none" "$(usage "$v2")"
expect "show: deleted, with a purge date 90 days on" "deleted True" \
    "$(field "$k" 'd["status"], d["purge_date"] > d["deleted_at"]' | tr -d "(),'")"
refuse "the name cannot be reused while the deleted key holds it" "held by a deleted key" \
    cmk key create "$k"
refuse "a deleted key cannot be enabled" "recover it first" cmk key enable "$k"
refuse "a deleted key cannot be rotated" "recover it before rotating" cmk key rotate "$k"
refuse "encrypt under a deleted key is refused" "is deleted" \
    cmk encrypt --key "$k" -o "$WORK/x.cmk" "$WORK/msg"
refuse "deleting twice is refused" "already deleted" cmk key delete "$k"
check "cmk key recover" cmk key recover "$k"
expect "recover re-enables what delete disabled, not version 1" "decrypt, unwrap|none" \
    "$(usage "$v2")|$(usage "$v1")"
refuse "recovering a live key is refused" "is not deleted" cmk key recover "$k"
refuse "purging a live key is refused" "delete it first" cmk key purge "$k"

pp=protected-$$
check "create with --purge-protection and 7 days' retention" \
    cmk key create "$pp" --purge-protection --retention-days 7
refuse "purge protection cannot be turned off" "cannot be turned off" \
    cmk key update "$pp" --no-purge-protection
cmk key delete "$pp" >/dev/null
refuse "purge of a protected key within its retention is refused" "purge protection" \
    cmk key purge "$pp"
expect "... and its objects stay" "1 1" "$(objects "$pp" Private) $(objects "$pp" Data)"

cmk key delete "der-$$" >/dev/null
check "cmk key purge" cmk key purge "der-$$"
expect "pkcs11-tool: no object of the purged key is left" "0 0 0" \
    "$(objects "der-$$" Private) $(objects "der-$$" Public) $(objects "der-$$" Data)"
check "a purged key's name can be used again" cmk key create "der-$$"
exits "purge --due purges nothing still in retention" 0 cmk key purge --due
expect "... the protected key is still there" "1" "$(objects "$pp" Data)"

# --- list / json ------------------------------------------------------------------------------
check "list --json is a keys array" subsh "cmk key list --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert isinstance(d[\"keys\"], list) and all(\"versions\" in k for k in d[\"keys\"])'"
exits "an unknown key verb is a usage error" 2 cmk key frobnicate

# --- audit ------------------------------------------------------------------------------------
check "the audit log verifies" cmk audit verify
check "audit --key lists the key's create, rotate, disable, refusals" subsh \
    "cmk audit --key '$k' --json | python3 -c 'import json,sys; ops={(r[\"op\"], r[\"outcome\"]) for r in json.load(sys.stdin)[\"records\"]}; need={(\"create\",\"ok\"),(\"rotate\",\"ok\"),(\"disable\",\"ok\"),(\"enable\",\"ok\"),(\"delete\",\"ok\"),(\"recover\",\"ok\"),(\"create\",\"refused\"),(\"wrap\",\"refused\")}; assert need <= ops, need - ops'"
check "audit --since tomorrow lists nothing" subsh "test \$(cmk audit --since +1d | wc -l) -eq 0"
cp "$LOG" "$WORK/log.orig"
cp "$LOG.head" "$WORK/head.orig"
restore() { cp "$WORK/log.orig" "$LOG" && cp "$WORK/head.orig" "$LOG.head"; }
sed -i '2s/op=create/op=delete/' "$LOG"
refuse "audit verify catches an edited record" "record 2 \(line 2\) was changed" cmk audit verify
exits "... with exit code 5" 5 cmk audit verify
restore
sed -i '3d' "$LOG"
refuse "audit verify catches a deleted record" "records 3..3 were removed" cmk audit verify
restore
awk 'NR == 4 { held = $0; next } NR == 5 { print; print held; next } { print }' \
    "$WORK/log.orig" >"$LOG"
refuse "audit verify catches swapped records" "reordered" cmk audit verify
restore
head -n 6 "$WORK/log.orig" >"$LOG"
refuse "audit verify catches a truncated log" "were truncated" cmk audit verify
restore
check "the restored log verifies again" cmk audit verify
