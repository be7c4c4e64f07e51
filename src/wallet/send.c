/*
 * wallet/send.c — payments from the wallet (utxo_wallet_send): every coin
 * is offered to the builder's coin selection (utxo/builder.h rules), change
 * goes to the next key of the wallet (stored only when change is paid),
 * each selected coin is signed with its derived key (wiped at once), the
 * builder's validator check must pass, and the coins spent are reserved
 * for the payment until a block spends them (or it is abandoned). A caller
 * that must store the transaction first builds it unreserved
 * (UTXO_WALLET_SEND_NO_RESERVE) and reserves it once stored
 * (utxo_wallet_reserve), so a failed write leaves nothing reserved.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "wallet/wallet_int.h"

int utxo_wallet_reserve(utxo_wallet *w, const utxo_tx *tx)
{
    uint8_t txid[UTXO_HASH_BYTES];
    sqlite3_stmt *coin = NULL, *res = NULL, *ins = NULL;
    int rc;

    if (!wdb_enter(w) || tx == NULL)
        return UTXO_ERR_ARG;
    utxo_tx_txid(tx, txid);
    if ((rc = wdb_exec(w, "BEGIN IMMEDIATE")) != UTXO_OK)
        return rc;
    if (sqlite3_prepare_v2(w->db, "SELECT 1 FROM coins WHERE txid = ?1 AND vout = ?2", -1, &coin,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(w->db, "SELECT spent_by FROM pending WHERE txid = ?1 AND vout = ?2",
                           -1, &res, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(w->db, "INSERT INTO pending(txid, vout, spent_by) VALUES (?1, ?2, ?3)",
                           -1, &ins, NULL) != SQLITE_OK) {
        rc = wdb_sqlfail(w, "reserving coins");
        goto done;
    }
    for (uint32_t i = 0; i < tx->n_inputs && rc == UTXO_OK; i++) {
        const utxo_outpoint *op = &tx->inputs[i].prevout;
        int s;

        sqlite3_reset(coin);
        sqlite3_bind_blob(coin, 1, op->txid, UTXO_HASH_BYTES, SQLITE_STATIC);
        sqlite3_bind_int64(coin, 2, op->index);
        if ((s = sqlite3_step(coin)) == SQLITE_DONE) {
            rc = wdb_fail(w, UTXO_ERR_ARG, "input %u spends no coin of the wallet", i);
            break;
        } else if (s != SQLITE_ROW) {
            rc = wdb_sqlfail(w, "reserving coins");
            break;
        }
        sqlite3_reset(res);
        sqlite3_bind_blob(res, 1, op->txid, UTXO_HASH_BYTES, SQLITE_STATIC);
        sqlite3_bind_int64(res, 2, op->index);
        if ((s = sqlite3_step(res)) == SQLITE_ROW) {
            /* reserving a payment twice is harmless; another one's coin is not */
            if (sqlite3_column_bytes(res, 0) != UTXO_HASH_BYTES ||
                memcmp(sqlite3_column_blob(res, 0), txid, UTXO_HASH_BYTES) != 0)
                rc = wdb_fail(w, UTXO_ERR_WALLET_RESERVED,
                              "input %u: the coin is reserved by another payment", i);
            continue;
        } else if (s != SQLITE_DONE) {
            rc = wdb_sqlfail(w, "reserving coins");
            break;
        }
        sqlite3_reset(ins);
        sqlite3_bind_blob(ins, 1, op->txid, UTXO_HASH_BYTES, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 2, op->index);
        sqlite3_bind_blob(ins, 3, txid, UTXO_HASH_BYTES, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE)
            rc = wdb_sqlfail(w, "reserving coins");
    }
    if (rc == UTXO_OK)
        rc = wdb_exec(w, "COMMIT");
