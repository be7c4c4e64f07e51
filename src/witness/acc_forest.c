/*
 * acc_forest.c — the full accumulator forest a bridge node keeps: every
 * node's value, so it can prove any live leaf, delete with the same rule
 * the stateless side applies, and undo a block for a reorg.
 *
 * Nodes live behind acc_store_ops (get/put by row and index, truncate to a
 * leaf count); the in-memory store here keeps one growable array per row
 * (about 64 bytes per leaf in all). The SQLite store will implement the same
 * four functions. Updates after deletions go row by row over the sorted,
 * deduplicated set of touched parents, so a batch rehashes each shared
 * ancestor once.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "witness/acc.h"

struct acc_forest {
    uint64_t count;
    const acc_store_ops *ops;
    void *ctx;
};

/* ---- the in-memory store ------------------------------------------------ */

typedef struct mem_row {
    acc_hash *h;
    uint64_t len, cap;
} mem_row;

typedef struct mem_store {
    mem_row rows[ACC_MAX_ROOTS];
} mem_store;

static int mem_get(void *ctx, unsigned row, uint64_t idx, uint8_t out[ACC_HASH_BYTES])
{
    mem_store *m = ctx;

    if (row >= ACC_MAX_ROOTS || idx >= m->rows[row].len)
        return UTXO_ERR_INTERNAL;
    memcpy(out, m->rows[row].h[idx], ACC_HASH_BYTES);
    return UTXO_OK;
}

static int mem_put(void *ctx, unsigned row, uint64_t idx, const uint8_t h[ACC_HASH_BYTES])
{
    mem_store *m = ctx;
    mem_row *r;

    if (row >= ACC_MAX_ROOTS)
        return UTXO_ERR_INTERNAL;
    r = &m->rows[row];
    if (idx > r->len)
        return UTXO_ERR_INTERNAL;
    if (idx == r->len) {
        if (r->len == r->cap) {
            uint64_t cap = r->cap ? r->cap * 2 : 64;
            acc_hash *p;
            if (cap > SIZE_MAX / sizeof *p)
                return UTXO_ERR_NOMEM;
            p = realloc(r->h, (size_t)cap * sizeof *p);
            if (p == NULL)
                return UTXO_ERR_NOMEM;
            r->h = p;
            r->cap = cap;
        }
        r->len++;
    }
    memcpy(r->h[idx], h, ACC_HASH_BYTES);
    return UTXO_OK;
}

static int mem_truncate(void *ctx, uint64_t count)
{
    mem_store *m = ctx;

    for (unsigned row = 0; row < ACC_MAX_ROOTS; row++)
        if (m->rows[row].len > count >> row)
            m->rows[row].len = count >> row;
    return UTXO_OK;
}

static void mem_destroy(void *ctx)
{
    mem_store *m = ctx;

    if (m == NULL)
        return;
    for (unsigned row = 0; row < ACC_MAX_ROOTS; row++)
        free(m->rows[row].h);
    free(m);
}

static const acc_store_ops mem_ops = {mem_get, mem_put, mem_truncate, mem_destroy};

/* ---- forest ------------------------------------------------------------- */

int acc_forest_new_with_store(acc_forest **out, const acc_store_ops *ops, void *ctx,
                              uint64_t count)
{
    acc_forest *f;

    if (out)
        *out = NULL;
    if (out == NULL || ops == NULL || ops->get == NULL || ops->put == NULL ||
        ops->truncate == NULL)
        return UTXO_ERR_ARG;
    f = calloc(1, sizeof *f);
    if (f == NULL)
        return UTXO_ERR_NOMEM;
    f->count = count;
    f->ops = ops;
    f->ctx = ctx;
    *out = f;
    return UTXO_OK;
}

int acc_forest_new(acc_forest **out)
{
    mem_store *m;
    int rc;

    if (out)
        *out = NULL;
    if (out == NULL)
        return UTXO_ERR_ARG;
    m = calloc(1, sizeof *m);
    if (m == NULL)
        return UTXO_ERR_NOMEM;
    rc = acc_forest_new_with_store(out, &mem_ops, m, 0);
    if (rc != UTXO_OK)
        mem_destroy(m);
    return rc;
}

void acc_forest_free(acc_forest *f)
{
    if (f == NULL)
        return;
    if (f->ops->destroy)
        f->ops->destroy(f->ctx);
    free(f);
}

