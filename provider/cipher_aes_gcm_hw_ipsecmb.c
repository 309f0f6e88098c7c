/*
 * cipher_aes_gcm_hw_ipsecmb.c - the GCM back end on intel-ipsec-mb (x86-64 only).
 *
 * The library is opened with dlopen at the first use rather than linked, so that cmk.so still
 * loads (and offers its PKCS#11 operations) on a host without libIPSec_MB.so.1; it then simply
 * offers no AES-GCM. init_mb_mgr_auto picks the best code path the CPU has (AVX-512/VAES,
 * AVX2, AVX, SSE); we copy the GCM function pointers it chose for each key size and free the
 * manager: the direct GCM API touches only the key and context blocks passed to it, so
 * contexts share nothing mutable.
 */
#define LINUX /* intel-ipsec-mb.h aligns struct gcm_key_data to 64 bytes only under LINUX */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <intel-ipsec-mb.h>
#include "cipher_aes_gcm_hw.h"

#define IMB_SONAME "libIPSec_MB.so.1"

/* The GCM entry points init_mb_mgr_auto chose, for one key size. */
typedef struct gcm_fns {
    aes_gcm_pre_t pre;
    aes_gcm_init_t init;
    aes_gcm_init_var_iv_t init_var_iv;
    aes_gcm_enc_dec_update_t encrypt_update;
    aes_gcm_enc_dec_update_t decrypt_update;
    aes_gcm_enc_dec_finalize_t final;
} GCM_FNS;

/* One context block: key schedule and GHASH tables, the running message, and the functions
 * for its key size (a pointer to static data, so a memcpy of the block stays valid). */
typedef struct hw_ctx {
    struct gcm_key_data key;
    struct gcm_context_data gcm;
    const GCM_FNS *fns;
} HW_CTX;

static GCM_FNS fns_128, fns_192, fns_256;
static CMK_GCM_HW hw_table;
static const CMK_GCM_HW *hw_ready;
static pthread_once_t hw_once = PTHREAD_ONCE_INIT;
static void *imb_lib;
static char hw_name[64];

static int hw_key_init(void *hctx, const uint8_t *key, size_t keylen)
{
    HW_CTX *c = hctx;

    switch (keylen) {
    case 16:
        c->fns = &fns_128;
        break;
    case 24:
        c->fns = &fns_192;
        break;
    case 32:
        c->fns = &fns_256;
        break;
    default:
        return 0;
    }
    c->fns->pre(key, &c->key);
    return 1;
}

static void hw_iv_init(void *hctx, const uint8_t *iv, size_t ivlen, const uint8_t *aad,
                       size_t aadlen)
{
    HW_CTX *c = hctx;

    /* A 96-bit IV is J0 = IV || 0^31 || 1 (SP 800-38D 7.1 step 2); other lengths are GHASHed. */
    if (ivlen == IMB_GCM_IV_DATA_LEN)
        c->fns->init(&c->key, &c->gcm, iv, aad, aadlen);
    else
        c->fns->init_var_iv(&c->key, &c->gcm, iv, ivlen, aad, aadlen);
}

static void hw_encrypt_update(void *hctx, uint8_t *out, const uint8_t *in, size_t len)
{
    HW_CTX *c = hctx;

    if (len > 0)
        c->fns->encrypt_update(&c->key, &c->gcm, out, in, len);
}

static void hw_decrypt_update(void *hctx, uint8_t *out, const uint8_t *in, size_t len)
{
    HW_CTX *c = hctx;

    if (len > 0)
        c->fns->decrypt_update(&c->key, &c->gcm, out, in, len);
}

static void hw_final(void *hctx, uint8_t tag[CMK_GCM_TAG_BYTES])
{
    HW_CTX *c = hctx;

    /* encrypt and decrypt finalize compute the same tag (GHASH of the ciphertext). */
    c->fns->final(&c->key, &c->gcm, tag, CMK_GCM_TAG_BYTES);
}

static void gcm_fns_set(GCM_FNS *f, aes_gcm_pre_t pre, aes_gcm_init_t init,
                        aes_gcm_init_var_iv_t init_var_iv, aes_gcm_enc_dec_update_t enc,
                        aes_gcm_enc_dec_update_t dec, aes_gcm_enc_dec_finalize_t final)
{
    *f = (GCM_FNS){pre, init, init_var_iv, enc, dec, final};
}

