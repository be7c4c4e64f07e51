/*
 * chain/sequencer.c — the chain directory and its sequencer (chain.h): genesis
 * (key file, block and proof files with the genesis block), opening a chain
 * as its sequencer (the block file replayed into the in-memory chain
 * builder, every block re-sealed and compared with the file), and sealing
 * new blocks from the mempool into new files that replace the old ones on
 * commit, and into a store. Layout: docs/CHAIN.md.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "chain/chain.h"
#include "utxo/atomicfile.h"
#include "utxo/keys.h"
#include "utxo/segments.h"

struct chain_seq {
    char *dir;
    utxo_params p;
    uint8_t sk[64];
    uint8_t fee_id[UTXO_HASH_BYTES];
    bp_chain *chain;
    mp_pool *mp;
    utxo_store *store;
    pthread_mutex_t *store_lock; /* held around the store's writes, or NULL */
    utxo_chainfile *bf, *pf;  /* the new files (.new), written as we go */
    unsigned po2;             /* segment receipts in the bundles: 0 = none */
    bool broken;              /* a seal failed after the chain advanced */
    /* live (chain_seq_open_live): the files themselves, appended in place */
    bool live;
    int bfd, pfd;
    int kfd;                  /* the key file, flock()ed: one sequencer per chain */
};

static void say(char *msg, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *msg, size_t len, const char *fmt, ...)
{
    va_list ap;

    if (msg == NULL || len == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, len, fmt, ap);
    va_end(ap);
}

static char *path_join(const char *dir, const char *name, const char *suffix)
{
    size_t n = strlen(dir) + strlen(name) + strlen(suffix) + 2;
    char *s = malloc(n);

    if (s != NULL)
        snprintf(s, n, "%s/%s%s", dir, name, suffix);
    return s;
}

/* ---- key file -------------------------------------------------------------- */

static int write_key(const char *dir, const uint8_t seed[32], char *msg, size_t msg_len)
{
    char *path = path_join(dir, CHAIN_KEY_FILE, ""), hex[65];
    int fd, rc = UTXO_OK;

    if (path == NULL)
        return UTXO_ERR_NOMEM;
    sodium_bin2hex(hex, sizeof hex, seed, 32);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || write(fd, hex, 64) != 64 || write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
        say(msg, msg_len, "cannot write the sequencer key %s: %s", path, strerror(errno));
        rc = UTXO_ERR_IO;
    }
    if (fd >= 0)
        close(fd);
    sodium_memzero(hex, sizeof hex);
    free(path);
    return rc;
}

int chain_read_key(const char *dir, uint8_t seed[32], char *msg, size_t msg_len)
{
    char *path = path_join(dir, CHAIN_KEY_FILE, ""), hex[80];
    struct stat st;
    size_t bin_len = 0;
    ssize_t n = -1;
    int fd = -1, rc = UTXO_ERR_IO;

    memset(seed, 0, 32);
    if (path == NULL)
        return UTXO_ERR_NOMEM;
    if ((fd = open(path, O_RDONLY)) < 0 || fstat(fd, &st) != 0) {
        say(msg, msg_len, "cannot read the sequencer key %s: %s", path, strerror(errno));
        goto out;
    }
    if ((st.st_mode & 077) != 0) {
        say(msg, msg_len, "sequencer key %s is readable by others (mode %03o): run chmod 600 on it",
            path, (unsigned)(st.st_mode & 0777));
        rc = UTXO_ERR_ARG;
        goto out;
    }
    n = read(fd, hex, sizeof hex - 1);
    if (n < 64 || sodium_hex2bin(seed, 32, hex, (size_t)n, "\n", &bin_len, NULL) != 0 ||
        bin_len != 32) {
        say(msg, msg_len, "sequencer key %s is not 64 hex digits", path);
        memset(seed, 0, 32);
        rc = UTXO_ERR_FILE_FORMAT;
        goto out;
    }
    rc = UTXO_OK;
out:
    if (fd >= 0)
        close(fd);
    sodium_memzero(hex, sizeof hex);
    free(path);
    return rc;
}

/* ---- records ------------------------------------------------------------- */

