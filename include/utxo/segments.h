/*
 * utxo/segments.h — continuations: long predicate runs split into segments
 * with segment receipts that anyone can check alone, in parallel.
 *
 * A run (predicate image, arguments, transaction context, cycle budget) is
 * cut every 2^po2 cycles. Each segment's receipt carries the state at its
 * start (pc, registers, cycles, pages materialised so far), the memory pages
 * it touches with one Merkle multiproof against the memory root, and the
 * digest of the state at its end. A verifier rebuilds that partial memory,
 * re-executes the segment, and compares digests; a chain of receipts proves
 * the run's outcome when the first starts at the run's initial digest and
 * each starts where the previous one ended. Formats: docs/CONTINUATIONS.md.
 *
 * Honesty note: a receipt proves by RE-EXECUTION. Verifying is stateless
 * (a receipt and the transaction are enough), parallel (segments are
 * independent) and bounded in memory by one witness, but it costs as much
 * as running the segment: receipts are NOT succinct and NOT zero-knowledge
 * (they contain the memory they touch).
 */
#ifndef UTXO_SEGMENTS_H
#define UTXO_SEGMENTS_H

#include <stdio.h>
#include "utxo/predicate.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Segment size is 2^po2 cycles, po2 in [MIN, MAX]. */
#define UTXO_SEG_PO2_MIN 10u
#define UTXO_SEG_PO2_MAX 24u
#define UTXO_SEG_PO2_DEFAULT 20u
/** The VM's default page limit (16 MiB of 1 KiB pages): what
 *  utxo_predicate_run and transaction validation use. */
#define UTXO_SEG_PAGE_LIMIT_DEFAULT 16384u
/** Most pages a run may be given (the whole 4 GiB address space). */
#define UTXO_SEG_PAGE_LIMIT_MAX (1u << 22)
/** Largest argument string a receipt carries. */
#define UTXO_SEG_MAX_ARGS (1u << 20)

/** A decoded segment receipt (opaque). */
typedef struct utxo_receipt utxo_receipt;

/**
 * Receives each receipt as the prover produces it, in order, and takes
 * ownership of it (release with utxo_receipt_free). Return 0 to go on; any
 * other value stops the proof, which then returns UTXO_ERR_IO.
 */
typedef int (*utxo_receipt_sink)(void *ud, utxo_receipt *r);

/**
 * Runs predicate img[0..img_len) on args[0..args_len) with the transaction
 * context ctx (may be NULL) and a cycle budget, under a page limit
 * (0 = UTXO_SEG_PAGE_LIMIT_DEFAULT, at most UTXO_SEG_PAGE_LIMIT_MAX), cut
 * into segments of 2^po2 cycles, and hands the receipts to sink in order.
 * *res receives the run's outcome, exactly as utxo_predicate_run would give
 * it under the same page limit. A run that ends while loading (the image or
 * arguments exceed the page limit) has no segment. Everything passed in is
 * borrowed for the call. Deterministic: the same inputs give the same
 * receipts, byte for byte. Thread-safe (each call uses a machine of its
 * own; memory: the run's whole memory plus one segment's pages).
 * Returns UTXO_OK, UTXO_ERR_ARG (NULL res/sink, NULL pointer with a length,
 * bad po2 or page limit), an image decoding error, UTXO_ERR_NOMEM,
 * UTXO_ERR_IO (the sink stopped), or UTXO_ERR_SEG_HOSTCALL (one host call
 * costs more than a whole segment: use a larger po2).
 */
UTXO_WARN_UNUSED int utxo_segments_prove(utxo_vm_result *res, const uint8_t *img, size_t img_len,
                                         const uint8_t *args, size_t args_len,
                                         const utxo_txctx *ctx, uint64_t budget, unsigned po2,
                                         uint32_t page_limit, utxo_receipt_sink sink, void *ud);

/**
 * Decodes a receipt from p[0..len) (untrusted), strictly: any truncation,
 * trailing byte, out-of-range or non-canonical field is an error
 * (UTXO_ERR_TRUNCATED, _TRAILING, _NONCANONICAL, _TOO_LARGE, _VERSION,
 * UTXO_ERR_SEG_PARAM) with *err_offset (may be NULL) at the offending byte.
 * On success *out is a new receipt holding its own copy of the bytes; the
 * caller frees it with utxo_receipt_free. On failure *out is NULL.
 */
