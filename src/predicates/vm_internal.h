/*
 * vm_internal.h — private layout of the RV32IM machine (vm.c, vm_mem.c,
 * vm_decode.c, vm_interp.c). Nothing outside those files includes this; the
 * contract with the rest of the tree is src/predicates/vm.h. Design notes:
 * docs/VM.md ("Implementation").
 *
 * Memory. Each vm reserves 4 GiB of address space once (never committed up
 * front), so guest address a lives at mem + a with no bounds check. A byte per
 * 1 KiB page (pstate) says what the page is; loads take the fast path when it
 * is not VM_PG_NONE, stores when it is VM_PG_RW, so a load or store costs an
 * add, one byte test and the alignment test. Every materialised page is on
 * the touched list; a reset zeroes and forgets only those.
 *
 * Code. Instructions are decoded a page at a time into vm_dpage tables (256
 * slots plus a sentinel). A program (vm_program) holds the image pages and
 * decodes them lazily, once, into tables shared read-only by every vm and
 * thread (published with an atomic compare-and-swap). A page that is not the
 * program's pristine content gets a private table owned by the vm. Any store
 * to a page with a table (VM_PG_CODE) takes the slow path, which drops the
 * table and makes the interpreter re-fetch: fetch is coherent with memory at
 * every instruction.
 *
 * Metering. Each decoded instruction carries blen: the number of instructions
 * from it to the end of its straight-line run (the next control transfer,
 * ECALL, FENCE.I, illegal word or the page end). The interpreter adds blen on
 * entering a run and refunds the unexecuted tail when it leaves a run early
 * (fault, code store). When a run would cross the stop point, it executes one
 * instruction at a time, so the count is always exact. Pages whose table was
 * patched by stores (self-modifying code, data next to code) are also
 * executed one instruction at a time: keeping their run lengths current
 * would cost a walk over the run per store, a denial-of-service lever.
 */
#ifndef UTXO_SRC_VM_INTERNAL_H
#define UTXO_SRC_VM_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "predicates/vm.h"

#define VM_PAGE_INSNS (VM_PAGE_BYTES / 4u) /* 256 instruction slots */
#define VM_ADDR_SPACE (UINT64_C(1) << 32)
#define VM_LOW_PAGES (VM_LOW_UNMAPPED >> VM_PAGE_SHIFT)
#define VM_XSINK 32u /* register slot that absorbs writes to x0 */
/* A reset after a run that touched more pages than this hands the whole
 * reservation back to the kernel (vm_mem_reset), so one huge run does not
 * stay resident forever. */
#define VM_RESET_BULK_PAGES 4096u

/* Page states (one byte per page in vm.pstate). */
enum vm_pgstate {
    VM_PG_NONE = 0,  /* not materialised: any access takes the slow path */
    VM_PG_RW = 1,    /* materialised, loads and stores fast */
    VM_PG_IMAGE = 2, /* pristine image content: loads fast, stores slow */
    VM_PG_CODE = 3,  /* dtab holds the program's shared table: stores slow */
    VM_PG_OWNCODE = 4 /* dtab holds a table private to this vm: stores slow */
};
/* The state alone says who owns a page's table, so a reset never reads a
 * table (a shared one may belong to a program freed since the run). */

/*
 * Decoded operations, one line of meaning each. "near" branches and jumps
 * target a slot of the same page: imm is the slot delta (tk the label that
 * takes it, vm_insn). "far" ones hold the absolute target pc in imm. rd is
 * never 0: writes to x0 go to VM_XSINK.
 */