/* b and bd encoded into new buffers (free both, also on error). */
static int encode_pair(const utxo_block *b, const utxo_bundle *bd, uint8_t **bb, size_t *bl,
                       uint8_t **pb, size_t *pl)
{
    size_t w = 0;

    *bl = utxo_block_get_length(b);
    *pl = utxo_bundle_get_length(bd);
    *bb = malloc(*bl);
    *pb = malloc(*pl);
    if (*bb == NULL || *pb == NULL)
        return UTXO_ERR_NOMEM;
    int rc = utxo_block_to_bytes(b, *bb, *bl, &w);
    return rc != UTXO_OK ? rc : utxo_bundle_to_bytes(bd, *pb, *pl, &w);
}

int chain_append_block(utxo_chainfile *bf, utxo_chainfile *pf, const utxo_block *b,
                       const utxo_bundle *bd, size_t *bl_out, size_t *pl_out)
{
    uint8_t *bb = NULL, *pb = NULL;
    size_t bl = 0, pl = 0;
    int rc = encode_pair(b, bd, &bb, &bl, &pb, &pl);

    if (rc == UTXO_OK && (rc = utxo_chainfile_append(bf, bb, bl)) == UTXO_OK)
        rc = utxo_chainfile_append(pf, pb, pl);
    free(bb);
    free(pb);
    if (bl_out)
        *bl_out = bl;
    if (pl_out)
        *pl_out = pl;
    return rc;
}

/* Appends one record (u32 length, bytes) at the end of the file fd and
 * syncs it; on failure the file is cut back to where it ended (errno kept).
 * A crash in between leaves a torn last record, which chain_seq_open_live
 * cuts off. */
static int live_append(int fd, const uint8_t *rec, size_t len)
{
    uint8_t hdr[4] = {(uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16),
                      (uint8_t)(len >> 24)};
    off_t at = lseek(fd, 0, SEEK_END);
    int e;

    if (at < 0)
        return UTXO_ERR_IO;
    if ((e = afile_write_fd(fd, hdr, sizeof hdr)) != 0 || (e = afile_write_fd(fd, rec, len)) != 0) {
        errno = e;
        goto fail;
    }
    if (fdatasync(fd) == 0)
        return UTXO_OK;
fail:
    e = errno ? errno : EIO;
    if (ftruncate(fd, at) != 0) { /* nothing more to do: the reopen cuts it */ }
    errno = e;
    return UTXO_ERR_IO;
}

/* Writes block b and its bundle bd after the chain's last ones. On an I/O
 * failure of the live files *file names the one that failed (the block
 * file or the proof file); else it stays NULL. */
static int seq_write(chain_seq *s, const utxo_block *b, const utxo_bundle *bd, size_t *bl,
                     size_t *pl, const char **file)
{
    uint8_t *bb = NULL, *pb = NULL;
    int rc;

    *file = NULL;
    if (!s->live)
        return chain_append_block(s->bf, s->pf, b, bd, bl, pl);
    rc = encode_pair(b, bd, &bb, bl, &pb, pl);
    if (rc == UTXO_OK && (rc = live_append(s->bfd, bb, *bl)) != UTXO_OK)
        *file = CHAIN_BLOCKS_FILE;
    else if (rc == UTXO_OK && (rc = live_append(s->pfd, pb, *pl)) != UTXO_OK)
        *file = CHAIN_PROOFS_FILE;
    free(bb);
    free(pb);
    return rc;
}

/* ---- genesis --------------------------------------------------------------- */

void chain_unmake(const char *dir, bool made_dir)
{
    static const char *const names[] = {CHAIN_KEY_FILE, CHAIN_BLOCKS_FILE, CHAIN_PROOFS_FILE,
                                        CHAIN_INVALID_FILE};

    if (dir == NULL)
        return;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        char *path = path_join(dir, names[k], "");
        if (path != NULL)
            (void)unlink(path);
        free(path);
    }
    if (made_dir)
        (void)rmdir(dir); /* only when empty: another file of the user's stays */
}

