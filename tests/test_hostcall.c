/*
 * test_hostcall.c — the host calls of include/utxo/abi.h (hostcall.c), each
 * run from a small guest program assembled in the test (tests/vm_asm.h, no
 * RISC-V toolchain needed): results against libsodium / GMP computed here,
 * record layouts byte by byte, exact cycle costs from the published
 * constants, and every bound: pointers at the end of memory or in the null
 * guard, lengths that overflow, indices past the end, oversized operands,
 * budgets that run out inside a call, calls that need a transaction
 * without one. The machine charges the consensus page cost
 * (UTXO_ABI_PAGE_CYCLES), so the exact counts include one page charge per
 * fresh page a call writes (argument pages, filled by the loader, are free).
 */
#include "config.h"

#include <gmp.h>
#include <sodium.h>
#include "testutil.h"
#include "vm_asm.h"
#include "predicates/hostcall.h"

#define SCRATCH 0x00200000u /* demand-zero guest memory for results */
#define PAGE UTXO_ABI_PAGE_CYCLES /* charge for each fresh page touched */

static vm *V;

static vm *the_vm(void)
{
    if (!V)
        V = vm_new();
    ck_assert_ptr_nonnull(V);
    return V;
}

/* a0..a3 = x0..x3, a7 = num, ecall: 11 instructions. */
static void emit_call(asm_buf *b, uint32_t num, uint32_t x0, uint32_t x1, uint32_t x2, uint32_t x3)
{
    asm_li(b, A0, x0);
    asm_li(b, A1, x1);
    asm_li(b, A2, x2);
    asm_li(b, A3, x3);
    asm_emit(b, ADDI(A7, ZERO, (int32_t)num));
    asm_emit(b, ECALL());
}
#define CALL_INSNS 10u

/* Appends halt(a0) and runs; the vm keeps the final memory for inspection. */
static utxo_vm_result run(asm_buf *b, const uint8_t *args, uint32_t args_len, const utxo_txctx *ctx,
                          uint64_t budget)
{
    utxo_vm_result r;
    vm_program *p;

    asm_halt(b);
    p = asm_program(b);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(vm_run(the_vm(), p, args, args_len, ctx, budget, &r), UTXO_OK);
    vm_program_free(p);
    asm_free(b);
    return r;
}

static void guest_read(uint32_t addr, void *dst, uint32_t len)
{
    ck_assert_int_eq(vm_mem_read(the_vm(), addr, dst, len), 0);
}

#define ck_failed(r, why)                                   \
    do {                                                    \
        utxo_vm_result res_ = (r);                          \
        ck_assert_int_eq(res_.status, UTXO_VM_FAILED);      \
        ck_assert_int_eq(res_.fail, (why));                 \
    } while (0)
#define ck_exit(r, code)                                    \
    do {                                                    \
        utxo_vm_result res_ = (r);                          \
        ck_assert_int_ne(res_.status, UTXO_VM_FAILED);      \
        ck_assert_uint_eq(res_.exit_code, (code));          \
    } while (0)

/* ---- a transaction context ----------------------------------------------- */
typedef struct fixture {
    utxo_tx *tx;
    utxo_output spent[2];
    uint8_t spent_datum[40];
    utxo_txctx ctx;
} fixture;

static void fixture_init(fixture *f)
{
    uint8_t id[UTXO_HASH_BYTES], chain[UTXO_HASH_BYTES], datum[20];
    utxo_outpoint op;

    memset(f, 0, sizeof *f);
    f->tx = utxo_tx_new();
    ck_assert_ptr_nonnull(f->tx);
    for (uint32_t i = 0; i < 2; i++) {
        memset(op.txid, 0x10 + (int)i, sizeof op.txid);
        op.index = 7 + i;
        ck_assert_int_eq(utxo_tx_add_input(f->tx, &op, 1000, (const uint8_t *)"img", 3, NULL, 0), UTXO_OK);
    }
    for (uint32_t i = 0; i < 3; i++) {
        memset(id, 0x40 + (int)i, sizeof id);
        for (uint32_t k = 0; k < sizeof datum; k++)
            datum[k] = (uint8_t)(i * 50 + k);
        ck_assert_int_eq(utxo_tx_add_output(f->tx, 500 + i, id, datum, i == 1 ? 0 : 5 + 5 * i), UTXO_OK);
    }
    for (uint32_t k = 0; k < sizeof f->spent_datum; k++)
        f->spent_datum[k] = (uint8_t)(0xa0 + k);
    f->spent[0].value = UINT64_C(0x0102030405060708);
    memset(f->spent[0].predicate_id, 0x77, UTXO_HASH_BYTES);
    f->spent[1].value = 99;
    memset(f->spent[1].predicate_id, 0x88, UTXO_HASH_BYTES);
    f->spent[1].datum = f->spent_datum;
    f->spent[1].datum_len = sizeof f->spent_datum;
    memset(chain, 0x33, sizeof chain);
    f->ctx.tx = f->tx;
    f->ctx.input_index = 1;
    f->ctx.spent = f->spent;
    f->ctx.height = 123456;
    utxo_tx_sighash(f->tx, chain, f->ctx.sighash);
}

