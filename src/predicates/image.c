/*
 * image.c — the canonical predicate image: strict decoding, encoding, ids,
 * and conversion from an ELF32 RISC-V executable.
 *
 * Format (all integers little-endian; docs/PREDICATES.md has a worked
 * example):
 *
 *   offset      size  meaning
 *   0           4     magic "UTXP" (55 54 58 50)
 *   4           1     version, 1
 *   5           1     n, segment count, 1..UTXO_IMAGE_MAX_SEGMENTS
 *   6           4     entry pc
 *   10          8*n   segment table: vaddr u32, len u32 per segment
 *   10+8n       sum   the segments' bytes, in table order
 *
 * Rules (each failure names the byte that broke it): the total is exactly
 * 10 + 8n + sum(len) and at most UTXO_IMAGE_MAX_BYTES; every len >= 1; every
 * segment lies in [UTXO_ABI_IMAGE_BASE, UTXO_ABI_IMAGE_END); segments are in
 * increasing address order and do not overlap (they may touch); the entry is
 * 4-byte aligned and its whole instruction lies inside one segment. With
 * fixed-width fields and these rules each (entry, segments) value has exactly
 * one encoding, so the id is a function of the program alone.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "utxo/abi.h"
#include "utxo/codec.h"
#include "predicates/image.h"

/* ---- canonical image -------------------------------------------------- */

/* Records why decoding failed (why may be NULL): a fixed sentence and the
 * segment (table entry) at fault, or -1. */
static void why_set(img_why *why, const char *what, int segment)
{
    if (why) {
        why->what = what;
        why->segment = segment;
    }
}

int img_view_decode(img_view *v, const uint8_t *bytes, size_t len, size_t *err_off)
{
    return img_view_decode_why(v, bytes, len, err_off, NULL);
}

int img_view_decode_why(img_view *v, const uint8_t *bytes, size_t len, size_t *err_off,
                        img_why *why)
{
    size_t off, data_off, total;
    uint32_t n, i;
    bool entry_ok = false;

    memset(v, 0, sizeof *v);
    why_set(why, NULL, -1);
    if (err_off)
        *err_off = 0;
    if (bytes == NULL && len > 0)
        return UTXO_ERR_ARG;
    if (len > UTXO_IMAGE_MAX_BYTES) {
        why_set(why, "larger than the largest image (1 MiB)", -1);
        off = UTXO_IMAGE_MAX_BYTES;
        if (err_off)
            *err_off = off;
        return UTXO_ERR_TOO_LARGE;
    }
    if (len < IMG_HEADER_BYTES) {
        why_set(why, "shorter than the 10-byte header", -1);
        off = len;
        goto truncated;
    }
    if (memcmp(bytes, IMG_MAGIC, 4) != 0) {
        why_set(why, "no image magic \"UTXP\" (not a predicate image or ELF file)", -1);
        off = 0;
        goto bad_version;
    }
    if (bytes[4] != IMG_VERSION) {
        why_set(why, "unknown image version", -1);
        off = 4;
        goto bad_version;
    }
    n = bytes[5];
    if (n == 0 || n > UTXO_IMAGE_MAX_SEGMENTS) {
        why_set(why, "segment count is not 1..16", -1);
        off = 5;
        goto bad_layout;
    }
    v->entry = get_u32le(bytes + 6);
    data_off = IMG_HEADER_BYTES + (size_t)IMG_SEGHDR_BYTES * n;
    if (len < data_off) {
        why_set(why, "the segment table runs past the end of the image", -1);
        off = len;
        goto truncated;
    }
    total = data_off;
    for (i = 0; i < n; i++) {
        const uint8_t *h = bytes + IMG_HEADER_BYTES + (size_t)IMG_SEGHDR_BYTES * i;
        uint32_t va = get_u32le(h), sl = get_u32le(h + 4);

        off = (size_t)(h - bytes);
        if (sl == 0 || va < UTXO_ABI_IMAGE_BASE || (uint64_t)va + sl > UTXO_ABI_IMAGE_END) {
            why_set(why,
                    sl == 0                      ? "empty segment (length 0)"
                    : va < UTXO_ABI_IMAGE_BASE   ? "starts below 0x00010000, the lowest image address"
                                                 : "ends above 0x10000000, the end of image memory",
                    (int)i);
            goto bad_layout;
        }
        if (i > 0 && va < (uint64_t)v->segs[i - 1].vaddr + v->segs[i - 1].len) {
            why_set(why, "overlaps or comes before the previous segment (order by address)",
                    (int)i);
            goto bad_layout;
        }
        if (sl > len - total) { /* total <= len holds here */
            why_set(why, "its bytes run past the end of the image", (int)i);
            off = len;
            goto truncated;
        }
        v->segs[i].vaddr = va;
        v->segs[i].len = sl;
        v->segs[i].data = bytes + total;
        total += sl;
        if (v->entry % 4 == 0 && v->entry >= va && (uint64_t)v->entry + 4 <= (uint64_t)va + sl)
            entry_ok = true;
    }
    if (total != len) {
        why_set(why, "bytes after the last segment's data", -1);
        off = total;
        if (err_off)
            *err_off = off;
        memset(v, 0, sizeof *v);
        return UTXO_ERR_TRAILING;
    }
    if (!entry_ok) {
        why_set(why, "the entry point is not a 4-byte-aligned instruction inside a segment", -1);
        off = 6;
        goto bad_layout;
    }
    v->n_segs = n;
    return UTXO_OK;

truncated:
    if (err_off)
        *err_off = off;
    memset(v, 0, sizeof *v);
    return UTXO_ERR_TRUNCATED;
bad_version:
    if (err_off)
        *err_off = off;
    memset(v, 0, sizeof *v);
    return UTXO_ERR_VERSION;
bad_layout:
    if (err_off)
        *err_off = off;
    memset(v, 0, sizeof *v);
    return UTXO_ERR_IMAGE;
}

