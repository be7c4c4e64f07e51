/*
 * acc_state.c — the values of the accumulator (leaf hash, parent rule) and
 * the stateless state: a leaf count and at most 64 roots, its append
 * operation, its canonical encoding and the digest a block header commits
 * to. See acc.h for the vocabulary and docs/ACCUMULATOR.md for the formats.
 */
#include "config.h"

#include <string.h>
#include "witness/acc.h"
#include "utxo/ledger_int.h"

const acc_hash ACC_EMPTY = {0};

/* Prepared domains of the two hashes proof checking is made of. */
static hash_domain leaf_dom = HASH_DOMAIN(TAG_ACCLEAF);
static hash_domain node_dom = HASH_DOMAIN(TAG_ACCNODE);

void acc_leaf_hash(uint8_t out[ACC_HASH_BYTES], const utxo_outpoint *op, const utxo_output *o,
                   uint32_t height, uint64_t position)
{
    hash_state hs;
    enc e;

    hash_start(&hs, &leaf_dom);
    enc_init(&e, NULL, 0, &hs);
    enc_u64(&e, position);
    enc_bytes(&e, op->txid, UTXO_HASH_BYTES);
    enc_u32(&e, op->index);
    enc_u32(&e, height);
    output_encode(&e, o);
    hash_final(&hs, out);
}

int acc_parent(uint8_t out[ACC_HASH_BYTES], const uint8_t l[ACC_HASH_BYTES],
               const uint8_t r[ACC_HASH_BYTES])
{
    if (acc_is_empty(l)) {
        memmove(out, r, ACC_HASH_BYTES);
        return 0;
    }
    if (acc_is_empty(r)) {
        memmove(out, l, ACC_HASH_BYTES);
        return 0;
    }
    hash_pair_dom(out, &node_dom, l, r);
    return 1;
}

void acc_state_init(acc_state *st)
{
    memset(st, 0, sizeof *st);
}

unsigned acc_state_n_roots(const acc_state *st)
{
    return (unsigned)__builtin_popcountll(st->count);
}

bool acc_state_equal(const acc_state *a, const acc_state *b)
{
    if (a->count != b->count)
        return false;
    for (unsigned r = 0; r < ACC_MAX_ROOTS; r++)
        if ((a->count >> r & 1) && memcmp(a->roots[r], b->roots[r], ACC_HASH_BYTES) != 0)
            return false;
    return true;
}

int acc_state_add(acc_state *st, const uint8_t leaf[ACC_HASH_BYTES])
{
    acc_hash carry;
    unsigned r = 0;

    if (st == NULL || leaf == NULL || acc_is_empty(leaf))
        return UTXO_ERR_ARG;
    if (st->count == UINT64_MAX)
        return UTXO_ERR_ACC_FULL;
    /* Like binary increment: each set low bit is a root of equal height
     * that merges with the carry; the first clear bit receives it. */
    memcpy(carry, leaf, ACC_HASH_BYTES);
    while (st->count >> r & 1) {
        acc_parent(carry, st->roots[r], carry);
        memset(st->roots[r], 0, ACC_HASH_BYTES);
        r++;
    }
    memcpy(st->roots[r], carry, ACC_HASH_BYTES);
    st->count++;
    return UTXO_OK;
}

size_t acc_state_get_length(const acc_state *st)
{
    return 8u + (size_t)acc_state_n_roots(st) * ACC_HASH_BYTES;
}

void acc_state_encode(enc *e, const acc_state *st)
{
    enc_u64(e, st->count);
    for (int r = ACC_MAX_ROOTS - 1; r >= 0; r--)
        if (st->count >> r & 1)
            enc_bytes(e, st->roots[r], ACC_HASH_BYTES);
}

int acc_state_to_bytes(const acc_state *st, uint8_t *out, size_t cap, size_t *written)
{
    enc e;

    if (written)
        *written = 0;
    if (st == NULL || out == NULL || written == NULL)
        return UTXO_ERR_ARG;
    if (cap < acc_state_get_length(st))
        return UTXO_ERR_ARG;
    enc_init(&e, out, cap, NULL);
    acc_state_encode(&e, st);
    *written = e.len;
    return UTXO_OK;
}

int acc_state_decode(dec *d, acc_state *st)
{
    acc_state tmp;

    acc_state_init(&tmp);
    tmp.count = dec_u64(d);
    for (int r = ACC_MAX_ROOTS - 1; r >= 0; r--)
        if (tmp.count >> r & 1)
            dec_bytes(d, tmp.roots[r], ACC_HASH_BYTES);
    if (d->err)
        return d->err;
    *st = tmp;
    return UTXO_OK;
}

int acc_state_from_bytes(acc_state *st, const uint8_t *in, size_t len, size_t *err_off)
{
    dec d;
    int rc;

    if (err_off)
        *err_off = 0;
    if (st == NULL || (in == NULL && len > 0))
        return UTXO_ERR_ARG;
    dec_init(&d, in, len);
    acc_state tmp;
    (void)acc_state_decode(&d, &tmp);
    dec_end(&d);
    rc = dec_result(&d, err_off);
    if (rc == UTXO_OK)
        *st = tmp;
    return rc;
}

static void acc_state_encode_obj(enc *e, const void *st)
{
    acc_state_encode(e, st);
}

void acc_state_digest(uint8_t out[ACC_HASH_BYTES], const acc_state *st)
{
    enc_hash(out, TAG_ACCDIGEST, acc_state_encode_obj, st);
}