static void fixture_free(fixture *f)
{
    utxo_tx_free(f->tx);
}

/* ---- control, arguments -------------------------------------------------- */

START_TEST(halt_cost_is_exact)
{
    asm_buf b = {0};
    utxo_vm_result r;

    asm_li(&b, A0, 7);
    r = run(&b, NULL, 0, NULL, 1000);
    ck_assert_int_eq(r.status, UTXO_VM_REJECTED);
    ck_assert_uint_eq(r.exit_code, 7);
    /* li (2) + addi a7 + ecall, plus the call's cost */
    ck_assert_uint_eq(r.cycles, 4 + UTXO_COST_HOSTCALL);

    asm_li(&b, A0, 0);
    r = run(&b, NULL, 0, NULL, 4 + UTXO_COST_HOSTCALL);
    ck_assert_int_eq(r.status, UTXO_VM_ACCEPTED);
    /* one cycle short: the halt cannot be paid for */
    asm_li(&b, A0, 0);
    r = run(&b, NULL, 0, NULL, 3 + UTXO_COST_HOSTCALL);
    ck_failed(r, UTXO_VM_FAIL_OUT_OF_CYCLES);
    ck_assert_uint_eq(r.cycles, 3 + UTXO_COST_HOSTCALL);
}
END_TEST

START_TEST(unknown_call_fails)
{
    uint32_t nums[] = {UTXO_HC_COUNT, 100, 0xfff, 0x7ff};
    for (unsigned i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        asm_buf b = {0};
        asm_li(&b, A7, nums[i]);
        asm_emit(&b, ECALL());
        ck_failed(run(&b, NULL, 0, NULL, 1000), UTXO_VM_FAIL_BAD_HOSTCALL);
    }
}
END_TEST

START_TEST(args_len_and_read)
{
    uint8_t args[300], got[300];
    asm_buf b = {0};
    utxo_vm_result r;

    for (unsigned i = 0; i < sizeof args; i++)
        args[i] = (uint8_t)(i * 3 + 1);
    emit_call(&b, UTXO_HC_ARGS_LEN, 0, 0, 0, 0);
    r = run(&b, args, sizeof args, NULL, 10000);
    ck_exit(r, 300);

    /* read 200 bytes from offset 100, across a page boundary of the guest */
    emit_call(&b, UTXO_HC_ARGS_READ, SCRATCH + 1000, 100, 200, 0);
    asm_li(&b, A0, 0);
    r = run(&b, args, sizeof args, NULL, 10000);
    ck_exit(r, 0);
    /* ... the call writes two fresh pages: two page charges */
    ck_assert_uint_eq(r.cycles, CALL_INSNS + 4 + 2 * UTXO_COST_HOSTCALL + (200 + 7) / 8 + 2 * PAGE);
    guest_read(SCRATCH + 1000, got, 200);
    ck_assert_mem_eq(got, args + 100, 200);

    /* the argument bytes are also mapped at UTXO_ABI_ARGS_BASE */
    guest_read(UTXO_ABI_ARGS_BASE, got, sizeof args);
    ck_assert_mem_eq(got, args, sizeof args);

    /* ranges past the arguments, with and without u32 overflow */
    emit_call(&b, UTXO_HC_ARGS_READ, SCRATCH, 100, 201, 0);
    ck_failed(run(&b, args, sizeof args, NULL, 10000), UTXO_VM_FAIL_BAD_HOSTCALL);
    emit_call(&b, UTXO_HC_ARGS_READ, SCRATCH, 0xffffffffu, 2, 0);
    ck_failed(run(&b, args, sizeof args, NULL, 10000), UTXO_VM_FAIL_BAD_HOSTCALL);
    emit_call(&b, UTXO_HC_ARGS_READ, SCRATCH, 1, 0xffffffffu, 0);
    ck_failed(run(&b, args, sizeof args, NULL, 10000), UTXO_VM_FAIL_BAD_HOSTCALL);
    /* destination wraps past 2^32, or lies in the null guard */
    emit_call(&b, UTXO_HC_ARGS_READ, 0xfffffff0u, 0, 32, 0);
    ck_failed(run(&b, args, sizeof args, NULL, 10000), UTXO_VM_FAIL_BAD_ACCESS);
    emit_call(&b, UTXO_HC_ARGS_READ, 0x100, 0, 32, 0);
    ck_failed(run(&b, args, sizeof args, NULL, 10000), UTXO_VM_FAIL_BAD_ACCESS);
    /* a zero-length read at any address is fine */
    emit_call(&b, UTXO_HC_ARGS_READ, 0, 300, 0, 0);
    ck_exit(run(&b, args, sizeof args, NULL, 10000), 0);
    /* so is any zero-length source (PREDICATES.md: a range of 0 bytes is
     * never accessed): a hash of nothing at the null guard, a debug line of
     * nothing, an Ed25519 check of an empty message (an answer: invalid) */
    emit_call(&b, UTXO_HC_BLAKE2B, 0, 0, SCRATCH, 0);
    ck_exit(run(&b, args, sizeof args, NULL, 10000), 0);
    emit_call(&b, UTXO_HC_SHA256, 0, 0, SCRATCH, 0);
    ck_exit(run(&b, args, sizeof args, NULL, 10000), 0);
    emit_call(&b, UTXO_HC_DEBUG_LOG, 0, 0, 0, 0);
    ck_exit(run(&b, args, sizeof args, NULL, 10000), 0);
    emit_call(&b, UTXO_HC_ED25519, UTXO_ABI_ARGS_BASE, UTXO_ABI_ARGS_BASE, 0, 0);
    ck_exit(run(&b, args, sizeof args, NULL, 100000), 1);
}
END_TEST

