/*
 * builder.c — the transaction builder (utxo/builder.h): coin selection, fee
 * and change at a fixed point, the dust and overflow rules, per-signer
 * signing with multisig merging, and the validator's final word.
 *
 * The fee depends on the size, the size on the witnesses. Every input's
 * final argument length and budget are known before any signature exists
 * (its "plan": 64 bytes for a signature, 4 + 64m for a multisig, ...), so
 * finalize sizes a copy of the transaction whose witnesses are zero bytes
 * of the final lengths, and the fee of that copy is the fee of the signed
 * transaction. Values are fixed-width (u64) in the encoding, so the change
 * amount does not change the size; what can change it is an extra input or
 * the presence of the change output, and the loop in finalize walks those
 * choices until the fee settles (each step adds an input, so it ends).
 * Signing and merging are in builder_sign.c; the shared state in
 * builder_int.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "wallet/builder_int.h"
#include "predicates/stdpred.h"
#include "utxo/codec.h"

void bld_bin_clear(bin *x)
{
    free(x->out.datum);
    free(x->image);
    if (x->secret)
        sodium_memzero(x->secret, x->secret_len);
    free(x->secret);
    free(x->args);
    free(x->ref_out.datum);
    free(x->ref_params);
    memset(x, 0, sizeof *x);
}

utxo_builder *utxo_builder_new(const utxo_params *p, uint32_t height)
{
    utxo_builder *b;

    if (p == NULL || (b = calloc(1, sizeof *b)) == NULL)
        return NULL;
    b->p = *p;
    b->height = height;
    if ((b->outs = utxo_tx_new()) == NULL) {
        free(b);
        return NULL;
    }
    return b;
}

void utxo_builder_free(utxo_builder *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->n_in; i++)
        bld_bin_clear(&b->in[i]);
    for (size_t i = 0; i < b->n_pool; i++)
        bld_bin_clear(&b->pool[i]);
    free(b->in);
    free(b->pool);
    free(b->ops.slot);
    free(b->ops.used);
    utxo_tx_free(b->outs);
    utxo_tx_free(b->tx);
    utxo_verifier_free(b->ver);
    sodium_memzero(b, sizeof *b);
    free(b);
}

uint64_t utxo_dust_threshold(const utxo_params *p)
{
    uint8_t pk[UTXO_PUBKEY_BYTES] = {0}, img[UTXO_STD_IMAGE_MAX_BYTES];
    size_t img_len = 0;
    uint64_t bytes, kc, a, c;

    if (p == NULL || utxo_std_p2pk_image(img, sizeof img, &img_len, pk) != UTXO_OK)
        return 0;
    /* outpoint, budget, image and signature, each with its length prefix */
    bytes = UTXO_OUTPOINT_BYTES + 8 + varint_len(img_len) + img_len + varint_len(UTXO_SIG_BYTES) +
            UTXO_SIG_BYTES;
    kc = (utxo_std_budget(UTXO_STD_P2PK, 1, 0) + 1023) / 1024;
    if (__builtin_mul_overflow(bytes, p->fee_per_byte, &a) ||
        __builtin_mul_overflow(kc, p->fee_per_kcycle, &c) || __builtin_add_overflow(a, c, &a))
        return UINT64_MAX;
    return a;
}

/* Plans a standard input from its kind and mode; false when it cannot be. */
static bool bin_plan(bin *x)
{
    const stdpred_template *t = stdpred_get(x->kind);

    if (x->planned)
        return true;
    if (t == NULL)
        return false;
    switch (x->kind) {
    case UTXO_STD_MULTISIG:
        x->args_len = 4 + UTXO_SIG_BYTES * x->m;
        break;
    case UTXO_STD_HASHLOCK:
        if (!x->has_secret)
            return false;
        x->args_len = (uint32_t)x->secret_len;
        break;
    case UTXO_STD_HTLC:
        if (x->mode == MODE_CLAIM)
            x->args_len = (uint32_t)(65 + x->secret_len);
        else if (x->mode == MODE_REFUND)
            x->args_len = UTXO_HTLC_REFUND_ARGS_BYTES;
        else
            return false;
        break;
    default: /* p2pk, timelock, rsa: the table's fixed argument length */
        x->args_len = t->args_len;
        break;
    }
    x->budget = utxo_std_budget(x->kind, x->m, x->secret_len);
    x->planned = true;
    return true;
}

