#!/bin/sh
# symbols_static.sh — the static archive has the same face as the shared
# library: every global symbol that libutxo.a defines starts with utxo_
# (internals are made local when the archive is built, see Makefile.am), so
# a program linking it statically cannot collide with vm_*, store_*...; the
# API's anchors are present. tests/symbols.sh checks libutxo.so.
set -u
lib="${top_builddir:-.}/.libs/libutxo.a"
if [ ! -f "$lib" ]; then
    echo "SKIP: $lib not built (--disable-static)"; exit 77
fi
if ! command -v nm >/dev/null 2>&1; then
    echo "SKIP: nm not installed"; exit 77
fi
# defined globals: "address TYPE name" with an upper-case TYPE (not U)
syms=$(nm -g --defined-only "$lib" | awk 'NF == 3 && $2 ~ /^[A-TV-Z]$/ {print $3}' | sort -u)
pass=0; fail=0
if [ -z "$syms" ]; then
    echo "FAIL: no global symbols read from $lib"; fail=$((fail + 1))
fi
bad=$(printf '%s\n' "$syms" | grep -v '^utxo_' | grep -v '^$' || true)
if [ -n "$bad" ]; then
    echo "FAIL: $(printf '%s\n' "$bad" | wc -l) global symbols without the utxo_ prefix, e.g.:"
    printf '%s\n' "$bad" | head -20 | sed 's/^/  /'
    fail=$((fail + 1))
else
    pass=$((pass + 1))
fi
for s in utxo_strerror utxo_version utxo_tx_from_bytes utxo_block_check utxo_keypair_derive utxo_address_decode utxo_builder_finalize utxo_wallet_open utxo_wallet_apply_block; do
    if printf '%s\n' "$syms" | grep -qx "$s"; then pass=$((pass + 1)); else echo "FAIL: $s not exported"; fail=$((fail + 1)); fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
