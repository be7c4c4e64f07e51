/*
 * test_segments.c — continuations end to end: proving runs into segment
 * receipts, verifying them alone and as chains, and rejecting every kind of
 * tampering (docs/CONTINUATIONS.md, "Tests").
 *
 * The workload is tests/segments/work.img (source work.c next to it): a
 * software SHA-256 chain, a sieve, a page-touching sweep and optional
 * BLAKE2b host calls, chosen by its arguments. The committed image keeps
 * these tests independent of a RISC-V toolchain.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "vm_asm.h"
#include "utxo/segments.h"
#include "prover/receipt.h"
#include "utxo/codec.h"
#include "predicates/vm.h"
#include "chain/work_img.h"

static uint8_t *work_img;
static size_t work_len;

static void load_work(void)
{
    if (work_img)
        return;
    FILE *f = fopen(SEG_DIR "/work.img", "rb");
    ck_assert_ptr_nonnull(f);
    work_img = malloc(1 << 20);
    work_len = fread(work_img, 1, 1 << 20, f);
    fclose(f);
    ck_assert_uint_gt(work_len, 100);
    /* the copy compiled into `utxo bench segments` is the same image */
    ck_assert_uint_eq(work_len, sizeof chain_work_img);
    ck_assert(memcmp(work_img, chain_work_img, work_len) == 0);
}

/* The six argument words of work.c. */
typedef struct wargs {
    uint8_t b[24];
} wargs;

static wargs W(uint32_t rounds, uint32_t sieve, uint32_t hcall, uint32_t touch, uint32_t expect,
               uint32_t passes)
{
    uint32_t w[6] = {rounds, sieve, hcall, touch, expect, passes};
    wargs a;
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 4; j++)
            a.b[4 * i + j] = (uint8_t)(w[i] >> (8 * j));
    return a;
}

typedef struct rlist {
    utxo_receipt **r;
    size_t n, cap;
    int keep; /* 0: count and free as they come */
    uint64_t bytes;
} rlist;

static int collect(void *ud, utxo_receipt *r)
{
    rlist *l = ud;
    size_t len;
    (void)utxo_receipt_bytes(r, &len);
    l->bytes += len;
    if (!l->keep) {
        l->n++;
        utxo_receipt_free(r);
        return 0;
    }
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->r = realloc(l->r, l->cap * sizeof *l->r);
        ck_assert_ptr_nonnull(l->r);
    }
    l->r[l->n++] = r;
    return 0;
}

static void rlist_free(rlist *l)
{
    for (size_t i = 0; i < l->n && l->keep; i++)
        utxo_receipt_free(l->r[i]);
    free(l->r);
    memset(l, 0, sizeof *l);
}

static int prove(rlist *l, const wargs *a, uint64_t budget, unsigned po2, uint32_t limit,
                 utxo_vm_result *res)
{
    memset(l, 0, sizeof *l);
    l->keep = 1;
    return utxo_segments_prove(res, work_img, work_len, a->b, sizeof a->b, NULL, budget, po2,
                               limit, collect, l);
}

static int verify(const rlist *l, const wargs *a, uint64_t budget, uint32_t limit,
                  unsigned threads, utxo_vm_result *res)
{
    return utxo_segments_verify(res, work_img, work_len, a->b, sizeof a->b, NULL, budget, limit,
                                (const utxo_receipt *const *)l->r, l->n, threads);
}

static void same_result(const utxo_vm_result *a, const utxo_vm_result *b)
{
    ck_assert_int_eq(a->status, b->status);
    ck_assert_int_eq(a->fail, b->fail);
    ck_assert_uint_eq(a->exit_code, b->exit_code);
    ck_assert_uint_eq(a->pc, b->pc);
    ck_assert_uint_eq(a->cycles, b->cycles);
}


/* ---- checkpoints: groups proven apart ------------------------------------ */

typedef struct clist {
    uint8_t **b;
    size_t *len;
    uint32_t *seg;
    size_t n, cap;
} clist;

static int collect_ckpt(void *ud, uint32_t segment, const uint8_t *bytes, size_t len)
{
    clist *c = ud;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 8;
        c->b = realloc(c->b, c->cap * sizeof *c->b);
        c->len = realloc(c->len, c->cap * sizeof *c->len);
        c->seg = realloc(c->seg, c->cap * sizeof *c->seg);
        ck_assert(c->b && c->len && c->seg);
    }
    c->b[c->n] = malloc(len);
    ck_assert_ptr_nonnull(c->b[c->n]);
    memcpy(c->b[c->n], bytes, len);
    c->len[c->n] = len;
    c->seg[c->n++] = segment;
    return 0;
}

static void clist_free(clist *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->b[i]);
    free(c->b);
    free(c->len);
    free(c->seg);
    memset(c, 0, sizeof *c);
}

/* The run split every `every` segments and each group proven from its
 * checkpoint alone gives the whole proof's receipts, byte for byte, and its
 * outcome; only the last group finishes the run. */
static void check_groups(const uint8_t *img, size_t img_len, const uint8_t *args, size_t args_len,
                         const utxo_txctx *ctx, uint64_t budget, unsigned po2, uint32_t limit,
                         uint32_t every)
{
    utxo_vm_result whole, split, part;
    rlist l = {0}, m = {0};
    clist c = {0};
    uint32_t segs = 99;
    int wrc, src;

    l.keep = m.keep = 1;
    wrc = utxo_segments_prove(&whole, img, img_len, args, args_len, ctx, budget, po2, limit,
                              collect, &l);
    src = utxo_segments_split(&split, &segs, img, img_len, args, args_len, ctx, budget, po2,
                              limit, every, collect_ckpt, &c);
    ck_assert_int_eq(src, wrc);
    if (wrc != UTXO_OK)
        goto out;
    same_result(&whole, &split);
    ck_assert_uint_eq(segs, l.n);
    ck_assert_uint_eq(c.n, (l.n + every - 1) / every);
    for (size_t k = 0; k < c.n; k++) {
        utxo_checkpoint_info info;
        int fin = -1;
        ck_assert_uint_eq(c.seg[k], k * every);
        ck_assert_int_eq(utxo_checkpoint_info_get(&info, c.b[k], c.len[k], NULL), UTXO_OK);
        ck_assert_uint_eq(info.segment, k * every);
        ck_assert_uint_eq(info.span, every);
        ck_assert_int_eq(utxo_segments_prove_from(&part, &fin, c.b[k], c.len[k], NULL, img,
                                                  img_len, args, args_len, ctx, budget, po2,
                                                  limit, collect, &m),
                         UTXO_OK);
        ck_assert_int_eq(fin, k + 1 == c.n);
        ck_assert_uint_eq(m.n, k + 1 == c.n ? l.n : (k + 1) * every);
        if (fin)
            same_result(&whole, &part);
    }
    ck_assert_uint_eq(m.n, l.n);
    for (size_t i = 0; i < l.n; i++) {
        size_t x, y;
        const uint8_t *p = utxo_receipt_bytes(l.r[i], &x), *q = utxo_receipt_bytes(m.r[i], &y);
        ck_assert_uint_eq(x, y);
        ck_assert(memcmp(p, q, x) == 0);
    }
out:
    rlist_free(&l);
    rlist_free(&m);
    clist_free(&c);
}

/* ---- a run of more than 10^8 cycles -------------------------------------- */

