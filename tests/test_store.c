/*
 * test_store.c — the SQLite store (src/sqlstore): a generated chain
 * (src/prover/chaingen: pay-to-pubkey payments, spends inside one block)
 * replayed block by block, with the store's bundles equal byte for byte to
 * the in-memory chain builder's; reopening; rollback compared byte for byte
 * (every table) with a fresh replay to the same height, then replayed
 * forward again; invalid blocks (bad predicate signature, missing output,
 * wrong digest, sequencer signature, height) leaving every table as it was
 * and naming the transaction and input; queries by outpoint and predicate
 * id; refusal to open an unknown schema, a tampered digest or forest, a
 * file of another chain or not a store; read-only mode; a second writer
 * (busy, nothing changed); the replay pipeline (same bytes on and off, on 1
 * and 2 threads; an invalid block after valid ones). After every applied,
 * refused and rolled-back block the cache of recent outputs (coins.c)
 * holds only rows the utxos table holds, and it serves spends.
 */
#include "config.h"

#include <sodium.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "testutil.h"
#include "utxo/store.h"
#include "chain/workload.h"
#include "sqlstore/store_int.h"

#define N_BLOCKS 14

typedef struct chain {
    utxo_params p;
    uint8_t seq_sk[64];
    uint32_t n;
    utxo_block *blk[N_BLOCKS];
    uint8_t *bundle[N_BLOCKS];
    size_t bundle_len[N_BLOCKS];
    uint8_t wallet0[UTXO_HASH_BYTES];
    size_t final_utxos;
} chain;

static chain C;

/* The generated chain, shared by the tests (made once per process). */
/* Outside a Check test (setup in main): fail the whole program. */
#define REQUIRE(x)                                                          \
    do {                                                                    \
        if (!(x)) {                                                         \
            fprintf(stderr, "%s:%d: setup failed: %s\n", __FILE__, __LINE__, #x); \
            exit(1);                                                        \
        }                                                                   \
    } while (0)

static void chain_make(void)
{
    bp_gen_opts o;
    bp_gen *g;

    bp_gen_opts_default(&o);
    o.txs_per_block = 12;
    o.seed = 7;
    REQUIRE(bp_gen_new(&g, &o, &C.p) == UTXO_OK);
    for (uint32_t h = 0; h < N_BLOCKS; h++) {
        utxo_bundle *bd = NULL;
        size_t w = 0;
        REQUIRE(bp_gen_next(g, &C.blk[h], &bd) == UTXO_OK);
        C.bundle_len[h] = utxo_bundle_get_length(bd);
        C.bundle[h] = malloc(C.bundle_len[h]);
        REQUIRE(C.bundle[h] != NULL &&
                utxo_bundle_to_bytes(bd, C.bundle[h], C.bundle_len[h], &w) == UTXO_OK);
        utxo_bundle_free(bd);
    }
    memcpy(C.seq_sk, bp_gen_sequencer_sk(g), 64);
    memcpy(C.wallet0, bp_gen_wallet_id(g, 0), UTXO_HASH_BYTES);
    C.final_utxos = bp_chain_utxo_count(bp_gen_chain(g));
    C.n = N_BLOCKS;
    bp_gen_free(g);
}

static void tmp_path(char *buf, size_t n, const char *tag)
{
    snprintf(buf, n, "%s/test_store_%ld_%s.db", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (long)getpid(), tag);
}

static void rm_db(const char *path)
{
    char b[600];

    unlink(path);
    snprintf(b, sizeof b, "%s-wal", path);
    unlink(b);
    snprintf(b, sizeof b, "%s-shm", path);
    unlink(b);
    snprintf(b, sizeof b, "%s.lock", path);
    unlink(b);
}

static utxo_store *open_new(const char *path)
{
    utxo_store *s = NULL;
    char msg[256];

    rm_db(path);
    ck_assert_int_eq(utxo_store_open(&s, path, &C.p, UTXO_STORE_CREATE, 2, msg, sizeof msg),
                     UTXO_OK);
    return s;
}

static void apply_range(utxo_store *s, uint32_t from, uint32_t to)
{
    for (uint32_t h = from; h < to; h++) {
        utxo_verdict vd;
        int rc = utxo_store_apply_block(s, C.blk[h], &vd);
        ck_assert_msg(rc == UTXO_OK, "block %u: %s (%s)", h, utxo_strerror(rc),
                      utxo_store_errmsg(s));
        ck_assert_int_eq(vd.err, UTXO_OK);
        /* the cache of recent outputs holds only rows the table holds */
        ck_assert_uint_eq(store_coins_check(s), 0);
    }
}

/*
 * A digest of every row of every table, read through a separate SQLite
 * connection (WAL readers see the last commit): two stores with equal
 * digests hold the same bytes in every column.
 */
static void dump_digest(const char *path, uint8_t out[32])
{
    static const char *const q[] = {
        "SELECT * FROM meta",
        "SELECT * FROM blocks ORDER BY height",
        "SELECT * FROM utxos ORDER BY outpoint",
        "SELECT * FROM nodes ORDER BY key",
        "SELECT * FROM undo ORDER BY height",
        "SELECT * FROM bundles ORDER BY height",
        "SELECT * FROM txs ORDER BY txid",
    };
    crypto_generichash_state st;
    sqlite3 *db;

    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    crypto_generichash_init(&st, NULL, 0, 32);
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        sqlite3_stmt *s;
        ck_assert_int_eq(sqlite3_prepare_v2(db, q[i], -1, &s, NULL), SQLITE_OK);
        crypto_generichash_update(&st, (const uint8_t *)q[i], strlen(q[i]));
        while (sqlite3_step(s) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(s); c++) {
                int type = sqlite3_column_type(s, c);
                uint8_t t = (uint8_t)type;
                crypto_generichash_update(&st, &t, 1);
                if (type == SQLITE_INTEGER) {
                    sqlite3_int64 v = sqlite3_column_int64(s, c);
                    crypto_generichash_update(&st, (const uint8_t *)&v, sizeof v);
                } else if (type == SQLITE_BLOB || type == SQLITE_TEXT) {
                    uint32_t n = (uint32_t)sqlite3_column_bytes(s, c);
                    const void *p = sqlite3_column_blob(s, c);
                    crypto_generichash_update(&st, (const uint8_t *)&n, sizeof n);
                    if (n)
                        crypto_generichash_update(&st, p, n);
                }
            }
        }
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
    crypto_generichash_final(&st, out, 32);
}

static void sql_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    char *err = NULL;

    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK, "%s: %s", sql,
                  err ? err : "");
    sqlite3_close(db);
}

/* A copy of block h with witness args of (t, i) changed, or its prevout
 * index, or its digest; tx root and signature redone. */
enum tamper { T_WITNESS, T_PREVOUT, T_DIGEST, T_SIG, T_HEIGHT };

static utxo_block *tampered(uint32_t h, enum tamper how, uint32_t *t_out)
{
    size_t len = utxo_block_get_length(C.blk[h]), w;
    uint8_t *buf = malloc(len);
    utxo_block *b = NULL;
    uint32_t t = 0;

    ck_assert_int_eq(utxo_block_to_bytes(C.blk[h], buf, len, &w), UTXO_OK);
    ck_assert_int_eq(utxo_block_from_bytes(&b, buf, len, &C.p, NULL), UTXO_OK);
    free(buf);
    /* the last payment with a non-empty argument (a signature) */
    for (uint32_t k = 1; k < b->n_txs; k++)
        if (b->txs[k]->inputs[0].witness.args_len > 0)
            t = k;
    ck_assert_uint_gt(t, 0);
    switch (how) {
    case T_WITNESS:
        b->txs[t]->inputs[0].witness.args[5] ^= 1;
        break;
    case T_PREVOUT:
        b->txs[t]->inputs[0].prevout.index += 1000;
        break;
    case T_DIGEST:
        b->header.acc_digest[0] ^= 1;
        break;
    case T_HEIGHT:
        b->header.height += 1;
        break;
    case T_SIG:
        break;
    }
    ck_assert_int_eq(utxo_block_tx_root(b, b->header.tx_root), UTXO_OK);
    ck_assert_int_eq(utxo_header_sign(&b->header, C.seq_sk), UTXO_OK);
    if (how == T_SIG)
        b->header.sig[3] ^= 0x40;
    *t_out = t;
    return b;
}

START_TEST(replay_matches_builder)
{
    char path[512];
    utxo_store *s;
    utxo_store_info info;
    uint8_t acc[ACC_STATE_MAX_BYTES], state5[ACC_STATE_MAX_BYTES];
    size_t acc_len, state5_len = 0;

    tmp_path(path, sizeof path, "replay");
    s = open_new(path);
    for (uint32_t h = 0; h < C.n; h++) {
        uint8_t *bd = NULL, hash[32];
        size_t bl = 0;
        apply_range(s, h, h + 1);
        utxo_store_get_info(s, &info);
        ck_assert_uint_eq(info.n_blocks, h + 1);
        ck_assert_mem_eq(info.acc_digest, C.blk[h]->header.acc_digest, 32);
        utxo_header_hash(&C.blk[h]->header, hash);
        ck_assert_mem_eq(info.tip_hash, hash, 32);
        /* the store's bundle is the chain builder's, byte for byte */
        ck_assert_int_eq(utxo_store_get_bundle(s, h, &bd, &bl), UTXO_OK);
        ck_assert_uint_eq(bl, C.bundle_len[h]);
        ck_assert_mem_eq(bd, C.bundle[h], bl);
        free(bd);
        /* the state after block h, walked, is the tip state */
        {
            uint8_t at[ACC_STATE_MAX_BYTES];
            size_t at_len = 0;
            ck_assert_int_eq(utxo_store_acc_state(s, acc, sizeof acc, &acc_len), UTXO_OK);
            ck_assert_int_eq(utxo_store_acc_state_at(s, h, at, sizeof at, &at_len), UTXO_OK);
            ck_assert_uint_eq(at_len, acc_len);
            ck_assert_mem_eq(at, acc, acc_len);
            if (h == 5) {
                memcpy(state5, at, at_len);
                state5_len = at_len;
            }
        }
    }
    /* back to an earlier height (a fresh walk), and past the tip */
    {
        uint8_t at[ACC_STATE_MAX_BYTES];
        size_t at_len = 0;
        ck_assert_int_eq(utxo_store_acc_state_at(s, 5, at, sizeof at, &at_len), UTXO_OK);
        ck_assert_uint_eq(at_len, state5_len);
        ck_assert_mem_eq(at, state5, at_len);
        ck_assert_int_eq(utxo_store_acc_state_at(s, C.n, at, sizeof at, &at_len),
                         UTXO_ERR_STORE_HEIGHT);
        ck_assert_int_eq(utxo_store_acc_state_at(s, 5, at, 8, &at_len), UTXO_ERR_ARG);
    }
    utxo_store_get_info(s, &info);
    ck_assert_uint_eq(info.n_utxos, C.final_utxos);
    ck_assert_int_eq(utxo_store_acc_state(s, acc, sizeof acc, &acc_len), UTXO_OK);
    ck_assert_uint_eq(acc_len, 8 + 32 * (size_t)__builtin_popcountll(info.leaf_count));
    /* a stored block comes back identical */
    {
        utxo_block *b = NULL;
        uint8_t *bytes = NULL, *want;
        size_t n = 0, wl = utxo_block_get_length(C.blk[5]), w;
        ck_assert_int_eq(utxo_store_get_block(s, 5, &b, &bytes, &n), UTXO_OK);
        want = malloc(wl);
        ck_assert_int_eq(utxo_block_to_bytes(C.blk[5], want, wl, &w), UTXO_OK);
        ck_assert_uint_eq(n, wl);
        ck_assert_mem_eq(bytes, want, wl);
        ck_assert_uint_eq(b->n_txs, C.blk[5]->n_txs);
        utxo_block_free(b);
        free(bytes);
        free(want);
        ck_assert_int_eq(utxo_store_get_block(s, C.n, &b, NULL, NULL), UTXO_ERR_STORE_HEIGHT);
        ck_assert_int_eq(utxo_store_get_bundle(s, C.n, &bytes, &n), UTXO_ERR_STORE_HEIGHT);
    }
    /* a block applied twice is refused (height) and changes nothing */
    {
        uint8_t d0[32], d1[32];
        utxo_verdict vd;
        dump_digest(path, d0);
        ck_assert_int_eq(utxo_store_apply_block(s, C.blk[C.n - 1], &vd), UTXO_ERR_BLOCK_HEIGHT);
        dump_digest(path, d1);
        ck_assert_mem_eq(d0, d1, 32);
    }
    utxo_store_close(s);
    /* reopen: the consistency check passes, the metadata is the same */
    {
        utxo_store_info again;
        char msg[256];
        ck_assert_int_eq(utxo_store_open(&s, path, NULL, 0, 1, msg, sizeof msg), UTXO_OK);
        utxo_store_get_info(s, &again);
        ck_assert_mem_eq(&again, &info, sizeof info);
        utxo_store_close(s);
    }
    utxo_store_close(NULL);
    rm_db(path);
}
END_TEST

