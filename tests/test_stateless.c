/*
 * test_stateless.c — the stateless validator (src/prover): valid chains,
 * same-block spends, every kind of rejection, long runs through receipts.
 * Encodings, files and resume are in test_stateless_codec.c.
 *
 * Chains are made by the deterministic generator (src/chain/workload.c):
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

#include "stateless_testutil.h"

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

/* Two decisions of docs/CHAIN.md, "Block time" and docs/ENCODING.md,
 * "Output-less coinbase": a block holding only a coinbase that pays nothing
 * is valid (its bytes decode, nothing enters the accumulator); a block time
 * has no upper bound (here 2^64-1), only the lower one, and the generator's
 * history goes on valid after it. */
START_TEST(outputless_coinbase_and_far_future_time)
{
    world w;
    utxo_block *b, *back = NULL;
    utxo_bundle *bd = NULL;
    uint32_t bt, bi;
    uint64_t leaves;
    uint8_t *buf;
    size_t n, w_len, off = 0;

    world_init(&w, 4, 2, 15);
    step_free(&w);
    step_free(&w);
    leaves = utxo_validator_leaf_count(w.v);
    b = utxo_block_new();
    ck_assert_int_eq(utxo_block_add_tx(b, utxo_tx_new()), UTXO_OK);
    b->header.time = UINT64_MAX;
    ck_assert_int_eq(bp_chain_seal(bp_gen_chain(w.gen), b, &bd, &bt, &bi), UTXO_OK);
    ck_assert_uint_eq(b->header.time, UINT64_MAX);
    n = utxo_block_get_length(b);
    buf = malloc(n);
    ck_assert_int_eq(utxo_block_to_bytes(b, buf, n, &w_len), UTXO_OK);
    ck_assert_int_eq(utxo_block_from_bytes(&back, buf, n, NULL, &off), UTXO_OK);
    ck_assert_int_eq(utxo_validator_apply(w.v, back, bd, NULL), UTXO_OK);
    ck_assert_uint_eq(utxo_validator_leaf_count(w.v), leaves);
    assert_roots_match(w.v, bp_gen_chain(w.gen));
    /* the generator's next blocks, at the same (largest) time */
    step_free(&w);
    step_free(&w);
    free(buf);
    utxo_block_free(b);
    utxo_block_free(back);
    utxo_bundle_free(bd);
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
    /* a bundle built in memory binding two inputs to one target */
    ck_assert_uint_ge(bd->n_spent, 2);
    {
        uint32_t t1 = bd->spent[1].target;
        size_t n0, n1;
        uint8_t *s0 = state_bytes(w.v, &n0), *s1;
        bd->spent[1].target = bd->spent[0].target;
        ck_assert_int_eq(utxo_validator_apply(w.v, b, bd, NULL), UTXO_ERR_BUNDLE_SPENDS);
        bd->spent[1].target = (uint32_t)bd->n_spent; /* out of range */
        ck_assert_int_eq(utxo_validator_apply(w.v, b, bd, NULL), UTXO_ERR_BUNDLE_SPENDS);
        bd->spent[1].target = t1;
        s1 = state_bytes(w.v, &n1);
        ck_assert_uint_eq(n0, n1);
        ck_assert_mem_eq(s0, s1, n0);
        free(s0);
        free(s1);
    }
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
    /* one transaction's context-free rules (checked on the pool beside its
     * hashing): the verdict names the transaction and the input or output
     * at fault, as utxo_block_check does */
    {
        uint32_t ti = 0, to = 0, bt = 0, bi = 0;
        uint8_t form;
        uint64_t value;
        for (uint32_t k = 1; k < b->n_txs; k++) {
            if (ti == 0 && b->txs[k]->n_inputs >= 2)
                ti = k;
            if (b->txs[k]->n_outputs >= 2)
                to = k; /* the last such */
        }
        ck_assert_uint_gt(ti, 0);
        ck_assert_uint_gt(to, 0);
        form = b->txs[ti]->inputs[1].witness.form;
        b->txs[ti]->inputs[1].witness.form = 77;
        reseal(&w, b, bd);
        ck_assert_int_eq(utxo_block_check(b, &w.p, &bt, &bi), UTXO_ERR_TX_FORM);
        ck_assert_uint_eq(bt, ti);
        ck_assert_uint_eq(bi, 1);
        expect_reject(&w, b, bd, UTXO_ERR_TX_FORM, ti, 1);
        b->txs[ti]->inputs[1].witness.form = form;
        value = b->txs[to]->outputs[1].value;
        b->txs[to]->outputs[1].value = UTXO_MAX_MONEY + 1;
        reseal(&w, b, bd);
        expect_reject(&w, b, bd, UTXO_ERR_TX_VALUE, to, 1);
        b->txs[to]->outputs[1].value = value;
        /* the rules' parts run side by side, reported in order: a wrong tx
         * root before a double spend (checked after it), a transaction's
         * own rule before a spend of a later transaction's output (the
         * layout, stage 5) */
        {
            uint32_t tj = ti == 1 ? 2 : 1;
            utxo_outpoint op = b->txs[ti]->inputs[0].prevout, op1 = b->txs[1]->inputs[0].prevout;
            uint8_t hh[32];
            ck_assert_uint_gt(b->n_txs, 3);
            b->txs[ti]->inputs[0].prevout = b->txs[tj]->inputs[0].prevout;
            reseal(&w, b, bd);
            ck_assert_int_eq(utxo_block_check(b, &w.p, &bt, &bi), UTXO_ERR_BLOCK_DOUBLE_SPEND);
            expect_reject(&w, b, bd, UTXO_ERR_BLOCK_DOUBLE_SPEND, bt, bi);
            b->header.tx_root[0] ^= 1; /* signed as it is: only the root is wrong */
            ck_assert_int_eq(utxo_header_sign(&b->header, bp_gen_sequencer_sk(w.gen)), UTXO_OK);
            utxo_header_hash(&b->header, hh);
            bp_bundle_set_block(bd, hh);
            ck_assert_int_eq(utxo_block_check(b, &w.p, &bt, &bi), UTXO_ERR_BLOCK_TX_ROOT);
            expect_reject(&w, b, bd, UTXO_ERR_BLOCK_TX_ROOT, 0, 0);
            b->txs[ti]->inputs[0].prevout = op;
            /* the first payment spends the last transaction's output 0 (a
             * later tx: the layout refuses it); then also input 1 of tx ti
             * of an unknown form (the rules, first) */
            utxo_tx_txid(b->txs[b->n_txs - 1], b->txs[1]->inputs[0].prevout.txid);
            b->txs[1]->inputs[0].prevout.index = 0;
            reseal(&w, b, bd);
            ck_assert_int_eq(utxo_block_check(b, &w.p, &bt, &bi), UTXO_OK);
            expect_reject(&w, b, bd, UTXO_ERR_TX_MISSING, 1, 0);
            form = b->txs[ti]->inputs[1].witness.form;
            b->txs[ti]->inputs[1].witness.form = 77;
            reseal(&w, b, bd);
            expect_reject(&w, b, bd, UTXO_ERR_TX_FORM, ti, 1);
            b->txs[ti]->inputs[1].witness.form = form;
            b->txs[1]->inputs[0].prevout = op1;
        }
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

/* ---- checking the next block ahead ------------------------------------------ */

#define AHEAD_N 12

/* A generated chain of AHEAD_N blocks, kept as bytes. */
typedef struct ahead_chain {
    utxo_params p;
    uint8_t *bb[AHEAD_N], *pb[AHEAD_N];
    size_t bl[AHEAD_N], pl[AHEAD_N];
    const uint8_t *sk; /* the sequencer's key (the generator's, alive with w) */
} ahead_chain;

static void verdicts_equal(const utxo_verdict *a, const utxo_verdict *b, size_t i)
{
    ck_assert_msg(a->err == b->err && a->tx == b->tx && a->input == b->input &&
                      a->run_err == b->run_err && a->fees == b->fees && a->cycles == b->cycles &&
                      a->vm.status == b->vm.status && a->vm.cycles == b->vm.cycles,
                  "block %zu: apply gives %d at (%u, %u), fees %llu, cycles %llu; apply_ahead "
                  "gives %d at (%u, %u), fees %llu, cycles %llu",
                  i, a->err, a->tx, a->input, (unsigned long long)a->fees,
                  (unsigned long long)a->cycles, b->err, b->tx, b->input,
                  (unsigned long long)b->fees, (unsigned long long)b->cycles);
}

/* Runs blocks[0..n) through utxo_validator_apply on one validator and
 * utxo_validator_apply_ahead (the next one as the hint) on another, to
 * the first rejection: every verdict and the state bytes after each block
 * must be the same. Returns the first rejection's code (UTXO_OK: none) and
 * its block in *at. */
static int run_both(const utxo_params *p, utxo_block **b, utxo_bundle **bd, size_t n, size_t *at,
                    utxo_verdict *first)
{
    utxo_validator *va = utxo_validator_new(p, 2), *vb = utxo_validator_new(p, 2);
    int rc = UTXO_OK;

    ck_assert_ptr_nonnull(va);
    ck_assert_ptr_nonnull(vb);
    *at = n;
    for (size_t i = 0; i < n && rc == UTXO_OK; i++) {
        utxo_verdict x, y;
        uint8_t *sa, *sb;
        size_t na, nb;
        int ra = utxo_validator_apply(va, b[i], bd[i], &x);
        int rb = utxo_validator_apply_ahead(vb, b[i], bd[i], i + 1 < n ? b[i + 1] : NULL,
                                            i + 1 < n ? bd[i + 1] : NULL, &y);
        ck_assert_int_eq(ra, rb);
        verdicts_equal(&x, &y, i);
        sa = state_bytes(va, &na);
        sb = state_bytes(vb, &nb);
        ck_assert_uint_eq(na, nb);
        ck_assert_mem_eq(sa, sb, na);
        free(sa);
        free(sb);
        if ((rc = ra) != UTXO_OK) {
            *at = i;
            *first = x;
        }
    }
    utxo_validator_free(va);
    utxo_validator_free(vb);
    return rc;
}

static void decode_chain(const ahead_chain *c, utxo_block **b, utxo_bundle **bd)
{
    for (size_t i = 0; i < AHEAD_N; i++) {
        ck_assert_int_eq(utxo_block_from_bytes(&b[i], c->bb[i], c->bl[i], &c->p, NULL), UTXO_OK);
        ck_assert_int_eq(utxo_bundle_from_bytes(&bd[i], c->pb[i], c->pl[i], &c->p, NULL),
                         UTXO_OK);
    }
}

static void free_chain_objs(utxo_block **b, utxo_bundle **bd)
{
    for (size_t i = 0; i < AHEAD_N; i++) {
        utxo_block_free(b[i]);
        utxo_bundle_free(bd[i]);
    }
}

/* The first non-coinbase transaction of b with an input, or 0. */
static uint32_t spending_tx(const utxo_block *b)
{
    for (uint32_t t = 1; t < b->n_txs; t++)
        if (b->txs[t]->n_inputs > 0 && b->txs[t]->inputs[0].witness.args_len > 0)
            return t;
    return 0;
}

enum { M_PRED, M_DIGEST, M_PRED_DIGEST, M_PREV, M_PROOF, M_COUNT };

START_TEST(apply_ahead_matches_apply)
{
    world w;
    ahead_chain c;
    utxo_block *b[AHEAD_N];
    utxo_bundle *bd[AHEAD_N];
    utxo_verdict first;
    size_t at, seen[M_COUNT] = {0};
    int rc;

    world_init(&w, 10, 3, 21);
    c.p = w.p;
    c.sk = bp_gen_sequencer_sk(w.gen);
    for (size_t i = 0; i < AHEAD_N; i++) {
        utxo_block *gb;
        utxo_bundle *gd;
        ck_assert_int_eq(bp_gen_next(w.gen, &gb, &gd), UTXO_OK);
        c.bb[i] = block_bytes(gb, &c.bl[i]);
        c.pb[i] = bundle_bytes(gd, &c.pl[i]);
        utxo_block_free(gb);
        utxo_bundle_free(gd);
    }
    /* the honest chain: every verdict and state the same */
    decode_chain(&c, b, bd);
    ck_assert_int_eq(run_both(&c.p, b, bd, AHEAD_N, &at, &first), UTXO_OK);
    free_chain_objs(b, bd);
    /* one block damaged at a time, each way, the rest honest */
    for (size_t j = 1; j < AHEAD_N; j++)
        for (int m = 0; m < M_COUNT; m++) {
            uint32_t t;
            decode_chain(&c, b, bd);
            t = spending_tx(b[j]);
            if ((m == M_PRED || m == M_PRED_DIGEST) && t == 0) {
                free_chain_objs(b, bd);
                continue;
            }
            if (m == M_PRED || m == M_PRED_DIGEST)
                b[j]->txs[t]->inputs[0].witness.args[0] ^= 1; /* its signature */
            if (m == M_DIGEST || m == M_PRED_DIGEST)
                b[j]->header.acc_digest[5] ^= 1;
            if (m == M_PREV)
                b[j]->header.prev_hash[9] ^= 1;
            if (m == M_PROOF) {
                if (bd[j]->proof.n_hashes == 0) {
                    free_chain_objs(b, bd);
                    continue;
                }
                bd[j]->proof.hashes[0][0] ^= 1;
            } else {
                reseal(&w, b[j], bd[j]);
            }
            rc = run_both(&c.p, b, bd, AHEAD_N, &at, &first);
            ck_assert_uint_eq(at, j);
            switch (m) {
            case M_PRED:
            case M_PRED_DIGEST: /* stage 8 before 9 */
                ck_assert_int_eq(rc, UTXO_ERR_TX_REJECTED);
                ck_assert_uint_eq(first.tx, t);
                ck_assert_uint_eq(first.input, 0);
                break;
            case M_DIGEST:
                ck_assert_int_eq(rc, UTXO_ERR_BLOCK_DIGEST);
                break;
            case M_PREV:
                ck_assert_int_eq(rc, UTXO_ERR_BLOCK_PREV);
                break;
            default:
                ck_assert_int_ne(rc, UTXO_OK);
            }
            seen[m]++;
            free_chain_objs(b, bd);
        }
    for (int m = 0; m < M_COUNT; m++)
        ck_assert_uint_gt(seen[m], 3);
    for (size_t i = 0; i < AHEAD_N; i++) {
        free(c.bb[i]);
        free(c.pb[i]);
    }
    world_free(&w);
}
END_TEST

/* The block checked ahead is used only for the same objects on the same
 * state: given another block, or after a rejected block, the validator
 * checks from scratch. */
START_TEST(apply_ahead_hint_misses)
{
    world w;
    utxo_block *b[4], *x;
    utxo_bundle *bd[4], *xd;
    utxo_verdict vd;
    uint8_t *bb, *pb;
    size_t bl, pl;

    world_init(&w, 6, 2, 33);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(bp_gen_next(w.gen, &b[i], &bd[i]), UTXO_OK);
    /* a copy of block 2 with a wrong previous hash, at another address */
    bb = block_bytes(b[2], &bl);
    pb = bundle_bytes(bd[2], &pl);
    ck_assert_int_eq(utxo_block_from_bytes(&x, bb, bl, &w.p, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_bundle_from_bytes(&xd, pb, pl, &w.p, NULL), UTXO_OK);
    x->header.prev_hash[0] ^= 1;
    reseal(&w, x, xd);
    ck_assert_int_eq(utxo_validator_apply_ahead(w.v, b[0], bd[0], b[1], bd[1], NULL), UTXO_OK);
    /* the hint was b[1]; the call gets b[1] but the hint checked then is
     * the honest b[2], and the next call brings the bad copy instead */
    ck_assert_int_eq(utxo_validator_apply_ahead(w.v, b[1], bd[1], b[2], bd[2], NULL), UTXO_OK);
    ck_assert_int_eq(utxo_validator_apply_ahead(w.v, x, xd, b[3], bd[3], &vd),
                     UTXO_ERR_BLOCK_PREV);
    ck_assert_uint_eq(utxo_validator_next_height(w.v), 2);
    /* the rejected block's hint is gone: b[3] does not follow b[1] */
    ck_assert_int_eq(utxo_validator_apply_ahead(w.v, b[3], bd[3], NULL, NULL, &vd),
                     UTXO_ERR_BLOCK_HEIGHT);
    ck_assert_int_eq(utxo_validator_apply_ahead(w.v, x, xd, b[3], bd[3], &vd),
                     UTXO_ERR_BLOCK_PREV);
    /* checked ahead, then given to plain apply: checked again there */
    ck_assert_int_eq(utxo_validator_apply_ahead(w.v, b[2], bd[2], b[3], bd[3], NULL), UTXO_OK);
    ck_assert_int_eq(utxo_validator_apply(w.v, b[3], bd[3], NULL), UTXO_OK);
    ck_assert_uint_eq(utxo_validator_next_height(w.v), 4);
    assert_roots_match(w.v, bp_gen_chain(w.gen));
    free(bb);
    free(pb);
    utxo_block_free(x);
    utxo_bundle_free(xd);
    for (int i = 0; i < 4; i++) {
        utxo_block_free(b[i]);
        utxo_bundle_free(bd[i]);
    }
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
    ck_assert_int_eq(utxo_tx_add_input(tx, &lock0, 2000000, chain_work_img, sizeof chain_work_img,
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
    /* the image of the input the receipts prove, one byte changed (same
     * size, same fee): the block's own fault, TX_PREDICATE_ID as without
     * receipts, not the receipts' (made for the other image; it was
     * UTXO_ERR_BUNDLE_RECEIPT) */
    {
        size_t bl;
        uint8_t *bb = block_bytes(b2, &bl), h2[32];
        utxo_block *edited = NULL;
        utxo_witness *wi;
        ck_assert_int_eq(utxo_block_from_bytes(&edited, bb, bl, &w.p, NULL), UTXO_OK);
        free(bb);
        wi = &edited->txs[1]->inputs[0].witness;
        ck_assert_int_eq(wi->form, UTXO_FORM_IMAGE);
        wi->image[wi->image_len - 1] ^= 0x5a;
        utxo_header_hash(&b2->header, h2);
        reseal(&w, edited, bd2);
        expect_reject(&w, edited, bd2, UTXO_ERR_TX_PREDICATE_ID, 1, 0);
        bp_bundle_set_block(bd2, h2);
        utxo_block_free(edited);
    }
    ck_assert_int_eq(utxo_validator_apply(w.v, b2, bd2, &vd), UTXO_OK);
    ck_assert_uint_eq(vd.cycles, cycles_direct);
    assert_roots_match(w.v, c);
    /* block 3: lock1 with a run that ends in a rejection, proven so */
    tx = utxo_tx_new();
    work_args(args, 30, 1234);
    ck_assert_int_eq(utxo_tx_add_input(tx, &lock1, 2000000, chain_work_img, sizeof chain_work_img,
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
    /* the same four blocks, each next one checked ahead: the receipt
     * chains run where the predicates would, with the same outcomes */
    {
        utxo_validator *ah = utxo_validator_new(&w.p, 2);
        ck_assert_ptr_nonnull(ah);
        ck_assert_int_eq(utxo_validator_apply_ahead(ah, g, gb, b1, bd1, NULL), UTXO_OK);
        ck_assert_int_eq(utxo_validator_apply_ahead(ah, b1, bd1, b2, bd2, NULL), UTXO_OK);
        ck_assert_int_eq(utxo_validator_apply_ahead(ah, b2, bd2, b3, bd3, &vd), UTXO_OK);
        ck_assert_uint_eq(vd.cycles, cycles_direct);
        /* (a hint that cannot follow: b3 itself goes the deferred way) */
        ck_assert_int_eq(utxo_validator_apply_ahead(ah, b3, bd3, b1, bd1, &vd),
                         UTXO_ERR_TX_REJECTED);
        ck_assert_int_eq(vd.vm.status, UTXO_VM_REJECTED);
        ck_assert_uint_eq(vd.tx, 1);
        ck_assert_uint_eq(vd.input, 0);
        utxo_validator_tip_hash(ah, tip);
        ck_assert_mem_eq(tip, args, 32);
        utxo_validator_free(ah);
    }
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

/* Reference inputs through the builder, bundles and the validator: the
 * code output's image travels once, in a bundle's reference entry; a lie
 * about it is caught against the roots (docs/ENCODING.md, form 3). */
START_TEST(references_through_bundles)
{
    world w;
    utxo_block *g, *b1, *b2, *b3;
    utxo_bundle *gb, *bd1, *bd2, *bd3 = NULL;
    utxo_tx *tx, *txs[2];
    utxo_outpoint x = {{0}, 2}, code_op, lock0, lock1;
    const utxo_output *o;
    uint32_t hh, owner, k, bt, bi;
    uint64_t pos;
    uint8_t args[24];
    bp_chain *c;

    world_init(&w, 3, 2, 23);
    c = bp_gen_chain(w.gen);
    step(&w, &g, &gb);
    /* block 1: the code output (the work image in its datum) and two
     * outputs locked by the work predicate */
    utxo_tx_txid(g->txs[0], x.txid);
    ck_assert_int_eq(bp_chain_find(c, &x, &o, &hh, &pos), UTXO_OK);
    owner = owner_of(&w, o->predicate_id);
    tx = spend(&w, &x, o->value, owner, 30000000);
    ck_assert_int_eq(utxo_tx_add_output(tx, 10000000, bp_gen_wallet_id(w.gen, owner),
                                        chain_work_img, sizeof chain_work_img), UTXO_OK);
    ck_assert_int_eq(utxo_tx_add_output(tx, 10000000, work_id(), NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_tx_add_output(tx, 10000000, work_id(), NULL, 0), UTXO_OK);
    tx->outputs[0].value -= utxo_tx_min_fee(tx, &w.p);
    {
        uint8_t sh[32], sig[64];
        utxo_tx_sighash(tx, w.p.chain_id, sh);
        crypto_sign_detached(sig, NULL, sh, 32, bp_gen_wallet_sk(w.gen, owner));
        ck_assert_int_eq(utxo_tx_set_args(tx, 0, sig, 64), UTXO_OK);
    }
    utxo_tx_txid(tx, code_op.txid);
    code_op.index = 1;
    lock0 = lock1 = code_op;
    lock0.index = 2;
    lock1.index = 3;
    b1 = block_of(&w, &tx, 1);
    ck_assert_int_eq(bp_chain_seal(c, b1, &bd1, NULL, NULL), UTXO_OK);
    ck_assert_uint_eq(bd1->n_refs, 0);
    /* a block without references: a reference entry, or a reference proof
     * target, in its bundle is refused, never carried unchecked */
    bd1->refs = calloc(1, sizeof *bd1->refs);
    ck_assert_ptr_nonnull(bd1->refs);
    bd1->n_refs = 1;
    expect_reject(&w, b1, bd1, UTXO_ERR_BUNDLE_SPENDS, 0, 0);
    bd1->n_refs = 0;
    free(bd1->refs);
    bd1->refs = NULL;
    bd1->ref_proof.n_targets = 1; /* the count alone: nothing is read */
    expect_reject(&w, b1, bd1, UTXO_ERR_BUNDLE_SPENDS, 0, 0);
    bd1->ref_proof.n_targets = 0;
    ck_assert_int_eq(utxo_validator_apply(w.v, b1, bd1, NULL), UTXO_OK);
    /* block 2: two transactions spend the locks by reference to it: one
     * reference entry in the bundle, holding the image */
    work_args(args, 2, 0xffffffffu);
    for (int t = 0; t < 2; t++) {
        txs[t] = utxo_tx_new();
        ck_assert_int_eq(utxo_tx_add_ref(txs[t], &code_op, &k), UTXO_OK);
        ck_assert_int_eq(utxo_tx_add_input_ref(txs[t], t ? &lock1 : &lock0, 400000, k, NULL, 0,
                                               args, 24), UTXO_OK);
        ck_assert_int_eq(utxo_tx_add_output(txs[t], 0, bp_gen_wallet_id(w.gen, 1), NULL, 0),
                         UTXO_OK);
        txs[t]->outputs[0].value = 10000000 - utxo_tx_min_fee(txs[t], &w.p);
    }
    b2 = block_of(&w, txs, 2);
    ck_assert_int_eq(bp_chain_seal(c, b2, &bd2, NULL, NULL), UTXO_OK);
    ck_assert_uint_eq(bd2->n_refs, 1);
    ck_assert_uint_eq(bd2->refs[0].output.datum_len, sizeof chain_work_img);
    ck_assert_mem_eq(bd2->refs[0].output.datum, chain_work_img, sizeof chain_work_img);
    ck_assert_uint_eq(bd2->refs[0].height, 1);
    {   /* it encodes and decodes to the same bytes */
        uint8_t *pb, *pb2;
        size_t pl, pl2;
        utxo_bundle *back = NULL;
        utxo_bundle_info info;
        pb = bundle_bytes(bd2, &pl);
        ck_assert_int_eq(utxo_bundle_from_bytes(&back, pb, pl, &w.p, NULL), UTXO_OK);
        pb2 = bundle_bytes(back, &pl2);
        ck_assert_uint_eq(pl, pl2);
        ck_assert_mem_eq(pb, pb2, pl);
        utxo_bundle_get_info(back, &info);
        ck_assert_uint_eq(info.n_refs, 1);
        ck_assert_uint_gt(info.ref_proof_bytes, 0);
        free(pb);
        free(pb2);
        utxo_bundle_free(back);
    }
    /* lies about the code output: its value, its image, its height; none
     * entry, an extra one */
    bd2->refs[0].output.value++;
    expect_reject(&w, b2, bd2, UTXO_ERR_ACC_PROOF, 1, 0);
    bd2->refs[0].output.value--;
    bd2->refs[0].output.datum[100] ^= 1; /* another program: still in the leaf's hash */
    expect_reject(&w, b2, bd2, UTXO_ERR_ACC_PROOF, 1, 0);
    bd2->refs[0].output.datum[100] ^= 1;
    bd2->refs[0].height++;
    expect_reject(&w, b2, bd2, UTXO_ERR_ACC_PROOF, 1, 0);
    bd2->refs[0].height--;
    bd2->n_refs = 0;
    expect_reject(&w, b2, bd2, UTXO_ERR_BUNDLE_SPENDS, 1, 0);
    bd2->n_refs = 1;
    ck_assert_int_eq(utxo_validator_apply(w.v, b2, bd2, NULL), UTXO_OK);
    assert_roots_match(w.v, c);
    /* block 3: a block that references the code output and spends it is
     * refused by the builder as by the rules */
    txs[0] = spend(&w, &code_op, 10000000, owner, 0);
    txs[1] = utxo_tx_new();
    ck_assert_int_eq(utxo_tx_add_ref(txs[1], &code_op, &k), UTXO_OK);
    ck_assert_int_eq(utxo_tx_add_input_ref(txs[1], &lock1, 400000, k, NULL, 0, args, 24),
                     UTXO_OK);
    ck_assert_int_eq(utxo_tx_add_output(txs[1], 1, bp_gen_wallet_id(w.gen, 1), NULL, 0), UTXO_OK);
    b3 = block_of(&w, txs, 2);
    ck_assert_int_eq(bp_chain_seal(c, b3, &bd3, &bt, &bi), UTXO_ERR_BLOCK_REF_SPENT);
    ck_assert_uint_eq(bt, 2);
    ck_assert_uint_eq(utxo_block_check(b3, &w.p, &bt, &bi), UTXO_ERR_BLOCK_REF_SPENT);
    /* lock1 is spent (block 2): a reference to it is to a spent output */
    ck_assert_ptr_null(bd3);
    utxo_block_free(b3);
    tx = utxo_tx_new();
    ck_assert_int_eq(utxo_tx_add_ref(tx, &lock1, &k), UTXO_OK);
    lock0.index = 0; /* the change of block 1's payment */
    ck_assert_int_eq(utxo_tx_add_input_ref(tx, &lock0, 400000, k, NULL, 0, args, 24), UTXO_OK);
    ck_assert_int_eq(utxo_tx_add_output(tx, 1, bp_gen_wallet_id(w.gen, 1), NULL, 0), UTXO_OK);
    b3 = block_of(&w, &tx, 1);
    ck_assert_int_eq(bp_chain_seal(c, b3, &bd3, &bt, &bi), UTXO_ERR_TX_REF_MISSING);
    ck_assert_uint_eq(bt, 1);
    ck_assert_uint_eq(bi, 0);
    utxo_block_free(g);
    utxo_block_free(b1);
    utxo_block_free(b2);
    utxo_block_free(b3);
    utxo_bundle_free(gb);
    utxo_bundle_free(bd1);
    utxo_bundle_free(bd2);
    utxo_bundle_free(bd3);
    world_free(&w);
}
END_TEST

static Suite *stateless_suite(void)
{
    Suite *s = suite_create("stateless");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, chain_validates_and_roots_match);
    tcase_add_test(tc, references_through_bundles);
    tcase_add_test(tc, same_block_create_and_spend);
    tcase_add_test(tc, double_spend_across_blocks);
    tcase_add_test(tc, spend_of_never_created_output);
    tcase_add_test(tc, outputless_coinbase_and_far_future_time);
    tcase_add_test(tc, header_rules);
    tcase_add_test(tc, tamper_every_bit);
    tcase_add_test(tc, long_runs_through_receipts);
    tcase_add_test(tc, apply_ahead_matches_apply);
    tcase_add_test(tc, apply_ahead_hint_misses);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    if (sodium_init() < 0)
        return EXIT_FAILURE;
    return run_suite(stateless_suite());
}
