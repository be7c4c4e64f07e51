/*
 * cmd_node.c — `utxo node`: a chain directory served over HTTP
 * (docs/API.md), first piece of issue 14: the read-only API over the
 * directory's store.
 *
 *   utxo node --datadir DIR [--listen ADDR:PORT] [--max-connections N] [--max-per-ip N]
 *             [--timeout S] [--log FILE] [-v] [-q] [--upstream URL [--poll S]]
 *
 * DIR is a chain directory (utxo gen / utxo genesis: a block file `blocks`
 * and its proof file). At start the node opens DIR/node.db (created on
 * first start, holding the store's writer lock while it runs: a second
 * node on DIR exits 2 "in use by pid N") and replays into it the blocks of
 * DIR/blocks it does not hold yet. Then it serves, until SIGTERM or
 * SIGINT:
 *
 *   GET /status                  tip, accumulator, UTXO set, version
 *   GET /block/H                 a block's header and txids (JSON)
 *   GET /block/H/raw             its encoding (utxo_block_to_bytes)
 *   GET /block/H/proof           its proof bundle (the stateless validator's input)
 *   GET /params                  the chain's consensus parameters (encoded)
 *   GET /roots/H                 the accumulator after block H
 *   GET /blocks?from=H&count=N   blocks H.. with their bundles, streamed as
 *                                block-file / proof-file records, alternating
 *   GET /utxos/ID                unspent outputs of predicate id ID (hex) or address
 *   GET /proof/TXID:INDEX        a current accumulator proof of an unspent output
 *   GET /tx/TXID                 a transaction's block, place and encoding
 *   GET /events?after=H&wait=S   the status once the tip is above H (a long
 *                                poll: the request is suspended meanwhile)
 *
 * With --upstream the node is a bridge: a thread follows another node
 * (nodeclient.h), applies each block to the store with full validation,
 * checks the upstream's bundle against its own, and wakes /events; an
 * invalid block stops following, with the valid tip kept.
 * Everything else is a 4xx with a JSON body {"code": N, "message": "..."}
 * (404 unknown path or height, 400 malformed numbers or ids, 405 a method
 * other than GET or HEAD, 413 a request body). libmicrohttpd serves with
 * one internal thread; the store is shared with the bridge thread under
 * a mutex. A connection limit (in all, and per client address with
 * --max-per-ip), an idle timeout and a deadline for each request's head
 * and body bound what clients can hold.
 *
 * With the sequencer key in DIR (and no --upstream) the node is the
 * chain's sequencer: POST /tx into the mempool (journaled, group-committed
 * before the answer), GET /mempool, a block sealed every --seal-interval
 * seconds while there is work (files first, then the store), and the
 * admin actions POST /admin/seal and /admin/stop behind DIR/.cookie.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include "utxo.h"
#include "utxo/clock.h"
#include "chain/chain.h"
#include "utxo/atomicfile.h"
#include "commands.h"
#include "json.h"
#include "client/nodeclient.h"
#include "ratelimit.h"
#include "util.h"

#define NODE_DEFAULT_PORT 8750u
#define NODE_MAX_COUNT 500u       /* blocks per /blocks request */
#define NODE_MAX_UTXOS 10000u     /* outputs per /utxos answer */
#define NODE_UTXOS_BYTES (1u << 20) /* and about this many bytes (datums inline) */
#define NODE_UTXO_COUNTS 8u       /* ids whose /utxos count and total are kept */
#define NODE_MAX_MEMPOOL_IDS 1000u /* txids listed by /mempool */
#define NODE_SEQ_PO2 18u          /* segment receipts in the proof file, as `utxo sequence` */
#define NODE_MAX_TX_CYCLES (UINT64_C(1) << 26) /* --max-tx-cycles default (a policy) */
#define NODE_CLIENT_CYCLES (UINT64_C(1) << 26) /* --client-cycles default: per second */
#define NODE_CLIENT_BURST 16u /* a client's allowance saves up to 16 seconds' worth */
#define NODE_FORWARD_QUEUE 64u    /* a bridge's POST /tx waiting for the upstream */
#define NODE_FORWARD_TIMEOUT 30u  /* seconds the upstream has to answer one */
#define NODE_SEALS_WAITING 16u    /* POST /admin/seal waiting for the sealing thread */
#define NODE_STOP_GRACE 2         /* seconds a stop waits for the requests begun */

struct req;
/* A POST /tx waiting for the mempool thread: its connection (suspended),
 * request state and decoded transaction; or a POST /admin/seal waiting for
 * the sealing thread (tx NULL). */
typedef struct pending {
    struct MHD_Connection *c;
    struct req *r;
    utxo_tx *tx;
} pending;

/* An /events request waiting for a new tip (suspended). */
typedef struct waiter {
    struct MHD_Connection *c;
} waiter;

/* The count and total of an id's unspent outputs at a tip. */
typedef struct utxo_count {
    uint8_t id[UTXO_HASH_BYTES];
    uint8_t tip[UTXO_HASH_BYTES]; /* utxo_store_info's tip_hash and n_blocks */
    uint32_t n_blocks;            /* (0: an unused entry) */
    uint64_t count, total;
} utxo_count;

typedef struct node {
    utxo_store *s;
    utxo_params p;
    /* The store is used by the serving thread and, in a bridge, by the
     * bridge thread: one at a time. */
    pthread_mutex_t lock;
    /* GET /utxos: the count and total of the last ids asked, under lock.
     * The aggregate reads each output's row (its value), so without these
     * paging through n outputs would read all n on every page. The node
     * is the store's only writer, and the unspent set is a function of
     * the tip (a block, a rollback or a lost group changes the tip hash),
     * so an entry of the same tip is exact. */
    utxo_count counts[NODE_UTXO_COUNTS];
    unsigned counts_next;        /* the entry to replace next */
    /* bridge role (--upstream) */
    const char *upstream;
    uint64_t poll_s;
    atomic_int stop;        /* set by the main thread at stop: read by every thread */
    char bridge_error[512]; /* why following stopped (invalid upstream data), or "" */
    bool upstream_checked;  /* the upstream's /params were found to be this chain's */
    const uint8_t *pin;     /* --chain-id: the only chain the bridge follows, or NULL */
    /* /events: suspended requests, resumed on a new tip and every second */
    pthread_mutex_t ev_lock;
    waiter *waiters;
    size_t n_waiters, cap_waiters;
    size_t in_flight;       /* requests begun and not yet answered or closed (stop
                               waits for them: idle_cond) */
    pthread_cond_t idle_cond;
    bool ev_closing;        /* stopping: /events answers at once, never suspends
                               (MHD_stop_daemon aborts on a suspended request) */
    /* sequencer role (DIR holds the sequencer key): the mempool, its
     * journal and the sealing thread. The mempool and the chain it
     * validates against are under seq_lock, which the mempool thread holds
     * while predicates run: the store's readers (lock) never wait on it.
     * Sealing holds seq_lock, and lock only while it applies its block
     * (chain_seq_set_store_lock): the order is seq_lock, then lock. */
    pthread_mutex_t seq_lock;
    chain_seq *seq;
    chain_journal *journal;
    uint64_t seal_s;
    uint64_t request_ns;    /* a request's headers and body must come within this (--timeout) */
    char seal_error[512];   /* why sealing stopped, or "" */
    pthread_cond_t seal_cond; /* wakes the sealing thread (stop, POST /admin/seal) */
    /* POST /admin/seal: suspended until the sealing thread seals a block
     * for each, in order, so that the HTTP thread never waits for a batch;
     * under lock */
    pending seal_asked[NODE_SEALS_WAITING];
    size_t n_seal_asked;
    /* group commit of the journal: POST /tx writes its record and waits
     * (suspended) until the syncing thread's next fdatasync covers it;
     * under jlock */
    pthread_mutex_t jlock;
    pthread_cond_t jcond;
    uint64_t j_written, j_synced; /* records written / known on disk */
    int j_failed;                 /* a sync failed: errno, for the answers */
    waiter *syncing;              /* the suspended POSTs */
    uint64_t *syncing_seq;
    size_t n_syncing, cap_syncing;
    int j_stop;                   /* the syncing thread ends once all is synced */
    uint8_t *jbuf;                /* records j_synced+1 .. j_written not yet written */
    size_t jlen, jcap;
    /* POST /tx waiting for the mempool thread (pool_main); under jlock */
    struct pending *q;
    size_t nq, capq;
    int q_stop;
    pthread_cond_t qcond;
    size_t mempool_count;         /* mp_count after the last change (answers) */
    /* what GET /mempool answers: the pool after the last batch or seal
     * (pool_publish), so that the HTTP thread never waits on seq_lock */
    uint64_t pool_bytes;
    size_t pool_ids_n;
    uint8_t pool_ids[NODE_MAX_MEMPOOL_IDS][UTXO_HASH_BYTES];
    /* admin actions: the token of DIR/.cookie */
    char cookie[2 * 32 + 1];
    const char *datadir;
    rl_table *rl;                 /* each client's allowance of refused work, or NULL */
    /* every open connection, for the deadline of a request's head
     * (conn_notify, conns_reap); under conn_lock */
    pthread_mutex_t conn_lock;
    struct conn_watch *conns;
    uint64_t max_tx_cycles;       /* --max-tx-cycles, at most the chain's: the most a
                                     refusal is charged for */
} node;

/* The log: stderr, or the file of --log (reopened on SIGHUP, for log
 * rotation); written from the serving thread and the main one. */
static struct {
    pthread_mutex_t lock;
    FILE *f;           /* NULL: stderr */
    const char *path;
    int verbose;
} G_LOG = {PTHREAD_MUTEX_INITIALIZER, NULL, NULL, 0};

/* "2026-12-04T05:06:07Z LEVEL message", one line, flushed. */
static void node_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void node_log(int level, const char *fmt, ...)
{
    static const char *const names[] = {"error", "info", "debug"};
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    va_list ap;

    if (level > G_LOG.verbose + 1)
        return;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    pthread_mutex_lock(&G_LOG.lock);
    FILE *out = G_LOG.f ? G_LOG.f : stderr;
    fprintf(out, "%s %s ", ts, names[level]);
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputc('\n', out);
    fflush(out);
    pthread_mutex_unlock(&G_LOG.lock);
}

/* libmicrohttpd's own error messages go to the log too (--log FILE), as
 * error lines, not straight to stderr. Clients choose how many there are
 * (each connection refused at --max-connections or --max-per-ip writes
 * one), so at most MHD_LOG_BURST are written in a MHD_LOG_WINDOW_S-second
 * window; the rest are counted, and the count is logged once the window
 * has passed (by the next message, or by the main loop: mhd_log_flush). */
#define MHD_LOG_BURST 20u
#define MHD_LOG_WINDOW_S 10
static struct {
    pthread_mutex_t lock;
    time_t window;        /* when the current window began */
    unsigned written;     /* lines written in it */
    uint64_t suppressed;  /* lines left out in it */
} G_MHD_LOG = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};

/* Under G_MHD_LOG.lock: starts a new window when the current one has
 * passed (or at once with force: at exit), logging what it left out. */
static void mhd_log_roll(time_t now, bool force)
{
    if (!force && now - G_MHD_LOG.window < MHD_LOG_WINDOW_S)
        return;
    if (G_MHD_LOG.suppressed > 0)
        node_log(0, "http: %" PRIu64 " more libmicrohttpd message%s not logged (at most %u "
                 "in %d s)", G_MHD_LOG.suppressed, G_MHD_LOG.suppressed == 1 ? "" : "s",
                 MHD_LOG_BURST, MHD_LOG_WINDOW_S);
    G_MHD_LOG.window = now;
    G_MHD_LOG.written = 0;
    G_MHD_LOG.suppressed = 0;
}

/* final: at exit, the count of the window not yet over too */
static void mhd_log_flush(bool final)
{
    pthread_mutex_lock(&G_MHD_LOG.lock);
    mhd_log_roll(time(NULL), final);
    pthread_mutex_unlock(&G_MHD_LOG.lock);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    size_t n;
    bool write;

    (void)cls;
    pthread_mutex_lock(&G_MHD_LOG.lock);
    mhd_log_roll(time(NULL), false);
    write = G_MHD_LOG.written < MHD_LOG_BURST;
    if (write)
        G_MHD_LOG.written++;
    else
        G_MHD_LOG.suppressed++;
    pthread_mutex_unlock(&G_MHD_LOG.lock);
    if (!write)
        return;
    vsnprintf(line, sizeof line, fmt, ap);
    n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = 0;
    node_log(0, "http: %s", line);
}

/* Opens (or reopens) the --log file for appending; 0, or -1 with errno. */
static int log_open(void)
{
    int fd = open(G_LOG.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    FILE *f = fd >= 0 ? fdopen(fd, "a") : NULL;
    if (!f) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        errno = e;
        return -1;
    }
    pthread_mutex_lock(&G_LOG.lock);
    FILE *old = G_LOG.f;
    G_LOG.f = f;
    pthread_mutex_unlock(&G_LOG.lock);
    if (old)
        fclose(old);
    return 0;
}

/* ---- the configuration file ---------------------------------------------------- */

/* What DIR/utxo.conf and the command line set; the command line wins. */
typedef struct node_conf {
    char listen[64];
    uint64_t max_conn, max_per_ip, timeout;
    int verbose;
    char log[4096];
    char upstream[4096];
    uint64_t poll, seal, max_tx_cycles, client_cycles;
    struct sockaddr_storage exempt[RL_EXEMPT_MAX]; /* --exempt-client, exempt-client */
    unsigned n_exempt;
    bool set_listen, set_max_conn, set_max_per_ip, set_timeout, set_verbose, set_log,
        set_upstream, set_poll, set_seal, set_max_tx_cycles, set_client_cycles;
} node_conf;

/* Adds ADDR (IPv4 or IPv6) to c's exempted clients; false when it is
 * not an address or RL_EXEMPT_MAX are there. */
static bool conf_exempt(node_conf *c, const char *v)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, v, &in->sin_addr) == 1)
        in->sin_family = AF_INET;
    else if (inet_pton(AF_INET6, v, &in6->sin6_addr) == 1)
        in6->sin6_family = AF_INET6;
    else
        return false;
    if (c->n_exempt == RL_EXEMPT_MAX)
        return false;
    c->exempt[c->n_exempt++] = ss;
    return true;
}

static bool conf_number(const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t x;
    if (!parse_u64(v, &x) || x < min || x > max)
        return false;
    *out = x;
    return true;
}

/* Reads DIR/utxo.conf when it exists: lines "key = value", '#' comments,
 * blank lines; keys listen, max-connections, timeout, log, upstream, poll, seal-interval, verbose (-1, 0,
 * 1). A key the command line set is left alone. EXIT_VALID, or EXIT_USAGE
 * after a message naming the line. */
