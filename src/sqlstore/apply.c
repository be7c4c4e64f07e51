/*
 * apply.c — applying one block to the store, all or nothing, and the undo
 * record it leaves for a reorg.
 *
 * Order (docs/STORE.md, "Applying a block"): header rules that need the tip
 * (height, previous hash, time, sequencer signature) and the context-free
 * block rules; then, inside one SQL transaction, the spent outputs are read
 * from the utxos table (or from the block itself, for outputs of earlier
 * transactions in it); every predicate runs on the verifier's pool while a
 * helper thread has the prover (src/prover) prove, delete and append in the
 * forest, giving the bundle and the new digest (which must be the
 * header's), and writes the rows and the new tip; both are awaited before
 * the transaction commits. Any failure rolls the transaction back
 * and reloads the in-memory mirrors, so the store is exactly as before.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "sqlstore/store_int.h"
#include "prover/blockproof.h"
#include "utxo/codec.h"

uint64_t store_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- undo record ----------------------------------------------------------- */

static void undo_encode_to(enc *e, const store_spent *v, size_t n)
{
    enc_varint(e, n);
    for (size_t i = 0; i < n; i++) {
        enc_bytes(e, v[i].outpoint.txid, UTXO_HASH_BYTES);
        enc_u32(e, v[i].outpoint.index);
        enc_varint(e, v[i].position);
        enc_varint(e, v[i].height);
        enc_u64(e, v[i].output.value);
        enc_bytes(e, v[i].output.predicate_id, UTXO_HASH_BYTES);
        enc_blob(e, v[i].output.datum, v[i].output.datum_len);
    }
}

int store_undo_encode(const store_spent *v, size_t n, uint8_t **out, size_t *len)
{
    enc e;
    uint8_t *buf;

    *out = NULL;
    *len = 0;
    enc_init(&e, NULL, 0, NULL);
    undo_encode_to(&e, v, n);
    buf = malloc(e.len);
    if (buf == NULL)
        return UTXO_ERR_NOMEM;
    enc_init(&e, buf, e.len, NULL);
    undo_encode_to(&e, v, n);
    *out = buf;
    *len = e.len;
    return UTXO_OK;
}

int store_undo_decode(const uint8_t *buf, size_t len, store_spent **out, size_t *n_out)
{
    dec d;
    store_spent *v = NULL;
    uint64_t n;
    int rc;

    *out = NULL;
    *n_out = 0;
    dec_init(&d, buf, len);
    /* an entry takes at least 32 + 4 + 1 + 1 + 8 + 32 + 1 bytes */
    n = dec_varint(&d, len / 79 + 1);
    if (d.err == UTXO_OK && n > 0 && (v = calloc((size_t)n, sizeof *v)) == NULL)
        return UTXO_ERR_NOMEM;
    for (size_t i = 0; d.err == UTXO_OK && i < n; i++) {
        dec_bytes(&d, v[i].outpoint.txid, UTXO_HASH_BYTES);
        v[i].outpoint.index = dec_u32(&d);
        v[i].position = dec_varint(&d, STORE_MAX_LEAVES - 1);
        v[i].height = (uint32_t)dec_varint(&d, UINT32_MAX);
        v[i].output.value = dec_u64(&d);
        dec_bytes(&d, v[i].output.predicate_id, UTXO_HASH_BYTES);
        v[i].output.datum_len = (uint32_t)dec_varint(&d, UINT32_MAX);
        v[i].output.datum = v[i].output.datum_len ? (uint8_t *)dec_view(&d, v[i].output.datum_len)
                                                  : NULL;
    }
    dec_end(&d);
    rc = dec_result(&d, NULL);
    if (rc != UTXO_OK) {
        free(v);
        return rc;
    }
    *out = v;
    *n_out = (size_t)n;
    return UTXO_OK;
}

/* ---- the per-block work area --------------------------------------------- */

typedef struct ext_ref {
    uint8_t key[STORE_OUTPOINT_KEY_BYTES];
    store_spent e;
} ext_ref;

typedef struct apply_ctx {
    bp_layout L;
    ext_ref *ext;          /* L.n_external, in block input order */
    ext_ref **sorted;      /* the same, by outpoint key (for the prover's lookups) */
    utxo_output **spent;   /* per tx: its inputs' spent outputs */
    uint8_t *undo;
    size_t undo_len;
    uint8_t *block;
    size_t block_len;
    uint8_t *bundle;
    size_t bundle_len;
    acc_leaf *created;
} apply_ctx;

