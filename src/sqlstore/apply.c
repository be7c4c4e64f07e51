/*
 * apply.c — applying one block to the store, all or nothing: an adapter
 * over the block-connection core (src/connect/connect.h). The store gives
 * the core its utxos table as the spent-output view and its SQLite forest
 * as the accumulator backend, whose persist hook writes the block's effects
 * (rows, undo record, bundle, block, meta) on the core's helper thread while
 * the predicates run. All of it happens inside one SQL transaction; any
 * failure rolls it back and reloads the in-memory mirrors, so the store is
 * exactly as before (docs/STORE.md, "Applying a block"). With the
 * pipeline, valid blocks share one transaction in groups, and a block
 * that fails inside a group has the group applied again (group_redo;
 * docs/STORE.md, "The pipeline").
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "sqlstore/store_int.h"
#include "utxo/codec.h"
#include "utxo/ledger_int.h"

int store_undo_encode(const store_spent *v, size_t n, uint8_t **out, size_t *len)
{
    return cn_undo_encode(v, n, out, len);
}

int store_undo_decode(const uint8_t *buf, size_t len, store_spent **out, size_t *n_out)
{
    return cn_undo_decode(buf, len, out, n_out);
}

/* ---- the adapter's state for one block ----------------------------------- */

typedef struct apply_ctx {
    utxo_store *s;
    const utxo_block *b;
    cn_forest_acc fa;      /* the backend: the store's forest */
    uint8_t **datums;      /* the view's copies of spent datums */
    size_t n_datums;
    bool in_txn;           /* this block began the SQL transaction */
    bool joined;           /* this block writes into the pipeline's open group */
    uint8_t *bytes;        /* the block encoded (write_block), kept by the group */
    size_t len;
} apply_ctx;

/* The view's begin: the SQL transaction starts when the block has passed
 * the header and context-free rules, before the first read. In the
 * pipeline, when the transaction of the blocks before is still open
 * (pending), this block reads inside it, which holds their rows: what it
 * writes begins on the store thread (pipe_begin). */
static int view_begin(void *arg, const utxo_block *b, size_t n_external, size_t *bad)
{
    apply_ctx *c = arg;
    int rc;

    (void)b;
    *bad = n_external;
    if (c->s->pending)
        return UTXO_OK;
    if ((rc = store_begin(c->s)) == UTXO_OK)
        c->in_txn = true;
    return rc;
}

/* The backend's begin, first on the core's store thread (connect.h): the
 * pipeline's overlap. Nothing of this block has been written yet. While
 * the open group is young and small, this block joins it (should it fail
 * after writing, group_redo undoes it); otherwise the group's COMMIT runs
 * here, while this block's predicates run on the verifier's threads, and
 * this block begins the next group. */
/* Whether a group of n blocks is full by count (its age is pipe_begin's). */
static bool group_full(const utxo_store *s, uint32_t n)
{
    return n >= s->group_max || n >= STORE_GROUP_BLOCKS;
}

static int pipe_begin(void *arg)
{
    apply_ctx *c = arg;
    utxo_store *s = c->s;
    int rc;

    if (s->pending == 0)
        return UTXO_OK;
    if (!group_full(s, s->pending) && store_now_ns() - s->group_t0 < s->group_ns) {
        c->joined = true;
        return UTXO_OK;
    }
    if ((rc = store_flush(s)) != UTXO_OK)
        return rc; /* rolled back to the block before it, mirrors reloaded */
    if ((rc = store_begin(s)) == UTXO_OK)
        c->in_txn = true;
    return rc;
}

/* A copy of a spent output's datum that lives until the block is done
 * (the view's contract): NULL on NOMEM. */
static uint8_t *keep_datum(apply_ctx *c, const void *p, size_t len)
{
    uint8_t **d = realloc(c->datums, (c->n_datums + 1) * sizeof *d);

    if (d == NULL)
        return NULL;
    c->datums = d;
    if ((d[c->n_datums] = malloc(len)) == NULL)
        return NULL;
    memcpy(d[c->n_datums], p, len);
    return d[c->n_datums++];
}

