/*
 * tx.c — transactions: construction, canonical encoding, strict decoding and
 * identifiers (txid, wtxid, sighash). The byte format is specified in
 * docs/ENCODING.md, "Transaction"; the field order here is that table.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "utxo/ledger.h"
#include "utxo/codec.h"
#include "utxo/ledger_int.h"

/* Smallest encodings, used to refuse counts the remaining bytes cannot hold
 * before anything is allocated. */
#define MIN_INPUT_BASE 37u    /* txid + index + form */
#define MIN_OUTPUT 41u        /* value + id + datum length */
#define MIN_WITNESS 3u        /* budget + two empty lengths */
#define MIN_REF 36u           /* a reference input: txid + index */

utxo_tx *utxo_tx_new(void)
{
    utxo_tx *tx = calloc(1, sizeof *tx);

    if (tx != NULL)
        tx->version = UTXO_TX_VERSION;
    return tx;
}

static void witness_clear(utxo_witness *w)
{
    free(w->image);
    free(w->params);
    free(w->args);
    memset(w, 0, sizeof *w);
}

void utxo_tx_free(utxo_tx *tx)
{
    if (tx == NULL)
        return;
    for (uint32_t i = 0; i < tx->n_inputs; i++)
        witness_clear(&tx->inputs[i].witness);
    for (uint32_t i = 0; i < tx->n_outputs; i++)
        free(tx->outputs[i].datum);
    free(tx->inputs);
    free(tx->outputs);
    free(tx->refs);
    free(tx);
}

/* A heap copy of n bytes (NULL for n == 0); *ok cleared on OOM. */
static uint8_t *dup_bytes(const uint8_t *p, size_t n, bool *ok)
{
    uint8_t *q;

    if (n == 0)
        return NULL;
    q = malloc(n);
    if (q == NULL) {
        *ok = false;
        return NULL;
    }
    memcpy(q, p, n);
    return q;
}

/* Sets *w to one form: IMAGE with image, TEMPLATE tmpl or REF (reference
 * input number sel) with params (code = image or params, copied), and
 * args. */
static int witness_set_form(utxo_witness *w, uint64_t budget, uint8_t form, uint32_t sel,
                            const uint8_t *code, uint32_t code_len, const uint8_t *args,
                            uint32_t args_len)
{
    bool ok = true;
    uint8_t *c = dup_bytes(code, code_len, &ok);
    uint8_t *arg = dup_bytes(args, args_len, &ok);

    if (!ok) {
        free(c);
        free(arg);
        return UTXO_ERR_NOMEM;
    }
    witness_clear(w);
    w->budget = budget;
    w->form = form;
    if (form == UTXO_FORM_TEMPLATE || form == UTXO_FORM_REF) {
        if (form == UTXO_FORM_TEMPLATE)
            w->tmpl = (uint8_t)sel;
        else
            w->ref = sel;
        w->params = c;
        w->params_len = code_len;
    } else {
        w->image = c;
        w->image_len = code_len;
    }
    w->args = arg;
    w->args_len = args_len;
    return UTXO_OK;
}

static int witness_set(utxo_witness *w, uint64_t budget, const uint8_t *image, uint32_t image_len,
                       const uint8_t *args, uint32_t args_len)
{
    return witness_set_form(w, budget, UTXO_FORM_IMAGE, 0, image, image_len, args, args_len);
}

/* The form a witness is encoded in (a zeroed struct made by hand: IMAGE). */
static uint8_t witness_form(const utxo_witness *w)
{
    return w->form == 0 ? UTXO_FORM_IMAGE : w->form;
}

