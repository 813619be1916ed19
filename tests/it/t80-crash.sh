#!/bin/bash
# t80-crash.sh BUILD_DIR -- kill the nvfs daemon (SIGKILL) in the middle of
# a random workload, remount (which replays the journal) and check that
# what survived is what the durability mode promises: with durability=op
# every acknowledged operation, with durability=fsync what each fsync and
# fsyncdir covered, and in both nothing that was never written
# (build/nvfs_crashload, from tests/tools/nvfs_crashload.c, makes the
# workload and checks it; its header has the rules).
#
# Each iteration, with a new (empty) SOURCE and mount point and the pmem
# formatted anew (mkfs.nvfs -f; 256 MiB, a 128 MiB journal): mount with -f
# in the background (the pid is the daemon), start `nvfs_crashload run`
# in the mount, SIGKILL the daemon after 20..400 ms, let the workload see
# the mount go away (it records the operation in flight and exits),
# fusermount3 -u -z the dead mount, then, by variant,
#   a  keep SOURCE as the daemon left it;
#   b  wipe SOURCE (its contents; the directory stays): replay must rebuild
#      everything from the journal (the first mount had
#      NVFS_TEST_NO_CHECKPOINT=1, so the whole run is still in it);
#   c  damage SOURCE at random (delete entries, truncate files), same hook;
#   d  keep, wipe or damage SOURCE (at random), mount with
#      NVFS_TEST_REPLAY_DELAY_US (replay sleeps that long before each step
#      that changes SOURCE: a name put right, a data record applied) and
#      SIGKILL that mount after 20..800 ms, mostly while it replays (the
#      summary says how often the kill came before the replay's log line);
#      then go on as the others;
#   e  a kill aimed into a checkpoint: checkpoint_secs=1 and
#      NVFS_TEST_CKPT_DELAY_US=100000 (a pass says "SOURCE synced", waits
#      100 ms, releases the journal, says "done"); the kill comes 0..80 ms
#      after the first "SOURCE synced" (the summary counts the kills that
#      landed between the two; a run with 6 or more e iterations and none
#      inside fails, and so does an iteration that saw no checkpoint);
#      SOURCE kept, and every other e iteration is a power loss as p;
#   p  POWER LOSS: the first mount runs with NVFS_TEST_PMEM_SHADOW (the
#      daemon copies each range it makes durable into a shadow file, see
#      nvfs_pmem.h) and checkpoint_secs=1, killed after 20..1500 ms; the
#      pmem is then replaced by the shadow: every store that was not
#      flushed and drained is gone.  SOURCE kept (its page cache outlived
#      the daemon: the best case for SOURCE).  Half the p, q, r and e
#      iterations force cache-line granularity (PMEM2_FORCE_GRANULARITY:
#      the flush-per-entry path of real pmem; the rest is tmpfs's PAGE);
#      the summary counts the 8-byte words stored but not durable at the
#      kills, and a durability=fsync run whose 6 or more r iterations
#      never had one fails (with durability=op there is seldom any: each operation
#      commits before its reply);
#   q  power loss, and SOURCE as it was at the last completed checkpoint
#      (the worst case): the first mount has NVFS_TEST_NO_CHECKPOINT=1, so
#      that checkpoint is the mount's own, when SOURCE was empty: SOURCE is
#      wiped and the pmem replaced by the shadow;
#   r  power loss in which some unflushed stores reached the media anyway:
#      the pmem is the shadow plus a random subset (0..100 %) of the 8-byte
#      words the daemon stored and never flushed (build/nvfs_pmcut); SOURCE
#      kept, or wiped (then with NVFS_TEST_NO_CHECKPOINT=1 as q);
#   x  PMEM EXHAUSTION: a 64 MiB namespace with the smallest journal (8
#      MiB), checkpoint_secs=1, each checkpoint 200 ms slower
#      (NVFS_TEST_CKPT_DELAY_US: a slow SOURCE disk), the workload run for
#      1..3 s beside a second writer (dd, 500 MiB to zz-filler, outside
#      the model, then checked to hold only zeros, and its errors other than
#      the mount going away fail the iteration): writers must wait for
#      checkpoints (the summary sums the stats' waits_for_space; a run with
#      2 or more x iterations and no wait fails),
#      nothing may fail that would not fail on ext4 (the checker's O1);
#      SOURCE kept;
# Every daemon must still be alive when it is killed and must die of the
# SIGKILL (exit 137): one that died on its own fails the iteration.
# Then mount normally (the replay; its log line is printed), verify through
# the mount, unmount cleanly (mount.nvfs must exit 0), verify SOURCE, and
# fsck.nvfs -n the pmem.  Variants take turns; the last lines say, per
# durability mode and variant, how many iterations ran and failed, and the
# runtime.
#
# Environment:
#   NVFS_CRASH_ITERS     iterations per durability mode (default 36 for op,
#                        18 for fsync: 4 and 2 of each variant; make
#                        torture runs 360 and 180)
#   NVFS_CRASH_MODES     durability modes (default "op fsync")
#   NVFS_CRASH_VARIANTS  variants, in turn (default "a b c d e p q r x")
#   NVFS_CRASH_SEED      the first iteration's seed (default random); the
#                        i-th iteration uses SEED+i
#   NVFS_CRASH_OPS       run exactly this many operations, then kill (no
#                        operation in flight): replays a failure's state
#   NVFS_CRASH_KEEP      a directory to copy failed iterations' files into
#                        (nvfs_crashload apply STATE DIR makes the expected
#                        tree from a kept state file)
#   NVFS_CRASH_REPLAY_DELAY_US  the replay delay of variant d (default
#                        10000: a replay makes 50..150 such steps, so it
#                        lasts about 0.5..1.5 s)
#   NVFS_CRASH_DURABILITY  1: pass durability= to mount.nvfs, 0: do not
#                        (default: 1 if mount.nvfs accepts it).  Without
#                        it only variant a runs (b, c, d need the journal
#                        replay), unless NVFS_CRASH_FORCE=1.
#   NVFS_SAN_LOG_DIR     where a sanitized daemon (NVFS_IT_MOUNT, with
#                        ASAN_OPTIONS/UBSAN_OPTIONS log_path there) writes
#                        its reports: any file there after an iteration
#                        fails it (the report is shown and moved aside)
# A failure prints the seed, the command that repeats the iteration, and
# the checker's report.  The last lines are one per durability mode and
# variant: "SUMMARY kind=KIND/MODE cycles=N replayed=ENTRIES failures=N"
# (tests/torture/torture.sh gathers them into its table).
#
# Needs root, /dev/fuse and fusermount3 (else skipped).  Every mount this
# test makes is unmounted by its EXIT trap (lazily: killed daemons leave
# dead mounts), only the processes it started are killed, and every wait
# has a timeout.
# it-timeout: 420
set -u
# shellcheck source=tests/it/lib.sh
. "$(dirname "$0")/lib.sh" || exit 1

