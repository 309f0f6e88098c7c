#!/bin/sh
# cmk_key_settings: where `cmk key` finds its token and its audit log. With nothing configured
# a new user gets the embedded SoftHSM token under $XDG_DATA_HOME/cmk (random PINs in 0600
# files) and the audit log beside it; a --config file names another module, token, PIN source
# and audit log; the global flags come before the verb and override the file.
. "$(dirname "$0")/lib.sh"

export HOME="$WORK/home" XDG_DATA_HOME="$WORK/xdg"
mkdir -p "$HOME"
unset CMK_CONFIG CMK_AUDIT_LOG SOFTHSM2_CONF
CMK="$CMK_BUILD/cmk"
need key-state "cmk key settings"

check "a new user creates a key in the embedded token at once" "$CMK" key create first
check "the embedded token lives under XDG_DATA_HOME/cmk" test -f "$XDG_DATA_HOME/cmk/softhsm2.conf"
expect_mode() { # expect_mode NAME FILE MODE
    m=$(stat -c %a "$2" 2>/dev/null)
    if [ "$m" = "$3" ]; then ok "$1"; else fail "$1" "mode $m, wanted $3"; fi
}
expect_mode "its user PIN file is 0600" "$XDG_DATA_HOME/cmk/user.pin" 600
expect_mode "its SO PIN file is 0600" "$XDG_DATA_HOME/cmk/so.pin" 600
check "list shows the key" sh -c "\"$CMK\" key list | grep -q '^first '"
check "the audit log is beside the token, and verifies" sh -c \
    "test -f '$XDG_DATA_HOME/cmk/audit.log' && \"$CMK\" audit verify"
check "a second process sees the same token and key" sh -c "\"$CMK\" key show first | grep -q 'status: *enabled'"

# a config file: the throw-away test token, and an audit log of its own
cat >"$WORK/cmk.conf" <<EOC
module = $CMK_TEST_MODULE
token = pkcs11:token=$CMK_TEST_TOKEN
pin-source = file:$CMK_TEST_PIN_FILE
softhsm-conf = $CMK_TEST_DIR/softhsm2.conf
audit-log = $WORK/conf-audit.log
EOC
check "--config names the token" "$CMK" --config "$WORK/cmk.conf" key create "conf-$$"
check "... and the audit log" grep -q "key=conf-$$" "$WORK/conf-audit.log"
check "CMK_CONFIG does the same" env CMK_CONFIG="$WORK/cmk.conf" "$CMK" key show "conf-$$"
check "the key is not in the embedded token" sh -c "! \"$CMK\" key show 'conf-$$' 2>/dev/null"
refuse "a PIN on the command line is refused" "never goes on the command line" \
    "$CMK" --pin 1234 key list
refuse "a config file with an unknown setting is refused (exit 3)" "unknown setting" \
    sh -c "printf 'module = x\ntoken = y\ncolour = blue\n' >'$WORK/bad.conf'; \"$CMK\" --config '$WORK/bad.conf' key list"
refuse "a token that is not there is a config error" "no token matches" \
    "$CMK" --config "$WORK/cmk.conf" --token "pkcs11:token=nope" key list
"$CMK" --config "$WORK/cmk.conf" --token "pkcs11:token=nope" key list >/dev/null 2>&1
rc=$?
if [ "$rc" -eq 3 ]; then ok "... with exit code 3"; else fail "... with exit code 3" "exit $rc"; fi

# cmk hands its settings to the provider in an openssl.cnf of its own: characters that mean
# something there ('#', '$', quotes) must arrive as they are, and a line break must not add a
# setting of its own choosing.
odd="$WORK/odd#\$dir\"q"
mkdir -p "$odd" && ln -s "$CMK_TEST_MODULE" "$odd/module.so"
printf 'secret' >"$WORK/plain"
check "a module path with '#', '\$' and '\"' in it reaches the provider as it is" sh -c \
    "\"$CMK\" --config '$WORK/cmk.conf' --module '$odd/module.so' encrypt --key 'conf-$$' \
        -o '$WORK/plain.cmk' '$WORK/plain' &&
     \"$CMK\" --config '$WORK/cmk.conf' --module '$odd/module.so' decrypt -o - '$WORK/plain.cmk' |
        grep -qx secret"
grep -v '^audit-log' "$WORK/cmk.conf" >"$WORK/noaudit.conf"
nl_log="$WORK/audit
activate = 0.log"
refuse "a setting with a line break is refused before it reaches openssl.cnf" \
    "audit-log setting contains a line break" \
    env CMK_AUDIT_LOG="$nl_log" "$CMK" --config "$WORK/noaudit.conf" encrypt --key "conf-$$" \
    -o "$WORK/nl.cmk" "$WORK/plain"
check "... and writes nothing" test ! -e "$WORK/nl.cmk"
