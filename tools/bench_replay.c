/*
 * bench_replay.c — `utxo bench replay`: the full node's replay throughput
 * beside the two limits it could be bound by, measured in the same run.
 *
 * A history is generated in memory first (src/prover/chaingen: p2pk
 * payments of 1..3 inputs, some spending outputs of the same block), then
 * replayed into a fresh store in a temporary directory, one SQL transaction
 * per block, predicates on `threads` threads. The limits:
 *   sqlite   a bare table (36-byte random keys, WITHOUT ROWID, WAL,
 *            synchronous=NORMAL as the store) with the same rows inserted
 *            and deleted, block by block in one transaction each: the
 *            history's transactions divided by that time;
 *   ed25519  crypto_sign_verify_detached per second on one thread
 *            (distinct signatures, bench_ed25519.c), times the threads,
 *            divided by signatures (inputs) per transaction;
 *            sampled (40 ms) after every twentieth of the blocks and
 *            averaged, so it sees the same machine load as the replay.
 * The lower one binds; ratio = replay tx/s / binding tx/s (goal >= 0.8).
 * A replay of less than 10 ms of CPU per Ed25519 sample (chunks of a millisecond
 * against 40 ms samples on a shared machine) prints ratio, ratio_parallel
 * and ratio_one_sig as `short` (bench_ed25519_too_short).
 * Also: store bytes per UTXO (whole file, and the utxos table with its
 * index and the forest nodes, from dbstat), and per block the time to
 * validate, to prove (forest update + bundle) and to write + commit, and to
 * read a stored bundle back (`utxo prove`).
 *
 *   bench replay blocks=.. txs=.. inputs=.. created=.. threads=.. replay_s=.. tx_per_s=..
 *     hashes_per_tx=.. (transaction hashes: txid, wtxid, sighash, per tx applied)
 *   bench replay limit=sqlite rows=.. sqlite_s=.. sqlite_tx_per_s=..
 *   bench replay limit=ed25519 verify_per_s=.. samples=.. threads=.. ed25519_tx_per_s=..
 *   bench replay binding=.. ratio=.. goal=0.8
 *   bench replay ed25519_parallel_verify_per_s=.. ed25519_parallel_tx_per_s=.. ratio_parallel=..
 * (`threads` threads verifying at once, sampled the same way; on a shared
 * machine it says whether the cores were there to be had)
 *   bench replay ed25519_one_sig_verify_per_s=.. ratio_one_sig=..
 * (the ed25519 limit with the older baseline, one signature verified over
 * and over, 4-5% faster than distinct ones)
 *   bench replay cpus=.. cpu_s=.. cores_busy=.. cpu_us_per_block=.. sig_cpu_share=..
 * (the process's CPU time over the timed applies, every thread: cores_busy
 * is it over replay_s, sig_cpu_share the inputs' verifies at the ed25519
 * limit's one-thread rate over it; ratio = sig_cpu_share * cores_busy /
 * threads, so the two say whether the cores idled or the work beside the
 * signatures (store, hashing, rules) took them)
 *   bench replay node_writes_per_block=.. node_writes_per_spent=.. utxo_rows_skipped_per_block=..
 * (utxos rows never written: created and spent within one pipeline group)
 *   bench replay utxos=.. db_bytes=.. bytes_per_utxo=.. set_bytes_per_utxo=..
 *   bench replay apply_us_per_block=.. pre_us_per_block=.. validate_us_per_block=..
 *       prove_us_per_block=.. write_us_per_block=.. commit_us_per_block=..
 *       bundle_read_us_per_block=..
 * (validate runs on the predicate threads while prove and write run on the
 * store's thread: apply is about the larger of the two; the store's
 * pipeline is on, as in `utxo replay`, so the commit of each block runs on
 * the next block's store thread beside its predicates, and replay_s holds
 * the last block's commit)
 */
#include "config.h"

#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "utxo.h"
#include "utxo/store.h"
#include "bench.h"
#include "chain/workload.h"
#include "utxo/ledger_int.h"
#include "util.h"

