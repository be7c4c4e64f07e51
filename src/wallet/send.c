/*
 * wallet/send.c — payments from the wallet (utxo_wallet_send): every coin
 * is offered to the builder's coin selection (utxo/builder.h rules), change
 * goes to the next key of the wallet (stored only when change is paid),
 * each selected coin is signed with its derived key (wiped at once), the
 * builder's validator check must pass, and the coins spent are reserved
 * for the payment until a block spends them (or it is abandoned).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "wallet/wallet_int.h"

/* Reserves the inputs of tx for it (one SQL transaction). */
static int reserve(utxo_wallet *w, const utxo_tx *tx)
{
    uint8_t txid[UTXO_HASH_BYTES];
    sqlite3_stmt *st = NULL;
    int rc;

    utxo_tx_txid(tx, txid);
    if ((rc = wdb_exec(w, "BEGIN IMMEDIATE")) != UTXO_OK)
        return rc;
    if (sqlite3_prepare_v2(w->db, "INSERT INTO pending(txid, vout, spent_by) VALUES (?1, ?2, ?3)",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = wdb_sqlfail(w, "reserving coins");
        goto done;
    }
    for (uint32_t i = 0; i < tx->n_inputs; i++) {
        sqlite3_reset(st);
        sqlite3_bind_blob(st, 1, tx->inputs[i].prevout.txid, UTXO_HASH_BYTES, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, tx->inputs[i].prevout.index);
        sqlite3_bind_blob(st, 3, txid, UTXO_HASH_BYTES, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = wdb_sqlfail(w, "reserving coins");
            goto done;
        }
    }
    rc = wdb_exec(w, "COMMIT");
done:
    sqlite3_finalize(st);
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

int utxo_wallet_send(utxo_wallet *w, const uint8_t to[UTXO_HASH_BYTES], uint64_t amount,
                     utxo_tx **out, uint64_t *fee)
{
    uint8_t pk[UTXO_PUBKEY_BYTES], sk[UTXO_SECRETKEY_BYTES], change_id[UTXO_HASH_BYTES];
    utxo_outpoint *ops = NULL;
    uint32_t *keys = NULL;
    utxo_builder *b = NULL;
    utxo_verdict v;
    const utxo_tx *tx;
    size_t n = 0;
    int rc;

    if (out)
        *out = NULL;
    if (fee)
        *fee = 0;
    if (w == NULL || to == NULL || out == NULL)
        return UTXO_ERR_ARG;
    w->msg[0] = '\0';
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
    if ((rc = utxo_builder_add_output(b, amount, to, NULL, 0)) != UTXO_OK) {
        wdb_fail(w, rc, "payment of %llu: %s", (unsigned long long)amount, utxo_strerror(rc));
        goto done;
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
    if ((rc = reserve(w, *out)) != UTXO_OK) {
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
