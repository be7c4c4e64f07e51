/*
 * test_vm_diff.c — the interpreter (vm_interp.c: pre-decoded runs,
 * superinstructions, step mode, fast memory path) against a reference
 * written here from the specification: a plain fetch-decode-execute loop,
 * one instruction at a time, reading every instruction word from memory.
 *
 * Random programs (RV32IM ALU and M ops, loads and stores of every width
 * into image pages, fresh pages, the stack, the code itself and unmapped
 * memory, aligned and misaligned, near and far branches, JAL, JALR, the
 * LUI/AUIPC + JALR call shape, `ret`, FENCE, FENCE.I, ECALL halts, EBREAK,
 * random and reserved encodings) run under both with budgets around the
 * exact cycle count and under split runs (vm_run_until). Outcome, fail
 * reason, pc, cycle count, every register and every byte of every page
 * must agree.
 *
 * Reference rules (docs/VM.md): an instruction costs one cycle when it
 * starts; a run out of budget stops before the instruction that cannot
 * start (cycles = budget); a fetch that fails (pc misaligned or on a page
 * never materialised) costs nothing; a load or store to a fresh page
 * materialises it and costs UTXO_ABI_PAGE_CYCLES after the instruction's
 * cycle (past the budget: out of cycles at that instruction, the store
 * done, the load not); misaligned or low-page accesses fail BAD_ACCESS;
 * ECALL with a7 = 0 halts after charging UTXO_COST_HOSTCALL.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "vm_asm.h"
#include "predicates/vm_internal.h"
#include "utxo/abi.h"

/* ---- the reference machine ---------------------------------------------- */

#define REF_MAX_PAGES 256 /* > 200000 cycles / UTXO_ABI_PAGE_CYCLES */

typedef struct {
    uint32_t no;
    uint8_t b[VM_PAGE_BYTES];
} ref_page;

typedef struct {
    uint32_t x[32];
    uint32_t pc;
    uint64_t cycles, budget;
    ref_page pg[REF_MAX_PAGES];
    uint32_t n_pg;
    utxo_vm_result res;
} ref_vm;

static ref_page *ref_find(ref_vm *r, uint32_t no)
{
    for (uint32_t i = 0; i < r->n_pg; i++)
        if (r->pg[i].no == no)
            return &r->pg[i];
    return NULL;
}

/* Materialises page `no`; 1 if it was fresh. */
static int ref_touch(ref_vm *r, uint32_t no)
{
    if (ref_find(r, no))
        return 0;
    ck_assert_uint_lt(r->n_pg, REF_MAX_PAGES);
    ref_page *p = &r->pg[r->n_pg++];
    p->no = no;
    memset(p->b, 0, sizeof p->b);
    return 1;
}

static uint8_t *ref_byte(ref_vm *r, uint32_t a)
{
    ref_page *p = ref_find(r, a >> VM_PAGE_SHIFT);
    return p ? &p->b[a & (VM_PAGE_BYTES - 1u)] : NULL;
}

static void ref_done(ref_vm *r, int status, int fail, uint32_t code, uint32_t pc)
{
    r->res.status = status;
    r->res.fail = fail;
    r->res.exit_code = code;
    r->res.pc = pc;
    r->res.cycles = r->cycles;
}

static uint32_t sext(uint32_t v, unsigned bits)
{
    uint32_t m = 1u << (bits - 1);
    return (v ^ m) - m;
}

/* Memory access checks and page charge; 0 to go on, 1 when the run ended. */
static int ref_access(ref_vm *r, uint32_t a, unsigned size, uint32_t pc, int *charge)
{
    *charge = 0;
    if ((a & (size - 1u)) != 0 || (a >> VM_PAGE_SHIFT) < VM_LOW_PAGES) {
        ref_done(r, UTXO_VM_FAILED, UTXO_VM_FAIL_BAD_ACCESS, 0, pc);
        return 1;
    }
    *charge = ref_touch(r, a >> VM_PAGE_SHIFT);
    return 0;
}

/* Adds a page charge; 1 (out of cycles at pc) past the budget. */
static int ref_charge(ref_vm *r, int charge, uint32_t pc)
{
    if (!charge)
        return 0;
    r->cycles += UTXO_ABI_PAGE_CYCLES;
    if (r->cycles > r->budget) {
        r->cycles = r->budget;
        ref_done(r, UTXO_VM_FAILED, UTXO_VM_FAIL_OUT_OF_CYCLES, 0, pc);
        return 1;
    }
    return 0;
}

