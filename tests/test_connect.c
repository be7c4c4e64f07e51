/*
 * test_connect.c — the block-connection core seen through every adapter
 * (src/connect/connect.h, docs/CONNECT.md). The generator's history
 * (`utxo gen`: every standard predicate, same-block spends, long runs with
 * segment receipts) goes block by block through the SQLite store, the
 * stateless validator, the chain builder (re-sealing each block, with
 * predicates on: bp_chain_set_verify), wallet sync and a validator told the
 * next block (utxo_validator_apply_ahead, as `utxo verify` and range
 * verification run); at chosen heights a set of invalid blocks goes first
 * (header faults, transaction faults, and block-level ones: a spend twice
 * across transactions, spends of a later or missing output of the block,
 * coinbase missing, doubled, second or at the wrong height, a value over
 * the supply, the block's cycles, references to the block's own outputs
 * or to what it spends), and at the tip the whole invalid.txs
 * corpus goes in as one-transaction blocks. Every adapter must give the
 * same verdict, reason code and (tx, input), and the same roots; a refused
 * block must change none of them; the store rolled back with the core's
 * undo records and applied again ends where the others are. The suite
 * fails on any divergence.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "testutil.h"
#include "chain/chain.h"
#include "connect/connect.h"
#include "utxo/ledger_int.h"
#include "utxo/wallet.h"

/* ---- the history ------------------------------------------------------------------- */

typedef struct history {
    char dir[256];
    char chain[300];
    utxo_params p;
    uint8_t sk[64];
    size_t n;
    utxo_block **blocks;
    uint8_t **bundles;   /* encoded */
    size_t *bundle_len;
} history;

