#!/bin/sh
# chain_cli.sh — the chain commands end to end: `utxo genesis` (key file
# 0600, secret printed only when asked, the genesis readable by verify and
# replay), `utxo gen` (same seed same bytes, other seed other bytes),
# gen -> replay -> prove -> verify with the same roots as the store, every
# transaction of the generator's invalid.txs rejected by the mempool with its
# reason (`utxo sequence --expect`), sequencing a payment into a new block
# that verify and replay accept, block files cut short or edited refused
# with a clear message, and `utxo demo` at a small size. Run by `make check`.
set -u
. "${top_srcdir:-.}/tests/lib.sh"

size() { wc -c <"$1" | tr -d ' '; }

# ---- help and usage ----------------------------------------------------------
for c in genesis gen sequence demo; do
    expect 0 "$c --help" -- "$UTXO" "$c" --help
    grep -q "example" "$tmp/out" || bad "$c --help has an example"
    expect 2 "$c with a bad option" -- "$UTXO" "$c" --nope
done
expect 2 "gen without -o" -- "$UTXO" gen --blocks 3
grep -q -- "-o DIR" "$tmp/err" || bad "gen without -o says what to do"
expect 2 "gen --po2 out of range" -- "$UTXO" gen --po2 3 -o "$tmp/x"
expect 2 "genesis bad --alloc" -- "$UTXO" genesis -o "$tmp/x" --alloc nothex:5
grep -q "ID:VALUE" "$tmp/err" || bad "genesis --alloc error names the form"
expect 2 "sequence without -d" -- "$UTXO" sequence

# ---- genesis -------------------------------------------------------------------
id=$(printf '%064d' 7)
expect 0 "genesis" -- "$UTXO" genesis -o "$tmp/g" --alloc "$id:5000" --alloc "$id:7000" --time 1000
grep -q "^created chain [0-9a-f]\{64\} in " "$tmp/out" || bad "genesis prints the chain id"
grep -q "12000 base units to 2 outputs" "$tmp/out" || bad "genesis prints the allocations"
[ "$(stat -c %a "$tmp/g/sequencer.key")" = 600 ] || bad "key file mode 0600"
key=$(cat "$tmp/g/sequencer.key")
grep -q "$key" "$tmp/out" && bad "the key is printed without --show-secret"
expect 0 "verify the genesis" -- "$UTXO" verify --chain "$tmp/g/blocks" --proofs "$tmp/g/proofs"
grep -q "^block 0 valid txs=1 " "$tmp/out" || bad "genesis block valid"
expect 0 "replay the genesis" -- "$UTXO" replay "$tmp/g/blocks" --db "$tmp/g.db" --quiet
expect 0 "utxos of the genesis" -- "$UTXO" utxos --db "$tmp/g.db"
expect 2 "genesis over an existing chain" -- "$UTXO" genesis -o "$tmp/g"
grep -q "already holds a chain" "$tmp/err" || bad "genesis refusal says why"
expect 0 "genesis --show-secret --json" -- "$UTXO" genesis -o "$tmp/g2" --show-secret --json
grep -q "\"sequencer_key_seed\": *\"$(cat "$tmp/g2/sequencer.key")\"" "$tmp/out" ||
    bad "--show-secret prints the key seed"
expect 2 "genesis over the supply" -- "$UTXO" genesis -o "$tmp/g3" --alloc "$id:2100000000000000" --alloc "$id:1"

# ---- gen: determinism -----------------------------------------------------------
G="--blocks 14 --tx-per-block 10 --wallets 10 --long-every 4 --long-rounds 100 --po2 16 --quiet"
expect 0 "gen a" -- "$UTXO" gen $G --seed 11 -o "$tmp/a"
grep -q "^long runs [1-9][0-9]* in [1-9][0-9]* segment receipts" "$tmp/out" || bad "gen made long runs"
grep -q "^invalid transactions [1-9]" "$tmp/out" || bad "gen wrote invalid transactions"
expect 0 "gen b (same seed, other threads)" -- "$UTXO" gen $G --seed 11 --threads 1 -o "$tmp/b"
expect 0 "gen c (other seed)" -- "$UTXO" gen $G --seed 12 --json -o "$tmp/c"
grep -q '"segments": *[1-9]' "$tmp/out" || bad "gen --json"
for f in blocks proofs invalid.txs sequencer.key; do
    cmp -s "$tmp/a/$f" "$tmp/b/$f" && ok || bad "same seed, same $f"
    cmp -s "$tmp/a/$f" "$tmp/c/$f" && bad "other seed, same $f" || ok
