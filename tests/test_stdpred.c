/*
 * test_stdpred.c — the standard predicates (src/predicates/std, stdpred.c)
 * run on real transactions built with the ledger API: each accepts the
 * right witness and rejects wrong ones with its documented exit code.
 * Also: parameters are bound to the id, instances of one template share
 * decoded code, the thousandth run decodes nothing, and a run through the
 * cache (template program + parameter write) equals a run of the whole
 * image loaded directly.
 */
#include "config.h"

#include <gmp.h>
#include <pthread.h>
#include <sodium.h>
#include "testutil.h"
#include "utxo/abi.h"
#include "predicates/cache.h"
#include "predicates/image.h"
#include "predicates/pred_run.h"
#include "predicates/stdpred.h"
#include "predicates/vm.h"

#define BUDGET 1000000u

/* A transaction spending one output guarded by `img`, and its context. */
typedef struct spend {
    utxo_tx *tx;
    utxo_output spent;
    utxo_txctx ctx;
    uint8_t *img;
    size_t img_len;
    uint8_t chain[UTXO_HASH_BYTES];
} spend;

static void spend_init(spend *s, int kind, const uint8_t *params, size_t plen, uint32_t height)
{
    uint8_t chain[UTXO_HASH_BYTES], id[UTXO_HASH_BYTES];
    utxo_outpoint op;

    memset(s, 0, sizeof *s);
    ck_assert_int_eq(stdpred_instance(kind, params, plen, &s->img, &s->img_len), UTXO_OK);
    s->tx = utxo_tx_new();
    ck_assert_ptr_nonnull(s->tx);
    memset(op.txid, 0xab, sizeof op.txid);
    op.index = 3;
    ck_assert_int_eq(utxo_tx_add_input(s->tx, &op, BUDGET, s->img, (uint32_t)s->img_len, NULL, 0), UTXO_OK);
    memset(id, 0x5c, sizeof id);
    ck_assert_int_eq(utxo_tx_add_output(s->tx, 1000, id, NULL, 0), UTXO_OK);
    s->spent.value = 1500;
    utxo_predicate_id(s->spent.predicate_id, s->img, s->img_len);
    memset(chain, 0xc4, sizeof chain);
    memcpy(s->chain, chain, sizeof chain);
    s->ctx.tx = s->tx;
    s->ctx.input_index = 0;
    s->ctx.spent = &s->spent;
    s->ctx.height = height;
    utxo_tx_sighash(s->tx, chain, s->ctx.sighash);
}

static void spend_free(spend *s)
{
    utxo_tx_free(s->tx);
    free(s->img);
}

static utxo_vm_result run_spend(const spend *s, const uint8_t *args, size_t len)
{
    utxo_vm_result r;

    ck_assert_int_eq(utxo_predicate_run(&r, s->img, s->img_len, args, len, &s->ctx, BUDGET), UTXO_OK);
    /* No standard predicate stores to a page it runs code from (their
     * templates have no writable data; the SDK linker script would put it
     * on a page of its own): no page of the run went into step mode. */
    ck_assert_uint_eq(vm_patched_pages(pred_thread_vm()), 0);
    return r;
}

#define ck_accepts(s, a, n)                                           \
    do {                                                              \
        utxo_vm_result res_ = run_spend((s), (a), (n));               \
        ck_assert_int_eq(res_.status, UTXO_VM_ACCEPTED);              \
    } while (0)
#define ck_rejects(s, a, n, code)                                     \
    do {                                                              \
        utxo_vm_result res_ = run_spend((s), (a), (n));               \
        ck_assert_int_eq(res_.status, UTXO_VM_REJECTED);              \
        ck_assert_uint_eq(res_.exit_code, (code));                    \
    } while (0)

static void keypair(uint8_t pk[32], uint8_t sk[64], uint8_t seed_byte)
{
    uint8_t seed[32];
    memset(seed, seed_byte, sizeof seed);
    crypto_sign_seed_keypair(pk, sk, seed);
}

/* ---- pay to pubkey ------------------------------------------------------- */

START_TEST(p2pk)
{
    uint8_t pk[32], sk[64], pk2[32], sk2[64], sig[65];
    utxo_vm_result r;
    spend s;

    keypair(pk, sk, 1);
    keypair(pk2, sk2, 2);
    spend_init(&s, UTXO_STD_P2PK, pk, 32, 10);
    crypto_sign_detached(sig, NULL, s.ctx.sighash, 32, sk);
    r = run_spend(&s, sig, 64);
    ck_assert_int_eq(r.status, UTXO_VM_ACCEPTED);
    printf("p2pk: %zu-byte image, %llu cycles\n", s.img_len, (unsigned long long)r.cycles);
    /* 28 instructions, SIGHASH (24), ED25519 over 32 bytes (20068), HALT
     * (20), and one fresh page, the stack: 21164 (docs/PREDICATES.md). The
     * image's two pages and the argument page are the loader's: free. */
    ck_assert_uint_eq(r.cycles, 28 + (UTXO_COST_HOSTCALL + 32 / UTXO_COST_COPY_DIV) +
                                    (UTXO_COST_HOSTCALL + UTXO_COST_ED25519_BASE +
                                     32 * UTXO_COST_ED25519_BYTE + (64 + 32 + 32) / UTXO_COST_COPY_DIV) +
                                    UTXO_COST_HOSTCALL + UTXO_ABI_PAGE_CYCLES);
    ck_assert_uint_eq(r.cycles, 21164);
    {
        uint32_t n;
        (void)vm_touched_pages(pred_thread_vm(), &n);
        ck_assert_uint_eq(n, 4); /* parameters, code, arguments, stack */
    }
    ck_rejects(&s, sig, 63, 1);
    sig[64] = 0;
    ck_rejects(&s, sig, 65, 1);
    sig[10] ^= 4;
    ck_rejects(&s, sig, 64, 2);
    crypto_sign_detached(sig, NULL, s.ctx.sighash, 32, sk2); /* another key */
    ck_rejects(&s, sig, 64, 2);
    /* a signature of another transaction */
    crypto_sign_detached(sig, NULL, s.ctx.sighash, 32, sk);
    s.tx->outputs[0].value = 999;
    utxo_tx_sighash(s.tx, s.chain, s.ctx.sighash);
    ck_rejects(&s, sig, 64, 2);
    /* no transaction: the sighash call fails the run */
    ck_assert_int_eq(utxo_predicate_run(&r, s.img, s.img_len, sig, 64, NULL, BUDGET), UTXO_OK);
    ck_assert_int_eq(r.status, UTXO_VM_FAILED);
    ck_assert_int_eq(r.fail, UTXO_VM_FAIL_BAD_HOSTCALL);
    /* not enough cycles for the signature check */
    ck_assert_int_eq(utxo_predicate_run(&r, s.img, s.img_len, sig, 64, &s.ctx, 1000), UTXO_OK);
    ck_assert_int_eq(r.fail, UTXO_VM_FAIL_OUT_OF_CYCLES);
    spend_free(&s);
}
END_TEST