START_TEST(long_run_splits_and_verifies)
{
    wargs a = W(20000, 1 << 20, 0, 4096, 0xffffffffu, 1);
    utxo_vm_result plain, proved, checked, one;
    uint64_t budget = 400000000;
    rlist l;

    load_work();
    ck_assert_int_eq(utxo_predicate_run(&plain, work_img, work_len, a.b, sizeof a.b, NULL, budget),
                     UTXO_OK);
    ck_assert_int_eq(plain.status, UTXO_VM_ACCEPTED);
    ck_assert_uint_gt(plain.cycles, 100000000u);
    ck_assert_int_eq(prove(&l, &a, budget, 20, 0, &proved), UTXO_OK);
    same_result(&plain, &proved);
    /* Every segment but the last is 2^20 cycles, or up to one page charge
     * more (the program makes no host call in its loops), so the count is
     * at most the ceiling -- or one more when the final HALT would have
     * crossed the last boundary. */
    size_t expect = (size_t)((plain.cycles + (1u << 20) - 1) >> 20);
    ck_assert(l.n <= expect + 1 &&
              l.n + 1 >= (size_t)(plain.cycles / ((1u << 20) + UTXO_ABI_PAGE_CYCLES)));
    for (size_t i = 0; i + 1 < l.n; i++) {
        utxo_receipt_info info, next;
        utxo_receipt_get_info(l.r[i], &info);
        utxo_receipt_get_info(l.r[i + 1], &next);
        ck_assert_uint_eq(info.index, i);
        ck_assert_int_eq(info.final, 0);
        /* A segment ends at the first instruction boundary at or past
         * 2^20 cycles: a load or store that charges a fresh page
         * (UTXO_ABI_PAGE_CYCLES) just before it can carry it past. */
        if (i + 2 < l.n) {
            ck_assert_uint_ge(next.cycles_before - info.cycles_before, 1u << 20);
            ck_assert_uint_le(next.cycles_before - info.cycles_before,
                              (1u << 20) + UTXO_ABI_PAGE_CYCLES);
        }
    }
    ck_assert_int_eq(verify(&l, &a, budget, 0, 2, &checked), UTXO_OK);
    same_result(&plain, &checked);
    ck_assert_int_eq(verify(&l, &a, budget, 0, 1, &one), UTXO_OK);
    same_result(&plain, &one);
    rlist_free(&l);
}
END_TEST

/* ---- split == unsplit, many programs and po2 values -------------------- */

static void check_equal(const wargs *a, uint64_t budget, unsigned po2);
#define CHECK(budget, po2, ...)                                              \
    do {                                                                     \
        wargs t_ = W(__VA_ARGS__);                                           \
        check_equal(&t_, (budget), (po2));                                   \
    } while (0)

static void check_equal(const wargs *a, uint64_t budget, unsigned po2)
{
    utxo_vm_result plain, proved, checked;
    rlist l;
    ck_assert_int_eq(utxo_predicate_run(&plain, work_img, work_len, a->b, sizeof a->b, NULL, budget),
                     UTXO_OK);
    ck_assert_int_eq(prove(&l, a, budget, po2, 0, &proved), UTXO_OK);
    same_result(&plain, &proved);
    ck_assert_uint_ge(l.n, 1);
    /* the prover's chains keep the length bound the verifier enforces
     * (seg_count_fits allows one more) */
    ck_assert_uint_le(l.n, 2 * (budget >> po2) + 1);
    ck_assert_int_eq(verify(&l, a, budget, 0, 2, &checked), UTXO_OK);
    same_result(&plain, &checked);
    check_groups(work_img, work_len, a->b, sizeof a->b, NULL, budget, po2, 0,
                 1 + (uint32_t)(l.n / 3));
    rlist_free(&l);
}

START_TEST(split_equals_unsplit)
{
    static const unsigned po2s[] = {10, 11, 12, 14, 17, 20, 24};
    load_work();
    for (size_t k = 0; k < sizeof po2s / sizeof po2s[0]; k++) {
        unsigned po2 = po2s[k];
        CHECK(1000000, po2, 0, 0, 0, 0, 0xffffffffu, 0);        /* accept */
        CHECK(1000000, po2, 3, 0, 0, 0, 12345, 0);              /* reject */
        CHECK(10000000, po2, 60, 5000, 7, 64, 0xffffffffu, 3); /* host calls */
        CHECK(10000000, po2, 40, 0, 1, 0, 0xffffffffu, 0);     /* every round */
        CHECK(100000, po2, 50, 20000, 0, 300, 0xffffffffu, 2); /* out of cycles */
        /* out of cycles exactly at a host call and around segment ends */
        for (uint64_t b = 1020; b < 1050; b += 3)
            CHECK(b * 7, po2, 2, 0, 1, 0, 0xffffffffu, 0);
        CHECK(100000000, po2, 0, 0, 0, 17000, 0xffffffffu, 1); /* page limit */
        CHECK(0, po2, 1, 0, 0, 0, 0xffffffffu, 0);                /* budget 0: nothing runs */
        CHECK(1, po2, 1, 0, 0, 0, 0xffffffffu, 0);
    }
}
END_TEST

/* Random workloads, budgets and segment sizes: split == unsplit, verified. */
START_TEST(random_configurations)
{
    uint64_t seed = 2026;
    load_work();
    for (int i = 0; i < 40; i++) {
        uint32_t rounds = rng_below(&seed, 12), sieve = rng_below(&seed, 3) ? 0 : rng_below(&seed, 40000);
        uint32_t hcall = rng_below(&seed, 4), touch = rng_below(&seed, 2) ? 0 : rng_below(&seed, 400);
        uint32_t expect = rng_below(&seed, 2) ? 0xffffffffu : (uint32_t)rng_next(&seed);
        uint32_t passes = rng_below(&seed, 4);
        uint64_t budget = rng_below(&seed, 4) == 0 ? 1 + rng_below(&seed, 200000) : 50000000;
        unsigned po2 = 10 + rng_below(&seed, 7);
        wargs a = W(rounds, sieve, hcall, touch, expect, passes);
        check_equal(&a, budget, po2);
    }
}
END_TEST

/* Every budget across a range: the split run ends exactly as the whole one
 * (outcome, pc, cycles), including out of cycles inside host calls. */
START_TEST(every_budget_small_po2)
{
    wargs a = W(1, 0, 1, 2, 0xffffffffu, 1);
    utxo_vm_result plain;
    load_work();
    ck_assert_int_eq(utxo_predicate_run(&plain, work_img, work_len, a.b, sizeof a.b, NULL, 1u << 30),
                     UTXO_OK);
    ck_assert_int_eq(plain.status, UTXO_VM_ACCEPTED);
    for (uint64_t b = plain.cycles - 300; b <= plain.cycles + 1; b++)
        check_equal(&a, b, 10);
}
END_TEST

/* ---- the page limit is split-invariant --------------------------------- */

START_TEST(page_limit_split_invariant)
{
    load_work();
    /* Find the page count of a touching run, then run it with limits of
     * exactly that many pages (accepts) and one fewer (MEMORY_LIMIT), split
     * into small segments so pages are counted across many receipts. */
    wargs a = W(2, 3000, 0, 200, 0xffffffffu, 2);
    utxo_vm_result big, r1, r2, c1, c2;
    rlist l;
    ck_assert_int_eq(prove(&l, &a, 50000000, 10, 100000, &big), UTXO_OK);
    ck_assert_int_eq(big.status, UTXO_VM_ACCEPTED);
    utxo_receipt_info last;
    utxo_receipt_get_info(l.r[l.n - 1], &last);
    rlist_free(&l);
    /* pages at the end = pages before the last segment + those it adds;
     * find it by bisection on the limit instead (no API needed). */
    uint32_t lo = 1, hi = 100000;
    while (lo < hi) { /* smallest limit that accepts */
        uint32_t mid = lo + (hi - lo) / 2;
        utxo_vm_result r;
        ck_assert_int_eq(prove(&l, &a, 50000000, 24, mid, &r), UTXO_OK);
        rlist_free(&l);
        if (r.status == UTXO_VM_ACCEPTED)
            hi = mid;
        else
            lo = mid + 1;
    }
    ck_assert_uint_gt(lo, 200);
    ck_assert_int_eq(prove(&l, &a, 50000000, 10, lo, &r1), UTXO_OK);
    ck_assert_int_eq(r1.status, UTXO_VM_ACCEPTED);
    ck_assert_uint_gt(l.n, 10);
    ck_assert_int_eq(verify(&l, &a, 50000000, lo, 2, &c1), UTXO_OK);
    same_result(&r1, &c1);
    rlist_free(&l);
    ck_assert_int_eq(prove(&l, &a, 50000000, 10, lo - 1, &r2), UTXO_OK);
    ck_assert_int_eq(r2.status, UTXO_VM_FAILED);
    ck_assert_int_eq(r2.fail, UTXO_VM_FAIL_MEMORY_LIMIT);
    ck_assert_int_eq(verify(&l, &a, 50000000, lo - 1, 2, &c2), UTXO_OK);
    same_result(&r2, &c2);
    rlist_free(&l);
    /* The unsplit runs agree (po2 24 is one segment for this run). */
    utxo_vm_result u1, u2;
    ck_assert_int_eq(prove(&l, &a, 50000000, 24, lo, &u1), UTXO_OK);
    ck_assert_uint_eq(l.n, 1);
    rlist_free(&l);
    ck_assert_int_eq(prove(&l, &a, 50000000, 24, lo - 1, &u2), UTXO_OK);
    rlist_free(&l);
    same_result(&u1, &r1);
    same_result(&u2, &r2);
    /* Under the default limit the plain API gives the same (16 MiB). */
    wargs t = W(0, 0, 0, 16384, 0xffffffffu, 1);
    check_equal(&t, 100000000, 12);
}
END_TEST

