#!/bin/bash
# fs_bench.sh BUILD_DIR -- the file-system benchmark: nvfs side by side with
# the backing file system itself and with libfuse's passthrough_ll, in one
# invocation, on one backing disk, printed as one table per workload with
# every configuration's median (min-max over the rounds) and its ratio to
# native and to passthrough_ll; then the targets of issue 6, PASS or MISS.
# The tables are also written to docs/PERFORMANCE.md (between its
# "fs_bench" markers) by a full run.
#
# Configurations (every one on its own directory under BENCH_DIR, default
# /var/tmp, which must be on a disk file system -- ext4 here, never tmpfs):
#   native           the backing directory itself
#   passthrough_ll   libfuse's example (build/passthrough_ll, built by
#                    `make bench` from libfuse3-dev's examples) as shipped:
#                    -o source=DIR (cache=auto: 1 s timeouts, no keep_cache,
#                    no writeback cache; xattrs off)
#   passthrough_ll+xattr  the same with -o xattr, only for the write
#                    workloads: with xattrs the kernel asks the daemon for
#                    security.capability before every write, as it asks nvfs
#   nvfs-tmpfs-op    mount.nvfs, pmem file on /dev/shm, durability=op
#   nvfs-disk-op     mount.nvfs, pmem file in BENCH_DIR, durability=op
#   nvfs-disk-fsync  the same with durability=fsync
# nvfs runs as `build/mount.nvfs SRC MNT -f -o pmem=P,pmem_size=512M,
# durability=D` with its defaults otherwise (1 s timeouts, 8 threads).
#
# Alternation: for each round, for each workload, every configuration in
# turn (A B C D E, A B C D E, ...); every run gets a fresh mount of a SOURCE
# emptied and set up beforehand on the backing disk, then `sync` and
# drop_caches, so that no run inherits another's dirty pages, journal,
# caches or recently deleted inodes.
#
# Environment:
#   NVFS_BENCH_ROUNDS=N      rounds (default 3; 1 in quick mode)
#   NVFS_BENCH_QUICK=1       smoke test: 1 round, small sizes, ~0.5 s per
#                            workload run, 256 MiB journal replaced by 32 MiB;
#                            writes no docs/PERFORMANCE.md unless NVFS_BENCH_DOC
#   NVFS_BENCH_WORKLOADS="wl ..."  only these (ids: floor wfsync1 wfsync4
#                            wfdsync1 wfdsync4 wbuf1 seqw seqr rread smallf
#                            meta sqlwal sqldel replay)
#   NVFS_BENCH_CONFIGS="cfg ..."   only these configurations
#   NVFS_BENCH_DOC=FILE      where to write the tables (default
#                            docs/PERFORMANCE.md for a full run; - for nowhere)
#   BENCH_DIR=DIR            the backing disk's directory (default /var/tmp)
#   NVFS_BENCH_CPUS=LIST     run every daemon and tool under `taskset -c LIST`
#                            (e.g. 0: no cross-CPU wakeups; see PERFORMANCE.md)
#   NVFS_BENCH_TSV=FILE      where to keep the raw results (workload, metric,
#                            configuration, round, value; default
#                            BUILD_DIR/fs_bench.tsv; - for nowhere)
# Needs root (FUSE mounts, drop_caches), /dev/fuse, fusermount3, fio.
# Every mount it makes is unmounted by its EXIT trap, and only processes
# it started are ever killed.
set -euo pipefail
export LC_ALL=C

build=$(cd "${1:-build}" && pwd)
tsv=${NVFS_BENCH_TSV:-$build/fs_bench.tsv}
root=$(cd "$(dirname "$0")/.." && pwd)
cmdline="bench/fs_bench.sh ${1:-build}"
pin=()
[ -n "${NVFS_BENCH_CPUS:-}" ] && pin=(taskset -c "$NVFS_BENCH_CPUS")
for v in NVFS_BENCH_QUICK NVFS_BENCH_ROUNDS NVFS_BENCH_WORKLOADS NVFS_BENCH_CONFIGS NVFS_BENCH_CPUS BENCH_DIR; do
	[ -n "${!v:-}" ] && cmdline="$v='${!v}' $cmdline"
done

if [ "$(id -u)" != 0 ]; then
	echo "fs_bench: skip: needs root (FUSE mounts, drop_caches)"
	exit 0
