#!/bin/sh
# cli.sh — drives the utxo command end to end: --help/--version, tx decode and
# tx check on the golden vector (binary, hex and stdin; under a chain's
# limits with --chain), and the error paths
# (unknown command, bad option, missing file, truncated and trailing input)
# with their exit codes and messages. Run by `make check`.
set -u
VEC="${top_srcdir:-.}/tests/vectors"
. "${top_srcdir:-.}/tests/lib.sh"

expect 0 "--help" -- "$UTXO" --help
grep -q "tx " "$tmp/out" || bad "--help does not list tx"
expect 0 "--version" -- "$UTXO" --version
grep -q "^utxo [0-9]" "$tmp/out" || bad "--version output"
expect 2 "no arguments" -- "$UTXO"
expect 2 "unknown command" -- "$UTXO" frobnicate
grep -q "unknown command 'frobnicate'" "$tmp/err" || bad "unknown command message"
grep -q "see 'utxo --help'" "$tmp/err" || bad "unknown command: the hint"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || bad "unknown command: one line"
expect 0 "tx --help" -- "$UTXO" tx --help
grep -q "example" "$tmp/out" || bad "tx --help has an example"
expect 2 "tx without file" -- "$UTXO" tx decode
expect 2 "tx bad option" -- "$UTXO" tx decode --nope "$VEC/tx_simple.bin"
expect 2 "tx missing file" -- "$UTXO" tx decode "$tmp/does-not-exist"
grep -q "does-not-exist" "$tmp/err" || bad "missing file is named"

# decode: the golden vector's ids (pinned in tests/test_ledger.c too)
expect 0 "tx decode" -- "$UTXO" tx decode "$VEC/tx_simple.bin"
grep -q '"txid": "5875d8e0d2837f2ebb1d47bcf0d0ff8e50b6f93692ad715b6b11a638ddb1505d"' "$tmp/out" || bad "decode txid"
grep -q '"value": 4000' "$tmp/out" || bad "decode value"
grep -q '"datum": "6869"' "$tmp/out" || bad "decode datum"
cp "$tmp/out" "$tmp/decoded.json"
expect 0 "tx decode stdin" -- sh -c "\"$UTXO\" tx decode - < \"$VEC/tx_simple.bin\""
cmp -s "$tmp/out" "$tmp/decoded.json" || bad "stdin decode differs"
od -An -v -tx1 "$VEC/tx_simple.bin" | tr -d ' \n' > "$tmp/tx.hex"
echo >> "$tmp/tx.hex"
expect 0 "tx decode --hex" -- "$UTXO" tx decode --hex "$tmp/tx.hex"
cmp -s "$tmp/out" "$tmp/decoded.json" || bad "hex decode differs"
if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/decoded.json" && ok || bad "decode output is not JSON"
fi

# truncated and trailing input: exit 1, the offset in the message
head -c 100 "$VEC/tx_simple.bin" > "$tmp/short.bin"
expect 1 "truncated tx" -- "$UTXO" tx decode "$tmp/short.bin"
grep -q "truncated input" "$tmp/err" || bad "truncated message"
grep -q "at byte 100" "$tmp/err" || bad "truncated offset"
cat "$VEC/tx_simple.bin" > "$tmp/long.bin"; printf 'x' >> "$tmp/long.bin"
expect 1 "trailing tx" -- "$UTXO" tx decode "$tmp/long.bin"
grep -q "at byte 143: trailing bytes" "$tmp/err" || bad "trailing message"
printf 'zz' > "$tmp/bad.hex"
expect 2 "bad hex" -- "$UTXO" tx decode --hex "$tmp/bad.hex"
# a NUL byte ends no hex text: what follows it was ignored (the transaction
# before it decoded, exit 0)
{ tr -d '\n' <"$tmp/tx.hex"; printf '\000zz'; } > "$tmp/nul.hex"
expect 2 "hex with a NUL byte and more after it" -- "$UTXO" tx decode --hex "$tmp/nul.hex"
grep -q "a NUL byte at offset 286" "$tmp/err" || bad "NUL message: $(cat "$tmp/err")"

# check
expect 0 "tx check" -- "$UTXO" tx check "$VEC/tx_simple.bin"
expect 0 "tx check --json" -- "$UTXO" tx check --json "$VEC/tx_simple.bin"
grep -q '{"valid":true}' "$tmp/out" || bad "check json"
# --chain: the limits of that chain (its block file's header), not the
# default ones; a file that is not a block file is named, exit 2
expect 0 "genesis of a chain of 120-byte transactions" -- \
    "$UTXO" genesis -o "$tmp/small" --max-tx-bytes 120
