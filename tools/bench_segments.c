/*
 * bench_segments.c — `utxo bench segments`: the cost of continuations,
 * measured against plain execution of the same run in the same process.
 *
 *   bench segments prove_ratio=... verify_ratio=... speedup=... ...
 *
 * Workload: tests/segments/work.c, compiled in as src/chain/work_img.h
 * (generated with tests/segments/work.img by gen_work.sh; test_segments
 * checks the two agree). Fields:
 *   plain_ms         utxo_predicate_run of the run (best of 3, CPU time of
 *                    the calling thread, as are prove_ms and verify_ratio)
 *   prove_ms         utxo_segments_prove of the same run (best of 3)
 *   prove_ratio      prove_ms / plain_ms                 (target <= 1.5)
 *   tier             the plain run's tier: jit (it entered the translating
 *                    tier's native code) or interp; segments run on the
 *                    interpreter, so under jit the two ratios compare the
 *                    interpreter with the tier (UTXO_VM_JIT=0: both interp)
 *   verify_ratio     sum over segments of verifying one alone, one thread,
 *                    / plain_ms (same cycles)            (target <= 1.3)
 *   speedup          chain verify on 1 thread / on N threads (target >= 1.8
 *                    with 8+ segments on 2 cores); verifyN_cpu_per_wall is
 *                    the process CPU time over wall time of the N-thread
 *                    verify: near N when the threads really ran in
 *                    parallel (a loaded machine shows it below N)
 *   witness_bytes_per_segment, witness_bytes_per_mcycle
 *   peak_kib         peak resident memory of a child process verifying one
 *                    segment of a run that touches 256 MiB (VmHWM of a
 *                    fresh exec; target < 32768), and heavy_peak_kib for the
 *                    segment of that run with the largest witness.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
#include "utxo.h"
#include "utxo/segments.h"
#include "bench.h"
#include "util.h"
#include "chain/work_img.h"
#include "predicates/pred_run.h"

static void le_words(uint8_t out[24], const uint32_t w[6])
{
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 4; j++)
            out[4 * i + j] = (uint8_t)(w[i] >> (8 * j));
}

typedef struct keep {
    utxo_receipt **r;
    size_t n, cap;
    uint64_t bytes;
    int keep;
    /* for the 256 MiB run: the chosen receipts written to files */
    const char *light_path, *heavy_path;
    size_t heavy_bytes;
    utxo_receipt *heavy, *last;
} keep;

static int sink(void *ud, utxo_receipt *r)
{
    keep *k = ud;
    size_t len;
    (void)utxo_receipt_bytes(r, &len);
    k->bytes += len;
    if (k->light_path) { /* keep the largest and the last one only */
        if (len > k->heavy_bytes) {
            utxo_receipt_free(k->heavy);
            k->heavy = r;
            k->heavy_bytes = len;
        } else {
            utxo_receipt_free(k->last);
            k->last = r;
        }
        k->n++;
        return 0;
    }
    if (!k->keep) {
        k->n++;
        utxo_receipt_free(r);
        return 0;
    }
    if (k->n == k->cap) {
        k->cap = k->cap ? 2 * k->cap : 64;
        utxo_receipt **g = realloc(k->r, k->cap * sizeof *g);
        if (!g)
            return 1;
        k->r = g;
    }
    k->r[k->n++] = r;
    return 0;
}

static void keep_free(keep *k)
{
    for (size_t i = 0; i < k->n && k->keep; i++)
        utxo_receipt_free(k->r[i]);
    free(k->r);
    utxo_receipt_free(k->heavy);
    utxo_receipt_free(k->last);
    memset(k, 0, sizeof *k);
}

/* Peak resident KiB of `utxo segments verify-one FILE` in a fresh process:
 * its VmHWM, read by the child itself (bench segments --peak-of FILE). */
