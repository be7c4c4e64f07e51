/*
 * acc_stateless.c — verify a batch proof against the roots alone and apply
 * its deletions: what a validator that holds only an acc_state does for
 * every block (acc.h, docs/ACCUMULATOR.md "Verification").
 *
 * One walk (the same as acc_proof.c's) carries two values up for every
 * known node: its value before the block (from the leaf hashes and the
 * proof's siblings) and after the deletions (the targets are empty). Where
 * the walk reaches a root, the old value must equal the held root and the
 * new value replaces it. A sibling taken from the proof covers no target,
 * so the deletions leave it unchanged and both walks may share it.
 *
 * Why a proof that verifies cannot lie (and why two proofs may both
 * verify): with parent(empty, x) = x, a node's value is the hash of its
 * subtree with empty leaves removed and single children collapsed. A proof
 * that reproduces a root thus describes the same collapsed tree (else
 * BLAKE2b collides) and the leaf hash, which binds its position, is in it.
 * Deleting a leaf from a collapsed tree gives the same result however the
 * proof shaped the tree above it, so the new roots are right. A prover may
 * however mark an empty slot one row higher or lower where the path turns
 * the same way, so proof bytes are not unique: do not use them as an id.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "witness/acc.h"

typedef struct walk_node {
    uint64_t idx;
    acc_hash old;
    acc_hash now;
} walk_node;

/* Appends one record; UTXO_ERR_NOMEM when it cannot grow. */
static int rec_push(acc_rec_list *r, unsigned row, uint64_t idx, const uint8_t *old,
                    const uint8_t *now)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        acc_rec *v;
        if (cap > SIZE_MAX / sizeof *v)
            return UTXO_ERR_NOMEM;
        v = realloc(r->v, cap * sizeof *v);
        if (v == NULL)
            return UTXO_ERR_NOMEM;
        r->v = v;
        r->cap = cap;
    }
    r->v[r->n].row = (uint8_t)row;
    r->v[r->n].idx = idx;
    memcpy(r->v[r->n].old, old, ACC_HASH_BYTES);
    memcpy(r->v[r->n].now, now, ACC_HASH_BYTES);
    r->n++;
    return UTXO_OK;
}

/*
 * Verifies proof+leaves against st and writes the post-deletion roots to
 * roots_out (all 64 slots). *n_hashes receives the hashes computed. When rec
 * is not NULL, every node the walk knows or receives is appended to it.
 */
static int verify_walk(const acc_state *st, const acc_proof *p, const acc_hash *leaves,
                       size_t n_leaves, acc_hash roots_out[ACC_MAX_ROOTS], uint64_t *n_hashes,
                       acc_rec_list *rec)
{
    const uint64_t count = st->count;
    walk_node *nodes = NULL;
    size_t n = p->n_targets, slot = 0, hk = 0, empties = 0, expected = 0;
    uint64_t hashes = 0;
    int rc = UTXO_OK;

    *n_hashes = 0;
    if (n_leaves != p->n_targets || (n > 0 && (p->targets == NULL || leaves == NULL)) ||
        (p->n_slots > 0 && p->empty == NULL) || (p->n_hashes > 0 && p->hashes == NULL))
        return UTXO_ERR_ARG;
    for (size_t j = 0; j < p->n_slots; j++)
        empties += acc_proof_slot_empty(p, j);
    if (p->n_hashes != p->n_slots - empties)
        return UTXO_ERR_ACC_SIBLINGS;
    /* the slot count first (an integer walk), so that a missing or extra
     * sibling is reported as such rather than as a root mismatch */
    rc = acc_proof_positions(count, p->targets, n, NULL, &expected);
    if (rc != UTXO_OK)
        return rc;
    if (expected != p->n_slots)
        return UTXO_ERR_ACC_SIBLINGS;
    memcpy(roots_out, st->roots, sizeof st->roots);
    if (n == 0)
        return UTXO_OK;
    nodes = malloc(n * sizeof *nodes);
    if (nodes == NULL)
        return UTXO_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        if (acc_is_empty(leaves[i])) {
            rc = UTXO_ERR_ARG;
            goto done;
        }
        nodes[i].idx = p->targets[i];
        memcpy(nodes[i].old, leaves[i], ACC_HASH_BYTES);
        memset(nodes[i].now, 0, ACC_HASH_BYTES);
    }
    for (unsigned row = 0; n > 0 && row < ACC_MAX_ROOTS; row++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            walk_node up;
            const walk_node *x = &nodes[i];

            if (rec && (rc = rec_push(rec, row, x->idx, x->old, x->now)) != UTXO_OK)
                goto done;
            if (acc_is_root(row, x->idx, count)) {
                if (memcmp(x->old, st->roots[row], ACC_HASH_BYTES) != 0) {
                    rc = UTXO_ERR_ACC_PROOF;
                    goto done;
                }
                memcpy(roots_out[row], x->now, ACC_HASH_BYTES);
                continue;
            }
            if ((x->idx & 1) == 0 && i + 1 < n && nodes[i + 1].idx == (x->idx | 1)) {
                const walk_node *y = &nodes[++i];
                if (rec && (rc = rec_push(rec, row, y->idx, y->old, y->now)) != UTXO_OK)
                    goto done;
                hashes += (uint64_t)acc_parent(up.old, x->old, y->old);
                hashes += (uint64_t)acc_parent(up.now, x->now, y->now);
            } else {
                const uint8_t *sib;
                if (slot >= p->n_slots) {
                    rc = UTXO_ERR_ACC_SIBLINGS;
                    goto done;
                }
                sib = acc_proof_slot_empty(p, slot) ? ACC_EMPTY : p->hashes[hk++];
                slot++;
                if (rec && (rc = rec_push(rec, row, x->idx ^ 1, sib, sib)) != UTXO_OK)
                    goto done;
                if (x->idx & 1) {
                    hashes += (uint64_t)acc_parent(up.old, sib, x->old);
                    hashes += (uint64_t)acc_parent(up.now, sib, x->now);
                } else {
                    hashes += (uint64_t)acc_parent(up.old, x->old, sib);
                    hashes += (uint64_t)acc_parent(up.now, x->now, sib);
                }
            }
            up.idx = x->idx >> 1;
            nodes[m++] = up;   /* m <= i: never overwrites an unread node */
        }
        n = m;
    }
    if (slot != p->n_slots)
        rc = UTXO_ERR_ACC_SIBLINGS;
