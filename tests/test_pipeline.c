/*
 * test_pipeline.c — the file pipelines of utxo/pipeline.h and the atomic
 * file helper under them (src/utxo/atomicfile.c):
 *   - atomic replacement: content replaced whole; a write that fails (file
 *     size limit, missing directory) or a discarded block file leaves the
 *     previous file intact, no temporary file behind, and errno says why;
 *   - the validator state file: round trip, every byte flipped and every
 *     truncation refused with the right code;
 *   - utxo_verify_files under the record rule: junk, an old block,
 *     equivocation, a gap and an unlinked prefix refused with
 *     UTXO_ERR_FILE_RECORD naming the record; the tip repeated and the
 *     accepted prefix passed over, but not when a witness byte was edited
 *     (same block hash, other bytes); a callback stop saves the state and the
 *     resumed run ends at the same state as a straight one;
 *   - utxo_prove_range: a failed run leaves the previous proof file.
 * Chains come from the deterministic payment generator (chain/workload.h):
 * two chains of one genesis that differ from block 1 on.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include "testutil.h"
#include "chain/chain.h"
#include "chain/workload.h"
#include "connect/connect.h"
#include "utxo/atomicfile.h"

#define NBLK 8

static char dir[64];
static utxo_params P;

static char *path_of(const char *name)
{
    static char buf[8][256];
    static int k;
    char *p = buf[k++ % 8];

    snprintf(p, 256, "%s/%s", dir, name);
    return p;
}

static size_t file_size(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 ? (size_t)sb.st_size : (size_t)-1;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;

    ck_assert_ptr_nonnull(f);
    *len = file_size(path);
    buf = malloc(*len ? *len : 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, *len, f), *len);
    fclose(f);
    return buf;
}

static void spit(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");

    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    fclose(f);
}

/* No "*.tmp.*" file left in dir. */
static bool no_temp_files(void)
{
    char cmd[160];

    snprintf(cmd, sizeof cmd, "ls %s | grep -q '\\.tmp\\.'", dir);
    return system(cmd) != 0;
}

/* Writes chain NAME.blocks / NAME.proofs: NBLK blocks, txs per block. */
static void make_chain(const char *name, uint32_t txs)
{
    bp_gen_opts o;
    bp_gen *g = NULL;
    utxo_chainfile *bf = NULL, *pf = NULL;
    char b[80], p[80];

    snprintf(b, sizeof b, "%s.blocks", name);
    snprintf(p, sizeof p, "%s.proofs", name);
    bp_gen_opts_default(&o);
    o.txs_per_block = txs;
    ck_assert_int_eq(bp_gen_new(&g, &o, &P), UTXO_OK);
    ck_assert_int_eq(utxo_chainfile_create(&bf, path_of(b), UTXO_CHAINFILE_BLOCKS, &P), UTXO_OK);
    ck_assert_int_eq(utxo_chainfile_create(&pf, path_of(p), UTXO_CHAINFILE_PROOFS, &P), UTXO_OK);
    for (int h = 0; h < NBLK; h++) {
        utxo_block *blk = NULL;
        utxo_bundle *bd = NULL;
        ck_assert_int_eq(bp_gen_next(g, &blk, &bd), UTXO_OK);
        ck_assert_int_eq(chain_append_block(bf, pf, blk, bd, NULL, NULL), UTXO_OK);
        utxo_block_free(blk);
        utxo_bundle_free(bd);
    }
    ck_assert_int_eq(utxo_chainfile_close(bf), UTXO_OK);
    ck_assert_int_eq(utxo_chainfile_close(pf), UTXO_OK);
    bp_gen_free(g);
}

/* Record k of a file (kind by name). */
static uint8_t *record(const char *file, int kind, int k, size_t *len)
{
    utxo_chainfile *f = NULL;
    utxo_params p;
    uint8_t *rec = NULL;

    ck_assert_int_eq(utxo_chainfile_open(&f, path_of(file), kind, &p, NULL), UTXO_OK);
    for (int i = 0; i <= k; i++) {
        free(rec);
        ck_assert_int_eq(utxo_chainfile_next(f, &rec, len, NULL), UTXO_OK);
        ck_assert_ptr_nonnull(rec);
    }
    utxo_chainfile_close(f);
    return rec;
}

