/*
 * vm_jit_int.h — what the translating tier's two files share: vm_jit.c
 * (the code cache, the blocks, the C loop around them) and vm_jit_ra.c
 * (guest registers in host registers, rotates). Its constants and
 * structures, the x86-64 encoder (static inline: a few bytes each), and
 * the register allocator's entry points. x86-64 hosts only (VM_JIT_HOST);
 * design and exactness: docs/VM.md 9a.
 */
#ifndef UTXO_SRC_PREDICATES_VM_JIT_INT_H
#define UTXO_SRC_PREDICATES_VM_JIT_INT_H

#include <stddef.h>
#include <string.h>
#include "predicates/vm_internal.h"

#if VM_JIT_HOST

#define VM_JIT_CODE_BYTES (4u << 20) /* code region per vm */
#define VM_JIT_BLOCK_MAX (192u << 10) /* room kept for one block */

#define VM_JIT_TAB_BITS 14u
#define VM_JIT_TAB_SIZE (1u << VM_JIT_TAB_BITS)
#define VM_JIT_NPIN 8u
#define VM_JIT_SLICE 4096u /* interpreter slice on untranslatable pages */
/* Cycles interpreted after an instruction native code leaves to the
 * interpreter (an ECALL, a slow-path load or store): a run of such
 * instructions (stores into a code page) stays there instead of leaving
 * native code and entering it again for each, which cost twice the
 * interpreter's time. 16, not more: the bytecode workload leaves native
 * code often, and 64 made it 40% slower. */
#define VM_JIT_STEP_SLICE 16u
/* Translating is paid for by running: a run has at most
 * VM_JIT_CREDIT0 + cycles / VM_JIT_CREDIT instructions translated, and
 * interprets while it has no credit. Only speed depends on it. */
#define VM_JIT_CREDIT 64u
#define VM_JIT_CREDIT0 4096u
#define VM_JIT_SAMPLES 64u /* pcs sampled at the end of the warm-up */
#define VM_JIT_SAMPLE_GAP 1024u /* cycles between two samples */

/* Exit reasons (eax at the exit stub). */
/* JX_CHAIN: a direct jump to a block not yet translated (re-pointed at its
 * full entry); JX_CHAIN_IN: one from a block that started on the target's
 * page, whose page test holds for it too (re-pointed at the inner entry). */
enum { JX_STEP = 1, JX_DISPATCH = 2, JX_OVER = 3, JX_CHAIN = 4, JX_CHAIN_IN = 5 };

/* Host registers (x86-64 numbering). */
enum { RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7,
       R8 = 8, R9, R10, R11, R12, R13, R14, R15 };

typedef struct jit_ent {
    uint32_t pc;        /* guest pc, or 1 (never a target) when empty */
    uint32_t pad;
    const uint8_t *code; /* full entry (page check) */
    const uint8_t *inner; /* inner entry (same page: no page check) */
} jit_ent;
_Static_assert(sizeof(jit_ent) == 24, "jit_ent layout");

/* Per instruction k of a block (and k = n past its end) and guest register
 * g (0..32): the first instruction at or after k that names g (RA_NONE if
 * none), and how many from k on do; built once per block by vm_ra_plan, so
 * that allocating costs the same per instruction whatever the block's
 * length (the scans it replaces made a translation quadratic). */
#define RA_NONE 0xffffu
typedef struct ra_plan {
    uint16_t next[VM_PAGE_INSNS + 1][33];
    uint16_t left[VM_PAGE_INSNS + 1][33];
} ra_plan;

struct vm_jit {
    uint64_t serial;    /* program the cache belongs to (vm_program.serial) */
    int have_prog;      /* serial is set: the cache is that program's */
    uint8_t *code;      /* VM_JIT_CODE_BYTES, RW or RX, never both */
    size_t used;        /* bytes emitted */
    size_t base;        /* end of the fixed stubs */
    jit_ent *tab;       /* VM_JIT_TAB_SIZE entries */
    int8_t pin[33];     /* host register of guest register g, or -1 */
    uint8_t pin_slot[33]; /* and its index in pins (when pin[g] >= 0) */
    uint8_t pins[VM_JIT_NPIN]; /* guest registers pinned */
    unsigned npin;
    uint64_t flushes;   /* times the cache was full (tests) */
    ra_plan plan;       /* scratch of the block being translated */
    const uint8_t *exit;   /* spill, store cycles, return eax */
    const uint8_t *lookup; /* eax = target pc */
    int (*enter)(vm *v, const void *code, uint64_t stop);
};

