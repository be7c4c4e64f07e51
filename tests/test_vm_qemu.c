/*
 * test_vm_qemu.c — differential test of the predicate machine against
 * qemu-riscv32 (Linux user mode) on compiled C programs (tests/vm/NAME.c,
 * runtime in tests/vm/rt.c, built at `make check` time with clang for
 * rv32im). Each program computes a checksum of its work and reports it as
 * its halt code under the machine and on stdout under qemu; the two must
 * agree. Each program also runs through the switch-dispatch build of the
 * interpreter (vm_interp.c compiled again with VM_NO_COMPUTED_GOTO, see
 * tests/local.mk) and in split runs paused at several cycle counts: result
 * and cycle count must be identical every time.
 *
 * Second part: random instruction streams (ALU, M, loads and stores,
 * forward branches, JAL and computed JALR, LUI/AUIPC, FENCE, stores that
 * rewrite later instructions followed by FENCE.I) assembled here with the
 * encoders of vm_asm.h into a small ELF, run under both; the final
 * registers and the data region must be byte-identical.
 *
 * Exit 77 (skipped) when the RISC-V toolchain or qemu-riscv32 is missing.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "predicates/image.h"
#include "predicates/vm_internal.h"
#include "vm_asm.h"

#ifndef VM_QEMU
#define VM_QEMU "no"
#endif
#ifndef VM_ELF_DIR
#define VM_ELF_DIR "tests/vm"
#endif

/* The same loop built with switch dispatch (tests/local.mk renames it). */
int vm_interp_switch(vm *v, uint64_t stop);

