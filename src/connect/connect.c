/*
 * connect.c — cn_connect, the one function that connects a block
 * (connect.h has the stages, the interfaces and the verdict order;
 * docs/CONNECT.md the design). The accumulator half (stage 7) runs on a
 * helper thread while this thread runs the receipts and predicates
 * (stage 8); neither reads what the other writes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "connect/connect.h"
#include "utxo/ledger_int.h"
#include "predicates/stdpred.h"

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void cn_effects_clear(cn_effects *fx)
{
    if (fx == NULL)
        return;
    free(fx->txids);
    free(fx->wtxids);
    free(fx->sighash);
    free(fx->tx_len);
    bp_layout_clear(&fx->L);
    free(fx->spent);
    free(fx->spent_hash);
    free(fx->spent_tx);
    free(fx->spent_flat);
    free(fx->refs);
    free(fx->ref_hash);
    free(fx->ref_tx);
    free(fx->ref_flat);
    free(fx->created);
    free(fx->adds);
    memset(fx, 0, sizeof *fx);
}

/* The (tx, input) of the k-th input spending an earlier block's output;
 * 0, 0 when there is none. */
static void spend_at(const bp_layout *L, const utxo_block *b, size_t k, utxo_verdict *vd)
{
    vd->tx = vd->input = 0;
    if (k >= L->n_external)
        return;
    for (uint32_t t = 0; t < b->n_txs; t++)
        for (uint32_t i = 0; i < b->txs[t]->n_inputs; i++) {
            const bp_src *s = &L->src[L->in_off[t] + i];
            if (s->tx == BP_EXTERNAL && s->out == k) {
                vd->tx = t;
                vd->input = i;
                return;
            }
        }
}

/* ---- stage 7: the accumulator, on the helper thread ------------------------- */

typedef struct acc_job {
    const cn_args *a;
    const utxo_block *b;
    cn_effects *fx;
    int brc;        /* begin */
    int rc;         /* apply */
    int prc;        /* persist */
    bool digest_ok;
    size_t bad;
} acc_job;

static void acc_main(void *arg)
{
    acc_job *j = arg;
    cn_effects *fx = j->fx;
    uint64_t t0 = now_ns(), t1;

    j->prc = UTXO_OK;
    j->rc = UTXO_OK;
    j->bad = 0;
    if (j->a->acc->begin != NULL && (j->brc = j->a->acc->begin(j->a->acc_ctx)) != UTXO_OK)
        return; /* nothing applied: the verdict says so first */
    t0 = now_ns(); /* the begin hook's time is the caller's to count */
    for (size_t k = 0; k < fx->n_spent; k++)
        acc_leaf_hash(fx->spent_hash[k], &fx->spent[k].outpoint, &fx->spent[k].output,
                      fx->spent[k].height, fx->spent[k].position);
    for (size_t k = 0; k < fx->n_created; k++)
        acc_leaf_hash(fx->adds[k], &fx->created[k].outpoint, fx->created[k].output,
                      fx->created[k].height, fx->count_before + k);
    j->rc = j->a->acc->apply(j->a->acc_ctx, fx->spent, (const acc_hash *)fx->spent_hash,
                             fx->n_spent, (const acc_hash *)fx->adds, fx->n_created, &fx->acc,
                             &j->bad);
    t1 = now_ns();
    fx->ns_acc = t1 - t0;
    if (j->rc != UTXO_OK)
        return;
    fx->acc_applied = true;
    acc_state_digest(fx->digest, &fx->acc);
    j->digest_ok = (j->a->flags & CN_SEAL) ||
                   sodium_memcmp(fx->digest, j->b->header.acc_digest, UTXO_HASH_BYTES) == 0;
    if (j->digest_ok && j->a->acc->persist != NULL)
        j->prc = j->a->acc->persist(j->a->acc_ctx, fx);
    fx->ns_persist = now_ns() - t1;
}

/* ---- stage 8: rules, receipts, then predicates ------------------------------ */

