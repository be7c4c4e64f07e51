/*
 * utxo/predicate.h — predicate programs: canonical images, identifiers and
 * metered execution in the RV32IM VM.
 *
 * A predicate is an RV32IM program (see docs/VM.md for the machine, its
 * memory layout and metering, include/utxo/abi.h for the host calls). It
 * guards an output; an input that spends the output supplies the image and
 * argument bytes, and the spend is valid when the program halts with exit
 * code 0 within the input's cycle budget.
 */
#ifndef UTXO_PREDICATE_H
#define UTXO_PREDICATE_H

#include "utxo/ledger.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How a run ended. */
enum utxo_vm_status {
    UTXO_VM_ACCEPTED = 0, /* halted with exit code 0 */
    UTXO_VM_REJECTED = 1, /* halted with a non-zero exit code */
    UTXO_VM_FAILED = 2    /* stopped by the machine: see utxo_vm_fail */
};

/* Why a run failed (UTXO_VM_FAILED). Stable numbers. */
enum utxo_vm_fail {
    UTXO_VM_FAIL_NONE = 0,
    UTXO_VM_FAIL_OUT_OF_CYCLES = 1, /* budget exhausted */
    UTXO_VM_FAIL_MEMORY_LIMIT = 2,  /* more pages touched than allowed */
    UTXO_VM_FAIL_ILLEGAL = 3,       /* illegal or unsupported instruction */
    UTXO_VM_FAIL_BAD_ACCESS = 4,    /* misaligned, unmapped or wrapping access */
    UTXO_VM_FAIL_BAD_HOSTCALL = 5,  /* unknown host call or bad host-call arguments */
    UTXO_VM_FAIL_EBREAK = 6,        /* EBREAK executed */
    UTXO_VM_FAIL_BAD_FETCH = 7      /* pc misaligned or in unmapped memory */
};

typedef struct utxo_vm_result {
    int status;          /* enum utxo_vm_status */
    int fail;            /* enum utxo_vm_fail, UTXO_VM_FAIL_NONE unless FAILED */
    uint32_t exit_code;  /* halt code (ACCEPTED: 0) */
    uint32_t pc;         /* pc of the halting or failing instruction */
    uint64_t cycles;     /* exact cycles consumed, host-call costs included */
} utxo_vm_result;

/*
 * What a predicate may introspect: the spending transaction, which input is
 * running, the outputs being spent (in input order) and the height of the
 * block that includes the transaction. All pointers are borrowed for the run.
 */
typedef struct utxo_txctx {
    const utxo_tx *tx;
    uint32_t input_index;
    const utxo_output *spent;              /* tx->n_inputs entries */
    uint32_t height;
    uint8_t sighash[UTXO_HASH_BYTES];      /* utxo_tx_sighash(tx, chain id) */
} utxo_txctx;

/** The name of a failure reason ("out of cycles" ...); static, never NULL. */
const char *utxo_vm_fail_str(int fail);

#ifdef __cplusplus
}
#endif
#endif /* UTXO_PREDICATE_H */
