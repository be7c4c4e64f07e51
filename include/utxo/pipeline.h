/*
 * utxo/pipeline.h — the long-running jobs over whole files, as library
 * calls: verify a block file with its proof file from a validator state,
 * apply the same files to a wallet, prove a range of a store into a proof
 * file; and the validator state file they resume from. The `utxo` command
 * (verify, wallet sync, prove, demo) only parses options, calls these and
 * reports; a node or a range verifier calls the same functions.
 *
 * Common shape: a range of heights [from, to), a start state that the call
 * advances in place (its end state is the object after the call), an
 * options struct (zeroed = defaults) with a progress callback, and a result
 * struct (counts, verdict, reason, failing record and height). The return
 * value is res->err.
 *
 * The record rule (every command that reads block files): record k of a
 * block file must hold the block at the height its place calls for, and
 * every record is checked; nothing is skipped silently.
 *   - Records before the start state's next height N (a file that begins
 *     earlier, e.g. when a run resumes from its state file) must be the
 *     blocks that state accepted: their heights consecutive, each linked to
 *     the one before by its previous hash, and the one at N-1 identical
 *     (same block hash) to the state's tip. Because a block hash commits to
 *     the previous one, this proves every one of them is the accepted block
 *     at its height, holding only the tip's hash. The hash does not cover
 *     the signature, and covers the transactions only through the tx root,
 *     so both are checked too (an edited copy is refused). They are passed
 *     over (counted in res->passed, announced through the callback) and
 *     their proof records must name them. A file that ends before reaching N-1
 *     cannot be checked this way and is an error.
 *   - After that, each record must be at the next height; a record repeating
 *     the tip block byte for byte (same hash, valid signature, transactions
 *     matching the tx root) is passed over and announced;
 *     any other height (junk, an older block, a different block at an
 *     accepted height: equivocation) is UTXO_ERR_FILE_RECORD naming the
 *     record, its offset and its height.
 *
 * Ownership: paths, validators, wallets and stores are borrowed for the
 * call. Thread-safety: one call per validator/wallet/store at a time.
 */
#ifndef UTXO_PIPELINE_H
#define UTXO_PIPELINE_H

#include <stdbool.h>
#include "utxo/blockfile.h"
#include "utxo/stateless.h"
#include "utxo/store.h"
#include "utxo/wallet.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the validator state file ------------------------------------------ */

/** State file format version (docs/STATELESS.md, "Validator state file"). */
#define UTXO_STATEFILE_VERSION 1u
/** Largest state file: magic 4, version 4, length 4, state, checksum 32. */
#define UTXO_STATEFILE_MAX_BYTES (12u + UTXO_VALIDATOR_STATE_MAX_BYTES + 32u)

/**
 * Writes v's state to path atomically: a temporary file in the same
 * directory, fsync, rename over path, fsync of the directory. The file is
 * magic "uxvf", version, length, the state (utxo_validator_state_to_bytes)
 * and a BLAKE2b-256 checksum of everything before it. UTXO_OK, or
 * UTXO_ERR_IO with errno from the failing step (EACCES, EROFS, ENOSPC...):
 * then path keeps its previous content.
 */
UTXO_WARN_UNUSED int utxo_validator_save(const utxo_validator *v, const char *path);

/**
 * Reads a state file written by utxo_validator_save into a new validator
 * for chain p (*out, free with utxo_validator_free), running predicates on
 * `threads` threads. Never accepts a damaged file: UTXO_ERR_IO (errno;
 * ENOENT when there is none), UTXO_ERR_FILE_FORMAT (not a state file),
 * UTXO_ERR_VERSION, UTXO_ERR_TRUNCATED, UTXO_ERR_TRAILING,
 * UTXO_ERR_TOO_LARGE (checked before reading), UTXO_ERR_FILE_CHECKSUM, or
 * the state's own decoding errors (UTXO_ERR_FILE_CHAIN for another chain).
 * why (may be NULL, why_len bytes) receives one line saying what is wrong
 * and at which offset. *out is NULL on error.
 */
