/*
 * receipt.c — the canonical encoding of segment receipts: the encoder the
 * prover uses, the strict decoder, and the small public accessors
 * (include/utxo/segments.h; the byte layout is the table in
 * docs/CONTINUATIONS.md, "Segment receipt").
 *
 * The decoder checks form only (magic, version, ranges, order, padding,
 * canonical proof); whether the receipt is true is the verifier's business
 * (segment_verify.c). Page bytes, arguments and proof hashes are not copied:
 * the decoded receipt points into its own copy of the encoding.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "prover/receipt.h"

int rcpt_encode_head(enc *e, const rcpt_fields *f)
{
    size_t n = f->n_pages;
    uint8_t bm = 0;

    enc_bytes(e, RCPT_MAGIC, 4);
    enc_u8(e, RCPT_VERSION);
    enc_u8(e, (uint8_t)f->po2);
    enc_u8(e, f->final ? 1 : 0);
    enc_u32(e, f->index);
    enc_bytes(e, f->pred_id, UTXO_HASH_BYTES);
    enc_u64(e, f->budget);
    enc_u32(e, f->page_limit);
    enc_u32(e, f->args_len);
    enc_bytes(e, f->args, f->args_len);
    enc_u32(e, f->pre->pc);
    for (unsigned r = 1; r < 32; r++)
        enc_u32(e, f->pre->x[r]);
    enc_u64(e, f->pre->cycles);
    enc_u32(e, f->pre->touched);
    enc_u32(e, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        enc_u32(e, f->pages[i]);
    for (size_t i = 0; i < n; i++) {
        if (mt_page(f->tree, f->pages[i]))
            bm |= (uint8_t)(1u << (i % 8));
        if (i % 8 == 7 || i + 1 == n) {
            enc_u8(e, bm);
            bm = 0;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = mt_page(f->tree, f->pages[i]);
        if (p)
            enc_bytes(e, p, MT_PAGE_BYTES);
    }
    return mt_proof_write(e, f->tree, f->pages, n);
}

void rcpt_encode_tail(enc *e, const uint8_t post[UTXO_HASH_BYTES], int final,
                      const utxo_vm_result *o)
{
    enc_bytes(e, post, UTXO_HASH_BYTES);
    if (final) {
        enc_u8(e, (uint8_t)o->status);
        enc_u8(e, (uint8_t)o->fail);
        enc_u32(e, o->exit_code);
        enc_u32(e, o->pc);
        enc_u64(e, o->cycles);
    }
}

void utxo_receipt_free(utxo_receipt *r)
{
    if (!r)
        return;
    free(r->bytes);
    free(r->page_no);
    free(r->rank);
    free(r);
}

/* A canonical outcome: accepted (exit 0), rejected (exit != 0) or failed
 * for a reason a real run can end with (not NOT_WITNESSED). */
static int outcome_ok(const utxo_vm_result *o)
{
    switch (o->status) {
    case UTXO_VM_ACCEPTED: return o->fail == 0 && o->exit_code == 0;
    case UTXO_VM_REJECTED: return o->fail == 0 && o->exit_code != 0;
    case UTXO_VM_FAILED:
        return o->fail >= UTXO_VM_FAIL_OUT_OF_CYCLES && o->fail <= UTXO_VM_FAIL_BAD_FETCH &&
               o->exit_code == 0;
    default: return 0;
    }
}

/* A witness page number: above the null guard, inside memory, and
 * strictly after the previous one. */
static int page_ok(uint32_t p, uint32_t i, uint32_t prev)
{
    return p >= (VM_LOW_UNMAPPED >> VM_PAGE_SHIFT) && p < MT_NUM_PAGES && (i == 0 || p > prev);
}

/* Decodes everything before the witness page numbers, up to and including
 * their count n (at most one per page of memory). */
