#!/bin/bash
# t85-corrupt.sh BUILD_DIR -- the short run of the corruption torture
# (tests/torture/corrupt.sh, whose header has the rules): 26 cycles, every
# structure kind at least twice, bytes flipped in a crashed image; fsck.nvfs
# detects each, mount.nvfs refuses naming the structure (SOURCE and the
# image unchanged) or mounts and reports it, nothing crashes.  Uses the
# ASan+UBSan tools of BUILD_DIR/san when they are built (make san-tools).
# Then two regressions the random run reaches only rarely:
#   - the last journal set damaged: fsck.nvfs and the mount warn, naming
#     where the log ends (never silent: docs/JOURNAL.md, "The end of the log");
#   - the binding page's record moved to a free page (the pmem reads as not
#     bound while its journal holds entries): fsck.nvfs and the mount warn,
#     the mount rebinds and replays everything.
# NVFS_CORRUPT_CYCLES / NVFS_CORRUPT_SEED are passed on.
set -u
# shellcheck source=tests/it/lib.sh
. "$(dirname "$0")/lib.sh" || exit 1

if [ "$(id -u)" != 0 ] || [ ! -c /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
	echo "skip: t85 mounts as root (needs /dev/fuse and fusermount3)"
	exit 0
fi
here=$(cd "$(dirname "$0")" && pwd)

expect "fsck --help names --map" 0 '--map' "$FSCK" --help
NVFS_CORRUPT_CYCLES=${NVFS_CORRUPT_CYCLES:-26} "$here/../torture/corrupt.sh" "$B" \
	>"$T/corrupt.log" 2>&1
rc=$?
grep -E '^(kind|[a-z-]+ +[0-9]+ )|^SUMMARY|^corrupt.sh:|FAIL|reproduce' "$T/corrupt.log"
if [ "$rc" = 0 ]; then ok "corrupt.sh: $(grep -o "[0-9]* cycles in" "$T/corrupt.log")"; else
	fail "corrupt.sh exit $rc"; tail -40 "$T/corrupt.log" | sed 's/^/       | /'; fi
for k in sb sb-copy owner-list owner-head record-page alloc-record journal-header \
	 journal-tail journal-set journal-entry fs-record data bind; do
	n=$(sed -n "s/^SUMMARY kind=corrupt-$k cycles=\([0-9]*\) .*/\1/p" "$T/corrupt.log")
	[ "${n:-0}" -ge 2 ] || fail "kind $k ran ${n:-0} cycles (want >= 2)"
done

# ---- the two regressions, on one crashed image --------------------------------
CL=$B/nvfs_crashload
S=$T/src M=$T/mnt P=$T/p.img
mkdir -p "$S" "$M"
mnts="" pids=""
trap 'stop_mounts "$M" "$pids"; for m in $mnts; do fusermount3 -u -z "$m" 2>/dev/null; done; cleanup' EXIT
"$MKFS" -s 32M "$P" >/dev/null 2>&1 || { fail "mkfs"; finish; }
NVFS_TEST_NO_CHECKPOINT=1 "$MOUNT" "$S" "$M" -f -o "pmem=$P,durability=op" >"$T/m0.log" 2>&1 &
d=$!
pids="$pids $d"
for _ in $(seq 100); do mountpoint -q "$M" && break; sleep 0.1; done
timeout 60 "$CL" run -S 85 -m op -n 100 "$M" "$T/state" >/dev/null 2>&1
kill -9 "$d"; wait "$d" 2>/dev/null
fusermount3 -u -z "$M" 2>/dev/null
find "$S" -mindepth 1 -delete
"$FSCK" --map "$P" >"$T/map"
cp "$P" "$T/pristine"
# flip_at OFF XOR: xor the byte at OFF of $P
flip_at() {
	local b
	b=$(od -An -tu1 -j "$1" -N1 "$P" | tr -d ' ')
	# shellcheck disable=SC2059
	printf "$(printf '\\%03o' $((b ^ $2)))" | dd of="$P" bs=1 seek="$1" conv=notrunc status=none
}
# mount_verify NAME REGEX: mounts, the log matches REGEX, verify passes, unmounts
mount_verify() {
	if start_fs "$M" "$T/m.log" "$S" "$M" -o "pmem=$P,durability=op"; then
		if grep -Eq -- "$2" "$T/m.log"; then ok "$1: the mount warns"; else
			fail "$1: the mount does not warn /$2/"; sed 's/^/       | /' "$T/m.log"; fi
		[ -z "${3:-}" ] || assert "$1: verify" timeout 60 "$CL" verify -m op "$T/state" "$M"
		fusermount3 -u "$M"
		for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	else
		fail "$1: mount failed"
	fi
	find "$S" -mindepth 1 -delete
}

last=$(grep '^journal-set .* last$' "$T/map" | head -1)
lsn=$(echo "$last" | sed 's/.*lsn=\([0-9]*\).*/\1/')
flip_at "$(echo "$last" | cut -d' ' -f2)" 1   # its magic
expect "last set damaged: fsck warns" 0 "warning: journal: the log ends at lsn $lsn " "$FSCK" -n "$P"
mount_verify "last set damaged" "warning: journal: the log ends at lsn $lsn "

cp "$T/pristine" "$P"
rec=$(grep '^alloc-record .* slot=1 ' "$T/map" | head -1) # the binding's (slot 1: bind)
grep -q '^owner-head .* slot=1 label=bind' "$T/map" || fail "slot 1 is not the binding owner"
flip_at "$(echo "$rec" | cut -d' ' -f2)" 2   # page + 2: a free page
expect "binding record moved: fsck warns" 0 "warning: SOURCE binding: the pmem is bound to no SOURCE" \
	"$FSCK" -n "$P"
mount_verify "binding record moved" "warning: bound to no SOURCE" verify
finish
