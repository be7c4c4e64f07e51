/*
 * progress.c — the progress display of the long commands (progress.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "utxo/clock.h"
#include "progress.h"

#define TTY_EVERY_NS 200000000u   /* a terminal line: 5 redraws a second at most */
#define LINE_EVERY_NS 1000000000u /* --progress lines: one a second at most */

int progress_mode(bool quiet, bool forced)
{
    if (quiet)
        return PROGRESS_OFF;
    if (isatty(STDERR_FILENO))
        return PROGRESS_TTY;
    return forced ? PROGRESS_LINES : PROGRESS_OFF;
}

void progress_begin(progress *p, int mode, const char *label, const char *unit)
{
    memset(p, 0, sizeof *p);
    p->mode = mode;
    p->label = label;
    p->unit = unit;
    p->t0 = clock_now_ns();
}

/* "1:05" or "2:03:04" */
static void fmt_duration(char *out, size_t len, uint64_t s)
{
    if (s >= 3600)
        snprintf(out, len, "%llu:%02u:%02u", (unsigned long long)(s / 3600),
                 (unsigned)(s / 60 % 60), (unsigned)(s % 60));
    else
        snprintf(out, len, "%u:%02u", (unsigned)(s / 60), (unsigned)(s % 60));
}

size_t progress_format(char *buf, size_t len, const char *label, const char *unit,
                       uint64_t count, uint64_t done0, uint64_t done, uint64_t total,
                       uint64_t elapsed_ns, bool final)
{
    double secs = (double)elapsed_ns / 1e9, rate = secs > 0 ? (double)count / secs : 0;
    size_t n;

    if (len == 0)
        return 0;
    if (final)
        n = (size_t)snprintf(buf, len, "%s: %llu %s in %.1f s, %.1f %s/s", label,
                             (unsigned long long)count, unit, secs, rate, unit);
    else
        n = (size_t)snprintf(buf, len, "%s: %llu %s, %.1f %s/s", label,
                             (unsigned long long)count, unit, rate, unit);
    if (n >= len)
        return strlen(buf);
    if (!final && total > 0 && done > done0 && done <= total) {
        char eta[32];
        /* the rest at the pace of the work done since the timing began */
        double left = secs * (double)(total - done) / (double)(done - done0);
        fmt_duration(eta, sizeof eta, (uint64_t)(left + 0.5));
        snprintf(buf + n, len - n, ", %u%%, ETA %s", (unsigned)(done * 100 / total), eta);
    }
    return strlen(buf);
}

static void draw(progress *p, bool final)
{
    char line[256];

    progress_format(line, sizeof line, p->label, p->unit, p->count, p->done0, p->done, p->total,
                    clock_now_ns() - p->t0, final);
    if (p->mode == PROGRESS_TTY) {
        /* back to the line's start, the line, erase what a longer one left */
        fprintf(stderr, "\r%s\033[K%s", line, final ? "\n" : "");
        p->drawn = !final;
    } else {
        fprintf(stderr, "%s\n", line);
    }
    fflush(stderr);
}

void progress_update(progress *p, uint64_t count, uint64_t done, uint64_t total)
{
    uint64_t now;

    if (p->mode == PROGRESS_OFF)
        return;
    p->started = true;
    p->count = count;
    p->done = done;
    p->total = total;
    now = clock_now_ns();
    if (p->t_last != 0 &&
        now - p->t_last < (p->mode == PROGRESS_TTY ? TTY_EVERY_NS : LINE_EVERY_NS))
        return;
    p->t_last = now;
    draw(p, false);
}

void progress_clear(progress *p)
{
    if (p->mode == PROGRESS_TTY && p->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        p->drawn = false; /* drawn again at the next update that is due */
    }
}

void progress_end(progress *p, bool ok)
{
    if (p->mode == PROGRESS_OFF)
        return;
    if (ok && p->started)
        draw(p, true);
    else
        progress_clear(p);
    p->mode = PROGRESS_OFF;
}
