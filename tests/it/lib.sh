# shellcheck shell=bash
# lib.sh -- helpers shared by the tool tests tests/it/t*.sh, sourced (never
# run: run.sh runs only t*.sh) at the top of each test, after `set -u`:
#
#	. "$(dirname "$0")/lib.sh" || exit 1
#
# Sourcing it, with the test's own arguments still in "$@":
#   B       the absolute build directory: $1, else $NVFS_BUILD, else build
#           (exits 1 if it cannot be entered)
#   MKFS, FSCK, MOUNT   $B/mkfs.nvfs, $B/fsck.nvfs, $B/mount.nvfs (MOUNT:
#           $NVFS_IT_MOUNT if set, e.g. the sanitized daemon of make torture)
#   T       a new scratch directory /dev/shm/nvfs-it.XXXXXX (exits 1 if it
#           cannot be made), removed on exit, with the lock holder below
#           killed, by an EXIT trap
#   holder  the pid of hold_lock's background process, empty when none
#   fails   the number of failed checks so far, 0 at first
#
# Checks: each prints one line "ok   NAME" or "FAIL ...", and a failure adds
# one to $fails (an expect_err1 or a shows can fail more than once).
#   ok NAME, fail MSG   print a passed / failed check (fail counts it)
#   expect NAME RC REGEX CMD...
#           CMD exits RC and its stdout+stderr match REGEX (grep -E); CMD's
#           stdout, stderr and both are left in $T/.out, $T/.err, $T/.all,
#           and on failure $T/.all is shown
#   expect_err1 NAME RC REGEX CMD...
#           as expect, and the output is exactly one line, on stderr,
#           starting with "PROG: " (PROG the basename of CMD)
#   assert NAME CMD...  CMD succeeds
#   shows NAME REGEX... one check per REGEX: it matches a line of $T/.all
#           (the check is named "NAME /REGEX/")
#   lacks NAME REGEX    no line of $T/.all matches REGEX
#   unchanged NAME FILE BEFORE  FILE's checksum (sum) is still BEFORE
#   finish  ends the test: if any check failed, prints "N check(s) failed"
#           and exits 1, else exits 0
#
# Tools (no output, no check of their own):
#   sum FILE            FILE's cksum, to compare before and after
#   re_quote STRING     STRING with the ERE metacharacters backslash-quoted
#   size FILE           FILE's size in bytes
#   uuid_of             the first "uuid <36 chars>" in $T/.all, the uuid only
#   hold_lock FILE      hold an exclusive flock(1) on FILE from a background
#                       process (pid in $holder); fails if not taken in 5 s
#   release_lock        end that process and empty $holder
#   poke FILE OFFSET BYTES  overwrite BYTES of FILE at OFFSET in place
#   sbset FILE COPY_OFF FIELD_OFF BYTES VALUE
#           store VALUE (little-endian, BYTES = 4 or 8) in the superblock copy
#           at COPY_OFF and fix its checksum, so that the copy is valid but
#           for the field: a tiny C helper built as $T/.sbset on first use
#           from nvfs_format.h and nvfs_csum.h (cc's errors in
#           $T/.sbset.log).  Returns 2 if it cannot be built.
#   is_mounted MNT, lazy_umount MNT, drop LIST PID, reap PID [SECONDS],
#   sleep_ms MS, wait_mounted PID SECONDS, kill_fs PID   (processes and
#           mounts of the crash tests, the last two at $M: see below)
#   jappend PMEM SPEC...
#           tests/it/jappend.c (append entries to the journal and list
#           them), built as $T/.jappend on first use against the libraries
#           in $B (errors in $T/.jappend.log).  Returns 2 if it cannot be
#           built.