/* ---- transaction introspection -------------------------------------------- */

/* utxo_txctx_init fills the context as the fixture does by hand: the
 * transaction, its spent outputs, the height, the sighash under the chain
 * id; input 0; and refuses what it cannot fill, leaving a zeroed context. */
START_TEST(txctx_init_fills_the_context)
{
    fixture f;
    utxo_txctx c, zero;
    uint8_t chain[UTXO_HASH_BYTES];
    utxo_tx *empty = utxo_tx_new();

    fixture_init(&f);
    memset(chain, 0x33, sizeof chain);
    memset(&zero, 0, sizeof zero);
    ck_assert_int_eq(utxo_txctx_init(&c, f.tx, f.spent, 123456, chain), UTXO_OK);
    ck_assert_ptr_eq(c.tx, f.tx);
    ck_assert_ptr_eq(c.spent, f.spent);
    ck_assert_uint_eq(c.height, 123456);
    ck_assert_uint_eq(c.input_index, 0);
    ck_assert_mem_eq(c.sighash, f.ctx.sighash, UTXO_HASH_BYTES);
    chain[0] ^= 1; /* the sighash commits to the chain */
    ck_assert_int_eq(utxo_txctx_init(&c, f.tx, f.spent, 1, chain), UTXO_OK);
    ck_assert_int_ne(memcmp(c.sighash, f.ctx.sighash, UTXO_HASH_BYTES), 0);
    ck_assert_int_eq(utxo_txctx_init(&c, f.tx, NULL, 1, chain), UTXO_ERR_ARG);
    ck_assert_mem_eq(&c, &zero, sizeof c);
    ck_assert_int_eq(utxo_txctx_init(&c, NULL, f.spent, 1, chain), UTXO_ERR_ARG);
    ck_assert_int_eq(utxo_txctx_init(&c, f.tx, f.spent, 1, NULL), UTXO_ERR_ARG);
    ck_assert_int_eq(utxo_txctx_init(NULL, f.tx, f.spent, 1, chain), UTXO_ERR_ARG);
    ck_assert_ptr_nonnull(empty); /* no inputs: no spent outputs needed */
    ck_assert_int_eq(utxo_txctx_init(&c, empty, NULL, 1, chain), UTXO_OK);
    utxo_tx_free(empty);
    fixture_free(&f);
}
END_TEST

START_TEST(tx_calls_need_a_tx)
{
    uint32_t nums[] = {UTXO_HC_SIGHASH, UTXO_HC_INPUT_INDEX, UTXO_HC_COUNTS, UTXO_HC_INPUT,
                       UTXO_HC_INPUT_DATUM, UTXO_HC_OUTPUT, UTXO_HC_OUTPUT_DATUM, UTXO_HC_HEIGHT};
    for (unsigned i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        asm_buf b = {0};
        emit_call(&b, nums[i], SCRATCH, SCRATCH, 0, 0);
        ck_failed(run(&b, NULL, 0, NULL, 10000), UTXO_VM_FAIL_BAD_HOSTCALL);
    }
}
END_TEST

START_TEST(tx_scalars)
{
    fixture f;
    asm_buf b = {0};
    uint8_t got[32];

    fixture_init(&f);
    emit_call(&b, UTXO_HC_INPUT_INDEX, 0, 0, 0, 0);
    ck_exit(run(&b, NULL, 0, &f.ctx, 10000), 1);
    emit_call(&b, UTXO_HC_HEIGHT, 0, 0, 0, 0);
    ck_exit(run(&b, NULL, 0, &f.ctx, 10000), 123456);
    emit_call(&b, UTXO_HC_COUNTS, 0, 0, 0, 0);
    ck_exit(run(&b, NULL, 0, &f.ctx, 10000), 2);
    emit_call(&b, UTXO_HC_COUNTS, 0, 0, 0, 0);
    asm_emit(&b, ADDI(A0, A1, 0));
    ck_exit(run(&b, NULL, 0, &f.ctx, 10000), 3);
    emit_call(&b, UTXO_HC_SIGHASH, SCRATCH + 1010, 0, 0, 0);
    asm_li(&b, A0, 0);
    ck_exit(run(&b, NULL, 0, &f.ctx, 10000), 0);
    guest_read(SCRATCH + 1010, got, 32);
    ck_assert_mem_eq(got, f.ctx.sighash, 32);
    fixture_free(&f);
}
END_TEST

