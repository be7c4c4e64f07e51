/*
 * client/nodeclient.c — a node's HTTP API from the client side, with
 * libcurl (nodeclient.h): under `utxo follow`, the bridge role of
 * `utxo node`, `utxo wallet ... --node` and the public utxo_client_ API.
 */
#include "config.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "client/nodeclient.h"
#include "utxo/clock.h"

static void (*nc_reporter)(const char *msg);

void nc_set_reporter(void (*fn)(const char *msg))
{
    nc_reporter = fn;
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void nc_fail(nc_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void nc_fail(nc_client *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    if (!c->quiet_errors && nc_reporter)
        nc_reporter(c->err);
}

/* libcurl calls this about once a second even when no byte arrives: a
 * signal aborts a transfer that is waiting on a stalled node, and so does
 * a /blocks pair past its deadline (a node trickling a byte a second
 * passes the low-speed rule). */
static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    nc_client *c = ud;
    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    return (c->stop && atomic_load(c->stop) != 0) ||
           (c->pair_deadline_ns != 0 && clock_now_ns() > c->pair_deadline_ns);
}

/* The deadline of the next /blocks pair: c->timeout_s from now. */
static uint64_t pair_deadline(const nc_client *c)
{
    return clock_now_ns() + (uint64_t)c->timeout_s * UINT64_C(1000000000);
}

static size_t to_membuf(char *data, size_t size, size_t n, void *ud)
{
    membuf *m = ud;
    size_t k = size * n;
    if (k > m->max - m->len) {
        m->over = 1;
        return 0; /* larger than any answer we expect: abort */
    }
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

char *nc_printable(char *out, size_t out_len, const char *s)
{
    size_t i = 0;

    if (out_len == 0)
        return out;
    for (; s[i] != 0 && i + 1 < out_len; i++)
        out[i] = (unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e ? '?' : s[i];
    out[i] = 0;
    return out;
}

/* An answer other than 200: the status and the node's JSON error message
 * when the body is one (any other body, a proxy's page, is not echoed). */
static void fail_status(nc_client *c, const char *url, long status, const membuf *body)
{
    json_t *j = json_loadb((const char *)body->p, body->len, 0, NULL);
    const char *msg = j ? json_string_value(json_object_get(j, "message")) : NULL;
    char shown[sizeof c->err];
    nc_fail(c, "%s: HTTP %ld%s%s", url, status, msg ? ": " : "",
            msg ? nc_printable(shown, sizeof shown, msg) : "");
    json_decref(j);
}

/* A transfer that failed: libcurl's reason, or the answer's size when
 * that is why (libcurl would say it failed writing to disk). */
static void fail_transfer(nc_client *c, const char *url, CURLcode cc, const membuf *m)
{
    if (cc == CURLE_WRITE_ERROR && m->over)
        nc_fail(c, "%s: an answer of more than %zu bytes (no answer of the API is that long)",
                url, m->max);
    else
        nc_fail(c, "%s: %s", url, curl_easy_strerror(cc));
}

int nc_open(nc_client *c, const char *url, const char *agent, const atomic_int *stop)
{
    size_t n;

    memset(c, 0, sizeof *c);
    c->stop = stop;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        nc_fail(c, "%s: the URL must start with http:// or https://", url);
        return NC_ERR_REACH;
    }
    if (strlen(url) >= sizeof c->base - 64) {
        nc_fail(c, "the URL is too long");
        return NC_ERR_REACH;
    }
    snprintf(c->base, sizeof c->base, "%s", url);
    n = strlen(c->base);
    while (n > 0 && c->base[n - 1] == '/')
        c->base[--n] = 0;
    if ((c->h = curl_easy_init()) == NULL) {
        nc_fail(c, "cannot start libcurl");
        return NC_ERR_REACH;
    }
    c->timeout_s = NC_TIMEOUT_S;
    curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c->h, CURLOPT_LOW_SPEED_LIMIT, 1L); /* a stalled node: */
    curl_easy_setopt(c->h, CURLOPT_LOW_SPEED_TIME, 60L); /* give up after 60 s */
    curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c->h, CURLOPT_XFERINFODATA, c);
    curl_easy_setopt(c->h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c->h, CURLOPT_USERAGENT, agent);
    curl_easy_setopt(c->h, CURLOPT_PROTOCOLS_STR, "http,https");
    return 0;
}

