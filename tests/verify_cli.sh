#!/bin/sh
# verify_cli.sh — `utxo verify` end to end: a chain written by tests/mkchain
# (genesis to pay-to-pubkey wallets, then blocks of signed payments) is
# validated holding only roots; stopped and resumed through --state with the
# same final roots; a truncated copy fails with exit 2 and the record's
# offset; edited copies fail with exit 1, the reason and the block; files of
# the wrong kind or chain are refused. Run by `make check`.
set -u
MKCHAIN="${top_builddir:-.}/tests/mkchain"
. "${top_srcdir:-.}/tests/lib.sh"

"$MKCHAIN" "$tmp/c.blocks" "$tmp/c.proofs" 12 6 1 || { echo "mkchain failed" >&2; exit 1; }
"$MKCHAIN" "$tmp/o.blocks" "$tmp/o.proofs" 3 2 2 || { echo "mkchain failed" >&2; exit 1; }

expect 0 "verify --help" -- "$UTXO" verify --help
grep -q "example" "$tmp/out" || bad "verify --help has an example"
expect 2 "verify without --proofs" -- "$UTXO" verify --chain "$tmp/c.blocks"
expect 2 "verify bad option" -- "$UTXO" verify --chain "$tmp/c.blocks" --proofs "$tmp/c.proofs" --nope

# the whole chain
expect 0 "verify chain" -- "$UTXO" verify --chain "$tmp/c.blocks" --proofs "$tmp/c.proofs" --threads 2
[ "$(grep -c '^block [0-9]* valid' "$tmp/out")" -eq 12 ] || bad "12 block lines"
grep -q "^tip height=11 " "$tmp/out" || bad "tip height"
grep -q "^state_bytes=[0-9]" "$tmp/out" || bad "state bytes printed"
grep -q "^root 0 [0-9a-f]\{64\}$" "$tmp/out" || bad "roots printed"
grep "^tip \|^accumulator \|^root " "$tmp/out" >"$tmp/full.tail"

expect 0 "verify --json" -- "$UTXO" verify --chain "$tmp/c.blocks" --proofs "$tmp/c.proofs" --json
grep -q '"valid":true' "$tmp/out" || bad "json valid"
grep -q '"next_height":12' "$tmp/out" || bad "json next_height"
grep -q '"state_bytes":[0-9]' "$tmp/out" || bad "json state_bytes"
grep -q '"invalid":null' "$tmp/out" || bad "json invalid is null"
if command -v python3 >/dev/null 2>&1; then
    python3 -m json.tool "$tmp/out" >/dev/null || bad "json does not parse"
fi

# stop after 5 blocks, resume: same tip and roots
expect 0 "verify first part" -- "$UTXO" verify --chain "$tmp/c.blocks" --proofs "$tmp/c.proofs" \
    --state "$tmp/node.state" --max-blocks 5
grep -q "^validated=5 " "$tmp/out" || bad "first part validated 5"
[ -s "$tmp/node.state" ] || bad "state file written"
size=$(wc -c <"$tmp/node.state")
[ "$size" -le 2181 ] || bad "state file $size bytes"
# the file: 12 bytes of header, the state, a 32-byte checksum
grep -q "^state_bytes=$((size - 44))$" "$tmp/out" || bad "state_bytes is the file size less 44"
expect 0 "verify resume" -- "$UTXO" verify --chain "$tmp/c.blocks" --proofs "$tmp/c.proofs" \
    --state "$tmp/node.state"
grep -q "^validated=7 passed=5$" "$tmp/out" || bad "resume validated 7, passed over 5"
grep -q "records 0..4 (blocks 0..4) are the blocks the state already accepted" "$tmp/err" \
    || bad "resume says which records it passed over"
grep "^tip \|^accumulator \|^root " "$tmp/out" >"$tmp/resumed.tail"
cmp -s "$tmp/full.tail" "$tmp/resumed.tail" || bad "resumed run ends with other roots"
expect 0 "verify when already done" -- "$UTXO" verify --chain "$tmp/c.blocks" --proofs "$tmp/c.proofs" \
    --state "$tmp/node.state"
grep -q "^validated=0 passed=12$" "$tmp/out" || bad "nothing left to validate"

# a state that cannot be saved: an I/O error that names the file
expect 2 "state in a missing directory" -- "$UTXO" verify --chain "$tmp/c.blocks" --proofs "$tmp/c.proofs" \
    --state "$tmp/none/x.state" --quiet
grep -q "^utxo: $tmp/none/x.state: cannot save the state: No such file or directory" "$tmp/err" && ok ||
    bad "an unsaved state: names the file: $(cat "$tmp/err")"
# a state of another chain
expect 2 "state of another chain" -- "$UTXO" verify --chain "$tmp/o.blocks" --proofs "$tmp/o.proofs" \
    --state "$tmp/node.state"
grep -q "another chain" "$tmp/err" || bad "another chain named"
# files of the wrong kind, or of two chains
expect 2 "proofs given as chain" -- "$UTXO" verify --chain "$tmp/c.proofs" --proofs "$tmp/c.proofs"
grep -q "not a valid block file" "$tmp/err" || bad "wrong kind named"
expect 2 "files of two chains" -- "$UTXO" verify --chain "$tmp/c.blocks" --proofs "$tmp/o.proofs"
grep -q "different chains" "$tmp/err" || bad "different chains named"

