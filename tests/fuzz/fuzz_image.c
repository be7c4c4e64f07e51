/*
 * fuzz_image.c — libFuzzer target for the predicate image and ELF decoders.
 * The first byte chooses the decoder: even = canonical image, odd = ELF
 * executable; the rest is the input. Anything that decodes must re-encode
 * to the same bytes (images) or give a valid image (ELF), and is then run
 * under a small budget with a few argument bytes: the host must never
 * crash, hang or leak, whatever the program does.
 * Run: tests/fuzz/fuzz_image tests/fuzz/corpus/image
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "utxo.h"
#include "predicates/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_BUDGET 20000u

static void run_image(const uint8_t *img, size_t len)
{
    static const uint8_t args[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    utxo_vm_result r;

    if (utxo_predicate_run(&r, img, len, args, sizeof args, NULL, FUZZ_BUDGET) != UTXO_OK)
        abort(); /* a valid image always runs */
    if (r.cycles > FUZZ_BUDGET)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *img = NULL;
    size_t len = 0, off = 0;
    img_view v;

    if (size < 1)
        return 0;
    if ((data[0] & 1) == 0) {
        if (img_view_decode(&v, data + 1, size - 1, &off) != UTXO_OK) {
            if (off > size - 1)
                abort();
            return 0;
        }
        if (img_encode(&img, &len, v.entry, v.segs, v.n_segs) != UTXO_OK || len != size - 1 ||
            memcmp(img, data + 1, len) != 0)
            abort(); /* one encoding per image */
        free(img);
        run_image(data + 1, size - 1);
        return 0;
    }
    if (img_from_elf(&img, &len, data + 1, size - 1, &off) != UTXO_OK) {
        if (img != NULL || off > size - 1)
            abort();
        return 0;
    }
    if (utxo_image_validate(img, len, NULL) != UTXO_OK)
        abort();
    run_image(img, len);
    free(img);
    return 0;
}
