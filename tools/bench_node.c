/*
 * bench_node.c — `utxo bench node`: the node's HTTP API against the same
 * work done without it, in one run on loopback (docs/API.md; issue 14).
 *
 *   bench node follow_ratio=R post_ratio=R proof_p50_ms=X proof_p99_ms=X
 *       node_peak_rss_kib=N blocks=.. chain_txs=.. verify_ms=.. follow_ms=..
 *       posts=.. post_per_s=.. mempool_per_s=.. journal_per_s=.. post_ms=..
 *       mempool_ms=.. journal_share=.. http_rtt_us=.. clients=.. requests=..
 *       candidates=.. follow_node_rss_kib=.. seq_node_rss_kib=.. repeat=..
 *       follow_goal=0.8 post_goal=0.5
 *
 * follow  a history from the generator (`utxo gen`'s code) served by
 *         `utxo node`; follow_ratio = time of `utxo verify` on the local
 *         files / time of `utxo follow URL --once` from a fresh state, both
 *         whole processes of this program, interleaved --repeat times, the
 *         least time of each counting. Goal >= 0.8.
 * post    --txs independent pay-to-pubkey payments, each spending its own
 *         output of a genesis made here (keys derived from a fixed seed),
 *         POSTed on --posters keep-alive connections at once (default 32,
 *         driven by one thread with libcurl's multi interface, each taking
 *         the next payment when its last is answered) to a sequencer node (`--seal-interval 3600`: nothing is sealed while
 *         it runs); post_ratio = HTTP acceptance rate / the rate of
 *         chain_seq_submit in this process on a copy of the same directory
 *         (the mempool alone). Goal >= 0.5. Two costs the baseline lacks
 *         are measured beside it to explain the gap: the node syncs its
 *         mempool journal (fdatasync, one per group of records written
 *         while the previous sync ran) before each answer; journal_per_s
 *         is chain_journal_add alone, here, for the same transactions
 *         (journal_share = that time / the POSTs' time); and http_rtt_us is
 *         the mean round trip of GET /params on the same connection just
 *         before (HTTP with next to no work behind it).
 * proof   GET /proof/TXID:INDEX for unspent outputs of the history's last
 *         blocks, from --clients threads (one curl handle each) making
 *         --requests requests each; p50 and p99 of the latencies.
 * memory  VmHWM of each node process just before it is stopped;
 *         node_peak_rss_kib is the larger of the two.
 *
 * Times are integers (ns) throughout; ratios are printed with two decimals
 * and milliseconds with three, by integer arithmetic. Everything lives in
 * a directory under $TMPDIR (default /tmp), removed at the end; every
 * child process is stopped (SIGTERM, then SIGKILL after 10 s) and reaped
 * on every path.
 */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include "utxo.h"
#include "bench.h"
#include "chain/chain.h"
#include "util.h"
#include "utxo/atomicfile.h"

extern char **environ;

#define NB_KEYS 16u                          /* keys the genesis pays, in turn */
#define NB_ALLOC_VALUE UINT64_C(1000000000)  /* each genesis output */
#define NB_PAY_VALUE UINT64_C(400000000)     /* each payment; change goes back */
#define NB_TAIL_BLOCKS 8u                    /* proof candidates: outputs of the last blocks */
#define NB_MAX_CANDIDATES 512u
#define NB_START_NS UINT64_C(60000000000)    /* a node must listen within 60 s */
#define NB_STOP_NS UINT64_C(10000000000)     /* and stop within 10 s of SIGTERM */
#define NB_URL_MAX 192u

static void node_bench_usage(FILE *f)
{
    fprintf(f, "Usage: utxo bench node [--blocks N] [--tx-per-block M] [--txs T] [--clients C]\n"
               "                       [--requests R] [--repeat K] [--posters P]\n"
               "\n"
               "Runs `utxo node` on loopback (127.0.0.1, a free port) and measures, in one run:\n"
               "  follow_ratio  `utxo verify` on the local files of a generated history\n"
               "                (default 200 blocks of 20 transactions) / `utxo follow --once`\n"
               "                of the same chain from the node (goal >= 0.8); the two\n"
               "                interleaved K times (default 3), the least time of each counting\n"
               "  post_ratio    payments accepted per second by POST /tx to a sequencer node\n"
               "                (T of them, default 1000, at most 1024, on P connections at once,\n"
               "                default 32, from one client thread: the node syncs its\n"
               "                journal once for all the records written meanwhile) / the\n"
               "                mempool's own rate for the same transactions (goal >= 0.5)\n"
               "  proof_p50_ms, proof_p99_ms  GET /proof latency from C client threads\n"
               "                (default 32) making R requests each (default 50)\n"
               "  node_peak_rss_kib  the larger peak resident memory of the two nodes\n"
               "Works in a directory under $TMPDIR (default /tmp), removed at the end.\n"
               "Prints `bench node follow_ratio=R post_ratio=R proof_p50_ms=X proof_p99_ms=X\n"
               "node_peak_rss_kib=N ...`.\n"
               "\nexample:\n  utxo bench node --blocks 20 --tx-per-block 5\n");
}

/* ---- integer formatting ------------------------------------------------- */

