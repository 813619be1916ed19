#!/bin/bash
# t25-fsck-journal.sh BUILD_DIR -- fsck.nvfs and the journal: the -v report
# (geometry, tail, head, entries by type), a namespace without a journal,
# and damage -- a corrupt header or tail copies (the journal cannot be
# opened) and a corrupt set followed by valid ones (replay stops there).
# Both are errors left uncorrected (exit 4): fsck never writes the journal,
# in any mode.  No tool appends to the journal yet, so entries are written
# by tests/it/jappend.c, built at run time against the libraries in
# BUILD_DIR (the entry cases are skipped without a C compiler).
set -u
# shellcheck source=tests/it/lib.sh
. "$(dirname "$0")/lib.sh" || exit 1
# fresh NAME [MKFS OPTIONS] -- a new 64 MiB namespace $T/NAME, journal 8 MiB
fresh() {
	local name=$1
	shift
	"$MKFS" -s 64M -J 8M "$@" "$T/$name" >"$T/.mkfs" 2>&1 || { fail "mkfs $name"; cat "$T/.mkfs"; }
}
# hdr_of FILE -- the journal header page's offset, from fsck -n -v
hdr_of() { "$FSCK" -n -v "$1" | sed -En 's/^  header page +(0x[0-9a-f]+)$/\1/p'; }
# jfield LIST KEY VALUE FIELD -- from jappend's listing, FIELD of the line
# whose KEY is VALUE (e.g. "set" lines: jfield L set-seq 5 off)
jfield() {
	awk -v kind="${2%%-*}" -v key="${2#*-}" -v val="$3" -v want="$4" '
		$1 == kind { for (i = 2; i < NF; i += 2) f[$i] = $(i + 1)
			     if (f[key] == val) { print f[want]; exit } }' "$1"
}

# ---- without a journal, and an empty one ------------------------------------
fresh nj -J 0
expect "no journal: clean, not an error" 0 "^$T/nj: clean, 0 owners, 0 records, 0/12288 pages used, no journal$" "$FSCK" "$T/nj"
expect "  ... -v says so" 0 "^journal: no journal" "$FSCK" -v "$T/nj"
lacks "  ... and prints no journal geometry" "^  (tail|head|buckets) "

fresh e
before=$(sum "$T/e")
expect "empty journal: clean" 0 "^$T/e: clean, 1 owners, 3 records, 2049/12288 pages used, journal 8 MiB, 0 entries to replay$" "$FSCK" "$T/e"
expect "  ... -v" 0 "^journal: 8 MiB$" "$FSCK" -v "$T/e"
shows "  ... -v shows" "^  buckets +2 of 4 MiB, ring 8388608 bytes, first at 0x[0-9a-f]+, last at 0x[0-9a-f]+$" \
	"^  header page +0x[0-9a-f]+$" "^  tail +lsn 0, seq 1$" "^  head +lsn 0, committed seq 0$" \
	"^  used +0 of 8388608 bytes \(0\.0%\)$" "^  to replay +0 entries in 0 sets, 0 payload bytes$" \
	"^  log end +lsn 0 \(offset 0x[0-9a-f]+\), seq 1: no set: bad magic \(J1\)$"
lacks "  ... lists no entry type" "^    type "
unchanged "  ... fsck (repair mode) wrote nothing" "$T/e" "$before"
hdr=$(hdr_of "$T/e")
assert "  ... the header page is the journal owner's order-0 block" \
	grep -Eq "^    0x0*${hdr#0x} order  0 4 KiB$" "$T/.all"

# ---- the journal cannot be opened: header, tail copies ------------------------
# copy A at +1024 is the current tail; copy B at +2048 is not written before
# the first checkpoint, so a bad copy A leaves no valid copy
cp "$T/e" "$T/t"
poke "$T/t" $((hdr + 1024)) X
before=$(sum "$T/t")
expect "tail copy A bad, -n: exit 4" 4 \
	"^fsck.nvfs: $T/t: cannot open the journal: journal: both tail copies are invalid: journal tail copy at $(printf '%#x' $((hdr + 1024))): bad magic \(T1\); journal tail copy at $(printf '%#x' $((hdr + 2048))): bad magic \(T1\); fsck.nvfs does not repair the journal, and a mount refuses it \(not repaired\)$" \
	"$FSCK" -n "$T/t"
