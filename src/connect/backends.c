/*
 * backends.c — the standard spent-output views and accumulator backends of
 * the block-connection core (connect.h): a proof bundle and a lookup
 * function as views; the roots only and a full forest as backends; and the
 * bundle a forest-backed connection yields.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "connect/connect.h"

/* ---- a proof bundle as the view ------------------------------------------------ */

static int bundle_begin(void *ctx, const utxo_block *b, size_t n_external, size_t *bad)
{
    cn_bundle_view *v = ctx;

    (void)b;
    free(v->bound);
    v->bound = NULL;
    if (n_external != v->bundle->n_spent) {
        *bad = v->bundle->n_spent; /* the first input it does not cover, if any */
        return UTXO_ERR_BUNDLE_SPENDS;
    }
    if ((v->bound = calloc(n_external ? n_external : 1, 1)) == NULL)
        return UTXO_ERR_NOMEM;
    return UTXO_OK;
}

static int bundle_get(void *ctx, size_t k, const utxo_outpoint *op, cn_spent *out)
{
    cn_bundle_view *v = ctx;
    const utxo_bundle *bd = v->bundle;
    const bp_spent *e = &bd->spent[k];

    (void)op;
    /* decoded bundles are permutations already; one built in memory by a
     * caller is checked here */
    if (e->target >= bd->n_spent || v->bound[e->target] || bd->proof.n_targets != bd->n_spent)
        return UTXO_ERR_BUNDLE_SPENDS;
    v->bound[e->target] = 1;
    out->output = e->output;
    out->height = e->height;
    out->position = bd->proof.targets[e->target];
    return UTXO_OK;
}

const cn_view_methods cn_bundle_view_methods = {bundle_begin, bundle_get};

void cn_bundle_view_clear(cn_bundle_view *v)
{
    free(v->bound);
    v->bound = NULL;
}

/* ---- a lookup function as the view --------------------------------------------- */

static int lookup_get(void *ctx, size_t k, const utxo_outpoint *op, cn_spent *out)
{
    cn_lookup_view *v = ctx;
    const utxo_output *o = NULL;
    int rc;

    (void)k;
    rc = v->lookup(v->ctx, op, &o, &out->height, &out->position);
    if (rc == UTXO_OK)
        out->output = *o;
    return rc;
}

const cn_view_methods cn_lookup_view_methods = {NULL, lookup_get};

/* ---- the roots only -------------------------------------------------------------- */

typedef struct pos_ix {
    uint64_t pos;
    size_t k;
} pos_ix;

static int cmp_pos_ix(const void *a, const void *b)
{
    uint64_t x = ((const pos_ix *)a)->pos, y = ((const pos_ix *)b)->pos;

    return x < y ? -1 : x > y;
}

/* ix[0..n) = the spends sorted by position. */
static pos_ix *sorted_spends(const cn_spent *spent, size_t n)
{
    pos_ix *ix = malloc((n ? n : 1) * sizeof *ix);

    if (ix == NULL)
        return NULL;
    for (size_t k = 0; k < n; k++) {
        ix[k].pos = spent[k].position;
        ix[k].k = k;
    }
    qsort(ix, n, sizeof *ix, cmp_pos_ix);
    return ix;
}

static uint64_t roots_count(void *ctx)
{
    return ((cn_roots_acc *)ctx)->st->count;
}

static int roots_apply(void *ctx, const cn_spent *spent, const acc_hash *spent_hash, size_t n,
                       const acc_hash *adds, size_t n_adds, acc_state *after, size_t *bad)
{
    cn_roots_acc *r = ctx;
    acc_hash *leaves = malloc((n ? n : 1) * sizeof *leaves);
    pos_ix *ix = sorted_spends(spent, n);
    int rc = UTXO_ERR_NOMEM;

    *bad = 0;
    if (leaves == NULL || ix == NULL)
        goto done;
    /* the proof's targets are strictly increasing: leaves in target order */
    rc = UTXO_OK;
    for (size_t j = 0; j < n && rc == UTXO_OK; j++) {
        if (j >= r->proof->n_targets || r->proof->targets[j] != ix[j].pos)
            rc = UTXO_ERR_ACC_POSITION;
        memcpy(leaves[j], spent_hash[ix[j].k], ACC_HASH_BYTES);
    }
    r->next = *r->st;
    if (rc == UTXO_OK)
        rc = acc_stateless_apply(&r->next, r->proof, (const acc_hash *)leaves, n, adds, n_adds);
    if (rc == UTXO_OK)
        *after = r->next;
done:
    free(leaves);
    free(ix);
    return rc;
}

const cn_acc_methods cn_roots_acc_methods = {roots_count, roots_apply, NULL};

/* ---- a full forest ---------------------------------------------------------------- */

static uint64_t forest_count(void *ctx)
{
    return acc_forest_count(((cn_forest_acc *)ctx)->f);
}

