/*
 * rollback.c — undoing blocks for a reorg. Each block above the target
 * height is taken back with its undo record, newest first: the outputs it
 * created leave the utxos table, the outputs it spent come back with their
 * height and leaf position, the forest drops the leaves appended after the
 * block's starting leaf count and gets the spent leaves back (their hashes
 * recomputed from the undo record, which holds every field a leaf hash
 * binds), and the block, undo and bundle rows go. What a block's undo means
 * is the core's (cn_disconnect, src/connect/undo.c); this adapter writes it. All blocks in one SQL
 * transaction; the result is checked against the new tip header's digest
 * before it commits.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "sqlstore/store_int.h"

static int get_blob(utxo_store *s, enum store_stmt st, uint32_t h, uint8_t **out, size_t *len)
{
    sqlite3_stmt *q = store_stmt(s, st);
    int sc, rc = UTXO_OK;

    *out = NULL;
    *len = 0;
    sqlite3_bind_int64(q, 1, h);
    sc = sqlite3_step(q);
    if (sc == SQLITE_DONE) {
        rc = store_fail(s, UTXO_ERR_STORE_HEIGHT, "no record at height %u", h);
    } else if (sc != SQLITE_ROW) {
        rc = store_sql_fail(s, "read record");
    } else {
        size_t n = (size_t)sqlite3_column_bytes(q, 0);
        *out = malloc(n ? n : 1);
        if (*out == NULL)
            rc = UTXO_ERR_NOMEM;
        else {
            if (n)
                memcpy(*out, sqlite3_column_blob(q, 0), n);
            *len = n;
        }
    }
    sqlite3_reset(q);
    return rc;
}

static int del_height(utxo_store *s, enum store_stmt st, uint32_t h, const char *what)
{
    sqlite3_stmt *q = store_stmt(s, st);

    sqlite3_bind_int64(q, 1, h);
    return store_exec_stmt(s, st, what);
}

/* Takes back block h (the tip) with its undo record: what to undo comes
 * from the core (cn_disconnect), this adapter only writes it. */
static int undo_block(utxo_store *s, uint32_t h)
{
    utxo_block *b = NULL;
    uint8_t *undo = NULL;
    size_t undo_len = 0, n = 0;
    store_spent *v = NULL;
    uint64_t count_before = 0;
    cn_effects fx;
    int rc;

    memset(&fx, 0, sizeof fx);
    if ((rc = store_block_load(s, h, &b, NULL, NULL, &count_before)) != UTXO_OK ||
        (rc = get_blob(s, ST_UNDO_GET, h, &undo, &undo_len)) != UTXO_OK)
        goto done;
    if ((rc = cn_undo_decode(undo, undo_len, &v, &n)) != UTXO_OK) {
        rc = store_fail(s, UTXO_ERR_STORE_CORRUPT, "undo record of block %u does not decode", h);
        goto done;
    }
    /* checked against the block and its proof bundle before it is used */
    if ((rc = store_undo_verify(s, b, v, n)) != UTXO_OK)
        goto done;
    rc = cn_disconnect(b, v, n, count_before, &fx);
    if (rc == UTXO_ERR_STORE_CORRUPT ||
        (rc == UTXO_OK && count_before + fx.n_created != s->meta.acc.count)) {
        rc = store_fail(s, UTXO_ERR_STORE_CORRUPT, "block %u does not match its undo record", h);
        goto done;
    }
    if (rc != UTXO_OK)
        goto done;
    /* the block's new outputs leave the set */
    for (size_t j = 0; j < fx.n_created; j++) {
        uint8_t key[STORE_OUTPOINT_KEY_BYTES];
        sqlite3_stmt *q = store_stmt(s, ST_UTXO_DEL);
        store_outpoint_key(key, &fx.created[j].outpoint);
        sqlite3_bind_blob(q, 1, key, sizeof key, SQLITE_STATIC);
        if ((rc = store_exec_stmt(s, ST_UTXO_DEL, "delete utxo")) != UTXO_OK)
            goto done;
        if (sqlite3_changes(s->db) != 1) {
            rc = store_fail(s, UTXO_ERR_STORE_CORRUPT, "block %u's output is missing from utxos", h);
            goto done;
        }
    }
    /* the outputs it spent come back */
    for (size_t i = 0; i < n; i++) {
        uint8_t key[STORE_OUTPOINT_KEY_BYTES];
        store_outpoint_key(key, &v[i].outpoint);
        if ((rc = store_utxo_insert(s, key, &v[i].output, v[i].height, v[i].position,
                                    "restore utxo")) != UTXO_OK)
            goto done;
    }
    /* the forest, with the spent leaves the core hashed from the record */
    rc = cn_acc_forest_undo(s->forest, &fx);
    if (rc != UTXO_OK) {
        if (s->nodes.err == UTXO_OK)
            store_fail(s, rc, "block %u: forest undo: %s", h, utxo_strerror(rc));
        goto done;
    }
    if ((rc = del_height(s, ST_BLOCK_DEL, h, "delete block")) != UTXO_OK ||
        (rc = del_height(s, ST_UNDO_DEL, h, "delete undo")) != UTXO_OK ||
        (rc = del_height(s, ST_BUNDLE_DEL, h, "delete bundle")) != UTXO_OK)
        goto done;
    for (uint32_t i = 0; i < b->n_txs; i++) { /* by key: the index has no height order */
        uint8_t txid[UTXO_HASH_BYTES];
        sqlite3_stmt *q = store_stmt(s, ST_TX_DEL);
        utxo_tx_txid(b->txs[i], txid);
        sqlite3_bind_blob(q, 1, txid, sizeof txid, SQLITE_TRANSIENT);
        if ((rc = store_exec_stmt(s, ST_TX_DEL, "delete a transaction's index row")) != UTXO_OK)
            goto done;
    }
    s->meta.n_utxos = s->meta.n_utxos - fx.n_created + n;
    s->meta.total_value = s->meta.total_value - fx.created_value + fx.spent_value;
    s->meta.n_txs -= b->n_txs;
    s->meta.acc.count = count_before;
    s->meta.n_blocks = h;
done:
    cn_effects_clear(&fx);
    utxo_block_free(b);
    free(undo);
    free(v);
    return rc;
}

