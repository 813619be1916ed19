#!/bin/bash
# fuzz.sh SECONDS -- make torture's fuzz phase: make fuzz-run (each libFuzzer
# target for SECONDS on a copy of its corpus; tests/fuzz/README.md) with the
# targets' own sanitizer options, then one SUMMARY line per target from its
# "fuzz TARGET: N execs, N corpus units, N crashes" line (cycles: executions).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
env -u ASAN_OPTIONS -u UBSAN_OPTIONS make -C "$root" --no-print-directory \
	fuzz-run FUZZ_SECS="${1:-60}" >"$out" 2>&1
rc=$?
cat "$out"
sed -n 's/^fuzz \([^:]*\): \([0-9]*\) execs.* \([0-9]*\) crash.*/SUMMARY kind=fuzz-\1 cycles=\2 replayed=0 failures=\3/p' "$out"
exit $rc
