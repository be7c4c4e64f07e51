/*
 * blockproof.c — the block proof bundle (utxo/stateless.h, internals in
 * blockproof.h): its strict encoding, the block layout that the prover and
 * the validator derive identically from a block (which inputs spend outputs
 * of the same block, which outputs enter the accumulator). Bundles are
 * made by the block-connection core over a forest (src/connect).
 *
 * Encoding (docs/STATELESS.md, "Bundle"): u8 version; 32-byte block hash;
 * varint leaf count before the block; the accumulator batch proof
 * (docs/ACCUMULATOR.md); one spent entry per proof target, in block input
 * order: varint target index, varint creation height, output (u64 value,
 * predicate id, varint datum length, datum); varint receipt count; per
 * input with receipts: varint tx, varint input, varint chain length, then
 * each receipt as varint length and its bytes (utxo/segments.h, decoded
 * strictly here). The target indices
 * are a permutation (each target bound to exactly one input) and receipts
 * come in strictly increasing (tx, input) order, so every bundle has one
 * encoding.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "prover/blockproof.h"
#include "prover/receipt.h"
#include "utxo/blockfile.h"
#include "utxo/ledger_int.h"

/* Smallest encoded spent entry: target, height, value, id, datum length. */
#define MIN_SPENT_BYTES (1u + 1u + 8u + UTXO_HASH_BYTES + 1u)
/* Smallest receipt entry: tx, input, count, one length, one byte. */
#define MIN_RECEIPT_BYTES 5u

utxo_bundle *bp_bundle_new(void)
{
    utxo_bundle *b = calloc(1, sizeof *b);

    if (b != NULL) {
        acc_proof_init(&b->proof);
        acc_proof_init(&b->ref_proof);
    }
    return b;
}

void utxo_bundle_free(utxo_bundle *b)
{
    if (b == NULL)
        return;
    acc_proof_clear(&b->proof);
    for (size_t i = 0; i < b->n_spent; i++)
        free(b->spent[i].output.datum);
    free(b->spent);
    acc_proof_clear(&b->ref_proof);
    for (size_t i = 0; i < b->n_refs; i++)
        free(b->refs[i].output.datum);
    free(b->refs);
    for (size_t i = 0; i < b->n_receipts; i++) {
        for (size_t k = 0; k < b->receipts[i].n; k++)
            utxo_receipt_free(b->receipts[i].r[k]);
        free(b->receipts[i].r);
    }
    free(b->receipts);
    free(b);
}

void bp_bundle_set_block(utxo_bundle *bundle, const uint8_t h[UTXO_HASH_BYTES])
{
    memcpy(bundle->block_hash, h, UTXO_HASH_BYTES);
}

int bp_bundle_add_receipt(utxo_bundle *bundle, uint32_t tx, uint32_t input, utxo_receipt *const *r,
                          size_t n)
{
    bp_receipt *e;

    if (bundle == NULL || r == NULL || n == 0)
        return UTXO_ERR_ARG;
    for (size_t k = 0; k < n; k++)
        if (r[k] == NULL)
            return UTXO_ERR_ARG;
    if (bundle->n_receipts > 0) {
        const bp_receipt *last = &bundle->receipts[bundle->n_receipts - 1];
        if (tx < last->tx || (tx == last->tx && input <= last->input))
            return UTXO_ERR_ARG;
    }
    e = realloc(bundle->receipts, (bundle->n_receipts + 1) * sizeof *e);
    if (e == NULL)
        return UTXO_ERR_NOMEM;
    bundle->receipts = e;
    e = &e[bundle->n_receipts];
    if ((e->r = malloc(n * sizeof *e->r)) == NULL)
        return UTXO_ERR_NOMEM;
    memcpy(e->r, r, n * sizeof *r);
    e->n = n;
    e->tx = tx;
    e->input = input;
    bundle->n_receipts++;
    return UTXO_OK;
}

