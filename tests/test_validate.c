/*
 * test_validate.c — contextual validation (src/utxo/validate.c): a
 * transaction or block checked against the outputs it spends, with real
 * pay-to-pubkey predicates run in the VM on a thread pool. Covers predicate
 * id mismatch, value and fee rules, overflow of spent values, a rejected
 * signature reported at the right (tx, input) whatever the thread timing,
 * coinbase pay-out limits, and the parallel pool itself.
 */
#include "config.h"

#include <sodium.h>
#include <stdatomic.h>
#include <unistd.h>
#include "testutil.h"
#include "utxo/pool.h"
#include "predicates/stdpred.h"

#define BUDGET 100000u

typedef struct wallet {
    uint8_t pk[32], sk[64];
    uint8_t *img;
    size_t img_len;
    uint8_t id[32];
} wallet;

static void wallet_init(wallet *w, uint8_t seed_byte)
{
    uint8_t seed[32];

    memset(seed, seed_byte, sizeof seed);
    crypto_sign_seed_keypair(w->pk, w->sk, seed);
    ck_assert_int_eq(stdpred_instance(UTXO_STD_P2PK, w->pk, 32, &w->img, &w->img_len), UTXO_OK);
    utxo_predicate_id(w->id, w->img, w->img_len);
}

static void wallet_free(wallet *w)
{
    free(w->img);
}

/* A tx spending n outputs of `from` (values vals) and paying pay_value to
 * `to`, signed by `from`; spent[] receives the outputs it spends. */
static utxo_tx *pay(const utxo_params *p, const wallet *from, const wallet *to, uint32_t n,
                    const uint64_t *vals, uint64_t pay_value, utxo_output *spent, uint8_t tag)
{
    utxo_tx *tx = utxo_tx_new();
    uint8_t sh[32], sig[64];

    for (uint32_t i = 0; i < n; i++) {
        utxo_outpoint op;
        memset(op.txid, tag, 32);
        op.index = i;
        ck_assert_int_eq(utxo_tx_add_input(tx, &op, BUDGET, from->img, (uint32_t)from->img_len,
                                           NULL, 0), UTXO_OK);
        memset(&spent[i], 0, sizeof spent[i]);
        spent[i].value = vals[i];
        memcpy(spent[i].predicate_id, from->id, 32);
    }
    ck_assert_int_eq(utxo_tx_add_output(tx, pay_value, to->id, NULL, 0), UTXO_OK);
    utxo_tx_sighash(tx, p->chain_id, sh);
    crypto_sign_detached(sig, NULL, sh, 32, from->sk);
    for (uint32_t i = 0; i < n; i++)
        ck_assert_int_eq(utxo_tx_set_witness(tx, i, BUDGET, from->img, (uint32_t)from->img_len,
                                             sig, 64), UTXO_OK);
    return tx;
}

static uint64_t fee_of(const utxo_params *p, const utxo_tx *tx)
{
    return utxo_tx_min_fee(tx, p);
}

START_TEST(tx_valid_and_fee)
{
    utxo_params p;
    wallet a, b;
    utxo_output spent[2];
    uint64_t vals[2] = {600000, 400000};
    utxo_verdict vd;
    utxo_verifier *v;
    utxo_tx *tx;

    utxo_params_default(&p);
    wallet_init(&a, 1);
    wallet_init(&b, 2);
    v = utxo_verifier_new(&p, 2);
    ck_assert_ptr_nonnull(v);
    tx = pay(&p, &a, &b, 2, vals, 900000, spent, 7);
    ck_assert_int_eq(utxo_verifier_tx(v, tx, spent, 5, &vd), UTXO_OK);
    ck_assert_uint_eq(vd.fees, 100000);
    ck_assert_uint_gt(vd.cycles, 2 * 10000);
    ck_assert_uint_ge(vd.fees, fee_of(&p, tx));
    /* paying out more than comes in */
    tx->outputs[0].value = 1000001;
    ck_assert_int_eq(utxo_verifier_tx(v, tx, spent, 5, &vd), UTXO_ERR_TX_FEE);
    /* a fee one unit below the minimum */
    tx->outputs[0].value = 1000000 - fee_of(&p, tx) + 1;
    ck_assert_int_eq(utxo_verifier_tx(v, tx, spent, 5, &vd), UTXO_ERR_TX_FEE);
    utxo_tx_free(tx);
    utxo_verifier_free(v);
    wallet_free(&a);
    wallet_free(&b);
}
END_TEST

