#!/bin/sh
# segments_cli.sh — `utxo segments` end to end, without a RISC-V toolchain
# (tests/segments/work.img is committed): a run of more than 10^8 cycles is
# proved into receipts; the directory verifies on one and two threads; every
# receipt verifies alone in a process of its own (verify-one); a flipped
# byte, a dropped, duplicated or swapped receipt, and another run's receipt
# are rejected; an ELF input; a transaction carried through the proof
# directory; --json, --help and the exit codes (0 / 1 / 2); receipts byte
# identical with the translating tier off (UTXO_VM_JIT=0).
set -u
SRC="${top_srcdir:-.}"
IMG="$SRC/tests/segments/work.img"
. "${top_srcdir:-.}/tests/lib.sh"

# --- a run of more than 10^8 cycles: 20000 SHA-256 rounds, 1 MB sieve ----
ARGS=$(le32 20000 1048576 0 4096 4294967295 1)
expect 0 "prove long run" -- "$UTXO" segments prove "$IMG" --arg-hex "$ARGS" --budget 400000000 \
    --po2 20 -o "$tmp/long" --json
cycles=$(sed -n 's/.*"cycles":\([0-9]*\).*/\1/p' "$tmp/out")
segs=$(sed -n 's/.*"segments":\([0-9]*\).*/\1/p' "$tmp/out")
if [ -n "$cycles" ] && [ "$cycles" -gt 100000000 ]; then ok; else bad "long run: cycles '$cycles'"; fi
# every segment but the last is 2^20 cycles, or up to one page charge
# (1024) more when a load or store just before the boundary touches a fresh
# page; +1 segment if the final HALT moved
want=$(( (cycles + 1048575) / 1048576 ))
least=$(( cycles / (1048576 + 1024) ))
if [ "$segs" -le $((want + 1)) ] && [ "$segs" -ge "$least" ]; then ok; else bad "segments $segs, want $least..$((want + 1))"; fi
n=$(ls "$tmp/long" | grep -c '^seg-.*\.rcpt$')
[ "$n" -eq "$segs" ] && ok || bad "$n receipt files for $segs segments"
# the plain run agrees on outcome and cycles
expect 0 "plain run" -- "$UTXO" predicate run "$IMG" --arg-hex "$ARGS" --budget 400000000 --json
grep -q "\"cycles\":$cycles," "$tmp/out" && ok || bad "plain run cycles differ from $cycles"

expect 0 "verify 1 thread" -- "$UTXO" segments verify "$tmp/long" --threads 1
grep -q "^valid accepted exit=0 cycles=$cycles segments=$segs" "$tmp/out" && ok || bad "verify output: $(cat "$tmp/out")"
expect 0 "verify 2 threads" -- "$UTXO" segments verify "$tmp/long" --threads 2 --json
grep -q '"valid":true' "$tmp/out" && grep -q "\"cycles\":$cycles" "$tmp/out" && ok || bad "verify json: $(cat "$tmp/out")"

# every receipt alone, each in its own process
i=0
for f in "$tmp"/long/seg-*.rcpt; do
    expect 0 "verify-one $f" -- "$UTXO" segments verify-one "$f"
    grep -q "^valid index=$i " "$tmp/out" || bad "verify-one $f: $(cat "$tmp/out")"
    i=$((i + 1))
done
expect 0 "verify-one json" -- "$UTXO" segments verify-one "$tmp/long/seg-000000.rcpt" --json
grep -q '"valid":true' "$tmp/out" && grep -q '"cycles_before":0,' "$tmp/out" && ok || bad "verify-one json: $(cat "$tmp/out")"

# --- tampering, on a short run with many small segments -----------------
ARGS2=$(le32 3 2000 1 16 4294967295 1)
expect 0 "prove short" -- "$UTXO" segments prove "$IMG" --arg-hex "$ARGS2" --po2 10 -o "$tmp/a"
expect 0 "verify short" -- "$UTXO" segments verify "$tmp/a"
# the translating tier changes nothing: the same receipts, byte for byte,
# with it off (issue 17), on the long run and on the short one; and the
# interpreter-only verifier accepts them
for d in long a; do
    if [ "$d" = long ]; then
        set -- --arg-hex "$ARGS" --budget 400000000 --po2 20
    else
        set -- --arg-hex "$ARGS2" --po2 10
    fi
    expect 0 "prove $d, no JIT" -- env UTXO_VM_JIT=0 "$UTXO" segments prove "$IMG" "$@" -o "$tmp/$d-nojit"
    if diff -r "$tmp/$d" "$tmp/$d-nojit" >/dev/null; then ok; else bad "receipts of $d differ with the JIT off"; fi
    expect 0 "verify $d, no JIT" -- env UTXO_VM_JIT=0 "$UTXO" segments verify "$tmp/$d"
