# lib.sh — the preamble the command tests share; each sources it after its
# own header and `set -u`:  . "${top_srcdir:-.}/tests/lib.sh"
#
# It sets UTXO (the command under test), makes the temporary directory $tmp
# (removed on exit) and the counters pass and fail, and defines:
#   ok                                  count a passed check
#   bad MESSAGE                         count a failed check, say why on stderr
#   expect CODE DESCRIPTION -- CMD...   run CMD (stdout in $tmp/out, stderr
#                                       in $tmp/err) and check its exit code
#   flip FILE OFFSET                    flip bit 0 of the byte at OFFSET, in place
#   le32 N...                           N as little-endian 32-bit words in hex
#   reap PID [S]                        wait for background job PID to end, at
#                                       most S seconds (default 60), then
#                                       SIGKILL it; its exit status (137 when
#                                       killed): a process that ignores the
#                                       signal that should end it fails the
#                                       test instead of hanging CI
# A test ends by printing its "N passed, N failed" line and exiting with
# [ "$fail" -eq 0 ].
UTXO="${top_builddir:-.}/utxo"
# every server of the tests is on 127.0.0.1: a proxy the environment names
# (curl, python3 and utxo's libcurl all honour these) would get the requests
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY ALL_PROXY all_proxy
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

# expect CODE DESCRIPTION -- command...
expect() {
    want=$1; what=$2; shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" -eq "$want" ]; then ok; else bad "$what: exit $got, wanted $want"; cat "$tmp/err" >&2; fi
}

# flip FILE OFFSET: flip bit 0 of the byte at OFFSET of FILE, in place
flip() {
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    printf "\\$(printf %o $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# reap PID [S]: the exit status of background job PID, killed after S s
# (the SIGKILL only when the time is up: the shell may have reaped the job
# during a sleep, and its pid may be another process's by then)
reap() {
    _n=0
    while kill -0 "$1" 2>/dev/null; do
        if [ "$_n" -ge "$(( ${2:-60} * 10 ))" ]; then
            kill -KILL "$1" 2>/dev/null
            break
        fi
        sleep 0.1
        _n=$((_n + 1))
    done
    wait "$1"
}

# le32 N...: little-endian hex words
le32() {
    for w in "$@"; do
        h=$(printf '%08x' "$w")
        printf '%s%s%s%s' "$(echo "$h" | cut -c7-8)" "$(echo "$h" | cut -c5-6)" \
            "$(echo "$h" | cut -c3-4)" "$(echo "$h" | cut -c1-2)"
    done
}
