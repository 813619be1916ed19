#!/bin/bash
# t50-fs-ops.sh BUILD_DIR -- the nvfs file system, mounted by root: every
# operation gives the expected result through the mount AND the change is
# in SOURCE (files, data, O_APPEND from two writers, O_TRUNC, O_EXCL,
# O_DIRECT, truncate/extend, sparse files and SEEK_DATA/SEEK_HOLE,
# directories, readdir, symlinks, hard links, rename and its flags, unlink,
# chmod/chown/utimes, xattrs, mmap+msync, fallocate, copy_file_range,
# fsync, flock and POSIX locks (the kernel's, and with -o shared_locks the
# daemon's on SOURCE's files), statfs, device nodes and FIFOs), inode
# numbers are SOURCE's, new objects belong to the calling user (nobody,
# through allow_other) with ext4's set-group-ID rules, permissions are
# enforced, a second mount of the same pmem is refused, no_default_permissions
# lets SOURCE check as the caller, SIGTERM and fusermount3 -u unmount
# cleanly, and a background mount daemonizes.
# Needs root, /dev/fuse and fusermount3 (else skipped).  Every mount this
# test makes is unmounted by its EXIT trap (fusermount3 -u, else umount
# -l), and only the processes it started are killed; every wait has a
# timeout.  System calls the shell cannot make come from a small C helper
# built at test time (fsops, below).
set -u
# shellcheck source=tests/it/lib.sh
. "$(dirname "$0")/lib.sh" || exit 1

if [ "$(id -u)" != 0 ]; then
	echo "skip: t50 mounts as root (t55 covers unprivileged mounts)"
	exit 0
fi
if [ ! -c /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
	echo "skip: needs /dev/fuse and fusermount3"
	exit 0
fi

# ---- mounts: started in the background with -f, always unmounted ---------
mnts=""   # mount points this test mounted
pids=""   # mount.nvfs processes this test started
# shellcheck disable=SC2317  # called by the EXIT trap
unmount_all() {
	stop_mounts "$mnts" "$pids"
}
trap 'unmount_all; cleanup' EXIT
trap 'exit 1' INT TERM HUP

# as_nobody CMD...: run CMD as nobody:nogroup, no other groups
as_nobody() {
	setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$@"
}

# same NAME A B: files A and B have the same content
same() { assert "$1" cmp -s "$2" "$3"; }
# is NAME WANT CMD...: CMD's output (one line) is WANT
is() {
	local name=$1 want=$2 got
	shift 2
	got=$("$@" 2>&1)
	if [ "$got" = "$want" ]; then ok "$name"; else fail "$name: got '$got', want '$want'"; fi
}

# ---- the C helper ---------------------------------------------------------
cat >"$T/fsops.c" <<'CEOF'
/* fsops -- system calls the shell cannot make, for t50-fs-ops.sh */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

static int fails;
static void check(int ok, const char *what) { printf("%s %s\n", ok ? "ok  " : "FAIL", what); if (!ok) fails++; }
static const char *en(int e) {
	switch (e) { case 0: return "OK"; case EEXIST: return "EEXIST"; case ENOENT: return "ENOENT";
	case ENXIO: return "ENXIO"; case EAGAIN: return "EAGAIN"; case EACCES: return "EACCES";
	case EINTR: return "EINTR"; case ENODATA: return "ENODATA"; case EOPNOTSUPP: return "EOPNOTSUPP";
	case EINVAL: return "EINVAL"; case EPERM: return "EPERM"; default: return strerror(e); }
}
static int die(const char *what) { printf("%s: %s\n", what, en(errno)); return 1; }
static void on_alarm(int s) { (void)s; }

/* plocktest FILE: POSIX locks between processes, owners, close semantics */
static int plocktest(const char *f)
{
	int p2c[2], c2p[2], fd = open(f, O_RDWR), fd2; char ch; pid_t pid;
	struct flock l = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 100 };
	if (fd < 0 || pipe(p2c) || pipe(c2p)) return die("open");
	if (!(pid = fork())) { /* child: lock 0..99, tell, wait, exit (drops it) */
		int cfd = open(f, O_RDWR);
		if (fcntl(cfd, F_SETLK, &l) < 0) _exit(2);
		write(c2p[1], "l", 1); read(p2c[0], &ch, 1); _exit(0);
	}
	if (read(c2p[0], &ch, 1) != 1) return die("child");
	struct flock t = l;
	check(fcntl(fd, F_SETLK, &t) < 0 && (errno == EAGAIN || errno == EACCES), "F_SETLK on a range another process holds fails (EAGAIN)");
	t = l;
	check(fcntl(fd, F_GETLK, &t) == 0 && t.l_type == F_WRLCK && t.l_start == 0 && t.l_len == 100, "F_GETLK reports the conflicting write lock 0..99");
	printf("info F_GETLK l_pid %d (child %d)\n", (int)t.l_pid, (int)pid);
	check(t.l_pid == pid, "F_GETLK names the holder's pid");
	t = l; t.l_start = 100;
	check(fcntl(fd, F_SETLK, &t) == 0, "F_SETLK on a free range 100..199 succeeds");
	/* same process, second descriptor: same owner, no conflict */
	fd2 = open(f, O_RDWR);
	t = l; t.l_start = 100;
	check(fcntl(fd2, F_SETLK, &t) == 0, "the same process locks 100..199 again through another descriptor");
	/* close(fd2) drops all of this process's locks on the file */
	close(fd2);
	int p3[2]; pipe(p3); pid_t c2 = fork();
	if (!c2) { int cfd = open(f, O_RDWR); struct flock u = l; u.l_start = 100; _exit(fcntl(cfd, F_SETLK, &u) == 0 ? 0 : 1); }
	int st; waitpid(c2, &st, 0);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "closing any descriptor released the process's locks (another process locks 100..199)");
	/* F_SETLKW waits until the holder goes */
	struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a);
	if (!fork()) { usleep(300000); write(p2c[1], "g", 1); _exit(0); }
	t = l;
	check(fcntl(fd, F_SETLKW, &t) == 0, "F_SETLKW gets the lock once the holder exits");
	clock_gettime(CLOCK_MONOTONIC, &b);
	check((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 >= 250, "  ... after waiting for it");
	while (wait(NULL) > 0) ;
	/* F_SETLKW interrupted by a signal: EINTR */
	if (!(pid = fork())) { int cfd = open(f, O_RDWR); struct flock u = l; u.l_start = 1000;
		fcntl(cfd, F_SETLK, &u); write(c2p[1], "l", 1); read(p2c[0], &ch, 1); _exit(0); }
	read(c2p[0], &ch, 1);
	struct sigaction sa = { .sa_handler = on_alarm }; sigaction(SIGALRM, &sa, NULL);
	alarm(1); t = l; t.l_start = 1000;
	int r = fcntl(fd, F_SETLKW, &t); int e = errno; alarm(0);
	check(r < 0 && e == EINTR, "F_SETLKW interrupted by a signal returns EINTR");
	write(p2c[1], "g", 1); waitpid(pid, NULL, 0);
	return fails != 0;
}

