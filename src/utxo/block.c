/*
 * block.c — block headers and blocks: encoding, strict decoding, the block
 * hash, the sequencer signature and the tx root. Formats: docs/ENCODING.md,
 * "Block header" and "Block".
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "utxo/ledger_int.h"

/* ---- header ----------------------------------------------------------- */

void header_encode(enc *e, const utxo_header *h, bool with_sig)
{
    enc_u32(e, h->version);
    enc_u32(e, h->height);
    enc_bytes(e, h->prev_hash, UTXO_HASH_BYTES);
    enc_u64(e, h->time);
    enc_bytes(e, h->tx_root, UTXO_HASH_BYTES);
    enc_bytes(e, h->acc_digest, UTXO_HASH_BYTES);
    if (with_sig)
        enc_bytes(e, h->sig, UTXO_SIG_BYTES);
}

void header_decode(dec *d, utxo_header *h)
{
    size_t at = d->off;

    h->version = dec_u32(d);
    if (d->err == UTXO_OK && h->version != UTXO_HEADER_VERSION)
        dec_fail(d, UTXO_ERR_VERSION, at);
    h->height = dec_u32(d);
    dec_bytes(d, h->prev_hash, UTXO_HASH_BYTES);
    h->time = dec_u64(d);
    dec_bytes(d, h->tx_root, UTXO_HASH_BYTES);
    dec_bytes(d, h->acc_digest, UTXO_HASH_BYTES);
    dec_bytes(d, h->sig, UTXO_SIG_BYTES);
}

void utxo_header_to_bytes(const utxo_header *h, uint8_t out[UTXO_HEADER_BYTES])
{
    enc e;

    enc_init(&e, out, UTXO_HEADER_BYTES, NULL);
    header_encode(&e, h, true);
}

int utxo_header_from_bytes(utxo_header *h, const uint8_t *in, size_t len, size_t *err_offset)
{
    dec d;

    if (err_offset != NULL)
        *err_offset = 0;
    if (h == NULL || (in == NULL && len > 0))
        return UTXO_ERR_ARG;
    dec_init(&d, in, len);
    header_decode(&d, h);
    dec_end(&d);
    if (d.err != UTXO_OK)
        memset(h, 0, sizeof *h);
    return dec_result(&d, err_offset);
}

/* The header without its signature: what the block hash covers. */
static void header_encode_unsigned_obj(enc *e, const void *h)
{
    header_encode(e, h, false);
}

void utxo_header_hash(const utxo_header *h, uint8_t out[UTXO_HASH_BYTES])
{
    enc_hash(out, TAG_BLOCK, header_encode_unsigned_obj, h);
}

int utxo_header_sign(utxo_header *h, const uint8_t sk[64])
{
    uint8_t hash[UTXO_HASH_BYTES];

    if (h == NULL || sk == NULL)
        return UTXO_ERR_ARG;
    utxo_header_hash(h, hash);
    crypto_sign_detached(h->sig, NULL, hash, sizeof hash, sk);
    return UTXO_OK;
}

int utxo_header_verify(const utxo_header *h, const uint8_t pk[UTXO_PUBKEY_BYTES])
{
    uint8_t hash[UTXO_HASH_BYTES];

    if (h == NULL || pk == NULL)
        return UTXO_ERR_ARG;
    utxo_header_hash(h, hash);
    if (crypto_sign_verify_detached(h->sig, hash, sizeof hash, pk) != 0)
        return UTXO_ERR_BLOCK_SIG;
    return UTXO_OK;
}

/* ---- blocks ----------------------------------------------------------- */

utxo_block *utxo_block_new(void)
{
    utxo_block *b = calloc(1, sizeof *b);

    if (b != NULL)
        b->header.version = UTXO_HEADER_VERSION;
    return b;
}

void utxo_block_free(utxo_block *b)
{
    if (b == NULL)
        return;
    for (uint32_t i = 0; i < b->n_txs; i++)
        utxo_tx_free(b->txs[i]);
    free(b->txs);
    free(b);
}

