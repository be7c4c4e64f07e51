#!/bin/sh
# statefile_cli.sh — `utxo verify --state` (docs/STATELESS.md, "Validator
# state file"): the file is magic, version, length, state and a BLAKE2b
# checksum; a flipped byte in each field, every kind of truncation, a
# trailing byte and the old unchecksummed format are refused with exit 2
# and what is wrong, and the file is left as it was. A run interrupted by
# SIGINT or SIGTERM saves its state and exits 130 / 143; resuming it ends
# with the same tip and roots as an uninterrupted run. A run killed with
# SIGKILL leaves the last periodic save (--save-every), which resumes too.
# Run by `make check`.
set -u
MKCHAIN="${top_builddir:-.}/tests/mkchain"
. "${top_srcdir:-.}/tests/lib.sh"

"$MKCHAIN" "$tmp/c.blocks" "$tmp/c.proofs" 12 6 1 || { echo "mkchain failed" >&2; exit 1; }
V() { "$UTXO" verify --chain "$tmp/c.blocks" --proofs "$tmp/c.proofs" --quiet "$@"; }

V >"$tmp/full.out" 2>/dev/null || bad "uninterrupted run"
grep "^tip \|^accumulator \|^root " "$tmp/full.out" >"$tmp/full.tail"

V --state "$tmp/s5" --max-blocks 5 >"$tmp/out" 2>/dev/null || bad "state after 5 blocks"
size=$(wc -c <"$tmp/s5")
L=$((size - 44))
grep -q "^state_bytes=$L$" "$tmp/out" || bad "file = state + 44 bytes"
[ "$(head -c 4 "$tmp/s5")" = "uxvf" ] || bad "magic uxvf"

# refused ONE DESCRIPTION PATTERN: verify with $tmp/s (exit 2, PATTERN on
# stderr, the file unchanged)
refused() {
    cp "$tmp/s" "$tmp/s.before"
    expect 2 "$1" -- V --state "$tmp/s"
    grep -q "bad validator state: .*$2" "$tmp/err" || bad "$1: message: $(cat "$tmp/err")"
    cmp -s "$tmp/s" "$tmp/s.before" || bad "$1: the damaged file was overwritten"
}

