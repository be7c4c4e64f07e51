/*
 * test_stdimg.c — the standard predicate images are reproducible: rebuild
 * each template from src/predicates/std/NAME.c with the configured RISC-V
 * toolchain and the same flags as `make stdpred-images` (passed in by
 * tests/local.mk), convert with img_from_elf, and require the bytes to equal
 * both the committed NAME.img and the copy compiled into the library.
 * Without clang/ld.lld the test is skipped (exit 77) and says so. The
 * reference toolchain is Debian 12 clang-14 14.0.6 + ld.lld-14: another
 * compiler version may legitimately produce other bytes, and then this test
 * fails on purpose (an id must not depend on who built it).
 *
 * Also the SDK linker script's data layout (check_data_page): a predicate
 * with initialised data and bss, built with the SDK flags, gets its code and
 * rodata in one compact segment and its data in a second one starting on a
 * fresh page, so its stores never patch a code page (vm_patched_pages stays
 * 0); the same objects linked the old way (-N, data right after the code)
 * do patch one, which shows the check can fail.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "utxo.h"
#include "utxo/abi.h"
#include "predicates/image.h"
#include "predicates/stdpred.h"
#include "predicates/vm.h"

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        *len = (size_t)n;
    }
    fclose(f);
    return buf;
}

static int run(const char *cmd)
{
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "FAIL: %s (status %d)\n", cmd, rc);
    return rc;
}

/* A predicate with a global counter (.data) and a table (.bss, over a
 * page): it accepts when its checksum equals the u32 argument. */
static const char data_src[] =
    "#include \"utxo_sdk.h\"\n"
    "static uint32_t seed = 12345;\n"
    "static uint32_t table[300];\n"
    "int predicate_main(const uint8_t *args, uint32_t len)\n"
    "{\n"
    "    uint32_t sum = 0;\n"
    "    for (uint32_t r = 0; r < 4; r++)\n"
    "        for (uint32_t i = 0; i < 300; i++) {\n"
    "            seed = seed * 1103515245u + 12345u;\n"
    "            table[i] += seed >> 16;\n"
    "            sum += table[i];\n"
    "        }\n"
    "    return len == 4 && sum == utxo_le32(args) ? 0 : 1;\n"
    "}\n";