static void ref_run(ref_vm *r)
{
    for (;;) {
        uint32_t pc = r->pc;
        if ((pc & 3u) != 0 || (pc >> VM_PAGE_SHIFT) < VM_LOW_PAGES ||
            !ref_find(r, pc >> VM_PAGE_SHIFT)) {
            ref_done(r, UTXO_VM_FAILED, UTXO_VM_FAIL_BAD_FETCH, 0, pc);
            return;
        }
        if (r->cycles >= r->budget) {
            ref_done(r, UTXO_VM_FAILED, UTXO_VM_FAIL_OUT_OF_CYCLES, 0, pc);
            return;
        }
        r->cycles++;
        const uint8_t *wp = ref_byte(r, pc);
        uint32_t w = (uint32_t)wp[0] | (uint32_t)wp[1] << 8 | (uint32_t)wp[2] << 16 |
                     (uint32_t)wp[3] << 24;
        uint32_t opc = w & 0x7Fu, rd = (w >> 7) & 31u, f3 = (w >> 12) & 7u;
        uint32_t a = r->x[(w >> 15) & 31u], b = r->x[(w >> 20) & 31u], f7 = w >> 25;
        uint32_t immi = sext(w >> 20, 12);
        uint32_t imms = sext(((w >> 25) << 5) | ((w >> 7) & 31u), 12);
        uint32_t immb = sext(((w >> 31) << 12) | (((w >> 7) & 1u) << 11) |
                                 (((w >> 25) & 63u) << 5) | (((w >> 8) & 15u) << 1), 13);
        uint32_t immj = sext(((w >> 31) << 20) | (((w >> 12) & 255u) << 12) |
                                 (((w >> 20) & 1u) << 11) | (((w >> 21) & 1023u) << 1), 21);
        uint32_t next = pc + 4u, val = 0;
        int wr = 1, illegal = 0, charge;

        switch (opc) {
        case 0x37: val = w & 0xFFFFF000u; break;
        case 0x17: val = pc + (w & 0xFFFFF000u); break;
        case 0x6F: val = pc + 4u; next = pc + immj; break;
        case 0x67:
            if (f3 != 0) { illegal = 1; break; }
            val = pc + 4u;
            next = (a + immi) & ~1u;
            break;
        case 0x63: {
            int t;
            wr = 0;
            switch (f3) {
            case 0: t = a == b; break;
            case 1: t = a != b; break;
            case 4: t = (int32_t)a < (int32_t)b; break;
            case 5: t = (int32_t)a >= (int32_t)b; break;
            case 6: t = a < b; break;
            case 7: t = a >= b; break;
            default: t = 0; illegal = 1; break;
            }
            if (t)
                next = pc + immb;
            break;
        }
        case 0x03: {
            static const unsigned size[8] = {1, 2, 4, 0, 1, 2, 0, 0};
            if (!size[f3]) { illegal = 1; break; }
            uint32_t ad = a + immi;
            if (ref_access(r, ad, size[f3], pc, &charge) || ref_charge(r, charge, pc))
                return;
            for (unsigned i = 0; i < size[f3]; i++)
                val |= (uint32_t)*ref_byte(r, ad + i) << (8 * i);
            if (f3 == 0) val = sext(val, 8);
            if (f3 == 1) val = sext(val, 16);
            break;
        }
        case 0x23: {
            wr = 0;
            if (f3 > 2) { illegal = 1; break; }
            unsigned size = 1u << f3;
            uint32_t ad = a + imms;
            if (ref_access(r, ad, size, pc, &charge))
                return;
            for (unsigned i = 0; i < size; i++)
                *ref_byte(r, ad + i) = (uint8_t)(b >> (8 * i));
            if (ref_charge(r, charge, pc))
                return; /* the store is done, as in the machine */
            break;
        }
        case 0x13: {
            uint32_t sh = (w >> 20) & 31u;
            switch (f3) {
            case 0: val = a + immi; break;
            case 2: val = (int32_t)a < (int32_t)immi; break;
            case 3: val = a < immi; break;
            case 4: val = a ^ immi; break;
            case 6: val = a | immi; break;
            case 7: val = a & immi; break;
            case 1: if (f7 != 0) illegal = 1; val = a << sh; break;
            default:
                if (f7 == 0) val = a >> sh;
                else if (f7 == 0x20) val = (uint32_t)((int32_t)a >> sh);
                else illegal = 1;
                break;
            }
            break;
        }
        case 0x33:
            if (f7 == 0) {
                switch (f3) {
                case 0: val = a + b; break;
                case 1: val = a << (b & 31u); break;
                case 2: val = (int32_t)a < (int32_t)b; break;
                case 3: val = a < b; break;
                case 4: val = a ^ b; break;
                case 5: val = a >> (b & 31u); break;
                case 6: val = a | b; break;
                default: val = a & b; break;
                }
            } else if (f7 == 0x20 && f3 == 0) {
                val = a - b;
            } else if (f7 == 0x20 && f3 == 5) {
                val = (uint32_t)((int32_t)a >> (b & 31u));
            } else if (f7 == 1) {
                int64_t sa = (int32_t)a, sb = (int32_t)b;
                switch (f3) {
                case 0: val = a * b; break;
                case 1: val = (uint32_t)((uint64_t)(sa * sb) >> 32); break;
                case 2: val = (uint32_t)((uint64_t)(sa * (int64_t)(uint64_t)b) >> 32); break;
                case 3: val = (uint32_t)(((uint64_t)a * b) >> 32); break;
                case 4:
                    val = b == 0 ? UINT32_MAX
                          : (a == 0x80000000u && b == UINT32_MAX) ? a
                                                                   : (uint32_t)(int32_t)(sa / sb);
                    break;
                case 5: val = b == 0 ? UINT32_MAX : a / b; break;
                case 6:
                    val = b == 0 ? a
                          : (a == 0x80000000u && b == UINT32_MAX) ? 0 : (uint32_t)(int32_t)(sa % sb);
                    break;
                default: val = b == 0 ? a : a % b; break;
                }
            } else {
                illegal = 1;
            }
            break;
        case 0x0F:
            wr = 0;
            if (f3 > 1) illegal = 1;
            break;
        case 0x73:
            if (w == 0x00100073u) {
                ref_done(r, UTXO_VM_FAILED, UTXO_VM_FAIL_EBREAK, 0, pc);
                return;
            }
            if (w != 0x00000073u) { illegal = 1; break; }
            /* Only HALT (a7 = 0) is generated. */
            ck_assert_uint_eq(r->x[17], 0);
            if (r->cycles > r->budget || UTXO_COST_HOSTCALL > r->budget - r->cycles) {
                r->cycles = r->budget;
                ref_done(r, UTXO_VM_FAILED, UTXO_VM_FAIL_OUT_OF_CYCLES, 0, pc);
                return;
            }
            r->cycles += UTXO_COST_HOSTCALL;
            ref_done(r, r->x[10] ? UTXO_VM_REJECTED : UTXO_VM_ACCEPTED, UTXO_VM_FAIL_NONE,
                     r->x[10], pc);
            return;
        default:
            illegal = 1;
            break;
        }
        if (illegal) {
            ref_done(r, UTXO_VM_FAILED, UTXO_VM_FAIL_ILLEGAL, 0, pc);
            return;
        }
        if (wr && rd != 0)
            r->x[rd] = val;
        r->pc = next;
    }
}