static int collect(void *arg, const utxo_store_utxo *u)
{
    uint64_t *v = arg;

    v[0]++;
    v[1] += u->output.value;
    if (memcmp(u->output.predicate_id, C.wallet0, 32) == 0) {
        v[2]++;
        v[3] += u->output.value;
    }
    return 0;
}

static int first_only(void *arg, const utxo_store_utxo *u)
{
    utxo_store_utxo *keep = arg;

    *keep = *u;
    keep->output.datum = NULL;
    return 1;
}

/* A node cache emptied after every block (and growing inside one) gives
 * the same file as the default cache. */
START_TEST(tiny_cache_same_store)
{
    char pa[512], pb[512];
    uint8_t da[32], db[32];
    utxo_store *a, *b;

    tmp_path(pa, sizeof pa, "cachea");
    tmp_path(pb, sizeof pb, "cacheb");
    a = open_new(pa);
    a->nodes.keep = 4;
    apply_range(a, 0, C.n);
    ck_assert_int_eq(utxo_store_rollback(a, 3), UTXO_OK);
    apply_range(a, 4, C.n);
    b = open_new(pb);
    apply_range(b, 0, C.n);
    utxo_store_close(a);
    utxo_store_close(b);
    dump_digest(pa, da);
    dump_digest(pb, db);
    ck_assert_mem_eq(da, db, 32);
    rm_db(pa);
    rm_db(pb);
}
END_TEST

/* A new store on `threads` predicate threads, the pipeline on or off; with
 * it on, groups of at most `group` blocks (0: the store's default count,
 * STORE_GROUP_BLOCKS) and no time bound, so that how the blocks group
 * does not depend on how fast the machine runs them (with the store's
 * one-second bound, a machine some 300 times slower than a laptop, or
 * valgrind's on a loaded one, made one-block groups, and
 * pipeline_same_store's check that some rows were never written failed).
 * The time bound has its own case there (group_ns 0). */
static utxo_store *open_new_with(const char *path, unsigned threads, bool pipeline,
                                 uint32_t group)
{
    utxo_store *s = NULL;
    char msg[256];

    rm_db(path);
    ck_assert_int_eq(utxo_store_open(&s, path, &C.p, UTXO_STORE_CREATE, threads, msg, sizeof msg),
                     UTXO_OK);
    ck_assert_int_eq(utxo_store_set_pipeline(s, pipeline), UTXO_OK);
    if (group != 0) {
        ck_assert_uint_le(group, STORE_GROUP_BLOCKS);
        s->group_max = group;
    }
    s->group_ns = UINT64_MAX;
    return s;
}

/* Group sizes the pipeline tests run: each block alone, groups of 4 (the
 * 14 blocks end inside a group), of 7 (block 6 and block 13 each fill a
 * group: they write its forest nodes before their predicates are known,
 * and the last group is filled but not committed), the default count (one
 * group). */
static const uint32_t groups[] = {1, 4, 7, 0};
#define N_GROUPS (sizeof groups / sizeof groups[0])

/*
 * The pipeline (blocks committed in groups, each COMMIT on the next
 * block's store thread) and the thread count change nothing in the store:
 * every row of every table (the blocks, utxos, forest nodes, undo records,
 * bundles, the meta row with the accumulator roots) is the same bytes with
 * the pipeline on and off, on 1 and 2 threads. While the pipeline holds a
 * group open, other connections see the store of the last group
 * committed, whole: with groups of g, the first g * floor((n - 1) / g)
 * blocks. With no time at all allowed to a group, each block is committed
 * by the next one.
 */
/* Keeps the unspent output of the greatest height. */
static int newest_only(void *arg, const utxo_store_utxo *u)
{
    utxo_store_utxo *keep = arg;

    if (u->height >= keep->height) {
        *keep = *u;
        keep->output.datum = NULL;
    }
    return 0;
}

START_TEST(pipeline_same_store)
{
    char ref[512], path[512];
    uint8_t d_ref[32], d_pre[N_BLOCKS + 1][32], d[32];
    utxo_store_utxo newest;
    utxo_store *s;

    tmp_path(ref, sizeof ref, "piperef");
    s = open_new_with(ref, 1, false, 0);
    dump_digest(ref, d_pre[0]);
    for (uint32_t h = 0; h < C.n; h++) {
        apply_range(s, h, h + 1);
        dump_digest(ref, d_pre[h + 1]);
    }
    memset(&newest, 0, sizeof newest);
    ck_assert_int_eq(utxo_store_each_utxo(s, NULL, newest_only, &newest, NULL, NULL), UTXO_OK);
    ck_assert_uint_eq(newest.height, C.n - 1); /* created by the last block */
    utxo_store_close(s);
    dump_digest(ref, d_ref);
    ck_assert_mem_eq(d_ref, d_pre[C.n], 32);
    tmp_path(path, sizeof path, "pipe");
    for (unsigned threads = 1; threads <= 2; threads++)
        for (size_t g = 0; g <= sizeof groups / sizeof groups[0]; g++) {
            bool on = g < sizeof groups / sizeof groups[0];
            uint32_t group = on ? groups[g] : 0;
            utxo_store_info info;
            s = open_new_with(path, threads, on, group);
            apply_range(s, 0, C.n);
            /* spends of recent outputs were served by the store's cache, and
             * with groups of more than one block, some rows were never
             * written: created and spent within a group */
            ck_assert_uint_gt(s->coins.hits, 0);
            ck_assert((s->coins.rows_skipped > 0) == (on && group != 1));
            utxo_store_get_info(s, &info);
            ck_assert_uint_eq(info.n_blocks, C.n); /* this handle sees the last block */
            if (on) {
                utxo_store_utxo u;
                uint64_t n_rows = 0, total = 0;
                /* the open group's new outputs wait in the cache unless the
                 * last block filled the group; reads through the handle
                 * see them, written into the open transaction */
                if (group == 0 || C.n % group != 0)
                    ck_assert_uint_gt(s->coins.n_pending, 0);
                for (int read = 0; read < 2; read++) /* one thread count reads each first */
                    if ((read == 0) == (threads == 1)) {
                        ck_assert_int_eq(utxo_store_get_utxo(s, &newest.outpoint, &u), UTXO_OK);
                        ck_assert_uint_eq(u.output.value, newest.output.value);
                        ck_assert_uint_eq(u.position, newest.position);
                        free(u.output.datum);
                    } else {
                        ck_assert_int_eq(utxo_store_each_utxo(s, NULL, NULL, NULL, &n_rows,
                                                              &total), UTXO_OK);
                        ck_assert_uint_eq(n_rows, info.n_utxos);
                        ck_assert_uint_eq(total, info.total_value);
                    }
                ck_assert_uint_eq(s->coins.n_pending, 0);
                ck_assert_uint_eq(store_coins_check(s), 0);
            }
            if (on) {
                uint32_t seen = C.n;
                dump_digest(path, d); /* another connection: the last group committed */
                for (uint32_t k = 0; k <= C.n; k++)
                    if (memcmp(d, d_pre[k], 32) == 0)
                        seen = k;
                ck_assert_msg(seen < C.n, "threads %u group %u: open blocks seen", threads, group);
                if (group != 0)
                    ck_assert_uint_eq(seen, group * ((C.n - 1) / group));
                ck_assert_int_eq(utxo_store_flush(s), UTXO_OK);
                ck_assert_int_eq(utxo_store_flush(s), UTXO_OK); /* nothing left: no-op */
            }
            dump_digest(path, d);
            ck_assert_msg(memcmp(d, d_ref, 32) == 0, "threads %u group %u pipeline %d: other bytes",
                          threads, group, on);
            utxo_store_close(s);
            dump_digest(path, d);
            ck_assert_mem_eq(d, d_ref, 32);
        }
    /* no time for a group: each block is committed by the next one */
    s = open_new_with(path, 2, true, 0);
    s->group_ns = 0;
    apply_range(s, 0, C.n);
    ck_assert_uint_eq(s->coins.rows_skipped, 0); /* one-block groups: every row written */
    dump_digest(path, d);
    ck_assert_mem_eq(d, d_pre[C.n - 1], 32);
    utxo_store_close(s);
    /* closing flushes too */
    s = open_new_with(path, 2, true, 0);
    apply_range(s, 0, C.n);
    utxo_store_close(s);
    dump_digest(path, d);
    ck_assert_mem_eq(d, d_ref, 32);
    rm_db(ref);
    rm_db(path);
}
END_TEST

/* The invalid blocks both tests below send: how each is made, the code it
 * is refused with, and whether the verdict names an input. */
static const struct {
    enum tamper how;
    int err;
    bool names_input;
} cases[] = {
    {T_WITNESS, UTXO_ERR_TX_REJECTED, true},
    {T_PREVOUT, UTXO_ERR_TX_MISSING, true},
    {T_DIGEST, UTXO_ERR_BLOCK_DIGEST, false},
    {T_SIG, UTXO_ERR_BLOCK_SIG, false},
    {T_HEIGHT, UTXO_ERR_BLOCK_HEIGHT, false},
};

/* The verdict of the last assert_refused. */
static utxo_verdict vd_last;

/* Applies bad (cases[k], its transaction t) to s: refused with the case's
 * code, naming (t, input 0) when the case names an input, with a message. */