/* flocktest FILE: flock between open files, blocking and interrupted waits */
static int flocktest(const char *f)
{
	int p2c[2], c2p[2], fd = open(f, O_RDONLY); char ch; pid_t pid;
	if (fd < 0 || pipe(p2c) || pipe(c2p)) return die("open");
	if (!(pid = fork())) {
		int cfd = open(f, O_RDONLY);
		if (flock(cfd, LOCK_EX))
			_exit(2);
		write(c2p[1], "l", 1); read(p2c[0], &ch, 1); _exit(0);
	}
	read(c2p[0], &ch, 1);
	check(flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK, "LOCK_EX|LOCK_NB on a file another open file holds fails (EWOULDBLOCK)");
	check(flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK, "LOCK_SH|LOCK_NB fails too");
	struct sigaction sa = { .sa_handler = on_alarm }; sigaction(SIGALRM, &sa, NULL);
	alarm(1); int r = flock(fd, LOCK_EX); int e = errno; alarm(0);
	check(r < 0 && e == EINTR, "a blocking LOCK_EX interrupted by a signal returns EINTR");
	if (!fork()) { usleep(300000); write(p2c[1], "g", 1); _exit(0); }
	check(flock(fd, LOCK_EX) == 0, "a blocking LOCK_EX is granted once the holder exits");
	int fd2 = open(f, O_RDONLY);
	check(flock(fd2, LOCK_SH | LOCK_NB) < 0, "another open file of the same process conflicts (flock is per open file)");
	check(flock(fd, LOCK_UN) == 0 && flock(fd2, LOCK_SH | LOCK_NB) == 0, "LOCK_UN releases it");
	while (wait(NULL) > 0) ;
	return fails != 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	if (!strcmp(cmd, "seek") && argc == 5) { /* FILE data|hole OFF */
		int fd = open(argv[2], O_RDONLY); off_t r;
		if (fd < 0) return die("open");
		r = lseek(fd, atoll(argv[4]), !strcmp(argv[3], "data") ? SEEK_DATA : SEEK_HOLE);
		if (r < 0) return die("seek");
		printf("%lld\n", (long long)r); return 0;
	}
	if (!strcmp(cmd, "rename2") && argc == 5) { /* OLD NEW noreplace|exchange */
		unsigned fl = !strcmp(argv[4], "exchange") ? RENAME_EXCHANGE : RENAME_NOREPLACE;
		if (renameat2(AT_FDCWD, argv[2], AT_FDCWD, argv[3], fl) < 0) return die("renameat2");
		puts("OK"); return 0;
	}
	if (!strcmp(cmd, "mmap") && argc == 5) { /* FILE OFF STRING: shared write + msync */
		int fd = open(argv[2], O_RDWR); struct stat st; char *p;
		if (fd < 0 || fstat(fd, &st) < 0) return die("open");
		p = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) return die("mmap");
		memcpy(p + atoll(argv[3]), argv[4], strlen(argv[4]));
		if (msync(p, st.st_size, MS_SYNC) < 0) return die("msync");
		munmap(p, st.st_size); close(fd); puts("OK"); return 0;
	}
	if (!strcmp(cmd, "cfr") && argc == 4) { /* SRC DST: copy_file_range all */
		int in = open(argv[2], O_RDONLY), out = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		struct stat st; ssize_t n; off_t left;
		if (in < 0 || out < 0 || fstat(in, &st) < 0) return die("open");
		for (left = st.st_size; left > 0; left -= n)
			if ((n = copy_file_range(in, NULL, out, NULL, left, 0)) <= 0) return die("copy_file_range");
		puts("OK"); return 0;
	}
	if (!strcmp(cmd, "falloc") && argc == 6) { /* FILE plain|keep|punch OFF LEN */
		int fd = open(argv[2], O_RDWR), mode = 0;
		if (!strcmp(argv[3], "keep")) mode = FALLOC_FL_KEEP_SIZE;
		if (!strcmp(argv[3], "punch")) mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
		if (fd < 0) return die("open");
		if (fallocate(fd, mode, atoll(argv[4]), atoll(argv[5])) < 0) return die("fallocate");
		puts("OK"); return 0;
	}
	if (!strcmp(cmd, "xset") && argc == 5) { if (setxattr(argv[2], argv[3], argv[4], strlen(argv[4]), 0) < 0) return die("setxattr"); puts("OK"); return 0; }
	if (!strcmp(cmd, "xcreate") && argc == 5) { if (setxattr(argv[2], argv[3], argv[4], strlen(argv[4]), XATTR_CREATE) < 0) return die("setxattr"); puts("OK"); return 0; }
	if (!strcmp(cmd, "xget") && argc == 4) {
		char buf[65536]; ssize_t n = getxattr(argv[2], argv[3], buf, sizeof(buf));
		if (n < 0) return die("getxattr");
		printf("%.*s\n", (int)n, buf); return 0;
	}
	if (!strcmp(cmd, "xlist") && argc == 3) {
		char buf[65536]; ssize_t n = listxattr(argv[2], buf, sizeof(buf));
		if (n < 0) return die("listxattr");
		for (char *p = buf; p < buf + n; p += strlen(p) + 1) puts(p);
		return 0;
	}
	if (!strcmp(cmd, "xrm") && argc == 4) { if (removexattr(argv[2], argv[3]) < 0) return die("removexattr"); puts("OK"); return 0; }
	if (!strcmp(cmd, "append") && argc == 5) { /* FILE TAG N: N appends of one line */
		int fd = open(argv[2], O_WRONLY | O_APPEND | O_CREAT, 0644); char line[64];
		if (fd < 0) return die("open");
		for (int i = 0; i < atoi(argv[4]); i++) {
			int n = snprintf(line, sizeof(line), "%s %06d\n", argv[3], i);
			if (write(fd, line, n) != n) return die("write");
		}
		return 0;
	}
	if (!strcmp(cmd, "creat") && argc == 4) { /* FILE OCTAL-MODE: O_CREAT|O_EXCL with a mode */
		int fd = open(argv[2], O_WRONLY | O_CREAT | O_EXCL, (mode_t)strtoul(argv[3], NULL, 8));
		if (fd < 0) return die("open");
		puts("OK"); return 0;
	}
	if (!strcmp(cmd, "excl") && argc == 3) { /* FILE: O_CREAT|O_EXCL */
		int fd = open(argv[2], O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0) return die("open");
		puts("OK"); return 0;
	}
	if (!strcmp(cmd, "wsync") && argc == 4) { /* FILE N: N x (4 KiB pwrite + fsync), prints us/op */
		int fd = open(argv[2], O_WRONLY | O_CREAT, 0644), n = atoi(argv[3]); char buf[4096];
		struct timespec a, b; memset(buf, 'w', sizeof(buf));
		if (fd < 0) return die("open");
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (int i = 0; i < n; i++)
			if (pwrite(fd, buf, sizeof(buf), (off_t)(i % 256) * 4096) != 4096 || fsync(fd) < 0) return die("write");
		clock_gettime(CLOCK_MONOTONIC, &b);
		printf("%.1f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 1e3 / n); return 0;
	}
	if (!strcmp(cmd, "unlinked") && argc == 3) { /* FILE: still readable after unlink */
		char buf[64] = ""; int fd = open(argv[2], O_RDWR);
		if (fd < 0 || unlink(argv[2]) < 0) return die("open/unlink");
		if (ftruncate(fd, 0) < 0 || pwrite(fd, "after", 5, 0) != 5 || pread(fd, buf, sizeof(buf) - 1, 0) < 5) return die("io");
		printf("%s\n", buf); return 0;
	}
	if (!strcmp(cmd, "plocktest") && argc == 3) return plocktest(argv[2]);
	if (!strcmp(cmd, "flocktest") && argc == 3) return flocktest(argv[2]);
	fprintf(stderr, "usage: fsops seek|rename2|mmap|cfr|falloc|xset|xcreate|xget|xlist|xrm|append|creat|excl|wsync|unlinked|plocktest|flocktest ...\n");
	return 2;
}
CEOF
if ! cc -O2 -o "$T/fsops" "$T/fsops.c" 2>"$T/fsops.log"; then
	cat "$T/fsops.log"
	fail "cannot build the C helper"
	finish
