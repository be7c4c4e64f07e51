/*
 * chain/journal.c — the mempool journal of a long-running sequencer
 * (chain.h, chain_journal_): every transaction the mempool accepted,
 * appended and synced before the sequencer says so, so an acknowledged
 * transaction survives a crash. Replayed into a fresh mempool at start;
 * rewritten (atomically) to the pool's content after each block.
 *
 * Format (little-endian): "uxmj", u32 version 1, the chain id (32 bytes);
 * then records: u32 length (1 .. max_tx_bytes), the transaction's encoding,
 * a 16-byte BLAKE2b keyed with "utxo.mpjournal" over
 * the length and the encoding. Reading stops at the first record that is
 * torn (a crash in the append, which may spoil the whole last group of
 * records written and synced together), and the file is cut there: no
 * record after it was ever acknowledged complete; the open's message says
 * how much was cut. A record that passes its checksum and does not decode
 * fails the open (UTXO_ERR_FILE_CHECKSUM).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "chain/chain.h"
#include "utxo/atomicfile.h"

#define JOURNAL_MAGIC "uxmj"
#define JOURNAL_VERSION 1u
#define JOURNAL_HEADER (8u + UTXO_HASH_BYTES)
#define JOURNAL_SUM 16u

struct chain_journal {
    char *path;
    int fd;
    utxo_params p;
};

static void jsay(char *msg, size_t len, const char *path, const char *what, int e)
{
    if (msg != NULL && len != 0)
        snprintf(msg, len, "%s: %s%s%s", path, what, e ? ": " : "", e ? strerror(e) : "");
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void header(uint8_t h[JOURNAL_HEADER], const utxo_params *p)
{
    memcpy(h, JOURNAL_MAGIC, 4);
    put32(h + 4, JOURNAL_VERSION);
    memcpy(h + 8, p->chain_id, UTXO_HASH_BYTES);
}

/* The checksum of one record: 16-byte BLAKE2b keyed "utxo.mpjournal", over the
 * length field and the encoding. */
static void record_sum(uint8_t out[JOURNAL_SUM], const uint8_t len4[4], const uint8_t *tx,
                       size_t n)
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, (const uint8_t *)"utxo.mpjournal", 14, JOURNAL_SUM);
    crypto_generichash_update(&st, len4, 4);
    crypto_generichash_update(&st, tx, n);
    crypto_generichash_final(&st, out, JOURNAL_SUM);
}

uint8_t *chain_journal_record(const utxo_tx *tx, size_t *len)
{
    size_t n = utxo_tx_get_length(tx, true), w = 0;
    uint8_t *r = malloc(4 + n + JOURNAL_SUM);

    if (r == NULL)
        return NULL;
    put32(r, (uint32_t)n);
    if (utxo_tx_to_bytes(tx, r + 4, n, &w) != UTXO_OK || w != n) {
        free(r);
        return NULL;
    }
    record_sum(r + 4 + n, r, r + 4, n);
    *len = 4 + n + JOURNAL_SUM;
    return r;
}

/* Reads exactly n bytes: 1, 0 at a clean or torn end, -1 on error. */
static int read_all(FILE *f, uint8_t *p, size_t n)
{
    size_t got = fread(p, 1, n, f);
    if (got == n)
        return 1;
    return ferror(f) ? -1 : 0;
}

