/*
 * pipeline/pipe_int.h — internals of the file pipelines (utxo/pipeline.h):
 * one loop over a block file and its proof file that enforces the record
 * rule, fed to a target through a small interface (the stateless validator
 * of `verify`, a wallet). Not installed.
 */
#ifndef UTXO_SRC_PIPE_INT_H
#define UTXO_SRC_PIPE_INT_H

#include "utxo/pipeline.h"

/* Where the blocks of a file go. Every function gets obj. */
typedef struct pipe_target {
    void *obj;
    uint8_t chain_id[UTXO_HASH_BYTES];
    /* the next height expected and the tip's hash (zeros before genesis) */
    uint32_t (*next_height)(void *obj);
    void (*tip_hash)(void *obj, uint8_t out[UTXO_HASH_BYTES]);
    /* validates and applies one block; returns UTXO_OK or the code with
     * *invalid telling a verdict on the block (else I/O, memory, database);
     * why (may stay empty) gets a detail line. next and next_bd (both NULL
     * unless the target sets wants_next): the record pair read ahead, the
     * block most likely applied next, alive until the following apply
     * returns (utxo_validator_apply_ahead) */
    int (*apply)(void *obj, const utxo_block *b, const utxo_bundle *bd,
                 const utxo_block *next, const utxo_bundle *next_bd, utxo_verdict *vd,
                 bool *invalid, char *why, size_t why_len);
    /* the loop reads one record pair ahead (regular files with proofs
     * only: a pipe is never waited on before the block in hand is in) and
     * hands the next block and bundle to apply */
    bool wants_next;
    /* saves the state (may be NULL: nothing to save); UTXO_ERR_IO with errno */
    int (*save)(void *obj);
    /* may be NULL: called before each block record is read from an input
     * that is not a regular file (a pipe may wait for its writer for as
     * long as it likes): the store commits the block its pipeline holds
     * open, so a replay at rest has committed all it applied */
    int (*idle)(void *obj, char *why, size_t why_len);
} pipe_target;

/* Loop options: the public ones, normalised. */
typedef struct pipe_opts {
    uint32_t to;          /* 0: no end */
    uint64_t max_blocks;  /* 0: no limit */
    uint32_t save_every;  /* only with target->save */
    utxo_pipe_fn progress;
    void *ctx;
    utxo_chainfile *blocks_file; /* already open on blocks (caller's), or NULL */
} pipe_opts;

/* Runs blocks/proofs into t under the record rule; fills res (zeroed here).
 * proofs NULL: blocks only, the target's apply gets a NULL bundle. */
int pipe_files_run(const pipe_target *t, const char *blocks, const char *proofs,
                   const pipe_opts *o, utxo_pipe_result *res);

/* Sets res->err, res->reason (printf-style) and returns err. */
int pipe_fail(utxo_pipe_result *res, int err, bool invalid, int file, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif /* UTXO_SRC_PIPE_INT_H */
