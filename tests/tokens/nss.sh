#!/bin/sh
# tests/tokens/nss.sh DIR: a throw-away NSS softokn token in DIR (an NSS database made with
# certutil, with a random PIN), labelled cmk-test. Softokn takes its database folder, and here
# the label of its key token, as C_Initialize's pReserved (the init args). It keeps no public-key
# objects: the provider reads the public half off the private key (docs/openssl-cnf.md).
set -eu
dir=${1:?usage: nss.sh DIR}
top=$(cd "$(dirname "$0")/../.." && pwd)
module=${CMK_NSS_MODULE:-/usr/lib/x86_64-linux-gnu/libsoftokn3.so}
[ -r "$module" ] || { echo "nss.sh: $module is missing (package libnss3)" >&2; exit 1; }
command -v certutil >/dev/null || { echo "nss.sh: certutil is missing (package libnss3-tools)" >&2; exit 1; }

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
rm -rf "$dir/nssdb" "$dir/env"
mkdir -p "$dir/nssdb"
umask 077
openssl rand -hex 16 >"$dir/user.pin"
certutil -N -d "sql:$dir/nssdb" -f "$dir/user.pin"
umask 022

. "$top/softhsm-config/tokenfiles.sh"
tokenfiles_write "$dir" "$top/${BUILD:-build}" nss "$module" cmk-test \
    "configdir='sql:$dir/nssdb' certPrefix='' keyPrefix='' secmod='secmod.db' flags= dbTokenDescription='cmk-test'"