static void history_load(history *h, uint32_t blocks)
{
    utxo_chainfile *bf, *pf;
    utxo_params pp;
    uint8_t seed[32], pk[32], *rec;
    size_t len;
    gen_opts o;
    gen_stats st;
    char msg[512], path[400];

    memset(h, 0, sizeof *h);
    snprintf(h->dir, sizeof h->dir, "/tmp/test_connect.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(h->dir));
    snprintf(h->chain, sizeof h->chain, "%s/chain", h->dir);
    gen_opts_default(&o);
    o.seed = 13;
    o.blocks = blocks;
    o.tx_per_block = 12;
    o.n_wallets = 12;
    o.long_every = 4;
    o.long_rounds = 120;
    o.po2 = 16;
    o.threads = 2;
    ck_assert_msg(gen_run(h->chain, &o, &st, NULL, NULL, msg, sizeof msg) == UTXO_OK, "%s", msg);
    ck_assert_uint_gt(st.long_runs, 0);
    ck_assert_uint_gt(st.same_block, 0);
    ck_assert_int_eq(chain_read_key(h->chain, seed, msg, sizeof msg), UTXO_OK);
    crypto_sign_seed_keypair(pk, h->sk, seed);
    snprintf(path, sizeof path, "%s/%s", h->chain, CHAIN_BLOCKS_FILE);
    ck_assert_int_eq(utxo_chainfile_open(&bf, path, UTXO_CHAINFILE_BLOCKS, &h->p, NULL), UTXO_OK);
    snprintf(path, sizeof path, "%s/%s", h->chain, CHAIN_PROOFS_FILE);
    ck_assert_int_eq(utxo_chainfile_open(&pf, path, UTXO_CHAINFILE_PROOFS, &pp, NULL), UTXO_OK);
    ck_assert_mem_eq(pk, h->p.sequencer_pk, 32);
    h->blocks = calloc(blocks, sizeof *h->blocks);
    h->bundles = calloc(blocks, sizeof *h->bundles);
    h->bundle_len = calloc(blocks, sizeof *h->bundle_len);
    for (;;) {
        ck_assert_int_eq(utxo_chainfile_next(bf, &rec, &len, NULL), UTXO_OK);
        if (rec == NULL)
            break;
        ck_assert_uint_lt(h->n, blocks);
        ck_assert_int_eq(utxo_block_from_bytes(&h->blocks[h->n], rec, len, &h->p, NULL), UTXO_OK);
        free(rec);
        ck_assert_int_eq(utxo_chainfile_next(pf, &h->bundles[h->n], &h->bundle_len[h->n], NULL),
                         UTXO_OK);
        ck_assert_ptr_nonnull(h->bundles[h->n]);
        h->n++;
    }
    ck_assert_uint_eq(h->n, blocks);
    ck_assert_int_eq(utxo_chainfile_close(bf), UTXO_OK);
    ck_assert_int_eq(utxo_chainfile_close(pf), UTXO_OK);
}

static void history_free(history *h)
{
    char cmd[300];

    for (size_t k = 0; k < h->n; k++) {
        utxo_block_free(h->blocks[k]);
        free(h->bundles[k]);
    }
    free(h->blocks);
    free(h->bundles);
    free(h->bundle_len);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", h->dir);
    ck_assert_int_eq(system(cmd), 0);
}

static utxo_block *block_clone(const utxo_block *b, const utxo_params *p)
{
    size_t len = utxo_block_get_length(b), w;
    uint8_t *buf = malloc(len);
    utxo_block *c = NULL;

    ck_assert_int_eq(utxo_block_to_bytes(b, buf, len, &w), UTXO_OK);
    ck_assert_int_eq(utxo_block_from_bytes(&c, buf, len, p, NULL), UTXO_OK);
    free(buf);
    return c;
}

static utxo_bundle *bundle_decode(const history *h, size_t k)
{
    utxo_bundle *bd = NULL;

    ck_assert_int_eq(utxo_bundle_from_bytes(&bd, h->bundles[k], h->bundle_len[k], &h->p, NULL),
                     UTXO_OK);
    return bd;
}

/* ---- the adapters ---------------------------------------------------------------------- */

/* AD_AHEAD: a stateless validator through utxo_validator_apply_ahead,
 * told the history's next block, as `utxo verify` and range verification
 * (utxo_verify_files) run it */
enum { AD_STORE, AD_VALIDATOR, AD_BUILDER, AD_WALLET, AD_AHEAD, AD_N };
static const char *const ad_name[AD_N] = {"store", "validator", "builder", "wallet",
                                          "validator ahead"};

typedef struct adapters {
    utxo_store *store;
    utxo_validator *val;
    bp_chain *chain;
    utxo_wallet *wallet;
    utxo_validator *ahead;
    utxo_bundle **hint;  /* the history's bundles, decoded once: the hints the
                            ahead validator is given, and then given back */
    size_t n_hint;
} adapters;

typedef struct outcome {
    int rc;
    uint32_t tx, input;
    bool ran;
} outcome;

static void adapters_open(adapters *a, const history *h)
{
    char path[400], msg[256];

    snprintf(path, sizeof path, "%s/store.db", h->dir);
    ck_assert_msg(utxo_store_open(&a->store, path, &h->p, UTXO_STORE_CREATE, 2, msg, sizeof msg) ==
                      UTXO_OK, "%s", msg);
    ck_assert_ptr_nonnull(a->val = utxo_validator_new(&h->p, 2));
    ck_assert_int_eq(bp_chain_new(&a->chain, &h->p, h->sk), UTXO_OK);
    ck_assert_int_eq(bp_chain_set_verify(a->chain, 2), UTXO_OK);
    snprintf(path, sizeof path, "%s/wallet.db", h->dir);
    ck_assert_int_eq(utxo_wallet_create(&a->wallet, path, &h->p, "", NULL), UTXO_OK);
    ck_assert_ptr_nonnull(a->ahead = utxo_validator_new(&h->p, 2));
    a->n_hint = h->n;
    ck_assert_ptr_nonnull(a->hint = calloc(h->n, sizeof *a->hint));
}

static void adapters_close(adapters *a)
{
    utxo_store_close(a->store);
    utxo_validator_free(a->val);
    bp_chain_free(a->chain);
    utxo_wallet_close(a->wallet);
    utxo_validator_free(a->ahead);
    for (size_t k = 0; k < a->n_hint; k++)
        utxo_bundle_free(a->hint[k]);
    free(a->hint);
}

/* The accumulator digest each adapter holds; all must be equal. */
static void digests(adapters *a, uint8_t d[AD_N][UTXO_HASH_BYTES])
{
    utxo_store_info info;
    acc_state st;
    uint8_t roots[ACC_MAX_ROOTS][UTXO_HASH_BYTES];
    uint64_t count = 0;
    unsigned nr;

    utxo_store_get_info(a->store, &info);
    memcpy(d[AD_STORE], info.acc_digest, UTXO_HASH_BYTES);
    utxo_validator_acc_digest(a->val, d[AD_VALIDATOR]);
    ck_assert_int_eq(acc_forest_state(bp_chain_forest(a->chain), &st), UTXO_OK);
    acc_state_digest(d[AD_BUILDER], &st);
    /* the wallet's roots, as an accumulator state */
    nr = utxo_wallet_roots(a->wallet, &count, roots, ACC_MAX_ROOTS);
    acc_state_init(&st);
    st.count = count;
    for (int r = ACC_MAX_ROOTS - 1, k = 0; r >= 0; r--)
        if ((count >> r) & 1) {
            ck_assert_uint_lt(k, nr);
            memcpy(st.roots[r], roots[k++], UTXO_HASH_BYTES);
        }
    acc_state_digest(d[AD_WALLET], &st);
    utxo_validator_acc_digest(a->ahead, d[AD_AHEAD]);
}

static void assert_same_digests(adapters *a, const char *when)
{
    uint8_t d[AD_N][UTXO_HASH_BYTES];

    digests(a, d);
    for (int k = 1; k < AD_N; k++)
        ck_assert_msg(memcmp(d[0], d[k], UTXO_HASH_BYTES) == 0,
                      "%s: the %s's accumulator differs from the store's", when, ad_name[k]);
    ck_assert_uint_eq(utxo_validator_next_height(a->val), bp_chain_next_height(a->chain));
    ck_assert_uint_eq(utxo_wallet_next_height(a->wallet), bp_chain_next_height(a->chain));
    ck_assert_uint_eq(utxo_validator_next_height(a->ahead), bp_chain_next_height(a->chain));
}

/*
 * Block b with bundle bd through every adapter. The builder re-seals a copy
 * of b's transactions (it makes the header itself) when `builder` is set:
 * for a valid block its result must be b byte for byte.
 */
static void connect_all(adapters *a, const history *h, const utxo_block *b,
                        const utxo_bundle *bd, bool builder, outcome out[AD_N])
{
    utxo_verdict vd;

    memset(out, 0, AD_N * sizeof *out);
    out[AD_STORE].rc = utxo_store_apply_block(a->store, b, &vd);
    out[AD_STORE].tx = vd.tx;
    out[AD_STORE].input = vd.input;
    out[AD_STORE].ran = true;
    out[AD_VALIDATOR].rc = utxo_validator_apply(a->val, b, bd, &vd);
    out[AD_VALIDATOR].tx = vd.tx;
    out[AD_VALIDATOR].input = vd.input;
    out[AD_VALIDATOR].ran = true;
    out[AD_WALLET].rc = utxo_wallet_apply_block(a->wallet, b, bd, &vd);
    out[AD_WALLET].tx = vd.tx;
    out[AD_WALLET].input = vd.input;
    out[AD_WALLET].ran = true;
    {
        /* the history's block k (by the validator's height) is given the
         * hint it was given as the next one; any other block its own bundle */
        size_t k = utxo_validator_next_height(a->ahead);
        const utxo_bundle *mine = bd;
        if (k < h->n && b == h->blocks[k] && a->hint[k] != NULL)
            mine = a->hint[k];
        if (k + 1 < h->n && a->hint[k + 1] == NULL)
            a->hint[k + 1] = bundle_decode(h, k + 1);
        out[AD_AHEAD].rc = utxo_validator_apply_ahead(a->ahead, b, mine,
                                                      k + 1 < h->n ? h->blocks[k + 1] : NULL,
                                                      k + 1 < h->n ? a->hint[k + 1] : NULL, &vd);
        out[AD_AHEAD].tx = vd.tx;
        out[AD_AHEAD].input = vd.input;
        out[AD_AHEAD].ran = true;
    }
    if (builder) {
        utxo_block *c = block_clone(b, &h->p);
        utxo_bundle *made = NULL;
        out[AD_BUILDER].rc = bp_chain_seal(a->chain, c, &made, &out[AD_BUILDER].tx,
                                           &out[AD_BUILDER].input);
        out[AD_BUILDER].ran = true;
        if (out[AD_BUILDER].rc == UTXO_OK) {
            size_t lb = utxo_block_get_length(b), lc = utxo_block_get_length(c), w;
            uint8_t *pb = malloc(lb), *pc = malloc(lc);
            ck_assert_int_eq(utxo_block_to_bytes(b, pb, lb, &w), UTXO_OK);
            ck_assert_int_eq(utxo_block_to_bytes(c, pc, lc, &w), UTXO_OK);
            ck_assert_msg(lb == lc && memcmp(pb, pc, lb) == 0,
                          "the builder re-sealed block %u differently", b->header.height);
            free(pb);
            free(pc);
        }
        utxo_bundle_free(made);
        utxo_block_free(c);
    }
}

/* Every adapter that ran agrees with the store on code, tx and input. */
static void assert_agree(const outcome out[AD_N], const char *what)
{
    for (int k = 1; k < AD_N; k++) {
        if (!out[k].ran)
            continue;
        ck_assert_msg(out[k].rc == out[AD_STORE].rc,
                      "%s: the %s says %d (%s), the store %d (%s)", what, ad_name[k], out[k].rc,
                      utxo_strerror(out[k].rc), out[AD_STORE].rc, utxo_strerror(out[AD_STORE].rc));
        ck_assert_msg(out[k].tx == out[AD_STORE].tx && out[k].input == out[AD_STORE].input,
                      "%s: the %s names tx %u input %u, the store tx %u input %u", what,
                      ad_name[k], out[k].tx, out[k].input, out[AD_STORE].tx,
                      out[AD_STORE].input);
    }
}

/* ---- invalid blocks ---------------------------------------------------------------- */

static void resign(const history *h, utxo_block *b, bool root)
{
    if (root)
        ck_assert_int_eq(utxo_block_tx_root(b, b->header.tx_root), UTXO_OK);
    ck_assert_int_eq(utxo_header_sign(&b->header, h->sk), UTXO_OK);
}

/* bd (decoded from the file) bound to the changed block b. */
static void rebind(utxo_bundle *bd, const utxo_block *b)
{
    uint8_t hash[UTXO_HASH_BYTES];

    utxo_header_hash(&b->header, hash);
    bp_bundle_set_block(bd, hash);
}

enum mutation {
    M_HEIGHT, M_PREV, M_TIME, M_SIG, M_TX_ROOT, M_DIGEST, M_COINBASE_VALUE, M_DUP_TX,
    M_SIG_BIT, M_IMAGE, M_BUDGET, M_VALUE_AND_RECEIPT, M_SIG_AND_RECEIPT, M_IMAGE_AND_RECEIPT,
    /* block-level faults of the transactions (docs/ENCODING.md, the block
     * rules and the layout): stage 3 or 5, before any view or bundle */
    M_CROSS_DOUBLE_SPEND, M_SPEND_LATER, M_SPEND_NO_SUCH_INDEX, M_NO_COINBASE,
    M_SECOND_COINBASE, M_COINBASE_NOT_FIRST, M_COINBASE_HEIGHT, M_OVER_MAX_MONEY,
    M_BLOCK_CYCLES, M_REF_NEW, M_REF_SPENT, M_LATER_AND_RECEIPT, M_COUNT
};

static const struct {
    const char *what;
    int code;        /* expected; 0: whatever the store says, not OK */
    bool builder;    /* a fault in the transactions: the builder sees it too */
} mutation_info[M_COUNT] = {
    {"wrong height", UTXO_ERR_BLOCK_HEIGHT, false},
    {"wrong previous hash", UTXO_ERR_BLOCK_PREV, false},
    {"time before the tip's", UTXO_ERR_BLOCK_TIME, false},
    {"signature bit flipped", UTXO_ERR_BLOCK_SIG, false},
    {"tx root bit flipped", UTXO_ERR_BLOCK_TX_ROOT, false},
    {"accumulator digest bit flipped", UTXO_ERR_BLOCK_DIGEST, false},
    {"coinbase pays one more than the fees", UTXO_ERR_TX_VALUE, true},
    {"a transaction twice", 0, true},
    {"an Ed25519 signature bit flipped", UTXO_ERR_TX_REJECTED, true},
    {"witness image with its last byte changed", UTXO_ERR_TX_PREDICATE_ID, true},
    {"budget of 1000 cycles", UTXO_ERR_TX_REJECTED, true},
    /* an invalid block with a bad bundle besides: the block's own fault is
     * the verdict in every mode, the bundle's only where there is one */
    {"coinbase pays one more than the fees, a segment receipt dropped", UTXO_ERR_TX_VALUE, true},
    {"an Ed25519 signature bit flipped, a segment receipt dropped", UTXO_ERR_TX_REJECTED, true},
    {"witness image with its last byte changed, a segment receipt dropped",
     UTXO_ERR_TX_PREDICATE_ID, true},
    {"tx 2 spends what tx 1 spends", UTXO_ERR_BLOCK_DOUBLE_SPEND, true},
    {"tx 1 spends an output of the block's last tx", UTXO_ERR_TX_MISSING, true},
    {"tx 2 spends tx 1's output past its last", UTXO_ERR_TX_MISSING, true},
    {"no coinbase", UTXO_ERR_BLOCK_COINBASE, true},
    {"a second coinbase last", UTXO_ERR_BLOCK_COINBASE, true},
    {"the coinbase second", UTXO_ERR_BLOCK_COINBASE, true},
    /* the builder writes the coinbase's height itself */
    {"coinbase committing to the next height", UTXO_ERR_BLOCK_HEIGHT, false},
    {"an output of 2.1e15 + 1", UTXO_ERR_TX_VALUE, true},
    {"17 copies of tx 1, each at max_tx_cycles", UTXO_ERR_BLOCK_CYCLES, true},
    {"tx 1 references an output of tx 2", UTXO_ERR_BLOCK_REF_NEW, true},
    /* REF_SPENT, or REF_NEW when the last tx spends an output of the block */
    {"tx 1 references what the last tx spends", 0, true},
    /* the block's fault (stage 5) before the bundle's (stage 4) */
    {"tx 1 spends an output of the block's last tx, a receipt naming no input",
     UTXO_ERR_TX_MISSING, true},
};

/* The first input of a non-coinbase tx whose arguments are a 64-byte
 * signature (pay-to-pubkey); false if there is none. */
static bool find_sig_input(const utxo_block *b, uint32_t *t, uint32_t *i)
{
    for (*t = 1; *t < b->n_txs; (*t)++)
        for (*i = 0; *i < b->txs[*t]->n_inputs; (*i)++)
            if (b->txs[*t]->inputs[*i].witness.args_len == UTXO_SIG_BYTES)
                return true;
    return false;
}

/* Input 0 of tx becomes a reference spend (form 3) of the output op:
 * docs/ENCODING.md, "Reference inputs". */
static void reference(utxo_tx *tx, const utxo_outpoint *op)
{
    utxo_witness *w = &tx->inputs[0].witness;
    uint32_t k;

    ck_assert_int_eq(utxo_tx_add_ref(tx, op, &k), UTXO_OK);
    free(w->image);
    free(w->params);
    w->image = w->params = NULL;
    w->image_len = w->params_len = 0;
    w->form = UTXO_FORM_REF;
    w->ref = k;
}

/* The block-level mutations (M_CROSS_DOUBLE_SPEND on) of block b, in
 * place; false when one does not apply to it. */
static bool mutate_block(const history *h, utxo_block *b, enum mutation m)
{
    uint32_t n = b->n_txs;
    utxo_outpoint op;
    utxo_tx *tx;

    if (n < 4 || ((m == M_REF_NEW || m == M_REF_SPENT) && b->txs[1]->n_refs > 0))
        return false; /* (a reference of tx 1's own would go unused) */
    switch (m) {
    case M_CROSS_DOUBLE_SPEND:
        b->txs[2]->inputs[0].prevout = b->txs[1]->inputs[0].prevout;
        break;
    case M_SPEND_LATER:
    case M_LATER_AND_RECEIPT: /* the receipt: invalid_blocks_at */
        utxo_tx_txid(b->txs[n - 1], b->txs[1]->inputs[0].prevout.txid);
        b->txs[1]->inputs[0].prevout.index = 0;
        break;
    case M_SPEND_NO_SUCH_INDEX:
        utxo_tx_txid(b->txs[1], b->txs[2]->inputs[0].prevout.txid);
        b->txs[2]->inputs[0].prevout.index = b->txs[1]->n_outputs;
        break;
    case M_NO_COINBASE:
        utxo_tx_free(b->txs[0]);
        memmove(&b->txs[0], &b->txs[1], (n - 1) * sizeof *b->txs);
        b->n_txs--;
        break;
    case M_SECOND_COINBASE:
        ck_assert_int_eq(utxo_block_add_tx(b, utxo_tx_clone(b->txs[0])), UTXO_OK);
        break;
    case M_COINBASE_NOT_FIRST:
        tx = b->txs[0];
        b->txs[0] = b->txs[1];
        b->txs[1] = tx;
        break;
    case M_COINBASE_HEIGHT:
        b->txs[0]->coinbase_height++;
        break;
    case M_OVER_MAX_MONEY:
        b->txs[1]->outputs[0].value = UTXO_MAX_MONEY + 1;
        break;
    case M_BLOCK_CYCLES:
        for (int c = 0; c < 17; c++) {
            tx = utxo_tx_clone(b->txs[1]);
            for (uint32_t i = 0; i < tx->n_inputs; i++)
                tx->inputs[i].witness.budget = i == 0 ? h->p.max_tx_cycles : 0;
            ck_assert_int_eq(utxo_block_add_tx(b, tx), UTXO_OK);
        }
        break;
    case M_REF_NEW:
        utxo_tx_txid(b->txs[2], op.txid);
        op.index = 0;
        reference(b->txs[1], &op);
        break;
    case M_REF_SPENT:
        if (b->txs[n - 1]->n_inputs == 0)
            return false;
        op = b->txs[n - 1]->inputs[0].prevout;
        reference(b->txs[1], &op);
        break;
    default:
        return false;
    }
    return true;
}

/* Applies mutation m to a copy of the next block; false when it does not
 * apply to this block. */
static bool mutate(const history *h, size_t k, enum mutation m, utxo_block **out)
{
    utxo_block *b = block_clone(h->blocks[k], &h->p);
    utxo_witness *w;
    uint32_t t, i;

    *out = b;
    switch (m) {
    case M_HEIGHT:
        b->header.height++;
        resign(h, b, false);
        break;
    case M_PREV:
        b->header.prev_hash[0] ^= 1;
        resign(h, b, false);
        break;
    case M_TIME:
        b->header.time = h->blocks[k - 1]->header.time - 1;
        resign(h, b, false);
        break;
    case M_SIG:
        b->header.sig[7] ^= 0x10;
        break;
    case M_TX_ROOT:
        b->header.tx_root[3] ^= 1;
        resign(h, b, false);
        break;
    case M_DIGEST:
        b->header.acc_digest[0] ^= 1;
        resign(h, b, false);
        break;
    case M_COINBASE_VALUE:
    case M_VALUE_AND_RECEIPT: /* the receipt: invalid_blocks_at */
        if (b->txs[0]->n_outputs == 0)
            return false;
        b->txs[0]->outputs[0].value++;
        resign(h, b, true);
        break;
    case M_DUP_TX:
        if (b->n_txs < 2)
            return false;
        ck_assert_int_eq(utxo_block_add_tx(b, utxo_tx_clone(b->txs[1])), UTXO_OK);
        resign(h, b, true);
        break;
    case M_SIG_BIT:
    case M_SIG_AND_RECEIPT:
        if (!find_sig_input(b, &t, &i))
            return false;
        b->txs[t]->inputs[i].witness.args[9] ^= 4;
        resign(h, b, true);
        break;
    case M_IMAGE:
    case M_IMAGE_AND_RECEIPT: {
        uint8_t *img;
        if (!find_sig_input(b, &t, &i))
            return false;
        w = &b->txs[t]->inputs[i].witness;
        if (w->form == UTXO_FORM_TEMPLATE) { /* another key: a valid instance, another id */
            w->params[w->params_len - 1] ^= 0x5a;
            resign(h, b, true);
            break;
        }
        img = malloc(w->image_len);
        memcpy(img, w->image, w->image_len);
        img[w->image_len - 1] ^= 0x5a; /* same size: same fee, another id */
        ck_assert_int_eq(utxo_tx_set_witness(b->txs[t], i, w->budget, img, w->image_len,
                                             w->args, w->args_len),
                         UTXO_OK);
        free(img);
        resign(h, b, true);
        break;
    }
    case M_BUDGET:
        if (!find_sig_input(b, &t, &i))
            return false;
        b->txs[t]->inputs[i].witness.budget = 1000; /* witness data: the signature stands */
        resign(h, b, true);
        break;
    default:
        if (!mutate_block(h, b, m))
            return false;
        resign(h, b, true);
        /* as it would arrive: encoded and decoded again */
        *out = block_clone(b, &h->p);
        utxo_block_free(b);
        break;
    }
    return true;
}

/* Blocks given M_VALUE_AND_RECEIPT, M_SIG_AND_RECEIPT or
 * M_IMAGE_AND_RECEIPT (their bundle has receipts). */
static unsigned n_receipt_cases;

/* Every mutation of block k through every adapter: the same refusal, and
 * nothing changes. */
static unsigned invalid_blocks_at(adapters *a, const history *h, size_t k)
{
    uint8_t before[AD_N][UTXO_HASH_BYTES], after[AD_N][UTXO_HASH_BYTES];
    unsigned n = 0;

    digests(a, before);
    for (int m = 0; m < M_COUNT; m++) {
        utxo_block *b = NULL;
        utxo_bundle *bd = bundle_decode(h, k);
        outcome out[AD_N];
        char what[128];
        bool applies = mutate(h, k, (enum mutation)m, &b);
        if (applies && m == M_LATER_AND_RECEIPT) {
            if (bd->n_receipts == 0)
                applies = false;
            else
                bd->receipts[0].input = 1000;
        }
        if (applies && (m == M_VALUE_AND_RECEIPT || m == M_SIG_AND_RECEIPT ||
                        m == M_IMAGE_AND_RECEIPT)) {
            if (bd->n_receipts == 0 || bd->receipts[0].n < 2) {
                applies = false;
            } else {
                bp_receipt *r = &bd->receipts[0];
                utxo_receipt_free(r->r[r->n - 1]);
                r->n--;
                n_receipt_cases++;
            }
        }
        if (applies) {
            if (m != M_SIG) /* a signature is not covered by the block hash */
                rebind(bd, b);
            connect_all(a, h, b, bd, mutation_info[m].builder, out);
            snprintf(what, sizeof what, "block %zu, %s", k, mutation_info[m].what);
            ck_assert_msg(out[AD_STORE].rc != UTXO_OK, "%s: the store accepts it", what);
            if (mutation_info[m].code != 0)
                ck_assert_msg(out[AD_STORE].rc == mutation_info[m].code, "%s: the store says %d",
                              what, out[AD_STORE].rc);
            if (m == M_REF_SPENT)
                ck_assert_msg(out[AD_STORE].rc == UTXO_ERR_BLOCK_REF_SPENT ||
                                  out[AD_STORE].rc == UTXO_ERR_BLOCK_REF_NEW,
                              "%s: the store says %d", what, out[AD_STORE].rc);
            assert_agree(out, what);
            digests(a, after);
            ck_assert_msg(memcmp(before, after, sizeof before) == 0, "%s changed an adapter",
                          what);
            n++;
        }
        utxo_block_free(b);
        utxo_bundle_free(bd);
    }
    return n;
}

/* ---- the invalid.txs corpus -------------------------------------------------------------- */

/* A prover at the tip of the history: a builder without predicates. */
static bp_chain *prover_at_tip(const history *h)
{
    bp_chain *c = NULL;

    ck_assert_int_eq(bp_chain_new(&c, &h->p, h->sk), UTXO_OK);
    for (size_t k = 0; k < h->n; k++) {
        utxo_block *b = block_clone(h->blocks[k], &h->p);
        ck_assert_int_eq(bp_chain_seal(c, b, NULL, NULL, NULL), UTXO_OK);
        utxo_block_free(b);
    }
    return c;
}

/*
 * The block after the tip holding a coinbase and tx (taken over). The
 * prover seals it when it can (the bundle is then honest: an invalid
 * predicate, fee or value); when it cannot (a rule the prover checks too,
 * a missing output) the block is signed with a zero digest and gets an
 * empty bundle bound to it.
 */
static utxo_block *corpus_block(const history *h, utxo_tx *tx, utxo_bundle **bd, int *prover_rc)
{
    const utxo_block *tip = h->blocks[h->n - 1];
    utxo_block *b = utxo_block_new();
    utxo_tx *cb = utxo_tx_new();
    bp_chain *prover = prover_at_tip(h);
    utxo_block *sealed;

    ck_assert_int_eq(utxo_tx_add_output(cb, 0, h->p.sequencer_pk, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_block_add_tx(b, cb), UTXO_OK);
    ck_assert_int_eq(utxo_block_add_tx(b, tx), UTXO_OK);
    b->header.time = tip->header.time + 1;
    sealed = block_clone(b, &h->p);
    *prover_rc = bp_chain_seal(prover, sealed, bd, NULL, NULL);
    bp_chain_free(prover);
    if (*prover_rc == UTXO_OK) {
        utxo_block_free(b);
        return sealed;
    }
    utxo_block_free(sealed);
    b->header.height = (uint32_t)h->n;
    b->txs[0]->coinbase_height = (uint32_t)h->n;
    utxo_header_hash(&tip->header, b->header.prev_hash);
    resign(h, b, true);
    *bd = bp_bundle_new(); /* leaf count and block hash: the caller's */
    ck_assert_ptr_nonnull(*bd);
    return b;
}

static unsigned corpus(adapters *a, const history *h)
{
    char path[400], *line = NULL;
    size_t cap = 0;
    unsigned n = 0;
    FILE *f;
    uint8_t before[AD_N][UTXO_HASH_BYTES], after[AD_N][UTXO_HASH_BYTES];

    snprintf(path, sizeof path, "%s/%s", h->chain, CHAIN_INVALID_FILE);
    ck_assert_ptr_nonnull(f = fopen(path, "r"));
    digests(a, before);
    while (getline(&line, &cap, f) > 0) {
        char *code, *hex, *what;
        uint8_t *bin;
        size_t bl, got = 0;
        utxo_tx *tx = NULL;
        utxo_block *b;
        utxo_bundle *bd = NULL;
        outcome out[AD_N];
        int expect, prc, rc;
        if (line[0] == '#')
            continue;
        code = strtok(line, " ");
        hex = strtok(NULL, " ");
        what = strtok(NULL, "\n");
        expect = atoi(code);
        if (expect == UTXO_OK || expect == UTXO_ERR_MP_CONFLICT || expect == UTXO_ERR_MP_DUPLICATE)
            continue; /* mempool-only (and the valid payment they need) */
        bl = strlen(hex) / 2;
        bin = malloc(bl);
        ck_assert_int_eq(sodium_hex2bin(bin, bl, hex, strlen(hex), NULL, &got, NULL), 0);
        rc = utxo_tx_from_bytes(&tx, bin, got, &h->p, NULL);
        free(bin);
        if (rc != UTXO_OK) { /* refused by the decoder: no block can carry it */
            ck_assert_int_eq(rc, expect);
            continue;
        }
        b = corpus_block(h, tx, &bd, &prc);
        if (prc != UTXO_OK) {
            utxo_store_info info;
            utxo_store_get_info(a->store, &info);
            bd->leaf_count = info.leaf_count;
            rebind(bd, b);
        }
        connect_all(a, h, b, bd, true, out);
        ck_assert_msg(out[AD_STORE].rc != UTXO_OK, "\"%s\": the store accepts it", what);
        if (prc == UTXO_ERR_TX_MISSING || prc == UTXO_ERR_TX_REF_MISSING) {
            /* an output that is not there (spent or referenced): a full node
             * says so; a stateless one cannot know, it sees a bundle that
             * does not cover the input or the reference */
            ck_assert_int_eq(out[AD_STORE].rc, prc);
            ck_assert_int_eq(out[AD_BUILDER].rc, prc);
            ck_assert_int_eq(out[AD_VALIDATOR].rc, UTXO_ERR_BUNDLE_SPENDS);
            ck_assert_int_eq(out[AD_WALLET].rc, UTXO_ERR_BUNDLE_SPENDS);
            ck_assert_int_eq(out[AD_AHEAD].rc, UTXO_ERR_BUNDLE_SPENDS);
            ck_assert_uint_eq(out[AD_BUILDER].tx, out[AD_STORE].tx);
            ck_assert_uint_eq(out[AD_VALIDATOR].tx, out[AD_STORE].tx);
        } else {
            assert_agree(out, what);
        }
        /* the consensus reason is the mempool's, except where a block sees
         * it first as a block rule (a second coinbase-like tx) */
        if (expect != UTXO_ERR_TX_NO_INPUTS)
            ck_assert_msg(out[AD_STORE].rc == expect, "\"%s\": %d, invalid.txs says %d", what,
                          out[AD_STORE].rc, expect);
        else
            ck_assert_int_eq(out[AD_STORE].rc, UTXO_ERR_BLOCK_COINBASE);
        digests(a, after);
        ck_assert_msg(memcmp(before, after, sizeof before) == 0, "\"%s\" changed an adapter",
                      what);
        utxo_block_free(b);
        utxo_bundle_free(bd);
        n++;
    }
    free(line);
    fclose(f);
    return n;
}

/* ---- the test ------------------------------------------------------------------------ */

START_TEST(every_adapter_agrees)
{
    history h;
    adapters a;
    unsigned n_invalid = 0;

    history_load(&h, 10);
    adapters_open(&a, &h);
    for (size_t k = 0; k < h.n; k++) {
        utxo_bundle *bd = bundle_decode(&h, k);
        outcome out[AD_N];
        char what[64];
        if (k == 2 || k == 4 || k == h.n - 1)
            n_invalid += invalid_blocks_at(&a, &h, k);
        snprintf(what, sizeof what, "history block %zu", k);
        connect_all(&a, &h, h.blocks[k], bd, true, out);
        for (int j = 0; j < AD_N; j++)
            ck_assert_msg(out[j].rc == UTXO_OK, "%s: the %s says %d (%s)", what, ad_name[j],
                          out[j].rc, utxo_strerror(out[j].rc));
        assert_same_digests(&a, what);
        utxo_bundle_free(bd);
    }
    ck_assert_uint_ge(n_invalid, 3 * 9 + 2 * 11 + 3 + 1 + 4);
    ck_assert_uint_ge(n_receipt_cases, 3);
    ck_assert_uint_ge(corpus(&a, &h), 14);
    assert_same_digests(&a, "after the corpus");
    /* rollback (the core's undo record and cn_disconnect): three blocks
     * back, then forward again, must land on the same roots as the others */
    {
        uint8_t d[AD_N][UTXO_HASH_BYTES];
        utxo_store_info info;
        ck_assert_int_eq(utxo_store_rollback(a.store, (uint32_t)h.n - 4), UTXO_OK);
        utxo_store_get_info(a.store, &info);
        ck_assert_mem_eq(info.acc_digest, h.blocks[h.n - 4]->header.acc_digest, UTXO_HASH_BYTES);
        for (size_t k = h.n - 3; k < h.n; k++)
            ck_assert_int_eq(utxo_store_apply_block(a.store, h.blocks[k], NULL), UTXO_OK);
        digests(&a, d);
        ck_assert_mem_eq(d[AD_STORE], d[AD_VALIDATOR], UTXO_HASH_BYTES);
    }
    adapters_close(&a);
    history_free(&h);
}
END_TEST

/* The adapters' code and the core's effects: each transaction is hashed
 * once per block on the store's and the validator's paths. */
START_TEST(hashed_once_per_block)
{
    history h;
    adapters a;
    uint64_t txs = 0, before, spent_txs = 0;

    history_load(&h, 6);
    adapters_open(&a, &h);
    for (size_t k = 0; k < h.n; k++) {
        utxo_bundle *bd = bundle_decode(&h, k);
        utxo_verdict vd;
        txs += h.blocks[k]->n_txs;
        spent_txs += h.blocks[k]->n_txs - 1;
        ck_assert_int_eq(utxo_validator_apply(a.val, h.blocks[k], bd, &vd), UTXO_OK);
        utxo_bundle_free(bd);
    }
    /* again from genesis, counted: txid + wtxid per tx, a sighash per
     * non-coinbase tx, nothing else */
    utxo_validator_free(a.val);
    ck_assert_ptr_nonnull(a.val = utxo_validator_new(&h.p, 2));
    before = ledger_tx_hashes();
    for (size_t k = 0; k < h.n; k++) {
        utxo_bundle *bd = bundle_decode(&h, k);
        ck_assert_int_eq(utxo_validator_apply(a.val, h.blocks[k], bd, NULL), UTXO_OK);
        utxo_bundle_free(bd);
    }
    ck_assert_uint_eq(ledger_tx_hashes() - before, 2 * txs + spent_txs);
    before = ledger_tx_hashes();
    for (size_t k = 0; k < h.n; k++)
        ck_assert_int_eq(utxo_store_apply_block(a.store, h.blocks[k], NULL), UTXO_OK);
    ck_assert_uint_eq(ledger_tx_hashes() - before, 2 * txs + spent_txs);
    adapters_close(&a);
    history_free(&h);
}
END_TEST

/* A six-block history and a validator for it on 1, 2 and 4 threads. */
static void validators_open(history *h, utxo_validator *v[3])
{
    static const unsigned th[3] = {1, 2, 4};

    history_load(h, 6);
    for (int j = 0; j < 3; j++)
        ck_assert_ptr_nonnull(v[j] = utxo_validator_new(&h->p, th[j]));
}

static void validators_close(history *h, utxo_validator *v[3])
{
    for (int j = 0; j < 3; j++)
        utxo_validator_free(v[j]);
    history_free(h);
}

/* The per-transaction hashes of stage 3 run on the verifier's pool: the
 * effects are the same bytes whatever the threads, and equal to hashing
 * each transaction directly. */
START_TEST(tx_hashes_independent_of_threads)
{
    history h;
    utxo_validator *v[3];
    size_t big = 0;

    validators_open(&h, v);
    for (size_t k = 0; k < h.n; k++) {
        const utxo_block *b = h.blocks[k];
        cn_effects fx[3];
        utxo_bundle *bd[3];
        for (int j = 0; j < 3; j++) {
            bd[j] = bundle_decode(&h, k);
            ck_assert_int_eq(cn_validator_apply(v[j], b, bd[j], &fx[j], NULL), UTXO_OK);
        }
        big += b->n_txs >= 8;
        for (uint32_t t = 0; t < b->n_txs; t++) {
            uint8_t id[UTXO_HASH_BYTES], wid[UTXO_HASH_BYTES], sh[UTXO_HASH_BYTES];
            utxo_tx_txid(b->txs[t], id);
            utxo_tx_wtxid(b->txs[t], wid);
            if (t > 0)
                utxo_tx_sighash(b->txs[t], h.p.chain_id, sh);
            else
                memset(sh, 0, sizeof sh);
            for (int j = 0; j < 3; j++) {
                ck_assert_mem_eq(fx[j].txids[t], id, UTXO_HASH_BYTES);
                ck_assert_mem_eq(fx[j].wtxids[t], wid, UTXO_HASH_BYTES);
                ck_assert_mem_eq(fx[j].sighash[t], sh, UTXO_HASH_BYTES);
            }
        }
        for (int j = 0; j < 3; j++) {
            cn_effects_clear(&fx[j]);
            utxo_bundle_free(bd[j]);
        }
    }
    ck_assert_uint_gt(big, 0); /* blocks large enough to use the pool */
    validators_close(&h, v);
}
END_TEST

/*
 * Stage 1's signature runs on the pool beside stage 3's hashing and is
 * still the verdict first, on any number of threads: a block whose tx
 * root is changed has a bad signature, a bundle bound to another block
 * and a wrong tx root; re-signed, the bundle's binding comes first; bound
 * again, the tx root. Each refused block leaves the validator as it was.
 */
START_TEST(bad_signature_first_on_any_threads)
{
    history h;
    utxo_validator *v[3];
    size_t big = 0;

    validators_open(&h, v);
    for (size_t k = 0; k < h.n; k++) {
        const utxo_block *b = h.blocks[k];
        big += b->n_txs >= 8;
        for (int j = 0; j < 3; j++) {
            utxo_block *bad = block_clone(b, &h.p);
            utxo_bundle *bd = bundle_decode(&h, k);
            cn_effects fx;
            utxo_verdict vd;
            bad->header.tx_root[0] ^= 1;
            ck_assert_int_eq(cn_validator_apply(v[j], bad, bd, &fx, &vd), UTXO_ERR_BLOCK_SIG);
            ck_assert_int_eq(fx.stage, CN_STAGE_HEADER);
            ck_assert_uint_eq(vd.tx, 0);
            ck_assert_uint_eq(vd.input, 0);
            cn_effects_clear(&fx);
            resign(&h, bad, false);
            ck_assert_int_eq(cn_validator_apply(v[j], bad, bd, &fx, &vd), UTXO_ERR_BUNDLE_BLOCK);
            cn_effects_clear(&fx);
            rebind(bd, bad);
            ck_assert_int_eq(cn_validator_apply(v[j], bad, bd, &fx, &vd),
                             UTXO_ERR_BLOCK_TX_ROOT);
            cn_effects_clear(&fx);
            utxo_bundle_free(bd);
            utxo_block_free(bad);
            bd = bundle_decode(&h, k);
            ck_assert_int_eq(cn_validator_apply(v[j], b, bd, &fx, NULL), UTXO_OK);
            cn_effects_clear(&fx);
            utxo_bundle_free(bd);
        }
    }
    ck_assert_uint_gt(big, 0); /* blocks large enough to use the pool */
    validators_close(&h, v);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("connect");
    TCase *tc = tcase_create("connect");

    if (sodium_init() < 0)
        return 1;
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, every_adapter_agrees);
    tcase_add_test(tc, hashed_once_per_block);
    tcase_add_test(tc, tx_hashes_independent_of_threads);
    tcase_add_test(tc, bad_signature_first_on_any_threads);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
