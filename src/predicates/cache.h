/*
 * cache.h — the process-wide cache of decoded predicate programs.
 *
 * Two bounded set-associative tables under one mutex:
 *   - code entries, keyed by code id (img_code_id: the image without its
 *     parameter segment), each holding one vm_program;
 *   - instance entries, keyed by predicate id, each pointing at a code entry
 *     plus its own copy of the parameter segment.
 * So the thousandth run of a predicate pays one hash lookup and no decode,
 * and every pay-to-pubkey instance (one per address) shares the decoded
 * code of the one template. Entries are reference counted: a run holds its
 * entry, eviction only drops the table's reference.
 */
#ifndef UTXO_SRC_CACHE_H
#define UTXO_SRC_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include "predicates/vm.h"

#define PC_INST_SETS 64u
#define PC_CODE_SETS 16u
#define PC_WAYS 4u

typedef struct pc_entry pc_entry;

/*
 * Returns (*out, with a reference: pc_put it) the instance of predicate id
 * `id`, decoding img[0..len) on a miss. The caller guarantees that id is the
 * predicate id of img (img_id): the cache trusts it. Errors: decoding errors
 * of img_view_decode (*err_off set), UTXO_ERR_NOMEM, or the error of
 * vm_program_new.
 */
int pc_get(pc_entry **out, const uint8_t id[UTXO_HASH_BYTES], const uint8_t *img, size_t len,
           size_t *err_off);
void pc_put(pc_entry *e);

/* What a run needs from an entry: the shared program and the parameter
 * bytes to write at UTXO_ABI_PARAMS_BASE (len 0: none). */
const vm_program *pc_program(const pc_entry *e);
const uint8_t *pc_params(const pc_entry *e, uint32_t *len);

typedef struct pc_stats {
    uint64_t hits;        /* instance found */
    uint64_t misses;      /* instance decoded */
    uint64_t code_hits;   /* on a miss, the code was already decoded */
    uint64_t programs;    /* vm_program_new calls */
} pc_stats;
void pc_get_stats(pc_stats *s);
/* Drops every table reference (entries in use live until pc_put). */
void pc_clear(void);

#endif /* UTXO_SRC_CACHE_H */
