/*
 * vm_decode.c — RV32IM instruction words to vm_insn (vm_internal.h).
 *
 * Decoding is strict: a word is accepted only with the exact fields the
 * RV32I and M chapters of the unprivileged specification define; everything
 * else (compressed, CSR, A, F/D, reserved shift encodings, unknown funct
 * fields) becomes VM_OP_ILLEGAL, which fails only if it is executed. The
 * FENCE and FENCE.I fields the specification reserves for the future (rd,
 * rs1, fm/pred/succ, imm) are ignored as the specification asks.
 *
 * Decoding folds everything that only depends on the instruction's address:
 * AUIPC becomes a constant load, branch and JAL targets become slot deltas
 * (same page) or absolute pcs, and writes to x0 are redirected to a sink
 * register so that the interpreter never tests rd == 0.
 *
 * Then a pass over the page picks the fast-path operation (xop) of each
 * slot: a superinstruction when the slot and the next ones form a shape the
 * interpreter fuses (VM_QUADS, VM_TRIPLES, VM_PAIRS, indexed accesses, and
 * calls: LUI/AUIPC + JALR through the same register, whose target is then a
 * constant), RET for `jalr x0, 0(ra)`,
 * else the plain op; and stores the handler's offset (h) so that dispatch
 * needs no table. A fused shape never spans two runs, so metering (which charges
 * whole runs) is unchanged; step mode executes the plain op.
 */
#include "config.h"

#include <limits.h>
#include <string.h>
#include "predicates/vm_decode.h"
#include "predicates/vm_internal.h"

static uint8_t dest(uint32_t w)
{
    uint32_t rd = RV_RD(w);
    return (uint8_t)(rd == 0 ? VM_XSINK : rd);
}

/* Sets a control-transfer target: near (slot delta) or far (absolute). */
static void set_target(vm_insn *in, uint32_t pc, uint32_t target, uint8_t near_op,
                       uint8_t far_op)
{
    if ((target & 3u) == 0 && (target >> VM_PAGE_SHIFT) == (pc >> VM_PAGE_SHIFT)) {
        in->op = near_op;
        in->imm = (int32_t)(target >> 2) - (int32_t)(pc >> 2); /* tk: set_xop */
    } else {
        in->op = far_op;
        in->imm = (int32_t)target;
    }
}