done
ns=$(ls "$tmp/a" | grep -c '^seg-')
[ "$ns" -ge 4 ] && ok || bad "short run: $ns segments"
# flip one byte at several offsets of receipt 1 (24 argument bytes: the
# pre-state registers are bytes 87..210, cycles 211..218, touched 219..222)
size=$(wc -c < "$tmp/a/seg-000001.rcpt")
for off in 0 5 9 20 60 100 150 200 211 219 $((size / 2)) $((size - 40)) $((size - 1)); do
    rm -rf "$tmp/b" && cp -r "$tmp/a" "$tmp/b"
    orig=$(od -An -tu1 -j "$off" -N1 "$tmp/b/seg-000001.rcpt" | tr -d ' ')
    new=$(( (orig + 1) % 256 ))
    printf "\\$(printf '%03o' "$new")" | dd of="$tmp/b/seg-000001.rcpt" bs=1 seek="$off" conv=notrunc 2>/dev/null
    # A register the segment overwrites before reading it leaves a receipt
    # that is valid alone -- for another pre-state, which only the chain
    # check (the previous receipt's post digest) refuses.
    if [ "$off" -lt 87 ] || [ "$off" -gt 210 ]; then
        expect 1 "flipped byte $off: verify-one" -- "$UTXO" segments verify-one "$tmp/b/seg-000001.rcpt"
    fi
    expect 1 "flipped byte $off: verify" -- "$UTXO" segments verify "$tmp/b"
done
# drop the last receipt; drop a middle one (the chain stops at the gap)
rm -rf "$tmp/b" && cp -r "$tmp/a" "$tmp/b"
last=$(ls "$tmp/b" | grep '^seg-' | tail -1)
rm "$tmp/b/$last"
expect 1 "dropped last" -- "$UTXO" segments verify "$tmp/b"
rm -rf "$tmp/b" && cp -r "$tmp/a" "$tmp/b"
rm "$tmp/b/seg-000001.rcpt"
expect 1 "dropped middle" -- "$UTXO" segments verify "$tmp/b"
# swap two; duplicate one over its neighbour
rm -rf "$tmp/b" && cp -r "$tmp/a" "$tmp/b"
mv "$tmp/b/seg-000001.rcpt" "$tmp/x" && mv "$tmp/b/seg-000002.rcpt" "$tmp/b/seg-000001.rcpt" && mv "$tmp/x" "$tmp/b/seg-000002.rcpt"
expect 1 "swapped" -- "$UTXO" segments verify "$tmp/b"
rm -rf "$tmp/b" && cp -r "$tmp/a" "$tmp/b"
cp "$tmp/b/seg-000001.rcpt" "$tmp/b/seg-000002.rcpt"
expect 1 "duplicated" -- "$UTXO" segments verify "$tmp/b"
# another run's receipt (same program, other arguments)
expect 0 "prove other" -- "$UTXO" segments prove "$IMG" --arg-hex "$(le32 3 2000 1 16 4294967295 2)" --po2 10 -o "$tmp/c"
rm -rf "$tmp/b" && cp -r "$tmp/a" "$tmp/b"
cp "$tmp/c/seg-000002.rcpt" "$tmp/b/seg-000002.rcpt"
expect 1 "other run's receipt" -- "$UTXO" segments verify "$tmp/b"
expect 0 "the other run's receipt is valid alone" -- "$UTXO" segments verify-one "$tmp/c/seg-000002.rcpt"

