/*
 * multisig.c — standard predicate: m of n Ed25519 keys.
 *
 * Parameters: m u8, n u8 (1 <= m <= n <= 16), two zero bytes, then n
 * public keys of 32 bytes.
 * Arguments: a u32 little-endian bitmap of the signing keys (bit i = key i;
 * exactly m bits set, none at or above n), then one 64-byte signature of
 * the sighash per set bit, in increasing key order.
 * Exit codes: 0 accept; 1 malformed arguments; 2 a bad signature;
 * 3 malformed parameters.
 */
#include "utxo_sdk.h"

int predicate_main(const uint8_t *args, uint32_t len)
{
    const uint8_t *p = UTXO_PARAMS;
    uint32_t m = p[0], n = p[1], bits, count = 0;
    uint8_t msg[32];

    if (m == 0 || m > n || n > 16 || p[2] != 0 || p[3] != 0)
        return 3;
    if (len < 4)
        return 1;
    bits = utxo_le32(args);
    if (bits >> n != 0)
        return 1;
    for (uint32_t i = 0; i < n; i++)
        count += (bits >> i) & 1;
    if (count != m || len != 4 + 64 * m)
        return 1;
    utxo_sighash(msg);
    args += 4;
    for (uint32_t i = 0; i < n; i++) {
        if (((bits >> i) & 1) == 0)
            continue;
        if (utxo_ed25519_verify(args, p + 4 + 32 * i, msg, sizeof msg) != 0)
            return 2;
        args += 64;
    }
    return 0;
}
