/*
 * utxo/wallet.h — a wallet in its own SQLite file: keys derived from one
 * master seed (encrypted at rest), the pay-to-pubkey coins it owns, and for
 * them an accumulator proof kept fresh block by block from the block proof
 * bundles, so the wallet can spend against a stateless validator without a
 * bridge node. Balance, history, payments.
 *
 * The master seed is stored encrypted with crypto_secretbox (XSalsa20-
 * Poly1305) under a key derived from the passphrase with Argon2id
 * (crypto_pwhash, OPSLIMIT_INTERACTIVE / MEMLIMIT_INTERACTIVE; the salt and
 * limits are stored in the file). Public keys, coins and history are not
 * secret and are stored in clear, so a wallet opened without its passphrase
 * ("watch-only") can still sync and report its balance; deriving new keys
 * and signing need the passphrase. Schema and formats: docs/WALLET.md.
 *
 * Syncing: utxo_wallet_apply_block takes each block with its proof bundle
 * (utxo/stateless.h), validates it with the stateless validator whose state
 * (tip and accumulator roots) the wallet keeps, and in the same SQL
 * transaction records the wallet's new and spent coins and carries its
 * proof across the block (no bridge node involved). A block that fails
 * changes nothing.
 *
 * Ownership: utxo_wallet is an opaque handle (create/open, then
 * utxo_wallet_close; NULL is a no-op; the master seed is wiped on close).
 * Every buffer is the caller's unless a function says otherwise.
 * Thread-safety: one handle is used by one thread at a time; several
 * handles on one file are serialised by SQLite's locking (a writer waits
 * up to 5 s, then UTXO_ERR_WALLET_DB), and a handle whose chain state
 * another handle has moved refuses to apply or undo blocks
 * (UTXO_ERR_WALLET_CHAIN: reopen it).
 */
#ifndef UTXO_WALLET_H
#define UTXO_WALLET_H

#include "utxo/builder.h"
#include "utxo/stateless.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The wallet file's schema version. */
#define UTXO_WALLET_SCHEMA_VERSION 1u

/** The gap limit wallets scan with by default (BIP-44's), and the largest
 * one utxo_wallet_rescan_begin accepts. */
#define UTXO_WALLET_GAP_DEFAULT 20u
#define UTXO_WALLET_GAP_MAX 100000u

typedef struct utxo_wallet utxo_wallet;

/**
 * Creates a wallet file at path (which must not exist: UTXO_ERR_WALLET_EXISTS)
 * for chain p, protected by passphrase (NUL-terminated, may be empty).
 * master: the 32-byte master seed to restore from a backup, or NULL for a
 * fresh random one. The new wallet is open and unlocked (*out). It starts
 * before the chain's genesis block and holds no key yet (utxo_wallet_new_key).
 * The file is created with mode 0600 whatever the process umask (its -wal
 * and -shm files follow it). To restore the wallet of a seed, create it
 * with the seed, then apply the chain's blocks inside a rescan
 * (utxo_wallet_rescan_begin).
 * Errors: UTXO_ERR_ARG, UTXO_ERR_WALLET_EXISTS, UTXO_ERR_IO (cannot create
 * the file: errno says why), UTXO_ERR_WALLET_DB, UTXO_ERR_NOMEM; *out is
 * NULL and no file is left behind.
 */
UTXO_WARN_UNUSED int utxo_wallet_create(utxo_wallet **out, const char *path, const utxo_params *p,
                                        const char *passphrase,
                                        const uint8_t master[UTXO_SEED_BYTES]);

/**
 * Opens the wallet at path. With a passphrase the master seed is decrypted
 * (UTXO_ERR_PASSPHRASE when it does not authenticate: nothing is written to
 * the file); with NULL the wallet is watch-only. Errors also:
 * UTXO_ERR_WALLET_FORMAT (not a wallet, another schema version, corrupt
 * content), UTXO_ERR_WALLET_DB, UTXO_ERR_IO (no such file).
 */
UTXO_WARN_UNUSED int utxo_wallet_open(utxo_wallet **out, const char *path,
                                      const char *passphrase);

/** Closes w, wiping the master seed; NULL is a no-op. */
void utxo_wallet_close(utxo_wallet *w);

/**
 * The detailed message of the last call on w, owned by w: every function
 * of this header that takes a non-const w clears it first, so it is ""
 * after a success and after a refusal with nothing more to say (an
 * invalid argument: utxo_strerror of the code says it all). Calls that
 * take a const w (utxo_wallet_address, utxo_wallet_seed ...) leave it.
 */
