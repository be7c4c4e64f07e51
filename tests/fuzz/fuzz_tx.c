/*
 * fuzz_tx.c — libFuzzer target for the transaction decoder. Anything that
 * decodes must re-encode to the same bytes, pass or fail the rules without
 * crashing, and hash. Run: tests/fuzz/fuzz_tx tests/fuzz/corpus/tx
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "utxo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    utxo_tx *tx = NULL;
    size_t off = 0, n, w;
    uint8_t *back, id[UTXO_HASH_BYTES];

    if (utxo_tx_from_bytes(&tx, data, size, NULL, &off) != UTXO_OK) {
        if (tx != NULL || off > size)
            abort();
        return 0;
    }
    n = utxo_tx_get_length(tx, true);
    back = malloc(n);
    if (n != size || back == NULL || utxo_tx_to_bytes(tx, back, n, &w) != UTXO_OK ||
        w != size || memcmp(back, data, size) != 0)
        abort(); /* decode(encode(x)) must be the identity */
    (void)utxo_tx_check(tx, NULL, NULL);
    (void)utxo_tx_min_fee(tx, NULL);
    utxo_tx_txid(tx, id);
    utxo_tx_wtxid(tx, id);
    free(back);
    utxo_tx_free(tx);
    return 0;
}