int bp_rlist_sink(void *ud, utxo_receipt *r)
{
    bp_rlist *l = ud;

    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        utxo_receipt **p = realloc(l->r, cap * sizeof *p);
        if (p == NULL) {
            utxo_receipt_free(r);
            return 1;
        }
        l->r = p;
        l->cap = cap;
    }
    l->r[l->n++] = r;
    return 0;
}

void bp_rlist_clear(bp_rlist *l)
{
    for (size_t k = 0; k < l->n; k++)
        utxo_receipt_free(l->r[k]);
    free(l->r);
    memset(l, 0, sizeof *l);
}

/* A chain being proven for one input, refused once its receipts exceed
 * room bytes of the bundle's encoding. */
typedef struct room_sink {
    bp_rlist *l;
    size_t used, room;
    bool over;
} room_sink;

static int room_sink_add(void *ud, utxo_receipt *r)
{
    room_sink *s = ud;
    size_t len = 0;

    (void)utxo_receipt_bytes(r, &len);
    len += varint_len(len);
    if (len > s->room - s->used) {
        s->over = true;
        utxo_receipt_free(r);
        return 1;
    }
    s->used += len;
    return bp_rlist_sink(s->l, r);
}

int bp_prove_input(bp_rlist *l, size_t *room, uint32_t tx, uint32_t input, const uint8_t *img,
                   size_t img_len, const utxo_witness *w, const utxo_txctx *ctx, unsigned po2)
{
    room_sink s = {l, 0, *room, false};
    utxo_vm_result res;
    size_t entry;
    int rc = utxo_segments_prove(&res, img, img_len, w->args, w->args_len, ctx, w->budget, po2, 0,
                                 room_sink_add, &s);

    if (rc == UTXO_ERR_SEG_HOSTCALL || rc == UTXO_ERR_TOO_LARGE || (rc == UTXO_ERR_IO && s.over))
        rc = UTXO_OK; /* validators run it: the receipts so far go too */
    else if (rc == UTXO_ERR_IO)
        rc = UTXO_ERR_NOMEM; /* bp_rlist_sink's only failure */
    else if (rc == UTXO_OK && l->n > 1) {
        entry = varint_len(tx) + varint_len(input) + varint_len(l->n) + s.used;
        if (entry <= *room) {
            *room -= entry;
            return UTXO_OK;
        }
    }
    bp_rlist_clear(l);
    return rc;
}

size_t bp_bundle_room(const utxo_bundle *b)
{
    /* 10: what the receipt count's varint may grow by */
    size_t len = utxo_bundle_get_length(b) + 10;
    return len < UTXO_BUNDLE_MAX_BYTES ? UTXO_BUNDLE_MAX_BYTES - len : 0;
}

void utxo_bundle_get_info(const utxo_bundle *b, utxo_bundle_info *info)
{
    memset(info, 0, sizeof *info);
    if (b == NULL)
        return;
    memcpy(info->block_hash, b->block_hash, UTXO_HASH_BYTES);
    info->leaf_count = b->leaf_count;
    info->n_spent = (uint32_t)b->n_spent;
    info->n_receipts = (uint32_t)b->n_receipts;
    info->proof_bytes = acc_proof_get_length(&b->proof);
    info->n_refs = (uint32_t)b->n_refs;
    info->ref_proof_bytes = b->n_refs > 0 ? acc_proof_get_length(&b->ref_proof) : 0;
}

/* ---- encoding ------------------------------------------------------------ */

