/*
 * fuzz_cli.c — libFuzzer target for the command line's text parsers in
 * tools/util.c (compiled into this target): whole numbers (amounts,
 * heights, budgets, counts: parse_u64 and the numeric option table
 * cli_next and cli_num), hex strings (hex_decode, parse_chain_id). Addresses are
 * the library's (utxo_address_decode, fuzz_wallet). Run:
 *   tests/fuzz/fuzz_cli tests/fuzz/corpus/cli
 *
 * The first byte selects; the rest is the text (NUL-terminated here):
 *   0  parse_u64: accepts exactly a non-empty run of digits whose value
 *      fits 64 bits, and that value printed back is the text without
 *      leading zeros;
 *   1  hex_decode: accepts exactly an even-length hex string, and encoding
 *      the bytes gives the text lowercased;
 *   2  parse_chain_id: accepts exactly 64 hex digits;
 *   3  cli_next/cli_num over NUL-separated words: an accepted option's value
 *      lies in its range, a refused one leaves it unset.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_u64(const char *s)
{
    uint64_t v = 0;
    char back[32];
    const char *t = s;
    size_t digits = strspn(s, "0123456789");
    bool ok = parse_u64(s, &v);

    if (ok && (digits == 0 || s[digits] != '\0'))
        abort();
    if (!ok && digits > 0 && s[digits] == '\0' && digits < 20)
        abort(); /* up to 19 digits always fit */
    if (!ok)
        return;
    while (t[0] == '0' && t[1] != '\0')
        t++;
    snprintf(back, sizeof back, "%" PRIu64, v);
    if (strcmp(back, t) != 0)
        abort();
}

static void check_hex(const char *s)
{
    uint8_t *b = NULL, *chain = NULL;
    size_t n = 0, len = strlen(s);
    bool all_hex = strspn(s, "0123456789abcdefABCDEF") == len;
    int rc = hex_decode(s, &b, &n);

    if ((rc == 0) != (all_hex && len % 2 == 0))
        abort();
    if (rc == 0) {
        char *back = malloc(2 * n + 1);
        if (back == NULL || n != len / 2)
            abort();
        hex_encode(back, b, n);
        for (size_t i = 0; i < len; i++) {
            char c = s[i] >= 'A' && s[i] <= 'F' ? (char)(s[i] - 'A' + 'a') : s[i];
            if (back[i] != c)
                abort();
        }
        free(back);
    }
    free(b);
    rc = parse_chain_id("fuzz_cli", s, &chain);
    if ((rc == 0) != (all_hex && len == 64) || (rc != 0 && chain != NULL))
        abort();
    free(chain);
}

static void no_help(FILE *f)
{
    (void)f;
}

static void check_opts(char *text, size_t len)
{
    char *argv[17];
    int argc = 1, c;
    uint64_t budget = 0, height = 0;
    num_opt opts[] = {
        {"--budget", &budget, 1, UINT64_C(1) << 32, false},
        {"--height", &height, 0, UINT32_MAX - 1u, false},
    };
    static const struct option longopts[] = {
        {"budget", required_argument, NULL, CLI_NUM},
        {"height", required_argument, NULL, CLI_NUM},
        CLI_HELP_OPTION,
        {NULL, 0, NULL, 0},
    };
    cli cl = CLI_INIT("fuzz", no_help, "", longopts);

    argv[0] = (char *)"fuzz";
    for (size_t i = 0; i < len && argc < 17; i += strlen(text + i) + 1)
        argv[argc++] = text + i;
    while ((c = cli_next(&cl, argc, argv)) != -1) {
        if (c == CLI_STOP || (c == CLI_NUM && !cli_num(&cl, opts, 2)))
            break;
    }
    if (opts[0].set && (budget < 1 || budget > (UINT64_C(1) << 32)))
        abort();
    if (opts[1].set && height > UINT32_MAX - 1u)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s;

    if (size == 0)
        return 0;
    if ((s = malloc(size)) == NULL)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    switch (data[0] % 4) {
    case 0: check_u64(s); break;
    case 1:
    case 2: check_hex(s); break;
    default: check_opts(s, size - 1); break;
    }
    free(s);
    return 0;
}
