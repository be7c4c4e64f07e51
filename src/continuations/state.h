/*
 * state.h — the state digest of a paused run and the run's initial state
 * (docs/CONTINUATIONS.md, "State digest").
 *
 *   run id  = H("utxo.seg.run", predicate id, budget u64, page limit u32,
 *               po2 u8, args_len u32, args)
 *   digest  = H("utxo.seg.state", run id, pc u32, x1..x31 u32,
 *               memory root, cycles u64, touched u32, segment u32)
 *
 * "touched" is the number of pages materialised so far (the VM's page limit
 * counts them), so a segment verifier can enforce the limit exactly where
 * the unsplit run did; "segment" counts the segments before the state, which
 * binds each receipt's index. The transaction context is not in the digest: it is
 * an input of verification.
 */
#ifndef UTXO_SRC_SEG_STATE_H
#define UTXO_SRC_SEG_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "continuations/memtree.h"
#include "predicates/cache.h"
#include "predicates/vm.h"

typedef struct seg_state {
    uint32_t pc;
    uint32_t x[32];       /* x[0] is always 0 and not hashed */
    uint8_t root[UTXO_HASH_BYTES];
    uint64_t cycles;
    uint32_t touched;
    uint32_t segment;     /* segments executed before this state */
} seg_state;

void seg_run_id(uint8_t out[UTXO_HASH_BYTES], const uint8_t pred_id[UTXO_HASH_BYTES],
                uint64_t budget, uint32_t page_limit, unsigned po2, const uint8_t *args,
                uint32_t args_len);
void seg_state_digest(uint8_t out[UTXO_HASH_BYTES], const uint8_t run_id[UTXO_HASH_BYTES],
                      const seg_state *s);

/*
 * The state before the first instruction of predicate entry e with these
 * arguments: loads it into v (page limit page_limit) exactly as a plain run
 * does, then commits every materialised page into a new tree.
 * Returns 0 (*st filled; *tree_out, when not NULL, receives the tree, which
 * the caller frees with mt_free), 1 (the load itself ended the run: *res
 * says how, no tree), or a UTXO_ERR_* code.
 */
int seg_initial(seg_state *st, mt_tree **tree_out, utxo_vm_result *res, vm *v,
                const pc_entry *e, const uint8_t *args, uint32_t args_len,
                const utxo_txctx *ctx, uint64_t budget, uint32_t page_limit);

/* Where a segment that starts at cycle `start` stops: start + 2^po2, or
 * UINT64_MAX past the end of the count (also its host-call fence). The one
 * cut rule of the prover, the verifier and the split (checkpoint.c). */
uint64_t seg_stop_at(uint64_t start, unsigned po2);

/*
 * Whether a run of budget cycles can take n segments of 2^po2. A segment
 * that is not the last spans 2^po2 cycles or more, or stops before a host
 * call that would pass its end, which the next segment then runs: either
 * way segments k and k+1 together span 2^po2 or more. The pairs (0,1),
 * (2,3), ... that start before the last segment are ceil((n-1)/2), and
 * the run never counts past its budget, so every chain the prover makes
 * has n <= 2 * floor(budget / 2^po2) + 1. This allows one more.
 */
bool seg_count_fits(size_t n, uint64_t budget, unsigned po2);

/*
 * Runs one segment on v from state st: a fresh machine (no program, code
 * and data come through the pager fn/ud), st's registers, pc, cycles and
 * page count, page limit page_limit, and a host-call fence and stop point
 * 2^po2 cycles after st->cycles. Returns VM_RUN_DONE or VM_RUN_PAUSED (*out
 * as vm_run_until), or a UTXO_ERR_* code (as a negative number).
 */
int seg_exec(vm *v, const seg_state *st, const uint8_t *args, uint32_t args_len,
             const utxo_txctx *ctx, uint64_t budget, uint32_t page_limit, unsigned po2,
             vm_pager_fn fn, void *ud, utxo_vm_result *out);

#endif /* UTXO_SRC_SEG_STATE_H */
