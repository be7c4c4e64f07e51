/*
 * blockfile.c — block files and proof files (utxo/blockfile.h): a header
 * naming the chain, then length-prefixed records. Reading is streaming and
 * bounded: one record in memory at a time, its length checked against the
 * kind's cap and, for regular files, against the bytes left before anything
 * is allocated, so a corrupt length is reported at its offset instead of
 * becoming a huge allocation. Writing replaces the file atomically
 * (atomicfile.h): the records go to a temporary file that
 * utxo_chainfile_close renames over the path, so a failed or abandoned
 * write never truncates the file that was there.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "utxo/atomicfile.h"
#include "utxo/blockfile.h"
#include "utxo/codec.h"

struct utxo_chainfile {
    FILE *fp;
    afile out;          /* the replacement being written (writers) */
    int kind;
    bool writing;
    bool failed;        /* a write failed */
    uint64_t off;       /* offset of the next record */
    uint64_t size;      /* file size when reading a regular file, else UINT64_MAX */
    uint32_t cap;       /* largest record */
    utxo_record_check check; /* read records incrementally, checking each step */
    void *check_ud;
    utxo_params params; /* the header's (readers) */
};

#define CHECK_STEP ((size_t)64 << 10)

static const char *magic_of(int kind)
{
    return kind == UTXO_CHAINFILE_BLOCKS ? "uxbk" : kind == UTXO_CHAINFILE_PROOFS ? "uxbp" : NULL;
}

static uint32_t cap_of(int kind, const utxo_params *p)
{
    return kind == UTXO_CHAINFILE_BLOCKS ? p->max_block_bytes : UTXO_BUNDLE_MAX_BYTES;
}

int utxo_chainfile_create(utxo_chainfile **out, const char *path, int kind, const utxo_params *p)
{
    uint8_t head[UTXO_CHAINFILE_HEADER_BYTES];
    utxo_chainfile *f;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || path == NULL || p == NULL || magic_of(kind) == NULL)
        return UTXO_ERR_ARG;
    if ((f = calloc(1, sizeof *f)) == NULL)
        return UTXO_ERR_NOMEM;
    f->kind = kind;
    f->writing = true;
    f->cap = cap_of(kind, p);
    memcpy(head, magic_of(kind), 4);
    put_u32le(head + 4, UTXO_CHAINFILE_VERSION);
    utxo_params_to_bytes(head + 8, p);
    if ((rc = afile_begin(&f->out, path)) != UTXO_OK) {
        free(f);
        return rc;
    }
    f->fp = f->out.fp;
    if (afile_write(&f->out, head, sizeof head) != UTXO_OK) {
        afile_abort(&f->out);
        free(f);
        return UTXO_ERR_IO;
    }
    f->off = sizeof head;
    *out = f;
    return UTXO_OK;
}

int utxo_chainfile_append(utxo_chainfile *f, const uint8_t *rec, size_t len)
{
    uint8_t n[4];

    if (f == NULL || !f->writing || rec == NULL || len == 0 || len > f->cap)
        return UTXO_ERR_ARG;
    put_u32le(n, (uint32_t)len);
    if (afile_write(&f->out, n, 4) != UTXO_OK || afile_write(&f->out, rec, len) != UTXO_OK) {
        f->failed = true;
        return UTXO_ERR_IO;
    }
    f->off += 4 + len;
    return UTXO_OK;
}

