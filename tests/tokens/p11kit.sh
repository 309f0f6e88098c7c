#!/bin/sh
# tests/tokens/p11kit.sh DIR: the SoftHSM test token (softhsm.sh) served by `p11-kit server` on
# a unix socket in DIR; cmk reaches it as another host would, through p11-kit-client.so and
# P11_KIT_SERVER_ADDRESS (p11-kit's remoting, design.md). The server runs in the background;
# its pid is in DIR/p11-kit-server.pid, and whoever made the token stops it by that pid
# (tests/run.sh does, whatever happens).
set -eu
dir=${1:?usage: p11kit.sh DIR}
top=$(cd "$(dirname "$0")/../.." && pwd)
softhsm=/usr/lib/softhsm/libsofthsm2.so
client=${CMK_P11KIT_CLIENT:-/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so}
[ -r "$client" ] || { echo "p11kit.sh: $client is missing (package p11-kit-modules)" >&2; exit 1; }
command -v p11-kit >/dev/null || { echo "p11kit.sh: p11-kit is missing (package p11-kit)" >&2; exit 1; }

sh "$top/tests/tokens/softhsm.sh" "$dir"
dir=$(cd "$dir" && pwd)
sock="$dir/p11-kit.sock"
rm -f "$sock"
# -f: the server stays this script's child, so its pid is known; it outlives the script.
SOFTHSM2_CONF="$dir/softhsm2.conf" p11-kit server -f --provider "$softhsm" -n "$sock" \
    "pkcs11:token=cmk-test" >"$dir/p11-kit-server.log" 2>&1 &
echo $! >"$dir/p11-kit-server.pid"
for _ in $(seq 50); do
    [ -S "$sock" ] && break
    sleep 0.1
done
[ -S "$sock" ] || { echo "p11kit.sh: p11-kit server did not start:" >&2; cat "$dir/p11-kit-server.log" >&2; exit 1; }

. "$top/softhsm-config/tokenfiles.sh"
tokenfiles_write "$dir" "$top/${BUILD:-build}" p11kit "$client" cmk-test
cat >>"$dir/env" <<EOC
export P11_KIT_SERVER_ADDRESS='unix:path=$sock'
export CMK_TEST_SERVER_PID_FILE='$dir/p11-kit-server.pid'
EOC
