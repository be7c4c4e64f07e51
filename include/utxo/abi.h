/*
 * utxo/abi.h — the predicate ABI: what a guest program sees of the host.
 *
 * This header is freestanding (only #defines) so that it can be included by
 * the host (src/predicates/hostcall.c) and by predicate programs compiled
 * for RV32IM (src/predicates/sdk/utxo_sdk.h) alike. It fixes:
 *   - the memory layout a predicate may rely on,
 *   - the host-call numbers, their argument and result registers,
 *   - the fixed-layout records host calls write into guest memory,
 *   - the cost in cycles of every host call and of every fresh page of
 *     memory a run touches.
 * Every number here is consensus: changing one changes which spends are
 * valid. docs/PREDICATES.md has the same tables with explanations.
 *
 * Calling convention. A guest executes ECALL with the call number in a7 and
 * arguments in a0..a5; results come back in a0 (and a1). A host call first
 * charges its whole cost, computed from its register arguments only, then
 * does its work; a pointer or length that does not fit guest memory fails
 * the run (BAD_ACCESS from the memory checks, BAD_HOSTCALL for an argument
 * out of its documented range, e.g. an input index past the inputs).
 */
#ifndef UTXO_ABI_H
#define UTXO_ABI_H

/* ---- memory layout ------------------------------------------------------
 *
 *   0x00000000 .. 0x0000ffff   never mapped (null guard): any access fails
 *   0x00010000 .. 0x0001ffff   parameter segment of standard predicates
 *                              (UTXO_ABI_PARAMS_BASE; part of the image)
 *   0x00020000 ..              code and data of the image (UTXO_ABI_CODE_BASE,
 *                              where the SDK linker script starts .text)
 *   .. 0x0fffffff              end of the region an image may load into
 *   .. 0x7ffffff0              stack, growing down from UTXO_ABI_STACK_TOP
 *   0x80000000 ..              the argument bytes (args_len of them)
 *
 * Initial state (the machine's contract, src/predicates/vm.h and docs/VM.md):
 * pc = image entry, a0 = args_len, a1 = UTXO_ABI_ARGS_BASE,
 * sp = UTXO_ABI_STACK_TOP, every other register 0.
 * Memory is demand-zero: every mapped address outside the image and the
 * arguments reads as zero until written; the machine counts touched pages
 * against its page limit (docs/VM.md).
 */
#define UTXO_ABI_PAGE_BYTES 1024u
#define UTXO_ABI_IMAGE_BASE 0x00010000u /* lowest address an image segment may use */
#define UTXO_ABI_IMAGE_END 0x10000000u  /* segments end at or below this address */
#define UTXO_ABI_PARAMS_BASE 0x00010000u
#define UTXO_ABI_PARAMS_MAX 0x00010000u /* bytes reserved for parameters */
#define UTXO_ABI_CODE_BASE 0x00020000u
#define UTXO_ABI_ARGS_BASE 0x80000000u
#define UTXO_ABI_STACK_TOP 0x7ffffff0u

/* Size of a hash, a public key and a signature, in bytes. */
#define UTXO_ABI_HASH_BYTES 32u
#define UTXO_ABI_PUBKEY_BYTES 32u
#define UTXO_ABI_SIG_BYTES 64u

/* ---- host-call numbers (a7) ----------------------------------------------
 * number                      arguments                     results
 */
#define UTXO_HC_HALT 0u          /* a0 exit code (0 accepts)        does not return */
#define UTXO_HC_ARGS_LEN 1u      /* -                               a0 argument length */
#define UTXO_HC_ARGS_READ 2u     /* a0 dst, a1 offset, a2 len       - */
#define UTXO_HC_SIGHASH 3u       /* a0 dst (32 bytes)               - */
#define UTXO_HC_INPUT_INDEX 4u   /* -                               a0 own input index */
#define UTXO_HC_COUNTS 5u        /* -                               a0 inputs, a1 outputs */
#define UTXO_HC_INPUT 6u         /* a0 index, a1 dst (record below) - */
#define UTXO_HC_INPUT_DATUM 7u   /* a0 index, a1 dst, a2 off, a3 len - */
#define UTXO_HC_OUTPUT 8u        /* a0 index, a1 dst (record below) - */
#define UTXO_HC_OUTPUT_DATUM 9u  /* a0 index, a1 dst, a2 off, a3 len - */
#define UTXO_HC_HEIGHT 10u       /* -                               a0 block height */
#define UTXO_HC_BLAKE2B 11u      /* a0 src, a1 len, a2 dst (32)     - */
#define UTXO_HC_SHA256 12u       /* a0 src, a1 len, a2 dst (32)     - */
#define UTXO_HC_ED25519 13u      /* a0 sig (64), a1 pk (32), a2 msg, a3 msg len
                                                                    a0 0 valid, 1 invalid */
#define UTXO_HC_BIG_MODEXP 14u   /* a0 descriptor {out, base, exp, mod} - */
#define UTXO_HC_BIG_MUL 15u      /* a0 descriptor {out, a, b}       - */
#define UTXO_HC_BIG_DIVMOD 16u   /* a0 descriptor {quot, rem, a, b} - */
#define UTXO_HC_BIG_CMP 17u      /* a0 a, a1 a len, a2 b, a3 b len  a0 0xffffffff / 0 / 1 */
#define UTXO_HC_DEBUG_LOG 18u    /* a0 src, a1 len                  - */
#define UTXO_HC_COUNT 19u        /* numbers >= this: BAD_HOSTCALL */

