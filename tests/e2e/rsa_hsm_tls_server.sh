#!/bin/sh
# rsa_hsm_tls_server: `openssl s_server -key pkcs11:... -cert ...` signs its TLS handshakes
# with a key in the token; a plain `openssl s_client` (no cmk) checks the certificate and the
# signature: TLS 1.3 (RSA-PSS), TLS 1.2 with ECDHE-RSA (RSA-PSS, and PKCS#1 v1.5 when the client
# offers only that), and `s_client -key pkcs11:...` with a client certificate. A line goes to the server and comes back reversed (-rev). The server
# listens on 127.0.0.1, on a port the kernel picks (-accept 0), serves one connection and is
# stopped by its own pid. Both orders of providers in openssl.cnf.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
CMK_CNF=${OPENSSL_CONF:?the test token env names the openssl.cnf that loads cmk}
key="pkcs11:token=$CMK_TEST_TOKEN;object=tls-$$"
keygen "tls-$$" --ops sign || { fail "make a signing key in the token" "cmk-keygen failed"; exit 1; }
openssl req -new -x509 -key "$key" -subj /CN=localhost -days 1 -out cert.pem 2>req.log ||
    { fail "server certificate signed by the token key" "$(tail -n 3 req.log)"; exit 1; }

SRV_CNF=$CMK_CNF CLI_CNF=/dev/null SRV_EXTRA= CLI_EXTRA= srv_pid=
# server PROTOCOL-ARGS...: sets srv_pid and port; 1 when the server does not come up.
server() {
    : >srv.out # now: the background job's own redirection may come late
    OPENSSL_CONF=$SRV_CNF timeout 30 openssl s_server -accept 127.0.0.1:0 -naccept 1 -rev \
        -key "$key" -cert cert.pem $SRV_EXTRA "$@" >srv.out 2>&1 &
    srv_pid=$!
    port=
    for _i in $(seq 100); do
        port=$(sed -n 's/^ACCEPT .*:\([0-9][0-9]*\)$/\1/p' srv.out)
        [ -n "$port" ] && return 0
        kill -0 "$srv_pid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}
server_stop() {
    [ -n "$srv_pid" ] || return 0
    kill "$srv_pid" 2>/dev/null
    wait "$srv_pid" 2>/dev/null
    srv_pid=
}
trap 'server_stop; _finish' EXIT

# session NAME SIGTYPE PROTOCOL-ARGS... [-- CLIENT-ONLY-ARGS...]: ok when the client verified
# the certificate, saw the server sign with SIGTYPE, and the reversed line came back.
session() {
    _name=$1 _sig=$2
    shift 2
    _s= _c=
    while [ $# -gt 0 ] && [ "$1" != -- ]; do _s="$_s $1" _c="$_c $1"; shift; done
    [ $# -gt 0 ] && shift
    _c="$_c $*"
    # shellcheck disable=SC2086 # the protocol arguments are meant to split
    if ! server $_s; then
        fail "$_name" "s_server did not start: $(tail -n 3 srv.out)"
        server_stop
        return
    fi
    # shellcheck disable=SC2086
    printf 'hello cmk\nCLOSE\n' | OPENSSL_CONF=$CLI_CNF timeout 20 openssl s_client \
        -connect "127.0.0.1:$port" -CAfile cert.pem -verify_return_error -ign_eof -brief \
        $CLI_EXTRA $_c >cli.out 2>&1
    server_stop
    if ! grep -q '^Verification: OK$' cli.out; then
        fail "$_name" "certificate not verified: $(tail -n 3 cli.out)"
    elif ! grep -q "^Signature type: $_sig\$" cli.out; then
        fail "$_name" "no $_sig signature: $(grep -E 'Signature|error' cli.out | head -n 3)"
    elif ! grep -q '^kmc olleh$' cli.out; then
        fail "$_name" "the data did not come back: $(tail -n 3 cli.out)"
    else
        ok "$_name"
    fi
}

session "TLS 1.3: the token signs the handshake (RSA-PSS), data both ways" RSA-PSS -tls1_3
session "TLS 1.2 ECDHE-RSA: the token signs the key exchange (RSA-PSS)" RSA-PSS \
    -tls1_2 -cipher ECDHE-RSA-AES256-GCM-SHA384
session "TLS 1.2 ECDHE-RSA with PKCS#1 v1.5 signatures only" RSA \
    -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 -- -sigalgs RSA+SHA256:RSA+SHA384
check "the server said nothing of errors" sh -c "! grep -qi error srv.out"

# s_client -key pkcs11:...: the client's CertificateVerify is signed by the token too; the
# server insists on a client certificate it can verify (-Verify 1).
CLI_CNF=$CMK_CNF SRV_EXTRA="-Verify 1 -verify_return_error -CAfile cert.pem"
CLI_EXTRA="-cert cert.pem -key $key"
session "TLS 1.3 client certificate: s_client signs with a token key" RSA-PSS -tls1_3
check "... the server verified the client's certificate and its RSA-PSS signature" sh -c \
    "grep -q '^Peer certificate: CN = localhost' srv.out && grep -q '^Signature type: RSA-PSS' srv.out && grep -q '^Verification: OK' srv.out"
CLI_CNF=/dev/null SRV_EXTRA= CLI_EXTRA=

# The same with cmk listed before the default provider in openssl.cnf: libssl's own RSA work
# (the client's, the server's key share and certificate checks) must not land in cmk.
awk '/^default = default_sect/ { d = $0; next } /^cmk = cmk_sect/ { print; print d; next } { print }' \
    "$CMK_CNF" >cmk-first.cnf
SRV_CNF=$WORK/cmk-first.cnf
session "cmk listed first: TLS 1.3 signed by the token" RSA-PSS -tls1_3
session "cmk listed first: TLS 1.2 ECDHE-RSA signed by the token" RSA-PSS \
    -tls1_2 -cipher ECDHE-RSA-AES256-GCM-SHA384
