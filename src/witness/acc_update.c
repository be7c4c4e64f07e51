/*
 * acc_update.c — keeping a wallet's proof fresh across a block from what a
 * stateless node sees (the pre-block state, the block's batch proof with its
 * leaf hashes, and the block's new leaves), so a light wallet never asks a
 * bridge node for a new proof of a coin it already holds.
 *
 * After a block, every node value a proof could need is one of:
 *   1. a node on the block proof's walk: its value after the deletions;
 *   2. a pre-block root: its value after the deletions;
 *   3. a node the block's appends built or merged (left and right children
 *      of every merge, and the new leaves): computed by replaying the adds;
 *   4. a node the wallet's own proof walk knew or received: unchanged, since
 *      it covers no deleted leaf (else it would be in 1) and was complete
 *      before the block (so appends cannot change it).
 * The new proof's slots are the walk's addresses for the new leaf count,
 * each looked up in that table (first match in the order above). The result
 * is verified against the post-block state before it is returned.
 *
 * 1 holds only for a block proof in the forest's own shape. Proofs over
 * deleted leaves are not unique (docs/ACCUMULATOR.md): another shape
 * verifies and gives the same roots, but its walk's nodes are not the
 * forest's. Where the block's walk and the wallet's meet, their values
 * before the block then differ, and the update is refused
 * (UTXO_ERR_ACC_PROOF) rather than built from them.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "witness/acc.h"

typedef struct kv {
    uint8_t row;
    uint8_t prio;   /* lower wins: the order of the list above */
    uint64_t idx;
    acc_hash val;
} kv;

typedef struct kv_list {
    kv *v;
    size_t n, cap;
} kv_list;

static int kv_push(kv_list *l, unsigned row, uint64_t idx, unsigned prio, const uint8_t *val)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        kv *v;
        if (cap > SIZE_MAX / sizeof *v)
            return UTXO_ERR_NOMEM;
        v = realloc(l->v, cap * sizeof *v);
        if (v == NULL)
            return UTXO_ERR_NOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n].row = (uint8_t)row;
    l->v[l->n].prio = (uint8_t)prio;
    l->v[l->n].idx = idx;
    memcpy(l->v[l->n].val, val, ACC_HASH_BYTES);
    l->n++;
    return UTXO_OK;
}

static int kv_cmp(const void *a, const void *b)
{
    const kv *x = a, *y = b;

    if (x->row != y->row)
        return x->row < y->row ? -1 : 1;
    if (x->idx != y->idx)
        return x->idx < y->idx ? -1 : 1;
    return (x->prio > y->prio) - (x->prio < y->prio);
}

/* The first (lowest prio) entry for (row, idx), or NULL. */
static const kv *kv_find(const kv_list *l, unsigned row, uint64_t idx)
{
    size_t lo = 0, hi = l->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const kv *m = &l->v[mid];
        if (m->row < row || (m->row == row && m->idx < idx))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < l->n && l->v[lo].row == row && l->v[lo].idx == idx)
        return &l->v[lo];
    return NULL;
}

/* Replays the appends on *st (post-deletion), recording the table's third
 * kind of entry. */
static int replay_adds(acc_state *st, const acc_hash *adds, size_t n_adds, kv_list *t)
{
    int rc;

    for (size_t j = 0; j < n_adds; j++) {
        uint64_t c = st->count;
        acc_hash carry;
        unsigned r = 0;

        if (acc_is_empty(adds[j]))
            return UTXO_ERR_ARG;
        if (c == UINT64_MAX)
            return UTXO_ERR_ACC_FULL;
        if ((rc = kv_push(t, 0, c, 2, adds[j])) != UTXO_OK)
            return rc;
        memcpy(carry, adds[j], ACC_HASH_BYTES);
        while (c >> r & 1) {
            if ((rc = kv_push(t, r, (c >> r) - 1, 2, st->roots[r])) != UTXO_OK ||
                (rc = kv_push(t, r, c >> r, 2, carry)) != UTXO_OK)
                return rc;
            acc_parent(carry, st->roots[r], carry);
            memset(st->roots[r], 0, ACC_HASH_BYTES);
            r++;
        }
        memcpy(st->roots[r], carry, ACC_HASH_BYTES);
        st->count++;
    }
    return UTXO_OK;
}