START_TEST(tx_predicate_id_and_signature)
{
    utxo_params p;
    wallet a, b;
    utxo_output spent[3];
    uint64_t vals[3] = {500000, 500000, 500000};
    utxo_verdict vd;
    utxo_verifier *v;
    utxo_tx *tx;

    utxo_params_default(&p);
    wallet_init(&a, 3);
    wallet_init(&b, 4);
    v = utxo_verifier_new(&p, 2);
    tx = pay(&p, &a, &b, 3, vals, 1000000, spent, 8);
    ck_assert_int_eq(utxo_verifier_tx(v, tx, spent, 1, &vd), UTXO_OK);
    /* the output really belongs to b: a's image does not hash to it */
    memcpy(spent[1].predicate_id, b.id, 32);
    ck_assert_int_eq(utxo_verifier_tx(v, tx, spent, 1, &vd), UTXO_ERR_TX_PREDICATE_ID);
    ck_assert_uint_eq(vd.input, 1);
    memcpy(spent[1].predicate_id, a.id, 32);
    /* a bad signature on input 2 only: rejected, at input 2, with the VM's word */
    tx->inputs[2].witness.args[5] ^= 1;
    ck_assert_int_eq(utxo_verifier_tx(v, tx, spent, 1, &vd), UTXO_ERR_TX_REJECTED);
    ck_assert_uint_eq(vd.input, 2);
    ck_assert_int_eq(vd.vm.status, UTXO_VM_REJECTED);
    ck_assert_uint_eq(vd.vm.exit_code, 2);
    /* bad on inputs 1 and 2: the first is reported, every time */
    tx->inputs[1].witness.args[5] ^= 1;
    for (int k = 0; k < 20; k++) {
        ck_assert_int_eq(utxo_verifier_tx(v, tx, spent, 1, &vd), UTXO_ERR_TX_REJECTED);
        ck_assert_uint_eq(vd.input, 1);
    }
    /* a budget too small for the signature check */
    tx->inputs[1].witness.args[5] ^= 1;
    tx->inputs[2].witness.args[5] ^= 1;
    tx->inputs[0].witness.budget = 500;
    ck_assert_int_eq(utxo_verifier_tx(v, tx, spent, 1, &vd), UTXO_ERR_TX_REJECTED);
    ck_assert_int_eq(vd.vm.fail, UTXO_VM_FAIL_OUT_OF_CYCLES);
    ck_assert_uint_eq(vd.vm.cycles, 500);
    utxo_tx_free(tx);
    utxo_verifier_free(v);
    wallet_free(&a);
    wallet_free(&b);
}
END_TEST

/* An input whose image (matching the spent output's id) does not decode:
 * rejected, and the verdict says why (run_err), not an all-zero run that
 * would read "failed: none". */
START_TEST(tx_image_does_not_decode)
{
    static const uint8_t garbage[] = "UTXP\x01\x00 this is not an image";
    utxo_params p;
    wallet a, b;
    utxo_output spent[1];
    uint64_t vals[1] = {500000};
    utxo_verdict vd;
    utxo_verifier *v;
    utxo_tx *tx;

    utxo_params_default(&p);
    wallet_init(&a, 5);
    wallet_init(&b, 6);
    v = utxo_verifier_new(&p, 2);
    tx = pay(&p, &a, &b, 1, vals, 400000, spent, 9);
    ck_assert_int_eq(utxo_verifier_tx(v, tx, spent, 1, &vd), UTXO_OK);
    ck_assert_int_eq(vd.run_err, UTXO_OK);
    ck_assert_int_eq(utxo_tx_set_witness(tx, 0, BUDGET, garbage, sizeof garbage - 1, NULL, 0),
                     UTXO_OK);
    utxo_predicate_id(spent[0].predicate_id, garbage, sizeof garbage - 1);
    ck_assert_int_eq(utxo_verifier_tx(v, tx, spent, 1, &vd), UTXO_ERR_TX_REJECTED);
    ck_assert_uint_eq(vd.input, 0);
    ck_assert_int_eq(vd.run_err, UTXO_ERR_IMAGE); /* segment count 0 */
    ck_assert_uint_eq(vd.vm.cycles, 0);
    utxo_tx_free(tx);
    utxo_verifier_free(v);
    wallet_free(&a);
    wallet_free(&b);
}
END_TEST

/* The cycle budget is witness data: neither the txid nor the sighash
 * commits to it, so a relayer can change it (docs/ENCODING.md, "What the
 * budget may change"). Whatever it is changed to, the spend either does
 * exactly what it did (same txid, same outcome, same cycles) or fails:
 * out of cycles, or a fee below the minimum for the larger budget. No
 * host call tells a predicate its budget, so nothing else can differ. */