/*
 * Verifies the receipt chains of the bundle, all segments of all chains on
 * one pool (utxo_segments_verify_batch); known[t][i] receives the proven
 * outcome of each input whose chain verifies (others: UTXO_VM_UNKNOWN).
 * The first failing chain in bundle order is reported.
 */
static int receipt_runs(const cn_args *a, const utxo_block *b, const cn_effects *fx,
                        utxo_vm_result *known_store, const utxo_vm_result **known,
                        utxo_verdict *vd)
{
    const utxo_bundle *bundle = a->bundle;
    const bp_layout *L = &fx->L;
    size_t n = bundle->n_receipts;
    utxo_seg_run *runs = calloc(n ? n : 1, sizeof *runs);
    utxo_txctx *ctx = calloc(n ? n : 1, sizeof *ctx);
    uint8_t **owned = calloc(n ? n : 1, sizeof *owned); /* template instances built here */
    int rc = UTXO_ERR_NOMEM;

    for (size_t k = 0; k < L->in_off[L->n_txs]; k++) {
        memset(&known_store[k], 0, sizeof known_store[k]);
        known_store[k].status = UTXO_VM_UNKNOWN;
    }
    if (runs == NULL || ctx == NULL || owned == NULL)
        goto done;
    for (size_t k = 0; k < n; k++) {
        const bp_receipt *r = &bundle->receipts[k];
        const utxo_tx *tx = b->txs[r->tx];
        const utxo_witness *w = &tx->inputs[r->input].witness;

        ctx[k].tx = tx;
        ctx[k].input_index = r->input;
        ctx[k].spent = fx->spent_tx[r->tx];
        ctx[k].height = b->header.height;
        memcpy(ctx[k].sighash, fx->sighash[r->tx], UTXO_HASH_BYTES);
        rc = stdpred_witness_image(w, fx->ref_tx ? fx->ref_tx[r->tx] : NULL, tx->n_refs,
                                   &runs[k].img, &runs[k].img_len, &owned[k]);
        if (rc != UTXO_OK) { /* the verdict the verifier would give this input */
            vd->tx = r->tx;
            vd->input = r->input;
            goto done;
        }
        runs[k].args = w->args;
        runs[k].args_len = w->args_len;
        runs[k].ctx = &ctx[k];
        runs[k].budget = w->budget;
        runs[k].page_limit = 0; /* the default, as the verifier runs */
        runs[k].receipts = (const utxo_receipt *const *)r->r;
        runs[k].n_receipts = r->n;
    }
    if ((rc = utxo_segments_verify_batch(runs, n, utxo_verifier_threads(a->verifier))) != UTXO_OK)
        goto done;
    for (size_t k = 0; rc != UTXO_ERR_NOMEM && k < n; k++) {
        const bp_receipt *r = &bundle->receipts[k];
        if (runs[k].rc != UTXO_OK) {
            if (rc == UTXO_OK || runs[k].rc == UTXO_ERR_NOMEM) {
                vd->tx = r->tx;
                vd->input = r->input;
                rc = runs[k].rc == UTXO_ERR_NOMEM ? UTXO_ERR_NOMEM : UTXO_ERR_BUNDLE_RECEIPT;
            }
            continue;
        }
        known_store[L->in_off[r->tx] + r->input] = runs[k].res;
        known[r->tx] = &known_store[L->in_off[r->tx]];
    }
done:
    for (size_t k = 0; owned != NULL && k < n; k++)
        free(owned[k]);
    free(owned);
    free(runs);
    free(ctx);
    return rc;
}

/* Stage 8 whole: *vd gets the verdict of the cheap checks, the receipts or
 * the verifier, in that order. */
