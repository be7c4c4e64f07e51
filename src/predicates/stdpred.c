/*
 * stdpred.c — the table of the standard predicates (see stdpred.h) and the
 * instances built from it: parameters checked against the row, spliced into
 * the row's template as the parameter segment. The template bytes are
 * std/templates.h, generated from the committed images.
 */
#include "config.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include "utxo/abi.h"
#include "predicates/image.h"
#include "predicates/stdpred.h"
#include "predicates/std/templates.h" /* static const uint8_t img_NAME[] */

/* m, n, 0, 0, n keys: 1 <= m <= n <= 16 */
static int multisig_params_ok(const uint8_t *p, size_t len)
{
    if (len < 4 || p[0] == 0 || p[0] > p[1] || p[1] > STDPRED_MULTISIG_MAX_KEYS || p[2] != 0 ||
        p[3] != 0 || len != 4 + 32u * p[1])
        return UTXO_ERR_ARG;
    return UTXO_OK;
}

/* a modulus of exactly 2048 bits, odd */
static int rsa_params_ok(const uint8_t *p, size_t len)
{
    return len == UTXO_RSA_BYTES && (p[0] & 0x80) && (p[UTXO_RSA_BYTES - 1] & 1) ? UTXO_OK
                                                                                 : UTXO_ERR_ARG;
}

/*
 * Budgets. Measured (tests/test_builder.c checks each against a real run):
 * p2pk and timelock 21.2 k cycles, a 2-of-3 multisig 41.3 k, RSA-2048
 * 31.2 k, each with 1024 for its one stack page (the consensus page charge,
 * UTXO_ABI_PAGE_CYCLES). Budgets add a fixed 4 k for that page and the
 * code around the host calls and round the signature cost up to 22 k; the
 * fee per 1024 cycles makes the margin cheap.
 */
#define TEMPLATE(n) .image = img_##n, .image_len = sizeof img_##n

static const stdpred_template table[STDPRED_COUNT] = {
    [UTXO_STD_P2PK] = {
        .kind = UTXO_STD_P2PK, .name = "p2pk", TEMPLATE(p2pk),
        .params_len = 32, .args_len = UTXO_SIG_BYTES,
        .budget_base = STDPRED_BASE_CYCLES, .sigs = 1,
        .params_doc = "pk(32)",
        .args_doc = "sig(64)",
        .doc = "pay to an Ed25519 key",
    },
    [UTXO_STD_MULTISIG] = {
        .kind = UTXO_STD_MULTISIG, .name = "multisig", TEMPLATE(multisig),
        .params_ok = multisig_params_ok,
        .budget_base = STDPRED_BASE_CYCLES, .sigs = STDPRED_SIGS_M,
        .params_doc = "m u8, n u8, 0, 0, n x pk(32); 1 <= m <= n <= 16",
        .args_doc = "bitmap u32 (m bits set), m x sig(64) in key order",
        .doc = "m of n Ed25519 keys",
    },
    [UTXO_STD_HASHLOCK] = {
        .kind = UTXO_STD_HASHLOCK, .name = "hashlock", TEMPLATE(hashlock),
        .params_len = 32,
        .budget_base = STDPRED_BASE_CYCLES, .secret_hashes = 2,
        .params_doc = "h(32) = BLAKE2b-256(secret)",
        .args_doc = "secret",
        .doc = "whoever reveals a preimage of h",
    },
    [UTXO_STD_TIMELOCK] = {
        .kind = UTXO_STD_TIMELOCK, .name = "timelock", TEMPLATE(timelock),
        .params_len = 36, .args_len = UTXO_SIG_BYTES,
        .budget_base = STDPRED_BASE_CYCLES, .sigs = 1,
        .params_doc = "pk(32), height H u32",
        .args_doc = "sig(64), valid from height H on",
        .doc = "an Ed25519 key, from a block height on",
    },
    [UTXO_STD_HTLC] = {
        .kind = UTXO_STD_HTLC, .name = "htlc", TEMPLATE(htlc),
        .params_len = 100,
        .budget_base = STDPRED_BASE_CYCLES, .sigs = 1, .secret_hashes = 2,
        .params_doc = "h(32), recipient pk(32), refund pk(32), height H u32",
        .args_doc = "00 || sig(64) || secret (claim) or 01 || sig(64) (refund, from H)",
        .doc = "hashed time-locked contract: the recipient with the secret, or a refund from H",
    },
    [UTXO_STD_RSA] = {
        .kind = UTXO_STD_RSA, .name = "rsa", TEMPLATE(rsa),
        .params_len = UTXO_RSA_BYTES, .params_ok = rsa_params_ok, .args_len = UTXO_RSA_BYTES,
        .budget_base = 40960,
        .params_doc = "n(256), a 2048-bit odd modulus, big-endian; e = 65537",
        .args_doc = "s(256) = RSASSA-PKCS1-v1_5-SHA256 signature of the sighash",
        .doc = "an RSA-2048 key",
    },
};

