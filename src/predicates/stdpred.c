/*
 * stdpred.c — standard predicate templates and instances (see stdpred.h).
 * The template bytes live in std/templates.c, generated from the committed
 * images; this file checks parameters and splices them into a template.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "utxo/abi.h"
#include "predicates/image.h"
#include "predicates/stdpred.h"

const stdpred_template *stdpred_get(int kind)
{
    if (kind < 0 || kind >= STDPRED_COUNT)
        return NULL;
    return &stdpred_templates[kind];
}

int stdpred_check_params(int kind, const uint8_t *p, size_t len)
{
    if (p == NULL)
        return UTXO_ERR_ARG;
    switch (kind) {
    case STDPRED_P2PK:
    case STDPRED_HASHLOCK:
        return len == 32 ? UTXO_OK : UTXO_ERR_ARG;
    case STDPRED_TIMELOCK:
        return len == 36 ? UTXO_OK : UTXO_ERR_ARG;
    case STDPRED_HTLC:
        return len == 100 ? UTXO_OK : UTXO_ERR_ARG;
    case STDPRED_MULTISIG:
        if (len < 4 || p[0] == 0 || p[0] > p[1] || p[1] > STDPRED_MULTISIG_MAX_KEYS || p[2] != 0 ||
            p[3] != 0 || len != 4 + 32u * p[1])
            return UTXO_ERR_ARG;
        return UTXO_OK;
    case STDPRED_RSA: /* exactly 2048 bits, odd */
        return len == 256 && (p[0] & 0x80) && (p[255] & 1) ? UTXO_OK : UTXO_ERR_ARG;
    default:
        return UTXO_ERR_ARG;
    }
}

int stdpred_instance(int kind, const uint8_t *params, size_t len, uint8_t **img, size_t *img_len)
{
    const stdpred_template *t = stdpred_get(kind);
    vm_segment segs[UTXO_IMAGE_MAX_SEGMENTS];
    img_view v;
    int rc;

    if (img)
        *img = NULL;
    if (img_len)
        *img_len = 0;
    if (t == NULL || img == NULL || img_len == NULL)
        return UTXO_ERR_ARG;
    if ((rc = stdpred_check_params(kind, params, len)) != UTXO_OK)
        return rc;
    rc = img_view_decode(&v, t->image, t->image_len, NULL);
    if (rc != UTXO_OK || v.n_segs >= UTXO_IMAGE_MAX_SEGMENTS)
        return UTXO_ERR_INTERNAL; /* a committed template is always valid */
    memcpy(segs, v.segs, sizeof *segs * v.n_segs);
    segs[v.n_segs].vaddr = UTXO_ABI_PARAMS_BASE;
    segs[v.n_segs].len = (uint32_t)len;
    segs[v.n_segs].data = params;
    return img_encode(img, img_len, v.entry, segs, v.n_segs + 1);
}
