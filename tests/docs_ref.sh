#!/bin/sh
# docs_ref.sh — the documents against the code, by independent Python
# implementations written from the documents alone (tests/vectors/*_ref.py):
# encoding_ref.py (docs/ENCODING.md) must write the golden vectors byte for
# byte; rules_ref.py (ENCODING.md's reason codes) must get the code and
# offset the page gives from 'utxo tx check --json'; chain_ref.py
# (ENCODING.md, ACCUMULATOR.md, STATELESS.md, CONTINUATIONS.md,
# PREDICATES.md) must find every header, tx root, accumulator digest,
# signature, witness image, proof bundle, segment receipt and the validator
# state file of a generated chain (every witness form, reference inputs,
# receipts) as the documents say; store_ref.py must find the store of that
# chain as STORE.md says; and the range results of a plan of that store are
# checked field by field against RANGES.md. Run by `make check`; skipped
# without python3.
set -u
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the source tree
VEC="${top_srcdir:-.}/tests/vectors"
. "${top_srcdir:-.}/tests/lib.sh"
command -v python3 >/dev/null 2>&1 || { echo "docs_ref: python3 is not installed, skipped"; exit 77; }

# ENCODING.md: the Python writes the same vectors and prints the pinned ids
mkdir "$tmp/vec"
vec=$(cd "$VEC" && pwd)
(cd "$tmp/vec" && python3 "$vec/encoding_ref.py") >"$tmp/ids" || bad "encoding_ref.py failed"
for f in tx_simple.bin tx_template.bin tx_ref.bin block_simple.bin params_default.bin; do
    cmp -s "$tmp/vec/$f" "$VEC/$f" && ok || bad "encoding_ref.py writes another $f"
done
grep -q "^TXID 5875d8e0d2837f2ebb1d47bcf0d0ff8e50b6f93692ad715b6b11a638ddb1505d$" "$tmp/ids" && ok || bad "the txid of ENCODING.md's example"
grep -q "^CHAIN_ID dded3e3f349a77df2ce76afb5a56097373b4f20d801c4db8de19a7aeb792604b$" "$tmp/ids" && ok || bad "the default chain id of ENCODING.md"
expect 0 "tx decode of the Python's vector" -- "$UTXO" tx decode "$tmp/vec/tx_ref.bin"
grep -q "\"txid\": \"$(sed -n 's/^REF_TXID //p' "$tmp/ids")\"" "$tmp/out" && ok || bad "tx decode: another txid than the Python's"

# ENCODING.md "Which code, in which order": each case's code, and for a
# decoding error its offset, as the page says ('tx check --json')
mkdir "$tmp/rules"
python3 "$VEC/rules_ref.py" "$tmp/rules" >"$tmp/cases" || bad "rules_ref.py failed"
[ "$(wc -l <"$tmp/cases")" -ge 20 ] || bad "rules_ref.py wrote $(wc -l <"$tmp/cases") cases"
while read -r name code where; do
    "$UTXO" tx check --json "$tmp/rules/$name.bin" >"$tmp/out" 2>"$tmp/err"
    if [ "$code" -eq 0 ]; then want='{"valid":true}'
    elif [ "$where" = check ]; then want="\"error\":$code,"
    else want="\"error\":$code,*\"offset\":$where}"
    fi
    case $(cat "$tmp/out") in
    *$want*) ok ;;
    *) bad "$name: wanted code $code at $where, got $(cat "$tmp/out" "$tmp/err")" ;;
    esac
done <"$tmp/cases"

# a chain: every witness form, references, receipts (long runs every 4 blocks)
expect 0 "gen" -- "$UTXO" gen --blocks 24 --seed 11 --tx-per-block 24 --long-every 4 --quiet -o "$tmp/c"
expect 0 "verify --state" -- "$UTXO" verify --chain "$tmp/c/blocks" --proofs "$tmp/c/proofs" --state "$tmp/state" --quiet
expect 0 "chain_ref.py on the chain" -- python3 "$VEC/chain_ref.py" "$tmp/c" "$tmp/state"
grep -q "as documented" "$tmp/out" && ok || bad "chain_ref.py: $(cat "$tmp/out")"
grep -q " [1-9][0-9]* references, [1-9][0-9]* blocks with receipts" "$tmp/out" && ok ||
    bad "the chain has no references or no receipts: $(cat "$tmp/out")"