/*
 * Splices "x.blocks"/"x.proofs" from a spec: one letter per record, 'c' or
 * 'd' (the chain) followed by a digit (the block), or "j" for a junk record
 * (zeros) paired with proof record 0 of c. Example: "c0c1d1c2".
 */
static void splice(const char *spec)
{
    utxo_chainfile *bf = NULL, *pf = NULL;

    ck_assert_int_eq(utxo_chainfile_create(&bf, path_of("x.blocks"), UTXO_CHAINFILE_BLOCKS, &P),
                     UTXO_OK);
    ck_assert_int_eq(utxo_chainfile_create(&pf, path_of("x.proofs"), UTXO_CHAINFILE_PROOFS, &P),
                     UTXO_OK);
    for (const char *s = spec; *s; s++) {
        uint8_t *b, *p, zeros[300];
        size_t bl, pl;
        if (*s == 'j') {
            memset(zeros, 0, sizeof zeros);
            p = record("c.proofs", UTXO_CHAINFILE_PROOFS, 0, &pl);
            ck_assert_int_eq(utxo_chainfile_append(bf, zeros, sizeof zeros), UTXO_OK);
            ck_assert_int_eq(utxo_chainfile_append(pf, p, pl), UTXO_OK);
            free(p);
            continue;
        }
        int k = s[1] - '0';
        b = record(*s == 'c' ? "c.blocks" : "d.blocks", UTXO_CHAINFILE_BLOCKS, k, &bl);
        p = record(*s == 'c' ? "c.proofs" : "d.proofs", UTXO_CHAINFILE_PROOFS, k, &pl);
        ck_assert_int_eq(utxo_chainfile_append(bf, b, bl), UTXO_OK);
        ck_assert_int_eq(utxo_chainfile_append(pf, p, pl), UTXO_OK);
        free(b);
        free(p);
        s++;
    }
    ck_assert_int_eq(utxo_chainfile_close(bf), UTXO_OK);
    ck_assert_int_eq(utxo_chainfile_close(pf), UTXO_OK);
}

/* Flips the last byte of record k of path (for a block: a witness byte,
 * bound by the tx root but not by the block hash). */
static void flip_record_end(const char *path, int k)
{
    size_t n, off = UTXO_CHAINFILE_HEADER_BYTES, len = 0;
    uint8_t *buf = slurp(path, &n);

    for (int i = 0; i <= k; i++) {
        ck_assert_uint_le(off + 4, n);
        len = (size_t)buf[off] | (size_t)buf[off + 1] << 8 | (size_t)buf[off + 2] << 16 |
              (size_t)buf[off + 3] << 24;
        off += 4 + len;
    }
    buf[off - 1] ^= 0x01;
    spit(path, buf, n);
    free(buf);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/test_pipeline.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    make_chain("c", 6);
    make_chain("d", 3);
}

