/*
 * hostile.c — the helper of tests/hostile_files.sh: crafts hostile receipt
 * files from a real one, and runs a command reporting its peak resident
 * memory (getrusage of the child, so no `time` package is needed).
 *
 *   hostile rss FILE CMD ARG...       runs CMD; writes "rss=KIB exit=N" to FILE
 *   hostile absent SRC OUT            OUT: SRC's header with a witness of
 *                                     every page from 64 up, all absent, a
 *                                     proof of the right shape, all
 *                                     siblings empty: well formed, 16.5 MiB,
 *                                     4 million claimed pages
 *
 * Offsets: docs/CONTINUATIONS.md, "Segment receipt" (n at 199 + args).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEPTH 22u
#define NUM_PAGES (1u << DEPTH)
#define FIRST_PAGE 64u

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(FILE *f, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    fwrite(b, 4, 1, f);
}

/* Siblings of a multiproof of the sorted positions pos[0..n) (overwritten),
 * as the receipt format counts them: per level, a position whose pair is
 * not in the set needs one. */
static size_t siblings(uint32_t *pos, size_t n)
{
    size_t k = 0;
    for (unsigned l = 0; l < DEPTH; l++) {
        size_t m = 0;
        for (size_t i = 0; i < n;) {
            uint32_t cur = pos[i];
            if ((cur & 1u) == 0 && i + 1 < n && pos[i + 1] == cur + 1)
                i += 2;
            else {
                k++;
                i++;
            }
            pos[m++] = cur >> 1;
        }
        n = m;
    }
    return k;
}

static int craft_absent(const char *src, const char *out)
{
    uint8_t head[256 + (1u << 20)];
    FILE *in = fopen(src, "rb"), *f;
    size_t got, a, n = NUM_PAGES - FIRST_PAGE, k;
    uint32_t *pos;

    if (!in)
        return 2;
    got = fread(head, 1, sizeof head, in);
    fclose(in);
    if (got < 203)
        return 2;
    a = le32(head + 55);
    if (203 + a > got || head[6] != 0) /* a non-final receipt, whole header */
        return 2;
    if ((pos = malloc(n * sizeof *pos)) == NULL || (f = fopen(out, "wb")) == NULL)
        return 2;
    fwrite(head, 199 + a, 1, f);
    put32(f, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        pos[i] = FIRST_PAGE + (uint32_t)i;
        put32(f, pos[i]);
    }
    for (size_t i = 0; i < n / 8; i++)
        fputc(0, f); /* all absent (n is a multiple of 8) */
    k = siblings(pos, n);
    for (size_t i = 0; i < (k + 7) / 8; i++) {
        unsigned bits = i + 1 < (k + 7) / 8 || k % 8 == 0 ? 0xffu : (1u << (k % 8)) - 1u;
        fputc((int)bits, f); /* every sibling empty: no hashes */
    }
    for (int i = 0; i < 32; i++)
        fputc(0, f); /* post digest */
    free(pos);
    return fclose(f) == 0 ? 0 : 2;
}

static int rss(const char *report, char **argv)
{
    FILE *f;
    struct rusage ru;
    int status;
    pid_t pid = fork();

    if (pid < 0)
        return 2;
    if (pid == 0) {
        execvp(argv[0], argv);
        _exit(127);
    }
    if (wait4(pid, &status, 0, &ru) != pid)
        return 2;
    if ((f = fopen(report, "w")) == NULL)
        return 2;
    fprintf(f, "rss=%ld exit=%d\n", ru.ru_maxrss, WIFEXITED(status) ? WEXITSTATUS(status) : 128);
    return fclose(f) == 0 ? 0 : 2;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "rss") == 0)
        return rss(argv[2], argv + 3);
    if (argc == 4 && strcmp(argv[1], "absent") == 0)
        return craft_absent(argv[2], argv[3]);
    fprintf(stderr, "usage: hostile rss FILE CMD ARG... | hostile absent SRC OUT\n");
    return 2;
}