#define VM_OPS(X)                                                           \
    X(ILLEGAL)  /* not an RV32IM instruction: fail ILLEGAL */               \
    X(LI)       /* rd = imm (LUI; AUIPC with its pc folded in) */           \
    X(JAL)      /* rd = pc + 4; go to slot + imm (near) */                  \
    X(JAL_FAR)  /* rd = pc + 4; go to pc imm */                             \
    X(JALR)     /* t = (rs1 + imm) & ~1; rd = pc + 4; go to t */            \
    X(BEQ)      /* if rs1 == rs2 go to slot + imm (near) */                 \
    X(BNE)      /* if rs1 != rs2 ... */                                     \
    X(BLT)      /* if (int)rs1 < (int)rs2 ... */                            \
    X(BGE)      /* if (int)rs1 >= (int)rs2 ... */                           \
    X(BLTU)     /* if rs1 < rs2 ... */                                      \
    X(BGEU)     /* if rs1 >= rs2 ... */                                     \
    X(BEQ_FAR)  /* as BEQ, target pc in imm */                              \
    X(BNE_FAR)                                                              \
    X(BLT_FAR)                                                              \
    X(BGE_FAR)                                                              \
    X(BLTU_FAR)                                                             \
    X(BGEU_FAR)                                                             \
    X(LB)       /* rd = sext(mem8[rs1 + imm]) */                            \
    X(LH)       /* rd = sext(mem16[rs1 + imm]), 2-aligned */                \
    X(LW)       /* rd = mem32[rs1 + imm], 4-aligned */                      \
    X(LBU)      /* rd = zext(mem8[rs1 + imm]) */                            \
    X(LHU)      /* rd = zext(mem16[rs1 + imm]) */                           \
    X(SB)       /* mem8[rs1 + imm] = rs2 */                                 \
    X(SH)       /* mem16[rs1 + imm] = rs2, 2-aligned */                     \
    X(SW)       /* mem32[rs1 + imm] = rs2, 4-aligned */                     \
    X(ADDI)     /* rd = rs1 + imm */                                        \
    X(SLTI)     /* rd = (int)rs1 < imm */                                   \
    X(SLTIU)    /* rd = rs1 < (uint32)imm */                                \
    X(XORI)                                                                 \
    X(ORI)                                                                  \
    X(ANDI)                                                                 \
    X(SLLI)     /* rd = rs1 << imm (imm < 32) */                            \
    X(SRLI)                                                                 \
    X(SRAI)                                                                 \
    X(ADD)                                                                  \
    X(SUB)                                                                  \
    X(SLL)      /* rd = rs1 << (rs2 & 31) */                                \
    X(SLT)                                                                  \
    X(SLTU)                                                                 \
    X(XOR)                                                                  \
    X(SRL)                                                                  \
    X(SRA)                                                                  \
    X(OR)                                                                   \
    X(AND)                                                                  \
    X(MUL)      /* low 32 bits of rs1 * rs2 */                              \
    X(MULH)     /* high 32 bits, signed x signed */                         \
    X(MULHSU)   /* high 32 bits, signed rs1 x unsigned rs2 */               \
    X(MULHU)    /* high 32 bits, unsigned x unsigned */                     \
    X(DIV)      /* x/0 = -1; INT_MIN/-1 = INT_MIN */                        \
    X(DIVU)     /* x/0 = 0xFFFFFFFF */                                      \
    X(REM)      /* x%0 = x; INT_MIN%-1 = 0 */                               \
    X(REMU)     /* x%0 = x */                                               \
    X(FENCE)    /* no effect (one hart, no devices) */                      \
    X(FENCE_I)  /* ends the run; stores already keep fetch coherent */      \
    X(ECALL)    /* host call a7 (vm_host_call) */                           \
    X(EBREAK)   /* fail EBREAK */                                           \
    X(PAGE_END) /* sentinel after slot 255: continue on the next page */

/*
 * Operations only the interpreter's fast path sees, in vm_insn.xop: the
 * decoder's superinstructions (a slot whose xop covers it and the next slot
 * of the same run) and the step-mode helpers. `op` always keeps the plain
 * operation of the slot, which is what step mode executes.
 */