START_TEST(tx_budget_changes_only_make_it_fail)
{
    utxo_params p;
    wallet a, b;
    utxo_output spent[1];
    uint64_t vals[1] = {500000}, used, budgets[8];
    uint8_t txid0[32], txid1[32];
    utxo_verdict vd;
    utxo_verifier *v;
    utxo_tx *tx;
    int bad_sig;

    utxo_params_default(&p);
    wallet_init(&a, 7);
    wallet_init(&b, 8);
    v = utxo_verifier_new(&p, 2);
    for (bad_sig = 0; bad_sig < 2; bad_sig++) {
        tx = pay(&p, &a, &b, 1, vals, 400000, spent, 10);
        if (bad_sig)
            tx->inputs[0].witness.args[5] ^= 1;
        utxo_tx_txid(tx, txid0);
        ck_assert_int_eq(utxo_verifier_tx(v, tx, spent, 1, &vd),
                         bad_sig ? UTXO_ERR_TX_REJECTED : UTXO_OK);
        used = bad_sig ? vd.vm.cycles : vd.cycles;
        budgets[0] = used;
        budgets[1] = used + 1;
        budgets[2] = used - 1;
        budgets[3] = 1;
        budgets[4] = 2 * BUDGET;
        budgets[5] = p.max_tx_cycles; /* the fee no longer covers it */
        budgets[6] = 0;
        budgets[7] = BUDGET;
        for (size_t k = 0; k < sizeof budgets / sizeof budgets[0]; k++) {
            int rc;
            tx->inputs[0].witness.budget = budgets[k];
            utxo_tx_txid(tx, txid1);
            ck_assert_mem_eq(txid0, txid1, 32); /* not committed */
            rc = utxo_verifier_tx(v, tx, spent, 1, &vd);
            if (rc == UTXO_ERR_TX_FEE || rc == UTXO_ERR_TX_WITNESS)
                continue; /* refused before running (fee; a budget of 0) */
            ck_assert_int_eq(rc, budgets[k] < used || bad_sig ? UTXO_ERR_TX_REJECTED : UTXO_OK);
            if (budgets[k] < used) {
                ck_assert_int_eq(vd.vm.status, UTXO_VM_FAILED);
                ck_assert_int_eq(vd.vm.fail, UTXO_VM_FAIL_OUT_OF_CYCLES);
            } else if (bad_sig) { /* the same rejection, never an acceptance */
                ck_assert_int_eq(vd.vm.status, UTXO_VM_REJECTED);
                ck_assert_uint_eq(vd.vm.cycles, used);
            } else {
                ck_assert_uint_eq(vd.cycles, used);
            }
        }
        ck_assert_int_eq(utxo_verifier_tx(v, tx, spent, 1, &vd),
                         bad_sig ? UTXO_ERR_TX_REJECTED : UTXO_OK);
        utxo_tx_free(tx);
    }
    utxo_verifier_free(v);
    wallet_free(&a);
    wallet_free(&b);
}
END_TEST