/* Fills x from coin c: copies, checks the image against the id, recognises
 * the kind. */
static int bin_from_coin(bin *x, const utxo_coin *c)
{
    uint8_t id[UTXO_HASH_BYTES];
    size_t pl = 0;

    memset(x, 0, sizeof *x);
    if (c == NULL || c->image == NULL || c->image_len == 0 ||
        (c->output.datum == NULL && c->output.datum_len > 0))
        return UTXO_ERR_ARG;
    utxo_predicate_id(id, c->image, c->image_len);
    if (sodium_memcmp(id, c->output.predicate_id, UTXO_HASH_BYTES) != 0)
        return UTXO_ERR_ARG;
    if (c->output.value > UTXO_MAX_MONEY)
        return UTXO_ERR_TX_VALUE;
    x->op = c->outpoint;
    x->out = c->output;
    x->out.datum = NULL;
    x->image = malloc(c->image_len);
    if (x->image == NULL || (c->output.datum_len > 0 &&
                             (x->out.datum = malloc(c->output.datum_len)) == NULL)) {
        bld_bin_clear(x);
        return UTXO_ERR_NOMEM;
    }
    memcpy(x->image, c->image, c->image_len);
    x->image_len = c->image_len;
    if (c->output.datum_len > 0)
        memcpy(x->out.datum, c->output.datum, c->output.datum_len);
    x->m = x->n = 1;
    if (utxo_std_identify(&x->kind, x->params, sizeof x->params, &pl, c->image, c->image_len) !=
        UTXO_OK)
        x->kind = UTXO_STD_NONE;
    x->params_len = pl;
    if (x->kind == UTXO_STD_MULTISIG) {
        x->m = x->params[0];
        x->n = x->params[1];
    }
    return UTXO_OK;
}

_Static_assert(sizeof ((bld_opset *)0)->key == crypto_shorthash_KEYBYTES, "SipHash key size");

static size_t opset_hash(const bld_opset *s, const utxo_outpoint *op)
{
    uint8_t buf[UTXO_OUTPOINT_BYTES], h[crypto_shorthash_BYTES];
    uint64_t v;

    memcpy(buf, op->txid, UTXO_HASH_BYTES);
    put_u32le(buf + UTXO_HASH_BYTES, op->index);
    crypto_shorthash(h, buf, sizeof buf, s->key);
    memcpy(&v, h, sizeof v);
    return (size_t)v;
}

static bool op_eq(const utxo_outpoint *a, const utxo_outpoint *b)
{
    return a->index == b->index && memcmp(a->txid, b->txid, UTXO_HASH_BYTES) == 0;
}

/* The slot holding op, or the empty slot where it would go (s->cap > 0). */
static size_t opset_find(const bld_opset *s, const utxo_outpoint *op)
{
    size_t i = opset_hash(s, op) & (s->cap - 1);

    while (s->used[i] && !op_eq(&s->slot[i], op))
        i = (i + 1) & (s->cap - 1);
    return i;
}

static bool opset_has(const bld_opset *s, const utxo_outpoint *op)
{
    return s->cap > 0 && s->used[opset_find(s, op)];
}

/* Adds op (not present: the caller checked). */
static int opset_add(bld_opset *s, const utxo_outpoint *op)
{
    size_t i;

    if (2 * (s->n + 1) > s->cap) {
        bld_opset g = *s;
        g.cap = s->cap ? 2 * s->cap : 64;
        g.n = 0;
        g.slot = malloc(g.cap * sizeof *g.slot);
        g.used = calloc(g.cap, 1);
        if (g.slot == NULL || g.used == NULL) {
            free(g.slot);
            free(g.used);
            return UTXO_ERR_NOMEM;
        }
        if (s->cap == 0)
            randombytes_buf(g.key, sizeof g.key);
        for (size_t k = 0; k < s->cap; k++)
            if (s->used[k]) {
                i = opset_find(&g, &s->slot[k]);
                g.slot[i] = s->slot[k];
                g.used[i] = 1;
                g.n++;
            }
        free(s->slot);
        free(s->used);
        *s = g;
    }
    i = opset_find(s, op);
    s->slot[i] = *op;
    s->used[i] = 1;
    s->n++;
    return UTXO_OK;
}

