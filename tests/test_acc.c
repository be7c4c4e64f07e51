/*
 * test_acc.c — the UTXO accumulator (src/witness): leaf and node hashing
 * checked against libsodium directly, the state encoding and digest, the
 * full forest against stateless proof application over long random block
 * sequences, proof rejection (stale roots, spent leaf, wrong data, every
 * sibling removed/altered/added, bad positions, every truncation, trailing
 * bytes, every flipped byte), the 64-root bound, edge cases and block undo.
 */
#include "config.h"

#include <check.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
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

static void tleaf_make(tleaf *t, uint64_t seed, uint64_t id)
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
static void leaf_at(acc_hash out, uint64_t seed, uint64_t id, uint64_t pos)
{
    tleaf t;

    tleaf_make(&t, seed, id);
    acc_leaf_hash(out, &t.l.outpoint, t.l.output, t.l.height, pos);
}

/* Leaf data number pos at position pos: what every forest here holds. */
static void leaf_for(acc_hash out, uint64_t seed, uint64_t pos)
{
    leaf_at(out, seed, pos, pos);
}

static void forest_add_n(acc_forest *f, acc_state *st, uint64_t seed, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        acc_hash h;
        leaf_for(h, seed, acc_forest_count(f));
        ck_assert_int_eq(acc_forest_add(f, h), UTXO_OK);
        if (st)
            ck_assert_int_eq(acc_state_add(st, h), UTXO_OK);
    }
}

static void assert_forest_state(const acc_forest *f, const acc_state *st)
{
    acc_state fs;

    ck_assert_int_eq(acc_forest_state(f, &fs), UTXO_OK);
    ck_assert_uint_eq(fs.count, st->count);
    ck_assert(acc_state_equal(&fs, st));
}

/* Leaf hashes of targets, read from the forest (which must hold them). */
static acc_hash *leaves_of(const acc_forest *f, const uint64_t *t, size_t n)
{
    acc_hash *l = malloc((n ? n : 1) * sizeof *l);

    ck_assert_ptr_nonnull(l);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(acc_forest_leaf(f, t[i], l[i]), UTXO_OK);
    return l;
}

static uint8_t *proof_bytes(const acc_proof *p, size_t *len)
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
static void delete_both(acc_forest *f, acc_state *st, const uint64_t *t, size_t n)
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
static size_t pick_live(const acc_forest *f, uint64_t *rng, uint64_t *out, size_t want)
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

/* ---- hashing ------------------------------------------------------------ */

static void blake_tag(uint8_t out[32], const char *tag, const uint8_t *p, size_t n)
{
    uint8_t personal[16] = {0};

    memcpy(personal, tag, strlen(tag));
    crypto_generichash_blake2b_salt_personal(out, 32, p, n, NULL, 0, NULL, personal);
}

START_TEST(leaf_hash_layout)
{
    utxo_outpoint op;
    utxo_output o;
    uint8_t datum[3] = {7, 8, 9}, pre[8 + 32 + 4 + 4 + 8 + 32 + 1 + 3], want[32], got[32];
    size_t k = 0;

    memset(op.txid, 0xab, 32);
    op.index = 0x01020304;
    o.value = 0x1122334455667788u;
    memset(o.predicate_id, 0xcd, 32);
    o.datum = datum;
    o.datum_len = 3;
    /* position 5, height 9: the layout of docs/ACCUMULATOR.md by hand */
    put_u64le(pre + k, 5), k += 8;
    memcpy(pre + k, op.txid, 32), k += 32;
    put_u32le(pre + k, op.index), k += 4;
    put_u32le(pre + k, 9), k += 4;
    put_u64le(pre + k, o.value), k += 8;
    memcpy(pre + k, o.predicate_id, 32), k += 32;
    pre[k++] = 3;
    memcpy(pre + k, datum, 3), k += 3;
    ck_assert_uint_eq(k, sizeof pre);
    blake_tag(want, "utxo.accleaf", pre, k);
    acc_leaf_hash(got, &op, &o, 9, 5);
    ck_assert_mem_eq(got, want, 32);
    /* every bound field changes the hash */
    acc_leaf_hash(want, &op, &o, 9, 6);
    ck_assert(memcmp(got, want, 32) != 0);
    acc_leaf_hash(want, &op, &o, 10, 5);
    ck_assert(memcmp(got, want, 32) != 0);
    op.index++;
    acc_leaf_hash(want, &op, &o, 9, 5);
    ck_assert(memcmp(got, want, 32) != 0);
    op.index--;
    datum[2] ^= 1;
    acc_leaf_hash(want, &op, &o, 9, 5);
    ck_assert(memcmp(got, want, 32) != 0);
    datum[2] ^= 1;
    o.value++;
    acc_leaf_hash(want, &op, &o, 9, 5);
    ck_assert(memcmp(got, want, 32) != 0);
}
END_TEST