/* a / b with two decimals, rounded: "0.87". */
static const char *fmt_ratio(char *out, size_t n, uint64_t a, uint64_t b)
{
    uint64_t r = b ? (a * 100 + b / 2) / b : 0;
    snprintf(out, n, "%llu.%02llu", (unsigned long long)(r / 100), (unsigned long long)(r % 100));
    return out;
}

/* ns as milliseconds with three decimals: "1.234". */
static const char *fmt_ms(char *out, size_t n, uint64_t ns)
{
    uint64_t us = (ns + 500) / 1000;
    snprintf(out, n, "%llu.%03llu", (unsigned long long)(us / 1000),
             (unsigned long long)(us % 1000));
    return out;
}

/* count events in ns as a rate per second. */
static unsigned long long per_s(uint64_t count, uint64_t ns)
{
    return ns ? (unsigned long long)(count * UINT64_C(1000000000) / ns) : 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* ---- child processes ------------------------------------------------------ */

/* Starts this program with args (args[0] "utxo"), its standard output to
 * out (created; NULL: /dev/null), standard input from /dev/null, standard
 * error shared. The pid, or -1 with errno set. */
static pid_t spawn_self(const char *self, char *const args[], const char *out)
{
    posix_spawn_file_actions_t fa;
    pid_t pid = -1;
    int e;

    if ((e = posix_spawn_file_actions_init(&fa)) != 0) {
        errno = e;
        return -1;
    }
    if ((e = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0)) == 0 &&
        (e = posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out ? out : "/dev/null",
                                              O_WRONLY | O_CREAT | O_TRUNC, 0600)) == 0)
        e = posix_spawn(&pid, self, &fa, NULL, args, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (e != 0) {
        errno = e;
        return -1;
    }
    return pid;
}

/* Waits for pid; its exit status, or -1 (killed by a signal, or waitpid
 * failed). */