START_TEST(input_and_output_records)
{
    fixture f;
    asm_buf b = {0};
    uint8_t rec[UTXO_ABI_INPUT_BYTES], want[UTXO_ABI_INPUT_BYTES];

    fixture_init(&f);
    for (uint32_t i = 0; i < 2; i++) {
        emit_call(&b, UTXO_HC_INPUT, i, SCRATCH, 0, 0);
        asm_li(&b, A0, 0);
        ck_exit(run(&b, NULL, 0, &f.ctx, 10000), 0);
        guest_read(SCRATCH, rec, UTXO_ABI_INPUT_BYTES);
        memset(want, 0, sizeof want);
        memcpy(want + UTXO_ABI_INPUT_TXID, f.tx->inputs[i].prevout.txid, 32);
        memcpy(want + UTXO_ABI_INPUT_PREDICATE_ID, f.spent[i].predicate_id, 32);
        for (int k = 0; k < 8; k++)
            want[UTXO_ABI_INPUT_VALUE + k] = (uint8_t)(f.spent[i].value >> (8 * k));
        want[UTXO_ABI_INPUT_VOUT] = (uint8_t)(7 + i);
        want[UTXO_ABI_INPUT_DATUM_LEN] = (uint8_t)f.spent[i].datum_len;
        ck_assert_mem_eq(rec, want, UTXO_ABI_INPUT_BYTES);
    }
    for (uint32_t i = 0; i < 3; i++) {
        emit_call(&b, UTXO_HC_OUTPUT, i, SCRATCH + 4, 0, 0);
        asm_li(&b, A0, 0);
        ck_exit(run(&b, NULL, 0, &f.ctx, 10000), 0);
        guest_read(SCRATCH + 4, rec, UTXO_ABI_OUTPUT_BYTES);
        memset(want, 0, sizeof want);
        memcpy(want + UTXO_ABI_OUTPUT_PREDICATE_ID, f.tx->outputs[i].predicate_id, 32);
        want[UTXO_ABI_OUTPUT_VALUE] = (uint8_t)(500 + i);
        want[UTXO_ABI_OUTPUT_VALUE + 1] = (uint8_t)((500 + i) >> 8);
        want[UTXO_ABI_OUTPUT_DATUM_LEN] = (uint8_t)f.tx->outputs[i].datum_len;
        ck_assert_mem_eq(rec, want, UTXO_ABI_OUTPUT_BYTES);
    }
    /* indices past the end */
    emit_call(&b, UTXO_HC_INPUT, 2, SCRATCH, 0, 0);
    ck_failed(run(&b, NULL, 0, &f.ctx, 10000), UTXO_VM_FAIL_BAD_HOSTCALL);
    emit_call(&b, UTXO_HC_OUTPUT, 3, SCRATCH, 0, 0);
    ck_failed(run(&b, NULL, 0, &f.ctx, 10000), UTXO_VM_FAIL_BAD_HOSTCALL);
    emit_call(&b, UTXO_HC_OUTPUT, 0xffffffffu, SCRATCH, 0, 0);
    ck_failed(run(&b, NULL, 0, &f.ctx, 10000), UTXO_VM_FAIL_BAD_HOSTCALL);
    /* record written at the very end of memory */
    emit_call(&b, UTXO_HC_OUTPUT, 0, 0xffffffffu - UTXO_ABI_OUTPUT_BYTES + 2, 0, 0);
    ck_failed(run(&b, NULL, 0, &f.ctx, 10000), UTXO_VM_FAIL_BAD_ACCESS);
    fixture_free(&f);
}
END_TEST

START_TEST(datums)
{
    fixture f;
    asm_buf b = {0};
    uint8_t got[40];

    fixture_init(&f);
    emit_call(&b, UTXO_HC_INPUT_DATUM, 1, SCRATCH, 3, 37);
    asm_li(&b, A0, 0);
    ck_exit(run(&b, NULL, 0, &f.ctx, 10000), 0);
    guest_read(SCRATCH, got, 37);
    ck_assert_mem_eq(got, f.spent_datum + 3, 37);
    emit_call(&b, UTXO_HC_OUTPUT_DATUM, 2, SCRATCH + 100, 0, 15);
    asm_li(&b, A0, 0);
    ck_exit(run(&b, NULL, 0, &f.ctx, 10000), 0);
    guest_read(SCRATCH + 100, got, 15);
    ck_assert_mem_eq(got, f.tx->outputs[2].datum, 15);

    emit_call(&b, UTXO_HC_INPUT_DATUM, 1, SCRATCH, 3, 38); /* one past */
    ck_failed(run(&b, NULL, 0, &f.ctx, 10000), UTXO_VM_FAIL_BAD_HOSTCALL);
    emit_call(&b, UTXO_HC_INPUT_DATUM, 0, SCRATCH, 0, 1); /* empty datum */
    ck_failed(run(&b, NULL, 0, &f.ctx, 10000), UTXO_VM_FAIL_BAD_HOSTCALL);
    emit_call(&b, UTXO_HC_OUTPUT_DATUM, 2, SCRATCH, 0xfffffff0u, 0x20); /* offset + len wraps */
    ck_failed(run(&b, NULL, 0, &f.ctx, 10000), UTXO_VM_FAIL_BAD_HOSTCALL);
    emit_call(&b, UTXO_HC_OUTPUT_DATUM, 3, SCRATCH, 0, 0);
    ck_failed(run(&b, NULL, 0, &f.ctx, 10000), UTXO_VM_FAIL_BAD_HOSTCALL);
    fixture_free(&f);
}
END_TEST

