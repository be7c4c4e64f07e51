/*
 * timelock.c — standard predicate: an Ed25519 key that can spend only from
 * a given block height on.
 *
 * Parameters: pk, 32 bytes; then H, u32 little-endian.
 * Arguments: sig, 64 bytes: pk's signature of the sighash.
 * The key is there because a bare "height >= H" would let whoever sees the
 * output first take it once H passes.
 * Exit codes: 0 accept; 1 arguments are not 64 bytes; 2 bad signature;
 * 4 height below H.
 */
#include "utxo_sdk.h"

int predicate_main(const uint8_t *args, uint32_t len)
{
    uint8_t msg[32];

    if (len != 64)
        return 1;
    if (utxo_height() < utxo_le32(UTXO_PARAMS + 32))
        return 4;
    utxo_sighash(msg);
    return utxo_ed25519_verify(args, UTXO_PARAMS, msg, sizeof msg) == 0 ? 0 : 2;
}
