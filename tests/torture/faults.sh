#!/bin/bash
# faults.sh BUILD_DIR [CYCLES] -- backing faults (issue 5): the file system
# under SOURCE full, read-only, failing writes or syncfs, or changed behind
# nvfs's back, while build/nvfs_crashload runs through the mount; then the
# daemon is SIGKILLed, the mount replays, and the checker holds what
# survived to the durability mode's rules.  The application must get the
# right errno (nvfs_crashload -F: ENOSPC/EDQUOT, EROFS or EIO are results,
# any other unexpected errno fails), nothing acknowledged may be lost, and
# a journal that could not be applied is kept and applied once the fault
# clears.
#
# SOURCE is a directory on a tmpfs of its own (mounted per cycle); the pmem
# is elsewhere.  Faults, CYCLES cycles each (default $NVFS_FAULT_CYCLES, else
# 40), in turn:
#   full      the tmpfs is small (size=, nr_inodes=) and mostly taken by a
#             filler file, so that creates, links, writes and mmap
#             write-back hit ENOSPC.  In every other cycle, after the kill
#             (SOURCE kept, or wiped when the run kept the whole journal:
#             NVFS_TEST_NO_CHECKPOINT), a second filler takes the rest:
#             the mount must fail saying why, keep the journal (fsck.nvfs
#             -n lists its entries), leave SOURCE with nothing that was
#             never written (nvfs_crashload verify -m phantom); then the
#             filler goes and the next mount replays.
#   readonly  while the workload runs, `mount -o remount,ro` the tmpfs
#             (retried while a file is open for writing: EBUSY), keep it so
#             for a while (EROFS), then rw again; kill.  In every other
#             cycle SOURCE is read-only at the remount: it must refuse and
#             keep the journal, then work once SOURCE is rw.
#   eio       the daemon with NVFS_TEST_FAIL_SOURCE_WRITE=N (2..12): every
#             N-th data write to SOURCE fails with EIO (and a short write
#             before it); nothing else may fail.
#   syncfs    checkpoint_secs=1 and NVFS_TEST_FAIL_SYNCFS: in every other
#             cycle every checkpoint's syncfs fails (the statistics must
#             show no checkpoint, and SOURCE is wiped after the kill: the
#             journal alone must rebuild everything), else the first one or
#             two fail and later checkpoints succeed.
#   behind    a background loop changes SOURCE directly (creates, writes,
#             appends, renames, deletes of its own files and directories
#             SOURCE/zz-*, never a name of the workload) and logs what it
#             did; it stops, then the kill.  The model is verified with
#             -i 'zz-*', and every stranger file that existed then must
#             still be there with its bytes (in place, or in
#             SOURCE/nvfs-recovered).
# Durability is op or fsync, drawn per cycle.  Each cycle: mkfs.nvfs, mount
# (with the kind's settings), nvfs_crashload run -F ..., SIGKILL of the
# daemon after a drawn delay, the kind's after-kill step, the replay mount
# (its "replayed N journal entries" line is counted), verify through the
# mount, a clean unmount (exit 0), verify SOURCE, fsck.nvfs -n.
#
# The daemon is $NVFS_IT_MOUNT if set (make torture: the sanitized one,
# reports in $NVFS_SAN_LOG_DIR), else BUILD_DIR/san/mount.nvfs if it exists
# (make san-tools; reports in a scratch directory; NVFS_FAULT_SAN=0 to use
# the plain one), else BUILD_DIR/mount.nvfs.  Any sanitizer report fails
# the cycle.
#
# Environment:
#   NVFS_FAULT_CYCLES  cycles per fault (default 40; CYCLES overrides)
#   NVFS_FAULT_KINDS   faults to run (default "full readonly eio syncfs behind")
#   NVFS_FAULT_SEED    the first cycle's seed (default random); cycle i of
#                      the run uses SEED+i, and everything a cycle draws
#                      comes from its seed
#   NVFS_FAULT_KEEP    a directory to copy a failed cycle's files into
# Output: one line per cycle, a failure's report with a one-line command
# that repeats it, a table per fault (cycles, kills, replayed entries,
# failures) and one line per fault
#   SUMMARY kind=backing-KIND cycles=N replayed=N failures=N
# Exit 1 if any cycle failed.  Needs root (tmpfs mounts), /dev/fuse and
# fusermount3 (else skipped).  Every FUSE and tmpfs mount is undone by the
# EXIT trap; only processes this script started are killed, by pid.
set -u
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 BUILD_DIR [CYCLES]" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/it/lib.sh
. "$here/../it/lib.sh" "$1" || exit 1

