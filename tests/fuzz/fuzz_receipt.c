/*
 * fuzz_receipt.c — libFuzzer target for the segment receipt decoder and
 * verifier (src/prover/receipt.c, segment_verify.c). Run:
 *   tests/fuzz/fuzz_receipt tests/fuzz/corpus/receipt
 *
 * The input is an encoded receipt. Beyond "no crash, no leak, no UB" it
 * asserts: a decoded receipt's bytes are the input; decoding is strict (the
 * input minus its last byte never decodes); verifying twice gives the same
 * verdict and the same digests (the verifier keeps no state between
 * receipts); an accepted receipt's post digest is the one it claims, and
 * a final one's outcome is the one it claims. Receipts carry po2 <= 24, so
 * one input costs at most 2^24 interpreted cycles.
 *
 * Seeds (tests/fuzz/corpus/receipt): receipts of short runs of
 * tests/segments/work.img at po2 10, written by `utxo segments prove`.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "prover/receipt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    utxo_receipt *r = NULL, *shorter = NULL;
    utxo_receipt_check a, b;
    size_t len;

    if (utxo_receipt_from_bytes(&r, data, size, NULL) != UTXO_OK) {
        if (r != NULL)
            abort();
        return 0;
    }
    const uint8_t *bytes = utxo_receipt_bytes(r, &len);
    if (len != size || memcmp(bytes, data, size) != 0)
        abort();
    if (size > 0 && utxo_receipt_from_bytes(&shorter, data, size - 1, NULL) == UTXO_OK)
        abort();
    int ra = utxo_receipt_verify(&a, r, NULL);
    int rb = utxo_receipt_verify(&b, r, NULL);
    if (ra != rb || memcmp(&a, &b, sizeof a) != 0)
        abort();
    if (ra == UTXO_OK) {
        if (memcmp(a.post_digest, r->post_digest, UTXO_HASH_BYTES) != 0 || a.final != r->final)
            abort();
        if (a.final && memcmp(&a.outcome, &r->outcome, sizeof a.outcome) != 0)
            abort();
    }
    utxo_receipt_free(r);
    return 0;
}
