/*
 * segment.c — the continuation prover: utxo_segments_prove
 * (include/utxo/segments.h, docs/CONTINUATIONS.md "Splitting").
 *
 * The prover keeps the run's whole memory in a memory tree (memtree.h) and
 * runs each segment on a machine that starts empty: every page the segment
 * touches or fetches is pulled from the tree on first use by the VM's pager,
 * and the pager's log is exactly the segment's witness. After the segment
 * the receipt is written (pre-state, witness pages with their pre-segment
 * bytes, multiproof against the pre-segment root), then the pages the
 * machine holds are written back, the tree is re-rooted and the post digest
 * closes the receipt. Segment k covers cycles [s, e) with e = s + 2^po2,
 * except that it ends earlier, just before an ECALL whose host call would
 * charge past s + 2^po2 (the VM's host-call fence), or where the run ends.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "predicates/pred_run.h"
#include "prover/receipt.h"

typedef struct prov_pager {
    const mt_tree *t;
    uint32_t *log;
    size_t n, cap;
    int oom;
} prov_pager;

static int prov_page(void *ud, uint32_t page, uint8_t buf[VM_PAGE_BYTES])
{
    prov_pager *pp = ud;
    const uint8_t *p;

    if (pp->n == pp->cap) {
        size_t cap = pp->cap ? 2 * pp->cap : 64;
        uint32_t *l = realloc(pp->log, cap * sizeof *l);
        if (!l) {
            pp->oom = 1;
            return VM_PAGE_MISSING;
        }
        pp->log = l;
        pp->cap = cap;
    }
    pp->log[pp->n++] = page;
    p = mt_page(pp->t, page);
    if (!p)
        return VM_PAGE_ABSENT;
    memcpy(buf, p, VM_PAGE_BYTES);
    return VM_PAGE_PRESENT;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Sorts the log and drops repeats (an absent page can be asked twice when
 * its materialisation failed). */
static size_t log_sorted(prov_pager *pp)
{
    size_t m = 0;
    if (pp->n > 1) /* the log is NULL while empty: qsort's pointer must not be */
        qsort(pp->log, pp->n, sizeof *pp->log, cmp_u32);
    for (size_t i = 0; i < pp->n; i++)
        if (m == 0 || pp->log[m - 1] != pp->log[i])
            pp->log[m++] = pp->log[i];
    return m;
}

/* Writes the machine's pages back into the tree; *fresh receives how many
 * of them did not exist before. */
static int write_back(mt_tree *t, const vm *v, uint32_t *fresh)
{
    uint8_t page[VM_PAGE_BYTES];
    const uint32_t *pages;
    uint32_t n;
    int rc;

    *fresh = 0;
    pages = vm_touched_pages(v, &n);
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *old = mt_page(t, pages[i]);
        (void)vm_page_get(v, pages[i], page);
        if (old && memcmp(old, page, VM_PAGE_BYTES) == 0)
            continue;
        if (!old)
            (*fresh)++;
        if ((rc = mt_set_page(t, pages[i], page)) != UTXO_OK)
            return rc;
    }
    return mt_commit(t);
}

/* Test hook (seg_prove_opts): edits the sorted witness of one segment. */
static size_t edit_witness(prov_pager *pp, size_t n, const seg_prove_opts *o)
{
    if (o->drop >= 0 && (size_t)o->drop < n) {
        memmove(pp->log + o->drop, pp->log + o->drop + 1, (n - (size_t)o->drop - 1) * sizeof *pp->log);
        n--;
    }
    if (o->add != 0 && n < pp->cap) {
        size_t i = n;
        while (i > 0 && pp->log[i - 1] > o->add)
            i--;
        if (i == 0 || pp->log[i - 1] != o->add) {
            memmove(pp->log + i + 1, pp->log + i, (n - i) * sizeof *pp->log);
            pp->log[i] = o->add;
            n++;
        }
    }
    return n;
}

int utxo_segments_prove(utxo_vm_result *res, const uint8_t *img, size_t img_len,
                        const uint8_t *args, size_t args_len, const utxo_txctx *ctx,
                        uint64_t budget, unsigned po2, uint32_t page_limit,
                        utxo_receipt_sink sink, void *ud)
{
    return seg_prove(res, img, img_len, args, args_len, ctx, budget, po2, page_limit, sink, ud,
                     NULL);
}

