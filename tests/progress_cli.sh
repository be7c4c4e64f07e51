#!/bin/sh
# progress_cli.sh — the one progress display of the long commands and the
# demo's clean-up on a signal (issue 12, items 12 and 13):
#   - gen, replay, prove, verify, wallet sync and segments prove write
#     nothing on stderr when it is not a terminal, unless --progress;
#   - with --progress they write lines with a rate (and, where the amount of
#     work is known, a percentage and an ETA) and a final "in T s" line;
#     --quiet wins over --progress;
#   - on a terminal (script(1)) the line is redrawn in place and the last
#     thing on the screen is the final line, not a stale progress line;
#   - `utxo demo` interrupted by SIGINT removes its temporary directory and
#     dies of the signal; with --keep, or with --dir, the files stay.
# Run by `make check`.
set -u
. "${top_srcdir:-.}/tests/lib.sh"

G="--blocks 30 --tx-per-block 10 --wallets 10 --long-every 6 --long-rounds 100 --po2 16"

# empty FILE WHAT: FILE has no bytes
empty() { [ ! -s "$1" ] && ok || { bad "$2: stderr not empty"; head -3 "$1" >&2; }; }
# lines FILE WHAT: FILE has progress lines with a rate and a final line
lines() {
    grep -q '/s' "$1" && ok || bad "$2: no rate in the progress lines"
    grep -q ' in [0-9][0-9]*\.[0-9] s, ' "$1" && ok || bad "$2: no final line"
    grep -q "$(printf '\r')" "$1" && bad "$2: carriage returns in --progress lines" || ok
}

# ---- not a terminal: silent by default --------------------------------------
expect 0 "gen, stderr a file" -- "$UTXO" gen $G -o "$tmp/c"
empty "$tmp/err" "gen"
expect 0 "replay, stderr a file" -- "$UTXO" replay "$tmp/c/blocks" --db "$tmp/c.db"
empty "$tmp/err" "replay"
expect 0 "prove, stderr a file" -- "$UTXO" prove --db "$tmp/c.db" -o "$tmp/c.proofs"
empty "$tmp/err" "prove"
expect 0 "verify, stderr a file" -- "$UTXO" verify --chain "$tmp/c/blocks" --proofs "$tmp/c/proofs" --quiet
empty "$tmp/err" "verify"

# ---- --progress: lines with rate, ETA and a final line ----------------------
expect 0 "gen --progress" -- "$UTXO" gen $G --seed 5 -o "$tmp/d" --progress
lines "$tmp/err" "gen --progress"
grep -q '^gen: [0-9]* blocks, .* blocks/s, [0-9]*%, ETA [0-9]*:[0-9][0-9]$' "$tmp/err" && ok ||
    bad "gen --progress: a line with percentage and ETA"
grep -q '^gen: 30 blocks in ' "$tmp/err" && ok || bad "gen --progress: the final line counts 30 blocks"
expect 0 "replay --progress" -- "$UTXO" replay "$tmp/d/blocks" --db "$tmp/d.db" --progress
lines "$tmp/err" "replay --progress"
expect 0 "prove --progress" -- "$UTXO" prove --db "$tmp/d.db" -o "$tmp/d.proofs" --progress
lines "$tmp/err" "prove --progress"
expect 0 "verify --progress" -- "$UTXO" verify --chain "$tmp/d/blocks" --proofs "$tmp/d.proofs" --quiet
empty "$tmp/err" "verify --quiet"
expect 0 "verify --progress" -- "$UTXO" verify --chain "$tmp/d/blocks" --proofs "$tmp/d.proofs" --progress
lines "$tmp/err" "verify --progress"
grep -q '^verify: 30 blocks in ' "$tmp/err" && ok || bad "verify --progress: final line counts 30 blocks"
expect 0 "--quiet wins over --progress" -- "$UTXO" gen $G --seed 6 -o "$tmp/e" --progress --quiet
empty "$tmp/err" "gen --quiet --progress"

