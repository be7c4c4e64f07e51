#!/bin/sh
# follow_cli.sh — `utxo follow`, the light client, against `utxo node` on
# 127.0.0.1: following to the tip gives the state file `utxo verify --state`
# writes, byte for byte; a second run fetches nothing; --max-blocks then a
# resume; and against a hostile node (a local Python server relaying the
# real one): a tampered block, an oversized record, a 200 MiB bundle of
# zeros (refused by its first bytes), a cut stream, another chain, more
# blocks than asked, a stalled stream stopped by SIGTERM (exit 143, the
# state saved and resumable), a 503 on /blocks (exit 2, not invalid data),
# a message with a line break and an escape (shown as '?'), a trickled
# /status or /blocks (given up after --timeout), /events answered at once,
# also with a /status moving below the tip (polled, no
# spinning); an unreachable node; usage errors. Every server listens on
# 127.0.0.1 on a free port and lives at most 60 s. Run by `make check`.
set -u
. "${top_srcdir:-.}/tests/lib.sh"
command -v python3 >/dev/null 2>&1 || { echo "follow_cli: python3 is not installed" >&2; exit 1; }

expect 0 "gen" -- "$UTXO" gen --blocks 40 --tx-per-block 5 --quiet -o "$tmp/c"
expect 0 "gen another chain" -- "$UTXO" gen --blocks 5 --tx-per-block 2 --seed 77 --quiet -o "$tmp/o"
# the same sequencer key and genesis, other blocks from height 1 on: what a
# sequencer signing two chains looks like
expect 0 "gen a fork" -- "$UTXO" gen --blocks 45 --tx-per-block 6 --quiet -o "$tmp/e"
expect 0 "verify --state (the reference)" -- "$UTXO" verify --chain "$tmp/c/blocks" --proofs "$tmp/c/proofs" \
    --state "$tmp/ref.state" --quiet

pids=
cleanup() { end_jobs $pids; _e=$?; rm -rf "$tmp"; [ "$_e" -eq 0 ] || exit 1; }
trap cleanup EXIT

# start_node DIR VAR: a node on DIR; VAR gets its base URL
start_node() {
    "$UTXO" node --datadir "$1" --listen 127.0.0.1:0 -q >"$1.out" 2>"$1.err" &
    pids="$pids $!"
    n=0
    while ! grep -q "^listening on " "$1.out" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
    eval "$2=\$(sed -n 's/^listening on //p' \"\$1.out\")"
}
start_node "$tmp/c" node
[ -n "$node" ] && ok || { bad "the node started: $(cat "$tmp/c.err")"; exit 1; }
start_node "$tmp/o" other

# --- following ---------------------------------------------------------------
expect 0 "follow --once" -- "$UTXO" follow "$node" --state "$tmp/f.state" --once --batch 7 --quiet
grep -q "^followed height=39 hash=.* blocks=40$" "$tmp/out" && ok || bad "follow: $(cat "$tmp/out")"
cmp -s "$tmp/f.state" "$tmp/ref.state" && ok || bad "the followed state is verify's, byte for byte"
expect 0 "follow again" -- "$UTXO" follow "$node/" --state "$tmp/f.state" --once --quiet
grep -q "blocks=0$" "$tmp/out" && ok || bad "a second run fetches nothing: $(cat "$tmp/out")"
expect 0 "--max-blocks 10" -- "$UTXO" follow "$node" --state "$tmp/g.state" --max-blocks 10 --quiet
grep -q "^followed height=9 " "$tmp/out" && ok || bad "--max-blocks: $(cat "$tmp/out")"
expect 0 "resume" -- "$UTXO" follow "$node" --state "$tmp/g.state" --once --batch 500 --quiet
grep -q "^followed height=39 .* blocks=30$" "$tmp/out" && ok || bad "resume: $(cat "$tmp/out")"
cmp -s "$tmp/g.state" "$tmp/ref.state" && ok || bad "the resumed state is verify's"
expect 0 "progress lines" -- "$UTXO" follow "$node" --state "$tmp/h.state" --once --batch 20
grep -q "^follow: height 39 of 39$" "$tmp/err" && ok || bad "progress: $(cat "$tmp/err")"

