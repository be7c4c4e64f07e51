/*
 * keys.c — Ed25519 key pairs from seeds and the deterministic derivation of
 * child seeds from one master seed (utxo/keys.h, docs/WALLET.md).
 *
 * Derivation: child(master, i) = BLAKE2b-256 keyed with the 32-byte master,
 * personalised "utxo.derive.v1", over the 4-byte little-endian index. A
 * keyed BLAKE2b is a PRF, so children are independent and reveal nothing of
 * the master or of each other. Key pairs come from crypto_sign_seed_keypair.
 * Every temporary that held secret bytes is wiped with sodium_memzero.
 */
#include "config.h"

#include <string.h>
#include <sodium.h>
#include "utxo/keys.h"
#include "utxo/codec.h"

#define DERIVE_PERSONAL "utxo.derive.v1"

int utxo_seed_random(uint8_t seed[UTXO_SEED_BYTES])
{
    if (seed == NULL)
        return UTXO_ERR_ARG;
    if (sodium_init() < 0) {
        memset(seed, 0, UTXO_SEED_BYTES);
        return UTXO_ERR_INTERNAL;
    }
    randombytes_buf(seed, UTXO_SEED_BYTES);
    return UTXO_OK;
}

int utxo_keypair_from_seed(uint8_t pk[UTXO_PUBKEY_BYTES], uint8_t sk[UTXO_SECRETKEY_BYTES],
                           const uint8_t seed[UTXO_SEED_BYTES])
{
    if (pk == NULL || sk == NULL || seed == NULL) {
        if (pk)
            memset(pk, 0, UTXO_PUBKEY_BYTES);
        if (sk)
            sodium_memzero(sk, UTXO_SECRETKEY_BYTES);
        return UTXO_ERR_ARG;
    }
    if (crypto_sign_seed_keypair(pk, sk, seed) != 0) {
        memset(pk, 0, UTXO_PUBKEY_BYTES);
        sodium_memzero(sk, UTXO_SECRETKEY_BYTES);
        return UTXO_ERR_INTERNAL;
    }
    return UTXO_OK;
}

int utxo_seed_derive(uint8_t child[UTXO_SEED_BYTES], const uint8_t master[UTXO_SEED_BYTES],
                     uint32_t index)
{
    uint8_t personal[crypto_generichash_blake2b_PERSONALBYTES] = {0};
    uint8_t msg[4];

    if (child == NULL)
        return UTXO_ERR_ARG;
    if (master == NULL) {
        sodium_memzero(child, UTXO_SEED_BYTES);
        return UTXO_ERR_ARG;
    }
    memcpy(personal, DERIVE_PERSONAL, sizeof DERIVE_PERSONAL - 1);
    put_u32le(msg, index);
    if (crypto_generichash_blake2b_salt_personal(child, UTXO_SEED_BYTES, msg, sizeof msg, master,
                                                 UTXO_SEED_BYTES, NULL, personal) != 0) {
        sodium_memzero(child, UTXO_SEED_BYTES);
        return UTXO_ERR_INTERNAL;
    }
    return UTXO_OK;
}

int utxo_keypair_derive(uint8_t pk[UTXO_PUBKEY_BYTES], uint8_t sk[UTXO_SECRETKEY_BYTES],
                        const uint8_t master[UTXO_SEED_BYTES], uint32_t index)
{
    uint8_t child[UTXO_SEED_BYTES];
    int rc;

    if (pk == NULL || sk == NULL || master == NULL)
        return utxo_keypair_from_seed(pk, sk, NULL);
    rc = utxo_seed_derive(child, master, index);
    if (rc == UTXO_OK)
        rc = utxo_keypair_from_seed(pk, sk, child);
    sodium_memzero(child, sizeof child);
    return rc;
}

int utxo_sign_sighash(uint8_t sig[UTXO_SIG_BYTES], const uint8_t sighash[UTXO_HASH_BYTES],
                      const uint8_t sk[UTXO_SECRETKEY_BYTES])
{
    if (sig == NULL)
        return UTXO_ERR_ARG;
    if (sighash == NULL || sk == NULL) {
        memset(sig, 0, UTXO_SIG_BYTES);
        return UTXO_ERR_ARG;
    }
    if (crypto_sign_detached(sig, NULL, sighash, UTXO_HASH_BYTES, sk) != 0) {
        memset(sig, 0, UTXO_SIG_BYTES);
        return UTXO_ERR_INTERNAL;
    }
    return UTXO_OK;
}
