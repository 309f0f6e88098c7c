#!/bin/sh
# mk/demo.sh: `make demo`. The main job end to end, on a throw-away SoftHSM token in
# build/demo: a customer-managed key made in the token, a file encrypted and decrypted under
# it, the key rotated (the file follows without being re-encrypted) and revoked (the data goes
# dark, for cmk and for any other OpenSSL application alike), and the audit trail verified.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
b="$top/$BUILD"
demo="$b/demo"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() {
    printf '$ %s\n' "$*"
    "$@"
}

step "1. A throw-away SoftHSM token in $BUILD/demo (random PINs in 0600 files)"
rm -rf "$demo"
sh "$top/softhsm-config/mktoken.sh" "$demo" demo >/dev/null
. "$demo/env"
cat >"$demo/cmk.conf" <<EOC
# cmk's settings for the demo token (docs/cmk.md)
module = $CMK_TEST_MODULE
token = pkcs11:token=demo
pin-source = file:$demo/user.pin
softhsm-conf = $demo/softhsm2.conf
audit-log = $demo/audit.log
EOC
export CMK_CONFIG="$demo/cmk.conf" PATH="$b:$PATH"
cd "$demo"
ls -l user.pin so.pin cmk.conf | sed 's/^/   /'

step "2. A customer-managed key, generated inside the token"
run cmk key create orders --retention-days 7
run cmk key show orders
v1=$(cmk key show orders --json | sed 's/.*"current_version":"\([0-9a-f]*\)".*/\1/')
echo "   any OpenSSL application reaches it by URI; only the public half ever leaves the token:"
run openssl pkey -in 'pkcs11:token=demo;object=orders' -pubout -out orders.pub.pem
printf '$ openssl pkey -in pkcs11:token=demo;object=orders -out private.pem\n'
openssl pkey -in 'pkcs11:token=demo;object=orders' -out private.pem 2>&1 |
    grep -m1 -o 'the private key of[^:]*' | sed 's/^/   /' || true

step "3. Encrypt a file: AES-256-GCM, its key wrapped by the CMK in the token"
head -c 3000000 /dev/urandom >orders.db
cp orders.db orders.db.orig
run cmk encrypt --key orders --context app=billing orders.db
run cmk inspect orders.db.cmk
rm orders.db

step "4. Decrypt: the key is unwrapped inside the token, every chunk authenticated"
run cmk decrypt --context app=billing orders.db.cmk
run cmp orders.db orders.db.orig && echo "   round trip ok"

step "5. Rotate the key; the file follows by rewrapping its header (the body is not touched)"
run cmk key rotate orders
run cmk rewrap orders.db.cmk
run cmk inspect orders.db.cmk
run cmk decrypt --force --context app=billing -o orders.db orders.db.cmk
run cmp orders.db orders.db.orig && echo "   still readable under the new version"

step "6. Revoke: disable the key in the token; the data goes dark for every application"
run cmk key disable orders
printf '$ cmk decrypt orders.db.cmk\n'
if cmk decrypt --force -o orders.db orders.db.cmk; then
    echo "demo: a disabled key still decrypted" >&2
    exit 1
fi
head -c 32 /dev/urandom >dk
openssl pkeyutl -encrypt -pubin -inkey orders.pub.pem -pkeyopt rsa_padding_mode:oaep -in dk -out dk.wrapped
printf '$ openssl pkeyutl -decrypt -inkey pkcs11:token=demo;object=orders ...\n'
if openssl pkeyutl -decrypt -inkey 'pkcs11:token=demo;object=orders' -pkeyopt rsa_padding_mode:oaep \
    -in dk.wrapped -out dk.out 2>err; then
    echo "demo: a disabled key still unwrapped through openssl" >&2
    exit 1
fi
grep -m1 -o "key 'orders'.*" err | sed 's/^/   /'
run cmk key enable orders
run cmk decrypt --force -o orders.db orders.db.cmk && echo "   re-enabled: readable again"

step "7. The audit trail: every operation, hash-chained"
run cmk audit --key orders
run cmk audit verify
printf '\nThe demo token, its settings and the files are in %s.\n' "$BUILD/demo"
