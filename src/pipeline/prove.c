/*
 * pipeline/prove.c — a stored range into a proof file (utxo/pipeline.h,
 * utxo_prove_range): each block's bundle as the store made it when it was
 * applied, read back rather than recomputed, optionally with the segment
 * receipts of its long runs (chain_receipts_add), and optionally the blocks
 * themselves as a block file. Outputs are replaced atomically through the
 * block file writer: nothing is visible unless the whole range succeeded.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "chain/chain.h"
#include "pipeline/pipe_int.h"
#include "utxo/blockfile.h"
#include "utxo/segments.h"

/* The bundle bytes of block b (*rec, *len) replaced by the same bundle with
 * the receipts of its long runs; *bd receives the decoded bundle. */
static int add_receipts(const utxo_block *b, const utxo_params *p, unsigned po2, uint8_t **rec,
                        size_t *len, utxo_bundle *bd, uint64_t *runs, uint64_t *segs)
{
    uint8_t *out = NULL;
    uint64_t r = 0, n = 0;
    size_t olen = 0, w = 0;
    int rc;

    rc = chain_receipts_add(bd, b, p, po2, &r, &n);
    if (rc == UTXO_OK) {
        olen = utxo_bundle_get_length(bd);
        if ((out = malloc(olen)) == NULL)
            rc = UTXO_ERR_NOMEM;
    }
    if (rc == UTXO_OK)
        rc = utxo_bundle_to_bytes(bd, out, olen, &w);
    if (rc != UTXO_OK) {
        free(out);
        return rc;
    }
    free(*rec);
    *rec = out;
    *len = olen;
    *runs += r;
    *segs += n;
    return UTXO_OK;
}

static int create_out(utxo_chainfile **f, const char *path, int kind, const utxo_params *p,
                      utxo_pipe_result *res)
{
    int rc;

    errno = 0;
    rc = utxo_chainfile_create(f, path, kind, p);
    if (rc == UTXO_ERR_IO) {
        res->sys_errno = errno;
        return pipe_fail(res, rc, false, UTXO_PIPE_OUTPUT, "cannot create %s: %s", path,
                         strerror(errno ? errno : EIO));
    }
    if (rc != UTXO_OK)
        return pipe_fail(res, rc, false, UTXO_PIPE_OUTPUT, "cannot create %s: %s", path,
                         utxo_strerror(rc));
    return UTXO_OK;
}

/* Commits f (path names it in the message). */
static int commit_out(utxo_chainfile *f, const char *path, utxo_pipe_result *res)
{
    int rc;

    errno = 0;
    rc = utxo_chainfile_close(f);
    if (rc != UTXO_OK) {
        res->sys_errno = errno;
        return pipe_fail(res, rc, false, UTXO_PIPE_OUTPUT, "writing %s: %s", path,
                         rc == UTXO_ERR_IO ? strerror(errno ? errno : EIO) : utxo_strerror(rc));
    }
    return UTXO_OK;
}

