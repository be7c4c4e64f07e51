#!/bin/sh
# riscv_tests.sh — RISC-V conformance: the riscv-tests project's rv32ui and
# rv32um programs (tests/riscv-tests/README: 41 + 8, ma_data left out),
# built here with clang-14 and ld.lld-14 against this project's test
# environment, each run as a predicate by `utxo predicate run` with the
# interpreter alone (--no-jit) and with the translating tier translating
# from the first instruction (UTXO_VM_JIT=eager). Every program must be
# accepted (exit code 0: every case passed), with the same output, cycle
# count included, from both tiers. The negative control, selftest.S, fails
# its case 7 on purpose and must be rejected with exit code 15 by both.
# Skipped (77) without the toolchain. Run by `make check`.
set -u
. "${top_srcdir:-.}/tests/lib.sh"
cc=${RV_CC:-clang-14}
ld=${RV_LD:-ld.lld-14}
for t in "$cc" "$ld"; do
    command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t not found"; exit 77; }
done
rt="${top_srcdir:-.}/tests/riscv-tests"

# build NAME SOURCE: $tmp/NAME.elf
build() {
    "$cc" --target=riscv32 -march=rv32im -mabi=ilp32 -mno-relax -nostdlib \
        -I"$rt/env" -I"$rt/isa/macros/scalar" -c "$2" -o "$tmp/$1.o" 2>"$tmp/build.err" &&
        "$ld" -T "$rt/link.ld" -o "$tmp/$1.elf" "$tmp/$1.o" 2>>"$tmp/build.err"
}

# run NAME: $tmp/NAME.elf in both tiers; the interpreter's output in $r
run() {
    r=$(UTXO_VM_JIT=0 "$UTXO" predicate run "$tmp/$1.elf" --no-jit --budget 1000000 2>&1)
    rj=$(UTXO_VM_JIT=eager "$UTXO" predicate run "$tmp/$1.elf" --budget 1000000 2>&1)
    [ "$r" = "$rj" ] || bad "$1: the tiers differ: interpreter '$r', translating tier '$rj'"
}

n=0
for src in "$rt"/isa/rv32ui/*.S "$rt"/isa/rv32um/*.S; do
    name=$(basename "$(dirname "$src")")-$(basename "$src" .S)
    n=$((n + 1))
    if ! build "$name" "$src"; then
        bad "$name: does not build: $(head -3 "$tmp/build.err")"
        continue
    fi
    run "$name"
    case $r in
    "accepted exit=0 "*) ok ;;
    "rejected exit="*)
        code=${r#rejected exit=}; code=${code%% *}
        bad "$name: case $((code >> 1)) failed ($r)" ;;
    *) bad "$name: $r" ;;
    esac
done
# every program of the suite ran: none lost from the tree or the glob
[ "$n" -eq 49 ] && ok || bad "ran $n programs, the suite has 49"

# the negative control: a failing case is seen, and named
if build selftest "$rt/selftest.S"; then
    run selftest
    case $r in
    "rejected exit=15 "*) ok ;;
    *) bad "selftest: wanted a rejection with exit code 15 (case 7), got '$r'" ;;
    esac
else
    bad "selftest: does not build: $(head -3 "$tmp/build.err")"
fi

echo "riscv_tests: $pass passed, $fail failed ($n programs of riscv-tests, both tiers)"
[ "$fail" -eq 0 ]
