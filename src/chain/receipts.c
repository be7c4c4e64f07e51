/*
 * chain/receipts.c — segment receipts for a finished bundle (chain.h,
 * chain_receipts_add): the prover side of `utxo demo`'s prove stage and of
 * the history generator. A store's bundle carries the accumulator proof and
 * the spent outputs; this adds, for every input whose run takes more than
 * one segment, the chain of receipts a stateless validator checks instead
 * of running the predicate. The choice of inputs and the receipts are the
 * ones bp_chain_set_segments gives, so a bundle made here from a store is
 * byte for byte the sequencer's (tests/chain_cli.sh checks it).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "chain/chain.h"
#include "utxo/segments.h"
#include "predicates/stdpred.h"

int chain_receipts_add(utxo_bundle *bundle, const utxo_block *b, const utxo_params *p,
                       unsigned po2, uint64_t *n_runs, uint64_t *n_segments)
{
    bp_layout L;
    utxo_output *spent = NULL, *refs = NULL;
    utxo_outpoint *ops = NULL;
    size_t n_ops = 0, *id = NULL, *first = NULL, n_flat = 0;
    uint64_t runs = 0, segs = 0;
    size_t room;
    uint32_t bad_tx, bad_in;
    bool any = false;
    int rc;

    if (n_runs != NULL)
        *n_runs = 0;
    if (n_segments != NULL)
        *n_segments = 0;
    if (bundle == NULL || b == NULL || p == NULL || po2 < UTXO_SEG_PO2_MIN ||
        po2 > UTXO_SEG_PO2_MAX || bundle->n_receipts != 0)
        return UTXO_ERR_ARG;
    /* most blocks have no long run: look before building anything */
    for (uint32_t t = 1; t < b->n_txs && !any; t++)
        for (uint32_t i = 0; i < b->txs[t]->n_inputs; i++)
            any |= b->txs[t]->inputs[i].witness.budget > (UINT64_C(1) << po2);
    if (!any)
        return UTXO_OK;
    room = bp_bundle_room(bundle);
    if ((rc = bp_layout_build(&L, b, &bad_tx, &bad_in)) != UTXO_OK)
        goto out;
    if (L.n_external != bundle->n_spent) {
        rc = UTXO_ERR_BUNDLE_SPENDS;
        goto out;
    }
    if ((spent = calloc(L.in_off[L.n_txs] ? L.in_off[L.n_txs] : 1, sizeof *spent)) == NULL) {
        rc = UTXO_ERR_NOMEM;
        goto out;
    }
    for (uint32_t t = 1; t < b->n_txs; t++)
        for (uint32_t i = 0; i < b->txs[t]->n_inputs; i++) {
            const bp_src *s = &L.src[L.in_off[t] + i];
            spent[L.in_off[t] + i] = s->tx == BP_EXTERNAL ? bundle->spent[s->out].output
                                                          : b->txs[s->tx]->outputs[s->out];
        }
    /* the referenced outputs, per transaction, from the bundle's entries
     * (one per distinct reference, in order of first mention) */
    if ((rc = bp_block_refs(b, &ops, &n_ops, &id, &first)) != UTXO_OK)
        goto out;
    if (n_ops != bundle->n_refs) {
        rc = UTXO_ERR_BUNDLE_SPENDS;
        goto out;
    }
    for (uint32_t t = 0; t < b->n_txs; t++)
        n_flat += b->txs[t]->n_refs;
    if ((refs = calloc(n_flat ? n_flat : 1, sizeof *refs)) == NULL) {
        rc = UTXO_ERR_NOMEM;
        goto out;
    }
    for (size_t j = 0; j < n_flat; j++)
        refs[j] = bundle->refs[id[j]].output;
    n_flat = 0;
    for (uint32_t t = 1; t < b->n_txs; t++) {
        const utxo_tx *tx = b->txs[t];
        const utxo_output *tx_refs = &refs[n_flat += b->txs[t - 1]->n_refs];
        utxo_txctx ctx;
        if ((rc = utxo_txctx_init(&ctx, tx, &spent[L.in_off[t]], b->header.height,
                                  p->chain_id)) != UTXO_OK)
            goto out;
        for (uint32_t i = 0; i < tx->n_inputs; i++) {
            const utxo_witness *w = &tx->inputs[i].witness;
            bp_rlist ch = {NULL, 0, 0};
            if (w->budget <= (UINT64_C(1) << po2))
                continue; /* at most one segment */
            const uint8_t *img;
            size_t img_len;
            uint8_t *owned;
            ctx.input_index = i;
            if ((rc = stdpred_witness_image(w, tx_refs, tx->n_refs, &img, &img_len, &owned)) !=
                UTXO_OK)
                goto out;
            rc = bp_prove_input(&ch, &room, t, i, img, img_len, w, &ctx, po2);
            free(owned);
            if (rc == UTXO_OK && ch.n > 0) {
                rc = bp_bundle_add_receipt(bundle, t, i, ch.r, ch.n);
                if (rc == UTXO_OK) {
                    runs++;
                    segs += ch.n;
                    ch.n = 0; /* the bundle owns them */
                }
            }
            bp_rlist_clear(&ch);
            if (rc != UTXO_OK)
                goto out;
        }
    }
    rc = UTXO_OK;
out:
    bp_layout_clear(&L);
    free(spent);
    free(refs);
    free(ops);
    free(id);
    free(first);
    if (n_runs != NULL)
        *n_runs = runs;
    if (n_segments != NULL)
        *n_segments = segs;
    return rc;
}
