/*
 * fuzz_journal.c — libFuzzer target for the mempool journal of a
 * long-running sequencer (src/chain/journal.c, docs/CHAIN.md "Mempool
 * journal"), a file the node reads back after a crash. Run:
 *   tests/fuzz/fuzz_journal tests/fuzz/corpus/journal
 *
 * The input's first byte s chooses the file:
 *
 *   s odd          the rest is the whole file
 *   s % 4 == 0     the rest goes after a valid header for the default
 *                  parameters (mutations reach the records, but rarely
 *                  get past a record's checksum)
 *   s % 4 == 2     framed: the harness writes the records itself
 *
 * Framed input, after s:
 *
 *   offset  size  meaning
 *   1       1     t: the tail's parameter (below)
 *   2       ...   record contents, separated by the 4 bytes SEP
 *                 ("\xffrec"); every piece, empty ones too, is a record
 *
 * Each piece becomes a record with the length and the checksum the format
 * documents (u32 length, the bytes, 16-byte BLAKE2b keyed "utxo.mpjournal"
 * over both), so mutations of the contents reach the transaction decoder
 * and the replay. The checksum is computed here as docs/CHAIN.md says:
 * the journal's own is static, and chain_journal_record takes a decoded
 * transaction, which mutated contents are not. Bits 2-3 of s say what
 * becomes of the last piece's record, of R bytes: 0 nothing (a record
 * like the others); 1 torn, cut after 1 + t % (R - 1) bytes; 2 garbled,
 * bit t & 7 of its byte t * R / 256 flipped (in the length it reads as
 * torn, out of range or failing its checksum; elsewhere it fails its
 * checksum: a BLAKE2b collision aside, it never reads); 3 zeros, R of
 * them (blocks never written). Bits 4-7 of s, when not 0, make the replay
 * callback refuse (UTXO_ERR_TX_REJECTED) the record with index
 * (s >> 4) - 1.
 *
 * Beyond "no crash, no leak, no UB" it asserts: a file with a valid header
 * opens, or is refused as damaged (UTXO_ERR_FILE_CHECKSUM: a record that
 * passes its checksum and is no transaction) byte for byte unchanged;
 * every transaction handed back decodes again to the same bytes; the file
 * is cut right after the last whole record (header plus the records handed
 * back, nothing else), and opening it again hands back the same records
 * and cuts nothing; a file with another header is refused with
 * UTXO_ERR_FILE_FORMAT and left as it was. Framed, the outcome is known
 * before the open: the records up to the first piece that is empty or the
 * spoiled tail (K of them) all pass their checksums, so the open either
 * hands back all K, each the very bytes of its piece, and cuts exactly
 * what follows them; or is refused as damaged at the first of them that
 * does not decode (utxo_tx_from_bytes), having handed back those before
 * it; or, when the callback refuses one of them first, fails with the
 * callback's code, having handed back those before it; refused, the file
 * is left as it was.
 *
 * Seeds (tests/fuzz/corpus/journal): framed-* hold transactions of a
 * `utxo gen` chain (payments, a coinbase, a spend of each standard
 * predicate) and corpus/tx's template and reference-input ones, one seed
 * for each outcome above; three_records holds three of them as records
 * after a valid header. two_records and torn_tail were written by the
 * node before an encoding change: their records pass their checksums and
 * no longer decode (refused as damaged).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "chain/chain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADER (8u + UTXO_HASH_BYTES)
#define SUM 16u
#define SEP "\xffrec"
#define SEP_LEN 4u
#define REFUSED UTXO_ERR_TX_REJECTED /* the callback's "no"; the journal never says it */

static char path[64];
static utxo_params params;

/* A framed input's piece: contents at p, n bytes. */
typedef struct piece {
    const uint8_t *p;
    size_t n;
} piece;

typedef struct seen {
    size_t n, bytes;    /* records handed back and their file bytes */
    const piece *want;  /* framed: what each record must be (else NULL) */
    size_t n_want;      /* and how many there are */
    size_t refuse;      /* the index of the record to refuse, or SIZE_MAX */
} seen;

