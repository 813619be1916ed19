#!/bin/bash
# t55-fs-unpriv.sh BUILD_DIR -- an unprivileged mount: user nobody mounts
# its own SOURCE with a pmem file it owns (given with pmem=, then the
# default one under $XDG_STATE_HOME/nvfs), writes and reads through the
# mount (the data lands in SOURCE, owned by nobody), and unmounts with
# fusermount3 -u; mount.nvfs then exits 0.  Then nobody's daemon is killed
# with its journal full of a run, SOURCE is emptied, and nobody's next
# mount rebuilds it by replay.
# The setup needs root.  Stock Debian has /dev/fuse mode 666; some machines
# have 600, which no unprivileged mount survives: the test then makes it
# 666, says so, and puts the mode back on exit.  Skipped without root,
# /dev/fuse, fusermount3, setpriv or user nobody.
set -u
# shellcheck source=tests/it/lib.sh
. "$(dirname "$0")/lib.sh" || exit 1

if [ "$(id -u)" != 0 ] || [ ! -c /dev/fuse ] || ! command -v fusermount3 >/dev/null ||
   ! command -v setpriv >/dev/null || ! id nobody >/dev/null 2>&1; then
	echo "skip: needs root (for the setup), /dev/fuse, fusermount3, setpriv and user nobody"
	exit 0
fi

fuse_mode=$(stat -c %a /dev/fuse)
mnts=""
pids=""
# shellcheck disable=SC2317  # called by the EXIT trap
restore() {
	local mnt p
	for mnt in $mnts; do
		if grep -q " $mnt " /proc/mounts; then
			fusermount3 -u "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null
		fi
	done
	for p in $pids; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill "$p" 2>/dev/null && sleep 0.5 && kill -9 "$p" 2>/dev/null
	done
	if [ "$(stat -c %a /dev/fuse)" != "$fuse_mode" ]; then
		chmod "$fuse_mode" /dev/fuse && echo "note: /dev/fuse is mode $fuse_mode again"
	fi
}
trap 'restore; cleanup' EXIT
trap 'exit 1' INT TERM HUP

if [ "$fuse_mode" != 666 ]; then
	echo "note: /dev/fuse is mode $fuse_mode on this machine (stock Debian: 666);" \
	     "making it 666 for this test, restored on exit"
	chmod 666 /dev/fuse || { fail "cannot chmod /dev/fuse"; finish; }
fi

U=$T/user
mkdir -p "$U/home" "$U/xdg" "$U/src" "$U/mnt"
chmod 755 "$T"
chown -R nobody "$U"
# as_nobody CMD...: CMD as nobody, HOME and XDG_STATE_HOME its own
as_nobody() {
	setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
		env -u NVFS_STATE_DIR HOME="$U/home" XDG_STATE_HOME="$U/xdg" "$@"
}
is() {
	local name=$1 want=$2 got
	shift 2
	got=$("$@" 2>&1)
	if [ "$got" = "$want" ]; then ok "$name"; else fail "$name: got '$got', want '$want'"; fi
}

