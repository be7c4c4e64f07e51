/*
 * hostcall.c — the ECALL host calls of the predicate VM (vm_host_call).
 *
 * The numbers, registers, record layouts and costs are in
 * include/utxo/abi.h (shared with the SDK) and docs/PREDICATES.md. Every
 * handler has the same shape: read its register arguments, check their
 * ranges (BAD_HOSTCALL), charge its whole cost with vm_charge() before doing
 * any work, then move bytes only through vm_mem_read / vm_mem_write, which
 * bounds-check every guest pointer. Host memory use is bounded by fixed stack
 * buffers sized by the ABI limits (GMP's own temporaries are bounded by the
 * 4096-bit operand cap). Results depend only on registers, guest memory and
 * the transaction context, so a run re-executed elsewhere (continuations)
 * gets the same answers.
 */
#include "config.h"

#include <string.h>
#include <gmp.h>
#include <sodium.h>
#include "utxo/abi.h"
#include "utxo/codec.h"
#include "predicates/hostcall.h"

enum { A0 = 10, A1 = 11, A2 = 12, A3 = 13, A7 = 17 };

#define FAIL_HC UTXO_VM_FAIL_BAD_HOSTCALL
#define STREAM_CHUNK 1024u /* bytes read per step when hashing guest memory */

_Static_assert(UTXO_ABI_ARGS_BASE == VM_ARGS_BASE, "abi.h and vm.h disagree on the args base");
_Static_assert(UTXO_ABI_STACK_TOP == VM_STACK_TOP, "abi.h and vm.h disagree on the stack top");
_Static_assert(UTXO_ABI_PAGE_BYTES == VM_PAGE_BYTES, "abi.h and vm.h disagree on the page size");
_Static_assert(UTXO_ABI_IMAGE_BASE >= VM_LOW_UNMAPPED, "images must not load into the null guard");

static _Thread_local hc_log_fn log_fn;
static _Thread_local void *log_ud;

void hc_set_log(hc_log_fn fn, void *ud)
{
    log_fn = fn;
    log_ud = ud;
}

static uint64_t copy_cost(uint64_t bytes)
{
    return (bytes + UTXO_COST_COPY_DIV - 1) / UTXO_COST_COPY_DIV;
}

static uint64_t words(uint64_t bytes)
{
    return (bytes + 7) / 8;
}

/* Charges base + copy cost of `bytes`. */
static int charge(vm *v, uint64_t cost)
{
    return vm_charge(v, UTXO_COST_HOSTCALL + cost);
}

/* ---- arguments and transaction ------------------------------------------ */

static int hc_args_read(vm *v)
{
    uint32_t dst = vm_reg(v, A0), off = vm_reg(v, A1), len = vm_reg(v, A2), n;
    const uint8_t *args = vm_args(v, &n);
    int rc;

    if ((uint64_t)off + len > n)
        return FAIL_HC;
    if ((rc = charge(v, copy_cost(len))) != 0)
        return rc;
    return len ? vm_mem_write(v, dst, args + off, len) : 0;
}

static const utxo_tx *ctx_tx(const utxo_txctx *c)
{
    return c ? c->tx : NULL;
}

static int hc_input(vm *v)
{
    const utxo_txctx *c = vm_txctx(v);
    const utxo_tx *tx = ctx_tx(c);
    uint32_t i = vm_reg(v, A0), dst = vm_reg(v, A1);
    uint8_t rec[UTXO_ABI_INPUT_BYTES];
    int rc;

    if (tx == NULL || c->spent == NULL || i >= tx->n_inputs)
        return FAIL_HC;
    if ((rc = charge(v, copy_cost(sizeof rec))) != 0)
        return rc;
    memcpy(rec + UTXO_ABI_INPUT_TXID, tx->inputs[i].prevout.txid, UTXO_HASH_BYTES);
    memcpy(rec + UTXO_ABI_INPUT_PREDICATE_ID, c->spent[i].predicate_id, UTXO_HASH_BYTES);
    put_u64le(rec + UTXO_ABI_INPUT_VALUE, c->spent[i].value);
    put_u32le(rec + UTXO_ABI_INPUT_VOUT, tx->inputs[i].prevout.index);
    put_u32le(rec + UTXO_ABI_INPUT_DATUM_LEN, c->spent[i].datum_len);
    return vm_mem_write(v, dst, rec, sizeof rec);
}

