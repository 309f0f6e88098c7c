/*
 * outfile.h - output files that appear under their final name only when complete.
 *
 * cli_out_open makes an unnamed file (O_TMPFILE) in the final path's directory; cli_out_commit
 * links it under the final name, or, when a file is there already, under a hidden temporary
 * name "<dir>/.<name>.cmk-tmp-XXXXXX" that it renames over the final one (atomic: same
 * filesystem); cli_out_abort just closes it. A process killed at any point leaves nothing
 * (but for the instant between that link and the rename). Where the filesystem cannot make
 * unnamed files (NFS, CIFS) or /proc is missing, the file is the hidden temporary one from
 * the start: then a process killed with SIGKILL leaves it behind, never a partial file under
 * the final name. "-" means stdout, written directly (docs/cmk.md says what that means on
 * failure).
 *
 * With sync, the file is fsync'd before it is named and the directory after, so the result
 * also survives a power loss. rewrap always asks for it (it replaces the only copy of the
 * data); encrypt and decrypt ask for it with --sync (their input is still there).
 */
#ifndef CMK_CLI_OUTFILE_H
#define CMK_CLI_OUTFILE_H

typedef struct cli_out {
    int fd;
    char *final_path; /* NULL for stdout */
    char *tmp_path;
    int named; /* tmp_path exists: remove it if the output fails */
} cli_out;

int cli_out_open(cli_out *o, const char *final_path); /* 1 or 0 (errno set) */
int cli_out_commit(cli_out *o, int sync);             /* 1 or 0 (errno set) */
void cli_out_abort(cli_out *o);

/* Removes the temporary file of a process interrupted by SIGINT/SIGTERM/SIGHUP. */
void cli_out_signals_install(void);

#endif
