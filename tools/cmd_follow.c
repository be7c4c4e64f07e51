/*
 * cmd_follow.c — `utxo follow`: a stateless validator that follows a node
 * over HTTP (libcurl), holding only its state file (docs/API.md,
 * "Following a node"; issue 14).
 *
 *   utxo follow URL --state FILE [--once] [--batch N] [--max-blocks N]
 *               [--poll S] [--chain-id HEX] [--threads N] [--quiet]
 *
 * It reads the chain's parameters from URL/params (checked against
 * --chain-id, or against the state file's chain once there is one), then
 * repeatedly asks URL/status for the tip and URL/blocks?from=NEXT&count=N
 * for the blocks it lacks with their proof bundles, and validates each
 * block as it arrives in the stream (utxo_validator_apply: roots only),
 * holding one block and its bundle at a time. The state is saved
 * atomically (utxo_validator_save) after every batch, and on SIGINT or
 * SIGTERM, so a run resumes where the last one stopped. --once stops at
 * the node's tip; otherwise it polls every S seconds (default 10) until a
 * signal. A block that does not decode or does not validate is the node
 * serving invalid data: named (height, reason), exit 1, the state kept at
 * the block before it.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "utxo.h"
#include "commands.h"
#include "util.h"

static volatile sig_atomic_t follow_stop;

static void on_signal(int sig)
{
    follow_stop = sig;
}

/* ---- HTTP ------------------------------------------------------------------ */

/* libcurl calls this about once a second even when no byte arrives: a
 * signal aborts a transfer that is waiting on a stalled node. */
static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)ud;
    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    return follow_stop != 0;
}

typedef struct membuf {
    uint8_t *p;
    size_t len, cap, max;
} membuf;

static size_t to_membuf(char *data, size_t size, size_t n, void *ud)
{
    membuf *m = ud;
    size_t k = size * n;
    if (k > m->max - m->len)
        return 0; /* larger than any answer we expect: abort */
    if (m->len + k > m->cap) {
        size_t cap = m->cap ? m->cap : 4096;
        while (cap < m->len + k)
            cap *= 2;
        uint8_t *q = realloc(m->p, cap);
        if (!q)
            return 0;
        m->p = q;
        m->cap = cap;
    }
    memcpy(m->p + m->len, data, k);
    m->len += k;
    return k;
}

/* GETs base+path into a new buffer of at most max bytes; 0 when the answer
 * is 200, else EXIT_USAGE after a message (the node's JSON error when it
 * sent one). */
static int http_get(CURL *h, const char *base, const char *path, size_t max, membuf *out)
{
    char url[4200];
    long status = 0;
    CURLcode cc;

    memset(out, 0, sizeof *out);
    out->max = max;
    snprintf(url, sizeof url, "%s%s", base, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_membuf);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        errorf("%s: %s", url, curl_easy_strerror(cc));
        goto fail;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        json_t *j = json_loadb((const char *)out->p, out->len, 0, NULL);
        const char *msg = j ? json_string_value(json_object_get(j, "message")) : NULL;
        errorf("%s: HTTP %ld%s%s", url, status, msg ? ": " : "", msg ? msg : "");
        json_decref(j);
        goto fail;
    }
    return 0;
fail:
    free(out->p);
    memset(out, 0, sizeof *out);
    return EXIT_USAGE;
}

/* ---- the stream of /blocks ---------------------------------------------------- */

typedef struct follower {
    utxo_validator *v;
    utxo_params p;
    membuf rec;        /* the current record pair being received */
    uint32_t applied;  /* blocks applied in this request */
    int invalid;       /* 1: the node served invalid data (message printed) */
    int quiet;
} follower;

/* A record pair is complete in f->rec: 4 + block + 4 + bundle. Returns the
 * bytes it took, 0 when more are needed, or -1 on invalid data. */
