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

/* The bundle's referenced outputs, one per distinct reference of the block
 * in order, each bound to its own target of the reference proof. */
static int bundle_refs(void *ctx, const utxo_outpoint *ops, size_t n, cn_spent *out, size_t *bad)
{
    const utxo_bundle *bd = ((cn_bundle_view *)ctx)->bundle;
    uint8_t *bound;

    (void)ops;
    *bad = n < bd->n_refs ? n : 0;
    if (n != bd->n_refs || bd->ref_proof.n_targets != n)
        return UTXO_ERR_BUNDLE_SPENDS;
    if ((bound = calloc(n ? n : 1, 1)) == NULL)
        return UTXO_ERR_NOMEM;
    for (size_t k = 0; k < n; k++) {
        const bp_spent *e = &bd->refs[k];
        if (e->target >= n || bound[e->target]) {
            free(bound);
            *bad = k;
            return UTXO_ERR_BUNDLE_SPENDS;
        }
        bound[e->target] = 1;
        out[k].output = e->output;
        out[k].height = e->height;
        out[k].position = bd->ref_proof.targets[e->target];
    }
    free(bound);
    return UTXO_OK;
}

const cn_view_methods cn_bundle_view_methods = {bundle_begin, bundle_get, bundle_refs};

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

int cn_refs_by_get(int (*get)(void *, size_t, const utxo_outpoint *, cn_spent *), void *ctx,
                   const utxo_outpoint *ops, size_t n, cn_spent *out, size_t *bad)
{
    for (size_t k = 0; k < n; k++) {
        int rc = get(ctx, k, &ops[k], &out[k]);
        if (rc != UTXO_OK) {
            *bad = k;
            return rc;
        }
    }
    return UTXO_OK;
}

static int lookup_refs(void *ctx, const utxo_outpoint *ops, size_t n, cn_spent *out, size_t *bad)
{
    return cn_refs_by_get(lookup_get, ctx, ops, n, out, bad);
}

const cn_view_methods cn_lookup_view_methods = {NULL, lookup_get, lookup_refs};

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

/* The referenced leaves against the roots before the block (*r->st: apply
 * works on a copy), by the bundle's reference proof. */
static int roots_refs(void *ctx, const cn_spent *refs, const acc_hash *ref_hash, size_t n,
                      size_t *bad)
{
    cn_roots_acc *r = ctx;
    acc_hash *leaves = malloc((n ? n : 1) * sizeof *leaves);
    pos_ix *ix = sorted_spends(refs, n);
    int rc = UTXO_ERR_NOMEM;

    *bad = 0;
    if (leaves == NULL || ix == NULL)
        goto done;
    rc = r->ref_proof != NULL && r->ref_proof->n_targets == n ? UTXO_OK : UTXO_ERR_ACC_POSITION;
    for (size_t j = 0; j < n && rc == UTXO_OK; j++) {
        if (r->ref_proof->targets[j] != ix[j].pos) {
            *bad = ix[j].k;
            rc = UTXO_ERR_ACC_POSITION;
        }
        memcpy(leaves[j], ref_hash[ix[j].k], ACC_HASH_BYTES);
    }
    if (rc == UTXO_OK)
        rc = acc_stateless_verify(r->st, r->ref_proof, (const acc_hash *)leaves, n);
done:
    free(leaves);
    free(ix);
    return rc;
}

const cn_acc_methods cn_roots_acc_methods = {roots_count, roots_apply, NULL, roots_refs,
                                             NULL};

/* ---- a full forest ---------------------------------------------------------------- */

static uint64_t forest_count(void *ctx)
{
    return acc_forest_count(((cn_forest_acc *)ctx)->f);
}

/* The view's leaves v[0..n) (hashes h) must be the forest's, live (*bad:
 * the first that is not); *targets receives their positions, sorted (a
 * new array), refusing one position twice (UTXO_ERR_BLOCK_DOUBLE_SPEND). */
static int forest_targets(const acc_forest *f, const cn_spent *v, const acc_hash *h, size_t n,
                          uint64_t **targets, size_t *bad)
{
    uint64_t count = acc_forest_count(f);
    pos_ix *ix = NULL;
    int rc = UTXO_OK;

    *targets = NULL;
    *bad = 0;
    for (size_t k = 0; k < n && rc == UTXO_OK; k++) {
        acc_hash have;
        *bad = k;
        rc = v[k].position < count ? acc_forest_leaf(f, v[k].position, have)
                                   : UTXO_ERR_ACC_POSITION;
        if (rc == UTXO_OK && (acc_is_empty(have) || memcmp(have, h[k], ACC_HASH_BYTES)))
            rc = acc_is_empty(have) ? UTXO_ERR_ACC_SPENT : UTXO_ERR_ACC_PROOF;
    }
    if (rc != UTXO_OK)
        return rc;
    *bad = 0;
    if ((ix = sorted_spends(v, n)) == NULL ||
        (*targets = malloc((n ? n : 1) * sizeof **targets)) == NULL) {
        free(ix);
        return UTXO_ERR_NOMEM;
    }
    for (size_t j = 0; j < n && rc == UTXO_OK; j++) {
        if (j > 0 && ix[j].pos == ix[j - 1].pos)
            rc = UTXO_ERR_BLOCK_DOUBLE_SPEND;
        (*targets)[j] = ix[j].pos;
    }
    free(ix);
    if (rc != UTXO_OK) {
        free(*targets);
        *targets = NULL;
    }
    return rc;
}

