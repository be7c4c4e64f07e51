/*
 * cmd_history.c — `utxo history plan|run|linkup`: a stored chain cut into
 * block ranges, the ranges verified as separate processes, and their
 * results linked up (utxo/history.h, docs/RANGES.md). The library does the
 * work; `run` only starts `utxo verify --from-state ... --range A:B` for
 * each range, at most N at a time, and links up.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "utxo.h"
#include "utxo/history.h"
#include "commands.h"
#include "store_util.h"
#include "util.h"

extern char **environ;

static int do_plan(int argc, char **argv);
static int do_run(int argc, char **argv);
static int do_linkup(int argc, char **argv);

static const cli_sub history_subs[] = {
    {"plan", do_plan, "cut a stored chain into K ranges of about equal work (files + manifest)"},
    {"run", do_run, "verify every range of a plan here, N processes at a time, then link up"},
    {"linkup", do_linkup, "check that the range results chain from genesis to the tip"},
};

static void history_usage(FILE *f)
{
    fprintf(f,
            "Usage: utxo history plan --store STORE --ranges K -o DIR\n"
            "       utxo history run DIR [--jobs N]\n"
            "       utxo history linkup DIR\n"
            "\n");
    cli_list(f, "subcommands:", history_subs, sizeof history_subs / sizeof history_subs[0]);
    fprintf(f,
            "\n"
            "A long history verified in block ranges (docs/RANGES.md). `plan` cuts the\n"
            "chain of STORE into K ranges of about equal work (inputs and cycle\n"
            "budgets, not block counts) and writes, per range, its block file, proof\n"
            "file and claimed start state, and the manifest. Each range is then checked\n"
            "anywhere that sees DIR by\n"
            "  utxo verify --from-state DIR/range-NNN.state --range A:B \\\n"
            "      DIR/range-NNN.blocks DIR/range-NNN.proofs -o DIR/range-NNN.result\n"
            "(contrib/ has the same for Slurm and GNU parallel; `run` does it here).\n"
            "`linkup` accepts only results that chain from the genesis state to the\n"
            "manifest's tip: the sequential verdict. Nothing in a plan is trusted;\n"
            "the results are (their checksum catches damage, not forgery): verify\n"
            "ranges where you trust the machine, or one again anywhere and compare.\n"
            "  -j, --jobs N  ranges verified at once by `run` (default: one per CPU)\n"
            "Exit status: 0 linked up (all valid), 1 a range invalid or not linking\n"
            "(named, with why), 2 usage or I/O (a manifest or a range's result that\n"
            "is missing or cannot be read: no verdict, that range named; for\n"
            "`run`, no link-up when a range cannot be started, e.g. an input not a\n"
            "regular file, or its process ends without a verdict: exit 2 or killed; or\n"
            "another `run` of DIR is running: DIR/.lock).\n"
            "\n"
            "example:\n"
            "  utxo history plan --store node.db --ranges 8 -o plan\n"
            "  utxo history run plan --jobs 2\n"
            "  utxo history linkup plan\n");
}

static int do_plan(int argc, char **argv)
{
    static const struct option opts[] = {
        {"store", required_argument, NULL, 's'},
        {"ranges", required_argument, NULL, 'k'},
        {"output", required_argument, NULL, 'o'},
        CLI_HELP_OPTION,
        {NULL, 0, NULL, 0},
    };
    cli cl = CLI_INIT("history plan", history_usage, "o:", opts);
    const char *db = NULL, *dir = NULL;
    uint64_t k = 0;
    utxo_store *s = NULL;
    utxo_history_plan pl;
    char why[400];
    int c, rc, ex;

    while ((c = cli_next(&cl, argc, argv)) != -1) {
        switch (c) {
        case CLI_STOP: return cl.status;
        case 's': db = optarg; break;
        case 'o': dir = optarg; break;
        case 'k':
            if (!cli_u64(&cl, 1, 1000000, &k))
                return EXIT_USAGE;
            break;
        }
    }
    if ((ex = cli_operands(&cl, argc, argv, 0, 0, "")) != 0)
        return ex;
    if (db == NULL || dir == NULL || k == 0)
        return usage_error(cl.cmd, "--store, --ranges and -o are required");
    if ((ex = store_cli_open(&s, db, NULL, UTXO_STORE_READONLY, 1)) != EXIT_VALID)
        return ex;
    rc = utxo_history_plan_make(s, (uint32_t)k, dir, &pl, why, sizeof why);
    utxo_store_close(s);
    if (rc != UTXO_OK) {
        errorf("history plan: %s", why);
        return rc == UTXO_ERR_ARG ? EXIT_USAGE : store_cli_exit(rc);
    }
    printf("plan %s: %u ranges over heights 0..%u\n", dir, pl.k, pl.tip);
    for (uint32_t i = 0; i < pl.k; i++)
        printf("  range %u: heights %u..%u, work %llu\n", i, pl.ranges[i].from,
               pl.ranges[i].to - 1, (unsigned long long)pl.ranges[i].work);
    utxo_history_plan_free(&pl);
    return EXIT_VALID;
}

static int linkup_report(const char *dir)
{
    utxo_history_linkup_result lr;
    char why[600], hex[2 * UTXO_HASH_BYTES + 1];
    int rc = utxo_history_linkup(dir, &lr, why, sizeof why);

    if (rc != UTXO_OK) {
        errorf("history linkup: %s", why);
        return lr.manifest_bad || lr.no_result ? EXIT_USAGE : EXIT_INVALID;
    }
    hex_encode(hex, lr.tip_hash, UTXO_HASH_BYTES);
    printf("linkup ok ranges=%u blocks=%llu txs=%llu inputs=%llu cycles=%llu tip=%u hash=%s\n",
           lr.ranges, (unsigned long long)lr.blocks, (unsigned long long)lr.txs,
           (unsigned long long)lr.inputs, (unsigned long long)lr.cycles, lr.tip, hex);
    hex_encode(hex, lr.end_digest, UTXO_HASH_BYTES);
    printf("  end state %s\n", hex);
    return EXIT_VALID;
}

static int do_linkup(int argc, char **argv)
{
    static const struct option opts[] = {CLI_HELP_OPTION, {NULL, 0, NULL, 0}};
    cli cl = CLI_INIT("history linkup", history_usage, "", opts);
    int c;

    while ((c = cli_next(&cl, argc, argv)) != -1)
        if (c == CLI_STOP)
            return cl.status;
    if ((c = cli_operands(&cl, argc, argv, 1, 1, "DIR")) != 0)
        return c;
    return linkup_report(argv[optind]);
}

/* Whether range i's input files (state, blocks, proofs) are regular files
 * (symbolic links followed); if not, says which and false. `utxo verify`
 * reads these as streams, so a FIFO there would keep its process, and
 * `run` waiting for it, waiting for a writer for ever. */