/* ---- multisig -------------------------------------------------------------- */

START_TEST(multisig_2_of_3)
{
    uint8_t params[4 + 3 * 32], sk[3][64], args[4 + 3 * 64];
    spend s;

    params[0] = 2, params[1] = 3, params[2] = 0, params[3] = 0;
    for (int i = 0; i < 3; i++)
        keypair(params + 4 + 32 * i, sk[i], (uint8_t)(10 + i));
    spend_init(&s, UTXO_STD_MULTISIG, params, sizeof params, 0);
    /* keys 0 and 2 */
    memcpy(args, "\x05\x00\x00\x00", 4);
    crypto_sign_detached(args + 4, NULL, s.ctx.sighash, 32, sk[0]);
    crypto_sign_detached(args + 68, NULL, s.ctx.sighash, 32, sk[2]);
    ck_accepts(&s, args, 4 + 128);
    /* keys 1 and 2 */
    memcpy(args, "\x06\x00\x00\x00", 4);
    crypto_sign_detached(args + 4, NULL, s.ctx.sighash, 32, sk[1]);
    ck_accepts(&s, args, 4 + 128);
    /* signatures in the wrong order */
    memcpy(args + 132, args + 4, 64);
    memcpy(args + 4, args + 68, 64);
    memcpy(args + 68, args + 132, 64);
    ck_rejects(&s, args, 4 + 128, 2);
    /* one signature only; three; a bit beyond n; wrong length */
    memcpy(args, "\x01\x00\x00\x00", 4);
    crypto_sign_detached(args + 4, NULL, s.ctx.sighash, 32, sk[0]);
    ck_rejects(&s, args, 4 + 64, 1);
    memcpy(args, "\x07\x00\x00\x00", 4);
    ck_rejects(&s, args, 4 + 192, 1);
    memcpy(args, "\x09\x00\x00\x00", 4);
    ck_rejects(&s, args, 4 + 128, 1);
    memcpy(args, "\x03\x00\x00\x00", 4);
    ck_rejects(&s, args, 4 + 127, 1);
    ck_rejects(&s, args, 3, 1);
    /* the same key twice is one bit: cannot count twice */
    memcpy(args, "\x01\x00\x00\x00", 4);
    memcpy(args + 68, args + 4, 64);
    ck_rejects(&s, args, 4 + 128, 1);
    spend_free(&s);

    /* malformed parameters are refused when building the instance */
    {
        uint8_t *img;
        size_t n;
        params[0] = 4;
        ck_assert_int_eq(stdpred_instance(UTXO_STD_MULTISIG, params, sizeof params, &img, &n), UTXO_ERR_ARG);
        params[0] = 0;
        ck_assert_int_eq(stdpred_instance(UTXO_STD_MULTISIG, params, sizeof params, &img, &n), UTXO_ERR_ARG);
        params[0] = 2;
        ck_assert_int_eq(stdpred_instance(UTXO_STD_MULTISIG, params, sizeof params - 1, &img, &n), UTXO_ERR_ARG);
        ck_assert_ptr_null(img);
    }
}
END_TEST

/* A key listed twice fills two slots (docs/PREDICATES.md, section 5): a
 * 2-of-3 whose keys 0 and 1 are one key is spent by that key alone, with
 * the same signature in both slots; the third key still counts once. */
START_TEST(multisig_duplicate_key)
{
    uint8_t params[4 + 3 * 32], sk[2][64], args[4 + 2 * 64];
    spend s;

    params[0] = 2, params[1] = 3, params[2] = 0, params[3] = 0;
    keypair(params + 4, sk[0], 40);
    memcpy(params + 4 + 32, params + 4, 32);
    keypair(params + 4 + 64, sk[1], 41);
    spend_init(&s, UTXO_STD_MULTISIG, params, sizeof params, 0);
    memcpy(args, "\x03\x00\x00\x00", 4);
    crypto_sign_detached(args + 4, NULL, s.ctx.sighash, 32, sk[0]);
    memcpy(args + 68, args + 4, 64);
    ck_accepts(&s, args, sizeof args);
    /* keys 0 and 2 need both holders */
    memcpy(args, "\x05\x00\x00\x00", 4);
    ck_rejects(&s, args, sizeof args, 2);
    crypto_sign_detached(args + 68, NULL, s.ctx.sighash, 32, sk[1]);
    ck_accepts(&s, args, sizeof args);
    spend_free(&s);
}
END_TEST

