/*
 * test_acc_forest.c — the accumulator's full forest against stateless
 * application: long random block sequences (several seeds) where the
 * forest's roots and the roots from stateless proof application always
 * agree, every live leaf provable alone, argument errors, a forest over a
 * caller's store (reopen, storage failures), wallets keeping one proof
 * fresh across blocks from block proofs alone, and block undo.
 */
#include "config.h"

#include <check.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "acc_testutil.h"

/* ---- forest vs stateless, random ----------------------------------------- */

static void random_history(uint64_t seed, unsigned blocks)
{
    acc_forest *f;
    acc_state st;
    uint64_t rng = seed, ops = 0;

    ck_assert_int_eq(acc_forest_new(&f), UTXO_OK);
    acc_state_init(&st);
    for (unsigned b = 0; b < blocks; b++) {
        uint64_t t[40];
        size_t n = pick_live(f, &rng, t, rng_below(&rng, 40));
        size_t n_adds = rng_below(&rng, 30), len, off;
        acc_hash *l = leaves_of(f, t, n), *adds = malloc((n_adds + 1) * sizeof *adds);
        acc_proof p, q;
        uint8_t *bytes;
        uint64_t base = acc_forest_count(f);

        ck_assert_ptr_nonnull(adds);
        for (size_t j = 0; j < n_adds; j++)
            leaf_for(adds[j], seed, base + j);
        acc_proof_init(&p);
        acc_proof_init(&q);
        ck_assert_int_eq(acc_forest_prove(f, t, n, &p), UTXO_OK);
        /* the proof survives its encoding exactly */
        bytes = proof_bytes(&p, &len);
        ck_assert_int_eq(acc_proof_from_bytes(&q, bytes, len, st.count, &off), UTXO_OK);
        ck_assert_uint_eq(q.n_slots, p.n_slots);
        ck_assert_uint_eq(acc_proof_get_length(&q), len);
        /* the validator side, block order: delete, then add */
        ck_assert_int_eq(acc_stateless_apply(&st, &q, l, n, adds, n_adds), UTXO_OK);
        /* the bridge side: by hand on even blocks, in one call on odd ones */
        if (b % 2 == 0) {
            ck_assert_int_eq(acc_forest_delete(f, t, n, NULL), UTXO_OK);
            for (size_t j = 0; j < n_adds; j++)
                ck_assert_int_eq(acc_forest_add(f, adds[j]), UTXO_OK);
        } else {
            acc_proof r;
            uint8_t *rb;
            size_t rlen;
            acc_proof_init(&r);
            ck_assert_int_eq(acc_forest_apply_block(f, t, n, adds, n_adds, &r, NULL), UTXO_OK);
            rb = proof_bytes(&r, &rlen);
            ck_assert_uint_eq(rlen, len);
            ck_assert_mem_eq(rb, bytes, len);
            acc_proof_clear(&r);
            free(rb);
        }
        assert_forest_state(f, &st);
        /* a spent leaf can no longer be proven or verified */
        if (n > 0) {
            acc_state before = st;
            ck_assert_int_eq(acc_forest_prove(f, t, 1, &p), UTXO_ERR_ACC_SPENT);
            if (n_adds == 0) {
                acc_proof_clear(&p);
                acc_proof_init(&p);
                ck_assert_int_eq(acc_stateless_delete(&st, &q, l, n, NULL), UTXO_ERR_ACC_PROOF);
                ck_assert_mem_eq(&st, &before, sizeof st);
            }
        }
        ops += n + n_adds;
        acc_proof_clear(&p);
        acc_proof_clear(&q);
        free(bytes);
        free(l);
        free(adds);
    }
    /* thousands of operations per seed */
    ck_assert_uint_ge(ops, (uint64_t)blocks * 20);
    acc_forest_free(f);
}

START_TEST(random_histories_agree)
{
    random_history(1000 + (uint64_t)_i, 400);
}
END_TEST

