/*
 * bench_vm.c — `utxo bench vm`: the machine's speed (interpreter and
 * translating tier) on RV32IM workloads.
 *
 * Each workload of tools/bench/vm_work.c runs as a predicate (the ELF in
 * vm_work_img.h, metering on, a reused machine, decoded code warm) and the
 * same C compiled natively into this binary runs as the baseline, in the
 * same process, right after. Printed per workload:
 *
 *   bench vm workload=fib n=27 insns=... pages=... vm_ms=... native_ms=...
 *       mips=... native_ratio=... tier=jit|interp
 *
 * insns is the exact instruction count of one run (cycles minus the halt
 * host call's cost and the page charges: `pages` fresh pages the run
 * touched, UTXO_ABI_PAGE_CYCLES each), mips = insns / VM time (the machine
 * charges pages as in consensus; the time includes that metering),
 * native_ratio = VM time / native
 * time (best of several repetitions each); tier: jit when the runs entered
 * the translating tier's native code (after its warm-up), interp when they
 * ran on the interpreter alone. Times are the thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID), so other load on a shared machine does not
 * distort them. The checksums of the two builds must agree, else the bench
 * fails (exit 1).
 *
 * When qemu-riscv32 is on PATH (or named by UTXO_QEMU_RISCV32; "none" turns
 * this off), the same ELF file runs side by side as two child processes,
 * `utxo predicate run ELF` (this binary) and `qemu-riscv32 ELF WHICH N`,
 * with a larger n, and again with n = 0 for their start-up:
 *
 *   bench vm workload=fib tier=interp|jit n=32 insns=... mips=... qemu_ratio=...
 *       qemu_ratio_whole=... vm_ms=... qemu_ms=... vm_start_ms=...
 *       qemu_start_ms=...
 *
 * Times are each child's CPU time (user + system, from wait4), best of the
 * repetitions, the two programs alternating, each child on the one CPU
 * the bench was on when the workload began (on Linux): on this project's
 * 2-vCPU host one vCPU ran the translating tier's sieve at times 1.7
 * times slower than the other (3,300 against 5,700 M instructions a
 * second, pinned: 3 runs in 12 on one vCPU, none in 12 on the other), and
 * a child landing there alone made a qemu_ratio of 1.19 out of 0.68.
 * qemu_ratio = (vm_ms - vm_start_ms) / (qemu_ms - qemu_start_ms): start-up
 * subtracted; qemu_ratio_whole = vm_ms / qemu_ms:
 * whole processes. mips = insns / (vm_ms - vm_start_ms). Below 1 means
 * faster than qemu. The checksums of the machine, qemu and the native build
 * must agree (at n = 0 too), and each run must take at least
 * SIDE_MIN_NET_NS more than its start-up, else the bench fails (exit 1).
 * Without qemu it says so on stderr.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"
#include "bench/vm_work.h"
#include "bench/vm_work_img.h"
#include "predicates/image.h"
#include "predicates/vm.h"
#include "util.h"
#include "utxo/abi.h"

struct workload {
    const char *name;
    uint32_t which;
    uint32_t n;      /* in-process runs */
    uint32_t n_side; /* side-by-side runs with qemu (a few hundred M insns) */
};

static const struct workload workloads[] = {
    {"fib", VM_WORK_FIB, 30, 34},
    {"sieve", VM_WORK_SIEVE, 6, 40},
    {"memcpy", VM_WORK_MEMCPY, 400, 6000},
    {"sha256", VM_WORK_SHA256, 100, 3000},
    {"bytecode", VM_WORK_BYTECODE, 200, 2000},
};

/* The native build must not see n as a constant. */
static volatile uint32_t native_n;

/* Little-endian {which, n}: the predicate's arguments. */
static void work_args(uint8_t args[8], uint32_t which, uint32_t n)
{
    for (int i = 0; i < 4; i++) {
        args[i] = (uint8_t)(which >> (8 * i));
        args[4 + i] = (uint8_t)(n >> (8 * i));
    }
}

/* Instructions of a finished run: cycles minus the halt host call and the
 * page charges (pages the run materialised: all touched but the loader's,
 * the image pages and one page of arguments). */