/* Appends a bin made from c to *v (capacity *cap, doubled when full: a
 * wallet may offer tens of thousands of coins) and records its outpoint. */
static int push_bin(utxo_builder *b, bin **v, size_t *n, size_t *cap, const utxo_coin *c)
{
    int rc;

    if (*n == *cap) {
        size_t nc = *cap ? 2 * *cap : 8;
        bin *nv = realloc(*v, nc * sizeof **v);
        if (nv == NULL)
            return UTXO_ERR_NOMEM;
        *v = nv;
        *cap = nc;
    }
    if ((rc = bin_from_coin(&(*v)[*n], c)) != UTXO_OK)
        return rc;
    if ((rc = opset_add(&b->ops, &c->outpoint)) != UTXO_OK) {
        bld_bin_clear(&(*v)[*n]);
        return rc;
    }
    (*n)++;
    return UTXO_OK;
}

int utxo_builder_add_input(utxo_builder *b, const utxo_coin *c, uint32_t *index)
{
    uint64_t sum;
    int rc;

    if (index)
        *index = 0;
    if (b == NULL || c == NULL)
        return UTXO_ERR_ARG;
    if (b->final)
        return UTXO_ERR_BUILDER_STATE;
    if (opset_has(&b->ops, &c->outpoint)) /* an input or a candidate already */
        return UTXO_ERR_TX_DUP_INPUT;
    if (__builtin_add_overflow(b->in_sum, c->output.value, &sum) || sum > UTXO_MAX_MONEY)
        return UTXO_ERR_TX_VALUE;
    if ((rc = push_bin(b, &b->in, &b->n_in, &b->cap_in, c)) != UTXO_OK)
        return rc;
    b->in_sum = sum;
    if (index)
        *index = (uint32_t)(b->n_in - 1);
    return UTXO_OK;
}

int utxo_builder_add_coin(utxo_builder *b, const utxo_coin *c)
{
    if (b == NULL || c == NULL)
        return UTXO_ERR_ARG;
    if (b->final)
        return UTXO_ERR_BUILDER_STATE;
    if (opset_has(&b->ops, &c->outpoint))
        return UTXO_ERR_TX_DUP_INPUT;
    if (c->output.value > UTXO_MAX_MONEY)
        return UTXO_ERR_TX_VALUE;
    return push_bin(b, &b->pool, &b->n_pool, &b->cap_pool, c);
}

int utxo_builder_add_output(utxo_builder *b, uint64_t value, const uint8_t id[UTXO_HASH_BYTES],
                            const uint8_t *datum, uint32_t datum_len)
{
    uint64_t sum;

    if (b == NULL || id == NULL || (datum == NULL && datum_len > 0))
        return UTXO_ERR_ARG;
    if (b->final)
        return UTXO_ERR_BUILDER_STATE;
    if (value > UTXO_MAX_MONEY || __builtin_add_overflow(b->out_sum, value, &sum) ||
        sum > UTXO_MAX_MONEY)
        return UTXO_ERR_TX_VALUE;
    if (value < utxo_dust_threshold(&b->p))
        return UTXO_ERR_DUST;
    if (datum_len > b->p.max_datum_bytes)
        return UTXO_ERR_TX_DATUM;
    if (utxo_tx_add_output(b->outs, value, id, datum, datum_len) != UTXO_OK)
        return UTXO_ERR_NOMEM;
    b->out_sum = sum;
    return UTXO_OK;
}

int utxo_builder_set_change(utxo_builder *b, const uint8_t id[UTXO_HASH_BYTES])
{
    if (b == NULL || id == NULL)
        return UTXO_ERR_ARG;
    if (b->final)
        return UTXO_ERR_BUILDER_STATE;
    memcpy(b->change_id, id, UTXO_HASH_BYTES);
    b->has_change = true;
    return UTXO_OK;
}

