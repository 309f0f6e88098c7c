/*
 * outfile.h - output files that appear under their final name only when complete.
 *
 * cli_out_open makes "<dir>/.<name>.cmk-tmp-XXXXXX" beside the final path (same filesystem,
 * so the rename is atomic); cli_out_commit fsyncs it, renames it over the final name and
 * fsyncs the directory; cli_out_abort removes it. A process killed in between leaves only the
 * hidden temporary file, never a partial file under the final name. "-" means stdout, written
 * directly (docs/cmk.md says what that means on failure).
 */
#ifndef CMK_CLI_OUTFILE_H
#define CMK_CLI_OUTFILE_H

typedef struct cli_out {
    int fd;
    char *final_path; /* NULL for stdout */
    char *tmp_path;
} cli_out;

int cli_out_open(cli_out *o, const char *final_path); /* 1 or 0 (errno set) */
int cli_out_commit(cli_out *o);                       /* 1 or 0 (errno set) */
void cli_out_abort(cli_out *o);

/* Removes the temporary file of a process interrupted by SIGINT/SIGTERM/SIGHUP. */
void cli_out_signals_install(void);

#endif
