/*
 * nodes.c — the accumulator forest's node storage on SQLite (acc_store_ops
 * of src/witness/acc.h), with a write-back cache.
 *
 * A node (row, idx) is a row of the nodes table keyed row << 56 | idx. Only
 * non-empty nodes have a row: a deleted leaf, and every node of a fully
 * spent subtree, is ACC_EMPTY and is pruned; a node that exists in the
 * forest (idx < count >> row) but has no row reads as ACC_EMPTY. So the
 * table is a function of the forest alone, whatever history led to it (a
 * rolled-back block leaves the same rows as a replay that never saw it).
 *
 * The forest reads and writes each node several times per block (prove,
 * delete, rebuild parents, append); the cache absorbs that: reads fill it,
 * writes mark entries dirty, and store_nodes_flush writes each dirty node
 * once, inside the block's SQL transaction (with the replay pipeline, once
 * per group of blocks, before its COMMIT: the upper rows change in every
 * block, and a group of 16 writes 2.3 times fewer rows). A rolled-back transaction drops
 * the cache (store_nodes_reset), so the cache never holds what the file
 * does not. Clean entries persist across blocks (the upper rows are hot)
 * until the cache passes its size bound, then it is emptied (in place: the
 * table keeps the capacity it grew to).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "sqlstore/store_int.h"

/* After a flush, a cache holding more entries than this is emptied (about
 * 6 MiB of entries; the table itself is at most twice that). */
#define CACHE_KEEP ((size_t)1 << 17)

/* Fibonacci hashing: the top log2(cap) bits of the product, which every
 * bit of the key moves. (Bits 20 and up of it, taken before, never saw the
 * row, in the key's top byte: the nodes (r, i) of every row r fell on one
 * slot, and the clusters made a find probe 2.9 slots past its own on
 * average in `bench replay`, against 1.6 now.) cap is a power of 2. */
static size_t slot_of(uint64_t key, size_t cap)
{
    return (size_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> (64 - __builtin_ctzll(cap)));
}

/* The entry of key, or the free slot where it would go. */
static store_node *find(store_nodes *n, uint64_t key)
{
    size_t i = slot_of(key, n->cap);

    while (n->tab[i].state != 0 && n->tab[i].key != key)
        i = (i + 1) & (n->cap - 1);
    return &n->tab[i];
}

static int resize(store_nodes *n, size_t cap)
{
    store_node *old = n->tab, *t = calloc(cap, sizeof *t);
    size_t old_cap = n->cap;

    if (t == NULL)
        return UTXO_ERR_NOMEM;
    n->tab = t;
    n->cap = cap;
    n->n_grown++;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].state != 0)
            *find(n, old[i].key) = old[i];
    free(old);
    return UTXO_OK;
}

/* A slot for a new key, growing the table past 70% load. */
static store_node *insert_slot(store_nodes *n, uint64_t key, int *rc)
{
    store_node *e;

    if ((n->used + 1) * 10 > n->cap * 7 && (*rc = resize(n, n->cap * 2)) != UTXO_OK)
        return NULL;
    e = find(n, key);
    if (e->state == 0) {
        e->key = key;
        n->used++;
    }
    *rc = UTXO_OK;
    return e;
}

int store_nodes_init(store_nodes *n, utxo_store *s, uint64_t count)
{
    memset(n, 0, sizeof *n);
    n->s = s;
    n->count = count;
    n->tab = calloc(STORE_NODES_MIN, sizeof *n->tab);
    if (n->tab == NULL)
        return UTXO_ERR_NOMEM;
    n->cap = STORE_NODES_MIN;
    n->keep = CACHE_KEEP;
    return UTXO_OK;
}

void store_nodes_free(store_nodes *n)
{
    free(n->tab);
    n->tab = NULL;
    n->cap = n->used = n->dirty = 0;
}

/* Empties the cache in place. The table keeps its capacity: growing it
 * again from the minimum would rehash every entry at each doubling and
 * touch fresh pages (a page fault each, and an munmap of the old table),
 * every time the cache passes its bound; the size it reached is what the
 * next blocks need. */
static void cache_clear(store_nodes *n)
{
    memset(n->tab, 0, n->cap * sizeof *n->tab);
    n->used = n->dirty = 0;
}

void store_nodes_reset(store_nodes *n, uint64_t count)
{
    cache_clear(n);
    n->count = count;
    n->err = UTXO_OK;
}

