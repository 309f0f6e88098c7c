#!/bin/sh
# mk/check-install.sh: `make check-install`. Tests cmk as installed, with the installed files
# alone (no build tree on any path): first `make install` into a DESTDIR, then — as root, where
# dpkg is — the Debian package installed with dpkg and removed again at the end. For each:
# `cmk --version`, `openssl list -providers` with the example openssl-cmk.cnf, both man pages
# rendered by `man -l` without a warning, the bash completion, and a key made with the installed
# cmk wrapping and unwrapping through the installed provider (cmk encrypt/decrypt, and
# openssl pkeyutl with the example configuration), on a throw-away embedded token.
# CMK_CHECK_DPKG=0 skips the package part. Closing line: cmk-tests: N passed, N failed, N skipped.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
MODULESDIR=${MODULESDIR:-$(pkg-config --variable=modulesdir libcrypto)}
version=$(cat "$top/VERSION")
work=$(mktemp -d "${TMPDIR:-/tmp}/cmk-check-install.XXXXXX")
passed=0 failed=0 skipped=0 dpkg_installed=0

finish() {
    if [ "$dpkg_installed" = 1 ]; then
        dpkg -r cmk >"$work/dpkg-r.log" 2>&1 || cat "$work/dpkg-r.log" >&2
    fi
    rm -rf "$work"
    echo "cmk-tests: $passed passed, $failed failed, $skipped skipped"
    [ "$failed" -eq 0 ]
}
trap 'finish' EXIT
trap 'exit 1' INT TERM

ok() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1: $2"; failed=$((failed + 1)); }
skip() { echo "SKIP: $1: $2"; skipped=$((skipped + 1)); }
# check NAME COMMAND...: ok when COMMAND succeeds; otherwise fail, showing its output.
check() {
    _name=$1
    shift
    if "$@" >"$work/out" 2>&1; then ok "$_name"; else fail "$_name" "$(tail -n 5 "$work/out")"; fi
}
# same NAME EXPECTED ACTUAL
same() {
    if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "expected '$2', got '$3'"; fi
}

# Runs a command as a user of the installed system would: no build tree, no cmk settings from
# the caller, a home of its own (the embedded token is made there).
installed() {
    env -u CMK_CONFIG -u CMK_AUDIT_LOG -u CMK_PROVIDER -u XDG_DATA_HOME -u SOFTHSM2_CONF \
        -u OPENSSL_CONF -u OPENSSL_MODULES -u LD_LIBRARY_PATH HOME="$home" \
        PATH="$bindir:/usr/bin:/bin" "$@"
}

