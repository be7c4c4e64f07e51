#!/bin/sh
# compact_cli.sh — compact spends (docs/ENCODING.md, "Witness forms") from
# the command line: `tx decode` names each input's form, and `utxo bench
# tx` prints its lines with the field names the issue fixed, with a
# compact pay-to-pubkey input smaller than a full one and a history that
# shrinks. Run by `make check`.
set -u
VEC="${top_srcdir:-.}/tests/vectors"
. "${top_srcdir:-.}/tests/lib.sh"

expect 0 "decode a template spend" -- "$UTXO" tx decode "$VEC/tx_template.bin"
grep -q '"form": "template"' "$tmp/out" || bad "template spend: form"
grep -q '"template": "p2pk"' "$tmp/out" || bad "template spend: template name"
grep -q '"params": "aaaa' "$tmp/out" || bad "template spend: parameters"
expect 0 "decode an image spend" -- "$UTXO" tx decode "$VEC/tx_simple.bin"
grep -q '"form": "image"' "$tmp/out" || bad "image spend: form"
# a form byte that names no form is refused where it stands (byte 42)
od -An -v -tx1 "$VEC/tx_template.bin" | tr -d ' \n' | sed 's/^\(.\{84\}\)02/\109/' > "$tmp/bad.hex"
expect 1 "unknown form" -- "$UTXO" tx decode --hex "$tmp/bad.hex"
grep -q "at byte 42" "$tmp/err" || bad "unknown form: offset: $(cat "$tmp/err")"
# a template index past the table
od -An -v -tx1 "$VEC/tx_template.bin" | tr -d ' \n' | sed 's/^\(.\{86\}\)00/\106/' > "$tmp/bad.hex"
expect 1 "unknown template" -- "$UTXO" tx decode --hex "$tmp/bad.hex"
grep -q "at byte 43" "$tmp/err" || bad "unknown template: offset: $(cat "$tmp/err")"
# a spend by reference: the form, the code output it names, the list
expect 0 "decode a reference spend" -- "$UTXO" tx decode "$VEC/tx_ref.bin"
grep -q '"form": "reference"' "$tmp/out" || bad "reference spend: form"
grep -q '"code_txid": "cccc' "$tmp/out" || bad "reference spend: the code output"
grep -q '"code_index": 7' "$tmp/out" || bad "reference spend: the code output's index"
[ "$(grep -c '"form": "reference"' "$tmp/out")" = 2 ] || bad "reference spend: both inputs"
# its reference index past the list (byte 79)
od -An -v -tx1 "$VEC/tx_ref.bin" | tr -d ' \n' | sed 's/^\(.\{158\}\)00/\101/' > "$tmp/bad.hex"
expect 1 "reference index past the list" -- "$UTXO" tx decode --hex "$tmp/bad.hex"
grep -q "at byte 79" "$tmp/err" || bad "reference index: offset: $(cat "$tmp/err")"

expect 0 "bench tx" -- "$UTXO" bench tx --blocks 8 --rounds 1
field() { # field LINE-PREFIX NAME
    grep "^$1 " "$tmp/out" | head -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}
for k in p2pk multisig htlc rsa; do
    full=$(field "bench tx kind=$k form=full" input_bytes)
    comp=$(field "bench tx kind=$k form=compact" input_bytes)
    wit=$(field "bench tx kind=$k form=compact" witness_bytes)
    [ -n "$full" ] && [ -n "$comp" ] && [ -n "$wit" ] || bad "bench tx: $k lines"
    [ "${comp:-0}" -lt "${full:-0}" ] || bad "bench tx: $k compact $comp < full $full"
done
grep -q "^bench tx history .*avg_tx_bytes_full=.* avg_tx_bytes=.* shrink=.* bundle_bytes_per_block_full=[0-9]* bundle_bytes_per_block=[0-9]*" "$tmp/out" ||
    bad "bench tx: the history line"
shrink=$(field "bench tx history" shrink)
case "$shrink" in
    [2-9].*|[1-9][0-9]*.*) ;;
    *) bad "bench tx: history shrink $shrink below 2" ;;
esac
grep -q "^bench tx instance kind=p2pk build_and_hash_ns=[0-9]* ed25519_verify_ns=[0-9]* ratio=0\." "$tmp/out" ||
    bad "bench tx: the instance line (building must cost less than a verify)"
expect 2 "bench tx: bad option" -- "$UTXO" bench tx --blocks 1

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