int chain_genesis(const char *dir, const utxo_params *tmpl, const uint8_t key_seed[32],
                  const chain_alloc *allocs, size_t n, utxo_params *out_params, char *msg,
                  size_t msg_len)
{
    utxo_params p;
    uint8_t sk[64], fee_id[UTXO_HASH_BYTES];
    bp_chain *c = NULL;
    utxo_block *b = NULL;
    utxo_tx *cb = NULL;
    utxo_bundle *bd = NULL;
    utxo_chainfile *bf = NULL, *pf = NULL;
    char *bpath = NULL, *ppath = NULL;
    uint64_t sum = 0;
    bool made_dir, wrote = false;
    int rc;

    say(msg, msg_len, "%s", "");
    if (dir == NULL || tmpl == NULL || key_seed == NULL || (n > 0 && allocs == NULL))
        return UTXO_ERR_ARG;
    for (size_t i = 0; i < n; i++) {
        if (allocs[i].value > UTXO_MAX_MONEY - sum) {
            say(msg, msg_len, "allocations sum to more than the maximum supply %llu",
                (unsigned long long)UTXO_MAX_MONEY);
            return UTXO_ERR_TX_VALUE;
        }
        sum += allocs[i].value;
    }
    if (n > tmpl->max_outputs) {
        say(msg, msg_len, "%zu allocations: the genesis coinbase may have at most %u outputs", n,
            tmpl->max_outputs);
        return UTXO_ERR_TX_COUNT;
    }
    made_dir = mkdir(dir, 0755) == 0;
    if (!made_dir && errno != EEXIST) {
        say(msg, msg_len, "cannot create directory %s: %s", dir, strerror(errno));
        return UTXO_ERR_IO;
    }
    p = *tmpl;
    utxo_keypair_from_seed(p.sequencer_pk, sk, key_seed);
    utxo_params_chain_id(&p);
    if ((rc = utxo_p2pk_id(fee_id, p.sequencer_pk)) != UTXO_OK)
        goto out;
    rc = UTXO_ERR_NOMEM;
    if ((bpath = path_join(dir, CHAIN_BLOCKS_FILE, "")) == NULL ||
        (ppath = path_join(dir, CHAIN_PROOFS_FILE, "")) == NULL)
        goto out;
    if (access(bpath, F_OK) == 0) {
        say(msg, msg_len, "%s already holds a chain (%s exists): choose a new directory", dir, bpath);
        rc = UTXO_ERR_IO;
        goto out;
    }
    if ((rc = write_key(dir, key_seed, msg, msg_len)) != UTXO_OK)
        goto out;
    wrote = true; /* from here on a failure removes the key and files */
    if ((rc = bp_chain_new(&c, &p, sk)) != UTXO_OK)
        goto out;
    rc = UTXO_ERR_NOMEM;
    if ((b = utxo_block_new()) == NULL || (cb = utxo_tx_new()) == NULL)
        goto out;
    if ((rc = utxo_block_add_tx(b, cb)) != UTXO_OK)
        goto out;
    cb = NULL;
    b->header.time = p.genesis_time;
    for (size_t i = 0; i < n; i++)
        if ((rc = utxo_tx_add_output(b->txs[0], allocs[i].value, allocs[i].id, NULL, 0)))
            goto out;
    if (n == 0 && (rc = utxo_tx_add_output(b->txs[0], 0, fee_id, NULL, 0)) != UTXO_OK)
        goto out;
    if ((rc = bp_chain_seal(c, b, &bd, NULL, NULL)) != UTXO_OK) {
        say(msg, msg_len, "genesis block: %s", utxo_strerror(rc));
        goto out;
    }
    if ((rc = utxo_chainfile_create(&bf, bpath, UTXO_CHAINFILE_BLOCKS, &p)) != UTXO_OK ||
        (rc = utxo_chainfile_create(&pf, ppath, UTXO_CHAINFILE_PROOFS, &p)) != UTXO_OK ||
        (rc = chain_append_block(bf, pf, b, bd, NULL, NULL)) != UTXO_OK) {
        say(msg, msg_len, "cannot write %s: %s", bpath, utxo_strerror(rc));
        goto out;
    }
out:
    if (bf != NULL && utxo_chainfile_close(bf) != UTXO_OK && rc == UTXO_OK) {
        say(msg, msg_len, "cannot write %s: %s", bpath, afile_errtext(errno));
        rc = UTXO_ERR_IO;
    }
    if (pf != NULL && utxo_chainfile_close(pf) != UTXO_OK && rc == UTXO_OK) {
        say(msg, msg_len, "cannot write %s: %s", ppath, afile_errtext(errno));
        rc = UTXO_ERR_IO;
    }
    if (rc == UTXO_OK && out_params != NULL)
        *out_params = p;
    if (rc != UTXO_OK && msg != NULL && msg[0] == 0)
        say(msg, msg_len, "genesis in %s: %s", dir, utxo_strerror(rc));
    if (rc != UTXO_OK && wrote)
        chain_unmake(dir, made_dir);
    else if (rc != UTXO_OK && made_dir)
        (void)rmdir(dir);
    utxo_tx_free(cb);
    utxo_block_free(b);
    utxo_bundle_free(bd);
    bp_chain_free(c);
    sodium_memzero(sk, sizeof sk);
    free(bpath);
    free(ppath);
    return rc;
}

