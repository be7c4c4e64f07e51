/*
 * validator.c — the stateless validator (utxo/stateless.h): a node that
 * holds the tip, the consensus parameters and the accumulator roots, and
 * checks each block with its proof bundle. Also the validator's state
 * encoding, the bytes such a node keeps between runs.
 *
 * Block validation is the block-connection core (connect.h) with the
 * bundle as the spent-output view and the roots as the accumulator
 * backend; the order is the core's (docs/STATELESS.md, "Validation
 * order"). The state is replaced only when everything passed, so a
 * rejected block leaves the validator exactly as it was. Segment receipts
 * in the bundle stand for the runs they prove (the core verifies them).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "connect/connect.h"
#include "utxo/ledger_int.h"

/* State encoding: magic, version (docs/STATELESS.md, "Validator state"). */
static const uint8_t STATE_MAGIC[4] = {'u', 'x', 'v', 's'};
#define STATE_VERSION 1u
#define STATE_FIXED_BYTES 81u /* magic 4, version 1, chain id 32, height 4, hash 32, time 8 */

/* Where a block is checked from: the tip and the roots. */
typedef struct vstate {
    uint32_t next_height;               /* 0 before genesis */
    uint8_t tip_hash[UTXO_HASH_BYTES];  /* zeros before genesis */
    uint64_t tip_time;                  /* 0 before genesis */
    acc_state acc;
} vstate;

/* A block checked ahead (utxo_validator_apply_ahead): stages 1-7 and 9 on
 * the state `from`, stage 8 owed when fx.owes_predicates. */
typedef struct ahead {
    bool valid;
    const utxo_block *b;
    const utxo_bundle *bundle;
    vstate from;
    cn_effects fx;
    utxo_verdict vd;
    int rc;
} ahead;

struct utxo_validator {
    utxo_params params;
    utxo_verifier *ver;
    vstate st;                          /* the tip and the roots */
    ahead next;                         /* the block checked ahead, if valid */
};

static void ahead_drop(ahead *n)
{
    if (n->valid)
        cn_effects_clear(&n->fx);
    memset(n, 0, sizeof *n);
}

utxo_validator *utxo_validator_new(const utxo_params *p, unsigned threads)
{
    utxo_validator *v;

    if (p == NULL || (v = calloc(1, sizeof *v)) == NULL)
        return NULL;
    v->params = *p;
    acc_state_init(&v->st.acc);
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
    ahead_drop(&v->next);
    utxo_verifier_free(v->ver);
    free(v);
}

uint32_t utxo_validator_next_height(const utxo_validator *v)
{
    return v ? v->st.next_height : 0;
}

void utxo_validator_tip_hash(const utxo_validator *v, uint8_t out[UTXO_HASH_BYTES])
{
    if (v == NULL)
        memset(out, 0, UTXO_HASH_BYTES);
    else
        memcpy(out, v->st.tip_hash, UTXO_HASH_BYTES);
}

uint64_t utxo_validator_leaf_count(const utxo_validator *v)
{
    return v ? v->st.acc.count : 0;
}

