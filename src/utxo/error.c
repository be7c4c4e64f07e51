/*
 * error.c — utxo_strerror(): one message per result code of utxo/common.h.
 * Each module adds its codes to the table below, inside its own range.
 */
#include "config.h"

#include "utxo/common.h"

struct msg {
    int code;
    const char *text;
};

static const struct msg messages[] = {
    {UTXO_OK, "success"},
    {UTXO_ERR_NOMEM, "out of memory"},
    {UTXO_ERR_ARG, "invalid argument"},
    {UTXO_ERR_IO, "input/output error"},
    {UTXO_ERR_INTERNAL, "internal error"},
    /* decoding */
    {UTXO_ERR_TRUNCATED, "truncated input"},
    {UTXO_ERR_TRAILING, "trailing bytes after the object"},
    {UTXO_ERR_NONCANONICAL, "non-canonical encoding"},
    {UTXO_ERR_TOO_LARGE, "length or count over its limit"},
    {UTXO_ERR_VERSION, "unknown version"},
    /* transaction rules */
    {UTXO_ERR_TX_NO_INPUTS, "transaction spends no output"},
    {UTXO_ERR_TX_NO_OUTPUTS, "transaction creates no output"},
    {UTXO_ERR_TX_SIZE, "transaction over the size limit"},
    {UTXO_ERR_TX_DUP_INPUT, "transaction spends one outpoint twice"},
    {UTXO_ERR_TX_VALUE, "value or sum of values over the maximum supply"},
    {UTXO_ERR_TX_WITNESS, "input has no predicate image"},
    {UTXO_ERR_TX_CYCLES, "cycle budgets over the per-transaction limit"},
    {UTXO_ERR_TX_COUNT, "too many inputs or outputs"},
    {UTXO_ERR_TX_DATUM, "datum, image or arguments over their limit"},
    {UTXO_ERR_TX_FEE, "fee below the size and cycle price"},
    {UTXO_ERR_TX_MISSING, "input spends an output that does not exist"},
    {UTXO_ERR_TX_PREDICATE_ID, "witness image does not match the spent predicate id"},
    {UTXO_ERR_TX_REJECTED, "predicate did not accept"},
    {UTXO_ERR_TX_FORM, "unknown witness form"},
    {UTXO_ERR_TX_TEMPLATE, "template index not in the standard table"},
    {UTXO_ERR_TX_TEMPLATE_PARAMS, "parameters do not fit the template"},
    {UTXO_ERR_TX_REF_INDEX, "witness names a reference input the transaction does not list"},
    {UTXO_ERR_TX_REF_UNUSED, "reference input that no witness names"},
    {UTXO_ERR_TX_REF_DUP, "one outpoint listed twice as a reference input"},
    {UTXO_ERR_TX_REF_SPENT, "outpoint both referenced and spent by the transaction"},
    {UTXO_ERR_TX_REF_MISSING, "reference input names no unspent output of an earlier block"},
    {UTXO_ERR_TX_REF_CODE, "referenced output holds no image with room for the parameters"},
    /* block rules */
    {UTXO_ERR_BLOCK_VERSION, "unknown block header version"},
    {UTXO_ERR_BLOCK_EMPTY, "block has no transaction"},
    {UTXO_ERR_BLOCK_COINBASE, "coinbase missing, misplaced or repeated"},
    {UTXO_ERR_BLOCK_HEIGHT, "wrong block or coinbase height"},
    {UTXO_ERR_BLOCK_TX_ROOT, "tx root does not match the transactions"},
    {UTXO_ERR_BLOCK_DOUBLE_SPEND, "outpoint spent twice in the block"},
    {UTXO_ERR_BLOCK_SIZE, "block over the size or transaction-count limit"},
    {UTXO_ERR_BLOCK_CYCLES, "cycle budgets over the per-block limit"},
    {UTXO_ERR_BLOCK_PREV, "previous hash is not the chain tip"},
    {UTXO_ERR_BLOCK_SIG, "sequencer signature does not verify"},
    {UTXO_ERR_BLOCK_DIGEST, "accumulator digest does not match"},
    {UTXO_ERR_BLOCK_DUP_TXID, "two transactions share a txid"},
    {UTXO_ERR_BLOCK_TIME, "block time before its parent's"},
    {UTXO_ERR_BLOCK_REF_SPENT, "output referenced in the block is also spent in it"},
    {UTXO_ERR_BLOCK_REF_NEW, "reference to an output created in the same block"},
    /* predicates and the VM: 100..149 */
    {UTXO_ERR_IMAGE, "predicate image breaks a layout rule"},
    {UTXO_ERR_ELF, "ELF file malformed or not an RV32IM executable"},
    /* continuations: 150..199 */
    {UTXO_ERR_SEG_PARAM, "segment size (po2) or page limit out of range"},
    {UTXO_ERR_SEG_HOSTCALL, "a host call costs more than a whole segment"},
    {UTXO_ERR_SEG_WITNESS, "segment touches a page outside its witness, or not every witnessed page"},
    {UTXO_ERR_SEG_STATE, "receipt pre-state is impossible (cycles or page counts)"},
    {UTXO_ERR_SEG_POST, "re-executed segment ends at another state than the receipt claims"},
    {UTXO_ERR_SEG_OUTCOME, "receipt's final flag or outcome differs from the re-execution"},
    {UTXO_ERR_SEG_STALL, "a segment before the last executes nothing"},
    {UTXO_ERR_SEG_CHAIN, "receipts do not chain (order, first state, links or last segment)"},
    {UTXO_ERR_SEG_RUN, "receipt belongs to another run"},
    /* accumulator and stateless validation: 200..249 */
    {UTXO_ERR_ACC_PROOF, "accumulator proof does not match the roots"},
    {UTXO_ERR_ACC_POSITION, "accumulator leaf position unsorted, repeated or beyond the leaf count"},
    {UTXO_ERR_ACC_SIBLINGS, "accumulator proof has extra or missing sibling hashes"},
    {UTXO_ERR_ACC_SPENT, "accumulator leaf already deleted"},
    {UTXO_ERR_ACC_FULL, "accumulator leaf count at its maximum (2^64-1)"},
    {UTXO_ERR_FILE_FORMAT, "not a utxo block, proof or state file (magic or version)"},
    {UTXO_ERR_FILE_CHAIN, "file or state belongs to another chain"},
    {UTXO_ERR_BUNDLE_BLOCK, "block proof bundle is for another block"},
    {UTXO_ERR_BUNDLE_STATE, "block proof bundle was built against another accumulator"},
    {UTXO_ERR_BUNDLE_SPENDS, "bundle's spent outputs do not match the block's inputs"},
    {UTXO_ERR_BUNDLE_RECEIPT, "segment receipt names no input of the block or does not verify"},
    {UTXO_ERR_STATE, "validator state is inconsistent"},
    {UTXO_ERR_FILE_CHECKSUM, "checksum does not match: the file is corrupt"},
    {UTXO_ERR_FILE_RECORD, "record is not the block due at its place (order or already accepted)"},
    /* storage */
    {UTXO_ERR_STORE_SCHEMA, "store has an unknown schema version"},
    {UTXO_ERR_STORE_CORRUPT, "store is inconsistent (tip, accumulator digest or forest disagree)"},
    {UTXO_ERR_STORE_SQL, "SQLite error"},
    {UTXO_ERR_STORE_NOT_FOUND, "not found in the store"},
    {UTXO_ERR_STORE_BUSY, "store is locked by another writer"},
    {UTXO_ERR_STORE_HEIGHT, "height outside the blocks the store holds"},
    {UTXO_ERR_STORE_READONLY, "store is open read-only"},
    /* storage: 250..299 */
    /* wallet: 300..349 */
    {UTXO_ERR_ADDRESS_FORMAT, "not an address (length, prefix, characters, case or version)"},
    {UTXO_ERR_ADDRESS_CHECKSUM, "address checksum does not match (mistyped address)"},
    {UTXO_ERR_NOT_STANDARD, "not a standard predicate instance"},
    {UTXO_ERR_FUNDS, "insufficient funds for the outputs and the fee"},
    {UTXO_ERR_DUST, "output value below the dust threshold"},
    {UTXO_ERR_UNSIGNED, "an input lacks its signatures or arguments"},
    {UTXO_ERR_NO_KEY, "the key signs none of the remaining inputs"},
    {UTXO_ERR_BUILDER_STATE, "transaction builder call out of order"},
    {UTXO_ERR_SIGNATURE, "signature does not verify"},
    {UTXO_ERR_MISMATCH, "a different transaction (txid differs)"},
    {UTXO_ERR_PASSPHRASE, "wrong passphrase"},
    {UTXO_ERR_WALLET_FORMAT, "not a wallet file of this version, or corrupt"},
    {UTXO_ERR_WALLET_DB, "wallet database error"},
    {UTXO_ERR_WALLET_CHAIN, "block does not extend the wallet's chain"},
    {UTXO_ERR_WATCH_ONLY, "wallet opened without its passphrase cannot sign"},
    {UTXO_ERR_WALLET_EXISTS, "file already exists"},
    {UTXO_ERR_WALLET_RESERVED, "coin already reserved by another payment"},
    /* mempool and sequencer: 350..369 */
    {UTXO_ERR_MP_CONFLICT, "output already spent by a transaction in the mempool"},
    {UTXO_ERR_MP_DUPLICATE, "transaction already in the mempool"},
    {UTXO_ERR_MP_LIMIT, "transaction too large for any block (bytes or cycles)"},
    {UTXO_ERR_MP_FULL, "mempool full"},
    {UTXO_ERR_MP_POLICY, "cycle budgets over this node's admission limit"},
    {UTXO_ERR_CLIENT_REACH, "the node could not be reached"},
    {UTXO_ERR_CLIENT_ANSWER, "the node's answer does not follow its API"},
    {UTXO_ERR_CLIENT_CHAIN, "the node serves another chain"},
};

const char *utxo_strerror(int err)
{
    for (size_t i = 0; i < sizeof messages / sizeof messages[0]; i++)
        if (messages[i].code == err)
            return messages[i].text;
    return "unknown error";
}