static void dec_head(dec *d, utxo_receipt *r)
{
    size_t off;

    const uint8_t *magic = dec_view(d, 4);
    if (magic && memcmp(magic, RCPT_MAGIC, 4) != 0)
        dec_fail(d, UTXO_ERR_VERSION, 0);
    off = d->off;
    if (dec_u8(d) != RCPT_VERSION)
        dec_fail(d, UTXO_ERR_VERSION, off);
    off = d->off;
    r->po2 = dec_u8(d);
    if (!d->err && (r->po2 < UTXO_SEG_PO2_MIN || r->po2 > UTXO_SEG_PO2_MAX))
        dec_fail(d, UTXO_ERR_SEG_PARAM, off);
    off = d->off;
    r->final = dec_u8(d);
    if (r->final > 1)
        dec_fail(d, UTXO_ERR_NONCANONICAL, off);
    r->index = dec_u32(d);
    r->pre.segment = r->index;
    dec_bytes(d, r->pred_id, UTXO_HASH_BYTES);
    r->budget = dec_u64(d);
    off = d->off;
    r->page_limit = dec_u32(d);
    if (!d->err && (r->page_limit == 0 || r->page_limit > UTXO_SEG_PAGE_LIMIT_MAX))
        dec_fail(d, UTXO_ERR_SEG_PARAM, off);
    off = d->off;
    r->args_len = dec_u32(d);
    if (r->args_len > UTXO_SEG_MAX_ARGS)
        dec_fail(d, UTXO_ERR_TOO_LARGE, off);
    r->args = dec_view(d, r->args_len);
    r->pre.pc = dec_u32(d);
    for (unsigned i = 1; i < 32; i++)
        r->pre.x[i] = dec_u32(d);
    r->pre.cycles = dec_u64(d);
    r->pre.touched = dec_u32(d);
    off = d->off;
    r->n_pages = dec_u32(d);
    if (!d->err && r->n_pages > MT_NUM_PAGES)
        dec_fail(d, UTXO_ERR_TOO_LARGE, off);
}

int rcpt_decode_owned(utxo_receipt **out, uint8_t *bytes, size_t len, size_t *err_offset)
{
    utxo_receipt *r = NULL;
    dec d;
    size_t off;
    uint32_t prev = 0;
    int rc;

    *out = NULL;
    if (err_offset)
        *err_offset = 0;
    r = calloc(1, sizeof *r);
    if (!r) {
        free(bytes);
        return UTXO_ERR_NOMEM;
    }
    r->bytes = bytes;
    r->len = len;
    dec_init(&d, bytes, len);

    dec_head(&d, r);
    if (!d.err && r->n_pages > dec_left(&d) / 4)
        dec_fail(&d, UTXO_ERR_TRUNCATED, len);
    if (d.err)
        goto done;
    r->page_no = malloc((r->n_pages ? r->n_pages : 1) * sizeof *r->page_no);
    r->rank = malloc(((r->n_pages + 7) / 8 + 1) * sizeof *r->rank);
    if (!r->page_no || !r->rank) {
        dec_fail(&d, UTXO_ERR_NOMEM, d.off);
        goto done;
    }
    for (uint32_t i = 0; i < r->n_pages && !d.err; i++) {
        off = d.off;
        uint32_t p = dec_u32(&d);
        if (!d.err && !page_ok(p, i, prev))
            dec_fail(&d, UTXO_ERR_NONCANONICAL, off);
        r->page_no[i] = prev = p;
    }
    off = d.off;
    const uint8_t *bm = dec_view(&d, (r->n_pages + 7) / 8);
    if (d.err)
        goto done;
    if (r->n_pages % 8 && (bm[r->n_pages / 8] >> (r->n_pages % 8)) != 0) {
        dec_fail(&d, UTXO_ERR_NONCANONICAL, off + r->n_pages / 8);
        goto done;
    }
    r->present = bm;
    for (uint32_t j = 0; j < (r->n_pages + 7) / 8; j++) {
        r->rank[j] = r->n_present;
        r->n_present += (uint32_t)__builtin_popcount(bm[j]);
    }
    if (r->n_present > dec_left(&d) / MT_PAGE_BYTES) {
        dec_fail(&d, UTXO_ERR_TRUNCATED, len);
        goto done;
    }
    r->page_data = dec_view(&d, (size_t)r->n_present * MT_PAGE_BYTES);
    mt_proof_read(&d, &r->proof, r->page_no, r->n_pages);
    dec_bytes(&d, r->post_digest, UTXO_HASH_BYTES);
    if (r->final) {
        off = d.off;
        r->outcome.status = dec_u8(&d);
        r->outcome.fail = dec_u8(&d);
        r->outcome.exit_code = dec_u32(&d);
        r->outcome.pc = dec_u32(&d);
        r->outcome.cycles = dec_u64(&d);
        if (!d.err && !outcome_ok(&r->outcome))
            dec_fail(&d, UTXO_ERR_NONCANONICAL, off);
    }
    dec_end(&d);
done:
    rc = dec_result(&d, err_offset);
    if (rc != UTXO_OK) {
        utxo_receipt_free(r);
        return rc;
    }
    *out = r;
    return UTXO_OK;
}

