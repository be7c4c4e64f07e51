/*
 * chain/mempool.c — the sequencer's mempool (chain.h, mp_): transactions
 * validated against the confirmed UTXO set plus the outputs of the
 * transactions it already holds, kept in arrival order, and the choice of a
 * block's transactions by fee rate under the block limits, a transaction
 * never before one it spends. Rules and ordering: docs/CHAIN.md, "Mempool".
 *
 * Sizes: the pool is bounded (MP_MAX_TXS) and searched linearly, which is
 * what a sequencer that seals a block every few dozen transactions needs;
 * a pool of tens of thousands would want hash indexes here.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "chain/chain.h"
#include "connect/connect.h"
#include "utxo/codec.h"

typedef struct mp_entry {
    utxo_tx *tx;
    uint8_t txid[UTXO_HASH_BYTES];
    uint64_t fee, weight, seq;
    size_t bytes;
    uint64_t cycles;          /* sum of the input budgets */
    uint64_t bundle;          /* most bytes it can add to its block's bundle (bundle_bytes) */
    uint32_t *parents;        /* indexes of held transactions it spends */
    uint32_t n_parents;
    uint32_t height;          /* the height its predicates were run at */
    bool selected;            /* in the last mp_select */
} mp_entry;

struct mp_pool {
    utxo_params p;
    bp_lookup_fn lookup;
    void *ctx;
    utxo_verifier *ver;
    mp_entry *e;
    size_t n, cap;
    uint64_t next_seq;
    const utxo_tx **sel;      /* last selection, block order */
    size_t n_sel;
    uint32_t *map;            /* scratch for mp_remove_selected (m->n entries) */
    uint64_t max_tx_cycles;   /* policy: most cycles one transaction may declare */
    uint64_t max_bytes;       /* policy: most bytes of transactions held */
    uint64_t n_evicted;       /* held transactions evicted to make room, in all */
    uint64_t bundle_room;     /* policy: most bytes a block's bundle may need for its
                                 spent and referenced outputs (MP_BUNDLE_ROOM) */
    size_t cb_bytes;          /* the sequencer's coinbase (seq_coinbase_bytes) */
};

/* The length of the coinbase the sequencer puts first in every block
 * (chain_seq_seal: one output, no datum): a transaction is admitted only
 * if it fits a block beside it, or it would be held and never chosen. */
static size_t seq_coinbase_bytes(void)
{
    utxo_output o;
    utxo_tx cb;

    memset(&o, 0, sizeof o);
    memset(&cb, 0, sizeof cb);
    cb.version = UTXO_TX_VERSION;
    cb.outputs = &o;
    cb.n_outputs = 1;
    return utxo_tx_get_length(&cb, true);
}

int mp_new(mp_pool **out, const utxo_params *p, bp_lookup_fn lookup, void *ctx, unsigned threads)
{
    mp_pool *m;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || p == NULL || lookup == NULL)
        return UTXO_ERR_ARG;
    if ((m = calloc(1, sizeof *m)) == NULL)
        return UTXO_ERR_NOMEM;
    m->p = *p;
    m->lookup = lookup;
    m->ctx = ctx;
    m->max_tx_cycles = p->max_tx_cycles;
    m->max_bytes = MP_MAX_BLOCKS_HELD * (uint64_t)p->max_block_bytes;
    m->bundle_room = MP_BUNDLE_ROOM;
    m->cb_bytes = seq_coinbase_bytes();
    if ((m->ver = utxo_verifier_new(p, threads)) == NULL) {
        free(m);
        return UTXO_ERR_NOMEM;
    }
    *out = m;
    return UTXO_OK;
}

void mp_set_policy(mp_pool *m, uint64_t max_tx_cycles)
{
    if (m != NULL)
        m->max_tx_cycles = max_tx_cycles < m->p.max_tx_cycles ? max_tx_cycles : m->p.max_tx_cycles;
}

void mp_set_bundle_room(mp_pool *m, uint64_t bytes)
{
    if (m != NULL)
        m->bundle_room = bytes < MP_BUNDLE_ROOM ? bytes : MP_BUNDLE_ROOM;
}

static void entry_clear(mp_entry *e)
{
    utxo_tx_free(e->tx);
    free(e->parents);
}

/* Forgets the last selection (mp_select's sel and map). */
static void sel_clear(mp_pool *m)
{
    free(m->sel);
    free(m->map);
    m->sel = NULL;
    m->map = NULL;
    m->n_sel = 0;
}

/*
 * Removes the entries i with gone[i] (or, gone NULL, the selected ones)
 * and keeps the others in order, map[0..m->n) as scratch. With cascade,
 * an entry spending a removed one goes too (a child is always held after
 * its parents, so one pass marks them); without, a removed parent is
 * dropped from its children's parents (it is confirmed). Returns how many
 * went; the selection is forgotten.
 */
