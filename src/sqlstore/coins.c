/*
 * coins.c — the store's cache of recent unspent outputs (store_int.h,
 * store_coins): the rows write_block inserts into the utxos table, kept in
 * memory so that the next blocks' spends, most of which take outputs a few
 * blocks old, skip the SQLite read; and with the replay pipeline, a
 * write-back cache (Bitcoin Core's coins cache): a row the open group
 * inserts is kept here as pending and written only when the group ends
 * (store_coins_settle, before its COMMIT), so an output created and spent
 * within one group never touches the table. The rows a COMMIT leaves are
 * the same either way.
 *
 * It holds only rows of the table, or of the open transaction's pending
 * inserts: write_block's row writes (insert_utxo, delete_utxo) put each row
 * they insert and drop each row they delete; anything that moves the table
 * another way empties it: store_abort (every rolled-back transaction,
 * which is how a refused block or group is undone, and which drops the
 * pending rows with the rest of it), utxo_store_rollback (after its flush),
 * a reload after another writer. A miss is a SQLite read, so an empty
 * cache is always right. Bounded: at STORE_COINS_MAX entries or
 * STORE_COINS_BYTES of datum copies it empties itself and starts again,
 * once its pending rows are written. Open addressing with linear probing
 * over a keyed hash of the outpoint's table key (SipHash, a random key per
 * store: txids are chosen by whoever makes the transactions, so bucket
 * positions must not be), deletion by backward shift.
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
    bool pending;     /* not in the table yet: the open group inserted it */
    uint32_t pend_at; /* when pending, its place in store_coins.pend */
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
    c->n_pending = 0;
}

/* The pending entries are also listed in c->pend[0 .. n_pending), so that
 * a settle need not scan every slot. */
static void drop_pending(store_coins *c, store_coin *e)
{
    store_coin *last = c->pend[--c->n_pending];

    c->pend[e->pend_at] = last;
    last->pend_at = e->pend_at;
    e->pending = false;
}

void store_coins_free(store_coins *c)
{
    store_coins_clear(c);
    free(c->slot);
    free(c->pend);
    c->slot = NULL;
    c->pend = NULL;
}

bool store_coins_put(store_coins *c, const uint8_t key[STORE_OUTPOINT_KEY_BYTES],
                     const utxo_output *o, uint32_t height, uint64_t position, bool pending)
{
    store_coin *e;
    size_t i;

    if (c->slot == NULL || o->datum_len > STORE_COINS_BYTES)
        return false;
    if (c->n + 1 > STORE_COINS_MAX || c->bytes + o->datum_len > STORE_COINS_BYTES) {
        if (c->n_pending > 0)
            return false; /* pending rows cannot be dropped: the caller settles */
        store_coins_clear(c); /* full: start again (a miss only costs a read) */
    }
    if (pending && c->n_pending == c->pend_cap) {
        size_t cap = c->pend_cap ? 2 * c->pend_cap : 1024;
        store_coin **p = realloc(c->pend, cap * sizeof *p);
        if (p == NULL)
            return false;
        c->pend = p;
        c->pend_cap = cap;
    }
    if ((e = malloc(sizeof *e + o->datum_len)) == NULL)
        return false;
    memcpy(e->key, key, STORE_OUTPOINT_KEY_BYTES);
    e->value = o->value;
    e->position = position;
    e->height = height;
    e->datum_len = o->datum_len;
    e->pending = false;
    memcpy(e->predicate_id, o->predicate_id, UTXO_HASH_BYTES);
    if (o->datum_len > 0)
        memcpy(e->datum, o->datum, o->datum_len);
    i = find(c, e->key);
    if (c->slot[i] != NULL) { /* the table holds one row per outpoint: replaced */
        c->bytes -= c->slot[i]->datum_len;
        if (c->slot[i]->pending)
            drop_pending(c, c->slot[i]);
        free(c->slot[i]);
        c->n--;
    }
    c->slot[i] = e;
    c->n++;
    c->bytes += o->datum_len;
    if (pending) { /* room made above */
        e->pending = true;
        e->pend_at = (uint32_t)c->n_pending;
        c->pend[c->n_pending++] = e;
    }
    return true;
}