done
expect 2 "gen over an existing chain" -- "$UTXO" gen $G -o "$tmp/a"

# ---- genesis and gen: all or nothing -------------------------------------------
# a write that fails (here the file size limit, EFBIG: as a full disk)
# leaves no chain behind, and names the cause; the same command then works
allocs=$(for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do printf ' --alloc %s:%d' "$id" "$i"; done)
expect 2 "genesis over the file size limit" -- sh -c "trap '' XFSZ; ulimit -f 1; exec \"$UTXO\" genesis -o \"$tmp/gf\" $allocs"
grep -q "cannot write $tmp/gf/blocks: file too large" "$tmp/err" && ok || bad "genesis: the cause: $(cat "$tmp/err")"
[ -e "$tmp/gf" ] && bad "a failed genesis left $(ls -A "$tmp/gf")" || ok
expect 0 "genesis again" -- "$UTXO" genesis -o "$tmp/gf" $allocs
mkdir "$tmp/gg" && : >"$tmp/gg/mine"
expect 2 "gen over the file size limit" -- sh -c "trap '' XFSZ; ulimit -f 64; exec \"$UTXO\" gen $G -o \"$tmp/gg\""
grep -q "File too large" "$tmp/err" && ok || bad "gen: the cause: $(cat "$tmp/err")"
[ "$(ls -A "$tmp/gg")" = mine ] && ok || bad "a failed gen left $(ls -A "$tmp/gg")"
expect 0 "gen again" -- "$UTXO" gen $G --seed 11 -o "$tmp/gg"
cmp -s "$tmp/a/blocks" "$tmp/gg/blocks" && ok || bad "gen again: other blocks"
# interrupted: it dies of the signal and leaves no chain
"$UTXO" gen --blocks 100000 --tx-per-block 10 --progress -o "$tmp/gi" >/dev/null 2>"$tmp/gi.err" &
pid=$!
n=0
while ! grep -q 'blocks/s' "$tmp/gi.err" 2>/dev/null && [ $n -lt 600 ]; do
    sleep 0.1; n=$((n + 1))
done
kill -TERM "$pid"
reap "$pid" 60 "gen after SIGTERM"
st=$?
[ "$st" -eq 143 ] && ok || bad "gen on SIGTERM: status $st, wanted 143"
[ -e "$tmp/gi" ] && bad "an interrupted gen left $(ls -A "$tmp/gi")" || ok
grep -q "interrupted by signal 15; nothing of the chain left in $tmp/gi" "$tmp/gi.err" && ok ||
    bad "gen on SIGTERM says so: $(cat "$tmp/gi.err")"

# ---- gen -> replay -> prove -> verify ----------------------------------------------
expect 0 "verify the sequencer's proofs" -- "$UTXO" verify --chain "$tmp/a/blocks" --proofs "$tmp/a/proofs"
seqdigest=$(sed -n 's/^accumulator .*digest=\([0-9a-f]*\)$/\1/p' "$tmp/out")
expect 0 "replay" -- "$UTXO" replay "$tmp/a/blocks" --db "$tmp/a.db" --quiet
storedigest=$(sed -n 's/^accumulator digest \([0-9a-f]*\) .*/\1/p' "$tmp/out")
storetip=$(sed -n 's/^tip 13 \([0-9a-f]*\)$/\1/p' "$tmp/out")
expect 0 "prove" -- "$UTXO" prove --db "$tmp/a.db" -o "$tmp/a.proofs"
expect 0 "verify the store's proofs" -- "$UTXO" verify --chain "$tmp/a/blocks" --proofs "$tmp/a.proofs"
vdigest=$(sed -n 's/^accumulator .*digest=\([0-9a-f]*\)$/\1/p' "$tmp/out")
grep -q "^tip height=13 hash=$storetip$" "$tmp/out" || bad "verify's tip is the store's"
[ -n "$storedigest" ] && [ "$storedigest" = "$vdigest" ] && [ "$seqdigest" = "$vdigest" ] &&
    ok || bad "roots: store $storedigest, stateless $vdigest, sequencer $seqdigest"

# ---- invalid transactions ----------------------------------------------------------
n_bad=$(grep -c '^[1-9]' "$tmp/a/invalid.txs")
[ "$n_bad" -ge 15 ] && ok || bad "at least 15 invalid transactions ($n_bad)"
expect 0 "each invalid transaction rejected with its reason" -- \
    "$UTXO" sequence -d "$tmp/a" --txs "$tmp/a/invalid.txs" --expect --check
