/*
 * wrap.h - the data plane's use of the CMK: wrap a fresh intermediate key, unwrap one from a
 * file header. Both go through OpenSSL (OSSL_STORE + EVP_PKEY) and the cmk provider, so the
 * unwrap happens in the token, exactly as it would for any other OpenSSL application.
 *
 * Unwrapped keys are cached in this process by the SHA-256 of their wrapped form, so a call
 * that decrypts many files under one wrapped key asks the token once — for at most
 * key-cache-seconds (default 300; 0 asks the token for every file), so that a revoked key
 * stops a long run within that bound. The cache is wiped at exit (cli_wrap_cache_wipe).
 */
#ifndef CMK_CLI_WRAP_H
#define CMK_CLI_WRAP_H

#include "cli.h"
#include "../envelope/header.h"
#include "../envelope/keys.h"

/* Makes a random intermediate key and fills h's wrap_alg, wrapped and wrapped_len with it
 * wrapped under key version h->key_name / h->key_version. */
int cli_wrap_new(cmk_cli *cli, env_header *h, uint8_t ikm[ENV_KEY_BYTES]);

/* The same with a given intermediate key (rewrap). */
int cli_wrap(cmk_cli *cli, env_header *h, const uint8_t ikm[ENV_KEY_BYTES]);

/* Unwraps h's intermediate key in the token. Returns a CMK_EXIT_* code after printing why. */
int cli_unwrap(cmk_cli *cli, const env_header *h, uint8_t ikm[ENV_KEY_BYTES]);

void cli_wrap_cache_wipe(void);

/* How many wraps and unwraps this process asked the token for (for --json summaries). */
unsigned long cli_wrap_token_ops(void);

#endif