static void assert_refused(utxo_store *s, const utxo_block *bad, size_t k, uint32_t t)
{
    int rc = utxo_store_apply_block(s, bad, &vd_last);
    ck_assert_msg(rc == cases[k].err, "case %zu: %s (%s)", k, utxo_strerror(rc),
                  utxo_store_errmsg(s));
    /* nothing of the refused block (nor of a group rolled back) cached */
    ck_assert_uint_eq(store_coins_check(s), 0);
    ck_assert_int_eq(vd_last.err, rc);
    if (cases[k].names_input) {
        ck_assert_uint_eq(vd_last.tx, t);
        ck_assert_uint_eq(vd_last.input, 0);
    }
    ck_assert_str_ne(utxo_store_errmsg(s), "");
}

/*
 * An invalid block after valid ones in the pipeline: refused with its own
 * reason code and (tx, input) and message, the valid blocks before it
 * committed (seen by another connection), nothing of it written. Cases
 * fail before the block writes (header, missing output: the open group is
 * committed by the failing call) and after (a predicate, the digest). In
 * the second kind, with groups of 1 the store thread committed the block
 * before and this one's transaction is rolled back; with groups of 4, 7
 * and the default the block wrote into the open group (blocks 4-5, 0-5
 * and 0-5: with 7, the bad block fills the group and wrote its forest
 * nodes too), which is rolled back whole and applied again without the
 * bad block. The
 * genuine block and the rest then apply as without a pipeline.
 */
START_TEST(pipeline_invalid_after_valid)
{
    char ref[512], path[512];
    char ref_msg[sizeof cases / sizeof cases[0]][512];
    uint8_t d_h[32], d_all[32], d[32];
    utxo_store *s;
    const uint32_t h = 6;

    tmp_path(ref, sizeof ref, "pinvref");
    s = open_new_with(ref, 2, false, 0);
    apply_range(s, 0, h);
    dump_digest(ref, d_h);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) { /* the reasons without a pipeline */
        uint32_t t;
        utxo_block *bad = tampered(h, cases[k].how, &t);
        assert_refused(s, bad, k, t);
        snprintf(ref_msg[k], sizeof ref_msg[k], "%s", utxo_store_errmsg(s));
        utxo_block_free(bad);
    }
    apply_range(s, h, C.n);
    utxo_store_close(s);
    dump_digest(ref, d_all);
    tmp_path(path, sizeof path, "pinv");
    for (size_t i = 0; i < N_GROUPS * sizeof cases / sizeof cases[0]; i++) {
        size_t k = i / N_GROUPS;
        uint32_t group = groups[i % N_GROUPS], t;
        utxo_store_info info;
        utxo_block *bad = tampered(h, cases[k].how, &t);
        s = open_new_with(path, 2, true, group);
        apply_range(s, 0, h);
        assert_refused(s, bad, k, t);
        if (!cases[k].names_input)
            ck_assert_uint_eq(vd_last.tx, 0);
        /* the bad block's reason, as without a pipeline */
        ck_assert_msg(strcmp(utxo_store_errmsg(s), ref_msg[k]) == 0, "case %zu group %u: %s",
                      k, group, utxo_store_errmsg(s));
        utxo_store_get_info(s, &info);
        ck_assert_uint_eq(info.n_blocks, h);
        dump_digest(path, d); /* committed: blocks 0 .. h-1, nothing of the bad one */
        ck_assert_msg(memcmp(d, d_h, 32) == 0, "case %zu: not the store of the valid blocks", k);
        apply_range(s, h, C.n);
        ck_assert_int_eq(utxo_store_flush(s), UTXO_OK);
        dump_digest(path, d);
        ck_assert_msg(memcmp(d, d_all, 32) == 0, "case %zu: the rest differs", k);
        utxo_store_close(s);
        utxo_block_free(bad);
    }
    rm_db(ref);
    rm_db(path);
}
END_TEST

static int64_t page_size_of(const char *path)
{
    sqlite3 *db;
    sqlite3_stmt *q;
    int64_t n;

    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &q, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
    n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return n;
}

/* A new store has STORE_PAGE_BYTES pages; a store made with SQLite's
 * default pages (any store made before) opens and grows into the same
 * rows as a new one. */
START_TEST(page_size_new_and_old)
{
    char pa[512], ref[512];
    uint8_t da[32], dref[32];
    utxo_store *s;
    char msg[256];

    tmp_path(ref, sizeof ref, "pageref");
    s = open_new(ref);
    apply_range(s, 0, C.n);
    utxo_store_close(s);
    dump_digest(ref, dref);
    ck_assert_int_eq(page_size_of(ref), STORE_PAGE_BYTES);
    tmp_path(pa, sizeof pa, "page4k");
    s = open_new(pa);
    apply_range(s, 0, C.n / 2);
    utxo_store_close(s);
    sql_exec(pa, "PRAGMA journal_mode = DELETE; PRAGMA page_size = 4096; VACUUM;"
                 " PRAGMA journal_mode = WAL;");
    ck_assert_int_eq(page_size_of(pa), 4096);
    s = NULL;
    ck_assert_int_eq(utxo_store_open(&s, pa, &C.p, 0, 2, msg, sizeof msg), UTXO_OK);
    apply_range(s, C.n / 2, C.n);
    utxo_store_close(s);
    ck_assert_int_eq(page_size_of(pa), 4096);
    dump_digest(pa, da);
    ck_assert_mem_eq(da, dref, 32);
    rm_db(pa);
    rm_db(ref);
}
END_TEST

/*
 * The checkpoint thread copies the WAL into the database while the writer
 * goes on (src/sqlstore/checkpoint.c): once the WAL passes its 1000 pages,
 * the database file grows before the store is closed. Its connection
 * checkpointed nothing before (it had never read, so SQLite had not opened
 * the WAL for it, and its checkpoints returned SQLITE_OK doing nothing):
 * the file stayed at its creation size and the WAL of a sequencer node
 * grew without bound (200 MB after 110 blocks).
 */
START_TEST(checkpoint_thread_copies)
{
    char pa[512], wal[600];
    struct stat st0, st, sw;
    utxo_store *s;
    bool grown = false;

    tmp_path(pa, sizeof pa, "ckpt");
    snprintf(wal, sizeof wal, "%s-wal", pa);
    s = open_new(pa);
    ck_assert_int_eq(stat(pa, &st0), 0);
    apply_range(s, 0, C.n);
    /* back and forth until the database file grows: the thread is woken at
     * 1000 WAL pages (16 MiB of 16 KiB pages), the writer checkpoints
     * itself at 16,000 (256 MiB) */
    memset(&sw, 0, sizeof sw);
    for (int round = 0; round < 400 && !grown; round++) {
        ck_assert_int_eq(utxo_store_rollback(s, 0), UTXO_OK);
        apply_range(s, 1, C.n);
        ck_assert_int_eq(stat(wal, &sw), 0);
        grown = stat(pa, &st) == 0 && st.st_size > st0.st_size;
    }
    ck_assert_msg(grown && sw.st_size < 64 * 1024 * 1024,
                  "the database file grew only once the WAL held %lld bytes", (long long)sw.st_size);
    utxo_store_close(s);
    rm_db(pa);
}
END_TEST

/* utxo_store_get_stats: zeros and one thread before any apply; after a
 * replay, every stage took time within the whole, nodes were written. */
START_TEST(stats_after_replay)
{
    char pa[512];
    utxo_store *s;
    utxo_store_stats st;

    tmp_path(pa, sizeof pa, "stats");
    s = open_new(pa);
    utxo_store_get_stats(s, &st);
    ck_assert_uint_eq(st.ns_total, 0);
    ck_assert_uint_eq(st.node_writes, 0);
    ck_assert_uint_eq(st.threads, 1);
    apply_range(s, 0, C.n);
    utxo_store_get_stats(s, &st);
    ck_assert_uint_eq(st.threads, 2);
    ck_assert_uint_gt(st.ns_total, 0);
    ck_assert_uint_gt(st.ns_commit, 0);
    ck_assert_uint_ge(st.ns_total, st.ns_pre + st.ns_commit);
    ck_assert_uint_gt(st.node_writes, 0);
    utxo_store_close(s);
    utxo_store_get_stats(NULL, &st);
    ck_assert_uint_eq(st.ns_total, 0);
    ck_assert_uint_eq(st.threads, 0);
    utxo_store_get_stats(NULL, NULL);
    rm_db(pa);
}
END_TEST

START_TEST(queries)
{
    char path[512];
    utxo_store *s;
    utxo_store_info info;
    uint64_t v[4] = {0}, n = 0, total = 0;
    utxo_store_utxo first, got;
    utxo_outpoint spent;

    tmp_path(path, sizeof path, "query");
    s = open_new(path);
    apply_range(s, 0, C.n);
    utxo_store_get_info(s, &info);
    ck_assert_int_eq(utxo_store_each_utxo(s, NULL, collect, v, &n, &total), UTXO_OK);
    ck_assert_uint_eq(n, info.n_utxos);
    ck_assert_uint_eq(v[0], n);
    ck_assert_uint_eq(total, info.total_value);
    ck_assert_uint_eq(v[1], total);
    ck_assert_uint_gt(v[2], 0);
    /* by predicate id: the same outputs as filtering the full list */
    ck_assert_int_eq(utxo_store_each_utxo(s, C.wallet0, NULL, NULL, &n, &total), UTXO_OK);
    ck_assert_uint_eq(n, v[2]);
    ck_assert_uint_eq(total, v[3]);
    /* by outpoint */
    ck_assert_int_eq(utxo_store_each_utxo(s, NULL, first_only, &first, &n, NULL), UTXO_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(utxo_store_get_utxo(s, &first.outpoint, &got), UTXO_OK);
    ck_assert_uint_eq(got.output.value, first.output.value);
    ck_assert_uint_eq(got.position, first.position);
    ck_assert_uint_eq(got.height, first.height);
    ck_assert_mem_eq(got.output.predicate_id, first.output.predicate_id, 32);
    ck_assert_uint_lt(got.position, info.leaf_count);
    free(got.output.datum);
    /* an output spent in block 1 is gone */
    spent = C.blk[1]->txs[1]->inputs[0].prevout;
    ck_assert_int_eq(utxo_store_get_utxo(s, &spent, &got), UTXO_ERR_STORE_NOT_FOUND);
    ck_assert_ptr_null(got.output.datum);
    /* a served proof of an unspent output verifies against the tip's roots
     * with the output's leaf hash, and only at its position */
    {
        uint8_t leaf[32], want[32], stb[ACC_STATE_MAX_BYTES], *pb = NULL;
        size_t pl = 0, sl = 0;
        uint64_t pos = 0;
        acc_state st;
        acc_proof p;
        ck_assert_int_eq(utxo_store_get_utxo(s, &first.outpoint, &got), UTXO_OK);
        ck_assert_int_eq(utxo_store_prove_utxo(s, &first.outpoint, &pos, leaf, &pb, &pl), UTXO_OK);
        ck_assert_uint_eq(pos, got.position);
        acc_leaf_hash(want, &first.outpoint, &got.output, got.height, got.position);
        ck_assert_mem_eq(leaf, want, 32);
        free(got.output.datum);
        ck_assert_int_eq(utxo_store_acc_state(s, stb, sizeof stb, &sl), UTXO_OK);
        ck_assert_int_eq(acc_state_from_bytes(&st, stb, sl, NULL), UTXO_OK);
        acc_proof_init(&p);
        ck_assert_int_eq(acc_proof_from_bytes(&p, pb, pl, st.count, NULL), UTXO_OK);
        ck_assert_uint_eq(p.n_targets, 1);
        ck_assert_uint_eq(p.targets[0], pos);
        ck_assert_int_eq(acc_stateless_verify(&st, &p, (const acc_hash *)leaf, 1), UTXO_OK);
        leaf[0] ^= 1;
        ck_assert_int_ne(acc_stateless_verify(&st, &p, (const acc_hash *)leaf, 1), UTXO_OK);
        acc_proof_clear(&p);
        free(pb);
        pb = NULL;
        ck_assert_int_eq(utxo_store_prove_utxo(s, &spent, &pos, leaf, &pb, &pl),
                         UTXO_ERR_STORE_NOT_FOUND);
        ck_assert_ptr_null(pb);
    }
    utxo_store_close(s);
    rm_db(path);
}
END_TEST

/* Every output of a walk, copied (datums kept). */
typedef struct rows {
    utxo_store_utxo *u;
    size_t n, cap;
    size_t stop_after; /* fn stops after this many rows (0: never) */
} rows;

static int keep_row(void *arg, const utxo_store_utxo *u)
{
    rows *r = arg;

    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->u = realloc(r->u, r->cap * sizeof *r->u);
        ck_assert_ptr_nonnull(r->u);
    }
    r->u[r->n] = *u;
    r->u[r->n].output.datum = NULL;
    if (u->output.datum_len) {
        r->u[r->n].output.datum = malloc(u->output.datum_len);
        ck_assert_ptr_nonnull(r->u[r->n].output.datum);
        memcpy(r->u[r->n].output.datum, u->output.datum, u->output.datum_len);
    }
    r->n++;
    return r->stop_after != 0 && r->n == r->stop_after;
}

