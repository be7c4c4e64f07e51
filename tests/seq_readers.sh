#!/bin/sh
# seq_readers.sh — a sequencer node validating costly transactions keeps
# answering its readers. Transactions spending the genesis coin of
# tests/segments/work.img with more SHA-256 rounds than the largest budget
# (refused out of cycles after 2^32 - 1 of them) are posted at once, as
# many as make about 6 s of predicates; while the mempool thread runs them,
# GET /status, /block/0, /utxos and /mempool must each answer within a
# second: the predicates run under the mempool's lock, not the store's, and
# /mempool answers the pool as of the last batch. A valid spend of another
# coin goes first, so the sealing thread (every second) finds a held
# transaction while the batch runs: it waits for the mempool's lock
# without holding the store's (before, it held the store's, and every
# reader waited for the batch behind it; /mempool waited for the batch
# too). A POST /admin/seal sent meanwhile is sealed by the sealing thread,
# the request suspended: before, the HTTP thread sealed it itself, and
# every reader waited for the batch behind it. Every burn is
# refused (400) and the coin is still unspent (the policies that would stop
# such a client are off: --max-tx-cycles 2^32, --client-cycles 0). On
# 127.0.0.1, a free port; every wait bounded. Run by
# `make check`. Then, with the default policies, the same client is
# refused by policy and then answered 429 (docs/API.md, "Refused work").
set -u
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/nodelib.sh"
MKFAN="${top_builddir:-.}/tests/mkfan"
WORK="${top_srcdir:-.}/tests/segments/work.img"

id=$("$UTXO" predicate id "$WORK")
expect 0 "genesis" -- "$UTXO" genesis -o "$tmp/s" --alloc "$id:1000000000000" --alloc "$id:1000000000"
serve s "$tmp/s" 0 --seal-interval 1 --max-tx-cycles 4294967296 --client-cycles 0
[ -n "$s_url" ] && ok || { bad "the sequencer started: $(cat "$tmp/s.log")"; exit 1; }
g=$(curl -s "$s_url/block/0" | python3 -c 'import json,sys; print(json.load(sys.stdin)["txids"][0])')
# work.img's arguments: 4,000,000 rounds, more than the largest budget a
# transaction may give (2^32 - 1 cycles: about 0.4 s on the translating
# tier, seconds on the interpreter), so each is refused out of cycles
args=$(python3 -c 'import struct; print(struct.pack("<6I", 4000000, 0, 0, 0, 0, 1).hex())')
for k in $(seq 0 40); do
    # each with its own fee, so that they are different transactions
    "$MKFAN" "$WORK" "$g:0" 1000000000000 $((10000000 + k)) 1 0 0 "$id" "$tmp/burn$k-" \
        4294967295 "$args" || bad "mkfan burn $k"
done
# the valid spend: one round, any checksum accepted
"$MKFAN" "$WORK" "$g:1" 1000000000 10000000 1 0 0 "$id" "$tmp/ok-" 1000000 \
    "$(python3 -c 'import struct; print(struct.pack("<6I", 1, 0, 0, 0, 0xffffffff, 0).hex())')" ||
    bad "mkfan ok"

python3 - "$s_url" "$tmp" <<'PY' && ok || bad "readers while the mempool runs predicates"
import json, math, sys, threading, time, urllib.request, urllib.error
base, tmp = sys.argv[1], sys.argv[2]
def admin_seal(out):
    token = open("%s/s/.cookie" % tmp).read().strip()
    rq = urllib.request.Request(base + "/admin/seal", data=b"", method="POST",
                                headers={"Authorization": "Bearer " + token})
    try:
        out["seal"] = (200, json.loads(urllib.request.urlopen(rq, timeout=300).read()))
    except urllib.error.HTTPError as e:
        out["seal"] = (e.code, e.read())
def post(k, out):
    data = open("%s/burn%d-00.tx" % (tmp, k) if k != "ok" else "%s/ok-00.tx" % tmp, "rb").read()
    try:
        urllib.request.urlopen(urllib.request.Request(base + "/tx", data=data), timeout=300)
        out[k] = (200, None)
    except urllib.error.HTTPError as e:
        out[k] = (e.code, json.loads(e.read()))
# one alone, twice: how long the node takes to refuse one, the shorter
# (a load that ends, a parallel test's, made one alone take up to 4 times
# as long as each of the batch, which then ended before 2 s: 1 in 3 runs
# with 4 CPU hogs for the test's first 6 to 8 s)
one, t1 = {}, math.inf
for k in (40, 39):
    t = time.time(); post(k, one); t1 = min(t1, time.time() - t)
    assert one[k][0] == 400, one
