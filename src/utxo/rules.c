/*
 * rules.c — context-free consensus rules: what can be checked of a
 * transaction or a block without the UTXO set or the chain state. The
 * contextual rules (spent outputs exist, values balance, predicates accept,
 * signature, previous hash, accumulator digest) live with the validators.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "utxo/ledger_int.h"

static void set_idx(uint32_t *p, uint32_t v)
{
    if (p != NULL)
        *p = v;
}

/* a * b, saturating at UINT64_MAX */
static uint64_t mul_sat(uint64_t a, uint64_t b)
{
    uint64_t r;
    return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    uint64_t r;
    return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

/* An outpoint tagged with where it was spent, for duplicate search. */
struct spend {
    utxo_outpoint op;
    uint32_t tx;
    uint32_t input;
};

static int spend_cmp(const void *a, const void *b)
{
    const struct spend *x = a, *y = b;
    int c = memcmp(x->op.txid, y->op.txid, UTXO_HASH_BYTES);

    if (c != 0)
        return c;
    if (x->op.index != y->op.index)
        return x->op.index < y->op.index ? -1 : 1;
    /* ties broken by position so the reported duplicate is the later one */
    if (x->tx != y->tx)
        return x->tx < y->tx ? -1 : 1;
    return x->input < y->input ? -1 : (x->input > y->input);
}

/* Sorts s and finds the first duplicate outpoint in spending order; returns
 * true and sets *dup to the later spender when there is one. */
static bool find_duplicate(struct spend *s, size_t n, struct spend *dup)
{
    bool found = false;

    if (n > 1)
        qsort(s, n, sizeof *s, spend_cmp);
    for (size_t i = 1; i < n; i++) {
        if (memcmp(&s[i].op.txid, &s[i - 1].op.txid, UTXO_HASH_BYTES) == 0 &&
            s[i].op.index == s[i - 1].op.index) {
            if (!found || s[i].tx < dup->tx || (s[i].tx == dup->tx && s[i].input < dup->input))
                *dup = s[i];
            found = true;
        }
    }
    return found;
}

static int op_cmp(const void *a, const void *b)
{
    const utxo_outpoint *x = a, *y = b;
    int c = memcmp(x->txid, y->txid, UTXO_HASH_BYTES);

    if (c != 0)
        return c;
    return x->index < y->index ? -1 : (x->index > y->index);
}

/* The reference inputs of tx (docs/ENCODING.md, "Reference inputs"): none in
 * a coinbase, at most max_inputs, each named by a form-3 witness
 * (*bad_index: the reference), none twice (the later one), none spent by
 * the transaction itself (*bad_index: the spending input). */
static int refs_check(const utxo_tx *tx, const utxo_params *p, uint32_t *bad_index)
{
    utxo_outpoint *sorted;
    uint8_t *used;
    int rc = UTXO_OK;

    if (tx->n_inputs == 0)
        return UTXO_ERR_NONCANONICAL; /* not encodable: a coinbase has no refs field */
    if (tx->n_refs > p->max_inputs || tx->refs == NULL)
        return UTXO_ERR_TX_COUNT;
    if ((used = calloc(tx->n_refs, 1)) == NULL)
        return UTXO_ERR_NOMEM;
    for (uint32_t i = 0; i < tx->n_inputs; i++) {
        const utxo_witness *w = &tx->inputs[i].witness;
        if (w->form == UTXO_FORM_REF)
            used[w->ref] = 1; /* < n_refs: checked by the caller */
    }
    for (uint32_t k = 0; k < tx->n_refs && rc == UTXO_OK; k++)
        if (!used[k]) {
            set_idx(bad_index, k);
            rc = UTXO_ERR_TX_REF_UNUSED;
        }
    free(used);
    if (rc != UTXO_OK)
        return rc;
    {
        struct spend *r = malloc(tx->n_refs * sizeof *r), dup;
        if (r == NULL)
            return UTXO_ERR_NOMEM;
        for (uint32_t k = 0; k < tx->n_refs; k++) {
            r[k].op = tx->refs[k];
            r[k].tx = 0;
            r[k].input = k;
        }
        if (find_duplicate(r, tx->n_refs, &dup)) {
            set_idx(bad_index, dup.input);
            rc = UTXO_ERR_TX_REF_DUP;
        }
        free(r);
        if (rc != UTXO_OK)
            return rc;
    }
    if ((sorted = malloc(tx->n_refs * sizeof *sorted)) == NULL)
        return UTXO_ERR_NOMEM;
    memcpy(sorted, tx->refs, tx->n_refs * sizeof *sorted);
    if (tx->n_refs > 1)
        qsort(sorted, tx->n_refs, sizeof *sorted, op_cmp);
    for (uint32_t i = 0; i < tx->n_inputs && rc == UTXO_OK; i++)
        if (bsearch(&tx->inputs[i].prevout, sorted, tx->n_refs, sizeof *sorted, op_cmp)) {
            set_idx(bad_index, i);
            rc = UTXO_ERR_TX_REF_SPENT;
        }
    free(sorted);
    return rc;
}

int utxo_tx_check(const utxo_tx *tx, const utxo_params *p, uint32_t *bad_index)
{
    return tx_check_len(tx, p, SIZE_MAX, bad_index);
}

/* len: the encoded length, SIZE_MAX to compute it when it is needed. */
int tx_check_len(const utxo_tx *tx, const utxo_params *p, size_t len, uint32_t *bad_index)
{
    utxo_params def;
    uint64_t sum = 0, cycles = 0;
    struct spend *s;
    struct spend dup;
    bool has_dup;

    set_idx(bad_index, 0);
    if (tx == NULL)
        return UTXO_ERR_ARG;
    if (p == NULL) {
        utxo_params_default(&def);
        p = &def;
    }
    if (tx->version != UTXO_TX_VERSION)
        return UTXO_ERR_VERSION;
    if (tx->n_inputs > p->max_inputs || tx->n_outputs > p->max_outputs)
        return UTXO_ERR_TX_COUNT;
    if (tx->n_outputs == 0 && tx->n_inputs > 0)
        return UTXO_ERR_TX_NO_OUTPUTS;
    if (tx->n_inputs > 0 && tx->coinbase_height != 0)
        return UTXO_ERR_NONCANONICAL;
    for (uint32_t i = 0; i < tx->n_outputs; i++) {
        const utxo_output *o = &tx->outputs[i];
        set_idx(bad_index, i);
        if (o->value > UTXO_MAX_MONEY)
            return UTXO_ERR_TX_VALUE;
        sum += o->value;                /* both <= 2.1e15: cannot wrap */
        if (sum > UTXO_MAX_MONEY)
            return UTXO_ERR_TX_VALUE;
        if (o->datum_len > p->max_datum_bytes)
            return UTXO_ERR_TX_DATUM;
    }
    for (uint32_t i = 0; i < tx->n_inputs; i++) {
        const utxo_witness *w = &tx->inputs[i].witness;
        set_idx(bad_index, i);
        if (w->form == UTXO_FORM_TEMPLATE) {
            /* the parameters' fit to the template is checked where the
             * instance is built (the verifier: UTXO_ERR_TX_TEMPLATE_PARAMS) */
            if (w->tmpl >= UTXO_STD_KINDS)
                return UTXO_ERR_TX_TEMPLATE;
            if (w->params_len == 0 || w->params == NULL || w->params_len > UTXO_STD_PARAMS_MAX)
                return UTXO_ERR_TX_TEMPLATE_PARAMS;
        } else if (w->form == UTXO_FORM_REF) {
            if (w->ref >= tx->n_refs)
                return UTXO_ERR_TX_REF_INDEX;
            if (w->params_len > p->max_args_bytes || (w->params == NULL && w->params_len > 0))
                return UTXO_ERR_TX_DATUM;
        } else if (w->form != 0 && w->form != UTXO_FORM_IMAGE) {
            return UTXO_ERR_TX_FORM;
        } else if (w->image_len == 0 || w->image == NULL) {
            return UTXO_ERR_TX_WITNESS;
        }
        if (w->image_len > p->max_image_bytes || w->args_len > p->max_args_bytes)
            return UTXO_ERR_TX_DATUM;
        cycles = add_sat(cycles, w->budget);
        if (cycles > p->max_tx_cycles)
            return UTXO_ERR_TX_CYCLES;
    }
    set_idx(bad_index, 0);
    if ((len != SIZE_MAX ? len : utxo_tx_get_length(tx, true)) > p->max_tx_bytes)
        return UTXO_ERR_TX_SIZE;
    if (tx->n_refs > 0) {
        int rc = refs_check(tx, p, bad_index);
        if (rc != UTXO_OK)
            return rc;
    }
    if (tx->n_inputs < 2)
        return UTXO_OK;
    s = malloc(tx->n_inputs * sizeof *s);
    if (s == NULL)
        return UTXO_ERR_NOMEM;
    for (uint32_t i = 0; i < tx->n_inputs; i++) {
        s[i].op = tx->inputs[i].prevout;
        s[i].tx = 0;
        s[i].input = i;
    }
    has_dup = find_duplicate(s, tx->n_inputs, &dup);
    free(s);
    if (has_dup) {
        set_idx(bad_index, dup.input);
        return UTXO_ERR_TX_DUP_INPUT;
    }
    return UTXO_OK;
}

uint64_t utxo_tx_min_fee(const utxo_tx *tx, const utxo_params *p)
{
    return tx_min_fee_len(tx, p, SIZE_MAX);
}

uint64_t tx_min_fee_len(const utxo_tx *tx, const utxo_params *p, size_t len)
{
    uint64_t cycles = 0, kcycles;

    if (tx == NULL || p == NULL || utxo_tx_is_coinbase(tx))
        return 0;
    for (uint32_t i = 0; i < tx->n_inputs; i++)
        cycles = add_sat(cycles, tx->inputs[i].witness.budget);
    kcycles = cycles / 1024 + (cycles % 1024 != 0);
    if (len == SIZE_MAX)
        len = utxo_tx_get_length(tx, true);
    return add_sat(mul_sat(len, p->fee_per_byte),
                   mul_sat(kcycles, p->fee_per_kcycle));
}

static int txid_cmp(const void *a, const void *b)
{
    return memcmp(((const struct spend *)a)->op.txid, ((const struct spend *)b)->op.txid,
                  UTXO_HASH_BYTES);
}

/* Reference inputs across the block (docs/ENCODING.md, "Reference
 * inputs"): each names an output of an earlier block (not one of this
 * block's transactions: UTXO_ERR_BLOCK_REF_NEW) that no input of the block
 * spends (UTXO_ERR_BLOCK_REF_SPENT). ids: the n_txs txids, sorted; sp: the
 * block's n_sp spends, sorted by outpoint. The first offending reference
 * in block order is named (*bad_tx, *bad_index: its index in tx->refs). */
static int block_refs_check(const utxo_block *b, const struct spend *ids, const struct spend *sp,
                            size_t n_sp, uint32_t *bad_tx, uint32_t *bad_index)
{
    for (uint32_t t = 0; t < b->n_txs; t++) {
        const utxo_tx *tx = b->txs[t];
        for (uint32_t k = 0; k < tx->n_refs; k++) {
            struct spend key;
            memset(&key, 0, sizeof key);
            key.op = tx->refs[k];
            set_idx(bad_tx, t);
            set_idx(bad_index, k);
            if (bsearch(&key, ids, b->n_txs, sizeof *ids, txid_cmp) != NULL)
                return UTXO_ERR_BLOCK_REF_NEW;
            if (n_sp > 0 && bsearch(&key.op, sp, n_sp, sizeof *sp, op_cmp) != NULL)
                return UTXO_ERR_BLOCK_REF_SPENT;
        }
    }
    set_idx(bad_tx, 0);
    set_idx(bad_index, 0);
    return UTXO_OK;
}

int block_check_head(const utxo_block *b, const utxo_params *p, const block_pre *pre,
                     uint32_t *bad_tx, uint32_t *bad_index)
{
    utxo_params def;
    uint64_t cycles = 0;
    int rc;

    set_idx(bad_tx, 0);
    set_idx(bad_index, 0);
    if (b == NULL)
        return UTXO_ERR_ARG;
    if (p == NULL) {
        utxo_params_default(&def);
        p = &def;
    }
    if (b->header.version != UTXO_HEADER_VERSION)
        return UTXO_ERR_BLOCK_VERSION;
    if (b->n_txs == 0)
        return UTXO_ERR_BLOCK_EMPTY;
    if (b->n_txs > p->max_block_txs ||
        block_length_lens(b, pre != NULL ? pre->len : NULL) > p->max_block_bytes)
        return UTXO_ERR_BLOCK_SIZE;
    if (!utxo_tx_is_coinbase(b->txs[0]))
        return UTXO_ERR_BLOCK_COINBASE;
    if (b->txs[0]->coinbase_height != b->header.height)
        return UTXO_ERR_BLOCK_HEIGHT;
    for (uint32_t t = 0; t < b->n_txs; t++) {
        const utxo_tx *tx = b->txs[t];
        set_idx(bad_tx, t);
        if (t > 0 && utxo_tx_is_coinbase(tx))
            return UTXO_ERR_BLOCK_COINBASE;
        if (pre != NULL && pre->check != NULL) {
            set_idx(bad_index, pre->bad[t]);
            rc = pre->check[t];
        } else {
            rc = utxo_tx_check(tx, p, bad_index);
        }
        if (rc != UTXO_OK)
            return rc;
        set_idx(bad_index, 0);
        for (uint32_t i = 0; i < tx->n_inputs; i++) {
            cycles = add_sat(cycles, tx->inputs[i].witness.budget);
            if (cycles > p->max_block_cycles)
                return UTXO_ERR_BLOCK_CYCLES;
        }
    }
    set_idx(bad_tx, 0);
    return UTXO_OK;
}

int block_check_tail(const utxo_block *b, const uint8_t (*txids)[UTXO_HASH_BYTES],
                     uint32_t *bad_tx, uint32_t *bad_index)
{
    size_t n_spends = 0, k;
    struct spend *s, dup;
    int rc;

    set_idx(bad_tx, 0);
    set_idx(bad_index, 0);
    if (b == NULL || b->n_txs == 0)
        return b == NULL ? UTXO_ERR_ARG : UTXO_OK;
    for (uint32_t t = 0; t < b->n_txs; t++)
        n_spends += b->txs[t]->n_inputs; /* bounded by the block's decoded size */
    /* Duplicate txids: impossible for honest blocks (the coinbase commits to
     * the height and others spend distinct outputs) but checked, not assumed. */
    s = malloc((n_spends + b->n_txs) * sizeof *s);
    if (s == NULL)
        return UTXO_ERR_NOMEM;
    for (uint32_t t = 0; t < b->n_txs; t++) {
        memcpy(s[t].op.txid, txids[t], UTXO_HASH_BYTES);
        s[t].op.index = 0;
        s[t].tx = t;
        s[t].input = 0;
    }
    if (find_duplicate(s, b->n_txs, &dup)) {
        set_idx(bad_tx, dup.tx);
        free(s);
        return UTXO_ERR_BLOCK_DUP_TXID;
    }
    k = b->n_txs; /* s[0 .. n_txs): the txids, sorted */
    for (uint32_t t = 0; t < b->n_txs; t++)
        for (uint32_t i = 0; i < b->txs[t]->n_inputs; i++) {
            s[k].op = b->txs[t]->inputs[i].prevout;
            s[k].tx = t;
            s[k].input = i;
            k++;
        }
    if (find_duplicate(s + b->n_txs, n_spends, &dup)) {
        set_idx(bad_tx, dup.tx);
        set_idx(bad_index, dup.input);
        free(s);
        return UTXO_ERR_BLOCK_DOUBLE_SPEND;
    }
    rc = block_refs_check(b, s, s + b->n_txs, n_spends, bad_tx, bad_index);
    free(s);
    return rc;
}

int block_check_ids(const utxo_block *b, const utxo_params *p,
                    const uint8_t (*txids)[UTXO_HASH_BYTES],
                    const uint8_t (*wtxids)[UTXO_HASH_BYTES], const block_pre *pre,
                    uint32_t *bad_tx, uint32_t *bad_index)
{
    uint8_t root[UTXO_HASH_BYTES];
    int rc = block_check_head(b, p, pre, bad_tx, bad_index);

    if (rc != UTXO_OK)
        return rc;
    rc = pre != NULL && pre->leaf != NULL ? block_tx_root_leaves(b->n_txs, pre->leaf, root)
                     : block_tx_root_ids(b->n_txs, wtxids, root);
    if (rc != UTXO_OK)
        return rc;
    if (sodium_memcmp(root, b->header.tx_root, UTXO_HASH_BYTES) != 0)
        return UTXO_ERR_BLOCK_TX_ROOT;
    return block_check_tail(b, txids, bad_tx, bad_index);
}

int utxo_block_check(const utxo_block *b, const utxo_params *p, uint32_t *bad_tx, uint32_t *bad_index)
{
    uint8_t (*ids)[UTXO_HASH_BYTES];
    uint32_t n;
    int rc;

    set_idx(bad_tx, 0);
    set_idx(bad_index, 0);
    if (b == NULL)
        return UTXO_ERR_ARG;
    n = b->n_txs;
    if ((ids = malloc(2 * (size_t)(n ? n : 1) * sizeof *ids)) == NULL)
        return UTXO_ERR_NOMEM;
    for (uint32_t t = 0; t < n; t++) {
        utxo_tx_txid(b->txs[t], ids[t]);
        utxo_tx_wtxid(b->txs[t], ids[n + t]);
    }
    rc = block_check_ids(b, p, (const uint8_t (*)[UTXO_HASH_BYTES])ids,
                         (const uint8_t (*)[UTXO_HASH_BYTES])(ids + n), NULL, bad_tx, bad_index);
    free(ids);
    return rc;
}
