#!/bin/sh
# mktoken.sh DIR [LABEL]: makes a throw-away SoftHSM token in DIR, never touching /etc or the
# user's own tokens. Writes DIR/softhsm2.conf, DIR/user.pin and DIR/so.pin (random, mode 0600),
# DIR/openssl.cnf (loads build/cmk.so for this token) and DIR/env, which a shell can source to
# replay a failing test against the same token.
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

cat >"$dir/openssl.cnf" <<EOC
# openssl.cnf for the throw-away token in $dir (made by softhsm-config/mktoken.sh)
openssl_conf = openssl_init

[openssl_init]
providers = provider_sect

[provider_sect]
default = default_sect
cmk = cmk_sect

[default_sect]
activate = 1

[cmk_sect]
module = $build/cmk.so
pkcs11-module-path = $module
pkcs11-module-token-pin = file:$dir/user.pin
activate = 1
EOC

cat >"$dir/env" <<EOC
export SOFTHSM2_CONF='$dir/softhsm2.conf'
export OPENSSL_CONF='$dir/openssl.cnf'
export CMK_TEST_DIR='$dir'
export CMK_TEST_MODULE='$module'
export CMK_TEST_TOKEN='$label'
export CMK_TEST_PIN_FILE='$dir/user.pin'
EOC
