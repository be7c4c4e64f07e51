/*
 * htlc.c — standard predicate: hashed time-locked contract.
 *
 * Parameters: h (32, BLAKE2b-256 of the secret), recipient pk (32), refund
 * pk (32), refund height H (u32 little-endian).
 * Arguments, one of:
 *   00 || sig(64) || secret   claim: BLAKE2b-256(secret) = h and sig is the
 *                             recipient's signature of the sighash;
 *   01 || sig(64)             refund: height >= H and sig is the refund
 *                             key's signature of the sighash.
 * The claim needs the recipient's signature too, so a revealed secret
 * cannot be used by a third party to redirect the coins (BIP 199 shape).
 * Exit codes: 0 accept; 1 malformed arguments; 2 bad signature; 3 wrong
 * secret; 4 height below H.
 */
#include "utxo_sdk.h"

int predicate_main(const uint8_t *args, uint32_t len)
{
    const uint8_t *p = UTXO_PARAMS;
    uint8_t msg[32], h[32];
    const uint8_t *pk;

    if (len < 65)
        return 1;
    if (args[0] == 0) {
        utxo_blake2b(h, args + 65, len - 65);
        if (memcmp(h, p, sizeof h) != 0)
            return 3;
        pk = p + 32;
    } else if (args[0] == 1 && len == 65) {
        if (utxo_height() < utxo_le32(p + 96))
            return 4;
        pk = p + 64;
    } else {
        return 1;
    }
    utxo_sighash(msg);
    return utxo_ed25519_verify(args + 1, pk, msg, sizeof msg) == 0 ? 0 : 2;
}