static long child_peak(const char *file)
{
    int fds[2];
    char buf[64] = {0};
    pid_t pid;
    int st;

    if (pipe(fds) != 0)
        return -1;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        execl("/proc/self/exe", "utxo", "bench", "segments", "--peak-of", file, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    waitpid(pid, &st, 0);
    if (n <= 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return -1;
    return strtol(buf, NULL, 10);
}

/* The child side: verify one receipt file, print VmHWM in KiB. */
static int peak_of(const char *file)
{
    uint8_t *raw = NULL;
    size_t len = 0;
    utxo_receipt *r = NULL;
    utxo_receipt_check chk;
    long hwm;

    if (read_file(file, (size_t)1 << 31, &raw, &len) != 0)
        return 2;
    if (utxo_receipt_from_bytes(&r, raw, len, NULL) != UTXO_OK)
        return 1;
    free(raw); /* the decoded receipt holds its own copy */
    if (utxo_receipt_verify(&chk, r, NULL) != UTXO_OK)
        return 1;
    utxo_receipt_free(r);
    hwm = (long)proc_peak_rss_kib(0);
    printf("%ld\n", hwm);
    return hwm <= 0 ? 2 : 0;
}

static int write_receipt_file(const char *path, const utxo_receipt *r)
{
    size_t len;
    const uint8_t *b = utxo_receipt_bytes(r, &len);
    return write_file(path, b, len);
}

static void segments_bench_usage(FILE *f)
{
    fprintf(f, "Usage: %s bench segments [--img tests/segments/work.img] [--rounds N]\n"
               "         [--po2 K] [--threads N] [--big-mib M]\n"
               "\n"
               "Proves and verifies a predicate run as segments; prints `bench segments ...`\n"
               "lines with the ratio to the plain run, the parallel speed-up, the witness\n"
               "bytes and the peak memory (a --big-mib run in a child process).\n"
               "\nexample:\n  %s bench segments --rounds 2000 --threads 2\n",
            prog_name, prog_name);
}

int bench_segments(int argc, char **argv)
{
    const char *img_path = NULL;
    uint64_t rounds = 8000, threads = 2, po2 = 20, big_mib = 256;
    uint8_t *img = NULL, args[24];
    size_t img_len = 0;
    uint64_t plain_ns = UINT64_MAX, prove_ns = UINT64_MAX, ver1_ns = UINT64_MAX,
             verN_ns = UINT64_MAX, alone_ns = UINT64_MAX, budget = UINT64_C(4000000000), cpuN_ns = 0;
    utxo_vm_result plain, proved, checked;
    keep k = {0};
    const char *step = NULL, *tier = "interp";
    int rc = EXIT_USAGE, e = UTXO_OK;

    num_opt nums[] = {
        {"--rounds", &rounds, 0, UINT32_MAX, false}, {"--threads", &threads, 1, 256, false},
        {"--po2", &po2, UTXO_SEG_PO2_MIN, UTXO_SEG_PO2_MAX, false},
        {"--big-mib", &big_mib, 0, 4000, false},
    };
    static const struct option opts[] = {
        {"rounds", required_argument, NULL, CLI_NUM}, {"threads", required_argument, NULL, CLI_NUM},
        {"po2", required_argument, NULL, CLI_NUM}, {"big-mib", required_argument, NULL, CLI_NUM},
        {"img", required_argument, NULL, 'i'}, {"peak-of", required_argument, NULL, 'p'},
        CLI_HELP_OPTION, {NULL, 0, NULL, 0},
    };
    cli cl = CLI_INIT("bench segments", segments_bench_usage, "", opts);

    while ((rc = cli_next(&cl, argc, argv)) != -1) {
        if (rc == CLI_STOP)
            return cl.status;
        if (rc == CLI_NUM && !cli_num(&cl, nums, sizeof nums / sizeof nums[0]))
            return EXIT_USAGE;
        if (rc == 'p')
            return peak_of(optarg);
        if (rc == 'i')
            img_path = optarg;
    }
    if ((rc = cli_operands(&cl, argc, argv, 0, 0, "")) != 0)
        return rc;
    rc = EXIT_USAGE;
    if (img_path) {
        if (read_file(img_path, UTXO_IMAGE_MAX_BYTES, &img, &img_len) != 0)
            return EXIT_USAGE;
    } else {
        if ((img = malloc(sizeof chain_work_img)) == NULL)
            return EXIT_USAGE;
        memcpy(img, chain_work_img, sizeof chain_work_img);
        img_len = sizeof chain_work_img;
    }

    /* 1. compute-heavy run: hash chain + 256 KiB sieve + 1 MiB touched */
    uint32_t w[6] = {(uint32_t)rounds, 256u << 10, 0, 1024, 0xffffffffu, 2};
    le_words(args, w);
    for (int rep = 0; rep < 3; rep++) {
        uint64_t t0 = clock_thread_ns();
        step = "the plain run";
        if ((e = utxo_predicate_run(&plain, img, img_len, args, sizeof args, NULL, budget)) !=
            UTXO_OK)
            goto fail;
        uint64_t t1 = clock_thread_ns();
        /* the tier the plain run ran on (this thread's machine ran it);
         * segments run on the interpreter: a pager installs their code
         * pages, which are not the program's shared decoded ones */
        tier = vm_jit_entries(pred_thread_vm()) ? "jit" : "interp";
        if (t1 - t0 < plain_ns)
            plain_ns = t1 - t0;
        keep_free(&k);
        k.keep = rep == 2;
        t0 = clock_thread_ns();
        step = "proving";
        if ((e = utxo_segments_prove(&proved, img, img_len, args, sizeof args, NULL, budget,
                                     (unsigned)po2, 0, sink, &k)) != UTXO_OK)
            goto fail;
        t1 = clock_thread_ns();
        if (t1 - t0 < prove_ns)
            prove_ns = t1 - t0;
    }
    if (plain.status != UTXO_VM_ACCEPTED || proved.cycles != plain.cycles) {
        errorf("bench segments: the plain run did not accept, or the proved run differs from it");
        rc = EXIT_INVALID;
        goto out;
    }
    step = "verifying a receipt alone";
    for (int rep = 0; rep < 3; rep++) { /* each alone, on this thread; best of 3 */
        uint64_t sum = 0;
        for (size_t i = 0; i < k.n; i++) {
            utxo_receipt_check chk;
            uint64_t t0 = clock_thread_ns();
            if ((e = utxo_receipt_verify(&chk, k.r[i], NULL)) != UTXO_OK)
                goto fail;
            sum += clock_thread_ns() - t0;
        }
        if (sum < alone_ns)
            alone_ns = sum;
    }
    step = "verifying the chain";
    for (int rep = 0; rep < 3; rep++) {
        uint64_t t0 = clock_now_ns();
        if ((e = utxo_segments_verify(&checked, img, img_len, args, sizeof args, NULL, budget, 0,
                                      (const utxo_receipt *const *)k.r, k.n, 1)) != UTXO_OK)
            goto fail;
        if (checked.status != plain.status || checked.exit_code != plain.exit_code ||
            checked.cycles != plain.cycles) {
            errorf("bench segments: the receipts prove another outcome than the plain run's");
            rc = EXIT_INVALID;
            goto out;
        }
        uint64_t t1 = clock_now_ns(), c1 = clock_process_ns();
        if ((e = utxo_segments_verify(&checked, img, img_len, args, sizeof args, NULL, budget, 0,
                                      (const utxo_receipt *const *)k.r, k.n, (unsigned)threads)) !=
            UTXO_OK)
            goto fail;
        uint64_t t2 = clock_now_ns(), c2 = clock_process_ns();
        if (t1 - t0 < ver1_ns)
            ver1_ns = t1 - t0;
        if (t2 - t1 < verN_ns) {
            verN_ns = t2 - t1;
            cpuN_ns = c2 - c1;
        }
    }
    printf("bench segments cycles=%" PRIu64 " po2=%" PRIu64 " segments=%zu plain_ms=%.1f "
           "prove_ms=%.1f prove_ratio=%.3f verify_ratio=%.3f tier=%s\n",
           plain.cycles, po2, k.n, plain_ns / 1e6, prove_ns / 1e6, (double)prove_ns / plain_ns,
           (double)alone_ns / plain_ns, tier);
    printf("bench segments threads=%" PRIu64 " verify1_ms=%.1f verifyN_ms=%.1f speedup=%.2f "
           "verifyN_cpu_per_wall=%.2f witness_bytes_per_segment=%.0f "
           "witness_bytes_per_mcycle=%.0f\n",
           threads, ver1_ns / 1e6, verN_ns / 1e6, (double)ver1_ns / verN_ns,
           (double)cpuN_ns / verN_ns,
           (double)k.bytes / (double)k.n, (double)k.bytes * 1e6 / (double)plain.cycles);
    fflush(stdout);
    keep_free(&k);

    /* 2. a run that touches big_mib MiB, then computes: peak memory of
     * verifying one of its segments in a fresh process */
    if (big_mib > 0) {
        char light[] = "/tmp/utxo-bench-seg-XXXXXX";
        char heavy[64];
        int fd = mkstemp(light);
        uint32_t pages = (uint32_t)(big_mib << 10);
        uint32_t wb[6] = {200, 0, 0, pages, 0xffffffffu, 1};
        if (fd < 0) {
            errorf("bench segments: mkstemp: %s", strerror(errno));
            goto out;
        }
        close(fd);
        snprintf(heavy, sizeof heavy, "%s.heavy", light);
        le_words(args, wb);
        k.light_path = light;
        k.heavy_path = heavy;
        uint64_t t0 = clock_now_ns();
        if (utxo_segments_prove(&proved, img, img_len, args, sizeof args, NULL, budget, 16,
                                pages + 1024, sink, &k) != UTXO_OK ||
            proved.status != UTXO_VM_ACCEPTED || !k.last || !k.heavy) {
            errorf("bench segments: the %" PRIu64 " MiB run did not prove", big_mib);
            unlink(light);
            rc = EXIT_INVALID;
            goto out;
        }
        uint64_t t1 = clock_now_ns();
        utxo_receipt_info li, hi;
        utxo_receipt_get_info(k.last, &li);
        utxo_receipt_get_info(k.heavy, &hi);
        int wr = write_receipt_file(light, k.last) | write_receipt_file(heavy, k.heavy);
        keep_free(&k);
        long lp = wr ? -1 : child_peak(light), hp = wr ? -1 : child_peak(heavy);
        unlink(light);
        unlink(heavy);
        printf("bench segments touched_mib=%" PRIu64 " cycles=%" PRIu64 " po2=16 prove_ms=%.0f "
               "peak_kib=%ld witness_pages=%u heavy_peak_kib=%ld heavy_witness_pages=%u\n",
               big_mib, proved.cycles, (t1 - t0) / 1e6, lp, li.witness_pages, hp,
               hi.witness_pages);
        if (lp < 0 || hp < 0) {
            errorf("bench segments: a receipt of the %" PRIu64 " MiB run did not verify in a "
                   "child process, or its peak memory was not read",
                   big_mib);
            rc = EXIT_INVALID;
            goto out;
        }
    }
    rc = EXIT_VALID;
    goto out;
fail:
    errorf("bench segments: %s: %s", step, utxo_strerror(e));
    rc = e == UTXO_ERR_NOMEM || e == UTXO_ERR_ARG ? EXIT_USAGE : EXIT_INVALID;
out:
    keep_free(&k);
    free(img);
    return rc;
}
