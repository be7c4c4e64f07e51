/*
 * test_chain.c — the chain tools (src/prover/chain*.c): the mempool's rules
 * (conflicts, duplicates, missing outputs, predicates, limits) and its
 * block order (fee rate, arrival, parents first, block limits); the chain
 * directory (genesis, key file permissions, reopening re-seals every block,
 * an edited file is refused); and the history generator (same seed, same
 * bytes; another seed, other bytes; every kind of input present; the
 * embedded long-run image is tests/segments/work.img; every entry of
 * invalid.txs gets its code from a mempool reopened on the chain).
 */
#include "config.h"

#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "testutil.h"
#include "vm_asm.h"
#include "chain/chain.h"
#include "utxo/blockfile.h"
#include "utxo/builder.h"
#include "utxo/pipeline.h"
#include "utxo/stateless.h"

/* ---- a small in-memory chain with three funded wallets ------------------- */

typedef struct fixture {
    utxo_params p;
    uint8_t seq_sk[64];
    uint8_t pk[3][32], sk[3][64], id[3][32];
    uint8_t img[3][UTXO_STD_IMAGE_MAX_BYTES];
    size_t img_len[3];
    uint8_t gen_txid[32];
    bp_chain *c;
} fixture;

static void fx_init(fixture *f, const utxo_params *tmpl)
{
    uint8_t seed[32];
    utxo_block *b = utxo_block_new();
    utxo_tx *cb = utxo_tx_new();

    memset(f, 0, sizeof *f);
    if (tmpl)
        f->p = *tmpl;
    else
        utxo_params_default(&f->p);
    memset(seed, 0x33, sizeof seed);
    crypto_sign_seed_keypair(f->p.sequencer_pk, f->seq_sk, seed);
    utxo_params_chain_id(&f->p);
    for (int i = 0; i < 3; i++) {
        seed[0] = (uint8_t)i;
        ck_assert_int_eq(utxo_keypair_from_seed(f->pk[i], f->sk[i], seed), UTXO_OK);
        ck_assert_int_eq(utxo_p2pk_id(f->id[i], f->pk[i]), UTXO_OK);
        ck_assert_int_eq(utxo_std_p2pk_image(f->img[i], sizeof f->img[i], &f->img_len[i], f->pk[i]),
                         UTXO_OK);
    }
    ck_assert_int_eq(bp_chain_new(&f->c, &f->p, f->seq_sk), UTXO_OK);
    ck_assert_int_eq(utxo_block_add_tx(b, cb), UTXO_OK);
    /* genesis: 4 coins of 10^9 to each wallet: outputs 4w .. 4w+3 */
    for (int i = 0; i < 12; i++)
        ck_assert_int_eq(utxo_tx_add_output(cb, 1000000000, f->id[i / 4], NULL, 0), UTXO_OK);
    ck_assert_int_eq(bp_chain_seal(f->c, b, NULL, NULL, NULL), UTXO_OK);
    utxo_tx_txid(cb, f->gen_txid);
    utxo_block_free(b);
}

static void fx_free(fixture *f)
{
    bp_chain_free(f->c);
}

/* A payment of coin (txid, index, value) of wallet w: `pay` to wallet
 * `to` with a datum of datum_len bytes (0x5a), change back. */
