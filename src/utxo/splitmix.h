/*
 * splitmix.h — splitmix64 (Steele, Lea and Flood; the seeding generator of
 * xoshiro), the one deterministic PRNG behind the history generators, the
 * benchmarks and the tests: the same seed gives the same sequence on every
 * machine. Not for secrets: keys and nonces come from libsodium.
 */
#ifndef UTXO_SRC_SPLITMIX_H
#define UTXO_SRC_SPLITMIX_H

#include <stdint.h>

/* Advances *state and returns the next 64-bit output. */
static inline uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

#endif /* UTXO_SRC_SPLITMIX_H */