/* ---- the sequencer ---------------------------------------------------------- */

/* Live mode, before the replay: the complete records of the proof file
 * (*k) and the offset after each (ends[0..*k], ends[0] the header's end),
 * for a file of chain p. The file is cut after them (a torn record from a
 * crash goes). */
static int live_proofs(const char *path, const utxo_params *p, uint64_t **ends, size_t *k,
                       char *msg, size_t msg_len)
{
    utxo_chainfile *f = NULL;
    utxo_params fp;
    uint8_t *rec = NULL;
    size_t len = 0, cap = 0, eo = 0;
    int rc;

    *ends = NULL;
    *k = 0;
    if ((rc = utxo_chainfile_open(&f, path, UTXO_CHAINFILE_PROOFS, &fp, &eo)) != UTXO_OK) {
        say(msg, msg_len, "%s: %s at offset %zu", path,
            rc == UTXO_ERR_IO ? strerror(errno) : utxo_strerror(rc), eo);
        return rc;
    }
    if (memcmp(fp.chain_id, p->chain_id, UTXO_HASH_BYTES) != 0) {
        utxo_chainfile_close(f);
        say(msg, msg_len, "%s belongs to another chain than the block file", path);
        return UTXO_ERR_FILE_FORMAT;
    }
    utxo_chainfile_set_check(f, utxo_bundle_check_prefix, &fp); /* its limits: the chain's */
    for (;;) {
        if (*k + 1 >= cap) {
            size_t nc = cap ? 2 * cap : 64;
            uint64_t *e = realloc(*ends, nc * sizeof *e);
            if (e == NULL) {
                rc = UTXO_ERR_NOMEM;
                break;
            }
            *ends = e;
            cap = nc;
        }
        if (*k == 0)
            (*ends)[0] = utxo_chainfile_tell(f);
        rc = utxo_chainfile_next(f, &rec, &len, NULL);
        free(rec);
        if (rc == UTXO_ERR_TRUNCATED || (rc == UTXO_OK && rec == NULL)) {
            rc = UTXO_OK; /* the end, or a torn last record */
            break;
        }
        if (rc != UTXO_OK) {
            say(msg, msg_len, "%s: %s after %zu records", path, utxo_strerror(rc), *k);
            break;
        }
        (*ends)[++*k] = utxo_chainfile_tell(f);
    }
    utxo_chainfile_close(f);
    if (rc == UTXO_OK && truncate(path, (off_t)(*ends)[*k]) != 0) {
        say(msg, msg_len, "cannot cut %s after its last whole record: %s", path, strerror(errno));
        rc = UTXO_ERR_IO;
    }
    if (rc != UTXO_OK) {
        free(*ends);
        *ends = NULL;
    }
    return rc;
}

/* One sequencer per chain directory: an exclusive flock(2) on its key file,
 * held until chain_seq_close. A second sequencer (a `utxo sequence` beside
 * a `utxo node` of the same directory, or two of them) signed a second
 * block for a height and replaced the block file under the first, which
 * went on appending its blocks, acknowledged transactions in them, to the
 * file no longer named. flock goes with the process: a killed sequencer
 * leaves no lock behind. */