static void rows_free(rows *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->u[i].output.datum);
    free(r->u);
    memset(r, 0, sizeof *r);
}

static int op_cmp(const utxo_outpoint *a, const utxo_outpoint *b)
{
    int d = memcmp(a->txid, b->txid, UTXO_HASH_BYTES);
    return d != 0 ? d : a->index < b->index ? -1 : a->index > b->index;
}

static void same_row(const utxo_store_utxo *a, const utxo_store_utxo *b)
{
    ck_assert_int_eq(op_cmp(&a->outpoint, &b->outpoint), 0);
    ck_assert_uint_eq(a->output.value, b->output.value);
    ck_assert_mem_eq(a->output.predicate_id, b->output.predicate_id, UTXO_HASH_BYTES);
    ck_assert_uint_eq(a->output.datum_len, b->output.datum_len);
    if (a->output.datum_len)
        ck_assert_mem_eq(a->output.datum, b->output.datum, a->output.datum_len);
    ck_assert_uint_eq(a->height, b->height);
    ck_assert_uint_eq(a->position, b->position);
}

/* The rows of all (the full walk of pred) after cursor (NULL: all), at
 * most max, must be what one page gives. */
static void check_page(utxo_store *s, const uint8_t *pred, const rows *all,
                       const utxo_outpoint *cursor, uint64_t max)
{
    rows page = {0};
    size_t from = 0;

    ck_assert_int_eq(utxo_store_each_utxo_after(s, pred, cursor, max, keep_row, &page), UTXO_OK);
    if (cursor)
        while (from < all->n && op_cmp(&all->u[from].outpoint, cursor) <= 0)
            from++;
    size_t want = all->n - from;
    if (max < want)
        want = (size_t)max;
    ck_assert_uint_eq(page.n, want);
    for (size_t i = 0; i < page.n; i++)
        same_row(&page.u[i], &all->u[from + i]);
    rows_free(&page);
}

/* Pages of k through pred's outputs, each starting after the last of the
 * one before: every row of the full walk once, in order. */
static void page_through(utxo_store *s, const uint8_t *pred, const rows *all, uint64_t k)
{
    utxo_outpoint cur;
    size_t seen = 0, pages = 0;

    for (;;) {
        rows page = {0};
        ck_assert_int_eq(utxo_store_each_utxo_after(s, pred, seen ? &cur : NULL, k, keep_row,
                                                    &page),
                         UTXO_OK);
        ck_assert_uint_le(page.n, k);
        for (size_t i = 0; i < page.n; i++) {
            ck_assert_uint_lt(seen, all->n);
            same_row(&page.u[i], &all->u[seen++]);
        }
        if (page.n > 0)
            cur = page.u[page.n - 1].outpoint;
        size_t got = page.n;
        rows_free(&page);
        pages++;
        if (got < k)
            break;
        ck_assert_uint_le(pages, all->n + 1);
    }
    ck_assert_uint_eq(seen, all->n);
}

/* The plan of statement st (EXPLAIN QUERY PLAN) holds want and sorts
 * nothing. */
static void plan_has(utxo_store *s, enum store_stmt st, const char *want)
{
    char sql[512], plan[1024] = "";
    sqlite3_stmt *q;

    snprintf(sql, sizeof sql, "EXPLAIN QUERY PLAN %s", sqlite3_sql(s->st[st]));
    ck_assert_int_eq(sqlite3_prepare_v2(s->db, sql, -1, &q, NULL), SQLITE_OK);
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *d = (const char *)sqlite3_column_text(q, 3);
        strncat(plan, d ? d : "", sizeof plan - strlen(plan) - 2);
        strcat(plan, ";");
    }
    sqlite3_finalize(q);
    ck_assert_msg(strstr(plan, want) != NULL, "plan of %s: %s", sqlite3_sql(s->st[st]), plan);
    ck_assert_msg(strstr(plan, "TEMP B-TREE") == NULL, "plan sorts: %s", plan);
}

/* Keyset pages (utxo_store_each_utxo_after) against the full walk, for
 * every output and for each predicate id: pages of 1, 2, 3, 7 and
 * unbounded; cursors before the first, equal to each output, between two
 * (index + 1, index 2^32 - 1, the txid's last byte changed: outpoints
 * that were never made), a spent one, after the last; a callback that
 * stops. The count and total (utxo_store_count_utxos, one aggregate) are
 * the walk's. The page queries seek on the index and sort nothing; with
 * the pipeline's group open, the pages are the same. */
START_TEST(each_utxo_pages)
{
    char path[512], pathp[512];
    utxo_store *s, *sp;
    rows all = {0};
    uint8_t preds[64][UTXO_HASH_BYTES];
    size_t n_preds = 0, best = 0, best_n = 0;
    const uint64_t ks[] = {1, 2, 3, 7, UINT64_MAX};

    tmp_path(path, sizeof path, "pages");
    s = open_new(path);
    apply_range(s, 0, C.n);
    ck_assert_int_eq(utxo_store_each_utxo(s, NULL, keep_row, &all, NULL, NULL), UTXO_OK);
    ck_assert_uint_gt(all.n, 20);
    for (size_t i = 1; i < all.n; i++)
        ck_assert_int_lt(op_cmp(&all.u[i - 1].outpoint, &all.u[i].outpoint), 0);
    for (size_t i = 0; i < all.n; i++) {
        size_t j = 0;
        while (j < n_preds && memcmp(preds[j], all.u[i].output.predicate_id, 32) != 0)
            j++;
        if (j == n_preds && n_preds < 64)
            memcpy(preds[n_preds++], all.u[i].output.predicate_id, 32);
    }
    ck_assert_uint_gt(n_preds, 1);

    /* every output: paged, and from each cursor */
    for (size_t k = 0; k < sizeof ks / sizeof ks[0]; k++)
        page_through(s, NULL, &all, ks[k]);
    {
        utxo_outpoint c;
        memset(&c, 0, sizeof c);
        check_page(s, NULL, &all, &c, 5);          /* before the first */
        check_page(s, NULL, &all, NULL, 5);
        memset(&c, 0xff, sizeof c.txid);
        c.index = UINT32_MAX;
        check_page(s, NULL, &all, &c, 5);          /* after the last: none */
        check_page(s, NULL, &all, &all.u[all.n - 1].outpoint, 5);
        c = C.blk[1]->txs[1]->inputs[0].prevout;   /* spent */
        check_page(s, NULL, &all, &c, 5);
        for (size_t i = 0; i < all.n; i++) {
            check_page(s, NULL, &all, &all.u[i].outpoint, 3);   /* equal */
            c = all.u[i].outpoint;
            c.index++;                                          /* next index */
            check_page(s, NULL, &all, &c, 3);
            c.index = UINT32_MAX;                               /* end of its tx */
            check_page(s, NULL, &all, &c, 3);
            c = all.u[i].outpoint;
            c.txid[31] ^= 1;                                    /* unknown */
            check_page(s, NULL, &all, &c, 2);
        }
    }
    /* each predicate id: its walk, paged and from each cursor */
    for (size_t p = 0; p < n_preds; p++) {
        rows mine = {0};
        uint64_t n = 0, total = 0, sum = 0;
        ck_assert_int_eq(utxo_store_each_utxo(s, preds[p], keep_row, &mine, NULL, NULL), UTXO_OK);
        for (size_t i = 0; i < all.n; i++)
            if (memcmp(all.u[i].output.predicate_id, preds[p], 32) == 0)
                sum += all.u[i].output.value, n++;
        ck_assert_uint_eq(mine.n, n);
        ck_assert_int_eq(utxo_store_count_utxos(s, preds[p], &n, &total), UTXO_OK);
        ck_assert_uint_eq(n, mine.n);
        ck_assert_uint_eq(total, sum);
        if (mine.n > best_n)
            best = p, best_n = mine.n;
        for (size_t k = 0; k < sizeof ks / sizeof ks[0]; k++)
            page_through(s, preds[p], &mine, ks[k]);
        for (size_t i = 0; i < all.n; i++) { /* cursors from every output, any id */
            utxo_outpoint c = all.u[i].outpoint;
            check_page(s, preds[p], &mine, &c, 2);
            c.txid[31] ^= 1;
            check_page(s, preds[p], &mine, &c, 2);
        }
        rows_free(&mine);
    }
    ck_assert_uint_gt(best_n, 3);
    {
        /* the callback stops: UTXO_OK, no row after */
        rows r = {.stop_after = 2};
        ck_assert_int_eq(utxo_store_each_utxo_after(s, preds[best], NULL, 10, keep_row, &r),
                         UTXO_OK);
        ck_assert_uint_eq(r.n, 2);
        rows_free(&r);
        /* none asked, no callback, no store */
        ck_assert_int_eq(utxo_store_each_utxo_after(s, NULL, NULL, 0, keep_row, &r), UTXO_OK);
        ck_assert_uint_eq(r.n, 0);
        ck_assert_int_eq(utxo_store_each_utxo_after(s, NULL, NULL, 1, NULL, NULL), UTXO_ERR_ARG);
        ck_assert_int_eq(utxo_store_each_utxo_after(NULL, NULL, NULL, 1, keep_row, &r),
                         UTXO_ERR_ARG);
    }
    {
        /* count and total: every output, an id with none */
        uint64_t n = 1, total = 1, sum = 0;
        uint8_t nobody[32];
        for (size_t i = 0; i < all.n; i++)
            sum += all.u[i].output.value;
        ck_assert_int_eq(utxo_store_count_utxos(s, NULL, &n, &total), UTXO_OK);
        ck_assert_uint_eq(n, all.n);
        ck_assert_uint_eq(total, sum);
        memset(nobody, 0x5a, sizeof nobody);
        ck_assert_int_eq(utxo_store_count_utxos(s, nobody, &n, &total), UTXO_OK);
        ck_assert_uint_eq(n, 0);
        ck_assert_uint_eq(total, 0);
        ck_assert_int_eq(utxo_store_count_utxos(NULL, nobody, &n, &total), UTXO_ERR_ARG);
    }
    /* the plans: a seek to the cursor in outpoint order, no sort, no scan
     * of the rows before it; the aggregate through the index */
    plan_has(s, ST_UTXO_AFTER_PRED, "INDEX utxos_predicate (predicate=? AND outpoint>?)");
    plan_has(s, ST_UTXO_AFTER, "PRIMARY KEY (outpoint>?)");
    plan_has(s, ST_UTXO_SUM_PRED, "INDEX utxos_predicate (predicate=?)");
    ck_assert_int_eq(sqlite3_stmt_status(s->st[ST_UTXO_AFTER_PRED], SQLITE_STMTSTATUS_SORT, 0), 0);
    ck_assert_int_eq(
        sqlite3_stmt_status(s->st[ST_UTXO_AFTER_PRED], SQLITE_STMTSTATUS_FULLSCAN_STEP, 0), 0);
    ck_assert_int_eq(sqlite3_stmt_status(s->st[ST_UTXO_AFTER], SQLITE_STMTSTATUS_SORT, 0), 0);
    ck_assert_int_eq(sqlite3_stmt_status(s->st[ST_UTXO_AFTER], SQLITE_STMTSTATUS_FULLSCAN_STEP, 0),
                     0);

    /* the pipeline's group open: the same pages */
    tmp_path(pathp, sizeof pathp, "pages_pipe");
    sp = open_new(pathp);
    ck_assert_int_eq(utxo_store_set_pipeline(sp, true), UTXO_OK);
    apply_range(sp, 0, C.n);
    page_through(sp, NULL, &all, 4);
    {
        rows mine = {0};
        uint64_t n = 0;
        ck_assert_int_eq(utxo_store_each_utxo(s, preds[best], keep_row, &mine, NULL, NULL),
                         UTXO_OK);
        page_through(sp, preds[best], &mine, 3);
        ck_assert_int_eq(utxo_store_count_utxos(sp, preds[best], &n, NULL), UTXO_OK);
        ck_assert_uint_eq(n, mine.n);
        rows_free(&mine);
    }
    utxo_store_close(sp);
    rm_db(pathp);
    rows_free(&all);
    utxo_store_close(s);
    rm_db(path);
}
END_TEST

