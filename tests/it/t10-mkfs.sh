#!/bin/bash
# t10-mkfs.sh BUILD_DIR -- mkfs.nvfs: creating, sizing and refusing to
# overwrite.  Every bad input must exit 1 with exactly one stderr line
# "mkfs.nvfs: ..." naming the problem, and must leave the pmem untouched.
set -u
B=$(cd "${1:-${NVFS_BUILD:-build}}" && pwd) || exit 1
MKFS=$B/mkfs.nvfs
FSCK=$B/fsck.nvfs
MIN=17825792
T=$(mktemp -d /dev/shm/nvfs-it.XXXXXX) || exit 1
holder=
cleanup() {
	[ -n "$holder" ] && kill "$holder" 2>/dev/null && wait "$holder" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
fails=0

# ---- helpers (the same in every t*.sh) -------------------------------------
ok() { echo "ok   $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }
# expect NAME RC REGEX CMD... -- CMD exits RC and its stdout+stderr match REGEX
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
# expect_err1 NAME RC REGEX CMD... -- as expect, and the output is exactly one
# line, on stderr, starting with "PROG: "
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
# assert NAME CMD... -- CMD succeeds
assert() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else fail "$name"; fi
}
sum() { cksum <"$1"; }
re_quote() { printf '%s' "$1" | sed 's/[][\\.*^$+?(){}|]/\\&/g'; }
size() { stat -c %s "$1"; }
uuid_of() { grep -Eo 'uuid [0-9a-f-]{36}' "$T/.all" | head -1 | cut -d' ' -f2; }
# hold_lock FILE -- hold an exclusive flock(1) on FILE from a background process
hold_lock() {
	rm -f "$T/.locked"
	(exec 9<>"$1"; flock -x 9 && touch "$T/.locked" && exec sleep 60) &
	holder=$!
	for _ in $(seq 100); do [ -e "$T/.locked" ] && return 0; sleep 0.05; done
	return 1
}
release_lock() { kill "$holder"; wait "$holder" 2>/dev/null; holder=; }
# ----------------------------------------------------------------------------

# usage
expect_err1 "no arguments" 1 "missing PMEM argument.*usage: mkfs.nvfs" "$MKFS"
expect_err1 "unknown option" 1 "unknown option '-x'.*usage:" "$MKFS" -x "$T/p"
expect_err1 "unknown long option" 1 "unknown option '--bogus'" "$MKFS" --bogus "$T/p"
expect_err1 "-s without argument" 1 "option '-s' needs an argument" "$MKFS" -s
expect_err1 "two PMEMs" 1 "unexpected argument '$T/q'" "$MKFS" "$T/p" "$T/q"
expect "-V" 0 "^mkfs.nvfs \(nvfs\) [0-9]+\.[0-9]+" "$MKFS" -V
expect "--version" 0 "^mkfs.nvfs \(nvfs\) [0-9]" "$MKFS" --version
expect "--help" 0 "usage: mkfs.nvfs .*-s SIZE" "$MKFS" --help
assert "usage errors create nothing" test ! -e "$T/p"

# missing PMEM
p=$T/p
expect_err1 "missing file without -s" 1 "^mkfs.nvfs: $p: does not exist; give -s SIZE to create it$" "$MKFS" "$p"
assert "  ... nothing created" test ! -e "$p"
expect_err1 "missing parent directory" 1 "$T/nodir/p: cannot create: No such file" "$MKFS" -s 32M "$T/nodir/p"

# sizes
expect_err1 "-s too small" 1 "$p: 1048576 bytes is too small: nvfs needs at least $MIN bytes" "$MKFS" -s 1M "$p"
expect_err1 "-s one byte below the minimum" 1 "too small.*at least $MIN bytes" "$MKFS" -s $((MIN - 1)) "$p"
expect_err1 "-s 0" 1 "0 bytes is too small.*at least $MIN bytes" "$MKFS" -s 0 "$p"
for bad in "" abc -5 +5 10X 1.5G 64MB " 64M" "64M " 64Mi 0x100 99999999999999999999 17179869184T; do
	expect_err1 "bad size '$bad'" 1 "invalid size '$(re_quote "$bad")'" "$MKFS" -s "$bad" "$p"
done
expect_err1 "-s 2^63 bytes" 1 "$p: 9223372036854775808 bytes is too large" "$MKFS" -s 8388608T "$p"
expect_err1 "-s 1P (more than tmpfs can hold)" 1 "$p: cannot size to 1125899906842624 bytes" "$MKFS" -s 1073741824M "$p"
assert "  ... nothing created" test ! -e "$p"

# labels
expect_err1 "label of 32 bytes" 1 "label '0123456789abcdef0123456789abcdef' is longer than 31 bytes" \
	"$MKFS" -s 32M -L 0123456789abcdef0123456789abcdef "$p"
assert "  ... nothing created" test ! -e "$p"

# create
expect "create 32M with a label" 0 "^$p: created a new nvfs namespace of 33554432 bytes.*uuid [0-9a-f-]{36}, label 'lbl', store granularity page$" \
	"$MKFS" -s 32M -L lbl "$p"
u1=$(uuid_of)
assert "  ... size 32 MiB, mode 0600" test "$(stat -c '%s %a' "$p")" = "33554432 600"
expect "  ... fsck clean" 0 "clean" "$FSCK" "$p"
expect "create at exactly the minimum, 31-byte label" 0 "namespace of $MIN bytes.*label '0123456789abcdef0123456789abcde'" \
	"$MKFS" -s $MIN -L 0123456789abcdef0123456789abcde "$T/min"
expect "  ... fsck clean" 0 "clean" "$FSCK" "$T/min"
expect "size suffixes: 20MiB" 0 "of 20971520 bytes" "$MKFS" -s 20MiB "$T/s1"
expect "size suffixes: 20m" 0 "of 20971520 bytes" "$MKFS" -s 20m "$T/s2"
expect "size suffixes: 20480K" 0 "of 20971520 bytes" "$MKFS" -s 20480K "$T/s3"
expect "size in plain bytes, not page-aligned" 0 "of 20971520 bytes" "$MKFS" -s 20971521 "$T/s4"
assert "  ... file has the exact size given" test "$(size "$T/s4")" = 20971521

# an existing nvfs namespace is refused without -f, and left untouched
before=$(sum "$p")
expect_err1 "existing nvfs without -f" 1 \
	"^mkfs.nvfs: $p: already holds an nvfs namespace \(uuid $u1, label 'lbl'\); use -f to overwrite it$" "$MKFS" "$p"
expect_err1 "existing nvfs without -f, with -s" 1 "already holds an nvfs namespace \(uuid $u1" "$MKFS" -s 64M "$p"
assert "  ... content and size unchanged" test "$(sum "$p")" = "$before"
expect "  ... fsck still clean" 0 "clean" "$FSCK" "$p"
expect "  ... with the same uuid" 0 "ns uuid +$u1" "$FSCK" -v "$p"

# -f overwrites
expect "-f overwrites" 0 "formatted an nvfs namespace of 33554432 bytes" "$MKFS" -f "$p"
u2=$(uuid_of)
assert "  ... with a new uuid" test -n "$u2" -a "$u2" != "$u1"
expect "  ... fsck clean, new uuid" 0 "ns uuid +$u2" "$FSCK" -v "$p"
expect "-f -s 48M resizes" 0 "namespace of 50331648 bytes" "$MKFS" -f -s 48M "$p"
assert "  ... file is 48 MiB" test "$(size "$p")" = 50331648
expect "-f -s 24M shrinks" 0 "namespace of 25165824 bytes" "$MKFS" -f -s 24M "$p"
assert "  ... file is 24 MiB" test "$(size "$p")" = 25165824
expect "  ... fsck clean" 0 "clean" "$FSCK" "$p"

# unknown non-zero data is refused without -f, and left untouched
d=$T/data
truncate -s 20M "$d"
head -c 4096 /dev/urandom | dd of="$d" conv=notrunc status=none
before=$(sum "$d")
expect_err1 "unknown data without -f" 1 "^mkfs.nvfs: $d: holds non-zero data that is not an nvfs namespace.*; use -f to overwrite it$" "$MKFS" "$d"
expect_err1 "unknown data without -f, with -s" 1 "holds non-zero data.*use -f" "$MKFS" -s 40M "$d"
assert "  ... content and size unchanged" test "$(sum "$d")" = "$before"
d2=$T/data-at-end
truncate -s 20M "$d2"
printf 'signature' | dd of="$d2" bs=1 seek=$((20 * 1048576 - 512)) conv=notrunc status=none
before=$(sum "$d2")
expect_err1 "data only in the last MiB without -f" 1 "holds non-zero data" "$MKFS" "$d2"
assert "  ... content unchanged" test "$(sum "$d2")" = "$before"
expect "unknown data with -f" 0 "formatted an nvfs namespace" "$MKFS" -f "$d"
expect "  ... fsck clean" 0 "clean" "$FSCK" "$d"

# existing zero, empty and small files
z=$T/zero
truncate -s 24M "$z"
expect "existing zero file, whole" 0 "formatted an nvfs namespace of 25165824 bytes" "$MKFS" "$z"
expect "  ... fsck clean" 0 "clean" "$FSCK" "$z"
truncate -s 20M "$T/zero2"
expect "existing zero file, -s 40M" 0 "namespace of 41943040 bytes" "$MKFS" -s 40M "$T/zero2"
assert "  ... file is 40 MiB" test "$(size "$T/zero2")" = 41943040
expect "  ... fsck clean" 0 "clean" "$FSCK" "$T/zero2"
truncate -s 1M "$T/small"
expect_err1 "existing 1 MiB file without -s" 1 "$T/small: 1048576 bytes is too small: nvfs needs at least $MIN" "$MKFS" "$T/small"
assert "  ... size unchanged" test "$(size "$T/small")" = 1048576
: >"$T/empty"
expect_err1 "existing empty file without -s" 1 "$T/empty: 0 bytes is too small" "$MKFS" "$T/empty"
expect "existing empty file with -s 20M" 0 "formatted an nvfs namespace of 20971520 bytes" "$MKFS" -s 20M "$T/empty"
expect "  ... fsck clean" 0 "clean" "$FSCK" "$T/empty"

# not a file
mkdir "$T/dir"
expect_err1 "a directory" 1 "$T/dir: is a directory" "$MKFS" -f "$T/dir"
expect_err1 "a character device that is not device-DAX" 1 "/dev/null: .*not a device-DAX" "$MKFS" -f /dev/null

# in use: another process holds the lock
"$MKFS" -s 32M "$T/busy" >/dev/null
before=$(sum "$T/busy")
if hold_lock "$T/busy"; then
	expect_err1 "in use, without -f" 1 "$T/busy: pmem is in use by another process" "$MKFS" "$T/busy"
	expect_err1 "in use, with -f" 1 "$T/busy: pmem is in use by another process" "$MKFS" -f "$T/busy"
	release_lock
	assert "  ... content unchanged" test "$(sum "$T/busy")" = "$before"
	: >"$T/busy-empty"
	hold_lock "$T/busy-empty"
	expect_err1 "in use, empty file with -s" 1 "pmem is in use" "$MKFS" -s 20M "$T/busy-empty"
	release_lock
	assert "  ... still empty" test "$(size "$T/busy-empty")" = 0
else
	fail "could not take the lock with flock(1)"
fi

# a file mkfs created is removed again when making it fails
(trap '' XFSZ; ulimit -f 10240; exec "$MKFS" -s 32M "$T/efbig") >"$T/.out" 2>"$T/.err"
rc=$?
if [ $rc -eq 1 ] && grep -q "$T/efbig: cannot size to 33554432 bytes: File too large" "$T/.err" &&
   [ "$(wc -l <"$T/.err")" -eq 1 ]; then ok "sizing fails (RLIMIT_FSIZE)"; else
	fail "sizing fails (RLIMIT_FSIZE): exit $rc"; cat "$T/.out" "$T/.err"; fi
assert "  ... the file it created is gone" test ! -e "$T/efbig"
truncate -s 0 "$T/efbig-mine"
(trap '' XFSZ; ulimit -f 10240; exec "$MKFS" -s 32M "$T/efbig-mine") >/dev/null 2>&1
assert "  ... but a file it did not create stays (and stays empty)" test -e "$T/efbig-mine" -a "$(size "$T/efbig-mine")" = 0

[ $fails -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
