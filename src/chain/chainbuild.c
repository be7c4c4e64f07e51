/*
 * chainbuild.c — the in-memory chain builder (chainbuild.h): an
 * open-addressing UTXO table beside the accumulator forest, and the sealing
 * of blocks, an adapter over the block-connection core. A failed seal
 * leaves the chain as it was (the forest is put back with the block's
 * effects).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "chain/chainbuild.h"
#include "connect/connect.h"
#include "utxo/ledger_int.h"
#include "predicates/stdpred.h"

typedef struct utxo_slot {
    uint8_t state;           /* 0 free, 1 used, 2 deleted */
    utxo_outpoint op;
    utxo_output out;         /* owns out.datum */
    uint32_t height;
    uint64_t pos;
} utxo_slot;

struct bp_chain {
    utxo_params params;
    uint8_t sk[64];
    acc_forest *forest;
    uint32_t next_height;
    uint8_t tip_hash[UTXO_HASH_BYTES];
    uint64_t tip_time;
    utxo_slot *slots;
    size_t cap, used, deleted;   /* cap: power of two */
    unsigned po2;                /* segment receipts: 0 = none */
    utxo_verifier *ver;          /* bp_chain_set_verify: seals run the predicates */
    bool broken;                 /* the forest could not be put back after a failed seal */
};

int bp_chain_set_segments(bp_chain *c, unsigned po2)
{
    if (c == NULL || (po2 != 0 && (po2 < UTXO_SEG_PO2_MIN || po2 > UTXO_SEG_PO2_MAX)))
        return UTXO_ERR_ARG;
    c->po2 = po2;
    return UTXO_OK;
}

/*
 * Proves every input's run of b in segments and keeps the chains longer
 * than one segment that fit in bundle bd (made without receipts):
 * chains[flat input index] (the layout's numbering). The spent outputs and
 * sighashes are the core's (fx).
 */
static int prove_runs(const bp_chain *c, const utxo_block *b, const cn_effects *fx,
                      const utxo_bundle *bd, bp_rlist *chains)
{
    size_t room = bp_bundle_room(bd);
    int rc = UTXO_OK;

    for (uint32_t t = 1; t < b->n_txs && rc == UTXO_OK; t++) {
        const utxo_tx *tx = b->txs[t];
        utxo_txctx ctx;
        memset(&ctx, 0, sizeof ctx);
        ctx.tx = tx;
        ctx.spent = fx->spent_tx[t];
        ctx.height = b->header.height;
        memcpy(ctx.sighash, fx->sighash[t], UTXO_HASH_BYTES);
        for (uint32_t i = 0; i < tx->n_inputs && rc == UTXO_OK; i++) {
            const utxo_witness *w = &tx->inputs[i].witness;
            bp_rlist *ch = &chains[fx->L.in_off[t] + i];
            const uint8_t *img;
            size_t img_len;
            uint8_t *owned;
            ctx.input_index = i;
            if ((rc = stdpred_witness_image(w, fx->ref_tx ? fx->ref_tx[t] : NULL, tx->n_refs, &img,
                                            &img_len, &owned)) != UTXO_OK)
                break;
            rc = bp_prove_input(ch, &room, t, i, img, img_len, w, &ctx, c->po2);
            free(owned);
        }
    }
    return rc;
}

static size_t slot_hash(const utxo_outpoint *op)
{
    return (size_t)(get_u64le(op->txid) ^ (uint64_t)op->index * UINT64_C(0x9e3779b97f4a7c15));
}

static utxo_slot *slot_find(const bp_chain *c, const utxo_outpoint *op)
{
    if (c->cap == 0)
        return NULL;
    for (size_t i = slot_hash(op) & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
        utxo_slot *s = &c->slots[i];
        if (s->state == 0)
            return NULL;
        if (s->state == 1 && s->op.index == op->index &&
            memcmp(s->op.txid, op->txid, UTXO_HASH_BYTES) == 0)
            return s;
    }
}

/* Inserts (no duplicate check, no growth: the caller reserved room). */
static void slot_put(bp_chain *c, const utxo_slot *v)
{
    size_t i = slot_hash(&v->op) & (c->cap - 1);

    while (c->slots[i].state == 1)
        i = (i + 1) & (c->cap - 1);
    if (c->slots[i].state == 2)
        c->deleted--;
    c->slots[i] = *v;
    c->slots[i].state = 1;
    c->used++;
}

/* Makes room for `more` insertions at a load of at most 1/2. */
static int slot_reserve(bp_chain *c, size_t more)
{
    utxo_slot *old = c->slots;
    size_t old_cap = c->cap, cap = c->cap ? c->cap : 64;

    if ((c->used + c->deleted + more) * 2 <= c->cap)
        return UTXO_OK;
    while ((c->used + more) * 2 > cap)
        cap *= 2;
    if ((c->slots = calloc(cap, sizeof *c->slots)) == NULL) {
        c->slots = old;
        return UTXO_ERR_NOMEM;
    }
    c->cap = cap;
    c->used = c->deleted = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].state == 1)
            slot_put(c, &old[i]);
    free(old);
    return UTXO_OK;
}

