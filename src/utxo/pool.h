/*
 * pool.h — a fixed set of worker threads that runs parallel-for loops.
 *
 * pool_for(p, n, fn, arg) calls fn(arg, i, worker) once for every i in
 * [0, n), spread over the pool's threads and the calling thread, and returns
 * when all calls have returned. Workers live as long as the pool, so
 * per-thread state (each thread's predicate VM) stays warm from one loop to
 * the next. Calls to pool_for on one pool are serialised; distinct pools are
 * independent. A pool of 1 thread runs everything on the caller.
 */
#ifndef UTXO_SRC_POOL_H
#define UTXO_SRC_POOL_H

#include <stddef.h>

typedef struct pool pool;

/* fn receives the loop argument, the item index and the worker number
 * (0 = the calling thread, 1..threads-1 = pool threads). */
typedef void (*pool_fn)(void *arg, size_t i, unsigned worker);

/* threads: total threads including the caller (0 = the number of online
 * CPUs). NULL on failure. */
pool *pool_new(unsigned threads);
void pool_free(pool *p);
unsigned pool_threads(const pool *p);
void pool_for(pool *p, size_t n, pool_fn fn, void *arg);
/* pool_for in two halves: pool_start hands the loop to the workers and
 * returns at once; pool_wait takes part in what is left and returns when
 * every call has returned (with one thread, or n <= 1, the whole loop runs
 * there). Between the two the pool is the caller's: pool_for or
 * pool_start on p from any thread waits, so the caller must not call them
 * itself before its pool_wait. p must not be NULL. */
void pool_start(pool *p, size_t n, pool_fn fn, void *arg);
void pool_wait(pool *p);

/*
 * A helper: one long-lived thread that runs one job at a time beside its
 * caller (the core's accumulator stage beside the predicates), so a block
 * does not pay a thread's creation. helper_start hands it fn(arg) and
 * returns; helper_join waits until fn has returned. Between the two the
 * helper is the caller's: another helper_start waits for that join. The
 * thread is created at the first start; helper_start returns -1 when it
 * cannot be (the caller then runs fn itself), else 0.
 */
typedef struct helper helper;

helper *helper_new(void);
void helper_free(helper *h);
int helper_start(helper *h, void (*fn)(void *arg), void *arg);
void helper_join(helper *h);

#endif /* UTXO_SRC_POOL_H */
