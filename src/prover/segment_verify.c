/*
 * segment_verify.c — checking segment receipts: one alone
 * (utxo_receipt_verify) and whole chains of many runs on a thread pool
 * (utxo_segments_verify_batch, utxo_segments_verify); docs/CONTINUATIONS.md
 * "Verifying".
 *
 * One receipt: hash the witnessed pages into leaves (32 zero bytes for a
 * page witnessed absent), fold them with the multiproof into the pre-state
 * memory root, and re-execute the segment on an empty machine whose pager
 * serves only witnessed pages (anything else: NOT_WITNESSED, an invalid
 * receipt). Every witnessed page must have been asked for. Then fold the
 * pages as the segment left them with the same siblings into the post root
 * (pages outside the witness were not touched, so their siblings still
 * hold), and compare the post digest and, for the last segment, the
 * outcome. The machine only ever holds the witness.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "predicates/pred_run.h"
#include "prover/receipt.h"
#include "utxo/pool.h"

typedef struct ver_pager {
    const utxo_receipt *r;
    uint8_t *asked;
} ver_pager;

static int ver_page(void *ud, uint32_t page, uint8_t buf[VM_PAGE_BYTES])
{
    ver_pager *vp = ud;
    long i = rcpt_find(vp->r, page);
    if (i < 0)
        return VM_PAGE_MISSING;
    const uint8_t *data = rcpt_page(vp->r, (size_t)i);
    vp->asked[i] = 1;
    if (!data)
        return VM_PAGE_ABSENT;
    memcpy(buf, data, VM_PAGE_BYTES);
    return VM_PAGE_PRESENT;
}

/* Verifies r on machine v (whose page limit it changes). */
static int verify_on(vm *v, utxo_receipt_check *out, const utxo_receipt *r,
                     const utxo_txctx *ctx)
{
    uint8_t run_id[UTXO_HASH_BYTES], page[VM_PAGE_BYTES];
    uint8_t *leaves = NULL, *scratch = NULL, *asked = NULL;
    size_t n = r->n_pages;
    seg_state pre = r->pre, post;
    ver_pager vp;
    utxo_vm_result res;
    uint32_t fresh = 0;
    int rc, done;

    /* Pre-state sanity: what no real run can be in. */
    if (pre.touched > r->page_limit || r->n_present > pre.touched || pre.cycles > r->budget ||
        pre.segment == UINT32_MAX)
        return UTXO_ERR_SEG_STATE;
    /* Re-execute first: a witness the segment does not ask for in full is
     * refused before anything is allocated per witnessed page but the
     * asked flags (a hostile receipt may claim millions of absent pages). */
    if ((asked = calloc(n ? n : 1, 1)) == NULL)
        return UTXO_ERR_NOMEM;
    vp.r = r;
    vp.asked = asked;
    rc = seg_exec(v, &pre, r->args, r->args_len, ctx, r->budget, r->page_limit, r->po2, ver_page,
                  &vp, &res);
    if (rc < 0) {
        rc = -rc;
        goto out;
    }
    done = rc == VM_RUN_DONE;
    rc = UTXO_OK;
    if (done && res.status == UTXO_VM_FAILED && res.fail == UTXO_VM_FAIL_NOT_WITNESSED) {
        rc = UTXO_ERR_SEG_WITNESS;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (!asked[i]) {
            rc = UTXO_ERR_SEG_WITNESS; /* a witnessed page the segment never touches */
            goto out;
        }
    }
    if (!done && res.cycles == pre.cycles) {
        rc = UTXO_ERR_SEG_STALL;
        goto out;
    }
    if (done != r->final) {
        rc = UTXO_ERR_SEG_OUTCOME;
        goto out;
    }
    if (done && memcmp(&res, &r->outcome, sizeof res) != 0) {
        rc = UTXO_ERR_SEG_OUTCOME;
        goto out;
    }

    /* Pre root, from the witness as given. */
    leaves = malloc((n ? n : 1) * UTXO_HASH_BYTES);
    scratch = malloc(mt_fold_scratch(n));
    if (!leaves || !scratch) {
        rc = UTXO_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const uint8_t *data = rcpt_page(r, i);
        if (!data)
            memset(leaves + i * UTXO_HASH_BYTES, 0, UTXO_HASH_BYTES);
        else
            mt_leaf(leaves + i * UTXO_HASH_BYTES, data);
    }
    if ((rc = mt_fold(pre.root, &r->proof, r->page_no, leaves, n, scratch)) != UTXO_OK)
        goto out;
    seg_run_id(run_id, r->pred_id, r->budget, r->page_limit, r->po2, r->args, r->args_len);
    seg_state_digest(out->pre_digest, run_id, &pre);

    /* Post root: the witnessed pages as the segment left them. */
    for (size_t i = 0; i < n; i++) {
        uint8_t *leaf = leaves + i * UTXO_HASH_BYTES;
        if (!vm_page_get(v, r->page_no[i], page))
            continue; /* still never materialised: the zero leaf */
        const uint8_t *before = rcpt_page(r, i);
        if (!before)
            fresh++;
        else if (memcmp(page, before, VM_PAGE_BYTES) == 0)
            continue; /* unchanged: same leaf */
        mt_leaf(leaf, page);
    }
    memset(&post, 0, sizeof post);
    if ((rc = mt_fold(post.root, &r->proof, r->page_no, leaves, n, scratch)) != UTXO_OK)
        goto out;
    post.pc = vm_pc(v);
    for (unsigned i = 1; i < 32; i++)
        post.x[i] = vm_reg(v, i);
    post.cycles = vm_cycles(v);
    post.touched = pre.touched + fresh;
    post.segment = pre.segment + 1;
    seg_state_digest(out->post_digest, run_id, &post);
    if (memcmp(out->post_digest, r->post_digest, UTXO_HASH_BYTES) != 0) {
        rc = UTXO_ERR_SEG_POST;
        goto out;
    }
    out->cycles_before = pre.cycles;
    out->cycles_after = post.cycles;
    out->final = done;
    if (done)
        out->outcome = res;
out:
    free(leaves);
    free(scratch);
    free(asked);
    /* Give the witness pages back now (not at the thread's next run): the
     * machine holds private decoded tables for them, and the thread's
     * machine goes back to the default page limit. */
    (void)vm_load_empty(v, NULL, NULL, 0, NULL, 0);
    vm_set_page_limit(v, 0);
    return rc;
}