# --- a hostile node: a relay that alters what the real node says -------------------
# relay MODE VAR: a relay of the node in MODE; VAR gets its URL
relay() {
    python3 "${top_srcdir:-.}/tests/relay.py" "$node" "$1" >"$tmp/relay-$1.out" 2>"$tmp/relay-$1.err" &
    pids="$pids $!"
    n=0
    while ! grep -q "^http://" "$tmp/relay-$1.out" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
    eval "$2=\$(cat \"\$tmp/relay-\$1.out\")"
}
relay tamper r1
expect 1 "a tampered block" -- "$UTXO" follow "$r1" --state "$tmp/t.state" --once --batch 10 --quiet
grep -q "the node served .* at height 5" "$tmp/err" && ok || bad "tampered block named: $(cat "$tmp/err")"
grep -q "^stopped height=4 " "$tmp/out" && ok || bad "the state is kept at block 4: $(cat "$tmp/out")"
expect 0 "the honest node takes over" -- "$UTXO" follow "$node" --state "$tmp/t.state" --once --quiet
cmp -s "$tmp/t.state" "$tmp/ref.state" && ok || bad "after a tampered block, the honest chain"
relay huge r2
expect 1 "an oversized record" -- "$UTXO" follow "$r2" --state "$tmp/u.state" --once --quiet
grep -q "block record of 2147483647 bytes at height 5" "$tmp/err" && ok || bad "oversized: $(cat "$tmp/err")"
relay hugebundle r5
expect 1 "a 200 MiB bundle of zeros" -- "$UTXO" follow "$r5" --state "$tmp/z.state" --once --quiet
grep -q "proof bundle at height 5 that does not decode (within its first [0-9]* bytes): unknown version" "$tmp/err" &&
    ok || bad "a bad bundle refused by its first bytes: $(cat "$tmp/err")"
n=0
while ! grep -q "hugebundle sent" "$tmp/relay-hugebundle.err" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
mib=$(sed -n 's/^hugebundle sent \([0-9]*\) MiB$/\1/p' "$tmp/relay-hugebundle.err")
# the follower stops reading at its first 64 KiB (what went out beyond is
# in socket buffers); it read all 200 MiB into memory before
[ -n "$mib" ] && [ "$mib" -lt 100 ] && ok || bad "the follower read ${mib:-?} MiB of a bad bundle"
relay cut r3
expect 2 "a cut stream" -- "$UTXO" follow "$r3" --state "$tmp/v.state" --once --quiet
grep -q "the stream ended after" "$tmp/err" && ok || bad "cut stream: $(cat "$tmp/err")"
grep -q "^stopped height=4 " "$tmp/out" && ok || bad "cut: the state at 4: $(cat "$tmp/out")"
# a stream of more blocks than asked for: no block past --max-blocks is
# taken, exit 1 (not what the API allows), the state at the last one asked
relay extra r8
expect 1 "a stream of more blocks than asked" -- "$UTXO" follow "$r8" --state "$tmp/x8.state" --once \
    --max-blocks 10 --batch 10 --quiet
grep -q "the node sent more than the 10 blocks asked for (from height 0)" "$tmp/err" && ok ||
    bad "more blocks than asked: $(cat "$tmp/err")"
grep -q "^stopped height=9 .* blocks=10$" "$tmp/out" && ok || bad "extra: the state at 9: $(cat "$tmp/out")"
relay stall r4
"$UTXO" follow "$r4" --state "$tmp/w.state" --once --batch 10 --quiet >"$tmp/out" 2>"$tmp/err" &
fp=$!
n=0        # until the relay has sent blocks 0..4 and stalls (at most 30 s)
while ! grep -q stalling "$tmp/relay-stall.err" 2>/dev/null && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
sleep 1
t0=$(date +%s)
kill -TERM "$fp"; reap "$fp"; st=$?
[ $(( $(date +%s) - t0 )) -le 5 ] && ok || bad "SIGTERM stops a stalled transfer within seconds"
[ "$st" -eq 143 ] && ok || bad "SIGTERM during a stalled stream: exit $st, wanted 143: $(cat "$tmp/err")"
grep -q "^stopped height=[0-4] \|^followed height=[0-4] " "$tmp/out" && ok ||
    bad "SIGTERM: the state saved (at most block 4): $(cat "$tmp/out")"
