/*
 * client/client.c — the public node client (utxo/client.h) over the nc_
 * layer (nodeclient.h): JSON answers read with jansson, every field
 * checked before it is used.
 */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "utxo/client.h"
#include "client/nodeclient.h"

#define CLIENT_BATCH 100u          /* blocks per /blocks request */
#define CLIENT_MAX_ANSWER (1u << 16) /* bytes of a JSON answer */

struct utxo_client {
    nc_client nc;
};

static int from_nc(int rc)
{
    return rc == 0 ? UTXO_OK : rc == NC_ERR_DATA ? UTXO_ERR_CLIENT_ANSWER : UTXO_ERR_CLIENT_REACH;
}

static void client_say(utxo_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void client_say(utxo_client *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->nc.err, sizeof c->nc.err, fmt, ap);
    va_end(ap);
}

/* Whether url parses (libcurl's parser, which the requests use) with a
 * host, no control character, and a port, when it names one, of 1..65535:
 * a mistyped URL is the caller's argument, not an unreachable node. */
static bool url_ok(const char *url)
{
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return false;
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL;
    bool ok = u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host[0] != 0;
    if (ok && curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK) {
        char *end = NULL;
        unsigned long n = strtoul(port, &end, 10);
        ok = *end == 0 && n >= 1 && n <= 65535;
    }
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return ok;
}

int utxo_client_open(utxo_client **out, const char *url)
{
    utxo_client *c;

    if (out == NULL)
        return UTXO_ERR_ARG;
    *out = NULL;
    if (url == NULL || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) ||
        !url_ok(url))
        return UTXO_ERR_ARG;
    if ((c = calloc(1, sizeof *c)) == NULL)
        return UTXO_ERR_NOMEM;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) { /* counted: one per client */
        free(c);
        return UTXO_ERR_NOMEM;
    }
    if (nc_open(&c->nc, url, "libutxo-client/" PACKAGE_VERSION, NULL) != 0) {
        int rc = c->nc.h == NULL && strlen(url) < sizeof c->nc.base - 64 ? UTXO_ERR_NOMEM
                                                                        : UTXO_ERR_ARG;
        nc_close(&c->nc);
        curl_global_cleanup();
        free(c);
        return rc;
    }
    c->nc.quiet_errors = 1;
    *out = c;
    return UTXO_OK;
}

void utxo_client_close(utxo_client *c)
{
    if (c == NULL)
        return;
    nc_close(&c->nc);
    curl_global_cleanup();
    free(c);
}

const char *utxo_client_errmsg(const utxo_client *c)
{
    return c ? c->nc.err : "";
}

/* The start of every call on c: clears the message the call before left
 * (utxo_client_errmsg is the last call's). False for a NULL c, so it heads
 * the argument checks: if (!client_enter(c) || ...) return UTXO_ERR_ARG. */
static bool client_enter(utxo_client *c)
{
    if (c == NULL)
        return false;
    c->nc.err[0] = 0;
    return true;
}

int utxo_client_params(utxo_client *c, utxo_params *p)
{
    if (!client_enter(c) || p == NULL)
        return UTXO_ERR_ARG;
    return from_nc(nc_params(&c->nc, p));
}

/* A JSON string of exactly 2n hex digits into out[n]. */
static bool json_hex(const json_t *v, uint8_t *out, size_t n)
{
    const char *s = json_string_value(v);
    size_t got = 0;
    return s && strlen(s) == 2 * n && sodium_hex2bin(out, n, s, 2 * n, NULL, &got, NULL) == 0 &&
           got == n;
}

static bool json_u64(const json_t *v, uint64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return false;
    *out = (uint64_t)json_integer_value(v);
    return true;
}

