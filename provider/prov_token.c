/* prov_token.c - the tokens a provider instance has opened, shared by its operations. */
#include "prov.h"

void cmk_prov_tokens_free(CMK_PROV *prov)
{
    (void)prov; /* placeholder until the PKCS#11 layer lands */
}
