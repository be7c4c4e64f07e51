/*
 * builder_sign.c — the signing side of the transaction builder
 * (utxo/builder.h): which key signs which input slot, signatures into the
 * witnesses, merging the signatures of co-signers' copies (each verified
 * against the sighash first), and builders rebuilt from a finalized
 * transaction for co-signers. The rest of the builder is in builder.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "wallet/builder_int.h"
#include "utxo/codec.h"

/* The key slots of x that pk matches (bit i = key i). */
static uint32_t key_slots(const bin *x, const uint8_t pk[UTXO_PUBKEY_BYTES])
{
    uint32_t slots = 0;

    switch (x->kind) {
    case UTXO_STD_P2PK:
    case UTXO_STD_TIMELOCK:
        return sodium_memcmp(x->params, pk, 32) == 0 ? 1u : 0u;
    case UTXO_STD_HTLC:
        if (x->mode == MODE_CLAIM)
            return sodium_memcmp(x->params + 32, pk, 32) == 0 ? 1u : 0u;
        if (x->mode == MODE_REFUND)
            return sodium_memcmp(x->params + 64, pk, 32) == 0 ? 1u : 0u;
        return 0;
    case UTXO_STD_MULTISIG:
        for (unsigned i = 0; i < x->n; i++)
            if (sodium_memcmp(x->params + 4 + 32 * i, pk, 32) == 0)
                slots |= 1u << i;
        return slots;
    default:
        return 0;
    }
}

static const uint8_t *slot_key(const bin *x, unsigned i)
{
    switch (x->kind) {
    case UTXO_STD_MULTISIG:
        return x->params + 4 + 32 * i;
    case UTXO_STD_HTLC:
        return x->params + (x->mode == MODE_REFUND ? 64 : 32);
    default:
        return x->params;
    }
}

int utxo_builder_sign(utxo_builder *b, const uint8_t sk[UTXO_SECRETKEY_BYTES], unsigned *n_signed)
{
    unsigned count = 0;
    int rc = UTXO_OK;

    if (n_signed)
        *n_signed = 0;
    if (b == NULL || sk == NULL)
        return UTXO_ERR_ARG;
    if (!b->final)
        return UTXO_ERR_BUILDER_STATE;
    for (uint32_t i = 0; i < b->n_in; i++) {
        bin *x = &b->in[i];
        uint32_t slots = key_slots(x, sk + 32) & ~x->present;
        bool did = false;

        for (unsigned k = 0; k < x->n && slots; k++) {
            if (!((slots >> k) & 1) || bld_bin_complete(x))
                continue;
            if ((rc = utxo_sign_sighash(x->sigs[k], b->sighash, sk)) != UTXO_OK)
                return rc;
            x->present |= 1u << k;
            did = true;
        }
        if (did) {
            count++;
            if ((rc = bld_sync_witness(b, i)) != UTXO_OK)
                return rc;
        }
    }
    if (n_signed)
        *n_signed = count;
    return count > 0 ? UTXO_OK : UTXO_ERR_NO_KEY;
}

int utxo_builder_set_args(utxo_builder *b, uint32_t index, const uint8_t *args, size_t len)
{
    bin *x;
    uint8_t *a = NULL;

    if (b == NULL || index >= b->n_in || (args == NULL && len > 0))
        return UTXO_ERR_ARG;
    x = &b->in[index];
    if (x->kind != UTXO_STD_RSA && x->kind != UTXO_STD_NONE)
        return UTXO_ERR_ARG;
    if (!b->final)
        return UTXO_ERR_BUILDER_STATE;
    if (len != x->args_len)
        return UTXO_ERR_ARG;
    if (len > 0 && (a = malloc(len)) == NULL)
        return UTXO_ERR_NOMEM;
    if (len > 0)
        memcpy(a, args, len);
    free(x->args);
    x->args = a;
    x->args_set_len = len;
    x->has_args = true;
    return bld_sync_witness(b, index);
}

