#!/bin/bash
# corrupt.sh BUILD_DIR [CYCLES] -- the CORRUPTION fault kind of the torture
# runs (issue 5): random bytes flipped in each on-pmem structure of a
# crashed image; fsck.nvfs must detect every case, mount.nvfs must refuse
# with a message naming the structure (SOURCE and the image left as they
# were) or mount and report it, and nothing may crash.
#
# The image: mkfs.nvfs -s 32M (an 8 MiB journal), mounted with
# NVFS_TEST_NO_CHECKPOINT=1 (the journal keeps every record), nvfs_crashload
# runs NVFS_CORRUPT_OPS (300) operations in it with durability=op, the
# daemon is killed (SIGKILL) and its dead mount detached.  SOURCE is then
# emptied (its directory kept: the pmem is bound to it), so that every
# mount that gets through rebuilds the whole run from the journal and
# `nvfs_crashload verify` checks it.  The image is kept pristine; `fsck.nvfs
# --map` lists its structures (KIND OFFSET LENGTH detail).
#
# Each cycle: the structure kind comes round-robin from KINDS below, a
# structure of that kind at random from the map (for the journal kinds, one
# pick in 8 is in the last set), and 1..8 of its bytes are
# xored with random non-zero values (from the cycle's seed).  Then:
#   (a) fsck.nvfs -n (the ASan+UBSan build) must not die by a signal or
#       report a sanitizer error, and must detect the damage: exit 4 with a
#       problem line naming the structure, or, where the outcome below says
#       "warning", exit 0 with a warning line naming it;
#   (b) mount.nvfs -f (ASan+UBSan, in the background, at most 20 s) must
#       either refuse -- non-zero exit, never mounted, exactly one line on
#       stderr naming the structure, SOURCE's tree checksum and the image
#       unchanged -- or, where allowed below, mount with a warning naming
#       the structure on stdout; then `nvfs_crashload verify` must pass
#       through the mount (nothing else lost) and the unmount must exit 0;
#   (c) no sanitizer report (ASAN_OPTIONS/UBSAN_OPTIONS log_path= into a
#       directory that must stay empty; 'runtime error' and 'Sanitizer' in
#       any output fail too).
# The image (and SOURCE, after a mount) is restored after each cycle.
#
# What each structure must do (NAME is how the message names it):
#   sb, sb-copy        fsck 4 "superblock at 0x1000" / "0x1800"; mount refused,
#                      same name (the mount is strict: fsck.nvfs repairs a
#                      copy from the other)
#   owner-list         fsck 4, mount refused: "owner list header"
#   owner-head         fsck 4, mount refused: "owner slot S" (its recs_off[0],
#                      outside the commit checksum, may lead to a page
#                      named "record page at X (owner slot S)")
#   record-page        (its 64-byte header) fsck 4, mount refused:
#                      "record page at 0xOFF"
#   alloc-record       (a live record word) fsck 4, naming the record, the
#                      journal or the binding; mount refused naming the
#                      record or the journal; or -- the binding page's
#                      record moved to a free page -- fsck 0 and mount with
#                      the warning "bound to no SOURCE", all data intact.
#                      UNDETECTABLE (counted apart, not a pass): record words
#                      have no checksum (docs/FORMAT.md), so a flip that
#                      leaves a valid, aligned, non-overlapping record is
#                      another allocation as far as any reader can tell;
#                      only when such a cycle also loses nothing that
#                      verify sees is it not a failure.
#   journal-header     fsck 4, mount refused: "journal header at 0xOFF"
#   journal-tail       the current copy (the other one blank): fsck 4,
#                      mount refused, "tail cop"; the other copy: fsck 0
#                      with the warning "tail copy at 0xOFF", mount with the
#                      same warning, all data intact
#   journal-set        (a set header), journal-entry (an entry header),
#   fs-record          (a record's header and names; a WRITE's data is
#   data               "data"), in any set but the last: fsck 4 "damaged set
#                      at lsn L", mount refused "damaged at lsn L" (L the
#                      set's lsn; docs/JOURNAL.md: replay never skips a
#                      record, so a WRITE whose data is damaged refuses the
#                      whole mount, naming the set and the entries lost)
#   ... in the LAST set: AMBIGUOUS (counted apart, not a pass): nothing
#                      durable says where the log ends, so a committed last
#                      set damaged later reads as a set whose commit the crash
#                      tore (docs/JOURNAL.md, "The end of the log").  It must
#                      still not be silent: fsck 0 with the warning "log ends
#                      at lsn L", mount with the same warning (the set's
#                      entries are lost: verify is not asserted)
#   bind               (the binding page) fsck 4, mount refused: "binding
#                      page at 0xOFF"; or, magic and body both hit (the page
#                      reads as never written): fsck 0 and mount with the
#                      warning "bound to no SOURCE", all data intact
#
# Output: one line per cycle (with -v, or on failure with the reproducer),
# then a table per kind and one line per kind
#   SUMMARY kind=corrupt-KIND cycles=N replayed=0 failures=N
# (collected by make torture).  Exit 1 on any failure.
#
# Environment:
#   NVFS_CORRUPT_CYCLES  cycles (default: CYCLES, else 240)
#   NVFS_CORRUPT_SEED    the seed (default random): the image's workload
#                        uses it, cycle c uses SEED*1000+c
#   NVFS_CORRUPT_FIRST   the first cycle number (default 0): with the seed
#                        and CYCLES=1 it repeats one cycle
#   NVFS_CORRUPT_KINDS   the kinds, in turn (default: all, as below)
#   NVFS_CORRUPT_OPS     operations of the workload (default 300)
#   NVFS_CORRUPT_KEEP    a directory to copy each failed cycle's images into
#   NVFS_CORRUPT_VERBOSE 1: a line per cycle
# The sanitized tools are BUILD_DIR/san/*.nvfs (make san-tools); without
# them the plain ones are used, with a note.
#
# Needs root, /dev/fuse and fusermount3 (else skipped: exit 0).  Every mount
# is unmounted by the EXIT trap, only processes this script started are
# killed (by pid), and every wait has a timeout.
set -u
# shellcheck source=tests/it/lib.sh
. "$(dirname "$0")/../it/lib.sh" || exit 1

