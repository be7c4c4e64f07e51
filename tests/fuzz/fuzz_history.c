/*
 * fuzz_history.c — libFuzzer target for the files of a history plan that
 * come back from other machines (src/history, docs/RANGES.md): a range's
 * result file, the plan's manifest, and link-up over both. Run:
 *   tests/fuzz/fuzz_history tests/fuzz/corpus/history
 *
 * The input's first byte chooses the mode (its value mod 4); the rest is:
 *   0  consensus parameters (108 bytes, docs/ENCODING.md), then a result
 *      file's bytes, decoded for that chain (utxo_range_result_from_bytes;
 *      parameters that do not decode: decoded for no chain);
 *   1  the same, with the result's checksum recomputed by the harness
 *      before decoding (when the bytes hold the lengths they declare), so
 *      that mutations get past it to the checks behind: the end state's
 *      decoding, its digest, tip and next height against the header;
 *   2  a manifest's text, written to DIR/manifest and read
 *      (utxo_history_manifest_read);
 *   3  a u16 (little-endian) length L, a manifest's text of L bytes less
 *      its checksum line (the harness appends the right one, so mutations
 *      reach the lines behind it and link-up), then range results, each a
 *      u16 length and that many bytes, written as DIR/range-000.result,
 *      range-001.result, ... (at most 4); then utxo_history_linkup(DIR).
 * Beyond "no crash, no leak, no UB" it asserts: a decoded result is
 * exactly its input again (one encoding per result: get_length, to_bytes)
 * with its reason NUL-terminated at reason_len, and the input less its last
 * byte is refused; a refused input's error offset is within it; a read
 * manifest's ranges cover [0, tip] in order, each non-empty; a refused one
 * leaves no ranges; link-up succeeds only with a readable manifest, every
 * range's result read and linked, its tip the manifest's.
 *
 * Seeds (tests/fuzz/corpus/history): a plan of `utxo history plan
 * --ranges 3` over a 60-block `utxo gen` chain and the results of `utxo
 * history run`, in each mode.
 */
#include "config.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "utxo.h"
#include "utxo/codec.h"
#include "utxo/history.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RR_HEAD 222u         /* bytes of a result before its reason (docs/RANGES.md) */
#define MAX_RESULTS 4u

static char dir[64];

static void write_or_die(const char *name, const uint8_t *p, size_t n)
{
    char path[128];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (f == NULL || (n > 0 && fwrite(p, 1, n, f) != n) || fclose(f) != 0)
        abort();
}