fi
if [ ! -c /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
	echo "fs_bench: skip: needs /dev/fuse and fusermount3"
	exit 0
fi
for t in fs_load sqlite_load passthrough_ll mount.nvfs mkfs.nvfs; do
	[ -x "$build/$t" ] || { echo "fs_bench: $build/$t missing: run 'make bench'" >&2; exit 1; }
done
command -v fio >/dev/null || { echo "fs_bench: fio missing: tools/deps.sh install" >&2; exit 1; }
nvfs_desc="$("$build/mount.nvfs" --version 2>&1 | head -1) ($(git -C "$build/.." describe --always --dirty 2>/dev/null || echo "no git"))"

quick=0
[ "${NVFS_BENCH_QUICK:-0}" = 1 ] && quick=1
if [ $quick = 1 ]; then
	rounds=${NVFS_BENCH_ROUNDS:-1}
	T=0.5            # seconds per timed run
	wfile=8          # MiB per file of the 4 KiB random write workloads
	seq_mib=64       # the sequential file
	rr_mib=16        # the randomly read file
	meta_n=2000 meta_cap=1
	rj=32M rps=96M   # replay: journal and pmem size
	doc=${NVFS_BENCH_DOC:--}
else
	rounds=${NVFS_BENCH_ROUNDS:-3}
	T=2
	wfile=32
	seq_mib=256
	rr_mib=64
	meta_n=10000 meta_cap=5
	rj=256M rps=512M
	doc=${NVFS_BENCH_DOC:-$root/docs/PERFORMANCE.md}
fi
settle=1.2  # > FUSE's 1 s entry/attribute timeout (meta's stat phase)
floor_t=$T
[ $quick = 0 ] && floor_t=1
tmo=300     # no tool run may take longer (seconds)

base=${BENCH_DIR:-/var/tmp}
fs=$(df --output=fstype "$base" | tail -1)
if [ "$fs" = tmpfs ] || [ "$fs" = ramfs ]; then
	echo "fs_bench: BENCH_DIR=$base is $fs: the backing directory must be on a disk" >&2
	exit 1
fi

# ---- processes and mounts: ours only, always stopped ---------------------------
W="" SHM=""
pids=""  # daemons started and not yet reaped
dpid=""  # the current daemon
wpid=""  # its memory watcher (fs_load rsswatch)
cleanup() {
	local m p
	[ -n "$W" ] || return 0
	[ -n "$wpid" ] && kill "$wpid" 2>/dev/null
	for m in "$W"/mnt-*; do
		[ -d "$m" ] && mountpoint -q "$m" 2>/dev/null &&
			{ fusermount3 -u "$m" 2>/dev/null || fusermount3 -u -z "$m" 2>/dev/null || umount -l "$m"; }
	done
	for p in $pids; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill "$p" 2>/dev/null && sleep 0.5 && kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null || true
	done
	for m in "$W"/mnt-*; do
		if [ -d "$m" ] && mountpoint -q "$m" 2>/dev/null; then
			echo "fs_bench: $m still mounted; leaving $W" >&2
			rm -rf "${SHM:?}"
			return
		fi
	done
	rm -rf "$W" "$SHM"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
W=$(mktemp -d "$base/nvfs-fsbench.XXXXXX")
SHM=$(mktemp -d /dev/shm/nvfs-fsbench.XXXXXX)
res=$W/results.tsv fails=$W/failures
# run copies of the binaries: a rebuild during the run must not change them
mkdir "$W/bin"
for t in fs_load sqlite_load passthrough_ll mount.nvfs mkfs.nvfs; do cp "$build/$t" "$W/bin/"; done
build=$W/bin
: >"$res"
: >"$fails"

log() { echo "fs_bench: $*" >&2; }
forget_pid() { local p out=""; for p in $pids; do [ "$p" = "$1" ] || out="$out $p"; done; pids=$out; }

# wait_mounted MNT PID SECS: until MNT is a mount point; fails if PID died or SECS passed
wait_mounted() {
	local i n
	n=$(awk -v s="$3" 'BEGIN { print int(s * 100) }')
	for ((i = 0; i < n; i++)); do
		mountpoint -q "$1" && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.01
	done
	return 1
}

# the configurations
all_cfgs="native ptll ptx nvfs-tmpfs-op nvfs-disk-op nvfs-disk-fsync"
label() {
	case $1 in
	native) echo "native ($fs)" ;;
	ptll) echo "passthrough_ll" ;;
	ptx) echo "passthrough_ll -o xattr" ;;
	*) echo "$1" ;;
	esac
}
src_of() { echo "$W/src-$1"; }
dir_of() { if [ "$1" = native ]; then echo "$W/src-native"; else echo "$W/mnt-$1"; fi; }
for c in $all_cfgs; do mkdir -p "$W/src-$c" "$W/mnt-$c"; done

# mount_cfg CFG [EXTRA_OPTS]: mount CFG's SOURCE on its mount point ($dpid)
mount_cfg() {
	local c=$1 x=${2:-} src mnt lg
	src=$(src_of "$c") mnt=$W/mnt-$c lg=$W/log-$c
	dpid=
	case $c in
	native) return 0 ;;
	ptll) "${pin[@]}" "$build/passthrough_ll" -f -o "source=$src$x" "$mnt" >>"$lg" 2>&1 & ;;
	ptx) "${pin[@]}" "$build/passthrough_ll" -f -o "source=$src,xattr$x" "$mnt" >>"$lg" 2>&1 & ;;
	nvfs-tmpfs-op) "${pin[@]}" "$build/mount.nvfs" "$src" "$mnt" -f \
		-o "pmem=$SHM/tmpfs-op.pmem,pmem_size=512M,durability=op$x" >>"$lg" 2>&1 & ;;
	nvfs-disk-op) "${pin[@]}" "$build/mount.nvfs" "$src" "$mnt" -f \
		-o "pmem=$W/disk-op.pmem,pmem_size=512M,durability=op$x" >>"$lg" 2>&1 & ;;
	nvfs-disk-fsync) "${pin[@]}" "$build/mount.nvfs" "$src" "$mnt" -f \
		-o "pmem=$W/disk-fsync.pmem,pmem_size=512M,durability=fsync$x" >>"$lg" 2>&1 & ;;
	*) log "unknown configuration $c"; return 1 ;;
	esac
	dpid=$!
	pids="$pids $dpid"
	watch_start
	if ! wait_mounted "$mnt" "$dpid" 60; then
		log "$c: no mount; its log:"
		tail -5 "$lg" >&2
		watch_stop
		umount_cfg "$c"
		return 1
	fi
}

