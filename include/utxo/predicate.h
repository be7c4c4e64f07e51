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
    UTXO_VM_FAIL_BAD_FETCH = 7,     /* pc misaligned or in unmapped memory */
    UTXO_VM_FAIL_NOT_WITNESSED = 8  /* a continuation segment touched a page
                                       its witness does not hold */
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

/**
 * Fills *ctx for running the predicates of tx: spent (tx->n_inputs
 * entries, borrowed; NULL only when tx has no inputs), the block height,
 * and the sighash under chain_id (utxo_tx_sighash), computed once here for
 * all the inputs. input_index is 0: set it before each input's run.
 * Returns UTXO_OK, or UTXO_ERR_ARG (then *ctx is zeroed) for a NULL ctx,
 * tx or chain_id or a NULL spent with inputs.
 */
int utxo_txctx_init(utxo_txctx *ctx, const utxo_tx *tx, const utxo_output *spent,
                    uint32_t height, const uint8_t chain_id[UTXO_HASH_BYTES]);

/** The name of a failure reason ("out of cycles" ...); static, never NULL. */
const char *utxo_vm_fail_str(int fail);

/* ---- predicate images (format: docs/PREDICATES.md) -------------------- */

/** Largest canonical image, in bytes, and most segments in one. */
#define UTXO_IMAGE_MAX_BYTES (1u << 20)
#define UTXO_IMAGE_MAX_SEGMENTS 16u

/**
 * Checks that img[0..len) is a canonical predicate image (magic, version,
 * segment table, address ranges, order, entry). Returns UTXO_OK or
 * UTXO_ERR_TRUNCATED / _TRAILING / _VERSION / _TOO_LARGE / _IMAGE;
 * *err_offset (may be NULL) receives the offset of the offending byte.
 * Allocates nothing.
 */
UTXO_WARN_UNUSED int utxo_image_validate(const uint8_t *img, size_t len, size_t *err_offset);

/**
 * Converts an ELF32 little-endian RV32IM executable (elf[0..elf_len),
 * untrusted) into a canonical image. On success *img is a new buffer of
 * *img_len bytes that the caller releases with free(); on failure *img is
 * NULL, the result is UTXO_ERR_ELF, _TRUNCATED, _IMAGE or _TOO_LARGE and
 * *err_offset (may be NULL) is the file offset of the offending field.
 */
UTXO_WARN_UNUSED int utxo_image_from_elf(uint8_t **img, size_t *img_len, const uint8_t *elf,
                                         size_t elf_len, size_t *err_offset);

/** Why an image (or ELF file) was refused (utxo_image_explain). */
typedef struct utxo_image_problem {
    int err;          /* UTXO_OK, or the code utxo_image_validate / _from_elf give */
    size_t offset;    /* the offending byte */
    int segment;      /* the image segment (table entry) or ELF program header at
                         fault, counted from 0, or -1 when the fault is elsewhere */
    const char *what; /* what is wrong, a fixed sentence ("file size exceeds memory
                         size"); static storage, "" when err is UTXO_OK */
} utxo_image_problem;

/**
 * Explains bytes[0..len) (untrusted): an ELF file (starting "\x7fELF") is
 * checked as utxo_image_from_elf converts it, anything else as a canonical
 * image (utxo_image_validate). Returns the same code and fills *p (required).
 * Allocates only while converting an ELF file, and frees it before returning.
 */
UTXO_WARN_UNUSED int utxo_image_explain(const uint8_t *bytes, size_t len, utxo_image_problem *p);

/**
 * The predicate id of an image: BLAKE2b-256 of its bytes under the tag
 * "utxo.predicate". It does not check the image; an output's predicate_id
 * is this value.
 */
void utxo_predicate_id(uint8_t out[UTXO_HASH_BYTES], const uint8_t *img, size_t len);

/**
 * Runs the predicate img[0..img_len) with the given argument bytes, the
 * transaction context ctx (may be NULL: then every transaction host call
 * fails the run) and a cycle budget. The decoded program is taken from (or
 * put into) a process-wide cache keyed by predicate id, shared by all
 * threads; each thread reuses one machine. Everything passed in is borrowed
 * for the call only.
 * Returns UTXO_OK with *res filled (accepted, rejected or failed: see
 * res->status), or an error without running: UTXO_ERR_ARG (NULL res, or a
 * NULL pointer with a non-zero length), an image decoding error (as
 * utxo_image_validate), UTXO_ERR_NOMEM. Thread-safe.
 */
UTXO_WARN_UNUSED int utxo_predicate_run(utxo_vm_result *res, const uint8_t *img, size_t img_len,
                                        const uint8_t *args, size_t args_len,
                                        const utxo_txctx *ctx, uint64_t budget);

/** Receives the bytes a predicate logs (UTXO_HC_DEBUG_LOG, at most 1024). */
typedef void (*utxo_log_fn)(void *ud, const uint8_t *bytes, size_t len);

/**
 * Installs the calling thread's sink for predicates' debug logs (fn NULL:
 * none, the default); ud is passed back to fn. The log never changes an
 * outcome or a cycle count. Applies to runs on this thread only.
 */
void utxo_predicate_set_log(utxo_log_fn fn, void *ud);

#ifdef __cplusplus
}
#endif
#endif /* UTXO_PREDICATE_H */
