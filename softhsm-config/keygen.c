/*
 * keygen.c - build/cmk-keygen: makes an RSA key pair in a token (for the tests and the demo).
 *   cmk-keygen --module M [--init-args ARGS] [--token LABEL] --pin-source file:P|env:V
 *              --label L [--id HEX] [--bits 2048] [--ops decrypt|sign|decrypt,sign]
 *              [--import KEY.pem|KEY.der] [--pubout FILE]
 * --init-args is the module's C_Initialize pReserved (NSS softokn: configdir=...); empty: none.
 * --import takes an RSA private key (PEM or DER, read with OpenSSL) into the token as a
 * sensitive, non-extractable key; --pubout writes the public key as PEM.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include "../pkcs11/p11_key.h"

struct opts {
    const char *module, *init_args, *token, *pin, *label, *id_hex, *ops_s, *import, *pubout;
    unsigned bits, ops;
    uint8_t id[64];
    size_t id_len;
};

static int usage(void)
{
    fprintf(stderr, "usage: cmk-keygen --module M [--init-args ARGS] [--token LABEL] "
                    "--pin-source file:P|env:V --label L [--id HEX] [--bits 2048] "
                    "[--ops decrypt|sign|decrypt,sign] [--import KEY.pem|KEY.der] "
                    "[--pubout FILE]\n");
    return 2;
}

static int fail(const char *what)
{
    fprintf(stderr, "cmk-keygen: %s\n", what);
    return 1;
}

static int opts_parse(struct opts *o, int argc, char **argv)
{
    static const char *names[] = {"--module", "--init-args", "--token",  "--pin-source", "--label",
                                  "--id",     "--ops",       "--import", "--pubout"};
    const char **dst[] = {&o->module, &o->init_args, &o->token,  &o->pin,   &o->label,
                          &o->id_hex, &o->ops_s,     &o->import, &o->pubout};
    const char *bits = "2048";

    for (int i = 1; i < argc; i += 2) {
        size_t k;

        if (i + 1 >= argc)
            return 0;
        if (strcmp(argv[i], "--bits") == 0) {
            bits = argv[i + 1];
            continue;
        }
        for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
            if (strcmp(argv[i], names[k]) == 0)
                break;
        if (k == sizeof(names) / sizeof(names[0]))
            return 0;
        *dst[k] = argv[i + 1];
    }
    o->bits = (unsigned)strtoul(bits, NULL, 10);
    if (o->ops_s == NULL || strcmp(o->ops_s, "decrypt") == 0)
        o->ops = P11_OP_DECRYPT;
    else if (strcmp(o->ops_s, "sign") == 0)
        o->ops = P11_OP_SIGN;
    else if (strcmp(o->ops_s, "decrypt,sign") == 0 || strcmp(o->ops_s, "sign,decrypt") == 0)
        o->ops = P11_OP_DECRYPT | P11_OP_SIGN;
    else
        return 0;
    if (o->id_hex != NULL && strlen(o->id_hex) % 2 != 0)
        return 0;
    for (size_t i = 0; o->id_hex != NULL && o->id_hex[2 * i] != '\0'; i++) {
        unsigned v;

        if (i >= sizeof(o->id) || sscanf(o->id_hex + 2 * i, "%2x", &v) != 1)
            return 0;
        o->id[o->id_len++] = (uint8_t)v;
    }
    return o->module != NULL && o->pin != NULL && o->label != NULL &&
           (strncmp(o->pin, "file:", 5) == 0 || strncmp(o->pin, "env:", 4) == 0);
}

/* pkcs11: URI text for a path attribute value (RFC 7512 section 2.3: percent-encoding). */
static void uri_append(char *dst, size_t cap, const char *attr, const uint8_t *v, size_t len,
                       int text)
{
    size_t n = strlen(dst);

    n += (size_t)snprintf(dst + n, cap - n, "%s%s=", n > 7 ? ";" : "", attr);
    for (size_t i = 0; i < len && n + 4 < cap; i++) {
        if (text && (isalnum(v[i]) || strchr("-._~", v[i]) != NULL))
            dst[n++] = (char)v[i], dst[n] = '\0';
        else
            n += (size_t)snprintf(dst + n, cap - n, "%%%02x", v[i]);
    }
}

/* The RSA components of an OpenSSL key, as big-endian buffers (freed by components_free). */
static uint8_t *bn_get(const EVP_PKEY *pk, const char *name, size_t *len)
{
    BIGNUM *bn = NULL;
    uint8_t *buf = NULL;

    if (EVP_PKEY_get_bn_param(pk, name, &bn) && (buf = OPENSSL_malloc(BN_num_bytes(bn) + 1)))
        *len = (size_t)BN_bn2bin(bn, buf);
    BN_clear_free(bn);
    return buf;
}