START_TEST(parent_rule)
{
    acc_hash a, b, out, want;
    uint8_t pre[64];

    memset(a, 1, 32);
    memset(b, 2, 32);
    ck_assert_int_eq(acc_parent(out, ACC_EMPTY, ACC_EMPTY), 0);
    ck_assert(acc_is_empty(out));
    ck_assert_int_eq(acc_parent(out, ACC_EMPTY, b), 0);
    ck_assert_mem_eq(out, b, 32);
    ck_assert_int_eq(acc_parent(out, a, ACC_EMPTY), 0);
    ck_assert_mem_eq(out, a, 32);
    ck_assert_int_eq(acc_parent(out, a, b), 1);
    memcpy(pre, a, 32);
    memcpy(pre + 32, b, 32);
    blake_tag(want, "utxo.accnode", pre, 64);
    ck_assert_mem_eq(out, want, 32);
    /* order matters */
    acc_parent(want, b, a);
    ck_assert(memcmp(out, want, 32) != 0);
}
END_TEST

START_TEST(root_geometry)
{
    /* 13 leaves = 8 + 4 + 1 */
    ck_assert_uint_eq(acc_root_row(0, 13), 3);
    ck_assert_uint_eq(acc_root_row(7, 13), 3);
    ck_assert_uint_eq(acc_root_row(8, 13), 2);
    ck_assert_uint_eq(acc_root_row(11, 13), 2);
    ck_assert_uint_eq(acc_root_row(12, 13), 0);
    ck_assert(acc_is_root(3, 0, 13));
    ck_assert(!acc_is_root(2, 0, 13));
    ck_assert(acc_is_root(2, 2, 13));
    ck_assert(acc_is_root(0, 12, 13));
    ck_assert(!acc_is_root(0, 11, 13));
    ck_assert_uint_eq(acc_root_row(UINT64_MAX - 1, UINT64_MAX), 0);
    ck_assert_uint_eq(acc_root_row(0, UINT64_MAX), 63);
}
END_TEST

/* ---- state ---------------------------------------------------------------- */

START_TEST(state_matches_forest_on_adds)
{
    acc_forest *f;
    acc_state st;

    ck_assert_int_eq(acc_forest_new(&f), UTXO_OK);
    acc_state_init(&st);
    for (uint64_t n = 0; n < 300; n++) {
        assert_forest_state(f, &st);
        ck_assert_uint_eq(acc_state_n_roots(&st), (unsigned)__builtin_popcountll(n));
        ck_assert_uint_eq(acc_state_get_length(&st), 8 + 32 * acc_state_n_roots(&st));
        forest_add_n(f, &st, 1, 1);
    }
    acc_forest_free(f);
    acc_forest_free(NULL);
}
END_TEST

START_TEST(state_encoding_and_digest)
{
    acc_state st, back;
    uint8_t buf[ACC_STATE_MAX_BYTES + 1], d[32], want[32];
    size_t w, off;

    acc_state_init(&st);
    /* empty: 8 zero bytes */
    ck_assert_int_eq(acc_state_to_bytes(&st, buf, sizeof buf, &w), UTXO_OK);
    ck_assert_uint_eq(w, 8);
    acc_state_digest(d, &st);
    blake_tag(want, "utxo.accdigest", buf, 8);
    ck_assert_mem_eq(d, want, 32);
    /* 5 leaves: roots at rows 2 and 0, tallest first */
    for (uint64_t i = 0; i < 5; i++) {
        acc_hash h;
        leaf_for(h, 2, i);
        ck_assert_int_eq(acc_state_add(&st, h), UTXO_OK);
    }
    ck_assert_int_eq(acc_state_to_bytes(&st, buf, sizeof buf, &w), UTXO_OK);
    ck_assert_uint_eq(w, 8 + 64);
    ck_assert_uint_eq(get_u64le(buf), 5);
    ck_assert_mem_eq(buf + 8, st.roots[2], 32);
    ck_assert_mem_eq(buf + 40, st.roots[0], 32);
    acc_state_digest(d, &st);
    blake_tag(want, "utxo.accdigest", buf, w);
    ck_assert_mem_eq(d, want, 32);
    ck_assert_int_eq(acc_state_from_bytes(&back, buf, w, &off), UTXO_OK);
    ck_assert(acc_state_equal(&back, &st));
    ck_assert_mem_eq(&back, &st, sizeof st);
    for (size_t k = 0; k < w; k++)
        ck_assert_int_eq(acc_state_from_bytes(&back, buf, k, &off), UTXO_ERR_TRUNCATED);
    ck_assert_int_eq(acc_state_from_bytes(&back, buf, w + 1, &off), UTXO_ERR_TRAILING);
    ck_assert_uint_eq(off, w);
    ck_assert_int_eq(acc_state_to_bytes(&st, buf, w - 1, &w), UTXO_ERR_ARG);
    /* the digest commits to the count */
    back.count = 4;
    acc_state_digest(want, &back);
    ck_assert(memcmp(d, want, 32) != 0);
}
END_TEST