static bool range_inputs_regular(const char *dir, uint32_t i)
{
    static const char *const ext[3] = {"state", "blocks", "proofs"};
    char path[PATH_MAX], name[32];
    struct stat sb;

    for (int x = 0; x < 3; x++) {
        utxo_range_file_name(name, sizeof name, i, ext[x]);
        snprintf(path, sizeof path, "%s/%s", dir, name);
        if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
            errorf("history run: range %u: %s: not a regular file", i, path);
            return false;
        }
    }
    return true; /* a missing file is the range's own verdict (no result) */
}

/* Starts `utxo verify` on range i (its standard output to /dev/null: the
 * verdict is read from its result file); its pid, or -1. */
static pid_t start_range(const char *self, const char *dir, const utxo_history_range *r,
                         uint32_t i)
{
    posix_spawn_file_actions_t fa;
    static const char *const ext[4] = {"state", "blocks", "proofs", "result"};
    char paths[4][PATH_MAX], range[32], name[32];
    pid_t pid;

    for (int x = 0; x < 4; x++) {
        utxo_range_file_name(name, sizeof name, i, ext[x]);
        snprintf(paths[x], sizeof paths[x], "%s/%s", dir, name);
    }
    snprintf(range, sizeof range, "%u:%u", r->from, r->to);
    /* "--": a DIR with a leading dash makes operands that look like options */
    char *args[] = {(char *)"utxo", (char *)"verify", (char *)"--threads", (char *)"1",
                    (char *)"--from-state", paths[0], (char *)"--range", range, (char *)"-o",
                    paths[3], (char *)"--", paths[1], paths[2], NULL};
    if (posix_spawn_file_actions_init(&fa) != 0)
        return -1;
    if (posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0) != 0 ||
        posix_spawn(&pid, self, &fa, NULL, args, environ) != 0)
        pid = -1;
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