const char *utxo_wallet_errmsg(const utxo_wallet *w);

/** The chain parameters of the wallet, into *p. */
void utxo_wallet_params(const utxo_wallet *w, utxo_params *p);
/** True when the master seed is available (opened with the passphrase). */
bool utxo_wallet_unlocked(const utxo_wallet *w);

/**
 * Changes the passphrase (re-encrypts the master seed with a fresh salt and
 * nonce). Needs an unlocked wallet (UTXO_ERR_WATCH_ONLY).
 */
int utxo_wallet_set_passphrase(utxo_wallet *w, const char *passphrase);

/**
 * Copies the 32-byte master seed into master (caller-owned; wipe it with
 * sodium_memzero when done): the backup from which utxo_wallet_create
 * restores every key. Anyone who has it can spend the wallet's coins.
 * UTXO_ERR_WATCH_ONLY without the passphrase (master is zeroed).
 */
UTXO_WARN_UNUSED int utxo_wallet_seed(const utxo_wallet *w, uint8_t master[UTXO_SEED_BYTES]);

/**
 * Moves a wallet that has not applied any block yet (next height 0) to
 * the chain p: for a wallet created before its chain, e.g. to learn the
 * address a new chain's genesis allocates to (`utxo genesis --alloc`).
 * Keys stay. UTXO_ERR_WALLET_CHAIN once a block was applied.
 */
int utxo_wallet_set_chain(utxo_wallet *w, const utxo_params *p);

/* ---- keys and addresses ------------------------------------------------- */

/**
 * Derives the next key (index = number of keys so far, utxo_seed_derive of
 * the master seed), stores its public key and p2pk id, and starts watching
 * that id from the next block. *index and pk (each may be NULL) receive the
 * index and public key. UTXO_ERR_WATCH_ONLY without the passphrase.
 */
int utxo_wallet_new_key(utxo_wallet *w, uint32_t *index, uint8_t pk[UTXO_PUBKEY_BYTES]);
/** Number of keys derived so far. */
uint32_t utxo_wallet_key_count(const utxo_wallet *w);

/**
 * Starts a rescan with gap limit `gap` (1..UTXO_WALLET_GAP_MAX;
 * UTXO_WALLET_GAP_DEFAULT is what BIP-44 wallets use): the wallet derives
 * keys so that `gap` keys beyond the highest one paid so far are watched,
 * and while the rescan runs, for each block it applies, derives more
 * whenever the block pays one of the last `gap` keys (repeatedly, so a
 * block paying keys k and k + gap + 1 finds both); those keys are stored
 * with the block, after its validation: a block refused derives none. A restored wallet thus
 * finds every key the original used as long as it never left more than
 * `gap` consecutive keys unpaid. Needs an unlocked wallet
 * (UTXO_ERR_WATCH_ONLY). The rescan belongs to this handle.
 */
int utxo_wallet_rescan_begin(utxo_wallet *w, uint32_t gap);

/**
 * Ends the rescan: the keys it derived ahead that were never paid are
 * removed again, so the next address (utxo_wallet_new_key) follows the last
 * used one. *n_keys (may be NULL) receives the number of keys kept (at
 * least 1, and never fewer than the wallet had before the rescan).
 * UTXO_ERR_ARG when no rescan runs on w.
 */
int utxo_wallet_rescan_end(utxo_wallet *w, uint32_t *n_keys);
/**
 * The address (utxo/keys.h) and, when pk is not NULL, the public key of key
 * `index`. UTXO_ERR_ARG for an index not yet derived.
 */
int utxo_wallet_address(const utxo_wallet *w, uint32_t index, char out[UTXO_ADDRESS_LEN + 1],
                        uint8_t pk[UTXO_PUBKEY_BYTES]);

/* ---- chain state ---------------------------------------------------------- */

/** The height of the next block the wallet expects (0 before genesis). */
uint32_t utxo_wallet_next_height(const utxo_wallet *w);
/** The hash of the wallet's tip block (zeros before genesis) into out. */
void utxo_wallet_tip_hash(const utxo_wallet *w, uint8_t out[UTXO_HASH_BYTES]);

/**
 * Applies block b (the next height) with its proof bundle: stateless
 * validation (utxo_validator_apply with the wallet's stored validator
 * state), then, in one SQL transaction: spent coins leave, outputs paying
 * the wallet's p2pk ids enter with their leaf positions, history rows are
 * added, the batch proof of the remaining coins is carried across the block
 * (acc_proof_update: from the block's bundle only) and the validator state
 * is stored. out (may be NULL) receives the verdict of an invalid block.
 * Returns UTXO_OK or the error; on error nothing changed.
 */
