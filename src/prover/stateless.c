/*
 * stateless.c — the stateless validator (utxo/stateless.h): a node that
 * holds the tip, the consensus parameters and the accumulator roots, and
 * checks each block with its proof bundle. Also the validator's state
 * encoding, the bytes such a node keeps between runs.
 *
 * Validation order (docs/STATELESS.md, "Validation order"): the cheap header
 * checks, the signature, the bundle's binding to this block and state, the
 * context-free block rules, the layout of spends (same block or bundle), the
 * accumulator proof with deletions and additions on a copy of the state, the
 * contextual rules with every predicate on the verifier's thread pool, and
 * last the digest. The state is replaced only when everything passed, so a
 * rejected block leaves the validator exactly as it was.
 *
 * Segment receipts: an input with a receipt chain in the bundle is not
 * executed; its chain is verified (utxo_segments_verify: every segment
 * re-executed from its witness, in parallel) and the outcome it proves
 * stands for the run in utxo_verifier_block_known. Every other input runs
 * directly on the verifier's pool.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "prover/blockproof.h"
#include "utxo/ledger_int.h"

/* State encoding: magic, version (docs/STATELESS.md, "Validator state"). */
static const uint8_t STATE_MAGIC[4] = {'u', 'x', 'v', 's'};
#define STATE_VERSION 1u
#define STATE_FIXED_BYTES 81u /* magic 4, version 1, chain id 32, height 4, hash 32, time 8 */

struct utxo_validator {
    utxo_params params;
    utxo_verifier *ver;
    uint32_t next_height;               /* 0 before genesis */
    uint8_t tip_hash[UTXO_HASH_BYTES];  /* zeros before genesis */
    uint64_t tip_time;                  /* 0 before genesis */
    acc_state acc;
};

utxo_validator *utxo_validator_new(const utxo_params *p, unsigned threads)
{
    utxo_validator *v;

    if (p == NULL || (v = calloc(1, sizeof *v)) == NULL)
        return NULL;
    v->params = *p;
    acc_state_init(&v->acc);
    if ((v->ver = utxo_verifier_new(p, threads)) == NULL) {
        free(v);
        return NULL;
    }
    return v;
}

void utxo_validator_free(utxo_validator *v)
{
    if (v == NULL)
        return;
    utxo_verifier_free(v->ver);
    free(v);
}

uint32_t utxo_validator_next_height(const utxo_validator *v)
{
    return v ? v->next_height : 0;
}

void utxo_validator_tip_hash(const utxo_validator *v, uint8_t out[UTXO_HASH_BYTES])
{
    if (v == NULL)
        memset(out, 0, UTXO_HASH_BYTES);
    else
        memcpy(out, v->tip_hash, UTXO_HASH_BYTES);
}

uint64_t utxo_validator_leaf_count(const utxo_validator *v)
{
    return v ? v->acc.count : 0;
}

unsigned utxo_validator_roots(const utxo_validator *v, uint8_t (*roots)[UTXO_HASH_BYTES],
                              unsigned n)
{
    unsigned k = 0;

    if (v == NULL)
        return 0;
    for (int r = ACC_MAX_ROOTS - 1; r >= 0; r--) {
        if (!((v->acc.count >> r) & 1))
            continue;
        if (roots != NULL && k < n)
            memcpy(roots[k], v->acc.roots[r], UTXO_HASH_BYTES);
        k++;
    }
    return k;
}

void utxo_validator_acc_digest(const utxo_validator *v, uint8_t out[UTXO_HASH_BYTES])
{
    acc_state empty;

    if (v == NULL) {
        acc_state_init(&empty);
        acc_state_digest(out, &empty);
        return;
    }
    acc_state_digest(out, &v->acc);
}

/* ---- block validation ------------------------------------------------------ */

/*
 * Verifies the receipt chains of the bundle, all segments of all chains on
 * one pool (utxo_segments_verify_batch); known[t][i] receives the proven
 * outcome of each input with receipts (others: UTXO_VM_UNKNOWN).
 * known_store has one slot per input of the block (flat, L's numbering).
 * The first failing chain in (tx, input) order is reported.
 */
