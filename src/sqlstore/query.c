/*
 * query.c — reading the store: unspent outputs by outpoint and by predicate
 * id (the index wallets use), blocks, proof bundles and the accumulator
 * state. Queries never write; they work on a read-only store too.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "sqlstore/store_int.h"

int utxo_store_get_block(utxo_store *s, uint32_t height, utxo_block **out, uint8_t **bytes,
                         size_t *len)
{
    if (out)
        *out = NULL;
    if (bytes)
        *bytes = NULL;
    if (len)
        *len = 0;
    if (!store_enter(s) || (bytes != NULL && len == NULL))
        return UTXO_ERR_ARG;
    return store_block_load(s, height, out, bytes, len, NULL);
}

/* Fills u from a row (outpoint, value, predicate, datum, height, position);
 * the datum points into the statement's memory. */
static int row_utxo(utxo_store *s, sqlite3_stmt *q, utxo_store_utxo *u)
{
    if (sqlite3_column_bytes(q, 0) != STORE_OUTPOINT_KEY_BYTES ||
        sqlite3_column_bytes(q, 2) != UTXO_HASH_BYTES)
        return store_fail(s, UTXO_ERR_STORE_CORRUPT, "malformed utxo row");
    store_outpoint_from_key(&u->outpoint, sqlite3_column_blob(q, 0));
    u->output.value = (uint64_t)sqlite3_column_int64(q, 1);
    memcpy(u->output.predicate_id, sqlite3_column_blob(q, 2), UTXO_HASH_BYTES);
    u->output.datum_len = (uint32_t)sqlite3_column_bytes(q, 3);
    u->output.datum = u->output.datum_len ? (uint8_t *)sqlite3_column_blob(q, 3) : NULL;
    u->height = (uint32_t)sqlite3_column_int64(q, 4);
    u->position = (uint64_t)sqlite3_column_int64(q, 5);
    return UTXO_OK;
}

int utxo_store_get_utxo(utxo_store *s, const utxo_outpoint *op, utxo_store_utxo *out)
{
    uint8_t key[STORE_OUTPOINT_KEY_BYTES];
    sqlite3_stmt *q;
    int sc, rc = UTXO_OK;

    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (!store_enter(s) || op == NULL || out == NULL)
        return UTXO_ERR_ARG;
    if ((rc = store_coins_settle_for_read(s)) != UTXO_OK)
        return rc;
    store_outpoint_key(key, op);
    q = store_stmt(s, ST_UTXO_GET);
    sqlite3_bind_blob(q, 1, key, sizeof key, SQLITE_STATIC);
    sc = sqlite3_step(q);
    if (sc == SQLITE_DONE) {
        rc = store_fail(s, UTXO_ERR_STORE_NOT_FOUND, "no unspent output at that outpoint");
    } else if (sc != SQLITE_ROW) {
        rc = store_sql_fail(s, "read utxo");
    } else if (sqlite3_column_bytes(q, 1) != UTXO_HASH_BYTES) {
        rc = store_fail(s, UTXO_ERR_STORE_CORRUPT, "malformed utxo row");
    } else {
        size_t dl = (size_t)sqlite3_column_bytes(q, 2);
        out->outpoint = *op;
        out->output.value = (uint64_t)sqlite3_column_int64(q, 0);
        memcpy(out->output.predicate_id, sqlite3_column_blob(q, 1), UTXO_HASH_BYTES);
        out->height = (uint32_t)sqlite3_column_int64(q, 3);
        out->position = (uint64_t)sqlite3_column_int64(q, 4);
        if (dl > 0) {
            if ((out->output.datum = malloc(dl)) == NULL)
                rc = UTXO_ERR_NOMEM;
            else {
                memcpy(out->output.datum, sqlite3_column_blob(q, 2), dl);
                out->output.datum_len = (uint32_t)dl;
            }
        }
    }
    sqlite3_reset(q);
    if (rc != UTXO_OK)
        memset(out, 0, sizeof *out);
    return rc;
}