/* Every live leaf, proven alone, verifies; the union does too. */
START_TEST(single_and_union_proofs)
{
    acc_forest *f;
    acc_state st;
    uint64_t rng = 5, t[64];
    size_t n;

    ck_assert_int_eq(acc_forest_new(&f), UTXO_OK);
    acc_state_init(&st);
    forest_add_n(f, &st, 3, 777);
    for (int round = 0; round < 5; round++) {
        n = pick_live(f, &rng, t, 60);
        delete_both(f, &st, t, n);
    }
    for (uint64_t pos = 0; pos < acc_forest_count(f); pos++) {
        acc_hash l;
        acc_proof p;
        ck_assert_int_eq(acc_forest_leaf(f, pos, l), UTXO_OK);
        if (acc_is_empty(l))
            continue;
        acc_proof_init(&p);
        ck_assert_int_eq(acc_forest_prove(f, &pos, 1, &p), UTXO_OK);
        ck_assert_int_eq(acc_stateless_verify(&st, &p, &l, 1), UTXO_OK);
        acc_proof_clear(&p);
    }
    acc_forest_free(f);
}
END_TEST

START_TEST(forest_argument_errors)
{
    acc_forest *f;
    acc_proof p;
    uint64_t t[2] = {3, 2};
    acc_hash h;

    ck_assert_int_eq(acc_forest_new(&f), UTXO_OK);
    forest_add_n(f, NULL, 7, 8);
    acc_proof_init(&p);
    ck_assert_int_eq(acc_forest_prove(f, t, 2, &p), UTXO_ERR_ACC_POSITION);
    ck_assert_int_eq(acc_forest_delete(f, t, 2, NULL), UTXO_ERR_ACC_POSITION);
    t[0] = 2;
    ck_assert_int_eq(acc_forest_delete(f, t, 2, NULL), UTXO_ERR_ACC_POSITION);
    ck_assert_int_eq(acc_forest_leaf(f, 8, h), UTXO_ERR_ACC_POSITION);
    ck_assert_int_eq(acc_forest_add(f, ACC_EMPTY), UTXO_ERR_ARG);
    ck_assert_int_eq(acc_forest_new(NULL), UTXO_ERR_ARG);
    {   /* a block with a bad spend or a bad add changes nothing */
        acc_state before, after;
        acc_hash adds[2];
        uint64_t ok[1] = {5};
        ck_assert_int_eq(acc_forest_state(f, &before), UTXO_OK);
        leaf_for(adds[0], 7, 8);
        memset(adds[1], 0, 32);
        ck_assert_int_eq(acc_forest_apply_block(f, ok, 1, adds, 2, &p, NULL), UTXO_ERR_ARG);
        ck_assert_int_eq(acc_forest_apply_block(f, t, 2, adds, 1, &p, NULL), UTXO_ERR_ACC_POSITION);
        ck_assert_int_eq(acc_forest_delete(f, ok, 1, NULL), UTXO_OK);
        ck_assert_int_eq(acc_forest_state(f, &before), UTXO_OK);
        ck_assert_int_eq(acc_forest_apply_block(f, ok, 1, adds, 1, &p, NULL), UTXO_ERR_ACC_SPENT);
        ck_assert_int_eq(acc_forest_state(f, &after), UTXO_OK);
        ck_assert_mem_eq(&after, &before, sizeof after);
        ck_assert_ptr_null(p.targets);
    }
    ck_assert_uint_eq(acc_forest_count(f), 8);
    acc_forest_free(f);
}
END_TEST

/* ---- the store interface --------------------------------------------------- */

/* A store of fixed capacity written here, independent of the built-in one;
 * it can be told to fail the k-th put. */
typedef struct tstore {
    acc_hash h[13][4096];
    uint64_t len[13];
    long fail_put_at;   /* -1: never */
    long puts;
} tstore;