static int run_predicates(const cn_args *a, const utxo_block *b, const cn_effects *fx,
                          utxo_verdict *vd)
{
    utxo_vm_result *known_store = NULL;
    const utxo_vm_result **known = NULL;
    size_t n_in = fx->L.in_off[fx->L.n_txs];
    utxo_verdict bundle_vd;
    int rc, bundle_rc = UTXO_OK;

    memset(vd, 0, sizeof *vd);
    memset(&bundle_vd, 0, sizeof bundle_vd);
    if (a->bundle != NULL && a->bundle->n_receipts > 0) {
        /* the block's own cheap checks before the bundle's receipts: an
         * invalid block gets the verdict it gets in every mode (a store
         * has no receipts), and no receipt is checked for it. They run
         * again in cn_verifier_block below: a linear pass, only for
         * blocks with receipts, whose chains cost far more */
        rc = cn_verifier_block_cheap(a->verifier, b, fx->spent_tx, fx->ref_tx,
                                     (const uint8_t (*)[UTXO_HASH_BYTES])fx->sighash, fx->tx_len,
                                     vd);
        if (rc != UTXO_OK)
            goto done;
        known_store = malloc((n_in ? n_in : 1) * sizeof *known_store);
        known = calloc(b->n_txs, sizeof *known);
        if (known_store == NULL || known == NULL) {
            rc = UTXO_ERR_NOMEM;
            goto done;
        }
        /* a chain that fails is the bundle's fault, and the block's own
         * faults come first, as for the cheap checks: its input runs
         * directly below (as on a node without receipts, within its
         * budget), and only a block whose predicates all accept gets the
         * bundle's verdict */
        bundle_rc = receipt_runs(a, b, fx, known_store, known, &bundle_vd);
        if ((rc = bundle_rc) == UTXO_ERR_NOMEM)
            goto done;
    }
    rc = cn_verifier_block(a->verifier, b, fx->spent_tx, fx->ref_tx, known,
                           (const uint8_t (*)[UTXO_HASH_BYTES])fx->sighash, fx->tx_len, vd);
    if (rc == UTXO_OK && bundle_rc != UTXO_OK) {
        *vd = bundle_vd;
        rc = bundle_rc;
    }
done:
    free(known_store);
    free(known);
    return vd->err = rc;
}

/* ---- stages 1-6 ---------------------------------------------------------------- */

/* Stage 1 but the signature (stage 3 checks it on the pool, beside the
 * hashing, and reports it first). */
static int check_header(const cn_args *a, const utxo_block *b, cn_effects *fx)
{
    static const uint8_t zero[UTXO_HASH_BYTES];
    const utxo_header *h = &b->header;

    if (h->height != a->next_height || h->height == UINT32_MAX)
        return UTXO_ERR_BLOCK_HEIGHT;
    if (sodium_memcmp(h->prev_hash, a->tip_hash ? a->tip_hash : zero, UTXO_HASH_BYTES) != 0)
        return UTXO_ERR_BLOCK_PREV;
    if (h->time < a->min_time)
        return UTXO_ERR_BLOCK_TIME;
    utxo_header_hash(h, fx->block_hash);
    return UTXO_OK;
}

/* Every receipt names an input of a non-coinbase transaction of b. */
static int check_receipts(const utxo_bundle *bundle, const utxo_block *b, utxo_verdict *vd)
{
    for (size_t k = 0; k < bundle->n_receipts; k++) {
        const bp_receipt *r = &bundle->receipts[k];
        if (r->tx == 0 || r->tx >= b->n_txs || r->input >= b->txs[r->tx]->n_inputs) {
            vd->tx = r->tx;
            vd->input = r->input;
            return UTXO_ERR_BUNDLE_RECEIPT;
        }
    }
    return UTXO_OK;
}

/* Below this many transactions a block's hashing stays on the calling
 * thread: waking the pool costs more than it saves. */
#define CN_PAR_HASH_TXS 8u

/* Per transaction, from the hashing tasks, for the block rules
 * (block_pre): utxo_tx_check's verdict and index, and the tx-root leaf. */
typedef struct tx_pre {
    int *check;
    uint32_t *bad;
    uint8_t (*leaf)[UTXO_HASH_BYTES];
} tx_pre;

static void tx_pre_clear(tx_pre *q)
{
    free(q->check);
    free(q->bad);
    free(q->leaf);
    memset(q, 0, sizeof *q);
}

typedef struct hash_job {
    const cn_args *a;
    const utxo_block *b;
    cn_effects *fx;
    tx_pre *q;
    bool sig;       /* task 0 checks the sequencer's signature */
    bool sig_ok;
} hash_job;

