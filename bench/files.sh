#!/bin/sh
# bench/files.sh: cmk encrypt/decrypt of one large file in the page cache, against references
# measured in the same run, in interleaved rounds: cp (the kernel copies, copy_file_range), a
# plain read/write loop through user space (dd bs=1M: the floor for any program that looks at
# the bytes), cat (reading alone), age and `openssl cms -aes-256-gcm` (other tools doing the same
# job). Then cmk at several chunk sizes, and 10,000 files of 4 KiB in one call (files per second
# and token operations, against cp of the same files). Every figure is the median of the rounds
# with its spread (min-max); ratios are per round, then the median, so slow phases of a shared
# machine cancel out. Peak memory is GNU time's maximum resident set (%M).
#
# Before every timed command its output is removed and `sync` runs (untimed), so one case's
# writeback does not land in the next one's time; a warm-up round is not counted.
# CMK_BENCH_FILE_MB (default 1024), CMK_BENCH_ROUNDS (default 3), CMK_BENCH_CHUNKS (chunk sizes
# to compare, bytes), CMK_BENCH_FILES (default 10000) tune it; CMK_BENCH_KEEP=DIR keeps each
# round's figures (seconds, peak KiB, CPU seconds per line) there.
set -eu
: "${CMK_BUILD:?run through make bench}"
mb=${CMK_BENCH_FILE_MB:-1024}
rounds=${CMK_BENCH_ROUNDS:-3}
chunks=${CMK_BENCH_CHUNKS:-65536 262144 1048576 4194304 16777216}
nfiles=${CMK_BENCH_FILES:-10000}
d="$CMK_BUILD/bench-files"
rm -rf "$d" && mkdir -p "$d/t"
cat >"$d/cmk" <<EOF
#!/bin/sh
exec "$CMK_BUILD/cmk" --module "$CMK_TEST_MODULE" --token "pkcs11:token=$CMK_TEST_TOKEN" \
    --pin-source "file:$CMK_TEST_PIN_FILE" "\$@"
EOF
chmod +x "$d/cmk"
cmk="$d/cmk"
"$CMK_BUILD/cmk-keygen" --module "$CMK_TEST_MODULE" --token "$CMK_TEST_TOKEN" \
    --pin-source "file:$CMK_TEST_PIN_FILE" --label bench --id 0b --pubout "$d/pub.pem" >/dev/null
age-keygen -o "$d/age.id" 2>/dev/null
recip=$(age-keygen -y "$d/age.id")
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.pem" -subj /CN=b \
    -days 1 2>/dev/null

f="$d/f"
# Written in 1 MiB writes, as cp and cmk write theirs: a file written 4 KiB at a time (head's way)
# sits in the page cache in small folios and costs every reader twice the CPU (measured with cat:
# 0.16 s against 0.08 s per GiB), which would flatter whichever case reads cmk's own output.
head -c $((mb * 1048576)) /dev/urandom >"$f.tmp"
dd if="$f.tmp" of="$f" bs=1M status=none
rm "$f.tmp"
"$cmk" encrypt --key bench -o "$f.cmk" "$f"
age -r "$recip" -o "$f.age" "$f"
cat "$f" "$f.cmk" "$f.age" >/dev/null # into the page cache

