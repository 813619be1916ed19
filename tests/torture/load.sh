#!/bin/bash
# load.sh BUILD_DIR [SECONDS] -- the LOAD torture test (issue 5): 8 workers
# of BUILD_DIR/nvfs_load (tests/tools/nvfs_load.c) for SECONDS (default
# $NVFS_LOAD_SECS, else 60) per configuration, mixing data and metadata
# operations with fsync, every result checked against the workers' models.
#
#  0. control: the same load on a native directory of the disk file system
#     (SOURCE's; its type is printed) must pass: the models, and the error
#     sets allowed in the shared directory, are the kernel's and ext4's.
#  1. nvfs, durability=op, then durability=fsync: the pmem on /dev/shm,
#     SOURCE on the disk (a scratch directory under $NVFS_LOAD_DISK, else
#     /var/tmp); the daemon is BUILD_DIR/san/mount.nvfs (ASan+UBSan, leak
#     checking on, reports to a scratch log directory) when it exists, else
#     BUILD_DIR/mount.nvfs (said so; NVFS_LOAD_PLAIN=1 chooses it too).  While the load runs, the daemon's
#     /proc/PID/status (VmHWM VmRSS RssAnon RssFile RssShmem) and the number
#     of its descriptors are sampled every 0.5 s.  Then:
#     (a) fds: after the workers exit, `echo 2 > /proc/sys/vm/drop_caches`
#         makes the kernel forget its inodes and the daemon must close the
#         descriptors it held for them.  Within 10 s the descriptors that are
#         not pipes must be back at the baseline (taken after the mount, before
#         the load) + FD_SLACK (2); pipes are libfuse's splice pipes, one per
#         worker thread, kept while the thread lives: at most 2 x 8 threads.
#     (b) memory: VmHWM counts the pages of the mapped pmem file the daemon
#         touched (RssShmem: the journal and the allocator's pages, up to the
#         pmem's size), so the daemon's own memory is RssAnon.  Peak RssAnon
#         must stay under a bound: 64 MiB for the plain daemon (libfuse's
#         request buffers, 1 MiB + a page for each of 8 threads, the inode
#         table: 11-12 MiB measured, flat from the first quarter of a 60 s
#         run to the last) and 512 MiB under ASan (its quarantine holds up
#         to 256 MiB of freed blocks by design, plus shadow memory and the
#         allocator's metadata: about 150 MiB measured, flat as well).
#         Override with NVFS_LOAD_RSS_MB.  The peak of the first and of the
#         last quarter of the run are shown, to see growth.
#     (c) fusermount3 -u: the daemon exits 0 within 120 s (ASan's leak check
#         runs at exit), and the sanitizer log directory is empty.
#     (d) SOURCE after the unmount verifies against the workers' models
#         (nvfs_load -V MANIFEST SOURCE), and fsck.nvfs -n finds the pmem
#         clean with an empty journal.
#
# Output: the checks, a table (config, ops, ops/s, unexpected, peak VmHWM,
# peak RssAnon, fds baseline/peak/after, result) and one line per run
#     SUMMARY kind=load-<native|op|fsync> cycles=1 replayed=0 failures=N
# Exit status 0 when every run passed, 1 otherwise, 2 a usage error.  Needs
# root (mount, drop_caches), /dev/fuse and fusermount3.  Every mount is
# unmounted by the EXIT trap and only the processes this script started are
# killed, by PID; every wait has a timeout.  The scratch directories are
# removed, unless a run failed (NVFS_LOAD_KEEP=1 keeps them always).
set -u
PROG=load.sh
usage() { echo "$PROG: $1" >&2; echo "usage: $PROG BUILD_DIR [SECONDS]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage "wrong number of arguments"
B=$(cd "$1" 2>/dev/null && pwd) || usage "$1: no such build directory"
SECS=${2:-${NVFS_LOAD_SECS:-60}}
case $SECS in ''|*[!0-9]*) usage "SECONDS: '$SECS' is not a number";; esac
[ "$SECS" -gt 0 ] || usage "SECONDS must be > 0"
LOAD=$B/nvfs_load
for f in "$LOAD" "$B/mkfs.nvfs" "$B/fsck.nvfs" "$B/mount.nvfs"; do
	[ -x "$f" ] || usage "$f is missing: build it first (make)"