/* The view: the unspent output at op, from the store's cache of recent
 * rows (coins.c) or the utxos table. */
static int view_get(void *arg, size_t k, const utxo_outpoint *op, cn_spent *e)
{
    apply_ctx *c = arg;
    utxo_store *s = c->s;
    uint8_t key[STORE_OUTPOINT_KEY_BYTES];
    const store_coin *hit;
    sqlite3_stmt *q;
    int sc, rc = UTXO_OK;

    (void)k;
    store_outpoint_key(key, op);
    if ((hit = store_coins_get(&s->coins, key)) != NULL) {
        const uint8_t *datum = store_coin_read(hit, e);
        if (e->output.datum_len > 0 &&
            (e->output.datum = keep_datum(c, datum, e->output.datum_len)) == NULL)
            return UTXO_ERR_NOMEM;
        s->coins.hits++;
        return UTXO_OK;
    }
    q = store_stmt(s, ST_UTXO_GET);
    sqlite3_bind_blob(q, 1, key, STORE_OUTPOINT_KEY_BYTES, SQLITE_STATIC);
    sc = sqlite3_step(q);
    if (sc == SQLITE_DONE) {
        rc = UTXO_ERR_TX_MISSING;
    } else if (sc != SQLITE_ROW) {
        rc = store_sql_fail(s, "read utxo");
    } else {
        size_t dl = (size_t)sqlite3_column_bytes(q, 2);
        e->output.value = (uint64_t)sqlite3_column_int64(q, 0);
        e->output.datum = NULL;
        if (sqlite3_column_bytes(q, 1) != UTXO_HASH_BYTES) {
            rc = store_fail(s, UTXO_ERR_STORE_CORRUPT, "utxo row with a malformed predicate id");
        } else {
            memcpy(e->output.predicate_id, sqlite3_column_blob(q, 1), UTXO_HASH_BYTES);
            e->height = (uint32_t)sqlite3_column_int64(q, 3);
            e->position = (uint64_t)sqlite3_column_int64(q, 4);
            e->output.datum_len = (uint32_t)dl;
            if (dl > 0 && (e->output.datum = keep_datum(c, sqlite3_column_blob(q, 2), dl)) == NULL)
                rc = UTXO_ERR_NOMEM;
        }
    }
    sqlite3_reset(q);
    return rc;
}

/* Referenced outputs: read from the utxos table as spends are. */
static int view_refs(void *arg, const utxo_outpoint *ops, size_t n, cn_spent *out, size_t *bad)
{
    return cn_refs_by_get(view_get, arg, ops, n, out, bad);
}

static const cn_view_methods store_view = {view_begin, view_get, view_refs};

int store_utxo_insert(utxo_store *s, const uint8_t key[STORE_OUTPOINT_KEY_BYTES],
                      const utxo_output *o, uint32_t height, uint64_t position,
                      const char *what)
{
    sqlite3_stmt *q = store_stmt(s, ST_UTXO_INS);

    sqlite3_bind_blob(q, 1, key, STORE_OUTPOINT_KEY_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)o->value);
    sqlite3_bind_blob(q, 3, o->predicate_id, UTXO_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(q, 4, o->datum_len ? (const void *)o->datum : "", (int)o->datum_len,
                      SQLITE_STATIC);
    sqlite3_bind_int64(q, 5, height);
    sqlite3_bind_int64(q, 6, (sqlite3_int64)position);
    return store_exec_stmt(s, ST_UTXO_INS, what);
}

/* A new unspent output. With the pipeline its row waits in the coins cache
 * until the group ends (store_coins_settle), and is never written if a
 * block of the same group spends it. */
