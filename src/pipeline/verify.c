/*
 * pipeline/verify.c — the stateless validator over files (utxo/pipeline.h):
 * its state file (checksummed, replaced atomically) and utxo_verify_files,
 * the validator as a target of the shared file loop (files.c).
 *
 * State file (docs/STATELESS.md, "Validator state file"; little-endian):
 *
 *   offset  size  meaning
 *   0       4     magic "uxvf"
 *   4       4     version (u32, 1)
 *   8       4     L: length of the state (u32, 81 .. UTXO_VALIDATOR_STATE_MAX_BYTES)
 *   12      L     the validator state (utxo_validator_state_to_bytes)
 *   12+L    32    BLAKE2b-256, personalisation "utxo.statefile", of bytes 0 .. 12+L
 *
 * The checksum catches every accidental change (a torn or edited file);
 * it is no authentication: whoever can write the file can write a valid
 * one.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "connect/connect.h"
#include "pipeline/pipe_int.h"
#include "utxo/atomicfile.h"
#include "utxo/codec.h"

static const uint8_t SF_MAGIC[4] = {'u', 'x', 'v', 'f'};
static const uint8_t OLD_STATE_MAGIC[4] = {'u', 'x', 'v', 's'};
#define SF_TAG "utxo.statefile"
#define SF_HEAD 12u
#define SF_SUM 32u
#define SF_MIN_STATE 81u

int utxo_validator_save(const utxo_validator *v, const char *path)
{
    uint8_t buf[UTXO_STATEFILE_MAX_BYTES];
    size_t n = 0;
    int rc;

    if (v == NULL || path == NULL) {
        errno = EINVAL;
        return UTXO_ERR_ARG;
    }
    memcpy(buf, SF_MAGIC, 4);
    put_u32le(buf + 4, UTXO_STATEFILE_VERSION);
    rc = utxo_validator_state_to_bytes(v, buf + SF_HEAD, UTXO_VALIDATOR_STATE_MAX_BYTES, &n);
    if (rc != UTXO_OK)
        return rc;
    put_u32le(buf + 8, (uint32_t)n);
    hash_tagged(buf + SF_HEAD + n, SF_TAG, buf, SF_HEAD + n);
    return afile_write_all(path, buf, SF_HEAD + n + SF_SUM);
}

static int sf_why(char *why, size_t why_len, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int sf_why(char *why, size_t why_len, int rc, const char *fmt, ...)
{
    va_list ap;

    if (why != NULL && why_len > 0) {
        va_start(ap, fmt);
        vsnprintf(why, why_len, fmt, ap);
        va_end(ap);
    }
    return rc;
}

int utxo_validator_load(utxo_validator **out, const utxo_params *p, const char *path,
                        unsigned threads, char *why, size_t why_len)
{
    uint8_t buf[UTXO_STATEFILE_MAX_BYTES + 1], sum[SF_SUM];
    size_t got = 0, eo = 0;
    uint32_t n;
    struct stat sb;
    ssize_t r;
    int fd, rc, e;

    if (out != NULL)
        *out = NULL;
    if (why != NULL && why_len > 0)
        why[0] = '\0';
    if (out == NULL || p == NULL || path == NULL)
        return UTXO_ERR_ARG;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        e = errno;
        sf_why(why, why_len, 0, "%s", strerror(e));
        errno = e;
        return UTXO_ERR_IO;
    }
    /* a hostile size is refused before anything is read */
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > UTXO_STATEFILE_MAX_BYTES) {
        close(fd);
        return sf_why(why, why_len, UTXO_ERR_TOO_LARGE,
                      "%lld bytes, more than a state file can hold (%u)", (long long)sb.st_size,
                      UTXO_STATEFILE_MAX_BYTES);
    }
    while (got < sizeof buf && (r = read(fd, buf + got, sizeof buf - got)) != 0) {
        if (r < 0) {
            if (errno == EINTR)
                continue;
            e = errno;
            close(fd);
            sf_why(why, why_len, 0, "%s", strerror(e));
            errno = e;
            return UTXO_ERR_IO;
        }
        got += (size_t)r;
    }
    close(fd);
    if (got > UTXO_STATEFILE_MAX_BYTES)
        return sf_why(why, why_len, UTXO_ERR_TOO_LARGE, "more bytes than a state file can hold");
    if (got < 4)
        return sf_why(why, why_len, UTXO_ERR_TRUNCATED, "truncated: %zu bytes, no magic", got);
    if (memcmp(buf, OLD_STATE_MAGIC, 4) == 0)
        return sf_why(why, why_len, UTXO_ERR_FILE_FORMAT,
                      "a state written before state files had a checksum (magic \"uxvs\"): "
                      "it cannot be checked; start again without it");
    if (memcmp(buf, SF_MAGIC, 4) != 0)
        return sf_why(why, why_len, UTXO_ERR_FILE_FORMAT,
                      "not a validator state file (bad magic at offset 0)");
    if (got < 8)
        return sf_why(why, why_len, UTXO_ERR_TRUNCATED, "truncated at offset %zu (version)", got);
    if (get_u32le(buf + 4) != UTXO_STATEFILE_VERSION)
        return sf_why(why, why_len, UTXO_ERR_VERSION,
                      "unknown state file version %u at offset 4 (this build reads %u)",
                      get_u32le(buf + 4), UTXO_STATEFILE_VERSION);
    if (got < SF_HEAD)
        return sf_why(why, why_len, UTXO_ERR_TRUNCATED, "truncated at offset %zu (length)", got);
    n = get_u32le(buf + 8);
    if (n < SF_MIN_STATE || n > UTXO_VALIDATOR_STATE_MAX_BYTES)
        return sf_why(why, why_len, UTXO_ERR_TOO_LARGE,
                      "state length %u at offset 8 is outside %u..%u", n, SF_MIN_STATE,
                      UTXO_VALIDATOR_STATE_MAX_BYTES);
    if (got < SF_HEAD + n + SF_SUM)
        return sf_why(why, why_len, UTXO_ERR_TRUNCATED,
                      "truncated: %zu bytes, the header announces %u", got,
                      SF_HEAD + n + SF_SUM);
    if (got > SF_HEAD + n + SF_SUM)
        return sf_why(why, why_len, UTXO_ERR_TRAILING, "%zu bytes after the checksum (offset %u)",
                      got - (SF_HEAD + n + SF_SUM), SF_HEAD + n + SF_SUM);
    hash_tagged(sum, SF_TAG, buf, SF_HEAD + n);
    if (sodium_memcmp(sum, buf + SF_HEAD + n, SF_SUM) != 0)
        return sf_why(why, why_len, UTXO_ERR_FILE_CHECKSUM,
                      "checksum at offset %u does not match the bytes before it: the file is "
                      "corrupt",
                      SF_HEAD + n);
    rc = utxo_validator_from_state(out, p, buf + SF_HEAD, n, threads, &eo);
    if (rc != UTXO_OK)
        return sf_why(why, why_len, rc, "%s at offset %zu", utxo_strerror(rc), SF_HEAD + eo);
    return UTXO_OK;
}