/* ---- random programs ---------------------------------------------------- */

#define CODE_BASE ASM_BASE          /* two code pages */
#define CODE_WORDS 512u
#define DATA_BASE (CODE_BASE + 0x800u) /* one image data page */
#define FRESH_BASE 0x00040000u      /* not in the image: charged when touched */

static uint64_t rng_state;

static uint32_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(rng_state >> 32);
}
static uint32_t pick(uint32_t n) { return rnd() % n; }

/* Registers the generator writes: never s0, s1, t6 (memory bases), a7. */
static uint32_t wreg(void)
{
    static const uint8_t r[] = {0, 1, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 18, 19, 28, 29, 30};
    if (pick(50) == 0)
        return pick(3) ? 8 + pick(2) : 31; /* rarely: clobber a base */
    return r[pick(sizeof r)];
}
static uint32_t rreg(void) { return pick(32); }

/* A load/store address base and offset. */
static void mem_operand(uint32_t *base, int32_t *off, unsigned size)
{
    static const uint8_t bases[] = {8, 9, 31, 2};
    *base = pick(8) == 0 ? rreg() : bases[pick(sizeof bases)];
    int32_t o = (int32_t)(pick(64) * 4) - 128;
    if (pick(10) == 0)
        o += (int32_t)pick(4); /* maybe misaligned */
    if (pick(20) == 0)
        o = (int32_t)pick(4096) - 2048;
    *off = o & ~(int32_t)(pick(12) ? size - 1u : 0u);
}

/* Registers for the fused shapes: few, so that shapes chain through the
 * same registers and alias (rd == rs, two rds equal, x0). */
static uint32_t sreg(void)
{
    static const uint8_t r[] = {0, 5, 6, 7, 10, 11};
    return r[pick(sizeof r)];
}

/* A random instance of decoded op `op` at word `here`: near branches and
 * jumps mostly, the memory ops through the usual bases. */
static int shapes_only; /* programs of fused shapes only: short forward jumps */

static uint32_t gen_op(int op, uint32_t here)
{
    uint32_t rd = sreg(), a = pick(4) ? sreg() : rreg(), b = pick(4) ? sreg() : rreg(), base;
    int32_t off, d = (int32_t)pick(48) - 28; /* as gen_program's branches */
    if (d == 0)
        d = 1;
    if (pick(8) == 0)
        d = (int32_t)pick(512) - (int32_t)here;
    if (shapes_only)
        d = 1 + (int32_t)pick(3);
    switch (op) {
    case VM_OP_ADDI: return ADDI(rd, a, (int32_t)pick(4096) - 2048);
    case VM_OP_XORI: return XORI(rd, a, pick(2) ? -1 : (int32_t)pick(4096) - 2048);
    case VM_OP_SLLI: return SLLI(rd, a, pick(32));
    case VM_OP_SRLI: return SRLI(rd, a, pick(32));
    case VM_OP_ADD: return ADD(rd, a, b);
    case VM_OP_OR: return OR(rd, a, b);
    case VM_OP_XOR: return XOR(rd, a, b);
    case VM_OP_AND: return AND(rd, a, b);
    case VM_OP_LW: mem_operand(&base, &off, 4); return LW(rd, base, off);
    case VM_OP_LBU: mem_operand(&base, &off, 1); return LBU(rd, base, off);
    case VM_OP_SW: mem_operand(&base, &off, 4); return SW(b, base, off);
    case VM_OP_SB: mem_operand(&base, &off, 1); return SB(b, base, off);
    case VM_OP_BEQ: return BEQ(a, b, 4 * d);
    case VM_OP_BNE: return BNE(a, b, 4 * d);
    case VM_OP_BLTU: return BLTU(a, b, 4 * d);
    case VM_OP_JAL: return JAL(pick(2) ? 0 : 1, 4 * d);
    default: ck_abort_msg("gen_op: no generator for op %d", op); return 0;
    }
}

/* The longer superinstruction shapes (vm_internal.h), as op lists. */
static const int fused_shapes[][4] = {
#define SHAPE3(a, b, c) {VM_OP_##a, VM_OP_##b, VM_OP_##c, -1},
#define SHAPE4(a, b, c, d) {VM_OP_##a, VM_OP_##b, VM_OP_##c, VM_OP_##d},
    VM_TRIPLES(SHAPE3) VM_QUADS(SHAPE4)
#undef SHAPE3
#undef SHAPE4
};
#define N_SHAPES (sizeof fused_shapes / sizeof fused_shapes[0])

/* Sums at code[n] (2-4 words, the chained ADD forms): each ADD reads the
 * one before's result as rs1, rs2 or both, or now and then does not (a
 * sink destination, an unrelated ADD), so chains break where they must. */
