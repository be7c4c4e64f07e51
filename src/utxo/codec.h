/*
 * codec.h — the one cursor pair behind every canonical encoding in utxo.
 *
 * A writer (enc) appends little-endian fields to any combination of: a
 * caller's buffer, a running BLAKE2b-256 hash, and a plain length count. The
 * same field-by-field code therefore computes a length, the bytes and a hash,
 * and the three can never disagree (the libwally push/pull idea).
 *
 * A reader (dec) pulls fields from a byte string with a sticky error: after
 * the first failure every read returns zeros and the error code and the byte
 * offset where it happened are kept. Decoders check dec_err() once at the end.
 *
 * Varints are unsigned LEB128, minimal: the last byte is never 0x00 unless it
 * is the only byte, and a value must fit the declared width. A non-minimal
 * varint is UTXO_ERR_NONCANONICAL.
 *
 * Hashing: utxo_hash is BLAKE2b-256 personalised with a tag of at most 16
 * bytes (libsodium's crypto_generichash_blake2b_salt_personal), so every use
 * has its own domain without spending input bytes on it. The hot domains
 * (tree nodes and leaves, txids, pages) keep a hash_domain: the personalised
 * initial state prepared once and copied for each hash, which gives the same
 * bytes as hash_init without rebuilding the parameter block every time.
 */
#ifndef UTXO_SRC_CODEC_H
#define UTXO_SRC_CODEC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sodium.h>
#include "utxo/common.h"

/* ---- hashing ---------------------------------------------------------- */
typedef crypto_generichash_blake2b_state hash_state;

/* Starts a BLAKE2b-256 hash in the domain `tag` (NUL-terminated, <= 16 bytes). */
void hash_init(hash_state *st, const char *tag);
void hash_update(hash_state *st, const void *p, size_t n);
void hash_final(hash_state *st, uint8_t out[UTXO_HASH_BYTES]);
/* One-shot: out = H_tag(p[0..n)). */
void hash_tagged(uint8_t out[UTXO_HASH_BYTES], const char *tag, const void *p, size_t n);
/* out = H_tag(a || b), each 32 bytes: the Merkle node shape. */
void hash_pair(uint8_t out[UTXO_HASH_BYTES], const char *tag,
               const uint8_t a[UTXO_HASH_BYTES], const uint8_t b[UTXO_HASH_BYTES]);

/* A domain whose initial state is prepared on first use (thread-safe) and
 * then copied: define one per hot tag, static, with HASH_DOMAIN(tag). */
typedef struct hash_domain {
    const char *tag;   /* NUL-terminated, <= 16 bytes, static */
    atomic_int ready;  /* 1 once st holds hash_init(tag)'s state */
    hash_state st;
} hash_domain;
#define HASH_DOMAIN(tag_) {.tag = (tag_), .ready = 0}

/* hash_init(st, d->tag), by copying the prepared state. */
void hash_start(hash_state *st, hash_domain *d);
/* hash_tagged and hash_pair in a prepared domain: the same bytes. */
void hash_tagged_dom(uint8_t out[UTXO_HASH_BYTES], hash_domain *d, const void *p, size_t n);
void hash_pair_dom(uint8_t out[UTXO_HASH_BYTES], hash_domain *d,
                   const uint8_t a[UTXO_HASH_BYTES], const uint8_t b[UTXO_HASH_BYTES]);

/* ---- writer ----------------------------------------------------------- */
typedef struct enc {
    uint8_t *buf;     /* may be NULL: count (and/or hash) only */
    size_t cap;
    size_t len;       /* bytes produced so far (even past cap) */
    hash_state *hs;   /* may be NULL */
} enc;

static inline void enc_init(enc *e, uint8_t *buf, size_t cap, hash_state *hs)
{
    e->buf = buf;
    e->cap = cap;
    e->len = 0;
    e->hs = hs;
}
/* True when every byte produced fitted in buf. */
static inline bool enc_ok(const enc *e) { return e->buf == NULL || e->len <= e->cap; }