int utxo_wallet_apply_block(utxo_wallet *w, const utxo_block *b, const utxo_bundle *bundle,
                            utxo_verdict *out);

/**
 * Undoes the blocks above `height` (keeps heights 0..height), for when the
 * chain the wallet follows is replaced: coins, history, proof and validator
 * state become what they were after block `height`, in one SQL
 * transaction. The last 100 blocks can be undone (older undo data is
 * pruned): UTXO_ERR_WALLET_CHAIN beyond that; UTXO_ERR_ARG when the wallet
 * holds no block `height`; UTXO_ERR_WALLET_FORMAT when an undo record is
 * damaged (its state or proof would not load: checked before the
 * transaction commits). On error nothing changed. Keys and reservations of
 * coins that still exist stay.
 */
int utxo_wallet_rollback(utxo_wallet *w, uint32_t height);

/**
 * The accumulator the wallet holds (as the stateless validator after its
 * tip): the leaf count and up to n roots, largest tree first, into roots
 * (caller-owned); returns the number of roots.
 */
unsigned utxo_wallet_roots(const utxo_wallet *w, uint64_t *leaf_count,
                           uint8_t (*roots)[UTXO_HASH_BYTES], unsigned n);

/* ---- coins, balance, history ---------------------------------------------- */

/* A coin the wallet owns. */
typedef struct utxo_wallet_coin {
    utxo_outpoint outpoint;
    uint64_t value;
    uint8_t predicate_id[UTXO_HASH_BYTES];
    uint32_t height;     /* block that created it */
    uint64_t position;   /* accumulator leaf position */
    uint32_t key_index;  /* the key that spends it */
    uint32_t datum_len;  /* bytes of its datum (utxo_wallet_coin_datum) */
} utxo_wallet_coin;

/**
 * Sum of the wallet's unspent coins' values and their number (either may be
 * NULL), as of the wallet's tip: coins reserved by payments not yet in a
 * block are included (see utxo_wallet_pending).
 */
int utxo_wallet_balance(utxo_wallet *w, uint64_t *value, uint64_t *n_coins);

/**
 * The coins reserved by payments made with utxo_wallet_send that no applied
 * block has spent yet: their value and number (either may be NULL). Coin
 * selection skips them, so two payments before a sync never spend the same
 * coin.
 */
int utxo_wallet_pending(utxo_wallet *w, uint64_t *value, uint64_t *n_coins);

/**
 * Releases the coins reserved by the payment with this txid (a payment
 * that will never be included). UTXO_ERR_ARG when it reserved none (or its
 * coins were spent by a block since).
 */
int utxo_wallet_abandon(utxo_wallet *w, const uint8_t txid[UTXO_HASH_BYTES]);

/* A payment made by the wallet that no applied block has included yet. */
typedef struct utxo_wallet_payment {
    uint8_t txid[UTXO_HASH_BYTES];
    uint64_t value;      /* value of the wallet's coins it spends */
    uint32_t n_coins;    /* how many coins it reserves */
} utxo_wallet_payment;

/**
 * The pending payments (those holding reservations), in the order of
 * their first reserved coin's leaf position: as utxo_wallet_coins.
 */
int utxo_wallet_payments(utxo_wallet *w, utxo_wallet_payment *out, size_t n, size_t *total);

/**
 * The datum of the wallet's unspent coin op (as the output carried it):
 * into out (caller-owned, out_len bytes; the coin's datum_len, at most the
 * chain's max_datum_bytes, suffices), *written gets its length.
 * UTXO_ERR_TOO_LARGE when out_len is too small, UTXO_ERR_ARG when op is not
 * one of the wallet's unspent coins.
 */
int utxo_wallet_coin_datum(utxo_wallet *w, const utxo_outpoint *op, uint8_t *out, size_t out_len,
                           size_t *written);

/**
 * The unspent coins in leaf-position order: writes min(n, total) entries to
 * out (caller-owned; may be NULL with n 0) and the total count to *total.
 */
int utxo_wallet_coins(utxo_wallet *w, utxo_wallet_coin *out, size_t n, size_t *total);

/* One transaction that touched the wallet. */
typedef struct utxo_wallet_event {
    uint32_t height;
    uint8_t txid[UTXO_HASH_BYTES];
    uint64_t received;   /* outputs paying the wallet */
    uint64_t spent;      /* the wallet's coins it spent */
} utxo_wallet_event;