int store_nodes_flush(store_nodes *n)
{
    utxo_store *s = n->s;
    int rc;

    for (size_t i = 0; n->dirty > 0 && i < n->cap; i++) {
        store_node *e = &n->tab[i];
        sqlite3_stmt *q;
        if (e->state != 2)
            continue;
        if (acc_is_empty(e->h)) {
            q = store_stmt(s, ST_NODE_DEL);
            sqlite3_bind_int64(q, 1, (sqlite3_int64)e->key);
            rc = store_exec_stmt(s, ST_NODE_DEL, "delete forest node");
        } else {
            q = store_stmt(s, ST_NODE_PUT);
            sqlite3_bind_int64(q, 1, (sqlite3_int64)e->key);
            sqlite3_bind_blob(q, 2, e->h, ACC_HASH_BYTES, SQLITE_STATIC);
            rc = store_exec_stmt(s, ST_NODE_PUT, "write forest node");
        }
        if (rc != UTXO_OK)
            return rc;
        e->state = 1;
        n->dirty--;
        n->n_written++;
    }
    if (n->used > n->keep)
        cache_clear(n);
    return UTXO_OK;
}

static int node_get(void *ctx, unsigned row, uint64_t idx, uint8_t out[ACC_HASH_BYTES])
{
    store_nodes *n = ctx;
    uint64_t key;
    store_node *e;
    sqlite3_stmt *q;
    int sc, rc;

    if (row >= 56 || idx >= n->count >> row)
        return UTXO_ERR_INTERNAL;
    key = STORE_NODE_KEY(row, idx);
    e = find(n, key);
    if (e->state != 0) {
        memcpy(out, e->h, ACC_HASH_BYTES);
        return UTXO_OK;
    }
    q = store_stmt(n->s, ST_NODE_GET);
    sqlite3_bind_int64(q, 1, (sqlite3_int64)key);
    sc = sqlite3_step(q);
    if (sc == SQLITE_ROW) {
        if (sqlite3_column_bytes(q, 0) != ACC_HASH_BYTES) {
            sqlite3_reset(q);
            return n->err = store_fail(n->s, UTXO_ERR_STORE_CORRUPT,
                                       "forest node (%u, %llu) is not 32 bytes", row,
                                       (unsigned long long)idx);
        }
        memcpy(out, sqlite3_column_blob(q, 0), ACC_HASH_BYTES);
    } else if (sc == SQLITE_DONE) {
        memcpy(out, ACC_EMPTY, ACC_HASH_BYTES);   /* pruned */
    } else {
        sqlite3_reset(q);
        return n->err = store_sql_fail(n->s, "read forest node");
    }
    sqlite3_reset(q);
    e = insert_slot(n, key, &rc);
    if (e != NULL) {            /* caching is optional: a full cache only costs time */
        memcpy(e->h, out, ACC_HASH_BYTES);
        e->state = 1;
    }
    return UTXO_OK;
}

static int node_put(void *ctx, unsigned row, uint64_t idx, const uint8_t h[ACC_HASH_BYTES])
{
    store_nodes *n = ctx;
    store_node *e;
    int rc;

    if (row >= 56 || idx > n->count >> row)
        return UTXO_ERR_INTERNAL;
    if (row == 0 && idx == n->count) {
        if (n->count + 1 >= STORE_MAX_LEAVES)
            return UTXO_ERR_ACC_FULL;
        n->count++;
    }
    e = insert_slot(n, STORE_NODE_KEY(row, idx), &rc);
    if (e == NULL)
        return n->err = rc;
    memcpy(e->h, h, ACC_HASH_BYTES);
    if (e->state != 2)
        n->dirty++;
    e->state = 2;
    return UTXO_OK;
}

static int node_truncate(void *ctx, uint64_t count)
{
    store_nodes *n = ctx;
    int rc;

    if (count > n->count)
        return UTXO_ERR_INTERNAL;
    rc = store_nodes_flush(n);
    if (rc != UTXO_OK)
        return n->err = rc;
    cache_clear(n);
    for (unsigned row = 0; row < 56; row++) {
        sqlite3_stmt *q = store_stmt(n->s, ST_NODE_TRUNC);
        if (n->count >> row == count >> row)
            continue;
        sqlite3_bind_int64(q, 1, (sqlite3_int64)STORE_NODE_KEY(row, count >> row));
        sqlite3_bind_int64(q, 2, (sqlite3_int64)STORE_NODE_KEY(row + 1, 0));
        rc = store_exec_stmt(n->s, ST_NODE_TRUNC, "truncate forest");
        if (rc != UTXO_OK)
            return n->err = rc;
    }
    n->count = count;
    return UTXO_OK;
}

/* The store owns the node context: the forest must not destroy it. */
const acc_store_ops store_node_ops = {node_get, node_put, node_truncate, NULL};