int bp_chain_new(bp_chain **out, const utxo_params *p, const uint8_t sk[64])
{
    bp_chain *c;
    uint8_t pk[32];
    int rc;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || p == NULL || sk == NULL)
        return UTXO_ERR_ARG;
    crypto_sign_ed25519_sk_to_pk(pk, sk);
    if (memcmp(pk, p->sequencer_pk, 32) != 0)
        return UTXO_ERR_ARG;
    if ((c = calloc(1, sizeof *c)) == NULL)
        return UTXO_ERR_NOMEM;
    c->params = *p;
    memcpy(c->sk, sk, 64);
    c->tip_time = p->genesis_time;
    rc = acc_forest_new(&c->forest);
    if (rc != UTXO_OK) {
        bp_chain_free(c);
        return rc;
    }
    *out = c;
    return UTXO_OK;
}

void bp_chain_free(bp_chain *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->cap; i++)
        if (c->slots[i].state == 1)
            free(c->slots[i].out.datum);
    free(c->slots);
    utxo_verifier_free(c->ver);
    acc_forest_free(c->forest);
    sodium_memzero(c->sk, sizeof c->sk);
    free(c);
}

uint32_t bp_chain_next_height(const bp_chain *c)
{
    return c->next_height;
}

const uint8_t *bp_chain_tip_hash(const bp_chain *c)
{
    return c->tip_hash;
}

acc_forest *bp_chain_forest(bp_chain *c)
{
    return c->forest;
}

size_t bp_chain_utxo_count(const bp_chain *c)
{
    return c->used;
}

int bp_chain_find(void *ctx, const utxo_outpoint *op, const utxo_output **o, uint32_t *height,
                  uint64_t *position)
{
    const utxo_slot *s = slot_find(ctx, op);

    if (s == NULL)
        return UTXO_ERR_TX_MISSING;
    *o = &s->out;
    *height = s->height;
    *position = s->pos;
    return UTXO_OK;
}

/* bp_chain_find as the core's spent-output view. */
static int bp_chain_find_view(void *ctx, size_t k, const utxo_outpoint *op, cn_spent *out)
{
    const utxo_output *o = NULL;
    int rc;

    (void)k;
    rc = bp_chain_find(ctx, op, &o, &out->height, &out->position);
    if (rc == UTXO_OK)
        out->output = *o;
    return rc;
}

static int bp_chain_find_refs(void *ctx, const utxo_outpoint *ops, size_t n, cn_spent *out,
                              size_t *bad)
{
    return cn_refs_by_get(bp_chain_find_view, ctx, ops, n, out, bad);
}

int bp_chain_set_verify(bp_chain *c, unsigned threads)
{
    if (c == NULL)
        return UTXO_ERR_ARG;
    if (c->ver == NULL && (c->ver = utxo_verifier_new(&c->params, threads)) == NULL)
        return UTXO_ERR_NOMEM;
    return UTXO_OK;
}

/*
 * Sealing is the block-connection core (src/connect/connect.h) in CN_SEAL
 * mode: the in-memory set as the spent-output view, the forest as the
 * backend; predicates only with bp_chain_set_verify (the mempool has run
 * them, at this very height: mp_select_valid runs a held transaction's
 * again when blocks went by since, as a predicate may read the height). What the core leaves to this adapter: receipts, the new slots,
 * the header's digest and signature. A failure after the forest changed
 * puts the forest back (cn_acc_forest_undo).
 */
