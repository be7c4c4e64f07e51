/*
 * pool.c — worker threads for parallel-for loops (see pool.h).
 *
 * A loop is published as (fn, arg, n) with a generation number; workers
 * claim indexes from an atomic counter until it passes n, then report done.
 * The caller claims indexes too, so a pool of one thread has no workers and
 * no locking on the hot path.
 *
 * Waking a sleeping thread costs tens of microseconds on a virtual machine,
 * and a block's loops come one after another with short serial steps
 * between them (hashing, then the rules, then the predicates). So a worker
 * that finishes a loop watches for the next one for POOL_SPIN_NS before it
 * sleeps, and the caller watches for the workers' end the same way before
 * it sleeps on `done`. Both spin with the CPU's pause hint and then block as
 * before: the spin changes when a thread notices, not what runs.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>
#include "utxo/clock.h"
#include "utxo/pool.h"

/* How long a thread watches for the next loop (or the loop's end) before it
 * sleeps. */
#define POOL_SPIN_NS 100000u

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

struct pool {
    unsigned threads;           /* including the caller */
    pthread_t *tids;
    pthread_mutex_t lock;
    pthread_cond_t work;        /* a new loop, or shutdown */
    pthread_cond_t done;        /* a worker finished its part */
    pthread_mutex_t serial;     /* one pool_for at a time */
    atomic_ulong generation;    /* written under lock; read by spinners without */
    atomic_uint busy;           /* workers still inside the current loop (same) */
    atomic_int shutdown;
    pool_fn fn;
    void *arg;
    size_t n;
    atomic_size_t next;
    bool inline_loop;           /* the started loop runs on the caller at pool_wait */
};

/* Watches cond(arg) with the pause hint while it holds, for at most
 * POOL_SPIN_NS (the clock read every 64 turns); the caller then sleeps
 * if it must. */
static inline void spin_while(bool (*cond)(void *arg), void *arg)
{
    uint64_t t0 = clock_now_ns();

    for (unsigned k = 1; cond(arg); k++) {
        cpu_relax();
        if ((k & 63) == 0 && clock_now_ns() - t0 > POOL_SPIN_NS)
            break;
    }
}

struct worker_arg {
    pool *p;
    unsigned id;
};

static void run_items(pool *p, unsigned worker)
{
    for (;;) {
        size_t i = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
        if (i >= p->n)
            return;
        p->fn(p->arg, i, worker);
    }
}

/* A worker waits for a loop after the one it saw. */
struct idle {
    pool *p;
    unsigned long seen;
};

static bool no_new_loop(void *arg)
{
    const struct idle *w = arg;

    return !atomic_load(&w->p->shutdown) && atomic_load(&w->p->generation) == w->seen;
}

static bool workers_busy(void *arg)
{
    return atomic_load(&((pool *)arg)->busy) > 0;
}

static void *worker_main(void *v)
{
    struct worker_arg wa = *(struct worker_arg *)v;
    pool *p = wa.p;
    unsigned long seen = 0;

    free(v);
    for (;;) {
        struct idle w = {p, seen};
        spin_while(no_new_loop, &w); /* watch for the next loop a moment before sleeping */
        pthread_mutex_lock(&p->lock);
        while (!p->shutdown && p->generation == seen)
            pthread_cond_wait(&p->work, &p->lock);
        if (p->shutdown)
            break;
        seen = p->generation;
        pthread_mutex_unlock(&p->lock);
        run_items(p, wa.id);
        pthread_mutex_lock(&p->lock);
        if (atomic_fetch_sub(&p->busy, 1) == 1)
            pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

pool *pool_new(unsigned threads)
{
    pool *p = calloc(1, sizeof *p);

    if (p == NULL)
        return NULL;
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)n : 1;
    }
    if (threads > 256)
        threads = 256;
    p->threads = 1;
    pthread_mutex_init(&p->lock, NULL);
    pthread_mutex_init(&p->serial, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    atomic_init(&p->next, 0);
    atomic_init(&p->generation, 0);
    atomic_init(&p->busy, 0);
    atomic_init(&p->shutdown, 0);
    p->tids = calloc(threads, sizeof *p->tids);
    if (p->tids == NULL) {
        pool_free(p);
        return NULL;
    }
    for (unsigned i = 1; i < threads; i++) {
        struct worker_arg *wa = malloc(sizeof *wa);
        if (wa == NULL)
            break;
        wa->p = p;
        wa->id = i;
        if (pthread_create(&p->tids[i], NULL, worker_main, wa) != 0) {
            free(wa);
            break;
        }
        p->threads++;
    }
    return p;
}

void pool_free(pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    p->shutdown = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 1; i < p->threads; i++)
        pthread_join(p->tids[i], NULL);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->lock);
    pthread_mutex_destroy(&p->serial);
    free(p->tids);
    free(p);
}