static int hc_output(vm *v)
{
    const utxo_tx *tx = ctx_tx(vm_txctx(v));
    uint32_t i = vm_reg(v, A0), dst = vm_reg(v, A1);
    uint8_t rec[UTXO_ABI_OUTPUT_BYTES];
    int rc;

    if (tx == NULL || i >= tx->n_outputs)
        return FAIL_HC;
    if ((rc = charge(v, copy_cost(sizeof rec))) != 0)
        return rc;
    memcpy(rec + UTXO_ABI_OUTPUT_PREDICATE_ID, tx->outputs[i].predicate_id, UTXO_HASH_BYTES);
    put_u64le(rec + UTXO_ABI_OUTPUT_VALUE, tx->outputs[i].value);
    put_u32le(rec + UTXO_ABI_OUTPUT_DATUM_LEN, tx->outputs[i].datum_len);
    put_u32le(rec + UTXO_ABI_OUTPUT_ZERO, 0);
    return vm_mem_write(v, dst, rec, sizeof rec);
}

/* INPUT_DATUM (spent output's datum) and OUTPUT_DATUM. */
static int hc_datum(vm *v, bool input)
{
    const utxo_txctx *c = vm_txctx(v);
    const utxo_tx *tx = ctx_tx(c);
    uint32_t i = vm_reg(v, A0), dst = vm_reg(v, A1), off = vm_reg(v, A2), len = vm_reg(v, A3);
    const utxo_output *o;
    int rc;

    if (tx == NULL)
        return FAIL_HC;
    if (input) {
        if (c->spent == NULL || i >= tx->n_inputs)
            return FAIL_HC;
        o = &c->spent[i];
    } else {
        if (i >= tx->n_outputs)
            return FAIL_HC;
        o = &tx->outputs[i];
    }
    if ((uint64_t)off + len > o->datum_len)
        return FAIL_HC;
    if ((rc = charge(v, copy_cost(len))) != 0)
        return rc;
    return len ? vm_mem_write(v, dst, o->datum + off, len) : 0;
}

/* ---- hashes and signatures ---------------------------------------------- */

static int hc_hash(vm *v, bool sha)
{
    uint32_t src = vm_reg(v, A0), len = vm_reg(v, A1), dst = vm_reg(v, A2);
    uint8_t buf[STREAM_CHUNK], out[UTXO_ABI_HASH_BYTES];
    crypto_generichash_blake2b_state b2;
    crypto_hash_sha256_state s2;
    uint64_t cost;
    int rc;

    if (sha)
        cost = UTXO_COST_SHA256_BASE + UTXO_COST_SHA256_BLOCK * (((uint64_t)len + 9 + 63) / 64);
    else
        cost = UTXO_COST_BLAKE2B_BASE + UTXO_COST_BLAKE2B_BLOCK * (((uint64_t)len + 127) / 128);
    if ((rc = charge(v, cost + copy_cost(len) + copy_cost(sizeof out))) != 0)
        return rc;
    if (sha)
        crypto_hash_sha256_init(&s2);
    else
        crypto_generichash_blake2b_init(&b2, NULL, 0, sizeof out);
    for (uint32_t done = 0; done < len;) {
        uint32_t n = len - done < STREAM_CHUNK ? len - done : STREAM_CHUNK;
        if ((rc = vm_mem_read(v, src + done, buf, n)) != 0)
            return rc;
        if (sha)
            crypto_hash_sha256_update(&s2, buf, n);
        else
            crypto_generichash_blake2b_update(&b2, buf, n);
        /* src + done never wraps: vm_mem_read refused the range otherwise */
        done += n;
    }
    if (sha)
        crypto_hash_sha256_final(&s2, out);
    else
        crypto_generichash_blake2b_final(&b2, out, sizeof out);
    return vm_mem_write(v, dst, out, sizeof out);
}