static void decode_word(vm_insn *in, uint32_t w, uint32_t pc)
{
    uint32_t f3 = RV_FUNCT3(w), f7 = RV_FUNCT7(w);

    memset(in, 0, sizeof *in);
    in->op = VM_OP_ILLEGAL;
    in->xop = VM_OP_ILLEGAL;
    in->pc = pc;
    in->rd = dest(w);
    in->rs1 = (uint8_t)RV_RS1(w);
    in->rs2 = (uint8_t)RV_RS2(w);

    switch (RV_OPCODE(w)) {
    case RV_LUI:
        in->op = VM_OP_LI;
        in->imm = RV_IMM_U(w);
        break;
    case RV_AUIPC:
        in->op = VM_OP_LI;
        in->imm = (int32_t)(pc + (uint32_t)RV_IMM_U(w));
        break;
    case RV_JAL:
        set_target(in, pc, pc + (uint32_t)RV_IMM_J(w), VM_OP_JAL, VM_OP_JAL_FAR);
        break;
    case RV_JALR:
        if (f3 == 0) {
            in->op = VM_OP_JALR;
            in->imm = RV_IMM_I(w);
        }
        break;
    case RV_BRANCH: {
        static const uint8_t near[8] = {VM_OP_BEQ, VM_OP_BNE, 0, 0,
                                        VM_OP_BLT, VM_OP_BGE, VM_OP_BLTU, VM_OP_BGEU};
        static const uint8_t far[8] = {VM_OP_BEQ_FAR, VM_OP_BNE_FAR, 0, 0,
                                       VM_OP_BLT_FAR, VM_OP_BGE_FAR, VM_OP_BLTU_FAR,
                                       VM_OP_BGEU_FAR};
        if (f3 != 2 && f3 != 3)
            set_target(in, pc, pc + (uint32_t)RV_IMM_B(w), near[f3], far[f3]);
        break;
    }
    case RV_LOAD: {
        static const uint8_t ops[8] = {VM_OP_LB, VM_OP_LH, VM_OP_LW, VM_OP_ILLEGAL,
                                       VM_OP_LBU, VM_OP_LHU, VM_OP_ILLEGAL, VM_OP_ILLEGAL};
        in->op = ops[f3];
        in->imm = RV_IMM_I(w);
        break;
    }
    case RV_STORE:
        if (f3 <= 2) {
            static const uint8_t ops[3] = {VM_OP_SB, VM_OP_SH, VM_OP_SW};
            in->op = ops[f3];
            in->imm = RV_IMM_S(w);
        }
        break;
    case RV_OP_IMM:
        in->imm = RV_IMM_I(w);
        switch (f3) {
        case 0: in->op = VM_OP_ADDI; break;
        case 2: in->op = VM_OP_SLTI; break;
        case 3: in->op = VM_OP_SLTIU; break;
        case 4: in->op = VM_OP_XORI; break;
        case 6: in->op = VM_OP_ORI; break;
        case 7: in->op = VM_OP_ANDI; break;
        case 1: /* SLLI: imm[11:5] must be 0 (shamt[5] != 0 is reserved on RV32) */
            if (f7 == 0) {
                in->op = VM_OP_SLLI;
                in->imm = (int32_t)RV_RS2(w);
            }
            break;
        case 5:
            if (f7 == 0x00 || f7 == 0x20) {
                in->op = f7 ? VM_OP_SRAI : VM_OP_SRLI;
                in->imm = (int32_t)RV_RS2(w);
            }
            break;
        }
        break;
    case RV_OP:
        if (f7 == 0x00) {
            static const uint8_t ops[8] = {VM_OP_ADD, VM_OP_SLL, VM_OP_SLT, VM_OP_SLTU,
                                           VM_OP_XOR, VM_OP_SRL, VM_OP_OR, VM_OP_AND};
            in->op = ops[f3];
        } else if (f7 == 0x20) {
            if (f3 == 0)
                in->op = VM_OP_SUB;
            else if (f3 == 5)
                in->op = VM_OP_SRA;
        } else if (f7 == 0x01) {
            static const uint8_t ops[8] = {VM_OP_MUL, VM_OP_MULH, VM_OP_MULHSU, VM_OP_MULHU,
                                           VM_OP_DIV, VM_OP_DIVU, VM_OP_REM, VM_OP_REMU};
            in->op = ops[f3];
        }
        break;
    case RV_MISC_MEM:
        if (f3 == 0)
            in->op = VM_OP_FENCE;
        else if (f3 == 1)
            in->op = VM_OP_FENCE_I;
        break;
    case RV_SYSTEM:
        if (w == RV_WORD_ECALL)
            in->op = VM_OP_ECALL;
        else if (w == RV_WORD_EBREAK)
            in->op = VM_OP_EBREAK;
        break;
    default:
        break;
    }
}

/* Does this op end a straight-line run (the next one starts a new block)? */
static int ends_run(uint8_t op)
{
    switch (op) {
    case VM_OP_ILLEGAL: case VM_OP_JAL: case VM_OP_JAL_FAR: case VM_OP_JALR:
    case VM_OP_BEQ: case VM_OP_BNE: case VM_OP_BLT: case VM_OP_BGE:
    case VM_OP_BLTU: case VM_OP_BGEU: case VM_OP_BEQ_FAR: case VM_OP_BNE_FAR:
    case VM_OP_BLT_FAR: case VM_OP_BGE_FAR: case VM_OP_BLTU_FAR: case VM_OP_BGEU_FAR:
    case VM_OP_FENCE_I: case VM_OP_ECALL: case VM_OP_EBREAK:
        return 1;
    default:
        return 0;
    }
}

/* Superinstruction of the pair (first, second), or 0 (VM_OP_ILLEGAL). */
static const uint16_t pair_op[VM_OP__BASE][VM_OP__BASE] = {
#define VM_PAIR_INIT(a, b) [VM_OP_##a][VM_OP_##b] = VM_OP_##a##__##b,
    VM_PAIRS(VM_PAIR_INIT)
#undef VM_PAIR_INIT
};

/* Chained pair of (first, second), or 0 (VM_CPAIRS). */
static const uint16_t cpair_op[VM_OP__BASE][VM_OP__BASE] = {
#define VM_CPAIR_INIT(a, b) [VM_OP_##a][VM_OP_##b] = VM_OP_##a##_C_##b,
    VM_CPAIRS(VM_CPAIR_INIT)
#undef VM_CPAIR_INIT
};

