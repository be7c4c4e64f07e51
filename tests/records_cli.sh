#!/bin/sh
# records_cli.sh — the record rule (docs/STATELESS.md "The record rule") in
# every command that reads a block file: `verify`, `wallet sync`, `replay`.
# Block files are spliced by tests/blockrec from two chains of one genesis
# (tests/mkchain with 6 and 3 transactions per block: block 1 onwards
# differ). A junk record, an old block, another block at an accepted height
# (equivocation), a gap, records before the state's tip that do not link to
# it, a file that ends before the tip: each is refused (exit 1) naming the
# record and its height. A repeat of the tip block, byte for byte, and the
# accepted records at the start of a resumed run are passed over, and the
# command says so on stderr. Run by `make check`.
set -u
MKCHAIN="${top_builddir:-.}/tests/mkchain"
REC="${top_builddir:-.}/tests/blockrec"
. "${top_srcdir:-.}/tests/lib.sh"

"$MKCHAIN" "$tmp/c.blocks" "$tmp/c.proofs" 8 6 1 || { echo "mkchain failed" >&2; exit 1; }
"$MKCHAIN" "$tmp/d.blocks" "$tmp/d.proofs" 8 3 1 || { echo "mkchain failed" >&2; exit 1; }
cmp -s "$tmp/c.blocks" "$tmp/d.blocks" && { echo "the two chains must differ" >&2; exit 1; }

# splice NAME SPEC...: NAME.blocks from the block records and NAME.proofs
# from the matching proof records (c:K or d:K; junk pairs with c's proof 0)
splice() {
    name=$1
    shift
    bl=""
    pl=""
    for s in "$@"; do
        case $s in
        junk) bl="$bl junk:300"; pl="$pl $tmp/c.proofs:0" ;;
        c:*) bl="$bl $tmp/c.blocks:${s#c:}"; pl="$pl $tmp/c.proofs:${s#c:}" ;;
        d:*) bl="$bl $tmp/d.blocks:${s#d:}"; pl="$pl $tmp/d.proofs:${s#d:}" ;;
        esac
    done
    # shellcheck disable=SC2086
    "$REC" "$tmp/$name.blocks" $bl && "$REC" "$tmp/$name.proofs" $pl ||
        { echo "blockrec failed for $name" >&2; exit 1; }
}

# V NAME [OPTION...]: verify NAME.blocks with NAME.proofs
V() {
    n=$1
    shift
    "$UTXO" verify --chain "$tmp/$n.blocks" --proofs "$tmp/$n.proofs" --quiet "$@"
}

# ---- verify from genesis ----------------------------------------------------
splice junk c:0 c:1 junk c:2
expect 1 "verify: junk record" -- V junk
grep -q "record 2 at offset [0-9]*) invalid: block does not decode" "$tmp/err" || bad "junk named: $(cat "$tmp/err")"
grep -q "^validated=2 " "$tmp/out" || bad "junk: the two blocks before it validated"

splice old c:0 c:1 c:2 c:1 c:3
expect 1 "verify: an old block" -- V old
grep -q "record 3 at offset [0-9]* holds block 1, already below the tip; expected height 3" "$tmp/err" \
    || bad "old block named: $(cat "$tmp/err")"

splice equiv c:0 c:1 d:1 c:2
expect 1 "verify: another block at an accepted height" -- V equiv
grep -q "record 2 at offset [0-9]* holds another block at height 1 .*(equivocation)" "$tmp/err" \
    || bad "equivocation named: $(cat "$tmp/err")"

splice gap c:0 c:1 c:3
expect 1 "verify: a gap" -- V gap
grep -q "record 2 at offset [0-9]* holds block 3; expected height 2 (blocks are missing)" "$tmp/err" \
    || bad "gap named: $(cat "$tmp/err")"

splice repeat c:0 c:1 c:1 c:2 c:3 c:4 c:5 c:6 c:7
expect 0 "verify: the tip block repeated byte for byte" -- V repeat
grep -q "^validated=8 passed=1$" "$tmp/out" || bad "repeat: 8 validated, 1 passed over: $(cat "$tmp/out")"
grep -q "record 2 (block 1) is the block the state already accepted: passed over" "$tmp/err" \
    || bad "repeat said on stderr: $(cat "$tmp/err")"

# ---- verify resumed from a state ----------------------------------------------
V c --state "$tmp/s5" --max-blocks 5 >/dev/null 2>&1 || bad "state after 5 blocks"
cp "$tmp/s5" "$tmp/s"
expect 0 "verify: resume over the accepted records" -- V c --state "$tmp/s"
grep -q "^validated=3 passed=5$" "$tmp/out" || bad "resume: $(cat "$tmp/out")"
grep -q "records 0..4 (blocks 0..4) are the blocks the state already accepted" "$tmp/err" \
    || bad "resume said on stderr: $(cat "$tmp/err")"

