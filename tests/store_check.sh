#!/bin/sh
# store_check.sh — `utxo check` and the checks before a store serves a
# proof, on stores damaged one row at a time with tests/store_sql: a
# bundle, an unspent output, a forest node, a block's hash, an undo record,
# the metadata and an index (SQLite's integrity_check). Each must be named
# by `utxo check` (exit 1); a sound store exits 0. A tampered bundle is not
# handed out by `utxo prove` (the bundles before it still are), and
# `utxo rollback` refuses a damaged undo record, naming it, with the store
# unchanged.
set -u
. "${top_srcdir:-.}/tests/lib.sh"
MKCHAIN="${top_builddir:-.}/tests/mkchain"
SQL="${top_builddir:-.}/tests/store_sql"
DUMP="${top_builddir:-.}/tests/store_dump"

expect 0 "check --help" -- "$UTXO" check --help
grep -q '^example:' "$tmp/out" && ok || bad "check --help has no example"
expect 2 "check without --db" -- "$UTXO" check
expect 2 "check of a missing store" -- "$UTXO" check --db "$tmp/none.db"

"$MKCHAIN" "$tmp/c.blocks" "$tmp/c.proofs" 16 10 5 || { echo "mkchain failed" >&2; exit 1; }
expect 0 "replay" -- "$UTXO" replay "$tmp/c.blocks" --db "$tmp/good.db" --quiet
expect 0 "a sound store checks" -- "$UTXO" check --db "$tmp/good.db"
grep -q 'sound: 16 blocks' "$tmp/out" && ok || bad "sound store summary: $(cat "$tmp/out")"

# fresh copy of the sound store (the WAL folded in by the copy's opener)
fresh() {
    rm -f "$tmp/d.db" "$tmp/d.db-wal" "$tmp/d.db-shm"
    "$SQL" "$tmp/good.db" exec "PRAGMA wal_checkpoint(TRUNCATE)" || bad "checkpoint"
    cp "$tmp/good.db" "$tmp/d.db"
}
# damaged WHAT PATTERN: utxo check exits 1 and names the damage
damaged() {
    expect 1 "check names $1" -- "$UTXO" check --db "$tmp/d.db"
    if grep -q "$2" "$tmp/out"; then ok; else bad "check of $1 did not say '$2':"; cat "$tmp/out" >&2; fi
}

# a bundle: check names it; prove refuses it (and every one after it), serves the ones before
fresh
"$SQL" "$tmp/d.db" flip bundles data "height = 9" -40 || bad "flip bundle"
damaged "a tampered bundle" "^problem: bundles: bundle of block 9 "
expect 2 "prove with a tampered bundle" -- "$UTXO" prove --db "$tmp/d.db" -o "$tmp/d.proofs"
grep -q "refusing to serve the bundle of block 9" "$tmp/err" && ok || bad "prove message: $(cat "$tmp/err")"
expect 2 "prove of the range after it" -- "$UTXO" prove --db "$tmp/d.db" --from 12 -o "$tmp/d.proofs"
expect 0 "prove of the blocks before it" -- "$UTXO" prove --db "$tmp/d.db" --from 2 --to 8 -o "$tmp/d.proofs"
# the same bundle bytes in place, but for another leaf count: still refused
fresh
"$SQL" "$tmp/d.db" exec "UPDATE bundles SET data = (SELECT data FROM bundles WHERE height = 4) WHERE height = 5" || bad "swap bundle"
damaged "a bundle of another block" "bundle of block 5 names another block"
expect 2 "prove with a swapped bundle" -- "$UTXO" prove --db "$tmp/d.db" --from 5 --to 5 -o "$tmp/d.proofs"

# an unspent output's value
fresh
"$SQL" "$tmp/d.db" exec "UPDATE utxos SET value = value + 1 WHERE outpoint = (SELECT min(outpoint) FROM utxos)" || bad "utxo"
damaged "a changed unspent output" "^problem: utxos: .*the row does not hash to the forest's leaf"
grep -q "^problem: meta: n_utxos .* total_value" "$tmp/out" && ok || bad "total value not reported"

# an unspent row deleted: the live leaves outnumber the rows
fresh
"$SQL" "$tmp/d.db" exec "DELETE FROM utxos WHERE outpoint = (SELECT max(outpoint) FROM utxos)" || bad "utxo delete"
damaged "a missing unspent row" "^problem: utxos: .* rows, but the forest holds .* live leaves"

