#!/bin/sh
# mktoken.sh DIR [LABEL]: makes a throw-away SoftHSM token in DIR, never touching /etc or the
# user's own tokens. Writes DIR/softhsm2.conf, DIR/user.pin and DIR/so.pin (random, mode 0600),
# DIR/openssl.cnf and DIR/env (softhsm-config/tokenfiles.sh).
set -eu
dir=${1:?usage: mktoken.sh DIR [LABEL]}
label=${2:-cmk-test}
top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/${BUILD:-build}"
module=${CMK_PKCS11_MODULE:-/usr/lib/softhsm/libsofthsm2.so}

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
rm -rf "$dir/tokens"
mkdir -p "$dir/tokens"
sed "s|@TOKENDIR@|$dir/tokens|" "$top/softhsm-config/softhsm2.conf.in" >"$dir/softhsm2.conf"

umask 077
openssl rand -hex 16 >"$dir/user.pin"
openssl rand -hex 16 >"$dir/so.pin"
export SOFTHSM2_CONF="$dir/softhsm2.conf"
"$build/cmk-token-init" --module "$module" --label "$label" \
    --so-pin-source "file:$dir/so.pin" --pin-source "file:$dir/user.pin"
umask 022

. "$top/softhsm-config/tokenfiles.sh"
tokenfiles_write "$dir" "$build" softhsm "$module" "$label"
