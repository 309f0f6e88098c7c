#!/bin/sh
# bench/files.sh: cmk encrypt/decrypt of one large file in the page cache, against cp and cat
# (the floor: moving the bytes), age and `openssl cms -aes-256-gcm` (other tools doing the same
# job), measured in the same run in interleaved rounds; medians and peak memory (GNU time's
# maximum resident set). Then 10,000 files of 4 KiB in one call: files per second and token
# operations. CMK_BENCH_FILE_MB (default 1024) and CMK_BENCH_ROUNDS (default 5) tune it.
set -eu
: "${CMK_BUILD:?run through make bench}"
mb=${CMK_BENCH_FILE_MB:-1024}
rounds=${CMK_BENCH_ROUNDS:-5}
d="$CMK_BUILD/bench-files"
rm -rf "$d" && mkdir -p "$d"
cmk() { "$CMK_BUILD/cmk" --module "$CMK_TEST_MODULE" --token "pkcs11:token=$CMK_TEST_TOKEN" \
    --pin-source "file:$CMK_TEST_PIN_FILE" "$@"; }
"$CMK_BUILD/cmk-keygen" --module "$CMK_TEST_MODULE" --token "$CMK_TEST_TOKEN" \
    --pin-source "file:$CMK_TEST_PIN_FILE" --label bench --id 0b --pubout "$d/pub.pem" >/dev/null
age-keygen -o "$d/age.id" 2>/dev/null
recip=$(age-keygen -y "$d/age.id")
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.pem" -subj /CN=b \
    -days 1 2>/dev/null

head -c $((mb * 1048576)) /dev/urandom >"$d/f"
cat "$d/f" >/dev/null # into the page cache
cmk encrypt --key bench -o "$d/f.cmk" "$d/f"

# one NAME CMD...: runs CMD under GNU time, appends "seconds maxrss_kib" to $d/NAME.
one() {
    name=$1
    shift
    /usr/bin/time -f "%e %M" -o "$d/time.$$" "$@" >/dev/null 2>&1 || {
        echo "bench: $name failed" >&2
        return 1
    }
    cat "$d/time.$$" >>"$d/$name"
}
cases="cp cmk_enc cmk_dec cat cmk_dec_null cmk_enc_null age_enc age_dec cms_enc"
for r in $(seq "$rounds"); do
    rm -f "$d/f.cp" "$d/f.out" "$d/f.cmk2" "$d/f.age" "$d/f.age.out" "$d/f.cms"
    one cp cp "$d/f" "$d/f.cp"
    one cmk_enc "$CMK_BUILD/cmk" --module "$CMK_TEST_MODULE" --token "pkcs11:token=$CMK_TEST_TOKEN" \
        --pin-source "file:$CMK_TEST_PIN_FILE" encrypt --key bench -o "$d/f.cmk2" "$d/f"
    one cmk_dec "$CMK_BUILD/cmk" --module "$CMK_TEST_MODULE" --token "pkcs11:token=$CMK_TEST_TOKEN" \
        --pin-source "file:$CMK_TEST_PIN_FILE" decrypt -o "$d/f.out" "$d/f.cmk"
    one cat sh -c "cat '$d/f' >/dev/null"
    one cmk_dec_null sh -c "'$CMK_BUILD/cmk' --module '$CMK_TEST_MODULE' \
        --token 'pkcs11:token=$CMK_TEST_TOKEN' --pin-source 'file:$CMK_TEST_PIN_FILE' \
        decrypt -o - '$d/f.cmk' >/dev/null"
    one cmk_enc_null sh -c "'$CMK_BUILD/cmk' --module '$CMK_TEST_MODULE' \
        --token 'pkcs11:token=$CMK_TEST_TOKEN' --pin-source 'file:$CMK_TEST_PIN_FILE' \
        encrypt --key bench -o - '$d/f' >/dev/null"
    one age_enc age -r "$recip" -o "$d/f.age" "$d/f"
    one age_dec age -d -i "$d/age.id" -o "$d/f.age.out" "$d/f.age"
    one cms_enc openssl cms -encrypt -binary -aes-256-gcm -recip "$d/ca.pem" \
        -keyopt rsa_padding_mode:oaep -in "$d/f" -outform DER -out "$d/f.cms"
done
cmp -s "$d/f" "$d/f.out" || { echo "bench: cmk decrypt produced other bytes" >&2; exit 1; }

med() { sort -n "$d/$1" | awk -v col="$2" '{v[NR]=$col} END {print v[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo "1 file of $mb MiB in the page cache, median of $rounds interleaved rounds (2 cores, shared)"
printf '%-34s %8s %9s %10s\n' "case" "seconds" "MB/s" "peak MiB"
for c in $cases; do
    s=$(med "$c" 1)
    printf '%-34s %8s %9s %10s\n' "$c" "$s" "$(awk -v s="$s" -v m="$mb" 'BEGIN {printf "%.0f", m * 1.048576 / s}')" \
        "$(awk -v k="$(med "$c" 2)" 'BEGIN {printf "%.1f", k / 1024}')"
done
echo "ratios (goal in brackets):"
echo "  cmk encrypt file->file / cp            $(ratio "$(med cmk_enc 1)" "$(med cp 1)")  [<= 1.15]"
echo "  cmk decrypt file->file / cp            $(ratio "$(med cmk_dec 1)" "$(med cp 1)")  [<= 1.15]"
echo "  cmk decrypt ->/dev/null / cat          $(ratio "$(med cmk_dec_null 1)" "$(med cat 1)")"
echo "  age encrypt / cmk encrypt              $(ratio "$(med age_enc 1)" "$(med cmk_enc 1)")  [>= 4]"
echo "  age decrypt / cmk decrypt              $(ratio "$(med age_dec 1)" "$(med cmk_dec 1)")  [>= 4]"
echo "  openssl cms encrypt / cmk encrypt      $(ratio "$(med cms_enc 1)" "$(med cmk_enc 1)")"
echo "  cmk peak memory                        $(awk -v k="$(sort -n -k2 "$d/cmk_enc" | tail -n1 | cut -d' ' -f2)" 'BEGIN {printf "%.1f MiB", k / 1024}')  [< 64 MiB]"

mkdir "$d/many"
i=0
while [ $i -lt 10000 ]; do
    head -c 4096 /dev/urandom >"$d/many/$i"
    i=$((i + 1))
done
start=$(date +%s.%N)
enc=$(cmk encrypt --json --key bench "$d"/many/*)
mid=$(date +%s.%N)
find "$d/many" -type f ! -name '*.cmk' -delete
mid2=$(date +%s.%N)
dec=$(cmk decrypt --json "$d"/many/*.cmk)
end=$(date +%s.%N)
echo "10,000 files of 4 KiB in one call:"
echo "  encrypt: $(awk -v a="$start" -v b="$mid" 'BEGIN {printf "%.0f files/s", 10000 / (b - a)}'), $enc"
echo "  decrypt: $(awk -v a="$mid2" -v b="$end" 'BEGIN {printf "%.0f files/s", 10000 / (b - a)}'), $dec"
rm -rf "$d"
