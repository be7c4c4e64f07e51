#!/bin/sh
# gen_work.sh SRCDIR OUT.img [UTXO] — rebuilds the continuation tests'
# predicate image (tests/segments/work.c) with clang-14 / ld.lld-14 and the
# SDK flags of src/predicates/local.mk. RV_CC / RV_LD override the tools.
set -e
src=$1; out=$2; utxo=${3:-./utxo}
cc=${RV_CC:-clang-14}; ld=${RV_LD:-ld.lld-14}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
flags="--target=riscv32 -march=rv32im -mabi=ilp32 -O2 -ffreestanding -nostdlib -fno-pic \
 -mno-relax -fno-common -fno-asynchronous-unwind-tables -fno-unwind-tables -Wall -Wextra \
 -I$src/include -I$src/src/predicates/sdk"
$cc $flags -c "$src/src/predicates/sdk/start.c" -o "$tmp/start.o"
$cc $flags -c "$src/tests/segments/work.c" -o "$tmp/work.o"
$ld -N --no-undefined -T "$src/src/predicates/sdk/predicate.ld" "$tmp/start.o" "$tmp/work.o" -o "$tmp/work.elf"
"$utxo" predicate build "$tmp/work.elf" -o "$out" >/dev/null
