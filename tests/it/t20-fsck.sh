#!/bin/bash
# t20-fsck.sh BUILD_DIR -- fsck.nvfs: exit codes (fsck(8): 0 clean, 1 errors
# corrected, 4 errors left, 8 operational error), -n never writing, repair of
# superblock and owner-list damage, and the -v report.  Corruption is one or
# a few bytes written with dd conv=notrunc at offsets from nvfs_format.h.
# Owner chains and records need a running allocator: the CUnit suites cover
# their corruption.  A fresh namespace has a journal (its owner is in slot
# 0); t25-fsck-journal.sh checks the journal itself.
set -u
# shellcheck source=tests/it/lib.sh
. "$(dirname "$0")/lib.sh" || exit 1

SB=4096         # primary superblock (NVFS_SB_OFF)
SB2=6144        # backup copy (NVFS_SB_BACKUP_OFF)
OL=8192         # owner list header (NVFS_OWNER_LIST_OFF)
SLOT1_COMMIT=$((OL + 64 + 128 + 48))    # a free slot
# fresh NAME -- a new 32 MiB namespace $T/NAME; sets $u to its uuid
fresh() {
	"$MKFS" -s 32M -L fscktest "$T/$1" >"$T/.mkfs" 2>&1 || { fail "mkfs $1"; cat "$T/.mkfs"; }
	u=$(grep -Eo 'uuid [0-9a-f-]{36}' "$T/.mkfs" | cut -d' ' -f2)
}
# repaired NAME FILE OFFSET BYTES NREGEX REGEX [NAME2 REGEX2] -- BYTES poked
# at OFFSET of a fresh $T/FILE are an error that "NAME, -n" reports (exit 4,
# output matching NREGEX) without writing, and that "NAME, repair" corrects
# (exit 1, REGEX); then the check NAME2 (default "  ... second run clean")
# finds it clean (exit 0, REGEX2, default "clean")
repaired() {
	local f=$T/$2 before
	fresh "$2"
	poke "$f" "$3" "$4"
	before=$(sum "$f")
	expect "$1, -n" 4 "$5" "$FSCK" -n "$f"
	unchanged "  ... -n wrote nothing" "$f" "$before"
	expect "$1, repair" 1 "$6" "$FSCK" "$f"
	expect "${7:-  ... second run clean}" 0 "${8:-clean}" "$FSCK" "$f"
}

# usage (usage errors are operational errors: 8)
expect_err1 "no arguments" 8 "missing PMEM argument.*usage: fsck.nvfs" "$FSCK"
expect_err1 "unknown option" 8 "unknown option '-x'" "$FSCK" -x "$T/p"
expect_err1 "-n with -y" 8 "-n cannot be combined with -y" "$FSCK" -n -y "$T/p"
expect_err1 "two PMEMs" 8 "unexpected argument" "$FSCK" "$T/p" "$T/q"
expect_err1 "unknown long option" 8 "unknown option '--bogus'" "$FSCK" --bogus "$T/p"
expect "-V" 0 "^fsck.nvfs \(nvfs\) [0-9]" "$FSCK" -V
expect "--version" 0 "^fsck.nvfs \(nvfs\) [0-9]" "$FSCK" --version
expect "-h" 0 "usage: fsck.nvfs" "$FSCK" -h
expect "--help" 0 "usage: fsck.nvfs" "$FSCK" --help
assert "  ... --help names --version" grep -q -- "-V, --version" "$T/.all"
assert "  ... --help mentions the journal" grep -q "journal" "$T/.all"

# cannot open / not nvfs: 8
expect_err1 "missing file" 8 "$T/nope: cannot open: No such file or directory" "$FSCK" "$T/nope"
assert "  ... not created" test ! -e "$T/nope"
mkdir "$T/dir"
expect_err1 "a directory" 8 "$T/dir: not a regular file or a device-DAX" "$FSCK" "$T/dir"
expect_err1 "a directory, -n" 8 "$T/dir: not a regular file or a device-DAX" "$FSCK" -n "$T/dir"
truncate -s 32M "$T/zero"
expect_err1 "all-zero file" 8 "not an nvfs namespace" "$FSCK" "$T/zero"
head -c 32M /dev/urandom >"$T/random"
before=$(sum "$T/random")
expect_err1 "random data" 8 "not an nvfs namespace" "$FSCK" "$T/random"
unchanged "  ... unchanged" "$T/random" "$before"
: >"$T/empty"
expect_err1 "empty file" 8 "$T/empty: file is empty" "$FSCK" "$T/empty"

# a fresh namespace is clean in every mode (its journal: 2 buckets of 4 MiB
# and a header page)
fresh p
for opt in "" -n -y -a -p -f; do
	expect "fresh namespace, fsck $opt" 0 "^$T/p: clean, 1 owners, 3 records, 2049/4096 pages used, journal 8 MiB, 0 entries to replay$" "$FSCK" $opt "$T/p"