void bp_bundle_encode(enc *e, const utxo_bundle *b)
{
    enc_u8(e, BP_VERSION);
    enc_bytes(e, b->block_hash, UTXO_HASH_BYTES);
    enc_varint(e, b->leaf_count);
    acc_proof_encode(e, &b->proof);
    for (size_t i = 0; i < b->n_spent; i++) {
        enc_varint(e, b->spent[i].target);
        enc_varint(e, b->spent[i].height);
        output_encode(e, &b->spent[i].output);
    }
    enc_varint(e, b->n_refs);
    if (b->n_refs > 0) {
        acc_proof_encode(e, &b->ref_proof);
        for (size_t i = 0; i < b->n_refs; i++) {
            enc_varint(e, b->refs[i].target);
            enc_varint(e, b->refs[i].height);
            output_encode(e, &b->refs[i].output);
        }
    }
    enc_varint(e, b->n_receipts);
    for (size_t i = 0; i < b->n_receipts; i++) {
        const bp_receipt *r = &b->receipts[i];
        enc_varint(e, r->tx);
        enc_varint(e, r->input);
        enc_varint(e, r->n);
        for (size_t k = 0; k < r->n; k++) {
            size_t len = 0;
            const uint8_t *p = utxo_receipt_bytes(r->r[k], &len);
            enc_blob(e, p, len);
        }
    }
}

size_t utxo_bundle_get_length(const utxo_bundle *b)
{
    enc e;

    if (b == NULL)
        return 0;
    enc_init(&e, NULL, 0, NULL);
    bp_bundle_encode(&e, b);
    return e.len;
}

int utxo_bundle_to_bytes(const utxo_bundle *b, uint8_t *out, size_t out_len, size_t *written)
{
    enc e;

    if (written != NULL)
        *written = 0;
    if (b == NULL || out == NULL || written == NULL)
        return UTXO_ERR_ARG;
    if (utxo_bundle_get_length(b) > out_len)
        return UTXO_ERR_ARG;
    enc_init(&e, out, out_len, NULL);
    bp_bundle_encode(&e, b);
    if (!enc_ok(&e))
        return UTXO_ERR_INTERNAL;
    *written = e.len;
    return UTXO_OK;
}

/* One output, as output_encode writes it; the datum into a new buffer. */
static void output_decode(dec *d, utxo_output *o, uint32_t max_datum);

/* n entries (target, height, output) bound one to one to the targets of a
 * proof with n of them: *out a new array. */
static void entries_decode(dec *d, bp_spent **out, size_t n, uint32_t max_datum)
{
    uint8_t *seen = NULL;
    size_t off;

    if (n > dec_left(d) / MIN_SPENT_BYTES) {
        dec_fail(d, UTXO_ERR_TRUNCATED, d->len);
        return;
    }
    if (n == 0)
        return;
    if ((*out = calloc(n, sizeof **out)) == NULL || (seen = calloc((n + 7) / 8, 1)) == NULL) {
        dec_fail(d, UTXO_ERR_NOMEM, d->off);
        return;
    }
    for (size_t i = 0; i < n && d->err == UTXO_OK; i++) {
        bp_spent *s = &(*out)[i];
        off = d->off;
        s->target = (uint32_t)dec_varint(d, n - 1);
        if (d->err == UTXO_OK && (seen[s->target / 8] >> (s->target % 8)) & 1)
            dec_fail(d, UTXO_ERR_NONCANONICAL, off);
        seen[s->target / 8] |= (uint8_t)(1u << (s->target % 8));
        s->height = (uint32_t)dec_varint(d, UINT32_MAX);
        output_decode(d, &s->output, max_datum);
    }
    free(seen);
}

static void output_decode(dec *d, utxo_output *o, uint32_t max_datum)
{
    uint32_t n;
    const uint8_t *p;

    o->value = dec_u64(d);
    dec_bytes(d, o->predicate_id, UTXO_HASH_BYTES);
    n = (uint32_t)dec_varint(d, max_datum);
    p = dec_view(d, n);
    if (p == NULL || n == 0)
        return;
    if ((o->datum = malloc(n)) == NULL) {
        dec_fail(d, UTXO_ERR_NOMEM, d->off);
        return;
    }
    memcpy(o->datum, p, n);
    o->datum_len = n;
}

/*
 * A count of things of at least `unit` bytes each: over what the rest of
 * d can hold is too large, or (whole > 0: d holds a prefix of a record of
 * whole bytes) over what the rest of the record can hold, and within that
 * but over the prefix's, d is truncated (the prefix ends first): in a
 * prefix every UTXO_ERR_TOO_LARGE is the record's.
 */
