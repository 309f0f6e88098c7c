#!/bin/sh
# bench/unwrap.sh: unwraps per second (RSA-2048 OAEP SHA-1 of a 32-byte key) through the cmk
# provider against the raw PKCS#11 loop on the same key in the same token, at 1 and 2 threads,
# and against OpenSSL with the key in memory. Run by bench/run.sh (make bench), which makes the
# token and exports its settings. BENCH_ROUNDS and BENCH_SECONDS change the rounds (default 15)
# and the seconds per figure and round (default 0.2). See docs/benchmarks.md, "Unwrap".
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
"$CMK_BUILD/bench/unwrap" --label bench-unwrap --pub "$work/pub.pem" --priv "$work/key.pem" \
    --rounds "${BENCH_ROUNDS:-15}" --seconds "${BENCH_SECONDS:-0.2}"