static int ts_get(void *ctx, unsigned row, uint64_t idx, uint8_t out[ACC_HASH_BYTES])
{
    tstore *t = ctx;
    if (row >= 13 || idx >= t->len[row])
        return UTXO_ERR_INTERNAL;
    memcpy(out, t->h[row][idx], 32);
    return UTXO_OK;
}

static int ts_put(void *ctx, unsigned row, uint64_t idx, const uint8_t h[ACC_HASH_BYTES])
{
    tstore *t = ctx;
    if (t->fail_put_at >= 0 && t->puts++ == t->fail_put_at)
        return UTXO_ERR_IO;
    if (row >= 13 || idx > t->len[row] || idx >= 4096)
        return UTXO_ERR_INTERNAL;
    if (idx == t->len[row])
        t->len[row]++;
    memcpy(t->h[row][idx], h, 32);
    return UTXO_OK;
}

static int ts_truncate(void *ctx, uint64_t count)
{
    tstore *t = ctx;
    for (unsigned r = 0; r < 13; r++)
        if (t->len[r] > count >> r)
            t->len[r] = count >> r;
    return UTXO_OK;
}

static const acc_store_ops ts_ops = {ts_get, ts_put, ts_truncate, NULL};

START_TEST(custom_store)
{
    tstore *ts = calloc(1, sizeof *ts);
    acc_forest *f, *g, *h;
    acc_state st;
    uint64_t rng = 12, t[30];
    size_t n;

    ck_assert_ptr_nonnull(ts);
    ts->fail_put_at = -1;
    ck_assert_int_eq(acc_forest_new_with_store(&f, &ts_ops, ts, 0), UTXO_OK);
    ck_assert_int_eq(acc_forest_new(&g), UTXO_OK);
    acc_state_init(&st);
    for (int b = 0; b < 40; b++) {
        uint64_t base = acc_forest_count(f);
        n = pick_live(f, &rng, t, 20);
        delete_both(f, &st, t, n);
        ck_assert_int_eq(acc_forest_delete(g, t, n, NULL), UTXO_OK);
        for (uint64_t j = 0; j < 60; j++) {
            acc_hash x;
            leaf_for(x, 12, base + j);
            ck_assert_int_eq(acc_forest_add(f, x), UTXO_OK);
            ck_assert_int_eq(acc_forest_add(g, x), UTXO_OK);
            ck_assert_int_eq(acc_state_add(&st, x), UTXO_OK);
        }
        assert_forest_state(f, &st);
        assert_forest_state(g, &st);
    }
    /* reopen over the same nodes (destroy is NULL: the store survives) */
    acc_forest_free(f);
    ck_assert_int_eq(acc_forest_new_with_store(&h, &ts_ops, ts, st.count), UTXO_OK);
    assert_forest_state(h, &st);
    /* a storage failure is reported, not hidden */
    ts->fail_put_at = 0;
    ts->puts = 0;
    n = pick_live(h, &rng, t, 5);
    ck_assert_uint_gt(n, 0);
    ck_assert_int_eq(acc_forest_delete(h, t, n, NULL), UTXO_ERR_IO);
    ts->puts = 0;
    {
        acc_hash x;
        acc_forest *none = (acc_forest *)1;
        leaf_for(x, 12, st.count);
        ck_assert_int_eq(acc_forest_add(h, x), UTXO_ERR_IO);
        ck_assert_uint_eq(acc_forest_count(h), st.count);
        ck_assert_int_eq(acc_forest_new_with_store(&none, NULL, ts, 0), UTXO_ERR_ARG);
        ck_assert_ptr_null(none);
    }
    acc_forest_free(h);
    acc_forest_free(g);
    free(ts);
}
END_TEST

/* ---- wallet proof updates --------------------------------------------------- */

/* A wallet watches some new outputs of each block and keeps one batch proof
 * for all it holds, updated from block proofs only; after every block it
 * must equal, byte for byte, what the full forest proves for those leaves. */