/* Task 0: the header signature (the longest task, so taken first) when
 * there is one to check; the others: one transaction's txid, wtxid and
 * (but the coinbase's) sighash, its context-free checks and its leaf in
 * the tx root. */
static void hash_task(void *arg, size_t k, unsigned worker)
{
    hash_job *j = arg;
    size_t t;

    (void)worker;
    if (j->sig && k == 0) {
        j->sig_ok = crypto_sign_verify_detached(j->b->header.sig, j->fx->block_hash,
                                                UTXO_HASH_BYTES,
                                                j->a->params->sequencer_pk) == 0;
        return;
    }
    t = j->sig ? k - 1 : k;
    tx_ids(j->b->txs[t], j->fx->txids[t], j->fx->wtxids[t], &j->fx->tx_len[t]);
    if (t > 0)
        tx_sighash_of_txid(j->fx->txids[t], j->a->params->chain_id, j->fx->sighash[t]);
    j->q->check[t] = tx_check_len(j->b->txs[t], j->a->params, j->fx->tx_len[t], &j->q->bad[t]);
    block_tx_leaf(j->fx->wtxids[t], j->q->leaf[t]);
}

/* The pool stages 1-7 may use: none with CN_NO_POOL (a predicate loop of
 * the caller's is in flight on it), or for a block too small to gain. */
static utxo_verifier *pool_of(const cn_args *a, const utxo_block *b)
{
    return (a->flags & CN_NO_POOL) || b->n_txs < CN_PAR_HASH_TXS ? NULL : a->verifier;
}

/* Stage 1's signature and stage 3's per-transaction work at once, on the
 * verifier's pool (each task writes only its own slots, so the bytes do
 * not depend on the threads): the signature is an Ed25519 verify, as long
 * as a spend's, and was serial before the first predicate. */
static int hash_block(const cn_args *a, const utxo_block *b, cn_effects *fx, tx_pre *q)
{
    size_t n = b->n_txs ? b->n_txs : 1;
    hash_job j = {a, b, fx, q, !(a->flags & CN_SEAL), false};

    fx->txids = malloc(n * sizeof *fx->txids);
    fx->wtxids = malloc(n * sizeof *fx->wtxids);
    fx->sighash = calloc(n, sizeof *fx->sighash);
    fx->tx_len = malloc(n * sizeof *fx->tx_len);
    q->check = malloc(n * sizeof *q->check);
    q->bad = malloc(n * sizeof *q->bad);
    q->leaf = malloc(n * sizeof *q->leaf);
    if (fx->txids == NULL || fx->wtxids == NULL || fx->sighash == NULL || fx->tx_len == NULL ||
        q->check == NULL || q->bad == NULL || q->leaf == NULL)
        return UTXO_ERR_NOMEM;
    cn_verifier_for(pool_of(a, b), b->n_txs + j.sig, hash_task, &j);
    return j.sig && !j.sig_ok ? UTXO_ERR_BLOCK_SIG : UTXO_OK;
}

/*
 * Stage 3's rules and stage 5's layout on the hashes and checks of
 * hash_block, as four tasks of one pool loop: the rules' head, the tx
 * root from the leaves, the rules' tail, the layout of spends
 * (block_check_head, _tail: ledger_int.h). Each writes only its own
 * result; cn_connect reads them in the verdict's order (head, root, tail;
 * layout; receipts), so the verdict does not depend on the threads.
 */
typedef struct part {
    int rc;
    uint32_t tx, input;
} part;

typedef struct rules_job {
    const cn_args *a;
    const utxo_block *b;
    cn_effects *fx;
    const tx_pre *q;
    uint8_t root[UTXO_HASH_BYTES];
    part head, root_part, tail, layout;
} rules_job;

