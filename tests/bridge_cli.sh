#!/bin/sh
# bridge_cli.sh — `utxo node --upstream URL`, the bridge role, and GET
# /events, on 127.0.0.1: a bridge on an empty directory takes the chain's
# parameters from its upstream, validates every block fully into its own
# store and then serves the same blocks, bundles and status; it rides out
# its upstream going away and follows it when it comes back longer, waking
# an /events long-poll; it resumes after a restart, also one its upstream
# misses (checking the chain when the upstream answers), and refuses a second
# bridge on its directory and an upstream of another chain; a hostile
# upstream (tests/relay.py) serving a tampered block or proof bundle stops
# it at the block before, which it keeps serving, naming the block in its
# log and /status; one answering /blocks with a 503 is retried (one failing
# every time is logged once, its message printable ASCII); a slow one
# holds up only the POST /tx sent through it, one answering it with 1 MiB,
# a 302 or a 200 naming another transaction gets a 502. Every server listens on 127.0.0.1, on a free port, and
# lives at most 60 s. Run by `make check`.
set -u
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/nodelib.sh"

expect 0 "gen 30" -- "$UTXO" gen --blocks 30 --tx-per-block 5 --quiet -o "$tmp/a30"
expect 0 "gen 40 (the same 30 first)" -- "$UTXO" gen --blocks 40 --tx-per-block 5 --quiet -o "$tmp/a40"
expect 0 "gen another chain" -- "$UTXO" gen --blocks 5 --tx-per-block 2 --seed 77 --quiet -o "$tmp/o"

aport=$(free_port)
serve a "$tmp/a30" "$aport"
[ -n "$a_url" ] && ok || { bad "the upstream started: $(cat "$tmp/a.log")"; exit 1; }

# --- a bridge on an empty directory ------------------------------------------------
serve b "$tmp/b" 0 --upstream "$a_url" --poll 1
[ -n "$b_url" ] && ok || { bad "the bridge started: $(cat "$tmp/b.log")"; exit 1; }
wait_height "$b_url" 29 && ok || bad "the bridge reached height 29: $(curl -s "$b_url/status") $(cat "$tmp/b.log")"
curl -s "$b_url/status" >"$tmp/bs"
[ "$(field role <"$tmp/bs")" = bridge ] && ok || bad "role bridge: $(cat "$tmp/bs")"
[ "$(field following <"$tmp/bs")" = True ] && ok || bad "following: $(cat "$tmp/bs")"
curl -s "$a_url/status" >"$tmp/as"
for k in tip roots_digest leaves utxos total_value txs chain_id; do
    [ "$(field $k <"$tmp/as")" = "$(field $k <"$tmp/bs")" ] && ok || bad "/status $k: the upstream's"
done
curl -s "$a_url/params" >"$tmp/ap"
cmp -s "$tmp/ap" "$tmp/b/params" && ok || bad "the bridge keeps the upstream's parameters in DIR/params"
for h in 0 5 17 29; do
    for form in raw proof; do
        curl -s "$a_url/block/$h/$form" >"$tmp/x1"
        curl -s "$b_url/block/$h/$form" >"$tmp/x2"
        [ -s "$tmp/x1" ] && cmp -s "$tmp/x1" "$tmp/x2" && ok || bad "/block/$h/$form is the upstream's"
    done
done
curl -s "$a_url/roots/20" >"$tmp/x1"; curl -s "$b_url/roots/20" >"$tmp/x2"
cmp -s "$tmp/x1" "$tmp/x2" && ok || bad "/roots/20 is the upstream's"
# a light client following the bridge ends where it ends following the upstream
expect 0 "follow the bridge" -- "$UTXO" follow "$b_url" --state "$tmp/fb.state" --once --quiet
expect 0 "follow the upstream" -- "$UTXO" follow "$a_url" --state "$tmp/fa.state" --once --quiet
cmp -s "$tmp/fa.state" "$tmp/fb.state" && ok || bad "follow via the bridge = follow the upstream"