static uint64_t dec_count(dec *d, size_t whole, size_t unit)
{
    uint64_t v = dec_varint(d, (whole > d->off ? whole - d->off : dec_left(d)) / unit);

    if (d->err == UTXO_OK && whole > 0 && v > dec_left(d) / unit)
        dec_fail(d, UTXO_ERR_TRUNCATED, d->len);
    return v;
}

/*
 * bp_bundle_decode, or (whole > 0) the check of a prefix: d holds the
 * first bytes of a record of whole bytes. A receipt cut by the prefix is
 * then checked as far as it goes (rcpt_check_prefix): its header, page
 * numbers and bitmaps say whether it can be one of the length it claims,
 * so a record is refused after them, not after the page bytes that the
 * claim makes it read; a receipt the prefix holds whole is decoded, and
 * its error (a truncated receipt is one) is the record's. *conclusive:
 * the error in d is the record's, whatever its code, not the end of the
 * prefix.
 */
static utxo_bundle *bundle_decode(dec *d, const utxo_params *p, size_t whole, bool *conclusive)
{
    utxo_params defaults;
    utxo_bundle *b = NULL;
    uint8_t *seen = NULL;
    size_t off = d->off, n;
    uint64_t v;

    if (p == NULL) {
        utxo_params_default(&defaults);
        p = &defaults;
    }
    if ((b = bp_bundle_new()) == NULL) {
        dec_fail(d, UTXO_ERR_NOMEM, off);
        return NULL;
    }
    if (dec_u8(d) != BP_VERSION && d->err == UTXO_OK)
        dec_fail(d, UTXO_ERR_VERSION, off);
    dec_bytes(d, b->block_hash, UTXO_HASH_BYTES);
    b->leaf_count = dec_varint(d, UINT64_MAX);
    if (d->err != UTXO_OK || acc_proof_decode(d, &b->proof, b->leaf_count) != UTXO_OK)
        goto fail;
    /* spent entries: exactly one per target, each target bound once */
    n = b->proof.n_targets;
    entries_decode(d, &b->spent, n, p->max_datum_bytes);
    if (b->spent != NULL)
        b->n_spent = n;
    /* referenced outputs: a count, then (when not 0) their proof, with as
     * many targets, and one entry per target */
    off = d->off;
    n = (size_t)dec_count(d, whole, MIN_SPENT_BYTES);
    if (d->err == UTXO_OK && n > 0) {
        if (acc_proof_decode(d, &b->ref_proof, b->leaf_count) != UTXO_OK)
            goto fail;
        if (b->ref_proof.n_targets != n) {
            dec_fail(d, UTXO_ERR_NONCANONICAL, off);
            goto fail;
        }
        entries_decode(d, &b->refs, n, p->max_datum_bytes);
        if (b->refs != NULL)
            b->n_refs = n;
    }
    if (d->err != UTXO_OK)
        goto fail;
    /* receipts */
    off = d->off;
    v = dec_count(d, whole, MIN_RECEIPT_BYTES);
    if (d->err != UTXO_OK)
        goto fail;
    if (v > 0 && (b->receipts = calloc((size_t)v, sizeof *b->receipts)) == NULL) {
        dec_fail(d, UTXO_ERR_NOMEM, off);
        goto fail;
    }
    for (size_t i = 0; i < (size_t)v && d->err == UTXO_OK; i++) {
        bp_receipt *r = &b->receipts[i];
        uint64_t nr;
        off = d->off;
        r->tx = (uint32_t)dec_varint(d, UINT32_MAX);
        r->input = (uint32_t)dec_varint(d, UINT32_MAX);
        if (d->err == UTXO_OK && i > 0 &&
            (r->tx < r[-1].tx || (r->tx == r[-1].tx && r->input <= r[-1].input)))
            dec_fail(d, UTXO_ERR_NONCANONICAL, off);
        off = d->off;
        nr = dec_count(d, whole, 2); /* each receipt: length + a byte */
        if (d->err == UTXO_OK && nr == 0)
            dec_fail(d, UTXO_ERR_NONCANONICAL, off);
        if (d->err != UTXO_OK)
            break;
        if ((r->r = calloc((size_t)nr, sizeof *r->r)) == NULL) {
            dec_fail(d, UTXO_ERR_NOMEM, off);
            break;
        }
        b->n_receipts = i + 1; /* owns r->r from here, for the cleanup */
        for (size_t k = 0; k < (size_t)nr && d->err == UTXO_OK; k++) {
            size_t len, eo = 0;
            const uint8_t *q;
            int rc;
            len = (size_t)dec_varint(d, whole > d->off ? whole - d->off : dec_left(d));
            off = d->off;
            if (d->err == UTXO_OK && whole > 0 && len > dec_left(d)) {
                /* cut by the prefix: what is there must begin a receipt of len */
                rc = rcpt_check_prefix(d->p + off, dec_left(d), len, &eo);
                if (rc != UTXO_OK) {
                    dec_fail(d, rc, off + eo);
                    *conclusive = true;
                } else {
                    dec_fail(d, UTXO_ERR_TRUNCATED, d->len);
                }
                break;
            }
            q = dec_view(d, len);
            if (q == NULL)
                break;
            rc = utxo_receipt_from_bytes(&r->r[k], q, len, &eo);
            if (rc != UTXO_OK) {
                dec_fail(d, rc, off + eo);
                *conclusive = true; /* all its bytes were there */
                break;
            }
            r->n = k + 1;
        }
    }
    if (d->err != UTXO_OK)
        goto fail;
    free(seen);
    return b;
fail:
    free(seen);
    utxo_bundle_free(b);
    return NULL;
}

