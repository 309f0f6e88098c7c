/* key_cmds.h - what the files of `cmk key` (cmd_key*.c, key_import.c) share. */
#ifndef CMK_CLI_KEY_CMDS_H
#define CMK_CLI_KEY_CMDS_H

#include "key.h"

int cmd_key_list(cmk_cli *cli, int argc, char **argv);
int cmd_key_show(cmk_cli *cli, int argc, char **argv);
int cmd_key_public(cmk_cli *cli, int argc, char **argv);
int cmd_key_check(cmk_cli *cli, int argc, char **argv);
int cmd_key_update(cmk_cli *cli, int argc, char **argv);
int cmd_key_disable(cmk_cli *cli, int argc, char **argv);
int cmd_key_enable(cmk_cli *cli, int argc, char **argv);
int cmd_key_delete(cmk_cli *cli, int argc, char **argv);
int cmd_key_recover(cmk_cli *cli, int argc, char **argv);
int cmd_key_purge(cmk_cli *cli, int argc, char **argv);

/* "N" days within [min, max] into *out; 0 when it is not. */
int cli_days_parse(const char *s, unsigned min, unsigned max, unsigned *out);

/* Makes a new version of key name (generated, or imported from the file import) with a fresh
 * version id, written as hex; *bits_out: its size. bits 0 with import: the file's size. */
int cli_version_new(cmk_cli *cli, const char *name, const char *import, unsigned bits, unsigned ops,
                    char hex[2 * P11_VERSION_ID_BYTES + 1], unsigned *bits_out);

/* Imports the RSA private key in file (PEM or DER) as version id of key name; refuses a size
 * other than bits (when bits != 0) and keys under 2048 bits. */
int cli_key_import(p11_token *t, const char *name, const uint8_t *id, size_t id_len,
                   const char *file, unsigned bits, unsigned p11_ops, unsigned *bits_out);

/* Rotates k (refused when deleted or disabled; RSA keys need import). */
int cli_key_rotate(cmk_cli *cli, cli_key *k, const char *import, int quiet);

/* When the current version's rotation comes due (seconds), or 0 without a policy. */
long long cli_key_rotation_due(const cli_key *k);

/* Prints the --json shape of key name (docs/cmk-key.md). */
int cli_key_show_json(cmk_cli *cli, const char *name);

#endif
