#!/bin/bash
# run.sh -- the libFuzzer targets of tests/fuzz, as the Makefile runs them.
#
#   run.sh cc-check CC                  CC can build libFuzzer targets
#   run.sh run FZ SECS TARGET...        fuzz each target SECS seconds on a copy
#                                       of its corpus (the committed corpus
#                                       never grows by accident)
#   run.sh regress FZ 0 TARGET...       run each target once over every input
#                                       of its committed corpus, no fuzzing
#   run.sh corpus FZ 0 TARGET...        regenerate the committed seeds
#                                       (NVFS_FUZZ_MKCORPUS, see fuzz.h)
#
# FZ is the build directory of the targets (build/fuzz).  run prints one line
# per target, "fuzz TARGET: N execs, N corpus units, N crashes; cov N,
# N exec/s", and on a crash the path of the input libFuzzer saved (under
# FZ/crashes); the exit status is non-zero if any target crashed.
# NVFS_FUZZ_JOBS=N runs N targets at a time (default 1).
set -u
here=$(cd "$(dirname "$0")" && pwd)
corpus_dir=$here/corpus

mode=${1:?usage: run.sh cc-check|run|regress|corpus ...}
shift

if [ "$mode" = cc-check ]; then
	cc=${1:-clang}
	msg="make fuzz needs clang with libFuzzer (Debian: clang libclang-rt-14-dev; 'make deps' installs them)"
	if ! command -v "$cc" >/dev/null 2>&1; then
		echo "fuzz: $cc not found: $msg" >&2
		exit 1
	fi
	t=$(mktemp -d)
	echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' >"$t/t.c"
	if ! "$cc" -fsanitize=fuzzer,address,undefined "$t/t.c" -o "$t/t" >"$t/log" 2>&1; then
		echo "fuzz: $cc cannot link a libFuzzer target: $msg" >&2
		sed 's/^/    /' "$t/log" | head -5 >&2
		rm -rf "$t"
		exit 1
	fi
	rm -rf "$t"
	exit 0
fi

fz=${1:?FZ}
secs=${2:?SECS}
shift 2
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

case "$mode" in
corpus)
	for t in "$@"; do
		# seeds are overwritten by name; crash-* inputs (found bugs) stay
		mkdir -p "$corpus_dir/$t"
		NVFS_FUZZ_MKCORPUS="$corpus_dir/$t" "$fz/$t" >/dev/null || exit 1
		echo "fuzz $t: $(ls "$corpus_dir/$t" | wc -l) seeds, $(du -sk "$corpus_dir/$t" | cut -f1) KiB"
	done
	exit 0 ;;
regress)
	fail=0
	for t in "$@"; do
		files=("$corpus_dir/$t"/*)
		if [ ! -e "${files[0]}" ]; then
			echo "fuzz $t: no corpus in $corpus_dir/$t" >&2
			fail=1
			continue
		fi
		log=$fz/regress-$t.$$.log
		start=$(date +%s%N)
		if "$fz/$t" -timeout=10 "${files[@]}" >"$log" 2>&1; then
			echo "fuzz $t: ${#files[@]} inputs, no crash ($((($(date +%s%N) - start) / 1000000)) ms)"
			rm -f "$log"
		else
			echo "fuzz $t: FAILED on its corpus; see $log:" >&2
			grep -E 'ERROR|invariant|Running|SUMMARY' "$log" | tail -5 | sed 's/^/    /' >&2
			fail=1
		fi
	done
	exit $fail ;;
run) ;;
*)
	echo "run.sh: unknown mode $mode" >&2
	exit 2 ;;
esac

# run: one target, in a directory of its own (make torture runs fuzz-run
# too, maybe at the same time: runs must not share their corpus copy)
fuzz_one() {
	local t=$1 dir
	mkdir -p "$fz/run" "$fz/crashes"
	dir=$(mktemp -d "$fz/run/$t.XXXXXX") || return 1
	mkdir -p "$dir/corpus"
	cp "$corpus_dir/$t"/* "$dir/corpus/" 2>/dev/null
	"$fz/$t" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$fz/crashes/$t-" "$dir/corpus" >"$dir/log" 2>&1
	local rc=$?
	# the replay target's mount point, left if it crashed (not one in use:
	# removing it would unmount it in that process's namespace)
	for d in "$fz"/replay-src-*; do
		[ -d "$d" ] && ! kill -0 "${d##*-}" 2>/dev/null && rmdir "$d" 2>/dev/null
	done
	local execs units cov rate crashes=0 art
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
	units=$(ls "$dir/corpus" | wc -l)
	cov=$(grep -oE 'cov: [0-9]+' "$dir/log" | tail -1 | cut -d' ' -f2)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -1)
	art=$(grep -oE "Test unit written to [^ ]+" "$dir/log" | tail -1 | cut -d' ' -f5)
	[ $rc -ne 0 ] && crashes=1
	echo "fuzz $t: ${execs:-0} execs, $units corpus units, $crashes crashes; cov ${cov:-?}, ${rate:-?} exec/s"
	if [ $rc -ne 0 ]; then
		echo "fuzz $t: CRASH (exit $rc): input saved at ${art:-(none: see $dir/log)}; log $dir/log" >&2
		grep -E 'ERROR|invariant|SUMMARY' "$dir/log" | head -5 | sed 's/^/    /' >&2
		return 1
	fi
	rm -rf "$dir/corpus" # the log stays, for the record
	return 0
}

jobs=${NVFS_FUZZ_JOBS:-1}
fail=0
pids=()
for t in "$@"; do
	fuzz_one "$t" &
	pids+=($!)
	if [ ${#pids[@]} -ge "$jobs" ]; then
		wait "${pids[0]}" || fail=1
		pids=("${pids[@]:1}")
	fi
done
for p in "${pids[@]}"; do
	wait "$p" || fail=1
done
exit $fail