int utxo_receipt_verify(utxo_receipt_check *out, const utxo_receipt *r, const utxo_txctx *ctx)
{
    vm *v;
    int rc;

    if (out)
        memset(out, 0, sizeof *out);
    if (!out || !r)
        return UTXO_ERR_ARG;
    if ((v = pred_thread_vm()) == NULL)
        return UTXO_ERR_NOMEM;
    rc = verify_on(v, out, r, ctx);
    if (rc != UTXO_OK)
        memset(out, 0, sizeof *out);
    return rc;
}

/* ---- chains, on a pool ------------------------------------------------- */

/* One work item: receipt k of run `run`, or (initial) the run's initial
 * state. Each item keeps only what the chain rules need afterwards, so a
 * loaded receipt is freed as soon as it is checked. */
typedef struct ver_item {
    size_t run;
    size_t k;
    int initial;
    int rc;
    utxo_receipt_check chk;
    uint32_t index;          /* the receipt's claims */
    unsigned po2;
    int same;                /* predicate id, budget, page limit, args = the run's */
    seg_state init;          /* initial item: the state after loading */
    utxo_vm_result load_res; /* initial item: the load ended the run */
    int load_ended;
} ver_item;

typedef struct ver_ctx {
    utxo_seg_run *runs;
    uint8_t (*ids)[UTXO_HASH_BYTES];
    ver_item *items;
} ver_ctx;