static int take(void *ud, const utxo_tx *tx)
{
    seen *s = ud;
    size_t len = utxo_tx_get_length(tx, true), w = 0;
    uint8_t *b = malloc(len);
    utxo_tx *again = NULL;

    if (b == NULL || utxo_tx_to_bytes(tx, b, len, &w) != UTXO_OK || w != len ||
        utxo_tx_from_bytes(&again, b, len, &params, NULL) != UTXO_OK)
        abort(); /* what the journal hands back is a transaction */
    if (s->want != NULL && (s->n >= s->n_want || s->want[s->n].n != len ||
                            memcmp(s->want[s->n].p, b, len) != 0))
        abort(); /* the very bytes of its record */
    utxo_tx_free(again);
    free(b);
    if (s->n == s->refuse) {
        s->n++;
        return REFUSED;
    }
    s->n++;
    s->bytes += 4 + len + SUM;
    return UTXO_OK;
}

static void write_file_or_die(const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || (n > 0 && fwrite(p, 1, n, f) != n) || fclose(f) != 0)
        abort();
}

static off_t file_size(void)
{
    struct stat st;
    if (stat(path, &st) != 0)
        abort();
    return st.st_size;
}

/* The file is byte for byte file[0..flen). */
static void unchanged_or_die(const uint8_t *file, size_t flen)
{
    FILE *f = fopen(path, "rb");
    uint8_t *back = malloc(flen + 1);
    if (f == NULL || back == NULL || (size_t)file_size() != flen ||
        fread(back, 1, flen + 1, f) != flen || memcmp(back, file, flen) != 0)
        abort();
    fclose(f);
    free(back);
}

static void header(uint8_t *h)
{
    memcpy(h, "uxmj", 4);
    h[4] = 1, h[5] = h[6] = h[7] = 0;
    memcpy(h + 8, params.chain_id, UTXO_HASH_BYTES);
}

/* One record of n content bytes at r: the layout of docs/CHAIN.md. */
static void frame(uint8_t *r, const uint8_t *p, size_t n)
{
    crypto_generichash_state st;
    for (int i = 0; i < 4; i++)
        r[i] = (uint8_t)(n >> (8 * i));
    memcpy(r + 4, p, n);
    crypto_generichash_init(&st, (const uint8_t *)"utxo.mpjournal", 14, SUM);
    crypto_generichash_update(&st, r, 4 + n);
    crypto_generichash_final(&st, r + 4 + n, SUM);
}

/* The framed mode (the header comment): the file from the pieces, and the
 * outcome the open must have. */