expect 0 "resume after SIGTERM" -- "$UTXO" follow "$node" --state "$tmp/w.state" --once --quiet
cmp -s "$tmp/w.state" "$tmp/ref.state" && ok || bad "resumed after SIGTERM"
# an error answer to /blocks (a busy proxy's 503) is the node answering with
# an error: exit 2 with its message, nothing read as a block; the next run
# goes on
relay error r5
expect 2 "a 503 on /blocks" -- "$UTXO" follow "$r5" --state "$tmp/e503.state" --once --quiet
grep -q "HTTP 503: busy, try later" "$tmp/err" && ok || bad "503 named: $(cat "$tmp/err")"
grep -q "block record" "$tmp/err" && bad "a 503 read as a block record: $(cat "$tmp/err")" || ok
expect 0 "after the 503, the same relay" -- "$UTXO" follow "$r5" --state "$tmp/e503.state" --once --quiet
cmp -s "$tmp/e503.state" "$tmp/ref.state" && ok || bad "after a 503, the chain"
# what a node says is shown as printable ASCII: no forged line, no escape
relay inject r11
expect 2 "a 503 with a line break and an escape" -- "$UTXO" follow "$r11" --state "$tmp/inj.state" --once --quiet
grep -q 'HTTP 503: busy?2026-12-06T00:00:00Z info forged?\[31m$' "$tmp/err" && ok || bad "the message shown: $(cat "$tmp/err")"
[ "$(wc -l <"$tmp/err")" -eq 1 ] && ! grep -q "$(printf '\033')" "$tmp/err" && ok ||
    bad "one line, no escape: $(od -c "$tmp/err" | head)"
# a node that trickles its /status a byte at a time: given up after
# --timeout S (2 s here), exit 2 naming the timeout, not hours later
relay trickle r7
t0=$(date +%s)
expect 2 "a trickling node" -- "$UTXO" follow "$r7" --state "$tmp/tr.state" --once --timeout 2 --quiet
[ $(( $(date +%s) - t0 )) -le 8 ] && ok || bad "the trickle given up within seconds"
grep -q "/status: Timeout was reached" "$tmp/err" && ok || bad "the timeout named: $(cat "$tmp/err")"
# and one that trickles its /blocks stream (5 bytes a second: never a stall
# of 60 s): given up when one block takes more than --timeout S
relay slowblocks r10
t0=$(date +%s)
expect 2 "a trickled /blocks stream" -- "$UTXO" follow "$r10" --state "$tmp/sb.state" --once --timeout 2 --quiet
[ $(( $(date +%s) - t0 )) -le 8 ] && ok || bad "the trickled stream given up within seconds"
grep -q "the node took more than 2 s to send the block at height 0 with its bundle" "$tmp/err" && ok ||
    bad "the trickled stream named: $(cat "$tmp/err")"
# an honest node on a slow link: a block of 400 transactions with its
# bundle (about 150 KB) sent at 64 KiB a second takes more than 2 s, over
# --timeout 1, but each 64 KiB of it buys a second more (it was given up,
# and every retry began it again)
expect 0 "gen a chain of big blocks" -- "$UTXO" gen --blocks 4 --tx-per-block 400 --long-every 0 \
    --quiet -o "$tmp/lr"
start_node "$tmp/lr" lrnode
python3 "${top_srcdir:-.}/tests/relay.py" "$lrnode" paced >"$tmp/relay-paced.out" 2>"$tmp/relay-paced.err" &
pids="$pids $!"
n=0
while ! grep -q "^http://" "$tmp/relay-paced.out" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
expect 0 "a big block on a slow link" -- "$UTXO" follow "$(cat "$tmp/relay-paced.out")" \
    --state "$tmp/lr.state" --once --max-blocks 2 --timeout 1 --quiet