START_TEST(sixty_four_roots)
{
    acc_state st, before;
    acc_hash h;
    uint8_t buf[ACC_STATE_MAX_BYTES];
    size_t w;
    uint64_t s = 64;

    acc_state_init(&st);
    st.count = UINT64_MAX - 1;   /* 63 roots */
    for (unsigned r = 1; r < 64; r++)
        rng_fill(&s, st.roots[r], 32);
    ck_assert_uint_eq(acc_state_n_roots(&st), 63);
    rng_fill(&s, h, 32);
    ck_assert_int_eq(acc_state_add(&st, h), UTXO_OK);
    ck_assert_uint_eq(st.count, UINT64_MAX);
    ck_assert_uint_eq(acc_state_n_roots(&st), 64);
    ck_assert_mem_eq(st.roots[0], h, 32);
    ck_assert_uint_eq(acc_state_get_length(&st), ACC_STATE_MAX_BYTES);
    ck_assert_uint_eq(ACC_STATE_MAX_BYTES, 2056);
    ck_assert_int_eq(acc_state_to_bytes(&st, buf, sizeof buf, &w), UTXO_OK);
    ck_assert_uint_eq(w, 2056);
    before = st;
    ck_assert_int_eq(acc_state_add(&st, h), UTXO_ERR_ACC_FULL);
    ck_assert_mem_eq(&st, &before, sizeof st);
    ck_assert_int_eq(acc_state_add(&st, ACC_EMPTY), UTXO_ERR_ARG);
}
END_TEST

/* Proofs at the very top of the position space: no arithmetic overflow. */
START_TEST(proofs_at_high_positions)
{
    acc_state st, before;
    acc_proof p;
    acc_hash l0, l1, l2, want;
    uint64_t s = 99, t1 = UINT64_MAX - 3, t2 = UINT64_MAX - 2, t3 = UINT64_MAX - 1;
    uint8_t *b;
    size_t len, off;

    acc_state_init(&st);
    st.count = UINT64_MAX;
    for (unsigned r = 0; r < 64; r++)
        rng_fill(&s, st.roots[r], 32);
    rng_fill(&s, l0, 32);
    rng_fill(&s, l1, 32);
    rng_fill(&s, l2, 32);
    acc_parent(st.roots[1], l0, l1);   /* tree of row 1: leaves 2^64-4, 2^64-3 */
    memcpy(st.roots[0], l2, 32);       /* tree of row 0: leaf 2^64-2 */
    /* prove 2^64-3 (sibling 2^64-4 in the proof) and 2^64-2 (a root) */
    acc_proof_init(&p);
    p.n_targets = 2;
    p.targets = malloc(2 * sizeof *p.targets);
    p.targets[0] = t2;
    p.targets[1] = t3;
    p.n_slots = 1;
    p.empty = calloc(1, 1);
    p.n_hashes = 1;
    p.hashes = malloc(sizeof *p.hashes);
    memcpy(p.hashes[0], l0, 32);
    b = proof_bytes(&p, &len);
    acc_proof_clear(&p);
    ck_assert_int_eq(acc_proof_from_bytes(&p, b, len, st.count, &off), UTXO_OK);
    before = st;
    {
        acc_hash lv[2];
        memcpy(lv[0], l1, 32);
        memcpy(lv[1], l2, 32);
        ck_assert_int_eq(acc_stateless_delete(&st, &p, lv, 2, NULL), UTXO_OK);
    }
    ck_assert_mem_eq(st.roots[1], l0, 32);
    ck_assert(acc_is_empty(st.roots[0]));
    for (unsigned r = 2; r < 64; r++)
        ck_assert_mem_eq(st.roots[r], before.roots[r], 32);
    /* no position at or past the count decodes: 2^64-1 itself */
    {
        uint8_t bad[] = {1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0};
        acc_proof q;
        acc_proof_init(&q);
        ck_assert_int_eq(acc_proof_from_bytes(&q, bad, sizeof bad, UINT64_MAX, &off),
                         UTXO_ERR_ACC_POSITION);
        ck_assert_uint_eq(off, 1);
    }
    (void)t1;
    acc_proof_clear(&p);
    free(b);

    /* a leaf at the bottom of a row-63 tree: 63 siblings, all sent */
    acc_state_init(&st);
    st.count = UINT64_C(1) << 63;
    acc_proof_init(&p);
    p.n_targets = 1;
    p.targets = calloc(1, sizeof *p.targets);
    p.targets[0] = 5;
    p.n_slots = 63;
    p.empty = calloc(8, 1);
    p.n_hashes = 63;
    p.hashes = malloc(63 * sizeof *p.hashes);
    memcpy(want, l0, 32);
    for (unsigned r = 0; r < 63; r++) {
        rng_fill(&s, p.hashes[r], 32);
        if ((UINT64_C(5) >> r) & 1)
            acc_parent(want, p.hashes[r], want);
        else
            acc_parent(want, want, p.hashes[r]);
    }
    memcpy(st.roots[63], want, 32);
    {
        acc_hash lv[1];
        memcpy(lv[0], l0, 32);
        ck_assert_int_eq(acc_stateless_verify(&st, &p, lv, 1), UTXO_OK);
        lv[0][0] ^= 1;
        ck_assert_int_eq(acc_stateless_verify(&st, &p, lv, 1), UTXO_ERR_ACC_PROOF);
    }
    acc_proof_clear(&p);
}
END_TEST

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

/* ---- rejection ---------------------------------------------------------- */

typedef struct fixture {
    acc_forest *f;
    acc_state st;
    uint64_t t[24];
    size_t n;
    acc_hash *l;
    acc_proof p;
} fixture;

