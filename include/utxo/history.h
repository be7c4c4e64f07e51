/*
 * utxo/history.h — a long history verified in block ranges (docs/RANGES.md).
 *
 * A range [A, B) is verified by the stateless validator from a claimed start
 * state (a validator state file whose next height is A) and summed up in a
 * small result file that commits to where the range began, where it ended
 * (the end state in full), on which chain, how much it checked and what it
 * found. Results of consecutive ranges are linked up by comparing the end
 * state of one with the start state of the next; see docs/RANGES.md for why
 * that gives the sequential verdict.
 *
 * Everything in a result is deterministic: the same inputs give the same
 * bytes on every machine (no time, host or path in it), so a range run
 * twice can be compared with cmp.
 */
#ifndef UTXO_HISTORY_H
#define UTXO_HISTORY_H

#include <stddef.h>
#include <stdint.h>
#include "utxo/common.h"
#include "utxo/pipeline.h"
#include "utxo/stateless.h"
#include "utxo/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Longest reason line a result carries (bytes, printable ASCII). */
#define UTXO_RANGE_REASON_MAX 320u
/** Bytes of a result file: 254 + state + reason (docs/RANGES.md). */
#define UTXO_RANGE_RESULT_MIN_BYTES (254u + 81u)
#define UTXO_RANGE_RESULT_MAX_BYTES \
    (254u + UTXO_VALIDATOR_STATE_MAX_BYTES + UTXO_RANGE_REASON_MAX)

/** One range's result (docs/RANGES.md, "The range result file"). */
typedef struct utxo_range_result {
    uint8_t chain_id[UTXO_HASH_BYTES];
    uint32_t from, to;                            /* heights [from, to) */
    uint8_t start_digest[UTXO_HASH_BYTES];        /* of the claimed start state's bytes */
    uint8_t prev_hash[UTXO_HASH_BYTES];           /* the start state's tip hash */
    uint8_t last_hash[UTXO_HASH_BYTES];           /* the end state's tip hash */
    uint8_t end_digest[UTXO_HASH_BYTES];          /* of end_state */
    uint64_t blocks, txs, inputs, cycles;         /* what was applied */
    uint32_t verdict;                             /* 0 valid, else a UTXO_ERR_* code */
    uint32_t fail_height;                         /* the failing height (0 when valid) */
    uint32_t state_len;                           /* bytes of end_state */
    uint8_t end_state[UTXO_VALIDATOR_STATE_MAX_BYTES]; /* validator state bytes */
    uint16_t reason_len;
    char reason[UTXO_RANGE_REASON_MAX + 1];       /* NUL-terminated too */
} utxo_range_result;

/**
 * The digest a result uses for a validator state: BLAKE2b-256,
 * personalisation "utxo.vstate", of the state's bytes
 * (utxo_validator_state_to_bytes).
 */
void utxo_range_state_digest(const uint8_t *state, size_t len, uint8_t out[UTXO_HASH_BYTES]);

/**
 * Verifies the blocks [from, to) of the block file `blocks` with the proof
 * file `proofs`, starting from the validator state file `start_state`, and
 * fills *out (caller-owned). The files must be of one chain and the state of
 * that chain; threads run predicates (0: one per CPU).
 *
 * UTXO_OK when a verdict was reached, valid or not: out->verdict is 0 when
 * every block was valid, else the first invalid block's code (and
 * fail_height, reason), UTXO_ERR_FILE_RECORD for a record out of place,
 * UTXO_ERR_TRUNCATED when the files end before `to`, UTXO_ERR_STATE when the
 * state's next height is not `from`. Another return value (UTXO_ERR_IO with
 * errno, UTXO_ERR_FILE_FORMAT, UTXO_ERR_FILE_CHAIN, UTXO_ERR_ARG for
 * from >= to, ...) is no verdict: res->reason says what failed and *out is
 * not to be written.
 */
UTXO_WARN_UNUSED int utxo_range_verify(const char *start_state, uint32_t from, uint32_t to,
                                       const char *blocks, const char *proofs, unsigned threads,
                                       utxo_range_result *out, utxo_pipe_result *res);

/** Bytes of r's encoding (254 + state_len + reason_len); 0 for a NULL r. */
size_t utxo_range_result_get_length(const utxo_range_result *r);

/** Encodes r into out (out_len bytes, caller-owned); UTXO_ERR_ARG when
 * out is short or a length is out of range. *written may be NULL. */
int utxo_range_result_to_bytes(const utxo_range_result *r, uint8_t *out, size_t out_len,
                               size_t *written);

/**
 * Decodes a result strictly: magic, version, lengths, no trailing byte,
 * the checksum, the end state decoded for the chain of p (when p is not
 * NULL), and its digest, tip hash and next height (to, when valid)
 * recomputed and compared with the header. err_offset (may be NULL) gets
 * the offset of the first bad byte.
 */