static void wallet_history(uint64_t seed, unsigned blocks)
{
    acc_forest *f;
    acc_state st;
    acc_proof mine;
    acc_hash *ml = malloc(4096 * sizeof *ml);
    uint64_t rng = seed;
    size_t max_held = 0, spent_mine = 0, stale_refused = 0;

    ck_assert_ptr_nonnull(ml);
    ck_assert_int_eq(acc_forest_new(&f), UTXO_OK);
    acc_state_init(&st);
    acc_proof_init(&mine);
    forest_add_n(f, &st, seed, 40);
    for (unsigned b = 0; b < blocks; b++) {
        uint64_t t[40], watch[8], base = st.count;
        size_t n = pick_live(f, &rng, t, rng_below(&rng, 30)), n_adds = rng_below(&rng, 24),
               n_watch = 0, held = mine.n_targets, len1, len2;
        acc_hash *l = leaves_of(f, t, n), adds[24];
        acc_proof bp, fresh;
        acc_state pre = st;
        uint8_t *b1, *b2;

        /* sometimes the block spends one of the wallet's coins */
        if (held > 0 && rng_below(&rng, 3) == 0 && n < 40) {
            uint64_t c = mine.targets[rng_below(&rng, (uint32_t)held)];
            bool dup = false;
            for (size_t i = 0; i < n; i++)
                dup |= t[i] == c;
            if (!dup) {
                size_t j = n++;
                while (j > 0 && t[j - 1] > c) {
                    t[j] = t[j - 1];
                    j--;
                }
                t[j] = c;
                free(l);
                l = leaves_of(f, t, n);
                spent_mine++;
            }
        }
        for (size_t j = 0; j < n_adds; j++) {
            leaf_for(adds[j], seed, base + j);
            if (rng_below(&rng, 3) == 0 && n_watch < 8)
                watch[n_watch++] = base + j;
        }
        acc_proof_init(&bp);
        ck_assert_int_eq(acc_forest_apply_block(f, t, n, adds, n_adds, &bp, NULL), UTXO_OK);
        ck_assert_int_eq(acc_stateless_apply(&st, &bp, l, n, adds, n_adds), UTXO_OK);
        ck_assert_int_eq(acc_proof_update(&mine, ml, &mine, ml, mine.n_targets, &pre, &bp, l, n,
                                          adds, n_adds, watch, n_watch),
                         UTXO_OK);
        /* the wallet's proof is exactly the bridge's */
        acc_proof_init(&fresh);
        ck_assert_int_eq(acc_forest_prove(f, mine.targets, mine.n_targets, &fresh), UTXO_OK);
        b1 = proof_bytes(&mine, &len1);
        b2 = proof_bytes(&fresh, &len2);
        ck_assert_uint_eq(len1, len2);
        ck_assert_mem_eq(b1, b2, len1);
        for (size_t i = 0; i < mine.n_targets; i++) {
            acc_hash h;
            ck_assert_int_eq(acc_forest_leaf(f, mine.targets[i], h), UTXO_OK);
            ck_assert_mem_eq(h, ml[i], 32);
        }
        ck_assert_int_eq(acc_stateless_verify(&st, &mine, ml, mine.n_targets), UTXO_OK);
        if (mine.n_targets > max_held)
            max_held = mine.n_targets;
        /* against the old roots, the new proof is refused exactly when it
         * does not verify there (it still does when the block touched none
         * of its trees) */
        if (n > 0 && held > 0) {
            acc_proof stale, out;
            acc_proof_init(&out);
            ck_assert_int_eq(acc_forest_prove(f, NULL, 0, &stale), UTXO_OK);
            if (mine.n_targets > 0) {
                int v = acc_stateless_verify(&pre, &mine, ml, mine.n_targets);
                int u = acc_proof_update(&out, ml, &mine, ml, mine.n_targets, &pre, &stale, NULL,
                                         0, NULL, 0, NULL, 0);
                ck_assert_int_eq(u, v);
                if (u != UTXO_OK) {
                    ck_assert_ptr_null(out.targets);
                    stale_refused++;
                }
                acc_proof_clear(&out);
            }
            acc_proof_clear(&stale);
        }
        acc_proof_clear(&bp);
        acc_proof_clear(&fresh);
        free(b1);
        free(b2);
        free(l);
    }
    ck_assert_uint_gt(max_held, 20);
    ck_assert_uint_gt(spent_mine, 5);
    ck_assert_uint_gt(stale_refused, 5);
    acc_proof_clear(&mine);
    acc_forest_free(f);
    free(ml);
}