static uint32_t gen_sum(uint32_t *code, uint32_t n)
{
    uint32_t len = 2 + pick(3), prev = sreg();
    code[n] = ADD(prev, sreg(), sreg());
    for (uint32_t i = 1; i < len; i++) {
        uint32_t rd = pick(8) ? 5 + pick(3) : sreg(), o = pick(3) ? sreg() : prev;
        if (pick(10) == 0)
            code[n + i] = ADD(rd, sreg(), sreg());
        else
            code[n + i] = pick(2) ? ADD(rd, prev, o) : ADD(rd, o, prev);
        prev = rd;
    }
    return n + len;
}

/* A chained pair at code[n] (2 words, VM_CPAIRS): the second op reads
 * the first's result as rs1, rs2 or both, or (now and then) not at all. */
static const int chained_pairs[][2] = {
#define CPAIR2(a, b) {VM_OP_##a, VM_OP_##b},
    VM_CPAIRS(CPAIR2)
#undef CPAIR2
};
static uint32_t gen_cpair(uint32_t *code, uint32_t n)
{
    const int *c = chained_pairs[pick(sizeof chained_pairs / sizeof chained_pairs[0])];
    uint32_t t = pick(8) ? 5 + pick(3) : sreg(), o = pick(3) ? sreg() : t;
    uint32_t a = sreg(), b = sreg(), rd = pick(3) ? sreg() : t;
    switch (c[0]) {
    case VM_OP_XORI: code[n] = XORI(t, a, pick(2) ? -1 : (int32_t)pick(4096) - 2048); break;
    case VM_OP_SRLI: code[n] = SRLI(t, a, pick(32)); break;
    case VM_OP_SLLI: code[n] = SLLI(t, a, pick(32)); break;
    default: code[n] = enc_r(0, b, a, 0, t, 0x33) | (gen_op(c[0], n) & 0x7000u); break;
    }
    uint32_t x = pick(12) ? t : sreg(), y = pick(2) ? o : x, z = pick(2) ? x : o;
    code[n + 1] = gen_op(c[1], n + 1) & ~(0x1Fu << 15 | 0x1Fu << 20 | 0x1Fu << 7);
    code[n + 1] |= rd << 7 | y << 15 | z << 20;
    return n + 2;
}

/* An indexed access at code[n] (4 words): [ANDI t, s, m;] SLLI t, t|s, k;
 * ADD t, t, b (either order); LW d, imm(t) or SW v, imm(t) (the IDX forms),
 * the index masked small most of the time so that the address lands near
 * a base (image data, a fresh page, code, the stack), sometimes
 * misaligned; registers drawn from a few so that they alias (s = t, b = t,
 * d or v = t, x0) and near misses fall back. */
static uint32_t gen_index(uint32_t *code, uint32_t n)
{
    static const uint8_t bases[] = {8, 9, 31, 2};
    static const int32_t masks[] = {7, 15, 63, 0x3C, 0xFC};
    uint32_t t = pick(8) ? 5 + pick(3) : sreg(), s = pick(3) ? sreg() : t;
    uint32_t b = pick(6) ? bases[pick(sizeof bases)] : sreg(), sh = pick(3) ? 2 : pick(4);
    int32_t m = masks[pick(sizeof masks / sizeof masks[0])];
    int32_t off = (int32_t)pick(16) * 4 - 32 + (pick(8) == 0 ? (int32_t)pick(4) : 0);
    uint32_t i = n;
    if (pick(2)) { /* a[i & m] */
        code[i++] = ANDI(t, s, m);
        code[i++] = SLLI(t, pick(8) ? t : s, sh);
    } else {
        code[i++] = pick(4) ? ANDI(s, s, m) : ADDI(s, s, 1);
        code[i++] = SLLI(t, s, sh);
    }
    code[i++] = pick(2) ? ADD(pick(10) ? t : sreg(), t, b) : ADD(t, b, pick(10) ? t : sreg());
    uint32_t r = pick(10) ? t : sreg(); /* the access's base: t, or a near miss */
    code[i++] = pick(2) ? LW(sreg(), r, off) : SW(pick(3) ? sreg() : t, r, off);
    return i;
}

/* Writes a fused shape at code[n] (room for 4 words); returns the new n.
 * Each has operands that allow the special forms (LW4, SW4, ROTR,
 * ROTR_XOR, the IDX forms) and near misses that must fall back: a base
 * loaded into, misaligned or page-crossing blocks, stores into code, fresh
 * pages, a shift pair with aliased or sink registers. */
