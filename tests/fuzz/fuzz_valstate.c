/*
 * fuzz_valstate.c — libFuzzer target for the stateless validator's state
 * decoder (utxo_validator_from_state, src/prover/stateless.c; the format is
 * in docs/STATELESS.md). Run:
 *   tests/fuzz/fuzz_valstate tests/fuzz/corpus/valstate
 *
 * The input is consensus parameters (108 bytes, docs/ENCODING.md) followed
 * by a state file's bytes for that chain (inputs whose parameters do not
 * decode are skipped). Beyond "no crash, no leak, no UB" it asserts: a decoded state re-encodes
 * to exactly the input (one encoding per state); the input minus its last
 * byte never decodes; a refused input leaves no validator behind.
 *
 * Seeds (tests/fuzz/corpus/valstate): the parameters of a tests/mkchain
 * chain and the state `utxo verify --state` wrote after 1 and 6 blocks.
 * The decoder fuzzed is whatever utxo_validator_from_state decodes (a magic,
 * version and checksum, when the state file has them, are part of it).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "utxo.h"
#include "utxo/stateless.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    utxo_params p;
    utxo_validator *v = NULL, *shorter = NULL;
    uint8_t out[UTXO_VALIDATOR_STATE_MAX_BYTES];
    size_t n, w = 0, off = 0;

    if (size < UTXO_PARAMS_BYTES ||
        utxo_params_from_bytes(&p, data, UTXO_PARAMS_BYTES, NULL) != UTXO_OK)
        return 0;
    data += UTXO_PARAMS_BYTES;
    size -= UTXO_PARAMS_BYTES;
    if (utxo_validator_from_state(&v, &p, data, size, 1, &off) != UTXO_OK) {
        if (v != NULL || off > size)
            abort();
        return 0;
    }
    n = utxo_validator_state_get_length(v);
    if (n != size || n > sizeof out ||
        utxo_validator_state_to_bytes(v, out, sizeof out, &w) != UTXO_OK || w != size ||
        memcmp(out, data, size) != 0)
        abort();
    if (size > 0 && utxo_validator_from_state(&shorter, &p, data, size - 1, 1, NULL) == UTXO_OK)
        abort();
    utxo_validator_free(v);
    return 0;
}