START_TEST(tx_spent_value_overflow)
{
    utxo_params p;
    wallet a, b;
    utxo_output spent[2];
    uint64_t vals[2] = {UTXO_MAX_MONEY, 1};
    utxo_verdict vd;
    utxo_verifier *v;
    utxo_tx *tx;

    utxo_params_default(&p);
    wallet_init(&a, 5);
    wallet_init(&b, 6);
    v = utxo_verifier_new(&p, 1);
    tx = pay(&p, &a, &b, 2, vals, 10, spent, 9);
    ck_assert_int_eq(utxo_verifier_tx(v, tx, spent, 1, &vd), UTXO_ERR_TX_VALUE);
    ck_assert_uint_eq(vd.input, 1);
    spent[1].value = UINT64_MAX;
    spent[0].value = 5;
    ck_assert_int_eq(utxo_verifier_tx(v, tx, spent, 1, &vd), UTXO_ERR_TX_VALUE);
    /* a lone coinbase is not a spend */
    utxo_tx *cb = utxo_tx_new();
    ck_assert_int_eq(utxo_tx_add_output(cb, 1, a.id, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_verifier_tx(v, cb, spent, 1, &vd), UTXO_ERR_BLOCK_COINBASE);
    utxo_tx_free(cb);
    utxo_tx_free(tx);
    utxo_verifier_free(v);
    wallet_free(&a);
    wallet_free(&b);
}
END_TEST

/* A block of `ntx` payments (3 inputs each) plus a coinbase. */
START_TEST(block_parallel_verdicts)
{
    enum { NTX = 12 };
    utxo_params p;
    wallet a, b;
    utxo_output spent[NTX + 1][3];
    const utxo_output *sp[NTX + 1];
    uint64_t vals[3] = {400000, 300000, 300000}, fees = 0;
    utxo_verdict vd;
    utxo_verifier *v;
    utxo_block *blk = utxo_block_new();
    utxo_tx *cb = utxo_tx_new();

    utxo_params_default(&p);
    wallet_init(&a, 7);
    wallet_init(&b, 8);
    v = utxo_verifier_new(&p, 2);
    blk->header.height = 3;
    cb->coinbase_height = 3;
    ck_assert_int_eq(utxo_tx_add_output(cb, 0, a.id, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_block_add_tx(blk, cb), UTXO_OK);
    sp[0] = NULL;
    for (int t = 1; t <= NTX; t++) {
        utxo_tx *tx = pay(&p, &a, &b, 3, vals, 990000, spent[t], (uint8_t)(20 + t));
        ck_assert_int_eq(utxo_block_add_tx(blk, tx), UTXO_OK);
        sp[t] = spent[t];
        fees += 10000;
    }
    /* the coinbase may take exactly the fees */
    cb->outputs[0].value = fees;
    utxo_block_tx_root(blk, blk->header.tx_root);
    ck_assert_int_eq(utxo_verifier_block(v, blk, sp, &vd), UTXO_OK);
    ck_assert_uint_eq(vd.fees, fees);
    cb->outputs[0].value = fees + 1;
    utxo_block_tx_root(blk, blk->header.tx_root);
    ck_assert_int_eq(utxo_verifier_block(v, blk, sp, &vd), UTXO_ERR_TX_VALUE);
    ck_assert_uint_eq(vd.tx, 0);
    cb->outputs[0].value = fees;
    /* bad signatures in tx 9 input 2 and tx 4 input 1: tx 4 is reported */
    blk->txs[9]->inputs[2].witness.args[0] ^= 1;
    blk->txs[4]->inputs[1].witness.args[0] ^= 1;
    utxo_block_tx_root(blk, blk->header.tx_root);
    for (int k = 0; k < 10; k++) {
        ck_assert_int_eq(utxo_verifier_block(v, blk, sp, &vd), UTXO_ERR_TX_REJECTED);
        ck_assert_uint_eq(vd.tx, 4);
        ck_assert_uint_eq(vd.input, 1);
    }
    blk->txs[9]->inputs[2].witness.args[0] ^= 1;
    blk->txs[4]->inputs[1].witness.args[0] ^= 1;
    /* a predicate id mismatch is reported at its input */
    utxo_block_tx_root(blk, blk->header.tx_root);
    memcpy(spent[6][2].predicate_id, b.id, 32);
    ck_assert_int_eq(utxo_verifier_block(v, blk, sp, &vd), UTXO_ERR_TX_PREDICATE_ID);
    ck_assert_uint_eq(vd.tx, 6);
    ck_assert_uint_eq(vd.input, 2);
    memcpy(spent[6][2].predicate_id, a.id, 32);
    /* fees summing past the maximum supply (spent values no accumulator
     * could hold: each tx spends UTXO_MAX_MONEY), refused at the tx that
     * crosses it, not wrapped */
    {
        uint64_t big[3] = {UTXO_MAX_MONEY / 3, UTXO_MAX_MONEY / 3,
                           UTXO_MAX_MONEY - 2 * (UTXO_MAX_MONEY / 3)};
        utxo_output huge[3][3];
        const utxo_output *hp[3] = {NULL, huge[1], huge[2]};
        utxo_block *hb = utxo_block_new();
        utxo_tx *hc = utxo_tx_new();
        hb->header.height = 3;
        hc->coinbase_height = 3;
        ck_assert_int_eq(utxo_tx_add_output(hc, 0, a.id, NULL, 0), UTXO_OK);
        ck_assert_int_eq(utxo_block_add_tx(hb, hc), UTXO_OK);
        for (int t = 1; t <= 2; t++)
            ck_assert_int_eq(utxo_block_add_tx(hb, pay(&p, &a, &b, 3, big, 1, huge[t],
                                                       (uint8_t)(90 + t))),
                             UTXO_OK);
        utxo_block_tx_root(hb, hb->header.tx_root);
        ck_assert_int_eq(utxo_verifier_block(v, hb, hp, &vd), UTXO_ERR_TX_VALUE);
        ck_assert_uint_eq(vd.tx, 2);
        ck_assert_uint_eq(vd.input, 0);
        utxo_block_free(hb);
    }
    utxo_block_free(blk);
    utxo_verifier_free(v);
    wallet_free(&a);
    wallet_free(&b);
}
END_TEST

START_TEST(genesis_may_allocate)
{
    utxo_params p;
    wallet a;
    utxo_verdict vd;
    utxo_verifier *v;
    utxo_block *blk = utxo_block_new();
    utxo_tx *cb = utxo_tx_new();

    utxo_params_default(&p);
    wallet_init(&a, 9);
    v = utxo_verifier_new(&p, 1);
    ck_assert_int_eq(utxo_tx_add_output(cb, UTXO_MAX_MONEY, a.id, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_block_add_tx(blk, cb), UTXO_OK);
    utxo_block_tx_root(blk, blk->header.tx_root);
    ck_assert_int_eq(utxo_verifier_block(v, blk, NULL, &vd), UTXO_OK);
    /* the same coinbase at height 1 mints from nothing */
    blk->header.height = 1;
    cb->coinbase_height = 1;
    utxo_block_tx_root(blk, blk->header.tx_root);
    ck_assert_int_eq(utxo_verifier_block(v, blk, NULL, &vd), UTXO_ERR_TX_VALUE);
    utxo_block_free(blk);
    utxo_verifier_free(v);
    wallet_free(&a);
}
END_TEST

/* ---- the pool ---------------------------------------------------------- */

struct count_arg {
    atomic_uint hits[1000];
    atomic_uint workers_seen;
};

static void count_item(void *arg, size_t i, unsigned worker)
{
    struct count_arg *c = arg;
    atomic_fetch_add(&c->hits[i], 1);
    atomic_fetch_or(&c->workers_seen, 1u << (worker & 31));
}

START_TEST(pool_runs_each_item_once)
{
    for (unsigned threads = 1; threads <= 4; threads++) {
        pool *p = pool_new(threads);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq(pool_threads(p), threads);
        for (int round = 0; round < 50; round++) {
            struct count_arg *c = calloc(1, sizeof *c);
            size_t n = (size_t)(round * 19 % 1000);
            pool_for(p, n, count_item, c);
            for (size_t i = 0; i < 1000; i++)
                ck_assert_uint_eq(atomic_load(&c->hits[i]), i < n ? 1 : 0);
            free(c);
        }
        pool_free(p);
    }
    pool_free(NULL);
}
END_TEST

/* pool_start returns at once and the workers run the loop while the
 * caller does other work; pool_wait completes it; each item runs once,
 * with pool_for loops between. */
START_TEST(pool_start_then_wait)
{
    for (unsigned threads = 1; threads <= 4; threads++) {
        pool *p = pool_new(threads);
        ck_assert_ptr_nonnull(p);
        for (int round = 0; round < 40; round++) {
            struct count_arg *c = calloc(1, sizeof *c), *d = calloc(1, sizeof *d);
            size_t n = (size_t)(round * 37 % 1000);
            ck_assert_ptr_nonnull(c);
            ck_assert_ptr_nonnull(d);
            pool_start(p, n, count_item, c);
            if (threads > 1 && n > 1) {
                /* a worker takes items before the caller waits (bounded) */
                for (int t = 0; t < 2000 && atomic_load(&c->workers_seen) == 0; t++)
                    usleep(1000);
                ck_assert_uint_ne(atomic_load(&c->workers_seen) & ~1u, 0);
            }
            pool_wait(p);
            for (size_t i = 0; i < 1000; i++)
                ck_assert_uint_eq(atomic_load(&c->hits[i]), i < n ? 1 : 0);
            pool_for(p, n / 2, count_item, d); /* the pool is free again */
            for (size_t i = 0; i < 1000; i++)
                ck_assert_uint_eq(atomic_load(&d->hits[i]), i < n / 2 ? 1 : 0);
            free(c);
            free(d);
        }
        pool_free(p);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("validate");
    TCase *tc = tcase_create("validate");

    if (sodium_init() < 0)
        return EXIT_FAILURE;
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, tx_valid_and_fee);
    tcase_add_test(tc, pool_start_then_wait);
    tcase_add_test(tc, tx_predicate_id_and_signature);
    tcase_add_test(tc, tx_image_does_not_decode);
    tcase_add_test(tc, tx_budget_changes_only_make_it_fail);
    tcase_add_test(tc, tx_spent_value_overflow);
    tcase_add_test(tc, block_parallel_verdicts);
    tcase_add_test(tc, genesis_may_allocate);
    tcase_add_test(tc, pool_runs_each_item_once);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