static void teardown(void)
{
    char cmd[96];

    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* ---- atomic files -------------------------------------------------------- */

START_TEST(atomic_replace)
{
    uint8_t *got;
    size_t n;
    struct rlimit old, small;
    static uint8_t big[64 * 1024];

    ck_assert_int_eq(afile_write_all(path_of("a"), "first", 5), UTXO_OK);
    ck_assert_int_eq(afile_write_all(path_of("a"), "second", 6), UTXO_OK);
    got = slurp(path_of("a"), &n);
    ck_assert_uint_eq(n, 6);
    ck_assert_mem_eq(got, "second", 6);
    free(got);
    /* over the file size limit: EFBIG, and the old content stays */
    signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    small = old;
    small.rlim_cur = 4096;
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    errno = 0;
    ck_assert_int_eq(afile_write_all(path_of("a"), big, sizeof big), UTXO_ERR_IO);
    ck_assert_int_eq(errno, EFBIG);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    got = slurp(path_of("a"), &n);
    ck_assert_uint_eq(n, 6);
    ck_assert_mem_eq(got, "second", 6);
    free(got);
    ck_assert(no_temp_files());
    /* a missing directory: ENOENT */
    errno = 0;
    ck_assert_int_eq(afile_write_all(path_of("nodir/a"), "x", 1), UTXO_ERR_IO);
    ck_assert_int_eq(errno, ENOENT);
}
END_TEST

/* afile_begin_mode: the new file has exactly the mode asked for, whatever
 * the umask and the mode of the file it replaces (the node's cookie, 0600);
 * afile_begin keeps the old file's mode. */
START_TEST(atomic_replace_mode)
{
    struct stat sb;
    afile a;
    mode_t um = umask(0);

    ck_assert_int_eq(afile_write_all(path_of("m"), "old", 3), UTXO_OK);
    ck_assert_int_eq(chmod(path_of("m"), 0644), 0);
    ck_assert_int_eq(afile_begin_mode(&a, path_of("m"), 0600), UTXO_OK);
    ck_assert_int_eq(afile_write(&a, "new", 3), UTXO_OK);
    ck_assert_int_eq(afile_commit(&a), UTXO_OK);
    ck_assert_int_eq(stat(path_of("m"), &sb), 0);
    ck_assert_uint_eq(sb.st_mode & 07777, 0600);
    umask(0077); /* a stricter umask: still exact */
    ck_assert_int_eq(afile_begin_mode(&a, path_of("n"), 0640), UTXO_OK);
    ck_assert_int_eq(afile_commit(&a), UTXO_OK);
    ck_assert_int_eq(stat(path_of("n"), &sb), 0);
    ck_assert_uint_eq(sb.st_mode & 07777, 0640);
    ck_assert_int_eq(afile_write_all(path_of("m"), "again", 5), UTXO_OK);
    ck_assert_int_eq(stat(path_of("m"), &sb), 0);
    ck_assert_uint_eq(sb.st_mode & 07777, 0600); /* afile_begin keeps it */
    umask(um);
    ck_assert(no_temp_files());
}
END_TEST

START_TEST(chainfile_discard_keeps_old)
{
    utxo_chainfile *f = NULL;
    uint8_t *before, *after, rec[10] = {1};
    size_t nb, na;

    before = slurp(path_of("c.blocks"), &nb);
    ck_assert_int_eq(utxo_chainfile_create(&f, path_of("c.blocks"), UTXO_CHAINFILE_BLOCKS, &P),
                     UTXO_OK);
    ck_assert_int_eq(utxo_chainfile_append(f, rec, sizeof rec), UTXO_OK);
    /* until the commit, readers see the old file */
    after = slurp(path_of("c.blocks"), &na);
    ck_assert_uint_eq(na, nb);
    ck_assert_mem_eq(after, before, nb);
    free(after);
    utxo_chainfile_discard(f);
    after = slurp(path_of("c.blocks"), &na);
    ck_assert_uint_eq(na, nb);
    ck_assert_mem_eq(after, before, nb);
    free(after);
    free(before);
    ck_assert(no_temp_files());
}
END_TEST

/* ---- the state file ---------------------------------------------------- */

/* A validator after `n` blocks of c, through the pipeline. */
static utxo_validator *validator_after(uint64_t n)
{
    utxo_validator *v = utxo_validator_new(&P, 1);
    utxo_verify_opts o;
    utxo_pipe_result r;

    ck_assert_ptr_nonnull(v);
    memset(&o, 0, sizeof o);
    o.max_blocks = n;
    ck_assert_int_eq(utxo_verify_files(v, path_of("c.blocks"), path_of("c.proofs"), &o, &r),
                     UTXO_OK);
    ck_assert_uint_eq(r.applied, n);
    return v;
}

static void same_state(const utxo_validator *a, const utxo_validator *b)
{
    uint8_t x[UTXO_VALIDATOR_STATE_MAX_BYTES], y[UTXO_VALIDATOR_STATE_MAX_BYTES];
    size_t nx = 0, ny = 0;

    ck_assert_int_eq(utxo_validator_state_to_bytes(a, x, sizeof x, &nx), UTXO_OK);
    ck_assert_int_eq(utxo_validator_state_to_bytes(b, y, sizeof y, &ny), UTXO_OK);
    ck_assert_uint_eq(nx, ny);
    ck_assert_mem_eq(x, y, nx);
}

START_TEST(statefile_roundtrip_and_damage)
{
    utxo_validator *v = validator_after(5), *w = NULL;
    uint8_t *good, *bad;
    size_t n, dummy;
    char why[256];

    ck_assert_int_eq(utxo_validator_save(v, path_of("s")), UTXO_OK);
    ck_assert_int_eq(utxo_validator_load(&w, &P, path_of("s"), 1, why, sizeof why), UTXO_OK);
    same_state(v, w);
    utxo_validator_free(w);
    good = slurp(path_of("s"), &n);
    ck_assert_uint_eq(n, utxo_validator_state_get_length(v) + 44);
    bad = malloc(n + 1);
    /* every byte flipped: refused, each with its code */
    for (size_t i = 0; i < n; i++) {
        int want = i < 4 ? UTXO_ERR_FILE_FORMAT : i < 8 ? UTXO_ERR_VERSION : -1;
        int rc;
        memcpy(bad, good, n);
        bad[i] ^= 0x01;
        spit(path_of("s"), bad, n);
        w = (utxo_validator *)&dummy;
        rc = utxo_validator_load(&w, &P, path_of("s"), 1, why, sizeof why);
        ck_assert_msg(rc != UTXO_OK, "byte %zu flipped was accepted", i);
        ck_assert_ptr_null(w);
        if (want != -1)
            ck_assert_int_eq(rc, want);
        else if (i >= 12)
            ck_assert_int_eq(rc, UTXO_ERR_FILE_CHECKSUM);
        ck_assert(why[0] != '\0');
    }
    /* every truncation, and one byte too many */
    for (size_t k = 0; k < n; k++) {
        int rc;
        spit(path_of("s"), good, k);
        rc = utxo_validator_load(&w, &P, path_of("s"), 1, why, sizeof why);
        ck_assert_msg(rc == UTXO_ERR_TRUNCATED, "truncated to %zu: %d", k, rc);
    }
    memcpy(bad, good, n);
    bad[n] = 0;
    spit(path_of("s"), bad, n + 1);
    ck_assert_int_eq(utxo_validator_load(&w, &P, path_of("s"), 1, why, sizeof why),
                     UTXO_ERR_TRAILING);
    /* none at all */
    errno = 0;
    ck_assert_int_eq(utxo_validator_load(&w, &P, path_of("none"), 1, why, sizeof why),
                     UTXO_ERR_IO);
    ck_assert_int_eq(errno, ENOENT);
    free(good);
    free(bad);
    utxo_validator_free(v);
}
END_TEST

/* ---- the record rule ------------------------------------------------------ */

/* Runs x.blocks/x.proofs from v (NULL: genesis); returns the result. */
static int run_x(utxo_validator *v, utxo_pipe_result *r)
{
    utxo_validator *own = v != NULL ? NULL : utxo_validator_new(&P, 1);
    int rc = utxo_verify_files(v != NULL ? v : own, path_of("x.blocks"), path_of("x.proofs"),
                               NULL, r);

    utxo_validator_free(own);
    return rc;
}

START_TEST(record_rule_from_genesis)
{
    utxo_pipe_result r;

    splice("c0c1jc2");
    ck_assert_int_ne(run_x(NULL, &r), UTXO_OK);
    ck_assert(r.invalid);
    ck_assert_uint_eq(r.record, 2);
    ck_assert_uint_eq(r.applied, 2);

    splice("c0c1c2c1c3");
    ck_assert_int_eq(run_x(NULL, &r), UTXO_ERR_FILE_RECORD);
    ck_assert(r.invalid);
    ck_assert_uint_eq(r.record, 3);
    ck_assert_uint_eq(r.height, 1);
    ck_assert_ptr_nonnull(strstr(r.reason, "already below the tip"));

    splice("c0c1d1c2");
    ck_assert_int_eq(run_x(NULL, &r), UTXO_ERR_FILE_RECORD);
    ck_assert_uint_eq(r.record, 2);
    ck_assert_uint_eq(r.height, 1);
    ck_assert_ptr_nonnull(strstr(r.reason, "equivocation"));

    splice("c0c1c3");
    ck_assert_int_eq(run_x(NULL, &r), UTXO_ERR_FILE_RECORD);
    ck_assert_uint_eq(r.record, 2);
    ck_assert_uint_eq(r.height, 3);

    splice("c0c1c1c2");
    ck_assert_int_eq(run_x(NULL, &r), UTXO_OK);
    ck_assert_uint_eq(r.applied, 3);
    ck_assert_uint_eq(r.passed, 1);

    /* the repeat with an edited witness: same block hash, other bytes */
    flip_record_end(path_of("x.blocks"), 2);
    ck_assert_int_eq(run_x(NULL, &r), UTXO_ERR_FILE_RECORD);
    ck_assert_uint_eq(r.record, 2);
    ck_assert_ptr_nonnull(strstr(r.reason, "is not that block"));
}
END_TEST

START_TEST(record_rule_resumed)
{
    utxo_validator *v = validator_after(5);
    utxo_pipe_result r;

    splice("c0c1c2c3c4c5c6c7");
    ck_assert_int_eq(run_x(v, &r), UTXO_OK);
    ck_assert_uint_eq(r.passed, 5);
    ck_assert_uint_eq(r.applied, 3);
    utxo_validator_free(v);

    v = validator_after(5);
    splice("d0d1d2d3d4d5"); /* another branch: links inside, not to the tip */
    ck_assert_int_eq(run_x(v, &r), UTXO_ERR_FILE_RECORD);
    ck_assert_uint_eq(r.record, 4);
    ck_assert_uint_eq(utxo_validator_next_height(v), 5);

    splice("c0jc2c3c4c5");
    ck_assert_int_ne(run_x(v, &r), UTXO_OK);
    ck_assert_uint_eq(r.record, 1);

    splice("c0c2c3c4c5");
    ck_assert_int_eq(run_x(v, &r), UTXO_ERR_FILE_RECORD);
    ck_assert_uint_eq(r.record, 1);

    splice("c0c1c2c3c4c5");
    flip_record_end(path_of("x.blocks"), 3); /* an accepted block, edited */
    ck_assert_int_eq(run_x(v, &r), UTXO_ERR_FILE_RECORD);
    ck_assert_uint_eq(r.record, 3);
    ck_assert_ptr_nonnull(strstr(r.reason, "is not that block"));

    splice("c0c1c2");
    ck_assert_int_eq(run_x(v, &r), UTXO_ERR_FILE_RECORD);
    ck_assert_ptr_nonnull(strstr(r.reason, "before the state's tip"));
    ck_assert_uint_eq(utxo_validator_next_height(v), 5);
    utxo_validator_free(v);
}
END_TEST

/* ---- stop, save, resume ---------------------------------------------------- */

static int stop_at_3(void *ctx, const utxo_pipe_progress *p)
{
    int *saves = ctx;

    if (p->event == UTXO_PIPE_SAVED)
        (*saves)++;
    return p->event == UTXO_PIPE_APPLIED && p->height == 3;
}

START_TEST(stop_save_resume)
{
    utxo_validator *v = utxo_validator_new(&P, 1), *w = NULL, *full = validator_after(NBLK);
    utxo_verify_opts o;
    utxo_pipe_result r;
    char why[256];
    int saves = 0;

    memset(&o, 0, sizeof o);
    o.state_path = path_of("st");
    o.save_every = 2;
    o.progress = stop_at_3;
    o.ctx = &saves;
    ck_assert_int_eq(utxo_verify_files(v, path_of("c.blocks"), path_of("c.proofs"), &o, &r),
                     UTXO_OK);
    ck_assert(r.stopped);
    ck_assert_uint_eq(r.applied, 4);
    /* saves after blocks 1 and 3 (every 2), and on the stop */
    ck_assert_uint_eq(r.saves, 3);
    ck_assert_int_eq(saves, 3);
    ck_assert_int_eq(utxo_validator_load(&w, &P, path_of("st"), 1, why, sizeof why), UTXO_OK);
    same_state(v, w);
    o.progress = NULL;
    ck_assert_int_eq(utxo_verify_files(w, path_of("c.blocks"), path_of("c.proofs"), &o, &r),
                     UTXO_OK);
    ck_assert(!r.stopped);
    ck_assert_uint_eq(r.passed, 4);
    ck_assert_uint_eq(r.applied, NBLK - 4);
    same_state(w, full);
    utxo_validator_free(w);
    ck_assert_int_eq(utxo_validator_load(&w, &P, path_of("st"), 1, why, sizeof why), UTXO_OK);
    same_state(w, full);
    ck_assert(no_temp_files());
    utxo_validator_free(w);
    utxo_validator_free(v);
    utxo_validator_free(full);
}
END_TEST

/* A run that stops before the files end has read the next record pair
 * ahead and told the validator (utxo_validator_apply_ahead), then freed
 * it unapplied: the validator must not keep that check, keyed by the
 * freed addresses, for a later call whose objects may land there (it
 * would take another block at that height for the one it checked). */
START_TEST(stop_forgets_read_ahead)
{
    utxo_validator *v = utxo_validator_new(&P, 2), *full = validator_after(NBLK);
    utxo_verify_opts o;
    utxo_pipe_result r;

    ck_assert_ptr_nonnull(v);
    memset(&o, 0, sizeof o);
    o.to = 3;
    ck_assert_int_eq(utxo_verify_files(v, path_of("c.blocks"), path_of("c.proofs"), &o, &r),
                     UTXO_OK);
    ck_assert(r.stopped);
    ck_assert_uint_eq(r.applied, 3);
    ck_assert(!cn_validator_holds_ahead(v));
    memset(&o, 0, sizeof o);
    o.max_blocks = 2;
    ck_assert_int_eq(utxo_verify_files(v, path_of("c.blocks"), path_of("c.proofs"), &o, &r),
                     UTXO_OK);
    ck_assert(r.stopped);
    ck_assert_uint_eq(r.applied, 2);
    ck_assert(!cn_validator_holds_ahead(v));
    memset(&o, 0, sizeof o);
    ck_assert_int_eq(utxo_verify_files(v, path_of("c.blocks"), path_of("c.proofs"), &o, &r),
                     UTXO_OK);
    ck_assert_uint_eq(r.applied, NBLK - 5);
    same_state(v, full);
    utxo_validator_free(v);
    utxo_validator_free(full);
}
END_TEST

/* ---- prove ----------------------------------------------------------------- */

START_TEST(prove_range_atomic)
{
    utxo_store *s = NULL;
    utxo_pipe_result r;
    utxo_sync_opts so;
    struct rlimit old, small;
    uint8_t *before, *after, *ref;
    size_t nb, na, nr;
    char msg[128];

    ck_assert_int_eq(utxo_store_open(&s, path_of("n.db"), &P, UTXO_STORE_CREATE, 1, msg,
                                     sizeof msg),
                     UTXO_OK);
    memset(&so, 0, sizeof so);
    ck_assert_int_eq(utxo_replay_file(s, path_of("c.blocks"), &so, &r), UTXO_OK);
    ck_assert_uint_eq(r.applied, NBLK);
    /* the store's bundles are the generator's */
    ck_assert_int_eq(utxo_prove_range(s, 0, NBLK, path_of("p.proofs"), NULL, &r), UTXO_OK);
    ck_assert_uint_eq(r.applied, NBLK);
    ref = slurp(path_of("c.proofs"), &nr);
    before = slurp(path_of("p.proofs"), &nb);
    ck_assert_uint_eq(nb, nr);
    ck_assert_mem_eq(before, ref, nr);
    /* outside the store: refused, the file untouched */
    ck_assert_int_eq(utxo_prove_range(s, 2, NBLK + 1, path_of("p.proofs"), NULL, &r),
                     UTXO_ERR_STORE_HEIGHT);
    /* a write that fails: EFBIG reported, the previous file intact */
    signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    small = old;
    small.rlim_cur = 4096;
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    ck_assert_int_eq(utxo_prove_range(s, 0, NBLK, path_of("p.proofs"), NULL, &r), UTXO_ERR_IO);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    ck_assert_int_eq(r.sys_errno, EFBIG);
    ck_assert(!r.invalid);
    after = slurp(path_of("p.proofs"), &na);
    ck_assert_uint_eq(na, nb);
    ck_assert_mem_eq(after, before, nb);
    ck_assert(no_temp_files());
    free(before);
    free(after);
    free(ref);
    utxo_store_close(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pipeline");
    TCase *tc = tcase_create("pipeline");
    SRunner *sr;
    int failed;

    if (sodium_init() < 0)
        return 1;
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, atomic_replace);
    tcase_add_test(tc, atomic_replace_mode);
    tcase_add_test(tc, chainfile_discard_keeps_old);
    tcase_add_test(tc, statefile_roundtrip_and_damage);
    tcase_add_test(tc, record_rule_from_genesis);
    tcase_add_test(tc, record_rule_resumed);
    tcase_add_test(tc, stop_save_resume);
    tcase_add_test(tc, stop_forgets_read_ahead);
    tcase_add_test(tc, prove_range_atomic);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