static int hc_ed25519(vm *v)
{
    uint32_t sig_p = vm_reg(v, A0), pk_p = vm_reg(v, A1), msg_p = vm_reg(v, A2), len = vm_reg(v, A3);
    uint8_t sig[UTXO_ABI_SIG_BYTES], pk[UTXO_ABI_PUBKEY_BYTES], msg[UTXO_ABI_ED25519_MAX_MSG];
    int rc;

    if (len > UTXO_ABI_ED25519_MAX_MSG)
        return FAIL_HC;
    rc = charge(v, UTXO_COST_ED25519_BASE + (uint64_t)UTXO_COST_ED25519_BYTE * len +
                       copy_cost(sizeof sig + sizeof pk + (uint64_t)len));
    if (rc != 0)
        return rc;
    if ((rc = vm_mem_read(v, sig_p, sig, sizeof sig)) != 0 ||
        (rc = vm_mem_read(v, pk_p, pk, sizeof pk)) != 0 ||
        (len && (rc = vm_mem_read(v, msg_p, msg, len)) != 0))
        return rc;
    vm_set_reg(v, A0, crypto_sign_verify_detached(sig, msg, len, pk) == 0 ? 0 : 1);
    return 0;
}

/* ---- big integers --------------------------------------------------------- */

typedef struct big_ref {
    uint32_t ptr, len;
} big_ref;

/* Reads n (ptr, len) pairs from the descriptor at a0. */
static int read_desc(vm *v, big_ref *r, unsigned n)
{
    uint8_t d[8 * 4];
    int rc = vm_mem_read(v, vm_reg(v, A0), d, 8 * n);

    if (rc != 0)
        return rc;
    for (unsigned i = 0; i < n; i++) {
        r[i].ptr = get_u32le(d + 8 * i);
        r[i].len = get_u32le(d + 8 * i + 4);
    }
    return 0;
}

/* Reads a big-endian number of r->len bytes into x (len checked by caller). */
static int big_load(vm *v, mpz_t x, const big_ref *r)
{
    uint8_t buf[UTXO_ABI_BIG_WIDE_BYTES];
    int rc;

    if (r->len == 0) {
        mpz_set_ui(x, 0);
        return 0;
    }
    if ((rc = vm_mem_read(v, r->ptr, buf, r->len)) != 0)
        return rc;
    mpz_import(x, r->len, 1, 1, 0, 0, buf);
    return 0;
}

/* Writes x into r->len bytes, big-endian, left-padded; BAD_HOSTCALL when it
 * does not fit. */
static int big_store(vm *v, const mpz_t x, const big_ref *r)
{
    uint8_t buf[UTXO_ABI_BIG_WIDE_BYTES];
    size_t need = mpz_sgn(x) == 0 ? 0 : (mpz_sizeinbase(x, 2) + 7) / 8, written = 0;

    if (need > r->len)
        return FAIL_HC;
    memset(buf, 0, r->len);
    if (need > 0)
        mpz_export(buf + (r->len - need), &written, 1, 1, 0, 0, x);
    return r->len ? vm_mem_write(v, r->ptr, buf, r->len) : 0;
}