utxo_bundle *bp_bundle_decode(dec *d, const utxo_params *p)
{
    bool conclusive = false;

    return bundle_decode(d, p, 0, &conclusive);
}

int utxo_bundle_from_bytes(utxo_bundle **out, const uint8_t *in, size_t len,
                           const utxo_params *p, size_t *err_offset)
{
    utxo_bundle *b;
    dec d;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (err_offset != NULL)
        *err_offset = 0;
    if (out == NULL || (in == NULL && len > 0))
        return UTXO_ERR_ARG;
    dec_init(&d, in, len);
    b = bp_bundle_decode(&d, p);
    if (b != NULL)
        dec_end(&d);
    rc = dec_result(&d, err_offset);
    if (rc != UTXO_OK) {
        utxo_bundle_free(b);
        return rc;
    }
    *out = b;
    return UTXO_OK;
}

int utxo_bundle_check_prefix(const uint8_t *prefix, size_t have, size_t len, void *params)
{
    utxo_bundle *b;
    bool conclusive = false;
    dec d;
    int rc;

    if (prefix == NULL || params == NULL || have >= len)
        return UTXO_ERR_ARG;
    dec_init(&d, prefix, have);
    b = bundle_decode(&d, params, len, &conclusive);
    rc = dec_result(&d, NULL);
    utxo_bundle_free(b);
    if (rc == UTXO_OK)
        return UTXO_ERR_TRAILING; /* a whole bundle, and the record goes on */
    /* Running out of bytes is what a prefix of a good record gives: not
     * conclusive (unless the decoder says so: a receipt that cannot have
     * the length it claims). A length or count over its limit is: every
     * limit is the record's (dec_count), not the prefix's. */
    return !conclusive && rc == UTXO_ERR_TRUNCATED ? UTXO_OK : rc;
}

/* ---- block layout --------------------------------------------------------- */

struct txid_ix {
    const uint8_t *txid;
    uint32_t tx;
};

static int cmp_txid(const void *a, const void *b)
{
    return memcmp(((const struct txid_ix *)a)->txid, ((const struct txid_ix *)b)->txid,
                  UTXO_HASH_BYTES);
}