UTXO_WARN_UNUSED int utxo_validator_load(utxo_validator **out, const utxo_params *p,
                                         const char *path, unsigned threads, char *why,
                                         size_t why_len);

/* ---- progress and results ---------------------------------------------- */

enum utxo_pipe_event {
    UTXO_PIPE_APPLIED = 1, /* a block was validated and applied (or proven) */
    UTXO_PIPE_PASSED = 2,  /* a record was the accepted block: passed over */
    UTXO_PIPE_SAVED = 3    /* the state file was written */
};

/** What the progress callback sees after each record (borrowed, valid
 * only during the callback). */
typedef struct utxo_pipe_progress {
    int event;                  /* enum utxo_pipe_event */
    uint32_t height;            /* the block's height */
    uint64_t record;            /* its record number in the file(s), from 0 */
    uint64_t offset;            /* its block record's file offset */
    uint64_t applied, passed;   /* totals so far */
    uint64_t bytes_done;        /* file position (block file, or store heights) */
    uint64_t bytes_total;       /* file size (0 when unknown) */
    const utxo_block *block;    /* the block (NULL for UTXO_PIPE_SAVED) */
    const utxo_bundle *bundle;  /* its bundle (NULL for SAVED and for wallet --db) */
    const utxo_verdict *verdict; /* fees and cycles of an applied block, else NULL */
} utxo_pipe_progress;

/**
 * Called after every record and after every save. Returning nonzero stops
 * the pipeline cleanly after that record (state saved when there is a
 * state file; res->stopped set; return value UTXO_OK): a CLI polls its
 * SIGINT flag here, so no work happens in the signal handler.
 */
typedef int (*utxo_pipe_fn)(void *ctx, const utxo_pipe_progress *p);

/** Which file a result's record and offset refer to. */
enum utxo_pipe_file {
    UTXO_PIPE_NONE = 0,
    UTXO_PIPE_BLOCKS = 1,
    UTXO_PIPE_PROOFS = 2,
    UTXO_PIPE_STATE = 3,
    UTXO_PIPE_STORE = 4,
    UTXO_PIPE_OUTPUT = 5
};

/** The outcome of a pipeline call. */
typedef struct utxo_pipe_result {
    int err;              /* UTXO_OK, or what failed (the return value) */
    bool invalid;         /* err is a verdict on the data (exit 1), else usage/I/O (exit 2) */
    bool stopped;         /* stopped by the callback, or at the range's end (to, max_blocks:
                             the record after its last block is not read) */
    int sys_errno;        /* errno of an UTXO_ERR_IO, else 0 */
    int file;             /* enum utxo_pipe_file: where it failed */
    uint64_t record;      /* failing record (its number) */
    uint64_t offset;      /* failing record's file offset */
    uint32_t height;      /* failing block's height (as its header says, if it decoded) */
    utxo_verdict verdict; /* an invalid block's verdict (tx, input) */
    uint64_t applied;     /* blocks validated and applied (or proven) */
    uint64_t passed;      /* records passed over as already accepted */
    uint64_t saves;       /* state file writes */
    uint64_t bytes;       /* prove: bundle bytes written */
    uint64_t runs, segments; /* prove: receipt chains and receipts added */
    char reason[320];     /* one line: what is wrong (empty when err is UTXO_OK) */
} utxo_pipe_result;

/* ---- verify a block file with its proof file --------------------------- */

/** Options of utxo_verify_files (zeroed: the whole files, no state file). */
typedef struct utxo_verify_opts {
    uint32_t to;             /* stop before this height (0: at the files' end) */
    uint64_t max_blocks;     /* stop after applying this many blocks (0: no limit) */
    const char *state_path;  /* save the state here (NULL: never) */
    uint32_t save_every;     /* blocks between saves (0: UTXO_VERIFY_SAVE_EVERY) */
    utxo_pipe_fn progress;   /* may be NULL */
    void *ctx;               /* passed to progress */
} utxo_verify_opts;

/** Default number of blocks between two saves of the state file. */
#define UTXO_VERIFY_SAVE_EVERY 100u

