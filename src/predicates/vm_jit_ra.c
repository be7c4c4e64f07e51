/*
 * vm_jit_ra.c — the translating tier's guest registers: the block-local
 * allocation of the 8 host register slots (loaded on first use, kept,
 * written back when a slot is taken or at an exit), the way back to the
 * pin convention at every exit (vm_ra_flush) and across a loop's back
 * edge (vm_ra_reconcile); and rotates (srli/slli/or) as one ror. Only
 * moves: no flag is touched. Called by vm_jit.c while it translates;
 * docs/VM.md 9a.
 */
#include "config.h"

#include <stdlib.h>
#include "predicates/vm_jit_int.h"

#if VM_JIT_HOST

/* How `in` names guest register g (1..31): 1 read, 2 written, 3 both. */
static unsigned insn_regs(const vm_insn *in, unsigned g)
{
    unsigned op = in->op;
    int r1 = 0, r2 = 0, wd = 0;
    if (op == VM_OP_LI || op == VM_OP_JAL || op == VM_OP_JAL_FAR)
        wd = 1;
    else if (op == VM_OP_JALR || (op >= VM_OP_LB && op <= VM_OP_LHU) ||
             (op >= VM_OP_ADDI && op <= VM_OP_SRAI))
        r1 = wd = 1;
    else if ((op >= VM_OP_BEQ && op <= VM_OP_BGEU_FAR) || (op >= VM_OP_SB && op <= VM_OP_SW))
        r1 = r2 = 1;
    else if (op >= VM_OP_ADD && op <= VM_OP_REMU)
        r1 = r2 = wd = 1;
    return ((r1 && in->rs1 == g) || (r2 && in->rs2 == g) ? 1u : 0u) |
           (wd && in->rd == g ? 2u : 0u);
}

int vm_ra_insn_uses(const vm_insn *in, unsigned g) { return insn_regs(in, g) != 0; }

void vm_ra_plan(ra_plan *p, const vm_insn *ip, uint32_t n)
{
    for (unsigned g = 0; g < 33; g++) {
        p->next[n][g] = RA_NONE;
        p->left[n][g] = 0;
    }
    for (uint32_t k = n; k-- > 0;) {
        const vm_insn *in = ip + k;
        unsigned cand[3] = {in->rs1, in->rs2, in->rd}; /* the only ones it can name */
        uint64_t seen = 0;
        memcpy(p->next[k], p->next[k + 1], sizeof p->next[k]);
        memcpy(p->left[k], p->left[k + 1], sizeof p->left[k]);
        for (unsigned i = 0; i < 3; i++) {
            unsigned g = cand[i];
            if (g < 33 && !(seen >> g & 1u) && vm_ra_insn_uses(in, g)) {
                seen |= UINT64_C(1) << g;
                p->next[k][g] = (uint16_t)k;
                p->left[k][g]++;
            }
        }
    }
}

/* Index of the next instruction of the run after the current one that
 * uses g, or UINT32_MAX. */
static uint32_t next_use(const rctx *c, unsigned g)
{
    uint16_t k = g < 33 ? c->plan->next[c->k + 1][g] : RA_NONE;
    uint32_t r = k == RA_NONE ? UINT32_MAX : k;
#ifdef RA_PLAN_CHECK
    uint32_t o = UINT32_MAX;
    for (uint32_t q = c->k + 1; q < c->n; q++)
        if (vm_ra_insn_uses(c->ip + q, g)) {
            o = q;
            break;
        }
    if (o != r)
        abort();
#endif
    return r;
}

/* The guest register pinned to slot i, or -1. */
static int home_of(const struct vm_jit *j, unsigned i)
{
    return i < j->npin ? j->pins[i] : -1;
}

static int slot_of(const rctx *c, unsigned g)
{
    for (unsigned i = 0; i < VM_JIT_NPIN; i++)
        if (c->s.g[i] == (int)g)
            return (int)i;
    return -1;
}

/* The convention: pins at home (their v->x copies stale), nothing else. */
void vm_ra_entry(const struct vm_jit *j, ra_state *s)
{
    for (unsigned i = 0; i < VM_JIT_NPIN; i++) {
        s->g[i] = (int8_t)home_of(j, i);
        s->dirty[i] = s->g[i] >= 0;
    }
}

