/*
 * test_stateless.c — block proof bundles and the stateless validator
 * (src/prover), block and proof files (src/utxo/blockfile.c).
 *
 * Chains are made by the deterministic generator (src/prover/chaingen.c):
 * a genesis allocating to pay-to-pubkey wallets, then blocks of signed
 * payments spending old and recent coins, with chains of spends inside one
 * block. Every valid block is checked by a validator holding only roots,
 * whose accumulator must equal the full forest's after every block. Invalid
 * blocks are built by hand — a double spend across blocks, a never-created
 * output, a bundle forged with honest siblings from the forest, a wrong
 * signature, a wrong digest, every single-bit flip of a small block and of
 * its bundle — and each must be rejected with its reason code, leaving the
 * validator's state bytes unchanged.
 */
#include "config.h"

#include <sodium.h>
#include <unistd.h>
#include "testutil.h"
#include "utxo/stateless.h"
#include "utxo/blockfile.h"
#include "prover/chaingen.h"
#include "utxo/ledger_int.h"
#include "utxo/segments.h"
#include "bench/seg_work_img.h"

/* ---- helpers ------------------------------------------------------------- */

/* The long-running predicate of the continuation tests (tests/segments). */
static const uint8_t *work_id(void)
{
    static uint8_t id[32];
    utxo_predicate_id(id, seg_work_img, sizeof seg_work_img);
    return id;
}

/* Its six argument words: `rounds` SHA-256 compressions, accept iff the
 * checksum is `expect` (0xffffffff: always). */
static void work_args(uint8_t out[24], uint32_t rounds, uint32_t expect)
{
    uint32_t w[6] = {rounds, 0, 0, 0, expect, 0};
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 4; j++)
            out[4 * i + j] = (uint8_t)(w[i] >> (8 * j));
}

typedef struct rlist {
    utxo_receipt *r[256];
    size_t n;
} rlist;

static int rlist_sink(void *ud, utxo_receipt *r)
{
    rlist *l = ud;
    if (l->n == 256) {
        utxo_receipt_free(r);
        return 1;
    }
    l->r[l->n++] = r;
    return 0;
}

/* A receipt chain of the work predicate run alone (no transaction). */
static void work_receipts(rlist *l, uint32_t rounds, unsigned po2)
{
    uint8_t args[24];
    utxo_vm_result res;

    l->n = 0;
    work_args(args, rounds, 0xffffffffu);
    ck_assert_int_eq(utxo_segments_prove(&res, seg_work_img, sizeof seg_work_img, args, 24, NULL,
                                         10000000, po2, 0, rlist_sink, l),
                     UTXO_OK);
    ck_assert_int_eq(res.status, UTXO_VM_ACCEPTED);
    ck_assert_uint_ge(l->n, 2);
}

typedef struct world {
    bp_gen *gen;
    utxo_params p;
    utxo_validator *v;
} world;

static void world_init(world *w, uint32_t txs, uint32_t max_in, uint64_t seed)
{
    bp_gen_opts o;

    bp_gen_opts_default(&o);
    o.txs_per_block = txs;
    o.max_inputs = max_in;
    o.seed = seed;
    ck_assert_int_eq(bp_gen_new(&w->gen, &o, &w->p), UTXO_OK);
    w->v = utxo_validator_new(&w->p, 2);
    ck_assert_ptr_nonnull(w->v);
}

static void world_free(world *w)
{
    utxo_validator_free(w->v);
    bp_gen_free(w->gen);
}

/* The validator's state as bytes (for "unchanged" checks). */
static uint8_t *state_bytes(const utxo_validator *v, size_t *len)
{
    size_t n = utxo_validator_state_get_length(v), wr = 0;
    uint8_t *b = malloc(n);

    ck_assert_ptr_nonnull(b);
    ck_assert_uint_le(n, UTXO_VALIDATOR_STATE_MAX_BYTES);
    ck_assert_int_eq(utxo_validator_state_to_bytes(v, b, n, &wr), UTXO_OK);
    ck_assert_uint_eq(wr, n);
    *len = n;
    return b;
}

/* The validator's accumulator equals the forest's. */
static void assert_roots_match(const utxo_validator *v, bp_chain *c)
{
    acc_state st;
    uint8_t d1[32], d2[32], roots[64][32];
    unsigned n;

    ck_assert_int_eq(acc_forest_state(bp_chain_forest(c), &st), UTXO_OK);
    ck_assert_uint_eq(utxo_validator_leaf_count(v), st.count);
    acc_state_digest(d1, &st);
    utxo_validator_acc_digest(v, d2);
    ck_assert_mem_eq(d1, d2, 32);
    n = utxo_validator_roots(v, roots, 64);
    ck_assert_uint_eq(n, acc_state_n_roots(&st));
    for (unsigned k = 0, r = 64; k < n; k++) {
        while (!((st.count >> --r) & 1))
            ;
        ck_assert_mem_eq(roots[k], st.roots[r], 32);
    }
}

static uint8_t *block_bytes(const utxo_block *b, size_t *len)
{
    size_t n = utxo_block_get_length(b), wr = 0;
    uint8_t *out = malloc(n);

    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(utxo_block_to_bytes(b, out, n, &wr), UTXO_OK);
    *len = wr;
    return out;
}

static uint8_t *bundle_bytes(const utxo_bundle *b, size_t *len)
{
    size_t n = utxo_bundle_get_length(b), wr = 0;
    uint8_t *out = malloc(n);

    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(utxo_bundle_to_bytes(b, out, n, &wr), UTXO_OK);
    ck_assert_uint_eq(wr, n);
    *len = wr;
    return out;
}

/* Next generated block, applied to the validator (must be valid). */
static void step(world *w, utxo_block **blk, utxo_bundle **bd)
{
    utxo_verdict vd;

    ck_assert_int_eq(bp_gen_next(w->gen, blk, bd), UTXO_OK);
    ck_assert_int_eq(utxo_validator_apply(w->v, *blk, *bd, &vd), UTXO_OK);
    assert_roots_match(w->v, bp_gen_chain(w->gen));
}

static void step_free(world *w)
{
    utxo_block *b;
    utxo_bundle *bd;

    step(w, &b, &bd);
    utxo_block_free(b);
    utxo_bundle_free(bd);
}

/* The value of node (row, idx) of the forest, from its leaves. */
static void forest_node(acc_forest *f, unsigned row, uint64_t idx, uint8_t out[32])
{
    uint8_t l[32], r[32];

    if (row == 0) {
        ck_assert_int_eq(acc_forest_leaf(f, idx, out), UTXO_OK);
        return;
    }
    forest_node(f, row - 1, 2 * idx, l);
    forest_node(f, row - 1, 2 * idx + 1, r);
    acc_parent(out, l, r);
}

/*
 * A bundle for b as a dishonest prover would make it: spends[k] (k-th input
 * spending an earlier block's output, in block order) claimed at pos[k] with
 * data out[k] / height[k], siblings taken honestly from the forest.
 */
