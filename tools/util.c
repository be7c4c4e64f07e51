/*
 * util.c — file, image, hex and message helpers for the utxo command (util.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "utxo.h"
#include "util.h"
#include "utxo/atomicfile.h"

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

int read_text(const char *path, size_t max, const char *what, char **text, size_t *len)
{
    uint8_t *raw, *nul;
    char *t;

    *text = NULL;
    if (read_file(path, max, &raw, len) != 0)
        return -1;
    if ((nul = memchr(raw, 0, *len)) != NULL) {
        errorf("%s: not %s (a NUL byte at offset %zu)", path, what, (size_t)(nul - raw));
        free(raw);
        return -1;
    }
    if ((t = realloc(raw, *len + 1)) == NULL) {
        errorf("%s: out of memory", path);
        free(raw);
        return -1;
    }
    t[*len] = '\0';
    *text = t;
    return 0;
}

int write_file(const char *path, const uint8_t *p, size_t len)
{
    afile a;
    int rc;

    if (strcmp(path, "-") == 0) {
        if (fwrite(p, 1, len, stdout) != len || fflush(stdout) != 0) {
            errorf("cannot write standard output: %s", afile_errtext(errno));
            clearerr(stdout); /* said here: main() need not say it again */
            return -1;
        }
        return 0;
    }
    /* atomicfile.h: a temporary file beside path, synced, renamed over it
     * (a device or FIFO is written in place; a link keeps being one) */
    if ((rc = afile_begin(&a, path)) == UTXO_OK) {
        (void)afile_write(&a, p, len);
        rc = afile_commit(&a);
    }
    if (rc == UTXO_ERR_NOMEM) {
        errorf("cannot write %s: out of memory", path);
        return -1;
    }
    if (rc != UTXO_OK && strcmp(afile_what(&a), "sync directory") == 0) {
        /* renamed already: in place, but the rename may not survive a crash */
        errorf("cannot write %s (%s): %s; the new file is in place, but may not survive a crash",
               path, afile_what(&a), afile_errtext(errno));
        return -1;
    }
    if (rc != UTXO_OK) {
        errorf("cannot write %s (%s): %s; the previous file, if any, is unchanged", path,
               afile_what(&a), afile_errtext(errno));
        return -1;
    }
    return 0;
}

int hex_decode(const char *hex, uint8_t **out, size_t *len)
{
    size_t n = strlen(hex), got = 0;
    uint8_t *buf;

    *out = NULL;
    *len = 0;
    if (n % 2 != 0)
        return -1;
    buf = malloc(n / 2 + 1);
    if (buf == NULL)
        return -1;
    /* No characters to ignore and no end pointer: every character must be
     * a hex digit. */
    if (sodium_hex2bin(buf, n / 2, hex, n, NULL, &got, NULL) != 0 || got != n / 2) {
        free(buf);
        return -1;
    }
    *out = buf;
    *len = got;
    return 0;
}

