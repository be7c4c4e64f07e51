/*
 * cmd_follow.c — `utxo follow`: a stateless validator that follows a node
 * over HTTP (libcurl), holding only its state file (docs/API.md,
 * "Following a node"; issue 14).
 *
 *   utxo follow URL --state FILE [--once] [--batch N] [--max-blocks N]
 *               [--poll S] [--timeout S] [--chain-id HEX] [--threads N] [--quiet]
 *
 * It reads the chain's parameters from URL/params (checked against
 * --chain-id, or against the state file's chain once there is one), then
 * repeatedly asks URL/status for the tip and URL/blocks?from=NEXT&count=N
 * for the blocks it lacks with their proof bundles, and validates each
 * block as it arrives in the stream (utxo_validator_apply: roots only),
 * holding one block and its bundle at a time. The state is saved
 * atomically (utxo_validator_save) after every batch, and on SIGINT or
 * SIGTERM, so a run resumes where the last one stopped. --once stops at
 * the node's tip; otherwise, at the tip, it waits on the node's /events
 * for the next one (or, for a node without /events, or one that answers
 * it at once with no new block, polls every S seconds, default 10) until a
 * signal. A block that does not decode or does not validate is the node
 * serving invalid data: named (height, reason), exit 1, the state kept at
 * the block before it. FILE.tip keeps the header of the state's tip; a
 * node serving another block signed by the sequencer for that height is an
 * equivocation, with both headers written to FILE.evidence (exit 1).
 * Exit: 0 followed (to the tip with --once, or --max-blocks), 1 the node
 * served invalid data, 2 usage, I/O or the node unreachable / answering
 * with an error, 130/143 stopped by SIGINT/SIGTERM (the state saved).
 */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "utxo.h"
#include "commands.h"
#include "client/nodeclient.h"
#include "util.h"
#include "utxo/atomicfile.h"
#include "utxo/clock.h"

static atomic_int follow_stop; /* the signal that stops the follower, or 0 */

static void on_signal(int sig)
{
    atomic_store(&follow_stop, sig);
}

/* The validator and the header of the last block it took (kept beside
 * the state as STATE.tip: evidence material should the sequencer sign
 * another block at that height). */
typedef struct follower {
    utxo_validator *v;
    uint8_t tip[UTXO_HEADER_BYTES];
    bool have_tip;
    bool prev_mismatch; /* the refused block does not build on our tip */
} follower;

/* Each block of the stream, validated with the roots only. */
static int apply_pair(void *ud, uint32_t height, const utxo_block *b, const utxo_bundle *bu,
                      const uint8_t *bundle_bytes, size_t bundle_len, char *err, size_t err_len)
{
    follower *f = ud;
    utxo_verdict vd;
    int rc;

    (void)bundle_bytes;
    (void)bundle_len;
    if ((rc = utxo_validator_apply(f->v, b, bu, &vd)) != UTXO_OK) {
        f->prev_mismatch = rc == UTXO_ERR_BLOCK_PREV;
        nc_refused(err, err_len, "node", height, rc, &vd);
        return 1;
    }
    utxo_header_to_bytes(&b->header, f->tip);
    f->have_tip = true;
    return 0;
}

/* Saves the state and, beside it, STATE.tip. 0 or EXIT_USAGE (printed). */
static int save(const follower *f, const char *state)
{
    char path[4200];

    if (utxo_validator_save(f->v, state) != UTXO_OK) {
        errorf("%s: cannot save the state: %s", state, afile_errtext(errno));
        return EXIT_USAGE;
    }
    snprintf(path, sizeof path, "%s.tip", state);
    if (f->have_tip && write_file(path, f->tip, sizeof f->tip) != 0)
        return EXIT_USAGE;
    return 0;
}

/* Reads STATE.tip when it is the header of the state's tip. */
static void load_tip(follower *f, const char *state)
{
    char path[4200];
    uint8_t *raw = NULL, hash[UTXO_HASH_BYTES], want[UTXO_HASH_BYTES];
    size_t len = 0;
    utxo_header h;

    snprintf(path, sizeof path, "%s.tip", state);
    if (access(path, F_OK) != 0 || read_file(path, UTXO_HEADER_BYTES, &raw, &len) != 0)
        return;
    utxo_validator_tip_hash(f->v, want);
    if (len == UTXO_HEADER_BYTES && utxo_header_from_bytes(&h, raw, len, NULL) == UTXO_OK) {
        utxo_header_hash(&h, hash);
        if (memcmp(hash, want, sizeof hash) == 0) {
            memcpy(f->tip, raw, sizeof f->tip);
            f->have_tip = true;
        }
    }
    free(raw);
}

