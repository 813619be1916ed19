#!/bin/bash
# t75-load.sh BUILD_DIR -- the short LOAD test (tests/torture/load.sh is the
# long one): BUILD_DIR/nvfs_load (tests/tools/nvfs_load.c), 8 worker threads
# mixing data and metadata operations with fsync, every result checked
# against per-worker models, races in a shared directory:
#  (a) 5 s on a scratch directory of the native file system pass, and the
#      tree verifies against the manifest (-V): the models and the allowed
#      race errors are the kernel's;
#  (b) -X (a model corrupted before the final check) fails naming the file,
#      and -V fails on a tree changed behind the manifest's back: the
#      checker does fail;
#  (c) through nvfs, $NVFS_LOAD_SECS (default 8) s with durability=op and
#      as long with durability=fsync; the daemon is $NVFS_IT_MOUNT, else
#      BUILD_DIR/san/mount.nvfs (ASan+UBSan, leak checks, reports to a log
#      directory that must stay empty) when it is there and not older than
#      BUILD_DIR/mount.nvfs, else BUILD_DIR/mount.nvfs.  After the load the
#      daemon's descriptors that are not pipes come back to their number
#      before it (+2) once `echo 2 > /proc/sys/vm/drop_caches` made the
#      kernel forget its inodes; fusermount3 -u ends the daemon with 0
#      within 60 s;
#      SOURCE verifies against the manifest; fsck.nvfs -n finds the pmem
#      clean with an empty journal.
# (a) and (b) run everywhere; (c) needs root, /dev/fuse and fusermount3.
# Every mount is unmounted by the EXIT trap, only the processes this test
# started are killed, every wait has a timeout.
set -u
# shellcheck source=tests/it/lib.sh
. "$(dirname "$0")/lib.sh" || exit 1

X=$B/nvfs_load
SECS=${NVFS_LOAD_SECS:-8}
SEED=${NVFS_LOAD_SEED:-$(( $(date +%s) % 100000 ))}
if [ ! -x "$X" ]; then
	fail "$X is missing: build it first (make)"
	finish
fi

mnts="" pids=""
# shellcheck disable=SC2317  # called by the EXIT trap
unmount_all() { stop_mounts "$mnts" "$pids"; }
trap 'unmount_all; cleanup' EXIT
trap 'exit 1' INT TERM HUP

# load NAME RC REGEX SECONDS ARGS...: expect for nvfs_load ARGS under a timeout
load() {
	local name=$1 rc=$2 re=$3 secs=$4
	shift 4
	expect "$name" "$rc" "$re" timeout -k 5 "$secs" "$X" "$@"
	grep -E '^nvfs_load: (seed|TOTAL)|UNEXPECTED' "$T/.all" | head -20 | sed 's/^/       : /'
}