static int add_input(utxo_tx *tx, const utxo_outpoint *prevout, uint64_t budget, uint8_t form,
                     uint32_t sel, const uint8_t *code, uint32_t code_len, const uint8_t *args,
                     uint32_t args_len)
{
    utxo_outpoint op;
    utxo_input *in;
    int rc;

    if (tx == NULL || prevout == NULL || (code == NULL && code_len > 0) ||
        (args == NULL && args_len > 0) || tx->n_inputs >= UTXO_CAP_COUNT)
        return UTXO_ERR_ARG;
    op = *prevout; /* prevout may point into tx->inputs, which may move */
    in = realloc(tx->inputs, (tx->n_inputs + 1) * sizeof *in);
    if (in == NULL)
        return UTXO_ERR_NOMEM;
    tx->inputs = in;
    in = &tx->inputs[tx->n_inputs];
    memset(in, 0, sizeof *in);
    in->prevout = op;
    rc = witness_set_form(&in->witness, budget, form, sel, code, code_len, args, args_len);
    if (rc != UTXO_OK)
        return rc;
    tx->n_inputs++;
    tx->coinbase_height = 0;
    return UTXO_OK;
}

int utxo_tx_add_input(utxo_tx *tx, const utxo_outpoint *prevout, uint64_t budget,
                      const uint8_t *image, uint32_t image_len,
                      const uint8_t *args, uint32_t args_len)
{
    return add_input(tx, prevout, budget, UTXO_FORM_IMAGE, 0, image, image_len, args, args_len);
}

static bool template_args_ok(unsigned tmpl, const uint8_t *params, uint32_t params_len)
{
    return tmpl < UTXO_STD_KINDS && params != NULL && params_len > 0 &&
           params_len <= UTXO_STD_PARAMS_MAX;
}

int utxo_tx_add_input_template(utxo_tx *tx, const utxo_outpoint *prevout, uint64_t budget,
                               unsigned tmpl, const uint8_t *params, uint32_t params_len,
                               const uint8_t *args, uint32_t args_len)
{
    if (!template_args_ok(tmpl, params, params_len))
        return UTXO_ERR_ARG;
    return add_input(tx, prevout, budget, UTXO_FORM_TEMPLATE, (uint8_t)tmpl, params, params_len,
                     args, args_len);
}

int utxo_tx_set_witness_template(utxo_tx *tx, uint32_t i, uint64_t budget, unsigned tmpl,
                                 const uint8_t *params, uint32_t params_len,
                                 const uint8_t *args, uint32_t args_len)
{
    if (tx == NULL || i >= tx->n_inputs || !template_args_ok(tmpl, params, params_len) ||
        (args == NULL && args_len > 0))
        return UTXO_ERR_ARG;
    return witness_set_form(&tx->inputs[i].witness, budget, UTXO_FORM_TEMPLATE, (uint8_t)tmpl,
                            params, params_len, args, args_len);
}

int utxo_tx_add_ref(utxo_tx *tx, const utxo_outpoint *op, uint32_t *index)
{
    utxo_outpoint *r;

    if (tx == NULL || op == NULL || index == NULL)
        return UTXO_ERR_ARG;
    for (uint32_t k = 0; k < tx->n_refs; k++)
        if (tx->refs[k].index == op->index &&
            memcmp(tx->refs[k].txid, op->txid, UTXO_HASH_BYTES) == 0) {
            *index = k;
            return UTXO_OK;
        }
    if (tx->n_refs >= UTXO_CAP_COUNT)
        return UTXO_ERR_ARG;
    if ((r = realloc(tx->refs, (tx->n_refs + 1) * sizeof *r)) == NULL)
        return UTXO_ERR_NOMEM;
    tx->refs = r;
    r[tx->n_refs] = *op;
    *index = tx->n_refs++;
    return UTXO_OK;
}

int utxo_tx_add_input_ref(utxo_tx *tx, const utxo_outpoint *prevout, uint64_t budget,
                          uint32_t ref, const uint8_t *params, uint32_t params_len,
                          const uint8_t *args, uint32_t args_len)
{
    if (tx == NULL || ref >= tx->n_refs)
        return UTXO_ERR_ARG;
    return add_input(tx, prevout, budget, UTXO_FORM_REF, ref, params, params_len, args, args_len);
}

int utxo_tx_set_args(utxo_tx *tx, uint32_t i, const uint8_t *args, uint32_t args_len)
{
    utxo_witness *w;
    bool ok = true;
    uint8_t *a;

    if (tx == NULL || i >= tx->n_inputs || (args == NULL && args_len > 0))
        return UTXO_ERR_ARG;
    w = &tx->inputs[i].witness;
    a = dup_bytes(args, args_len, &ok);
    if (!ok)
        return UTXO_ERR_NOMEM;
    free(w->args);
    w->args = a;
    w->args_len = args_len;
    return UTXO_OK;
}