static int conf_read(node_conf *c, const char *dir)
{
    char path[4200], line[4200];
    unsigned no = 0;
    FILE *f;

    snprintf(path, sizeof path, "%s/utxo.conf", dir);
    if ((f = fopen(path, "r")) == NULL) {
        if (errno == ENOENT)
            return EXIT_VALID;
        errorf("%s: %s", path, afile_errtext(errno));
        return EXIT_USAGE;
    }
    /* a NUL byte would end a line early for fgets: refuse it by name */
    for (size_t k, off = 0; (k = fread(line, 1, sizeof line, f)) > 0; off += k) {
        const char *z = memchr(line, '\0', k);
        if (z) {
            errorf("%s: a NUL byte at offset %zu: not a text file", path, off + (size_t)(z - line));
            goto bad;
        }
    }
    rewind(f);
    while (fgets(line, sizeof line, f)) {
        char *k = line, *eq, *v, *end;
        no++;
        if (!strchr(line, '\n') && !feof(f)) {
            errorf("%s:%u: line too long", path, no);
            goto bad;
        }
        while (*k == ' ' || *k == '\t')
            k++;
        if (*k == '#' || *k == '\n' || *k == 0)
            continue;
        if ((eq = strchr(k, '=')) == NULL) {
            errorf("%s:%u: not 'key = value'", path, no);
            goto bad;
        }
        for (end = eq; end > k && (end[-1] == ' ' || end[-1] == '\t'); end--)
            ;
        *end = 0;
        for (v = eq + 1; *v == ' ' || *v == '\t'; v++)
            ;
        for (end = v + strlen(v); end > v && strchr(" \t\r\n", end[-1]); end--)
            ;
        *end = 0;
        bool ok = true;
        if (strcmp(k, "listen") == 0) {
            if (!c->set_listen)
                ok = snprintf(c->listen, sizeof c->listen, "%s", v) < (int)sizeof c->listen;
        } else if (strcmp(k, "max-connections") == 0) {
            uint64_t x;
            ok = conf_number(v, 1, 10000, &x);
            if (ok && !c->set_max_conn)
                c->max_conn = x;
        } else if (strcmp(k, "max-per-ip") == 0) {
            uint64_t x;
            ok = conf_number(v, 0, 10000, &x);
            if (ok && !c->set_max_per_ip)
                c->max_per_ip = x;
        } else if (strcmp(k, "timeout") == 0) {
            uint64_t x;
            ok = conf_number(v, 1, 3600, &x);
            if (ok && !c->set_timeout)
                c->timeout = x;
        } else if (strcmp(k, "log") == 0) {
            ok = *v != 0 && strlen(v) < sizeof c->log;
            if (ok && !c->set_log)
                snprintf(c->log, sizeof c->log, "%s", v);
        } else if (strcmp(k, "upstream") == 0) {
            ok = *v != 0 && strlen(v) < sizeof c->upstream;
            if (ok && !c->set_upstream)
                snprintf(c->upstream, sizeof c->upstream, "%s", v);
        } else if (strcmp(k, "seal-interval") == 0) {
            uint64_t x;
            ok = conf_number(v, 1, 86400, &x);
            if (ok && !c->set_seal)
                c->seal = x;
        } else if (strcmp(k, "max-tx-cycles") == 0) {
            uint64_t x;
            ok = conf_number(v, 1, UINT64_MAX, &x);
            if (ok && !c->set_max_tx_cycles)
                c->max_tx_cycles = x;
        } else if (strcmp(k, "client-cycles") == 0) {
            uint64_t x;
            ok = conf_number(v, 0, RL_MAX_RATE, &x);
            if (ok && !c->set_client_cycles)
                c->client_cycles = x;
        } else if (strcmp(k, "exempt-client") == 0) {
            ok = conf_exempt(c, v);
        } else if (strcmp(k, "poll") == 0) {
            uint64_t x;
            ok = conf_number(v, 1, 3600, &x);
            if (ok && !c->set_poll)
                c->poll = x;
        } else if (strcmp(k, "verbose") == 0) {
            ok = strcmp(v, "-1") == 0 || strcmp(v, "0") == 0 || strcmp(v, "1") == 0;
            if (ok && !c->set_verbose)
                c->verbose = atoi(v);
        } else {
            errorf("%s:%u: unknown key '%s' (listen, max-connections, max-per-ip, timeout, log, "
                   "verbose, upstream, poll, seal-interval, max-tx-cycles, client-cycles, "
                   "exempt-client)",
                   path, no, k);
            goto bad;
        }
        if (!ok) {
            errorf("%s:%u: bad value for %s: '%s'", path, no, k, v);
            goto bad;
        }
    }
    if (ferror(f)) {
        errorf("%s: %s", path, afile_errtext(errno));
        goto bad;
    }
    fclose(f);
    return EXIT_VALID;
bad:
    fclose(f);
    return EXIT_USAGE;
}

/* ---- responses ------------------------------------------------------------- */

/* Sends buf (taken) with Content-Type type, and header hname: hval when
 * hname is not NULL. */
static enum MHD_Result send_buf_hdr(struct MHD_Connection *c, unsigned status, const char *type,
                                    void *buf, size_t len, const char *hname, const char *hval)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(buf);
        return MHD_NO;
    }
    (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (hname != NULL)
        (void)MHD_add_response_header(r, hname, hval);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_buf(struct MHD_Connection *c, unsigned status, const char *type,
                                void *buf, size_t len)
{
    return send_buf_hdr(c, status, type, buf, len, NULL, NULL);
}

/* Sends j (stolen) as the body, with a header as send_buf_hdr. */
static enum MHD_Result send_json_hdr(struct MHD_Connection *c, unsigned status, json_t *j,
                                     const char *hname, const char *hval)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text)
        return MHD_NO;
    size_t n = strlen(text);
    char *body = realloc(text, n + 2);
    if (!body) {
        free(text);
        return MHD_NO;
    }
    body[n] = '\n';
    body[n + 1] = 0;
    return send_buf_hdr(c, status, "application/json", body, n + 1, hname, hval);
}

/* Sends j (stolen) as the body. */
static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *j)
{
    return send_json_hdr(c, status, j, NULL, NULL);
}

/* Replaces every byte of s that is not printable ASCII with '?': a
 * client's path echoed in a message or a log line is then valid UTF-8
 * (JSON refuses anything else, and the connection would get no answer)
 * and carries no terminal control codes, whole or cut at any byte. */
static char *printable(char *s)
{
    for (char *q = s; *q; q++)
        if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e)
            *q = '?';
    return s;
}

/* {"code": code, "message": ...}; code is a utxo_err value or 0. */
static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, int code,
                                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, int code,
                                  const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return send_json(c, status, json_pack("{s:i, s:s}", "code", code, "message", printable(msg)));
}

/* The address of client c, or NULL. */
static const struct sockaddr *client_addr(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    return ci ? ci->client_addr : NULL;
}

/* 429 with Retry-After: the client spent its allowance of refused work
 * (ratelimit.h) and may POST /tx again in `wait` seconds. */
static enum MHD_Result send_busy(struct MHD_Connection *c, uint64_t wait)
{
    char msg[256], after[24];
    snprintf(msg, sizeof msg,
             "this client's transactions were refused for more cycles than its allowance "
             "(--client-cycles): try again in %" PRIu64 " s",
             wait);
    snprintf(after, sizeof after, "%" PRIu64, wait);
    return send_json_hdr(c, MHD_HTTP_TOO_MANY_REQUESTS,
                         json_pack("{s:i, s:s}", "code", 0, "message", msg),
                         MHD_HTTP_HEADER_RETRY_AFTER, after);
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
    char buf[2 * 64 + 1];
    if (n > 64)
        return NULL;
    sodium_bin2hex(buf, sizeof buf, p, n);
    return json_string(buf);
}

/* ---- parsing ---------------------------------------------------------------- */

/* ---- endpoints ------------------------------------------------------------ */

static enum MHD_Result get_status(node *n, struct MHD_Connection *c)
{
    utxo_store_info info;
    utxo_store_get_info(n->s, &info);
    json_t *j = json_pack("{s:o, s:o, s:I, s:o, s:I, s:I, s:I, s:s, s:s, s:o}",
                          "height", info.n_blocks ? json_integer(info.n_blocks - 1) : json_null(),
                          "tip", hex_json(info.tip_hash, UTXO_HASH_BYTES),
                          "leaves", (json_int_t)info.leaf_count,
                          "roots_digest", hex_json(info.acc_digest, UTXO_HASH_BYTES),
                          "utxos", (json_int_t)info.n_utxos,
                          "total_value", (json_int_t)info.total_value,
                          "txs", (json_int_t)info.n_txs,
                          "role", n->upstream ? "bridge" : n->seq ? "sequencer" : "server",
                          "version", utxo_version(),
                          "chain_id", hex_json(n->p.chain_id, UTXO_HASH_BYTES));
    if (j) {
        pthread_mutex_lock(&n->jlock);
        size_t held = n->mempool_count;
        pthread_mutex_unlock(&n->jlock);
        json_object_set_new(j, "mempool", json_integer(n->seq ? (json_int_t)held : 0));
        if (n->seq)
            json_object_set_new(j, "seal_error",
                                n->seal_error[0] ? json_string(n->seal_error) : json_null());
    }
    if (j && n->upstream) {
        pthread_mutex_lock(&n->ev_lock);
        json_object_set_new(j, "upstream", json_string(n->upstream));
        json_object_set_new(j, "following", json_boolean(n->bridge_error[0] == 0));
        json_object_set_new(j, "bridge_error",
                            n->bridge_error[0] ? json_string(n->bridge_error) : json_null());
        pthread_mutex_unlock(&n->ev_lock);
    }
    return send_json(c, MHD_HTTP_OK, j);
}

static enum MHD_Result no_block(node *n, struct MHD_Connection *c, uint32_t h, int rc)
{
    utxo_store_info info;
    utxo_store_get_info(n->s, &info);
    if (rc == UTXO_ERR_STORE_HEIGHT || h >= info.n_blocks)
        return send_error(c, MHD_HTTP_NOT_FOUND, UTXO_ERR_STORE_HEIGHT,
                          "no block at height %" PRIu32 " (the tip is at %s%" PRIu32 ")", h,
                          info.n_blocks ? "" : "none: ", info.n_blocks ? info.n_blocks - 1 : 0);
    node_log(0, "block %" PRIu32 ": %s (%s)", h, utxo_strerror(rc), utxo_store_errmsg(n->s));
    return send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, rc, "block %" PRIu32 ": %s", h,
                      utxo_strerror(rc));
}

static enum MHD_Result get_block(node *n, struct MHD_Connection *c, uint32_t h, int form)
{
    utxo_block *b = NULL;
    uint8_t *bytes = NULL, hash[UTXO_HASH_BYTES];
    size_t len = 0;
    int rc;

    if (form == 2) { /* the proof bundle */
        if ((rc = utxo_store_get_bundle(n->s, h, &bytes, &len)) != UTXO_OK)
            return no_block(n, c, h, rc);
        return send_buf(c, MHD_HTTP_OK, "application/octet-stream", bytes, len);
    }
    if ((rc = utxo_store_get_block(n->s, h, form == 0 ? &b : NULL, form == 1 ? &bytes : NULL,
                                   &len)) != UTXO_OK)
        return no_block(n, c, h, rc);
    if (form == 1)
        return send_buf(c, MHD_HTTP_OK, "application/octet-stream", bytes, len);
    /* Written by the streaming writer, not jansson, whose integers are
     * signed 64-bit: the header's time is any u64 (docs/CHAIN.md, "Block
     * time"), and 2^64 - 1 came out as -1. */
    char *text = NULL;
    size_t tlen = 0;
    FILE *mf = open_memstream(&text, &tlen);
    json j;
    int bad = mf == NULL;
    if (mf != NULL) {
        jw_init(&j, mf, false);
        jw_begin_object(&j);
        jw_key(&j, "height");
        jw_u64(&j, b->header.height);
        utxo_header_hash(&b->header, hash);
        jw_key(&j, "hash");
        jw_hex(&j, hash, sizeof hash);
        jw_key(&j, "prev");
        jw_hex(&j, b->header.prev_hash, UTXO_HASH_BYTES);
        jw_key(&j, "time");
        jw_u64(&j, b->header.time);
        jw_key(&j, "tx_root");
        jw_hex(&j, b->header.tx_root, UTXO_HASH_BYTES);
        jw_key(&j, "roots_digest");
        jw_hex(&j, b->header.acc_digest, UTXO_HASH_BYTES);
        jw_key(&j, "version");
        jw_u64(&j, b->header.version);
        jw_key(&j, "txids");
        jw_begin_array(&j);
        for (uint32_t i = 0; i < b->n_txs; i++) {
            uint8_t id[UTXO_HASH_BYTES];
            utxo_tx_txid(b->txs[i], id);
            jw_hex(&j, id, sizeof id);
        }
        jw_end_array(&j);
        jw_end_object(&j);
        bad = jw_finish(&j) != 0; /* ends the text with its newline */
        bad |= fclose(mf) != 0;
    }
    utxo_block_free(b);
    if (bad) {
        free(text);
        return MHD_NO;
    }
    return send_buf(c, MHD_HTTP_OK, "application/json", text, tlen);
}

/* /blocks: a response generated block by block (bounded memory). */
typedef struct blocks_stream {
    node *n;
    uint32_t next, end;
    uint8_t *buf;       /* the current pair of records */
    size_t len, off;
} blocks_stream;

