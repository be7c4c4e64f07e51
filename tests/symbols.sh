#!/bin/sh
# symbols.sh — the shared library exports only the public API: every
# defined dynamic symbol of libutxo.so starts with utxo_ (internals such as
# vm_*, hash_*, enc_* stay private), and the API's anchors are present.
set -u
lib="${top_builddir:-.}/.libs/libutxo.so"
if [ ! -f "$lib" ]; then
    echo "SKIP: $lib not built (--disable-shared)"; exit 77
fi
if ! command -v nm >/dev/null 2>&1; then
    echo "SKIP: nm not installed"; exit 77
fi
syms=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sed 's/@.*//' | sort -u)
bad=$(printf '%s\n' "$syms" | grep -v '^utxo_' | grep -v -E '^(_init|_fini|_edata|_end|__bss_start)$' || true)
pass=0; fail=0
if [ -n "$bad" ]; then
    echo "FAIL: exported symbols without the utxo_ prefix:"; printf '  %s\n' $bad
    fail=$((fail + 1))
else
    pass=$((pass + 1))
fi
for s in utxo_strerror utxo_version utxo_tx_from_bytes utxo_block_check utxo_keypair_derive utxo_address_decode utxo_builder_finalize utxo_wallet_open utxo_wallet_apply_block; do
    if printf '%s\n' "$syms" | grep -qx "$s"; then pass=$((pass + 1)); else echo "FAIL: $s not exported"; fail=$((fail + 1)); fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