static int check_receipt_runs(const utxo_validator *v, const utxo_block *b,
                              const utxo_bundle *bundle, const bp_layout *L,
                              const utxo_output *const *spent_tx, utxo_vm_result *known_store,
                              const utxo_vm_result **known, utxo_verdict *out)
{
    size_t n = bundle->n_receipts;
    utxo_seg_run *runs = calloc(n ? n : 1, sizeof *runs);
    utxo_txctx *ctx = calloc(n ? n : 1, sizeof *ctx);
    int rc = UTXO_ERR_NOMEM;

    for (size_t k = 0; k < L->in_off[L->n_txs]; k++) {
        memset(&known_store[k], 0, sizeof known_store[k]);
        known_store[k].status = UTXO_VM_UNKNOWN;
    }
    if (runs == NULL || ctx == NULL)
        goto done;
    for (size_t k = 0; k < n; k++) {
        const bp_receipt *r = &bundle->receipts[k];
        const utxo_tx *tx = b->txs[r->tx];
        const utxo_witness *w = &tx->inputs[r->input].witness;

        ctx[k].tx = tx;
        ctx[k].input_index = r->input;
        ctx[k].spent = spent_tx[r->tx];
        ctx[k].height = b->header.height;
        utxo_tx_sighash(tx, v->params.chain_id, ctx[k].sighash);
        runs[k].img = w->image;
        runs[k].img_len = w->image_len;
        runs[k].args = w->args;
        runs[k].args_len = w->args_len;
        runs[k].ctx = &ctx[k];
        runs[k].budget = w->budget;
        runs[k].page_limit = 0; /* the default, as utxo_verifier_block runs */
        runs[k].receipts = (const utxo_receipt *const *)r->r;
        runs[k].n_receipts = r->n;
    }
    rc = utxo_segments_verify_batch(runs, n, utxo_verifier_threads(v->ver));
    for (size_t k = 0; rc == UTXO_OK && k < n; k++) {
        const bp_receipt *r = &bundle->receipts[k];
        if (runs[k].rc != UTXO_OK) {
            out->tx = r->tx;
            out->input = r->input;
            rc = runs[k].rc == UTXO_ERR_NOMEM ? UTXO_ERR_NOMEM : UTXO_ERR_BUNDLE_RECEIPT;
            break;
        }
        known_store[L->in_off[r->tx] + r->input] = runs[k].res;
        known[r->tx] = &known_store[L->in_off[r->tx]];
    }
done:
    free(runs);
    free(ctx);
    return rc;
}

static int check_header(const utxo_validator *v, const utxo_block *b)
{
    static const uint8_t zero[UTXO_HASH_BYTES];
    const utxo_header *h = &b->header;
    uint64_t min_time = v->next_height == 0 ? v->params.genesis_time : v->tip_time;

    if (v->next_height == 0 && v->acc.count != 0)
        return UTXO_ERR_STATE;
    /* the last height is 2^32-2, so next_height never wraps */
    if (h->height != v->next_height || h->height == UINT32_MAX)
        return UTXO_ERR_BLOCK_HEIGHT;
    if (sodium_memcmp(h->prev_hash, v->next_height == 0 ? zero : v->tip_hash, UTXO_HASH_BYTES))
        return UTXO_ERR_BLOCK_PREV;
    if (h->time < min_time)
        return UTXO_ERR_BLOCK_TIME;
    return utxo_header_verify(h, v->params.sequencer_pk);
}

/* Every receipt names an input of a non-coinbase transaction of b. */
static int check_receipts(const utxo_bundle *bundle, const utxo_block *b, utxo_verdict *out)
{
    for (size_t k = 0; k < bundle->n_receipts; k++) {
        const bp_receipt *r = &bundle->receipts[k];
        if (r->tx == 0 || r->tx >= b->n_txs || r->input >= b->txs[r->tx]->n_inputs) {
            out->tx = r->tx;
            out->input = r->input;
            return UTXO_ERR_BUNDLE_RECEIPT;
        }
    }
    return UTXO_OK;
}