ALL_KINDS="sb sb-copy owner-list owner-head record-page alloc-record journal-header
journal-tail journal-set journal-entry fs-record data bind"
kinds=$(echo ${NVFS_CORRUPT_KINDS:-$ALL_KINDS})
cycles=${NVFS_CORRUPT_CYCLES:-${2:-240}}
seed=${NVFS_CORRUPT_SEED:-$(( (RANDOM << 15 | RANDOM) % 1000000 ))}
first=${NVFS_CORRUPT_FIRST:-0}
ops=${NVFS_CORRUPT_OPS:-300}
keep=${NVFS_CORRUPT_KEEP:-}
verbose=${NVFS_CORRUPT_VERBOSE:-0}
script=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")

if [ "$(id -u)" != 0 ]; then echo "skip: corrupt.sh mounts as root"; exit 0; fi
if [ ! -c /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
	echo "skip: needs /dev/fuse and fusermount3"; exit 0
fi
CL=$B/nvfs_crashload
[ -x "$CL" ] || { echo "FAIL $CL is missing: build it first (make)"; exit 1; }
if [ -x "$B/san/fsck.nvfs" ] && [ -x "$B/san/mount.nvfs" ]; then
	SFSCK=$B/san/fsck.nvfs SMOUNT=$B/san/mount.nvfs
else
	echo "note: $B/san/{fsck,mount}.nvfs missing (make san-tools): using the plain tools"
	SFSCK=$FSCK SMOUNT=$MOUNT
fi

S=$T/src M=$T/mnt P=$T/pristine.img W=$T/work.img F=$T/flipped.img
SAN=$T/san
mkdir -p "$S" "$M" "$SAN"
export ASAN_OPTIONS="log_path=$SAN/asan:detect_leaks=0"
export UBSAN_OPTIONS="log_path=$SAN/ubsan:print_stacktrace=1"

pids=""
# shellcheck disable=SC2317  # called by the EXIT trap
unmount_all() {
	local p
	if grep -q " $M " /proc/mounts 2>/dev/null; then
		fusermount3 -u -z "$M" 2>/dev/null || umount -l "$M" 2>/dev/null
	fi
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
}
trap 'unmount_all; cleanup' EXIT
trap 'exit 1' INT TERM HUP

# reap: lib.sh
# tree_sum DIR: names, types, sizes, modes and contents
tree_sum() {
	(cd "$1" && find . -printf '%p %y %s %m\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0r cat) | md5sum
}
# byte FILE OFF: the byte at OFF, decimal
byte() { od -An -tu1 -j "$2" -N1 "$1" | tr -d ' '; }
# setbyte FILE OFF VALUE
setbyte() {
	# shellcheck disable=SC2059
	printf "$(printf '\\%03o' "$3")" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# le64 FILE OFF: the 8 bytes at OFF as 16 hex digits (big-endian text)
le64() { od -An -tx1 -j "$2" -N8 "$1" | awk '{for (i = 8; i >= 1; i--) printf "%s", $i}'; }
# san_reports: a sanitizer report in $SAN or in FILE...: prints and fails
san_reports() {
	local f bad=0
	for f in "$SAN"/*; do
		[ -f "$f" ] || continue
		echo "       sanitizer report $f:"; sed 's/^/       | /' "$f" | head -40
		rm -f "$f"; bad=1
	done
	if grep -Eqs 'runtime error|Sanitizer|AddressSanitizer' "$@"; then
		echo "       sanitizer output:"; grep -Eh -A20 'runtime error|Sanitizer' "$@" |
			sed 's/^/       | /' | head -40
		bad=1
	fi
	return $bad
}

# ---- the crashed image ------------------------------------------------------
t0=$(date +%s.%N)
echo "corrupt.sh: seed $seed, $cycles cycles from $first, $ops operations, kinds: $kinds"
"$MKFS" -s 32M "$P" >"$T/mkfs.log" 2>&1 ||
	{ cat "$T/mkfs.log"; echo "FAIL mkfs.nvfs"; exit 1; }
NVFS_TEST_NO_CHECKPOINT=1 "$MOUNT" "$S" "$M" -f -o "pmem=$P,durability=op" \
	>"$T/m0.log" 2>&1 &
d0=$!
disown "$d0" # no "Killed" line from bash when it is killed below
pids="$pids $d0"
for _ in $(seq 200); do
	mountpoint -q "$M" && break
	kill -0 "$d0" 2>/dev/null || break
	sleep 0.05
done
mountpoint -q "$M" || { cat "$T/m0.log"; echo "FAIL the first mount"; exit 1; }
timeout 120 "$CL" run -S "$seed" -m op -n "$ops" "$M" "$T/state" >"$T/cl.log" 2>&1
rc=$?
kill -9 "$d0"
reap "$d0" 10
fusermount3 -u -z "$M" 2>/dev/null || umount -l "$M" 2>/dev/null
[ "$rc" = 0 ] || { cat "$T/cl.log"; echo "FAIL nvfs_crashload run: exit $rc"; exit 1; }
find "$S" -mindepth 1 -delete
src_sum=$(tree_sum "$S")
"$FSCK" --map "$P" >"$T/map" 2>"$T/map.err" ||
	{ cat "$T/map.err"; echo "FAIL fsck.nvfs --map on the pristine image"; exit 1; }
"$FSCK" -n "$P" >"$T/fsck0" 2>&1 ||
	{ cat "$T/fsck0"; echo "FAIL the pristine image is not clean"; exit 1; }
san_reports "$T/m0.log" || { echo "FAIL sanitizer report making the image"; exit 1; }
echo "image: $(grep -c . "$T/map") structures ($(awk '{print $1}' "$T/map" | sort |
	uniq -c | awk '{printf "%s%s %s", s, $1, $2; s=", "}')), made in $(printf '%.1f' \
	"$(echo "$(date +%s.%N) - $t0" | bc)") s"

# ---- one cycle --------------------------------------------------------------
declare -A n_cyc n_fsck n_warn n_refused n_reported n_ambig n_undet n_fail
for k in $kinds; do
	n_cyc[$k]=0 n_fsck[$k]=0 n_warn[$k]=0 n_refused[$k]=0 n_reported[$k]=0
	n_ambig[$k]=0 n_undet[$k]=0 n_fail[$k]=0
done
failures=0

# cfail MSG: this cycle failed
cfail() { cyc_fail=1; echo "  FAIL [$kind] $1"; }

# expectation KIND LINE: sets want_fsck (error|warning|either), fname (ERE the
# fsck line must match), mname (ERE the mount's line must match), allow_mount
# (0: must refuse, 1: may mount with a warning, 2: must mount with a warning),
# ambiguous (1: the last journal set)
expectation() {
	local k=$1 line=$2 off hex lsn
	off=$(echo "$line" | cut -d' ' -f2)
	hex=$(printf '0x%x' "$off")
	want_fsck=error allow_mount=0 ambiguous=0
	case $k in
	sb) fname="superblock at 0x1000" mname=$fname ;;
	sb-copy) fname="superblock at 0x1800" mname=$fname ;;
	owner-list) fname="owner list header" mname=$fname ;;
	owner-head)
		fname="owner slot $(echo "$line" | sed 's/.*slot=\([0-9]*\).*/\1/')[: )]"
		mname=$fname ;;
	record-page) fname="record page at $hex" mname=$fname ;;
	alloc-record)
		# the record itself, or (a flip into another valid record: a block
		# moved) the journal or binding it described -- "journal: ", with
		# the colon, since fsck's summary line says "journal 8 MiB" anyway
		fname="record at $hex|journal: |SOURCE binding|binding page"
		mname="record at $hex|journal: |binding"
		allow_mount=1 ;;
	journal-header) fname="journal header at $hex" mname=$fname ;;
	journal-tail)
		if echo "$line" | grep -q 'state=current'; then
			fname="tail cop" mname=$fname
		else
			want_fsck=warning fname="tail copy at $hex" mname=$fname allow_mount=2
		fi ;;
	journal-set | journal-entry | fs-record | data)
		if [ "$k" = journal-set ]; then
			lsn=$(echo "$line" | sed 's/.*lsn=\([0-9]*\).*/\1/')
		else
			lsn=$(echo "$line" | sed 's/.*set=\([0-9]*\).*/\1/')
		fi
		if echo "$line" | grep -q ' last$'; then
			ambiguous=1 want_fsck=warning allow_mount=2
			fname="log ends at lsn $lsn " mname=$fname
		else
			fname="damaged set at lsn $lsn " mname="damaged at lsn $lsn "
		fi ;;
	bind)
		fname="binding page at $hex|bound to no SOURCE"
		mname="binding page at $hex"
		allow_mount=1 ;;
	esac
}