# --- /events ------------------------------------------------------------------------
t0=$(date +%s)
curl -s "$b_url/events?after=29&wait=1" >"$tmp/ev"
[ "$(field height <"$tmp/ev")" = 29 ] && ok || bad "/events after the tip answers the status at the deadline: $(cat "$tmp/ev")"
[ $(( $(date +%s) - t0 )) -le 10 ] && ok || bad "/events wait=1 answered within seconds"
curl -s "$b_url/events?after=3" >"$tmp/ev"
[ "$(field height <"$tmp/ev")" = 29 ] && ok || bad "/events below the tip answers at once: $(cat "$tmp/ev")"
for q in "after=x" "after=-1" "after=01" "wait=61" "wait=x"; do
    code=$(curl -s -o "$tmp/ev" -w '%{http_code}' "$b_url/events?$q")
    [ "$code" = 400 ] && grep -q '"code"' "$tmp/ev" && ok || bad "/events?$q: $code $(cat "$tmp/ev")"
done

# --- the upstream goes away and comes back longer; a long-poll wakes -----------------
rm -f "$tmp/ev" "$tmp/fl.err"
curl -s "$b_url/events?after=29&wait=30" >"$tmp/ev" &
evp=$!
pids="$pids $evp"
# a light client at the tip waits on /events (its poll is an hour)
"$UTXO" follow "$b_url" --state "$tmp/fb.state" --poll 3600 >"$tmp/fl.out" 2>"$tmp/fl.err" &
flp=$!
pids="$pids $flp"
stop a
n=0 # the bridge asks every second: it notices within seconds (at most 20 s)
while ! grep -q "upstream unreachable" "$tmp/b.log" && [ $n -lt 200 ]; do sleep 0.1; n=$((n + 1)); done
grep -q "upstream unreachable" "$tmp/b.log" && ok || bad "the bridge logs its upstream gone: $(cat "$tmp/b.log")"
[ "$(curl -s "$b_url/status" | field height)" = 29 ] && ok || bad "the bridge serves on without its upstream"
serve a "$tmp/a40" "$aport"
[ -n "$a_url" ] && ok || bad "the upstream restarted on port $aport: $(cat "$tmp/a.log")"
wait_height "$b_url" 39 && ok || bad "the bridge followed to 39: $(curl -s "$b_url/status") $(cat "$tmp/b.log")"
# (the bridge answers it within its wait=30 at the latest)
reap "$evp" 120 "curl waiting on /events?after=29&wait=30 (the long-poll)"
h=$(field height <"$tmp/ev" 2>/dev/null)
[ -n "$h" ] && [ "$h" != null ] && [ "$h" -ge 30 ] && ok || bad "the long-poll woke on a new tip: $(cat "$tmp/ev")"
grep -q "upstream .* back" "$tmp/b.log" && ok || bad "the bridge logs its upstream back"
n=0
while ! grep -q "^follow: height 39 of 39" "$tmp/fl.err" 2>/dev/null && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
grep -q "^follow: height 39 of 39" "$tmp/fl.err" && ok || bad "the light client woke on /events: $(cat "$tmp/fl.err")"
kill -TERM "$flp"; reap "$flp"; st=$?
[ "$st" -eq 143 ] && ok || bad "the waiting light client stops on SIGTERM: exit $st"
grep -q "^stopped height=39 " "$tmp/fl.out" && ok || bad "its state saved at 39: $(cat "$tmp/fl.out")"

# --- restart, a second bridge, another chain --------------------------------------------
stop b
grep -q "SIGTERM: stopping" "$tmp/b.log" && ok || bad "the bridge stops on SIGTERM"
serve b "$tmp/b" 0 --upstream "$a_url" --poll 1
[ "$(curl -s "$b_url/status" | field height)" = 39 ] && ok || bad "the bridge restarts at its tip"
expect 2 "a second bridge on the directory" -- "$UTXO" node --datadir "$tmp/b" --listen 127.0.0.1:0 --upstream "$a_url"
grep -q "in use by pid $b_pid" "$tmp/err" && ok || bad "in use by pid: $(cat "$tmp/err")"
serve o "$tmp/o" 0
stop b
mkdir -p "$tmp/b3"
cp "$tmp/b/params" "$tmp/b3/params"
expect 1 "DIR/params of another chain" -- "$UTXO" node --datadir "$tmp/b3" --listen 127.0.0.1:0 --upstream "$o_url"
grep -q "serves another chain than .*b3/params" "$tmp/err" && ok || bad "another chain named: $(cat "$tmp/err")"
expect 1 "a chain directory of another chain" -- "$UTXO" node --datadir "$tmp/a30" --listen 127.0.0.1:0 --upstream "$o_url"
grep -q "serves another chain than .*a30/blocks" "$tmp/err" && ok || bad "another chain named: $(cat "$tmp/err")"
# --chain-id pins the chain: another upstream's is refused before anything
# is written; the right one starts; a DIR of another chain is refused
aid=$(curl -s "$a_url/status" | field chain_id)
expect 1 "--chain-id of a chain the upstream does not serve" -- \
    "$UTXO" node --datadir "$tmp/b6" --listen 127.0.0.1:0 --upstream "$o_url" --chain-id "$aid"
