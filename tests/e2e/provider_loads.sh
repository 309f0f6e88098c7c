#!/bin/sh
# provider_loads: openssl.cnf loads build/cmk.so and `openssl list -providers` shows it as cmk.
. "$(dirname "$0")/lib.sh"

check "openssl list -providers shows cmk" sh -c \
    'openssl list -providers | grep -A3 "^  cmk$" | grep -q "status: active"'
check "the provider reports its version" sh -c \
    "openssl list -providers | grep -A3 '^  cmk\$' | grep -q 'version: $(cat "$CMK_TOP/VERSION")'"
