/*
 * vm_jit.c — the translating tier: an x86-64 template JIT for the RV32IM
 * machine. Design notes and the exactness argument: docs/VM.md ("The
 * translating tier").
 *
 * Unit of translation: the straight-line run the interpreter meters as one
 * (vm_insn.blen), and the runs it goes on with through direct jumps and
 * page ends (build_seq), entered at any pc of a page whose decoded table is
 * the program's shared one (VM_PG_CODE): that content is the program's
 * pristine image, so a translation keyed by (program, pc) never goes stale
 * (an appended run on another page tests that page's state first). Every
 * other page (private or patched tables, continuation pages) runs in the
 * interpreter.
 *
 * Block shape: a full entry (page-state byte still VM_PG_CODE, else leave),
 * an inner entry (cycles += blen, kept as the cycles left before the stop
 * point in r13: one sub and one jb; past it leave with the charge undone),
 * one short sequence per instruction, then the successors: a direct jump
 * to a block already translated; else a chain stub that leaves once
 * (JX_CHAIN) so that C translates the target and re-points the jump; for
 * JALR the lookup stub (a direct-mapped table from pc to code, probed
 * inline).
 *
 * Leaving native code ("exit") always happens before an instruction, with
 * v->pc that instruction's address and v->cycles the count of instructions
 * that began before it (the charge of the rest of the run refunded). So
 * every exit is a state a single-stepped run also passes through, and the
 * C loop below hands the awkward instruction (slow-path load or store,
 * ECALL, EBREAK, illegal word, a run crossing the stop point) to
 * vm_interp, the reference, for exactly one instruction or up to the stop.
 *
 * Registers: between blocks, 8 guest registers (the hot code's most named,
 * choose_pins) are pinned in host registers and the rest are in v->x,
 * addressed off rbx (= v); the enter stub loads the pins, the exit stub
 * spills them. Inside a block the 8 host registers are allocated as it goes
 * (vm_ra_*, in vm_jit_ra.c), and every exit goes back to the pin convention
 * first (vm_ra_flush); a block that loops on itself keeps its own
 * allocation across its back edge (vm_ra_reconcile). Rotates
 * (srli/slli/or) are one ror (vm_rot_emit). The encoder and the shared
 * structures are in vm_jit_int.h.
 *
 * W^X: the code region is mapped read+write, filled, then read+execute;
 * translating more, or re-pointing a chain jump, flips it back to
 * read+write first (only in C, never while native code runs). The region is
 * bounded (VM_JIT_CODE_BYTES); when full, everything is flushed. The cache
 * is per vm (no sharing between threads), keyed by the program object
 * (vm_program.serial, unique in the process: the id is only what the
 * program's maker says it is).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "predicates/vm_internal.h"
#include "predicates/vm_jit_int.h"

int vm_jit_default(void)
{
#if VM_JIT_HOST
    const char *e = getenv("UTXO_VM_JIT");
    return !(e && e[0] == '0');
#else
    return 0;
#endif
}

uint64_t vm_jit_default_warmup(void)
{
    const char *e = getenv("UTXO_VM_JIT");
    return e && strcmp(e, "eager") == 0 ? 0 : VM_JIT_WARMUP;
}

#if !VM_JIT_HOST

int vm_jit_run(vm *v, uint64_t stop)
{
    return vm_interp(v, stop);
}

void vm_jit_free(struct vm_jit *j)
{
    (void)j;
}

size_t vm_jit_cache_bytes;

uint64_t vm_jit_flushes(const vm *v)
{
    (void)v;
    return 0;
}

#else /* x86-64 */

#include <stddef.h>
#include <sys/mman.h>

/* The part of the region used before a flush (tests make it small). */
size_t vm_jit_cache_bytes = VM_JIT_CODE_BYTES;

/* An exit stub: refund, set pc, reason, to the common exit. */
static void exit_stub(em *e, const struct vm_jit *j, uint32_t refund, uint32_t pc, unsigned why)
{
    if (refund) {
        rex(e, 1, 0, 0, R13);
        b1(e, 0x81);
        b1(e, 0xc0u | (R13 & 7)); /* add r13, imm32: cycles left grow back */
        b4(e, refund);
    }
    /* mov dword [rbx + PCOFF], pc */
    b1(e, 0xc7);
    b1(e, 0x80u | RBX);
    b4(e, (uint32_t)PCOFF);
    b4(e, pc);
    mov_ri(e, RAX, why);
    jmp_to(e, j->exit);
}

/* ---- fixed stubs: enter, exit, lookup -------------------------------- */
static const int saved[6] = {RBX, RBP, R12, R13, R14, R15};