# session WHAT PMEM ARGS...: mount as nobody with -f (ARGS: extra mount.nvfs
# arguments; PMEM the pmem it uses, "" for the one in $XDG_STATE_HOME/nvfs),
# write and read, unmount with fusermount3 -u as nobody
session() {
	local what=$1 pmem=$2 pid stopped=timeout
	shift 2
	as_nobody "$MOUNT" -f "$U/src" "$U/mnt" "$@" >"$T/mount.log" 2>&1 &
	pid=$!
	pids="$pids $pid"
	mnts="$mnts $U/mnt"
	for _ in $(seq 100); do
		grep -q " $U/mnt " /proc/mounts && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q " $U/mnt " /proc/mounts; then
		fail "$what: nobody's mount.nvfs -f did not mount within 10 s:"
		sed 's/^/       | /' "$T/mount.log"
		return
	fi
	ok "$what: nobody mounts"
	[ -n "$pmem" ] || pmem=$(ls "$U/xdg/nvfs/"src-*.pmem 2>/dev/null)
	assert "  ... the pmem $pmem exists" test -f "$pmem"
	grep " $U/mnt " /proc/mounts >"$T/.all"
	shows "  ... as nobody" "^$U/src $U/mnt fuse.nvfs .*user_id=$(id -u nobody)"
	cp "$T/mount.log" "$T/.all"
	shows "  ... logs" "mounted $U/src on $U/mnt; pmem $pmem: .*durability=auto chose op"
	assert "  ... the pmem is nobody's" test "$(stat -c %U "$pmem")" = nobody
	as_nobody sh -c "echo 'written by nobody' >'$U/mnt/f' && dd if=/dev/zero of='$U/mnt/g' bs=64k count=16 conv=fsync status=none"
	is "  ... write and read back" "written by nobody" as_nobody cat "$U/mnt/f"
	is "  ... in SOURCE, nobody's" "written by nobody nobody" echo "$(cat "$U/src/f") $(stat -c %U "$U/src/f")"
	is "  ... a 1 MiB write with fsync" "1048576" stat -c %s "$U/src/g"
	as_nobody rm "$U/mnt/f" "$U/mnt/g"
	assert "  ... unlink" test ! -e "$U/src/f"
	assert "  ... fusermount3 -u as nobody" as_nobody fusermount3 -u "$U/mnt"
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if ! kill -0 "$pid" 2>/dev/null; then wait "$pid"; stopped=$?; fi
	assert "  ... mount.nvfs exits 0" test "$stopped" = 0
	assert "  ... unmounted" test "$(grep -c " $U/mnt " /proc/mounts)" = 0
}

session "pmem= a file nobody creates" "$U/p.pmem" -o pmem="$U/p.pmem",pmem_size=32M
session "the default pmem in \$XDG_STATE_HOME/nvfs" "" -o pmem_size=32M

# replay as nobody: the daemon is killed with the whole run in the journal,
# SOURCE loses everything, and nobody's next mount rebuilds it (no chown:
# everything is nobody's anyway; a read-only file is written all the same)
wait_mnt() {
	for _ in $(seq 100); do
		grep -q " $U/mnt " /proc/mounts && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
as_nobody env NVFS_TEST_NO_CHECKPOINT=1 "$MOUNT" -f "$U/src" "$U/mnt" -o pmem="$U/r.pmem",pmem_size=32M \
	>"$T/mount.log" 2>&1 &
pid=$!
pids="$pids $pid"
if wait_mnt "$pid"; then
	ok "replay as nobody: mounted (never checkpointing)"
	as_nobody sh -c "cd '$U/mnt' && mkdir d && echo one >d/a && mv d/a d/b && echo two >d/a &&
		echo ro >r && chmod 444 r && ln d/b l && setfattr -n user.k -v v d/b" ||
		fail "  ... the workload as nobody"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	fusermount3 -u -z "$U/mnt" 2>/dev/null
	find "$U/src" -mindepth 1 -delete
	as_nobody "$MOUNT" -f "$U/src" "$U/mnt" -o pmem="$U/r.pmem" >"$T/mount.log" 2>&1 &
	pid=$!
	pids="$pids $pid"
	if wait_mnt "$pid"; then
		cp "$T/mount.log" "$T/.all"
		shows "  ... nobody's next mount replays" "replayed [0-9]+ journal entries into $U/src .* [1-9][0-9]* objects made again"
		is "  ... d/a d/b r" "two one ro" echo "$(cat "$U/src/d/a") $(cat "$U/src/d/b") $(cat "$U/src/r")"
		is "  ... owned by nobody, r read-only" "nobody 444" stat -c '%U %a' "$U/src/r"
		is "  ... l and d/b one inode, xattr" "2 v" echo "$(stat -c %h "$U/src/l")" \
			"$(getfattr -n user.k --only-values "$U/src/d/b" 2>/dev/null)"
		assert "  ... fusermount3 -u" as_nobody fusermount3 -u "$U/mnt"
	else
		fail "  ... nobody's remount did not mount:"
		sed 's/^/       | /' "$T/mount.log"
	fi
else
	fail "replay as nobody: no mount:"
	sed 's/^/       | /' "$T/mount.log"
fi
finish
