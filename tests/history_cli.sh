#!/bin/sh
# history_cli.sh — one block range verified from a claimed start state
# (`utxo verify --from-state FILE --range A:B BLOCKS PROOFS -o RESULT`,
# docs/RANGES.md): a valid range's result holds the same end state as a
# sequential run to B; the same range run twice gives the same bytes; a
# start state at another height, files that end inside the range and a
# tampered block each give exit 1 with a result naming the height; usage
# and I/O faults give exit 2 and write no result. Run by `make check`.
set -u
. "${top_srcdir:-.}/tests/lib.sh"

G="--blocks 40 --tx-per-block 10 --wallets 10 --long-every 6 --long-rounds 100 --po2 16 --quiet"
expect 0 "gen" -- "$UTXO" gen $G -o "$tmp/c"
B="$tmp/c/blocks"
P="$tmp/c/proofs"
size() { wc -c <"$1" | tr -d ' '; }
# state_bytes FILE: the validator state inside a state file (12-byte head,
# 32-byte checksum)
state_bytes() { n=$(size "$1"); dd if="$1" bs=1 skip=12 count=$((n - 44)) 2>/dev/null; }
# result_state FILE: the end state inside a valid result (no reason)
result_state() { n=$(size "$1"); dd if="$1" bs=1 skip=222 count=$((n - 254)) 2>/dev/null; }

# claimed start states from a sequential run
for h in 10 20 30; do
    expect 0 "state at $h" -- "$UTXO" verify --chain "$B" --proofs "$P" --state "$tmp/s$h" --max-blocks $h --quiet
done

# ---- a valid range ------------------------------------------------------------
expect 0 "range 10:20" -- "$UTXO" verify --from-state "$tmp/s10" --range 10:20 "$B" "$P" -o "$tmp/r1"
grep -q "range 10:20 valid: 10 blocks" "$tmp/out" && ok || bad "range 10:20 says valid, 10 blocks"
head -c 4 "$tmp/r1" | grep -q uxrr && ok || bad "result magic"
[ "$(size "$tmp/r1")" -eq $((254 + $(size "$tmp/s20") - 44)) ] && ok || bad "result size 254 + state"
result_state "$tmp/r1" >"$tmp/r1.state"
state_bytes "$tmp/s20" >"$tmp/s20.state"
cmp -s "$tmp/r1.state" "$tmp/s20.state" && ok || bad "the range's end state is the sequential state at 20"
# the same range again, from another directory and with other file names:
# the same bytes (no path, no time)
mkdir "$tmp/elsewhere"
cp "$B" "$tmp/elsewhere/b"; cp "$P" "$tmp/elsewhere/p"; cp "$tmp/s10" "$tmp/elsewhere/s"
expect 0 "range 10:20 again" -- "$UTXO" verify --from-state "$tmp/elsewhere/s" --range=10:20 \
    --threads 1 --chain "$tmp/elsewhere/b" --proofs "$tmp/elsewhere/p" -o "$tmp/elsewhere/r"
cmp -s "$tmp/r1" "$tmp/elsewhere/r" && ok || bad "a range run twice gives the same bytes"
# a longer range over the same blocks ends at the same state
expect 0 "state at 1" -- "$UTXO" verify --chain "$B" --proofs "$P" --state "$tmp/s1" --max-blocks 1 --quiet
expect 0 "range 1:20" -- "$UTXO" verify --from-state "$tmp/s1" --range 1:20 "$B" "$P" -o "$tmp/ra"
result_state "$tmp/ra" | cmp -s - "$tmp/s20.state" && ok || bad "range 1:20 ends at the state at 20"