typedef struct history {
    uint32_t n_blocks;
    utxo_block **blk;
    uint64_t txs, inputs, created, spent_ext;
    uint32_t *blk_created, *blk_spent;   /* per block: rows inserted / deleted */
} history;

static void history_free(history *h)
{
    for (uint32_t i = 0; h->blk != NULL && i < h->n_blocks; i++)
        utxo_block_free(h->blk[i]);
    free(h->blk);
    free(h->blk_created);
    free(h->blk_spent);
}

static int history_make(history *h, uint32_t n_blocks, uint32_t txs, uint64_t seed, utxo_params *p)
{
    bp_gen_opts o;
    bp_gen *g = NULL;
    int rc;

    memset(h, 0, sizeof *h);
    bp_gen_opts_default(&o);
    o.txs_per_block = txs;
    o.genesis_coins = txs * 4 > 64 ? txs * 4 : 64;
    o.n_wallets = 64;
    o.seed = seed;
    if ((rc = bp_gen_new(&g, &o, p)) != UTXO_OK)
        return rc;
    h->blk = calloc(n_blocks, sizeof *h->blk);
    h->blk_created = calloc(n_blocks, sizeof *h->blk_created);
    h->blk_spent = calloc(n_blocks, sizeof *h->blk_spent);
    if (h->blk == NULL || h->blk_created == NULL || h->blk_spent == NULL) {
        bp_gen_free(g);
        return UTXO_ERR_NOMEM;
    }
    for (uint32_t i = 0; i < n_blocks; i++) {
        utxo_bundle *bd = NULL;
        utxo_bundle_info info;
        uint64_t outs = 0;
        if ((rc = bp_gen_next(g, &h->blk[i], &bd)) != UTXO_OK)
            break;
        h->n_blocks = i + 1;
        utxo_bundle_get_info(bd, &info);
        for (uint32_t t = 0; t < h->blk[i]->n_txs; t++) {
            h->inputs += h->blk[i]->txs[t]->n_inputs;
            outs += h->blk[i]->txs[t]->n_outputs;
        }
        /* rows: outputs entering the set (all outputs but those spent in
         * the same block) and spent outputs of earlier blocks */
        {
            uint64_t in_blk = 0;
            for (uint32_t t = 0; t < h->blk[i]->n_txs; t++)
                in_blk += h->blk[i]->txs[t]->n_inputs;
            h->blk_spent[i] = info.n_spent;
            h->blk_created[i] = (uint32_t)(outs - (in_blk - info.n_spent));
        }
        h->txs += h->blk[i]->n_txs;
        h->created += h->blk_created[i];
        h->spent_ext += info.n_spent;
        utxo_bundle_free(bd);
    }
    bp_gen_free(g);
    return rc;
}

static void rm_db(const char *path)
{
    char b[700];

    unlink(path);
    snprintf(b, sizeof b, "%s-wal", path);
    unlink(b);
    snprintf(b, sizeof b, "%s-shm", path);
    unlink(b);
    snprintf(b, sizeof b, "%s.lock", path);   /* the store's writer lock */
    unlink(b);
}

static uint64_t file_size(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* The bare SQLite limit: the history's row inserts and deletes, one
 * transaction per block. Returns seconds, or a negative value on error. */
static double sqlite_limit(const char *path, const history *h, uint64_t seed)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *ins = NULL, *del = NULL;
    uint8_t (*live)[36] = NULL, val[48];
    size_t n_live = 0;
    uint64_t rng = seed, t0;
    double secs = -1;

    rm_db(path);
    live = malloc((h->created + 1) * sizeof *live);
    if (live == NULL || sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                         " PRAGMA cache_size = -32768;"
                         " CREATE TABLE kv(k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO kv VALUES (?1, ?2)", -1, &ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "DELETE FROM kv WHERE k = ?1", -1, &del, NULL) != SQLITE_OK)
        goto done;
    memset(val, 0x5a, sizeof val);
    t0 = clock_now_ns();
    for (uint32_t b = 0; b < h->n_blocks; b++) {
        if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
            goto done;
        for (uint32_t i = 0; i < h->blk_spent[b] && n_live > 0; i++) {
            size_t k;
            rng = rng * UINT64_C(6364136223846793005) + 1442695040888963407u;
            k = (size_t)((rng >> 33) % n_live);
            sqlite3_bind_blob(del, 1, live[k], 36, SQLITE_STATIC);
            if (sqlite3_step(del) != SQLITE_DONE)
                goto done;
            sqlite3_reset(del);
            memcpy(live[k], live[--n_live], 36);
        }
        for (uint32_t i = 0; i < h->blk_created[b]; i++) {
            randombytes_buf(live[n_live], 36);
            sqlite3_bind_blob(ins, 1, live[n_live], 36, SQLITE_STATIC);
            sqlite3_bind_blob(ins, 2, val, sizeof val, SQLITE_STATIC);
            if (sqlite3_step(ins) != SQLITE_DONE)
                goto done;
            sqlite3_reset(ins);
            n_live++;
        }
        if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            goto done;
    }
    secs = (double)(clock_now_ns() - t0) / 1e9;
