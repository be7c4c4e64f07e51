/*
 * undo.c — the undo record the core's effects define, and taking a block
 * back with it (cn_disconnect, the DisconnectBlock of connect.h).
 *
 * Undo record (docs/STORE.md, "Undo record"): varint count; per output the
 * block spent, in block input order: txid, u32 index, varint leaf
 * position, varint creation height, u64 value, predicate id, varint datum
 * length and the datum. It holds every field a leaf hash binds, so the
 * spent leaves can be put back into a forest.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "connect/connect.h"
#include "utxo/codec.h"

/* Largest leaf position an undo record holds (the store's 2^56 limit). */
#define UNDO_MAX_POSITION ((UINT64_C(1) << 56) - 1)

static void undo_encode_to(enc *e, const cn_spent *v, size_t n)
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

int cn_undo_encode(const cn_spent *v, size_t n, uint8_t **out, size_t *len)
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

int cn_undo_decode(const uint8_t *buf, size_t len, cn_spent **out, size_t *n_out)
{
    dec d;
    cn_spent *v = NULL;
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
        v[i].position = dec_varint(&d, UNDO_MAX_POSITION);
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

int cn_disconnect(const utxo_block *b, const cn_spent *v, size_t n, uint64_t count_before,
                  cn_effects *fx)
{
    uint32_t bt, bi;
    size_t nc;
    int rc;

    memset(fx, 0, sizeof *fx);
    if ((rc = bp_layout_build(&fx->L, b, &bt, &bi)) != UTXO_OK)
        return UTXO_ERR_STORE_CORRUPT;
    if (fx->L.n_external != n)
        return UTXO_ERR_STORE_CORRUPT;
    nc = fx->L.n_created;
    fx->n_spent = n;
    fx->n_created = nc;
    fx->count_before = count_before;
    fx->spent = malloc((n ? n : 1) * sizeof *fx->spent);
    fx->spent_hash = malloc((n ? n : 1) * sizeof *fx->spent_hash);
    fx->created = malloc((nc ? nc : 1) * sizeof *fx->created);
    if (fx->spent == NULL || fx->spent_hash == NULL || fx->created == NULL)
        return UTXO_ERR_NOMEM;
    bp_layout_created(&fx->L, b, fx->created);
    for (size_t j = 0; j < nc; j++)
        fx->created_value += fx->created[j].output->value;
    for (size_t i = 0; i < n; i++) {
        fx->spent[i] = v[i];
        fx->spent_value += v[i].output.value;
        acc_leaf_hash(fx->spent_hash[i], &v[i].outpoint, &v[i].output, v[i].height,
                      v[i].position);
    }
    return UTXO_OK;
}
