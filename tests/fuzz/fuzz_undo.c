/*
 * fuzz_undo.c — libFuzzer target for the store's undo record decoder
 * (src/sqlstore/apply.c, docs/STORE.md "Undo record"): any input either
 * fails cleanly or decodes to entries that encode back to exactly the
 * input (the record has one encoding).
 * Run: tests/fuzz/fuzz_undo tests/fuzz/corpus/undo
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "sqlstore/store_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    store_spent *v = NULL;
    uint8_t *back = NULL;
    size_t n = 0, len = 0;

    if (store_undo_decode(data, size, &v, &n) != UTXO_OK) {
        if (v != NULL || n != 0)
            abort();
        return 0;
    }
    if (store_undo_encode(v, n, &back, &len) != UTXO_OK || len != size ||
        memcmp(back, data, size) != 0)
        abort();
    free(back);
    free(v);
    return 0;
}