int utxo_store_rollback(utxo_store *s, uint32_t height)
{
    utxo_block *tip = NULL;
    int rc;

    if (!store_enter(s))
        return UTXO_ERR_ARG;
    if ((rc = store_flush(s)) != UTXO_OK) /* the pipeline's open block first */
        return rc;
    if (!(s->flags & UTXO_STORE_READONLY) && (rc = store_refresh(s)) != UTXO_OK)
        return rc;
    if (height >= s->meta.n_blocks)
        return store_fail(s, UTXO_ERR_STORE_HEIGHT, "cannot roll back to height %u: the tip is %s%u",
                          height, s->meta.n_blocks ? "" : "below ",
                          s->meta.n_blocks ? s->meta.n_blocks - 1 : 0);
    if ((rc = store_begin(s)) != UTXO_OK)
        return rc;
    store_serve_reset(s); /* the served-bundle walk may cover undone blocks */
    store_coins_clear(&s->coins); /* rows leave and come back below */
    while (rc == UTXO_OK && s->meta.n_blocks > height + 1)
        rc = undo_block(s, s->meta.n_blocks - 1);
    if (rc == UTXO_OK)
        rc = store_block_load(s, height, &tip, NULL, NULL, NULL);
    if (rc == UTXO_OK && (rc = acc_forest_state(s->forest, &s->meta.acc)) == UTXO_OK) {
        acc_state_digest(s->meta.acc_digest, &s->meta.acc);
        utxo_header_hash(&tip->header, s->meta.tip_hash);
        s->meta.tip_time = tip->header.time;
        if (memcmp(s->meta.acc_digest, tip->header.acc_digest, UTXO_HASH_BYTES) != 0)
            rc = store_fail(s, UTXO_ERR_STORE_CORRUPT,
                            "after the rollback the accumulator is not the one block %u commits to",
                            height);
    }
    if (rc == UTXO_OK && (rc = store_write_held(s)) == UTXO_OK &&
        (rc = store_meta_save(s)) == UTXO_OK)
        rc = store_commit(s);
    utxo_block_free(tip);
    if (rc != UTXO_OK) {
        if (s->msg[0] == '\0')
            store_fail(s, rc, "rollback: %s", utxo_strerror(rc));
        store_abort(s);
    }
    return rc;
}