grep -q "another chain than --chain-id: nothing written" "$tmp/err" && ok || bad "pinned: $(cat "$tmp/err")"
[ ! -e "$tmp/b6/params" ] && [ ! -e "$tmp/b6/node.db" ] && ok || bad "nothing written under --chain-id of another chain"
expect 1 "--chain-id and a DIR of another chain" -- \
    "$UTXO" node --datadir "$tmp/b3" --listen 127.0.0.1:0 --upstream "$a_url" --chain-id "$(printf '0%.0s' $(seq 64))"
grep -q "b3/params holds another chain than --chain-id" "$tmp/err" && ok || bad "DIR named: $(cat "$tmp/err")"
expect 2 "--chain-id without --upstream" -- "$UTXO" node --datadir "$tmp/a30" --chain-id "$aid"
expect 2 "--chain-id not 64 hex digits" -- "$UTXO" node --datadir "$tmp/b6" --upstream "$a_url" --chain-id abc
serve b7 "$tmp/b7" 0 --upstream "$a_url" --poll 1 --chain-id "$aid"
wait_height "$b7_url" 39 && ok || bad "a bridge pinned to its upstream's chain follows it: $(cat "$tmp/b7.log")"
stop b7
# a restart while the upstream is away: the bridge serves its store, says
# so, and follows again when the upstream answers
stop a
serve b "$tmp/b" 0 --upstream "$a_url" --poll 1
[ "$(curl -s "$b_url/status" | field height)" = 39 ] && ok ||
    bad "a restart without the upstream serves the store: $(cat "$tmp/b.log")"
grep -q "the upstream does not answer .*serving what DIR holds" "$tmp/b.log" && ok ||
    bad "a restart without the upstream is logged: $(cat "$tmp/b.log")"
serve a "$tmp/a40" "$aport"
n=0
while ! grep -q "upstream .* back" "$tmp/b.log" && [ $n -lt 200 ]; do sleep 0.1; n=$((n + 1)); done
grep -q "upstream .* back" "$tmp/b.log" && ok || bad "the upstream back after the restart: $(cat "$tmp/b.log")"
[ "$(curl -s "$b_url/status" | field following)" = True ] && ok || bad "following after the restart"
stop b
# ... and when what answers then is another chain, following stops
oport=$(free_port)
serve b3 "$tmp/b3" 0 --upstream "http://127.0.0.1:$oport" --poll 1
[ -n "$b3_url" ] && ok || bad "DIR/params, the upstream away: the bridge starts: $(cat "$tmp/b3.log")"
mkdir -p "$tmp/o2"
cp "$tmp/o/blocks" "$tmp/o/proofs" "$tmp/o2/"
serve o2 "$tmp/o2" "$oport"
n=0
while ! grep -q "following stopped" "$tmp/b3.log" && [ $n -lt 200 ]; do sleep 0.1; n=$((n + 1)); done
grep -q "error bridge: http://127.0.0.1:$oport serves another chain than this node's; following stopped, the store stays empty" \
    "$tmp/b3.log" && ok || bad "another chain after the restart: $(cat "$tmp/b3.log")"
[ "$(curl -s "$b3_url/status" | field following)" = False ] && ok || bad "another chain: following false"
stop b3
stop o2
expect 2 "an unreachable upstream at first start" -- "$UTXO" node --datadir "$tmp/b4" --listen 127.0.0.1:0 \
    --upstream http://127.0.0.1:1
expect 2 "--upstream not a URL" -- "$UTXO" node --datadir "$tmp/b5" --upstream 127.0.0.1:1
expect 2 "--poll 0" -- "$UTXO" node --datadir "$tmp/b5" --upstream "$a_url" --poll 0