#define VM_XOPS(X)                                                          \
    X(RET)        /* JALR x0, 0(ra) */                                      \
    X(CALL)       /* LUI/AUIPC rd + JALR rd2, imm(rd): aux = byte delta */  \
    X(CALL_FAR)   /* same, aux = absolute target */                         \
    X(JALR_STEP)  /* JALR executed from a step copy: always far */          \
    X(STEP_CONT)  /* end of a step copy: back to the step gate */          \
    X(LW4)        /* LW rd_k, imm + 4k(base), k = 0..3; no rd_k, k < 3, is  \
                     the base: one test for 16 bytes in one page */         \
    X(SW4)        /* SW rs2_k, imm + 4k(base), k = 0..3: the same */        \
    X(LW4D)       /* LW rd_k, imm - 4k(base), k = 0..3 (an epilogue's       \
                     restores), no rd_k, k < 3, the base: one test */       \
    X(SW4D)       /* SW rs2_k, imm - 4k(base) (a prologue's saves): same */ \
    X(ROTR)       /* SRLI t, s, i; SLLI u, s, j; OR d, t, u (either order), \
                     t != s, t != u: s read once, t and u not reloaded */   \
    X(ROTR_XOR)   /* ROTR, then a direct jump to the XOR after it */    \
    X(IDX_LW)     /* SLLI t, s, k; ADD t, t, b (either order, b != t);      \
                     LW d, imm(t): a[i] read; aux = b; the address built   \
                     in a host register, t written once */                 \
    X(MIDX_LW)    /* ANDI t, s, m; SLLI t, t, k; ADD t, t, b; LW d, imm(t): \
                     a[i & m] read; aux = b; the same */                    \
    X(IDX_SW)     /* SLLI t, s, k; ADD t, t, b; SW v, imm(t): a[i] write */ \
    X(ADD2C)      /* ADD, then ADDs each reading the one before's rd (as    \
                     rs1 or rs2; aux of each later slot: its other source): \
                     the sum carried in a host register */                  \
    X(ADD3C)                                                                \
    X(ADD4C)                                                                \
    X(ROTR_XORC)  /* ROTR_XOR whose XOR reads d: aux of the XOR's slot is   \
                     its other source */

/*
 * Pairs fused into one dispatch: the first op's work, then a direct jump to
 * the second op's handler (no indirect jump in between). Firsts are the
 * ALU, LUI/AUIPC and memory ops clang emits most; seconds add the
 * compare-and-branch shapes, JAL and JALR (returns, switch tables).
 */
#define VM_PAIR_ROW(X, a)                                                   \
    X(a, LI) X(a, ADDI) X(a, ADD) X(a, SUB) X(a, SLLI) X(a, SRLI)           \
    X(a, SRAI) X(a, ANDI) X(a, XORI) X(a, OR) X(a, XOR) X(a, AND)           \
    X(a, SLTU) X(a, MUL) X(a, LW) X(a, LBU) X(a, LB) X(a, SW) X(a, SB)      \
    X(a, BEQ) X(a, BNE) X(a, BLT) X(a, BGE) X(a, BLTU) X(a, BGEU)           \
    X(a, JAL) X(a, JALR)
#define VM_PAIRS(X)                                                         \
    VM_PAIR_ROW(X, LI) VM_PAIR_ROW(X, ADDI) VM_PAIR_ROW(X, ADD)             \
    VM_PAIR_ROW(X, SUB) VM_PAIR_ROW(X, SLLI) VM_PAIR_ROW(X, SRLI)           \
    VM_PAIR_ROW(X, SRAI) VM_PAIR_ROW(X, ANDI) VM_PAIR_ROW(X, XORI)          \
    VM_PAIR_ROW(X, OR) VM_PAIR_ROW(X, XOR) VM_PAIR_ROW(X, AND)              \
    VM_PAIR_ROW(X, SLTU) VM_PAIR_ROW(X, MUL) VM_PAIR_ROW(X, LW)             \
    VM_PAIR_ROW(X, LBU) VM_PAIR_ROW(X, LB) VM_PAIR_ROW(X, LHU)              \
    VM_PAIR_ROW(X, SW) VM_PAIR_ROW(X, SB) VM_PAIR_ROW(X, SH)

/*
 * Longer shapes fused the same way: the work of every op but the last, then
 * a direct jump to the last one's handler. They are the straight-line
 * shapes of the hot loops clang emits for the bench workloads (rotates in
 * sha256, unrolled word copies in memcpy, the sieve's mark and scan loops,
 * counted loops ending in add + branch). Every op but the last must have a
 * DO_ body in vm_interp.c; the last may be any op (a branch ends the run).
 * The decoder gives each slot the form (special, long shape, pair or plain
 * op) whose chain of dispatches to the run's end is shortest (vm_decode.c,
 * fuse), ties to the special forms, then the longer shapes.
 */
