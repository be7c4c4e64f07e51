/*
 * util.c — file, image, hex and message helpers for the utxo command (util.h).
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
#include "utxo.h"
#include "util.h"

const char *prog_name = "utxo";

void errorf(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", prog_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int read_file(const char *path, size_t max, uint8_t **out, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    const char *name = f == stdin ? "standard input" : path;
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;

    *out = NULL;
    *len = 0;
    if (f == NULL) {
        errorf("cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            uint8_t *nb;
            if (cap > max) {
                errorf("%s: larger than %zu bytes", name, max);
                goto fail;
            }
            nb = realloc(buf, ncap);
            if (nb == NULL) {
                errorf("%s: out of memory", name);
                goto fail;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        errorf("cannot read %s: %s", name, strerror(errno));
        goto fail;
    }
    if (n > max) {
        errorf("%s: larger than %zu bytes", name, max);
        goto fail;
    }
    if (f != stdin)
        fclose(f);
    *out = buf;
    *len = n;
    return 0;
fail:
    free(buf);
    if (f != stdin)
        fclose(f);
    return -1;
}

const char *io_errtext(int e)
{
    switch (e) {
    case EROFS:
        return "read-only file system";
    case EACCES:
    case EPERM:
        return "permission denied";
    case ENOSPC:
        return "no space left on device (disk full)";
#ifdef EDQUOT
    case EDQUOT:
        return "disk quota exceeded";
#endif
    case EFBIG:
        return "file too large (the file size limit is reached)";
    default:
        return strerror(e);
    }
}

/* fsync of the directory holding path, so that a rename into it lasts. */
static int sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash == NULL ? strdup(".") : strndup(path, slash == path ? 1 : (size_t)(slash - path));
    int fd, rc = -1;

    if (dir == NULL)
        return -1;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        rc = fsync(fd) == 0 || errno == EINVAL || errno == EROFS ? 0 : -1;
        close(fd);
    }
    free(dir);
    return rc;
}

int write_file(const char *path, const uint8_t *p, size_t len)
{
    size_t tl = strlen(path) + 16;
    char *tmp = malloc(tl);
    const char *step = "create";
    mode_t um;
    int fd = -1, e = 0;
    size_t done = 0;

    if (tmp == NULL) {
        errorf("out of memory");
        return -1;
    }
    /* a temporary file of our own beside path (mkstemp: no clash with
     * another writer), made 0644 less the umask, synced, then renamed over
     * path: a failed write leaves the previous file as it was */
    snprintf(tmp, tl, "%s.XXXXXX", path);
    if ((fd = mkstemp(tmp)) < 0) {
        e = errno;
        errorf("cannot write %s: %s", path, io_errtext(e));
        free(tmp);
        return -1;
    }
    um = umask(0);
    umask(um);
    step = "write";
    if (fchmod(fd, 0644 & ~um) != 0)
        e = errno;
    while (e == 0 && done < len) {
        ssize_t n = write(fd, p + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            e = n < 0 ? errno : EIO;
        else
            done += (size_t)n;
    }
    if (e == 0 && fsync(fd) != 0) {
        step = "sync";
        e = errno;
    }
    if (close(fd) != 0 && e == 0)
        e = errno;
    if (e == 0 && rename(tmp, path) != 0) {
        step = "rename";
        e = errno;
    }
    if (e != 0) {
        errorf("cannot write %s (%s): %s; the previous file, if any, is unchanged", path, step,
               io_errtext(e));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    if (sync_dir(path) != 0)
        errorf("warning: %s written, but its directory could not be synced: %s", path,
               io_errtext(errno));
    free(tmp);
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int hex_decode(const char *hex, uint8_t **out, size_t *len)
{
    size_t n = strlen(hex);
    uint8_t *buf;

    *out = NULL;
    *len = 0;
    if (n % 2 != 0)
        return -1;
    buf = malloc(n / 2 + 1);
    if (buf == NULL)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(buf);
            return -1;
        }
        buf[i] = (uint8_t)(hi << 4 | lo);
    }
    *out = buf;
    *len = n / 2;
    return 0;
}

void hex_encode(char *out, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

bool parse_u64(const char *s, uint64_t *v)
{
    uint64_t x = 0;

    if (s == NULL || *s == '\0')
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        if (x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return false;
        x = x * 10 + (uint64_t)(*s - '0');
    }
    *v = x;
    return true;
}

int parse_num_opt(const char *cmd, num_opt *opts, size_t n, int argc, char **argv, int *i)
{
    for (size_t k = 0; k < n; k++) {
        num_opt *o = &opts[k];
        uint64_t x = 0;

        if (strcmp(argv[*i], o->name) != 0)
            continue;
        /* parsed aside: a refused value never replaces an accepted one
         * (found by tests/fuzz/fuzz_cli) */
        if (*i + 1 >= argc || !parse_u64(argv[++*i], &x) || x < o->min || x > o->max) {
            if (o->min == 0 && o->max == UINT64_MAX)
                errorf("%s: %s wants a whole number", cmd, o->name);
            else
                errorf("%s: %s wants a number from %llu to %llu", cmd, o->name,
                       (unsigned long long)o->min, (unsigned long long)o->max);
            return -1;
        }
        *o->v = x;
        o->set = true;
        return 1;
    }
    return 0;
}

/* "segment 2: file size exceeds memory size (byte 24)": what is wrong with
 * an image or ELF file, by utxo_image_explain. */
static void image_problem(const char *path, const char *kind, const uint8_t *raw, size_t len)
{
    utxo_image_problem p;

    if (utxo_image_explain(raw, len, &p) == UTXO_OK)
        errorf("%s: %s", path, kind); /* refused, but the checks disagree */
    else if (p.segment >= 0)
        errorf("%s: %s: segment %d: %s (byte %zu)", path, kind, p.segment, p.what, p.offset);
    else
        errorf("%s: %s: %s (byte %zu)", path, kind, p.what, p.offset);
}

int load_image(const char *path, size_t max, uint8_t **img, size_t *len)
{
    uint8_t *raw = NULL;
    size_t raw_len = 0, off = 0;
    int rc;

    *img = NULL;
    *len = 0;
    if (read_file(path, max, &raw, &raw_len) != 0)
        return EXIT_USAGE;
    if (raw_len >= 4 && memcmp(raw, "\x7f" "ELF", 4) == 0) {
        rc = utxo_image_from_elf(img, len, raw, raw_len, &off);
        if (rc != UTXO_OK)
            image_problem(path, "not a usable ELF executable", raw, raw_len);
        free(raw);
        return rc == UTXO_OK ? EXIT_VALID : EXIT_INVALID;
    }
    rc = utxo_image_validate(raw, raw_len, &off);
    if (rc != UTXO_OK) {
        image_problem(path, "invalid predicate image", raw, raw_len);
        free(raw);
        return EXIT_INVALID;
    }
    *img = raw;
    *len = raw_len;
    return EXIT_VALID;
}

int parse_chain_id(const char *hex, uint8_t **chain)
{
    size_t len = 0;

    *chain = NULL;
    if (hex == NULL)
        return 0;
    if (hex_decode(hex, chain, &len) != 0 || len != UTXO_HASH_BYTES) {
        free(*chain);
        *chain = NULL;
        errorf("--chain-id: need 64 hex digits");
        return -1;
    }
    return 0;
}