static uint32_t gen_shape(uint32_t *code, uint32_t n)
{
    uint32_t k = pick(N_SHAPES + 9);
    if (k >= N_SHAPES + 7)
        return gen_cpair(code, n);
    if (k >= N_SHAPES + 5)
        return gen_sum(code, n);
    if (k >= N_SHAPES + 3)
        return gen_index(code, n);
    if (k < N_SHAPES) {
        uint32_t len = fused_shapes[k][3] >= 0 ? 4u : 3u;
        for (uint32_t i = 0; i < len; i++)
            code[n + i] = gen_op(fused_shapes[k][i], n + i);
        return n + len;
    }
    if (k < N_SHAPES + 2) { /* four words at base + off + 4i, or - 4i */
        static const uint8_t bases[] = {8, 9, 31, 2};
        uint32_t base = pick(8) == 0 ? sreg() : bases[pick(sizeof bases)];
        int32_t off = (int32_t)pick(64) * 4 - 128;
        if (pick(6) == 0)
            off += (int32_t)pick(4); /* misaligned */
        if (pick(6) == 0) /* the block crosses or ends at a page end */
            off = (int32_t)(VM_PAGE_BYTES - 16u + 4u * pick(5)) - (base == 31 ? 0x300 : 0);
        int32_t step = pick(2) ? 4 : -4;
        if (step < 0)
            off += 12; /* the same 16 bytes, from the top */
        for (uint32_t i = 0; i < 4; i++) {
            int32_t o = off + step * (int32_t)i;
            if (pick(16) == 0)
                o += 4; /* not contiguous */
            if (k == N_SHAPES)
                code[n + i] = LW(pick(10) == 0 ? base : sreg(), base, o);
            else
                code[n + i] = SW(pick(4) ? sreg() : rreg(), base, o);
        }
        return n + 4;
    }
    /* rotate: srli t, s, i; slli u, s, j; or d, t, u (either order)[; xor] */
    uint32_t t = 5, u = 6, s = 7;
    switch (pick(8)) { /* aliasings that must fall back, or not */
    case 0: t = s; break;
    case 1: t = u; break;
    case 2: u = s; break;
    case 3: t = 0; break;
    case 4: u = 0; break;
    case 5: t = sreg(), u = sreg(), s = sreg(); break;
    default: break;
    }
    uint32_t sh = pick(32), d = pick(2) ? t : sreg();
    code[n] = SRLI(t, s, sh);
    code[n + 1] = SLLI(u, s, pick(4) ? (32u - sh) & 31u : pick(32));
    code[n + 2] = pick(2) ? OR(d, t, u) : OR(d, u, pick(6) ? t : sreg());
    switch (pick(4)) { /* an XOR reading d (either side), or not */
    case 0: code[n + 3] = XOR(sreg(), d, sreg()); break;
    case 1: code[n + 3] = XOR(sreg(), sreg(), d); break;
    case 2: code[n + 3] = XOR(sreg(), sreg(), sreg()); break;
    default: code[n + 3] = gen_op(VM_OP_ADDI, n + 3); break;
    }
    return n + 4;
}

/* Fills code[CODE_WORDS]: a prologue setting the bases, then random words. */
static void gen_program(uint32_t *code, uint32_t *data)
{
    uint32_t n = 0;
    code[n++] = LUI(8, DATA_BASE >> 12);
    code[n++] = ADDI(8, 8, (int32_t)(DATA_BASE & 0xFFFu));
    code[n++] = LUI(9, FRESH_BASE >> 12);
    code[n++] = LUI(31, CODE_BASE >> 12);
    code[n++] = ADDI(31, 31, 0x300); /* stores there rewrite code */
    code[n++] = ADDI(2, 2, -256);
    while (n < CODE_WORDS) {
        if (shapes_only && n + 11 > CODE_WORDS) {
            code[n++] = ADDI(17, 0, 0);
            code[n++] = ECALL();
            while (n < CODE_WORDS)
                code[n++] = EBREAK();
            break;
        }
        if (n + 9 <= CODE_WORDS && (shapes_only || pick(6) == 0)) {
            n = gen_shape(code, n);
            if (pick(2)) { /* keep what the shape computed: the stack is compared */
                int32_t o = (int32_t)pick(32) * 4 - 64;
                code[n++] = SW(5, 2, o);
                code[n++] = SW(6, 2, o + 4);
                code[n++] = SW(7, 2, o + 8);
                code[n++] = SW(10, 2, o + 12);
                code[n++] = SW(11, 2, o + 16);
            }
            continue;
        }
        uint32_t k = pick(100), w;
        uint32_t rd = wreg(), a = rreg(), b = rreg(), base;
        int32_t off, here = (int32_t)n;
        if (k < 25) {
            static const uint8_t f[][2] = {{0, 0}, {0x20, 0}, {0, 1}, {0, 2}, {0, 3}, {0, 4},
                                           {0, 5}, {0x20, 5}, {0, 6}, {0, 7}, {1, 0}, {1, 1},
                                           {1, 2}, {1, 3}, {1, 4}, {1, 5}, {1, 6}, {1, 7}};
            uint32_t i = pick(sizeof f / sizeof f[0]);
            w = enc_r(f[i][0], b, a, f[i][1], rd, 0x33);
        } else if (k < 45) {
            uint32_t f3 = pick(8);
            if (f3 == 1 || f3 == 5)
                w = enc_r(f3 == 5 && pick(2) ? 0x20 : 0, pick(32), a, f3, rd, 0x13);
            else
                w = enc_i((int32_t)pick(4096) - 2048, a, f3, rd, 0x13);
        } else if (k < 50) {
            w = pick(2) ? LUI(rd, rnd() & 0xFFFFF) : AUIPC(rd, pick(3) == 0 ? rnd() & 0xFFFFF : 0);
        } else if (k < 62) {
            static const uint8_t f3s[] = {0, 1, 2, 4, 5};
            uint32_t f3 = f3s[pick(sizeof f3s)];
            mem_operand(&base, &off, f3 == 2 ? 4 : (f3 & 3) == 1 ? 2 : 1);
            w = enc_i(off, base, f3, rd, 0x03);
        } else if (k < 72) {
            uint32_t f3 = pick(3);
            mem_operand(&base, &off, 1u << f3);
            w = enc_s(off, b, base, f3, 0x23);
        } else if (k < 82) {
            static const uint8_t f3s[] = {0, 1, 4, 5, 6, 7};
            /* near (same page) mostly, sometimes across the page; the
             * near deltas span the interpreter's taken labels
             * (VM_NEAR_MIN..VM_NEAR_MAX) and a few past them on each side;
             * now and then a branch to itself (a loop until the budget) */
            int32_t d = pick(4) ? (int32_t)pick(48) - 28 : (int32_t)pick(512) - here;
            if (d == 0 && pick(4))
                d = 1;
            w = enc_b(4 * d, b, a, f3s[pick(sizeof f3s)]);
        } else if (k < 86) {
            int32_t d = pick(3) ? (int32_t)pick(20) - 4 : (int32_t)pick(512) - here;
            if (d == 0)
                d = 1;
            w = JAL(pick(2) ? 1 : rd, 4 * d);
        } else if (k < 90 && n + 1 < CODE_WORDS) {
            /* call shape: AUIPC/LUI r + JALR rd, off(r) */
            uint32_t r = pick(2) ? 1 : 5, t = (uint32_t)pick(CODE_WORDS) * 4u + (pick(15) == 0);
            if (pick(2)) {
                code[n++] = AUIPC(r, 0);
                w = JALR(pick(2) ? 1 : rd, r, (int32_t)(t - 4u * (uint32_t)here) & 0x7FF);
            } else {
                code[n++] = LUI(r, (CODE_BASE + t + 0x800) >> 12);
                w = JALR(pick(2) ? 1 : 0, r, sext((CODE_BASE + t) & 0xFFFu, 12) & 0xFFF);
            }
        } else if (k < 92) {
            w = JALR(0, 1, 0); /* ret */
        } else if (k < 94 && n + 1 < CODE_WORDS) {
            code[n++] = ADDI(17, 0, 0);
            w = ECALL();
        } else if (k < 95) {
            w = pick(2) ? FENCE() : FENCE_I();
        } else if (k < 96) {
            w = EBREAK();
        } else if (k < 97) {
            w = JALR(rd, a, (int32_t)pick(64) - 32);
        } else {
            w = rnd(); /* mostly illegal: compressed, CSR, reserved fields */
        }
        code[n++] = w;
    }
    for (uint32_t i = 0; i < VM_PAGE_BYTES / 4; i++)
        data[i] = rnd();
}