void hex_encode(char *out, const uint8_t *p, size_t n)
{
    sodium_bin2hex(out, 2 * n + 1, p, n);
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

bool parse_dec_u32(const char *s, size_t len, uint32_t *out)
{
    uint64_t v = 0;

    if (len == 0 || len > 10 || (len > 1 && s[0] == '0'))
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

bool parse_outpoint(const char *s, utxo_outpoint *op)
{
    const char *colon = strchr(s, ':');
    size_t got = 0;

    memset(op, 0, sizeof *op);
    return colon != NULL && colon - s == 2 * UTXO_HASH_BYTES &&
           sodium_hex2bin(op->txid, sizeof op->txid, s, (size_t)(colon - s), NULL, &got, NULL) ==
               0 &&
           got == sizeof op->txid && parse_dec_u32(colon + 1, strlen(colon + 1), &op->index);
}

bool parse_id_or_address(const char *s, uint8_t id[UTXO_HASH_BYTES])
{
    size_t n = strlen(s), got = 0;

    if (n == 2 * UTXO_HASH_BYTES &&
        sodium_hex2bin(id, UTXO_HASH_BYTES, s, n, NULL, &got, NULL) == 0 &&
        got == UTXO_HASH_BYTES)
        return true;
    return utxo_address_decode(id, s) == UTXO_OK;
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

int chain_file_params(const char *cmd, const char *path, utxo_params *p)
{
    utxo_chainfile *cf = NULL;
    size_t off = 0;
    int rc = utxo_chainfile_open(&cf, path, UTXO_CHAINFILE_BLOCKS, p, &off);

    if (rc == UTXO_ERR_IO) {
        errorf("%s: %s: %s", cmd, path, strerror(errno));
        return EXIT_USAGE;
    }
    if (rc != UTXO_OK) {
        errorf("%s: %s: not a valid block file: %s at offset %zu", cmd, path, utxo_strerror(rc),
               off);
        return EXIT_USAGE;
    }
    utxo_chainfile_close(cf);
    return 0;
}

int parse_chain_id(const char *cmd, const char *hex, uint8_t **chain)
{
    size_t len = 0;

    *chain = NULL;
    if (hex == NULL)
        return 0;
    if (hex_decode(hex, chain, &len) != 0 || len != UTXO_HASH_BYTES) {
        free(*chain);
        *chain = NULL;
        usage_error(cmd, "--chain-id wants 64 hex digits, not '%s'", hex);
        return -1;
    }
    return 0;
}

/* ---- the command line (util.h) ------------------------------------------ */

int usage_error(const char *cmd, const char *fmt, ...)
{
    char line[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    errorf("%s: %s (see '%s %s --help')", cmd, line, prog_name, cmd);
    return EXIT_USAGE;
}

/* name is a long option of c (exactly, not an abbreviation). */
static bool known_long(const cli *c, const char *name)
{
    for (const struct option *o = c->longopts; o != NULL && o->name != NULL; o++)
        if (strcmp(o->name, name) == 0)
            return true;
    return false;
}

int cli_next(cli *c, int argc, char **argv)
{
    static char optname[64];
    char shortopts[64];
    const char *arg;
    int ch, li = -1;

    if (!c->started) {
        c->started = true;
        optind = 0; /* glibc: a full reset, also of a scan left half-way */
    }
    /* ':' first: a missing value is ':' rather than '?', so that it gets its own message */
    snprintf(shortopts, sizeof shortopts, ":h%s", c->shortopts ? c->shortopts : "");
    opterr = 0;
    ch = getopt_long(argc, argv, shortopts, c->longopts, &li);
    if (ch == -1)
        return -1;
    arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
    if (ch != '?' && ch != ':' && li >= 0)
        snprintf(optname, sizeof optname, "--%s", c->longopts[li].name);
    else if (ch != '?' && ch != ':')
        snprintf(optname, sizeof optname, "-%c", ch);
    else if (strncmp(arg, "--", 2) == 0)
        snprintf(optname, sizeof optname, "%.*s", (int)strcspn(arg, "="), arg);
    else
        snprintf(optname, sizeof optname, "-%c", optopt);
    c->opt = optname;
    switch (ch) {
    case 'h':
        c->help(stdout);
        c->status = EXIT_VALID;
        return CLI_STOP;
    case ':':
        c->status = usage_error(c->cmd, "option '%s' needs a value", optname);
        return CLI_STOP;
    case '?':
        if (strncmp(arg, "--", 2) == 0 && strchr(arg, '=') != NULL && known_long(c, optname + 2))
            c->status = usage_error(c->cmd, "option '%s' takes no value", optname);
        else
            c->status = usage_error(c->cmd, "unknown option '%s'", optname);
        return CLI_STOP;
    default:
        return ch;
    }
}

bool cli_u64(cli *c, uint64_t min, uint64_t max, uint64_t *v)
{
    uint64_t x;

    if (parse_u64(optarg, &x) && x >= min && x <= max) {
        *v = x;
        return true;
    }
    if (min == 0 && max == UINT64_MAX)
        c->status = usage_error(c->cmd, "%s wants a whole number, not '%s'", c->opt, optarg);
    else
        c->status = usage_error(c->cmd, "%s wants a number from %llu to %llu, not '%s'", c->opt,
                                (unsigned long long)min, (unsigned long long)max, optarg);
    return false;
}

int cli_operands(const cli *c, int argc, char **argv, int min, int max, const char *what)
{
    int n = argc - optind;

    if (n < min)
        return usage_error(c->cmd, "%s missing", what);
    if (n > max)
        return usage_error(c->cmd, "unexpected argument '%s'", argv[optind + max]);
    return 0;
}

void cli_list(FILE *f, const char *header, const cli_sub *subs, size_t n)
{
    fprintf(f, "%s\n", header);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %-11s %s\n", subs[i].name, subs[i].summary);
}

int cli_dispatch(const char *cmd, void (*help)(FILE *f), const cli_sub *subs, size_t n, int argc,
                 char **argv)
{
    if (argc < 2)
        return usage_error(cmd, "a subcommand is missing");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        help(stdout);
        return EXIT_VALID;
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(argv[1], subs[i].name) == 0)
            return subs[i].run(argc - 1, argv + 1);
    return usage_error(cmd, "unknown subcommand '%s'", argv[1]);
}

bool cli_num(cli *c, num_opt *opts, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        if (strcmp(c->opt, opts[k].name) != 0)
            continue;
        /* parsed aside: a refused value never replaces an accepted one
         * (found by tests/fuzz/fuzz_cli) */
        if (!cli_u64(c, opts[k].min, opts[k].max, opts[k].v))
            return false;
        opts[k].set = true;
        return true;
    }
    c->status = usage_error(c->cmd, "unknown option '%s'", c->opt);
    return false;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        (void)rmdir(path);
    else
        (void)unlink(path);
    return 0;
}

void remove_tree(const char *dir)
{
    (void)nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int cli_nums_only(cli *c, int argc, char **argv, num_opt *nums, size_t n, int min, int max,
                  const char *what)
{
    int rc;

    while ((rc = cli_next(c, argc, argv)) != -1) {
        if (rc == CLI_STOP)
            return c->status;
        if (rc == CLI_NUM && !cli_num(c, nums, n))
            return EXIT_USAGE;
    }
    rc = cli_operands(c, argc, argv, min, max, what);
    return rc != 0 ? rc : -1;
}

void le_put(uint8_t **p, uint64_t v, unsigned bytes)
{
    for (unsigned k = 0; k < bytes; k++)
        *(*p)++ = (uint8_t)(v >> (8 * k));
}

uint64_t le_get(const uint8_t **p, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned k = 0; k < bytes; k++)
        v |= (uint64_t)*(*p)++ << (8 * k);
    return v;
}

static volatile sig_atomic_t stop_caught;

static void stop_note(int sig)
{
    stop_caught = sig;
}

void signals_catch(void (*handler)(int), int flags, bool keep_ignored)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa, old;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    for (size_t k = 0; k < sizeof sigs / sizeof sigs[0]; k++)
        if (!keep_ignored || (sigaction(sigs[k], NULL, &old) == 0 && old.sa_handler != SIG_IGN))
            (void)sigaction(sigs[k], &sa, NULL);
}

void stop_signals_catch(void)
{
    /* SA_RESTART: the run stops at a boundary, not in a write; caught even
     * when ignored at start (a background job's SIGINT), as the run must
     * remove what it wrote */
    signals_catch(stop_note, SA_RESTART, false);
}

int stop_signal(void)
{
    return (int)stop_caught;
}

int stop_signal_die(void)
{
    int sig = (int)stop_caught;

    (void)signal(sig, SIG_DFL);
    (void)raise(sig);
    return 128 + sig;
}

uint64_t proc_peak_rss_kib(long pid)
{
    char path[64], line[256];
    unsigned long long kib = 0;
    FILE *f;

    if (pid > 0)
        snprintf(path, sizeof path, "/proc/%ld/status", pid);
    else
        snprintf(path, sizeof path, "/proc/self/status");
    if ((f = fopen(path, "r")) == NULL)
        return 0;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmHWM: %llu kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

int scratch_dir(char *out, size_t n, const char *who, const char *name)
{
    const char *tmp = getenv("TMPDIR");

    if (tmp == NULL || *tmp == 0)
        tmp = "/tmp";
    if (snprintf(out, n, "%s/%s.XXXXXX", tmp, name) >= (int)n) {
        errorf("%s: the path under %s is too long (set TMPDIR)", who, tmp);
        return -1;
    }
    if (mkdtemp(out) == NULL) {
        errorf("%s: cannot create a directory under %s: %s (set TMPDIR)", who, tmp,
               strerror(errno));
        return -1;
    }
    return 0;
}

int dir_lock(const char *who, const char *dir, bool exclusive)
{
    char path[4200];
    if (snprintf(path, sizeof path, "%s/.lock", dir) >= (int)sizeof path) {
        errorf("%s: %s: the path is too long", who, dir);
        return -1;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
        return -2; /* no DIR: the caller's first read of it says so */
    if (fd < 0) {
        errorf("%s: %s: %s", who, path, strerror(errno));
        return -1;
    }
    if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0)
        return fd;
    int e = errno;
    close(fd);
    if (e == EWOULDBLOCK) {
        errorf("%s: %s: another process is writing there (%s is locked)", who, dir, path);
        return -1;
    }
    return -2;
}
