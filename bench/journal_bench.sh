#!/bin/bash
# journal_bench.sh BUILD_DIR -- journal benchmark, printed as tables.
# Runs build/journal_bench on a namespace with a 256 MiB (64-bucket) journal:
#   1. a tmpfs file with PMEM2_FORCE_GRANULARITY=cache_line (the stand-in
#      for real pmem: persists are clwb+sfence, no syscall);
#   2. a file on the disk file system under BENCH_DIR (default /var/tmp) at
#      its native granularity (PAGE: every commit is an msync).
# Each append+commit row has its baseline measured in the same run with the
# same entry size and threads: memcpy to DRAM for tmpfs, pwrite+fdatasync of
# a file in BENCH_DIR for the disk ("what an fsync-based log pays").
#   thr ratio = journal entries/s / baseline ops/s   (> 1: journal faster)
#   lat ratio = journal median    / baseline median  (< 1: journal faster)
# ent/persist is appends / persists (pad sets at bucket ends count as
# persists): what group commit achieved.  disk KiB/op is what the file's
# block device wrote per entry (whole device: other writers count too).
# Replay: open + replay of a journal filled with 4 KiB entries up to one
# bucket short of full (median of REPLAY_RUNS), and of an empty journal.
# Numbers vary between runs on shared machines; read the ratios.
set -euo pipefail
build=${1:-build}
disk_dir=${BENCH_DIR:-/var/tmp}
secs=${SECONDS_PER_RUN:-2}
runs=${REPLAY_RUNS:-3}
shm=$(mktemp /dev/shm/nvfs-jbench-XXXXXX.pmem)
disk=$(mktemp "$disk_dir/nvfs-jbench-XXXXXX.pmem")
out_shm=$(mktemp) out_disk=$(mktemp)
trap 'rm -f "$shm" "$disk" "$disk.wal" "$out_shm" "$out_disk"' EXIT

env PMEM2_FORCE_GRANULARITY=cache_line "$build/journal_bench" "$shm" "$secs" "$runs" >"$out_shm"
"$build/journal_bench" "$disk" "$secs" "$runs" >"$out_disk"

fs=$(stat -f -c %T "$disk_dir")
echo "nvfs journal: 256 MiB ring (64 buckets), ${secs}s per append+commit run, replay median of $runs"
echo "MB = 10^6 bytes of payload; latencies are per append+commit (per op for baselines)"
awk -v secs="$secs" -v fs="$fs" -v disk_dir="$disk_dir" '
	FNR == 1 { cfg++ }
	{ v[cfg, $1] = $2 }
	function row(c, size, thr,   j, b, dk) {
		j = "j." size "." thr; b = "b." size "." thr
		dk = ((c, j ".disk_kib_op") in v) ? sprintf("%.1f", v[c, j ".disk_kib_op"]) : "-"
		printf "%5s %3d %8.2f %8.2f %10.0f %8.2f %7.2f %5d %5d %7s | %9.3f %10.0f %8.3g %8.3g\n",
		       size == 128 ? "128B" : "4KiB", thr, v[c, j ".med_us"], v[c, j ".p99_us"],
		       v[c, j ".ops_s"], v[c, j ".mb_s"],
		       v[c, j ".persists"] ? v[c, j ".appends"] / v[c, j ".persists"] : 0,
		       v[c, j ".checkpoints"], v[c, j ".waits"], dk,
		       v[c, b ".med_us"], v[c, b ".ops_s"],
		       v[c, j ".ops_s"] / v[c, b ".ops_s"], v[c, j ".med_us"] / v[c, b ".med_us"]
	}
	function commits(c, title, base) {
		printf "\n%s [gran %s]; baseline: %s\n", title, v[c, "granularity"], base
		printf "%5s %3s %8s %8s %10s %8s %7s %5s %5s %7s | %9s %10s %8s %8s\n",
		       "entry", "thr", "med us", "p99 us", "entries/s", "MB/s", "ent/" ,
		       "ckpts", "waits", "disk", "base med", "base op/s", "thr", "lat"
		printf "%5s %3s %8s %8s %10s %8s %7s %5s %5s %7s | %9s %10s %8s %8s\n",
		       "", "", "", "", "", "", "persist", "", "", "KiB/op", "us", "", "ratio", "ratio"
		row(c, 128, 1); row(c, 128, 4); row(c, 4096, 1); row(c, 4096, 4)
	}
	function replay(c, label, key, what,   s, mb) {
		if (!((c, key ".s") in v))
			return
		s = v[c, key ".s"]
		mb = what == "full" ? v[c, "replay.log_bytes"] / 1e6 / s : 0
		printf "%-36s %8.3f %8.3f %9s %4d\n", label, v[c, key ".open_s"], s,
		       what == "full" ? sprintf("%.0f", mb) : "-", v[c, key ".runs"]
	}
	function verdict(ok) { return ok ? "PASS" : "MISS" }
	END {
		commits(1, "tmpfs file (/dev/shm), forced cache_line", "memcpy of the entry to DRAM")
		commits(2, "disk file (" fs ", " disk_dir "), native", "pwrite+fdatasync of the entry, same fs")

		printf "\nreplay: alloc_open + journal_open + journal_replay (callback copies each payload)\n"
		printf "full = %d entries of 4 KiB, %.1f MiB of log in a 256 MiB ring\n",
		       v[1, "replay.entries"], v[1, "replay.log_bytes"] / 1048576
		printf "%-36s %8s %8s %9s %4s\n", "configuration", "open s", "total s", "log MB/s", "runs"
		replay(1, "tmpfs cache_line, full", "replay.warm", "full")
		replay(1, "tmpfs cache_line, empty", "empty.warm", "empty")
		replay(2, "disk page, full, page cache warm", "replay.warm", "full")
		replay(2, "disk page, full, cold (evicted)", "replay.cold", "full")
		replay(2, "disk page, empty, page cache warm", "empty.warm", "empty")
		replay(2, "disk page, empty, cold (evicted)", "empty.cold", "empty")

		lat = v[1, "j.4096.1.med_us"]; rs = v[1, "replay.warm.s"]
		printf "\ntargets\n"
		printf "  %-58s %8.2f us  %s\n", "4 KiB append+commit median, cache_line, 1 thread < 5 us:",
		       lat, verdict(lat < 5)
		if ((1, "replay.warm.s") in v)
			printf "  %-58s %8.3f s   %s\n", "replay of the 256 MiB journal < 1 s (tmpfs):",
			       rs, verdict(rs < 1)
		if ((2, "replay.cold.s") in v)
			printf "  %-58s %8.3f s   %s\n", "(reference) the same on the disk file, cold:",
			       v[2, "replay.cold.s"], verdict(v[2, "replay.cold.s"] < 1)
	}' "$out_shm" "$out_disk"
