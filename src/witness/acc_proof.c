/*
 * acc_proof.c — batch proofs of the accumulator: which sibling slots a set
 * of targets needs (the walk shared by the prover and the verifier), and
 * the proof's canonical strict encoding (docs/ACCUMULATOR.md, "Proof").
 *
 * The walk: start with the sorted target positions as the known nodes of
 * row 0. At each row, visit the known nodes left to right: a root has
 * nothing above it and leaves the walk; two known siblings combine without
 * help; any other node needs its sibling from the proof (one slot). Each
 * visit puts the parent in the next row's list, which stays sorted and
 * unique. The slots therefore come in (row, index) order, and no slot is
 * spent on a node the verifier can compute.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "witness/acc.h"

void acc_proof_init(acc_proof *p)
{
    memset(p, 0, sizeof *p);
}

void acc_proof_clear(acc_proof *p)
{
    if (p == NULL)
        return;
    free(p->targets);
    free(p->empty);
    free(p->hashes);
    acc_proof_init(p);
}

/* UTXO_OK when targets are strictly increasing and below count. */
static int check_targets(uint64_t count, const uint64_t *targets, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (targets[i] >= count || (i > 0 && targets[i] <= targets[i - 1]))
            return UTXO_ERR_ACC_POSITION;
    return UTXO_OK;
}

/*
 * The walk over idx[0..n) (row-0 positions, sorted; overwritten as scratch).
 * Stores each needed slot's address in out (when not NULL) and returns the
 * number of slots.
 */
static size_t walk(uint64_t count, uint64_t *idx, size_t n, acc_pos *out)
{
    size_t slots = 0;

    for (unsigned row = 0; n > 0 && row < ACC_MAX_ROOTS; row++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t x = idx[i];
            if (acc_is_root(row, x, count))
                continue;
            if ((x & 1) == 0 && i + 1 < n && idx[i + 1] == (x | 1)) {
                i++;
            } else {
                if (out) {
                    out[slots].row = (uint8_t)row;
                    out[slots].idx = x ^ 1;
                }
                slots++;
            }
            idx[m++] = x >> 1;
        }
        n = m;
    }
    return slots;
}

int acc_proof_positions(uint64_t count, const uint64_t *targets, size_t n, acc_pos **out,
                        size_t *n_out)
{
    uint64_t *scratch = NULL;
    acc_pos *pos = NULL;
    size_t slots;
    int rc;

    if (out)
        *out = NULL;
    if (n_out)
        *n_out = 0;
    if (n_out == NULL || (targets == NULL && n > 0))
        return UTXO_ERR_ARG;
    rc = check_targets(count, targets, n);
    if (rc != UTXO_OK || n == 0)
        return rc;
    scratch = malloc(n * sizeof *scratch);
    if (scratch == NULL)
        return UTXO_ERR_NOMEM;
    memcpy(scratch, targets, n * sizeof *scratch);
    slots = walk(count, scratch, n, NULL);
    if (out != NULL && slots > 0) {
        pos = malloc(slots * sizeof *pos);
        if (pos == NULL) {
            rc = UTXO_ERR_NOMEM;
            goto done;
        }
        memcpy(scratch, targets, n * sizeof *scratch);
        walk(count, scratch, n, pos);
        *out = pos;
    }
    *n_out = slots;
done:
    free(scratch);
    return rc;
}

/* ---- encoding ----------------------------------------------------------- */

void acc_proof_encode(enc *e, const acc_proof *p)
{
    enc_varint(e, p->n_targets);
    for (size_t i = 0; i < p->n_targets; i++)
        enc_varint(e, i == 0 ? p->targets[0] : p->targets[i] - p->targets[i - 1] - 1);
    enc_varint(e, p->n_slots);
    enc_bytes(e, p->empty, (p->n_slots + 7) / 8);
    for (size_t k = 0; k < p->n_hashes; k++)
        enc_bytes(e, p->hashes[k], ACC_HASH_BYTES);
}

size_t acc_proof_get_length(const acc_proof *p)
{
    enc e;

    enc_init(&e, NULL, 0, NULL);
    acc_proof_encode(&e, p);
    return e.len;
}

/* The structural invariants of an in-memory proof (not its slot count,
 * which depends on the leaf count). */
static int proof_wellformed(const acc_proof *p)
{
    size_t empties = 0;

    if ((p->n_targets > 0 && p->targets == NULL) || (p->n_slots > 0 && p->empty == NULL) ||
        (p->n_hashes > 0 && p->hashes == NULL))
        return UTXO_ERR_ARG;
    if (check_targets(UINT64_MAX, p->targets, p->n_targets) != UTXO_OK)
        return UTXO_ERR_ACC_POSITION;
    for (size_t j = 0; j < p->n_slots; j++)
        empties += acc_proof_slot_empty(p, j);
    if ((p->n_slots & 7) && (p->empty[p->n_slots >> 3] >> (p->n_slots & 7)) != 0)
        return UTXO_ERR_NONCANONICAL;
    if (p->n_hashes != p->n_slots - empties)
        return UTXO_ERR_ACC_SIBLINGS;
    for (size_t k = 0; k < p->n_hashes; k++)
        if (acc_is_empty(p->hashes[k]))
            return UTXO_ERR_NONCANONICAL;
    return UTXO_OK;
}