/* The old layout, as a control: everything in one -N segment. */
static const char old_ld[] =
    "ENTRY(_start)\n"
    "SECTIONS\n"
    "{\n"
    "    . = 0x20000;\n"
    "    .text : { *(.text.start) *(.text .text.*) }\n"
    "    .rodata : { *(.rodata .rodata.* .srodata .srodata.*) }\n"
    "    .data : { *(.data .data.* .sdata .sdata.*) }\n"
    "    .bss : { *(.sbss .sbss.* .bss .bss.* COMMON) }\n"
    "    /DISCARD/ : { *(.comment) *(.note .note.*) *(.eh_frame .eh_frame_hdr) *(.riscv.attributes) }\n"
    "}\n";

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    int ok = f != NULL && fputs(text, f) >= 0;
    if (f != NULL && fclose(f) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

/* Converts dir/NAME.elf and runs it on a fresh machine (consensus page
 * cost). Fills the image's layout and the pages the run patched; 0 when
 * the run accepted. */
static int run_elf(const char *dir, const char *name, uint8_t args[4], img_view *layout,
                   size_t *img_len, uint32_t *patched)
{
    char path[1024];
    uint8_t *elf = NULL, *img = NULL;
    size_t elf_len;
    vm_image im = {0};
    vm_program *prog = NULL;
    vm *v = NULL;
    utxo_vm_result r;
    int rc = -1;

    snprintf(path, sizeof path, "%s/%s.elf", dir, name);
    if ((elf = slurp(path, &elf_len)) == NULL ||
        img_from_elf(&img, img_len, elf, elf_len, NULL) != UTXO_OK ||
        img_view_decode(layout, img, *img_len, NULL) != UTXO_OK ||
        img_decode(&im, img, *img_len, NULL) != UTXO_OK || vm_program_new(&prog, &im) != UTXO_OK ||
        (v = vm_new()) == NULL || vm_run(v, prog, args, 4, NULL, 1000000, &r) != UTXO_OK) {
        fprintf(stderr, "FAIL: %s: cannot convert or run\n", name);
        goto out;
    }
    *patched = vm_patched_pages(v);
    printf("     %-9s %4zu bytes  %u segment(s)  %s exit=%u cycles=%llu  patched code pages %u\n",
           name, *img_len, layout->n_segs, r.status == UTXO_VM_ACCEPTED ? "accepted" : "not accepted",
           r.exit_code, (unsigned long long)r.cycles, *patched);
    rc = r.status == UTXO_VM_ACCEPTED ? 0 : -1;
out:
    vm_free(v);
    vm_program_free(prog);
    img_free(&im);
    free(img);
    free(elf);
    return rc;
}

static int check_data_page(const char *dir)
{
    char cmd[4096], path[1024];
    uint32_t seed = 12345, table[300] = {0}, sum = 0, patched = 0, patched_old = 0;
    uint8_t args[4];
    img_view lay, lay_old;
    size_t len = 0, len_old = 0;
    int failures = 0;

    for (uint32_t r = 0; r < 4; r++)
        for (uint32_t i = 0; i < 300; i++) {
            seed = seed * 1103515245u + 12345u;
            table[i] += seed >> 16;
            sum += table[i];
        }
    for (int i = 0; i < 4; i++)
        args[i] = (uint8_t)(sum >> (8 * i));
    snprintf(path, sizeof path, "%s/data.c", dir);
    if (write_file(path, data_src) != 0)
        return 1;
    snprintf(path, sizeof path, "%s/old.ld", dir);
    if (write_file(path, old_ld) != 0)
        return 1;
    snprintf(cmd, sizeof cmd,
             "%s %s -c %s/data.c -o %s/data.o && %s %s %s/start.o %s/data.o -o %s/data.elf && "
             "%s -N --no-undefined -T %s/old.ld %s/start.o %s/data.o -o %s/data_old.elf",
             RV_CC, PRED_CFLAGS, dir, dir, RV_LD, PRED_LINKFLAGS, dir, dir, dir, RV_LD, dir, dir,
             dir, dir);
    if (run(cmd) != 0)
        return 1;
    if (run_elf(dir, "data", args, &lay, &len, &patched) != 0 ||
        run_elf(dir, "data_old", args, &lay_old, &len_old, &patched_old) != 0)
        return 1;
    /* SDK layout: code + rodata, then data on a page of its own, no padding */
    if (lay.n_segs != 2 || lay.segs[1].vaddr % UTXO_ABI_PAGE_BYTES != 0 ||
        (lay.segs[0].vaddr + lay.segs[0].len - 1) / UTXO_ABI_PAGE_BYTES >=
            lay.segs[1].vaddr / UTXO_ABI_PAGE_BYTES ||
        len > len_old + IMG_SEGHDR_BYTES + 4) {
        fprintf(stderr, "FAIL: SDK data layout: %u segments, image %zu bytes (old layout %zu)\n",
                lay.n_segs, len, len_old);
        failures++;
    }
    if (patched != 0) {
        fprintf(stderr, "FAIL: SDK layout: %u code pages patched by data stores\n", patched);
        failures++;
    }
    /* control: data right after the code shares its page */
    if (lay_old.n_segs != 1 || patched_old == 0) {
        fprintf(stderr, "FAIL: control: %u segments, %u pages patched\n", lay_old.n_segs,
                patched_old);
        failures++;
    }
    printf("%s data page: .data at 0x%x, code ends 0x%x\n", failures ? "FAIL" : "ok  ",
           lay.n_segs > 1 ? lay.segs[1].vaddr : 0, lay.segs[0].vaddr + lay.segs[0].len);
    return failures;
}

int main(void)
{
    char dir[] = "/tmp/utxo-stdimg-XXXXXX", cmd[4096], path[1024];
    char names[] = STDPRED_NAMES;
    int failures = 0, kind = 0;

    if (strcmp(RV_CC, "no") == 0 || strcmp(RV_LD, "no") == 0 || RV_CC[0] == '\0') {
        printf("SKIP: no RISC-V toolchain (configure found RV_CC=%s RV_LD=%s)\n", RV_CC, RV_LD);
        return 77;
    }
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 99;
    }
    snprintf(cmd, sizeof cmd, "%s %s -c %s/src/predicates/sdk/start.c -o %s/start.o", RV_CC, PRED_CFLAGS,
             SRCDIR, dir);
    if (run(cmd) != 0)
        return 1;
    for (char *name = strtok(names, " "); name; name = strtok(NULL, " "), kind++) {
        const stdpred_template *t = stdpred_get(kind);
        uint8_t *elf, *img, *committed;
        size_t elf_len, img_len, committed_len;

        if (t == NULL || strcmp(t->name, name) != 0) {
            fprintf(stderr, "FAIL: STDPRED_NAMES order differs from enum utxo_std_kind (the table of stdpred.c) at %s\n", name);
            return 1;
        }
        snprintf(cmd, sizeof cmd,
                 "%s %s -c %s/src/predicates/std/%s.c -o %s/%s.o && %s %s %s/start.o %s/%s.o -o %s/%s.elf",
                 RV_CC, PRED_CFLAGS, SRCDIR, name, dir, name, RV_LD, PRED_LINKFLAGS, dir, dir, name, dir,
                 name);
        if (run(cmd) != 0) {
            failures++;
            continue;
        }
        snprintf(path, sizeof path, "%s/%s.elf", dir, name);
        elf = slurp(path, &elf_len);
        snprintf(path, sizeof path, "%s/src/predicates/std/%s.img", SRCDIR, name);
        committed = slurp(path, &committed_len);
        if (elf == NULL || committed == NULL ||
            img_from_elf(&img, &img_len, elf, elf_len, NULL) != UTXO_OK) {
            fprintf(stderr, "FAIL: %s: cannot read or convert\n", name);
            failures++;
        } else {
            uint8_t id[UTXO_HASH_BYTES];
            bool same_file = img_len == committed_len && memcmp(img, committed, img_len) == 0;
            bool same_lib = img_len == t->image_len && memcmp(img, t->image, img_len) == 0;

            utxo_predicate_id(id, img, img_len);
            printf("%s %-9s %4zu bytes  template id ", same_file && same_lib ? "ok  " : "FAIL", name,
                   img_len);
            for (int i = 0; i < 32; i++)
                printf("%02x", id[i]);
            printf("%s%s\n", same_file ? "" : "  (differs from the committed .img)",
                   same_lib ? "" : "  (differs from std/templates.h)");
            failures += !(same_file && same_lib);
            free(img);
        }
        free(elf);
        free(committed);
    }
    failures += check_data_page(dir);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    (void)run(cmd);
    return failures == 0 ? 0 : 1;
}