/* utxo_store_errmsg is the last call's: after a call that failed with a
 * message, each later call that succeeds, or that refuses its arguments,
 * leaves "" rather than the old text. */
START_TEST(errmsg_is_the_last_calls)
{
    char path[512];
    utxo_store *s;
    uint8_t buf[ACC_STATE_MAX_BYTES], *bytes = NULL;
    size_t w = 0, len = 0;

    tmp_path(path, sizeof path, "errmsg");
    s = open_new(path);
    apply_range(s, 0, 3);
#define AFTER_FAILURE(call, want)                                                          \
    do {                                                                                   \
        ck_assert_int_eq(utxo_store_get_bundle(s, 99, &bytes, &len), UTXO_ERR_STORE_HEIGHT); \
        ck_assert_str_ne(utxo_store_errmsg(s), "");                                        \
        ck_assert_int_eq((call), (want));                                                  \
        ck_assert_msg(utxo_store_errmsg(s)[0] == '\0', "%s: stale message '%s'", #call,     \
                      utxo_store_errmsg(s));                                               \
    } while (0)
    AFTER_FAILURE(utxo_store_acc_state(s, buf, sizeof buf, &w), UTXO_OK);
    AFTER_FAILURE(utxo_store_acc_state_at(s, 1, buf, sizeof buf, &w), UTXO_OK);
    AFTER_FAILURE(utxo_store_set_pipeline(s, true), UTXO_OK);
    AFTER_FAILURE(utxo_store_flush(s), UTXO_OK);
    AFTER_FAILURE(utxo_store_set_pipeline(s, false), UTXO_OK);
    AFTER_FAILURE(utxo_store_get_block(s, 0, NULL, &bytes, NULL), UTXO_ERR_ARG);
    AFTER_FAILURE(utxo_store_find_tx(s, NULL, NULL, NULL), UTXO_ERR_ARG);
    AFTER_FAILURE(utxo_store_get_bundle(s, 0, NULL, NULL), UTXO_ERR_ARG);
    AFTER_FAILURE(utxo_store_get_utxo(s, NULL, NULL), UTXO_ERR_ARG);
    AFTER_FAILURE(utxo_store_prove_utxo(s, NULL, NULL, NULL, NULL, NULL), UTXO_ERR_ARG);
#undef AFTER_FAILURE
    /* a refused apply always says why, its own reason */
    ck_assert_int_eq(utxo_store_get_bundle(s, 99, &bytes, &len), UTXO_ERR_STORE_HEIGHT);
    ck_assert_int_eq(utxo_store_apply_block(s, NULL, NULL), UTXO_ERR_ARG);
    ck_assert_str_eq(utxo_store_errmsg(s), utxo_strerror(UTXO_ERR_ARG));
    utxo_store_close(s);
    rm_db(path);
}
END_TEST

/*
 * The cache of recent outputs (coins.c) as a table, against a plain array
 * of what it should hold: random puts (with datums), gets and deletes of
 * present and absent outpoints, outpoints that share a txid, a put over a
 * present outpoint; then filling it past STORE_COINS_MAX empties it and it
 * starts again; an oversized datum is not kept; NULL-safe before init.
 */
#define COIN_N 3000
/* The forest's node cache grows by doubling and, emptied (past its bound
 * after a flush, or on a rollback), keeps the capacity it reached: filling
 * it again to the same size grows nothing (no rehash, no fresh pages). */
START_TEST(node_cache_keeps_capacity)
{
    const size_t fill = STORE_NODES_MIN; /* past 70% of the first capacity */
    store_nodes n;
    uint8_t h[ACC_HASH_BYTES], out[ACC_HASH_BYTES];
    size_t cap;

    ck_assert_int_eq(store_nodes_init(&n, NULL, 0), UTXO_OK);
    ck_assert_uint_eq(n.cap, STORE_NODES_MIN);
    for (int round = 0; round < 3; round++) {
        for (uint64_t i = 0; i < fill; i++) { /* appended leaves: no SQL */
            memset(h, 0, sizeof h);
            memcpy(h, &i, sizeof i);
            h[31] = (uint8_t)(round + 1);
            ck_assert_int_eq(store_node_ops.put(&n, 0, i, h), UTXO_OK);
        }
        ck_assert_uint_eq(n.used, fill);
        ck_assert_uint_eq(n.dirty, fill);
        if (round == 0)
            cap = n.cap;
        /* grown once, to its size after the first round, and never again */
        ck_assert_uint_eq(n.n_grown, 1);
        ck_assert_uint_eq(n.cap, cap);
        ck_assert_uint_eq(cap, STORE_NODES_MIN << 1);
        for (uint64_t i = 0; i < fill; i += 97) { /* hits: no SQL either */
            ck_assert_int_eq(store_node_ops.get(&n, 0, i, out), UTXO_OK);
            ck_assert_uint_eq(out[31], round + 1);
            ck_assert_mem_eq(out, &i, sizeof i);
        }
        store_nodes_reset(&n, 0); /* a rollback empties it */
        ck_assert_uint_eq(n.used, 0);
        ck_assert_uint_eq(n.dirty, 0);
        ck_assert_uint_eq(n.cap, cap);
    }
    store_nodes_free(&n);
}
END_TEST

/* Puts output `index` of the transaction whose table key is base. */
static bool put_sibling(store_coins *c, const uint8_t base[STORE_OUTPOINT_KEY_BYTES],
                        uint32_t index, const utxo_output *o, uint64_t position, bool pending)
{
    utxo_outpoint x;
    uint8_t key[STORE_OUTPOINT_KEY_BYTES];

    store_outpoint_from_key(&x, base);
    x.index = index;
    store_outpoint_key(key, &x);
    return store_coins_put(c, key, o, 0, position, pending);
}

START_TEST(coins_table)
{
    static uint8_t op[COIN_N][STORE_OUTPOINT_KEY_BYTES]; /* table keys */
    static uint8_t datum[COIN_N][8];
    static bool in[COIN_N], pend[COIN_N];
    store_coins c, none;
    size_t n_pend = 0;
    utxo_output o;
    cn_spent e;
    uint64_t rng = 0x9e3779b97f4a7c15u;

    memset(&none, 0, sizeof none); /* never initialised: every call a no-op */
    memset(&o, 0, sizeof o);
    ck_assert(!store_coins_put(&none, op[0], &o, 1, 1, true));
    ck_assert_ptr_null(store_coins_get(&none, op[0]));
    ck_assert(!store_coins_del(&none, op[0]));
    store_coins_clear(&none);
    store_coins_free(&none);
    ck_assert_int_eq(store_coins_init(&c), UTXO_OK);
    for (size_t i = 0; i < COIN_N; i++) {
        utxo_outpoint x;
        randombytes_buf(x.txid, UTXO_HASH_BYTES);
        x.index = (uint32_t)(i % 5);
        if (i % 3 == 1) { /* the next output of the transaction before */
            store_outpoint_from_key(&x, op[i - 1]);
            x.index++;
        }
        store_outpoint_key(op[i], &x);
        randombytes_buf(datum[i], sizeof datum[i]);
    }
    for (int round = 0; round < 20000; round++) {
        size_t i;
        rng = rng * 6364136223846793005u + 1442695040888963407u;
        i = (size_t)(rng >> 33) % COIN_N;
        switch ((rng >> 20) % 3) {
        case 0: /* put (over a present one: the row was replaced) */
            o.value = i;
            memset(o.predicate_id, (int)(i & 0xff), UTXO_HASH_BYTES);
            o.datum = i % 2 ? datum[i] : NULL;
            o.datum_len = i % 2 ? (uint32_t)(1 + i % 8) : 0;
            /* a quarter as pending rows (a replacement takes the new one's state) */
            n_pend -= in[i] && pend[i];
            pend[i] = (rng >> 40) % 4 == 0;
            n_pend += pend[i];
            ck_assert(store_coins_put(&c, op[i], &o, (uint32_t)i * 7, i * 11, pend[i]));
            in[i] = true;
            break;
        case 1: /* true exactly for a pending row */
            ck_assert(store_coins_del(&c, op[i]) == (in[i] && pend[i]));
            n_pend -= in[i] && pend[i];
            in[i] = pend[i] = false;
            break;
        default:
            break;
        }
        ck_assert_uint_eq(c.n_pending, n_pend);
        if (round % 1000 == 999) /* the pending list is exactly the pending entries */
            for (size_t k = 0; k < COIN_N; k++) {
                const store_coin *hit = store_coins_get(&c, op[k]);
                bool listed = false;
                for (size_t j = 0; hit != NULL && j < c.n_pending; j++)
                    listed |= c.pend[j] == hit;
                ck_assert_msg(listed == (in[k] && pend[k]), "round %d outpoint %zu", round, k);
            }
        for (size_t k = (size_t)(rng % 97); k < COIN_N; k += 97) { /* a sample of gets */
            const store_coin *hit = store_coins_get(&c, op[k]);
            ck_assert_msg((hit != NULL) == in[k], "round %d outpoint %zu", round, k);
            if (hit != NULL) {
                const uint8_t *d = store_coin_read(hit, &e);
                ck_assert_uint_eq(e.output.value, k);
                ck_assert_uint_eq(e.height, k * 7);
                ck_assert_uint_eq(e.position, k * 11);
                ck_assert_uint_eq(e.output.predicate_id[31], k & 0xff);
                ck_assert_uint_eq(e.output.datum_len, k % 2 ? 1 + k % 8 : 0);
                if (k % 2)
                    ck_assert_mem_eq(d, datum[k], 1 + k % 8);
            }
        }
    }
    for (size_t k = 0; k < COIN_N; k++)
        ck_assert((store_coins_get(&c, op[k]) != NULL) == in[k]);
    /* emptied; past the bound: emptied again, then the newest is held */
    store_coins_clear(&c);
    ck_assert_uint_eq(c.n, 0);
    ck_assert_uint_eq(c.n_pending, 0);
    ck_assert_ptr_null(store_coins_get(&c, op[0]));
    memset(&o, 0, sizeof o);
    for (uint32_t k = 0; k <= STORE_COINS_MAX; k++)
        ck_assert(put_sibling(&c, op[0], 1000000 + k, &o, k, false));
    ck_assert_uint_eq(c.n, 1);
    o.datum_len = STORE_COINS_BYTES + 1; /* refused before anything: not copied, */
    o.datum = datum[0];                  /* nothing emptied */
    ck_assert(!store_coins_put(&c, op[1], &o, 0, 0, false));
    ck_assert(!store_coins_put(&c, op[1], &o, 0, 0, true));
    ck_assert_ptr_null(store_coins_get(&c, op[1]));
    ck_assert_uint_eq(c.n, 1);
    /* full of pending rows: nothing is dropped, the next put is refused */
    memset(&o, 0, sizeof o);
    store_coins_clear(&c);
    for (uint32_t k = 0; k <= STORE_COINS_MAX; k++)
        ck_assert(put_sibling(&c, op[0], 2000000 + k, &o, k, k > 0) == (k < STORE_COINS_MAX));
    ck_assert_uint_eq(c.n, STORE_COINS_MAX);
    ck_assert_uint_eq(c.n_pending, STORE_COINS_MAX - 1);
    ck_assert(!store_coins_put(&c, op[2], &o, 0, 0, false));
    ck_assert_ptr_null(store_coins_get(&c, op[2]));
    store_coins_free(&c);
}
END_TEST