/*
 * The two halves of every public _get_length / _to_bytes pair, over one
 * field encoder fn (a typed encoder wrapped to take const void *):
 * enc_length is the encoded size of obj (0 when obj is NULL); enc_to_bytes
 * writes obj into the caller's out[0..out_len) and sets *written (may be
 * NULL; 0 on failure) — UTXO_ERR_ARG when obj or out is NULL or out_len is
 * too small.
 */
typedef void (*enc_object_fn)(enc *e, const void *obj);
size_t enc_length(enc_object_fn fn, const void *obj);
int enc_to_bytes(enc_object_fn fn, const void *obj, uint8_t *out, size_t out_len,
                 size_t *written);
/* obj encoded by fn into a new buffer (*out, free it; *len its length) in
 * one pass when it fits `hint` bytes, else two: UTXO_OK, UTXO_ERR_NOMEM,
 * or UTXO_ERR_INTERNAL when fn gives two lengths for one object. */
int enc_to_new(enc_object_fn fn, const void *obj, size_t hint, uint8_t **out, size_t *len);
/* out = utxo_hash under tag of obj's encoding by fn (never materialised). */
void enc_hash(uint8_t out[UTXO_HASH_BYTES], const char *tag, enc_object_fn fn, const void *obj);
/* enc_hash in a prepared domain (the same bytes). */
void enc_hash_dom(uint8_t out[UTXO_HASH_BYTES], hash_domain *d, enc_object_fn fn,
                  const void *obj);

void enc_bytes(enc *e, const void *p, size_t n);
void enc_u8(enc *e, uint8_t v);
void enc_u16(enc *e, uint16_t v);
void enc_u32(enc *e, uint32_t v);
void enc_u64(enc *e, uint64_t v);
void enc_varint(enc *e, uint64_t v);
/* varint length, then the bytes */
void enc_blob(enc *e, const void *p, size_t n);
size_t varint_len(uint64_t v);

/* ---- reader ----------------------------------------------------------- */
typedef struct dec {
    const uint8_t *p;
    size_t len;
    size_t off;
    int err;          /* UTXO_OK until the first failure */
    size_t err_off;   /* offset of the first failure */
} dec;

static inline void dec_init(dec *d, const uint8_t *p, size_t len)
{
    d->p = p;
    d->len = len;
    d->off = 0;
    d->err = UTXO_OK;
    d->err_off = 0;
}
/* Records err at offset off unless an error is already recorded. */
void dec_fail(dec *d, int err, size_t off);
static inline size_t dec_left(const dec *d) { return d->err ? 0 : d->len - d->off; }

/* Each returns 0 (or fills zeros) after an error. */
uint8_t dec_u8(dec *d);
uint16_t dec_u16(dec *d);
uint32_t dec_u32(dec *d);
uint64_t dec_u64(dec *d);
void dec_bytes(dec *d, void *out, size_t n);
/* A pointer to the next n bytes inside the input (no copy), or NULL. */
const uint8_t *dec_view(dec *d, size_t n);
/* A minimal varint of at most max; above max: UTXO_ERR_TOO_LARGE at its offset. */
uint64_t dec_varint(dec *d, uint64_t max);
/* Fails with UTXO_ERR_TRAILING unless every byte was consumed. */
void dec_end(dec *d);
/* Returns d->err and stores d->err_off into *err_offset when non-NULL. */
int dec_result(const dec *d, size_t *err_offset);

/* ---- little-endian helpers ------------------------------------------- */
static inline void put_u32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline uint32_t get_u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void put_u64le(uint8_t *p, uint64_t v)
{
    put_u32le(p, (uint32_t)v);
    put_u32le(p + 4, (uint32_t)(v >> 32));
}
static inline uint64_t get_u64le(const uint8_t *p)
{
    return (uint64_t)get_u32le(p) | (uint64_t)get_u32le(p + 4) << 32;
}

#endif /* UTXO_SRC_CODEC_H */