static int forest_apply(void *ctx, const cn_spent *spent, const acc_hash *spent_hash, size_t n,
                        const acc_hash *adds, size_t n_adds, acc_state *after, size_t *bad)
{
    cn_forest_acc *fa = ctx;
    uint64_t count = acc_forest_count(fa->f), *targets = NULL;
    pos_ix *ix = NULL;
    int rc = UTXO_OK;

    *bad = 0;
    /* the view's data must be what the forest holds */
    for (size_t k = 0; k < n && rc == UTXO_OK; k++) {
        acc_hash have;
        *bad = k;
        rc = spent[k].position < count ? acc_forest_leaf(fa->f, spent[k].position, have)
                                       : UTXO_ERR_ACC_POSITION;
        if (rc == UTXO_OK && (acc_is_empty(have) || memcmp(have, spent_hash[k], ACC_HASH_BYTES)))
            rc = acc_is_empty(have) ? UTXO_ERR_ACC_SPENT : UTXO_ERR_ACC_PROOF;
    }
    if (rc != UTXO_OK)
        return rc;
    *bad = 0;
    if ((ix = sorted_spends(spent, n)) == NULL ||
        (targets = malloc((n ? n : 1) * sizeof *targets)) == NULL) {
        rc = UTXO_ERR_NOMEM;
        goto done;
    }
    for (size_t j = 0; j < n; j++) {
        if (j > 0 && ix[j].pos == ix[j - 1].pos) {
            rc = UTXO_ERR_BLOCK_DOUBLE_SPEND;
            goto done;
        }
        targets[j] = ix[j].pos;
    }
    acc_proof_clear(&fa->proof);
    acc_proof_init(&fa->proof);
    rc = acc_forest_apply_block(fa->f, targets, n, adds, n_adds, &fa->proof, NULL);
    if (rc == UTXO_OK)
        rc = acc_forest_state(fa->f, after);
done:
    free(ix);
    free(targets);
    return rc;
}

static int forest_persist(void *ctx, const cn_effects *fx)
{
    cn_forest_acc *fa = ctx;

    return fa->persist != NULL ? fa->persist(fa->persist_ctx, fx) : UTXO_OK;
}

const cn_acc_methods cn_forest_acc_methods = {forest_count, forest_apply, forest_persist};

int cn_acc_forest_undo(acc_forest *f, const cn_effects *fx)
{
    pos_ix *ix = sorted_spends(fx->spent, fx->n_spent);
    uint64_t *targets = malloc((fx->n_spent ? fx->n_spent : 1) * sizeof *targets);
    acc_hash *leaves = malloc((fx->n_spent ? fx->n_spent : 1) * sizeof *leaves);
    int rc = UTXO_ERR_NOMEM;

    if (ix != NULL && targets != NULL && leaves != NULL) {
        for (size_t j = 0; j < fx->n_spent; j++) {
            targets[j] = ix[j].pos;
            memcpy(leaves[j], fx->spent_hash[ix[j].k], ACC_HASH_BYTES);
        }
        rc = acc_forest_undo(f, fx->count_before, targets, (const acc_hash *)leaves,
                             fx->n_spent);
    }
    free(ix);
    free(targets);
    free(leaves);
    return rc;
}

int cn_bundle_make(utxo_bundle **out, const cn_effects *fx, cn_forest_acc *fa)
{
    utxo_bundle *bd = bp_bundle_new();
    pos_ix *ix = sorted_spends(fx->spent, fx->n_spent);
    int rc = UTXO_ERR_NOMEM;

    *out = NULL;
    if (bd == NULL || ix == NULL ||
        (fx->n_spent > 0 && (bd->spent = calloc(fx->n_spent, sizeof *bd->spent)) == NULL))
        goto done;
    bd->n_spent = fx->n_spent;
    bd->leaf_count = fx->count_before;
    memcpy(bd->block_hash, fx->block_hash, UTXO_HASH_BYTES);
    for (size_t j = 0; j < fx->n_spent; j++) {
        const cn_spent *s = &fx->spent[ix[j].k];
        bp_spent *e = &bd->spent[ix[j].k];
        e->target = (uint32_t)j;
        e->height = s->height;
        e->output = s->output;
        e->output.datum = NULL;
        e->output.datum_len = 0;
        if (s->output.datum_len > 0) {
            if ((e->output.datum = malloc(s->output.datum_len)) == NULL)
                goto done;
            memcpy(e->output.datum, s->output.datum, s->output.datum_len);
            e->output.datum_len = s->output.datum_len;
        }
    }
    acc_proof_clear(&bd->proof);
    bd->proof = fa->proof;
    acc_proof_init(&fa->proof);
    *out = bd;
    bd = NULL;
    rc = UTXO_OK;
done:
    utxo_bundle_free(bd);
    free(ix);
    return rc;
}