/* Current argument bytes of x (*out malloc'd, NULL when empty). */
int bld_bin_args(const bin *x, uint8_t **out, size_t *len)
{
    uint8_t *a = NULL;
    size_t n = 0;

    *out = NULL;
    *len = 0;
    switch (x->kind) {
    case UTXO_STD_P2PK:
    case UTXO_STD_TIMELOCK:
        if (x->present & 1)
            n = UTXO_SIG_BYTES;
        break;
    case UTXO_STD_MULTISIG:
        n = 4 + UTXO_SIG_BYTES * (size_t)__builtin_popcount(x->present);
        break;
    case UTXO_STD_HASHLOCK:
        if (x->has_secret)
            n = x->secret_len;
        break;
    case UTXO_STD_HTLC:
        if ((x->present & 1) && x->mode == MODE_CLAIM)
            n = 65 + x->secret_len;
        else if ((x->present & 1) && x->mode == MODE_REFUND)
            n = 65;
        break;
    default:
        if (x->has_args)
            n = x->args_set_len;
        break;
    }
    if (n == 0)
        return UTXO_OK;
    if ((a = malloc(n)) == NULL)
        return UTXO_ERR_NOMEM;
    switch (x->kind) {
    case UTXO_STD_P2PK:
    case UTXO_STD_TIMELOCK:
        memcpy(a, x->sigs[0], UTXO_SIG_BYTES);
        break;
    case UTXO_STD_MULTISIG: {
        size_t w;
        (void)utxo_std_multisig_args(a, n, &w, x->present, (const uint8_t(*)[64])x->sigs, x->n);
        break;
    }
    case UTXO_STD_HASHLOCK:
        memcpy(a, x->secret, n);
        break;
    case UTXO_STD_HTLC:
        a[0] = x->mode == MODE_CLAIM ? 0 : 1;
        memcpy(a + 1, x->sigs[0], UTXO_SIG_BYTES);
        if (x->mode == MODE_CLAIM && x->secret_len)
            memcpy(a + 65, x->secret, x->secret_len);
        break;
    default:
        memcpy(a, x->args, n);
        break;
    }
    *out = a;
    *len = n;
    return UTXO_OK;
}

bool bld_bin_complete(const bin *x)
{
    switch (x->kind) {
    case UTXO_STD_P2PK:
    case UTXO_STD_TIMELOCK:
    case UTXO_STD_HTLC:
        return (x->present & 1) != 0;
    case UTXO_STD_MULTISIG:
        return (unsigned)__builtin_popcount(x->present) == x->m;
    case UTXO_STD_HASHLOCK:
        return x->has_secret;
    default:
        return x->has_args;
    }
}

int bld_sync_witness(utxo_builder *b, uint32_t i)
{
    const bin *x = &b->in[i];
    uint8_t *a;
    size_t n;
    int rc;

    if (b->tx == NULL)
        return UTXO_OK;
    if ((rc = bld_bin_args(x, &a, &n)) != UTXO_OK)
        return rc;
    rc = utxo_tx_set_args(b->tx, i, a, (uint32_t)n);
    free(a);
    return rc;
}

bool bld_witness_matches(const utxo_witness *w, const bin *x)
{
    if (w->form == UTXO_FORM_REF)
        return false; /* the code output is not among the coins: not rebuilt */
    if (w->form == UTXO_FORM_TEMPLATE)
        return x->kind != UTXO_STD_NONE && w->tmpl == (unsigned)x->kind &&
               w->params_len == x->params_len &&
               memcmp(w->params, x->params, x->params_len) == 0;
    return w->image_len == x->image_len && memcmp(w->image, x->image, x->image_len) == 0;
}

int utxo_builder_set_full_images(utxo_builder *b, bool full)
{
    if (b == NULL)
        return UTXO_ERR_ARG;
    if (b->final)
        return UTXO_ERR_BUILDER_STATE;
    b->full_images = full;
    return UTXO_OK;
}

/* Appends x as an input of tx with args[0..n): a standard predicate by its
 * template (docs/ENCODING.md, form 2) unless the builder sends images. */