int utxo_tx_set_witness(utxo_tx *tx, uint32_t i, uint64_t budget,
                        const uint8_t *image, uint32_t image_len,
                        const uint8_t *args, uint32_t args_len)
{
    if (tx == NULL || i >= tx->n_inputs || (image == NULL && image_len > 0) ||
        (args == NULL && args_len > 0))
        return UTXO_ERR_ARG;
    return witness_set(&tx->inputs[i].witness, budget, image, image_len, args, args_len);
}

int utxo_tx_add_output(utxo_tx *tx, uint64_t value, const uint8_t predicate_id[UTXO_HASH_BYTES],
                       const uint8_t *datum, uint32_t datum_len)
{
    uint8_t id[UTXO_HASH_BYTES];
    utxo_output *out;
    bool ok = true;
    uint8_t *d;

    if (tx == NULL || predicate_id == NULL || (datum == NULL && datum_len > 0) ||
        tx->n_outputs >= UTXO_CAP_COUNT)
        return UTXO_ERR_ARG;
    memcpy(id, predicate_id, UTXO_HASH_BYTES); /* may point into tx->outputs */
    d = dup_bytes(datum, datum_len, &ok);
    if (!ok)
        return UTXO_ERR_NOMEM;
    out = realloc(tx->outputs, (tx->n_outputs + 1) * sizeof *out);
    if (out == NULL) {
        free(d);
        return UTXO_ERR_NOMEM;
    }
    tx->outputs = out;
    out = &tx->outputs[tx->n_outputs++];
    out->value = value;
    memcpy(out->predicate_id, id, UTXO_HASH_BYTES);
    out->datum = d;
    out->datum_len = datum_len;
    return UTXO_OK;
}

utxo_tx *utxo_tx_clone(const utxo_tx *tx)
{
    utxo_tx *c;

    if (tx == NULL || (c = utxo_tx_new()) == NULL)
        return NULL;
    c->version = tx->version;
    if (tx->n_refs > 0) {
        if ((c->refs = malloc(tx->n_refs * sizeof *c->refs)) == NULL) {
            utxo_tx_free(c);
            return NULL;
        }
        memcpy(c->refs, tx->refs, tx->n_refs * sizeof *c->refs);
        c->n_refs = tx->n_refs;
    }
    for (uint32_t i = 0; i < tx->n_inputs; i++) {
        const utxo_input *in = &tx->inputs[i];
        const utxo_witness *w = &in->witness;
        uint8_t f = witness_form(w);
        bool pm = f == UTXO_FORM_TEMPLATE || f == UTXO_FORM_REF;
        if (add_input(c, &in->prevout, w->budget, f, f == UTXO_FORM_REF ? w->ref : w->tmpl,
                      pm ? w->params : w->image, pm ? w->params_len : w->image_len, w->args,
                      w->args_len)) {
            utxo_tx_free(c);
            return NULL;
        }
    }
    for (uint32_t i = 0; i < tx->n_outputs; i++) {
        const utxo_output *o = &tx->outputs[i];
        if (utxo_tx_add_output(c, o->value, o->predicate_id, o->datum, o->datum_len)) {
            utxo_tx_free(c);
            return NULL;
        }
    }
    c->coinbase_height = tx->coinbase_height;
    return c;
}

bool utxo_tx_is_coinbase(const utxo_tx *tx)
{
    return tx != NULL && tx->n_inputs == 0;
}

/* ---- encoding --------------------------------------------------------- */