static int insert_utxo(utxo_store *s, const utxo_outpoint *op, const utxo_output *o,
                       uint32_t height, uint64_t position)
{
    uint8_t key[STORE_OUTPOINT_KEY_BYTES];
    int rc;

    store_outpoint_key(key, op);
    if (s->pipeline) {
        if (store_coins_put(&s->coins, key, o, height, position, true))
            return UTXO_OK;
        if (s->coins.n_pending > 0) { /* full of pending rows: write them, then again */
            if ((rc = store_coins_settle(s)) != UTXO_OK)
                return rc;
            if (store_coins_put(&s->coins, key, o, height, position, true))
                return UTXO_OK;
        }
    }
    if ((rc = store_utxo_insert(s, key, o, height, position, "insert utxo")) == UTXO_OK)
        store_coins_put(&s->coins, key, o, height, position, false);
    return rc;
}

static int delete_utxo(utxo_store *s, const utxo_outpoint *op)
{
    uint8_t key[STORE_OUTPOINT_KEY_BYTES];
    sqlite3_stmt *q;
    int rc;

    store_outpoint_key(key, op);
    if (store_coins_del(&s->coins, key)) /* pending: the table never held it */
        return UTXO_OK;
    q = store_stmt(s, ST_UTXO_DEL);
    sqlite3_bind_blob(q, 1, key, STORE_OUTPOINT_KEY_BYTES, SQLITE_STATIC);
    rc = store_exec_stmt(s, ST_UTXO_DEL, "delete utxo");
    if (rc == UTXO_OK && sqlite3_changes(s->db) != 1)
        rc = store_fail(s, UTXO_ERR_STORE_CORRUPT, "spent utxo row vanished");
    return rc;
}

static int put_height_blob(utxo_store *s, enum store_stmt st, uint32_t h, const uint8_t *p,
                           size_t len, const char *what)
{
    sqlite3_stmt *q = store_stmt(s, st);

    sqlite3_bind_int64(q, 1, h);
    sqlite3_bind_blob(q, 2, len ? (const void *)p : "", (int)len, SQLITE_STATIC);
    return store_exec_stmt(s, st, what);
}

/* The persist hook (on the core's helper thread, which alone uses the
 * SQLite connection meanwhile): rows, undo, bundle, block, metadata. */