/* The slot guest g is pinned to, or -1. */
static int home_slot(const struct vm_jit *j, unsigned g)
{
    return g < 33 && j->pin[g] >= 0 ? (int)(j->pin_slot[g]) : -1;
}

/* Back to the convention from state s (at an exit), with moves only: a
 * register not pinned is written back if dirty; a pin in another slot
 * moves to its home once that is free (a cycle of them is broken by
 * writing one back); an evicted pin is reloaded. */
void vm_ra_flush(em *e, const struct vm_jit *j, const ra_state *s)
{
    int8_t cur[VM_JIT_NPIN];
    uint8_t dirty[VM_JIT_NPIN];
    memcpy(cur, s->g, sizeof cur);
    memcpy(dirty, s->dirty, sizeof dirty);
    for (unsigned i = 0; i < VM_JIT_NPIN; i++)
        if (cur[i] >= 0 && home_slot(j, (unsigned)cur[i]) < 0) {
            if (dirty[i])
                op_rm(e, 0, 0x89, pin_host[i], RBX, xoff((unsigned)cur[i]));
            cur[i] = -1;
        }
    for (;;) {
        int moved = 0, left = -1;
        for (unsigned i = 0; i < VM_JIT_NPIN; i++) {
            if (cur[i] < 0 || home_slot(j, (unsigned)cur[i]) == (int)i)
                continue;
            int h = home_slot(j, (unsigned)cur[i]);
            if (cur[h] >= 0) {
                left = (int)i;
                continue;
            }
            op_rr(e, 0, 0x89, pin_host[i], pin_host[h]);
            cur[h] = cur[i];
            cur[i] = -1;
            moved = 1;
        }
        if (left < 0)
            break;
        if (!moved) { /* a cycle: write one back, it is reloaded below */
            if (dirty[left])
                op_rm(e, 0, 0x89, pin_host[left], RBX, xoff((unsigned)cur[left]));
            cur[left] = -1;
        }
    }
    for (unsigned i = 0; i < j->npin; i++)
        if (cur[i] != (int)j->pins[i])
            op_rm(e, 0, 0x8b, pin_host[i], RBX, xoff(j->pins[i]));
}

/* From state `from` to state `to` (a loop's, every slot dirty), moves
 * only: what `to` does not hold in the same slot is written back if dirty,
 * then what `to` holds and `from` does not have there is loaded. */
void vm_ra_reconcile(em *e, const ra_state *from, const ra_state *to)
{
    for (unsigned i = 0; i < VM_JIT_NPIN; i++)
        if (from->g[i] >= 0 && from->g[i] != to->g[i] && from->dirty[i])
            op_rm(e, 0, 0x89, pin_host[i], RBX, xoff((unsigned)from->g[i]));
    for (unsigned i = 0; i < VM_JIT_NPIN; i++)
        if (to->g[i] >= 0 && to->g[i] != from->g[i])
            op_rm(e, 0, 0x8b, pin_host[i], RBX, xoff((unsigned)to->g[i]));
}

/* Writes slot i back if dirty and empties it. */
static void ra_spill(rctx *c, unsigned i)
{
    if (c->s.g[i] >= 0 && c->s.dirty[i])
        op_rm(c->e, 0, 0x89, pin_host[i], RBX, xoff((unsigned)c->s.g[i]));
    c->s.g[i] = -1;
    c->s.dirty[i] = 0;
}

/* Uses of g in the run after the current instruction. */
static uint32_t uses_after(const rctx *c, unsigned g)
{
    uint32_t u = g < 33 ? c->plan->left[c->k + 1][g] : 0;
#ifdef RA_PLAN_CHECK
    uint32_t o = 0;
    for (uint32_t q = c->k + 1; q < c->n; q++)
        o += (uint32_t)vm_ra_insn_uses(c->ip + q, g);
    if (o != u)
        abort();
#endif
    return u;
}

/* A slot for guest g (not in one), or -1 when g had better stay in v->x.
 * Each slot has a price in memory accesses: 0 empty or holding a register
 * the run does not use again (a dirty one is only written back earlier
 * than at the exit); 2 a pin at home not used again (written back now,
 * reloaded at the exit) or a register used again (reloaded, written back).
 * The cheapest unlocked slot wins, the one used furthest ahead among
 * equals; g takes it when that costs less than the loads and stores g's
 * later uses in the run would (free ones always). */
