/*
 * receipt.h — private layout of a segment receipt (include/utxo/segments.h)
 * and the internals shared by the prover (segment.c), the codec
 * (receipt.c) and the verifier (segment_verify.c). Format:
 * docs/CONTINUATIONS.md, "Segment receipt".
 */
#ifndef UTXO_SRC_RECEIPT_H
#define UTXO_SRC_RECEIPT_H

#include "utxo/segments.h"
#include "continuations/memtree.h"
#include "continuations/state.h"

#define RCPT_MAGIC "UTXR"
#define RCPT_VERSION 1u

struct utxo_receipt {
    uint8_t *bytes;           /* canonical encoding (owned) */
    size_t len;
    uint32_t index;
    uint8_t po2;
    uint8_t final;
    uint8_t pred_id[UTXO_HASH_BYTES];
    uint64_t budget;
    uint32_t page_limit;
    const uint8_t *args;      /* inside bytes */
    uint32_t args_len;
    seg_state pre;            /* root not encoded: computed by the verifier */
    uint32_t n_pages;         /* witness pages, ascending */
    uint32_t *page_no;        /* owned */
    const uint8_t *present;   /* inside bytes: the present bitmap */
    uint32_t *rank;           /* owned: present pages before bitmap byte j
                                 (4 bytes per 8 witness pages, not per page:
                                 a witness of absent pages costs little) */
    uint32_t n_present;
    const uint8_t *page_data; /* inside bytes: n_present * 1024 */
    mt_proof proof;           /* points into bytes */
    uint8_t post_digest[UTXO_HASH_BYTES];
    utxo_vm_result outcome;   /* when final */
};

/* The fields a prover gives the encoder (pages point into the prover's
 * tree; proof written from it). */
typedef struct rcpt_fields {
    uint32_t index;
    unsigned po2;
    int final;
    const uint8_t *pred_id;
    uint64_t budget;
    uint32_t page_limit;
    const uint8_t *args;
    uint32_t args_len;
    const seg_state *pre;
    const uint32_t *pages;    /* sorted, distinct */
    size_t n_pages;
    const mt_tree *tree;      /* pre-segment memory: page bytes and proof */
} rcpt_fields;

/* Writes everything up to (not including) the post digest. */
int rcpt_encode_head(enc *e, const rcpt_fields *f);
/* The post digest and, when final, the outcome. */
void rcpt_encode_tail(enc *e, const uint8_t post[UTXO_HASH_BYTES], int final,
                      const utxo_vm_result *outcome);
#define RCPT_TAIL_BYTES(final) (UTXO_HASH_BYTES + ((final) ? 18u : 0u))

/* Decodes taking ownership of bytes (freed on failure too). */
int rcpt_decode_owned(utxo_receipt **out, uint8_t *bytes, size_t len, size_t *err_offset);

/*
 * The first have bytes of a receipt whose encoding is size bytes long
 * (have < size): UTXO_OK when they can still begin one, else the error the
 * decoder will give, at *err_offset. Looks at the header, the page numbers
 * and bitmaps as far as they are there, never the page bytes (the check of
 * utxo_receipt_read, for a receipt cut by a prefix of the record holding it).
 */
int rcpt_check_prefix(const uint8_t *p, size_t have, size_t size, size_t *err_offset);

/* Position of page p in r's witness, or -1. */
long rcpt_find(const utxo_receipt *r, uint32_t page);

/* The pre-segment bytes of witness entry i, or NULL when it is witnessed
 * absent. */
static inline const uint8_t *rcpt_page(const utxo_receipt *r, size_t i)
{
    uint8_t byte = r->present[i / 8];
    unsigned below = byte & ((1u << (i % 8)) - 1u);

    if (!((byte >> (i % 8)) & 1u))
        return NULL;
    return r->page_data +
           (size_t)(r->rank[i / 8] + (uint32_t)__builtin_popcount(below)) * MT_PAGE_BYTES;
}

/* Test hook of the prover: in segment `segment`, drop witness entry `drop`
 * (an index into the sorted witness; -1: none) and/or add page `add` (0:
 * none) before the receipt is written, so tests can produce receipts whose
 * witness is consistent with the memory root but wrong for the segment. */
typedef struct seg_prove_opts {
    uint32_t segment;
    long drop;
    uint32_t add;
} seg_prove_opts;
int seg_prove(utxo_vm_result *res, const uint8_t *img, size_t img_len, const uint8_t *args,
              size_t args_len, const utxo_txctx *ctx, uint64_t budget, unsigned po2,
              uint32_t page_limit, utxo_receipt_sink sink, void *ud, const seg_prove_opts *o);

/* The parameters of one run being proven (borrowed). */
typedef struct seg_prove_run {
    const uint8_t *id;        /* predicate id */
    const uint8_t *run_id;    /* seg_run_id of the parameters below */
    const uint8_t *args;
    uint32_t args_len;
    const utxo_txctx *ctx;
    uint64_t budget;
    uint32_t page_limit;      /* resolved: never 0 */
    unsigned po2;
    utxo_receipt_sink sink;
    void *ud;
    const seg_prove_opts *o;  /* test hook, NULL */
} seg_prove_run;

/* Proves segments from state *st whose memory is t (committed), on machine
 * v, handing each receipt to p->sink, until the run ends (*finished = 1,
 * *res its outcome) or `count` receipts are written (0: no limit; then
 * *finished = 0, *res zeroed). *st ends as the state after the last
 * receipt. UTXO_OK or an error as utxo_segments_prove. */
int seg_prove_loop(const seg_prove_run *p, vm *v, mt_tree *t, seg_state *st, uint32_t count,
                   utxo_vm_result *res, int *finished);

/* The predicate id of img, its cache entry (*e: pc_put it) and a machine
 * (*v: vm_free it); on error what was made is in *e / *v for the caller to
 * release. */
int seg_begin(const uint8_t *img, size_t img_len, uint8_t id[UTXO_HASH_BYTES], pc_entry **e,
              vm **v);

/* The argument checks of utxo_segments_prove; resolves *page_limit 0. */
int seg_check_params(const uint8_t *img, size_t img_len, const uint8_t *args, size_t args_len,
                     unsigned po2, uint32_t *page_limit);

#endif /* UTXO_SRC_RECEIPT_H */