static void rules_task(void *arg, size_t k, unsigned worker)
{
    rules_job *j = arg;
    const uint8_t (*txids)[UTXO_HASH_BYTES] = (const uint8_t (*)[UTXO_HASH_BYTES])j->fx->txids;
    block_pre pre = {j->q->check, j->q->bad, (const uint8_t (*)[UTXO_HASH_BYTES])j->q->leaf,
                     j->fx->tx_len};

    (void)worker;
    switch (k) {
    case 0:
        j->head.rc = block_check_head(j->b, j->a->params, &pre, &j->head.tx, &j->head.input);
        break;
    case 1:
        j->root_part.rc = block_tx_root_leaves(j->b->n_txs, pre.leaf, j->root);
        if (j->root_part.rc == UTXO_OK &&
            sodium_memcmp(j->root, j->b->header.tx_root, UTXO_HASH_BYTES) != 0)
            j->root_part.rc = UTXO_ERR_BLOCK_TX_ROOT;
        break;
    case 2:
        j->tail.rc = block_check_tail(j->b, txids, &j->tail.tx, &j->tail.input);
        break;
    default:
        j->layout.rc = bp_layout_build_ids(&j->fx->L, j->b, txids, &j->layout.tx,
                                           &j->layout.input);
        break;
    }
}

/* The first of the parts that failed, in order, into *vd; its code. */
static int first_failed(const part *const *parts, size_t n, utxo_verdict *vd)
{
    for (size_t i = 0; i < n; i++)
        if (parts[i]->rc != UTXO_OK) {
            vd->tx = parts[i]->tx;
            vd->input = parts[i]->input;
            return parts[i]->rc;
        }
    return UTXO_OK;
}

/* Stage 6: every spent output, from the block or the view. */
static int resolve_spent(const cn_args *a, const utxo_block *b, cn_effects *fx, utxo_verdict *vd)
{
    const bp_layout *L = &fx->L;
    size_t n_in = L->in_off[L->n_txs], ne = L->n_external, nc = L->n_created, bad = ne;
    int rc;

    fx->n_spent = ne;
    fx->n_created = nc;
    fx->spent = calloc(ne ? ne : 1, sizeof *fx->spent);
    fx->spent_hash = malloc((ne ? ne : 1) * sizeof *fx->spent_hash);
    fx->spent_flat = calloc(n_in ? n_in : 1, sizeof *fx->spent_flat);
    fx->spent_tx = calloc(b->n_txs, sizeof *fx->spent_tx);
    fx->created = malloc((nc ? nc : 1) * sizeof *fx->created);
    fx->adds = malloc((nc ? nc : 1) * sizeof *fx->adds);
    if (fx->spent == NULL || fx->spent_hash == NULL || fx->spent_flat == NULL ||
        fx->spent_tx == NULL || fx->created == NULL || fx->adds == NULL)
        return UTXO_ERR_NOMEM;
    if (a->view->begin != NULL &&
        (rc = a->view->begin(a->view_ctx, b, ne, &bad)) != UTXO_OK) {
        spend_at(L, b, bad, vd);
        return rc;
    }
    for (uint32_t t = 0; t < b->n_txs; t++) {
        const utxo_tx *tx = b->txs[t];
        fx->spent_tx[t] = t > 0 ? &fx->spent_flat[L->in_off[t]] : NULL;
        for (uint32_t i = 0; i < tx->n_inputs; i++) {
            const bp_src *s = &L->src[L->in_off[t] + i];
            cn_spent *e;
            if (s->tx != BP_EXTERNAL) {
                fx->spent_flat[L->in_off[t] + i] = b->txs[s->tx]->outputs[s->out];
                continue;
            }
            e = &fx->spent[s->out];
            e->outpoint = tx->inputs[i].prevout;
            rc = a->view->get(a->view_ctx, s->out, &e->outpoint, e);
            if (rc != UTXO_OK) {
                vd->tx = t;
                vd->input = i;
                return rc;
            }
            e->outpoint = tx->inputs[i].prevout;
            fx->spent_flat[L->in_off[t] + i] = e->output;
            fx->spent_value += e->output.value;
        }
    }
    bp_layout_created(L, b, fx->created);
    for (size_t j = 0; j < nc; j++)
        fx->created_value += fx->created[j].output->value;
    return UTXO_OK;
}