static void fixture_make(fixture *x)
{
    uint64_t rng = 77, del[30];
    size_t nd;

    ck_assert_int_eq(acc_forest_new(&x->f), UTXO_OK);
    acc_state_init(&x->st);
    forest_add_n(x->f, &x->st, 9, 1000);
    nd = pick_live(x->f, &rng, del, 30);
    delete_both(x->f, &x->st, del, nd);
    x->n = pick_live(x->f, &rng, x->t, 24);
    ck_assert_uint_ge(x->n, 10);
    x->l = leaves_of(x->f, x->t, x->n);
    acc_proof_init(&x->p);
    ck_assert_int_eq(acc_forest_prove(x->f, x->t, x->n, &x->p), UTXO_OK);
    ck_assert_uint_gt(x->p.n_hashes, 4);
    ck_assert_int_eq(acc_stateless_verify(&x->st, &x->p, x->l, x->n), UTXO_OK);
}

static void fixture_free(fixture *x)
{
    acc_proof_clear(&x->p);
    free(x->l);
    acc_forest_free(x->f);
}

/* Applies and asserts err, and that the state did not move. */
static void expect_reject(const acc_state *st, const acc_proof *p, const acc_hash *l, size_t n,
                          int err)
{
    acc_state s = *st;
    acc_hash add;

    memset(add, 0x5a, 32);
    ck_assert_int_eq(acc_stateless_apply(&s, p, l, n, &add, 1), err);
    ck_assert_mem_eq(&s, st, sizeof s);
}

START_TEST(reject_stale_roots)
{
    fixture x;
    acc_state old;
    uint64_t other;

    fixture_make(&x);
    old = x.st;
    /* delete another leaf of the same tree as the first target */
    for (other = x.t[0] + 1; other < acc_forest_count(x.f); other++) {
        acc_hash h;
        bool in = false;
        ck_assert_int_eq(acc_forest_leaf(x.f, other, h), UTXO_OK);
        for (size_t i = 0; i < x.n; i++)
            in |= x.t[i] == other;
        if (!in && !acc_is_empty(h))
            break;
    }
    ck_assert_uint_eq(acc_root_row(other, x.st.count), acc_root_row(x.t[0], x.st.count));
    delete_both(x.f, &x.st, &other, 1);
    expect_reject(&x.st, &x.p, x.l, x.n, UTXO_ERR_ACC_PROOF);
    /* and a fresh proof against the old roots */
    acc_proof_clear(&x.p);
    ck_assert_int_eq(acc_forest_prove(x.f, x.t, x.n, &x.p), UTXO_OK);
    expect_reject(&old, &x.p, x.l, x.n, UTXO_ERR_ACC_PROOF);
    /* adds leave a proof valid while its trees stay roots; once a target's
     * tree merges into a taller one, its path is one short: rejected */
    for (;;) {
        bool moved = false;
        forest_add_n(x.f, &x.st, 9, 1);
        for (size_t i = 0; i < x.n; i++)
            moved |= acc_root_row(x.t[i], x.st.count) != acc_root_row(x.t[i], x.st.count - 1);
        if (moved)
            break;
        ck_assert_int_eq(acc_stateless_verify(&x.st, &x.p, x.l, x.n), UTXO_OK);
    }
    expect_reject(&x.st, &x.p, x.l, x.n, UTXO_ERR_ACC_SIBLINGS);
    fixture_free(&x);
}
END_TEST

START_TEST(reject_wrong_leaf_data)
{
    fixture x;

    fixture_make(&x);
    for (size_t i = 0; i < x.n; i++) {
        acc_hash keep;
        memcpy(keep, x.l[i], 32);
        x.l[i][i % 32] ^= 0x10;
        expect_reject(&x.st, &x.p, x.l, x.n, UTXO_ERR_ACC_PROOF);
        /* the right output at the wrong position */
        leaf_for(x.l[i], 9, x.t[i] + 1);
        expect_reject(&x.st, &x.p, x.l, x.n, UTXO_ERR_ACC_PROOF);
        memcpy(x.l[i], keep, 32);
    }
    /* swapped leaves */
    {
        acc_hash tmp;
        memcpy(tmp, x.l[0], 32);
        memcpy(x.l[0], x.l[1], 32);
        memcpy(x.l[1], tmp, 32);
        expect_reject(&x.st, &x.p, x.l, x.n, UTXO_ERR_ACC_PROOF);
        memcpy(x.l[1], x.l[0], 32);
        memcpy(x.l[0], tmp, 32);
    }
    /* an empty leaf hash, a count mismatch */
    {
        acc_hash keep;
        memcpy(keep, x.l[2], 32);
        memset(x.l[2], 0, 32);
        expect_reject(&x.st, &x.p, x.l, x.n, UTXO_ERR_ARG);
        memcpy(x.l[2], keep, 32);
    }
    expect_reject(&x.st, &x.p, x.l, x.n - 1, UTXO_ERR_ARG);
    ck_assert_int_eq(acc_stateless_verify(&x.st, &x.p, x.l, x.n), UTXO_OK);
    fixture_free(&x);
}
END_TEST