B=$(cd "${1:-${NVFS_BUILD:-build}}" && pwd) || exit 1
# shellcheck disable=SC2034  # used by the tests
MKFS=$B/mkfs.nvfs FSCK=$B/fsck.nvfs MOUNT=${NVFS_IT_MOUNT:-$B/mount.nvfs}
T=$(mktemp -d /dev/shm/nvfs-it.XXXXXX) || exit 1
holder=
cleanup() {
	[ -n "$holder" ] && kill "$holder" 2>/dev/null && wait "$holder" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
fails=0

# ---- checks -----------------------------------------------------------------
ok() { echo "ok   $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }
expect() {
	local name=$1 want=$2 re=$3 rc
	shift 3
	"$@" >"$T/.out" 2>"$T/.err"
	rc=$?
	cat "$T/.out" "$T/.err" >"$T/.all"
	if [ "$rc" -eq "$want" ] && grep -Eq -- "$re" "$T/.all"; then
		ok "$name"
	else
		fail "$name: exit $rc (want $want), output must match /$re/:"
		sed 's/^/       | /' "$T/.all"
	fi
}
expect_err1() {
	local name=$1 prog
	prog=$(basename "$4")
	expect "$@"
	if [ -s "$T/.out" ] || [ "$(wc -l <"$T/.err")" -ne 1 ] ||
	   ! grep -q "^$prog: " "$T/.err"; then
		fail "$name: want exactly one stderr line '$prog: ...', got:"
		sed 's/^/       | /' "$T/.all"
	fi
}
assert() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else fail "$name"; fi
}
shows() {
	local name=$1 re
	shift
	for re in "$@"; do
		if grep -Eq -- "$re" "$T/.all"; then ok "$name /$re/"; else
			fail "$name /$re/"; sed 's/^/       | /' "$T/.all"; fi
	done
}
lacks() {
	if grep -Eq -- "$2" "$T/.all"; then fail "$1"; sed 's/^/       | /' "$T/.all"; else ok "$1"; fi
}
unchanged() { assert "$1" test "$(sum "$2")" = "$3"; }
finish() {
	[ $fails -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
	exit 0
}

# ---- tools ------------------------------------------------------------------
sum() { cksum <"$1"; }
re_quote() { printf '%s' "$1" | sed 's/[][\\.*^$+?(){}|]/\\&/g'; }
size() { stat -c %s "$1"; }
uuid_of() { grep -Eo 'uuid [0-9a-f-]{36}' "$T/.all" | head -1 | cut -d' ' -f2; }
hold_lock() {
	rm -f "$T/.locked"
	(exec 9<>"$1"; flock -x 9 && touch "$T/.locked" && exec sleep 60) &
	holder=$!
	for _ in $(seq 100); do [ -e "$T/.locked" ] && return 0; sleep 0.05; done
	return 1
}
release_lock() { kill "$holder"; wait "$holder" 2>/dev/null; holder=; }
poke() { printf '%s' "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }
sbset() {
	if [ ! -x "$T/.sbset" ]; then
		local inc
		inc=$(cd "$(dirname "$0")/../../include" && pwd) || return 2
		cat >"$T/.sbset.c" <<'CEOF'
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "nvfs_csum.h"
#include "nvfs_format.h"
int
main(int argc, char **argv)
{
	struct nvfs_pm_sb sb;
	off_t co = atoll(argv[2]);
	size_t field = (size_t)atoll(argv[3]), bytes = (size_t)atoll(argv[4]);
	uint64_t v = strtoull(argv[5], NULL, 0);
	int fd = open(argv[1], O_RDWR);

	if (argc != 6 || fd < 0 || pread(fd, &sb, sizeof(sb), co) != sizeof(sb) ||
	    field + bytes > sizeof(sb))
		return 1;
	memcpy((char *)&sb + field, &v, bytes);
	sb.csum = nvfs_csum((char *)&sb + 16, sizeof(sb) - 16, 0);
	return pwrite(fd, &sb, sizeof(sb), co) == sizeof(sb) ? 0 : 1;
}
CEOF
		cc -I"$inc" -o "$T/.sbset" "$T/.sbset.c" 2>"$T/.sbset.log" || return 2
	fi
	"$T/.sbset" "$@"
}
jappend() {
	if [ ! -x "$T/.jappend" ]; then
		local root
		root=$(cd "$(dirname "$0")/../.." && pwd) || return 2
		command -v cc >/dev/null 2>&1 || return 2
		# shellcheck disable=SC2046
		cc -std=gnu11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -I"$root/include" \
			-o "$T/.jappend" "$root/tests/it/jappend.c" "$B/libjournal.a" \
			"$B/liballoc.a" "$B/libcommon.a" \
			$(pkg-config --libs libpmem2 libxxhash 2>/dev/null || echo -lpmem2 -lxxhash) \
			-pthread >"$T/.jappend.log" 2>&1 || return 2
	fi
	"$T/.jappend" "$@"
}

# stop_mounts "MNTS" "PIDS": unmount each of MNTS that is mounted
# (fusermount3 -u, else umount -l), then wait up to 5 s for each of PIDS (the
# daemons this test started) to exit, and TERM then KILL those still there.
stop_mounts() {
	local mnt p
	for mnt in $1; do
		if mountpoint -q "$mnt" 2>/dev/null; then
			fusermount3 -u "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null
		fi
	done
	for p in $2; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill "$p" 2>/dev/null && sleep 0.5 && kill -9 "$p" 2>/dev/null
	done
}

# start_fs MNT LOG ARGS...: mount.nvfs -f ARGS in the background, $pid;
# waits up to 10 s for MNT to be mounted; fails if it is not.  Adds MNT and
# the pid to $mnts and $pids (for stop_mounts in the test's EXIT trap).
start_fs() {
	local mnt=$1 log=$2
	shift 2
	"$MOUNT" -f "$@" >"$log" 2>&1 &
	pid=$!
	pids="$pids $pid"
	mnts="$mnts $mnt"
	for _ in $(seq 100); do
		mountpoint -q "$mnt" && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	sed 's/^/       | /' "$log"
	return 1
}

# stop_fs MNT PID HOW: unmount (HOW = fusermount, or term: SIGTERM to PID)
# and wait up to 10 s for PID; its exit status in $stopped
stop_fs() {
	local mnt=$1 p=$2
	if [ "$3" = term ]; then kill -TERM "$p"; else fusermount3 -u "$mnt"; fi
	for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$p" 2>/dev/null; then stopped=timeout; return 1; fi
	wait "$p"
	stopped=$?
}

# ---- processes and mounts of crash tests (t80, tests/torture) ----------------
# is_mounted MNT: MNT is in the mount table (also a dead FUSE mount, which
# mountpoint(1) cannot stat)
is_mounted() { grep -q " $1 " /proc/mounts; }
# lazy_umount MNT: detach MNT if mounted, dead or alive
lazy_umount() {
	if is_mounted "$1"; then
		fusermount3 -u -z "$1" 2>/dev/null || umount -l "$1" 2>/dev/null
	fi
}
# drop LIST PID: LIST without PID
drop() { local l=" $1 "; echo "${l// $2 / }"; }
# reap PID [SECONDS]: wait up to SECONDS (10) for PID (a child of this shell)
# to end and collect its status in $reaped ("timeout" if it did not end);
# PID leaves the caller's lists $pids and $cpids (processes to stop at exit)
reap() {
	local p=$1 n=$((${2:-10} * 20)) state
	reaped=timeout
	for _ in $(seq "$n"); do
		state=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)
		{ [ -z "$state" ] || [ "$state" = Z ]; } && break
		sleep 0.05
	done
	state=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)
	if [ -z "$state" ] || [ "$state" = Z ]; then
		wait "$p" 2>/dev/null
		reaped=$?
		pids=$(drop "${pids:-}" "$p")
		cpids=$(drop "${cpids:-}" "$p")
	fi
}
# sleep_ms MS
sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }
# wait_mounted PID SECONDS: until $M is mounted; fails if PID (the daemon)
# ends or SECONDS pass first
wait_mounted() {
	for _ in $(seq $(($2 * 20))); do
		mountpoint -q "$M" && return 0
		kill -0 "$1" 2>/dev/null || return 1
		[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ] && return 1
		sleep 0.05
	done
	return 1
}
# kill_fs PID: SIGKILL the daemon, reap it, detach its (dead) mount at $M
kill_fs() {
	kill -9 "$1" 2>/dev/null
	reap "$1" 10
	lazy_umount "$M"
}