/* ---- hash lock, time lock, HTLC ------------------------------------------------ */

START_TEST(hashlock)
{
    uint8_t h[32];
    const uint8_t secret[] = "correct horse battery staple";
    spend s;

    crypto_generichash(h, 32, secret, sizeof secret - 1, NULL, 0);
    spend_init(&s, UTXO_STD_HASHLOCK, h, 32, 0);
    ck_accepts(&s, secret, sizeof secret - 1);
    ck_rejects(&s, secret, sizeof secret - 2, 2);
    ck_rejects(&s, secret, sizeof secret, 2);
    ck_rejects(&s, NULL, 0, 2);
    spend_free(&s);
    /* the empty secret works too when it is the one */
    crypto_generichash(h, 32, NULL, 0, NULL, 0);
    spend_init(&s, UTXO_STD_HASHLOCK, h, 32, 0);
    ck_accepts(&s, NULL, 0);
    spend_free(&s);
}
END_TEST

START_TEST(timelock)
{
    uint8_t params[36], sk[64], sig[64];
    spend s;

    keypair(params, sk, 20);
    params[32] = 0x10, params[33] = 0x27, params[34] = 0, params[35] = 0; /* 10000 */
    spend_init(&s, UTXO_STD_TIMELOCK, params, sizeof params, 9999);
    crypto_sign_detached(sig, NULL, s.ctx.sighash, 32, sk);
    ck_rejects(&s, sig, 64, 4);
    s.ctx.height = 10000;
    ck_accepts(&s, sig, 64);
    s.ctx.height = UINT32_MAX;
    ck_accepts(&s, sig, 64);
    sig[0] ^= 1;
    ck_rejects(&s, sig, 64, 2);
    ck_rejects(&s, sig, 0, 1);
    spend_free(&s);
}
END_TEST

START_TEST(htlc)
{
    uint8_t params[100], rsk[64], fsk[64], args[65 + 16];
    const uint8_t secret[16] = "0123456789abcdef";
    spend s;

    crypto_generichash(params, 32, secret, sizeof secret, NULL, 0);
    keypair(params + 32, rsk, 30);
    keypair(params + 64, fsk, 31);
    params[96] = 100, params[97] = 0, params[98] = 0, params[99] = 0;
    spend_init(&s, UTXO_STD_HTLC, params, sizeof params, 50);
    /* claim */
    args[0] = 0;
    crypto_sign_detached(args + 1, NULL, s.ctx.sighash, 32, rsk);
    memcpy(args + 65, secret, sizeof secret);
    ck_accepts(&s, args, sizeof args);
    ck_rejects(&s, args, sizeof args - 1, 3);      /* wrong secret */
    crypto_sign_detached(args + 1, NULL, s.ctx.sighash, 32, fsk);
    ck_rejects(&s, args, sizeof args, 2);          /* refund key cannot claim */
    /* refund */
    args[0] = 1;
    ck_rejects(&s, args, 65, 4);                   /* too early */
    s.ctx.height = 100;
    ck_accepts(&s, args, 65);
    crypto_sign_detached(args + 1, NULL, s.ctx.sighash, 32, rsk);
    ck_rejects(&s, args, 65, 2);                   /* recipient key cannot refund */
    ck_rejects(&s, args, 66, 1);                   /* trailing bytes */
    args[0] = 2;
    ck_rejects(&s, args, 65, 1);                   /* unknown branch */
    ck_rejects(&s, args, 10, 1);
    spend_free(&s);
}
END_TEST

/* ---- RSA-2048 PKCS#1 v1.5 SHA-256 ------------------------------------------------ */

static void be_export(uint8_t *out, size_t len, const mpz_t x)
{
    size_t need = (mpz_sizeinbase(x, 2) + 7) / 8, w;
    memset(out, 0, len);
    mpz_export(out + len - need, &w, 1, 1, 0, 0, x);
}