int utxo_client_get_status(utxo_client *c, utxo_client_status *st)
{
    membuf m;
    json_t *j, *h, *mp;
    const char *role;
    uint64_t height = 0;
    int rc;

    if (!client_enter(c) || st == NULL)
        return UTXO_ERR_ARG;
    memset(st, 0, sizeof *st);
    if ((rc = nc_get(&c->nc, "/status", CLIENT_MAX_ANSWER, &m)) != 0)
        return from_nc(rc);
    j = json_loadb((const char *)m.p, m.len, 0, NULL);
    free(m.p);
    h = json_object_get(j, "height");
    mp = json_object_get(j, "mempool");
    role = json_string_value(json_object_get(j, "role"));
    bool ok = json_is_object(j) && (json_is_null(h) || (json_u64(h, &height) && height <= UINT32_MAX)) &&
              json_hex(json_object_get(j, "roots_digest"), st->roots_digest, UTXO_HASH_BYTES) &&
              json_hex(json_object_get(j, "chain_id"), st->chain_id, UTXO_HASH_BYTES) &&
              json_hex(json_object_get(j, "tip"), st->tip, UTXO_HASH_BYTES) &&
              json_u64(json_object_get(j, "leaves"), &st->leaves) &&
              json_u64(json_object_get(j, "utxos"), &st->utxos) &&
              (mp == NULL || json_u64(mp, &st->mempool)) && role && strlen(role) < sizeof st->role;
    if (ok) {
        st->height = json_is_null(h) ? -1 : (int64_t)height;
        snprintf(st->role, sizeof st->role, "%s", role);
    }
    json_decref(j);
    if (!ok) {
        memset(st, 0, sizeof *st);
        client_say(c, "%s/status: not a node's status", c->nc.base);
        return UTXO_ERR_CLIENT_ANSWER;
    }
    return UTXO_OK;
}

/* Whether a node may refuse a transaction with code c (docs/API.md, POST
 * /tx): a decoding error, a transaction or block rule, a predicate image's
 * or the mempool's verdict. Anything else (the caller's own codes, such as
 * NOMEM or the client's, or a number no verdict has) would read as what it
 * is not: such an answer is UTXO_ERR_CLIENT_ANSWER. */
static bool refusal_code(uint64_t c)
{
    return (c >= UTXO_ERR_TRUNCATED && c < 100) || (c >= UTXO_ERR_IMAGE && c < 120) ||
           (c >= UTXO_ERR_MP_CONFLICT && c < 370);
}

int utxo_client_submit(utxo_client *c, const utxo_tx *tx, uint8_t txid[UTXO_HASH_BYTES],
                       utxo_verdict *v)
{
    uint8_t *raw = NULL;
    size_t len, w = 0;
    long status = 0;
    membuf m;
    json_t *j = NULL;
    uint64_t code = 0, input = 0;
    const char *msg;
    int rc;

    if (v != NULL)
        memset(v, 0, sizeof *v);
    if (!client_enter(c) || tx == NULL)
        return UTXO_ERR_ARG;
    len = utxo_tx_get_length(tx, true);
    if ((raw = malloc(len)) == NULL)
        return UTXO_ERR_NOMEM;
    if ((rc = utxo_tx_to_bytes(tx, raw, len, &w)) != UTXO_OK) {
        free(raw);
        return rc;
    }
    rc = nc_post(&c->nc, "/tx", raw, w, CLIENT_MAX_ANSWER, &status, &m);
    free(raw);
    if (rc != 0)
        return from_nc(rc);
    j = json_loadb((const char *)m.p, m.len, 0, NULL);
    free(m.p);
    char shown[sizeof c->nc.err];
    msg = json_string_value(json_object_get(j, "message"));
    if (msg != NULL) /* the node's text, shown to a user: no escapes, no line breaks */
        msg = nc_printable(shown, sizeof shown, msg);
    uint8_t named[UTXO_HASH_BYTES], own[UTXO_HASH_BYTES];
    utxo_tx_txid(tx, own);
    if (status == 200 && json_hex(json_object_get(j, "txid"), named, sizeof named) &&
        sodium_memcmp(named, own, sizeof own) == 0) {
        if (txid != NULL) /* an answer is checked whether or not the caller keeps its txid */
            memcpy(txid, named, sizeof named);
        rc = UTXO_OK;
    } else if (status == 200 && json_hex(json_object_get(j, "txid"), named, sizeof named)) {
        /* a node (or a proxy, a bridge's upstream) taking another
         * transaction has not taken this one */
        rc = UTXO_ERR_CLIENT_ANSWER;
        client_say(c, "%s/tx: HTTP 200 naming another transaction than the one sent", c->nc.base);
    } else if ((status >= 500 || status == 429) && msg) {
        /* the node (or a bridge's upstream) could not take it, or not from
         * this client now (429: its allowance of refused work spent): no
         * verdict */
        rc = UTXO_ERR_CLIENT_REACH;
        client_say(c, "%s could not take the transaction (HTTP %ld): %s", c->nc.base, status, msg);
    } else if ((status == 400 || status == 413) && json_u64(json_object_get(j, "code"), &code) &&
               refusal_code(code) && msg) {
        rc = (int)code; /* the node's verdict */
        if (json_u64(json_object_get(j, "input"), &input) && input <= UINT32_MAX && v != NULL)
            v->input = (uint32_t)input;
        if (v != NULL)
            v->err = rc;
        client_say(c, "%s refused the transaction: %s", c->nc.base, msg);
    } else {
        rc = UTXO_ERR_CLIENT_ANSWER;
        client_say(c, "%s/tx: HTTP %ld%s%s", c->nc.base, status, msg ? ": " : "", msg ? msg : "");
    }
    json_decref(j);
    return rc;
}