static utxo_bundle *forge(acc_forest *f, size_t n, const uint64_t *pos, const utxo_output *out,
                          const uint32_t *height)
{
    utxo_bundle *bd = bp_bundle_new();
    uint64_t count = acc_forest_count(f), sorted[16];
    acc_pos *addr = NULL;
    size_t slots = 0;

    ck_assert_ptr_nonnull(bd);
    ck_assert_uint_le(n, 16);
    bd->leaf_count = count;
    if (n > 0)
        memcpy(sorted, pos, n * sizeof *pos);
    for (size_t i = 0; i < n; i++) /* insertion sort */
        for (size_t j = i; j > 0 && sorted[j] < sorted[j - 1]; j--) {
            uint64_t t = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = t;
        }
    bd->n_spent = n;
    bd->spent = calloc(n ? n : 1, sizeof *bd->spent);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++)
            if (sorted[j] == pos[i])
                bd->spent[i].target = (uint32_t)j;
        bd->spent[i].height = height[i];
        bd->spent[i].output = out[i];
        bd->spent[i].output.datum = NULL;
        bd->spent[i].output.datum_len = 0;
    }
    bd->proof.n_targets = n;
    bd->proof.targets = malloc((n ? n : 1) * sizeof(uint64_t));
    if (n > 0)
        memcpy(bd->proof.targets, sorted, n * sizeof *sorted);
    if (n > 0 && sorted[n - 1] < count)
        ck_assert_int_eq(acc_proof_positions(count, sorted, n, &addr, &slots), UTXO_OK);
    bd->proof.n_slots = slots;
    bd->proof.empty = calloc((slots + 7) / 8 + 1, 1);
    bd->proof.hashes = malloc((slots ? slots : 1) * sizeof(acc_hash));
    for (size_t j = 0; j < slots; j++) {
        uint8_t h[32];
        forest_node(f, addr[j].row, addr[j].idx, h);
        if (acc_is_empty(h))
            bd->proof.empty[j / 8] |= (uint8_t)(1u << (j % 8));
        else
            memcpy(bd->proof.hashes[bd->proof.n_hashes++], h, 32);
    }
    free(addr);
    return bd;
}

/* Finishes a block by hand: header fields, tx root, the given digest, the
 * signature of key sk; binds bd to it. */
static void seal_raw(utxo_block *b, uint32_t height, const uint8_t *prev, uint64_t time,
                     const uint8_t digest[32], const uint8_t *sk, utxo_bundle *bd)
{
    uint8_t h[32];

    b->header.version = UTXO_HEADER_VERSION;
    b->header.height = height;
    memcpy(b->header.prev_hash, prev, 32);
    b->header.time = time;
    if (utxo_tx_is_coinbase(b->txs[0]))
        b->txs[0]->coinbase_height = height;
    ck_assert_int_eq(utxo_block_tx_root(b, b->header.tx_root), UTXO_OK);
    memcpy(b->header.acc_digest, digest, 32);
    utxo_header_hash(&b->header, h);
    if (bd != NULL)
        bp_bundle_set_block(bd, h);
    ck_assert_int_eq(utxo_header_sign(&b->header, sk), UTXO_OK);
}

/* Re-seals a generated block after an edit (same key, same digest). */
static void reseal(world *w, utxo_block *b, utxo_bundle *bd)
{
    uint8_t d[32];

    memcpy(d, b->header.acc_digest, 32);
    seal_raw(b, b->header.height, b->header.prev_hash, b->header.time, d,
             bp_gen_sequencer_sk(w->gen), bd);
}

/* The wallet whose p2pk id is id. */
static uint32_t owner_of(world *w, const uint8_t id[32])
{
    for (uint32_t i = 0; i < 16; i++)
        if (memcmp(bp_gen_wallet_id(w->gen, i), id, 32) == 0)
            return i;
    ck_abort_msg("no wallet owns the output");
    return 0;
}

/* A payment spending op (an output worth `value` of wallet `from`), paying
 * `value - fee - skim` back to `from` in one output, signed. */
static utxo_tx *spend(world *w, const utxo_outpoint *op, uint64_t value, uint32_t from,
                      uint64_t skim)
{
    utxo_tx *tx = utxo_tx_new();
    size_t il;
    const uint8_t *img = bp_gen_wallet_image(w->gen, from, &il);
    uint8_t sig[64] = {0}, sh[32];
    uint64_t fee;

    ck_assert_int_eq(utxo_tx_add_input(tx, op, 100000, img, (uint32_t)il, sig, 64), UTXO_OK);
    ck_assert_int_eq(utxo_tx_add_output(tx, 0, bp_gen_wallet_id(w->gen, from), NULL, 0), UTXO_OK);
    fee = utxo_tx_min_fee(tx, &w->p);
    ck_assert_uint_gt(value, fee + skim);
    tx->outputs[0].value = value - fee - skim;
    utxo_tx_sighash(tx, w->p.chain_id, sh);
    crypto_sign_detached(sig, NULL, sh, 32, bp_gen_wallet_sk(w->gen, from));
    ck_assert_int_eq(utxo_tx_set_witness(tx, 0, 100000, img, (uint32_t)il, sig, 64), UTXO_OK);
    return tx;
}