static int add_bin_input(const utxo_builder *b, utxo_tx *tx, const bin *x, const uint8_t *args,
                         uint32_t n)
{
    if (x->by_ref) {
        uint32_t k;
        int rc = utxo_tx_add_ref(tx, &x->ref_op, &k);
        return rc != UTXO_OK ? rc
                             : utxo_tx_add_input_ref(tx, &x->op, x->budget, k, x->ref_params,
                                                     (uint32_t)x->ref_params_len, args, n);
    }
    if (x->kind != UTXO_STD_NONE && !b->full_images)
        return utxo_tx_add_input_template(tx, &x->op, x->budget, (unsigned)x->kind, x->params,
                                          (uint32_t)x->params_len, args, n);
    return utxo_tx_add_input(tx, &x->op, x->budget, x->image, (uint32_t)x->image_len, args, n);
}

int utxo_builder_use_code(utxo_builder *b, uint32_t index, const utxo_outpoint *code_op,
                          const utxo_output *code, const uint8_t *params, size_t params_len)
{
    utxo_witness w;
    const uint8_t *img;
    uint8_t *owned = NULL, *d = NULL, *pc = NULL;
    size_t len;
    bin *x;
    int rc;

    if (b == NULL || code_op == NULL || code == NULL || index >= b->n_in ||
        (params == NULL && params_len > 0) || params_len > b->p.max_args_bytes ||
        (code->datum == NULL && code->datum_len > 0))
        return UTXO_ERR_ARG;
    if (b->final)
        return UTXO_ERR_BUILDER_STATE;
    x = &b->in[index];
    if (x->op.index == code_op->index && memcmp(x->op.txid, code_op->txid, UTXO_HASH_BYTES) == 0)
        return UTXO_ERR_TX_REF_SPENT;
    /* the code and parameters must make the coin's own image */
    memset(&w, 0, sizeof w);
    w.form = UTXO_FORM_REF;
    w.params = (uint8_t *)params;
    w.params_len = (uint32_t)params_len;
    rc = stdpred_witness_image(&w, code, 1, &img, &len, &owned);
    if (rc == UTXO_OK && (len != x->image_len || memcmp(img, x->image, len) != 0))
        rc = UTXO_ERR_ARG;
    free(owned);
    if (rc != UTXO_OK)
        return rc;
    if ((code->datum_len > 0 && (d = malloc(code->datum_len)) == NULL) ||
        (params_len > 0 && (pc = malloc(params_len)) == NULL)) {
        free(d);
        return UTXO_ERR_NOMEM;
    }
    if (d != NULL)
        memcpy(d, code->datum, code->datum_len);
    if (pc != NULL)
        memcpy(pc, params, params_len);
    free(x->ref_out.datum);
    free(x->ref_params);
    x->by_ref = true;
    x->ref_op = *code_op;
    x->ref_out = *code;
    x->ref_out.datum = d;
    x->ref_params = pc;
    x->ref_params_len = params_len;
    return UTXO_OK;
}

int utxo_builder_set_secret(utxo_builder *b, uint32_t index, const uint8_t *secret, size_t len)
{
    uint8_t h[UTXO_HASH_BYTES];
    bin *x;
    uint8_t *s = NULL;

    if (b == NULL || index >= b->n_in || (secret == NULL && len > 0) ||
        len > b->p.max_args_bytes)
        return UTXO_ERR_ARG;
    x = &b->in[index];
    if (x->kind != UTXO_STD_HASHLOCK && x->kind != UTXO_STD_HTLC)
        return UTXO_ERR_ARG;
    if (b->final && x->planned && x->kind == UTXO_STD_HTLC && x->mode != MODE_CLAIM)
        return UTXO_ERR_BUILDER_STATE; /* planned as a refund: the fee paid for 65 bytes */
    utxo_std_secret_hash(h, secret, len);
    if (memcmp(h, x->params, UTXO_HASH_BYTES) != 0)
        return UTXO_ERR_ARG;
    if (b->final && x->planned &&
        (x->kind == UTXO_STD_HASHLOCK ? len : 65 + len) != x->args_len)
        return UTXO_ERR_BUILDER_STATE; /* would change the size the fee paid for */
    if (len > 0 && (s = malloc(len)) == NULL)
        return UTXO_ERR_NOMEM;
    if (len > 0)
        memcpy(s, secret, len);
    if (x->secret)
        sodium_memzero(x->secret, x->secret_len);
    free(x->secret);
    x->secret = s;
    x->secret_len = len;
    x->has_secret = true;
    if (x->kind == UTXO_STD_HTLC)
        x->mode = MODE_CLAIM;
    return bld_sync_witness(b, index);
}

