/*
 * key.c - reading a key (state object + versions) from the token, version ids, times, the
 * public key's fingerprint and PEM, and the audit record of every key operation (key.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include "key.h"
#include "token.h"
#include "../audit/audit.h"
#include "../pkcs11/p11_data.h"

/* need_state: a key without a state object is "no such key"; else it is a key made by another
 * tool, held only to its usage attributes (state: wrap and unwrap, no window, not deleted). */
static int key_get(cmk_cli *cli, const char *name, cli_key *k, int need_state)
{
    p11_token *t = cli_token(cli);
    CK_RV rv;

    memset(k, 0, sizeof(*k));
    if (t == NULL)
        return CMK_EXIT_CONFIG;
    if (!cli_name_ok(name))
        return cli_fail(CMK_EXIT_USAGE, "'%s' is not a key name (1-64 of A-Z a-z 0-9 . _ -)", name);
    snprintf(k->name, sizeof(k->name), "%s", name);
    rv = ks_state_get(t, name, NULL, &k->st);
    if (rv == P11_R_OBJECT_NOT_FOUND && !need_state) {
        k->st.ops = KS_OP_WRAP | KS_OP_UNWRAP;
        rv = CKR_OK;
    }
    if (rv == P11_R_OBJECT_NOT_FOUND)
        return cli_fail(CMK_EXIT_FAIL, "no key named '%s' in token '%s' (see cmk key list)", name,
                        p11_token_label(t));
    if (rv != CKR_OK)
        return cli_fail(cli_exit_for_rv(rv), "%s", p11_err_detail());
    rv = p11_versions_get(t, name, &k->v, &k->nv);
    if (rv != CKR_OK)
        return cli_fail(cli_exit_for_rv(rv), "key '%s': %s", name, p11_err_detail());
    if (k->nv == 0 && !need_state)
        return cli_fail(CMK_EXIT_FAIL, "no key named '%s' in token '%s' (see cmk key list)", name,
                        p11_token_label(t));
    return CMK_EXIT_OK;
}

int cli_key_get(cmk_cli *cli, const char *name, cli_key *k)
{
    return key_get(cli, name, k, 1);
}

int cli_key_get_for_use(cmk_cli *cli, const char *name, cli_key *k)
{
    return key_get(cli, name, k, 0);
}

void cli_key_free(cli_key *k)
{
    p11_versions_free(k->v, k->nv);
    k->v = NULL;
    k->nv = 0;
}