/* ---- a wallet synced from /blocks --------------------------------------------- */

typedef struct sync_run {
    utxo_wallet *w;
    const utxo_sync_opts *o;
    utxo_pipe_result *res;
    int err;      /* the wallet's verdict on a block it refused */
    bool stopped; /* the progress callback asked to stop */
} sync_run;

static int sync_pair(void *ud, uint32_t height, const utxo_block *b, const utxo_bundle *bu,
                     const uint8_t *bundle_bytes, size_t bundle_len, char *err, size_t err_len)
{
    sync_run *s = ud;
    utxo_verdict vd;
    int rc;

    (void)bundle_bytes;
    (void)bundle_len;
    if ((rc = utxo_wallet_apply_block(s->w, b, bu, &vd)) != UTXO_OK) {
        s->err = rc;
        s->res->verdict = vd;
        s->res->height = height;
        if (rc == UTXO_ERR_BLOCK_PREV)
            snprintf(err, err_len, "the node's block %" PRIu32 " does not extend the wallet's tip "
                     "(the node follows another branch: roll the wallet back to where they agree)",
                     height);
        else
            nc_refused(err, err_len, "node", height, rc, &vd);
        return 1;
    }
    s->res->applied++;
    if (s->o != NULL && s->o->progress != NULL) {
        utxo_pipe_progress pr;
        memset(&pr, 0, sizeof pr);
        pr.event = UTXO_PIPE_APPLIED;
        pr.height = height;
        pr.record = height;
        pr.applied = s->res->applied;
        pr.bytes_done = height + 1u;
        pr.block = b;
        pr.bundle = bu;
        pr.verdict = &vd;
        if (s->o->progress(s->o->ctx, &pr) != 0) {
            s->stopped = true;
            snprintf(err, err_len, "stopped");
            return 1;
        }
    }
    return 0;
}

int utxo_client_sync_wallet(utxo_client *c, utxo_wallet *w, const utxo_sync_opts *o,
                            utxo_pipe_result *res)
{
    utxo_pipe_result own;
    utxo_params mine, theirs;
    sync_run s;
    int rc;

    if (res == NULL)
        res = &own;
    memset(res, 0, sizeof *res);
    if (!client_enter(c) || w == NULL)
        return res->err = UTXO_ERR_ARG;
    memset(&s, 0, sizeof s);
    s.w = w;
    s.o = o;
    s.res = res;
    if ((rc = from_nc(nc_params(&c->nc, &theirs))) != UTXO_OK)
        goto out;
    utxo_wallet_params(w, &mine);
    if (memcmp(mine.chain_id, theirs.chain_id, UTXO_HASH_BYTES) != 0) {
        client_say(c, "%s serves another chain than the wallet's", c->nc.base);
        rc = UTXO_ERR_CLIENT_CHAIN;
        res->invalid = true;
        goto out;
    }
    for (;;) {
        long long tip = nc_tip(&c->nc);
        uint32_t next = utxo_wallet_next_height(w), got = 0;
        if (tip == -2) {
            rc = UTXO_ERR_CLIENT_REACH;
            break;
        }
        if (o != NULL && o->to != 0 && tip >= (long long)o->to)
            tip = (long long)o->to - 1;
        if (tip < 0 || next > (unsigned long long)tip) {
            rc = UTXO_OK;
            break;
        }
        uint64_t want = (uint64_t)tip - next + 1;
        int nr = nc_blocks(&c->nc, &mine, next, want > CLIENT_BATCH ? CLIENT_BATCH : (uint32_t)want,
                           sync_pair, &s, &got);
        if (s.stopped) {
            res->stopped = true;
            c->nc.err[0] = 0;
            rc = UTXO_OK;
            break;
        }
        if (nr == NC_INVALID) {
            rc = s.err ? s.err : UTXO_ERR_CLIENT_ANSWER;
            res->invalid = true;
            break;
        }
        if (nr != NC_OK) {
            rc = UTXO_ERR_CLIENT_REACH;
            break;
        }
    }
out:
    res->err = rc;
    if (rc != UTXO_OK)
        snprintf(res->reason, sizeof res->reason, "%.300s", c->nc.err[0] ? c->nc.err : utxo_strerror(rc));
    return rc;
}
