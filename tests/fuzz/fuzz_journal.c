/*
 * fuzz_journal.c — libFuzzer target for the mempool journal of a
 * long-running sequencer (src/chain/journal.c, docs/CHAIN.md "Mempool
 * journal"), a file the node reads back after a crash. Run:
 *   tests/fuzz/fuzz_journal tests/fuzz/corpus/journal
 *
 * The input's first byte chooses the file: even, the rest goes after a
 * valid header for the default parameters (so mutations reach the
 * records); odd, the rest is the whole file. Beyond "no crash, no leak, no
 * UB" it asserts: a file with a valid header opens, or is refused as
 * damaged (UTXO_ERR_FILE_CHECKSUM: a record that passes its checksum and is
 * no transaction) byte for byte unchanged; every
 * transaction handed back decodes again to the same bytes; the file is cut
 * right after the last whole record (header plus the records handed back,
 * nothing else), and opening it again hands back the same records and
 * cuts nothing; a file with another header is refused with
 * UTXO_ERR_FILE_FORMAT and left as it was.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "chain/chain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADER (8u + UTXO_HASH_BYTES)
#define SUM 16u

static char path[64];
static utxo_params params;

typedef struct seen {
    size_t n, bytes; /* records handed back and their file bytes */
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
    utxo_tx_free(again);
    free(b);
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    chain_journal *j = NULL;
    uint8_t *file;
    size_t flen, n = 0;
    seen s = {0, 0}, again = {0, 0};
    bool cut = false, ours;
    int rc;

    if (path[0] == 0) {
        utxo_params_default(&params);
        snprintf(path, sizeof path, "/tmp/fuzz_journal.%ld", (long)getpid());
    }
    if (size == 0)
        return 0;
    ours = (data[0] & 1) == 0;
    flen = (ours ? HEADER : 0) + size - 1;
    if ((file = malloc(flen + 1)) == NULL)
        return 0;
    if (ours) {
        memcpy(file, "uxmj", 4);
        file[4] = 1, file[5] = file[6] = file[7] = 0;
        memcpy(file + 8, params.chain_id, UTXO_HASH_BYTES);
    }
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
        FILE *f = fopen(path, "rb");
        uint8_t *back = malloc(flen + 1);
        if (f == NULL || back == NULL || (size_t)file_size() != flen ||
            fread(back, 1, flen + 1, f) != flen || memcmp(back, file, flen) != 0)
            abort(); /* and the file is left as it was */
        fclose(f);
        free(back);
    }
    free(file);
    unlink(path);
    return 0;
}
