/*
 * test_memtree.c — the paged memory tree (src/continuations/memtree.c):
 * roots against a naive recursive reference, empty-subtree constants,
 * "never touched" vs "touched, all zero", incremental re-rooting, and
 * multiproofs (round trip, strict decoding, tampering).
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "continuations/memtree.h"

#define HB UTXO_HASH_BYTES

/* A small model: up to 64 pages, each with its bytes. */
typedef struct model {
    uint32_t page[64];
    uint8_t data[64][MT_PAGE_BYTES];
    size_t n;
} model;

/* Naive root: recursion over [lo, lo + 2^level), empty when no page. */
static void naive(uint8_t out[HB], const model *m, unsigned level, uint32_t index)
{
    uint64_t lo = (uint64_t)index << level, hi = lo + ((uint64_t)1 << level);
    size_t hit = SIZE_MAX;
    int any = 0;
    for (size_t i = 0; i < m->n; i++)
        if (m->page[i] >= lo && m->page[i] < hi) {
            any = 1;
            hit = i;
        }
    if (!any) {
        memcpy(out, mt_empty(level), HB);
        return;
    }
    if (level == 0) {
        mt_leaf(out, m->data[hit]);
        return;
    }
    uint8_t l[HB], r[HB];
    naive(l, m, level - 1, 2 * index);
    naive(r, m, level - 1, 2 * index + 1);
    mt_node_hash(out, l, r);
}

static void model_set(model *m, uint32_t page, const uint8_t *d)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->page[i] == page) {
            memcpy(m->data[i], d, MT_PAGE_BYTES);
            return;
        }
    m->page[m->n] = page;
    memcpy(m->data[m->n++], d, MT_PAGE_BYTES);
}

START_TEST(empty_and_constants)
{
    mt_tree *t = mt_new();
    uint8_t root[HB], z[HB] = {0}, x[HB];
    ck_assert_ptr_nonnull(t);
    mt_root(t, root);
    ck_assert(memcmp(root, mt_empty(MT_DEPTH), HB) == 0);
    ck_assert(memcmp(mt_empty(0), z, HB) == 0);
    for (unsigned l = 1; l <= MT_DEPTH; l++) {
        mt_node_hash(x, mt_empty(l - 1), mt_empty(l - 1));
        ck_assert(memcmp(x, mt_empty(l), HB) == 0);
    }
    /* a materialised all-zero page is not the empty leaf */
    uint8_t zero[MT_PAGE_BYTES] = {0};
    mt_leaf(x, zero);
    ck_assert(memcmp(x, z, HB) != 0);
    ck_assert_int_eq(mt_set_page(t, 100, zero), UTXO_OK);
    ck_assert_int_eq(mt_commit(t), UTXO_OK);
    mt_root(t, root);
    ck_assert(memcmp(root, mt_empty(MT_DEPTH), HB) != 0);
    ck_assert_uint_eq(mt_count(t), 1);
    ck_assert_int_eq(mt_set_page(t, MT_NUM_PAGES, zero), UTXO_ERR_ARG);
    mt_free(t);
    mt_free(NULL);
}
END_TEST

START_TEST(roots_match_reference)
{
    uint64_t seed = 7;
    for (int round = 0; round < 40; round++) {
        model m = {.n = 0};
        mt_tree *t = mt_new();
        uint8_t d[MT_PAGE_BYTES], a[HB], b[HB];
        size_t n = 1 + rng_below(&seed, 40);
        for (size_t i = 0; i < n; i++) {
            uint32_t p;
            switch (rng_below(&seed, 3)) {
            case 0: p = rng_below(&seed, MT_NUM_PAGES); break;
            case 1: p = 64 + rng_below(&seed, 4096); break; /* clustered */
            default: p = MT_NUM_PAGES - 1 - rng_below(&seed, 8); break;
            }
            rng_fill(&seed, d, sizeof d);
            if (rng_below(&seed, 4) == 0)
                memset(d, 0, sizeof d);
            model_set(&m, p, d);
            ck_assert_int_eq(mt_set_page(t, p, d), UTXO_OK);
            if (rng_below(&seed, 3) == 0) { /* commit at random points */
                ck_assert_int_eq(mt_commit(t), UTXO_OK);
                naive(a, &m, MT_DEPTH, 0);
                mt_root(t, b);
                ck_assert(memcmp(a, b, HB) == 0);
            }
        }
        ck_assert_int_eq(mt_commit(t), UTXO_OK);
        naive(a, &m, MT_DEPTH, 0);
        mt_root(t, b);
        ck_assert(memcmp(a, b, HB) == 0);
        ck_assert_uint_eq(mt_count(t), m.n);
        for (size_t i = 0; i < m.n; i++)
            ck_assert(memcmp(mt_page(t, m.page[i]), m.data[i], MT_PAGE_BYTES) == 0);
        mt_free(t);
    }
}
END_TEST