static long take_pair(follower *f)
{
    const uint8_t *p = f->rec.p, *q;
    size_t have = f->rec.len;
    uint32_t bl, pl;
    uint32_t h = utxo_validator_next_height(f->v);

    if (have < 4)
        return 0;
    q = p;
    bl = (uint32_t)le_get(&q, 4);
    if (bl == 0 || bl > f->p.max_block_bytes) {
        errorf("the node served a block record of %" PRIu32 " bytes at height %" PRIu32
               " (the chain's limit is %" PRIu32 ")", bl, h, f->p.max_block_bytes);
        return -1;
    }
    if (have < 8 + (size_t)bl)
        return 0;
    p += 4 + bl;
    q = p;
    pl = (uint32_t)le_get(&q, 4);
    if (pl == 0 || pl > UTXO_BUNDLE_MAX_BYTES) {
        errorf("the node served a proof record of %" PRIu32 " bytes at height %" PRIu32, pl, h);
        return -1;
    }
    if (have < 8 + (size_t)bl + pl)
        return 0;

    utxo_block *b = NULL;
    utxo_bundle *bu = NULL;
    utxo_verdict vd;
    size_t eo = 0;
    int rc = utxo_block_from_bytes(&b, f->rec.p + 4, bl, &f->p, &eo);
    if (rc != UTXO_OK) {
        errorf("the node served a block at height %" PRIu32 " that does not decode (byte %zu): %s",
               h, eo, utxo_strerror(rc));
        return -1;
    }
    if ((rc = utxo_bundle_from_bytes(&bu, p + 4, pl, &f->p, &eo)) != UTXO_OK) {
        errorf("the node served a proof bundle at height %" PRIu32
               " that does not decode (byte %zu): %s", h, eo, utxo_strerror(rc));
        utxo_block_free(b);
        return -1;
    }
    rc = utxo_validator_apply(f->v, b, bu, &vd);
    utxo_block_free(b);
    utxo_bundle_free(bu);
    if (rc != UTXO_OK) {
        errorf("the node served an invalid block at height %" PRIu32 ": %s (tx %" PRIu32
               ", input %" PRIu32 ")", h, utxo_strerror(rc), vd.tx, vd.input);
        return -1;
    }
    f->applied++;
    return (long)(8 + (size_t)bl + pl);
}

static size_t on_blocks(char *data, size_t size, size_t n, void *ud)
{
    follower *f = ud;
    size_t k = size * n;
    long took;

    if (follow_stop)
        return 0; /* a signal: stop the transfer, the state is saved */
    if (to_membuf(data, 1, k, &f->rec) != k)
        return 0;
    while ((took = take_pair(f)) > 0) {
        memmove(f->rec.p, f->rec.p + took, f->rec.len - (size_t)took);
        f->rec.len -= (size_t)took;
    }
    if (took < 0) {
        f->invalid = 1;
        return 0;
    }
    return k;
}

/* ---- the command ------------------------------------------------------------------ */

static void follow_usage(FILE *f)
{
    fprintf(f,
            "Usage: %s follow URL --state FILE [--once] [--batch N] [--max-blocks N]\n"
            "                   [--poll S] [--chain-id HEX] [--threads N] [--quiet]\n"
            "\n"
            "Follows the node at URL (utxo node) as a stateless validator: fetches\n"
            "the blocks it lacks with their proofs (N per request, default 100),\n"
            "validates each with the accumulator roots of FILE only, and saves FILE\n"
            "after every batch and on SIGINT/SIGTERM (atomically): a run resumes\n"
            "where the last one stopped. Without FILE's existing, starts at genesis\n"
            "with the node's parameters (pin them with --chain-id).\n"
            "  --once          stop at the node's tip (otherwise poll every S s, default 10)\n"
            "  --max-blocks N  stop after N blocks\n"
            "  --threads N     predicate threads (default: one per CPU)\n"
            "Exit: 0 followed, 1 the node served invalid data (named), 2 usage/I/O or\n"
            "the node unreachable or answering with an error, 130/143 stopped by\n"
            "SIGINT/SIGTERM (the state saved).\n"
            "\nexample:\n  %s follow http://127.0.0.1:8750 --state laptop.state --once\n",
            prog_name, prog_name);
}

static void trim_slash(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '/')
        s[--n] = 0;
}

/* The node's tip height (-1: empty) from /status, or -2 after a message. */
static long long node_tip(CURL *h, const char *base)
{
    membuf m;
    json_t *j, *hv;
    long long tip = -2;

    if (http_get(h, base, "/status", 1 << 16, &m) != 0)
        return -2;
    j = json_loadb((const char *)m.p, m.len, 0, NULL);
    free(m.p);
    hv = j ? json_object_get(j, "height") : NULL;
    if (hv && json_is_null(hv))
        tip = -1;
    else if (hv && json_is_integer(hv) && json_integer_value(hv) >= 0 &&
             json_integer_value(hv) <= UINT32_MAX)
        tip = json_integer_value(hv);
    else
        errorf("%s/status: not a node's status (no height)", base);
    json_decref(j);
    return tip;
}

