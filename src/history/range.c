/*
 * range.c — one block range verified from a claimed start state, and its
 * result file (utxo/history.h, docs/RANGES.md). The verification is the
 * validator pipeline's (utxo_verify_files, bounded by the range's end); this
 * file only loads the start state, counts, and encodes what it found.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "utxo/blockfile.h"
#include "utxo/history.h"
#include "utxo/atomicfile.h"
#include "utxo/codec.h"

#define RR_MAGIC "uxrr"
#define RR_VERSION 1u
#define RR_HEAD 222u /* bytes before the reason */
#define TAG_VSTATE "utxo.vstate"
#define TAG_RESULT "utxo.rangeresult"

void utxo_range_state_digest(const uint8_t *state, size_t len, uint8_t out[UTXO_HASH_BYTES])
{
    hash_tagged(out, TAG_VSTATE, state, len);
}

/* ---- verification ------------------------------------------------------- */

typedef struct rr_counts {
    uint64_t blocks, txs, inputs, cycles;
} rr_counts;

static int rr_count(void *ctx, const utxo_pipe_progress *pr)
{
    rr_counts *c = ctx;

    if (pr->event != UTXO_PIPE_APPLIED || pr->block == NULL)
        return 0;
    c->blocks++;
    c->txs += pr->block->n_txs;
    for (uint32_t t = 0; t < pr->block->n_txs; t++)
        c->inputs += pr->block->txs[t]->n_inputs;
    if (pr->verdict != NULL)
        c->cycles += pr->verdict->cycles;
    return 0;
}

static const char *rr_base(const char *path)
{
    const char *s = strrchr(path, '/');

    return s != NULL ? s + 1 : path;
}

/* The reason line of a result: the paths of the two files replaced by their
 * base names (a result names no directory, so it is the same bytes on every
 * machine), printable ASCII only, at most UTXO_RANGE_REASON_MAX bytes. */
static void rr_set_reason(utxo_range_result *r, const char *why, const char *blocks,
                          const char *proofs)
{
    size_t n = 0;

    while (*why != '\0' && n < UTXO_RANGE_REASON_MAX) {
        const char *paths[2] = {blocks, proofs};
        size_t skip = 0;
        for (int k = 0; k < 2 && skip == 0; k++) {
            size_t pl = strlen(paths[k]);
            if (pl > 0 && strncmp(why, paths[k], pl) == 0 && rr_base(paths[k]) != paths[k])
                skip = (size_t)(rr_base(paths[k]) - paths[k]);
        }
        if (skip > 0) {
            why += skip;
            continue;
        }
        r->reason[n++] = (*why >= 0x20 && *why <= 0x7e) ? *why : '?';
        why++;
    }
    r->reason[n] = '\0';
    r->reason_len = (uint16_t)n;
}

/* The state v is in, into the result's end fields. */
static int rr_end_state(utxo_range_result *r, const utxo_validator *v)
{
    size_t n = 0;
    int rc = utxo_validator_state_to_bytes(v, r->end_state, sizeof r->end_state, &n);

    if (rc != UTXO_OK)
        return rc;
    r->state_len = (uint32_t)n;
    utxo_range_state_digest(r->end_state, n, r->end_digest);
    utxo_validator_tip_hash(v, r->last_hash);
    return UTXO_OK;
}

/* No verdict: res says what failed ("A: B"). */
static int rr_fail(utxo_pipe_result *res, int rc, const char *a, const char *b)
{
    res->err = rc;
    res->invalid = false;
    snprintf(res->reason, sizeof res->reason, "%s: %s", a, b);
    return rc;
}

