#!/bin/sh
# predicate_cli.sh — drives `utxo predicate` end to end without a RISC-V
# toolchain: build from a committed ELF (the fuzz corpus's htlc template)
# gives the committed image and its id, disasm, run of the worked example of
# docs/PREDICATES.md (accepts in 23 cycles), budgets, --json, and every exit
# code (0 accepted, 1 rejected/failed/invalid, 2 usage or I/O).
set -u
SRC="${top_srcdir:-.}"
. "${top_srcdir:-.}/tests/lib.sh"

# hex2bin HEX: the bytes (octal escapes: POSIX printf has no \x)
hex2bin() {
    h=$1
    while [ -n "$h" ]; do
        rest=${h#??}
        printf "\\$(printf '%03o' "0x${h%"$rest"}")"
        h=$rest
    done
}

# build: the corpus file is one selector byte followed by the ELF
tail -c +2 "$SRC/tests/fuzz/corpus/image/htlc_elf" > "$tmp/htlc.elf"
expect 0 "build" -- "$UTXO" predicate build "$tmp/htlc.elf" -o "$tmp/htlc.img"
id_build=$(cat "$tmp/out")
cmp -s "$tmp/htlc.img" "$SRC/src/predicates/std/htlc.img" && ok || bad "built image differs from the committed htlc.img"
expect 0 "id" -- "$UTXO" predicate id "$tmp/htlc.img"
[ "$(cat "$tmp/out")" = "$id_build" ] && ok || bad "id differs from build's"
[ "$id_build" = "864d33cdada2cadc6d301e01df7d305ed2a4f586915b8cbd95499135cc993ccb" ] && ok || bad "htlc template id $id_build"
expect 0 "id of the ELF itself" -- "$UTXO" predicate id "$tmp/htlc.elf"
[ "$(cat "$tmp/out")" = "$id_build" ] && ok || bad "id of the ELF differs"
# -o into a FIFO or a device streams into it, a link's file is replaced: a
# rename over them once put a regular file there (as root, -o /dev/stdout
# replaced /dev/stdout itself)
mkfifo "$tmp/fifo"
cat "$tmp/fifo" >"$tmp/from-fifo" &
reader=$!
expect 0 "build -o FIFO" -- "$UTXO" predicate build "$tmp/htlc.elf" -o "$tmp/fifo"
if [ -p "$tmp/fifo" ]; then
    ok; reap "$reader" 60 "cat reading the FIFO (build -o never opened or closed it?)"
else
    bad "build -o FIFO: no longer a FIFO"; kill "$reader"
fi
cmp -s "$tmp/from-fifo" "$tmp/htlc.img" && ok || bad "build -o FIFO: the reader got other bytes"
: >"$tmp/target.img"
ln -s target.img "$tmp/link.img"
expect 0 "build -o LINK" -- "$UTXO" predicate build "$tmp/htlc.elf" -o "$tmp/link.img"
[ -L "$tmp/link.img" ] && ok || bad "build -o LINK: no longer a link"
cmp -s "$tmp/target.img" "$tmp/htlc.img" && ok || bad "build -o LINK: its file not written"
expect 0 "build -o /dev/stdout" -- sh -c "\"$UTXO\" predicate build \"$tmp/htlc.elf\" -o /dev/stdout 2>/dev/null >\"$tmp/via-dev\""
head -c "$(wc -c <"$tmp/htlc.img")" "$tmp/via-dev" | cmp -s - "$tmp/htlc.img" && ok ||
    bad "build -o /dev/stdout: not the image"
expect 0 "disasm" -- "$UTXO" predicate disasm "$tmp/htlc.img"
grep -q "<entry>" "$tmp/out" && grep -q "ecall" "$tmp/out" && ok || bad "disasm output"

# run the worked example: li a0,0; li a7,0; ecall with a parameter segment
hex2bin "555458500102000002000000010004000000000002000c000000deadbeef130500009308000073000000" > "$tmp/ex.img"
expect 0 "run accepts" -- "$UTXO" predicate run "$tmp/ex.img"
grep -q "^accepted exit=0 cycles=23$" "$tmp/out" && ok || bad "run output: $(cat "$tmp/out")"
expect 0 "run --json" -- "$UTXO" predicate run "$tmp/ex.img" --json
grep -q '"status":"accepted"' "$tmp/out" && grep -q '"cycles":23' "$tmp/out" && ok || bad "json: $(cat "$tmp/out")"
expect 1 "budget too small" -- "$UTXO" predicate run "$tmp/ex.img" --budget 22
grep -q 'failed reason="out of cycles"' "$tmp/out" && ok || bad "out of cycles output: $(cat "$tmp/out")"
# the htlc template without parameters rejects malformed arguments (exit 1)
expect 1 "run rejects" -- "$UTXO" predicate run "$tmp/htlc.img" --arg-hex 00
grep -q "^rejected exit=1 " "$tmp/out" && ok || bad "rejected output: $(cat "$tmp/out")"
# ... and fails on the sighash call without a transaction
expect 1 "run fails" -- "$UTXO" predicate run "$tmp/htlc.img" --arg-hex "01$(printf '%0128d' 0)"
grep -q 'reason="bad host call"' "$tmp/out" && ok || bad "failed output: $(cat "$tmp/out")"

# standard templates and instances (the golden p2pk instance of docs/PREDICATES.md)
expect 0 "std list" -- "$UTXO" predicate std
grep -q "^htlc .*864d33cdada2cadc6d301e01df7d305ed2a4f586915b8cbd95499135cc993ccb$" "$tmp/out" && ok || bad "std list: $(cat "$tmp/out")"
expect 0 "std p2pk" -- "$UTXO" predicate std p2pk "$(printf '11%.0s' $(seq 32))" -o "$tmp/p2pk.img"
[ "$(cat "$tmp/out")" = "4dde5910d45e2df79ad113eaa77a2e20e73856e1b44c82c0533e523f173be458" ] && ok || bad "p2pk instance id $(cat "$tmp/out")"
expect 1 "std bad params" -- "$UTXO" predicate std p2pk 1111 -o "$tmp/x.img"
grep -q "pk(32)" "$tmp/err" && ok || bad "std bad params names the layout: $(cat "$tmp/err")"
expect 2 "std unknown" -- "$UTXO" predicate std p2sh 11 -o "$tmp/x.img"

# the transaction's context without a transaction: a usage error, not ignored
expect 2 "--height without --tx" -- "$UTXO" predicate run "$tmp/ex.img" --height 5
grep -q -- "--height describes the transaction of --tx FILE" "$tmp/err" && ok || bad "--height without --tx: $(cat "$tmp/err")"
expect 2 "--input without --tx" -- "$UTXO" predicate run "$tmp/ex.img" --input 0
expect 2 "--chain-id without --tx" -- "$UTXO" predicate run "$tmp/ex.img" --chain-id "$(printf '00%.0s' $(seq 32))"

# invalid input and usage errors
hex2bin "5554585001" > "$tmp/trunc.img"
expect 1 "truncated image" -- "$UTXO" predicate run "$tmp/trunc.img"
grep -q "byte 5" "$tmp/err" && ok || bad "truncation message: $(cat "$tmp/err")"
expect 1 "truncated ELF" -- sh -c "head -c 60 '$tmp/htlc.elf' > '$tmp/t.elf' && '$UTXO' predicate build '$tmp/t.elf' -o '$tmp/x.img'"
# image errors say what is wrong, and in which segment (issue 12 item 14)
head -c 100 /dev/urandom | tr '\125' '\126' > "$tmp/garbage.img" # no 'U': never the magic
expect 1 "garbage image" -- "$UTXO" predicate run "$tmp/garbage.img"
grep -q 'invalid predicate image: no image magic "UTXP" (not a predicate image or ELF file) (byte 0)' \
    "$tmp/err" && ok || bad "garbage image message: $(cat "$tmp/err")"
# two segments, the second below the first
hex2bin "5554585001020000020000000200040000000000010004000000130000001300000000" > "$tmp/order.img"
expect 1 "segments out of order" -- "$UTXO" predicate run "$tmp/order.img"
grep -q "segment 1: overlaps or comes before the previous segment (order by address) (byte 18)" \
    "$tmp/err" && ok || bad "order message: $(cat "$tmp/err")"
grep -q "none" "$tmp/err" "$tmp/out" && bad "a reason of none" || ok
# an ELF whose loadable segment has a memory size (4) below its file size
cp "$tmp/htlc.elf" "$tmp/memsz.elf"
printf '\004\000\000\000' | dd of="$tmp/memsz.elf" bs=1 seek=72 conv=notrunc 2>/dev/null
expect 1 "ELF file size over memory size" -- "$UTXO" predicate build "$tmp/memsz.elf" -o "$tmp/x.img"
grep -q "not a usable ELF executable: segment 0: file size exceeds memory size (byte 52)" \
    "$tmp/err" && ok || bad "memsz message: $(cat "$tmp/err")"
expect 2 "missing file" -- "$UTXO" predicate id "$tmp/nope.img"
expect 2 "no subcommand" -- "$UTXO" predicate
expect 2 "unknown subcommand" -- "$UTXO" predicate frob
expect 2 "build without -o" -- "$UTXO" predicate build "$tmp/htlc.elf"
expect 2 "bad hex" -- "$UTXO" predicate run "$tmp/ex.img" --arg-hex 0g
expect 2 "bad budget" -- "$UTXO" predicate run "$tmp/ex.img" --budget x
expect 0 "help" -- "$UTXO" predicate --help

echo "predicate_cli.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