START_TEST(reject_sibling_changes)
{
    fixture x;
    acc_proof q;

    fixture_make(&x);
    /* altered: every byte of every hash */
    for (size_t k = 0; k < x.p.n_hashes; k++)
        for (size_t b = 0; b < 32; b++) {
            x.p.hashes[k][b] ^= 0x01;
            expect_reject(&x.st, &x.p, x.l, x.n, UTXO_ERR_ACC_PROOF);
            x.p.hashes[k][b] ^= 0x01;
        }
    /* removed or added: rebuild with one slot less / more */
    for (int delta = -1; delta <= 1; delta += 2) {
        for (size_t drop = 0; drop < x.p.n_slots; drop++) {
            size_t ns = x.p.n_slots + (size_t)(delta < 0 ? -1 : 1), k = 0, hk = 0;
            acc_proof_init(&q);
            q.n_targets = x.n;
            q.targets = x.t;
            q.n_slots = ns;
            q.empty = calloc((ns + 7) / 8 + 1, 1);
            q.hashes = malloc((ns + 1) * sizeof *q.hashes);
            for (size_t j = 0; j < x.p.n_slots; j++) {
                const uint8_t *h = acc_proof_slot_empty(&x.p, j) ? NULL : x.p.hashes[hk++];
                if (delta < 0 && j == drop)
                    continue;
                if (h)
                    memcpy(q.hashes[q.n_hashes++], h, 32);
                else
                    q.empty[k >> 3] |= (uint8_t)(1u << (k & 7));
                k++;
                if (delta > 0 && j == drop) {
                    memset(q.hashes[q.n_hashes++], 0x33, 32);
                    k++;
                }
            }
            ck_assert_uint_eq(k, ns);
            expect_reject(&x.st, &q, x.l, x.n, UTXO_ERR_ACC_SIBLINGS);
            free(q.empty);
            free(q.hashes);
        }
    }
    /* a hash whose slot is marked non-empty but is missing (n_hashes short) */
    x.p.n_hashes--;
    expect_reject(&x.st, &x.p, x.l, x.n, UTXO_ERR_ACC_SIBLINGS);
    x.p.n_hashes++;
    ck_assert_int_eq(acc_stateless_verify(&x.st, &x.p, x.l, x.n), UTXO_OK);
    fixture_free(&x);
}
END_TEST

START_TEST(reject_bad_positions)
{
    fixture x;
    uint64_t keep;

    fixture_make(&x);
    /* out of order */
    keep = x.t[3];
    x.t[3] = x.t[4];
    x.t[4] = keep;
    x.p.targets[3] = x.t[3];
    x.p.targets[4] = x.t[4];
    expect_reject(&x.st, &x.p, x.l, x.n, UTXO_ERR_ACC_POSITION);
    x.p.targets[4] = x.p.targets[3];   /* duplicated */
    expect_reject(&x.st, &x.p, x.l, x.n, UTXO_ERR_ACC_POSITION);
    x.p.targets[3] = x.t[4];
    x.p.targets[4] = x.t[3];
    ck_assert_int_eq(acc_stateless_verify(&x.st, &x.p, x.l, x.n), UTXO_OK);
    /* beyond the count */
    keep = x.p.targets[x.n - 1];
    x.p.targets[x.n - 1] = x.st.count;
    expect_reject(&x.st, &x.p, x.l, x.n, UTXO_ERR_ACC_POSITION);
    x.p.targets[x.n - 1] = keep;
    ck_assert_int_eq(acc_stateless_verify(&x.st, &x.p, x.l, x.n), UTXO_OK);
    fixture_free(&x);
}
END_TEST

/* A target moved to its sibling's place, with its leaf hash recomputed
 * for the claimed position (what a validator does), is rejected; so is the
 * same through acc_stateless_apply_block, which must agree with the forest
 * when nothing is moved. */
START_TEST(reject_moved_target)
{
    fixture x;
    tleaf data[24];
    acc_leaf spent[24];
    acc_state s;

    fixture_make(&x);
    for (size_t i = 0; i < x.n; i++) {
        tleaf_make(&data[i], 9, x.t[i]);
        spent[i] = data[i].l;
    }
    for (size_t i = 0; i < x.n; i++) {
        uint64_t keep = x.p.targets[i];
        acc_hash hk;
        int rc;
        memcpy(hk, x.l[i], 32);
        x.p.targets[i] = keep ^ 1;
        leaf_at(x.l[i], 9, keep, keep ^ 1);
        s = x.st;
        rc = acc_stateless_delete(&s, &x.p, x.l, x.n, NULL);
        ck_assert_int_ne(rc, UTXO_OK);
        ck_assert_mem_eq(&s, &x.st, sizeof s);
        rc = acc_stateless_apply_block(&s, &x.p, spent, x.n, NULL, 0);
        ck_assert_int_ne(rc, UTXO_OK);
        ck_assert_mem_eq(&s, &x.st, sizeof s);
        x.p.targets[i] = keep;
        memcpy(x.l[i], hk, 32);
    }
    /* unmoved: the block entry point matches the forest, adds included */
    {
        tleaf made[3];
        acc_leaf created[3];
        s = x.st;
        for (int j = 0; j < 3; j++) {
            tleaf_make(&made[j], 9, s.count + (uint64_t)j);
            created[j] = made[j].l;
        }
        ck_assert_int_eq(acc_stateless_apply_block(&s, &x.p, spent, x.n, created, 3), UTXO_OK);
        ck_assert_int_eq(acc_forest_delete(x.f, x.t, x.n, NULL), UTXO_OK);
        forest_add_n(x.f, NULL, 9, 3);
        assert_forest_state(x.f, &s);
        ck_assert_int_eq(acc_stateless_apply_block(&s, &x.p, spent, x.n - 1, NULL, 0), UTXO_ERR_ARG);
    }
    fixture_free(&x);
}
END_TEST