# ---- verdicts: exit 1 and a result ---------------------------------------------
expect 1 "start state at another height" -- "$UTXO" verify --from-state "$tmp/s10" --range 11:20 "$B" "$P" -o "$tmp/r2"
grep -q "invalid at height 11: validator state is inconsistent" "$tmp/out" && ok || bad "wrong start height named"
[ -s "$tmp/r2" ] && ok || bad "a result for the wrong start state"
expect 1 "files end inside the range" -- "$UTXO" verify --from-state "$tmp/s30" --range 30:50 "$B" "$P" -o "$tmp/r3"
grep -q "invalid at height 40: truncated input" "$tmp/out" && ok || bad "files ending at 40 named"
grep -q "10 blocks valid before it" "$tmp/out" && ok || bad "blocks before the end counted"
cp "$B" "$tmp/tampered"
flip "$tmp/tampered" $(($(size "$tmp/tampered") - 100))   # inside block 39
expect 1 "a tampered block" -- "$UTXO" verify --from-state "$tmp/s30" --range 30:40 "$tmp/tampered" "$P" -o "$tmp/r4"
grep -q "invalid at height 39" "$tmp/out" && ok || bad "the tampered block's height named"
grep -q "$tmp" "$tmp/r4" && bad "a result names a directory" || ok
# the blocks before the tampered one are the same as in a clean run
expect 0 "range 30:39" -- "$UTXO" verify --from-state "$tmp/s30" --range 30:39 "$B" "$P" -o "$tmp/r5"
expect 0 "state at 39" -- "$UTXO" verify --chain "$B" --proofs "$P" --state "$tmp/s39" --max-blocks 39 --quiet
# the record after a range's last block is not read: torn (a file still
# being written) it is no verdict on the range (it was exit 2, no result)
head -c $(($(size "$B") - 100)) "$B" >"$tmp/torn"   # cut inside block 39
expect 0 "range 30:39 before a torn record" -- "$UTXO" verify --from-state "$tmp/s30" --range 30:39 "$tmp/torn" "$P" -o "$tmp/r7"
cmp -s "$tmp/r5" "$tmp/r7" && ok || bad "a torn record after the range changed its result"
cp "$tmp/s30" "$tmp/s30.copy"
expect 0 "--max-blocks 9 before a torn record" -- "$UTXO" verify --chain "$tmp/torn" --proofs "$P" --state "$tmp/s30.copy" --max-blocks 9 --quiet
n4=$(size "$tmp/r4")
# r4 = 222-byte head, reason, state, checksum: its state is the state at 39
state_bytes "$tmp/s39" >"$tmp/s39.state"
tail -c $(($(size "$tmp/s39.state") + 32)) "$tmp/r4" | head -c "$(size "$tmp/s39.state")" |
    cmp -s - "$tmp/s39.state" && ok || bad "an invalid range keeps the state after its last valid block ($n4 bytes)"

# ---- no verdict: exit 2, no result ---------------------------------------------
expect 2 "a missing start state" -- "$UTXO" verify --from-state "$tmp/none" --range 0:5 "$B" "$P" -o "$tmp/r6"
[ ! -e "$tmp/r6" ] && ok || bad "no result without a start state"
grep -q "No such file" "$tmp/err" && ok || bad "a missing state is said so"
printf 'garbage' >"$tmp/gs"
expect 2 "a garbage start state" -- "$UTXO" verify --from-state "$tmp/gs" --range 0:5 "$B" "$P" -o "$tmp/r6"
[ ! -e "$tmp/r6" ] && ok || bad "no result from a garbage state"
expect 2 "proofs of another chain" -- "$UTXO" verify --from-state "$tmp/s10" --range 10:20 "$B" "$tmp/c/blocks" -o "$tmp/r6"
[ ! -e "$tmp/r6" ] && ok || bad "no result for mismatched files"
for r in 5:5 9:3 a:b 1: :2 1:2:3 4294967296:4294967297 -1:3; do
    expect 2 "--range $r" -- "$UTXO" verify --from-state "$tmp/s10" --range "$r" "$B" "$P" -o "$tmp/r6"
done
expect 2 "--range without -o" -- "$UTXO" verify --from-state "$tmp/s10" --range 10:20 "$B" "$P"
expect 2 "--range without --from-state" -- "$UTXO" verify --range 10:20 "$B" "$P" -o "$tmp/r6"
expect 2 "--range with --state" -- "$UTXO" verify --from-state "$tmp/s10" --range 10:20 --state "$tmp/x" "$B" "$P" -o "$tmp/r6"
# nor the other options a range does not honour: refused, not ignored
for o in "--save-every 5" --quiet --progress; do
    # shellcheck disable=SC2086 # the option and its value
    expect 2 "--range with $o" -- "$UTXO" verify --from-state "$tmp/s10" --range 10:20 $o "$B" "$P" -o "$tmp/r6"
    grep -q "are not for a range" "$tmp/err" || bad "--range with $o: says why: $(cat "$tmp/err")"
done
[ -e "$tmp/r6" ] && bad "a refused range wrote its result" || ok
expect 2 "one operand" -- "$UTXO" verify --from-state "$tmp/s10" --range 10:20 "$B" -o "$tmp/r6"
[ ! -e "$tmp/r6" ] && ok || bad "no result after a usage error"
# a failed write keeps the previous result
if [ "$(id -u)" -ne 0 ]; then
    mkdir "$tmp/ro" && cp "$tmp/r1" "$tmp/ro/r" && chmod 555 "$tmp/ro"
    expect 2 "an unwritable directory" -- "$UTXO" verify --from-state "$tmp/s10" --range 10:20 "$B" "$P" -o "$tmp/ro/r"
    grep -q "ermission denied" "$tmp/err" && ok || bad "permission denied said so"
    chmod 755 "$tmp/ro"
