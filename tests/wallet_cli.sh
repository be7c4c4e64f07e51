#!/bin/sh
# wallet_cli.sh — `utxo wallet` end to end: a wallet is created for the
# chain that tests/wallet_mkchain writes (its genesis pays the wallet's first
# address twice), synced from the block and proof files, pays an address
# with `send`; the chain is extended with that transaction and the wallet
# syncs it: the balance drops by exactly amount + fee; the wallet restored
# from its seed syncs the same balance from a full node's store (`utxo
# replay`, then `wallet sync --db`); a rollback undoes a block and a sync
# applies it again. A wrong passphrase
# is refused with the file unchanged; a mistyped address, a missing
# passphrase and files of another chain are refused; the chain files are
# also accepted by `utxo verify`. Run by `make check`.
set -u
MK="${top_builddir:-.}/tests/wallet_mkchain"
. "${top_srcdir:-.}/tests/lib.sh"

# json_num KEY: the number after "KEY": in $tmp/out
json_num() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" "$tmp/out"; }

W="$tmp/my.wallet"
UTXO_WALLET_PASSPHRASE="open sesame"
export UTXO_WALLET_PASSPHRASE

expect 0 "wallet --help" -- "$UTXO" wallet --help
grep -q "example" "$tmp/out" || bad "wallet --help has examples"
expect 2 "wallet without a subcommand" -- "$UTXO" wallet
expect 2 "wallet bad subcommand" -- "$UTXO" wallet frobnicate "$W"

# a chain of another wallet first, to learn the chain parameters' file
"$MK" "$tmp/c.blocks" "$tmp/c.proofs" 2 utxo1qzyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9j57fx ||
    { echo "wallet_mkchain failed" >&2; exit 1; }