static void framed(const uint8_t *data, size_t size)
{
    const uint8_t s = data[0], t = size > 1 ? data[1] : 0;
    const uint8_t *body = data + (size > 1 ? 2 : size), *end = data + size;
    const unsigned tail = (s >> 2) & 3;
    size_t np = 1, k = 0, flen = HEADER, whole = HEADER, first_bad = SIZE_MAX;
    piece *pc;
    uint8_t *file;

    for (const uint8_t *q = body; (q = memmem(q, (size_t)(end - q), SEP, SEP_LEN)) != NULL;
         q += SEP_LEN)
        np++;
    if ((pc = malloc(np * sizeof *pc)) == NULL)
        return;
    for (size_t i = 0; i < np; i++) {
        const uint8_t *q = memmem(body, (size_t)(end - body), SEP, SEP_LEN);
        pc[i] = (piece){body, (size_t)((q ? q : end) - body)};
        body = q ? q + SEP_LEN : end;
        flen += 4 + pc[i].n + SUM;
    }
    if ((file = malloc(flen)) == NULL) {
        free(pc);
        return;
    }
    header(file);
    /* the records; K = those before the first that does not read */
    bool stopped = false;
    for (size_t i = 0, at = HEADER; i < np; i++) {
        size_t rl = 4 + pc[i].n + SUM;
        frame(file + at, pc[i].p, pc[i].n);
        if (i == np - 1 && tail != 0) {
            if (tail == 1)
                flen = at + 1 + t % (rl - 1);
            else if (tail == 2)
                file[at + t * rl / 256] ^= (uint8_t)(1u << (t & 7));
            else
                memset(file + at, 0, rl);
            stopped = true;
        }
        if (pc[i].n == 0 || pc[i].n > params.max_tx_bytes)
            stopped = true; /* a length out of range */
        if (!stopped) {
            utxo_tx *tx = NULL;
            if (first_bad == SIZE_MAX && utxo_tx_from_bytes(&tx, pc[i].p, pc[i].n, &params,
                                                            NULL) != UTXO_OK)
                first_bad = k;
            utxo_tx_free(tx);
            k++;
            whole = at + rl;
        }
        at += rl;
    }
    write_file_or_die(file, flen);

    chain_journal *j = NULL;
    seen sn = {0, 0, pc, np, (s >> 4) ? (size_t)(s >> 4) - 1 : SIZE_MAX};
    size_t n = 0;
    bool cut = false;
    int rc = chain_journal_open(&j, path, &params, take, &sn, &n, &cut, NULL, 0);
    if (first_bad != SIZE_MAX && (sn.refuse == SIZE_MAX || sn.refuse >= first_bad)) {
        if (rc != UTXO_ERR_FILE_CHECKSUM || sn.n != first_bad)
            abort(); /* refused at its first record that is no transaction */
        unchanged_or_die(file, flen);
    } else if (sn.refuse < k) {
        if (rc != REFUSED || sn.n != sn.refuse + 1)
            abort(); /* the callback's error, at the record it refused */
        unchanged_or_die(file, flen);
    } else {
        if (rc != UTXO_OK || n != k || sn.n != k || (size_t)file_size() != whole ||
            cut != (whole != flen))
            abort(); /* all K back, cut right after them */
        chain_journal_close(j);
        j = NULL;
        sn = (seen){0, 0, pc, np, SIZE_MAX};
        if (chain_journal_open(&j, path, &params, take, &sn, &n, &cut, NULL, 0) != UTXO_OK ||
            n != k || sn.n != k || cut)
            abort(); /* a repaired journal reads back the same */
        chain_journal_close(j);
    }
    free(file);
    free(pc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    chain_journal *j = NULL;
    uint8_t *file;
    size_t flen, n = 0;
    seen s = {0, 0, NULL, 0, SIZE_MAX}, again = {0, 0, NULL, 0, SIZE_MAX};
    bool cut = false, ours;
    int rc;

    if (path[0] == 0) {
        utxo_params_default(&params);
        snprintf(path, sizeof path, "/tmp/fuzz_journal.%ld", (long)getpid());
    }
    if (size == 0)
        return 0;
    if ((data[0] & 3) == 2) {
        framed(data, size);
        unlink(path);
        return 0;
    }
    ours = (data[0] & 1) == 0;
    flen = (ours ? HEADER : 0) + size - 1;
    if ((file = malloc(flen + 1)) == NULL)
        return 0;
    if (ours)
        header(file);
    memcpy(file + (ours ? HEADER : 0), data + 1, size - 1);
    write_file_or_die(file, flen);

    rc = chain_journal_open(&j, path, &params, take, &s, &n, &cut, NULL, 0);
    if (rc == UTXO_OK) {
        chain_journal_close(j);
        if (n != s.n || (off_t)(HEADER + s.bytes) != file_size())
            abort(); /* cut right after the last whole record */
        if (cut != ((size_t)file_size() != flen))
            abort();
        j = NULL;
        if (chain_journal_open(&j, path, &params, take, &again, &n, &cut, NULL, 0) != UTXO_OK ||
            again.n != s.n || cut)
            abort(); /* a repaired journal reads back the same */
        chain_journal_close(j);
    } else {
        /* damage that no crash leaves is refused; another header is not a
         * journal (or, by chance a valid one, damaged) */
        if (rc != UTXO_ERR_FILE_CHECKSUM && (ours || rc != UTXO_ERR_FILE_FORMAT))
            abort();
        unchanged_or_die(file, flen); /* and the file is left as it was */
    }
    free(file);
    unlink(path);
    return 0;
}