static uint64_t run_insns(const vm *v, const vm_program *p, const utxo_vm_result *r,
                          uint64_t *pages_out)
{
    uint32_t touched = 0;
    (void)vm_touched_pages(v, &touched);
    uint64_t pages = touched - vm_program_pages(p) - 1u;
    if (pages_out)
        *pages_out = pages;
    return r->cycles - UTXO_COST_HOSTCALL - pages * UTXO_ABI_PAGE_CYCLES;
}

static int bench_one(vm *v, const vm_program *p, const struct workload *w, int reps)
{
    uint8_t args[8];
    utxo_vm_result r;
    uint64_t best_vm = UINT64_MAX, best_native = UINT64_MAX;
    uint32_t native_sum = 0;

    work_args(args, w->which, w->n);
    /* Warm-up run: decodes the program's pages once. */
    if (vm_run(v, p, args, sizeof args, NULL, UINT64_MAX, &r) != UTXO_OK ||
        r.status == UTXO_VM_FAILED) {
        errorf("bench vm: workload %s failed in the VM (%s at pc %#x)", w->name,
               utxo_vm_fail_str(r.fail), r.pc);
        return 1;
    }
    for (int i = 0; i < reps; i++) {
        uint64_t t0 = clock_thread_ns();
        (void)vm_run(v, p, args, sizeof args, NULL, UINT64_MAX, &r);
        uint64_t dt = clock_thread_ns() - t0;
        if (dt < best_vm)
            best_vm = dt;
    }
    for (int i = 0; i < reps; i++) {
        native_n = w->n;
        uint64_t t0 = clock_thread_ns();
        native_sum = vm_work(w->which, native_n);
        uint64_t dt = clock_thread_ns() - t0;
        if (dt < best_native)
            best_native = dt;
    }
    if (native_sum != r.exit_code) {
        errorf("bench vm: workload %s: VM checksum %#x, native %#x", w->name, r.exit_code,
               native_sum);
        return 1;
    }
    if (best_vm == 0)
        best_vm = 1;
    if (best_native == 0)
        best_native = 1;
    uint64_t pages;
    uint64_t insns = run_insns(v, p, &r, &pages);
    /* Integer arithmetic only: mips with one decimal, ratio with two. */
    uint64_t mips10 = insns * 10000u / best_vm;
    uint64_t ratio100 = best_vm * 100u / best_native;
    printf("bench vm workload=%s n=%u insns=%llu pages=%llu vm_ms=%llu.%03llu "
           "native_ms=%llu.%03llu mips=%llu.%llu native_ratio=%llu.%02llu tier=%s\n",
           w->name, w->n, (unsigned long long)insns, (unsigned long long)pages,
           (unsigned long long)(best_vm / 1000000u), (unsigned long long)(best_vm / 1000u % 1000u),
           (unsigned long long)(best_native / 1000000u),
           (unsigned long long)(best_native / 1000u % 1000u),
           (unsigned long long)(mips10 / 10u), (unsigned long long)(mips10 % 10u),
           (unsigned long long)(ratio100 / 100u), (unsigned long long)(ratio100 % 100u),
           vm_jit_entries(v) ? "jit" : "interp");
    fflush(stdout);
    return 0;
}

/* ---- side by side with qemu-riscv32 ------------------------------------ */

/* The CPU the side-by-side children run on (-1: any). */
static int side_cpu = -1;

/* Runs argv as a child with stdout into out (NUL-terminated, truncated to
 * cap - 1), on side_cpu; *cpu_ns gets its user + system time. 0, or -1 if
 * it could not run or exited above max_status (predicate run exits 1 for
 * a rejected run, the workload ELF under qemu 0). */
static int run_child(char *const argv[], int max_status, char *out, size_t cap,
                     uint64_t *cpu_ns)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        int nul = open("/dev/null", O_RDWR);
        dup2(fds[1], 1);
        if (nul >= 0) {
            dup2(nul, 0);
            dup2(nul, 2);
        }
        close(fds[0]);
        close(fds[1]);
#ifdef __linux__
        if (side_cpu >= 0) { /* best effort: a refusal leaves it where it is */
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(side_cpu, &set);
            (void)sched_setaffinity(0, sizeof set, &set);
        }
#endif
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    size_t n = 0;
    for (;;) {
        char buf[256];
        ssize_t k = read(fds[0], buf, sizeof buf);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        for (ssize_t i = 0; i < k && n + 1 < cap; i++)
            out[n++] = buf[i];
    }
    out[n] = '\0';
    close(fds[0]);
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR)
            return -1;
    *cpu_ns = ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
              ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
    if (!WIFEXITED(status) || WEXITSTATUS(status) > max_status)
        return -1;
    return 0;
}