#define XOFF ((int32_t)offsetof(vm, x))
#define PCOFF ((int32_t)offsetof(vm, pc))
#define CYOFF ((int32_t)offsetof(vm, cycles))
#define MEMOFF ((int32_t)offsetof(vm, mem))
#define PSTOFF ((int32_t)offsetof(vm, pstate))
#define STOPOFF ((int32_t)offsetof(vm, jit_stop))
#define SITEOFF ((int32_t)offsetof(vm, jit_site))

/* ---- emitter --------------------------------------------------------- */
typedef struct em {
    uint8_t *p;
} em;

static inline void b1(em *e, unsigned x) { *e->p++ = (uint8_t)x; }
static inline void b4(em *e, uint32_t x)
{
    memcpy(e->p, &x, 4);
    e->p += 4;
}
static inline void b8(em *e, uint64_t x)
{
    memcpy(e->p, &x, 8);
    e->p += 8;
}
static inline void rex(em *e, int w, int r, int x, int b)
{
    unsigned v = 0x40u | (w ? 8u : 0) | ((r & 8) ? 4u : 0) | ((x & 8) ? 2u : 0) |
                 ((b & 8) ? 1u : 0);
    if (v != 0x40u)
        b1(e, v);
}
/* op reg, rm (register-direct) */
static inline void op_rr(em *e, int w, unsigned opc, int reg, int rm)
{
    rex(e, w, reg, 0, rm);
    if (opc > 0xff)
        b1(e, opc >> 8);
    b1(e, opc & 0xff);
    b1(e, 0xc0u | (unsigned)(reg & 7) << 3 | (unsigned)(rm & 7));
}
/* op reg, [base + disp32] */
static inline void op_rm(em *e, int w, unsigned opc, int reg, int base, int32_t disp)
{
    rex(e, w, reg, 0, base);
    if (opc > 0xff)
        b1(e, opc >> 8);
    b1(e, opc & 0xff);
    b1(e, 0x80u | (unsigned)(reg & 7) << 3 | (unsigned)(base & 7));
    if ((base & 7) == RSP)
        b1(e, 0x24);
    b4(e, (uint32_t)disp);
}
/* op reg, [rbp + idx + disp8]: guest memory at the address in idx (a
 * zero-extended 32-bit value: eax for an access off an offset, edx for a
 * checked group, the base's own slot otherwise) plus disp. byte: reg is a
 * byte register (a REX prefix makes sil and dil of what would be dh, bh). */
static inline void op_mem(em *e, unsigned opc, int reg, int idx, int32_t disp, int byte)
{
    if (byte && (reg & 7) >= 4 && reg < 8 && idx < 8)
        b1(e, 0x40);
    rex(e, 0, reg, idx, 0);
    if (opc > 0xff)
        b1(e, opc >> 8);
    b1(e, opc & 0xff);
    b1(e, 0x44u | (unsigned)(reg & 7) << 3); /* mod 01, rm 100 (SIB) */
    b1(e, (uint8_t)((unsigned)(idx & 7) << 3 | RBP)); /* idx + rbp */
    b1(e, (uint8_t)disp);
}
static inline void mov_ri(em *e, int r, uint32_t imm)
{
    rex(e, 0, 0, 0, r);
    b1(e, 0xb8u + (unsigned)(r & 7));
    b4(e, imm);
}
/* group-1 op eax, imm32: /0 add, /1 or, /4 and, /5 sub, /6 xor, /7 cmp */
static inline void alu_i(em *e, unsigned ext, int r, uint32_t imm)
{
    rex(e, 0, 0, 0, r);
    b1(e, 0x81);
    b1(e, 0xc0u | ext << 3 | (unsigned)(r & 7));
    b4(e, imm);
}
static inline void shift_i(em *e, unsigned ext, int r, unsigned n)
{
    rex(e, 0, 0, 0, r);
    b1(e, 0xc1);
    b1(e, 0xc0u | ext << 3 | (unsigned)(r & 7));
    b1(e, n & 31u);
}
static inline uint8_t *jcc32(em *e, unsigned cc) /* returns the rel32 to fill */
{
    b1(e, 0x0f);
    b1(e, 0x80u | cc);
    uint8_t *at = e->p;
    b4(e, 0);
    return at;
}
static inline uint8_t *jmp32(em *e)
{
    b1(e, 0xe9);
    uint8_t *at = e->p;
    b4(e, 0);
    return at;
}
static inline void patch(uint8_t *at, const uint8_t *to)
{
    int32_t rel = (int32_t)(to - (at + 4));
    memcpy(at, &rel, 4);
}
static inline void jmp_to(em *e, const uint8_t *to) { patch(jmp32(e), to); }
static inline uint8_t *jcc8(em *e, unsigned cc)
{
    b1(e, 0x70u | cc);
    b1(e, 0);
    return e->p - 1;
}
static inline uint8_t *jmp8(em *e)
{
    b1(e, 0xeb);
    b1(e, 0);
    return e->p - 1;
}
static inline void patch8(uint8_t *at, const uint8_t *to) { *at = (uint8_t)(to - (at + 1)); }

