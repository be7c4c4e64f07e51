/*
 * pipeline/wallet.c — wallet sync as library calls (utxo/pipeline.h): a
 * block file with its proof file through the shared file loop (files.c,
 * the record rule included), or a full node's store by height. Each block
 * goes through utxo_wallet_apply_block, which commits it in its own SQL
 * transaction, so the wallet needs no separate save.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pipeline/pipe_int.h"

static uint32_t w_next(void *obj)
{
    return utxo_wallet_next_height(obj);
}

static void w_tip(void *obj, uint8_t out[UTXO_HASH_BYTES])
{
    utxo_wallet_tip_hash(obj, out);
}

/* A wallet's own failures (its database, memory) are not verdicts. */
static bool w_invalid(int rc)
{
    return rc != UTXO_ERR_WALLET_DB && rc != UTXO_ERR_NOMEM && rc != UTXO_ERR_IO &&
           rc != UTXO_ERR_ARG && rc != UTXO_ERR_INTERNAL;
}

static int w_apply(void *obj, const utxo_block *b, const utxo_bundle *bd,
                   const utxo_block *next, const utxo_bundle *next_bd, utxo_verdict *vd,
                   bool *invalid, char *why, size_t why_len)
{
    int rc = utxo_wallet_apply_block(obj, b, bd, vd);

    (void)next;
    (void)next_bd;
    *invalid = w_invalid(rc);
    if (rc != UTXO_OK && utxo_wallet_errmsg(obj)[0] != '\0')
        snprintf(why, why_len, "%s", utxo_wallet_errmsg(obj));
    return rc;
}

static void fill_target(pipe_target *t, utxo_wallet *w)
{
    utxo_params p;

    memset(t, 0, sizeof *t);
    utxo_wallet_params(w, &p);
    memcpy(t->chain_id, p.chain_id, UTXO_HASH_BYTES);
    t->obj = w;
    t->next_height = w_next;
    t->tip_hash = w_tip;
    t->apply = w_apply;
}

int utxo_wallet_sync_files(utxo_wallet *w, const char *blocks, const char *proofs,
                           const utxo_sync_opts *o, utxo_pipe_result *res)
{
    utxo_pipe_result tmp;
    pipe_target t;
    pipe_opts po;

    if (res == NULL)
        res = &tmp;
    memset(res, 0, sizeof *res);
    if (w == NULL)
        return pipe_fail(res, UTXO_ERR_ARG, false, UTXO_PIPE_NONE, "no wallet");
    fill_target(&t, w);
    memset(&po, 0, sizeof po);
    if (o != NULL) {
        po.to = o->to;
        po.progress = o->progress;
        po.ctx = o->ctx;
    }
    return pipe_files_run(&t, blocks, proofs, &po, res);
}

int utxo_wallet_sync_store(utxo_wallet *w, utxo_store *s, const utxo_sync_opts *o,
                           utxo_pipe_result *res)
{
    utxo_pipe_result tmp;
    utxo_store_info info;
    utxo_params p;
    uint32_t end;

    if (res == NULL)
        res = &tmp;
    memset(res, 0, sizeof *res);
    if (w == NULL || s == NULL)
        return pipe_fail(res, UTXO_ERR_ARG, false, UTXO_PIPE_NONE, "no wallet or store");
    utxo_wallet_params(w, &p);
    utxo_store_get_info(s, &info);
    {
        utxo_params sp;
        utxo_store_params(s, &sp);
        if (memcmp(sp.chain_id, p.chain_id, UTXO_HASH_BYTES) != 0)
            return pipe_fail(res, UTXO_ERR_FILE_CHAIN, false, UTXO_PIPE_STORE,
                             "the store belongs to another chain than the wallet");
    }
    end = info.n_blocks;
    if (o != NULL && o->to != 0 && o->to < end)
        end = o->to;
    for (uint32_t h = utxo_wallet_next_height(w); h < end; h++) {
        utxo_block *blk = NULL;
        utxo_bundle *bd = NULL;
        uint8_t *bytes = NULL;
        size_t len = 0, eo = 0;
        utxo_verdict vd;
        int rc, stop = 0;

        memset(&vd, 0, sizeof vd);
        res->record = h;
        res->height = h;
        if ((rc = utxo_store_get_block(s, h, &blk, NULL, NULL)) != UTXO_OK ||
            (rc = utxo_store_get_bundle(s, h, &bytes, &len)) != UTXO_OK) {
            pipe_fail(res, rc, false, UTXO_PIPE_STORE, "block %u: %s", h,
                      utxo_store_errmsg(s)[0] ? utxo_store_errmsg(s) : utxo_strerror(rc));
        } else if ((rc = utxo_bundle_from_bytes(&bd, bytes, len, &p, &eo)) != UTXO_OK) {
            pipe_fail(res, rc, true, UTXO_PIPE_STORE, "bundle of block %u: %s (byte %zu)", h,
                      utxo_strerror(rc), eo);
        } else if ((rc = utxo_wallet_apply_block(w, blk, bd, &vd)) != UTXO_OK) {
            res->verdict = vd;
            res->verdict.err = rc;
            pipe_fail(res, rc, w_invalid(rc), UTXO_PIPE_STORE,
                      "block %u invalid: %s (tx %u, input %u)%s%s", h, utxo_strerror(rc), vd.tx,
                      vd.input, utxo_wallet_errmsg(w)[0] ? ": " : "", utxo_wallet_errmsg(w));
        } else {
            res->applied++;
            if (o != NULL && o->progress != NULL) {
                utxo_pipe_progress pr;
                memset(&pr, 0, sizeof pr);
                pr.event = UTXO_PIPE_APPLIED;
                pr.height = h;
                pr.record = h;
                pr.applied = res->applied;
                pr.bytes_done = h + 1;
                pr.bytes_total = end;
                pr.block = blk;
                pr.bundle = bd;
                pr.verdict = &vd;
                stop = o->progress(o->ctx, &pr);
            }
        }
        utxo_block_free(blk);
        utxo_bundle_free(bd);
        free(bytes);
        if (rc != UTXO_OK)
            return res->err;
        if (stop) {
            res->stopped = true;
            break;
        }
    }
    return UTXO_OK;
}