shows "  ... summary" "^$T/t: 1 error left uncorrected, 1 owners, 3 records, 2049/12288 pages used, journal unusable$"
unchanged "  ... -n wrote nothing" "$T/t" "$before"
expect "tail copy A bad, repair mode: still exit 4" 4 "both tail copies are invalid.*\(not repaired\)$" "$FSCK" "$T/t"
unchanged "  ... nothing written" "$T/t" "$before"
expect "  ... -v" 4 "^journal: cannot be opened \(see above\)$" "$FSCK" -v "$T/t"
cp "$T/e" "$T/t2"
poke "$T/t2" $((hdr + 2048 + 8)) XXXXXXXX
expect "tail copy B bad (never written yet): clean" 0 "^$T/t2: clean, .*journal 8 MiB, 0 entries to replay$" "$FSCK" -n "$T/t2"
cp "$T/e" "$T/t3"
poke "$T/t3" $((hdr + 1024 + 24)) X
expect "tail copy A checksum bad" 4 "journal tail copy at $(printf '%#x' $((hdr + 1024))): checksum mismatch at offset $(printf '%#x' $((hdr + 1024 + 8))) \(T2\)" "$FSCK" -n "$T/t3"

cp "$T/e" "$T/h"
poke "$T/h" $((hdr)) X
before=$(sum "$T/h")
expect "journal header magic bad" 4 "^fsck.nvfs: $T/h: cannot open the journal: journal header at $hdr: bad magic .*\(H1\).*\(not repaired\)$" "$FSCK" -n "$T/h"
unchanged "  ... -n wrote nothing" "$T/h" "$before"
cp "$T/e" "$T/h2"
poke "$T/h2" $((hdr + 16)) X
expect "journal header checksum bad (a byte of journal_id)" 4 "journal header at $hdr: checksum mismatch at offset $(printf '%#x' $((hdr + 8))) \(H2\)" "$FSCK" "$T/h2"

# A bad journal owner is an allocator problem: the repair drops the owner,
# and with it the journal
cp "$T/e" "$T/o"
poke "$T/o" $((8192 + 64 + 48)) XXXXXXXX
expect "journal owner head bad, -n" 4 "owner slot 0 at 0x2040: commit checksum mismatch.*\(not repaired\)$" "$FSCK" -n "$T/o"
expect "journal owner head bad, repair: the journal is gone" 1 "owner slot 0 .*\(repaired\)$" "$FSCK" "$T/o"
shows "  ... summary" "^$T/o: 1 error corrected, 0 owners, 0 records, 0/12288 pages used, no journal$"
expect "  ... second run clean, no journal" 0 "^$T/o: clean, 0 owners, 0 records, 0/12288 pages used, no journal$" "$FSCK" "$T/o"

# ---- entries (tests/it/jappend.c) ---------------------------------------------
if ! jappend "$T/e" >/dev/null; then
	echo "skip the journal entry cases: cannot build tests/it/jappend.c with cc"
	cat "$T/.jappend.log" 2>/dev/null
	finish
fi

# three sets: 3 entries of type 1 (100 bytes), 5 of type 2 (empty), 2 of
# type 7 (5000 bytes).  Set sizes: 64 + entries of align64(32 + payload).
fresh j
if jappend "$T/j" 1:3:100 c 2:5:0 c 7:2:5000 >"$T/.jl"; then ok "jappend: 10 entries"; else fail "jappend"; cat "$T/.jl"; fi
# mkfs -f over a used journal: the old journal's first set is not taken for
# one of the new journal's, begun and damaged (a false "entries are lost")
cp "$T/j" "$T/reused"
"$MKFS" -f -s 64M -J 8M "$T/reused" >"$T/.mkfs" 2>&1 || fail "mkfs -f over a used journal"
expect "mkfs -f over a used journal: clean, no end-of-log warning" 0 \
	"^$T/reused: clean, .* 0 entries to replay$" "$FSCK" -n "$T/reused"
lacks "  ... no warning" "warning"
before=$(sum "$T/j")
expect "10 entries: clean" 0 "^$T/j: clean, 1 owners, 3 records, 2049/12288 pages used, journal 8 MiB, 10 entries to replay$" "$FSCK" -n "$T/j"
unchanged "  ... -n wrote nothing" "$T/j" "$before"
expect "  ... -v" 0 "^journal: 8 MiB$" "$FSCK" -v "$T/j"
shows "  ... -v shows" "^  tail +lsn 0, seq 1$" "^  head +lsn 11200, committed seq 10$" \
	"^  used +11200 of 8388608 bytes \(0\.1%\)$" "^  to replay +10 entries in 3 sets, 10300 payload bytes$" \
	"^    type 1: 3 entries, 300 payload bytes$" "^    type 2: 5 entries, 0 payload bytes$" \
	"^    type 7: 2 entries, 10000 payload bytes$" "^  log end +lsn 11200 .*seq 11: no set: bad magic \(J1\)$"
assert "  ... exactly 3 types" test "$(grep -c '^    type ' "$T/.all")" = 3
unchanged "  ... fsck (repair mode) wrote nothing" "$T/j" "$before"
assert "  ... the helper agrees: 3 sets, 10 entries" grep -q "^replay 10 entries in 3 sets, tail lsn 0 seq 1, head lsn 11200$" "$T/.jl"

