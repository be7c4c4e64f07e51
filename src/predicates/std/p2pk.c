/*
 * p2pk.c — standard predicate: pay to an Ed25519 public key.
 *
 * Parameters (at UTXO_ABI_PARAMS_BASE): pk, 32 bytes.
 * Arguments: sig, 64 bytes: pk's signature of the transaction's sighash.
 * Exit codes: 0 accept; 1 arguments are not 64 bytes; 2 bad signature.
 */
#include "utxo_sdk.h"

int predicate_main(const uint8_t *args, uint32_t len)
{
    uint8_t msg[32];

    if (len != 64)
        return 1;
    utxo_sighash(msg);
    return utxo_ed25519_verify(args, UTXO_PARAMS, msg, sizeof msg) == 0 ? 0 : 2;
}