/* ---- hashes, signatures ----------------------------------------------------- */

START_TEST(hashes_known_answers_and_costs)
{
    static const uint32_t lens[] = {0, 1, 55, 56, 64, 127, 128, 129, 1000, 3000};
    uint8_t args[3000], got[32], want[32];

    for (unsigned i = 0; i < sizeof args; i++)
        args[i] = (uint8_t)(i * 7 + i / 256);
    for (unsigned i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        uint32_t n = lens[i];
        for (int sha = 0; sha < 2; sha++) {
            asm_buf b = {0};
            utxo_vm_result r;
            uint64_t cost;

            emit_call(&b, sha ? UTXO_HC_SHA256 : UTXO_HC_BLAKE2B, UTXO_ABI_ARGS_BASE, n, SCRATCH + 1020, 0);
            asm_li(&b, A0, 0);
            r = run(&b, args, sizeof args, NULL, 1000000);
            ck_exit(r, 0);
            guest_read(SCRATCH + 1020, got, 32);
            if (sha) {
                crypto_hash_sha256(want, args, n);
                cost = UTXO_COST_SHA256_BASE + UTXO_COST_SHA256_BLOCK * ((n + 9 + 63) / 64);
            } else {
                crypto_generichash(want, 32, args, n, NULL, 0);
                cost = UTXO_COST_BLAKE2B_BASE + UTXO_COST_BLAKE2B_BLOCK * ((n + 127) / 128);
            }
            ck_assert_mem_eq(got, want, 32);
            /* the digest straddles two fresh pages; the source is the arguments */
            ck_assert_uint_eq(r.cycles,
                              CALL_INSNS + 4 + 2 * UTXO_COST_HOSTCALL + cost + (n + 7) / 8 + 4 + 2 * PAGE);
        }
    }
}
END_TEST

START_TEST(hash_bounds)
{
    asm_buf b = {0};
    utxo_vm_result r;

    /* source runs off the end of memory: fails, after charging */
    emit_call(&b, UTXO_HC_BLAKE2B, 0xfffff000u, 0x2000, SCRATCH, 0);
    ck_failed(run(&b, NULL, 0, NULL, 100000), UTXO_VM_FAIL_BAD_ACCESS);
    /* a 4 GiB request costs more than any budget: out of cycles before work */
    emit_call(&b, UTXO_HC_SHA256, SCRATCH, 0xffffffffu, SCRATCH, 0);
    r = run(&b, NULL, 0, NULL, 100000000);
    ck_failed(r, UTXO_VM_FAIL_OUT_OF_CYCLES);
    ck_assert_uint_eq(r.cycles, 100000000);
    /* destination in the null guard */
    emit_call(&b, UTXO_HC_SHA256, SCRATCH, 4, 16, 0);
    ck_failed(run(&b, NULL, 0, NULL, 100000), UTXO_VM_FAIL_BAD_ACCESS);
}
END_TEST

START_TEST(ed25519_verify)
{
    uint8_t pk[32], sk[64], msg[200], args[64 + 32 + 200];
    asm_buf b = {0};
    utxo_vm_result r;

    crypto_sign_keypair(pk, sk);
    for (unsigned i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)i;
    crypto_sign_detached(args, NULL, msg, sizeof msg, sk);
    memcpy(args + 64, pk, 32);
    memcpy(args + 96, msg, sizeof msg);

    emit_call(&b, UTXO_HC_ED25519, UTXO_ABI_ARGS_BASE, UTXO_ABI_ARGS_BASE + 64, UTXO_ABI_ARGS_BASE + 96, 200);
    r = run(&b, args, sizeof args, NULL, 1000000);
    ck_exit(r, 0);
    ck_assert_uint_eq(r.cycles, CALL_INSNS + 2 + 2 * UTXO_COST_HOSTCALL + UTXO_COST_ED25519_BASE +
                                    200 * UTXO_COST_ED25519_BYTE + (64 + 32 + 200 + 7) / 8);
    /* a wrong message is an answer (1), not a failure */
    emit_call(&b, UTXO_HC_ED25519, UTXO_ABI_ARGS_BASE, UTXO_ABI_ARGS_BASE + 64, UTXO_ABI_ARGS_BASE + 96, 199);
    ck_exit(run(&b, args, sizeof args, NULL, 1000000), 1);
    args[5] ^= 1;
    emit_call(&b, UTXO_HC_ED25519, UTXO_ABI_ARGS_BASE, UTXO_ABI_ARGS_BASE + 64, UTXO_ABI_ARGS_BASE + 96, 200);
    ck_exit(run(&b, args, sizeof args, NULL, 1000000), 1);
    /* over the message limit; pointers out of memory */
    emit_call(&b, UTXO_HC_ED25519, UTXO_ABI_ARGS_BASE, UTXO_ABI_ARGS_BASE, SCRATCH, UTXO_ABI_ED25519_MAX_MSG + 1);
    ck_failed(run(&b, args, sizeof args, NULL, 1000000), UTXO_VM_FAIL_BAD_HOSTCALL);
    emit_call(&b, UTXO_HC_ED25519, 0xffffffe0u, UTXO_ABI_ARGS_BASE, SCRATCH, 1);
    ck_failed(run(&b, args, sizeof args, NULL, 1000000), UTXO_VM_FAIL_BAD_ACCESS);
    /* a call that fails after reading a fresh page has that page charged,
     * like one that succeeds (the failing one lost it before): the same
     * failure with the signature in the arguments (no fresh page) costs
     * one page less */
    emit_call(&b, UTXO_HC_ED25519, SCRATCH, 16, SCRATCH, 1);
    utxo_vm_result fresh = run(&b, args, sizeof args, NULL, 1000000);
    ck_failed(fresh, UTXO_VM_FAIL_BAD_ACCESS);
    emit_call(&b, UTXO_HC_ED25519, UTXO_ABI_ARGS_BASE, 16, SCRATCH, 1);
    r = run(&b, args, sizeof args, NULL, 1000000);
    ck_failed(r, UTXO_VM_FAIL_BAD_ACCESS);
    ck_assert_uint_eq(fresh.cycles, r.cycles + PAGE);
    /* budget ends inside the call: charged first, nothing done */
    emit_call(&b, UTXO_HC_ED25519, UTXO_ABI_ARGS_BASE, UTXO_ABI_ARGS_BASE + 64, UTXO_ABI_ARGS_BASE + 96, 200);
    r = run(&b, args, sizeof args, NULL, 5000);
    ck_failed(r, UTXO_VM_FAIL_OUT_OF_CYCLES);
    ck_assert_uint_eq(r.cycles, 5000);
}
END_TEST