int utxo_receipt_from_bytes(utxo_receipt **out, const uint8_t *p, size_t len, size_t *err_offset)
{
    uint8_t *copy;

    if (out)
        *out = NULL;
    if (err_offset)
        *err_offset = 0;
    if (!out || (!p && len))
        return UTXO_ERR_ARG;
    copy = malloc(len ? len : 1);
    if (!copy)
        return UTXO_ERR_NOMEM;
    if (len)
        memcpy(copy, p, len);
    return rcpt_decode_owned(out, copy, len, err_offset);
}

/* ---- reading a file incrementally --------------------------------------
 *
 * A receipt's length follows from its own fields: the header gives the
 * argument length and the witness count n; the page numbers give the
 * proof's sibling count k; the present bitmap gives the page bytes; the
 * proof's bitmap gives its hash count. rd_probe looks at what has been
 * read so far and says how far the reader must read to learn more (or
 * that the receipt is complete); it refuses as soon as a field is wrong
 * or the file's size cannot be the receipt's length, so a hostile file is
 * refused after reading at most its header, its page numbers and bitmaps,
 * never its page bytes. The strict decoder then checks the whole. */

#define RD_HEAD_FIXED 203u /* bytes before the page numbers, arguments aside */
#define RD_ARGS_LEN_AT 55u
#define RD_STEP_MIN ((size_t)64 << 10)

typedef struct rd_state {
    int have_k;
    size_t k; /* proof siblings, once the page numbers are read */
} rd_state;

/* Returns an error (offset in *eo) or UTXO_OK with *need: the length to
 * read up to next, or have itself when the receipt ends there. size: the
 * stream's length, or UINT64_MAX when unknown. */
static int rd_probe(rd_state *st, const uint8_t *p, size_t have, uint64_t size, size_t *need,
                    size_t *eo)
{
    utxo_receipt h;
    dec d;
    size_t off_pn, off_bm, off_pd, off_pr, tail, total;
    uint64_t lo, hi;
    uint32_t prev = 0, present = 0, n;
    int rc;

    memset(&h, 0, sizeof h);
    dec_init(&d, p, have);
    dec_head(&d, &h);
    if ((rc = dec_result(&d, eo)) == UTXO_ERR_TRUNCATED) {
        *need = have < RD_ARGS_LEN_AT + 4 ? RD_HEAD_FIXED
                                          : RD_HEAD_FIXED + get_u32le(p + RD_ARGS_LEN_AT);
        return UTXO_OK;
    }
    if (rc != UTXO_OK)
        return rc;
    n = h.n_pages;
    tail = RCPT_TAIL_BYTES(h.final); /* post digest and outcome */
    off_pn = d.off;
    off_bm = off_pn + 4 * (size_t)n;
    off_pd = off_bm + (n + 7) / 8;
    /* Every proof has at least one sibling bit. */
    lo = (uint64_t)off_pd + 1 + tail;
    if (size != UINT64_MAX && size < lo) {
        *eo = (size_t)size;
        return UTXO_ERR_TRUNCATED;
    }
    for (uint32_t i = 0; i < n && off_pn + 4 * (size_t)i + 4 <= have; i++) {
        uint32_t pg = get_u32le(p + off_pn + 4 * (size_t)i);
        if (!page_ok(pg, i, prev)) {
            *eo = off_pn + 4 * (size_t)i;
            return UTXO_ERR_NONCANONICAL;
        }
        prev = pg;
    }
    if (have < off_pd) {
        *need = off_pd;
        return UTXO_OK;
    }
    if (n % 8 && (p[off_bm + n / 8] >> (n % 8)) != 0) {
        *eo = off_bm + n / 8;
        return UTXO_ERR_NONCANONICAL;
    }
    for (size_t j = off_bm; j < off_pd; j++)
        present += (uint32_t)__builtin_popcount(p[j]);
    if (!st->have_k) {
        uint32_t *pos = malloc((n ? n : 1) * sizeof *pos);
        if (!pos)
            return UTXO_ERR_NOMEM;
        for (uint32_t i = 0; i < n; i++)
            pos[i] = get_u32le(p + off_pn + 4 * (size_t)i);
        st->k = mt_proof_siblings(pos, n);
        st->have_k = 1;
        free(pos);
    }
    off_pr = off_pd + (size_t)present * MT_PAGE_BYTES;
    lo = (uint64_t)off_pr + (st->k + 7) / 8 + tail;
    hi = lo + (uint64_t)st->k * UTXO_HASH_BYTES;
    if (size != UINT64_MAX && (size < lo || size > hi)) {
        *eo = (size_t)(size < lo ? size : hi);
        return size < lo ? UTXO_ERR_TRUNCATED : UTXO_ERR_TRAILING;
    }
    if (have < off_pr + (st->k + 7) / 8) {
        *need = off_pr + (st->k + 7) / 8;
        return UTXO_OK;
    }
    total = (size_t)lo;
    for (size_t i = 0; i < st->k; i++)
        if (!((p[off_pr + i / 8] >> (i % 8)) & 1u))
            total += UTXO_HASH_BYTES;
    if ((size != UINT64_MAX && size != total) || have > total) {
        *eo = size != UINT64_MAX && size < total ? (size_t)size : total;
        return size != UINT64_MAX && size < total ? UTXO_ERR_TRUNCATED : UTXO_ERR_TRAILING;
    }
    *need = total;
    return UTXO_OK;
}

