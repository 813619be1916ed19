#!/bin/bash
# t65-journal.sh BUILD_DIR -- journaling as a user sees it: the durability
# mode chosen and logged (op, fsync, auto on tmpfs and on disk,
# writeback_cache), the statistics xattr (keys, counters moving, read-only
# to users), fsync in both modes, a clean unmount leaving the journal empty
# (fsck), a killed daemon leaving records that the next mount replays and
# logs, a read-only mount refusing a journal with records, and the
# create-rename-create pattern surviving a kill with SOURCE wiped.
# Needs root, /dev/fuse and fusermount3 (else skipped).  Every mount is
# unmounted by the EXIT trap; only processes this test started are killed.
set -u
# shellcheck source=tests/it/lib.sh
. "$(dirname "$0")/lib.sh" || exit 1

if [ "$(id -u)" != 0 ]; then
	echo "skip: t65 mounts as root"
	exit 0
fi
if [ ! -c /dev/fuse ] || ! command -v fusermount3 >/dev/null || ! command -v getfattr >/dev/null; then
	echo "skip: needs /dev/fuse, fusermount3 and getfattr (attr)"
	exit 0
fi

mnts="" pids=""
# shellcheck disable=SC2317  # called by the EXIT trap
unmount_all() { stop_mounts "$mnts" "$pids"; }
trap 'unmount_all; cleanup' EXIT
trap 'exit 1' INT TERM HUP

S=$T/src M=$T/mnt P=$T/p.pmem
mkdir -p "$S" "$M"
stats() { getfattr -n user.nvfs.stats --only-values "$M" 2>/dev/null; }
stat_of() { stats | sed -En "s/^$1: //p"; }

# ---- durability modes, as logged ----------------------------------------
for mode in op fsync auto; do
	if ! start_fs "$M" "$T/m.log" "$S" "$M" -o pmem="$P",pmem_size=32M,durability=$mode; then
		fail "durability=$mode: no mount"
		continue
	fi
	cp "$T/m.log" "$T/.all"
	case $mode in
	op) shows "durability=op is logged" "durability=op$" ;;
	fsync) shows "durability=fsync is logged" "; durability=fsync$" ;;
	auto) shows "durability=auto on a tmpfs pmem picks op, and says why" \
		"durability=auto chose op: a persist is a cache flush or a store to tmpfs" ;;
	esac
	stats >"$T/.all"
	want=$mode; [ $mode = auto ] && want=op
	shows "  ... stats say $want" "^durability: $want"
	# fsync works (op: ENOSYS once, then free; fsync: a commit)
	assert "  ... write + fsync through the mount" dd if=/dev/zero of="$M/f$mode" bs=4k count=8 conv=fsync status=none
	assert "  ... fsync of a directory" python3 -c "import os; fd=os.open('$M', os.O_RDONLY); os.fsync(fd)"
	stats >"$T/.all"
	shows "  ... stats" "^journal_bytes: [1-9]" "^records_logged: [1-9]" "^commits: [1-9]" \
		"^pmem_pages_total: [1-9]" "^checkpoint_period_ms: 5000$" "^log_errors: 0$"
	stop_fs "$M" "$pid" fusermount
	assert "  ... clean unmount exits 0" test "$stopped" = 0
	expect "  ... and leaves the journal empty" 0 ", 0 entries to replay$" "$FSCK" -n "$P"
done

# durability=auto with the pmem on a disk file system picks fsync
D=$(mktemp -d "${TMPDIR:-/var/tmp}/nvfs-t65.XXXXXX")
if [ "$(stat -f -c %T "$D")" != tmpfs ] &&
   start_fs "$M" "$T/m.log" "$S" "$M" -o pmem="$D/p.pmem",pmem_size=32M; then
	cp "$T/m.log" "$T/.all"
	shows "durability=auto on a disk pmem picks fsync, and says why" \
		"durability=auto chose fsync: a persist is an msync to disk"
	stop_fs "$M" "$pid" fusermount
else
	echo "skip: no disk file system for a pmem under ${TMPDIR:-/var/tmp}"
fi
rm -rf "$D"

# writeback_cache cannot give durability=op
if start_fs "$M" "$T/m.log" "$S" "$M" -o pmem="$P",durability=op,writeback_cache; then
	cp "$T/m.log" "$T/.all"
	shows "writeback_cache forces durability=fsync" "durability=fsync: writeback_cache holds writes in the kernel"
	stop_fs "$M" "$pid" fusermount
fi

