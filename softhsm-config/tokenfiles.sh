# softhsm-config/tokenfiles.sh: sourced by mktoken.sh and tests/tokens/*.sh. It writes what a
# test or a demo needs to reach a token it made: DIR/openssl.cnf (loads build/cmk.so for that
# token) and DIR/env, which a shell sources to replay a failing test against the same token.
#
# tokenfiles_write DIR BUILD KIND MODULE LABEL [INIT_ARGS]: DIR/user.pin must hold the PIN
# already. KIND names the token (softhsm, nss, p11kit: tests/tokens/); INIT_ARGS (empty: none) is
# what the module's C_Initialize takes as pReserved. Also writes DIR/cmk.conf, the same token for
# the cmk command (docs/cmk.md, "Settings").
tokenfiles_write() {
    _dir=$1 _build=$2 _kind=$3 _module=$4 _label=$5 _args=${6:-}
    {
        echo "# openssl.cnf for the throw-away token in $_dir (softhsm-config/tokenfiles.sh)"
        echo "openssl_conf = openssl_init"
        echo
        echo "[openssl_init]"
        echo "providers = provider_sect"
        echo
        echo "[provider_sect]"
        echo "default = default_sect"
        echo "cmk = cmk_sect"
        echo
        echo "[default_sect]"
        echo "activate = 1"
        echo
        echo "[cmk_sect]"
        echo "module = $_build/cmk.so"
        echo "pkcs11-module-path = $_module"
        # Double quotes keep the init args' own single quotes and spaces (OpenSSL's conf syntax).
        [ -z "$_args" ] || echo "pkcs11-module-init-args = \"$_args\""
        echo "pkcs11-module-token-pin = file:$_dir/user.pin"
        echo "activate = 1"
    } >"$_dir/openssl.cnf"
    {
        echo "module = $_module"
        echo "token = pkcs11:token=$_label"
        echo "pin-source = file:$_dir/user.pin"
        [ -z "$_args" ] || echo "init-args = $_args"
    } >"$_dir/cmk.conf"
    # The init args hold single quotes: each becomes '\'' inside the env file's own quotes.
    _qargs=$(printf '%s' "$_args" | sed "s/'/'\\\\''/g")
    : >"$_dir/env"
    [ ! -f "$_dir/softhsm2.conf" ] || echo "export SOFTHSM2_CONF='$_dir/softhsm2.conf'" >>"$_dir/env"
    cat >>"$_dir/env" <<EOC
export OPENSSL_CONF='$_dir/openssl.cnf'
export CMK_TEST_DIR='$_dir'
export CMK_TEST_MODULE='$_module'
export CMK_TEST_TOKEN='$_label'
export CMK_TEST_PIN_FILE='$_dir/user.pin'
export CMK_TEST_TOKEN_KIND='$_kind'
export CMK_TEST_INIT_ARGS='$_qargs'
export CMK_TEST_CMK_CONF='$_dir/cmk.conf'
EOC
}
