#!/bin/sh
# bench_cli.sh — `utxo bench` must not print a ratio it did not measure.
# bench vm side by side with a stand-in for qemu-riscv32 (a shell script
# answering for the fib workload): a start-up (n = 0) run that takes longer
# than the run, or prints a wrong checksum, fails the bench (exit 1, no
# qemu_ratio), as does a qemu that exits non-zero; no qemu says so on
# stderr. The in-process lines name their tier, as does bench segments'
# plain run. Nothing here is timed: the stand-in's slow runs spin a shell
# loop far longer than its fast ones.
set -u
. "${top_srcdir:-.}/tests/lib.sh"

fake="$tmp/qemu-riscv32"
cat >"$fake" <<'EOF'
#!/bin/sh
# qemu-riscv32 ELF WHICH N, for fib only (which 0): fib(34) = 0x5704e7.
spin() { i=0; while [ $i -lt 100000 ]; do i=$((i + 1)); done; }
# the CPUs it may run on, one line per run
[ -r /proc/self/status ] && [ -n "${FAKE_CPUS:-}" ] &&
    sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status >>"$FAKE_CPUS"
case "$3" in
0)
    [ "$FAKE_MODE" = slowstart ] && spin
    if [ "$FAKE_MODE" = badstart ]; then echo 0000002a; else echo 00000000; fi ;;
*)
    [ "$FAKE_MODE" = ok ] || [ "$FAKE_MODE" = exit1 ] && spin
    echo 005704e7
    [ "$FAKE_MODE" = exit1 ] && exit 1 ;;
esac
exit 0
EOF
chmod +x "$fake"
vmfib() { FAKE_MODE=$1 UTXO_QEMU_RISCV32=$fake "$UTXO" bench vm --workload fib --reps 1 --no-jit; }

FAKE_CPUS="$tmp/cpus"; export FAKE_CPUS
expect 0 "bench vm, qemu stand-in" -- vmfib ok
grep -q "^bench vm workload=fib tier=interp n=34 .* qemu_ratio=" "$tmp/out" || bad "bench vm: no qemu line"
# on Linux both sides run on one CPU, the same for every run
if [ "$(uname -s)" = Linux ] && [ -r /proc/self/status ]; then
    [ "$(sort -u "$tmp/cpus" | wc -l)" -eq 1 ] && grep -qx '[0-9]*' "$tmp/cpus" && ok ||
        bad "bench vm: the qemu runs were not on one CPU: $(sort -u "$tmp/cpus" | tr '\n' ' ')"
fi
unset FAKE_CPUS
expect 1 "bench vm, start-up longer than the run" -- vmfib slowstart
grep -q "qemu_ratio" "$tmp/out" && bad "bench vm printed a ratio of an untimeable run"
grep -q "cannot time it" "$tmp/err" || bad "bench vm: no reason for the untimeable run"
expect 1 "bench vm, wrong start-up checksum" -- vmfib badstart
grep -q "qemu_ratio" "$tmp/out" && bad "bench vm printed a ratio with a wrong start-up checksum"
grep -q "start-up (n=0) checksums differ" "$tmp/err" || bad "bench vm: no reason for the checksum"
expect 1 "bench vm, qemu exits 1 (an error)" -- vmfib exit1
grep -q "qemu_ratio" "$tmp/out" && bad "bench vm printed a ratio of a qemu that failed"
expect 1 "bench vm, qemu that cannot run" -- env UTXO_QEMU_RISCV32="$tmp/none" \
    "$UTXO" bench vm --workload fib --reps 1 --no-jit
expect 0 "bench vm, no qemu" -- env UTXO_QEMU_RISCV32=none "$UTXO" bench vm --workload fib --reps 1
grep -q "qemu_ratio" "$tmp/out" && bad "bench vm: qemu_ratio without qemu"
grep -q "no side-by-side lines, no qemu_ratio" "$tmp/err" || bad "bench vm: no qemu, not said"

# the in-process lines name the tier they ran on: the interpreter under
# --no-jit; the translating tier by default where there is one (x86-64,
# not configured --disable-jit, UTXO_VM_JIT not 0)
expect 0 "bench vm --no-jit" -- "$UTXO" bench vm --workload sieve --reps 1 --no-qemu --no-jit
grep -q "^bench vm workload=sieve n=6 .* tier=interp$" "$tmp/out" || bad "bench vm --no-jit: not tier=interp"
grep -q "^bench vm workload=sieve .* tier=jit" "$tmp/out" && bad "bench vm --no-jit: a jit line"
expect 0 "bench vm, default tier" -- "$UTXO" bench vm --workload sieve --reps 1 --no-qemu
tier=interp
case $(uname -m) in
x86_64 | amd64)
    grep -q "define VM_NO_JIT 1" "${top_builddir:-.}/config.h" 2>/dev/null || tier=jit ;;
esac
case ${UTXO_VM_JIT:-} in 0*) tier=interp ;; esac
grep -q "^bench vm workload=sieve n=6 .* tier=$tier$" "$tmp/out" || bad "bench vm: in-process line without tier=$tier"

# bench segments names the plain run's tier (the ratios' baseline), refuses
# a --rounds it would truncate, and says why a run failed (exit 1)
expect 0 "bench segments" -- "$UTXO" bench segments --rounds 0 --big-mib 0 --threads 1
grep -q "^bench segments cycles=.* prove_ratio=.* verify_ratio=[0-9.]* tier=$tier$" "$tmp/out" ||
    bad "bench segments: no tier=$tier"
expect 0 "bench segments, interpreter" -- env UTXO_VM_JIT=0 "$UTXO" bench segments --rounds 0 \
    --big-mib 0 --threads 1
grep -q "^bench segments cycles=.* tier=interp$" "$tmp/out" || bad "bench segments: not tier=interp"
expect 2 "bench segments --rounds 2^32" -- "$UTXO" bench segments --rounds 4294967296 --big-mib 0
head -c 64 /dev/zero >"$tmp/junk.img"
expect 1 "bench segments, a bad image" -- "$UTXO" bench segments --img "$tmp/junk.img" --big-mib 0
grep -q "bench segments: the plain run: " "$tmp/err" || bad "bench segments: a bad image, no reason"

echo "bench_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
