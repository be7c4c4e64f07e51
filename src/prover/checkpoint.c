/*
 * checkpoint.c — one run proven on many machines (include/utxo/segments.h,
 * docs/CONTINUATIONS.md "Checkpoints"): utxo_segments_split runs the
 * predicate once on one machine, cut where the prover would cut it, and
 * writes the whole state at the start of every group of segments;
 * utxo_segments_prove_from rebuilds the prover's memory tree from one such
 * checkpoint and proves that group.
 *
 * Why the cuts agree: the prover runs every segment with seg_exec on a fresh
 * machine that stops at the segment's start + 2^po2 cycles (host-call fence
 * included), and the VM guarantees that running 0..N then N..end gives the
 * state and outcome of one run 0..end, with each page charged once, when
 * first materialised. One machine paused at the same stop points therefore
 * passes through exactly the prover's segment states. The tests hold every
 * group's receipts to the whole proof's, byte for byte.
 *
 * Encoding (little-endian):
 *   magic "UTXK" | version u8 = 1 | run id 32 | segment u32 | span u32 |
 *   pc u32 | x1..x31 u32 | cycles u64 | pages u32 = n |
 *   n x (page number u32, 1024 bytes), page numbers strictly ascending,
 *   in [VM_LOW_UNMAPPED / 1024, 2^22) |
 *   checksum: H("utxo.seg.ckpt", every byte before)
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "predicates/pred_run.h"
#include "prover/receipt.h"

#define CKPT_MAGIC "UTXK"
#define CKPT_VERSION 1u
#define CKPT_HEAD (4u + 1u + UTXO_HASH_BYTES + 4u + 4u + 4u + 31u * 4u + 8u + 4u)
#define CKPT_PAGE (4u + VM_PAGE_BYTES)
#define CKPT_TAG "utxo.seg.ckpt"
#define CKPT_FIRST_PAGE (VM_LOW_UNMAPPED >> VM_PAGE_SHIFT)
_Static_assert(UTXO_CKPT_BYTES(0) == CKPT_HEAD + UTXO_HASH_BYTES &&
                   UTXO_CKPT_BYTES(1) - UTXO_CKPT_BYTES(0) == CKPT_PAGE,
               "UTXO_CKPT_BYTES is the encoding's size");

/* A decoded checkpoint: fields, and its pages inside the input. */
typedef struct ckpt {
    utxo_checkpoint_info info;
    seg_state st;          /* root not set */
    const uint8_t *pages;  /* info.pages entries of CKPT_PAGE bytes */
} ckpt;

static int ckpt_decode(ckpt *c, const uint8_t *p, size_t len, size_t *err_offset)
{
    uint8_t sum[UTXO_HASH_BYTES];
    size_t body;
    uint32_t prev = 0;
    dec d;

    memset(c, 0, sizeof *c);
    if (err_offset)
        *err_offset = 0;
    if (!p && len)
        return UTXO_ERR_ARG;
    if (len < 4)
        return len == 0 || memcmp(p, CKPT_MAGIC, len) == 0 ? UTXO_ERR_TRUNCATED
                                                            : UTXO_ERR_FILE_FORMAT;
    if (memcmp(p, CKPT_MAGIC, 4) != 0)
        return UTXO_ERR_FILE_FORMAT;
    dec_init(&d, p, len);
    d.off = 4;
    if (dec_u8(&d) != CKPT_VERSION && !d.err)
        dec_fail(&d, UTXO_ERR_VERSION, 4);
    dec_bytes(&d, c->info.run_id, UTXO_HASH_BYTES);
    c->info.segment = dec_u32(&d);
    c->info.span = dec_u32(&d);
    if (c->info.span == 0 && !d.err)
        dec_fail(&d, UTXO_ERR_NONCANONICAL, d.off - 4);
    c->st.pc = dec_u32(&d);
    for (unsigned r = 1; r < 32; r++)
        c->st.x[r] = dec_u32(&d);
    c->info.cycles = c->st.cycles = dec_u64(&d);
    c->info.pages = c->st.touched = dec_u32(&d);
    c->st.segment = c->info.segment;
    if (d.err)
        return dec_result(&d, err_offset);
    /* the size before any page is looked at */
    if (c->info.pages > UTXO_SEG_PAGE_LIMIT_MAX) {
        dec_fail(&d, UTXO_ERR_TOO_LARGE, d.off - 4);
        return dec_result(&d, err_offset);
    }
    body = CKPT_HEAD + (size_t)c->info.pages * CKPT_PAGE;
    if (len < body + UTXO_HASH_BYTES) {
        dec_fail(&d, UTXO_ERR_TRUNCATED, len);
        return dec_result(&d, err_offset);
    }
    if (len > body + UTXO_HASH_BYTES) {
        dec_fail(&d, UTXO_ERR_TRAILING, body + UTXO_HASH_BYTES);
        return dec_result(&d, err_offset);
    }
    c->pages = p + CKPT_HEAD;
    for (uint32_t i = 0; i < c->info.pages; i++) {
        uint32_t pg = get_u32le(c->pages + (size_t)i * CKPT_PAGE);
        if (pg < CKPT_FIRST_PAGE || pg >= VM_NUM_PAGES || (i > 0 && pg <= prev)) {
            dec_fail(&d, UTXO_ERR_NONCANONICAL, CKPT_HEAD + (size_t)i * CKPT_PAGE);
            return dec_result(&d, err_offset);
        }
        prev = pg;
    }
    hash_tagged(sum, CKPT_TAG, p, body);
    if (memcmp(sum, p + body, UTXO_HASH_BYTES) != 0) {
        dec_fail(&d, UTXO_ERR_FILE_CHECKSUM, body);
        return dec_result(&d, err_offset);
    }
    return UTXO_OK;
}