/* ---- tampering ----------------------------------------------------------- */

/* A chain is accepted only as produced; each mutation must be rejected by
 * the decoder, by verifying the receipt alone, or by the chain rules. */
static int chain_ok(rlist *l, const wargs *a, uint64_t budget)
{
    utxo_vm_result r;
    return verify(l, a, budget, 0, 1, &r) == UTXO_OK;
}

static void flip_check(rlist *l, const wargs *a, uint64_t budget, size_t k, size_t pos)
{
    size_t len;
    const uint8_t *b = utxo_receipt_bytes(l->r[k], &len);
    uint8_t *copy = malloc(len);
    utxo_receipt *bad = NULL, *orig = l->r[k];
    memcpy(copy, b, len);
    copy[pos] ^= (uint8_t)(1u << (pos % 8));
    if (utxo_receipt_from_bytes(&bad, copy, len, NULL) == UTXO_OK) {
        utxo_receipt_check chk;
        int alone = utxo_receipt_verify(&chk, bad, NULL);
        l->r[k] = bad;
        int chained = chain_ok(l, a, budget);
        l->r[k] = orig;
        if (chained)
            ck_abort_msg("receipt %zu byte %zu flipped: chain still verifies (alone: %d)", k, pos,
                         alone);
    }
    utxo_receipt_free(bad);
    free(copy);
}

START_TEST(flip_every_byte_small)
{
    wargs a = W(1, 0, 1, 0, 0xffffffffu, 0);
    uint64_t budget = 100000;
    utxo_vm_result res;
    rlist l;
    load_work();
    ck_assert_int_eq(prove(&l, &a, budget, 10, 0, &res), UTXO_OK);
    ck_assert_uint_ge(l.n, 4);
    ck_assert(chain_ok(&l, &a, budget));
    /* every byte of the first, one middle and the last receipt */
    size_t pick[3] = {0, l.n / 2, l.n - 1};
    for (int j = 0; j < 3; j++) {
        size_t len;
        (void)utxo_receipt_bytes(l.r[pick[j]], &len);
        for (size_t pos = 0; pos < len; pos++)
            flip_check(&l, &a, budget, pick[j], pos);
    }
    rlist_free(&l);
}
END_TEST

START_TEST(flip_sampled_bytes_large)
{
    wargs a = W(30, 30000, 4, 600, 0xffffffffu, 2);
    uint64_t budget = 10000000, seed = 42;
    utxo_vm_result res;
    rlist l;
    load_work();
    ck_assert_int_eq(prove(&l, &a, budget, 16, 0, &res), UTXO_OK);
    ck_assert(chain_ok(&l, &a, budget));
    for (size_t k = 0; k < l.n; k++) {
        size_t len;
        (void)utxo_receipt_bytes(l.r[k], &len);
        for (int s = 0; s < 150; s++)
            flip_check(&l, &a, budget, k, rng_below(&seed, (uint32_t)len));
        flip_check(&l, &a, budget, k, len - 1);
    }
    rlist_free(&l);
}
END_TEST

START_TEST(reorder_drop_duplicate_swap)
{
    wargs a = W(2, 0, 1, 8, 0xffffffffu, 1), b = W(2, 0, 1, 8, 0xffffffffu, 2);
    uint64_t budget = 1000000;
    utxo_vm_result res;
    rlist l, m;
    load_work();
    ck_assert_int_eq(prove(&l, &a, budget, 10, 0, &res), UTXO_OK);
    ck_assert_int_eq(prove(&m, &b, budget, 10, 0, &res), UTXO_OK);
    ck_assert_uint_ge(l.n, 5);
    ck_assert(chain_ok(&l, &a, budget));
    ck_assert(chain_ok(&m, &b, budget));
    ck_assert(!chain_ok(&m, &a, budget)); /* another run's whole chain */
    utxo_receipt **saved = malloc(l.n * sizeof *saved);
    memcpy(saved, l.r, l.n * sizeof *saved);
    size_t n = l.n;
    for (size_t i = 0; i + 1 < n; i++) { /* swap neighbours */
        l.r[i] = saved[i + 1];
        l.r[i + 1] = saved[i];
        ck_assert(!chain_ok(&l, &a, budget));
        memcpy(l.r, saved, n * sizeof *saved);
    }
    for (size_t i = 0; i < n; i++) { /* drop one */
        memmove(l.r + i, l.r + i + 1, (n - i - 1) * sizeof *l.r);
        l.n = n - 1;
        ck_assert(!chain_ok(&l, &a, budget));
        memcpy(l.r, saved, n * sizeof *saved);
        l.n = n;
    }
    l.r = realloc(l.r, (n + 1) * sizeof *l.r);
    for (size_t i = 0; i < n; i++) { /* duplicate one */
        memmove(l.r + i + 1, saved + i, (n - i) * sizeof *l.r);
        memcpy(l.r, saved, (i + 1) * sizeof *l.r);
        l.n = n + 1;
        ck_assert(!chain_ok(&l, &a, budget));
    }
    memcpy(l.r, saved, n * sizeof *saved);
    l.n = n;
    for (size_t i = 0; i < n && i < m.n; i++) { /* swap in the other run's */
        l.r[i] = m.r[i];
        ck_assert(!chain_ok(&l, &a, budget));
        l.r[i] = saved[i];
    }
    ck_assert(chain_ok(&l, &a, budget));
    /* the same chain against another budget, other arguments */
    ck_assert(!chain_ok(&l, &a, budget + 1));
    free(saved);
    rlist_free(&l);
    rlist_free(&m);
}
END_TEST

/* The claims that cost nothing are checked before a receipt is re-executed
 * (up to 2^po2 cycles each, whatever the run's budget): a receipt at
 * another place in the chain, or a chain longer than the budget allows, is
 * refused unrun. Shown by receipts that would also fail their re-execution
 * (post digest changed): the verdict is the cheap one. Before, every
 * receipt was re-executed first, so a bundle of copies of one heavy receipt
 * cost minutes of CPU for a run of any budget. */