static int seg_cmp(const void *a, const void *b)
{
    const vm_segment *x = a, *y = b;

    return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

int img_encode(uint8_t **out, size_t *out_len, uint32_t entry, const vm_segment *segs, uint32_t n)
{
    vm_segment sorted[UTXO_IMAGE_MAX_SEGMENTS];
    uint64_t total;
    uint8_t *buf = NULL, *p;
    img_view check;
    int rc;

    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    if (out == NULL || out_len == NULL || (segs == NULL && n > 0))
        return UTXO_ERR_ARG;
    if (n == 0 || n > UTXO_IMAGE_MAX_SEGMENTS)
        return UTXO_ERR_IMAGE;
    memcpy(sorted, segs, sizeof *segs * n);
    qsort(sorted, n, sizeof *sorted, seg_cmp);
    total = IMG_HEADER_BYTES + (uint64_t)IMG_SEGHDR_BYTES * n;
    for (uint32_t i = 0; i < n; i++) {
        if (sorted[i].len > 0 && sorted[i].data == NULL)
            return UTXO_ERR_ARG;
        total += sorted[i].len;
    }
    if (total > UTXO_IMAGE_MAX_BYTES)
        return UTXO_ERR_TOO_LARGE;
    buf = malloc((size_t)total);
    if (buf == NULL)
        return UTXO_ERR_NOMEM;
    memcpy(buf, IMG_MAGIC, 4);
    buf[4] = IMG_VERSION;
    buf[5] = (uint8_t)n;
    put_u32le(buf + 6, entry);
    p = buf + IMG_HEADER_BYTES;
    for (uint32_t i = 0; i < n; i++, p += IMG_SEGHDR_BYTES) {
        put_u32le(p, sorted[i].vaddr);
        put_u32le(p + 4, sorted[i].len);
    }
    for (uint32_t i = 0; i < n; i++) {
        if (sorted[i].len > 0)
            memcpy(p, sorted[i].data, sorted[i].len);
        p += sorted[i].len;
    }
    rc = img_view_decode(&check, buf, (size_t)total, NULL);
    if (rc != UTXO_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    *out_len = (size_t)total;
    return UTXO_OK;
}

static hash_domain id_dom = HASH_DOMAIN(TAG_PREDICATE);
static hash_domain code_dom = HASH_DOMAIN(TAG_CODE);

void img_id(uint8_t out[UTXO_HASH_BYTES], const uint8_t *bytes, size_t len)
{
    hash_tagged_dom(out, &id_dom, bytes, len);
}

void img_code_id(uint8_t out[UTXO_HASH_BYTES], const img_view *v, const vm_segment **params)
{
    hash_state st;
    uint8_t w[8];

    if (params)
        *params = NULL;
    hash_start(&st, &code_dom);
    put_u32le(w, v->entry);
    hash_update(&st, w, 4);
    for (uint32_t i = 0; i < v->n_segs; i++) {
        if (v->segs[i].vaddr == UTXO_ABI_PARAMS_BASE) {
            if (params)
                *params = &v->segs[i];
            continue;
        }
        put_u32le(w, v->segs[i].vaddr);
        put_u32le(w + 4, v->segs[i].len);
        hash_update(&st, w, 8);
        hash_update(&st, v->segs[i].data, v->segs[i].len);
    }
    hash_final(&st, out);
}

int img_decode(vm_image *out, const uint8_t *bytes, size_t len, size_t *err_off)
{
    img_view v;
    int rc;

    if (out == NULL)
        return UTXO_ERR_ARG;
    memset(out, 0, sizeof *out);
    rc = img_view_decode(&v, bytes, len, err_off);
    if (rc != UTXO_OK)
        return rc;
    out->bytes = malloc(len);
    out->segs = calloc(v.n_segs, sizeof *out->segs);
    if (out->bytes == NULL || out->segs == NULL) {
        img_free(out);
        return UTXO_ERR_NOMEM;
    }
    memcpy(out->bytes, bytes, len);
    out->bytes_len = len;
    out->entry = v.entry;
    out->n_segs = v.n_segs;
    for (uint32_t i = 0; i < v.n_segs; i++) {
        out->segs[i].vaddr = v.segs[i].vaddr;
        out->segs[i].len = v.segs[i].len;
        out->segs[i].data = out->bytes + (v.segs[i].data - bytes);
    }
    img_id(out->id, bytes, len);
    return UTXO_OK;
}

void img_free(vm_image *im)
{
    if (im == NULL)
        return;
    free(im->segs);
    free(im->bytes);
    memset(im, 0, sizeof *im);
}

/* ---- ELF32 RISC-V -> image --------------------------------------------- */

#define ELF_EHDR_BYTES 52u
#define ELF_PHDR_BYTES 32u
#define ELF_MAX_PHDRS 64u
#define EM_RISCV 243u
#define ET_EXEC 2u
#define PT_LOAD 1u
#define PT_DYNAMIC 2u
#define PT_INTERP 3u
#define PT_SHLIB 5u
#define PT_TLS 7u
#define EF_RISCV_RVC 0x1u
#define EF_RISCV_FLOAT_ABI 0x6u
#define EF_RISCV_RVE 0x8u
#define EF_RISCV_TSO 0x10u

static uint16_t get_u16le(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

int img_from_elf(uint8_t **out, size_t *out_len, const uint8_t *elf, size_t len, size_t *err_off)
{
    return img_from_elf_why(out, out_len, elf, len, err_off, NULL);
}

int img_from_elf_why(uint8_t **out, size_t *out_len, const uint8_t *elf, size_t len,
                     size_t *err_off, img_why *why)
{
    vm_segment segs[UTXO_IMAGE_MAX_SEGMENTS];
    uint32_t lo[ELF_MAX_PHDRS], hi[ELF_MAX_PHDRS]; /* memory ranges of PT_LOADs */
    uint32_t n_load = 0, n = 0, entry, phoff, flags;
    uint16_t phnum, phentsize;
    size_t bad = 0;
    int rc = UTXO_ERR_ELF;

    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    if (err_off)
        *err_off = 0;
    why_set(why, NULL, -1);
    if (out == NULL || out_len == NULL || (elf == NULL && len > 0))
        return UTXO_ERR_ARG;
    if (len < ELF_EHDR_BYTES) {
        why_set(why, "shorter than the ELF header", -1);
        bad = len;
        rc = UTXO_ERR_TRUNCATED;
        goto fail;
    }
    /* e_ident: magic, ELFCLASS32, ELFDATA2LSB, EV_CURRENT */
    if (memcmp(elf, "\x7f" "ELF", 4) != 0 || elf[4] != 1 || elf[5] != 1 || elf[6] != 1) {
        bad = memcmp(elf, "\x7f" "ELF", 4) != 0 ? 0 : (elf[4] != 1 ? 4 : elf[5] != 1 ? 5 : 6);
        why_set(why, "not a 32-bit little-endian ELF file (e_ident)", -1);
        goto fail;
    }
    if (get_u16le(elf + 16) != ET_EXEC) {
        bad = 16;
        why_set(why, "not an executable (e_type is not ET_EXEC)", -1);
        goto fail;
    }
    if (get_u16le(elf + 18) != EM_RISCV) {
        bad = 18;
        why_set(why, "not a RISC-V file (e_machine)", -1);
        goto fail;
    }
    if (get_u32le(elf + 20) != 1) {
        bad = 20;
        why_set(why, "unknown ELF version (e_version)", -1);
        goto fail;
    }
    entry = get_u32le(elf + 24);
    phoff = get_u32le(elf + 28);
    flags = get_u32le(elf + 36);
    if ((flags & ~EF_RISCV_TSO) != 0) { /* RVC, hard-float ABIs, RVE, unknown bits */
        bad = 36;
        why_set(why, "compressed, floating-point or RVE code (e_flags): RV32IM only", -1);
        goto fail;
    }
    phentsize = get_u16le(elf + 42);
    phnum = get_u16le(elf + 44);
    if (phentsize != ELF_PHDR_BYTES) {
        bad = 42;
        why_set(why, "program header size is not 32 (e_phentsize)", -1);
        goto fail;
    }
    if (phnum == 0 || phnum > ELF_MAX_PHDRS) {
        bad = 44;
        why_set(why, "no program headers, or too many (e_phnum)", -1);
        goto fail;
    }
    if ((uint64_t)phoff + (uint64_t)phnum * ELF_PHDR_BYTES > len) {
        bad = 28;
        why_set(why, "the program headers run past the end of the file", -1);
        rc = UTXO_ERR_TRUNCATED;
        goto fail;
    }
    for (uint32_t i = 0; i < phnum; i++) {
        const uint8_t *ph = elf + phoff + (size_t)i * ELF_PHDR_BYTES;
        uint32_t type = get_u32le(ph), foff = get_u32le(ph + 4), va = get_u32le(ph + 8);
        uint32_t filesz = get_u32le(ph + 16), memsz = get_u32le(ph + 20);

        bad = (size_t)(ph - elf);
        if (type == PT_DYNAMIC || type == PT_INTERP || type == PT_SHLIB || type == PT_TLS) {
            why_set(why, "dynamic linking or thread-local storage (link statically)", (int)i);
            goto fail;
        }
        if (type != PT_LOAD)
            continue; /* notes, GNU_STACK, RISCV_ATTRIBUTES ...: no effect on memory */
        /* checked before an empty one is skipped: file bytes that a
         * zero-size segment would silently drop are an error as well */
        if (filesz > memsz || (uint64_t)foff + filesz > len) {
            rc = filesz > memsz ? UTXO_ERR_ELF : UTXO_ERR_TRUNCATED;
            why_set(why,
                    filesz > memsz ? "file size exceeds memory size"
                                   : "its file bytes run past the end of the file",
                    (int)i);
            goto fail;
        }
        if (memsz == 0)
            continue;
        if (va < UTXO_ABI_IMAGE_BASE || (uint64_t)va + memsz > UTXO_ABI_IMAGE_END) {
            why_set(why, "outside image memory 0x00010000..0x10000000", (int)i);
            rc = UTXO_ERR_IMAGE;
            goto fail;
        }
        for (uint32_t j = 0; j < n_load; j++)
            if (va < hi[j] && lo[j] < va + memsz) {
                why_set(why, "overlaps another loadable segment", (int)i);
                rc = UTXO_ERR_IMAGE; /* overlapping segments */
                goto fail;
            }
        lo[n_load] = va;
        hi[n_load] = va + memsz;
        n_load++;
        /* Trailing zeros are demand-zero memory: drop the trailing
         * 4-byte-aligned words (by address, va + memsz cannot wrap here)
         * whose bytes in the segment are all zero, so an instruction is
         * never cut (a zero word is not an instruction), whatever the
         * segment's alignment. */
        while (filesz > 0) {
            uint32_t last = (va + filesz - 1) & ~3u; /* the last word's address */
            uint32_t w = last > va ? last - va : 0, k;
            for (k = w; k < filesz && elf[foff + k] == 0; k++)
                ;
            if (k < filesz)
                break;
            filesz = w;
        }
        if (filesz == 0)
            continue;
        if (n == UTXO_IMAGE_MAX_SEGMENTS) {
            why_set(why, "more than 16 loadable segments with data", (int)i);
            rc = UTXO_ERR_TOO_LARGE;
            goto fail;
        }
        segs[n].vaddr = va;
        segs[n].len = filesz;
        segs[n].data = elf + foff;
        n++;
    }
    if (n == 0) {
        why_set(why, "no loadable segment with data", -1);
        bad = 44;
        rc = UTXO_ERR_IMAGE;
        goto fail;
    }
    rc = img_encode(out, out_len, entry, segs, n);
    if (rc != UTXO_OK) {
        bool inside = false;
        for (uint32_t j = 0; j < n; j++)
            inside |= entry >= segs[j].vaddr && (uint64_t)entry + 4 <= (uint64_t)segs[j].vaddr +
                                                                        segs[j].len;
        why_set(why,
                entry % 4 ? "the entry point (e_entry) is not 4-byte aligned"
                : !inside ? "the entry point (e_entry) is not inside a segment's file bytes"
                          : "the segments do not make an image (too large?)",
                -1);
        bad = 24; /* the layout (usually the entry) does not make an image */
        goto fail;
    }
    return UTXO_OK;

fail:
    if (err_off)
        *err_off = bad;
    return rc;
}