UTXO_WARN_UNUSED int utxo_receipt_from_bytes(utxo_receipt **out, const uint8_t *p, size_t len,
                                             size_t *err_offset);
/**
 * Reads one receipt from the stream f (untrusted; a file or a pipe, from
 * its current position to its end) incrementally: the magic, version and
 * declared sizes are checked before anything more is read, the exact
 * length follows from the page numbers and bitmaps before any page byte
 * is read, and a regular file whose size is not that length is refused
 * without reading further (docs/CONTINUATIONS.md, "Reading a receipt
 * file"). Memory: the receipt's own bytes, plus 8 bytes per witness page
 * while it is checked. Errors as utxo_receipt_from_bytes, plus
 * UTXO_ERR_IO (see errno), with *err_offset (may be NULL) the offset of
 * the offending byte from where reading started. On success *out is a new
 * receipt (free with utxo_receipt_free); on failure NULL. f is not closed.
 */
UTXO_WARN_UNUSED int utxo_receipt_read(utxo_receipt **out, FILE *f, size_t *err_offset);
/** The canonical encoding of r; *len gets its size. Owned by r. */
const uint8_t *utxo_receipt_bytes(const utxo_receipt *r, size_t *len);
/** Frees r; NULL is a no-op. */
void utxo_receipt_free(utxo_receipt *r);

/** What a receipt says about itself (nothing here is verified). */
typedef struct utxo_receipt_info {
    uint32_t index;          /* position in its chain, from 0 */
    unsigned po2;
    int final;               /* 1: the run ends in this segment */
    uint8_t predicate_id[UTXO_HASH_BYTES];
    uint64_t budget;
    uint32_t page_limit;
    uint32_t args_len;
    uint64_t cycles_before;  /* cycles of the run before this segment */
    uint32_t pages_before;   /* pages materialised before this segment */
    uint32_t witness_pages;  /* pages in the witness */
    uint32_t witness_present;/* of which materialised before (bytes sent) */
    size_t proof_hashes;     /* sibling hashes sent */
    size_t bytes;            /* encoded size */
} utxo_receipt_info;
void utxo_receipt_get_info(const utxo_receipt *r, utxo_receipt_info *info);

/** The result of checking one receipt on its own. */
typedef struct utxo_receipt_check {
    uint8_t pre_digest[UTXO_HASH_BYTES];  /* state digest the segment starts from */
    uint8_t post_digest[UTXO_HASH_BYTES]; /* the one it ends at (checked) */
    uint64_t cycles_before;
    uint64_t cycles_after;
    int final;
    utxo_vm_result outcome;               /* the run's outcome when final */
} utxo_receipt_check;

/**
 * Verifies one receipt alone: the witness's multiproof gives the pre-state
 * memory root, re-executing the segment under ctx (may be NULL) touches only
 * witnessed pages and every one of them, and the post-state digest and (if
 * final) the outcome are the ones claimed. Uses the calling thread's VM;
 * thread-safe.
 * Returns UTXO_OK with *out filled, or UTXO_ERR_ARG, UTXO_ERR_NOMEM, or a
 * UTXO_ERR_SEG_* code saying why the receipt is invalid (*out zeroed).
 */
UTXO_WARN_UNUSED int utxo_receipt_verify(utxo_receipt_check *out, const utxo_receipt *r,
                                         const utxo_txctx *ctx);

/**
 * Supplies receipt i of a run (0 <= i < n_receipts) to a verifier that
 * loads receipts lazily: returns UTXO_OK with *out a new receipt, which the
 * verifier frees once it is checked, or an error (the run's rc). Called
 * from the verifying threads, any number at once.
 */
typedef int (*utxo_receipt_loader)(void *ud, size_t i, utxo_receipt **out);

/**
 * One run to check against its receipts (utxo_segments_verify_batch).
 * In: the input's image, arguments, context (may be NULL), budget, page
 * limit (0 = default) and its receipts in order: either the array
 * `receipts` (borrowed), or, when it is NULL, `load` called for each index
 * (memory then holds one receipt per thread, not the chain). All borrowed.
 * Out: rc (UTXO_OK when the receipts prove the run's outcome) and res.
 */
