/*
 * vm_interp.c — the RV32IM interpreter loop: one function, vm_interp().
 *
 * It walks pre-decoded instructions (vm_internal.h). With GCC or Clang
 * each instruction carries its handler's address (vm_insn.h) and dispatch
 * is one indirect jump through it, no table;
 * otherwise, or with VM_NO_COMPUTED_GOTO, a switch on vm_insn.xop. The same
 * handler bodies serve both through the vmcase / vmdispatch macros.
 *
 * Fast path: superinstructions (vm_decode.c) run a pair of slots with one
 * dispatch (the first op's body, then a direct jump to the second's
 * handler); calls through LUI/AUIPC + JALR are direct jumps; `ret` has its
 * own handler. Loads and stores: the address, an alignment test and one
 * page-state byte test (two well-predicted branches), then the access at
 * mem + address (mem stays in a register: rarely used state lives in v).
 *
 * Metering (docs/VM.md, "Metering"): entering a straight-line run adds the
 * run's length (ENTER). When that would pass the stop point, the loop goes
 * into step mode: every instruction goes through step_gate, which counts one
 * cycle and stops exactly at the stop point. A run left early (fault, store
 * into decoded code) gives back the part it did not execute (REFUND), so the
 * count is exact in every case: it is the number of instructions that began
 * executing, plus what host calls charged, plus page costs (SETTLE, which
 * also drops to step mode when a charge inside a run leaves the rest of the
 * run no room before the stop point).
 *
 * Step mode runs each instruction from a copy (sb[0], its plain op, near
 * targets made absolute) followed by a STEP_CONT slot that returns to the
 * gate, so the fast path needs no test for it and no superinstruction ever
 * runs in step mode. Pages whose decoded table was patched by stores run in
 * step mode too (entered and left at `far`, the only way onto or off a page).
 *
 * Faults: the failing instruction counts (it began executing); a failed
 * fetch does not (there was no instruction). On OUT_OF_CYCLES the count is
 * the budget and pc is the instruction that could not start.
 */
#include "config.h"

#include <string.h>
#include "predicates/vm_internal.h"

#if defined(__GNUC__) && !defined(VM_NO_COMPUTED_GOTO)
#define VM_GOTO 1
#endif

#if defined(__GNUC__)
#define UNLIKELY(c) __builtin_expect(!!(c), 0)
#else
#define UNLIKELY(c) (c)
#endif

/* Little-endian guest memory access; compiles to one move on x86/ARM. */
static inline uint32_t ld32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}
static inline uint16_t ld16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap16(v);
#endif
    return v;
}
static inline void st32(uint8_t *p, uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    memcpy(p, &v, 4);
}
static inline void st16(uint8_t *p, uint16_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap16(v);
#endif
    memcpy(p, &v, 2);
}

#ifdef VM_GOTO
/* vm_interp's handler addresses, published by its first call (v == NULL). */
static _Atomic(const void *const *) vm_hoff_table;
#endif

/* Access size of a load or store op. */
static unsigned access_size(uint8_t op)
{
    switch (op) {
    case VM_OP_LW: case VM_OP_SW: return 4;
    case VM_OP_LH: case VM_OP_LHU: case VM_OP_SH: return 2;
    default: return 1;
    }
}

/* ---- dispatch macros ------------------------------------------------ */
#define R(n) x[n]
#define RD R(ip->rd)
#define RS1 R(ip->rs1)
#define RS2 R(ip->rs2)
#define IMM ((uint32_t)ip->imm)

#ifdef VM_GOTO
#define vmdispatch() goto *ip->h
#define vmcase(n) L_##n:
#else
#define vmdispatch() goto dispatch
#define vmcase(n) case VM_OP_##n: L_##n:
#if defined(__GNUC__)
/* Only the superinstructions jump to the labels of the switch build. */
#pragma GCC diagnostic ignored "-Wunused-label"
#endif
#endif

/* Next instruction of the same run. */
#define NEXT()          \
    do {                \
        ip++;           \
        vmdispatch();   \
    } while (0)
/* ip is the first instruction of a run: charge the run. */
#define ENTER()                             \
    do {                                    \
        cycles += ip->blen;                 \
        if (UNLIKELY(cycles > limit))       \
            goto over;                      \
        vmdispatch();                       \
    } while (0)
/* Continue at an arbitrary pc (another page, or unknown). */
#define GOTO_PC(tpc)    \
    do {                \
        target = (tpc); \
        goto far;       \
    } while (0)
/* Leaving the run at ip early: give back the instructions after ip. */
#define REFUND()                        \
    do {                                \
        if (!stepping)                  \
            cycles -= ip->blen - 1u;    \
    } while (0)