static uint32_t run_limit(const utxo_seg_run *run)
{
    return run->page_limit ? run->page_limit : UTXO_SEG_PAGE_LIMIT_DEFAULT;
}

/* The state of a run after loading, or the outcome of a load that ends it. */
static int initial_item(const utxo_seg_run *run, const uint8_t id[UTXO_HASH_BYTES],
                        ver_item *it)
{
    pc_entry *e = NULL;
    vm *v;
    int rc;

    if ((!run->img && run->img_len) || (!run->args && run->args_len) ||
        run_limit(run) > UTXO_SEG_PAGE_LIMIT_MAX ||
        (run->n_receipts && !run->receipts && !run->load))
        return UTXO_ERR_ARG;
    if (run->args_len > UTXO_SEG_MAX_ARGS || run->img_len > UTXO_IMAGE_MAX_BYTES)
        return UTXO_ERR_TOO_LARGE;
    if ((v = pred_thread_vm()) == NULL)
        return UTXO_ERR_NOMEM;
    if ((rc = pc_get(&e, id, run->img, run->img_len, NULL)) != UTXO_OK)
        return rc;
    rc = seg_initial(&it->init, NULL, &it->load_res, v, e, run->args, (uint32_t)run->args_len,
                     run->ctx, run->budget, run_limit(run));
    (void)vm_load_empty(v, NULL, NULL, 0, NULL, 0);
    vm_set_page_limit(v, 0);
    pc_put(e);
    if (rc == 1) {
        it->load_ended = 1;
        return UTXO_OK;
    }
    return rc;
}

static void receipt_item(const utxo_seg_run *run, const uint8_t id[UTXO_HASH_BYTES],
                         ver_item *it)
{
    utxo_receipt *owned = NULL;
    const utxo_receipt *r;

    if (!run->receipts && !run->load) {
        it->rc = UTXO_ERR_ARG;
        return;
    }
    if (run->receipts) {
        r = run->receipts[it->k];
        if (!r) {
            it->rc = UTXO_ERR_ARG;
            return;
        }
    } else {
        it->rc = run->load(run->load_ud, it->k, &owned);
        if (it->rc != UTXO_OK || !owned) {
            if (it->rc == UTXO_OK)
                it->rc = UTXO_ERR_ARG;
            utxo_receipt_free(owned);
            return;
        }
        r = owned;
    }
    it->index = r->index;
    it->po2 = r->po2;
    it->same = memcmp(r->pred_id, id, UTXO_HASH_BYTES) == 0 && r->budget == run->budget &&
               r->page_limit == run_limit(run) && r->args_len == run->args_len &&
               (r->args_len == 0 || memcmp(r->args, run->args, r->args_len) == 0);
    /* The claims that cost nothing to check come before the re-execution,
     * which costs up to 2^po2 cycles whatever the run's budget: a receipt
     * of another run or at another place is refused unrun (chain_check
     * names it), and so is a chain longer than its budget allows at this
     * receipt's po2. Re-executing a chain so costs at most about six
     * times its budget, plus three segments. */
    if (!it->same || it->index != it->k)
        it->rc = UTXO_OK;
    else if (r->po2 >= UTXO_SEG_PO2_MIN && r->po2 <= UTXO_SEG_PO2_MAX &&
             !seg_count_fits(run->n_receipts, run->budget, r->po2))
        it->rc = UTXO_ERR_SEG_CHAIN;
    else
        it->rc = utxo_receipt_verify(&it->chk, r, run->ctx);
    utxo_receipt_free(owned);
}

static void ver_one(void *arg, size_t i, unsigned worker)
{
    ver_ctx *c = arg;
    ver_item *it = &c->items[i];
    const utxo_seg_run *run = &c->runs[it->run];
    (void)worker;
    if (it->initial)
        it->rc = initial_item(run, c->ids[it->run], it);
    else
        receipt_item(run, c->ids[it->run], it);
}