enum { CC_B = 2, CC_AE = 3, CC_E = 4, CC_NE = 5, CC_A = 7, CC_L = 0xc, CC_GE = 0xd, CC_LE = 0xe,
       CC_G = 0xf };

/* Host registers of the pin slots. */
static const int pin_host[VM_JIT_NPIN] = {RSI, RDI, R8, R9, R10, R11, R14, R15};

/* ---- guest registers: pins and the block-local allocation ----------- */
/*
 * Between blocks (at every entry and every exit) one convention holds:
 * pinned guest register pins[i] in host pin_host[i] ("slot" i), every
 * other one in v->x. Inside a block the 8 slots are allocated as the block
 * goes: a guest register is loaded into a slot on its first use when the
 * block uses it again, kept there, and written back only when the slot is
 * taken (the one whose next use in the block is furthest) or at an exit.
 * Every exit, side exits included, first re-establishes the convention
 * from the state at that point (vm_ra_flush: dirty registers out of their
 * home written back, evicted pins reloaded), so native code leaves exactly
 * the state the interpreter expects. Only moves: no flag is touched.
 */
typedef struct ra_state {
    int8_t g[VM_JIT_NPIN];      /* guest register in slot i, or -1 */
    uint8_t dirty[VM_JIT_NPIN]; /* its copy in v->x is stale */
} ra_state;


typedef struct rctx {
    em *e;
    const struct vm_jit *j;
    const vm_insn *ip; /* the block's instructions (build_seq) */
    const uint8_t *cross; /* their code page tests */
    uint32_t n, k;     /* their count; the instruction being translated */
    const ra_plan *plan; /* for ip[0..n) */
    int loop;          /* the block loops on itself (its last branch) */
    ra_state s;
    unsigned lock;     /* slots the current instruction uses: not taken */
} rctx;

static inline int32_t xoff(unsigned g) { return XOFF + 4 * (int32_t)g; }

/* ---- vm_jit_ra.c: guest registers in host registers, and rotates ------- */
/* Whether `in` names guest register g (1..31). */
int vm_ra_insn_uses(const vm_insn *in, unsigned g);
/* The plan of the n instructions at ip (n <= VM_PAGE_INSNS). */
void vm_ra_plan(ra_plan *p, const vm_insn *ip, uint32_t n);
/* The pin convention: pins at home (their v->x copies stale), nothing else. */
void vm_ra_entry(const struct vm_jit *j, ra_state *s);
/* Back to the convention from state s (at an exit), with moves only. */
void vm_ra_flush(em *e, const struct vm_jit *j, const ra_state *s);
/* From state `from` to state `to` (a loop's), moves only. */
void vm_ra_reconcile(em *e, const ra_state *from, const ra_state *to);
/* A host register holding guest g for reading (its slot, or tmp loaded). */
int vm_ra_src(rctx *c, unsigned g, int tmp);
/* Whether guest g (a source) is best read from v->x as a memory operand. */
int vm_ra_from_mem(const rctx *c, unsigned g);
/* A host register to write guest g into (eax when it gets no slot: then
 * vm_ra_put stores it); after the instruction's last side exit. */
int vm_ra_dst(rctx *c, unsigned g);
/* Completes a write of guest g into host h (from vm_ra_dst). */
void vm_ra_put(rctx *c, unsigned g, int h);
/* The result in eax into guest rd. */
void vm_ra_from_eax(rctx *c, unsigned rd);
/* Guest g's value into scratch host h, without allocating. */
void vm_ra_copy(rctx *c, int h, unsigned g);
/* Guest g = imm, touching no scratch register and no flag. */
void vm_ra_imm(rctx *c, unsigned g, uint32_t imm);
/* The rotate at ip (left instructions in the run from it): its right
 * amount (1..31), or 0 when ip does not start one. */
unsigned vm_rot_match(const vm_insn *ip, uint32_t left);
/* Emits the rotate at c->ip + c->k (vm_rot_match gave a); leaves c->k on
 * its OR. */
void vm_rot_emit(rctx *c, unsigned a);

#endif /* VM_JIT_HOST */
#endif /* UTXO_SRC_PREDICATES_VM_JIT_INT_H */
