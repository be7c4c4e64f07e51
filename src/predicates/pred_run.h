/*
 * pred_run.h — internal entry points of predicate.c for the modules that run
 * predicates (the validator, the continuation prover, the utxo command).
 */
#ifndef UTXO_SRC_PRED_RUN_H
#define UTXO_SRC_PRED_RUN_H

#include <stddef.h>
#include <stdint.h>
#include "predicates/cache.h"
#include "predicates/vm.h"

/*
 * utxo_predicate_run with more control: `id` (may be NULL: computed here)
 * must be the predicate id of img when given — a validator has computed it
 * already to compare it with the spent output, and the cache trusts it.
 * *err_off (may be NULL) receives the offset of an image decoding error.
 */
int pred_run(utxo_vm_result *res, const uint8_t *id, const uint8_t *img, size_t img_len,
             const uint8_t *args, size_t args_len, const utxo_txctx *ctx, uint64_t budget,
             size_t *err_off);

/* The calling thread's machine (created on first use, freed at thread
 * exit); NULL when out of memory. */
vm *pred_thread_vm(void);

/*
 * Loads cache entry e into v (program, then parameter segment) for a run.
 * Returns 0 (ready: call vm_run_until), 1 (the load itself failed the run:
 * *res says how), or a UTXO_ERR_* code from vm_load.
 */
int pred_load(vm *v, const pc_entry *e, const uint8_t *args, uint32_t args_len,
              const utxo_txctx *ctx, uint64_t budget, utxo_vm_result *res);

#endif /* UTXO_SRC_PRED_RUN_H */
