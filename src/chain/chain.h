/*
 * chain.h — the chain tools: a mempool that validates transactions against
 * the UTXO set and orders them into blocks (mp_), a sequencer that seals
 * those blocks with its key and appends them to a chain directory's block
 * and proof files and optionally a store (chain_seq_), the chain directory
 * itself (genesis, key file), the deterministic history generator behind
 * `utxo gen` and `utxo demo` (gen_), and the segment receipts of long
 * predicate runs carried in proof bundles (chain_receipts_). Layout, rules
 * and formats: docs/CHAIN.md.
 *
 * Ownership: every object here is made by its _new/_open and released by its
 * _free/_close (NULL is a no-op). Transactions passed in are borrowed for
 * the call (the mempool copies what it keeps). Not thread-safe: one object
 * per thread (each runs its own predicate threads).
 */
#ifndef UTXO_SRC_CHAIN_H
#define UTXO_SRC_CHAIN_H

#include <pthread.h>
#include "utxo/blockfile.h"
#include "utxo/store.h"
#include "chain/chainbuild.h"

/* ---- mempool ------------------------------------------------------------ */

/* Most transactions a mempool holds, and most bytes of them in blocks'
 * worth (the pool lives in memory and in its journal, and fees are paid
 * only once a block takes a transaction). Past either, a transaction gets
 * in only by evicting held ones of a lower fee rate (mp_submit),
 * else UTXO_ERR_MP_FULL. */
#define MP_MAX_TXS 20000u
#define MP_MAX_BLOCKS_HELD 16u
/* Most bytes the spent and referenced outputs of a block the mempool
 * chooses may need in its proof bundle (counted as a bound: mempool.c,
 * bundle_bytes), leaving a MiB of the proof record's UTXO_BUNDLE_MAX_BYTES
 * for the rest; segment receipts take what room is left (bp_prove_input).
 * No consensus rule bounds a block's spent datums, and a block whose
 * bundle a proof record cannot hold stops every stateless validator. */
#define MP_BUNDLE_ROOM ((uint64_t)UTXO_BUNDLE_MAX_BYTES - (UINT64_C(1) << 20))
/* What a spent or referenced output can take in a bundle besides its datum
 * (an entry of at most 55 bytes, and a batch proof's share for one target:
 * a gap and at most 64 sibling slots of 32 bytes and a flag bit). */
#define MP_BUNDLE_PER_OUTPUT (55u + 9u + 64u * 32u + 8u)

typedef struct mp_pool mp_pool;

/* A mempool for chain p (copied) whose confirmed outputs are found through
 * lookup(ctx, ...) (e.g. bp_chain_find), running predicates on `threads`
 * threads (0: one per CPU). */
int mp_new(mp_pool **out, const utxo_params *p, bp_lookup_fn lookup, void *ctx,
           unsigned threads) UTXO_WARN_UNUSED;
void mp_free(mp_pool *m);

/*
 * Validates tx for the block at `height` and keeps a copy when it passes:
 * the context-free rules; it is not already held (UTXO_ERR_MP_DUPLICATE);
 * it fits an otherwise empty block, its bundle's spent and referenced
 * outputs included (UTXO_ERR_MP_LIMIT; mp_set_bundle_room); every input spends
 * a confirmed output or an output of a held transaction (else
 * UTXO_ERR_TX_MISSING) that no held transaction spends (else
 * UTXO_ERR_MP_CONFLICT: first seen wins); room in the pool (MP_MAX_TXS,
 * MP_MAX_BLOCKS_HELD): when there is none, the held transactions of the
 * lowest fee rates that no held one spends (and tx does not spend) are
 * chosen for eviction until it fits, tx's rate less its own minimum fee's
 * at least each one's, else UTXO_ERR_MP_FULL; then the full contextual rules with every
 * predicate run (utxo_verifier_tx), and only once tx passes are the chosen
 * ones evicted (mp_evicted counts them). Returns the verdict's code; *v
 * (may be NULL) names the input at fault.
 */
