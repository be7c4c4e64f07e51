/*
 * coins.c — the store's cache of recent unspent outputs (store_int.h,
 * store_coins): what write_block inserted into the utxos table, kept in
 * memory so that the next blocks' spends, most of which take outputs a few
 * blocks old, skip the SQLite read (Bitcoin Core's coins cache, read side
 * only: every row is still written and deleted as before).
 *
 * It holds only copies of rows the table holds: write_block's row writes
 * (insert_utxo, delete_utxo) put each row they insert and drop each row
 * they delete; anything that moves the table another way empties it:
 * store_abort (every rolled-back transaction, which is how a refused block
 * or group is undone), utxo_store_rollback, a reload after another writer.
 * A miss is a SQLite read, so an empty cache is always right. Bounded: at
 * STORE_COINS_MAX entries or STORE_COINS_BYTES of datum copies it empties
 * itself and starts again. Open addressing with linear probing over a
 * keyed hash of the outpoint's table key (SipHash, a random key per store:
 * txids are chosen by whoever makes the transactions, so bucket positions
 * must not be), deletion by backward shift.
 */
#include "config.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "sqlstore/store_int.h"

struct store_coin {
    uint8_t key[STORE_OUTPOINT_KEY_BYTES]; /* the outpoint as the table keys it */
    uint64_t value;
    uint64_t position;
    uint32_t height;
    uint32_t datum_len;
    uint8_t predicate_id[UTXO_HASH_BYTES];
    uint8_t datum[]; /* datum_len bytes */
};

#define SLOTS (2 * STORE_COINS_MAX) /* a power of two: load <= 1/2 */
_Static_assert(sizeof ((store_coins *)0)->key == crypto_shorthash_KEYBYTES,
               "store_coins.key holds one SipHash key");

/* The home slot of an outpoint's table key. */
static size_t slot_of(const store_coins *c, const uint8_t key[STORE_OUTPOINT_KEY_BYTES])
{
    uint8_t h[crypto_shorthash_BYTES];
    uint64_t v = 0;

    crypto_shorthash(h, key, STORE_OUTPOINT_KEY_BYTES, c->key);
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)h[i] << (8 * i);
    return (size_t)(v & (SLOTS - 1));
}

/* The slot holding key, or the empty slot that ends its probe run. */
static size_t find(const store_coins *c, const uint8_t key[STORE_OUTPOINT_KEY_BYTES])
{
    size_t i = slot_of(c, key);

    while (c->slot[i] != NULL && memcmp(c->slot[i]->key, key, STORE_OUTPOINT_KEY_BYTES) != 0)
        i = (i + 1) & (SLOTS - 1);
    return i;
}

int store_coins_init(store_coins *c)
{
    memset(c, 0, sizeof *c);
    crypto_shorthash_keygen(c->key);
    c->slot = calloc(SLOTS, sizeof *c->slot);
    return c->slot != NULL ? UTXO_OK : UTXO_ERR_NOMEM;
}

void store_coins_clear(store_coins *c)
{
    if (c->slot == NULL || c->n == 0)
        return;
    for (size_t i = 0; i < SLOTS; i++) {
        free(c->slot[i]);
        c->slot[i] = NULL;
    }
    c->n = 0;
    c->bytes = 0;
}

void store_coins_free(store_coins *c)
{
    store_coins_clear(c);
    free(c->slot);
    c->slot = NULL;
}

void store_coins_put(store_coins *c, const uint8_t key[STORE_OUTPOINT_KEY_BYTES],
                     const utxo_output *o, uint32_t height, uint64_t position)
{
    store_coin *e;
    size_t i;

    if (c->slot == NULL || o->datum_len > STORE_COINS_BYTES)
        return;
    if (c->n + 1 > STORE_COINS_MAX || c->bytes + o->datum_len > STORE_COINS_BYTES)
        store_coins_clear(c); /* full: start again (a miss only costs a read) */
    if ((e = malloc(sizeof *e + o->datum_len)) == NULL)
        return;
    memcpy(e->key, key, STORE_OUTPOINT_KEY_BYTES);
    e->value = o->value;
    e->position = position;
    e->height = height;
    e->datum_len = o->datum_len;
    memcpy(e->predicate_id, o->predicate_id, UTXO_HASH_BYTES);
    if (o->datum_len > 0)
        memcpy(e->datum, o->datum, o->datum_len);
    i = find(c, e->key);
    if (c->slot[i] != NULL) { /* the table holds one row per outpoint: replaced */
        c->bytes -= c->slot[i]->datum_len;
        free(c->slot[i]);
        c->n--;
    }
    c->slot[i] = e;
    c->n++;
    c->bytes += o->datum_len;
}

const store_coin *store_coins_get(const store_coins *c,
                                  const uint8_t key[STORE_OUTPOINT_KEY_BYTES])
{
    if (c->slot == NULL || c->n == 0)
        return NULL;
    return c->slot[find(c, key)];
}

void store_coins_del(store_coins *c, const uint8_t key[STORE_OUTPOINT_KEY_BYTES])
{
    size_t i, j;

    if (c->slot == NULL || c->n == 0)
        return;
    i = find(c, key);
    if (c->slot[i] == NULL)
        return;
    c->bytes -= c->slot[i]->datum_len;
    free(c->slot[i]);
    c->slot[i] = NULL;
    c->n--;
    /* backward shift: pull later entries of the probe run into the gap
     * when their home slot does not lie cyclically in (i, j] */
    for (j = (i + 1) & (SLOTS - 1); c->slot[j] != NULL; j = (j + 1) & (SLOTS - 1)) {
        size_t home = slot_of(c, c->slot[j]->key);
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            c->slot[i] = c->slot[j];
            c->slot[j] = NULL;
            i = j;
        }
    }
}

const uint8_t *store_coin_read(const store_coin *e, cn_spent *out)
{
    out->output.value = e->value;
    memcpy(out->output.predicate_id, e->predicate_id, UTXO_HASH_BYTES);
    out->output.datum_len = e->datum_len;
    out->output.datum = NULL;
    out->height = e->height;
    out->position = e->position;
    return e->datum;
}

size_t store_coins_check(utxo_store *s)
{
    const store_coins *c = &s->coins;
    size_t bad = 0;

    for (size_t i = 0; c->slot != NULL && i < SLOTS; i++) {
        const store_coin *e = c->slot[i];
        sqlite3_stmt *q = store_stmt(s, ST_UTXO_GET);
        if (e == NULL)
            continue;
        sqlite3_bind_blob(q, 1, e->key, STORE_OUTPOINT_KEY_BYTES, SQLITE_STATIC);
        if (sqlite3_step(q) != SQLITE_ROW ||
            (uint64_t)sqlite3_column_int64(q, 0) != e->value ||
            sqlite3_column_bytes(q, 1) != UTXO_HASH_BYTES ||
            memcmp(sqlite3_column_blob(q, 1), e->predicate_id, UTXO_HASH_BYTES) != 0 ||
            (size_t)sqlite3_column_bytes(q, 2) != e->datum_len ||
            (e->datum_len > 0 && memcmp(sqlite3_column_blob(q, 2), e->datum, e->datum_len) != 0) ||
            (uint32_t)sqlite3_column_int64(q, 3) != e->height ||
            (uint64_t)sqlite3_column_int64(q, 4) != e->position)
            bad++;
        sqlite3_reset(q);
    }
    return bad;
}
