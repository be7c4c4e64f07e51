/*
 * wallet/undo.c — undoing blocks in the wallet (utxo_wallet_rollback), for
 * when the chain it follows is replaced above some height.
 *
 * Each applied block leaves an undo record (table `undo`, docs/WALLET.md):
 * the validator state and the batch proof from before the block, and the
 * coin rows the block removed, each encoded as
 *
 *   u64 position | txid (32) | u32 vout | u64 value | predicate id (32) |
 *   u32 height | u32 key index | leaf hash (32) | varint datum length | datum
 *
 * (integers little-endian). Undoing block h deletes the coins and history
 * rows of height h, puts the removed rows back and restores the state and
 * proof: the file is then what it was before h was applied. The last
 * WDB_UNDO_DEPTH blocks can be undone; older records are pruned.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wallet/wallet_int.h"

/* The fixed part of an encoded coin row, datum length prefix excluded. */
#define UNDO_COIN_FIXED (8 + 32 + 4 + 8 + 32 + 4 + 4 + 32)

static void coin_encode(enc *e, sqlite3_stmt *st)
{
    enc_u64(e, (uint64_t)sqlite3_column_int64(st, 0));
    enc_bytes(e, sqlite3_column_blob(st, 1), UTXO_HASH_BYTES);
    enc_u32(e, (uint32_t)sqlite3_column_int64(st, 2));
    enc_u64(e, (uint64_t)sqlite3_column_int64(st, 3));
    enc_bytes(e, sqlite3_column_blob(st, 4), UTXO_HASH_BYTES);
    enc_u32(e, (uint32_t)sqlite3_column_int64(st, 5));
    enc_u32(e, (uint32_t)sqlite3_column_int64(st, 6));
    enc_bytes(e, sqlite3_column_blob(st, 7), ACC_HASH_BYTES);
    enc_blob(e, sqlite3_column_blob(st, 8), (size_t)sqlite3_column_bytes(st, 8));
}

int wdb_undo_append_coin(uint8_t **buf, size_t *len, sqlite3_stmt *st)
{
    uint8_t *nb;
    size_t need;
    enc e;

    if (sqlite3_column_bytes(st, 1) != UTXO_HASH_BYTES ||
        sqlite3_column_bytes(st, 4) != UTXO_HASH_BYTES ||
        sqlite3_column_bytes(st, 7) != ACC_HASH_BYTES)
        return UTXO_ERR_WALLET_FORMAT;
    enc_init(&e, NULL, 0, NULL);
    coin_encode(&e, st);
    need = e.len;
    if ((nb = realloc(*buf, *len + need)) == NULL)
        return UTXO_ERR_NOMEM;
    *buf = nb;
    enc_init(&e, nb + *len, need, NULL);
    coin_encode(&e, st);
    *len += need;
    return UTXO_OK;
}