START_TEST(rsa2048)
{
    static const uint8_t di[19] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                   0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
    uint8_t n_be[256], em[256], sig[256];
    gmp_randstate_t rs;
    mpz_t p, q, n, e, d, phi, t, m, sgn;
    utxo_vm_result r;
    spend s;

    gmp_randinit_default(rs);
    gmp_randseed_ui(rs, 2026);
    mpz_inits(p, q, n, e, d, phi, t, m, sgn, NULL);
    mpz_set_ui(e, 65537);
    do {
        mpz_urandomb(p, rs, 1024);
        mpz_setbit(p, 1023);
        mpz_setbit(p, 1022);
        mpz_nextprime(p, p);
        mpz_urandomb(q, rs, 1024);
        mpz_setbit(q, 1023);
        mpz_setbit(q, 1022);
        mpz_nextprime(q, q);
        mpz_mul(n, p, q);
        mpz_sub_ui(t, p, 1);
        mpz_sub_ui(phi, q, 1);
        mpz_mul(phi, phi, t);
    } while (mpz_sizeinbase(n, 2) != 2048 || mpz_invert(d, e, phi) == 0);
    be_export(n_be, 256, n);
    spend_init(&s, UTXO_STD_RSA, n_be, 256, 0);

    em[0] = 0, em[1] = 1;
    memset(em + 2, 0xff, 256 - 3 - 19 - 32);
    em[256 - 52] = 0;
    memcpy(em + 256 - 51, di, 19);
    crypto_hash_sha256(em + 256 - 32, s.ctx.sighash, 32);
    mpz_import(m, 256, 1, 1, 0, 0, em);
    mpz_powm(sgn, m, d, n);
    be_export(sig, 256, sgn);
    r = run_spend(&s, sig, 256);
    ck_assert_int_eq(r.status, UTXO_VM_ACCEPTED);
    printf("rsa: %zu-byte image, %llu cycles\n", s.img_len, (unsigned long long)r.cycles);
    /* instructions and host calls (30152) and one stack page: the count
     * depends on the lengths only, not on the key (docs/PREDICATES.md) */
    ck_assert_uint_eq(r.cycles, 30152 + UTXO_ABI_PAGE_CYCLES);
    ck_rejects(&s, sig, 255, 1);
    sig[100] ^= 1;
    ck_rejects(&s, sig, 256, 3);
    ck_rejects(&s, n_be, 256, 2); /* s = n */
    /* s + n has the same residue but is not a valid representative */
    mpz_add(t, sgn, n);
    if (mpz_sizeinbase(t, 2) <= 2048) {
        be_export(sig, 256, t);
        ck_rejects(&s, sig, 256, 2);
    }
    /* a signature with the wrong digest inside */
    em[255] ^= 1;
    mpz_import(m, 256, 1, 1, 0, 0, em);
    mpz_powm(sgn, m, d, n);
    be_export(sig, 256, sgn);
    ck_rejects(&s, sig, 256, 3);
    /* signing by CRT (the generator's) gives utxo_std_rsa_sign's bytes, for
     * many messages; factors that are not n's are refused */
    {
        uint8_t d_be[256], pq[256], s1[256], s2[256], sh[32];
        be_export(d_be, 256, d);
        be_export(pq, 128, p);
        be_export(pq + 128, 128, q);
        for (unsigned k = 0; k < 32; k++) {
            memset(sh, (int)k, sizeof sh);
            sh[0] = (uint8_t)(k * 37);
            ck_assert_int_eq(utxo_std_rsa_sign(s1, sh, n_be, d_be), UTXO_OK);
            ck_assert_int_eq(stdpred_rsa_sign_crt(s2, sh, n_be, d_be, pq, pq + 128), UTXO_OK);
            ck_assert_mem_eq(s1, s2, 256);
            ck_assert_int_eq(stdpred_rsa_sign_crt(s2, sh, n_be, d_be, pq + 128, pq), UTXO_OK);
            ck_assert_mem_eq(s1, s2, 256); /* the order of the factors does not matter */
        }
        ck_assert_int_eq(utxo_std_rsa_sign(s1, s.ctx.sighash, n_be, d_be), UTXO_OK);
        ck_assert_int_eq(run_spend(&s, s1, 256).status, UTXO_VM_ACCEPTED);
        pq[127] ^= 2;
        ck_assert_int_eq(stdpred_rsa_sign_crt(s2, sh, n_be, d_be, pq, pq + 128), UTXO_ERR_ARG);
        ck_assert_int_eq(stdpred_rsa_sign_crt(s2, sh, n_be, d_be, pq + 128, pq + 128),
                         UTXO_ERR_ARG);
    }
    spend_free(&s);
    /* an even or short modulus is not a parameter set */
    {
        uint8_t *img;
        size_t len;
        n_be[255] &= 0xfe;
        ck_assert_int_eq(stdpred_instance(UTXO_STD_RSA, n_be, 256, &img, &len), UTXO_ERR_ARG);
        n_be[255] |= 1;
        n_be[0] = 0x7f;
        ck_assert_int_eq(stdpred_instance(UTXO_STD_RSA, n_be, 256, &img, &len), UTXO_ERR_ARG);
    }
    mpz_clears(p, q, n, e, d, phi, t, m, sgn, NULL);
    gmp_randclear(rs);
}
END_TEST

/* ---- ids, sharing, cache, equivalence ------------------------------------------------ */

START_TEST(params_bound_to_id_and_code_shared)
{
    uint8_t pk1[32], pk2[32], sk[64], id1[32], id2[32], c1[32], c2[32];
    uint8_t *i1, *i2;
    size_t l1, l2;
    img_view v1, v2;
    pc_stats before, after;
    spend s;

    keypair(pk1, sk, 40);
    keypair(pk2, sk, 41);
    ck_assert_int_eq(stdpred_instance(UTXO_STD_P2PK, pk1, 32, &i1, &l1), UTXO_OK);
    ck_assert_int_eq(stdpred_instance(UTXO_STD_P2PK, pk2, 32, &i2, &l2), UTXO_OK);
    utxo_predicate_id(id1, i1, l1);
    utxo_predicate_id(id2, i2, l2);
    ck_assert_mem_ne(id1, id2, 32);
    ck_assert_int_eq(img_view_decode(&v1, i1, l1, NULL), UTXO_OK);
    ck_assert_int_eq(img_view_decode(&v2, i2, l2, NULL), UTXO_OK);
    img_code_id(c1, &v1, NULL);
    img_code_id(c2, &v2, NULL);
    ck_assert_mem_eq(c1, c2, 32);

    /* the second instance finds the first one's decoded code */
    spend_init(&s, UTXO_STD_P2PK, pk1, 32, 0);
    pc_clear();
    pc_get_stats(&before);
    (void)run_spend(&s, NULL, 0);
    free(s.img);
    s.img = i2, s.img_len = l2, i2 = NULL;
    (void)run_spend(&s, NULL, 0);
    pc_get_stats(&after);
    ck_assert_uint_eq(after.misses - before.misses, 2);
    ck_assert_uint_eq(after.code_hits - before.code_hits, 1);
    ck_assert_uint_eq(after.programs - before.programs, 1);
    free(i1);
    spend_free(&s);
}
END_TEST

