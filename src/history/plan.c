/*
 * plan.c — a stored chain cut into block ranges of about equal work, and
 * the link-up of their results (utxo/history.h, docs/RANGES.md: the plan
 * directory, the manifest, link-up).
 *
 * The plan's claimed start states come from an accumulator-only walk of
 * the stored blocks and bundles (the block-connection core with
 * CN_NO_PREDICATES: headers, rules and accumulator proofs checked, no
 * predicate run); nothing about them is trusted by link-up.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "utxo/history.h"
#include "utxo/atomicfile.h"
#include "utxo/codec.h"
#include "connect/connect.h"

#define TAG_MANIFEST "utxo.manifest"
#define MANIFEST_MAX (16u << 20)
/* A range line is "range I FROM TO WORK" and its four file names (at least
 * "range-0.blocks" each): always longer than this. */
#define RANGE_LINE_MIN 64u
#define WORK_UNIT (1u << 16)

static int hp_why(char *why, size_t len, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int hp_why(char *why, size_t len, int rc, const char *fmt, ...)
{
    va_list ap;

    if (why != NULL && len > 0) {
        va_start(ap, fmt);
        vsnprintf(why, len, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* The public functions of this file say why on every failure: one that
 * failed without words of its own (out of memory deep inside) gets the
 * code's text, never a buffer left as it was. */
static void said_clear(char *why, size_t why_len)
{
    if (why != NULL && why_len > 0)
        why[0] = '\0';
}

static int said(int rc, char *why, size_t why_len)
{
    if (rc != UTXO_OK && why != NULL && why_len > 0 && why[0] == '\0')
        snprintf(why, why_len, "%s", utxo_strerror(rc));
    return rc;
}

void utxo_range_file_name(char *out, size_t len, uint32_t i, const char *ext)
{
    if (out == NULL || len == 0)
        return;
    if (ext == NULL)
        out[0] = '\0';
    else
        snprintf(out, len, "range-%03" PRIu32 ".%s", i, ext);
}

static char *hp_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);

    if (p != NULL)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* The work of one block: docs/RANGES.md, "Cutting into ranges". */
static uint64_t hp_work(const utxo_block *b)
{
    uint64_t w = WORK_UNIT;

    for (uint32_t t = 0; t < b->n_txs; t++)
        for (uint32_t i = 0; i < b->txs[t]->n_inputs; i++) {
            uint64_t add = WORK_UNIT + b->txs[t]->inputs[i].witness.budget;
            w = w > UINT64_MAX - add ? UINT64_MAX : w + add;
        }
    return w;
}

/* ---- the manifest ------------------------------------------------------- */

static void hp_hex(char *out, const uint8_t *p, size_t n)
{
    sodium_bin2hex(out, 2 * n + 1, p, n);
}

/* Appends to a growing text buffer; false when out of memory. */
typedef struct hp_text {
    char *p;
    size_t len, cap;
    bool failed;
} hp_text;

static void hp_add(hp_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void hp_add(hp_text *t, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (t->failed)
        return;
    for (;;) {
        size_t room = t->cap - t->len;
        va_start(ap, fmt);
        n = vsnprintf(t->p ? t->p + t->len : NULL, t->p ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = true;
            return;
        }
        if (t->p != NULL && (size_t)n < room) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap * 2 : 4096;
        while (cap < t->len + (size_t)n + 1)
            cap *= 2;
        char *q = realloc(t->p, cap);
        if (q == NULL) {
            t->failed = true;
            return;
        }
        t->p = q;
        t->cap = cap;
    }
}

static int hp_write_manifest(const char *dir, const utxo_params *p, const utxo_history_plan *pl)
{
    uint8_t par[UTXO_PARAMS_BYTES], sum[UTXO_HASH_BYTES];
    char hex[2 * sizeof par + 1], names[4][32];
    size_t n = sizeof par;
    hp_text t = {NULL, 0, 0, false};
    char *path;
    int rc;

    utxo_params_to_bytes(par, p);
    hp_add(&t, "utxo-history-plan 1\n");
    hp_hex(hex, p->chain_id, UTXO_HASH_BYTES);
    hp_add(&t, "chain %s\n", hex);
    hp_hex(hex, par, n);
    hp_add(&t, "params %s\n", hex);
    hp_hex(hex, pl->tip_hash, UTXO_HASH_BYTES);
    hp_add(&t, "tip %" PRIu32 " %s\n", pl->tip, hex);
    hp_add(&t, "ranges %" PRIu32 "\n", pl->k);
    for (uint32_t i = 0; i < pl->k; i++) {
        static const char *const ext[4] = {"blocks", "proofs", "state", "result"};
        for (int e = 0; e < 4; e++)
            utxo_range_file_name(names[e], sizeof names[e], i, ext[e]);
        hp_add(&t, "range %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu64 " %s %s %s %s\n", i,
               pl->ranges[i].from, pl->ranges[i].to, pl->ranges[i].work, names[0], names[1],
               names[2], names[3]);
    }
    if (t.failed) {
        free(t.p);
        return UTXO_ERR_NOMEM;
    }
    hash_tagged(sum, TAG_MANIFEST, t.p, t.len);
    hp_hex(hex, sum, UTXO_HASH_BYTES);
    hp_add(&t, "checksum %s\n", hex);
    if (t.failed || (path = hp_join(dir, "manifest")) == NULL) {
        free(t.p);
        return UTXO_ERR_NOMEM;
    }
    rc = afile_write_all(path, t.p, t.len);
    free(path);
    free(t.p);
    return rc;
}

/* Reads one line (without its '\n') from *cur; NULL at the end. */
static char *hp_line(char **cur)
{
    char *s = *cur, *nl;

    if (*s == '\0')
        return NULL;
    nl = strchr(s, '\n');
    if (nl == NULL)
        return NULL; /* every line ends with '\n' */
    *nl = '\0';
    *cur = nl + 1;
    return s;
}

/* A decimal without sign, leading zero (but "0") or overflow. */
static bool hp_num(const char *s, uint64_t max, uint64_t *v)
{
    uint64_t x = 0;

    if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || x > (max - (uint64_t)(*s - '0')) / 10)
            return false;
        x = x * 10 + (uint64_t)(*s - '0');
    }
    *v = x;
    return true;
}

/* Exactly n lower-case hex digits into out (n/2 bytes). */
static bool hp_unhex(const char *s, uint8_t *out, size_t bytes)
{
    size_t got = 0;

    if (strlen(s) != 2 * bytes)
        return false;
    for (const char *c = s; *c; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
            return false;
    return sodium_hex2bin(out, bytes, s, 2 * bytes, NULL, &got, NULL) == 0 && got == bytes;
}

/* Splits a line at single spaces into at most max fields; the count, or
 * -1 for an empty field (two spaces, a leading or trailing one). */
static int hp_fields(char *s, char **f, int max)
{
    int n = 0;

    for (;;) {
        char *sp = strchr(s, ' ');
        if (n == max)
            return max + 1;
        if (*s == '\0' || s == sp)
            return -1;
        f[n++] = s;
        if (sp == NULL)
            return n;
        *sp = '\0';
        s = sp + 1;
    }
}

void utxo_history_plan_free(utxo_history_plan *pl)
{
    if (pl == NULL)
        return;
    free(pl->ranges);
    memset(pl, 0, sizeof *pl);
}

static int manifest_read(utxo_history_plan *pl, utxo_params *p, const char *dir, char *why,
                         size_t why_len)
{
    char *path = NULL, *text = NULL, *orig = NULL, *cur, *line, *f[10];
    uint8_t sum[UTXO_HASH_BYTES], want[UTXO_HASH_BYTES], par[512];
    struct stat sb;
    size_t got = 0, eo = 0;
    uint64_t v;
    uint32_t lineno = 0;
    int fd = -1, rc = UTXO_ERR_FILE_FORMAT, e;

    memset(pl, 0, sizeof *pl);
    if ((path = hp_join(dir, "manifest")) == NULL)
        return hp_why(why, why_len, UTXO_ERR_NOMEM, "%s/manifest: out of memory", dir);
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; anything but
     * a regular file is refused before a byte is read (a FIFO or a device
     * could make a read wait for ever) */
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) < 0) {
        e = errno;
        hp_why(why, why_len, 0, "%s: %s", path, strerror(e));
        free(path);
        errno = e;
        return UTXO_ERR_IO;
    }
    if (fstat(fd, &sb) != 0) {
        e = errno;
        rc = hp_why(why, why_len, UTXO_ERR_IO, "%s: %s", path, strerror(e));
        errno = e;
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        rc = hp_why(why, why_len, UTXO_ERR_FILE_FORMAT, "%s: not a regular file", path);
        goto out;
    }
    if (sb.st_size > MANIFEST_MAX) {
        rc = hp_why(why, why_len, UTXO_ERR_TOO_LARGE,
                    "%s: %lld bytes, more than a manifest holds (%u)", path,
                    (long long)sb.st_size, MANIFEST_MAX);
        goto out;
    }
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
        e = errno;
        rc = hp_why(why, why_len, UTXO_ERR_IO, "%s: %s", path, strerror(e));
        errno = e;
        goto out;
    }
    if ((text = malloc((size_t)sb.st_size + 1)) == NULL) {
        rc = hp_why(why, why_len, UTXO_ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    while (got < (size_t)sb.st_size) {
        ssize_t r = read(fd, text + got, (size_t)sb.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            e = errno;
            rc = hp_why(why, why_len, UTXO_ERR_IO, "%s: %s", path,
                        r == 0 ? "changed while read" : strerror(e));
            errno = e;
            goto out;
        }
        got += (size_t)r;
    }
    text[got] = '\0';
    if (strlen(text) != got) {
        rc = hp_why(why, why_len, UTXO_ERR_FILE_FORMAT, "%s: a NUL byte", path);
        goto out;
    }
    /* parsing cuts the text into fields in place; the checksum is of the
     * bytes as read */
    if ((orig = malloc(got + 1)) == NULL) {
        rc = hp_why(why, why_len, UTXO_ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    memcpy(orig, text, got + 1);
    cur = text;
#define BAD(ln, fmt, ...)                                                          \
    do {                                                                           \
        rc = hp_why(why, why_len, UTXO_ERR_FILE_FORMAT, "%s line %u: " fmt, path,   \
                    (unsigned)(ln), ##__VA_ARGS__);                                \
        goto out;                                                                  \
    } while (0)
    /* header */
    if ((line = hp_line(&cur)) == NULL || strcmp(line, "utxo-history-plan 1") != 0)
        BAD(1u, "not a plan manifest of version 1");
    lineno = 1;
    if ((line = hp_line(&cur)) == NULL || hp_fields(line, f, 2) != 2 || strcmp(f[0], "chain") ||
        !hp_unhex(f[1], want, UTXO_HASH_BYTES))
        BAD(2u, "wanted 'chain HEX'");
    if ((line = hp_line(&cur)) == NULL || hp_fields(line, f, 2) != 2 || strcmp(f[0], "params") ||
        strlen(f[1]) % 2 != 0 || strlen(f[1]) / 2 > sizeof par ||
        !hp_unhex(f[1], par, strlen(f[1]) / 2))
        BAD(3u, "wanted 'params HEX'");
    if ((rc = utxo_params_from_bytes(p, par, strlen(f[1]) / 2, &eo)) != UTXO_OK) {
        rc = hp_why(why, why_len, rc, "%s line 3: the parameters do not decode: %s at byte %zu",
                    path, utxo_strerror(rc), eo);
        goto out;
    }
    if (memcmp(p->chain_id, want, UTXO_HASH_BYTES) != 0)
        BAD(3u, "the parameters do not hash to the chain id");
    if ((line = hp_line(&cur)) == NULL || hp_fields(line, f, 3) != 3 || strcmp(f[0], "tip") ||
        !hp_num(f[1], UINT32_MAX - 1, &v) || !hp_unhex(f[2], pl->tip_hash, UTXO_HASH_BYTES))
        BAD(4u, "wanted 'tip HEIGHT HEX'");
    pl->tip = (uint32_t)v;
    if ((line = hp_line(&cur)) == NULL || hp_fields(line, f, 2) != 2 || strcmp(f[0], "ranges") ||
        !hp_num(f[1], (uint64_t)pl->tip + 1, &v) || v == 0)
        BAD(5u, "wanted 'ranges K' with 1 <= K <= the blocks");
    /* K lines follow, each longer than RANGE_LINE_MIN bytes: a K the rest
     * of the file cannot hold is refused before any memory is sized by it */
    if (v > (got - (size_t)(cur - text)) / RANGE_LINE_MIN)
        BAD(5u, "%" PRIu64 " ranges, more than the rest of the file can hold", v);
    pl->k = (uint32_t)v;
    if ((pl->ranges = calloc(pl->k, sizeof *pl->ranges)) == NULL) {
        rc = hp_why(why, why_len, UTXO_ERR_NOMEM, "%s: out of memory for %u ranges", path, pl->k);
        goto out;
    }
    lineno = 5;
    for (uint32_t i = 0; i < pl->k; i++) {
        static const char *const ext[4] = {"blocks", "proofs", "state", "result"};
        uint64_t idx, a, b, w;
        char name[32];
        lineno++;
        if ((line = hp_line(&cur)) == NULL || hp_fields(line, f, 9) != 9 || strcmp(f[0], "range") ||
            !hp_num(f[1], UINT32_MAX, &idx) || idx != i || !hp_num(f[2], UINT32_MAX, &a) ||
            !hp_num(f[3], UINT32_MAX, &b) || !hp_num(f[4], UINT64_MAX, &w))
            BAD(lineno, "wanted 'range I FROM TO WORK FILES...' for range %u", i);
        if (a != (i == 0 ? 0 : pl->ranges[i - 1].to) || b <= a || b > (uint64_t)pl->tip + 1)
            BAD(lineno, "range %u is not [end of the previous, above it, up to the tip]",
                i);
        for (int x = 0; x < 4; x++) {
            utxo_range_file_name(name, sizeof name, i, ext[x]);
            if (strcmp(f[5 + x], name) != 0)
                BAD(lineno, "range %u: file '%s', wanted '%s'", i, f[5 + x], name);
        }
        pl->ranges[i].from = (uint32_t)a;
        pl->ranges[i].to = (uint32_t)b;
        pl->ranges[i].work = w;
    }
    if (pl->ranges[pl->k - 1].to != pl->tip + 1)
        BAD(lineno, "the last range does not end at the tip");
    /* the checksum covers every byte before its line */
    {
        size_t covered = (size_t)(cur - text);
        char *sumline = hp_line(&cur);
        lineno++;
        if (sumline == NULL || hp_fields(sumline, f, 2) != 2 || strcmp(f[0], "checksum") ||
            !hp_unhex(f[1], want, UTXO_HASH_BYTES))
            BAD(lineno, "wanted 'checksum HEX'");
        if (*cur != '\0')
            BAD(lineno + 1, "bytes after the checksum");
        hash_tagged(sum, TAG_MANIFEST, orig, covered); /* the bytes as read */
        if (sodium_memcmp(sum, want, UTXO_HASH_BYTES) != 0) {
            rc = hp_why(why, why_len, UTXO_ERR_FILE_CHECKSUM,
                        "%s: the checksum does not match (damaged or edited)", path);
            goto out;
        }
    }
#undef BAD
    rc = UTXO_OK;
out:
    if (fd >= 0)
        close(fd);
    if (rc != UTXO_OK)
        utxo_history_plan_free(pl);
    free(text);
    free(orig);
    free(path);
    return rc;
}

int utxo_history_manifest_read(utxo_history_plan *pl, utxo_params *p, const char *dir,
                               char *why, size_t why_len)
{
    said_clear(why, why_len);
    if (pl == NULL || p == NULL || dir == NULL)
        return said(UTXO_ERR_ARG, why, why_len);
    return said(manifest_read(pl, p, dir, why, why_len), why, why_len);
}

/* ---- making a plan ------------------------------------------------------ */

/* Range ends for k ranges over n blocks of the given works: range i ends at
 * the first height where the running sum reaches (i + 1) W / k, every range
 * holding at least one block. */
static void hp_cut(const uint64_t *work, uint32_t n, uint32_t k, utxo_history_range *r)
{
    unsigned __int128 total = 0, cum = 0;
    uint32_t h = 0;

    for (uint32_t x = 0; x < n; x++)
        total += work[x];
    for (uint32_t i = 0; i < k; i++) {
        r[i].from = h;
        r[i].work = 0;
        unsigned __int128 target = total * (i + 1) / k;
        uint32_t last_allowed = n - (k - 1 - i); /* leave a block for each later range */
        do {
            cum += work[h];
            r[i].work += work[h];
            h++;
        } while (h < last_allowed && (cum < target || i == k - 1));
        r[i].to = h;
    }
}

static int plan_make(utxo_store *s, uint32_t k, const char *dir, utxo_history_plan *pl, char *why,
                     size_t why_len)
{
    utxo_store_info info;
    utxo_params p;
    utxo_validator *v = NULL;
    uint64_t *work = NULL;
    utxo_block *b = NULL;
    utxo_bundle *bu = NULL;
    uint8_t *bytes = NULL;
    size_t len = 0, eo = 0;
    char name[32], *path = NULL, *bpath = NULL;
    utxo_verdict vd;
    cn_effects fx;
    int rc;

    memset(pl, 0, sizeof *pl);
    utxo_store_get_info(s, &info);
    utxo_store_params(s, &p);
    if (info.n_blocks == 0)
        return hp_why(why, why_len, UTXO_ERR_ARG, "the store holds no block");
    if (k == 0 || k > info.n_blocks)
        return hp_why(why, why_len, UTXO_ERR_ARG, "%u ranges of %u blocks: wanted 1 to %u", k,
                      info.n_blocks, info.n_blocks);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return hp_why(why, why_len, UTXO_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    pl->k = k;
    pl->tip = info.n_blocks - 1;
    memcpy(pl->tip_hash, info.tip_hash, UTXO_HASH_BYTES);
    if ((work = calloc(info.n_blocks, sizeof *work)) == NULL ||
        (pl->ranges = calloc(k, sizeof *pl->ranges)) == NULL ||
        (v = utxo_validator_new(&p, 1)) == NULL) {
        rc = UTXO_ERR_NOMEM;
        goto out;
    }
    /* one pass over the stored chain: the work of each block, and the
     * accumulator walk whose states the ranges claim; the cut needs all the
     * works first, so the states are saved in a second, cheaper walk below */
    for (uint32_t h = 0; h < info.n_blocks; h++) {
        if ((rc = utxo_store_get_block(s, h, &b, NULL, NULL)) != UTXO_OK) {
            hp_why(why, why_len, rc, "block %u: %s", h, utxo_strerror(rc));
            goto out;
        }
        work[h] = hp_work(b);
        utxo_block_free(b);
        b = NULL;
    }
    hp_cut(work, info.n_blocks, k, pl->ranges);
    for (uint32_t i = 0, h = 0; i < k; i++) {
        for (; h < pl->ranges[i].from; h++) {
            if ((rc = utxo_store_get_block(s, h, &b, NULL, NULL)) != UTXO_OK ||
                (rc = utxo_store_get_bundle(s, h, &bytes, &len)) != UTXO_OK ||
                (rc = utxo_bundle_from_bytes(&bu, bytes, len, &p, &eo)) != UTXO_OK) {
                hp_why(why, why_len, rc, "block %u or its bundle: %s", h, utxo_strerror(rc));
                goto out;
            }
            free(bytes);
            bytes = NULL;
            rc = cn_validator_apply_flags(v, b, bu, CN_NO_PREDICATES, &fx, &vd);
            cn_effects_clear(&fx);
            utxo_block_free(b);
            utxo_bundle_free(bu);
            b = NULL;
            bu = NULL;
            if (rc != UTXO_OK) {
                hp_why(why, why_len, rc,
                       "block %u does not apply to the accumulator walk: %s (the store is "
                       "inconsistent: run utxo check)", h, utxo_strerror(rc));
                goto out;
            }
        }
        utxo_range_file_name(name, sizeof name, i, "state");
        free(path);
        if ((path = hp_join(dir, name)) == NULL) {
            rc = UTXO_ERR_NOMEM;
            goto out;
        }
        if ((rc = utxo_validator_save(v, path)) != UTXO_OK) {
            hp_why(why, why_len, rc, "cannot write %s: %s", path, strerror(errno));
            goto out;
        }
    }
    for (uint32_t i = 0; i < k; i++) {
        utxo_prove_opts po;
        utxo_pipe_result res;
        free(path);
        free(bpath);
        utxo_range_file_name(name, sizeof name, i, "proofs");
        path = hp_join(dir, name);
        utxo_range_file_name(name, sizeof name, i, "blocks");
        bpath = hp_join(dir, name);
        if (path == NULL || bpath == NULL) {
            rc = UTXO_ERR_NOMEM;
            goto out;
        }
        memset(&po, 0, sizeof po);
        po.blocks_path = bpath;
        if ((rc = utxo_prove_range(s, pl->ranges[i].from, pl->ranges[i].to, path, &po, &res)) !=
            UTXO_OK) {
            hp_why(why, why_len, rc, "range %u: %s", i, res.reason);
            goto out;
        }
    }
    if ((rc = hp_write_manifest(dir, &p, pl)) != UTXO_OK)
        hp_why(why, why_len, rc, "cannot write %s/manifest: %s", dir,
               rc == UTXO_ERR_IO ? strerror(errno) : utxo_strerror(rc));
out:
    utxo_block_free(b);
    utxo_bundle_free(bu);
    utxo_validator_free(v);
    free(bytes);
    free(work);
    free(path);
    free(bpath);
    if (rc != UTXO_OK)
        utxo_history_plan_free(pl);
    return rc;
}

int utxo_history_plan_make(utxo_store *s, uint32_t k, const char *dir, utxo_history_plan *pl,
                           char *why, size_t why_len)
{
    said_clear(why, why_len);
    if (s == NULL || dir == NULL || pl == NULL)
        return said(UTXO_ERR_ARG, why, why_len);
    return said(plan_make(s, k, dir, pl, why, why_len), why, why_len);
}

/* ---- link-up ------------------------------------------------------------ */

static int linkup(const char *dir, utxo_history_linkup_result *out, char *why, size_t why_len)
{
    utxo_history_plan pl;
    utxo_params p;
    utxo_range_result r;
    utxo_validator *g;
    uint8_t gen[UTXO_VALIDATOR_STATE_MAX_BYTES], gd[UTXO_HASH_BYTES];
    uint8_t prev_end[UTXO_HASH_BYTES], prev_last[UTXO_HASH_BYTES];
    static const uint8_t zero[UTXO_HASH_BYTES];
    char name[32], line[400], *path;
    size_t n = 0;
    int rc;

    memset(out, 0, sizeof *out);
    if ((rc = utxo_history_manifest_read(&pl, &p, dir, why, why_len)) != UTXO_OK) {
        out->manifest_bad = true;
        return rc;
    }
    if ((g = utxo_validator_new(&p, 1)) == NULL) {
        utxo_history_plan_free(&pl);
        return UTXO_ERR_NOMEM;
    }
    rc = utxo_validator_state_to_bytes(g, gen, sizeof gen, &n);
    utxo_validator_free(g);
    if (rc != UTXO_OK) {
        utxo_history_plan_free(&pl);
        return rc;
    }
    utxo_range_state_digest(gen, n, gd);
    out->ranges = pl.k;
    for (uint32_t i = 0; i < pl.k; i++) {
        const utxo_history_range *x = &pl.ranges[i];
        out->failed_range = i;
        utxo_range_file_name(name, sizeof name, i, "result");
        if ((path = hp_join(dir, name)) == NULL) {
            rc = UTXO_ERR_NOMEM;
            break;
        }
        rc = utxo_range_result_read(&r, &p, path, line, sizeof line);
        int e = errno; /* before anything else can change it */
        free(path);
        if (rc != UTXO_OK) {
            out->no_result = rc == UTXO_ERR_IO;
            if (rc == UTXO_ERR_IO && e == ENOENT)
                hp_why(why, why_len, rc, "range %u (heights %u..%u): %s: no such file (not run?)",
                       i, x->from, x->to - 1, name);
            else
                hp_why(why, why_len, rc, "range %u (heights %u..%u): %s: %s", i, x->from,
                       x->to - 1, name, line);
            break;
        }
        rc = UTXO_ERR_STATE;
        if (r.from != x->from || r.to != x->to) {
            hp_why(why, why_len, rc, "range %u: its result is for heights %u..%u, the plan says %u..%u",
                   i, r.from, r.to - 1, x->from, x->to - 1);
            break;
        }
        if (memcmp(r.start_digest, i == 0 ? gd : prev_end, UTXO_HASH_BYTES) != 0) {
            if (i == 0)
                hp_why(why, why_len, rc,
                       "range 0 (heights %u..%u): does not start from the genesis state", x->from,
                       x->to - 1);
            else
                hp_why(why, why_len, rc,
                       "range %u (heights %u..%u): its start state is not where range %u ended "
                       "(the seam does not link)", i, x->from, x->to - 1, i - 1);
            break;
        }
        /* implied by the start digest (the state holds its tip hash), and
         * checked on its own for a clearer message: range 0's previous hash
         * is the genesis state's, zeros */
        if (memcmp(r.prev_hash, i == 0 ? zero : prev_last, UTXO_HASH_BYTES) != 0) {
            if (i == 0)
                hp_why(why, why_len, rc, "range 0: its previous hash is not zeros (the genesis "
                       "state's)");
            else
                hp_why(why, why_len, rc, "range %u: its first block does not follow range %u's "
                       "last", i, i - 1);
            break;
        }
        if (r.verdict != 0) {
            rc = (int)r.verdict;
            hp_why(why, why_len, rc, "range %u (heights %u..%u): invalid at height %u: %s (%s)", i,
                   x->from, x->to - 1, r.fail_height, utxo_strerror(rc), r.reason);
            out->invalid = true;
            break;
        }
        if (r.blocks != (uint64_t)(x->to - x->from)) {
            hp_why(why, why_len, rc, "range %u: %" PRIu64 " blocks verified of %u", i, r.blocks,
                   x->to - x->from);
            break;
        }
        if (i + 1 == pl.k && memcmp(r.last_hash, pl.tip_hash, UTXO_HASH_BYTES) != 0) {
            hp_why(why, why_len, rc, "range %u: its last block is not the plan's tip", i);
            break;
        }
        memcpy(prev_end, r.end_digest, UTXO_HASH_BYTES);
        memcpy(prev_last, r.last_hash, UTXO_HASH_BYTES);
        out->blocks += r.blocks;
        out->txs += r.txs;
        out->inputs += r.inputs;
        out->cycles += r.cycles;
        if (i + 1 == pl.k) {
            memcpy(out->tip_hash, r.last_hash, UTXO_HASH_BYTES);
            memcpy(out->end_digest, r.end_digest, UTXO_HASH_BYTES);
            out->tip = pl.tip;
            rc = UTXO_OK;
        }
    }
    utxo_history_plan_free(&pl);
    return rc;
}

int utxo_history_linkup(const char *dir, utxo_history_linkup_result *out, char *why,
                        size_t why_len)
{
    said_clear(why, why_len);
    if (dir == NULL || out == NULL)
        return said(UTXO_ERR_ARG, why, why_len);
    return said(linkup(dir, out, why, why_len), why, why_len);
}
