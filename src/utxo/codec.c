/*
 * codec.c — the writer/reader cursors and tagged hashing that every canonical
 * encoding in utxo is built from. See codec.h for the contract and
 * docs/ENCODING.md for the formats built on it.
 */
#include "config.h"

#include <pthread.h>
#include <string.h>
#include "utxo/codec.h"

/* ---- hashing ---------------------------------------------------------- */

void hash_init(hash_state *st, const char *tag)
{
    uint8_t personal[crypto_generichash_blake2b_PERSONALBYTES] = {0};
    size_t n = strlen(tag);

    /* Tags are compile-time constants; a longer one is a programming error. */
    if (n > sizeof personal)
        n = sizeof personal;
    memcpy(personal, tag, n);
    crypto_generichash_blake2b_init_salt_personal(st, NULL, 0, UTXO_HASH_BYTES, NULL, personal);
}

void hash_update(hash_state *st, const void *p, size_t n)
{
    if (n > 0)
        crypto_generichash_blake2b_update(st, p, n);
}

void hash_final(hash_state *st, uint8_t out[UTXO_HASH_BYTES])
{
    crypto_generichash_blake2b_final(st, out, UTXO_HASH_BYTES);
}

void hash_tagged(uint8_t out[UTXO_HASH_BYTES], const char *tag, const void *p, size_t n)
{
    hash_state st;

    hash_init(&st, tag);
    hash_update(&st, p, n);
    hash_final(&st, out);
}

void hash_pair(uint8_t out[UTXO_HASH_BYTES], const char *tag,
               const uint8_t a[UTXO_HASH_BYTES], const uint8_t b[UTXO_HASH_BYTES])
{
    hash_state st;

    hash_init(&st, tag);
    hash_update(&st, a, UTXO_HASH_BYTES);
    hash_update(&st, b, UTXO_HASH_BYTES);
    hash_final(&st, out);
}

static pthread_mutex_t domain_lock = PTHREAD_MUTEX_INITIALIZER;

void hash_start(hash_state *st, hash_domain *d)
{
    if (!atomic_load_explicit(&d->ready, memory_order_acquire)) {
        (void)pthread_mutex_lock(&domain_lock);
        if (!atomic_load_explicit(&d->ready, memory_order_relaxed)) {
            hash_init(&d->st, d->tag);
            atomic_store_explicit(&d->ready, 1, memory_order_release);
        }
        (void)pthread_mutex_unlock(&domain_lock);
    }
    memcpy(st, &d->st, sizeof *st);
}

void hash_tagged_dom(uint8_t out[UTXO_HASH_BYTES], hash_domain *d, const void *p, size_t n)
{
    hash_state st;

    hash_start(&st, d);
    hash_update(&st, p, n);
    hash_final(&st, out);
}

void hash_pair_dom(uint8_t out[UTXO_HASH_BYTES], hash_domain *d,
                   const uint8_t a[UTXO_HASH_BYTES], const uint8_t b[UTXO_HASH_BYTES])
{
    hash_state st;

    hash_start(&st, d);
    hash_update(&st, a, UTXO_HASH_BYTES);
    hash_update(&st, b, UTXO_HASH_BYTES);
    hash_final(&st, out);
}

/* ---- writer ----------------------------------------------------------- */

void enc_bytes(enc *e, const void *p, size_t n)
{
    if (n == 0)
        return;
    if (e->buf != NULL && e->len <= e->cap && n <= e->cap - e->len)
        memcpy(e->buf + e->len, p, n);
    if (e->hs != NULL)
        hash_update(e->hs, p, n);
    e->len += n;
}

size_t enc_length(enc_object_fn fn, const void *obj)
{
    enc e;

    if (obj == NULL)
        return 0;
    enc_init(&e, NULL, 0, NULL);
    fn(&e, obj);
    return e.len;
}

int enc_to_bytes(enc_object_fn fn, const void *obj, uint8_t *out, size_t out_len,
                 size_t *written)
{
    enc e;

    if (written != NULL)
        *written = 0;
    if (obj == NULL || out == NULL)
        return UTXO_ERR_ARG;
    enc_init(&e, out, out_len, NULL);
    fn(&e, obj);
    if (!enc_ok(&e))
        return UTXO_ERR_ARG;
    if (written != NULL)
        *written = e.len;
    return UTXO_OK;
}

int enc_to_new(enc_object_fn fn, const void *obj, size_t hint, uint8_t **out, size_t *len)
{
    size_t cap = hint > 64 ? hint : 64;
    uint8_t *buf = NULL;
    enc e;

    *out = NULL;
    *len = 0;
    for (int pass = 0; pass < 2; pass++) {
        uint8_t *nb = realloc(buf, cap);
        if (nb == NULL) {
            free(buf);
            return UTXO_ERR_NOMEM;
        }
        buf = nb;
        enc_init(&e, buf, cap, NULL);
        fn(&e, obj);
        if (enc_ok(&e)) {
            *out = buf;
            *len = e.len;
            return UTXO_OK;
        }
        cap = e.len; /* the exact size: the second pass fits */
    }
    free(buf);
    return UTXO_ERR_INTERNAL; /* fn produced a different length twice */
}