/* Best CPU time of reps runs of the machine (this binary) and of qemu on
 * workload which with size n; the checksums each printed go to *vm_sum and
 * *q_sum. 0 or -1. */
static int side_times(const char *self, const char *qemu, const char *elf, uint32_t which,
                      uint32_t n, int reps, int jit, uint64_t *vm_ns, uint64_t *q_ns, uint32_t *vm_sum,
                      uint32_t *q_sum)
{
    uint8_t args[8];
    char hex[17], ws[16], ns[16], out[256];
    work_args(args, which, n);
    for (int i = 0; i < 8; i++)
        snprintf(hex + 2 * i, 3, "%02x", args[i]);
    snprintf(ws, sizeof ws, "%u", which);
    snprintf(ns, sizeof ns, "%u", n);
    char *vm_argv[] = {(char *)self, "predicate", "run", (char *)elf, "--arg-hex", hex,
                       "--budget", "1000000000000", jit ? NULL : "--no-jit", NULL};
    char *q_argv[] = {(char *)qemu, (char *)elf, ws, ns, NULL};
    *vm_ns = *q_ns = UINT64_MAX;
    for (int i = 0; i < reps; i++) {
        uint64_t t;
        const char *e;
        if (run_child(vm_argv, 1, out, sizeof out, &t) != 0 || !(e = strstr(out, "exit=")))
            return -1;
        *vm_sum = (uint32_t)strtoul(e + 5, NULL, 10);
        if (t < *vm_ns)
            *vm_ns = t;
        if (run_child(q_argv, 0, out, sizeof out, &t) != 0)
            return -1;
        *q_sum = (uint32_t)strtoul(out, NULL, 16);
        if (t < *q_ns)
            *q_ns = t;
    }
    return 0;
}

/* The qemu-riscv32 to compare with, or NULL. */
static const char *find_qemu(void)
{
    const char *q = getenv("UTXO_QEMU_RISCV32");
    if (q)
        return *q && strcmp(q, "none") != 0 ? q : NULL;
    const char *path = getenv("PATH");
    if (!path)
        return NULL;
    static char buf[4096];
    for (const char *s = path; *s;) {
        size_t len = strcspn(s, ":");
        if (len > 0 && len + sizeof "/qemu-riscv32" < sizeof buf) {
            memcpy(buf, s, len);
            memcpy(buf + len, "/qemu-riscv32", sizeof "/qemu-riscv32");
            if (access(buf, X_OK) == 0)
                return buf;
        }
        s += len;
        if (*s == ':')
            s++;
    }
    return NULL;
}

static void print_ms(const char *key, uint64_t ns)
{
    printf(" %s=%llu.%03llu", key, (unsigned long long)(ns / 1000000u),
           (unsigned long long)(ns / 1000u % 1000u));
}

/* The least time a side-by-side run must take beyond its start-up. */
#define SIDE_MIN_NET_NS 1000000u

/* One side-by-side line; 0, or 1 on a failure, a checksum mismatch or a
 * run too short to time. */
