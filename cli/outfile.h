/*
 * outfile.h - output files that appear under their final name only when complete.
 *
 * cli_out_open makes "<dir>/.<name>.cmk-tmp-XXXXXX" beside the final path (same filesystem,
 * so the rename is atomic); cli_out_commit renames it over the final name; cli_out_abort
 * removes it. A process killed in between leaves only the hidden temporary file, never a
 * partial file under the final name. "-" means stdout, written directly (docs/cmk.md says what
 * that means on failure).
 *
 * With sync, the file is fsync'd before the rename and the directory after it, so the result
 * also survives a power loss. rewrap always asks for it (it replaces the only copy of the
 * data); encrypt and decrypt ask for it with --sync (their input is still there).
 */
#ifndef CMK_CLI_OUTFILE_H
#define CMK_CLI_OUTFILE_H

typedef struct cli_out {
    int fd;
    char *final_path; /* NULL for stdout */
    char *tmp_path;
} cli_out;

int cli_out_open(cli_out *o, const char *final_path); /* 1 or 0 (errno set) */
int cli_out_commit(cli_out *o, int sync);             /* 1 or 0 (errno set) */
void cli_out_abort(cli_out *o);

/* Removes the temporary file of a process interrupted by SIGINT/SIGTERM/SIGHUP. */
void cli_out_signals_install(void);

#endif