if [ "$(id -u)" != 0 ]; then
	echo "skip: faults.sh mounts tmpfs file systems: needs root"
	exit 0
fi
if [ ! -c /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
	echo "skip: needs /dev/fuse and fusermount3"
	exit 0
fi
CL=$B/nvfs_crashload
for f in "$CL" "$MKFS" "$FSCK" "$B/mount.nvfs"; do
	[ -x "$f" ] || { fail "$f is missing: build it first (make)"; finish; }
done

cycles=${2:-${NVFS_FAULT_CYCLES:-40}}
kinds=${NVFS_FAULT_KINDS:-full readonly eio syncfs behind}
seed0=${NVFS_FAULT_SEED:-$(((RANDOM << 15 | RANDOM) % 1000000000))}
keep=${NVFS_FAULT_KEEP:-}
PMEM_SIZE=256M   # the journal must hold a whole run: NVFS_TEST_NO_CHECKPOINT
JOURNAL_SIZE=128M

# the daemon, and where its sanitizer reports go
san_dir=
if [ -n "${NVFS_IT_MOUNT:-}" ]; then
	DAEMON=$NVFS_IT_MOUNT
	san_dir=${NVFS_SAN_LOG_DIR:-}
elif [ "${NVFS_FAULT_SAN:-1}" = 1 ] && [ -x "$B/san/mount.nvfs" ]; then
	DAEMON=$B/san/mount.nvfs
	san_dir=$T/san
	mkdir -p "$san_dir"
	export ASAN_OPTIONS="detect_leaks=1:log_path=$san_dir/asan"
	export UBSAN_OPTIONS="print_stacktrace=1:log_path=$san_dir/ubsan"
else
	DAEMON=$B/mount.nvfs
fi

# ---- processes and mounts: tracked, always undone ----------------------------
mnts=""    # FUSE mount points (dead or alive)
tmpfss=""  # tmpfs mount points
pids=""    # processes this script started and has not reaped
# is_mounted, lazy_umount, drop, reap, sleep_ms: lib.sh
# shellcheck disable=SC2317  # the EXIT trap
undo_all() {
	local m p
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	for m in $mnts; do lazy_umount "$m"; done
	for m in $tmpfss; do
		mount -o remount,rw "$m" 2>/dev/null
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	cleanup
}
trap undo_all EXIT
trap 'exit 1' INT TERM HUP


# spawn_fs LOG MODE OPTS [VAR=VALUE...]: the daemon in the background
# (-f), its pid in $pid
spawn_fs() {
	local log=$1 mode=$2 opts=$3
	shift 3
	env "$@" "$DAEMON" "$S" "$M" -f -o "pmem=$P,durability=$mode$opts" >"$log" 2>&1 &
	pid=$!
	pids="$pids $pid"
	case " $mnts " in *" $M "*) ;; *) mnts="$mnts $M" ;; esac
}
# wait_mounted, kill_fs: lib.sh
stat_of() {
	getfattr -n user.nvfs.stats --only-values "$M" 2>/dev/null |
		awk -v k="$1:" '$1 == k { print $2 }'
}
# tmpfs_setup SIZE INODES: a tmpfs at $FSD, SOURCE=$FSD/src in it
tmpfs_setup() {
	mkdir -p "$FSD"
	mount -t tmpfs -o "size=$1,nr_inodes=$2,mode=0755" nvfs-faults "$FSD" || return 1
	tmpfss="$tmpfss $FSD"
	mkdir "$S"
}
tmpfs_undo() {
	is_mounted "$FSD" || return 0
	mount -o remount,rw "$FSD" 2>/dev/null
	umount "$FSD" 2>/dev/null || umount -l "$FSD"
	tmpfss=$(drop "$tmpfss" "$FSD")
}
# set_ro ro|rw: remount SOURCE's tmpfs; a file open for writing makes the
# kernel refuse ro (EBUSY): retried for up to 5 s.  0 if done.
set_ro() {
	for _ in $(seq 500); do
		mount -o "remount,$1" "$FSD" 2>/dev/null && return 0
		sleep 0.01
	done
	return 1
}
# avail: bytes free on SOURCE's tmpfs
avail() { local a s; read -r a s < <(stat -f -c '%a %S' "$FSD"); echo $((a * s)); }
# entries PMEM: the journal entries to replay, as fsck.nvfs -n reports them
entries() {
	"$FSCK" -n "$1" 2>&1 | grep -Eo '[0-9]+ entr(y|ies) to replay' | tail -1 |
		grep -Eo '^[0-9]+'
}