typedef struct utxo_seg_run {
    const uint8_t *img;
    size_t img_len;
    const uint8_t *args;
    size_t args_len;
    const utxo_txctx *ctx;
    uint64_t budget;
    uint32_t page_limit;
    const utxo_receipt *const *receipts;
    size_t n_receipts;
    utxo_receipt_loader load; /* used when receipts is NULL */
    void *load_ud;
    int rc;                  /* out */
    utxo_vm_result res;      /* out: the proven outcome, cycles included */
} utxo_seg_run;

/**
 * Checks the receipt chains of n runs, verifying all their segments in
 * parallel on `threads` threads (0 = one per CPU). For each run: every
 * receipt verifies alone; receipt i has index i and carries the run's
 * predicate id, arguments, budget and page limit; the first starts at the
 * run's initial digest (computed here from the image and arguments), each
 * next one at the previous one's post digest; only the last is final. Then
 * runs[i].rc = UTXO_OK and runs[i].res = the outcome, which equals what
 * utxo_predicate_run gives (the spend is valid when res.status is
 * UTXO_VM_ACCEPTED); otherwise rc says why (UTXO_ERR_SEG_CHAIN,
 * UTXO_ERR_SEG_RUN, a verification code, an image error ...). A run that
 * ends while loading is proven by zero receipts. Memory grows with the
 * witnesses being checked at once, not with the runs.
 * Returns UTXO_OK when every run was checked (see each rc), UTXO_ERR_ARG,
 * or UTXO_ERR_NOMEM.
 */
UTXO_WARN_UNUSED int utxo_segments_verify_batch(utxo_seg_run *runs, size_t n, unsigned threads);

/**
 * The same for one run, for a stateless validator: given an input's
 * context, image, arguments, budget and decoded receipts, *res receives the
 * proven outcome and its total cycles. Returns UTXO_OK (the receipts prove
 * *res; accepted iff res->status == UTXO_VM_ACCEPTED) or an error as above.
 */
UTXO_WARN_UNUSED int utxo_segments_verify(utxo_vm_result *res, const uint8_t *img, size_t img_len,
                                          const uint8_t *args, size_t args_len,
                                          const utxo_txctx *ctx, uint64_t budget,
                                          uint32_t page_limit,
                                          const utxo_receipt *const *receipts, size_t n,
                                          unsigned threads);

/** What a group of consecutive receipts of one run proves
 *  (utxo_segments_verify_group): receipts [first, first + count), each
 *  valid alone and each starting where the one before it ends. */
typedef struct utxo_seg_group {
    size_t first, count;
    unsigned po2;
    uint8_t pre_digest[UTXO_HASH_BYTES];  /* the state the group starts from; when
                                             first == 0, the run's initial state */
    uint8_t post_digest[UTXO_HASH_BYTES]; /* the state its last receipt ends at */
    uint64_t cycles_before, cycles_after;
    int final;                            /* the group ends the run */
    utxo_vm_result res;                   /* the run's outcome when final */
} utxo_seg_group;

/**
 * Checks receipts [first, first + count) of a run of run->n_receipts
 * receipts, for verifying one run's segments in groups on many machines
 * (docs/CONTINUATIONS.md, "Groups"): every receipt of the group verifies
 * alone, carries the run's predicate id, arguments, budget and page limit
 * and one po2, has its index, starts at the previous one's post digest
 * (the first one, when first == 0, at the run's initial digest computed
 * here), and is final exactly when it is the run's last. Receipts are
 * taken from run->receipts[first + j] or run->load(first + j) (indices in
 * the whole run). Groups whose results chain (each pre digest = the
 * previous group's post digest, from first = 0 to a final group) prove
 * what utxo_segments_verify proves. count may be 0 only for a run without
 * receipts (first = 0).
 * Returns UTXO_OK when the group was checked: then run->rc is UTXO_OK and
 * *out describes the group (run->res the outcome if final), or run->rc says
 * why it is invalid (*out zeroed but first and count). UTXO_ERR_ARG for a
 * span outside the run, UTXO_ERR_NOMEM.
 */
UTXO_WARN_UNUSED int utxo_segments_verify_group(utxo_seg_group *out, utxo_seg_run *run,
                                                size_t first, size_t count, unsigned threads);

/* ---- checkpoints: one run proven on many machines ---------------------- */

/** Bytes of a checkpoint carrying n materialised pages (the largest a
 *  run of page limit L can have is UTXO_CKPT_BYTES(L)). */
#define UTXO_CKPT_BYTES(n) (217u + 1028u * (size_t)(n))

