#!/bin/sh
# fuzz_corpus_replay.sh: every libFuzzer harness (fuzz/, docs/fuzzing.md) replays its seed corpus,
# which holds every input that ever found a bug, under AddressSanitizer and UBSan: no fuzzing,
# only the saved inputs, in about a second. `make fuzz` is the fuzzing itself.
. "$(dirname "$0")/lib.sh"

for t in header chunk uri config args; do
    bin=$CMK_TOP/build/fuzz/fuzz_$t
    if [ ! -x "$bin" ]; then
        skip "fuzz_$t replays its corpus" "$bin is not built (make fuzz-build)"
        continue
    fi
    # clang's sanitizer runtime is linked in: no preloaded one (sanitized builds of make check
    # preload gcc's), no openssl.cnf loading a cmk.so built with gcc's, and leak detection on
    check "fuzz_$t replays its $(ls "$CMK_TOP/fuzz/corpus/$t" | wc -l) seeds" \
        env -u LD_PRELOAD -u ASAN_OPTIONS -u OPENSSL_CONF "$bin" -close_fd_mask=3 "$CMK_TOP"/fuzz/corpus/"$t"/*
done