START_TEST(thousandth_run_decodes_nothing)
{
    uint8_t pk[32], sk[64], sig[64];
    pc_stats before, after;
    spend s;

    keypair(pk, sk, 50);
    spend_init(&s, UTXO_STD_P2PK, pk, 32, 0);
    crypto_sign_detached(sig, NULL, s.ctx.sighash, 32, sk);
    ck_accepts(&s, sig, 64);
    pc_get_stats(&before);
    for (int i = 0; i < 1000; i++)
        ck_accepts(&s, sig, 64);
    pc_get_stats(&after);
    ck_assert_uint_eq(after.hits - before.hits, 1000);
    ck_assert_uint_eq(after.misses, before.misses);
    ck_assert_uint_eq(after.programs, before.programs);
    spend_free(&s);
}
END_TEST

/* Loading the whole instance image as one program gives the same run as the
 * cache's template program + parameter write. */
START_TEST(cached_run_equals_direct_run)
{
    uint8_t params[100], sk[64], args[65 + 4];
    vm_image im;
    vm_program *prog;
    vm *v = vm_new();
    spend s;

    ck_assert_ptr_nonnull(v);
    memset(params, 0x21, sizeof params);
    crypto_generichash(params, 32, (const uint8_t *)"abcd", 4, NULL, 0);
    keypair(params + 32, sk, 60);
    spend_init(&s, UTXO_STD_HTLC, params, sizeof params, 0);
    args[0] = 0;
    crypto_sign_detached(args + 1, NULL, s.ctx.sighash, 32, sk);
    memcpy(args + 65, "abcd", 4);
    ck_assert_int_eq(img_decode(&im, s.img, s.img_len, NULL), UTXO_OK);
    ck_assert_int_eq(vm_program_new(&prog, &im), UTXO_OK);
    for (size_t len = 0; len <= sizeof args; len++) {
        for (uint64_t budget = 50; budget < 100000; budget = budget * 3 + 1) {
            utxo_vm_result a, b;
            ck_assert_int_eq(utxo_predicate_run(&a, s.img, s.img_len, args, len, &s.ctx, budget), UTXO_OK);
            ck_assert_int_eq(vm_run(v, prog, args, (uint32_t)len, &s.ctx, budget, &b), UTXO_OK);
            ck_assert_int_eq(a.status, b.status);
            ck_assert_int_eq(a.fail, b.fail);
            ck_assert_uint_eq(a.exit_code, b.exit_code);
            ck_assert_uint_eq(a.pc, b.pc);
            ck_assert_uint_eq(a.cycles, b.cycles);
        }
    }
    vm_program_free(prog);
    img_free(&im);
    vm_free(v);
    spend_free(&s);
}
END_TEST

/* Odd layouts for the split: the code itself in the parameter segment, and
 * a parameter segment sharing its page with code that reads it. */
START_TEST(cached_run_equals_direct_run_odd_layouts)
{
    /* li a0, 0; li a7, 0; ecall */
    static const uint8_t accept[12] = {0x13, 0x05, 0x00, 0x00, 0x93, 0x08, 0x00, 0x00, 0x73, 0x00, 0x00, 0x00};
    /* lui a0, 0x10; lw a0, 0(a0); li a7, 0; ecall: exit code = first params word */
    static const uint8_t readp[16] = {0x37, 0x05, 0x01, 0x00, 0x03, 0x25, 0x05, 0x00,
                                      0x93, 0x08, 0x00, 0x00, 0x73, 0x00, 0x00, 0x00};
    static const uint8_t word[4] = {7, 0, 0, 0};
    const vm_segment layouts[3][2] = {
        {{UTXO_ABI_PARAMS_BASE, sizeof accept, accept}, {0, 0, NULL}},
        {{UTXO_ABI_PARAMS_BASE, sizeof word, word}, {UTXO_ABI_PARAMS_BASE + 64, sizeof readp, readp}},
        {{UTXO_ABI_PARAMS_BASE, sizeof word, word}, {UTXO_ABI_CODE_BASE, sizeof readp, readp}},
    };
    const uint32_t entries[3] = {UTXO_ABI_PARAMS_BASE, UTXO_ABI_PARAMS_BASE + 64, UTXO_ABI_CODE_BASE};
    const uint32_t exits[3] = {0, 7, 7};
    vm *v = vm_new();

    ck_assert_ptr_nonnull(v);
    for (int i = 0; i < 3; i++) {
        uint8_t *img;
        size_t len;
        vm_image im;
        vm_program *prog;
        utxo_vm_result a, b;

        ck_assert_int_eq(img_encode(&img, &len, entries[i], layouts[i], i == 0 ? 1 : 2), UTXO_OK);
        ck_assert_int_eq(img_decode(&im, img, len, NULL), UTXO_OK);
        ck_assert_int_eq(vm_program_new(&prog, &im), UTXO_OK);
        ck_assert_int_eq(utxo_predicate_run(&a, img, len, NULL, 0, NULL, 1000), UTXO_OK);
        ck_assert_int_eq(vm_run(v, prog, NULL, 0, NULL, 1000, &b), UTXO_OK);
        ck_assert_uint_eq(a.exit_code, exits[i]);
        ck_assert_int_eq(a.status, b.status);
        ck_assert_uint_eq(a.exit_code, b.exit_code);
        ck_assert_uint_eq(a.cycles, b.cycles);
        ck_assert_uint_eq(a.pc, b.pc);
        vm_program_free(prog);
        img_free(&im);
        free(img);
    }
    vm_free(v);
}
END_TEST