int utxo_checkpoint_info_get(utxo_checkpoint_info *info, const uint8_t *p, size_t len,
                             size_t *err_offset)
{
    ckpt c;
    int rc;

    if (!info)
        return UTXO_ERR_ARG;
    rc = ckpt_decode(&c, p, len, err_offset);
    *info = rc == UTXO_OK ? c.info : (utxo_checkpoint_info){{0}, 0, 0, 0, 0};
    return rc;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* A growing buffer for the checkpoints of one split. */
typedef struct ckpt_buf {
    uint8_t *b;
    size_t cap;
    uint32_t *pages;
    size_t pages_cap;
} ckpt_buf;

/* Encodes machine v's state as the checkpoint of `segment` into cb. */
static int ckpt_encode(ckpt_buf *cb, size_t *len, const vm *v, const uint8_t run_id[UTXO_HASH_BYTES],
                       uint32_t segment, uint32_t span)
{
    uint32_t n;
    const uint32_t *touched = vm_touched_pages(v, &n);
    size_t need = CKPT_HEAD + (size_t)n * CKPT_PAGE + UTXO_HASH_BYTES;
    enc e;

    if (need > cb->cap) {
        uint8_t *b = realloc(cb->b, need);
        if (!b)
            return UTXO_ERR_NOMEM;
        cb->b = b;
        cb->cap = need;
    }
    if (n > cb->pages_cap) {
        uint32_t *pg = realloc(cb->pages, (size_t)n * sizeof *pg);
        if (!pg)
            return UTXO_ERR_NOMEM;
        cb->pages = pg;
        cb->pages_cap = n;
    }
    if (n)
        memcpy(cb->pages, touched, (size_t)n * sizeof *touched);
    if (n > 1)
        qsort(cb->pages, n, sizeof *cb->pages, cmp_u32);

    enc_init(&e, cb->b, need, NULL);
    enc_bytes(&e, CKPT_MAGIC, 4);
    enc_u8(&e, CKPT_VERSION);
    enc_bytes(&e, run_id, UTXO_HASH_BYTES);
    enc_u32(&e, segment);
    enc_u32(&e, span);
    enc_u32(&e, vm_pc(v));
    for (unsigned r = 1; r < 32; r++)
        enc_u32(&e, vm_reg(v, r));
    enc_u64(&e, vm_cycles(v));
    enc_u32(&e, n);
    for (uint32_t i = 0; i < n; i++) {
        enc_u32(&e, cb->pages[i]);
        if (e.len + VM_PAGE_BYTES <= need)
            (void)vm_page_get(v, cb->pages[i], cb->b + e.len);
        e.len += VM_PAGE_BYTES;
    }
    if (!enc_ok(&e) || e.len + UTXO_HASH_BYTES != need)
        return UTXO_ERR_INTERNAL;
    hash_tagged(cb->b + e.len, CKPT_TAG, cb->b, e.len);
    *len = need;
    return UTXO_OK;
}

int utxo_segments_split(utxo_vm_result *res, uint32_t *segments, const uint8_t *img,
                        size_t img_len, const uint8_t *args, size_t args_len,
                        const utxo_txctx *ctx, uint64_t budget, unsigned po2, uint32_t page_limit,
                        uint32_t every, utxo_checkpoint_sink sink, void *ud)
{
    uint8_t id[UTXO_HASH_BYTES], run_id[UTXO_HASH_BYTES];
    ckpt_buf cb = {0};
    pc_entry *e = NULL;
    vm *v = NULL;
    uint32_t seg = 0;
    int rc;

    if (res)
        memset(res, 0, sizeof *res);
    if (segments)
        *segments = 0;
    if (!res || !sink || every == 0)
        return UTXO_ERR_ARG;
    if ((rc = seg_check_params(img, img_len, args, args_len, po2, &page_limit)) != UTXO_OK)
        return rc;
    if ((rc = seg_begin(img, img_len, id, &e, &v)) != UTXO_OK)
        goto out;
    vm_set_page_limit(v, page_limit);
    rc = pred_load(v, e, args, (uint32_t)args_len, ctx, budget, res);
    if (rc == 1) { /* the load ended the run: no segment */
        rc = UTXO_OK;
        goto out;
    }
    if (rc != 0)
        goto out;
    seg_run_id(run_id, id, budget, page_limit, po2, args, (uint32_t)args_len);
    for (;;) {
        uint64_t start = vm_cycles(v), end = seg_stop_at(start, po2);
        utxo_vm_result out;

        if (seg % every == 0) {
            size_t len;
            if ((rc = ckpt_encode(&cb, &len, v, run_id, seg, every)) != UTXO_OK)
                goto out;
            if (sink(ud, seg, cb.b, len) != 0) {
                rc = UTXO_ERR_IO;
                goto out;
            }
        }
        vm_set_hostcall_fence(v, end);
        rc = vm_run_until(v, end, &out);
        if (rc != VM_RUN_DONE && rc != VM_RUN_PAUSED)
            goto out;
        if (rc == VM_RUN_PAUSED && vm_cycles(v) == start) {
            rc = UTXO_ERR_SEG_HOSTCALL; /* a host call larger than a segment */
            goto out;
        }
        if (seg == UINT32_MAX) {
            rc = UTXO_ERR_TOO_LARGE; /* receipt indices are 32-bit */
            goto out;
        }
        seg++;
        if (rc == VM_RUN_DONE) {
            *res = out;
            rc = UTXO_OK;
            break;
        }
    }
    if (segments)
        *segments = seg;
out:
    if (rc != UTXO_OK)
        memset(res, 0, sizeof *res);
    free(cb.b);
    free(cb.pages);
    vm_free(v);
    pc_put(e);
    return rc;
}

int utxo_segments_prove_from(utxo_vm_result *res, int *finished, const uint8_t *ckpt_bytes,
                             size_t ckpt_len, size_t *err_offset, const uint8_t *img,
                             size_t img_len, const uint8_t *args, size_t args_len,
                             const utxo_txctx *ctx, uint64_t budget, unsigned po2,
                             uint32_t page_limit, utxo_receipt_sink sink, void *ud)
{
    uint8_t id[UTXO_HASH_BYTES], run_id[UTXO_HASH_BYTES];
    pc_entry *e = NULL;
    mt_tree *t = NULL;
    vm *v = NULL;
    ckpt c;
    int rc, fin = 0;

    if (res)
        memset(res, 0, sizeof *res);
    if (finished)
        *finished = 0;
    if (err_offset)
        *err_offset = 0;
    if (!res || !finished || !sink)
        return UTXO_ERR_ARG;
    if ((rc = seg_check_params(img, img_len, args, args_len, po2, &page_limit)) != UTXO_OK)
        return rc;
    if ((rc = ckpt_decode(&c, ckpt_bytes, ckpt_len, err_offset)) != UTXO_OK)
        return rc;
    utxo_predicate_id(id, img, img_len);
    seg_run_id(run_id, id, budget, page_limit, po2, args, (uint32_t)args_len);
    if (memcmp(run_id, c.info.run_id, UTXO_HASH_BYTES) != 0)
        return UTXO_ERR_SEG_RUN;
    if (c.info.pages > page_limit || c.info.cycles > budget)
        return UTXO_ERR_SEG_STATE;
    if ((rc = seg_begin(img, img_len, id, &e, &v)) != UTXO_OK)
        goto out;
    if ((t = mt_new()) == NULL) {
        rc = UTXO_ERR_NOMEM;
        goto out;
    }
    for (uint32_t i = 0; i < c.info.pages; i++) {
        const uint8_t *pg = c.pages + (size_t)i * CKPT_PAGE;
        if ((rc = mt_set_page(t, get_u32le(pg), pg + 4)) != UTXO_OK)
            goto out;
    }
    if ((rc = mt_commit(t)) != UTXO_OK)
        goto out;
    mt_root(t, c.st.root);
    seg_prove_run p = {id, run_id, args, (uint32_t)args_len, ctx, budget, page_limit,
                       po2, sink, ud, NULL};
    rc = seg_prove_loop(&p, v, t, &c.st, c.info.span, res, &fin);
    *finished = rc == UTXO_OK && fin;
out:
    if (rc != UTXO_OK)
        memset(res, 0, sizeof *res);
    mt_free(t);
    vm_free(v);
    pc_put(e);
    return rc;
}