grep -q "^followed height=1 " "$tmp/out" && ok || bad "the slow big block taken: $(cat "$tmp/out" "$tmp/err")"
# SIGTERM while /status trickles in: stopped (143), not a failed request
"$UTXO" follow "$r7" --state "$tmp/tr2.state" --once >"$tmp/out" 2>"$tmp/err" &
fp=$!
sleep 2
kill -TERM "$fp"; reap "$fp"; st=$?
[ "$st" -eq 143 ] && ok || bad "SIGTERM during /status: exit $st, wanted 143: $(cat "$tmp/err")"
[ -s "$tmp/err" ] && bad "SIGTERM during /status: no error: $(cat "$tmp/err")" || ok
expect 2 "--timeout 0" -- "$UTXO" follow "$node" --state "$tmp/tr.state" --once --timeout 0
# /events answered at once with no new block (a caching proxy): follow
# polls every --poll S instead of asking again at once (4 s: at most 5)
relay instant r6
"$UTXO" follow "$r6" --state "$tmp/y.state" --poll 1 --quiet >"$tmp/out" 2>"$tmp/err" &
fp=$!
n=0        # until it has reached the tip and asked /events (at most 30 s)
while ! grep -q "^events 1" "$tmp/relay-instant.err" 2>/dev/null && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
sleep 4
kill -TERM "$fp"; reap "$fp"; st=$?
[ "$st" -eq 143 ] && ok || bad "instant /events: exit $st, wanted 143: $(cat "$tmp/err")"
k=$(grep -c "^events" "$tmp/relay-instant.err")
[ "$k" -ge 1 ] && [ "$k" -le 6 ] && ok || bad "instant /events: asked $k times in about 4 s (--poll 1)"
cmp -s "$tmp/y.state" "$tmp/ref.state" && ok || bad "instant /events: the chain followed"
# the same from a node whose /status says a different height below our tip
# each time: still no spinning
relay instantlow r9
cp "$tmp/f.state" "$tmp/y9.state"
"$UTXO" follow "$r9" --state "$tmp/y9.state" --poll 1 --quiet >"$tmp/out" 2>"$tmp/err" &
fp=$!
n=0
while ! grep -q "^events 1" "$tmp/relay-instantlow.err" 2>/dev/null && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
sleep 4
kill -TERM "$fp"; reap "$fp"; st=$?
[ "$st" -eq 143 ] && ok || bad "instant /events, moving /status: exit $st, wanted 143: $(cat "$tmp/err")"
k=$(grep -c "^events" "$tmp/relay-instantlow.err")
[ "$k" -ge 1 ] && [ "$k" -le 6 ] && ok || bad "instant /events, moving /status: asked $k times in about 4 s (--poll 1)"
cmp -s "$tmp/y9.state" "$tmp/f.state" && ok || bad "instant /events, moving /status: the state kept"

# --- equivocation: the sequencer signed another block 39 ------------------------------
start_node "$tmp/e" fork
cp "$tmp/f.state" "$tmp/q.state"
cp "$tmp/f.state.tip" "$tmp/q.state.tip" && ok || bad "follow keeps the tip's header beside the state"
expect 1 "a node serving a fork of the same sequencer" -- "$UTXO" follow "$fork" --state "$tmp/q.state" --once --quiet
grep -q "equivocation: the sequencer signed two blocks at height 39: .* (validated here) and .* (served by $fork now)" "$tmp/err" &&
    ok || bad "equivocation named: $(cat "$tmp/err")"
cmp -s "$tmp/q.state" "$tmp/f.state" && ok || bad "the state is kept at the validated block 39"
python3 - "$tmp/q.state.evidence" "$node" "$fork" <<'PY' && ok || bad "the evidence: $(cat "$tmp/q.state.evidence")"
import sys, urllib.request
lines = open(sys.argv[1]).read().split("\n")
assert lines[0] == "utxo-equivocation 1" and lines[1] == "height 39"
ours = urllib.request.urlopen(sys.argv[2] + "/block/39/raw").read()[:176].hex()
theirs = urllib.request.urlopen(sys.argv[3] + "/block/39/raw").read()[:176].hex()
assert ours != theirs and lines[2] == "header " + ours and lines[3] == "header " + theirs
PY
# a block that does not build on the tip without a second signed block is
# an invalid block, not an equivocation
rm -f "$tmp/q.state.tip"
expect 1 "no header kept: no evidence" -- "$UTXO" follow "$fork" --state "$tmp/q.state" --once --quiet
grep -q "the node served an invalid block at height 40: .*previous hash" "$tmp/err" && ok || bad "prev refusal: $(cat "$tmp/err")"