int cli_key_state_put(cmk_cli *cli, cli_key *k)
{
    char buf[KS_LINE_MAX * 2];
    struct timespec ts;
    size_t len;

    clock_gettime(CLOCK_REALTIME, &ts);
    k->st.updated = (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    len = ks_state_format(&k->st, buf, sizeof(buf));
    p11_token *t = cli_token(cli);
    CK_RV rv;

    if (t == NULL)
        return CMK_EXIT_CONFIG;
    if (len == 0)
        return cli_fail(CMK_EXIT_FAIL, "key '%s': its state does not fit its object", k->name);
    rv = p11_data_put(t, KS_APP, k->name, (const uint8_t *)buf, len, 0);
    if (rv != CKR_OK)
        return cli_fail(CMK_EXIT_FAIL, "key '%s': %s", k->name, p11_err_detail());
    return CMK_EXIT_OK;
}

int cli_version_enabled(const p11_version *v)
{
    const p11_key_attrs *a = &v->attrs;

    return a->decrypt || a->unwrap || a->sign || a->encrypt || a->wrap || a->verify;
}

void cli_version_hex(const p11_version *v, char *buf)
{
    for (size_t i = 0; i < v->id_len; i++)
        snprintf(buf + 2 * i, 3, "%02x", v->id[i]);
    buf[2 * v->id_len] = '\0';
}

const p11_version *cli_version_find(const cli_key *k, const char *hex)
{
    char buf[2 * P11_ID_MAX_BYTES + 1];

    if (k->nv == 0)
        return NULL;
    if (hex == NULL)
        return &k->v[k->nv - 1];
    for (size_t i = 0; i < k->nv; i++) {
        cli_version_hex(&k->v[i], buf);
        if (strcasecmp(buf, hex) == 0)
            return &k->v[i];
    }
    return NULL;
}

int cli_version_id_new(uint8_t id[P11_VERSION_ID_BYTES])
{
    struct timespec ts;
    unsigned long long us;

    clock_gettime(CLOCK_REALTIME, &ts);
    us = (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000;
    for (int i = 7; i >= 0; i--, us >>= 8)
        id[i] = (uint8_t)us;
    return RAND_bytes(id + 8, P11_VERSION_ID_BYTES - 8) == 1;
}

long long cli_version_created(const p11_version *v)
{
    unsigned long long us = 0;

    if (v->id_len != P11_VERSION_ID_BYTES)
        return 0;
    for (int i = 0; i < 8; i++)
        us = us << 8 | v->id[i];
    return (long long)(us / 1000000ull);
}

const char *cli_key_status(const cli_key *k, long long now)
{
    int any = 0;

    if (k->st.deleted_at != 0)
        return "deleted";
    for (size_t i = 0; i < k->nv; i++)
        any |= cli_version_enabled(&k->v[i]);
    if (!any)
        return "disabled";
    if (k->st.not_before != 0 && now < k->st.not_before)
        return "not-yet-valid";
    if (k->st.expires != 0 && now >= k->st.expires)
        return "expired";
    return "enabled";
}

static EVP_PKEY *version_pkey(const p11_version *v)
{
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    BIGNUM *n = BN_bin2bn(v->n, (int)v->n_len, NULL), *e = BN_bin2bn(v->e, (int)v->e_len, NULL);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", "provider=default");
    EVP_PKEY *pkey = NULL;

    if (b == NULL || n == NULL || e == NULL || ctx == NULL ||
        !OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, n) ||
        !OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, e) ||
        (params = OSSL_PARAM_BLD_to_param(b)) == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(b);
    BN_free(n);
    BN_free(e);
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

int cli_version_fingerprint(const p11_version *v, char hex[65])
{
    EVP_PKEY *pkey = version_pkey(v);
    unsigned char *der = NULL, md[32];
    int len = pkey != NULL ? i2d_PUBKEY(pkey, &der) : -1, ok;

    ok = len > 0 && EVP_Digest(der, (size_t)len, md, NULL, EVP_sha256(), NULL) == 1;
    for (int i = 0; ok && i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    if (!ok)
        hex[0] = '\0';
    OPENSSL_free(der);
    EVP_PKEY_free(pkey);
    return ok;
}

int cli_version_pem_write(const p11_version *v, FILE *out)
{
    EVP_PKEY *pkey = version_pkey(v);
    int ok = pkey != NULL && PEM_write_PUBKEY(out, pkey) == 1;

    EVP_PKEY_free(pkey);
    return ok;
}

char *cli_audit_path(const cmk_cli *cli)
{
    const char *env = getenv("CMK_AUDIT_LOG"), *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    char *p = NULL;

    if (cli->s.audit_log != NULL)
        return strdup(cli->s.audit_log);
    if (env != NULL && env[0] != '\0')
        return strdup(env);
    if (xdg != NULL && xdg[0] == '/')
        return asprintf(&p, "%s/cmk/audit.log", xdg) < 0 ? NULL : p;
    if (home != NULL && home[0] != '\0')
        return asprintf(&p, "%s/.local/share/cmk/audit.log", home) < 0 ? NULL : p;
    return NULL;
}

char *cli_audit_path_ready(const cmk_cli *cli)
{
    char *path = cli_audit_path(cli), *dir, *slash;

    /* the log's folder is made on first use, like the embedded token's */
    if (path != NULL && (dir = strdup(path)) != NULL) {
        if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
            *slash = '\0';
            for (char *p = dir + 1; *p != '\0'; p++) {
                if (*p == '/') {
                    *p = '\0';
                    mkdir(dir, 0755);
                    *p = '/';
                }
            }
            mkdir(dir, 0700);
        }
        free(dir);
    }
    return path;
}

int cli_audit(cmk_cli *cli, const char *key, const char *version, const char *op,
              const char *outcome, const char *detail)
{
    char *path = cli_audit_path_ready(cli);
    audit_event ev = {key, version, op, outcome, detail};
    int err;

    if (path == NULL)
        return cli_fail(CMK_EXIT_CONFIG, "no audit log: set audit-log in the config, "
                                         "CMK_AUDIT_LOG, or HOME");
    err = audit_log_append(path, &ev);
    if (err != 0)
        cli_fail(CMK_EXIT_FAIL, "audit log %s: %s", path, strerror(err));
    free(path);
    return err == 0 ? CMK_EXIT_OK : CMK_EXIT_FAIL;
}

int cli_key_refuse(cmk_cli *cli, const char *key, const char *version, const char *op,
                   const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cli_fail(CMK_EXIT_REFUSED, "%s", msg);
    cli_audit(cli, key, version, op, "refused", msg);
    return CMK_EXIT_REFUSED;
}

int cli_keys_each(cmk_cli *cli, int (*fn)(cli_key *k, void *arg), void *arg)
{
    p11_token *t = cli_token(cli);
    char **names = NULL;
    size_t n = 0;
    int rc = CMK_EXIT_OK;

    if (t == NULL)
        return CMK_EXIT_CONFIG;
    if (p11_data_labels_get(t, KS_APP, &names, &n) != CKR_OK)
        return cli_fail(CMK_EXIT_FAIL, "listing keys: %s", p11_err_detail());
    for (size_t i = 0; i < n; i++) {
        cli_key k;

        if (cli_key_get(cli, names[i], &k) != CMK_EXIT_OK) {
            rc = CMK_EXIT_FAIL;
            continue;
        }
        if (fn(&k, arg) != CMK_EXIT_OK)
            rc = CMK_EXIT_FAIL;
        cli_key_free(&k);
    }
    p11_labels_free(names, n);
    return rc;
}