void tx_encode_base(enc *e, const utxo_tx *tx)
{
    enc_u32(e, tx->version);
    enc_varint(e, tx->n_inputs);
    if (tx->n_inputs == 0) {
        enc_u32(e, tx->coinbase_height);
    } else {
        enc_varint(e, tx->n_refs);
        for (uint32_t k = 0; k < tx->n_refs; k++) {
            enc_bytes(e, tx->refs[k].txid, UTXO_HASH_BYTES);
            enc_u32(e, tx->refs[k].index);
        }
    }
    for (uint32_t i = 0; i < tx->n_inputs; i++) {
        const utxo_witness *w = &tx->inputs[i].witness;
        enc_bytes(e, tx->inputs[i].prevout.txid, UTXO_HASH_BYTES);
        enc_u32(e, tx->inputs[i].prevout.index);
        enc_u8(e, witness_form(w));
        if (witness_form(w) == UTXO_FORM_TEMPLATE)
            enc_u8(e, w->tmpl);
        else if (witness_form(w) == UTXO_FORM_REF)
            enc_varint(e, w->ref);
    }
    enc_varint(e, tx->n_outputs);
    for (uint32_t i = 0; i < tx->n_outputs; i++)
        output_encode(e, &tx->outputs[i]);
}

void output_encode(enc *e, const utxo_output *o)
{
    enc_u64(e, o->value);
    enc_bytes(e, o->predicate_id, UTXO_HASH_BYTES);
    enc_blob(e, o->datum, o->datum_len);
}

/* The part of an input that the txid leaves out. */
static void witness_encode(enc *e, const utxo_witness *w)
{
    enc_varint(e, w->budget);
    if (witness_form(w) == UTXO_FORM_TEMPLATE || witness_form(w) == UTXO_FORM_REF)
        enc_blob(e, w->params, w->params_len);
    else
        enc_blob(e, w->image, w->image_len);
    enc_blob(e, w->args, w->args_len);
}

void tx_encode(enc *e, const utxo_tx *tx)
{
    tx_encode_base(e, tx);
    for (uint32_t i = 0; i < tx->n_inputs; i++)
        witness_encode(e, &tx->inputs[i].witness);
}

static void tx_encode_obj(enc *e, const void *tx)
{
    tx_encode(e, tx);
}

static void tx_encode_base_obj(enc *e, const void *tx)
{
    tx_encode_base(e, tx);
}

size_t utxo_tx_get_length(const utxo_tx *tx, bool with_witness)
{
    return enc_length(with_witness ? tx_encode_obj : tx_encode_base_obj, tx);
}

int utxo_tx_to_bytes(const utxo_tx *tx, uint8_t *out, size_t out_len, size_t *written)
{
    return enc_to_bytes(tx_encode_obj, tx, out, out_len, written);
}

/* ---- decoding --------------------------------------------------------- */

/* Reads a varint length and copies that many bytes to a new buffer. */
static uint8_t *dec_blob(dec *d, uint32_t max, uint32_t *len_out)
{
    uint32_t n = (uint32_t)dec_varint(d, max);
    const uint8_t *p = dec_view(d, n);
    uint8_t *q;

    *len_out = 0;
    if (p == NULL || n == 0)
        return NULL;
    q = malloc(n);
    if (q == NULL) {
        dec_fail(d, UTXO_ERR_NOMEM, d->off);
        return NULL;
    }
    memcpy(q, p, n);
    *len_out = n;
    return q;
}

/* A count whose items need at least `min_each` bytes each must fit what is left. */
static uint32_t dec_count(dec *d, uint32_t max, size_t min_each)
{
    uint32_t n = (uint32_t)dec_varint(d, max);

    if (d->err == UTXO_OK && (size_t)n * min_each > dec_left(d)) {
        dec_fail(d, UTXO_ERR_TRUNCATED, d->len);
        return 0;
    }
    return n;
}