int utxo_validator_apply(utxo_validator *v, const utxo_block *b, const utxo_bundle *bundle,
                         utxo_verdict *out)
{
    utxo_verdict tmp;
    bp_layout L;
    acc_state next;
    acc_leaf *spent_leaves = NULL, *created = NULL;
    utxo_output *spent = NULL;
    const utxo_output **spent_tx = NULL;
    utxo_vm_result *known_store = NULL;
    const utxo_vm_result **known = NULL;
    uint8_t *bound = NULL;
    uint8_t hash[UTXO_HASH_BYTES], digest[UTXO_HASH_BYTES];
    int rc;

    if (out == NULL)
        out = &tmp;
    memset(out, 0, sizeof *out);
    memset(&L, 0, sizeof L);
    if (v == NULL || b == NULL || bundle == NULL)
        return out->err = UTXO_ERR_ARG;
    /* 1. header against the tip, and the sequencer's signature */
    rc = check_header(v, b);
    if (rc != UTXO_OK)
        return out->err = rc;
    /* 2. the bundle is this block's, made against this state */
    utxo_header_hash(&b->header, hash);
    if (sodium_memcmp(hash, bundle->block_hash, UTXO_HASH_BYTES) != 0)
        return out->err = UTXO_ERR_BUNDLE_BLOCK;
    if (bundle->leaf_count != v->acc.count)
        return out->err = UTXO_ERR_BUNDLE_STATE;
    /* 3. context-free rules (also run again inside utxo_verifier_block) */
    rc = utxo_block_check(b, &v->params, &out->tx, &out->input);
    if (rc != UTXO_OK)
        return out->err = rc;
    rc = check_receipts(bundle, b, out);
    if (rc != UTXO_OK)
        return out->err = rc;
    /* 4. where every spent output comes from */
    rc = bp_layout_build(&L, b, &out->tx, &out->input);
    if (rc != UTXO_OK)
        goto done;
    if (L.n_external != bundle->n_spent) {
        /* name the first input the bundle does not cover, if any */
        out->tx = out->input = 0;
        for (uint32_t t = 1; t < b->n_txs && L.n_external > bundle->n_spent; t++)
            for (uint32_t i = 0; i < b->txs[t]->n_inputs; i++) {
                const bp_src *s = &L.src[L.in_off[t] + i];
                if (s->tx == BP_EXTERNAL && s->out == bundle->n_spent) {
                    out->tx = t;
                    out->input = i;
                }
            }
        rc = UTXO_ERR_BUNDLE_SPENDS;
        goto done;
    }
    rc = UTXO_ERR_NOMEM;
    spent_leaves = malloc((L.n_external ? L.n_external : 1) * sizeof *spent_leaves);
    created = malloc((L.n_created ? L.n_created : 1) * sizeof *created);
    spent = malloc((L.in_off[L.n_txs] ? L.in_off[L.n_txs] : 1) * sizeof *spent);
    spent_tx = calloc(b->n_txs, sizeof *spent_tx);
    bound = calloc(L.n_external ? L.n_external : 1, 1);
    if (spent_leaves == NULL || created == NULL || spent == NULL || spent_tx == NULL ||
        bound == NULL)
        goto done;
    for (uint32_t t = 0; t < b->n_txs; t++) {
        spent_tx[t] = t > 0 ? &spent[L.in_off[t]] : NULL;
        for (uint32_t i = 0; i < b->txs[t]->n_inputs; i++) {
            const bp_src *s = &L.src[L.in_off[t] + i];
            if (s->tx == BP_EXTERNAL) {
                const bp_spent *e = &bundle->spent[s->out];
                acc_leaf *lf;
                /* decoded bundles are permutations already; one built in
                 * memory by a caller is checked here */
                if (e->target >= L.n_external || bound[e->target] ||
                    bundle->proof.n_targets != L.n_external) {
                    out->tx = t;
                    out->input = i;
                    rc = UTXO_ERR_BUNDLE_SPENDS;
                    goto done;
                }
                bound[e->target] = 1;
                lf = &spent_leaves[e->target];
                lf->outpoint = b->txs[t]->inputs[i].prevout;
                lf->output = &e->output;
                lf->height = e->height;
                spent[L.in_off[t] + i] = e->output;
            } else {
                spent[L.in_off[t] + i] = b->txs[s->tx]->outputs[s->out];
            }
        }
    }
    /* 5. the batch proof against the roots; deletions then additions */
    bp_layout_created(&L, b, created);
    next = v->acc;
    rc = acc_stateless_apply_block(&next, &bundle->proof, spent_leaves, L.n_external, created,
                                   L.n_created);
    if (rc != UTXO_OK) {
        /* the proof is checked as a whole: point at the first spend it covers */
        out->tx = out->input = 0;
        for (uint32_t t = 1; t < b->n_txs && out->tx == 0; t++)
            for (uint32_t i = 0; i < b->txs[t]->n_inputs; i++)
                if (L.src[L.in_off[t] + i].tx == BP_EXTERNAL) {
                    out->tx = t;
                    out->input = i;
                    break;
                }
        goto done;
    }
    /* 6. long runs through their receipts; then the contextual rules and
     * every other predicate, in parallel */
    if (bundle->n_receipts > 0) {
        known_store = malloc((L.in_off[L.n_txs] ? L.in_off[L.n_txs] : 1) * sizeof *known_store);
        known = calloc(b->n_txs, sizeof *known);
        if (known_store == NULL || known == NULL) {
            rc = UTXO_ERR_NOMEM;
            goto done;
        }
        rc = check_receipt_runs(v, b, bundle, &L, spent_tx, known_store, known, out);
        if (rc != UTXO_OK)
            goto done;
    }
    rc = utxo_verifier_block_known(v->ver, b, spent_tx, known, out);
    if (rc != UTXO_OK)
        goto done;
    /* 7. the header commits to the new accumulator */
    acc_state_digest(digest, &next);
    if (sodium_memcmp(digest, b->header.acc_digest, UTXO_HASH_BYTES) != 0) {
        out->tx = out->input = 0;
        rc = UTXO_ERR_BLOCK_DIGEST;
        goto done;
    }
    v->acc = next;
    memcpy(v->tip_hash, hash, UTXO_HASH_BYTES);
    v->tip_time = b->header.time;
    v->next_height = b->header.height + 1;
done:
    bp_layout_clear(&L);
    free(spent_leaves);
    free(created);
    free(spent);
    free(spent_tx);
    free(known_store);
    free(known);
    free(bound);
    return out->err = rc;
}