fi
cp "$tmp/r5" "$tmp/r5.before"
# (no file may grow under `ulimit -f 0`, so the messages go through a pipe)
got=$( { (
    trap '' XFSZ
    ulimit -f 0
    "$UTXO" verify --from-state "$tmp/s10" --range 10:20 "$B" "$P" -o "$tmp/r5" 2>&1 >/dev/null
    echo $? >&3
) | cat >"$tmp/err"; } 3>&1 )
[ "$got" -eq 2 ] && ok || bad "a result past the file size limit: exit $got, wanted 2"
grep -q "cannot write .*r5: File too large" "$tmp/err" && ok || bad "file size limit message: $(cat "$tmp/err")"
cmp -s "$tmp/r5" "$tmp/r5.before" && ok || bad "a failed write changed the previous result"
ls "$tmp"/r5.tmp.* >/dev/null 2>&1 && bad "a temporary file was left behind" || ok

# ---- plan, run, linkup -----------------------------------------------------------
expect 0 "replay into a store" -- "$UTXO" replay "$B" --db "$tmp/c.db" --quiet
expect 0 "plan 4 ranges" -- "$UTXO" history plan --store "$tmp/c.db" --ranges 4 -o "$tmp/plan"
grep -q "plan .*: 4 ranges over heights 0..39" "$tmp/out" && ok || bad "plan summary"
for i in 000 001 002 003; do
    for e in blocks proofs state; do
        [ -s "$tmp/plan/range-$i.$e" ] && ok || bad "plan wrote range-$i.$e"
    done
done
expect 0 "run --jobs 2" -- "$UTXO" history run "$tmp/plan" --jobs 2
grep -q "^linkup ok ranges=4 blocks=40 " "$tmp/out" && ok || bad "run links up 4 ranges, 40 blocks"
# the sequential verdict: same tip, same end state
"$UTXO" verify --chain "$B" --proofs "$P" --state "$tmp/s40" >"$tmp/seq.out" 2>&1 || bad "sequential verify"
seqtip=$(sed -n 's/^tip height=\([0-9]*\) hash=\([0-9a-f]*\).*/\1 \2/p' "$tmp/seq.out")
runtip=$(sed -n 's/^linkup ok .* tip=\([0-9]*\) hash=\([0-9a-f]*\)$/\1 \2/p' "$tmp/out")
[ -n "$seqtip" ] && [ "$seqtip" = "$runtip" ] && ok || bad "linkup tip '$runtip' is the sequential tip '$seqtip'"
result_state "$tmp/plan/range-003.result" | cmp -s - "$(state_bytes "$tmp/s40" >"$tmp/s40.state"; echo "$tmp/s40.state")" &&
    ok || bad "the last range ends at the sequential end state"
expect 0 "linkup again" -- "$UTXO" history linkup "$tmp/plan"
# a range killed and run again: the same bytes
cp "$tmp/plan/range-002.result" "$tmp/r2.first"
"$UTXO" verify --from-state "$tmp/plan/range-002.state" --range 21:31 "$tmp/plan/range-002.blocks" \
    "$tmp/plan/range-002.proofs" -o "$tmp/plan/range-002.result" >/dev/null 2>&1 &
kill -9 $! 2>/dev/null; wait $! 2>/dev/null
r=$(sed -n 's/^range 2 \([0-9]*\) \([0-9]*\) .*/\1:\2/p' "$tmp/plan/manifest")
expect 0 "range 2 run again" -- "$UTXO" verify --from-state "$tmp/plan/range-002.state" --range "$r" \
    "$tmp/plan/range-002.blocks" "$tmp/plan/range-002.proofs" -o "$tmp/plan/range-002.result"
cmp -s "$tmp/r2.first" "$tmp/plan/range-002.result" && ok || bad "a rerun range gives the same result bytes"
ls "$tmp/plan"/range-002.result.tmp.* >/dev/null 2>&1 && bad "a killed range left a temporary file" || ok

# a plan directory whose name starts with a dash, given relative after
# "--": its ranges are run (each `utxo verify` took the block file's path
# for options before: exit 2 for every range)
cp -r "$tmp/plan" "$tmp/-dash"
rm "$tmp/-dash"/range-*.result
expect 0 "run -- -dash" -- sh -c 'cd "$1" && "$2" history run --jobs 2 -- -dash' sh "$tmp" \
    "$(cd "$(dirname "$UTXO")" && pwd)/$(basename "$UTXO")"