/*
 * Stage 6, reference inputs (docs/ENCODING.md): the distinct outputs the
 * block references, in order of first mention, from the view; their leaves
 * checked live in the accumulator before the block (acc->refs); per tx,
 * its refs' outputs (fx->ref_tx) for the predicate stage. A failure names
 * the first mention of the reference at fault (vd->input: its index in the
 * transaction's refs).
 */
static int resolve_refs(const cn_args *a, const utxo_block *b, cn_effects *fx, utxo_verdict *vd)
{
    size_t total = 0, n = 0, at = 0, bad = 0, *id = NULL, *first = NULL;
    utxo_outpoint *ops = NULL;
    int rc;

    for (uint32_t t = 0; t < b->n_txs; t++)
        total += b->txs[t]->n_refs; /* each <= max_inputs (the rules): no wrap */
    if (total == 0) {
        /* no reference, so a bundle carries no reference entry and no
         * reference proof: anything there would be unchecked padding */
        if (a->bundle != NULL && (a->bundle->n_refs != 0 || a->bundle->ref_proof.n_targets != 0)) {
            vd->tx = vd->input = 0;
            return UTXO_ERR_BUNDLE_SPENDS;
        }
        return UTXO_OK;
    }
    if ((rc = bp_block_refs(b, &ops, &n, &id, &first)) != UTXO_OK)
        goto done;
    rc = UTXO_ERR_NOMEM;
    fx->ref_tx = calloc(b->n_txs, sizeof *fx->ref_tx);
    fx->ref_flat = calloc(total, sizeof *fx->ref_flat);
    fx->refs = calloc(n, sizeof *fx->refs);
    fx->ref_hash = malloc(n * sizeof *fx->ref_hash);
    if (fx->ref_tx == NULL || fx->ref_flat == NULL || fx->refs == NULL || fx->ref_hash == NULL)
        goto done;
    fx->n_refs = n;
    fx->stage = CN_STAGE_VIEW;
    rc = a->view->refs != NULL ? a->view->refs(a->view_ctx, ops, n, fx->refs, &bad)
                               : UTXO_ERR_TX_MISSING;
    if (rc == UTXO_ERR_TX_MISSING)
        rc = UTXO_ERR_TX_REF_MISSING;
    if (rc != UTXO_OK)
        goto blame;
    for (size_t k = 0; k < n; k++) {
        fx->refs[k].outpoint = ops[k];
        acc_leaf_hash(fx->ref_hash[k], &ops[k], &fx->refs[k].output, fx->refs[k].height,
                      fx->refs[k].position);
    }
    fx->stage = CN_STAGE_ACC;
    bad = 0;
    rc = a->acc->refs != NULL
             ? a->acc->refs(a->acc_ctx, fx->refs, (const acc_hash *)fx->ref_hash, n, &bad)
             : UTXO_ERR_TX_REF_MISSING;
    if (rc != UTXO_OK)
        goto blame;
    for (size_t j = 0; j < total; j++)
        fx->ref_flat[j] = fx->refs[id[j]].output;
    for (uint32_t t = 0; t < b->n_txs; t++) {
        fx->ref_tx[t] = b->txs[t]->n_refs > 0 ? &fx->ref_flat[at] : NULL;
        at += b->txs[t]->n_refs;
    }
    goto done;
blame: /* the first mention of reference bad */
    if (bad < n) {
        at = first[bad];
        for (uint32_t t = 0; t < b->n_txs; t++) {
            if (at < b->txs[t]->n_refs) {
                vd->tx = t;
                vd->input = (uint32_t)at;
                break;
            }
            at -= b->txs[t]->n_refs;
        }
    }
done:
    free(ops);
    free(id);
    free(first);
    return rc;
}

/* ---- the core ------------------------------------------------------------------ */

