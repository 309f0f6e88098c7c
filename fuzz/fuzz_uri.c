/*
 * fuzz_uri.c - pkcs11: URIs (pkcs11/p11_uri.c over p11-kit's parser) and PIN sources
 * (pkcs11/p11_pin.c), without any module or token: only the functions of pkcs11/ that are pure
 * (parse, match against token information, object attributes, pin spec) and the PIN resolver,
 * whose file: reads are pointed at an in-memory file holding part of the input.
 *
 * Input: a URI or PIN spec up to the first NUL byte; the bytes after it are the content of the
 * PIN file and of the PIN variable $CMK_FUZZ_PIN.
 *
 * Properties checked beyond "no crash, no sanitizer report":
 *   - a token whose label, serial, manufacturer and model are the URI's own (and slot its
 *     slot-id) matches the URI (p11_token_matches, the check made when a token is reused),
 *     unless the URI holds an attribute p11-kit does not know: then it matches no token;
 *   - a URI that parses formats (p11-kit) to one that parses again;
 *   - a resolved PIN is 1..256 bytes, NUL-terminated at its length, without a line break.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fuzz_util.h"
#include "../pkcs11/p11_internal.h"
#include "../pkcs11/p11_rv.h"

static void pin_check(const char *spec, int allow_literal, int pin_fd)
{
    char path[64], *redirected = NULL, *pin = NULL;
    size_t len = 0;
    CK_RV rv;

    /* file: specs read the in-memory PIN file, whatever path they name */
    if (strncmp(spec, "file:", 5) == 0 || (!allow_literal && spec[0] == '/')) {
        fuzz_fd_path(pin_fd, path, sizeof(path));
        redirected = malloc(strlen(path) + 6);
        strcpy(redirected, "file:");
        strcat(redirected, path);
        lseek(pin_fd, 0, SEEK_SET);
        spec = redirected;
    }
    rv = p11_pin_resolve(spec, allow_literal, &pin, &len);
    if (rv == CKR_OK) {
        FUZZ_CHECK(pin != NULL && len >= 1 && len <= 256 && strlen(pin) == len);
        if (redirected != NULL)
            FUZZ_CHECK(strpbrk(pin, "\r\n") == NULL);
        FUZZ_CHECK(p11_pin_fingerprint(pin, len) != 0);
    } else {
        FUZZ_CHECK(pin == NULL && len == 0 && p11_err_detail()[0] != '\0');
    }
    p11_pin_free(pin, len);
    free(redirected);
}

static int padded_has_nul(const CK_UTF8CHAR *s, size_t n)
{
    return memchr(s, '\0', n) != NULL && s[0] != '\0';
}

/* A token made of the URI's own token attributes must match the URI. */
static void token_self_match(P11KitUri *u, const char *s)
{
    CK_TOKEN_INFO *ti = p11_kit_uri_get_token_info(u);
    CK_SLOT_ID slot = p11_kit_uri_get_slot_id(u);
    p11_token t;

    if (padded_has_nul(ti->label, sizeof(ti->label)) ||
        padded_has_nul(ti->serialNumber, sizeof(ti->serialNumber)) ||
        padded_has_nul(ti->manufacturerID, sizeof(ti->manufacturerID)) ||
        padded_has_nul(ti->model, sizeof(ti->model)))
        return; /* a token's own strings have no NUL in them */
    if (p11_kit_uri_any_unrecognized(u))
        return; /* p11-kit matches nothing then (an unknown attribute fails closed) */
    memset(&t, 0, sizeof(t));
    p11_uri_unpad(t.label, ti->label, sizeof(ti->label));
    p11_uri_unpad(t.serial, ti->serialNumber, sizeof(ti->serialNumber));
    p11_uri_unpad(t.manufacturer, ti->manufacturerID, sizeof(ti->manufacturerID));
    p11_uri_unpad(t.model, ti->model, sizeof(ti->model));
    t.slot = slot != (CK_SLOT_ID)-1 ? slot : 7;
    FUZZ_CHECK(p11_token_matches(&t, s));
}

static void uri_check(const char *s, int pin_fd)
{
    static const char label[32] = "cmk-fuzz                        ";
    CK_SLOT_INFO si;
    CK_TOKEN_INFO ti;
    P11KitUri *u = NULL;
    const CK_ATTRIBUTE *a;
    const char *spec;
    char *formatted = NULL;
    int literal = 0;

    if (p11_uri_parse(s, &u) != CKR_OK) {
        FUZZ_CHECK(u == NULL);
        return;
    }
    memset(&si, ' ', sizeof(si));
    memset(&ti, ' ', sizeof(ti));
    memcpy(ti.label, label, sizeof(ti.label));
    (void)p11_uri_match_token(u, 1, &si, &ti);
    /* what p11_key.c takes from a key's URI */
    if ((a = p11_uri_object_attr(u, CKA_CLASS)) != NULL && a->ulValueLen == sizeof(CK_OBJECT_CLASS))
        (void)*(volatile CK_OBJECT_CLASS *)a->pValue;
    if ((a = p11_uri_object_attr(u, CKA_LABEL)) != NULL && a->ulValueLen > 0)
        FUZZ_CHECK(a->pValue != NULL);
    if ((a = p11_uri_object_attr(u, CKA_ID)) != NULL && a->ulValueLen > 0)
        FUZZ_CHECK(a->pValue != NULL);
    if ((spec = p11_uri_pin(u, &literal)) != NULL)
        pin_check(spec, literal, pin_fd);
    token_self_match(u, s);
    FUZZ_CHECK(p11_kit_uri_format(u, P11_KIT_URI_FOR_ANY, &formatted) == P11_KIT_URI_OK);
    p11_kit_uri_free(u);
    u = NULL;
    FUZZ_CHECK(p11_uri_parse(formatted, &u) == CKR_OK);
    p11_kit_uri_free(u);
    free(formatted);
}

/* $CMK_FUZZ_PIN lives in this buffer, given to putenv once: setenv would keep a copy of every
 * value ever set (glibc), and the heap would grow with every input. */
#define FUZZ_PIN_ENV "CMK_FUZZ_PIN="
static char pin_env[sizeof(FUZZ_PIN_ENV) + 4096];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    strcpy(pin_env, FUZZ_PIN_ENV);
    FUZZ_CHECK(putenv(pin_env) == 0);
    return 0;
}

static void pin_env_set(const char *value)
{
    snprintf(pin_env + strlen(FUZZ_PIN_ENV), sizeof(pin_env) - strlen(FUZZ_PIN_ENV), "%s", value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, '\0', size);
    size_t slen = nul != NULL ? (size_t)(nul - data) : size;
    size_t rest = nul != NULL ? size - slen - 1 : 0;
    char *s = fuzz_str(data, slen), *env = fuzz_str(data + size - rest, rest);
    int pin_fd = fuzz_fd_with(data + size - rest, rest);

    pin_env_set(env);
    uri_check(s, pin_fd);
    if (s[0] != '\0') {
        pin_check(s, 0, pin_fd);
        pin_check(s, 1, pin_fd);
    }
    close(pin_fd);
    free(s);
    free(env);
    return 0;
}