done
if [ "$(id -u)" != 0 ] || [ ! -c /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
	echo "$PROG: needs root, /dev/fuse and fusermount3" >&2
	exit 2
fi
if [ -x "$B/san/mount.nvfs" ] && [ "${NVFS_LOAD_PLAIN:-0}" != 1 ]; then
	MOUNT=$B/san/mount.nvfs SAN=1 RSS_MB=${NVFS_LOAD_RSS_MB:-512}
else
	MOUNT=$B/mount.nvfs SAN=0 RSS_MB=${NVFS_LOAD_RSS_MB:-64}
	echo "note: the plain daemon runs, no sanitizer ($B/san/mount.nvfs: make san-tools; NVFS_LOAD_PLAIN=${NVFS_LOAD_PLAIN:-0})"
fi
FD_SLACK=2
THREADS=8                 # NVFS_FS_DEFAULT_THREADS: each may keep a splice pipe
SEED=${NVFS_LOAD_SEED:-$(( $(date +%s) % 1000000 ))}
DISK=${NVFS_LOAD_DISK:-/var/tmp}
CONTROL_SECS=$(( SECS < 20 ? SECS : 20 ))

W=$(mktemp -d "$DISK/nvfs-load.XXXXXX") || exit 2    # SOURCE, native control
P=$(mktemp -d /dev/shm/nvfs-load.XXXXXX) || exit 2   # pmem, logs, samples
export NVFS_STATE_DIR=$P/state    # never /var/lib/nvfs
mnt="" dpid="" spid="" kept=0

# ---- always unmount, stop only what we started --------------------------------
cleanup() {
	[ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
	if [ -n "$mnt" ] && mountpoint -q "$mnt" 2>/dev/null; then
		fusermount3 -u "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null
	fi
	if [ -n "$dpid" ]; then
		for _ in $(seq 100); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
		kill "$dpid" 2>/dev/null && sleep 1 && kill -9 "$dpid" 2>/dev/null
	fi
	if [ "$kept" = 1 ] || [ "${NVFS_LOAD_KEEP:-0}" = 1 ]; then
		echo "kept: $W $P"
	else
		rm -rf "$W" "$P"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

failures=0 total_fail=0
ok() { echo "ok   $1"; }
fail() { echo "FAIL $1"; failures=$((failures + 1)); }
rows=()

# fds PID: "ALL NONPIPE" descriptors of PID
fds() {
	local all=0 np=0 l
	for l in /proc/"$1"/fd/*; do
		[ -e "$l" ] || [ -L "$l" ] || continue
		all=$((all + 1))
		case $(readlink "$l" 2>/dev/null) in pipe:*) ;; *) np=$((np + 1));; esac
	done
	echo "$all $np"
}

# sampler PID FILE: every 0.5 s one line "VmHWM VmRSS RssAnon RssFile RssShmem FDS" (kB)
sampler() {
	local pid=$1 out=$2 line
	while kill -0 "$pid" 2>/dev/null; do
		line=$(awk '/^(VmHWM|VmRSS|RssAnon|RssFile|RssShmem):/ { v[$1] = $2 }
			END { printf "%d %d %d %d %d", v["VmHWM:"], v["VmRSS:"], v["RssAnon:"],
			      v["RssFile:"], v["RssShmem:"] }' /proc/"$pid"/status 2>/dev/null) || break
		echo "$line $(ls /proc/"$pid"/fd 2>/dev/null | wc -l)" >>"$out"
		sleep 0.5
	done
}

# load NAME DIR MANIFEST: nvfs_load on DIR; sets ops, opss, unexp
load() {
	local name=$1 dir=$2 man=$3 secs=$4 rc
	timeout -k 10 $((secs * 4 + 300)) "$LOAD" -j 8 -t "$secs" -S "$SEED" -m "$man" "$dir" \
		>"$P/$name.out" 2>"$P/$name.err"
	rc=$?
	sed 's/^/       | /' "$P/$name.err" | head -40
	grep -E '^nvfs_load: (w[0-9]+:|TOTAL)' "$P/$name.out" | sed 's/^/       : /'
	ops=$(sed -n 's/.*TOTAL ops=\([0-9]*\).*/\1/p' "$P/$name.out")
	opss=$(sed -n 's/.*TOTAL .*ops\/s=\([0-9]*\).*/\1/p' "$P/$name.out")
	unexp=$(sed -n 's/.*TOTAL .*unexpected=\([0-9]*\).*/\1/p' "$P/$name.out")
	ops=${ops:-0} opss=${opss:-0} unexp=${unexp:-?}
	if [ "$rc" -eq 0 ] && [ "$unexp" = 0 ]; then
		ok "$name: nvfs_load, $ops ops, no unexpected result"
	else
		fail "$name: nvfs_load exit $rc, unexpected results: $unexp"
	fi
}

echo "load: seed $SEED (NVFS_LOAD_SEED), $SECS s per nvfs run, control $CONTROL_SECS s"
fstype() { findmnt -n -o FSTYPE -T "$1" 2>/dev/null | head -1 | grep . || stat -f -c %T "$1"; }
echo "load: SOURCE and control on $DISK ($(fstype "$W")), pmem on /dev/shm ($(fstype "$P"))"
echo "load: daemon $MOUNT$([ $SAN = 1 ] && echo ' (ASan+UBSan, detect_leaks=1)'); RssAnon bound $RSS_MB MiB"

# ---- 0. the control ---------------------------------------------------------------
failures=0
mkdir -p "$W/native"
load native "$W/native" "$P/native.man" "$CONTROL_SECS"
expect_verify=$("$LOAD" -V "$P/native.man" "$W/native" 2>&1 | tail -1)
case $expect_verify in
*", 0 mismatches, OK") ok "native: the tree verifies against the manifest (-V)";;
*) fail "native: -V: $expect_verify";;
esac
rows+=("native $(fstype "$W")|$ops|$opss|$unexp|-|-|-|$([ $failures = 0 ] && echo PASS || echo FAIL)")
echo "SUMMARY kind=load-native cycles=1 replayed=0 failures=$failures"
total_fail=$((total_fail + failures))

# ---- 1. nvfs ------------------------------------------------------------------------
for dur in op fsync; do
	failures=0
	S=$W/src-$dur M=$W/mnt-$dur PM=$P/$dur.pmem LOG=$P/$dur.log SAMP=$P/$dur.samples
	ASANDIR=$P/asan-$dur
	mkdir -p "$S" "$M" "$ASANDIR"
	: >"$SAMP"
	echo "== nvfs durability=$dur"
	if ! "$B/mkfs.nvfs" -s 64M "$PM" >"$P/$dur.mkfs" 2>&1; then
		fail "$dur: mkfs.nvfs"; sed 's/^/       | /' "$P/$dur.mkfs"
		total_fail=$((total_fail + failures)); continue
	fi
	ASAN_OPTIONS="log_path=$ASANDIR/asan:detect_leaks=1:abort_on_error=0" \
	UBSAN_OPTIONS="log_path=$ASANDIR/ubsan:print_stacktrace=1" \
		"$MOUNT" "$S" "$M" -f -o "pmem=$PM,durability=$dur" >"$LOG" 2>&1 &
	dpid=$! mnt=$M
	for _ in $(seq 200); do mountpoint -q "$M" && break; kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
	if ! mountpoint -q "$M"; then
		fail "$dur: mount.nvfs did not mount within 20 s"; sed 's/^/       | /' "$LOG"
		total_fail=$((total_fail + failures)); continue
	fi
	sleep 0.5
	read -r base_all base_np < <(fds "$dpid")
	ok "$dur: mounted (daemon $dpid, $base_all descriptors, $base_np not pipes)"
	sampler "$dpid" "$SAMP" &
	spid=$!
	load "$dur" "$M" "$P/$dur.man" "$SECS"
	kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null; spid=""

	# (a) descriptors come back once the kernel forgets the inodes
	sync
	after_all=0 after_np=0
	for _ in $(seq 20); do
		echo 2 >/proc/sys/vm/drop_caches
		sleep 0.5
		read -r after_all after_np < <(fds "$dpid")
		[ "$after_np" -le $((base_np + FD_SLACK)) ] &&
			[ "$after_all" -le $((base_all + FD_SLACK + 2 * THREADS)) ] && break
	done
	peak_fd=$(awk 'BEGIN { m = 0 } $6 > m { m = $6 } END { print m }' "$SAMP")
	if [ "$after_np" -le $((base_np + FD_SLACK)) ] &&
	   [ "$after_all" -le $((base_all + FD_SLACK + 2 * THREADS)) ]; then
		ok "$dur: descriptors back after drop_caches: $after_all ($after_np not pipes; baseline $base_all/$base_np, peak $peak_fd)"
	else
		fail "$dur: descriptor leak: $after_all ($after_np not pipes) after drop_caches; baseline $base_all/$base_np + $FD_SLACK (+ $((2 * THREADS)) pipes)"
		ls -l /proc/"$dpid"/fd | sed 's/^/       | /' | head -60
	fi

	# (b) memory
	read -r hwm rssmax anon file shmem < <(awk 'BEGIN { h = r = a = f = s = 0 }
		{ if ($1 > h) h = $1; if ($2 > r) r = $2; if ($3 > a) a = $3;
		  if ($4 > f) f = $4; if ($5 > s) s = $5 }
		END { print h, r, a, f, s }' "$SAMP")
	h2=$(awk '/^VmHWM:/ { print $2 }' /proc/"$dpid"/status 2>/dev/null)
	[ -n "$h2" ] && [ "$h2" -gt "$hwm" ] && hwm=$h2
	echo "info $dur: $(wc -l <"$SAMP") samples; peak kB: VmHWM $hwm VmRSS $rssmax RssAnon $anon RssFile $file RssShmem $shmem"
	# growth: the peak RssAnon of the first and of the last quarter of the run
	echo "info $dur: RssAnon peak kB in the first quarter of the run $(awk -v n="$(wc -l <"$SAMP")" \
		'NR <= n / 4 && $3 > m { m = $3 } END { print m + 0 }' "$SAMP"), in the last $(awk \
		-v n="$(wc -l <"$SAMP")" 'NR > 3 * n / 4 && $3 > m { m = $3 } END { print m + 0 }' "$SAMP")"
	if [ "$anon" -gt 0 ] && [ "$anon" -le $((RSS_MB * 1024)) ]; then
		ok "$dur: peak RssAnon $((anon / 1024)) MiB <= $RSS_MB MiB"
	else
		fail "$dur: peak RssAnon $anon kB, bound $RSS_MB MiB"
	fi

	# (c) clean unmount, no sanitizer report
	fusermount3 -u "$M"
	st=timeout
	for _ in $(seq 1200); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
	if ! kill -0 "$dpid" 2>/dev/null; then wait "$dpid"; st=$?; dpid=""; else
		for t in /proc/"$dpid"/task/*; do   # where its threads wait, to diagnose
			echo "       | thread $(cat "$t/comm" 2>/dev/null): $(cat "$t/wchan" 2>/dev/null)"
		done
	fi
	mnt=""
	if [ "$st" = 0 ]; then ok "$dur: fusermount3 -u: the daemon exits 0"; else
		fail "$dur: fusermount3 -u: daemon exit $st"; sed 's/^/       | /' "$LOG" | tail -20; fi
	if [ -z "$(find "$ASANDIR" -type f -size +0 2>/dev/null)" ]; then
		ok "$dur: no sanitizer report$([ $SAN = 0 ] && echo ' (no sanitizer)')"
	else
		fail "$dur: sanitizer reports:"
		find "$ASANDIR" -type f -size +0 -exec head -40 {} \; | sed 's/^/       | /'
	fi
	if grep -qiE 'error|warn' "$LOG"; then
		echo "info $dur: the mount log says:"; grep -iE 'error|warn' "$LOG" | head -10 | sed 's/^/       | /'
	fi

	# (d) SOURCE and the pmem
	if "$LOAD" -V "$P/$dur.man" "$S" >"$P/$dur.verify" 2>&1; then
		ok "$dur: SOURCE after the unmount verifies against the models"
	else
		fail "$dur: SOURCE after the unmount differs from the models:"
		grep -v ': OK (0' "$P/$dur.verify" | head -30 | sed 's/^/       | /'
	fi
	if "$B/fsck.nvfs" -n "$PM" >"$P/$dur.fsck" 2>&1 && grep -q ", 0 entries to replay$" "$P/$dur.fsck"; then
		ok "$dur: fsck.nvfs -n: clean, journal empty"
	else
		fail "$dur: fsck.nvfs -n:"; sed 's/^/       | /' "$P/$dur.fsck"
	fi
	rows+=("nvfs $dur|$ops|$opss|$unexp|$((hwm / 1024)) MiB|$((anon / 1024)) MiB|$base_all/$peak_fd/$after_all|$([ $failures = 0 ] && echo PASS || echo FAIL)")
	echo "SUMMARY kind=load-$dur cycles=1 replayed=0 failures=$failures"
	total_fail=$((total_fail + failures))
done

# ---- the table ------------------------------------------------------------------------
echo
printf '%-16s %9s %7s %10s %11s %12s %16s %6s\n' config ops ops/s unexpected "peak VmHWM" "peak RssAnon" "fds base/peak/after" result
for r in "${rows[@]}"; do
	IFS='|' read -r c o s u h a f res <<<"$r"
	printf '%-16s %9s %7s %10s %11s %12s %16s %6s\n' "$c" "$o" "$s" "$u" "$h" "$a" "$f" "$res"
done
[ "$total_fail" -eq 0 ] || { kept=1; echo "load: $total_fail check(s) failed"; exit 1; }
echo "load: all runs passed"
exit 0
