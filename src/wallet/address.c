/*
 * address.c — addresses: Bech32m (BIP-350) over a predicate id, with the
 * human-readable part "utxo" (utxo/keys.h, docs/WALLET.md).
 *
 * Layout of the 64 characters: "utxo", the separator "1", the version
 * symbol ("q" = 0), the 32-byte id as 52 five-bit groups (256 bits plus 4
 * zero padding bits, most significant first), and the 6-symbol Bech32m
 * checksum over hrp-expand("utxo") || data. BCH code properties (BIP-173):
 * any error in at most 4 characters is detected for strings up to 89
 * characters; the Bech32m constant 0x2bc830a3 (BIP-350) fixes Bech32's
 * weakness with inserted or deleted 'q's before a final 'p'. Decoding is
 * strict: exact length, one case, valid characters, the right prefix and
 * version, zero padding bits.
 */
#include "config.h"

#include <string.h>
#include "utxo/keys.h"
#include "utxo/standard.h"

#define HRP_LEN 4u
#define DATA_GROUPS 52u     /* ceil(256 / 5) */
#define CHECKSUM_LEN 6u
#define BECH32M_CONST 0x2bc830a3u

static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/* BIP-173 polymod over 5-bit values. */
static uint32_t polymod_step(uint32_t chk, uint8_t v)
{
    static const uint32_t gen[5] = {0x3b6a57b2u, 0x26508e6du, 0x1ea119fau, 0x3d4233ddu,
                                    0x2a1462b3u};
    uint8_t top = (uint8_t)(chk >> 25);

    chk = ((chk & 0x1ffffffu) << 5) ^ v;
    for (unsigned i = 0; i < 5; i++)
        if ((top >> i) & 1)
            chk ^= gen[i];
    return chk;
}

/* polymod of hrp-expand(hrp) || data[0..n). */
static uint32_t polymod(const char *hrp, const uint8_t *data, size_t n)
{
    uint32_t chk = 1;
    size_t hl = strlen(hrp);

    for (size_t i = 0; i < hl; i++)
        chk = polymod_step(chk, (uint8_t)((unsigned char)hrp[i] >> 5));
    chk = polymod_step(chk, 0);
    for (size_t i = 0; i < hl; i++)
        chk = polymod_step(chk, (uint8_t)(hrp[i] & 31));
    for (size_t i = 0; i < n; i++)
        chk = polymod_step(chk, data[i]);
    return chk;
}

int utxo_address_encode(char out[UTXO_ADDRESS_LEN + 1], const uint8_t id[UTXO_HASH_BYTES])
{
    uint8_t data[1 + DATA_GROUPS + CHECKSUM_LEN];
    uint32_t acc = 0, chk;
    unsigned bits = 0, n = 0;
    size_t k = 0;

    if (out == NULL)
        return UTXO_ERR_ARG;
    memset(out, 0, UTXO_ADDRESS_LEN + 1);
    if (id == NULL)
        return UTXO_ERR_ARG;
    data[n++] = 0; /* version */
    for (unsigned i = 0; i < UTXO_HASH_BYTES; i++) {
        acc = (acc << 8 | id[i]) & 0xfffu;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            data[n++] = (uint8_t)((acc >> bits) & 31);
        }
    }
    if (bits > 0)
        data[n++] = (uint8_t)((acc << (5 - bits)) & 31);
    /* n == 1 + DATA_GROUPS */
    memset(data + n, 0, CHECKSUM_LEN);
    chk = polymod(UTXO_ADDRESS_HRP, data, n + CHECKSUM_LEN) ^ BECH32M_CONST;
    for (unsigned i = 0; i < CHECKSUM_LEN; i++)
        data[n + i] = (uint8_t)((chk >> (5 * (5 - i))) & 31);
    memcpy(out, UTXO_ADDRESS_HRP, HRP_LEN);
    k = HRP_LEN;
    out[k++] = '1';
    for (unsigned i = 0; i < n + CHECKSUM_LEN; i++)
        out[k++] = charset[data[i]];
    out[k] = '\0';
    return UTXO_OK;
}

static int charset_rev(char c)
{
    const char *p = c ? strchr(charset, c) : NULL;
    return p ? (int)(p - charset) : -1;
}

int utxo_address_decode(uint8_t id[UTXO_HASH_BYTES], const char *addr)
{
    char s[UTXO_ADDRESS_LEN + 1];
    uint8_t data[1 + DATA_GROUPS + CHECKSUM_LEN];
    bool lower = false, upper = false;
    uint32_t acc = 0;
    unsigned bits = 0, k = 0;
    size_t len;
    int rc = UTXO_ERR_ADDRESS_FORMAT;

    if (id == NULL)
        return UTXO_ERR_ARG;
    memset(id, 0, UTXO_HASH_BYTES);
    if (addr == NULL)
        return UTXO_ERR_ARG;
    len = strnlen(addr, UTXO_ADDRESS_LEN + 1);
    if (len != UTXO_ADDRESS_LEN)
        return UTXO_ERR_ADDRESS_FORMAT;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)addr[i];
        if (c < 33 || c > 126)
            return UTXO_ERR_ADDRESS_FORMAT;
        if (c >= 'a' && c <= 'z')
            lower = true;
        if (c >= 'A' && c <= 'Z') {
            upper = true;
            c = (unsigned char)(c - 'A' + 'a');
        }
        s[i] = (char)c;
    }
    s[len] = '\0';
    if (lower && upper)
        return UTXO_ERR_ADDRESS_FORMAT;
    /* the separator is the last '1'; the prefix before it must be ours */
    if (strrchr(s, '1') != s + HRP_LEN || memcmp(s, UTXO_ADDRESS_HRP, HRP_LEN) != 0)
        return UTXO_ERR_ADDRESS_FORMAT;
    for (unsigned i = 0; i < sizeof data; i++) {
        int v = charset_rev(s[HRP_LEN + 1 + i]);
        if (v < 0)
            return UTXO_ERR_ADDRESS_FORMAT;
        data[i] = (uint8_t)v;
    }
    if (polymod(UTXO_ADDRESS_HRP, data, sizeof data) != BECH32M_CONST)
        return UTXO_ERR_ADDRESS_CHECKSUM;
    if (data[0] != 0)
        return UTXO_ERR_ADDRESS_FORMAT;
    for (unsigned i = 1; i <= DATA_GROUPS; i++) {
        acc = (acc << 5 | data[i]) & 0xfffu;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            id[k++] = (uint8_t)(acc >> bits);
        }
    }
    if (k != UTXO_HASH_BYTES || bits >= 5 || (acc & ((1u << bits) - 1)) != 0)
        goto fail; /* non-zero padding: a second spelling of the same id */
    return UTXO_OK;
fail:
    memset(id, 0, UTXO_HASH_BYTES);
    return rc;
}

int utxo_address_from_pubkey(char out[UTXO_ADDRESS_LEN + 1], const uint8_t pk[UTXO_PUBKEY_BYTES])
{
    uint8_t id[UTXO_HASH_BYTES];
    int rc;

    if (out == NULL)
        return UTXO_ERR_ARG;
    memset(out, 0, UTXO_ADDRESS_LEN + 1);
    if ((rc = utxo_p2pk_id(id, pk)) != UTXO_OK)
        return rc;
    return utxo_address_encode(out, id);
}