unsigned pool_threads(const pool *p)
{
    return p ? p->threads : 1;
}

void pool_start(pool *p, size_t n, pool_fn fn, void *arg)
{
    pthread_mutex_lock(&p->serial);
    p->fn = fn;
    p->arg = arg;
    p->n = n;
    p->inline_loop = p->threads == 1 || n <= 1;
    if (p->inline_loop)
        return;
    pthread_mutex_lock(&p->lock);
    atomic_store(&p->next, 0);
    p->busy = p->threads - 1;
    p->generation++;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
}

void pool_wait(pool *p)
{
    if (p->inline_loop) {
        for (size_t i = 0; i < p->n; i++)
            p->fn(p->arg, i, 0);
        p->inline_loop = false;
        pthread_mutex_unlock(&p->serial);
        return;
    }
    run_items(p, 0);
    spin_while(workers_busy, p); /* watch for the workers' end a moment before sleeping */
    pthread_mutex_lock(&p->lock);
    while (p->busy > 0)
        pthread_cond_wait(&p->done, &p->lock);
    pthread_mutex_unlock(&p->lock);
    pthread_mutex_unlock(&p->serial);
}

void pool_for(pool *p, size_t n, pool_fn fn, void *arg)
{
    if (n == 0)
        return;
    if (p == NULL || p->threads == 1 || n == 1) {
        for (size_t i = 0; i < n; i++)
            fn(arg, i, 0);
        return;
    }
    pool_start(p, n, fn, arg);
    pool_wait(p);
}

/* ---- the helper --------------------------------------------------------- */

struct helper {
    pthread_mutex_t lock;
    pthread_cond_t cv;          /* a job, its end, or shutdown */
    pthread_mutex_t owner;      /* held from helper_start to helper_join */
    pthread_t tid;
    bool started;               /* the thread exists */
    bool shutdown;
    void (*fn)(void *arg);      /* the job; NULL when none is pending */
    void *arg;
    atomic_bool done;           /* the job has returned */
};

static void *helper_main(void *v)
{
    helper *h = v;

    pthread_mutex_lock(&h->lock);
    for (;;) {
        while (!h->shutdown && h->fn == NULL)
            pthread_cond_wait(&h->cv, &h->lock);
        if (h->shutdown)
            break;
        void (*fn)(void *) = h->fn;
        void *arg = h->arg;
        pthread_mutex_unlock(&h->lock);
        fn(arg);
        pthread_mutex_lock(&h->lock);
        h->fn = NULL;
        atomic_store(&h->done, true);
        pthread_cond_broadcast(&h->cv);
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

helper *helper_new(void)
{
    helper *h = calloc(1, sizeof *h);

    if (h == NULL)
        return NULL;
    pthread_mutex_init(&h->lock, NULL);
    pthread_mutex_init(&h->owner, NULL);
    pthread_cond_init(&h->cv, NULL);
    atomic_init(&h->done, true);
    return h;
}

void helper_free(helper *h)
{
    if (h == NULL)
        return;
    if (h->started) {
        pthread_mutex_lock(&h->lock);
        h->shutdown = true;
        pthread_cond_broadcast(&h->cv);
        pthread_mutex_unlock(&h->lock);
        pthread_join(h->tid, NULL);
    }
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->lock);
    pthread_mutex_destroy(&h->owner);
    free(h);
}

int helper_start(helper *h, void (*fn)(void *arg), void *arg)
{
    if (h == NULL)
        return -1;
    pthread_mutex_lock(&h->owner);
    pthread_mutex_lock(&h->lock);
    if (!h->started) {
        if (pthread_create(&h->tid, NULL, helper_main, h) != 0) {
            pthread_mutex_unlock(&h->lock);
            pthread_mutex_unlock(&h->owner);
            return -1;
        }
        h->started = true;
    }
    h->fn = fn;
    h->arg = arg;
    atomic_store(&h->done, false);
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->lock);
    return 0;
}

static bool job_running(void *arg)
{
    return !atomic_load(&((helper *)arg)->done);
}

void helper_join(helper *h)
{
    spin_while(job_running, h); /* the job is usually over by now: look before the lock */
    pthread_mutex_lock(&h->lock);
    while (!atomic_load(&h->done))
        pthread_cond_wait(&h->cv, &h->lock);
    pthread_mutex_unlock(&h->lock);
    pthread_mutex_unlock(&h->owner);
}