static size_t compact(mp_pool *m, uint8_t *gone, bool cascade, uint32_t *map)
{
    size_t w = 0, dropped = 0;

    for (size_t i = 0; i < m->n; i++) {
        bool g = gone ? gone[i] : m->e[i].selected;
        for (uint32_t j = 0; cascade && !g && j < m->e[i].n_parents; j++)
            g = map[m->e[i].parents[j]] == UINT32_MAX;
        if (g) {
            entry_clear(&m->e[i]);
            map[i] = UINT32_MAX;
            dropped++;
            continue;
        }
        map[i] = (uint32_t)w;
        m->e[w++] = m->e[i];
    }
    m->n = w;
    for (size_t i = 0; i < m->n; i++) { /* parents renumbered */
        mp_entry *e = &m->e[i];
        uint32_t k = 0;
        for (uint32_t j = 0; j < e->n_parents; j++)
            if (map[e->parents[j]] != UINT32_MAX)
                e->parents[k++] = map[e->parents[j]];
        e->n_parents = k;
    }
    if (map != m->map)
        free(map);
    sel_clear(m);
    return dropped;
}


void mp_free(mp_pool *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n; i++)
        entry_clear(&m->e[i]);
    free(m->e);
    free(m->sel);
    free(m->map);
    utxo_verifier_free(m->ver);
    free(m);
}

size_t mp_count(const mp_pool *m)
{
    return m ? m->n : 0;
}

uint64_t mp_bytes(const mp_pool *m)
{
    uint64_t b = 0;

    for (size_t i = 0; i < m->n; i++)
        b += m->e[i].bytes;
    return b;
}

uint64_t mp_evicted(const mp_pool *m)
{
    return m ? m->n_evicted : 0;
}

void mp_drop_last(mp_pool *m)
{
    if (m == NULL || m->n == 0)
        return;
    entry_clear(&m->e[--m->n]);
    m->n_sel = 0; /* a selection may have named it */
}

const utxo_tx *mp_tx(const mp_pool *m, size_t i, uint8_t txid[UTXO_HASH_BYTES])
{
    if (m == NULL || i >= m->n)
        return NULL;
    if (txid != NULL)
        memcpy(txid, m->e[i].txid, UTXO_HASH_BYTES);
    return m->e[i].tx;
}

/* The held transaction with this txid, or -1. */
static long find_txid(const mp_pool *m, const uint8_t txid[UTXO_HASH_BYTES])
{
    for (size_t i = 0; i < m->n; i++)
        if (memcmp(m->e[i].txid, txid, UTXO_HASH_BYTES) == 0)
            return (long)i;
    return -1;
}

/* True when a held transaction spends op. */
static bool spent_in_pool(const mp_pool *m, const utxo_outpoint *op)
{
    for (size_t i = 0; i < m->n; i++) {
        const utxo_tx *tx = m->e[i].tx;
        for (uint32_t k = 0; k < tx->n_inputs; k++)
            if (tx->inputs[k].prevout.index == op->index &&
                memcmp(tx->inputs[k].prevout.txid, op->txid, UTXO_HASH_BYTES) == 0)
                return true;
    }
    return false;
}

/* A transaction of the pool lists op as a reference input. */
static bool referenced_in_pool(const mp_pool *m, const utxo_outpoint *op)
{
    for (size_t i = 0; i < m->n; i++) {
        const utxo_tx *tx = m->e[i].tx;
        for (uint32_t k = 0; k < tx->n_refs; k++)
            if (tx->refs[k].index == op->index &&
                memcmp(tx->refs[k].txid, op->txid, UTXO_HASH_BYTES) == 0)
                return true;
    }
    return false;
}

/*
 * The outputs tx references (refs[k] for tx->refs[k], datums borrowed):
 * each must be an output of an earlier block (not of a pool transaction:
 * a block may not reference what it creates), unspent, and spent by no pool
 * transaction (a block may not both reference and spend an output), else
 * UTXO_ERR_TX_REF_MISSING or UTXO_ERR_MP_CONFLICT with *bad = k.
 */
static int pool_refs(mp_pool *m, const utxo_tx *tx, utxo_output *refs, uint32_t *bad)
{
    for (uint32_t k = 0; k < tx->n_refs; k++) {
        const utxo_outpoint *op = &tx->refs[k];
        const utxo_output *o;
        uint32_t h;
        uint64_t pos;
        *bad = k;
        if (find_txid(m, op->txid) >= 0 || m->lookup(m->ctx, op, &o, &h, &pos) != UTXO_OK)
            return UTXO_ERR_TX_REF_MISSING;
        refs[k] = *o;
        if (spent_in_pool(m, op))
            return UTXO_ERR_MP_CONFLICT;
    }
    return UTXO_OK;
}