static ssize_t blocks_read(void *cls, uint64_t pos, char *out, size_t max)
{
    blocks_stream *bs = cls;
    (void)pos;
    while (bs->off == bs->len) {
        uint8_t *blk = NULL, *bun = NULL;
        size_t blen = 0, plen = 0;
        if (bs->next == bs->end)
            return MHD_CONTENT_READER_END_OF_STREAM;
        pthread_mutex_lock(&bs->n->lock);
        if (utxo_store_get_block(bs->n->s, bs->next, NULL, &blk, &blen) != UTXO_OK ||
            utxo_store_get_bundle(bs->n->s, bs->next, &bun, &plen) != UTXO_OK) {
            node_log(0, "/blocks: block %" PRIu32 ": %s", bs->next, utxo_store_errmsg(bs->n->s));
            pthread_mutex_unlock(&bs->n->lock);
            free(blk);
            free(bun);
            return MHD_CONTENT_READER_END_WITH_ERROR; /* the client sees a cut body */
        }
        pthread_mutex_unlock(&bs->n->lock);
        free(bs->buf);
        bs->buf = malloc(8 + blen + plen);
        if (!bs->buf) {
            free(blk);
            free(bun);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        uint8_t *w = bs->buf;
        le_put(&w, blen, 4);
        memcpy(w, blk, blen);
        w += blen;
        le_put(&w, plen, 4);
        memcpy(w, bun, plen);
        free(blk);
        free(bun);
        bs->len = 8 + blen + plen;
        bs->off = 0;
        bs->next++;
    }
    size_t k = bs->len - bs->off < max ? bs->len - bs->off : max;
    memcpy(out, bs->buf + bs->off, k);
    bs->off += k;
    return (ssize_t)k;
}

static void blocks_free(void *cls)
{
    blocks_stream *bs = cls;
    free(bs->buf);
    free(bs);
}

static enum MHD_Result get_blocks(node *n, struct MHD_Connection *c)
{
    const char *from = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "from");
    const char *count = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "count");
    uint32_t h, k;
    utxo_store_info info;

    if (!from || !parse_dec_u32(from, strlen(from), &h))
        return send_error(c, MHD_HTTP_BAD_REQUEST, UTXO_ERR_ARG,
                          "from= wants a height (decimal, below 2^32)");
    if (!count || !parse_dec_u32(count, strlen(count), &k) || k == 0)
        return send_error(c, MHD_HTTP_BAD_REQUEST, UTXO_ERR_ARG,
                          "count= wants a number of blocks from 1 (at most %u are sent)",
                          NODE_MAX_COUNT);
    utxo_store_get_info(n->s, &info);
    if (h >= info.n_blocks)
        return no_block(n, c, h, UTXO_ERR_STORE_HEIGHT);
    if (k > NODE_MAX_COUNT)
        k = NODE_MAX_COUNT;
    if (k > info.n_blocks - h)
        k = info.n_blocks - h;
    blocks_stream *bs = calloc(1, sizeof *bs);
    if (!bs)
        return MHD_NO;
    bs->n = n;
    bs->next = h;
    bs->end = h + k;
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, blocks_read, bs, blocks_free);
    if (!r) {
        blocks_free(bs);
        return MHD_NO;
    }
    (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
    char first[16], cnt[16];
    snprintf(first, sizeof first, "%" PRIu32, h);
    snprintf(cnt, sizeof cnt, "%" PRIu32, k);
    (void)MHD_add_response_header(r, "X-Utxo-From", first);
    (void)MHD_add_response_header(r, "X-Utxo-Count", cnt);
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* /roots/H: the accumulator after block H (utxo_store_acc_state_at). */
static enum MHD_Result get_roots(node *n, struct MHD_Connection *c, uint32_t h)
{
    uint8_t st[8 + 64 * UTXO_HASH_BYTES];
    size_t len = 0;
    utxo_block *b = NULL;
    int rc;

    if ((rc = utxo_store_acc_state_at(n->s, h, st, sizeof st, &len)) != UTXO_OK ||
        (rc = utxo_store_get_block(n->s, h, &b, NULL, NULL)) != UTXO_OK)
        return no_block(n, c, h, rc);
    const uint8_t *q = st;
    uint64_t leaves = le_get(&q, 8);
    json_t *roots = json_array();
    for (size_t off = 8; roots && off + UTXO_HASH_BYTES <= len; off += UTXO_HASH_BYTES)
        json_array_append_new(roots, hex_json(st + off, UTXO_HASH_BYTES));
    char *hex = malloc(2 * len + 1);
    json_t *j = NULL;
    if (hex) {
        sodium_bin2hex(hex, 2 * len + 1, st, len);
        j = json_pack("{s:I, s:I, s:o, s:o, s:s}", "height", (json_int_t)h, "leaves",
                      (json_int_t)leaves, "roots", roots, "digest",
                      hex_json(b->header.acc_digest, UTXO_HASH_BYTES), "state", hex);
    } else {
        json_decref(roots);
    }
    free(hex);
    utxo_block_free(b);
    return j ? send_json(c, MHD_HTTP_OK, j) : MHD_NO;
}

/* /proof/TXID:INDEX: a current accumulator proof of an unspent output. */
/* TXID:INDEX (64 hex digits, a colon, a decimal index below 2^32). */
static enum MHD_Result get_proof(node *n, struct MHD_Connection *c, const char *arg)
{
    utxo_outpoint op;
    uint8_t leaf[UTXO_HASH_BYTES], *proof = NULL;
    size_t plen = 0;
    uint64_t pos = 0;
    utxo_store_info info;

    if (!parse_outpoint(arg, &op))
        return send_error(c, MHD_HTTP_BAD_REQUEST, UTXO_ERR_ARG,
                          "/proof/ wants TXID:INDEX (64 hex digits, a colon, a decimal index)");
    uint32_t index = op.index;
    int rc = utxo_store_prove_utxo(n->s, &op, &pos, leaf, &proof, &plen);
    if (rc == UTXO_ERR_STORE_NOT_FOUND)
        return send_error(c, MHD_HTTP_NOT_FOUND, rc, "no unspent output %.64s:%" PRIu32, arg, index);
    if (rc != UTXO_OK) {
        node_log(0, "/proof: %s", utxo_store_errmsg(n->s));
        return send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, rc, "%s", utxo_strerror(rc));
    }
    char *hex = malloc(2 * plen + 1);
    if (!hex) {
        free(proof);
        return MHD_NO;
    }
    sodium_bin2hex(hex, 2 * plen + 1, proof, plen);
    free(proof);
    utxo_store_get_info(n->s, &info);
    json_t *j = json_pack("{s:I, s:I, s:I, s:o, s:o, s:s}", "height",
                          (json_int_t)(info.n_blocks - 1), "position", (json_int_t)pos, "leaves",
                          (json_int_t)info.leaf_count, "leaf", hex_json(leaf, sizeof leaf),
                          "roots_digest", hex_json(info.acc_digest, UTXO_HASH_BYTES), "proof", hex);
    free(hex);
    return send_json(c, MHD_HTTP_OK, j);
}

typedef struct utxo_list {
    json_t *arr;
    uint64_t n;
    size_t bytes;          /* what the listed entries take in the answer, about */
    bool more;             /* an output after the last listed was left out */
    utxo_outpoint last;    /* the last listed */
} utxo_list;

/* Lists one output of a page; the store hands at most NODE_MAX_UTXOS + 1,
 * and the first that does not fit stops the page and says more follow. */
static int add_utxo(void *arg, const utxo_store_utxo *u)
{
    utxo_list *l = arg;
    char datum[2 * 1024 + 1];
    json_t *d;

    size_t inline_len = u->output.datum_len <= 1024 ? 2u * u->output.datum_len : 0;
    if (l->n == NODE_MAX_UTXOS || (l->n > 0 && l->bytes + 192 + inline_len > NODE_UTXOS_BYTES)) {
        l->more = true;
        return 1;
    }
    if (u->output.datum_len <= 1024) {
        sodium_bin2hex(datum, sizeof datum, u->output.datum, u->output.datum_len);
        d = json_string(datum);
    } else {
        d = json_null(); /* large datums: not inlined */
    }
    json_array_append_new(l->arr,
                          json_pack("{s:o, s:I, s:I, s:I, s:o, s:I}", "txid",
                                    hex_json(u->outpoint.txid, UTXO_HASH_BYTES), "index",
                                    (json_int_t)u->outpoint.index, "value",
                                    (json_int_t)u->output.value, "height", (json_int_t)u->height,
                                    "datum", d, "datum_len", (json_int_t)u->output.datum_len));
    l->n++;
    l->bytes += 192 + inline_len;
    l->last = u->outpoint;
    return 0;
}

/* The count and total of id's unspent outputs (node.counts). */
static int utxo_count_of(node *n, const uint8_t id[UTXO_HASH_BYTES], uint64_t *count,
                         uint64_t *total)
{
    utxo_store_info info;
    utxo_count *e;

    utxo_store_get_info(n->s, &info);
    for (unsigned i = 0; i < NODE_UTXO_COUNTS; i++) {
        e = &n->counts[i];
        if (e->n_blocks != 0 && e->n_blocks == info.n_blocks &&
            memcmp(e->tip, info.tip_hash, UTXO_HASH_BYTES) == 0 &&
            memcmp(e->id, id, UTXO_HASH_BYTES) == 0) {
            *count = e->count;
            *total = e->total;
            return UTXO_OK;
        }
    }
    int rc = utxo_store_count_utxos(n->s, id, count, total);
    if (rc == UTXO_OK && info.n_blocks != 0) {
        e = &n->counts[n->counts_next];
        n->counts_next = (n->counts_next + 1) % NODE_UTXO_COUNTS;
        memcpy(e->id, id, UTXO_HASH_BYTES);
        memcpy(e->tip, info.tip_hash, UTXO_HASH_BYTES);
        e->n_blocks = info.n_blocks;
        e->count = *count;
        e->total = *total;
    }
    return rc;
}

/* GET /utxos/ID[?after=TXID:INDEX]: the unspent outputs of a predicate id
 * or address in outpoint order, from after the cursor, one page at most
 * NODE_MAX_UTXOS outputs and about NODE_UTXOS_BYTES long; `next` is the
 * cursor of the next page (null on the last). */
static enum MHD_Result get_utxos(node *n, struct MHD_Connection *c, const char *hex, size_t len)
{
    uint8_t id[UTXO_HASH_BYTES];
    size_t got = 0;
    uint64_t count = 0, total = 0;
    utxo_outpoint after;
    utxo_list l;
    const char *cursor = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "after");

    bool is_id = len == 2 * UTXO_HASH_BYTES &&
                 sodium_hex2bin(id, sizeof id, hex, len, NULL, &got, NULL) == 0 && got == sizeof id;
    if (!is_id && (len != UTXO_ADDRESS_LEN || utxo_address_decode(id, hex) != UTXO_OK))
        return send_error(c, MHD_HTTP_BAD_REQUEST, UTXO_ERR_ARG,
                          "/utxos/ wants a predicate id (64 hex digits) or an address (utxo1...)");
    if (cursor && !parse_outpoint(cursor, &after))
        return send_error(c, MHD_HTTP_BAD_REQUEST, UTXO_ERR_ARG,
                          "/utxos/ after= wants TXID:INDEX (64 hex digits, a colon, a decimal "
                          "index)");
    memset(&l, 0, sizeof l);
    l.arr = json_array();
    /* the page seeks to the cursor (it costs its own outputs, not those
     * before it); count and total are one aggregate query per tip */
    int rc = utxo_store_each_utxo_after(n->s, id, cursor ? &after : NULL,
                                        (uint64_t)NODE_MAX_UTXOS + 1, add_utxo, &l);
    if (rc == UTXO_OK)
        rc = utxo_count_of(n, id, &count, &total);
    if (rc != UTXO_OK) {
        json_decref(l.arr);
        node_log(0, "/utxos: %s", utxo_store_errmsg(n->s));
        return send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, rc, "%s", utxo_strerror(rc));
    }
    json_t *next = json_null();
    if (l.more) {
        char op[2 * UTXO_HASH_BYTES + 12];
        sodium_bin2hex(op, sizeof op, l.last.txid, UTXO_HASH_BYTES);
        snprintf(op + 2 * UTXO_HASH_BYTES, sizeof op - 2 * UTXO_HASH_BYTES, ":%" PRIu32,
                 l.last.index);
        next = json_string(op);
    }
    return send_json(c, MHD_HTTP_OK,
                     json_pack("{s:I, s:I, s:b, s:o, s:o}", "count", (json_int_t)count, "total",
                               (json_int_t)total, "truncated", l.more, "next", next, "utxos",
                               l.arr));
}

/* /tx/TXID: where a transaction is (utxo_store_find_tx) and its encoding. */
static enum MHD_Result get_tx(node *n, struct MHD_Connection *c, const char *hex)
{
    uint8_t txid[UTXO_HASH_BYTES], hash[UTXO_HASH_BYTES], *raw = NULL;
    size_t got = 0, len = strlen(hex), w = 0;
    uint32_t h = 0, i = 0;
    utxo_block *b = NULL;
    char *text = NULL;
    int rc;

    if (len != 2 * UTXO_HASH_BYTES ||
        sodium_hex2bin(txid, sizeof txid, hex, len, NULL, &got, NULL) != 0 || got != sizeof txid)
        return send_error(c, MHD_HTTP_BAD_REQUEST, UTXO_ERR_ARG,
                          "/tx/ wants a txid: 64 hex digits");
    rc = utxo_store_find_tx(n->s, txid, &h, &i);
    if (rc == UTXO_ERR_STORE_NOT_FOUND)
        return send_error(c, MHD_HTTP_NOT_FOUND, rc, "no block of this node holds transaction %s",
                          hex);
    if (rc == UTXO_OK)
        rc = utxo_store_get_block(n->s, h, &b, NULL, NULL);
    if (rc == UTXO_OK && i >= b->n_txs)
        rc = UTXO_ERR_STORE_CORRUPT;
    if (rc == UTXO_OK) {
        size_t tl = utxo_tx_get_length(b->txs[i], true);
        if ((raw = malloc(tl)) == NULL || (text = malloc(2 * tl + 1)) == NULL)
            rc = UTXO_ERR_NOMEM;
        else if ((rc = utxo_tx_to_bytes(b->txs[i], raw, tl, &w)) == UTXO_OK)
            sodium_bin2hex(text, 2 * tl + 1, raw, w);
    }
    if (rc != UTXO_OK) {
        node_log(0, "/tx/%s: %s (%s)", hex, utxo_strerror(rc), utxo_store_errmsg(n->s));
        utxo_block_free(b);
        free(raw);
        free(text);
        return send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, rc, "%s", utxo_strerror(rc));
    }
    utxo_header_hash(&b->header, hash);
    json_t *j = json_pack("{s:o, s:I, s:I, s:o, s:I, s:s}", "txid", hex_json(txid, sizeof txid),
                          "height", (json_int_t)h, "index", (json_int_t)i, "block",
                          hex_json(hash, sizeof hash), "bytes", (json_int_t)w, "hex", text);
    utxo_block_free(b);
    free(raw);
    free(text);
    return send_json(c, MHD_HTTP_OK, j);
}

/* ---- the deadline of a request's head ------------------------------------------ */

/* An open connection, as the deadline of a request's head sees it.
 * libmicrohttpd's timeout (--timeout) is an idle timeout, and its handler
 * is first called once a request's line and headers are whole: a client
 * sending them a byte every few seconds (up to the 64 KiB a connection
 * may hold) was never idle and never reached the handler, and
 * --max-connections such clients held every slot for as long as they
 * liked (slowloris). So each connection is watched from its opening, and
 * again from each answer sent (keep-alive), until the handler has the next
 * request's head; one still without it --timeout later has its socket shut
 * down by the main loop (conns_reap), and libmicrohttpd closes it. A
 * request's body has its own deadline (handle). */
typedef struct conn_watch {
    struct conn_watch *prev, *next;
    MHD_socket fd;
    uint64_t since;  /* when it began waiting for a request's head (monotonic ns) */
    bool in_request; /* the handler has the head: not watched until the answer is done */
    bool cut;        /* shut down already */
} conn_watch;

/* MHD_OPTION_NOTIFY_CONNECTION: a connection opened (watched) or closed
 * (forgotten; libmicrohttpd closes its socket only after this returns, so
 * conns_reap, under conn_lock, never shuts down a descriptor reused since). */
static void conn_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                        enum MHD_ConnectionNotificationCode code)
{
    node *n = cls;
    conn_watch *w = *socket_context;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (ci == NULL || (w = calloc(1, sizeof *w)) == NULL)
            return; /* not watched: the idle timeout alone bounds it */
        w->fd = ci->connect_fd;
        w->since = clock_now_ns();
        pthread_mutex_lock(&n->conn_lock);
        w->next = n->conns;
        if (w->next)
            w->next->prev = w;
        n->conns = w;
        pthread_mutex_unlock(&n->conn_lock);
        *socket_context = w;
        return;
    }
    if (w == NULL)
        return;
    pthread_mutex_lock(&n->conn_lock);
    if (w->prev)
        w->prev->next = w->next;
    else
        n->conns = w->next;
    if (w->next)
        w->next->prev = w->prev;
    pthread_mutex_unlock(&n->conn_lock);
    free(w);
    *socket_context = NULL;
}

/* The connection of c has a request's head (in_request) or is done with
 * its request and waits for the next: its deadline starts again. */
static void conn_mark(node *n, struct MHD_Connection *c, bool in_request)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    conn_watch *w = ci ? ci->socket_context : NULL;

    if (w == NULL)
        return;
    pthread_mutex_lock(&n->conn_lock);
    w->in_request = in_request;
    w->since = clock_now_ns();
    pthread_mutex_unlock(&n->conn_lock);
}

/* Shuts down every connection that has waited more than --timeout for a
 * request's head; returns how many. From the main loop, once a second. */
static size_t conns_reap(node *n)
{
    uint64_t now = clock_now_ns();
    size_t k = 0;

    pthread_mutex_lock(&n->conn_lock);
    for (conn_watch *w = n->conns; w; w = w->next)
        if (!w->in_request && !w->cut && now - w->since > n->request_ns) {
            (void)shutdown(w->fd, SHUT_RDWR);
            w->cut = true;
            k++;
        }
    pthread_mutex_unlock(&n->conn_lock);
    return k;
}

/* ---- the request handler ------------------------------------------------------ */