void nc_close(nc_client *c)
{
    if (c->h)
        curl_easy_cleanup(c->h);
    c->h = NULL;
}

int nc_get(nc_client *c, const char *path, size_t max, membuf *out)
{
    char url[4200];
    long status = 0;
    CURLcode cc;

    memset(out, 0, sizeof *out);
    out->max = max;
    snprintf(url, sizeof url, "%s%s", c->base, path);
    curl_easy_setopt(c->h, CURLOPT_URL, url);
    curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, to_membuf);
    curl_easy_setopt(c->h, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c->h, CURLOPT_TIMEOUT, c->timeout_s);
    cc = curl_easy_perform(c->h);
    if (cc != CURLE_OK) {
        fail_transfer(c, url, cc, out);
        goto fail;
    }
    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        fail_status(c, url, status, out);
        goto fail;
    }
    return 0;
fail:
    free(out->p);
    out->p = NULL;
    out->len = out->cap = 0; /* out->over stays */
    return NC_ERR_REACH;
}

int nc_post(nc_client *c, const char *path, const uint8_t *body, size_t len, size_t max,
            long *status, membuf *out)
{
    char url[4200];
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/octet-stream");
    CURLcode cc;

    memset(out, 0, sizeof *out);
    out->max = max;
    *status = 0;
    snprintf(url, sizeof url, "%s%s", c->base, path);
    curl_easy_setopt(c->h, CURLOPT_URL, url);
    curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, (const char *)body);
    curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, to_membuf);
    curl_easy_setopt(c->h, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c->h, CURLOPT_TIMEOUT, c->timeout_s);
    cc = curl_easy_perform(c->h);
    curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L); /* later requests on c are GETs again */
    curl_slist_free_all(hdr);
    if (cc != CURLE_OK) {
        fail_transfer(c, url, cc, out);
        free(out->p);
        out->p = NULL;
        out->len = out->cap = 0; /* out->over stays */
        return NC_ERR_REACH;
    }
    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, status);
    return 0;
}

int nc_params(nc_client *c, utxo_params *p)
{
    membuf m;
    int rc;

    if (nc_get(c, "/params", UTXO_PARAMS_BYTES + 1, &m) != 0)
        return NC_ERR_REACH;
    rc = utxo_params_from_bytes(p, m.p, m.len, NULL);
    if (rc != UTXO_OK || m.len != UTXO_PARAMS_BYTES) {
        nc_fail(c, "%s/params: not a chain's parameters: %s", c->base,
                rc != UTXO_OK ? utxo_strerror(rc) : "wrong length");
        free(m.p);
        return NC_ERR_DATA;
    }
    free(m.p);
    return 0;
}

long long nc_tip(nc_client *c)
{
    membuf m;
    json_t *j, *hv;
    long long tip = -2;

    if (nc_get(c, "/status", 1 << 16, &m) != 0)
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
        nc_fail(c, "%s/status: not a node's status (no height)", c->base);
    json_decref(j);
    return tip;
}

int nc_wait_tip(nc_client *c, long long after, unsigned wait_s)
{
    char path[96];
    int quiet = c->quiet_errors, rc;
    membuf m;

    if (after >= 0)
        snprintf(path, sizeof path, "/events?after=%lld&wait=%u", after, wait_s);
    else
        snprintf(path, sizeof path, "/events?wait=%u", wait_s);
    long t = c->timeout_s;
    c->quiet_errors = 1;
    c->timeout_s = t + (long)wait_s; /* the node holds the answer up to wait_s */
    rc = nc_get(c, path, 1 << 16, &m);
    c->timeout_s = t;
    c->quiet_errors = quiet;
    free(m.p);
    if (rc == 0)
        return 0;
    long status = 0;
    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
    return status != 0 ? -1 : -2;
}

void nc_refused(char *err, size_t err_len, const char *who, uint32_t height, int rc,
                const utxo_verdict *vd)
{
    snprintf(err, err_len,
             "the %s served an invalid block at height %" PRIu32 ": %s (tx %" PRIu32
             ", input %" PRIu32 ")", who, height, utxo_strerror(rc), vd->tx, vd->input);
}

/* ---- the stream of /blocks ------------------------------------------------ */