const store_coin *store_coins_get(const store_coins *c,
                                  const uint8_t key[STORE_OUTPOINT_KEY_BYTES])
{
    if (c->slot == NULL || c->n == 0)
        return NULL;
    return c->slot[find(c, key)];
}

bool store_coins_del(store_coins *c, const uint8_t key[STORE_OUTPOINT_KEY_BYTES])
{
    size_t i, j;
    bool pending;

    if (c->slot == NULL || c->n == 0)
        return false;
    i = find(c, key);
    if (c->slot[i] == NULL)
        return false;
    pending = c->slot[i]->pending;
    if (pending) { /* spent before it was written: it never will be */
        drop_pending(c, c->slot[i]);
        c->rows_skipped++;
    }
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
    return pending;
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

static int key_cmp(const void *a, const void *b)
{
    return memcmp((*(store_coin *const *)a)->key, (*(store_coin *const *)b)->key,
                  STORE_OUTPOINT_KEY_BYTES);
}

int store_coins_settle(utxo_store *s)
{
    store_coins *c = &s->coins;
    size_t k, n = c->n_pending;
    int rc = UTXO_OK;

    if (n == 0)
        return UTXO_OK;
    /* the table's order: neighbours share pages */
    qsort(c->pend, n, sizeof *c->pend, key_cmp);
    for (k = 0; k < n && rc == UTXO_OK; k++) {
        store_coin *e = c->pend[k];
        cn_spent row;
        const uint8_t *datum = store_coin_read(e, &row);
        row.output.datum = row.output.datum_len > 0 ? (uint8_t *)datum : NULL;
        rc = store_utxo_insert(s, e->key, &row.output, row.height, row.position, "insert utxo");
        if (rc == UTXO_OK)
            e->pending = false;
    }
    if (rc != UTXO_OK)
        k--; /* c->pend[k] was not written */
    /* what was not written stays pending, listed from the start */
    c->n_pending = 0;
    for (; k < n; k++) {
        c->pend[k]->pend_at = (uint32_t)c->n_pending;
        c->pend[c->n_pending++] = c->pend[k];
    }
    return rc;
}

int store_coins_settle_for_read(utxo_store *s)
{
    int rc;

    if (s->coins.n_pending == 0)
        return UTXO_OK;
    if ((rc = store_coins_settle(s)) != UTXO_OK)
        return store_group_lost(s, rc, s->group_first, s->pending, s->msg);
    return UTXO_OK;
}

size_t store_coins_check(utxo_store *s)
{
    const store_coins *c = &s->coins;
    size_t bad = 0, pending = 0;

    for (size_t i = 0; c->slot != NULL && i < SLOTS; i++) {
        const store_coin *e = c->slot[i];
        sqlite3_stmt *q = store_stmt(s, ST_UTXO_GET);
        int sc;
        if (e == NULL)
            continue;
        sqlite3_bind_blob(q, 1, e->key, STORE_OUTPOINT_KEY_BYTES, SQLITE_STATIC);
        sc = sqlite3_step(q);
        if (e->pending) {
            pending++;
            bad += sc != SQLITE_DONE; /* written already, or an error */
        } else if (sc != SQLITE_ROW ||
                   (uint64_t)sqlite3_column_int64(q, 0) != e->value ||
                   sqlite3_column_bytes(q, 1) != UTXO_HASH_BYTES ||
                   memcmp(sqlite3_column_blob(q, 1), e->predicate_id, UTXO_HASH_BYTES) != 0 ||
                   (size_t)sqlite3_column_bytes(q, 2) != e->datum_len ||
                   (e->datum_len > 0 &&
                    memcmp(sqlite3_column_blob(q, 2), e->datum, e->datum_len) != 0) ||
                   (uint32_t)sqlite3_column_int64(q, 3) != e->height ||
                   (uint64_t)sqlite3_column_int64(q, 4) != e->position) {
            bad++;
        }
        sqlite3_reset(q);
    }
    return bad + (pending != c->n_pending);
}
