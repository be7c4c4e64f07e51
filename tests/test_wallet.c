/*
 * test_wallet.c — the wallet file (src/sqlstore/wallet_*.c): passphrase
 * handling (a wrong one is rejected and leaves the file byte for byte as it
 * was; watch-only opens; changing it), restoring from the master seed, and
 * a generated history synced block by block from the proof bundles of the
 * chain builder (src/chain/chainbuild.h) while the full node's store
 * (utxo/store.h) and an independent stateless validator replay the same
 * blocks: after every block the wallet's balance equals the store's sum
 * over the wallet's predicate ids, the wallet holds the validator's roots,
 * and every coin's proof (cut from the wallet's batch proof) verifies
 * against those roots with the leaf recomputed from the store's data.
 * Payments come from utxo_wallet_send (twice before one block now and then:
 * the second spends other coins, and a third, abandoned, releases its
 * reservation), from other parties through the builder, chained inside one
 * block, and from coinbases; the wallet is
 * closed and reopened midway; wrong blocks are refused without a change.
 * A second handle left behind by the first one's writes refuses to write.
 * Then the chain is replaced above a height: the wallet rolls back and is
 * checked against the store rolled back and the validator state saved
 * there, and the blocks applied again give the same balances.
 * Finally the synced file is edited behind the library's back (a coin's
 * value, a coin row, the proof, a key, the KDF limits, the undo data, the
 * schema version): each edit is caught on open, by utxo_wallet_verify or by
 * the rollback, which then leaves the wallet as it was.
 */
#include "config.h"

#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>
#include "testutil.h"
#include "utxo/store.h"
#include "chain/chainbuild.h"
#include "witness/acc.h"

#define PASS "correct horse battery staple"

static char tmpdir[64];

static void path_in(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", tmpdir, name);
}

static void file_hash(const char *path, uint8_t out[32])
{
    FILE *f = fopen(path, "rb");
    crypto_generichash_state st;
    uint8_t buf[4096];
    size_t r;

    ck_assert_ptr_nonnull(f);
    crypto_generichash_init(&st, NULL, 0, 32);
    while ((r = fread(buf, 1, sizeof buf, f)) > 0)
        crypto_generichash_update(&st, buf, r);
    fclose(f);
    crypto_generichash_final(&st, out, 32);
}

static bool exists(const char *path)
{
    return access(path, F_OK) == 0;
}

