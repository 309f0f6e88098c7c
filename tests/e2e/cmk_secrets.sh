#!/bin/sh
# cmk_secrets: while cmk works, its keys are in locked memory and it cannot dump core; the PIN
# is never on its command line, in its environment, on its output or in the audit trail.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
pin=$(cat "$CMK_TEST_PIN_FILE")
key=secrets-$$
keygen "$key" --id 5e >/dev/null
head -c 20000000 /dev/urandom >data
cmk encrypt --key "$key" -o data.cmk data 2>err.enc

# A decrypt to a pipe nobody reads stays blocked with its keys in memory: look at it then.
mkfifo pipe
# (the binary itself, not the function, so that $! is cmk's own pid)
"$BUILD_DIR/cmk" --config "$CMK_TEST_CMK_CONF" decrypt -o - data.cmk >pipe 2>err.dec &
pid=$!
exec 3<pipe # open the reading end, read nothing yet
i=0
while [ "$i" -lt 100 ] && ! grep -q 'VmLck:[[:space:]]*[1-9]' "/proc/$pid/status" 2>/dev/null; do
    sleep 0.05
    i=$((i + 1))
done
case "${CMK_TEST_SANITIZE:-}" in
?*) skip "cmk holds its keys in locked memory" "sanitizer runtimes replace the allocator" ;;
*) # its secure heap: ENV_SECRET_HEAP_BYTES (envelope/secret.h), 256 KiB, locked
    check "cmk holds its keys in locked memory (VmLck >= 256 kB)" sh -c \
        "awk '/^VmLck:/ { exit !(\$2 >= 256) }' /proc/$pid/status" ;;
esac
check "cmk cannot dump core" sh -c "grep -E '^Max core file size' /proc/$pid/limits | grep -Eq '[[:space:]]0[[:space:]]+0[[:space:]]'"
check "the PIN is not on cmk's command line" sh -c "! tr '\\0' ' ' </proc/$pid/cmdline | grep -qF '$pin'"
check "the PIN is not in cmk's environment" sh -c "! tr '\\0' '\\n' </proc/$pid/environ | grep -qF '$pin'"
cat <&3 >/dev/null
exec 3<&-
wait "$pid"
check "the PIN is not on cmk's output" sh -c "! grep -qF '$pin' err.enc err.dec"
cmk --pin-source "file:/nonexistent" encrypt --key "$key" data 2>err.nopin
check "nor when the PIN source fails" sh -c "! grep -qF '$pin' err.nopin"
if [ -n "${CMK_AUDIT_LOG:-}" ] && [ -f "$CMK_AUDIT_LOG" ]; then
    check "the PIN is not in the audit trail" sh -c "! grep -qF '$pin' '$CMK_AUDIT_LOG'"
else
    skip "the PIN is not in the audit trail" "no audit log configured for this run"
fi
