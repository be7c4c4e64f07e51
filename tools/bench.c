/*
 * bench.c — the `utxo bench` dispatcher and the encoding benchmark.
 *
 * bench encode: transactions encoded then strictly decoded per second, and
 * the same bytes copied with memcpy (encode+decode touch every byte once
 * each way; memcpy is the floor). ratio = codec time / memcpy time.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "utxo.h"
#include "bench.h"
#include "commands.h"
#include "util.h"

static const cli_sub benches[] = {
    {"encode", bench_encode, "transactions encoded+decoded per second vs memcpy of the same bytes"},
    {"segments", bench_segments, "continuations: prove and verify vs plain run, parallel speed-up, witness bytes, peak memory"},
    {"vm", bench_vm, "RV32IM machine (interpreter, jit): instructions per second, metered, vs the same C native and qemu-riscv32"},
    {"stateless", bench_stateless, "accumulator: state bytes, proof bytes per input, verify vs raw hashing"},
    {"wallet", bench_wallet, "wallet: proof update per block vs the validator's own work, sync vs validation"},
    {"history", bench_history, "a history verified in K ranges as parallel processes vs one sequential verification"},
    {"node", bench_node, "the node over HTTP: follow vs verify, POST /tx vs the mempool, proof latency, peak memory"},
    {"replay", bench_replay, "full node: replay tx/s into the SQLite store vs bare SQLite and Ed25519 x threads"},
    {"tx", bench_tx, "compact spends: input, witness and tx bytes per form; history and bundle bytes full vs compact"},
};

static void bench_usage(FILE *f)
{
    fprintf(f, "Usage: utxo bench NAME [OPTIONS]\n\n");
    cli_list(f, "benchmarks:", benches, sizeof benches / sizeof benches[0]);
    fprintf(f,
            "\nEach prints lines `bench NAME FIELD=VALUE ...` with a ratio against a\n"
            "baseline measured in the same run (`short` instead when the run was too\n"
            "short to compare; exit 1 and the reason when a check failed);\n"
            "`utxo bench NAME --help` lists its options.\n"
            "\nexample:\n  utxo bench encode\n");
}

int cmd_bench(int argc, char **argv)
{
    return cli_dispatch("bench", bench_usage, benches, sizeof benches / sizeof benches[0], argc,
                        argv);
}

static void encode_usage(FILE *f)
{
    fprintf(f, "Usage: utxo bench encode [--iters N]\n"
               "\n"
               "Encodes and strictly decodes a typical payment N times (default 20000)\n"
               "and copies its bytes as often with memcpy; ratio_to_memcpy compares them.\n"
               "\nexample:\n  utxo bench encode --iters 50000\n");
}

/* A typical payment: 2 inputs with a 2 KiB image and a 64-byte signature,
 * 2 outputs with a small datum. */
static utxo_tx *sample_tx(void)
{
    uint8_t image[2048], args[64], id[UTXO_HASH_BYTES], datum[16];
    utxo_tx *tx = utxo_tx_new();

    if (tx == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof image; i++)
        image[i] = (uint8_t)(i * 7 + 3);
    memset(args, 0xa5, sizeof args);
    memset(datum, 0x11, sizeof datum);
    for (uint32_t i = 0; i < 2; i++) {
        utxo_outpoint op;
        memset(op.txid, (int)(i + 1), sizeof op.txid);
        op.index = i;
        memset(id, (int)(0x40 + i), sizeof id);
        if (utxo_tx_add_input(tx, &op, 100000, image, sizeof image, args, sizeof args) ||
            utxo_tx_add_output(tx, 5000 + i, id, datum, sizeof datum)) {
            utxo_tx_free(tx);
            return NULL;
        }
    }
    return tx;
}

int bench_encode(int argc, char **argv)
{
    uint64_t iters = 20000, t0, t_codec, t_copy;
    uint8_t *buf = NULL, *copy = NULL;
    size_t len, written;
    utxo_tx *tx;
    volatile uint8_t sink = 0;
    int rc = EXIT_USAGE;

    static const struct option opts[] = {
        {"iters", required_argument, NULL, 'i'}, CLI_HELP_OPTION, {NULL, 0, NULL, 0},
    };
    cli cl = CLI_INIT("bench encode", encode_usage, "", opts);
    int c;

    while ((c = cli_next(&cl, argc, argv)) != -1) {
        if (c == CLI_STOP)
            return cl.status;
        if (c == 'i' && !cli_u64(&cl, 1, UINT64_MAX, &iters))
            return EXIT_USAGE;
    }
    if ((c = cli_operands(&cl, argc, argv, 0, 0, "")) != 0)
        return c;
    tx = sample_tx();
    len = tx ? utxo_tx_get_length(tx, true) : 0;
    buf = malloc(len);
    copy = malloc(len);
    if (tx == NULL || buf == NULL || copy == NULL) {
        errorf("out of memory");
        goto done;
    }
    t0 = clock_now_ns();
    for (uint64_t i = 0; i < iters; i++) {
        utxo_tx *back = NULL;
        if (utxo_tx_to_bytes(tx, buf, len, &written) != UTXO_OK ||
            utxo_tx_from_bytes(&back, buf, written, NULL, NULL) != UTXO_OK) {
            errorf("bench encode: round trip failed");
            goto done;
        }
        sink ^= back->outputs[0].predicate_id[0];
        utxo_tx_free(back);
    }
    t_codec = clock_now_ns() - t0;
    t0 = clock_now_ns();
    for (uint64_t i = 0; i < iters; i++) {
        /* two copies: one for each direction of the round trip */
        memcpy(copy, buf, len);
        buf[i % len] ^= copy[(i * 31) % len];
        memcpy(buf, copy, len);
        sink ^= buf[(i * 17) % len];
    }
    t_copy = clock_now_ns() - t0;
    if (t_codec == 0)
        t_codec = 1;
    if (t_copy == 0)
        t_copy = 1;
    printf("bench encode tx_bytes=%zu iters=%llu txs_per_sec=%.0f mib_per_sec=%.1f "
           "memcpy_mib_per_sec=%.1f ratio_to_memcpy=%.2f\n",
           len, (unsigned long long)iters, (double)iters * 1e9 / (double)t_codec,
           (double)iters * (double)len * 1e9 / (double)t_codec / 1048576.0,
           (double)iters * (double)len * 1e9 / (double)t_copy / 1048576.0,
           (double)t_codec / (double)t_copy);
    (void)sink;
    rc = EXIT_VALID;
done:
    free(buf);
    free(copy);
    utxo_tx_free(tx);
    return rc;
}