static int key_import(p11_token *t, const struct opts *o)
{
    p11_rsa_components c = {0};
    EVP_PKEY *pk = NULL;
    BIO *b = BIO_new_file(o->import, "rb");
    CK_RV rv = P11_R_BAD_ARGUMENT;

    if (b != NULL)
        pk = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    if (b != NULL && pk == NULL && BIO_reset(b) == 0)
        pk = d2i_PrivateKey_bio(b, NULL);
    BIO_free(b);
    if (pk == NULL || !EVP_PKEY_is_a(pk, "RSA")) {
        fprintf(stderr, "cmk-keygen: %s is not an RSA private key (PEM or DER)\n", o->import);
        EVP_PKEY_free(pk);
        return 0;
    }
    c.n = bn_get(pk, OSSL_PKEY_PARAM_RSA_N, &c.n_len);
    c.e = bn_get(pk, OSSL_PKEY_PARAM_RSA_E, &c.e_len);
    c.d = bn_get(pk, OSSL_PKEY_PARAM_RSA_D, &c.d_len);
    c.p = bn_get(pk, OSSL_PKEY_PARAM_RSA_FACTOR1, &c.p_len);
    c.q = bn_get(pk, OSSL_PKEY_PARAM_RSA_FACTOR2, &c.q_len);
    c.dp = bn_get(pk, OSSL_PKEY_PARAM_RSA_EXPONENT1, &c.dp_len);
    c.dq = bn_get(pk, OSSL_PKEY_PARAM_RSA_EXPONENT2, &c.dq_len);
    c.qi = bn_get(pk, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, &c.qi_len);
    EVP_PKEY_free(pk);
    rv = p11_key_import(t, o->label, o->id, o->id_len, &c, o->ops);
    if (rv != CKR_OK)
        fprintf(stderr, "cmk-keygen: %s\n", p11_err_detail());
    OPENSSL_free((void *)c.n);
    OPENSSL_free((void *)c.e);
    OPENSSL_clear_free((void *)c.d, c.d_len);
    OPENSSL_clear_free((void *)c.p, c.p_len);
    OPENSSL_clear_free((void *)c.q, c.q_len);
    OPENSSL_clear_free((void *)c.dp, c.dp_len);
    OPENSSL_clear_free((void *)c.dq, c.dq_len);
    OPENSSL_clear_free((void *)c.qi, c.qi_len);
    return rv == CKR_OK;
}

/* Writes the key's public half as a PEM SubjectPublicKeyInfo. */
static int pub_write(p11_token *t, const struct opts *o)
{
    char uri[512] = "pkcs11:";
    p11_key *k = NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *pk = NULL;
    BIGNUM *n = NULL, *e = NULL;
    const uint8_t *v;
    size_t len;
    BIO *b = NULL;
    int ok = 0;

    uri_append(uri, sizeof(uri), "object", (const uint8_t *)o->label, strlen(o->label), 1);
    if (o->id_len > 0)
        uri_append(uri, sizeof(uri), "id", o->id, o->id_len, 0);
    if (p11_key_find(t, uri, &k) != CKR_OK) {
        fprintf(stderr, "cmk-keygen: %s\n", p11_err_detail());
        goto end;
    }
    v = p11_key_modulus(k, &len);
    n = BN_bin2bn(v, (int)len, NULL);
    v = p11_key_public_exponent(k, &len);
    e = BN_bin2bn(v, (int)len, NULL);
    if (bld == NULL || ctx == NULL || n == NULL || e == NULL ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
        (params = OSSL_PARAM_BLD_to_param(bld)) == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) <= 0 ||
        (b = BIO_new_file(o->pubout, "w")) == NULL || !PEM_write_bio_PUBKEY(b, pk)) {
        fprintf(stderr, "cmk-keygen: writing the public key to %s failed\n", o->pubout);
        goto end;
    }
    ok = 1;
end:
    BIO_free(b);
    EVP_PKEY_free(pk);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    p11_key_free(k);
    return ok;
}

int main(int argc, char **argv)
{
    struct opts o = {0};
    char uri[256] = "pkcs11:";
    p11_module *m = NULL;
    p11_token *t = NULL;
    CK_RV rv;
    int ok;

    if (!opts_parse(&o, argc, argv))
        return usage();
    if (o.token != NULL)
        uri_append(uri, sizeof(uri), "token", (const uint8_t *)o.token, strlen(o.token), 1);
    rv = p11_module_get(o.module,
                        o.init_args != NULL && o.init_args[0] != '\0' ? o.init_args : NULL, &m);
    if (rv == CKR_OK)
        rv = p11_token_open(m, uri, o.pin, &t);
    if (rv != CKR_OK) {
        p11_module_put(m);
        return fail(p11_err_detail());
    }
    if (o.import != NULL) {
        ok = key_import(t, &o);
    } else {
        rv = p11_key_generate(t, o.label, o.id, o.id_len, o.bits, o.ops);
        ok = rv == CKR_OK;
        if (!ok)
            fprintf(stderr, "cmk-keygen: %s\n", p11_err_detail());
    }
    if (ok && o.pubout != NULL)
        ok = pub_write(t, &o);
    if (ok)
        printf("cmk-keygen: key '%s' %s in token '%s'\n", o.label,
               o.import != NULL ? "imported" : "generated", p11_token_label(t));
    p11_token_free(t);
    p11_module_put(m);
    return ok ? 0 : 1;
}