# then enough of them at once for about 6 s of predicates (at most 39): a
# load ending after the timing leaves 2 s at a third of it
n = max(2, min(39, math.ceil(6.0 / max(t1, 0.01))))
verdicts, valid = {}, {}
t0 = time.time()
posts = [threading.Thread(target=post, args=("ok", valid))]
posts[0].start()
time.sleep(0.05)                     # held before the burns come
posts += [threading.Thread(target=post, args=(k, verdicts)) for k in range(n)]
for p in posts[1:]:
    p.start()
time.sleep(min(0.5, t1 / 2))         # the mempool thread has begun
sealed = {}
posts.append(threading.Thread(target=admin_seal, args=(sealed,)))
posts[-1].start()
slowest, asked = 0.0, 0
while any(p.is_alive() for p in posts) and time.time() - t0 < 240:
    for path in ("/status", "/block/0", "/utxos/" + "11" * 32, "/mempool"):
        t = time.time()
        urllib.request.urlopen(base + path, timeout=10).read()
        slowest = max(slowest, time.time() - t)
        asked += 1
    time.sleep(0.2)
for p in posts:
    p.join(300)
took = time.time() - t0
assert took > 2.0, "%d runs took %.2f s: too short to show anything" % (n, took)
assert asked >= 6 and slowest < 1.0, (asked, slowest, took)
assert len(verdicts) == n and all(v[0] == 400 for v in verdicts.values()), verdicts
assert valid == {"ok": (200, None)}, valid
assert sealed["seal"][0] == 200 and sealed["seal"][1]["height"] in (1, 2), sealed
print("readers: %d answers, slowest %.3f s, while %d refusals took %.1f s (one alone: %.2f s)"
      % (asked, slowest, n, took, t1))