cp "$tmp/s5" "$tmp/s"
expect 1 "verify: the other branch before the tip" -- V d --state "$tmp/s"
grep -q "record 4 at offset [0-9]* holds a block 4 (hash [0-9a-f]*) that is not the block 4 the state accepted" \
    "$tmp/err" || bad "other branch named: $(cat "$tmp/err")"
cmp -s "$tmp/s" "$tmp/s5" || bad "a refused run leaves the state as it was"

splice pjunk c:0 junk c:2 c:3 c:4 c:5
cp "$tmp/s5" "$tmp/s"
expect 1 "verify: junk among the accepted records" -- V pjunk --state "$tmp/s"
grep -q "record 1 at offset [0-9]*) invalid: block does not decode" "$tmp/err" || bad "prefix junk: $(cat "$tmp/err")"

splice pgap c:0 c:2 c:3 c:4 c:5
cp "$tmp/s5" "$tmp/s"
expect 1 "verify: a hole among the accepted records" -- V pgap --state "$tmp/s"
grep -q "record 1 at offset [0-9]* holds block 2, which does not follow record 0 (block 0)" "$tmp/err" \
    || bad "prefix hole: $(cat "$tmp/err")"

splice short c:0 c:1 c:2
cp "$tmp/s5" "$tmp/s"
expect 1 "verify: a file that ends before the state's tip" -- V short --state "$tmp/s"
grep -q "short.blocks ends at block 2, before the state's tip (height 4)" "$tmp/err" || bad "short file: $(cat "$tmp/err")"

# ---- wallet sync ----------------------------------------------------------------
UTXO_WALLET_PASSPHRASE="records"
export UTXO_WALLET_PASSPHRASE
W="$tmp/w.wallet"
"$UTXO" wallet new "$W" --chain "$tmp/c.blocks" >/dev/null 2>&1 || bad "wallet new"
splice w3 c:0 c:1 c:2 c:3
expect 0 "wallet: sync 4 blocks" -- "$UTXO" wallet sync "$W" --chain "$tmp/w3.blocks" --proofs "$tmp/w3.proofs"
expect 1 "wallet: an old block" -- "$UTXO" wallet sync "$W" --chain "$tmp/old.blocks" --proofs "$tmp/old.proofs"
grep -q "record 3 at offset [0-9]* holds block 1, which does not follow record 2 (block 2)" "$tmp/err" \
    || bad "wallet old block named: $(cat "$tmp/err")"
expect 1 "wallet: junk record" -- "$UTXO" wallet sync "$W" --chain "$tmp/junk.blocks" --proofs "$tmp/junk.proofs"
grep -q "record 2 at offset [0-9]*) invalid: block does not decode" "$tmp/err" || bad "wallet junk: $(cat "$tmp/err")"
expect 1 "wallet: equivocation" -- "$UTXO" wallet sync "$W" --chain "$tmp/d.blocks" --proofs "$tmp/d.proofs"
grep -q "record 3 at offset [0-9]* holds a block 3 .* that is not the block 3 the state accepted" "$tmp/err" \
    || bad "wallet other branch: $(cat "$tmp/err")"
splice wrep c:0 c:1 c:2 c:3 c:3 c:4
expect 0 "wallet: tip repeated, then a new block" -- "$UTXO" wallet sync "$W" --chain "$tmp/wrep.blocks" --proofs "$tmp/wrep.proofs" --json
grep -q '"applied":1,"passed":5' "$tmp/out" || bad "wallet repeat counts: $(cat "$tmp/out")"
grep -q "records 0..4 (blocks 0..3)" "$tmp/err" || bad "wallet repeat said: $(cat "$tmp/err")"

# ---- replay --------------------------------------------------------------------
"$UTXO" replay "$tmp/c.blocks" --db "$tmp/r.db" --quiet --to 4 >/dev/null || bad "replay to 4"
splice rjunk c:0 junk c:2 c:3 c:4 c:5
expect 1 "replay: junk among the stored records" -- "$UTXO" replay "$tmp/rjunk.blocks" --db "$tmp/r.db" --quiet
grep -q "record 1 at offset [0-9]*) invalid: block does not decode" "$tmp/err" || bad "replay junk: $(cat "$tmp/err")"
expect 1 "replay: the other branch" -- "$UTXO" replay "$tmp/d.blocks" --db "$tmp/r.db" --quiet
grep -q "not the block 4 the state accepted" "$tmp/err" || bad "replay other branch: $(cat "$tmp/err")"
expect 0 "replay: resume" -- "$UTXO" replay "$tmp/c.blocks" --db "$tmp/r.db" --quiet
grep -q "records 0..4 (blocks 0..4) already in the store" "$tmp/err" || bad "replay passed over said: $(cat "$tmp/err")"
grep -q "^tip 7 " "$tmp/out" || bad "replay resumed to 7: $(cat "$tmp/out")"

echo "records_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