static void emit_stubs(struct vm_jit *j)
{
    em e = {j->code};
    /* int enter(vm *v [rdi], const void *code [rsi], uint64_t stop [rdx]) */
    j->enter = NULL;
    uint8_t *enter = e.p;
    for (int i = 0; i < 6; i++) {
        rex(&e, 0, 0, 0, saved[i]);
        b1(&e, 0x50u + (unsigned)(saved[i] & 7));
    }
    op_rr(&e, 1, 0x89, RDI, RBX);            /* mov rbx, rdi */
    op_rm(&e, 1, 0x8b, RBP, RBX, MEMOFF);    /* mov rbp, [rbx+mem] */
    op_rm(&e, 1, 0x8b, R12, RBX, PSTOFF);    /* mov r12, [rbx+pstate] */
    op_rm(&e, 1, 0x89, RDX, RBX, STOPOFF);   /* mov [rbx+jit_stop], rdx */
    op_rr(&e, 1, 0x89, RDX, R13);            /* r13 = stop - cycles (> 0) */
    op_rm(&e, 1, 0x2b, R13, RBX, CYOFF);
    op_rr(&e, 1, 0x89, RSI, RAX);            /* mov rax, rsi */
    for (unsigned i = 0; i < j->npin; i++)
        op_rm(&e, 0, 0x8b, pin_host[i], RBX, XOFF + 4 * (int32_t)j->pins[i]);
    b1(&e, 0xff);
    b1(&e, 0xe0); /* jmp rax */

    j->exit = e.p;
    for (unsigned i = 0; i < j->npin; i++)
        op_rm(&e, 0, 0x89, pin_host[i], RBX, XOFF + 4 * (int32_t)j->pins[i]);
    op_rm(&e, 1, 0x8b, RDX, RBX, STOPOFF);   /* cycles = stop - r13 */
    op_rr(&e, 1, 0x29, R13, RDX);
    op_rm(&e, 1, 0x89, RDX, RBX, CYOFF);
    for (int i = 5; i >= 0; i--) {
        rex(&e, 0, 0, 0, saved[i]);
        b1(&e, 0x58u + (unsigned)(saved[i] & 7));
    }
    b1(&e, 0xc3);

    /* lookup: eax = target pc */
    j->lookup = e.p;
    op_rr(&e, 0, 0x89, RAX, RDX);            /* mov edx, eax */
    shift_i(&e, 5, RDX, 2);                  /* shr edx, 2 */
    alu_i(&e, 4, RDX, VM_JIT_TAB_SIZE - 1u); /* and edx, mask */
    /* lea rdx, [rdx + rdx*2]; rdx *= 24 via shl 3 */
    b1(&e, 0x48); b1(&e, 0x8d); b1(&e, 0x14); b1(&e, 0x52);
    rex(&e, 1, 0, 0, RDX); b1(&e, 0xc1); b1(&e, 0xe2); b1(&e, 3); /* shl rdx, 3 */
    b1(&e, 0x48); b1(&e, 0xb9); b8(&e, (uint64_t)(uintptr_t)j->tab); /* mov rcx, tab */
    b1(&e, 0x48); b1(&e, 0x01); b1(&e, 0xd1); /* add rcx, rdx */
    b1(&e, 0x39); b1(&e, 0x01);              /* cmp [rcx], eax */
    uint8_t *miss = jcc8(&e, CC_NE);
    b1(&e, 0xff); b1(&e, 0x61); b1(&e, 8);   /* jmp [rcx + 8] */
    patch8(miss, e.p);
    op_rm(&e, 0, 0x89, RAX, RBX, PCOFF);     /* mov [rbx+pc], eax */
    mov_ri(&e, RAX, JX_DISPATCH);
    jmp_to(&e, j->exit);

    j->enter = (int (*)(vm *, const void *, uint64_t))(void *)enter;
    j->base = j->used = (size_t)(e.p - j->code);
}

static int set_rw(struct vm_jit *j)
{
    return mprotect(j->code, VM_JIT_CODE_BYTES, PROT_READ | PROT_WRITE);
}
static int set_rx(struct vm_jit *j)
{
    return mprotect(j->code, VM_JIT_CODE_BYTES, PROT_READ | PROT_EXEC);
}

/* The same for the pages of [at, at + n) only: a block's room or a jump
 * being patched. The cost of mprotect grows with the pages it changes, and
 * changing all 1,024 of the region for each block made translating a
 * block cost ~0.1 ms. */
static int set_prot_range(struct vm_jit *j, const uint8_t *at, size_t n, int prot)
{
    const uintptr_t pg = 4096; /* x86-64 */
    uintptr_t lo = (uintptr_t)at & ~(uintptr_t)(pg - 1), hi = (uintptr_t)at + n;
    uintptr_t end = (uintptr_t)j->code + VM_JIT_CODE_BYTES;
    hi = hi > end ? end : (hi + pg - 1) & ~(uintptr_t)(pg - 1);
    return mprotect((void *)lo, hi - lo, prot);
}

static void tab_clear(struct vm_jit *j)
{
    for (uint32_t i = 0; i < VM_JIT_TAB_SIZE; i++) {
        j->tab[i].pc = 1;
        j->tab[i].code = j->tab[i].inner = NULL;
    }
}


/* Pins the guest registers the hot code names most: the runs the
 * interpreter was in at the end of the warm-up (`hot`, n pcs sampled every
 * VM_JIT_SAMPLE_GAP cycles), each of its instructions weighing 16 uses;
 * then the image's static count (all there is when translating from the
 * first instruction). Only speed depends on the choice. */
static void choose_pins(struct vm_jit *j, const vm *v, const uint32_t *hot, unsigned nhot)
{
    const vm_program *p = v->prog;
    uint64_t cnt[33] = {0};
    for (unsigned s = 0; s < nhot; s++) {
        uint32_t pg = hot[s] >> VM_PAGE_SHIFT, slot = (hot[s] >> 2) & (VM_PAGE_INSNS - 1u);
        if ((hot[s] & 3u) || v->pstate[pg] != VM_PG_CODE)
            continue;
        const vm_insn *ins = v->dtab[pg]->ins;
        while (slot > 0 && ins[slot - 1].blen == ins[slot].blen + 1u)
            slot--; /* back to the start of the run */
        for (uint32_t k = 0; k < ins[slot].blen; k++)
            for (unsigned g = 1; g < 32; g++)
                cnt[g] += 16u * (unsigned)vm_ra_insn_uses(&ins[slot + k], g);
    }
    size_t n = (size_t)p->n_pages * VM_PAGE_BYTES;
    for (size_t i = 0; i + 4 <= n; i += 4) {
        uint32_t w = vm_le32(p->page_data + i);
        unsigned opc = w & 0x7fu, rd = (w >> 7) & 31u, r1 = (w >> 15) & 31u,
                 r2 = (w >> 20) & 31u;
        switch (opc) {
        case 0x33: cnt[rd]++; cnt[r1]++; cnt[r2]++; break;      /* OP */
        case 0x13: case 0x03: case 0x67: cnt[rd]++; cnt[r1]++; break;
        case 0x23: case 0x63: cnt[r1]++; cnt[r2]++; break;      /* S, B */
        case 0x37: case 0x17: case 0x6f: cnt[rd]++; break;
        default: break;
        }
    }
    memset(j->pin, -1, sizeof j->pin);
    j->npin = 0;
    cnt[0] = 0;
    while (j->npin < VM_JIT_NPIN) {
        unsigned best = 0;
        for (unsigned g = 1; g < 32; g++)
            if (j->pin[g] < 0 && cnt[g] > cnt[best])
                best = g;
        if (best == 0)
            break;
        j->pin[best] = (int8_t)pin_host[j->npin];
        j->pin_slot[best] = (uint8_t)j->npin;
        j->pins[j->npin++] = (uint8_t)best;
    }
}