static const char *arch_name(IMB_ARCH arch)
{
    switch (arch) {
    case IMB_ARCH_SSE:
        return "sse";
    case IMB_ARCH_AVX:
        return "avx";
    case IMB_ARCH_AVX2:
        return "avx2";
    case IMB_ARCH_AVX512:
        return "avx512";
    default:
        return "none";
    }
}

/* Opens the library and keeps it open until cmk.so is unloaded; leaves hw_ready NULL when
 * anything is missing. */
static void hw_load(void)
{
    IMB_MGR *(*alloc_mgr)(uint64_t);
    void (*init_auto)(IMB_MGR *, IMB_ARCH *);
    void (*free_mgr)(IMB_MGR *);
    unsigned (*get_version)(void);
    const uint64_t need = IMB_FEATURE_AESNI | IMB_FEATURE_PCLMULQDQ;
    IMB_MGR *mgr = NULL;
    IMB_ARCH arch = IMB_ARCH_NONE;
    unsigned version;

    if ((imb_lib = dlopen(IMB_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL)
        return;
    *(void **)&alloc_mgr = dlsym(imb_lib, "alloc_mb_mgr");
    *(void **)&init_auto = dlsym(imb_lib, "init_mb_mgr_auto");
    *(void **)&free_mgr = dlsym(imb_lib, "free_mb_mgr");
    *(void **)&get_version = dlsym(imb_lib, "imb_get_version");
    if (alloc_mgr == NULL || init_auto == NULL || free_mgr == NULL || get_version == NULL)
        goto err;
    /* IMB_MGR is read through this header's layout: same major version, not older. */
    version = get_version();
    if ((version >> 16) != (IMB_VERSION_NUM >> 16) || version < IMB_VERSION_NUM)
        goto err;
    if ((mgr = alloc_mgr(0)) == NULL)
        goto err;
    init_auto(mgr, &arch);
    /* IMB_ARCH_NOAESNI is a software emulation, slower than OpenSSL's own: refuse it. */
    if (arch < IMB_ARCH_SSE || (mgr->features & need) != need)
        goto err;
    gcm_fns_set(&fns_128, mgr->gcm128_pre, mgr->gcm128_init, mgr->gcm128_init_var_iv,
                mgr->gcm128_enc_update, mgr->gcm128_dec_update, mgr->gcm128_enc_finalize);
    gcm_fns_set(&fns_192, mgr->gcm192_pre, mgr->gcm192_init, mgr->gcm192_init_var_iv,
                mgr->gcm192_enc_update, mgr->gcm192_dec_update, mgr->gcm192_enc_finalize);
    gcm_fns_set(&fns_256, mgr->gcm256_pre, mgr->gcm256_init, mgr->gcm256_init_var_iv,
                mgr->gcm256_enc_update, mgr->gcm256_dec_update, mgr->gcm256_enc_finalize);
    free_mgr(mgr);
    snprintf(hw_name, sizeof(hw_name), "intel-ipsec-mb %u.%u.%u %s", version >> 16,
             (version >> 8) & 0xff, version & 0xff, arch_name(arch));
    hw_table = (CMK_GCM_HW){
        .name = hw_name,
        .ctx_bytes = sizeof(HW_CTX),
        .key_init = hw_key_init,
        .iv_init = hw_iv_init,
        .encrypt_update = hw_encrypt_update,
        .decrypt_update = hw_decrypt_update,
        .final = hw_final,
    };
    hw_ready = &hw_table;
    return;
err:
    if (mgr != NULL)
        free_mgr(mgr);
    dlclose(imb_lib);
    imb_lib = NULL;
}

const CMK_GCM_HW *cmk_gcm_hw_get(void)
{
    pthread_once(&hw_once, hw_load);
    return hw_ready;
}

/* Runs when cmk.so itself is unloaded: no context can outlive the provider's dispatch table. */
__attribute__((destructor)) static void hw_unload(void)
{
    if (imb_lib != NULL)
        dlclose(imb_lib);
    imb_lib = NULL;
}
