/*
 * test_image.c — canonical predicate images and ELF conversion
 * (src/predicates/image.c): encode/decode round trips, the worked example
 * of docs/PREDICATES.md byte for byte, rejection of every truncation and of
 * each broken layout rule, and an ELF32 writer in the test that produces
 * valid and hostile executables for img_from_elf.
 */
#include "config.h"

#include "testutil.h"
#include "utxo/abi.h"
#include "utxo/codec.h"
#include "predicates/image.h"

/* ---- canonical images ------------------------------------------------------ */

/* The worked example of docs/PREDICATES.md: entry 0x20000, one code segment
 * (li a0, 0; li a7, 0; ecall) and a 4-byte parameter segment. */
static const char *const EXAMPLE_HEX =
    "55545850" "01" "02" "00000200"
    "00000100" "04000000"
    "00000200" "0c000000"
    "deadbeef"
    "13050000" "93080000" "73000000";

static uint8_t *example(size_t *len)
{
    static const uint8_t code[12] = {0x13, 0x05, 0x00, 0x00, 0x93, 0x08, 0x00, 0x00, 0x73, 0x00, 0x00, 0x00};
    static const uint8_t params[4] = {0xde, 0xad, 0xbe, 0xef};
    vm_segment segs[2] = {{0x20000, sizeof code, code}, {0x10000, sizeof params, params}};
    uint8_t *img;

    ck_assert_int_eq(img_encode(&img, len, 0x20000, segs, 2), UTXO_OK);
    return img;
}

START_TEST(worked_example)
{
    size_t len;
    uint8_t *img = example(&len);
    uint8_t id[32];
    img_view v;

    ck_assert_uint_eq(len, strlen(EXAMPLE_HEX) / 2);
    {
        char hex[2 * 64 + 1];
        to_hex(hex, img, len);
        ck_assert_str_eq(hex, EXAMPLE_HEX);
    }
    ck_assert_int_eq(utxo_image_validate(img, len, NULL), UTXO_OK);
    ck_assert_int_eq(img_view_decode(&v, img, len, NULL), UTXO_OK);
    ck_assert_uint_eq(v.entry, 0x20000);
    ck_assert_uint_eq(v.n_segs, 2);
    ck_assert_uint_eq(v.segs[0].vaddr, 0x10000); /* sorted by address */
    ck_assert_uint_eq(v.segs[1].len, 12);
    utxo_predicate_id(id, img, len);
    {
        uint8_t want[32];
        hash_tagged(want, "utxo.predicate", img, len);
        ck_assert_mem_eq(id, want, 32);
    }
    ck_assert_hex_eq(id, 32, "9a30758fb16d76d03c71b6221a9e1f8e345664e739ffdf36b8ee233c9856cd10");
    free(img);
}
END_TEST

START_TEST(every_truncation_and_extension_fails)
{
    size_t len, off;
    uint8_t *img = example(&len), *big = malloc(len + 1);

    for (size_t n = 0; n < len; n++)
        ck_assert_int_ne(utxo_image_validate(img, n, &off), UTXO_OK);
    memcpy(big, img, len);
    big[len] = 0;
    ck_assert_int_eq(utxo_image_validate(big, len + 1, &off), UTXO_ERR_TRAILING);
    ck_assert_uint_eq(off, len);
    free(big);
    free(img);
}
END_TEST

/* Patches a copy of the example and expects err at offset. */
static void expect_bad(size_t at, uint8_t byte, int err, size_t err_at)
{
    size_t len, off = 999;
    uint8_t *img = example(&len);

    img[at] = byte;
    ck_assert_int_eq(utxo_image_validate(img, len, &off), err);
    ck_assert_uint_eq(off, err_at);
    free(img);
}