int utxo_builder_set_refund(utxo_builder *b, uint32_t index)
{
    bin *x;

    if (b == NULL || index >= b->n_in || b->in[index].kind != UTXO_STD_HTLC)
        return UTXO_ERR_ARG;
    x = &b->in[index];
    if (b->final && x->planned && x->args_len != UTXO_HTLC_REFUND_ARGS_BYTES)
        return UTXO_ERR_BUILDER_STATE;
    x->mode = MODE_REFUND;
    return UTXO_OK;
}

int utxo_builder_set_plan(utxo_builder *b, uint32_t index, uint32_t args_len, uint64_t budget)
{
    if (b == NULL || index >= b->n_in || budget == 0)
        return UTXO_ERR_ARG;
    if (b->final)
        return UTXO_ERR_BUILDER_STATE;
    b->in[index].args_len = args_len;
    b->in[index].budget = budget;
    b->in[index].planned = true;
    return UTXO_OK;
}

/* Whether a candidate coin can be spent without a secret. */
static bool coin_eligible(const bin *x, uint32_t height)
{
    if (x->kind == UTXO_STD_P2PK || x->kind == UTXO_STD_MULTISIG)
        return true;
    if (x->kind == UTXO_STD_TIMELOCK)
        return height >= get_u32le(x->params + 32);
    return false;
}

static int cmp_coin(const bin *a, const bin *b)
{
    int c;

    if (a->out.value != b->out.value)
        return a->out.value > b->out.value ? -1 : 1;
    if ((c = memcmp(a->op.txid, b->op.txid, UTXO_HASH_BYTES)) != 0)
        return c;
    return a->op.index < b->op.index ? -1 : a->op.index > b->op.index;
}

/* A candidate in the selection order: the coin and where it was offered. */
typedef struct cand {
    const bin *x;
    size_t i;
} cand;

/* cmp_coin, then the offer order, so that qsort gives what a stable sort
 * would (cmp_coin alone ties only on one outpoint, which the duplicate rule
 * keeps out of the pool). */
static int cmp_cand(const void *pa, const void *pb)
{
    const cand *a = pa, *b = pb;
    int c = cmp_coin(a->x, b->x);

    if (c != 0)
        return c;
    return a->i < b->i ? -1 : a->i > b->i;
}

/*
 * A transaction with inputs v[0..n), the requested outputs and, when
 * change is set, one more output of `change` to the change id. With
 * sizing, every witness holds zeros of its planned length.
 */
static int make_tx(utxo_tx **out, const utxo_builder *b, const bin *const *v, size_t n,
                   bool with_change, uint64_t change, bool sizing)
{
    utxo_tx *tx = utxo_tx_clone(b->outs);
    uint8_t *zeros = NULL;
    size_t zl = 0;
    int rc = UTXO_ERR_NOMEM;

    *out = NULL;
    if (tx == NULL)
        return UTXO_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        if (v[i]->args_len > zl)
            zl = v[i]->args_len;
    if (sizing && zl > 0 && (zeros = calloc(1, zl)) == NULL)
        goto done;
    for (size_t i = 0; i < n; i++) {
        const bin *x = v[i];
        if (add_bin_input(b, tx, x, sizing ? zeros : NULL, sizing ? x->args_len : 0) != UTXO_OK)
            goto done;
    }
    if (with_change && utxo_tx_add_output(tx, change, b->change_id, NULL, 0) != UTXO_OK)
        goto done;
    *out = tx;
    tx = NULL;
    rc = UTXO_OK;
done:
    free(zeros);
    utxo_tx_free(tx);
    return rc;
}

/* Fee of the sized transaction over v with or without change; also runs
 * the context-free rules on it. */
static int sized_fee(const utxo_builder *b, const bin *const *v, size_t n, bool with_change,
                     uint64_t *fee)
{
    utxo_tx *tx;
    uint32_t bad;
    int rc = make_tx(&tx, b, v, n, with_change, 0, true);

    if (rc != UTXO_OK)
        return rc;
    rc = utxo_tx_check(tx, &b->p, &bad);
    *fee = utxo_tx_min_fee(tx, &b->p);
    utxo_tx_free(tx);
    return rc;
}

