/*
 * utxo/validate.h — contextual validation: a transaction or a block checked
 * against the outputs it spends, with every input's predicate run in the VM
 * (in parallel over a block).
 *
 * The caller supplies the spent outputs (from its UTXO set, or from a block
 * proof in a stateless validator); this module does not look anything up.
 * Header signature, previous hash and accumulator digest need the chain
 * state and are checked by the callers that hold it.
 */
#ifndef UTXO_VALIDATE_H
#define UTXO_VALIDATE_H

#include "utxo/predicate.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What went wrong, and where. err is UTXO_OK for a valid object. */
typedef struct utxo_verdict {
    int err;              /* UTXO_OK or a UTXO_ERR_* code */
    uint32_t tx;          /* offending transaction index within the block (0 for a lone tx) */
    uint32_t input;       /* offending input (or output, for value errors) index */
    utxo_vm_result vm;    /* the predicate's run when err == UTXO_ERR_TX_REJECTED */
    int run_err;          /* UTXO_ERR_TX_REJECTED because the predicate could not run
                             (its image does not decode: UTXO_ERR_IMAGE, _VERSION,
                             _TRUNCATED ...; vm is then all zero), else UTXO_OK */
    uint64_t fees;        /* sum of the fees (valid objects) */
    uint64_t cycles;      /* cycles used by all predicates (valid objects) */
} utxo_verdict;

/* A verifier: consensus parameters and a pool of threads that run
 * predicates. One verifier is used by one thread at a time. */
typedef struct utxo_verifier utxo_verifier;

/**
 * A verifier for chain parameters p (copied) using `threads` threads in all
 * (0: one per online CPU). NULL on out-of-memory. Free with
 * utxo_verifier_free (NULL is a no-op).
 */
utxo_verifier *utxo_verifier_new(const utxo_params *p, unsigned threads);
void utxo_verifier_free(utxo_verifier *v);
/** Threads the verifier actually runs (at least 1). */
unsigned utxo_verifier_threads(const utxo_verifier *v);

/**
 * Validates non-coinbase tx in a block at `height`, in this order: the
 * context-free rules; the spent outputs spent[i] (tx->n_inputs entries,
 * borrowed): input values sum to at most UTXO_MAX_MONEY and cover the
 * outputs plus utxo_tx_min_fee; then, per input and in parallel, the witness
 * image hashes to spent[i].predicate_id (else UTXO_ERR_TX_PREDICATE_ID) and
 * the predicate accepts within its budget (else UTXO_ERR_TX_REJECTED with
 * the run in out->vm). Returns out->err (also the return value).
 */
int utxo_verifier_tx(utxo_verifier *v, const utxo_tx *tx, const utxo_output *spent,
                     uint32_t height, utxo_verdict *out);
/**
 * As utxo_verifier_tx for a transaction with reference inputs: refs[k]
 * (tx->n_refs entries, borrowed; NULL when it has none) is the output
 * tx->refs[k] names, whose datum holds the code of the inputs in witness
 * form 3 (docs/ENCODING.md). The caller has found each to be an unspent
 * output of an earlier block. utxo_verifier_tx is this with refs NULL: an
 * input in form 3 then fails with UTXO_ERR_TX_REF_MISSING.
 */
int utxo_verifier_tx_refs(utxo_verifier *v, const utxo_tx *tx, const utxo_output *spent,
                          const utxo_output *refs, uint32_t height, utxo_verdict *out);

/**
 * Validates block b: utxo_block_check, then every non-coinbase transaction
 * as utxo_verifier_tx with spent[t] its spent outputs (spent[0], for the
 * coinbase, is ignored and may be NULL), predicates of all inputs in
 * parallel; then the coinbase may pay out at most the block's fees (the
 * genesis block, height 0, may allocate up to UTXO_MAX_MONEY). When several
 * inputs fail, the first in (tx, input) order is reported, so the verdict
 * does not depend on thread timing. Returns out->err.
 */
int utxo_verifier_block(utxo_verifier *v, const utxo_block *b, const utxo_output *const *spent,
                        utxo_verdict *out);
/** As utxo_verifier_block with refs[t] the outputs b->txs[t] references
 *  (as in utxo_verifier_tx_refs; refs[0] and refs of a transaction without
 *  reference inputs are ignored and may be NULL). */
int utxo_verifier_block_refs(utxo_verifier *v, const utxo_block *b,
                             const utxo_output *const *spent, const utxo_output *const *refs,
                             utxo_verdict *out);

/** Marks an outcome the caller has not established (utxo_verifier_block_known). */
#define UTXO_VM_UNKNOWN (-1)

/**
 * As utxo_verifier_block for a block that has ALREADY passed
 * utxo_block_check under the verifier's parameters (the caller ran it; it
 * is not repeated), with predicate outcomes the caller has already
 * established for some inputs (a stateless validator checks long runs
 * through their segment receipts, utxo/segments.h): when known[t] is not
 * NULL and known[t][i].status is not UTXO_VM_UNKNOWN, input i of
 * transaction t is not run and known[t][i] stands for its run (accepted or
 * not, with its cycles). Every other rule still applies to that input (its
 * image must hash to the spent predicate id, values, fees). known may be
 * NULL; known[t] has b->txs[t]->n_inputs entries (borrowed).
 */
int utxo_verifier_block_known(utxo_verifier *v, const utxo_block *b,
                              const utxo_output *const *spent,
                              const utxo_vm_result *const *known, utxo_verdict *out);

#ifdef __cplusplus
}
#endif
#endif /* UTXO_VALIDATE_H */