/* ---- running both ------------------------------------------------------- */

static void ref_load(ref_vm *r, const uint32_t *code, const uint32_t *data, uint64_t budget)
{
    memset(r, 0, sizeof *r);
    for (uint32_t i = 0; i < CODE_WORDS; i++) {
        uint32_t a = CODE_BASE + 4 * i;
        ref_touch(r, a >> VM_PAGE_SHIFT);
        for (unsigned k = 0; k < 4; k++)
            *ref_byte(r, a + k) = (uint8_t)(code[i] >> (8 * k));
    }
    ref_touch(r, DATA_BASE >> VM_PAGE_SHIFT);
    memcpy(ref_byte(r, DATA_BASE), data, VM_PAGE_BYTES);
    r->x[2] = VM_STACK_TOP;
    r->x[11] = VM_ARGS_BASE;
    r->pc = CODE_BASE;
    r->budget = budget;
}

/* Machine state == reference state, field by field. */
static void compare(vm *v, const utxo_vm_result *got, ref_vm *r, uint64_t seed, uint64_t budget)
{
    const utxo_vm_result *want = &r->res;
    if (got->status != want->status || got->fail != want->fail ||
        got->exit_code != want->exit_code || got->pc != want->pc ||
        got->cycles != want->cycles)
        ck_abort_msg("seed %llu budget %llu: machine status %d fail %d code %#x pc %#x "
                     "cycles %llu; reference %d %d %#x %#x %llu",
                     (unsigned long long)seed, (unsigned long long)budget, got->status,
                     got->fail, got->exit_code, got->pc, (unsigned long long)got->cycles,
                     want->status, want->fail, want->exit_code, want->pc,
                     (unsigned long long)want->cycles);
    for (unsigned i = 1; i < 32; i++)
        if (vm_reg(v, i) != r->x[i])
            ck_abort_msg("seed %llu budget %llu: x%u machine %#x reference %#x",
                         (unsigned long long)seed, (unsigned long long)budget, i, vm_reg(v, i),
                         r->x[i]);
    uint32_t n = 0;
    (void)vm_touched_pages(v, &n);
    ck_assert_msg(n == r->n_pg, "seed %llu: %u pages vs %u", (unsigned long long)seed, n,
                  r->n_pg);
    for (uint32_t i = 0; i < r->n_pg; i++) {
        uint8_t page[VM_PAGE_BYTES];
        ck_assert_int_eq(vm_page_get(v, r->pg[i].no, page), 1);
        if (memcmp(page, r->pg[i].b, VM_PAGE_BYTES) != 0)
            ck_abort_msg("seed %llu budget %llu: page %#x differs", (unsigned long long)seed,
                         (unsigned long long)budget, r->pg[i].no << VM_PAGE_SHIFT);
    }
}

static ref_vm refm;

/* Fast-path ops found in the decoded tables of the programs run (the
 * shared tables of the pages that executed). */
static unsigned seen_xop[VM_OP__COUNT];

static void mark_decoded(const vm_program *p)
{
    for (uint32_t i = 0; i < p->n_pages; i++) {
        const vm_dpage *d = atomic_load(&p->dec[i]);
        for (uint32_t k = 0; d && k < VM_PAGE_INSNS; k++)
            seen_xop[d->ins[k].xop]++;
    }
}