/* A block holding a coinbase of value 0 (to wallet 0) and the given txs. */
static utxo_block *block_of(world *w, utxo_tx **txs, size_t n)
{
    utxo_block *b = utxo_block_new();
    utxo_tx *cb = utxo_tx_new();

    ck_assert_int_eq(utxo_tx_add_output(cb, 0, bp_gen_wallet_id(w->gen, 0), NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_block_add_tx(b, cb), UTXO_OK);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(utxo_block_add_tx(b, txs[i]), UTXO_OK);
    return b;
}

/* Applies b/bd expecting err at (tx, input); the state must not change. */
static void expect_reject(world *w, const utxo_block *b, const utxo_bundle *bd, int err,
                          uint32_t tx, uint32_t input)
{
    size_t n0, n1;
    uint8_t *s0 = state_bytes(w->v, &n0), *s1;
    utxo_verdict vd;

    ck_assert_int_eq(utxo_validator_apply(w->v, b, bd, &vd), err);
    ck_assert_int_eq(vd.err, err);
    ck_assert_uint_eq(vd.tx, tx);
    ck_assert_uint_eq(vd.input, input);
    s1 = state_bytes(w->v, &n1);
    ck_assert_uint_eq(n0, n1);
    ck_assert_mem_eq(s0, s1, n0);
    free(s0);
    free(s1);
}

/* ---- valid chains ---------------------------------------------------------- */

START_TEST(chain_validates_and_roots_match)
{
    world w;
    size_t inputs = 0, proven = 0, created_spent = 0, old_spends = 0;

    world_init(&w, 12, 3, 7);
    for (int h = 0; h < 40; h++) {
        utxo_block *b, *b2;
        utxo_bundle *bd, *bd2;
        uint8_t *bb, *pb;
        size_t bl, pl, n_in = 0;
        uint64_t before = utxo_validator_leaf_count(w.v), outs = 0;
        utxo_verdict vd;

        ck_assert_int_eq(bp_gen_next(w.gen, &b, &bd), UTXO_OK);
        /* through bytes, as a validator receives them */
        bb = block_bytes(b, &bl);
        pb = bundle_bytes(bd, &pl);
        ck_assert_int_eq(utxo_block_from_bytes(&b2, bb, bl, &w.p, NULL), UTXO_OK);
        ck_assert_int_eq(utxo_bundle_from_bytes(&bd2, pb, pl, &w.p, NULL), UTXO_OK);
        ck_assert_int_eq(utxo_validator_apply(w.v, b2, bd2, &vd), UTXO_OK);
        ck_assert_uint_eq(utxo_validator_next_height(w.v), (uint32_t)h + 1);
        assert_roots_match(w.v, bp_gen_chain(w.gen));
        for (uint32_t t = 0; t < b->n_txs; t++) {
            n_in += b->txs[t]->n_inputs;
            outs += b->txs[t]->n_outputs;
        }
        for (size_t k = 0; k < bd->n_spent; k++)
            if (bd->spent[k].height + 5 < (uint32_t)h)
                old_spends++;
        /* outputs spent in their own block never enter the forest */
        ck_assert_uint_eq(utxo_validator_leaf_count(w.v) - before,
                          outs - (n_in - bd->n_spent));
        inputs += n_in;
        proven += bd->n_spent;
        created_spent += n_in - bd->n_spent;
        free(bb);
        free(pb);
        utxo_block_free(b);
        utxo_block_free(b2);
        utxo_bundle_free(bd);
        utxo_bundle_free(bd2);
    }
    /* the workload had every kind of spend */
    ck_assert_uint_gt(created_spent, 20);
    ck_assert_uint_gt(proven, 100);
    ck_assert_uint_gt(old_spends, 10);
    ck_assert_uint_eq(inputs, proven + created_spent);
    world_free(&w);
}
END_TEST

START_TEST(same_block_create_and_spend)
{
    world w;
    utxo_block *g, *b, *bad;
    utxo_bundle *gb, *bd;
    utxo_tx *txs[2];
    utxo_outpoint x = {{0}, 3}, a0;
    uint64_t pre, val = 0;
    uint32_t owner, bt, bi;
    const utxo_output *o;
    uint32_t hh;
    uint64_t pos;
    acc_forest *f;
    uint8_t leaf[32], have[32];
    utxo_verdict vd;

    world_init(&w, 4, 2, 11);
    step(&w, &g, &gb);
    utxo_tx_txid(g->txs[0], x.txid);
    ck_assert_int_eq(bp_chain_find(bp_gen_chain(w.gen), &x, &o, &hh, &pos), UTXO_OK);
    owner = owner_of(&w, o->predicate_id);
    val = o->value;
    txs[0] = spend(&w, &x, val, owner, 0);
    utxo_tx_txid(txs[0], a0.txid);
    a0.index = 0;
    txs[1] = spend(&w, &a0, txs[0]->outputs[0].value, owner, 0);
    b = block_of(&w, txs, 2);
    pre = acc_forest_count(bp_chain_forest(bp_gen_chain(w.gen)));
    ck_assert_int_eq(bp_chain_seal(bp_gen_chain(w.gen), b, &bd, NULL, NULL), UTXO_OK);
    ck_assert_uint_eq(bd->n_spent, 1);
    ck_assert_int_eq(utxo_validator_apply(w.v, b, bd, &vd), UTXO_OK);
    assert_roots_match(w.v, bp_gen_chain(w.gen));
    /* coinbase + the second payment's output: A:0 never became a leaf */
    f = bp_chain_forest(bp_gen_chain(w.gen));
    ck_assert_uint_eq(acc_forest_count(f), pre + 2);
    for (uint64_t p = pre; p < acc_forest_count(f); p++) {
        acc_leaf_hash(leaf, &a0, &b->txs[1]->outputs[0], 1, p);
        ck_assert_int_eq(acc_forest_leaf(f, p, have), UTXO_OK);
        ck_assert_mem_ne(leaf, have, 32);
    }
    ck_assert_int_eq(bp_chain_find(bp_gen_chain(w.gen), &a0, &o, &hh, &pos), UTXO_ERR_TX_MISSING);
    /* the spend placed before the payment it spends: missing, at (1, 0) */
    txs[0] = spend(&w, &x, val, owner, 1); /* x is spent now: only the order matters here */
    utxo_tx_txid(txs[0], a0.txid);
    txs[1] = spend(&w, &a0, txs[0]->outputs[0].value, owner, 0);
    {
        utxo_tx *swapped[2] = {txs[1], txs[0]};
        bad = block_of(&w, swapped, 2);
    }
    ck_assert_int_eq(bp_chain_seal(bp_gen_chain(w.gen), bad, NULL, &bt, &bi), UTXO_ERR_TX_MISSING);
    ck_assert_uint_eq(bt, 1);
    ck_assert_uint_eq(bi, 0);
    {
        utxo_bundle *empty = forge(f, 0, NULL, NULL, NULL);
        uint8_t tip[32];
        utxo_validator_tip_hash(w.v, tip);
        seal_raw(bad, 2, tip, b->header.time, b->header.acc_digest, bp_gen_sequencer_sk(w.gen),
                 empty);
        expect_reject(&w, bad, empty, UTXO_ERR_TX_MISSING, 1, 0);
        utxo_bundle_free(empty);
    }
    utxo_block_free(g);
    utxo_bundle_free(gb);
    utxo_block_free(b);
    utxo_block_free(bad);
    utxo_bundle_free(bd);
    world_free(&w);
}
END_TEST

/* ---- rejections -------------------------------------------------------------- */

START_TEST(double_spend_across_blocks)
{
    world w;
    utxo_block *g, *b1, *b2;
    utxo_bundle *gb, *bd1, *bd2;
    utxo_tx *tx;
    utxo_outpoint x = {{0}, 5};
    const utxo_output *o;
    utxo_output xo;
    uint32_t hh, owner, bt = 9, bi = 9;
    uint64_t pos;
    uint8_t tip[32];
    utxo_verdict vd;

    world_init(&w, 4, 2, 12);
    step(&w, &g, &gb);
    utxo_tx_txid(g->txs[0], x.txid);
    ck_assert_int_eq(bp_chain_find(bp_gen_chain(w.gen), &x, &o, &hh, &pos), UTXO_OK);
    xo = *o;
    owner = owner_of(&w, xo.predicate_id);
    tx = spend(&w, &x, xo.value, owner, 0);
    b1 = block_of(&w, &tx, 1);
    ck_assert_int_eq(bp_chain_seal(bp_gen_chain(w.gen), b1, &bd1, NULL, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_validator_apply(w.v, b1, bd1, &vd), UTXO_OK);
    /* the same output again, in another transaction */
    tx = spend(&w, &x, xo.value, owner, 1000);
    b2 = block_of(&w, &tx, 1);
    ck_assert_int_eq(bp_chain_seal(bp_gen_chain(w.gen), b2, NULL, &bt, &bi), UTXO_ERR_TX_MISSING);
    ck_assert_uint_eq(bt, 1);
    ck_assert_uint_eq(bi, 0);
    /* a forged proof with honest siblings from the forest: the leaf is empty now */
    bd2 = forge(bp_chain_forest(bp_gen_chain(w.gen)), 1, &pos, &xo, &hh);
    utxo_validator_tip_hash(w.v, tip);
    seal_raw(b2, 2, tip, b1->header.time, b1->header.acc_digest, bp_gen_sequencer_sk(w.gen), bd2);
    expect_reject(&w, b2, bd2, UTXO_ERR_ACC_PROOF, 1, 0);
    utxo_bundle_free(bd2);
    /* and the stale proof of block 1, rebound to block 2 */
    {
        uint8_t h[32];
        utxo_header_hash(&b2->header, h);
        bp_bundle_set_block(bd1, h);
    }
    expect_reject(&w, b2, bd1, UTXO_ERR_BUNDLE_STATE, 0, 0);
    bd1->leaf_count = utxo_validator_leaf_count(w.v);
    ck_assert_int_ne(utxo_validator_apply(w.v, b2, bd1, &vd), UTXO_OK);
    ck_assert(vd.err == UTXO_ERR_ACC_PROOF || vd.err == UTXO_ERR_ACC_SIBLINGS);
    utxo_block_free(g);
    utxo_block_free(b1);
    utxo_block_free(b2);
    utxo_bundle_free(gb);
    utxo_bundle_free(bd1);
    world_free(&w);
}
END_TEST

START_TEST(spend_of_never_created_output)
{
    world w;
    utxo_block *g, *b;
    utxo_bundle *gb, *bd;
    utxo_tx *tx;
    utxo_outpoint ghost = {{0}, 0}, x = {{0}, 1};
    const utxo_output *o;
    utxo_output fake;
    uint32_t hh, h0 = 0, owner, bt, bi;
    uint64_t pos, beyond;
    uint8_t tip[32], zero[32] = {0};

    world_init(&w, 4, 2, 13);
    step(&w, &g, &gb);
    memset(ghost.txid, 0x5a, 32);
    utxo_tx_txid(g->txs[0], x.txid);
    ck_assert_int_eq(bp_chain_find(bp_gen_chain(w.gen), &x, &o, &hh, &pos), UTXO_OK);
    fake = *o; /* the ghost claims a live coin's data and place */
    owner = owner_of(&w, fake.predicate_id);
    tx = spend(&w, &ghost, fake.value, owner, 0);
    b = block_of(&w, &tx, 1);
    ck_assert_int_eq(bp_chain_seal(bp_gen_chain(w.gen), b, NULL, &bt, &bi), UTXO_ERR_TX_MISSING);
    utxo_validator_tip_hash(w.v, tip);
    /* claimed at a live leaf's position: the leaf hash binds the outpoint */
    bd = forge(bp_chain_forest(bp_gen_chain(w.gen)), 1, &pos, &fake, &h0);
    seal_raw(b, 1, tip, g->header.time, zero, bp_gen_sequencer_sk(w.gen), bd);
    expect_reject(&w, b, bd, UTXO_ERR_ACC_PROOF, 1, 0);
    utxo_bundle_free(bd);
    /* claimed beyond the leaf count */
    beyond = utxo_validator_leaf_count(w.v);
    bd = forge(bp_chain_forest(bp_gen_chain(w.gen)), 1, &beyond, &fake, &h0);
    seal_raw(b, 1, tip, g->header.time, zero, bp_gen_sequencer_sk(w.gen), bd);
    expect_reject(&w, b, bd, UTXO_ERR_ACC_POSITION, 1, 0);
    utxo_bundle_free(bd);
    /* not claimed at all */
    bd = forge(bp_chain_forest(bp_gen_chain(w.gen)), 0, NULL, NULL, NULL);
    seal_raw(b, 1, tip, g->header.time, zero, bp_gen_sequencer_sk(w.gen), bd);
    expect_reject(&w, b, bd, UTXO_ERR_BUNDLE_SPENDS, 1, 0);
    utxo_bundle_free(bd);
    utxo_block_free(g);
    utxo_block_free(b);
    utxo_bundle_free(gb);
    world_free(&w);
}
END_TEST

START_TEST(header_rules)
{
    world w;
    utxo_block *b;
    utxo_bundle *bd;
    uint8_t other_pk[32], other_sk[64], tip[32], h[32];
    uint64_t t;

    world_init(&w, 5, 2, 14);
    /* genesis must have a zero previous hash and height 0 */
    ck_assert_int_eq(bp_gen_next(w.gen, &b, &bd), UTXO_OK);
    b->header.prev_hash[3] = 1;
    reseal(&w, b, bd);
    expect_reject(&w, b, bd, UTXO_ERR_BLOCK_PREV, 0, 0);
    b->header.prev_hash[3] = 0;
    reseal(&w, b, bd);
    ck_assert_int_eq(utxo_validator_apply(w.v, b, bd, NULL), UTXO_OK);
    utxo_block_free(b);
    utxo_bundle_free(bd);
    step_free(&w);
    ck_assert_int_eq(bp_gen_next(w.gen, &b, &bd), UTXO_OK);
    /* another key's signature; a damaged signature */
    crypto_sign_keypair(other_pk, other_sk);
    ck_assert_int_eq(utxo_header_sign(&b->header, other_sk), UTXO_OK);
    expect_reject(&w, b, bd, UTXO_ERR_BLOCK_SIG, 0, 0);
    reseal(&w, b, bd);
    b->header.sig[10] ^= 4;
    expect_reject(&w, b, bd, UTXO_ERR_BLOCK_SIG, 0, 0);
    /* a signed header whose digest is not the accumulator's */
    b->header.acc_digest[31] ^= 1;
    reseal(&w, b, bd);
    expect_reject(&w, b, bd, UTXO_ERR_BLOCK_DIGEST, 0, 0);
    b->header.acc_digest[31] ^= 1;
    /* height, previous hash, time */
    b->header.height = 3;
    reseal(&w, b, bd);
    expect_reject(&w, b, bd, UTXO_ERR_BLOCK_HEIGHT, 0, 0);
    b->header.height = 2;
    b->header.prev_hash[0] ^= 1;
    reseal(&w, b, bd);
    expect_reject(&w, b, bd, UTXO_ERR_BLOCK_PREV, 0, 0);
    b->header.prev_hash[0] ^= 1;
    t = b->header.time;
    b->header.time = t - 2;
    reseal(&w, b, bd);
    expect_reject(&w, b, bd, UTXO_ERR_BLOCK_TIME, 0, 0);
    b->header.time = t;
    /* the bundle of another block; another leaf count */
    reseal(&w, b, bd);
    utxo_validator_tip_hash(w.v, tip);
    bp_bundle_set_block(bd, tip);
    expect_reject(&w, b, bd, UTXO_ERR_BUNDLE_BLOCK, 0, 0);
    reseal(&w, b, bd);
    bd->leaf_count++;
    expect_reject(&w, b, bd, UTXO_ERR_BUNDLE_STATE, 0, 0);
    bd->leaf_count--;
    /* a receipt for an input the block does not have; one that does not
     * prove that input's run */
    {
        rlist l;
        work_receipts(&l, 3, 10);
        ck_assert_int_eq(bp_bundle_add_receipt(bd, 1, 7, l.r, l.n), UTXO_OK);
        expect_reject(&w, b, bd, UTXO_ERR_BUNDLE_RECEIPT, 1, 7);
        bd->receipts[0].input = 0;
        expect_reject(&w, b, bd, UTXO_ERR_BUNDLE_RECEIPT, 1, 0);
        for (size_t k = 0; k < l.n; k++)
            utxo_receipt_free(l.r[k]);
        free(bd->receipts[0].r);
        free(bd->receipts);
        bd->receipts = NULL;
        bd->n_receipts = 0;
    }
    /* a bad signature in tx 3, input 0: the predicate rejects */
    ck_assert_uint_ge(b->n_txs, 4);
    b->txs[3]->inputs[0].witness.args[5] ^= 1;
    reseal(&w, b, bd);
    expect_reject(&w, b, bd, UTXO_ERR_TX_REJECTED, 3, 0);
    b->txs[3]->inputs[0].witness.args[5] ^= 1;
    /* a fee too small (outputs raised: the digest changes too, fees first) */
    b->txs[2]->outputs[0].value += 1;
    reseal(&w, b, bd);
    ck_assert_int_ne(utxo_validator_apply(w.v, b, bd, NULL), UTXO_OK);
    b->txs[2]->outputs[0].value -= 1;
    reseal(&w, b, bd);
    utxo_header_hash(&b->header, h);
    ck_assert_mem_eq(h, bd->block_hash, 32);
    ck_assert_int_eq(utxo_validator_apply(w.v, b, bd, NULL), UTXO_OK);
    assert_roots_match(w.v, bp_gen_chain(w.gen));
    utxo_block_free(b);
    utxo_bundle_free(bd);
    world_free(&w);
}
END_TEST

/* Every single-bit flip of a small block and of its bundle is rejected. */
START_TEST(tamper_every_bit)
{
    world w;
    utxo_block *b;
    utxo_bundle *bd;
    uint8_t *bb, *pb, *s0, *s1;
    size_t bl, pl, n0, n1;
    size_t by_decode = 0, by_rules = 0;

    world_init(&w, 2, 2, 15);
    for (int i = 0; i < 3; i++)
        step_free(&w);
    ck_assert_int_eq(bp_gen_next(w.gen, &b, &bd), UTXO_OK);
    ck_assert_uint_ge(bd->n_spent, 1);
    bb = block_bytes(b, &bl);
    pb = bundle_bytes(bd, &pl);
    s0 = state_bytes(w.v, &n0);
    for (int which = 0; which < 2; which++) {
        uint8_t *buf = which == 0 ? bb : pb;
        size_t len = which == 0 ? bl : pl;
        for (size_t i = 0; i < len; i++)
            for (int bit = 0; bit < 8; bit++) {
                utxo_block *xb = NULL;
                utxo_bundle *xd = NULL;
                int rc;
                buf[i] ^= (uint8_t)(1u << bit);
                rc = which == 0 ? utxo_block_from_bytes(&xb, buf, len, &w.p, NULL)
                                : utxo_bundle_from_bytes(&xd, buf, len, &w.p, NULL);
                if (rc != UTXO_OK) {
                    by_decode++;
                } else {
                    /* decoded: canonical, so a different object; it must fail */
                    uint8_t *re;
                    size_t rl;
                    re = which == 0 ? block_bytes(xb, &rl) : bundle_bytes(xd, &rl);
                    ck_assert_uint_eq(rl, len);
                    ck_assert_mem_eq(re, buf, len);
                    free(re);
                    rc = utxo_validator_apply(w.v, which == 0 ? xb : b, which == 0 ? bd : xd,
                                              NULL);
                    ck_assert_msg(rc != UTXO_OK, "flip of %s byte %zu bit %d accepted",
                                  which == 0 ? "block" : "bundle", i, bit);
                    by_rules++;
                }
                utxo_block_free(xb);
                utxo_bundle_free(xd);
                buf[i] ^= (uint8_t)(1u << bit);
            }
    }
    s1 = state_bytes(w.v, &n1);
    ck_assert_uint_eq(n0, n1);
    ck_assert_mem_eq(s0, s1, n0);
    ck_assert_uint_gt(by_rules, 1000);
    ck_assert_uint_gt(by_decode, 10);
    ck_assert_int_eq(utxo_validator_apply(w.v, b, bd, NULL), UTXO_OK);
    free(bb);
    free(pb);
    free(s0);
    free(s1);
    utxo_block_free(b);
    utxo_bundle_free(bd);
    world_free(&w);
}
END_TEST

/* Long predicate runs checked through segment receipts instead of run. */
START_TEST(long_runs_through_receipts)
{
    world w;
    utxo_block *g, *b1, *b2, *b3;
    utxo_bundle *gb, *bd1, *bd2, *bd3, *plain;
    utxo_tx *tx;
    utxo_outpoint x = {{0}, 2}, lock0, lock1;
    const utxo_output *o;
    uint32_t hh, owner;
    uint64_t pos, fee, cycles_direct;
    uint8_t args[32], tip[32];
    utxo_verdict vd;
    utxo_validator *direct;
    bp_chain *c;

    world_init(&w, 3, 2, 19);
    c = bp_gen_chain(w.gen);
    step(&w, &g, &gb);
    direct = utxo_validator_new(&w.p, 2);
    ck_assert_int_eq(utxo_validator_apply(direct, g, gb, NULL), UTXO_OK);
    /* block 1: a payment into two outputs locked by the work predicate */
    utxo_tx_txid(g->txs[0], x.txid);
    ck_assert_int_eq(bp_chain_find(c, &x, &o, &hh, &pos), UTXO_OK);
    owner = owner_of(&w, o->predicate_id);
    tx = spend(&w, &x, o->value, owner, 20000000);
    ck_assert_int_eq(utxo_tx_add_output(tx, 10000000, work_id(), NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_tx_add_output(tx, 10000000, work_id(), NULL, 0), UTXO_OK);
    tx->outputs[0].value -= utxo_tx_min_fee(tx, &w.p); /* outputs grew: pay their bytes */
    {
        uint8_t sh[32], sig[64];
        size_t il;
        const uint8_t *img = bp_gen_wallet_image(w.gen, owner, &il);
        utxo_tx_sighash(tx, w.p.chain_id, sh);
        crypto_sign_detached(sig, NULL, sh, 32, bp_gen_wallet_sk(w.gen, owner));
        ck_assert_int_eq(utxo_tx_set_witness(tx, 0, 100000, img, (uint32_t)il, sig, 64), UTXO_OK);
    }
    utxo_tx_txid(tx, lock0.txid);
    lock1 = lock0;
    lock0.index = 1;
    lock1.index = 2;
    b1 = block_of(&w, &tx, 1);
    ck_assert_int_eq(bp_chain_set_segments(c, 13), UTXO_OK);
    ck_assert_int_eq(bp_chain_seal(c, b1, &bd1, NULL, NULL), UTXO_OK);
    ck_assert_uint_eq(bd1->n_receipts, 0); /* p2pk fits one segment */
    ck_assert_int_eq(utxo_validator_apply(w.v, b1, bd1, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_validator_apply(direct, b1, bd1, NULL), UTXO_OK);
    /* block 2: spend lock0 with a run of many segments */
    tx = utxo_tx_new();
    work_args(args, 40, 0xffffffffu);
    ck_assert_int_eq(utxo_tx_add_input(tx, &lock0, 2000000, seg_work_img, sizeof seg_work_img,
                                       args, 24), UTXO_OK);
    ck_assert_int_eq(utxo_tx_add_output(tx, 0, bp_gen_wallet_id(w.gen, 1), NULL, 0), UTXO_OK);
    fee = utxo_tx_min_fee(tx, &w.p);
    tx->outputs[0].value = 10000000 - fee;
    b2 = block_of(&w, &tx, 1);
    ck_assert_int_eq(bp_chain_seal(c, b2, &bd2, NULL, NULL), UTXO_OK);
    ck_assert_uint_eq(bd2->n_receipts, 1);
    ck_assert_uint_eq(bd2->receipts[0].tx, 1);
    ck_assert_uint_eq(bd2->receipts[0].input, 0);
    ck_assert_uint_ge(bd2->receipts[0].n, 5);
    /* the same bundle without receipts: every run executed directly */
    {
        uint8_t *pb;
        size_t pl;
        pb = bundle_bytes(bd2, &pl);
        ck_assert_int_eq(utxo_bundle_from_bytes(&plain, pb, pl, &w.p, NULL), UTXO_OK);
        free(pb);
        for (size_t k = 0; k < plain->receipts[0].n; k++)
            utxo_receipt_free(plain->receipts[0].r[k]);
        free(plain->receipts[0].r);
        free(plain->receipts);
        plain->receipts = NULL;
        plain->n_receipts = 0;
    }
    ck_assert_int_eq(utxo_validator_apply(direct, b2, plain, &vd), UTXO_OK);
    cycles_direct = vd.cycles;
    ck_assert_uint_gt(cycles_direct, 8u << 13);
    /* a receipt left out, or moved: the chain does not prove the run */
    {
        utxo_receipt *last = bd2->receipts[0].r[bd2->receipts[0].n - 1];
        bd2->receipts[0].n--;
        expect_reject(&w, b2, bd2, UTXO_ERR_BUNDLE_RECEIPT, 1, 0);
        bd2->receipts[0].n++;
        bd2->receipts[0].r[bd2->receipts[0].n - 1] = bd2->receipts[0].r[0];
        bd2->receipts[0].r[0] = last;
        expect_reject(&w, b2, bd2, UTXO_ERR_BUNDLE_RECEIPT, 1, 0);
        bd2->receipts[0].r[0] = bd2->receipts[0].r[bd2->receipts[0].n - 1];
        bd2->receipts[0].r[bd2->receipts[0].n - 1] = last;
    }
    ck_assert_int_eq(utxo_validator_apply(w.v, b2, bd2, &vd), UTXO_OK);
    ck_assert_uint_eq(vd.cycles, cycles_direct);
    assert_roots_match(w.v, c);
    /* block 3: lock1 with a run that ends in a rejection, proven so */
    tx = utxo_tx_new();
    work_args(args, 30, 1234);
    ck_assert_int_eq(utxo_tx_add_input(tx, &lock1, 2000000, seg_work_img, sizeof seg_work_img,
                                       args, 24), UTXO_OK);
    ck_assert_int_eq(utxo_tx_add_output(tx, 0, bp_gen_wallet_id(w.gen, 1), NULL, 0), UTXO_OK);
    tx->outputs[0].value = 10000000 - utxo_tx_min_fee(tx, &w.p);
    b3 = block_of(&w, &tx, 1);
    ck_assert_int_eq(bp_chain_seal(c, b3, &bd3, NULL, NULL), UTXO_OK);
    ck_assert_uint_eq(bd3->n_receipts, 1);
    expect_reject(&w, b3, bd3, UTXO_ERR_TX_REJECTED, 1, 0);
    ck_assert_int_eq(utxo_validator_apply(w.v, b3, bd3, &vd), UTXO_ERR_TX_REJECTED);
    ck_assert_int_eq(vd.vm.status, UTXO_VM_REJECTED);
    /* the tip is still block 2 */
    utxo_validator_tip_hash(w.v, tip);
    utxo_header_hash(&b2->header, args);
    ck_assert_mem_eq(tip, args, 32);
    utxo_validator_free(direct);
    utxo_block_free(g);
    utxo_block_free(b1);
    utxo_block_free(b2);
    utxo_block_free(b3);
    utxo_bundle_free(gb);
    utxo_bundle_free(bd1);
    utxo_bundle_free(bd2);
    utxo_bundle_free(bd3);
    utxo_bundle_free(plain);
    world_free(&w);
}
END_TEST

/* ---- encodings ------------------------------------------------------------- */

START_TEST(state_resume_and_strictness)
{
    world w;
    utxo_validator *a, *r = NULL;
    utxo_params other;
    uint8_t *sb, *fa, *fr;
    size_t sl, la, lr, eo;
    utxo_block *blocks[14];
    utxo_bundle *bundles[14];

    world_init(&w, 6, 3, 16);
    a = utxo_validator_new(&w.p, 1);
    /* pre-genesis state round trip */
    sb = state_bytes(a, &sl);
    ck_assert_uint_eq(sl, 89);
    ck_assert_int_eq(utxo_validator_from_state(&r, &w.p, sb, sl, 1, NULL), UTXO_OK);
    utxo_validator_free(r);
    free(sb);
    for (int h = 0; h < 14; h++) {
        ck_assert_int_eq(bp_gen_next(w.gen, &blocks[h], &bundles[h]), UTXO_OK);
        ck_assert_int_eq(utxo_validator_apply(a, blocks[h], bundles[h], NULL), UTXO_OK);
        if (h < 7)
            ck_assert_int_eq(utxo_validator_apply(w.v, blocks[h], bundles[h], NULL), UTXO_OK);
    }
    /* stop after 7 blocks, resume from the bytes, finish */
    sb = state_bytes(w.v, &sl);
    ck_assert_uint_eq(sl, 89 + 32 * (size_t)__builtin_popcountll(utxo_validator_leaf_count(w.v)));
    ck_assert_int_eq(utxo_validator_from_state(&r, &w.p, sb, sl, 2, NULL), UTXO_OK);
    for (int h = 7; h < 14; h++)
        ck_assert_int_eq(utxo_validator_apply(r, blocks[h], bundles[h], NULL), UTXO_OK);
    fa = state_bytes(a, &la);
    fr = state_bytes(r, &lr);
    ck_assert_uint_eq(la, lr);
    ck_assert_mem_eq(fa, fr, la);
    assert_roots_match(r, bp_gen_chain(w.gen));
    utxo_validator_free(r);
    /* strict: every truncation, a trailing byte, another chain, bad magic */
    for (size_t n = 0; n < sl; n++) {
        ck_assert_int_ne(utxo_validator_from_state(&r, &w.p, sb, n, 1, &eo), UTXO_OK);
        ck_assert_ptr_null(r);
    }
    sb = realloc(sb, sl + 1);
    sb[sl] = 0;
    ck_assert_int_eq(utxo_validator_from_state(&r, &w.p, sb, sl + 1, 1, &eo), UTXO_ERR_TRAILING);
    ck_assert_uint_eq(eo, sl);
    other = w.p;
    other.max_datum_bytes--;
    utxo_params_chain_id(&other);
    ck_assert_int_eq(utxo_validator_from_state(&r, &other, sb, sl, 1, &eo), UTXO_ERR_FILE_CHAIN);
    sb[0] ^= 1;
    ck_assert_int_eq(utxo_validator_from_state(&r, &w.p, sb, sl, 1, &eo), UTXO_ERR_FILE_FORMAT);
    sb[0] ^= 1;
    sb[4] = 2;
    ck_assert_int_eq(utxo_validator_from_state(&r, &w.p, sb, sl, 1, &eo), UTXO_ERR_VERSION);
    sb[4] = 1;
    /* height 0 with a tip: inconsistent */
    memset(sb + 37, 0, 4);
    ck_assert_int_eq(utxo_validator_from_state(&r, &w.p, sb, sl, 1, &eo), UTXO_ERR_STATE);
    free(sb);
    free(fa);
    free(fr);
    for (int h = 0; h < 14; h++) {
        utxo_block_free(blocks[h]);
        utxo_bundle_free(bundles[h]);
    }
    utxo_validator_free(a);
    world_free(&w);
}
END_TEST

START_TEST(bundle_encoding)
{
    world w;
    size_t checked = 0;

    world_init(&w, 8, 3, 17);
    for (int h = 0; h < 6; h++) {
        utxo_block *b;
        utxo_bundle *bd, *back;
        uint8_t *pb;
        size_t pl, eo;
        utxo_bundle_info info;

        step(&w, &b, &bd);
        pb = bundle_bytes(bd, &pl);
        ck_assert_uint_eq(pb[0], UTXO_BUNDLE_VERSION);
        ck_assert_int_eq(utxo_bundle_from_bytes(&back, pb, pl, &w.p, NULL), UTXO_OK);
        utxo_bundle_get_info(back, &info);
        ck_assert_uint_eq(info.n_spent, bd->n_spent);
        ck_assert_uint_eq(info.n_receipts, 0);
        ck_assert_mem_eq(info.block_hash, bd->block_hash, 32);
        utxo_bundle_free(back);
        for (size_t n = 0; n < pl; n++) {
            ck_assert_int_ne(utxo_bundle_from_bytes(&back, pb, n, &w.p, &eo), UTXO_OK);
            ck_assert_ptr_null(back);
            ck_assert_uint_le(eo, n);
            checked++;
        }
        pb = realloc(pb, pl + 1);
        pb[pl] = 0;
        ck_assert_int_eq(utxo_bundle_from_bytes(&back, pb, pl + 1, &w.p, &eo), UTXO_ERR_TRAILING);
        if (bd->n_spent >= 2) {
            /* two entries bound to one target */
            utxo_bundle *dup;
            uint8_t *db;
            size_t dl;
            uint32_t t1 = bd->spent[1].target;
            bd->spent[1].target = bd->spent[0].target;
            db = bundle_bytes(bd, &dl);
            ck_assert_int_eq(utxo_bundle_from_bytes(&dup, db, dl, &w.p, &eo),
                             UTXO_ERR_NONCANONICAL);
            bd->spent[1].target = t1;
            free(db);
        }
        if (h == 5) {
            /* receipts: round trip; out of order, an empty chain, a damaged
             * receipt, truncations inside the receipts section */
            rlist l1, l2;
            uint8_t *rb;
            size_t rl, base = pl;
            utxo_bundle *x;
            work_receipts(&l1, 3, 10);
            work_receipts(&l2, 2, 10);
            ck_assert_int_eq(bp_bundle_add_receipt(bd, 1, 0, l1.r, l1.n), UTXO_OK);
            ck_assert_int_eq(bp_bundle_add_receipt(bd, 1, 0, l2.r, l2.n), UTXO_ERR_ARG);
            ck_assert_int_eq(bp_bundle_add_receipt(bd, 2, 0, l2.r, l2.n), UTXO_OK);
            rb = bundle_bytes(bd, &rl);
            ck_assert_int_eq(utxo_bundle_from_bytes(&x, rb, rl, &w.p, &eo), UTXO_OK);
            utxo_bundle_get_info(x, &info);
            ck_assert_uint_eq(info.n_receipts, 2);
            ck_assert_uint_eq(x->receipts[0].n, l1.n);
            ck_assert_uint_eq(x->receipts[1].n, l2.n);
            utxo_bundle_free(x);
            for (size_t n = base - 1; n < rl; n += 97)
                ck_assert_int_ne(utxo_bundle_from_bytes(&x, rb, n, &w.p, &eo), UTXO_OK);
            rb[rl - 20] ^= 0x40; /* inside the last receipt: strict, canonical */
            if (utxo_bundle_from_bytes(&x, rb, rl, &w.p, &eo) == UTXO_OK) {
                uint8_t *re;
                size_t rel;
                re = bundle_bytes(x, &rel);
                ck_assert_uint_eq(rel, rl);
                ck_assert_mem_eq(re, rb, rl);
                free(re);
                utxo_bundle_free(x);
            }
            free(rb);
            bd->receipts[1].tx = 1;
            bd->receipts[1].input = 0;
            rb = bundle_bytes(bd, &rl);
            ck_assert_int_eq(utxo_bundle_from_bytes(&x, rb, rl, &w.p, &eo), UTXO_ERR_NONCANONICAL);
            free(rb);
            bd->receipts[1].tx = 2;
            bd->receipts[1].n = 0;
            rb = bundle_bytes(bd, &rl);
            ck_assert_int_eq(utxo_bundle_from_bytes(&x, rb, rl, &w.p, &eo), UTXO_ERR_NONCANONICAL);
            bd->receipts[1].n = l2.n;
            free(rb);
        }
        free(pb);
        utxo_block_free(b);
        utxo_bundle_free(bd);
    }
    ck_assert_uint_gt(checked, 1000);
    /* unknown version */
    {
        uint8_t one[1] = {2};
        utxo_bundle *x;
        ck_assert_int_eq(utxo_bundle_from_bytes(&x, one, 1, &w.p, NULL), UTXO_ERR_VERSION);
    }
    world_free(&w);
}
END_TEST

START_TEST(block_and_proof_files)
{
    world w;
    char bpath[] = "/tmp/test_stateless_XXXXXX";
    char ppath[64];
    utxo_chainfile *bf, *pf;
    utxo_params p2;
    uint8_t *recs[5], *file = NULL;
    size_t lens[5], eo, flen = 0;
    uint64_t offs[5], off;
    int fd = mkstemp(bpath);

    ck_assert_int_ge(fd, 0);
    close(fd);
    snprintf(ppath, sizeof ppath, "%s.proofs", bpath);
    world_init(&w, 3, 2, 18);
    ck_assert_int_eq(utxo_chainfile_create(&bf, bpath, UTXO_CHAINFILE_BLOCKS, &w.p), UTXO_OK);
    ck_assert_int_eq(utxo_chainfile_create(&pf, ppath, UTXO_CHAINFILE_PROOFS, &w.p), UTXO_OK);
    for (int h = 0; h < 5; h++) {
        utxo_block *b;
        utxo_bundle *bd;
        uint8_t *pb;
        size_t pl;
        step(&w, &b, &bd);
        recs[h] = block_bytes(b, &lens[h]);
        offs[h] = utxo_chainfile_tell(bf);
        ck_assert_int_eq(utxo_chainfile_append(bf, recs[h], lens[h]), UTXO_OK);
        pb = bundle_bytes(bd, &pl);
        ck_assert_int_eq(utxo_chainfile_append(pf, pb, pl), UTXO_OK);
        free(pb);
        utxo_block_free(b);
        utxo_bundle_free(bd);
    }
    ck_assert_int_eq(utxo_chainfile_append(bf, recs[0], 0), UTXO_ERR_ARG);
    ck_assert_int_eq(utxo_chainfile_close(bf), UTXO_OK);
    ck_assert_int_eq(utxo_chainfile_close(pf), UTXO_OK);
    /* read back */
    ck_assert_int_eq(utxo_chainfile_open(&bf, bpath, UTXO_CHAINFILE_BLOCKS, &p2, NULL), UTXO_OK);
    ck_assert_mem_eq(p2.chain_id, w.p.chain_id, 32);
    for (int h = 0; h <= 5; h++) {
        uint8_t *r;
        size_t l;
        ck_assert_int_eq(utxo_chainfile_next(bf, &r, &l, &off), UTXO_OK);
        if (h == 5) {
            ck_assert_ptr_null(r);
            break;
        }
        ck_assert_uint_eq(off, offs[h]);
        ck_assert_uint_eq(l, lens[h]);
        ck_assert_mem_eq(r, recs[h], l);
        free(r);
    }
    ck_assert_int_eq(utxo_chainfile_close(bf), UTXO_OK);
    /* a proof file is not a block file */
    ck_assert_int_eq(utxo_chainfile_open(&bf, ppath, UTXO_CHAINFILE_BLOCKS, &p2, &eo),
                     UTXO_ERR_FILE_FORMAT);
    ck_assert_ptr_null(bf);
    /* every truncation: the header, or the record it cuts, is named */
    {
        FILE *f = fopen(bpath, "rb");
        ck_assert_ptr_nonnull(f);
        file = malloc(1 << 20);
        flen = fread(file, 1, 1 << 20, f);
        fclose(f);
    }
    for (size_t n = 0; n < flen; n += 7) {
        FILE *f = fopen(bpath, "wb");
        int rc;
        size_t got = 0;
        fwrite(file, 1, n, f);
        fclose(f);
        rc = utxo_chainfile_open(&bf, bpath, UTXO_CHAINFILE_BLOCKS, &p2, &eo);
        if (n < UTXO_CHAINFILE_HEADER_BYTES) {
            ck_assert_int_eq(rc, UTXO_ERR_TRUNCATED);
            ck_assert_uint_eq(eo, n);
            continue;
        }
        ck_assert_int_eq(rc, UTXO_OK);
        for (;;) {
            uint8_t *r;
            size_t l;
            rc = utxo_chainfile_next(bf, &r, &l, &off);
            if (rc != UTXO_OK || r == NULL)
                break;
            free(r);
            got++;
        }
        if (rc == UTXO_OK) {
            /* a clean end: exactly at a record boundary */
            ck_assert(got == 5 ? n == flen : n == offs[got]);
        } else {
            ck_assert_int_eq(rc, UTXO_ERR_TRUNCATED);
            ck_assert_uint_eq(off, offs[got]);
        }
        utxo_chainfile_close(bf);
    }
    /* a record length of 0 or over the cap */
    {
        FILE *f = fopen(bpath, "wb");
        uint8_t z[4] = {0, 0, 0, 0};
        fwrite(file, 1, UTXO_CHAINFILE_HEADER_BYTES, f);
        fwrite(z, 1, 4, f);
        fclose(f);
        ck_assert_int_eq(utxo_chainfile_open(&bf, bpath, UTXO_CHAINFILE_BLOCKS, &p2, &eo), UTXO_OK);
        {
            uint8_t *r;
            size_t l;
            ck_assert_int_eq(utxo_chainfile_next(bf, &r, &l, &off), UTXO_ERR_TOO_LARGE);
            ck_assert_uint_eq(off, UTXO_CHAINFILE_HEADER_BYTES);
        }
        utxo_chainfile_close(bf);
    }
    unlink(bpath);
    unlink(ppath);
    free(file);
    for (int h = 0; h < 5; h++)
        free(recs[h]);
    world_free(&w);
}
END_TEST

/* docs/STATELESS.md, "Worked example": the bundle of block 1, byte for byte. */
START_TEST(doc_worked_example)
{
    static const char want[] =
        "01"
        "2243cc7cc72762e51716ccd42512771e086d527ad175c55bb2bb9455c04bdcf2"
        "04"
        "01010200"
        "4710435c59e459d900a62a4dd0e92b0e6c7a16aabfd60799f01f93f29863cb31"
        "f3aa9b47f7c6901e7b9f20597a48597919921505c1452b193ae1f85a08dc92ac"
        "00000010a5d4e8000000"
        "85f3dc1f38983df10049e710a72e7894a87458ab34188e87e15a672723fa5bb7"
        "00"
        "00";
    bp_gen_opts o;
    bp_gen *g;
    utxo_params p;
    utxo_block *b;
    utxo_bundle *bd;
    uint8_t *bytes;
    size_t len;
    char hex[2 * 146 + 1];

    bp_gen_opts_default(&o);
    o.genesis_coins = 4;
    o.n_wallets = 2;
    o.txs_per_block = 1;
    o.max_inputs = 1;
    o.chain_pct = 0;
    o.recent_pct = 0;
    o.seed = 5;
    ck_assert_int_eq(bp_gen_new(&g, &o, &p), UTXO_OK);
    for (int h = 0; h < 2; h++) {
        ck_assert_int_eq(bp_gen_next(g, &b, &bd), UTXO_OK);
        bytes = bundle_bytes(bd, &len);
        ck_assert_uint_eq(len, h == 0 ? 37 : 146);
        if (h == 1) {
            to_hex(hex, bytes, len);
            ck_assert_str_eq(hex, want);
        }
        free(bytes);
        utxo_block_free(b);
        utxo_bundle_free(bd);
    }
    bp_gen_free(g);
}
END_TEST

static Suite *stateless_suite(void)
{
    Suite *s = suite_create("stateless");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, chain_validates_and_roots_match);
    tcase_add_test(tc, same_block_create_and_spend);
    tcase_add_test(tc, double_spend_across_blocks);
    tcase_add_test(tc, spend_of_never_created_output);
    tcase_add_test(tc, header_rules);
    tcase_add_test(tc, tamper_every_bit);
    tcase_add_test(tc, long_runs_through_receipts);
    tcase_add_test(tc, state_resume_and_strictness);
    tcase_add_test(tc, bundle_encoding);
    tcase_add_test(tc, block_and_proof_files);
    tcase_add_test(tc, doc_worked_example);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    if (sodium_init() < 0)
        return EXIT_FAILURE;
    return run_suite(stateless_suite());
}