# one NAME OUT CMD...: removes OUT, syncs, runs CMD under GNU time; with $record set, appends
# "seconds maxrss_kib cpu_seconds" to $d/t/NAME.
one() {
    name=$1 out=$2
    shift 2
    rm -f "$out"
    sync
    /usr/bin/time -f "%e %M %U %S" -o "$d/time" "$@" >/dev/null 2>"$d/err" || {
        echo "bench: $name failed: $(cat "$d/err")" >&2
        exit 1
    }
    [ -z "$record" ] || awk '{printf "%s %s %.2f\n", $1, $2, $3 + $4}' "$d/time" >>"$d/t/$name"
}
big_round() {
    one cp "$d/o" cp "$f" "$d/o"
    one rw "$d/o" dd if="$f" of="$d/o" bs=1M status=none
    one cmk_enc "$d/o" "$cmk" encrypt --key bench -o "$d/o" "$f"
    one cmk_dec "$d/o" "$cmk" decrypt -o "$d/o" "$f.cmk"
    one cat "$d/o" sh -c "cat '$f' >/dev/null"
    one cmk_enc_null "$d/o" sh -c "'$cmk' encrypt --key bench -o - '$f' >/dev/null"
    one cmk_dec_null "$d/o" sh -c "'$cmk' decrypt -o - '$f.cmk' >/dev/null"
    one age_enc "$d/o" age -r "$recip" -o "$d/o" "$f"
    one age_dec "$d/o" age -d -i "$d/age.id" -o "$d/o" "$f.age"
    one cms_enc "$d/o" openssl cms -encrypt -binary -aes-256-gcm -recip "$d/ca.pem" \
        -keyopt rsa_padding_mode:oaep -in "$f" -outform DER -out "$d/o"
    for c in $chunks; do
        one "enc_$c" "$d/c" "$cmk" encrypt --chunk-size "$c" --key bench -o "$d/c" "$f"
        one "dec_$c" "$d/o" "$cmk" decrypt -o "$d/o" "$d/c"
    done
}
record=
big_round
cmp -s "$f" "$d/o" || { echo "bench: cmk decrypt produced other bytes" >&2; exit 1; }
record=1
for r in $(seq "$rounds"); do big_round; done

# col NAME N: column N of every round; stat: "median min max" of numbers on stdin.
col() { awk -v c="$2" '{print $c}' "$d/t/$1"; }
stat() { sort -n | awk '{v[NR]=$1} END {printf "%s %s %s", v[int((NR+1)/2)], v[1], v[NR]}'; }
# ratio A B [COL]: the median (min-max) over rounds of A's seconds (COL 1: wall clock, 3: CPU)
# over B's in the same round, then "best" A's fastest round over B's (other jobs on the machine
# only ever slow a round down, so the best rounds are the nearest to the programs' own cost).
ratio() {
    paste -d' ' "$d/t/$1" "$d/t/$2" | awk -v c="${3:-1}" '{printf "%.3f\n", $c / $(c + 3)}' |
        stat | awk '{printf "%.2f (%.2f-%.2f)", $1, $2, $3}'
    printf ' best %s' "$(paste -d' ' "$d/t/$1" "$d/t/$2" | awk -v c="${3:-1}" '
        NR == 1 || $c < a {a = $c} NR == 1 || $(c + 3) < b {b = $(c + 3)}
        END {printf "%.2f", a / b}')"
}
echo "1 file of $mb MiB in the page cache, $rounds interleaved rounds (median, min-max)"
printf '%-20s %18s %7s %12s %9s\n' "case" "seconds" "MB/s" "CPU seconds" "peak MiB"
for c in cp rw cat cmk_enc cmk_dec cmk_enc_null cmk_dec_null age_enc age_dec cms_enc; do
    set -- $(col "$c" 1 | stat)
    printf '%-20s %6s (%s-%s) %7.0f %12s %9.1f\n' "$c" "$1" "$2" "$3" "$(awk -v m="$mb" -v s="$1" 'BEGIN {print m * 1.048576 / s}')" \
        "$(col "$c" 3 | stat | cut -d' ' -f1)" "$(col "$c" 2 | sort -n | tail -n1 | awk '{print $1 / 1024}')"