/* One program, several budgets; returns how many instructions ran. */
static uint64_t check_seed(uint64_t seed)
{
    static uint32_t code[CODE_WORDS], data[VM_PAGE_BYTES / 4];
    static uint8_t code_le[sizeof code];
    rng_state = seed * 0x9E3779B97F4A7C15u + 1u;
    gen_program(code, data);
    asm_words_le(code_le, code, CODE_WORDS); /* the reference reads code[] the same way */

    vm_segment segs[2] = {{CODE_BASE, sizeof code_le, code_le},
                          {DATA_BASE, sizeof data, (const uint8_t *)data}};
    vm_image img;
    memset(&img, 0, sizeof img);
    img.entry = CODE_BASE;
    img.n_segs = 2;
    img.segs = segs;
    vm_program *p = NULL;
    vm *v = vm_new();
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(vm_program_new(&p, &img), UTXO_OK);

    /* Full budget first: the exact count gives the edges to try. */
    const uint64_t big = 200000;
    ref_load(&refm, code, data, big);
    ref_run(&refm);
    uint64_t exact = refm.res.cycles;
    uint64_t budgets[8] = {big, exact, exact + 1, exact ? exact - 1 : 0, 0, 1,
                           1 + pick((uint32_t)exact + 1), 1 + pick((uint32_t)exact + 1)};
    for (unsigned i = 0; i < 8; i++) {
        utxo_vm_result got;
        ref_load(&refm, code, data, budgets[i]);
        ref_run(&refm);
        ck_assert_int_eq(vm_run(v, p, NULL, 0, NULL, budgets[i], &got), UTXO_OK);
        compare(v, &got, &refm, seed, budgets[i]);
    }
    /* Split runs: pauses at random points give the same end state. */
    for (unsigned k = 0; k < 2; k++) {
        utxo_vm_result got;
        ck_assert_int_eq(vm_load(v, p, NULL, 0, NULL, big), UTXO_OK);
        uint64_t at = 0;
        int rc;
        do {
            at += 1 + pick(k ? 7 : 300);
            rc = vm_run_until(v, at < big ? at : big, &got);
        } while (rc == VM_RUN_PAUSED);
        ref_load(&refm, code, data, big);
        ref_run(&refm);
        compare(v, &got, &refm, seed, big);
    }
    mark_decoded(p);
    vm_program_free(p);
    vm_free(v);
    return exact;
}