static const char *const progs[] = {"arith", "sort", "bytes", "calls", "crc"};

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;

    if (!f)
        return NULL;
    for (;;) {
        if (n == cap) {
            cap = cap ? 2 * cap : 65536;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    *len = n;
    return buf;
}

static int qemu_checksum(const char *elf, uint32_t *out)
{
    char cmd[8400], line[64];
    snprintf(cmd, sizeof cmd, "timeout 60 '%s' '%s'", VM_QEMU, elf);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    int ok = fgets(line, sizeof line, p) != NULL;
    int st = pclose(p);
    if (!ok || st != 0)
        return -1;
    *out = (uint32_t)strtoul(line, NULL, 16);
    return 0;
}

#define BUDGET 200000000u

static int check_prog(vm *v, const char *name)
{
    char path[4096];
    size_t elf_len = 0, img_len = 0, off = 0;
    uint8_t *elf, *img = NULL;
    vm_image im;
    vm_program *p = NULL;
    utxo_vm_result whole, r;
    uint32_t want;
    int bad = 0;

    snprintf(path, sizeof path, "%s/%s.elf", VM_ELF_DIR, name);
    elf = slurp(path, &elf_len);
    if (!elf) {
        fprintf(stderr, "%s: cannot read\n", path);
        return 1;
    }
    memset(&im, 0, sizeof im);
    if (img_from_elf(&img, &img_len, elf, elf_len, &off) != UTXO_OK ||
        img_decode(&im, img, img_len, &off) != UTXO_OK || vm_program_new(&p, &im) != UTXO_OK) {
        fprintf(stderr, "%s: not a valid predicate (offset %zu)\n", path, off);
        bad = 1;
        goto out;
    }
    if (qemu_checksum(path, &want) != 0) {
        fprintf(stderr, "%s: qemu-riscv32 failed\n", path);
        bad = 1;
        goto out;
    }
    vm_run(v, p, NULL, 0, NULL, BUDGET, &whole);
    if (whole.status == UTXO_VM_FAILED || whole.exit_code != want) {
        fprintf(stderr, "%s: machine says %#x (status %d, %s at pc %#x), qemu %#x\n", name,
                whole.exit_code, whole.status, utxo_vm_fail_str(whole.fail), whole.pc, want);
        bad = 1;
        goto out;
    }
    /* Switch dispatch: the same run, to the cycle. */
    vm_load(v, p, NULL, 0, NULL, BUDGET);
    vm_interp_switch(v, BUDGET);
    r = v->res;
    if (memcmp(&r, &whole, sizeof r) != 0) {
        fprintf(stderr, "%s: switch dispatch differs (cycles %llu vs %llu)\n", name,
                (unsigned long long)r.cycles, (unsigned long long)whole.cycles);
        bad = 1;
    }
    /* Split runs at a few cycle counts, including odd ones. */
    for (uint64_t k = 1; k <= 7; k++) {
        uint64_t stop = whole.cycles * k / 8 + k;
        vm_load(v, p, NULL, 0, NULL, BUDGET);
        uint64_t at = stop;
        while (vm_run_until(v, at, &r) == VM_RUN_PAUSED)
            at = r.cycles + 1 + (at % 1000);
        if (memcmp(&r, &whole, sizeof r) != 0) {
            fprintf(stderr, "%s: split run from %llu differs\n", name, (unsigned long long)stop);
            bad = 1;
        }
    }
    printf("%s: checksum %08x cycles %llu: machine = qemu\n", name, want,
           (unsigned long long)whole.cycles);
out:
    vm_program_free(p);
    img_free(&im);
    free(img);
    free(elf);
    return bad;
}

/* ---- random instruction streams ---------------------------------------- */

#define R_TEXT 0x00020000u
#define R_DATA 0x00030000u   /* 4 KiB of random data, then the register dump */
#define R_DUMP 0x00031000u
#define R_OUT (4096u + 128u) /* bytes compared: data region + x0..x31 dump */
#define R_BASE 27u           /* x27 = R_DATA + 2048: base of every access */

/* splitmix64: the same seed gives the same programs everywhere. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}
static uint32_t rnd(uint64_t *s) { return (uint32_t)(rng_next(s) >> 32); }

/* A random register for a destination (never the base register). */
static uint32_t rdst(uint64_t *s)
{
    uint32_t r = rnd(s) % 32;
    return r == R_BASE ? 0 : r;
}

/* Body of n random instructions, then the register dump. */
static void gen_body(asm_buf *b, uint64_t *s, uint32_t n)
{
    static uint32_t (*const rr[18])(uint32_t, uint32_t, uint32_t) = {
        ADD, SUB, SLL, SLT, SLTU, XOR, SRL, SRA, OR, AND,
        MUL, MULH, MULHSU, MULHU, DIV, DIVU, REM, REMU};
    static uint32_t (*const ri[6])(uint32_t, uint32_t, int32_t) = {ADDI, SLTI, SLTIU, XORI, ORI, ANDI};
    static uint32_t (*const rb[6])(uint32_t, uint32_t, int32_t) = {BEQ, BNE, BLT, BGE, BLTU, BGEU};
    static uint32_t (*const ld[5])(uint32_t, uint32_t, int32_t) = {LB, LH, LW, LBU, LHU};
    static const uint32_t ld_size[5] = {1, 2, 4, 1, 2};
    static uint32_t (*const st[3])(uint32_t, uint32_t, int32_t) = {SB, SH, SW};

    for (uint32_t r = 1; r < 32; r++)
        asm_li(b, r, r == R_BASE ? R_DATA + 2048 : rnd(s));
    /* victim[j]: body slot j will be overwritten by a store; it must hold a
     * plain one-slot instruction, and no multi-slot sequence may cover it */
    uint8_t victim[400] = {0};
    /* landing[j]: some jump targets slot j, so no multi-slot sequence may
     * have j as an inner slot (the jump would skip its set-up) */
    uint8_t landing[400] = {0};
    for (uint32_t i = 0; i < n; i++) {
        uint32_t k = rnd(s) % 100, left = n - i; /* instructions to the end */
        int32_t imm = (int32_t)(rnd(s) << 20) >> 20;
        int free5 = left > 8;
        for (uint32_t q = 1; q < 5 && free5; q++)
            free5 = !victim[i + q] && !landing[i + q];
        if (victim[i] || (k >= 98 && !free5))
            k = 30; /* plain ALU immediate */
        if (k < 30) {
            asm_emit(b, rr[rnd(s) % 18](rdst(s), rnd(s) % 32, rnd(s) % 32));
        } else if (k < 50) {
            asm_emit(b, ri[rnd(s) % 6](rdst(s), rnd(s) % 32, imm));
        } else if (k < 56) {
            uint32_t sh = rnd(s) % 32, which = rnd(s) % 3;
            asm_emit(b, which == 0 ? SLLI(rdst(s), rnd(s) % 32, sh)
                        : which == 1 ? SRLI(rdst(s), rnd(s) % 32, sh) : SRAI(rdst(s), rnd(s) % 32, sh));
        } else if (k < 60) {
            asm_emit(b, (rnd(s) & 1) ? LUI(rdst(s), rnd(s) & 0xFFFFF) : AUIPC(rdst(s), rnd(s) & 0xFFFFF));
        } else if (k < 75) {
            uint32_t w = rnd(s) % 5, sz = ld_size[w];
            int32_t off = (int32_t)((rnd(s) % (4096 / sz)) * sz) - 2048;
            asm_emit(b, ld[w](rdst(s), R_BASE, off));
        } else if (k < 88) {
            uint32_t w = rnd(s) % 3, sz = 1u << w;
            int32_t off = (int32_t)((rnd(s) % (4096 / sz)) * sz) - 2048;
            asm_emit(b, st[w](rnd(s) % 32, R_BASE, off));
        } else if (k < 96) {
            uint32_t fwd = 1 + rnd(s) % (left < 12 ? left : 12); /* lands in [i+1, n] */
            landing[i + fwd] = 1;
            asm_emit(b, rb[rnd(s) % 6](rnd(s) % 32, rnd(s) % 32, (int32_t)(4 * fwd)));
        } else if (k < 98) {
            uint32_t fwd = 1 + rnd(s) % (left < 12 ? left : 12);
            landing[i + fwd] = 1;
            asm_emit(b, JAL(rdst(s), (int32_t)(4 * fwd)));
        } else if (k < 99) {
            /* auipc rx, 0; jalr rd, rx, 4 * (1 + fwd): forward, computed */
            uint32_t rx = 1 + rnd(s) % 26, fwd = 1 + rnd(s) % (left - 2 < 10 ? left - 2 : 10);
            landing[i + 1 + fwd] = 1;
            asm_emit(b, AUIPC(rx, 0));
            asm_emit(b, JALR(rdst(s), rx, (int32_t)(4 * (1 + fwd))));
            i += 1;
        } else if (k < 100) {
            /* self-modifying code: store a random ALU instruction over a
             * later slot of the body, then FENCE.I (qemu needs it to end
             * its translation block; the machine does not) */
            uint32_t ry = 1 + rnd(s) % 26, rx = 1 + rnd(s) % 26;
            if (rx == ry)
                rx = rx % 26 + 1;
            uint32_t j = i + 5 + rnd(s) % (left - 5); /* body index of the victim */
            victim[j] = 1;
            uint32_t word = ri[rnd(s) % 6](rdst(s), rnd(s) % 32, (int32_t)(rnd(s) << 20) >> 20);
            asm_li(b, ry, word);
            asm_emit(b, AUIPC(rx, 0));                       /* body index i + 2 */
            asm_emit(b, SW(ry, rx, (int32_t)(4 * (j - (i + 2)))));
            asm_emit(b, FENCE_I());
            i += 4;
        } else {
            asm_emit(b, FENCE());
        }
    }
    /* dump x1..x31 at R_DUMP + 4 * r (x27 is known: it is the base) */
    asm_emit(b, LUI(R_BASE, R_DUMP >> 12));
    for (uint32_t r = 1; r < 32; r++)
        asm_emit(b, SW(r, R_BASE, (int32_t)(4 * r)));
}

/* Writes a two-segment ELF32 RISC-V executable: text, then data. */
static int write_elf(const char *path, const asm_buf *text, const uint8_t *data, uint32_t data_len)
{
    uint8_t h[0x1000];
    memset(h, 0, sizeof h);
#define P16(o, v) (h[o] = (uint8_t)(v), h[(o) + 1] = (uint8_t)((v) >> 8))
#define P32(o, v) (P16(o, (v) & 0xFFFFu), P16((o) + 2, (uint32_t)(v) >> 16))
    memcpy(h, "\x7f" "ELF\x01\x01\x01", 7);
    P16(16, 2);          /* ET_EXEC */
    P16(18, 243);        /* EM_RISCV */
    P32(20, 1);
    P32(24, R_TEXT);     /* entry */
    P32(28, 52);         /* phoff */
    P16(40, 52);         /* ehsize */
    P16(42, 32);         /* phentsize */
    P16(44, 2);          /* phnum */
    P16(46, 40);         /* shentsize */
    uint32_t tlen = 4 * text->n;
    /* text: offset 0x1000; data: offset 0x1000 + round_up(tlen, 4096) */
    uint32_t doff = 0x1000 + ((tlen + 4095) & ~4095u);
    uint32_t ph[2][8] = {{1, 0x1000, R_TEXT, R_TEXT, tlen, tlen, 7, 0x1000}, /* RWX */
                         {1, doff, R_DATA, R_DATA, data_len, data_len, 6, 0x1000}};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 8; j++)
            P32(52 + 32 * i + 4 * j, ph[i][j]);
#undef P16
#undef P32
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    uint8_t *t = calloc(1, doff - 0x1000);
    for (uint32_t i = 0; t && i < text->n; i++)
        for (int k = 0; k < 4; k++)
            t[4 * i + k] = (uint8_t)(text->w[i] >> (8 * k));
    int ok = t && fwrite(h, 1, sizeof h, f) == sizeof h &&
             fwrite(t, 1, doff - 0x1000, f) == doff - 0x1000 &&
             fwrite(data, 1, data_len, f) == data_len;
    free(t);
    if (fclose(f) != 0 || !ok)
        return -1;
    return chmod(path, 0755); /* qemu-user wants an executable file */
}