static uint64_t tx_cycles(const utxo_tx *tx)
{
    uint64_t c = 0;

    for (uint32_t i = 0; i < tx->n_inputs; i++)
        c += tx->inputs[i].witness.budget; /* bounded by utxo_tx_check */
    return c;
}

/* What a transaction of len bytes adds to a block: its length prefix
 * (a varint, docs/ENCODING.md "Block") and its bytes. */
static size_t in_block_bytes(size_t len)
{
    return varint_len(len) + len;
}

/* Header, the largest varint tx count, and a coinbase of coinbase_bytes
 * with its length prefix. */
static size_t block_overhead(size_t coinbase_bytes)
{
    return UTXO_HEADER_BYTES + 5 + in_block_bytes(coinbase_bytes);
}

/*
 * The most bytes tx can add to its block's proof bundle (docs/STATELESS.md,
 * "Bundle"), spent and referenced outputs prepared (spent[], refs[]): per
 * input and per reference, an entry (target, height, value, id, datum
 * length: at most 55 bytes) with its datum, and its share of the batch
 * proof (a gap and at most 64 sibling slots of 32 bytes and a flag bit).
 * An input that spends a held transaction's output, or a reference
 * another transaction of the block also names, is counted all the same:
 * a bound, not the size.
 */
static uint64_t bundle_bytes(const utxo_tx *tx, const utxo_output *spent, const utxo_output *refs)
{
    uint64_t b = 0;

    for (uint32_t i = 0; i < tx->n_inputs; i++)
        b += MP_BUNDLE_PER_OUTPUT + spent[i].datum_len;
    for (uint32_t k = 0; k < tx->n_refs; k++)
        b += MP_BUNDLE_PER_OUTPUT + refs[k].datum_len;
    return b;
}

/* What a transaction spends and references, found by prepare(). */
typedef struct mp_pre {
    utxo_output *spent;  /* n_inputs; datums borrowed */
    utxo_output *refs;   /* n_refs, or NULL */
    uint32_t *parents;   /* held transactions it spends */
    uint32_t n_parents;
    uint8_t txid[UTXO_HASH_BYTES];
    uint8_t *evict;      /* the pool was full: entries to evict once it is
                            accepted (m->n + 1 marks, its own slot included),
                            else NULL */
    uint32_t *evict_map; /* as many entries: compact()'s scratch */
} mp_pre;

static void pre_clear(mp_pre *pr)
{
    free(pr->spent);
    free(pr->refs);
    free(pr->parents);
    free(pr->evict);
    free(pr->evict_map);
    memset(pr, 0, sizeof *pr);
}

/* a * b as a 128-bit number: *hi, *lo. */
static void mul128(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
    uint64_t al = a & 0xffffffffu, ah = a >> 32, bl = b & 0xffffffffu, bh = b >> 32;
    uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint64_t mid = (ll >> 32) + (lh & 0xffffffffu) + (hl & 0xffffffffu);

    *lo = (ll & 0xffffffffu) | (mid << 32);
    *hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

/* The fee rates a / b and c / d (weights b, d > 0) compared exactly, as
 * the 128-bit products a * d and c * b: -1, 0 or 1. No floating point: the
 * same order on every machine. */
static int cmp_rate(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
    uint64_t h1, l1, h2, l2;
    mul128(a, d, &h1, &l1);
    mul128(c, b, &h2, &l2);
    if (h1 != h2)
        return h1 > h2 ? 1 : -1;
    return l1 > l2 ? 1 : l1 < l2 ? -1 : 0;
}

/* a before b in a block: a higher fee rate, or the same and earlier. */
static bool better(const mp_entry *a, const mp_entry *b)
{
    int c = cmp_rate(a->fee, a->weight, b->fee, b->weight);
    return c != 0 ? c > 0 : a->seq < b->seq;
}

/* A transaction's weight: its bytes and its budgets per 1024 cycles (the
 * two quantities the default fee schedule prices at 1 each). */
static uint64_t weight_of(size_t bytes, uint64_t cycles)
{
    return bytes + (cycles + 1023) / 1024;
}

/* Whether cand (its minimum fee min_fee) may evict e: its rate at least
 * e's plus its own minimum rate, (fee - min_fee) / weight >= e's rate
 * (strictly above e's when the chain charges no fee). */
static bool outbids(const mp_entry *cand, uint64_t min_fee, const mp_entry *e)
{
    if (cand->fee < min_fee)
        return false;
    int c = cmp_rate(cand->fee - min_fee, cand->weight, e->fee, e->weight);
    return min_fee == 0 ? c > 0 : c >= 0;
}

/* Binary heap of entry indexes, the lowest fee rate (worst by better())
 * on top. */
static bool heap_below(const mp_pool *m, uint32_t a, uint32_t b)
{
    return better(&m->e[b], &m->e[a]);
}

static void heap_push(const mp_pool *m, uint32_t *h, size_t *n, uint32_t x)
{
    size_t i = (*n)++;
    while (i > 0 && heap_below(m, x, h[(i - 1) / 2])) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = x;
}

static uint32_t heap_pop(const mp_pool *m, uint32_t *h, size_t *n)
{
    uint32_t top = h[0], x = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && heap_below(m, h[c + 1], h[c]))
            c++;
        if (!heap_below(m, h[c], x))
            break;
        h[i] = h[c];
        i = c;
    }
    if (*n > 0)
        h[i] = x;
    return top;
}

