/*
 * acc_testutil.h — helpers shared by the accumulator suites (test_acc.c,
 * test_acc_forest.c): deterministic leaf data, forest/stateless pairs kept
 * in step, live-leaf picking (half recent, half anywhere), proof bytes.
 */
#ifndef UTXO_TESTS_ACC_TESTUTIL_H
#define UTXO_TESTS_ACC_TESTUTIL_H

#include "testutil.h"
#include "witness/acc.h"

/* ---- helpers ------------------------------------------------------------ */

/* Deterministic leaf data number id (of a seed): an output, its outpoint
 * and creation height. The struct points into itself: do not copy it. */
typedef struct tleaf {
    acc_leaf l;
    utxo_output o;
    uint8_t datum[8];
} tleaf;

static inline void tleaf_make(tleaf *t, uint64_t seed, uint64_t id)
{
    uint64_t s = seed * 0x1000193u + id;

    rng_fill(&s, t->l.outpoint.txid, sizeof t->l.outpoint.txid);
    t->l.outpoint.index = (uint32_t)rng_next(&s);
    t->o.value = rng_next(&s) % UTXO_MAX_MONEY;
    rng_fill(&s, t->o.predicate_id, sizeof t->o.predicate_id);
    rng_fill(&s, t->datum, sizeof t->datum);
    t->o.datum = t->datum;
    t->o.datum_len = (uint32_t)(id % 9);
    t->l.output = &t->o;
    t->l.height = (uint32_t)(id / 7);
}

/* The leaf hash of data number id added at position pos. */
static inline void leaf_at(acc_hash out, uint64_t seed, uint64_t id, uint64_t pos)
{
    tleaf t;

    tleaf_make(&t, seed, id);
    acc_leaf_hash(out, &t.l.outpoint, t.l.output, t.l.height, pos);
}

/* Leaf data number pos at position pos: what every forest here holds. */
static inline void leaf_for(acc_hash out, uint64_t seed, uint64_t pos)
{
    leaf_at(out, seed, pos, pos);
}

static inline void forest_add_n(acc_forest *f, acc_state *st, uint64_t seed, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        acc_hash h;
        leaf_for(h, seed, acc_forest_count(f));
        ck_assert_int_eq(acc_forest_add(f, h), UTXO_OK);
        if (st)
            ck_assert_int_eq(acc_state_add(st, h), UTXO_OK);
    }
}

static inline void assert_forest_state(const acc_forest *f, const acc_state *st)
{
    acc_state fs;

    ck_assert_int_eq(acc_forest_state(f, &fs), UTXO_OK);
    ck_assert_uint_eq(fs.count, st->count);
    ck_assert(acc_state_equal(&fs, st));
}

/* Leaf hashes of targets, read from the forest (which must hold them). */
static inline acc_hash *leaves_of(const acc_forest *f, const uint64_t *t, size_t n)
{
    acc_hash *l = malloc((n ? n : 1) * sizeof *l);

    ck_assert_ptr_nonnull(l);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(acc_forest_leaf(f, t[i], l[i]), UTXO_OK);
    return l;
}

static inline uint8_t *proof_bytes(const acc_proof *p, size_t *len)
{
    size_t n = acc_proof_get_length(p), w = 0;
    uint8_t *b = malloc(n);

    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(acc_proof_to_bytes(p, b, n, &w), UTXO_OK);
    ck_assert_uint_eq(w, n);
    *len = n;
    return b;
}

/* Proves, deletes and checks stateless == forest; returns nothing. */
static inline void delete_both(acc_forest *f, acc_state *st, const uint64_t *t, size_t n)
{
    acc_proof p;
    acc_hash *l = leaves_of(f, t, n);

    acc_proof_init(&p);
    ck_assert_int_eq(acc_forest_prove(f, t, n, &p), UTXO_OK);
    ck_assert_int_eq(acc_stateless_delete(st, &p, l, n, NULL), UTXO_OK);
    ck_assert_int_eq(acc_forest_delete(f, t, n, NULL), UTXO_OK);
    assert_forest_state(f, st);
    acc_proof_clear(&p);
    free(l);
}

/* Picks up to want distinct live positions (sorted) from the forest. */
static inline size_t pick_live(const acc_forest *f, uint64_t *rng, uint64_t *out, size_t want)
{
    uint64_t n = acc_forest_count(f);
    size_t k = 0;

    for (size_t tries = 0; tries < want * 8 && k < want && n > 0; tries++) {
        acc_hash h;
        /* half recent, half anywhere */
        uint64_t span = (tries & 1) && n > 16 ? 16 : n;
        uint64_t pos = n - 1 - rng_next(rng) % span;
        bool dup = false;
        ck_assert_int_eq(acc_forest_leaf(f, pos, h), UTXO_OK);
        if (acc_is_empty(h))
            continue;
        for (size_t i = 0; i < k; i++)
            dup |= out[i] == pos;
        if (!dup)
            out[k++] = pos;
    }
    for (size_t i = 1; i < k; i++)   /* insertion sort */
        for (size_t j = i; j > 0 && out[j - 1] > out[j]; j--) {
            uint64_t t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return k;
}


#endif /* UTXO_TESTS_ACC_TESTUTIL_H */
