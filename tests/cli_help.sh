#!/bin/sh
# cli_help.sh — the command-line conventions of EVERY command, enumerated
# from the help itself: the "commands:" list of `utxo --help`, then the
# "subcommands:"/"benchmarks:" list of each command's --help. For each
# command and subcommand:
#   --help          exit 0, a "Usage:" line on stdout, nothing on stderr;
#   a bogus option  exit 2, nothing on stdout, ONE line on stderr that ends
#                   with the hint (see 'utxo CMD... --help'), and that hint's
#                   command answers --help itself;
#   --opt=value     a value glued with '=' (accepted, and refused when bad);
#   --              ends the options (a file named like an option);
#   -               standard input / output where a file is read / written;
# and the exit statuses 0 ok / 1 invalid / 2 usage or I/O agree between
# `predicate run` and `segments prove`. Run by `make check`.
set -u
SRC="${top_srcdir:-.}"
. "$SRC/tests/lib.sh"

# the names listed under a header line "...commands:" or "benchmarks:" of $1
list_of() {
    awk '/^[a-z ]*commands:$|^benchmarks:$/ { on = 1; next }
         on && /^$/ { on = 0 }
         on && /^  [a-z][a-z0-9-]* / { print $1 }' "$1"
}

# check_cmd WORDS...: the --help and bogus-option checks of one command
check_cmd() {
    expect 0 "$* --help" -- "$UTXO" "$@" --help
    grep -q '^Usage: ' "$tmp/out" || bad "$* --help: no 'Usage:' line"
    [ -s "$tmp/err" ] && bad "$* --help wrote on stderr"
    cp "$tmp/out" "$tmp/help"
    expect 2 "$* --bogus-option" -- "$UTXO" "$@" --bogus-option
    [ -s "$tmp/out" ] && bad "$* --bogus-option wrote on stdout"
    [ "$(wc -l <"$tmp/err")" -eq 1 ] || bad "$* --bogus-option: not one line: $(cat "$tmp/err")"
    hint=$(sed -n "s/.*(see '\(utxo [a-z0-9 -]*\) --help')\$/\1/p" "$tmp/err")
    case "$hint" in
    "utxo $1"*) ok ;;
    *) bad "$* --bogus-option: no hint naming utxo $1: $(cat "$tmp/err")"; return ;;
    esac
    # shellcheck disable=SC2086 # the hint's words
    expect 0 "the hint of $*" -- "$UTXO" ${hint#utxo } --help
    grep -q '^Usage: ' "$tmp/out" || bad "the hint of $*: no 'Usage:' line"
}