/** History in (height, block order): as utxo_wallet_coins. */
int utxo_wallet_history(utxo_wallet *w, utxo_wallet_event *out, size_t n, size_t *total);

/**
 * The accumulator proof of one coin against the wallet's current roots, in
 * the encoding of docs/ACCUMULATOR.md (one target: the coin's position):
 * into out (caller-owned, out_len bytes; 8 + 10 + 64 x 33 always suffices),
 * *written gets the length, *position (may be NULL) the leaf position.
 * UTXO_ERR_ARG when op is not one of the wallet's unspent coins.
 */
int utxo_wallet_coin_proof(utxo_wallet *w, const utxo_outpoint *op, uint8_t *out, size_t out_len,
                           size_t *written, uint64_t *position);

/**
 * Checks every coin's leaf data and the wallet's proof against its roots
 * (what a stateless validator would check when the coins are spent).
 * UTXO_OK, or the accumulator error.
 */
int utxo_wallet_verify(utxo_wallet *w);

/* ---- payments --------------------------------------------------------------- */

/* One output of a payment. */
typedef struct utxo_wallet_recipient {
    uint8_t predicate_id[UTXO_HASH_BYTES]; /* what it pays to (utxo_address_decode) */
    uint64_t value;
    const uint8_t *datum;                  /* may be NULL when datum_len is 0 */
    uint32_t datum_len;
} utxo_wallet_recipient;

/** utxo_wallet_send_many flag: do not reserve the coins (utxo_wallet_reserve
 * does, once the caller has stored or broadcast the transaction). */
#define UTXO_WALLET_SEND_NO_RESERVE 0x1u
/** Every flag utxo_wallet_send_many knows; others are UTXO_ERR_ARG. */
#define UTXO_WALLET_SEND_FLAGS 0x1u

/**
 * Builds, signs and checks one transaction paying each of the n recipients
 * (in that order; change, if any, comes last), as utxo_wallet_send. With
 * UTXO_WALLET_SEND_NO_RESERVE nothing is reserved: a caller that writes
 * the transaction somewhere first calls utxo_wallet_reserve only once that
 * succeeded, so a failed write leaves the coins free. (The change key, when
 * change is paid, is derived either way: an unused key is harmless.)
 * Errors: as utxo_wallet_send; UTXO_ERR_ARG for n 0, unknown flags or a
 * NULL datum with a length.
 */
int utxo_wallet_send_many(utxo_wallet *w, const utxo_wallet_recipient *to, size_t n,
                          uint32_t flags, utxo_tx **out, uint64_t *fee);

/**
 * Reserves the wallet's coins that tx spends for it (utxo_wallet_pending),
 * in one SQL transaction: all or none. Reserving the same payment again is
 * harmless. UTXO_ERR_ARG when an input is not an unspent coin of the
 * wallet; UTXO_ERR_WALLET_RESERVED when another payment holds one of them.
 */
int utxo_wallet_reserve(utxo_wallet *w, const utxo_tx *tx);

/**
 * Builds, signs and checks a payment of `amount` to predicate id `to`,
 * selecting from the wallet's coins (utxo/builder.h rules), with change to
 * a fresh key of the wallet, for inclusion at the next height. *out is the
 * signed transaction (utxo_tx_free); *fee (may be NULL) the fee paid. The
 * coins it spends stay in the wallet until the block spending them is
 * applied, reserved for this payment (utxo_wallet_pending,
 * utxo_wallet_abandon) so later payments choose other coins.
 * Errors: UTXO_ERR_WATCH_ONLY, UTXO_ERR_FUNDS, UTXO_ERR_DUST, and any
 * builder or validator error.
 */
int utxo_wallet_send(utxo_wallet *w, const uint8_t to[UTXO_HASH_BYTES], uint64_t amount,
                     utxo_tx **out, uint64_t *fee);

/*
 * Example: pay two recipients, store the transaction, then reserve.
 *
 *     utxo_wallet_recipient to[2] = {{.value = 250000}, {.value = 40000}};
 *     memcpy(to[0].predicate_id, id_a, UTXO_HASH_BYTES);
 *     memcpy(to[1].predicate_id, id_b, UTXO_HASH_BYTES);
 *     rc = utxo_wallet_send_many(w, to, 2, UTXO_WALLET_SEND_NO_RESERVE, &tx, &fee);
 *     if (rc == UTXO_OK && store(tx) == 0)
 *         rc = utxo_wallet_reserve(w, tx);
 *     utxo_tx_free(tx);
 */

#ifdef __cplusplus
}
#endif
#endif /* UTXO_WALLET_H */