# record_valid_moved OFF: the record word at OFF of $W is still valid by
# A1-A4 and no other live record of the map overlaps it (so that no reader
# can tell the flip from another allocation)
record_valid_moved() {
	local w pg order hi nb o2 w2 pg2 ord2
	w=$(le64 "$W" "$1")
	hi=$((16#${w:0:2} >> 2))                  # bits 58..63
	order=$(( (16#${w:0:4} >> 4) & 63 ))       # bits 52..57
	pg=$((16#${w:3:13}))                       # bits 0..51
	nb=$((1 << (order < 20 ? order : 0)))
	[ "$hi" = 0 ] && [ "$order" -lt 20 ] && [ $((pg % nb)) = 0 ] || return 1
	[ "$pg" -ge 4096 ] && [ $((pg + nb)) -le $((32 * 256)) ] || return 1
	while read -r _ o2 _; do
		[ "$o2" = "$1" ] && continue
		w2=$(le64 "$W" "$o2")
		ord2=$(( (16#${w2:0:4} >> 4) & 63 )) pg2=$((16#${w2:3:13}))
		[ $((pg2 + (1 << ord2))) -le "$pg" ] || [ $((pg + nb)) -le "$pg2" ] || return 1
	done < <(grep '^alloc-record ' "$T/map")
	return 0
}

run_cycle() {
	local c=$1 line off len nflip pos i b x flips="" lines n frc mrc mounted=0 d
	local -A hit=()   # the 8-byte words of the structure the flips touched
	kind=$2 cyc_fail=0
	RANDOM=$((seed * 1000 + c))
	lines=$(grep -c "^$kind " "$T/map")
	if [ "$lines" = 0 ]; then
		echo "  note: cycle $c: the image has no $kind"; return 2
	fi
	line=$(grep "^$kind " "$T/map" | sed -n "$((RANDOM % lines + 1))p")
	case $kind in journal-set | journal-entry | fs-record | data)
		# one pick in 8 is the last set's (else about 1 in 250)
		if [ $((RANDOM % 8)) = 0 ] && grep -q "^$kind .* last$" "$T/map"; then
			lines=$(grep -c "^$kind .* last$" "$T/map")
			line=$(grep "^$kind .* last$" "$T/map" | sed -n "$((RANDOM % lines + 1))p")
		fi ;;
	esac
	off=$(echo "$line" | cut -d' ' -f2) len=$(echo "$line" | cut -d' ' -f3)
	cp "$P" "$W"
	nflip=$((RANDOM % 8 + 1))
	for i in $(seq "$nflip"); do
		pos=$((off + ((RANDOM << 15 | RANDOM) % len)))
		b=$(byte "$W" "$pos")
		x=$((RANDOM % 255 + 1))
		setbyte "$W" "$pos" $((b ^ x))
		flips="$flips +$((pos - off))^$x"
		hit[$(((pos - off) / 8))]=1
	done
	cp "$W" "$F"
	expectation "$kind" "$line"
	desc="cycle $c: $line; flips$flips"

	# (a) fsck
	"$SFSCK" -n "$W" >"$T/fsck.out" 2>"$T/fsck.err"
	frc=$?
	cat "$T/fsck.out" "$T/fsck.err" >"$T/fsck.all"
	local fsck_ok=0
	if [ "$frc" -ge 128 ]; then
		cfail "fsck.nvfs died by signal $((frc - 128))"
	elif [ "$frc" = 4 ] && grep -Eq -- "$fname" "$T/fsck.all"; then
		fsck_ok=1 n_fsck[$kind]=$((n_fsck[$kind] + 1))
	elif [ "$frc" = 0 ] && { [ "$want_fsck" = warning ] || [ "$allow_mount" = 1 ]; } &&
	     grep -Eq -- "warning: .*($fname)" "$T/fsck.err"; then
		fsck_ok=1 n_warn[$kind]=$((n_warn[$kind] + 1))
	elif [ "$kind" = alloc-record ] && [ "$frc" = 0 ] && record_valid_moved "$off"; then
		fsck_ok=2 # undetectable: decided by the mount below
	elif [ "$kind" = journal-set ] && [ "$ambiguous" = 1 ] && [ "$frc" = 0 ] &&
	     [ -n "${hit[0]:-}" ] && [ -n "${hit[2]:-}" ] && [ -n "${hit[3]:-}" ]; then
		# the last set's magic, lsn and first_seq all changed: it reads as
		# the old payload bytes a log's end may hold (docs/JOURNAL.md,
		# "The end of the log"): undetectable, counted apart
		fsck_ok=2
	else
		cfail "fsck.nvfs -n: exit $frc (want $([ "$want_fsck" = warning ] &&
			echo "0 with a warning or ")4), output must name /$fname/"
	fi
	[ "$cyc_fail" = 0 ] || sed 's/^/       | /' "$T/fsck.all"
	san_reports "$T/fsck.all" || cfail "sanitizer report from fsck.nvfs"

	# (b) mount
	"$SMOUNT" "$S" "$M" -f -o "pmem=$W,durability=op" >"$T/mnt.out" 2>"$T/mnt.err" &
	d=$!
	pids="$pids $d"
	for _ in $(seq 400); do
		mountpoint -q "$M" && { mounted=1; break; }
		[ "$(awk '{print $3}' "/proc/$d/stat" 2>/dev/null)" = Z ] && break
		kill -0 "$d" 2>/dev/null || break
		sleep 0.05
	done
	if [ "$mounted" = 1 ]; then
		if [ "$allow_mount" = 0 ] && [ "$fsck_ok" != 2 ]; then
			cfail "mount.nvfs mounted (it must refuse, naming /$mname/)"
		elif [ "$fsck_ok" = 2 ]; then
			n_undet[$kind]=$((n_undet[$kind] + 1))
		elif ! grep -Eq -- "warning: .*($mname|bound to no SOURCE)" "$T/mnt.out"; then
			cfail "mount.nvfs mounted without a warning naming /$mname/"
		else
			n_reported[$kind]=$((n_reported[$kind] + 1))
		fi
		if [ "$ambiguous" = 0 ]; then
			timeout 60 "$CL" verify -m op "$T/state" "$M" >"$T/verify.out" 2>&1 ||
				{ cfail "verify through the mount failed"
				  sed 's/^/       | /' "$T/verify.out" | head -20; }
		fi
		fusermount3 -u "$M" 2>/dev/null || umount -l "$M" 2>/dev/null
		reap "$d" 20
		[ "$reaped" = 0 ] || cfail "the daemon's exit after unmount: $reaped"
		find "$S" -mindepth 1 -delete
	else
		reap "$d" 20
		mrc=$reaped
		if [ "$mrc" = timeout ]; then
			kill -9 "$d" 2>/dev/null; reap "$d" 5
			cfail "mount.nvfs neither mounted nor exited in 20 s"
		elif [ "$mrc" -ge 128 ]; then
			cfail "mount.nvfs died by signal $((mrc - 128))"
		elif [ "$mrc" = 0 ]; then
			cfail "mount.nvfs exited 0 without mounting"
		elif [ "$allow_mount" = 2 ]; then
			cfail "mount.nvfs refused (exit $mrc); it must mount with a warning"
		elif [ "$fsck_ok" = 2 ]; then
			cfail "fsck.nvfs found nothing and mount.nvfs refused (exit $mrc)"
		else
			n=$(grep -c . "$T/mnt.err")
			if [ "$n" != 1 ] || ! grep -Eq -- "^mount.nvfs: .*($mname)" "$T/mnt.err"; then
				cfail "mount.nvfs refused (exit $mrc) but stderr is not one line naming /$mname/"
			else
				n_refused[$kind]=$((n_refused[$kind] + 1))
			fi
			[ "$(tree_sum "$S")" = "$src_sum" ] || cfail "SOURCE changed by a refused mount"
			cmp -s "$W" "$F" || cfail "the image changed by a refused mount"
		fi
	fi
	if [ "$cyc_fail" = 1 ]; then
		sed 's/^/       | /' "$T/mnt.out" "$T/mnt.err" | head -20
	fi
	san_reports "$T/mnt.out" "$T/mnt.err" || cfail "sanitizer report from mount.nvfs"
	[ "$ambiguous" = 1 ] && n_ambig[$kind]=$((n_ambig[$kind] + 1))
	if [ "$cyc_fail" = 1 ]; then
		n_fail[$kind]=$((n_fail[$kind] + 1)) failures=$((failures + 1))
		echo "  $desc"
		echo "  reproduce: NVFS_CORRUPT_SEED=$seed NVFS_CORRUPT_FIRST=$c" \
		     "NVFS_CORRUPT_OPS=$ops NVFS_CORRUPT_KINDS='$kinds' $script $B 1"
		if [ -n "$keep" ]; then
			mkdir -p "$keep/seed$seed-cycle$c" &&
				cp "$P" "$F" "$T/map" "$T/state" "$T"/fsck.* "$T"/mnt.* \
				   "$keep/seed$seed-cycle$c/" 2>/dev/null
		fi
	elif [ "$verbose" = 1 ]; then
		echo "  ok   $desc ($(tail -c 200 "$T/mnt.err" | tr '\n' ' ' | cut -c1-120))"
	fi
	return 0
}

# ---- the cycles -------------------------------------------------------------
set -- $kinds
nk=$#
t1=$(date +%s.%N)
for ((c = first; c < first + cycles; c++)); do
	eval "kind=\${$((c % nk + 1))}"
	if run_cycle "$c" "$kind"; then
		n_cyc[$kind]=$((n_cyc[$kind] + 1))
	fi
done
t2=$(date +%s.%N)

# ---- the table --------------------------------------------------------------
printf '\n%-15s %6s %6s %6s %8s %8s %6s %6s %6s\n' kind cycles fsck4 fsckW refused reported ambig undet FAIL
for k in $kinds; do
	printf '%-15s %6d %6d %6d %8d %8d %6d %6d %6d\n' "$k" "${n_cyc[$k]}" "${n_fsck[$k]}" \
		"${n_warn[$k]}" "${n_refused[$k]}" "${n_reported[$k]}" "${n_ambig[$k]}" \
		"${n_undet[$k]}" "${n_fail[$k]}"
done
echo "(fsck4: fsck -n exit 4 naming it; fsckW: exit 0 with a warning naming it;" \
     "refused: mount refused naming it; reported: mounted with a warning, the rest" \
     "verified; ambig: the last journal set (torn or damaged cannot be told apart," \
     "warned); undet: an allocation record flipped into another valid record, or the last set's magic, lsn and seq all flipped)"
for k in $kinds; do
	echo "SUMMARY kind=corrupt-$k cycles=${n_cyc[$k]} replayed=0 failures=${n_fail[$k]}"
done
printf 'corrupt.sh: seed %s: %d cycles in %.1f s (%.2f s each), %d failed\n' "$seed" \
	"$cycles" "$(echo "$t2 - $t1" | bc)" "$(echo "($t2 - $t1) / ($cycles + ($cycles == 0))" | bc -l)" \
	"$failures"
[ "$failures" = 0 ]