int mp_submit(mp_pool *m, const utxo_tx *tx, uint32_t height, utxo_verdict *v);
/* The node's policy: a transaction whose input budgets sum past
 * max_tx_cycles (at most the consensus max_tx_cycles, which is the
 * default) is refused with UTXO_ERR_MP_POLICY before any predicate runs,
 * since a refused transaction pays nothing for the cycles it took. */
void mp_set_policy(mp_pool *m, uint64_t max_tx_cycles);
/* The most bytes a chosen block's spent and referenced outputs may need in
 * its bundle (at most, and by default, MP_BUNDLE_ROOM): a transaction that
 * needs more alone is refused (UTXO_ERR_MP_LIMIT), and mp_select leaves
 * out what would take a block past it. */
void mp_set_bundle_room(mp_pool *m, uint64_t bytes);
/*
 * mp_submit for txs[0..n) in order, each verdict in v[t] exactly as n calls
 * would give them, with the predicates of consecutive acceptances run
 * together on the pool's threads (a transaction may spend the outputs of
 * earlier ones in the batch). Returns the first rejection's code, or
 * UTXO_OK; *n_accepted (may be NULL) counts the acceptances.
 */
int mp_submit_batch(mp_pool *m, const utxo_tx *const *txs, size_t n, uint32_t height,
                    utxo_verdict *v, size_t *n_accepted);

size_t mp_count(const mp_pool *m);
/* The encoded bytes of the held transactions, in all. */
uint64_t mp_bytes(const mp_pool *m);
/* Held transactions evicted to make room for ones of higher fee rates
 * since mp_new (mp_submit). */
uint64_t mp_evicted(const mp_pool *m);
/* Drops the transaction held last (the one mp_submit just took, which no
 * held transaction can spend yet): for a caller that could not record it. */
void mp_drop_last(mp_pool *m);
/* The i-th held transaction in arrival order (borrowed, valid until the next
 * mp_ call that changes the pool), its txid into txid (may be NULL); NULL
 * when i >= mp_count. */
const utxo_tx *mp_tx(const mp_pool *m, size_t i, uint8_t txid[UTXO_HASH_BYTES]);

/*
 * Chooses the transactions of the next block: highest fee rate first (fee
 * per weight unit, weight = encoded bytes + ceil(budget / 1024); compared
 * exactly, no floating point), then earliest arrival; a transaction only
 * after every held transaction it spends; within the block limits of the
 * parameters, leaving room for a header and a coinbase of coinbase_bytes.
 * *txs (borrowed, valid until the next mp_ call) receives *n transactions
 * in block order and *fees their fees.
 */
int mp_select(mp_pool *m, size_t coinbase_bytes, const utxo_tx *const **txs, size_t *n,
              uint64_t *fees) UTXO_WARN_UNUSED;
/* Drops the transactions of the last mp_select (they are in a block now). */
void mp_remove_selected(mp_pool *m);
/*
 * mp_select for a block at `height`, every chosen transaction valid there:
 * a transaction's predicates may read the height, so one judged at an
 * earlier height (held while blocks went by) has them run again at this
 * one first; one that no longer passes is dropped with every held
 * transaction that spends it (*n_dropped, may be NULL, counts them), and
 * the choice is made again. Only the chosen are judged again, each at most
 * once per height it is chosen at, so a full pool waiting costs nothing
 * per block. UTXO_ERR_NOMEM, or UTXO_OK with *txs, *n, *fees as mp_select.
 */
int mp_select_valid(mp_pool *m, size_t coinbase_bytes, uint32_t height, const utxo_tx *const **txs,
                    size_t *n, uint64_t *fees, size_t *n_dropped) UTXO_WARN_UNUSED;

/* ---- chain directory and sequencer -------------------------------------- */

/* File names inside a chain directory. */
#define CHAIN_BLOCKS_FILE "blocks"
#define CHAIN_PROOFS_FILE "proofs"
#define CHAIN_KEY_FILE "sequencer.key"
#define CHAIN_INVALID_FILE "invalid.txs"