UTXO_WARN_UNUSED int utxo_range_result_from_bytes(utxo_range_result *r, const utxo_params *p,
                                                  const uint8_t *in, size_t len,
                                                  size_t *err_offset);

/** Writes r to path atomically (temporary file, fsync, rename, directory
 * fsync); UTXO_ERR_IO with errno on failure, the old file unchanged. */
int utxo_range_result_write(const utxo_range_result *r, const char *path);

/** Reads and decodes a result file; why (may be NULL) gets one line saying
 * what is wrong and where. Anything but a regular file (a FIFO, a device, a
 * directory) is refused before a byte is read, UTXO_ERR_FILE_FORMAT ("not a
 * regular file"), and the opening does not wait for a FIFO's writer; the
 * size is checked before reading (UTXO_ERR_TOO_LARGE). */
UTXO_WARN_UNUSED int utxo_range_result_read(utxo_range_result *r, const utxo_params *p,
                                            const char *path, char *why, size_t why_len);

/* ---- plans: a stored chain cut into ranges, and link-up ----------------- */

/** One range of a plan: heights [from, to) and their work. */
typedef struct utxo_history_range {
    uint32_t from, to;
    uint64_t work;
} utxo_history_range;

/** A plan (the manifest's content). Free ranges with utxo_history_plan_free. */
typedef struct utxo_history_plan {
    uint32_t k;                          /* ranges */
    uint32_t tip;                        /* last height */
    uint8_t tip_hash[UTXO_HASH_BYTES];   /* hash of block tip */
    utxo_history_range *ranges;          /* k of them, in order (owned) */
} utxo_history_plan;

/** The file name of range i's file of kind ext ("blocks", "proofs",
 * "state", "result"): "range-NNN.ext" into out (len bytes; "" for a NULL
 * ext, nothing for a NULL out or len 0). */
void utxo_range_file_name(char *out, size_t len, uint32_t i, const char *ext);

/**
 * Cuts the chain held by store s into k ranges of about equal work
 * (docs/RANGES.md) and writes the plan directory dir (created if missing):
 * each range's block file, proof file and claimed start state (from an
 * accumulator-only walk of the stored blocks and bundles), and the
 * manifest, last. Every file is written atomically. *pl gets the plan
 * (free with utxo_history_plan_free); why (may be NULL) what failed.
 * UTXO_ERR_ARG for a NULL s, dir or pl, or k outside 1 .. blocks held.
 */
UTXO_WARN_UNUSED int utxo_history_plan_make(utxo_store *s, uint32_t k, const char *dir,
                                            utxo_history_plan *pl, char *why, size_t why_len);

/** Reads dir/manifest strictly (docs/RANGES.md, "Manifest"): *pl and the
 * chain's parameters *p. UTXO_ERR_FILE_FORMAT (also for anything but a
 * regular file, refused unread and never waited on), UTXO_ERR_FILE_CHECKSUM,
 * UTXO_ERR_TOO_LARGE, UTXO_ERR_IO (errno) with why (may be NULL) saying
 * which line; UTXO_ERR_ARG for a NULL pl, p or dir. */
UTXO_WARN_UNUSED int utxo_history_manifest_read(utxo_history_plan *pl, utxo_params *p,
                                                const char *dir, char *why, size_t why_len);

/** Frees a plan's ranges (NULL or freed: no-op). */
void utxo_history_plan_free(utxo_history_plan *pl);

/** What link-up found. */
typedef struct utxo_history_linkup_result {
    uint32_t ranges;                      /* in the plan */
    uint32_t failed_range;                /* the first range at fault (when rc != UTXO_OK) */
    bool manifest_bad;                    /* the manifest could not be read: no verdict */
    bool no_result;                       /* failed_range's result is missing or could not
                                           * be read (UTXO_ERR_IO, errno): no verdict */
    bool invalid;                         /* a range's verdict is an invalid block */
    uint32_t tip;                         /* the tip reached (when linked) */
    uint8_t tip_hash[UTXO_HASH_BYTES];
    uint8_t end_digest[UTXO_HASH_BYTES];  /* of the end state */
    uint64_t blocks, txs, inputs, cycles; /* summed over the ranges */
} utxo_history_linkup_result;

/**
 * Checks every range result of the plan in dir against the manifest and
 * each other (docs/RANGES.md, "Link-up"): UTXO_OK only when they chain from
 * the genesis state to the manifest's tip; else the first range at fault
 * (out->failed_range) and why (one line, cut to why_len bytes with its
 * NUL). why may be NULL, and why_len 0: then nothing is written or read
 * there, and the code and *out are the whole answer. UTXO_ERR_ARG for a
 * NULL dir or out.
 */
UTXO_WARN_UNUSED int utxo_history_linkup(const char *dir, utxo_history_linkup_result *out,
                                         char *why, size_t why_len);

#ifdef __cplusplus
}
#endif

#endif /* UTXO_HISTORY_H */