fi
F=$T/fsops

S=$T/src
M=$T/mnt
P=$T/p.pmem
mkdir -p "$S" "$M" "$T/mnt2" "$T/mnt3"
chmod 755 "$T"   # nobody must reach the mount points
export NVFS_STATE_DIR=$T/state   # never /var/lib/nvfs

# ---- mount -------------------------------------------------------------------
if ! start_fs "$M" "$T/mount.log" "$S" "$M" -o pmem="$P",pmem_size=32M,allow_other; then
	fail "mount.nvfs -f did not mount $M within 10 s"
	finish
fi
ok "mount.nvfs -f mounts SOURCE at MOUNTPOINT"
cp "$T/mount.log" "$T/.all"
shows "  ... logs" "mounted $S on $M; pmem $P: 33554432 bytes, store granularity page \(a file on tmpfs" \
	"durability=auto chose op: a persist is a cache flush or a store to tmpfs, so every operation is durable when it returns$"
grep " $M " /proc/mounts >"$T/.all"
shows "  ... /proc/mounts" "^$S $M fuse.nvfs " "[ ,]default_permissions[, ]" "[ ,]allow_other[, ]"

expect_err1 "a second mount of the same pmem is refused" 1 "^mount.nvfs: $P: pmem is in use by another process" \
	"$MOUNT" -f "$S" "$T/mnt2" -o pmem="$P"