int utxo_chainfile_open(utxo_chainfile **out, const char *path, int kind, utxo_params *p,
                        size_t *err_offset)
{
    uint8_t head[UTXO_CHAINFILE_HEADER_BYTES];
    utxo_chainfile *f;
    struct stat sb;
    size_t got, eo = 0;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (err_offset != NULL)
        *err_offset = 0;
    if (out == NULL || path == NULL || p == NULL || magic_of(kind) == NULL)
        return UTXO_ERR_ARG;
    if ((f = calloc(1, sizeof *f)) == NULL)
        return UTXO_ERR_NOMEM;
    f->kind = kind;
    f->size = UINT64_MAX;
    if ((f->fp = fopen(path, "rb")) == NULL) {
        free(f);
        return UTXO_ERR_IO;
    }
    if (fstat(fileno(f->fp), &sb) == 0 && S_ISREG(sb.st_mode))
        f->size = (uint64_t)sb.st_size;
    got = fread(head, 1, sizeof head, f->fp);
    if (got < sizeof head && ferror(f->fp)) {
        rc = UTXO_ERR_IO;
    } else if (got < 4 || memcmp(head, magic_of(kind), 4) != 0) {
        rc = got < 4 ? UTXO_ERR_TRUNCATED : UTXO_ERR_FILE_FORMAT;
        eo = got < 4 ? got : 0;
    } else if (got < 8) {
        rc = UTXO_ERR_TRUNCATED;
        eo = got;
    } else if (get_u32le(head + 4) != UTXO_CHAINFILE_VERSION) {
        rc = UTXO_ERR_VERSION;
        eo = 4;
    } else if (got < sizeof head) {
        rc = UTXO_ERR_TRUNCATED;
        eo = got;
    } else {
        rc = utxo_params_from_bytes(p, head + 8, UTXO_PARAMS_BYTES, &eo);
        eo += 8;
    }
    if (rc != UTXO_OK) {
        if (err_offset != NULL)
            *err_offset = eo;
        fclose(f->fp);
        free(f);
        return rc;
    }
    f->cap = cap_of(kind, p);
    f->off = sizeof head;
    f->params = *p;
    *out = f;
    return UTXO_OK;
}

int utxo_chainfile_next(utxo_chainfile *f, uint8_t **rec, size_t *len, uint64_t *offset)
{
    uint8_t n[4], *buf;
    size_t got;
    uint32_t want;

    if (rec != NULL)
        *rec = NULL;
    if (len != NULL)
        *len = 0;
    if (f == NULL || f->writing || rec == NULL || len == NULL)
        return UTXO_ERR_ARG;
    if (offset != NULL)
        *offset = f->off;
    got = fread(n, 1, 4, f->fp);
    if (got == 0 && !ferror(f->fp))
        return UTXO_OK; /* clean end: no partial record */
    if (got < 4)
        return ferror(f->fp) ? UTXO_ERR_IO : UTXO_ERR_TRUNCATED;
    want = get_u32le(n);
    if (want == 0 || want > f->cap)
        return UTXO_ERR_TOO_LARGE;
    if (f->size != UINT64_MAX && f->off + 4 + want > f->size)
        return UTXO_ERR_TRUNCATED;
    /* Without a check the whole record at once; with one, in steps that
     * double what has passed it. */
    size_t have = 0, step = f->check != NULL && want > CHECK_STEP ? CHECK_STEP : want;
    if ((buf = malloc(step)) == NULL)
        return UTXO_ERR_NOMEM;
    for (;;) {
        got = fread(buf + have, 1, step - have, f->fp);
        have += got;
        if (have < step) {
            int rc = ferror(f->fp) ? UTXO_ERR_IO : UTXO_ERR_TRUNCATED;
            free(buf);
            return rc;
        }
        if (have == want)
            break;
        int rc = f->check(buf, have, want, f->check_ud);
        if (rc != UTXO_OK) {
            free(buf);
            return rc;
        }
        step = want - have > have ? 2 * have : want;
        uint8_t *nb = realloc(buf, step);
        if (nb == NULL) {
            free(buf);
            return UTXO_ERR_NOMEM;
        }
        buf = nb;
    }
    f->off += 4 + (uint64_t)want;
    *rec = buf;
    *len = want;
    return UTXO_OK;
}

void utxo_chainfile_set_check(utxo_chainfile *f, utxo_record_check check, void *ud)
{
    if (f != NULL) {
        f->check = check;
        f->check_ud = ud;
    }
}

uint64_t utxo_chainfile_tell(const utxo_chainfile *f)
{
    return f ? f->off : 0;
}

int utxo_chainfile_close(utxo_chainfile *f)
{
    int rc = UTXO_OK;

    if (f == NULL)
        return UTXO_OK;
    if (f->writing)
        rc = afile_commit(&f->out);
    else if (fclose(f->fp) != 0)
        rc = UTXO_ERR_IO;
    free(f);
    return rc;
}

void utxo_chainfile_discard(utxo_chainfile *f)
{
    if (f == NULL)
        return;
    if (f->writing)
        afile_abort(&f->out);
    else
        fclose(f->fp);
    free(f);
}

int utxo_chainfile_params(const utxo_chainfile *f, utxo_params *p)
{
    if (f == NULL || p == NULL || f->writing)
        return UTXO_ERR_ARG;
    *p = f->params;
    return UTXO_OK;
}