/* ---- records written by host calls (little-endian) ---------------------- */
/* UTXO_HC_INPUT: the outpoint an input spends and the output it spends. */
#define UTXO_ABI_INPUT_BYTES 80u
#define UTXO_ABI_INPUT_TXID 0u          /* 32 bytes: txid of the outpoint */
#define UTXO_ABI_INPUT_PREDICATE_ID 32u /* 32 bytes: spent output's predicate id */
#define UTXO_ABI_INPUT_VALUE 64u        /* u64: spent output's value */
#define UTXO_ABI_INPUT_VOUT 72u         /* u32: index of the outpoint */
#define UTXO_ABI_INPUT_DATUM_LEN 76u    /* u32: spent output's datum length */
/* UTXO_HC_OUTPUT: an output of the spending transaction. */
#define UTXO_ABI_OUTPUT_BYTES 48u
#define UTXO_ABI_OUTPUT_PREDICATE_ID 0u /* 32 bytes */
#define UTXO_ABI_OUTPUT_VALUE 32u       /* u64 */
#define UTXO_ABI_OUTPUT_DATUM_LEN 40u   /* u32 */
#define UTXO_ABI_OUTPUT_ZERO 44u        /* u32: always 0 (alignment) */

/* ---- big integers --------------------------------------------------------
 * A number is a big-endian byte string (ptr, len) in guest memory; leading
 * zero bytes are allowed, len 0 is zero. A descriptor is an array of such
 * (ptr u32, len u32) pairs, little-endian, at a0. An output is written in
 * exactly len bytes, left-padded with zeros; a result that does not fit is
 * BAD_HOSTCALL, as are a zero modulus or divisor and any operand longer than
 * its limit below. Outputs are written after all inputs are read, so an
 * output may overlap an input.
 */
#define UTXO_ABI_BIG_MAX_BYTES 512u   /* 4096 bits: operands, modulus, exponent */
#define UTXO_ABI_BIG_WIDE_BYTES 1024u /* products, dividends, mul outputs, cmp operands */
#define UTXO_ABI_DEBUG_MAX_BYTES 1024u
#define UTXO_ABI_ED25519_MAX_MSG 4096u /* longest message UTXO_HC_ED25519 takes */

/* ---- costs in cycles -----------------------------------------------------
 * One cycle is one interpreted instruction (about 2 ns on the reference
 * machine); each cost below is an upper bound of the host time of the call
 * in that unit, measured with libsodium 1.0.18 and GMP 6.2 (docs/PREDICATES.md).
 * "words(n)" = ceil(n / 8), the number of 64-bit limbs of an n-byte number;
 * "blocks(n, b)" = ceil(n / b). The ECALL instruction itself is one more
 * cycle, counted by the machine.
 */
#define UTXO_COST_HOSTCALL 20u          /* every call, including HALT */
#define UTXO_COST_COPY_DIV 8u           /* + ceil(bytes / 8) for bytes copied */
#define UTXO_COST_BLAKE2B_BASE 100u     /* + 96 per started 128-byte block */
#define UTXO_COST_BLAKE2B_BLOCK 96u
#define UTXO_COST_SHA256_BASE 100u      /* + 80 per started 64-byte block (+9 padding bytes) */
#define UTXO_COST_SHA256_BLOCK 80u
#define UTXO_COST_ED25519_BASE 20000u   /* + 1 per message byte */
#define UTXO_COST_ED25519_BYTE 1u
#define UTXO_COST_BIG_BASE 200u         /* every big-integer call, plus: */
#define UTXO_COST_BIG_WORD 4u           /* per word of every operand and output */
#define UTXO_COST_BIG_FLOOR 8u          /* per-limb floor in modexp and divmod */
/* modexp: + (words(mod)^2 + 8) * 8 * len(exp) + words(base) * words(mod) */
/* mul:    + words(a) * words(b) */
/* divmod: + words(a) * (words(b) + 8) */
/* cmp:    nothing more */
#define UTXO_COST_DEBUG_BASE 20u        /* + copy cost */

/* Memory. A run is charged UTXO_ABI_PAGE_CYCLES for every page of
 * UTXO_ABI_PAGE_BYTES it materialises: the first time anything the run
 * does touches a page that is not in memory yet -- a load, a store, or a
 * host call reading or writing guest memory (an instruction fetch never
 * materialises a page; it needs one already there). Each page is charged
 * once per run, by the instruction (or host call) that first touches it;
 * a charge that does not fit the budget fails the run OUT_OF_CYCLES with
 * the count at the budget. The pages the loader fills before the first
 * instruction -- the image's segments and the argument bytes -- are not
 * charged: their number is bounded by the bytes the spending transaction
 * carries and pays for. One cycle per byte of fresh memory makes a page
 * cost the host (fault, zeroing at reset, a decode if code runs from it:
 * 200-1400 ns measured) about what the same cycles of computation do, so
 * touching memory is no cheaper per cycle than anything else
 * (docs/VM.md, "Metering"). */
#define UTXO_ABI_PAGE_CYCLES 1024u

#endif /* UTXO_ABI_H */