static int wait_exit(pid_t pid)
{
    int st;

    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Runs `utxo ARGS` to its end; *ns its wall time. 0, or an error printed
 * (what names the command) and its exit status (-1: it could not run). */
static int run_timed(const char *self, char *const args[], const char *what, uint64_t *ns)
{
    uint64_t t0 = clock_now_ns();
    pid_t pid = spawn_self(self, args, NULL);
    int rc;

    if (pid < 0) {
        errorf("bench node: cannot start %s: %s", what, strerror(errno));
        return -1;
    }
    rc = wait_exit(pid);
    *ns = clock_now_ns() - t0;
    if (rc != 0)
        errorf("bench node: %s %s", what,
               rc < 0 ? "was killed or could not be waited for" : "failed (status above)");
    return rc == 0 ? 0 : (rc < 0 ? -1 : rc);
}

/* A node process of this run. */
typedef struct bnode {
    pid_t pid;              /* 0: not running */
    char url[NB_URL_MAX];   /* http://127.0.0.1:PORT */
    uint64_t peak_kib;      /* VmHWM read just before the stop */
} bnode;

/* Stops n (its peak memory read first): SIGTERM, then SIGKILL if it has
 * not exited within NB_STOP_NS; reaped in every case. The node's exit
 * status, or -1 (killed, or it never ran). */
static int node_stop(bnode *n)
{
    uint64_t t0;
    int st, rc = -1;

    if (n->pid <= 0)
        return -1;
    n->peak_kib = proc_peak_rss_kib((long)n->pid);
    kill(n->pid, SIGTERM);
    t0 = clock_now_ns();
    for (;;) {
        pid_t w = waitpid(n->pid, &st, WNOHANG);
        if (w == n->pid) {
            rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
            break;
        }
        if (w < 0 && errno != EINTR)
            break;
        if (clock_now_ns() - t0 > NB_STOP_NS) {
            errorf("bench node: the node (pid %ld) did not stop within 10 s of SIGTERM: killed",
                   (long)n->pid);
            kill(n->pid, SIGKILL);
            (void)wait_exit(n->pid);
            break;
        }
        sleep_ms(5);
    }
    n->pid = 0;
    return rc;
}

/* Starts `utxo node --datadir DIR --listen 127.0.0.1:0 -q --seal-interval
 * 3600` with its standard output to out, and waits for its "listening on
 * URL" line. 0, or -1 after a message (the node stopped if it ran). */
static int node_start(bnode *n, const char *self, const char *dir, const char *out)
{
    char *args[] = {"utxo", "node", "--datadir", (char *)dir, "--listen", "127.0.0.1:0", "-q",
                    "--seal-interval", "3600", NULL};
    static const char mark[] = "listening on ";
    uint64_t t0 = clock_now_ns();
    char buf[512];
    int st;

    memset(n, 0, sizeof *n);
    if ((n->pid = spawn_self(self, args, out)) < 0) {
        n->pid = 0;
        errorf("bench node: cannot start utxo node: %s", strerror(errno));
        return -1;
    }
    for (;;) {
        FILE *f = fopen(out, "r");
        size_t len = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        char *p, *e;

        if (f)
            fclose(f);
        buf[len] = '\0';
        if ((p = strstr(buf, mark)) != NULL && (e = strchr(p, '\n')) != NULL) {
            p += sizeof mark - 1;
            if ((size_t)(e - p) >= sizeof n->url || strncmp(p, "http://", 7) != 0) {
                errorf("bench node: the node printed an unexpected address: %.*s", (int)(e - p),
                       p);
                break;
            }
            memcpy(n->url, p, (size_t)(e - p));
            n->url[e - p] = '\0';
            return 0;
        }
        if (waitpid(n->pid, &st, WNOHANG) == n->pid) {
            errorf("bench node: utxo node --datadir %s exited (%s %d) before listening", dir,
                   WIFEXITED(st) ? "status" : "signal",
                   WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
            n->pid = 0;
            return -1;
        }
        if (clock_now_ns() - t0 > NB_START_NS) {
            errorf("bench node: utxo node --datadir %s did not listen within 60 s", dir);
            break;
        }
        sleep_ms(5);
    }
    (void)node_stop(n);
    return -1;
}

/* ---- HTTP (libcurl) ------------------------------------------------------- */

/* The start of a response body (for messages), its full length counted. */
typedef struct body {
    char head[256];
    size_t len;
} body;

static size_t body_write(char *p, size_t size, size_t nmemb, void *ud)
{
    body *b = ud;
    size_t n = size * nmemb;

    if (b->len < sizeof b->head - 1) {
        size_t k = n < sizeof b->head - 1 - b->len ? n : sizeof b->head - 1 - b->len;
        memcpy(b->head + b->len, p, k);
        b->head[b->len + k] = '\0';
    }
    b->len += n;
    return n;
}

/* A handle for one thread: keep-alive, no signals, bounded waits. */
static CURL *http_handle(body *b)
{
    CURL *h = curl_easy_init();

    if (h == NULL)
        return NULL;
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
    return h;
}

/* GET url on h: the HTTP status, or -1 after a message (transport error). */
static long http_get(CURL *h, body *b, const char *url)
{
    long status = 0;
    CURLcode cc;

    memset(b, 0, sizeof *b);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    if ((cc = curl_easy_perform(h)) != CURLE_OK) {
        errorf("bench node: GET %s: %s", url, curl_easy_strerror(cc));
        return -1;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

/* ---- the post chain: a genesis paying NB_KEYS keys, and payments ---------- */

typedef struct keyset {
    uint8_t pk[NB_KEYS][UTXO_PUBKEY_BYTES];
    uint8_t sk[NB_KEYS][UTXO_SECRETKEY_BYTES];
    uint8_t id[NB_KEYS][UTXO_HASH_BYTES];
    uint8_t img[NB_KEYS][UTXO_STD_IMAGE_MAX_BYTES];
    size_t img_len[NB_KEYS];
} keyset;

static int keys_make(keyset *k)
{
    uint8_t master[UTXO_SEED_BYTES];
    int rc = UTXO_OK;

    memset(master, 0x5e, sizeof master); /* fixed: the same chain every run */
    for (uint32_t i = 0; i < NB_KEYS && rc == UTXO_OK; i++)
        if ((rc = utxo_keypair_derive(k->pk[i], k->sk[i], master, i)) == UTXO_OK &&
            (rc = utxo_p2pk_id(k->id[i], k->pk[i])) == UTXO_OK)
            rc = utxo_std_p2pk_image(k->img[i], sizeof k->img[i], &k->img_len[i], k->pk[i]);
    return rc;
}

/* The coinbase txid of the first block of the block file at path. */
static int genesis_txid(const char *path, uint8_t txid[UTXO_HASH_BYTES])
{
    utxo_chainfile *cf = NULL;
    utxo_params p;
    utxo_block *b = NULL;
    uint8_t *rec = NULL;
    size_t len = 0;
    int rc;

    if ((rc = utxo_chainfile_open(&cf, path, UTXO_CHAINFILE_BLOCKS, &p, NULL)) != UTXO_OK)
        return rc;
    if ((rc = utxo_chainfile_next(cf, &rec, &len, NULL)) == UTXO_OK)
        rc = rec == NULL ? UTXO_ERR_TRUNCATED : utxo_block_from_bytes(&b, rec, len, &p, NULL);
    if (rc == UTXO_OK)
        utxo_tx_txid(b->txs[0], txid);
    utxo_block_free(b);
    free(rec);
    (void)utxo_chainfile_close(cf);
    return rc;
}

/* txs[i] spends genesis output i (key i mod NB_KEYS), pays NB_PAY_VALUE to
 * the next key and the change back; raw[i] its encoding (raw_len[i]). */
static int payments_make(const keyset *k, const utxo_params *p, const uint8_t gtxid[32],
                         size_t n, utxo_tx **txs, uint8_t **raw, size_t *raw_len)
{
    for (size_t i = 0; i < n; i++) {
        unsigned w = (unsigned)(i % NB_KEYS), to = (w + 1) % NB_KEYS;
        utxo_builder *b = utxo_builder_new(p, 1);
        utxo_coin c;
        int rc;

        if (b == NULL)
            return UTXO_ERR_NOMEM;
        memset(&c, 0, sizeof c);
        memcpy(c.outpoint.txid, gtxid, UTXO_HASH_BYTES);
        c.outpoint.index = (uint32_t)i;
        c.output.value = NB_ALLOC_VALUE;
        memcpy(c.output.predicate_id, k->id[w], UTXO_HASH_BYTES);
        c.image = k->img[w];
        c.image_len = k->img_len[w];
        if ((rc = utxo_builder_add_input(b, &c, NULL)) == UTXO_OK &&
            (rc = utxo_builder_add_output(b, NB_PAY_VALUE, k->id[to], NULL, 0)) == UTXO_OK &&
            (rc = utxo_builder_set_change(b, k->id[w])) == UTXO_OK &&
            (rc = utxo_builder_finalize(b)) == UTXO_OK &&
            (rc = utxo_builder_sign(b, k->sk[w], NULL)) == UTXO_OK)
            rc = utxo_builder_get_tx(b, &txs[i]);
        utxo_builder_free(b);
        if (rc != UTXO_OK)
            return rc;
        raw_len[i] = utxo_tx_get_length(txs[i], true);
        if ((raw[i] = malloc(raw_len[i])) == NULL)
            return UTXO_ERR_NOMEM;
        if ((rc = utxo_tx_to_bytes(txs[i], raw[i], raw_len[i], &raw_len[i])) != UTXO_OK)
            return rc;
    }
    return UTXO_OK;
}

/* Copies the chain directory files a sequencer opens (key mode 0600). */
static int copy_chain(const char *from, const char *to)
{
    static const char *const names[] = {CHAIN_BLOCKS_FILE, CHAIN_PROOFS_FILE, CHAIN_KEY_FILE};
    char a[PATH_MAX], b[PATH_MAX];

    if (mkdir(to, 0700) != 0) {
        errorf("bench node: mkdir %s: %s", to, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        uint8_t *buf = NULL;
        size_t len = 0;
        int rc;

        snprintf(a, sizeof a, "%s/%s", from, names[i]);
        snprintf(b, sizeof b, "%s/%s", to, names[i]);
        if (read_file(a, SIZE_MAX, &buf, &len) != 0)
            return -1;
        rc = write_file(b, buf, len);
        free(buf);
        if (rc != 0 || chmod(b, 0600) != 0)
            return -1;
    }
    return 0;
}

static int journal_none(void *ud, const utxo_tx *tx)
{
    (void)ud;
    (void)tx;
    return UTXO_OK;
}

/* The baseline of post_ratio, in this process on the copy dir: *mp_ns the
 * time of chain_seq_submit for txs[0..n) (each must be accepted), *j_ns
 * the time of chain_journal_add for the same (the node's sync per
 * transaction). The sequencer is closed without committing. */
static int mempool_rate(const char *dir, utxo_tx *const *txs, size_t n, uint64_t *mp_ns,
                        uint64_t *j_ns)
{
    chain_seq *s = NULL;
    chain_journal *j = NULL;
    char msg[512] = "", jpath[PATH_MAX];
    uint64_t t0;
    int rc;

    if ((rc = chain_seq_open(&s, dir, NULL, 0, 0, msg, sizeof msg)) != UTXO_OK) {
        errorf("bench node: the sequencer on %s: %s", dir, msg[0] ? msg : utxo_strerror(rc));
        return rc;
    }
    t0 = clock_now_ns();
    for (size_t i = 0; i < n; i++) {
        utxo_verdict vd;
        memset(&vd, 0, sizeof vd);
        if ((rc = chain_seq_submit(s, txs[i], &vd)) != UTXO_OK) {
            errorf("bench node: the mempool refused payment %zu: %s (input %u)", i,
                   utxo_strerror(rc), (unsigned)vd.input);
            goto done;
        }
    }
    *mp_ns = clock_now_ns() - t0;
    snprintf(jpath, sizeof jpath, "%s/mempool.journal", dir);
    if ((rc = chain_journal_open(&j, jpath, chain_seq_params(s), journal_none, NULL, NULL, NULL,
                                 msg, sizeof msg)) != UTXO_OK) {
        errorf("bench node: the journal %s: %s", jpath, msg[0] ? msg : utxo_strerror(rc));
        goto done;
    }
    t0 = clock_now_ns();
    for (size_t i = 0; i < n; i++)
        if ((rc = chain_journal_add(j, txs[i])) != UTXO_OK) {
            errorf("bench node: the journal %s: %s", jpath, afile_errtext(errno));
            goto done;
        }
    *j_ns = clock_now_ns() - t0;
done:
    chain_journal_close(j);
    (void)chain_seq_close(s, false);
    return rc;
}

/* POSTs raw[0..n) to url/tx from `posters` connections at once, driven by
 * one thread (libcurl's multi interface: the load generator shares this
 * machine's cores with the node, so it spends as little as it can), each
 * connection taking the next payment as soon as its last one is answered;
 * *ns the time until the last answer. Each must be answered 200, and
 * /mempool must then hold all n. Before, on one connection (which warms
 * the server), n GET /params: *rtt_ns their time, the HTTP round trip with
 * next to no work behind it. 0, or -1 after a message. */
static int post_all(const char *url, uint8_t *const *raw, const size_t *raw_len, size_t n,
                    unsigned posters, uint64_t *ns, uint64_t *rtt_ns)
{
    char u[NB_URL_MAX + 16], pu[NB_URL_MAX + 16];
    body b, *pb = calloc(posters, sizeof *pb);
    CURL *h = http_handle(&b), **ph = calloc(posters, sizeof *ph);
    size_t *at = calloc(posters, sizeof *at); /* the payment each handle posts */
    CURLM *m = curl_multi_init();
    struct curl_slist *hd = NULL, *h2;
    size_t next = 0, done = 0;
    uint64_t t0;
    int ret = -1, running = 0;

    if (h == NULL || pb == NULL || ph == NULL || at == NULL || m == NULL ||
        (hd = curl_slist_append(NULL, "Content-Type: application/octet-stream")) == NULL ||
        (h2 = curl_slist_append(hd, "Expect:")) == NULL) { /* no 100-continue round trip */
        errorf("bench node: out of memory");
        goto out;
    }
    hd = h2;
    snprintf(u, sizeof u, "%s/params", url);
    t0 = clock_now_ns();
    for (size_t i = 0; i < n; i++) {
        long st = http_get(h, &b, u);
        if (st != 200) {
            if (st > 0)
                errorf("bench node: GET %s: HTTP %ld %s", u, st, b.head);
            goto out;
        }
    }
    *rtt_ns = clock_now_ns() - t0;
    snprintf(pu, sizeof pu, "%s/tx", url);
    t0 = clock_now_ns();
    for (unsigned c = 0; c < posters && next < n; c++) {
        if ((ph[c] = http_handle(&pb[c])) == NULL) {
            errorf("bench node: out of memory");
            goto out;
        }
        curl_easy_setopt(ph[c], CURLOPT_URL, pu);
        curl_easy_setopt(ph[c], CURLOPT_HTTPHEADER, hd);
        curl_easy_setopt(ph[c], CURLOPT_PRIVATE, (void *)(uintptr_t)c);
        at[c] = next++;
        curl_easy_setopt(ph[c], CURLOPT_POSTFIELDS, (const char *)raw[at[c]]);
        curl_easy_setopt(ph[c], CURLOPT_POSTFIELDSIZE, (long)raw_len[at[c]]);
        curl_multi_add_handle(m, ph[c]);
    }
    while (done < n) {
        CURLMsg *msg;
        int left, again = 0;
        if (curl_multi_perform(m, &running) != CURLM_OK) {
            errorf("bench node: the POST clients failed");
            goto out;
        }
        while ((msg = curl_multi_info_read(m, &left)) != NULL) {
            void *priv = NULL;
            long status = 0;
            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&priv);
            unsigned c = (unsigned)(uintptr_t)priv;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            if (msg->data.result != CURLE_OK || status != 200) {
                errorf("bench node: POST %s (payment %zu): %s", pu, at[c],
                       msg->data.result != CURLE_OK ? curl_easy_strerror(msg->data.result)
                                                    : pb[c].head);
                goto out;
            }
            done++;
            curl_multi_remove_handle(m, ph[c]);
            if (next < n) { /* the same connection takes the next payment */
                at[c] = next++;
                memset(&pb[c], 0, sizeof pb[c]);
                curl_easy_setopt(ph[c], CURLOPT_POSTFIELDS, (const char *)raw[at[c]]);
                curl_easy_setopt(ph[c], CURLOPT_POSTFIELDSIZE, (long)raw_len[at[c]]);
                curl_multi_add_handle(m, ph[c]);
                again = 1; /* start it at once, not after a poll */
            }
        }
        if (!again && done < n && curl_multi_poll(m, NULL, 0, 1000, NULL) != CURLM_OK) {
            errorf("bench node: the POST clients failed");
            goto out;
        }
    }
    *ns = clock_now_ns() - t0;
    snprintf(u, sizeof u, "%s/mempool", url);
    {
        /* the mempool holds every payment */
        unsigned long long held = 0;
        const char *q;
        if (http_get(h, &b, u) != 200 || (q = strstr(b.head, "\"count\":")) == NULL ||
            sscanf(q + 8, "%llu", &held) != 1 || held != n) {
            errorf("bench node: after %zu payments /mempool answered %s", n, b.head);
            goto out;
        }
    }
    ret = 0;
out:
    for (unsigned c = 0; ph != NULL && c < posters; c++) {
        if (ph[c] != NULL) {
            if (m != NULL)
                curl_multi_remove_handle(m, ph[c]);
            curl_easy_cleanup(ph[c]);
        }
    }
    if (m != NULL)
        curl_multi_cleanup(m);
    curl_slist_free_all(hd);
    if (h)
        curl_easy_cleanup(h);
    free(pb);
    free(ph);
    free(at);
    return ret;
}

/* ---- proof latency -------------------------------------------------------- */

typedef struct proof_job {
    char (*urls)[NB_URL_MAX + 96]; /* candidates, shared, read-only */
    size_t n_urls;
    unsigned first;       /* this client's first candidate */
    unsigned reqs;
    uint64_t *lat;        /* reqs latencies (ns), this client's own slice */
    long bad_status;      /* first status other than 200, 0 if none */
    int failed;           /* a transport error (message printed) */
} proof_job;

static void *proof_client(void *arg)
{
    proof_job *j = arg;
    body b;
    CURL *h = http_handle(&b);

    if (h == NULL) {
        j->failed = 1;
        return NULL;
    }
    for (unsigned i = 0; i < j->reqs; i++) {
        const char *u = j->urls[(j->first + i) % j->n_urls];
        uint64_t t0 = clock_now_ns();
        long st = http_get(h, &b, u);

        j->lat[i] = clock_now_ns() - t0;
        if (st < 0) {
            j->failed = 1;
            break;
        }
        if (st != 200 && j->bad_status == 0)
            j->bad_status = st;
    }
    curl_easy_cleanup(h);
    return NULL;
}

/* The outpoints of the last NB_TAIL_BLOCKS blocks of the block file at
 * path, as proof URLs on url, that the node says are unspent (200);
 * *n their count. 0, or -1 after a message. */
static int proof_candidates(const char *path, const char *url, char (*urls)[NB_URL_MAX + 96],
                            size_t *n, uint32_t blocks)
{
    utxo_chainfile *cf = NULL;
    utxo_params p;
    body b;
    CURL *h = NULL;
    size_t m = 0;
    uint32_t height = 0;
    int rc, ret = -1;

    *n = 0;
    if ((rc = utxo_chainfile_open(&cf, path, UTXO_CHAINFILE_BLOCKS, &p, NULL)) != UTXO_OK) {
        errorf("bench node: %s: %s", path, utxo_strerror(rc));
        return -1;
    }
    for (;; height++) {
        uint8_t *rec = NULL;
        size_t len = 0;
        utxo_block *blk = NULL;

        if ((rc = utxo_chainfile_next(cf, &rec, &len, NULL)) != UTXO_OK || rec == NULL)
            break;
        if (height + NB_TAIL_BLOCKS >= blocks &&
            (rc = utxo_block_from_bytes(&blk, rec, len, &p, NULL)) == UTXO_OK) {
            for (uint32_t t = 0; t < blk->n_txs && m < NB_MAX_CANDIDATES; t++) {
                uint8_t txid[UTXO_HASH_BYTES];
                char hex[2 * UTXO_HASH_BYTES + 1];
                utxo_tx_txid(blk->txs[t], txid);
                hex_encode(hex, txid, sizeof txid);
                for (uint32_t o = 0; o < blk->txs[t]->n_outputs && m < NB_MAX_CANDIDATES; o++)
                    snprintf(urls[m++], sizeof urls[0], "%s/proof/%s:%u", url, hex, o);
            }
        }
        utxo_block_free(blk);
        free(rec);
        if (rc != UTXO_OK)
            break;
    }
    (void)utxo_chainfile_close(cf);
    if (rc != UTXO_OK) {
        errorf("bench node: %s: block %u: %s", path, height, utxo_strerror(rc));
        return -1;
    }
    /* keep the unspent ones (a spent or unknown output answers 404) */
    if ((h = http_handle(&b)) == NULL) {
        errorf("bench node: out of memory");
        return -1;
    }
    for (size_t i = 0; i < m; i++) {
        long st = http_get(h, &b, urls[i]);
        if (st < 0)
            goto done;
        if (st == 200) {
            if (*n != i)
                memcpy(urls[*n], urls[i], sizeof urls[0]);
            ++*n;
        } else if (st != 404) {
            errorf("bench node: GET %s: HTTP %ld %s", urls[i], st, b.head);
            goto done;
        }
    }
    if (*n == 0) {
        errorf("bench node: no unspent output among the last %u blocks' to ask proofs of",
               NB_TAIL_BLOCKS);
        goto done;
    }
    ret = 0;
done:
    curl_easy_cleanup(h);
    return ret;
}

/* clients threads x reqs GET /proof on urls[0..n); *p50 and *p99 (ns). */
static int proof_latency(char (*urls)[NB_URL_MAX + 96], size_t n, unsigned clients, unsigned reqs,
                         uint64_t *p50, uint64_t *p99)
{
    size_t total = (size_t)clients * reqs;
    uint64_t *lat = calloc(total, sizeof *lat);
    proof_job *jobs = calloc(clients, sizeof *jobs);
    pthread_t *th = calloc(clients, sizeof *th);
    unsigned started = 0;
    int ret = -1;

    if (lat == NULL || jobs == NULL || th == NULL) {
        errorf("bench node: out of memory");
        goto done;
    }
    for (unsigned c = 0; c < clients; c++) {
        jobs[c] = (proof_job){urls, n, (unsigned)(((size_t)c * reqs) % n), reqs,
                              lat + (size_t)c * reqs, 0, 0};
        if (pthread_create(&th[c], NULL, proof_client, &jobs[c]) != 0) {
            errorf("bench node: cannot start client thread %u", c);
            break;
        }
        started++;
    }
    for (unsigned c = 0; c < started; c++)
        pthread_join(th[c], NULL);
    if (started < clients)
        goto done;
    for (unsigned c = 0; c < clients; c++) {
        if (jobs[c].failed)
            goto done;
        if (jobs[c].bad_status != 0) {
            errorf("bench node: GET /proof answered HTTP %ld (client %u)", jobs[c].bad_status, c);
            goto done;
        }
    }
    qsort(lat, total, sizeof *lat, cmp_u64);
    *p50 = lat[(total - 1) * 50 / 100];
    *p99 = lat[(total - 1) * 99 / 100];
    ret = 0;
done:
    free(lat);
    free(jobs);
    free(th);
    return ret;
}

/* ---- the benchmark -------------------------------------------------------- */

int bench_node(int argc, char **argv)
{
    uint64_t blocks = 200, txpb = 20, ntx = 1000, clients = 32, reqs = 50, repeat = 3, posters = 32;
    num_opt nums[] = {
        {"--blocks", &blocks, 2, 100000, false}, {"--tx-per-block", &txpb, 1, 5000, false},
        {"--txs", &ntx, 1, 1024, false},         {"--clients", &clients, 1, 256, false},
        {"--requests", &reqs, 1, 10000, false}, {"--repeat", &repeat, 1, 100, false},
        {"--posters", &posters, 1, 64, false},
    };
    static const struct option opts[] = {
        {"blocks", required_argument, NULL, CLI_NUM}, {"tx-per-block", required_argument, NULL, CLI_NUM},
        {"txs", required_argument, NULL, CLI_NUM},    {"clients", required_argument, NULL, CLI_NUM},
        {"requests", required_argument, NULL, CLI_NUM}, {"repeat", required_argument, NULL, CLI_NUM},
        {"posters", required_argument, NULL, CLI_NUM},
        CLI_HELP_OPTION, {NULL, 0, NULL, 0},
    };
    cli cl = CLI_INIT("bench node", node_bench_usage, "", opts);
    /* the scratch directory's name is short, so the paths under it fit */
    char dir[PATH_MAX / 4], self[PATH_MAX], gdir[PATH_MAX / 2], gblocks[PATH_MAX / 2],
        gproofs[PATH_MAX / 2], state[PATH_MAX / 2], pdir[PATH_MAX / 2], pcopy[PATH_MAX / 2],
        out[PATH_MAX / 2],
        msg[512] = "", r[3][32], ms[6][32];
    char (*urls)[NB_URL_MAX + 96] = NULL;
    bnode na = {0}, nb = {0};
    keyset *keys = NULL;
    utxo_tx **txs = NULL;
    uint8_t **raw = NULL, gtxid[UTXO_HASH_BYTES];
    size_t *raw_len = NULL, n_urls = 0;
    chain_alloc *allocs = NULL;
    gen_opts o;
    gen_stats st;
    utxo_params p, pp;
    uint64_t t_verify = UINT64_MAX, t_follow = UINT64_MAX, t_mp = 0, t_j = 0, t_post = 0;
    uint64_t p50 = 0, p99 = 0, t_rtt = 0;
    bool have_dir = false, curl_up = false;
    ssize_t sl;
    int rc, ex = EXIT_USAGE;

    if ((rc = cli_nums_only(&cl, argc, argv, nums, sizeof nums / sizeof nums[0], 0, 0, "")) >= 0)
        return rc;
    if ((sl = readlink("/proc/self/exe", self, sizeof self - 1)) <= 0) {
        errorf("bench node: cannot find this program (/proc/self/exe): %s", strerror(errno));
        return EXIT_USAGE;
    }
    self[sl] = '\0';
    if (scratch_dir(dir, sizeof dir, "bench node", "utxo-bench-node") != 0)
        return EXIT_USAGE;
    have_dir = true;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        errorf("bench node: libcurl did not initialise");
        goto out;
    }
    curl_up = true;
    snprintf(gdir, sizeof gdir, "%s/chain", dir);
    snprintf(gblocks, sizeof gblocks, "%s/chain/" CHAIN_BLOCKS_FILE, dir);
    snprintf(gproofs, sizeof gproofs, "%s/chain/" CHAIN_PROOFS_FILE, dir);
    snprintf(state, sizeof state, "%s/follow.state", dir);
    snprintf(pdir, sizeof pdir, "%s/seq", dir);
    snprintf(pcopy, sizeof pcopy, "%s/seq-copy", dir);

    /* 1. the history (utxo gen's code) */
    gen_opts_default(&o);
    o.blocks = (uint32_t)blocks;
    o.tx_per_block = (uint32_t)txpb;
    if ((rc = gen_run(gdir, &o, &st, NULL, NULL, msg, sizeof msg)) != UTXO_OK) {
        errorf("bench node: generating the history: %s", msg[0] ? msg : utxo_strerror(rc));
        goto out;
    }

    /* 2. the sequencer chain, its payments, and the mempool's own rate */
    keys = malloc(sizeof *keys);
    allocs = calloc(ntx, sizeof *allocs);
    txs = calloc(ntx, sizeof *txs);
    raw = calloc(ntx, sizeof *raw);
    raw_len = calloc(ntx, sizeof *raw_len);
    urls = calloc(NB_MAX_CANDIDATES, sizeof *urls);
    if (!keys || !allocs || !txs || !raw || !raw_len || !urls) {
        errorf("bench node: out of memory");
        goto out;
    }
    if ((rc = keys_make(keys)) != UTXO_OK) {
        errorf("bench node: keys: %s", utxo_strerror(rc));
        goto out;
    }
    for (size_t i = 0; i < ntx; i++) {
        memcpy(allocs[i].id, keys->id[i % NB_KEYS], UTXO_HASH_BYTES);
        allocs[i].value = NB_ALLOC_VALUE;
    }
    {
        uint8_t seed[32];
        char path[PATH_MAX];

        memset(seed, 0x5a, sizeof seed);
        utxo_params_default(&pp);
        rc = chain_genesis(pdir, &pp, seed, allocs, ntx, &p, msg, sizeof msg);
        sodium_memzero(seed, sizeof seed);
        if (rc != UTXO_OK) {
            errorf("bench node: genesis: %s", msg[0] ? msg : utxo_strerror(rc));
            goto out;
        }
        snprintf(path, sizeof path, "%s/" CHAIN_BLOCKS_FILE, pdir);
        if ((rc = genesis_txid(path, gtxid)) != UTXO_OK) {
            errorf("bench node: reading the genesis of %s: %s", path, utxo_strerror(rc));
            goto out;
        }
    }
    if ((rc = payments_make(keys, &p, gtxid, ntx, txs, raw, raw_len)) != UTXO_OK) {
        errorf("bench node: building the payments: %s", utxo_strerror(rc));
        goto out;
    }
    if (copy_chain(pdir, pcopy) != 0)
        goto out;
    if ((rc = mempool_rate(pcopy, txs, ntx, &t_mp, &t_j)) != UTXO_OK) {
        ex = rc == UTXO_ERR_IO ? EXIT_USAGE : EXIT_INVALID;
        goto out;
    }

    /* 3. verify vs follow, interleaved; then proof latency on the same node */
    snprintf(out, sizeof out, "%s/node-chain.out", dir);
    if (node_start(&na, self, gdir, out) != 0)
        goto out;
    for (uint64_t k = 0; k < repeat; k++) {
        char *vargs[] = {"utxo", "verify", "--quiet", "--chain", gblocks, "--proofs", gproofs, NULL};
        char *fargs[] = {"utxo", "follow", na.url, "--state", state, "--once", "--quiet", NULL};
        char tip[PATH_MAX];
        uint64_t t;

        if ((rc = run_timed(self, vargs, "utxo verify", &t)) != 0) {
            ex = rc == 1 ? EXIT_INVALID : EXIT_USAGE;
            goto out;
        }
        t_verify = t < t_verify ? t : t_verify;
        snprintf(tip, sizeof tip, "%s.tip", state);
        unlink(state); /* from genesis every time */
        unlink(tip);
        if ((rc = run_timed(self, fargs, "utxo follow", &t)) != 0) {
            ex = rc == 1 ? EXIT_INVALID : EXIT_USAGE;
            goto out;
        }
        t_follow = t < t_follow ? t : t_follow;
    }
    if (proof_candidates(gblocks, na.url, urls, &n_urls, (uint32_t)blocks) != 0 ||
        proof_latency(urls, n_urls, (unsigned)clients, (unsigned)reqs, &p50, &p99) != 0)
        goto out;
    if (node_stop(&na) != 0) {
        errorf("bench node: the node on %s did not exit cleanly", gdir);
        goto out;
    }

    /* 4. POST /tx to a sequencer node */
    snprintf(out, sizeof out, "%s/node-seq.out", dir);
    if (node_start(&nb, self, pdir, out) != 0 ||
        post_all(nb.url, raw, raw_len, ntx, (unsigned)posters, &t_post, &t_rtt) != 0)
        goto out;
    if (node_stop(&nb) != 0) {
        errorf("bench node: the sequencer node on %s did not exit cleanly", pdir);
        goto out;
    }

    printf("bench node follow_ratio=%s post_ratio=%s proof_p50_ms=%s proof_p99_ms=%s "
           "node_peak_rss_kib=%llu blocks=%llu chain_txs=%llu verify_ms=%s follow_ms=%s "
           "posts=%llu post_per_s=%llu mempool_per_s=%llu journal_per_s=%llu "
           "post_ms=%s mempool_ms=%s journal_share=%s http_rtt_us=%llu clients=%llu requests=%llu posters=%llu "
           "candidates=%zu follow_node_rss_kib=%llu seq_node_rss_kib=%llu repeat=%llu "
           "follow_goal=0.8 post_goal=0.5\n",
           fmt_ratio(r[0], sizeof r[0], t_verify, t_follow),
           fmt_ratio(r[1], sizeof r[1], t_mp, t_post), fmt_ms(ms[0], sizeof ms[0], p50),
           fmt_ms(ms[1], sizeof ms[1], p99),
           (unsigned long long)(na.peak_kib > nb.peak_kib ? na.peak_kib : nb.peak_kib),
           (unsigned long long)blocks, (unsigned long long)st.txs,
           fmt_ms(ms[2], sizeof ms[2], t_verify), fmt_ms(ms[3], sizeof ms[3], t_follow),
           (unsigned long long)ntx, per_s(ntx, t_post), per_s(ntx, t_mp), per_s(ntx, t_j),
           fmt_ms(ms[4], sizeof ms[4], t_post), fmt_ms(ms[5], sizeof ms[5], t_mp),
           fmt_ratio(r[2], sizeof r[2], t_j, t_post),
           (unsigned long long)(t_rtt / ntx / 1000), (unsigned long long)clients,
           (unsigned long long)reqs, (unsigned long long)posters, n_urls, (unsigned long long)na.peak_kib,
           (unsigned long long)nb.peak_kib, (unsigned long long)repeat);
    ex = EXIT_VALID;
out:
    (void)node_stop(&na);
    (void)node_stop(&nb);
    if (curl_up)
        curl_global_cleanup();
    for (size_t i = 0; txs && i < ntx; i++)
        utxo_tx_free(txs[i]);
    for (size_t i = 0; raw && i < ntx; i++)
        free(raw[i]);
    if (keys)
        sodium_memzero(keys, sizeof *keys);
    free(keys);
    free(allocs);
    free(txs);
    free(raw);
    free(raw_len);
    free(urls);
    if (have_dir)
        remove_tree(dir);
    return ex;
}