static int write_block(void *arg, const cn_effects *fx)
{
    apply_ctx *c = arg;
    utxo_store *s = c->s;
    const utxo_block *b = c->b;
    uint32_t h = b->header.height;
    utxo_bundle *bundle = NULL;
    uint8_t *undo = NULL, *bbytes = NULL, *block = NULL;
    size_t undo_len = 0, bundle_len, block_len, w = 0;
    sqlite3_stmt *q;
    int rc;

    if ((rc = cn_bundle_make(&bundle, fx, &c->fa)) != UTXO_OK)
        goto done;
    bundle_len = utxo_bundle_get_length(bundle);
    rc = UTXO_ERR_NOMEM;
    if ((bbytes = malloc(bundle_len)) == NULL)
        goto done;
    if ((rc = utxo_bundle_to_bytes(bundle, bbytes, bundle_len, &w)) != UTXO_OK ||
        (rc = block_to_new(b, fx->tx_len, s->block_hint + s->block_hint / 4, &block,
                           &block_len)) != UTXO_OK)
        goto done;
    s->block_hint = block_len;
    /* spent outputs leave the set (the undo record keeps them); new ones enter */
    for (size_t k = 0; k < fx->n_spent; k++)
        if ((rc = delete_utxo(s, &fx->spent[k].outpoint)) != UTXO_OK)
            goto done;
    for (size_t j = 0; j < fx->n_created; j++) {
        rc = insert_utxo(s, &fx->created[j].outpoint, fx->created[j].output, h,
                         fx->count_before + j);
        if (rc != UTXO_OK)
            goto done;
    }
    if ((rc = cn_undo_encode(fx->spent, fx->n_spent, &undo, &undo_len)) != UTXO_OK ||
        (rc = put_height_blob(s, ST_UNDO_INS, h, undo, undo_len, "write undo")) != UTXO_OK ||
        (rc = put_height_blob(s, ST_BUNDLE_INS, h, bbytes, bundle_len, "write bundle")) !=
            UTXO_OK)
        goto done;
    q = store_stmt(s, ST_BLOCK_INS);
    sqlite3_bind_int64(q, 1, h);
    sqlite3_bind_blob(q, 2, fx->block_hash, UTXO_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(q, 3, block, UTXO_HEADER_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(q, 4, block + UTXO_HEADER_BYTES, (int)(block_len - UTXO_HEADER_BYTES),
                      SQLITE_STATIC);
    sqlite3_bind_int64(q, 5, (sqlite3_int64)fx->count_before);
    sqlite3_bind_int64(q, 6, b->n_txs);
    if ((rc = store_exec_stmt(s, ST_BLOCK_INS, "write block")) != UTXO_OK)
        goto done;
    for (uint32_t i = 0; i < b->n_txs; i++) { /* the txids the core hashed */
        q = store_stmt(s, ST_TX_INS);
        sqlite3_bind_blob(q, 1, fx->txids[i], UTXO_HASH_BYTES, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, h);
        sqlite3_bind_int64(q, 3, i);
        if ((rc = store_exec_stmt(s, ST_TX_INS, "index a transaction")) != UTXO_OK)
            goto done;
    }
    /* what the group held back (the forest's dirty nodes, the new outputs
     * still unspent): with the pipeline, once per group, by the
     * block that fills it (here, while its predicates run) so that the
     * next block's store thread has only the COMMIT to do; or by
     * store_flush, for a group ended early */
    if ((!s->pipeline || group_full(s, s->pending + 1)) &&
        (rc = store_write_held(s)) != UTXO_OK)
        goto done;
    s->meta.n_blocks = h + 1;
    memcpy(s->meta.tip_hash, fx->block_hash, UTXO_HASH_BYTES);
    s->meta.tip_time = b->header.time;
    s->meta.acc = fx->acc;
    memcpy(s->meta.acc_digest, fx->digest, UTXO_HASH_BYTES);
    s->meta.n_utxos = s->meta.n_utxos + fx->n_created - fx->n_spent;
    s->meta.total_value = s->meta.total_value + fx->created_value - fx->spent_value;
    s->meta.n_txs += b->n_txs;
    rc = store_meta_save(s);
done:
    utxo_bundle_free(bundle);
    free(undo);
    free(bbytes);
    if (rc == UTXO_OK && s->pipeline) { /* for the group, once the block is valid */
        c->bytes = block;
        c->len = block_len;
    } else {
        free(block);
    }
    return rc;
}

/* The verdict in words, as the store has always said it. */
static void explain(utxo_store *s, const utxo_block *b, const cn_effects *fx, const utxo_verdict *vd)
{
    uint32_t h = b->header.height;
    int rc = vd->err;

    if (s->msg[0] != '\0')
        return; /* the view or the persist hook said it already */
    switch (fx->stage) {
    case CN_STAGE_HEADER:
        if (rc == UTXO_ERR_BLOCK_HEIGHT)
            store_fail(s, rc, "block height %u, the store expects %u", h, s->meta.n_blocks);
        else if (rc == UTXO_ERR_BLOCK_PREV)
            store_fail(s, rc, "block %u's previous hash is not the store's tip", h);
        else if (rc == UTXO_ERR_BLOCK_TIME)
            store_fail(s, rc, "block %u's time goes backwards", h);
        else if (rc == UTXO_ERR_BLOCK_SIG)
            store_fail(s, rc, "block %u: sequencer signature does not verify", h);
        break;
    case CN_STAGE_RULES:
        store_fail(s, rc, "block %u tx %u index %u: %s", h, vd->tx, vd->input, utxo_strerror(rc));
        break;
    case CN_STAGE_VIEW:
        if (rc == UTXO_ERR_TX_MISSING)
            store_fail(s, rc, "block %u tx %u input %u spends an output that is not unspent", h,
                       vd->tx, vd->input);
        break;
    case CN_STAGE_ACC:
        if (rc == UTXO_ERR_ACC_FULL)
            store_fail(s, rc, "the store's accumulator is full (2^56 leaves)");
        else if (s->nodes.err == UTXO_OK)
            store_fail(s, rc, "block %u tx %u input %u: accumulator: %s (the utxos table and the "
                       "forest disagree)", h, vd->tx, vd->input, utxo_strerror(rc));
        break;
    case CN_STAGE_PREDICATES:
        if (rc == UTXO_ERR_TX_REJECTED && vd->vm.status == UTXO_VM_REJECTED)
            store_fail(s, rc, "block %u tx %u input %u: the predicate rejected (exit code %u "
                       "after %llu cycles)", h, vd->tx, vd->input, vd->vm.exit_code,
                       (unsigned long long)vd->vm.cycles);
        else if (rc == UTXO_ERR_TX_REJECTED && vd->run_err != UTXO_OK)
            store_fail(s, rc, "block %u tx %u input %u: the predicate image does not decode: %s",
                       h, vd->tx, vd->input, utxo_strerror(vd->run_err));
        else if (rc == UTXO_ERR_TX_REJECTED)
            store_fail(s, rc, "block %u tx %u input %u: the predicate failed: %s (pc 0x%08x, "
                       "%llu cycles)", h, vd->tx, vd->input, utxo_vm_fail_str(vd->vm.fail),
                       vd->vm.pc, (unsigned long long)vd->vm.cycles);
        else
            store_fail(s, rc, "block %u tx %u index %u: %s", h, vd->tx, vd->input,
                       utxo_strerror(rc));
        break;
    case CN_STAGE_DIGEST:
        store_fail(s, rc, "block %u's accumulator digest is not the one its transactions give", h);
        break;
    default:
        break;
    }
}

static int apply_block(utxo_store *s, const utxo_block *b, unsigned flags, utxo_verdict *out);

/*
 * A block that joined the pipeline's open group failed after it began
 * writing into it. The whole transaction is rolled back (the store is at
 * its last commit) and the group's blocks, valid and kept as bytes, are
 * applied again into a new group, without their predicates (they ran):
 * the store is then where it was before the failed block, the group open,
 * and the failed block's message kept. A failure now loses the group (the
 * store stays at its last commit), and says so.
 */
static int group_redo(utxo_store *s)
{
    uint32_t n = s->pending, first = s->group_first, failed = first + n;
    uint8_t *bytes[STORE_GROUP_BLOCKS];
    size_t len[STORE_GROUP_BLOCKS];
    char msg[sizeof s->msg];
    int rc = UTXO_OK;

    memcpy(msg, s->msg, sizeof msg);
    memcpy(bytes, s->group_bytes, n * sizeof *bytes);
    memcpy(len, s->group_len, n * sizeof *len);
    s->pending = 0;
    store_abort(s);
    s->redoing = true;
    for (uint32_t k = 0; k < n; k++) {
        utxo_block *b = NULL;
        size_t eo;
        if (rc == UTXO_OK && (rc = utxo_block_from_bytes(&b, bytes[k], len[k], &s->params, &eo)) ==
                                 UTXO_OK)
            rc = apply_block(s, b, CN_NO_PREDICATES, NULL);
        utxo_block_free(b);
        free(bytes[k]);
    }
    s->redoing = false;
    if (rc != UTXO_OK) {
        char why[sizeof s->msg + 64];
        snprintf(why, sizeof why, "applying again after block %u failed: %s", failed, s->msg);
        return store_group_lost(s, rc, first, n, why);
    }
    memcpy(s->msg, msg, sizeof msg);
    return UTXO_OK;
}

int utxo_store_apply_block(utxo_store *s, const utxo_block *b, utxo_verdict *out)
{
    return apply_block(s, b, 0, out);
}

/* flags: CN_NO_PREDICATES for group_redo only. */
static int apply_block(utxo_store *s, const utxo_block *b, unsigned flags, utxo_verdict *out)
{
    utxo_verdict vd;
    cn_effects fx;
    apply_ctx c;
    cn_args a;
    uint64_t t0, t1;
    int rc;

    memset(&vd, 0, sizeof vd);
    memset(&fx, 0, sizeof fx);
    memset(&c, 0, sizeof c);
    acc_proof_init(&c.fa.proof);
    acc_proof_init(&c.fa.ref_proof);
    if (!store_enter(s) || b == NULL) {
        rc = UTXO_ERR_ARG;
        goto out;
    }
    t0 = store_now_ns();
    if (s->flags & UTXO_STORE_READONLY) {
        rc = store_fail(s, UTXO_ERR_STORE_READONLY, "store is open read-only");
        goto out;
    }
    if ((rc = store_refresh(s)) != UTXO_OK)   /* another writer moved the tip? */
        goto out;
    if (s->meta.n_blocks == UINT32_MAX) {
        rc = store_fail(s, UTXO_ERR_BLOCK_HEIGHT, "the store holds the last height");
        goto out;
    }
    if (s->verifier == NULL && (s->verifier = utxo_verifier_new(&s->params, s->threads)) == NULL) {
        rc = UTXO_ERR_NOMEM;
        goto out;
    }
    if (s->coins.slot == NULL)
        store_coins_init(&s->coins); /* without it (NOMEM), every read is SQLite's */
    c.s = s;
    c.b = b;
    c.fa.f = s->forest;
    c.fa.persist = write_block;
    c.fa.begin = pipe_begin;
    c.fa.persist_ctx = &c;
    memset(&a, 0, sizeof a);
    a.params = &s->params;
    a.verifier = s->verifier;
    a.flags = flags;
    a.next_height = s->meta.n_blocks;
    a.tip_hash = s->meta.tip_hash;
    a.min_time = s->meta.n_blocks ? s->meta.tip_time : s->params.genesis_time;
    a.max_leaves = STORE_MAX_LEAVES;
    a.view = &store_view;
    a.view_ctx = &c;
    a.acc = &cn_forest_acc_methods;
    a.acc_ctx = &c.fa;
    rc = cn_connect(&a, b, &fx, &vd);
    if (rc != UTXO_OK) {
        explain(s, b, &fx, &vd);
        goto out;
    }
    t1 = store_now_ns();
    if (s->pipeline) {
        /* committed with its group by a later block's store thread, or a
         * flush; kept as bytes until then (group_redo) */
        if (s->pending == 0) {
            s->group_first = b->header.height;
            s->group_t0 = t1;
        }
        s->group_bytes[s->pending] = c.bytes;
        s->group_len[s->pending++] = c.len;
        c.bytes = NULL;
    } else {
        if ((rc = store_commit(s)) != UTXO_OK)
            goto out;
        s->ns_commit += store_now_ns() - t1;
    }
    c.in_txn = c.joined = false;
    s->ns_pre += fx.ns_pre;
    s->ns_validate += fx.ns_predicates;
    s->ns_prove += fx.ns_acc;
    s->ns_write += fx.ns_persist;
    s->ns_total += store_now_ns() - t0;
out:
    if (rc != UTXO_OK && s != NULL) {
        int frc = UTXO_OK;
        if (c.in_txn || (c.joined && s->redoing))
            store_abort(s); /* the blocks before are committed, or group_redo says */
        else if (c.joined)
            frc = group_redo(s); /* it wrote into the open group */
        /* the valid blocks before it are committed now (if that fails, that
         * is the answer: they were lost) */
        if (frc == UTXO_OK && s->pending > 0 && !s->redoing)
            frc = store_flush(s);
        if (frc != UTXO_OK)
            rc = frc;
    }
    if (rc != UTXO_OK && s != NULL && s->msg[0] == '\0')
        store_fail(s, rc, "%s", utxo_strerror(rc));
    vd.err = rc;
    if (rc != UTXO_OK) {
        vd.fees = 0;
        vd.cycles = 0;
    } else {
        vd.tx = vd.input = 0;
    }
    if (out != NULL)
        *out = vd;
    cn_effects_clear(&fx);
    acc_proof_clear(&c.fa.proof);
    acc_proof_clear(&c.fa.ref_proof);
    for (size_t k = 0; k < c.n_datums; k++)
        free(c.datums[k]);
    free(c.datums);
    free(c.bytes);
    return rc;
}