START_TEST(cheap_claims_before_reexecution)
{
    wargs a = W(2, 0, 1, 8, 0xffffffffu, 1);
    uint64_t budget = 1000000;
    utxo_vm_result res;
    rlist l;
    load_work();
    ck_assert_int_eq(prove(&l, &a, budget, 10, 0, &res), UTXO_OK);
    ck_assert_uint_ge(l.n, 5);
    ck_assert(chain_ok(&l, &a, budget));
    utxo_receipt *r2 = l.r[2];
    r2->post_digest[0] ^= 1;
    /* alone at its place, the changed receipt fails its re-execution */
    ck_assert_int_eq(verify(&l, &a, budget, 0, 1, &res), UTXO_ERR_SEG_POST);
    /* 64 copies of it: the first is at place 0, not 2 */
    const utxo_receipt *copies[64];
    for (size_t i = 0; i < 64; i++)
        copies[i] = r2;
    ck_assert_int_eq(utxo_segments_verify(&res, work_img, work_len, a.b, sizeof a.b, NULL, budget, 0,
                                          copies, 64, 2),
                     UTXO_ERR_SEG_CHAIN);
    r2->post_digest[0] ^= 1;
    rlist_free(&l);
    /* a run of budget 1000 (one segment at po2 10: it runs out of cycles),
     * its receipt changed: three copies are more than 2 * 0 + 2 and are
     * refused for their number; two are allowed, and the re-execution of
     * the first one speaks */
    ck_assert_int_eq(prove(&l, &a, 1000, 10, 0, &res), UTXO_OK);
    ck_assert_uint_eq(l.n, 1);
    l.r[0]->post_digest[0] ^= 1;
    const utxo_receipt *three[3] = {l.r[0], l.r[0], l.r[0]};
    ck_assert_int_eq(utxo_segments_verify(&res, work_img, work_len, a.b, sizeof a.b, NULL, 1000, 0,
                                          three, 3, 1),
                     UTXO_ERR_SEG_CHAIN);
    ck_assert_int_eq(utxo_segments_verify(&res, work_img, work_len, a.b, sizeof a.b, NULL, 1000, 0,
                                          three, 2, 1),
                     UTXO_ERR_SEG_POST);
    rlist_free(&l);
}
END_TEST

/* A witness that omits a touched page, or holds one the segment never
 * touches, is consistent with the memory root but rejected. */
START_TEST(witness_missing_or_extra_page)
{
    wargs a = W(3, 2000, 1, 16, 0xffffffffu, 1);
    uint64_t budget = 10000000;
    utxo_vm_result res, good;
    rlist l;
    load_work();
    ck_assert_int_eq(prove(&l, &a, budget, 12, 0, &good), UTXO_OK);
    size_t n = l.n;
    uint32_t wit[64] = {0}; /* witness pages of each segment */
    ck_assert_uint_le(n, 64);
    for (size_t i = 0; i < n; i++) {
        utxo_receipt_info info;
        utxo_receipt_get_info(l.r[i], &info);
        wit[i] = info.witness_pages;
    }
    rlist_free(&l);
    for (uint32_t seg = 0; seg < n; seg += 1 + n / 5) {
        ck_assert_uint_ge(wit[seg], 1);
        for (long drop = 0; drop < 3 && drop < (long)wit[seg]; drop++) {
            seg_prove_opts o = {seg, drop, 0};
            memset(&l, 0, sizeof l);
            l.keep = 1;
            ck_assert_int_eq(seg_prove(&res, work_img, work_len, a.b, sizeof a.b, NULL, budget, 12,
                                       0, collect, &l, &o),
                             UTXO_OK);
            utxo_receipt_check chk;
            ck_assert_int_eq(utxo_receipt_verify(&chk, l.r[seg], NULL), UTXO_ERR_SEG_WITNESS);
            ck_assert(!chain_ok(&l, &a, budget));
            rlist_free(&l);
        }
        /* an extra page nobody touches (empty), and an extra existing one */
        uint32_t extra[2] = {0x40000000u >> 10, 0x20000u >> 10};
        for (int j = 0; j < 2; j++) {
            seg_prove_opts o = {seg, -1, extra[j]};
            memset(&l, 0, sizeof l);
            l.keep = 1;
            ck_assert_int_eq(seg_prove(&res, work_img, work_len, a.b, sizeof a.b, NULL, budget, 12,
                                       0, collect, &l, &o),
                             UTXO_OK);
            utxo_receipt_check chk;
            int rc = utxo_receipt_verify(&chk, l.r[seg], NULL);
            ck_assert_msg(rc == UTXO_ERR_SEG_WITNESS || rc == UTXO_OK, "rc %d", rc);
            if (rc == UTXO_OK) /* the page was in the witness already */
                ck_assert(chain_ok(&l, &a, budget));
            else
                ck_assert(!chain_ok(&l, &a, budget));
            rlist_free(&l);
        }
    }
}
END_TEST

/* Same input, same receipts byte for byte; a host call larger than a
 * segment fails cleanly. */
START_TEST(deterministic_and_hostcall_limit)
{
    wargs a = W(20, 4000, 3, 32, 0xffffffffu, 1);
    utxo_vm_result r1, r2;
    rlist l, m;
    load_work();
    ck_assert_int_eq(prove(&l, &a, 10000000, 11, 0, &r1), UTXO_OK);
    ck_assert_int_eq(prove(&m, &a, 10000000, 11, 0, &r2), UTXO_OK);
    ck_assert_uint_eq(l.n, m.n);
    for (size_t i = 0; i < l.n; i++) {
        size_t x, y;
        const uint8_t *p = utxo_receipt_bytes(l.r[i], &x), *q = utxo_receipt_bytes(m.r[i], &y);
        ck_assert_uint_eq(x, y);
        ck_assert(memcmp(p, q, x) == 0);
        /* decode(encode(x)) == x and every truncation fails */
        utxo_receipt *d = NULL;
        ck_assert_int_eq(utxo_receipt_from_bytes(&d, p, x, NULL), UTXO_OK);
        size_t z;
        const uint8_t *pz = utxo_receipt_bytes(d, &z);
        ck_assert(z == x && memcmp(pz, p, x) == 0);
        utxo_receipt_free(d);
        for (size_t cut = 0; cut < x; cut += (i == 0 ? 1 : 97)) {
            ck_assert_int_ne(utxo_receipt_from_bytes(&d, p, cut, NULL), UTXO_OK);
            ck_assert_ptr_null(d);
        }
        uint8_t *longer = malloc(x + 1);
        memcpy(longer, p, x);
        longer[x] = 0;
        ck_assert_int_eq(utxo_receipt_from_bytes(&d, longer, x + 1, NULL), UTXO_ERR_TRAILING);
        free(longer);
    }
    rlist_free(&l);
    rlist_free(&m);
    ck_assert_int_eq(prove(&l, &a, 10000000, 9, 0, &r1), UTXO_ERR_ARG);
    rlist_free(&l);
    ck_assert_int_eq(prove(&l, &a, 10000000, 25, 0, &r1), UTXO_ERR_ARG);
    rlist_free(&l);
}
END_TEST

/* A BLAKE2b host call over 4 KiB costs 120 + 96*32 + 512 + 4 = 3708
 * cycles: more than a 2^10 segment (proving fails cleanly), less than 2^12. */