START_TEST(templates_are_valid_and_distinct)
{
    uint8_t ids[STDPRED_COUNT][32];

    for (int k = 0; k < STDPRED_COUNT; k++) {
        const stdpred_template *t = stdpred_get(k);
        img_view v;
        ck_assert_ptr_nonnull(t);
        ck_assert_int_eq(img_view_decode(&v, t->image, t->image_len, NULL), UTXO_OK);
        ck_assert_uint_eq(v.entry, UTXO_ABI_CODE_BASE);
        for (uint32_t i = 0; i < v.n_segs; i++)
            ck_assert_uint_ne(v.segs[i].vaddr, UTXO_ABI_PARAMS_BASE);
        utxo_predicate_id(ids[k], t->image, t->image_len);
        for (int j = 0; j < k; j++)
            ck_assert_mem_ne(ids[j], ids[k], 32);
    }
    /* the ids published in docs/PREDICATES.md: a change is a consensus change */
    ck_assert_hex_eq(ids[UTXO_STD_P2PK], 32, "6f493493ce127156b3347775ed7e1688275edfd6d75036d158991d71b349366d");
    ck_assert_hex_eq(ids[UTXO_STD_MULTISIG], 32, "2bf6b7e44e09654f03412d2bdc470d4fdbee2d63b212ae4a0197c898292d9830");
    ck_assert_hex_eq(ids[UTXO_STD_HASHLOCK], 32, "812bce120c466827394d342cad1fddeb978c6dd25f7e1e6a889fd67c5f085932");
    ck_assert_hex_eq(ids[UTXO_STD_TIMELOCK], 32, "3a12c42d91115d2a73c7f830813a82fdc9f07991c143e187004e5edc96840fe4");
    ck_assert_hex_eq(ids[UTXO_STD_HTLC], 32, "864d33cdada2cadc6d301e01df7d305ed2a4f586915b8cbd95499135cc993ccb");
    ck_assert_hex_eq(ids[UTXO_STD_RSA], 32, "17e1f44796259ed774c4394dc745aac588bceff34a85f3af80263f22971cb115");
    /* an instance: pay to the key 11 11 ... 11 (docs/PREDICATES.md) */
    {
        uint8_t pk[32], id[32], *img;
        size_t len;
        memset(pk, 0x11, sizeof pk);
        ck_assert_int_eq(stdpred_instance(UTXO_STD_P2PK, pk, 32, &img, &len), UTXO_OK);
        ck_assert_uint_eq(len, 302);
        utxo_predicate_id(id, img, len);
        ck_assert_hex_eq(id, 32, "4dde5910d45e2df79ad113eaa77a2e20e73856e1b44c82c0533e523f173be458");
        free(img);
    }
    ck_assert_ptr_null(stdpred_get(STDPRED_COUNT));
    ck_assert_ptr_null(stdpred_get(-1));
}
END_TEST

/* The one table: each row sits at its kind's number and is found by its
 * name; the parameter rules read from it; the budgets it gives are the
 * numbers the wallet has always budgeted (utxo_std_budget). */
START_TEST(table_rows_and_budgets)
{
    static const char *const names[STDPRED_COUNT] = {"p2pk", "multisig", "hashlock",
                                                     "timelock", "htlc", "rsa"};
    uint8_t p[300];

    for (int k = 0; k < STDPRED_COUNT; k++) {
        const stdpred_template *t = stdpred_get(k);
        ck_assert_ptr_nonnull(t);
        ck_assert_int_eq(t->kind, k);
        ck_assert_str_eq(t->name, names[k]);
        ck_assert_ptr_eq(stdpred_by_name(names[k]), t);
        ck_assert(t->params_doc != NULL && t->args_doc != NULL && t->doc != NULL);
    }
    ck_assert_ptr_null(stdpred_by_name("p2sh"));
    ck_assert_ptr_null(stdpred_by_name(NULL));
    memset(p, 0, sizeof p);
    ck_assert_int_eq(stdpred_check_params(UTXO_STD_P2PK, p, 32), UTXO_OK);
    ck_assert_int_eq(stdpred_check_params(UTXO_STD_P2PK, p, 31), UTXO_ERR_ARG);
    ck_assert_int_eq(stdpred_check_params(UTXO_STD_TIMELOCK, p, 36), UTXO_OK);
    ck_assert_int_eq(stdpred_check_params(UTXO_STD_HTLC, p, 100), UTXO_OK);
    ck_assert_int_eq(stdpred_check_params(UTXO_STD_HTLC, p, 36), UTXO_ERR_ARG);
    ck_assert_int_eq(stdpred_check_params(UTXO_STD_RSA, p, 256), UTXO_ERR_ARG); /* not 2048 bits */
    p[0] = 0x80, p[255] = 1;
    ck_assert_int_eq(stdpred_check_params(UTXO_STD_RSA, p, 256), UTXO_OK);
    p[0] = 1, p[1] = 1; /* 1 of 1 */
    ck_assert_int_eq(stdpred_check_params(UTXO_STD_MULTISIG, p, 36), UTXO_OK);
    ck_assert_int_eq(stdpred_check_params(UTXO_STD_MULTISIG, p, 68), UTXO_ERR_ARG);
    ck_assert_int_eq(stdpred_check_params(6, p, 32), UTXO_ERR_ARG);
    ck_assert_int_eq(stdpred_check_params(UTXO_STD_P2PK, NULL, 32), UTXO_ERR_ARG);
    ck_assert_uint_eq(utxo_std_budget(UTXO_STD_P2PK, 1, 0), 26624);
    ck_assert_uint_eq(utxo_std_budget(UTXO_STD_TIMELOCK, 0, 0), 26624);
    ck_assert_uint_eq(utxo_std_budget(UTXO_STD_MULTISIG, 2, 0), 49152);
    ck_assert_uint_eq(utxo_std_budget(UTXO_STD_MULTISIG, 0, 0), 0);
    ck_assert_uint_eq(utxo_std_budget(UTXO_STD_MULTISIG, 17, 0), 0);
    ck_assert_uint_eq(utxo_std_budget(UTXO_STD_HASHLOCK, 0, 32), 4096 + 2 * (124 + 96 + 4));
    ck_assert_uint_eq(utxo_std_budget(UTXO_STD_HTLC, 0, 200), 4096 + 22528 + 2 * (124 + 192 + 25));
    ck_assert_uint_eq(utxo_std_budget(UTXO_STD_RSA, 0, 0), 40960);
    ck_assert_uint_eq(utxo_std_budget(UTXO_STD_NONE, 1, 0), 0);
    ck_assert_uint_eq(utxo_std_budget(6, 1, 0), 0);
}
END_TEST