START_TEST(reject_encoding_damage)
{
    fixture x;
    uint8_t *b, *c;
    size_t len, off;
    acc_proof q;

    fixture_make(&x);
    b = proof_bytes(&x.p, &len);
    c = malloc(len + 1);
    ck_assert_ptr_nonnull(c);
    acc_proof_init(&q);
    /* every truncation */
    for (size_t k = 0; k < len; k++) {
        ck_assert_int_ne(acc_proof_from_bytes(&q, b, k, x.st.count, &off), UTXO_OK);
        ck_assert_ptr_null(q.targets);
        ck_assert_ptr_null(q.hashes);
    }
    /* trailing bytes */
    memcpy(c, b, len);
    c[len] = 0;
    ck_assert_int_eq(acc_proof_from_bytes(&q, c, len + 1, x.st.count, &off), UTXO_ERR_TRAILING);
    ck_assert_uint_eq(off, len);
    /* every flipped byte: rejected by the decoder or by verification */
    for (size_t k = 0; k < len; k++) {
        acc_state s = x.st;
        int rc;
        memcpy(c, b, len);
        c[k] ^= 0x01;
        rc = acc_proof_from_bytes(&q, c, len, x.st.count, &off);
        if (rc == UTXO_OK) {
            rc = acc_stateless_delete(&s, &q, x.l, x.n, NULL);
            acc_proof_clear(&q);
        }
        ck_assert_msg(rc != UTXO_OK, "flip at byte %zu accepted", k);
        ck_assert_mem_eq(&s, &x.st, sizeof s);
    }
    /* decode against a different count: slot count or positions disagree */
    ck_assert_int_ne(acc_proof_from_bytes(&q, b, len, x.t[x.n - 1], &off), UTXO_OK);
    ck_assert_int_eq(acc_proof_from_bytes(&q, b, len, x.st.count, &off), UTXO_OK);
    acc_proof_clear(&q);
    free(b);
    free(c);
    fixture_free(&x);
}
END_TEST

START_TEST(decoder_hostile)
{
    acc_proof q;
    size_t off;

    acc_proof_init(&q);
    {   /* 2^20+1 targets */
        uint8_t b[] = {0x81, 0x80, 0x40};
        ck_assert_int_eq(acc_proof_from_bytes(&q, b, sizeof b, 1000, &off), UTXO_ERR_TOO_LARGE);
    }
    {   /* more targets than bytes */
        uint8_t b[] = {0x05, 0x00};
        ck_assert_int_eq(acc_proof_from_bytes(&q, b, sizeof b, 1000, &off), UTXO_ERR_TRUNCATED);
    }
    {   /* non-minimal varint */
        uint8_t b[] = {0x80, 0x00};
        ck_assert_int_eq(acc_proof_from_bytes(&q, b, sizeof b, 1000, &off), UTXO_ERR_NONCANONICAL);
    }
    {   /* empty proof */
        uint8_t b[] = {0x00, 0x00};
        ck_assert_int_eq(acc_proof_from_bytes(&q, b, sizeof b, 0, &off), UTXO_OK);
        ck_assert_uint_eq(q.n_targets, 0);
        ck_assert_int_eq(acc_proof_from_bytes(&q, b, 1, 0, &off), UTXO_ERR_TRUNCATED);
    }
    {   /* leaf 1 of 4 (targets: 1) needs 2 slots: (0,0) and (1,1) */
        uint8_t b[3 + 1 + 64];
        memset(b, 0x44, sizeof b);
        b[0] = 1, b[1] = 1, b[2] = 2, b[3] = 0x00;
        ck_assert_int_eq(acc_proof_from_bytes(&q, b, sizeof b, 4, &off), UTXO_OK);
        ck_assert_uint_eq(q.n_slots, 2);
        ck_assert_uint_eq(q.n_hashes, 2);
        acc_proof_clear(&q);
        b[3] = 0x04;   /* a padding bit */
        ck_assert_int_eq(acc_proof_from_bytes(&q, b, sizeof b, 4, &off), UTXO_ERR_NONCANONICAL);
        ck_assert_uint_eq(off, 3);
        b[3] = 0x01;   /* slot 0 empty: one hash too many */
        ck_assert_int_eq(acc_proof_from_bytes(&q, b, sizeof b, 4, &off), UTXO_ERR_TRAILING);
        ck_assert_int_eq(acc_proof_from_bytes(&q, b, sizeof b - 32, 4, &off), UTXO_OK);
        acc_proof_clear(&q);
        b[3] = 0x00;
        b[2] = 3;      /* extra slot */
        ck_assert_int_eq(acc_proof_from_bytes(&q, b, sizeof b, 4, &off), UTXO_ERR_ACC_SIBLINGS);
        ck_assert_uint_eq(off, 2);
        b[2] = 1;      /* missing slot */
        ck_assert_int_eq(acc_proof_from_bytes(&q, b, sizeof b, 4, &off), UTXO_ERR_ACC_SIBLINGS);
        b[2] = 2;
        memset(b + 4, 0, 32);   /* a zero hash in a non-empty slot */
        ck_assert_int_eq(acc_proof_from_bytes(&q, b, sizeof b, 4, &off), UTXO_ERR_NONCANONICAL);
        ck_assert_uint_eq(off, 4);
        ck_assert_int_eq(acc_proof_from_bytes(&q, b, sizeof b, 1, &off), UTXO_ERR_ACC_POSITION);
    }
    {   /* two targets, the gap makes the second pass the count */
        uint8_t b[] = {0x02, 0x01, 0x02};
        ck_assert_int_eq(acc_proof_from_bytes(&q, b, sizeof b, 4, &off), UTXO_ERR_ACC_POSITION);
        ck_assert_uint_eq(off, 2);
    }
    acc_proof_clear(&q);
    acc_proof_clear(NULL);
}
END_TEST