START_TEST(hostcall_larger_than_segment)
{
    uint32_t code[] = {
        ADDI(5, 0, 500),        /* ~1000 cycles first, so the call crosses 4096 */
        ADDI(5, 5, -1),
        BNE(5, 0, -4),
        LUI(10, 0x20),          /* a0 = 0x20000: hash the code page and on */
        LUI(11, 0x1),           /* a1 = 4096 */
        LUI(12, 0x40000),       /* a2 = 0x40000000 */
        ADDI(17, 0, 11),        /* a7 = BLAKE2B */
        ECALL(),
        ADDI(10, 0, 0),
        ADDI(17, 0, 0),
        ECALL(),
    };
    uint8_t img[10 + 8 + sizeof code];
    memcpy(img, "UTXP\x01\x01", 6);
    img[6] = 0x00, img[7] = 0x00, img[8] = 0x02, img[9] = 0x00;     /* entry 0x20000 */
    img[10] = 0x00, img[11] = 0x00, img[12] = 0x02, img[13] = 0x00; /* vaddr */
    img[14] = sizeof code, img[15] = img[16] = img[17] = 0;
    for (size_t i = 0; i < sizeof code / 4; i++)
        for (int j = 0; j < 4; j++)
            img[18 + 4 * i + j] = (uint8_t)(code[i] >> (8 * j));
    utxo_vm_result plain, res, chk;
    rlist l = {0};
    l.keep = 1;
    ck_assert_int_eq(utxo_predicate_run(&plain, img, sizeof img, NULL, 0, NULL, 100000), UTXO_OK);
    ck_assert_int_eq(plain.status, UTXO_VM_ACCEPTED);
    ck_assert_uint_gt(plain.cycles, 3700);
    ck_assert_int_eq(utxo_segments_prove(&res, img, sizeof img, NULL, 0, NULL, 100000, 10, 0,
                                         collect, &l),
                     UTXO_ERR_SEG_HOSTCALL);
    rlist_free(&l);
    l.keep = 1;
    ck_assert_int_eq(utxo_segments_prove(&res, img, sizeof img, NULL, 0, NULL, 100000, 12, 0,
                                         collect, &l),
                     UTXO_OK);
    same_result(&plain, &res);
    /* The call moves to a segment of its own; the fresh page its digest
     * lands on is charged after it (UTXO_ABI_PAGE_CYCLES) and takes that
     * segment past its end, so the HALT runs in a third. */
    ck_assert_uint_eq(l.n, 3);
    ck_assert_int_eq(utxo_segments_verify(&chk, img, sizeof img, NULL, 0, NULL, 100000, 0,
                                          (const utxo_receipt *const *)l.r, l.n, 1),
                     UTXO_OK);
    same_result(&plain, &chk);
    rlist_free(&l);
}
END_TEST

/* A run that reads the transaction (sighash, input index, height) in a late
 * segment: split == unsplit under the same context, and the receipts do
 * not verify under another transaction or another input. */
static size_t tx_image(uint8_t *img, size_t cap)
{
    uint32_t code[] = {
        ADDI(5, 0, 700),        /* ~1400 cycles first: the calls land in segment 2+ */
        ADDI(5, 5, -1),
        BNE(5, 0, -4),
        LUI(10, 0x40000),       /* a0 = 0x40000000 */
        ADDI(17, 0, 3),         /* SIGHASH */
        ECALL(),
        ADDI(17, 0, 4),         /* INPUT_INDEX -> a0 */
        ECALL(),
        ADD(6, 10, 0),          /* t1 = input index */
        ADDI(17, 0, 10),        /* HEIGHT -> a0 */
        ECALL(),
        ADD(6, 6, 10),          /* t1 += height */
        LUI(7, 0x40000),
        LW(10, 7, 4),           /* a0 = sighash word 1 */
        XOR(10, 10, 6),
        ADDI(17, 0, 0),         /* HALT a0 (almost surely rejects, with a tx-bound code) */
        ECALL(),
    };
    size_t len = 18 + sizeof code;
    ck_assert_uint_le(len, cap);
    memcpy(img, "UTXP\x01\x01", 6);
    img[6] = 0x00, img[7] = 0x00, img[8] = 0x02, img[9] = 0x00;
    img[10] = 0x00, img[11] = 0x00, img[12] = 0x02, img[13] = 0x00;
    img[14] = sizeof code, img[15] = img[16] = img[17] = 0;
    for (size_t i = 0; i < sizeof code / 4; i++)
        for (int j = 0; j < 4; j++)
            img[18 + 4 * i + j] = (uint8_t)(code[i] >> (8 * j));
    return len;
}

START_TEST(transaction_context)
{
    uint64_t seed = 11;
    uint8_t img[256];
    size_t img_len = tx_image(img, sizeof img);
    utxo_params p;
    utxo_tx *tx = random_tx(&seed, 3, 2), *other = random_tx(&seed, 3, 2);
    utxo_output spent[8];
    utxo_txctx ctx, octx;
    utxo_vm_result plain, res, chk;
    rlist l = {0};

    utxo_params_default(&p);
    memset(spent, 0, sizeof spent);
    memset(&ctx, 0, sizeof ctx);
    ctx.tx = tx;
    ctx.input_index = tx->n_inputs - 1;
    ctx.spent = spent;
    ctx.height = 1234;
    utxo_tx_sighash(tx, p.chain_id, ctx.sighash);
    octx = ctx;
    octx.tx = other;
    octx.input_index = 0;
    utxo_tx_sighash(other, p.chain_id, octx.sighash);

    ck_assert_int_eq(utxo_predicate_run(&plain, img, img_len, NULL, 0, &ctx, 100000), UTXO_OK);
    ck_assert_int_eq(plain.status, UTXO_VM_REJECTED);
    l.keep = 1;
    ck_assert_int_eq(utxo_segments_prove(&res, img, img_len, NULL, 0, &ctx, 100000, 10, 0, collect, &l),
                     UTXO_OK);
    same_result(&plain, &res);
    ck_assert_uint_ge(l.n, 2);
    ck_assert_int_eq(utxo_segments_verify(&chk, img, img_len, NULL, 0, &ctx, 100000, 0,
                                          (const utxo_receipt *const *)l.r, l.n, 2),
                     UTXO_OK);
    same_result(&plain, &chk);
    /* the last segment reads the transaction: it fails under another one */
    ck_assert_int_ne(utxo_segments_verify(&chk, img, img_len, NULL, 0, &octx, 100000, 0,
                                          (const utxo_receipt *const *)l.r, l.n, 2),
                     UTXO_OK);
    /* ... and so does, alone, a segment that reads it: the one with SIGHASH
     * (whose fresh output page ends its segment) or, with it, the rest */
    utxo_receipt_check one;
    size_t rejected = 0;
    for (size_t i = 0; i < l.n; i++)
        rejected += utxo_receipt_verify(&one, l.r[i], &octx) != UTXO_OK;
    ck_assert_uint_ge(rejected, 1);
    ck_assert_int_ne(utxo_receipt_verify(&one, l.r[l.n - 1], NULL), UTXO_OK);
    ck_assert_int_eq(utxo_receipt_verify(&one, l.r[l.n - 1], &ctx), UTXO_OK);
    /* the first segment only loops: valid under any context */
    ck_assert_int_eq(utxo_receipt_verify(&one, l.r[0], &octx), UTXO_OK);
    rlist_free(&l);
    utxo_tx_free(tx);
    utxo_tx_free(other);
}
END_TEST

/* ---- the two VM hooks continuations rely on ------------------------------ */


typedef struct pg_ud {
    uint8_t code[1024];
    int mode;   /* 0 code present, rest absent; 1 page 0x81 missing; 2 code absent */
    int asked;
} pg_ud;

static int test_pager(void *ud, uint32_t page, uint8_t buf[VM_PAGE_BYTES])
{
    pg_ud *u = ud;
    u->asked++;
    if (page == 0x80) {
        if (u->mode == 2)
            return VM_PAGE_ABSENT;
        memcpy(buf, u->code, VM_PAGE_BYTES);
        return VM_PAGE_PRESENT;
    }
    if (page == 0x81 && u->mode == 1)
        return VM_PAGE_MISSING;
    return VM_PAGE_ABSENT;
}

