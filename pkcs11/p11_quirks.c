/*
 * p11_quirks.c - what particular tokens get wrong, as data, each entry with its evidence.
 * Matched on C_GetInfo's manufacturerID and library version, or for what the token itself does,
 * on C_GetTokenInfo's manufacturerID and firmware version (PKCS#11 v2.40 sections 5.4, 5.5).
 */
#include <string.h>
#include "p11_internal.h"
#include "p11_object_internal.h"

static const struct {
    const char *manufacturer;     /* CK_INFO.manufacturerID, blank-padded prefix */
    CK_BYTE max_major, max_minor; /* library versions up to and including this one */
    unsigned flags;
    const char *evidence;
} quirks[] = {
    {"SoftHSM", 2, 6, P11_QUIRK_NO_FINALIZE,
     "SoftHSM 2.6.1 (Debian 12): C_Finalize run from OpenSSL's atexit cleanup crashes the "
     "process (its object store is torn down by its own static destructors first)"},
    {"SoftHSM", 2, 6, P11_QUIRK_OAEP_SHA1_ONLY,
     "SoftHSM 2.6.1: C_DecryptInit with CKM_RSA_PKCS_OAEP and hashAlg CKM_SHA256 returns "
     "CKR_ARGUMENTS_BAD although C_GetMechanismList names CKM_RSA_PKCS_OAEP"},
    {"SoftHSM", 2, 6, P11_QUIRK_FORK_FINALIZE,
     "SoftHSM 2.6.1: in a fork()ed child C_Initialize returns CKR_CRYPTOKI_ALREADY_INITIALIZED "
     "and the parent's sessions still look valid; C_Finalize then C_Initialize gives a clean "
     "state (tests/unit/test_p11_fork.c)"},
    {"SoftHSM", 2, 6, P11_QUIRK_OAEP_NO_LABEL,
     "SoftHSM 2.6.1: C_EncryptInit with an OAEP label (pSourceData) returns CKR_ARGUMENTS_BAD; "
     "C_DecryptInit accepts one but ignores it: a ciphertext made without a label decrypts under "
     "any label, and one made with a label fails with CKR_GENERAL_ERROR "
     "(tests/unit/test_p11_rsa.c, rsa_softhsm_ignores_oaep_label)"},
    {"SoftHSM", 2, 6, P11_QUIRK_DATA_VALUE_FIXED,
     "SoftHSM 2.6.1: C_SetAttributeValue of CKA_VALUE on a CKO_DATA object made with "
     "CKA_MODIFIABLE true returns CKR_ATTRIBUTE_READ_ONLY (PKCS#11 v2.40 4.5 lets it change); "
     "p11_data.c replaces the object instead (tests/unit/test_p11_data.c, "
     "data_value_set_is_read_only)"},
    {"SoftHSM", 2, 6, P11_QUIRK_TOKEN_READ_RACE,
     "SoftHSM 2.6.1 (file backend): while another process generates keys in the token, "
     "C_GetTokenInfo may show no initialized token (P11_R_TOKEN_NOT_FOUND) and C_Login may "
     "return CKR_GENERAL_ERROR or CKR_USER_PIN_NOT_INITIALIZED; a retry 30 ms later succeeds. "
     "Seen with 3 concurrent `cmk key rotate` of one key, about 1 in 4 processes "
     "(tests/e2e/cmk_key.sh, concurrent rotations), and with 6 processes that load cmk and "
     "log in at once (tests/unit/test_provider_lifecycle.c, "
     "processes_started_together_all_unwrap; there C_OpenSession also returned "
     "CKR_TOKEN_NOT_RECOGNIZED, about 1 run in 10 under load). A fork child that initializes the "
     "module again "
     "while its sibling logs in may get CKR_SLOT_ID_INVALID from C_OpenSession on the token's "
     "slot (tests/unit/test_provider_fork.c, children_side_by_side_and_parent_meanwhile, about "
     "1 run in 20). The process keeps seeing no token until the module is initialized again: "
     "p11_token_open and p11_session_get reload it and try again"},
    {"PKCS#11 Kit", 1, 1, P11_QUIRK_TOKEN_READ_RACE,
     "p11-kit 0.24.1's client (and proxy) front another module, SoftHSM among them, whose read "
     "race then shows through: `p11-kit server` runs a SoftHSM per connection, and with 2 "
     "concurrent `cmk key rotate` through p11-kit-client.so one process found no token "
     "(tests/e2e/cmk_key.sh[p11kit] under ASan); a reload reconnects and finds it"},
};

/* The failures P11_QUIRK_TOKEN_READ_RACE causes (evidence above): each passes once the other
 * process has written the token file and this one has reloaded the module. */
static const CK_RV read_race_rvs[] = {P11_R_TOKEN_NOT_FOUND, CKR_GENERAL_ERROR,
                                      CKR_USER_PIN_NOT_INITIALIZED, CKR_SLOT_ID_INVALID,
                                      CKR_TOKEN_NOT_RECOGNIZED};

int p11_quirks_read_race(const p11_module *m, CK_RV rv)
{
    if (!(m->quirks & P11_QUIRK_TOKEN_READ_RACE))
        return 0;
    for (size_t i = 0; i < sizeof(read_race_rvs) / sizeof(read_race_rvs[0]); i++)
        if (rv == read_race_rvs[i])
            return 1;
    return 0;
}

/* The token's own: SoftHSM 2.6.1 reports manufacturerID "SoftHSM project" and firmwareVersion
 * 2.6 in its token info, also when reached through `p11-kit server` and p11-kit-client.so, whose
 * C_GetInfo names p11-kit instead (tests/e2e/rsa_hsm_pkeyutl_oaep.sh[p11kit]: without this entry
 * a blob made without an OAEP label unwrapped under one). */
static const struct {
    const char *manufacturer;     /* CK_TOKEN_INFO.manufacturerID, blank-padded prefix */
    CK_BYTE max_major, max_minor; /* firmware versions up to and including this one */
    unsigned flags;
} token_quirks[] = {
    {"SoftHSM", 2, 6,
     P11_QUIRK_OAEP_SHA1_ONLY | P11_QUIRK_OAEP_NO_LABEL | P11_QUIRK_DATA_VALUE_FIXED},
};

static int version_at_most(const CK_VERSION *v, CK_BYTE major, CK_BYTE minor)
{
    return v->major < major || (v->major == major && v->minor <= minor);
}

unsigned p11_quirks_token_get(const CK_TOKEN_INFO *ti)
{
    unsigned flags = 0;

    for (size_t i = 0; i < sizeof(token_quirks) / sizeof(token_quirks[0]); i++)
        if (memcmp(ti->manufacturerID, token_quirks[i].manufacturer,
                   strlen(token_quirks[i].manufacturer)) == 0 &&
            version_at_most(&ti->firmwareVersion, token_quirks[i].max_major,
                            token_quirks[i].max_minor))
            flags |= token_quirks[i].flags;
    return flags;
}

unsigned p11_quirks_get(const CK_INFO *info)
{
    unsigned flags = 0;

    for (size_t i = 0; i < sizeof(quirks) / sizeof(quirks[0]); i++) {
        size_t n = strlen(quirks[i].manufacturer);
        const CK_VERSION *v = &info->libraryVersion;

        if (memcmp(info->manufacturerID, quirks[i].manufacturer, n) != 0)
            continue;
        if (!version_at_most(v, quirks[i].max_major, quirks[i].max_minor))
            continue;
        flags |= quirks[i].flags;
    }
    return flags;
}
