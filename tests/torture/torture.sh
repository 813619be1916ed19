#!/bin/bash
# torture.sh BUILD_DIR -- make torture: crash, power-loss, backing-fault,
# pmem-exhaustion, corruption, load and fuzz runs against nvfs, with the
# daemon built under ASan+UBSan, and one table at the end.
#
# Phases (each a script that prints "SUMMARY kind=K cycles=N replayed=N
# failures=N" lines, gathered here; docs/DURABILITY.md says which sentence
# of the durability contract each one checks):
#   crash    tests/it/t80-crash.sh: SIGKILL of the daemon (SOURCE kept,
#            wiped, damaged; during replay; during a checkpoint), power loss
#            of the pmem (only drained ranges; SOURCE at the last checkpoint;
#            some unflushed stores kept), pmem exhaustion; durability=op and
#            durability=fsync
#   backing  tests/torture/faults.sh: SOURCE full, read-only, failing
#            writes or syncfs, changed behind nvfs's back
#   corrupt  tests/torture/corrupt.sh: bytes flipped in every on-pmem
#            structure of a crashed image; fsck and mount must notice
#   load     tests/torture/load.sh: 8 workers, peak RSS, descriptor leaks
#   fuzz     tests/torture/fuzz.sh: make fuzz-run, the libFuzzer targets
#            (tests/fuzz/README.md)
#
# Environment (defaults in brackets; TORTURE_QUICK=1 divides the cycle
# counts by 10 and runs each fuzz target 10 s):
#   TORTURE_CRASH_OP [360]  TORTURE_CRASH_FSYNC [180]  crash cycles per mode,
#                           spread over the 9 variants in turn
#   TORTURE_BACKING [40]    cycles per backing fault
#   TORTURE_CORRUPT [300]   corruption cycles, over all structures
#   TORTURE_LOAD_SECS [60]  seconds of load per durability mode
#   TORTURE_FUZZ_SECS [60]  seconds per fuzz target
#   TORTURE_PHASES ["crash backing corrupt load fuzz"]
#   TORTURE_SEED            the crash phase's first seed (default random;
#                           every phase prints its seeds and how to repeat
#                           a failure)
#   TORTURE_SAN [1]         0: the plain daemon instead of the sanitized one
#   TORTURE_JOBS [3]        phases run at once (the crash and backing runs
#                           mostly wait: kills, checkpoints; 1: one by one)
# Output: each phase's log under $TORTURE_LOG (default /tmp/nvfs-torture.PID,
# kept), its failures shown, then the table.  Exit 1 if any cycle failed or
# any phase did not report.
set -u
if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
B=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
quick=${TORTURE_QUICK:-0}
q() { if [ "$quick" = 1 ]; then echo $(((${1} + 9) / 10)); else echo "$1"; fi; }
crash_op=${TORTURE_CRASH_OP:-$(q 360)}
crash_fsync=${TORTURE_CRASH_FSYNC:-$(q 180)}
backing=${TORTURE_BACKING:-$(q 40)}
corrupt=${TORTURE_CORRUPT:-$(q 300)}
load_secs=${TORTURE_LOAD_SECS:-$([ "$quick" = 1 ] && echo 10 || echo 60)}
fuzz_secs=${TORTURE_FUZZ_SECS:-$([ "$quick" = 1 ] && echo 10 || echo 60)}
phases=${TORTURE_PHASES:-crash backing corrupt load fuzz}
log=${TORTURE_LOG:-/tmp/nvfs-torture.$$}
mkdir -p "$log" || exit 1

# the sanitized daemon: each phase's reports go to files in $log/san-PHASE,
# and any file there fails the cycle that made it (t80's NVFS_SAN_LOG_DIR,
# the same check in the other phases), or the phase if no cycle claimed it
if [ "${TORTURE_SAN:-1}" = 1 ]; then
	if [ ! -x "$B/san/mount.nvfs" ]; then
		echo "torture: $B/san/mount.nvfs is missing: make san-tools" >&2
		exit 2
	fi
	export NVFS_IT_MOUNT=$B/san/mount.nvfs
	daemon="$B/san/mount.nvfs (ASan+UBSan; reports in $log/san-PHASE)"
else
	daemon="$B/mount.nvfs (not sanitized: TORTURE_SAN=0)"
fi
echo "torture: daemon $daemon; logs in $log"