/**
 * Validates the blocks of the block file `blocks` with the bundles of the
 * proof file `proofs` (record k of each: the same block), starting from
 * v's state (its next height) and advancing v block by block: the range is
 * [v's next height, o->to). Files of another chain than v's are refused.
 * The record rule above applies to every record. With o->state_path, v's
 * state is saved every o->save_every applied blocks, when the callback
 * stops the run, and at the end (also after an invalid block: the state
 * after the last valid one), each save atomic (utxo_validator_save).
 * Returns res->err: UTXO_OK (all valid, or stopped), a validation code
 * with res->invalid (an invalid block, a record that does not decode, a
 * record at the wrong place), or an I/O / format code.
 * On return v holds the state after the last valid block.
 */
int utxo_verify_files(utxo_validator *v, const char *blocks, const char *proofs,
                      const utxo_verify_opts *o, utxo_pipe_result *res);

/* ---- apply a block file with its proofs to a wallet -------------------- */

/** Options of utxo_wallet_sync_files, utxo_wallet_sync_store and
 * utxo_replay_file. */
typedef struct utxo_sync_opts {
    uint32_t to;            /* stop before this height (0: the end) */
    utxo_pipe_fn progress;  /* may be NULL */
    void *ctx;
    /* Optional: the block file already open (utxo_chainfile_open on the
     * same path, e.g. a pipe that cannot be opened twice), read from where
     * it stands instead of opening the path; still owned (closed) by the
     * caller. Only utxo_replay_file reads it. */
    utxo_chainfile *blocks_file;
} utxo_sync_opts;

/**
 * Applies the blocks of `blocks` with the bundles of `proofs` to wallet w
 * (utxo_wallet_apply_block, each block in its own SQL transaction), from
 * the wallet's next height, under the record rule above. Returns res->err
 * as utxo_verify_files; the wallet keeps every block applied before an
 * error.
 */
int utxo_wallet_sync_files(utxo_wallet *w, const char *blocks, const char *proofs,
                           const utxo_sync_opts *o, utxo_pipe_result *res);

/**
 * The same from a full node's store s (open, read-only is enough): blocks
 * and bundles at the wallet's next height and above, up to the store's tip.
 */
int utxo_wallet_sync_store(utxo_wallet *w, utxo_store *s, const utxo_sync_opts *o,
                           utxo_pipe_result *res);

/* ---- replay a block file into a store ----------------------------------- */

/**
 * Applies the blocks of `blocks` to the full node's store s (open for
 * writing), each validated in full and applied all or nothing
 * (utxo_store_apply_block), from the store's next height, under
 * the record rule above (the records below the store's tip must link to
 * it). o->to: stop before that height. Returns res->err as
 * utxo_verify_files; the store keeps every block applied before an error.
 * The store's pipeline (utxo_store_set_pipeline) is on for the run: blocks
 * commit in groups, each COMMIT beside the next block's predicates; on
 * return it is off and res->applied counts the blocks committed (a group
 * whose COMMIT failed is not counted: res->reason names it).
 */
int utxo_replay_file(utxo_store *s, const char *blocks, const utxo_sync_opts *o,
                     utxo_pipe_result *res);

/* ---- prove a stored range into a proof file ---------------------------- */

/** Options of utxo_prove_range. */
typedef struct utxo_prove_opts {
    const char *blocks_path; /* also write the blocks as a block file (NULL: no) */
    unsigned seg_po2;        /* add segment receipts of runs over 2^po2 cycles (0: none) */
    utxo_pipe_fn progress;   /* may be NULL */
    void *ctx;
} utxo_prove_opts;

/**
 * Writes the proof bundles the store s made for the blocks [from, to) to
 * the proof file proofs_path (record k: block from + k), and with
 * o->blocks_path those blocks as a block file. Every output file is
 * replaced atomically: on any error, or when the callback stops the run,
 * nothing is written and the previous files stay. UTXO_ERR_STORE_HEIGHT
 * when the range is empty or outside the store.
 */
int utxo_prove_range(utxo_store *s, uint32_t from, uint32_t to, const char *proofs_path,
                     const utxo_prove_opts *o, utxo_pipe_result *res);

#ifdef __cplusplus
}
#endif
#endif /* UTXO_PIPELINE_H */