static void remove_files(void)
{
    char path[128], name[32];

    snprintf(path, sizeof path, "%s/manifest", dir);
    unlink(path);
    for (uint32_t i = 0; i < MAX_RESULTS; i++) {
        utxo_range_file_name(name, sizeof name, i, "result");
        snprintf(path, sizeof path, "%s/%s", dir, name);
        unlink(path);
    }
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Modes 0 and 1: one result file's bytes. */
static void one_result(const uint8_t *data, size_t size, bool fix_sum)
{
    static utxo_range_result r, shorter;
    static uint8_t out[UTXO_RANGE_RESULT_MAX_BYTES];
    utxo_params p;
    const utxo_params *pp = NULL;
    uint8_t *in;
    size_t off = 0, w = 0;
    int rc;

    if (size >= UTXO_PARAMS_BYTES && utxo_params_from_bytes(&p, data, UTXO_PARAMS_BYTES, NULL) ==
                                         UTXO_OK)
        pp = &p;
    if (size >= UTXO_PARAMS_BYTES) {
        data += UTXO_PARAMS_BYTES;
        size -= UTXO_PARAMS_BYTES;
    }
    if (size > UTXO_RANGE_RESULT_MAX_BYTES)
        return;
    if ((in = malloc(size ? size : 1)) == NULL)
        return;
    memcpy(in, data, size);
    if (fix_sum && size >= RR_HEAD) {
        /* state_len (u32 at 216) and reason_len (u16 at 220) say where the
         * checksum goes; a file exactly that long gets the right one */
        size_t body = RR_HEAD + (size_t)(in[220] | in[221] << 8) + le32(in + 216);
        if (body + UTXO_HASH_BYTES == size)
            hash_tagged(in + body, "utxo.rangeresult", in, body);
    }
    rc = utxo_range_result_from_bytes(&r, pp, in, size, &off);
    if (rc != UTXO_OK) {
        if (off > size)
            abort();
    } else {
        if (utxo_range_result_get_length(&r) != size ||
            utxo_range_result_to_bytes(&r, out, sizeof out, &w) != UTXO_OK || w != size ||
            memcmp(out, in, size) != 0)
            abort(); /* one encoding per result */
        if (r.reason_len > UTXO_RANGE_REASON_MAX || r.reason[r.reason_len] != '\0' ||
            strlen(r.reason) != r.reason_len)
            abort();
        if (utxo_range_result_from_bytes(&shorter, pp, in, size - 1, NULL) == UTXO_OK)
            abort();
    }
    free(in);
}

/* Mode 2 (and 3's manifest): DIR/manifest read; the plan it gives holds. */
static int read_manifest(void)
{
    utxo_history_plan pl;
    utxo_params p;
    char why[256];
    int rc = utxo_history_manifest_read(&pl, &p, dir, why, sizeof why);

    if (rc != UTXO_OK) {
        if (pl.ranges != NULL || pl.k != 0 || why[0] == '\0' || strlen(why) >= sizeof why)
            abort();
        return rc;
    }
    if (pl.k == 0 || pl.ranges == NULL || pl.ranges[0].from != 0 ||
        pl.ranges[pl.k - 1].to != pl.tip + 1)
        abort();
    for (uint32_t i = 0; i < pl.k; i++)
        if (pl.ranges[i].to <= pl.ranges[i].from ||
            (i > 0 && pl.ranges[i].from != pl.ranges[i - 1].to))
            abort();
    utxo_history_plan_free(&pl);
    return rc;
}

/* Mode 3: a manifest with its checksum made right, results, link-up. */
static void linkup(const uint8_t *data, size_t size)
{
    utxo_history_linkup_result lr;
    char why[400], line[9 + 2 * UTXO_HASH_BYTES + 2], name[32]; /* "checksum HEX\n" */
    uint8_t sum[UTXO_HASH_BYTES], *text;
    size_t len;
    int mrc, rc;

    if (size < 2)
        return;
    len = (size_t)(data[0] | data[1] << 8);
    data += 2;
    size -= 2;
    if (len > size)
        len = size;
    if ((text = malloc(len + sizeof line)) == NULL)
        return;
    memcpy(text, data, len);
    hash_tagged(sum, "utxo.manifest", text, len);
    memcpy(line, "checksum ", 9);
    sodium_bin2hex(line + 9, sizeof line - 9, sum, sizeof sum);
    strcat(line, "\n");
    memcpy(text + len, line, strlen(line));
    write_or_die("manifest", text, len + strlen(line));
    free(text);
    data += len;
    size -= len;
    for (uint32_t i = 0; i < MAX_RESULTS && size >= 2; i++) {
        size_t n = (size_t)(data[0] | data[1] << 8);
        data += 2;
        size -= 2;
        if (n > size)
            n = size;
        utxo_range_file_name(name, sizeof name, i, "result");
        write_or_die(name, data, n);
        data += n;
        size -= n;
    }
    mrc = read_manifest();
    rc = utxo_history_linkup(dir, &lr, why, sizeof why);
    if (lr.manifest_bad != (mrc != UTXO_OK) || (mrc != UTXO_OK && rc != mrc))
        abort(); /* link-up reads the manifest as manifest_read does */
    if (rc == UTXO_OK && (lr.ranges == 0 || lr.ranges > MAX_RESULTS || lr.no_result ||
                          lr.invalid || lr.manifest_bad))
        abort(); /* linked: every range had its result, read and valid */
    if (rc != UTXO_OK && (why[0] == '\0' || strlen(why) >= sizeof why))
        abort(); /* refused, and says why */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (dir[0] == '\0') {
        snprintf(dir, sizeof dir, "/tmp/fuzz_history.%ld", (long)getpid());
        (void)mkdir(dir, 0700);
        if (sodium_init() < 0)
            abort();
    }
    if (size == 0)
        return 0;
    switch (data[0] & 3) {
    case 0:
    case 1:
        one_result(data + 1, size - 1, (data[0] & 3) == 1);
        break;
    case 2:
        write_or_die("manifest", data + 1, size - 1);
        (void)read_manifest();
        break;
    default:
        linkup(data + 1, size - 1);
        break;
    }
    remove_files();
    return 0;
}