static int ra_pick(const rctx *c, unsigned g)
{
    int best = -1;
    unsigned bcost = 0;
    uint32_t bnext = 0;
    for (unsigned i = 0; i < VM_JIT_NPIN; i++) {
        unsigned cost;
        uint32_t next;
        if (c->lock >> i & 1u)
            continue;
        if (c->s.g[i] < 0) {
            cost = 0;
            next = home_of(c->j, i) == (int)g ? UINT32_MAX : UINT32_MAX - 1u;
        } else {
            next = next_use(c, (unsigned)c->s.g[i]);
            /* in a loop, a pin it does not use is written back and
             * reloaded once, not every time round */
            cost = next != UINT32_MAX || (home_of(c->j, i) == c->s.g[i] && !c->loop) ? 2u : 0u;
        }
        if (best < 0 || cost < bcost || (cost == bcost && next > bnext)) {
            best = (int)i;
            bcost = cost;
            bnext = next;
        }
    }
    return best >= 0 && (bcost == 0 || bcost < uses_after(c, g)) ? best : -1;
}

/* Guest g into slot i (loaded from v->x when `load`), locked. */
static int ra_take(rctx *c, unsigned i, unsigned g, int load)
{
    ra_spill(c, i);
    if (load)
        op_rm(c->e, 0, 0x8b, pin_host[i], RBX, xoff(g));
    c->s.g[i] = (int8_t)g;
    c->s.dirty[i] = 0;
    c->lock |= 1u << i;
    return pin_host[i];
}

/* A host register holding guest g for reading: its slot (loaded into one
 * if the block uses g again), else `tmp` loaded from v->x. */
int vm_ra_src(rctx *c, unsigned g, int tmp)
{
    if (g == 0) {
        op_rr(c->e, 0, 0x31, tmp, tmp); /* xor */
        return tmp;
    }
    int i = slot_of(c, g);
    if (i >= 0) {
        c->lock |= 1u << i;
        return pin_host[i];
    }
    i = ra_pick(c, g);
    if (i >= 0)
        return ra_take(c, (unsigned)i, g, 1);
    op_rm(c->e, 0, 0x8b, tmp, RBX, xoff(g));
    return tmp;
}

/* Whether guest g (a source) is best read straight from v->x, as a memory
 * operand: in no slot, and not worth one. */
int vm_ra_from_mem(const rctx *c, unsigned g)
{
    return g != 0 && slot_of(c, g) < 0 && ra_pick(c, g) < 0;
}

/* A host register to write guest g into: its slot (dirty from now on), or
 * eax when it gets none (vm_ra_put then stores it). x0 and VM_XSINK: eax,
 * dropped. Call it after the instruction's last side exit. */
int vm_ra_dst(rctx *c, unsigned g)
{
    if (g == 0 || g == VM_XSINK)
        return RAX;
    int i = slot_of(c, g);
    if (i < 0)
        i = ra_pick(c, g);
    if (i < 0)
        return RAX;
    if (c->s.g[i] != (int)g)
        ra_take(c, (unsigned)i, g, 0);
    c->lock |= 1u << i;
    c->s.dirty[i] = 1;
    return pin_host[i];
}

/* Completes a write of guest g into host h (from vm_ra_dst). */
void vm_ra_put(rctx *c, unsigned g, int h)
{
    if (h == RAX && g != 0 && g != VM_XSINK)
        op_rm(c->e, 0, 0x89, RAX, RBX, xoff(g));
}

/* Guest g (or the result in eax) into guest rd: vm_ra_dst and a move. */
void vm_ra_from_eax(rctx *c, unsigned rd)
{
    int d = vm_ra_dst(c, rd);
    if (d != RAX)
        op_rr(c->e, 0, 0x89, RAX, d);
    vm_ra_put(c, rd, d);
}

/* Guest g's value into scratch host h, without allocating. */
void vm_ra_copy(rctx *c, int h, unsigned g)
{
    int i = g ? slot_of(c, g) : -1;
    if (g == 0)
        op_rr(c->e, 0, 0x31, h, h);
    else if (i >= 0)
        op_rr(c->e, 0, 0x89, pin_host[i], h);
    else
        op_rm(c->e, 0, 0x8b, h, RBX, xoff(g));
}