# smoke LABEL ROOT PREFIX: the installed files under ROOT (a DESTDIR, or "" for the system).
smoke() {
    label=$1 root=$2 prefix=$3
    bindir=$root$prefix/bin
    so=$root$MODULESDIR/cmk.so
    man1="" man7=""
    for f in "$root$prefix"/share/man/man1/cmk.1*; do [ -f "$f" ] && man1=$f; done
    for f in "$root$prefix"/share/man/man7/provider-cmk.7*; do [ -f "$f" ] && man7=$f; done
    cnf=$root$prefix/share/doc/cmk/openssl-cmk.cnf
    comp=$root$prefix/share/bash-completion/completions/cmk
    home=$work/home-$label d=$work/data-$label
    mkdir -p "$home" "$d"
    missing=""
    for f in "$bindir/cmk" "$so" "$man1" "$man7" "$cnf" "$comp"; do
        [ -f "$f" ] || missing="$missing ${f:-(a man page)}"
    done
    if [ -n "$missing" ]; then fail "$label: files installed" "missing:$missing"; else
        ok "$label: files installed ($bindir/cmk, $so, man pages, $cnf, completion)"; fi

    same "$label: cmk --version" "cmk $version" "$(installed cmk --version 2>&1)"

    # The example configuration as installed; a DESTDIR's provider is not yet at its final path.
    sed -e "s|^module = .*|module = $so|" \
        -e "s|^pkcs11-module-token-pin = .*|pkcs11-module-token-pin = file:$home/.local/share/cmk/user.pin|" \
        "$cnf" >"$work/$label.cnf"
    installed env OPENSSL_CONF="$work/$label.cnf" openssl list -providers -verbose \
        >"$work/providers" 2>&1
    if grep -q '^ *cmk$' "$work/providers" && grep -Eq "version: $version\$" "$work/providers"
    then ok "$label: openssl list -providers with openssl-cmk.cnf shows cmk $version"
    else fail "$label: openssl list -providers" "$(cat "$work/providers")"; fi

    for page in "$man1" "$man7"; do
        [ -n "$page" ] || continue
        MANWIDTH=80 MANPAGER=cat man --warnings -l "$page" >"$work/man.out" 2>"$work/man.err"
        if [ -s "$work/man.err" ]; then
            fail "$label: man -l $(basename "$page")" "$(head -n 5 "$work/man.err")"
        elif ! grep -q "cmk $version" "$work/man.out" || ! grep -q '^NAME' "$work/man.out"; then
            fail "$label: man -l $(basename "$page")" "no NAME section or version in the output"
        else ok "$label: man -l $(basename "$page") renders without a warning"; fi
    done

    got=$(bash -c '. "$1"; COMP_WORDS=(cmk key r); COMP_CWORD=2; _cmk; echo "${COMPREPLY[*]}"
                   COMP_WORDS=(cmk encrypt --s); COMP_CWORD=2; _cmk; echo "${COMPREPLY[*]}"
                   complete -p cmk' sh "$comp" 2>&1 | tr '\n' '|')
    same "$label: bash completion" "rotate recover|--sync|complete -F _cmk cmk|" "$got"

    # A key made by the installed cmk, used through the installed provider.
    prov=""
    [ -n "$root" ] && prov=$so
    export CMK_PROVIDER="$prov"
    [ -n "$prov" ] || unset CMK_PROVIDER
    run() { installed env ${CMK_PROVIDER:+CMK_PROVIDER="$CMK_PROVIDER"} "$@"; }
    check "$label: cmk key create (embedded token in a fresh HOME)" run cmk key create smoke
    head -c 300000 /dev/urandom >"$d/plain"
    check "$label: cmk encrypt wraps through the installed provider" \
        run cmk encrypt --key smoke --context app=smoke -o "$d/plain.cmk" "$d/plain"
    check "$label: cmk decrypt unwraps through the installed provider" \
        run cmk decrypt --context app=smoke -o "$d/plain.out" "$d/plain.cmk"
    check "$label: decrypted file is the original" cmp "$d/plain" "$d/plain.out"
    check "$label: cmk audit verify" run cmk audit verify
    if [ -n "$root" ]; then
        if [ -e "$MODULESDIR/cmk.so" ]; then
            skip "$label: cmk looks in $MODULESDIR" "a cmk.so is installed there already"
        elif installed cmk encrypt --key smoke -o "$d/x.cmk" "$d/plain" >"$work/out" 2>&1
        then fail "$label: cmk looks in $MODULESDIR" "encrypted with no provider installed"
        elif grep -q "cannot load the cmk provider from $MODULESDIR/cmk.so" "$work/out"; then
            ok "$label: cmk without CMK_PROVIDER looks for $MODULESDIR/cmk.so"
        else fail "$label: cmk looks in $MODULESDIR" "$(cat "$work/out")"; fi
    fi
    unset CMK_PROVIDER
    # openssl itself, through the example configuration, on the key cmk made.
    head -c 32 /dev/urandom >"$d/dk"
    uri='pkcs11:token=cmk;object=smoke'
    tok="SOFTHSM2_CONF=$home/.local/share/cmk/softhsm2.conf"
    check "$label: openssl pkeyutl -encrypt (wrap) with openssl-cmk.cnf" \
        installed env OPENSSL_CONF="$work/$label.cnf" "$tok" openssl pkeyutl -encrypt \
        -inkey "$uri" -pkeyopt rsa_padding_mode:oaep -in "$d/dk" -out "$d/dk.wrapped"
    check "$label: openssl pkeyutl -decrypt (unwrap) in the token" \
        installed env OPENSSL_CONF="$work/$label.cnf" "$tok" openssl pkeyutl -decrypt \
        -inkey "$uri" -pkeyopt rsa_padding_mode:oaep -in "$d/dk.wrapped" -out "$d/dk.out"
    check "$label: unwrapped key is the original" cmp "$d/dk" "$d/dk.out"
}

cd "$work" || exit 1
# The man pages cover what the sources offer: every flag and verb of cmk, every option the
# provider reads from its openssl.cnf section (a page that falls behind fails here).
man_covers() { # PAGE WORD...: each WORD appears in PAGE (read without roff's \- and fonts)
    _page=$1
    shift
    _lacks=""
    for _w in "$@"; do
        sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$top/man/$_page" | grep -qw -e "$_w" || _lacks="$_lacks $_w"
    done
    if [ -z "$_lacks" ]; then ok "man/$_page names all $# of them"
    else fail "man/$_page covers the sources" "missing:$_lacks"; fi
}
# shellcheck disable=SC2046
man_covers cmk.1 $(cd "$top" && {
    sed -n 's/.*{"\([a-z-]*\)", \(no\|required\)_argument.*/--\1/p' cli/*.c
    sed -n 's/.*flag_value([^"]*"\(--[a-z-]*\)".*/\1/p' cli/main.c
    sed -n 's/.*{"\([a-z]*\)", cmd_[a-z_]*,.*/\1/p' cli/*.c
} | sort -u)
# shellcheck disable=SC2046
man_covers provider-cmk.7 $(cd "$top" &&
    sed -n 's/.*OSSL_PARAM_utf8_ptr("\([a-z0-9-]*\)".*/\1/p' provider/provider.c | sort -u)
same "VERSION is debian/changelog's version" "$version" \
    "$(cd "$top" && dpkg-parsechangelog -SVersion 2>/dev/null)"

# 1. make install into a DESTDIR (default PREFIX), then make uninstall leaves nothing behind.
dest=$work/destdir
if $MAKE --no-print-directory -C "$top" BUILD="$BUILD" DESTDIR="$dest" install \
    >"$work/install.log" 2>&1; then
    ok "make install DESTDIR=... (PREFIX=/usr/local)"
    smoke destdir "$dest" /usr/local
    if $MAKE --no-print-directory -C "$top" BUILD="$BUILD" DESTDIR="$dest" uninstall \
        >"$work/uninstall.log" 2>&1 && [ -z "$(find "$dest" -type f)" ]; then
        ok "make uninstall removes every installed file"
    else fail "make uninstall" "left: $(find "$dest" -type f | tr '\n' ' ')"; fi
else
    fail "make install DESTDIR=..." "$(tail -n 5 "$work/install.log")"
fi

# 2. The Debian package, installed with dpkg and removed again (as root on a throw-away host).
if [ "${CMK_CHECK_DPKG:-1}" = 0 ]; then
    skip "dpkg -i cmk_${version}_*.deb" "CMK_CHECK_DPKG=0"
elif [ "$(id -u)" -ne 0 ] || ! command -v dpkg >/dev/null; then
    skip "dpkg -i cmk_${version}_*.deb" "needs root and dpkg"
elif dpkg-query -W -f='${Status}' cmk 2>/dev/null | grep -q installed; then
    skip "dpkg -i cmk_${version}_*.deb" "a cmk package is installed already: not replacing it"
elif [ -e "$MODULESDIR/cmk.so" ] || [ -e /usr/bin/cmk ]; then
    skip "dpkg -i cmk_${version}_*.deb" "$MODULESDIR/cmk.so or /usr/bin/cmk exists (make install?)"
elif ! $MAKE --no-print-directory -C "$top" BUILD="$BUILD" deb >"$work/deb.log" 2>&1; then
    fail "make deb" "$(tail -n 10 "$work/deb.log")"
else
    for deb in "$top/$BUILD/deb/cmk_${version}_"*.deb; do :; done
    ok "make deb: $(basename "$deb")"
    if dpkg -i "$deb" >"$work/dpkg.log" 2>&1; then
        dpkg_installed=1
        ok "dpkg -i $(basename "$deb")"
        same "dpkg: installed version is VERSION" "$version" "$(dpkg-query -W -f='${Version}' cmk)"
        smoke dpkg "" /usr
        check "dpkg: man finds cmk(1) and provider-cmk(7)" man -w cmk provider-cmk
        if dpkg -r cmk >"$work/dpkg-r.log" 2>&1; then
            dpkg_installed=0
            if [ -e /usr/bin/cmk ] || [ -e "$MODULESDIR/cmk.so" ]; then
                fail "dpkg -r cmk" "files left behind"
            else ok "dpkg -r cmk removes it"; fi
        else fail "dpkg -r cmk" "$(tail -n 5 "$work/dpkg-r.log")"; fi
    else
        fail "dpkg -i $(basename "$deb")" "$(tail -n 5 "$work/dpkg.log")"
    fi
fi