/* What tx (prepared into *pr, len bytes, not held) pays: its inputs' values
 * less its outputs', 0 when they do not cover them (it will be refused). */
static uint64_t pre_fee(const utxo_tx *tx, const mp_pre *pr)
{
    uint64_t in = 0, out = 0;

    for (uint32_t i = 0; i < tx->n_inputs; i++)
        if (__builtin_add_overflow(in, pr->spent[i].value, &in))
            return 0;
    for (uint32_t i = 0; i < tx->n_outputs; i++)
        if (__builtin_add_overflow(out, tx->outputs[i].value, &out))
            return 0;
    return in > out ? in - out : 0;
}

/*
 * The pool has no room for tx (len bytes, prepared into *pr, not held):
 * chooses what to evict for it, lowest fee rate first, each a transaction
 * no other held one spends (a spender goes before what it spends), none
 * that tx spends, and tx's rate must beat each one's by its own minimum
 * fee rate (outbids): an evicted transaction paid nothing for the
 * predicates it ran, so transactions evicting each other must raise the
 * rate by a minimum fee's worth at every step, and the one that stays pays
 * for all of them; a small payment still evicts a large transaction of a
 * low rate without paying that one's fee. Sets pr->evict and
 * pr->evict_map, or returns UTXO_ERR_MP_FULL when the transactions it
 * outbids do not make room (nothing is evicted).
 */
static int plan_room(mp_pool *m, const utxo_tx *tx, mp_pre *pr, size_t len, uint64_t held)
{
    uint32_t *kids = calloc(m->n + 1, sizeof *kids), *heap = malloc((m->n + 1) * sizeof *heap);
    size_t nh = 0, count = m->n + 1;
    uint64_t bytes = held + len, min_fee = utxo_tx_min_fee(tx, &m->p);
    mp_entry cand;
    int rc = UTXO_ERR_MP_FULL;

    pr->evict = calloc(m->n + 1, 1);
    pr->evict_map = malloc((m->n + 1) * sizeof *pr->evict_map);
    if (kids == NULL || heap == NULL || pr->evict == NULL || pr->evict_map == NULL) {
        rc = UTXO_ERR_NOMEM;
        goto out;
    }
    memset(&cand, 0, sizeof cand);
    cand.fee = pre_fee(tx, pr);
    cand.weight = weight_of(len, tx_cycles(tx));
    for (size_t i = 0; i < m->n; i++)
        for (uint32_t j = 0; j < m->e[i].n_parents; j++)
            kids[m->e[i].parents[j]]++;
    for (uint32_t j = 0; j < pr->n_parents; j++)
        kids[pr->parents[j]]++;
    for (size_t i = 0; i < m->n; i++)
        if (kids[i] == 0)
            heap_push(m, heap, &nh, (uint32_t)i);
    while (count > MP_MAX_TXS || bytes > m->max_bytes) {
        if (nh == 0)
            goto out;
        uint32_t w = heap_pop(m, heap, &nh);
        const mp_entry *e = &m->e[w];
        if (!outbids(&cand, min_fee, e))
            goto out;
        pr->evict[w] = 1;
        count--;
        bytes -= e->bytes;
        for (uint32_t j = 0; j < e->n_parents; j++)
            if (--kids[e->parents[j]] == 0)
                heap_push(m, heap, &nh, e->parents[j]);
    }
    rc = UTXO_OK;
out:
    free(kids);
    free(heap);
    if (rc != UTXO_OK) {
        free(pr->evict);
        free(pr->evict_map);
        pr->evict = NULL;
        pr->evict_map = NULL;
    }
    return rc;
}

/* Every rule mp_submit checks before the contextual ones (utxo_verifier_tx),
 * against the pool as it is: on success *pr holds what tx spends. */