int cn_connect(const cn_args *a, const utxo_block *b, cn_effects *fx, utxo_verdict *vd)
{
    utxo_verdict tmp, pv;
    tx_pre q = {NULL, NULL, NULL};
    rules_job rj;
    acc_job job;
    bool threaded = false, preds, defer;
    uint64_t t0 = now_ns(), t1;
    int rc;

    if (vd == NULL)
        vd = &tmp;
    memset(vd, 0, sizeof *vd);
    memset(&pv, 0, sizeof pv);
    if (fx == NULL)
        return vd->err = UTXO_ERR_ARG;
    memset(fx, 0, sizeof *fx);
    preds = !(a != NULL && (a->flags & CN_NO_PREDICATES));
    defer = a != NULL && (a->flags & CN_DEFER_PREDICATES);
    if (a == NULL || b == NULL || a->params == NULL || a->view == NULL || a->view->get == NULL ||
        a->acc == NULL || a->acc->count == NULL || a->acc->apply == NULL ||
        (preds && a->verifier == NULL) ||
        (defer && (a->acc->persist != NULL || a->acc->begin != NULL || (a->flags & CN_SEAL))))
        return vd->err = UTXO_ERR_ARG;
    /* 1-2. the header against the tip (its signature checked beside the
     * hashing of stage 3, and reported first); the bundle is this block's */
    fx->stage = CN_STAGE_HEADER;
    if (!(a->flags & CN_SEAL) && (rc = check_header(a, b, fx)) != UTXO_OK)
        goto fail;
    if ((rc = hash_block(a, b, fx, &q)) != UTXO_OK)
        goto fail;
    fx->count_before = a->acc->count(a->acc_ctx);
    fx->stage = CN_STAGE_BUNDLE;
    if (a->bundle != NULL && !(a->flags & CN_SEAL)) {
        if (sodium_memcmp(fx->block_hash, a->bundle->block_hash, UTXO_HASH_BYTES) != 0) {
            rc = UTXO_ERR_BUNDLE_BLOCK;
            goto fail;
        }
        if (a->bundle->leaf_count != fx->count_before) {
            rc = UTXO_ERR_BUNDLE_STATE;
            goto fail;
        }
    }
    /* 3. hashed once; the context-free rules (5's layout beside them) */
    fx->stage = CN_STAGE_RULES;
    memset(&rj, 0, sizeof rj);
    rj.a = a;
    rj.b = b;
    rj.fx = fx;
    rj.q = &q;
    cn_verifier_for(pool_of(a, b), 4, rules_task, &rj);
    tx_pre_clear(&q);
    {
        const part *rules[] = {&rj.head, &rj.root_part, &rj.tail};
        if ((rc = first_failed(rules, 3, vd)) != UTXO_OK)
            goto fail;
    }
    /* 5. the layout of spends, a fault of the block, before 4, one of
     * the bundle (an invalid block gets one verdict in every mode) */
    {
        const part *layout[] = {&rj.layout};
        if ((rc = first_failed(layout, 1, vd)) != UTXO_OK)
            goto fail;
    }
    /* 4. receipts name inputs */
    fx->stage = CN_STAGE_BUNDLE;
    if (a->bundle != NULL && (rc = check_receipts(a->bundle, b, vd)) != UTXO_OK)
        goto fail;
    /* 5. room in the accumulator */
    fx->stage = CN_STAGE_ACC;
    if (a->max_leaves != 0 && (fx->count_before >= a->max_leaves ||
                               fx->L.n_created >= a->max_leaves - fx->count_before)) {
        rc = UTXO_ERR_ACC_FULL;
        goto fail;
    }
    /* 6. the spent outputs */
    fx->stage = CN_STAGE_VIEW;
    if ((rc = resolve_spent(a, b, fx, vd)) != UTXO_OK)
        goto fail;
    if ((rc = resolve_refs(a, b, fx, vd)) != UTXO_OK)
        goto fail;
    /* 7 on a helper thread, 8 here */
    memset(&job, 0, sizeof job);
    job.a = a;
    job.b = b;
    job.fx = fx;
    t1 = now_ns();
    fx->ns_pre = t1 - t0;
    /* a helper thread pays when there is a second core's worth of work: a
     * persist hook (the store's writes) or a verifier with several threads */
    if (preds && !defer && fx->L.in_off[fx->L.n_txs] > 0 &&
        (a->acc->persist != NULL || utxo_verifier_threads(a->verifier) > 1))
        threaded = cn_verifier_spawn(a->verifier, acc_main, &job) == 0;
    if (!threaded)
        acc_main(&job);
    if (preds && !defer)
        run_predicates(a, b, fx, &pv);
    fx->ns_predicates = now_ns() - t1;
    if (threaded)
        cn_verifier_join(a->verifier);
    /* the verdict, in the fixed order */
    if ((rc = job.brc) != UTXO_OK) {
        fx->stage = CN_STAGE_PERSIST;
        goto fail;
    }
    if ((rc = job.rc) != UTXO_OK) {
        fx->stage = CN_STAGE_ACC;
        spend_at(&fx->L, b, job.bad, vd);
        goto fail;
    }
    if ((rc = pv.err) != UTXO_OK) {
        fx->stage = CN_STAGE_PREDICATES;
        *vd = pv;
        goto fail;
    }
    fx->owes_predicates = preds && defer; /* stage 8 is the caller's, before 9 */
    if (!job.digest_ok) {
        fx->stage = CN_STAGE_DIGEST;
        rc = UTXO_ERR_BLOCK_DIGEST;
        goto fail;
    }
    if ((rc = job.prc) != UTXO_OK) {
        fx->stage = CN_STAGE_PERSIST;
        goto fail;
    }
    fx->stage = CN_STAGE_NONE;
    vd->fees = pv.fees;
    vd->cycles = pv.cycles;
    vd->tx = vd->input = 0;
    return vd->err = UTXO_OK;
fail:
    tx_pre_clear(&q);
    vd->fees = 0;
    vd->cycles = 0;
    if (rc == UTXO_ERR_BLOCK_DIGEST || fx->stage == CN_STAGE_HEADER ||
        (fx->stage == CN_STAGE_BUNDLE && rc != UTXO_ERR_BUNDLE_RECEIPT) ||
        fx->stage == CN_STAGE_PERSIST)
        vd->tx = vd->input = 0;
    return vd->err = rc;
}

