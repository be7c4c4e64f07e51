/*
 * test_acc.c — the UTXO accumulator (src/witness), values and proofs: leaf
 * and node hashing checked against libsodium directly, the state encoding
 * and digest, the 64-root bound and positions at the top of the range,
 * proof rejection (stale roots, spent leaf, wrong data, every sibling
 * removed/altered/added, bad positions, every truncation, trailing bytes,
 * every flipped byte), edge cases, and the worked example of
 * docs/ACCUMULATOR.md. The forest side (random histories, undo, stores,
 * wallet updates) is in test_acc_forest.c.
 */
#include "config.h"

#include <check.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "acc_testutil.h"

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
    tcase_add_test(tc, reject_stale_roots);
    tcase_add_test(tc, reject_wrong_leaf_data);
    tcase_add_test(tc, reject_sibling_changes);
    tcase_add_test(tc, reject_bad_positions);
    tcase_add_test(tc, reject_moved_target);
    tcase_add_test(tc, reject_encoding_damage);
    tcase_add_test(tc, decoder_hostile);
    tcase_add_test(tc, edge_empty_and_single);
    tcase_add_test(tc, edge_subtrees);
    tcase_add_test(tc, doc_worked_example);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    if (sodium_init() < 0)
        return EXIT_FAILURE;
    return run_suite(acc_suite());
}