typedef struct req {
    int body;          /* the request carried a body */
    uint8_t *data;     /* a POST's body, up to NODE_MAX_BODY(n) bytes */
    size_t len, cap;
    int too_big;       /* the body was longer: refused with 413 */
    int post;          /* the method is POST */
    int stop_after;    /* POST /admin/stop: SIGTERM once its answer is sent */
    /* POST /tx: what the mempool thread made of it */
    int state;         /* TX_NEW ... (pool_main) */
    int vrc, err;      /* TX_REFUSED: the verdict; TX_NOT_TAKEN: errno (0: stopping) */
    uint32_t vinput;
    uint64_t jseq;     /* TX_WRITTEN: its journal record (1..) */
    long fwd_status;   /* TX_FORWARDED: the upstream's HTTP status */
    json_t *fwd;       /* TX_FORWARDED: its JSON verdict (owned), or NULL */
    char fwd_err[560]; /* TX_FORWARDED without a verdict: why */
    uint8_t txid[UTXO_HASH_BYTES];
    uint64_t deadline; /* /events: when to answer without a new tip (monotonic ns), 0 unset */
    uint64_t want_blocks; /* /events: answer once the store holds this many blocks */
    uint64_t started;  /* when its headers came (monotonic ns) */
    uint64_t cost;     /* POST /tx: what its refusal takes from the client's allowance */
    /* POST /admin/seal: SEAL_NEW ... (seal_main), and what its seal made */
    int seal;
    int seal_rc;       /* SEAL_DONE: node_seal's result */
    chain_block_info seal_info;
} req;

/* What became of a POST /admin/seal (req.seal). */
enum { SEAL_NEW = 0, SEAL_QUEUED, SEAL_DONE, SEAL_STOPPING };

/* What became of a POST /tx the mempool or forwarding thread took
 * (req.state). */
enum { TX_NEW = 0, TX_QUEUED, TX_REFUSED, TX_WRITTEN, TX_NOT_TAKEN, TX_FORWARDED };

#define NODE_EVENTS_WAIT_MAX 60u /* seconds an /events request may wait */

/* Resumes every suspended /events request (each then answers or waits
 * again; closing: answers). From any thread. */
static void events_wake(node *n, bool closing)
{
    pthread_mutex_lock(&n->ev_lock);
    if (closing)
        n->ev_closing = true;
    for (size_t i = 0; i < n->n_waiters; i++)
        MHD_resume_connection(n->waiters[i].c);
    n->n_waiters = 0;
    pthread_mutex_unlock(&n->ev_lock);
}

/* GET /events?after=H[&wait=S]: answers with the status as soon as the tip
 * is above H (at once when it already is; H absent: the tip when asked),
 * or after S seconds (default 30, at most 60) with the status as it is. */
static enum MHD_Result get_events(node *n, struct MHD_Connection *c, req *r)
{
    utxo_store_info info;

    utxo_store_get_info(n->s, &info);
    if (r->deadline == 0) { /* the first time: the arguments */
        const char *after = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "after");
        const char *wait = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "wait");
        uint32_t h = 0, w = 30;
        if (after && !parse_dec_u32(after, strlen(after), &h))
            return send_error(c, MHD_HTTP_BAD_REQUEST, UTXO_ERR_ARG,
                              "after= wants a height (decimal, below 2^32)");
        if (wait && (!parse_dec_u32(wait, strlen(wait), &w) || w > NODE_EVENTS_WAIT_MAX))
            return send_error(c, MHD_HTTP_BAD_REQUEST, UTXO_ERR_ARG,
                              "wait= wants seconds from 0 to %u", NODE_EVENTS_WAIT_MAX);
        /* answer once the store holds this many blocks */
        r->want_blocks = after ? (uint64_t)h + 2 : (uint64_t)info.n_blocks + 1;
        r->deadline = clock_now_ns() + (uint64_t)w * 1000000000u + 1;
    }
    bool above = info.n_blocks >= r->want_blocks;
    if (above || clock_now_ns() >= r->deadline)
        return get_status(n, c);
    pthread_mutex_lock(&n->ev_lock);
    if (n->ev_closing) { /* the node stops: the status as it is */
        pthread_mutex_unlock(&n->ev_lock);
        return get_status(n, c);
    }
    if (n->n_waiters == n->cap_waiters) {
        size_t cap = n->cap_waiters ? 2 * n->cap_waiters : 16;
        waiter *w2 = realloc(n->waiters, cap * sizeof *w2);
        if (!w2) {
            pthread_mutex_unlock(&n->ev_lock);
            return MHD_NO;
        }
        n->waiters = w2;
        n->cap_waiters = cap;
    }
    n->waiters[n->n_waiters++].c = c;
    MHD_suspend_connection(c);
    pthread_mutex_unlock(&n->ev_lock);
    return MHD_YES;
}

/* ---- the sequencer role: transactions in, blocks out ------------------------------ */

/* The largest body a POST may carry: the largest valid transaction. */
#define NODE_MAX_BODY(n) ((size_t)(n)->p.max_tx_bytes)

static void sync_resume(node *n);

/* Publishes the pool for GET /mempool and /status. Under seq_lock and
 * jlock. */
static void pool_publish(node *n)
{
    const mp_pool *m = chain_seq_mempool(n->seq);

    n->mempool_count = mp_count(m);
    n->pool_bytes = mp_bytes(m);
    n->pool_ids_n = 0;
    while (n->pool_ids_n < NODE_MAX_MEMPOOL_IDS &&
           mp_tx(m, n->pool_ids_n, n->pool_ids[n->pool_ids_n]) != NULL)
        n->pool_ids_n++;
}

/* Seals the next block from the mempool, writes it (block and proof files
 * first, then the store) and rewrites the journal to what the pool still
 * holds. Takes seq_lock, and the store's lock (n->lock) only to apply the
 * block (chain_seq_seal): the caller must not hold n->lock, so that the
 * store's readers never wait while a batch is judged or a block made and
 * proven (before, sealing held n->lock from the start, and every GET
 * waited behind it for the mempool's batch). 0, or -1 after setting
 * n->seal_error (sealing then stops for good: the node must be restarted,
 * which repairs the files). */
static int node_seal(node *n, chain_block_info *info)
{
    char msg[400];
    int rc;

    if (n->seal_error[0])
        return -1;
    /* the mempool and its chain: the block is taken from them, and the
     * journal rewritten to what they still hold */
    pthread_mutex_lock(&n->seq_lock);
    rc = chain_seq_seal(n->seq, (uint64_t)time(NULL), info, msg, sizeof msg);
    if (rc != UTXO_OK) {
        pthread_mutex_unlock(&n->seq_lock);
        pthread_mutex_lock(&n->ev_lock);
        snprintf(n->seal_error, sizeof n->seal_error, "%s", msg[0] ? msg : utxo_strerror(rc));
        pthread_mutex_unlock(&n->ev_lock);
        node_log(0, "sealing stopped: %s (restart the node to recover)", n->seal_error);
        return -1;
    }
    pthread_mutex_lock(&n->jlock);
    rc = chain_journal_rewrite(n->journal, chain_seq_mempool(n->seq));
    pool_publish(n);
    if (rc == UTXO_OK) {
        /* the new journal holds, synced, every transaction of the pool: the
         * records still gathering are on disk (or in the block) */
        n->jlen = 0;
        n->j_synced = n->j_written;
        sync_resume(n);
    }
    pthread_mutex_unlock(&n->jlock);
    pthread_mutex_unlock(&n->seq_lock);
    if (rc != UTXO_OK)
        /* the old journal still holds every transaction of the pool (and
         * some now in the block, dropped at the next start): nothing lost */
        node_log(0, "cannot rewrite %s/mempool.journal: %s", n->datadir, afile_errtext(errno));
    node_log(1, "sealed block %" PRIu32 ": %" PRIu32 " txs, fees %" PRIu64 ", %zu bytes",
             info->height, info->n_txs, info->fees, info->block_bytes);
    if (info->n_dropped > 0)
        node_log(0, "block %" PRIu32 ": %zu held transactions no longer valid at its height "
                 "(a predicate reading the height) were dropped",
                 info->height, info->n_dropped);
    return 0;
}

/* Resumes every POST /admin/seal still waiting, to answer that the node
 * stops (libmicrohttpd aborts at stop on a suspended request). At stop,
 * once the sealing thread has ended (or never ran), under n->lock with
 * n->stop set, so that none is added after. */
static void seal_asked_release(node *n)
{
    for (size_t i = 0; i < n->n_seal_asked; i++) {
        n->seal_asked[i].r->seal = SEAL_STOPPING;
        MHD_resume_connection(n->seal_asked[i].c);
    }
    n->n_seal_asked = 0;
}

/* Seals a block for each POST /admin/seal as it comes, and one every
 * seal_s seconds while the mempool holds work. */
static void *seal_main(void *arg)
{
    node *n = arg;

    pthread_mutex_lock(&n->lock);
    while (!n->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)n->seal_s;
        while (!n->stop && n->n_seal_asked == 0 &&
               pthread_cond_timedwait(&n->seal_cond, &n->lock, &until) == 0)
            ;
        if (!n->stop && n->n_seal_asked > 0) { /* the first asked, even for an empty block */
            pending w = n->seal_asked[0];
            memmove(n->seal_asked, n->seal_asked + 1, --n->n_seal_asked * sizeof *n->seal_asked);
            pthread_mutex_unlock(&n->lock);
            w.r->seal_rc = node_seal(n, &w.r->seal_info);
            if (w.r->seal_rc == 0)
                events_wake(n, false);
            pthread_mutex_lock(&n->lock);
            w.r->seal = SEAL_DONE;
            MHD_resume_connection(w.c);
            continue;
        }
        pthread_mutex_lock(&n->jlock);
        size_t held = n->mempool_count;
        pthread_mutex_unlock(&n->jlock);
        if (n->stop || n->seal_error[0] || held == 0)
            continue;
        chain_block_info info;
        pthread_mutex_unlock(&n->lock);
        if (node_seal(n, &info) == 0)
            events_wake(n, false);
        pthread_mutex_lock(&n->lock);
    }
    pthread_mutex_unlock(&n->lock); /* the requests still queued: seal_asked_release */
    return NULL;
}