PY
code=$(curl -s -o "$tmp/p" -w '%{http_code}' "$s_url/proof/$g:0")
[ "$code" = 200 ] && ok || bad "the genesis coin is unspent: $code $(cat "$tmp/p")"
n=0
while [ "$(curl -s "$s_url/status" | field mempool)" != 0 ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
[ "$(curl -s "$s_url/status" | field mempool)" = 0 ] && ok || bad "the mempool is empty (the valid spend sealed)"
# block 1 holds the valid spend (the timed seal's or the asked one's),
# and a block 2 at most the other seal's, empty
h=$(curl -s "$s_url/status" | field height)
[ "$h" = 1 ] || [ "$h" = 2 ] && ok || bad "one or two blocks sealed: $(curl -s "$s_url/status")"
code=$(curl -s -o /dev/null -w '%{http_code}' "$s_url/proof/$g:1")
[ "$code" = 404 ] && [ "$(curl -s "$s_url/block/1" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["txids"]))')" = 2 ] &&
    ok || bad "the valid spend is in block 1: $code $(curl -s "$s_url/block/1")"
# a stop while POST /admin/seal requests wait behind a batch: each is
# answered (the block sealed for it, or 503 "the node is stopping"), never
# left suspended (libmicrohttpd aborts the node at stop on a suspended
# request), and the node exits 0; of 20 at once, the ones beyond the 16
# that may wait (and the one being sealed) are answered 503 at once, but
# for those that found the room of a seal already ended
python3 - "$s_url" "$tmp" "$s_pid" <<'PY' && ok || bad "admin seals waiting at a stop"
import json, os, signal, sys, threading, time, urllib.request, urllib.error
base, tmp, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
token = open("%s/s/.cookie" % tmp).read().strip()
out = {}
def burn(k):
    try:
        urllib.request.urlopen(urllib.request.Request(
            base + "/tx", data=open("%s/burn%d-00.tx" % (tmp, k), "rb").read()), timeout=60)
    except (urllib.error.HTTPError, OSError):
        pass
def seal(k):
    rq = urllib.request.Request(base + "/admin/seal", data=b"", method="POST",
                                headers={"Authorization": "Bearer " + token})
    try:
        out[k] = (200, json.loads(urllib.request.urlopen(rq, timeout=60).read()))
    except urllib.error.HTTPError as e:
        out[k] = (e.code, json.loads(e.read()))
    except Exception as e:
        out[k] = (0, {"message": "no answer: %r" % e})
ts = [threading.Thread(target=burn, args=(k,)) for k in range(4)]
for t in ts: t.start()
time.sleep(0.3)
ts += [threading.Thread(target=seal, args=(k,)) for k in range(20)]
for t in ts[4:]: t.start()
time.sleep(0.3)
os.kill(pid, signal.SIGTERM)
time.sleep(0.2)                 # while it stops: noted, not fatal
os.kill(pid, signal.SIGHUP)
os.kill(pid, signal.SIGTERM)
for t in ts: t.join(60)
assert len(out) == 20, out
full = "16 seals already wait for the mempool's batch: try later"
kinds = [c if c == 200 else b["message"] for c, b in out.values()]
assert all(k in (200, "the node is stopping", full) for k in kinds), out
# at most 17 wait at once (16 and the one being sealed): of 20 at once, 3
# are refused, less one for each seal that ended (200) and made room
# before the last came (ASan: the batch may end before they all come;
# 2 refused and 2 sealed failed the CI of stop 42 when this asked for 3)
assert kinds.count(200) >= 1 and kinds.count(full) + kinds.count(200) >= 3, kinds
print("admin seals at the stop: %d sealed, %d stopping, %d refused (16 waiting)"
      % (kinds.count(200), kinds.count("the node is stopping"), kinds.count(full)))
PY
# the script sent the SIGTERM, and a SIGHUP and a second SIGTERM while the
# node stopped: it must exit 0 (before, a thread of the store took those and
# ran the command's fatal handler: exit 129 or 143, the stop cut short)
# (bounded: a node still there after 60 s is killed, and the check fails)
reap "$s_pid"
st=$?
[ "$st" -eq 0 ] && ok || bad "the node stopped with admin seals waiting: exit $st: $(tail -5 "$tmp/s.log")"

# with the default policies, the same client is stopped soon: a budget
# over --max-tx-cycles is refused before anything runs (354) and costs the
# client at most that policy (2^26) plus 65536 of its allowance (16 x 2^26),
# even one declaring 2^62 cycles (which took 2^60, a Retry-After of 544
# years, before: a bridge's upstream charges the bridge, so one such POST
# locked every client of the bridge out); the 16th refusal spends the
# allowance (give or take the refill while they come) and the next POST is
# answered 429 without being looked at
serve s "$tmp/s" 0 --seal-interval 3600
"$MKFAN" "$WORK" "$g:0" 1000000000000 9000000 1 0 0 "$id" "$tmp/huge-" 4611686018427387904 "$args" ||
    bad "mkfan huge"
code=$(curl -s -m 60 -o "$tmp/body" -w '%{http_code}' --data-binary "@$tmp/huge-00.tx" "$s_url/tx")
[ "$code" = 400 ] && ok || bad "2^62 declared cycles refused: $code $(cat "$tmp/body")"
# the POSTs go one after another on one kept-alive connection: with a
# curl process each, on a loaded machine (load 5) a POST took about a
# second, as long as the allowance takes to refill a refusal's worth, and
# the 200 POSTs ended without a 429
python3 - "$s_url" "$tmp" <<'PY' || bad "the refusals by policy could not be sent"
import http.client, json, math, sys, time, urllib.parse
u = urllib.parse.urlparse(sys.argv[1]); tmp = sys.argv[2]
c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
refused, t0 = 0, time.monotonic()
for k in range(200):
    with open("%s/burn%d-00.tx" % (tmp, k % 41), "rb") as f:
        body = f.read()
    for attempt in (0, 1):  # once more on a new connection if the node closed it
        try:
            c.request("POST", "/tx", body=body)
            r = c.getresponse()
            data = r.read()
            break
        except (http.client.HTTPException, ConnectionError):
            if attempt:
                raise
            c.close()
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    try:
        code = json.loads(data).get("code")
    except ValueError:
        code = None
    if r.status != 400 or code != 354:
        break
    refused += 1
took = math.ceil(time.monotonic() - t0)
with open(tmp + "/refusals", "w") as f:
    f.write("%d %d %d %s\n" % (refused, took, r.status, r.getheader("Retry-After") or "-"))
with open(tmp + "/body", "wb") as f:
    f.write(data)
PY
read -r refused took status retry <"$tmp/refusals" || { refused=0 took=0 status=- retry=-; }
# the time the POSTs take refills the allowance by a refusal's worth a
# second (on a loaded machine, several): 15 or more, and at most 16 more
# than the seconds they took
[ "$refused" -ge 15 ] && [ "$refused" -le $((17 + took)) ] && ok ||
    bad "refused by policy within the allowance: $refused in $took s"
[ "$status" = 429 ] && ok || bad "then 429: $status $(cat "$tmp/body")"
case $retry in 1 | 2) ok ;; *) bad "owing at most a refusal: Retry-After $retry" ;; esac
stop s
echo "seq_readers: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