#define VM_TRIPLES(X)                                                       \
    X(SRLI, SLLI, OR)      /* rotate right */                               \
    X(ADD, LBU, BEQ)       /* load a byte through base + index, test it */  \
    X(SRLI, ADDI, BNE)                                                      \
    X(ADD, ADD, SRLI)                                                       \
    X(ADD, ADD, ADD)                                                        \
    X(ADDI, ADDI, ADDI)                                                     \
    X(ADDI, ADDI, JAL)                                                      \
    X(AND, XORI, AND)      /* ch(): and, not, and */                        \
    X(XOR, AND, AND)       /* maj() */                                      \
    X(LBU, SLLI, LBU)      /* bytes to a big-endian word */                 \
    X(OR, SLLI, OR)
#define VM_QUADS(X)                                                         \
    X(LW, LW, LW, LW)      /* unrolled copy */                              \
    X(SW, SW, SW, SW)                                                       \
    X(ADDI, ADDI, ADDI, BLTU) /* three induction variables and the test */  \
    X(SB, ADDI, ADDI, BNE) /* fill loop */                                  \
    X(SRLI, SLLI, OR, XOR) /* rotate, folded into a sum */                  \
    X(ADD, ADD, ADD, ADD)

/*
 * Chained pairs: a second op that is commutative (ADD, XOR, OR, AND) and
 * reads the first's result as either source. The value stays in a host
 * register; the second reads only its other source, whose number the
 * decoder puts in the second slot's aux (the chained sums cover ADD, ADD).
 */
#define VM_CPAIRS(X)                                                        \
    X(XOR, ADD) X(XOR, AND) X(XOR, XOR) X(AND, XOR) X(AND, ADD)             \
    X(OR, XOR) X(OR, ADD) X(ADD, XOR) X(XORI, AND) X(SRLI, XOR)             \
    X(SLLI, XOR) X(SLLI, ADD)

enum vm_op {
#define VM_OP_ENUM(n) VM_OP_##n,
#define VM_PAIR_ENUM(a, b) VM_OP_##a##__##b,
#define VM_TRIPLE_ENUM(a, b, c) VM_OP_##a##__##b##__##c,
#define VM_QUAD_ENUM(a, b, c, d) VM_OP_##a##__##b##__##c##__##d,
#define VM_CPAIR_ENUM(a, b) VM_OP_##a##_C_##b,
    VM_OPS(VM_OP_ENUM)
    VM_OP__BASE,                 /* ops below this are plain RV32IM */
    VM_OP__XFIRST = VM_OP__BASE - 1,
    VM_XOPS(VM_OP_ENUM)
    VM_PAIRS(VM_PAIR_ENUM)
    VM_TRIPLES(VM_TRIPLE_ENUM)
    VM_QUADS(VM_QUAD_ENUM)
    VM_OP__CPBASE,               /* the chained pairs, from here on */
    VM_OP__CPFIRST = VM_OP__CPBASE - 1,
    VM_CPAIRS(VM_CPAIR_ENUM)
#undef VM_OP_ENUM
#undef VM_CPAIR_ENUM
#undef VM_PAIR_ENUM
#undef VM_TRIPLE_ENUM
#undef VM_QUAD_ENUM
    VM_OP__COUNT
};

/* One decoded instruction: 32 bytes. */
typedef struct vm_insn {
    const void *h; /* fast handler's address (computed-goto builds,
                      vm_interp_handlers), else NULL */
    uint8_t op;    /* plain operation (enum vm_op below VM_OP__BASE) */
    uint8_t rd;    /* 1..31, or VM_XSINK */
    uint8_t rs1;
    uint8_t rs2;
    uint16_t xop;  /* fast-path operation: op, or a superinstruction */
    uint16_t blen; /* instructions from here to the end of the run, >= 1 */
    int32_t imm;
    uint32_t pc;   /* address of this instruction */
    union {
        int32_t aux;    /* CALL: the target (byte delta, or pc for CALL_FAR);
                           IDX forms (first slot): the ADD's other register;
                           chained forms (later slots): the other source */
        const void *tk; /* near JAL and branches, computed-goto builds: the
                           interpreter's label that moves ip by imm slots
                           (vm_interp_handlers()[VM_TAKEN(imm)]) */
    };
} vm_insn;