static void ctx_clear(apply_ctx *c, uint32_t n_txs)
{
    for (size_t i = 0; c->ext != NULL && i < c->L.n_external; i++)
        free(c->ext[i].e.output.datum);
    free(c->ext);
    free(c->sorted);
    for (uint32_t t = 0; c->spent != NULL && t < n_txs; t++)
        free(c->spent[t]);
    free(c->spent);
    free(c->undo);
    free(c->block);
    free(c->bundle);
    free(c->created);
    bp_layout_clear(&c->L);
}

static int cmp_ref(const void *a, const void *b)
{
    return memcmp((*(ext_ref *const *)a)->key, (*(ext_ref *const *)b)->key,
                  STORE_OUTPOINT_KEY_BYTES);
}

static int lookup(void *arg, const utxo_outpoint *op, const utxo_output **out, uint32_t *height,
                  uint64_t *position)
{
    apply_ctx *c = arg;
    ext_ref key, *kp = &key, **hit;

    store_outpoint_key(key.key, op);
    hit = bsearch(&kp, c->sorted, c->L.n_external, sizeof *c->sorted, cmp_ref);
    if (hit == NULL)
        return UTXO_ERR_TX_MISSING;
    *out = &(*hit)->e.output;
    *height = (*hit)->e.height;
    *position = (*hit)->e.position;
    return UTXO_OK;
}

/* Reads the unspent output at key into e (datum copied). */
static int read_utxo(utxo_store *s, const uint8_t key[STORE_OUTPOINT_KEY_BYTES], store_spent *e)
{
    sqlite3_stmt *q = store_stmt(s, ST_UTXO_GET);
    int sc, rc = UTXO_OK;

    sqlite3_bind_blob(q, 1, key, STORE_OUTPOINT_KEY_BYTES, SQLITE_STATIC);
    sc = sqlite3_step(q);
    if (sc == SQLITE_DONE) {
        rc = UTXO_ERR_TX_MISSING;
    } else if (sc != SQLITE_ROW) {
        rc = store_sql_fail(s, "read utxo");
    } else {
        size_t dl = (size_t)sqlite3_column_bytes(q, 2);
        e->output.value = (uint64_t)sqlite3_column_int64(q, 0);
        if (sqlite3_column_bytes(q, 1) != UTXO_HASH_BYTES) {
            rc = store_fail(s, UTXO_ERR_STORE_CORRUPT, "utxo row with a malformed predicate id");
        } else {
            memcpy(e->output.predicate_id, sqlite3_column_blob(q, 1), UTXO_HASH_BYTES);
            e->height = (uint32_t)sqlite3_column_int64(q, 3);
            e->position = (uint64_t)sqlite3_column_int64(q, 4);
            e->output.datum_len = (uint32_t)dl;
            if (dl > 0) {
                e->output.datum = malloc(dl);
                if (e->output.datum == NULL)
                    rc = UTXO_ERR_NOMEM;
                else
                    memcpy(e->output.datum, sqlite3_column_blob(q, 2), dl);
            }
        }
    }
    sqlite3_reset(q);
    return rc;
}

static int insert_utxo(utxo_store *s, const utxo_outpoint *op, const utxo_output *o,
                       uint32_t height, uint64_t position)
{
    uint8_t key[STORE_OUTPOINT_KEY_BYTES];
    sqlite3_stmt *q = store_stmt(s, ST_UTXO_INS);

    store_outpoint_key(key, op);
    sqlite3_bind_blob(q, 1, key, sizeof key, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)o->value);
    sqlite3_bind_blob(q, 3, o->predicate_id, UTXO_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(q, 4, o->datum_len ? (const void *)o->datum : "", (int)o->datum_len,
                      SQLITE_STATIC);
    sqlite3_bind_int64(q, 5, height);
    sqlite3_bind_int64(q, 6, (sqlite3_int64)position);
    return store_exec_stmt(s, ST_UTXO_INS, "insert utxo");
}