int utxo_store_find_tx(utxo_store *s, const uint8_t txid[UTXO_HASH_BYTES], uint32_t *height,
                       uint32_t *index)
{
    sqlite3_stmt *q;
    int sc, rc = UTXO_OK;

    if (height)
        *height = 0;
    if (index)
        *index = 0;
    if (!store_enter(s) || txid == NULL)
        return UTXO_ERR_ARG;
    q = store_stmt(s, ST_TX_GET);
    sqlite3_bind_blob(q, 1, txid, UTXO_HASH_BYTES, SQLITE_STATIC);
    sc = sqlite3_step(q);
    if (sc == SQLITE_DONE) {
        rc = store_fail(s, UTXO_ERR_STORE_NOT_FOUND, "no stored block holds that transaction");
    } else if (sc != SQLITE_ROW) {
        rc = store_sql_fail(s, "read the transaction index");
    } else {
        sqlite3_int64 h = sqlite3_column_int64(q, 0), i = sqlite3_column_int64(q, 1);
        if (h < 0 || h >= (sqlite3_int64)s->meta.n_blocks || i < 0 || i > UINT32_MAX) {
            rc = store_fail(s, UTXO_ERR_STORE_CORRUPT, "transaction index row out of range");
        } else {
            if (height)
                *height = (uint32_t)h;
            if (index)
                *index = (uint32_t)i;
        }
    }
    sqlite3_reset(q);
    return rc;
}

/* The utxo statement q for predicate_id (NULL: every output): by_pred with
 * ?1 bound to it, or all; the pipeline's held outputs written into the
 * open transaction first (store_coins_settle_for_read). */
static int utxos_stmt(utxo_store *s, const uint8_t *predicate_id, enum store_stmt all,
                      enum store_stmt by_pred, sqlite3_stmt **q)
{
    int rc = store_coins_settle_for_read(s);

    if (rc != UTXO_OK)
        return rc;
    *q = store_stmt(s, predicate_id ? by_pred : all);
    if (predicate_id)
        sqlite3_bind_blob(*q, 1, predicate_id, UTXO_HASH_BYTES, SQLITE_STATIC);
    return UTXO_OK;
}

/* Steps q (ST_UTXO_ALL, _BYPRED, _AFTER or _AFTER_PRED, bound), calling fn
 * for each row until it stops; *n receives the rows visited and *sum their
 * values. Resets q. */
static int walk_utxos(utxo_store *s, sqlite3_stmt *q,
                      int (*fn)(void *arg, const utxo_store_utxo *u), void *arg, uint64_t *n,
                      uint64_t *sum)
{
    int sc, rc = UTXO_OK;

    *n = *sum = 0;
    while ((sc = sqlite3_step(q)) == SQLITE_ROW) {
        utxo_store_utxo u;
        if ((rc = row_utxo(s, q, &u)) != UTXO_OK)
            break;
        (*n)++;
        *sum += u.output.value;
        if (fn != NULL && fn(arg, &u) != 0)
            break;
    }
    if (rc == UTXO_OK && sc != SQLITE_ROW && sc != SQLITE_DONE)
        rc = store_sql_fail(s, "list utxos");
    sqlite3_reset(q);
    return rc;
}