# --- another chain, no node, usage ---------------------------------------------------
expect 1 "a state of another chain" -- "$UTXO" follow "$other" --state "$tmp/f.state" --once --quiet
grep -q "another chain" "$tmp/err" && ok || bad "another chain: $(cat "$tmp/err")"
cid=$(python3 -c 'print("ab"*32)')
expect 1 "--chain-id not the node's" -- "$UTXO" follow "$node" --state "$tmp/x.state" --once --chain-id "$cid"
[ ! -e "$tmp/x.state" ] && ok || bad "no state written for a refused chain"
expect 2 "an unreachable node" -- "$UTXO" follow http://127.0.0.1:1 --state "$tmp/y.state" --once
# a node killed while the follower waits on /events: exit 2 at once, not
# after the --poll interval (it slept 60 s before asking /status again)
cp -r "$tmp/o" "$tmp/o2"
start_node "$tmp/o2" doomed
[ -n "$doomed" ] && ok || bad "the node to kill started: $(cat "$tmp/o2.err")"
"$UTXO" follow "$doomed" --state "$tmp/d.state" --poll 60 --quiet >"$tmp/out" 2>"$tmp/err" &
fp=$!
n=0        # until the follower has the tip (block 4) and waits (at most 30 s)
while [ ! -s "$tmp/d.state" ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
sleep 1
kill -9 "${pids##* }"
reap "$fp" 20; st=$?     # 137: still there after 20 s
[ "$st" -eq 2 ] && ok || bad "a node killed during the wait: exit $st (wanted 2 at once): $(cat "$tmp/err")"
# the same when an earlier wait got no answer and a block came since (a
# proxy that cut the first long poll): the wait after the block is a first
# one again (it was taken as a second unanswered one in a row: 60 s slept)
relay lostevents rl
"$UTXO" follow "$rl" --state "$tmp/l.state" --poll 60 >"$tmp/out" 2>"$tmp/err" &
fp=$!
n=0        # until the follower has block 39 and waits again (at most 30 s)
while ! grep -q "^events 2" "$tmp/relay-lostevents.err" 2>/dev/null && [ $n -lt 300 ]; do
    sleep 0.1; n=$((n + 1))
done
sleep 0.5
kill -9 "${pids##* }"
reap "$fp" 20; st=$?     # 137: still there after 20 s
[ "$st" -eq 2 ] && ok || bad "a node killed during the wait after a lost one: exit $st: $(cat "$tmp/err")"
grep -q "^follow: height 39 of 39$" "$tmp/err" && ok || bad "the block after the lost wait: $(cat "$tmp/err")"
# a node that drops every /events unanswered: no spinning, /status at once
# after one, the poll after the next (about 2 per --poll 1 interval)
relay dropevents rd
"$UTXO" follow "$rd" --state "$tmp/f.state" --poll 1 >"$tmp/out" 2>"$tmp/err" &
fp=$!
n=0
while ! grep -q "^events 1" "$tmp/relay-dropevents.err" 2>/dev/null && [ $n -lt 300 ]; do
    sleep 0.1; n=$((n + 1))
done
sleep 4
kill -TERM "$fp"; reap "$fp"; st=$?
[ "$st" -eq 143 ] && ok || bad "dropped /events: exit $st, wanted 143: $(cat "$tmp/err")"
k=$(grep -c "^events" "$tmp/relay-dropevents.err")
[ "$k" -ge 2 ] && [ "$k" -le 24 ] && ok || bad "dropped /events: asked $k times in about 4 s (--poll 1; a spin asks hundreds)"
expect 2 "no --state" -- "$UTXO" follow "$node" --once
expect 2 "not a URL" -- "$UTXO" follow 127.0.0.1:8750 --state "$tmp/z.state"
expect 2 "--batch 0" -- "$UTXO" follow "$node" --state "$tmp/z.state" --batch 0
echo junk >"$tmp/junk.state"
expect 2 "a damaged state file" -- "$UTXO" follow "$node" --state "$tmp/junk.state" --once
expect 0 "--help" -- "$UTXO" follow --help

echo "follow_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