/* Adds page costs the last slow path accrued (vm_set_page_cost). rest_ is
 * the part of the current run charged ahead but not executed yet. If the
 * run no longer fits before the stop point, its tail is given back and the
 * loop continues in step mode, so the count stays exactly what a
 * single-stepped run gives; past the budget the run fails out of cycles at
 * the instruction at pc_. */
#define SETTLE(pc_, rest_)                                                  \
    do {                                                                    \
        if (UNLIKELY(v->pending)) {                                         \
            cycles += v->pending;                                           \
            v->pending = 0;                                                 \
            if (!stepping && cycles > limit) {                              \
                cycles -= (rest_);                                          \
                stepping = 1;                                               \
                limit = 0;                                                  \
            }                                                               \
            if (cycles > v->budget) {                                       \
                v->cycles = v->budget;                                      \
                vm_finish(v, UTXO_VM_FAILED, UTXO_VM_FAIL_OUT_OF_CYCLES, 0, (pc_)); \
                return VM_RUN_DONE;                                         \
            }                                                               \
        }                                                                   \
    } while (0)
/* Same-page jump to an absolute, computed target. */
#define JUMP_ABS(t)                                                         \
    do {                                                                    \
        uint32_t t_ = (t);                                                  \
        if (((t_ ^ ip->pc) & ~(uint32_t)(VM_PAGE_BYTES - 4u)) == 0) {       \
            ip += (int32_t)((t_ >> 2) & (VM_PAGE_INSNS - 1u)) -             \
                  (int32_t)((ip->pc >> 2) & (VM_PAGE_INSNS - 1u));          \
            ENTER();                                                        \
        }                                                                   \
        GOTO_PC(t_);                                                        \
    } while (0)

/* A taken near jump moves ip by imm slots. Loading that delta and adding it
 * would put the load on the chain from one iteration of a loop to the
 * next: every operand fetch after it waits for the new ip. With computed
 * goto the slot carries instead the address of a label (tk) that adds its
 * own constant delta (VM_NEAR_MIN..VM_NEAR_MAX; VM_TAKEN_ANY adds imm), so
 * the new ip follows the predicted indirect jump: +32% on the sieve, +16%
 * on memcpy (docs/VM.md, section 9). */
#define VM_NEAR_DELTAS(X)                                                   \
    X(M24, -24) X(M23, -23) X(M22, -22) X(M21, -21) X(M20, -20)             \
    X(M19, -19) X(M18, -18) X(M17, -17) X(M16, -16) X(M15, -15)             \
    X(M14, -14) X(M13, -13) X(M12, -12) X(M11, -11) X(M10, -10)             \
    X(M9, -9) X(M8, -8) X(M7, -7) X(M6, -6) X(M5, -5) X(M4, -4)             \
    X(M3, -3) X(M2, -2) X(M1, -1) X(Z, 0) X(P1, 1) X(P2, 2) X(P3, 3)        \
    X(P4, 4) X(P5, 5) X(P6, 6) X(P7, 7) X(P8, 8) X(P9, 9) X(P10, 10)        \
    X(P11, 11) X(P12, 12) X(P13, 13) X(P14, 14) X(P15, 15) X(P16, 16)
#ifdef VM_GOTO
#define NEAR_TAKEN() goto *ip->tk
#else
#define NEAR_TAKEN()   \
    do {               \
        ip += ip->imm; \
        ENTER();       \
    } while (0)
#endif
#define BRANCH_NEAR(cond)       \
    do {                        \
        if (cond)               \
            NEAR_TAKEN();       \
        ip++;                   \
        ENTER();                \
    } while (0)
#define BRANCH_FAR(cond)                \
    do {                                \
        if (cond)                       \
            GOTO_PC(IMM);               \
        ip++;                           \
        ENTER();                        \
    } while (0)

/* Loads and stores: two tests, each a rarely taken branch. */
#define LOAD(expr, mask)                                                    \
    do {                                                                    \
        uint32_t a_ = RS1 + IMM;                                            \
        if (UNLIKELY(a_ & (mask)))                                          \
            goto slow_load;                                                 \
        if (UNLIKELY(pst[a_ >> VM_PAGE_SHIFT] == VM_PG_NONE))               \
            goto slow_load;                                                 \
        const uint8_t *m_ = mem + a_;                                       \
        RD = (expr);                                                        \
    } while (0)