static int hc_big(vm *v, uint32_t num)
{
    big_ref r[4];
    mpz_t x, y, z, q;
    uint64_t cost;
    int rc;

    if (num == UTXO_HC_BIG_CMP) {
        r[0].ptr = vm_reg(v, A0);
        r[0].len = vm_reg(v, A1);
        r[1].ptr = vm_reg(v, A2);
        r[1].len = vm_reg(v, A3);
        if (r[0].len > UTXO_ABI_BIG_WIDE_BYTES || r[1].len > UTXO_ABI_BIG_WIDE_BYTES)
            return FAIL_HC;
        cost = UTXO_COST_BIG_WORD * (words(r[0].len) + words(r[1].len));
    } else {
        unsigned n = num == UTXO_HC_BIG_MUL ? 3 : 4;

        /* The descriptor is read before charging: its 24..32 bytes are what
         * the cost is computed from (covered by the base cost). */
        if ((rc = read_desc(v, r, n)) != 0)
            return rc;
        if (num == UTXO_HC_BIG_MODEXP) { /* out, base, exp, mod */
            uint64_t wm = words(r[3].len);
            if (r[0].len > UTXO_ABI_BIG_MAX_BYTES || r[1].len > UTXO_ABI_BIG_MAX_BYTES ||
                r[2].len > UTXO_ABI_BIG_MAX_BYTES || r[3].len > UTXO_ABI_BIG_MAX_BYTES)
                return FAIL_HC;
            /* per exponent bit one squaring (and some multiplies) mod m; the
             * floor covers GMP's per-step overhead on tiny moduli */
            cost = (wm * wm + UTXO_COST_BIG_FLOOR) * 8 * r[2].len + words(r[1].len) * wm;
        } else if (num == UTXO_HC_BIG_MUL) { /* out, a, b */
            if (r[0].len > UTXO_ABI_BIG_WIDE_BYTES || r[1].len > UTXO_ABI_BIG_MAX_BYTES ||
                r[2].len > UTXO_ABI_BIG_MAX_BYTES)
                return FAIL_HC;
            cost = words(r[1].len) * words(r[2].len);
        } else { /* quot, rem, a, b */
            if (r[0].len > UTXO_ABI_BIG_WIDE_BYTES || r[1].len > UTXO_ABI_BIG_MAX_BYTES ||
                r[2].len > UTXO_ABI_BIG_WIDE_BYTES || r[3].len > UTXO_ABI_BIG_MAX_BYTES)
                return FAIL_HC;
            cost = words(r[2].len) * (words(r[3].len) + UTXO_COST_BIG_FLOOR);
        }
        /* converting bytes to limbs and back is about 1 ns per byte */
        for (unsigned i = 0; i < n; i++)
            cost += UTXO_COST_BIG_WORD * words(r[i].len);
    }
    if ((rc = charge(v, UTXO_COST_BIG_BASE + cost)) != 0)
        return rc;

    /* 2 * 4096 bits plus a limb: no operation below grows past it. */
    mpz_init2(x, 8 * UTXO_ABI_BIG_WIDE_BYTES + 64);
    mpz_init2(y, 8 * UTXO_ABI_BIG_WIDE_BYTES + 64);
    mpz_init2(z, 8 * UTXO_ABI_BIG_WIDE_BYTES + 64);
    mpz_init2(q, 8 * UTXO_ABI_BIG_WIDE_BYTES + 64);
    switch (num) {
    case UTXO_HC_BIG_CMP: {
        int c;
        if ((rc = big_load(v, x, &r[0])) != 0 || (rc = big_load(v, y, &r[1])) != 0)
            break;
        c = mpz_cmp(x, y);
        vm_set_reg(v, A0, c < 0 ? UINT32_MAX : c > 0 ? 1u : 0u);
        break;
    }
    case UTXO_HC_BIG_MODEXP:
        if ((rc = big_load(v, x, &r[1])) != 0 || (rc = big_load(v, y, &r[2])) != 0 ||
            (rc = big_load(v, z, &r[3])) != 0)
            break;
        if (mpz_sgn(z) == 0) {
            rc = FAIL_HC;
            break;
        }
        mpz_powm(q, x, y, z);
        rc = big_store(v, q, &r[0]);
        break;
    case UTXO_HC_BIG_MUL:
        if ((rc = big_load(v, x, &r[1])) != 0 || (rc = big_load(v, y, &r[2])) != 0)
            break;
        mpz_mul(q, x, y);
        rc = big_store(v, q, &r[0]);
        break;
    default: /* DIVMOD */
        if ((rc = big_load(v, x, &r[2])) != 0 || (rc = big_load(v, y, &r[3])) != 0)
            break;
        if (mpz_sgn(y) == 0) {
            rc = FAIL_HC;
            break;
        }
        mpz_tdiv_qr(q, z, x, y);
        if ((rc = big_store(v, q, &r[0])) == 0)
            rc = big_store(v, z, &r[1]);
        break;
    }
    mpz_clear(x);
    mpz_clear(y);
    mpz_clear(z);
    mpz_clear(q);
    return rc;
}