/* Takes another copy's arguments for input x when they hold what x lacks;
 * signatures are checked against the sighash first. */
static int bin_merge(bin *x, const uint8_t sighash[UTXO_HASH_BYTES], const uint8_t *a, size_t n)
{
    uint8_t sigs[UTXO_STD_MULTISIG_MAX_KEYS][UTXO_SIG_BYTES], h[UTXO_HASH_BYTES];
    uint32_t present;

    if (n == 0)
        return UTXO_OK;
    switch (x->kind) {
    case UTXO_STD_MULTISIG:
        if (utxo_std_multisig_args_parse(&present, sigs, x->n, a, n) != UTXO_OK)
            return UTXO_ERR_SIGNATURE;
        for (unsigned k = 0; k < x->n; k++) {
            if (!((present >> k) & 1) || ((x->present >> k) & 1) || bld_bin_complete(x))
                continue;
            if (crypto_sign_verify_detached(sigs[k], sighash, UTXO_HASH_BYTES, slot_key(x, k)) != 0)
                return UTXO_ERR_SIGNATURE;
            memcpy(x->sigs[k], sigs[k], UTXO_SIG_BYTES);
            x->present |= 1u << k;
        }
        return UTXO_OK;
    case UTXO_STD_P2PK:
    case UTXO_STD_TIMELOCK:
        if (bld_bin_complete(x))
            return UTXO_OK;
        if (n != UTXO_SIG_BYTES ||
            crypto_sign_verify_detached(a, sighash, UTXO_HASH_BYTES, x->params) != 0)
            return UTXO_ERR_SIGNATURE;
        memcpy(x->sigs[0], a, UTXO_SIG_BYTES);
        x->present = 1;
        return UTXO_OK;
    case UTXO_STD_HTLC:
        if (bld_bin_complete(x))
            return UTXO_OK;
        if (n < 65 || a[0] > 1 || (a[0] == 1 && n != 65))
            return UTXO_ERR_SIGNATURE;
        if (a[0] == 0) {
            utxo_std_secret_hash(h, a + 65, n - 65);
            if (memcmp(h, x->params, 32) != 0)
                return UTXO_ERR_SIGNATURE;
        }
        if (crypto_sign_verify_detached(a + 1, sighash, UTXO_HASH_BYTES,
                                        x->params + (a[0] ? 64 : 32)) != 0)
            return UTXO_ERR_SIGNATURE;
        free(x->secret);
        x->secret = NULL;
        x->secret_len = 0;
        if (a[0] == 0 && n > 65) {
            if ((x->secret = malloc(n - 65)) == NULL)
                return UTXO_ERR_NOMEM;
            memcpy(x->secret, a + 65, n - 65);
            x->secret_len = n - 65;
        }
        x->has_secret = a[0] == 0;
        x->mode = a[0] ? MODE_REFUND : MODE_CLAIM;
        memcpy(x->sigs[0], a + 1, UTXO_SIG_BYTES);
        x->present = 1;
        return UTXO_OK;
    case UTXO_STD_HASHLOCK:
        if (bld_bin_complete(x))
            return UTXO_OK;
        utxo_std_secret_hash(h, a, n);
        if (memcmp(h, x->params, 32) != 0)
            return UTXO_ERR_SIGNATURE;
        if ((x->secret = malloc(n)) == NULL)
            return UTXO_ERR_NOMEM;
        memcpy(x->secret, a, n);
        x->secret_len = n;
        x->has_secret = true;
        return UTXO_OK;
    default: /* RSA and others: the validator will judge */
        if (x->has_args)
            return UTXO_OK;
        if ((x->args = malloc(n)) == NULL)
            return UTXO_ERR_NOMEM;
        memcpy(x->args, a, n);
        x->args_set_len = n;
        x->has_args = true;
        return UTXO_OK;
    }
}