# --- an ELF input (the fuzz corpus's htlc template: one argument byte is
# malformed, so it rejects; a rejection proves like any outcome). 40
# instructions and host-call cycles plus one stack page (1024): past one
# 2^10 segment, so two ----------------------------------------------------
tail -c +2 "$SRC/tests/fuzz/corpus/image/htlc_elf" > "$tmp/htlc.elf"
expect 1 "prove ELF" -- "$UTXO" segments prove "$tmp/htlc.elf" --arg-hex 00 --po2 10 -o "$tmp/elf"
grep -q '^proved rejected cycles=1064 segments=2' "$tmp/out" && ok || bad "ELF prove: $(cat "$tmp/out")"
expect 1 "verify ELF run" -- "$UTXO" segments verify "$tmp/elf" --json
grep -q '"valid":true' "$tmp/out" && grep -q '"status":"rejected"' "$tmp/out" && ok || bad "ELF verify: $(cat "$tmp/out")"
expect 0 "ELF image equals predicate build" -- "$UTXO" predicate build "$tmp/htlc.elf" -o "$tmp/htlc.img"
cmp -s "$tmp/htlc.img" "$tmp/elf/image" && ok || bad "the proof directory's image is not the built image"

# --- with a transaction: the directory keeps a copy and verify rebuilds
# the context from the manifest ---------------------------------------------
expect 0 "prove with --tx" -- "$UTXO" segments prove "$IMG" --arg-hex "$ARGS2" --tx "$SRC/tests/vectors/tx_simple.bin" \
    --input 0 --height 7 --budget 1000000 --po2 11 -o "$tmp/t"
cmp -s "$tmp/t/tx" "$SRC/tests/vectors/tx_simple.bin" && ok || bad "tx not copied"
grep -q '^tx yes$' "$tmp/t/manifest" && grep -q '^height 7$' "$tmp/t/manifest" && ok || bad "manifest: $(cat "$tmp/t/manifest")"
expect 0 "verify with tx" -- "$UTXO" segments verify "$tmp/t"
expect 0 "verify-one with tx" -- "$UTXO" segments verify-one "$tmp/t/seg-000001.rcpt" --tx "$SRC/tests/vectors/tx_simple.bin" --input 0
expect 2 "verify-one bad input" -- "$UTXO" segments verify-one "$tmp/t/seg-000001.rcpt" --tx "$SRC/tests/vectors/tx_simple.bin" --input 99
expect 2 "verify-one height past 2^32-1" -- "$UTXO" segments verify-one "$tmp/t/seg-000001.rcpt" --tx "$SRC/tests/vectors/tx_simple.bin" --height 4294967296
grep -q -- "--height 4294967296: block heights are at most 4294967295" "$tmp/err" && ok || bad "height message: $(cat "$tmp/err")"
# a number no field can hold is refused, not cut to fit: page_limit 2^32 +
# the real one, height 2^32 + 7 (both verified as the real ones before)
cp "$tmp/t/manifest" "$tmp/m0"
for edit in 's/^page_limit .*/page_limit 4294983680/' 's/^height .*/height 4294967303/' \
    's/^po2 .*/po2 9/' 's/^po2 .*/po2 25/'; do
    sed "$edit" "$tmp/m0" > "$tmp/t/manifest"
    expect 2 "manifest: $edit" -- "$UTXO" segments verify "$tmp/t"
done
# a NUL byte and more after the last line: the text ended at the NUL and
# the rest was ignored (verified, exit 0)
{ cat "$tmp/m0"; printf '\000budget 999999\n'; } > "$tmp/t/manifest"
expect 2 "manifest with a NUL byte and a line after it" -- "$UTXO" segments verify "$tmp/t"
grep -q "a NUL byte at offset" "$tmp/err" && ok || bad "NUL message: $(cat "$tmp/err")"
cp "$tmp/m0" "$tmp/t/manifest"
sed 's/^budget .*/budget 999999/' "$tmp/t/manifest" > "$tmp/m" && cp "$tmp/m" "$tmp/t/manifest"
expect 1 "manifest with another budget" -- "$UTXO" segments verify "$tmp/t"
echo garbage > "$tmp/t/manifest"
expect 2 "bad manifest" -- "$UTXO" segments verify "$tmp/t"

# proving a shorter run into a used directory leaves no stale receipts
cp -r "$tmp/a" "$tmp/reuse"
expect 0 "prove into a used directory" -- "$UTXO" segments prove "$IMG" --arg-hex "$ARGS2" --po2 12 -o "$tmp/reuse"
expect 0 "verify the reused directory" -- "$UTXO" segments verify "$tmp/reuse"