void enc_hash_dom(uint8_t out[UTXO_HASH_BYTES], hash_domain *d, enc_object_fn fn,
                  const void *obj)
{
    hash_state st;
    enc e;

    hash_start(&st, d);
    enc_init(&e, NULL, 0, &st);
    fn(&e, obj);
    hash_final(&st, out);
}

void enc_hash(uint8_t out[UTXO_HASH_BYTES], const char *tag, enc_object_fn fn, const void *obj)
{
    hash_state st;
    enc e;

    hash_init(&st, tag);
    enc_init(&e, NULL, 0, &st);
    fn(&e, obj);
    hash_final(&st, out);
}

void enc_u8(enc *e, uint8_t v) { enc_bytes(e, &v, 1); }

void enc_u16(enc *e, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    enc_bytes(e, b, 2);
}

void enc_u32(enc *e, uint32_t v)
{
    uint8_t b[4];
    put_u32le(b, v);
    enc_bytes(e, b, 4);
}

void enc_u64(enc *e, uint64_t v)
{
    uint8_t b[8];
    put_u64le(b, v);
    enc_bytes(e, b, 8);
}

size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

void enc_varint(enc *e, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;

    while (v >= 0x80) {
        b[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (uint8_t)v;
    enc_bytes(e, b, n);
}

void enc_blob(enc *e, const void *p, size_t n)
{
    enc_varint(e, n);
    enc_bytes(e, p, n);
}

/* ---- reader ----------------------------------------------------------- */

void dec_fail(dec *d, int err, size_t off)
{
    if (d->err == UTXO_OK) {
        d->err = err;
        d->err_off = off;
    }
}

/* Reserves n bytes; on shortage records TRUNCATED at the end of the input
 * (the first byte that is missing). */
static const uint8_t *take(dec *d, size_t n)
{
    const uint8_t *p;

    if (d->err != UTXO_OK)
        return NULL;
    if (n > d->len - d->off) {
        dec_fail(d, UTXO_ERR_TRUNCATED, d->len);
        return NULL;
    }
    p = d->p + d->off;
    d->off += n;
    return p;
}

uint8_t dec_u8(dec *d)
{
    const uint8_t *p = take(d, 1);
    return p ? p[0] : 0;
}

uint16_t dec_u16(dec *d)
{
    const uint8_t *p = take(d, 2);
    return p ? (uint16_t)(p[0] | p[1] << 8) : 0;
}

uint32_t dec_u32(dec *d)
{
    const uint8_t *p = take(d, 4);
    return p ? get_u32le(p) : 0;
}

uint64_t dec_u64(dec *d)
{
    const uint8_t *p = take(d, 8);
    return p ? get_u64le(p) : 0;
}

void dec_bytes(dec *d, void *out, size_t n)
{
    const uint8_t *p = take(d, n);

    if (p != NULL)
        memcpy(out, p, n);
    else if (n > 0)
        memset(out, 0, n);
}

const uint8_t *dec_view(dec *d, size_t n)
{
    return take(d, n);
}

uint64_t dec_varint(dec *d, uint64_t max)
{
    size_t start = d->off;
    uint64_t v = 0;
    unsigned shift = 0;

    if (d->err != UTXO_OK)
        return 0;
    for (;;) {
        const uint8_t *p = take(d, 1);
        uint8_t b;

        if (p == NULL)
            return 0;
        b = *p;
        /* the 10th byte may carry only the top bit of a 64-bit value */
        if (shift == 63 && (b & 0xfe) != 0) {
            dec_fail(d, UTXO_ERR_TOO_LARGE, start);
            return 0;
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            /* minimal: a multi-byte varint never ends in a zero group */
            if (b == 0 && shift > 0) {
                dec_fail(d, UTXO_ERR_NONCANONICAL, start);
                return 0;
            }
            break;
        }
        shift += 7;
    }
    if (v > max) {
        dec_fail(d, UTXO_ERR_TOO_LARGE, start);
        return 0;
    }
    return v;
}

void dec_end(dec *d)
{
    if (d->err == UTXO_OK && d->off != d->len)
        dec_fail(d, UTXO_ERR_TRAILING, d->off);
}

int dec_result(const dec *d, size_t *err_offset)
{
    if (err_offset != NULL)
        *err_offset = d->err == UTXO_OK ? 0 : d->err_off;
    return d->err;
}