int utxo_prove_range(utxo_store *s, uint32_t from, uint32_t to, const char *proofs_path,
                     const utxo_prove_opts *o, utxo_pipe_result *res)
{
    utxo_prove_opts none;
    utxo_pipe_result tmp;
    utxo_chainfile *pf = NULL, *bf = NULL;
    utxo_store_info info;
    utxo_params p;
    int rc = UTXO_OK;

    if (res == NULL)
        res = &tmp;
    memset(res, 0, sizeof *res);
    if (o == NULL) {
        memset(&none, 0, sizeof none);
        o = &none;
    }
    if (s == NULL || proofs_path == NULL)
        return pipe_fail(res, UTXO_ERR_ARG, false, UTXO_PIPE_NONE, "no store or output path");
    if (o->seg_po2 != 0 && (o->seg_po2 < UTXO_SEG_PO2_MIN || o->seg_po2 > UTXO_SEG_PO2_MAX))
        return pipe_fail(res, UTXO_ERR_SEG_PARAM, false, UTXO_PIPE_NONE,
                         "segment size 2^%u outside 2^%u..2^%u", o->seg_po2, UTXO_SEG_PO2_MIN,
                         UTXO_SEG_PO2_MAX);
    utxo_store_get_info(s, &info);
    utxo_store_params(s, &p);
    if (info.n_blocks == 0)
        return pipe_fail(res, UTXO_ERR_STORE_HEIGHT, false, UTXO_PIPE_STORE,
                         "the store holds no block");
    if (from >= to || to > info.n_blocks)
        return pipe_fail(res, UTXO_ERR_STORE_HEIGHT, false, UTXO_PIPE_STORE,
                         "heights %u..%u are outside the store's 0..%u", from,
                         to > from ? to - 1 : from, info.n_blocks - 1);
    if (create_out(&pf, proofs_path, UTXO_CHAINFILE_PROOFS, &p, res) != UTXO_OK ||
        (o->blocks_path != NULL &&
         create_out(&bf, o->blocks_path, UTXO_CHAINFILE_BLOCKS, &p, res) != UTXO_OK))
        goto fail;
    for (uint32_t h = from; h < to; h++) {
        uint8_t *rec = NULL, *brec = NULL;
        size_t len = 0, blen = 0, eo = 0;
        utxo_block *b = NULL;
        utxo_bundle *bd = NULL;
        int stop = 0;

        res->record = h - from;
        res->height = h;
        rc = utxo_store_get_bundle(s, h, &rec, &len);
        if (rc == UTXO_OK)
            rc = utxo_store_get_block(s, h, &b, &brec, &blen);
        if (rc != UTXO_OK) {
            pipe_fail(res, rc, false, UTXO_PIPE_STORE, "block %u: %s", h,
                      utxo_store_errmsg(s)[0] ? utxo_store_errmsg(s) : utxo_strerror(rc));
        } else if ((rc = utxo_bundle_from_bytes(&bd, rec, len, &p, &eo)) != UTXO_OK) {
            pipe_fail(res, rc, true, UTXO_PIPE_STORE,
                      "the store's bundle of block %u does not decode: %s (byte %zu)", h,
                      utxo_strerror(rc), eo);
        } else if (o->seg_po2 != 0 &&
                   (rc = add_receipts(b, &p, o->seg_po2, &rec, &len, bd, &res->runs,
                                      &res->segments)) != UTXO_OK) {
            pipe_fail(res, rc, false, UTXO_PIPE_STORE, "block %u: segment receipts: %s", h,
                      utxo_strerror(rc));
        } else if ((rc = utxo_chainfile_append(pf, rec, len)) != UTXO_OK ||
                   (bf != NULL && (rc = utxo_chainfile_append(bf, brec, blen)) != UTXO_OK)) {
            res->sys_errno = errno;
            pipe_fail(res, rc, false, UTXO_PIPE_OUTPUT, "block %u: writing the output: %s", h,
                      rc == UTXO_ERR_IO ? strerror(errno ? errno : EIO) : utxo_strerror(rc));
        } else {
            res->applied++;
            res->bytes += len;
            if (o->progress != NULL) {
                utxo_pipe_progress pr;
                memset(&pr, 0, sizeof pr);
                pr.event = UTXO_PIPE_APPLIED;
                pr.height = h;
                pr.record = h - from;
                pr.applied = res->applied;
                pr.bytes_done = h - from + 1;
                pr.bytes_total = to - from;
                pr.block = b;
                pr.bundle = bd;
                stop = o->progress(o->ctx, &pr);
            }
        }
        free(rec);
        free(brec);
        utxo_block_free(b);
        utxo_bundle_free(bd);
        if (rc != UTXO_OK)
            goto fail;
        if (stop) {
            res->stopped = true;
            pipe_fail(res, UTXO_OK, false, UTXO_PIPE_NONE, "stopped at block %u", h);
            goto fail;
        }
    }
    rc = commit_out(pf, proofs_path, res);
    pf = NULL;
    if (rc == UTXO_OK && bf != NULL) {
        rc = commit_out(bf, o->blocks_path, res);
        bf = NULL;
    }
    utxo_chainfile_discard(bf);
    return res->err;
fail:
    utxo_chainfile_discard(pf);
    utxo_chainfile_discard(bf);
    return res->err;
}