START_TEST(random_programs_match_reference)
{
    uint64_t total = 0;
    for (uint64_t seed = 1; seed <= 1000; seed++)
        total += check_seed(seed);
    ck_assert_uint_gt(total, 100000); /* the programs do run */
    /* Every longer superinstruction and special form was in the mix. */
    static const int want[] = {
#define WANT3(a, b, c) VM_OP_##a##__##b##__##c,
#define WANT4(a, b, c, d) VM_OP_##a##__##b##__##c##__##d,
        VM_TRIPLES(WANT3) VM_QUADS(WANT4)
#undef WANT3
#undef WANT4
        VM_OP_LW4, VM_OP_SW4, VM_OP_LW4D, VM_OP_SW4D, VM_OP_ROTR, VM_OP_ROTR_XOR,
        VM_OP_IDX_LW, VM_OP_MIDX_LW, VM_OP_IDX_SW, VM_OP_ADD2C, VM_OP_ADD3C, VM_OP_ADD4C,
        VM_OP_ROTR_XORC,
#define WANT_CP(a, b) VM_OP_##a##_C_##b,
        VM_CPAIRS(WANT_CP)
#undef WANT_CP
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(seen_xop[want[i]] >= 20, "fast-path op %d decoded %u times", want[i],
                      seen_xop[want[i]]);
}
END_TEST

/* Programs of fused shapes only (each followed, half the time, by stores of
 * the registers they write), so that nearly all of them execute. */
START_TEST(fused_shapes_match_reference)
{
    uint64_t total = 0;
    shapes_only = 1;
    for (uint64_t seed = 1; seed <= 400; seed++)
        total += check_seed(seed + 100000);
    shapes_only = 0;
    ck_assert_uint_gt(total, 100000);
}
END_TEST

/* Hand-made shapes the fast path treats specially. */
#define SHAPE_WORDS 14
START_TEST(superinstruction_shapes_match_reference)
{
    const uint32_t shapes[][SHAPE_WORDS] = {
        /* call through AUIPC + JALR (fused), then ret */
        {AUIPC(1, 0), JALR(1, 1, 12), 0, ADDI(10, 10, 7), JALR(0, 1, 0), 0},
        /* LUI + ADDI, compare-and-branch shapes */
        {LUI(5, 0x12345), ADDI(5, 5, -1), SLTU(6, 0, 5), BNE(6, 0, 8), EBREAK(), ADDI(10, 5, 0)},
        /* two stores then two loads off the same base */
        {SW(10, 2, -8), SW(11, 2, -4), LW(12, 2, -8), LW(13, 2, -4), ADD(10, 12, 13), 0},
        /* a store rewriting the next instruction of its own run */
        {AUIPC(5, 0), LUI(6, 0x00100), ADDI(6, 6, 0x73), SW(6, 5, 16), ADDI(10, 0, 9), 0},
        /* a prologue's saves and an epilogue's restores (SW4D, LW4D),
         * distinct values read back into other registers */
        {LUI(10, 0x12345), ADDI(11, 10, 1), ADDI(12, 10, 2), ADDI(13, 10, 3), ADDI(2, 2, -16),
         SW(10, 2, 12), SW(11, 2, 8), SW(12, 2, 4), SW(13, 2, 0), LW(13, 2, 12), LW(12, 2, 8),
         LW(11, 2, 4), LW(10, 2, 0), ADDI(2, 2, 16)},
        /* the same falling, then rising, across a page end: the lower page
         * written first, the upper one never touched (the slow path must
         * materialise and charge it) */
        {LUI(10, 0x12345), ADDI(11, 10, 1), ADDI(12, 10, 2), ADDI(13, 10, 3), ADDI(5, 2, -2032),
         SW(10, 5, -16), SW(10, 5, 4), SW(11, 5, 0), SW(12, 5, -4), SW(13, 5, -8), LW(13, 5, 4),
         LW(12, 5, 0), LW(11, 5, -4), LW(10, 5, -8)},
        {LUI(10, 0x12345), ADDI(11, 10, 1), ADDI(12, 10, 2), ADDI(13, 10, 3), ADDI(5, 2, -2032),
         SW(10, 5, -16), SW(10, 5, -8), SW(11, 5, -4), SW(12, 5, 0), SW(13, 5, 4), LW(13, 5, -8),
         LW(12, 5, -4), LW(11, 5, 0), LW(10, 5, 4)},
        /* indexed accesses (IDX_SW, MIDX_LW, IDX_LW): a store to a fresh
         * page (slow path, charged), read back through both loads, the
         * second into t itself */
        {LUI(9, FRESH_BASE >> 12), ADDI(6, 0, 13), SLLI(5, 6, 2), ADD(5, 5, 9), SW(6, 5, -4),
         ANDI(7, 6, 7), SLLI(7, 7, 3), ADD(7, 9, 7), LW(10, 7, 8), SLLI(11, 6, 2),
         ADD(11, 9, 11), LW(11, 11, -4), ADD(10, 10, 11)},
        /* a load from a fresh page (materialised by the slow path), a store
         * of t itself, a misaligned load: fails with t written */
        {LUI(9, FRESH_BASE >> 12), ADDI(6, 0, 5), SLLI(5, 6, 2), ADD(5, 9, 5), LW(10, 5, 0),
         SLLI(7, 6, 2), ADD(7, 7, 9), SW(7, 7, 4), LW(11, 7, 4), SLLI(12, 6, 0),
         ADD(12, 12, 9), LW(13, 12, 1)},
        /* a store through an index into the next instruction of its own
         * run (rewritten: addi a0, x0, 1 becomes addi a0, x0, 9), then a
         * load from the image's data page */
        {AUIPC(8, 0), LUI(11, 0x00900), ADDI(11, 11, 0x513), ADDI(6, 0, 3), SLLI(5, 6, 3),
         ADD(5, 8, 5), SW(11, 5, 4), ADDI(10, 0, 1), SLLI(12, 6, 2), ADD(12, 12, 8),
         LW(13, 12, 2036), ADD(10, 10, 13)},
        /* chained sums (one naming the last result twice, one into x0
         * that breaks the chain) and a rotate whose XOR reads d twice */
        {LUI(5, 0x12345), ADDI(6, 0, 77), ADD(7, 5, 6), ADD(7, 7, 7), ADD(10, 6, 7),
         ADD(11, 10, 10), ADD(0, 11, 5), ADD(12, 0, 11), SRLI(13, 11, 7), SLLI(14, 11, 25),
         OR(15, 14, 13), XOR(15, 15, 15), ADD(10, 10, 15)},
    };
    for (unsigned s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        uint32_t code[CODE_WORDS], data[VM_PAGE_BYTES / 4];
        uint8_t code_le[sizeof code];
        memset(data, 0, sizeof data);
        for (uint32_t i = 0; i < CODE_WORDS; i++)
            code[i] = i < SHAPE_WORDS && shapes[s][i] ? shapes[s][i]
                                                      : (i == SHAPE_WORDS ? ADDI(17, 0, 0) : ECALL());
        asm_words_le(code_le, code, CODE_WORDS);
        vm_segment segs[2] = {{CODE_BASE, sizeof code_le, code_le},
                              {DATA_BASE, sizeof data, (const uint8_t *)data}};
        vm_image img;
        memset(&img, 0, sizeof img);
        img.entry = CODE_BASE;
        img.n_segs = 2;
        img.segs = segs;
        vm_program *p = NULL;
        vm *v = vm_new();
        ck_assert_int_eq(vm_program_new(&p, &img), UTXO_OK);
        for (uint64_t budget = 0; budget < 40 + 3 * UTXO_ABI_PAGE_CYCLES; budget++) {
            utxo_vm_result got;
            ref_load(&refm, code, data, budget);
            ref_run(&refm);
            ck_assert_int_eq(vm_run(v, p, NULL, 0, NULL, budget, &got), UTXO_OK);
            compare(v, &got, &refm, s, budget);
        }
        mark_decoded(p);
        vm_program_free(p);
        vm_free(v);
    }
    /* The indexed shapes and the chains above were decoded as such. */
    ck_assert_uint_gt(seen_xop[VM_OP_IDX_LW], 0);
    ck_assert_uint_gt(seen_xop[VM_OP_MIDX_LW], 0);
    ck_assert_uint_gt(seen_xop[VM_OP_IDX_SW], 0);
    ck_assert_uint_gt(seen_xop[VM_OP_ADD4C], 0);
    ck_assert_uint_gt(seen_xop[VM_OP_ROTR_XORC], 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vm_diff");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, random_programs_match_reference);
    tcase_add_test(tc, superinstruction_shapes_match_reference);
    tcase_add_test(tc, fused_shapes_match_reference);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
