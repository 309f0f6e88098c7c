/*
 * p11_uri.c - pkcs11: URIs (RFC 7512), parsed and matched by p11-kit.
 */
#include <stdio.h>
#include <string.h>
#include <p11-kit/p11-kit.h>
#include "p11_internal.h"

/* The first path attribute of s p11-kit does not know, as "name" (at most cap-1 bytes), found by
 * parsing each attribute alone: p11-kit stays the one list of what RFC 7512 names. */
static void uri_unknown_find(const char *s, char *name, size_t cap)
{
    const char *p = strchr(s, ':'), *end;
    char one[256];
    P11KitUri *u = p11_kit_uri_new();

    snprintf(name, cap, "?");
    for (p = p != NULL ? p + 1 : s; u != NULL && *p != '\0' && *p != '?'; p = end + (*end == ';')) {
        end = p + strcspn(p, ";?");
        snprintf(one, sizeof(one), "pkcs11:%.*s", (int)(end - p), p);
        if (p11_kit_uri_parse(one, P11_KIT_URI_FOR_ANY, u) == P11_KIT_URI_OK &&
            p11_kit_uri_any_unrecognized(u)) {
            snprintf(name, cap, "%.*s", (int)strcspn(p, "=;?"), p);
            break;
        }
    }
    p11_kit_uri_free(u);
}

CK_RV p11_uri_parse(const char *s, P11KitUri **out)
{
    P11KitUri *uri = p11_kit_uri_new();
    int r;

    *out = NULL;
    if (uri == NULL)
        return p11_err_set(P11_R_OUT_OF_MEMORY, "URI");
    if (s == NULL || s[0] == '\0')
        s = "pkcs11:";
    r = p11_kit_uri_parse(s, P11_KIT_URI_FOR_ANY, uri);
    if (r != P11_KIT_URI_OK) {
        p11_kit_uri_free(uri);
        return p11_err_set(P11_R_BAD_URI, "parsing URI '%s' (%s)", s, p11_kit_uri_message(r));
    }
    /* p11-kit keeps an unknown attribute and then matches nothing: a misspelling ("objet=")
     * would read as "no such key". Say what it is instead. */
    if (p11_kit_uri_any_unrecognized(uri)) {
        char name[64];

        uri_unknown_find(s, name, sizeof(name));
        p11_kit_uri_free(uri);
        return p11_err_set(P11_R_BAD_URI,
                           "URI '%s': unknown attribute '%s' (RFC 7512 names "
                           "token, object, id, type, serial, pin-source...)",
                           s, name);
    }
    *out = uri;
    return CKR_OK;
}

int p11_uri_match_token(P11KitUri *uri, CK_SLOT_ID slot, const CK_SLOT_INFO *si,
                        const CK_TOKEN_INFO *ti)
{
    CK_SLOT_ID want = p11_kit_uri_get_slot_id(uri);

    if (want != (CK_SLOT_ID)-1 && want != slot)
        return 0;
    if (si != NULL && !p11_kit_uri_match_slot_info(uri, (CK_SLOT_INFO *)si))
        return 0;
    return p11_kit_uri_match_token_info(uri, (CK_TOKEN_INFO *)ti);
}

const CK_ATTRIBUTE *p11_uri_object_attr(P11KitUri *uri, CK_ATTRIBUTE_TYPE type)
{
    return p11_kit_uri_get_attribute(uri, type);
}

const char *p11_uri_pin(P11KitUri *uri, int *literal)
{
    const char *v = p11_kit_uri_get_pin_value(uri);

    *literal = v != NULL;
    return v != NULL ? v : p11_kit_uri_get_pin_source(uri);
}

void p11_uri_unpad(char *dst, const CK_UTF8CHAR *src, size_t src_len)
{
    size_t n = p11_kit_space_strlen(src, src_len);

    memcpy(dst, src, n);
    dst[n] = '\0';
}