static int cmp32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Proof of a random subset (present and absent pages) round-trips and
 * folds to the root; any change of a leaf or a sibling changes the root. */
START_TEST(multiproof_round_trip)
{
    uint64_t seed = 99;
    for (int round = 0; round < 60; round++) {
        mt_tree *t = mt_new();
        uint8_t d[MT_PAGE_BYTES], root[HB], got[HB];
        uint32_t pos[48];
        size_t n = 0;
        for (int i = 0; i < 30; i++) {
            rng_fill(&seed, d, sizeof d);
            ck_assert_int_eq(mt_set_page(t, 64 + rng_below(&seed, 1u << (4 + round % 18)), d),
                             UTXO_OK);
        }
        ck_assert_int_eq(mt_commit(t), UTXO_OK);
        mt_root(t, root);
        size_t want = round % 7 == 0 ? 0 : 1 + rng_below(&seed, 40);
        if (want > (1u << (4 + round % 18)) / 2)
            want = (1u << (4 + round % 18)) / 2;
        while (n < want) { /* distinct, some existing pages, some not */
            uint32_t p = 64 + rng_below(&seed, 1u << (4 + round % 18));
            int dup = 0;
            for (size_t i = 0; i < n; i++)
                dup |= pos[i] == p;
            if (!dup)
                pos[n++] = p;
        }
        qsort(pos, n, sizeof *pos, cmp32);
        enc cnt, w;
        enc_init(&cnt, NULL, 0, NULL);
        ck_assert_int_eq(mt_proof_write(&cnt, t, pos, n), UTXO_OK);
        uint8_t *buf = malloc(cnt.len + 1);
        enc_init(&w, buf, cnt.len, NULL);
        ck_assert_int_eq(mt_proof_write(&w, t, pos, n), UTXO_OK);
        ck_assert_uint_eq(w.len, cnt.len);

        uint8_t *levels = malloc(mt_proof_max(n));
        uint8_t (*leaves)[HB] = malloc((n ? n : 1) * HB);
        void *scratch = malloc(mt_fold_scratch(n));
        mt_proof pr;
        dec dd;
        dec_init(&dd, buf, w.len);
        mt_proof_read(&dd, &pr, pos, n);
        dec_end(&dd);
        ck_assert_int_eq(dec_result(&dd, NULL), UTXO_OK);
        ck_assert_uint_eq(pr.k, mt_proof_count(pos, n, NULL));
        for (size_t i = 0; i < n; i++) {
            const uint8_t *pg = mt_page(t, pos[i]);
            if (pg)
                mt_leaf(leaves[i], pg);
            else
                memset(leaves[i], 0, HB);
        }
        ck_assert_int_eq(mt_fold(got, &pr, pos, (uint8_t *)leaves, n, scratch), UTXO_OK);
        ck_assert(memcmp(got, root, HB) == 0);
        if (n > 0) { /* a changed leaf changes the root */
            leaves[n / 2][3] ^= 1;
            ck_assert_int_eq(mt_fold(got, &pr, pos, (uint8_t *)leaves, n, scratch), UTXO_OK);
            ck_assert(memcmp(got, root, HB) != 0);
            leaves[n / 2][3] ^= 1;
        }
        /* byte flips of the proof (every bitmap byte, sampled hash bytes):
         * rejected by decoding or a new root */
        for (size_t j = 0; j < 150; j++) {
            size_t i = j < (pr.k + 7) / 8 ? j : rng_below(&seed, (uint32_t)w.len);
            buf[i] ^= 0x10;
            dec_init(&dd, buf, w.len);
            mt_proof_read(&dd, &pr, pos, n);
            dec_end(&dd);
            if (dec_result(&dd, NULL) == UTXO_OK) {
                ck_assert_int_eq(mt_fold(got, &pr, pos, (uint8_t *)leaves, n, scratch), UTXO_OK);
                ck_assert(memcmp(got, root, HB) != 0);
            }
            buf[i] ^= 0x10;
        }
        /* every truncation fails, a trailing byte fails */
        for (size_t cut = 0; cut < w.len; cut += 1 + cut / 8) {
            dec_init(&dd, buf, cut);
            mt_proof_read(&dd, &pr, pos, n);
            dec_end(&dd);
            ck_assert_int_ne(dec_result(&dd, NULL), UTXO_OK);
        }
        buf[w.len] = 0;
        dec_init(&dd, buf, w.len + 1);
        mt_proof_read(&dd, &pr, pos, n);
        dec_end(&dd);
        ck_assert_int_eq(dec_result(&dd, NULL), UTXO_ERR_TRAILING);
        free(buf);
        free(levels);
        free(leaves);
        free(scratch);
        mt_free(t);
    }
}
END_TEST