assert "  ... and mounts nothing" test "$(grep -c " $T/mnt2 " /proc/mounts)" = 0

# ---- files and data ------------------------------------------------------------
printf 'hello\n' >"$M/f1"
is "create+write, read back" "hello" cat "$M/f1"
is "  ... in SOURCE" "hello" cat "$S/f1"
is "inode number is SOURCE's" "$(stat -c %i "$S/f1")" stat -c %i "$M/f1"
printf 'hi\n' >"$M/f1"
is "O_TRUNC rewrites" "hi" cat "$M/f1"
is "  ... in SOURCE, 3 bytes" "3" stat -c %s "$S/f1"
is "O_CREAT|O_EXCL on an existing file: EEXIST" "open: EEXIST" "$F" excl "$M/f1"
is "O_CREAT|O_EXCL on a new file" "OK" "$F" excl "$M/f2"
assert "  ... in SOURCE" test -f "$S/f2"
head -c 3000000 /dev/urandom >"$T/rand"
cp "$T/rand" "$M/big"
same "a 3 MB file is copied in" "$M/big" "$T/rand"
same "  ... into SOURCE" "$S/big" "$T/rand"
dd if="$T/rand" of="$M/big" bs=1000 seek=1 count=1 conv=notrunc,fsync status=none
same "an overwrite in the middle (and fsync) reaches SOURCE" "$S/big" "$M/big"

# O_APPEND from two concurrent writers: no lost or torn lines
"$F" append "$M/app" A 3000 &
a=$!
"$F" append "$M/app" B 3000 &
b=$!
wait $a; ra=$?
wait $b; rb=$?
assert "two concurrent O_APPEND writers succeed" test $ra = 0 -a $rb = 0
is "  ... 6000 lines" "6000" wc -l <"$M/app"
is "  ... 3000 of each writer" "3000 3000" echo "$(grep -c '^A ' "$M/app") $(grep -c '^B ' "$M/app")"
assert "  ... each writer's lines in order" sh -c "grep '^A ' '$M/app' | sort -c && grep '^B ' '$M/app' | sort -c"
is "  ... every line whole" "0" grep -cvE '^[AB] [0-9]{6}$' "$M/app"
same "  ... SOURCE holds the same" "$M/app" "$S/app"

# truncate and extend
printf 'abcdef' >"$M/tr"
truncate -s 3 "$M/tr"
is "truncate shrinks" "abc" cat "$S/tr"
truncate -s 8192 "$M/tr"
is "truncate extends" "8192 8192" echo "$(stat -c %s "$M/tr") $(stat -c %s "$S/tr")"
is "  ... with zeros after the old end" "abc" sh -c "tr -d '\\0' <'$M/tr'"
: >"$M/tr"
is "truncate to 0 on open (O_TRUNC)" "0" stat -c %s "$S/tr"