int cmd_follow(int argc, char **argv)
{
    const char *state = NULL, *chain_hex = NULL;
    uint64_t batch = 100, max_blocks = 0, poll_s = 10, threads = 0;
    bool once = false, quiet = false;
    enum { OPT_STATE = 256, OPT_ONCE, OPT_BATCH, OPT_MAX, OPT_POLL, OPT_CHAIN, OPT_THREADS };
    static const struct option opts[] = {
        {"state", required_argument, NULL, OPT_STATE},
        {"once", no_argument, NULL, OPT_ONCE},
        {"batch", required_argument, NULL, OPT_BATCH},
        {"max-blocks", required_argument, NULL, OPT_MAX},
        {"poll", required_argument, NULL, OPT_POLL},
        {"chain-id", required_argument, NULL, OPT_CHAIN},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"quiet", no_argument, NULL, 'q'},
        CLI_HELP_OPTION,
        {NULL, 0, NULL, 0},
    };
    cli cl = CLI_INIT("follow", follow_usage, "q", opts);
    follower f;
    CURL *h = NULL;
    membuf m = {0};
    uint8_t *chain = NULL;
    char base[4096], why[256], path[128];
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
    if (strlen(argv[optind]) >= sizeof base - 64)
        return usage_error(cl.cmd, "URL too long");
    snprintf(base, sizeof base, "%s", argv[optind]);
    trim_slash(base);
    if (parse_chain_id(chain_hex, &chain) != 0)
        return EXIT_USAGE;

    memset(&f, 0, sizeof f);
    f.quiet = quiet;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || (h = curl_easy_init()) == NULL) {
        errorf("cannot start libcurl");
        goto out;
    }
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);   /* a stalled node: */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);   /* give up after 60 s */
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "utxo-follow");
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");

    /* the chain's parameters */
    if (http_get(h, base, "/params", UTXO_PARAMS_BYTES + 1, &m) != 0)
        goto out;
    if ((rc = utxo_params_from_bytes(&f.p, m.p, m.len, NULL)) != UTXO_OK ||
        m.len != UTXO_PARAMS_BYTES) {
        errorf("%s/params: not a chain's parameters: %s", base,
               rc != UTXO_OK ? utxo_strerror(rc) : "wrong length");
        ex = EXIT_INVALID;
        goto out;
    }
    if (chain && memcmp(chain, f.p.chain_id, UTXO_HASH_BYTES) != 0) {
        errorf("%s serves another chain than --chain-id", base);
        ex = EXIT_INVALID;
        goto out;
    }
    rc = utxo_validator_load(&f.v, &f.p, state, (unsigned)threads, why, sizeof why);
    if (rc == UTXO_ERR_IO && errno == ENOENT) {
        if ((f.v = utxo_validator_new(&f.p, (unsigned)threads)) == NULL) {
            errorf("out of memory");
            goto out;
        }
    } else if (rc == UTXO_ERR_FILE_CHAIN) {
        errorf("%s: the state is of another chain than %s serves", state, base);
        ex = EXIT_INVALID;
        goto out;
    } else if (rc != UTXO_OK) {
        errorf("%s: %s", state, why);
        goto out;
    }

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    for (;;) {
        long long tip = node_tip(h, base);
        uint32_t next = utxo_validator_next_height(f.v);
        if (tip == -2)
            goto save_out;
        if (follow_stop)
            break;
        if (tip < 0 || next > (unsigned long long)tip) {
            if (once)
                break;
            for (uint64_t t = 0; t < poll_s && !follow_stop; t++)
                sleep(1);
            if (follow_stop)
                break;
            continue;
        }
        uint64_t want = (uint64_t)tip - next + 1;
        if (want > batch)
            want = batch;
        if (max_blocks && want > max_blocks - total)
            want = max_blocks - total;
        snprintf(path, sizeof path, "/blocks?from=%" PRIu32 "&count=%" PRIu64, next, want);
        f.applied = 0;
        f.rec.len = 0;
        f.rec.max = 8 + (size_t)f.p.max_block_bytes + UTXO_BUNDLE_MAX_BYTES;
        char url[4200];
        long status = 0;
        snprintf(url, sizeof url, "%s%s", base, path);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_blocks);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &f);
        CURLcode cc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        total += f.applied;
        if (f.invalid) {
            ex = EXIT_INVALID;
            goto save_out;
        }
        if (follow_stop)
            break;
        if (cc != CURLE_OK || status != 200) {
            errorf("%s: %s", url, cc != CURLE_OK ? curl_easy_strerror(cc) : "not 200");
            goto save_out;
        }
        if (f.rec.len != 0 || f.applied != want) {
            errorf("%s: the stream ended after %" PRIu32 " of %" PRIu64 " blocks", url, f.applied,
                   want);
            goto save_out;
        }
        if ((rc = utxo_validator_save(f.v, state)) != UTXO_OK) {
            errorf("%s: cannot save the state: %s", state, io_errtext(errno));
            goto out;
        }
        if (!quiet)
            fprintf(stderr, "follow: height %" PRIu32 " of %lld\n",
                    utxo_validator_next_height(f.v) - 1, tip);
        if (max_blocks && total >= max_blocks)
            break;
    }
    ex = EXIT_VALID;
save_out:
    if (f.v && utxo_validator_save(f.v, state) != UTXO_OK) {
        errorf("%s: cannot save the state: %s", state, io_errtext(errno));
        ex = EXIT_USAGE;
    }
    if (f.v) {
        uint8_t tip[UTXO_HASH_BYTES];
        char hex[65];
        uint32_t nh = utxo_validator_next_height(f.v);
        utxo_validator_tip_hash(f.v, tip);
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
    free(m.p);
    free(f.rec.p);
    free(chain);
    utxo_validator_free(f.v);
    if (h)
        curl_easy_cleanup(h);
    curl_global_cleanup();
    return ex;
}