START_TEST(wallet_proofs_follow_blocks)
{
    wallet_history(500 + (uint64_t)_i, 250);
}
END_TEST

/* A block proof in another shape than the forest's: four leaves, 1 and 3
 * deleted, the wallet holds 2, the block spends 0. The forest proves 0
 * with (0,1) empty and (1,1) = L2; moving the empty sibling a row up,
 * (0,1) = L2 and (1,1) empty, verifies too and gives the same roots
 * (docs/ACCUMULATOR.md: proofs are not unique), but its walk's (1,0) is
 * not the forest's. Carrying the wallet's proof across it is refused with
 * UTXO_ERR_ACC_PROOF, the proof unchanged; the forest's shape carries it. */
START_TEST(reshaped_block_proof)
{
    acc_forest *f;
    acc_state pre, post_honest, post_other;
    acc_hash L[4], ml[1], ol[1];
    acc_proof mine, honest, other, out;
    uint64_t del[2] = {1, 3}, w = 2, t = 0;
    uint8_t *b0, *b1;
    size_t l0, l1;

    for (int i = 0; i < 4; i++)
        leaf_for(L[i], 77, (uint64_t)i);
    ck_assert_int_eq(acc_forest_new(&f), UTXO_OK);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(acc_forest_add(f, L[i]), UTXO_OK);
    ck_assert_int_eq(acc_forest_delete(f, del, 2, NULL), UTXO_OK);
    ck_assert_int_eq(acc_forest_state(f, &pre), UTXO_OK);
    acc_proof_init(&mine);
    acc_proof_init(&honest);
    acc_proof_init(&other);
    acc_proof_init(&out);
    ck_assert_int_eq(acc_forest_prove(f, &w, 1, &mine), UTXO_OK);
    ck_assert_int_eq(acc_forest_prove(f, &t, 1, &honest), UTXO_OK);
    ck_assert_uint_eq(honest.n_slots, 2);
    ck_assert_uint_eq(honest.empty[0], 0x01); /* (0,1) empty, (1,1) = L2 */
    ck_assert_mem_eq(honest.hashes[0], L[2], 32);
    other.n_targets = 1;
    other.targets = malloc(sizeof *other.targets);
    other.targets[0] = 0;
    other.n_slots = 2;
    other.empty = calloc(1, 1);
    other.empty[0] = 0x02; /* (0,1) = L2, (1,1) empty */
    other.n_hashes = 1;
    other.hashes = malloc(sizeof *other.hashes);
    memcpy(other.hashes[0], L[2], 32);
    ck_assert_int_eq(acc_stateless_verify(&pre, &other, (const acc_hash *)&L[0], 1), UTXO_OK);
    post_honest = post_other = pre;
    ck_assert_int_eq(acc_stateless_apply(&post_honest, &honest, (const acc_hash *)&L[0], 1, NULL, 0),
                     UTXO_OK);
    ck_assert_int_eq(acc_stateless_apply(&post_other, &other, (const acc_hash *)&L[0], 1, NULL, 0),
                     UTXO_OK);
    ck_assert(acc_state_equal(&post_honest, &post_other));
    memcpy(ml[0], L[2], 32);
    b0 = proof_bytes(&mine, &l0);
    ck_assert_int_eq(acc_proof_update(&out, ol, &mine, (const acc_hash *)ml, 1, &pre, &other,
                                      (const acc_hash *)&L[0], 1, NULL, 0, NULL, 0),
                     UTXO_ERR_ACC_PROOF);
    ck_assert_ptr_null(out.targets);
    b1 = proof_bytes(&mine, &l1);
    ck_assert_uint_eq(l0, l1);
    ck_assert_mem_eq(b0, b1, l0);
    free(b1);
    ck_assert_int_eq(acc_proof_update(&out, ol, &mine, (const acc_hash *)ml, 1, &pre, &honest,
                                      (const acc_hash *)&L[0], 1, NULL, 0, NULL, 0),
                     UTXO_OK);
    ck_assert_int_eq(acc_stateless_verify(&post_honest, &out, (const acc_hash *)ol, 1), UTXO_OK);
    free(b0);
    acc_proof_clear(&mine);
    acc_proof_clear(&honest);
    acc_proof_clear(&other);
    acc_proof_clear(&out);
    acc_forest_free(f);
}
END_TEST

