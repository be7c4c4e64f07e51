/*
 * work.c — the long-running predicate of the continuation tests and of
 * `utxo bench segments` (built with the SDK for RV32IM; the image is
 * committed as tests/segments/work.img so the tests run without a RISC-V
 * toolchain; tests/segments/gen_work.sh rebuilds it).
 *
 * Arguments: six little-endian u32 words (missing words are 0):
 *   [0] rounds   software SHA-256 compressions chained over a 64-byte block
 *   [1] sieve    bytes of a sieve of Eratosthenes at 0x10000000 (0: none)
 *   [2] hcall    every this many rounds, also hash the state with the
 *                BLAKE2b host call (0: never) and log the round number
 *   [3] touch    KiB of memory at 0x20000000 to write one word per page of,
 *                then read back (0: none)
 *   [4] expect   0xffffffff: accept whatever the checksum; otherwise exit 0
 *                when the checksum equals it, else exit 1
 *   [5] passes   times to sweep the touch region (0 counts as 1)
 * Everything the run computes goes into one checksum, so a wrong
 * instruction anywhere changes the outcome.
 */
#include "utxo_sdk.h"

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void compress(uint32_t h[8], const uint32_t blk[16])
{
    uint32_t w[64], a, b, c, d, e, f, g, hh;
    for (int i = 0; i < 16; i++)
        w[i] = blk[i];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

int predicate_main(const uint8_t *args, uint32_t len)
{
    uint32_t p[6] = {0, 0, 0, 0, 0, 0};
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    uint32_t blk[16];
    uint32_t sum = 0;

    for (uint32_t i = 0; i < 6 && 4 * i + 4 <= len; i++)
        p[i] = utxo_le32(args + 4 * i);
    for (int i = 0; i < 16; i++)
        blk[i] = (uint32_t)i * 0x9e3779b9u;

    /* sieve: count primes below p[1] */
    if (p[1] >= 2) {
        volatile uint8_t *s = (volatile uint8_t *)0x10000000u;
        uint32_t n = p[1], count = 0;
        for (uint32_t i = 2; i * i < n; i++)
            if (!s[i])
                for (uint32_t j = i * i; j < n; j += i)
                    s[j] = 1;
        for (uint32_t i = 2; i < n; i++)
            count += !s[i];
        sum ^= count;
    }

    /* touch: one word per page, then read them all back */
    if (p[3]) {
        volatile uint32_t *m = (volatile uint32_t *)0x20000000u;
        uint32_t words = p[3] * 256u, passes = p[5] ? p[5] : 1;
        for (uint32_t r = 0; r < passes; r++)
            for (uint32_t i = 0; i < words; i += 256)
                m[i] += i ^ r;
        for (uint32_t i = 0; i < words; i += 256)
            sum += m[i];
    }

    /* hash chain */
    for (uint32_t r = 0; r < p[0]; r++) {
        compress(h, blk);
        for (int i = 0; i < 8; i++)
            blk[i] ^= h[i];
        blk[15] = r;
        if (p[2] && r % p[2] == p[2] - 1) {
            uint8_t out[32];
            utxo_blake2b(out, h, sizeof h);
            blk[8] ^= utxo_le32(out);
            utxo_log(&r, sizeof r);
        }
    }
    for (int i = 0; i < 8; i++)
        sum = sum * 31u + h[i];
    if (p[4] == 0xffffffffu)
        return 0;
    return sum == p[4] ? 0 : 1;
}