# a truncated copy: exit 2, the record and its offset
total=$(wc -c <"$tmp/c.blocks")
head -c $((total - 10)) "$tmp/c.blocks" >"$tmp/t.blocks"
expect 2 "truncated chain" -- "$UTXO" verify --chain "$tmp/t.blocks" --proofs "$tmp/c.proofs"
grep -q "record 11 at offset [0-9]*: truncated input" "$tmp/err" || bad "truncation names record and offset"
[ "$(grep -c '^block [0-9]* valid' "$tmp/out")" -eq 11 ] || bad "blocks before the truncation validated"

# an edited copy: block 0's signature (record at 116: length 4, header 176)
cp "$tmp/c.blocks" "$tmp/e.blocks"
flip "$tmp/e.blocks" $((116 + 4 + 112 + 5))
expect 1 "edited signature" -- "$UTXO" verify --chain "$tmp/e.blocks" --proofs "$tmp/c.proofs"
grep -q "block 0 (record 0 at offset 116) invalid: sequencer signature does not verify" "$tmp/err" \
    || bad "signature edit reason"
# the last byte: a witness of the last block, bound by the tx root
cp "$tmp/c.blocks" "$tmp/e.blocks"
flip "$tmp/e.blocks" $((total - 1))
expect 1 "edited witness" -- "$UTXO" verify --chain "$tmp/e.blocks" --proofs "$tmp/c.proofs" --json
grep -q "block 11 .*invalid: tx root does not match" "$tmp/err" || bad "witness edit reason"
grep -q '"valid":false' "$tmp/out" || bad "json invalid"
grep -q '"invalid":{"record":11' "$tmp/out" || bad "json names the record"
if command -v python3 >/dev/null 2>&1; then
    python3 -m json.tool "$tmp/out" >/dev/null || bad "json of an invalid chain does not parse"
fi
# a proof edited: the last byte of the proof file (a spent output's datum length or data)
cp "$tmp/c.proofs" "$tmp/e.proofs"
ptotal=$(wc -c <"$tmp/c.proofs")
flip "$tmp/e.proofs" $((ptotal - 1))
expect 1 "edited proof" -- "$UTXO" verify --chain "$tmp/c.blocks" --proofs "$tmp/e.proofs"
grep -q "block 11 .*invalid" "$tmp/err" || bad "proof edit names block 11"

# the offset of record K of a chain file (after the 116-byte file header,
# each record is a u32 little-endian length and that many bytes)
rec_off() {
    o=116 i=0
    while [ "$i" -lt "$2" ]; do
        n=$(od -An -tu4 -j "$o" -N4 "$1" | tr -d ' ')
        o=$((o + 4 + n)) i=$((i + 1))
    done
    echo "$o"
}
# The record pair after a block is read ahead while the block is checked:
# an invalid block 10 before a truncated record 11 is still reported as
# block 10 (exit 1), with blocks 0-9 valid, not as the truncation after it
r11=$(rec_off "$tmp/c.blocks" 11)
head -c $((total - 10)) "$tmp/c.blocks" >"$tmp/e.blocks"
flip "$tmp/e.blocks" $((r11 - 1))
expect 1 "invalid block before a truncated one" -- "$UTXO" verify --chain "$tmp/e.blocks" \
    --proofs "$tmp/c.proofs" --threads 2
grep -q "block 10 (record 10 at offset [0-9]*) invalid: tx root does not match" "$tmp/err" ||
    bad "block 10 reported before the truncation after it"
grep -q "truncated" "$tmp/err" && bad "the truncation after the invalid block reported"
[ "$(grep -c '^block [0-9]* valid' "$tmp/out")" -eq 10 ] || bad "blocks 0-9 validated"
# an invalid block in the middle: the blocks before it are in, the state
# saved after block 4, and a resume from it stops at block 5 again
r6=$(rec_off "$tmp/c.blocks" 6)
cp "$tmp/c.blocks" "$tmp/e.blocks"
flip "$tmp/e.blocks" $((r6 - 1))
rm -f "$tmp/mid.state"
expect 1 "invalid block 5" -- "$UTXO" verify --chain "$tmp/e.blocks" --proofs "$tmp/c.proofs" \
    --threads 2 --state "$tmp/mid.state"
grep -q "block 5 (record 5 at offset $(rec_off "$tmp/c.blocks" 5)) invalid" "$tmp/err" ||
    bad "block 5 and its offset named"
[ "$(grep -c '^block [0-9]* valid' "$tmp/out")" -eq 5 ] || bad "blocks 0-4 validated"
expect 0 "the good file from the saved state" -- "$UTXO" verify --chain "$tmp/c.blocks" \
    --proofs "$tmp/c.proofs" --threads 2 --state "$tmp/mid.state"
grep -q "^validated=7 passed=5" "$tmp/out" || bad "resumed after block 4: 7 applied, 5 passed"
grep "^tip \|^accumulator \|^root " "$tmp/out" | cmp -s - "$tmp/full.tail" ||
    bad "resumed run ends at the full run's tip and roots"
# a proof record truncated at record 11: blocks 0-10 in, then the framing error
ptotal=$(wc -c <"$tmp/c.proofs")
head -c $((ptotal - 3)) "$tmp/c.proofs" >"$tmp/t.proofs"
expect 2 "truncated proofs" -- "$UTXO" verify --chain "$tmp/c.blocks" --proofs "$tmp/t.proofs" \
    --threads 2
grep -q "record 11 at offset $(rec_off "$tmp/c.proofs" 11): truncated input" "$tmp/err" ||
    bad "proof truncation names record 11 and its offset"
[ "$(grep -c '^block [0-9]* valid' "$tmp/out")" -eq 11 ] || bad "blocks before the proof truncation"

echo "verify_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