int utxo_builder_finalize(utxo_builder *b)
{
    const bin **v = NULL;
    cand *order = NULL;
    size_t n = 0, next = 0;
    uint64_t in_sum, fee_c = 0, fee_n = 0, dust, change = 0;
    bool with_change = false;
    int rc, room;

    if (b == NULL)
        return UTXO_ERR_ARG;
    if (b->final)
        return UTXO_ERR_BUILDER_STATE;
    if (b->outs->n_outputs == 0)
        return UTXO_ERR_TX_NO_OUTPUTS;
    for (size_t i = 0; i < b->n_in; i++)
        if (!bin_plan(&b->in[i]))
            return UTXO_ERR_BUILDER_STATE;
    v = calloc(b->n_in + b->n_pool + 1, sizeof *v);
    order = calloc(b->n_pool + 1, sizeof *order);
    if (v == NULL || order == NULL) {
        rc = UTXO_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < b->n_in; i++)
        v[n++] = &b->in[i];
    /* the eligible candidates, largest first (cmp_coin; offer order among
     * equals, which distinct outpoints never are) */
    size_t n_order = 0;
    for (size_t i = 0; i < b->n_pool; i++)
        if (coin_eligible(&b->pool[i], b->height) && bin_plan(&b->pool[i]))
            order[n_order++] = (cand){&b->pool[i], i};
    if (n_order > 1)
        qsort(order, n_order, sizeof *order, cmp_cand);
    dust = utxo_dust_threshold(&b->p);
    in_sum = b->in_sum;
    for (;;) {
        if (n > 0) {
            if ((rc = sized_fee(b, v, n, false, &fee_n)) != UTXO_OK)
                goto done;
            if ((room = sized_fee(b, v, n, true, &fee_c)) != UTXO_OK &&
                room != UTXO_ERR_TX_COUNT && room != UTXO_ERR_TX_SIZE) {
                rc = room;
                goto done;
            }
            if (in_sum >= b->out_sum && in_sum - b->out_sum >= fee_n) {
                uint64_t excess = in_sum - b->out_sum;
                if (room != UTXO_OK) {
                    /* no room for a change output: only change below dust
                     * may be left to the fee */
                    if (excess - fee_n >= dust) {
                        rc = room;
                        goto done;
                    }
                    fee_c = UINT64_MAX;
                }
                change = excess >= fee_c ? excess - fee_c : 0;
                with_change = fee_c != UINT64_MAX && excess >= fee_c && change >= dust;
                if (with_change && !b->has_change) {
                    rc = UTXO_ERR_BUILDER_STATE;
                    goto done;
                }
                if (!with_change)
                    change = 0;
                b->fee = with_change ? fee_c : excess;
                break;
            }
        }
        if (next >= n_order) {
            b->fee = fee_n;
            rc = n == 0 ? UTXO_ERR_TX_NO_INPUTS : UTXO_ERR_FUNDS;
            goto done;
        }
        /* one more coin */
        bin *c = &b->pool[order[next++].i];
        uint64_t s;
        if (__builtin_add_overflow(in_sum, c->out.value, &s) || s > UTXO_MAX_MONEY) {
            rc = UTXO_ERR_TX_VALUE;
            goto done;
        }
        in_sum = s;
        v[n++] = c;
    }
    /* move the selected candidates to the inputs, in selection order */
    {
        size_t extra = n - b->n_in;
        bin *nv = realloc(b->in, n * sizeof *nv);
        if (nv == NULL) {
            rc = UTXO_ERR_NOMEM;
            goto done;
        }
        b->in = nv;
        b->cap_in = n;
        for (size_t k = 0; k < extra; k++) {
            bin *src = &b->pool[order[k].i];
            b->in[b->n_in + k] = *src;
            memset(src, 0, sizeof *src); /* ownership moved */
        }
        b->n_in = n;
        b->in_sum = in_sum;
        for (size_t i = 0; i < n; i++)
            v[i] = &b->in[i];
    }
    rc = make_tx(&b->tx, b, v, n, with_change, change, false);
    if (rc != UTXO_OK)
        goto done;
    b->change = change;
    b->final = true;
    utxo_tx_sighash(b->tx, b->p.chain_id, b->sighash);
    for (uint32_t i = 0; i < b->n_in && rc == UTXO_OK; i++)
        rc = bld_sync_witness(b, i);
done:
    free(v);
    free(order);
    return rc;
}

