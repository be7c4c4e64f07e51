/*
 * pipeline/replay.c — a block file into a full node's store
 * (utxo/pipeline.h, utxo_replay_file): the store as a target of the shared
 * file loop (files.c), so replay follows the same record rule as verify and
 * wallet sync. Each block is validated in full and committed in its own
 * SQL transaction by utxo_store_apply_block: the store needs no save.
 * The store's pipeline is on for the run: valid blocks are committed in
 * groups, each COMMIT while the next block's predicates run. From a pipe,
 * whose writer may pause, the open group is committed before each read
 * (s_idle), so a replay waiting for input has committed everything it
 * applied.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include "pipeline/pipe_int.h"

static uint32_t s_next(void *obj)
{
    utxo_store_info info;

    utxo_store_get_info(obj, &info);
    return info.n_blocks;
}

static void s_tip(void *obj, uint8_t out[UTXO_HASH_BYTES])
{
    utxo_store_info info;

    utxo_store_get_info(obj, &info);
    memcpy(out, info.tip_hash, UTXO_HASH_BYTES);
}

static int s_apply(void *obj, const utxo_block *b, const utxo_bundle *bd,
                   const utxo_block *next, const utxo_bundle *next_bd, utxo_verdict *vd,
                   bool *invalid, char *why, size_t why_len)
{
    int rc = utxo_store_apply_block(obj, b, vd);

    (void)bd;
    (void)next;
    (void)next_bd;
    /* rule codes are verdicts; storage, memory and I/O failures are not */
    *invalid = (rc >= 10 && rc < 150) || (rc >= 200 && rc < 250 && rc != UTXO_ERR_FILE_CHAIN);
    if (rc != UTXO_OK && utxo_store_errmsg(obj)[0] != '\0')
        snprintf(why, why_len, "%s", utxo_store_errmsg(obj));
    return rc;
}

/* Before a read that may wait: what the pipeline holds open is committed. */
static int s_idle(void *obj, char *why, size_t why_len)
{
    int rc = utxo_store_flush(obj);

    if (rc != UTXO_OK)
        snprintf(why, why_len, "%s", utxo_store_errmsg(obj));
    return rc;
}

int utxo_replay_file(utxo_store *s, const char *blocks, const utxo_sync_opts *o,
                     utxo_pipe_result *res)
{
    utxo_pipe_result tmp;
    utxo_store_info before, after;
    utxo_params p;
    pipe_target t;
    pipe_opts po;
    int rc, frc;

    if (res == NULL)
        res = &tmp;
    memset(res, 0, sizeof *res);
    if (s == NULL)
        return pipe_fail(res, UTXO_ERR_ARG, false, UTXO_PIPE_NONE, "no store");
    memset(&t, 0, sizeof t);
    utxo_store_params(s, &p);
    memcpy(t.chain_id, p.chain_id, UTXO_HASH_BYTES);
    t.obj = s;
    t.next_height = s_next;
    t.tip_hash = s_tip;
    t.apply = s_apply;
    t.idle = s_idle;
    memset(&po, 0, sizeof po);
    if (o != NULL) {
        po.to = o->to;
        po.progress = o->progress;
        po.ctx = o->ctx;
        po.blocks_file = o->blocks_file;
    }
    /* the pipeline (docs/STORE.md): blocks commit in groups, each commit
     * beside the next block's predicates; flushed before returning,
     * whatever happened */
    if ((rc = utxo_store_set_pipeline(s, true)) != UTXO_OK)
        return pipe_fail(res, rc, false, UTXO_PIPE_NONE, "%s", utxo_store_errmsg(s));
    utxo_store_get_info(s, &before);
    rc = pipe_files_run(&t, blocks, NULL, &po, res);
    frc = utxo_store_set_pipeline(s, false);
    if (frc != UTXO_OK && rc == UTXO_OK)
        rc = pipe_fail(res, frc, false, UTXO_PIPE_NONE, "%s", utxo_store_errmsg(s));
    /* applied means committed: a group that failed to commit was lost */
    utxo_store_get_info(s, &after);
    res->applied = after.n_blocks - before.n_blocks;
    return rc;
}
