#!/bin/sh
# bench/keystate.sh: what the provider's key-state check costs on a token holding many objects:
# the read of a key's state object by search (the reference: C_FindObjects by class, application
# and label, then its value, what every check did before) against the read by its remembered
# handle (one C_GetAttributeValue). Run by bench/run.sh (make bench). KEYSTATE_FILL (300) data
# objects are put into the token first; each figure is the mean of KEYSTATE_READS (50) reads,
# best of KEYSTATE_ROUNDS (5) rounds. See docs/benchmarks.md, "Key state check".
set -eu
: "${CMK_TEST_DIR:?run through make bench}"
"$CMK_BUILD/bench/keystate" "${KEYSTATE_FILL:-300}" "${KEYSTATE_READS:-50}" \
    "${KEYSTATE_ROUNDS:-5}"