/* Whether range i's process ended with a verdict (exit 0 valid, 1 invalid:
 * its result written); if not (exit 2: usage or I/O, no result written; or
 * killed by a signal), says so and false. The result file such a range
 * left may be an earlier run's: `run` must not link it up as this one's. */
static bool range_ended(const utxo_history_range *r, uint32_t i, int st)
{
    if (WIFEXITED(st) && WEXITSTATUS(st) <= 1)
        return true;
    if (WIFSIGNALED(st))
        errorf("history run: range %u (heights %u..%u): utxo verify was killed by signal %d", i,
               r->from, r->to - 1, WTERMSIG(st));
    else
        errorf("history run: range %u (heights %u..%u): utxo verify failed (exit %d: usage or "
               "I/O, said above)", i, r->from, r->to - 1, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return false;
}

int history_run_ranges(const char *dir, unsigned jobs)
{
    utxo_history_plan pl;
    utxo_params p;
    char why[400], self[PATH_MAX];
    uint32_t next = 0, running = 0, failed = 0;
    struct {
        pid_t pid; /* 0: a free slot */
        uint32_t range;
    } *slot;
    ssize_t n;
    int rc;

    if ((rc = utxo_history_manifest_read(&pl, &p, dir, why, sizeof why)) != UTXO_OK) {
        errorf("history run: %s", why);
        return -1;
    }
    if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) <= 0) {
        errorf("history run: cannot find this program (/proc/self/exe): %s", strerror(errno));
        utxo_history_plan_free(&pl);
        return -1;
    }
    self[n] = '\0';
    /* which range each running process verifies */
    if ((slot = calloc(jobs, sizeof *slot)) == NULL) {
        errorf("history run: out of memory");
        utxo_history_plan_free(&pl);
        return -1;
    }
    fflush(stdout);
    while (next < pl.k || running > 0) {
        while (next < pl.k && running < jobs) {
            pid_t pid;
            if (!range_inputs_regular(dir, next)) {
                failed++;
            } else if ((pid = start_range(self, dir, &pl.ranges[next], next)) < 0) {
                errorf("history run: cannot start range %u: %s", next, strerror(errno));
                failed++;
            } else {
                unsigned x = 0;
                while (slot[x].pid != 0)
                    x++;
                slot[x].pid = pid;
                slot[x].range = next;
                running++;
            }
            next++;
        }
        if (running == 0)
            break;
        int st;
        pid_t done = waitpid(-1, &st, 0);
        if (done < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (unsigned x = 0; x < jobs; x++)
            if (slot[x].pid == done) {
                slot[x].pid = 0;
                running--;
                if (!range_ended(&pl.ranges[slot[x].range], slot[x].range, st))
                    failed++;
                break;
            }
    }
    free(slot);
    utxo_history_plan_free(&pl);
    return (int)failed;
}

static int do_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"jobs", required_argument, NULL, 'j'},
        CLI_HELP_OPTION,
        {NULL, 0, NULL, 0},
    };
    cli cl = CLI_INIT("history run", history_usage, "j:", opts);
    uint64_t jobs = 0;
    int c;

    while ((c = cli_next(&cl, argc, argv)) != -1) {
        switch (c) {
        case CLI_STOP: return cl.status;
        case 'j':
            if (!cli_u64(&cl, 1, 1024, &jobs))
                return EXIT_USAGE;
            break;
        }
    }
    if ((c = cli_operands(&cl, argc, argv, 1, 1, "DIR")) != 0)
        return c;
    if (jobs == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        jobs = cpus > 0 ? (uint64_t)cpus : 1;
    }
    /* one run of a plan at a time: two would write the same results */
    int lock = dir_lock(cl.cmd, argv[optind], true);
    if (lock == -1)
        return EXIT_USAGE;
    int rc = history_run_ranges(argv[optind], (unsigned)jobs) != 0 ? EXIT_USAGE
                                                                   : linkup_report(argv[optind]);
    /* the verdict is link-up's, whatever each process said */
    if (lock >= 0)
        close(lock);
    return rc;
}

int cmd_history(int argc, char **argv)
{
    return cli_dispatch("history", history_usage, history_subs,
                        sizeof history_subs / sizeof history_subs[0], argc, argv);
}