int rcpt_check_prefix(const uint8_t *p, size_t have, size_t size, size_t *err_offset)
{
    rd_state st = {0, 0};
    size_t need = 0, eo = 0;
    int rc;

    *err_offset = 0;
    if (p == NULL || have >= size)
        return UTXO_ERR_ARG;
    rc = rd_probe(&st, p, have, size, &need, &eo);
    if (rc != UTXO_OK)
        *err_offset = eo;
    return rc;
}

int utxo_receipt_read(utxo_receipt **out, FILE *f, size_t *err_offset)
{
    rd_state st = {0, 0};
    struct stat sb;
    uint64_t size = UINT64_MAX;
    uint8_t *buf = NULL;
    size_t have = 0, need = 0, eo = 0;
    off_t at;
    int rc;

    if (out)
        *out = NULL;
    if (err_offset)
        *err_offset = 0;
    if (!out || !f)
        return UTXO_ERR_ARG;
    if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode) && (at = ftello(f)) >= 0 &&
        at <= sb.st_size)
        size = (uint64_t)(sb.st_size - at);
    for (;;) {
        size_t want, got;
        uint8_t *nb;

        if ((rc = rd_probe(&st, buf, have, size, &need, &eo)) != UTXO_OK)
            goto fail;
        if (need <= have)
            break;
        /* Grow by at most the bytes already read (64 KiB at first), so a
         * claim is checked against what the next step actually holds. */
        want = need - have > (have > RD_STEP_MIN ? have : RD_STEP_MIN)
                   ? have + (have > RD_STEP_MIN ? have : RD_STEP_MIN)
                   : need;
        if ((nb = realloc(buf, want)) == NULL) {
            rc = UTXO_ERR_NOMEM;
            goto fail;
        }
        buf = nb;
        got = fread(buf + have, 1, want - have, f);
        have += got;
        if (have < want) {
            rc = ferror(f) ? UTXO_ERR_IO : UTXO_ERR_TRUNCATED;
            eo = have;
            goto fail;
        }
    }
    if (size == UINT64_MAX && fgetc(f) != EOF) {
        rc = UTXO_ERR_TRAILING;
        eo = have;
        goto fail;
    }
    rc = rcpt_decode_owned(out, buf, have, &eo); /* need >= RD_HEAD_FIXED: buf is set */
    if (rc != UTXO_OK && err_offset)
        *err_offset = eo;
    return rc;
fail:
    free(buf);
    if (err_offset)
        *err_offset = eo;
    return rc;
}

const uint8_t *utxo_receipt_bytes(const utxo_receipt *r, size_t *len)
{
    if (len)
        *len = r ? r->len : 0;
    return r ? r->bytes : NULL;
}

void utxo_receipt_get_info(const utxo_receipt *r, utxo_receipt_info *info)
{
    if (!info)
        return;
    memset(info, 0, sizeof *info);
    if (!r)
        return;
    info->index = r->index;
    info->po2 = r->po2;
    info->final = r->final;
    memcpy(info->predicate_id, r->pred_id, UTXO_HASH_BYTES);
    info->budget = r->budget;
    info->page_limit = r->page_limit;
    info->args_len = r->args_len;
    info->cycles_before = r->pre.cycles;
    info->pages_before = r->pre.touched;
    info->witness_pages = r->n_pages;
    info->witness_present = r->n_present;
    info->proof_hashes = r->proof.n_hashes;
    info->bytes = r->len;
}

long rcpt_find(const utxo_receipt *r, uint32_t page)
{
    uint32_t lo = 0, hi = r->n_pages;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (r->page_no[mid] < page)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (lo < r->n_pages && r->page_no[lo] == page) ? (long)lo : -1;
}