/*
 * Removes the chain files that chain_genesis and gen_run write in dir (the
 * key, block, proof and invalid.txs files), then dir itself when made_dir
 * (this run created it) and nothing else is left in it: what a failed or
 * interrupted run leaves. Errors are ignored (what is absent stays so).
 */
void chain_unmake(const char *dir, bool made_dir);

/* One genesis allocation: value to a predicate id. */
typedef struct chain_alloc {
    uint8_t id[UTXO_HASH_BYTES];
    uint64_t value;
} chain_alloc;

/*
 * Creates chain directory dir (created if missing; it must not hold a chain:
 * no block file, no key file): the
 * sequencer key file (mode 0600, the key seed in hex), and block and proof
 * files holding the genesis block, whose coinbase pays allocs[0..n) in
 * order (their sum at most UTXO_MAX_MONEY; n may be 0: then one output of
 * value 0 to the sequencer). p gives the limits, fee rates and genesis time;
 * its sequencer key is set from key_seed (32 bytes) and the chain id
 * recomputed; the result goes to *out_params (may be NULL). msg (msg_len
 * bytes) receives a message saying what failed and where. All or nothing:
 * on failure what it wrote is removed (chain_unmake), so a second attempt
 * (after freeing space, say) starts clean.
 */
int chain_genesis(const char *dir, const utxo_params *p, const uint8_t key_seed[32],
                  const chain_alloc *allocs, size_t n, utxo_params *out_params, char *msg,
                  size_t msg_len) UTXO_WARN_UNUSED;

/*
 * Appends block b to the block file bf and its bundle to the proof file pf
 * (record k of each is block k); *block_bytes and *bundle_bytes (may be
 * NULL) receive the record lengths. The one writer of chain records: test
 * chain writers (tests/mkchain.c, tests/wallet_mkchain.c) can use it too.
 */
int chain_append_block(utxo_chainfile *bf, utxo_chainfile *pf, const utxo_block *b,
                       const utxo_bundle *bd, size_t *block_bytes,
                       size_t *bundle_bytes) UTXO_WARN_UNUSED;

/* Reads the sequencer key seed of dir (checks that the file is 0600). */
int chain_read_key(const char *dir, uint8_t seed[32], char *msg, size_t msg_len) UTXO_WARN_UNUSED;

typedef struct chain_seq chain_seq;

/*
 * Opens the chain in dir as its sequencer: reads the key and replays the
 * block file into an in-memory chain (each block re-sealed must give the
 * stored block byte for byte: else UTXO_ERR_FILE_FORMAT and msg names the
 * record). New blocks go to new block and proof files that replace the old
 * ones at chain_seq_close(commit). With store != NULL (borrowed) every new
 * block is also applied to the store. threads: predicate threads. po2:
 * every bundle written (old blocks' and new ones') carries the segment
 * receipts of its long runs at 2^po2 cycles per segment (chain_receipts_add);
 * 0: none.
 */
int chain_seq_open(chain_seq **out, const char *dir, utxo_store *store, unsigned threads,
                   unsigned po2, char *msg, size_t msg_len) UTXO_WARN_UNUSED;
/*
 * The same for a long-running sequencer (utxo node): new blocks and bundles
 * are appended to the block and proof files in place, each record synced
 * before the block goes to the store (so a store that missed a block
 * replays it from the file). A crash mid-append leaves a torn last record:
 * it is cut off here (*cut, may be NULL, set to 1), and the proof file is
 * brought to exactly one bundle per block (bundles a crash lost are
 * rebuilt, at po2). chain_seq_close then only closes the files.
 */
int chain_seq_open_live(chain_seq **out, const char *dir, utxo_store *store, unsigned threads,
                        unsigned po2, uint32_t *cut, char *msg, size_t msg_len) UTXO_WARN_UNUSED;
/* Closes s; commit: the new files replace the old ones (else discarded). */
int chain_seq_close(chain_seq *s, bool commit);

const utxo_params *chain_seq_params(const chain_seq *s);
uint32_t chain_seq_next_height(const chain_seq *s);
mp_pool *chain_seq_mempool(chain_seq *s);
/* A store shared with other threads (utxo node): chain_seq_seal holds lock
 * (may be NULL: none) while it applies a block to the store, and only
 * then, so the store's readers never wait while a block is made. The
 * caller must not hold it across chain_seq_seal. */
