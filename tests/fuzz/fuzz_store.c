/*
 * fuzz_store.c — libFuzzer target for opening and reading a store whose
 * rows were corrupted (src/sqlstore): the metadata row, the accumulator
 * forest's nodes, proof bundles, blocks, outputs and undo records. Run:
 *   tests/fuzz/fuzz_store tests/fuzz/corpus/store
 *
 * Once per process a seed store is written: 5 blocks of the history
 * generator (src/chain/workload.c, 3 transactions each) replayed into a new
 * store. Each input is a list of 5-byte edits applied to a copy of it
 * through SQL (tests/fuzz/sqlfuzz.h): target (table and column), row,
 * operation (flip a bit of the value, cut a blob / change an integer,
 * change the value's type, delete the row), position, value. Then the store is opened read-only and read
 * the ways the commands read it: info, accumulator state, every block and
 * bundle, every output. Oracles: no crash, leak or UB; a refused open gives
 * no handle and a NUL-terminated message; every read either works or
 * returns an error code (a corrupt store is never silently read past a
 * bound).
 *
 * Seeds (tests/fuzz/corpus/store): no edit, and one edit of each table.
 */
#include "config.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "utxo.h"
#include "utxo/store.h"
#include "chain/workload.h"
#include "sqlfuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static char SEED[256], WORK[256];
static uint8_t *SEED_BYTES;
static size_t SEED_LEN;

static const sqlf_target TARGETS[] = {
    {"meta", "params", "rowid"},       {"meta", "n_blocks", "rowid"},
    {"meta", "tip_hash", "rowid"},     {"meta", "tip_time", "rowid"},
    {"meta", "acc_state", "rowid"},    {"meta", "acc_digest", "rowid"},
    {"meta", "n_utxos", "rowid"},      {"meta", "total_value", "rowid"},
    {"meta", "n_txs", "rowid"},        {"meta", "schema_version", "rowid"},
    {"nodes", "hash", "rowid"},        {"nodes", "key", "rowid"},
    {"bundles", "data", "rowid"},      {"bundles", "height", "rowid"},
    {"blocks", "header", "rowid"},     {"blocks", "body", "rowid"},
    {"blocks", "hash", "rowid"},       {"blocks", "leaf_count", "rowid"},
    {"utxos", "value", "outpoint"},    {"utxos", "datum", "outpoint"},
    {"utxos", "position", "outpoint"}, {"undo", "data", "rowid"},
    {"txs", "height", "txid"},         {"txs", "idx", "txid"},
};
#define N_TARGETS (sizeof TARGETS / sizeof TARGETS[0])

static void die(const char *what)
{
    fprintf(stderr, "fuzz_store: %s\n", what);
    abort();
}

static void make_seed(void)
{
    bp_gen_opts o;
    bp_gen *g = NULL;
    utxo_params p;
    utxo_store *s = NULL;

    snprintf(SEED, sizeof SEED, "/tmp/fuzz_store.%ld.seed", (long)getpid());
    snprintf(WORK, sizeof WORK, "/tmp/fuzz_store.%ld.work", (long)getpid());
    sqlf_remove(SEED);
    bp_gen_opts_default(&o);
    o.txs_per_block = 3;
    if (bp_gen_new(&g, &o, &p) != UTXO_OK ||
        utxo_store_open(&s, SEED, &p, UTXO_STORE_CREATE, 1, NULL, 0) != UTXO_OK)
        die("cannot make the seed store");
    for (int h = 0; h < 5; h++) {
        utxo_block *b = NULL;
        utxo_bundle *bd = NULL;
        if (bp_gen_next(g, &b, &bd) != UTXO_OK || utxo_store_apply_block(s, b, NULL) != UTXO_OK)
            die("cannot apply a generated block");
        utxo_block_free(b);
        utxo_bundle_free(bd);
    }
    utxo_store_close(s); /* checkpoints the WAL into the file */
    bp_gen_free(g);
    if ((SEED_BYTES = sqlf_take(SEED, &SEED_LEN)) == NULL)
        die("cannot read the seed store");
}

static void problem(void *arg, const char *what)
{
    if (what == NULL || memchr(what, '\0', 4096) == NULL)
        abort();
    ++*(uint64_t *)arg;
}

static int visit(void *arg, const utxo_store_utxo *u)
{
    (void)arg;
    (void)u;
    return 0;
}

static void read_all(utxo_store *s)
{
    utxo_store_info info;
    uint8_t acc[8 + 64 * 32];
    size_t w = 0;
    uint64_t count = 0, total = 0;

    utxo_store_get_info(s, &info);
    (void)utxo_store_acc_state(s, acc, sizeof acc, &w);
    if (w > sizeof acc)
        abort();
    for (uint32_t h = 0; h < info.n_blocks && h < 16; h++) {
        uint8_t *bytes = NULL, *bb = NULL;
        size_t len = 0, bl = 0;
        utxo_block *b = NULL;
        if (utxo_store_get_bundle(s, h, &bytes, &len) != UTXO_OK && bytes != NULL)
            abort();
        free(bytes);
        if (utxo_store_get_block(s, h, &b, &bb, &bl) != UTXO_OK && b != NULL)
            abort();
        utxo_block_free(b);
        free(bb);
    }
    (void)utxo_store_each_utxo(s, NULL, visit, NULL, &count, &total);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sqlite3 *db = NULL;
    utxo_store *s = NULL;
    char msg[256];

    if (SEED_BYTES == NULL)
        make_seed();
    if ((db = sqlf_copy(WORK, SEED_BYTES, SEED_LEN)) == NULL)
        die("cannot write the work store");
    for (size_t i = 0; i + SQLF_REC <= size && i / SQLF_REC < SQLF_MAX_EDITS; i += SQLF_REC)
        sqlf_edit(db, TARGETS, N_TARGETS, data + i);
    sqlite3_close(db);
    memset(msg, 'x', sizeof msg);
    if (utxo_store_open(&s, WORK, NULL, UTXO_STORE_READONLY, 1, msg, sizeof msg) != UTXO_OK) {
        if (s != NULL || memchr(msg, '\0', sizeof msg) == NULL)
            abort();
    } else {
        read_all(s);
        utxo_store_close(s);
        s = NULL;
    }
    /* utxo check: opened unchecked, every problem reported and counted */
    if (utxo_store_open(&s, WORK, NULL, UTXO_STORE_READONLY | UTXO_STORE_UNCHECKED, 1, msg,
                        sizeof msg) == UTXO_OK) {
        uint64_t seen = 0, n = 0;
        int rc = utxo_store_check(s, 10, problem, &seen, &n);
        if ((rc == UTXO_OK && n != 0) || (rc == UTXO_ERR_STORE_CORRUPT && n == 0) ||
            seen != (n < 1000 ? n : 1000))
            abort();
        utxo_store_close(s);
    } else if (s != NULL) {
        abort();
    }
    sqlf_remove(WORK);
    return 0;
}