uint64_t utxo_builder_fee(const utxo_builder *b) { return b ? b->fee : 0; }
uint64_t utxo_builder_change(const utxo_builder *b) { return b ? b->change : 0; }

int utxo_builder_sighash(const utxo_builder *b, uint8_t out[UTXO_HASH_BYTES])
{
    if (out == NULL)
        return UTXO_ERR_ARG;
    memset(out, 0, UTXO_HASH_BYTES);
    if (b == NULL)
        return UTXO_ERR_ARG;
    if (!b->final)
        return UTXO_ERR_BUILDER_STATE;
    memcpy(out, b->sighash, UTXO_HASH_BYTES);
    return UTXO_OK;
}

bool utxo_builder_complete(const utxo_builder *b)
{
    if (b == NULL || !b->final)
        return false;
    for (size_t i = 0; i < b->n_in; i++)
        if (!bld_bin_complete(&b->in[i]))
            return false;
    return true;
}

int utxo_builder_check(utxo_builder *b, utxo_verdict *out)
{
    utxo_verdict tmp;
    utxo_output *spent = NULL, *refs = NULL;
    int rc;

    if (out == NULL)
        out = &tmp;
    memset(out, 0, sizeof *out);
    if (b == NULL)
        return out->err = UTXO_ERR_ARG;
    if (!b->final)
        return out->err = UTXO_ERR_BUILDER_STATE;
    for (uint32_t i = 0; i < b->n_in; i++)
        if (!bld_bin_complete(&b->in[i])) {
            out->input = i;
            return out->err = UTXO_ERR_UNSIGNED;
        }
    if (b->ver == NULL && (b->ver = utxo_verifier_new(&b->p, 1)) == NULL)
        return out->err = UTXO_ERR_NOMEM;
    if ((spent = calloc(b->n_in, sizeof *spent)) == NULL)
        return out->err = UTXO_ERR_NOMEM;
    for (uint32_t i = 0; i < b->n_in; i++)
        spent[i] = b->in[i].out; /* borrowed datum */
    /* the code outputs the inputs spent by reference name */
    if (b->tx->n_refs > 0 && (refs = calloc(b->tx->n_refs, sizeof *refs)) == NULL) {
        free(spent);
        return out->err = UTXO_ERR_NOMEM;
    }
    for (uint32_t i = 0; i < b->tx->n_inputs; i++) {
        const utxo_witness *w = &b->tx->inputs[i].witness;
        if (w->form == UTXO_FORM_REF && w->ref < b->tx->n_refs)
            for (uint32_t j = 0; j < b->n_in; j++)
                if (b->in[j].by_ref &&
                    memcmp(&b->in[j].op, &b->tx->inputs[i].prevout, sizeof b->in[j].op) == 0)
                    refs[w->ref] = b->in[j].ref_out;
    }
    rc = utxo_verifier_tx_refs(b->ver, b->tx, spent, refs, b->height, out);
    free(spent);
    free(refs);
    return rc;
}

const utxo_tx *utxo_builder_tx(const utxo_builder *b)
{
    return b && b->final ? b->tx : NULL;
}

int utxo_builder_get_tx(utxo_builder *b, utxo_tx **out)
{
    int rc;

    if (out)
        *out = NULL;
    if (out == NULL)
        return UTXO_ERR_ARG;
    if ((rc = utxo_builder_check(b, NULL)) != UTXO_OK)
        return rc;
    return (*out = utxo_tx_clone(b->tx)) ? UTXO_OK : UTXO_ERR_NOMEM;
}

size_t utxo_builder_get_length(const utxo_builder *b)
{
    return b && b->final ? utxo_tx_get_length(b->tx, true) : 0;
}

int utxo_builder_to_bytes(utxo_builder *b, uint8_t *out, size_t out_len, size_t *written)
{
    int rc;

    if (written)
        *written = 0;
    if (out == NULL || written == NULL)
        return UTXO_ERR_ARG;
    if ((rc = utxo_builder_check(b, NULL)) != UTXO_OK)
        return rc;
    return utxo_tx_to_bytes(b->tx, out, out_len, written);
}