done:
    sqlite3_finalize(coin);
    sqlite3_finalize(res);
    sqlite3_finalize(ins);
    if (rc != UTXO_OK)
        sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* Offers every unreserved coin of the wallet to b; *keys gets each coin's key index in
 * coin order and *ops the outpoints (both malloc'd). */
static int offer_coins(utxo_wallet *w, utxo_builder *b, utxo_outpoint **ops, uint32_t **keys,
                       size_t *n)
{
    sqlite3_stmt *st = NULL;
    size_t k = 0, cap = 0;
    int s, rc = UTXO_OK;

    *ops = NULL;
    *keys = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(w->db,
                           "SELECT c.txid, c.vout, c.value, c.predicate_id, c.datum, c.key_idx,"
                           " k.pubkey FROM coins c JOIN keys k ON k.idx = c.key_idx"
                           " WHERE NOT EXISTS (SELECT 1 FROM pending p"
                           "  WHERE p.txid = c.txid AND p.vout = c.vout)"
                           " ORDER BY c.position",
                           -1, &st, NULL) != SQLITE_OK)
        return wdb_sqlfail(w, "reading coins");
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        uint8_t img[UTXO_STD_IMAGE_MAX_BYTES];
        size_t il = 0;
        utxo_coin c;

        if (sqlite3_column_bytes(st, 0) != UTXO_HASH_BYTES ||
            sqlite3_column_bytes(st, 3) != UTXO_HASH_BYTES ||
            sqlite3_column_bytes(st, 6) != UTXO_PUBKEY_BYTES) {
            rc = wdb_fail(w, UTXO_ERR_WALLET_FORMAT, "malformed coin row");
            break;
        }
        if (k == cap) {
            size_t nc = cap ? 2 * cap : 32;
            utxo_outpoint *no = realloc(*ops, nc * sizeof *no);
            uint32_t *nk = no ? realloc(*keys, nc * sizeof *nk) : NULL;
            if (no)
                *ops = no;
            if (nk == NULL) {
                rc = UTXO_ERR_NOMEM;
                break;
            }
            *keys = nk;
            cap = nc;
        }
        memset(&c, 0, sizeof c);
        memcpy(c.outpoint.txid, sqlite3_column_blob(st, 0), UTXO_HASH_BYTES);
        c.outpoint.index = (uint32_t)sqlite3_column_int64(st, 1);
        c.output.value = (uint64_t)sqlite3_column_int64(st, 2);
        memcpy(c.output.predicate_id, sqlite3_column_blob(st, 3), UTXO_HASH_BYTES);
        c.output.datum_len = (uint32_t)sqlite3_column_bytes(st, 4);
        c.output.datum = c.output.datum_len ? (uint8_t *)sqlite3_column_blob(st, 4) : NULL;
        if ((rc = utxo_std_p2pk_image(img, sizeof img, &il, sqlite3_column_blob(st, 6))) != UTXO_OK)
            break;
        c.image = img;
        c.image_len = il;
        if ((rc = utxo_builder_add_coin(b, &c)) != UTXO_OK) {
            wdb_fail(w, rc, "coin %u: %s", c.outpoint.index, utxo_strerror(rc));
            break;
        }
        (*ops)[k] = c.outpoint;
        (*keys)[k] = (uint32_t)sqlite3_column_int64(st, 5);
        k++;
    }
    if (rc == UTXO_OK && s != SQLITE_DONE)
        rc = wdb_sqlfail(w, "reading coins");
    sqlite3_finalize(st);
    *n = k;
    return rc;
}