if [ "$(id -u)" != 0 ]; then
	echo "skip: t80 mounts as root"
	exit 0
fi
if [ ! -c /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
	echo "skip: needs /dev/fuse and fusermount3"
	exit 0
fi
CL=$B/nvfs_crashload
if [ ! -x "$CL" ]; then
	fail "$CL is missing: build it first (make)"
	finish
fi

# ---- configuration -----------------------------------------------------------
modes=${NVFS_CRASH_MODES:-op fsync}
variants=${NVFS_CRASH_VARIANTS:-a b c d e p q r x}
fixed_ops=${NVFS_CRASH_OPS:-}
keep=${NVFS_CRASH_KEEP:-}
seed0=${NVFS_CRASH_SEED:-$(((RANDOM << 15 | RANDOM) % 1000000000))}
replay_delay=${NVFS_CRASH_REPLAY_DELAY_US:-10000}
PMEM_SIZE=256M   # the journal must hold a whole run: NVFS_TEST_NO_CHECKPOINT
JOURNAL_SIZE=128M
PCUT=$B/nvfs_pmcut
san_dir=${NVFS_SAN_LOG_DIR:-}
iters_for() {
	if [ -n "${NVFS_CRASH_ITERS:-}" ]; then echo "$NVFS_CRASH_ITERS"
	elif [ "$1" = op ]; then echo 36; else echo 18; fi
}

# ---- processes and mounts: tracked, always stopped --------------------------
mnts=""   # mount points this test mounted (dead or alive)
pids=""   # mount.nvfs processes this test started and has not reaped
cpids=""  # nvfs_crashload runs (under timeout) not reaped
# shellcheck disable=SC2317  # called by the EXIT trap
unmount_all() {
	local m p
	for m in $mnts; do lazy_umount "$m"; done
	for p in $cpids; do kill "$p" 2>/dev/null; done
	stop_mounts "" "$pids"
}
trap 'unmount_all; cleanup' EXIT
trap 'exit 1' INT TERM HUP

# is_mounted, lazy_umount, drop, reap, sleep_ms: lib.sh

# mount_opts MODE: the -o options of every mount of an iteration (and
# $extra_opts, the variant's)
mount_opts() {
	local o="pmem=$P,fsname=nvfs-t80"   # fsname: its copy must be freed (ASan)
	[ "$durability" = 1 ] && o="$o,durability=$1"
	echo "$o${extra_opts:+,$extra_opts}"
}
# spawn_fs LOG MODE [VAR=VALUE...]: mount.nvfs -f SOURCE MNT in the
# background with those variables in its environment; the daemon's pid in
# $pid (the mount itself is not waited for)
spawn_fs() {
	local log=$1 mode=$2
	shift 2
	env "$@" "$MOUNT" "$S" "$M" -f -o "$(mount_opts "$mode")" >"$log" 2>&1 &
	pid=$!
	pids="$pids $pid"
	case " $mnts " in *" $M "*) ;; *) mnts="$mnts $M" ;; esac
}
# wait_mounted, kill_fs: lib.sh
# replay_line LOG: what the mount said about the journal and its replay
replay_line() {
	grep -iE 'replay' "$1" | tail -1 | sed -e 's/^mount.nvfs: //' -e "s|$T/||g" |
		cut -c1-200
}