done
echo "ratios, time of the first over time of the second (goal in brackets); the CPU-time"
echo "ratio of the same pair follows, steadier when other jobs share the cores:"
echo "  cmk encrypt file->file / cp           $(ratio cmk_enc cp)  [<= 1.15]  cpu $(ratio cmk_enc cp 3)"
echo "  cmk decrypt file->file / cp           $(ratio cmk_dec cp)  [<= 1.15]  cpu $(ratio cmk_dec cp 3)"
echo "  cmk encrypt file->file / rw loop      $(ratio cmk_enc rw)  cpu $(ratio cmk_enc rw 3)"
echo "  cmk decrypt file->file / rw loop      $(ratio cmk_dec rw)  cpu $(ratio cmk_dec rw 3)"
echo "  rw loop / cp                          $(ratio rw cp)  cpu $(ratio rw cp 3)"
echo "  cmk encrypt ->/dev/null / cat         $(ratio cmk_enc_null cat)  cpu $(ratio cmk_enc_null cat 3)"
echo "  cmk decrypt ->/dev/null / cat         $(ratio cmk_dec_null cat)  cpu $(ratio cmk_dec_null cat 3)"
echo "  age encrypt / cmk encrypt             $(ratio age_enc cmk_enc)  [>= 4]  cpu $(ratio age_enc cmk_enc 3)"
echo "  age decrypt / cmk decrypt             $(ratio age_dec cmk_dec)  [>= 4]  cpu $(ratio age_dec cmk_dec 3)"
echo "  openssl cms encrypt / cmk encrypt     $(ratio cms_enc cmk_enc)  cpu $(ratio cms_enc cmk_enc 3)"
echo "chunk size: file->file time / cp, wall clock and CPU (median, min-max); cmk's peak memory:"
for c in $chunks; do
    printf '  %8s  encrypt %s cpu %s  decrypt %s cpu %s  peak %s MiB\n' "$c" \
        "$(ratio "enc_$c" cp)" "$(ratio "enc_$c" cp 3)" "$(ratio "dec_$c" cp)" \
        "$(ratio "dec_$c" cp 3)" "$(cat "$d/t/enc_$c" "$d/t/dec_$c" | sort -n -k2 | tail -n1 |
            awk '{printf "%.1f", $2 / 1024}')"
done
peak=$(cat "$d"/t/cmk_* "$d"/t/enc_* "$d"/t/dec_* | sort -n -k2 | tail -n1 | awk '{printf "%.1f", $2 / 1024}')
echo "  cmk peak memory, every case above: $peak MiB  [< 64 MiB]"
[ -z "${CMK_BENCH_KEEP:-}" ] || cp -r "$d/t" "$CMK_BENCH_KEEP" # every round's figures
rm -f "$d/o" "$d/c" "$f.age"

mkdir "$d/many" "$d/copy"
i=0
while [ $i -lt "$nfiles" ]; do
    head -c 4096 /dev/urandom >"$d/many/$i"
    i=$((i + 1))
done
sync
# clock: seconds since the epoch, to the nanosecond.
clock() { date +%s.%N; }
t0=$(clock)
cp "$d"/many/* "$d/copy/"
t1=$(clock)
sync
t2=$(clock)
enc=$("$cmk" encrypt --json --key bench "$d"/many/*)
t3=$(clock)
# Decrypt in a folder where nothing was deleted: ext4 skips the inodes of files deleted moments
# ago when it makes new ones (recently_deleted), which cost decrypt 5x in a first version.
mkdir "$d/dec"
mv "$d"/many/*.cmk "$d/dec/"
sync
t4=$(clock)
dec=$("$cmk" decrypt --json "$d"/dec/*.cmk)
t5=$(clock)
rate() { awk -v n="$nfiles" -v a="$1" -v b="$2" 'BEGIN {printf "%.0f", n / (b - a)}'; }
# of_cp A B: cp's time over the time from A to B.
of_cp() { awk -v c="$t1" -v c0="$t0" -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (c - c0) / (b - a)}'; }
echo "$nfiles files of 4 KiB in one call (files per second; cp of the same files: $(rate "$t0" "$t1")):"
echo "  encrypt: $(rate "$t2" "$t3") files/s ($(of_cp "$t2" "$t3") of cp's rate), $enc"
echo "  decrypt: $(rate "$t4" "$t5") files/s ($(of_cp "$t4" "$t5") of cp's rate), $dec"
echo "  [goal: one token operation per call and cache period]"
rm -rf "$d"
