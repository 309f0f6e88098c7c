/* cmds.h - the verbs of the `cmk` command, one file each (cmd_<verb>.c). */
#ifndef CMK_CMDS_H
#define CMK_CMDS_H

#include "cli.h"

int cmd_encrypt(cmk_cli *cli, int argc, char **argv);
int cmd_decrypt(cmk_cli *cli, int argc, char **argv);
int cmd_rewrap(cmk_cli *cli, int argc, char **argv);
int cmd_inspect(cmk_cli *cli, int argc, char **argv);
int cmd_key(cmk_cli *cli, int argc, char **argv);   /* cmd_key.c */
int cmd_audit(cmk_cli *cli, int argc, char **argv); /* cmd_audit.c */

#endif