static int bench_side(vm *v, const vm_program *p, const struct workload *w, const char *self,
                      const char *qemu, const char *elf, int reps, int jit)
{
    uint8_t args[8];
    utxo_vm_result r;
    uint64_t vm_ns, q_ns, vm0, q0;
    uint32_t vm_sum, q_sum, s0, s1;

    /* Exact instruction count, and the checksum, in process. */
    work_args(args, w->which, w->n_side);
    if (vm_run(v, p, args, sizeof args, NULL, UINT64_MAX, &r) != UTXO_OK ||
        r.status == UTXO_VM_FAILED) {
        errorf("bench vm: workload %s failed in the VM", w->name);
        return 1;
    }
    uint64_t insns = run_insns(v, p, &r, NULL);
    /* `predicate run` (same binary, same environment) gives no sign of the
     * tier it ran on; this process's machine does. */
    if (jit && vm_jit_entries(v) == 0) {
        errorf("bench vm: workload %s: the translating tier ran no native code here "
               "(executable mappings refused?): no tier=jit line",
               w->name);
        return 1;
    }
    native_n = w->n_side;
    uint32_t native_sum = vm_work(w->which, native_n);
#ifdef __linux__
    side_cpu = sched_getcpu();
#endif
    if (side_times(self, qemu, elf, w->which, w->n_side, reps, jit, &vm_ns, &q_ns, &vm_sum,
                   &q_sum) != 0 ||
        side_times(self, qemu, elf, w->which, 0, reps, jit, &vm0, &q0, &s0, &s1) != 0) {
        errorf("bench vm: workload %s: running '%s predicate run' or '%s' failed", w->name,
               self, qemu);
        return 1;
    }
    if (vm_sum != r.exit_code || q_sum != r.exit_code || native_sum != r.exit_code) {
        errorf("bench vm: workload %s: checksums differ: machine %#x, predicate run %#x, "
               "qemu %#x, native %#x",
               w->name, r.exit_code, vm_sum, q_sum, native_sum);
        return 1;
    }
    /* The start-up runs (n = 0) are subtracted: they must have run the
     * same program to its end too. */
    native_n = 0;
    uint32_t native0 = vm_work(w->which, native_n);
    if (s0 != native0 || s1 != native0) {
        errorf("bench vm: workload %s: start-up (n=0) checksums differ: predicate run %#x, "
               "qemu %#x, native %#x",
               w->name, s0, s1, native0);
        return 1;
    }
    /* A run not clearly longer than its start-up cannot be timed: its net
     * time would be noise, or clamped, and the ratio any number. */
    if (vm_ns < vm0 + SIDE_MIN_NET_NS || q_ns < q0 + SIDE_MIN_NET_NS) {
        errorf("bench vm: workload %s tier=%s: a run is not %u ms longer than its start-up "
               "(vm %.3f ms, start-up %.3f; qemu %.3f ms, start-up %.3f): cannot time it",
               w->name, jit ? "jit" : "interp", SIDE_MIN_NET_NS / 1000000u, vm_ns / 1e6,
               vm0 / 1e6, q_ns / 1e6, q0 / 1e6);
        return 1;
    }
    uint64_t vm_net = vm_ns - vm0, q_net = q_ns - q0;
    uint64_t mips10 = insns * 10000u / vm_net;
    uint64_t ratio = vm_net * 100u / q_net, whole = vm_ns * 100u / q_ns;
    printf("bench vm workload=%s tier=%s n=%u insns=%llu mips=%llu.%llu "
           "qemu_ratio=%llu.%02llu qemu_ratio_whole=%llu.%02llu",
           w->name, jit ? "jit" : "interp", w->n_side, (unsigned long long)insns, (unsigned long long)(mips10 / 10u),
           (unsigned long long)(mips10 % 10u), (unsigned long long)(ratio / 100u),
           (unsigned long long)(ratio % 100u), (unsigned long long)(whole / 100u),
           (unsigned long long)(whole % 100u));
    print_ms("vm_ms", vm_ns);
    print_ms("qemu_ms", q_ns);
    print_ms("vm_start_ms", vm0);
    print_ms("qemu_start_ms", q0);
    printf("\n");
    fflush(stdout);
    return 0;
}

/* Writes the workload ELF to a temporary file; its path in buf. */
static int write_elf(char *buf, size_t cap)
{
    const char *dir = getenv("TMPDIR");
    snprintf(buf, cap, "%s/utxo-bench-vm-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(buf);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < sizeof vm_work_elf) {
        ssize_t k = write(fd, vm_work_elf + off, sizeof vm_work_elf - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            close(fd);
            unlink(buf);
            return -1;
        }
        off += (size_t)k;
    }
    if (fchmod(fd, 0700) != 0 || close(fd) != 0) {
        unlink(buf);
        return -1;
    }
    return 0;
}

static void vm_bench_usage(FILE *f)
{
    fprintf(f, "Usage: utxo bench vm [--reps N] [--workload NAME] [--no-qemu] [--no-jit]\n"
               "\n"
               "The RV32IM machine on each workload (fib, sieve, memcpy, sha256, bytecode,\n"
               "p2pk; default all): instructions per second, metered, vs the same program\n"
               "compiled natively and run under qemu-riscv32 (when installed; --no-qemu\n"
               "skips it); the best of N repetitions (default 3). The in-process lines\n"
               "run on the default tier and name it (tier=jit on x86-64, else interp).\n"
               "Side by side with qemu, one line per tier: tier=interp (the interpreter)\n"
               "and, on x86-64, tier=jit (the translating tier; --no-jit leaves it out\n"
               "and runs the in-process lines on the interpreter); the two alternate,\n"
               "each run on one CPU (on Linux, the one the bench was on).\n"
               "\nexample:\n  utxo bench vm --reps 3\n");
}

