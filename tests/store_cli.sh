#!/bin/sh
# store_cli.sh — the store's commands end to end on a chain written by
# tests/mkchain: replay in two pieces (resume) equals one replay; `utxo
# prove` writes the chain builder's proof file byte for byte and `utxo
# verify` accepts it; `utxo utxos` by predicate id (or address) agrees
# with the full list; an interrupted prove leaves no file; rollback then replay returns to the same store; a truncated or
# corrupted block file stops with exit 1 and the record's offset, leaving
# the store at the last good block; another chain's file, bad heights and
# missing stores exit 2; a generated history of every standard predicate
# replays, and its bundles with segment receipts equal the generator's.
set -u
# lib.sh for UTXO, $tmp and reap; this test stops at its first failure
# (fail), with its own expect
. "${top_srcdir:-.}/tests/lib.sh"
MKCHAIN="${top_builddir:-.}/tests/mkchain"
fail() { echo "FAIL: $*" >&2; exit 1; }
bad() { fail "$@"; }
expect() {  # expect CODE CMD...: run, check the exit code
    _want=$1; shift
    "$@" >"$tmp/out" 2>"$tmp/err"; _got=$?
    [ "$_got" = "$_want" ] || { cat "$tmp/out" "$tmp/err" >&2; fail "exit $_got, wanted $_want: $*"; }
}

for c in replay prove utxos rollback; do
    expect 0 "$UTXO" "$c" --help
    grep -q '^example:' "$tmp/out" || fail "$c --help has no example"
    expect 2 "$UTXO" "$c"
done

"$MKCHAIN" "$tmp/c.blocks" "$tmp/c.proofs" 25 12 3 || fail "mkchain"
"$MKCHAIN" "$tmp/o.blocks" "$tmp/o.proofs" 3 2 9 || fail "mkchain (other chain)"

# one replay; two pieces with a resume
expect 0 "$UTXO" replay "$tmp/c.blocks" --db "$tmp/a.db" --quiet
grep -q '^tip 24 ' "$tmp/out" || fail "replay did not reach height 24"
grep '^accumulator digest' "$tmp/out" >"$tmp/digest.a"
expect 0 "$UTXO" replay "$tmp/c.blocks" --db "$tmp/b.db" --quiet --to 9
grep -q '^tip 9 ' "$tmp/out" || fail "--to 9 did not stop at 9"
expect 0 "$UTXO" replay "$tmp/c.blocks" --db "$tmp/b.db" --quiet --json
grep -q '"applied": *15' "$tmp/out" || fail "resume did not apply the 15 missing blocks"
expect 0 "$UTXO" replay "$tmp/c.blocks" --db "$tmp/b.db" --quiet
grep -q '^applied 0 blocks' "$tmp/out" || fail "a complete store applied blocks again"
grep '^accumulator digest' "$tmp/out" >"$tmp/digest.b"
cmp -s "$tmp/digest.a" "$tmp/digest.b" || fail "resumed replay ends at another digest"

# proofs: the chain builder's bytes, accepted by the stateless validator
expect 0 "$UTXO" prove --db "$tmp/a.db" -o "$tmp/a.proofs"
cmp -s "$tmp/a.proofs" "$tmp/c.proofs" || fail "prove output differs from the chain's proof file"
expect 0 "$UTXO" verify --chain "$tmp/c.blocks" --proofs "$tmp/a.proofs" --quiet
expect 0 "$UTXO" prove --db "$tmp/b.db" --from 10 --to 14 -o "$tmp/s.proofs" --blocks "$tmp/s.blocks"
grep -q 'wrote 5 bundles' "$tmp/out" || fail "prove --from 10 --to 14"
expect 2 "$UTXO" prove --db "$tmp/a.db" --from 3 --to 99 -o "$tmp/x.proofs"
expect 2 "$UTXO" prove --db "$tmp/a.db" --from 5 --to 4 -o "$tmp/x.proofs"

# an interrupted prove leaves no output and no temporary file: here it waits
# to open its --blocks FIFO (no reader) with the proof file's temporary
# file open, and SIGTERM ends it (143)
mkfifo "$tmp/bfifo"
"$UTXO" prove --db "$tmp/a.db" -o "$tmp/int.proofs" --blocks "$tmp/bfifo" --quiet 2>/dev/null &
pid=$!
n=0
while ! ls "$tmp"/int.proofs.tmp.* >/dev/null 2>&1 && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
kill -TERM "$pid"
reap "$pid" 60 "prove after SIGTERM"
st=$?
[ "$st" -eq 143 ] || fail "prove on SIGTERM: status $st, wanted 143"
ls "$tmp"/int.proofs* >/dev/null 2>&1 && fail "an interrupted prove left $(ls "$tmp"/int.proofs*)"