# a checkpoint moves the tail: only what follows it is replayed
cp "$T/j" "$T/k"
jappend "$T/k" k 3:4:10 >"$T/.kl" || { fail "jappend checkpoint"; cat "$T/.kl"; }
expect "after a checkpoint and 4 more entries" 0 "^$T/k: clean, .*journal 8 MiB, 4 entries to replay$" "$FSCK" -v "$T/k"
shows "  ... -v shows" "^  tail +lsn 11200, seq 11$" "^  head +lsn 11520, committed seq 14$" \
	"^  used +320 of 8388608 bytes \(0\.0%\)$" "^  to replay +4 entries in 1 sets, 40 payload bytes$" \
	"^    type 3: 4 entries, 40 payload bytes$"
lacks "  ... and not the checkpointed types" "^    type (1|2|7):"
# the checkpoint wrote copy B (gen 2); a bad copy B falls back to copy A,
# whose older tail still finds the checkpointed sets intact
hdr=$(hdr_of "$T/k")
cp "$T/k" "$T/kb"
poke "$T/kb" $((hdr + 2048)) X
expect "  ... copy B (current) bad: the older copy A is used" 0 "^$T/kb: clean, .*14 entries to replay$" "$FSCK" -v "$T/kb"
shows "  ... -v shows" "^  tail +lsn 0, seq 1$"
cp "$T/k" "$T/ka"
poke "$T/ka" $((hdr + 1024)) X
expect "  ... copy A (older) bad: copy B is used" 0 "^$T/ka: clean, .*4 entries to replay$" "$FSCK" -n "$T/ka"

# more distinct types than the table holds: 70 types, 64 listed, 6 "other"
fresh many
# shellcheck disable=SC2046
jappend "$T/many" $(seq -f '%g:1:8' 100 169) >/dev/null || fail "jappend 70 types"
expect "70 types" 0 "^$T/many: clean, .*journal 8 MiB, 70 entries to replay$" "$FSCK" -v "$T/many"
shows "  ... -v shows" "^    type 100: 1 entries, 8 payload bytes$" "^    type 163: 1 entries, 8 payload bytes$" \
	"^    other types \(beyond 64 distinct\): 6 entries, 48 payload bytes$"
assert "  ... 64 types listed" test "$(grep -c '^    type ' "$T/.all")" = 64
lacks "  ... type 164 is in other" "^    type 164:"

# entries that are not file system records: a warning (a mount refuses them)
shows "  ... foreign types are named" "warning: journal: 70 entries are not file system records \(types outside 0x4601\.\.0x460b\): a mount refuses them$"
# a file system record (type 0x4601 = 17921, create) that is not valid: an error
fresh badrec
jappend "$T/badrec" 17921:2:100 >/dev/null || fail "jappend bad records"
expect "invalid file system records: errors left uncorrected" 4 \
	"^fsck.nvfs: $T/badrec: journal: 2 invalid file system records, the first at seq 1: R1: 100 payload bytes, below the 128-byte header; a mount refuses the journal; fsck.nvfs does not repair the journal \(not repaired\)$" \
	"$FSCK" -v "$T/badrec"
shows "  ... -v names the record type" "^    type 17921 \(create\): 2 entries, 200 payload bytes$"

# ---- damage ---------------------------------------------------------------------
# three sets of 4 entries of 200 bytes (64 + 4 * 256 = 1088 bytes each);
# a byte of the middle set makes it invalid with a valid set after it
fresh d
jappend "$T/d" 1:4:200 c 2:4:200 c 3:4:200 >"$T/.dl" || { fail "jappend damage"; cat "$T/.dl"; }
cp "$T/d" "$T/d0"
lsn2=$(jfield "$T/.dl" set-seq 5 lsn)
off2=$(jfield "$T/.dl" set-seq 5 off)
lsn3=$(jfield "$T/.dl" set-seq 9 lsn)
off3=$(jfield "$T/.dl" set-seq 9 off)
pay6=$(jfield "$T/.dl" entry-seq 6 payload_off)
assert "  ... the sets are where expected" test "$lsn2:$lsn3" = "1088:2176"
poke "$T/d" $((pay6 + 100)) X
before=$(sum "$T/d")
expect "a payload byte of the middle set, -n: exit 4" 4 \
	"^fsck.nvfs: $T/d: journal: damaged set at lsn $lsn2 \(offset $(printf '%#x' "$off2")\), expected seq 5: entry 1 \(seq 6\): payload checksum mismatch \(J5\); 1 valid set after it, from lsn $lsn3, hold entries seq 9\.\.12, which are not replayed: a mount replays only the 4 entries before the damage; fsck.nvfs does not repair the journal \(not repaired\)$" \
	"$FSCK" -n "$T/d"
