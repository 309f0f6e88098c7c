#!/bin/sh
# faults_cmk_disk: `cmk encrypt`, `decrypt` and `rewrap` when the disk fails them: the output's
# filesystem full (a small tmpfs, a small ext4 image, and `ulimit -f`), the output directory
# read-only, the input cut short or shrinking while it is read. Each time: one line `cmk: ...`, a non-zero exit,
# the input intact (a file being rewrapped unchanged), nothing under the final name and no
# `.NAME.cmk-tmp-XXXXXX` left.
# (docs/testing-faults.md; the mounts need root, else those steps skip.)
. "$(dirname "$0")/lib.sh"
cd "$WORK"
key="disk-$$"
keygen "$key" --id 0a01 >/dev/null ||
    { fail "make the CMK" "cmk-keygen failed"; exit 1; }
head -c 3000000 /dev/urandom >big
sum=$(cksum <big)
if ! cmk encrypt --key "$key" -o big.cmk big 2>err; then
    fail "encrypt the file the disk faults start from" "$(tail -n 1 err)"
    exit 1
fi
csum=$(cksum <big.cmk)

mounts=
cleanup() {
    for m in $mounts; do umount "$m" 2>/dev/null; done
    _finish
}
trap cleanup EXIT

# clean NAME DIR FINAL: after a refused command, nothing under FINAL, no temporary file in DIR,
# the inputs unchanged.
clean() {
    check "$1: nothing under the final name" test ! -e "$3"
    check "$1: no temporary file left" sh -c "if ls -a '$2' | grep cmk-tmp-; then exit 1; fi"
    check "$1: the inputs are intact" sh -c \
        "[ \"\$(cksum <big)\" = '$sum' ] && [ \"\$(cksum <big.cmk)\" = '$csum' ]"
}

# both WHAT DIR WHY [CMD]: encrypt and decrypt into DIR (run by CMD, default cmk) fail with WHY,
# cleanly.
both() {
    refuse "encrypt $1" "^cmk: .*$2/big.cmk: $3" "${4:-cmk}" encrypt --key "$key" -o "$2/big.cmk" big
    clean "encrypt, $1" "$2" "$2/big.cmk"
    refuse "decrypt $1" "^cmk: .*$2/big: $3" "${4:-cmk}" decrypt -o "$2/big" big.cmk
    clean "decrypt, $1" "$2" "$2/big"
}

# The output's filesystem is full.
mkdir small
if mount -t tmpfs -o size=1m tmpfs small 2>/dev/null; then
    mounts="$WORK/small $mounts"
    both "onto a full filesystem" small "write failed: No space left on device$"
else
    skip "full filesystem" "cannot mount a small tmpfs here (not root?)"
fi

# The same on ext4, where cmk reserves the output's blocks before it reads the input (pipeline.h):
# the reservation is refused, not a write.
mkdir ext4
if truncate -s 2m ext4.img && mkfs.ext4 -q -F ext4.img >/dev/null 2>&1 &&
    mount -o loop ext4.img ext4 2>/dev/null; then
    mounts="$WORK/ext4 $mounts"
    both "onto a full ext4 filesystem" ext4 "write failed: No space left on device$"
else
    skip "full ext4 filesystem" "cannot mount an ext4 image here (needs root, mkfs.ext4, a loop device)"
fi

# The file size limit: the kernel sends SIGXFSZ, which kills a process that does not ignore it
# (cmk ignores it since main's 9143c71: the write fails with EFBIG instead).
cmk_limited() {
    (
        ulimit -f 64
        cmk "$@"
    )
}
mkdir lim
both "past the file size limit" lim "write failed: File too large$" cmk_limited

# The output directory is read-only.
mkdir ro
if mount -t tmpfs -o size=1m,ro tmpfs ro 2>/dev/null; then
    mounts="$WORK/ro $mounts"
    both "into a read-only directory" ro "Read-only file system$"
else
    skip "read-only directory" "cannot mount a read-only tmpfs here (not root?)"
fi

# rewrap replaces a file that is the only copy: whatever fails, the file stays as it was.
# rewrapped WHAT DIR WHY [CMD]: rewrap of DIR/big.cmk (a copy of big.cmk) fails with WHY, cleanly.
rewrapped() {
    refuse "rewrap $1" "^cmk: .*$2/big.cmk: $3" "${4:-cmk}" rewrap "$2/big.cmk"
    check "rewrap, $1: the file is unchanged" sh -c "[ \"\$(cksum <'$2/big.cmk')\" = '$csum' ]"
    check "rewrap, $1: no temporary file left" sh -c "if ls -a '$2' | grep cmk-tmp-; then exit 1; fi"
}
mkdir rfull rro rlim
cp big.cmk rlim/
if mount -t tmpfs -o size=4m tmpfs rfull 2>/dev/null && cp big.cmk rfull/; then
    mounts="$WORK/rfull $mounts"
    rewrapped "on a full filesystem" rfull "No space left on device$"
else
    skip "rewrap on a full filesystem" "cannot mount a small tmpfs here (not root?)"
fi
if mount -t tmpfs -o size=4m tmpfs rro 2>/dev/null && cp big.cmk rro/ &&
    mount -o remount,ro rro 2>/dev/null; then
    mounts="$WORK/rro $mounts"
    rewrapped "in a read-only directory" rro "Read-only file system$"
else
    skip "rewrap in a read-only directory" "cannot mount a read-only tmpfs here (not root?)"
fi
rewrapped "past the file size limit" rlim "File too large$" cmk_limited

# The input ends early: a pipe whose writer stops mid-chunk, at a chunk's end, in the header.
mkfifo pipe.cmk
hl=$(od -An -tu1 -j5 -N4 big.cmk | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
for cut in "$((hl + 1500000))" "$((hl + 1048576 + 16))" 100; do
    head -c "$cut" big.cmk >pipe.cmk &
    refuse "decrypt of an input cut at byte $cut" \
        "^cmk: pipe.cmk: .*(truncated|changed)" cmk decrypt -o cut pipe.cmk
    kill "$!" 2>/dev/null # a writer nobody read from
    wait
    clean "decrypt, input cut at $cut" . cut
done

# The input shrinks while it is read (another program truncates it): cmk must not report
# success for bytes that were never the file's content at any one time.
truncate -s 256M shrink
(
    i=0
    # once cmk has written its first chunks, so it is reading
    while ! find . -maxdepth 1 -name '.shrink.cmk.cmk-tmp-*' -size +0c | grep -q . &&
        [ "$i" -lt 500 ]; do
        sleep 0.01
        i=$((i + 1))
    done
    truncate -s 1000000 shrink
) &
if cmk encrypt --key "$key" --threads 1 -o shrink.cmk shrink 2>err; then
    wait
    n=$(cmk decrypt -o - shrink.cmk | wc -c)
    check "encrypt of a shrinking input: success only for a whole file (got $n bytes)" \
        sh -c "[ '$n' -eq 268435456 ] || [ '$n' -eq 1000000 ]"
else
    wait
    check "encrypt of a shrinking input: refused in one line" grep -q "^cmk: shrink: " err
    check "encrypt of a shrinking input: nothing under the final name" test ! -e shrink.cmk
fi
rm -f shrink shrink.cmk