static int prepare(mp_pool *m, const utxo_tx *tx, mp_pre *pr, uint32_t *input)
{
    int rc;

    memset(pr, 0, sizeof *pr);
    if ((rc = utxo_tx_check(tx, &m->p, input)) != UTXO_OK)
        return rc;
    if (utxo_tx_is_coinbase(tx))
        return UTXO_ERR_TX_NO_INPUTS; /* coinbases come from the sequencer only */
    utxo_tx_txid(tx, pr->txid);
    if (find_txid(m, pr->txid) >= 0)
        return UTXO_ERR_MP_DUPLICATE;
    size_t len = utxo_tx_get_length(tx, true);
    uint64_t held = 0;
    for (size_t i = 0; i < m->n; i++)
        held += m->e[i].bytes;
    bool full = m->n >= MP_MAX_TXS || held + len > m->max_bytes;
    /* what a refused transaction costs the node is its declared budget
     * (nothing is paid for it): bounded by the node's policy */
    if (tx_cycles(tx) > m->max_tx_cycles)
        return UTXO_ERR_MP_POLICY;
    if (in_block_bytes(len) + block_overhead(m->cb_bytes) > m->p.max_block_bytes ||
        tx_cycles(tx) > m->p.max_block_cycles || m->p.max_block_txs < 2)
        return UTXO_ERR_MP_LIMIT;
    pr->spent = calloc(tx->n_inputs, sizeof *pr->spent);
    pr->parents = calloc(tx->n_inputs, sizeof *pr->parents);
    if (pr->spent == NULL || pr->parents == NULL)
        return UTXO_ERR_NOMEM;
    for (uint32_t i = 0; i < tx->n_inputs; i++) {
        const utxo_outpoint *op = &tx->inputs[i].prevout;
        long k = find_txid(m, op->txid);
        *input = i;
        if (k >= 0) {
            const utxo_tx *ptx = m->e[k].tx;
            if (op->index >= ptx->n_outputs)
                return UTXO_ERR_TX_MISSING;
            pr->spent[i] = ptx->outputs[op->index];
            bool seen = false;
            for (uint32_t j = 0; j < pr->n_parents; j++)
                seen |= pr->parents[j] == (uint32_t)k;
            if (!seen)
                pr->parents[pr->n_parents++] = (uint32_t)k;
        } else {
            const utxo_output *o;
            uint32_t h;
            uint64_t pos;
            if (m->lookup(m->ctx, op, &o, &h, &pos) != UTXO_OK)
                return UTXO_ERR_TX_MISSING;
            pr->spent[i] = *o; /* datum borrowed for the call */
        }
        if (spent_in_pool(m, op) || referenced_in_pool(m, op))
            return UTXO_ERR_MP_CONFLICT;
    }
    if (tx->n_refs > 0) {
        if ((pr->refs = calloc(tx->n_refs, sizeof *pr->refs)) == NULL)
            return UTXO_ERR_NOMEM;
        if ((rc = pool_refs(m, tx, pr->refs, input)) != UTXO_OK)
            return rc;
    }
    *input = 0;
    /* a block of it alone must have a bundle a proof record can hold */
    if (bundle_bytes(tx, pr->spent, pr->refs) > m->bundle_room)
        return UTXO_ERR_MP_LIMIT;
    return full ? plan_room(m, tx, pr, len, held) : UTXO_OK;
}

/* Holds a copy of tx (prepared into *pr, whose parents it takes) as the
 * last entry; its fee comes when it is judged (entry_judged). */
static int entry_add(mp_pool *m, const utxo_tx *tx, mp_pre *pr)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 64;
        mp_entry *ne = realloc(m->e, cap * sizeof *ne);
        if (ne == NULL)
            return UTXO_ERR_NOMEM;
        m->e = ne;
        m->cap = cap;
    }
    mp_entry *e = &m->e[m->n];
    memset(e, 0, sizeof *e);
    if ((e->tx = utxo_tx_clone(tx)) == NULL)
        return UTXO_ERR_NOMEM;
    memcpy(e->txid, pr->txid, UTXO_HASH_BYTES);
    e->bytes = utxo_tx_get_length(tx, true);
    e->cycles = tx_cycles(tx);
    e->weight = weight_of(e->bytes, e->cycles);
    e->bundle = bundle_bytes(tx, pr->spent, pr->refs);
    e->seq = m->next_seq++;
    e->parents = pr->parents;
    e->n_parents = pr->n_parents;
    pr->parents = NULL;
    m->n++;
    return UTXO_OK;
}