/* A sibling sent as a hash although it is an empty subtree is refused. */
START_TEST(multiproof_noncanonical)
{
    uint32_t pos[1] = {1000};
    uint8_t levels[MT_DEPTH];
    size_t k = mt_proof_count(pos, 1, levels);
    ck_assert_uint_eq(k, MT_DEPTH);
    /* bitmap all clear except sibling 0; sibling 0 sent as the empty hash */
    uint8_t buf[3 + MT_DEPTH * HB];
    memset(buf, 0, sizeof buf);
    buf[0] = 0xfe, buf[1] = 0xff, buf[2] = 0x3f; /* bits 1..21 set */
    mt_proof pr;
    dec d;
    dec_init(&d, buf, 3 + HB);
    mt_proof_read(&d, &pr, pos, 1);
    ck_assert_int_eq(dec_result(&d, NULL), UTXO_ERR_NONCANONICAL);
    /* padding bit 22 set */
    buf[0] = 0xff, buf[2] = 0x7f;
    dec_init(&d, buf, 3);
    mt_proof_read(&d, &pr, pos, 1);
    ck_assert_int_eq(dec_result(&d, NULL), UTXO_ERR_NONCANONICAL);
    buf[2] = 0x3f; /* all empty: the proof of one page in an empty tree */
    dec_init(&d, buf, 3);
    mt_proof_read(&d, &pr, pos, 1);
    dec_end(&d);
    ck_assert_int_eq(dec_result(&d, NULL), UTXO_OK);
    uint8_t leaf[HB] = {0}, root[HB], scratch[64];
    ck_assert_uint_ge(sizeof scratch, mt_fold_scratch(1));
    ck_assert_int_eq(mt_fold(root, &pr, pos, leaf, 1, scratch), UTXO_OK);
    ck_assert(memcmp(root, mt_empty(MT_DEPTH), HB) == 0);
}
END_TEST

/* Re-rooting after changing a few pages of a big tree equals building it
 * afresh. */
START_TEST(incremental_rerooting)
{
    uint64_t seed = 5;
    mt_tree *t = mt_new(), *u;
    uint8_t d[MT_PAGE_BYTES], a[HB], b[HB];
    for (uint32_t p = 64; p < 64 + 5000; p++) {
        rng_fill(&seed, d, 16);
        memset(d + 16, (int)p, sizeof d - 16);
        ck_assert_int_eq(mt_set_page(t, p * 3, d), UTXO_OK);
    }
    ck_assert_int_eq(mt_commit(t), UTXO_OK);
    for (int i = 0; i < 50; i++) {
        uint32_t p = (64 + rng_below(&seed, 5000)) * 3;
        rng_fill(&seed, d, sizeof d);
        ck_assert_int_eq(mt_set_page(t, p, d), UTXO_OK);
    }
    ck_assert_int_eq(mt_commit(t), UTXO_OK);
    mt_root(t, a);
    u = mt_new();
    for (uint32_t p = 64; p < 64 + 5000; p++)
        ck_assert_int_eq(mt_set_page(u, p * 3, mt_page(t, p * 3)), UTXO_OK);
    ck_assert_int_eq(mt_commit(u), UTXO_OK);
    mt_root(u, b);
    ck_assert(memcmp(a, b, HB) == 0);
    mt_free(t);
    mt_free(u);
}
END_TEST

static Suite *memtree_suite(void)
{
    Suite *s = suite_create("memtree");
    TCase *tc = tcase_create("memtree");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, empty_and_constants);
    tcase_add_test(tc, roots_match_reference);
    tcase_add_test(tc, multiproof_round_trip);
    tcase_add_test(tc, multiproof_noncanonical);
    tcase_add_test(tc, incremental_rerooting);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(memtree_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
