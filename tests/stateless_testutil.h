/*
 * stateless_testutil.h — helpers shared by the stateless validation suites
 * (test_stateless.c: validator semantics; test_stateless_codec.c: encodings,
 * files, resume): a generated chain with a validator beside it, encodings
 * to bytes, the validator's state bytes, the forest's node values, a forged
 * bundle with honest siblings, hand-sealed blocks, signed spends, receipt
 * chains of the continuation tests' long-running predicate.
 */
#ifndef UTXO_TESTS_STATELESS_TESTUTIL_H
#define UTXO_TESTS_STATELESS_TESTUTIL_H

#include <sodium.h>
#include <unistd.h>
#include "testutil.h"
#include "utxo/stateless.h"
#include "utxo/blockfile.h"
#include "chain/workload.h"
#include "utxo/ledger_int.h"
#include "utxo/segments.h"
#include "chain/work_img.h"

/* ---- helpers ------------------------------------------------------------- */

/* The long-running predicate of the continuation tests (tests/segments). */
static inline const uint8_t *work_id(void)
{
    static uint8_t id[32];
    utxo_predicate_id(id, chain_work_img, sizeof chain_work_img);
    return id;
}

/* Its six argument words: `rounds` SHA-256 compressions, accept iff the
 * checksum is `expect` (0xffffffff: always). */
static inline void work_args(uint8_t out[24], uint32_t rounds, uint32_t expect)
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

static inline int rlist_sink(void *ud, utxo_receipt *r)
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
static inline void work_receipts(rlist *l, uint32_t rounds, unsigned po2)
{
    uint8_t args[24];
    utxo_vm_result res;

    l->n = 0;
    work_args(args, rounds, 0xffffffffu);
    ck_assert_int_eq(utxo_segments_prove(&res, chain_work_img, sizeof chain_work_img, args, 24, NULL,
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

static inline void world_init(world *w, uint32_t txs, uint32_t max_in, uint64_t seed)
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

static inline void world_free(world *w)
{
    utxo_validator_free(w->v);
    bp_gen_free(w->gen);
}

/* The validator's state as bytes (for "unchanged" checks). */
static inline uint8_t *state_bytes(const utxo_validator *v, size_t *len)
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
static inline void assert_roots_match(const utxo_validator *v, bp_chain *c)
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

static inline uint8_t *block_bytes(const utxo_block *b, size_t *len)
{
    size_t n = utxo_block_get_length(b), wr = 0;
    uint8_t *out = malloc(n);

    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(utxo_block_to_bytes(b, out, n, &wr), UTXO_OK);
    *len = wr;
    return out;
}

static inline uint8_t *bundle_bytes(const utxo_bundle *b, size_t *len)
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
static inline void step(world *w, utxo_block **blk, utxo_bundle **bd)
{
    utxo_verdict vd;

    ck_assert_int_eq(bp_gen_next(w->gen, blk, bd), UTXO_OK);
    ck_assert_int_eq(utxo_validator_apply(w->v, *blk, *bd, &vd), UTXO_OK);
    assert_roots_match(w->v, bp_gen_chain(w->gen));
}

static inline void step_free(world *w)
{
    utxo_block *b;
    utxo_bundle *bd;

    step(w, &b, &bd);
    utxo_block_free(b);
    utxo_bundle_free(bd);
}

/* The value of node (row, idx) of the forest, from its leaves. */
static inline void forest_node(acc_forest *f, unsigned row, uint64_t idx, uint8_t out[32])
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
static inline utxo_bundle *forge(acc_forest *f, size_t n, const uint64_t *pos, const utxo_output *out,
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
static inline void seal_raw(utxo_block *b, uint32_t height, const uint8_t *prev, uint64_t time,
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
static inline void reseal(world *w, utxo_block *b, utxo_bundle *bd)
{
    uint8_t d[32];

    memcpy(d, b->header.acc_digest, 32);
    seal_raw(b, b->header.height, b->header.prev_hash, b->header.time, d,
             bp_gen_sequencer_sk(w->gen), bd);
}

/* The wallet whose p2pk id is id. */
static inline uint32_t owner_of(world *w, const uint8_t id[32])
{
    for (uint32_t i = 0; i < 16; i++)
        if (memcmp(bp_gen_wallet_id(w->gen, i), id, 32) == 0)
            return i;
    ck_abort_msg("no wallet owns the output");
    return 0;
}

/* A payment spending op (an output worth `value` of wallet `from`), paying
 * `value - fee - skim` back to `from` in one output, signed. */
static inline utxo_tx *spend(world *w, const utxo_outpoint *op, uint64_t value, uint32_t from,
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
static inline utxo_block *block_of(world *w, utxo_tx **txs, size_t n)
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
static inline void expect_reject(world *w, const utxo_block *b, const utxo_bundle *bd, int err,
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

#endif /* UTXO_TESTS_STATELESS_TESTUTIL_H */
