#!/bin/bash
# t82-faults.sh BUILD_DIR -- backing faults, the short variant for make
# check: SOURCE full, read-only, failing writes or syncfs (the test hooks
# NVFS_TEST_FAIL_SOURCE_WRITE and NVFS_TEST_FAIL_SYNCFS), and changed behind
# nvfs's back.
#
# First five fixed cases, each a regression test named after what it
# proves (a SOURCE on a tmpfs of its own, the daemon SIGKILLed):
#   replay_on_full_source_names_errno_and_keeps_journal
#       SOURCE wiped and its tmpfs filled after the kill: the mount fails,
#       names ENOSPC, says the journal is kept, fsck.nvfs -n still lists
#       every entry; the filler removed, the next mount replays the file
#   replay_on_readonly_source_refuses_and_keeps_journal
#       the same with the tmpfs remounted read-only (EROFS)
#   mmap_writeback_on_full_source_is_an_error_not_a_loss
#       pages stored through mmap into a sparse file on a nearly full
#       SOURCE: msync fails (ENOSPC or EIO), or SOURCE has every byte
#   eio_from_source_write_acknowledges_nothing
#       NVFS_TEST_FAIL_SOURCE_WRITE=1: write(2) gets EIO, and after the
#       kill and replay the file holds none of it
#   failed_syncfs_releases_nothing
#       NVFS_TEST_FAIL_SYNCFS, checkpoint_secs=1: the statistics show
#       syncfs errors and no checkpoint, and after the kill a wiped SOURCE
#       is rebuilt from the journal alone
# then tests/torture/faults.sh with 2 cycles of each fault (seeded at
# random; a failure prints the command that repeats it).
#
# Needs root, /dev/fuse and fusermount3 (else skipped).  Every mount is
# undone by the EXIT trap; only processes this test started are killed.
# it-timeout: 170
set -u
# shellcheck source=tests/it/lib.sh
. "$(dirname "$0")/lib.sh" || exit 1

if [ "$(id -u)" != 0 ]; then
	echo "skip: t82 mounts tmpfs file systems: needs root"
	exit 0
