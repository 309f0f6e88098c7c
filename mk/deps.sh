#!/bin/sh
# Installs the Debian packages cmk builds, tests and demos with (and, with the argument 'bench',
# what the benchmarks compare against; with 'deb', what packaging and the install test need).
# Quick when all are present.
set -eu
pkgs="build-essential pkg-config clang libssl-dev openssl libp11-kit-dev p11-kit softhsm2
libcunit1-dev libipsec-mb-dev opensc libnss3 libnss3-tools p11-kit-modules libjson-c-dev
libclang-rt-14-dev"
# The end-to-end suite runs against three tokens (tests/tokens/): SoftHSM, NSS softokn (libnss3,
# its database made with certutil from libnss3-tools) and SoftHSM behind `p11-kit server`
# (p11-kit), reached through p11-kit-client.so (p11-kit-modules).
# `make bench` compares against these too: `sh mk/deps.sh bench`.
[ "${1:-}" = bench ] && pkgs="$pkgs age time"
# libclang-rt-14-dev is clang's libFuzzer runtime: `make check` replays the fuzz corpora
# (fuzz/, docs/fuzzing.md), and `make fuzz` runs the fuzzers.
# `make deb` and `make check-install` build the Debian package: `sh mk/deps.sh deb`.
[ "${1:-}" = deb ] && pkgs="$pkgs debhelper dpkg-dev man-db groff-base"
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