int utxo_range_verify(const char *start_state, uint32_t from, uint32_t to, const char *blocks,
                      const char *proofs, unsigned threads, utxo_range_result *out,
                      utxo_pipe_result *res)
{
    utxo_params p, pp;
    utxo_chainfile *f = NULL;
    utxo_validator *v = NULL;
    utxo_verify_opts vo;
    rr_counts cnt;
    char why[256];
    size_t off = 0;
    int rc;

    if (res == NULL)
        return UTXO_ERR_ARG;
    memset(res, 0, sizeof *res);
    if (start_state == NULL || blocks == NULL || proofs == NULL || out == NULL || from >= to)
        return rr_fail(res, UTXO_ERR_ARG, "range", "bad arguments");
    memset(out, 0, sizeof *out);
    /* the files' chain: both files must be of it, and the state too */
    if ((rc = utxo_chainfile_open(&f, blocks, UTXO_CHAINFILE_BLOCKS, &p, &off)) != UTXO_OK)
        return rr_fail(res, rc, blocks, rc == UTXO_ERR_IO ? strerror(errno) : utxo_strerror(rc));
    (void)utxo_chainfile_close(f);
    if ((rc = utxo_chainfile_open(&f, proofs, UTXO_CHAINFILE_PROOFS, &pp, &off)) != UTXO_OK)
        return rr_fail(res, rc, proofs, rc == UTXO_ERR_IO ? strerror(errno) : utxo_strerror(rc));
    (void)utxo_chainfile_close(f);
    if (memcmp(p.chain_id, pp.chain_id, UTXO_HASH_BYTES) != 0)
        return rr_fail(res, UTXO_ERR_FILE_CHAIN, proofs,
                       "belongs to another chain than the block file");
    errno = 0;
    if ((rc = utxo_validator_load(&v, &p, start_state, threads, why, sizeof why)) != UTXO_OK) {
        int e = errno;
        res->sys_errno = rc == UTXO_ERR_IO ? e : 0;
        char line[300];
        snprintf(line, sizeof line, "bad start state: %s", why);
        return rr_fail(res, rc, start_state, line);
    }
    memcpy(out->chain_id, p.chain_id, UTXO_HASH_BYTES);
    out->from = from;
    out->to = to;
    if ((rc = rr_end_state(out, v)) != UTXO_OK)
        goto out;
    memcpy(out->start_digest, out->end_digest, UTXO_HASH_BYTES);
    memcpy(out->prev_hash, out->last_hash, UTXO_HASH_BYTES);
    if (utxo_validator_next_height(v) != from) {
        char line[160];
        snprintf(line, sizeof line,
                 "the start state's next height is %u, not the range's first height %u",
                 utxo_validator_next_height(v), from);
        out->verdict = UTXO_ERR_STATE;
        out->fail_height = from;
        rr_set_reason(out, line, blocks, proofs);
        goto out; /* rc UTXO_OK: a verdict */
    }
    memset(&cnt, 0, sizeof cnt);
    memset(&vo, 0, sizeof vo);
    vo.to = to;
    vo.progress = rr_count;
    vo.ctx = &cnt;
    rc = utxo_verify_files(v, blocks, proofs, &vo, res);
    if (rc != UTXO_OK && !res->invalid)
        goto out; /* I/O or usage: no verdict */
    out->blocks = cnt.blocks;
    out->txs = cnt.txs;
    out->inputs = cnt.inputs;
    out->cycles = cnt.cycles;
    if (rc != UTXO_OK) {
        out->verdict = (uint32_t)rc;
        out->fail_height = res->height;
        rr_set_reason(out, res->reason, blocks, proofs);
    } else if (utxo_validator_next_height(v) != to) {
        char line[160];
        snprintf(line, sizeof line, "the files end before the range does: next height %u of %u",
                 utxo_validator_next_height(v), to);
        out->verdict = UTXO_ERR_TRUNCATED;
        out->fail_height = utxo_validator_next_height(v);
        rr_set_reason(out, line, blocks, proofs);
    }
    rc = rr_end_state(out, v);
out:
    utxo_validator_free(v);
    if (rc != UTXO_OK && res->err == UTXO_OK) {
        res->err = rc;
        snprintf(res->reason, sizeof res->reason, "range: %s", utxo_strerror(rc));
    }
    return rc;
}

/* ---- the result file ---------------------------------------------------- */

size_t utxo_range_result_get_length(const utxo_range_result *r)
{
    if (r == NULL)
        return 0;
    return 254u + r->state_len + r->reason_len;
}

static bool rr_lengths_ok(const utxo_range_result *r)
{
    return r->state_len >= 81u && r->state_len <= UTXO_VALIDATOR_STATE_MAX_BYTES &&
           r->reason_len <= UTXO_RANGE_REASON_MAX && r->from < r->to;
}

int utxo_range_result_to_bytes(const utxo_range_result *r, uint8_t *out, size_t out_len,
                               size_t *written)
{
    uint8_t sum[UTXO_HASH_BYTES];
    enc e;

    if (written != NULL)
        *written = 0;
    if (r == NULL || out == NULL || !rr_lengths_ok(r) || out_len < utxo_range_result_get_length(r))
        return UTXO_ERR_ARG;
    enc_init(&e, out, out_len, NULL);
    enc_bytes(&e, RR_MAGIC, 4);
    enc_u32(&e, RR_VERSION);
    enc_bytes(&e, r->chain_id, UTXO_HASH_BYTES);
    enc_u32(&e, r->from);
    enc_u32(&e, r->to);
    enc_bytes(&e, r->start_digest, UTXO_HASH_BYTES);
    enc_bytes(&e, r->prev_hash, UTXO_HASH_BYTES);
    enc_bytes(&e, r->last_hash, UTXO_HASH_BYTES);
    enc_bytes(&e, r->end_digest, UTXO_HASH_BYTES);
    enc_u64(&e, r->blocks);
    enc_u64(&e, r->txs);
    enc_u64(&e, r->inputs);
    enc_u64(&e, r->cycles);
    enc_u32(&e, r->verdict);
    enc_u32(&e, r->fail_height);
    enc_u32(&e, r->state_len);
    enc_u16(&e, r->reason_len);
    enc_bytes(&e, r->reason, r->reason_len);
    enc_bytes(&e, r->end_state, r->state_len);
    if (!enc_ok(&e))
        return UTXO_ERR_ARG;
    hash_tagged(sum, TAG_RESULT, out, e.len);
    enc_bytes(&e, sum, UTXO_HASH_BYTES);
    if (!enc_ok(&e))
        return UTXO_ERR_ARG;
    if (written != NULL)
        *written = e.len;
    return UTXO_OK;
}