/* Four threads spend 300 distinct pay-to-pubkey instances (more than the
 * cache holds, so entries are evicted while other threads run them) with
 * right and wrong signatures; every outcome must be the expected one. */
#define MT_KEYS 300
#define MT_THREADS 4
static uint8_t mt_pk[MT_KEYS][32], mt_sig[MT_KEYS][64];
static uint8_t *mt_img[MT_KEYS];
static size_t mt_len[MT_KEYS];
static spend mt_spend;

static void *mt_worker(void *arg)
{
    uintptr_t t = (uintptr_t)arg, bad = 0;

    for (int round = 0; round < 3; round++)
        for (uint32_t k = (uint32_t)t; k < MT_KEYS; k += 1) {
            uint32_t key = (k * 7 + (uint32_t)t * 13 + (uint32_t)round) % MT_KEYS;
            uint32_t other = (key + 1) % MT_KEYS;
            utxo_vm_result r;
            if (utxo_predicate_run(&r, mt_img[key], mt_len[key], mt_sig[key], 64, &mt_spend.ctx, BUDGET) != UTXO_OK ||
                r.status != UTXO_VM_ACCEPTED)
                bad++;
            if (utxo_predicate_run(&r, mt_img[key], mt_len[key], mt_sig[other], 64, &mt_spend.ctx, BUDGET) != UTXO_OK ||
                r.status != UTXO_VM_REJECTED || r.exit_code != 2)
                bad++;
        }
    return (void *)bad;
}

START_TEST(cache_is_thread_safe)
{
    pthread_t th[MT_THREADS];
    uint8_t sk[64];
    uintptr_t bad = 0;

    spend_init(&mt_spend, UTXO_STD_HASHLOCK, (const uint8_t[32]){0}, 32, 0); /* just for a ctx */
    for (int k = 0; k < MT_KEYS; k++) {
        uint8_t seed[32] = {(uint8_t)k, (uint8_t)(k >> 8), 0x5a};
        crypto_sign_seed_keypair(mt_pk[k], sk, seed);
        crypto_sign_detached(mt_sig[k], NULL, mt_spend.ctx.sighash, 32, sk);
        ck_assert_int_eq(stdpred_instance(UTXO_STD_P2PK, mt_pk[k], 32, &mt_img[k], &mt_len[k]), UTXO_OK);
    }
    for (uintptr_t t = 0; t < MT_THREADS; t++)
        ck_assert_int_eq(pthread_create(&th[t], NULL, mt_worker, (void *)t), 0);
    for (int t = 0; t < MT_THREADS; t++) {
        void *ret;
        ck_assert_int_eq(pthread_join(th[t], &ret), 0);
        bad += (uintptr_t)ret;
    }
    ck_assert_uint_eq(bad, 0);
    for (int k = 0; k < MT_KEYS; k++)
        free(mt_img[k]);
    pc_clear();
    spend_free(&mt_spend);
}
END_TEST

/* docs/ENCODING.md (witness form 3) and PREDICATES.md section 5, in their
 * own terms: with parameters P the instance is the code's bytes with the
 * table entry (0x10000, len P) first and P before the code's segment bytes;
 * a code segment overlapping [0x10000, 0x10000 + len P), a code of 16
 * segments, a datum that is no image, and an empty datum without
 * parameters are UTXO_ERR_TX_REF_CODE. */