int utxo_store_count_utxos(utxo_store *s, const uint8_t *predicate_id, uint64_t *count,
                           uint64_t *total)
{
    sqlite3_stmt *q;
    int sc, rc = UTXO_OK;

    if (count)
        *count = 0;
    if (total)
        *total = 0;
    if (!store_enter(s))
        return UTXO_ERR_ARG;
    if ((rc = utxos_stmt(s, predicate_id, ST_UTXO_SUM, ST_UTXO_SUM_PRED, &q)) != UTXO_OK)
        return rc;
    /* sum() of integers is an integer, NULL over no row, and an "integer
     * overflow" error past 2^63 - 1 (values are at most UTXO_MAX_MONEY: a
     * damaged store); below that it equals the sum mod 2^64 the walk took */
    sc = sqlite3_step(q);
    if (sc != SQLITE_ROW) {
        rc = store_sql_fail(s, "count utxos");
    } else if (sqlite3_column_type(q, 1) != SQLITE_INTEGER &&
               sqlite3_column_type(q, 1) != SQLITE_NULL) {
        rc = store_fail(s, UTXO_ERR_STORE_CORRUPT, "malformed utxo row (a value not an integer)");
    } else {
        if (count)
            *count = (uint64_t)sqlite3_column_int64(q, 0);
        if (total)
            *total = (uint64_t)sqlite3_column_int64(q, 1);
    }
    sqlite3_reset(q);
    return rc;
}

int utxo_store_each_utxo(utxo_store *s, const uint8_t *predicate_id,
                         int (*fn)(void *arg, const utxo_store_utxo *u), void *arg,
                         uint64_t *count, uint64_t *total)
{
    sqlite3_stmt *q;
    uint64_t n = 0, sum = 0;
    int rc = UTXO_OK;

    if (count)
        *count = 0;
    if (total)
        *total = 0;
    if (fn == NULL) /* count only: one aggregate query, not a row at a time */
        return utxo_store_count_utxos(s, predicate_id, count, total);
    if (!store_enter(s))
        return UTXO_ERR_ARG;
    if ((rc = utxos_stmt(s, predicate_id, ST_UTXO_ALL, ST_UTXO_BYPRED, &q)) != UTXO_OK)
        return rc;
    rc = walk_utxos(s, q, fn, arg, &n, &sum);
    if (rc == UTXO_OK) {
        if (count)
            *count = n;
        if (total)
            *total = sum;
    }
    return rc;
}

int utxo_store_each_utxo_after(utxo_store *s, const uint8_t *predicate_id,
                               const utxo_outpoint *after, uint64_t max,
                               int (*fn)(void *arg, const utxo_store_utxo *u), void *arg)
{
    static const uint8_t none = 0;
    uint8_t key[STORE_OUTPOINT_KEY_BYTES];
    sqlite3_stmt *q;
    uint64_t n, sum;
    int rc;

    if (!store_enter(s) || fn == NULL)
        return UTXO_ERR_ARG;
    if (max == 0)
        return UTXO_OK;
    if ((rc = utxos_stmt(s, predicate_id, ST_UTXO_AFTER, ST_UTXO_AFTER_PRED, &q)) != UTXO_OK)
        return rc;
    if (after) {
        store_outpoint_key(key, after);
        sqlite3_bind_blob(q, 2, key, sizeof key, SQLITE_STATIC);
    } else {
        /* the empty blob sorts before every key (a non-NULL pointer: a
         * NULL one would bind SQL NULL, which nothing is greater than) */
        sqlite3_bind_blob(q, 2, &none, 0, SQLITE_STATIC);
    }
    /* LIMIT -1: no bound */
    sqlite3_bind_int64(q, 3, max > (uint64_t)INT64_MAX ? -1 : (sqlite3_int64)max);
    return walk_utxos(s, q, fn, arg, &n, &sum);
}

