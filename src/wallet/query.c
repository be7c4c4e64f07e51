/*
 * wallet/query.c — what a wallet reports (utxo/wallet.h): its next height
 * and roots, balance, reserved coins and their release, the coin list and
 * the history. Read-only except utxo_wallet_abandon. The file itself is
 * wallet/db.c; schema in docs/WALLET.md.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "wallet/wallet_int.h"

uint32_t utxo_wallet_next_height(const utxo_wallet *w)
{
    return w ? utxo_validator_next_height(w->val) : 0;
}

void utxo_wallet_tip_hash(const utxo_wallet *w, uint8_t out[UTXO_HASH_BYTES])
{
    utxo_validator_tip_hash(w ? w->val : NULL, out);
}

unsigned utxo_wallet_roots(const utxo_wallet *w, uint64_t *leaf_count,
                           uint8_t (*roots)[UTXO_HASH_BYTES], unsigned n)
{
    if (leaf_count)
        *leaf_count = w ? utxo_validator_leaf_count(w->val) : 0;
    return w ? utxo_validator_roots(w->val, roots, n) : 0;
}

/* Runs sql, a query of one row "count, sum", into *n_coins and *value
 * (either may be NULL; both zero on failure). what names it in messages. */
static int count_and_sum(utxo_wallet *w, const char *sql, const char *what, uint64_t *value,
                         uint64_t *n_coins)
{
    sqlite3_stmt *st = NULL;
    int rc = UTXO_OK;

    if (value)
        *value = 0;
    if (n_coins)
        *n_coins = 0;
    if (!wdb_enter(w))
        return UTXO_ERR_ARG;
    if (sqlite3_prepare_v2(w->db, sql, -1, &st, NULL) != SQLITE_OK)
        return wdb_sqlfail(w, what);
    if (sqlite3_step(st) == SQLITE_ROW) {
        if (n_coins)
            *n_coins = (uint64_t)sqlite3_column_int64(st, 0);
        if (value)
            *value = (uint64_t)sqlite3_column_int64(st, 1);
    } else {
        rc = wdb_sqlfail(w, what);
    }
    sqlite3_finalize(st);
    return rc;
}

int utxo_wallet_balance(utxo_wallet *w, uint64_t *value, uint64_t *n_coins)
{
    return count_and_sum(w, "SELECT count(*), coalesce(sum(value), 0) FROM coins", "balance",
                         value, n_coins);
}

int utxo_wallet_pending(utxo_wallet *w, uint64_t *value, uint64_t *n_coins)
{
    return count_and_sum(w,
                         "SELECT count(*), coalesce(sum(c.value), 0) FROM pending p"
                         " JOIN coins c ON c.txid = p.txid AND c.vout = p.vout",
                         "pending", value, n_coins);
}

/* Copies column col of the current row to out when it is a 32-byte blob
 * (out stays as it was otherwise). */
static void column_hash(sqlite3_stmt *st, int col, uint8_t out[UTXO_HASH_BYTES])
{
    if (sqlite3_column_bytes(st, col) == UTXO_HASH_BYTES)
        memcpy(out, sqlite3_column_blob(st, col), UTXO_HASH_BYTES);
}

int utxo_wallet_abandon(utxo_wallet *w, const uint8_t txid[UTXO_HASH_BYTES])
{
    sqlite3_stmt *st = NULL;
    int rc = UTXO_OK;

    if (!wdb_enter(w) || txid == NULL)
        return UTXO_ERR_ARG;
    /* the reservations of its coins still held (rows of spent coins, kept
     * for a rollback, do not count) */
    if (sqlite3_prepare_v2(w->db,
                           "DELETE FROM pending WHERE spent_by = ?1 AND EXISTS (SELECT 1 FROM"
                           " coins c WHERE c.txid = pending.txid AND c.vout = pending.vout)",
                           -1, &st, NULL) !=
        SQLITE_OK)
        return wdb_sqlfail(w, "abandon");
    sqlite3_bind_blob(st, 1, txid, UTXO_HASH_BYTES, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = wdb_sqlfail(w, "abandon");
    else if (sqlite3_changes(w->db) == 0)
        rc = wdb_fail(w, UTXO_ERR_ARG, "no coin is reserved by that payment");
    sqlite3_finalize(st);
    return rc;
}

/* A row reader of list_rows: fills element k of the caller's array out. */
typedef void (*row_fn)(sqlite3_stmt *st, void *out, size_t k);

/* Runs sql (no parameters), hands its first n rows to row (element k of
 * out for row k) and sets *total to the number of rows. what names the
 * query in messages. */
static int list_rows(utxo_wallet *w, const char *sql, const char *what, row_fn row, void *out,
                     size_t n, size_t *total)
{
    sqlite3_stmt *st = NULL;
    size_t k = 0;
    int s, rc = UTXO_OK;

    if (total)
        *total = 0;
    if (!wdb_enter(w) || total == NULL || (out == NULL && n > 0))
        return UTXO_ERR_ARG;
    if (sqlite3_prepare_v2(w->db, sql, -1, &st, NULL) != SQLITE_OK)
        return wdb_sqlfail(w, what);
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (k < n)
            row(st, out, k);
        k++;
    }
    if (s != SQLITE_DONE)
        rc = wdb_sqlfail(w, what);
    sqlite3_finalize(st);
    *total = k;
    return rc;
}