# watch_start / watch_stop: sample the daemon's memory every 20 ms (fs_load
# rsswatch: no fork per sample); watch_stop leaves the peaks in $W/rss.out
watch_start() {
	"$build/fs_load" rsswatch "$dpid" 20 >"$W/rss.out" 2>/dev/null &
	wpid=$!
}
watch_stop() {
	[ -n "$wpid" ] || return 0
	kill "$wpid" 2>/dev/null || true
	wait "$wpid" 2>/dev/null || true
	wpid=
}
mib() { awk -v k="$1" '$1 == k { printf "%.1f\n", $2 / 1024 }' "$W/rss.out"; }

# umount_cfg CFG: unmount, wait for the daemon (nvfs checkpoints at unmount)
umount_cfg() {
	local mnt=$W/mnt-$1 i
	[ -n "$dpid" ] || return 0
	if mountpoint -q "$mnt"; then
		fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -u -z "$mnt" 2>/dev/null || true
	fi
	for ((i = 0; i < 1200; i++)); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$dpid" 2>/dev/null; then
		log "$1: daemon $dpid still there 120 s after unmount: killed"
		kill "$dpid" 2>/dev/null; sleep 1; kill -9 "$dpid" 2>/dev/null
	fi
	wait "$dpid" 2>/dev/null || true
	forget_pid "$dpid"
	dpid=
	mountpoint -q "$mnt" && fusermount3 -u -z "$mnt" 2>/dev/null
	return 0
}

# ---- results ----------------------------------------------------------------------
# emit WL METRIC CFG ROUND VALUE
emit() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$res"; }
kv() { awk -v k="$2" '$1 == k { print $2; exit }' "$1"; }
# run_tool OUT CMD...: run under a timeout, stdout to OUT; on failure, say so
run_tool() {
	local out=$1
	shift
	if ! timeout -k 5 "$tmo" "${pin[@]}" "$@" >"$out" 2>"$out.err"; then
		log "FAILED: $* : $(tail -2 "$out.err" | tr '\n' ' ')"
		return 1
	fi
}
fail_run() { echo "$1 $2 round $3" >>"$fails"; }
# fio_bw OUT FIELD ARGS...: fio, psync engine, terse; MB/s from FIELD (7 read, 48 write, KiB/s)
fio_bw() {
	local out=$1 f=$2
	shift 2
	run_tool "$out" fio --ioengine=psync --output-format=terse --terse-version=3 "$@" || return 1
	awk -F';' -v f="$f" '{ printf "%.1f\n", $f * 1.024 / 1000 }' "$out"
}
# rss_note CFG ROUND WL: stop the watcher; keep the largest VmHWM and RssAnon
# of this configuration and round ($W/{hwm,anon}.CFG.ROUND); after the
# write+fsync 4-job workload, emit both
rss_note() {
	local h a f
	[ -n "$dpid" ] || return 0
	watch_stop
	h=$(mib hwm_kib) a=$(mib anon_kib)
	[ -n "$h" ] && [ -n "$a" ] || return 0
	if [ "$3" = wfsync4 ]; then
		emit rss hwm_fsync4 "$1" "$2" "$h"
		emit rss anon_fsync4 "$1" "$2" "$a"
	fi
	for f in hwm:$h anon:$a; do
		if [ ! -s "$W/${f%%:*}.$1.$2" ] ||
		   awk -v a="${f#*:}" -v b="$(cat "$W/${f%%:*}.$1.$2")" 'BEGIN { exit !(a > b) }'; then
			echo "${f#*:}" >"$W/${f%%:*}.$1.$2"
		fi
	done
}
clear_src() { find "$(src_of "$1")" -mindepth 1 -delete; }
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }

# ---- workloads ------------------------------------------------------------------------
# run_wl WL CFG ROUND: set up SOURCE, mount, measure, emit, unmount
run_wl() {
	local wl=$1 c=$2 r=$3 S D o=$W/out x="" v ok=1 mode thr
	S=$(src_of "$c") D=$(dir_of "$c")
	clear_src "$c"
	case $wl in
	wfsync1 | wfsync4 | wfdsync1 | wfdsync4 | wbuf1)
		thr=${wl: -1}
		for ((i = 0; i < thr; i++)); do "$build/fs_load" mkfile "$S/wsync.$i" "$wfile"; done ;;
	seqr) "$build/fs_load" mkfile "$S/seq" "$seq_mib" ;;
	rread) "$build/fs_load" mkfile "$S/rr" "$rr_mib" ;;
	floor) "$build/fs_load" mkfile "$S/floor" 1; x=",timeout=0" ;;
	smallf) mkdir "$S/sf" ;;
	esac
	# every run starts from cold caches; above all, ext4 without a journal
	# (as here) skips inodes deleted in the last 60 s whose inode block is
	# still cached, one by one, when it allocates: creates right after the
	# previous run's deletions would pay for them
	drop_caches
	mount_cfg "$c" "$x" || { fail_run "$wl" "$c" "$r"; return 0; }
	case $wl in
	wfsync1 | wfsync4 | wfdsync1 | wfdsync4 | wbuf1)
		case $wl in wfs*) mode=fsync ;; wfd*) mode=fdatasync ;; *) mode=none ;; esac
		if run_tool "$o" "$build/fs_load" wsync "$D" "$mode" "$thr" "$wfile" "$T"; then
			for m in iops mean_us p99_us; do emit "$wl" $m "$c" "$r" "$(kv "$o" $m)"; done
			v=$(kv "$o" iops)
		else ok=0; fi ;;
	seqw)
		if v=$(fio_bw "$o" 48 --name=seqw --filename="$D/seqw" --rw=write --bs=1M \
			--size="${seq_mib}M" --end_fsync=1 --fallocate=none); then
			emit seqw mbs "$c" "$r" "$v"
		else ok=0; fi ;;
	seqr)
		# cold: nothing of the file in any page cache (FUSE's or the backing's)
		drop_caches
		if v=$(fio_bw "$o" 7 --name=seqr --filename="$D/seq" --rw=read --bs=1M \
			--size="${seq_mib}M" --invalidate=1); then
			emit seqr cold_mbs "$c" "$r" "$v"
			# warm: read again right away, with a new open as any reader does
			if v=$(fio_bw "$o" 7 --name=seqr --filename="$D/seq" --rw=read --bs=1M \
				--size="${seq_mib}M" --invalidate=0); then
				emit seqr warm_mbs "$c" "$r" "$v"
			else ok=0; fi
		else ok=0; fi ;;
	rread)
		if run_tool "$o" "$build/fs_load" rread "$D/rr" "$T"; then
			for m in iops mean_us p99_us; do emit rread $m "$c" "$r" "$(kv "$o" $m)"; done
			v=$(kv "$o" iops)
		else ok=0; fi ;;
	floor)
		if run_tool "$o" "$build/fs_load" floor "$D/floor" "$floor_t"; then
			for m in mean_ns p50_ns p99_ns; do emit floor $m "$c" "$r" "$(kv "$o" $m)"; done
			v=$(kv "$o" p50_ns)
		else ok=0; fi ;;
	smallf)
		if run_tool "$o" "$build/fs_load" smallfile "$D/sf" "$T"; then
			for m in files_s mean_us p99_us; do emit smallf $m "$c" "$r" "$(kv "$o" $m)"; done
			v=$(kv "$o" files_s)
		else ok=0; fi ;;
	meta)
		if run_tool "$o" "$build/fs_load" meta "$D/meta" "$meta_n" "$meta_cap" "$settle"; then
			for m in files create_s stat_s rename_s unlink_s; do
				emit meta $m "$c" "$r" "$(kv "$o" $m)"
			done
			v="$(kv "$o" files) files, create $(kv "$o" create_s)/s"
		else ok=0; fi ;;
	sqlwal | sqldel)
		mode=wal; [ "$wl" = sqldel ] && mode=delete
		if run_tool "$o" "$build/sqlite_load" "$D/db" "$mode" "$T"; then
			for m in inserts_s mean_us p99_us; do emit "$wl" $m "$c" "$r" "$(kv "$o" $m)"; done
			v=$(kv "$o" inserts_s)
		else ok=0; fi ;;
	esac
	rss_note "$c" "$r" "$wl"
	umount_cfg "$c"
	if [ $ok = 1 ]; then log "  $wl $c: $v"; else fail_run "$wl" "$c" "$r"; fi
	return 0
}

# stats_of MNT KEY: one value of nvfs's statistics xattr
stats_of() { { getfattr -n user.nvfs.stats --only-values "$1" 2>/dev/null || true; } | sed -n "s/^$2: //p"; }