done:
    sqlite3_finalize(ins);
    sqlite3_finalize(del);
    sqlite3_close(db);
    free(live);
    rm_db(path);
    return secs;
}

/* Bytes of the utxos table, its index and the forest nodes (dbstat), or 0. */
static uint64_t set_bytes(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    uint64_t n = 0;

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT sum(pgsize) FROM dbstat WHERE name IN"
                               " ('utxos', 'utxos_predicate', 'nodes')", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        n = (uint64_t)sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return n;
}

/* r with two decimals, or "short" (bench_ed25519_too_short). */
static const char *ratio_str(char out[24], double r, bool too_short)
{
    if (too_short)
        return "short";
    snprintf(out, 24, "%.2f", r);
    return out;
}

static void replay_bench_usage(FILE *f)
{
    fprintf(f, "Usage: utxo bench replay [--blocks N] [--txs PER_BLOCK] [--threads N] [--seed S]\n"
               "\n"
               "Replays a generated history into a fresh SQLite store; prints\n"
               "`bench replay ...` lines with the ratio to bare SQLite and to Ed25519\n"
               "verification on N threads (0, the default: one per CPU; at most 64),\n"
               "measured in the same run, and how many cores the replay kept busy\n"
               "(cores_busy) with how much of that CPU time the signatures alone\n"
               "account for (sig_cpu_share).\n"
               "\nexample:\n  utxo bench replay --blocks 100 --txs 200 --threads 2\n");
}