# sparse files
truncate -s 0 "$M/sp"
dd if=/dev/urandom of="$M/sp" bs=4096 seek=256 count=1 conv=notrunc status=none
is "sparse: SEEK_DATA from 0 finds the data at 1 MiB" "1048576" "$F" seek "$M/sp" data 0
is "  ... SEEK_HOLE from 0 is 0" "0" "$F" seek "$M/sp" hole 0
is "  ... SEEK_HOLE from the data is the end" "1052672" "$F" seek "$M/sp" hole 1048576
is "  ... SEEK_DATA past the data: ENXIO" "seek: ENXIO" "$F" seek "$M/sp" data 1052672
assert "  ... SOURCE's file is sparse too" test "$(stat -c %b "$S/sp")" -lt 2048
same "  ... same bytes" "$M/sp" "$S/sp"

# O_DIRECT (if SOURCE's file system does it)
if dd if=/dev/zero of="$S/dio.native" bs=4096 count=1 oflag=direct status=none 2>/dev/null; then
	head -c 65536 /dev/urandom >"$T/dio"
	assert "O_DIRECT write" dd if="$T/dio" of="$M/dio" bs=4096 oflag=direct status=none
	same "  ... reaches SOURCE" "$S/dio" "$T/dio"
	assert "  ... O_DIRECT read back" sh -c "dd if='$M/dio' bs=4096 iflag=direct status=none | cmp -s - '$T/dio'"
else
	echo "skip O_DIRECT: SOURCE's file system does not support it"
fi

# mmap write + msync
printf '0123456789' >"$M/mm"
is "mmap write + msync" "OK" "$F" mmap "$M/mm" 2 XY
is "  ... read back" "01XY456789" cat "$M/mm"
is "  ... in SOURCE" "01XY456789" cat "$S/mm"

# fallocate, copy_file_range, fsync
: >"$M/fa"
is "fallocate 1 MiB" "OK" "$F" falloc "$M/fa" plain 0 1048576
is "  ... size in SOURCE" "1048576" stat -c %s "$S/fa"
assert "  ... blocks allocated in SOURCE" test "$(stat -c %b "$S/fa")" -ge 2048
is "fallocate KEEP_SIZE beyond the end" "OK" "$F" falloc "$M/fa" keep 1048576 1048576
is "  ... size unchanged" "1048576" stat -c %s "$S/fa"
dd if=/dev/urandom of="$M/fa" bs=4096 count=4 conv=notrunc status=none
is "fallocate PUNCH_HOLE" "OK" "$F" falloc "$M/fa" punch 4096 4096
is "  ... SEEK_HOLE finds it" "4096" "$F" seek "$M/fa" hole 0
is "  ... zeros read back" "0" sh -c "dd if='$M/fa' bs=4096 skip=1 count=1 status=none | tr -d '\\0' | wc -c"
is "copy_file_range" "OK" "$F" cfr "$M/big" "$M/big.copy"
same "  ... same bytes" "$M/big.copy" "$M/big"
same "  ... in SOURCE" "$S/big.copy" "$M/big"
assert "fsync (write+fsync x 20)" sh -c "'$F' wsync '$M/sync' 20 >/dev/null"
assert "fdatasync (dd conv=fdatasync)" dd if=/dev/zero of="$M/dsync" bs=4096 count=2 conv=fdatasync status=none

# locks
printf 'lock me\n' >"$M/lk"
"$F" plocktest "$M/lk" >"$T/.all" 2>&1
rc=$?
cat "$T/.all"
assert "POSIX locks (fcntl): conflicts, owners, close, F_SETLKW, EINTR" test $rc = 0
"$F" flocktest "$M/lk" >"$T/.all" 2>&1
rc=$?
cat "$T/.all"
assert "flock: conflicts, blocking wait, EINTR, per open file" test $rc = 0

# the same with -o shared_locks (the daemon takes them on SOURCE's files), and
# then a lock taken through the mount conflicts with a user of SOURCE itself
S2=$T/src-locks M2=$T/mnt-locks
mkdir -p "$S2" "$M2"
if start_fs "$M2" "$T/mount2.log" "$S2" "$M2" -o pmem="$T/p2.pmem",pmem_size=32M,shared_locks; then
	printf 'lock me\n' >"$M2/lk"
	"$F" plocktest "$M2/lk" >"$T/.all" 2>&1
	rc=$?
	cat "$T/.all"
	assert "shared_locks: POSIX locks (fcntl) as above" test $rc = 0
	"$F" flocktest "$M2/lk" >"$T/.all" 2>&1
	rc=$?
	cat "$T/.all"
	assert "shared_locks: flock as above" test $rc = 0
	flock -x "$M2/lk" sleep 3 &
	lp=$!
	sleep 0.5
	assert "shared_locks: a flock through the mount holds SOURCE's file too" \
		sh -c "! flock -x -n '$S2/lk' true"
	wait "$lp"
	stop_fs "$M2" "$pid" fusermount
	assert "  ... unmounted" test "$stopped" = 0