START_TEST(vm_fence_and_pager)
{
    const uint32_t fence_code[] = {
        ADDI(5, 0, 10), ADDI(5, 5, -1), BNE(5, 0, -4), /* 21 cycles */
        LUI(10, 0x20), LUI(11, 0x1), LUI(12, 0x40000), ADDI(17, 0, 11), /* 25 */
        ECALL(),                                        /* BLAKE2B of 4 KiB at cycle 25 */
        ADDI(10, 0, 0), ADDI(17, 0, 0), ECALL(),
    };
    uint8_t bytes[sizeof fence_code];
    for (size_t i = 0; i < sizeof fence_code / 4; i++)
        for (int j = 0; j < 4; j++)
            bytes[4 * i + j] = (uint8_t)(fence_code[i] >> (8 * j));
    vm_segment seg = {0x20000, sizeof bytes, bytes};
    vm_image im;
    memset(&im, 0, sizeof im);
    im.entry = 0x20000;
    im.n_segs = 1;
    im.segs = &seg;
    vm_program *prog = NULL;
    ck_assert_int_eq(vm_program_new(&prog, &im), UTXO_OK);
    vm *v = vm_new();
    ck_assert_ptr_nonnull(v);
    utxo_vm_result whole, out;
    ck_assert_int_eq(vm_run(v, prog, NULL, 0, NULL, 100000, &whole), UTXO_OK);
    ck_assert_int_eq(whole.status, UTXO_VM_ACCEPTED);
    ck_assert_uint_gt(whole.cycles, 3700);

    /* fence at 100: pause before the ECALL, its cycle given back */
    ck_assert_int_eq(vm_load(v, prog, NULL, 0, NULL, 100000), UTXO_OK);
    vm_set_hostcall_fence(v, 100);
    ck_assert_int_eq(vm_run_until(v, 100, &out), VM_RUN_PAUSED);
    ck_assert_uint_eq(out.cycles, 25);
    ck_assert_uint_eq(out.pc, 0x20000 + 7 * 4);
    ck_assert_int_eq(vm_run_until(v, 100, &out), VM_RUN_PAUSED); /* again: no progress */
    ck_assert_uint_eq(out.cycles, 25);
    vm_set_hostcall_fence(v, UINT64_MAX);
    ck_assert_int_eq(vm_run_until(v, UINT64_MAX, &out), VM_RUN_DONE);
    same_result(&whole, &out);
    /* a budget too small for the call: out of cycles wins over the fence */
    ck_assert_int_eq(vm_load(v, prog, NULL, 0, NULL, 1000), UTXO_OK);
    vm_set_hostcall_fence(v, 100);
    ck_assert_int_eq(vm_run_until(v, 100, &out), VM_RUN_DONE);
    ck_assert_int_eq(out.fail, UTXO_VM_FAIL_OUT_OF_CYCLES);
    ck_assert_uint_eq(out.cycles, 1000);

    /* pager: the code page present, everything else absent */
    pg_ud u;
    memset(&u, 0, sizeof u);
    memcpy(u.code, bytes, sizeof bytes);
    ck_assert_int_eq(vm_load_empty(v, NULL, NULL, 0, NULL, 100000), UTXO_OK);
    vm_set_pc(v, 0x20000);
    vm_set_pages_outside(v, 1);
    vm_set_pager(v, test_pager, &u);
    ck_assert_int_eq(vm_run_until(v, UINT64_MAX, &out), VM_RUN_DONE);
    same_result(&whole, &out);
    ck_assert_int_eq(u.asked, 5); /* code, three pages hashed, output */
    uint32_t nt;
    (void)vm_touched_pages(v, &nt);
    ck_assert_uint_eq(nt, 5);
    /* a page the pager cannot give: NOT_WITNESSED at the ECALL */
    u.mode = 1;
    ck_assert_int_eq(vm_load_empty(v, NULL, NULL, 0, NULL, 100000), UTXO_OK);
    vm_set_pc(v, 0x20000);
    vm_set_pages_outside(v, 1);
    vm_set_pager(v, test_pager, &u);
    ck_assert_int_eq(vm_run_until(v, UINT64_MAX, &out), VM_RUN_DONE);
    ck_assert_int_eq(out.fail, UTXO_VM_FAIL_NOT_WITNESSED);
    ck_assert_uint_eq(out.pc, 0x20000 + 7 * 4);
    /* code witnessed absent: the fetch fails as in a normal run, no cycle */
    u.mode = 2;
    ck_assert_int_eq(vm_load_empty(v, NULL, NULL, 0, NULL, 100000), UTXO_OK);
    vm_set_pc(v, 0x20000);
    vm_set_pager(v, test_pager, &u);
    ck_assert_int_eq(vm_run_until(v, UINT64_MAX, &out), VM_RUN_DONE);
    ck_assert_int_eq(out.fail, UTXO_VM_FAIL_BAD_FETCH);
    ck_assert_uint_eq(out.cycles, 0);
    /* a present page with nothing counted outside: refused, not overdrawn */
    u.mode = 0;
    ck_assert_int_eq(vm_load_empty(v, NULL, NULL, 0, NULL, 100000), UTXO_OK);
    vm_set_pc(v, 0x20000);
    vm_set_pages_outside(v, 0);
    vm_set_pager(v, test_pager, &u);
    ck_assert_int_eq(vm_run_until(v, UINT64_MAX, &out), VM_RUN_DONE);
    ck_assert_int_eq(out.fail, UTXO_VM_FAIL_NOT_WITNESSED);
    /* the page limit sees pages outside: limit 3 with 1 outside + code */
    u.mode = 0;
    ck_assert_int_eq(vm_load_empty(v, NULL, NULL, 0, NULL, 100000), UTXO_OK);
    vm_set_page_limit(v, 3);
    vm_set_pc(v, 0x20000);
    vm_set_pages_outside(v, 2);
    vm_set_pager(v, test_pager, &u);
    ck_assert_int_eq(vm_run_until(v, UINT64_MAX, &out), VM_RUN_DONE);
    ck_assert_int_eq(out.fail, UTXO_VM_FAIL_MEMORY_LIMIT); /* code (1 of 2 outside) + 1 new = 3; 2nd new fails */
    vm_free(v);
    vm_program_free(prog);
}
END_TEST

/* Receipts loaded lazily (one per thread in memory) verify exactly like an
 * array of them; a loader failure is the run's error. */
typedef struct lazy {
    rlist *l;
    int fail_at;
    int calls;
} lazy;

static int lazy_load(void *ud, size_t i, utxo_receipt **out)
{
    lazy *z = ud;
    size_t len;
    __atomic_add_fetch(&z->calls, 1, __ATOMIC_RELAXED);
    if ((int)i == z->fail_at)
        return UTXO_ERR_IO;
    const uint8_t *b = utxo_receipt_bytes(z->l->r[i], &len);
    return utxo_receipt_from_bytes(out, b, len, NULL);
}

START_TEST(lazy_loader)
{
    wargs a = W(30, 3000, 5, 64, 0xffffffffu, 2), b = W(1, 0, 0, 0, 5, 0);
    utxo_vm_result res, arr;
    rlist l, m;
    load_work();
    ck_assert_int_eq(prove(&l, &a, 10000000, 14, 0, &res), UTXO_OK);
    ck_assert_int_eq(prove(&m, &b, 10000000, 14, 0, &res), UTXO_OK);
    ck_assert_int_eq(verify(&l, &a, 10000000, 0, 1, &arr), UTXO_OK);
    lazy z = {&l, -1, 0}, y = {&m, -1, 0};
    utxo_seg_run runs[3];
    memset(runs, 0, sizeof runs);
    for (int i = 0; i < 3; i++) {
        runs[i].img = work_img;
        runs[i].img_len = work_len;
        runs[i].args = i == 1 ? b.b : a.b;
        runs[i].args_len = sizeof a.b;
        runs[i].budget = 10000000;
        runs[i].n_receipts = i == 1 ? m.n : l.n;
        runs[i].load = lazy_load;
    }
    runs[0].load_ud = &z;
    runs[1].load_ud = &y;
    lazy bad = {&l, 2, 0};
    runs[2].load_ud = &bad;
    ck_assert_int_eq(utxo_segments_verify_batch(runs, 3, 2), UTXO_OK);
    ck_assert_int_eq(runs[0].rc, UTXO_OK);
    same_result(&runs[0].res, &arr);
    ck_assert_int_eq(z.calls, (int)l.n);
    ck_assert_int_eq(runs[1].rc, UTXO_OK);
    ck_assert_int_eq(runs[1].res.status, UTXO_VM_REJECTED);
    ck_assert_int_eq(runs[2].rc, UTXO_ERR_IO);
    /* neither receipts nor loader */
    runs[0].load = NULL;
    ck_assert_int_eq(utxo_segments_verify_batch(runs, 1, 1), UTXO_OK);
    ck_assert_int_eq(runs[0].rc, UTXO_ERR_ARG);
    rlist_free(&l);
    rlist_free(&m);
}
END_TEST