/* The longer superinstructions: length, ops, fused op. */
typedef struct {
    uint8_t n;
    uint8_t op[4];
    uint16_t xop;
} vm_shape;
static const vm_shape long_shapes[] = {
#define VM_QUAD_INIT(a, b, c, d)                                               \
    {4, {VM_OP_##a, VM_OP_##b, VM_OP_##c, VM_OP_##d}, VM_OP_##a##__##b##__##c##__##d},
#define VM_TRIPLE_INIT(a, b, c) {3, {VM_OP_##a, VM_OP_##b, VM_OP_##c, 0}, VM_OP_##a##__##b##__##c},
    VM_QUADS(VM_QUAD_INIT) VM_TRIPLES(VM_TRIPLE_INIT)
#undef VM_QUAD_INIT
#undef VM_TRIPLE_INIT
};

/* Whether long shape k starts at ins[i]. The whole shape must lie in one
 * run (blen counts the slots to the run's end, never past the page), so
 * only its last op may end the run. */
static int long_match(const vm_insn *ins, uint32_t i, size_t k)
{
    const vm_shape *s = &long_shapes[k];
    if (ins[i].blen < s->n || i + s->n > VM_PAGE_INSNS)
        return 0;
    for (uint32_t j = 0; j < s->n; j++)
        if (ins[i + j].op != s->op[j])
            return 0;
    return 1;
}

/* An indexed access, a[i] or a[i & m]: [ANDI t, s, m;] SLLI t, t|s, k;
 * ADD t, t, b or t, b, t (b != t); LW d, imm(t) or SW v, imm(t), all in one
 * run (the IDX forms). Returns the form and sets *b, or returns 0. The
 * ADD's other operand being t also rules out t = the sink (rs fields never
 * name it). */
static uint16_t index_shape(const vm_insn *ins, uint32_t i, uint32_t *b)
{
    const vm_insn *a = &ins[i];
    uint32_t k = a->op == VM_OP_ANDI; /* slot of the SLLI */
    if ((a->op != VM_OP_ANDI && a->op != VM_OP_SLLI) || a->blen < k + 3 ||
        i + k + 3 > VM_PAGE_INSNS)
        return 0;
    const vm_insn *sl = &ins[i + k], *ad = &ins[i + k + 1], *m = &ins[i + k + 2];
    uint32_t t = sl->rd;
    if (sl->op != VM_OP_SLLI || ad->op != VM_OP_ADD || ad->rd != t || m->rs1 != t)
        return 0;
    if (k && (a->rd != t || sl->rs1 != t))
        return 0;
    if (ad->rs1 == t && ad->rs2 != t)
        *b = ad->rs2;
    else if (ad->rs2 == t && ad->rs1 != t)
        *b = ad->rs1;
    else
        return 0;
    if (m->op == VM_OP_LW)
        return k ? VM_OP_MIDX_LW : VM_OP_IDX_LW;
    if (m->op == VM_OP_SW && !k)
        return VM_OP_IDX_SW;
    return 0;
}

/* The special forms of some shapes (VM_XOPS), whose handlers do the work
 * of several slots with fewer tests or register reads; 0 when the operands
 * do not allow it. The handlers' preconditions are in vm_internal.h. */
static uint16_t special_shape(vm_insn *ins, uint32_t i)
{
    vm_insn *a = &ins[i];
    uint32_t base;
    uint16_t ix = index_shape(ins, i, &base);
    if (ix) {
        a->aux = (int32_t)base; /* unused by the ALU op otherwise */
        return ix;
    }
    if (a->blen >= 4 && i + 4 <= VM_PAGE_INSNS &&
        (a->op == VM_OP_LW || a->op == VM_OP_SW)) {
        /* Offsets rising by 4 (copies), or falling by 4 (the saves and
         * restores of a prologue and an epilogue). */
        int32_t step = ins[i + 1].imm == a->imm - 4 ? -4 : 4;
        uint32_t k = 1;
        while (k < 4 && ins[i + k].op == a->op && ins[i + k].rs1 == a->rs1 &&
               ins[i + k].imm == a->imm + step * (int32_t)k)
            k++;
        if (k == 4 && a->op == VM_OP_SW)
            return step > 0 ? VM_OP_SW4 : VM_OP_SW4D;
        /* A load into the base changes the address of the next ones. */
        if (k == 4 && ins[i].rd != a->rs1 && ins[i + 1].rd != a->rs1 && ins[i + 2].rd != a->rs1)
            return step > 0 ? VM_OP_LW4 : VM_OP_LW4D;
    }
    if (a->op == VM_OP_ADD) {
        /* ADDs each reading the one before's result: the other source of
         * each later one in its aux (unused by ADD otherwise). */
        uint32_t k = 1;
        while (k < 4 && k < a->blen && i + k < VM_PAGE_INSNS && ins[i + k].op == VM_OP_ADD &&
               (ins[i + k].rs1 == ins[i + k - 1].rd || ins[i + k].rs2 == ins[i + k - 1].rd)) {
            vm_insn *n = &ins[i + k];
            n->aux = n->rs1 == ins[i + k - 1].rd ? n->rs2 : n->rs1;
            k++;
        }
        if (k >= 2)
            return (uint16_t)(VM_OP_ADD2C + (k - 2));
    }
    if (a->blen >= 3 && i + 3 <= VM_PAGE_INSNS && a->op == VM_OP_SRLI) {
        const vm_insn *b = &ins[i + 1], *c = &ins[i + 2];
        /* OR's sources name t and u, so neither is the sink (rs fields are
         * never VM_XSINK). */
        if (b->op == VM_OP_SLLI && c->op == VM_OP_OR && b->rs1 == a->rs1 && a->rd != a->rs1 &&
            a->rd != b->rd &&
            ((c->rs1 == a->rd && c->rs2 == b->rd) || (c->rs1 == b->rd && c->rs2 == a->rd))) {
            if (a->blen >= 4 && i + 4 <= VM_PAGE_INSNS && ins[i + 3].op == VM_OP_XOR) {
                vm_insn *x = &ins[i + 3];
                if (x->rs1 != c->rd && x->rs2 != c->rd)
                    return VM_OP_ROTR_XOR;
                x->aux = x->rs1 == c->rd ? x->rs2 : x->rs1;
                return VM_OP_ROTR_XORC;
            }
            return VM_OP_ROTR;
        }
    }
    if (a->blen >= 2 && i + 1 < VM_PAGE_INSNS && cpair_op[a->op][ins[i + 1].op]) {
        /* The second reads the first's result (so that is not the sink). */
        vm_insn *n = &ins[i + 1];
        if (n->rs1 == a->rd || n->rs2 == a->rd) {
            n->aux = n->rs1 == a->rd ? n->rs2 : n->rs1;
            return cpair_op[a->op][n->op];
        }
    }
    return 0;
}

/* Slots one dispatch of special form x covers. */
static uint32_t special_span(uint16_t x)
{
    if (x >= VM_OP__CPBASE)
        return 2; /* chained pairs */
    switch (x) {
    case VM_OP_ADD2C: return 2;
    case VM_OP_ROTR: case VM_OP_IDX_LW: case VM_OP_IDX_SW: case VM_OP_ADD3C: return 3;
    default: return 4; /* LW4, SW4, LW4D, SW4D, ROTR_XOR(C), MIDX_LW, ADD4C */
    }
}

/* Handler addresses, or NULL (switch dispatch: h unused). */
static const void *const *hoffs(void)
{
#if defined(__GNUC__) && !defined(VM_NO_COMPUTED_GOTO)
    return vm_interp_handlers();
#else
    return NULL;
#endif
}

/* Whether op is a near jump or branch (a slot delta in imm). */
static int near_op(uint8_t op)
{
    return op == VM_OP_JAL || (op >= VM_OP_BEQ && op <= VM_OP_BGEU);
}

static void set_xop(vm_insn *in, uint16_t xop, const void *const *ho)
{
    in->xop = xop;
    in->h = ho ? ho[xop] : NULL;
    if (ho && near_op(in->op))
        in->tk = ho[VM_TAKEN(in->imm)];
}

/* The cost of a chain from ins[i] to its run's end when the first
 * dispatch covers n slots and costs w; cost[] holds the chains from the
 * slots after i. A dispatch costs VM_DISPATCH_W, an indexed access (IDX
 * forms) one less: between chains of as many dispatches, the one with more
 * of them (which also keep their intermediate values out of x[]) wins. */
#define VM_DISPATCH_W 4u
static unsigned chain(const vm_insn *ins, const uint16_t *cost, uint32_t i, uint32_t n,
                      unsigned w)
{
    return n >= ins[i].blen ? w : w + cost[i + n];
}
static unsigned dispatch_w(unsigned x)
{
    return x == VM_OP_IDX_LW || x == VM_OP_MIDX_LW || x == VM_OP_IDX_SW ? VM_DISPATCH_W - 1u
                                                                        : VM_DISPATCH_W;
}

/* Chooses the fast-path op of ins[i] (i < VM_PAGE_INSNS; ins[i + 1] is the
 * next slot, the sentinel for the last one, never fused), the slots after
 * it chosen already: of the forms that apply, the one whose chain to the
 * end of the run costs least (dispatches, an indexed access a little
 * less: dispatch_w), ties to the form tried first (special forms, then
 * longer shapes, pairs, the plain op). Every slot's
 * choice is the best chain from that slot, so a run is entered anywhere
 * at its best (a pair chosen greedily could swallow the head of a group of
 * four after it). cost[i] gets the chain's cost. */
static void fuse(vm_insn *ins, uint32_t i, uint16_t *cost, const void *const *ho)
{
    vm_insn *a = &ins[i], *b = &ins[i + 1];
    uint16_t x = 0;
    unsigned c = UINT_MAX;
#define TRY(x_, n_)                                                         \
    do {                                                                    \
        unsigned c_ = chain(ins, cost, i, (n_), dispatch_w(x_));            \
        if (c_ < c) {                                                       \
            c = c_;                                                         \
            x = (uint16_t)(x_);                                             \
        }                                                                   \
    } while (0)

    if (a->op == VM_OP_JALR && a->rs1 == 1 && a->rd == VM_XSINK && a->imm == 0) {
        TRY(VM_OP_RET, 1);
    } else if (i + 1 < VM_PAGE_INSNS && a->blen >= 2) {
        if (a->op == VM_OP_LI && b->op == VM_OP_JALR && b->rs1 == a->rd &&
            a->rd != VM_XSINK) {
            uint32_t t = ((uint32_t)a->imm + (uint32_t)b->imm) & ~1u;
            if ((t & 3u) == 0 && (t >> VM_PAGE_SHIFT) == (a->pc >> VM_PAGE_SHIFT)) {
                TRY(VM_OP_CALL, 2);
                a->aux = ((int32_t)(t >> 2) - (int32_t)(a->pc >> 2)) * (int32_t)sizeof(vm_insn);
            } else {
                TRY(VM_OP_CALL_FAR, 2);
                a->aux = (int32_t)t;
            }
        } else {
            uint16_t sx = special_shape(ins, i);
            if (sx)
                TRY(sx, special_span(sx));
            for (size_t k = 0; k < sizeof long_shapes / sizeof long_shapes[0]; k++)
                if (long_match(ins, i, k))
                    TRY(long_shapes[k].xop, long_shapes[k].n);
            if (pair_op[a->op][b->op])
                TRY(pair_op[a->op][b->op], 2);
        }
    }
    TRY(a->op, 1);
#undef TRY
    cost[i] = (uint16_t)c;
    set_xop(a, x, ho);
}

void vm_decode_patch(vm_dpage *d, uint32_t slot, uint32_t word)
{
    decode_word(&d->ins[slot], word, d->vaddr + 4 * slot);
    /* Patched pages run in step mode, which executes the plain op of every
     * slot; the fast-path fields are only kept consistent. */
    set_xop(&d->ins[slot], d->ins[slot].op, hoffs());
    d->ins[slot].blen = 1; /* never read while patched; keep it sane */
    d->patched = 1;
}

void vm_decode_page(vm_dpage *d, uint32_t vaddr, const uint8_t *bytes)
{
    d->vaddr = vaddr;
    for (uint32_t i = 0; i < VM_PAGE_INSNS; i++)
        decode_word(&d->ins[i], vm_le32(bytes + 4 * i), vaddr + 4 * i);
    /* Run lengths, from the page end backwards. */
    uint16_t run = 0;
    for (uint32_t i = VM_PAGE_INSNS; i-- > 0;) {
        run = ends_run(d->ins[i].op) ? 1 : (uint16_t)(run + 1);
        d->ins[i].blen = run;
    }
    d->patched = 0;
    const void *const *ho = hoffs();
    vm_insn *s = &d->ins[VM_PAGE_INSNS];
    memset(s, 0, sizeof *s);
    s->op = VM_OP_PAGE_END;
    s->rd = VM_XSINK;
    s->blen = 0;
    s->pc = vaddr + VM_PAGE_BYTES; /* wraps to 0 on the last page: bad fetch */
    set_xop(s, VM_OP_PAGE_END, ho);
    uint16_t cost[VM_PAGE_INSNS];
    for (uint32_t i = VM_PAGE_INSNS; i-- > 0;)
        fuse(d->ins, i, cost, ho);
}