declare -a rows=() order=() bg=()
# running: how many of the phases started are still running
running() {
	local p n=0
	for p in "${bg[@]}"; do kill -0 "$p" 2>/dev/null && n=$((n + 1)); done
	echo "$n"
}
bad=0
jobs=${TORTURE_JOBS:-3}
# phase NAME LIMIT CMD...: start it in the background (at most $jobs at a
# time), for at most LIMIT seconds, its output in $log/NAME.log, its
# sanitizer reports in $log/san-NAME (so that a report is its own)
phase() {
	local name=$1 limit=$2
	shift 2
	while [ "$(running)" -ge "$jobs" ]; do sleep 1; done
	echo "== $name: $* (log $log/$name.log; at most $limit s)"
	order+=("$name")
	(
		mkdir -p "$log/san-$name"
		if [ "${TORTURE_SAN:-1}" = 1 ]; then
			export NVFS_SAN_LOG_DIR=$log/san-$name
			export ASAN_OPTIONS="detect_leaks=1:log_path=$log/san-$name/asan"
			export UBSAN_OPTIONS="print_stacktrace=1:log_path=$log/san-$name/ubsan"
		fi
		t0=$SECONDS
		timeout -k 30 "$limit" "$@" >"$log/$name.log" 2>&1
		rc=$?
		[ "$rc" = 124 ] && echo "FAIL $name: still running after $limit s" >>"$log/$name.log"
		echo "$rc $((SECONDS - t0))" >"$log/$name.rc"
	) &
	bg+=($!)
}
# report NAME: show its failures, take its SUMMARY lines; a phase that
# fails without a failed cycle to show for it, or that reports nothing, or
# a kind with no cycle, or a sanitizer report nobody claimed, is a failure
report() {
	local name=$1 rc secs n
	read -r rc secs <"$log/$name.rc" || { rc=missing secs=?; }
	echo "== $name ($secs s, exit $rc)"
	# failures, each with the indented lines after it (its details)
	awk '/^FAIL/ { on = 1; print; next } on && /^       / { print; next } { on = 0 }' \
		"$log/$name.log" | head -200
	n=$(grep -c '^SUMMARY ' "$log/$name.log")
	while read -r _ k c r f; do
		f=${f#failures=}
		if [ "${c#cycles=}" = 0 ]; then
			echo "   ${k#kind=}: no cycle ran: a failure"
			f=$((f + 1))
		fi
		rows+=("${k#kind=} ${c#cycles=} ${r#replayed=} $f")
		[ "$f" = 0 ] || bad=1
	done < <(grep '^SUMMARY ' "$log/$name.log")
	grep -E '^(summary|runtime|seed|fuzz )' "$log/$name.log" | sed 's/^/   /'
	if [ "$n" = 0 ]; then
		echo "   $name reported nothing (exit $rc): a failure"
		rows+=("$name(no-report) 0 0 1")
		bad=1
	elif [ "$rc" != 0 ] && ! grep -q '^SUMMARY .* failures=[1-9]' "$log/$name.log"; then
		echo "   $name: exit $rc with no failed cycle: a failure"
		rows+=("$name(exit-$rc) 0 0 1")
		bad=1
	fi
	if [ "${TORTURE_SAN:-1}" = 1 ] && ls "$log/san-$name" | grep -qv '\.seen-'; then
		echo "   FAIL sanitizer reports no cycle claimed, in $log/san-$name:"
		ls "$log/san-$name" | grep -v '\.seen-' | sed 's/^/       /'
		rows+=("$name(sanitizer) 0 0 1")
		bad=1
	fi
}

start=$SECONDS
for p in $phases; do
	case $p in
	crash)
		NVFS_CRASH_SEED=${TORTURE_SEED:-} phase crash $((crash_op * 30 + 300)) env \
			NVFS_CRASH_MODES=op NVFS_CRASH_ITERS="$crash_op" \
			bash "$root/tests/it/t80-crash.sh" "$B"
		NVFS_CRASH_SEED=${TORTURE_SEED:-} phase crash-fsync $((crash_fsync * 30 + 300)) env \
			NVFS_CRASH_MODES=fsync NVFS_CRASH_ITERS="$crash_fsync" \
			bash "$root/tests/it/t80-crash.sh" "$B" ;;
	backing) phase backing $((backing * 5 * 30 + 300)) env NVFS_FAULT_CYCLES="$backing" \
			bash "$here/faults.sh" "$B" ;;
	corrupt) phase corrupt $((corrupt * 10 + 300)) env NVFS_CORRUPT_CYCLES="$corrupt" \
			bash "$here/corrupt.sh" "$B" ;;
	load) phase load $((load_secs * 4 + 600)) env NVFS_LOAD_SECS="$load_secs" \
			bash "$here/load.sh" "$B" ;;
	fuzz) phase fuzz $((fuzz_secs * 8 + 600)) bash "$here/fuzz.sh" "$fuzz_secs" ;;
	*) echo "torture: unknown phase $p" >&2; exit 2 ;;
	esac
done
wait
for p in "${order[@]}"; do report "$p"; done

echo
printf '%-44s %8s %12s %9s\n' "fault kind" cycles "replayed" failures
tc=0 tr=0 tf=0
for r in "${rows[@]}"; do
	read -r k c rp f <<<"$r"
	printf '%-44s %8d %12d %9d\n' "$k" "$c" "$rp" "$f"
	case $k in fuzz-* | load-*) ;; *) tc=$((tc + c)) ;; esac
	tr=$((tr + rp)) tf=$((tf + f))
done
printf '%-44s %8d %12d %9d\n' "total (fault cycles: fuzz and load not counted)" "$tc" "$tr" "$tf"
echo "torture: $((SECONDS - start)) s; logs in $log"
[ "$bad" = 0 ]