done
expect "fsck -v" 0 "ns uuid +$u" "$FSCK" -v "$T/p"
for re in "^superblock:" "version +1$" "features +compat 0x0, incompat 0x0, ro_compat 0x0" \
	  "set uuid +$u" "label +'fscktest'" "ns_bytes +33554432" "pages_off +16777216" \
	  "pages_total +4096" "format time +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z" \
	  "$T/p: 33554432 bytes, store granularity page" "free space: 2047 of 4096 pages" \
	  "order 10 \(4 MiB\): 1 blocks" "order  0 \(4 KiB\): 1 blocks" "^owners: 1" \
	  "slot 0: uuid 6e766673-2d6a-6f75-726e-616c00000001, label 'journal', 3 allocations, 2049 pages, 1 record pages" \
	  "^    0x[0-9a-f]{12} order 10 4 MiB$" "^    0x[0-9a-f]{12} order  0 4 KiB$" \
	  "^journal: 8 MiB$" "^  buckets +2 of 4 MiB, ring 8388608 bytes" "^  tail +lsn 0, seq 1$" \
	  "^  to replay +0 entries" "clean"; do
	if grep -Eq -- "$re" "$T/.all"; then ok "  ... -v shows /$re/"; else fail "  ... -v shows /$re/"; fi
done
assert "  ... -v lists no empty order" test "$(grep -c 'order .*: 0 blocks' "$T/.all")" = 0
# and one without a journal
"$MKFS" -s 32M -J 0 "$T/nj" >/dev/null
for opt in "" -n; do
	expect "fresh namespace without a journal, fsck $opt" 0 "^$T/nj: clean, 0 owners, 0 records, 0/4096 pages used, no journal$" "$FSCK" $opt "$T/nj"
done
expect "  ... fsck -v" 0 "free space: 4096 of 4096 pages" "$FSCK" -v "$T/nj"
for re in "order 12 \(16 MiB\): 1 blocks" "^owners: 0" "^journal: no journal"; do
	if grep -Eq -- "$re" "$T/.all"; then ok "  ... -v shows /$re/"; else fail "  ... -v shows /$re/"; fi
done

# (a) primary superblock magic: opens from the backup; -n reports (4) and
# writes nothing; a repair (1) rewrites it from the backup; then clean (0)
fresh a
poke "$T/a" $SB X
before=$(sum "$T/a")
expect "bad primary magic, -n" 4 "^fsck.nvfs: $T/a: primary superblock at 0x1000: bad magic .*backup copy is valid and used \(not repaired\)$" "$FSCK" -n "$T/a"
assert "  ... summary says errors left" grep -q "1 error left uncorrected" "$T/.all"
unchanged "  ... -n wrote nothing" "$T/a" "$before"
expect "  ... -n again: still 4" 4 "not repaired" "$FSCK" -n "$T/a"
expect "bad primary magic, repair" 1 "^fsck.nvfs: $T/a: primary superblock at 0x1000: bad magic .*\(repaired\)$" "$FSCK" "$T/a"
assert "  ... summary says corrected" grep -q "1 error corrected" "$T/.all"
expect "  ... second run clean" 0 "$T/a: clean" "$FSCK" "$T/a"
expect "  ... same uuid" 0 "ns uuid +$u" "$FSCK" -v "$T/a"
fresh a2
poke "$T/a2" $SB X
expect "bad primary magic, -y" 1 "\(repaired\)" "$FSCK" -y "$T/a2"
expect "  ... second run clean" 0 "clean" "$FSCK" -n "$T/a2"

# the backup copy: a byte of its label breaks its checksum
repaired "bad backup checksum" b $((SB2 + 100)) X \
	"superblock at 0x1800: checksum mismatch.*\(not repaired\)" "superblock at 0x1800: checksum mismatch.*\(repaired\)"

# (b) both copies' magic: not an nvfs namespace (8), nothing written
fresh c
poke "$T/c" $SB X
poke "$T/c" $SB2 X
before=$(sum "$T/c")
expect_err1 "both magics bad, -n" 8 "$T/c: superblock at 0x1000: bad magic .*not an nvfs namespace" "$FSCK" -n "$T/c"
expect_err1 "both magics bad, repair" 8 "not an nvfs namespace" "$FSCK" "$T/c"
unchanged "  ... nothing written" "$T/c" "$before"

# both copies' checksums: corruption that cannot be repaired (4)
fresh d
poke "$T/d" $((SB + 100)) X
poke "$T/d" $((SB2 + 100)) X
before=$(sum "$T/d")
expect_err1 "both checksums bad" 4 "$T/d: superblock at 0x1000: checksum mismatch" "$FSCK" "$T/d"
unchanged "  ... nothing written" "$T/d" "$before"