/**
 * Receives each checkpoint of utxo_segments_split, in order: the encoding
 * of the run's whole state at the start of segment `segment`, in
 * bytes[0..len) (borrowed for the call; format: docs/CONTINUATIONS.md,
 * "Checkpoints"). Return 0 to go on; any other value stops the split, which
 * then returns UTXO_ERR_IO.
 */
typedef int (*utxo_checkpoint_sink)(void *ud, uint32_t segment, const uint8_t *bytes, size_t len);

/**
 * Runs the predicate exactly as utxo_segments_prove would (same arguments,
 * same segment boundaries) but proves nothing: one machine, no memory tree,
 * no witness, no receipt. At the start of segments 0, every, 2*every, ...
 * (every >= 1) it hands sink a checkpoint: registers, pc, cycles and every
 * materialised page, plus the span `every`. From checkpoint k,
 * utxo_segments_prove_from writes receipts k*every .. k*every+every-1 on
 * any machine, byte for byte those utxo_segments_prove writes, so the
 * groups of one run are proven in parallel. *segments (may be NULL)
 * receives the run's segment count and *res its outcome. A run that ends
 * while loading has no segment and no checkpoint. Checkpoints are not
 * trusted by anyone who verifies: receipts proven from a wrong checkpoint
 * do not chain to the receipts before them. Memory: the run's memory plus
 * one checkpoint (1028 bytes per materialised page). Returns as
 * utxo_segments_prove, and UTXO_ERR_ARG for every == 0.
 */
UTXO_WARN_UNUSED int utxo_segments_split(utxo_vm_result *res, uint32_t *segments,
                                         const uint8_t *img, size_t img_len, const uint8_t *args,
                                         size_t args_len, const utxo_txctx *ctx, uint64_t budget,
                                         unsigned po2, uint32_t page_limit, uint32_t every,
                                         utxo_checkpoint_sink sink, void *ud);

/** What a checkpoint says of itself (utxo_checkpoint_info). */
typedef struct utxo_checkpoint_info {
    uint8_t run_id[UTXO_HASH_BYTES]; /* binds predicate id, budget, page limit, po2, args */
    uint32_t segment;                /* the segment it starts */
    uint32_t span;                   /* segments it is meant to prove */
    uint64_t cycles;                 /* cycles of the run before it */
    uint32_t pages;                  /* materialised pages it carries */
} utxo_checkpoint_info;

/**
 * Decodes checkpoint p[0..len) (untrusted) strictly, without allocating:
 * magic and version (UTXO_ERR_FILE_FORMAT, UTXO_ERR_VERSION), every field
 * in range, page numbers ascending and mappable (UTXO_ERR_NONCANONICAL),
 * the length (UTXO_ERR_TRUNCATED, UTXO_ERR_TRAILING) and the checksum
 * (UTXO_ERR_FILE_CHECKSUM); *err_offset (may be NULL) at the offending
 * byte. Fills *info on success.
 */
UTXO_WARN_UNUSED int utxo_checkpoint_info_get(utxo_checkpoint_info *info, const uint8_t *p,
                                              size_t len, size_t *err_offset);

/**
 * Proves the checkpoint's span of segments (fewer when the run ends first)
 * from checkpoint ckpt[0..ckpt_len) of the run given by the remaining
 * arguments, which must be utxo_segments_prove's for that run (a
 * checkpoint of another run: UTXO_ERR_SEG_RUN; one whose counters the run
 * cannot have: UTXO_ERR_SEG_STATE; a damaged one: as
 * utxo_checkpoint_info_get, *err_offset set). Receipts go to sink in
 * order; their indices continue the checkpoint's segment. *finished = 1
 * when the last one ends the run (*res is then the outcome), else 0 (*res
 * zeroed). Memory: the run's memory plus one segment's witness.
 */
UTXO_WARN_UNUSED int utxo_segments_prove_from(utxo_vm_result *res, int *finished,
                                              const uint8_t *ckpt, size_t ckpt_len,
                                              size_t *err_offset, const uint8_t *img,
                                              size_t img_len, const uint8_t *args,
                                              size_t args_len, const utxo_txctx *ctx,
                                              uint64_t budget, unsigned po2, uint32_t page_limit,
                                              utxo_receipt_sink sink, void *ud);

#ifdef __cplusplus
}
#endif
#endif /* UTXO_SEGMENTS_H */
