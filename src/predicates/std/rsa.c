/*
 * rsa.c — standard predicate: RSA-2048 PKCS#1 v1.5 signature with SHA-256
 * (RFC 8017, RSASSA-PKCS1-v1_5), public exponent 65537.
 *
 * Parameters: the modulus n, 256 bytes big-endian (2048 bits exactly).
 * Arguments: the signature s, 256 bytes big-endian, over the message
 * M = the transaction's 32-byte sighash.
 * Check: s < n, s^65537 mod n = 00 01 FF..FF 00 || DigestInfo(SHA-256) ||
 * SHA-256(M), through the big-integer host calls.
 * Exit codes: 0 accept; 1 arguments are not 256 bytes; 2 s >= n;
 * 3 encoded message does not match.
 */
#include "utxo_sdk.h"

#define K 256u

static const uint8_t digest_info[19] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                        0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
static const uint8_t e65537[3] = {0x01, 0x00, 0x01};

int predicate_main(const uint8_t *args, uint32_t len)
{
    uint8_t em[K], want[K], msg[32];
    const uint8_t *n = UTXO_PARAMS;

    if (len != K)
        return 1;
    if (utxo_big_cmp(UTXO_BIG(args, K), UTXO_BIG(n, K)) >= 0)
        return 2;
    utxo_big_modexp(UTXO_BIG(em, K), UTXO_BIG(args, K), UTXO_BIG(e65537, 3), UTXO_BIG(n, K));
    want[0] = 0x00;
    want[1] = 0x01;
    memset(want + 2, 0xff, K - 3 - sizeof digest_info - 32);
    want[K - 1 - sizeof digest_info - 32] = 0x00;
    memcpy(want + K - sizeof digest_info - 32, digest_info, sizeof digest_info);
    utxo_sighash(msg);
    utxo_sha256(want + K - 32, msg, sizeof msg);
    return memcmp(em, want, K) == 0 ? 0 : 3;
}