/* ---- edge cases ---------------------------------------------------------- */

START_TEST(edge_empty_and_single)
{
    acc_forest *f;
    acc_state st, s0;
    acc_proof p;
    acc_hash h, h2;
    uint64_t zero = 0;

    ck_assert_int_eq(acc_forest_new(&f), UTXO_OK);
    acc_state_init(&st);
    acc_proof_init(&p);
    /* empty forest: the empty proof verifies; any position is out of range */
    ck_assert_int_eq(acc_forest_prove(f, NULL, 0, &p), UTXO_OK);
    ck_assert_int_eq(acc_stateless_apply(&st, &p, NULL, 0, NULL, 0), UTXO_OK);
    ck_assert_uint_eq(st.count, 0);
    ck_assert_int_eq(acc_forest_prove(f, &zero, 1, &p), UTXO_ERR_ACC_POSITION);
    acc_proof_clear(&p);
    /* one leaf: its proof has no slot; deleting it empties the only root */
    forest_add_n(f, &st, 4, 1);
    ck_assert_int_eq(acc_forest_prove(f, &zero, 1, &p), UTXO_OK);
    ck_assert_uint_eq(p.n_slots, 0);
    ck_assert_uint_eq(acc_proof_get_length(&p), 3);   /* 01 00 00 */
    ck_assert_int_eq(acc_forest_leaf(f, 0, h), UTXO_OK);
    s0 = st;
    ck_assert_int_eq(acc_stateless_delete(&st, &p, &h, 1, NULL), UTXO_OK);
    ck_assert_int_eq(acc_forest_delete(f, &zero, 1, NULL), UTXO_OK);
    ck_assert(acc_is_empty(st.roots[0]));
    assert_forest_state(f, &st);
    /* spending it again */
    ck_assert_int_eq(acc_stateless_delete(&st, &p, &h, 1, NULL), UTXO_ERR_ACC_PROOF);
    ck_assert_int_eq(acc_forest_delete(f, &zero, 1, NULL), UTXO_ERR_ACC_SPENT);
    /* adds after deletes: parent(empty, new) = new */
    leaf_for(h2, 4, 1);
    ck_assert_int_eq(acc_state_add(&st, h2), UTXO_OK);
    ck_assert_int_eq(acc_forest_add(f, h2), UTXO_OK);
    ck_assert_mem_eq(st.roots[1], h2, 32);
    assert_forest_state(f, &st);
    ck_assert(!acc_state_equal(&st, &s0));
    acc_proof_clear(&p);
    acc_forest_free(f);
}
END_TEST