static json_t *verdict_json(int rc, const utxo_verdict *vd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static json_t *verdict_json(int rc, const utxo_verdict *vd, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *j = json_pack("{s:i, s:s}", "code", rc, "message", msg);
    if (j && vd)
        json_object_set_new(j, "input", json_integer(vd->input));
    return j;
}

/* The upstream's answer to one forwarded transaction, into r: its JSON
 * verdict and status, or why there is none. At most NODE_FORWARD_TIMEOUT
 * seconds; n->stop aborts it. */
static void forward_one(node *n, nc_client *nc, req *r)
{
    membuf m;
    long status = 0;

    r->state = TX_FORWARDED;
    r->fwd = NULL;
    if (nc_post(nc, "/tx", r->data, r->len, 64 * 1024, &status, &m) != 0) {
        snprintf(r->fwd_err, sizeof r->fwd_err, "the upstream %s %s: %s", n->upstream,
                 m.over ? "answered with no verdict" : "did not answer", nc->err);
        return;
    }
    json_t *j = json_loadb((const char *)m.p, m.len, 0, NULL);
    free(m.p);
    if (!json_is_object(j) || (status != 200 && (status < 400 || status > 599))) {
        json_decref(j);
        snprintf(r->fwd_err, sizeof r->fwd_err,
                 "the upstream %s answered HTTP %ld without a JSON verdict", n->upstream, status);
        return;
    }
    /* a 200 takes this transaction: it names it (an upstream naming
     * another, or none, has not said it took this one) */
    char want[2 * UTXO_HASH_BYTES + 1];
    const char *named = json_string_value(json_object_get(j, "txid"));
    uint8_t id[UTXO_HASH_BYTES];
    size_t got = 0;
    sodium_bin2hex(want, sizeof want, r->txid, sizeof r->txid);
    /* hex in either case, as utxo_client_submit reads it */
    if (status == 200 &&
        (named == NULL || strlen(named) != 2 * sizeof id ||
         sodium_hex2bin(id, sizeof id, named, 2 * sizeof id, NULL, &got, NULL) != 0 ||
         got != sizeof id || memcmp(id, r->txid, sizeof id) != 0)) {
        json_decref(j);
        snprintf(r->fwd_err, sizeof r->fwd_err,
                 "the upstream %s answered HTTP 200 without naming the transaction (txid %s)",
                 n->upstream, want);
        return;
    }
    json_object_set_new(j, "via", json_string(n->upstream));
    r->fwd = j;
    r->fwd_status = status;
}

/* A bridge's forwarding thread: takes the queued POST /tx requests (as
 * pool_main does a sequencer's), hands each to the upstream and resumes it
 * with the answer. The HTTP thread never waits on the upstream, so a slow
 * or stalled upstream delays only the transactions sent through it. At
 * stop, what is still queued answers 503. */
static void *forward_main(void *arg)
{
    node *n = arg;
    nc_client nc;
    bool open = nc_open(&nc, n->upstream, "utxo-node-bridge", &n->stop) == 0;

    if (open) {
        nc.quiet_errors = 1;
        nc.timeout_s = (long)NODE_FORWARD_TIMEOUT;
    }
    pthread_mutex_lock(&n->jlock);
    for (;;) {
        while (!n->q_stop && n->nq == 0)
            pthread_cond_wait(&n->qcond, &n->jlock);
        if (n->nq == 0)
            break;
        pending p = n->q[0];
        memmove(n->q, n->q + 1, (n->nq - 1) * sizeof *n->q);
        n->nq--;
        if (n->q_stop) {
            p.r->state = TX_NOT_TAKEN;
            p.r->err = 0;
        } else {
            pthread_mutex_unlock(&n->jlock);
            if (open) {
                forward_one(n, &nc, p.r);
            } else {
                p.r->state = TX_FORWARDED;
                snprintf(p.r->fwd_err, sizeof p.r->fwd_err, "%s", nc.err);
            }
            pthread_mutex_lock(&n->jlock);
        }
        MHD_resume_connection(p.c);
    }
    pthread_mutex_unlock(&n->jlock);
    if (open)
        nc_close(&nc);
    return NULL;
}

/* A resumed forwarded POST /tx: the upstream's verdict, or 502. */
static enum MHD_Result forward_answer(struct MHD_Connection *c, req *r)
{
    json_t *j = r->fwd;

    r->fwd = NULL;
    if (j == NULL)
        return send_error(c, MHD_HTTP_BAD_GATEWAY, UTXO_ERR_IO, "%s", r->fwd_err);
    return send_json(c, (unsigned)r->fwd_status, j);
}

/* Puts POST c (suspended; its record: the seq-th) among those waiting for
 * a sync. Under jlock. */
static int sync_enlist(node *n, struct MHD_Connection *c, uint64_t seq)
{
    if (n->n_syncing == n->cap_syncing) {
        size_t cap = n->cap_syncing ? 2 * n->cap_syncing : 64;
        waiter *w = realloc(n->syncing, cap * sizeof *w);
        if (w == NULL)
            return UTXO_ERR_NOMEM;
        n->syncing = w;
        uint64_t *q = realloc(n->syncing_seq, cap * sizeof *q);
        if (q == NULL)
            return UTXO_ERR_NOMEM;
        n->syncing_seq = q;
        n->cap_syncing = cap;
    }
    n->syncing[n->n_syncing].c = c;
    n->syncing_seq[n->n_syncing++] = seq;
    pthread_cond_signal(&n->jcond);
    return UTXO_OK;
}

/* Resumes the POSTs whose record is on disk (all of them after a failed
 * sync: they answer 503). Under jlock. */
static void sync_resume(node *n)
{
    size_t k = 0;
    for (size_t i = 0; i < n->n_syncing; i++) {
        if (n->syncing_seq[i] <= n->j_synced || n->j_failed) {
            MHD_resume_connection(n->syncing[i].c);
        } else {
            n->syncing[k] = n->syncing[i];
            n->syncing_seq[k++] = n->syncing_seq[i];
        }
    }
    n->n_syncing = k;
}

/* The group commit: the records gathered since the last round written with
 * one write() and synced with one fdatasync. The descriptor is dup()ed
 * under jlock: a journal rewrite (after a seal) may replace it meanwhile,
 * and then writing to the old file is harmless, the new one being synced
 * whole with every transaction of the pool. */
static void *sync_main(void *arg)
{
    node *n = arg;

    pthread_mutex_lock(&n->jlock);
    for (;;) {
        while (!n->j_stop && n->j_written == n->j_synced && !n->j_failed)
            pthread_cond_wait(&n->jcond, &n->jlock);
        if (n->j_failed || (n->j_stop && n->j_written == n->j_synced))
            break;
        uint64_t target = n->j_written;
        uint8_t *buf = n->jbuf;
        size_t len = n->jlen;
        n->jbuf = NULL; /* the next records gather in a new buffer */
        n->jlen = n->jcap = 0;
        int fd = dup(chain_journal_fd(n->journal));
        pthread_mutex_unlock(&n->jlock);
        /* write and sync outside the lock: the mempool thread goes on; a
         * write that fails (a full disk) is cut back off, so the next start
         * does not take it for a crash's torn record */
        off_t at = fd < 0 ? -1 : lseek(fd, 0, SEEK_END);
        int e = fd < 0 ? errno : afile_write_fd(fd, buf, len);
        if (e == 0 && fdatasync(fd) != 0)
            e = errno;
        if (e != 0 && at >= 0)
            (void)!ftruncate(fd, at); /* if this fails too, the next start cuts it */
        if (fd >= 0)
            close(fd);
        free(buf);
        pthread_mutex_lock(&n->jlock);
        if (e != 0) {
            n->j_failed = e;
            node_log(0, "cannot write %s/mempool.journal: %s; no transaction is taken "
                     "until a restart", n->datadir, afile_errtext(e));
        } else if (target > n->j_synced) {
            n->j_synced = target;
        }
        sync_resume(n);
    }
    sync_resume(n); /* a failure: the waiting answer 503 */
    pthread_mutex_unlock(&n->jlock);
    return NULL;
}

/* The mempool thread: validates the queued POSTs into the mempool in
 * arrival order (under seq_lock, not the store's lock: readers of the
 * store never wait for predicates to run), writes each accepted
 * one to the journal and hands it to the syncing thread; a refused one is
 * resumed at once with its verdict. Validation thus runs beside the HTTP
 * thread's network work. At stop, what is still queued answers 503. */
static void *pool_main(void *arg)
{
    node *n = arg;
    pending *batch = NULL;
    size_t cap = 0;

    pthread_mutex_lock(&n->jlock);
    for (;;) {
        while (!n->q_stop && n->nq == 0)
            pthread_cond_wait(&n->qcond, &n->jlock);
        if (n->nq == 0)
            break; /* stopping, nothing left */
        if (n->q_stop) { /* stopping: not taken */
            for (size_t i = 0; i < n->nq; i++) {
                n->q[i].r->state = TX_NOT_TAKEN;
                n->q[i].r->err = 0;
                utxo_tx_free(n->q[i].tx);
                MHD_resume_connection(n->q[i].c);
            }
            n->nq = 0;
            break;
        }
        /* take the whole queue */
        pending *t = batch;
        size_t tc = cap, k = n->nq;
        batch = n->q;
        cap = n->capq;
        n->q = t;
        n->capq = tc;
        n->nq = 0;
        pthread_mutex_unlock(&n->jlock);
        pthread_mutex_lock(&n->seq_lock);
        for (size_t i = 0; i < k; i++) {
            req *r = batch[i].r;
            utxo_verdict vd;
            memset(&vd, 0, sizeof vd);
            uint64_t ev = mp_evicted(chain_seq_mempool(n->seq));
            int rc = chain_seq_submit(n->seq, batch[i].tx, &vd);
            ev = mp_evicted(chain_seq_mempool(n->seq)) - ev;
            if (ev > 0)
                node_log(1, "mempool full: evicted %" PRIu64 " transaction%s of a lower fee rate",
                         ev, ev == 1 ? "" : "s");
            if (rc != UTXO_OK) {
                r->state = TX_REFUSED;
                r->vrc = rc;
                r->vinput = vd.input;
                continue;
            }
            utxo_tx_txid(batch[i].tx, r->txid);
            size_t rl = 0;
            uint8_t *rec = chain_journal_record(batch[i].tx, &rl);
            pthread_mutex_lock(&n->jlock);
            int e = n->j_failed ? n->j_failed : rec == NULL ? ENOMEM : 0;
            if (e == 0 && n->jlen + rl > n->jcap) {
                size_t jc = n->jcap ? n->jcap : 64 * 1024;
                while (jc < n->jlen + rl)
                    jc *= 2;
                uint8_t *nb = realloc(n->jbuf, jc);
                if (nb == NULL) {
                    e = ENOMEM;
                } else {
                    n->jbuf = nb;
                    n->jcap = jc;
                }
            }
            if (e == 0 && sync_enlist(n, batch[i].c, n->j_written + 1) == UTXO_OK) {
                /* the syncing thread writes it, with the others, then syncs */
                memcpy(n->jbuf + n->jlen, rec, rl);
                n->jlen += rl;
                r->jseq = ++n->j_written;
                r->state = TX_WRITTEN;
                batch[i].c = NULL; /* the syncing thread resumes it */
            } else {
                mp_drop_last(chain_seq_mempool(n->seq));
                r->state = TX_NOT_TAKEN;
                r->err = e ? e : ENOMEM;
            }
            n->mempool_count = mp_count(chain_seq_mempool(n->seq));
            pthread_mutex_unlock(&n->jlock);
            free(rec);
        }
        pthread_mutex_lock(&n->jlock);
        pool_publish(n);
        pthread_mutex_unlock(&n->jlock);
        pthread_mutex_unlock(&n->seq_lock);
        pthread_mutex_lock(&n->jlock);
        for (size_t i = 0; i < k; i++) {
            utxo_tx_free(batch[i].tx);
            if (batch[i].c != NULL)
                MHD_resume_connection(batch[i].c);
        }
    }
    pthread_mutex_unlock(&n->jlock);
    free(batch);
    return NULL;
}

/* A resumed POST /tx: its answer. */
static enum MHD_Result tx_answer(node *n, struct MHD_Connection *c, req *r)
{
    /* post_tx charged its refusal when it queued it: kept when refused,
     * given back otherwise (taken, or not judged) */
    if (!(r->state == TX_REFUSED || (r->state == TX_FORWARDED && r->fwd_status == 400)))
        rl_refund(n->rl, client_addr(c), r->cost, clock_now_ns());
    if (r->state == TX_FORWARDED)
        return forward_answer(c, r);
    if (r->state == TX_REFUSED) {
        node_log(2, "POST /tx refused: %s (input %" PRIu32 ")", utxo_strerror(r->vrc), r->vinput);
        utxo_verdict vd;
        memset(&vd, 0, sizeof vd);
        vd.input = r->vinput;
        return send_json(c, MHD_HTTP_BAD_REQUEST,
                         verdict_json(r->vrc, &vd, "%s (input %" PRIu32 ")",
                                      utxo_strerror(r->vrc), r->vinput));
    }
    pthread_mutex_lock(&n->jlock);
    bool synced = r->state == TX_WRITTEN && r->jseq <= n->j_synced;
    int e = r->state == TX_NOT_TAKEN ? r->err : n->j_failed;
    size_t held = n->mempool_count;
    pthread_mutex_unlock(&n->jlock);
    if (synced)
        return send_json(c, MHD_HTTP_OK,
                         json_pack("{s:o, s:I}", "txid", hex_json(r->txid, sizeof r->txid),
                                   "mempool", (json_int_t)held));
    if (r->state == TX_NOT_TAKEN && e == 0)
        return send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, 0, "the node is stopping");
    node_log(0, "cannot record a transaction in %s/mempool.journal: %s", n->datadir,
             afile_errtext(e));
    return send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, UTXO_ERR_IO,
                      "the transaction could not be recorded (%s): it is not acknowledged%s",
                      afile_errtext(e), r->state == TX_WRITTEN ? " (it may still be sealed)" : "");
}

/* POST /tx: a raw transaction into the mempool (sequencer) or on to the
 * upstream (bridge). Accepted: 200 {"txid", "mempool"}, once the journal
 * holds it on disk. The HTTP thread only decodes it: the mempool thread
 * validates it (pool_main) and the syncing thread's next fdatasync, which
 * covers every record written meanwhile (a group commit), releases the
 * answer; the request waits suspended. Refused: 400 {"code", "message",
 * "input"}. A bridge's forwarding thread (forward_main) hands what decodes
 * to the upstream, the request suspended meanwhile, and relays its answer.
 * Called without the store lock. */
static enum MHD_Result post_tx(node *n, struct MHD_Connection *c, req *r)
{
    utxo_tx *tx = NULL;
    size_t eo = 0;
    int rc;

    if (r->state != TX_NEW)
        return tx_answer(n, c, r);
    if (r->too_big)
        return send_error(c, MHD_HTTP_CONTENT_TOO_LARGE, UTXO_ERR_TOO_LARGE,
                          "a transaction is at most %zu bytes (max_tx_bytes)", NODE_MAX_BODY(n));
    if (!n->seq && !n->upstream)
        return send_error(c, MHD_HTTP_NOT_IMPLEMENTED, 0,
                          "this node takes no transactions: it holds no sequencer key and "
                          "follows no upstream");
    uint64_t wait = rl_wait(n->rl, client_addr(c), clock_now_ns());
    if (wait > 0)
        return send_busy(c, wait);
    if (n->seq) {
        pthread_mutex_lock(&n->ev_lock);
        bool broken = n->seal_error[0] != 0;
        pthread_mutex_unlock(&n->ev_lock);
        if (broken)
            return send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, UTXO_ERR_IO,
                              "sealing stopped: no transaction is taken until a restart "
                              "(/status says why)");
    }
    /* a bridge too: what is not a transaction is not sent on */
    if ((rc = utxo_tx_from_bytes(&tx, r->data, r->len, &n->p, &eo)) != UTXO_OK) {
        rl_charge(n->rl, client_addr(c), RL_BASE, clock_now_ns());
        return send_json(c, MHD_HTTP_BAD_REQUEST,
                         verdict_json(rc, NULL, "not a transaction: %s at byte %zu of %zu",
                                      utxo_strerror(rc), eo, r->len));
    }
    /* refused, it costs the client its budgets, at most what the policy
     * lets run (a budget decodes up to 2^64 - 1: a charge past that would
     * lock the client's address out for years, and a bridge's upstream
     * charges the bridge, so every client of it, for what it forwards) */
    uint64_t budgets = 0;
    for (uint32_t i = 0; i < tx->n_inputs; i++)
        if (__builtin_add_overflow(budgets, tx->inputs[i].witness.budget, &budgets))
            budgets = UINT64_MAX;
    r->cost = RL_BASE + (budgets < n->max_tx_cycles ? budgets : n->max_tx_cycles);
    if (n->upstream) { /* forward_main sends the bytes as they came */
        utxo_tx_txid(tx, r->txid); /* what a 200 from the upstream must name */
        utxo_tx_free(tx);
        tx = NULL;
    }
    pthread_mutex_lock(&n->jlock);
    if (n->q_stop) {
        pthread_mutex_unlock(&n->jlock);
        utxo_tx_free(tx);
        return send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, 0, "the node is stopping");
    }
    if (n->upstream && n->nq >= NODE_FORWARD_QUEUE) {
        pthread_mutex_unlock(&n->jlock);
        return send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, 0,
                          "%u transactions wait to be forwarded to the upstream: try later",
                          NODE_FORWARD_QUEUE);
    }
    if (n->nq == n->capq) {
        size_t cap = n->capq ? 2 * n->capq : 64;
        pending *q = realloc(n->q, cap * sizeof *q);
        if (q == NULL) {
            pthread_mutex_unlock(&n->jlock);
            utxo_tx_free(tx);
            return MHD_NO;
        }
        n->q = q;
        n->capq = cap;
    }
    n->q[n->nq++] = (pending){c, r, tx};
    r->state = TX_QUEUED;
    MHD_suspend_connection(c);
    pthread_cond_signal(&n->qcond);
    pthread_mutex_unlock(&n->jlock);
    /* its refusal is charged now and refunded if it is taken (tx_answer,
     * on this thread, so after this): the client's transactions still
     * being judged count against its allowance. Charged at the verdict
     * only, every POST of a client arriving meanwhile passed rl_wait, and
     * one address ran --max-connections refusals at once. */
    rl_charge(n->rl, client_addr(c), r->cost, clock_now_ns());
    return MHD_YES;
}

/* GET /mempool: what the sequencer holds, in arrival order, as of its last
 * batch or seal (pool_publish): answered without waiting for the batch
 * being judged. Not under n->lock. */
static enum MHD_Result get_mempool(node *n, struct MHD_Connection *c)
{
    json_t *ids = json_array();
    uint64_t bytes = 0;
    size_t count = 0;

    if (n->seq) {
        pthread_mutex_lock(&n->jlock);
        count = n->mempool_count;
        bytes = n->pool_bytes;
        for (size_t i = 0; i < n->pool_ids_n; i++)
            json_array_append_new(ids, hex_json(n->pool_ids[i], UTXO_HASH_BYTES));
        pthread_mutex_unlock(&n->jlock);
    }
    return send_json(c, MHD_HTTP_OK,
                     json_pack("{s:I, s:I, s:b, s:o}", "count", (json_int_t)count, "bytes",
                               (json_int_t)bytes, "truncated", count > NODE_MAX_MEMPOOL_IDS,
                               "txids", ids));
}

/* Admin actions need "Authorization: Bearer TOKEN", TOKEN the content of
 * DIR/.cookie (written at start, mode 0600, like bitcoind's cookie). */
static bool admin_ok(node *n, struct MHD_Connection *c)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    size_t want = strlen(n->cookie);

    return h && strncmp(h, "Bearer ", 7) == 0 && strlen(h + 7) == want &&
           sodium_memcmp(h + 7, n->cookie, want) == 0;
}

/* POST /admin/seal (seal a block now, even an empty one: the sealing
 * thread does, the request suspended meanwhile) and POST /admin/stop (stop
 * the node as SIGTERM does). */
