/*
 * wallet_int.h — internals of the wallet (utxo/wallet.h) shared by its
 * files: wallet/db.c (the file: schema, passphrase, keys), wallet/query.c
 * (balance, coins, history), wallet/sync.c (blocks in, proofs across
 * blocks, per-coin proofs), wallet/undo.c (rollback) and wallet/send.c
 * (payments). Prefix wdb_. Schema: docs/WALLET.md.
 */
#ifndef UTXO_SRC_WALLET_INT_H
#define UTXO_SRC_WALLET_INT_H

#include <sqlite3.h>
#include "utxo/wallet.h"
#include "witness/acc.h"
#include "utxo/codec.h"

/* Blocks the wallet can undo (utxo_wallet_rollback): undo records older
 * than this many blocks below the tip are pruned. */
#define WDB_UNDO_DEPTH 100u

/* A watched id: the p2pk id of key `index`. Kept sorted by id. */
typedef struct wdb_id {
    uint8_t id[UTXO_HASH_BYTES];
    uint32_t index;
} wdb_id;

struct utxo_wallet {
    sqlite3 *db;
    utxo_params params;
    uint8_t *master;          /* sodium_malloc'd master seed; NULL: watch-only */
    uint32_t n_keys;
    wdb_id *ids;              /* n_keys entries, sorted by id */
    utxo_validator *val;      /* the stateless validator at the wallet's tip */
    acc_proof proof;          /* batch proof of the unspent coins (sorted positions) */
    acc_hash *leaves;         /* their leaf hashes, proof.n_targets entries */
    /* a rescan (utxo_wallet_rescan_begin): gap 0 when none runs */
    uint32_t gap;             /* keys kept derived above the last paid one */
    uint32_t gap_base;        /* keys the wallet had when the rescan began */
    uint32_t gap_paid;        /* 1 + the highest key index seen paid */
    char msg[256];
};

/* The start of every call on a non-const handle: clears the message the
 * call before left (utxo_wallet_errmsg: "" unless this call fails with one).
 * False for a NULL w, so it heads the argument checks:
 * if (!wdb_enter(w) || ...) return UTXO_ERR_ARG. */
static inline bool wdb_enter(utxo_wallet *w)
{
    if (w == NULL)
        return false;
    w->msg[0] = '\0';
    return true;
}

/* Records a message (printf-style) in w->msg and returns err. */
int wdb_fail(utxo_wallet *w, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* An SQLite failure: message with SQLite's text, UTXO_ERR_WALLET_DB. */
int wdb_sqlfail(utxo_wallet *w, const char *what);

/* The key index watching id, or -1. */
int64_t wdb_find_id(const utxo_wallet *w, const uint8_t id[UTXO_HASH_BYTES]);

/* Reads / writes a meta row (name -> blob). wdb_meta_get returns a new
 * buffer (*val, free()); UTXO_ERR_WALLET_FORMAT when the row is missing. */
int wdb_meta_get(utxo_wallet *w, const char *name, uint8_t **val, size_t *len);
int wdb_meta_put(utxo_wallet *w, const char *name, const uint8_t *val, size_t len);

/* The pre-block accumulator of the wallet's validator, as an acc_state. */
void wdb_acc_state(const utxo_wallet *w, acc_state *st);

/* Encodes w->proof and stores it with the validator state (inside the
 * caller's SQL transaction). */
int wdb_store_chain_state(utxo_wallet *w, const acc_proof *proof);

/* Derives key index's secret key (caller wipes sk). Needs the master. */
int wdb_key_secret(const utxo_wallet *w, uint32_t index, uint8_t pk[UTXO_PUBKEY_BYTES],
                   uint8_t sk[UTXO_SECRETKEY_BYTES]);

/* UTXO_OK when the file's chain state is the one this handle holds (call
 * inside a write transaction); UTXO_ERR_WALLET_CHAIN when another handle
 * moved it. */
int wdb_check_fresh(utxo_wallet *w);

/* The chain side of the file: the validator from `state`, the proof from
 * `proof` and the coins' leaf hashes, all owned by the holder. */
typedef struct wdb_chain {
    utxo_validator *val;
    acc_proof proof;
    acc_hash *leaves; /* proof.n_targets entries */
} wdb_chain;

/* Reads the chain side as the file holds it now (inside the caller's SQL
 * transaction, if one is open, its uncommitted writes included) into *c:
 * the state must decode, the proof must decode against the state's leaf
 * count and prove exactly the coins' positions, and with `verify` it must
 * also verify against the state's roots with the coins' leaf hashes. On
 * failure *c holds nothing, w->msg says what, UTXO_ERR_WALLET_FORMAT (or a
 * database / memory error). The caller releases *c with wdb_chain_clear or
 * hands it to wdb_chain_install. */
int wdb_chain_read(utxo_wallet *w, wdb_chain *c, bool verify);
void wdb_chain_clear(wdb_chain *c);
/* Replaces the handle's validator, proof and leaves with c's (the old ones
 * are freed; c is left empty). */
void wdb_chain_install(utxo_wallet *w, wdb_chain *c);
/* Reloads the validator, the coins and the proof from the file; on failure
 * the handle keeps what it had. */
int wdb_reload(utxo_wallet *w);

/* The columns a coin row is selected with for an undo record, in order. */
#define WDB_COIN_COLUMNS "position, txid, vout, value, predicate_id, height, key_idx, leaf, datum"
/* Appends the coin row st holds (WDB_COIN_COLUMNS) to the growing buffer
 * *buf of *len bytes (realloc'd). */
int wdb_undo_append_coin(uint8_t **buf, size_t *len, sqlite3_stmt *st);
/* Stores the undo record of block `height` (the validator state and proof
 * before it, the coin rows it removed) and prunes the records more than
 * WDB_UNDO_DEPTH blocks old; inside the caller's SQL transaction. */
int wdb_undo_put(utxo_wallet *w, uint32_t height, const uint8_t *state, size_t state_len,
                 const acc_proof *pre, const uint8_t *spent, size_t spent_len);

/* During a rescan (w->gap > 0): derives keys until every output of b that
 * pays one of the wallet's keys has w->gap derived keys above it, so that
 * the block is applied watching them all, and raises w->gap_paid. No-op
 * otherwise. Writes the keys inside the caller's SQL transaction (the
 * block's): a caller that rolls it back also puts back w->gap_paid and
 * drops the new keys from memory with wdb_keys_truncate. */
int wdb_gap_extend(utxo_wallet *w, const utxo_block *b);
/* Forgets the keys of index n and above in memory (after a ROLLBACK that
 * removed them from the file). Cannot fail. */
void wdb_keys_truncate(utxo_wallet *w, uint32_t n);

/* Runs sql (no result rows) with BEGIN/COMMIT/ROLLBACK. */
int wdb_exec(utxo_wallet *w, const char *sql);

#endif /* UTXO_SRC_WALLET_INT_H */