/* A bundle being received is checked (utxo_bundle_check_prefix) once 64
 * KiB of it are in, then each time what has passed doubles, as the proof
 * file reader does (utxo_chainfile_set_check): a hostile record costs
 * memory in proportion to the bytes that passed the check, not to its
 * declared length (up to UTXO_BUNDLE_MAX_BYTES). */
#define NC_CHECK_STEP ((size_t)64 << 10)
/* A pair's deadline (c->timeout_s) grows by a second for each 64 KiB of it
 * that arrives: a 256 MiB bundle over a link of a few MB/s is no trickle
 * (it took more than the 120 s, and every retry began it again). */
#define NC_PAIR_RATE (UINT64_C(64) << 10)

/* A record pair is complete in s->rec: 4 + block + 4 + bundle. Returns the
 * bytes it took, 0 when more are needed, or -1 on invalid data. */
static long take_pair(nc_stream *s)
{
    const uint8_t *p = s->rec.p;
    size_t have = s->rec.len;
    uint32_t bl, pl, h = s->height;
    char why[400];

    if (have == 0)
        return 0;
    if (s->applied == s->count) {
        /* a node sends n <= count pairs: more would apply blocks the
         * caller did not ask for (past --max-blocks, past a wallet's
         * `to`) and a stream that never ends would never be saved */
        nc_fail(s->c, "the node sent more than the %" PRIu32 " blocks asked for (from height %"
                PRIu32 ")", s->count, h - s->count);
        return -1;
    }
    if (have < 4)
        return 0;
    bl = get_le32(p);
    if (bl == 0 || bl > s->p->max_block_bytes) {
        nc_fail(s->c, "the node served a block record of %" PRIu32 " bytes at height %" PRIu32
                " (the chain's limit is %" PRIu32 ")", bl, h, s->p->max_block_bytes);
        return -1;
    }
    if (have < 8 + (size_t)bl)
        return 0;
    p += 4 + bl;
    pl = get_le32(p);
    if (pl == 0 || pl > UTXO_BUNDLE_MAX_BYTES) {
        nc_fail(s->c, "the node served a proof record of %" PRIu32 " bytes at height %" PRIu32,
                pl, h);
        return -1;
    }
    if (have < 8 + (size_t)bl + pl) {
        size_t got = have - 8 - (size_t)bl;
        int rc;
        if (got < s->check_at)
            return 0;
        if ((rc = utxo_bundle_check_prefix(p + 4, got, pl, (void *)s->p)) != UTXO_OK) {
            nc_fail(s->c, "the node served a proof bundle at height %" PRIu32
                    " that does not decode (within its first %zu bytes): %s", h, got,
                    utxo_strerror(rc));
            return -1;
        }
        s->check_at = 2 * got;
        return 0;
    }
    s->check_at = NC_CHECK_STEP;

    utxo_block *b = NULL;
    utxo_bundle *bu = NULL;
    size_t eo = 0;
    int rc = utxo_block_from_bytes(&b, s->rec.p + 4, bl, s->p, &eo);
    if (rc != UTXO_OK) {
        nc_fail(s->c, "the node served a block at height %" PRIu32
                " that does not decode (byte %zu): %s", h, eo, utxo_strerror(rc));
        return -1;
    }
    if ((rc = utxo_bundle_from_bytes(&bu, p + 4, pl, s->p, &eo)) != UTXO_OK) {
        nc_fail(s->c, "the node served a proof bundle at height %" PRIu32
                " that does not decode (byte %zu): %s", h, eo, utxo_strerror(rc));
        utxo_block_free(b);
        return -1;
    }
    why[0] = 0;
    rc = s->fn(s->ud, h, b, bu, p + 4, pl, why, sizeof why);
    utxo_block_free(b);
    utxo_bundle_free(bu);
    if (rc != 0) {
        nc_fail(s->c, "%s", why[0] ? why : "the block was refused");
        return -1;
    }
    s->applied++;
    s->height++;
    /* the next pair's deadline, with the credit of those of its bytes
     * that came with this one's last (on_blocks credited them to this
     * pair's deadline, gone now) */
    size_t next = have - (8 + (size_t)bl + pl);
    s->c->pair_deadline_ns =
        pair_deadline(s->c) + (uint64_t)next * UINT64_C(1000000000) / NC_PAIR_RATE;
    return (long)(8 + (size_t)bl + pl);
}