[ "$(grep -c '^rejected ' "$tmp/out")" -eq "$n_bad" ] || bad "one rejection line per invalid tx"
grep -q "0 not as expected" "$tmp/out" || bad "all as expected"
grep -q "already spent by a transaction in the mempool \[350\]" "$tmp/out" || bad "conflict reason"
grep -q "predicate did not accept \[42\]" "$tmp/out" || bad "predicate reason"
cmp -s "$tmp/a/blocks" "$tmp/b/blocks" && ok || bad "--check writes nothing"
# a wrong expectation is caught
sed 's/^39 /34 /' "$tmp/a/invalid.txs" >"$tmp/wrong.txs"
expect 1 "a wrong expectation fails" -- "$UTXO" sequence -d "$tmp/a" --txs "$tmp/wrong.txs" --expect --check
grep -q "MISMATCH" "$tmp/out" || bad "mismatch reported"
expect 0 "sequence --json" -- "$UTXO" sequence -d "$tmp/a" --txs "$tmp/a/invalid.txs" --expect --check --json
grep -q '"mismatched": *0' "$tmp/out" || bad "sequence --json counts"

# a list line is bounded (2 x max_tx_bytes + 4096): one without a newline is
# refused at the bound, not read whole (--txs /dev/zero took all memory)
head -c 2200000 /dev/zero | tr '\0' 'a' >"$tmp/long.txs"
expect 2 "sequence: a list line too long" -- "$UTXO" sequence -d "$tmp/a" --check --txs "$tmp/long.txs"
grep -q "long.txs line 1: longer than 2101248 bytes" "$tmp/err" && ok || bad "a line too long: $(cat "$tmp/err")"
expect 2 "sequence: a list that is a directory" -- "$UTXO" sequence -d "$tmp/a" --check --txs "$tmp/a"
grep -q "cannot read $tmp/a: Is a directory" "$tmp/err" && ok || bad "a directory list: $(cat "$tmp/err")"

# ---- sequencing: the valid payment into a new block -----------------------------------
grep '^0 ' "$tmp/a/invalid.txs" | head -1 | cut -d' ' -f2 >"$tmp/pay.txs"
expect 0 "sequence a payment" -- "$UTXO" sequence -d "$tmp/a" --txs "$tmp/pay.txs" --db "$tmp/a.db" --time 1767229000
grep -q "^sealed block 14 [0-9a-f]\{64\}: 2 txs" "$tmp/out" || bad "block 14 sealed with the payment"
expect 0 "verify the extended chain" -- "$UTXO" verify --chain "$tmp/a/blocks" --proofs "$tmp/a/proofs"
grep -q "^tip height=14 " "$tmp/out" || bad "extended chain's tip"
expect 0 "the store took the block" -- "$UTXO" replay "$tmp/a/blocks" --db "$tmp/a.db" --quiet
grep -q "^tip 14 " "$tmp/out" || bad "store at 14"
expect 1 "the same payment again: spent" -- "$UTXO" sequence -d "$tmp/a" --txs "$tmp/pay.txs" --check
grep -q "does not exist \[40\]" "$tmp/out" || bad "payment now spends a spent output"
expect 2 "sequence with a store behind" -- "$UTXO" sequence -d "$tmp/a" --db "$tmp/g.db" --blocks 1
grep -q "utxo replay" "$tmp/err" || bad "store behind: says what to do"