# ---- statistics --------------------------------------------------------------
if start_fs "$M" "$T/m.log" "$S" "$M" -o pmem="$P",checkpoint_secs=1; then
	before=$(stat_of records_logged)
	for i in $(seq 20); do echo "$i" >"$M/r$i"; done
	after=$(stat_of records_logged)
	assert "stats: 20 creates+writes are >= 40 more records ($before -> $after)" \
		test $((after - before)) -ge 40
	sleep 2.5
	assert "stats: the 1 s checkpointer ran (checkpoints $(stat_of checkpoints))" \
		test "$(stat_of checkpoints)" -ge 1
	assert "stats: and the journal is empty again" test "$(stat_of entries_not_checkpointed)" = 0
	expect "stats: setting the statistics xattr is refused" 1 "Operation not permitted" \
		setfattr -n user.nvfs.stats -v x "$M"
	assert "stats: other xattrs of the root pass through" setfattr -n user.other -v x "$M"
	assert "  ... into SOURCE" test "$(getfattr -n user.other --only-values "$S" 2>/dev/null)" = x
	stop_fs "$M" "$pid" fusermount
fi

# ---- a killed daemon: records stay, the next mount replays them -------------
rm -rf "$S"/* "$P"
if NVFS_TEST_NO_CHECKPOINT=1 start_fs "$M" "$T/m.log" "$S" "$M" -o pmem="$P",pmem_size=32M; then
	(cd "$M" && echo one >a && mv a b && echo two >a && mkdir d && echo three >d/c &&
	 ln d/c d/l && chmod 640 b && setfattr -n user.k -v v b && truncate -s 2 a) ||
		fail "workload through the mount"
	kill_fs "$pid"
	expect "killed: fsck counts the records left" 0 ", 1[0-9] entries to replay$" "$FSCK" -n "$P"
	before=$(sum "$P")
	expect "a read-only mount refuses a journal with records" 1 \
		"journal holds 1[0-9] entries not yet applied to SOURCE; mount it read-write once to replay them$" \
		"$MOUNT" "$S" "$M" -o pmem="$P",ro
	unchanged "  ... pmem unchanged" "$P" "$before"
	find "$S" -mindepth 1 -delete # SOURCE lost everything: replay rebuilds it
	if start_fs "$M" "$T/m.log" "$S" "$M" -o pmem="$P"; then
		cp "$T/m.log" "$T/.all"
		shows "the next mount replays and logs it" \
			"replayed 1[0-9] journal entries into $S in [0-9.]+ s \([0-9]+ data records; .* [1-9][0-9]* objects made again"
		assert "  ... a = 'tw' (create, rename, create, truncate)" test "$(cat "$M/a")" = tw
		assert "  ... b = 'one', mode 640, xattr" test "$(cat "$M/b")/$(stat -c %a "$M/b")/$(getfattr -n user.k --only-values "$M/b" 2>/dev/null)" = one/640/v
		assert "  ... d/c and d/l are one inode" test "$(stat -c %i "$M/d/c")" = "$(stat -c %i "$M/d/l")"
		assert "  ... and in SOURCE" test "$(cat "$S/d/l")" = three
		assert "  ... no orphanage left" test ! -e "$S/.nvfs-replay"
		stats >"$T/.all"
		shows "  ... stats show the replay" "^replayed_entries: 1[0-9]$"
		stop_fs "$M" "$pid" fusermount
		expect "  ... then a clean unmount empties the journal" 0 ", 0 entries to replay$" "$FSCK" -n "$P"
	fi
fi
# ---- the orphanage's name is reserved ------------------------------------------
rm -rf "$S"/* "$P"
if NVFS_TEST_NO_CHECKPOINT=1 start_fs "$M" "$T/m.log" "$S" "$M" -o pmem="$P",pmem_size=32M; then
	expect "the orphanage's name cannot be made through the mount" 1 "Operation not permitted" \
		mkdir "$M/.nvfs-replay"
	expect "  ... nor renamed to" 1 "Operation not permitted" sh -c "touch '$M/x' && mv '$M/x' '$M/.nvfs-replay'"
	(cd "$M" && echo one >a && mv a b && echo two >a) || fail "workload"
	kill_fs "$pid"
	# someone makes that name in SOURCE behind nvfs's back, and a new a
	mkdir "$S/.nvfs-replay" && echo mine >"$S/.nvfs-replay/keep"
	rm "$S/a" && echo other >"$S/a"
	expect "replay refuses to use a .nvfs-replay it did not make" 1 \
		"SOURCE/.nvfs-replay exists and was not made by nvfs: rename it, replay needs that name; the journal was left as it is$" \
		"$MOUNT" -f "$S" "$M" -o pmem="$P"
	assert "  ... and leaves it alone" test "$(cat "$S/.nvfs-replay/keep")" = mine
	mv "$S/.nvfs-replay" "$S/theirs"
	if start_fs "$M" "$T/m.log" "$S" "$M" -o pmem="$P"; then
		assert "  ... once renamed, replay puts the logged a back" test "$(cat "$M/a")/$(cat "$M/b")" = two/one
		assert "  ... and removes its own orphanage" test ! -e "$S/.nvfs-replay"
		stop_fs "$M" "$pid" fusermount
	fi
fi
finish