void vm_jit_free(struct vm_jit *j)
{
    if (!j)
        return;
    if (j->code)
        munmap(j->code, VM_JIT_CODE_BYTES);
    free(j->tab);
    free(j);
}

uint64_t vm_jit_flushes(const vm *v)
{
    return v && v->jit ? v->jit->flushes : 0;
}

/* Sets the cache up for v's program (flushing another program's). */
static struct vm_jit *jit_for(vm *v, const uint32_t *hot, unsigned nhot)
{
    struct vm_jit *j = v->jit;
    if (!j) {
        j = calloc(1, sizeof *j);
        if (!j)
            return NULL;
        j->tab = malloc(sizeof *j->tab * VM_JIT_TAB_SIZE);
        void *c = mmap(NULL, VM_JIT_CODE_BYTES, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        j->code = c == MAP_FAILED ? NULL : c;
        if (!j->tab || !j->code) {
            vm_jit_free(j);
            return NULL;
        }
        v->jit = j;
        set_rx(j);
    }
    if (!j->have_prog || j->serial != v->prog->serial) {
        if (set_rw(j) != 0)
            return NULL;
        j->serial = v->prog->serial;
        j->have_prog = 1;
        choose_pins(j, v, hot, nhot);
        tab_clear(j);
        emit_stubs(j);
        if (set_rx(j) != 0) {
            j->have_prog = 0;
            return NULL;
        }
    }
    return j;
}

static jit_ent *tab_at(struct vm_jit *j, uint32_t pc)
{
    return &j->tab[(pc >> 2) & (VM_JIT_TAB_SIZE - 1u)];
}

typedef struct stub {
    uint8_t *at;     /* rel32 to point at the stub */
    uint32_t refund;
    uint32_t pc;
    unsigned why;
    ra_state rs;     /* registers where the exit is: vm_ra_flush first */
} stub;

/* Whether guest addresses a and b are on one page. */
static int same_page(uint32_t a, uint32_t b) { return ((a ^ b) >> VM_PAGE_SHIFT) == 0; }

/* Where a direct jump from the block at self_pc to pc t may go now: the
 * block itself, or one already translated; NULL when not translated. */
static const uint8_t *direct(struct vm_jit *j, uint32_t t, uint32_t self_pc,
                             const uint8_t *self_inner)
{
    if (t == self_pc)
        return self_inner;
    jit_ent *en = tab_at(j, t);
    if (en->pc == t)
        return same_page(t, self_pc) ? en->inner : en->code;
    return NULL;
}

/* The rel32 at `at` (of a jmp or a jcc) to the block at pc t: direct when
 * translated, else to a chain stub (JX_CHAIN, or JX_CHAIN_IN when t is on
 * the page the block started on), which the C loop re-points at the block
 * once it is translated (the only patch ever made, from C, with the region
 * writable and not executable). */
static void to_block(uint8_t *at, struct vm_jit *j, uint32_t t, uint32_t self_pc,
                     const uint8_t *self_inner, stub *st, unsigned *nst, const ra_state *conv)
{
    const uint8_t *d = direct(j, t, self_pc, self_inner);
    if (d)
        patch(at, d);
    else
        st[(*nst)++] = (stub){at, 0, t, same_page(t, self_pc) ? JX_CHAIN_IN : JX_CHAIN, *conv};
}

/* Jump to the block at pc t (to_block). */
static void succ(em *e, struct vm_jit *j, uint32_t t, uint32_t self_pc,
                 const uint8_t *self_inner, stub *st, unsigned *nst, const ra_state *conv)
{
    to_block(jmp32(e), j, t, self_pc, self_inner, st, nst, conv);
}

static int is_load(unsigned op) { return op >= VM_OP_LB && op <= VM_OP_LHU; }

/* Most bytes between the lowest and highest offset of a checked group
 * (disp8 addressing). */
#define VM_JIT_GROUP_SPAN 120

/* Members of the group of accesses starting at ip[0] (of the run's n):
 * the same op off the same base register, no member but the last writing
 * the base, offsets congruent modulo the access size and within
 * VM_JIT_GROUP_SPAN bytes. One alignment, page and state test for the
 * lowest address then covers them all: they lie in its page, aligned, and
 * the page's state does not change within the group (fast-path accesses
 * never change it). *imin: the lowest offset. */
static uint32_t group_len(const vm_insn *ip, uint32_t n, unsigned size, int32_t *imin,
                          uint32_t *span)
{
    int32_t lo = ip->imm, hi = ip->imm;
    uint32_t g = 1;
    if (ip->rs1 == 0)
        return 1;
    while (g < n) {
        const vm_insn *m = ip + g;
        if (m->op != ip->op || m->rs1 != ip->rs1 ||
            (is_load(ip->op) && m[-1].rd == ip->rs1) ||
            (uint32_t)(m->imm - ip->imm) % size != 0)
            break;
        int32_t l = m->imm < lo ? m->imm : lo, h = m->imm > hi ? m->imm : hi;
        if (h - l > VM_JIT_GROUP_SPAN)
            break;
        lo = l;
        hi = h;
        g++;
    }
    *imin = lo;
    *span = (uint32_t)(hi - lo) + size - 1u; /* lowest to highest byte */
    return g;
}

/* Translation passes of a block that loops on itself: the first finds the
 * registers' places at the back edge; each next one starts the loop from
 * where the previous one ended, until that is where it starts. */
#define VM_JIT_LOOP_PASSES 4

/* Most runs a block strings together (direct jumps and page ends). */
#define VM_JIT_MERGES 8u

static int straight(unsigned op)
{
    return (op >= VM_OP_LB && op <= VM_OP_REMU) || op == VM_OP_LI || op == VM_OP_FENCE;
}

/* The instructions a block runs, into seq: the run at ip, then, while the
 * last one ends in a direct jump (JAL) or at the page end, the run there,
 * when it is on a program code page, is not the block's own start, and
 * the total stays within VM_PAGE_INSNS. A JAL inside becomes LI rd, pc + 4
 * (FENCE, a no-op, for x0). cross[k] = 1 where an appended run starts on
 * another page than the block: its page state is tested there, as the
 * block's own page is at the full entry. Returns the count. */
static uint32_t build_seq(const vm *v, const vm_insn *ip, vm_insn *seq, uint8_t *cross)
{
    uint32_t pc0 = ip->pc, n = 0;
    for (unsigned m = 0;; m++) {
        uint32_t len = ip->blen;
        memcpy(seq + n, ip, len * sizeof *ip);
        memset(cross + n, 0, len);
        cross[n] = n > 0 && !same_page(ip->pc, pc0);
        n += len;
        vm_insn *l = &seq[n - 1];
        int jal = l->op == VM_OP_JAL || l->op == VM_OP_JAL_FAR;
        uint32_t t = l->op == VM_OP_JAL ? l->pc + 4u * (uint32_t)l->imm
                   : l->op == VM_OP_JAL_FAR ? (uint32_t)l->imm : l->pc + 4u;
        if (!jal && !(straight(l->op) && (t & (VM_PAGE_BYTES - 1u)) == 0))
            break; /* a branch, JALR, ECALL...: the run's own end */
        uint32_t pg = t >> VM_PAGE_SHIFT;
        if (m + 1 >= VM_JIT_MERGES || t == pc0 || (t & 3u) || v->pstate[pg] != VM_PG_CODE ||
            v->dtab[pg]->patched)
            break;
        const vm_insn *nx = &v->dtab[pg]->ins[(t >> 2) & (VM_PAGE_INSNS - 1u)];
        if (n + nx->blen > VM_PAGE_INSNS)
            break;
        if (jal) {
            l->imm = (int32_t)(l->pc + 4u);
            l->op = l->rd == VM_XSINK ? VM_OP_FENCE : VM_OP_LI;
        }
        ip = nx;
    }
    return n;
}

/* Translates the block at ip0 (build_seq). */
static const uint8_t *translate(struct vm_jit *j, const vm *v, const vm_insn *ip0, int *ok,
                               uint32_t *n_out)
{
    /* two per instruction (a group's first access three, its second
     * none), one per appended run's page test, two at the start, two at
     * the end */
    stub st[2 * VM_PAGE_INSNS + VM_JIT_MERGES + 6];
    unsigned nst = 0;
    em e0 = {j->code + j->used};
    em *e = &e0;
    vm_insn seq[VM_PAGE_INSNS];
    uint8_t cross[VM_PAGE_INSNS + 2];
    uint32_t n = build_seq(v, ip0, seq, cross);
    *n_out = n;
    const vm_insn *ip = seq;
    uint32_t pc0 = ip->pc;
    const uint8_t *full = e->p;
    int ended = 0;
    ra_state conv;
    const vm_insn *lb = &ip[n - 1];
    int loop = lb->op >= VM_OP_BEQ && lb->op <= VM_OP_BGEU_FAR &&
               (lb->pc + 4u == ip->pc ||
                (lb->op >= VM_OP_BEQ_FAR ? (uint32_t)lb->imm : lb->pc + 4u * (uint32_t)lb->imm) ==
                    ip->pc);
    vm_ra_plan(&j->plan, ip, n);
    rctx c0 = {e, j, ip, cross, n, 0, &j->plan, loop, {{0}, {0}}, 0};
    rctx *c = &c0;

    *ok = 0;
    vm_ra_entry(j, &conv);
    c->s = conv;
    /* full entry: the page still holds the program's shared table */
    b1(e, 0x41); b1(e, 0x80); b1(e, 0xbc); b1(e, 0x24); /* cmp byte [r12+disp32] */
    b4(e, pc0 >> VM_PAGE_SHIFT);
    b1(e, VM_PG_CODE);
    st[nst++] = (stub){jcc32(e, CC_NE), 0, pc0, JX_DISPATCH, conv};
    const uint8_t *inner = e->p;
    /* A block that loops on itself is translated twice: the second time
     * its loop keeps the registers where the first pass had them at the
     * back edge (loop_s), entered from the convention once (the header)
     * and brought back to loop_s at the back edge, not to the convention. */
    ra_state loop_s, loop_e;
    int have_loop = 0;
    const uint8_t *loop_top = inner;
    unsigned nst0 = nst;
    for (int pass = 0; pass < VM_JIT_LOOP_PASSES; pass++) {
    if (pass > 0) {
        if (!have_loop || (pass > 1 && memcmp(loop_e.g, loop_s.g, sizeof loop_s.g) == 0))
            break; /* not a loop, or its state is stable */
        if (pass > 1)
            loop_s = loop_e; /* where the last pass ended: try that */
        e->p = (uint8_t *)(uintptr_t)inner;
        nst = nst0;
        ended = 0;
        for (unsigned i = 0; i < VM_JIT_NPIN; i++)
            loop_s.dirty[i] = loop_s.g[i] >= 0;
        vm_ra_reconcile(e, &conv, &loop_s);
        loop_top = e->p;
        c->s = loop_s;
        loop_e = loop_s; /* stable unless the back edge says otherwise */
    }
    /* r13 = cycles left before the stop point: the run fits when n <= r13 */
    rex(e, 1, 0, 0, R13); b1(e, 0x81); b1(e, 0xc0u | 5u << 3 | (R13 & 7)); b4(e, n); /* sub */
    st[nst++] = (stub){jcc32(e, CC_B), n, pc0, JX_OVER, c->s};

    uint32_t grp_left = 0; /* accesses still covered by the group check */
    int32_t grp_imin = 0;  /* its lowest offset (edx = base + it) */
    for (uint32_t k = 0; k < n && !ended; k++) {
        const vm_insn *in = ip + k;
        unsigned op = in->op;
        uint32_t rest = n - k; /* refund when leaving before `in` */
        int last = k + 1 == n;
        uint32_t imm = (uint32_t)in->imm;
        c->k = k;
        c->lock = 0;
        if (cross[k]) { /* another code page: still the program's table? */
            b1(e, 0x41); b1(e, 0x80); b1(e, 0xbc); b1(e, 0x24); /* cmp byte [r12+disp32] */
            b4(e, in->pc >> VM_PAGE_SHIFT);
            b1(e, VM_PG_CODE);
            st[nst++] = (stub){jcc32(e, CC_NE), rest, in->pc, JX_DISPATCH, c->s};
        }
        if (!last && !straight(op)) {
            /* not straight-line: leave it to the interpreter */
            st[nst++] = (stub){jmp32(e), rest, in->pc, JX_STEP, c->s};
            ended = 1;
            break;
        }
        unsigned rot = k + 2 < n && !cross[k + 1] && !cross[k + 2] ? vm_rot_match(in, n - k) : 0;
        if (rot) {
            vm_rot_emit(c, rot);
            k += 2;
            in = ip + k;
            last = k + 1 == n;
            op = VM_OP_FENCE; /* done: nothing more to emit */
        }
        switch (op) {
        case VM_OP_LI:
            vm_ra_imm(c, in->rd, imm);
            break;
        case VM_OP_FENCE:
            break;
        case VM_OP_ADDI: case VM_OP_XORI: case VM_OP_ORI: case VM_OP_ANDI: {
            static const unsigned ext[] = {0, 0, 0, 6, 1, 4}; /* from ADDI */
            if (in->rs1 == 0) {
                vm_ra_imm(c, in->rd, op == VM_OP_ANDI ? 0 : imm);
                break;
            }
            int a = vm_ra_src(c, in->rs1, RAX);
            int d = vm_ra_dst(c, in->rd);
            if (op == VM_OP_ADDI && imm == 0 && d == RAX && a != RAX && in->rd != VM_XSINK) {
                op_rm(e, 0, 0x89, a, RBX, xoff(in->rd)); /* mv into v->x */
                break;
            }
            if (op == VM_OP_ADDI && d != a && imm) {
                op_rm(e, 0, 0x8d, d, a, in->imm); /* lea d, [a + imm] */
            } else {
                if (d != a)
                    op_rr(e, 0, 0x89, a, d);
                if (!(op == VM_OP_ADDI && imm == 0))
                    alu_i(e, ext[op - VM_OP_ADDI], d, imm);
            }
            vm_ra_put(c, in->rd, d);
            break;
        }
        case VM_OP_SLTI: case VM_OP_SLTIU: {
            int a = vm_ra_src(c, in->rs1, RAX);
            alu_i(e, 7, a, imm);
            b1(e, 0x0f); b1(e, op == VM_OP_SLTI ? 0x9c : 0x92); b1(e, 0xc0); /* setcc al */
            b1(e, 0x0f); b1(e, 0xb6); b1(e, 0xc0);                           /* movzx eax, al */
            vm_ra_from_eax(c, in->rd);
            break;
        }
        case VM_OP_SLLI: case VM_OP_SRLI: case VM_OP_SRAI: {
            int a = vm_ra_src(c, in->rs1, RAX);
            int d = vm_ra_dst(c, in->rd);
            if (d != a)
                op_rr(e, 0, 0x89, a, d);
            shift_i(e, op == VM_OP_SLLI ? 4 : op == VM_OP_SRLI ? 5 : 7, d, imm);
            vm_ra_put(c, in->rd, d);
            break;
        }
        case VM_OP_ADD: case VM_OP_SUB: case VM_OP_XOR: case VM_OP_OR: case VM_OP_AND:
        case VM_OP_MUL: {
            unsigned opc = op == VM_OP_ADD ? 0x01 : op == VM_OP_SUB ? 0x29
                         : op == VM_OP_XOR ? 0x31 : op == VM_OP_OR ? 0x09
                         : op == VM_OP_AND ? 0x21 : 0;
            int a = vm_ra_src(c, in->rs1, RAX);
            if (vm_ra_from_mem(c, in->rs2)) { /* d = a; d op= [v->x + rs2] */
                static const unsigned rm[] = {0x03, 0x2b, 0, 0, 0, 0x33, 0, 0, 0x0b, 0x23,
                                              0x0faf}; /* from ADD */
                int d = vm_ra_dst(c, in->rd); /* rd == rs2: v->x still holds the old value */
                if (d != a)
                    op_rr(e, 0, 0x89, a, d);
                op_rm(e, 0, rm[op - VM_OP_ADD], d, RBX, xoff(in->rs2));
                vm_ra_put(c, in->rd, d);
                break;
            }
            int b = vm_ra_src(c, in->rs2, RCX);
            int d = vm_ra_dst(c, in->rd);
            if (d == b && in->rd != in->rs1 && op != VM_OP_SUB) {
                b = a; /* rd == rs2: commutative, d op= rs1 */
                a = d;
            }
            int t = d == b && in->rd != in->rs1 ? RAX : d; /* rd == rs2: not first */
            if (t != a)
                op_rr(e, 0, 0x89, a, t);
            if (opc)
                op_rr(e, 0, opc, b, t);
            else
                op_rr(e, 0, 0x0faf, t, b); /* imul t, b */
            if (t != d)
                op_rr(e, 0, 0x89, t, d);
            vm_ra_put(c, in->rd, d);
            break;
        }
        case VM_OP_SLL: case VM_OP_SRL: case VM_OP_SRA: {
            vm_ra_copy(c, RCX, in->rs2);
            int a = vm_ra_src(c, in->rs1, RAX);
            int d = vm_ra_dst(c, in->rd);
            if (d != a)
                op_rr(e, 0, 0x89, a, d);
            rex(e, 0, 0, 0, d);
            b1(e, 0xd3); /* shift d, cl */
            b1(e, 0xc0u | (op == VM_OP_SLL ? 4u : op == VM_OP_SRL ? 5u : 7u) << 3 |
                  (unsigned)(d & 7));
            vm_ra_put(c, in->rd, d);
            break;
        }
        case VM_OP_SLT: case VM_OP_SLTU: {
            int a = vm_ra_src(c, in->rs1, RAX);
            int b = vm_ra_src(c, in->rs2, RCX);
            op_rr(e, 0, 0x39, b, a); /* cmp a, b */
            b1(e, 0x0f); b1(e, op == VM_OP_SLT ? 0x9c : 0x92); b1(e, 0xc0);
            b1(e, 0x0f); b1(e, 0xb6); b1(e, 0xc0);
            vm_ra_from_eax(c, in->rd);
            break;
        }
        case VM_OP_MULH: case VM_OP_MULHSU: case VM_OP_MULHU:
            vm_ra_copy(c, RAX, in->rs1);
            vm_ra_copy(c, RCX, in->rs2);
            if (op != VM_OP_MULHU)
                op_rr(e, 1, 0x63, RAX, RAX); /* movsxd rax, eax */
            if (op == VM_OP_MULH)
                op_rr(e, 1, 0x63, RCX, RCX);
            op_rr(e, 1, 0x0faf, RAX, RCX);   /* imul rax, rcx */
            rex(e, 1, 0, 0, RAX); b1(e, 0xc1); b1(e, 0xe8); b1(e, 32); /* shr rax, 32 */
            vm_ra_from_eax(c, in->rd);
            break;
        case VM_OP_DIV: case VM_OP_DIVU: case VM_OP_REM: case VM_OP_REMU: {
            int sgn = op == VM_OP_DIV || op == VM_OP_REM;
            int rem = op == VM_OP_REM || op == VM_OP_REMU;
            uint8_t *ovf = NULL, *ovf2 = NULL, *done2 = NULL;
            vm_ra_copy(c, RAX, in->rs1);
            vm_ra_copy(c, RCX, in->rs2);
            op_rr(e, 0, 0x85, RCX, RCX); /* test ecx, ecx */
            uint8_t *zero = jcc8(e, CC_E);
            if (sgn) {
                alu_i(e, 7, RCX, UINT32_MAX);
                ovf = jcc8(e, CC_NE);
                alu_i(e, 7, RAX, 0x80000000u);
                ovf2 = jcc8(e, CC_NE);
                /* INT_MIN / -1 = INT_MIN (eax as is); INT_MIN % -1 = 0 */
                if (rem)
                    op_rr(e, 0, 0x31, RAX, RAX);
                done2 = jmp8(e);
                patch8(ovf, e->p);
                patch8(ovf2, e->p);
                b1(e, 0x99);               /* cdq */
                b1(e, 0xf7); b1(e, 0xf9);  /* idiv ecx */
            } else {
                op_rr(e, 0, 0x31, RDX, RDX);
                b1(e, 0xf7); b1(e, 0xf1);  /* div ecx */
            }
            if (rem)
                op_rr(e, 0, 0x89, RDX, RAX); /* mov eax, edx */
            uint8_t *done = jmp8(e);
            patch8(zero, e->p);
            if (!rem)
                mov_ri(e, RAX, UINT32_MAX); /* x / 0 = -1; x % 0 = x */
            patch8(done, e->p);
            if (done2)
                patch8(done2, e->p);
            vm_ra_from_eax(c, in->rd);
            break;
        }
        case VM_OP_LB: case VM_OP_LH: case VM_OP_LW: case VM_OP_LBU: case VM_OP_LHU:
        case VM_OP_SB: case VM_OP_SH: case VM_OP_SW: {
            unsigned mask = (op == VM_OP_LW || op == VM_OP_SW) ? 3u
                          : (op == VM_OP_LH || op == VM_OP_LHU || op == VM_OP_SH) ? 1u : 0u;
            int member = grp_left > 0; /* a later member: edx holds the address */
            uint32_t span = 0;
            if (member) {
                grp_left--;
            } else {
                uint32_t g = group_len(in, n - k, mask + 1u, &grp_imin, &span);
                grp_left = g - 1;
            }
            int grouped = member || grp_left > 0;
            int32_t lo = grouped ? grp_imin : in->imm;
            int idx = grouped ? RDX : RAX; /* the address */
            if (!member) {
                int a = vm_ra_src(c, in->rs1, RAX);
                if (a != RAX && lo) {
                    op_rm(e, 0, 0x8d, RAX, a, lo); /* lea eax, [a + lo] */
                } else if (a != RAX && !grouped) {
                    idx = a; /* its slot, locked: the address as it is */
                } else {
                    if (a != RAX)
                        op_rr(e, 0, 0x89, a, RAX);
                    if (lo)
                        alu_i(e, 0, RAX, (uint32_t)lo);
                }
                int at = idx == RDX ? RAX : idx; /* the (lowest) address */
                if (grouped) {
                    /* Aligned, and the group's highest byte on the lowest
                     * one's page, in one test: the offset in the page
                     * rotated right by the alignment's bits is at most
                     * (last offset that fits) >> bits when both hold, and
                     * at least 2^30 when a low bit is set. */
                    unsigned bits = mask == 3u ? 2u : mask;
                    op_rr(e, 0, 0x89, RAX, RCX);  /* mov ecx, eax */
                    alu_i(e, 4, RCX, VM_PAGE_BYTES - 1u);
                    if (bits)
                        shift_i(e, 1, RCX, bits); /* ror ecx, bits */
                    alu_i(e, 7, RCX, (VM_PAGE_BYTES - 1u - span) >> bits);
                    st[nst++] = (stub){jcc32(e, CC_A), rest, in->pc, JX_STEP, c->s};
                } else if (mask) {
                    if (at == RAX) {
                        b1(e, 0xa8); b1(e, mask); /* test al, mask */
                    } else {
                        rex(e, 0, 0, 0, at); /* test at, mask */
                        b1(e, 0xf7); b1(e, 0xc0u | (unsigned)(at & 7)); b4(e, mask);
                    }
                    st[nst++] = (stub){jcc32(e, CC_NE), rest, in->pc, JX_STEP, c->s};
                }
                op_rr(e, 0, 0x89, at, RDX);  /* mov edx, at */
                shift_i(e, 5, RDX, VM_PAGE_SHIFT);
                /* cmp byte [r12 + rdx], NONE / RW */
                b1(e, 0x41); b1(e, 0x80); b1(e, 0x3c); b1(e, 0x14);
                b1(e, is_load(op) ? VM_PG_NONE : VM_PG_RW);
                st[nst++] = (stub){jcc32(e, is_load(op) ? CC_E : CC_NE), rest, in->pc, JX_STEP,
                                   c->s};
                if (grouped)
                    op_rr(e, 0, 0x89, RAX, RDX);  /* edx = the group's lowest address */
            }
            int32_t disp = grouped ? in->imm - grp_imin : 0;
            if (is_load(op)) {
                unsigned opc = op == VM_OP_LB ? 0x0fbe : op == VM_OP_LBU ? 0x0fb6
                             : op == VM_OP_LH ? 0x0fbf : op == VM_OP_LHU ? 0x0fb7 : 0x8b;
                /* x0: the access is still made */
                int d = in->rd == VM_XSINK ? RCX : vm_ra_dst(c, in->rd);
                op_mem(e, opc, d, idx, disp, 0);
                vm_ra_put(c, in->rd, d);
            } else if (in->rs2 == 0) { /* mov [mem], 0: an immediate of mask + 1 bytes */
                if (op == VM_OP_SH)
                    b1(e, 0x66);
                op_mem(e, op == VM_OP_SB ? 0xc6 : 0xc7, 0, idx, disp, 0);
                for (unsigned z = 0; z <= mask; z++)
                    b1(e, 0);
            } else {
                int s2 = vm_ra_src(c, in->rs2, RCX);
                if (op == VM_OP_SH)
                    b1(e, 0x66);
                op_mem(e, op == VM_OP_SB ? 0x88 : 0x89, s2, idx, disp, op == VM_OP_SB);
            }
            break;
        }
        case VM_OP_JAL: case VM_OP_JAL_FAR: {
            uint32_t t = op == VM_OP_JAL ? in->pc + 4u * imm : imm;
            vm_ra_imm(c, in->rd, in->pc + 4u);
            vm_ra_flush(e, j, &c->s);
            succ(e, j, t, pc0, inner, st, &nst, &conv);
            ended = 1;
            break;
        }
        case VM_OP_JALR: {
            int a = vm_ra_src(c, in->rs1, RAX);
            if (a != RAX && imm)
                op_rm(e, 0, 0x8d, RAX, a, in->imm); /* lea eax, [a + imm] */
            else {
                if (a != RAX)
                    op_rr(e, 0, 0x89, a, RAX);
                if (imm)
                    alu_i(e, 0, RAX, imm);
            }
            b1(e, 0x83); b1(e, 0xe0); b1(e, 0xfe); /* and eax, -2 */
            vm_ra_imm(c, in->rd, in->pc + 4u);
            vm_ra_flush(e, j, &c->s);
            jmp_to(e, j->lookup);
            ended = 1;
            break;
        }
        case VM_OP_BEQ: case VM_OP_BNE: case VM_OP_BLT: case VM_OP_BGE:
        case VM_OP_BLTU: case VM_OP_BGEU:
        case VM_OP_BEQ_FAR: case VM_OP_BNE_FAR: case VM_OP_BLT_FAR: case VM_OP_BGE_FAR:
        case VM_OP_BLTU_FAR: case VM_OP_BGEU_FAR: {
            static const unsigned cc[] = {CC_E, CC_NE, CC_L, CC_GE, CC_B, CC_AE};
            int far = op >= VM_OP_BEQ_FAR;
            unsigned cnd = cc[op - (far ? VM_OP_BEQ_FAR : VM_OP_BEQ)];
            uint32_t t = far ? imm : in->pc + 4u * imm;
            if (in->rs1 == 0 && in->rs2 != 0) { /* 0 op s2: s2 against itself */
                static const unsigned zc[] = {CC_E, CC_NE, CC_G, CC_LE, CC_NE, CC_E};
                cnd = zc[op - (far ? VM_OP_BEQ_FAR : VM_OP_BEQ)];
                int s2 = vm_ra_src(c, in->rs2, RAX);
                op_rr(e, 0, 0x85, s2, s2); /* test s2, s2 */
            } else if (in->rs2 == 0) { /* s1 op 0: the same flags as cmp s1, 0 */
                int s1 = vm_ra_src(c, in->rs1, RAX);
                op_rr(e, 0, 0x85, s1, s1); /* test s1, s1 */
            } else {
                int s1 = vm_ra_src(c, in->rs1, RAX);
                if (vm_ra_from_mem(c, in->rs2)) {
                    op_rm(e, 0, 0x3b, s1, RBX, xoff(in->rs2)); /* cmp s1, [v->x + rs2] */
                } else {
                    int s2 = vm_ra_src(c, in->rs2, RCX);
                    op_rr(e, 0, 0x39, s2, s1); /* cmp s1, s2 */
                }
            }
            if (t == pc0 || in->pc + 4u == pc0) { /* the back edge of a loop on itself */
                if (pass == 0) {
                    loop_s = c->s;
                    have_loop = 1;
                } else {
                    loop_e = c->s;
                    vm_ra_reconcile(e, &c->s, &loop_s); /* moves only: the flags stay */
                    uint8_t *taken = jcc32(e, cnd);
                    if (t == pc0) {
                        patch(taken, loop_top);
                    } else {
                        jmp_to(e, loop_top);
                        patch(taken, e->p);
                    }
                    vm_ra_flush(e, j, &loop_s);
                    succ(e, j, t == pc0 ? in->pc + 4u : t, pc0, inner, st, &nst, &conv);
                    ended = 1;
                    break;
                }
            }
            vm_ra_flush(e, j, &c->s);     /* moves only: the flags stay */
            /* taken: one jcc, to the block or its chain stub */
            to_block(jcc32(e, cnd), j, t, pc0, inner, st, &nst, &conv);
            succ(e, j, in->pc + 4u, pc0, inner, st, &nst, &conv);
            ended = 1;
            break;
        }
        case VM_OP_FENCE_I:
            vm_ra_flush(e, j, &c->s);
            succ(e, j, in->pc + 4u, pc0, inner, st, &nst, &conv);
            ended = 1;
            break;
        default: /* ECALL, EBREAK, ILLEGAL: the interpreter runs it */
            st[nst++] = (stub){jmp32(e), rest, in->pc, JX_STEP, c->s};
            ended = 1;
            break;
        }
        if (last && !ended) { /* run ends at the page end */
            vm_ra_flush(e, j, &c->s);
            succ(e, j, in->pc + 4u, pc0, inner, st, &nst, &conv);
            ended = 1;
        }
    }
    }
    for (unsigned i = 0; i < nst; i++) {
        patch(st[i].at, e->p);
        if (st[i].why == JX_CHAIN || st[i].why == JX_CHAIN_IN) {
            /* mov rax, site; mov [rbx+jit_site], rax */
            b1(e, 0x48); b1(e, 0xb8); b8(e, (uint64_t)(uintptr_t)st[i].at);
            op_rm(e, 1, 0x89, RAX, RBX, SITEOFF);
        }
        vm_ra_flush(e, j, &st[i].rs);
        exit_stub(e, j, st[i].refund, st[i].pc, st[i].why);
    }
    /* the room kept (code_for) holds the largest block: 256 instructions
     * of at most ~100 bytes, and ~520 exit stubs of at most ~160 */
    if ((size_t)(e->p - full) > VM_JIT_BLOCK_MAX)
        abort(); /* would have run past the region's end */
    j->used = (size_t)(e->p - j->code);
    jit_ent *en = tab_at(j, pc0);
    en->pc = pc0;
    en->code = full;
    en->inner = inner;
    *ok = 1;
    return full;
}

/* Code for pc, translating it if it lies on a program page; NULL when the
 * interpreter must run it. */
static const uint8_t *code_for(vm *v, struct vm_jit *j, uint32_t pc)
{
    if ((pc & 3u) || v->pstate[pc >> VM_PAGE_SHIFT] != VM_PG_CODE)
        return NULL;
    jit_ent *en = tab_at(j, pc);
    if (en->pc == pc)
        return en->code;
    const vm_dpage *d = v->dtab[pc >> VM_PAGE_SHIFT];
    if (d->patched)
        return NULL;
    /* No credit: the interpreter runs until the run has paid for more.
     * The cache's table is direct-mapped, so blocks whose pcs collide
     * evict each other, and a run that jumps between such blocks (or
     * through more code than the cache holds) would otherwise have them
     * translated again at every jump: a translation costs about 100
     * times what its instructions are charged. */
    if (v->jit_insns > VM_JIT_CREDIT0 + v->cycles / VM_JIT_CREDIT)
        return NULL;
    size_t cap = vm_jit_cache_bytes < VM_JIT_CODE_BYTES ? vm_jit_cache_bytes : VM_JIT_CODE_BYTES;
    if (j->used + VM_JIT_BLOCK_MAX > cap) {
        tab_clear(j); /* full: flush (no native code is running) */
        j->used = j->base;
        j->flushes++;
    }
    uint8_t *room = j->code + j->used;
    if (set_prot_range(j, room, VM_JIT_BLOCK_MAX, PROT_READ | PROT_WRITE) != 0)
        return NULL;
    int ok;
    uint32_t n = 0;
    const uint8_t *c = translate(j, v, &d->ins[(pc >> 2) & (VM_PAGE_INSNS - 1u)], &ok, &n);
    v->jit_insns += n;
    if (set_prot_range(j, room, VM_JIT_BLOCK_MAX, PROT_READ | PROT_EXEC) != 0) {
        /* cannot make it executable: stop translating for this program */
        j->have_prog = 0;
        return NULL;
    }
    return ok ? c : NULL;
}

/* The interpreter for one slice: at most `n` cycles past now. Returns -1 to
 * continue, else the VM_RUN_* result for the caller. */
static int interp_slice(vm *v, uint64_t stop, uint64_t n)
{
    uint64_t s = v->cycles + n < stop ? v->cycles + n : stop;
    int r = vm_interp(v, s);
    if (r == VM_RUN_DONE)
        return r;
    if (v->cycles < s || s == stop)
        return VM_RUN_PAUSED; /* host-call fence, or the stop point */
    return -1;
}

int vm_jit_run(vm *v, uint64_t stop)
{
    struct vm_jit *j;
    uint32_t hot[VM_JIT_SAMPLES]; /* pcs at the end of the warm-up */
    unsigned nhot = 0;
    if (v && v->cycles < v->jit_warmup) {
        /* Interpreted up to the warm-up point: no cache, no translation
         * for the many runs that end before it. Its last part runs in
         * slices, the pc sampled after each for choose_pins. */
        const uint64_t tail = (uint64_t)VM_JIT_SAMPLES * VM_JIT_SAMPLE_GAP;
        int r;
        if (v->jit_warmup - v->cycles > tail &&
            (r = interp_slice(v, stop, v->jit_warmup - tail - v->cycles)) >= 0)
            return r;
        while (v->cycles < v->jit_warmup) {
            uint64_t left = v->jit_warmup - v->cycles;
            r = interp_slice(v, stop, left < VM_JIT_SAMPLE_GAP ? left : VM_JIT_SAMPLE_GAP);
            if (r >= 0)
                return r;
            if (nhot < VM_JIT_SAMPLES)
                hot[nhot++] = v->pc;
        }
    }
    if (!v || !v->prog || !(j = jit_for(v, hot, nhot)) || !j->have_prog)
        return vm_interp(v, stop);
    for (;;) {
        if (v->cycles >= stop)
            return vm_interp(v, stop); /* pause or out of cycles, as it says */
        const uint8_t *c = code_for(v, j, v->pc);
        if (!j->have_prog)
            return vm_interp(v, stop);
        int r;
        if (!c) {
            r = interp_slice(v, stop, VM_JIT_SLICE);
            if (r >= 0)
                return r;
            continue;
        }
        v->jit_entries++;
        r = j->enter(v, c, stop);
        switch (r) {
        case JX_OVER:
            return vm_interp(v, stop);
        case JX_STEP:
            r = interp_slice(v, stop, VM_JIT_STEP_SLICE);
            if (r >= 0)
                return r;
            break;
        case JX_CHAIN: case JX_CHAIN_IN: {
            /* A direct jump met a block not translated when it was made:
             * translate it, point the jump at it, carry on there. */
            uint8_t *site = v->jit_site;
            uint64_t gen = j->flushes;
            const uint8_t *t = code_for(v, j, v->pc);
            /* not after a flush: the site is gone. The full entry, so
             * the page check runs on whichever page the site is, but
             * for a jump from a block that started on the target's page
             * (tested at that block's full entry; no page changes state
             * while native code runs): its inner entry. */
            if (t && r == JX_CHAIN_IN)
                t = tab_at(j, v->pc)->inner;
            if (t && j->flushes == gen && j->have_prog &&
                set_prot_range(j, site, 4, PROT_READ | PROT_WRITE) == 0) {
                patch(site, t);
                if (set_prot_range(j, site, 4, PROT_READ | PROT_EXEC) != 0)
                    j->have_prog = 0;
            }
            break;
        }
        default: /* JX_DISPATCH */
            break;
        }
    }
}

#endif /* x86-64 */