START_TEST(passphrase)
{
    char path[128], aux[160], a0[UTXO_ADDRESS_LEN + 1], a1[UTXO_ADDRESS_LEN + 1];
    uint8_t master[32], h1[32], h2[32], to[32] = {1};
    utxo_params p;
    utxo_wallet *w = NULL;
    utxo_tx *tx = NULL;
    uint64_t bal = 1, n = 1;
    FILE *f;

    utxo_params_default(&p);
    memset(master, 0x42, sizeof master);
    path_in(path, sizeof path, "pass.wallet");
    ck_assert_int_eq(utxo_wallet_create(&w, path, &p, PASS, master), UTXO_OK);
    ck_assert(utxo_wallet_unlocked(w));
    ck_assert_int_eq(utxo_wallet_new_key(w, NULL, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_wallet_address(w, 0, a0, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_wallet_address(w, 1, a1, NULL), UTXO_ERR_ARG);
    utxo_wallet_close(w);
    utxo_wallet_close(NULL);
    ck_assert_int_eq(utxo_wallet_create(&w, path, &p, PASS, NULL), UTXO_ERR_WALLET_EXISTS);
    ck_assert_ptr_null(w);

    /* wrong passphrase: refused, the file unchanged, no journal left */
    file_hash(path, h1);
    ck_assert_int_eq(utxo_wallet_open(&w, path, "correct horse battery stapler"), UTXO_ERR_PASSPHRASE);
    ck_assert_ptr_null(w);
    ck_assert_int_eq(utxo_wallet_open(&w, path, ""), UTXO_ERR_PASSPHRASE);
    file_hash(path, h2);
    ck_assert_mem_eq(h1, h2, 32);
    snprintf(aux, sizeof aux, "%s-wal", path);
    ck_assert(!exists(aux));

    /* watch-only: reads, no keys, no signing */
    ck_assert_int_eq(utxo_wallet_open(&w, path, NULL), UTXO_OK);
    ck_assert(!utxo_wallet_unlocked(w));
    ck_assert_uint_eq(utxo_wallet_key_count(w), 1);
    ck_assert_int_eq(utxo_wallet_address(w, 0, a1, NULL), UTXO_OK);
    ck_assert_str_eq(a0, a1);
    ck_assert_int_eq(utxo_wallet_balance(w, &bal, &n), UTXO_OK);
    ck_assert_uint_eq(bal, 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(utxo_wallet_new_key(w, NULL, NULL), UTXO_ERR_WATCH_ONLY);
    ck_assert_int_eq(utxo_wallet_send(w, to, 100000, &tx, NULL), UTXO_ERR_WATCH_ONLY);
    ck_assert_int_eq(utxo_wallet_set_passphrase(w, "x"), UTXO_ERR_WATCH_ONLY);
    utxo_wallet_close(w);

    /* the right one, then a new one */
    ck_assert_int_eq(utxo_wallet_open(&w, path, PASS), UTXO_OK);
    ck_assert(utxo_wallet_unlocked(w));
    ck_assert_int_eq(utxo_wallet_send(w, to, 100000, &tx, NULL), UTXO_ERR_FUNDS);
    ck_assert_ptr_null(tx);
    ck_assert_int_eq(utxo_wallet_set_passphrase(w, "new words"), UTXO_OK);
    utxo_wallet_close(w);
    ck_assert_int_eq(utxo_wallet_open(&w, path, PASS), UTXO_ERR_PASSPHRASE);
    ck_assert_int_eq(utxo_wallet_open(&w, path, "new words"), UTXO_OK);
    ck_assert_uint_eq(utxo_wallet_key_count(w), 1);
    utxo_wallet_close(w);

    /* not wallets */
    path_in(aux, sizeof aux, "not-a-wallet");
    f = fopen(aux, "w");
    fputs("hello, this is not SQLite\n", f);
    fclose(f);
    ck_assert_int_eq(utxo_wallet_open(&w, aux, PASS), UTXO_ERR_WALLET_FORMAT);
    path_in(aux, sizeof aux, "missing");
    ck_assert_int_eq(utxo_wallet_open(&w, aux, PASS), UTXO_ERR_IO);
    {
        utxo_store *st = NULL;
        char msg[200];
        path_in(aux, sizeof aux, "a-store.db");
        ck_assert_int_eq(utxo_store_open(&st, aux, &p, UTXO_STORE_CREATE, 1, msg, sizeof msg), UTXO_OK);
        utxo_store_close(st);
        ck_assert_int_eq(utxo_wallet_open(&w, aux, PASS), UTXO_ERR_WALLET_FORMAT);
    }
}
END_TEST

START_TEST(restore_from_master)
{
    char p1[128], p2[128], a[UTXO_ADDRESS_LEN + 1], b[UTXO_ADDRESS_LEN + 1];
    uint8_t master[32], pk[32], pk2[32], sk[64];
    utxo_params p;
    utxo_wallet *w1, *w2;

    utxo_params_default(&p);
    for (int i = 0; i < 32; i++)
        master[i] = (uint8_t)(i * 7);
    path_in(p1, sizeof p1, "r1.wallet");
    path_in(p2, sizeof p2, "r2.wallet");
    ck_assert_int_eq(utxo_wallet_create(&w1, p1, &p, "one", master), UTXO_OK);
    ck_assert_int_eq(utxo_wallet_create(&w2, p2, &p, "two", master), UTXO_OK);
    for (uint32_t i = 0; i < 5; i++) {
        uint32_t idx;
        ck_assert_int_eq(utxo_wallet_new_key(w1, &idx, pk), UTXO_OK);
        ck_assert_uint_eq(idx, i);
        ck_assert_int_eq(utxo_wallet_new_key(w2, NULL, NULL), UTXO_OK);
        ck_assert_int_eq(utxo_wallet_address(w1, i, a, NULL), UTXO_OK);
        ck_assert_int_eq(utxo_wallet_address(w2, i, b, pk2), UTXO_OK);
        ck_assert_str_eq(a, b);
        ck_assert_mem_eq(pk, pk2, 32);
        /* the scheme of utxo/keys.h, nothing else */
        ck_assert_int_eq(utxo_keypair_derive(pk2, sk, master, i), UTXO_OK);
        ck_assert_mem_eq(pk, pk2, 32);
        ck_assert_int_eq(utxo_address_from_pubkey(b, pk), UTXO_OK);
        ck_assert_str_eq(a, b);
    }
    utxo_wallet_close(w1);
    utxo_wallet_close(w2);
}
END_TEST

/* ---- a generated history --------------------------------------------------- */

typedef struct party {
    uint8_t pk[32], sk[64], img[UTXO_STD_IMAGE_MAX_BYTES], id[32];
    size_t img_len;
} party;

typedef struct ocoin {
    utxo_outpoint op;
    uint64_t value;
    int owner;
} ocoin;

typedef struct world {
    utxo_params p;
    uint8_t seq_sk[64];
    bp_chain *chain;
    utxo_validator *val;
    utxo_store *store;
    utxo_wallet *w;
    char wpath[128];
    party others[3];
    ocoin coins[512];
    size_t n_coins;
    uint64_t checked_coins;
    /* every sealed block, its bundle and the validator state after it */
    utxo_block *blocks[16];
    utxo_bundle *bundles[16];
    uint8_t vstate[16][UTXO_VALIDATOR_STATE_MAX_BYTES];
    size_t vlen[16];
    uint64_t balance_at[16];
} world;

/* Keeps block b (now owned by W), its bundle and the states after it. */
static void remember(world *W, utxo_block *b, utxo_bundle *bd)
{
    uint32_t h = b->header.height;

    ck_assert_uint_lt(h, 16);
    W->blocks[h] = b;
    W->bundles[h] = bd;
    ck_assert_int_eq(utxo_validator_state_to_bytes(W->val, W->vstate[h], sizeof W->vstate[h],
                                                   &W->vlen[h]),
                     UTXO_OK);
    ck_assert_int_eq(utxo_wallet_balance(W->w, &W->balance_at[h], NULL), UTXO_OK);
}

static void party_init(party *p, uint32_t i)
{
    static const uint8_t master[32] = {0x77};

    ck_assert_int_eq(utxo_keypair_derive(p->pk, p->sk, master, i), UTXO_OK);
    ck_assert_int_eq(utxo_std_p2pk_image(p->img, sizeof p->img, &p->img_len, p->pk), UTXO_OK);
    utxo_predicate_id(p->id, p->img, p->img_len);
}

static int owner_of(const world *W, const uint8_t id[32])
{
    for (int i = 0; i < 3; i++)
        if (memcmp(W->others[i].id, id, 32) == 0)
            return i;
    return -1;
}

/* Tracks the other parties' coins through a sealed block. */
static void track_others(world *W, const utxo_block *b)
{
    for (uint32_t t = 0; t < b->n_txs; t++) {
        const utxo_tx *tx = b->txs[t];
        uint8_t txid[32];
        for (uint32_t i = 0; i < tx->n_inputs; i++)
            for (size_t k = 0; k < W->n_coins; k++)
                if (W->coins[k].op.index == tx->inputs[i].prevout.index &&
                    memcmp(W->coins[k].op.txid, tx->inputs[i].prevout.txid, 32) == 0) {
                    W->coins[k] = W->coins[--W->n_coins];
                    break;
                }
        utxo_tx_txid(tx, txid);
        for (uint32_t o = 0; o < tx->n_outputs; o++) {
            int who = owner_of(W, tx->outputs[o].predicate_id);
            if (who < 0)
                continue;
            ck_assert_uint_lt(W->n_coins, 512);
            memcpy(W->coins[W->n_coins].op.txid, txid, 32);
            W->coins[W->n_coins].op.index = o;
            W->coins[W->n_coins].value = tx->outputs[o].value;
            W->coins[W->n_coins].owner = who;
            W->n_coins++;
        }
    }
}

/* acc_state of a validator */
static void validator_acc(const utxo_validator *v, acc_state *st)
{
    uint8_t roots[64][32];
    unsigned k = 0;

    acc_state_init(st);
    st->count = utxo_validator_leaf_count(v);
    utxo_validator_roots(v, roots, 64);
    for (int r = 63; r >= 0; r--)
        if ((st->count >> r) & 1)
            memcpy(st->roots[r], roots[k++], 32);
}

/* Everything the wallet claims, checked against the store and the validator. */
static void check_wallet(world *W)
{
    uint64_t bal, n, store_total = 0, store_count = 0, leaf_count;
    uint8_t wr[64][32], vr[64][32];
    unsigned nw, nv;
    utxo_wallet_coin coins[256];
    size_t total;
    acc_state st;

    ck_assert_uint_eq(utxo_wallet_next_height(W->w), utxo_validator_next_height(W->val));
    nw = utxo_wallet_roots(W->w, &leaf_count, wr, 64);
    nv = utxo_validator_roots(W->val, vr, 64);
    ck_assert_uint_eq(nw, nv);
    ck_assert_uint_eq(leaf_count, utxo_validator_leaf_count(W->val));
    ck_assert_mem_eq(wr, vr, 32 * (size_t)nv);
    ck_assert_int_eq(utxo_wallet_verify(W->w), UTXO_OK);

    ck_assert_int_eq(utxo_wallet_balance(W->w, &bal, &n), UTXO_OK);
    for (uint32_t i = 0; i < utxo_wallet_key_count(W->w); i++) {
        char addr[UTXO_ADDRESS_LEN + 1];
        uint8_t pk[32], id[32];
        uint64_t c = 0, t = 0;
        ck_assert_int_eq(utxo_wallet_address(W->w, i, addr, pk), UTXO_OK);
        ck_assert_int_eq(utxo_p2pk_id(id, pk), UTXO_OK);
        ck_assert_int_eq(utxo_store_each_utxo(W->store, id, NULL, NULL, &c, &t), UTXO_OK);
        store_total += t;
        store_count += c;
    }
    ck_assert_uint_eq(bal, store_total);
    ck_assert_uint_eq(n, store_count);

    ck_assert_int_eq(utxo_wallet_coins(W->w, coins, 256, &total), UTXO_OK);
    ck_assert_uint_eq(total, n);
    ck_assert_uint_le(total, 256);
    validator_acc(W->val, &st);
    for (size_t i = 0; i < total; i++) {
        uint8_t pb[4096];
        size_t pw = 0;
        uint64_t pos;
        utxo_store_utxo u;
        acc_proof proof;
        acc_hash leaf;

        ck_assert_int_eq(utxo_wallet_coin_proof(W->w, &coins[i].outpoint, pb, sizeof pb, &pw, &pos),
                         UTXO_OK);
        ck_assert_uint_eq(pos, coins[i].position);
        ck_assert_int_eq(utxo_store_get_utxo(W->store, &coins[i].outpoint, &u), UTXO_OK);
        ck_assert_uint_eq(u.position, pos);
        ck_assert_uint_eq(u.output.value, coins[i].value);
        ck_assert_uint_eq(u.height, coins[i].height);
        acc_leaf_hash(leaf, &coins[i].outpoint, &u.output, u.height, u.position);
        free(u.output.datum);
        acc_proof_init(&proof);
        ck_assert_int_eq(acc_proof_from_bytes(&proof, pb, pw, st.count, NULL), UTXO_OK);
        ck_assert_int_eq(acc_stateless_verify(&st, &proof, &leaf, 1), UTXO_OK);
        /* and a wrong leaf does not */
        leaf[0] ^= 1;
        ck_assert_int_ne(acc_stateless_verify(&st, &proof, &leaf, 1), UTXO_OK);
        acc_proof_clear(&proof);
        W->checked_coins++;
    }
}

/* After a block holding every payment the wallet made: nothing reserved. */
static void check_no_pending(world *W)
{
    uint64_t pv = 1, pn = 1;

    ck_assert_int_eq(utxo_wallet_pending(W->w, &pv, &pn), UTXO_OK);
    ck_assert_uint_eq(pn, 0);
    ck_assert_uint_eq(pv, 0);
}

/* Seals b, feeds it to the validator, the store and the wallet, checks;
 * W keeps the block and its bundle. */
static void advance(world *W, utxo_block *b)
{
    utxo_bundle *bd = NULL;
    utxo_verdict v;

    ck_assert_int_eq(bp_chain_seal(W->chain, b, &bd, NULL, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_validator_apply(W->val, b, bd, &v), UTXO_OK);
    ck_assert_int_eq(utxo_store_apply_block(W->store, b, &v), UTXO_OK);
    ck_assert_msg(utxo_wallet_apply_block(W->w, b, bd, &v) == UTXO_OK, "wallet: %s",
                  utxo_wallet_errmsg(W->w));
    track_others(W, b);
    check_wallet(W);
    check_no_pending(W);
    remember(W, b, bd);
}

/* The end of a payment by party pt whose inputs b holds: pays amount to
 * id with change back to pt, signs, frees b; *fee is the fee paid. */
static utxo_tx *other_finish(utxo_builder *b, const party *pt, const uint8_t id[32],
                             uint64_t amount, uint64_t *fee)
{
    utxo_tx *tx = NULL;

    ck_assert_int_eq(utxo_builder_add_output(b, amount, id, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_builder_set_change(b, pt->id), UTXO_OK);
    ck_assert_int_eq(utxo_builder_finalize(b), UTXO_OK);
    ck_assert_int_eq(utxo_builder_sign(b, pt->sk, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_builder_get_tx(b, &tx), UTXO_OK);
    *fee = utxo_builder_fee(b);
    utxo_builder_free(b);
    return tx;
}

/* A payment by other party o (coin selection over its coins) to id. */
static utxo_tx *other_pays(world *W, int o, const uint8_t id[32], uint64_t amount, uint64_t *fee)
{
    party *pt = &W->others[o];
    utxo_builder *b = utxo_builder_new(&W->p, utxo_validator_next_height(W->val));

    for (size_t k = 0; k < W->n_coins; k++) {
        utxo_coin c;
        if (W->coins[k].owner != o)
            continue;
        memset(&c, 0, sizeof c);
        c.outpoint = W->coins[k].op;
        c.output.value = W->coins[k].value;
        memcpy(c.output.predicate_id, pt->id, 32);
        c.image = pt->img;
        c.image_len = pt->img_len;
        ck_assert_int_eq(utxo_builder_add_coin(b, &c), UTXO_OK);
    }
    return other_finish(b, pt, id, amount, fee);
}

/* Other party o spends output `index` of tx (same block) to id. */
static utxo_tx *other_chains(world *W, int o, const utxo_tx *prev, uint32_t index,
                             const uint8_t id[32], uint64_t amount, uint64_t *fee)
{
    party *pt = &W->others[o];
    utxo_builder *b = utxo_builder_new(&W->p, utxo_validator_next_height(W->val));
    utxo_coin c;

    memset(&c, 0, sizeof c);
    utxo_tx_txid(prev, c.outpoint.txid);
    c.outpoint.index = index;
    c.output = prev->outputs[index];
    c.image = pt->img;
    c.image_len = pt->img_len;
    ck_assert_mem_eq(c.output.predicate_id, pt->id, 32);
    ck_assert_int_eq(utxo_builder_add_input(b, &c, NULL), UTXO_OK);
    return other_finish(b, pt, id, amount, fee);
}

static void wallet_id(world *W, uint32_t k, uint8_t id[32])
{
    char addr[UTXO_ADDRESS_LEN + 1];

    ck_assert_int_eq(utxo_wallet_address(W->w, k % utxo_wallet_key_count(W->w), addr, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_address_decode(id, addr), UTXO_OK);
}

/* Runs one SQL statement on the wallet file behind the library's back. */
static void sql(const char *path, const char *stmt)
{
    sqlite3 *db = NULL;

    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_msg(sqlite3_exec(db, stmt, NULL, NULL, NULL) == SQLITE_OK, "%s: %s", stmt,
                  sqlite3_errmsg(db));
    sqlite3_close(db);
}

/* Rows of the wallet file's pending table (reservations, kept or not). */
static int pending_rows(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int n = -1;

    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM pending", -1, &st, NULL),
                     SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

#define WALLET_UNDO_DEPTH_TEST 100u /* WDB_UNDO_DEPTH */

/* A synced wallet file edited behind the library's back: each edit is
 * caught, on open or by utxo_wallet_verify. Works on copies. */
static void corrupt_checks(const char *path)
{
    char copy[160], cmd[1024];
    utxo_wallet *w = NULL;

    snprintf(copy, sizeof copy, "%s.copy", path);
#define FRESH_COPY()                                                                   \
    do {                                                                               \
        snprintf(cmd, sizeof cmd, "cp '%s' '%s' && rm -f '%s-wal' '%s-shm'", path, copy, \
                 copy, copy);                                                          \
        ck_assert_int_eq(system(cmd), 0);                                              \
    } while (0)
    FRESH_COPY();
    ck_assert_int_eq(utxo_wallet_open(&w, copy, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_wallet_verify(w), UTXO_OK);
    utxo_wallet_close(w);
    /* a coin's value changed: its leaf no longer matches */
    sql(copy, "UPDATE coins SET value = value + 1 WHERE position = (SELECT min(position) FROM coins)");
    ck_assert_int_eq(utxo_wallet_open(&w, copy, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_wallet_verify(w), UTXO_ERR_ACC_PROOF);
    utxo_wallet_close(w);
    /* a coin deleted: coins and proof disagree */
    FRESH_COPY();
    sql(copy, "DELETE FROM coins WHERE position = (SELECT max(position) FROM coins)");
    ck_assert_int_eq(utxo_wallet_open(&w, copy, NULL), UTXO_ERR_WALLET_FORMAT);
    /* a damaged proof */
    FRESH_COPY();
    sql(copy, "UPDATE meta SET value = x'0102' WHERE name = 'proof'");
    ck_assert_int_eq(utxo_wallet_open(&w, copy, NULL), UTXO_ERR_WALLET_FORMAT);
    /* a key missing from the sequence */
    FRESH_COPY();
    sql(copy, "DELETE FROM keys WHERE idx = 1");
    ck_assert_int_eq(utxo_wallet_open(&w, copy, NULL), UTXO_ERR_WALLET_FORMAT);
    /* KDF limits beyond libsodium's SENSITIVE ones are refused, not obeyed */
    FRESH_COPY();
    sql(copy, "UPDATE meta SET value = substr(value, 1, 24) || x'00000000000000ff' ||"
              " substr(value, 33) WHERE name = 'kdf'");
    ck_assert_int_eq(utxo_wallet_open(&w, copy, PASS), UTXO_ERR_WALLET_FORMAT);
    /* undo data missing (as if pruned) or damaged: the rollback is refused
     * and the wallet is left as it was */
    {
        uint64_t before, after;
        FRESH_COPY();
        sql(copy, "DELETE FROM undo WHERE height = 11");
        ck_assert_int_eq(utxo_wallet_open(&w, copy, NULL), UTXO_OK);
        ck_assert_int_eq(utxo_wallet_balance(w, &before, NULL), UTXO_OK);
        ck_assert_int_eq(utxo_wallet_rollback(w, 9), UTXO_ERR_WALLET_CHAIN);
        ck_assert_uint_eq(utxo_wallet_next_height(w), 13);
        ck_assert_int_eq(utxo_wallet_balance(w, &after, NULL), UTXO_OK);
        ck_assert_uint_eq(before, after);
        ck_assert_int_eq(utxo_wallet_verify(w), UTXO_OK);
        ck_assert_int_eq(utxo_wallet_rollback(w, 11), UTXO_OK); /* block 12 still undoable */
        ck_assert_uint_eq(utxo_wallet_next_height(w), 12);
        utxo_wallet_close(w);
        FRESH_COPY();
        sql(copy, "UPDATE undo SET spent = x'0102030405' WHERE height = 12");
        ck_assert_int_eq(utxo_wallet_open(&w, copy, NULL), UTXO_OK);
        ck_assert_int_eq(utxo_wallet_rollback(w, 11), UTXO_ERR_WALLET_FORMAT);
        ck_assert_ptr_nonnull(strstr(utxo_wallet_errmsg(w), "undo record of block 12"));
        ck_assert_uint_eq(utxo_wallet_next_height(w), 13);
        ck_assert_int_eq(utxo_wallet_verify(w), UTXO_OK);
        utxo_wallet_close(w);
        w = NULL;
    }
    /* a damaged validator state or proof in an undo record: the rollback is
     * refused before COMMIT, naming the record, and the file still opens at
     * its old tip (the restored blobs used to be committed undecoded, and
     * the file then no longer opened). Each edit is on the record of block
     * 11 and the rollback goes to 9, so block 12 is undone first and must be
     * rolled back too. */
    {
        static const char *const damage[] = {
            "UPDATE undo SET state = x'0102030405' WHERE height = 11",
            /* a state that decodes, but from another height */
            "UPDATE undo SET state = (SELECT state FROM undo WHERE height = 10)"
            " WHERE height = 11",
            "UPDATE undo SET proof = x'0102' WHERE height = 11",
            /* a proof that decodes, but for other coins */
            "UPDATE undo SET proof = (SELECT value FROM meta WHERE name = 'proof')"
            " WHERE height = 11",
            /* one that proves the right positions with a hash changed */
            "UPDATE undo SET proof = substr(proof, 1, length(proof) - 1) ||"
            " x'00' WHERE height = 11 AND substr(proof, -1) != x'00'",
        };
        uint64_t before, after;
        for (size_t k = 0; k < sizeof damage / sizeof *damage; k++) {
            FRESH_COPY();
            sql(copy, damage[k]);
            ck_assert_int_eq(utxo_wallet_open(&w, copy, NULL), UTXO_OK);
            ck_assert_int_eq(utxo_wallet_balance(w, &before, NULL), UTXO_OK);
            ck_assert_msg(utxo_wallet_rollback(w, 9) == UTXO_ERR_WALLET_FORMAT, "damage %zu: %s",
                          k, utxo_wallet_errmsg(w));
            ck_assert_msg(strstr(utxo_wallet_errmsg(w), "undo record of block 11") != NULL,
                          "damage %zu: %s", k, utxo_wallet_errmsg(w));
            ck_assert_uint_eq(utxo_wallet_next_height(w), 13);
            ck_assert_int_eq(utxo_wallet_verify(w), UTXO_OK);
            utxo_wallet_close(w);
            w = NULL;
            ck_assert_int_eq(utxo_wallet_open(&w, copy, NULL), UTXO_OK);
            ck_assert_uint_eq(utxo_wallet_next_height(w), 13);
            ck_assert_int_eq(utxo_wallet_balance(w, &after, NULL), UTXO_OK);
            ck_assert_uint_eq(before, after);
            ck_assert_int_eq(utxo_wallet_verify(w), UTXO_OK);
            ck_assert_int_eq(utxo_wallet_rollback(w, 11), UTXO_OK); /* block 12 still undoable */
            ck_assert_uint_eq(utxo_wallet_next_height(w), 12);
            utxo_wallet_close(w);
            w = NULL;
            ck_assert_int_eq(utxo_wallet_open(&w, copy, NULL), UTXO_OK);
            ck_assert_uint_eq(utxo_wallet_next_height(w), 12);
            ck_assert_int_eq(utxo_wallet_verify(w), UTXO_OK);
            utxo_wallet_close(w);
            w = NULL;
        }
    }
    /* another schema version */
    FRESH_COPY();
    sql(copy, "UPDATE meta SET value = x'02000000' WHERE name = 'schema'");
    ck_assert_int_eq(utxo_wallet_open(&w, copy, NULL), UTXO_ERR_WALLET_FORMAT);
    ck_assert_ptr_null(w);
#undef FRESH_COPY
}

START_TEST(synced_history)
{
    uint8_t seed[32], master[32], id[32];
    char spath[128], msg[256];
    world *W = calloc(1, sizeof *W);
    utxo_block *b;
    utxo_tx *cb;
    uint64_t sent_fees = 0, received_from_others = 0;

    ck_assert_ptr_nonnull(W);
    utxo_params_default(&W->p);
    memset(seed, 0x5e, sizeof seed);
    crypto_sign_seed_keypair(W->p.sequencer_pk, W->seq_sk, seed);
    utxo_params_chain_id(&W->p);
    ck_assert_int_eq(bp_chain_new(&W->chain, &W->p, W->seq_sk), UTXO_OK);
    W->val = utxo_validator_new(&W->p, 1);
    ck_assert_ptr_nonnull(W->val);
    path_in(spath, sizeof spath, "history-store.db");
    ck_assert_int_eq(utxo_store_open(&W->store, spath, &W->p, UTXO_STORE_CREATE, 1, msg, sizeof msg),
                     UTXO_OK);
    for (int i = 0; i < 3; i++)
        party_init(&W->others[i], (uint32_t)i);
    memset(master, 0x99, sizeof master);
    path_in(W->wpath, sizeof W->wpath, "history.wallet");
    ck_assert_int_eq(utxo_wallet_create(&W->w, W->wpath, &W->p, PASS, master), UTXO_OK);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(utxo_wallet_new_key(W->w, NULL, NULL), UTXO_OK);

    /* genesis: the wallet's three keys and the others get coins */
    b = utxo_block_new();
    cb = utxo_tx_new();
    for (uint32_t k = 0; k < 3; k++) {
        wallet_id(W, k, id);
        ck_assert_int_eq(utxo_tx_add_output(cb, 1000000 * (k + 1), id, NULL, 0), UTXO_OK);
    }
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(utxo_tx_add_output(cb, 5000000, W->others[i % 3].id, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_block_add_tx(b, cb), UTXO_OK);
    advance(W, b);

    for (uint32_t h = 1; h <= 12; h++) {
        utxo_tx *txs[5];
        size_t nt = 0;
        uint64_t fees = 0, fee = 0, bal = 0;
        int o = (int)(h % 3);

        b = utxo_block_new();
        cb = utxo_tx_new();
        ck_assert_int_eq(utxo_block_add_tx(b, cb), UTXO_OK);
        /* the wallet pays another party, or itself every fourth block */
        ck_assert_int_eq(utxo_wallet_balance(W->w, &bal, NULL), UTXO_OK);
        if (bal > 500000) {
            uint8_t to[32];
            utxo_tx *tx = NULL;
            if (h % 4 == 0)
                wallet_id(W, 0, to);
            else
                memcpy(to, W->others[(h + 1) % 3].id, 32);
            ck_assert_msg(utxo_wallet_send(W->w, to, 50000 + h * 1000, &tx, &fee) == UTXO_OK,
                          "send: %s", utxo_wallet_errmsg(W->w));
            sent_fees += fee;
            fees += fee;
            txs[nt++] = tx;
            if (h % 4 == 3) { /* a second payment before the block: other coins */
                utxo_tx *tx2 = NULL, *tx3 = NULL;
                uint64_t pv = 0, pn = 0, pv2 = 0;
                uint8_t id3[32];
                ck_assert_int_eq(utxo_wallet_pending(W->w, &pv, &pn), UTXO_OK);
                ck_assert_uint_eq(pn, tx->n_inputs);
                ck_assert_int_eq(utxo_wallet_send(W->w, W->others[h % 3].id, 40000, &tx2, &fee),
                                 UTXO_OK);
                for (uint32_t i = 0; i < tx2->n_inputs; i++)
                    for (uint32_t k = 0; k < tx->n_inputs; k++)
                        ck_assert(memcmp(&tx2->inputs[i].prevout, &tx->inputs[k].prevout,
                                         sizeof tx->inputs[k].prevout) != 0);
                sent_fees += fee;
                fees += fee;
                txs[nt++] = tx2;
                /* a third, abandoned: its coins come back */
                ck_assert_int_eq(utxo_wallet_pending(W->w, &pv2, &pn), UTXO_OK);
                ck_assert_int_eq(utxo_wallet_send(W->w, W->others[0].id, 1000, &tx3, NULL), UTXO_OK);
                ck_assert_int_eq(utxo_wallet_pending(W->w, &pv, NULL), UTXO_OK);
                ck_assert_uint_gt(pv, pv2);
                utxo_tx_txid(tx3, id3);
                ck_assert_int_eq(utxo_wallet_abandon(W->w, id3), UTXO_OK);
                ck_assert_int_eq(utxo_wallet_abandon(W->w, id3), UTXO_ERR_ARG);
                ck_assert_int_eq(utxo_wallet_pending(W->w, &pv, NULL), UTXO_OK);
                ck_assert_uint_eq(pv, pv2);
                utxo_tx_free(tx3);
            }
        }
        /* another party pays the wallet, and spends its change in the same
         * block to pay the wallet again */
        wallet_id(W, h, id);
        txs[nt] = other_pays(W, o, id, 100000 + h, &fee);
        fees += fee;
        received_from_others += 100000 + h;
        nt++;
        wallet_id(W, h + 1, id);
        txs[nt] = other_chains(W, o, txs[nt - 1], 1, id, 30000, &fee);
        fees += fee;
        received_from_others += 30000;
        nt++;
        for (size_t i = 0; i < nt; i++)
            ck_assert_int_eq(utxo_block_add_tx(b, txs[i]), UTXO_OK);
        /* the fees go to the wallet every fifth block, else to party 0 */
        if (h % 5 == 0)
            wallet_id(W, 1, id);
        else
            memcpy(id, W->others[0].id, 32);
        ck_assert_int_eq(utxo_tx_add_output(cb, fees, id, NULL, 0), UTXO_OK);

        if (h == 6) { /* close and reopen: everything comes back from the file */
            utxo_wallet_close(W->w);
            ck_assert_int_eq(utxo_wallet_open(&W->w, W->wpath, PASS), UTXO_OK);
            check_wallet(W);
        }
        if (h == 8) {
            /* a block with the wrong bundle, or a repeated block: refused,
             * nothing changes */
            uint64_t before, after;
            utxo_bundle *bd = NULL;
            utxo_verdict v;
            ck_assert_int_eq(utxo_wallet_balance(W->w, &before, NULL), UTXO_OK);
            ck_assert_int_eq(bp_chain_seal(W->chain, b, &bd, NULL, NULL), UTXO_OK);
            ck_assert_int_ne(utxo_wallet_apply_block(W->w, b, W->bundles[h - 1], &v), UTXO_OK);
            ck_assert_int_eq(utxo_wallet_balance(W->w, &after, NULL), UTXO_OK);
            ck_assert_uint_eq(before, after);
            ck_assert_uint_eq(utxo_wallet_next_height(W->w), h);
            check_wallet(W);
            ck_assert_int_eq(utxo_validator_apply(W->val, b, bd, &v), UTXO_OK);
            ck_assert_int_eq(utxo_store_apply_block(W->store, b, &v), UTXO_OK);
            ck_assert_int_eq(utxo_wallet_apply_block(W->w, b, bd, &v), UTXO_OK);
            ck_assert_int_ne(utxo_wallet_apply_block(W->w, b, bd, &v), UTXO_OK);
            track_others(W, b);
            check_wallet(W);
            check_no_pending(W);
            remember(W, b, bd);
        } else {
            advance(W, b);
        }
    }

    /* history: net flow equals the balance */
    {
        utxo_wallet_event ev[256];
        size_t n = 0;
        uint64_t in = 0, out = 0, bal = 0;
        ck_assert_int_eq(utxo_wallet_history(W->w, ev, 256, &n), UTXO_OK);
        ck_assert_uint_gt(n, 12);
        ck_assert_uint_le(n, 256);
        for (size_t i = 0; i < n; i++) {
            in += ev[i].received;
            out += ev[i].spent;
            if (i > 0)
                ck_assert_uint_ge(ev[i].height, ev[i - 1].height);
        }
        ck_assert_int_eq(utxo_wallet_balance(W->w, &bal, NULL), UTXO_OK);
        ck_assert_uint_eq(in - out, bal);
        ck_assert_uint_eq(ev[0].height, 0);
        ck_assert_uint_eq(ev[0].received, 6000000);
        printf("history: %zu events, balance %llu, %llu coin proofs checked, fees paid %llu\n", n,
               (unsigned long long)bal, (unsigned long long)W->checked_coins,
               (unsigned long long)sent_fees);
    }
    (void)received_from_others;

    /* the chain is replaced above height 9: the wallet undoes 10..12 and
     * is then exactly what it was after block 9 (against the store rolled
     * back the same way and the validator state saved at 9); the blocks
     * applied again give the same end */
    {
        utxo_verdict v;
        uint64_t bal;
        /* two handles on one file: the one left behind refuses to write */
        {
            utxo_wallet *w2 = NULL;
            ck_assert_int_eq(utxo_wallet_rollback(W->w, 11), UTXO_OK);
            ck_assert_int_eq(utxo_wallet_open(&w2, W->wpath, NULL), UTXO_OK);
            ck_assert_uint_eq(utxo_wallet_next_height(w2), 12);
            ck_assert_int_eq(utxo_wallet_apply_block(W->w, W->blocks[12], W->bundles[12], &v),
                             UTXO_OK);
            ck_assert_int_eq(utxo_wallet_apply_block(w2, W->blocks[12], W->bundles[12], &v),
                             UTXO_ERR_WALLET_CHAIN);
            ck_assert_uint_eq(utxo_wallet_next_height(w2), 12);
            ck_assert_int_eq(utxo_wallet_rollback(w2, 10), UTXO_ERR_WALLET_CHAIN);
            utxo_wallet_close(w2);
            check_wallet(W);
        }
        ck_assert_int_eq(utxo_wallet_rollback(W->w, 13), UTXO_ERR_ARG);
        ck_assert_int_eq(utxo_wallet_rollback(W->w, 12), UTXO_OK); /* nothing to undo */
        ck_assert_int_eq(utxo_wallet_rollback(W->w, 9), UTXO_OK);
        ck_assert_uint_eq(utxo_wallet_next_height(W->w), 10);
        ck_assert_int_eq(utxo_wallet_balance(W->w, &bal, NULL), UTXO_OK);
        ck_assert_uint_eq(bal, W->balance_at[9]);
        utxo_validator_free(W->val);
        W->val = NULL;
        ck_assert_int_eq(utxo_validator_from_state(&W->val, &W->p, W->vstate[9], W->vlen[9], 1, NULL),
                         UTXO_OK);
        ck_assert_int_eq(utxo_store_rollback(W->store, 9), UTXO_OK);
        check_wallet(W);
        /* and it survives a reopen */
        utxo_wallet_close(W->w);
        ck_assert_int_eq(utxo_wallet_open(&W->w, W->wpath, NULL), UTXO_OK);
        check_wallet(W);
        for (uint32_t h = 10; h <= 12; h++) {
            ck_assert_int_eq(utxo_validator_apply(W->val, W->blocks[h], W->bundles[h], &v), UTXO_OK);
            ck_assert_int_eq(utxo_store_apply_block(W->store, W->blocks[h], &v), UTXO_OK);
            ck_assert_int_eq(utxo_wallet_apply_block(W->w, W->blocks[h], W->bundles[h], &v), UTXO_OK);
            check_wallet(W);
            ck_assert_int_eq(utxo_wallet_balance(W->w, &bal, NULL), UTXO_OK);
            ck_assert_uint_eq(bal, W->balance_at[h]);
        }
        /* undoing to genesis works too, within the undo depth */
        ck_assert_int_eq(utxo_wallet_rollback(W->w, 0), UTXO_OK);
        ck_assert_int_eq(utxo_wallet_balance(W->w, &bal, NULL), UTXO_OK);
        ck_assert_uint_eq(bal, W->balance_at[0]);
        ck_assert_int_eq(utxo_wallet_verify(W->w), UTXO_OK);
        for (uint32_t h = 1; h <= 12; h++)
            ck_assert_int_eq(utxo_wallet_apply_block(W->w, W->blocks[h], W->bundles[h], &v), UTXO_OK);
        ck_assert_int_eq(utxo_wallet_balance(W->w, &bal, NULL), UTXO_OK);
        ck_assert_uint_eq(bal, W->balance_at[12]);
    }
    for (uint32_t h = 0; h < 16; h++) {
        utxo_block_free(W->blocks[h]);
        utxo_bundle_free(W->bundles[h]);
    }
    utxo_wallet_close(W->w);
    W->w = NULL;
    corrupt_checks(W->wpath);
    ck_assert_int_eq(utxo_wallet_open(&W->w, W->wpath, NULL), UTXO_OK);
    {
        utxo_verdict v;
        /* the reservations of the coins the payments spent are kept for a
         * rollback (it brings the coins back reserved), none of them
         * counted as pending; once the blocks are past the undo depth they
         * go with the undo data */
        uint64_t pv = 1, pn = 1;
        ck_assert_int_eq(utxo_wallet_pending(W->w, &pv, &pn), UTXO_OK);
        ck_assert_uint_eq(pn, 0);
        ck_assert_int_gt(pending_rows(W->wpath), 0);
        for (uint32_t h = 13; h <= 13 + WALLET_UNDO_DEPTH_TEST; h++) {
            utxo_block *e = utxo_block_new();
            utxo_tx *ecb = utxo_tx_new();
            utxo_bundle *ebd = NULL;
            ck_assert_int_eq(utxo_block_add_tx(e, ecb), UTXO_OK);
            ck_assert_int_eq(utxo_tx_add_output(ecb, 0, W->others[0].id, NULL, 0), UTXO_OK);
            ck_assert_int_eq(bp_chain_seal(W->chain, e, &ebd, NULL, NULL), UTXO_OK);
            ck_assert_int_eq(utxo_validator_apply(W->val, e, ebd, &v), UTXO_OK);
            ck_assert_int_eq(utxo_wallet_apply_block(W->w, e, ebd, &v), UTXO_OK);
            utxo_block_free(e);
            utxo_bundle_free(ebd);
        }
        ck_assert_int_eq(pending_rows(W->wpath), 0);
        ck_assert_int_eq(utxo_wallet_verify(W->w), UTXO_OK);
    }
    utxo_wallet_close(W->w);
    W->w = NULL;
    utxo_store_close(W->store);
    utxo_validator_free(W->val);
    bp_chain_free(W->chain);
    free(W);
}
END_TEST


/* ---- the library entry points, the file mode --------------------------------- */

static void *init_thread(void *arg)
{
    *(int *)arg = utxo_init();
    return NULL;
}

START_TEST(version_and_init)
{
    char v[32];
    pthread_t th[4];
    int rc[4] = {-1, -1, -1, -1};

    snprintf(v, sizeof v, "%d.%d.%d", UTXO_VERSION_MAJOR, UTXO_VERSION_MINOR, UTXO_VERSION_PATCH);
    ck_assert_str_eq(v, UTXO_VERSION_STRING);
    ck_assert_str_eq(utxo_version(), UTXO_VERSION_STRING);
    ck_assert_int_eq(UTXO_VERSION_NUMBER,
                     UTXO_VERSION_MAJOR * 10000 + UTXO_VERSION_MINOR * 100 + UTXO_VERSION_PATCH);
    /* from several threads at once, and again: always the same success */
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, init_thread, &rc[i]), 0);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        ck_assert_int_eq(rc[i], UTXO_OK);
    }
    ck_assert_int_eq(utxo_init(), UTXO_OK);
}
END_TEST

/* The wallet file (and its WAL) is 0600 whatever the umask. */
START_TEST(file_mode)
{
    static const mode_t masks[] = {0, 022, 0277};
    utxo_params p;

    utxo_params_default(&p);
    for (size_t i = 0; i < sizeof masks / sizeof masks[0]; i++) {
        char path[128], wal[160], name[32];
        utxo_wallet *w = NULL;
        struct stat sb;
        mode_t old;

        snprintf(name, sizeof name, "mode%zu.wallet", i);
        path_in(path, sizeof path, name);
        old = umask(masks[i]);
        ck_assert_int_eq(utxo_wallet_create(&w, path, &p, "m", NULL), UTXO_OK);
        ck_assert_int_eq(utxo_wallet_new_key(w, NULL, NULL), UTXO_OK);
        umask(old);
        ck_assert_int_eq(stat(path, &sb), 0);
        ck_assert_uint_eq(sb.st_mode & 07777, 0600);
        snprintf(wal, sizeof wal, "%s-wal", path);
        if (stat(wal, &sb) == 0)
            ck_assert_uint_eq(sb.st_mode & 07777, 0600);
        utxo_wallet_close(w);
        /* an existing file is refused and left alone */
        ck_assert_int_eq(utxo_wallet_create(&w, path, &p, "m", NULL), UTXO_ERR_WALLET_EXISTS);
        ck_assert_ptr_null(w);
        ck_assert(exists(path));
    }
    {
        utxo_wallet *w = NULL;
        ck_assert_int_eq(utxo_wallet_create(&w, "/dev/null/x.wallet", &p, "m", NULL), UTXO_ERR_IO);
        ck_assert_ptr_null(w);
    }
}
END_TEST

/* ---- seed, chain binding, rescans, several recipients, reservations --------- */

/* The p2pk id of key k of w. */
static void key_id(utxo_wallet *w, uint32_t k, uint8_t id[32])
{
    char addr[UTXO_ADDRESS_LEN + 1];

    ck_assert_int_eq(utxo_wallet_address(w, k, addr, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_address_decode(id, addr), UTXO_OK);
}

/* A fresh wallet of master restored over blocks[0..n) with gap limit gap:
 * returns it open (unlocked). */
static utxo_wallet *restore_scan(const char *name, const utxo_params *p, const uint8_t *master,
                                 uint32_t gap, utxo_block **blocks, utxo_bundle **bundles,
                                 size_t n, uint32_t *n_keys)
{
    char path[128];
    utxo_wallet *w = NULL;
    utxo_verdict v;

    path_in(path, sizeof path, name);
    ck_assert_int_eq(utxo_wallet_create(&w, path, p, "r", master), UTXO_OK);
    ck_assert_int_eq(utxo_wallet_rescan_begin(w, gap), UTXO_OK);
    ck_assert_uint_eq(utxo_wallet_key_count(w), gap);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(utxo_wallet_apply_block(w, blocks[i], bundles[i], &v) == UTXO_OK, "%s",
                      utxo_wallet_errmsg(w));
    ck_assert_int_eq(utxo_wallet_rescan_end(w, n_keys), UTXO_OK);
    ck_assert_int_eq(utxo_wallet_rescan_end(w, NULL), UTXO_ERR_ARG);
    return w;
}

START_TEST(seed_rescan_send_many)
{
    static const uint8_t hello[] = "hello, wallet";
    uint8_t seq_seed[32], seq_sk[64], master[32], got[32], id[32], txid[32], buf[64];
    char pa[128], pd[128];
    utxo_params p, p0;
    bp_chain *chain = NULL;
    utxo_wallet *A = NULL, *D = NULL, *B, *C, *ro = NULL;
    utxo_block *blocks[2] = {NULL};
    utxo_bundle *bundles[2] = {NULL};
    utxo_wallet_coin coins[16];
    utxo_wallet_payment pays[4];
    utxo_verdict v;
    utxo_tx *cb, *ta = NULL, *tb = NULL;
    uint64_t bal = 0, bal_b = 0, n = 0, pv = 0, pn = 0, fee = 0;
    uint32_t nk = 0;
    size_t total = 0, wr = 0;

    utxo_params_default(&p0);
    p = p0;
    memset(seq_seed, 0x3c, sizeof seq_seed);
    crypto_sign_seed_keypair(p.sequencer_pk, seq_sk, seq_seed);
    utxo_params_chain_id(&p);
    ck_assert_int_eq(bp_chain_new(&chain, &p, seq_sk), UTXO_OK);

    /* A: the original wallet, 61 keys */
    memset(master, 0xab, sizeof master);
    path_in(pa, sizeof pa, "orig.wallet");
    ck_assert_int_eq(utxo_wallet_create(&A, pa, &p, PASS, master), UTXO_OK);
    for (int k = 0; k < 61; k++)
        ck_assert_int_eq(utxo_wallet_new_key(A, NULL, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_wallet_seed(A, got), UTXO_OK);
    ck_assert_mem_eq(got, master, 32);

    /* D: made before its chain existed (default parameters), then moved */
    path_in(pd, sizeof pd, "early.wallet");
    ck_assert_int_eq(utxo_wallet_create(&D, pd, &p0, PASS, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_wallet_new_key(D, NULL, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_wallet_set_chain(D, &p), UTXO_OK);

    /* genesis pays A's keys 15 (with a datum), 35 and 60, and D */
    blocks[0] = utxo_block_new();
    cb = utxo_tx_new();
    key_id(A, 15, id);
    ck_assert_int_eq(utxo_tx_add_output(cb, 2000000, id, hello, sizeof hello), UTXO_OK);
    key_id(A, 35, id);
    ck_assert_int_eq(utxo_tx_add_output(cb, 3000000, id, NULL, 0), UTXO_OK);
    key_id(A, 60, id); /* 24 unpaid keys above 35 */
    ck_assert_int_eq(utxo_tx_add_output(cb, 400000, id, NULL, 0), UTXO_OK);
    key_id(D, 0, id);
    ck_assert_int_eq(utxo_tx_add_output(cb, 700000, id, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_block_add_tx(blocks[0], cb), UTXO_OK);
    ck_assert_int_eq(bp_chain_seal(chain, blocks[0], &bundles[0], NULL, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_wallet_apply_block(A, blocks[0], bundles[0], &v), UTXO_OK);
    ck_assert_msg(utxo_wallet_apply_block(D, blocks[0], bundles[0], &v) == UTXO_OK, "%s",
                  utxo_wallet_errmsg(D));
    ck_assert_int_eq(utxo_wallet_balance(D, &bal, NULL), UTXO_OK);
    ck_assert_uint_eq(bal, 700000);
    ck_assert_int_eq(utxo_wallet_set_chain(D, &p0), UTXO_ERR_WALLET_CHAIN);
    ck_assert_int_eq(utxo_wallet_balance(A, &bal, NULL), UTXO_OK);
    ck_assert_uint_eq(bal, 5400000);

    /* the coins expose their datum */
    ck_assert_int_eq(utxo_wallet_coins(A, coins, 16, &total), UTXO_OK);
    ck_assert_uint_eq(total, 3);
    ck_assert_uint_eq(coins[0].key_index, 15);
    ck_assert_uint_eq(coins[2].key_index, 60);
    ck_assert_uint_eq(coins[0].datum_len, sizeof hello);
    ck_assert_uint_eq(coins[1].datum_len, 0);
    ck_assert_int_eq(utxo_wallet_coin_datum(A, &coins[0].outpoint, buf, sizeof buf, &wr), UTXO_OK);
    ck_assert_uint_eq(wr, sizeof hello);
    ck_assert_mem_eq(buf, hello, sizeof hello);
    ck_assert_int_eq(utxo_wallet_coin_datum(A, &coins[0].outpoint, buf, 4, &wr), UTXO_ERR_TOO_LARGE);
    ck_assert_uint_eq(wr, 0);
    ck_assert_int_eq(utxo_wallet_coin_datum(A, &coins[1].outpoint, NULL, 0, &wr), UTXO_OK);
    ck_assert_uint_eq(wr, 0);
    {
        utxo_outpoint none = coins[0].outpoint;
        none.index = 99;
        ck_assert_int_eq(utxo_wallet_coin_datum(A, &none, buf, sizeof buf, &wr), UTXO_ERR_ARG);
    }

    /* a block the validator refuses changes nothing in a rescanning wallet,
     * its keys included (the window used to be raised, and keys derived and
     * committed, before the block was validated) */
    {
        char pe[128];
        utxo_wallet *E = NULL;
        uint32_t k0;
        path_in(pe, sizeof pe, "refused.wallet");
        ck_assert_int_eq(utxo_wallet_create(&E, pe, &p, "r", master), UTXO_OK);
        k0 = utxo_wallet_key_count(E);
        ck_assert_int_eq(utxo_wallet_rescan_begin(E, UTXO_WALLET_GAP_DEFAULT), UTXO_OK);
        ck_assert_uint_eq(utxo_wallet_key_count(E), UTXO_WALLET_GAP_DEFAULT);
        blocks[0]->header.sig[0] ^= 1; /* pays key 15: in the window */
        ck_assert_int_ne(utxo_wallet_apply_block(E, blocks[0], bundles[0], &v), UTXO_OK);
        blocks[0]->header.sig[0] ^= 1;
        ck_assert_uint_eq(utxo_wallet_key_count(E), UTXO_WALLET_GAP_DEFAULT);
        ck_assert_uint_eq(utxo_wallet_next_height(E), 0);
        ck_assert_int_eq(utxo_wallet_rescan_end(E, &nk), UTXO_OK);
        ck_assert_uint_eq(k0, 0);
        ck_assert_uint_eq(nk, 1); /* no key was seen paid: the one kept anyway */
        utxo_wallet_close(E);
        ck_assert_int_eq(utxo_wallet_open(&E, pe, NULL), UTXO_OK);
        ck_assert_uint_eq(utxo_wallet_key_count(E), 1);
        utxo_wallet_close(E);
        /* and the block itself, once it is the real one, finds 15 and 35 */
        ck_assert_int_eq(utxo_wallet_open(&E, pe, "r"), UTXO_OK);
        ck_assert_int_eq(utxo_wallet_rescan_begin(E, UTXO_WALLET_GAP_DEFAULT), UTXO_OK);
        blocks[0]->header.sig[0] ^= 1;
        ck_assert_int_ne(utxo_wallet_apply_block(E, blocks[0], bundles[0], &v), UTXO_OK);
        blocks[0]->header.sig[0] ^= 1;
        ck_assert_msg(utxo_wallet_apply_block(E, blocks[0], bundles[0], &v) == UTXO_OK, "%s",
                      utxo_wallet_errmsg(E));
        ck_assert_int_eq(utxo_wallet_rescan_end(E, &nk), UTXO_OK);
        ck_assert_uint_eq(nk, 36);
        ck_assert_int_eq(utxo_wallet_balance(E, &bal_b, NULL), UTXO_OK);
        ck_assert_uint_eq(bal_b, 5000000);
        utxo_wallet_close(E);
    }

    /* restored with the default gap (20): keys 15 and 35 (in one block: 35
     * is found once 15 raised the window) but not 60 */
    B = restore_scan("gap20.wallet", &p, master, UTXO_WALLET_GAP_DEFAULT, blocks, bundles, 1, &nk);
    ck_assert_int_eq(utxo_wallet_balance(B, &bal_b, &n), UTXO_OK);
    ck_assert_uint_eq(bal_b, 5000000);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(nk, 36); /* the keys derived ahead are gone again */
    ck_assert_uint_eq(utxo_wallet_key_count(B), 36);
    ck_assert_int_eq(utxo_wallet_verify(B), UTXO_OK);
    utxo_wallet_close(B);
    /* with gap 25 key 60 is found too: the same balance as the original */
    C = restore_scan("gap25.wallet", &p, master, 25, blocks, bundles, 1, &nk);
    ck_assert_int_eq(utxo_wallet_balance(C, &bal_b, &n), UTXO_OK);
    ck_assert_uint_eq(bal_b, 5400000);
    ck_assert_uint_eq(nk, 61);
    {
        char a1[UTXO_ADDRESS_LEN + 1], a2[UTXO_ADDRESS_LEN + 1];
        ck_assert_int_eq(utxo_wallet_address(C, 60, a1, NULL), UTXO_OK);
        ck_assert_int_eq(utxo_wallet_address(A, 60, a2, NULL), UTXO_OK);
        ck_assert_str_eq(a1, a2);
    }
    utxo_wallet_close(C);
    /* a rescan needs the passphrase; bad gaps are refused */
    ck_assert_int_eq(utxo_wallet_open(&ro, pa, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_wallet_rescan_begin(ro, 20), UTXO_ERR_WATCH_ONLY);
    ck_assert_int_eq(utxo_wallet_seed(ro, got), UTXO_ERR_WATCH_ONLY);
    for (int i = 0; i < 32; i++)
        ck_assert_uint_eq(got[i], 0);
    utxo_wallet_close(ro);
    ck_assert_int_eq(utxo_wallet_rescan_begin(A, 0), UTXO_ERR_ARG);
    ck_assert_int_eq(utxo_wallet_rescan_begin(A, UTXO_WALLET_GAP_MAX + 1), UTXO_ERR_ARG);

    /* several recipients in one payment, built without reserving */
    {
        utxo_wallet_recipient to[2];
        uint8_t id_d[32];
        memset(to, 0, sizeof to);
        key_id(D, 0, id_d);
        memcpy(to[0].predicate_id, id_d, 32);
        to[0].value = 250000;
        to[0].datum = hello;
        to[0].datum_len = 5;
        memcpy(to[1].predicate_id, p.sequencer_pk, 32); /* any id */
        to[1].value = 40000;
        ck_assert_int_eq(utxo_wallet_send_many(A, to, 0, 0, &ta, &fee), UTXO_ERR_ARG);
        ck_assert_int_eq(utxo_wallet_send_many(A, to, 2, 0x2, &ta, &fee), UTXO_ERR_ARG);
        ck_assert_ptr_null(ta);
        ck_assert_int_eq(utxo_wallet_send_many(A, to, 2, UTXO_WALLET_SEND_NO_RESERVE, &ta, &fee),
                         UTXO_OK);
        ck_assert_uint_ge(ta->n_outputs, 2);
        ck_assert_mem_eq(ta->outputs[0].predicate_id, id_d, 32);
        ck_assert_uint_eq(ta->outputs[0].value, 250000);
        ck_assert_uint_eq(ta->outputs[0].datum_len, 5);
        ck_assert_mem_eq(ta->outputs[0].datum, hello, 5);
        ck_assert_uint_eq(ta->outputs[1].value, 40000);
        ck_assert_uint_gt(fee, 0);
        ck_assert_int_eq(utxo_wallet_pending(A, &pv, &pn), UTXO_OK);
        ck_assert_uint_eq(pn, 0); /* nothing reserved yet */
        /* built again unreserved: it picks the same coin */
        ck_assert_int_eq(utxo_wallet_send_many(A, to, 1, UTXO_WALLET_SEND_NO_RESERVE, &tb, NULL),
                         UTXO_OK);
        ck_assert_mem_eq(&tb->inputs[0].prevout, &ta->inputs[0].prevout, sizeof(utxo_outpoint));
    }
    ck_assert_int_eq(utxo_wallet_reserve(A, ta), UTXO_OK);
    ck_assert_int_eq(utxo_wallet_reserve(A, ta), UTXO_OK); /* again: harmless */
    ck_assert_int_eq(utxo_wallet_pending(A, &pv, &pn), UTXO_OK);
    ck_assert_uint_eq(pn, ta->n_inputs);
    ck_assert_int_eq(utxo_wallet_reserve(A, tb), UTXO_ERR_WALLET_RESERVED);
    ck_assert_int_eq(utxo_wallet_pending(A, NULL, &n), UTXO_OK);
    ck_assert_uint_eq(n, pn); /* all or none */
    ck_assert_int_eq(utxo_wallet_payments(A, pays, 4, &total), UTXO_OK);
    ck_assert_uint_eq(total, 1);
    utxo_tx_txid(ta, txid);
    ck_assert_mem_eq(pays[0].txid, txid, 32);
    ck_assert_uint_eq(pays[0].n_coins, ta->n_inputs);
    ck_assert_uint_eq(pays[0].value, pv);
    /* a transaction spending no coin of the wallet cannot be reserved */
    ck_assert_int_eq(utxo_wallet_reserve(D, ta), UTXO_ERR_ARG);

    /* the payment in block 1: reservations end, D receives the datum */
    blocks[1] = utxo_block_new();
    cb = utxo_tx_new();
    ck_assert_int_eq(utxo_tx_add_output(cb, fee, p.sequencer_pk, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_block_add_tx(blocks[1], cb), UTXO_OK);
    ck_assert_int_eq(utxo_block_add_tx(blocks[1], ta), UTXO_OK);
    ck_assert_int_eq(bp_chain_seal(chain, blocks[1], &bundles[1], NULL, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_wallet_apply_block(A, blocks[1], bundles[1], &v), UTXO_OK);
    ck_assert_int_eq(utxo_wallet_apply_block(D, blocks[1], bundles[1], &v), UTXO_OK);
    ck_assert_int_eq(utxo_wallet_payments(A, pays, 4, &total), UTXO_OK);
    ck_assert_uint_eq(total, 0);
    ck_assert_int_eq(utxo_wallet_balance(D, &bal, NULL), UTXO_OK);
    ck_assert_uint_eq(bal, 950000);
    ck_assert_int_eq(utxo_wallet_coins(D, coins, 16, &total), UTXO_OK);
    ck_assert_uint_eq(total, 2);
    ck_assert_uint_eq(coins[1].datum_len, 5);

    utxo_tx_free(tb);
    for (int i = 0; i < 2; i++) {
        utxo_block_free(blocks[i]); /* owns ta */
        utxo_bundle_free(bundles[i]);
    }
    utxo_wallet_close(A);
    utxo_wallet_close(D);
    bp_chain_free(chain);
}
END_TEST

/* utxo_wallet_errmsg is the message of the last call on the handle: after a
 * failure that wrote one, each later call that succeeds, and each one
 * refused for its arguments, leaves "" rather than the old text. */
static void fail_with_message(utxo_wallet *w)
{
    ck_assert_int_eq(utxo_wallet_rollback(w, 5), UTXO_ERR_ARG);
    ck_assert_str_ne(utxo_wallet_errmsg(w), "");
}

START_TEST(errmsg_follows_each_call)
{
    char path[128];
    uint8_t master[32] = {7}, txid[32] = {0}, buf[64];
    utxo_params p;
    utxo_wallet *w = NULL;
    utxo_outpoint op;
    uint64_t v, n;
    size_t total, len;
    uint32_t keys;

    utxo_params_default(&p);
    memset(&op, 0, sizeof op);
    path_in(path, sizeof path, "errmsg.wallet");
    ck_assert_int_eq(utxo_wallet_create(&w, path, &p, PASS, master), UTXO_OK);
#define AFTER_FAILURE(call, want)                                                        \
    do {                                                                                 \
        fail_with_message(w);                                                            \
        ck_assert_int_eq((call), (want));                                                \
        ck_assert_msg(utxo_wallet_errmsg(w)[0] == '\0', "%s: stale message '%s'", #call, \
                      utxo_wallet_errmsg(w));                                            \
    } while (0)
    AFTER_FAILURE(utxo_wallet_new_key(w, NULL, NULL), UTXO_OK);
    AFTER_FAILURE(utxo_wallet_balance(w, &v, &n), UTXO_OK);
    AFTER_FAILURE(utxo_wallet_pending(w, &v, &n), UTXO_OK);
    AFTER_FAILURE(utxo_wallet_coins(w, NULL, 0, &total), UTXO_OK);
    AFTER_FAILURE(utxo_wallet_history(w, NULL, 0, &total), UTXO_OK);
    AFTER_FAILURE(utxo_wallet_payments(w, NULL, 0, &total), UTXO_OK);
    AFTER_FAILURE(utxo_wallet_verify(w), UTXO_OK);
    AFTER_FAILURE(utxo_wallet_rescan_begin(w, 3), UTXO_OK);
    AFTER_FAILURE(utxo_wallet_rescan_end(w, &keys), UTXO_OK);
    AFTER_FAILURE(utxo_wallet_set_passphrase(w, PASS), UTXO_OK);
    AFTER_FAILURE(utxo_wallet_set_chain(w, &p), UTXO_OK);
    /* refused for their arguments: no message, and not the old one */
    AFTER_FAILURE(utxo_wallet_coins(w, NULL, 1, &total), UTXO_ERR_ARG);
    AFTER_FAILURE(utxo_wallet_abandon(w, NULL), UTXO_ERR_ARG);
    AFTER_FAILURE(utxo_wallet_coin_datum(w, NULL, buf, sizeof buf, &len), UTXO_ERR_ARG);
    AFTER_FAILURE(utxo_wallet_coin_proof(w, NULL, buf, sizeof buf, &len, NULL), UTXO_ERR_ARG);
    AFTER_FAILURE(utxo_wallet_send(w, NULL, 1000, NULL, NULL), UTXO_ERR_ARG);
    AFTER_FAILURE(utxo_wallet_rescan_begin(w, 0), UTXO_ERR_ARG);
    AFTER_FAILURE(utxo_wallet_set_passphrase(w, NULL), UTXO_ERR_ARG);
#undef AFTER_FAILURE
    /* failures that have something to say say it */
    ck_assert_int_eq(utxo_wallet_abandon(w, txid), UTXO_ERR_ARG);
    ck_assert_str_eq(utxo_wallet_errmsg(w), "no coin is reserved by that payment");
    ck_assert_int_eq(utxo_wallet_coin_datum(w, &op, buf, sizeof buf, &len), UTXO_ERR_ARG);
    ck_assert_str_ne(utxo_wallet_errmsg(w), "");
    utxo_wallet_close(w);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("wallet");
    TCase *tc = tcase_create("wallet");
    int rc;

    if (utxo_init() != UTXO_OK)
        return 1;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_wallet.XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return 1;
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, version_and_init);
    tcase_add_test(tc, file_mode);
    tcase_add_test(tc, passphrase);
    tcase_add_test(tc, restore_from_master);
    tcase_add_test(tc, synced_history);
    tcase_add_test(tc, seed_rescan_send_many);
    tcase_add_test(tc, errmsg_follows_each_call);
    suite_add_tcase(s, tc);
    rc = run_suite(s);
    {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            rc = 1;
    }
    return rc;
}