int bench_vm(int argc, char **argv)
{
    int reps = 3, rc = 0, side = 1, jit = vm_jit_default();
    const char *only = NULL;

    uint64_t r = 3;
    static const struct option opts[] = {
        {"reps", required_argument, NULL, 'r'}, {"workload", required_argument, NULL, 'w'},
        {"no-qemu", no_argument, NULL, 'n'}, {"no-jit", no_argument, NULL, 'j'},
        CLI_HELP_OPTION, {NULL, 0, NULL, 0},
    };
    cli cl = CLI_INIT("bench vm", vm_bench_usage, "", opts);

    while ((rc = cli_next(&cl, argc, argv)) != -1) {
        switch (rc) {
        case CLI_STOP:
            return cl.status;
        case 'r':
            if (!cli_u64(&cl, 1, 1000, &r))
                return EXIT_USAGE;
            reps = (int)r;
            break;
        case 'w': only = optarg; break;
        case 'n': side = 0; break;
        case 'j':
            jit = 0;
            setenv("UTXO_VM_JIT", "0", 1); /* the in-process machines too */
            break;
        }
    }
    if ((rc = cli_operands(&cl, argc, argv, 0, 0, "")) != 0)
        return rc;

    uint8_t *enc = NULL;
    size_t enc_len = 0, off = 0;
    vm_image img;
    vm_program *p = NULL;
    memset(&img, 0, sizeof img);
    vm *v = vm_new();
    if (!v || img_from_elf(&enc, &enc_len, vm_work_elf, sizeof vm_work_elf, &off) != UTXO_OK ||
        img_decode(&img, enc, enc_len, &off) != UTXO_OK || vm_program_new(&p, &img) != UTXO_OK) {
        errorf("bench vm: cannot load the workload ELF (offset %zu)", off);
        img_free(&img);
        free(enc);
        vm_free(v);
        return EXIT_USAGE;
    }
    int found = 0;
    for (size_t i = 0; i < sizeof workloads / sizeof workloads[0]; i++) {
        if (only && strcmp(only, workloads[i].name) != 0)
            continue;
        found = 1;
        if (bench_one(v, p, &workloads[i], reps) != 0)
            rc = EXIT_INVALID;
    }
    /* Side by side with qemu-riscv32 on the same ELF file. */
    const char *qemu = side ? find_qemu() : NULL;
    char self[4096], elf[4096];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (qemu && sl > 0 && write_elf(elf, sizeof elf) == 0) {
        self[sl] = '\0';
        for (size_t i = 0; i < sizeof workloads / sizeof workloads[0]; i++) {
            if (only && strcmp(only, workloads[i].name) != 0)
                continue;
            if (bench_side(v, p, &workloads[i], self, qemu, elf, reps, 0) != 0)
                rc = EXIT_INVALID;
            if (jit && bench_side(v, p, &workloads[i], self, qemu, elf, reps, 1) != 0)
                rc = EXIT_INVALID;
        }
        unlink(elf);
    } else if (qemu) {
        errorf("bench vm: cannot write the workload ELF for qemu-riscv32");
        rc = EXIT_INVALID;
    } else if (!only || strcmp(only, "p2pk") != 0) {
        /* Said, so that a missing qemu_ratio is not read as an oversight. */
        errorf("bench vm: %s: no side-by-side lines, no qemu_ratio",
               side ? "no qemu-riscv32 on PATH (or UTXO_QEMU_RISCV32=none)" : "--no-qemu");
    }
    /* pay-to-pubkey through the predicate API vs a bare verify (bench_p2pk.c) */
    if (!only || strcmp(only, "p2pk") == 0) {
        found = 1;
        if (bench_vm_p2pk(reps) != 0)
            rc = EXIT_INVALID;
    }
    if (!found) {
        errorf("bench vm: unknown workload '%s' (fib, sieve, memcpy, sha256, bytecode, p2pk)",
               only);
        rc = EXIT_USAGE;
    }
    vm_program_free(p);
    img_free(&img);
    free(enc);
    vm_free(v);
    return rc;
}