expect 0 "utxo --help" -- "$UTXO" --help
cp "$tmp/out" "$tmp/top"
cmds=$(list_of "$tmp/top")
[ "$(echo "$cmds" | wc -w)" -ge 14 ] && ok || bad "utxo --help lists too few commands: $cmds"
expect 2 "utxo --bogus-option" -- "$UTXO" --bogus-option
[ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "(see 'utxo --help')" "$tmp/err" && ok \
    || bad "utxo --bogus-option: one line and a hint"
n=0
for c in $cmds; do
    check_cmd "$c"
    n=$((n + 1))
    subs=$(list_of "$tmp/help")
    for s in $subs; do
        check_cmd "$c" "$s"
        n=$((n + 1))
    done
done
# the nested commands the issue names are among those checked
for want in "predicate build" "predicate std" "predicate id" "predicate disasm" "predicate run" \
    "bench vm" "bench encode" "segments prove" "segments verify-one" "wallet sync" "tx check"; do
    sub=${want#* }
    list_of "$tmp/top" | grep -qx "${want%% *}" || bad "$want: command not listed"
    "$UTXO" ${want%% *} --help | list_of /dev/stdin | grep -qx "$sub" && ok || bad "$want: not listed"
done
[ "$n" -ge 40 ] && ok || bad "only $n commands and subcommands checked"

# --opt=value, a glued value refused, an option that takes no value
expect 0 "bench encode --iters=3" -- "$UTXO" bench encode --iters=3
grep -q '^bench encode .*iters=3 ' "$tmp/out" || bad "--iters=3 not applied"
expect 2 "--iters=x" -- "$UTXO" bench encode --iters=x
grep -q "iters wants" "$tmp/err" || bad "--iters=x: says what it wants"
expect 2 "--json=1" -- "$UTXO" tx check --json=1 "$SRC/tests/vectors/tx_simple.bin"
grep -q "takes no value" "$tmp/err" || bad "--json=1: says it takes no value"
expect 2 "a missing value" -- "$UTXO" verify --chain
grep -q "needs a value" "$tmp/err" || bad "a missing value is named"

# a bad value found after parsing is a usage error too: one line, the hint
tail -c +2 "$SRC/tests/fuzz/corpus/image/htlc_elf" >"$tmp/v.elf"
TXV="$SRC/tests/vectors/tx_simple.bin"
for c in "predicate run|$tmp/v.elf --tx $TXV --chain-id zz" \
    "segments prove|$tmp/v.elf --tx $TXV --chain-id zz -o $tmp/sx" \
    "segments prove|$tmp/v.elf --arg-hex zz -o $tmp/sx" \
    "follow|http://127.0.0.1:1 --state $tmp/st --chain-id zz"; do
    cmd=${c%%|*}
    # shellcheck disable=SC2086 # the command's words
    expect 2 "$cmd: a bad value" -- "$UTXO" $cmd ${c#*|}
    [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "^utxo: $cmd: .* (see 'utxo $cmd --help')\$" "$tmp/err" &&
        ok || bad "$cmd: a bad value: not one line with the hint: $(cat "$tmp/err")"
done

# a predicate image both ways: --opt value and --opt=value give the same run
tail -c +2 "$SRC/tests/fuzz/corpus/image/htlc_elf" >"$tmp/htlc.elf"
expect 0 "build -o FILE" -- "$UTXO" predicate build "$tmp/htlc.elf" -o "$tmp/a.img"
expect 0 "build --output=FILE" -- "$UTXO" predicate build "$tmp/htlc.elf" --output="$tmp/b.img"
cmp -s "$tmp/a.img" "$tmp/b.img" && ok || bad "--output=FILE wrote another image"
expect 1 "run --budget 50" -- "$UTXO" predicate run "$tmp/a.img" --budget 50
cp "$tmp/out" "$tmp/run1"
expect 1 "run --budget=50" -- "$UTXO" predicate run "$tmp/a.img" --budget=50
cmp -s "$tmp/out" "$tmp/run1" && ok || bad "--budget=50 differs from --budget 50"

# -: standard input and output
expect 0 "build - -o -" -- sh -c "\"$UTXO\" predicate build - -o - <\"$tmp/htlc.elf\" >\"$tmp/c.img\""
cmp -s "$tmp/a.img" "$tmp/c.img" && ok || bad "build - -o - wrote another image"
grep -Eq '^[0-9a-f]{64}$' "$tmp/err" && ok || bad "build -o -: the id goes to stderr"
expect 0 "id -" -- sh -c "\"$UTXO\" predicate id - <\"$tmp/a.img\""
expect 0 "id FILE" -- "$UTXO" predicate id "$tmp/a.img"
expect 0 "tx decode -" -- sh -c "\"$UTXO\" tx decode - <\"$SRC/tests/vectors/tx_simple.bin\""

# --: an operand that looks like an option
mkdir "$tmp/d"
abs=$(cd "$(dirname "$UTXO")" && pwd)/$(basename "$UTXO")
cp "$SRC/tests/vectors/tx_simple.bin" "$tmp/d/-tx.bin"
expect 2 "an operand like an option" -- sh -c "cd \"$tmp/d\" && exec \"$abs\" tx decode -tx.bin"
expect 0 "-- before it" -- sh -c "cd \"$tmp/d\" && exec \"$abs\" tx decode -- -tx.bin"
grep -q '"txid"' "$tmp/out" || bad "tx decode -- -tx.bin: no txid"
expect 0 "options after operands" -- "$UTXO" tx check "$SRC/tests/vectors/tx_simple.bin" --json
grep -q '"valid":true' "$tmp/out" || bad "tx check FILE --json: not JSON"

# exit statuses agree: an invalid image is invalid data (1) for both
head -c 100 /dev/urandom >"$tmp/junk.img"
expect 1 "predicate run of a junk image" -- "$UTXO" predicate run "$tmp/junk.img"
expect 1 "segments prove of a junk image" -- "$UTXO" segments prove "$tmp/junk.img" -o "$tmp/p"
expect 2 "predicate run of a missing image" -- "$UTXO" predicate run "$tmp/none.img"
expect 2 "segments prove of a missing image" -- "$UTXO" segments prove "$tmp/none.img" -o "$tmp/p"
expect 2 "std of an unknown template" -- "$UTXO" predicate std nosuch 00 -o "$tmp/x.img"
[ "$(wc -l <"$tmp/err")" -eq 1 ] && ok || bad "unknown template: one line"

echo "cli_help.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
