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
 * Exit 77 (skipped) when the RISC-V toolchain or qemu-riscv32 is missing.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "predicates/image.h"
#include "predicates/vm_internal.h"

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
    snprintf(cmd, sizeof cmd, "'%s' '%s'", VM_QEMU, elf);
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
    vm_free(v);
    return bad;
}