fi
if [ ! -c /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
	echo "skip: needs /dev/fuse and fusermount3"
	exit 0
fi

FSD=$T/fs S=$T/fs/src M=$T/mnt P=$T/p.pmem
pids=""
# shellcheck disable=SC2317  # the EXIT trap
undo() {
	local p
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	grep -q " $M " /proc/mounts && { fusermount3 -u -z "$M" 2>/dev/null || umount -l "$M"; }
	if grep -q " $FSD " /proc/mounts; then
		mount -o remount,rw "$FSD" 2>/dev/null
		umount "$FSD" 2>/dev/null || umount -l "$FSD"
	fi
	cleanup
}
trap undo EXIT
trap 'exit 1' INT TERM HUP

# fresh SIZE: a new tmpfs at $FSD with SOURCE in it, a new pmem, $M empty
fresh() {
	undo_fs
	mkdir -p "$FSD" "$M"
	mount -t tmpfs -o "size=$1,mode=0755" t82-faults "$FSD" && mkdir "$S" &&
		"$MKFS" -f -s 64M -J 32M "$P" >/dev/null 2>&1
}
undo_fs() {
	grep -q " $M " /proc/mounts && { fusermount3 -u -z "$M" 2>/dev/null || umount -l "$M"; }
	if grep -q " $FSD " /proc/mounts; then
		mount -o remount,rw "$FSD" 2>/dev/null
		umount "$FSD" 2>/dev/null || umount -l "$FSD"
	fi
	return 0
}
# start [OPTS [VAR=VALUE...]]: the daemon in the background; 0 once
# mounted, 1 if it exits first (its log in $T/m.log, its pid in $pid)
start() {
	local opts=${1:-}
	shift
	env "$@" "$MOUNT" "$S" "$M" -f -o "pmem=$P,durability=op$opts" >"$T/m.log" 2>&1 &
	pid=$!
	pids="$pids $pid"
	for _ in $(seq 200); do
		mountpoint -q "$M" && return 0
		[ -d "/proc/$pid" ] && [ "$(awk '{print $3}' "/proc/$pid/stat")" != Z ] || break
		sleep 0.05
	done
	wait "$pid" 2>/dev/null
	return 1
}
stop() { fusermount3 -u "$M" && wait "$pid"; }
entries() { "$FSCK" -n "$P" 2>&1 | grep -Eo '[0-9]+ entr(y|ies) to replay' | grep -Eo '^[0-9]+'; }
stat_of() {
	getfattr -n user.nvfs.stats --only-values "$M" 2>/dev/null |
		awk -v k="$1:" '$1 == k { print $2 }'
}

# ---- a full SOURCE, a read-only SOURCE: the replay refuses and keeps -------------
for how in full readonly; do
	if [ $how = full ]; then
		name=replay_on_full_source_names_errno_and_keeps_journal errre='No space left on device'
	else
		name=replay_on_readonly_source_refuses_and_keeps_journal errre='Read-only file system'
	fi
	fresh 16M || { fail "$name: setup"; continue; }
	head -c 300000 /dev/urandom >"$T/data"
	if ! start "" NVFS_TEST_NO_CHECKPOINT=1; then fail "$name: mount"; cat "$T/m.log"; continue; fi
	mkdir "$M/d" && cp "$T/data" "$M/d/f"
	kill_fs "$pid"
	find "$S" -mindepth 1 -delete
	before=$(entries)
	if [ $how = full ]; then
		avail=$(($(stat -f -c '%a*%S' "$FSD")))
		fallocate -l "$avail" "$FSD/filler"
	else
		mount -o remount,ro "$FSD"
	fi
	if start ""; then
		fail "$name: the replay mounted on a $how SOURCE"
		kill_fs "$pid"
	else
		cp "$T/m.log" "$T/.all"
		shows "$name (the refusal)" "$errre" 'journal was left as it is'
		assert "$name (fsck.nvfs -n lists the $before entries)" test "$(entries)" = "$before"
		assert "$name (the journal is not empty)" test "${before:-0}" -gt 0
	fi
	if [ $how = full ]; then rm -f "$FSD/filler"; else mount -o remount,rw "$FSD"; fi
	if start ""; then
		assert "$name (replayed once the fault cleared)" cmp -s "$T/data" "$M/d/f"
		grep -E 'replayed [0-9]+ journal entries' "$T/m.log" | sed 's/^/    /'
		stop
	else
		fail "$name: no mount once the fault cleared"; sed 's/^/       | /' "$T/m.log"
	fi
done

# ---- mmap write-back on a full SOURCE: an error, never a silent loss -------------------
# The kernel ignores a short count in reply to a write-back of mmap'd pages:
# the daemon once answered one (SOURCE full after the first page) and msync
# succeeded for pages SOURCE never got.
name=mmap_writeback_on_full_source_is_an_error_not_a_loss
if ! command -v python3 >/dev/null; then
	echo "skip: $name needs python3"
elif fresh 16M && start ""; then
	truncate -s 262144 "$M/f"
	avail=$(($(stat -f -c '%a*%S' "$FSD")))
	fallocate -l $((avail - 8192)) "$FSD/filler"
	res=$(python3 -c "
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 262144, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
m[:] = b'A' * 262144
try:
    m.flush()
    print('ok')
except OSError as e:
    print(os.strerror(e.errno))
" "$M/f" 2>&1)
	echo "    msync: $res"
	if [ "$res" = ok ]; then
		head -c 262144 /dev/zero | tr '\0' A >"$T/want"
		assert "$name (msync succeeded: SOURCE has every byte)" cmp -s "$T/want" "$S/f"
	else
		assert "$name (msync fails with ENOSPC or EIO)" \
			grep -Eq 'No space left|Input/output error' <<<"$res"
	fi
	stop
else
	fail "$name: setup or mount"; sed 's/^/       | /' "$T/m.log"
fi

# ---- EIO from SOURCE's write: nothing acknowledged ------------------------------------
name=eio_from_source_write_acknowledges_nothing
if fresh 16M && start "" NVFS_TEST_FAIL_SOURCE_WRITE=1; then
	expect "$name (write gets EIO)" 1 'Input/output error' \
		dd if=/dev/urandom of="$M/f" bs=4096 count=4 conv=notrunc status=none
	kill_fs "$pid"
	if start ""; then
		assert "$name (the file holds nothing)" test "$(size "$M/f")" = 0
		assert "$name (SOURCE holds nothing)" test "$(size "$S/f")" = 0
		stop
	else
		fail "$name: remount"; sed 's/^/       | /' "$T/m.log"
	fi
else
	fail "$name: setup or mount"; sed 's/^/       | /' "$T/m.log"
fi

# ---- a failing syncfs: no checkpoint releases anything --------------------------------
name=failed_syncfs_releases_nothing
if fresh 16M && start ",checkpoint_secs=1" NVFS_TEST_FAIL_SYNCFS=1000; then
	head -c 200000 /dev/urandom >"$T/data"
	cp "$T/data" "$M/f"
	sleep 2.5
	ck=$(stat_of checkpoints) se=$(stat_of syncfs_errors) left=$(stat_of entries_not_checkpointed)
	echo "    checkpoints ${ck:-?}, syncfs errors ${se:-?}, entries not checkpointed ${left:-?}"
	assert "$name (syncfs failed)" test "${se:-0}" -ge 1
	assert "$name (no checkpoint)" test "${ck:-1}" = 0
	assert "$name (the journal keeps the entries)" test "${left:-0}" -gt 0
	kill_fs "$pid"
	find "$S" -mindepth 1 -delete
	if start ""; then
		assert "$name (a wiped SOURCE rebuilt from the journal)" cmp -s "$T/data" "$M/f"
		stop
	else
		fail "$name: remount"; sed 's/^/       | /' "$T/m.log"
	fi
else
	fail "$name: setup or mount"; sed 's/^/       | /' "$T/m.log"
fi
undo_fs

# ---- the torture script, short ------------------------------------------------------------
if bash "$(dirname "$0")/../torture/faults.sh" "$B" 2 >"$T/faults.log" 2>&1; then
	ok "faults.sh: 2 cycles of each backing fault"
	grep -E '^(fault|full|readonly|eio|syncfs|behind) ' "$T/faults.log" | sed 's/^/    /'
else
	fail "faults.sh: 2 cycles of each backing fault"
	grep -vE '^(full|readonly|eio|syncfs|behind) seed' "$T/faults.log" | sed 's/^/       | /'
fi
finish