/* Taken near jumps: deltas VM_NEAR_MIN..VM_NEAR_MAX slots (the loops and
 * short skips) each have a label that adds a constant to ip, so a loop's
 * next ip does not wait on a load; others share VM_TAKEN_ANY. Their
 * addresses follow the handlers' in vm_interp_handlers(). */
#define VM_NEAR_MIN (-24)
#define VM_NEAR_MAX 16
#define VM_TAKEN_ANY (VM_OP__COUNT + (VM_NEAR_MAX - VM_NEAR_MIN + 1))
#define VM_TAKEN(d)                                                         \
    ((d) >= VM_NEAR_MIN && (d) <= VM_NEAR_MAX ? VM_OP__COUNT + ((d) - VM_NEAR_MIN) \
                                              : VM_TAKEN_ANY)
#define VM_HANDLERS (VM_TAKEN_ANY + 1) /* entries of vm_interp_handlers() */

/* The decoded form of one 1 KiB page. */
typedef struct vm_dpage {
    uint32_t vaddr;          /* page base address */
    uint16_t owned;          /* 1: private to a vm; 0: shared (debug aid only) */
    uint16_t patched;        /* 1: slots re-decoded after stores; blen stale */
    struct vm_dpage *next;   /* free-list link (private tables) */
    vm_insn ins[VM_PAGE_INSNS + 1];
} vm_dpage;

/* An image prepared for running; immutable once built except for the lazy,
 * idempotent publication of decoded tables. */
struct vm_program {
    uint8_t id[UTXO_HASH_BYTES];
    uint64_t serial;            /* unique in the process (vm_program_new): what
                                   the translating tier keys its cache on, as
                                   the id is only what the maker says */
    uint32_t entry;
    uint32_t n_pages;
    uint32_t *page_no;          /* sorted ascending */
    uint8_t *page_data;         /* n_pages * VM_PAGE_BYTES */
    _Atomic(vm_dpage *) *dec;   /* decoded table per page, or NULL */
};

enum vm_run_state { VM_IDLE = 0, VM_LIVE = 1, VM_DONE = 2 };

struct vm {
    uint32_t x[33];             /* x0..x31, then the x0 write sink */
    uint32_t pc;
    uint64_t cycles;
    uint64_t budget;
    int state;                  /* enum vm_run_state */
    utxo_vm_result res;         /* valid when state == VM_DONE */

    uint8_t *mem;               /* 4 GiB reservation */
    uint8_t *pstate;            /* VM_NUM_PAGES bytes, enum vm_pgstate */
    vm_dpage **dtab;            /* VM_NUM_PAGES entries */
    uint32_t *touched;          /* materialised pages, in touch order */
    uint32_t n_touched;
    uint32_t cap_touched;
    uint32_t page_limit;
    uint32_t page_cost;         /* cycles per page materialised while running */
    uint32_t charging;          /* 1 while running: page costs accrue */
    uint64_t pending;           /* page costs not yet added to cycles */
    uint32_t restricted;        /* no new pages: NOT_WITNESSED */
    uint32_t *absent;           /* restricted mode: pages witnessed empty */
    uint32_t n_absent;
    uint32_t pages_outside;     /* pages counted against the limit that are
                                   not materialised here (earlier segments) */
    vm_pager_fn pager;          /* demand paging (continuations), or NULL */
    void *pager_ud;
    uint64_t hc_fence;          /* host calls may not charge past this */
    vm_dpage *free_dpages;      /* recycled private tables */
    uint32_t oom_after;         /* tests (vm_test_oom_after): 0, or the n-th decoded
                                   table is refused as if the host had no memory */

    uint32_t halted;            /* set by vm_halt during a host call */
    uint32_t halt_code;

