#!/bin/sh
# bench/gcm.sh: AES-256-GCM through cmk (intel-ipsec-mb) against OpenSSL's own, both measured by
# `openssl speed` in the same run, alternating, best of GCM_BENCH_ROUNDS (noise only slows down).
#   stream: -evp aes-256-gcm -bytes N: EVP_CipherInit_ex (key and IV) then one update of N bytes
#           per iteration (what speed 3.0.19 does; counted with gdb, see docs/benchmarks.md)
#   record: -aead: IV, 13 bytes of AAD, N bytes, final per iteration (a TLS-like record)
# Goal (docs/aes-gcm.md): >= 3.5x at 16 KiB and 1 MiB, never slower at small sizes.
# -propquery must come before -evp: speed fetches the cipher while it parses -evp.
set -u
: "${CMK_BUILD:?run through bench/run.sh (make bench)}"
seconds=${GCM_BENCH_SECONDS:-1}
rounds=${GCM_BENCH_ROUNDS:-3}
: "${OPENSSL_CONF:?bench/run.sh sources the bench token env, whose openssl.cnf loads cmk}"

# speed PROVIDER BYTES ARGS...: bytes per second, from -mr's "+F:n:AES-256-GCM:value" line.
speed() {
    _p=$1 _n=$2
    shift 2
    openssl speed -propquery "provider=$_p" -mr -seconds "$seconds" -bytes "$_n" "$@" \
        -evp aes-256-gcm 2>/dev/null | sed -n 's/^+F:[0-9]*:[^:]*:\([0-9.]*\)$/\1/p'
}

# row LABEL BYTES ARGS...: best of the rounds for each provider, in MB/s, and their ratio.
row() {
    _label=$1 _n=$2
    shift 2
    _c=0 _o=0
    for _r in $(seq "$rounds"); do
        _c=$(awk -v a="$_c" -v b="$(speed cmk "$_n" "$@")" 'BEGIN { print (b > a ? b : a) }')
        _o=$(awk -v a="$_o" -v b="$(speed default "$_n" "$@")" 'BEGIN { print (b > a ? b : a) }')
    done
    awk -v l="$_label" -v n="$_n" -v c="$_c" -v o="$_o" 'BEGIN {
        if (c == 0 || o == 0) { printf "%-14s %8d  measurement failed\n", l, n; exit 1 }
        printf "%-14s %8d %11.0f %11.0f %7.2fx\n", l, n, c / 1e6, o / 1e6, c / o }'
}

if ! openssl list -cipher-algorithms -propquery provider=cmk | grep -q 'id-aes256-GCM.*@ cmk'; then
    echo "gcm: cmk offers no AES-GCM here (no intel-ipsec-mb or AES-NI); nothing to measure"
    exit 0
fi
echo "AES-256-GCM, one core, $seconds s per figure, best of $rounds; MB/s = 10^6 bytes/s"
printf '%-14s %8s %11s %11s %8s\n' "what" "bytes" "cmk" "openssl" "ratio"
rc=0
for n in 64 1500 16384 1048576; do
    row "stream enc" "$n" || rc=1
    row "stream dec" "$n" -decrypt || rc=1
done
for n in 64 1500 16384; do
    row "record enc" "$n" -aead || rc=1
    row "record dec" "$n" -aead -decrypt || rc=1
done
exit $rc