void chain_seq_set_store_lock(chain_seq *s, pthread_mutex_t *lock);
bp_chain *chain_seq_chain(chain_seq *s);
/* The sequencer's own pay-to-pubkey id (where coinbases pay the fees). */
const uint8_t *chain_seq_fee_id(const chain_seq *s);

/* mp_submit for the next block. */
int chain_seq_submit(chain_seq *s, const utxo_tx *tx, utxo_verdict *v);
/* mp_submit_batch for the next block. */
int chain_seq_submit_batch(chain_seq *s, const utxo_tx *const *txs, size_t n, utxo_verdict *v,
                           size_t *n_accepted);

/* What sealing one block did. */
typedef struct chain_block_info {
    uint32_t height;
    uint32_t n_txs;         /* coinbase included */
    uint32_t n_inputs;
    uint64_t fees;
    size_t block_bytes, bundle_bytes;
    uint64_t n_runs, n_segments; /* segment receipt chains and receipts in the bundle */
    size_t n_dropped;       /* held transactions no longer valid at this height, dropped */
    uint8_t hash[UTXO_HASH_BYTES];
    uint8_t acc_digest[UTXO_HASH_BYTES];
} chain_block_info;

/*
 * Seals the next block from the mempool (mp_select; possibly just a
 * coinbase) at time t (raised to the tip's when earlier), coinbase paying
 * the fees to chain_seq_fee_id; signs it; appends it and its bundle to the
 * files and applies it to the store when there is one; drops its
 * transactions from the mempool. *info may be NULL. If anything fails after
 * the in-memory chain took the block (receipts, store, files), the
 * sequencer stops: later seals fail and chain_seq_close does not commit.
 */
int chain_seq_seal(chain_seq *s, uint64_t t, chain_block_info *info, char *msg,
                   size_t msg_len) UTXO_WARN_UNUSED;

/* ---- the mempool journal of a long-running sequencer ------------------------ */

typedef struct chain_journal chain_journal;

/* Receives each transaction of the journal (borrowed for the call), in
 * order; anything but UTXO_OK stops the open with that error. */
typedef int (*chain_journal_fn)(void *ud, const utxo_tx *tx);

/*
 * Opens the mempool journal at path for chain p (creating an empty one):
 * hands every whole record's transaction to fn, cuts the file at the
 * first record that does not read (an end torn by a crash: *cut = true,
 * may be NULL, and msg says how many bytes went, after how many records),
 * and keeps the file open for appending. *n_records (may be NULL): the
 * transactions read. UTXO_ERR_FILE_FORMAT for a file that is not a journal
 * or belongs to another chain, UTXO_ERR_FILE_CHECKSUM for a record that
 * passes its checksum and is no transaction (the file left as it is),
 * UTXO_ERR_IO (errno) when it cannot be read or written; msg says which.
 */
int chain_journal_open(chain_journal **out, const char *path, const utxo_params *p,
                       chain_journal_fn fn, void *ud, size_t *n_records, bool *cut, char *msg,
                       size_t msg_len) UTXO_WARN_UNUSED;
/* Appends tx and syncs it: on UTXO_OK it survives a crash. UTXO_ERR_IO
 * (errno) leaves the journal as it was, but for a failed sync. */
int chain_journal_add(chain_journal *j, const utxo_tx *tx) UTXO_WARN_UNUSED;
/* Appends tx without syncing (a group commit syncs many at once: fdatasync
 * of chain_journal_fd, or of a dup() of it taken under the caller's lock,
 * since chain_journal_rewrite replaces the descriptor). */
int chain_journal_write(chain_journal *j, const utxo_tx *tx) UTXO_WARN_UNUSED;
int chain_journal_fd(const chain_journal *j);
/* The journal record of tx (what chain_journal_write appends): a new
 * buffer of *len bytes (free it), NULL when out of memory. A group commit
 * may gather records and write them with one write() on the descriptor
 * (opened O_APPEND) before its fdatasync. */