fi
flock -x "$M/lk" sleep 3 &
lp=$!
sleep 0.5
assert "default: the kernel keeps locks for the mount (SOURCE's users do not see them)" \
	flock -x -n "$S/lk" true
wait "$lp"

# ---- names -----------------------------------------------------------------------
mkdir "$M/d1"
assert "mkdir" test -d "$S/d1"
touch "$M/d1/x"
expect "rmdir of a non-empty directory fails" 1 "Directory not empty" rmdir "$M/d1"
rm "$M/d1/x"
rmdir "$M/d1"
assert "rmdir" test ! -e "$S/d1" -a ! -e "$M/d1"
mkdir "$M/d2"
for i in $(seq 300); do : >"$M/d2/file-with-a-longer-name-$i"; done
# shellcheck disable=SC2010,SC2012  # ls is what is tested: readdir
is "readdir: 300 names, as in SOURCE" "$(ls -f "$S/d2" | sort | md5sum)" sh -c "ls -f '$M/d2' | sort | md5sum"
# shellcheck disable=SC2010,SC2012
is "  ... with SOURCE's inode numbers" "$(ls -ai "$S/d2" | grep file- | sort -k2 | md5sum)" \
	sh -c "ls -ai '$M/d2' | grep file- | sort -k2 | md5sum"
is "  ... ls -l (readdirplus) sees them all" "300" sh -c "ls -l '$M/d2' | grep -c file-"

ln -s ../f1 "$M/d2/sl"
is "symlink + readlink" "../f1" readlink "$M/d2/sl"
is "  ... in SOURCE" "../f1" readlink "$S/d2/sl"
is "  ... followed" "hi" cat "$M/d2/sl"

ln "$M/f1" "$M/hl"
is "hard link: one inode" "$(stat -c %i "$M/f1")" stat -c %i "$M/hl"
is "  ... SOURCE's inode" "$(stat -c %i "$S/f1")" stat -c %i "$M/hl"
is "  ... link count 2" "2 2" echo "$(stat -c %h "$M/f1") $(stat -c %h "$S/hl")"
rm "$M/hl"
is "  ... unlink: count 1 again" "1" stat -c %h "$M/f1"

printf 'A\n' >"$M/ra"
printf 'B\n' >"$M/rb"
mv "$M/ra" "$M/rb"
is "rename replaces" "A" cat "$M/rb"
assert "  ... in SOURCE" test ! -e "$S/ra" -a "$(cat "$S/rb")" = A
printf 'C\n' >"$M/rc"
is "RENAME_NOREPLACE onto an existing name: EEXIST" "renameat2: EEXIST" "$F" rename2 "$M/rc" "$M/rb" noreplace
is "  ... both intact" "C A" echo "$(cat "$M/rc") $(cat "$M/rb")"
is "RENAME_NOREPLACE onto a new name" "OK" "$F" rename2 "$M/rc" "$M/rd" noreplace
assert "  ... in SOURCE" test ! -e "$S/rc" -a "$(cat "$S/rd")" = C
is "RENAME_EXCHANGE" "OK" "$F" rename2 "$M/rb" "$M/rd" exchange
is "  ... swapped" "C A" echo "$(cat "$M/rb") $(cat "$M/rd")"
is "  ... in SOURCE" "C A" echo "$(cat "$S/rb") $(cat "$S/rd")"
mkdir "$M/d3"
mv "$M/d2" "$M/d3/d2moved"
is "rename a directory into another" "300" sh -c "ls '$S/d3/d2moved' | grep -c file-"
is "  ... its symlink still resolves relative" "../f1" readlink "$M/d3/d2moved/sl"

printf 'gone\n' >"$M/ul"
rm "$M/ul"
assert "unlink" test ! -e "$S/ul" -a ! -e "$M/ul"
printf 'before\n' >"$M/ul2"
is "an unlinked open file stays readable and writable" "after" "$F" unlinked "$M/ul2"
assert "  ... gone from SOURCE" test ! -e "$S/ul2"

mkfifo "$M/fifo"
is "mkfifo (mknod)" "fifo" stat -c %F "$S/fifo"
mknod "$M/null" c 1 3
is "mknod c 1 3" "character special file 1 3" stat -c '%F %t %T' "$S/null"