# one flipped byte in each field
for f in "0 magic:not a validator state file" "4 version:unknown state file version" \
    "8 length:\\(truncated: .* bytes, the header announces\\|bytes after the checksum\\)" \
    "$((12 + 0)) state magic:checksum .* does not match" \
    "$((12 + 5)) chain id:checksum .* does not match" \
    "$((12 + 37)) height:checksum .* does not match" \
    "$((12 + 41)) tip hash:checksum .* does not match" \
    "$((12 + 73)) tip time:checksum .* does not match" \
    "$((12 + 81)) leaf count:checksum .* does not match" \
    "$((12 + L - 1)) last root:checksum .* does not match" \
    "$((12 + L)) checksum:checksum .* does not match" \
    "$((size - 1)) checksum end:checksum .* does not match"; do
    off=${f%% *}
    rest=${f#* }
    cp "$tmp/s5" "$tmp/s"
    flip "$tmp/s" "$off"
    refused "flipped byte $off (${rest%%:*})" "${rest#*:}"
done
# a length byte flipped upwards: over the largest state
cp "$tmp/s5" "$tmp/s"
printf '\377' | dd of="$tmp/s" bs=1 seek=9 conv=notrunc 2>/dev/null
refused "length over the largest state" "outside 81..2137"

# truncations: inside each field, and one byte short
for n in 0 2 4 6 8 10 12 40 $((12 + L)) $((size - 1)); do
    head -c "$n" "$tmp/s5" >"$tmp/s"
    refused "truncated to $n bytes" "truncated"
done
# a byte too many
cp "$tmp/s5" "$tmp/s"
printf 'x' >>"$tmp/s"
refused "a trailing byte" "after the checksum"
# the state without its file header and checksum: the format before checksums
dd if="$tmp/s5" of="$tmp/s" bs=1 skip=12 count="$L" 2>/dev/null
refused "an old unchecksummed state" "before state files had a checksum"
# not a state at all, and too large to be one
head -c 5000 /dev/zero >"$tmp/s"
refused "a 5000-byte file" "more than a state file can hold"

# the intact file resumes to the same end
cp "$tmp/s5" "$tmp/s"
expect 0 "resume the intact state" -- V --state "$tmp/s"
grep -q "^validated=7 passed=5$" "$tmp/out" || bad "resume counts: $(cat "$tmp/out")"
grep "^tip \|^accumulator \|^root " "$tmp/out" >"$tmp/resumed.tail"
cmp -s "$tmp/full.tail" "$tmp/resumed.tail" || bad "resumed run ends with other roots"

# a state that cannot be written: exit 2 with the system's reason
expect 2 "state in a missing directory" -- V --state "$tmp/nodir/x.state"
grep -q "cannot save the state: No such file or directory" "$tmp/err" || bad "unwritable state: $(cat "$tmp/err")"
mkdir "$tmp/dir.state"
expect 2 "state path is a directory" -- V --state "$tmp/dir.state"
grep -q "bad validator state: Is a directory" "$tmp/err" || bad "directory as state: $(cat "$tmp/err")"

# ---- interrupted runs ------------------------------------------------------------
"$MKCHAIN" "$tmp/b.blocks" "$tmp/b.proofs" 240 40 3 || { echo "mkchain failed" >&2; exit 1; }
B() { "$UTXO" verify --chain "$tmp/b.blocks" --proofs "$tmp/b.proofs" --quiet --threads 1 "$@"; }
B >"$tmp/bfull.out" 2>/dev/null || bad "uninterrupted long run"
grep "^tip \|^accumulator \|^root " "$tmp/bfull.out" >"$tmp/bfull.tail"

# catches_int PID: PID has its SIGINT handler in place (SigCgt in
# /proc/PID/status), or that cannot be told (no /proc, PID gone)
catches_int() {
    c=$(sed -n 's/^SigCgt:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null)
    [ -z "$c" ] || [ $((0x$c & 2)) -ne 0 ]
}
# interrupt SIG CODE: verify in the background, the signal after a moment,
# the exit code CODE, a saved state below the end, and a resume to the same roots
interrupt() {
    rm -f "$tmp/i.state"
    # the command itself in the background (not a function: its subshell
    # would get the signal)
    "$UTXO" verify --chain "$tmp/b.blocks" --proofs "$tmp/b.proofs" --quiet --threads 1 \
        --state "$tmp/i.state" --save-every 100000 >"$tmp/i.out" 2>"$tmp/i.err" &
    pid=$!
    # until verify catches SIGINT (at most 30 s): sh starts a background
    # job with SIGINT ignored, and so it stays until verify's handler is in
    # place; a signal sent after a fixed pause that a slow start outlasted
    # (a loaded machine, ASan) was lost, and the run ended 0 (SIGTERM
    # killed it unsaved)
    n=0
    while ! catches_int "$pid" && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
    sleep 0.4
    kill -"$1" "$pid" 2>/dev/null
    reap "$pid" 60 "verify --state after SIG$1"
    st=$?
    if [ "$st" -ne "$2" ]; then
        bad "SIG$1: exit $st, wanted $2 (the run must last longer than 0.4 s)"
        cat "$tmp/i.err" >&2
        return
    fi
    grep -q "interrupted after [0-9]* blocks; the state is saved" "$tmp/i.err" || bad "SIG$1: said: $(cat "$tmp/i.err")"
    next=$(sed -n 's/^tip height=\([0-9]*\) .*/\1/p' "$tmp/i.out")
    [ -n "$next" ] && [ "$next" -lt 239 ] || bad "SIG$1: stopped before the end (tip '$next')"
    expect 0 "SIG$1: resume" -- B --state "$tmp/i.state"
    grep -q "^validated=$((239 - next)) passed=$((next + 1))$" "$tmp/out" || bad "SIG$1: resume counts: $(grep validated "$tmp/out")"
    grep "^tip \|^accumulator \|^root " "$tmp/out" >"$tmp/i.tail"
    cmp -s "$tmp/bfull.tail" "$tmp/i.tail" || bad "SIG$1: resumed run ends with other roots"
}
interrupt INT 130
interrupt TERM 143
ls "$tmp" | grep -q '\.tmp\.' && bad "a temporary state file was left behind: $(ls "$tmp")"

# SIGKILL: no save on the way out, the last periodic one (every 7 blocks) remains
rm -f "$tmp/k.state"
"$UTXO" verify --chain "$tmp/b.blocks" --proofs "$tmp/b.proofs" --quiet --threads 1 \
    --state "$tmp/k.state" --save-every 7 >/dev/null 2>&1 &
pid=$!
# kill it once a periodic save is there (however loaded the machine is:
# at most 30 s), or as it runs when none is yet
n=0
while [ ! -f "$tmp/k.state" ] && [ $n -lt 300 ] && kill -0 "$pid" 2>/dev/null; do
    sleep 0.1; n=$((n + 1))
done
kill -KILL "$pid" 2>/dev/null
wait "$pid"
if [ -f "$tmp/k.state" ]; then
    expect 0 "after SIGKILL: resume from the periodic save" -- B --state "$tmp/k.state"
    passed=$(sed -n 's/^validated=[0-9]* passed=\([0-9]*\)$/\1/p' "$tmp/out")
    [ $((passed % 7)) -eq 0 ] || [ "$passed" -eq 240 ] || bad "periodic save at a multiple of 7: passed=$passed"
    grep "^tip \|^accumulator \|^root " "$tmp/out" >"$tmp/k.tail"
    cmp -s "$tmp/bfull.tail" "$tmp/k.tail" || bad "after SIGKILL: resumed run ends with other roots"
else
    bad "after SIGKILL: no periodic save was written in 30 s"
fi

echo "statefile_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
