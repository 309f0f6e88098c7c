/*
 * token-init.c - build/cmk-token-init: makes a token in a free slot of a PKCS#11 module.
 *   cmk-token-init --module M --label L --so-pin-source file:P|env:V --pin-source file:P|env:V
 * PINs come from files or variables only, never from the command line.
 */
#include <stdio.h>
#include <string.h>
#include "../pkcs11/p11_token.h"

static int usage(void)
{
    fprintf(stderr, "usage: cmk-token-init --module PATH|NAME --label LABEL "
                    "--so-pin-source file:PATH|env:VAR --pin-source file:PATH|env:VAR\n");
    return 2;
}

static int is_source(const char *s)
{
    return s != NULL && (strncmp(s, "file:", 5) == 0 || strncmp(s, "env:", 4) == 0);
}

int main(int argc, char **argv)
{
    const char *module = NULL, *label = NULL, *so = NULL, *user = NULL;
    p11_module *m = NULL;
    CK_RV rv;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--module") == 0)
            module = argv[i + 1];
        else if (strcmp(argv[i], "--label") == 0)
            label = argv[i + 1];
        else if (strcmp(argv[i], "--so-pin-source") == 0)
            so = argv[i + 1];
        else if (strcmp(argv[i], "--pin-source") == 0)
            user = argv[i + 1];
        else
            return usage();
    }
    if (argc % 2 == 0 || module == NULL || label == NULL || !is_source(so) || !is_source(user))
        return usage();
    rv = p11_module_get(module, NULL, &m);
    if (rv == CKR_OK)
        rv = p11_token_init(m, label, so, user);
    if (rv != CKR_OK) {
        fprintf(stderr, "cmk-token-init: %s\n", p11_err_detail());
        p11_module_put(m);
        return 1;
    }
    printf("cmk-token-init: token '%s' initialized\n", label);
    p11_module_put(m);
    return 0;
}