# damage DIR: delete and truncate at random (from $RANDOM, seeded)
damage() {
	local f nd=0 nt=0 sz
	while IFS= read -r -d '' f; do
		[ -e "$f" ] || continue # went with its directory
		if [ -d "$f" ]; then
			[ $((RANDOM % 6)) = 0 ] && rm -rf "$f" && nd=$((nd + 1))
			continue
		fi
		case $((RANDOM % 4)) in
		0) rm -f "$f" && nd=$((nd + 1)) ;;
		1) sz=$(size "$f")
		   truncate -s $(((RANDOM << 15 | RANDOM) % (sz + 1))) "$f" && nt=$((nt + 1)) ;;
		esac
	done < <(find "$1" -mindepth 1 -print0 | sort -z)
	echo "$nd deleted, $nt truncated"
}
# wreck HOW: do to SOURCE what HOW says (keep, wipe, damage); a note
wreck() {
	case $1 in
	keep) echo "SOURCE kept" ;;
	wipe) find "$S" -mindepth 1 -delete && echo "SOURCE wiped" ;;
	damage) echo "SOURCE damaged ($(damage "$S"))" ;;
	esac
}

# wait_log LOG REGEX SECONDS PID: until a line of LOG matches REGEX; fails
# if SECONDS pass or PID exits first
wait_log() {
	for _ in $(seq $(($3 * 100))); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		kill -0 "$4" 2>/dev/null || return 1
		sleep 0.01
	done
	return 1
}
# stat_of KEY: KEY's value in the mount's user.nvfs.stats (empty if none)
stat_of() {
	getfattr -n user.nvfs.stats --only-values "$M" 2>/dev/null |
		awk -v k="$1:" '$1 == k { print $2 }'
}
# alive PID: PID is running (not gone, not a zombie)
alive() {
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ]
}
# san_check: a sanitizer report of this iteration fails it
san_check() {
	local f
	[ -n "$san_dir" ] || return 0
	for f in "$san_dir"/*; do
		[ -f "$f" ] || continue
		ifail "sanitizer report from the daemon: $f"
		show "$f"
		mv "$f" "$f.seen-$seed"
	done
}

# ---- one iteration --------------------------------------------------------------
declare -A runs=() failed=() midway=() replayed=() inside=() waits=() differ=()
recovered=0   # objects replays kept in SOURCE/nvfs-recovered (durability=fsync)
# ifail MSG...: this iteration failed; say how to repeat it
ifail() {
	local acked
	fail "$mode/$v seed $seed: $*"
	[ "$iter_failed" = 1 ] && return
	iter_failed=1
	acked=$(grep -c '^R ' "$ST" 2>/dev/null)
	echo "       reproduce: NVFS_CRASH_SEED=$seed NVFS_CRASH_ITERS=1" \
		"NVFS_CRASH_MODES=$mode NVFS_CRASH_VARIANTS=$v bash $0 $B"
	echo "       (or, with the same operations and none in flight:" \
		"NVFS_CRASH_OPS=${acked:-0} added)"
}
# show FILE: a log, indented, at most 40 lines
show() { [ -s "$1" ] && head -40 "$1" | sed 's/^/       | /'; }

# one_iteration MODE VARIANT SEED N
one_iteration() {
	mode=$1 v=$2 seed=$3
	local n=$4 rc ms how=keep ops inflight note rline crash_env=() power="" filler=""
	local gran=default
	local psize=$PMEM_SIZE jsize=$JOURNAL_SIZE
	I=$T/it S=$T/it/src M=$T/it/mnt P=$T/p.pmem ST=$T/it/state
	iter_failed=0
	extra_opts=""
	RANDOM=$seed
	lazy_umount "$M"
	rm -rf "$I"
	mkdir -p "$S" "$M"
	case $v in
	b | c | d | q) crash_env=(NVFS_TEST_NO_CHECKPOINT=1) ;;
	e) crash_env=(NVFS_TEST_CKPT_DELAY_US=100000); extra_opts=checkpoint_secs=1
	   [ $((n % 2)) = 0 ] && power=shadow ;;
	p) power=shadow; extra_opts=checkpoint_secs=1 ;;
	r) power=cut
	   if [ $((RANDOM % 2)) = 0 ]; then how=wipe; crash_env=(NVFS_TEST_NO_CHECKPOINT=1)
	   else extra_opts=checkpoint_secs=1; fi ;;
	x) psize=64M jsize=8M extra_opts=checkpoint_secs=1
	   crash_env=(NVFS_TEST_CKPT_DELAY_US=200000) ;;
	esac
	[ "$v" = q ] && power=shadow
	case $v in
	e | p | q | r) [ $((RANDOM % 2)) = 0 ] &&
		crash_env+=(PMEM2_FORCE_GRANULARITY=cache_line) && gran=cache_line ;;
	esac
	# one pmem for all iterations, formatted anew each time
	if ! "$MKFS" -f -s "$psize" -J "$jsize" "$P" >"$I/mkfs.log" 2>&1; then
		ifail "mkfs.nvfs failed"; show "$I/mkfs.log"; return
	fi
	if [ -n "$power" ]; then
		# the shadow starts as the pmem is before the mount: all durable
		cp --sparse=always "$P" "$I/shadow" &&
			crash_env+=(NVFS_TEST_PMEM_SHADOW="$I/shadow") ||
			{ ifail "cannot copy the pmem to the shadow"; return; }
	fi

	# the workload, killed
	spawn_fs "$I/mount1.log" "$mode" "${crash_env[@]}"
	local d1=$pid
	if ! wait_mounted "$d1" 10; then
		ifail "the first mount did not come up"; show "$I/mount1.log"
		kill_fs "$d1"; return
	fi
	timeout -k 5 60 "$CL" run -S "$seed" -m "$mode" ${fixed_ops:+-n "$fixed_ops"} \
		"$M" "$ST" 2>"$I/run.log" &
	local cl=$!
	cpids="$cpids $cl"
	if [ "$v" = x ]; then
		# a second writer, outside the workload's names: the journal fills
		# faster than a checkpoint empties it, whatever the mode; once the
		# workload has begun (it starts from an empty directory)
		wait_log "$ST" '^B ' 10 "$cl"
		timeout -k 5 30 dd if=/dev/zero of="$M/zz-filler" bs=256K count=2000 \
			conv=notrunc status=none 2>"$I/filler.log" &
		filler=$!
		cpids="$cpids $filler"
	fi
	ms=$((20 + RANDOM % 381)) # drawn either way: the draws after it stay the same
	case $v in
	e) ms=$((RANDOM % 81)) ;;
	p | r) ms=$((20 + RANDOM % 1481)) ;;
	x) ms=$((1000 + RANDOM % 2001)) ;;
	esac
	if [ -n "$fixed_ops" ]; then
		reap "$cl" 60
		ms="after op $fixed_ops"
	elif [ "$v" = e ]; then
		if wait_log "$I/mount1.log" 'NVFS_TEST: checkpoint .*SOURCE synced' 5 "$d1"; then
			sleep_ms "$ms"
			ms="$ms ms after a checkpoint synced SOURCE"
		else
			ms="after 5 s without a checkpoint"
			ifail "variant e: no checkpoint synced SOURCE within 5 s"
			show "$I/mount1.log"
		fi
	else
		sleep_ms "$ms"
		ms="after $ms ms"
	fi
	if [ "$v" = x ]; then
		local w
		w=$(stat_of waits_for_space)
		waits[$mode]=$((${waits[$mode]:-0} + ${w:-0}))
		ms="$ms, ${w:-?} waits for space, $(stat_of checkpoints) checkpoints"
	fi
	# The workload must see the dead mount (ENOTCONN) before it is
	# detached: a lazy unmount first would let an operation that starts
	# late find the bare mount point, and go on there.
	if ! alive "$d1"; then
		ifail "the daemon died on its own before the kill"
		show "$I/mount1.log"
	fi
	kill -9 "$d1" 2>/dev/null
	reap "$d1" 10
	[ "$reaped" = 137 ] || [ "$iter_failed" = 1 ] ||
		{ ifail "the daemon's exit status: $reaped (want 137, the SIGKILL)"; show "$I/mount1.log"; }
	[ -n "$filler" ] && reap "$filler" 35
	reap "$cl" 65
	rc=$reaped
	lazy_umount "$M"
	if [ -n "$filler" ] &&
	   grep -Ev 'Transport endpoint is not connected|Software caused connection abort|^$' \
		"$I/filler.log" | grep -q .; then
		ifail "the second writer failed other than by the mount going away"
		show "$I/filler.log"
	fi
	if [ "$v" = e ]; then
		# inside: the last "SOURCE synced" has no "done" after it
		if awk '/NVFS_TEST: checkpoint .*SOURCE synced/ { open = 1 }
			/NVFS_TEST: checkpoint .*done/ { open = 0 }
			END { exit !open }' "$I/mount1.log"; then
			inside[$mode]=$((${inside[$mode]:-0} + 1))
			ms="$ms (inside the checkpoint)"
		fi
	fi
	if [ "$rc" != 0 ]; then
		ifail "nvfs_crashload run: exit $rc (0: it stopped when the mount went away)"
		show "$I/run.log"
		[ "$rc" = timeout ] && kill "$cl" 2>/dev/null && reap "$cl" 10
		[ "$rc" != 1 ] && return # 1: unexpected results; verify says which
	fi
	ops=$(grep -c '^B ' "$ST")
	inflight=$(awk '$1 == "I" { n = $2; e = $3 } $1 == "B" { b[$2] = $0 }
		END { if (n) { sub(/^B [0-9]+ /, "", b[n]); print "op " n " " b[n] " (" e ")" } }' "$ST")
	note="killed $ms, at op $ops${inflight:+, in flight: $inflight}"

	# SOURCE, and for d a replay killed midway
	case $v in
	b) how=wipe ;;
	c) how=damage ;;
	q) how=wipe ;;
	d) how=$(echo keep wipe damage | cut -d' ' -f$((RANDOM % 3 + 1))) ;;
	esac
	note="$note; $(wreck "$how")"
	if [ -n "$power" ]; then
		# shadow: only what was drained; cut: plus PM permille of the rest
		local pm=0 cutmsg
		[ "$power" = cut ] && pm=$((RANDOM % 1001))
		if cutmsg=$("$PCUT" "$I/shadow" "$P" "$I/cut" "$seed" "$pm" 2>&1) &&
		   mv "$I/cut" "$P"; then
			note="$note; pmem ($gran granularity): what was drained + $pm permille of the unflushed words ($cutmsg)"
			differ[$mode.$v]=$((${differ[$mode.$v]:-0} + ${cutmsg%% *}))
		else
			ifail "nvfs_pmcut: $cutmsg"; return
		fi
	fi
	if [ "$v" = d ]; then
		ms=$((20 + RANDOM % 781))
		spawn_fs "$I/mount-replay.log" "$mode" \
			NVFS_TEST_REPLAY_DELAY_US="$replay_delay" NVFS_TEST_NO_CHECKPOINT=1
		local d2=$pid
		sleep_ms "$ms"
		if ! alive "$d2"; then
			ifail "the replaying mount died on its own before the kill"
			show "$I/mount-replay.log"
		fi
		kill_fs "$d2"
		[ "$reaped" = 137 ] || [ "$iter_failed" = 1 ] ||
			{ ifail "the replaying mount's exit status: $reaped (want 137)"; show "$I/mount-replay.log"; }
		if grep -q 'replayed [0-9]* journal entries' "$I/mount-replay.log"; then
			note="$note; replay mount killed after $ms ms, after its replay"
		else
			note="$note; replay mount killed after $ms ms, before its replay ended"
			midway[$mode]=$((${midway[$mode]:-0} + 1))
		fi
	fi

	# the replay, and the checks
	spawn_fs "$I/mount2.log" "$mode"
	local d3=$pid
	if ! wait_mounted "$d3" 60; then
		echo "$mode/$v #$n seed $seed: $note"
		ifail "the remount did not come up"; show "$I/mount2.log"
		kill_fs "$d3"; return
	fi
	rline=$(replay_line "$I/mount2.log")
	local nrep
	nrep=$(grep -o 'replayed [0-9]* journal entries' "$I/mount2.log" | tail -1 | awk '{print $2}')
	replayed[$mode.$v]=$((${replayed[$mode.$v]:-0} + ${nrep:-0}))
	echo "$mode/$v #$n seed $seed: $note; remount: ${rline:-no replay line}"
	# with durability=fsync, objects of operations that never became durable
	# may be kept aside in SOURCE/nvfs-recovered (replay deletes nothing it
	# cannot prove deleted): not names of the model, and allowed there
	ign=""
	[ "$v" = x ] && ign="-i zz-filler"
	if [ "$mode" = fsync ]; then
		ign="$ign -i nvfs-recovered"
		kept=$(grep -c "kept as SOURCE/nvfs-recovered" "$I/mount2.log")
		recovered=$((recovered + kept))
	fi
	# shellcheck disable=SC2086  # $ign is two words or none
	if ! timeout -k 5 300 "$CL" verify -m "$mode" $ign "$ST" "$M" >"$I/verify-mnt.log" 2>&1; then
		ifail "verify through the mount"; show "$I/verify-mnt.log"
	fi
	# the second writer's file: whatever survived is zeros, nothing else
	if [ -n "$filler" ] && [ -e "$M/zz-filler" ] &&
	   ! timeout -k 5 60 cmp -s -n "$(size "$M/zz-filler")" "$M/zz-filler" /dev/zero; then
		ifail "zz-filler holds bytes its writer never wrote"
	fi
	fusermount3 -u "$M"
	reap "$d3" 30
	if [ "$reaped" != 0 ]; then
		ifail "after fusermount3 -u, mount.nvfs: exit $reaped (want 0)"
		show "$I/mount2.log"
		[ "$reaped" = timeout ] && kill_fs "$d3"
	fi
	lazy_umount "$M"
	# shellcheck disable=SC2086
	if ! timeout -k 5 300 "$CL" verify -m "$mode" $ign "$ST" "$S" >"$I/verify-src.log" 2>&1; then
		ifail "verify SOURCE after the unmount"; show "$I/verify-src.log"
	fi
	if ! timeout -k 5 300 "$FSCK" -n "$P" >"$I/fsck.log" 2>&1; then
		ifail "fsck.nvfs -n: the pmem is not clean after the unmount"
		show "$I/fsck.log"
	fi
	san_check
}

# iteration MODE VARIANT SEED N: one_iteration, then keep what a failed
# one left (NVFS_CRASH_KEEP)
iteration() {
	one_iteration "$@"
	if [ "$iter_failed" = 1 ] && [ -n "$keep" ]; then
		mkdir -p "$keep" && cp -a "$I" "$keep/$mode-$v-$seed" &&
			cp "$P" "$keep/$mode-$v-$seed/" &&
			echo "       kept in $keep/$mode-$v-$seed"
	fi
}

# ---- does mount.nvfs take durability= yet? ----------------------------------------
durability=${NVFS_CRASH_DURABILITY:-}
if [ -z "$durability" ]; then
	I=$T/probe S=$T/probe/src M=$T/probe/mnt P=$T/probe/p.pmem
	mkdir -p "$S" "$M"
	durability=1
	"$MKFS" -s 32M "$P" >/dev/null 2>&1
	spawn_fs "$T/probe.log" op
	if wait_mounted "$pid" 10; then
		fusermount3 -u "$M"
		reap "$pid" 10
	else
		kill_fs "$pid"
		if grep -q "durability" "$T/probe.log"; then
			durability=0
		else
			fail "mount.nvfs -o durability=op: does not mount"
			show "$T/probe.log"
			finish
		fi
	fi
	rm -rf "$I"
fi
if [ "$durability" = 0 ]; then
	echo "note: mount.nvfs does not take durability= (journaling not in this build):" \
		"mounting without it"
	if [ "${NVFS_CRASH_FORCE:-0}" != 1 ]; then
		v2=""
		for v in $variants; do [ "$v" = a ] && v2="$v2 a"; done
		[ "$variants" != "${v2# }" ] &&
			echo "note: variants other than a need the journal's replay: skipped" \
				"(NVFS_CRASH_FORCE=1 runs them)"
		variants=${v2# }
	fi
fi

# ---- the loop ------------------------------------------------------------------------
echo "seed $seed0 (NVFS_CRASH_SEED=$seed0 repeats this run)"
start=$SECONDS
read -ra vlist <<<"$variants"
i=0
for mode in $modes; do
	[ ${#vlist[@]} -gt 0 ] || break
	iters=$(iters_for "$mode")
	mstart=$SECONDS
	for n in $(seq "$iters"); do
		v=${vlist[$(((n - 1) % ${#vlist[@]}))]}
		# bash reports each SIGKILLed daemon ("line N: PID Killed ..."):
		# keep those notices out of the output, show anything else
		iteration "$mode" "$v" $((seed0 + i)) "$n" 2>"$T/stderr"
		grep -Ev ': line [0-9]+: +[0-9]+ Killed ' "$T/stderr" >&2
		runs[$mode.$v]=$((${runs[$mode.$v]:-0} + 1))
		failed[$mode.$v]=$((${failed[$mode.$v]:-0} + iter_failed))
		i=$((i + 1))
	done
	echo "durability=$mode: $iters iterations in $((SECONDS - mstart)) s"
done
rm -rf "$T/it" "$T/p.pmem"

declare -A vname=([a]="SOURCE kept" [b]="SOURCE wiped" [c]="SOURCE damaged"
	[d]="replay killed" [e]="checkpoint killed" [p]="power loss"
	[q]="power loss, SOURCE at the last checkpoint"
	[r]="power loss, some unflushed stores kept" [x]="pmem exhausted")
declare -A kind=([a]=kill [b]=kill-source-wiped [c]=kill-source-damaged
	[d]=kill-in-replay [e]=kill-in-checkpoint [p]=power-loss
	[q]=power-loss-source-at-checkpoint [r]=power-loss-partial-stores
	[x]=pmem-exhaustion)
for mode in $modes; do
	for v in $variants; do
		[ -n "${runs[$mode.$v]:-}" ] || continue
		extra=""
		case $v in
		d) extra="; killed before the replay ended: ${midway[$mode]:-0}" ;;
		e) extra="; killed inside a checkpoint: ${inside[$mode]:-0}" ;;
		x) extra="; writers waited for space: ${waits[$mode]:-0} times" ;;
		esac
		case $v in e | p | q | r)
			extra="$extra; 8-byte words stored but not durable at the kills:" \
			extra="$extra ${differ[$mode.$v]:-0}" ;;
		esac
		echo "summary: durability=$mode variant $v (${vname[$v]:-?}):" \
			"${runs[$mode.$v]} iterations, ${failed[$mode.$v]} failed," \
			"${replayed[$mode.$v]:-0} entries replayed$extra"
	done
done
# checks of a whole run: a variant that never did what it is there for
# failed, whatever its iterations said (from enough iterations that chance
# alone does not fail it: make check's few do not count for e and r)
run_check() { # MODE VARIANT MIN_RUNS VALUE WHAT
	[ "${runs[$1.$2]:-0}" -ge "$3" ] && [ "${4:-0}" = 0 ] || return 0
	fail "durability=$1 variant $2: $5 in ${runs[$1.$2]} iterations"
	failed[$1.$2]=$((${failed[$1.$2]} + 1))
}
for mode in $modes; do
	run_check "$mode" e 6 "${inside[$mode]:-0}" "no kill landed inside a checkpoint"
	# with durability=op little is ever stored and not yet durable (each
	# operation commits before its reply): only fsync runs must show some
	[ "$mode" = fsync ] &&
		run_check "$mode" r 6 "${differ[$mode.r]:-0}" "no kill left a stored word not durable"
	run_check "$mode" x 2 "${waits[$mode]:-0}" "no writer waited for space"
done
for mode in $modes; do
	for v in $variants; do
		[ -n "${runs[$mode.$v]:-}" ] || continue
		echo "SUMMARY kind=${kind[$v]:-$v}/$mode cycles=${runs[$mode.$v]}" \
			"replayed=${replayed[$mode.$v]:-0} failures=${failed[$mode.$v]}"
	done
done
echo "summary: objects of never-durable operations kept in nvfs-recovered" \
	"(durability=fsync): $recovered"
echo "runtime: $((SECONDS - start)) s"
finish