int utxo_store_get_bundle(utxo_store *s, uint32_t height, uint8_t **bytes, size_t *len)
{
    sqlite3_stmt *q;
    int sc, rc = UTXO_OK;

    if (bytes)
        *bytes = NULL;
    if (len)
        *len = 0;
    if (!store_enter(s) || bytes == NULL || len == NULL)
        return UTXO_ERR_ARG;
    q = store_stmt(s, ST_BUNDLE_GET);
    sqlite3_bind_int64(q, 1, height);
    sc = sqlite3_step(q);
    if (sc == SQLITE_DONE) {
        rc = store_fail(s, UTXO_ERR_STORE_HEIGHT, "the store holds no block at height %u", height);
    } else if (sc != SQLITE_ROW) {
        rc = store_sql_fail(s, "read bundle");
    } else {
        size_t n = (size_t)sqlite3_column_bytes(q, 0);
        if ((*bytes = malloc(n ? n : 1)) == NULL) {
            rc = UTXO_ERR_NOMEM;
        } else {
            if (n)
                memcpy(*bytes, sqlite3_column_blob(q, 0), n);
            *len = n;
        }
    }
    sqlite3_reset(q);
    /* never hand out a bundle that does not verify (check.c) */
    if (rc == UTXO_OK && (rc = store_serve_check(s, height, *bytes, *len)) != UTXO_OK) {
        free(*bytes);
        *bytes = NULL;
        *len = 0;
    }
    return rc;
}

int utxo_store_acc_state(utxo_store *s, uint8_t *out, size_t out_len, size_t *written)
{
    if (written)
        *written = 0;
    if (!store_enter(s) || out == NULL || written == NULL)
        return UTXO_ERR_ARG;
    return acc_state_to_bytes(&s->meta.acc, out, out_len, written);
}

int utxo_store_prove_utxo(utxo_store *s, const utxo_outpoint *op, uint64_t *position,
                          uint8_t leaf[UTXO_HASH_BYTES], uint8_t **proof, size_t *proof_len)
{
    utxo_store_utxo u;
    acc_proof p;
    uint8_t want[ACC_HASH_BYTES], have[ACC_HASH_BYTES];
    size_t n = 0;
    int rc;

    if (proof)
        *proof = NULL;
    if (proof_len)
        *proof_len = 0;
    if (!store_enter(s) || op == NULL || position == NULL || leaf == NULL || proof == NULL ||
        proof_len == NULL)
        return UTXO_ERR_ARG;
    if ((rc = utxo_store_get_utxo(s, op, &u)) != UTXO_OK)
        return rc;
    acc_leaf_hash(want, op, &u.output, u.height, u.position);
    free(u.output.datum);
    acc_proof_init(&p);
    if ((rc = acc_forest_leaf(s->forest, u.position, have)) != UTXO_OK ||
        memcmp(have, want, ACC_HASH_BYTES) != 0) {
        rc = store_fail(s, UTXO_ERR_STORE_CORRUPT,
                        "%s: the forest's leaf %" PRIu64 " is not the unspent output's row",
                        s->path, u.position);
        goto out;
    }
    if ((rc = acc_forest_prove(s->forest, &u.position, 1, &p)) != UTXO_OK) {
        rc = store_fail(s, rc == UTXO_ERR_NOMEM ? rc : UTXO_ERR_STORE_CORRUPT,
                        "%s: cannot prove leaf %" PRIu64 ": %s", s->path, u.position,
                        utxo_strerror(rc));
        goto out;
    }
    /* never hand out a proof that does not verify against the roots */
    if ((rc = acc_stateless_verify(&s->meta.acc, &p, (const acc_hash *)want, 1)) != UTXO_OK) {
        rc = store_fail(s, rc == UTXO_ERR_NOMEM ? rc : UTXO_ERR_STORE_CORRUPT,
                        "%s: refusing to serve the proof of leaf %" PRIu64
                        ": it does not verify against the roots (%s)",
                        s->path, u.position, utxo_strerror(rc));
        goto out;
    }
    n = acc_proof_get_length(&p);
    if ((*proof = malloc(n ? n : 1)) == NULL) {
        rc = UTXO_ERR_NOMEM;
        goto out;
    }
    if ((rc = acc_proof_to_bytes(&p, *proof, n, proof_len)) != UTXO_OK) {
        free(*proof);
        *proof = NULL;
        goto out;
    }
    *position = u.position;
    memcpy(leaf, want, ACC_HASH_BYTES);
out:
    acc_proof_clear(&p);
    return rc;
}