int bp_chain_seal(bp_chain *c, utxo_block *b, utxo_bundle **bundle, uint32_t *bad_tx,
                  uint32_t *bad_in)
{
    static const cn_view_methods view = {NULL, bp_chain_find_view, bp_chain_find_refs};
    utxo_bundle *bd = NULL;
    utxo_slot *fresh = NULL;
    bp_rlist *chains = NULL;
    cn_forest_acc fa;
    cn_effects fx;
    utxo_verdict vd;
    cn_args a;
    uint8_t hash[UTXO_HASH_BYTES];
    size_t n_in = 0;
    int rc;

    memset(&fx, 0, sizeof fx);
    memset(&vd, 0, sizeof vd);
    memset(&fa, 0, sizeof fa);
    acc_proof_init(&fa.proof);
    acc_proof_init(&fa.ref_proof);
    if (bundle != NULL)
        *bundle = NULL;
    if (c == NULL || b == NULL || b->n_txs == 0)
        return UTXO_ERR_ARG;
    if (c->broken)
        return UTXO_ERR_INTERNAL;
    if (c->next_height == UINT32_MAX)
        return UTXO_ERR_BLOCK_HEIGHT;
    b->header.version = UTXO_HEADER_VERSION;
    b->header.height = c->next_height;
    memcpy(b->header.prev_hash, c->tip_hash, UTXO_HASH_BYTES);
    if (b->header.time < c->tip_time)
        b->header.time = c->tip_time;
    if (utxo_tx_is_coinbase(b->txs[0]))
        b->txs[0]->coinbase_height = c->next_height;
    rc = utxo_block_tx_root(b, b->header.tx_root);
    if (rc != UTXO_OK)
        goto done;
    fa.f = c->forest;
    memset(&a, 0, sizeof a);
    a.params = &c->params;
    a.verifier = c->ver;
    a.next_height = c->next_height;
    a.tip_hash = c->tip_hash;
    a.min_time = c->tip_time;
    a.view = &view;
    a.view_ctx = c;
    a.acc = &cn_forest_acc_methods;
    a.acc_ctx = &fa;
    a.flags = CN_SEAL | (c->ver == NULL ? CN_NO_PREDICATES : 0u);
    rc = cn_connect(&a, b, &fx, &vd);
    if (rc != UTXO_OK)
        goto undo;
    n_in = fx.L.in_off[fx.L.n_txs];
    /* everything that can fail, before the set and the tip change */
    rc = UTXO_ERR_NOMEM;
    fresh = calloc(fx.n_created ? fx.n_created : 1, sizeof *fresh);
    if (fresh == NULL || slot_reserve(c, fx.n_created) != UTXO_OK)
        goto undo;
    for (size_t j = 0; j < fx.n_created; j++) {
        const acc_leaf *cr = &fx.created[j];
        fresh[j].op = cr->outpoint;
        fresh[j].out = *cr->output;
        fresh[j].out.datum = NULL;
        fresh[j].height = cr->height;
        fresh[j].pos = fx.count_before + j;
        if (cr->output->datum_len > 0) {
            if ((fresh[j].out.datum = malloc(cr->output->datum_len)) == NULL)
                goto undo;
            memcpy(fresh[j].out.datum, cr->output->datum, cr->output->datum_len);
        }
    }
    if ((rc = cn_bundle_make(&bd, &fx, &fa)) != UTXO_OK)
        goto undo;
    if (c->po2 != 0) {
        rc = UTXO_ERR_NOMEM;
        if ((chains = calloc(n_in ? n_in : 1, sizeof *chains)) == NULL)
            goto undo;
        if ((rc = prove_runs(c, b, &fx, bd, chains)) != UTXO_OK)
            goto undo;
        /* receipts in (tx, input) order; the bundle takes them over */
        for (uint32_t t = 1; t < b->n_txs; t++)
            for (uint32_t i = 0; i < b->txs[t]->n_inputs; i++) {
                bp_rlist *ch = &chains[fx.L.in_off[t] + i];
                if (ch->n == 0)
                    continue;
                if ((rc = bp_bundle_add_receipt(bd, t, i, ch->r, ch->n)) != UTXO_OK)
                    goto undo;
                free(ch->r);
                memset(ch, 0, sizeof *ch);
            }
    }
    /* commit: nothing below can fail */
    memcpy(b->header.acc_digest, fx.digest, UTXO_HASH_BYTES);
    utxo_header_hash(&b->header, hash);
    bp_bundle_set_block(bd, hash);
    (void)utxo_header_sign(&b->header, c->sk);
    for (size_t k = 0; k < fx.n_spent; k++) {
        utxo_slot *s = slot_find(c, &fx.spent[k].outpoint);
        free(s->out.datum);
        memset(s, 0, sizeof *s);
        s->state = 2;
        c->used--;
        c->deleted++;
    }
    for (size_t j = 0; j < fx.n_created; j++) {
        slot_put(c, &fresh[j]);
        fresh[j].out.datum = NULL;
    }
    memcpy(c->tip_hash, hash, UTXO_HASH_BYTES);
    c->tip_time = b->header.time;
    c->next_height++;
    if (bundle != NULL) {
        *bundle = bd;
        bd = NULL;
    }
    rc = UTXO_OK;
    goto done;
undo:
    /* the block is refused: the forest goes back to before it */
    if (fx.acc_applied && cn_acc_forest_undo(c->forest, &fx) != UTXO_OK)
        c->broken = true;
done:
    if (chains != NULL) {
        for (size_t k = 0; k < n_in; k++)
            bp_rlist_clear(&chains[k]);
        free(chains);
    }
    if (bad_tx != NULL)
        *bad_tx = vd.tx;
    if (bad_in != NULL)
        *bad_in = vd.input;
    if (fresh != NULL)
        for (size_t j = 0; j < fx.n_created; j++)
            free(fresh[j].out.datum);
    free(fresh);
    cn_effects_clear(&fx);
    acc_proof_clear(&fa.proof);
    acc_proof_clear(&fa.ref_proof);
    utxo_bundle_free(bd);
    return rc;
}