static enum MHD_Result post_admin(node *n, struct MHD_Connection *c, req *r, const char *what)
{
    if (!admin_ok(n, c))
        return send_error(c, MHD_HTTP_UNAUTHORIZED, 0,
                          "admin actions want 'Authorization: Bearer TOKEN', TOKEN from %s/.cookie",
                          n->datadir);
    if (strcmp(what, "stop") == 0) {
        node_log(1, "stop asked over HTTP");
        /* the stop starts once the answer is sent (request_done): a
         * SIGTERM now could stop the server before it sends it */
        r->stop_after = 1;
        return send_json(c, MHD_HTTP_OK, json_pack("{s:b}", "stopping", 1));
    }
    if (strcmp(what, "seal") != 0)
        return send_error(c, MHD_HTTP_NOT_FOUND, 0, "no such admin action: %.40s (seal, stop)",
                          what);
    if (!n->seq)
        return send_error(c, MHD_HTTP_NOT_IMPLEMENTED, 0, "only a sequencer seals blocks");
    if (r->seal == SEAL_NEW) {
        /* sealing waits for the mempool's batch: the sealing thread does
         * it, and resumes this request when the block is made */
        pthread_mutex_lock(&n->lock);
        bool stopping = n->stop, full = n->n_seal_asked == NODE_SEALS_WAITING;
        if (!stopping && !full) {
            n->seal_asked[n->n_seal_asked++] = (pending){c, r, NULL};
            r->seal = SEAL_QUEUED;
            MHD_suspend_connection(c);
            pthread_cond_broadcast(&n->seal_cond);
        }
        pthread_mutex_unlock(&n->lock);
        if (full)
            return send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, 0,
                              "%u seals already wait for the mempool's batch: try later",
                              NODE_SEALS_WAITING);
        if (!stopping)
            return MHD_YES;
        r->seal = SEAL_STOPPING;
    }
    if (r->seal == SEAL_STOPPING)
        return send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, 0, "the node is stopping");
    if (r->seal_rc != 0)
        return send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, UTXO_ERR_IO, "sealing stopped: %s",
                          n->seal_error);
    const chain_block_info *info = &r->seal_info;
    return send_json(c, MHD_HTTP_OK,
                     json_pack("{s:I, s:o, s:I, s:I}", "height", (json_int_t)info->height, "hash",
                               hex_json(info->hash, sizeof info->hash), "txs",
                               (json_int_t)info->n_txs, "fees", (json_int_t)info->fees));
}

/* Writes DIR/.cookie: a fresh random token, mode 0600, atomically (afile:
 * the temporary file a kill during an earlier start left is swept first). */
static int cookie_write(node *n)
{
    char path[4200];
    uint8_t raw[32];
    afile a;

    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(n->cookie, sizeof n->cookie, raw, sizeof raw);
    snprintf(path, sizeof path, "%s/.cookie", n->datadir);
    (void)afile_sweep(path);
    int rc = afile_begin_mode(&a, path, 0600);
    if (rc == UTXO_OK) {
        (void)afile_write(&a, n->cookie, strlen(n->cookie)); /* commit reports it */
        rc = afile_commit(&a);
    }
    if (rc != UTXO_OK)
        errorf("cannot write %s: %s", path, afile_errtext(errno));
    return rc == UTXO_OK ? 0 : -1;
}

/* Puts each transaction of the journal back into the mempool: the ones a
 * block took meanwhile (or that no longer fit) are dropped. */
static int journal_resubmit(void *ud, const utxo_tx *tx)
{
    node *n = ud;
    utxo_verdict vd;
    (void)chain_seq_submit(n->seq, tx, &vd);
    return UTXO_OK;
}

static enum MHD_Result route(node *n, struct MHD_Connection *c, const char *url, req *r)
{
    uint32_t h;
    const char *p;

    if (r->post) /* /tx and /admin/ are answered before (handle) */
        return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, 0,
                          "POST goes to /tx or /admin/ACTION, not %.200s", url);
    if (strcmp(url, "/status") == 0)
        return get_status(n, c);
    if (strcmp(url, "/events") == 0)
        return get_events(n, c, r);
    if (strcmp(url, "/blocks") == 0)
        return get_blocks(n, c);
    if (strcmp(url, "/params") == 0) {
        uint8_t *raw = malloc(UTXO_PARAMS_BYTES);
        if (!raw)
            return MHD_NO;
        utxo_params_to_bytes(raw, &n->p);
        return send_buf(c, MHD_HTTP_OK, "application/octet-stream", raw, UTXO_PARAMS_BYTES);
    }
    if (strncmp(url, "/block/", 7) == 0) {
        const char *num = url + 7, *slash = strchr(num, '/');
        size_t len = slash ? (size_t)(slash - num) : strlen(num);
        int form = 0;
        if (slash && strcmp(slash, "/raw") == 0)
            form = 1;
        else if (slash && strcmp(slash, "/proof") == 0)
            form = 2;
        else if (slash)
            return send_error(c, MHD_HTTP_NOT_FOUND, 0, "no such path: %.200s (after /block/H: /raw or /proof)", url);
        if (!parse_dec_u32(num, len, &h))
            return send_error(c, MHD_HTTP_BAD_REQUEST, UTXO_ERR_ARG,
                              "/block/ wants a height (decimal, below 2^32), not '%.40s'", num);
        return get_block(n, c, h, form);
    }
    if (strncmp(url, "/roots/", 7) == 0) {
        if (!parse_dec_u32(url + 7, strlen(url + 7), &h))
            return send_error(c, MHD_HTTP_BAD_REQUEST, UTXO_ERR_ARG,
                              "/roots/ wants a height (decimal, below 2^32), not '%.40s'", url + 7);
        return get_roots(n, c, h);
    }
    if (strncmp(url, "/proof/", 7) == 0)
        return get_proof(n, c, url + 7);
    if (strncmp(url, "/tx/", 4) == 0)
        return get_tx(n, c, url + 4);
    if (strncmp(url, "/utxos/", 7) == 0) {
        p = url + 7;
        return get_utxos(n, c, p, strlen(p));
    }
    return send_error(c, MHD_HTTP_NOT_FOUND, 0, "no such path: %.200s (see docs/API.md)", url);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    node *n = cls;
    req *r = *con_cls;
    (void)version;

    if (r == NULL) { /* first call: the headers */
        if ((r = calloc(1, sizeof *r)) == NULL)
            return MHD_NO;
        r->started = clock_now_ns();
        *con_cls = r;
        conn_mark(n, c, true); /* the head is whole: its deadline is met */
        pthread_mutex_lock(&n->ev_lock);
        n->in_flight++;
        pthread_mutex_unlock(&n->ev_lock);
        return MHD_YES;
    }
    if (*upload_size != 0) { /* a body: a POST's is kept up to its cap, others refused */
        /* the idle timeout alone let a body come a byte every few seconds
         * for ever, and 64 such connections took every slot: a body must
         * be whole within --timeout of its headers */
        if (clock_now_ns() - r->started > n->request_ns) {
            char shown[240];
            snprintf(shown, sizeof shown, "%.16s %.200s", method, url);
            node_log(1, "%s: the body took longer than %" PRIu64 " s: closed", printable(shown),
                     n->request_ns / 1000000000u);
            return MHD_NO;
        }
        r->body = 1;
        if (strcmp(method, MHD_HTTP_METHOD_POST) == 0 && !r->too_big) {
            if (*upload_size > NODE_MAX_BODY(n) - r->len) {
                r->too_big = 1; /* the rest is read and dropped; 413 at the end */
                free(r->data);
                r->data = NULL;
                r->len = r->cap = 0;
            } else {
                /* grown as the body comes (most are a few hundred bytes;
                 * a 1 MiB buffer each would be an mmap and munmap per POST) */
                if (r->len + *upload_size > r->cap) {
                    size_t cap = r->cap ? r->cap : 4096;
                    while (cap < r->len + *upload_size)
                        cap *= 2;
                    if (cap > NODE_MAX_BODY(n))
                        cap = NODE_MAX_BODY(n);
                    uint8_t *d = realloc(r->data, cap);
                    if (!d)
                        return MHD_NO;
                    r->data = d;
                    r->cap = cap;
                }
                memcpy(r->data + r->len, upload, *upload_size);
                r->len += *upload_size;
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->deadline == 0) { /* not an /events request resumed */
        char shown[240];
        snprintf(shown, sizeof shown, "%.32s %.200s", method, url);
        node_log(2, "%s", printable(shown));
    }
    r->post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    if (!r->post && strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
        strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, 0,
                          "%.20s: this node serves GET, HEAD and POST (to /tx and /admin/)", method);
    if (r->body && !r->post)
        return send_error(c, MHD_HTTP_CONTENT_TOO_LARGE, 0, "a GET request takes no body");
    if (r->post && strcmp(url, "/tx") == 0) /* takes its own locks (pool_main) */
        return post_tx(n, c, r);
    /* these take their own locks too: sealing takes seq_lock, then n->lock
     * to apply its block; the pool's answer is under jlock */
    if (r->post && strncmp(url, "/admin/", 7) == 0)
        return post_admin(n, c, r, url + 7);
    if (!r->post && strcmp(url, "/mempool") == 0)
        return get_mempool(n, c);
    pthread_mutex_lock(&n->lock);
    enum MHD_Result ret = route(n, c, url, r);
    pthread_mutex_unlock(&n->lock);
    return ret;
}

static void request_done(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    node *n = cls;
    (void)toe;
    req *r = *con_cls;
    conn_mark(n, c, false); /* the next request's head has --timeout from now */
    if (r && r->stop_after)
        kill(getpid(), SIGTERM);
    if (r) {
        free(r->data);
        json_decref(r->fwd); /* a forwarded verdict never sent */
        pthread_mutex_lock(&n->ev_lock);
        if (--n->in_flight == 0)
            pthread_cond_broadcast(&n->idle_cond);
        pthread_mutex_unlock(&n->ev_lock);
    }
    free(r);
    *con_cls = NULL;
}

/* At stop, before the server stops: no new connection is taken, and the
 * requests begun are given NODE_STOP_GRACE seconds to be answered (the
 * ones the stop resumed answer 503 or the status). libmicrohttpd's stop
 * closes every connection, answered or not: those clients saw the
 * connection reset. */
static MHD_socket requests_drain(node *n, struct MHD_Daemon *d)
{
    struct timespec until;
    /* the listening socket, closed by us once the server has stopped */
    MHD_socket listener = MHD_quiesce_daemon(d);

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += NODE_STOP_GRACE;
    pthread_mutex_lock(&n->ev_lock);
    while (n->in_flight > 0 && pthread_cond_timedwait(&n->idle_cond, &n->ev_lock, &until) == 0)
        ;
    pthread_mutex_unlock(&n->ev_lock);
    return listener;
}

/* No percent-decoding: every path and argument this API takes is plain
 * digits, hex or letters, so an escape is left as is and refused by the
 * parsers (a decoded %00 would cut the C string the handler sees). */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

/* ---- the command -------------------------------------------------------------- */

/* SIGINT, SIGTERM and SIGHUP taken by a thread other than the main one
 * while it serves: a bit each, read by its loop. */
static atomic_uint G_NODE_SIGNALS;

static void node_on_signal(int sig)
{
    atomic_fetch_or(&G_NODE_SIGNALS, 1u << sig);
}

/* ---- the bridge role: following another node ------------------------------------ */

#define BRIDGE_BATCH 100u

/* Applies each block the upstream streams, fully validated against this
 * node's store (UTXO set, predicates, signatures), then checks that the
 * upstream's proof bundle is the one this store wrote for the block. */
static int bridge_apply(void *ud, uint32_t height, const utxo_block *b, const utxo_bundle *bu,
                        const uint8_t *bundle_bytes, size_t bundle_len, char *err, size_t err_len)
{
    node *n = ud;
    utxo_verdict vd;
    uint8_t *own = NULL;
    size_t own_len = 0;
    int rc;

    (void)bu;
    pthread_mutex_lock(&n->lock);
    rc = utxo_store_apply_block(n->s, b, &vd);
    if (rc != UTXO_OK) {
        bool storage = rc == UTXO_ERR_IO || rc == UTXO_ERR_NOMEM || (rc >= 250 && rc < 300);
        if (storage)
            snprintf(err, err_len, "cannot store block %" PRIu32 ": %s: %s", height,
                     utxo_strerror(rc), utxo_store_errmsg(n->s));
        else
            nc_refused(err, err_len, "upstream", height, rc, &vd);
        pthread_mutex_unlock(&n->lock);
        return 1;
    }
    rc = utxo_store_get_bundle(n->s, height, &own, &own_len);
    pthread_mutex_unlock(&n->lock);
    if (rc != UTXO_OK || own_len != bundle_len || memcmp(own, bundle_bytes, own_len) != 0) {
        snprintf(err, err_len,
                 "the upstream served a proof bundle for height %" PRIu32
                 " that is not the block's (the block is valid and kept)", height);
        free(own);
        return 1;
    }
    free(own);
    events_wake(n, false);
    return 0;
}

/* Sleeps up to s seconds, waking early on stop. */
static void bridge_sleep(node *n, uint64_t s)
{
    for (uint64_t i = 0; i < 10 * s && !n->stop; i++)
        usleep(100000);
}

/* Following stops for good: why goes to /status and the log. */
static void bridge_stop(node *n, uint64_t n_blocks, const char *why)
{
    pthread_mutex_lock(&n->ev_lock);
    snprintf(n->bridge_error, sizeof n->bridge_error, "%s", why);
    pthread_mutex_unlock(&n->ev_lock);
    if (n_blocks == 0)
        node_log(0, "bridge: %s; following stopped, the store stays empty", why);
    else
        node_log(0, "bridge: %s; following stopped, the tip stays at height %" PRIu64, why,
                 n_blocks - 1);
}

/* Whether the upstream serves this node's chain, asked once (at the first
 * answer after a start the upstream missed): 1 yes, 0 no (following
 * stopped), -1 no answer (the caller retries). */
static int bridge_check_chain(node *n, nc_client *nc)
{
    utxo_params up;
    utxo_store_info info;
    char why[600];
    int rc;

    if (n->upstream_checked)
        return 1;
    if ((rc = nc_params(nc, &up)) == NC_ERR_REACH)
        return -1;
    if (rc == 0 && memcmp(up.chain_id, n->p.chain_id, UTXO_HASH_BYTES) == 0) {
        n->upstream_checked = true;
        return 1;
    }
    if (rc == 0)
        snprintf(why, sizeof why, "%s serves another chain than this node's", n->upstream);
    else
        snprintf(why, sizeof why, "%s", nc->err);
    pthread_mutex_lock(&n->lock);
    utxo_store_get_info(n->s, &info);
    pthread_mutex_unlock(&n->lock);
    bridge_stop(n, info.n_blocks, why);
    return 0;
}

static void *bridge_main(void *arg)
{
    node *n = arg;
    nc_client nc;
    bool down = false;
    char failed[sizeof nc.err] = ""; /* the last failure of /blocks logged, or "" */

    if (nc_open(&nc, n->upstream, "utxo-node-bridge", &n->stop) != 0) {
        node_log(0, "bridge: %s", nc.err);
        return NULL;
    }
    nc.quiet_errors = 1;
    while (!n->stop) {
        int chain = bridge_check_chain(n, &nc);
        long long tip = chain > 0 ? nc_tip(&nc) : -2;
        utxo_store_info info;
        uint32_t applied = 0;

        if (chain == 0)
            break;
        if (tip == -2) {
            if (!down)
                node_log(0, "bridge: upstream unreachable (%s); retrying every %" PRIu64 " s",
                         nc.err, n->poll_s);
            down = true;
            bridge_sleep(n, n->poll_s);
            continue;
        }
        if (down)
            node_log(1, "bridge: upstream %s back, at height %lld", nc.base, tip);
        down = false;
        pthread_mutex_lock(&n->lock);
        utxo_store_get_info(n->s, &info);
        pthread_mutex_unlock(&n->lock);
        if (tip < 0 || info.n_blocks > (unsigned long long)tip) {
            bridge_sleep(n, n->poll_s);
            continue;
        }
        uint64_t want = (uint64_t)tip - info.n_blocks + 1;
        if (want > BRIDGE_BATCH)
            want = BRIDGE_BATCH;
        int rc = nc_blocks(&nc, &n->p, info.n_blocks, (uint32_t)want, bridge_apply, n, &applied);
        if (applied)
            node_log(1, "bridge: height %" PRIu64 " of %lld", (uint64_t)info.n_blocks + applied - 1, tip);
        if (rc == NC_INVALID) {
            bridge_stop(n, info.n_blocks + applied, nc.err);
            break;
        }
        if (rc == NC_FAILED) {
            /* the same failure again (an upstream whose /status claims
             * blocks its /blocks lacks fails every poll) is logged once */
            if (strcmp(failed, nc.err) != 0)
                node_log(0, "bridge: %s; retrying in %" PRIu64 " s%s", nc.err, n->poll_s,
                         failed[0] ? "" : " (the same failure again is not logged)");
            snprintf(failed, sizeof failed, "%s", nc.err);
            bridge_sleep(n, n->poll_s);
        } else if (rc == NC_OK && failed[0]) {
            node_log(1, "bridge: following again, at height %" PRIu64,
                     (uint64_t)info.n_blocks + applied - 1);
            failed[0] = 0;
        }
    }
    nc_close(&nc);
    return NULL;
}

/* The chain's parameters of a bridge's DIR: DIR/blocks (a chain
 * directory), else DIR/params (written at the first start), else the
 * upstream's, which are then written to DIR/params. The upstream must
 * serve the same chain: when it does not answer and DIR knows the chain
 * (a restart), that is logged and left to bridge_main, which checks it at
 * the upstream's first answer (n->upstream_checked). EXIT_VALID, or
 * EXIT_USAGE / EXIT_INVALID after a message. */
static int bridge_params(node *n, const char *datadir, const char *blocks, bool have_blocks)
{
    char path[4200];
    utxo_params up;
    uint8_t *raw = NULL, pbytes[UTXO_PARAMS_BYTES];
    size_t len = 0;
    nc_client nc;
    int rc;

    snprintf(path, sizeof path, "%s/params", datadir);
    bool known = have_blocks || access(path, F_OK) == 0;
    if (nc_open(&nc, n->upstream, "utxo-node-bridge", &n->stop) != 0)
        return EXIT_USAGE;
    nc.quiet_errors = known; /* a restart says it in the log instead */
    int asked = nc_params(&nc, &up);
    nc_close(&nc);
    if (asked == NC_ERR_REACH && known)
        node_log(0, "bridge: the upstream does not answer (%s): serving what DIR holds, "
                 "its chain checked when it answers", nc.err);
    else if (asked != 0) {
        if (known)
            errorf("%s", nc.err);
        return asked;
    }
    if (!have_blocks) {
        if (known) {
            if (read_file(path, UTXO_PARAMS_BYTES + 1, &raw, &len) != 0)
                return EXIT_USAGE;
            rc = utxo_params_from_bytes(&n->p, raw, len, NULL);
            free(raw);
            if (rc != UTXO_OK || len != UTXO_PARAMS_BYTES) {
                errorf("%s: not a chain's parameters", path);
                return EXIT_INVALID;
            }
        } else {
            if (n->pin && memcmp(up.chain_id, n->pin, UTXO_HASH_BYTES) != 0) {
                errorf("%s serves another chain than --chain-id: nothing written", n->upstream);
                return EXIT_INVALID;
            }
            n->p = up;
            utxo_params_to_bytes(pbytes, &up);
            if (write_file(path, pbytes, sizeof pbytes) != 0)
                return EXIT_USAGE;
        }
    }
    if (n->pin && memcmp(n->p.chain_id, n->pin, UTXO_HASH_BYTES) != 0) {
        errorf("%s holds another chain than --chain-id", have_blocks ? blocks : path);
        return EXIT_INVALID;
    }
    if (asked != 0)
        return EXIT_VALID; /* bridge_main checks the chain when the upstream answers */
    if (memcmp(up.chain_id, n->p.chain_id, UTXO_HASH_BYTES) != 0) {
        errorf("%s serves another chain than %s", n->upstream, have_blocks ? blocks : path);
        return EXIT_INVALID;
    }
    n->upstream_checked = true;
    return EXIT_VALID;
}

static void node_usage(FILE *f)
{
    fprintf(f,
            "Usage: %s node --datadir DIR [--listen ADDR:PORT] [--max-connections N]\n"
            "                 [--max-per-ip N] [--timeout S] [--log FILE] [-v] [-q]\n"
            "                 [--seal-interval S] [--max-tx-cycles N] [--client-cycles N]\n"
            "                 [--exempt-client ADDR]\n"
            "                 [--upstream URL [--poll S] [--chain-id HEX]]\n"
            "\n"
            "Serves the chain directory DIR (made by 'utxo gen' or 'utxo genesis') over\n"
            "HTTP until SIGTERM or SIGINT: its store DIR/node.db (created at first start;\n"
            "the blocks of DIR/blocks it lacks are replayed into it):\n"
            "  GET /status, /params, /block/H, /block/H/raw, /block/H/proof, /roots/H,\n"
            "      /blocks?from=H&count=N, /utxos/ADDRESS-OR-ID, /proof/TXID:INDEX,\n"
            "      /tx/TXID, /mempool, /events?after=H&wait=S (docs/API.md)\n"
            "  POST /tx               a raw transaction: 200 {txid, mempool}, or 400\n"
            "                         {code, message[, input]}\n"
            "  POST /admin/seal, /admin/stop   with 'Authorization: Bearer TOKEN', TOKEN\n"
            "                         the content of DIR/.cookie (new at each start)\n"
            "Roles: a sequencer when DIR holds the sequencer key: POST /tx validates into\n"
            "the mempool (kept in DIR/mempool.journal, synced before the answer) and a\n"
            "block is sealed every S seconds while there is work, appended to DIR/blocks\n"
            "and DIR/proofs and applied to the store; a bridge with --upstream; else a\n"
            "read-only server.\n"
            "  --seal-interval S      a sequencer seals every S s (default 2)\n"
            "  --max-tx-cycles N      a sequencer refuses a transaction whose input budgets\n"
            "                         sum past N (code 354), before running anything: a\n"
            "                         refused one pays nothing for its cycles (default 2^26,\n"
            "                         at most the chain's max_tx_cycles)\n"
            "  --client-cycles N      a sequencer or bridge gives each client address (IPv6:\n"
            "                         its /64) N cycles a second of refused transactions,\n"
            "                         16 seconds' worth saved; each refusal takes the\n"
            "                         input budgets it declared (at most --max-tx-cycles)\n"
            "                         plus 65536, and a client past its allowance gets\n"
            "                         429 with Retry-After\n"
            "                         (default 2^26; 0: no limit)\n"
            "  --exempt-client ADDR   a client never limited nor charged (IPv4 or IPv6, its\n"
            "                         /64; up to 64, repeat the option): a bridge, whose\n"
            "                         refusals are its many clients'\n"
            "  --upstream URL         a bridge: follow the node at URL, validating every\n"
            "                         block fully into the store (DIR may be empty: the\n"
            "                         chain's parameters then come from URL, kept in\n"
            "                         DIR/params); an invalid block stops following;\n"
            "                         POST /tx is handed on to URL\n"
            "  --poll S               a bridge at its tip asks again every S s (default 2)\n"
            "  --chain-id HEX         a bridge follows only this chain (64 hex digits): an\n"
            "                         upstream or DIR of another is refused (exit 1), before\n"
            "                         anything is written at a first start\n"
            "  --listen ADDR:PORT     IPv4 address and port (default 127.0.0.1:%u;\n"
            "                         port 0: any free one; the address is printed)\n"
            "  --max-connections N    connections served at once (default 64; the soft\n"
            "                         descriptor limit is raised to N + 64 if need be)\n"
            "  --max-per-ip N         connections served at once from one client address;\n"
            "                         one more is closed at once (default 0: no limit;\n"
            "                         set it, e.g. a quarter of --max-connections, when\n"
            "                         clients are not all of one host or one proxy)\n"
            "  --timeout S            idle connections closed after S seconds, and one\n"
            "                         whose request line and headers are not whole S\n"
            "                         seconds after it opened (or after its last answer),\n"
            "                         or whose body is not S seconds after them (default 30)\n"
            "  --log FILE             log to FILE (appended; reopened on SIGHUP) instead of stderr\n"
            "  -v, --verbose          log every request (UTC timestamps)\n"
            "  -q, --quiet            log only errors\n"
            "DIR/utxo.conf, when present, sets the same: lines 'key = value' with the keys\n"
            "listen, max-connections, max-per-ip, timeout, log, verbose (-1, 0, 1),\n"
            "upstream, poll, seal-interval, max-tx-cycles, client-cycles, exempt-client\n"
            "(may repeat, added to those of the command line); the command line wins.\n"
            "Prints 'listening on http://ADDR:PORT' once serving. A second node on DIR\n"
            "exits 2 (the store is in use). Exit: 0 stopped by a signal or /admin/stop,\n"
            "1 an upstream of another chain or a chain directory that does not check,\n"
            "2 usage/I/O/store or an upstream unreachable at first start.\n"
            "\nexample:\n  %s node --datadir chain --listen 127.0.0.1:8750\n"
            "  curl http://127.0.0.1:8750/status\n",
            prog_name, NODE_DEFAULT_PORT, prog_name);
}

/* Descriptors the node keeps beside its connections: the store's (the
 * database, its WAL and shared memory, SQLite's temporary files), the
 * block, proof and journal files and their rewrites, the log, the
 * listening socket, libmicrohttpd's and libcurl's. */
#define NODE_FD_RESERVE 64u

/* Makes room for max_conn connections in the descriptor limit: the soft
 * limit is raised to max_conn + NODE_FD_RESERVE when it is lower (as far
 * as the hard limit allows; systemd's soft limit is 1024). Under a lower
 * limit the clients could take every descriptor: accept() failed ("Too
 * many open files"), and so did the node's own opens (a seal's journal
 * rewrite, the log's reopen on SIGHUP). 0, or -1 after a message. */
static int fd_room(uint64_t max_conn)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)max_conn + NODE_FD_RESERVE;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want)
        return 0;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
        errorf("--max-connections %" PRIu64 " needs %" PRIu64 " file descriptors, and this "
               "process may open %" PRIu64 " (ulimit -Hn): lower max-connections or raise the "
               "limit (LimitNOFILE= under systemd)",
               max_conn, (uint64_t)want, (uint64_t)rl.rlim_max);
        return -1;
    }
    rl.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        errorf("--max-connections %" PRIu64 ": cannot raise the file descriptor limit to %"
               PRIu64 ": %s", max_conn, (uint64_t)want, strerror(errno));
        return -1;
    }
    return 0;
}