void nc_stream_init(nc_stream *s, nc_client *c, const utxo_params *p, uint32_t from,
                    uint32_t count, nc_pair_fn fn, void *ud)
{
    memset(s, 0, sizeof *s);
    s->c = c;
    s->p = p;
    s->fn = fn;
    s->ud = ud;
    s->height = from;
    s->count = count;
    s->check_at = NC_CHECK_STEP;
    /* the longest pair the chain allows, and the next pair's first bytes
     * that came in the same piece (curl gives at most CURL_MAX_WRITE_SIZE) */
    s->rec.max = 8 + (size_t)p->max_block_bytes + UTXO_BUNDLE_MAX_BYTES + CURL_MAX_WRITE_SIZE;
    s->err.max = 1 << 16;
}

void nc_stream_free(nc_stream *s)
{
    free(s->rec.p);
    free(s->err.p);
    s->rec.p = s->err.p = NULL;
}

size_t nc_stream_feed(nc_stream *s, const char *data, size_t k)
{
    long took;

    if (s->invalid)
        return 0;
    if (to_membuf((char *)data, 1, k, &s->rec) != k) {
        if (s->rec.over) {
            nc_fail(s->c, "the node sent a record pair longer than any the chain allows "
                    "(at height %" PRIu32 ")", s->height);
            s->invalid = 1;
        }
        return 0;
    }
    s->c->pair_deadline_ns += (uint64_t)k * UINT64_C(1000000000) / NC_PAIR_RATE;
    while ((took = take_pair(s)) > 0) {
        memmove(s->rec.p, s->rec.p + took, s->rec.len - (size_t)took);
        s->rec.len -= (size_t)took;
    }
    if (took < 0) {
        s->invalid = 1;
        return 0;
    }
    return k;
}

static size_t on_blocks(char *data, size_t size, size_t n, void *ud)
{
    nc_stream *s = ud;
    size_t k = size * n;

    if (s->c->stop && atomic_load(s->c->stop))
        return 0; /* stop the transfer */
    /* An error answer (a 404, a proxy's 503) is no stream of records: its
     * body is kept for the message, never read as a block. */
    if (s->status == 0)
        curl_easy_getinfo(s->c->h, CURLINFO_RESPONSE_CODE, &s->status);
    if (s->status != 200)
        return to_membuf(data, 1, k, &s->err);
    return nc_stream_feed(s, data, k);
}

int nc_blocks(nc_client *c, const utxo_params *p, uint32_t from, uint32_t count,
              nc_pair_fn fn, void *ud, uint32_t *applied)
{
    nc_stream s;
    char url[4200];
    long status = 0;
    CURLcode cc;
    int rc;

    nc_stream_init(&s, c, p, from, count, fn, ud);
    snprintf(url, sizeof url, "%s/blocks?from=%" PRIu32 "&count=%" PRIu32, c->base, from, count);
    curl_easy_setopt(c->h, CURLOPT_URL, url);
    curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_blocks);
    curl_easy_setopt(c->h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c->h, CURLOPT_TIMEOUT, 0L); /* a stream: a deadline per pair instead */
    c->pair_deadline_ns = pair_deadline(c);
    cc = curl_easy_perform(c->h);
    bool late = cc == CURLE_ABORTED_BY_CALLBACK && clock_now_ns() > c->pair_deadline_ns;
    c->pair_deadline_ns = 0;
    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
    *applied = s.applied;
    if (s.invalid) {
        rc = NC_INVALID;
    } else if (c->stop && atomic_load(c->stop)) {
        rc = NC_STOPPED;
    } else if (late) {
        nc_fail(c, "%s: the node took more than %ld s to send the block at height %" PRIu32
                " with its bundle", url, c->timeout_s, s.height);
        rc = NC_FAILED;
    } else if (status != 200 && status != 0) {
        fail_status(c, url, status, &s.err);
        rc = NC_FAILED;
    } else if (cc != CURLE_OK || status != 200) {
        nc_fail(c, "%s: %s", url, cc != CURLE_OK ? curl_easy_strerror(cc) : "no answer");
        rc = NC_FAILED;
    } else if (s.rec.len != 0 || s.applied != count) {
        nc_fail(c, "%s: the stream ended after %" PRIu32 " of %" PRIu32 " blocks", url,
                s.applied, count);
        rc = NC_FAILED;
    } else {
        rc = NC_OK;
    }
    nc_stream_free(&s);
    return rc;
}
