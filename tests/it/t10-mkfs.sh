#!/bin/bash
# t10-mkfs.sh BUILD_DIR -- mkfs.nvfs: creating, sizing, the journal (-J)
# and refusing to overwrite.  Every bad input must exit 1 with exactly one
# stderr line "mkfs.nvfs: ..." naming the problem, and must leave the pmem
# untouched.
set -u
# shellcheck source=tests/it/lib.sh
. "$(dirname "$0")/lib.sh" || exit 1
MIN=17825792    # the smallest namespace (NVFS_MIN_NS_BYTES): with -J 0
MINJ=25169920   # the smallest with a journal: 16 MiB + 2 buckets of 4 MiB + a page

# usage
expect_err1 "no arguments" 1 "missing PMEM argument.*usage: mkfs.nvfs" "$MKFS"
expect_err1 "unknown option" 1 "unknown option '-x'.*usage:" "$MKFS" -x "$T/p"
expect_err1 "unknown long option" 1 "unknown option '--bogus'" "$MKFS" --bogus "$T/p"
expect_err1 "-s without argument" 1 "option '-s' needs an argument" "$MKFS" -s
expect_err1 "two PMEMs" 1 "unexpected argument '$T/q'" "$MKFS" "$T/p" "$T/q"
expect "-V" 0 "^mkfs.nvfs \(nvfs\) [0-9]+\.[0-9]+" "$MKFS" -V
expect "--version" 0 "^mkfs.nvfs \(nvfs\) [0-9]" "$MKFS" --version
expect "--help" 0 "usage: mkfs.nvfs .*-s SIZE" "$MKFS" --help
assert "  ... --help describes -J" grep -q "^  -J SIZE" "$T/.all"
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
expect "create 32M with a label" 0 "^$p: created a new nvfs namespace of 33554432 bytes.*uuid [0-9a-f-]{36}, label 'lbl', store granularity page, journal 8 MiB$" \
	"$MKFS" -s 32M -L lbl "$p"
u1=$(uuid_of)
assert "  ... size 32 MiB, mode 0600" test "$(stat -c '%s %a' "$p")" = "33554432 600"
expect "  ... fsck clean" 0 "clean" "$FSCK" "$p"
expect "create at exactly the minimum (-J 0), 31-byte label" 0 "namespace of $MIN bytes.*label '0123456789abcdef0123456789abcde'.*, no journal$" \
	"$MKFS" -s $MIN -J 0 -L 0123456789abcdef0123456789abcde "$T/min"
expect "  ... fsck clean" 0 "clean, 0 owners, 0 records, 0/256 pages used, no journal$" "$FSCK" "$T/min"
expect "create at exactly the minimum with a journal" 0 "namespace of $MINJ bytes .* 2049 allocatable 4 KiB pages.*, journal 8 MiB$" \
	"$MKFS" -s $MINJ "$T/minj"
expect "  ... fsck clean" 0 "clean, 1 owners, 3 records, 2049/2049 pages used, journal 8 MiB, 0 entries to replay$" "$FSCK" "$T/minj"
expect_err1 "a page less: no room for the default journal" 1 \
	"^mkfs.nvfs: $T/minj2: a namespace of 24 MiB has no room for a journal of 8 MiB \(at most 4 MiB fits\); give a larger -s, or -J 0 for a namespace without a journal$" \
	"$MKFS" -s $((MINJ - 4096)) "$T/minj2"
assert "  ... the file it created is gone" test ! -e "$T/minj2"
expect_err1 "the minimum without -J 0: no room for a journal" 1 "$T/minj2: a namespace of 17 MiB has no room for a journal of 8 MiB \(at most 0 MiB fits\)" \
	"$MKFS" -s $MIN "$T/minj2"
assert "  ... the file it created is gone" test ! -e "$T/minj2"
expect "size suffixes: 20MiB" 0 "of 20971520 bytes" "$MKFS" -J 0 -s 20MiB "$T/s1"
expect "size suffixes: 20m" 0 "of 20971520 bytes" "$MKFS" -J 0 -s 20m "$T/s2"
expect "size suffixes: 20480K" 0 "of 20971520 bytes" "$MKFS" -J 0 -s 20480K "$T/s3"
expect "size in plain bytes, not page-aligned" 0 "of 20971520 bytes" "$MKFS" -J 0 -s 20971521 "$T/s4"
assert "  ... file has the exact size given" test "$(size "$T/s4")" = 20971521
expect "size in plain bytes, not page-aligned, with a journal" 0 "of 33554432 bytes.*journal 8 MiB$" "$MKFS" -s 33554433 "$T/s5"
assert "  ... file has the exact size given" test "$(size "$T/s5")" = 33554433
expect "  ... fsck clean" 0 "clean.*journal 8 MiB" "$FSCK" "$T/s5"