# run_replay CFG ROUND: a pmem with a $rj journal (on /dev/shm for
# nvfs-tmpfs-op, else on the disk), filled through a mount whose checkpointer
# is off (NVFS_TEST_NO_CHECKPOINT=1) with 64 KiB writes to within 4.5 MiB of
# full, committed (fsync), daemon killed (-9); then the time from starting
# mount.nvfs until MNT is a mount point (replay included).
run_replay() {
	local c=$1 r=$2 pm src=$W/src-replay mnt=$W/mnt-replay lg=$W/log-replay
	local total used i=0 t0 t1 v s n
	case $c in nvfs-tmpfs-op) pm=$SHM/replay.pmem ;; *) pm=$W/replay.pmem ;; esac
	rm -rf "$src" "$pm"
	mkdir -p "$src" "$mnt"
	[ -s "$W/fill64m" ] || head -c 64M /dev/urandom >"$W/fill64m"
	if ! "$build/mkfs.nvfs" -s "$rps" -J "$rj" "$pm" >"$lg" 2>&1; then
		log "replay: mkfs.nvfs failed: $(tail -1 "$lg")"; fail_run replay "$c" "$r"; return 0
	fi
	NVFS_TEST_NO_CHECKPOINT=1 "${pin[@]}" "$build/mount.nvfs" "$src" "$mnt" -f \
		-o "pmem=$pm,durability=fsync" >>"$lg" 2>&1 &
	dpid=$!
	pids="$pids $dpid"
	if ! wait_mounted "$mnt" "$dpid" 60; then
		log "replay: no mount: $(tail -1 "$lg")"; umount_replay; fail_run replay "$c" "$r"; return 0
	fi
	total=$(stats_of "$mnt" journal_bytes)
	while :; do
		used=$(stats_of "$mnt" journal_used_bytes)
		if [ -z "$used" ] || [ -z "$total" ]; then log "replay: no statistics"; break; fi
		# 64 KiB writes log ~65 KiB each; stop 4.5 MiB short: a write that
		# does not fit would wait for a checkpoint that never comes
		n=$(( (total - used) > 40 << 20 ? 256 : (total - used) > (4 << 20) + (512 << 10) ? 64 : 0 ))
		[ "$n" = 0 ] && break
		timeout -k 2 60 dd if="$W/fill64m" of="$mnt/f.$i" bs=64k count="$n" status=none ||
			{ log "replay: fill write failed"; break; }
		i=$((i + 1))
	done
	timeout -k 2 60 sync "$mnt/f.0" || true # durability=fsync: commits everything
	v=$(awk -v u="$(stats_of "$mnt" journal_used_bytes)" 'BEGIN { printf "%.1f", u / 1048576 }')
	kill -9 "$dpid" 2>/dev/null || true
	wait "$dpid" 2>/dev/null || true
	forget_pid "$dpid"
	fusermount3 -u -z "$mnt" 2>/dev/null || true
	: >"$lg"
	t0=$(date +%s.%N)
	"${pin[@]}" "$build/mount.nvfs" "$src" "$mnt" -f -o "pmem=$pm" >>"$lg" 2>&1 &
	dpid=$!
	pids="$pids $dpid"
	watch_start
	if wait_mounted "$mnt" "$dpid" 300; then
		t1=$(date +%s.%N)
		watch_stop
		s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
		emit replay mount_s "$c" "$r" "$s"
		emit replay fill_mib "$c" "$r" "$v"
		n=$(sed -En 's/.*replayed ([0-9]+) journal entries .* in ([0-9.]+) s.*/\1 \2/p' "$lg")
		[ -n "$n" ] && emit replay replay_s "$c" "$r" "${n#* }" && emit replay entries "$c" "$r" "${n% *}"
		emit replay hwm_mib "$c" "$r" "$(mib hwm_kib)"
		emit replay anon_mib "$c" "$r" "$(mib anon_kib)"
		log "  replay $c: $v MiB of journal, mounted in $s s (${n:-no replay line})"
	else
		watch_stop
		log "replay: the mount after the crash failed: $(tail -2 "$lg" | tr '\n' ' ')"
		fail_run replay "$c" "$r"
	fi
	umount_replay
	rm -rf "$src" "$pm"
}
umount_replay() {
	local mnt=$W/mnt-replay i
	mountpoint -q "$mnt" && { fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -u -z "$mnt"; }
	for ((i = 0; i < 1200; i++)); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$dpid" 2>/dev/null || true
	wait "$dpid" 2>/dev/null || true
	forget_pid "$dpid"
	dpid=
}

# ---- the plan -----------------------------------------------------------------------------
main5="native ptll nvfs-tmpfs-op nvfs-disk-op nvfs-disk-fsync"
cfgs_of() {
	case $1 in
	floor) echo "native ptll nvfs-tmpfs-op" ;;
	wfsync1 | wbuf1 | seqw) echo "native ptll ptx nvfs-tmpfs-op nvfs-disk-op nvfs-disk-fsync" ;;
	replay) echo "nvfs-tmpfs-op nvfs-disk-op" ;;
	*) echo "$main5" ;;
	esac
}
want_cfg() { [ -z "${NVFS_BENCH_CONFIGS:-}" ] || [[ " $NVFS_BENCH_CONFIGS " == *" $1 "* ]]; }
all_wls="floor wfsync1 wfsync4 wfdsync1 wfdsync4 wbuf1 seqw seqr rread smallf meta sqlwal sqldel replay"
wls=${NVFS_BENCH_WORKLOADS:-$all_wls}

started=$(date +%s)
log "$rounds round(s), ${T}s per timed run, work dir $W ($fs), pmem tmpfs dir $SHM"
for ((r = 1; r <= rounds; r++)); do
	log "round $r/$rounds"
	for wl in $wls; do
		for c in $(cfgs_of "$wl"); do
			want_cfg "$c" || continue
			if [ "$wl" = replay ]; then run_replay "$c" "$r"; else run_wl "$wl" "$c" "$r"; fi
		done
	done
	for c in $all_cfgs; do
		[ -s "$W/hwm.$c.$r" ] && emit rss hwm_max "$c" "$r" "$(cat "$W/hwm.$c.$r")"
		[ -s "$W/anon.$c.$r" ] && emit rss anon_max "$c" "$r" "$(cat "$W/anon.$c.$r")"
	done
