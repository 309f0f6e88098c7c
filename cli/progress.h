/*
 * progress.h - a progress line on stderr while a large file is encrypted or decrypted, only
 * when stderr is a terminal (scripts and logs see nothing).
 */
#ifndef CMK_CLI_PROGRESS_H
#define CMK_CLI_PROGRESS_H

#include <stdint.h>
#include <time.h>

typedef struct cli_progress {
    const char *verb, *name;
    uint64_t total; /* 0: unknown size */
    struct timespec start, last;
    int active;
} cli_progress;

/* Starts showing progress for name when stderr is a terminal and total is large enough. */
void cli_progress_start(cli_progress *p, const char *verb, const char *name, uint64_t total);
/* For env_stream_opts.progress. */
void cli_progress_update(void *arg, uint64_t done);
/* Clears the line. */
void cli_progress_end(cli_progress *p);

#endif