int utxo_builder_merge(utxo_builder *b, const utxo_tx *other)
{
    uint8_t t1[UTXO_HASH_BYTES], t2[UTXO_HASH_BYTES];
    int rc;

    if (b == NULL || other == NULL)
        return UTXO_ERR_ARG;
    if (!b->final)
        return UTXO_ERR_BUILDER_STATE;
    utxo_tx_txid(b->tx, t1);
    utxo_tx_txid(other, t2);
    if (memcmp(t1, t2, sizeof t1) != 0 || other->n_inputs != b->n_in)
        return UTXO_ERR_MISMATCH;
    for (uint32_t i = 0; i < b->n_in; i++) {
        const utxo_witness *w = &other->inputs[i].witness;
        if (!bld_witness_matches(w, &b->in[i]))
            return UTXO_ERR_MISMATCH;
        if ((rc = bin_merge(&b->in[i], b->sighash, w->args, w->args_len)) != UTXO_OK)
            return rc;
        if ((rc = bld_sync_witness(b, i)) != UTXO_OK)
            return rc;
    }
    return UTXO_OK;
}

int utxo_builder_from_tx(utxo_builder **out, const utxo_params *p, uint32_t height,
                         const utxo_tx *tx, const utxo_coin *coins, size_t n_coins)
{
    utxo_builder *b = NULL;
    int rc;

    if (out)
        *out = NULL;
    if (out == NULL || p == NULL || tx == NULL || coins == NULL || tx->n_inputs == 0 ||
        n_coins != tx->n_inputs)
        return UTXO_ERR_ARG;
    if ((b = utxo_builder_new(p, height)) == NULL)
        return UTXO_ERR_NOMEM;
    for (uint32_t i = 0; i < tx->n_inputs; i++) {
        const utxo_input *in = &tx->inputs[i];
        if (memcmp(&in->prevout.txid, coins[i].outpoint.txid, UTXO_HASH_BYTES) != 0 ||
            in->prevout.index != coins[i].outpoint.index) {
            rc = UTXO_ERR_MISMATCH;
            goto fail;
        }
        if ((rc = utxo_builder_add_input(b, &coins[i], NULL)) != UTXO_OK)
            goto fail;
        bin *x = &b->in[i];
        if (!bld_witness_matches(&in->witness, x)) {
            rc = UTXO_ERR_MISMATCH;
            goto fail;
        }
        x->budget = in->witness.budget;
        x->planned = true;
        x->args_len = x->kind == UTXO_STD_MULTISIG ? 4 + UTXO_SIG_BYTES * x->m
                      : x->kind == UTXO_STD_P2PK || x->kind == UTXO_STD_TIMELOCK
                          ? UTXO_SIG_BYTES
                          : in->witness.args_len;
    }
    for (uint32_t o = 0; o < tx->n_outputs; o++) {
        const utxo_output *u = &tx->outputs[o];
        if (utxo_tx_add_output(b->outs, u->value, u->predicate_id, u->datum, u->datum_len) != UTXO_OK) {
            rc = UTXO_ERR_NOMEM;
            goto fail;
        }
        if (__builtin_add_overflow(b->out_sum, u->value, &b->out_sum)) {
            rc = UTXO_ERR_TX_VALUE;
            goto fail;
        }
    }
    if ((b->tx = utxo_tx_clone(tx)) == NULL) {
        rc = UTXO_ERR_NOMEM;
        goto fail;
    }
    b->final = true;
    b->fee = b->in_sum >= b->out_sum ? b->in_sum - b->out_sum : 0;
    utxo_tx_sighash(b->tx, p->chain_id, b->sighash);
    for (uint32_t i = 0; i < b->n_in; i++) {
        const utxo_witness *w = &tx->inputs[i].witness;
        if ((rc = bin_merge(&b->in[i], b->sighash, w->args, w->args_len)) != UTXO_OK)
            goto fail;
        if ((rc = bld_sync_witness(b, i)) != UTXO_OK)
            goto fail;
    }
    *out = b;
    return UTXO_OK;
fail:
    utxo_builder_free(b);
    return rc;
}