done:
    free(nodes);
    *n_hashes = hashes;
    return rc;
}

int acc_walk_record(const acc_state *st, const acc_proof *proof, const acc_hash *leaves,
                    size_t n_leaves, acc_hash roots_out[ACC_MAX_ROOTS], acc_rec_list *rec)
{
    uint64_t nh;

    if (st == NULL || proof == NULL || roots_out == NULL || rec == NULL)
        return UTXO_ERR_ARG;
    return verify_walk(st, proof, leaves, n_leaves, roots_out, &nh, rec);
}

int acc_stateless_verify(const acc_state *st, const acc_proof *proof, const acc_hash *leaves,
                         size_t n_leaves)
{
    acc_hash roots[ACC_MAX_ROOTS];
    uint64_t nh;

    if (st == NULL || proof == NULL)
        return UTXO_ERR_ARG;
    return verify_walk(st, proof, leaves, n_leaves, roots, &nh, NULL);
}

int acc_stateless_delete(acc_state *st, const acc_proof *proof, const acc_hash *leaves,
                         size_t n_leaves, uint64_t *n_hashes)
{
    acc_hash roots[ACC_MAX_ROOTS];
    uint64_t nh = 0;
    int rc;

    if (n_hashes)
        *n_hashes = 0;
    if (st == NULL || proof == NULL)
        return UTXO_ERR_ARG;
    rc = verify_walk(st, proof, leaves, n_leaves, roots, &nh, NULL);
    if (n_hashes)
        *n_hashes = nh;
    if (rc == UTXO_OK)
        memcpy(st->roots, roots, sizeof roots);
    return rc;
}

int acc_stateless_apply(acc_state *st, const acc_proof *proof, const acc_hash *leaves,
                        size_t n_leaves, const acc_hash *adds, size_t n_adds)
{
    acc_state next;
    int rc;

    if (st == NULL || proof == NULL || (adds == NULL && n_adds > 0))
        return UTXO_ERR_ARG;
    next = *st;
    rc = acc_stateless_delete(&next, proof, leaves, n_leaves, NULL);
    for (size_t j = 0; rc == UTXO_OK && j < n_adds; j++)
        rc = acc_state_add(&next, adds[j]);
    if (rc == UTXO_OK)
        *st = next;
    return rc;
}

int acc_leaf_hashes(acc_hash *out, const acc_leaf *leaves, const uint64_t *positions, size_t n)
{
    if (n > 0 && (out == NULL || leaves == NULL || positions == NULL))
        return UTXO_ERR_ARG;
    for (size_t i = 0; i < n; i++)
        if (leaves[i].output == NULL)
            return UTXO_ERR_ARG;
    for (size_t i = 0; i < n; i++)
        acc_leaf_hash(out[i], &leaves[i].outpoint, leaves[i].output, leaves[i].height,
                      positions[i]);
    return UTXO_OK;
}

int acc_stateless_apply_block(acc_state *st, const acc_proof *proof, const acc_leaf *spent,
                              size_t n_spent, const acc_leaf *created, size_t n_created)
{
    acc_hash *hs = NULL, *adds = NULL;
    uint64_t *pos = NULL;
    int rc = UTXO_ERR_NOMEM;

    if (st == NULL || proof == NULL || n_spent != proof->n_targets ||
        (spent == NULL && n_spent > 0) || (created == NULL && n_created > 0))
        return UTXO_ERR_ARG;
    if (n_created > UINT64_MAX - st->count)
        return UTXO_ERR_ACC_FULL;
    if ((n_spent > 0 && (hs = malloc(n_spent * sizeof *hs)) == NULL) ||
        (n_created > 0 && ((adds = malloc(n_created * sizeof *adds)) == NULL ||
                           (pos = malloc(n_created * sizeof *pos)) == NULL)))
        goto done;
    for (size_t j = 0; j < n_created; j++)
        pos[j] = st->count + j;
    rc = acc_leaf_hashes(hs, spent, proof->targets, n_spent);
    if (rc == UTXO_OK)
        rc = acc_leaf_hashes(adds, created, pos, n_created);
    if (rc == UTXO_OK)
        rc = acc_stateless_apply(st, proof, hs, n_spent, adds, n_created);
done:
    free(hs);
    free(adds);
    free(pos);
    return rc;
}