int wdb_undo_put(utxo_wallet *w, uint32_t height, const uint8_t *state, size_t state_len,
                 const acc_proof *pre, const uint8_t *spent, size_t spent_len)
{
    sqlite3_stmt *st = NULL;
    size_t pl = acc_proof_get_length(pre), pw = 0;
    uint8_t *pb = malloc(pl ? pl : 1);
    int rc = UTXO_OK;

    if (pb == NULL)
        return UTXO_ERR_NOMEM;
    if ((rc = acc_proof_to_bytes(pre, pb, pl, &pw)) != UTXO_OK)
        goto done;
    if (sqlite3_prepare_v2(w->db,
                           "INSERT OR REPLACE INTO undo(height, state, proof, spent)"
                           " VALUES (?1, ?2, ?3, ?4)",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = wdb_sqlfail(w, "writing undo data");
        goto done;
    }
    sqlite3_bind_int64(st, 1, height);
    sqlite3_bind_blob(st, 2, state, (int)state_len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, pb, (int)pw, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, spent_len ? (const void *)spent : "", (int)spent_len, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = wdb_sqlfail(w, "writing undo data");
        goto done;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (height >= WDB_UNDO_DEPTH) {
        if (sqlite3_prepare_v2(w->db, "DELETE FROM undo WHERE height <= ?1", -1, &st, NULL) !=
            SQLITE_OK) {
            rc = wdb_sqlfail(w, "pruning undo data");
            goto done;
        }
        sqlite3_bind_int64(st, 1, height - WDB_UNDO_DEPTH);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = wdb_sqlfail(w, "pruning undo data");
            goto done;
        }
        sqlite3_finalize(st);
        st = NULL;
        /* reservations of spent coins are kept for a rollback (sync.c
         * take_coin); once the payment's block is past the rollback depth
         * its coins cannot come back */
        if (sqlite3_prepare_v2(w->db,
                               "DELETE FROM pending WHERE NOT EXISTS (SELECT 1 FROM coins c"
                               " WHERE c.txid = pending.txid AND c.vout = pending.vout)"
                               " AND spent_by IN (SELECT txid FROM history WHERE height <= ?1)",
                               -1, &st, NULL) != SQLITE_OK) {
            rc = wdb_sqlfail(w, "pruning reservations");
            goto done;
        }
        sqlite3_bind_int64(st, 1, height - WDB_UNDO_DEPTH);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = wdb_sqlfail(w, "pruning reservations");
    }
done:
    sqlite3_finalize(st);
    free(pb);
    return rc;
}

/* Re-inserts the coin rows of an undo record (hostile input: a corrupt
 * file must fail cleanly). */
static int restore_coins(utxo_wallet *w, uint32_t h, const uint8_t *p, size_t n)
{
    sqlite3_stmt *ins = NULL;
    dec d;
    int rc = UTXO_OK;

    if (sqlite3_prepare_v2(w->db,
                           "INSERT INTO coins(position, txid, vout, value, predicate_id, height,"
                           " key_idx, leaf, datum) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                           -1, &ins, NULL) != SQLITE_OK)
        return wdb_sqlfail(w, "restoring coins");
    dec_init(&d, p, n);
    while (rc == UTXO_OK && dec_left(&d) > 0) {
        const uint8_t *txid, *id, *leaf, *datum;
        uint64_t pos, value, dl;
        uint32_t vout, height, key;

        pos = dec_u64(&d);
        txid = dec_view(&d, UTXO_HASH_BYTES);
        vout = dec_u32(&d);
        value = dec_u64(&d);
        id = dec_view(&d, UTXO_HASH_BYTES);
        height = dec_u32(&d);
        key = dec_u32(&d);
        leaf = dec_view(&d, ACC_HASH_BYTES);
        dl = dec_varint(&d, w->params.max_datum_bytes);
        datum = dec_view(&d, (size_t)dl);
        if (d.err != UTXO_OK || pos > (uint64_t)INT64_MAX || value > UTXO_MAX_MONEY) {
            rc = wdb_fail(w, UTXO_ERR_WALLET_FORMAT,
                          "the undo record of block %u is damaged: coin rows malformed at byte %zu",
                          h, d.err ? d.err_off : d.off);
            break;
        }
        sqlite3_reset(ins);
        sqlite3_bind_int64(ins, 1, (int64_t)pos);
        sqlite3_bind_blob(ins, 2, txid, UTXO_HASH_BYTES, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 3, vout);
        sqlite3_bind_int64(ins, 4, (int64_t)value);
        sqlite3_bind_blob(ins, 5, id, UTXO_HASH_BYTES, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 6, height);
        sqlite3_bind_int64(ins, 7, key);
        sqlite3_bind_blob(ins, 8, leaf, ACC_HASH_BYTES, SQLITE_STATIC);
        sqlite3_bind_blob(ins, 9, dl ? (const void *)datum : "", (int)dl, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE)
            rc = wdb_sqlfail(w, "restoring coins");
    }
    sqlite3_finalize(ins);
    return rc;
}

/* The state and proof just restored from block h's undo record, and the
 * coins put back, must be a wallet that opens: the state decodes and is the
 * one before block h, the proof decodes against its leaf count, proves
 * exactly the coins and verifies against its roots. Checked inside the
 * transaction, before COMMIT: a damaged record is refused with the file
 * unchanged rather than committed and found by the next open. On success
 * *c holds what was read (the handle's next chain side). */
static int rollback_check(utxo_wallet *w, uint32_t h, wdb_chain *c)
{
    char why[sizeof w->msg];
    int rc;

    wdb_chain_clear(c);
    rc = wdb_chain_read(w, c, true);
    if (rc == UTXO_OK && utxo_validator_next_height(c->val) != h) {
        rc = wdb_fail(w, UTXO_ERR_WALLET_FORMAT, "its validator state is at height %u",
                      utxo_validator_next_height(c->val));
        wdb_chain_clear(c);
    }
    if (rc != UTXO_OK && rc != UTXO_ERR_NOMEM && rc != UTXO_ERR_WALLET_DB) {
        snprintf(why, sizeof why, "%s", w->msg);
        rc = wdb_fail(w, UTXO_ERR_WALLET_FORMAT, "the undo record of block %u is damaged: %s", h,
                      why);
    }
    return rc;
}

/* Undoes block h (the tip) inside the caller's transaction, and reads the
 * chain side it restored into *c (see rollback_check). */
static int undo_one(utxo_wallet *w, uint32_t h, wdb_chain *c)
{
    static const char *const del_sql[] = {"DELETE FROM coins WHERE height = ?1",
                                          "DELETE FROM history WHERE height = ?1",
                                          "DELETE FROM undo WHERE height = ?1"};
    sqlite3_stmt *st = NULL;
    int rc = UTXO_OK, s;

    if (sqlite3_prepare_v2(w->db, "SELECT state, proof, spent FROM undo WHERE height = ?1", -1, &st,
                           NULL) != SQLITE_OK)
        return wdb_sqlfail(w, "reading undo data");
    sqlite3_bind_int64(st, 1, h);
    s = sqlite3_step(st);
    if (s == SQLITE_DONE) {
        rc = wdb_fail(w, UTXO_ERR_WALLET_CHAIN,
                      "block %u is older than the %u blocks the wallet can undo", h,
                      WDB_UNDO_DEPTH);
        goto done;
    }
    if (s != SQLITE_ROW) {
        rc = wdb_sqlfail(w, "reading undo data");
        goto done;
    }
    for (unsigned k = 0; k < 2 && rc == UTXO_OK; k++) { /* coins and history of h */
        sqlite3_stmt *d = NULL;
        if (sqlite3_prepare_v2(w->db, del_sql[k], -1, &d, NULL) != SQLITE_OK) {
            rc = wdb_sqlfail(w, "undoing a block");
            break;
        }
        sqlite3_bind_int64(d, 1, h);
        if (sqlite3_step(d) != SQLITE_DONE)
            rc = wdb_sqlfail(w, "undoing a block");
        sqlite3_finalize(d);
    }
    if (rc == UTXO_OK)
        rc = restore_coins(w, h, sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2));
    if (rc == UTXO_OK)
        rc = wdb_meta_put(w, "state", sqlite3_column_blob(st, 0),
                          (size_t)sqlite3_column_bytes(st, 0));
    if (rc == UTXO_OK)
        rc = wdb_meta_put(w, "proof", sqlite3_column_blob(st, 1),
                          (size_t)sqlite3_column_bytes(st, 1));
    if (rc == UTXO_OK) {
        sqlite3_stmt *d = NULL;
        if (sqlite3_prepare_v2(w->db, del_sql[2], -1, &d, NULL) != SQLITE_OK)
            rc = wdb_sqlfail(w, "undoing a block");
        else {
            sqlite3_bind_int64(d, 1, h);
            if (sqlite3_step(d) != SQLITE_DONE)
                rc = wdb_sqlfail(w, "undoing a block");
        }
        sqlite3_finalize(d);
    }
    if (rc == UTXO_OK)
        rc = rollback_check(w, h, c);
done:
    sqlite3_finalize(st);
    return rc;
}

int utxo_wallet_rollback(utxo_wallet *w, uint32_t height)
{
    uint32_t next;
    wdb_chain c;
    int rc;

    if (!wdb_enter(w))
        return UTXO_ERR_ARG;
    memset(&c, 0, sizeof c);
    acc_proof_init(&c.proof);
    next = utxo_wallet_next_height(w);
    if (height >= next)
        return wdb_fail(w, UTXO_ERR_ARG, "the wallet holds no block %u (next height %u)", height,
                        next);
    if (height + 1 == next)
        return UTXO_OK;
    if ((rc = wdb_exec(w, "BEGIN IMMEDIATE")) != UTXO_OK)
        return rc;
    rc = wdb_check_fresh(w);
    for (uint32_t h = next - 1; h > height && rc == UTXO_OK; h--)
        rc = undo_one(w, h, &c);
    /* reservations are kept: a coin the undone blocks spent is back, still
     * reserved for its payment, which a later block may well include again */
    if (rc == UTXO_OK)
        rc = wdb_exec(w, "COMMIT");
    if (rc != UTXO_OK) {
        sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
        wdb_chain_clear(&c);
        return rc;
    }
    wdb_chain_install(w, &c); /* what the last undo_one read and checked */
    return UTXO_OK;
}