int utxo_block_add_tx(utxo_block *b, utxo_tx *tx)
{
    utxo_tx **txs;

    if (b == NULL || tx == NULL || b->n_txs >= UTXO_CAP_COUNT * 16)
        return UTXO_ERR_ARG;
    txs = realloc(b->txs, (b->n_txs + 1) * sizeof *txs);
    if (txs == NULL)
        return UTXO_ERR_NOMEM;
    b->txs = txs;
    b->txs[b->n_txs++] = tx;
    return UTXO_OK;
}

static hash_domain txleaf_dom = HASH_DOMAIN(TAG_TXLEAF);
static hash_domain txnode_dom = HASH_DOMAIN(TAG_TXNODE);

void block_tx_leaf(const uint8_t wtxid[UTXO_HASH_BYTES], uint8_t out[UTXO_HASH_BYTES])
{
    hash_tagged_dom(out, &txleaf_dom, wtxid, UTXO_HASH_BYTES);
}

int block_tx_root_leaves(uint32_t n, const uint8_t (*leaves)[UTXO_HASH_BYTES],
                         uint8_t out[UTXO_HASH_BYTES])
{
    uint8_t (*level)[UTXO_HASH_BYTES];
    uint8_t count[4];
    hash_state st;

    level = malloc((n > 0 ? n : 1) * sizeof *level);
    if (level == NULL)
        return UTXO_ERR_NOMEM;
    memset(level[0], 0, UTXO_HASH_BYTES);
    if (n > 0)
        memcpy(level, leaves, (size_t)n * sizeof *level);
    /* Pairs are hashed; an odd last node moves up unchanged (never
     * duplicated, so no two lists share a root: CVE-2012-2459). */
    for (uint32_t w = n; w > 1; w = (w + 1) / 2) {
        for (uint32_t i = 0; i < w / 2; i++)
            hash_pair_dom(level[i], &txnode_dom, level[2 * i], level[2 * i + 1]);
        if (w & 1)
            memmove(level[w / 2], level[w - 1], UTXO_HASH_BYTES);
    }
    put_u32le(count, n);
    hash_init(&st, TAG_TXROOT);
    hash_update(&st, count, sizeof count);
    hash_update(&st, level[0], UTXO_HASH_BYTES);
    hash_final(&st, out);
    free(level);
    return UTXO_OK;
}

int block_tx_root_ids(uint32_t n, const uint8_t (*wtxids)[UTXO_HASH_BYTES],
                      uint8_t out[UTXO_HASH_BYTES])
{
    uint8_t (*leaves)[UTXO_HASH_BYTES];
    int rc;

    leaves = malloc((n > 0 ? n : 1) * sizeof *leaves);
    if (leaves == NULL)
        return UTXO_ERR_NOMEM;
    for (uint32_t i = 0; i < n; i++)
        block_tx_leaf(wtxids[i], leaves[i]);
    rc = block_tx_root_leaves(n, (const uint8_t (*)[UTXO_HASH_BYTES])leaves, out);
    free(leaves);
    return rc;
}

int utxo_block_tx_root(const utxo_block *b, uint8_t out[UTXO_HASH_BYTES])
{
    uint8_t (*wtxids)[UTXO_HASH_BYTES];
    int rc;

    if (b == NULL || out == NULL)
        return UTXO_ERR_ARG;
    wtxids = malloc((b->n_txs > 0 ? b->n_txs : 1) * sizeof *wtxids);
    if (wtxids == NULL)
        return UTXO_ERR_NOMEM;
    for (uint32_t i = 0; i < b->n_txs; i++)
        utxo_tx_wtxid(b->txs[i], wtxids[i]);
    rc = block_tx_root_ids(b->n_txs, (const uint8_t (*)[UTXO_HASH_BYTES])wtxids, out);
    free(wtxids);
    return rc;
}

/* lens (or NULL): the transactions' encoded lengths, known to the caller.
 * With `count` (e only counts: block_length_lens), the transactions are
 * added by their lengths, not encoded. */
