/*
 * fuzz_params.c — libFuzzer target for the consensus-parameter decoder.
 * Run: tests/fuzz/fuzz_params tests/fuzz/corpus/params
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "utxo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    utxo_params p;
    uint8_t back[UTXO_PARAMS_BYTES];
    size_t off;

    if (utxo_params_from_bytes(&p, data, size, &off) != UTXO_OK)
        return 0;
    utxo_params_to_bytes(back, &p);
    if (size != sizeof back || memcmp(back, data, size) != 0)
        abort();
    return 0;
}