#define STORE(stmt, mask)                                                   \
    do {                                                                    \
        uint32_t a_ = RS1 + IMM;                                            \
        if (UNLIKELY(a_ & (mask)))                                          \
            goto slow_store;                                                \
        if (UNLIKELY(pst[a_ >> VM_PAGE_SHIFT] != VM_PG_RW))                 \
            goto slow_store;                                                \
        uint8_t *m_ = mem + a_;                                             \
        stmt;                                                               \
    } while (0)

/* The work of the ops that may start a superinstruction (VM_PAIRS) or
 * stand before the last op of a longer one (VM_TRIPLES, VM_QUADS). */
#define DO_LI() (RD = IMM)
#define DO_ADDI() (RD = RS1 + IMM)
#define DO_ADD() (RD = RS1 + RS2)
#define DO_SLLI() (RD = RS1 << ip->imm)
#define DO_SRLI() (RD = RS1 >> ip->imm)
#define DO_ANDI() (RD = RS1 & IMM)
#define DO_OR() (RD = RS1 | RS2)
#define DO_XOR() (RD = RS1 ^ RS2)
#define DO_AND() (RD = RS1 & RS2)
#define DO_SLTU() (RD = RS1 < RS2)
#define DO_LW() LOAD(ld32(m_), 3u)
#define DO_LBU() LOAD((uint32_t)m_[0], 0u)
#define DO_SW() STORE(st32(m_, RS2), 3u)
#define DO_SB() STORE(m_[0] = (uint8_t)RS2, 0u)
#define DO_SUB() (RD = RS1 - RS2)
#define DO_SRAI() (RD = (uint32_t)((int32_t)RS1 >> ip->imm))
#define DO_XORI() (RD = RS1 ^ IMM)
#define DO_MUL() (RD = RS1 * RS2)
#define DO_LB() LOAD((uint32_t)(int32_t)(int8_t)m_[0], 0u)
#define DO_LHU() LOAD((uint32_t)ld16(m_), 1u)
#define DO_SH() STORE(st16(m_, (uint16_t)RS2), 1u)