/*
 * The node served a block that does not build on our tip (height H-1).
 * When the node's own block H-1 is another block carrying a valid
 * sequencer signature, the sequencer signed two blocks for one height:
 * both headers are written to STATE.evidence. Returns 1 (equivocation,
 * printed), 0 (not shown: the refusal stands as it is).
 */
static int equivocation(nc_client *nc, const follower *f, const utxo_params *p,
                        const char *state)
{
    utxo_header ours, theirs;
    uint8_t h1[UTXO_HASH_BYTES], h2[UTXO_HASH_BYTES];
    char path[160], hex1[2 * UTXO_HEADER_BYTES + 1], hex2[2 * UTXO_HEADER_BYTES + 1];
    char file[4200], *text = NULL;
    membuf m;
    int ok = 0, len;

    if (!f->have_tip || utxo_header_from_bytes(&ours, f->tip, sizeof f->tip, NULL) != UTXO_OK)
        return 0;
    snprintf(path, sizeof path, "/block/%" PRIu64 "/raw", (uint64_t)ours.height);
    nc->quiet_errors = 1;
    if (nc_get(nc, path, (size_t)p->max_block_bytes, &m) != 0) {
        nc->quiet_errors = 0;
        return 0;
    }
    nc->quiet_errors = 0;
    if (m.len >= UTXO_HEADER_BYTES &&
        utxo_header_from_bytes(&theirs, m.p, UTXO_HEADER_BYTES, NULL) == UTXO_OK &&
        theirs.height == ours.height && utxo_header_verify(&theirs, p->sequencer_pk) == UTXO_OK &&
        utxo_header_verify(&ours, p->sequencer_pk) == UTXO_OK) {
        utxo_header_hash(&ours, h1);
        utxo_header_hash(&theirs, h2);
        ok = memcmp(h1, h2, sizeof h1) != 0;
    }
    if (ok) {
        sodium_bin2hex(hex1, sizeof hex1, f->tip, UTXO_HEADER_BYTES);
        sodium_bin2hex(hex2, sizeof hex2, m.p, UTXO_HEADER_BYTES);
        len = asprintf(&text, "utxo-equivocation 1\nheight %" PRIu64 "\nheader %s\nheader %s\n",
                       (uint64_t)ours.height, hex1, hex2);
        snprintf(file, sizeof file, "%s.evidence", state);
        if (len > 0)
            (void)write_file(file, (const uint8_t *)text, (size_t)len);
        sodium_bin2hex(hex1, sizeof hex1, h1, sizeof h1);
        sodium_bin2hex(hex2, sizeof hex2, h2, sizeof h2);
        errorf("equivocation: the sequencer signed two blocks at height %" PRIu64
               ": %s (validated here) and %s (served by %s now); both headers are in %s",
               (uint64_t)ours.height, hex1, hex2, nc->base, file);
        free(text);
    }
    free(m.p);
    return ok;
}

/* ---- the command ------------------------------------------------------------------ */

static void follow_usage(FILE *f)
{
    fprintf(f,
            "Usage: %s follow URL --state FILE [--once] [--batch N] [--max-blocks N]\n"
            "                   [--poll S] [--timeout S] [--chain-id HEX] [--threads N]\n"
            "                   [--quiet]\n"
            "\n"
            "Follows the node at URL (utxo node) as a stateless validator: fetches\n"
            "the blocks it lacks with their proofs (N per request, default 100),\n"
            "validates each with the accumulator roots of FILE only, and saves FILE\n"
            "after every batch and on SIGINT/SIGTERM (atomically): a run resumes\n"
            "where the last one stopped. Without FILE's existing, starts at genesis\n"
            "with the node's parameters (pin them with --chain-id).\n"
            "  --once          stop at the node's tip (otherwise wait on the node's /events\n"
            "                  for new blocks; --poll S: a node without /events, or one\n"
            "                  answering it at once with no new block, is asked every\n"
            "                  S s, default 10)\n"
            "  --max-blocks N  stop after N blocks\n"
            "  --timeout S     give up a request after S s, default 120 (a block stream:\n"
            "                  when one block with its proof takes longer, and 1 s\n"
            "                  more per 64 KiB of it)\n"
            "  --threads N     predicate threads (default: one per CPU)\n"
            "  -q, --quiet     no 'follow: height H of TIP' line per batch on stderr\n"
            "FILE.tip keeps the last validated header; a node serving another block\n"
            "signed for that height is an equivocation: both headers go to\n"
            "FILE.evidence.\n"
            "Exit: 0 followed, 1 the node served invalid data (named) or equivocation,\n"
            "2 usage/I/O or the node unreachable or answering with an error, 130/143\n"
            "stopped by SIGINT/SIGTERM (the state saved).\n"
            "\nexample:\n  %s follow http://127.0.0.1:8750 --state laptop.state --once\n",
            prog_name, prog_name);
}