uint64_t acc_forest_count(const acc_forest *f)
{
    return f ? f->count : 0;
}

int acc_forest_state(const acc_forest *f, acc_state *out)
{
    acc_state st;
    int rc;

    if (f == NULL || out == NULL)
        return UTXO_ERR_ARG;
    acc_state_init(&st);
    st.count = f->count;
    for (unsigned r = 0; r < ACC_MAX_ROOTS; r++) {
        if (!(f->count >> r & 1))
            continue;
        rc = f->ops->get(f->ctx, r, (f->count >> r) - 1, st.roots[r]);
        if (rc != UTXO_OK)
            return rc;
    }
    *out = st;
    return UTXO_OK;
}

int acc_forest_leaf(const acc_forest *f, uint64_t pos, uint8_t out[ACC_HASH_BYTES])
{
    if (f == NULL || out == NULL)
        return UTXO_ERR_ARG;
    if (pos >= f->count)
        return UTXO_ERR_ACC_POSITION;
    return f->ops->get(f->ctx, 0, pos, out);
}

int acc_forest_add(acc_forest *f, const uint8_t leaf[ACC_HASH_BYTES])
{
    acc_hash l, r, up;
    uint64_t idx;
    unsigned row = 0;
    int rc;

    if (f == NULL || leaf == NULL || acc_is_empty(leaf))
        return UTXO_ERR_ARG;
    if (f->count == UINT64_MAX)
        return UTXO_ERR_ACC_FULL;
    idx = f->count;
    rc = f->ops->put(f->ctx, 0, idx, leaf);
    if (rc != UTXO_OK)
        return rc;
    /* A right child completes its parent: build upwards while it does. */
    memcpy(up, leaf, ACC_HASH_BYTES);
    while (idx & 1) {
        memcpy(r, up, ACC_HASH_BYTES);
        rc = f->ops->get(f->ctx, row, idx - 1, l);
        if (rc != UTXO_OK)
            return rc;
        acc_parent(up, l, r);
        idx >>= 1;
        row++;
        rc = f->ops->put(f->ctx, row, idx, up);
        if (rc != UTXO_OK)
            return rc;
    }
    f->count++;
    return UTXO_OK;
}

/* Targets sorted, unique, below count, and each leaf live (or, when
 * want_live is false, each leaf empty). */
static int check_leaves(const acc_forest *f, const uint64_t *targets, size_t n, bool want_live)
{
    acc_hash h;
    int rc;

    for (size_t i = 0; i < n; i++) {
        if (targets[i] >= f->count || (i > 0 && targets[i] <= targets[i - 1]))
            return UTXO_ERR_ACC_POSITION;
        rc = f->ops->get(f->ctx, 0, targets[i], h);
        if (rc != UTXO_OK)
            return rc;
        if (acc_is_empty(h) == want_live)
            return want_live ? UTXO_ERR_ACC_SPENT : UTXO_ERR_ARG;
    }
    return UTXO_OK;
}

int acc_forest_prove(const acc_forest *f, const uint64_t *targets, size_t n, acc_proof *p)
{
    acc_proof q;
    acc_pos *pos = NULL;
    size_t n_pos = 0, k = 0;
    acc_hash h;
    int rc;

    if (f == NULL || p == NULL || (targets == NULL && n > 0))
        return UTXO_ERR_ARG;
    acc_proof_init(&q);
    rc = check_leaves(f, targets, n, true);
    if (rc == UTXO_OK)
        rc = acc_proof_positions(f->count, targets, n, &pos, &n_pos);
    if (rc != UTXO_OK)
        goto done;
    rc = UTXO_ERR_NOMEM;
    q.n_targets = n;
    q.n_slots = n_pos;
    if ((n > 0 && (q.targets = malloc(n * sizeof *q.targets)) == NULL) ||
        (n_pos > 0 && (q.empty = calloc((n_pos + 7) / 8, 1)) == NULL) ||
        (n_pos > 0 && (q.hashes = malloc(n_pos * sizeof *q.hashes)) == NULL))
        goto done;
    if (n > 0)
        memcpy(q.targets, targets, n * sizeof *q.targets);
    for (size_t j = 0; j < n_pos; j++) {
        rc = f->ops->get(f->ctx, pos[j].row, pos[j].idx, h);
        if (rc != UTXO_OK)
            goto done;
        if (acc_is_empty(h))
            q.empty[j >> 3] |= (uint8_t)(1u << (j & 7));
        else
            memcpy(q.hashes[k++], h, ACC_HASH_BYTES);
    }
    q.n_hashes = k;
    *p = q;
    acc_proof_init(&q);
    rc = UTXO_OK;
done:
    free(pos);
    acc_proof_clear(&q);
    return rc;
}