# an existing nvfs namespace is refused without -f, and left untouched
before=$(sum "$p")
expect_err1 "existing nvfs without -f" 1 \
	"^mkfs.nvfs: $p: already holds an nvfs namespace \(uuid $u1, label 'lbl'\); use -f to overwrite it$" "$MKFS" "$p"
expect_err1 "existing nvfs without -f, with -s" 1 "already holds an nvfs namespace \(uuid $u1" "$MKFS" -s 64M "$p"
unchanged "  ... content and size unchanged" "$p" "$before"
expect "  ... fsck still clean" 0 "clean" "$FSCK" "$p"
expect "  ... with the same uuid" 0 "ns uuid +$u1" "$FSCK" -v "$p"

# -f overwrites
expect "-f overwrites" 0 "formatted an nvfs namespace of 33554432 bytes" "$MKFS" -f "$p"
u2=$(uuid_of)
assert "  ... with a new uuid" test -n "$u2" -a "$u2" != "$u1"
expect "  ... fsck clean, new uuid" 0 "ns uuid +$u2" "$FSCK" -v "$p"
expect "-f -s 48M resizes" 0 "namespace of 50331648 bytes" "$MKFS" -f -s 48M "$p"
assert "  ... file is 48 MiB" test "$(size "$p")" = 50331648
expect "-f -s 28M shrinks" 0 "namespace of 29360128 bytes.*journal 8 MiB$" "$MKFS" -f -s 28M "$p"
assert "  ... file is 28 MiB" test "$(size "$p")" = 29360128
expect "  ... fsck clean" 0 "clean" "$FSCK" "$p"

# unknown non-zero data is refused without -f, and left untouched
d=$T/data
truncate -s 32M "$d"
head -c 4096 /dev/urandom | dd of="$d" conv=notrunc status=none
before=$(sum "$d")
expect_err1 "unknown data without -f" 1 "^mkfs.nvfs: $d: holds non-zero data that is not an nvfs namespace.*; use -f to overwrite it$" "$MKFS" "$d"
expect_err1 "unknown data without -f, with -s" 1 "holds non-zero data.*use -f" "$MKFS" -s 40M "$d"
unchanged "  ... content and size unchanged" "$d" "$before"
d2=$T/data-at-end
truncate -s 20M "$d2"
printf 'signature' | dd of="$d2" bs=1 seek=$((20 * 1048576 - 512)) conv=notrunc status=none
before=$(sum "$d2")
expect_err1 "data only in the last MiB without -f" 1 "holds non-zero data" "$MKFS" "$d2"
unchanged "  ... content unchanged" "$d2" "$before"
expect "unknown data with -f" 0 "formatted an nvfs namespace" "$MKFS" -f "$d"
expect "  ... fsck clean" 0 "clean" "$FSCK" "$d"

# existing zero, empty and small files
z=$T/zero
truncate -s 32M "$z"
expect "existing zero file, whole" 0 "formatted an nvfs namespace of 33554432 bytes" "$MKFS" "$z"
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
expect "existing empty file with -s 32M" 0 "formatted an nvfs namespace of 33554432 bytes" "$MKFS" -s 32M "$T/empty"
expect "  ... fsck clean" 0 "clean" "$FSCK" "$T/empty"

# the journal: -J SIZE, in whole 4 MiB buckets; the default is a quarter of
# the pages, 8 MiB to 1 GiB; -J 0 makes none
j=$T/j
expect "default journal of a 256 MiB namespace: a quarter of 240 MiB of pages" 0 \
	"^$j: created a new nvfs namespace of 268435456 bytes .*, journal 60 MiB$" "$MKFS" -s 256M "$j"
expect "  ... fsck says so" 0 "^$j: clean, 1 owners, 16 records, 15361/61440 pages used, journal 60 MiB, 0 entries to replay$" "$FSCK" "$j"
expect "  ... fsck -v describes it" 0 "^journal: 60 MiB$" "$FSCK" -v "$j"
shows "  ... -v shows" "^  buckets +15 of 4 MiB, ring 62914560 bytes, first at 0x[0-9a-f]+, last at 0x[0-9a-f]+$" \
	"^  header page +0x[0-9a-f]+$" "^  tail +lsn 0, seq 1$" "^  head +lsn 0, committed seq 0$" \
	"^  used +0 of 62914560 bytes \(0\.0%\)$" "^  to replay +0 entries in 0 sets, 0 payload bytes$" \
	"slot 0: uuid 6e766673-2d6a-6f75-726e-616c00000001, label 'journal', 16 allocations, 15361 pages"