# ---- genesis -> wallet -> sequencer -> wallet ------------------------------------------
UTXO_PASSPHRASE=chain-cli-pass
export UTXO_PASSPHRASE
expect 0 "wallet for the address" -- "$UTXO" wallet new "$tmp/w"
addr=$(grep -o 'utxo1[a-z0-9]*' "$tmp/out" | head -1)
expect 0 "other wallet" -- "$UTXO" wallet new "$tmp/x0"
other=$(grep -o 'utxo1[a-z0-9]*' "$tmp/out" | head -1)
expect 0 "genesis paying the wallet" -- "$UTXO" genesis -o "$tmp/wc" --alloc "$addr:5000000000" --alloc "$addr:7000000" --time 100
expect 0 "wallet moved to the chain" -- "$UTXO" wallet bind "$tmp/w" --chain "$tmp/wc/blocks"
expect 0 "wallet sync genesis" -- "$UTXO" wallet sync "$tmp/w" --chain "$tmp/wc/blocks" --proofs "$tmp/wc/proofs"
expect 0 "wallet send" -- "$UTXO" wallet send "$tmp/w" "$other" 1000000 -o "$tmp/pay.tx"
fee=$(sed -n 's/^fee \([0-9]*\),.*/\1/p' "$tmp/out")
expect 0 "sequence the wallet's payment" -- "$UTXO" sequence -d "$tmp/wc" "$tmp/pay.tx" --time 200
grep -q "^accepted .*pay.tx" "$tmp/out" || bad "payment accepted"
grep -q "^sealed block 1 .*: 2 txs, 1 inputs, fees $fee," "$tmp/out" || bad "block 1 holds the payment and its fee"
expect 0 "wallet sync block 1" -- "$UTXO" wallet sync "$tmp/w" --chain "$tmp/wc/blocks" --proofs "$tmp/wc/proofs"
expect 0 "wallet balance" -- "$UTXO" wallet balance "$tmp/w"
grep -q "^balance $((5007000000 - 1000000 - fee)) " "$tmp/out" || bad "balance after the payment: $(cat "$tmp/out")"
expect 0 "verify the wallet's chain" -- "$UTXO" verify --chain "$tmp/wc/blocks" --proofs "$tmp/wc/proofs"

# ---- damaged block files ---------------------------------------------------------------
mkdir "$tmp/cut" "$tmp/edit"
cp -p "$tmp/b/"* "$tmp/cut/"
cp -p "$tmp/b/"* "$tmp/edit/"
len=$(size "$tmp/b/blocks")
head -c $((len - 100)) "$tmp/b/blocks" >"$tmp/cut/blocks"
expect 2 "verify a block file cut short" -- "$UTXO" verify --chain "$tmp/cut/blocks" --proofs "$tmp/cut/proofs"
grep -q "offset" "$tmp/err" || bad "cut short: names the offset"
expect 2 "sequence on a block file cut short" -- "$UTXO" sequence -d "$tmp/cut" --check
grep -q "truncated.*offset\|offset.*truncated\|ends inside" "$tmp/err" || bad "cut short: sequence says so ($(cat "$tmp/err"))"
"$UTXO" replay "$tmp/cut/blocks" --db "$tmp/cut.db" --quiet >"$tmp/out" 2>"$tmp/err" &&
    bad "replay a block file cut short succeeded" || ok
grep -q "offset" "$tmp/err" || bad "replay cut short: names the offset"
flip "$tmp/edit/blocks" $((len - 40))
expect 1 "verify an edited block file" -- "$UTXO" verify --chain "$tmp/edit/blocks" --proofs "$tmp/edit/proofs"
grep -q "block 13" "$tmp/err" "$tmp/out" || bad "edited: names the block"
expect 1 "sequence on an edited block file" -- "$UTXO" sequence -d "$tmp/edit" --check
grep -q "does not follow\|offset" "$tmp/err" || bad "edited: sequence says why"
chmod 644 "$tmp/b/sequencer.key"
expect 2 "sequence with a key readable by others" -- "$UTXO" sequence -d "$tmp/b" --check
grep -q "chmod 600" "$tmp/err" || bad "key permissions: says what to do"

# ---- the demo, small ---------------------------------------------------------------------
expect 0 "demo" -- "$UTXO" demo --blocks 12 --tx-per-block 8 --dir "$tmp/demo" --quiet
grep -q "everything verified" "$tmp/out" || bad "demo verified"
grep -q "stateless roots  equal the store's" "$tmp/out" || bad "demo roots equal"
grep -q "store's proofs   equal the sequencer's" "$tmp/out" || bad "demo proofs equal"
grep -q "validator state  [0-9]* bytes (tip + accumulator roots); the store: [0-9]* unspent" "$tmp/out" || bad "demo state bytes"
grep -q "invalid txs    \([1-9][0-9]*\) of \1 rejected with the expected reason" "$tmp/out" || bad "demo: invalid transactions rejected"
[ -f "$tmp/demo/node.db" ] && [ -f "$tmp/demo/chain/blocks" ] && ok || bad "demo --dir keeps its files"
expect 2 "demo into a used directory" -- "$UTXO" demo --blocks 3 --dir "$tmp/demo" --quiet
expect 0 "demo --json (temporary directory)" -- env TMPDIR="$tmp" "$UTXO" demo --blocks 5 --tx-per-block 4 --json --quiet
grep -q '"verified": *true' "$tmp/out" || bad "demo --json verified"
ls -d "$tmp"/utxo-demo.* >/dev/null 2>&1 && bad "demo removes its temporary directory" || ok

echo "chain_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