# wallet sync: silent, then lines with --progress
UTXO_PASSPHRASE="progress test"
export UTXO_PASSPHRASE
expect 0 "wallet new" -- "$UTXO" wallet new "$tmp/w" --chain "$tmp/d/blocks"
expect 0 "wallet sync, stderr a file" -- "$UTXO" wallet sync "$tmp/w" --chain "$tmp/d/blocks" --proofs "$tmp/d.proofs"
empty "$tmp/err" "wallet sync"
expect 0 "wallet new 2" -- "$UTXO" wallet new "$tmp/w2" --chain "$tmp/d/blocks"
expect 0 "wallet sync --progress" -- "$UTXO" wallet sync "$tmp/w2" --chain "$tmp/d/blocks" --proofs "$tmp/d.proofs" --progress
lines "$tmp/err" "wallet sync --progress"

# ---- a terminal: redrawn in place, the final line last ----------------------
if command -v script >/dev/null 2>&1; then
    script -qec "\"$UTXO\" gen $G --seed 7 -o \"$tmp/t\"" /dev/null >"$tmp/tty" 2>&1
    [ -f "$tmp/t/blocks" ] && ok || bad "gen on a terminal made its chain"
    grep -q "$(printf '\r')gen: " "$tmp/tty" && ok || bad "terminal: the line is redrawn in place (\\r)"
    # what a terminal shows last: the text after the last \r of the
    # progress output, ahead of the summary on stdout
    last=$(tr '\r' '\n' <"$tmp/tty" | grep '^gen: ' | tail -n 1)
    case "$last" in
    "gen: 30 blocks in "*) ok ;;
    *) bad "terminal: the last progress text is the final line, not '$last'" ;;
    esac
else
    bad "script(1) from util-linux is needed for the terminal check"
fi

# ---- the demo removes its temporary directory on SIGINT ---------------------
# run_demo SIGNAL DIR ARGS...: starts the demo with TMPDIR=DIR, waits (at
# most 60 s) until it has made blocks, sends SIGNAL, leaves its exit status
# in $st
run_demo() {
    sig=$1; dir=$2; shift 2
    mkdir -p "$dir"
    # the previous run's stderr must be gone before waiting on this one's:
    # the background job truncates the file only once it has started
    rm -f "$tmp/demo.err"
    TMPDIR="$dir" "$UTXO" demo --blocks 20000 --progress "$@" >"$tmp/demo.out" 2>"$tmp/demo.err" &
    pid=$!
    n=0
    while ! grep -q 'blocks/s' "$tmp/demo.err" 2>/dev/null && [ $n -lt 600 ]; do
        sleep 0.1; n=$((n + 1))
    done
    kill -"$sig" "$pid"
    reap "$pid" 60 "demo after SIG$sig"
    st=$?
}
run_demo INT "$tmp/td1"
[ "$st" -eq 130 ] && ok || bad "demo on SIGINT dies of the signal (status $st, wanted 130)"
[ -z "$(ls -A "$tmp/td1")" ] && ok || { bad "demo on SIGINT left files"; ls -R "$tmp/td1" >&2; }
grep -q 'interrupted by signal 2; removing' "$tmp/demo.err" && ok || bad "demo says it was interrupted"
run_demo TERM "$tmp/td2" --keep
[ "$st" -eq 143 ] && ok || bad "demo --keep on SIGTERM dies of the signal (status $st, wanted 143)"
ls "$tmp/td2"/utxo-demo.*/chain/blocks >/dev/null 2>&1 && ok || bad "demo --keep keeps its files"
grep -q 'interrupted by signal 15; keeping' "$tmp/demo.err" && ok || bad "demo --keep says it keeps them"

# ---- the README's first command works as root, without sudo -----------------
grep -qi 'as root, or prefix apt-get with sudo' "${top_srcdir:-.}/README.md" && ok ||
    bad "README: the first command is for root, sudo optional"
first=$(grep -m1 'apt-get install' "${top_srcdir:-.}/README.md")
case "$first" in
*sudo*) bad "README: the first command needs sudo: $first" ;;
*) ok ;;
esac

echo "progress_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
