/* progress.c - a progress line on a terminal; see progress.h. */
#include <stdio.h>
#include <unistd.h>
#include "progress.h"

#define CMK_PROGRESS_MIN_BYTES (64u << 20) /* smaller files finish before a line is worth it */
#define CMK_PROGRESS_EVERY_NS  100000000L  /* at most ten updates a second */

static double seconds_between(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

void cli_progress_start(cli_progress *p, const char *verb, const char *name, uint64_t total)
{
    p->verb = verb;
    p->name = name;
    p->total = total;
    p->active = isatty(STDERR_FILENO) && total >= CMK_PROGRESS_MIN_BYTES;
    clock_gettime(CLOCK_MONOTONIC, &p->start);
    p->last = p->start;
}

void cli_progress_update(void *arg, uint64_t done)
{
    cli_progress *p = arg;
    struct timespec now;
    double secs;

    if (!p->active)
        return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (seconds_between(&p->last, &now) * 1e9 < CMK_PROGRESS_EVERY_NS && done < p->total)
        return;
    p->last = now;
    secs = seconds_between(&p->start, &now);
    fprintf(stderr, "\r%s %s: %3.0f%%  %.0f of %.0f MiB  %.0f MiB/s ", p->verb, p->name,
            100.0 * (double)done / (double)p->total, (double)done / 1048576.0,
            (double)p->total / 1048576.0, secs > 0 ? (double)done / 1048576.0 / secs : 0.0);
}

void cli_progress_end(cli_progress *p)
{
    if (p->active)
        fputs("\r\033[K", stderr);
    p->active = 0;
}