static int qemu_output(const char *elf, uint8_t *out, size_t len)
{
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "timeout 30 '%s' '%s'", VM_QEMU, elf);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t got = fread(out, 1, len, p);
    int st = pclose(p);
    return (got == len && st == 0) ? 0 : -1;
}

static int check_random(vm *v, uint64_t seed, const char *dir)
{
    uint64_t s = seed;
    asm_buf vm_code = {0}, q_code = {0};
    static uint8_t data[R_OUT], want[R_OUT], got[R_OUT];
    char path[4096];
    int bad = 0;

    for (uint32_t i = 0; i < 4096; i++)
        data[i] = (uint8_t)rng_next(&s);
    memset(data + 4096, 0, 128);
    uint64_t s2 = s;
    gen_body(&vm_code, &s, 150 + (uint32_t)(seed % 150));
    gen_body(&q_code, &s2, 150 + (uint32_t)(seed % 150));
    asm_halt(&vm_code); /* machine: halt (a7 = 0); a0/a7 already dumped */
    asm_li(&q_code, A0, 1);   /* qemu: write(1, R_DATA, R_OUT); exit(0) */
    asm_li(&q_code, A1, R_DATA);
    asm_li(&q_code, A2, R_OUT);
    asm_emit(&q_code, ADDI(A7, ZERO, 64));
    asm_emit(&q_code, ECALL());
    asm_emit(&q_code, ADDI(A0, ZERO, 0));
    asm_emit(&q_code, ADDI(A7, ZERO, 93));
    asm_emit(&q_code, ECALL());
    snprintf(path, sizeof path, "%s/random.elf", dir);
    if (write_elf(path, &q_code, data, R_OUT) != 0 || qemu_output(path, want, R_OUT) != 0) {
        fprintf(stderr, "random %llu: qemu run failed\n", (unsigned long long)seed);
        bad = 1;
        goto out;
    }
    vm_segment segs[2] = {{R_TEXT, 4 * vm_code.n, NULL}, {R_DATA, R_OUT, data}};
    uint8_t *tb = malloc(4 * vm_code.n);
    for (uint32_t i = 0; tb && i < vm_code.n; i++)
        for (int k = 0; k < 4; k++)
            tb[4 * i + k] = (uint8_t)(vm_code.w[i] >> (8 * k));
    segs[0].data = tb;
    vm_image im;
    memset(&im, 0, sizeof im);
    im.entry = R_TEXT;
    im.n_segs = 2;
    im.segs = segs;
    vm_program *p = NULL;
    utxo_vm_result r;
    if (!tb || vm_program_new(&p, &im) != UTXO_OK ||
        vm_run(v, p, NULL, 0, NULL, 1000000, &r) != UTXO_OK || r.status == UTXO_VM_FAILED ||
        vm_mem_read(v, R_DATA, got, R_OUT) != 0) {
        fprintf(stderr, "random %llu: machine run failed (%s at %#x)\n",
                (unsigned long long)seed, utxo_vm_fail_str(r.fail), r.pc);
        bad = 1;
    } else if ((vm_load(v, p, NULL, 0, NULL, 1000000), vm_interp_switch(v, 1000000),
                memcmp(&v->res, &r, sizeof r) != 0)) {
        fprintf(stderr, "random %llu: switch dispatch differs\n", (unsigned long long)seed);
        bad = 1;
    } else if (memcmp(got, want, R_OUT) != 0) {
        for (uint32_t i = 0; i < R_OUT; i += 4)
            if (memcmp(got + i, want + i, 4) != 0) {
                fprintf(stderr, "random %llu: differs at %s %u\n", (unsigned long long)seed,
                        i < 4096 ? "data offset" : "register x",
                        i < 4096 ? i : (i - 4096) / 4);
                break;
            }
        bad = 1;
    }
    vm_program_free(p);
    free(tb);
out:
    asm_free(&vm_code);
    asm_free(&q_code);
    return bad;
}