/* ---- undo ----------------------------------------------------------------- */

START_TEST(undo_blocks)
{
    acc_forest *f;
    acc_state st;
    uint64_t rng = 31;
    enum { BLOCKS = 60 };
    struct undo_rec {
        acc_state before;
        uint64_t t[20];
        acc_hash l[20];
        size_t n;
    } *u = calloc(BLOCKS, sizeof *u);

    ck_assert_ptr_nonnull(u);
    ck_assert_int_eq(acc_forest_new(&f), UTXO_OK);
    acc_state_init(&st);
    forest_add_n(f, &st, 8, 50);
    for (int b = 0; b < BLOCKS; b++) {
        u[b].before = st;
        u[b].n = pick_live(f, &rng, u[b].t, rng_below(&rng, 20));
        ck_assert_int_eq(acc_forest_delete(f, u[b].t, u[b].n, u[b].l), UTXO_OK);
        forest_add_n(f, NULL, 8, rng_below(&rng, 25));
        ck_assert_int_eq(acc_forest_state(f, &st), UTXO_OK);
    }
    for (int b = BLOCKS - 1; b >= 0; b--) {
        /* restoring a live leaf is refused */
        if (u[b].n > 0 && u[b].t[0] > 0) {
            uint64_t live = 0;
            acc_hash h;
            for (; live < u[b].before.count; live++) {
                ck_assert_int_eq(acc_forest_leaf(f, live, h), UTXO_OK);
                if (!acc_is_empty(h))
                    break;
            }
            if (live < u[b].before.count)
                ck_assert_int_eq(acc_forest_undo(f, u[b].before.count, &live, u[b].l, 1),
                                 UTXO_ERR_ARG);
        }
        ck_assert_int_eq(acc_forest_undo(f, u[b].before.count, u[b].t, u[b].l, u[b].n), UTXO_OK);
        assert_forest_state(f, &u[b].before);
        /* the restored leaves are provable again */
        if (u[b].n > 0) {
            acc_proof p;
            acc_proof_init(&p);
            ck_assert_int_eq(acc_forest_prove(f, u[b].t, u[b].n, &p), UTXO_OK);
            ck_assert_int_eq(acc_stateless_verify(&u[b].before, &p, u[b].l, u[b].n), UTXO_OK);
            acc_proof_clear(&p);
        }
    }
    ck_assert_uint_eq(acc_forest_count(f), 50);
    acc_forest_free(f);
    free(u);
}
END_TEST

static Suite *acc_forest_suite(void)
{
    Suite *s = suite_create("acc_forest");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, random_histories_agree, 0, 5);
    tcase_add_test(tc, single_and_union_proofs);
    tcase_add_test(tc, forest_argument_errors);
    tcase_add_test(tc, custom_store);
    tcase_add_loop_test(tc, wallet_proofs_follow_blocks, 0, 3);
    tcase_add_test(tc, reshaped_block_proof);
    tcase_add_test(tc, undo_blocks);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    if (sodium_init() < 0)
        return EXIT_FAILURE;
    return run_suite(acc_forest_suite());
}
