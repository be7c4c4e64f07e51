#!/bin/sh
# wallet_cli.sh — `utxo wallet` end to end: a wallet is created (mode 0600
# under any umask) for the chain that tests/wallet_mkchain writes (its
# genesis pays the wallet's first address twice), synced from the block and
# proof files, pays an address with `send`; the chain is extended with that
# transaction and the wallet syncs it: the balance drops by exactly amount +
# fee; the wallet restored from its seed (`seed --yes`, then `restore`: a
# gap-limit rescan, no key count to guess) reaches the same balance and
# addresses from a full node's store (`utxo replay`); a rollback undoes a
# block and a sync applies it again. A send whose transaction cannot be
# written (a path under /dev/null, standard output on /dev/full) reserves
# nothing; `pending` lists the unconfirmed sends and `abandon` releases
# them. The passphrase comes from the environment, --passphrase-fd,
# --passphrase-file or the terminal with echo off (driven through
# script(1)); without any of them (no terminal) it is refused. A wallet
# made before its chain is funded by `utxo genesis --alloc` and `bind`. A
# wrong passphrase is refused with the file unchanged; a mistyped address
# and files of another chain are refused; the chain files are also accepted
# by `utxo verify`. Run by `make check`.
set -u
MK="${top_builddir:-.}/tests/wallet_mkchain"
. "${top_srcdir:-.}/tests/lib.sh"

# json_num KEY: the number after "KEY": in $tmp/out
json_num() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" "$tmp/out"; }

W="$tmp/my.wallet"
UTXO_PASSPHRASE="open sesame"
export UTXO_PASSPHRASE
# no terminal for the commands below that must not ask on one
NOTTY="setsid -w"

expect 0 "wallet --help" -- "$UTXO" wallet --help
grep -q "example" "$tmp/out" || bad "wallet --help has examples"
expect 2 "wallet without a subcommand" -- "$UTXO" wallet
expect 2 "wallet bad subcommand" -- "$UTXO" wallet frobnicate "$W"

# a chain of another wallet first, to learn the chain parameters' file
"$MK" "$tmp/c.blocks" "$tmp/c.proofs" 2 utxo1qzyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9j57fx ||
    { echo "wallet_mkchain failed" >&2; exit 1; }