/*
 * The chain rules over receipts [first, first + count) of a run, once their
 * items have been checked: items[0] is the run's initial item when
 * first == 0 (the first receipt must start at the initial digest), and the
 * receipts' items follow. Fills g (the span's ends and, when it ends the
 * run, the outcome) on success.
 */
static int chain_check(const utxo_seg_run *run, const uint8_t id[UTXO_HASH_BYTES],
                       const ver_item *items, size_t first, size_t count, utxo_seg_group *g)
{
    uint8_t run_id[UTXO_HASH_BYTES], digest[UTXO_HASH_BYTES];
    const ver_item *rcpts = first == 0 ? items + 1 : items;
    size_t n = run->n_receipts;

    memset(g, 0, sizeof *g);
    g->first = first;
    g->count = count;
    if (first == 0) {
        const ver_item *init = &items[0];
        if (init->rc != UTXO_OK)
            return init->rc;
        if (init->load_ended) {
            if (n != 0)
                return UTXO_ERR_SEG_CHAIN;
            g->final = 1;
            g->res = init->load_res;
            return UTXO_OK;
        }
    }
    if (n == 0 || count == 0)
        return UTXO_ERR_SEG_CHAIN;
    for (size_t j = 0; j < count; j++) {
        const ver_item *it = &rcpts[j];
        size_t k = first + j;
        if (it->rc == UTXO_ERR_ARG || it->rc == UTXO_ERR_NOMEM || it->rc == UTXO_ERR_IO)
            return it->rc;
        if (it->rc == UTXO_OK && (!it->same || it->po2 != rcpts[0].po2))
            return UTXO_ERR_SEG_RUN;
        if (it->rc == UTXO_OK && it->index != k)
            return UTXO_ERR_SEG_CHAIN;
        if (it->rc != UTXO_OK)
            return it->rc;
        if (j == 0 && first == 0) {
            /* The initial digest under the chain's po2 (the first receipt's). */
            seg_run_id(run_id, id, run->budget, run_limit(run), it->po2, run->args,
                       (uint32_t)run->args_len);
            seg_state_digest(digest, run_id, &items[0].init);
        }
        if (j > 0 || first == 0)
            if (memcmp(it->chk.pre_digest, digest, UTXO_HASH_BYTES) != 0)
                return UTXO_ERR_SEG_CHAIN;
        if (it->chk.final != (k + 1 == n))
            return UTXO_ERR_SEG_CHAIN;
        memcpy(digest, it->chk.post_digest, UTXO_HASH_BYTES);
    }
    g->po2 = rcpts[0].po2;
    memcpy(g->pre_digest, rcpts[0].chk.pre_digest, UTXO_HASH_BYTES);
    memcpy(g->post_digest, digest, UTXO_HASH_BYTES);
    g->cycles_before = rcpts[0].chk.cycles_before;
    g->cycles_after = rcpts[count - 1].chk.cycles_after;
    g->final = rcpts[count - 1].chk.final;
    if (g->final)
        g->res = rcpts[count - 1].chk.outcome;
    return UTXO_OK;
}

/* Checks the c->items[0..total) on `threads` threads (1: on this one). */
static int ver_items(ver_ctx *c, size_t total, unsigned threads)
{
    if (threads == 1 || total == 1) {
        for (size_t i = 0; i < total; i++)
            ver_one(c, i, 0);
        return UTXO_OK;
    }
    pool *p = pool_new(threads);
    if (p == NULL)
        return UTXO_ERR_NOMEM;
    pool_for(p, total, ver_one, c);
    pool_free(p);
    return UTXO_OK;
}