static utxo_tx *pay_datum(fixture *f, const uint8_t txid[32], uint32_t index, uint64_t value,
                          int w, int to, uint64_t pay_value, uint32_t datum_len)
{
    utxo_builder *b = utxo_builder_new(&f->p, bp_chain_next_height(f->c));
    uint8_t *datum = datum_len ? malloc(datum_len) : NULL;
    utxo_coin c;
    utxo_tx *tx = NULL;

    ck_assert(datum_len == 0 || datum != NULL);
    if (datum_len)
        memset(datum, 0x5a, datum_len);
    memset(&c, 0, sizeof c);
    memcpy(c.outpoint.txid, txid, 32);
    c.outpoint.index = index;
    c.output.value = value;
    memcpy(c.output.predicate_id, f->id[w], 32);
    c.image = f->img[w];
    c.image_len = f->img_len[w];
    ck_assert_int_eq(utxo_builder_add_input(b, &c, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_builder_add_output(b, pay_value, f->id[to], datum, datum_len), UTXO_OK);
    ck_assert_int_eq(utxo_builder_set_change(b, f->id[w]), UTXO_OK);
    ck_assert_int_eq(utxo_builder_finalize(b), UTXO_OK);
    ck_assert_int_eq(utxo_builder_sign(b, f->sk[w], NULL), UTXO_OK);
    ck_assert_int_eq(utxo_builder_get_tx(b, &tx), UTXO_OK);
    utxo_builder_free(b);
    free(datum);
    return tx;
}

/* A payment by wallet w of coin (txid, index, value) paying `pay` to wallet
 * `to`, change back, with `extra` additional fee. */
static utxo_tx *pay(fixture *f, const uint8_t txid[32], uint32_t index, uint64_t value, int w,
                    int to, uint64_t pay_value, uint64_t extra)
{
    utxo_tx *tx = pay_datum(f, txid, index, value, w, to, pay_value, 0);

    if (extra > 0) {
        /* raise the fee: lower the change (last output) and sign again */
        uint8_t sh[32], sig[64];
        ck_assert_uint_gt(tx->outputs[tx->n_outputs - 1].value, extra);
        tx->outputs[tx->n_outputs - 1].value -= extra;
        utxo_tx_sighash(tx, f->p.chain_id, sh);
        ck_assert_int_eq(utxo_sign_sighash(sig, sh, f->sk[w]), UTXO_OK);
        ck_assert_int_eq(utxo_tx_set_args(tx, 0, sig, 64), UTXO_OK);
    }
    return tx;
}

static int submit(mp_pool *m, fixture *f, const utxo_tx *tx, utxo_verdict *vd)
{
    return mp_submit(m, tx, bp_chain_next_height(f->c), vd);
}

START_TEST(mempool_rules)
{
    fixture f;
    mp_pool *m;
    utxo_verdict vd;
    utxo_tx *a, *b, *child, *bad, *none;
    uint8_t txid[32];

    fx_init(&f, NULL);
    ck_assert_int_eq(mp_new(&m, &f.p, bp_chain_find, f.c, 1), UTXO_OK);
    a = pay(&f, f.gen_txid, 0, 1000000000, 0, 1, 300000000, 0);
    ck_assert_int_eq(submit(m, &f, a, &vd), UTXO_OK);
    ck_assert_uint_gt(vd.fees, 0);
    ck_assert_uint_eq(vd.fees, utxo_tx_min_fee(a, &f.p));
    /* the same outpoint again, other outputs: conflict; the same tx: duplicate */
    b = pay(&f, f.gen_txid, 0, 1000000000, 0, 2, 100000000, 0);
    ck_assert_int_eq(submit(m, &f, b, &vd), UTXO_ERR_MP_CONFLICT);
    ck_assert_int_eq(submit(m, &f, a, &vd), UTXO_ERR_MP_DUPLICATE);
    ck_assert_uint_eq(mp_count(m), 1);
    /* a child spending a's first output is accepted (chain in the pool) */
    utxo_tx_txid(a, txid);
    child = pay(&f, txid, 0, 300000000, 1, 2, 100000000, 0);
    ck_assert_int_eq(submit(m, &f, child, &vd), UTXO_OK);
    /* an output a does not have */
    utxo_tx_free(b);
    b = pay(&f, txid, 7, 300000000, 1, 2, 100000000, 0);
    ck_assert_int_eq(submit(m, &f, b, &vd), UTXO_ERR_TX_MISSING);
    /* a confirmed output that does not exist */
    utxo_tx_free(b);
    b = pay(&f, f.gen_txid, 12, 1000000000, 0, 2, 100000000, 0);
    ck_assert_int_eq(submit(m, &f, b, &vd), UTXO_ERR_TX_MISSING);
    /* the wrong key: the predicate rejects, input named */
    bad = pay(&f, f.gen_txid, 1, 1000000000, 0, 2, 100000000, 0);
    bad->inputs[0].witness.args[3] ^= 1;
    ck_assert_int_eq(submit(m, &f, bad, &vd), UTXO_ERR_TX_REJECTED);
    ck_assert_uint_eq(vd.input, 0);
    ck_assert_int_eq(vd.vm.status, UTXO_VM_REJECTED);
    /* no inputs */
    none = utxo_tx_new();
    ck_assert_int_eq(utxo_tx_add_output(none, 5, f.id[0], NULL, 0), UTXO_OK);
    ck_assert_int_eq(submit(m, &f, none, &vd), UTXO_ERR_TX_NO_INPUTS);
    ck_assert_uint_eq(mp_count(m), 2);
    utxo_tx_free(a);
    utxo_tx_free(b);
    utxo_tx_free(child);
    utxo_tx_free(bad);
    utxo_tx_free(none);
    mp_free(m);
    fx_free(&f);
}
END_TEST

/* A spend of outpoint (txid, index) by reference to the outpoint ref (form
 * 3, no parameters): enough for the mempool's rules before the contextual
 * ones (docs/CHAIN.md, "Mempool", rows 6 to 7s). */
static utxo_tx *spend_by_ref(fixture *f, const uint8_t txid[32], uint32_t index,
                             const uint8_t ref_txid[32], uint32_t ref_index)
{
    utxo_tx *tx = utxo_tx_new();
    utxo_outpoint op, ref;
    uint32_t k;

    memcpy(op.txid, txid, 32);
    op.index = index;
    memcpy(ref.txid, ref_txid, 32);
    ref.index = ref_index;
    ck_assert_int_eq(utxo_tx_add_ref(tx, &ref, &k), UTXO_OK);
    ck_assert_int_eq(utxo_tx_add_input_ref(tx, &op, 1000, k, NULL, 0, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_tx_add_output(tx, 5, f->id[0], NULL, 0), UTXO_OK);
    return tx;
}

/* The mempool's reference rules, as docs/CHAIN.md's table and
 * docs/ENCODING.md ("Reference inputs") say: a reference to an output of a
 * held transaction, or to no output, is TX_REF_MISSING; to an output a held
 * transaction spends, MP_CONFLICT; `input` is the reference's position;
 * the inputs' rows come first. */
START_TEST(mempool_reference_rules)
{
    fixture f;
    mp_pool *m;
    utxo_verdict vd;
    utxo_tx *a, *r;
    uint8_t a_txid[32];

    fx_init(&f, NULL);
    ck_assert_int_eq(mp_new(&m, &f.p, bp_chain_find, f.c, 1), UTXO_OK);
    a = pay(&f, f.gen_txid, 0, 1000000000, 0, 1, 300000000, 0);
    ck_assert_int_eq(submit(m, &f, a, &vd), UTXO_OK);
    utxo_tx_txid(a, a_txid);
    /* an output of a held transaction */
    r = spend_by_ref(&f, f.gen_txid, 5, a_txid, 0);
    ck_assert_int_eq(submit(m, &f, r, &vd), UTXO_ERR_TX_REF_MISSING);
    ck_assert_uint_eq(vd.input, 0);
    utxo_tx_free(r);
    /* no such output */
    r = spend_by_ref(&f, f.gen_txid, 5, f.gen_txid, 99);
    ck_assert_int_eq(submit(m, &f, r, &vd), UTXO_ERR_TX_REF_MISSING);
    utxo_tx_free(r);
    /* a confirmed output a held transaction spends */
    r = spend_by_ref(&f, f.gen_txid, 5, f.gen_txid, 0);
    ck_assert_int_eq(submit(m, &f, r, &vd), UTXO_ERR_MP_CONFLICT);
    ck_assert_uint_eq(vd.input, 0);
    utxo_tx_free(r);
    /* a missing input is reported before a bad reference */
    r = spend_by_ref(&f, f.gen_txid, 77, a_txid, 0);
    ck_assert_int_eq(submit(m, &f, r, &vd), UTXO_ERR_TX_MISSING);
    utxo_tx_free(r);
    ck_assert_uint_eq(mp_count(m), 1);
    utxo_tx_free(a);
    mp_free(m);
    fx_free(&f);
}
END_TEST

/* "Accept while height <= 2" as a predicate image (one segment at
 * 0x20000), and its predicate id. */
#define EXPIRING_IMG_BYTES (18u + 6u * 4u)
static void expiring_image(uint8_t img[EXPIRING_IMG_BYTES], uint8_t id[32])
{
    const uint32_t code[] = {ADDI(A7, ZERO, UTXO_HC_HEIGHT), ECALL(), ADDI(T0, ZERO, 2),
                             SLTU(A0, T0, A0), ADDI(A7, ZERO, UTXO_HC_HALT), ECALL()};
    _Static_assert(sizeof code == 6 * 4, "EXPIRING_IMG_BYTES");
    memcpy(img, "UTXP\x01\x01", 6);
    for (int i = 0; i < 4; i++) {
        img[6 + i] = (uint8_t)(0x20000u >> (8 * i));
        img[10 + i] = (uint8_t)(0x20000u >> (8 * i));
        img[14 + i] = (uint8_t)((uint32_t)sizeof code >> (8 * i));
    }
    for (size_t k = 0; k < sizeof code / 4; k++)
        for (int i = 0; i < 4; i++)
            img[18 + 4 * k + (size_t)i] = (uint8_t)(code[k] >> (8 * i));
    ck_assert_int_eq(utxo_image_validate(img, EXPIRING_IMG_BYTES, NULL), UTXO_OK);
    utxo_predicate_id(id, img, EXPIRING_IMG_BYTES);
}

/* Seals the next block: a coinbase (fees to wallet 0) and copies of txs. */
static int seal_these(fixture *f, const utxo_tx *const *txs, size_t n)
{
    utxo_block *b = utxo_block_new();
    utxo_tx *cb = utxo_tx_new();
    uint64_t fees = 0;
    ck_assert_int_eq(utxo_block_add_tx(b, cb), UTXO_OK);
    for (size_t i = 0; i < n; i++) {
        utxo_tx *c = utxo_tx_clone(txs[i]);
        ck_assert_int_eq(utxo_block_add_tx(b, c), UTXO_OK);
    }
    ck_assert_int_eq(utxo_tx_add_output(cb, fees, f->id[0], NULL, 0), UTXO_OK);
    int rc = bp_chain_seal(f->c, b, NULL, NULL, NULL);
    utxo_block_free(b);
    return rc;
}

/* A predicate may read the height: "accept while height <= 2". A
 * transaction judged at height 2 and still held when block 2 went by
 * without it was sealed into block 3 unjudged (the seal trusts the
 * mempool's run), an invalid block signed and written, after which the
 * store refused it and the node could not restart. mp_select_valid runs
 * the chosen ones judged at another height again: the expired one goes,
 * with the child that spends it; a plain one is judged again and stays. */
START_TEST(held_transactions_judged_again_at_a_new_height)
{
    uint8_t img[EXPIRING_IMG_BYTES], eid[32], ltx[32], ttx[32], otx[32], got[32];
    fixture f;
    mp_pool *m;
    utxo_verdict vd;
    const utxo_tx *const *txs;
    size_t n = 0, dropped = 99;
    uint64_t fees;

    expiring_image(img, eid);

    fx_init(&f, NULL);
    /* block 1: a coin locked behind the expiring predicate */
    utxo_block *b = utxo_block_new();
    utxo_tx *cb = utxo_tx_new(), *lock = pay(&f, f.gen_txid, 0, 1000000000, 0, 1, 1000000, 0);
    ck_assert_int_eq(utxo_block_add_tx(b, cb), UTXO_OK);
    ck_assert_int_eq(utxo_tx_add_output(cb, 0, f.id[0], NULL, 0), UTXO_OK);
    lock->outputs[0].value = 900000000;
    lock->outputs[1].value -= 899000000;
    memcpy(lock->outputs[0].predicate_id, eid, 32);
    utxo_tx_txid(lock, ltx);
    ck_assert_int_eq(utxo_block_add_tx(b, lock), UTXO_OK);
    ck_assert_int_eq(bp_chain_seal(f.c, b, NULL, NULL, NULL), UTXO_OK);
    utxo_block_free(b);
    ck_assert_uint_eq(bp_chain_next_height(f.c), 2);

    /* at height 2: the spend of it, a child of that spend, a plain payment */
    ck_assert_int_eq(mp_new(&m, &f.p, bp_chain_find, f.c, 1), UTXO_OK);
    utxo_tx *t = utxo_tx_new();
    utxo_outpoint op;
    memcpy(op.txid, ltx, 32);
    op.index = 0;
    ck_assert_int_eq(utxo_tx_add_input(t, &op, 1000, img, sizeof img, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_tx_add_output(t, 800000000, f.id[2], NULL, 0), UTXO_OK);
    ck_assert_int_eq(submit(m, &f, t, &vd), UTXO_OK);
    utxo_tx_txid(t, ttx);
    utxo_tx *child = pay(&f, ttx, 0, 800000000, 2, 0, 1000, 0);
    ck_assert_int_eq(submit(m, &f, child, &vd), UTXO_OK);
    utxo_tx *other = pay(&f, f.gen_txid, 4, 1000000000, 1, 0, 1000, 0);
    ck_assert_int_eq(submit(m, &f, other, &vd), UTXO_OK);
    utxo_tx_txid(other, otx);
    /* at height 3 the spend is refused on its own */
    mp_pool *m3;
    ck_assert_int_eq(mp_new(&m3, &f.p, bp_chain_find, f.c, 1), UTXO_OK);
    ck_assert_int_eq(mp_submit(m3, t, 3, &vd), UTXO_ERR_TX_REJECTED);
    mp_free(m3);

    /* block 2 goes by without them */
    ck_assert_int_eq(seal_these(&f, NULL, 0), UTXO_OK);
    ck_assert_uint_eq(bp_chain_next_height(f.c), 3);

    /* the plain choice still takes all three, a block that does not
     * validate (the seal here runs the predicates: bp_chain_set_verify);
     * the checked one drops the expired spend and its child, and keeps the
     * payment */
    ck_assert_int_eq(bp_chain_set_verify(f.c, 1), UTXO_OK);
    ck_assert_int_eq(mp_select(m, 200, &txs, &n, &fees), UTXO_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(seal_these(&f, txs, n), UTXO_ERR_TX_REJECTED);
    ck_assert_int_eq(mp_select_valid(m, 200, 3, &txs, &n, &fees, &dropped), UTXO_OK);
    ck_assert_uint_eq(dropped, 2);
    ck_assert_uint_eq(n, 1);
    utxo_tx_txid(txs[0], got);
    ck_assert_mem_eq(got, otx, 32);
    ck_assert_uint_eq(mp_count(m), 1);
    /* judged at this height now: nothing to run again */
    ck_assert_int_eq(mp_select_valid(m, 200, 3, &txs, &n, &fees, &dropped), UTXO_OK);
    ck_assert_uint_eq(dropped, 0);
    ck_assert_uint_eq(n, 1);
    /* and the block sealed from it validates */
    ck_assert_int_eq(seal_these(&f, txs, n), UTXO_OK);

    utxo_tx_free(t);
    utxo_tx_free(child);
    utxo_tx_free(other);
    mp_free(m);
    fx_free(&f);
}
END_TEST

/* Many held spends of coins locked "while height <= 2", all expired at
 * height 3: mp_select_valid judges each once and drops them in one
 * compaction (dropping one per round and choosing again was cubic: 3,000
 * took 47 s under the node's locks). */
START_TEST(many_expired_dropped_at_once)
{
    uint8_t img[EXPIRING_IMG_BYTES], eid[32];
    expiring_image(img, eid);
    const unsigned N = 300, L = 2; /* spends per lock transaction, lock transactions */
    fixture f;
    fx_init(&f, NULL);
    utxo_block *b = utxo_block_new();
    utxo_tx *cb = utxo_tx_new();
    ck_assert_int_eq(utxo_block_add_tx(b, cb), UTXO_OK);
    ck_assert_int_eq(utxo_tx_add_output(cb, 0, f.id[0], NULL, 0), UTXO_OK);
    uint8_t ltx[4][32];
    for (unsigned l = 0; l < L; l++) {
        utxo_builder *bu = utxo_builder_new(&f.p, 1);
        utxo_coin c;
        memset(&c, 0, sizeof c);
        memcpy(c.outpoint.txid, f.gen_txid, 32);
        c.outpoint.index = l;
        c.output.value = 1000000000;
        memcpy(c.output.predicate_id, f.id[0], 32);
        c.image = f.img[0];
        c.image_len = f.img_len[0];
        ck_assert_int_eq(utxo_builder_add_input(bu, &c, NULL), UTXO_OK);
        for (unsigned i = 0; i < N; i++)
            ck_assert_int_eq(utxo_builder_add_output(bu, 100000, eid, NULL, 0), UTXO_OK);
        ck_assert_int_eq(utxo_builder_set_change(bu, f.id[0]), UTXO_OK);
        ck_assert_int_eq(utxo_builder_finalize(bu), UTXO_OK);
        ck_assert_int_eq(utxo_builder_sign(bu, f.sk[0], NULL), UTXO_OK);
        utxo_tx *lock = NULL;
        ck_assert_int_eq(utxo_builder_get_tx(bu, &lock), UTXO_OK);
        utxo_builder_free(bu);
        utxo_tx_txid(lock, ltx[l]);
        ck_assert_int_eq(utxo_block_add_tx(b, lock), UTXO_OK);
    }
    ck_assert_int_eq(bp_chain_seal(f.c, b, NULL, NULL, NULL), UTXO_OK);
    utxo_block_free(b);
    mp_pool *m;
    utxo_verdict vd;
    ck_assert_int_eq(mp_new(&m, &f.p, bp_chain_find, f.c, 1), UTXO_OK);
    for (unsigned l = 0; l < L; l++)
        for (unsigned i = 0; i < N; i++) {
            utxo_tx *t = utxo_tx_new();
            utxo_outpoint op;
            memcpy(op.txid, ltx[l], 32);
            op.index = i;
            ck_assert_int_eq(utxo_tx_add_input(t, &op, 1000, img, sizeof img, NULL, 0), UTXO_OK);
            ck_assert_int_eq(utxo_tx_add_output(t, 90000, f.id[2], NULL, 0), UTXO_OK);
            ck_assert_int_eq(submit(m, &f, t, &vd), UTXO_OK);
            utxo_tx_free(t);
        }
    ck_assert_int_eq(seal_these(&f, NULL, 0), UTXO_OK); /* block 2 without them */
    const utxo_tx *const *txs;
    size_t n = 0, dropped = 0;
    uint64_t fees;
    ck_assert_int_eq(mp_select(m, 200, &txs, &n, &fees), UTXO_OK);
    ck_assert_uint_eq(n, N * L);
    ck_assert_int_eq(mp_select_valid(m, 200, 3, &txs, &n, &fees, &dropped), UTXO_OK);
    ck_assert_uint_eq(dropped, N * L);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_eq(mp_count(m), 0);
    mp_free(m);
    fx_free(&f);
}
END_TEST

/* The pool's policies: a transaction declaring more cycles than the
 * node's --max-tx-cycles is refused before any predicate runs (a refused
 * one pays nothing for them: 53 s of a sequencer's CPU for one POST
 * before); and the pool holds at most MP_MAX_BLOCKS_HELD blocks' worth of
 * bytes (it grew without a bound but the count: ~23 GB of 1 MiB
 * transactions). */
START_TEST(mempool_policies)
{
    fixture f;
    mp_pool *m;
    utxo_verdict vd;
    uint8_t txid[32];
    utxo_params p;

    fx_init(&f, NULL);
    ck_assert_int_eq(mp_new(&m, &f.p, bp_chain_find, f.c, 1), UTXO_OK);
    utxo_tx *a = pay(&f, f.gen_txid, 0, 1000000000, 0, 1, 1000, 0);
    uint64_t budget = a->inputs[0].witness.budget;
    mp_set_policy(m, budget - 1);
    ck_assert_int_eq(submit(m, &f, a, &vd), UTXO_ERR_MP_POLICY);
    ck_assert_uint_eq(mp_count(m), 0);
    mp_set_policy(m, budget);
    ck_assert_int_eq(submit(m, &f, a, &vd), UTXO_OK);
    mp_free(m);
    fx_free(&f);

    /* blocks of room for three such payments: the pool holds 16 blocks */
    size_t len = utxo_tx_get_length(a, true);
    utxo_tx_free(a);
    utxo_params_default(&p);
    p.max_block_bytes = (uint32_t)(3 * len + UTXO_HEADER_BYTES + 200);
    fx_init(&f, &p);
    ck_assert_int_eq(mp_new(&m, &f.p, bp_chain_find, f.c, 1), UTXO_OK);
    uint64_t value = 1000000000, held = 0;
    size_t n = 0;
    memcpy(txid, f.gen_txid, 32);
    uint32_t index = 0;
    int rc = UTXO_OK;
    while (n < 200) {
        utxo_tx *t = pay(&f, txid, index, value, 0, 1, 1000, 0);
        rc = submit(m, &f, t, &vd);
        if (rc == UTXO_OK) {
            held += utxo_tx_get_length(t, true);
            value = t->outputs[1].value;
            utxo_tx_txid(t, txid);
            index = 1;
            n++;
        }
        utxo_tx_free(t);
        if (rc != UTXO_OK)
            break;
    }
    ck_assert_int_eq(rc, UTXO_ERR_MP_FULL);
    ck_assert_uint_le(held, (uint64_t)MP_MAX_BLOCKS_HELD * p.max_block_bytes);
    ck_assert_uint_gt(held + len, (uint64_t)MP_MAX_BLOCKS_HELD * p.max_block_bytes - len);
    ck_assert_uint_eq(mp_count(m), n);
    mp_free(m);
    fx_free(&f);
}
END_TEST

/* A pool of blocks with room for three payments, filled to its byte limit
 * by a chain of payments from wallet 0 (each spends the one before's
 * change; the last is the only one nothing held spends). Returns how many
 * it holds; *tip gets the last one's txid. */
static size_t fill_pool(fixture *f, mp_pool **m, utxo_params *p, uint8_t tip[32])
{
    utxo_verdict vd;
    uint8_t txid[32];
    uint64_t value = 1000000000;
    uint32_t index = 0;
    size_t n = 0;
    int rc;

    utxo_tx *a = pay(f, f->gen_txid, 0, value, 0, 1, 1000, 0);
    size_t len = utxo_tx_get_length(a, true);
    utxo_tx_free(a);
    fx_free(f);
    utxo_params_default(p);
    p->max_block_bytes = (uint32_t)(3 * len + UTXO_HEADER_BYTES + 200);
    fx_init(f, p);
    ck_assert_int_eq(mp_new(m, &f->p, bp_chain_find, f->c, 1), UTXO_OK);
    memcpy(txid, f->gen_txid, 32);
    do {
        utxo_tx *t = pay(f, txid, index, value, 0, 1, 1000, 0);
        rc = submit(*m, f, t, &vd);
        if (rc == UTXO_OK) {
            value = t->outputs[1].value;
            utxo_tx_txid(t, txid);
            index = 1;
            n++;
        }
        utxo_tx_free(t);
    } while (rc == UTXO_OK && n < 1000);
    ck_assert_int_eq(rc, UTXO_ERR_MP_FULL);
    ck_assert_uint_eq(mp_evicted(*m), 0); /* all of one rate: none evicts */
    memcpy(tip, txid, 32);
    return n;
}

static bool pool_holds(const mp_pool *m, const uint8_t txid[32])
{
    uint8_t id[32];
    for (size_t i = 0; mp_tx(m, i, id) != NULL; i++)
        if (memcmp(id, txid, 32) == 0)
            return true;
    return false;
}

static uint64_t pool_bytes(const mp_pool *m)
{
    uint64_t b = 0;
    const utxo_tx *tx;
    for (size_t i = 0; (tx = mp_tx(m, i, NULL)) != NULL; i++)
        b += utxo_tx_get_length(tx, true);
    return b;
}

/* A full pool (by bytes) takes a transaction of a higher fee rate by
 * evicting held ones of lower rates, lowest first and spenders before what
 * they spend, never what the newcomer spends; an equal rate, or a
 * transaction that fails its predicates, evicts nothing (before, a full
 * pool refused every transaction: a pool filled at the lowest fee held
 * every better-paying payment out for 16 blocks). */
START_TEST(mempool_full_evicts_lower_rates)
{
    fixture f;
    mp_pool *m;
    utxo_params p;
    utxo_verdict vd;
    uint8_t tip[32], txid[32], prev[32];

    fx_init(&f, NULL);
    size_t n = fill_pool(&f, &m, &p, tip);
    uint64_t limit = (uint64_t)MP_MAX_BLOCKS_HELD * p.max_block_bytes;

    /* wallet 1's coin at the pool's rate: MP_FULL, nothing evicted */
    utxo_tx *same = pay(&f, f.gen_txid, 4, 1000000000, 1, 2, 1000, 0);
    ck_assert_int_eq(submit(m, &f, same, &vd), UTXO_ERR_MP_FULL);
    ck_assert_uint_eq(mp_count(m), n);
    ck_assert(pool_holds(m, tip));

    /* a better rate whose signature fails: its own verdict, nothing evicted */
    utxo_tx *forged = pay(&f, f.gen_txid, 4, 1000000000, 1, 2, 1000, 5000);
    uint8_t sig[64];
    memset(sig, 7, sizeof sig);
    ck_assert_int_eq(utxo_tx_set_args(forged, 0, sig, 64), UTXO_OK);
    ck_assert_int_eq(submit(m, &f, forged, &vd), UTXO_ERR_TX_REJECTED);
    ck_assert_uint_eq(mp_count(m), n);
    ck_assert_uint_eq(mp_evicted(m), 0);

    /* a better rate: the chain's tip goes (the only held leaf) */
    utxo_tx *rich = pay(&f, f.gen_txid, 4, 1000000000, 1, 2, 1000, 5000);
    ck_assert_int_eq(submit(m, &f, rich, &vd), UTXO_OK);
    ck_assert_uint_eq(mp_evicted(m), 1);
    ck_assert_uint_eq(mp_count(m), n);
    ck_assert(!pool_holds(m, tip));
    ck_assert_uint_le(pool_bytes(m), limit);

    /* its child, better still: evicts the chain's new tip, not its parent */
    utxo_tx_txid(rich, txid);
    mp_tx(m, n - 2, prev); /* the chain's tip now */
    utxo_tx *child = pay(&f, txid, 1, rich->outputs[1].value, 1, 2, 1000, 9000);
    ck_assert_int_eq(submit(m, &f, child, &vd), UTXO_OK);
    ck_assert_uint_eq(mp_evicted(m), 2);
    ck_assert(pool_holds(m, txid));
    ck_assert(!pool_holds(m, prev));
    ck_assert_uint_le(pool_bytes(m), limit);

    /* evicted, the chain's tip may come back once there is a block's room */
    utxo_tx_free(same);
    utxo_tx_free(forged);
    utxo_tx_free(rich);
    utxo_tx_free(child);
    mp_free(m);
    fx_free(&f);
}
END_TEST

/* What an evicted transaction paid is nothing (its predicates ran for
 * free), so a transaction that evicts pays the fees of what it evicts and
 * its own minimum fee besides: one unit of fee above the pool's lowest
 * rate is not enough (it was: two coins evicting each other, a unit more
 * each time, had the node run their predicates for nothing, past the
 * allowance of refused work, which charges refusals only). */
START_TEST(mempool_eviction_pays_for_what_it_evicts)
{
    fixture f;
    mp_pool *m;
    utxo_params p;
    utxo_verdict vd;
    uint8_t tip[32];

    fx_init(&f, NULL);
    size_t n = fill_pool(&f, &m, &p, tip);
    const utxo_tx *last = mp_tx(m, n - 1, NULL), *before = mp_tx(m, n - 2, NULL);
    uint64_t tip_fee = before->outputs[1].value - last->outputs[0].value - last->outputs[1].value;

    /* one unit over the pool's rate: a better rate, but not by its own
     * minimum fee's worth */
    utxo_tx *unit = pay(&f, f.gen_txid, 4, 1000000000, 1, 2, 1000, 1);
    ck_assert_int_eq(submit(m, &f, unit, &vd), UTXO_ERR_MP_FULL);
    ck_assert_uint_eq(mp_evicted(m), 0);
    ck_assert(pool_holds(m, tip));

    /* its own minimum fee and the tip's, less one unit (the same weight:
     * its rate less its minimum's is then just below the tip's): still
     * full */
    utxo_tx *base = pay(&f, f.gen_txid, 4, 1000000000, 1, 2, 1000, 0);
    uint64_t fee0 = 1000000000 - base->outputs[0].value - base->outputs[1].value;
    uint64_t need = tip_fee + utxo_tx_min_fee(base, &f.p) - fee0;
    utxo_tx *shy = pay(&f, f.gen_txid, 4, 1000000000, 1, 2, 1000, need - 1);
    ck_assert_int_eq(submit(m, &f, shy, &vd), UTXO_ERR_MP_FULL);
    ck_assert(pool_holds(m, tip));
    /* both: the tip goes */
    utxo_tx *fair = pay(&f, f.gen_txid, 4, 1000000000, 1, 2, 1000, need);
    ck_assert_int_eq(submit(m, &f, fair, &vd), UTXO_OK);
    ck_assert_uint_eq(mp_evicted(m), 1);
    ck_assert(!pool_holds(m, tip));
    ck_assert_uint_eq(mp_count(m), n);

    utxo_tx_free(unit);
    utxo_tx_free(base);
    utxo_tx_free(shy);
    utxo_tx_free(fair);
    mp_free(m);
    fx_free(&f);
}
END_TEST

static uint64_t tx_weight(const utxo_tx *tx)
{
    uint64_t c = 0;
    for (uint32_t i = 0; i < tx->n_inputs; i++)
        c += tx->inputs[i].witness.budget;
    return utxo_tx_get_length(tx, true) + (c + 1023) / 1024;
}

/* The rule is on rates: a small payment evicts a large transaction of a
 * low rate once its own rate, less its minimum fee's, reaches that one's,
 * without paying that one's whole fee (a rule on the evicted fees would
 * price small payments out of a pool full of large ones). */
START_TEST(mempool_small_outbids_large)
{
    fixture f;
    mp_pool *m;
    utxo_params p;
    utxo_verdict vd;
    uint8_t txid[32];
    uint64_t value = 1000000000;
    uint32_t index = 0;
    const uint32_t D = 3000;
    int rc;

    utxo_params_default(&p);
    p.max_block_bytes = 3 * (D + 400) + UTXO_HEADER_BYTES + 200;
    fx_init(&f, &p);
    ck_assert_int_eq(mp_new(&m, &f.p, bp_chain_find, f.c, 1), UTXO_OK);
    memcpy(txid, f.gen_txid, 32);
    utxo_tx *tip = NULL;
    do { /* a chain of large payments (3,000-byte datums) until full */
        utxo_tx *t = pay_datum(&f, txid, index, value, 0, 1, 1000, D);
        if ((rc = submit(m, &f, t, &vd)) == UTXO_OK) {
            value = t->outputs[1].value;
            utxo_tx_txid(t, txid);
            index = 1;
            utxo_tx_free(tip);
            tip = t;
        } else {
            utxo_tx_free(t);
        }
    } while (rc == UTXO_OK);
    ck_assert_int_eq(rc, UTXO_ERR_MP_FULL);
    /* the tip's fee: what it spent less what it pays */
    const utxo_tx *prev = mp_tx(m, mp_count(m) - 2, NULL);
    uint64_t tip_fee = prev->outputs[1].value - tip->outputs[0].value - tip->outputs[1].value;
    uint64_t tip_w = tx_weight(tip);
    /* the room left filled with small payments of a rate a unit higher
     * (one unit is not a minimum fee's worth: they evict nothing), so the
     * large tip is the lowest rate the pool holds */
    memcpy(txid, f.gen_txid, 32);
    index = 8;
    value = 1000000000;
    do {
        utxo_tx *t = pay(&f, txid, index, value, 2, 1, 1000, 1);
        if ((rc = submit(m, &f, t, &vd)) == UTXO_OK) {
            value = t->outputs[1].value;
            utxo_tx_txid(t, txid);
            index = 1;
        }
        utxo_tx_free(t);
    } while (rc == UTXO_OK);
    ck_assert_int_eq(rc, UTXO_ERR_MP_FULL);
    ck_assert_uint_eq(mp_evicted(m), 0);
    size_t n = mp_count(m);

    utxo_tx *base = pay(&f, f.gen_txid, 4, 1000000000, 1, 2, 1000, 0);
    uint64_t w = tx_weight(base), m0 = utxo_tx_min_fee(base, &f.p);
    uint64_t fee0 = 1000000000 - base->outputs[0].value - base->outputs[1].value;
    uint64_t need = m0 + (tip_fee * w + tip_w - 1) / tip_w; /* its rate less its minimum's */
    ck_assert_uint_lt(need, tip_fee + m0); /* less than the tip's fee and its own minimum */
    utxo_tx *shy = pay(&f, f.gen_txid, 4, 1000000000, 1, 2, 1000, need - 1 - fee0);
    ck_assert_int_eq(submit(m, &f, shy, &vd), UTXO_ERR_MP_FULL);
    utxo_tx *small = pay(&f, f.gen_txid, 4, 1000000000, 1, 2, 1000, need - fee0);
    ck_assert_int_eq(submit(m, &f, small, &vd), UTXO_OK);
    ck_assert_uint_eq(vd.fees, need);
    ck_assert_uint_eq(mp_evicted(m), 1);
    ck_assert_uint_eq(mp_count(m), n);
    utxo_tx_txid(tip, txid);
    ck_assert(!pool_holds(m, txid)); /* the large one went */
    utxo_tx_free(tip);
    utxo_tx_free(base);
    utxo_tx_free(shy);
    utxo_tx_free(small);
    mp_free(m);
    fx_free(&f);
}
END_TEST

/* mp_submit_batch into a full pool gives the verdicts one by one would:
 * a transaction behind others that needs room is judged alone. */
START_TEST(mempool_full_batch_matches_one_by_one)
{
    fixture f, g;
    mp_pool *m, *one;
    utxo_params p;
    uint8_t tip[32];
    utxo_verdict vb[4], v1;

    fx_init(&f, NULL);
    fx_init(&g, NULL);
    size_t n = fill_pool(&f, &m, &p, tip);
    ck_assert_uint_eq(fill_pool(&g, &one, &p, tip), n);
    utxo_tx *t[4] = {
        pay(&f, f.gen_txid, 8, 1000000000, 2, 1, 1000, 0),    /* the pool's rate */
        pay(&f, f.gen_txid, 4, 1000000000, 1, 2, 1000, 4000), /* evicts one */
        pay(&f, f.gen_txid, 5, 1000000000, 1, 2, 1000, 3000), /* evicts another */
        pay(&f, f.gen_txid, 9, 1000000000, 2, 1, 1000, 0),    /* the pool's rate */
    };
    size_t acc = 0;
    ck_assert_int_eq(mp_submit_batch(m, (const utxo_tx *const *)t, 4,
                                     bp_chain_next_height(f.c), vb, &acc),
                     UTXO_ERR_MP_FULL);
    ck_assert_uint_eq(acc, 2);
    for (int i = 0; i < 4; i++) {
        int rc = submit(one, &g, t[i], &v1);
        ck_assert_int_eq(vb[i].err, rc);
        ck_assert_uint_eq(vb[i].fees, v1.fees);
        ck_assert_uint_eq(vb[i].input, v1.input);
    }
    ck_assert_uint_eq(mp_evicted(m), 2);
    ck_assert_uint_eq(mp_evicted(one), 2);
    ck_assert_uint_eq(mp_count(m), mp_count(one));
    for (size_t i = 0; i < mp_count(m); i++) {
        uint8_t a[32], b[32];
        mp_tx(m, i, a);
        mp_tx(one, i, b);
        ck_assert_mem_eq(a, b, 32);
    }
    for (int i = 0; i < 4; i++)
        utxo_tx_free(t[i]);
    mp_free(m);
    mp_free(one);
    fx_free(&f);
    fx_free(&g);
}
END_TEST

/* What a pool must always be: within its limits, every held
 * transaction's inputs confirmed and unspent or outputs of a transaction
 * held before it, and no outpoint spent twice. */
static void pool_invariants(const mp_pool *m, fixture *f, uint64_t limit)
{
    size_t n = mp_count(m);
    uint8_t (*ids)[32] = malloc((n ? n : 1) * sizeof *ids);
    ck_assert_ptr_nonnull(ids);
    ck_assert_uint_le(n, MP_MAX_TXS);
    ck_assert_uint_le(pool_bytes(m), limit);
    for (size_t i = 0; i < n; i++) {
        const utxo_tx *tx = mp_tx(m, i, ids[i]);
        for (uint32_t k = 0; k < tx->n_inputs; k++) {
            const utxo_outpoint *op = &tx->inputs[k].prevout;
            size_t j = 0;
            while (j < i && memcmp(ids[j], op->txid, 32) != 0)
                j++;
            if (j < i) {
                ck_assert_uint_lt(op->index, mp_tx(m, j, NULL)->n_outputs);
            } else {
                const utxo_output *o;
                uint32_t h;
                uint64_t pos;
                ck_assert_int_eq(bp_chain_find(f->c, op, &o, &h, &pos), UTXO_OK);
            }
            for (size_t q = 0; q < i; q++) {
                const utxo_tx *u = mp_tx(m, q, NULL);
                for (uint32_t r = 0; r < u->n_inputs; r++)
                    ck_assert(u->inputs[r].prevout.index != op->index ||
                              memcmp(u->inputs[r].prevout.txid, op->txid, 32) != 0);
            }
        }
    }
    free(ids);
}

static void same_pools(const mp_pool *a, const mp_pool *b)
{
    uint8_t x[32], y[32];
    ck_assert_uint_eq(mp_count(a), mp_count(b));
    for (size_t i = 0; i < mp_count(a); i++) {
        mp_tx(a, i, x);
        mp_tx(b, i, y);
        ck_assert_mem_eq(x, y, 32);
    }
}

typedef struct rcoin {
    uint8_t txid[32];
    uint32_t index;
    uint64_t value;
    int owner;
} rcoin;

/* Random traffic into a small pool that fills: spends of confirmed coins,
 * of held transactions' outputs, of spent, evicted and never-accepted
 * ones, forged signatures, fees from the minimum to generous, in batches of
 * one to four; a block sealed every few rounds. One pool takes each batch
 * one by one, the other as a batch: the verdicts and the pools must be the
 * same, the pool's invariants must hold after every round, and every block
 * chosen must seal. */
START_TEST(mempool_random_traffic)
{
    fixture f, g;
    mp_pool *one, *bat;
    utxo_params p;
    uint8_t tip[32];
    rcoin coins[256];
    size_t n_coins = 0;
    uint64_t rng = 0x5eed0000u + (uint64_t)_i;

    fx_init(&f, NULL);
    fx_init(&g, NULL);
    (void)fill_pool(&f, &one, &p, tip);
    (void)fill_pool(&g, &bat, &p, tip);
    uint64_t limit = (uint64_t)MP_MAX_BLOCKS_HELD * p.max_block_bytes;
    for (int i = 4; i < 12; i++) { /* wallets 1 and 2's genesis coins */
        memcpy(coins[n_coins].txid, f.gen_txid, 32);
        coins[n_coins].index = (uint32_t)i;
        coins[n_coins].value = 1000000000;
        coins[n_coins++].owner = i / 4;
    }
    static const uint64_t extras[] = {0, 0, 300, 3000, 20000, 150000};
    for (int round = 0; round < 60; round++) {
        utxo_tx *t[4];
        utxo_verdict vb[4], v1;
        size_t k = 1 + rng_below(&rng, 4), acc = 0;
        for (size_t j = 0; j < k; j++) {
            rcoin c = coins[rng_below(&rng, (uint32_t)n_coins)];
            if (c.value < 2000000)
                c = coins[rng_below(&rng, 8)]; /* a genesis coin */
            int to = 1 + (int)rng_below(&rng, 2);
            t[j] = pay(&f, c.txid, c.index, c.value, c.owner, to, c.value / 4,
                       extras[rng_below(&rng, 6)]);
            if (rng_below(&rng, 8) == 0) {
                uint8_t sig[64];
                rng_fill(&rng, sig, sizeof sig);
                ck_assert_int_eq(utxo_tx_set_args(t[j], 0, sig, 64), UTXO_OK);
            }
            for (uint32_t o = 0; o < 2; o++) {
                rcoin *d = &coins[n_coins < 256 ? n_coins++ : 8 + rng_below(&rng, 248)];
                utxo_tx_txid(t[j], d->txid);
                d->index = o;
                d->value = t[j]->outputs[o].value;
                d->owner = o == 0 ? to : c.owner;
            }
        }
        (void)mp_submit_batch(bat, (const utxo_tx *const *)t, k, bp_chain_next_height(g.c), vb,
                              &acc);
        for (size_t j = 0; j < k; j++) {
            int rc = submit(one, &f, t[j], &v1);
            ck_assert_msg(vb[j].err == rc && vb[j].input == v1.input && vb[j].fees == v1.fees,
                          "round %d tx %zu: batch %d input %u, one by one %d input %u", round,
                          j, vb[j].err, vb[j].input, rc, v1.input);
            utxo_tx_free(t[j]);
        }
        same_pools(one, bat);
        ck_assert_uint_eq(mp_evicted(one), mp_evicted(bat));
        pool_invariants(one, &f, limit);
        if (round % 5 == 4) {
            const utxo_tx *const *s1, *const *s2;
            size_t n1, n2, d1, d2;
            uint64_t f1, f2;
            ck_assert_int_eq(mp_select_valid(one, 200, bp_chain_next_height(f.c), &s1, &n1, &f1,
                                             &d1), UTXO_OK);
            ck_assert_int_eq(mp_select_valid(bat, 200, bp_chain_next_height(g.c), &s2, &n2, &f2,
                                             &d2), UTXO_OK);
            ck_assert_uint_eq(n1, n2);
            ck_assert_uint_eq(f1, f2);
            ck_assert_int_eq(seal_these(&f, s1, n1), UTXO_OK);
            ck_assert_int_eq(seal_these(&g, s2, n2), UTXO_OK);
            mp_remove_selected(one);
            mp_remove_selected(bat);
            same_pools(one, bat);
            pool_invariants(one, &f, limit);
        }
    }
    ck_assert_uint_gt(mp_evicted(one), 0); /* the traffic did fill the pool */
    mp_free(one);
    mp_free(bat);
    fx_free(&f);
    fx_free(&g);
}
END_TEST

static int pos_of(const utxo_tx *const *sel, size_t n, const utxo_tx *tx);


/* A block's bundle carries every spent output's datum and a proof share
 * per input, and no rule bounds them: a block whose bundle a proof record
 * cannot hold stops every stateless validator. The mempool counts a bound
 * of each transaction's share (MP_BUNDLE_PER_OUTPUT and the datums it
 * spends) and keeps a block's sum within its bundle room: a transaction
 * that cannot fit alone is refused (MP_LIMIT), the choice leaves out what
 * would go past, and the rest goes in the next block. */
START_TEST(mempool_bundle_room)
{
    fixture f;
    mp_pool *m;
    utxo_verdict vd;
    uint8_t txid[2][32];
    const utxo_tx *const *txs;
    size_t n;
    uint64_t fees;
    const uint64_t per = MP_BUNDLE_PER_OUTPUT, D = 3000;

    fx_init(&f, NULL);
    ck_assert_int_eq(mp_new(&m, &f.p, bp_chain_find, f.c, 1), UTXO_OK);
    /* two outputs with 3,000-byte datums, confirmed in block 1 */
    for (int k = 0; k < 2; k++) {
        utxo_tx *t = pay_datum(&f, f.gen_txid, 4 + (uint32_t)k, 1000000000, 1, 1, 500000000,
                               (uint32_t)D);
        ck_assert_int_eq(submit(m, &f, t, &vd), UTXO_OK);
        utxo_tx_txid(t, txid[k]);
        utxo_tx_free(t);
    }
    ck_assert_int_eq(mp_select(m, 200, &txs, &n, &fees), UTXO_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(seal_these(&f, txs, n), UTXO_OK);
    mp_remove_selected(m);

    /* room for one datum's spend and one plain payment, not more */
    mp_set_bundle_room(m, 2 * per + D);
    utxo_tx *big = pay(&f, txid[0], 0, 500000000, 1, 2, 1000, 0);
    utxo_tx *plain = pay(&f, f.gen_txid, 0, 1000000000, 0, 2, 1000, 0);
    utxo_tx *big2 = pay(&f, txid[1], 0, 500000000, 1, 2, 1000, 0);
    ck_assert_int_eq(submit(m, &f, big, &vd), UTXO_OK);
    ck_assert_int_eq(submit(m, &f, plain, &vd), UTXO_OK);
    ck_assert_int_eq(submit(m, &f, big2, &vd), UTXO_OK);
    ck_assert_int_eq(mp_select(m, 200, &txs, &n, &fees), UTXO_OK);
    ck_assert_uint_eq(n, 2); /* two datums' spends would need 2 * (per + D) + per */
    ck_assert_int_eq(pos_of(txs, n, plain) >= 0, 1);
    ck_assert_int_eq(seal_these(&f, txs, n), UTXO_OK);
    mp_remove_selected(m);
    ck_assert_int_eq(mp_select(m, 200, &txs, &n, &fees), UTXO_OK);
    ck_assert_uint_eq(n, 1); /* the other one, next block */
    ck_assert_int_eq(seal_these(&f, txs, n), UTXO_OK);
    mp_remove_selected(m);

    /* a room below one datum's spend: refused at admission, plain ones pass */
    utxo_tx *later = pay(&f, f.gen_txid, 1, 1000000000, 0, 2, 1000, 0);
    utxo_tx *d3 = pay_datum(&f, f.gen_txid, 8, 1000000000, 2, 2, 500000000, (uint32_t)D);
    ck_assert_int_eq(submit(m, &f, d3, &vd), UTXO_OK); /* creating a datum costs nothing here */
    mp_set_bundle_room(m, per + D - 1);
    utxo_tx_txid(d3, txid[0]);
    utxo_tx *spend_d3 = pay(&f, txid[0], 0, 500000000, 2, 1, 1000, 0);
    ck_assert_int_eq(submit(m, &f, spend_d3, &vd), UTXO_ERR_MP_LIMIT);
    ck_assert_int_eq(submit(m, &f, later, &vd), UTXO_OK);
    utxo_tx_free(big);
    utxo_tx_free(plain);
    utxo_tx_free(big2);
    utxo_tx_free(later);
    utxo_tx_free(d3);
    utxo_tx_free(spend_d3);
    mp_free(m);
    fx_free(&f);
}
END_TEST

/* Index of tx in the selection, or -1. */
static int pos_of(const utxo_tx *const *sel, size_t n, const utxo_tx *tx)
{
    uint8_t a[32], b[32];

    utxo_tx_txid(tx, a);
    for (size_t i = 0; i < n; i++) {
        utxo_tx_txid(sel[i], b);
        if (memcmp(a, b, 32) == 0)
            return (int)i;
    }
    return -1;
}

START_TEST(mempool_order)
{
    fixture f;
    mp_pool *m;
    const utxo_tx *const *sel;
    size_t n;
    uint64_t fees, sum;
    utxo_tx *lo, *hi, *eq1, *eq2, *parent, *child;
    uint8_t txid[32];

    fx_init(&f, NULL);
    ck_assert_int_eq(mp_new(&m, &f.p, bp_chain_find, f.c, 1), UTXO_OK);
    lo = pay(&f, f.gen_txid, 0, 1000000000, 0, 1, 1000000, 0);
    eq1 = pay(&f, f.gen_txid, 1, 1000000000, 0, 1, 1000000, 1000);
    hi = pay(&f, f.gen_txid, 4, 1000000000, 1, 2, 1000000, 50000);
    eq2 = pay(&f, f.gen_txid, 5, 1000000000, 1, 2, 1000000, 1000);
    /* a low-fee parent with a high-fee child */
    parent = pay(&f, f.gen_txid, 8, 1000000000, 2, 0, 500000000, 0);
    utxo_tx_txid(parent, txid);
    child = pay(&f, txid, 0, 500000000, 0, 1, 1000000, 900000);
    ck_assert_int_eq(submit(m, &f, lo, NULL), UTXO_OK);
    ck_assert_int_eq(submit(m, &f, eq1, NULL), UTXO_OK);
    ck_assert_int_eq(submit(m, &f, child, NULL), UTXO_ERR_TX_MISSING); /* parent not yet here */
    ck_assert_int_eq(submit(m, &f, parent, NULL), UTXO_OK);
    ck_assert_int_eq(submit(m, &f, hi, NULL), UTXO_OK);
    ck_assert_int_eq(submit(m, &f, eq2, NULL), UTXO_OK);
    ck_assert_int_eq(submit(m, &f, child, NULL), UTXO_OK);
    ck_assert_int_eq(mp_select(m, 100, &sel, &n, &fees), UTXO_OK);
    ck_assert_uint_eq(n, 6);
    sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += utxo_tx_min_fee(sel[i], &f.p);
    ck_assert_uint_eq(fees, sum + 50000 + 1000 + 1000 + 900000);
    /* the child pays most per byte but follows its parent */
    /* highest rate first; equal rates (eq1, eq2; lo, parent: same sizes and
     * fees) in arrival order; the child, though it pays most, after its parent */
    ck_assert_uint_eq(utxo_tx_get_length(lo, true), utxo_tx_get_length(parent, true));
    ck_assert_int_eq(pos_of(sel, n, hi), 0);
    ck_assert_int_eq(pos_of(sel, n, eq1), 1);
    ck_assert_int_eq(pos_of(sel, n, eq2), 2);
    ck_assert_int_eq(pos_of(sel, n, lo), 3);
    ck_assert_int_eq(pos_of(sel, n, parent), 4);
    ck_assert_int_eq(pos_of(sel, n, child), 5);
    mp_remove_selected(m);
    ck_assert_uint_eq(mp_count(m), 0);
    utxo_tx_free(lo);
    utxo_tx_free(hi);
    utxo_tx_free(eq1);
    utxo_tx_free(eq2);
    utxo_tx_free(parent);
    utxo_tx_free(child);
    mp_free(m);
    fx_free(&f);
}
END_TEST

/* mp_submit_batch gives every transaction the verdict mp_submit one by one
 * gives it, with a rejected predicate in the middle: the ones after it that
 * spend its outputs are missing, one spending what it spent is accepted,
 * conflicts and duplicates as before; the pools end the same. */
START_TEST(mempool_batch_matches_one_by_one)
{
    fixture f;
    mp_pool *one, *all;
    utxo_tx *t[10];
    utxo_verdict v1, vb[10];
    uint8_t ta[32], tbad[32], tchild[32], x1[32], x2[32];
    size_t acc;

    fx_init(&f, NULL);
    ck_assert_int_eq(mp_new(&one, &f.p, bp_chain_find, f.c, 1), UTXO_OK);
    ck_assert_int_eq(mp_new(&all, &f.p, bp_chain_find, f.c, 2), UTXO_OK);
    t[0] = pay(&f, f.gen_txid, 0, 1000000000, 0, 1, 300000000, 0);    /* accepted */
    utxo_tx_txid(t[0], ta);
    t[1] = pay(&f, f.gen_txid, 1, 1000000000, 0, 2, 100000000, 0);    /* predicate rejects */
    t[1]->inputs[0].witness.args[5] ^= 1;
    utxo_tx_txid(t[1], tbad);
    t[2] = pay(&f, tbad, 0, 100000000, 2, 3, 50000000, 0);             /* spends it: missing */
    t[3] = pay(&f, f.gen_txid, 1, 1000000000, 0, 3, 200000000, 0);    /* what it spent: fine */
    t[4] = pay(&f, f.gen_txid, 0, 1000000000, 0, 2, 100000000, 0);    /* conflicts with t[0] */
    t[5] = utxo_tx_clone(t[0]);                                        /* duplicate */
    t[6] = pay(&f, ta, 0, 300000000, 1, 2, 100000000, 0);              /* child of t[0] */
    utxo_tx_txid(t[6], tchild);
    t[7] = utxo_tx_new();                                              /* no inputs */
    ck_assert_int_eq(utxo_tx_add_output(t[7], 5, f.id[0], NULL, 0), UTXO_OK);
    t[8] = pay(&f, tchild, 0, 100000000, 2, 0, 40000000, 0);           /* grandchild */
    t[9] = pay(&f, f.gen_txid, 4, 1000000000, 1, 0, 1000000, 7000);   /* last, accepted */
    static const int want[10] = {UTXO_OK, UTXO_ERR_TX_REJECTED, UTXO_ERR_TX_MISSING, UTXO_OK,
                                 UTXO_ERR_MP_CONFLICT, UTXO_ERR_MP_DUPLICATE, UTXO_OK,
                                 UTXO_ERR_TX_NO_INPUTS, UTXO_OK, UTXO_OK};
    ck_assert_int_eq(mp_submit_batch(all, (const utxo_tx *const *)t, 10,
                                     bp_chain_next_height(f.c), vb, &acc),
                     UTXO_ERR_TX_REJECTED);
    ck_assert_uint_eq(acc, 5);
    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(submit(one, &f, t[i], &v1), want[i]);
        ck_assert_msg(vb[i].err == v1.err && vb[i].tx == v1.tx && vb[i].input == v1.input &&
                          vb[i].fees == v1.fees && vb[i].cycles == v1.cycles &&
                          vb[i].vm.status == v1.vm.status && vb[i].vm.cycles == v1.vm.cycles &&
                          vb[i].vm.fail == v1.vm.fail,
                      "tx %d: batch verdict %d input %u fees %llu cycles %llu, one by one %d "
                      "input %u fees %llu cycles %llu", i, vb[i].err, vb[i].input,
                      (unsigned long long)vb[i].fees, (unsigned long long)vb[i].cycles, v1.err,
                      v1.input, (unsigned long long)v1.fees, (unsigned long long)v1.cycles);
    }
    ck_assert_uint_gt(vb[0].cycles, 0);
    ck_assert_uint_eq(mp_count(all), mp_count(one));
    for (size_t i = 0; i < mp_count(one); i++) {
        ck_assert_ptr_nonnull(mp_tx(one, i, x1));
        ck_assert_ptr_nonnull(mp_tx(all, i, x2));
        ck_assert_mem_eq(x1, x2, 32);
    }
    const utxo_tx *const *s1, *const *s2;
    size_t n1, n2;
    uint64_t f1, f2;
    ck_assert_int_eq(mp_select(one, 100, &s1, &n1, &f1), UTXO_OK);
    ck_assert_int_eq(mp_select(all, 100, &s2, &n2, &f2), UTXO_OK);
    ck_assert_uint_eq(n1, n2);
    ck_assert_uint_eq(f1, f2);
    for (size_t i = 0; i < n1; i++) {
        utxo_tx_txid(s1[i], x1);
        utxo_tx_txid(s2[i], x2);
        ck_assert_mem_eq(x1, x2, 32);
    }
    /* an empty batch, and one of a single rejection */
    ck_assert_int_eq(mp_submit_batch(all, NULL, 0, bp_chain_next_height(f.c), NULL, &acc),
                     UTXO_OK);
    ck_assert_uint_eq(acc, 0);
    utxo_tx *lone = pay(&f, f.gen_txid, 2, 1000000000, 0, 2, 100000000, 0);
    lone->inputs[0].witness.args[9] ^= 1;
    ck_assert_int_eq(mp_submit_batch(all, (const utxo_tx *const *)&lone, 1,
                                     bp_chain_next_height(f.c), vb, &acc),
                     UTXO_ERR_TX_REJECTED);
    ck_assert_uint_eq(acc, 0);
    ck_assert_int_eq(vb[0].vm.status, UTXO_VM_REJECTED);
    ck_assert_uint_eq(mp_count(all), mp_count(one));
    utxo_tx_free(lone);
    for (int i = 0; i < 10; i++)
        utxo_tx_free(t[i]);
    mp_free(one);
    mp_free(all);
    fx_free(&f);
}
END_TEST

START_TEST(mempool_limits)
{
    utxo_params tmpl;
    fixture f;
    mp_pool *m;
    const utxo_tx *const *sel;
    size_t n;
    uint64_t fees;
    utxo_tx *t[4], *big;
    uint8_t txid[32];
    utxo_verdict vd;

    utxo_params_default(&tmpl);
    tmpl.max_block_txs = 3; /* coinbase + 2 */
    fx_init(&f, &tmpl);
    ck_assert_int_eq(mp_new(&m, &f.p, bp_chain_find, f.c, 1), UTXO_OK);
    t[0] = pay(&f, f.gen_txid, 0, 1000000000, 0, 1, 400000000, 0);
    utxo_tx_txid(t[0], txid);
    t[1] = pay(&f, txid, 0, 400000000, 1, 2, 100000000, 0); /* child of t[0] */
    t[2] = pay(&f, f.gen_txid, 4, 1000000000, 1, 2, 100000000, 10);
    t[3] = pay(&f, f.gen_txid, 8, 1000000000, 2, 0, 100000000, 20);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(submit(m, &f, t[i], NULL), UTXO_OK);
    ck_assert_int_eq(mp_select(m, 100, &sel, &n, &fees), UTXO_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(pos_of(sel, n, t[3]), 0); /* highest rate */
    ck_assert_int_eq(pos_of(sel, n, t[2]), 1);
    mp_remove_selected(m);
    ck_assert_uint_eq(mp_count(m), 2);
    /* what is left keeps its order: parent, then child */
    ck_assert_int_eq(mp_select(m, 100, &sel, &n, &fees), UTXO_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(pos_of(sel, n, t[0]), 0);
    ck_assert_int_eq(pos_of(sel, n, t[1]), 1);
    mp_free(m);
    /* cycles: one transaction per block; bytes: a transaction too big for any block */
    f.p.max_block_txs = 100;
    f.p.max_block_cycles = t[2]->inputs[0].witness.budget + 10;
    ck_assert_int_eq(mp_new(&m, &f.p, bp_chain_find, f.c, 1), UTXO_OK);
    ck_assert_int_eq(submit(m, &f, t[2], NULL), UTXO_OK);
    ck_assert_int_eq(submit(m, &f, t[3], NULL), UTXO_OK);
    ck_assert_int_eq(mp_select(m, 100, &sel, &n, &fees), UTXO_OK);
    ck_assert_uint_eq(n, 1);
    mp_free(m);
    f.p.max_block_cycles = UINT64_C(1) << 36;
    big = utxo_tx_clone(t[2]);
    f.p.max_block_bytes = (uint32_t)utxo_tx_get_length(big, true) + UTXO_HEADER_BYTES;
    ck_assert_int_eq(mp_new(&m, &f.p, bp_chain_find, f.c, 1), UTXO_OK);
    ck_assert_int_eq(submit(m, &f, big, &vd), UTXO_ERR_MP_LIMIT);
    mp_free(m);
    utxo_tx_free(big);
    for (int i = 0; i < 4; i++)
        utxo_tx_free(t[i]);
    fx_free(&f);
}
END_TEST


/* The coinbase and the two payments of the block sized in
 * mempool_fills_block_bytes, under max_block_bytes = limit: what mp_select
 * chooses (*n) and what sealing that choice gives. */
static int select_and_seal(const utxo_params *tmpl, uint32_t limit, size_t *n)
{
    utxo_params p = *tmpl;
    fixture f;
    mp_pool *m;
    const utxo_tx *const *sel;
    uint64_t fees;
    utxo_tx *t[2], *cb = utxo_tx_new();
    utxo_block *b = utxo_block_new();
    int rc;

    p.max_block_bytes = limit;
    fx_init(&f, &p);
    ck_assert_int_eq(mp_new(&m, &f.p, bp_chain_find, f.c, 1), UTXO_OK);
    t[0] = pay(&f, f.gen_txid, 0, 1000000000, 0, 1, 400000000, 0);
    t[1] = pay(&f, f.gen_txid, 4, 1000000000, 1, 2, 100000000, 0);
    ck_assert_int_eq(submit(m, &f, t[0], NULL), UTXO_OK);
    ck_assert_int_eq(submit(m, &f, t[1], NULL), UTXO_OK);
    ck_assert_int_eq(utxo_tx_add_output(cb, 0, f.id[0], NULL, 0), UTXO_OK);
    ck_assert_int_eq(mp_select(m, utxo_tx_get_length(cb, true), &sel, n, &fees), UTXO_OK);
    cb->outputs[0].value = fees;
    ck_assert_int_eq(utxo_block_add_tx(b, cb), UTXO_OK);
    for (size_t i = 0; i < *n; i++)
        ck_assert_int_eq(utxo_block_add_tx(b, utxo_tx_clone(sel[i])), UTXO_OK);
    rc = bp_chain_seal(f.c, b, NULL, NULL, NULL);
    utxo_block_free(b);
    utxo_tx_free(t[0]);
    utxo_tx_free(t[1]);
    mp_free(m);
    fx_free(&f);
    return rc;
}

/*
 * A block's bytes as mp_select counts them are the block's encoding: each
 * transaction with its length prefix (2 bytes for a payment of a few
 * hundred), the coinbase too. Counting the bodies alone, it chose both
 * payments under a limit one byte below their block, which the block
 * rules refuse (UTXO_ERR_BLOCK_SIZE); the sequencer then chose the same
 * again at every seal. Now: one byte short, one payment; with the 5 bytes
 * reserved for the count (4 more than this block's), both; each sealed.
 */
START_TEST(mempool_fills_block_bytes)
{
    utxo_params tmpl;
    fixture f;
    utxo_block *b = utxo_block_new();
    utxo_tx *cb = utxo_tx_new();
    uint32_t exact;
    size_t n;

    utxo_params_default(&tmpl);
    fx_init(&f, &tmpl); /* the payments' sizes do not depend on the limit */
    ck_assert_int_eq(utxo_tx_add_output(cb, 0, f.id[0], NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_block_add_tx(b, cb), UTXO_OK);
    ck_assert_int_eq(utxo_block_add_tx(b, pay(&f, f.gen_txid, 0, 1000000000, 0, 1, 400000000, 0)),
                     UTXO_OK);
    ck_assert_int_eq(utxo_block_add_tx(b, pay(&f, f.gen_txid, 4, 1000000000, 1, 2, 100000000, 0)),
                     UTXO_OK);
    ck_assert_uint_ge(utxo_tx_get_length(b->txs[1], true), 128); /* 2-byte prefixes */
    exact = (uint32_t)utxo_block_get_length(b);
    utxo_block_free(b);
    fx_free(&f);
    ck_assert_int_eq(select_and_seal(&tmpl, exact - 1, &n), UTXO_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(select_and_seal(&tmpl, exact + 3, &n), UTXO_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(select_and_seal(&tmpl, exact + 4, &n), UTXO_OK);
    ck_assert_uint_eq(n, 2);
}
END_TEST


/* A payment of wallet 0's first coin made larger than the fixture's
 * genesis block (an output with a 1200-byte datum), signed again. */
static utxo_tx *big_pay(fixture *f)
{
    static const uint8_t datum[1200];
    uint8_t sh[32], sig[64];
    utxo_tx *t = pay(f, f->gen_txid, 0, 1000000000, 0, 1, 400000000, 0);

    ck_assert_int_eq(utxo_tx_add_output(t, 0, f->id[1], datum, sizeof datum), UTXO_OK);
    t->outputs[t->n_outputs - 2].value -= 2000; /* the datum's bytes */
    utxo_tx_sighash(t, f->p.chain_id, sh);
    ck_assert_int_eq(utxo_sign_sighash(sig, sh, f->sk[0]), UTXO_OK);
    ck_assert_int_eq(utxo_tx_set_args(t, 0, sig, 64), UTXO_OK);
    return t;
}

/*
 * A transaction is admitted only if it fits a block beside the coinbase
 * the sequencer makes (one output, no datum; with the 5 bytes reserved for
 * the count). Reserving no coinbase, the pool admitted one that no block
 * could hold: held and never chosen, at no cost to its sender. Now, under a
 * limit one byte short, it is refused (MP_LIMIT); at the limit, it is
 * chosen and sealed.
 */
START_TEST(mempool_admission_leaves_room_for_the_coinbase)
{
    utxo_params tmpl;
    fixture f;
    mp_pool *m;
    const utxo_tx *const *sel;
    utxo_block *b = utxo_block_new();
    utxo_tx *cb = utxo_tx_new(), *t;
    uint64_t fees;
    uint32_t exact;
    size_t n;

    fx_init(&f, NULL); /* the payment's size does not depend on the limits */
    ck_assert_int_eq(utxo_tx_add_output(cb, 0, f.id[0], NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_block_add_tx(b, cb), UTXO_OK);
    ck_assert_int_eq(utxo_block_add_tx(b, big_pay(&f)), UTXO_OK);
    exact = (uint32_t)utxo_block_get_length(b) + 4; /* a 1-byte count, 5 reserved */
    utxo_params_default(&tmpl);
    tmpl.max_tx_bytes = (uint32_t)utxo_tx_get_length(b->txs[1], true);
    utxo_block_free(b);
    fx_free(&f);
    for (uint32_t limit = exact - 1; limit <= exact; limit++) {
        tmpl.max_block_bytes = limit;
        fx_init(&f, &tmpl);
        ck_assert_int_eq(mp_new(&m, &f.p, bp_chain_find, f.c, 1), UTXO_OK);
        t = big_pay(&f);
        if (limit < exact) {
            ck_assert_int_eq(submit(m, &f, t, NULL), UTXO_ERR_MP_LIMIT);
        } else {
            ck_assert_int_eq(submit(m, &f, t, NULL), UTXO_OK);
            cb = utxo_tx_new();
            ck_assert_int_eq(utxo_tx_add_output(cb, 0, f.id[0], NULL, 0), UTXO_OK);
            ck_assert_int_eq(mp_select(m, utxo_tx_get_length(cb, true), &sel, &n, &fees),
                             UTXO_OK);
            ck_assert_uint_eq(n, 1);
            cb->outputs[0].value = fees;
            b = utxo_block_new();
            ck_assert_int_eq(utxo_block_add_tx(b, cb), UTXO_OK);
            ck_assert_int_eq(utxo_block_add_tx(b, utxo_tx_clone(sel[0])), UTXO_OK);
            ck_assert_int_eq(bp_chain_seal(f.c, b, NULL, NULL, NULL), UTXO_OK);
            utxo_block_free(b);
        }
        utxo_tx_free(t);
        mp_free(m);
        fx_free(&f);
    }
}
END_TEST


/* chain_receipts_add on a bundle made without receipts gives the bundle the
 * chain builder makes with bp_chain_set_segments, byte for byte: a coin
 * locked by img is spent with args and budget in a second block. Returns
 * the receipt chains chain_receipts_add added (*segs: their receipts). */
static uint64_t receipts_like_builder(const utxo_params *tmpl, const uint8_t *img, size_t il,
                                      const uint8_t *args, size_t al, uint64_t budget,
                                      unsigned po2, uint64_t *segs)
{
    fixture f, g;
    utxo_block *b1 = NULL, *b2 = NULL;
    utxo_tx *cb, *tx;
    utxo_bundle *with = NULL, *without = NULL;
    uint8_t img_id[32], *e1, *e2, gtx[32];
    size_t l1, l2, w;
    uint64_t runs = 0;

    utxo_predicate_id(img_id, img, il);
    fx_init(&f, tmpl);
    fx_init(&g, tmpl);
    ck_assert_int_eq(bp_chain_set_segments(f.c, po2), UTXO_OK);
    for (int k = 0; k < 2; k++) {
        fixture *x = k ? &g : &f;
        utxo_block *b = utxo_block_new();
        cb = utxo_tx_new();
        ck_assert_int_eq(utxo_block_add_tx(b, cb), UTXO_OK);
        ck_assert_int_eq(utxo_tx_add_output(cb, 0, x->id[0], NULL, 0), UTXO_OK);
        /* block 1: a payment locking a coin behind img */
        tx = pay(x, x->gen_txid, 0, 1000000000, 0, 1, 1000000, 0);
        tx->outputs[0].value = 900000000;
        tx->outputs[1].value -= 899000000;
        memcpy(tx->outputs[0].predicate_id, img_id, 32);
        ck_assert_int_eq(utxo_block_add_tx(b, tx), UTXO_OK);
        ck_assert_int_eq(bp_chain_seal(x->c, b, NULL, NULL, NULL), UTXO_OK);
        utxo_tx_txid(tx, gtx);
        utxo_block_free(b);
        /* block 2: spending it runs the predicate for several segments */
        b = utxo_block_new();
        cb = utxo_tx_new();
        ck_assert_int_eq(utxo_block_add_tx(b, cb), UTXO_OK);
        ck_assert_int_eq(utxo_tx_add_output(cb, 0, x->id[0], NULL, 0), UTXO_OK);
        tx = utxo_tx_new();
        {
            utxo_outpoint op;
            memcpy(op.txid, gtx, 32);
            op.index = 0;
            ck_assert_int_eq(utxo_tx_add_input(tx, &op, budget, img, (uint32_t)il, args,
                                               (uint32_t)al),
                             UTXO_OK);
        }
        ck_assert_int_eq(utxo_tx_add_output(tx, 800000000, x->id[2], NULL, 0), UTXO_OK);
        ck_assert_int_eq(utxo_block_add_tx(b, tx), UTXO_OK);
        ck_assert_int_eq(bp_chain_seal(x->c, b, k ? &without : &with, NULL, NULL), UTXO_OK);
        if (k)
            b2 = b;
        else
            b1 = b;
    }
    ck_assert_int_eq(chain_receipts_add(without, b2, &g.p, po2, &runs, segs), UTXO_OK);
    l1 = utxo_bundle_get_length(with);
    l2 = utxo_bundle_get_length(without);
    ck_assert_uint_eq(l1, l2);
    e1 = malloc(l1);
    e2 = malloc(l2);
    ck_assert_int_eq(utxo_bundle_to_bytes(with, e1, l1, &w), UTXO_OK);
    ck_assert_int_eq(utxo_bundle_to_bytes(without, e2, l2, &w), UTXO_OK);
    ck_assert_mem_eq(e1, e2, l1);
    /* a bundle that has receipts already is refused */
    if (runs > 0)
        ck_assert_int_eq(chain_receipts_add(without, b2, &g.p, po2, NULL, NULL), UTXO_ERR_ARG);
    free(e1);
    free(e2);
    utxo_bundle_free(with);
    utxo_bundle_free(without);
    utxo_block_free(b1);
    utxo_block_free(b2);
    fx_free(&f);
    fx_free(&g);
    return runs;
}

START_TEST(receipts_match_builder)
{
    uint8_t args[24];
    size_t wl;
    const uint8_t *work = gen_work_image(&wl);
    uint64_t segs = 0;
    utxo_vm_result res;

    memset(args, 0, sizeof args);
    args[0] = 60;                          /* rounds */
    args[16] = args[17] = args[18] = args[19] = 0xff; /* accept any checksum */
    ck_assert_int_eq(utxo_predicate_run(&res, work, wl, args, sizeof args, NULL, 1u << 30), UTXO_OK);
    ck_assert_int_eq(res.status, UTXO_VM_ACCEPTED);
    ck_assert_uint_gt(res.cycles, 3u << 16); /* several segments of 2^16 */
    ck_assert_uint_eq(receipts_like_builder(NULL, work, wl, args, sizeof args, res.cycles + 1000, 16,
                                            &segs),
                      1);
    ck_assert_uint_gt(segs, 2);
}
END_TEST

/* ---- chain directory ---------------------------------------------------------- */

static char *tmpdir_new(void)
{
    char *d = strdup("/tmp/test_chain.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(d));
    return d;
}

static void rm_rf(const char *d)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
    ck_assert_int_eq(system(cmd), 0);
}

static uint8_t *slurp(const char *dir, const char *name, size_t *len)
{
    char path[512];
    FILE *f;
    uint8_t *buf;
    long n;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* ---- the mempool journal ------------------------------------------------------ */

typedef struct jcount {
    size_t n;
} jcount;

static int journal_count(void *ud, const utxo_tx *tx)
{
    (void)tx;
    ((jcount *)ud)->n++;
    return UTXO_OK;
}

static void spit(const char *path, const uint8_t *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

/* A crash can spoil the last group of records (written and synced
 * together): the journal is cut at the first record that does not read,
 * and says how much it cut (before: nothing was said). A record that
 * passes its checksum and does not decode fails the open, the file as it
 * was (before: cut there, and the records after it lost unsaid). */
START_TEST(journal_torn_and_damaged)
{
    fixture f;
    char *d = tmpdir_new(), path[512], msg[512];
    chain_journal *j = NULL;
    utxo_tx *t[3];
    uint8_t *whole, *b;
    size_t wl, bl, rec[3], n = 0;
    bool cut = false;
    jcount c = {0};

    fx_init(&f, NULL);
    for (int i = 0; i < 3; i++)
        t[i] = pay(&f, f.gen_txid, (uint32_t)i, 1000000000, 0, 1, 1000, 0);
    snprintf(path, sizeof path, "%s/mempool.journal", d);
    ck_assert_int_eq(chain_journal_open(&j, path, &f.p, journal_count, &c, &n, &cut, msg, sizeof msg),
                     UTXO_OK);
    for (int i = 0; i < 3; i++) {
        uint8_t *r = chain_journal_record(t[i], &rec[i]);
        free(r);
        ck_assert_int_eq(chain_journal_add(j, t[i]), UTXO_OK);
    }
    chain_journal_close(j);
    whole = slurp(d, "mempool.journal", &wl);
    ck_assert_uint_eq(wl, 40 + rec[0] + rec[1] + rec[2]);

    /* all three back */
    c.n = 0;
    ck_assert_int_eq(chain_journal_open(&j, path, &f.p, journal_count, &c, &n, &cut, msg, sizeof msg),
                     UTXO_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert(!cut);
    chain_journal_close(j);

    /* torn: the last record cut short; whole-length with its last byte
     * wrong; or its blocks never written (zeros from its length on): cut,
     * two back */
    for (int k = 0; k < 3; k++) {
        b = malloc(wl);
        memcpy(b, whole, wl);
        bl = wl;
        if (k == 0)
            bl = wl - 5;
        else if (k == 1)
            b[wl - 1] ^= 1;
        else
            memset(b + 40 + rec[0] + rec[1], 0, rec[2]);
        spit(path, b, bl);
        free(b);
        c.n = 0;
        ck_assert_int_eq(
            chain_journal_open(&j, path, &f.p, journal_count, &c, &n, &cut, msg, sizeof msg),
            UTXO_OK);
        ck_assert_uint_eq(n, 2);
        ck_assert_uint_eq(c.n, 2);
        ck_assert(cut);
        chain_journal_close(j);
        free(slurp(d, "mempool.journal", &bl));
        ck_assert_uint_eq(bl, 40 + rec[0] + rec[1]);
    }

    /* the node syncs a group of records at once, so a crash can spoil the
     * middle of the last group with whole records after it (zeros, a bad
     * checksum, a length never written): cut at the first that does not
     * read, and the message says how much went (damage looks the same) */
    static const size_t kept[3] = {1, 0, 1};
    for (int k = 0; k < 3; k++) {
        uint8_t *bad = malloc(wl);
        memcpy(bad, whole, wl);
        if (k == 0)
            bad[40 + rec[0] + 10] ^= 0x40;
        else if (k == 1)
            bad[40 + 3] = 0xff;
        else
            memset(bad + 40 + rec[0], 0, rec[1]);
        spit(path, bad, wl);
        c.n = 0;
        msg[0] = 0;
        ck_assert_int_eq(
            chain_journal_open(&j, path, &f.p, journal_count, &c, &n, &cut, msg, sizeof msg),
            UTXO_OK);
        ck_assert_uint_eq(n, kept[k]);
        ck_assert(cut);
        chain_journal_close(j);
        char want[96];
        snprintf(want, sizeof want, "the last %zu bytes (from byte %zu, after %zu whole records)",
                 wl - 40 - (kept[k] ? rec[0] : 0), 40 + (kept[k] ? rec[0] : 0), kept[k]);
        ck_assert_msg(strstr(msg, want) != NULL, "%s", msg);
        free(slurp(d, "mempool.journal", &bl));
        ck_assert_uint_eq(bl, 40 + (kept[k] ? rec[0] : 0));
        free(bad);
    }

    /* a record that passes its checksum and is no transaction is no crash's
     * doing: refused, the file left as it was */
    {
        uint8_t *bad = malloc(wl);
        uint8_t *r1 = bad + 40 + rec[0];
        uint32_t n1 = (uint32_t)(rec[1] - 4 - 16);
        crypto_generichash_state st;
        memcpy(bad, whole, wl);
        memset(r1 + 4, 0xee, n1); /* not a transaction */
        crypto_generichash_init(&st, (const uint8_t *)"utxo.mpjournal", 14, 16);
        crypto_generichash_update(&st, r1, 4);
        crypto_generichash_update(&st, r1 + 4, n1);
        crypto_generichash_final(&st, r1 + 4 + n1, 16);
        spit(path, bad, wl);
        ck_assert_int_eq(
            chain_journal_open(&j, path, &f.p, journal_count, &c, &n, &cut, msg, sizeof msg),
            UTXO_ERR_FILE_CHECKSUM);
        ck_assert_ptr_null(j);
        ck_assert_msg(strstr(msg, "corrupt mempool journal") != NULL, "%s", msg);
        b = slurp(d, "mempool.journal", &bl);
        ck_assert_uint_eq(bl, wl);
        ck_assert_mem_eq(b, bad, wl);
        free(b);
        free(bad);
    }

    for (int i = 0; i < 3; i++)
        utxo_tx_free(t[i]);
    free(whole);
    fx_free(&f);
    rm_rf(d);
    free(d);
}
END_TEST

START_TEST(chain_dir)
{
    char *d = tmpdir_new(), path[512], msg[1024];
    uint8_t seed[32], back[32];
    chain_alloc a[2];
    utxo_params p, out;
    chain_seq *s;
    chain_block_info info;
    struct stat st;
    uint8_t *b1, *b2;
    size_t l1, l2;

    utxo_params_default(&p);
    memset(seed, 7, sizeof seed);
    memset(a, 0, sizeof a);
    a[0].value = 5000;
    a[0].id[0] = 1;
    a[1].value = UTXO_MAX_MONEY;
    snprintf(path, sizeof path, "%s/c", d);
    ck_assert_int_eq(chain_genesis(path, &p, seed, a, 2, &out, msg, sizeof msg), UTXO_ERR_TX_VALUE);
    ck_assert_ptr_nonnull(strstr(msg, "maximum supply"));
    a[1].value = 7000;
    ck_assert_int_eq(chain_genesis(path, &p, seed, a, 2, &out, msg, sizeof msg), UTXO_OK);
    ck_assert_int_eq(chain_genesis(path, &p, seed, a, 2, &out, msg, sizeof msg), UTXO_ERR_IO);
    ck_assert_ptr_nonnull(strstr(msg, "already holds a chain"));
    snprintf(msg, sizeof msg, "%s/%s", path, CHAIN_KEY_FILE);
    ck_assert_int_eq(stat(msg, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(chain_read_key(path, back, msg, sizeof msg), UTXO_OK);
    ck_assert_mem_eq(back, seed, 32);
    /* a sequencer seals two blocks; reopening re-seals the same bytes */
    ck_assert_int_eq(chain_seq_open(&s, path, NULL, 1, 0, msg, sizeof msg), UTXO_OK);
    ck_assert_uint_eq(chain_seq_next_height(s), 1);
    ck_assert_int_eq(chain_seq_seal(s, p.genesis_time + 5, &info, msg, sizeof msg), UTXO_OK);
    ck_assert_uint_eq(info.height, 1);
    ck_assert_uint_eq(info.n_txs, 1);
    ck_assert_int_eq(chain_seq_seal(s, p.genesis_time + 9, &info, msg, sizeof msg), UTXO_OK);
    ck_assert_int_eq(chain_seq_close(s, true), UTXO_OK);
    b1 = slurp(path, CHAIN_BLOCKS_FILE, &l1);
    ck_assert_int_eq(chain_seq_open(&s, path, NULL, 1, 0, msg, sizeof msg), UTXO_OK);
    ck_assert_uint_eq(chain_seq_next_height(s), 3);
    ck_assert_int_eq(chain_seq_close(s, true), UTXO_OK);
    b2 = slurp(path, CHAIN_BLOCKS_FILE, &l2);
    ck_assert_uint_eq(l1, l2);
    ck_assert_mem_eq(b1, b2, l1);
    /* not committed: the files stay as they were */
    ck_assert_int_eq(chain_seq_open(&s, path, NULL, 1, 0, msg, sizeof msg), UTXO_OK);
    ck_assert_int_eq(chain_seq_seal(s, p.genesis_time + 20, &info, msg, sizeof msg), UTXO_OK);
    ck_assert_int_eq(chain_seq_close(s, false), UTXO_OK);
    free(b2);
    b2 = slurp(path, CHAIN_BLOCKS_FILE, &l2);
    ck_assert_uint_eq(l1, l2);
    /* an edited block (its time) no longer follows: refused with the offset */
    {
        utxo_chainfile *cf;
        utxo_params fp;
        uint8_t *rec;
        size_t rl;
        uint64_t off, last = 0;
        FILE *f;
        snprintf(msg, sizeof msg, "%s/%s", path, CHAIN_BLOCKS_FILE);
        ck_assert_int_eq(utxo_chainfile_open(&cf, msg, UTXO_CHAINFILE_BLOCKS, &fp, NULL), UTXO_OK);
        while (utxo_chainfile_next(cf, &rec, &rl, &off) == UTXO_OK && rec != NULL) {
            last = off;
            free(rec);
        }
        utxo_chainfile_close(cf);
        f = fopen(msg, "r+b");
        ck_assert_ptr_nonnull(f);
        /* record: u32 length, then the header: version 4, height 4, prev 32, time 8 */
        fseek(f, (long)last + 4 + 4 + 4 + 32 + 1, SEEK_SET);
        fputc(0x5a, f);
        fclose(f);
    }
    ck_assert_int_ne(chain_seq_open(&s, path, NULL, 1, 0, msg, sizeof msg), UTXO_OK);
    ck_assert_ptr_nonnull(strstr(msg, "offset"));
    /* a key readable by others is refused */
    snprintf(msg, sizeof msg, "%s/%s", path, CHAIN_KEY_FILE);
    ck_assert_int_eq(chmod(msg, 0644), 0);
    ck_assert_int_eq(chain_seq_open(&s, path, NULL, 1, 0, msg, sizeof msg), UTXO_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(msg, "chmod 600"));
    free(b1);
    free(b2);
    rm_rf(d);
    free(d);
}
END_TEST

/* An image of one segment at 0x20000 holding code (n words). */
static size_t code_image(uint8_t *img, size_t cap, const uint32_t *code, size_t n)
{
    size_t len = 18 + 4 * n;
    ck_assert_uint_le(len, cap);
    memcpy(img, "UTXP\x01\x01", 6);
    for (int i = 0; i < 4; i++) {
        img[6 + i] = (uint8_t)(0x20000u >> (8 * i));
        img[10 + i] = (uint8_t)(0x20000u >> (8 * i));
        img[14 + i] = (uint8_t)((uint32_t)(4 * n) >> (8 * i));
    }
    for (size_t k = 0; k < n; k++)
        for (int i = 0; i < 4; i++)
            img[18 + 4 * k + (size_t)i] = (uint8_t)(code[k] >> (8 * i));
    ck_assert_int_eq(utxo_image_validate(img, len, NULL), UTXO_OK);
    return len;
}

/* A chain directory whose genesis locks a coin behind img; a sequencer
 * proving at 2^po2 seals the spend of it (budget), and the files verify. */
static void seal_spend_and_verify(const uint8_t *img, size_t il, uint64_t budget, unsigned po2)
{
    char *d = tmpdir_new(), path[512], bpath[600], ppath[600], msg[1024];
    uint8_t seed[32];
    chain_alloc a;
    utxo_params p, out;
    chain_seq *s;
    chain_block_info info;
    utxo_chainfile *cf;
    utxo_validator *v;
    utxo_pipe_result pr;
    utxo_block *g;
    utxo_tx *tx;
    utxo_outpoint op;
    uint8_t *rec;
    size_t rl;

    utxo_params_default(&p);
    memset(seed, 9, sizeof seed);
    memset(&a, 0, sizeof a);
    utxo_predicate_id(a.id, img, il);
    a.value = 1000000000;
    snprintf(path, sizeof path, "%s/c", d);
    snprintf(bpath, sizeof bpath, "%s/%s", path, CHAIN_BLOCKS_FILE);
    snprintf(ppath, sizeof ppath, "%s/%s", path, CHAIN_PROOFS_FILE);
    ck_assert_int_eq(chain_genesis(path, &p, seed, &a, 1, &out, msg, sizeof msg), UTXO_OK);
    ck_assert_int_eq(utxo_chainfile_open(&cf, bpath, UTXO_CHAINFILE_BLOCKS, &out, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_chainfile_next(cf, &rec, &rl, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_block_from_bytes(&g, rec, rl, &out, NULL), UTXO_OK);
    utxo_tx_txid(g->txs[0], op.txid);
    op.index = 0;
    free(rec);
    utxo_block_free(g);
    utxo_chainfile_close(cf);
    tx = utxo_tx_new();
    ck_assert_int_eq(utxo_tx_add_input(tx, &op, budget, img, (uint32_t)il, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_tx_add_output(tx, a.value - 10000000, a.id, NULL, 0), UTXO_OK);
    ck_assert_int_eq(chain_seq_open(&s, path, NULL, 1, po2, msg, sizeof msg), UTXO_OK);
    ck_assert_int_eq(chain_seq_submit(s, tx, NULL), UTXO_OK);
    ck_assert_msg(chain_seq_seal(s, out.genesis_time + 5, &info, msg, sizeof msg) == UTXO_OK,
                  "seal: %s", msg);
    ck_assert_uint_eq(info.n_txs, 2);
    ck_assert_int_eq(chain_seq_close(s, true), UTXO_OK);
    v = utxo_validator_new(&out, 1);
    ck_assert_int_eq(utxo_verify_files(v, bpath, ppath, NULL, &pr), UTXO_OK);
    ck_assert_uint_eq(pr.applied, 2);
    utxo_validator_free(v);
    utxo_tx_free(tx);
    rm_rf(d);
    free(d);
}

/* A valid spend whose run has a host call larger than a segment cannot be
 * cut into segments of that size: its bundle carries no receipts and
 * validators run it directly. chain_receipts_add failed instead
 * (UTXO_ERR_SEG_HOSTCALL), so a sequencer proving at 2^po2 (utxo sequence,
 * the node: 2^18) stopped sealing for good on the first block holding such
 * a transaction, which its mempool had accepted, and utxo prove --segments
 * failed on a valid chain; the chain builder kept the receipts proven
 * before that call, a chain that does not end the run. Here: about 4,500
 * cycles (four segments of 2^10), then one BLAKE2b of 2,040 bytes (about
 * 1,900 cycles), accept. */
START_TEST(receipts_host_call_larger_than_segment)
{
    const uint32_t code[] = {ADDI(T0, ZERO, 1500), ADDI(T0, T0, -1), BNE(T0, ZERO, -4),
                             LUI(A0, 0x20), ADDI(A1, ZERO, 2040), LUI(A2, 0x30),
                             ADDI(A7, ZERO, UTXO_HC_BLAKE2B), ECALL(), ADDI(A0, ZERO, 0),
                             ADDI(A7, ZERO, UTXO_HC_HALT), ECALL()};
    uint8_t img[256];
    size_t il = code_image(img, sizeof img, code, sizeof code / 4);
    uint64_t segs = 7;
    utxo_vm_result res;

    ck_assert_int_eq(utxo_predicate_run(&res, img, il, NULL, 0, NULL, 20000), UTXO_OK);
    ck_assert_int_eq(res.status, UTXO_VM_ACCEPTED);
    ck_assert_uint_gt(res.cycles, 4u << 10);
    /* the builder and chain_receipts_add agree: no receipts at all */
    ck_assert_uint_eq(receipts_like_builder(NULL, img, il, NULL, 0, 20000, 10, &segs), 0);
    ck_assert_uint_eq(segs, 0);
    seal_spend_and_verify(img, il, 20000, 10);
}
END_TEST

/* Receipts that would make the bundle larger than UTXO_BUNDLE_MAX_BYTES
 * are not made: the input is run directly. A run that touches 340 pages,
 * then reads one word of each in a loop, has a 340 KiB witness in every
 * segment of 2^10 cycles: 900 sweeps are about 300 MB of receipts, held in
 * memory, and then a bundle the proof file refuses, so the sequencer
 * stopped sealing for good ("writing block 1: invalid argument"). */
START_TEST(receipts_larger_than_a_bundle)
{
    const uint32_t code[] = {
        LUI(S0, 0x10000), LUI(T0, 0x55), ADD(S1, S0, T0), /* s1 = s0 + 340 KiB */
        ADDI(T1, ZERO, 1024), ADDI(T0, S0, 0),
        SW(T0, T0, 0), ADD(T0, T0, T1), BNE(T0, S1, -8),      /* touch 340 pages */
        ADDI(S2, ZERO, 900),
        ADDI(T0, S0, 0), LW(T2, T0, 0), ADD(T0, T0, T1), BNE(T0, S1, -8), /* sweep */
        ADDI(S2, S2, -1), BNE(S2, ZERO, -20),
        ADDI(A0, ZERO, 0), ADDI(A7, ZERO, UTXO_HC_HALT), ECALL()};
    uint8_t img[256];
    size_t il = code_image(img, sizeof img, code, sizeof code / 4);
    utxo_vm_result res;

    ck_assert_int_eq(utxo_predicate_run(&res, img, il, NULL, 0, NULL, 2000000), UTXO_OK);
    ck_assert_int_eq(res.status, UTXO_VM_ACCEPTED);
    ck_assert_uint_gt(res.cycles, 900u * 1020);
    seal_spend_and_verify(img, il, 2000000, 10);
}
END_TEST

/* Receipts carry at most UTXO_SEG_MAX_ARGS (1 MiB) of arguments, and a
 * chain's parameters may allow more: such an input gets no receipts (the
 * prover refuses it with UTXO_ERR_TOO_LARGE, which made the chain builder
 * and chain_receipts_add fail on a valid block). */
START_TEST(receipts_args_larger_than_a_receipt_takes)
{
    utxo_params p;
    size_t wl, al = UTXO_SEG_MAX_ARGS + 4;
    const uint8_t *work = gen_work_image(&wl);
    uint8_t *args = calloc(al, 1);
    uint64_t segs = 7;
    utxo_vm_result res;

    utxo_params_default(&p);
    p.max_args_bytes = 2u << 20;
    p.max_tx_bytes = 4u << 20;
    args[0] = 30;                          /* rounds */
    args[16] = args[17] = args[18] = args[19] = 0xff; /* accept any checksum */
    ck_assert_int_eq(utxo_predicate_run(&res, work, wl, args, al, NULL, 1u << 30), UTXO_OK);
    ck_assert_int_eq(res.status, UTXO_VM_ACCEPTED);
    ck_assert_uint_gt(res.cycles, 4u << 10);
    ck_assert_uint_eq(receipts_like_builder(&p, work, wl, args, al, res.cycles + 1000, 10, &segs),
                      0);
    ck_assert_uint_eq(segs, 0);
    free(args);
}
END_TEST

/* ---- the generator ---------------------------------------------------------------- */

static void small_opts(gen_opts *o, uint64_t seed)
{
    gen_opts_default(o);
    o->seed = seed;
    o->blocks = 16;
    o->tx_per_block = 14;
    o->n_wallets = 12;
    o->long_every = 5;
    o->long_rounds = 120;
    o->po2 = 16;
    o->threads = 1;
}

START_TEST(gen_same_seed_same_bytes)
{
    static const char *const files[] = {CHAIN_BLOCKS_FILE, CHAIN_PROOFS_FILE, CHAIN_KEY_FILE,
                                        CHAIN_INVALID_FILE};
    char *d = tmpdir_new(), a[512], b[512], c[512], msg[256];
    gen_opts o;
    gen_stats sa, sb, sc;
    crypto_generichash_state files_st;
    uint8_t files_sum[32];

    snprintf(a, sizeof a, "%s/a", d);
    snprintf(b, sizeof b, "%s/b", d);
    snprintf(c, sizeof c, "%s/c", d);
    small_opts(&o, 5);
    ck_assert_int_eq(gen_run(a, &o, &sa, NULL, NULL, msg, sizeof msg), UTXO_OK);
    o.threads = 2; /* threads do not change the bytes */
    ck_assert_int_eq(gen_run(b, &o, &sb, NULL, NULL, msg, sizeof msg), UTXO_OK);
    small_opts(&o, 6);
    ck_assert_int_eq(gen_run(c, &o, &sc, NULL, NULL, msg, sizeof msg), UTXO_OK);
    ck_assert_mem_eq(sa.tip, sb.tip, 32);
    ck_assert_mem_ne(sa.tip, sc.tip, 32);
    crypto_generichash_init(&files_st, NULL, 0, sizeof files_sum);
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        size_t la, lb, lc;
        uint8_t *fa = slurp(a, files[k], &la), *fb = slurp(b, files[k], &lb),
                *fc = slurp(c, files[k], &lc);
        ck_assert_uint_eq(la, lb);
        ck_assert_mem_eq(fa, fb, la);
        ck_assert(la != lc || memcmp(fa, fc, la) != 0);
        crypto_generichash_update(&files_st, fa, la);
        free(fa);
        free(fb);
        free(fc);
    }
    /* and the same bytes on every machine and compiler: pinned (an argument
     * list drawing twice from the generator once gave other blocks with
     * clang and on s390x, as C leaves the order of the draws unspecified) */
    crypto_generichash_final(&files_st, files_sum, sizeof files_sum);
    ck_assert_hex_eq(sa.tip, 32, "6da069455de01334256e31b2c8b95f3e2100922a54a5e89b3a1fc719e4009a9e");
    ck_assert_hex_eq(files_sum, 32, "e5a07f6d92f96690979ca8beabadf5149ad348be8a0bbf215f434d95b8954e0d");
    /* content: every kind of input, chains in blocks, long runs in segments */
    ck_assert_uint_eq(sa.blocks, 16);
    for (unsigned k = 0; k < GEN_KINDS; k++)
        ck_assert_msg(sa.by_kind[k] > 0, "no input of kind %s", gen_kind_name(k));
    ck_assert_uint_gt(sa.same_block, 0);
    ck_assert_uint_gt(sa.long_runs, 0);
    ck_assert_uint_gt(sa.segments, sa.long_runs); /* more than one segment each */
    ck_assert_uint_ge(sa.invalid, 15);
    /* an existing chain is not overwritten */
    ck_assert_int_ne(gen_run(a, &o, &sc, NULL, NULL, msg, sizeof msg), UTXO_OK);
    rm_rf(d);
    free(d);
}
END_TEST

START_TEST(gen_invalid_rejected)
{
    char *d = tmpdir_new(), a[512], msg[1024], *line = NULL;
    gen_opts o;
    gen_stats st;
    chain_seq *s;
    FILE *f;
    size_t cap = 0;
    unsigned n = 0, rejected = 0;

    snprintf(a, sizeof a, "%s/a", d);
    small_opts(&o, 9);
    ck_assert_int_eq(gen_run(a, &o, &st, NULL, NULL, msg, sizeof msg), UTXO_OK);
    ck_assert_int_eq(chain_seq_open(&s, a, NULL, 1, o.po2, msg, sizeof msg), UTXO_OK);
    snprintf(msg, sizeof msg, "%s/%s", a, CHAIN_INVALID_FILE);
    f = fopen(msg, "r");
    ck_assert_ptr_nonnull(f);
    while (getline(&line, &cap, f) > 0) {
        char *code, *hex;
        uint8_t *bin;
        size_t bl, got = 0;
        utxo_tx *tx = NULL;
        int rc;
        if (line[0] == '#')
            continue;
        code = strtok(line, " ");
        hex = strtok(NULL, " ");
        ck_assert_ptr_nonnull(hex);
        bl = strlen(hex) / 2;
        bin = malloc(bl);
        ck_assert_int_eq(sodium_hex2bin(bin, bl, hex, strlen(hex), NULL, &got, NULL), 0);
        rc = utxo_tx_from_bytes(&tx, bin, got, chain_seq_params(s), NULL);
        if (rc == UTXO_OK)
            rc = chain_seq_submit(s, tx, NULL);
        ck_assert_int_eq(rc, atoi(code));
        rejected += rc != UTXO_OK;
        n++;
        utxo_tx_free(tx);
        free(bin);
    }
    fclose(f);
    free(line);
    ck_assert_uint_eq(rejected, st.invalid);
    ck_assert_uint_eq(n, st.invalid + 1);
    ck_assert_int_eq(chain_seq_close(s, false), UTXO_OK);
    rm_rf(d);
    free(d);
}
END_TEST

/* A live sequencer (the node) reopens a chain whose proof file holds a
 * record over 64 KiB, the size from which records are read through the
 * bundle check (utxo_bundle_check_prefix): it was given no parameters and
 * refused every such record (UTXO_ERR_ARG), so the node could not start on
 * a chain with long runs in big segment receipts. The check itself passes
 * every prefix of these records. */
START_TEST(live_reopen_big_bundles)
{
    char *d = tmpdir_new(), a[512], p[600], msg[1024];
    gen_opts o;
    gen_stats st;
    chain_seq *s = NULL;
    utxo_chainfile *f;
    utxo_params fp;
    uint8_t *rec = NULL;
    size_t len = 0, eo = 0, biggest = 0;
    uint32_t cut = 9;

    snprintf(a, sizeof a, "%s/a", d);
    small_opts(&o, 4);
    o.blocks = 7;
    o.long_every = 3;
    o.long_rounds = 2000;
    ck_assert_int_eq(gen_run(a, &o, &st, NULL, NULL, msg, sizeof msg), UTXO_OK);
    snprintf(p, sizeof p, "%s/%s", a, CHAIN_PROOFS_FILE);
    ck_assert_int_eq(utxo_chainfile_open(&f, p, UTXO_CHAINFILE_PROOFS, &fp, &eo), UTXO_OK);
    while (utxo_chainfile_next(f, &rec, &len, NULL) == UTXO_OK && rec != NULL) {
        biggest = len > biggest ? len : biggest;
        /* the record check passes every prefix of a good record, cut
         * anywhere: in its proof, its entries, its receipts */
        for (size_t have = 0; have < len; have += have < 4096 ? 1 : 997)
            ck_assert_int_eq(utxo_bundle_check_prefix(rec, have, len, &fp), UTXO_OK);
        free(rec);
    }
    ck_assert_int_eq(utxo_chainfile_close(f), UTXO_OK);
    ck_assert_uint_gt(biggest, (size_t)64 << 10);
    ck_assert_msg(chain_seq_open_live(&s, a, NULL, 1, o.po2, &cut, msg, sizeof msg) == UTXO_OK,
                  "%s", msg);
    ck_assert_uint_eq(cut, 0);
    ck_assert_uint_eq(chain_seq_next_height(s), 7);
    ck_assert_int_eq(chain_seq_close(s, true), UTXO_OK);
    rm_rf(d);
    free(d);
}
END_TEST

START_TEST(work_image_embedded)
{
    FILE *f = fopen(SRCDIR "/tests/segments/work.img", "rb");
    uint8_t buf[1 << 16];
    size_t n, len;
    const uint8_t *img = gen_work_image(&len);

    ck_assert_ptr_nonnull(f);
    n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    ck_assert_uint_eq(n, len);
    ck_assert_mem_eq(buf, img, len);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("chain");
    TCase *tc = tcase_create("chain");
    SRunner *r;
    int failed;

    if (sodium_init() < 0)
        return 1;
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, mempool_rules);
    tcase_add_test(tc, mempool_reference_rules);
    tcase_add_test(tc, mempool_order);
    tcase_add_test(tc, mempool_batch_matches_one_by_one);
    tcase_add_test(tc, mempool_limits);
    tcase_add_test(tc, mempool_fills_block_bytes);
    tcase_add_test(tc, mempool_admission_leaves_room_for_the_coinbase);
    tcase_add_test(tc, receipts_match_builder);
    tcase_add_test(tc, receipts_host_call_larger_than_segment);
    tcase_add_test(tc, receipts_larger_than_a_bundle);
    tcase_add_test(tc, receipts_args_larger_than_a_receipt_takes);
    tcase_add_test(tc, chain_dir);
    tcase_add_test(tc, mempool_policies);
    tcase_add_test(tc, mempool_full_evicts_lower_rates);
    tcase_add_test(tc, mempool_eviction_pays_for_what_it_evicts);
    tcase_add_test(tc, mempool_small_outbids_large);
    tcase_add_test(tc, mempool_full_batch_matches_one_by_one);
    tcase_add_loop_test(tc, mempool_random_traffic, 0, 4);
    tcase_add_test(tc, mempool_bundle_room);
    tcase_add_test(tc, many_expired_dropped_at_once);
    tcase_add_test(tc, held_transactions_judged_again_at_a_new_height);
    tcase_add_test(tc, journal_torn_and_damaged);
    tcase_add_test(tc, gen_same_seed_same_bytes);
    tcase_add_test(tc, gen_invalid_rejected);
    tcase_add_test(tc, live_reopen_big_bundles);
    tcase_add_test(tc, work_image_embedded);
    suite_add_tcase(s, tc);
    r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