# utxos: by predicate id = the full list filtered
expect 0 "$UTXO" utxos --db "$tmp/a.db"
cp "$tmp/out" "$tmp/all"
id=$(sed -n '1s/^[^ ]* [^ ]* \([0-9a-f]*\) .*/\1/p' "$tmp/all")
[ ${#id} = 64 ] || fail "no predicate id in the list"
want=$(grep -c " $id " "$tmp/all")
sum=$(awk -v id="$id" '$3 == id { s += $2 } END { printf "%.0f", s }' "$tmp/all")
expect 0 "$UTXO" utxos --db "$tmp/a.db" --predicate "$id" --summary
grep -qx "total $want $sum" "$tmp/out" || fail "by predicate: $(cat "$tmp/out"), wanted total $want $sum"
expect 0 "$UTXO" utxos --db "$tmp/a.db" --predicate "$id" --json
grep -q "\"count\": *$want" "$tmp/out" || fail "--json count"
expect 2 "$UTXO" utxos --db "$tmp/a.db" --predicate abc
expect 2 "$UTXO" utxos --db "$tmp/a.db" --predicate utxo1qqqq
# an address names its predicate id (as utxo.1 and genesis --alloc say): the
# genesis coinbase pays the sequencer's fee address when it allocates nothing
expect 0 "$UTXO" genesis -o "$tmp/fee"
addr=$(sed -n 's/^fees go to //p' "$tmp/out")
expect 0 "$UTXO" replay "$tmp/fee/blocks" --db "$tmp/fee.db" --quiet
expect 0 "$UTXO" utxos --db "$tmp/fee.db"
cp "$tmp/out" "$tmp/fee.all"
expect 0 "$UTXO" utxos --db "$tmp/fee.db" --predicate "$addr"
cmp -s "$tmp/out" "$tmp/fee.all" && grep -qx 'total 1 0' "$tmp/out" ||
    fail "utxos --predicate ADDRESS: $(cat "$tmp/out")"
# by outpoint: the first listed output, then an index that output's tx never had
first=$(sed -n '1s/^\([^ ]*\) .*/\1/p' "$tmp/all")
expect 0 "$UTXO" utxos --db "$tmp/a.db" --outpoint "$first"
[ "$(cat "$tmp/out")" = "$(sed -n 1p "$tmp/all")" ] || fail "--outpoint line differs from the list"
expect 0 "$UTXO" utxos --db "$tmp/a.db" --outpoint "$first" --json
grep -q '"position"' "$tmp/out" || fail "--outpoint --json"
expect 1 "$UTXO" utxos --db "$tmp/a.db" --outpoint "$(echo "$first" | sed 's/:[0-9]*$/:999/')"
expect 2 "$UTXO" utxos --db "$tmp/a.db" --outpoint nothex:1
# one outpoint, one spelling (as the node's /proof/ takes it): no leading
# zero, no sign, below 2^32
txid0=${first%%:*}
expect 2 "$UTXO" utxos --db "$tmp/a.db" --outpoint "$txid0:0${first##*:}"
expect 2 "$UTXO" utxos --db "$tmp/a.db" --outpoint "$txid0:+1"
expect 2 "$UTXO" utxos --db "$tmp/a.db" --outpoint "$txid0:4294967296"
expect 2 "$UTXO" utxos --db "$tmp/a.db" --outpoint "$txid0:"
expect 2 "$UTXO" utxos --db "$tmp/none.db"

# rollback, then forward again: the same store as the one-piece replay
expect 0 "$UTXO" rollback --db "$tmp/b.db" --to 7
grep -q 'rolled back 17 blocks; tip 7 ' "$tmp/out" || fail "rollback message: $(cat "$tmp/out")"
expect 2 "$UTXO" rollback --db "$tmp/b.db" --to 8
expect 0 "$UTXO" replay "$tmp/c.blocks" --db "$tmp/b.db" --quiet
expect 0 "$UTXO" prove --db "$tmp/b.db" -o "$tmp/b.proofs"
cmp -s "$tmp/b.proofs" "$tmp/c.proofs" || fail "after rollback + replay the bundles differ"
"$UTXO" utxos --db "$tmp/b.db" >"$tmp/b.utxos"
cmp -s "$tmp/b.utxos" "$tmp/all" || fail "after rollback + replay the UTXO set differs"

# another chain's file into this store
expect 2 "$UTXO" replay "$tmp/o.blocks" --db "$tmp/a.db" --quiet
grep -q 'another chain' "$tmp/err" || fail "other chain message: $(cat "$tmp/err")"

# a truncated block file: exit 2 (a damaged file, as in verify), naming the
# record's offset; the store keeps every block before it
size=$(wc -c <"$tmp/c.blocks")
head -c $((size - 100)) "$tmp/c.blocks" >"$tmp/t.blocks"
expect 2 "$UTXO" replay "$tmp/t.blocks" --db "$tmp/t.db" --quiet
grep -q 'record 24 at offset [0-9]*: file ends inside the record' "$tmp/err" || fail "truncation message: $(cat "$tmp/err")"
expect 0 "$UTXO" prove --db "$tmp/t.db" -o "$tmp/t.proofs"
grep -q 'blocks 0\.\.23' "$tmp/out" || fail "truncated replay did not keep blocks 0..23"

# a file that is no block file, or none at all: exit 2, as in verify
cp "$tmp/c.blocks" "$tmp/m.blocks"
printf 'XXXX' | dd of="$tmp/m.blocks" conv=notrunc 2>/dev/null
expect 2 "$UTXO" replay "$tmp/m.blocks" --db "$tmp/m.db" --quiet
grep -q 'not a block file (offset 0)' "$tmp/err" || fail "bad magic message: $(cat "$tmp/err")"
expect 2 "$UTXO" replay "$tmp/c.proofs" --db "$tmp/m.db" --quiet
expect 2 "$UTXO" replay "$tmp/none.blocks" --db "$tmp/m.db" --quiet
grep -q 'No such file' "$tmp/err" || fail "missing file message: $(cat "$tmp/err")"

# a corrupted byte inside block 12: exit 1 with the block and its offset,
# the store stays at block 11
cp "$tmp/c.blocks" "$tmp/k.blocks"
# record 12's offset: past the 116-byte file header, walk the u32 lengths
pos=116
i=0
while [ $i -lt 12 ]; do
    len=$(od -An -tu4 -j "$pos" -N4 "$tmp/c.blocks" | tr -d ' ')
    pos=$((pos + 4 + len))
    i=$((i + 1))
done
printf '\377' | dd of="$tmp/k.blocks" bs=1 seek=$((pos + 4 + 300)) conv=notrunc 2>/dev/null
expect 1 "$UTXO" replay "$tmp/k.blocks" --db "$tmp/k.db" --quiet
grep -q "block 12 .*offset $pos" "$tmp/err" || fail "corruption message: $(cat "$tmp/err")"
expect 0 "$UTXO" prove --db "$tmp/k.db" -o "$tmp/k.proofs"
grep -q 'blocks 0\.\.11' "$tmp/out" || fail "corrupted replay did not stop at block 11"

# block 12 whole in its record but claiming one transaction more than it
# holds (its count, one byte, plus one): the block is invalid, it does not
# decode (truncated input, at the record's end); the file is not torn
# ("file ends inside the record" was printed)
cp "$tmp/c.blocks" "$tmp/n.blocks"
ntx=$(od -An -tu1 -j $((pos + 4 + 176)) -N1 "$tmp/c.blocks" | tr -d ' ')
[ "$ntx" -lt 127 ] || fail "block 12 has a one-byte transaction count"
printf "\\$(printf %o $((ntx + 1)))" | dd of="$tmp/n.blocks" bs=1 seek=$((pos + 4 + 176)) conv=notrunc 2>/dev/null
expect 1 "$UTXO" replay "$tmp/n.blocks" --db "$tmp/n.db" --quiet
grep -q "block 12 (record 12 at offset $pos) invalid: block does not decode .*truncated input" "$tmp/err" &&
    ! grep -q "file ends inside" "$tmp/err" || fail "a block short of its count: $(cat "$tmp/err")"
# readers beside a writer: while a replay commits block after block, every
# read-only open passes its consistency check (one read transaction) and
# sees a prefix of the chain
"$MKCHAIN" "$tmp/r.blocks" "$tmp/r.proofs" 60 40 4 || fail "mkchain (readers)"
"$UTXO" replay "$tmp/r.blocks" --db "$tmp/r.db" --quiet --to 0 >/dev/null || fail "replay genesis"
"$UTXO" replay "$tmp/r.blocks" --db "$tmp/r.db" --quiet --threads 1 >/dev/null 2>&1 &
writer=$!
reads=0
while kill -0 "$writer" 2>/dev/null && [ "$reads" -lt 40 ]; do
    "$UTXO" prove --db "$tmp/r.db" -o "$tmp/rp.proofs" >/dev/null 2>"$tmp/err" ||
        { kill "$writer"; cat "$tmp/err" >&2; fail "read-only open beside a writer"; }
    size=$(wc -c <"$tmp/rp.proofs")
    cmp -s -n "$size" "$tmp/rp.proofs" "$tmp/r.proofs" || { kill "$writer"; fail "reader saw no prefix"; }
    reads=$((reads + 1))
done
reap "$writer" 300 "the replay writing beside the readers" || fail "the writer failed"
[ "$reads" -gt 0 ] || fail "no read overlapped the writer"

# a history of every standard predicate with long runs (utxo gen): the
# store replays it, and its bundles with segment receipts added are the
# generator's proof file byte for byte
"$UTXO" gen -o "$tmp/g" --blocks 12 --tx-per-block 8 --long-every 4 --po2 18 --quiet >/dev/null ||
    fail "utxo gen"
expect 0 "$UTXO" replay "$tmp/g/blocks" --db "$tmp/g.db" --quiet
expect 0 "$UTXO" prove --db "$tmp/g.db" -o "$tmp/g.proofs" --segments 18
grep -q 'segment receipts: [1-9][0-9]* runs' "$tmp/out" || fail "no segment receipts: $(cat "$tmp/out")"
cmp -s "$tmp/g.proofs" "$tmp/g/proofs" || fail "bundles with receipts differ from utxo gen's"
expect 0 "$UTXO" verify --chain "$tmp/g/blocks" --proofs "$tmp/g.proofs" --quiet
expect 2 "$UTXO" prove --db "$tmp/g.db" -o "$tmp/x.proofs" --segments 5
echo ok