int utxo_segments_verify_batch(utxo_seg_run *runs, size_t n, unsigned threads)
{
    ver_item *items = NULL;
    size_t total = 0, k = 0;
    ver_ctx c = {runs, NULL, NULL};
    int rc = UTXO_OK;

    if (!runs && n)
        return UTXO_ERR_ARG;
    for (size_t i = 0; i < n; i++) {
        memset(&runs[i].res, 0, sizeof runs[i].res);
        runs[i].rc = UTXO_ERR_INTERNAL;
        if (runs[i].n_receipts > SIZE_MAX / 2 / sizeof *items - total)
            return UTXO_ERR_ARG;
        total += 1 + runs[i].n_receipts;
    }
    if (total == 0)
        return UTXO_OK;
    items = calloc(total, sizeof *items);
    c.ids = malloc(n * sizeof *c.ids);
    if (!items || !c.ids) {
        rc = UTXO_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        utxo_predicate_id(c.ids[i], runs[i].img, runs[i].img ? runs[i].img_len : 0);
        items[k].run = i;
        items[k++].initial = 1;
        for (size_t j = 0; j < runs[i].n_receipts; j++, k++) {
            items[k].run = i;
            items[k].k = j;
        }
    }
    c.items = items;
    if ((rc = ver_items(&c, total, threads)) != UTXO_OK)
        goto out;
    k = 0;
    for (size_t i = 0; i < n; i++) {
        utxo_seg_group g;
        runs[i].rc = chain_check(&runs[i], c.ids[i], &items[k], 0, runs[i].n_receipts, &g);
        if (runs[i].rc == UTXO_OK && !g.final)
            runs[i].rc = UTXO_ERR_SEG_CHAIN; /* cannot happen: the last one is final */
        runs[i].res = g.res;
        if (runs[i].rc != UTXO_OK)
            memset(&runs[i].res, 0, sizeof runs[i].res);
        k += 1 + runs[i].n_receipts;
    }
out:
    free(items);
    free(c.ids);
    return rc;
}

int utxo_segments_verify(utxo_vm_result *res, const uint8_t *img, size_t img_len,
                         const uint8_t *args, size_t args_len, const utxo_txctx *ctx,
                         uint64_t budget, uint32_t page_limit,
                         const utxo_receipt *const *receipts, size_t n, unsigned threads)
{
    utxo_seg_run run;
    int rc;

    if (res)
        memset(res, 0, sizeof *res);
    if (!res)
        return UTXO_ERR_ARG;
    memset(&run, 0, sizeof run);
    run.img = img;
    run.img_len = img_len;
    run.args = args;
    run.args_len = args_len;
    run.ctx = ctx;
    run.budget = budget;
    run.page_limit = page_limit;
    run.receipts = receipts;
    run.n_receipts = n;
    if ((rc = utxo_segments_verify_batch(&run, 1, threads)) != UTXO_OK)
        return rc;
    if (run.rc == UTXO_OK)
        *res = run.res;
    return run.rc;
}

int utxo_segments_verify_group(utxo_seg_group *out, utxo_seg_run *run, size_t first,
                               size_t count, unsigned threads)
{
    ver_item *items = NULL;
    uint8_t id[UTXO_HASH_BYTES];
    ver_ctx c = {run, &id, NULL};
    size_t total, k = 0;
    int rc;

    if (out)
        memset(out, 0, sizeof *out);
    if (!out || !run || first > run->n_receipts || count > run->n_receipts - first ||
        (count == 0 && run->n_receipts != 0))
        return UTXO_ERR_ARG;
    run->rc = UTXO_ERR_INTERNAL;
    memset(&run->res, 0, sizeof run->res);
    total = count + (first == 0);
    if ((items = calloc(total, sizeof *items)) == NULL)
        return UTXO_ERR_NOMEM;
    utxo_predicate_id(id, run->img, run->img ? run->img_len : 0);
    if (first == 0)
        items[k++].initial = 1;
    for (size_t j = 0; j < count; j++, k++)
        items[k].k = first + j;
    c.items = items;
    if ((rc = ver_items(&c, total, threads)) == UTXO_OK) {
        run->rc = chain_check(run, id, items, first, count, out);
        if (run->rc == UTXO_OK && out->final)
            run->res = out->res;
        if (run->rc != UTXO_OK) {
            memset(out, 0, sizeof *out);
            out->first = first;
            out->count = count;
        }
    }
    free(items);
    return rc;
}