/* Guest g = imm, touching no scratch register and no flag. */
void vm_ra_imm(rctx *c, unsigned g, uint32_t imm)
{
    if (g == 0 || g == VM_XSINK)
        return;
    int i = slot_of(c, g);
    if (i < 0)
        i = ra_pick(c, g);
    if (i >= 0) {
        if (c->s.g[i] != (int)g)
            ra_take(c, (unsigned)i, g, 0);
        c->s.dirty[i] = 1;
        mov_ri(c->e, pin_host[i], imm);
    } else {
        b1(c->e, 0xc7); /* mov dword [rbx + x], imm32 */
        b1(c->e, 0x80u | RBX);
        b4(c->e, (uint32_t)xoff(g));
        b4(c->e, imm);
    }
}

/* ---- rotates ------------------------------------------------------------ */
/*
 * RV32IM has no rotate: compilers write x ror a as three instructions,
 * srli t, x, a; slli u, x, 32 - a; or d, t, u (the shifts in either order,
 * the OR's operands too), and SHA-256 is mostly that. The tier emits one
 * rotate for d, and t and u only where their values can
 * be seen: a temporary the run overwrites before reading it, with no
 * instruction in between that may leave native code, is never computed.
 */

/* The rotate at ip (left instructions in the run from it): its right
 * amount a (1..31), or 0 when ip does not start one. */
unsigned vm_rot_match(const vm_insn *ip, uint32_t left)
{
    if (left < 3)
        return 0;
    const vm_insn *p = ip, *q = ip + 1, *o = ip + 2;
    if (!((p->op == VM_OP_SRLI && q->op == VM_OP_SLLI) ||
          (p->op == VM_OP_SLLI && q->op == VM_OP_SRLI)))
        return 0;
    unsigned x = p->rs1;
    /* the OR's sources are never VM_XSINK, so neither shift writes x0 */
    if (x == 0 || q->rs1 != x || p->rd == x || q->rd == x || p->rd == q->rd)
        return 0;
    int32_t a = p->op == VM_OP_SRLI ? p->imm : q->imm, b = p->op == VM_OP_SRLI ? q->imm : p->imm;
    if (a < 1 || a > 31 || a + b != 32 || o->op != VM_OP_OR ||
        !((o->rs1 == p->rd && o->rs2 == q->rd) || (o->rs1 == q->rd && o->rs2 == p->rd)))
        return 0;
    return (unsigned)a;
}

/* Whether the value guest g holds after instruction k of the run is never
 * seen: a later instruction writes g before any reads it, and none in
 * between can leave native code (only ALU ops, LI and FENCE qualify; a
 * load or store may fail its test, the others end the run; nor a code page
 * test). */
static int dead_after(const rctx *c, uint32_t k, unsigned g)
{
    for (uint32_t i = k + 1; i < c->n; i++) {
        unsigned op = c->ip[i].op, u = insn_regs(c->ip + i, g);
        if (!((op >= VM_OP_ADDI && op <= VM_OP_REMU) || op == VM_OP_LI || op == VM_OP_FENCE) ||
            c->cross[i] || (u & 1u))
            return 0;
        if (u & 2u)
            return 1;
    }
    return 0; /* seen at the run's exit */
}

/* Emits the rotate at c->ip + c->k (vm_rot_match gave a); leaves c->k on
 * its OR. */
void vm_rot_emit(rctx *c, unsigned a)
{
    em *e = c->e;
    const vm_insn *in = c->ip + c->k;
    unsigned x = in->rs1, d = in[2].rd;
    uint32_t k0 = c->k;
    c->k = k0 + 2; /* later uses are counted from the OR on */
    int hx = vm_ra_src(c, x, RAX);
    for (unsigned s = 0; s < 2; s++) {
        unsigned t = in[s].rd;
        if (t == d || dead_after(c, k0 + 2, t))
            continue;
        int h = vm_ra_dst(c, t), w = h == RAX ? RDX : h; /* eax may hold x */
        op_rr(e, 0, 0x89, hx, w);
        shift_i(e, in[s].op == VM_OP_SLLI ? 4 : 5, w, (unsigned)in[s].imm);
        if (h == RAX)
            op_rm(e, 0, 0x89, RDX, RBX, xoff(t));
    }
    int hd = vm_ra_dst(c, d);
    /* mov + ror: as fast here as BMI2's rorx (the move is renamed away),
     * and no second path to test */
    if (hd != hx)
        op_rr(e, 0, 0x89, hx, hd);
    shift_i(e, 1, hd, a); /* ror */
    vm_ra_put(c, d, hd);
}

#endif /* VM_JIT_HOST */
