/*
 * hashlock.c — standard predicate: reveal a BLAKE2b-256 preimage.
 *
 * Parameters: h, 32 bytes: the plain (unkeyed, untagged) BLAKE2b-256 of the
 * secret. Arguments: the secret (any length the transaction allows).
 * Anyone who learns the secret can spend: combine with a key (HTLC) when
 * that matters. Exit codes: 0 accept; 2 wrong preimage.
 */
#include "utxo_sdk.h"

int predicate_main(const uint8_t *args, uint32_t len)
{
    uint8_t h[32];

    utxo_blake2b(h, args, len);
    return memcmp(h, UTXO_PARAMS, sizeof h) == 0 ? 0 : 2;
}