int vm_interp(vm *v, uint64_t stop)
{
    uint32_t *const x = v ? v->x : NULL;
    uint8_t *const mem = v ? v->mem : NULL;
    const uint8_t *const pst = v ? v->pstate : NULL;
    uint64_t cycles = v ? v->cycles : 0;
    uint64_t limit = stop; /* ENTER's bound; 0 in step mode */
    int stepping = 0;
    const vm_insn *ip = NULL;
    const vm_insn *sr = NULL; /* step mode: the real slot sb[0] copies */
    vm_insn sb[2];            /* step mode: the copy, then STEP_CONT */
    uint32_t target;
    int fail;

#ifdef VM_GOTO
#define VM_HOFF(n) &&L_##n,
#define VM_PAIR_HOFF(a, b) &&L_##a##__##b,
#define VM_TRIPLE_HOFF(a, b, c) &&L_##a##__##b##__##c,
#define VM_QUAD_HOFF(a, b, c, d) &&L_##a##__##b##__##c##__##d,
#define VM_CPAIR_HOFF(a, b) &&L_##a##_C_##b,
#define VM_TK_HOFF(n, d) &&TK_##n,
    static const void *const hoff[] = {
        VM_OPS(VM_HOFF) VM_XOPS(VM_HOFF) VM_PAIRS(VM_PAIR_HOFF)
        VM_TRIPLES(VM_TRIPLE_HOFF) VM_QUADS(VM_QUAD_HOFF) VM_CPAIRS(VM_CPAIR_HOFF)
        VM_NEAR_DELTAS(VM_TK_HOFF) &&TK_ANY};
    _Static_assert(sizeof hoff / sizeof hoff[0] == VM_HANDLERS, "handler table");
#undef VM_TK_HOFF
#undef VM_CPAIR_HOFF
#undef VM_HOFF
#undef VM_PAIR_HOFF
#undef VM_TRIPLE_HOFF
#undef VM_QUAD_HOFF
    if (UNLIKELY(v == NULL)) {
        atomic_store_explicit(&vm_hoff_table, hoff, memory_order_release);
        return VM_RUN_PAUSED;
    }
#define SET_H(in) ((in)->h = hoff[(in)->xop])
#else
    if (v == NULL)
        return VM_RUN_PAUSED;
#define SET_H(in) ((void)(in))
#endif
    memset(sb, 0, sizeof sb);
    sb[1].op = VM_OP_PAGE_END; /* never read: STEP_CONT comes first */
    sb[1].xop = VM_OP_STEP_CONT;
    sb[1].blen = 0;
    SET_H(&sb[1]);

    target = v->pc;
    goto far;

#ifndef VM_GOTO
dispatch:
    switch (ip->xop) {
#endif

    vmcase(ILLEGAL) {
        fail = UTXO_VM_FAIL_ILLEGAL;
        goto fault;
    }
    vmcase(LI) { DO_LI(); NEXT(); }
    vmcase(JAL) {
        RD = ip->pc + 4u;
        ip += ip->imm;
        ENTER();
    }
    vmcase(JAL_FAR) {
        uint32_t t = IMM;
        RD = ip->pc + 4u;
        GOTO_PC(t);
    }
    vmcase(JALR) {
        uint32_t t = (RS1 + IMM) & ~1u;
        RD = ip->pc + 4u;
        JUMP_ABS(t);
    }
    vmcase(BEQ) BRANCH_NEAR(RS1 == RS2);
    vmcase(BNE) BRANCH_NEAR(RS1 != RS2);
    vmcase(BLT) BRANCH_NEAR((int32_t)RS1 < (int32_t)RS2);
    vmcase(BGE) BRANCH_NEAR((int32_t)RS1 >= (int32_t)RS2);
    vmcase(BLTU) BRANCH_NEAR(RS1 < RS2);
    vmcase(BGEU) BRANCH_NEAR(RS1 >= RS2);
    vmcase(BEQ_FAR) BRANCH_FAR(RS1 == RS2);
    vmcase(BNE_FAR) BRANCH_FAR(RS1 != RS2);
    vmcase(BLT_FAR) BRANCH_FAR((int32_t)RS1 < (int32_t)RS2);
    vmcase(BGE_FAR) BRANCH_FAR((int32_t)RS1 >= (int32_t)RS2);
    vmcase(BLTU_FAR) BRANCH_FAR(RS1 < RS2);
    vmcase(BGEU_FAR) BRANCH_FAR(RS1 >= RS2);

    vmcase(LB) { DO_LB(); NEXT(); }
    vmcase(LBU) { DO_LBU(); NEXT(); }
    vmcase(LH) { LOAD((uint32_t)(int32_t)(int16_t)ld16(m_), 1u); NEXT(); }
    vmcase(LHU) { DO_LHU(); NEXT(); }
    vmcase(LW) { DO_LW(); NEXT(); }
    vmcase(SB) { DO_SB(); NEXT(); }
    vmcase(SH) { DO_SH(); NEXT(); }
    vmcase(SW) { DO_SW(); NEXT(); }

    vmcase(ADDI) { DO_ADDI(); NEXT(); }
    vmcase(SLTI) { RD = (int32_t)RS1 < ip->imm; NEXT(); }
    vmcase(SLTIU) { RD = RS1 < IMM; NEXT(); }
    vmcase(XORI) { DO_XORI(); NEXT(); }
    vmcase(ORI) { RD = RS1 | IMM; NEXT(); }
    vmcase(ANDI) { DO_ANDI(); NEXT(); }
    vmcase(SLLI) { DO_SLLI(); NEXT(); }
    vmcase(SRLI) { DO_SRLI(); NEXT(); }
    vmcase(SRAI) { DO_SRAI(); NEXT(); }

    vmcase(ADD) { DO_ADD(); NEXT(); }
    vmcase(SUB) { DO_SUB(); NEXT(); }
    vmcase(SLL) { RD = RS1 << (RS2 & 31u); NEXT(); }
    vmcase(SLT) { RD = (int32_t)RS1 < (int32_t)RS2; NEXT(); }
    vmcase(SLTU) { DO_SLTU(); NEXT(); }
    vmcase(XOR) { DO_XOR(); NEXT(); }
    vmcase(SRL) { RD = RS1 >> (RS2 & 31u); NEXT(); }
    vmcase(SRA) { RD = (uint32_t)((int32_t)RS1 >> (RS2 & 31u)); NEXT(); }
    vmcase(OR) { DO_OR(); NEXT(); }
    vmcase(AND) { DO_AND(); NEXT(); }

    vmcase(MUL) { DO_MUL(); NEXT(); }
    vmcase(MULH) {
        int64_t p = (int64_t)(int32_t)RS1 * (int64_t)(int32_t)RS2;
        RD = (uint32_t)((uint64_t)p >> 32);
        NEXT();
    }
    vmcase(MULHSU) {
        int64_t p = (int64_t)(int32_t)RS1 * (int64_t)(uint64_t)RS2;
        RD = (uint32_t)((uint64_t)p >> 32);
        NEXT();
    }
    vmcase(MULHU) {
        RD = (uint32_t)(((uint64_t)RS1 * (uint64_t)RS2) >> 32);
        NEXT();
    }
    vmcase(DIV) {
        int32_t a = (int32_t)RS1, b = (int32_t)RS2;
        RD = b == 0 ? UINT32_MAX
                    : (a == INT32_MIN && b == -1) ? (uint32_t)a : (uint32_t)(a / b);
        NEXT();
    }
    vmcase(DIVU) {
        uint32_t a = RS1, b = RS2;
        RD = b == 0 ? UINT32_MAX : a / b;
        NEXT();
    }
    vmcase(REM) {
        int32_t a = (int32_t)RS1, b = (int32_t)RS2;
        RD = b == 0 ? (uint32_t)a : (a == INT32_MIN && b == -1) ? 0u : (uint32_t)(a % b);
        NEXT();
    }
    vmcase(REMU) {
        uint32_t a = RS1, b = RS2;
        RD = b == 0 ? a : a % b;
        NEXT();
    }

    vmcase(FENCE) NEXT();
    vmcase(FENCE_I) {
        ip++;
        ENTER();
    }
    vmcase(ECALL) {
        uint32_t pc = ip->pc;
        v->cycles = cycles;
        v->pc = pc;
        fail = vm_host_call(v);
        cycles = v->cycles;
        if (UNLIKELY(fail == VM_HC_DEFER)) {
            /* Host-call fence (continuations): pause before the ECALL, its
             * own cycle given back; the next segment executes it afresh. */
            v->cycles = cycles - 1u;
            v->pc = pc;
            /* Pages the call touched before it stopped (a descriptor read
             * to price it) stay materialised: charge them now, in this
             * segment, since a replay of the next one gets them from its
             * witness, uncharged. */
            if (v->pending) {
                uint64_t c = v->cycles + v->pending;
                v->pending = 0;
                if (c > v->budget) {
                    v->cycles = v->budget;
                    vm_finish(v, UTXO_VM_FAILED, UTXO_VM_FAIL_OUT_OF_CYCLES, 0, pc);
                    return VM_RUN_DONE;
                }
                v->cycles = c;
            }
            return VM_RUN_PAUSED;
        }
        SETTLE(pc, 0u); /* pages the host call materialised */
        v->cycles = cycles; /* with them, in the outcome of a failing call too */
        if (fail) {
            vm_finish(v, UTXO_VM_FAILED, fail, 0, pc);
            return VM_RUN_DONE;
        }
        if (v->halted) {
            vm_finish(v, v->halt_code ? UTXO_VM_REJECTED : UTXO_VM_ACCEPTED,
                      UTXO_VM_FAIL_NONE, v->halt_code, pc);
            return VM_RUN_DONE;
        }
        /* The host call may have written to this page: re-fetch. */
        GOTO_PC(pc + 4u);
    }
    vmcase(EBREAK) {
        fail = UTXO_VM_FAIL_EBREAK;
        goto fault;
    }
    vmcase(PAGE_END) GOTO_PC(ip->pc);

#ifdef VM_GOTO
    /* Taken near jumps (tk, above): each adds its delta, then the run. */
#define VM_TK_CASE(n, d) \
    TK_##n:              \
    ip += (d);           \
    ENTER();
    VM_NEAR_DELTAS(VM_TK_CASE)
#undef VM_TK_CASE
TK_ANY:
    ip += ip->imm;
    ENTER();
#endif

    /* ---- fast-path-only operations (VM_XOPS) ---- */
    vmcase(RET) {
        uint32_t t = x[1] & ~1u;
        JUMP_ABS(t);
    }
    vmcase(CALL) {
        /* ip: the LUI/AUIPC, ip + 1: the JALR through its register. */
        RD = IMM;
        x[ip[1].rd] = ip->pc + 8u;
        ip = (const vm_insn *)((const char *)ip + ip->aux);
        ENTER();
    }
    vmcase(CALL_FAR) {
        uint32_t t = (uint32_t)ip->aux;
        RD = IMM;
        x[ip[1].rd] = ip->pc + 8u;
        GOTO_PC(t);
    }
    vmcase(JALR_STEP) {
        uint32_t t = (RS1 + IMM) & ~1u;
        RD = ip->pc + 4u;
        GOTO_PC(t);
    }
    vmcase(STEP_CONT) goto step_gate;
    vmcase(LW4) {
        /* One alignment, page and state test for 16 bytes in one page;
         * else the four loads one by one (each its own slow path). */
        uint32_t a = RS1 + IMM;
        if (UNLIKELY(((a & 3u) | ((a ^ (a + 12u)) >> VM_PAGE_SHIFT)) != 0 ||
                     pst[a >> VM_PAGE_SHIFT] == VM_PG_NONE))
            goto L_LW__LW__LW__LW;
        const uint8_t *m = mem + a;
        x[ip[0].rd] = ld32(m);
        x[ip[1].rd] = ld32(m + 4);
        x[ip[2].rd] = ld32(m + 8);
        x[ip[3].rd] = ld32(m + 12);
        ip += 4;
        vmdispatch();
    }
    vmcase(SW4) {
        uint32_t a = RS1 + IMM;
        if (UNLIKELY(((a & 3u) | ((a ^ (a + 12u)) >> VM_PAGE_SHIFT)) != 0 ||
                     pst[a >> VM_PAGE_SHIFT] != VM_PG_RW))
            goto L_SW__SW__SW__SW;
        uint8_t *m = mem + a;
        st32(m, x[ip[0].rs2]);
        st32(m + 4, x[ip[1].rs2]);
        st32(m + 8, x[ip[2].rs2]);
        st32(m + 12, x[ip[3].rs2]);
        ip += 4;
        vmdispatch();
    }
    vmcase(LW4D) {
        /* The same for offsets falling by 4: the 16 bytes start at a - 12. */
        uint32_t a = RS1 + IMM - 12u;
        if (UNLIKELY(((a & 3u) | ((a ^ (a + 12u)) >> VM_PAGE_SHIFT)) != 0 ||
                     pst[a >> VM_PAGE_SHIFT] == VM_PG_NONE))
            goto L_LW__LW__LW__LW;
        const uint8_t *m = mem + a;
        x[ip[0].rd] = ld32(m + 12);
        x[ip[1].rd] = ld32(m + 8);
        x[ip[2].rd] = ld32(m + 4);
        x[ip[3].rd] = ld32(m);
        ip += 4;
        vmdispatch();
    }
    vmcase(SW4D) {
        uint32_t a = RS1 + IMM - 12u;
        if (UNLIKELY(((a & 3u) | ((a ^ (a + 12u)) >> VM_PAGE_SHIFT)) != 0 ||
                     pst[a >> VM_PAGE_SHIFT] != VM_PG_RW))
            goto L_SW__SW__SW__SW;
        uint8_t *m = mem + a;
        st32(m + 12, x[ip[0].rs2]);
        st32(m + 8, x[ip[1].rs2]);
        st32(m + 4, x[ip[2].rs2]);
        st32(m, x[ip[3].rs2]);
        ip += 4;
        vmdispatch();
    }
    vmcase(ROTR) {
        uint32_t s_ = RS1, t_ = s_ >> ip->imm, u_ = s_ << ip[1].imm;
        x[ip[0].rd] = t_;
        x[ip[1].rd] = u_;
        x[ip[2].rd] = t_ | u_;
        ip += 3;
        vmdispatch();
    }
    vmcase(ROTR_XOR) {
        uint32_t s_ = RS1, t_ = s_ >> ip->imm, u_ = s_ << ip[1].imm;
        x[ip[0].rd] = t_;
        x[ip[1].rd] = u_;
        x[ip[2].rd] = t_ | u_;
        ip += 3;
        goto L_XOR;
    }

    /* Indexed accesses (IDX forms, vm_decode.c: index_shape): the address
     * is built in a host register and t, which every ALU op of the shape
     * writes, is stored once; no op reloads what the one before it wrote.
     * A slow access goes to the plain LW or SW with t already in x[], so
     * its fault, page charge or code store is exactly the plain op's. */
    vmcase(IDX_LW) {
        uint32_t t_ = (RS1 << ip->imm) + x[(uint32_t)ip->aux];
        uint32_t a_ = t_ + (uint32_t)ip[2].imm;
        RD = t_;
        if (UNLIKELY((a_ & 3u) || pst[a_ >> VM_PAGE_SHIFT] == VM_PG_NONE)) {
            ip += 2;
            goto L_LW;
        }
        x[ip[2].rd] = ld32(mem + a_);
        ip += 3;
        vmdispatch();
    }
    vmcase(MIDX_LW) {
        uint32_t t_ = ((RS1 & IMM) << ip[1].imm) + x[(uint32_t)ip->aux];
        uint32_t a_ = t_ + (uint32_t)ip[3].imm;
        RD = t_;
        if (UNLIKELY((a_ & 3u) || pst[a_ >> VM_PAGE_SHIFT] == VM_PG_NONE)) {
            ip += 3;
            goto L_LW;
        }
        x[ip[3].rd] = ld32(mem + a_);
        ip += 4;
        vmdispatch();
    }
    vmcase(IDX_SW) {
        uint32_t t_ = (RS1 << ip->imm) + x[(uint32_t)ip->aux];
        uint32_t a_ = t_ + (uint32_t)ip[2].imm;
        RD = t_;
        if (UNLIKELY((a_ & 3u) || pst[a_ >> VM_PAGE_SHIFT] != VM_PG_RW)) {
            ip += 2;
            goto L_SW;
        }
        st32(mem + a_, x[ip[2].rs2]); /* after t is written: v may be t */
        ip += 3;
        vmdispatch();
    }

    /* Chained sums (vm_decode.c): each later ADD adds its other source
     * (aux) to the sum so far, read after the stores before it, so an
     * ADD that names the previous result twice still reads it right. */
#define ADD_CHAIN(k)                  \
    s_ += x[(uint32_t)ip[k].aux];     \
    x[ip[k].rd] = s_;
    vmcase(ADD4C) {
        uint32_t s_ = RS1 + RS2;
        RD = s_;
        ADD_CHAIN(1)
        ADD_CHAIN(2)
        ADD_CHAIN(3)
        ip += 4;
        vmdispatch();
    }
    vmcase(ADD3C) {
        uint32_t s_ = RS1 + RS2;
        RD = s_;
        ADD_CHAIN(1)
        ADD_CHAIN(2)
        ip += 3;
        vmdispatch();
    }
    vmcase(ADD2C) {
        uint32_t s_ = RS1 + RS2;
        RD = s_;
        ADD_CHAIN(1)
        ip += 2;
        vmdispatch();
    }
#undef ADD_CHAIN
    vmcase(ROTR_XORC) {
        uint32_t s_ = RS1, t_ = s_ >> ip->imm, u_ = s_ << ip[1].imm, d_ = t_ | u_;
        x[ip[0].rd] = t_;
        x[ip[1].rd] = u_;
        x[ip[2].rd] = d_;
        x[ip[3].rd] = d_ ^ x[(uint32_t)ip[3].aux];
        ip += 4;
        vmdispatch();
    }

    /* Chained pairs (VM_CPAIRS): the second op's other source (aux) is
     * read after the first's result is stored, as for the sums. */
#define VAL_XOR (RS1 ^ RS2)
#define VAL_AND (RS1 & RS2)
#define VAL_OR (RS1 | RS2)
#define VAL_ADD (RS1 + RS2)
#define VAL_XORI (RS1 ^ IMM)
#define VAL_SRLI (RS1 >> ip->imm)
#define VAL_SLLI (RS1 << ip->imm)
#define OPC_XOR ^
#define OPC_AND &
#define OPC_ADD +
#define VM_CPAIR_CASE(a, b)                                                 \
    vmcase(a##_C_##b) {                                                     \
        uint32_t v_ = VAL_##a;                                              \
        RD = v_;                                                            \
        x[ip[1].rd] = v_ OPC_##b x[(uint32_t)ip[1].aux];                    \
        ip += 2;                                                            \
        vmdispatch();                                                       \
    }
    VM_CPAIRS(VM_CPAIR_CASE)
#undef VM_CPAIR_CASE

    /* ---- superinstructions (VM_PAIRS, VM_TRIPLES, VM_QUADS) ---- */
#define VM_PAIR_CASE(a, b)      \
    vmcase(a##__##b) {          \
        DO_##a();               \
        ip++;                   \
        goto L_##b;             \
    }
    VM_PAIRS(VM_PAIR_CASE)
#undef VM_PAIR_CASE
#define VM_TRIPLE_CASE(a, b, c)     \
    vmcase(a##__##b##__##c) {       \
        DO_##a();                   \
        ip++;                       \
        DO_##b();                   \
        ip++;                       \
        goto L_##c;                 \
    }
    VM_TRIPLES(VM_TRIPLE_CASE)
#undef VM_TRIPLE_CASE
#define VM_QUAD_CASE(a, b, c, d)        \
    vmcase(a##__##b##__##c##__##d) {    \
        DO_##a();                       \
        ip++;                           \
        DO_##b();                       \
        ip++;                           \
        DO_##c();                       \
        ip++;                           \
        goto L_##d;                     \
    }
    VM_QUADS(VM_QUAD_CASE)
#undef VM_QUAD_CASE

#ifndef VM_GOTO
    default:
        fail = UTXO_VM_FAIL_ILLEGAL;
        goto fault;
    }
#endif

slow_load: {
    uint32_t a = RS1 + IMM;
    fail = vm_load_slow(v, a, access_size(ip->op));
    if (fail)
        goto fault;
    SETTLE(ip->pc, ip->blen - 1u);
    if (stepping && ip != sb)
        goto step_copy; /* SETTLE left fast mode: this one alone, counted */
    vmdispatch(); /* page is there now: redo the load, already counted */
}

slow_store: {
    uint32_t a = RS1 + IMM;
    /* Read before the store: it may patch this very table in place. */
    uint32_t rest = ip->blen - 1u, next_pc = ip->pc + 4u;
    int recode;
    fail = vm_store_slow(v, a, access_size(ip->op), RS2, &recode);
    if (fail)
        goto fault;
    SETTLE(next_pc - 4u, rest);
    /* Only a store into the page being executed can change what runs next:
     * give the rest of the run back, as charged, and fetch afresh (the page
     * is now patched, so it continues in step mode). */
    if (!recode || (a >> VM_PAGE_SHIFT) != (next_pc >> VM_PAGE_SHIFT)) {
        if (stepping && ip != sb) {
            ip++; /* SETTLE left fast mode: the gate counts the next one */
            goto step_gate;
        }
        NEXT();
    }
    if (!stepping)
        cycles -= rest;
    GOTO_PC(next_pc);
}

far: {
    const vm_dpage *d;
    /* Decoded page already there (the common case): no call. */
    if ((target & 3u) == 0 && pst[target >> VM_PAGE_SHIFT] >= VM_PG_CODE) {
        d = v->dtab[target >> VM_PAGE_SHIFT];
    } else if (UNLIKELY(!(d = vm_fetch_page(v, target, &fail)))) {
        v->cycles = cycles;
        vm_finish(v, UTXO_VM_FAILED, fail, 0, target);
        return VM_RUN_DONE;
    }
    ip = &d->ins[(target >> 2) & (VM_PAGE_INSNS - 1u)];
    if (UNLIKELY(d->patched))
        goto step_gate; /* run lengths not maintained: one at a time */
    if (UNLIKELY(stepping)) {
        /* Leaving a patched page, or past a stop-point run: ENTER decides
         * again whether this run fits before the stop point. */
        stepping = 0;
        limit = stop;
    }
    ENTER();
}

over:
    /* ENTER found the run too long for the stop point: undo its charge and
     * go one instruction at a time from here. */
    cycles -= ip->blen;
step_gate:
    if (ip == &sb[1])
        ip = sr + 1; /* after a stepped instruction: the next slot */
    if (ip->op == VM_OP_PAGE_END)
        GOTO_PC(ip->pc); /* the sentinel is not an instruction: no cycle */
    if (cycles >= stop) {
        v->cycles = cycles;
        v->pc = ip->pc;
        if (cycles >= v->budget) {
            vm_finish(v, UTXO_VM_FAILED, UTXO_VM_FAIL_OUT_OF_CYCLES, 0, ip->pc);
            return VM_RUN_DONE;
        }
        return VM_RUN_PAUSED;
    }
    if (!stepping) {
        stepping = 1;
        limit = 0; /* every ENTER now lands in `over` */
    }
    cycles++;
step_copy:
    /* Run the slot at ip alone, from a copy: its plain op, near targets
     * made absolute (the copy is not in the page), then STEP_CONT. */
    sr = ip;
    sb[0] = *ip;
    switch (ip->op) {
    case VM_OP_JAL: case VM_OP_BEQ: case VM_OP_BNE: case VM_OP_BLT:
    case VM_OP_BGE: case VM_OP_BLTU: case VM_OP_BGEU:
        sb[0].xop = (uint16_t)(ip->op == VM_OP_JAL ? VM_OP_JAL_FAR
                                                   : ip->op + (VM_OP_BEQ_FAR - VM_OP_BEQ));
        sb[0].imm = (int32_t)(ip->pc + 4u * (uint32_t)ip->imm);
        break;
    case VM_OP_JALR:
        sb[0].xop = VM_OP_JALR_STEP;
        break;
    default:
        sb[0].xop = ip->op;
        break;
    }
    SET_H(&sb[0]);
    ip = sb;
    vmdispatch();

fault:
    REFUND();
    v->cycles = cycles;
    vm_finish(v, UTXO_VM_FAILED, fail, 0, ip->pc);
    return VM_RUN_DONE;
}

#ifdef VM_GOTO
const void *const *vm_interp_handlers(void)
{
    const void *const *t = atomic_load_explicit(&vm_hoff_table, memory_order_acquire);
    if (!t) {
        (void)vm_interp(NULL, 0); /* publishes its table */
        t = atomic_load_explicit(&vm_hoff_table, memory_order_acquire);
    }
    return t;
}
#endif