static int delete_utxo(utxo_store *s, const uint8_t key[STORE_OUTPOINT_KEY_BYTES])
{
    sqlite3_stmt *q = store_stmt(s, ST_UTXO_DEL);
    int rc;

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

/* Header rules that need the tip; *bad stays 0. */
static int check_header(utxo_store *s, const utxo_header *h)
{
    uint64_t min_time = s->meta.n_blocks ? s->meta.tip_time : s->params.genesis_time;
    int rc;

    if (h->height != s->meta.n_blocks)
        return store_fail(s, UTXO_ERR_BLOCK_HEIGHT, "block height %u, the store expects %u",
                          h->height, s->meta.n_blocks);
    if (memcmp(h->prev_hash, s->meta.tip_hash, UTXO_HASH_BYTES) != 0)
        return store_fail(s, UTXO_ERR_BLOCK_PREV,
                          "block %u's previous hash is not the store's tip", h->height);
    if (h->time < min_time)
        return store_fail(s, UTXO_ERR_BLOCK_TIME, "block %u's time goes backwards", h->height);
    rc = utxo_header_verify(h, s->params.sequencer_pk);
    if (rc != UTXO_OK)
        return store_fail(s, rc, "block %u: sequencer signature does not verify", h->height);
    return UTXO_OK;
}

/* Resolves every input's spent output: from the table (external) or from
 * the block. On a missing output, vd names the input. */
static int resolve_spent(utxo_store *s, apply_ctx *c, const utxo_block *b, utxo_verdict *vd)
{
    size_t n_ext = c->L.n_external;
    int rc;

    if ((n_ext > 0 && ((c->ext = calloc(n_ext, sizeof *c->ext)) == NULL ||
                       (c->sorted = malloc(n_ext * sizeof *c->sorted)) == NULL)) ||
        (c->spent = calloc(b->n_txs, sizeof *c->spent)) == NULL)
        return UTXO_ERR_NOMEM;
    for (uint32_t t = 0; t < b->n_txs; t++) {
        const utxo_tx *tx = b->txs[t];
        if (tx->n_inputs == 0)
            continue;
        if ((c->spent[t] = calloc(tx->n_inputs, sizeof *c->spent[t])) == NULL)
            return UTXO_ERR_NOMEM;
        for (uint32_t i = 0; i < tx->n_inputs; i++) {
            const bp_src *src = &c->L.src[c->L.in_off[t] + i];
            ext_ref *r;
            if (src->tx != BP_EXTERNAL) {
                c->spent[t][i] = b->txs[src->tx]->outputs[src->out];
                continue;
            }
            r = &c->ext[src->out];
            r->e.outpoint = tx->inputs[i].prevout;
            store_outpoint_key(r->key, &r->e.outpoint);
            rc = read_utxo(s, r->key, &r->e);
            if (rc != UTXO_OK) {
                vd->tx = t;
                vd->input = i;
                if (rc == UTXO_ERR_TX_MISSING)
                    store_fail(s, rc, "block %u tx %u input %u spends an output that is not unspent",
                               b->header.height, t, i);
                return rc;
            }
            c->spent[t][i] = r->e.output;
            c->sorted[src->out] = r;
        }
    }
    if (n_ext > 0)
        qsort(c->sorted, n_ext, sizeof *c->sorted, cmp_ref);
    return UTXO_OK;
}

/* Everything after validation: rows, undo, bundle, block, metadata. */
static int write_block(utxo_store *s, apply_ctx *c, const utxo_block *b, utxo_bundle *bundle,
                       const uint8_t digest[UTXO_HASH_BYTES], uint64_t count_before)
{
    uint32_t h = b->header.height;
    uint8_t hash[UTXO_HASH_BYTES];
    store_spent *undo_v = NULL;
    sqlite3_stmt *q;
    uint64_t spent_value = 0, created_value = 0;
    size_t w = 0;
    int rc = UTXO_ERR_NOMEM;

    utxo_header_hash(&b->header, hash);
    bp_bundle_set_block(bundle, hash);
    c->bundle_len = utxo_bundle_get_length(bundle);
    c->block_len = utxo_block_get_length(b);
    if ((c->bundle = malloc(c->bundle_len)) == NULL || (c->block = malloc(c->block_len)) == NULL ||
        (c->L.n_external > 0 && (undo_v = malloc(c->L.n_external * sizeof *undo_v)) == NULL) ||
        (c->created = malloc((c->L.n_created ? c->L.n_created : 1) * sizeof *c->created)) == NULL)
        goto done;
    if ((rc = utxo_bundle_to_bytes(bundle, c->bundle, c->bundle_len, &w)) != UTXO_OK ||
        (rc = utxo_block_to_bytes(b, c->block, c->block_len, &w)) != UTXO_OK)
        goto done;
    /* spent outputs leave the set; the undo record keeps them */
    for (size_t i = 0; i < c->L.n_external; i++) {
        undo_v[i] = c->ext[i].e;
        spent_value += c->ext[i].e.output.value;
        if ((rc = delete_utxo(s, c->ext[i].key)) != UTXO_OK)
            goto done;
    }
    bp_layout_created(&c->L, b, c->created);
    for (size_t j = 0; j < c->L.n_created; j++) {
        created_value += c->created[j].output->value;
        rc = insert_utxo(s, &c->created[j].outpoint, c->created[j].output, h, count_before + j);
        if (rc != UTXO_OK)
            goto done;
    }
    if ((rc = store_undo_encode(undo_v, c->L.n_external, &c->undo, &c->undo_len)) != UTXO_OK ||
        (rc = put_height_blob(s, ST_UNDO_INS, h, c->undo, c->undo_len, "write undo")) != UTXO_OK ||
        (rc = put_height_blob(s, ST_BUNDLE_INS, h, c->bundle, c->bundle_len, "write bundle")) !=
            UTXO_OK)
        goto done;
    q = store_stmt(s, ST_BLOCK_INS);
    sqlite3_bind_int64(q, 1, h);
    sqlite3_bind_blob(q, 2, hash, UTXO_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(q, 3, c->block, UTXO_HEADER_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(q, 4, c->block + UTXO_HEADER_BYTES, (int)(c->block_len - UTXO_HEADER_BYTES),
                      SQLITE_STATIC);
    sqlite3_bind_int64(q, 5, (sqlite3_int64)count_before);
    sqlite3_bind_int64(q, 6, b->n_txs);
    if ((rc = store_exec_stmt(s, ST_BLOCK_INS, "write block")) != UTXO_OK ||
        (rc = store_nodes_flush(&s->nodes)) != UTXO_OK)
        goto done;
    s->meta.n_blocks = h + 1;
    memcpy(s->meta.tip_hash, hash, UTXO_HASH_BYTES);
    s->meta.tip_time = b->header.time;
    if ((rc = acc_forest_state(s->forest, &s->meta.acc)) != UTXO_OK)
        goto done;
    memcpy(s->meta.acc_digest, digest, UTXO_HASH_BYTES);
    s->meta.n_utxos = s->meta.n_utxos + c->L.n_created - c->L.n_external;
    s->meta.total_value = s->meta.total_value + created_value - spent_value;
    s->meta.n_txs += b->n_txs;
    rc = store_meta_save(s);
done:
    free(undo_v);
    return rc;
}

/* The store half of a block (forest, proof, rows), run on a helper thread
 * while the calling thread runs the predicates. Only this half touches the
 * SQLite connection until it is joined. */
typedef struct store_job {
    utxo_store *s;
    apply_ctx *c;
    const utxo_block *b;
    uint64_t count_before;
    utxo_bundle *bundle;
    uint8_t digest[UTXO_HASH_BYTES];
    uint32_t bt, bi;
    int prc, wrc;
    uint64_t ns_prove, ns_write;
} store_job;

static void *store_main(void *arg)
{
    store_job *j = arg;
    uint64_t t0 = store_now_ns(), t1;

    j->wrc = UTXO_ERR_INTERNAL;
    j->prc = bp_prove_block(&j->bundle, j->digest, j->s->forest, lookup, j->c, j->b, &j->bt,
                            &j->bi);
    t1 = store_now_ns();
    if (j->prc == UTXO_OK && memcmp(j->digest, j->b->header.acc_digest, UTXO_HASH_BYTES) == 0)
        j->wrc = write_block(j->s, j->c, j->b, j->bundle, j->digest, j->count_before);
    j->ns_prove = t1 - t0;
    j->ns_write = store_now_ns() - t1;
    return NULL;
}

int utxo_store_apply_block(utxo_store *s, const utxo_block *b, utxo_verdict *out)
{
    utxo_verdict vd;
    apply_ctx c;
    utxo_bundle *bundle = NULL;
    uint8_t digest[UTXO_HASH_BYTES];
    uint64_t count_before;
    uint32_t bt = 0, bi = 0;
    uint64_t t0, t1, t4;
    store_job job;
    pthread_t tid;
    bool in_txn = false, threaded;
    int prc, wrc;
    int rc;

    memset(&vd, 0, sizeof vd);
    memset(&c, 0, sizeof c);
    if (s == NULL || b == NULL) {
        rc = UTXO_ERR_ARG;
        goto out;
    }
    s->msg[0] = '\0';
    count_before = s->meta.acc.count;
    t0 = store_now_ns();
    if (s->flags & UTXO_STORE_READONLY) {
        rc = store_fail(s, UTXO_ERR_STORE_READONLY, "store is open read-only");
        goto out;
    }
    if ((rc = store_refresh(s)) != UTXO_OK)   /* another writer moved the tip? */
        goto out;
    count_before = s->meta.acc.count;
    if (s->meta.n_blocks == UINT32_MAX) {
        rc = store_fail(s, UTXO_ERR_BLOCK_HEIGHT, "the store holds the last height");
        goto out;
    }
    if ((rc = check_header(s, &b->header)) != UTXO_OK)
        goto out;
    rc = utxo_block_check(b, &s->params, &bt, &bi);
    if (rc != UTXO_OK) {
        vd.tx = bt;
        vd.input = bi;
        store_fail(s, rc, "block %u tx %u index %u: %s", b->header.height, bt, bi,
                   utxo_strerror(rc));
        goto out;
    }
    rc = bp_layout_build(&c.L, b, &bt, &bi);
    if (rc != UTXO_OK) {
        vd.tx = bt;
        vd.input = bi;
        store_fail(s, rc, "block %u tx %u input %u: %s", b->header.height, bt, bi,
                   utxo_strerror(rc));
        goto out;
    }
    if (c.L.n_created >= STORE_MAX_LEAVES - count_before) {
        rc = store_fail(s, UTXO_ERR_ACC_FULL, "the store's accumulator is full (2^56 leaves)");
        goto out;
    }
    if (s->verifier == NULL && (s->verifier = utxo_verifier_new(&s->params, s->threads)) == NULL) {
        rc = UTXO_ERR_NOMEM;
        goto out;
    }
    if ((rc = store_begin(s)) != UTXO_OK)
        goto out;
    in_txn = true;
    if ((rc = resolve_spent(s, &c, b, &vd)) != UTXO_OK)
        goto out;
    /* The forest, the proof and the rows are done on a helper thread while
     * this thread runs the predicates on the verifier's pool (neither half
     * depends on the other); the verdict is awaited before COMMIT, and a
     * failure rolls it all back. */
    memset(&job, 0, sizeof job);
    job.s = s;
    job.c = &c;
    job.b = b;
    job.count_before = count_before;
    t1 = store_now_ns();
    s->ns_pre += t1 - t0;
    threaded = pthread_create(&tid, NULL, store_main, &job) == 0;
    if (!threaded)
        store_main(&job);
    /* utxo_block_check ran above: the verifier does not repeat it */
    rc = utxo_verifier_block_known(s->verifier, b, (const utxo_output *const *)c.spent, NULL,
                                   &vd);
    s->ns_validate += store_now_ns() - t1;
    if (threaded)
        pthread_join(tid, NULL);
    bundle = job.bundle;
    prc = job.prc;
    wrc = job.wrc;
    bt = job.bt;
    bi = job.bi;
    memcpy(digest, job.digest, UTXO_HASH_BYTES);
    /* the verdict, in a fixed order: predicates and rules, then the
     * accumulator, then storage */
    if (rc != UTXO_OK) {
        if (rc == UTXO_ERR_TX_REJECTED && vd.vm.status == UTXO_VM_REJECTED)
            store_fail(s, rc, "block %u tx %u input %u: the predicate rejected (exit code %u "
                       "after %llu cycles)", b->header.height, vd.tx, vd.input, vd.vm.exit_code,
                       (unsigned long long)vd.vm.cycles);
        else if (rc == UTXO_ERR_TX_REJECTED)
            store_fail(s, rc, "block %u tx %u input %u: the predicate failed: %s (pc 0x%08x, "
                       "%llu cycles)", b->header.height, vd.tx, vd.input,
                       utxo_vm_fail_str(vd.vm.fail), vd.vm.pc, (unsigned long long)vd.vm.cycles);
        else
            store_fail(s, rc, "block %u tx %u index %u: %s", b->header.height, vd.tx, vd.input,
                       utxo_strerror(rc));
        goto out;
    }
    if ((rc = prc) != UTXO_OK) {
        vd.tx = bt;
        vd.input = bi;
        if (s->nodes.err == UTXO_OK)
            store_fail(s, rc, "block %u tx %u input %u: accumulator: %s (the utxos table and the "
                       "forest disagree)", b->header.height, bt, bi, utxo_strerror(rc));
        goto out;
    }
    if (memcmp(digest, b->header.acc_digest, UTXO_HASH_BYTES) != 0) {
        rc = store_fail(s, UTXO_ERR_BLOCK_DIGEST,
                        "block %u's accumulator digest is not the one its transactions give",
                        b->header.height);
        goto out;
    }
    t4 = store_now_ns();
    if ((rc = wrc) != UTXO_OK || (rc = store_commit(s)) != UTXO_OK)
        goto out;
    s->ns_commit += store_now_ns() - t4;
    s->ns_prove += job.ns_prove;
    s->ns_write += job.ns_write;
    s->ns_total += store_now_ns() - t0;
    in_txn = false;
out:
    if (in_txn && rc != UTXO_OK)
        store_abort(s);
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
    utxo_bundle_free(bundle);
    ctx_clear(&c, b ? b->n_txs : 0);
    return rc;
}