# ---- attributes ------------------------------------------------------------------
chmod 640 "$M/f1"
is "chmod" "640 640" echo "$(stat -c %a "$M/f1") $(stat -c %a "$S/f1")"
chown nobody:"$(id -gn nobody)" "$M/f1"
is "chown" "nobody:$(id -gn nobody)" stat -c %U:%G "$S/f1"
is "  ... seen through the mount" "nobody:$(id -gn nobody)" stat -c %U:%G "$M/f1"
touch -d '2001-02-03 04:05:06' "$M/f1"
is "utimes (touch -d): atime and mtime" "981173106 981173106" stat -c '%X %Y' "$S/f1"
touch -m -d '2002-02-03 04:05:06' "$M/f1"
is "touch -m: mtime only (atime UTIME_OMIT)" "981173106 1012709106" stat -c '%X %Y' "$S/f1"
touch "$M/f1"
now=$(date +%s)
assert "touch: UTIME_NOW" test $((now - $(stat -c %Y "$S/f1"))) -le 5
touch -h -d '2003-02-03 04:05:06' "$M/d3/d2moved/sl"
is "touch -h on a symlink" "1044245106" stat -c %Y "$S/d3/d2moved/sl"
truncate -s 5 "$M/f1"
is "truncate by path (setattr size)" "5" stat -c %s "$S/f1"

is "statfs: SOURCE's size and block size" "$(stat -f -c '%b %S' "$S")" stat -f -c '%b %S' "$M"
assert "  ... df works" sh -c "df -P '$M' >/dev/null"

# xattrs (if SOURCE's file system has user xattrs)
: >"$S/xnative"
if [ "$("$F" xset "$S/xnative" user.probe 1)" = OK ]; then
	is "setxattr" "OK" "$F" xset "$M/f1" user.nvfs value1
	is "  ... getxattr" "value1" "$F" xget "$M/f1" user.nvfs
	is "  ... in SOURCE" "value1" "$F" xget "$S/f1" user.nvfs
	is "  ... listxattr" "user.nvfs" sh -c "'$F' xlist '$M/f1' | grep '^user\\.'"
	is "  ... XATTR_CREATE on an existing one: EEXIST" "setxattr: EEXIST" "$F" xcreate "$M/f1" user.nvfs v2
	is "  ... replace" "OK" "$F" xset "$M/f1" user.nvfs value2
	is "  ... read back" "value2" "$F" xget "$S/f1" user.nvfs
	is "removexattr" "OK" "$F" xrm "$M/f1" user.nvfs
	is "  ... gone" "getxattr: ENODATA" "$F" xget "$M/f1" user.nvfs
	is "  ... gone from SOURCE" "getxattr: ENODATA" "$F" xget "$S/f1" user.nvfs
else
	echo "skip xattrs: SOURCE's file system has no user xattrs"
fi

# ---- users: ownership of new objects, permissions ----------------------------------
ng=$(id -gn nobody)
mkdir "$M/pub"
chmod 1777 "$M/pub"
as_nobody sh -c "echo n >'$M/pub/nf' && mkdir '$M/pub/nd' && ln -s nf '$M/pub/ns' && mkfifo '$M/pub/np'"
assert "nobody creates a file, a directory, a symlink, a FIFO (allow_other)" test -f "$S/pub/nf" -a -d "$S/pub/nd" -a -L "$S/pub/ns" -a -p "$S/pub/np"
is "  ... all belong to nobody:$ng in SOURCE" "nobody:$ng nobody:$ng nobody:$ng nobody:$ng" \
	sh -c "stat -c %U:%G '$S/pub/nf' '$S/pub/nd' '$S/pub/ns' '$S/pub/np' | xargs"
is "  ... and through the mount" "nobody:$ng" stat -c %U:%G "$M/pub/nf"
is "nobody creates a set-user-ID file (mode 4755)" "OK" as_nobody "$F" creat "$M/pub/suid" 4755
is "  ... keeps its mode after the chown to nobody" "4755 nobody" stat -c '%a %U' "$S/pub/suid"
mkdir "$M/sg"
chgrp 1 "$M/sg"
chmod 2777 "$M/sg"
as_nobody sh -c "echo n >'$M/sg/f' && mkdir '$M/sg/d'"
is "in a set-group-ID directory the group is the directory's" "nobody:1 nobody:1" \
	sh -c "stat -c %U:%g '$S/sg/f' '$S/sg/d' | xargs"
is "  ... and a new directory inherits set-group-ID" "2" sh -c "stat -c %a '$S/sg/d' | cut -c1"
printf 'secret\n' >"$M/secret"
chmod 600 "$M/secret"
expect "nobody cannot read a 0600 root file (default_permissions)" 1 "Permission denied" as_nobody cat "$M/secret"
expect "nobody cannot create in a 0755 root directory" 1 "Permission denied" as_nobody touch "$M/d3/nope"
assert "  ... nothing created" test ! -e "$S/d3/nope"
expect "root reads it" 0 "secret" cat "$M/secret"

# ---- unmount -------------------------------------------------------------------------
stop_fs "$M" "$pid" fusermount
assert "fusermount3 -u: mount.nvfs exits 0" test "$stopped" = 0
assert "  ... unmounted" test "$(grep -c " $M " /proc/mounts)" = 0
assert "  ... SOURCE keeps everything" test "$(cat "$S/rb")" = C -a -d "$S/d3/d2moved"