/* ---- the validator as a target of the file loop ------------------------ */

typedef struct vtarget {
    utxo_validator *v;
    const char *state_path;
} vtarget;

static uint32_t v_next(void *obj)
{
    return utxo_validator_next_height(((vtarget *)obj)->v);
}

static void v_tip(void *obj, uint8_t out[UTXO_HASH_BYTES])
{
    utxo_validator_tip_hash(((vtarget *)obj)->v, out);
}

static int v_apply(void *obj, const utxo_block *b, const utxo_bundle *bd,
                   const utxo_block *next, const utxo_bundle *next_bd, utxo_verdict *vd,
                   bool *invalid, char *why, size_t why_len)
{
    int rc = utxo_validator_apply_ahead(((vtarget *)obj)->v, b, bd, next, next_bd, vd);

    (void)why;
    (void)why_len;
    *invalid = rc != UTXO_ERR_NOMEM && rc != UTXO_ERR_INTERNAL && rc != UTXO_ERR_ARG;
    return rc;
}

static int v_save(void *obj)
{
    vtarget *vt = obj;

    return utxo_validator_save(vt->v, vt->state_path);
}

/* The chain id a validator was made for: bytes 5..37 of its state. */
static int validator_chain_id(const utxo_validator *v, uint8_t out[UTXO_HASH_BYTES])
{
    uint8_t st[UTXO_VALIDATOR_STATE_MAX_BYTES];
    size_t n = 0;
    int rc = utxo_validator_state_to_bytes(v, st, sizeof st, &n);

    if (rc == UTXO_OK && n >= 5 + UTXO_HASH_BYTES)
        memcpy(out, st + 5, UTXO_HASH_BYTES);
    return rc;
}

int utxo_verify_files(utxo_validator *v, const char *blocks, const char *proofs,
                      const utxo_verify_opts *o, utxo_pipe_result *res)
{
    utxo_verify_opts none;
    utxo_pipe_result tmp;
    pipe_target t;
    pipe_opts po;
    vtarget vt;
    int rc;

    if (res == NULL)
        res = &tmp;
    memset(res, 0, sizeof *res);
    if (o == NULL) {
        memset(&none, 0, sizeof none);
        o = &none;
    }
    if (v == NULL)
        return pipe_fail(res, UTXO_ERR_ARG, false, UTXO_PIPE_NONE, "no validator");
    memset(&t, 0, sizeof t);
    vt.v = v;
    vt.state_path = o->state_path;
    t.obj = &vt;
    t.next_height = v_next;
    t.tip_hash = v_tip;
    t.apply = v_apply;
    t.wants_next = true;
    t.save = o->state_path != NULL ? v_save : NULL;
    if (validator_chain_id(v, t.chain_id) != UTXO_OK)
        return pipe_fail(res, UTXO_ERR_INTERNAL, false, UTXO_PIPE_NONE, "validator state");
    memset(&po, 0, sizeof po);
    po.to = o->to;
    po.max_blocks = o->max_blocks;
    po.save_every = o->save_every != 0 ? o->save_every : UTXO_VERIFY_SAVE_EVERY;
    po.progress = o->progress;
    po.ctx = o->ctx;
    rc = pipe_files_run(&t, blocks, proofs, &po, res);
    /* The run frees every record pair it read, including one read ahead
     * and given to the validator as the next block but never applied (a
     * stop at o->to, at o->max_blocks, by the callback, an error): the
     * validator must not keep its check of that pair for a later call. */
    cn_validator_forget_ahead(v);
    return rc;
}