static int rr_bad(size_t *err_offset, size_t off, int rc)
{
    if (err_offset != NULL)
        *err_offset = off;
    return rc;
}

int utxo_range_result_from_bytes(utxo_range_result *r, const utxo_params *p, const uint8_t *in,
                                 size_t len, size_t *err_offset)
{
    uint8_t sum[UTXO_HASH_BYTES], dig[UTXO_HASH_BYTES], tip[UTXO_HASH_BYTES];
    utxo_validator *v = NULL;
    size_t eo = 0, body;
    dec d;
    int rc;

    if (err_offset != NULL)
        *err_offset = 0;
    if (r == NULL || in == NULL)
        return UTXO_ERR_ARG;
    memset(r, 0, sizeof *r);
    if (len < 8)
        return rr_bad(err_offset, len, len >= 4 && memcmp(in, RR_MAGIC, 4) != 0
                                           ? UTXO_ERR_FILE_FORMAT : UTXO_ERR_TRUNCATED);
    if (memcmp(in, RR_MAGIC, 4) != 0)
        return rr_bad(err_offset, 0, UTXO_ERR_FILE_FORMAT);
    if (len > UTXO_RANGE_RESULT_MAX_BYTES)
        return rr_bad(err_offset, UTXO_RANGE_RESULT_MAX_BYTES, UTXO_ERR_TOO_LARGE);
    dec_init(&d, in, len);
    (void)dec_u32(&d);
    if (dec_u32(&d) != RR_VERSION)
        return rr_bad(err_offset, 4, UTXO_ERR_VERSION);
    dec_bytes(&d, r->chain_id, UTXO_HASH_BYTES);
    r->from = dec_u32(&d);
    r->to = dec_u32(&d);
    dec_bytes(&d, r->start_digest, UTXO_HASH_BYTES);
    dec_bytes(&d, r->prev_hash, UTXO_HASH_BYTES);
    dec_bytes(&d, r->last_hash, UTXO_HASH_BYTES);
    dec_bytes(&d, r->end_digest, UTXO_HASH_BYTES);
    r->blocks = dec_u64(&d);
    r->txs = dec_u64(&d);
    r->inputs = dec_u64(&d);
    r->cycles = dec_u64(&d);
    r->verdict = dec_u32(&d);
    r->fail_height = dec_u32(&d);
    r->state_len = dec_u32(&d);
    r->reason_len = dec_u16(&d);
    if ((rc = dec_result(&d, &eo)) != UTXO_OK)
        return rr_bad(err_offset, eo, rc);
    if (r->from >= r->to)
        return rr_bad(err_offset, 44, UTXO_ERR_NONCANONICAL);
    if (r->state_len < 81u || r->state_len > UTXO_VALIDATOR_STATE_MAX_BYTES)
        return rr_bad(err_offset, 216, UTXO_ERR_TOO_LARGE);
    if (r->reason_len > UTXO_RANGE_REASON_MAX)
        return rr_bad(err_offset, 220, UTXO_ERR_TOO_LARGE);
    body = RR_HEAD + (size_t)r->reason_len + r->state_len;
    if (len < body + UTXO_HASH_BYTES)
        return rr_bad(err_offset, len, UTXO_ERR_TRUNCATED);
    if (len > body + UTXO_HASH_BYTES)
        return rr_bad(err_offset, body + UTXO_HASH_BYTES, UTXO_ERR_TRAILING);
    for (size_t k = 0; k < r->reason_len; k++) {
        uint8_t c = in[RR_HEAD + k];
        if (c < 0x20 || c > 0x7e)
            return rr_bad(err_offset, RR_HEAD + k, UTXO_ERR_NONCANONICAL);
        r->reason[k] = (char)c;
    }
    r->reason[r->reason_len] = '\0';
    memcpy(r->end_state, in + RR_HEAD + r->reason_len, r->state_len);
    hash_tagged(sum, TAG_RESULT, in, body);
    if (sodium_memcmp(sum, in + body, UTXO_HASH_BYTES) != 0)
        return rr_bad(err_offset, body, UTXO_ERR_FILE_CHECKSUM);
    /* a valid verdict has no failing height and no reason; an invalid one
     * says why */
    if ((r->verdict == 0) != (r->reason_len == 0) || (r->verdict == 0 && r->fail_height != 0))
        return rr_bad(err_offset, 208, UTXO_ERR_NONCANONICAL);
    /* the end state: its digest and tip are the header's */
    utxo_range_state_digest(r->end_state, r->state_len, dig);
    if (memcmp(dig, r->end_digest, UTXO_HASH_BYTES) != 0)
        return rr_bad(err_offset, 144, UTXO_ERR_STATE);
    if (p == NULL)
        return UTXO_OK;
    if (memcmp(r->chain_id, p->chain_id, UTXO_HASH_BYTES) != 0)
        return rr_bad(err_offset, 8, UTXO_ERR_FILE_CHAIN);
    if ((rc = utxo_validator_from_state(&v, p, r->end_state, r->state_len, 1, &eo)) != UTXO_OK)
        return rr_bad(err_offset, RR_HEAD + r->reason_len + eo, rc);
    utxo_validator_tip_hash(v, tip);
    rc = UTXO_OK;
    if (memcmp(tip, r->last_hash, UTXO_HASH_BYTES) != 0)
        rc = rr_bad(err_offset, 112, UTXO_ERR_STATE);
    else if (r->verdict == 0 && (utxo_validator_next_height(v) != r->to ||
                                 r->blocks != (uint64_t)(r->to - r->from)))
        rc = rr_bad(err_offset, 176, UTXO_ERR_STATE);
    else if (r->verdict != UTXO_ERR_STATE &&
             (uint64_t)utxo_validator_next_height(v) != (uint64_t)r->from + r->blocks)
        rc = rr_bad(err_offset, 176, UTXO_ERR_STATE);
    utxo_validator_free(v);
    return rc;
}