/* Drops the last entry, held before it was judged (its seq given back). */
static void entry_unhold(mp_pool *m)
{
    entry_clear(&m->e[--m->n]);
    m->next_seq--;
}

int mp_submit(mp_pool *m, const utxo_tx *tx, uint32_t height, utxo_verdict *v)
{
    utxo_verdict vd;
    int rc;

    if (m == NULL || tx == NULL) {
        memset(&vd, 0, sizeof vd);
        vd.err = UTXO_ERR_ARG;
        if (v != NULL)
            *v = vd;
        return UTXO_ERR_ARG;
    }
    rc = mp_submit_batch(m, &tx, 1, height, &vd, NULL);
    if (v != NULL)
        *v = vd;
    return rc;
}

/*
 * One round of mp_submit_batch over txs[0..n): each is prepared against the
 * pool holding the ones before it (held as if accepted) up to the first
 * that fails (its verdict is then v[that]); then the predicates of all the
 * held ones run at once (cn_verifier_txs). The accepted prefix stays; the
 * rest is let go. Returns how many transactions got their verdict (the
 * accepted ones and the first rejected one); the caller goes on after them.
 */
static size_t submit_round(mp_pool *m, const utxo_tx *const *txs, size_t n, uint32_t height,
                           utxo_verdict *v, mp_pre *pre, const utxo_output **spent,
                           const utxo_output **refs)
{
    size_t held = 0, ok = 0, judged;
    bool early = false; /* txs[held] got its verdict before predicates */
    int rc = UTXO_OK;

    for (; held < n; held++) {
        memset(&v[held], 0, sizeof v[held]);
        rc = prepare(m, txs[held], &pre[held], &v[held].input);
        /* the ones held before it are not judged yet (no fee): room is
         * made only for a transaction judged alone */
        if (rc == UTXO_OK && pre[held].evict != NULL && held > 0)
            rc = UTXO_ERR_MP_FULL;
        if (rc == UTXO_OK)
            rc = entry_add(m, txs[held], &pre[held]);
        if (rc != UTXO_OK) {
            pre_clear(&pre[held]);
            /* one that needs room behind others starts the next round */
            early = !(rc == UTXO_ERR_MP_FULL && held > 0);
            if (early)
                v[held].err = rc;
            else
                memset(&v[held], 0, sizeof v[held]);
            break;
        }
        spent[held] = pre[held].spent;
        refs[held] = pre[held].refs;
        if (pre[held].evict != NULL) {
            held++; /* it is judged alone, before anything is evicted */
            break;
        }
    }
    (void)cn_verifier_txs(m->ver, txs, held, spent, refs, height, v, &ok);
    for (size_t t = 0; t < ok; t++) {
        m->e[m->n - held + t].fee = v[t].fees;
        m->e[m->n - held + t].height = height;
    }
    if (ok < held) {
        /* txs[ok] rejected: the ones after it were prepared against a pool
         * holding it, so they (and txs[held]'s early verdict) start over */
        v[ok].fees = v[ok].cycles = 0;
        if (early)
            memset(&v[held], 0, sizeof v[held]);
        judged = ok + 1;
    } else {
        judged = held + early;
        if (held == 1 && pre[0].evict != NULL) {
            /* accepted into a full pool: now the room is made (the marks
             * name entries before it; compact takes the map) */
            m->n_evicted += compact(m, pre[0].evict, false, pre[0].evict_map);
            pre[0].evict_map = NULL;
        }
    }
    for (size_t t = held; t > ok; t--)
        entry_unhold(m);
    for (size_t t = 0; t < held; t++)
        pre_clear(&pre[t]);
    return judged;
}

int mp_submit_batch(mp_pool *m, const utxo_tx *const *txs, size_t n, uint32_t height,
                    utxo_verdict *v, size_t *n_accepted)
{
    mp_pre *pre = NULL;
    const utxo_output **spent = NULL, **refs = NULL;
    size_t done = 0, acc = 0;

    if (n_accepted != NULL)
        *n_accepted = 0;
    if (m == NULL || (n > 0 && (txs == NULL || v == NULL)))
        return UTXO_ERR_ARG;
    pre = calloc(n ? n : 1, sizeof *pre);
    spent = calloc(n ? n : 1, sizeof *spent);
    refs = calloc(n ? n : 1, sizeof *refs);
    if (pre == NULL || spent == NULL || refs == NULL) {
        free(pre);
        free(spent);
        free(refs);
        for (size_t t = 0; t < n; t++) {
            memset(&v[t], 0, sizeof v[t]);
            v[t].err = UTXO_ERR_NOMEM;
        }
        return UTXO_ERR_NOMEM;
    }
    while (done < n)
        done += submit_round(m, txs + done, n - done, height, v + done, pre, spent, refs);
    free(pre);
    free(spent);
    free(refs);
    for (size_t t = 0; t < n; t++)
        acc += v[t].err == UTXO_OK;
    if (n_accepted != NULL)
        *n_accepted = acc;
    for (size_t t = 0; t < n; t++)
        if (v[t].err != UTXO_OK)
            return v[t].err;
    return UTXO_OK;
}