# ---- cycles ---------------------------------------------------------------------
declare -A n_cycles=() n_kills=() n_replayed=() n_failed=() notes=()
cfail() {
	local k=$kind
	fail "$k seed $seed: $*"
	[ "$cycle_failed" = 1 ] && return
	cycle_failed=1
	echo "       reproduce: NVFS_FAULT_SEED=$seed NVFS_FAULT_KINDS=$k bash $0 $B 1"
}
show() { [ -s "$1" ] && head -"${2:-40}" "$1" | sed 's/^/       | /'; }
# count_replayed LOG: the entries a mount's log says it replayed, in
# $replayed_n, and added to the fault's count
count_replayed() {
	replayed_n=$(grep -Eo 'replayed [0-9]+ journal entries' "$1" 2>/dev/null | tail -1 |
		awk '{print $2}')
	replayed_n=${replayed_n:-0}
	n_replayed[$kind]=$((${n_replayed[$kind]:-0} + replayed_n))
}
san_check() {
	local f
	[ -n "$san_dir" ] || return 0
	for f in "$san_dir"/*; do
		[ -f "$f" ] || continue
		case $f in *.seen-*) continue ;; esac
		cfail "sanitizer report from the daemon: $f"
		show "$f"
		mv "$f" "$f.seen-$seed"
	done
}

# strangers SEED STOPFILE: the background loop of "behind", on SOURCE/zz-*
# only; what it does goes to $C/behind.log.  It stops between two changes
# once STOPFILE exists (a kill could leave a child writing after the
# manifest is taken)
strangers() {
	local i=0 a b d
	RANDOM=$1
	cd "$S" || exit 1
	while [ ! -e "$2" ]; do
		i=$((i + 1))
		a=zz-f$((RANDOM % 6)) b=zz-f$((RANDOM % 6)) d=zz-d$((RANDOM % 2))
		case $((RANDOM % 9)) in
		0|1) head -c $((RANDOM % 20000)) /dev/urandom >"$a" && echo "$i write $a" ;;
		2) head -c $((RANDOM % 3000)) /dev/urandom >>"$a" && echo "$i append $a" ;;
		3) [ -e "$a" ] && mv -f "$a" "$b" 2>/dev/null && echo "$i rename $a $b" ;;
		4) rm -f "$a" && echo "$i rm $a" ;;
		5) mkdir -p "$d" && head -c $((RANDOM % 5000)) /dev/urandom >"$d/f$((RANDOM % 3))" &&
			echo "$i write $d/..." ;;
		6) [ -e "$a" ] && mkdir -p "$d" && mv -f "$a" "$d/" 2>/dev/null && echo "$i mv $a $d/" ;;
		7) [ $((RANDOM % 4)) = 0 ] && rm -rf "$d" && echo "$i rm -r $d" ;;
		8) [ -d "$d" ] && mv -T "$d" "zz-d$((RANDOM % 2 + 2))" 2>/dev/null &&
			echo "$i rename $d" ;;
		esac
		sleep 0.00$((RANDOM % 10))
	done
}
# manifest: "CKSUM SIZE PATH" of every stranger file in SOURCE
manifest() { (cd "$S" && find zz-* -type f -exec cksum {} + 2>/dev/null | sort -k3); }

# one_cycle KIND SEED
one_cycle() {
	kind=$1 seed=$2
	local mode ms rc note="" opts="" fopt="" crash_env=()
	local ro_case=0 full_case=0 wipe=0 allfail=0 n
	C=$T/c FSD=$T/c/fs S=$T/c/fs/src M=$T/c/mnt P=$T/p.pmem ST=$T/c/state
	cycle_failed=0
	RANDOM=$seed
	lazy_umount "$M"
	tmpfs_undo
	rm -rf "$C"
	mkdir -p "$C" "$M"
	mode=op   # drawn here, not in a $(...): a subshell reseeds RANDOM
	[ $((RANDOM % 2)) = 1 ] && mode=fsync
	ms=$((150 + RANDOM % 650))
	case $kind in
	full)
		local size=$((6 + RANDOM % 6)) inodes=$((10 + RANDOM % 16)) free
		free=$((64 + RANDOM % 960))   # KiB left for the workload
		tmpfs_setup "${size}M" "$inodes" || { cfail "tmpfs mount"; return; }
		fallocate -l $((size * 1024 - free))K "$FSD/filler" ||
			{ cfail "fallocate filler"; return; }
		fopt="ENOSPC,EDQUOT"
		full_case=$((RANDOM % 2))
		[ $((RANDOM % 2)) = 0 ] && crash_env=(NVFS_TEST_NO_CHECKPOINT=1)
		note="tmpfs ${size}M, $inodes inodes, ${free} KiB free"
		;;
	readonly)
		tmpfs_setup 256M 100000 || { cfail "tmpfs mount"; return; }
		fopt="EROFS,EIO"
		ro_case=$((RANDOM % 2))
		[ $((RANDOM % 2)) = 0 ] && crash_env=(NVFS_TEST_NO_CHECKPOINT=1)
		ms=$((500 + RANDOM % 700))
		;;
	eio)
		tmpfs_setup 256M 100000 || { cfail "tmpfs mount"; return; }
		n=$((2 + RANDOM % 11))
		crash_env=("NVFS_TEST_FAIL_SOURCE_WRITE=$n")
		fopt="EIO"
		note=""
		;;
	syncfs)
		tmpfs_setup 256M 100000 || { cfail "tmpfs mount"; return; }
		allfail=$((RANDOM % 2))
		if [ "$allfail" = 1 ]; then
			n=1000000 wipe=1
		else
			n=$((1 + RANDOM % 2))
		fi
		crash_env=("NVFS_TEST_FAIL_SYNCFS=$n")
		opts=",checkpoint_secs=1"
		ms=$((1300 + RANDOM % 1200))
		note="syncfs fails $([ "$allfail" = 1 ] && echo always || echo "$n times")"
		;;
	behind)
		tmpfs_setup 256M 100000 || { cfail "tmpfs mount"; return; }
		[ $((RANDOM % 2)) = 0 ] && crash_env=(NVFS_TEST_NO_CHECKPOINT=1)
		ms=$((400 + RANDOM % 600))
		;;
	esac
	[ ${#crash_env[@]} -gt 0 ] && note="${note:+$note, }${crash_env[*]}"
	if ! "$MKFS" -f -s "$PMEM_SIZE" -J "$JOURNAL_SIZE" "$P" >"$C/mkfs.log" 2>&1; then
		cfail "mkfs.nvfs failed"; show "$C/mkfs.log"; return
	fi

	# ---- the workload, the fault, the kill
	spawn_fs "$C/mount1.log" "$mode" "$opts" "${crash_env[@]}"
	local d1=$pid
	if ! wait_mounted "$d1" 20; then
		cfail "the first mount did not come up"; show "$C/mount1.log"
		kill_fs "$d1"; return
	fi
	timeout -k 5 60 "$CL" run -S "$seed" -m "$mode" ${fopt:+-F "$fopt"} "$M" "$ST" \
		2>"$C/run.log" &
	local cl=$! lpid=
	pids="$pids $cl"
	case $kind in
	readonly)
		local t_ro=$((100 + RANDOM % 200)) t_hold=$((100 + RANDOM % 300))
		sleep_ms "$t_ro"
		if set_ro ro; then
			sleep_ms "$t_hold"
			set_ro rw || cfail "remount,rw of SOURCE's tmpfs failed"
			note="SOURCE read-only after $t_ro ms for $t_hold ms"
			ms=$((ms > t_ro + t_hold ? ms - t_ro - t_hold : 50))
		else
			note="SOURCE could not be made read-only (EBUSY for 5 s)"
			ms=50
		fi
		;;
	behind)
		for _ in $(seq 100); do grep -q '^B 1 ' "$ST" 2>/dev/null && break; sleep 0.02; done
		strangers "$seed" "$C/stop-behind" >"$C/behind.log" 2>&1 &
		lpid=$!
		pids="$pids $lpid"
		;;
	esac
	sleep_ms "$ms"
	if [ -n "$lpid" ]; then
		touch "$C/stop-behind"
		reap "$lpid" 10
		[ "$reaped" = timeout ] && cfail "the strangers' loop did not stop" &&
			kill "$lpid" && reap "$lpid" 10
		manifest >"$C/manifest"
		note="strangers: $(wc -l <"$C/behind.log") changes, $(wc -l <"$C/manifest") files at the kill"
	fi
	if [ "$kind" = syncfs ]; then
		local ck sy
		ck=$(stat_of checkpoints) sy=$(stat_of syncfs_errors)
		note="$note; checkpoints ${ck:-?}, syncfs errors ${sy:-?}"
		if [ "$allfail" = 1 ] && [ "${ck:-0}" != 0 ]; then
			cfail "every syncfs failed, yet the journal was checkpointed ${ck} times"
		fi
		if [ "$allfail" = 1 ] && [ "${sy:-0}" = 0 ] && [ -n "$sy" ]; then
			cfail "no checkpoint was tried in $ms ms (checkpoint_secs=1)"
		fi
	fi
	# the daemon must be alive until the kill, and die of it (137); the
	# workload must see the dead mount before it is detached (else a late
	# operation finds the bare mount point)
	if [ -z "$(awk '$3 != "Z" {print $3}' "/proc/$d1/stat" 2>/dev/null)" ]; then
		cfail "the daemon died on its own before the kill"
		show "$C/mount1.log"
	fi
	kill -9 "$d1" 2>/dev/null
	reap "$d1" 10
	[ "$reaped" = 137 ] || cfail "the daemon's exit status: $reaped (want 137, the SIGKILL)"
	n_kills[$kind]=$((${n_kills[$kind]:-0} + 1))
	reap "$cl" 65
	rc=$reaped
	lazy_umount "$M"
	if [ "$rc" != 0 ]; then
		cfail "nvfs_crashload run: exit $rc (0: it stopped when the mount went away)"
		show "$C/run.log"
		[ "$rc" = timeout ] && kill "$cl" 2>/dev/null && reap "$cl" 10
	fi
	local ops faults
	ops=$(grep -c '^B ' "$ST" 2>/dev/null)
	faults=$(grep -Ec '^R [0-9]+ (ENOSPC|EDQUOT|EROFS|EIO)' "$ST" 2>/dev/null)
	note="$mode, $note; killed after $ms ms at op ${ops:-0}, $faults ops failed with a backing fault"
	[ "$wipe" = 1 ] && find "$S" -mindepth 1 -delete && note="$note; SOURCE wiped"

	# ---- the replay under a fault
	if [ "$full_case" = 1 ]; then
		if [ ${#crash_env[@]} -gt 0 ]; then
			find "$S" -mindepth 1 -delete
			note="$note; SOURCE wiped"
		fi
		fallocate -l "$(avail)" "$FSD/filler2" 2>/dev/null
		# what fallocate could not take (tmpfs rounds), written until ENOSPC
		dd if=/dev/zero of="$FSD/filler2" bs=4096 oflag=append conv=notrunc \
			status=none 2>/dev/null
		note="$note; SOURCE filled ($(avail) bytes left)"
	elif [ "$ro_case" = 1 ]; then
		set_ro ro || cfail "remount,ro of SOURCE's tmpfs (nothing open) failed"
		note="$note; SOURCE read-only"
	fi
	# ---- the replay: while the fault lasts the mount may refuse (saying
	# why, the journal kept, nothing in SOURCE that was never written);
	# then the fault clears, a step at a time: the read-only SOURCE made
	# rw, the second filler removed, the tmpfs given more room and inodes
	# (the replay's own bookkeeping -- orphanage, its list, nvfs-recovered
	# -- needs a few); after the last step it must mount
	local step=0 d3 before after
	while :; do
		before=$(entries "$P")
		spawn_fs "$C/mount2.log" "$mode" ""
		d3=$pid
		wait_mounted "$d3" 60 && break
		kill_fs "$d3"
		after=$(entries "$P")
		if ! grep -Eq 'journal (is|was) (kept|left as it is)' "$C/mount2.log" ||
		   ! grep -Eq 'No space left|Read-only file system' "$C/mount2.log"; then
			cfail "the refused mount does not say why (the journal kept, and the errno)"
			show "$C/mount2.log"
		fi
		if [ -z "$after" ] || [ "$after" = 0 ] || [ "$after" != "$before" ]; then
			cfail "the refused replay did not keep the journal (${before:-?} entries before, ${after:-?} after)"
			"$FSCK" -n -v "$P" >"$C/fsck-fault.log" 2>&1; show "$C/fsck-fault.log" 20
		fi
		# shellcheck disable=SC2086
		if ! "$CL" verify -m phantom -i ".nvfs-replay*" -i nvfs-recovered "$ST" "$S" \
			>"$C/verify-fault.log" 2>&1; then
			cfail "SOURCE after the refused replay holds what was never written"
			show "$C/verify-fault.log"
		fi
		cp "$C/mount2.log" "$C/mount-refused-$step.log"
		note="$note; mount refused ($(grep -Eo '(No space left on device|Read-only file system)' \
			"$C/mount2.log" | head -1), journal kept: ${after:-?} entries)"
		step=$((step + 1))
		if [ "$ro_case" = 1 ] && [ "$step" = 1 ]; then
			set_ro rw || cfail "remount,rw of SOURCE's tmpfs failed"
			note="$note; SOURCE rw"
		elif [ -e "$FSD/filler2" ]; then
			rm -f "$FSD/filler2"
			note="$note; filler removed"
		elif [ "$step" -le 3 ] && [ "$kind" = full ]; then
			mount -o "remount,size=64M,nr_inodes=100000" "$FSD" ||
				cfail "remount of SOURCE's tmpfs with more room failed"
			note="$note; tmpfs grown"
		else
			echo "$kind seed $seed: $note"
			cfail "the remount did not come up after the fault cleared"
			show "$C/mount2.log"
			san_check
			return
		fi
	done
	count_replayed "$C/mount2.log"
	echo "$kind seed $seed: $note; remount: replayed $replayed_n entries"
	local ign="" ign_zz=""
	[ "$mode" = fsync ] && ign="-i nvfs-recovered"
	[ "$kind" = behind ] && ign_zz="zz-*" && ign="-i nvfs-recovered"
	# shellcheck disable=SC2086
	if ! "$CL" verify -m "$mode" $ign ${ign_zz:+-i "$ign_zz"} "$ST" "$M" >"$C/verify-mnt.log" 2>&1; then
		cfail "verify through the mount"; show "$C/verify-mnt.log"
	fi
	fusermount3 -u "$M"
	reap "$d3" 30
	if [ "$reaped" != 0 ]; then
		cfail "after fusermount3 -u, mount.nvfs: exit $reaped (want 0)"
		show "$C/mount2.log"
		[ "$reaped" = timeout ] && kill_fs "$d3"
	fi
	lazy_umount "$M"
	# shellcheck disable=SC2086
	if ! "$CL" verify -m "$mode" $ign ${ign_zz:+-i "$ign_zz"} "$ST" "$S" >"$C/verify-src.log" 2>&1; then
		cfail "verify SOURCE after the unmount"; show "$C/verify-src.log"
	fi
	if [ "$kind" = behind ]; then
		local ck sz path lost=0
		while read -r ck sz path; do
			[ -n "$path" ] || continue
			if [ -f "$S/$path" ] && [ "$(cksum <"$S/$path" | awk '{print $1, $2}')" = "$ck $sz" ]; then
				continue
			fi
			if [ -d "$S/nvfs-recovered" ] && find "$S/nvfs-recovered" -type f -size "${sz}c" \
				-exec cksum {} + 2>/dev/null | awk -v c="$ck" -v s="$sz" \
				'$1 == c && $2 == s { f = 1 } END { exit !f }'; then
				continue
			fi
			lost=$((lost + 1))
			[ "$lost" -le 5 ] && cfail "stranger file $path ($sz bytes) is lost or changed"
		done <"$C/manifest"
		[ "$lost" -gt 5 ] && cfail "$lost stranger files lost or changed in all"
		[ "$lost" -gt 0 ] && show "$C/behind.log" 20
	fi
	if ! "$FSCK" -n "$P" >"$C/fsck.log" 2>&1; then
		cfail "fsck.nvfs -n: the pmem is not clean after the unmount"; show "$C/fsck.log"
	fi
	san_check
}

cycle() {
	one_cycle "$@"
	if [ "$cycle_failed" = 1 ] && [ -n "$keep" ]; then
		mkdir -p "$keep" && cp -a "$C" "$keep/$1-$2" 2>/dev/null &&
			echo "       kept in $keep/$1-$2"
	fi
	tmpfs_undo
}

echo "seed $seed0 (NVFS_FAULT_SEED=$seed0 repeats this run); daemon $DAEMON"
start=$SECONDS
i=0
for kind in $kinds; do
	case $kind in full|readonly|eio|syncfs|behind) ;; *)
		fail "unknown fault kind $kind"; continue ;; esac
	kstart=$SECONDS
	for _ in $(seq "$cycles"); do
		cycle "$kind" $((seed0 + i)) 2>"$T/stderr"
		grep -Ev ': line [0-9]+: +[0-9]+ (Killed|Terminated) ' "$T/stderr" >&2
		n_cycles[$kind]=$((${n_cycles[$kind]:-0} + 1))
		n_failed[$kind]=$((${n_failed[$kind]:-0} + cycle_failed))
		i=$((i + 1))
	done
	notes[$kind]="$((SECONDS - kstart)) s"
done
rm -f "$T/p.pmem"

printf '\n%-10s %7s %6s %9s %9s %8s\n' fault cycles kills replayed failures time
for kind in $kinds; do
	[ -n "${n_cycles[$kind]:-}" ] || continue
	printf '%-10s %7d %6d %9d %9d %8s\n' "$kind" "${n_cycles[$kind]}" "${n_kills[$kind]:-0}" \
		"${n_replayed[$kind]:-0}" "${n_failed[$kind]:-0}" "${notes[$kind]}"
done
for kind in $kinds; do
	[ -n "${n_cycles[$kind]:-}" ] || continue
	echo "SUMMARY kind=backing-$kind cycles=${n_cycles[$kind]} replayed=${n_replayed[$kind]:-0}" \
		"failures=${n_failed[$kind]:-0}"
done
echo "runtime: $((SECONDS - start)) s"
finish