int main(void)
{
    char stamp[4096];
    FILE *f;
    int bad = 0;

    snprintf(stamp, sizeof stamp, "%s/elfs.stamp", VM_ELF_DIR);
    if (strcmp(VM_QEMU, "no") == 0 || (f = fopen(stamp, "r")) == NULL) {
        printf("SKIP: needs clang (rv32im), ld.lld and qemu-riscv32\n");
        return 77;
    }
    fclose(f);
    vm *v = vm_new();
    if (!v)
        return 1;
    for (size_t i = 0; i < sizeof progs / sizeof progs[0]; i++)
        bad |= check_prog(v, progs[i]);
    char dir[] = "/tmp/utxo-vm-qemu-XXXXXX";
    if (!mkdtemp(dir)) {
        vm_free(v);
        return 1;
    }
    int n_random = 300, rbad = 0;
    for (int i = 0; i < n_random && rbad < 5; i++)
        rbad += check_random(v, 1000 + (uint64_t)i, dir);
    printf("random streams: %d programs, %d differ from qemu\n", n_random, rbad);
    char path[4096];
    snprintf(path, sizeof path, "%s/random.elf", dir);
    if (!getenv("VM_QEMU_KEEP")) { /* set it to keep the last program for a look */
        unlink(path);
        rmdir(dir);
    }
    bad |= rbad != 0;
    vm_free(v);
    return bad;
}