/* ---- state encoding -------------------------------------------------------- */

static void state_encode(enc *e, const utxo_validator *v)
{
    enc_bytes(e, STATE_MAGIC, sizeof STATE_MAGIC);
    enc_u8(e, STATE_VERSION);
    enc_bytes(e, v->params.chain_id, UTXO_HASH_BYTES);
    enc_u32(e, v->next_height);
    enc_bytes(e, v->tip_hash, UTXO_HASH_BYTES);
    enc_u64(e, v->tip_time);
    acc_state_encode(e, &v->acc);
}

size_t utxo_validator_state_get_length(const utxo_validator *v)
{
    return v ? STATE_FIXED_BYTES + acc_state_get_length(&v->acc) : 0;
}

int utxo_validator_state_to_bytes(const utxo_validator *v, uint8_t *out, size_t out_len,
                                  size_t *written)
{
    enc e;

    if (written != NULL)
        *written = 0;
    if (v == NULL || out == NULL || written == NULL)
        return UTXO_ERR_ARG;
    if (out_len < utxo_validator_state_get_length(v))
        return UTXO_ERR_ARG;
    enc_init(&e, out, out_len, NULL);
    state_encode(&e, v);
    if (!enc_ok(&e))
        return UTXO_ERR_INTERNAL;
    *written = e.len;
    return UTXO_OK;
}

int utxo_validator_from_state(utxo_validator **out, const utxo_params *p, const uint8_t *state,
                              size_t len, unsigned threads, size_t *err_offset)
{
    static const uint8_t zero[UTXO_HASH_BYTES];
    utxo_validator *v = NULL;
    uint8_t magic[sizeof STATE_MAGIC], chain[UTXO_HASH_BYTES];
    dec d;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (err_offset != NULL)
        *err_offset = 0;
    if (out == NULL || p == NULL || (state == NULL && len > 0))
        return UTXO_ERR_ARG;
    if ((v = utxo_validator_new(p, threads)) == NULL)
        return UTXO_ERR_NOMEM;
    dec_init(&d, state, len);
    dec_bytes(&d, magic, sizeof magic);
    if (d.err == UTXO_OK && memcmp(magic, STATE_MAGIC, sizeof magic) != 0)
        dec_fail(&d, UTXO_ERR_FILE_FORMAT, 0);
    if (dec_u8(&d) != STATE_VERSION && d.err == UTXO_OK)
        dec_fail(&d, UTXO_ERR_VERSION, 4);
    dec_bytes(&d, chain, sizeof chain);
    if (d.err == UTXO_OK && memcmp(chain, p->chain_id, sizeof chain) != 0)
        dec_fail(&d, UTXO_ERR_FILE_CHAIN, 5);
    v->next_height = dec_u32(&d);
    dec_bytes(&d, v->tip_hash, UTXO_HASH_BYTES);
    v->tip_time = dec_u64(&d);
    if (d.err == UTXO_OK)
        acc_state_decode(&d, &v->acc);
    dec_end(&d);
    /* before genesis there is no tip and no output: one encoding only */
    if (d.err == UTXO_OK && v->next_height == 0 &&
        (memcmp(v->tip_hash, zero, sizeof zero) != 0 || v->tip_time != 0 || v->acc.count != 0))
        dec_fail(&d, UTXO_ERR_STATE, 37);
    rc = dec_result(&d, err_offset);
    if (rc != UTXO_OK) {
        utxo_validator_free(v);
        return rc;
    }
    *out = v;
    return UTXO_OK;
}