uint8_t *chain_journal_record(const utxo_tx *tx, size_t *len);
/* Replaces the journal by the transactions m holds (atomically). */
int chain_journal_rewrite(chain_journal *j, const mp_pool *m) UTXO_WARN_UNUSED;
void chain_journal_close(chain_journal *j);

/* ---- segment receipts in bundles ----------------------------------------- */

/*
 * Adds to bundle (which belongs to block b, made by bp_prove_block or the
 * store, without receipts yet) the segment receipt chain of every input
 * whose run takes more than one segment of 2^po2 cycles: the same chains
 * bp_chain_set_segments(po2) makes, but only inputs whose budget exceeds
 * 2^po2 are proven (no other can need two segments). The spent outputs come
 * from the bundle and the block. *n_runs and *n_segments (may be NULL)
 * receive the chains and receipts added.
 */
int chain_receipts_add(utxo_bundle *bundle, const utxo_block *b, const utxo_params *p,
                       unsigned po2, uint64_t *n_runs, uint64_t *n_segments) UTXO_WARN_UNUSED;

/* ---- the history generator ------------------------------------------------ */

typedef struct gen_opts {
    uint64_t seed;
    uint32_t blocks;        /* including genesis (>= 1) */
    uint32_t tx_per_block;  /* transactions submitted per block (>= 1) */
    uint32_t n_wallets;     /* pay-to-pubkey wallets (>= 4) */
    uint32_t long_every;    /* a long run every this many blocks (0: none) */
    uint32_t long_rounds;   /* hash rounds of a long run (work predicate) */
    unsigned po2;           /* segments of 2^po2 cycles for the long runs' receipts */
    unsigned threads;
    bool full_images;       /* spend standard predicates with whole images (form 1), not
                               by template (form 2, the default) */
    bool keep_partial;      /* a failed or stopped run leaves what it wrote (demo --keep) */
} gen_opts;

/* Smallest segment size the generator accepts: a segment must hold the
 * costliest host call of a standard predicate (RSA, Ed25519). */
#define GEN_PO2_MIN 16u

/* Defaults: seed 1, 300 blocks, 30 transactions, 64 wallets, a long run of
 * 400 rounds every 8 blocks, segments of 2^18 cycles. */
void gen_opts_default(gen_opts *o);

typedef struct gen_stats {
    uint32_t blocks;
    uint64_t txs, inputs, outputs;
    uint64_t by_kind[8];      /* inputs spent per kind (see gen_kind_name) */
    uint64_t same_block;      /* inputs spending an output of the same block */
    uint64_t old_spends;      /* inputs spending an output >= 50 blocks old */
    uint64_t long_runs;
    uint64_t ref_spends;      /* inputs spent by reference to the code output (form 3) */
    uint64_t segments;        /* segment receipts in the proof file */
    uint64_t invalid;         /* invalid transactions written */
    uint8_t tip[UTXO_HASH_BYTES];
    uint8_t acc_digest[UTXO_HASH_BYTES];
} gen_stats;

/* Input kinds counted in gen_stats.by_kind. */
const char *gen_kind_name(unsigned k);
#define GEN_KINDS 8u

/* Progress callback: called after each block; return 0 to go on. */
typedef int (*gen_progress_fn)(void *ud, uint32_t height, uint32_t blocks);

/*
 * Writes a history into the new chain directory dir: genesis, blocks and
 * proofs, the key, and invalid.txs (docs/CHAIN.md). Deterministic in opts
 * (threads aside). msg receives what failed. All or nothing unless
 * o->keep_partial: a failure, or fn returning non-zero (an interrupted
 * run), removes the chain files again and dir when this run made it
 * (chain_unmake).
 */
int gen_run(const char *dir, const gen_opts *o, gen_stats *st, gen_progress_fn fn, void *ud,
            char *msg, size_t msg_len) UTXO_WARN_UNUSED;

/* The long-run predicate (tests/segments/work.img), embedded. */
const uint8_t *gen_work_image(size_t *len);

#endif /* UTXO_SRC_CHAIN_H */