grep -q "^linkup ok ranges=4 blocks=40 " "$tmp/out" && ok || bad "a plan named -dash runs: $(cat "$tmp/err")"

# faults link-up must catch, each named
cp -r "$tmp/plan" "$tmp/p1"
rm "$tmp/p1/range-002.result"
expect 2 "a missing result: no verdict" -- "$UTXO" history linkup "$tmp/p1"
grep -q "range 2 .*range-002.result.*no such file" "$tmp/err" && ok || bad "missing result named: $(cat "$tmp/err")"

cp -r "$tmp/plan" "$tmp/p2"   # one block tampered in range 1
flip "$tmp/p2/range-001.blocks" $(($(size "$tmp/p2/range-001.blocks") - 100))
expect 2 "a second run of a plan while one runs (its lock held)" -- \
    flock "$tmp/plan/.lock" "$UTXO" history run "$tmp/plan" --jobs 2
grep -q "plan/.lock is locked" "$tmp/err" && ok || bad "names the lock: $(cat "$tmp/err")"
expect 1 "a tampered range" -- "$UTXO" history run "$tmp/p2" --jobs 2
grep -q "history linkup: range 1 (heights 11..20): invalid at height 20" "$tmp/err" && ok ||
    bad "the tampered range named: $(cat "$tmp/err")"

# a range that ends without a verdict (exit 2: its block file is not one)
# while an earlier run's result is still there: `run` names it and exits 2,
# it does not link up the old result (exit 0, "linkup ok", before)
cp -r "$tmp/plan" "$tmp/p13"
echo garbage >"$tmp/p13/range-002.blocks"
expect 2 "run: a range without a verdict, an old result there" -- "$UTXO" history run "$tmp/p13" --jobs 2
grep -q "history run: range 2 (heights 21..30): utxo verify failed (exit 2" "$tmp/err" && ok ||
    bad "the range without a verdict named: $(cat "$tmp/err")"
grep -q "linkup ok" "$tmp/out" && bad "run linked up an old result: $(cat "$tmp/out")" || ok

cp -r "$tmp/plan" "$tmp/p3"   # a wrong claimed start state for range 2
# (the state at height 25 claimed for range 2, which starts at 21)
"$UTXO" verify --chain "$B" --proofs "$P" --state "$tmp/s25" --max-blocks 25 --quiet >/dev/null 2>&1
expect 0 "range 25:31 from a state at 25" -- "$UTXO" verify --from-state "$tmp/s25" --range 25:31 "$B" "$P" -o "$tmp/x25"
cp "$tmp/s25" "$tmp/p3/range-002.state"
expect 1 "range 2 from a state at 25 (another height)" -- "$UTXO" verify --from-state "$tmp/p3/range-002.state" \
    --range 21:31 "$tmp/p3/range-002.blocks" "$tmp/p3/range-002.proofs" -o "$tmp/p3/range-002.result"
expect 1 "linkup on a wrong start state" -- "$UTXO" history linkup "$tmp/p3"
grep -q "range 2 (heights 21..30): its start state is not where range 1 ended" "$tmp/err" && ok ||
    bad "the wrong start state's seam named: $(cat "$tmp/err")"

# a result of another chain
expect 0 "another chain" -- "$UTXO" gen $G --seed 99 -o "$tmp/o"
expect 0 "replay it" -- "$UTXO" replay "$tmp/o/blocks" --db "$tmp/o.db" --quiet
expect 0 "plan it" -- "$UTXO" history plan --store "$tmp/o.db" --ranges 4 -o "$tmp/oplan"
expect 0 "run it" -- "$UTXO" history run "$tmp/oplan" --jobs 2
cp -r "$tmp/plan" "$tmp/p4"
cp "$tmp/oplan/range-001.result" "$tmp/p4/range-001.result"
expect 1 "a result of another chain" -- "$UTXO" history linkup "$tmp/p4"
grep -q "range 1 .*another chain" "$tmp/err" && ok || bad "another chain's result named: $(cat "$tmp/err")"