/* ---- big integers ------------------------------------------------------------- */

/* Lays out a descriptor + operands in the args: returns the args length. */
static uint32_t put_desc(uint8_t *args, const uint32_t *ptr_len, unsigned pairs)
{
    for (unsigned i = 0; i < 2 * pairs; i++) {
        args[4 * i] = (uint8_t)ptr_len[i];
        args[4 * i + 1] = (uint8_t)(ptr_len[i] >> 8);
        args[4 * i + 2] = (uint8_t)(ptr_len[i] >> 16);
        args[4 * i + 3] = (uint8_t)(ptr_len[i] >> 24);
    }
    return 8 * pairs;
}

static void mpz_to_be(uint8_t *out, size_t len, const mpz_t x)
{
    size_t need = (mpz_sizeinbase(x, 2) + 7) / 8, w = 0;
    memset(out, 0, len);
    if (mpz_sgn(x))
        mpz_export(out + len - need, &w, 1, 1, 0, 0, x);
}

START_TEST(bigint_modexp_against_gmp)
{
    static const uint32_t sizes[] = {1, 8, 33, 256, 512};
    uint64_t seed = 42;

    for (unsigned s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        uint32_t n = sizes[s], A = UTXO_ABI_ARGS_BASE;
        uint8_t args[64 + 3 * 512], got[512], want[512];
        mpz_t b_, e_, m_, z_;
        asm_buf b = {0};
        utxo_vm_result r;
        uint32_t d[8] = {SCRATCH, n, A + 64, n, A + 64 + n, n, A + 64 + 2 * n, n};
        uint64_t w = (n + 7) / 8;

        put_desc(args, d, 4);
        rng_fill(&seed, args + 64, 3 * n);
        args[64 + 2 * n] |= 1; /* non-zero modulus */
        emit_call(&b, UTXO_HC_BIG_MODEXP, A, 0, 0, 0);
        asm_li(&b, A0, 0);
        r = run(&b, args, 64 + 3 * n, NULL, 100000000);
        ck_exit(r, 0);
        guest_read(SCRATCH, got, n);
        mpz_inits(b_, e_, m_, z_, NULL);
        mpz_import(b_, n, 1, 1, 0, 0, args + 64);
        mpz_import(e_, n, 1, 1, 0, 0, args + 64 + n);
        mpz_import(m_, n, 1, 1, 0, 0, args + 64 + 2 * n);
        mpz_powm(z_, b_, e_, m_);
        mpz_to_be(want, n, z_);
        mpz_clears(b_, e_, m_, z_, NULL);
        ck_assert_mem_eq(got, want, n);
        ck_assert_uint_eq(r.cycles, CALL_INSNS + 4 + 2 * UTXO_COST_HOSTCALL + UTXO_COST_BIG_BASE +
                                        (w * w + UTXO_COST_BIG_FLOOR) * 8 * n + w * w +
                                        4 * UTXO_COST_BIG_WORD * w + PAGE /* output page */);
    }
}
END_TEST

