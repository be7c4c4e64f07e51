/*
 * bench_ed25519.c — the bare Ed25519 verify rate that the validation
 * benchmarks (bench stateless, bench replay) divide by.
 *
 * A validator verifies a different signature, under a different key, for
 * every input. libsodium's verification is variable-time (the double
 * scalar multiplication branches on the scalars' digits), so a loop that
 * verifies one signature over and over lets the branch predictors learn
 * that one signature: on this machine it runs 4-5% faster than verifying
 * distinct ones. The baseline therefore cycles through a ring of
 * BENCH_ED_RING distinct (key, message, signature) triples, made once from
 * fixed seeds; each thread starts at its own place in the ring. The old
 * loop (one signature) is kept, printed beside it, so the two can be told
 * apart.
 */
#include "config.h"

#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <string.h>
#include "bench.h"

#define BENCH_ED_RING 512

typedef struct ed_triple {
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t msg[32];
    uint8_t sig[crypto_sign_BYTES];
} ed_triple;

static ed_triple ring[BENCH_ED_RING];
static pthread_once_t ring_once = PTHREAD_ONCE_INIT;

static void ring_make(void)
{
    uint8_t seed[crypto_sign_SEEDBYTES], sk[crypto_sign_SECRETKEYBYTES];

    for (unsigned i = 0; i < BENCH_ED_RING; i++) {
        memset(seed, 0, sizeof seed);
        seed[0] = (uint8_t)i;
        seed[1] = (uint8_t)(i >> 8);
        seed[2] = 0xed;
        crypto_sign_seed_keypair(ring[i].pk, sk, seed);
        crypto_generichash(ring[i].msg, sizeof ring[i].msg, seed, sizeof seed, NULL, 0);
        crypto_sign_detached(ring[i].sig, NULL, ring[i].msg, sizeof ring[i].msg, sk);
    }
    sodium_memzero(sk, sizeof sk);
}

typedef struct ed_arg {
    unsigned start;     /* first triple of the ring */
    bool one_sig;       /* the old loop: ring[start] only */
    uint64_t ns;
    uint64_t n;         /* verifications done */
    int bad;            /* a verification failed: the library is broken */
} ed_arg;

static void *ed_loop(void *p)
{
    ed_arg *a = p;
    uint64_t t0 = clock_now_ns();
    unsigned k = a->start % BENCH_ED_RING;

    do {
        for (int i = 0; i < 16; i++) {
            const ed_triple *t = &ring[k];
            if (crypto_sign_verify_detached(t->sig, t->msg, sizeof t->msg, t->pk) != 0)
                a->bad = 1;
            if (!a->one_sig && ++k == BENCH_ED_RING)
                k = 0;
        }
        a->n += 16;
    } while (clock_now_ns() - t0 < a->ns);
    return NULL;
}

double bench_ed25519_rate(unsigned threads, unsigned ms, bool one_sig)
{
    pthread_t tid[BENCH_ED_MAX_THREADS];
    ed_arg args[BENCH_ED_MAX_THREADS];
    unsigned started = 0;
    uint64_t t0, sum = 0;
    int bad = 0;

    pthread_once(&ring_once, ring_make);
    if (threads == 0)
        threads = 1;
    if (threads > BENCH_ED_MAX_THREADS)
        return -1; /* the callers refuse more */
    memset(args, 0, sizeof args);
    for (unsigned i = 0; i < threads; i++) {
        args[i].start = i * (BENCH_ED_RING / threads);
        args[i].one_sig = one_sig;
        args[i].ns = (uint64_t)ms * 1000000u;
    }
    t0 = clock_now_ns();
    for (unsigned i = 1; i < threads; i++) {
        if (pthread_create(&tid[i], NULL, ed_loop, &args[i]) != 0) {
            bad = 1; /* a rate on fewer threads than asked is no baseline */
            break;
        }
        started = i;
    }
    ed_loop(&args[0]);
    for (unsigned i = 1; i <= started; i++)
        pthread_join(tid[i], NULL);
    for (unsigned i = 0; i <= started; i++) {
        sum += args[i].n;
        bad |= args[i].bad;
    }
    if (bad)
        return -1;
    return (double)sum * 1e9 / (double)(clock_now_ns() - t0);
}

int bench_ed25519_sample(bench_ed_samples *e)
{
    double b = bench_ed25519_rate(1, BENCH_ED_SAMPLE_MS, false);
    double o = bench_ed25519_rate(1, BENCH_ED_SAMPLE_MS, true);
    double p = e->threads > 1 ? bench_ed25519_rate(e->threads, BENCH_ED_SAMPLE_MS, false) : b;

    if (b <= 0 || o <= 0 || p <= 0)
        return -1;
    e->base += b;
    e->one += o;
    e->par += p;
    e->n++;
    return 0;
}

bool bench_ed25519_too_short(const bench_ed_samples *e, uint64_t timed_ns)
{
    return timed_ns < (uint64_t)e->n * (BENCH_ED_SAMPLE_MS / 4u) * 1000000u;
}