# a damaged manifest: no verdict, exit 2
cp -r "$tmp/plan" "$tmp/p5"
sed -i 's/^ranges 4$/ranges 3/' "$tmp/p5/manifest"
expect 2 "an edited manifest" -- "$UTXO" history linkup "$tmp/p5"
# a manifest claiming 2^32 - 1 ranges: refused by its size before any
# memory is sized by the claim, and said (linkup and run)
cp -r "$tmp/plan" "$tmp/p9"
sed -i 's/^tip 39 /tip 4294967294 /; s/^ranges 4$/ranges 4294967295/' "$tmp/p9/manifest"
expect 2 "linkup: 2^32 - 1 ranges claimed" -- "$UTXO" history linkup "$tmp/p9"
grep -q "manifest line 5: 4294967295 ranges, more than the rest of the file can hold" "$tmp/err" &&
    ok || bad "the claim named: $(cat "$tmp/err")"
expect 2 "run: 2^32 - 1 ranges claimed" -- "$UTXO" history run "$tmp/p9"
grep -q "more than the rest of the file can hold" "$tmp/err" && ok || bad "run: the claim named: $(cat "$tmp/err")"
# a FIFO (or anything but a regular file) where a result or the manifest
# should be: refused unread, never waited on (timeout: 124 on the code
# before, where open() waited for a writer for ever)
if command -v mkfifo >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1; then
    cp -r "$tmp/plan" "$tmp/p10"
    rm "$tmp/p10/range-001.result" && mkfifo "$tmp/p10/range-001.result"
    expect 1 "linkup: a FIFO for a result" -- timeout 20 "$UTXO" history linkup "$tmp/p10"
    grep -q "range 1 (heights 11..20): range-001.result: not a regular file" "$tmp/err" && ok ||
        bad "a FIFO result named: $(cat "$tmp/err")"
    rm "$tmp/p10/range-001.result" && mkdir "$tmp/p10/range-001.result"
    expect 1 "linkup: a directory for a result" -- timeout 20 "$UTXO" history linkup "$tmp/p10"
    grep -q "range 1 .*range-001.result: not a regular file" "$tmp/err" && ok ||
        bad "a directory result named: $(cat "$tmp/err")"
    cp -r "$tmp/plan" "$tmp/p11"
    rm "$tmp/p11/manifest" && mkfifo "$tmp/p11/manifest"
    expect 2 "linkup: a FIFO for the manifest" -- timeout 20 "$UTXO" history linkup "$tmp/p11"
    grep -q "p11/manifest: not a regular file" "$tmp/err" && ok ||
        bad "a FIFO manifest named: $(cat "$tmp/err")"
    expect 2 "run: a FIFO for the manifest" -- timeout 20 "$UTXO" history run "$tmp/p11" --jobs 1
    grep -q "p11/manifest: not a regular file" "$tmp/err" && ok ||
        bad "run: a FIFO manifest named: $(cat "$tmp/err")"
    # a FIFO for a range's input: `run` does not start that range (its
    # `utxo verify` would wait for a writer for ever)
    cp -r "$tmp/plan" "$tmp/p12"
    rm "$tmp/p12/range-002.state" && mkfifo "$tmp/p12/range-002.state"
    expect 2 "run: a FIFO for a start state" -- timeout 20 "$UTXO" history run "$tmp/p12" --jobs 2
    grep -q "range 2: .*p12/range-002.state: not a regular file" "$tmp/err" && ok ||
        bad "run: a FIFO start state named: $(cat "$tmp/err")"
fi
expect 2 "no manifest" -- "$UTXO" history linkup "$tmp/nothing"
expect 2 "plan: too many ranges" -- "$UTXO" history plan --store "$tmp/c.db" --ranges 41 -o "$tmp/p6"
expect 2 "plan: no --ranges" -- "$UTXO" history plan --store "$tmp/c.db" -o "$tmp/p6"
expect 0 "plan: one range" -- "$UTXO" history plan --store "$tmp/c.db" --ranges 1 -o "$tmp/p7"
expect 0 "run: one range" -- "$UTXO" history run "$tmp/p7" --jobs 1
expect 0 "plan: a range per block" -- "$UTXO" history plan --store "$tmp/c.db" --ranges 40 -o "$tmp/p8"
expect 0 "run: a range per block" -- "$UTXO" history run "$tmp/p8"
grep -q "^linkup ok ranges=40 blocks=40 " "$tmp/out" && ok || bad "40 ranges of one block link up"

# the benchmark: both runs in one process, the linked-up tip checked
expect 0 "bench history" -- "$UTXO" bench history --blocks 30 --tx-per-block 3 --ranges 4 --jobs 2
grep -Eq "^bench history blocks=30 ranges=4 speedup=[0-9.]+ linkup_share=[0-9.]+ jobs=2 " "$tmp/out" &&
    ok || bad "bench history line: $(cat "$tmp/out")"
expect 2 "bench history: more ranges than blocks" -- "$UTXO" bench history --blocks 3 --ranges 4

echo "history_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