utxo_tx *tx_decode(dec *d, const utxo_params *p)
{
    utxo_tx *tx = calloc(1, sizeof *tx);
    size_t start = d->off;
    uint32_t n_in, n_out;

    if (tx == NULL) {
        dec_fail(d, UTXO_ERR_NOMEM, d->off);
        return NULL;
    }
    tx->version = dec_u32(d);
    if (d->err == UTXO_OK && tx->version != UTXO_TX_VERSION)
        dec_fail(d, UTXO_ERR_VERSION, start);
    n_in = dec_count(d, p->max_inputs, MIN_INPUT_BASE + MIN_WITNESS);
    if (d->err != UTXO_OK)
        goto fail;
    if (n_in == 0) {
        tx->coinbase_height = dec_u32(d);
    } else {
        uint32_t n_refs = dec_count(d, p->max_inputs, MIN_REF);
        if (d->err != UTXO_OK)
            goto fail;
        if (n_refs > 0 && (tx->refs = calloc(n_refs, sizeof *tx->refs)) == NULL) {
            dec_fail(d, UTXO_ERR_NOMEM, d->off);
            goto fail;
        }
        tx->n_refs = n_refs;
        for (uint32_t k = 0; k < n_refs && d->err == UTXO_OK; k++) {
            dec_bytes(d, tx->refs[k].txid, UTXO_HASH_BYTES);
            tx->refs[k].index = dec_u32(d);
        }
        if (d->err != UTXO_OK)
            goto fail;
    }
    if (n_in > 0 && (tx->inputs = calloc(n_in, sizeof *tx->inputs)) == NULL) {
        dec_fail(d, UTXO_ERR_NOMEM, d->off);
        goto fail;
    }
    tx->n_inputs = n_in;
    for (uint32_t i = 0; i < n_in && d->err == UTXO_OK; i++) {
        utxo_witness *w = &tx->inputs[i].witness;
        size_t at;
        dec_bytes(d, tx->inputs[i].prevout.txid, UTXO_HASH_BYTES);
        tx->inputs[i].prevout.index = dec_u32(d);
        at = d->off;
        w->form = dec_u8(d);
        if (d->err == UTXO_OK && w->form != UTXO_FORM_IMAGE && w->form != UTXO_FORM_TEMPLATE &&
            w->form != UTXO_FORM_REF)
            dec_fail(d, UTXO_ERR_TX_FORM, at);
        if (d->err == UTXO_OK && w->form == UTXO_FORM_TEMPLATE) {
            at = d->off;
            w->tmpl = dec_u8(d);
            if (d->err == UTXO_OK && w->tmpl >= UTXO_STD_KINDS)
                dec_fail(d, UTXO_ERR_TX_TEMPLATE, at);
        } else if (d->err == UTXO_OK && w->form == UTXO_FORM_REF) {
            at = d->off;
            w->ref = (uint32_t)dec_varint(d, UINT32_MAX);
            if (d->err == UTXO_OK && w->ref >= tx->n_refs)
                dec_fail(d, UTXO_ERR_TX_REF_INDEX, at);
        }
    }
    if (d->err != UTXO_OK)
        goto fail;
    n_out = dec_count(d, p->max_outputs, MIN_OUTPUT);
    if (d->err != UTXO_OK)
        goto fail;
    if (n_out > 0 && (tx->outputs = calloc(n_out, sizeof *tx->outputs)) == NULL) {
        dec_fail(d, UTXO_ERR_NOMEM, d->off);
        goto fail;
    }
    tx->n_outputs = n_out;
    for (uint32_t i = 0; i < n_out && d->err == UTXO_OK; i++) {
        utxo_output *o = &tx->outputs[i];
        o->value = dec_u64(d);
        dec_bytes(d, o->predicate_id, UTXO_HASH_BYTES);
        o->datum = dec_blob(d, p->max_datum_bytes, &o->datum_len);
    }
    for (uint32_t i = 0; i < n_in && d->err == UTXO_OK; i++) {
        utxo_witness *w = &tx->inputs[i].witness;
        w->budget = dec_varint(d, UINT64_MAX);
        if (w->form == UTXO_FORM_TEMPLATE)
            w->params = dec_blob(d, UTXO_STD_PARAMS_MAX, &w->params_len);
        else if (w->form == UTXO_FORM_REF)
            w->params = dec_blob(d, p->max_args_bytes, &w->params_len);
        else
            w->image = dec_blob(d, p->max_image_bytes, &w->image_len);
        w->args = dec_blob(d, p->max_args_bytes, &w->args_len);
    }
    if (d->err == UTXO_OK && d->off - start > p->max_tx_bytes)
        dec_fail(d, UTXO_ERR_TOO_LARGE, start + p->max_tx_bytes);
    if (d->err != UTXO_OK)
        goto fail;
    return tx;
fail:
    utxo_tx_free(tx);
    return NULL;
}

