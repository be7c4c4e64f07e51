#!/bin/sh
# utxos_pages.sh — GET /utxos/ID in pages. A sequencer node (127.0.0.1, a
# free port) seals two fan-out transactions (tests/mkfan) paying 800
# outputs with 1 KiB datums to one predicate id: the first page stops near
# 1 MiB (the node's bound on one answer) with `truncated` and a `next`
# cursor; following `after=next` lists the rest; together the pages are
# every output once, in outpoint order, each datum inline, with `count` and
# `total` the whole set on every page. A cursor between two outputs, one
# past the last, and malformed cursors (400). A third fan-out sealed in
# block 2: every page, from the first and after cursors, counts the 1,200
# outputs of the new tip. Run by `make check`.
set -u
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/nodelib.sh"
MKFAN="${top_builddir:-.}/tests/mkfan"

# an image that accepts (docs/PREDICATES.md, "Worked example", without the
# parameter segment): li a0, 0; li a7, 0; ecall
python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(
    "55545850010100000200" "00000200" "0c000000" "130500009308000073000000"))' >"$tmp/accept.img"
id=$("$UTXO" predicate id "$tmp/accept.img")
target=$(python3 -c 'print("11" * 32)')
expect 0 "genesis" -- "$UTXO" genesis -o "$tmp/s" --alloc "$id:1000000000000"
serve s "$tmp/s" 0 --seal-interval 3600
[ -n "$s_url" ] && ok || { bad "the sequencer started: $(cat "$tmp/s.log")"; exit 1; }
g=$(curl -s "$s_url/block/0" | python3 -c 'import json,sys; print(json.load(sys.stdin)["txids"][0])')
expect 0 "mkfan" -- "$MKFAN" "$tmp/accept.img" "$g:0" 1000000000000 1000000 3 400 1024 "$target" "$tmp/fan"
# seal_fans H T...: posts fan-out transactions fanT.tx and seals them as
# block H
seal_fans() {
    h=$1; shift
    for t in "$@"; do
        code=$(curl -s -m 30 -o "$tmp/pv" -w '%{http_code}' --data-binary "@$tmp/fan$t.tx" "$s_url/tx")
        [ "$code" = 200 ] && ok || bad "POST fan$t: $code $(cat "$tmp/pv")"
    done
    code=$(curl -s -m 60 -o "$tmp/pv" -w '%{http_code}' -X POST \
        -H "Authorization: Bearer $(cat "$tmp/s/.cookie")" "$s_url/admin/seal")
    [ "$code" = 200 ] && ok || bad "seal: $code $(cat "$tmp/pv")"
    wait_height "$s_url" "$h" && ok || bad "block $h sealed: $(curl -s "$s_url/status")"
}
seal_fans 1 00 01

python3 - "$s_url" "$target" <<'PY' && ok || bad "the pages of /utxos"
import json, sys, urllib.request, urllib.error
base, target = sys.argv[1], sys.argv[2]
def get(q):
    with urllib.request.urlopen(base + "/utxos/" + target + q, timeout=30) as r:
        body = r.read()
    return json.loads(body), len(body)
pages, q = [], ""
while True:
    d, size = get(q)
    assert d["count"] == 800 and d["total"] == 800000, d["count"]
    assert size <= (1 << 20) + 4096, size            # the bound on one answer
    pages.append(d)
    if not d["truncated"]:
        assert d["next"] is None
        break
    last = d["utxos"][-1]
    assert d["next"] == "%s:%d" % (last["txid"], last["index"])
    q = "?after=" + d["next"]
    assert len(pages) < 10
assert len(pages) >= 2 and len(pages[0]["utxos"]) > 100, [len(p["utxos"]) for p in pages]
outs = [u for p in pages for u in p["utxos"]]
keys = [(bytes.fromhex(u["txid"]), u["index"]) for u in outs]
assert len(outs) == 800 and len(set(keys)) == 800 and keys == sorted(keys)
assert all(u["datum"] == "ab" * 1024 and u["datum_len"] == 1024 and u["value"] == 1000 for u in outs)
# a cursor between two outputs lists from the one after it
k = 123
d, _ = get("?after=%s:%d" % (outs[k]["txid"], outs[k]["index"]))
assert [(u["txid"], u["index"]) for u in d["utxos"]] == \
       [(u["txid"], u["index"]) for u in outs[k + 1:k + 1 + len(d["utxos"])]]
# past the last output: an empty last page
d, _ = get("?after=%s:%d" % (outs[-1]["txid"], outs[-1]["index"]))
assert d["utxos"] == [] and not d["truncated"] and d["next"] is None and d["count"] == 800
# malformed cursors
for bad in ("x", outs[0]["txid"], outs[0]["txid"] + ":", outs[0]["txid"] + ":-1",
            outs[0]["txid"] + ":4294967296", "zz" * 32 + ":0", outs[0]["txid"][:-2] + ":0"):
    try:
        get("?after=" + bad)
        raise AssertionError("accepted " + bad)
    except urllib.error.HTTPError as e:
        assert e.code == 400, (bad, e.code)
PY

# a new block: count, total and the pages are the new tip's (the node keeps
# the count of an id for its tip only), on a page with a cursor too
seal_fans 2 02
python3 - "$s_url" "$target" <<'PY' && ok || bad "the pages of /utxos after block 2"
import json, sys, urllib.request
base, target = sys.argv[1], sys.argv[2]
q, outs, pages = "", [], 0
while True:
    with urllib.request.urlopen(base + "/utxos/" + target + q, timeout=30) as r:
        d = json.loads(r.read())
    assert d["count"] == 1200 and d["total"] == 1200000, (pages, d["count"], d["total"])
    outs += d["utxos"]
    pages += 1
    assert pages < 10
    if not d["truncated"]:
        break
    q = "?after=" + d["next"]
keys = [(bytes.fromhex(u["txid"]), u["index"]) for u in outs]
assert len(keys) == 1200 and len(set(keys)) == 1200 and keys == sorted(keys), len(keys)
PY

stop s
echo "utxos_pages: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