/*
 * Writes the given leaf values at targets (sorted) and recomputes every
 * ancestor up to the roots, each once.
 */
static int set_leaves(acc_forest *f, const uint64_t *targets, const acc_hash *vals, size_t n)
{
    uint64_t *idx = NULL;
    acc_hash l, r, up;
    int rc = UTXO_OK;

    if (n == 0)
        return UTXO_OK;
    idx = malloc(n * sizeof *idx);
    if (idx == NULL)
        return UTXO_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        rc = f->ops->put(f->ctx, 0, targets[i], vals ? vals[i] : ACC_EMPTY);
        if (rc != UTXO_OK)
            goto done;
        idx[i] = targets[i];
    }
    for (unsigned row = 0; n > 0 && row < ACC_MAX_ROOTS; row++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t x = idx[i];
            if (acc_is_root(row, x, f->count))
                continue;
            if (m > 0 && idx[m - 1] == x >> 1)
                continue;   /* its sibling already rebuilt the parent */
            if ((rc = f->ops->get(f->ctx, row, x & ~(uint64_t)1, l)) != UTXO_OK ||
                (rc = f->ops->get(f->ctx, row, x | 1, r)) != UTXO_OK)
                goto done;
            acc_parent(up, l, r);
            if ((rc = f->ops->put(f->ctx, row + 1, x >> 1, up)) != UTXO_OK)
                goto done;
            idx[m++] = x >> 1;
        }
        n = m;
    }
done:
    free(idx);
    return rc;
}

int acc_forest_delete(acc_forest *f, const uint64_t *targets, size_t n, acc_hash *undo)
{
    int rc;

    if (f == NULL || (targets == NULL && n > 0))
        return UTXO_ERR_ARG;
    rc = check_leaves(f, targets, n, true);
    for (size_t i = 0; rc == UTXO_OK && undo != NULL && i < n; i++)
        rc = f->ops->get(f->ctx, 0, targets[i], undo[i]);
    if (rc == UTXO_OK)
        rc = set_leaves(f, targets, NULL, n);
    return rc;
}

int acc_forest_apply_block(acc_forest *f, const uint64_t *targets, size_t n, const acc_hash *adds,
                           size_t n_adds, acc_proof *proof, acc_hash *undo)
{
    acc_proof q;
    int rc;

    if (f == NULL || proof == NULL || (targets == NULL && n > 0) || (adds == NULL && n_adds > 0))
        return UTXO_ERR_ARG;
    if (n_adds > UINT64_MAX - f->count)
        return UTXO_ERR_ACC_FULL;
    for (size_t j = 0; j < n_adds; j++)
        if (acc_is_empty(adds[j]))
            return UTXO_ERR_ARG;
    acc_proof_init(&q);
    rc = acc_forest_prove(f, targets, n, &q);   /* checks positions and liveness */
    if (rc == UTXO_OK)
        rc = acc_forest_delete(f, targets, n, undo);
    for (size_t j = 0; rc == UTXO_OK && j < n_adds; j++)
        rc = acc_forest_add(f, adds[j]);
    if (rc == UTXO_OK) {
        *proof = q;
        acc_proof_init(&q);
    }
    acc_proof_clear(&q);
    return rc;
}

int acc_forest_undo(acc_forest *f, uint64_t old_count, const uint64_t *targets,
                    const acc_hash *leaves, size_t n)
{
    uint64_t saved;
    int rc;

    if (f == NULL || (n > 0 && (targets == NULL || leaves == NULL)) || old_count > f->count)
        return UTXO_ERR_ARG;
    for (size_t i = 0; i < n; i++)
        if (acc_is_empty(leaves[i]))
            return UTXO_ERR_ARG;
    /* the restored leaves must be below old_count and currently deleted */
    saved = f->count;
    f->count = old_count;
    rc = check_leaves(f, targets, n, false);
    f->count = saved;
    if (rc != UTXO_OK)
        return rc;
    rc = f->ops->truncate(f->ctx, old_count);
    if (rc != UTXO_OK)
        return rc;
    f->count = old_count;
    return set_leaves(f, targets, leaves, n);
}
