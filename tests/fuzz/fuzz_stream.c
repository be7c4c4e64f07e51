/*
 * fuzz_stream.c — libFuzzer target for the parser of a node's /blocks
 * stream (nc_stream_feed, src/client/nodeclient.c): the bytes a follower,
 * the bridge or a wallet's --node read from a node they do not trust. Run:
 *   tests/fuzz/fuzz_stream tests/fuzz/corpus/stream
 *
 * Input: a flags byte, a chunk byte, consensus parameters (108 bytes,
 * docs/ENCODING.md; parameters that do not decode: the defaults), then the
 * body of a 200 answer to /blocks?from=5&count=N. Flags: N = 1 + (bits
 * 0-1); bit 2: the callback refuses the second pair, as a follower refuses
 * a block that does not connect. The body goes to the parser in pieces of
 * 1 + 64 * chunk bytes (at most 16,321: curl gives at most 16,384), until
 * the parser ends the stream.
 *
 * Beyond "no crash, no leak, no UB" it asserts: pairs reach the callback
 * at heights 5, 6, ... and never more than N; each bundle handed over is
 * exactly its bytes again (one encoding per bundle); a stream the parser
 * ended was ended with a reason (invalid and a message) unless memory ran
 * out; a refusal ends the stream; the parser never holds more bytes than
 * it was given; a stream it did not end took every byte.
 *
 * Seeds (tests/fuzz/corpus/stream): /blocks answers of a node serving a
 * `utxo gen` chain (heights 5-8), whole and cut, with their parameters.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "utxo.h"
#include "client/nodeclient.h"

#define FROM 5u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct seen {
    uint32_t calls;     /* pairs handed to the callback */
    uint32_t refuse_at; /* the call that refuses (0: none) */
} seen;

static int on_pair(void *ud, uint32_t height, const utxo_block *b, const utxo_bundle *bu,
                   const uint8_t *bundle_bytes, size_t bundle_len, char *err, size_t err_len)
{
    seen *s = ud;
    uint8_t *back;
    size_t n = 0;

    s->calls++;
    if (b == NULL || bu == NULL || height != FROM + s->calls - 1)
        abort();
    if (utxo_bundle_get_length(bu) != bundle_len || (back = malloc(bundle_len)) == NULL)
        abort();
    if (utxo_bundle_to_bytes(bu, back, bundle_len, &n) != UTXO_OK || n != bundle_len ||
        memcmp(back, bundle_bytes, bundle_len) != 0)
        abort();
    free(back);
    if (s->calls == s->refuse_at) {
        snprintf(err, err_len, "block %u refused by the harness", height);
        return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    utxo_params p;
    nc_client c;
    nc_stream st;
    seen s;
    uint32_t count;
    size_t chunk, fed = 0;
    bool ended = false;

    if (size < 2)
        return 0;
    count = 1 + (data[0] & 3u);
    memset(&s, 0, sizeof s);
    s.refuse_at = (data[0] & 4u) ? 2 : 0;
    chunk = 1 + 64 * (size_t)data[1];
    data += 2;
    size -= 2;
    utxo_params_default(&p);
    if (size >= UTXO_PARAMS_BYTES) {
        if (utxo_params_from_bytes(&p, data, UTXO_PARAMS_BYTES, NULL) != UTXO_OK)
            utxo_params_default(&p);
        data += UTXO_PARAMS_BYTES;
        size -= UTXO_PARAMS_BYTES;
    }
    memset(&c, 0, sizeof c);
    c.quiet_errors = 1;
    c.timeout_s = NC_TIMEOUT_S;
    nc_stream_init(&st, &c, &p, FROM, count, on_pair, &s);
    while (fed < size) {
        size_t k = size - fed < chunk ? size - fed : chunk;
        size_t took = nc_stream_feed(&st, (const char *)data + fed, k);
        if (took == 0) {
            ended = true;
            break;
        }
        if (took != k)
            abort(); /* all or nothing */
        fed += k;
        if (st.rec.len > fed)
            abort();
    }
    if (st.applied > count || st.applied > s.calls || s.calls > st.applied + 1)
        abort();
    if (s.refuse_at != 0 && s.calls >= s.refuse_at && (!ended || !st.invalid))
        abort(); /* a refused pair ends the stream */
    if (ended && st.invalid && c.err[0] == '\0')
        abort(); /* ended with no reason */
    if (!ended && st.rec.len > size)
        abort();
    nc_stream_free(&st);
    return 0;
}
