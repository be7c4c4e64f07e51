/*
 * params.c — consensus parameters: defaults, the 108-byte encoding
 * (docs/ENCODING.md, "Consensus parameters") and the chain id derived from it.
 */
#include "config.h"

#include <string.h>
#include "utxo/ledger_int.h"

void utxo_params_default(utxo_params *p)
{
    memset(p, 0, sizeof *p);
    p->max_tx_bytes = 1u << 20;
    p->max_block_bytes = 8u << 20;
    p->max_block_txs = 10000;
    p->max_inputs = 1024;
    p->max_outputs = 1024;
    p->max_datum_bytes = 4096;
    p->max_image_bytes = 256u << 10;
    p->max_args_bytes = 64u << 10;
    p->max_tx_cycles = UINT64_C(1) << 32;
    p->max_block_cycles = UINT64_C(1) << 36;
    p->fee_per_byte = 1;
    p->fee_per_kcycle = 1;
    p->genesis_time = 0;
    utxo_params_chain_id(p);
}

static void params_encode(enc *e, const utxo_params *p)
{
    enc_u32(e, PARAMS_VERSION);
    enc_bytes(e, p->sequencer_pk, UTXO_PUBKEY_BYTES);
    enc_u32(e, p->max_tx_bytes);
    enc_u32(e, p->max_block_bytes);
    enc_u32(e, p->max_block_txs);
    enc_u32(e, p->max_inputs);
    enc_u32(e, p->max_outputs);
    enc_u32(e, p->max_datum_bytes);
    enc_u32(e, p->max_image_bytes);
    enc_u32(e, p->max_args_bytes);
    enc_u64(e, p->max_tx_cycles);
    enc_u64(e, p->max_block_cycles);
    enc_u64(e, p->fee_per_byte);
    enc_u64(e, p->fee_per_kcycle);
    enc_u64(e, p->genesis_time);
}

static void params_encode_obj(enc *e, const void *p)
{
    params_encode(e, p);
}

void utxo_params_chain_id(utxo_params *p)
{
    enc_hash(p->chain_id, TAG_CHAIN, params_encode_obj, p);
}

void utxo_params_to_bytes(uint8_t out[UTXO_PARAMS_BYTES], const utxo_params *p)
{
    enc e;

    enc_init(&e, out, UTXO_PARAMS_BYTES, NULL);
    params_encode(&e, p);
}

/* A u32 limit in 1..cap, else TOO_LARGE (0 counts as out of range too). */
static uint32_t dec_limit32(dec *d, uint32_t cap)
{
    size_t at = d->off;
    uint32_t v = dec_u32(d);

    if (d->err == UTXO_OK && (v == 0 || v > cap))
        dec_fail(d, UTXO_ERR_TOO_LARGE, at);
    return v;
}

int utxo_params_from_bytes(utxo_params *p, const uint8_t *in, size_t len, size_t *err_offset)
{
    dec d;
    size_t at;

    if (err_offset != NULL)
        *err_offset = 0;
    if (p == NULL || (in == NULL && len > 0))
        return UTXO_ERR_ARG;
    memset(p, 0, sizeof *p);
    dec_init(&d, in, len);
    if (dec_u32(&d) != PARAMS_VERSION)
        dec_fail(&d, UTXO_ERR_VERSION, 0);
    dec_bytes(&d, p->sequencer_pk, UTXO_PUBKEY_BYTES);
    p->max_tx_bytes = dec_limit32(&d, UTXO_CAP_TX_BYTES);
    p->max_block_bytes = dec_limit32(&d, UTXO_CAP_BLOCK_BYTES);
    p->max_block_txs = dec_limit32(&d, UTXO_CAP_COUNT * 16);
    p->max_inputs = dec_limit32(&d, UTXO_CAP_COUNT);
    p->max_outputs = dec_limit32(&d, UTXO_CAP_COUNT);
    p->max_datum_bytes = dec_limit32(&d, UTXO_CAP_TX_BYTES);
    p->max_image_bytes = dec_limit32(&d, UTXO_CAP_TX_BYTES);
    p->max_args_bytes = dec_limit32(&d, UTXO_CAP_TX_BYTES);
    at = d.off;
    p->max_tx_cycles = dec_u64(&d);
    if (d.err == UTXO_OK && p->max_tx_cycles == 0)
        dec_fail(&d, UTXO_ERR_TOO_LARGE, at);
    at = d.off;
    p->max_block_cycles = dec_u64(&d);
    if (d.err == UTXO_OK && p->max_block_cycles < p->max_tx_cycles)
        dec_fail(&d, UTXO_ERR_TOO_LARGE, at);
    p->fee_per_byte = dec_u64(&d);
    p->fee_per_kcycle = dec_u64(&d);
    p->genesis_time = dec_u64(&d);
    dec_end(&d);
    /* A transaction must fit in a block. */
    if (d.err == UTXO_OK && p->max_tx_bytes > p->max_block_bytes)
        dec_fail(&d, UTXO_ERR_TOO_LARGE, 36);
    if (d.err != UTXO_OK) {
        memset(p, 0, sizeof *p);
        return dec_result(&d, err_offset);
    }
    utxo_params_chain_id(p);
    return UTXO_OK;
}
