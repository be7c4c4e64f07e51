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

/** Bytes of r's encoding (254 + state_len + reason_len). */
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

/** Reads and decodes a result file (size checked before reading); why
 * (may be NULL) gets one line saying what is wrong and where. */
UTXO_WARN_UNUSED int utxo_range_result_read(utxo_range_result *r, const utxo_params *p,
                                            const char *path, char *why, size_t why_len);

#ifdef __cplusplus
}
#endif

#endif /* UTXO_HISTORY_H */