START_TEST(edge_subtrees)
{
    acc_forest *f;
    acc_state st;
    acc_hash l[16], n23;
    uint64_t t[16];

    ck_assert_int_eq(acc_forest_new(&f), UTXO_OK);
    acc_state_init(&st);
    forest_add_n(f, &st, 6, 16);
    for (unsigned i = 0; i < 16; i++)
        ck_assert_int_eq(acc_forest_leaf(f, i, l[i]), UTXO_OK);
    acc_parent(n23, l[2], l[3]);
    /* both children of node (1,0): node (2,0) becomes (1,1) moved up */
    t[0] = 0, t[1] = 1;
    delete_both(f, &st, t, 2);
    {
        acc_hash a, b, c, d, n4567, right, r;
        acc_parent(a, l[4], l[5]);
        acc_parent(b, l[6], l[7]);
        acc_parent(n4567, a, b);
        acc_parent(a, l[8], l[9]);
        acc_parent(b, l[10], l[11]);
        acc_parent(c, l[12], l[13]);
        acc_parent(d, l[14], l[15]);
        acc_parent(a, a, b);
        acc_parent(c, c, d);
        acc_parent(right, a, c);
        acc_parent(a, n23, n4567);   /* (2,0) moved up from (1,1) */
        acc_parent(r, a, right);
        ck_assert_mem_eq(st.roots[4], r, 32);
    }
    /* a whole subtree of 4 (leaves 4..7) */
    t[0] = 4, t[1] = 5, t[2] = 6, t[3] = 7;
    delete_both(f, &st, t, 4);
    /* now the left half of the tree is exactly (1,1) = H(l2, l3) */
    {
        acc_hash right, r;
        acc_hash a, b, c, d;
        acc_parent(a, l[8], l[9]);
        acc_parent(b, l[10], l[11]);
        acc_parent(c, l[12], l[13]);
        acc_parent(d, l[14], l[15]);
        acc_parent(a, a, b);
        acc_parent(c, c, d);
        acc_parent(right, a, c);
        acc_parent(r, n23, right);
        ck_assert_mem_eq(st.roots[4], r, 32);
    }
    /* delete everything that is left, in one batch */
    for (unsigned i = 0, k = 0; i < 16; i++)
        if (i == 2 || i == 3 || i >= 8)
            t[k++] = i;
    delete_both(f, &st, t, 10);
    ck_assert(acc_is_empty(st.roots[4]));
    /* and grow again */
    forest_add_n(f, &st, 6, 17);
    assert_forest_state(f, &st);
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

/* The worked example of docs/ACCUMULATOR.md, rebuilt: layout checked
 * field by field, values from independent pieces (leaf hashes, acc_parent). */
START_TEST(doc_worked_example)
{
    acc_forest *f;
    acc_state st;
    acc_hash l[6], h23, lv[2];
    acc_proof p;
    uint8_t *b;
    size_t len;
    uint64_t one = 1, t[2] = {0, 5};

    ck_assert_int_eq(acc_forest_new(&f), UTXO_OK);
    for (int i = 0; i < 6; i++) {
        utxo_outpoint op;
        utxo_output o;
        memset(op.txid, i + 1, 32);
        op.index = 0;
        memset(&o, 0, sizeof o);
        o.value = 1000u * (uint64_t)(i + 1);
        memset(o.predicate_id, 0xaa, 32);
        acc_leaf_hash(l[i], &op, &o, 1, (uint64_t)i);
        ck_assert_int_eq(acc_forest_add(f, l[i]), UTXO_OK);
    }
    ck_assert_int_eq(acc_forest_delete(f, &one, 1, NULL), UTXO_OK);
    ck_assert_int_eq(acc_forest_state(f, &st), UTXO_OK);
    acc_parent(h23, l[2], l[3]);
    {
        acc_hash r2, r1;
        acc_parent(r2, l[0], h23);   /* (1,0) = L0 moved up */
        acc_parent(r1, l[4], l[5]);
        ck_assert_mem_eq(st.roots[2], r2, 32);
        ck_assert_mem_eq(st.roots[1], r1, 32);
    }
    acc_proof_init(&p);
    ck_assert_int_eq(acc_forest_prove(f, t, 2, &p), UTXO_OK);
    b = proof_bytes(&p, &len);
    ck_assert_uint_eq(len, 69);
    ck_assert_int_eq(b[0], 2);
    ck_assert_int_eq(b[1], 0);
    ck_assert_int_eq(b[2], 4);
    ck_assert_int_eq(b[3], 3);
    ck_assert_int_eq(b[4], 0x01);
    ck_assert_mem_eq(b + 5, l[4], 32);
    ck_assert_mem_eq(b + 37, h23, 32);
    memcpy(lv[0], l[0], 32);
    memcpy(lv[1], l[5], 32);
    ck_assert_int_eq(acc_stateless_delete(&st, &p, lv, 2, NULL), UTXO_OK);
    ck_assert_mem_eq(st.roots[2], h23, 32);
    ck_assert_mem_eq(st.roots[1], l[4], 32);
    acc_proof_clear(&p);
    free(b);
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

static Suite *acc_suite(void)
{
    Suite *s = suite_create("acc");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, leaf_hash_layout);
    tcase_add_test(tc, parent_rule);
    tcase_add_test(tc, root_geometry);
    tcase_add_test(tc, state_matches_forest_on_adds);
    tcase_add_test(tc, state_encoding_and_digest);
    tcase_add_test(tc, sixty_four_roots);
    tcase_add_test(tc, proofs_at_high_positions);
    tcase_add_loop_test(tc, random_histories_agree, 0, 5);
    tcase_add_test(tc, single_and_union_proofs);
    tcase_add_test(tc, reject_stale_roots);
    tcase_add_test(tc, reject_wrong_leaf_data);
    tcase_add_test(tc, reject_sibling_changes);
    tcase_add_test(tc, reject_bad_positions);
    tcase_add_test(tc, reject_moved_target);
    tcase_add_test(tc, reject_encoding_damage);
    tcase_add_test(tc, decoder_hostile);
    tcase_add_test(tc, edge_empty_and_single);
    tcase_add_test(tc, edge_subtrees);
    tcase_add_test(tc, forest_argument_errors);
    tcase_add_loop_test(tc, wallet_proofs_follow_blocks, 0, 3);
    tcase_add_test(tc, doc_worked_example);
    tcase_add_test(tc, custom_store);
    tcase_add_test(tc, undo_blocks);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    if (sodium_init() < 0)
        return EXIT_FAILURE;
    return run_suite(acc_suite());
}