int utxo_wallet_send_many(utxo_wallet *w, const utxo_wallet_recipient *to, size_t n_to,
                          uint32_t flags, utxo_tx **out, uint64_t *fee)
{
    uint8_t pk[UTXO_PUBKEY_BYTES], sk[UTXO_SECRETKEY_BYTES], change_id[UTXO_HASH_BYTES];
    utxo_outpoint *ops = NULL;
    uint32_t *keys = NULL;
    utxo_builder *b = NULL;
    utxo_verdict v;
    const utxo_tx *tx;
    uint64_t amount = 0;
    size_t n = 0;
    int rc;

    if (out)
        *out = NULL;
    if (fee)
        *fee = 0;
    if (!wdb_enter(w) || to == NULL || n_to == 0 || out == NULL ||
        (flags & ~UTXO_WALLET_SEND_FLAGS) != 0)
        return UTXO_ERR_ARG;
    if (w->master == NULL)
        return wdb_fail(w, UTXO_ERR_WATCH_ONLY, "sending needs the passphrase");
    if ((b = utxo_builder_new(&w->params, utxo_wallet_next_height(w))) == NULL)
        return UTXO_ERR_NOMEM;
    /* change goes to the next key, which is stored only if change is paid */
    if ((rc = wdb_key_secret(w, w->n_keys, pk, sk)) != UTXO_OK)
        goto done;
    sodium_memzero(sk, sizeof sk);
    if ((rc = utxo_p2pk_id(change_id, pk)) != UTXO_OK ||
        (rc = utxo_builder_set_change(b, change_id)) != UTXO_OK)
        goto done;
    for (size_t r = 0; r < n_to; r++) {
        if (to[r].datum == NULL && to[r].datum_len != 0) {
            rc = UTXO_ERR_ARG;
            goto done;
        }
        if ((rc = utxo_builder_add_output(b, to[r].value, to[r].predicate_id, to[r].datum,
                                          to[r].datum_len)) != UTXO_OK) {
            wdb_fail(w, rc, "recipient %zu (%llu): %s", r + 1, (unsigned long long)to[r].value,
                     utxo_strerror(rc));
            goto done;
        }
        amount += to[r].value; /* the builder checked the sum against the supply */
    }
    if ((rc = offer_coins(w, b, &ops, &keys, &n)) != UTXO_OK)
        goto done;
    if ((rc = utxo_builder_finalize(b)) != UTXO_OK) {
        if (rc == UTXO_ERR_TX_NO_INPUTS) /* no coin at all */
            rc = UTXO_ERR_FUNDS;
        wdb_fail(w, rc, "%s (payment %llu, fee %llu)", utxo_strerror(rc),
                 (unsigned long long)amount, (unsigned long long)utxo_builder_fee(b));
        goto done;
    }
    tx = utxo_builder_tx(b);
    for (uint32_t i = 0; i < tx->n_inputs; i++) {
        for (size_t k = 0; k < n; k++) {
            if (ops[k].index != tx->inputs[i].prevout.index ||
                memcmp(ops[k].txid, tx->inputs[i].prevout.txid, UTXO_HASH_BYTES) != 0)
                continue;
            rc = wdb_key_secret(w, keys[k], pk, sk);
            if (rc == UTXO_OK)
                rc = utxo_builder_sign(b, sk, NULL);
            sodium_memzero(sk, sizeof sk);
            if (rc == UTXO_ERR_NO_KEY) /* already signed with this key */
                rc = UTXO_OK;
            if (rc != UTXO_OK)
                goto done;
            break;
        }
        tx = utxo_builder_tx(b);
    }
    if ((rc = utxo_builder_check(b, &v)) != UTXO_OK) {
        wdb_fail(w, rc, "the validator refuses the payment: %s (input %u)", utxo_strerror(rc),
                 v.input);
        goto done;
    }
    if (utxo_builder_change(b) > 0 && (rc = utxo_wallet_new_key(w, NULL, NULL)) != UTXO_OK)
        goto done;
    if ((rc = utxo_builder_get_tx(b, out)) != UTXO_OK)
        goto done;
    if ((flags & UTXO_WALLET_SEND_NO_RESERVE) == 0 && (rc = utxo_wallet_reserve(w, *out)) != UTXO_OK) {
        utxo_tx_free(*out);
        *out = NULL;
        goto done;
    }
    if (fee)
        *fee = utxo_builder_fee(b);
done:
    sodium_memzero(sk, sizeof sk);
    free(ops);
    free(keys);
    utxo_builder_free(b);
    return rc;
}

int utxo_wallet_send(utxo_wallet *w, const uint8_t to[UTXO_HASH_BYTES], uint64_t amount,
                     utxo_tx **out, uint64_t *fee)
{
    utxo_wallet_recipient r;

    if (!wdb_enter(w) || to == NULL) {
        if (out)
            *out = NULL;
        if (fee)
            *fee = 0;
        return UTXO_ERR_ARG;
    }
    memset(&r, 0, sizeof r);
    memcpy(r.predicate_id, to, UTXO_HASH_BYTES);
    r.value = amount;
    return utxo_wallet_send_many(w, &r, 1, 0, out, fee);
}
