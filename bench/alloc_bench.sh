#!/bin/bash
# alloc_bench.sh BUILD_DIR -- allocator benchmark, printed as a table.
# Runs build/alloc_bench on a 1 GiB namespace holding 100k allocations:
#   1. a tmpfs file with PMEM2_FORCE_GRANULARITY=cache_line (the stand-in
#      for real pmem: persists are clwb+sfence, no syscall);
#   2. a file on the disk file system under BENCH_DIR (default /var/tmp) at
#      its native granularity (PAGE: every persist is an msync).
# The baseline in each run is the same alloc+free pairs on the DRAM buddy
# alone, so the ratio is what persistence costs.  Numbers vary between
# runs on shared machines; read the ratios.
set -euo pipefail
build=${1:-build}
disk_dir=${BENCH_DIR:-/var/tmp}
ns=${NS_BYTES:-1G}
nr=${NR_ALLOCS:-100000}
secs=${SECONDS_PER_RUN:-2}
shm=$(mktemp /dev/shm/nvfs-bench-XXXXXX.pmem)
disk=$(mktemp "$disk_dir/nvfs-bench-XXXXXX.pmem")
trap 'rm -f "$shm" "$disk"' EXIT

run() { # label file env...
	local label=$1 file=$2; shift 2
	env "$@" "$build/alloc_bench" "$file" "$ns" "$nr" "$secs" |
		awk -v label="$label" '
		{ v[$1] = $2 }
		END { printf "%-34s %-10s %9s %12.0f %14.0f %9.3gx\n", label, v["granularity"],
		      v["open_ms"], v["pairs_per_s"], v["dram_pairs_per_s"],
		      v["pairs_per_s"] / v["dram_pairs_per_s"] }'
}

echo "nvfs allocator: $ns namespace, $nr allocations, ${secs}s per throughput run"
printf "%-34s %-10s %9s %12s %14s %9s\n" "configuration" "gran" "open ms" \
	"alloc+free/s" "DRAM buddy/s" "ratio"
run "tmpfs file, forced cache_line" "$shm" PMEM2_FORCE_GRANULARITY=cache_line
run "disk file ($(stat -f -c %T "$disk_dir")), native" "$disk"