static void block_encode_lens(enc *e, const utxo_block *b, const size_t *lens, bool count)
{
    header_encode(e, &b->header, true);
    enc_varint(e, b->n_txs);
    for (uint32_t i = 0; i < b->n_txs; i++) {
        size_t n = lens != NULL ? lens[i] : utxo_tx_get_length(b->txs[i], true);
        enc_varint(e, n);
        if (count)
            e->len += n;
        else
            tx_encode(e, b->txs[i]);
    }
}

static void block_encode_obj(enc *e, const void *b)
{
    block_encode_lens(e, b, NULL, false);
}

typedef struct block_lens {
    const utxo_block *b;
    const size_t *lens;
} block_lens;

static void block_lens_obj(enc *e, const void *obj)
{
    const block_lens *bl = obj;
    block_encode_lens(e, bl->b, bl->lens, false);
}

size_t block_length_lens(const utxo_block *b, const size_t *lens)
{
    enc e;

    if (lens == NULL)
        return utxo_block_get_length(b);
    enc_init(&e, NULL, 0, NULL);
    block_encode_lens(&e, b, lens, true);
    return e.len;
}

size_t utxo_block_get_length(const utxo_block *b)
{
    return enc_length(block_encode_obj, b);
}

int utxo_block_to_bytes(const utxo_block *b, uint8_t *out, size_t out_len, size_t *written)
{
    return enc_to_bytes(block_encode_obj, b, out, out_len, written);
}

int block_to_new(const utxo_block *b, const size_t *lens, size_t hint, uint8_t **out,
                 size_t *len)
{
    block_lens bl = {b, lens};

    return enc_to_new(block_lens_obj, &bl, hint, out, len);
}

int utxo_block_from_bytes(utxo_block **out, const uint8_t *in, size_t len,
                          const utxo_params *p, size_t *err_offset)
{
    utxo_params def;
    utxo_block *b = NULL;
    uint32_t n;
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
    if (len > p->max_block_bytes)
        dec_fail(&d, UTXO_ERR_TOO_LARGE, p->max_block_bytes);
    b = utxo_block_new();
    if (b == NULL)
        return UTXO_ERR_NOMEM;
    header_decode(&d, &b->header);
    n = (uint32_t)dec_varint(&d, p->max_block_txs);
    /* every transaction needs at least a length byte and 10 bytes of body
     * (the smallest, an output-less coinbase: version, count 0, height,
     * count 0); a tighter guard would refuse valid blocks by size */
    if (d.err == UTXO_OK && (size_t)n * 11 > dec_left(&d))
        dec_fail(&d, UTXO_ERR_TRUNCATED, d.len);
    if (d.err == UTXO_OK && n > 0 && (b->txs = calloc(n, sizeof *b->txs)) == NULL)
        dec_fail(&d, UTXO_ERR_NOMEM, d.off);
    for (uint32_t i = 0; i < n && d.err == UTXO_OK; i++) {
        uint64_t tx_len = dec_varint(&d, p->max_tx_bytes);
        size_t start = d.off;
        dec sub;

        if (d.err != UTXO_OK)
            break;
        if (tx_len > dec_left(&d)) {
            dec_fail(&d, UTXO_ERR_TRUNCATED, d.len);
            break;
        }
        /* The transaction must fill exactly its declared length. */
        dec_init(&sub, d.p + start, (size_t)tx_len);
        b->txs[i] = tx_decode(&sub, p);
        dec_end(&sub);
        if (sub.err != UTXO_OK) {
            utxo_tx_free(b->txs[i]);
            b->txs[i] = NULL;
            dec_fail(&d, sub.err, start + sub.err_off);
            break;
        }
        b->n_txs = i + 1;
        d.off = start + (size_t)tx_len;
    }
    dec_end(&d);
    if (d.err != UTXO_OK) {
        utxo_block_free(b);
        return dec_result(&d, err_offset);
    }
    *out = b;
    return UTXO_OK;
}