START_TEST(reference_instances_as_documented)
{
    /* one segment at 0x10004, 4 bytes: an ecall as entry */
    static uint8_t code[] = {'U', 'T', 'X', 'P', 1, 1, 0x04, 0x00, 0x01, 0x00,
                             0x04, 0x00, 0x01, 0x00, 4, 0, 0, 0, 0x73, 0, 0, 0};
    static uint8_t params[5] = {1, 2, 3, 4, 5}, junk[3] = {1, 2, 3};
    uint8_t want[sizeof code + 8 + 4], *owned, many[10 + 16 * 8 + 16 * 4];
    utxo_output ref;
    utxo_witness w;
    const uint8_t *img;
    size_t len;

    memset(&w, 0, sizeof w);
    memset(&ref, 0, sizeof ref);
    w.form = UTXO_FORM_REF;
    w.params = params;
    ref.datum = code;
    ref.datum_len = sizeof code;
    /* 4 parameter bytes fit below the segment at 0x10004 */
    memcpy(want, code, 5);
    want[5] = 2;
    memcpy(want + 6, code + 6, 4);
    memcpy(want + 10, "\x00\x00\x01\x00\x04\x00\x00\x00", 8);
    memcpy(want + 18, code + 10, 8);
    memcpy(want + 26, params, 4);
    memcpy(want + 30, code + 18, 4);
    w.params_len = 4;
    ck_assert_int_eq(stdpred_witness_image(&w, &ref, 1, &img, &len, &owned), UTXO_OK);
    ck_assert_uint_eq(len, sizeof want);
    ck_assert_mem_eq(img, want, sizeof want);
    free(owned);
    /* 5 overlap it */
    w.params_len = 5;
    ck_assert_int_eq(stdpred_witness_image(&w, &ref, 1, &img, &len, &owned), UTXO_ERR_TX_REF_CODE);
    /* no parameters: the datum is the image; an empty datum is refused */
    w.params_len = 0;
    ck_assert_int_eq(stdpred_witness_image(&w, &ref, 1, &img, &len, &owned), UTXO_OK);
    ck_assert(img == code && len == sizeof code);
    ref.datum_len = 0;
    ck_assert_int_eq(stdpred_witness_image(&w, &ref, 1, &img, &len, &owned), UTXO_ERR_TX_REF_CODE);
    /* a datum that is no image */
    w.params_len = 1;
    ref.datum = junk;
    ref.datum_len = sizeof junk;
    ck_assert_int_eq(stdpred_witness_image(&w, &ref, 1, &img, &len, &owned), UTXO_ERR_TX_REF_CODE);
    /* 16 segments of 4 bytes at 0x20000, 0x20004, ...: no room for a 17th */
    memcpy(many, "UTXP\x01\x10\x00\x00\x02\x00", 10);
    for (unsigned i = 0; i < 16; i++) {
        uint8_t *e = many + 10 + 8 * i;
        uint32_t va = 0x20000u + 4 * i;
        e[0] = (uint8_t)va, e[1] = (uint8_t)(va >> 8), e[2] = (uint8_t)(va >> 16), e[3] = 0;
        e[4] = 4, e[5] = e[6] = e[7] = 0;
        memcpy(many + 10 + 128 + 4 * i, "\x73\x00\x00\x00", 4);
    }
    ref.datum = many;
    ref.datum_len = sizeof many;
    w.params_len = 0;
    ck_assert_int_eq(stdpred_witness_image(&w, &ref, 1, &img, &len, &owned), UTXO_OK);
    w.params_len = 1;
    ck_assert_int_eq(stdpred_witness_image(&w, &ref, 1, &img, &len, &owned), UTXO_ERR_TX_REF_CODE);
}
END_TEST

START_TEST(run_api_errors)
{
    utxo_vm_result r;
    const stdpred_template *t = stdpred_get(UTXO_STD_P2PK);
    uint8_t bad[16] = "UTXQ";

    ck_assert_int_eq(utxo_predicate_run(NULL, t->image, t->image_len, NULL, 0, NULL, 10), UTXO_ERR_ARG);
    ck_assert_int_eq(utxo_predicate_run(&r, NULL, 5, NULL, 0, NULL, 10), UTXO_ERR_ARG);
    ck_assert_int_eq(utxo_predicate_run(&r, t->image, t->image_len, NULL, 3, NULL, 10), UTXO_ERR_ARG);
    ck_assert_int_eq(utxo_predicate_run(&r, bad, sizeof bad, NULL, 0, NULL, 10), UTXO_ERR_VERSION);
    ck_assert_int_eq(utxo_predicate_run(&r, t->image, t->image_len - 1, NULL, 0, NULL, 10), UTXO_ERR_TRUNCATED);
    /* a budget of zero: out of cycles before the first instruction */
    ck_assert_int_eq(utxo_predicate_run(&r, t->image, t->image_len, NULL, 0, NULL, 0), UTXO_OK);
    ck_assert_int_eq(r.status, UTXO_VM_FAILED);
    ck_assert_int_eq(r.fail, UTXO_VM_FAIL_OUT_OF_CYCLES);
    ck_assert_uint_eq(r.cycles, 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("stdpred");
    TCase *t = tcase_create("stdpred");

    tcase_set_timeout(t, 120);
    tcase_add_test(t, p2pk);
    tcase_add_test(t, multisig_2_of_3);
    tcase_add_test(t, multisig_duplicate_key);
    tcase_add_test(t, hashlock);
    tcase_add_test(t, timelock);
    tcase_add_test(t, htlc);
    tcase_add_test(t, rsa2048);
    tcase_add_test(t, params_bound_to_id_and_code_shared);
    tcase_add_test(t, thousandth_run_decodes_nothing);
    tcase_add_test(t, cached_run_equals_direct_run);
    tcase_add_test(t, cached_run_equals_direct_run_odd_layouts);
    tcase_add_test(t, templates_are_valid_and_distinct);
    tcase_add_test(t, table_rows_and_budgets);
    tcase_add_test(t, cache_is_thread_safe);
    tcase_add_test(t, reference_instances_as_documented);
    tcase_add_test(t, run_api_errors);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    if (sodium_init() < 0)
        return EXIT_FAILURE;
    return run_suite(suite());
}