static void coin_row(sqlite3_stmt *st, void *out, size_t k)
{
    utxo_wallet_coin *c = (utxo_wallet_coin *)out + k;

    memset(c, 0, sizeof *c);
    column_hash(st, 0, c->outpoint.txid);
    c->outpoint.index = (uint32_t)sqlite3_column_int64(st, 1);
    c->value = (uint64_t)sqlite3_column_int64(st, 2);
    column_hash(st, 3, c->predicate_id);
    c->height = (uint32_t)sqlite3_column_int64(st, 4);
    c->position = (uint64_t)sqlite3_column_int64(st, 5);
    c->key_index = (uint32_t)sqlite3_column_int64(st, 6);
    c->datum_len = (uint32_t)sqlite3_column_int64(st, 7);
}

int utxo_wallet_coins(utxo_wallet *w, utxo_wallet_coin *out, size_t n, size_t *total)
{
    return list_rows(w,
                     "SELECT txid, vout, value, predicate_id, height, position, key_idx,"
                     " length(datum) FROM coins ORDER BY position",
                     "listing coins", coin_row, out, n, total);
}

static void event_row(sqlite3_stmt *st, void *out, size_t k)
{
    utxo_wallet_event *e = (utxo_wallet_event *)out + k;

    memset(e, 0, sizeof *e);
    e->height = (uint32_t)sqlite3_column_int64(st, 0);
    column_hash(st, 1, e->txid);
    e->received = (uint64_t)sqlite3_column_int64(st, 2);
    e->spent = (uint64_t)sqlite3_column_int64(st, 3);
}

int utxo_wallet_history(utxo_wallet *w, utxo_wallet_event *out, size_t n, size_t *total)
{
    return list_rows(w, "SELECT height, txid, received, spent FROM history ORDER BY height, seq",
                     "listing history", event_row, out, n, total);
}

int utxo_wallet_coin_datum(utxo_wallet *w, const utxo_outpoint *op, uint8_t *out, size_t out_len,
                           size_t *written)
{
    sqlite3_stmt *st = NULL;
    int rc = UTXO_OK, s;

    if (written)
        *written = 0;
    if (!wdb_enter(w) || op == NULL || written == NULL || (out == NULL && out_len > 0))
        return UTXO_ERR_ARG;
    if (sqlite3_prepare_v2(w->db, "SELECT datum FROM coins WHERE txid = ?1 AND vout = ?2", -1,
                           &st, NULL) != SQLITE_OK)
        return wdb_sqlfail(w, "reading a datum");
    sqlite3_bind_blob(st, 1, op->txid, UTXO_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, op->index);
    if ((s = sqlite3_step(st)) == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        if (n > out_len) {
            rc = wdb_fail(w, UTXO_ERR_TOO_LARGE, "the datum has %zu bytes", n);
        } else {
            if (n > 0)
                memcpy(out, sqlite3_column_blob(st, 0), n);
            *written = n;
        }
    } else if (s == SQLITE_DONE) {
        rc = wdb_fail(w, UTXO_ERR_ARG, "not a coin of the wallet");
    } else {
        rc = wdb_sqlfail(w, "reading a datum");
    }
    sqlite3_finalize(st);
    return rc;
}

static void payment_row(sqlite3_stmt *st, void *out, size_t k)
{
    utxo_wallet_payment *p = (utxo_wallet_payment *)out + k;

    memset(p, 0, sizeof *p);
    column_hash(st, 0, p->txid);
    p->n_coins = (uint32_t)sqlite3_column_int64(st, 1);
    p->value = (uint64_t)sqlite3_column_int64(st, 2);
}

int utxo_wallet_payments(utxo_wallet *w, utxo_wallet_payment *out, size_t n, size_t *total)
{
    /* grouped by payment, in the order of its first reserved coin */
    return list_rows(w,
                     "SELECT p.spent_by, count(*), coalesce(sum(c.value), 0), min(c.position)"
                     " FROM pending p JOIN coins c ON c.txid = p.txid AND c.vout = p.vout"
                     " GROUP BY p.spent_by ORDER BY 4, 1",
                     "listing pending payments", payment_row, out, n, total);
}
