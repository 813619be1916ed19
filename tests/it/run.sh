#!/bin/bash
# run.sh BUILD_DIR -- run every tests/it/t*.sh against the tools in BUILD_DIR.
#
# Each test gets the absolute build directory as $1 (and as $NVFS_BUILD),
# runs under a timeout (NVFS_IT_TIMEOUT, 120 s, or the test's own: a line
# "# it-timeout: SECONDS" in it), and passes iff it exits 0.  Its output is shown only
# when it fails (or always with NVFS_IT_VERBOSE=1).  The last line is
# "N passed, N failed"; the exit status is non-zero if any test failed.
set -u

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
timeout_s=${NVFS_IT_TIMEOUT:-120}
export NVFS_BUILD="$build"

for tool in mkfs.nvfs fsck.nvfs mount.nvfs; do
	if [ ! -x "$build/$tool" ]; then
		echo "run.sh: $build/$tool is missing: build it first" >&2
		echo "0 passed, 1 failed"
		exit 1
	fi
done

passed=0
failed=0
for t in "$here"/t*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t")
	log=$(mktemp)
	start=$SECONDS
	tmo=$(sed -n 's/^# it-timeout: \([0-9][0-9]*\)$/\1/p' "$t" | head -1)
	[ -n "${NVFS_IT_TIMEOUT:-}" ] || [ -z "$tmo" ] || timeout_s=$tmo
	timeout --kill-after=10 "$timeout_s" bash "$t" "$build" >"$log" 2>&1
	rc=$?
	secs=$((SECONDS - start))
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		echo "PASS $name (${secs}s)"
		[ "${NVFS_IT_VERBOSE:-0}" = 1 ] && sed 's/^/    /' "$log"
	else
		failed=$((failed + 1))
		if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
			echo "FAIL $name (timed out after ${timeout_s}s)"
		else
			echo "FAIL $name (exit $rc, ${secs}s)"
		fi
		sed 's/^/    /' "$log"
	fi
	rm -f "$log"
	timeout_s=${NVFS_IT_TIMEOUT:-120}
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