/* A run that ends while loading (the image does not fit the page limit)
 * has no segment; zero receipts prove it, and any receipt is one too many. */
START_TEST(load_failure_has_no_segment)
{
    wargs a = W(1, 0, 0, 0, 0xffffffffu, 0);
    utxo_vm_result res, chk;
    rlist l, m;
    load_work();
    ck_assert_int_eq(prove(&l, &a, 100000, 12, 2, &res), UTXO_OK);
    ck_assert_uint_eq(l.n, 0);
    ck_assert_int_eq(res.status, UTXO_VM_FAILED);
    ck_assert_int_eq(res.fail, UTXO_VM_FAIL_MEMORY_LIMIT);
    ck_assert_uint_eq(res.cycles, 0);
    ck_assert_int_eq(verify(&l, &a, 100000, 2, 2, &chk), UTXO_OK);
    same_result(&res, &chk);
    ck_assert_int_eq(prove(&m, &a, 100000, 12, 0, &res), UTXO_OK);
    ck_assert_int_eq(verify(&m, &a, 100000, 2, 2, &chk), UTXO_ERR_SEG_CHAIN);
    ck_assert_int_eq(verify(&l, &a, 100000, 0, 2, &chk), UTXO_ERR_SEG_CHAIN);
    rlist_free(&l);
    rlist_free(&m);
}
END_TEST


/* ---- checkpoints ------------------------------------------------------- */

/* Re-seals a checkpoint whose bytes a test edited (the checksum is the last
 * 32 bytes: H("utxo.seg.ckpt", the rest)). */
static void reseal(uint8_t *b, size_t len)
{
    hash_tagged(b + len - UTXO_HASH_BYTES, "utxo.seg.ckpt", b, len - UTXO_HASH_BYTES);
}

START_TEST(checkpoints_prove_groups_apart)
{
    wargs a = W(3, 3000, 1, 64, 0xffffffffu, 1), fail = W(1, 0, 0, 0, 0xffffffffu, 0);
    uint64_t budget = 50000000;
    utxo_vm_result res, chk;
    utxo_checkpoint_info info;
    rlist l = {0}, m = {0};
    clist c = {0}, d = {0};
    uint32_t segs = 0;
    size_t off;
    int fin;

    load_work();
    /* every split size, with host calls, touching, a rejection, running out
     * of cycles and the page limit */
    static const uint32_t everies[] = {1, 2, 3, 5, 7, 1000};
    for (size_t i = 0; i < sizeof everies / sizeof everies[0]; i++)
        check_groups(work_img, work_len, a.b, sizeof a.b, NULL, budget, 10, 0, everies[i]);
    wargs r = W(3, 0, 2, 8, 1234, 1);
    check_groups(work_img, work_len, r.b, sizeof r.b, NULL, budget, 10, 0, 2);
    check_groups(work_img, work_len, a.b, sizeof a.b, NULL, 30000, 10, 0, 4);
    wargs t = W(0, 0, 0, 300, 0xffffffffu, 2);
    check_groups(work_img, work_len, t.b, sizeof t.b, NULL, budget, 10, 200, 3);
    check_groups(work_img, work_len, t.b, sizeof t.b, NULL, budget, 12, 0, 1);
    /* a run that ends while loading: no segment, no checkpoint */
    ck_assert_int_eq(utxo_segments_split(&res, &segs, work_img, work_len, fail.b, sizeof fail.b,
                                         NULL, 100000, 12, 2, 1, collect_ckpt, &c),
                     UTXO_OK);
    ck_assert_uint_eq(segs, 0);
    ck_assert_uint_eq(c.n, 0);
    ck_assert_int_eq(res.fail, UTXO_VM_FAIL_MEMORY_LIMIT);
    ck_assert_int_eq(utxo_segments_split(&res, &segs, work_img, work_len, a.b, sizeof a.b, NULL,
                                         budget, 10, 0, 0, collect_ckpt, &c),
                     UTXO_ERR_ARG);

    /* deterministic: the same split twice gives the same bytes */
    ck_assert_int_eq(utxo_segments_split(&res, &segs, work_img, work_len, a.b, sizeof a.b, NULL,
                                         budget, 10, 0, 4, collect_ckpt, &c),
                     UTXO_OK);
    ck_assert_int_eq(utxo_segments_split(&res, NULL, work_img, work_len, a.b, sizeof a.b, NULL,
                                         budget, 10, 0, 4, collect_ckpt, &d),
                     UTXO_OK);
    ck_assert_uint_ge(c.n, 3);
    ck_assert_uint_eq(c.n, d.n);
    for (size_t k = 0; k < c.n; k++) {
        ck_assert_uint_eq(c.len[k], d.len[k]);
        ck_assert(memcmp(c.b[k], d.b[k], c.len[k]) == 0);
    }

    /* hostile bytes: every truncation, a trailing byte and every flipped
     * byte (sampled) are refused without a crash */
    uint8_t *b = c.b[1];
    size_t len = c.len[1];
    ck_assert_int_eq(utxo_checkpoint_info_get(&info, b, len, NULL), UTXO_OK);
    ck_assert_uint_ge(info.pages, 1);
    for (size_t cut = 0; cut < len; cut += cut < 300 ? 1 : 509)
        ck_assert_int_ne(utxo_checkpoint_info_get(&info, b, cut, NULL), UTXO_OK);
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, b, len);
    longer[len] = 0;
    ck_assert_int_eq(utxo_checkpoint_info_get(&info, longer, len + 1, &off), UTXO_ERR_TRAILING);
    ck_assert_uint_eq(off, len);
    free(longer);
    for (size_t pos = 0; pos < len; pos += pos < 300 ? 1 : 97) {
        b[pos] ^= 0x10;
        ck_assert_int_ne(utxo_checkpoint_info_get(&info, b, len, NULL), UTXO_OK);
        b[pos] ^= 0x10;
    }
    b[len - 1] ^= 1;
    ck_assert_int_eq(utxo_checkpoint_info_get(&info, b, len, &off), UTXO_ERR_FILE_CHECKSUM);
    ck_assert_uint_eq(off, len - UTXO_HASH_BYTES);
    b[len - 1] ^= 1;
    b[0] = 'X';
    ck_assert_int_eq(utxo_checkpoint_info_get(&info, b, len, NULL), UTXO_ERR_FILE_FORMAT);
    b[0] = 'U';
    b[4] = 2;
    ck_assert_int_eq(utxo_checkpoint_info_get(&info, b, len, &off), UTXO_ERR_VERSION);
    ck_assert_uint_eq(off, 4);
    b[4] = 1;
    /* a page count the bytes cannot hold, re-sealed: refused before any page */
    uint8_t *cp = malloc(len);
    memcpy(cp, b, len);
    put_u32le(cp + 181, 1u << 22);
    reseal(cp, len);
    ck_assert_int_eq(utxo_checkpoint_info_get(&info, cp, len, &off), UTXO_ERR_TRUNCATED);
    put_u32le(cp + 181, (1u << 22) + 1);
    ck_assert_int_eq(utxo_checkpoint_info_get(&info, cp, len, &off), UTXO_ERR_TOO_LARGE);
    /* span 0 and pages out of order, re-sealed */
    memcpy(cp, b, len);
    put_u32le(cp + 41, 0);
    reseal(cp, len);
    ck_assert_int_eq(utxo_checkpoint_info_get(&info, cp, len, &off), UTXO_ERR_NONCANONICAL);
    ck_assert_uint_eq(off, 41);
    memcpy(cp, b, len);
    put_u32le(cp + 185, 3); /* below the unmapped low pages */
    reseal(cp, len);
    ck_assert_int_eq(utxo_checkpoint_info_get(&info, cp, len, &off), UTXO_ERR_NONCANONICAL);
    ck_assert_uint_eq(off, 185);

    /* another run's checkpoint (other budget, other arguments): refused */
    wargs o = W(3, 3000, 1, 64, 0xfffffffeu, 1);
    ck_assert_int_eq(utxo_segments_prove_from(&res, &fin, b, len, NULL, work_img, work_len, a.b,
                                              sizeof a.b, NULL, budget + 1, 10, 0, collect, &m),
                     UTXO_ERR_SEG_RUN);
    ck_assert_int_eq(utxo_segments_prove_from(&res, &fin, b, len, NULL, work_img, work_len, o.b,
                                              sizeof o.b, NULL, budget, 10, 0, collect, &m),
                     UTXO_ERR_SEG_RUN);
    ck_assert_int_eq(utxo_segments_prove_from(&res, &fin, b, len, NULL, work_img, work_len, a.b,
                                              sizeof a.b, NULL, budget, 11, 0, collect, &m),
                     UTXO_ERR_SEG_RUN);
    ck_assert_uint_eq(m.n, 0);

    /* a forged checkpoint (a register changed, re-sealed) proves receipts,
     * but they do not chain to the ones before: nobody has to trust a
     * checkpoint */
    l.keep = m.keep = 1;
    ck_assert_int_eq(utxo_segments_prove(&res, work_img, work_len, a.b, sizeof a.b, NULL, budget,
                                         10, 0, collect, &l),
                     UTXO_OK);
    memcpy(cp, b, len);
    put_u32le(cp + 49 + 4 * 9, get_u32le(cp + 49 + 4 * 9) ^ 0x40); /* x10 */
    reseal(cp, len);
    ck_assert_int_eq(utxo_segments_prove_from(&res, &fin, cp, len, NULL, work_img, work_len, a.b,
                                              sizeof a.b, NULL, budget, 10, 0, collect, &m),
                     UTXO_OK);
    ck_assert_uint_eq(m.n, 4);
    for (size_t i = 0; i < m.n; i++) {
        utxo_receipt_free(l.r[4 + i]);
        l.r[4 + i] = m.r[i];
    }
    m.n = 0;
    ck_assert_int_eq(verify(&l, &a, budget, 0, 2, &chk), UTXO_ERR_SEG_CHAIN);
    free(cp);
    rlist_free(&l);
    rlist_free(&m);
    clist_free(&c);
    clist_free(&d);
}
END_TEST

