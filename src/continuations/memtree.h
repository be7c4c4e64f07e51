/*
 * memtree.h — the paged memory commitment of continuations (docs/CONTINUATIONS.md).
 *
 * Guest memory is 2^22 pages of 1 KiB. Its commitment is a binary Merkle tree
 * of depth 22 over the pages in address order:
 *
 *   leaf(page)  = 32 zero bytes                  never materialised in the run
 *               = H("utxo.mem.page", 1024 bytes)  materialised (even if all zero)
 *   node(l, r)  = H("utxo.mem.node", l || r)
 *   empty[0]    = 32 zero bytes, empty[k+1] = node(empty[k], empty[k])
 *
 * Leaves tell "never touched" from "touched, all zero" because the VM's page
 * limit counts materialised pages: a segment verifier must know which of its
 * witnessed pages an earlier segment already counted.
 *
 * mt_tree keeps the pages that exist and the hashes of the subtrees above
 * them; everything else is an empty subtree whose hash comes from a table.
 * It is stored as 4096 chunks of 1024 pages (levels 0..10, allocated when a
 * page in them first exists) under a dense top tree (levels 10..22).
 *
 * Multiproofs: for a sorted set of leaf positions, the siblings needed to
 * fold the leaves up to the root, each sent once, in canonical order (level
 * by level from the leaves, left to right within a level). The empty set's
 * proof is the root itself (one "sibling" at level 22). Encoding (mt_proof_*):
 * a bitmap of ceil(k/8) bytes for the k needed siblings (bit i, LSB first,
 * set = "an empty subtree", which is then not sent; padding bits zero), then
 * the 32-byte hash of every sibling whose bit is clear; a sent hash equal to
 * the empty hash of its level is non-canonical.
 */
#ifndef UTXO_SRC_MEMTREE_H
#define UTXO_SRC_MEMTREE_H

#include <stddef.h>
#include <stdint.h>
#include "utxo/common.h"
#include "utxo/codec.h"

#define MT_DEPTH 22u
#define MT_PAGE_BYTES 1024u
#define MT_NUM_PAGES (1u << MT_DEPTH)
#define MT_CHUNK_LEVELS 10u                    /* 1024 pages per chunk */
#define MT_CHUNK_PAGES (1u << MT_CHUNK_LEVELS)
#define MT_NUM_CHUNKS (MT_NUM_PAGES >> MT_CHUNK_LEVELS)

/* The hash of an empty subtree of height `level` (0 = a leaf), 0..22. */
const uint8_t *mt_empty(unsigned level);
/* The leaf of a materialised page. */
void mt_leaf(uint8_t out[UTXO_HASH_BYTES], const uint8_t page[MT_PAGE_BYTES]);
/* out = node(l, r). */
void mt_node_hash(uint8_t out[UTXO_HASH_BYTES], const uint8_t l[UTXO_HASH_BYTES],
                  const uint8_t r[UTXO_HASH_BYTES]);

/* ---- the sparse tree with its page store (the prover's memory) ------- */
typedef struct mt_tree mt_tree;

/* NULL when out of memory; mt_free(NULL) is a no-op. */
mt_tree *mt_new(void);
void mt_free(mt_tree *t);
/* The stored bytes of a page, or NULL when the page does not exist.
 * Valid until the page is next set or the tree freed. */
const uint8_t *mt_page(const mt_tree *t, uint32_t page);
/* Stores a copy of the page (creating it: it then exists, even if all
 * zero) and marks it dirty. UTXO_OK, UTXO_ERR_ARG (page out of range) or
 * UTXO_ERR_NOMEM. Hashes are stale until mt_commit. */
int mt_set_page(mt_tree *t, uint32_t page, const uint8_t data[MT_PAGE_BYTES]);
/* Rehashes the dirty leaves and their paths. UTXO_OK or UTXO_ERR_NOMEM. */
int mt_commit(mt_tree *t);
/* The root (after mt_commit). */
void mt_root(const mt_tree *t, uint8_t out[UTXO_HASH_BYTES]);
/* Pages that exist. */
uint32_t mt_count(const mt_tree *t);
/* The committed hash of node `index` at height `level` (0..22). */
const uint8_t *mt_node(const mt_tree *t, unsigned level, uint32_t index);

/* ---- multiproofs ----------------------------------------------------- */
/* The number of siblings a multiproof of the n sorted, distinct positions
 * needs (1 for n == 0); with levels != NULL also the level of each, in
 * proof order (the caller gives room for mt_proof_max(n) entries). */
size_t mt_proof_count(const uint32_t *pos, size_t n, uint8_t *levels);
/* An upper bound of mt_proof_count for n positions. */
size_t mt_proof_max(size_t n);
/* Writes the canonical proof of positions pos[0..n) against t's committed
 * tree (encoding above). Returns UTXO_OK or UTXO_ERR_NOMEM. */
int mt_proof_write(enc *e, const mt_tree *t, const uint32_t *pos, size_t n);

/* A decoded proof: k siblings, each an empty-subtree flag or a hash. */
typedef struct mt_proof {
    size_t k;               /* siblings */
    const uint8_t *bitmap;  /* ceil(k/8) bytes, inside the decoded input */
    const uint8_t *hashes;  /* 32 bytes per clear bit, inside the input */
    size_t n_hashes;
} mt_proof;
/* Reads a proof for n sorted distinct positions from d, strictly (padding
 * bits, non-canonical hashes: UTXO_ERR_NONCANONICAL at their offset). pr
 * points into d's input. Allocates only 4 bytes per position, temporarily.
 * Errors (UTXO_ERR_NOMEM too) are recorded in d. */
void mt_proof_read(dec *d, mt_proof *pr, const uint32_t *pos, size_t n);
/* The number of siblings (k) of a proof for n sorted distinct positions,
 * which pos holds on entry and which are overwritten (no allocation). */
size_t mt_proof_siblings(uint32_t *pos, size_t n);
/* Folds leaves (pos[i], leaf[i]) with the proof's siblings into a root.
 * scratch: room for n positions and n hashes (mt_fold_scratch(n) bytes).
 * Returns UTXO_OK; the proof is assumed read by mt_proof_read for pos. */
size_t mt_fold_scratch(size_t n);
int mt_fold(uint8_t root[UTXO_HASH_BYTES], const mt_proof *pr, const uint32_t *pos,
            const uint8_t *leaves, size_t n, void *scratch);

#endif /* UTXO_SRC_MEMTREE_H */
