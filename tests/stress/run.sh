#!/bin/sh
# tests/stress/run.sh (make stress): for STRESS_SECONDS (default 60), on one throw-away SoftHSM
# token of its own (build/stress/token), build/stress/cmk-stress unwraps with 8 threads through
# the provider (stress.c says what it checks) while STRESS_PROCESSES (4) shell loops each run
# `cmk encrypt` and `cmk decrypt` round trips on files of varied sizes, comparing every output
# with its input byte for byte. Passes, exit 0, when cmk-stress passes and no round trip failed.
# Logs: build/stress/threads.log, build/stress/p<N>.log (each failed round in full).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
secs=${STRESS_SECONDS:-60}
procs=${STRESS_PROCESSES:-4}
out="$top/$BUILD/stress"
tokdir="$out/token"
mkdir -p "$out"
rm -rf "$out/work" "$out"/p*.log "$out"/p*.result
if ! BUILD=$BUILD sh "$top/softhsm-config/mktoken.sh" "$tokdir" cmk-stress >"$out/mktoken.log" 2>&1; then
    cat "$out/mktoken.log" >&2
    echo "stress: FAIL: could not make the token"
    exit 1
fi
. "$tokdir/env"
export CMK_TOP="$top" CMK_BUILD="$top/$BUILD" CMK_AUDIT_LOG="$tokdir/audit.log"
export HOME="$out/home" XDG_DATA_HOME="$out/home/.local/share"
rm -rf "$HOME" && mkdir -p "$HOME" "$out/work"

cmk() { "$top/$BUILD/cmk" --module "$CMK_TEST_MODULE" --token "pkcs11:token=$CMK_TEST_TOKEN" \
    --pin-source "file:$CMK_TEST_PIN_FILE" "$@"; }
key=stress-files
"$top/$BUILD/cmk-keygen" --module "$CMK_TEST_MODULE" --token "$CMK_TEST_TOKEN" \
    --pin-source "file:$CMK_TEST_PIN_FILE" --label "$key" --id 0a0b >"$out/keygen.log" 2>&1 ||
    { cat "$out/keygen.log"; echo "stress: FAIL: cmk-keygen"; exit 1; }

# files N END: round trips until the clock passes END; writes "rounds bytes failures" to
# p<N>.result. Sizes cross the chunk boundary, with the default chunks and with 4 KiB ones.
files() {
    n=$1 end=$2 rounds=0 bytes=0 failed=0
    dir="$out/work/p$n" log="$out/p$n.log"
    mkdir -p "$dir" && cd "$dir" || return 1
    while [ "$(date +%s)" -lt "$end" ]; do
        set -- 0 1 4095 4096 4097 65536 300001 1048577
        shift $(((rounds + n) % 8))
        size=$1
        chunk=
        [ $((rounds % 2)) -eq 1 ] && chunk="--chunk-size 4096"
        head -c "$size" /dev/urandom >in
        # shellcheck disable=SC2086
        if cmk encrypt --key "$key" $chunk -o in.cmk in >round.log 2>&1 &&
            cmk decrypt -o back in.cmk >>round.log 2>&1 && cmp in back >>round.log 2>&1; then
            bytes=$((bytes + size))
        else
            failed=$((failed + 1))
            { echo "round $rounds ($size bytes $chunk) failed:" && cat round.log; } >>"$log"
        fi
        rounds=$((rounds + 1))
        rm -f in.cmk back
    done
    echo "$rounds $bytes $failed" >"$out/p$n.result"
}

# A first round trip makes what cmk keeps beside the token before the loops start together.
head -c 1000 /dev/urandom >"$out/work/first"
if ! cmk encrypt --key "$key" -o "$out/work/first.cmk" "$out/work/first" >"$out/first.log" 2>&1 ||
    ! cmk decrypt -o "$out/work/first.back" "$out/work/first.cmk" >>"$out/first.log" 2>&1 ||
    ! cmp "$out/work/first" "$out/work/first.back" >>"$out/first.log" 2>&1; then
    cat "$out/first.log"
    echo "stress: FAIL: the first round trip"
    exit 1
fi

echo "stress: $secs s: 8 unwrapping threads and $procs cmk processes on token cmk-stress"
"$top/$BUILD/stress/cmk-stress" "$secs" >"$out/threads.log" 2>&1 &
threads=$!
# The processes start with the threads' first sample: cmk-stress's own setup (cmk-keygen, the
# session observer) is not raced with their logins.
i=0
while [ "$i" -lt 600 ] && ! grep -q '^t=  0 s' "$out/threads.log" && kill -0 "$threads" 2>/dev/null; do
    sleep 0.1
    i=$((i + 1))
done
end=$(($(date +%s) + secs))
i=1
while [ "$i" -le "$procs" ]; do
    files "$i" "$end" &
    i=$((i + 1))
done
wait "$threads"
threads_rc=$?
wait

rounds=0 bytes=0 failed=0 i=1
while [ "$i" -le "$procs" ]; do
    if [ -f "$out/p$i.result" ]; then
        read -r r b f <"$out/p$i.result"
    else
        r=0 b=0 f=1
    fi
    rounds=$((rounds + r)) bytes=$((bytes + b)) failed=$((failed + f))
    [ -s "$out/p$i.log" ] && { echo "process $i (first failures):"; head -n 10 "$out/p$i.log"; }
    i=$((i + 1))
done
grep -E '^thread ' "$out/threads.log"
tail -n 1 "$out/threads.log"
result=PASS
[ "$threads_rc" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$rounds" -gt 0 ] || result=FAIL
# SoftHSM 2.6.1's read race (a process starting while another logs in fails C_Login with
# CKR_GENERAL_ERROR) is a KNOWN BUG being fixed in pkcs11/: named, and still a failure.
race=$(cat "$out"/p*.log 2>/dev/null | grep -c 'C_Login .*CKR_GENERAL_ERROR')
[ "$race" -gt 0 ] && race=" ($race of them C_Login CKR_GENERAL_ERROR: SoftHSM's read race, KNOWN BUG)" || race=
echo "stress-processes: $secs s, $procs processes: $rounds round trips ($((bytes / 1048576)) MiB verified), $failed failed$race"
echo "stress: $result (logs in $out)"
[ "$result" = PASS ]