START_TEST(rollback_equals_fresh_replay)
{
    char pa[512], pb[512];
    uint8_t da[32], db[32];
    utxo_store *a, *b;
    const uint32_t targets[] = {9, 4, 0};

    tmp_path(pa, sizeof pa, "rba");
    tmp_path(pb, sizeof pb, "rbb");
    a = open_new(pa);
    apply_range(a, 0, C.n);
    ck_assert_int_eq(utxo_store_rollback(a, C.n), UTXO_ERR_STORE_HEIGHT);
    ck_assert_int_eq(utxo_store_rollback(a, C.n - 1), UTXO_OK);   /* the tip: nothing to undo */
    for (size_t k = 0; k < sizeof targets / sizeof targets[0]; k++) {
        uint32_t h = targets[k];
        ck_assert_msg(utxo_store_rollback(a, h) == UTXO_OK, "%s", utxo_store_errmsg(a));
        ck_assert_uint_eq(store_coins_check(a), 0);
        b = open_new(pb);
        apply_range(b, 0, h + 1);
        utxo_store_close(b);
        dump_digest(pa, da);
        dump_digest(pb, db);
        ck_assert_msg(memcmp(da, db, 32) == 0, "rollback to %u differs from a fresh replay", h);
    }
    /* and forward again to the full chain */
    apply_range(a, 1, C.n);
    b = open_new(pb);
    apply_range(b, 0, C.n);
    utxo_store_close(b);
    utxo_store_close(a);
    dump_digest(pa, da);
    dump_digest(pb, db);
    ck_assert_mem_eq(da, db, 32);
    /* the rolled-back store reopens cleanly */
    ck_assert_int_eq(utxo_store_open(&a, pa, &C.p, 0, 1, NULL, 0), UTXO_OK);
    utxo_store_close(a);
    rm_db(pa);
    rm_db(pb);
}
END_TEST

START_TEST(invalid_blocks_change_nothing)
{
    char path[512];
    uint8_t d0[32], d1[32];
    utxo_store *s;
    const uint32_t h = 6;

    tmp_path(path, sizeof path, "invalid");
    s = open_new(path);
    apply_range(s, 0, h);
    dump_digest(path, d0);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        uint32_t t;
        utxo_block *bad = tampered(h, cases[k].how, &t);
        assert_refused(s, bad, k, t);
        dump_digest(path, d1);
        ck_assert_msg(memcmp(d0, d1, 32) == 0, "case %zu changed the store", k);
        utxo_block_free(bad);
    }
    /* the genuine block still applies, and so does the rest */
    apply_range(s, h, C.n);
    utxo_store_close(s);
    rm_db(path);
}
END_TEST

START_TEST(refuses_bad_files)
{
    char path[512], msg[256];
    utxo_store *s;
    utxo_params other;

    tmp_path(path, sizeof path, "bad");
    s = open_new(path);
    apply_range(s, 0, 4);
    utxo_store_close(s);
    /* another chain's parameters */
    other = C.p;
    other.fee_per_byte++;
    ck_assert_int_eq(utxo_store_open(&s, path, &other, 0, 1, msg, sizeof msg), UTXO_ERR_FILE_CHAIN);
    ck_assert_ptr_null(s);
    /* read-only: queries work, writing does not */
    ck_assert_int_eq(utxo_store_open(&s, path, NULL, UTXO_STORE_READONLY, 1, msg, sizeof msg),
                     UTXO_OK);
    ck_assert_int_eq(utxo_store_apply_block(s, C.blk[4], NULL), UTXO_ERR_STORE_READONLY);
    ck_assert_int_eq(utxo_store_rollback(s, 1), UTXO_ERR_STORE_READONLY);
    utxo_store_close(s);
    /* unknown flags, missing file without CREATE */
    ck_assert_int_eq(utxo_store_open(&s, path, NULL, 8, 1, NULL, 0), UTXO_ERR_ARG);
    /* a tampered digest */
    sql_exec(path, "UPDATE meta SET acc_digest = zeroblob(32)");
    ck_assert_int_eq(utxo_store_open(&s, path, NULL, 0, 1, msg, sizeof msg), UTXO_ERR_STORE_CORRUPT);
    ck_assert_ptr_nonnull(strstr(msg, "digest"));
    /* a tip block whose header is not the recorded tip */
    s = open_new(path);
    apply_range(s, 0, 4);
    utxo_store_close(s);
    sql_exec(path, "UPDATE blocks SET header = (SELECT header FROM blocks WHERE height = 1)"
                   " WHERE height = 3");
    ck_assert_int_eq(utxo_store_open(&s, path, NULL, 0, 1, msg, sizeof msg), UTXO_ERR_STORE_CORRUPT);
    ck_assert_ptr_nonnull(strstr(msg, "tip"));
    /* a tampered forest root (the recorded digest restored first) */
    s = open_new(path);
    apply_range(s, 0, 4);
    utxo_store_close(s);
    sql_exec(path, "UPDATE nodes SET hash = zeroblob(31) || x'01'"
                   " WHERE key = (SELECT max(key) FROM nodes)");
    ck_assert_int_eq(utxo_store_open(&s, path, NULL, 0, 1, msg, sizeof msg), UTXO_ERR_STORE_CORRUPT);
    /* an unknown schema version */
    s = open_new(path);
    utxo_store_close(s);
    sql_exec(path, "PRAGMA user_version = 9");
    ck_assert_int_eq(utxo_store_open(&s, path, NULL, 0, 1, msg, sizeof msg), UTXO_ERR_STORE_SCHEMA);
    ck_assert_ptr_nonnull(strstr(msg, "schema version 9"));
    s = open_new(path);
    utxo_store_close(s);
    sql_exec(path, "UPDATE meta SET schema_version = 9");
    ck_assert_int_eq(utxo_store_open(&s, path, NULL, 0, 1, msg, sizeof msg), UTXO_ERR_STORE_SCHEMA);
    /* an SQLite file that is not a store */
    rm_db(path);
    sql_exec(path, "CREATE TABLE t(x)");
    ck_assert_int_eq(utxo_store_open(&s, path, &C.p, UTXO_STORE_CREATE, 1, msg, sizeof msg),
                     UTXO_ERR_FILE_FORMAT);
    /* not SQLite at all */
    rm_db(path);
    {
        FILE *f = fopen(path, "wb");
        fputs("this is not a database, not even close; it is a text file.\n", f);
        fclose(f);
    }
    ck_assert_int_ne(utxo_store_open(&s, path, NULL, 0, 1, msg, sizeof msg), UTXO_OK);
    ck_assert_ptr_null(s);
    /* no file, no CREATE */
    rm_db(path);
    ck_assert_int_ne(utxo_store_open(&s, path, NULL, 0, 1, msg, sizeof msg), UTXO_OK);
    /* CREATE without parameters */
    rm_db(path);
    ck_assert_int_eq(utxo_store_open(&s, path, NULL, UTXO_STORE_CREATE, 1, msg, sizeof msg),
                     UTXO_ERR_ARG);
    rm_db(path);
}
END_TEST

/* Another writer holds the file: apply waits its busy timeout, then
 * reports UTXO_ERR_STORE_BUSY and changes nothing; once the other writer
 * is gone the same block applies. */
