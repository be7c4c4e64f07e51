/*
 * progress.h — the one progress display of every long command (verify,
 * replay, prove, wallet sync, gen, segments prove/verify, demo), driven by
 * the library pipelines' progress callbacks (utxo/pipeline.h).
 *
 * Where it goes: on standard error, and only
 *   - when stderr is a terminal: one line redrawn in place ("\r", the line,
 *     erase to its end) at most every 0.2 s, replaced at the end by the
 *     final line, so no stale progress line is left behind;
 *   - or with --progress: plain lines, the first update at once, then at
 *     most one a second, and the final line;
 *   - never with --quiet, and never otherwise (a pipe, a log file, a test
 *     gets nothing on stderr but messages).
 * The lines (progress_format):
 *   verify: 120 blocks, 45.2 blocks/s, 15%, ETA 0:15
 *   verify: 800 blocks in 17.7 s, 45.2 blocks/s
 * The percentage and ETA appear when the amount of work is known (a
 * file's size, a range of heights); the rate counts the units shown.
 * Display only: nothing here is hashed or stored.
 */
#ifndef UTXO_TOOLS_PROGRESS_H
#define UTXO_TOOLS_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum progress_mode { PROGRESS_OFF = 0, PROGRESS_TTY = 1, PROGRESS_LINES = 2 };

/* The mode of a command: off with --quiet, lines with --progress (a
 * terminal still gets the redrawn line), else a terminal's line when
 * stderr is one. */
int progress_mode(bool quiet, bool forced);

typedef struct progress {
    int mode;                 /* enum progress_mode */
    const char *label, *unit; /* "verify", "blocks": borrowed */
    uint64_t count;           /* units done (what the rate counts) */
    uint64_t done, total;     /* work done of total (0: unknown) */
    uint64_t done0;           /* work done before the timing began (0) */
    uint64_t t0, t_last;      /* clock_now_ns of the start and of the last line */
    bool started, drawn;      /* an update came; a terminal line is on screen */
} progress;

/* Starts a display (mode from progress_mode) of units called unit. */
void progress_begin(progress *p, int mode, const char *label, const char *unit);
/* count units done; done of total work (total 0: unknown). Draws when due. */
void progress_update(progress *p, uint64_t count, uint64_t done, uint64_t total);
/* Takes the terminal line away before another message is printed on
 * the terminal (it is drawn again at the next update that is due). */
void progress_clear(progress *p);
/* The final line ("... in T s, R unit/s") when ok, else only clears the
 * terminal line (the error message follows); the display is then off. */
void progress_end(progress *p, bool ok);

/*
 * Formats one line into buf (len bytes, NUL-terminated, truncated to fit):
 * label, count, unit, the rate over elapsed_ns, and unless final the
 * percentage and ETA of done/total (done0: the work before the timing
 * started; nothing when total is 0 or done <= done0). Returns strlen(buf).
 */
size_t progress_format(char *buf, size_t len, const char *label, const char *unit,
                       uint64_t count, uint64_t done0, uint64_t done, uint64_t total,
                       uint64_t elapsed_ns, bool final);

#endif /* UTXO_TOOLS_PROGRESS_H */