# --- a hostile upstream: a tampered block, a tampered proof bundle ------------------------
# relay MODE VAR: tests/relay.py in front of the upstream; VAR gets its URL
relay() {
    python3 "${top_srcdir:-.}/tests/relay.py" "$a_url" "$1" >"$tmp/relay-$1.out" 2>"$tmp/relay-$1.err" &
    pids="$pids $!"
    n=0
    while ! grep -q "^http://" "$tmp/relay-$1.out" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
    eval "$2=\$(cat \"\$tmp/relay-\$1.out\")"
}
for mode in tamper bundle; do
    relay "$mode" r
    serve h "$tmp/h-$mode" 0 --upstream "$r" --poll 1
    n=0
    while ! grep -q "following stopped" "$tmp/h.log" && [ $n -lt 200 ]; do sleep 0.1; n=$((n + 1)); done
    curl -s "$h_url/status" >"$tmp/hs"
    [ "$(field following <"$tmp/hs")" = False ] && ok || bad "$mode: following stops: $(cat "$tmp/hs")"
    field bridge_error <"$tmp/hs" | grep -q "height 5" && ok || bad "$mode: /status names block 5: $(cat "$tmp/hs")"
    grep -q "error bridge: the upstream served .*height 5.*following stopped, the tip stays at height [45]" "$tmp/h.log" &&
        ok || bad "$mode: the log names block 5: $(cat "$tmp/h.log")"
    if [ "$mode" = tamper ]; then
        [ "$(field height <"$tmp/hs")" = 4 ] && ok || bad "tamper: the valid tip 4 kept: $(cat "$tmp/hs")"
    else
        # the block itself is valid and kept; only its bundle was wrong
        [ "$(field height <"$tmp/hs")" = 5 ] && ok || bad "bundle: tip 5 kept: $(cat "$tmp/hs")"
        curl -s "$a_url/block/5/proof" >"$tmp/x1"; curl -s "$h_url/block/5/proof" >"$tmp/x2"
        cmp -s "$tmp/x1" "$tmp/x2" && ok || bad "bundle: the bridge serves its own (the honest) bundle"
    fi
    curl -s "$h_url/block/3/raw" >"$tmp/x1"; curl -s "$a_url/block/3/raw" >"$tmp/x2"
    cmp -s "$tmp/x1" "$tmp/x2" && ok || bad "$mode: the bridge serves what it kept"
    stop h
done
# an error answer from the upstream (a busy proxy's 503 on /blocks) is
# retried, never taken for invalid data: the bridge goes on to the tip
relay error r
serve h "$tmp/h-error" 0 --upstream "$r" --poll 1
tip=$(curl -s "$a_url/status" | field height)
wait_height "$h_url" "$tip" && ok || bad "after a 503, the bridge reached $tip: $(curl -s "$h_url/status") $(cat "$tmp/h.log")"
grep -q "HTTP 503: busy, try later; retrying in 1 s" "$tmp/h.log" && ok || bad "the 503 logged: $(cat "$tmp/h.log")"
[ "$(curl -s "$h_url/status" | field following)" = True ] && ok || bad "after a 503, still following"
stop h
grep -q "following again, at height $tip" "$tmp/h.log" && ok || bad "following again logged: $(cat "$tmp/h.log")"
# an upstream failing every /blocks the same way: logged once, not at every
# poll; its message shown as printable ASCII (no forged log line)
relay inject r
serve h "$tmp/h-inject" 0 --upstream "$r" --poll 1
sleep 4
k=$(grep -c "retrying in 1 s" "$tmp/h.log")
[ "$k" -eq 1 ] && ok || bad "the same failure logged $k times in 4 s: $(cat "$tmp/h.log")"
grep -q "forged" "$tmp/h.log" && ! grep -q "^2026-12-06T00:00:00Z" "$tmp/h.log" && ok ||
    bad "no forged log line: $(cat "$tmp/h.log")"
