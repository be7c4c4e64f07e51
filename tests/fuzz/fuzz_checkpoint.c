/*
 * fuzz_checkpoint.c — libFuzzer target for segment checkpoints: the decoder
 * and proving from a checkpoint (src/prover/checkpoint.c). Run:
 *   tests/fuzz/fuzz_checkpoint tests/fuzz/corpus/checkpoint
 *
 * The input is a checkpoint without its checksum and run id: the harness
 * writes the run id of a fixed run of tests/segments/work.img (budget 2^20
 * cycles, po2 10) at its place and seals it, so mutations reach the prover
 * instead of stopping at the checksum; the unsealed input is decoded too.
 * Beyond "no crash, no leak, no UB" it asserts: decoding is strict (the
 * sealed input minus its last byte never decodes); a checkpoint that
 * decodes either proves receipts (at most its span, each decoding, the
 * last one final exactly when the run ends) or is refused with a
 * continuation or decoding code; the same checkpoint proves the same
 * receipts twice. One input costs at most 2^20 interpreted cycles.
 *
 * Seeds (tests/fuzz/corpus/checkpoint): checkpoints of that run written by
 * `utxo segments split --po2 10 --every 3`, minus their last 32 bytes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "chain/work_img.h"
#include "continuations/state.h"
#include "prover/receipt.h"
#include "utxo/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The run: 2 SHA-256 rounds, a small sieve, one host call per round, 8
 * pages touched twice. */
static const uint8_t args[24] = {2, 0, 0, 0, 0, 4, 0, 0, 1, 0, 0, 0,
                                 8, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0};
#define BUDGET (UINT64_C(1) << 20)
#define PO2 10u

typedef struct digest_sink {
    uint32_t n;
    int last_final;
    uint8_t h[UTXO_HASH_BYTES]; /* of every receipt's bytes, in order */
    hash_state hs;
} digest_sink;

static int sink(void *ud, utxo_receipt *r)
{
    digest_sink *d = ud;
    utxo_receipt *again = NULL;
    utxo_receipt_info info;
    size_t len;
    const uint8_t *b = utxo_receipt_bytes(r, &len);

    if (utxo_receipt_from_bytes(&again, b, len, NULL) != UTXO_OK)
        abort(); /* the prover's receipts decode */
    utxo_receipt_free(again);
    utxo_receipt_get_info(r, &info);
    hash_update(&d->hs, b, len);
    d->n++;
    d->last_final = info.final;
    utxo_receipt_free(r);
    return 0;
}

static int prove(const uint8_t *c, size_t len, digest_sink *d, int *fin, utxo_vm_result *res)
{
    memset(d, 0, sizeof *d);
    hash_init(&d->hs, "fuzz");
    int rc = utxo_segments_prove_from(res, fin, c, len, NULL, chain_work_img,
                                      sizeof chain_work_img, args, sizeof args, NULL, BUDGET, PO2,
                                      0, sink, d);
    hash_final(&d->hs, d->h);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t id[UTXO_HASH_BYTES], run_id[UTXO_HASH_BYTES];
    utxo_checkpoint_info info;
    utxo_vm_result r1, r2;
    digest_sink a, b;
    uint8_t *c;
    int f1, f2;

    (void)utxo_checkpoint_info_get(&info, data, size, NULL);
    if (size > (size_t)UTXO_CKPT_BYTES(64))
        return 0;
    c = malloc(size + UTXO_HASH_BYTES);
    if (!c)
        return 0;
    memcpy(c, data, size);
    if (size >= 5 + UTXO_HASH_BYTES) {
        utxo_predicate_id(id, chain_work_img, sizeof chain_work_img);
        seg_run_id(run_id, id, BUDGET, UTXO_SEG_PAGE_LIMIT_DEFAULT, PO2, args, sizeof args);
        memcpy(c + 5, run_id, UTXO_HASH_BYTES);
    }
    hash_tagged(c + size, "utxo.seg.ckpt", c, size);
    if (utxo_checkpoint_info_get(&info, c, size + UTXO_HASH_BYTES - 1, NULL) == UTXO_OK)
        abort();
    if (utxo_checkpoint_info_get(&info, c, size + UTXO_HASH_BYTES, NULL) != UTXO_OK)
        goto out;
    int rc = prove(c, size + UTXO_HASH_BYTES, &a, &f1, &r1);
    if (rc == UTXO_OK) {
        if (a.n == 0 || a.n > info.span || a.last_final != f1 || (!f1 && a.n != info.span))
            abort();
    } else if (rc < 150 && rc != UTXO_ERR_NOMEM && rc != UTXO_ERR_TOO_LARGE && rc != UTXO_ERR_IMAGE) {
        abort(); /* refused with a continuation code (150..199), or out of memory */
    }
    if (prove(c, size + UTXO_HASH_BYTES, &b, &f2, &r2) != rc || a.n != b.n ||
        memcmp(a.h, b.h, sizeof a.h) != 0 || f1 != f2 || memcmp(&r1, &r2, sizeof r1) != 0)
        abort();
out:
    free(c);
    return 0;
}