int acc_proof_update(acc_proof *out, acc_hash *out_leaves, const acc_proof *mine,
                     const acc_hash *mine_leaves, size_t n_mine, const acc_state *pre,
                     const acc_proof *block, const acc_hash *block_leaves, size_t n_block,
                     const acc_hash *adds, size_t n_adds, const uint64_t *watch, size_t n_watch)
{
    acc_rec_list r0 = {0}, r1 = {0};
    kv_list t = {0}, t1 = {0};
    acc_state post;
    acc_proof q;
    acc_pos *pos = NULL;
    acc_hash roots[ACC_MAX_ROOTS];
    size_t n_pos = 0, nt = 0, i = 0, k = 0, hk = 0;
    int rc;

    acc_proof_init(&q);
    if (out == NULL || out_leaves == NULL || mine == NULL || pre == NULL || block == NULL ||
        (adds == NULL && n_adds > 0) || (watch == NULL && n_watch > 0) ||
        n_mine != mine->n_targets)
        return UTXO_ERR_ARG;
    for (size_t w = 0; w < n_watch; w++)
        if (watch[w] < pre->count || watch[w] - pre->count >= n_adds ||
            (w > 0 && watch[w] <= watch[w - 1]))
            return UTXO_ERR_ACC_POSITION;
    /* 1 and 2: the block's walk, after deletions */
    rc = acc_walk_record(pre, block, block_leaves, n_block, roots, &r1);
    if (rc != UTXO_OK)
        goto done;
    for (size_t j = 0; j < r1.n; j++)
        if ((rc = kv_push(&t, r1.v[j].row, r1.v[j].idx, 0, r1.v[j].now)) != UTXO_OK)
            goto done;
    for (unsigned r = 0; r < ACC_MAX_ROOTS; r++)
        if ((pre->count >> r & 1) &&
            (rc = kv_push(&t, r, (pre->count >> r) - 1, 1, roots[r])) != UTXO_OK)
            goto done;
    /* 3: the appends */
    post = *pre;
    memcpy(post.roots, roots, sizeof roots);
    if ((rc = replay_adds(&post, adds, n_adds, &t)) != UTXO_OK)
        goto done;
    /* 4: the wallet's own walk, before the block (it must verify) */
    rc = acc_walk_record(pre, mine, mine_leaves, n_mine, roots, &r0);
    if (rc != UTXO_OK)
        goto done;
    /* where the two walks meet they must agree on the node before the
     * block. Batch proofs over deleted leaves are not unique: an empty
     * sibling may stand a row higher or lower and give the same roots, so
     * a block proof shaped otherwise than the forest's verifies, but its
     * walk's nodes are then not the forest's and cannot carry this proof */
    for (size_t j = 0; j < r1.n; j++)
        if ((rc = kv_push(&t1, r1.v[j].row, r1.v[j].idx, 0, r1.v[j].old)) != UTXO_OK)
            goto done;
    if (t1.n > 1)
        qsort(t1.v, t1.n, sizeof *t1.v, kv_cmp);
    for (size_t j = 0; j < r0.n; j++) {
        const kv *e = kv_find(&t1, r0.v[j].row, r0.v[j].idx);
        if (e != NULL && memcmp(e->val, r0.v[j].old, ACC_HASH_BYTES) != 0) {
            rc = UTXO_ERR_ACC_PROOF;
            goto done;
        }
    }
    for (size_t j = 0; j < r0.n; j++)
        if ((rc = kv_push(&t, r0.v[j].row, r0.v[j].idx, 3, r0.v[j].old)) != UTXO_OK)
            goto done;
    if (t.n > 1)
        qsort(t.v, t.n, sizeof *t.v, kv_cmp);

    /* targets: mine minus the block's (both sorted), then the watched */
    rc = UTXO_ERR_NOMEM;
    if (n_mine + n_watch > 0 &&
        (q.targets = malloc((n_mine + n_watch) * sizeof *q.targets)) == NULL)
        goto done;
    for (size_t j = 0; j < n_mine; j++) {
        uint64_t x = mine->targets[j];
        while (i < block->n_targets && block->targets[i] < x)
            i++;
        if (i < block->n_targets && block->targets[i] == x)
            continue;   /* spent by this block: leaves the proof */
        q.targets[nt] = x;
        memmove(out_leaves[nt], mine_leaves[j], ACC_HASH_BYTES);
        nt++;
    }
    for (size_t w = 0; w < n_watch; w++) {
        q.targets[nt] = watch[w];
        memcpy(out_leaves[nt], adds[watch[w] - pre->count], ACC_HASH_BYTES);
        nt++;
    }
    q.n_targets = nt;
    rc = acc_proof_positions(post.count, q.targets, nt, &pos, &n_pos);
    if (rc != UTXO_OK)
        goto done;
    rc = UTXO_ERR_NOMEM;
    q.n_slots = n_pos;
    if (n_pos > 0 && ((q.empty = calloc((n_pos + 7) / 8, 1)) == NULL ||
                      (q.hashes = malloc(n_pos * sizeof *q.hashes)) == NULL))
        goto done;
    for (k = 0; k < n_pos; k++) {
        const kv *e = kv_find(&t, pos[k].row, pos[k].idx);
        if (e == NULL) {
            rc = UTXO_ERR_INTERNAL;
            goto done;
        }
        if (acc_is_empty(e->val))
            q.empty[k >> 3] |= (uint8_t)(1u << (k & 7));
        else
            memcpy(q.hashes[hk++], e->val, ACC_HASH_BYTES);
    }
    q.n_hashes = hk;
    rc = acc_stateless_verify(&post, &q, out_leaves, nt);
    if (rc != UTXO_OK) {
        rc = UTXO_ERR_INTERNAL;
        goto done;
    }
    acc_proof_clear(out);
    *out = q;
    acc_proof_init(&q);
done:
    acc_proof_clear(&q);
    free(pos);
    free(t.v);
    free(t1.v);
    free(r0.v);
    free(r1.v);
    return rc;
}