SEED=0707070707070707070707070707070707070707070707070707070707070707
expect 2 "wallet new with a short seed" -- "$UTXO" wallet new "$W" --restore-hex 0707
expect 0 "wallet new" -- "$UTXO" wallet new "$W" --chain "$tmp/c.blocks" --restore-hex $SEED --json
addr=$(sed -n 's/.*"address":"\(utxo1[a-z0-9]*\)".*/\1/p' "$tmp/out")
[ ${#addr} -eq 64 ] || bad "address of 64 characters: '$addr'"
expect 2 "wallet new on an existing file" -- "$UTXO" wallet new "$W"
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
[ "$(json_num skipped)" = 4 ] || bad "4 skipped"
unset UTXO_WALLET_PASSPHRASE
expect 0 "balance is watch-only" -- "$UTXO" wallet balance "$W" --coins
grep -q "^balance 3500000 coins 2 next_height 4$" "$tmp/out" || bad "balance text"
[ "$(grep -c ' height=0 ' "$tmp/out")" -eq 2 ] || bad "two coins listed"

# paying: a second wallet's address; refusals first
UTXO_WALLET_PASSPHRASE="other words"
export UTXO_WALLET_PASSPHRASE
expect 0 "second wallet" -- "$UTXO" wallet new "$tmp/b.wallet" --chain "$tmp/c.blocks"
to=$(sed -n 's/^address //p' "$tmp/out")
unset UTXO_WALLET_PASSPHRASE
expect 2 "send without passphrase" -- "$UTXO" wallet send "$W" "$to" 300000 -o "$tmp/pay.tx"
cp "$W" "$tmp/copy.wallet"
printf 'not the passphrase\n' >"$tmp/wrong"
expect 2 "send with a wrong passphrase" -- "$UTXO" wallet send "$W" "$to" 300000 -o "$tmp/pay.tx" \
    --passphrase-file "$tmp/wrong"
grep -q "wrong passphrase" "$tmp/err" || bad "says wrong passphrase"
cmp -s "$W" "$tmp/copy.wallet" || bad "wrong passphrase left the file unchanged"
[ -e "$tmp/pay.tx" ] && bad "no transaction written"
printf 'open sesame\n' >"$tmp/right"
typo=$(printf '%s' "$to" | sed 's/.$/q/')
[ "$typo" = "$to" ] && typo=$(printf '%s' "$to" | sed 's/.$/p/')
expect 2 "send to a mistyped address" -- "$UTXO" wallet send "$W" "$typo" 300000 -o "$tmp/pay.tx" \
    --passphrase-file "$tmp/right"
grep -q "checksum" "$tmp/err" || bad "mistyped address: says checksum"
expect 1 "send more than the balance" -- "$UTXO" wallet send "$W" "$to" 3500000 -o "$tmp/pay.tx" \
    --passphrase-file "$tmp/right"
expect 1 "send dust" -- "$UTXO" wallet send "$W" "$to" 10 -o "$tmp/pay.tx" --passphrase-file "$tmp/right"
# a payment abandoned: its coin is reserved, then released
expect 0 "send (to abandon)" -- "$UTXO" wallet send "$W" "$to" 100000 -o "$tmp/drop.tx" \
    --passphrase-file "$tmp/right" --json
drop=$(sed -n 's/.*"txid":"\([0-9a-f]*\)".*/\1/p' "$tmp/out")
expect 0 "balance shows the reservation" -- "$UTXO" wallet balance "$W" --json
[ "$(json_num pending_coins)" = 1 ] || bad "one coin reserved"
expect 0 "abandon" -- "$UTXO" wallet abandon "$W" "$drop"
expect 1 "abandon twice" -- "$UTXO" wallet abandon "$W" "$drop"
expect 0 "balance after abandon" -- "$UTXO" wallet balance "$W" --json
[ "$(json_num pending_coins)" = 0 ] || bad "nothing reserved after abandon"
expect 0 "send" -- "$UTXO" wallet send "$W" "$to" 300000 -o "$tmp/pay.tx" --passphrase-file "$tmp/right" --json
fee=$(json_num fee)
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
expect 1 "rollback above the tip" -- "$UTXO" wallet rollback "$W" 7
expect 0 "sync after rollback" -- "$UTXO" wallet sync "$W" --chain "$tmp/c.blocks" --proofs "$tmp/c.proofs" --json
[ "$(json_num balance)" = $((3500000 - 300000 - fee)) ] || bad "balance again after re-sync"
expect 0 "history" -- "$UTXO" wallet history "$W"
[ "$(wc -l <"$tmp/out")" -eq 2 ] || bad "two history lines"
# coin selection takes the largest coin (2,500,000): the change comes back
grep -q "^4 [0-9a-f]\{64\} +$((2500000 - 300000 - fee)) -2500000$" "$tmp/out" ||
    bad "history of the payment: change in, the 2,500,000 coin out"

# the same wallet restored from its seed, synced from a full node's store
expect 0 "replay into a store" -- "$UTXO" replay "$tmp/c.blocks" --db "$tmp/node.db" --quiet
UTXO_WALLET_PASSPHRASE="restored"
export UTXO_WALLET_PASSPHRASE
# keys: the first address, the abandoned payment's change key, the payment's
expect 0 "restore" -- "$UTXO" wallet new "$tmp/r.wallet" --chain "$tmp/c.blocks" --restore-hex $SEED --keys 3
grep -q "^address $addr$" "$tmp/out" || bad "restored wallet has the same first address"
expect 0 "restored addresses" -- "$UTXO" wallet address "$tmp/r.wallet" --all
"$UTXO" wallet address "$W" --all >"$tmp/orig.addrs"
cmp -s "$tmp/out" "$tmp/orig.addrs" || bad "restored wallet derives the same addresses"
unset UTXO_WALLET_PASSPHRASE
expect 2 "sync with both sources" -- "$UTXO" wallet sync "$tmp/r.wallet" --db "$tmp/node.db" --chain "$tmp/c.blocks"
expect 0 "sync from the store" -- "$UTXO" wallet sync "$tmp/r.wallet" --db "$tmp/node.db" --json
[ "$(json_num applied)" = 5 ] || bad "5 blocks from the store"
[ "$(json_num balance)" = $((3500000 - 300000 - fee)) ] || bad "restored balance equals the original"

# files of another chain
"${top_builddir:-.}/tests/mkchain" "$tmp/o.blocks" "$tmp/o.proofs" 2 1 1 || { echo "mkchain failed" >&2; exit 1; }
expect 2 "sync another chain" -- "$UTXO" wallet sync "$W" --chain "$tmp/o.blocks" --proofs "$tmp/o.proofs"
expect 2 "missing wallet" -- "$UTXO" wallet balance "$tmp/none.wallet"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
