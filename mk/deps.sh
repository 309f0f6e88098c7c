#!/bin/sh
# Installs the Debian packages cmk builds, tests and demos with (and, with the argument 'bench',
# what the benchmarks compare against; with 'fuzz', the fuzzer runtime). Quick when all are present.
set -eu
pkgs="build-essential pkg-config clang libssl-dev openssl libp11-kit-dev p11-kit softhsm2
libcunit1-dev libipsec-mb-dev opensc libnss3 libnss3-tools libjson-c-dev"
# `make bench` compares against these too: `sh mk/deps.sh bench`.
[ "${1:-}" = bench ] && pkgs="$pkgs age time"
# `make fuzz` needs clang's libFuzzer runtime (fuzz/, docs/fuzzing.md): `sh mk/deps.sh fuzz`.
[ "${1:-}" = fuzz ] && pkgs="$pkgs libclang-rt-14-dev"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