expect 1 "tx check --chain, over its size" -- "$UTXO" tx check --json --chain "$tmp/small/blocks" "$VEC/tx_simple.bin"
# decoded within the chain's limits, as its node decodes a POST /tx
grep -q '^{"valid":false,"error":13,"reason":"length or count over its limit","offset":120}$' "$tmp/out" || bad "check --chain: $(cat "$tmp/out")"
# a chain with larger limits takes a larger transaction: one input (a
# template), 300 outputs with a 4096-byte datum each, 1,241,482 bytes (over
# the default 1 MiB)
expect 0 "genesis of a chain of 4 MiB transactions" -- \
    "$UTXO" genesis -o "$tmp/big" --max-tx-bytes 4194304 --max-block-bytes 16777216
datum=$(head -c 4096 /dev/zero | tr '\0' 3)
{
    printf '\001\000\000\000\001\000'
    head -c 32 /dev/zero | tr '\0' 1
    printf '\000\000\000\000\002\000\254\002'
    i=0
    while [ $i -lt 300 ]; do
        printf '\001\000\000\000\000\000\000\000%s\200\040%s' 22222222222222222222222222222222 "$datum"
        i=$((i + 1))
    done
    printf '\350\007\040%s\000' 44444444444444444444444444444444
} >"$tmp/big.tx"
expect 0 "tx check --chain, a transaction over 1 MiB within its limits" -- \
    "$UTXO" tx check --json --chain "$tmp/big/blocks" "$tmp/big.tx"
grep -q '^{"valid":true}$' "$tmp/out" || bad "check --chain big: $(cat "$tmp/out")"
expect 1 "tx check, the same transaction under the default limits" -- \
    "$UTXO" tx check --json "$tmp/big.tx"
grep -q '"error":13,.*"offset":1048576}$' "$tmp/out" || bad "check big: $(cat "$tmp/out")"
expect 0 "genesis of a chain of 900-cycle transactions" -- \
    "$UTXO" genesis -o "$tmp/lean" --max-tx-cycles 900
expect 1 "tx check --chain, over its cycles" -- "$UTXO" tx check --chain "$tmp/lean/blocks" "$VEC/tx_simple.bin"
grep -q "^invalid: " "$tmp/out" && ! grep -q "too large" "$tmp/out" || bad "check --chain cycles: $(cat "$tmp/out")"
expect 2 "tx check --chain, not a block file" -- "$UTXO" tx check --chain "$tmp/small/proofs" "$VEC/tx_simple.bin"
grep -q "tx check: $tmp/small/proofs: not a valid block file: " "$tmp/err" || bad "check --chain proofs: $(cat "$tmp/err")"
expect 2 "tx check --chain, no such file" -- "$UTXO" tx check --chain "$tmp/none" "$VEC/tx_simple.bin"
grep -q "tx check: $tmp/none: No such file or directory" "$tmp/err" || bad "check --chain none: $(cat "$tmp/err")"
expect 2 "tx decode --chain" -- "$UTXO" tx decode --chain "$tmp/small/blocks" "$VEC/tx_simple.bin"
grep -q "tx decode: --chain is an option of tx check" "$tmp/err" || bad "decode --chain: $(cat "$tmp/err")"
expect 2 "tx decode --json" -- "$UTXO" tx decode --json "$VEC/tx_simple.bin"

# output that cannot be written is an I/O error (exit 2, said), never exit 0
if [ -w /dev/full ]; then
    expect 2 "--help >/dev/full" -- sh -c "\"$UTXO\" --help >/dev/full"
    grep -q "cannot write standard output: No space left on device" "$tmp/err" ||
        bad "--help >/dev/full: the cause"
    expect 2 "tx decode >/dev/full" -- sh -c "\"$UTXO\" tx decode \"$VEC/tx_simple.bin\" >/dev/full"
fi
expect 2 "tx check, stdout closed" -- sh -c "\"$UTXO\" tx check \"$VEC/tx_simple.bin\" >&-"
grep -q "cannot write standard output: it is closed" "$tmp/err" || bad "stdout closed: said"
# a closed stdout or stderr is not a descriptor for a file the command
# writes: the progress lines of `gen >&- 2>&-` once went into its block
# file (the summary it cannot print is exit 2)
expect 0 "gen" -- "$UTXO" gen --blocks 12 --tx-per-block 4 --long-every 0 -o "$tmp/g1" --quiet
expect 2 "gen --progress >&- 2>&-" -- sh -c \
    "\"$UTXO\" gen --blocks 12 --tx-per-block 4 --long-every 0 -o \"$tmp/g2\" --progress >&- 2>&-"