START_TEST(bigint_small_values)
{
    uint32_t A = UTXO_ABI_ARGS_BASE;
    uint8_t args[128];
    asm_buf b = {0};
    uint8_t got[8];

    /* 3^5 mod 7 = 5, written in 2 bytes */
    memset(args, 0, sizeof args);
    args[64] = 3, args[65] = 5, args[66] = 7;
    put_desc(args, (uint32_t[]){SCRATCH, 2, A + 64, 1, A + 65, 1, A + 66, 1}, 4);
    emit_call(&b, UTXO_HC_BIG_MODEXP, A, 0, 0, 0);
    asm_li(&b, A0, 0);
    ck_exit(run(&b, args, sizeof args, NULL, 100000), 0);
    guest_read(SCRATCH, got, 2);
    ck_assert_uint_eq(got[0], 0);
    ck_assert_uint_eq(got[1], 5);
    /* the output may overlap an input: 3^5 mod 7 into the base's byte */
    put_desc(args, (uint32_t[]){A + 64, 1, A + 64, 1, A + 65, 1, A + 66, 1}, 4);
    emit_call(&b, UTXO_HC_BIG_MODEXP, A, 0, 0, 0);
    asm_li(&b, A0, 0);
    ck_exit(run(&b, args, sizeof args, NULL, 100000), 0);
    guest_read(A + 64, got, 1);
    ck_assert_uint_eq(got[0], 5);
    /* modulus 0 and a result that does not fit */
    args[66] = 0;
    emit_call(&b, UTXO_HC_BIG_MODEXP, A, 0, 0, 0);
    ck_failed(run(&b, args, sizeof args, NULL, 100000), UTXO_VM_FAIL_BAD_HOSTCALL);
    args[66] = 0xff, args[64] = 0xfe, args[65] = 1; /* 254 mod 255: needs 1 byte */
    put_desc(args, (uint32_t[]){SCRATCH, 0, A + 64, 1, A + 65, 1, A + 66, 1}, 4);
    emit_call(&b, UTXO_HC_BIG_MODEXP, A, 0, 0, 0);
    ck_failed(run(&b, args, sizeof args, NULL, 100000), UTXO_VM_FAIL_BAD_HOSTCALL);
    /* an operand over 4096 bits */
    put_desc(args, (uint32_t[]){SCRATCH, 4, A + 64, 1, A + 65, 513, A + 66, 1}, 4);
    emit_call(&b, UTXO_HC_BIG_MODEXP, A, 0, 0, 0);
    ck_failed(run(&b, args, sizeof args, NULL, 100000), UTXO_VM_FAIL_BAD_HOSTCALL);

    /* mul: 0x0102 * 0x0304 = 0x030a08 */
    args[64] = 1, args[65] = 2, args[66] = 3, args[67] = 4;
    put_desc(args, (uint32_t[]){SCRATCH, 4, A + 64, 2, A + 66, 2}, 3);
    emit_call(&b, UTXO_HC_BIG_MUL, A, 0, 0, 0);
    asm_li(&b, A0, 0);
    ck_exit(run(&b, args, sizeof args, NULL, 100000), 0);
    guest_read(SCRATCH, got, 4);
    ck_assert_mem_eq(got, "\x00\x03\x0a\x08", 4);
    put_desc(args, (uint32_t[]){SCRATCH, 2, A + 64, 2, A + 66, 2}, 3); /* too small */
    emit_call(&b, UTXO_HC_BIG_MUL, A, 0, 0, 0);
    ck_failed(run(&b, args, sizeof args, NULL, 100000), UTXO_VM_FAIL_BAD_HOSTCALL);

    /* divmod: 0x0304 = 0x0102 * 2 + 0x0100 */
    put_desc(args, (uint32_t[]){SCRATCH, 2, SCRATCH + 2, 2, A + 66, 2, A + 64, 2}, 4);
    emit_call(&b, UTXO_HC_BIG_DIVMOD, A, 0, 0, 0);
    asm_li(&b, A0, 0);
    ck_exit(run(&b, args, sizeof args, NULL, 100000), 0);
    guest_read(SCRATCH, got, 4);
    ck_assert_mem_eq(got, "\x00\x02\x01\x00", 4);
    args[64] = 0, args[65] = 0; /* divisor 0 */
    emit_call(&b, UTXO_HC_BIG_DIVMOD, A, 0, 0, 0);
    ck_failed(run(&b, args, sizeof args, NULL, 100000), UTXO_VM_FAIL_BAD_HOSTCALL);

    /* cmp, with leading zeros: 00 00 05 vs 05 -> 0; 03 vs 04 -> -1 */
    args[70] = 0, args[71] = 0, args[72] = 5, args[73] = 5;
    emit_call(&b, UTXO_HC_BIG_CMP, A + 70, 3, A + 73, 1);
    ck_exit(run(&b, args, sizeof args, NULL, 100000), 0);
    emit_call(&b, UTXO_HC_BIG_CMP, A + 66, 1, A + 67, 1);
    ck_exit(run(&b, args, sizeof args, NULL, 100000), 0xffffffffu);
    emit_call(&b, UTXO_HC_BIG_CMP, A + 67, 1, A + 66, 1);
    ck_exit(run(&b, args, sizeof args, NULL, 100000), 1);
    emit_call(&b, UTXO_HC_BIG_CMP, A, UTXO_ABI_BIG_WIDE_BYTES + 1, A, 1);
    ck_failed(run(&b, args, sizeof args, NULL, 100000), UTXO_VM_FAIL_BAD_HOSTCALL);
    /* descriptor out of memory */
    emit_call(&b, UTXO_HC_BIG_MUL, 0xfffffff8u, 0, 0, 0);
    ck_failed(run(&b, args, sizeof args, NULL, 100000), UTXO_VM_FAIL_BAD_ACCESS);
}
END_TEST