# the transaction index: a row moved to another place, a row deleted
fresh
"$SQL" "$tmp/d.db" exec "UPDATE txs SET idx = idx + 1 WHERE height = 6 AND idx = 1" || bad "txs move"
damaged "a moved transaction index row" "^problem: txs: block 6 transaction 1 is not indexed at its place"
fresh
"$SQL" "$tmp/d.db" exec "DELETE FROM txs WHERE height = 3 AND idx = 0" || bad "txs delete"
damaged "a missing transaction index row" "^problem: txs: .* rows, the blocks hold .* transactions"

# an inner forest node (row 1)
fresh
"$SQL" "$tmp/d.db" flip nodes hash "key = (SELECT min(key) FROM nodes WHERE key >= 72057594037927936)" 3 || bad "node"
damaged "a changed forest node" "^problem: nodes: row 1 index [0-9]* is not the parent of its children"

# a leaf
fresh
"$SQL" "$tmp/d.db" flip nodes hash "key = (SELECT max(key) FROM nodes WHERE key < 72057594037927936)" 0 || bad "leaf"
damaged "a changed forest leaf" "^problem: utxos: .*the row does not hash to the forest's leaf"

# a block's stored hash, and a block's signature
fresh
"$SQL" "$tmp/d.db" flip blocks hash "height = 3" 0 || bad "block hash"
damaged "a block hash column" "^problem: blocks: height 3: the hash column is not the header's hash"
fresh
"$SQL" "$tmp/d.db" flip blocks header "height = 6" -1 || bad "block signature"
damaged "a block signature" "^problem: blocks: height 6: the sequencer signature does not verify"

# the metadata
fresh
"$SQL" "$tmp/d.db" exec "UPDATE meta SET n_txs = n_txs + 1" || bad "meta"
damaged "the metadata's transaction count" "^problem: meta: n_txs"

# a block count far beyond the rows (4e9): named once as a run of missing
# heights, in the time the rows take, not one lookup per claimed height
fresh
"$SQL" "$tmp/d.db" exec "UPDATE meta SET n_blocks = 4000000000" || bad "meta n_blocks"
expect 1 "check of a huge block count" -- timeout 120 "$UTXO" check --db "$tmp/d.db" --undo 4000000000
grep -q "^problem: blocks: the store holds no block at heights 16-3999999999 (the meta row says 4000000000 blocks)" "$tmp/out" && ok ||
    { bad "huge block count not named as one run:"; cat "$tmp/out" >&2; }
# a single height missing in the middle: named as before
fresh
"$SQL" "$tmp/d.db" exec "DELETE FROM blocks WHERE height = 7" || bad "delete block"
damaged "a missing block" "^problem: blocks: the store holds no block at height 7"

# an index that no longer matches its table (SQLite's integrity_check)
fresh
"$SQL" "$tmp/d.db" exec "PRAGMA writable_schema = ON; UPDATE sqlite_master SET sql = 'CREATE INDEX utxos_predicate ON utxos(value)' WHERE name = 'utxos_predicate'" || bad "index"
damaged "a damaged index" "^problem: SQLite integrity_check:"

# a table missing: the store does not open, and check says why
fresh
"$SQL" "$tmp/d.db" exec "DROP TABLE undo" || bad "drop"
damaged "a missing table" "^problem: .*the schema is damaged"

# an undo record: check names it; rollback refuses it and changes nothing
fresh
"$SQL" "$tmp/d.db" flip undo data "height = 15" 45 || bad "undo"
damaged "a damaged undo record" "^problem: undo: undo record of block 15"
"$DUMP" "$tmp/d.db" >"$tmp/before" || bad "dump"
expect 2 "rollback over a damaged undo record" -- "$UTXO" rollback --db "$tmp/d.db" --to 12
grep -q "undo record of block 15" "$tmp/err" && ok || bad "rollback message: $(cat "$tmp/err")"
"$DUMP" "$tmp/d.db" >"$tmp/after" || bad "dump"
cmp -s "$tmp/before" "$tmp/after" && ok || bad "a refused rollback changed the store"
# --undo 0 skips the undo records; the damage is then not seen
expect 0 "check --undo 0" -- "$UTXO" check --db "$tmp/d.db" --undo 0

echo "store_check: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