cmp -s "$tmp/g1/blocks" "$tmp/g2/blocks" && cmp -s "$tmp/g1/proofs" "$tmp/g2/proofs" && ok ||
    bad "gen >&- 2>&- wrote other chain files"

# bench encode prints its ratio line
expect 0 "bench encode" -- "$UTXO" bench encode --iters 200
grep -q "^bench encode .*ratio_to_memcpy=" "$tmp/out" || bad "bench encode line"
expect 2 "bench unknown" -- "$UTXO" bench nope
# the bare Ed25519 rate runs at most 64 threads: more would be compared with
# a rate on 64 (it was capped silently), so they are refused
expect 2 "bench replay --threads 65" -- "$UTXO" bench replay --threads 65 --blocks 2 --txs 1
expect 2 "bench stateless --threads 65" -- "$UTXO" bench stateless --only validator --threads 65 \
    --blocks 16 --txs 1

# bench stateless: the validator's line at 1 and 2 threads, with the
# baseline sampled between chunks (every rate positive), and the memory lines.
# 15 blocks of 4 payments validate in a few milliseconds, far less than the
# samples' 8 x 10 ms of CPU: too short to compare, so every ratio reads `short`.
expect 0 "bench stateless" -- "$UTXO" bench stateless --only validator --threads 2 --blocks 16 --txs 4
for th in 1 2; do
    grep -Eq "^bench stateless validator blocks=15 txs_per_block=4 inputs=[1-9][0-9]* threads=$th ed25519_per_sec=[1-9][0-9]* ed25519_parallel_per_sec=[1-9][0-9]* inputs_per_sec=[1-9][0-9]* ratio=short ratio_min=short ratio_max=short ratio_parallel=short .* ratio_one_sig=short ed25519_scaling=[0-9.]+$" "$tmp/out" ||
        bad "bench stateless line at $th threads"
done
grep -q "^bench stateless validator blocks=16 leaves=.* verify_peak_rss_kib=[1-9]" "$tmp/out" ||
    bad "bench stateless memory line"

# bench replay: its lines, and the ratio to the Ed25519 limit (tx_per_s over
# ed25519_tx_per_s) = sig_cpu_share * cores_busy / threads, the decomposition
# its cpus= line promises, to the printed rounding
# (6 blocks replay in a few milliseconds of CPU, less than 10 ms per
# sample: the ratios to the samples read `short`)
expect 0 "bench replay" -- "$UTXO" bench replay --blocks 6 --txs 8 --threads 2
grep -Eq "^bench replay blocks=6 txs=[1-9][0-9]* .* threads=2 replay_s=[0-9.]+ tx_per_s=[1-9]" "$tmp/out" ||
    bad "bench replay first line"
grep -Eq "^bench replay binding=(ed25519|sqlite) ratio=short goal=0.8$" "$tmp/out" ||
    bad "bench replay ratio line"
grep -Eq "^bench replay ed25519_parallel_verify_per_s=[1-9][0-9]* ed25519_parallel_tx_per_s=[1-9][0-9]* ratio_parallel=short$" "$tmp/out" ||
    bad "bench replay parallel line"
grep -Eq "^bench replay ed25519_one_sig_verify_per_s=[1-9][0-9]* ratio_one_sig=short$" "$tmp/out" ||
    bad "bench replay one-signature line"
grep -Eq "^bench replay cpus=[1-9][0-9]* cpu_s=[0-9.]+ cores_busy=[0-9.]+ cpu_us_per_block=[1-9][0-9]* sig_cpu_share=[0-9.]+$" "$tmp/out" ||
    bad "bench replay cores line"
awk 'function f(name,   i) { for (i = 1; i <= NF; i++) if (index($i, name "=") == 1) return substr($i, length(name) + 2); return "" }
     /^bench replay blocks=/ { tx = f("tx_per_s") }
     /^bench replay limit=ed25519/ { ed = f("ed25519_tx_per_s") }
     /^bench replay cpus=/ { c = f("cores_busy"); s = f("sig_cpu_share") }
     END { if (ed + 0 <= 0) exit 1; d = tx / ed - s * c / 2; if (d < 0) d = -d; exit !(d <= 0.02) }' "$tmp/out" ||
    bad "bench replay: ratio is not sig_cpu_share * cores_busy / threads"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