static int seq_lock(chain_seq *s, const char *dir, char *msg, size_t msg_len)
{
    char *path = path_join(dir, CHAIN_KEY_FILE, "");

    if (path == NULL)
        return UTXO_ERR_NOMEM;
    if ((s->kfd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        say(msg, msg_len, "cannot read the sequencer key %s: %s", path, strerror(errno));
        free(path);
        return UTXO_ERR_IO;
    }
    if (flock(s->kfd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        say(msg, msg_len, "%s: %s", dir,
            e == EWOULDBLOCK ? "another sequencer has this chain open (a utxo node or utxo "
                               "sequence on this directory): one at a time"
                             : strerror(e));
        free(path);
        return e == EWOULDBLOCK ? UTXO_ERR_STORE_BUSY : UTXO_ERR_IO;
    }
    free(path);
    return UTXO_OK;
}

static int seq_open(chain_seq **out, const char *dir, utxo_store *store, unsigned threads,
                    unsigned po2, bool live, uint32_t *cut, char *msg, size_t msg_len)
{
    chain_seq *s = NULL;
    utxo_chainfile *in = NULL;
    uint8_t seed[32], pk[32], *rec = NULL, *again = NULL;
    char *bpath = NULL, *ppath = NULL, *bnew = NULL, *pnew = NULL;
    size_t len, err_off = 0, have_proofs = 0;
    uint64_t off = 0, *ends = NULL, blocks_end = 0;
    uint32_t h = 0;
    int rc;

    say(msg, msg_len, "%s", "");
    if (out != NULL)
        *out = NULL;
    if (cut != NULL)
        *cut = 0;
    if (out == NULL || dir == NULL ||
        (po2 != 0 && (po2 < UTXO_SEG_PO2_MIN || po2 > UTXO_SEG_PO2_MAX)))
        return UTXO_ERR_ARG;
    if ((rc = chain_read_key(dir, seed, msg, msg_len)) != UTXO_OK)
        return rc;
    rc = UTXO_ERR_NOMEM;
    if ((s = calloc(1, sizeof *s)) == NULL)
        goto fail;
    /* no descriptor yet, and no file of this directory its own: a failure
     * from here on (chain_seq_close) closes nothing and removes nothing */
    s->bfd = s->pfd = s->kfd = -1;
    if ((bpath = path_join(dir, CHAIN_BLOCKS_FILE, "")) == NULL ||
        (ppath = path_join(dir, CHAIN_PROOFS_FILE, "")) == NULL ||
        (bnew = path_join(dir, CHAIN_BLOCKS_FILE, ".new")) == NULL ||
        (pnew = path_join(dir, CHAIN_PROOFS_FILE, ".new")) == NULL)
        goto fail;
    if ((rc = seq_lock(s, dir, msg, msg_len)) != UTXO_OK)
        goto fail; /* s->dir unset: the .new files are the other sequencer's, left alone */
    /* the directory's .new files are ours from here on (chain_seq_close) */
    if ((s->dir = strdup(dir)) == NULL) {
        rc = UTXO_ERR_NOMEM;
        goto fail;
    }
    s->live = live;
    s->store = store;
    s->po2 = po2;
    if ((rc = utxo_chainfile_open(&in, bpath, UTXO_CHAINFILE_BLOCKS, &s->p, &err_off)) != UTXO_OK) {
        say(msg, msg_len, "%s: %s at offset %zu", bpath, utxo_strerror(rc), err_off);
        goto fail;
    }
    utxo_keypair_from_seed(pk, s->sk, seed);
    if (memcmp(pk, s->p.sequencer_pk, 32) != 0) {
        say(msg, msg_len, "%s/%s is not the key of the chain in %s", dir, CHAIN_KEY_FILE, bpath);
        rc = UTXO_ERR_BLOCK_SIG;
        goto fail;
    }
    if ((rc = utxo_p2pk_id(s->fee_id, pk)) != UTXO_OK ||
        (rc = bp_chain_new(&s->chain, &s->p, s->sk)) != UTXO_OK ||
        (rc = mp_new(&s->mp, &s->p, bp_chain_find, s->chain, threads)) != UTXO_OK)
        goto fail;
    if (live) {
        if ((rc = live_proofs(ppath, &s->p, &ends, &have_proofs, msg, msg_len)) != UTXO_OK)
            goto fail;
        if ((s->pfd = open(ppath, O_WRONLY | O_CLOEXEC)) < 0) {
            say(msg, msg_len, "cannot open %s for writing: %s", ppath, strerror(errno));
            rc = UTXO_ERR_IO;
            goto fail;
        }
    } else if ((rc = utxo_chainfile_create(&s->bf, bnew, UTXO_CHAINFILE_BLOCKS, &s->p)) != UTXO_OK ||
               (rc = utxo_chainfile_create(&s->pf, pnew, UTXO_CHAINFILE_PROOFS, &s->p)) != UTXO_OK) {
        say(msg, msg_len, "cannot create %s: %s", bnew, utxo_strerror(rc));
        goto fail;
    }
    /* replay: each block re-sealed by our key must be the stored one (the
     * key signs deterministically), which also rebuilds the proofs */
    for (;; h++) {
        utxo_block *b = NULL;
        utxo_bundle *bd = NULL;
        size_t w = 0;
        free(rec);
        rec = NULL;
        blocks_end = utxo_chainfile_tell(in);
        rc = utxo_chainfile_next(in, &rec, &len, &off);
        if (rc == UTXO_ERR_TRUNCATED && live) { /* a crash while appending: cut it */
            if (cut != NULL)
                *cut = 1;
            rec = NULL;
            rc = UTXO_OK;
        }
        if (rc != UTXO_OK) {
            say(msg, msg_len, "%s: %s in the record at offset %llu", bpath, utxo_strerror(rc),
                (unsigned long long)off);
            goto fail;
        }
        if (rec == NULL)
            break;
        if ((rc = utxo_block_from_bytes(&b, rec, len, &s->p, &err_off)) != UTXO_OK) {
            say(msg, msg_len, "%s: block at offset %llu: %s at byte %zu", bpath,
                (unsigned long long)off, utxo_strerror(rc), err_off);
            goto fail;
        }
        rc = bp_chain_seal(s->chain, b, &bd, NULL, NULL);
        if (rc == UTXO_OK && s->po2 != 0 && (!live || h >= have_proofs))
            rc = chain_receipts_add(bd, b, &s->p, s->po2, NULL, NULL);
        if (rc == UTXO_OK && (again = malloc(len)) == NULL)
            rc = UTXO_ERR_NOMEM;
        if (rc == UTXO_OK && (utxo_block_get_length(b) != len ||
                              utxo_block_to_bytes(b, again, len, &w) != UTXO_OK ||
                              memcmp(again, rec, len) != 0))
            rc = UTXO_ERR_FILE_FORMAT;
        if (rc == UTXO_OK && !live) {
            rc = chain_append_block(s->bf, s->pf, b, bd, NULL, NULL);
        } else if (rc == UTXO_OK && h >= have_proofs) { /* a bundle the crash lost */
            uint8_t *bb = NULL, *pb = NULL;
            size_t bl, pl;
            if ((rc = encode_pair(b, bd, &bb, &bl, &pb, &pl)) == UTXO_OK)
                rc = live_append(s->pfd, pb, pl);
            free(bb);
            free(pb);
        }
        free(again);
        again = NULL;
        utxo_block_free(b);
        utxo_bundle_free(bd);
        if (rc != UTXO_OK) {
            say(msg, msg_len, "%s: block at offset %llu does not follow from the chain before it "
                "(%s): the file was edited or belongs to another key", bpath,
                (unsigned long long)off, utxo_strerror(rc));
            goto fail;
        }
    }
    utxo_chainfile_close(in);
    in = NULL;
    if (live) {
        /* the block file ends after its last whole block; the proof file
         * holds exactly one bundle per block */
        if (truncate(bpath, (off_t)blocks_end) != 0 ||
            (h < have_proofs && ftruncate(s->pfd, (off_t)ends[h]) != 0) ||
            (s->bfd = open(bpath, O_WRONLY | O_CLOEXEC)) < 0) {
            say(msg, msg_len, "cannot repair the end of %s: %s", bpath, strerror(errno));
            rc = UTXO_ERR_IO;
            goto fail;
        }
    }
    sodium_memzero(seed, sizeof seed);
    free(ends);
    free(bpath);
    free(ppath);
    free(bnew);
    free(pnew);
    *out = s;
    return UTXO_OK;
fail:
    free(rec);
    free(ends);
    utxo_chainfile_close(in);
    sodium_memzero(seed, sizeof seed);
    chain_seq_close(s, false);
    free(bpath);
    free(ppath);
    free(bnew);
    free(pnew);
    return rc;
}

int chain_seq_open(chain_seq **out, const char *dir, utxo_store *store, unsigned threads,
                   unsigned po2, char *msg, size_t msg_len)
{
    return seq_open(out, dir, store, threads, po2, false, NULL, msg, msg_len);
}

int chain_seq_open_live(chain_seq **out, const char *dir, utxo_store *store, unsigned threads,
                        unsigned po2, uint32_t *cut, char *msg, size_t msg_len)
{
    return seq_open(out, dir, store, threads, po2, true, cut, msg, msg_len);
}

int chain_seq_close(chain_seq *s, bool commit)
{
    int rc = UTXO_OK;

    if (s == NULL)
        return UTXO_OK;
    if (s->live) {
        if (s->bfd >= 0)
            close(s->bfd);
        if (s->pfd >= 0)
            close(s->pfd);
    }
    if (s->bf != NULL && utxo_chainfile_close(s->bf) != UTXO_OK)
        rc = UTXO_ERR_IO;
    if (s->pf != NULL && utxo_chainfile_close(s->pf) != UTXO_OK)
        rc = UTXO_ERR_IO;
    if (s->dir != NULL && !s->live) {
        static const char *const names[2] = {CHAIN_BLOCKS_FILE, CHAIN_PROOFS_FILE};
        for (int k = 0; k < 2; k++) {
            char *from = path_join(s->dir, names[k], ".new"), *to = path_join(s->dir, names[k], "");
            if (from == NULL || to == NULL)
                rc = UTXO_ERR_NOMEM;
            else if (commit && rc == UTXO_OK && s->bf != NULL && !s->broken) {
                if (rename(from, to) != 0)
                    rc = UTXO_ERR_IO;
            } else {
                unlink(from);
            }
            free(from);
            free(to);
        }
    }
    if (commit && s->broken && !s->live && rc == UTXO_OK)
        rc = UTXO_ERR_INTERNAL;
    if (s->kfd >= 0)
        close(s->kfd); /* the lock goes with it, after the files are in place */
    mp_free(s->mp);
    bp_chain_free(s->chain);
    sodium_memzero(s->sk, sizeof s->sk);
    free(s->dir);
    free(s);
    return rc;
}

const utxo_params *chain_seq_params(const chain_seq *s)
{
    return &s->p;
}

uint32_t chain_seq_next_height(const chain_seq *s)
{
    return bp_chain_next_height(s->chain);
}

void chain_seq_set_store_lock(chain_seq *s, pthread_mutex_t *lock)
{
    s->store_lock = lock;
}

mp_pool *chain_seq_mempool(chain_seq *s)
{
    return s->mp;
}

bp_chain *chain_seq_chain(chain_seq *s)
{
    return s->chain;
}

const uint8_t *chain_seq_fee_id(const chain_seq *s)
{
    return s->fee_id;
}

int chain_seq_submit(chain_seq *s, const utxo_tx *tx, utxo_verdict *v)
{
    return mp_submit(s->mp, tx, bp_chain_next_height(s->chain), v);
}

int chain_seq_submit_batch(chain_seq *s, const utxo_tx *const *txs, size_t n, utxo_verdict *v,
                           size_t *n_accepted)
{
    return mp_submit_batch(s->mp, txs, n, bp_chain_next_height(s->chain), v, n_accepted);
}

int chain_seq_seal(chain_seq *s, uint64_t t, chain_block_info *info, char *msg, size_t msg_len)
{
    utxo_block *b = NULL;
    utxo_tx *cb = NULL;
    utxo_bundle *bd = NULL;
    const utxo_tx *const *txs;
    size_t n = 0, cb_len, bl = 0, pl = 0;
    uint64_t fees = 0;
    uint32_t height = bp_chain_next_height(s->chain), bt = 0, bi = 0, n_in = 0;
    uint64_t runs = 0, segs = 0;
    utxo_verdict vd;
    int rc = UTXO_ERR_NOMEM;

    say(msg, msg_len, "%s", "");
    if (s->broken) {
        say(msg, msg_len, "the sequencer of %s stopped after an earlier failure: reopen the chain",
            s->dir);
        return UTXO_ERR_INTERNAL;
    }
    if ((b = utxo_block_new()) == NULL || (cb = utxo_tx_new()) == NULL)
        goto out;
    cb->coinbase_height = height;
    /* values are fixed-width: the coinbase's size does not depend on the fees */
    if ((rc = utxo_tx_add_output(cb, 0, s->fee_id, NULL, 0)) != UTXO_OK)
        goto out;
    cb_len = utxo_tx_get_length(cb, true);
    size_t dropped = 0;
    if ((rc = mp_select_valid(s->mp, cb_len, height, &txs, &n, &fees, &dropped)) != UTXO_OK)
        goto out;
    cb->outputs[0].value = fees;
    if ((rc = utxo_block_add_tx(b, cb)) != UTXO_OK)
        goto out;
    cb = NULL;
    for (size_t i = 0; i < n; i++) {
        utxo_tx *c = utxo_tx_clone(txs[i]);
        if (c == NULL || (rc = utxo_block_add_tx(b, c)) != UTXO_OK) {
            utxo_tx_free(c);
            rc = UTXO_ERR_NOMEM;
            goto out;
        }
        n_in += c->n_inputs;
    }
    b->header.time = t;
    if ((rc = bp_chain_seal(s->chain, b, &bd, &bt, &bi)) != UTXO_OK) {
        say(msg, msg_len, "sealing block %u: %s (tx %u input %u)", height, utxo_strerror(rc), bt,
            bi);
        goto out;
    }
    mp_remove_selected(s->mp);
    /* the in-memory chain has the block now: a failure from here on leaves
     * the files (and the store) behind it, so nothing more may be sealed
     * and the new files are not committed */
    s->broken = true;
    if (s->po2 != 0 &&
        (rc = chain_receipts_add(bd, b, &s->p, s->po2, &runs, &segs)) != UTXO_OK) {
        say(msg, msg_len, "proving the long runs of block %u: %s", height, utxo_strerror(rc));
        goto out;
    }
    /* the files first: a store that missed the block replays it from the
     * block file (utxo_replay_file), never the other way round */
    const char *file = NULL;
    if ((rc = seq_write(s, b, bd, &bl, &pl, &file)) != UTXO_OK) {
        if (file != NULL) /* the file and the cause, as the store says them */
            say(msg, msg_len, "writing block %u to %s/%s: %s", height, s->dir, file,
                afile_errtext(errno));
        else
            say(msg, msg_len, "writing block %u to %s: %s%s%s", height, s->dir,
                utxo_strerror(rc), rc == UTXO_ERR_IO ? ": " : "",
                rc == UTXO_ERR_IO ? strerror(errno) : "");
        goto out;
    }
    if (s->store != NULL) {
        /* the store is shared (utxo node: its readers hold store_lock):
         * held for the write alone, not while the block was made */
        if (s->store_lock != NULL)
            pthread_mutex_lock(s->store_lock);
        rc = utxo_store_apply_block(s->store, b, &vd);
        if (rc != UTXO_OK && rc < UTXO_ERR_TRUNCATED) /* the store failed, not the block */
            say(msg, msg_len, "the store could not apply block %u: %s", height,
                utxo_store_errmsg(s->store)[0] ? utxo_store_errmsg(s->store)
                                               : utxo_strerror(rc));
        else if (rc != UTXO_OK)
            say(msg, msg_len, "store rejected block %u: %s (tx %u input %u) %s", height,
                utxo_strerror(rc), vd.tx, vd.input, utxo_store_errmsg(s->store));
        if (s->store_lock != NULL)
            pthread_mutex_unlock(s->store_lock);
        if (rc != UTXO_OK)
            goto out;
    }
    s->broken = false;
    if (info != NULL) {
        info->height = height;
        info->n_txs = b->n_txs;
        info->n_inputs = n_in;
        info->fees = fees;
        info->block_bytes = bl;
        info->bundle_bytes = pl;
        info->n_runs = runs;
        info->n_segments = segs;
        info->n_dropped = dropped;
        utxo_header_hash(&b->header, info->hash);
        memcpy(info->acc_digest, b->header.acc_digest, UTXO_HASH_BYTES);
    }
out:
    utxo_tx_free(cb);
    utxo_block_free(b);
    utxo_bundle_free(bd);
    return rc;
}
