/*
 * fuzz_walletdb.c — libFuzzer target for opening and reading a wallet file
 * whose rows were corrupted (src/wallet/db.c): the metadata (parameters,
 * schema version, the KDF record and the sealed seed, the validator state
 * and proof), keys, coins, history and undo rows. The decrypted payload
 * itself is a fixed-size seed in a secretbox (nothing to parse); what a
 * wallet file decodes is its rows. Run:
 *   tests/fuzz/fuzz_walletdb tests/fuzz/corpus/walletdb
 *
 * Once per process a seed wallet is written: created with a passphrase,
 * given 4 keys, and synced over 4 blocks of the history generator. Each
 * input is a list of 5-byte edits applied to a copy through SQL, as in
 * fuzz_store (tests/fuzz/sqlfuzz.h: target, row, operation, position,
 * value). The copy is then opened watch-only and read (balance, coins,
 * history, verify), and, when an edit touched the metadata and the KDF
 * record asks for no more than the interactive limits, opened with the
 * passphrase too. Oracles: no crash, leak or UB; a refused open gives no
 * handle.
 *
 * Seeds (tests/fuzz/corpus/walletdb): no edit, and one edit of each target.
 */
#include "config.h"

#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "utxo.h"
#include "utxo/wallet.h"
#include "chain/workload.h"
#include "sqlfuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PASS "fuzz passphrase"

static char SEED[256], WORK[256];
static uint8_t *SEED_BYTES;
static size_t SEED_LEN;

static const sqlf_target TARGETS[] = {
    {"meta", "value", "name"},     {"meta", "name", "name"},
    {"keys", "pubkey", "rowid"},   {"keys", "predicate_id", "rowid"},
    {"keys", "idx", "rowid"},      {"coins", "value", "rowid"},
    {"coins", "leaf", "rowid"},    {"coins", "datum", "rowid"},
    {"history", "txid", "rowid"},  {"history", "received", "rowid"},
    {"undo", "state", "rowid"},    {"undo", "proof", "rowid"},
    {"undo", "spent", "rowid"},    {"undo", "height", "rowid"},
};
#define N_TARGETS (sizeof TARGETS / sizeof TARGETS[0])

static void die(const char *what)
{
    fprintf(stderr, "fuzz_walletdb: %s\n", what);
    abort();
}

static void make_seed(void)
{
    bp_gen_opts o;
    bp_gen *g = NULL;
    utxo_params p;
    utxo_wallet *w = NULL;
    uint8_t master[UTXO_SEED_BYTES], pk[UTXO_PUBKEY_BYTES];
    uint32_t idx;

    if (sodium_init() < 0)
        die("sodium_init");
    snprintf(SEED, sizeof SEED, "/tmp/fuzz_walletdb.%ld.seed", (long)getpid());
    snprintf(WORK, sizeof WORK, "/tmp/fuzz_walletdb.%ld.work", (long)getpid());
    sqlf_remove(SEED);
    memset(master, 0x5e, sizeof master);
    bp_gen_opts_default(&o);
    o.txs_per_block = 2;
    if (bp_gen_new(&g, &o, &p) != UTXO_OK ||
        utxo_wallet_create(&w, SEED, &p, PASS, master) != UTXO_OK)
        die("cannot make the seed wallet");
    for (int k = 0; k < 4; k++)
        if (utxo_wallet_new_key(w, &idx, pk) != UTXO_OK)
            die("cannot add a key");
    for (int h = 0; h < 4; h++) {
        utxo_block *b = NULL;
        utxo_bundle *bd = NULL;
        if (bp_gen_next(g, &b, &bd) != UTXO_OK || utxo_wallet_apply_block(w, b, bd, NULL) != UTXO_OK)
            die("cannot sync a generated block");
        utxo_block_free(b);
        utxo_bundle_free(bd);
    }
    utxo_wallet_close(w);
    bp_gen_free(g);
    if ((SEED_BYTES = sqlf_take(SEED, &SEED_LEN)) == NULL)
        die("cannot read the seed wallet");
}

static void read_all(utxo_wallet *w)
{
    utxo_wallet_coin coins[8];
    utxo_wallet_event ev[8];
    uint64_t value = 0, n = 0;
    size_t total = 0;

    (void)utxo_wallet_balance(w, &value, &n);
    (void)utxo_wallet_pending(w, &value, &n);
    if (utxo_wallet_coins(w, coins, 8, &total) == UTXO_OK && total > (size_t)1 << 40)
        abort();
    (void)utxo_wallet_history(w, ev, 8, &total);
    (void)utxo_wallet_verify(w);
}

/* The KDF record's limits, when it has the right size: decrypting under
 * larger ones (up to the sensitive limits, 1 GiB) is allowed but too slow
 * to fuzz. */
static int kdf_cheap(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int cheap = 0;

    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE name = 'kdf'", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_BLOB &&
        sqlite3_column_bytes(st, 0) == (int)(crypto_pwhash_SALTBYTES + 20)) {
        const uint8_t *k = (const uint8_t *)sqlite3_column_blob(st, 0) + crypto_pwhash_SALTBYTES;
        uint64_t ops = 0, mem = 0;
        for (int i = 7; i >= 0; i--) {
            ops = ops << 8 | k[i];
            mem = mem << 8 | k[8 + i];
        }
        cheap = ops <= crypto_pwhash_OPSLIMIT_INTERACTIVE && mem <= crypto_pwhash_MEMLIMIT_INTERACTIVE;
    } else {
        cheap = 1; /* refused before any key derivation */
    }
    sqlite3_finalize(st);
    return cheap;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sqlite3 *db = NULL;
    utxo_wallet *w = NULL;
    int cheap, meta_edited = 0;

    if (SEED_BYTES == NULL)
        make_seed();
    if ((db = sqlf_copy(WORK, SEED_BYTES, SEED_LEN)) == NULL)
        die("cannot write the work wallet");
    for (size_t i = 0; i + SQLF_REC <= size && i / SQLF_REC < SQLF_MAX_EDITS; i += SQLF_REC) {
        sqlf_edit(db, TARGETS, N_TARGETS, data + i);
        meta_edited |= data[i] % N_TARGETS < 2;
    }
    cheap = kdf_cheap(db);
    sqlite3_close(db);
    if (utxo_wallet_open(&w, WORK, NULL) != UTXO_OK) {
        if (w != NULL)
            abort();
    } else {
        read_all(w);
        utxo_wallet_close(w);
    }
    /* only inputs that edit the metadata (KDF record, sealed seed ...) pay
     * for a key derivation: the other rows are read the same either way */
    if (cheap && meta_edited) {
        if (utxo_wallet_open(&w, WORK, PASS) != UTXO_OK) {
            if (w != NULL)
                abort();
        } else {
            read_all(w);
            utxo_wallet_close(w);
        }
    }
    sqlf_remove(WORK);
    return 0;
}
