#!/bin/sh
# bench/unwrap.sh: unwraps per second (RSA-2048 OAEP SHA-1 of a 32-byte key) through the cmk
# provider against the raw PKCS#11 loop on the same key in the same token, at 1 and 2 threads,
# and against OpenSSL with the key in memory; then the same raw loop and provider unwrap through
# p11-kit's remoting (`p11-kit server` on a unix socket, p11-kit-client.so) against the token
# directly. Run by bench/run.sh (make bench), which makes the token and exports its settings.
# BENCH_ROUNDS and BENCH_SECONDS change the rounds (default 15) and the seconds per figure and
# round (default 0.2). See docs/benchmarks.md, "Unwrap" and "Unwrap through p11-kit remoting".
set -eu
: "${CMK_TEST_DIR:?run through make bench}"
work="$CMK_TEST_DIR/unwrap"
mkdir -p "$work"
# The same key in memory and in the token: made by OpenSSL alone (no cmk), then imported.
OPENSSL_CONF=/dev/null openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$work/key.pem" 2>/dev/null
OPENSSL_CONF=/dev/null openssl pkey -in "$work/key.pem" -pubout -out "$work/pub.pem"
"$CMK_BUILD/cmk-keygen" --module "$CMK_TEST_MODULE" --token "$CMK_TEST_TOKEN" \
    --pin-source "file:$CMK_TEST_PIN_FILE" --label bench-unwrap --import "$work/key.pem" \
    --ops decrypt >/dev/null
unwrap() {
    "$CMK_BUILD/bench/unwrap" --label bench-unwrap --pub "$work/pub.pem" --priv "$work/key.pem" \
        --rounds "${BENCH_ROUNDS:-15}" --seconds "${BENCH_SECONDS:-0.2}" "$@"
}
unwrap

# The same token served by `p11-kit server` (stopped by its pid on exit), reached through
# p11-kit-client.so by both the raw loop and a cmk provider configured with that module.
client="$(pkg-config --variable=p11_module_path p11-kit-1)/p11-kit-client.so"
[ -f "$client" ] || { echo "unwrap: $client missing (sh mk/deps.sh bench)" >&2; exit 1; }
sock="$work/p11-kit.sock"
rm -f "$sock"
p11-kit server -f -n "$sock" --provider "$CMK_TEST_MODULE" "pkcs11:token=$CMK_TEST_TOKEN" \
    >"$work/p11-kit-server.out" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null' EXIT
tries=0
until [ -S "$sock" ]; do
    tries=$((tries + 1))
    [ "$tries" -le 50 ] || { echo "unwrap: p11-kit server did not start" >&2; exit 1; }
    sleep 0.1
done
sed "s|^pkcs11-module-path = .*|pkcs11-module-path = $client|" "$OPENSSL_CONF" \
    >"$work/openssl-remote.cnf"
echo
P11_KIT_SERVER_ADDRESS="unix:path=$sock" P11_KIT_SERVER_PID=$server unwrap --remote "$client" \
    --remote-conf "$work/openssl-remote.cnf"