void bp_layout_clear(bp_layout *L)
{
    free(L->txids);
    free(L->in_off);
    free(L->out_off);
    free(L->src);
    free(L->out_spent);
    memset(L, 0, sizeof *L);
}

int bp_layout_build(bp_layout *L, const utxo_block *b, uint32_t *bad_tx, uint32_t *bad_in)
{
    return bp_layout_build_ids(L, b, NULL, bad_tx, bad_in);
}

int bp_layout_build_ids(bp_layout *L, const utxo_block *b, const uint8_t (*txids)[UTXO_HASH_BYTES],
                        uint32_t *bad_tx, uint32_t *bad_in)
{
    struct txid_ix *ix = NULL;
    uint32_t n = b->n_txs;
    size_t ext = 0, spent_here = 0;
    int rc = UTXO_ERR_NOMEM;

    memset(L, 0, sizeof *L);
    *bad_tx = *bad_in = 0;
    L->n_txs = n;
    L->txids = malloc((n ? n : 1) * sizeof *L->txids);
    L->in_off = calloc((size_t)n + 1, sizeof *L->in_off);
    L->out_off = calloc((size_t)n + 1, sizeof *L->out_off);
    ix = malloc((n ? n : 1) * sizeof *ix);
    if (L->txids == NULL || L->in_off == NULL || L->out_off == NULL || ix == NULL)
        goto done;
    for (uint32_t t = 0; t < n; t++) {
        if (txids != NULL)
            memcpy(L->txids[t], txids[t], UTXO_HASH_BYTES);
        else
            utxo_tx_txid(b->txs[t], L->txids[t]);
        ix[t].txid = L->txids[t];
        ix[t].tx = t;
        /* sums fit: a block's inputs and outputs are bounded by its size
         * (UTXO_CAP_BLOCK_BYTES / 37 bytes < 2^23) */
        L->in_off[t + 1] = L->in_off[t] + b->txs[t]->n_inputs;
        L->out_off[t + 1] = L->out_off[t] + b->txs[t]->n_outputs;
    }
    if (n > 1)
        qsort(ix, n, sizeof *ix, cmp_txid);
    L->src = malloc((L->in_off[n] ? L->in_off[n] : 1) * sizeof *L->src);
    L->out_spent = calloc(L->out_off[n] ? L->out_off[n] : 1, 1);
    if (L->src == NULL || L->out_spent == NULL)
        goto done;
    for (uint32_t t = 0; t < n; t++) {
        const utxo_tx *tx = b->txs[t];
        for (uint32_t i = 0; i < tx->n_inputs; i++) {
            const utxo_outpoint *op = &tx->inputs[i].prevout;
            struct txid_ix key = {.txid = op->txid, .tx = 0};
            const struct txid_ix *hit = bsearch(&key, ix, n, sizeof *ix, cmp_txid);
            bp_src *s = &L->src[L->in_off[t] + i];
            if (hit == NULL) {
                s->tx = BP_EXTERNAL;
                s->out = (uint32_t)ext++;
                continue;
            }
            if (hit->tx >= t || op->index >= b->txs[hit->tx]->n_outputs) {
                *bad_tx = t;
                *bad_in = i;
                rc = UTXO_ERR_TX_MISSING;
                goto done;
            }
            s->tx = hit->tx;
            s->out = op->index;
            if (!L->out_spent[L->out_off[hit->tx] + op->index]) {
                L->out_spent[L->out_off[hit->tx] + op->index] = 1;
                spent_here++;
            }
        }
    }
    L->n_external = ext;
    L->n_created = L->out_off[n] - spent_here;
    rc = UTXO_OK;
done:
    free(ix);
    return rc;
}

void bp_layout_created(const bp_layout *L, const utxo_block *b, acc_leaf *out)
{
    size_t j = 0;

    for (uint32_t t = 0; t < L->n_txs; t++)
        for (uint32_t o = 0; o < b->txs[t]->n_outputs; o++) {
            if (L->out_spent[L->out_off[t] + o])
                continue;
            memcpy(out[j].outpoint.txid, L->txids[t], UTXO_HASH_BYTES);
            out[j].outpoint.index = o;
            out[j].output = &b->txs[t]->outputs[o];
            out[j].height = b->header.height;
            j++;
        }
}

