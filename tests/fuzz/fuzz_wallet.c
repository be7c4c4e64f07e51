/*
 * fuzz_wallet.c — libFuzzer target for the wallet's decoders of untrusted
 * text and bytes. The first byte selects:
 *   0  an address (the rest as a string): a decoded address re-encodes to
 *      the same string, lowercased;
 *   1  multisig arguments for n = (second byte % 16) + 1 keys: parsed
 *      arguments re-encode to the same bytes;
 *   2  a predicate image: one recognised as a standard instance is rebuilt
 *      from its kind and parameters byte for byte.
 * Run: tests/fuzz/fuzz_wallet tests/fuzz/corpus/wallet
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "utxo.h"
#include "predicates/stdpred.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_address(const uint8_t *p, size_t n)
{
    char s[128], back[UTXO_ADDRESS_LEN + 1];
    uint8_t id[UTXO_HASH_BYTES];

    if (n >= sizeof s)
        n = sizeof s - 1;
    memcpy(s, p, n);
    s[n] = '\0';
    if (utxo_address_decode(id, s) != UTXO_OK)
        return;
    if (utxo_address_encode(back, id) != UTXO_OK || strlen(s) != UTXO_ADDRESS_LEN)
        abort();
    for (size_t i = 0; i < UTXO_ADDRESS_LEN; i++) {
        char c = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
        if (c != back[i])
            abort();
    }
}

static void fuzz_multisig(const uint8_t *p, size_t n)
{
    uint8_t sigs[16][UTXO_SIG_BYTES], out[4 + 16 * UTXO_SIG_BYTES];
    uint32_t present;
    unsigned keys;
    size_t w;

    if (n < 1)
        return;
    keys = (p[0] % 16u) + 1;
    if (utxo_std_multisig_args_parse(&present, sigs, keys, p + 1, n - 1) != UTXO_OK)
        return;
    if (utxo_std_multisig_args(out, sizeof out, &w, present, (const uint8_t(*)[64])sigs, keys) !=
            UTXO_OK ||
        w != n - 1 || memcmp(out, p + 1, w) != 0)
        abort();
}

static void fuzz_identify(const uint8_t *p, size_t n)
{
    uint8_t params[600], *img = NULL;
    size_t pl = 0, il = 0;
    int kind;

    if (utxo_std_identify(&kind, params, sizeof params, &pl, p, n) != UTXO_OK)
        return;
    if (stdpred_instance(kind, params, pl, &img, &il) != UTXO_OK || il != n ||
        memcmp(img, p, n) != 0)
        abort();
    free(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] % 3) {
    case 0:
        fuzz_address(data + 1, size - 1);
        break;
    case 1:
        fuzz_multisig(data + 1, size - 1);
        break;
    default:
        fuzz_identify(data + 1, size - 1);
        break;
    }
    return 0;
}
