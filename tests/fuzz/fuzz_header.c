/*
 * fuzz_header.c — libFuzzer target for the header decoder and signature
 * check. Run: tests/fuzz/fuzz_header tests/fuzz/corpus/header
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "utxo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    utxo_header h;
    uint8_t back[UTXO_HEADER_BYTES], pk[UTXO_PUBKEY_BYTES] = {0};
    size_t off;

    if (utxo_header_from_bytes(&h, data, size, &off) != UTXO_OK)
        return 0;
    utxo_header_to_bytes(&h, back);
    if (size != sizeof back || memcmp(back, data, size) != 0)
        abort();
    memcpy(pk, h.prev_hash, sizeof pk);
    (void)utxo_header_verify(&h, pk);
    return 0;
}