# ---- no_default_permissions: SOURCE checks, as the caller ---------------------------
if start_fs "$T/mnt2" "$T/mount2.log" "$S" "$T/mnt2" -o pmem="$P",allow_other,no_default_permissions; then
	M2=$T/mnt2
	grep " $M2 " /proc/mounts >"$T/.all"
	lacks "no_default_permissions: not in the mount options" "default_permissions"
	expect "  ... nobody cannot read a 0600 root file" 1 "Permission denied" as_nobody cat "$M2/secret"
	expect "  ... nobody cannot create in a 0755 root directory" 1 "Permission denied" as_nobody touch "$M2/d3/nope"
	as_nobody sh -c "echo n >'$M2/pub/nf2' && mkdir '$M2/pub/nd2'"
	is "  ... nobody's new file and directory are nobody's" "nobody:$ng nobody:$ng" \
		sh -c "stat -c %U:%G '$S/pub/nf2' '$S/pub/nd2' | xargs"
	as_nobody sh -c "echo n >'$M2/sg/f2'"
	is "  ... set-group-ID directory's group" "nobody:1" stat -c %U:%g "$S/sg/f2"
	is "  ... nobody reads its own file" "n" as_nobody cat "$M2/pub/nf2"
	as_nobody sh -c "ln '$M2/pub/nf2' '$M2/pub/nf2.link' && mv '$M2/pub/nf2.link' '$M2/pub/nf2.moved' && chmod 600 '$M2/pub/nf2.moved'"
	is "  ... and links, renames and chmods it" "2 600" stat -c '%h %a' "$S/pub/nf2"
	touch "$M2/pub/rootf"
	expect "  ... but not root's file in the sticky directory" 1 "Operation not permitted" as_nobody mv "$M2/pub/rootf" "$M2/pub/rootf.x"
	expect "  ... root still reads it" 0 "secret" cat "$M2/secret"
	stop_fs "$M2" "$pid" term
	assert "SIGTERM: mount.nvfs unmounts and exits 0" test "$stopped" = 0
	assert "  ... unmounted" test "$(grep -c " $M2 " /proc/mounts)" = 0
else
	fail "mount.nvfs -o no_default_permissions did not mount"
fi

# ---- descriptors: a soft limit below the inodes the kernel keeps ------------------
# The daemon holds an O_PATH descriptor for every inode the kernel remembers;
# it raises its soft RLIMIT_NOFILE to the hard limit, so that a shell's low
# soft limit does not turn creates and lookups into EMFILE (found by
# tests/torture/load.sh: with 1024 they failed after about a thousand files).
S4=$T/src-fds M4=$T/mnt-fds
mkdir -p "$S4" "$M4"
soft=$(ulimit -S -n) hard=$(ulimit -H -n)
if [ "$hard" = unlimited ] || [ "$hard" -ge 1024 ]; then
	ulimit -S -n 256
	start_fs "$M4" "$T/mount4.log" "$S4" "$M4" -o pmem="$T/p4.pmem",pmem_size=32M
	r=$?
	ulimit -S -n "$soft"
	if [ $r = 0 ]; then
		expect "soft fd limit 256 (hard $hard): 600 files made and listed, the kernel keeping their inodes" \
			0 '^600$' sh -c "for i in \$(seq 600); do : >'$M4/f'\$i || exit 1; done; ls -l '$M4' | grep -c '^-'"
		stop_fs "$M4" "$pid" fusermount
		assert "  ... unmounted, mount.nvfs exits 0" test "$stopped" = 0
	else
		fail "mount.nvfs with a soft fd limit of 256 did not mount"
	fi
else
	echo "skip soft fd limit: the hard limit on descriptors ($hard) is below 1024"
fi

# ---- in the background -------------------------------------------------------------------
M3=$T/mnt3
mnts="$mnts $M3"
expect "without -f: mounted when mount.nvfs returns 0" 0 "journal 8 MiB, 0 entries to replay" \
	"$MOUNT" "$S" "$M3" -o pmem="$P",ro
assert "  ... mounted" mountpoint -q "$M3"
lacks "  ... logs to syslog, not stderr" "durability="
is "  ... serves SOURCE" "C" cat "$M3/rb"
assert "  ... -o ro: read-only" grep -q " $M3 fuse.nvfs ro," /proc/mounts
expect "  ... writes fail" 2 "Read-only file system" sh -c "echo x >'$M3/rb'"
fusermount3 -u "$M3"
released=no
for _ in $(seq 100); do
	if flock -n "$P" true 2>/dev/null; then released=yes; break; fi
	sleep 0.1
done
is "  ... after fusermount3 -u the daemon exits (the pmem is free)" "yes" echo "$released"

finish