static bool parse_listen(const char *s, struct sockaddr_in *sa)
{
    char host[64];
    const char *colon = strrchr(s, ':');
    uint32_t port;

    if (!colon || (size_t)(colon - s) >= sizeof host || colon == s)
        return false;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    if (!parse_dec_u32(colon + 1, strlen(colon + 1), &port) || port > 65535)
        return false;
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1;
}

int cmd_node(int argc, char **argv)
{
    const char *datadir = NULL, *chain_hex = NULL;
    uint8_t pin[UTXO_HASH_BYTES], *pinned = NULL;
    node_conf conf;
    enum { OPT_DATADIR = 256, OPT_LISTEN, OPT_MAXCONN, OPT_PERIP, OPT_TIMEOUT, OPT_LOG, OPT_UPSTREAM,
           OPT_POLL, OPT_SEAL, OPT_MAXCYC, OPT_CLIENTCYC, OPT_CHAIN, OPT_EXEMPT };
    static const struct option opts[] = {
        {"datadir", required_argument, NULL, OPT_DATADIR},
        {"upstream", required_argument, NULL, OPT_UPSTREAM},
        {"poll", required_argument, NULL, OPT_POLL},
        {"seal-interval", required_argument, NULL, OPT_SEAL},
        {"max-tx-cycles", required_argument, NULL, OPT_MAXCYC},
        {"client-cycles", required_argument, NULL, OPT_CLIENTCYC},
        {"exempt-client", required_argument, NULL, OPT_EXEMPT},
        {"chain-id", required_argument, NULL, OPT_CHAIN},
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"max-connections", required_argument, NULL, OPT_MAXCONN},
        {"max-per-ip", required_argument, NULL, OPT_PERIP},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"log", required_argument, NULL, OPT_LOG},
        {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},
        CLI_HELP_OPTION,
        {NULL, 0, NULL, 0},
    };
    cli cl = CLI_INIT("node", node_usage, "vq", opts);
    struct sockaddr_in sa;
    char blocks[4096], db[4096], msg[512];
    node n;
    utxo_chainfile *cf = NULL;
    size_t eo = 0;
    int c, rc, ex = EXIT_USAGE;
    struct MHD_Daemon *d = NULL;
    sigset_t set;
    pthread_t bridge, sealer, syncer, pooler;
    bool bridging = false, sealing = false, syncing = false, pooling = false, have_blocks,
         have_key;

    memset(&conf, 0, sizeof conf);
    snprintf(conf.listen, sizeof conf.listen, "127.0.0.1:%u", NODE_DEFAULT_PORT);
    conf.max_conn = 64;
    conf.timeout = 30;
    conf.poll = 2;
    conf.seal = 2;
    conf.max_tx_cycles = NODE_MAX_TX_CYCLES;
    conf.client_cycles = NODE_CLIENT_CYCLES;
    while ((c = cli_next(&cl, argc, argv)) != -1) {
        switch (c) {
        case CLI_STOP: return cl.status;
        case OPT_DATADIR: datadir = optarg; break;
        case OPT_LISTEN:
            if (snprintf(conf.listen, sizeof conf.listen, "%s", optarg) >= (int)sizeof conf.listen)
                return usage_error(cl.cmd, "--listen wants IPV4-ADDRESS:PORT");
            conf.set_listen = true;
            break;
        case OPT_MAXCONN:
            if (!cli_u64(&cl, 1, 10000, &conf.max_conn))
                return EXIT_USAGE;
            conf.set_max_conn = true;
            break;
        case OPT_PERIP:
            if (!cli_u64(&cl, 0, 10000, &conf.max_per_ip))
                return EXIT_USAGE;
            conf.set_max_per_ip = true;
            break;
        case OPT_TIMEOUT:
            if (!cli_u64(&cl, 1, 3600, &conf.timeout))
                return EXIT_USAGE;
            conf.set_timeout = true;
            break;
        case OPT_LOG:
            if (snprintf(conf.log, sizeof conf.log, "%s", optarg) >= (int)sizeof conf.log)
                return usage_error(cl.cmd, "--log FILE: the path is too long");
            conf.set_log = true;
            break;
        case OPT_UPSTREAM:
            if (snprintf(conf.upstream, sizeof conf.upstream, "%s", optarg) >=
                (int)sizeof conf.upstream)
                return usage_error(cl.cmd, "--upstream URL too long");
            conf.set_upstream = true;
            break;
        case OPT_POLL:
            if (!cli_u64(&cl, 1, 3600, &conf.poll))
                return EXIT_USAGE;
            conf.set_poll = true;
            break;
        case OPT_SEAL:
            if (!cli_u64(&cl, 1, 86400, &conf.seal))
                return EXIT_USAGE;
            conf.set_seal = true;
            break;
        case OPT_MAXCYC:
            if (!cli_u64(&cl, 1, UINT64_MAX, &conf.max_tx_cycles))
                return EXIT_USAGE;
            conf.set_max_tx_cycles = true;
            break;
        case OPT_CHAIN: chain_hex = optarg; break;
        case OPT_EXEMPT:
            if (!conf_exempt(&conf, optarg))
                return usage_error(cl.cmd, "--exempt-client wants an IPv4 or IPv6 address (at "
                                           "most %u), not '%s'", RL_EXEMPT_MAX, optarg);
            break;
        case OPT_CLIENTCYC:
            if (!cli_u64(&cl, 0, RL_MAX_RATE, &conf.client_cycles))
                return EXIT_USAGE;
            conf.set_client_cycles = true;
            break;
        case 'v': conf.verbose = 1; conf.set_verbose = true; break;
        case 'q': conf.verbose = -1; conf.set_verbose = true; break;
        }
    }
    if ((rc = cli_operands(&cl, argc, argv, 0, 0, "")) != 0)
        return rc;
    if (!datadir)
        return usage_error(cl.cmd, "--datadir DIR is required");
    if (conf_read(&conf, datadir) != EXIT_VALID)
        return EXIT_USAGE;
    if (!parse_listen(conf.listen, &sa))
        return usage_error(cl.cmd, "--listen wants IPV4-ADDRESS:PORT, not '%s'", conf.listen);
    if (chain_hex && !conf.upstream[0])
        return usage_error(cl.cmd, "--chain-id belongs to a bridge (--upstream URL)");
    if (parse_chain_id(cl.cmd, chain_hex, &pinned) != 0)
        return EXIT_USAGE;
    if (pinned) {
        memcpy(pin, pinned, sizeof pin);
        free(pinned);
    }

    if (conf.upstream[0] && strncmp(conf.upstream, "http://", 7) != 0 &&
        strncmp(conf.upstream, "https://", 8) != 0)
        return usage_error(cl.cmd, "--upstream wants an http:// or https:// URL, not '%s'",
                           conf.upstream);

    memset(&n, 0, sizeof n);
    pthread_mutex_init(&n.lock, NULL);
    pthread_mutex_init(&n.ev_lock, NULL);
    pthread_mutex_init(&n.conn_lock, NULL);
    pthread_cond_init(&n.idle_cond, NULL);
    pthread_cond_init(&n.seal_cond, NULL);
    pthread_mutex_init(&n.jlock, NULL);
    pthread_mutex_init(&n.seq_lock, NULL);
    pthread_cond_init(&n.jcond, NULL);
    pthread_cond_init(&n.qcond, NULL);
    n.upstream = conf.upstream[0] ? conf.upstream : NULL;
    n.pin = chain_hex ? pin : NULL;
    n.poll_s = conf.poll;
    n.seal_s = conf.seal;
    n.request_ns = conf.timeout * 1000000000u;
    n.datadir = datadir;
    G_LOG.verbose = conf.verbose;
    if (conf.log[0]) {
        G_LOG.path = conf.log;
        if (log_open() != 0) {
            errorf("--log %s: %s", conf.log, afile_errtext(errno));
            return EXIT_USAGE;
        }
    }
    if (fd_room(conf.max_conn) != 0)
        return EXIT_USAGE;
    snprintf(blocks, sizeof blocks, "%s/blocks", datadir);
    snprintf(db, sizeof db, "%s/node.db", datadir);
    have_blocks = access(blocks, F_OK) == 0;
    {
        char key[4200];
        snprintf(key, sizeof key, "%s/%s", datadir, CHAIN_KEY_FILE);
        have_key = have_blocks && !n.upstream && access(key, F_OK) == 0;
    }
    if (have_blocks || !n.upstream) {
        rc = utxo_chainfile_open(&cf, blocks, UTXO_CHAINFILE_BLOCKS, &n.p, &eo);
        if (rc != UTXO_OK) {
            errorf("%s: not a chain directory: %s: %s", datadir, blocks,
                   rc == UTXO_ERR_IO ? afile_errtext(errno) : utxo_strerror(rc));
            return rc == UTXO_ERR_IO ? EXIT_USAGE : EXIT_INVALID;
        }
        (void)utxo_chainfile_close(cf);
    }
    if (n.upstream) {
        if (mkdir(datadir, 0777) != 0 && errno != EEXIST) {
            errorf("%s: %s", datadir, afile_errtext(errno));
            return EXIT_USAGE;
        }
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
            errorf("cannot start libcurl");
            return EXIT_USAGE;
        }
        if ((rc = bridge_params(&n, datadir, blocks, have_blocks)) != EXIT_VALID) {
            curl_global_cleanup();
            return rc;
        }
    }
    rc = utxo_store_open(&n.s, db, &n.p, UTXO_STORE_CREATE, 0, msg, sizeof msg);
    if (rc == UTXO_ERR_STORE_BUSY) {
        const char *pid = strstr(msg, "pid ");
        long who = 0;
        if (pid && sscanf(pid, "pid %ld", &who) == 1)
            errorf("%s: in use by pid %ld (%s is held by another writer)", datadir, who, db);
        else
            errorf("%s: in use (%s)", datadir, msg);
        return EXIT_USAGE;
    }
    if (rc != UTXO_OK) {
        errorf("%s: %s", db, msg[0] ? msg : utxo_strerror(rc));
        return EXIT_USAGE;
    }
    if (have_key) { /* the sequencer: its chain in memory, the files repaired */
        uint32_t cut = 0;
        rc = chain_seq_open_live(&n.seq, datadir, n.s, 0, NODE_SEQ_PO2, &cut, msg, sizeof msg);
        if (rc != UTXO_OK) {
            errorf("%s: %s", datadir, msg[0] ? msg : utxo_strerror(rc));
            ex = rc == UTXO_ERR_IO || rc == UTXO_ERR_ARG || rc == UTXO_ERR_STORE_BUSY
                     ? EXIT_USAGE
                     : EXIT_INVALID;
            goto out;
        }
        chain_seq_set_store_lock(n.seq, &n.lock);
        if (cut)
            node_log(0, "%s ended in a torn record (a crash while sealing): cut off", blocks);
    }
    if (have_blocks) {
        utxo_sync_opts so;
        utxo_pipe_result res;
        utxo_store_info before, after;
        memset(&so, 0, sizeof so);
        utxo_store_get_info(n.s, &before);
        rc = utxo_replay_file(n.s, blocks, &so, &res);
        utxo_store_get_info(n.s, &after);
        if (rc != UTXO_OK) {
            /* res.reason, not utxo_store_errmsg: the replay's last store
             * call (turning its pipeline off) succeeded and cleared that */
            errorf("%s: replaying %s stopped at height %" PRIu32 ": %s", datadir, blocks,
                   after.n_blocks, res.reason[0] ? res.reason : utxo_strerror(rc));
            ex = rc == UTXO_ERR_IO ? EXIT_USAGE : EXIT_INVALID;
            goto out;
        }
        node_log(1, "store %s: %" PRIu32 " blocks (%" PRIu32 " replayed from %s)", db,
                 after.n_blocks, after.n_blocks - before.n_blocks, blocks);
        if (n.seq && after.n_blocks != chain_seq_next_height(n.seq)) {
            errorf("%s: the store holds %" PRIu32 " blocks, %s %" PRIu32
                   ": the store belongs to another chain file (move %s away to rebuild it)",
                   datadir, after.n_blocks, blocks, chain_seq_next_height(n.seq), db);
            ex = EXIT_INVALID;
            goto out;
        }
    }
    /* what the mempool runs at most (mp_set_policy), a bridge's upstream too */
    n.max_tx_cycles =
        conf.max_tx_cycles < n.p.max_tx_cycles ? conf.max_tx_cycles : n.p.max_tx_cycles;
    if (conf.client_cycles > 0 && (n.seq || n.upstream)) { /* they take transactions */
        uint64_t burst = conf.client_cycles * NODE_CLIENT_BURST;
        if ((n.rl = rl_new(conf.client_cycles, burst < RL_MAX_BURST ? burst : RL_MAX_BURST)) ==
            NULL) {
            errorf("out of memory");
            goto out;
        }
        for (unsigned i = 0; i < conf.n_exempt; i++)
            (void)rl_exempt(n.rl, (const struct sockaddr *)&conf.exempt[i]);
    }
    if (n.seq) {
        char jpath[4200];
        size_t got = 0;
        bool jcut = false;
        snprintf(jpath, sizeof jpath, "%s/mempool.journal", datadir);
        rc = chain_journal_open(&n.journal, jpath, &n.p, journal_resubmit, &n, &got, &jcut, msg,
                                sizeof msg);
        if (rc != UTXO_OK) {
            errorf("%s", msg);
            ex = rc == UTXO_ERR_IO ? EXIT_USAGE : EXIT_INVALID;
            goto out;
        }
        if (jcut)
            node_log(0, "%s ended in a torn record (a crash while accepting): %s", jpath,
                     strncmp(msg, jpath, strlen(jpath)) == 0 ? msg + strlen(jpath) + 2 : msg);
        if ((rc = chain_journal_rewrite(n.journal, chain_seq_mempool(n.seq))) != UTXO_OK) {
            errorf("cannot rewrite %s: %s", jpath, afile_errtext(errno));
            goto out;
        }
        pool_publish(&n);
        node_log(1, "mempool: %zu transactions back from %s (%zu recorded)",
                 mp_count(chain_seq_mempool(n.seq)), jpath, got);
        /* the policy for what comes now: what the journal held was
         * acknowledged, and a lower --max-tx-cycles does not drop it */
        mp_set_policy(chain_seq_mempool(n.seq), conf.max_tx_cycles);
    }
    if (cookie_write(&n) != 0)
        goto out;

    /* the signals are taken by sigtimedwait below, in this thread; the
     * threads made from here on block them. The store's threads, made
     * before, do not: one of them takes a signal that comes while this
     * thread is not waiting (during the stop, or waking /events), and the
     * handler notes it for the loop. (Before, that thread ran main's
     * handler, which kills: a SIGHUP for a log rotation could kill the
     * node, and a second SIGTERM cut its stop short, exit 143.) */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    signals_catch(node_on_signal, SA_RESTART, true);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* poll(), not select(): select takes no descriptor from FD_SETSIZE
     * (1024) on, and libmicrohttpd closed every connection above about
     * 1,000 at once, whatever --max-connections said */
    d = MHD_start_daemon(MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
                             MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL,
                         handle, &n, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                         MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                         MHD_OPTION_CONNECTION_LIMIT, (unsigned)conf.max_conn,
                         /* 0: none (libmicrohttpd's default) */
                         MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)conf.max_per_ip,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)conf.timeout,
                         MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
                         MHD_OPTION_NOTIFY_COMPLETED, request_done, &n,
                         MHD_OPTION_NOTIFY_CONNECTION, conn_notify, &n,
                         MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL, MHD_OPTION_END);
    if (!d) {
        errorf("cannot listen on %s: %s", conf.listen, strerror(errno));
        goto out;
    }
    {
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
        char addr[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &sa.sin_addr, addr, sizeof addr);
        printf("listening on http://%s:%u\n", addr, di ? (unsigned)di->port : 0u);
        fflush(stdout);
        node_log(1, "serving %s on %s:%u%s%s", datadir, addr, di ? (unsigned)di->port : 0u,
                 n.upstream ? ", following " : "", n.upstream ? n.upstream : "");
    }
    if (n.upstream) {
        if ((rc = pthread_create(&bridge, NULL, bridge_main, &n)) != 0) {
            errorf("cannot start the bridge thread: %s", strerror(rc));
            goto out;
        }
        bridging = true;
        if ((rc = pthread_create(&pooler, NULL, forward_main, &n)) != 0) {
            errorf("cannot start the forwarding thread: %s", strerror(rc));
            goto out;
        }
        pooling = true;
    }
    if (n.seq) {
        if ((rc = pthread_create(&sealer, NULL, seal_main, &n)) != 0) {
            errorf("cannot start the sealing thread: %s", strerror(rc));
            goto out;
        }
        sealing = true;
        if ((rc = pthread_create(&syncer, NULL, sync_main, &n)) != 0) {
            errorf("cannot start the journal thread: %s", strerror(rc));
            goto out;
        }
        syncing = true;
        if ((rc = pthread_create(&pooler, NULL, pool_main, &n)) != 0) {
            errorf("cannot start the mempool thread: %s", strerror(rc));
            goto out;
        }
        pooling = true;
    }
    for (;;) {
        struct timespec one = {1, 0};
        int sig = sigtimedwait(&set, NULL, &one);
        if (sig < 0) { /* a second went by, or a signal some other thread took */
            unsigned got = atomic_exchange(&G_NODE_SIGNALS, 0u);
            sig = got & (1u << SIGTERM) ? SIGTERM
                  : got & (1u << SIGINT) ? SIGINT
                  : got & (1u << SIGHUP) ? SIGHUP
                                         : -1;
        }
        if (sig < 0) { /* waiting /events requests look again */
            events_wake(&n, false);
            mhd_log_flush(false); /* the count of libmicrohttpd lines left out */
            size_t cut = conns_reap(&n);
            if (cut > 0)
                node_log(1, "%zu connection%s sent no whole request head within %" PRIu64
                         " s: closed", cut, cut == 1 ? "" : "s", conf.timeout);
            continue;
        }
        if (sig == SIGHUP) {
            if (!G_LOG.path) {
                node_log(1, "SIGHUP: nothing to reopen (the log is stderr)");
            } else if (log_open() != 0) {
                node_log(0, "SIGHUP: cannot reopen %s: %s (logging on to the old file)",
                         G_LOG.path, afile_errtext(errno));
            } else {
                node_log(1, "SIGHUP: log reopened");
            }
            continue;
        }
        node_log(1, "%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
        break;
    }
    ex = EXIT_VALID;
out:
    pthread_mutex_lock(&n.lock);
    n.stop = 1;
    pthread_cond_broadcast(&n.seal_cond);
    pthread_mutex_unlock(&n.lock);
    if (bridging)
        pthread_join(bridge, NULL);
    if (sealing)
        pthread_join(sealer, NULL);
    pthread_mutex_lock(&n.lock); /* the seals still asked for: none will come */
    seal_asked_release(&n);
    pthread_mutex_unlock(&n.lock);
    pthread_mutex_lock(&n.jlock);
    n.q_stop = 1; /* what is queued answers 503 */
    pthread_cond_broadcast(&n.qcond);
    pthread_mutex_unlock(&n.jlock);
    if (pooling)
        pthread_join(pooler, NULL);
    pthread_mutex_lock(&n.jlock);
    n.j_stop = 1;
    pthread_cond_broadcast(&n.jcond);
    pthread_mutex_unlock(&n.jlock);
    if (syncing)
        pthread_join(syncer, NULL); /* after a last sync of what was written */
    if (d) {
        /* a resumed /events request must not suspend again before the
         * daemon stops (it would abort: "called while we have suspended
         * connections") */
        events_wake(&n, true);
        MHD_socket listener = requests_drain(&n, d);
        MHD_stop_daemon(d);
        if (listener != MHD_INVALID_SOCKET)
            close(listener);
        mhd_log_flush(true);
    }
    if (n.upstream)
        curl_global_cleanup();
    free(n.waiters);
    rl_free(n.rl);
    free(n.syncing);
    free(n.syncing_seq);
    free(n.q);
    free(n.jbuf);
    if (n.cookie[0]) {
        char cpath[4200];
        snprintf(cpath, sizeof cpath, "%s/.cookie", datadir);
        unlink(cpath);
    }
    chain_journal_close(n.journal);
    if (n.seq && chain_seq_close(n.seq, true) != UTXO_OK && ex == EXIT_VALID) {
        errorf("%s: closing the block and proof files failed", datadir);
        ex = EXIT_USAGE;
    }
    utxo_store_close(n.s);
    pthread_cond_destroy(&n.seal_cond);
    pthread_cond_destroy(&n.idle_cond);
    pthread_cond_destroy(&n.jcond);
    pthread_cond_destroy(&n.qcond);
    pthread_mutex_destroy(&n.jlock);
    pthread_mutex_destroy(&n.seq_lock);
    pthread_mutex_destroy(&n.conn_lock); /* every connection closed: none watched */
    pthread_mutex_lock(&G_LOG.lock);
    if (G_LOG.f)
        fclose(G_LOG.f);
    G_LOG.f = NULL;
    G_LOG.path = NULL;
    pthread_mutex_unlock(&G_LOG.lock);
    return ex;
}