int acc_proof_to_bytes(const acc_proof *p, uint8_t *out, size_t cap, size_t *written)
{
    enc e;
    int rc;

    if (written)
        *written = 0;
    if (p == NULL || written == NULL || (out == NULL && cap > 0))
        return UTXO_ERR_ARG;
    rc = proof_wellformed(p);
    if (rc != UTXO_OK)
        return rc;
    if (cap < acc_proof_get_length(p))
        return UTXO_ERR_ARG;
    enc_init(&e, out, cap, NULL);
    acc_proof_encode(&e, p);
    *written = e.len;
    return UTXO_OK;
}

int acc_proof_decode(dec *d, acc_proof *p, uint64_t count)
{
    acc_proof q;
    size_t off, expected = 0, flag_bytes, empties = 0;
    uint64_t n, v;
    int rc;

    acc_proof_init(&q);
    if (d->err)
        return d->err;
    off = d->off;
    n = dec_varint(d, UINT64_MAX);
    if (d->err)
        goto fail;
    if (n > ACC_PROOF_MAX_TARGETS || n > dec_left(d)) {
        /* each target takes at least one byte */
        dec_fail(d, n > ACC_PROOF_MAX_TARGETS ? UTXO_ERR_TOO_LARGE : UTXO_ERR_TRUNCATED, off);
        goto fail;
    }
    q.n_targets = (size_t)n;
    if (n > 0 && (q.targets = malloc((size_t)n * sizeof *q.targets)) == NULL) {
        dec_fail(d, UTXO_ERR_NOMEM, off);
        goto fail;
    }
    for (size_t i = 0; i < q.n_targets; i++) {
        uint64_t prev = i ? q.targets[i - 1] : 0;
        off = d->off;
        v = dec_varint(d, UINT64_MAX);
        if (d->err)
            goto fail;
        /* t = v (first) or prev + 1 + v, which must stay below count */
        if (i == 0 ? v >= count : v >= count - prev - 1) {
            dec_fail(d, UTXO_ERR_ACC_POSITION, off);
            goto fail;
        }
        q.targets[i] = i == 0 ? v : prev + 1 + v;
    }
    rc = acc_proof_positions(count, q.targets, q.n_targets, NULL, &expected);
    if (rc != UTXO_OK) {
        dec_fail(d, rc, d->off);
        goto fail;
    }
    off = d->off;
    v = dec_varint(d, UINT64_MAX);
    if (d->err)
        goto fail;
    if (v != expected) {
        dec_fail(d, UTXO_ERR_ACC_SIBLINGS, off);
        goto fail;
    }
    q.n_slots = expected;
    flag_bytes = (q.n_slots + 7) / 8;
    if (flag_bytes > dec_left(d)) {
        dec_fail(d, UTXO_ERR_TRUNCATED, d->off);
        goto fail;
    }
    if (flag_bytes > 0) {
        if ((q.empty = malloc(flag_bytes)) == NULL) {
            dec_fail(d, UTXO_ERR_NOMEM, d->off);
            goto fail;
        }
        off = d->off;
        dec_bytes(d, q.empty, flag_bytes);
        if ((q.n_slots & 7) && (q.empty[flag_bytes - 1] >> (q.n_slots & 7)) != 0) {
            dec_fail(d, UTXO_ERR_NONCANONICAL, off + flag_bytes - 1);
            goto fail;
        }
        for (size_t j = 0; j < q.n_slots; j++)
            empties += acc_proof_slot_empty(&q, j);
    }
    q.n_hashes = q.n_slots - empties;
    if (q.n_hashes > dec_left(d) / ACC_HASH_BYTES) {
        dec_fail(d, UTXO_ERR_TRUNCATED, d->len);
        goto fail;
    }
    if (q.n_hashes > 0 && (q.hashes = malloc(q.n_hashes * sizeof *q.hashes)) == NULL) {
        dec_fail(d, UTXO_ERR_NOMEM, d->off);
        goto fail;
    }
    for (size_t k = 0; k < q.n_hashes; k++) {
        off = d->off;
        dec_bytes(d, q.hashes[k], ACC_HASH_BYTES);
        if (acc_is_empty(q.hashes[k])) {
            dec_fail(d, UTXO_ERR_NONCANONICAL, off);
            goto fail;
        }
    }
    if (d->err)
        goto fail;
    *p = q;
    return UTXO_OK;
fail:
    acc_proof_clear(&q);
    return d->err;
}

int acc_proof_from_bytes(acc_proof *p, const uint8_t *in, size_t len, uint64_t count,
                         size_t *err_off)
{
    dec d;
    int rc;

    if (err_off)
        *err_off = 0;
    if (p == NULL || (in == NULL && len > 0))
        return UTXO_ERR_ARG;
    dec_init(&d, in, len);
    rc = acc_proof_decode(&d, p, count);
    if (rc == UTXO_OK) {
        dec_end(&d);
        rc = dec_result(&d, err_off);
        if (rc != UTXO_OK)
            acc_proof_clear(p);
    } else if (err_off) {
        *err_off = d.err_off;
    }
    return rc;
}