START_TEST(broken_rules)
{
    /* layout: 0 magic, 4 version, 5 count, 6 entry, 10 seg0 (vaddr, len),
     * 18 seg1 (vaddr, len), 26 params data (4), 30 code (12); 42 bytes */
    expect_bad(0, 'X', UTXO_ERR_VERSION, 0);           /* magic */
    expect_bad(4, 2, UTXO_ERR_VERSION, 4);             /* version */
    expect_bad(5, 0, UTXO_ERR_IMAGE, 5);               /* no segment */
    expect_bad(5, 17, UTXO_ERR_IMAGE, 5);              /* too many */
    expect_bad(5, 3, UTXO_ERR_TRUNCATED, 42);          /* a third entry eats the data */
    expect_bad(6, 2, UTXO_ERR_IMAGE, 6);               /* entry misaligned */
    expect_bad(8, 3, UTXO_ERR_IMAGE, 6);               /* entry outside every segment */
    expect_bad(12, 0, UTXO_ERR_IMAGE, 10);             /* seg0 at 0: null guard */
    expect_bad(14, 0, UTXO_ERR_IMAGE, 10);             /* seg0 empty */
    expect_bad(12, 2, UTXO_ERR_IMAGE, 18);             /* seg0 at 0x20000: seg1 overlaps */
    expect_bad(12, 3, UTXO_ERR_IMAGE, 18);             /* seg0 above seg1: order */
    expect_bad(21, 0x10, UTXO_ERR_IMAGE, 18);          /* seg1 past the image region */
    expect_bad(21, 0xff, UTXO_ERR_IMAGE, 18);          /* seg1 would wrap */
    expect_bad(25, 0x80, UTXO_ERR_IMAGE, 18);          /* seg1 huge */
    expect_bad(22, 0x0d, UTXO_ERR_TRUNCATED, 42);      /* len 13: data runs out */
    expect_bad(22, 0x0b, UTXO_ERR_TRAILING, 41);       /* len 11: a byte left */
}
END_TEST

START_TEST(encode_rules)
{
    static const uint8_t a[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    vm_segment s[UTXO_IMAGE_MAX_SEGMENTS + 1];
    uint8_t *img;
    size_t len;

    for (unsigned i = 0; i <= UTXO_IMAGE_MAX_SEGMENTS; i++) {
        s[i].vaddr = 0x20000 + 0x100 * i;
        s[i].len = 8;
        s[i].data = a;
    }
    ck_assert_int_eq(img_encode(&img, &len, 0x20000, s, UTXO_IMAGE_MAX_SEGMENTS), UTXO_OK);
    free(img);
    ck_assert_int_eq(img_encode(&img, &len, 0x20000, s, UTXO_IMAGE_MAX_SEGMENTS + 1), UTXO_ERR_IMAGE);
    ck_assert_ptr_null(img);
    /* touching segments are allowed, overlapping ones are not */
    s[1].vaddr = 0x20008;
    ck_assert_int_eq(img_encode(&img, &len, 0x20000, s, 2), UTXO_OK);
    free(img);
    s[1].vaddr = 0x20007;
    ck_assert_int_eq(img_encode(&img, &len, 0x20000, s, 2), UTXO_ERR_IMAGE);
    /* empty segment; entry whose instruction crosses the segment end */
    s[1].vaddr = 0x30000;
    s[1].len = 0;
    ck_assert_int_eq(img_encode(&img, &len, 0x20000, s, 2), UTXO_ERR_IMAGE);
    ck_assert_int_eq(img_encode(&img, &len, 0x20008, s, 1), UTXO_ERR_IMAGE);
    ck_assert_int_eq(img_encode(&img, &len, 0x20004, s, 1), UTXO_OK);
    free(img);
    /* the image region's end */
    s[0].vaddr = UTXO_ABI_IMAGE_END - 8;
    ck_assert_int_eq(img_encode(&img, &len, UTXO_ABI_IMAGE_END - 8, s, 1), UTXO_OK);
    free(img);
    s[0].vaddr = UTXO_ABI_IMAGE_END - 7;
    ck_assert_int_eq(img_encode(&img, &len, UTXO_ABI_IMAGE_END - 4, s, 1), UTXO_ERR_IMAGE);
    s[0].vaddr = 0xfffffffcu; /* would wrap */
    ck_assert_int_eq(img_encode(&img, &len, 0xfffffffcu, s, 1), UTXO_ERR_IMAGE);
}
END_TEST

START_TEST(decode_owned_copy)
{
    size_t len;
    uint8_t *img = example(&len);
    vm_image im;

    ck_assert_int_eq(img_decode(&im, img, len, NULL), UTXO_OK);
    memset(img, 0, len); /* the decoded image does not point into the input */
    ck_assert_uint_eq(im.n_segs, 2);
    ck_assert_uint_eq(im.segs[1].data[8], 0x73);
    ck_assert_uint_eq(im.bytes_len, len);
    img_free(&im);
    img_free(&im); /* cleared: harmless */
    img_free(NULL);
    free(img);
}
END_TEST

START_TEST(random_bytes_never_crash)
{
    uint64_t seed = 7;
    uint8_t buf[256];
    size_t len;
    uint8_t *good = example(&len);

    for (int i = 0; i < 20000; i++) {
        size_t n = rng_below(&seed, sizeof buf);
        rng_fill(&seed, buf, n);
        if (i % 2 && n >= len) { /* mutate a valid image instead */
            memcpy(buf, good, len);
            buf[rng_below(&seed, (uint32_t)len)] ^= (uint8_t)(1 + rng_below(&seed, 255));
            n = len;
        }
        img_view v;
        if (img_view_decode(&v, buf, n, NULL) == UTXO_OK) {
            uint8_t *re;
            size_t rl;
            ck_assert_int_eq(img_encode(&re, &rl, v.entry, v.segs, v.n_segs), UTXO_OK);
            ck_assert_uint_eq(rl, n);
            ck_assert_mem_eq(re, buf, n); /* one encoding per value */
            free(re);
        }
    }
    free(good);
}
END_TEST

/* ---- ELF ------------------------------------------------------------------------ */

typedef struct elf_seg {
    uint32_t type, vaddr, filesz, memsz;
    const uint8_t *data;
} elf_seg;

static void w16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }

/* A minimal ELF32 LE RISC-V executable: header, phdrs, then the data. */
static uint8_t *make_elf(size_t *len, uint32_t entry, const elf_seg *s, unsigned n)
{
    size_t off = 52 + 32 * n, total = off;
    uint8_t *e;

    for (unsigned i = 0; i < n; i++)
        total += s[i].filesz;
    e = calloc(1, total);
    ck_assert_ptr_nonnull(e);
    memcpy(e, "\x7f" "ELF\x01\x01\x01", 7);
    w16(e + 16, 2);   /* ET_EXEC */
    w16(e + 18, 243); /* EM_RISCV */
    put_u32le(e + 20, 1);
    put_u32le(e + 24, entry);
    put_u32le(e + 28, 52);
    w16(e + 40, 52);
    w16(e + 42, 32);
    w16(e + 44, (uint16_t)n);
    for (unsigned i = 0; i < n; i++) {
        uint8_t *ph = e + 52 + 32 * i;
        put_u32le(ph, s[i].type);
        put_u32le(ph + 4, (uint32_t)off);
        put_u32le(ph + 8, s[i].vaddr);
        put_u32le(ph + 12, s[i].vaddr);
        put_u32le(ph + 16, s[i].filesz);
        put_u32le(ph + 20, s[i].memsz);
        put_u32le(ph + 24, 7);
        put_u32le(ph + 28, 4);
        if (s[i].filesz)
            memcpy(e + off, s[i].data, s[i].filesz);
        off += s[i].filesz;
    }
    *len = total;
    return e;
}

static const uint8_t CODE[16] = {0x13, 0x05, 0x00, 0x00, 0x93, 0x08, 0x00, 0x00, 0x73, 0x00, 0x00, 0x00, 0, 0, 0, 0};
static const uint8_t DATA[8] = {9, 8, 7, 0, 0, 0, 0, 0};

static uint8_t *good_elf(size_t *len)
{
    elf_seg s[3] = {{1, 0x20000, 16, 16, CODE}, {0x6474e551, 0, 0, 0, NULL}, {1, 0x30000, 8, 0x1000, DATA}};
    return make_elf(len, 0x20000, s, 3);
}