unsigned utxo_validator_roots(const utxo_validator *v, uint8_t (*roots)[UTXO_HASH_BYTES],
                              unsigned n)
{
    unsigned k = 0;

    if (v == NULL)
        return 0;
    for (int r = ACC_MAX_ROOTS - 1; r >= 0; r--) {
        if (!((v->st.acc.count >> r) & 1))
            continue;
        if (roots != NULL && k < n)
            memcpy(roots[k], v->st.acc.roots[r], UTXO_HASH_BYTES);
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
    acc_state_digest(out, &v->st.acc);
}

/* ---- block validation: an adapter over the core ---------------------------- */

int cn_validator_apply(utxo_validator *v, const utxo_block *b, const utxo_bundle *bundle,
                       cn_effects *fx, utxo_verdict *out)
{
    return cn_validator_apply_flags(v, b, bundle, 0, fx, out);
}

static bool state_is(const utxo_validator *v, const vstate *st)
{
    return st->next_height == v->st.next_height && st->tip_time == v->st.tip_time &&
           memcmp(st->tip_hash, v->st.tip_hash, UTXO_HASH_BYTES) == 0 &&
           acc_state_equal(&st->acc, &v->st.acc);
}

/* The state block b leaves (fx: its effects, valid). */
static void state_after(vstate *st, const utxo_block *b, const cn_effects *fx)
{
    memset(st, 0, sizeof *st);
    st->next_height = b->header.height + 1;
    memcpy(st->tip_hash, fx->block_hash, UTXO_HASH_BYTES);
    st->tip_time = b->header.time;
    st->acc = fx->acc;
}

/* The core's arguments for a block with bundle on the state st (view and
 * roots: the caller's, released by it). */
static void args_on(utxo_validator *v, const vstate *st, const utxo_bundle *bundle,
                    unsigned flags, cn_bundle_view *view, cn_roots_acc *roots, cn_args *a)
{
    memset(view, 0, sizeof *view);
    view->bundle = bundle;
    memset(roots, 0, sizeof *roots);
    roots->st = &st->acc;
    roots->proof = &bundle->proof;
    roots->ref_proof = &bundle->ref_proof;
    memset(a, 0, sizeof *a);
    a->params = &v->params;
    a->verifier = v->ver;
    a->next_height = st->next_height;
    a->tip_hash = st->tip_hash; /* zeros before genesis */
    a->min_time = st->next_height == 0 ? v->params.genesis_time : st->tip_time;
    a->bundle = bundle;
    a->view = &cn_bundle_view_methods;
    a->view_ctx = view;
    a->acc = &cn_roots_acc_methods;
    a->acc_ctx = roots;
    a->flags = flags;
}

/* cn_connect of b on the state st; fx and out as cn_connect fills them. */
static int connect_on(utxo_validator *v, const vstate *st, const utxo_block *b,
                      const utxo_bundle *bundle, unsigned flags, cn_effects *fx,
                      utxo_verdict *out)
{
    cn_bundle_view view;
    cn_roots_acc roots;
    cn_args a;
    int rc;

    if (st->next_height == 0 && st->acc.count != 0) {
        memset(fx, 0, sizeof *fx);
        memset(out, 0, sizeof *out);
        return out->err = UTXO_ERR_STATE;
    }
    args_on(v, st, bundle, flags, &view, &roots, &a);
    rc = cn_connect(&a, b, fx, out);
    cn_bundle_view_clear(&view);
    return rc;
}

int cn_validator_apply_flags(utxo_validator *v, const utxo_block *b, const utxo_bundle *bundle,
                             unsigned flags, cn_effects *fx, utxo_verdict *out)
{
    utxo_verdict tmp;
    vstate st;
    int rc;

    if (out == NULL)
        out = &tmp;
    memset(out, 0, sizeof *out);
    memset(fx, 0, sizeof *fx);
    if (v == NULL || b == NULL || bundle == NULL)
        return out->err = UTXO_ERR_ARG;
    ahead_drop(&v->next);
    st = v->st;
    /* never CN_SEAL: the header is checked */
    rc = connect_on(v, &st, b, bundle, flags & CN_NO_PREDICATES, fx, out);
    if (rc != UTXO_OK)
        return rc;
    /* everything passed: the state moves to the block */
    state_after(&v->st, b, fx);
    return UTXO_OK;
}

int utxo_validator_apply(utxo_validator *v, const utxo_block *b, const utxo_bundle *bundle,
                         utxo_verdict *out)
{
    cn_effects fx;
    int rc = cn_validator_apply(v, b, bundle, &fx, out);

    cn_effects_clear(&fx);
    return rc;
}

/*
 * b's stages 1-7 and 9 (taken from v->next when the call before checked
 * them ahead, on this state), then its predicates on the pool while
 * next's stages 1-7 and 9 are checked here on the state b leaves (without
 * the pool), then b's verdict: cn_connect's, stage 8 before 9
 * (cn_stage8_finish). next's check is kept only when b is in.
 */
int utxo_validator_apply_ahead(utxo_validator *v, const utxo_block *b, const utxo_bundle *bundle,
                               const utxo_block *next, const utxo_bundle *next_bundle,
                               utxo_verdict *out)
{
    utxo_verdict tmp;
    cn_bundle_view view;
    cn_roots_acc roots;
    cn_effects fx;
    cn_stage8 *s8 = NULL;
    cn_args a;
    vstate st, after;
    ahead *n;
    int rc;

    if (v == NULL || next == NULL || next_bundle == NULL || utxo_verifier_threads(v->ver) < 2)
        return utxo_validator_apply(v, b, bundle, out); /* (drops v->next) */
    if (out == NULL)
        out = &tmp;
    memset(out, 0, sizeof *out);
    if (b == NULL || bundle == NULL) {
        ahead_drop(&v->next);
        return out->err = UTXO_ERR_ARG;
    }
    n = &v->next;
    if (n->valid && (n->b != b || n->bundle != bundle || !state_is(v, &n->from)))
        ahead_drop(n); /* made for another block, or another state */
    st = v->st;
    if (n->valid) { /* checked ahead by the call before, on this state */
        fx = n->fx;
        *out = n->vd;
        rc = n->rc;
        memset(n, 0, sizeof *n);
    } else {
        rc = connect_on(v, &st, b, bundle, CN_DEFER_PREDICATES, &fx, out);
    }
    if (!fx.owes_predicates) { /* a stage before 8 failed: that is the verdict */
        cn_effects_clear(&fx);
        return rc;
    }
    args_on(v, &st, bundle, 0, &view, &roots, &a);
    if (cn_stage8_start(&a, b, &fx, &s8) != UTXO_OK) {
        cn_effects_clear(&fx);
        memset(out, 0, sizeof *out);
        return out->err = UTXO_ERR_NOMEM;
    }
    memset(&after, 0, sizeof after);
    if (rc == UTXO_OK) { /* next, on the state b leaves, while b's predicates run */
        state_after(&after, b, &fx);
        n->from = after;
        n->b = next;
        n->bundle = next_bundle;
        n->rc = connect_on(v, &after, next, next_bundle, CN_DEFER_PREDICATES | CN_NO_POOL,
                           &n->fx, &n->vd);
        n->valid = true;
        if (n->rc == UTXO_ERR_NOMEM || n->rc == UTXO_ERR_INTERNAL)
            ahead_drop(n); /* not a verdict: the next call checks again */
    }
    rc = cn_stage8_finish(s8, rc, &fx, out);
    if (rc == UTXO_OK)
        v->st = after;
    else
        ahead_drop(n); /* it assumed b */
    cn_effects_clear(&fx);
    return rc;
}

void cn_validator_forget_ahead(utxo_validator *v)
{
    if (v != NULL)
        ahead_drop(&v->next);
}

bool cn_validator_holds_ahead(const utxo_validator *v)
{
    return v != NULL && v->next.valid;
}

/* ---- state encoding -------------------------------------------------------- */

static void state_encode(enc *e, const utxo_validator *v)
{
    enc_bytes(e, STATE_MAGIC, sizeof STATE_MAGIC);
    enc_u8(e, STATE_VERSION);
    enc_bytes(e, v->params.chain_id, UTXO_HASH_BYTES);
    enc_u32(e, v->st.next_height);
    enc_bytes(e, v->st.tip_hash, UTXO_HASH_BYTES);
    enc_u64(e, v->st.tip_time);
    acc_state_encode(e, &v->st.acc);
}

size_t utxo_validator_state_get_length(const utxo_validator *v)
{
    return v ? STATE_FIXED_BYTES + acc_state_get_length(&v->st.acc) : 0;
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
    v->st.next_height = dec_u32(&d);
    dec_bytes(&d, v->st.tip_hash, UTXO_HASH_BYTES);
    v->st.tip_time = dec_u64(&d);
    if (d.err == UTXO_OK)
        acc_state_decode(&d, &v->st.acc);
    dec_end(&d);
    /* before genesis there is no tip and no output: one encoding only */
    if (d.err == UTXO_OK && v->st.next_height == 0 &&
        (memcmp(v->st.tip_hash, zero, sizeof zero) != 0 || v->st.tip_time != 0 || v->st.acc.count != 0))
        dec_fail(&d, UTXO_ERR_STATE, 37);
    rc = dec_result(&d, err_offset);
    if (rc != UTXO_OK) {
        utxo_validator_free(v);
        return rc;
    }
    *out = v;
    return UTXO_OK;
}