/* ---- groups: a run's receipts checked in pieces, then chained ----------- */

static int vgroup(const rlist *l, const wargs *a, uint64_t budget, size_t first, size_t count,
                  utxo_seg_group *g, utxo_seg_run *run)
{
    memset(run, 0, sizeof *run);
    run->img = work_img;
    run->img_len = work_len;
    run->args = a->b;
    run->args_len = sizeof a->b;
    run->budget = budget;
    run->receipts = (const utxo_receipt *const *)l->r;
    run->n_receipts = l->n;
    int rc = utxo_segments_verify_group(g, run, first, count, 2);
    return rc != UTXO_OK ? rc : run->rc;
}

START_TEST(groups_chain_like_the_whole)
{
    wargs a = W(3, 3000, 1, 64, 0xffffffffu, 1), b = W(3, 3000, 1, 64, 0xfffffffeu, 1);
    utxo_vm_result res, whole;
    utxo_seg_group g[7], h;
    utxo_seg_run run;
    rlist l, m;
    uint64_t budget = 50000000;

    load_work();
    ck_assert_int_eq(prove(&l, &a, budget, 10, 0, &res), UTXO_OK);
    ck_assert_uint_ge(l.n, 14);
    ck_assert_int_eq(verify(&l, &a, budget, 0, 2, &whole), UTXO_OK);
    /* 7 groups: each valid, each starting where the previous ended, the
     * first at the run's initial state, only the last final with the
     * whole run's outcome */
    for (size_t i = 0; i < 7; i++) {
        size_t first = l.n * i / 7, count = l.n * (i + 1) / 7 - first;
        ck_assert_int_eq(vgroup(&l, &a, budget, first, count, &g[i], &run), UTXO_OK);
        ck_assert_uint_eq(g[i].first, first);
        ck_assert_uint_eq(g[i].count, count);
        ck_assert_int_eq(g[i].final, i == 6);
        if (i > 0) {
            ck_assert_mem_eq(g[i].pre_digest, g[i - 1].post_digest, UTXO_HASH_BYTES);
            ck_assert_uint_eq(g[i].cycles_before, g[i - 1].cycles_after);
        }
    }
    same_result(&g[6].res, &whole);
    same_result(&run.res, &whole);
    ck_assert_uint_eq(g[0].cycles_before, 0);
    /* one group of everything = the whole check */
    ck_assert_int_eq(vgroup(&l, &a, budget, 0, l.n, &h, &run), UTXO_OK);
    same_result(&h.res, &whole);
    ck_assert_mem_eq(h.post_digest, g[6].post_digest, UTXO_HASH_BYTES);
    /* spans outside the run, and an empty span of a run with receipts */
    ck_assert_int_eq(vgroup(&l, &a, budget, l.n, 1, &h, &run), UTXO_ERR_ARG);
    ck_assert_int_eq(vgroup(&l, &a, budget, 1, l.n, &h, &run), UTXO_ERR_ARG);
    ck_assert_int_eq(vgroup(&l, &a, budget, 2, 0, &h, &run), UTXO_ERR_ARG);
    /* another run's receipts (other arguments): each group is invalid */
    ck_assert_int_eq(prove(&m, &b, budget, 10, 0, &res), UTXO_OK);
    ck_assert_int_eq(vgroup(&m, &a, budget, 0, 2, &h, &run), UTXO_ERR_SEG_RUN);
    ck_assert_int_eq(vgroup(&m, &a, budget, 3, 2, &h, &run), UTXO_ERR_SEG_RUN);
    /* a receipt out of place inside a group breaks its chain */
    utxo_receipt *t = l.r[4];
    l.r[4] = l.r[5];
    l.r[5] = t;
    ck_assert_int_eq(vgroup(&l, &a, budget, 3, 4, &h, &run), UTXO_ERR_SEG_CHAIN);
    /* a group that does not reach the end is not final, even when its
     * last receipt would be: the final flag must match the run's length */
    ck_assert_int_eq(vgroup(&l, &a, budget, 0, 3, &h, &run), UTXO_OK);
    ck_assert_int_eq(h.final, 0);
    rlist_free(&l);
    rlist_free(&m);
}
END_TEST

static Suite *segments_suite(void)
{
    Suite *s = suite_create("segments");
    TCase *tc = tcase_create("segments");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, long_run_splits_and_verifies);
    tcase_add_test(tc, split_equals_unsplit);
    tcase_add_test(tc, every_budget_small_po2);
    tcase_add_test(tc, random_configurations);
    tcase_add_test(tc, page_limit_split_invariant);
    tcase_add_test(tc, flip_every_byte_small);
    tcase_add_test(tc, flip_sampled_bytes_large);
    tcase_add_test(tc, reorder_drop_duplicate_swap);
    tcase_add_test(tc, cheap_claims_before_reexecution);
    tcase_add_test(tc, witness_missing_or_extra_page);
    tcase_add_test(tc, deterministic_and_hostcall_limit);
    tcase_add_test(tc, hostcall_larger_than_segment);
    tcase_add_test(tc, transaction_context);
    tcase_add_test(tc, vm_fence_and_pager);
    tcase_add_test(tc, lazy_loader);
    tcase_add_test(tc, load_failure_has_no_segment);
    tcase_add_test(tc, groups_chain_like_the_whole);
    tcase_add_test(tc, checkpoints_prove_groups_apart);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(segments_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    free(work_img);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