START_TEST(elf_to_image)
{
    size_t elen, ilen;
    uint8_t *elf = good_elf(&elen), *img;
    img_view v;
    utxo_vm_result r;

    ck_assert_int_eq(utxo_image_from_elf(&img, &ilen, elf, elen, NULL), UTXO_OK);
    ck_assert_int_eq(img_view_decode(&v, img, ilen, NULL), UTXO_OK);
    ck_assert_uint_eq(v.entry, 0x20000);
    ck_assert_uint_eq(v.n_segs, 2);
    ck_assert_uint_eq(v.segs[0].len, 12); /* trailing zero words dropped */
    ck_assert_uint_eq(v.segs[1].len, 4);  /* 9 8 7 0 | 0 0 0 0 */
    ck_assert_mem_eq(v.segs[1].data, DATA, 4);
    /* and it runs: li a0, 0; li a7, 0; ecall -> accept */
    ck_assert_int_eq(utxo_predicate_run(&r, img, ilen, NULL, 0, NULL, 1000), UTXO_OK);
    ck_assert_int_eq(r.status, UTXO_VM_ACCEPTED);
    ck_assert_uint_eq(r.cycles, 3 + UTXO_COST_HOSTCALL);
    free(img);
    /* every truncation fails cleanly */
    for (size_t n = 0; n < elen; n++) {
        ck_assert_int_ne(utxo_image_from_elf(&img, &ilen, elf, n, NULL), UTXO_OK);
        ck_assert_ptr_null(img);
    }
    free(elf);
}
END_TEST

/* Patches a u8/u16/u32 of the good ELF and expects refusal. */
static void elf_bad(size_t at, unsigned width, uint32_t val, int err)
{
    size_t elen, ilen, off;
    uint8_t *elf = good_elf(&elen), *img;

    if (width == 1)
        elf[at] = (uint8_t)val;
    else if (width == 2)
        w16(elf + at, (uint16_t)val);
    else
        put_u32le(elf + at, val);
    ck_assert_int_eq(utxo_image_from_elf(&img, &ilen, elf, elen, &off), err);
    ck_assert_ptr_null(img);
    free(elf);
}

START_TEST(elf_hostile)
{
    elf_bad(0, 1, 0x7e, UTXO_ERR_ELF);         /* magic */
    elf_bad(4, 1, 2, UTXO_ERR_ELF);            /* ELFCLASS64 */
    elf_bad(5, 1, 2, UTXO_ERR_ELF);            /* big-endian */
    elf_bad(16, 2, 3, UTXO_ERR_ELF);           /* ET_DYN */
    elf_bad(18, 2, 62, UTXO_ERR_ELF);          /* x86-64 */
    elf_bad(36, 4, 1, UTXO_ERR_ELF);           /* RVC */
    elf_bad(36, 4, 4, UTXO_ERR_ELF);           /* double-float ABI */
    elf_bad(36, 4, 8, UTXO_ERR_ELF);           /* RVE */
    elf_bad(42, 2, 56, UTXO_ERR_ELF);          /* phentsize */
    elf_bad(44, 2, 0, UTXO_ERR_ELF);           /* no phdrs */
    elf_bad(44, 2, 65535, UTXO_ERR_ELF);       /* too many */
    elf_bad(44, 2, 40, UTXO_ERR_TRUNCATED);    /* phdrs past the file */
    elf_bad(28, 4, 0xfffffff0u, UTXO_ERR_TRUNCATED); /* phoff wraps */
    elf_bad(52 + 4, 4, 0xffffffffu, UTXO_ERR_TRUNCATED); /* p_offset wraps */
    elf_bad(52 + 4, 4, 200, UTXO_ERR_TRUNCATED);         /* data past the end of the file */
    elf_bad(52 + 16, 4, 17, UTXO_ERR_ELF);               /* filesz > memsz */
    elf_bad(52 + 64 + 20, 4, 0, UTXO_ERR_ELF);           /* memsz 0 under 8 file bytes */
    elf_bad(52 + 8, 4, 0x8000, UTXO_ERR_IMAGE);          /* below the image region */
    elf_bad(52 + 8, 4, 0x0ffffff8u, UTXO_ERR_IMAGE);     /* memsz runs past the region end */
    elf_bad(52 + 64 + 8, 4, 0x20008, UTXO_ERR_IMAGE);    /* overlaps the code */
    elf_bad(52 + 64 + 20, 4, 0xfffffff0u, UTXO_ERR_IMAGE); /* memsz wraps */
    elf_bad(52 + 32, 4, 3, UTXO_ERR_ELF);                /* PT_INTERP */
    elf_bad(52 + 32, 4, 2, UTXO_ERR_ELF);                /* PT_DYNAMIC */
    elf_bad(52 + 32, 4, 7, UTXO_ERR_ELF);                /* PT_TLS */
    elf_bad(24, 4, 0x20002, UTXO_ERR_IMAGE);               /* entry misaligned */
    elf_bad(24, 4, 0x20010, UTXO_ERR_IMAGE);               /* entry in the dropped zeros */
    elf_bad(24, 4, 0x40000, UTXO_ERR_IMAGE);               /* entry outside */
}
END_TEST