# a newer format version, an unknown incompatible feature: 8.  The copies
# must be valid but for that field (checksum fixed), or they read as corrupt.
fresh v
if sbset "$T/v" $SB 16 4 2 && sbset "$T/v" $SB2 16 4 2; then
	before=$(sum "$T/v")
	expect_err1 "format version 2" 8 "$T/v: superblock at 0x1000: unsupported format version 2" "$FSCK" "$T/v"
	unchanged "  ... nothing written" "$T/v" "$before"
	fresh f
	sbset "$T/f" $SB 32 8 0x100 && sbset "$T/f" $SB2 32 8 0x100
	expect_err1 "unknown incompat feature" 8 "feature_incompat .* has features 0x100 unknown to this build" "$FSCK" "$T/f"
	fresh r
	sbset "$T/r" $SB 40 8 0x4 && sbset "$T/r" $SB2 40 8 0x4
	before=$(sum "$T/r")
	expect "unknown ro_compat feature: checked read-only" 0 "$T/r: clean" "$FSCK" "$T/r"
	assert "  ... says so" grep -q "unknown read-only-compatible features: checked read-only" "$T/.all"
	unchanged "  ... nothing written" "$T/r" "$before"
	# A bad copy is not repaired when ro_compat forbids writing (regression:
	# the repair used to happen before the ro_compat rule was applied).
	poke "$T/r" $SB X
	before=$(sum "$T/r")
	expect "unknown ro_compat, bad primary: not repaired" 4 "(not repaired)" "$FSCK" "$T/r"
	unchanged "  ... nothing written" "$T/r" "$before"
	# A label is media content: printed with its non-printable bytes as '?'
	# (an ESC would reach the terminal).
	fresh esc
	sbset "$T/esc" $SB 80 8 0x316d5b1b && sbset "$T/esc" $SB2 80 8 0x316d5b1b
	expect "label with an escape sequence" 0 "label +'\\?\\[m1'" "$FSCK" -v "$T/esc"
	assert "  ... no ESC byte printed" sh -c "! grep -q \"\$(printf '\\033')\" '$T/.all'"
else
	echo "skip the version/feature cases: cannot build the superblock helper"
	cat "$T/.sbset.log" 2>/dev/null
fi
# a flipped version byte without a checksum fix is corruption (4)
fresh vv
poke "$T/vv" $((SB + 16)) $'\x02'
poke "$T/vv" $((SB2 + 16)) $'\x02'
expect_err1 "version byte flipped in both copies" 4 "checksum mismatch" "$FSCK" "$T/vv"

# a truncated file: ns_bytes larger than the file in both copies (4)
fresh t
truncate -s 24M "$T/t"
expect_err1 "truncated namespace" 4 "namespace is 33554432 bytes but the file or device has only 25165824" "$FSCK" "$T/t"

# the owner-list header: rewritten by a repair
repaired "bad owner-list magic" o $OL X \
	"^fsck.nvfs: $T/o: owner list header at 0x2000: bad magic .*\(not repaired\)$" "owner list header at 0x2000: bad magic .*\(repaired\)"

# a free owner slot whose commit word became non-zero: a live head with a
# bad commit (O1); the repair frees the slot again
repaired "garbage commit word in slot 1" h $SLOT1_COMMIT XXXXXXXX \
	"owner slot 1 at 0x20c0: commit checksum mismatch at offset 0x20f0 \(O1\); dropping owner slot 1 .*\(not repaired\)$" \
	"owner slot 1 .*\(repaired\)" \
	"  ... second run clean, the journal intact" "clean, 1 owners, 3 records, 2049/4096 pages used, journal 8 MiB"

# several problems at once are each reported, and counted
fresh m
poke "$T/m" $SB X
poke "$T/m" $SLOT1_COMMIT XXXXXXXX
expect "two problems, -n" 4 "2 errors left uncorrected" "$FSCK" -n "$T/m"
assert "  ... one line each" test "$(grep -c 'not repaired)$' "$T/.all")" = 2
expect "two problems, repair" 1 "2 errors corrected" "$FSCK" "$T/m"
expect "  ... second run clean" 0 "clean" "$FSCK" "$T/m"

# in use: another process holds the lock (8), in both modes
fresh busy
if hold_lock "$T/busy"; then
	expect_err1 "in use" 8 "$T/busy: pmem is in use by another process" "$FSCK" "$T/busy"
	expect_err1 "in use, -n" 8 "$T/busy: pmem is in use by another process" "$FSCK" -n "$T/busy"
	release_lock
	expect "  ... clean once released" 0 "clean" "$FSCK" "$T/busy"
else
	fail "could not take the lock with flock(1)"
fi

finish