int chain_journal_open(chain_journal **out, const char *path, const utxo_params *p,
                       chain_journal_fn fn, void *ud, size_t *n_records, bool *cut, char *msg,
                       size_t msg_len)
{
    chain_journal *j = NULL;
    uint8_t hdr[JOURNAL_HEADER], want[JOURNAL_HEADER], *buf = NULL;
    FILE *f = NULL;
    off_t good = JOURNAL_HEADER;
    size_t count = 0;
    int rc = UTXO_ERR_NOMEM, r;

    *out = NULL;
    if (n_records)
        *n_records = 0;
    if (cut)
        *cut = false;
    header(want, p);
    if ((j = calloc(1, sizeof *j)) == NULL || (j->path = strdup(path)) == NULL ||
        (buf = malloc((size_t)p->max_tx_bytes + JOURNAL_SUM)) == NULL)
        goto fail;
    j->fd = -1;
    j->p = *p;
    /* the temporaries of rewrites a kill interrupted (one may follow each
     * block): nobody renames them now */
    (void)afile_sweep(path);
    if ((f = fopen(path, "rb")) == NULL && errno != ENOENT) {
        jsay(msg, msg_len, path, "cannot read the mempool journal", errno);
        rc = UTXO_ERR_IO;
        goto fail;
    }
    if (f == NULL) { /* first start: an empty journal */
        if ((rc = afile_write_all(path, want, sizeof want)) != UTXO_OK) {
            jsay(msg, msg_len, path, "cannot create the mempool journal", errno);
            goto fail;
        }
    } else {
        if ((r = read_all(f, hdr, sizeof hdr)) <= 0 || memcmp(hdr, want, 4) != 0 ||
            get32(hdr + 4) != JOURNAL_VERSION) {
            jsay(msg, msg_len, path, r < 0 ? "cannot read the mempool journal"
                                           : "not a mempool journal (version 1)", r < 0 ? errno : 0);
            rc = r < 0 ? UTXO_ERR_IO : UTXO_ERR_FILE_FORMAT;
            goto fail;
        }
        if (memcmp(hdr + 8, p->chain_id, UTXO_HASH_BYTES) != 0) {
            jsay(msg, msg_len, path, "a mempool journal of another chain", 0);
            rc = UTXO_ERR_FILE_FORMAT;
            goto fail;
        }
        /* The node appends the records gathered while its last sync ran
         * with one write and one fdatasync (a group commit) and answers
         * them only then, so a crash can spoil the whole last group, its
         * pages reaching the disk in any order: a short record, zeros, a
         * bad checksum, with whole records of the same group after it.
         * Such an end is cut at the first record that does not read: none
         * after it was acknowledged. The message says how much went, since
         * damage in the middle (a flipped byte) looks the same and would
         * drop acknowledged transactions. A record that passes its
         * checksum and does not decode is no crash's doing: refused. */
        struct stat st;
        if (fstat(fileno(f), &st) != 0) {
            jsay(msg, msg_len, path, "cannot read the mempool journal", errno);
            rc = UTXO_ERR_IO;
            goto fail;
        }
        for (;;) {
            uint8_t len4[4], sum[JOURNAL_SUM];
            utxo_tx *tx = NULL;
            uint32_t n;
            if ((r = read_all(f, len4, 4)) <= 0)
                break;
            n = get32(len4);
            if (n == 0 || n > p->max_tx_bytes || (r = read_all(f, buf, n + JOURNAL_SUM)) <= 0)
                break;
            record_sum(sum, len4, buf, n);
            if (sodium_memcmp(sum, buf + n, JOURNAL_SUM) != 0)
                break;
            if (utxo_tx_from_bytes(&tx, buf, n, p, NULL) != UTXO_OK) {
                char what[200];
                snprintf(what, sizeof what,
                         "corrupt mempool journal: the record at byte %lld passes its checksum "
                         "and is no transaction (move the file aside to start without it)",
                         (long long)good);
                jsay(msg, msg_len, path, what, 0);
                rc = UTXO_ERR_FILE_CHECKSUM;
                goto fail;
            }
            rc = fn(ud, tx);
            utxo_tx_free(tx);
            if (rc != UTXO_OK) {
                jsay(msg, msg_len, path, "replaying the mempool journal failed", 0);
                goto fail;
            }
            count++;
            good += (off_t)(4 + n + JOURNAL_SUM);
        }
        if (r < 0) {
            jsay(msg, msg_len, path, "cannot read the mempool journal", errno);
            rc = UTXO_ERR_IO;
            goto fail;
        }
        if (st.st_size > good) {
            if (truncate(path, good) != 0) {
                jsay(msg, msg_len, path, "cannot cut the torn end of the mempool journal", errno);
                rc = UTXO_ERR_IO;
                goto fail;
            }
            char what[200];
            snprintf(what, sizeof what,
                     "the last %lld bytes (from byte %lld, after %zu whole records) did not "
                     "read: cut off (the unsynced end of a crash, or damage)",
                     (long long)(st.st_size - good), (long long)good, count);
            jsay(msg, msg_len, path, what, 0);
            if (cut)
                *cut = true;
        }
        fclose(f);
        f = NULL;
    }
    if ((j->fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0) {
        jsay(msg, msg_len, path, "cannot open the mempool journal for writing", errno);
        rc = UTXO_ERR_IO;
        goto fail;
    }
    free(buf);
    if (n_records)
        *n_records = count;
    *out = j;
    return UTXO_OK;
fail:
    if (f != NULL)
        fclose(f);
    free(buf);
    chain_journal_close(j);
    return rc;
}

int chain_journal_write(chain_journal *j, const utxo_tx *tx)
{
    size_t len = 0;
    uint8_t *r = chain_journal_record(tx, &len);
    off_t at;
    int e;

    if (r == NULL)
        return UTXO_ERR_NOMEM;
    if ((at = lseek(j->fd, 0, SEEK_END)) >= 0 && (errno = afile_write_fd(j->fd, r, len)) == 0) {
        free(r);
        return UTXO_OK;
    }
    e = errno;
    free(r);
    if (at >= 0 && ftruncate(j->fd, at) != 0) { /* the next open cuts it */ }
    errno = e;
    return UTXO_ERR_IO;
}

int chain_journal_fd(const chain_journal *j)
{
    return j->fd;
}

int chain_journal_add(chain_journal *j, const utxo_tx *tx)
{
    int rc = chain_journal_write(j, tx);
    if (rc == UTXO_OK && fdatasync(j->fd) != 0)
        rc = UTXO_ERR_IO; /* errno from fdatasync */
    return rc;
}

int chain_journal_rewrite(chain_journal *j, const mp_pool *m)
{
    afile a;
    uint8_t hdr[JOURNAL_HEADER];
    const utxo_tx *tx;
    int rc, fd;

    header(hdr, &j->p);
    if ((rc = afile_begin(&a, j->path)) != UTXO_OK)
        return rc;
    afile_write(&a, hdr, sizeof hdr);
    for (size_t i = 0; (tx = mp_tx(m, i, NULL)) != NULL; i++) {
        size_t len = 0;
        uint8_t *r = chain_journal_record(tx, &len);
        if (r == NULL) {
            afile_abort(&a);
            return UTXO_ERR_NOMEM;
        }
        afile_write(&a, r, len);
        free(r);
    }
    if ((rc = afile_commit(&a)) != UTXO_OK)
        return rc;
    /* the old descriptor names the replaced file: append to the new one */
    if ((fd = open(j->path, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0)
        return UTXO_ERR_IO;
    close(j->fd);
    j->fd = fd;
    return UTXO_OK;
}

void chain_journal_close(chain_journal *j)
{
    if (j == NULL)
        return;
    if (j->fd >= 0)
        close(j->fd);
    free(j->path);
    free(j);
}
