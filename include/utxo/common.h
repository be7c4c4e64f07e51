/*
 * utxo/common.h — result codes, sizes and version of libutxo.
 *
 * Every libutxo function that can fail returns an int: UTXO_OK (0) on
 * success, otherwise one of the UTXO_ERR_* codes below. utxo_strerror() turns
 * a code into a one-line message. Codes are stable: a number, once published,
 * keeps its meaning. They are grouped by range:
 *
 *     1..9     generic (memory, arguments, I/O)
 *    10..29    decoding (every strict decoder)
 *    30..59    transaction rules
 *    60..99    block rules
 *   100..149   predicates and the VM
 *   150..199   continuations and segment receipts
 *   200..249   accumulator and stateless validation
 *   250..299   storage
 *   300..349   wallet
 *   350..369   mempool and sequencer
 */
#ifndef UTXO_COMMON_H
#define UTXO_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include "utxo/version.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define UTXO_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define UTXO_WARN_UNUSED
#endif

/** Bytes in every hash and identifier (BLAKE2b-256). */
#define UTXO_HASH_BYTES 32u

enum utxo_err {
    UTXO_OK = 0,
    /* generic */
    UTXO_ERR_NOMEM = 1,          /* out of memory */
    UTXO_ERR_ARG = 2,            /* invalid argument to an API function */
    UTXO_ERR_IO = 3,             /* read or write failed (see errno) */
    UTXO_ERR_INTERNAL = 4,       /* an internal invariant failed */
    /* decoding */
    UTXO_ERR_TRUNCATED = 10,     /* input ends inside a field */
    UTXO_ERR_TRAILING = 11,      /* bytes left after the object */
    UTXO_ERR_NONCANONICAL = 12,  /* a field has a non-minimal or reserved form */
    UTXO_ERR_TOO_LARGE = 13,     /* a length or count exceeds its limit */
    UTXO_ERR_VERSION = 14,       /* unknown format version */
    /* transaction rules */
    UTXO_ERR_TX_NO_INPUTS = 30,  /* a non-coinbase transaction spends nothing */
    UTXO_ERR_TX_NO_OUTPUTS = 31, /* a transaction creates no output */
    UTXO_ERR_TX_SIZE = 32,       /* encoded transaction over the size limit */
    UTXO_ERR_TX_DUP_INPUT = 33,  /* one outpoint spent twice in a transaction */
    UTXO_ERR_TX_VALUE = 34,      /* a value or a sum exceeds the maximum supply */
    UTXO_ERR_TX_WITNESS = 35,    /* an input has no predicate image */
    UTXO_ERR_TX_CYCLES = 36,     /* cycle budgets over the per-transaction limit */
    UTXO_ERR_TX_COUNT = 37,      /* too many inputs or outputs */
    UTXO_ERR_TX_DATUM = 38,      /* a datum, image or argument over its limit */
    UTXO_ERR_TX_FEE = 39,        /* fee below size and cycle price */
    UTXO_ERR_TX_MISSING = 40,    /* an input spends an output that does not exist */
    UTXO_ERR_TX_PREDICATE_ID = 41, /* the witness image does not hash to the spent predicate id */
    UTXO_ERR_TX_REJECTED = 42,   /* an input's predicate did not accept */
    UTXO_ERR_TX_FORM = 43,       /* unknown witness form tag */
    UTXO_ERR_TX_TEMPLATE = 44,   /* template index not in the consensus table */
    UTXO_ERR_TX_TEMPLATE_PARAMS = 45, /* parameters of the wrong length or layout for the template */
    UTXO_ERR_TX_REF_INDEX = 46,  /* a witness names a reference input the tx does not list */
    UTXO_ERR_TX_REF_UNUSED = 47, /* a reference input no witness names */
    UTXO_ERR_TX_REF_DUP = 48,    /* one outpoint listed twice as a reference input */
    UTXO_ERR_TX_REF_SPENT = 49,  /* an outpoint both referenced and spent by the tx */
    UTXO_ERR_TX_REF_MISSING = 50, /* a reference input names no unspent output of an earlier block */
    UTXO_ERR_TX_REF_CODE = 51,   /* a referenced datum is no image, or has no room for the parameters */
    /* block rules */
    UTXO_ERR_BLOCK_VERSION = 60,    /* unknown header version */
    UTXO_ERR_BLOCK_EMPTY = 61,      /* no transaction (a coinbase is required) */
    UTXO_ERR_BLOCK_COINBASE = 62,   /* first tx is not a coinbase, or another tx is */
    UTXO_ERR_BLOCK_HEIGHT = 63,     /* coinbase or header height is wrong */
    UTXO_ERR_BLOCK_TX_ROOT = 64,    /* tx root does not match the transactions */
    UTXO_ERR_BLOCK_DOUBLE_SPEND = 65, /* one outpoint spent twice in the block */
    UTXO_ERR_BLOCK_SIZE = 66,       /* block over the size or tx-count limit */
    UTXO_ERR_BLOCK_CYCLES = 67,     /* cycle budgets over the per-block limit */
    UTXO_ERR_BLOCK_PREV = 68,       /* previous hash is not the tip */
    UTXO_ERR_BLOCK_SIG = 69,        /* sequencer signature does not verify */
    UTXO_ERR_BLOCK_DIGEST = 70,     /* accumulator digest does not match */
    UTXO_ERR_BLOCK_DUP_TXID = 71,   /* two transactions with one txid */
    UTXO_ERR_BLOCK_TIME = 72,       /* time goes backwards */
    UTXO_ERR_BLOCK_REF_SPENT = 73,  /* an output referenced in the block is spent in it */
    UTXO_ERR_BLOCK_REF_NEW = 74,    /* a reference to an output created in the same block */
    /* predicates: images and ELF files (100..119; the VM itself uses 120..149) */
    UTXO_ERR_IMAGE = 100,           /* predicate image breaks a layout rule */
    UTXO_ERR_ELF = 101,             /* ELF file malformed or not an RV32IM executable */
    /* continuations and segment receipts (150..199) */
    UTXO_ERR_SEG_PARAM = 150,       /* segment size (po2) or page limit out of range */
    UTXO_ERR_SEG_HOSTCALL = 151,    /* one host call costs more than a whole segment */
    UTXO_ERR_SEG_WITNESS = 152,     /* segment touches a page outside its witness, or not every witnessed page */
    UTXO_ERR_SEG_STATE = 153,       /* receipt pre-state impossible (cycles, page counts) */
    UTXO_ERR_SEG_POST = 154,        /* re-executed post-state digest differs from the claimed one */
    UTXO_ERR_SEG_OUTCOME = 155,     /* final flag or claimed outcome differs from the re-execution */
    UTXO_ERR_SEG_STALL = 156,       /* a segment that is not the last one executes nothing */
    UTXO_ERR_SEG_CHAIN = 157,       /* receipts do not chain (order, start, links, missing or extra last) */
    UTXO_ERR_SEG_RUN = 158,         /* receipt belongs to another run (id, arguments, budget, limits) */
    /* accumulator and stateless validation (200..249) */
    UTXO_ERR_ACC_PROOF = 200,       /* accumulator proof does not match the roots */
    UTXO_ERR_ACC_POSITION = 201,    /* leaf position unsorted, repeated or beyond the leaf count */
    UTXO_ERR_ACC_SIBLINGS = 202,    /* accumulator proof has extra or missing sibling hashes */
    UTXO_ERR_ACC_SPENT = 203,       /* accumulator leaf already deleted */
    UTXO_ERR_ACC_FULL = 204,        /* accumulator leaf count would exceed 2^64-1 */
    UTXO_ERR_FILE_FORMAT = 210,     /* not a block, proof or state file of this format */
    UTXO_ERR_FILE_CHAIN = 211,      /* file or state belongs to another chain (params differ) */
    UTXO_ERR_BUNDLE_BLOCK = 212,    /* block proof bundle names another block */
    UTXO_ERR_BUNDLE_STATE = 213,    /* bundle was built against another accumulator leaf count */
    UTXO_ERR_BUNDLE_SPENDS = 214,   /* bundle's spent outputs do not match the block's inputs */
    UTXO_ERR_BUNDLE_RECEIPT = 215,  /* a receipt names no input of the block, or does not verify */
    UTXO_ERR_STATE = 216,           /* validator state inconsistent (e.g. tip without genesis) */
    UTXO_ERR_FILE_CHECKSUM = 217,   /* state file checksum does not match its bytes (corrupt) */
    UTXO_ERR_FILE_RECORD = 218,     /* a file record is not the block due at its place (out of
                                       order, or not the block already accepted at its height) */
    /* storage (250..299) */
    UTXO_ERR_STORE_SCHEMA = 250,    /* store written by an unknown schema version */
    UTXO_ERR_STORE_CORRUPT = 251,   /* store inconsistent (tip, digest or forest disagree) */
    UTXO_ERR_STORE_SQL = 252,       /* SQLite reported an error (see utxo_store_errmsg) */
    UTXO_ERR_STORE_NOT_FOUND = 253, /* no such output, block or bundle in the store */
    UTXO_ERR_STORE_BUSY = 254,      /* store locked by another writer */
    UTXO_ERR_STORE_HEIGHT = 255,    /* height outside the blocks the store holds */
    UTXO_ERR_STORE_READONLY = 256,  /* store opened read-only */
    /* wallet: keys, addresses, builder, wallet file (300..349) */
    UTXO_ERR_ADDRESS_FORMAT = 300,   /* not an address: length, prefix, characters, case or version */
    UTXO_ERR_ADDRESS_CHECKSUM = 301, /* address checksum fails (mistyped address) */
    UTXO_ERR_NOT_STANDARD = 302,     /* image is not a standard predicate instance */
    UTXO_ERR_FUNDS = 303,            /* inputs do not cover the outputs and the fee */
    UTXO_ERR_DUST = 304,             /* output value below the dust threshold */
    UTXO_ERR_UNSIGNED = 305,         /* an input still lacks its signatures or arguments */
    UTXO_ERR_NO_KEY = 306,           /* the key signs none of the inputs (or none left to sign) */
    UTXO_ERR_BUILDER_STATE = 307,    /* builder call out of order (e.g. change after finalize) */
    UTXO_ERR_SIGNATURE = 308,        /* a signature to merge does not verify */
    UTXO_ERR_MISMATCH = 309,         /* merging a different transaction (txid differs) */
    UTXO_ERR_PASSPHRASE = 310,       /* wrong passphrase (key ciphertext does not authenticate) */
    UTXO_ERR_WALLET_FORMAT = 311,    /* not a wallet file of this schema version, or corrupt */
    UTXO_ERR_WALLET_DB = 312,        /* the wallet's SQLite database failed */
    UTXO_ERR_WALLET_CHAIN = 313,     /* block does not extend the wallet's tip or chain */
    UTXO_ERR_WATCH_ONLY = 314,       /* wallet opened without passphrase cannot sign */
    UTXO_ERR_WALLET_EXISTS = 315,    /* a file already exists where a wallet is to be created */
    UTXO_ERR_WALLET_RESERVED = 316,  /* a coin is already reserved by another payment */
    /* mempool and sequencer (350..369) */
    UTXO_ERR_MP_CONFLICT = 350,      /* an input's outpoint is already spent by a mempool transaction */
    UTXO_ERR_MP_DUPLICATE = 351,     /* the transaction is already in the mempool */
    UTXO_ERR_MP_LIMIT = 352,         /* the transaction cannot fit in any block (bytes or cycles) */
    UTXO_ERR_MP_FULL = 353,          /* the mempool holds its maximum of transactions or bytes */
    UTXO_ERR_MP_POLICY = 354,        /* input budgets over this node's limit (node --max-tx-cycles) */
    /* node client (400..409) */
    UTXO_ERR_CLIENT_REACH = 400,     /* the node could not be reached, or the transfer failed */
    UTXO_ERR_CLIENT_ANSWER = 401,    /* the node's answer is not what its API says */
    UTXO_ERR_CLIENT_CHAIN = 402,     /* the node serves another chain */
};

/**
 * Returns a static, NUL-terminated English message for a result code; an
 * unknown code gives "unknown error". Never NULL. Thread-safe.
 */
const char *utxo_strerror(int err);

/**
 * The version of the library the program runs with, "MAJOR.MINOR.PATCH"
 * (static storage); UTXO_VERSION_STRING (utxo/version.h) is the version of
 * the headers it was compiled against.
 */
const char *utxo_version(void);

/**
 * Initialises the library: call it once before any other function (from
 * any thread; calling it again, or from several threads at once, is
 * harmless and returns the first call's result). It initialises libsodium
 * (sodium_init: the random generator and the fastest implementations for
 * this CPU). Returns UTXO_OK, or UTXO_ERR_INTERNAL when libsodium cannot
 * initialise (no usable random source): the library must then not be used.
 * Functions that need randomness call it themselves, so forgetting it is
 * not a security hole, but it is the documented entry point.
 */
UTXO_WARN_UNUSED int utxo_init(void);

#ifdef __cplusplus
}
#endif
#endif /* UTXO_COMMON_H */