stop h
# a slow upstream (POST /tx relayed 8 s late) holds up only the transaction
# sent through it: the bridge answers GET /status meanwhile and then relays
# the upstream's verdict (via); what is not a transaction is refused by the
# bridge itself, never sent on
relay slowtx r
serve h "$tmp/h-slow" 0 --upstream "$r" --poll 1
wait_height "$h_url" "$tip" && ok || bad "slowtx: the bridge reached $tip: $(cat "$tmp/h.log")"
code=$(curl -s -m 10 -o "$tmp/pj" -w '%{http_code}' --data-binary 'not a transaction' "$h_url/tx")
[ "$code" = 400 ] && grep -q "not a transaction" "$tmp/pj" && ok || bad "garbage to the bridge: $code $(cat "$tmp/pj")"
grep -q "^posts" "$tmp/relay-slowtx.err" && bad "the bridge sent garbage on" || ok
txid=$(curl -s "$a_url/block/3" | python3 -c 'import json,sys; print(json.load(sys.stdin)["txids"][1])')
curl -s "$a_url/tx/$txid" | python3 -c 'import json,sys; sys.stdout.buffer.write(bytes.fromhex(json.load(sys.stdin)["hex"]))' >"$tmp/spent.tx"
curl -s -m 20 -o "$tmp/pv" -w '%{http_code}' --data-binary "@$tmp/spent.tx" "$h_url/tx" >"$tmp/pc" &
cp=$!
n=0
while ! grep -q "^posts 1" "$tmp/relay-slowtx.err" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$h_url/status")
[ "$code" = 200 ] && ok || bad "GET /status while the upstream takes its time: $code"
reap "$cp" 60 "curl -m 20 POSTing a transaction through the slow relay"
[ "$(cat "$tmp/pc")" = 400 ] && [ "$(field via <"$tmp/pv")" = "$r" ] && ok ||
    bad "the upstream's verdict on a spent transaction, relayed: $(cat "$tmp/pc") $(cat "$tmp/pv")"
stop h
# an upstream answering 200 naming another transaction, then 302: 502
# each, never a 200 (or a 302) the bridge's client reads as taken; a 200
# naming it in upper-case hex is taken, as the C client takes it; then its
# real verdict, relayed
export RELAY_TXID="$txid"
relay othertx r
serve h "$tmp/h-other" 0 --upstream "$r" --poll 1
code=$(curl -s -m 20 -o "$tmp/pv" -w '%{http_code}' --data-binary "@$tmp/spent.tx" "$h_url/tx")
[ "$code" = 502 ] && grep -q "answered HTTP 200 without naming the transaction (txid $txid)" "$tmp/pv" &&
    ok || bad "a 200 naming another transaction: $code $(cat "$tmp/pv")"
code=$(curl -s -m 20 -o "$tmp/pv" -w '%{http_code}' --data-binary "@$tmp/spent.tx" "$h_url/tx")
[ "$code" = 502 ] && grep -q "answered HTTP 302 without a JSON verdict" "$tmp/pv" && ok || bad "a 302: $code $(cat "$tmp/pv")"
code=$(curl -s -m 20 -o "$tmp/pv" -w '%{http_code}' --data-binary "@$tmp/spent.tx" "$h_url/tx")
[ "$code" = 200 ] && [ "$(field via <"$tmp/pv")" = "$r" ] && ok || bad "a 200 naming it in upper case: $code $(cat "$tmp/pv")"
code=$(curl -s -m 20 -o "$tmp/pv" -w '%{http_code}' --data-binary "@$tmp/spent.tx" "$h_url/tx")
[ "$code" = 400 ] && [ "$(field via <"$tmp/pv")" = "$r" ] && ok || bad "then the verdict: $code $(cat "$tmp/pv")"
stop h
# an upstream answering POST /tx with more than any verdict (1 MiB): 502,
# saying so, and the bridge serves on
relay hugetx r
serve h "$tmp/h-huge" 0 --upstream "$r" --poll 1
code=$(curl -s -m 20 -o "$tmp/pv" -w '%{http_code}' --data-binary "@$tmp/spent.tx" "$h_url/tx")
[ "$code" = 502 ] && grep -q "the upstream $r answered with no verdict: $r/tx: an answer of more than 65536 bytes" "$tmp/pv" &&
    ok || bad "a 1 MiB answer to POST /tx: $code $(cat "$tmp/pv")"
[ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$h_url/status")" = 200 ] && ok || bad "GET /status after the 1 MiB answer"
stop h

echo "bridge_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
