/*
 * clock.h — the one place the code reads a clock. Times never reach
 * consensus: they feed statistics (the store's per-stage times), progress
 * lines and benchmarks. Header-only, so it adds no symbol to the library.
 *
 *   clock_now_ns()     monotonic wall time, ns (intervals, rates, progress)
 *   clock_thread_ns()  CPU time of the calling thread, ns; benchmarks on a
 *                      shared machine compare work done, not time given to
 *                      other processes. Falls back to clock_now_ns() where
 *                      the system has no per-thread clock.
 *   clock_process_ns() CPU time of the whole process (every thread), ns;
 *                      over a wall interval it says how many cores the
 *                      work kept busy. Falls back to clock_now_ns().
 *   clock_now_s()      clock_now_ns() in seconds, for progress displays.
 */
#ifndef UTXO_SRC_CLOCK_H
#define UTXO_SRC_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_now_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0; /* CLOCK_MONOTONIC is POSIX-mandatory: cannot fail here */
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t clock_thread_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return clock_now_ns();
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t clock_process_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
        return clock_now_ns();
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline double clock_now_s(void)
{
    return (double)clock_now_ns() / 1e9;
}

#endif /* UTXO_SRC_CLOCK_H */