/* ---- stage 8 apart (CN_DEFER_PREDICATES) -------------------------------------- */

struct cn_stage8 {
    cn_vrun *run;        /* the loop in flight, or NULL: pv is the verdict */
    utxo_verdict pv;
    utxo_verifier *verifier;
};

int cn_stage8_start(const cn_args *a, const utxo_block *b, const cn_effects *fx,
                    cn_stage8 **out)
{
    cn_stage8 *s;

    *out = NULL;
    if (a == NULL || b == NULL || fx == NULL || !fx->owes_predicates || a->verifier == NULL)
        return UTXO_ERR_ARG;
    if ((s = calloc(1, sizeof *s)) == NULL)
        return UTXO_ERR_NOMEM;
    s->verifier = a->verifier;
    if (a->bundle != NULL && a->bundle->n_receipts > 0)
        run_predicates(a, b, fx, &s->pv); /* receipt chains first, all of it here */
    else
        cn_verifier_block_start(a->verifier, b, fx->spent_tx, fx->ref_tx,
                                (const uint8_t (*)[UTXO_HASH_BYTES])fx->sighash, fx->tx_len,
                                &s->run, &s->pv);
    *out = s;
    return UTXO_OK;
}

int cn_stage8_finish(cn_stage8 *s, int after, cn_effects *fx, utxo_verdict *vd)
{
    utxo_verdict pv = s->pv;

    if (s->run != NULL)
        cn_verifier_block_finish(s->verifier, s->run, &pv);
    free(s);
    fx->owes_predicates = false;
    if (pv.err != UTXO_OK) { /* stage 8 comes before the digest */
        fx->stage = CN_STAGE_PREDICATES;
        pv.fees = 0;
        pv.cycles = 0;
        *vd = pv;
        return vd->err;
    }
    if (after != UTXO_OK)
        return vd->err = after; /* vd holds cn_connect's verdict already */
    vd->fees = pv.fees;
    vd->cycles = pv.cycles;
    vd->tx = vd->input = 0;
    return vd->err = UTXO_OK;
}