/* ---- reference inputs ------------------------------------------------------ */

/* One reference of a block, at flat position at (tx by tx, refs in order),
 * and the group of equal outpoints it falls in. */
typedef struct ref_ent {
    utxo_outpoint op;
    size_t at;
    size_t grp;
} ref_ent;

static bool same_op(const utxo_outpoint *x, const utxo_outpoint *y)
{
    return x->index == y->index && memcmp(x->txid, y->txid, UTXO_HASH_BYTES) == 0;
}

static int ref_by_op(const void *a, const void *b)
{
    const ref_ent *x = a, *y = b;
    int c = memcmp(x->op.txid, y->op.txid, UTXO_HASH_BYTES);

    if (c != 0)
        return c;
    if (x->op.index != y->op.index)
        return x->op.index < y->op.index ? -1 : 1;
    return x->at < y->at ? -1 : (x->at > y->at);
}

/* A group of equal outpoints: its first mention, and its group number. */
typedef struct ref_grp {
    size_t at;
    size_t grp;
} ref_grp;

static int grp_by_at(const void *a, const void *b)
{
    size_t x = ((const ref_grp *)a)->at, y = ((const ref_grp *)b)->at;

    return x < y ? -1 : (x > y);
}

int bp_block_refs(const utxo_block *b, utxo_outpoint **ops, size_t *n, size_t **id,
                  size_t **first)
{
    size_t total = 0, m = 0, at = 0, *rank = NULL;
    ref_ent *e = NULL;
    ref_grp *g = NULL;
    int rc = UTXO_ERR_NOMEM;

    *ops = NULL;
    *n = 0;
    *id = NULL;
    *first = NULL;
    for (uint32_t t = 0; t < b->n_txs; t++)
        total += b->txs[t]->n_refs;
    e = malloc((total ? total : 1) * sizeof *e);
    g = malloc((total ? total : 1) * sizeof *g);
    rank = malloc((total ? total : 1) * sizeof *rank);
    *id = malloc((total ? total : 1) * sizeof **id);
    if (e == NULL || g == NULL || rank == NULL || *id == NULL)
        goto done;
    for (uint32_t t = 0; t < b->n_txs; t++)
        for (uint32_t k = 0; k < b->txs[t]->n_refs; k++, at++) {
            e[at].op = b->txs[t]->refs[k];
            e[at].at = at;
        }
    /* equal outpoints side by side, the first mention first */
    if (total > 1)
        qsort(e, total, sizeof *e, ref_by_op);
    for (size_t j = 0; j < total; j++) {
        if (j == 0 || !same_op(&e[j - 1].op, &e[j].op)) {
            g[m].at = e[j].at;
            g[m].grp = m;
            m++;
        }
        e[j].grp = m - 1;
    }
    /* groups in order of first mention: rank[group] = its distinct index */
    if (m > 1)
        qsort(g, m, sizeof *g, grp_by_at);
    *ops = malloc((m ? m : 1) * sizeof **ops);
    *first = malloc((m ? m : 1) * sizeof **first);
    if (*ops == NULL || *first == NULL)
        goto done;
    for (size_t k = 0; k < m; k++) {
        rank[g[k].grp] = k;
        (*first)[k] = g[k].at;
    }
    for (size_t j = 0; j < total; j++) {
        (*id)[e[j].at] = rank[e[j].grp];
        if ((*first)[rank[e[j].grp]] == e[j].at)
            (*ops)[rank[e[j].grp]] = e[j].op;
    }
    *n = m;
    rc = UTXO_OK;
done:
    free(e);
    free(g);
    free(rank);
    if (rc != UTXO_OK) {
        free(*ops);
        free(*id);
        free(*first);
        *ops = NULL;
        *id = NULL;
        *first = NULL;
    }
    return rc;
}