# --- outcomes and exit codes ----------------------------------------------
expect 1 "rejected run proves, exit 1" -- "$UTXO" segments prove "$IMG" --arg-hex "$(le32 2 0 0 0 7)" --po2 12 -o "$tmp/r"
grep -q '^proved rejected' "$tmp/out" && ok || bad "rejected: $(cat "$tmp/out")"
expect 1 "rejected run verifies as rejected" -- "$UTXO" segments verify "$tmp/r"
grep -q '^valid rejected exit=1' "$tmp/out" && ok || bad "verify rejected: $(cat "$tmp/out")"
expect 1 "out of cycles" -- "$UTXO" segments prove "$IMG" --arg-hex "$ARGS2" --budget 5000 --po2 10 -o "$tmp/o"
grep -q 'reason=out of cycles' "$tmp/out" && ok || bad "out of cycles: $(cat "$tmp/out")"
expect 1 "out of cycles verifies" -- "$UTXO" segments verify "$tmp/o"
grep -q '^valid failed reason=out of cycles exit=0 cycles=5000' "$tmp/out" && ok || bad "verify ooc: $(cat "$tmp/out")"
expect 0 "po2 24" -- "$UTXO" segments prove "$IMG" --arg-hex "$ARGS2" --po2 24 -o "$tmp/p24"
[ "$(ls "$tmp/p24" | grep -c '^seg-')" -eq 1 ] && ok || bad "po2 24: not one segment"
expect 0 "verify po2 24" -- "$UTXO" segments verify "$tmp/p24"
expect 2 "po2 9" -- "$UTXO" segments prove "$IMG" --po2 9 -o "$tmp/p9"
expect 2 "po2 25" -- "$UTXO" segments prove "$IMG" --po2 25 -o "$tmp/p25"
expect 2 "no -o" -- "$UTXO" segments prove "$IMG"
expect 2 "missing dir" -- "$UTXO" segments verify "$tmp/nowhere"
expect 2 "missing file" -- "$UTXO" segments verify-one "$tmp/nowhere.rcpt"
printf 'UTXR' > "$tmp/trunc.rcpt"
expect 1 "truncated receipt" -- "$UTXO" segments verify-one "$tmp/trunc.rcpt"
expect 2 "unknown subcommand" -- "$UTXO" segments frobnicate
# one writer at a time; a failed prove leaves no manifest; no cut paths
expect 0 "prove into a directory" -- "$UTXO" segments prove "$IMG" --arg-hex "$ARGS2" --po2 12 -o "$tmp/w"
expect 2 "a second prove while one writes (the lock held)" -- \
    flock "$tmp/w/.lock" "$UTXO" segments prove "$IMG" --arg-hex "$ARGS2" --po2 12 -o "$tmp/w"
grep -q "is locked" "$tmp/err" && ok || bad "names the lock: $(cat "$tmp/err")"
expect 2 "prove-group while a prove writes" -- \
    flock "$tmp/w/.lock" "$UTXO" segments prove-group "$tmp/w" --group 0/1
grep -q "is locked" "$tmp/err" && ok || bad "prove-group names the lock: $(cat "$tmp/err")"
expect 0 "a shared lock does not stop verify" -- flock -s "$tmp/w/.lock" "$UTXO" segments verify "$tmp/w"
rm "$tmp/w/seg-000002.rcpt" && mkdir "$tmp/w/seg-000002.rcpt"
expect 2 "a prove that cannot write its third receipt" -- \
    "$UTXO" segments prove "$IMG" --arg-hex "$ARGS2" --po2 12 -o "$tmp/w"
[ ! -e "$tmp/w/manifest" ] && ok || bad "the failed prove left a manifest beside a mix of receipts"
expect 2 "verify of what it left" -- "$UTXO" segments verify "$tmp/w"
long=$(python3 -c 'print("/".join(["d" * 200] * 21))')
expect 2 "a DIR too long for its file names" -- "$UTXO" segments prove "$IMG" -o "$tmp/$long"
grep -q "longer than" "$tmp/err" && ok || bad "says why: $(cat "$tmp/err")"
expect 2 "verify of such a DIR" -- "$UTXO" segments verify "$tmp/$long"
expect 0 "help" -- "$UTXO" segments --help
grep -q "example:" "$tmp/out" && ok || bad "help has no example"
expect 0 "help of prove" -- "$UTXO" segments prove --help

echo "segments_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
