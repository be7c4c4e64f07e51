/*
 * fuzz_block.c — libFuzzer target for the block decoder and the
 * context-free block rules. Run: tests/fuzz/fuzz_block tests/fuzz/corpus/block
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "utxo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    utxo_block *b = NULL;
    size_t off = 0, n, w;
    uint8_t *back, root[UTXO_HASH_BYTES];
    uint32_t bt, bi;

    if (utxo_block_from_bytes(&b, data, size, NULL, &off) != UTXO_OK) {
        if (b != NULL || off > size)
            abort();
        return 0;
    }
    n = utxo_block_get_length(b);
    back = malloc(n);
    if (n != size || back == NULL || utxo_block_to_bytes(b, back, n, &w) != UTXO_OK ||
        memcmp(back, data, size) != 0)
        abort();
    (void)utxo_block_check(b, NULL, &bt, &bi);
    (void)utxo_block_tx_root(b, root);
    free(back);
    utxo_block_free(b);
    return 0;
}