int bench_replay(int argc, char **argv)
{
    uint64_t n_blocks = 100, txs = 200, threads = 0, seed = 1;
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char path[512], sq_path[600];
    history h;
    utxo_params p;
    utxo_store *s = NULL;
    utxo_store_info info;
    utxo_store_stats st;
    uint64_t t0, c0, replay_ns, cpu_ns, read_ns, db_bytes, hashes;
    double sq_s, ed, ed_par, ed_one, tx_s, sq_tx_s, ed_tx_s, par_tx_s, bind;
    char msg[256], rs[3][24];
    bool too_short;
    unsigned th, n_samples;
    bench_ed_samples samples = {0, 0, 0, 0, 0};
    uint32_t chunk;
    int rc, ex = EXIT_USAGE;

    num_opt nums[] = {
        {"--blocks", &n_blocks, 2, 100000, false}, {"--txs", &txs, 1, 5000, false},
        {"--threads", &threads, 0, BENCH_ED_MAX_THREADS, false}, {"--seed", &seed, 0, UINT64_MAX, false},
    };
    static const struct option opts[] = {
        {"blocks", required_argument, NULL, CLI_NUM}, {"txs", required_argument, NULL, CLI_NUM},
        {"threads", required_argument, NULL, CLI_NUM}, {"seed", required_argument, NULL, CLI_NUM},
        CLI_HELP_OPTION, {NULL, 0, NULL, 0},
    };
    cli cl = CLI_INIT("bench replay", replay_bench_usage, "", opts);

    if ((rc = cli_nums_only(&cl, argc, argv, nums, sizeof nums / sizeof nums[0], 0, 0, "")) >= 0)
        return rc;
    if (sodium_init() < 0)
        return EXIT_USAGE;
    if (threads == 0) { /* one per CPU, as many as the baseline can run */
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cpus < 1 ? 1 : (uint64_t)cpus;
        if (threads > BENCH_ED_MAX_THREADS)
            threads = BENCH_ED_MAX_THREADS;
    }
    snprintf(path, sizeof path, "%s/utxo_bench_replay_%ld.db", dir, (long)getpid());
    snprintf(sq_path, sizeof sq_path, "%s.kv", path);
    rc = history_make(&h, (uint32_t)n_blocks, (uint32_t)txs, seed, &p);
    if (rc != UTXO_OK) {
        errorf("bench replay: generating the history: %s", utxo_strerror(rc));
        goto done;
    }
    /* the replay */
    chunk = h.n_blocks / 20 ? h.n_blocks / 20 : 1;
    rm_db(path);
    if (utxo_store_open(&s, path, &p, UTXO_STORE_CREATE, (unsigned)threads, msg, sizeof msg) !=
        UTXO_OK) {
        errorf("bench replay: %s", msg);
        goto done;
    }
    /* On a shared machine the load moves within seconds, so the Ed25519
     * rate is sampled between chunks of blocks (outside the timed replay)
     * and averaged: the limit sees the conditions the replay saw. */
    replay_ns = cpu_ns = 0;
    hashes = ledger_tx_hashes();
    utxo_store_set_pipeline(s, true); /* as utxo replay runs */
    for (uint32_t i = 0; i < h.n_blocks; i++) {
        t0 = clock_now_ns();
        c0 = clock_process_ns();
        if ((rc = utxo_store_apply_block(s, h.blk[i], NULL)) != UTXO_OK) {
            errorf("bench replay: block %u: %s", i, utxo_store_errmsg(s));
            goto done;
        }
        replay_ns += clock_now_ns() - t0;
        cpu_ns += clock_process_ns() - c0;
        if (i % chunk == chunk - 1 || i + 1 == h.n_blocks) {
            utxo_store_get_stats(s, &st); /* its threads, known once it has run */
            samples.threads = st.threads;
            if (bench_ed25519_sample(&samples) != 0) {
                errorf("bench replay: the bare Ed25519 rate failed (a verification, or a thread)");
                goto done;
            }
        }
    }
    t0 = clock_now_ns();
    c0 = clock_process_ns();
    if ((rc = utxo_store_flush(s)) != UTXO_OK) { /* the last block's commit */
        errorf("bench replay: %s", utxo_store_errmsg(s));
        goto done;
    }
    replay_ns += clock_now_ns() - t0;
    cpu_ns += clock_process_ns() - c0;
    hashes = ledger_tx_hashes() - hashes;
    /* a replay shorter than its samples: no ratio (bench_ed25519_too_short) */
    too_short = bench_ed25519_too_short(&samples, cpu_ns);
    ed = samples.base / samples.n;
    ed_par = samples.par / samples.n;
    ed_one = samples.one / samples.n;
    n_samples = samples.n;
    utxo_store_get_stats(s, &st);
    th = st.threads;
    /* reading the bundles back, as `utxo prove` does */
    t0 = clock_now_ns();
    for (uint32_t i = 0; i < h.n_blocks; i++) {
        uint8_t *b = NULL;
        size_t len = 0;
        if (utxo_store_get_bundle(s, i, &b, &len) != UTXO_OK)
            goto done;
        free(b);
    }
    read_ns = clock_now_ns() - t0;
    utxo_store_get_info(s, &info);
    printf("bench replay blocks=%u txs=%llu inputs=%llu created=%llu threads=%u replay_s=%.3f "
           "tx_per_s=%.0f hashes_per_tx=%.2f\n",
           h.n_blocks, (unsigned long long)h.txs, (unsigned long long)h.inputs,
           (unsigned long long)h.created, th, (double)replay_ns / 1e9,
           (double)h.txs / ((double)replay_ns / 1e9), (double)hashes / (double)h.txs);
    printf("bench replay apply_us_per_block=%.0f pre_us_per_block=%.0f validate_us_per_block=%.0f "
           "prove_us_per_block=%.0f write_us_per_block=%.0f commit_us_per_block=%.0f "
           "bundle_read_us_per_block=%.1f\n",
           (double)st.ns_total / 1e3 / h.n_blocks, (double)st.ns_pre / 1e3 / h.n_blocks,
           (double)st.ns_validate / 1e3 / h.n_blocks, (double)st.ns_prove / 1e3 / h.n_blocks,
           (double)st.ns_write / 1e3 / h.n_blocks, (double)st.ns_commit / 1e3 / h.n_blocks,
           (double)read_ns / 1e3 / h.n_blocks);
    printf("bench replay node_writes_per_block=%.0f node_writes_per_spent=%.1f "
           "utxo_rows_skipped_per_block=%.0f\n",
           (double)st.node_writes / h.n_blocks,
           h.spent_ext ? (double)st.node_writes / (double)h.spent_ext : 0.0,
           (double)st.utxo_rows_skipped / h.n_blocks);
    utxo_store_close(s);
    s = NULL;
    db_bytes = file_size(path);
    {
        uint64_t sb = set_bytes(path);
        printf("bench replay utxos=%llu db_bytes=%llu bytes_per_utxo=%.0f set_bytes_per_utxo=%.0f\n",
               (unsigned long long)info.n_utxos, (unsigned long long)db_bytes,
               info.n_utxos ? (double)db_bytes / (double)info.n_utxos : 0.0,
               info.n_utxos ? (double)sb / (double)info.n_utxos : 0.0);
    }
    rm_db(path);
    /* the two limits */
    sq_s = sqlite_limit(sq_path, &h, seed);
    if (sq_s <= 0) {
        errorf("bench replay: measuring the limits failed");
        goto done;
    }
    tx_s = (double)h.txs / ((double)replay_ns / 1e9);
    sq_tx_s = (double)h.txs / sq_s;
    ed_tx_s = ed * th * (double)h.txs / (double)(h.inputs ? h.inputs : 1);
    printf("bench replay limit=sqlite rows=%llu sqlite_s=%.3f sqlite_tx_per_s=%.0f\n",
           (unsigned long long)(h.created + h.spent_ext), sq_s, sq_tx_s);
    printf("bench replay limit=ed25519 verify_per_s=%.0f samples=%u threads=%u ed25519_tx_per_s=%.0f\n",
           ed, n_samples, th, ed_tx_s);
    bind = sq_tx_s < ed_tx_s ? sq_tx_s : ed_tx_s;
    printf("bench replay binding=%s ratio=%s goal=0.8\n", sq_tx_s < ed_tx_s ? "sqlite" : "ed25519",
           ratio_str(rs[0], tx_s / bind, too_short));
    /* what `th` threads verifying at once actually got from the machine */
    par_tx_s = ed_par * (double)h.txs / (double)(h.inputs ? h.inputs : 1);
    printf("bench replay ed25519_parallel_verify_per_s=%.0f ed25519_parallel_tx_per_s=%.0f "
           "ratio_parallel=%s\n", ed_par, par_tx_s, ratio_str(rs[1], tx_s / par_tx_s, too_short));
    /* the older baseline: one signature verified over and over (bench_ed25519.c) */
    printf("bench replay ed25519_one_sig_verify_per_s=%.0f ratio_one_sig=%s\n", ed_one,
           ratio_str(rs[2],
                     tx_s / (ed_one * th * (double)h.txs / (double)(h.inputs ? h.inputs : 1)),
                     too_short));
    /* ratio = sig_cpu_share * cores_busy / threads: how much of the CPU the
     * replay used its signatures alone would take, and how many cores it
     * kept busy */
    {
        double cpu_s = (double)cpu_ns / 1e9, sig_s = (double)h.inputs / ed;
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        printf("bench replay cpus=%ld cpu_s=%.3f cores_busy=%.2f cpu_us_per_block=%.0f "
               "sig_cpu_share=%.2f\n",
               cpus, cpu_s, cpu_s / ((double)replay_ns / 1e9), cpu_s * 1e6 / h.n_blocks,
               cpu_s > 0 ? sig_s / cpu_s : 0.0);
    }
    ex = EXIT_VALID;
done:
    utxo_store_close(s);
    rm_db(path);
    history_free(&h);
    return ex;
}