int utxo_range_result_write(const utxo_range_result *r, const char *path)
{
    uint8_t buf[UTXO_RANGE_RESULT_MAX_BYTES];
    size_t n = 0;
    int rc;

    if (r == NULL || path == NULL)
        return UTXO_ERR_ARG;
    if ((rc = utxo_range_result_to_bytes(r, buf, sizeof buf, &n)) != UTXO_OK)
        return rc;
    return afile_write_all(path, buf, n);
}

/* An I/O failure of utxo_range_result_read: fd closed (when open), why
 * says errno's text, errno kept. */
static int rr_io_fail(int fd, char *why, size_t why_len)
{
    int e = errno;
    if (fd >= 0)
        close(fd);
    if (why != NULL)
        snprintf(why, why_len, "%s", strerror(e));
    errno = e;
    return UTXO_ERR_IO;
}

int utxo_range_result_read(utxo_range_result *r, const utxo_params *p, const char *path,
                           char *why, size_t why_len)
{
    uint8_t buf[UTXO_RANGE_RESULT_MAX_BYTES + 1];
    struct stat sb;
    size_t got = 0, eo = 0;
    ssize_t n;
    int fd, rc;

    if (why != NULL && why_len > 0)
        why[0] = '\0';
    if (r == NULL || path == NULL)
        return UTXO_ERR_ARG;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; anything but
     * a regular file is refused before a byte is read (a FIFO or a device
     * could make a read wait for ever) */
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) < 0)
        return rr_io_fail(-1, why, why_len);
    if (fstat(fd, &sb) != 0 || (S_ISREG(sb.st_mode) &&
                                fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0))
        return rr_io_fail(fd, why, why_len);
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        if (why != NULL)
            snprintf(why, why_len, "not a regular file");
        return UTXO_ERR_FILE_FORMAT;
    }
    /* a hostile size is refused before anything is read */
    if (sb.st_size > UTXO_RANGE_RESULT_MAX_BYTES) {
        close(fd);
        if (why != NULL)
            snprintf(why, why_len, "%lld bytes, more than a range result holds (%u)",
                     (long long)sb.st_size, UTXO_RANGE_RESULT_MAX_BYTES);
        return UTXO_ERR_TOO_LARGE;
    }
    while (got < sizeof buf && (n = read(fd, buf + got, sizeof buf - got)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return rr_io_fail(fd, why, why_len);
        }
        got += (size_t)n;
    }
    close(fd);
    rc = utxo_range_result_from_bytes(r, p, buf, got, &eo);
    if (rc != UTXO_OK && why != NULL)
        snprintf(why, why_len, "%s at offset %zu", utxo_strerror(rc), eo);
    return rc;
}