shows "  ... summary" "^$T/d: 1 error left uncorrected, 1 owners, 3 records, 2049/12288 pages used, journal 8 MiB, 4 entries to replay, damaged after them$"
lacks "  ... no hint to run without -n: that would not repair it" "run without -n"
unchanged "  ... -n wrote nothing" "$T/d" "$before"
expect "  ... repair mode: exit 4, not repaired" 4 "damaged set at lsn $lsn2 .*\(not repaired\)$" "$FSCK" "$T/d"
unchanged "  ... nothing written" "$T/d" "$before"
expect "  ... -v" 4 "^journal: 8 MiB$" "$FSCK" -v -n "$T/d"
shows "  ... -v shows" "^  head +lsn $lsn2, committed seq 4$" "^  to replay +4 entries in 1 sets, 800 payload bytes$" \
	"^    type 1: 4 entries, 800 payload bytes$" \
	"^  log end +lsn $lsn2 \(offset $(printf '%#x' "$off2")\), seq 5: entry 1 \(seq 6\): payload checksum mismatch \(J5\)$" \
	"^  damaged +1 valid sets after the end, from lsn $lsn3 \(offset $(printf '%#x' "$off3")\), hold seq 9\.\.12: not replayed$"
lacks "  ... the skipped types are not counted" "^    type (2|3):"
unchanged "  ... nothing written" "$T/d" "$before"

# the set header's checksum (J4), and its magic (J1): the same damage
cp "$T/d0" "$T/d4"
poke "$T/d4" $((off2 + 8)) X
expect "the middle set's checksum" 4 "damaged set at lsn $lsn2 .*expected seq 5: set checksum mismatch \(J4\); 1 valid set after it" "$FSCK" -n "$T/d4"
cp "$T/d0" "$T/d1"
poke "$T/d1" "$off2" X
expect "the middle set's magic" 4 "damaged set at lsn $lsn2 .*expected seq 5: no set: bad magic \(J1\); 1 valid set after it, from lsn $lsn3, hold entries seq 9\.\.12" "$FSCK" -n "$T/d1"
# the first set: nothing is replayed, both later sets are skipped
cp "$T/d0" "$T/df"
poke "$T/df" $(($(jfield "$T/.dl" entry-seq 1 payload_off) + 1)) X
expect "the first set" 4 "damaged set at lsn 0 .*expected seq 1: entry 0 \(seq 1\): payload checksum mismatch \(J5\); 2 valid sets after it, from lsn $lsn2, hold entries seq 5\.\.12, .* replays only the 0 entries" "$FSCK" -n "$T/df"
shows "  ... summary" ", journal 8 MiB, 0 entries to replay, damaged after them$"
# the last set: nothing valid after it -- a torn last set, never committed
# as far as replay can tell, is the clean end of the log, not damage
cp "$T/d0" "$T/dl"
poke "$T/dl" $(($(jfield "$T/.dl" entry-seq 10 payload_off) + 1)) X
expect "the last set: the end of the log, not an error" 0 "^$T/dl: clean, .*journal 8 MiB, 8 entries to replay$" "$FSCK" -v -n "$T/dl"
shows "  ... -v says where and why the log ends" "^  log end +lsn $lsn3 \(offset $(printf '%#x' "$off3")\), seq 9: entry 1 \(seq 10\): payload checksum mismatch \(J5\)$"
# both at once: the damage and a bad tail copy are reported (the latter stops it)
hdr=$(hdr_of "$T/d")
cp "$T/d" "$T/dt"
poke "$T/dt" $((hdr + 1024)) X
expect "damage and bad tail copies: the open fails first" 4 "both tail copies are invalid.*\(not repaired\)$" "$FSCK" -n "$T/dt"
# allocator damage and journal damage: counted together; the allocator's is repaired
cp "$T/d" "$T/da"
poke "$T/da" 4096 X
before=$(sum "$T/da")
expect "allocator and journal damage, -n" 4 "2 errors left uncorrected \(checked with -n; run without -n to repair\)" "$FSCK" -n "$T/da"
unchanged "  ... -n wrote nothing" "$T/da" "$before"
expect "  ... repair: 1 corrected, 1 left" 5 "1 error corrected, 1 error left uncorrected, .*4 entries to replay, damaged after them$" "$FSCK" "$T/da"
expect "  ... then only the journal's" 4 "^$T/da: 1 error left uncorrected, " "$FSCK" "$T/da"

# in use: the journal check needs the lock like the rest
if hold_lock "$T/j"; then
	expect_err1 "in use" 8 "$T/j: pmem is in use by another process" "$FSCK" -n "$T/j"
	release_lock
else
	fail "could not take the lock with flock(1)"
fi

finish