/* ---- debug log -------------------------------------------------------------- */

static int hc_debug(vm *v)
{
    uint32_t src = vm_reg(v, A0), len = vm_reg(v, A1);
    uint8_t buf[UTXO_ABI_DEBUG_MAX_BYTES];
    int rc;

    if (len > UTXO_ABI_DEBUG_MAX_BYTES)
        return FAIL_HC;
    if ((rc = vm_charge(v, UTXO_COST_DEBUG_BASE + copy_cost(len))) != 0)
        return rc;
    /* Read even without a sink: a bad pointer must fail the same way
     * whether or not someone is listening. */
    if (len && (rc = vm_mem_read(v, src, buf, len)) != 0)
        return rc;
    if (log_fn)
        log_fn(log_ud, buf, len);
    return 0;
}

/* ---- dispatch ------------------------------------------------------------- */

int vm_host_call(vm *v)
{
    uint32_t num = vm_reg(v, A7), n;
    const utxo_txctx *c;
    int rc;

    switch (num) {
    case UTXO_HC_HALT:
        if ((rc = charge(v, 0)) != 0)
            return rc;
        vm_halt(v, vm_reg(v, A0));
        return 0;
    case UTXO_HC_ARGS_LEN:
        if ((rc = charge(v, 0)) != 0)
            return rc;
        (void)vm_args(v, &n);
        vm_set_reg(v, A0, n);
        return 0;
    case UTXO_HC_ARGS_READ:
        return hc_args_read(v);
    case UTXO_HC_SIGHASH:
        c = vm_txctx(v);
        if (ctx_tx(c) == NULL)
            return FAIL_HC;
        if ((rc = charge(v, copy_cost(UTXO_HASH_BYTES))) != 0)
            return rc;
        return vm_mem_write(v, vm_reg(v, A0), c->sighash, UTXO_HASH_BYTES);
    case UTXO_HC_INPUT_INDEX:
    case UTXO_HC_COUNTS:
    case UTXO_HC_HEIGHT:
        c = vm_txctx(v);
        if (ctx_tx(c) == NULL)
            return FAIL_HC;
        if ((rc = charge(v, 0)) != 0)
            return rc;
        if (num == UTXO_HC_INPUT_INDEX) {
            vm_set_reg(v, A0, c->input_index);
        } else if (num == UTXO_HC_HEIGHT) {
            vm_set_reg(v, A0, c->height);
        } else {
            vm_set_reg(v, A0, c->tx->n_inputs);
            vm_set_reg(v, A1, c->tx->n_outputs);
        }
        return 0;
    case UTXO_HC_INPUT:
        return hc_input(v);
    case UTXO_HC_INPUT_DATUM:
        return hc_datum(v, true);
    case UTXO_HC_OUTPUT:
        return hc_output(v);
    case UTXO_HC_OUTPUT_DATUM:
        return hc_datum(v, false);
    case UTXO_HC_BLAKE2B:
        return hc_hash(v, false);
    case UTXO_HC_SHA256:
        return hc_hash(v, true);
    case UTXO_HC_ED25519:
        return hc_ed25519(v);
    case UTXO_HC_BIG_MODEXP:
    case UTXO_HC_BIG_MUL:
    case UTXO_HC_BIG_DIVMOD:
    case UTXO_HC_BIG_CMP:
        return hc_big(v, num);
    case UTXO_HC_DEBUG_LOG:
        return hc_debug(v);
    default:
        return FAIL_HC;
    }
}
