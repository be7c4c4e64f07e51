/*
 * image.h — canonical predicate images (internal side).
 *
 * A predicate image is an entry pc plus up to UTXO_IMAGE_MAX_SEGMENTS loaded
 * segments, in one canonical byte string (the format table is in
 * docs/PREDICATES.md and at the top of image.c). The predicate id is the
 * BLAKE2b-256 of those bytes under the tag "utxo.predicate". This module
 * decodes images strictly, encodes them, turns an ELF32 RISC-V executable
 * into one, and splits an image into its code part and its parameter
 * segment (the part at UTXO_ABI_PARAMS_BASE) so that instances of one
 * standard template share their decoded code.
 */
#ifndef UTXO_SRC_IMAGE_H
#define UTXO_SRC_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include "predicates/vm.h"

#define TAG_PREDICATE "utxo.predicate" /* predicate id */
#define TAG_CODE "utxo.code"           /* image without its parameter segment */

#define IMG_MAGIC "UTXP"
#define IMG_VERSION 1u
#define IMG_HEADER_BYTES 10u /* magic 4, version 1, count 1, entry 4 */
#define IMG_SEGHDR_BYTES 8u  /* vaddr 4, len 4 */

/* A decoded image that borrows its bytes from the caller (no allocation). */
typedef struct img_view {
    uint32_t entry;
    uint32_t n_segs;
    vm_segment segs[UTXO_IMAGE_MAX_SEGMENTS];
} img_view;

/* Why an image or ELF file was refused: a fixed English sentence (static
 * storage) and the segment (image table entry, or ELF program header) at
 * fault, or -1 when the fault is not in one segment. */
typedef struct img_why {
    const char *what;
    int segment;
} img_why;

/*
 * Decodes and checks bytes[0..len) (see image.c for every rule) into *v,
 * whose segment data point into bytes. Returns UTXO_OK or an error code;
 * *err_off (may be NULL) receives the offset of the offending byte.
 */
int img_view_decode(img_view *v, const uint8_t *bytes, size_t len, size_t *err_off);
/* The same, saying why in *why (may be NULL) on failure. */
int img_view_decode_why(img_view *v, const uint8_t *bytes, size_t len, size_t *err_off,
                        img_why *why);

/*
 * Encodes entry + segs (n of them, any order; copied) canonically into a new
 * buffer (*out, free()). The result is checked with img_view_decode, so an
 * invalid layout is refused with that error code.
 */
int img_encode(uint8_t **out, size_t *out_len, uint32_t entry, const vm_segment *segs, uint32_t n);

/* The predicate id of image bytes. */
void img_id(uint8_t out[UTXO_HASH_BYTES], const uint8_t *bytes, size_t len);

/*
 * The code id of a decoded image: a hash of the entry and of every segment
 * except the parameter segment (the one that starts at UTXO_ABI_PARAMS_BASE),
 * which is returned in *params (NULL when there is none). Two instances of
 * one template have the same code id.
 */
void img_code_id(uint8_t out[UTXO_HASH_BYTES], const img_view *v, const vm_segment **params);

/*
 * Builds the owned vm_image (copy of bytes, id, segments into the copy) from
 * image bytes. Free with img_free. *err_off as for img_view_decode.
 */
int img_decode(vm_image *out, const uint8_t *bytes, size_t len, size_t *err_off);
/* Releases what img_decode allocated and zeroes *im; NULL is a no-op. */
void img_free(vm_image *im);

/*
 * Converts an ELF32 little-endian RISC-V executable into a canonical image
 * (*out, free()). Every offset and size is checked against the file; a
 * non-RV32, non-executable, compressed-ISA, float-ABI, dynamic or TLS file,
 * overlapping or out-of-region PT_LOAD segments are refused. Trailing
 * all-zero 4-byte words (aligned by address) of each segment are dropped
 * (memory is demand-zero),
 * so .bss and padding cost nothing. *err_off receives the file offset of the offending field.
 */
int img_from_elf(uint8_t **out, size_t *out_len, const uint8_t *elf, size_t len, size_t *err_off);
/* The same, saying why in *why (may be NULL) on failure. */
int img_from_elf_why(uint8_t **out, size_t *out_len, const uint8_t *elf, size_t len,
                     size_t *err_off, img_why *why);

#endif /* UTXO_SRC_IMAGE_H */