int seg_prove_loop(const seg_prove_run *p, vm *v, mt_tree *t, seg_state *st, uint32_t count,
                   utxo_vm_result *res, int *finished)
{
    uint8_t post_digest[UTXO_HASH_BYTES];
    prov_pager pp = {0};
    seg_state post;
    utxo_vm_result out;
    uint8_t *buf = NULL;
    uint32_t written = 0;
    int rc;

    memset(res, 0, sizeof *res);
    *finished = 0;
    for (;;) {
        rcpt_fields f;
        utxo_receipt *r = NULL;
        uint32_t fresh, index = st->segment;
        size_t n, head;
        enc cnt, w;
        int done;

        pp.t = t;
        pp.n = 0;
        rc = seg_exec(v, st, p->args, p->args_len, p->ctx, p->budget, p->page_limit, p->po2,
                      prov_page, &pp, &out);
        if (rc < 0) {
            rc = -rc;
            goto out;
        }
        if (pp.oom) {
            rc = UTXO_ERR_NOMEM;
            goto out;
        }
        done = rc == VM_RUN_DONE;
        if (done && out.status == UTXO_VM_FAILED && out.fail == UTXO_VM_FAIL_NOT_WITNESSED) {
            rc = UTXO_ERR_INTERNAL; /* the tree and the page count disagree */
            goto out;
        }
        if (!done && out.cycles == st->cycles) {
            rc = UTXO_ERR_SEG_HOSTCALL; /* a host call larger than a segment */
            goto out;
        }
        n = log_sorted(&pp);
        if (p->o && p->o->segment == index)
            n = edit_witness(&pp, n, p->o);
        f = (rcpt_fields){index,   p->po2, done, p->id, p->budget, p->page_limit, p->args,
                          p->args_len, st, pp.log, n,     t};
        enc_init(&cnt, NULL, 0, NULL);
        if ((rc = rcpt_encode_head(&cnt, &f)) != UTXO_OK)
            goto out;
        head = cnt.len;
        if ((buf = malloc(head + RCPT_TAIL_BYTES(done))) == NULL) {
            rc = UTXO_ERR_NOMEM;
            goto out;
        }
        enc_init(&w, buf, head + RCPT_TAIL_BYTES(done), NULL);
        if ((rc = rcpt_encode_head(&w, &f)) != UTXO_OK)
            goto out;

        /* Post state: memory written back and re-rooted. */
        if ((rc = write_back(t, v, &fresh)) != UTXO_OK)
            goto out;
        memset(&post, 0, sizeof post);
        post.pc = vm_pc(v);
        for (unsigned i = 1; i < 32; i++)
            post.x[i] = vm_reg(v, i);
        mt_root(t, post.root);
        post.cycles = vm_cycles(v);
        post.touched = st->touched + fresh;
        post.segment = st->segment + 1;
        seg_state_digest(post_digest, p->run_id, &post);
        rcpt_encode_tail(&w, post_digest, done, &out);
        if (!enc_ok(&w) || w.len != head + RCPT_TAIL_BYTES(done)) {
            rc = UTXO_ERR_INTERNAL;
            goto out;
        }
        rc = rcpt_decode_owned(&r, buf, w.len, NULL);
        buf = NULL;
        if (rc != UTXO_OK) {
            rc = UTXO_ERR_INTERNAL; /* our own encoding must decode */
            goto out;
        }
        if (p->sink(p->ud, r) != 0) {
            rc = UTXO_ERR_IO;
            goto out;
        }
        *st = post;
        written++;
        if (done) {
            *res = out;
            *finished = 1;
            break;
        }
        if (count != 0 && written == count)
            break;
    }
    rc = UTXO_OK;
out:
    free(buf);
    free(pp.log);
    return rc;
}

int seg_prove(utxo_vm_result *res, const uint8_t *img, size_t img_len, const uint8_t *args,
              size_t args_len, const utxo_txctx *ctx, uint64_t budget, unsigned po2,
              uint32_t page_limit, utxo_receipt_sink sink, void *ud, const seg_prove_opts *o)
{
    uint8_t id[UTXO_HASH_BYTES], run_id[UTXO_HASH_BYTES];
    pc_entry *e = NULL;
    mt_tree *t = NULL;
    vm *v = NULL;
    seg_state st;
    int rc, finished;

    if (res)
        memset(res, 0, sizeof *res);
    if (!res || !sink)
        return UTXO_ERR_ARG;
    if ((rc = seg_check_params(img, img_len, args, args_len, po2, &page_limit)) != UTXO_OK)
        return rc;

    if ((rc = seg_begin(img, img_len, id, &e, &v)) != UTXO_OK)
        goto out;
    rc = seg_initial(&st, &t, res, v, e, args, (uint32_t)args_len, ctx, budget, page_limit);
    if (rc == 1) { /* the load ended the run: no segment */
        rc = UTXO_OK;
        goto out;
    }
    if (rc != 0)
        goto out;
    seg_run_id(run_id, id, budget, page_limit, po2, args, (uint32_t)args_len);
    seg_prove_run p = {id,     run_id,     args, (uint32_t)args_len, ctx, budget, page_limit,
                       po2,    sink,       ud,   o};
    rc = seg_prove_loop(&p, v, t, &st, 0, res, &finished);
out:
    if (rc != UTXO_OK)
        memset(res, 0, sizeof *res);
    mt_free(t);
    vm_free(v);
    pc_put(e);
    return rc;
}

int seg_begin(const uint8_t *img, size_t img_len, uint8_t id[UTXO_HASH_BYTES], pc_entry **e,
              vm **v)
{
    int rc;

    *e = NULL;
    *v = NULL;
    utxo_predicate_id(id, img, img_len);
    if ((rc = pc_get(e, id, img, img_len, NULL)) != UTXO_OK)
        return rc;
    if ((*v = vm_new()) == NULL)
        return UTXO_ERR_NOMEM;
    return UTXO_OK;
}

int seg_check_params(const uint8_t *img, size_t img_len, const uint8_t *args, size_t args_len,
                     unsigned po2, uint32_t *page_limit)
{
    if ((!img && img_len) || (!args && args_len))
        return UTXO_ERR_ARG;
    if (po2 < UTXO_SEG_PO2_MIN || po2 > UTXO_SEG_PO2_MAX || *page_limit > UTXO_SEG_PAGE_LIMIT_MAX)
        return UTXO_ERR_ARG;
    if (args_len > UTXO_SEG_MAX_ARGS || img_len > UTXO_IMAGE_MAX_BYTES)
        return UTXO_ERR_TOO_LARGE;
    if (*page_limit == 0)
        *page_limit = UTXO_SEG_PAGE_LIMIT_DEFAULT;
    return UTXO_OK;
}