done
elapsed=$(($(date +%s) - started))

# ---- the report ----------------------------------------------------------------------------
# spec: id|title|metric:label:dir[;...]   dir: hi (more is better), lo (less is better), info
spec=$W/spec
cat >"$spec" <<EOF
floor|FUSE round-trip floor: fstat of an open file, attribute timeout 0 (passthrough_ll, nvfs: one GETATTR round trip per call; native: the syscall)|p50_ns:p50 ns:lo;mean_ns:mean ns:lo;p99_ns:p99 ns:lo
wfsync1|4 KiB random write + fsync after each, QD1, 1 job (${wfile} MiB file)|iops:IOPS:hi;mean_us:mean µs:lo;p99_us:p99 µs:lo
wfsync4|4 KiB random write + fsync after each, QD1, 4 jobs (own ${wfile} MiB file each)|iops:IOPS:hi;mean_us:mean µs:lo;p99_us:p99 µs:lo
wfdsync1|4 KiB random write + fdatasync after each, QD1, 1 job|iops:IOPS:hi;mean_us:mean µs:lo;p99_us:p99 µs:lo
wfdsync4|4 KiB random write + fdatasync after each, QD1, 4 jobs|iops:IOPS:hi;mean_us:mean µs:lo;p99_us:p99 µs:lo
wbuf1|4 KiB buffered random write (no fsync), QD1, 1 job|iops:IOPS:hi;mean_us:mean µs:lo;p99_us:p99 µs:lo
seqw|1 MiB sequential write of ${seq_mib} MiB to a new file, ending in fsync (fio; fsync time included)|mbs:MB/s:hi
seqr|1 MiB sequential read of a ${seq_mib} MiB file (fio): cold = after drop_caches, warm = read again at once|cold_mbs:cold MB/s:hi;warm_mbs:warm MB/s:hi
rread|4 KiB random read of a cached ${rr_mib} MiB file (read whole first, same descriptor), QD1|iops:IOPS:hi;mean_us:mean µs:lo;p99_us:p99 µs:lo
smallf|small files: create + write 4 KiB + fsync + close, 1 job|files_s:files/s:hi;mean_us:mean µs:lo;p99_us:p99 µs:lo
meta|metadata, ${meta_n} files in one directory (create stops after ${meta_cap} s; stat after ${settle} s, past the FUSE caches' 1 s)|create_s:create/s:hi;stat_s:stat/s:hi;rename_s:rename/s:hi;unlink_s:unlink/s:hi;files:files:info
sqlwal|SQLite, journal_mode=WAL, synchronous=FULL: one INSERT per transaction|inserts_s:inserts/s:hi;mean_us:mean µs:lo;p99_us:p99 µs:lo
sqldel|SQLite, journal_mode=DELETE, synchronous=FULL: one INSERT per transaction|inserts_s:inserts/s:hi;mean_us:mean µs:lo;p99_us:p99 µs:lo
replay|mount after a crash with a full ${rj}iB journal (kill -9; the time until the mount point is mounted)|mount_s:mount s:lo;replay_s:replay s (its log line):lo;fill_mib:journal MiB used:info;entries:entries:info;hwm_mib:VmHWM MiB:lo;anon_mib:peak RssAnon MiB:lo
rss|daemon memory, MiB: VmHWM (the kernel's peak RSS, pmem and file pages mapped by the daemon included) and peak RssAnon (its own memory, sampled every 20 ms)|hwm_fsync4:VmHWM, write+fsync 4 jobs:lo;anon_fsync4:RssAnon, write+fsync 4 jobs:lo;hwm_max:VmHWM, max over workloads:lo;anon_max:RssAnon, max over workloads:lo
EOF

report() {
	awk -F'\t' -v order="$all_cfgs" -v labels="$(for c in $all_cfgs; do printf '%s=%s\t' "$c" "$(label "$c")"; done)" \
	    -v rounds="$rounds" '
	function fmt(v) {
		if (v == "") return "-"
		v += 0
		if (v >= 100) return sprintf("%.0f", v)
		if (v >= 10) return sprintf("%.1f", v)
		if (v >= 1) return sprintf("%.2f", v)
		return sprintf("%.3f", v)
	}
	function median(key,   n, i, j, t, a) {
		n = cnt[key]
		for (i = 1; i <= n; i++) a[i] = val[key, i] + 0
		for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		lo[key] = a[1]; hi[key] = a[n]
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	function dlen(s,   t, n) { t = s; n = gsub(/[\200-\277]/, "", t); return length(s) - n }
	function pad(s, w, left,   n, p) {
		p = ""; for (n = dlen(s); n < w; n++) p = p " "
		return left ? s p : p s
	}
	function rep(ch, n,   r) { r = ""; while (n-- > 0) r = r ch; return r }
	function ratio(v, b, dir) {
		if (v == "" || b == "" || dir == "info" || b + 0 == 0 || v + 0 == 0) return "-"
		return sprintf("%.2f", dir == "hi" ? v / b : b / v)
	}
	FNR == NR { sid[++ns] = $0; next }
	{ key = $1 SUBSEP $2 SUBSEP $3; cnt[key]++; val[key, cnt[key]] = $5; have[$1, $3] = 1 }
	END {
		nc = split(order, cf, " ")
		nl = split(labels, lp, "\t")
		for (i = 1; i <= nl; i++) { split(lp[i], kvp, "="); lab[kvp[1]] = kvp[2] }
		for (s = 1; s <= ns; s++) {
			split(sid[s], f, "|")
			id = f[1]; title = f[2]; nm = split(f[3], ms, ";")
			any = 0
			for (c = 1; c <= nc; c++) if ((id, cf[c]) in have) any = 1
			if (!any) continue
			# cells
			nrow = 0
			ncol = 1; head[1] = "configuration"; al[1] = "l"
			for (m = 1; m <= nm; m++) {
				split(ms[m], md, ":")
				head[++ncol] = md[2]; al[ncol] = "r"
				hn[m] = md[3] != "info" && ((id SUBSEP md[1] SUBSEP "native") in cnt)
				hp[m] = md[3] != "info" && ((id SUBSEP md[1] SUBSEP "ptll") in cnt)
				if (hn[m]) { head[++ncol] = "× native"; al[ncol] = "r" }
				if (hp[m]) { head[++ncol] = "× pt_ll"; al[ncol] = "r" }
			}
			for (c = 1; c <= nc; c++) {
				cfg = cf[c]
				if (!((id, cfg) in have)) continue
				nrow++
				cell[nrow, 1] = lab[cfg]
				col = 1
				for (m = 1; m <= nm; m++) {
					split(ms[m], md, ":")
					k = id SUBSEP md[1] SUBSEP cfg
					kn = id SUBSEP md[1] SUBSEP "native"
					kp = id SUBSEP md[1] SUBSEP "ptll"
					v = (k in cnt) ? median(k) : ""
					b = (kn in cnt) ? median(kn) : ""
					p = (kp in cnt) ? median(kp) : ""
					t = fmt(v)
					if (v != "" && cnt[k] > 1) t = t " (" fmt(lo[k]) "–" fmt(hi[k]) ")"
					cell[nrow, ++col] = t
					if (hn[m]) cell[nrow, ++col] = ratio(v, b, md[3])
					if (hp[m]) cell[nrow, ++col] = ratio(v, p, md[3])
				}
			}
			for (j = 1; j <= ncol; j++) {
				w[j] = dlen(head[j])
				for (i = 1; i <= nrow; i++) if (dlen(cell[i, j]) > w[j]) w[j] = dlen(cell[i, j])
			}
			printf "\n### %s\n\n", title
			line = "|"
			for (j = 1; j <= ncol; j++) line = line " " pad(head[j], w[j], al[j] == "l") " |"
			print line
			line = "|"
			for (j = 1; j <= ncol; j++) line = line (al[j] == "l" ? ":" rep("-", w[j] + 1) : rep("-", w[j] + 1) ":") "|"
			print line
			for (i = 1; i <= nrow; i++) {
				line = "|"
				for (j = 1; j <= ncol; j++) line = line " " pad(cell[i, j], w[j], al[j] == "l") " |"
				print line
			}
			delete cell
		}
	}' "$spec" "$res"
}

targets() {
	awk -F'\t' '
	function med(id, m, c,   key, n, i, j, t, a) {
		key = id SUBSEP m SUBSEP c
		if (!(key in cnt)) return ""
		n = cnt[key]
		for (i = 1; i <= n; i++) a[i] = val[key, i] + 0
		for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	# row(text, value, want, op): op ge or le
	function row(text, v, want, op,   sym, ok) {
		sym = op == "ge" ? "≥" : op == "le" ? "≤" : "<"
		if (v == "") { printf "| %s | - | %s %s | not measured |\n", text, sym, want; return }
		ok = op == "ge" ? v >= want : op == "le" ? v <= want : v < want
		printf "| %s | %.2f | %s %s | %s |\n", text, v, sym, want, ok ? "PASS" : "MISS"
	}
	function rat(id, m, c, b, dir,   v, w) {
		v = med(id, m, c); w = med(id, m, b)
		if (v == "" || w == "" || v + 0 == 0 || w + 0 == 0) return ""
		return dir == "hi" ? v / w : w / v
	}
	{ key = $1 SUBSEP $2 SUBSEP $3; cnt[key]++; val[key, cnt[key]] = $5 }
	END {
		N = "nvfs-tmpfs-op"
		print ""
		print "### Targets (issue 6; nvfs-tmpfs-op, ratios of medians within this run)"
		print ""
		print "| target | value | want | |"
		print "|:--|--:|--:|:--|"
		row("4 KiB write+fsync, 1 job: IOPS × native", rat("wfsync1", "iops", N, "native", "hi"), 3, "ge")
		row("4 KiB write+fsync, 1 job: IOPS × passthrough_ll", rat("wfsync1", "iops", N, "ptll", "hi"), 5, "ge")
		row("4 KiB write+fsync, 4 jobs: IOPS × native", rat("wfsync4", "iops", N, "native", "hi"), 3, "ge")
		v = med("wfsync1", "mean_us", N); w = med("wbuf1", "mean_us", "ptll")
		row("stretch: write+fsync mean latency / passthrough_ll buffered write mean latency",
		    v != "" && w != "" ? v / w : "", 1.5, "le")
		w = med("wbuf1", "mean_us", "ptx")
		row("  (the same / passthrough_ll -o xattr buffered write mean latency)",
		    v != "" && w != "" ? v / w : "", 1.5, "le")
		row("SQLite WAL inserts × native", rat("sqlwal", "inserts_s", N, "native", "hi"), 3, "ge")
		row("SQLite DELETE inserts × native", rat("sqldel", "inserts_s", N, "native", "hi"), 3, "ge")
		row("small-file create+write+fsync × native", rat("smallf", "files_s", N, "native", "hi"), 3, "ge")
		row("no tax: 4 KiB buffered write IOPS × passthrough_ll", rat("wbuf1", "iops", N, "ptll", "hi"), 0.95, "ge")
		row("  (the same × passthrough_ll -o xattr)", rat("wbuf1", "iops", N, "ptx", "hi"), 0.95, "ge")
		row("no tax: sequential write MB/s × passthrough_ll", rat("seqw", "mbs", N, "ptll", "hi"), 0.95, "ge")
		row("no tax: sequential read cold × passthrough_ll", rat("seqr", "cold_mbs", N, "ptll", "hi"), 0.95, "ge")
		row("no tax: sequential read warm × passthrough_ll", rat("seqr", "warm_mbs", N, "ptll", "hi"), 0.95, "ge")
		row("no tax: 4 KiB random read (cached) × passthrough_ll", rat("rread", "iops", N, "ptll", "hi"), 0.95, "ge")
		row("no tax: create × passthrough_ll", rat("meta", "create_s", N, "ptll", "hi"), 0.95, "ge")
		row("no tax: stat × passthrough_ll", rat("meta", "stat_s", N, "ptll", "hi"), 0.95, "ge")
		row("no tax: rename × passthrough_ll", rat("meta", "rename_s", N, "ptll", "hi"), 0.95, "ge")
		row("no tax: unlink × passthrough_ll", rat("meta", "unlink_s", N, "ptll", "hi"), 0.95, "ge")
		row("replay of a full journal: mount seconds (pmem on tmpfs)", med("replay", "mount_s", N), 2, "lt")
		row("  (the same, pmem on the disk)", med("replay", "mount_s", "nvfs-disk-op"), 2, "lt")
		row("peak RSS MiB (VmHWM), write+fsync 4 jobs", med("rss", "hwm_fsync4", N), 100, "lt")
		row("  peak RssAnon MiB, write+fsync 4 jobs", med("rss", "anon_fsync4", N), 100, "lt")
		row("  peak RssAnon MiB, max over all workloads", med("rss", "anon_max", N), 100, "lt")
	}' "$res"
}

machine() {
	local cpu mem dev
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
	mem=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
	dev=$(df -P "$base" | awk 'NR == 2 { print $1 }')
	echo "- command: \`$cmdline\` ($rounds round(s), ${elapsed} s)"
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- machine: $(nproc) CPUs ($cpu), $mem RAM, kernel $(uname -r)"
	echo "- backing disk: $base on $fs ($dev); pmem files: /dev/shm (tmpfs) and $base"
	echo "- $nvfs_desc, libfuse $(pkg-config --modversion fuse3 2>/dev/null), $(fio --version), sqlite $(pkg-config --modversion sqlite3 2>/dev/null)"
	echo "- sizes: ${T} s per timed run, ${wfile} MiB per random-write file, ${seq_mib} MiB sequential file, ${rr_mib} MiB random-read file, ${meta_n} metadata files, ${rj}iB replay journal"
}

howto() {
	cat <<'EOF'
How to read: each cell is the median over the rounds (min–max in
parentheses). "× native" and "× pt_ll" are speed-ups of the medians against
native and passthrough_ll in the same run: above 1 is faster (more IOPS, or
less latency), whatever the unit. The machine is shared and noisy: compare
ratios within one run, not numbers across runs. A QD1 operation through FUSE
cannot take less than the round-trip floor (first table).
EOF
}

out=$W/report.md
{
	echo "## Results"
	echo
	machine
	echo
	howto
	report
	targets
	if [ -s "$fails" ]; then
		echo
		echo "Failed runs (no value recorded): $(tr '\n' ';' <"$fails")"
	fi
} >"$out"
echo
cat "$out"
if [ "$tsv" != - ]; then
	cp "$res" "$tsv" && log "raw results in $tsv"
fi

if [ "$doc" != - ]; then
	begin='<!-- fs_bench:begin (written by bench/fs_bench.sh; edits inside are lost) -->'
	end='<!-- fs_bench:end -->'
	if [ -f "$doc" ] && grep -qF "$begin" "$doc" && grep -qF "$end" "$doc"; then
		awk -v b="$begin" -v e="$end" -v f="$out" '
			$0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
			$0 == e { skip = 0 }
			!skip' "$doc" >"$doc.tmp" && mv "$doc.tmp" "$doc"
	else
		{ [ -f "$doc" ] && cat "$doc" && echo; echo "$begin"; cat "$out"; echo "$end"; } >"$doc.tmp" &&
			mv "$doc.tmp" "$doc"
	fi
	log "tables written to $doc"
fi