int utxo_tx_from_bytes(utxo_tx **out, const uint8_t *in, size_t len,
                       const utxo_params *p, size_t *err_offset)
{
    utxo_params def;
    utxo_tx *tx;
    dec d;

    if (err_offset != NULL)
        *err_offset = 0;
    if (out == NULL)
        return UTXO_ERR_ARG;
    *out = NULL;
    if (in == NULL && len > 0)
        return UTXO_ERR_ARG;
    if (p == NULL) {
        utxo_params_default(&def);
        p = &def;
    }
    dec_init(&d, in, len);
    if (len > p->max_tx_bytes)
        dec_fail(&d, UTXO_ERR_TOO_LARGE, p->max_tx_bytes);
    tx = tx_decode(&d, p);
    dec_end(&d);
    if (d.err != UTXO_OK) {
        utxo_tx_free(tx);
        return dec_result(&d, err_offset);
    }
    *out = tx;
    return UTXO_OK;
}

/* ---- identifiers ------------------------------------------------------ */

/* Transaction hashes computed so far (txid, wtxid, sighash each count one):
 * a measurement for the benches, no consensus effect. */
static atomic_uint_fast64_t tx_hashes;

uint64_t ledger_tx_hashes(void)
{
    return (uint64_t)atomic_load_explicit(&tx_hashes, memory_order_relaxed);
}

static void count_hash(void)
{
    atomic_fetch_add_explicit(&tx_hashes, 1, memory_order_relaxed);
}

static hash_domain txid_dom = HASH_DOMAIN(TAG_TXID);
static hash_domain wtxid_dom = HASH_DOMAIN(TAG_WTXID);
static hash_domain sighash_dom = HASH_DOMAIN(TAG_SIGHASH);

void utxo_tx_txid(const utxo_tx *tx, uint8_t out[UTXO_HASH_BYTES])
{
    count_hash();
    enc_hash_dom(out, &txid_dom, tx_encode_base_obj, tx);
}

void utxo_tx_wtxid(const utxo_tx *tx, uint8_t out[UTXO_HASH_BYTES])
{
    count_hash();
    enc_hash_dom(out, &wtxid_dom, tx_encode_obj, tx);
}

/* Most transactions fit this buffer; the encoding of a larger one still
 * measures it, and it is hashed as encoded, twice. */
#define TX_IDS_BUF 2048u

void tx_ids(const utxo_tx *tx, uint8_t txid[UTXO_HASH_BYTES], uint8_t wtxid[UTXO_HASH_BYTES],
            size_t *len)
{
    uint8_t buf[TX_IDS_BUF];
    size_t base;
    enc e;

    enc_init(&e, buf, sizeof buf, NULL);
    tx_encode_base(&e, tx);
    base = e.len;
    for (uint32_t i = 0; i < tx->n_inputs; i++)
        witness_encode(&e, &tx->inputs[i].witness);
    *len = e.len;
    if (!enc_ok(&e)) {
        utxo_tx_txid(tx, txid);
        utxo_tx_wtxid(tx, wtxid);
        return;
    }
    count_hash();
    count_hash();
    hash_tagged_dom(txid, &txid_dom, buf, base);
    hash_tagged_dom(wtxid, &wtxid_dom, buf, e.len);
}

void tx_sighash_of_txid(const uint8_t txid[UTXO_HASH_BYTES],
                        const uint8_t chain_id[UTXO_HASH_BYTES], uint8_t out[UTXO_HASH_BYTES])
{
    count_hash();
    hash_pair_dom(out, &sighash_dom, chain_id, txid);
}

void utxo_tx_sighash(const utxo_tx *tx, const uint8_t chain_id[UTXO_HASH_BYTES],
                     uint8_t out[UTXO_HASH_BYTES])
{
    uint8_t txid[UTXO_HASH_BYTES];

    utxo_tx_txid(tx, txid);
    tx_sighash_of_txid(txid, chain_id, out);
}
