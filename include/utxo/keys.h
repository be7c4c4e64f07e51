/*
 * utxo/keys.h — Ed25519 keys, deterministic key derivation from one master
 * seed, and addresses: the human-readable, checksummed form of a predicate
 * id.
 *
 * Keys are libsodium Ed25519 keys. A 32-byte seed gives one key pair; a
 * master seed gives any number of child seeds (utxo_seed_derive):
 *
 *     child(master, i) = BLAKE2b-256(key = master, personal = "utxo.derive.v1",
 *                                    message = u32 little-endian i)
 *
 * so a wallet backs up 32 bytes and recovers every key. docs/WALLET.md has
 * the scheme and known-answer vectors.
 *
 * An address is the Bech32m string (BIP-350) of a predicate id with the
 * human-readable part "utxo" and a version symbol 0 before the 32 bytes:
 * always UTXO_ADDRESS_LEN (64) characters, e.g.
 * "utxo1q...". The checksum detects every change of up to four characters
 * (in particular every single-character typo); decoding is strict.
 *
 * Buffers: every buffer is the caller's; sizes are the constants below.
 * Secret keys and seeds are the caller's to wipe (sodium_memzero); this
 * module wipes its own temporaries. Functions return UTXO_OK or a
 * UTXO_ERR_* code and zero their outputs on failure.
 * Thread-safety: no shared state; every function may be called from any
 * thread.
 */
#ifndef UTXO_KEYS_H
#define UTXO_KEYS_H

#include "utxo/ledger.h"

#ifdef __cplusplus
extern "C" {
#endif

#define UTXO_SEED_BYTES 32u      /* a key seed or a master seed */
#define UTXO_SECRETKEY_BYTES 64u /* libsodium Ed25519 secret key (seed || pk) */
#define UTXO_ADDRESS_LEN 64u     /* characters of an address, without the NUL */
#define UTXO_ADDRESS_HRP "utxo"  /* human-readable part of every address */

/**
 * Fills seed with UTXO_SEED_BYTES from the operating system's CSPRNG
 * (libsodium randombytes). Returns UTXO_OK, or UTXO_ERR_INTERNAL when
 * libsodium cannot initialise.
 */
int utxo_seed_random(uint8_t seed[UTXO_SEED_BYTES]);

/**
 * The Ed25519 key pair of a 32-byte seed (crypto_sign_seed_keypair).
 * Out: pk (32 bytes), sk (64 bytes). Returns UTXO_OK or UTXO_ERR_ARG (NULL
 * pointer).
 */
int utxo_keypair_from_seed(uint8_t pk[UTXO_PUBKEY_BYTES], uint8_t sk[UTXO_SECRETKEY_BYTES],
                           const uint8_t seed[UTXO_SEED_BYTES]);

/**
 * Child seed number `index` of a master seed, by the keyed BLAKE2b scheme
 * above. Different indices give independent seeds; a child does not reveal
 * the master. Returns UTXO_OK or UTXO_ERR_ARG.
 */
int utxo_seed_derive(uint8_t child[UTXO_SEED_BYTES], const uint8_t master[UTXO_SEED_BYTES],
                     uint32_t index);

/**
 * The key pair of child `index` of master: utxo_seed_derive then
 * utxo_keypair_from_seed (the child seed is wiped before returning).
 */
int utxo_keypair_derive(uint8_t pk[UTXO_PUBKEY_BYTES], uint8_t sk[UTXO_SECRETKEY_BYTES],
                        const uint8_t master[UTXO_SEED_BYTES], uint32_t index);

/**
 * Signs a transaction's sighash (utxo_tx_sighash) with an Ed25519 secret
 * key: the signature every standard predicate checks.
 */
int utxo_sign_sighash(uint8_t sig[UTXO_SIG_BYTES], const uint8_t sighash[UTXO_HASH_BYTES],
                      const uint8_t sk[UTXO_SECRETKEY_BYTES]);

/* ---- addresses ------------------------------------------------------------ */

/**
 * Encodes a predicate id as an address: writes UTXO_ADDRESS_LEN lowercase
 * characters and a NUL into out (caller-owned, UTXO_ADDRESS_LEN + 1 bytes).
 * Returns UTXO_OK or UTXO_ERR_ARG.
 */
int utxo_address_encode(char out[UTXO_ADDRESS_LEN + 1], const uint8_t id[UTXO_HASH_BYTES]);

/**
 * Decodes an address (a NUL-terminated string, all lowercase or all
 * uppercase) into the predicate id it names. Returns UTXO_OK,
 * UTXO_ERR_ADDRESS_CHECKSUM (well-formed but the checksum fails: a typo) or
 * UTXO_ERR_ADDRESS_FORMAT (wrong length, human-readable part, separator,
 * character, mixed case, version or padding). id is zeroed on failure.
 */
UTXO_WARN_UNUSED int utxo_address_decode(uint8_t id[UTXO_HASH_BYTES], const char *addr);

/**
 * The pay-to-pubkey predicate id of pk (the id of the standard p2pk
 * instance for pk, see utxo/standard.h). Returns UTXO_OK, UTXO_ERR_ARG or
 * UTXO_ERR_NOMEM.
 */
int utxo_p2pk_id(uint8_t id[UTXO_HASH_BYTES], const uint8_t pk[UTXO_PUBKEY_BYTES]);

/** utxo_p2pk_id then utxo_address_encode: the address that pays pk. */
int utxo_address_from_pubkey(char out[UTXO_ADDRESS_LEN + 1], const uint8_t pk[UTXO_PUBKEY_BYTES]);

#ifdef __cplusplus
}
#endif
#endif /* UTXO_KEYS_H */
