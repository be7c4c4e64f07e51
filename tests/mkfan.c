/*
 * mkfan.c — the helper of tests/utxos_pages.sh: writes chained fan-out
 * transactions, each spending the one before's output 0 (the first spends
 * TXID:INDEX), all locked by the predicate image IMG and unlocked by it with
 * no arguments (an image that accepts). Each pays VALUE less FEE less the
 * fan-out back to IMG's id as output 0, and NOUT outputs of 1000 with a
 * DATUM-byte datum (every byte 0xab) to the predicate id TARGET. With
 * BUDGET and ARGS (hex), each input carries that cycle budget (default
 * 1000) and those witness arguments (default none).
 *
 *   mkfan IMG TXID:INDEX VALUE FEE NTX NOUT DATUM TARGET OUTPREFIX [BUDGET ARGS]
 *
 * writes OUTPREFIX00.tx, OUTPREFIX01.tx ... (canonical bytes).
 */
#include "config.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "utxo.h"

static int die(const char *what)
{
    fprintf(stderr, "mkfan: %s\n", what);
    return 1;
}

int main(int argc, char **argv)
{
    static uint8_t img[1 << 16], args[1 << 10];
    uint8_t id[UTXO_HASH_BYTES], target[UTXO_HASH_BYTES], *datum;
    utxo_outpoint op;
    size_t il, got = 0, al = 0;
    uint64_t budget = 1000;
    FILE *f;

    if (argc != 10 && argc != 12)
        return die("usage: mkfan IMG TXID:INDEX VALUE FEE NTX NOUT DATUM TARGET OUTPREFIX "
                   "[BUDGET ARGS]");
    if (argc == 12) {
        budget = strtoull(argv[10], NULL, 10);
        if (sodium_hex2bin(args, sizeof args, argv[11], strlen(argv[11]), NULL, &al, NULL) != 0)
            return die("ARGS");
    }
    if ((f = fopen(argv[1], "rb")) == NULL)
        return die("cannot read IMG");
    il = fread(img, 1, sizeof img, f);
    fclose(f);
    memset(&op, 0, sizeof op);
    if (strlen(argv[2]) < 66 || argv[2][64] != ':' ||
        sodium_hex2bin(op.txid, sizeof op.txid, argv[2], 64, NULL, &got, NULL) != 0 ||
        got != sizeof op.txid)
        return die("TXID:INDEX");
    op.index = (uint32_t)strtoul(argv[2] + 65, NULL, 10);
    uint64_t value = strtoull(argv[3], NULL, 10), fee = strtoull(argv[4], NULL, 10);
    int ntx = atoi(argv[5]), nout = atoi(argv[6]);
    size_t dl = (size_t)atoi(argv[7]);
    if (sodium_hex2bin(target, sizeof target, argv[8], strlen(argv[8]), NULL, &got, NULL) != 0 ||
        got != sizeof target)
        return die("TARGET");
    if ((datum = malloc(dl ? dl : 1)) == NULL)
        return die("out of memory");
    memset(datum, 0xab, dl);
    utxo_predicate_id(id, img, il);
    for (int t = 0; t < ntx; t++) {
        utxo_tx *tx = utxo_tx_new();
        uint64_t change = value - fee - (uint64_t)nout * 1000;
        char path[4096];
        size_t n, w = 0;
        uint8_t *out;

        if (tx == NULL || value < fee + (uint64_t)nout * 1000)
            return die("value too small");
        if (utxo_tx_add_input(tx, &op, budget, img, (uint32_t)il, al ? args : NULL,
                              (uint32_t)al) != UTXO_OK ||
            utxo_tx_add_output(tx, change, id, NULL, 0) != UTXO_OK)
            return die("cannot build");
        for (int o = 0; o < nout; o++)
            if (utxo_tx_add_output(tx, 1000, target, datum, (uint32_t)dl) != UTXO_OK)
                return die("cannot add an output");
        n = utxo_tx_get_length(tx, true);
        if ((out = malloc(n)) == NULL || utxo_tx_to_bytes(tx, out, n, &w) != UTXO_OK)
            return die("cannot encode");
        snprintf(path, sizeof path, "%s%02d.tx", argv[9], t);
        if ((f = fopen(path, "wb")) == NULL || fwrite(out, 1, w, f) != w || fclose(f) != 0)
            return die("cannot write");
        utxo_tx_txid(tx, op.txid);
        op.index = 0;
        value = change;
        free(out);
        utxo_tx_free(tx);
    }
    free(datum);
    return 0;
}