int mp_select(mp_pool *m, size_t coinbase_bytes, const utxo_tx *const **txs, size_t *n,
              uint64_t *fees)
{
    uint8_t *skip = NULL;
    uint64_t bytes, cycles = 0, sum = 0, bundle = 0;
    size_t count = 1; /* the coinbase */

    if (txs != NULL)
        *txs = NULL;
    if (n != NULL)
        *n = 0;
    if (fees != NULL)
        *fees = 0;
    if (m == NULL || txs == NULL || n == NULL || fees == NULL)
        return UTXO_ERR_ARG;
    sel_clear(m);
    for (size_t i = 0; i < m->n; i++)
        m->e[i].selected = false;
    if (m->n > 0 && ((m->sel = malloc(m->n * sizeof *m->sel)) == NULL ||
                     (m->map = malloc(m->n * sizeof *m->map)) == NULL ||
                     (skip = calloc(m->n, 1)) == NULL)) {
        sel_clear(m);
        return UTXO_ERR_NOMEM;
    }
    bytes = block_overhead(coinbase_bytes);
    for (;;) {
        long best = -1;
        for (size_t i = 0; i < m->n; i++) {
            const mp_entry *e = &m->e[i];
            bool ready = !e->selected && !skip[i];
            for (uint32_t j = 0; ready && j < e->n_parents; j++)
                ready = m->e[e->parents[j]].selected;
            if (ready && (best < 0 || better(e, &m->e[best])))
                best = (long)i;
        }
        if (best < 0)
            break;
        mp_entry *e = &m->e[best];
        if (bytes + in_block_bytes(e->bytes) > m->p.max_block_bytes ||
            cycles + e->cycles > m->p.max_block_cycles || count + 1 > m->p.max_block_txs ||
            bundle + e->bundle > m->bundle_room) {
            skip[best] = 1; /* and so everything that spends it, this block */
            continue;
        }
        e->selected = true;
        bytes += in_block_bytes(e->bytes);
        cycles += e->cycles;
        bundle += e->bundle;
        count++;
        sum += e->fee;
        m->sel[m->n_sel++] = e->tx;
    }
    free(skip);
    *txs = m->sel;
    *n = m->n_sel;
    *fees = sum;
    return UTXO_OK;
}

void mp_remove_selected(mp_pool *m)
{
    if (m == NULL || m->n_sel == 0)
        return;
    /* map: allocated by mp_select, so this cannot fail; a confirmed
     * parent is no longer a dependency */
    (void)compact(m, NULL, false, m->map);
}

/* Drops the entries marked in gone[0..m->n) and every held transaction
 * that spends one, directly or not, keeping the others in order; returns
 * how many went, or SIZE_MAX out of memory (nothing dropped). */
static size_t drop_marked(mp_pool *m, uint8_t *gone)
{
    uint32_t *map = malloc((m->n ? m->n : 1) * sizeof *map);
    return map == NULL ? SIZE_MAX : compact(m, gone, true, map);
}

/* What held transaction e spends (spent[i] for input i: a held parent's
 * output or a confirmed one, datums borrowed) and references. */
static int entry_inputs(mp_pool *m, const mp_entry *e, utxo_output *spent, utxo_output *refs)
{
    const utxo_tx *tx = e->tx;
    uint32_t bad;

    for (uint32_t i = 0; i < tx->n_inputs; i++) {
        const utxo_outpoint *op = &tx->inputs[i].prevout;
        long k = find_txid(m, op->txid);
        const utxo_output *o;
        uint32_t h;
        uint64_t pos;
        if (k >= 0 && op->index < m->e[k].tx->n_outputs)
            spent[i] = m->e[k].tx->outputs[op->index];
        else if (k < 0 && m->lookup(m->ctx, op, &o, &h, &pos) == UTXO_OK)
            spent[i] = *o;
        else
            return UTXO_ERR_TX_MISSING;
    }
    return tx->n_refs > 0 ? pool_refs(m, tx, refs, &bad) : UTXO_OK;
}

/* The stale chosen ones idx[0..k) (entry order: parents first), judged at
 * height: each once, in runs of cn_verifier_txs, one run resumed after
 * each rejection; a rejected one and the stale ones spending it are
 * marked in gone, the others are judged at height now. */