static_assert(UTXO_STD_P2PK == 0 && UTXO_STD_RSA == STDPRED_COUNT - 1,
              "the table is indexed by enum utxo_std_kind");

const stdpred_template *stdpred_get(int kind)
{
    if (kind < 0 || kind >= STDPRED_COUNT)
        return NULL;
    return &table[kind];
}

const stdpred_template *stdpred_by_name(const char *name)
{
    for (int k = 0; name != NULL && k < STDPRED_COUNT; k++)
        if (strcmp(table[k].name, name) == 0)
            return &table[k];
    return NULL;
}

int stdpred_check_params(int kind, const uint8_t *p, size_t len)
{
    const stdpred_template *t = stdpred_get(kind);

    if (p == NULL || t == NULL)
        return UTXO_ERR_ARG;
    if (t->params_len != 0 && len != t->params_len)
        return UTXO_ERR_ARG;
    return t->params_ok ? t->params_ok(p, len) : UTXO_OK;
}

uint64_t stdpred_blake_cost(size_t len)
{
    return 124 + 96 * (((uint64_t)len + 127) / 128) + ((uint64_t)len + 7) / 8;
}

/* The instance of template image tmpl with params: its segments plus one at
 * UTXO_ABI_PARAMS_BASE holding them (a new buffer, checked canonical by
 * img_encode). UTXO_ERR_IMAGE when tmpl is no image or has no room for
 * the segment. */
static int instance_of(const uint8_t *tmpl, size_t tmpl_len, const uint8_t *params, size_t len,
                       uint8_t **img, size_t *img_len)
{
    vm_segment segs[UTXO_IMAGE_MAX_SEGMENTS];
    img_view v;
    int rc;

    rc = img_view_decode(&v, tmpl, tmpl_len, NULL);
    if (rc == UTXO_ERR_NOMEM)
        return rc;
    if (rc != UTXO_OK || v.n_segs >= UTXO_IMAGE_MAX_SEGMENTS)
        return UTXO_ERR_IMAGE;
    memcpy(segs, v.segs, sizeof *segs * v.n_segs);
    segs[v.n_segs].vaddr = UTXO_ABI_PARAMS_BASE;
    segs[v.n_segs].len = (uint32_t)len;
    segs[v.n_segs].data = params;
    rc = img_encode(img, img_len, v.entry, segs, v.n_segs + 1);
    return rc == UTXO_ERR_NOMEM || rc == UTXO_OK ? rc : UTXO_ERR_IMAGE;
}

int stdpred_instance(int kind, const uint8_t *params, size_t len, uint8_t **img, size_t *img_len)
{
    const stdpred_template *t = stdpred_get(kind);
    int rc;

    if (img)
        *img = NULL;
    if (img_len)
        *img_len = 0;
    if (t == NULL || img == NULL || img_len == NULL)
        return UTXO_ERR_ARG;
    if ((rc = stdpred_check_params(kind, params, len)) != UTXO_OK)
        return rc;
    rc = instance_of(t->image, t->image_len, params, len, img, img_len);
    return rc == UTXO_ERR_IMAGE ? UTXO_ERR_INTERNAL : rc; /* a committed template is valid */
}

int stdpred_witness_image(const utxo_witness *w, const utxo_output *refs, uint32_t n_refs,
                          const uint8_t **img, size_t *len, uint8_t **owned)
{
    int rc;

    *img = NULL;
    *len = 0;
    *owned = NULL;
    if (w->form == 0 || w->form == UTXO_FORM_IMAGE) {
        *img = w->image;
        *len = w->image_len;
        return UTXO_OK;
    }
    if (w->form == UTXO_FORM_REF) {
        const utxo_output *code;
        if (refs == NULL || w->ref >= n_refs)
            return UTXO_ERR_TX_REF_MISSING;
        code = &refs[w->ref];
        if (w->params_len == 0) { /* the datum is the whole image */
            *img = code->datum;
            *len = code->datum_len;
            return code->datum_len > 0 ? UTXO_OK : UTXO_ERR_TX_REF_CODE;
        }
        rc = instance_of(code->datum, code->datum_len, w->params, w->params_len, owned, len);
        if (rc != UTXO_OK)
            return rc == UTXO_ERR_IMAGE ? UTXO_ERR_TX_REF_CODE : rc;
        *img = *owned;
        return UTXO_OK;
    }
    if (w->form != UTXO_FORM_TEMPLATE)
        return UTXO_ERR_TX_FORM;
    if (stdpred_get(w->tmpl) == NULL)
        return UTXO_ERR_TX_TEMPLATE;
    rc = stdpred_instance(w->tmpl, w->params, w->params_len, owned, len);
    if (rc == UTXO_ERR_ARG)
        return UTXO_ERR_TX_TEMPLATE_PARAMS;
    if (rc != UTXO_OK)
        return rc;
    *img = *owned;
    return UTXO_OK;
}