int cmd_follow(int argc, char **argv)
{
    const char *state = NULL, *chain_hex = NULL;
    uint64_t batch = 100, max_blocks = 0, poll_s = 10, threads = 0, timeout_s = NC_TIMEOUT_S;
    bool once = false, quiet = false;
    enum { OPT_STATE = 256, OPT_ONCE, OPT_BATCH, OPT_MAX, OPT_POLL, OPT_CHAIN, OPT_THREADS,
           OPT_TIMEOUT };
    static const struct option opts[] = {
        {"state", required_argument, NULL, OPT_STATE},
        {"once", no_argument, NULL, OPT_ONCE},
        {"batch", required_argument, NULL, OPT_BATCH},
        {"max-blocks", required_argument, NULL, OPT_MAX},
        {"poll", required_argument, NULL, OPT_POLL},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"chain-id", required_argument, NULL, OPT_CHAIN},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"quiet", no_argument, NULL, 'q'},
        CLI_HELP_OPTION,
        {NULL, 0, NULL, 0},
    };
    cli cl = CLI_INIT("follow", follow_usage, "q", opts);
    utxo_params p;
    utxo_validator *v = NULL;
    follower f = {0};
    nc_client nc = {0};
    uint8_t *chain = NULL;
    char why[256];
    int c, rc, ex = EXIT_USAGE;
    uint32_t total = 0;

    while ((c = cli_next(&cl, argc, argv)) != -1) {
        switch (c) {
        case CLI_STOP: return cl.status;
        case OPT_STATE: state = optarg; break;
        case OPT_ONCE: once = true; break;
        case OPT_BATCH:
            if (!cli_u64(&cl, 1, 500, &batch))
                return EXIT_USAGE;
            break;
        case OPT_MAX:
            if (!cli_u64(&cl, 1, UINT32_MAX, &max_blocks))
                return EXIT_USAGE;
            break;
        case OPT_POLL:
            if (!cli_u64(&cl, 1, 3600, &poll_s))
                return EXIT_USAGE;
            break;
        case OPT_TIMEOUT:
            if (!cli_u64(&cl, 1, 3600, &timeout_s))
                return EXIT_USAGE;
            break;
        case OPT_CHAIN: chain_hex = optarg; break;
        case OPT_THREADS:
            if (!cli_u64(&cl, 0, 1024, &threads))
                return EXIT_USAGE;
            break;
        case 'q': quiet = true; break;
        }
    }
    if ((rc = cli_operands(&cl, argc, argv, 1, 1, "URL")) != 0)
        return rc;
    if (!state)
        return usage_error(cl.cmd, "--state FILE is required (it is created on the first run)");
    if (strncmp(argv[optind], "http://", 7) != 0 && strncmp(argv[optind], "https://", 8) != 0)
        return usage_error(cl.cmd, "URL must start with http:// or https://");
    if (strlen(argv[optind]) >= sizeof nc.base - 64)
        return usage_error(cl.cmd, "URL too long");
    if (parse_chain_id(cl.cmd, chain_hex, &chain) != 0)
        return EXIT_USAGE;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
        nc_open(&nc, argv[optind], "utxo-follow", &follow_stop) != 0)
        goto out;
    nc.timeout_s = (long)timeout_s;

    /* the chain's parameters */
    if ((rc = nc_params(&nc, &p)) != 0) {
        ex = rc;
        goto out;
    }
    if (chain && memcmp(chain, p.chain_id, UTXO_HASH_BYTES) != 0) {
        errorf("%s serves another chain than --chain-id", nc.base);
        ex = EXIT_INVALID;
        goto out;
    }
    rc = utxo_validator_load(&v, &p, state, (unsigned)threads, why, sizeof why);
    if (rc == UTXO_ERR_IO && errno == ENOENT) {
        if ((v = utxo_validator_new(&p, (unsigned)threads)) == NULL) {
            errorf("out of memory");
            goto out;
        }
    } else if (rc == UTXO_ERR_FILE_CHAIN) {
        errorf("%s: the state is of another chain than %s serves", state, nc.base);
        ex = EXIT_INVALID;
        goto out;
    } else if (rc != UTXO_OK) {
        errorf("%s: %s", state, why);
        goto out;
    } else {
        f.v = v;
        load_tip(&f, state);
    }

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    bool waited_quick = false; /* the last /events wait, answered in under a second,
                                * has brought no block yet */
    bool lost = false;         /* the last /events wait got no answer and no block
                                * came since: the next failing one polls (no
                                * spinning on a node that answers /status and
                                * drops /events) */
    for (;;) {
        nc.quiet_errors = 1; /* a signal aborting the request is no failure to print */
        long long tip = nc_tip(&nc);
        uint32_t next = utxo_validator_next_height(v), applied = 0;
        nc.quiet_errors = 0;
        if (follow_stop)
            break;
        if (tip == -2) {
            errorf("%s", nc.err);
            goto save_out;
        }
        if (tip < 0 || next > (unsigned long long)tip) {
            if (once)
                break;
            /* a node with /events answers when its tip moves (or after
             * 30 s); without it, when it fails, or when it answered at
             * once and still no block is to be had (a caching proxy, a
             * hostile node whose /status moves below our tip: no
             * spinning), poll every S s */
            bool spun = waited_quick, was_lost = lost;
            uint64_t t0 = clock_now_ns();
            waited_quick = lost = false;
            int w = spun ? -1 : nc_wait_tip(&nc, tip, 30);
            if (w == -2 && !was_lost)
                /* no answer: the node may have gone away; ask /status at
                 * once (exit 2 if it has) rather than after the poll */
                lost = true;
            else if (w != 0)
                for (uint64_t t = 0; t < poll_s && !follow_stop; t++)
                    sleep(1);
            else
                waited_quick = clock_now_ns() - t0 < UINT64_C(1000000000);
            if (follow_stop)
                break;
            continue;
        }
        uint64_t want = (uint64_t)tip - next + 1;
        if (want > batch)
            want = batch;
        if (max_blocks && want > max_blocks - total)
            want = max_blocks - total;
        waited_quick = lost = false; /* a wait after these blocks is a first one */
        f.v = v;
        f.prev_mismatch = false;
        nc.quiet_errors = 1; /* an equivocation is said instead of the refusal */
        rc = nc_blocks(&nc, &p, next, (uint32_t)want, apply_pair, &f, &applied);
        nc.quiet_errors = 0;
        total += applied;
        if (rc == NC_INVALID) {
            if (!f.prev_mismatch || !equivocation(&nc, &f, &p, state))
                errorf("%s", nc.err);
            ex = EXIT_INVALID;
            goto save_out;
        }
        if (rc != NC_OK && rc != NC_STOPPED)
            errorf("%s", nc.err);
        if (rc == NC_STOPPED)
            break;
        if (rc != NC_OK)
            goto save_out;
        if (save(&f, state) != 0)
            goto out;
        if (!quiet)
            fprintf(stderr, "follow: height %" PRIu32 " of %lld\n",
                    utxo_validator_next_height(v) - 1, tip);
        if (max_blocks && total >= max_blocks)
            break;
    }
    ex = EXIT_VALID;
save_out:
    f.v = v;
    if (v && save(&f, state) != 0)
        ex = EXIT_USAGE;
    if (v) {
        uint8_t tip[UTXO_HASH_BYTES];
        char hex[65];
        uint32_t nh = utxo_validator_next_height(v);
        utxo_validator_tip_hash(v, tip);
        sodium_bin2hex(hex, sizeof hex, tip, sizeof tip);
        if (nh)
            printf("%s height=%" PRIu32 " hash=%s blocks=%" PRIu32 "\n",
                   ex == EXIT_VALID && !follow_stop ? "followed" : "stopped", nh - 1, hex, total);
        else
            printf("%s height=none blocks=0\n",
                   ex == EXIT_VALID && !follow_stop ? "followed" : "stopped");
    }
    if (follow_stop && ex == EXIT_VALID)
        ex = 128 + follow_stop; /* stopped by a signal, the state saved */
out:
    free(chain);
    utxo_validator_free(v);
    nc_close(&nc);
    curl_global_cleanup();
    return ex;
}
