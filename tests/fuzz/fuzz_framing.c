/*
 * fuzz_framing.c — libFuzzer target for the file framings read from
 * untrusted files: block files and proof files (utxo/blockfile.h,
 * src/utxo/blockfile.c) and receipt files read incrementally
 * (utxo_receipt_read, src/prover/receipt.c). Run:
 *   tests/fuzz/fuzz_framing tests/fuzz/corpus/framing
 *
 * The first byte selects; the rest is the file, held in a memfd (a regular
 * file, so size checks apply) or, for 3, read through a stream whose size
 * is unknown:
 *   0  a block file: every record decodes as a block of the file's chain
 *      or reading stops; record offsets follow from the lengths;
 *   1  a proof file: the same, records decoded as bundles;
 *   2  a receipt file: utxo_receipt_read accepts exactly what
 *      utxo_receipt_from_bytes accepts, with the same bytes;
 *   3  the same through fmemopen (no size known in advance).
 * Beyond "no crash, no leak, no UB": the assertions above, and a refused
 * open leaves no handle.
 *
 * Seeds (tests/fuzz/corpus/framing): a tests/mkchain block file and proof
 * file (short chains) and receipts of tests/segments/work.img at po2 10.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "utxo.h"
#include "utxo/blockfile.h"
#include "utxo/segments.h"
#include "utxo/stateless.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd_of(const uint8_t *p, size_t n, char path[64])
{
    int fd = memfd_create("fuzz_framing", 0);

    if (fd < 0)
        abort();
    if (n > 0 && write(fd, p, n) != (ssize_t)n)
        abort();
    snprintf(path, 64, "/proc/self/fd/%d", fd);
    return fd;
}

static void chain_file(const uint8_t *p, size_t n, int kind)
{
    char path[64];
    int fd = memfd_of(p, n, path);
    utxo_chainfile *f = NULL;
    utxo_params params;
    size_t eo = 0;
    uint64_t expect = UTXO_CHAINFILE_HEADER_BYTES;

    if (utxo_chainfile_open(&f, path, kind, &params, &eo) != UTXO_OK) {
        if (f != NULL || eo > n)
            abort();
        close(fd);
        return;
    }
    for (;;) {
        uint8_t *rec = NULL;
        size_t len = 0;
        uint64_t at = 0;
        int rc = utxo_chainfile_next(f, &rec, &len, &at);

        if (at != expect)
            abort();
        if (rc != UTXO_OK || rec == NULL) {
            if (rec != NULL || (rc == UTXO_OK && at != n))
                abort();
            break;
        }
        if (len == 0 || at + 4 + len > n)
            abort();
        if (kind == UTXO_CHAINFILE_BLOCKS) {
            utxo_block *b = NULL;
            if (utxo_block_from_bytes(&b, rec, len, &params, NULL) == UTXO_OK)
                (void)utxo_block_check(b, &params, NULL, NULL);
            utxo_block_free(b);
        } else {
            utxo_bundle *b = NULL;
            (void)utxo_bundle_from_bytes(&b, rec, len, &params, NULL);
            utxo_bundle_free(b);
        }
        free(rec);
        expect = at + 4 + len;
    }
    if (utxo_chainfile_close(f) != UTXO_OK)
        abort();
    close(fd);
}

static void receipt_file(const uint8_t *p, size_t n, int piped)
{
    utxo_receipt *a = NULL, *b = NULL;
    char path[64];
    int fd = -1, ra, rb;
    FILE *f;

    if (piped) {
        static uint8_t one[1];
        /* fmemopen wants a size of at least 1: an empty input is one byte
         * of a buffer of our own, consumed before the reader starts */
        if ((f = fmemopen(n ? (void *)p : one, n ? n : 1, "rb")) == NULL)
            abort();
        if (n == 0)
            (void)fgetc(f);
    } else {
        fd = memfd_of(p, n, path);
        if ((f = fopen(path, "rb")) == NULL)
            abort();
    }
    ra = utxo_receipt_read(&a, f, NULL);
    rb = utxo_receipt_from_bytes(&b, p, n, NULL);
    if ((ra == UTXO_OK) != (rb == UTXO_OK) || (ra != UTXO_OK && a != NULL))
        abort();
    if (ra == UTXO_OK) {
        size_t la, lb;
        const uint8_t *ba = utxo_receipt_bytes(a, &la), *bb = utxo_receipt_bytes(b, &lb);
        if (la != lb || memcmp(ba, bb, la) != 0)
            abort();
    }
    utxo_receipt_free(a);
    utxo_receipt_free(b);
    fclose(f);
    if (fd >= 0)
        close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    switch (data[0] % 4) {
    case 0: chain_file(data + 1, size - 1, UTXO_CHAINFILE_BLOCKS); break;
    case 1: chain_file(data + 1, size - 1, UTXO_CHAINFILE_PROOFS); break;
    case 2: receipt_file(data + 1, size - 1, 0); break;
    default: receipt_file(data + 1, size - 1, 1); break;
    }
    return 0;
}