expect 2 "a seed on the command line is refused" -- "$UTXO" wallet new "$W" --restore-hex 0707
grep -q "restore-hex is gone" "$tmp/err" || bad "says why --restore-hex is refused"
[ -e "$W" ] && bad "no wallet made with --restore-hex"
expect 2 "unknown option: one line and a hint" -- "$UTXO" wallet balance "$W" --frob
[ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "see 'utxo wallet --help'" "$tmp/err" || bad "one-line usage error"
expect 0 "wallet new" -- sh -c "umask 000; exec \"\$0\" wallet new \"$W\" --chain \"$tmp/c.blocks\" --json" "$UTXO"
addr=$(sed -n 's/.*"address":"\(utxo1[a-z0-9]*\)".*/\1/p' "$tmp/out")
[ ${#addr} -eq 64 ] || bad "address of 64 characters: '$addr'"
[ "$(stat -c %a "$W")" = 600 ] || bad "wallet file mode 0600 under umask 000: $(stat -c %a "$W")"
expect 2 "wallet new on an existing file" -- "$UTXO" wallet new "$W"
# an option of another subcommand is refused, not ignored (help lists each
# subcommand's own)
expect 2 "balance --chain" -- "$UTXO" wallet balance "$W" --chain "$tmp/c.blocks"
grep -q "balance: --chain is not an option of balance (see 'utxo wallet --help')" "$tmp/err" ||
    bad "balance --chain: says which option: $(cat "$tmp/err")"
expect 2 "new --gap" -- "$UTXO" wallet new "$tmp/other.wallet" --gap 5
[ -e "$tmp/other.wallet" ] && bad "new --gap made a wallet" || ok
expect 2 "send --db" -- "$UTXO" wallet send "$W" "$addr" 1 -o "$tmp/x.tx" --db "$tmp/none.db"
[ -e "$tmp/x.tx" ] && bad "send --db wrote a transaction" || ok
expect 2 "seed without --yes and no terminal" -- $NOTTY "$UTXO" wallet seed "$W"
grep -q -- "--yes" "$tmp/err" || bad "seed: says to add --yes"
expect 0 "seed --yes" -- "$UTXO" wallet seed "$W" --yes
SEED=$(cat "$tmp/out")
printf '%s' "$SEED" | grep -q '^[0-9a-f]\{64\}$' || bad "seed: 64 hex digits: '$SEED'"
printf '%s\n' "$SEED" >"$tmp/seed.txt"
expect 0 "wallet address" -- "$UTXO" wallet address "$W"
[ "$(cat "$tmp/out")" = "$addr" ] || bad "address is the first one"

# the chain paying our address: genesis 1,000,000 + 2,500,000, then 3 blocks
"$MK" "$tmp/c.blocks" "$tmp/c.proofs" 3 "$addr" || { echo "wallet_mkchain failed" >&2; exit 1; }
expect 0 "verify the chain" -- "$UTXO" verify --chain "$tmp/c.blocks" --proofs "$tmp/c.proofs" --quiet
expect 0 "balance before sync" -- "$UTXO" wallet balance "$W" --json
[ "$(json_num balance)" = 0 ] || bad "balance 0 before sync"
expect 0 "sync" -- "$UTXO" wallet sync "$W" --chain "$tmp/c.blocks" --proofs "$tmp/c.proofs" --json
[ "$(json_num applied)" = 4 ] || bad "4 blocks applied"
[ "$(json_num balance)" = 3500000 ] || bad "balance 3500000 after sync"
[ "$(json_num next_height)" = 4 ] || bad "next height 4"
expect 0 "sync again: nothing new" -- "$UTXO" wallet sync "$W" --chain "$tmp/c.blocks" --proofs "$tmp/c.proofs" --json
[ "$(json_num applied)" = 0 ] || bad "nothing applied twice"
[ "$(json_num passed)" = 4 ] || bad "4 passed over"
unset UTXO_PASSPHRASE
expect 0 "balance is watch-only" -- "$UTXO" wallet balance "$W" --coins
grep -q "^balance 3500000 coins 2 next_height 4$" "$tmp/out" || bad "balance text"
[ "$(grep -c ' height=0 ' "$tmp/out")" -eq 2 ] || bad "two coins listed"
grep -q " 1000000 height=0 .* datum=2 bytes$" "$tmp/out" || bad "the coin with a datum says so"
expect 0 "coins as JSON" -- "$UTXO" wallet balance "$W" --coins --json
grep -q '"value":1000000,[^}]*"datum":"6869"' "$tmp/out" || bad "JSON coin list carries the datum"

# paying: a second wallet's address; refusals first
# the older variable name still works
UTXO_WALLET_PASSPHRASE="other words"
export UTXO_WALLET_PASSPHRASE
expect 0 "second wallet" -- sh -c "umask 022; exec \"\$0\" wallet new \"$tmp/b.wallet\" --chain \"$tmp/c.blocks\"" "$UTXO"
to=$(sed -n 's/^address //p' "$tmp/out")
[ "$(stat -c %a "$tmp/b.wallet")" = 600 ] || bad "wallet file mode 0600 under umask 022"
unset UTXO_WALLET_PASSPHRASE
expect 2 "send without passphrase (no terminal)" -- $NOTTY "$UTXO" wallet send "$W" "$to" 300000 -o "$tmp/pay.tx"
grep -q "passphrase-fd" "$tmp/err" || bad "says where a passphrase can come from"
cp "$W" "$tmp/copy.wallet"
printf 'not the passphrase\n' >"$tmp/wrong"
expect 2 "send with a wrong passphrase" -- "$UTXO" wallet send "$W" "$to" 300000 -o "$tmp/pay.tx" \
    --passphrase-file "$tmp/wrong"
grep -q "wrong passphrase" "$tmp/err" || bad "says wrong passphrase"
cmp -s "$W" "$tmp/copy.wallet" || bad "wrong passphrase left the file unchanged"
[ -e "$tmp/pay.tx" ] && bad "no transaction written"
printf 'open sesame\n' >"$tmp/right"
# a NUL byte ends no passphrase: what followed it was ignored, so any
# line 'open sesame' NUL ... opened the wallet
printf 'open sesame\000and more\n' >"$tmp/nul"
expect 2 "send with a NUL byte in the passphrase" -- "$UTXO" wallet send "$W" "$to" 300000 -o "$tmp/pay.tx" \
    --passphrase-file "$tmp/nul"
grep -q "a NUL byte" "$tmp/err" || bad "NUL in a passphrase: $(cat "$tmp/err")"
[ -e "$tmp/pay.tx" ] && bad "no transaction written"
typo=$(printf '%s' "$to" | sed 's/.$/q/')
[ "$typo" = "$to" ] && typo=$(printf '%s' "$to" | sed 's/.$/p/')
expect 2 "send to a mistyped address" -- "$UTXO" wallet send "$W" "$typo" 300000 -o "$tmp/pay.tx" \
    --passphrase-file "$tmp/right"
grep -q "checksum" "$tmp/err" || bad "mistyped address: says checksum"
expect 1 "send more than the balance" -- "$UTXO" wallet send "$W" "$to" 3500000 -o "$tmp/pay.tx" \
    --passphrase-file "$tmp/right"
expect 1 "send dust" -- "$UTXO" wallet send "$W" "$to" 10 -o "$tmp/pay.tx" --passphrase-file "$tmp/right"
# a transaction that cannot be written reserves nothing: a path under a
# non-directory (permission bits do not stop root), standard output on a
# full device
expect 2 "send to an unwritable path" -- "$UTXO" wallet send "$W" "$to" 100000 -o /dev/null/x.tx \
    --passphrase-file "$tmp/right"
grep -q "no coin was reserved" "$tmp/err" || bad "unwritable: says nothing was reserved"
grep -q "^txid" "$tmp/out" && bad "unwritable: no txid shown"
expect 0 "nothing pending after the failed write" -- "$UTXO" wallet pending "$W"
[ -s "$tmp/out" ] && bad "pending is empty after the failed write"
expect 0 "balance after the failed write" -- "$UTXO" wallet balance "$W" --json
[ "$(json_num pending_coins)" = 0 ] || bad "no coin reserved after the failed write"
if [ -w /dev/full ]; then
    expect 2 "send -o - to a full device" -- sh -c "exec \"\$0\" wallet send \"$W\" $to 100000 -o - \
        --passphrase-file \"$tmp/right\" >/dev/full" "$UTXO"
    expect 0 "nothing pending after the full device" -- "$UTXO" wallet pending "$W"
    [ -s "$tmp/out" ] && bad "pending is empty after the full device"
else
    bad "/dev/full is missing: cannot test a failing standard output"
fi
# a payment to standard output (the txid on stderr), then abandoned: its
# coin is reserved, listed by pending, then released
expect 0 "send -o - (to abandon)" -- "$UTXO" wallet send "$W" "$to" 100000 -o - \
    --passphrase-fd 3 3<"$tmp/right"
cp "$tmp/out" "$tmp/drop.tx"
drop=$(sed -n 's/^txid \([0-9a-f]*\)$/\1/p' "$tmp/err")
[ ${#drop} -eq 64 ] || bad "send -o -: txid on standard error"
expect 0 "the transaction from standard output decodes" -- "$UTXO" tx decode "$tmp/drop.tx"
expect 0 "balance shows the reservation" -- "$UTXO" wallet balance "$W" --json
[ "$(json_num pending_coins)" = 1 ] || bad "one coin reserved"
expect 0 "pending lists the send" -- "$UTXO" wallet pending "$W"
grep -q "^$drop coins 1 value [0-9]*$" "$tmp/out" || bad "pending: txid, coins, value"
[ "$(wc -l <"$tmp/out")" -eq 1 ] || bad "pending: one payment"
expect 2 "--passphrase-fd of a closed descriptor" -- "$UTXO" wallet send "$W" "$to" 100000 -o - \
    --passphrase-fd 9
expect 0 "abandon" -- "$UTXO" wallet abandon "$W" "$drop"
expect 1 "abandon twice" -- "$UTXO" wallet abandon "$W" "$drop"
expect 0 "balance after abandon" -- "$UTXO" wallet balance "$W" --json
[ "$(json_num pending_coins)" = 0 ] || bad "nothing reserved after abandon"
expect 0 "pending after abandon" -- "$UTXO" wallet pending "$W" --json
[ "$(cat "$tmp/out")" = "[]" ] || bad "pending --json is [] after abandon"
expect 0 "send" -- "$UTXO" wallet send "$W" "$to" 300000 -o "$tmp/pay.tx" --passphrase-file "$tmp/right" --json
fee=$(json_num fee)
cp "$W" "$tmp/net.wallet" # with the change key: synced over HTTP at the end
[ -n "$fee" ] && [ "$fee" -gt 0 ] || bad "fee printed"
[ -s "$tmp/pay.tx" ] || bad "transaction written"
expect 0 "tx decode" -- "$UTXO" tx decode "$tmp/pay.tx"

# the chain with the payment in block 4: both wallets see it
"$MK" "$tmp/c.blocks" "$tmp/c.proofs" 3 "$addr" "$tmp/pay.tx" || { echo "wallet_mkchain failed" >&2; exit 1; }
expect 0 "verify the extended chain" -- "$UTXO" verify --chain "$tmp/c.blocks" --proofs "$tmp/c.proofs" --quiet
expect 0 "sync the payment" -- "$UTXO" wallet sync "$W" --chain "$tmp/c.blocks" --proofs "$tmp/c.proofs" --json
[ "$(json_num applied)" = 1 ] || bad "one block applied"
[ "$(json_num balance)" = $((3500000 - 300000 - fee)) ] || bad "balance = 3500000 - 300000 - fee"
expect 0 "receiver syncs" -- "$UTXO" wallet sync "$tmp/b.wallet" --chain "$tmp/c.blocks" --proofs "$tmp/c.proofs" --json
[ "$(json_num balance)" = 300000 ] || bad "receiver balance 300000"
# a replaced chain: undo block 4, then sync it again
expect 0 "rollback" -- "$UTXO" wallet rollback "$W" 3
grep -q "^next height 4, balance 3500000$" "$tmp/out" || bad "rollback to height 3"
# the payment's coin is back reserved for it (the rollback dropped the
# reservation before, and the next send spent the coin again)
expect 0 "balance after rollback" -- "$UTXO" wallet balance "$W" --json
[ "$(json_num pending_coins)" = 1 ] || bad "the payment's coin reserved again: $(cat "$tmp/out")"
"$UTXO" tx decode "$tmp/pay.tx" >"$tmp/pay.json"
payid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["txid"])' "$tmp/pay.json")
expect 0 "pending after rollback" -- "$UTXO" wallet pending "$W"
grep -q "$payid" "$tmp/out" || bad "pending names the payment $payid: $(cat "$tmp/out")"
cp "$W" "$tmp/again.wallet" # (a send derives a change key: not in the wallet restored below)
expect 0 "a second send after rollback" -- "$UTXO" wallet send "$tmp/again.wallet" "$to" 300000 \
    -o "$tmp/pay2.tx" --passphrase-file "$tmp/right"
"$UTXO" tx decode "$tmp/pay2.tx" >"$tmp/pay2.json"
python3 - "$tmp/pay.json" "$tmp/pay2.json" <<'PY' || bad "the second send spends the reserved coin again"
import json, sys
ins = [{(i["txid"], i["index"]) for i in json.load(open(f))["inputs"]} for f in sys.argv[1:]]
sys.exit(1 if ins[0] & ins[1] else 0)
PY
expect 1 "rollback above the tip" -- "$UTXO" wallet rollback "$W" 7
expect 0 "sync after rollback" -- "$UTXO" wallet sync "$W" --chain "$tmp/c.blocks" --proofs "$tmp/c.proofs" --json
[ "$(json_num balance)" = $((3500000 - 300000 - fee)) ] || bad "balance again after re-sync"
expect 0 "history" -- "$UTXO" wallet history "$W"
[ "$(wc -l <"$tmp/out")" -eq 2 ] || bad "two history lines"
# coin selection takes the largest coin (2,500,000): the change comes back
grep -q "^4 [0-9a-f]\{64\} +$((2500000 - 300000 - fee)) -2500000$" "$tmp/out" ||
    bad "history of the payment: change in, the 2,500,000 coin out"

# the same wallet restored from its seed by a gap-limit rescan of a full
# node's store: no key count to guess. Its keys: the first address, the
# failed and abandoned sends' change keys (never paid), the payment's
# change key (paid): the rescan keeps every key up to the last paid one.
expect 0 "replay into a store" -- "$UTXO" replay "$tmp/c.blocks" --db "$tmp/node.db" --quiet
UTXO_PASSPHRASE="restored"
export UTXO_PASSPHRASE
expect 2 "restore without a seed (no terminal)" -- $NOTTY "$UTXO" wallet restore "$tmp/r.wallet" \
    --chain "$tmp/c.blocks" --db "$tmp/node.db"
expect 2 "restore without a block source" -- "$UTXO" wallet restore "$tmp/r.wallet" \
    --chain "$tmp/c.blocks" --seed-file "$tmp/seed.txt"
printf '%s\n' "$SEED" | sed 's/.$//' >"$tmp/short.txt"
expect 2 "restore from a short seed" -- "$UTXO" wallet restore "$tmp/r.wallet" \
    --chain "$tmp/c.blocks" --db "$tmp/node.db" --seed-file "$tmp/short.txt"
[ -e "$tmp/r.wallet" ] && bad "no wallet left by a refused restore"
expect 0 "restore" -- "$UTXO" wallet restore "$tmp/r.wallet" --chain "$tmp/c.blocks" --db "$tmp/node.db" \
    --seed-fd 4 4<"$tmp/seed.txt"
grep -q "first address $addr$" "$tmp/out" || bad "restored wallet has the same first address"
expect 0 "restored balance" -- "$UTXO" wallet balance "$tmp/r.wallet" --json
[ "$(json_num balance)" = $((3500000 - 300000 - fee)) ] || bad "restored balance equals the original"
[ "$(json_num next_height)" = 5 ] || bad "restored wallet synced 5 blocks"
expect 0 "restored addresses" -- "$UTXO" wallet address "$tmp/r.wallet" --all
"$UTXO" wallet address "$W" --all >"$tmp/orig.addrs"
cmp -s "$tmp/out" "$tmp/orig.addrs" || bad "restored wallet derives the same addresses, no more"
unset UTXO_PASSPHRASE
expect 2 "sync with both sources" -- "$UTXO" wallet sync "$tmp/r.wallet" --db "$tmp/node.db" --chain "$tmp/c.blocks"
expect 0 "sync from the store: nothing new" -- "$UTXO" wallet sync "$tmp/r.wallet" --db "$tmp/node.db" --json
[ "$(json_num applied)" = 0 ] || bad "nothing new from the store"

# the passphrase typed on a terminal (script(1) gives one): echo off, asked
# twice for a new wallet, and it is the wallet's passphrase afterwards
mkfifo "$tmp/tty.in"
# wait_for TEXT: until the terminal output shows TEXT (at most 20 s)
wait_for() {
    i=0
    while ! grep -q "$1" "$tmp/tty.out" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
}
script -qec "\"$UTXO\" wallet new \"$tmp/t.wallet\" --chain \"$tmp/c.blocks\"" /dev/null \
    <"$tmp/tty.in" >"$tmp/tty.out" 2>&1 &
spid=$!
exec 3>"$tmp/tty.in"
wait_for "passphrase for the new wallet"
printf 'typed words\n' >&3
wait_for "passphrase again"
printf 'typed words\n' >&3
exec 3>&-
reap "$spid" 60 "script(1) running wallet new on a terminal" && ok || bad "wallet new on a terminal"
grep -q "^address utxo1" "$tmp/tty.out" || bad "terminal: wallet created"
grep -q "typed words" "$tmp/tty.out" && bad "terminal: the passphrase was echoed"
printf 'typed words\n' >"$tmp/typed"
expect 0 "the typed passphrase unlocks" -- "$UTXO" wallet address "$tmp/t.wallet" --new --passphrase-file "$tmp/typed"
# a binary transaction is not written onto a terminal
script -qec "\"$UTXO\" wallet send \"$W\" $to 1000 -o - --passphrase-file \"$tmp/right\"; echo exit=\$?" \
    /dev/null </dev/null >"$tmp/tty.out" 2>&1
grep -q "standard output is a terminal" "$tmp/tty.out" && grep -q "exit=2" "$tmp/tty.out" ||
    bad "send -o - onto a terminal is refused: $(cat "$tmp/tty.out")"

# a wallet made before its chain: `utxo genesis` pays its address, `bind`
# moves it to that chain, and the sync finds the allocation
UTXO_PASSPHRASE="early"
export UTXO_PASSPHRASE
expect 0 "wallet before its chain" -- "$UTXO" wallet new "$tmp/g.wallet"
gaddr=$(sed -n 's/^address //p' "$tmp/out")
expect 0 "genesis paying the wallet" -- "$UTXO" genesis -o "$tmp/g" --alloc "$gaddr:5000000"
expect 2 "sync before bind: another chain" -- "$UTXO" wallet sync "$tmp/g.wallet" \
    --chain "$tmp/g/blocks" --proofs "$tmp/g/proofs"
expect 0 "bind" -- "$UTXO" wallet bind "$tmp/g.wallet" --chain "$tmp/g/blocks"
expect 0 "sync the genesis" -- "$UTXO" wallet sync "$tmp/g.wallet" --chain "$tmp/g/blocks" \
    --proofs "$tmp/g/proofs" --json
[ "$(json_num balance)" = 5000000 ] || bad "the genesis allocation is the wallet's"
expect 2 "bind after a sync" -- "$UTXO" wallet bind "$tmp/g.wallet" --chain "$tmp/c.blocks"
# several recipients in one payment
expect 0 "send to two recipients" -- "$UTXO" wallet send "$tmp/g.wallet" "$to" 100000 "$addr" 200000 \
    -o "$tmp/two.tx" --json
[ "$(json_num amount)" = 300000 ] || bad "two recipients: amount 300000"
[ "$(json_num outputs)" = 3 ] || bad "two recipients and change: 3 outputs"
expect 2 "send with an odd recipient list" -- "$UTXO" wallet send "$tmp/g.wallet" "$to" 100000 "$addr" \
    -o "$tmp/odd.tx"
unset UTXO_PASSPHRASE

# the same wallet synced from a node over HTTP (utxo node on 127.0.0.1, a
# free port, stopped below) ends where the file sync ended
UTXO_PASSPHRASE="open sesame"
export UTXO_PASSPHRASE
mkdir "$tmp/nd"
cp "$tmp/c.blocks" "$tmp/nd/blocks"
"$UTXO" node --datadir "$tmp/nd" --listen 127.0.0.1:0 -q >"$tmp/nd.out" 2>"$tmp/nd.err" &
npid=$!
n=0
while ! grep -q "^listening on " "$tmp/nd.out" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
url=$(sed -n 's/^listening on //p' "$tmp/nd.out")
expect 0 "rollback to the genesis" -- "$UTXO" wallet rollback "$tmp/net.wallet" 0
expect 0 "sync --node" -- "$UTXO" wallet sync "$tmp/net.wallet" --node "$url" --json
[ "$(json_num applied)" = 4 ] || bad "sync --node: 4 blocks applied: $(cat "$tmp/out")"
[ "$(json_num balance)" = $((3500000 - 300000 - fee)) ] || bad "sync --node: the file sync's balance"
expect 0 "sync --node again" -- "$UTXO" wallet sync "$tmp/net.wallet" --node "$url" --json
[ "$(json_num applied)" = 0 ] || bad "sync --node again: nothing new"
expect 1 "sync --node: a wallet of another chain" -- "$UTXO" wallet sync "$tmp/g.wallet" --node "$url"
grep -q "serves another chain than the wallet's" "$tmp/err" || bad "another chain: $(cat "$tmp/err")"
expect 2 "sync --node and --db" -- "$UTXO" wallet sync "$tmp/net.wallet" --node "$url" --db "$tmp/x.db"
kill -TERM "$npid"
reap "$npid" 60 "the node after SIGTERM" || bad "the node stopped cleanly"
expect 2 "sync --node: no node" -- "$UTXO" wallet sync "$tmp/net.wallet" --node "$url"
unset UTXO_PASSPHRASE

# files of another chain
"${top_builddir:-.}/tests/mkchain" "$tmp/o.blocks" "$tmp/o.proofs" 2 1 1 || { echo "mkchain failed" >&2; exit 1; }
expect 2 "sync another chain" -- "$UTXO" wallet sync "$W" --chain "$tmp/o.blocks" --proofs "$tmp/o.proofs"
expect 2 "missing wallet" -- "$UTXO" wallet balance "$tmp/none.wallet"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
