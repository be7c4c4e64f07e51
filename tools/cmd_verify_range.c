/*
 * cmd_verify_range.c — `utxo verify --from-state FILE --range A:B BLOCKS
 * PROOFS -o RESULT`: one range of a history verified from a claimed start
 * state, its result file written (utxo/history.h, docs/RANGES.md). The
 * verification is the library's (utxo_range_verify); this file parses the
 * range, writes the result and reports.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "utxo.h"
#include "utxo/history.h"
#include "commands.h"
#include "util.h"

/* "A:B" with A < B, decimal, nothing else. */
static bool parse_range(const char *s, uint32_t *a, uint32_t *b)
{
    const char *colon = strchr(s, ':');
    char left[24];
    uint64_t x, y;
    size_t n;

    if (colon == NULL || (n = (size_t)(colon - s)) == 0 || n >= sizeof left)
        return false;
    memcpy(left, s, n);
    left[n] = '\0';
    if (!parse_u64(left, &x) || !parse_u64(colon + 1, &y) || x > UINT32_MAX || y > UINT32_MAX ||
        x >= y)
        return false;
    *a = (uint32_t)x;
    *b = (uint32_t)y;
    return true;
}

int verify_range(const char *state, const char *range, const char *blocks, const char *proofs,
                 const char *output, unsigned threads)
{
    utxo_range_result r;
    utxo_pipe_result res;
    char hex[2 * UTXO_HASH_BYTES + 1];
    uint32_t a, b;
    int rc;

    if (!parse_range(range, &a, &b))
        return usage_error("verify", "--range needs A:B with A < B (heights), not '%s'", range);
    rc = utxo_range_verify(state, a, b, blocks, proofs, threads, &r, &res);
    if (rc != UTXO_OK) {
        errorf("verify: range %u:%u: %s", a, b, res.reason);
        return EXIT_USAGE;
    }
    if ((rc = utxo_range_result_write(&r, output)) != UTXO_OK) {
        errorf("verify: cannot write %s: %s", output,
               rc == UTXO_ERR_IO ? strerror(errno) : utxo_strerror(rc));
        return EXIT_USAGE;
    }
    hex_encode(hex, r.end_digest, UTXO_HASH_BYTES);
    if (r.verdict != 0) {
        printf("range %u:%u invalid at height %u: %s (%s)\n", a, b, r.fail_height,
               utxo_strerror((int)r.verdict), r.reason);
        printf("  %llu blocks valid before it; result in %s\n", (unsigned long long)r.blocks,
               output);
        return EXIT_INVALID;
    }
    printf("range %u:%u valid: %llu blocks, %llu txs, %llu inputs, %llu cycles\n", a, b,
           (unsigned long long)r.blocks, (unsigned long long)r.txs,
           (unsigned long long)r.inputs, (unsigned long long)r.cycles);
    printf("  end state %s; result in %s\n", hex, output);
    return EXIT_VALID;
}