expect "default journal of a 32 MiB namespace: the 8 MiB minimum" 0 ", journal 8 MiB$" "$MKFS" -f -s 32M "$j"
expect "-J 12M" 0 "^$j: formatted an nvfs namespace of 67108864 bytes .*, journal 12 MiB$" "$MKFS" -f -s 64M -J 12M "$j"
expect "  ... fsck -v: 3 buckets" 0 "buckets +3 of 4 MiB, ring 12582912 bytes" "$FSCK" -v "$j"
assert "  ... summary" grep -q "clean, 1 owners, 4 records, 3073/12288 pages used, journal 12 MiB, 0 entries to replay$" "$T/.all"
expect "-J 12MiB, -J 12582912: the same" 0 ", journal 12 MiB$" "$MKFS" -f -s 64M -J 12MiB "$j"
expect "  ..." 0 ", journal 12 MiB$" "$MKFS" -f -s 64M -J 12582912 "$j"
expect "-J 10M: rounded down to whole buckets" 0 ", journal 8 MiB$" "$MKFS" -f -s 64M -J 10M "$j"
expect "-J 0: no journal" 0 "^$j: formatted an nvfs namespace of 67108864 bytes .*, no journal$" "$MKFS" -f -s 64M -J 0 "$j"
expect "  ... fsck: no journal, not an error" 0 "^$j: clean, 0 owners, 0 records, 0/12288 pages used, no journal$" "$FSCK" "$j"
expect "  ... fsck -v says so" 0 "^journal: no journal" "$FSCK" -v "$j"
expect "the last -J counts" 0 ", journal 8 MiB$" "$MKFS" -f -s 64M -J 0 -J 8M "$j"
before=$(sum "$j")
jn=$T/jnew
expect_err1 "-J 4M: too small" 1 "^mkfs.nvfs: $jn: a journal of 4194304 bytes is too small: at least 8 MiB$" "$MKFS" -s 64M -J 4M "$jn"
expect_err1 "-J 7M: too small" 1 "a journal of 7340032 bytes is too small: at least 8 MiB" "$MKFS" -s 64M -J 7M "$jn"
expect_err1 "-J 1: too small" 1 "a journal of 1 bytes is too small" "$MKFS" -s 64M -J 1 "$jn"
assert "  ... nothing created" test ! -e "$jn"
expect_err1 "-J larger than fits a new file" 1 \
	"^mkfs.nvfs: $jn: a namespace of 64 MiB has no room for a journal of 64 MiB \(at most 44 MiB fits\)$" "$MKFS" -s 64M -J 64M "$jn"
assert "  ... the file it created is removed" test ! -e "$jn"
expect "  ... at most 44 MiB does fit" 0 ", journal 44 MiB$" "$MKFS" -s 64M -J 44M "$jn"
expect "  ... fsck clean" 0 "clean, 1 owners, 12 records, 11265/12288 pages used, journal 44 MiB" "$FSCK" "$jn"
expect_err1 "-J larger than fits, -f on an existing namespace" 1 "$j: a namespace of 64 MiB has no room for a journal of 1024 MiB \(at most 44 MiB fits\)" \
	"$MKFS" -f -J 1G "$j"
unchanged "  ... it is left unchanged" "$j" "$before"
jz=$T/jzero
truncate -s 32M "$jz"
expect_err1 "-J larger than fits an existing zero file" 1 "^mkfs.nvfs: $jz: a namespace of 32 MiB has no room for a journal of 16 MiB \(at most 12 MiB fits\)$" \
	"$MKFS" -J 16M "$jz"
assert "  ... it is left unchanged (32 MiB of zeros)" test "$(size "$jz")" = 33554432 -a "$(sum "$jz")" = "$(head -c 32M /dev/zero | cksum)"
expect_err1 "-J larger than fits, with -s on an existing zero file" 1 "$jz: a namespace of 48 MiB has no room for a journal of 64 MiB \(at most 28 MiB fits\)" \
	"$MKFS" -s 48M -J 64M "$jz"
assert "  ... it is not resized (still 32 MiB of zeros)" test "$(size "$jz")" = 33554432 -a "$(sum "$jz")" = "$(head -c 32M /dev/zero | cksum)"
truncate -s 20M "$T/small0"
expect_err1 "default journal does not fit an existing zero file" 1 "$T/small0: a namespace of 20 MiB has no room for a journal of 8 MiB \(at most 0 MiB fits\); give a larger -s, or -J 0" \
	"$MKFS" "$T/small0"
assert "  ... it is left unchanged" test "$(size "$T/small0")" = 20971520 -a "$(sum "$T/small0")" = "$(head -c 20M /dev/zero | cksum)"
for bad in "" abc -5 +5 1.5G 8MB " 8M" "8M " 8Mi 0x800000 99999999999999999999; do
	expect_err1 "bad -J '$bad'" 1 "invalid size '$(re_quote "$bad")'" "$MKFS" -s 64M -J "$bad" "$jn.bad"
done
expect_err1 "-J without argument" 1 "option '-J' needs an argument" "$MKFS" -s 64M "$jn.bad" -J
assert "  ... nothing created" test ! -e "$jn.bad"

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
	unchanged "  ... content unchanged" "$T/busy" "$before"
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

finish