/* BIG_CMP takes operands up to UTXO_ABI_BIG_WIDE_BYTES (a product can be
 * compared), not the 512 bytes of the other calls' operands, and costs
 * what docs/PREDICATES.md says in its own numbers: 220 + 4 per limb of each
 * operand (1244 for two 1024-byte operands; HALT 20). */
START_TEST(bigint_cmp_takes_wide_operands)
{
    uint32_t A = UTXO_ABI_ARGS_BASE, n = UTXO_ABI_BIG_WIDE_BYTES;
    static uint8_t args[2 * UTXO_ABI_BIG_WIDE_BYTES];
    asm_buf b = {0};
    utxo_vm_result r;

    memset(args, 0x5a, sizeof args);
    emit_call(&b, UTXO_HC_BIG_CMP, A, n, A + n, n);
    r = run(&b, args, sizeof args, NULL, 100000);
    ck_exit(r, 0);
    ck_assert_uint_eq(r.cycles, CALL_INSNS + 2 + 20 + 1244); /* + halt: addi a7, ecall */
    args[0] = 0x5b;
    emit_call(&b, UTXO_HC_BIG_CMP, A, n, A + n, n);
    ck_exit(run(&b, args, sizeof args, NULL, 100000), 1);
    emit_call(&b, UTXO_HC_BIG_CMP, A + n, n, A, n);
    ck_exit(run(&b, args, sizeof args, NULL, 100000), 0xffffffffu);
    emit_call(&b, UTXO_HC_BIG_CMP, A, n + 1, A, 1);
    ck_failed(run(&b, args, sizeof args, NULL, 100000), UTXO_VM_FAIL_BAD_HOSTCALL);
}
END_TEST

/* ---- debug log ------------------------------------------------------------------ */

static char log_buf[64];
static size_t log_len;
static void sink(void *ud, const uint8_t *p, size_t n)
{
    (void)ud;
    log_len = n < sizeof log_buf ? n : sizeof log_buf;
    memcpy(log_buf, p, log_len);
}

START_TEST(debug_log_has_no_effect)
{
    const uint8_t args[] = "hello";
    utxo_vm_result r1, r2;
    asm_buf b = {0};

    emit_call(&b, UTXO_HC_DEBUG_LOG, UTXO_ABI_ARGS_BASE, 5, 0, 0);
    r1 = run(&b, args, 5, NULL, 10000);
    utxo_predicate_set_log(sink, NULL);
    emit_call(&b, UTXO_HC_DEBUG_LOG, UTXO_ABI_ARGS_BASE, 5, 0, 0);
    r2 = run(&b, args, 5, NULL, 10000);
    utxo_predicate_set_log(NULL, NULL);
    ck_assert_uint_eq(log_len, 5);
    ck_assert_mem_eq(log_buf, "hello", 5);
    ck_assert_int_eq(r1.status, r2.status);
    ck_assert_uint_eq(r1.cycles, r2.cycles);
    ck_assert_uint_eq(r1.exit_code, r2.exit_code);
    /* a bad pointer fails the same way with or without a sink */
    emit_call(&b, UTXO_HC_DEBUG_LOG, 0x10, 5, 0, 0);
    ck_failed(run(&b, args, 5, NULL, 10000), UTXO_VM_FAIL_BAD_ACCESS);
    emit_call(&b, UTXO_HC_DEBUG_LOG, UTXO_ABI_ARGS_BASE, UTXO_ABI_DEBUG_MAX_BYTES + 1, 0, 0);
    ck_failed(run(&b, args, 5, NULL, 10000), UTXO_VM_FAIL_BAD_HOSTCALL);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("hostcall");
    TCase *t = tcase_create("hostcall");

    tcase_set_timeout(t, 60);
    tcase_add_test(t, halt_cost_is_exact);
    tcase_add_test(t, bigint_cmp_takes_wide_operands);
    tcase_add_test(t, unknown_call_fails);
    tcase_add_test(t, args_len_and_read);
    tcase_add_test(t, txctx_init_fills_the_context);
    tcase_add_test(t, tx_calls_need_a_tx);
    tcase_add_test(t, tx_scalars);
    tcase_add_test(t, input_and_output_records);
    tcase_add_test(t, datums);
    tcase_add_test(t, hashes_known_answers_and_costs);
    tcase_add_test(t, hash_bounds);
    tcase_add_test(t, ed25519_verify);
    tcase_add_test(t, bigint_modexp_against_gmp);
    tcase_add_test(t, bigint_small_values);
    tcase_add_test(t, debug_log_has_no_effect);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    int rc;

    if (sodium_init() < 0)
        return EXIT_FAILURE;
    rc = run_suite(suite());
    vm_free(V);
    return rc;
}