static int forest_apply(void *ctx, const cn_spent *spent, const acc_hash *spent_hash, size_t n,
                        const acc_hash *adds, size_t n_adds, acc_state *after, size_t *bad)
{
    cn_forest_acc *fa = ctx;
    uint64_t *targets;
    int rc = forest_targets(fa->f, spent, spent_hash, n, &targets, bad);

    if (rc != UTXO_OK)
        return rc;
    acc_proof_clear(&fa->proof);
    acc_proof_init(&fa->proof);
    rc = acc_forest_apply_block(fa->f, targets, n, adds, n_adds, &fa->proof, NULL);
    if (rc == UTXO_OK)
        rc = acc_forest_state(fa->f, after);
    free(targets);
    return rc;
}

static int forest_persist(void *ctx, const cn_effects *fx)
{
    cn_forest_acc *fa = ctx;

    return fa->persist != NULL ? fa->persist(fa->persist_ctx, fx) : UTXO_OK;
}

/* Each referenced leaf is the forest's (live, same hash); their batch proof
 * for the bundle goes to fa->ref_proof. */
static int forest_refs(void *ctx, const cn_spent *refs, const acc_hash *ref_hash, size_t n,
                       size_t *bad)
{
    cn_forest_acc *fa = ctx;
    uint64_t *targets;
    int rc = forest_targets(fa->f, refs, ref_hash, n, &targets, bad);

    if (rc != UTXO_OK)
        return rc;
    acc_proof_clear(&fa->ref_proof);
    acc_proof_init(&fa->ref_proof);
    rc = acc_forest_prove(fa->f, targets, n, &fa->ref_proof);
    free(targets);
    return rc;
}

static int forest_begin(void *ctx)
{
    cn_forest_acc *fa = ctx;

    return fa->begin != NULL ? fa->begin(fa->persist_ctx) : UTXO_OK;
}

const cn_acc_methods cn_forest_acc_methods = {forest_count, forest_apply, forest_persist,
                                              forest_refs, forest_begin};

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

/* *out: entries for v[0..n) (datums copied), each bound to its rank by
 * position (the proof's targets are sorted). */
static int copy_entries(bp_spent **out, const cn_spent *v, size_t n)
{
    pos_ix *ix = sorted_spends(v, n);
    bp_spent *e = calloc(n ? n : 1, sizeof *e);

    *out = e;
    if (ix == NULL || e == NULL) {
        free(ix);
        return UTXO_ERR_NOMEM;
    }
    for (size_t j = 0; j < n; j++) {
        const cn_spent *s = &v[ix[j].k];
        bp_spent *d = &e[ix[j].k];
        d->target = (uint32_t)j;
        d->height = s->height;
        d->output = s->output;
        d->output.datum = NULL;
        d->output.datum_len = 0;
        if (s->output.datum_len > 0) {
            if ((d->output.datum = malloc(s->output.datum_len)) == NULL) {
                free(ix);
                return UTXO_ERR_NOMEM; /* the caller frees *out's datums */
            }
            memcpy(d->output.datum, s->output.datum, s->output.datum_len);
            d->output.datum_len = s->output.datum_len;
        }
    }
    free(ix);
    return UTXO_OK;
}

int cn_bundle_make(utxo_bundle **out, const cn_effects *fx, cn_forest_acc *fa)
{
    utxo_bundle *bd = bp_bundle_new();
    int rc = UTXO_ERR_NOMEM;

    *out = NULL;
    if (bd == NULL)
        goto done;
    bd->leaf_count = fx->count_before;
    memcpy(bd->block_hash, fx->block_hash, UTXO_HASH_BYTES);
    if (fx->n_spent > 0) {
        rc = copy_entries(&bd->spent, fx->spent, fx->n_spent);
        bd->n_spent = bd->spent != NULL ? fx->n_spent : 0; /* freed with bd on error */
        if (rc != UTXO_OK)
            goto done;
    }
    if (fx->n_refs > 0) {
        rc = copy_entries(&bd->refs, fx->refs, fx->n_refs);
        bd->n_refs = bd->refs != NULL ? fx->n_refs : 0;
        if (rc != UTXO_OK)
            goto done;
        acc_proof_clear(&bd->ref_proof);
        bd->ref_proof = fa->ref_proof;
        acc_proof_init(&fa->ref_proof);
    }
    acc_proof_clear(&bd->proof);
    bd->proof = fa->proof;
    acc_proof_init(&fa->proof);
    *out = bd;
    bd = NULL;
    rc = UTXO_OK;
done:
    utxo_bundle_free(bd);
    return rc;
}