static int judge_stale(mp_pool *m, const size_t *idx, size_t k, uint32_t height, uint8_t *gone)
{
    const utxo_tx **stx = calloc(k, sizeof *stx);
    const utxo_output **sp = calloc(k, sizeof *sp), **rf = calloc(k, sizeof *rf);
    utxo_output **own = calloc(2 * k, sizeof *own);
    const utxo_tx **rtx = calloc(k, sizeof *rtx);
    const utxo_output **rsp = calloc(k, sizeof *rsp), **rrf = calloc(k, sizeof *rrf);
    size_t *q = calloc(k, sizeof *q);
    utxo_verdict *v = calloc(k, sizeof *v);
    int rc = stx && sp && rf && own && rtx && rsp && rrf && q && v ? UTXO_OK : UTXO_ERR_NOMEM;

    for (size_t t = 0; rc == UTXO_OK && t < k; t++) {
        const mp_entry *e = &m->e[idx[t]];
        own[2 * t] = calloc(e->tx->n_inputs, sizeof *own[0]);
        own[2 * t + 1] = calloc(e->tx->n_refs ? e->tx->n_refs : 1, sizeof *own[0]);
        if (own[2 * t] == NULL || own[2 * t + 1] == NULL) {
            rc = UTXO_ERR_NOMEM;
            break;
        }
        stx[t] = e->tx;
        sp[t] = own[2 * t];
        rf[t] = e->tx->n_refs ? own[2 * t + 1] : NULL;
        if (entry_inputs(m, e, own[2 * t], own[2 * t + 1]) != UTXO_OK)
            gone[idx[t]] = 1; /* cannot be: what it spends was held or confirmed */
    }
    for (size_t pos = 0; rc == UTXO_OK && pos < k;) {
        size_t nr = 0, ok = 0;
        for (size_t t = pos; t < k; t++) { /* the rest, but what spends a rejected one */
            const mp_entry *e = &m->e[idx[t]];
            for (uint32_t j = 0; !gone[idx[t]] && j < e->n_parents; j++)
                gone[idx[t]] = gone[e->parents[j]];
            if (gone[idx[t]])
                continue;
            q[nr] = t;
            rtx[nr] = stx[t];
            rsp[nr] = sp[t];
            rrf[nr] = rf[t];
            nr++;
        }
        if (nr == 0)
            break;
        (void)cn_verifier_txs(m->ver, rtx, nr, rsp, rrf, height, v, &ok);
        for (size_t u = 0; u < ok; u++)
            m->e[idx[q[u]]].height = height;
        if (ok == nr)
            break;
        gone[idx[q[ok]]] = 1; /* no longer valid at this height */
        pos = q[ok] + 1;
    }
    for (size_t t = 0; own != NULL && t < 2 * k; t++)
        free(own[t]);
    free(stx);
    free(sp);
    free(rf);
    free(own);
    free(rtx);
    free(rsp);
    free(rrf);
    free(q);
    free(v);
    return rc;
}

int mp_select_valid(mp_pool *m, size_t coinbase_bytes, uint32_t height, const utxo_tx *const **txs,
                    size_t *n, uint64_t *fees, size_t *n_dropped)
{
    int rc;

    if (n_dropped != NULL)
        *n_dropped = 0;
    for (;;) {
        if ((rc = mp_select(m, coinbase_bytes, txs, n, fees)) != UTXO_OK)
            return rc;
        /* the chosen ones whose predicates ran at another height */
        size_t k = 0;
        for (size_t i = 0; i < m->n; i++)
            k += m->e[i].selected && m->e[i].height != height;
        if (k == 0)
            return UTXO_OK;
        size_t *idx = malloc(k * sizeof *idx);
        uint8_t *gone = calloc(m->n, 1);
        if (idx == NULL || gone == NULL) {
            free(idx);
            free(gone);
            return UTXO_ERR_NOMEM;
        }
        for (size_t i = 0, t = 0; i < m->n; i++)
            if (m->e[i].selected && m->e[i].height != height)
                idx[t++] = i;
        rc = judge_stale(m, idx, k, height, gone);
        free(idx);
        size_t marked = 0;
        for (size_t i = 0; rc == UTXO_OK && i < m->n; i++)
            marked += gone[i];
        if (rc != UTXO_OK || marked == 0) {
            free(gone);
            return rc; /* every chosen one holds at this height: the choice stands */
        }
        /* dropped with whatever spends them, all at once; then choose again
         * (what comes in instead is judged in the next round, each
         * transaction at most once per height) */
        size_t d = drop_marked(m, gone);
        free(gone);
        if (d == SIZE_MAX)
            return UTXO_ERR_NOMEM;
        if (n_dropped != NULL)
            *n_dropped += d;
    }
}