# nonpipe_fds PID: the descriptors of PID that are not pipes
nonpipe_fds() {
	local n=0 l
	for l in /proc/"$1"/fd/*; do
		case $(readlink "$l" 2>/dev/null) in pipe:*|'') ;; *) n=$((n + 1));; esac
	done
	echo "$n"
}

# ---- usage ------------------------------------------------------------------------
expect "no DIR: usage error" 2 "missing DIR argument" "$X"
expect "-j 0: usage error" 2 "JOBS must be 1 to" "$X" -j 0 "$T"
expect "DIR missing" 2 "^nvfs_load: $(re_quote "$T")/none: No such file or directory" "$X" "$T/none"

# ---- (a) the native file system -----------------------------------------------------
N=$T/native
mkdir -p "$N"
load "native ($(stat -f -c %T "$N")): 8 workers, 5 s, no unexpected result" 0 \
	"^nvfs_load: TOTAL ops=[1-9][0-9]* ops/s=[0-9]+ unexpected=0 seed=$SEED OK$" \
	60 -j 8 -t 5 -S "$SEED" -m "$T/native.man" "$N"
shows "  ... each worker's tree verified" "^nvfs_load: w7: [0-9]+ ops .* 0 unexpected, tree verified"
shows "  ... the shared directory raced" "races ENOENT [1-9][0-9]* EEXIST [1-9]"
expect "  ... and verifies against its manifest (-V)" 0 "8 trees, 0 mismatches, OK$" \
	"$X" -V "$T/native.man" "$N"

# ---- (b) the checker fails -------------------------------------------------------------
mkdir -p "$T/x"
load "-X: a corrupted model fails the final check" 1 \
	"UNEXPECTED verify .*/x/w0/.*(content differs at offset|is missing)" \
	60 -j 2 -t 2 -S "$SEED" -X "$T/x"
f=$(find "$N/w3" -type f -size +0 | head -1)
if [ -n "$f" ]; then
	if [ "$(od -An -tx1 -N1 "$f" | tr -d ' ')" = ff ]; then b='\000'; else b='\377'; fi
	printf "$b" | dd of="$f" bs=1 seek=0 conv=notrunc status=none
	expect "-V: a byte changed in $(basename "$f") is found" 1 \
		"UNEXPECTED verify $(re_quote "$f"): content" "$X" -V "$T/native.man" "$N"
	shows "  ... and fails the check (once per name of the file)" \
		"^nvfs_load: verify .*, [1-9][0-9]* mismatches, FAILED$"
else
	fail "-V: no file with data in $N/w3 to change"
fi

# ---- (c) through nvfs -----------------------------------------------------------------
if [ "$(id -u)" != 0 ]; then
	echo "skip (c): mounting needs root"
	finish
fi
if [ ! -c /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
	echo "skip (c): needs /dev/fuse and fusermount3"
	finish
fi
if [ -z "${NVFS_IT_MOUNT:-}" ] && [ -x "$B/san/mount.nvfs" ] &&
   [ ! "$B/san/mount.nvfs" -ot "$B/mount.nvfs" ]; then
	MOUNT=$B/san/mount.nvfs
fi
echo "info daemon $MOUNT, seed $SEED (NVFS_LOAD_SEED), $SECS s per mode (NVFS_LOAD_SECS)"
export NVFS_STATE_DIR=$T/state   # never /var/lib/nvfs
# shellcheck disable=SC2154  # pid: set by start_fs (lib.sh)
for dur in op fsync; do
	S=$T/src-$dur M=$T/mnt-$dur P=$T/$dur.pmem A=$T/asan-$dur
	mkdir -p "$S" "$M" "$A"
	export ASAN_OPTIONS="log_path=$A/asan:detect_leaks=1" UBSAN_OPTIONS="log_path=$A/ubsan:print_stacktrace=1"
	if ! start_fs "$M" "$T/mount-$dur.log" "$S" "$M" -o pmem="$P",pmem_size=64M,durability="$dur",fsname=nvfs-t75; then
		fail "durability=$dur: mount.nvfs -f did not mount $M within 10 s"
		continue
	fi
	unset ASAN_OPTIONS UBSAN_OPTIONS
	sleep 0.3
	base=$(nonpipe_fds "$pid")
	load "durability=$dur: 8 workers, $SECS s, no unexpected result" 0 \
		"^nvfs_load: TOTAL ops=[1-9][0-9]* ops/s=[0-9]+ unexpected=0 seed=$SEED OK$" \
		$((SECS * 4 + 60)) -j 8 -t "$SECS" -S "$SEED" -m "$T/$dur.man" "$M"
	sync
	for _ in $(seq 20); do
		echo 2 >/proc/sys/vm/drop_caches
		sleep 0.25
		now=$(nonpipe_fds "$pid")
		[ "$now" -le $((base + 2)) ] && break
	done
	assert "  ... the daemon's descriptors come back after drop_caches ($base before, $now after)" \
		test "$now" -le $((base + 2))
	# as stop_fs, with 60 s for the exit: the last checkpoint, and ASan's
	# leak check, on a machine other tests may keep busy
	t0=$(date +%s)
	fusermount3 -u "$M"
	for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	stopped=timeout
	kill -0 "$pid" 2>/dev/null || { wait "$pid"; stopped=$?; }
	if [ "$stopped" = timeout ]; then   # where its threads wait, to diagnose
		for t in /proc/"$pid"/task/*; do
			echo "       | thread $(cat "$t/comm" 2>/dev/null): $(cat "$t/wchan" 2>/dev/null)"
		done
	fi
	assert "  ... fusermount3 -u: mount.nvfs exits 0 (in $(( $(date +%s) - t0 )) s)" test "$stopped" = 0
	# (fsname=: mount.nvfs must free its copy, or the leak check fails this)
	assert "  ... no sanitizer report" test -z "$(find "$A" -type f -size +0)"
	find "$A" -type f -size +0 -exec head -30 {} \; | sed 's/^/       | /'
	expect "  ... SOURCE verifies against the models" 0 "8 trees, 0 mismatches, OK$" \
		"$X" -V "$T/$dur.man" "$S"
	expect "  ... the pmem is clean, its journal empty (fsck -n)" 0 ", 0 entries to replay$" \
		"$FSCK" -n "$P"
done

finish