# STORE.md: the store of the same chain, table by table (tests/vectors/store_ref.py)
expect 0 "replay" -- "$UTXO" replay "$tmp/c/blocks" --db "$tmp/node.db" --quiet
expect 0 "store_ref.py on the store" -- python3 "$VEC/store_ref.py" "$tmp/c" "$tmp/node.db"
grep -q "as documented" "$tmp/out" && ok || bad "store_ref.py: $(cat "$tmp/out")"
expect 0 "replay to 20" -- "$UTXO" replay "$tmp/c/blocks" --db "$tmp/short.db" --to 20 --quiet
expect 1 "store_ref.py on a store 3 blocks short" -- python3 "$VEC/store_ref.py" "$tmp/c" "$tmp/short.db"

# RANGES.md: the range result files of a plan of that store, field by field
expect 0 "history plan" -- "$UTXO" history plan --store "$tmp/node.db" --ranges 2 -o "$tmp/plan"
expect 0 "history run" -- "$UTXO" history run "$tmp/plan" --jobs 1
python3 - "$tmp/plan" "$tmp/c/blocks" <<'PY' && ok || bad "a range result file is not as RANGES.md says"
import hashlib, struct, sys
def H(tag, m): return hashlib.blake2b(m, digest_size=32, person=tag.encode()).digest()
params = open(sys.argv[2], "rb").read()[8:116]
total, ends = 0, []
for k in range(2):
    r = open("%s/range-%03d.result" % (sys.argv[1], k), "rb").read()
    f = open("%s/range-%03d.state" % (sys.argv[1], k), "rb").read()
    start = f[12:-32]  # the validator state inside its state file (STATELESS.md)
    assert r[:4] == b"uxrr" and struct.unpack_from("<I", r, 4)[0] == 1
    assert r[8:40] == H("utxo.chain", params)
    a, b = struct.unpack_from("<II", r, 40)
    s_len, r_len = struct.unpack_from("<IH", r, 216)
    end = r[222 + r_len:222 + r_len + s_len]
    assert len(r) == 222 + r_len + s_len + 32 and r[-32:] == H("utxo.rangeresult", r[:-32])
    assert r[48:80] == H("utxo.vstate", start) and r[80:112] == start[41:73]
    assert r[112:144] == end[41:73] and r[144:176] == H("utxo.vstate", end)
    blocks, txs, inputs, cycles, verdict, height = struct.unpack_from("<QQQQII", r, 176)
    assert blocks == b - a and verdict == 0 and height == 0 and r_len == 0
    assert struct.unpack_from("<I", end, 37)[0] == b
    total += blocks; ends.append((a, b))
assert ends[0][0] == 0 and ends[0][1] == ends[1][0] and total == 24
PY

# and it can tell: one bit of the last block's accumulator digest flipped
# (the signature fails first when python3-cryptography is there, the digest
# otherwise: either way exit 1)
cp -r "$tmp/c" "$tmp/d"
size=$(wc -c <"$tmp/d/blocks")
last=$(python3 -c 'import struct,sys
b=open(sys.argv[1],"rb").read(); o=116
while o<len(b):
    n=struct.unpack("<I",b[o:o+4])[0]; s=o; o+=4+n
print(s+4+80)' "$tmp/d/blocks")
flip "$tmp/d/blocks" "$last"
expect 1 "chain_ref.py on a changed digest" -- python3 "$VEC/chain_ref.py" "$tmp/d"
[ "$(wc -c <"$tmp/d/blocks")" -eq "$size" ] || bad "flip changed the size"

echo "docs_ref: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
