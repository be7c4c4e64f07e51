/*
 * fuzz_hostcall.c — libFuzzer target for the host calls (src/predicates/
 * hostcall.c) with a real transaction context: two inputs (one spending an
 * output with a datum), three outputs with datums, a height and a sighash,
 * as a validator gives them. Run:
 *   tests/fuzz/fuzz_hostcall tests/fuzz/corpus/hostcall
 *
 * Input: byte 0 picks the spending input (bit 0) and the argument length
 * (the next bits, bytes taken from the end of the input); then records of
 * 18 bytes, each one host call: number (u8), argument modes (u8: two bits
 * per a0..a3), a0..a3 (u32 little-endian each). A mode maps a raw value
 * into a useful range: 0 as is, 1 a stack address (0x7fff0000 + low 16
 * bits), 2 an argument address (0x80000000 + low 8 bits), 3 a small number
 * (low 9 bits: lengths, indices, offsets). The calls are assembled into a
 * program (li a0..a3, li a7, ecall each, then halt) and run on a fresh
 * machine under a 2^20-cycle budget with the default page cost. Oracles:
 * no crash, leak or UB, and determinism: the same program run again gives
 * the same result.
 *
 * Seeds (tests/fuzz/corpus/hostcall): one call of each kind with arguments
 * that succeed (SIGHASH, INPUT, OUTPUT_DATUM, BLAKE2B over the stack, ...).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "utxo.h"
#include "predicates/vm.h"
#include "../vm_asm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REC 18u
#define MAX_CALLS 64u

static utxo_tx *TX;
static utxo_output SPENT[2];
static uint8_t SPENT_DATUM[40];
static vm *V;

static void init(void)
{
    uint8_t id[UTXO_HASH_BYTES], datum[20];
    utxo_outpoint op;

    TX = utxo_tx_new();
    V = vm_new();
    if (TX == NULL || V == NULL)
        abort();
    for (uint32_t i = 0; i < 2; i++) {
        memset(op.txid, 0x10 + (int)i, sizeof op.txid);
        op.index = 7 + i;
        if (utxo_tx_add_input(TX, &op, 1000, (const uint8_t *)"img", 3, NULL, 0) != UTXO_OK)
            abort();
    }
    for (uint32_t i = 0; i < 3; i++) {
        memset(id, 0x40 + (int)i, sizeof id);
        for (uint32_t k = 0; k < sizeof datum; k++)
            datum[k] = (uint8_t)(i * 50 + k);
        if (utxo_tx_add_output(TX, 500 + i, id, datum, i == 1 ? 0 : 5 + 5 * i) != UTXO_OK)
            abort();
    }
    for (uint32_t k = 0; k < sizeof SPENT_DATUM; k++)
        SPENT_DATUM[k] = (uint8_t)(0xa0 + k);
    SPENT[0].value = UINT64_C(0x0102030405060708);
    memset(SPENT[0].predicate_id, 0x77, UTXO_HASH_BYTES);
    SPENT[1].value = 99;
    memset(SPENT[1].predicate_id, 0x88, UTXO_HASH_BYTES);
    SPENT[1].datum = SPENT_DATUM;
    SPENT[1].datum_len = sizeof SPENT_DATUM;
}

static uint32_t map_arg(uint32_t raw, unsigned mode)
{
    switch (mode & 3u) {
    case 1: return 0x7fff0000u + (raw & 0xffffu);
    case 2: return UTXO_ABI_ARGS_BASE + (raw & 0xffu);
    case 3: return raw & 0x1ffu;
    default: return raw;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t regs[4] = {A0, A1, A2, A3};
    asm_buf b = {NULL, 0, 0};
    utxo_txctx ctx;
    utxo_vm_result r1, r2;
    vm_program *p;
    uint8_t chain[UTXO_HASH_BYTES];
    size_t n_calls, args_len;

    if (TX == NULL)
        init();
    if (size < 1)
        return 0;
    args_len = (size_t)(data[0] >> 1);
    if (args_len > size - 1)
        args_len = size - 1;
    n_calls = (size - 1 - args_len) / REC;
    if (n_calls > MAX_CALLS)
        n_calls = MAX_CALLS;
    for (size_t c = 0; c < n_calls; c++) {
        const uint8_t *q = data + 1 + c * REC;
        for (unsigned k = 0; k < 4; k++) {
            const uint8_t *w = q + 2 + 4 * k;
            uint32_t raw = (uint32_t)w[0] | (uint32_t)w[1] << 8 | (uint32_t)w[2] << 16 |
                           (uint32_t)w[3] << 24;
            asm_li(&b, regs[k], map_arg(raw, (unsigned)q[1] >> (2 * k)));
        }
        asm_li(&b, A7, q[0]);
        asm_emit(&b, ECALL());
    }
    asm_li(&b, A0, 0);
    asm_halt(&b);
    if ((p = asm_program(&b)) == NULL)
        abort();
    memset(&ctx, 0, sizeof ctx);
    memset(chain, 0x33, sizeof chain);
    ctx.tx = TX;
    ctx.input_index = data[0] & 1u;
    ctx.spent = SPENT;
    ctx.height = 123456;
    utxo_tx_sighash(TX, chain, ctx.sighash);
    const uint8_t *args = data + size - args_len;
    if (vm_run(V, p, args, (uint32_t)args_len, &ctx, UINT64_C(1) << 20, &r1) != UTXO_OK ||
        vm_run(V, p, args, (uint32_t)args_len, &ctx, UINT64_C(1) << 20, &r2) != UTXO_OK)
        abort();
    if (memcmp(&r1, &r2, sizeof r1) != 0)
        abort();
    vm_program_free(p);
    asm_free(&b);
    return 0;
}