/* A segment that starts off a word boundary: the words dropped as zero are
 * aligned by address, so the entry's instruction (ecall, 73 00 00 00: three
 * zero bytes) at the end of the file bytes is kept. */
START_TEST(elf_unaligned_segment)
{
    static const uint8_t code[6] = {0xaa, 0xbb, 0x73, 0x00, 0x00, 0x00};
    elf_seg s[1] = {{1, 0x20002, sizeof code, sizeof code, code}};
    size_t elen, ilen;
    uint8_t *elf = make_elf(&elen, 0x20004, s, 1), *img;
    img_view v;
    utxo_vm_result r;

    ck_assert_int_eq(utxo_image_from_elf(&img, &ilen, elf, elen, NULL), UTXO_OK);
    ck_assert_int_eq(img_view_decode(&v, img, ilen, NULL), UTXO_OK);
    ck_assert_uint_eq(v.n_segs, 1);
    ck_assert_uint_eq(v.segs[0].vaddr, 0x20002);
    ck_assert_uint_eq(v.segs[0].len, 6);
    ck_assert_int_eq(utxo_predicate_run(&r, img, ilen, NULL, 0, NULL, 1000), UTXO_OK);
    ck_assert_int_eq(r.status, UTXO_VM_ACCEPTED); /* a0 = 0 args, a7 = 0: HALT(0) */
    free(img);
    free(elf);
}
END_TEST

START_TEST(elf_random_mutations)
{
    size_t elen, ilen;
    uint8_t *elf = good_elf(&elen), *copy = malloc(elen), *img;
    uint64_t seed = 99;

    for (int i = 0; i < 20000; i++) {
        memcpy(copy, elf, elen);
        for (int k = 0; k < 3; k++)
            copy[rng_below(&seed, (uint32_t)elen)] = (uint8_t)rng_next(&seed);
        if (utxo_image_from_elf(&img, &ilen, copy, elen, NULL) == UTXO_OK) {
            ck_assert_int_eq(utxo_image_validate(img, ilen, NULL), UTXO_OK);
            free(img);
        } else {
            ck_assert_ptr_null(img);
        }
    }
    free(copy);
    free(elf);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("image");
    TCase *t = tcase_create("image");

    tcase_set_timeout(t, 60);
    tcase_add_test(t, worked_example);
    tcase_add_test(t, every_truncation_and_extension_fails);
    tcase_add_test(t, broken_rules);
    tcase_add_test(t, encode_rules);
    tcase_add_test(t, decode_owned_copy);
    tcase_add_test(t, random_bytes_never_crash);
    tcase_add_test(t, elf_to_image);
    tcase_add_test(t, elf_hostile);
    tcase_add_test(t, elf_unaligned_segment);
    tcase_add_test(t, elf_random_mutations);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
