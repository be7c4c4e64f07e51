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
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "utxo.h"
#include "predicates/image.h"
#include "predicates/stdpred.h"

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
            fprintf(stderr, "FAIL: STDPRED_NAMES order differs from enum stdpred_kind at %s\n", name);
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
                   same_lib ? "" : "  (differs from std/templates.c)");
            failures += !(same_file && same_lib);
            free(img);
        }
        free(elf);
        free(committed);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    (void)run(cmd);
    return failures == 0 ? 0 : 1;
}
