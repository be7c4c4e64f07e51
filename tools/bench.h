/*
 * bench.h — `utxo bench NAME`: each benchmark prints lines
 *   bench NAME FIELD=VALUE ...
 * including a ratio against a baseline measured in the same run (absolute
 * times on a shared machine mean little; ratios do). Field names are stable
 * once published: scripts read them.
 */
#ifndef UTXO_TOOLS_BENCH_H
#define UTXO_TOOLS_BENCH_H

#include <stdbool.h>
#include <stdint.h>
/* clock_now_ns, clock_thread_ns, clock_process_ns: the clocks benchmarks read */
#include "utxo/clock.h"

int bench_encode(int argc, char **argv);
int bench_vm(int argc, char **argv);
/* The accumulator (bench_stateless.c): state and proof sizes, verify throughput. */
int bench_stateless(int argc, char **argv);
/* The validator lines of bench stateless (bench_validator.c): throughput vs
 * bare Ed25519 x threads (0: one per CPU), state bytes, peak memory of
 * `utxo verify` at two chain lengths (blocks / 8 and blocks). */
int bench_stateless_validator(unsigned threads, uint32_t blocks, uint32_t txs);
/* The most threads the bare rate runs at once: benches that compare with it
 * refuse more (--threads) and run at most this many for "one per CPU". */
#define BENCH_ED_MAX_THREADS 64u
/* Bare Ed25519 verifications per second on `threads` threads at once over
 * about ms milliseconds (bench_ed25519.c): distinct signatures from a
 * fixed ring, as a validator meets them, or (one_sig) one signature over
 * and over, the older and 4-5% faster loop; -1 if a verification fails,
 * a thread cannot start or threads exceeds BENCH_ED_MAX_THREADS (never a
 * rate on fewer threads than asked). */
double bench_ed25519_rate(unsigned threads, unsigned ms, bool one_sig);
/* The bare rates sampled between chunks of a timed run and averaged (on a
 * shared machine the load moves within seconds): each sample is 40 ms of
 * each of the one-thread rate, the one-signature rate and the rate on
 * `threads` threads at once (the one-thread rate when threads is 1). */
typedef struct bench_ed_samples {
    unsigned threads;
    unsigned n;
    double base, one, par; /* sums over the n samples */
} bench_ed_samples;
/* Takes one sample; -1 if a verification fails. */
int bench_ed25519_sample(bench_ed_samples *e);
/* The milliseconds of each rate in a sample. */
#define BENCH_ED_SAMPLE_MS 40u
/* True when timed_ns, the CPU time of the work the samples of e are
 * compared with, is under 10 ms per sample taken (a quarter of one rate's
 * 40 ms; CPU time, so that a loaded machine does not make the work look
 * longer):
 * chunks of a millisecond or less, which a loaded machine's scheduler can
 * give whole, against 40 ms samples, which it cannot, make any ratio
 * (seen: 1.2-2.1 at one thread, more inputs validated per second than
 * bare verifies). The benches then print their ratios as `short`. */
bool bench_ed25519_too_short(const bench_ed_samples *e, uint64_t timed_ns);
/* The pay-to-pubkey line of bench vm (bench_p2pk.c): VM spend vs bare verify. */
int bench_vm_p2pk(int reps);

/* The full node (bench_replay.c): replay throughput vs bare SQLite and Ed25519. */
int bench_replay(int argc, char **argv);

/* Continuations (bench_segments.c): prove/verify vs plain, speed-up, witness, peak memory. */
int bench_segments(int argc, char **argv);

/* History ranges (bench_history.c): K range processes + link-up vs one sequential run. */
int bench_history(int argc, char **argv);

/* The wallet (bench_wallet.c): proof updates vs stateless apply, sync vs validation. */
int bench_wallet(int argc, char **argv);

/* The node (bench_node.c): follow vs verify, POST /tx vs the mempool, proof latency, memory. */
int bench_node(int argc, char **argv);

/* Compact spends (bench_tx.c): bytes per input and form, history and bundle sizes. */
int bench_tx(int argc, char **argv);

#endif /* UTXO_TOOLS_BENCH_H */