START_TEST(second_writer_busy)
{
    char path[512];
    uint8_t d0[32], d1[32];
    utxo_store *s;
    sqlite3 *other;
    utxo_verdict vd;

    tmp_path(path, sizeof path, "busy");
    s = open_new(path);
    apply_range(s, 0, 2);
    dump_digest(path, d0);
    ck_assert_int_eq(sqlite3_open(path, &other), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(utxo_store_apply_block(s, C.blk[2], &vd), UTXO_ERR_STORE_BUSY);
    ck_assert_int_eq(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    dump_digest(path, d1);
    ck_assert_mem_eq(d0, d1, 32);
    apply_range(s, 2, 4);
    utxo_store_close(s);
    rm_db(path);
}
END_TEST

/* A writer that stopped inside a rollback-journal transaction (a child
 * process that switched the store to a rollback journal, spilled pages of
 * an uncommitted transaction and _exit()ed) leaves a hot journal that only
 * a writer can roll back: a read-only open says exactly that (it said
 * "read the store's header: SQLite: attempt to write a readonly
 * database"); a writer rolls it back, and the store is as it was. */
START_TEST(hot_journal_needs_a_writer)
{
    char path[512], jpath[600], msg[512];
    uint8_t d0[32], d1[32];
    utxo_store *s, *r = NULL;
    int status;
    pid_t pid;

    tmp_path(path, sizeof path, "hotj");
    s = open_new(path);
    apply_range(s, 0, 3);
    utxo_store_close(s);
    dump_digest(path, d0);
    ck_assert_int_ge(pid = fork(), 0);
    if (pid == 0) {
        sqlite3 *db = NULL;
        int bad = sqlite3_open(path, &db) != SQLITE_OK ||
                  sqlite3_exec(db, "PRAGMA journal_mode = DELETE; PRAGMA cache_size = 1; BEGIN;"
                                   " CREATE TABLE junk(x);"
                                   " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                                   " WHERE i < 400) INSERT INTO junk SELECT randomblob(4000) FROM n;",
                               NULL, NULL, NULL) != SQLITE_OK;
        _exit(bad ? 3 : 0); /* the transaction open, its pages spilled */
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    snprintf(jpath, sizeof jpath, "%s-journal", path);
    ck_assert_int_eq(access(jpath, F_OK), 0);
    ck_assert_int_eq(utxo_store_open(&r, path, NULL, UTXO_STORE_READONLY, 1, msg, sizeof msg),
                     UTXO_ERR_STORE_READONLY);
    ck_assert_ptr_null(r);
    ck_assert_msg(strstr(msg, "a writer stopped inside a transaction and left") != NULL &&
                      strstr(msg, jpath) != NULL, "message: %s", msg);
    ck_assert_int_eq(utxo_store_open(&s, path, NULL, 0, 1, msg, sizeof msg), UTXO_OK);
    utxo_store_close(s);
    ck_assert_int_ne(access(jpath, F_OK), 0);
    ck_assert_int_eq(utxo_store_open(&r, path, NULL, UTXO_STORE_READONLY, 1, msg, sizeof msg),
                     UTXO_OK);
    utxo_store_close(r);
    dump_digest(path, d1);
    ck_assert_mem_eq(d0, d1, 32);
    rm_db(path);
}
END_TEST

/* A new store is made at PATH.new and renamed into place: what a creation
 * that stopped left there (a partial file, its journal, its log) is
 * removed, and nothing of it stays beside the new store. */
START_TEST(creation_is_whole)
{
    static const char *const left[] = {".new", ".new-journal", ".new-wal", ".new-shm"};
    char path[512], b[600];
    utxo_store *s;

    tmp_path(path, sizeof path, "create");
    for (size_t i = 0; i < 4; i++) {
        snprintf(b, sizeof b, "%s%s", path, left[i]);
        FILE *f = fopen(b, "w");
        ck_assert_ptr_nonnull(f);
        fputs("left by a creation that stopped", f);
        fclose(f);
    }
    s = open_new(path);
    apply_range(s, 0, 2);
    utxo_store_close(s);
    for (size_t i = 0; i < 4; i++) {
        snprintf(b, sizeof b, "%s%s", path, left[i]);
        ck_assert_msg(access(b, F_OK) != 0, "%s is still there", b);
    }
    rm_db(path);
}
END_TEST

/* The writer lock: a second writable handle (here in the same process)
 * is refused with the holder's pid and touches nothing; read-only handles
 * open beside the writer; once it is closed a writer opens again. */
START_TEST(writer_lock)
{
    char path[512], msg[512], want[64];
    uint8_t d0[32], d1[32];
    utxo_store *s, *t = NULL, *r = NULL;

    tmp_path(path, sizeof path, "lock");
    s = open_new(path);
    apply_range(s, 0, 3);
    dump_digest(path, d0);
    ck_assert_int_eq(utxo_store_open(&t, path, &C.p, UTXO_STORE_CREATE, 1, msg, sizeof msg),
                     UTXO_ERR_STORE_BUSY);
    ck_assert_ptr_null(t);
    snprintf(want, sizeof want, "store busy (held by pid %ld)", (long)getpid());
    ck_assert_msg(strstr(msg, want) != NULL, "message: %s", msg);
    ck_assert_int_eq(utxo_store_open(&t, path, NULL, 0, 1, msg, sizeof msg), UTXO_ERR_STORE_BUSY);
    dump_digest(path, d1);
    ck_assert_mem_eq(d0, d1, 32);
    ck_assert_int_eq(utxo_store_open(&r, path, NULL, UTXO_STORE_READONLY, 1, msg, sizeof msg),
                     UTXO_OK);
    apply_range(s, 3, 5);
    utxo_store_close(r);
    utxo_store_close(s);
    ck_assert_int_eq(utxo_store_open(&t, path, NULL, 0, 1, msg, sizeof msg), UTXO_OK);
    apply_range(t, 5, 6);
    utxo_store_close(t);
    /* UNCHECKED is for read-only handles only */
    ck_assert_int_eq(utxo_store_open(&t, path, NULL, UTXO_STORE_UNCHECKED, 1, msg, sizeof msg),
                     UTXO_ERR_ARG);
    rm_db(path);
}
END_TEST

/* A writer that ignores the lock (another SQLite client) moves the store
 * from tip 3 to tip 5 while a handle holds it open: the handle's next
 * write notices (PRAGMA data_version) and applies block 6 on the new tip
 * instead of refusing a valid block against its stale one; the result is
 * a fresh replay's, row for row. */
START_TEST(foreign_writer_noticed)
{
    char pa[512], pb[512], pc[512], sql[1200];
    uint8_t da[32], dc[32];
    utxo_store *a, *b, *c;

    tmp_path(pa, sizeof pa, "fw_a");
    tmp_path(pb, sizeof pb, "fw_b");
    tmp_path(pc, sizeof pc, "fw_c");
    a = open_new(pa);
    apply_range(a, 0, 4);
    b = open_new(pb);
    apply_range(b, 0, 6);
    utxo_store_close(b);
    snprintf(sql, sizeof sql,
             "ATTACH '%s' AS o; BEGIN;"
             " DELETE FROM meta; DELETE FROM blocks; DELETE FROM utxos; DELETE FROM nodes;"
             " DELETE FROM undo; DELETE FROM bundles; DELETE FROM txs;"
             " INSERT INTO meta SELECT * FROM o.meta; INSERT INTO blocks SELECT * FROM o.blocks;"
             " INSERT INTO utxos SELECT * FROM o.utxos; INSERT INTO nodes SELECT * FROM o.nodes;"
             " INSERT INTO undo SELECT * FROM o.undo; INSERT INTO bundles SELECT * FROM o.bundles;"
             " INSERT INTO txs SELECT * FROM o.txs;"
             " COMMIT;", pb);
    sql_exec(pa, sql);
    apply_range(a, 6, 8);
    utxo_store_close(a);
    c = open_new(pc);
    apply_range(c, 0, 8);
    utxo_store_close(c);
    dump_digest(pa, da);
    dump_digest(pc, dc);
    ck_assert_mem_eq(da, dc, 32);
    rm_db(pa);
    rm_db(pb);
    rm_db(pc);
}
END_TEST

static void count_problem(void *arg, const char *problem)
{
    (void)problem;
    (*(int *)arg)++;
}

/* utxo_store_check: a sound store has no problem; a changed bundle is one
 * (and a store whose opening check fails opens UNCHECKED to be checked);
 * utxo_store_get_bundle refuses the changed bundle and serves the ones
 * before it, byte for byte. */
START_TEST(check_and_served_bundles)
{
    char path[512], msg[512];
    utxo_store *s;
    uint8_t *b = NULL;
    size_t len = 0;
    uint64_t n = 0;
    int calls = 0;

    tmp_path(path, sizeof path, "check");
    s = open_new(path);
    apply_range(s, 0, C.n);
    ck_assert_int_eq(utxo_store_check(s, 5, count_problem, &calls, &n), UTXO_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(calls, 0);
    utxo_store_close(s);
    sql_exec(path, "UPDATE bundles SET data = (SELECT data FROM bundles WHERE height = 6)"
                   " WHERE height = 7");
    ck_assert_int_eq(utxo_store_open(&s, path, NULL, UTXO_STORE_READONLY, 1, msg, sizeof msg),
                     UTXO_OK);
    ck_assert_int_eq(utxo_store_get_bundle(s, 6, &b, &len), UTXO_OK);
    ck_assert_uint_eq(len, C.bundle_len[6]);
    ck_assert_mem_eq(b, C.bundle[6], len);
    free(b);
    ck_assert_int_eq(utxo_store_get_bundle(s, 7, &b, &len), UTXO_ERR_STORE_CORRUPT);
    ck_assert_ptr_null(b);
    ck_assert_ptr_nonnull(strstr(utxo_store_errmsg(s), "block 7"));
    ck_assert_int_eq(utxo_store_get_bundle(s, 9, &b, &len), UTXO_ERR_STORE_CORRUPT);
    ck_assert_int_eq(utxo_store_get_bundle(s, 2, &b, &len), UTXO_OK);
    free(b);
    calls = 0;
    ck_assert_int_eq(utxo_store_check(s, 0, count_problem, &calls, &n), UTXO_ERR_STORE_CORRUPT);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(calls, 1);
    utxo_store_close(s);
    /* an opening check that fails: UNCHECKED still opens, and check says why */
    sql_exec(path, "UPDATE meta SET acc_digest = zeroblob(32)");
    ck_assert_int_eq(utxo_store_open(&s, path, NULL, UTXO_STORE_READONLY, 1, msg, sizeof msg),
                     UTXO_ERR_STORE_CORRUPT);
    ck_assert_int_eq(utxo_store_open(&s, path, NULL, UTXO_STORE_READONLY | UTXO_STORE_UNCHECKED,
                                     1, msg, sizeof msg), UTXO_OK);
    ck_assert_int_eq(utxo_store_check(s, 0, NULL, NULL, &n), UTXO_ERR_STORE_CORRUPT);
    ck_assert_uint_eq(n, 2);
    utxo_store_close(s);
    rm_db(path);
}
END_TEST

/* Served bundles and states at earlier heights start from the serving
 * walk's checkpoints, not from genesis: heights asked in turn from both
 * ends of the chain cost at most a checkpoint interval of steps each
 * (before, each request at a lower height walked again from block 0, so
 * a node's client asking for /block/0/proof and /block/TIP/proof in turn
 * made every request cost the whole chain). Every answer is the same as
 * a walk from genesis gives; a rollback forgets the checkpoints. */
START_TEST(served_walk_checkpoints)
{
    char path[512], msg[512];
    uint8_t ref[N_BLOCKS][ACC_STATE_MAX_BYTES], at[ACC_STATE_MAX_BYTES];
    size_t ref_len[N_BLOCKS], at_len = 0, len = 0;
    utxo_store *s;
    uint8_t *b = NULL;

    tmp_path(path, sizeof path, "ckpt");
    s = open_new(path);
    apply_range(s, 0, C.n);
    utxo_store_close(s);
    /* the states after each block, walked from genesis one block a step
     * (no checkpoint: a fresh handle for each) */
    for (uint32_t h = 0; h < C.n; h++) {
        ck_assert_int_eq(utxo_store_open(&s, path, NULL, UTXO_STORE_READONLY, 1, msg, sizeof msg),
                         UTXO_OK);
        ck_assert_int_eq(utxo_store_acc_state_at(s, h, ref[h], sizeof ref[h], &ref_len[h]),
                         UTXO_OK);
        ck_assert_uint_eq(s->serve_steps, h + 1);
        utxo_store_close(s);
    }
    ck_assert_int_eq(utxo_store_open(&s, path, NULL, UTXO_STORE_READONLY, 1, msg, sizeof msg),
                     UTXO_OK);
    s->serve_every = 4;
    /* the first walk to the tip keeps checkpoints after blocks 3, 7, 11 */
    ck_assert_int_eq(utxo_store_get_bundle(s, C.n - 1, &b, &len), UTXO_OK);
    ck_assert_mem_eq(b, C.bundle[C.n - 1], len);
    free(b);
    ck_assert_uint_eq(s->serve_steps, C.n);
    ck_assert_uint_eq(s->n_serve_ckpt, (C.n - 1) / 4);
    /* then the two ends in turn, and every height downwards: each costs at
     * most 4 steps, and answers what the walk from genesis did */
    for (int round = 0; round < 3; round++) {
        uint64_t before = s->serve_steps;
        ck_assert_int_eq(utxo_store_get_bundle(s, 0, &b, &len), UTXO_OK);
        ck_assert_mem_eq(b, C.bundle[0], len);
        free(b);
        ck_assert_uint_eq(s->serve_steps - before, 1);
        before = s->serve_steps;
        ck_assert_int_eq(utxo_store_get_bundle(s, C.n - 1, &b, &len), UTXO_OK);
        ck_assert_mem_eq(b, C.bundle[C.n - 1], len);
        free(b);
        ck_assert_uint_le(s->serve_steps - before, 4);
    }
    for (uint32_t h = C.n; h-- > 0;) {
        uint64_t before = s->serve_steps;
        ck_assert_int_eq(utxo_store_acc_state_at(s, h, at, sizeof at, &at_len), UTXO_OK);
        ck_assert_uint_le(s->serve_steps - before, 4);
        ck_assert_uint_eq(at_len, ref_len[h]);
        ck_assert_mem_eq(at, ref[h], at_len);
        before = s->serve_steps;
        ck_assert_int_eq(utxo_store_get_bundle(s, h, &b, &len), UTXO_OK);
        ck_assert_uint_le(s->serve_steps - before, 4);
        ck_assert_uint_eq(len, C.bundle_len[h]);
        ck_assert_mem_eq(b, C.bundle[h], len);
        free(b);
    }
    utxo_store_close(s);
    /* a rollback forgets them: the blocks they cover may go */
    ck_assert_int_eq(utxo_store_open(&s, path, NULL, 0, 1, msg, sizeof msg), UTXO_OK);
    s->serve_every = 4;
    ck_assert_int_eq(utxo_store_acc_state_at(s, C.n - 1, at, sizeof at, &at_len), UTXO_OK);
    ck_assert_uint_gt(s->n_serve_ckpt, 0);
    ck_assert_int_eq(utxo_store_rollback(s, 5), UTXO_OK);
    ck_assert_uint_eq(s->n_serve_ckpt, 0);
    ck_assert_int_eq(utxo_store_acc_state_at(s, 5, at, sizeof at, &at_len), UTXO_OK);
    ck_assert_uint_eq(at_len, ref_len[5]);
    ck_assert_mem_eq(at, ref[5], at_len);
    utxo_store_close(s);
    rm_db(path);
}
END_TEST

/* Every transaction is found at its place; a rollback drops the index rows
 * of the blocks it undoes; utxo_store_check sees a missing or extra row; a
 * schema-1 store (no index) opened as a writer is upgraded in place to the
 * rows a fresh replay writes, and refused read-only. */
static void all_found(utxo_store *s, uint32_t blocks)
{
    for (uint32_t h = 0; h < C.n; h++)
        for (uint32_t i = 0; i < C.blk[h]->n_txs; i++) {
            uint8_t txid[UTXO_HASH_BYTES];
            uint32_t fh = 99, fi = 99;
            utxo_tx_txid(C.blk[h]->txs[i], txid);
            int rc = utxo_store_find_tx(s, txid, &fh, &fi);
            if (h < blocks) {
                ck_assert_msg(rc == UTXO_OK, "block %u tx %u: %s", h, i, utxo_strerror(rc));
                ck_assert_uint_eq(fh, h);
                ck_assert_uint_eq(fi, i);
            } else {
                ck_assert_int_eq(rc, UTXO_ERR_STORE_NOT_FOUND);
            }
        }
}

START_TEST(transaction_index)
{
    char path[512], fresh[512], msg[512];
    uint8_t zero[UTXO_HASH_BYTES] = {0}, da[32], db[32];
    utxo_store *s;
    uint64_t n = 0;

    tmp_path(path, sizeof path, "txs");
    tmp_path(fresh, sizeof fresh, "txsfresh");
    s = open_new(path);
    apply_range(s, 0, C.n);
    all_found(s, C.n);
    ck_assert_int_eq(utxo_store_find_tx(s, zero, NULL, NULL), UTXO_ERR_STORE_NOT_FOUND);
    ck_assert_int_eq(utxo_store_find_tx(s, NULL, NULL, NULL), UTXO_ERR_ARG);
    ck_assert_int_eq(utxo_store_rollback(s, 4), UTXO_OK);
    all_found(s, 5);
    apply_range(s, 5, C.n);
    all_found(s, C.n);
    ck_assert_int_eq(utxo_store_check(s, 0, NULL, NULL, &n), UTXO_OK);
    utxo_store_close(s);

    /* a missing row, an extra row */
    sql_exec(path, "CREATE TABLE saved AS SELECT * FROM txs WHERE height = 3 AND idx = 1;"
                   "DELETE FROM txs WHERE height = 3 AND idx = 1");
    ck_assert_int_eq(utxo_store_open(&s, path, NULL, UTXO_STORE_READONLY, 1, msg, sizeof msg),
                     UTXO_OK);
    ck_assert_int_eq(utxo_store_check(s, 0, NULL, NULL, &n), UTXO_ERR_STORE_CORRUPT);
    ck_assert_uint_ge(n, 1);
    utxo_store_close(s);
    sql_exec(path, "INSERT INTO txs SELECT * FROM saved; DROP TABLE saved;"
                   "INSERT INTO txs VALUES (zeroblob(32), 2, 0)");
    ck_assert_int_eq(utxo_store_open(&s, path, NULL, UTXO_STORE_READONLY, 1, msg, sizeof msg),
                     UTXO_OK);
    ck_assert_int_eq(utxo_store_check(s, 0, NULL, NULL, &n), UTXO_ERR_STORE_CORRUPT);
    ck_assert_uint_eq(n, 1); /* the row count */
    utxo_store_close(s);
    sql_exec(path, "DELETE FROM txs WHERE txid = zeroblob(32)");

    /* schema 1: no index */
    sql_exec(path, "DROP TABLE txs; UPDATE meta SET schema_version = 1; PRAGMA user_version = 1");
    ck_assert_int_eq(utxo_store_open(&s, path, NULL, UTXO_STORE_READONLY, 1, msg, sizeof msg),
                     UTXO_ERR_STORE_SCHEMA);
    ck_assert_ptr_nonnull(strstr(msg, "transaction index"));
    ck_assert_int_eq(utxo_store_open(&s, path, &C.p, 0, 1, msg, sizeof msg), UTXO_OK);
    all_found(s, C.n);
    ck_assert_int_eq(utxo_store_check(s, 0, NULL, NULL, &n), UTXO_OK);
    utxo_store_close(s);
    s = open_new(fresh);
    apply_range(s, 0, C.n);
    utxo_store_close(s);
    dump_digest(path, da);
    dump_digest(fresh, db);
    ck_assert_msg(memcmp(da, db, 32) == 0, "the upgraded store is not a fresh replay's");
    rm_db(path);
    rm_db(fresh);
}
END_TEST

START_TEST(undo_record_roundtrip)
{
    store_spent v[3], *back = NULL;
    uint8_t datum[5] = {1, 2, 3, 4, 5}, *buf = NULL;
    size_t len = 0, n = 0;

    memset(v, 0, sizeof v);
    for (int i = 0; i < 3; i++) {
        memset(v[i].outpoint.txid, 0x10 + i, 32);
        v[i].outpoint.index = (uint32_t)i * 1000;
        v[i].position = (uint64_t)i << 40;
        v[i].height = (uint32_t)i * 77;
        v[i].output.value = 12345u * (uint64_t)i;
        memset(v[i].output.predicate_id, 0xa0 + i, 32);
    }
    v[1].output.datum = datum;
    v[1].output.datum_len = sizeof datum;
    ck_assert_int_eq(store_undo_encode(v, 3, &buf, &len), UTXO_OK);
    ck_assert_int_eq(store_undo_decode(buf, len, &back, &n), UTXO_OK);
    ck_assert_uint_eq(n, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_mem_eq(&back[i].outpoint, &v[i].outpoint, sizeof v[i].outpoint);
        ck_assert_uint_eq(back[i].position, v[i].position);
        ck_assert_uint_eq(back[i].height, v[i].height);
        ck_assert_uint_eq(back[i].output.value, v[i].output.value);
        ck_assert_uint_eq(back[i].output.datum_len, v[i].output.datum_len);
    }
    ck_assert_mem_eq(back[1].output.datum, datum, sizeof datum);
    free(back);
    /* every truncation and a trailing byte are rejected */
    for (size_t cut = 0; cut < len; cut++) {
        ck_assert_int_ne(store_undo_decode(buf, cut, &back, &n), UTXO_OK);
        ck_assert_ptr_null(back);
    }
    {
        uint8_t *longer = malloc(len + 1);
        memcpy(longer, buf, len);
        longer[len] = 0;
        ck_assert_int_eq(store_undo_decode(longer, len + 1, &back, &n), UTXO_ERR_TRAILING);
        free(longer);
    }
    free(buf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("store");
    SRunner *sr;
    int failed;

    if (sodium_init() < 0)
        return 1;
    chain_make();
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, replay_matches_builder);
    tcase_add_test(tc, queries);
    tcase_add_test(tc, each_utxo_pages);
    tcase_add_test(tc, errmsg_is_the_last_calls);
    tcase_add_test(tc, stats_after_replay);
    tcase_add_test(tc, page_size_new_and_old);
    tcase_add_test(tc, tiny_cache_same_store);
    tcase_add_test(tc, coins_table);
    tcase_add_test(tc, node_cache_keeps_capacity);
    tcase_add_test(tc, rollback_equals_fresh_replay);
    tcase_add_test(tc, invalid_blocks_change_nothing);
    tcase_add_test(tc, pipeline_same_store);
    tcase_add_test(tc, pipeline_invalid_after_valid);
    tcase_add_test(tc, refuses_bad_files);
    tcase_add_test(tc, undo_record_roundtrip);
    tcase_add_test(tc, second_writer_busy);
    tcase_add_test(tc, writer_lock);
    tcase_add_test(tc, hot_journal_needs_a_writer);
    tcase_add_test(tc, creation_is_whole);
    tcase_add_test(tc, foreign_writer_noticed);
    tcase_add_test(tc, check_and_served_bundles);
    tcase_add_test(tc, served_walk_checkpoints);
    tcase_add_test(tc, transaction_index);
    tcase_add_test(tc, checkpoint_thread_copies);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    for (uint32_t h = 0; h < C.n; h++) {
        utxo_block_free(C.blk[h]);
        free(C.bundle[h]);
    }
    return failed == 0 ? 0 : 1;
}