    const vm_program *prog;
    const uint8_t *args;
    uint32_t args_len;
    const utxo_txctx *ctx;

    int jit_on;                 /* run through vm_jit_run (vm_jit.c) */
    uint64_t jit_warmup;        /* cycles interpreted before translating */
    uint64_t jit_insns;         /* instructions this run has had translated */
    uint64_t jit_entries;       /* times this run entered native code */
    struct vm_jit *jit;         /* its code cache, or NULL */
    uint64_t jit_stop;          /* the stop point native code compares with */
    uint8_t *jit_site;          /* JX_CHAIN: the jump to point at v->pc */
};

/* ---- vm_decode.c ---- */
/* Fills d (vaddr page-aligned) from the 1 KiB of code at `bytes`. */
void vm_decode_page(vm_dpage *d, uint32_t vaddr, const uint8_t *bytes);
/* Re-decodes one slot of d after a store and marks d patched: its run
 * lengths are no longer maintained (the interpreter steps through patched
 * pages one instruction at a time), so a patch costs O(1). */
void vm_decode_patch(vm_dpage *d, uint32_t slot, uint32_t word);

/* ---- vm_mem.c ---- */
int vm_mem_init(vm *v);
void vm_mem_fini(vm *v);
/* Zeroes and forgets every touched page and decoded table. */
void vm_mem_reset(vm *v);
/* Materialises page p (state NONE -> RW); 0 or a UTXO_VM_FAIL_* reason. */
int vm_touch(vm *v, uint32_t p);
/* Decoded table for the page holding pc (pc 4-aligned), or NULL with *fail
 * set to UTXO_VM_FAIL_BAD_FETCH / NOMEM-like failure. */
const vm_dpage *vm_fetch_page(vm *v, uint32_t pc, int *fail);
/* Slow-path guest load/store used by the interpreter (size 1, 2 or 4). */
int vm_load_slow(vm *v, uint32_t addr, unsigned size);
/* Performs the store; *recode is set when the page held decoded code (the
 * interpreter must then re-fetch the next instruction). */
int vm_store_slow(vm *v, uint32_t addr, unsigned size, uint32_t value, int *recode);

/* ---- vm_interp.c ---- */
/* Handler address per operation for vm_insn.h (computed-goto builds). */
const void *const *vm_interp_handlers(void);
/* Runs from v->pc until done or until v->cycles reaches stop (<= budget).
 * Returns VM_RUN_DONE (v->res filled) or VM_RUN_PAUSED. */
int vm_interp(vm *v, uint64_t stop);

/* ---- vm_jit.c ---- */
/* The translating tier exists on x86-64 Linux/BSD hosts only. */
#if defined(__x86_64__) && (defined(__linux__) || defined(__FreeBSD__)) && \
    !defined(VM_NO_JIT)
#define VM_JIT_HOST 1
#else
#define VM_JIT_HOST 0
#endif
/* Cycles a run spends in the interpreter before the tier sets up its cache
 * and translates: a short predicate (most spends) never pays for either. */
#define VM_JIT_WARMUP (UINT64_C(1) << 19)
/* VM_JIT_WARMUP, or 0 with UTXO_VM_JIT=eager (tests: translate from the
 * first instruction). */
uint64_t vm_jit_default_warmup(void);
/* Same contract as vm_interp, same results to the bit; native code where
 * it can (once v->cycles reaches v->jit_warmup), the interpreter for the
 * rest. */
int vm_jit_run(vm *v, uint64_t stop);
/* Frees a code cache; NULL is a no-op. */
void vm_jit_free(struct vm_jit *j);
/* Bytes of the code region used before a flush; tests lower it. */
extern size_t vm_jit_cache_bytes;
/* Times v's cache was flushed because it was full (tests). */
uint64_t vm_jit_flushes(const vm *v);

/* ---- vm.c ---- */
/* Records the end of the run. */
void vm_finish(vm *v, int status, int fail, uint32_t exit_code, uint32_t pc);

static inline uint32_t vm_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

#endif /* UTXO_SRC_VM_INTERNAL_H */
