/* SPDX-License-Identifier: MIT */
/*
 * nvfs_crashload.c -- a seeded file-system workload to kill an nvfs mount
 * under, and the checker of what survived it (tests/it/t80-crash.sh).
 *
 *     nvfs_crashload run -S SEED -m op|fsync [-F FAULTS] [-n MAXOPS] DIR STATEFILE
 *     nvfs_crashload verify -m op|fsync|phantom [-i NAME]... [-v] STATEFILE DIR
 *     nvfs_crashload apply [-n OPS] STATEFILE DIR
 *
 * RUN makes one operation after the other in DIR (the mount point; DIR must
 * be empty), chosen at random from SEED and from a model of what DIR holds,
 * until MAXOPS operations (default 200000) or until the file system goes
 * away.  Only libc; single-threaded; umask 0.  Every operation is ONE
 * mutating system call, so that an operation the daemon was killed in is
 * either applied or not (a data write: each byte old or new, see below):
 *
 *   creat P MODE          open(O_CREAT|O_EXCL|O_WRONLY, MODE) (+ close)
 *   write P OFF LEN       pwrite of LEN bytes (1 B .. 256 KiB) at OFF
 *   append P LEN OFF      write with O_APPEND; OFF is where the model says
 *                         it lands (the size)
 *   trunc P SIZE          truncate(2), shrinking or extending
 *   fsync P, fdatasync P  on a descriptor of P
 *   fsyncdir P            fsync of a directory descriptor
 *   mkdir P MODE, rmdir P, unlink P, link P Q, chmod P MODE
 *   rename P Q FLAGS      renameat2 (the system call): plain, noreplace,
 *                         exchange; P and Q both files or both directories
 *   utimes P AS ANS MS MNS  utimensat with explicit atime and mtime
 *   setxattr P NAME LEN FLAGS  user.x0..x2, 1..64 bytes, 0|create|replace
 *   removexattr P NAME
 *   mmap P OFF LEN        open(O_RDWR), mmap(MAP_SHARED) of the pages that
 *                         hold [OFF, OFF+LEN) -- always inside the size --,
 *                         store LEN bytes (1 B .. 64 KiB) there,
 *                         msync(MS_SYNC), munmap, close.  The result is
 *                         msync's (or open's, mmap's); a SIGBUS in the
 *                         store is EIO (the file system went away, when
 *                         gone; ENOSPC with -F ENOSPC on a full tmpfs
 *                         written directly).  Like a write, each byte old
 *                         or new while in flight; acknowledged when msync
 *                         returns, and msync(MS_SYNC) is an fdatasync of
 *                         the file (F3)
 *
 * Names come from a small pool so that operations collide: directories d0
 * and d1 (in DIR, mode 0700..0775), files a..e in each of DIR, d0 and d1:
 * 17 names.  Files stay files and directories directories (a rename never
 * mixes them), so a name's type is fixed.  Sequences are made of these
 * operations: create and write (on the creating descriptor), write and
 * fsync, rm -r of a directory, and often create-rename-create: [unlink a;]
 * creat a; write a; [fsync a;] rename a b; creat a; write a [; fsync].
 *
 * Data is attributable: byte OFF written by operation N is
 * gen(SEED, N, OFF), never zero, so any byte of a file is either a hole
 * (zero) or names the write it came from (by trying the writes that cover
 * its offset).  Xattr values are made the same way from (SEED, N).
 *
 * STATEFILE (outside the mount: only the daemon is killed, so plain
 * write(2)s to it, O_APPEND, one per line, all survive) says what happened:
 *
 *   H nvfs_crashload 1 seed=S mode=M xattr=0|1   once, first
 *   B N OP ARGS...        before operation N is made
 *   R N ok|ERRNO [partial=BYTES]  its result (ERRNO by name: ENOENT,
 *                         EEXIST, ...); partial: a write that failed with a
 *                         backing fault (-F) after BYTES got in
 *   I N ERRNO [partial=BYTES] [alive]   the file system went away in it:
 *                         ENOTCONN or ECONNABORTED, or EIO while a
 *                         statfs(DIR) fails too ("in flight"; RUN stops, exit
 *                         0).  "alive": EIO from a file system that still
 *                         answers -- RUN stops too, exit 1, and VERIFY
 *                         reports it.  partial: a write that got BYTES in
 *                         before.
 *   # ...                 comments
 *
 * Failed operations (ENOENT, EEXIST, ENOTEMPTY, ENODATA...) are results
 * like any other: RUN predicts every result from its model, warns on
 * stderr when the file system answers otherwise, and VERIFY reports it.
 *
 * BACKING FAULTS (-F FAULTS: "all", or a comma-separated subset of ENOSPC,
 * EDQUOT, EROFS, EIO; the H line says faults=FAULTS).  The backing file
 * system may be full, read-only or failing: each of these errnos is then
 * a possible result of any operation (R N ERRNO, also an EIO from a live
 * file system; any other unexpected errno still diverges), and what the
 * failed operation did is exactly what the backing file systems allow:
 *   - a write or append: the BYTES of partial= landed (a short write, then
 *     the error), nothing else, and the size grew by no more than they
 *     reach (a write that fails outright extended nothing);
 *   - an mmap write: some of its pages may have been written back before
 *     the error: each byte of its range old or new from then on, until a
 *     later write, truncate or successful mmap covers it ("either" bytes:
 *     O2 and F3 take both);
 *   - anything else (creat, mkdir, link, rename, trunc, chmod, utimes,
 *     xattrs, syncs): nothing.  A failed sync vouches for nothing.
 * The model stays exact otherwise, and VERIFY after a crash checks every
 * acknowledged operation, the failed ones included (they changed nothing
 * beyond the above).
 *
 * VERIFY rebuilds the model from STATEFILE alone and checks DIR (the mount
 * after a remount, or SOURCE after the unmount).  It prints every mismatch
 * as "MISMATCH PATH: WHAT: expected X, actual Y" and "verify: FAIL (N
 * mismatches)" with exit 1, or "verify: OK (N ops, M acknowledged)" with
 * exit 0 (M: operations with an R line, failed ones included).  Exit 2:
 * usage, an unreadable STATEFILE or DIR.  -i NAME ignores NAME in DIR
 * (say, an nvfs private directory; a fnmatch(3) pattern such as 'zz-*'
 * for files made behind the workload's back; repeatable); -v prints the
 * model too.
 *
 * THE RULES.  Let S_k be the model after the first k operations (an
 * operation that failed changes nothing, but for the backing faults
 * above), N the last acknowledged one and F the one in flight, if any.
 * The model state "applied" by F is S_N + F; for F a write (write,
 * append, mmap), F may have landed in part.
 *
 *  -m op (every acknowledged operation survives):
 *   O1 every result in STATEFILE is the one the model predicts, or a
 *      backing fault of the run's -F (see above);
 *   O2 DIR equals S_N or S_N + F: the same names with the same types;
 *      per file its size and every byte, mode, link count, user.* xattrs
 *      (names and values), mtime when the last thing to touch it was
 *      utimens (no write or truncate after it); per directory its mode and
 *      xattrs; and names share an inode (st_ino) exactly when they name
 *      the same model object; a byte a failed mmap write left "either"
 *      may have both values.  For F a write (write, append, mmap) of
 *      [OFF, OFF+LEN) to a file of size Z: each byte of the range is old
 *      (or zero beyond Z) or new, the size is between Z and
 *      max(Z, OFF+LEN), the mtime is not checked.
 *
 *  -m fsync (only what an fsync covered must survive; nothing may appear
 *   that was never there).  The model here applies F as if it succeeded
 *   (F can only widen what is accepted).  "p unchanged after k": no
 *   operation after k (F included) changed which object the name p is --
 *   made, removed or renamed p, or moved p's directory.
 *   F1 names: every name in DIR is from the pool, has its type, and was
 *      bound in some state S_j (no name that never existed);
 *   F2 no phantom data: each byte of a file at p is zero or the byte some
 *      write made at that offset to some object ever named p; its size is
 *      at most the largest any such object ever had; its mode one that
 *      such an object had; each user.* xattr a value once set on such an
 *      object under that name; two names sharing an inode were, at some
 *      time, names of one object;
 *   F3 fsync: let X's last successful fsync or fdatasync be operation k,
 *      and p a name of X at k that an operation on X itself made (creat,
 *      link, rename of X -- not a rename of its directory: a file's fsync
 *      does not vouch for its directory) and that is unchanged after k:
 *      p exists, a file, with size at least the smallest size X had after
 *      k (its size at k, or less if a later truncate shrank it), and each
 *      byte below X's size at k is its byte at k, or zero if a later
 *      truncate cut below it, or the byte of a write to X after k: any
 *      state consistent with a prefix of the later operations, byte by
 *      byte.  An mmap write that succeeded is an fdatasync of X (its
 *      msync(MS_SYNC)).  After an fsync (not fdatasync) also X's mode, each xattr and
 *      an explicit mtime, each unless an operation after k changed it
 *      (for the mtime: any write, truncate or utimens);
 *   F4 fsyncdir: for a successful fsyncdir of the directory at p as
 *      operation k, with p unchanged after k: p exists, and each of its
 *      pool names unchanged after k exists in DIR exactly when it did in
 *      S_k;
 *   O1 as above.
 *   These rules are per file and per directory, what a commit up to the
 *   synced object's last record must give; docs/FS-JOURNAL.md promises
 *   more ("everything before a successful fsync"), which these do not
 *   check beyond F3 and F4.  Directories get F1 and F4 only.
 *
 *  -m phantom (nothing that was never there; for a SOURCE that a replay
 *   left half done, say one a backing fault stopped): O1, F1 and F2 only.
 *
 * RUN's -m only weights the mix (-m fsync: about twice the syncs); VERIFY's
 * -m chooses the rules, whatever the run's was.
 *
 * APPLY makes, in the empty DIR, the acknowledged operations that
 * succeeded among the first OPS (default all) of STATEFILE: the model's
 * state on disk, to diff against what a crash left, or to test the checker
 * (a prefix that ends after the last fsync must pass -m fsync).
 *
 * Exit status of RUN: 0 when done or when the file system went away, 1 if
 * a result differed from the model's (or the "alive" EIO), 2 on usage or
 * setup errors (DIR not empty, STATEFILE not writable).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fnmatch.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define PROG "nvfs_crashload"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

/* ---- the name pool --------------------------------------------------------
 *
 * Slot 0 is DIR itself, 1 and 2 the directories d0 and d1, then the files
 * a..e of DIR, of d0 and of d1.  A model binds each slot to an object (or
 * to nothing); a directory rename moves the five file slots with it.
 */
#define NFILES 5
#define S_ROOT 0
#define S_D0 1
#define S_D1 2
#define S_F0 3
#define NSLOTS (S_F0 + 3 * NFILES)

static const char *const slot_names[NSLOTS] = {
	".", "d0", "d1",
	"a", "b", "c", "d", "e",
	"d0/a", "d0/b", "d0/c", "d0/d", "d0/e",
	"d1/a", "d1/b", "d1/c", "d1/d", "d1/e",
};

#define MAX_FILE_BYTES (UINT64_C(1536) << 10) /* the workload keeps below */
#define MAX_WRITE_BYTES (256u << 10)
#define NXATTR 3
#define MAX_XATTR_BYTES 64
#define MAX_MISMATCHES 60 /* printed per check; all are counted */

static const char *const xnames[NXATTR] = { "user.x0", "user.x1", "user.x2" };

static const unsigned file_modes[] = { 0644, 0600, 0640, 0755, 0700, 0664, 0604 };
static const unsigned dir_modes[] = { 0755, 0700, 0750, 0775 };
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* is_dir_slot -- slots 1 and 2 are directories (0 too, but it is DIR) */
static bool
is_dir_slot(int s)
{
	return s < S_F0;
}

/* dir_of -- the directory slot a file slot is in */
static int
dir_of(int s)
{
	static const int dirs[] = { S_ROOT, S_D0, S_D1 };

	return is_dir_slot(s) ? S_ROOT : dirs[(s - S_F0) / NFILES];
}

/* child_slot -- file slot f (0..4) of directory slot d */
static int
child_slot(int d, int f)
{
	return S_F0 + (d == S_ROOT ? 0 : d == S_D0 ? 1 : 2) * NFILES + f;
}

/* slot_of -- the slot named name, -1 if none */
static int
slot_of(const char *name)
{
	for (int s = 0; s < NSLOTS; s++)
		if (strcmp(slot_names[s], name) == 0)
			return s;
	return -1;
}

/* ---- randomness and attributable content ---------------------------------- */

/* mix64 -- splitmix64's finalizer: a good 64-bit hash of z */
static uint64_t
mix64(uint64_t z)
{
	z += UINT64_C(0x9e3779b97f4a7c15);
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* gen_fill -- the bytes operation op writes at [off, off+len): a hash of
 * (seed, op, offset), never zero so that a hole is never mistaken for data */
static void
gen_fill(uint8_t *buf, uint64_t seed, uint32_t op, uint64_t off, size_t len)
{
	uint64_t group = UINT64_MAX, h = 0;

	for (size_t i = 0; i < len; i++) {
		uint64_t o = off + i;
		uint8_t b;

		if (o >> 3 != group) {
			group = o >> 3;
			h = mix64(seed ^ mix64(((uint64_t)op << 40) ^ group));
		}
		b = (uint8_t)(h >> ((o & 7) * 8));
		buf[i] = b ? b : 0x5a;
	}
}

/* xval_fill -- the value of the xattr operation op sets (its own domain) */
static void
xval_fill(uint8_t *buf, uint64_t seed, uint32_t op, size_t len)
{
	gen_fill(buf, seed ^ UINT64_C(0x78617474725f5f5f), op, 0, len);
}

/* rnd -- the next number of the workload's generator (splitmix64) */
static uint64_t
rnd(uint64_t *state)
{
	*state += UINT64_C(0x9e3779b97f4a7c15);
	return mix64(*state - UINT64_C(0x9e3779b97f4a7c15));
}

/* below -- a number in [0, n), n > 0 */
static uint64_t
below(uint64_t *state, uint64_t n)
{
	return rnd(state) % n;
}

/* ---- errno names ------------------------------------------------------------ */

static const struct {
	int e;
	const char *name;
} errnames[] = {
	{ ENOENT, "ENOENT" }, { EEXIST, "EEXIST" }, { ENOTEMPTY, "ENOTEMPTY" },
	{ ENOTDIR, "ENOTDIR" }, { EISDIR, "EISDIR" }, { ENODATA, "ENODATA" },
	{ EINVAL, "EINVAL" }, { EPERM, "EPERM" }, { EACCES, "EACCES" },
	{ EIO, "EIO" }, { ENOTCONN, "ENOTCONN" }, { ECONNABORTED, "ECONNABORTED" },
	{ EOPNOTSUPP, "EOPNOTSUPP" }, { ENOSPC, "ENOSPC" }, { EROFS, "EROFS" },
	{ EXDEV, "EXDEV" }, { EBUSY, "EBUSY" }, { EFBIG, "EFBIG" },
	{ ENAMETOOLONG, "ENAMETOOLONG" }, { ENOSYS, "ENOSYS" }, { EINTR, "EINTR" },
	{ EBADF, "EBADF" }, { ENXIO, "ENXIO" }, { ENOMEM, "ENOMEM" },
	{ ESTALE, "ESTALE" }, { EMLINK, "EMLINK" }, { ERANGE, "ERANGE" },
	{ E2BIG, "E2BIG" }, { EAGAIN, "EAGAIN" }, { EDQUOT, "EDQUOT" },
};

/* errname -- "ok" for 0, the symbolic name, else "E<number>" */
static const char *
errname(int e)
{
	static char other[3][16];
	static unsigned next;
	char *buf;

	if (e == 0)
		return "ok";
	for (size_t i = 0; i < NELEM(errnames); i++)
		if (errnames[i].e == e)
			return errnames[i].name;
	/* a few buffers: callers print two or three in one printf */
	buf = other[next++ % 3];
	snprintf(buf, sizeof(other[0]), "E%d", e);
	return buf;
}

/* errnum -- the errno errname(e) names, -1 if none */
static int
errnum(const char *name)
{
	if (strcmp(name, "ok") == 0)
		return 0;
	for (size_t i = 0; i < NELEM(errnames); i++)
		if (strcmp(errnames[i].name, name) == 0)
			return errnames[i].e;
	if (name[0] == 'E' && name[1] >= '0' && name[1] <= '9')
		return atoi(name + 1);
	return -1;
}

/* ---- messages ---------------------------------------------------------------- */

/* die -- print "nvfs_crashload: MSG" and exit 2 (setup, usage, I/O errors) */
static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* xrealloc -- realloc that dies on failure */
static void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

/* xcalloc -- calloc that dies on failure */
static void *
xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);

	if (!p)
		die("out of memory");
	return p;
}

/* ---- operations ---------------------------------------------------------------- */

enum optype {
	OP_CREAT, OP_WRITE, OP_APPEND, OP_TRUNC, OP_FSYNC, OP_FDATASYNC,
	OP_FSYNCDIR, OP_MKDIR, OP_RMDIR, OP_UNLINK, OP_RENAME, OP_LINK,
	OP_CHMOD, OP_UTIMES, OP_SETXATTR, OP_REMOVEXATTR, OP_MMAP, OP_NTYPES
};

static const char *const opnames[OP_NTYPES] = {
	"creat", "write", "append", "trunc", "fsync", "fdatasync", "fsyncdir",
	"mkdir", "rmdir", "unlink", "rename", "link", "chmod", "utimes",
	"setxattr", "removexattr", "mmap",
};

enum opstate { ST_STARTED, ST_DONE, ST_INFLIGHT };

struct op {
	uint32_t no;                   /* 1, 2, ... */
	enum optype type;
	int s, d;                      /* the slot; the second (rename, link) */
	uint64_t off, len;             /* write, mmap; append (len, expected off);
					* trunc (len) */
	unsigned mode;                 /* creat, mkdir, chmod */
	int flags;                     /* rename: RENAME_*; setxattr: XATTR_* */
	int xi;                        /* xattr: user.x<xi> */
	struct timespec at, mt;        /* utimes */
	enum opstate state;
	int res;                       /* ST_DONE, ST_INFLIGHT: the errno, 0 ok */
	uint64_t partial;              /* bytes a write got in: in flight, or a
					* fault (-F) that stopped it */
	bool alive;                    /* ST_INFLIGHT: EIO from a live mount */
};

/* op_format -- "OP ARGS" of o into buf */
static void
op_format(char *buf, size_t size, const struct op *o)
{
	const char *p = slot_names[o->s];
	const char *q = o->d >= 0 ? slot_names[o->d] : "";
	int n = snprintf(buf, size, "%s %s", opnames[o->type], p);

	if (n < 0 || (size_t)n >= size)
		return;
	buf += n;
	size -= (size_t)n;
	switch (o->type) {
	case OP_CREAT:
	case OP_MKDIR:
	case OP_CHMOD:
		snprintf(buf, size, " %04o", o->mode);
		break;
	case OP_WRITE:
	case OP_MMAP:
		snprintf(buf, size, " %" PRIu64 " %" PRIu64, o->off, o->len);
		break;
	case OP_APPEND:
		snprintf(buf, size, " %" PRIu64 " %" PRIu64, o->len, o->off);
		break;
	case OP_TRUNC:
		snprintf(buf, size, " %" PRIu64, o->len);
		break;
	case OP_RENAME:
		snprintf(buf, size, " %s %s", q,
			 o->flags == RENAME_NOREPLACE ? "noreplace" :
			 o->flags == RENAME_EXCHANGE ? "exchange" : "plain");
		break;
	case OP_LINK:
		snprintf(buf, size, " %s", q);
		break;
	case OP_UTIMES:
		snprintf(buf, size, " %lld %ld %lld %ld", (long long)o->at.tv_sec,
			 o->at.tv_nsec, (long long)o->mt.tv_sec, o->mt.tv_nsec);
		break;
	case OP_SETXATTR:
		snprintf(buf, size, " user.x%d %" PRIu64 " %s", o->xi, o->len,
			 o->flags == XATTR_CREATE ? "create" :
			 o->flags == XATTR_REPLACE ? "replace" : "0");
		break;
	case OP_REMOVEXATTR:
		snprintf(buf, size, " user.x%d", o->xi);
		break;
	default:
		break;
	}
}

/* op_parse -- the "OP ARGS" of a B line (tokens tok[0..n-1]) into o; 0 or
 * -1 if malformed */
static int
op_parse(char **tok, int n, struct op *o)
{
	int t;

	for (t = 0; t < OP_NTYPES; t++)
		if (strcmp(tok[0], opnames[t]) == 0)
			break;
	if (t == OP_NTYPES || n < 2 || (o->s = slot_of(tok[1])) < 0)
		return -1;
	o->type = (enum optype)t;
	o->d = -1;
	switch (o->type) {
	case OP_CREAT:
	case OP_MKDIR:
	case OP_CHMOD:
		if (n != 3)
			return -1;
		o->mode = (unsigned)strtoul(tok[2], NULL, 8);
		break;
	case OP_WRITE:
	case OP_MMAP:
		if (n != 4)
			return -1;
		o->off = strtoull(tok[2], NULL, 10);
		o->len = strtoull(tok[3], NULL, 10);
		if (o->len > MAX_WRITE_BYTES)
			return -1;
		break;
	case OP_APPEND:
		if (n != 4)
			return -1;
		o->len = strtoull(tok[2], NULL, 10);
		o->off = strtoull(tok[3], NULL, 10);
		break;
	case OP_TRUNC:
		if (n != 3)
			return -1;
		o->len = strtoull(tok[2], NULL, 10);
		break;
	case OP_RENAME:
		if (n != 4 || (o->d = slot_of(tok[2])) < 0)
			return -1;
		o->flags = strcmp(tok[3], "noreplace") == 0 ? RENAME_NOREPLACE :
			   strcmp(tok[3], "exchange") == 0 ? RENAME_EXCHANGE : 0;
		break;
	case OP_LINK:
		if (n != 3 || (o->d = slot_of(tok[2])) < 0)
			return -1;
		break;
	case OP_UTIMES:
		if (n != 6)
			return -1;
		o->at.tv_sec = strtoll(tok[2], NULL, 10);
		o->at.tv_nsec = strtol(tok[3], NULL, 10);
		o->mt.tv_sec = strtoll(tok[4], NULL, 10);
		o->mt.tv_nsec = strtol(tok[5], NULL, 10);
		break;
	case OP_SETXATTR:
		if (n != 5 || strncmp(tok[2], "user.x", 6) != 0)
			return -1;
		o->xi = atoi(tok[2] + 6);
		o->len = strtoull(tok[3], NULL, 10);
		o->flags = strcmp(tok[4], "create") == 0 ? XATTR_CREATE :
			   strcmp(tok[4], "replace") == 0 ? XATTR_REPLACE : 0;
		if (o->len > MAX_XATTR_BYTES)
			return -1;
		break;
	case OP_REMOVEXATTR:
		if (n != 3 || strncmp(tok[2], "user.x", 6) != 0)
			return -1;
		o->xi = atoi(tok[2] + 6);
		break;
	default:
		if (n != 2)
			return -1;
		break;
	}
	if (o->xi < 0 || o->xi >= NXATTR || o->len > MAX_FILE_BYTES ||
	    o->off > MAX_FILE_BYTES)
		return -1;
	/* the workload never mixes files and directories in one operation */
	if (o->d >= 0 && is_dir_slot(o->s) != is_dir_slot(o->d))
		return -1;
	return 0;
}

/* ---- the model ---------------------------------------------------------------
 *
 * Objects (inodes) are numbered from 1 and never freed: their history is
 * what the fsync rules look at.  Object 1 is DIR.
 */

struct wrec {                          /* a write: what made which bytes */
	uint32_t op;
	uint64_t off, len;
};

struct xrec {                          /* an xattr value that was set */
	uint32_t op;
	int xi;
	uint32_t len;
};

struct xval {
	bool set;
	uint32_t op;                   /* the setxattr that made the value */
	uint32_t len;
};

struct obj {
	bool dir;
	unsigned mode;
	uint8_t *data;                 /* files: size bytes (cap allocated) */
	uint64_t size, cap;
	/*
	 * bytes that may be either (NULL until one is): alt[o] != 0 is the
	 * other value byte o may have -- a failed mmap write (-F) whose page
	 * write-back may or may not have reached SOURCE (gen_fill is never 0)
	 */
	uint8_t *alt;
	bool mtime_set;                /* utimens was the last to touch mtime */
	struct timespec mtime;
	struct xval x[NXATTR];
	/* all time (F2) */
	struct wrec *w;                /* every write, in order */
	size_t nw, capw;
	uint64_t max_size;
	uint64_t modes_seen;           /* bit i: file_modes[i] / dir_modes[i] */
	struct xrec *xh;               /* every xattr value set */
	size_t nxh, capxh;
	/* the last acknowledged fsync/fdatasync (F3): 0 if none */
	uint32_t sync_op;
	bool sync_full;                /* fsync, not fdatasync */
	uint8_t *sdata;                /* data, size, mode, xattrs, mtime at it */
	uint8_t *salt;                 /* alt at it (NULL: none) */
	uint64_t ssize;
	unsigned smode;
	struct xval sx[NXATTR];
	bool smtime_set;
	struct timespec smtime;
	uint32_t sslots;               /* bit s: a name at it, made by an op on X */
	/* after sync_op */
	size_t a_first_w;              /* w[a_first_w..]: the writes after it */
	uint64_t a_min_size;           /* the smallest size since */
	bool a_chmod, a_times, a_x[NXATTR];
};

struct dsync {                         /* an acknowledged fsyncdir (F4) */
	uint32_t op;
	int s;                         /* the directory's slot */
	uint32_t present;              /* bit c: slot c was bound at it */
};

struct model {
	uint64_t seed;
	bool xattr;                    /* the file system has user xattrs */
	uint32_t slot[NSLOTS];         /* object of each name, 0 none */
	struct obj *objs;              /* objs[id], id >= 1 */
	uint32_t nobj, capobj;
	/* history for -m fsync */
	uint32_t changed[NSLOTS];      /* the last op that changed a binding */
	bool direct[NSLOTS];           /* ... and it named the slot itself */
	uint32_t *ever[NSLOTS];        /* objects ever bound to each slot */
	uint32_t never[NSLOTS];
	struct dsync *ds;
	size_t nds, capds;
};

/* model_init -- an empty DIR: object 1, the root */
static void
model_init(struct model *m, uint64_t seed, bool xattr)
{
	memset(m, 0, sizeof(*m));
	m->seed = seed;
	m->xattr = xattr;
	m->capobj = 64;
	m->objs = xcalloc(m->capobj, sizeof(*m->objs));
	m->nobj = 2; /* 0 unused, 1 the root */
	m->objs[1].dir = true;
	m->objs[1].mode = 0755;
	m->slot[S_ROOT] = 1;
}

/* model_free -- release everything m holds */
static void
model_free(struct model *m)
{
	for (uint32_t i = 1; i < m->nobj; i++) {
		free(m->objs[i].data);
		free(m->objs[i].w);
		free(m->objs[i].xh);
		free(m->objs[i].sdata);
		free(m->objs[i].alt);
		free(m->objs[i].salt);
	}
	free(m->objs);
	for (int s = 0; s < NSLOTS; s++)
		free(m->ever[s]);
	free(m->ds);
	memset(m, 0, sizeof(*m));
}

/* mode_bit -- the bit of modes_seen for mode, 63 for a mode not in a table */
static uint64_t
mode_bit(bool dir, unsigned mode)
{
	const unsigned *t = dir ? dir_modes : file_modes;
	size_t n = dir ? NELEM(dir_modes) : NELEM(file_modes);

	for (size_t i = 0; i < n; i++)
		if (t[i] == mode)
			return UINT64_C(1) << i;
	return UINT64_C(1) << 63;
}

/* obj_new -- a new object; its id */
static uint32_t
obj_new(struct model *m, bool dir, unsigned mode)
{
	struct obj *x;

	if (m->nobj == m->capobj) {
		m->capobj *= 2;
		m->objs = xrealloc(m->objs, m->capobj * sizeof(*m->objs));
	}
	x = &m->objs[m->nobj];
	memset(x, 0, sizeof(*x));
	x->dir = dir;
	x->mode = mode;
	x->modes_seen = mode_bit(dir, mode);
	return m->nobj++;
}

/* obj_at -- the object bound to slot s, NULL if none */
static struct obj *
obj_at(const struct model *m, int s)
{
	return m->slot[s] ? &m->objs[m->slot[s]] : NULL;
}

/* nlink_of -- how many names the model gives object id */
static unsigned
nlink_of(const struct model *m, uint32_t id)
{
	unsigned n = 0;

	for (int s = 0; s < NSLOTS; s++)
		n += m->slot[s] == id;
	return n;
}

/* dir_empty -- no file slot of directory slot d is bound */
static bool
dir_empty(const struct model *m, int d)
{
	for (int f = 0; f < NFILES; f++)
		if (m->slot[child_slot(d, f)])
			return false;
	return true;
}

/* ever_add -- remember that id was bound to slot s (F1, F2) */
static void
ever_add(struct model *m, int s, uint32_t id)
{
	for (uint32_t i = 0; i < m->never[s]; i++)
		if (m->ever[s][i] == id)
			return;
	m->ever[s] = xrealloc(m->ever[s], (m->never[s] + 1) * sizeof(uint32_t));
	m->ever[s][m->never[s]++] = id;
}

/* bind -- slot s is now object id (0: nothing), changed by op; direct says
 * the operation named s itself (not a move of s's directory) */
static void
bind(struct model *m, int s, uint32_t id, uint32_t op, bool direct)
{
	m->slot[s] = id;
	m->changed[s] = op;
	m->direct[s] = direct;
	if (id)
		ever_add(m, s, id);
}

/* set_size -- resize object x to size, zero-filling what it grows by */
static void
set_size(struct obj *x, uint64_t size)
{
	if (size > x->cap) {
		uint64_t cap = x->cap ? x->cap : 4096;

		while (cap < size)
			cap *= 2;
		x->data = xrealloc(x->data, cap);
		if (x->alt)
			x->alt = xrealloc(x->alt, cap);
		x->cap = cap;
	}
	if (size > x->size)
		memset(x->data + x->size, 0, size - x->size);
	if (x->alt && size > x->size)
		memset(x->alt + x->size, 0, size - x->size);
	x->size = size;
	if (size > x->max_size)
		x->max_size = size;
	if (size < x->a_min_size)
		x->a_min_size = size;
}

/* wrec_add -- remember that op wrote (or may have written) [off, off+len) */
static void
wrec_add(struct obj *x, uint32_t op, uint64_t off, uint64_t len)
{
	if (x->nw == x->capw) {
		x->capw = x->capw ? 2 * x->capw : 16;
		x->w = xrealloc(x->w, x->capw * sizeof(*x->w));
	}
	x->w[x->nw++] = (struct wrec){ op, off, len };
}

/* model_write -- op writes len bytes at off to x */
static void
model_write(struct model *m, struct obj *x, uint32_t op, uint64_t off, uint64_t len)
{
	if (len == 0)
		return;
	if (off + len > x->size)
		set_size(x, off + len);
	gen_fill(x->data + off, m->seed, op, off, len);
	if (x->alt)
		memset(x->alt + off, 0, len);
	wrec_add(x, op, off, len);
	x->mtime_set = false;
	x->a_times = true;
}

/* model_unsure -- op may or may not have written [off, off+len), all
 * inside x's size: each byte is its old value or op's (a failed mmap) */
static void
model_unsure(struct model *m, struct obj *x, uint32_t op, uint64_t off, uint64_t len)
{
	if (len == 0 || off + len > x->size)
		return;
	if (!x->alt)
		x->alt = xcalloc(x->cap, 1);
	gen_fill(x->alt + off, m->seed, op, off, len);
	for (uint64_t i = off; i < off + len; i++)
		if (x->alt[i] == x->data[i])
			x->alt[i] = 0; /* the same either way */
	wrec_add(x, op, off, len);
	x->mtime_set = false;
	x->a_times = true;
}

/* snapshot -- x was fsync'd (full) or fdatasync'd by op: remember it */
static void
snapshot(struct model *m, uint32_t id, uint32_t op, bool full)
{
	struct obj *x = &m->objs[id];

	x->sync_op = op;
	x->sync_full = full;
	x->sdata = xrealloc(x->sdata, x->size);
	if (x->size)
		memcpy(x->sdata, x->data, x->size);
	free(x->salt);
	x->salt = NULL;
	if (x->alt) {
		x->salt = xcalloc(x->size, 1);
		memcpy(x->salt, x->alt, x->size);
	}
	x->ssize = x->size;
	x->smode = x->mode;
	memcpy(x->sx, x->x, sizeof(x->sx));
	x->smtime_set = x->mtime_set;
	x->smtime = x->mtime;
	x->sslots = 0;
	for (int s = 0; s < NSLOTS; s++)
		if (m->slot[s] == id && m->direct[s])
			x->sslots |= 1u << s;
	x->a_first_w = x->nw;
	x->a_min_size = x->size;
	x->a_chmod = x->a_times = false;
	memset(x->a_x, 0, sizeof(x->a_x));
}

/* bound -- slot s names something (a file slot is only bound while its
 * directory is: rmdir needs it empty, a directory rename moves it) */
static bool
bound(const struct model *m, int s)
{
	return m->slot[s] != 0;
}

/* predict -- the result operation o has on model m: 0 or an errno, in the
 * order the kernel's checks come (parents, then source, then target) */
static int
predict(const struct model *m, const struct op *o)
{
	const struct obj *x = obj_at(m, o->s);

	switch (o->type) {
	case OP_CREAT:
		if (!bound(m, dir_of(o->s)))
			return ENOENT;
		return bound(m, o->s) ? EEXIST : 0;
	case OP_MKDIR:
		return bound(m, o->s) ? EEXIST : 0;
	case OP_RMDIR:
		if (!bound(m, o->s))
			return ENOENT;
		return dir_empty(m, o->s) ? 0 : ENOTEMPTY;
	case OP_RENAME:
		if (!bound(m, o->s) || !bound(m, dir_of(o->d)))
			return ENOENT;
		if (o->flags == RENAME_NOREPLACE && bound(m, o->d))
			return EEXIST;
		if (o->flags == RENAME_EXCHANGE && !bound(m, o->d))
			return ENOENT;
		if (o->flags == 0 && is_dir_slot(o->s) && o->s != o->d &&
		    bound(m, o->d) && !dir_empty(m, o->d))
			return ENOTEMPTY;
		return 0;
	case OP_LINK:
		if (!bound(m, o->s) || !bound(m, dir_of(o->d)))
			return ENOENT;
		return bound(m, o->d) ? EEXIST : 0;
	case OP_SETXATTR:
		if (!x)
			return ENOENT;
		if (o->flags == XATTR_CREATE && x->x[o->xi].set)
			return EEXIST;
		if (o->flags == XATTR_REPLACE && !x->x[o->xi].set)
			return ENODATA;
		return 0;
	case OP_REMOVEXATTR:
		if (!x)
			return ENOENT;
		return x->x[o->xi].set ? 0 : ENODATA;
	case OP_MMAP:
		if (!x)
			return ENOENT;
		/* the workload maps only inside the size; past it, EINVAL from
		 * RUN itself (it would be a SIGBUS) */
		return o->off + o->len > x->size || o->len == 0 ? EINVAL : 0;
	default: /* write, append, trunc, fsync*, unlink, chmod, utimes */
		return x ? 0 : ENOENT;
	}
}

/* rename_dirs -- o renames directory slot s to d (plain or exchange): the
 * five file slots of each go with it */
static void
rename_dirs(struct model *m, const struct op *o)
{
	uint32_t a[NFILES], b[NFILES];
	uint32_t sa = m->slot[o->s], sb = m->slot[o->d];

	for (int f = 0; f < NFILES; f++) {
		a[f] = m->slot[child_slot(o->s, f)];
		b[f] = m->slot[child_slot(o->d, f)];
	}
	bind(m, o->d, sa, o->no, true);
	bind(m, o->s, o->flags == RENAME_EXCHANGE ? sb : 0, o->no, true);
	for (int f = 0; f < NFILES; f++) {
		bind(m, child_slot(o->d, f), a[f], o->no, false);
		bind(m, child_slot(o->s, f), o->flags == RENAME_EXCHANGE ? b[f] : 0,
		     o->no, false);
	}
}

/* apply -- make operation o (which predict says succeeds) happen on m;
 * acked: o was acknowledged (an fsync in flight vouches for nothing) */
static void
apply(struct model *m, const struct op *o, bool acked)
{
	struct obj *x = obj_at(m, o->s);
	uint32_t id = m->slot[o->s];

	switch (o->type) {
	case OP_CREAT:
	case OP_MKDIR:
		bind(m, o->s, obj_new(m, o->type == OP_MKDIR, o->mode), o->no, true);
		break;
	case OP_WRITE:
		model_write(m, x, o->no, o->off, o->len);
		break;
	case OP_APPEND:
		model_write(m, x, o->no, x->size, o->len);
		break;
	case OP_MMAP:
		model_write(m, x, o->no, o->off, o->len);
		/* msync(MS_SYNC) is an fsync of the file's data (fdatasync) */
		if (acked)
			snapshot(m, id, o->no, false);
		break;
	case OP_TRUNC:
		set_size(x, o->len);
		x->mtime_set = false;
		x->a_times = true;
		break;
	case OP_FSYNC:
	case OP_FDATASYNC:
		if (acked)
			snapshot(m, id, o->no, o->type == OP_FSYNC);
		break;
	case OP_FSYNCDIR:
		if (acked) {
			struct dsync d = { o->no, o->s, 0 };

			for (int c = 0; c < NSLOTS; c++)
				if (c != S_ROOT && (dir_of(c) == o->s || c == o->s) &&
				    bound(m, c))
					d.present |= 1u << c;
			if (m->nds == m->capds) {
				m->capds = m->capds ? 2 * m->capds : 16;
				m->ds = xrealloc(m->ds, m->capds * sizeof(*m->ds));
			}
			m->ds[m->nds++] = d;
		}
		break;
	case OP_RMDIR:
	case OP_UNLINK:
		bind(m, o->s, 0, o->no, true);
		break;
	case OP_RENAME:
		/* the same name, or two names of one object: nothing happens */
		if (o->s == o->d || m->slot[o->s] == m->slot[o->d])
			break;
		if (is_dir_slot(o->s)) {
			rename_dirs(m, o);
		} else if (o->flags == RENAME_EXCHANGE) {
			uint32_t other = m->slot[o->d];

			bind(m, o->d, id, o->no, true);
			bind(m, o->s, other, o->no, true);
		} else {
			bind(m, o->d, id, o->no, true);
			bind(m, o->s, 0, o->no, true);
		}
		break;
	case OP_LINK:
		bind(m, o->d, id, o->no, true);
		break;
	case OP_CHMOD:
		x->mode = o->mode;
		x->modes_seen |= mode_bit(x->dir, o->mode);
		x->a_chmod = true;
		break;
	case OP_UTIMES:
		x->mtime_set = true;
		x->mtime = o->mt;
		x->a_times = true;
		break;
	case OP_SETXATTR:
		x->x[o->xi] = (struct xval){ true, o->no, (uint32_t)o->len };
		x->a_x[o->xi] = true;
		if (x->nxh == x->capxh) {
			x->capxh = x->capxh ? 2 * x->capxh : 8;
			x->xh = xrealloc(x->xh, x->capxh * sizeof(*x->xh));
		}
		x->xh[x->nxh++] = (struct xrec){ o->no, o->xi, (uint32_t)o->len };
		break;
	case OP_REMOVEXATTR:
		x->x[o->xi].set = false;
		x->a_x[o->xi] = true;
		break;
	default:
		break;
	}
}

/* apply_fault -- o, which the model says succeeds, failed with a backing
 * fault (-F): what it did anyway.  A write got partial bytes in (a short
 * write, then the error), exactly; an mmap write may have had some of its
 * pages written back: each byte of its range old or new from now on;
 * anything else changed nothing */
static void
apply_fault(struct model *m, const struct op *o, uint64_t partial)
{
	struct obj *x = obj_at(m, o->s);

	if (!x)
		return;
	switch (o->type) {
	case OP_WRITE:
		model_write(m, x, o->no, o->off, partial < o->len ? partial : o->len);
		break;
	case OP_APPEND:
		model_write(m, x, o->no, x->size, partial < o->len ? partial : o->len);
		break;
	case OP_MMAP:
		model_unsure(m, x, o->no, o->off, o->len);
		break;
	default:
		break;
	}
}

/* ---- backing faults (-F) ------------------------------------------------------ */

#define NFAULTS 4
static const int fault_errnos[NFAULTS] = { ENOSPC, EDQUOT, EROFS, EIO };

/* faults_parse -- -F's LIST ("all", or errno names from fault_errnos,
 * comma-separated) into a bit mask of fault_errnos; -1 if malformed */
static int
faults_parse(const char *list)
{
	char buf[128], *tok, *save = NULL;
	int mask = 0;

	if (strcmp(list, "all") == 0)
		return (1 << NFAULTS) - 1;
	if (strcmp(list, "none") == 0 || !*list)
		return 0;
	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int e = errnum(tok), i;

		for (i = 0; i < NFAULTS && fault_errnos[i] != e; i++)
			;
		if (i == NFAULTS)
			return -1;
		mask |= 1 << i;
	}
	return mask;
}

/* faults_text -- the mask as faults_parse reads it ("none" if empty) */
static const char *
faults_text(int mask, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = 0;
	for (int i = 0; i < NFAULTS; i++)
		if (mask & (1 << i))
			n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? "," : "",
					      errname(fault_errnos[i]));
	if (!n)
		snprintf(buf, size, "none");
	return buf;
}

/* is_fault -- e is one of the backing faults of mask */
static bool
is_fault(int mask, int e)
{
	for (int i = 0; i < NFAULTS; i++)
		if ((mask & (1 << i)) && fault_errnos[i] == e)
			return true;
	return false;
}

/* ---- run: the workload ------------------------------------------------------- */

struct run {
	const char *dir;
	int state_fd;                  /* STATEFILE, O_APPEND */
	uint64_t rng;
	uint32_t opno, maxops;
	bool fsync_mode;
	int faults;                    /* -F: the backing faults that are results */
	struct model m;
	bool stop;                     /* the file system went away, or MAXOPS */
	bool alive_eio;                /* stopped by an EIO from a live mount */
	int fd;                        /* held descriptor (hold), -1 */
	int fd_slot;                   /* the slot it was opened by */
	bool hold;                     /* keep the descriptor an op opens */
	unsigned ok, failed, diverged, faulted;
	uint8_t *buf;                  /* MAX_WRITE_BYTES */
};

static bool gone(const struct run *r, int e);

/* an mmap write's page fault that the file system could not serve (it went
 * away: the read behind the fault failed) is a SIGBUS: caught, and the
 * operation ends with EIO, which gone() then judges */
static sigjmp_buf bus_jmp;
static volatile sig_atomic_t in_map;

/* on_sigbus -- back to exec_op's sigsetjmp, or the default action */
static void
on_sigbus(int sig)
{
	if (in_map) {
		in_map = 0;
		siglongjmp(bus_jmp, 1);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* catch_sigbus -- install on_sigbus */
static void
catch_sigbus(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigbus;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

/* mmap_write -- o's mmap write on fd (open O_RDWR): map the pages that
 * hold [off, off+len), store the bytes, msync(MS_SYNC), unmap; 0 or an
 * errno */
static int
mmap_write(struct run *r, const struct op *o, int fd)
{
	static long page;
	struct stat st;
	uint64_t start;
	size_t maplen;
	uint8_t *map;
	volatile int rc = 0;

	if (!page)
		page = sysconf(_SC_PAGESIZE) > 0 ? sysconf(_SC_PAGESIZE) : 4096;
	if (fstat(fd, &st) < 0)
		return errno;
	if (o->len == 0 || o->off + o->len > (uint64_t)st.st_size)
		return EINVAL; /* past the end: a SIGBUS, not a write */
	start = o->off / (uint64_t)page * (uint64_t)page;
	maplen = (size_t)(o->off + o->len - start);
	map = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)start);
	if (map == MAP_FAILED)
		return errno;
	gen_fill(r->buf, r->m.seed, o->no, o->off, o->len);
	if (sigsetjmp(bus_jmp, 1) == 0) {
		in_map = 1;
		memcpy(map + (o->off - start), r->buf, o->len);
		in_map = 0;
		if (msync(map, maplen, MS_SYNC) < 0)
			rc = errno;
	} else {
		/* SIGBUS: the page behind the fault could not be had -- the
		 * file system went away (its read failed), or, on a full tmpfs
		 * written directly, no page was left (with -F ENOSPC a fault,
		 * and the bytes stored so far may be there or not) */
		rc = EIO;
		if (!gone(r, EIO) && is_fault(r->faults, ENOSPC))
			rc = ENOSPC;
	}
	munmap(map, maplen);
	return rc;
}

/* state_line -- append one line to STATEFILE, with one write(2) */
static void
state_line(struct run *r, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 1)
		die("state line too long");
	line[n++] = '\n';
	if (write(r->state_fd, line, (size_t)n) != n)
		die("writing the state file: %s", strerror(errno));
}

/* gone -- errno e says the file system went away: the daemon died (a FUSE
 * connection aborted: ECONNABORTED for requests in flight, ENOTCONN for
 * new ones); EIO only if a statfs, which always reaches the daemon, fails
 * as well -- an EIO from a live daemon is an answer, not a death */
static bool
gone(const struct run *r, int e)
{
	struct statfs sf;

	if (e == ENOTCONN || e == ECONNABORTED)
		return true;
	if (e != EIO)
		return false;
	return statfs(r->dir, &sf) < 0 &&
	       (errno == ENOTCONN || errno == ECONNABORTED || errno == EIO);
}

/* path_of -- DIR/slot into buf */
static const char *
path_of(const char *dir, int s, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", dir, slot_names[s]);
	return buf;
}

/* write_all -- write len bytes of buf at off (pwrite) or at the end
 * (append: off ignored); 0 or an errno, *done the bytes that got in */
static int
write_all(int fd, const uint8_t *buf, uint64_t len, uint64_t off, bool append,
	  uint64_t *done)
{
	*done = 0;
	while (*done < len) {
		ssize_t n = append ? write(fd, buf + *done, len - *done) :
				     pwrite(fd, buf + *done, len - *done,
					    (off_t)(off + *done));

		if (n < 0)
			return errno;
		if (n == 0)
			return EIO;
		*done += (uint64_t)n;
	}
	return 0;
}

/* file_fd -- a descriptor for o's file: the held one if it is for the same
 * slot, else a new one (kept if r->hold); -1 and errno on failure */
static int
file_fd(struct run *r, const struct op *o, int flags, bool *close_it)
{
	char path[4096];
	int fd;

	*close_it = false;
	if (r->fd >= 0 && r->fd_slot == o->s && !(flags & O_APPEND))
		return r->fd;
	fd = open(path_of(r->dir, o->s, path, sizeof(path)), flags | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (r->hold && r->fd < 0) {
		r->fd = fd;
		r->fd_slot = o->s;
	} else {
		*close_it = true;
	}
	return fd;
}

/* release -- close the held descriptor and stop holding; a close error
 * (the daemon may be gone) changes nothing that was acknowledged */
static void
release(struct run *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	r->hold = false;
}

/* exec_op -- make o's system call in DIR: 0 or an errno; *partial the
 * bytes a write got in */
static int
exec_op(struct run *r, const struct op *o, uint64_t *partial)
{
	char p[4096], q[4096];
	bool close_it;
	int fd, rc = 0;

	*partial = 0;
	path_of(r->dir, o->s, p, sizeof(p));
	if (o->d >= 0)
		path_of(r->dir, o->d, q, sizeof(q));
	switch (o->type) {
	case OP_CREAT:
		fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, o->mode);
		if (fd < 0)
			return errno;
		if (r->hold && r->fd < 0) {
			r->fd = fd;
			r->fd_slot = o->s;
		} else {
			close(fd);
		}
		return 0;
	case OP_WRITE:
	case OP_APPEND:
		fd = file_fd(r, o, O_WRONLY | (o->type == OP_APPEND ? O_APPEND : 0),
			     &close_it);
		if (fd < 0)
			return errno;
		gen_fill(r->buf, r->m.seed, o->no, o->off, o->len);
		rc = write_all(fd, r->buf, o->len, o->off, o->type == OP_APPEND,
			       partial);
		if (close_it)
			close(fd);
		return rc;
	case OP_TRUNC:
		return truncate(p, (off_t)o->len) < 0 ? errno : 0;
	case OP_FSYNC:
	case OP_FDATASYNC:
		fd = file_fd(r, o, O_RDONLY, &close_it);
		if (fd < 0)
			return errno;
		if ((o->type == OP_FSYNC ? fsync(fd) : fdatasync(fd)) < 0)
			rc = errno;
		if (close_it)
			close(fd);
		return rc;
	case OP_FSYNCDIR:
		fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return errno;
		if (fsync(fd) < 0)
			rc = errno;
		close(fd);
		return rc;
	case OP_MKDIR:
		return mkdir(p, o->mode) < 0 ? errno : 0;
	case OP_RMDIR:
		return rmdir(p) < 0 ? errno : 0;
	case OP_UNLINK:
		return unlink(p) < 0 ? errno : 0;
	case OP_RENAME:
		return syscall(SYS_renameat2, AT_FDCWD, p, AT_FDCWD, q,
			       (unsigned)o->flags) < 0 ? errno : 0;
	case OP_LINK:
		return link(p, q) < 0 ? errno : 0;
	case OP_CHMOD:
		return chmod(p, o->mode) < 0 ? errno : 0;
	case OP_UTIMES: {
		struct timespec ts[2] = { o->at, o->mt };

		return utimensat(AT_FDCWD, p, ts, 0) < 0 ? errno : 0;
	}
	case OP_SETXATTR: {
		uint8_t val[MAX_XATTR_BYTES];

		xval_fill(val, r->m.seed, o->no, o->len);
		return setxattr(p, xnames[o->xi], val, o->len, o->flags) < 0 ? errno : 0;
	}
	case OP_REMOVEXATTR:
		return removexattr(p, xnames[o->xi]) < 0 ? errno : 0;
	case OP_MMAP:
		fd = open(p, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return errno;
		rc = mmap_write(r, o, fd);
		close(fd);
		return rc;
	default:
		return EINVAL;
	}
}

/* do_op -- record, make, record the result of, and model operation o;
 * returns its result (0 or an errno); sets r->stop when the file system
 * went away or MAXOPS is reached */
static int
do_op(struct run *r, struct op *o)
{
	char desc[256];
	uint64_t partial;
	int pred, res;

	if (r->stop)
		return EINTR;
	if (r->opno >= r->maxops) {
		r->stop = true;
		return EINTR;
	}
	o->no = ++r->opno;
	op_format(desc, sizeof(desc), o);
	state_line(r, "B %u %s", o->no, desc);
	pred = predict(&r->m, o);
	res = exec_op(r, o, &partial);
	if (gone(r, res)) {
		state_line(r, partial ? "I %u %s partial=%" PRIu64 : "I %u %s",
			   o->no, errname(res), partial);
		r->stop = true;
		return res;
	}
	if (res != 0 && is_fault(r->faults, res)) {
		/* a backing fault (-F): a result, with what it may have done */
		state_line(r, partial ? "R %u %s partial=%" PRIu64 : "R %u %s", o->no,
			   errname(res), partial);
		if (pred == 0)
			apply_fault(&r->m, o, partial);
		r->faulted++;
		return res;
	}
	if (res == EIO) {
		/* the daemon answers, and said EIO: the change may be in SOURCE
		 * but not journaled (fs/log.c); nothing can be predicted after */
		state_line(r, "I %u EIO partial=%" PRIu64 " alive", o->no, partial);
		fprintf(stderr, PROG ": op %u (%s): EIO from a live file system; "
			"stopping\n", o->no, desc);
		r->stop = r->alive_eio = true;
		return res;
	}
	state_line(r, "R %u %s", o->no, errname(res));
	if (res != pred) {
		fprintf(stderr, PROG ": op %u (%s): %s, the model expected %s\n",
			o->no, desc, errname(res), errname(pred));
		r->diverged++;
	}
	if (res == 0 && pred == 0)
		apply(&r->m, o, true);
	if (res == 0)
		r->ok++;
	else
		r->failed++;
	return res;
}

/* new_op -- an operation of type t on slot s (d: the second slot or -1) */
static struct op
new_op(enum optype t, int s, int d)
{
	struct op o;

	memset(&o, 0, sizeof(o));
	o.type = t;
	o.s = s;
	o.d = d;
	return o;
}

/* pick -- a slot in [lo, hi): with probability pct %, one whose bound-ness
 * is want (if any), else any */
static int
pick(struct run *r, int lo, int hi, bool want, unsigned pct)
{
	int cand[NSLOTS], n = 0;

	if (below(&r->rng, 100) < pct) {
		for (int s = lo; s < hi; s++)
			if (bound(&r->m, s) == want)
				cand[n++] = s;
		if (n)
			return cand[below(&r->rng, (uint64_t)n)];
	}
	return lo + (int)below(&r->rng, (uint64_t)(hi - lo));
}

/* pick_file -- a file slot, mostly one whose bound-ness is want */
static int
pick_file(struct run *r, bool want)
{
	return pick(r, S_F0, NSLOTS, want, 85);
}

/* pick_dir -- d0 or d1, mostly one whose bound-ness is want */
static int
pick_dir(struct run *r, bool want)
{
	return pick(r, S_D0, S_D1 + 1, want, 80);
}

/* pick_other_file -- a file slot other than s, bound or not as wanted */
static int
pick_other_file(struct run *r, int s, bool want)
{
	for (int i = 0; i < 8; i++) {
		int d = pick_file(r, want);

		if (d != s)
			return d;
	}
	return S_F0 + (s - S_F0 + 1) % (3 * NFILES);
}

/* write_len -- 1 B .. max, log-uniform: mostly small, sometimes large */
static uint64_t
write_len(struct run *r, uint64_t max)
{
	unsigned bits = 0;

	while ((UINT64_C(1) << bits) < max)
		bits++;
	return 1 + below(&r->rng, UINT64_C(1) << below(&r->rng, bits + 1)) % max;
}

/* size_at -- the model's size of the file at s, 0 if none */
static uint64_t
size_at(struct run *r, int s)
{
	const struct obj *x = obj_at(&r->m, s);

	return x ? x->size : 0;
}

/* op_write -- a write to s: overlapping what is there, at the end, or
 * sparse; kept under MAX_FILE_BYTES */
static void
op_write(struct run *r, int s)
{
	struct op o = new_op(OP_WRITE, s, -1);
	uint64_t size = size_at(r, s), k = below(&r->rng, 10);

	o.len = write_len(r, MAX_WRITE_BYTES);
	if (k < 7)
		o.off = below(&r->rng, size + 1);
	else if (k < 9)
		o.off = below(&r->rng, UINT64_C(1) << 20);
	else
		o.off = size;
	if (o.off + o.len > MAX_FILE_BYTES)
		o.off = below(&r->rng, MAX_FILE_BYTES - o.len);
	do_op(r, &o);
}

/* op_creat -- create s with a random mode, holding the descriptor when
 * the caller wants to write through it */
static int
op_creat(struct run *r, int s, bool hold)
{
	struct op o = new_op(OP_CREAT, s, -1);

	o.mode = file_modes[below(&r->rng, NELEM(file_modes))];
	r->hold = hold;
	return do_op(r, &o);
}

/* op_simple -- an operation with no arguments but its slots */
static int
op_simple(struct run *r, enum optype t, int s, int d)
{
	struct op o = new_op(t, s, d);

	return do_op(r, &o);
}

/* op_rename -- rename s to d with flags */
static int
op_rename(struct run *r, int s, int d, int flags)
{
	struct op o = new_op(OP_RENAME, s, d);

	o.flags = flags;
	return do_op(r, &o);
}

/* act_crc -- the create-rename-create pattern: [unlink a;] creat a; write
 * a; [fsync a;] rename a b; creat a; write a [; fsync a or b] -- the case
 * where replaying by name alone renames the new a over b */
static void
act_crc(struct run *r)
{
	int a = pick_file(r, false), b = pick_other_file(r, a, below(&r->rng, 2));

	if (bound(&r->m, a))
		op_simple(r, OP_UNLINK, a, -1);
	if (op_creat(r, a, true) == 0)
		op_write(r, a);
	if (below(&r->rng, 3) == 0)
		op_simple(r, below(&r->rng, 2) ? OP_FSYNC : OP_FDATASYNC, a, -1);
	release(r);
	op_rename(r, a, b, 0);
	if (op_creat(r, a, true) == 0)
		op_write(r, a);
	if (below(&r->rng, 3) == 0)
		op_simple(r, OP_FSYNC, below(&r->rng, 2) ? a : b, -1);
	release(r);
}

/* act_rmtree -- rm -r of d0 or d1: unlink its files, then rmdir */
static void
act_rmtree(struct run *r)
{
	int d = pick_dir(r, true);

	for (int f = 0; f < NFILES && !r->stop; f++)
		if (bound(&r->m, child_slot(d, f)))
			op_simple(r, OP_UNLINK, child_slot(d, f), -1);
	op_simple(r, OP_RMDIR, d, -1);
}

/* op_mmap -- an mmap write inside the size of s (a plain write if s is
 * empty or missing: mmap cannot reach past the end) */
static void
op_mmap(struct run *r, int s)
{
	struct op o = new_op(OP_MMAP, s, -1);
	uint64_t size = size_at(r, s), room;

	if (size == 0) {
		op_write(r, s);
		return;
	}
	o.off = below(&r->rng, size);
	room = size - o.off;
	o.len = write_len(r, room < (64u << 10) ? room : 64u << 10);
	do_op(r, &o);
}

enum action {
	A_CREATE, A_WRITE, A_WRITE_FSYNC, A_APPEND, A_TRUNC, A_FSYNC,
	A_FDATASYNC, A_FSYNCDIR, A_MKDIR, A_RMDIR, A_RMTREE, A_UNLINK,
	A_RENAME, A_RENAME_OVER, A_NOREPLACE, A_EXCHANGE, A_DIRRENAME, A_LINK,
	A_CHMOD, A_UTIMES, A_SETXATTR, A_RMXATTR, A_CRC, A_MMAP, A_N
};

/* the weights of the actions, -m op and -m fsync (more syncs: the points
 * the checker can hold the file system to) */
static const unsigned weights[2][A_N] = {
	{ 10, 14, 3, 7, 6, 3, 2, 2, 2, 1, 1, 6, 5, 3, 2, 3, 1, 4, 3, 3, 4, 2, 7, 4 },
	{ 10, 12, 6, 7, 6, 6, 3, 4, 2, 1, 1, 6, 5, 3, 2, 3, 1, 4, 3, 3, 4, 2, 7, 4 },
};

/* action -- one randomly chosen action (one or a few operations) */
static void
action(struct run *r)
{
	const unsigned *w = weights[r->fsync_mode];
	unsigned total = 0, k;
	enum action a;
	struct op o;
	int s, d;

	/* missing directories fail most file operations: make them often */
	if ((!bound(&r->m, S_D0) || !bound(&r->m, S_D1)) && below(&r->rng, 4) == 0) {
		o = new_op(OP_MKDIR, pick_dir(r, false), -1);
		o.mode = dir_modes[below(&r->rng, NELEM(dir_modes))];
		do_op(r, &o);
		return;
	}
	for (int i = 0; i < A_N; i++)
		total += w[i];
	k = (unsigned)below(&r->rng, total);
	for (a = 0; k >= w[a]; a++)
		k -= w[a];
	if (!r->m.xattr && (a == A_SETXATTR || a == A_RMXATTR))
		a = A_WRITE;
	switch (a) {
	case A_CREATE:
		s = pick_file(r, false);
		if (op_creat(r, s, true) == 0 && below(&r->rng, 4))
			op_write(r, s);
		release(r);
		break;
	case A_WRITE:
		op_write(r, pick_file(r, true));
		break;
	case A_WRITE_FSYNC:
		s = pick_file(r, true);
		r->hold = true;
		op_write(r, s);
		op_simple(r, below(&r->rng, 2) ? OP_FSYNC : OP_FDATASYNC, s, -1);
		release(r);
		break;
	case A_APPEND:
		s = pick_file(r, true);
		o = new_op(OP_APPEND, s, -1);
		o.len = write_len(r, 64u << 10);
		o.off = size_at(r, s);
		if (o.off + o.len > MAX_FILE_BYTES) {
			o = new_op(OP_TRUNC, s, -1);
			o.len = below(&r->rng, 64u << 10);
		}
		do_op(r, &o);
		break;
	case A_TRUNC:
		s = pick_file(r, true);
		o = new_op(OP_TRUNC, s, -1);
		k = (unsigned)below(&r->rng, 10);
		o.len = k < 5 ? below(&r->rng, size_at(r, s) + 1) :
			k < 8 ? size_at(r, s) + below(&r->rng, 64u << 10) :
			below(&r->rng, UINT64_C(1) << 20);
		if (o.len > MAX_FILE_BYTES)
			o.len = MAX_FILE_BYTES;
		do_op(r, &o);
		break;
	case A_FSYNC:
	case A_FDATASYNC:
		op_simple(r, a == A_FSYNC ? OP_FSYNC : OP_FDATASYNC, pick_file(r, true), -1);
		break;
	case A_FSYNCDIR:
		s = (int)below(&r->rng, 3); /* ., d0, d1 */
		op_simple(r, OP_FSYNCDIR, s, -1);
		break;
	case A_MKDIR:
		o = new_op(OP_MKDIR, pick_dir(r, false), -1);
		o.mode = dir_modes[below(&r->rng, NELEM(dir_modes))];
		do_op(r, &o);
		break;
	case A_RMDIR:
		op_simple(r, OP_RMDIR, pick_dir(r, true), -1);
		break;
	case A_RMTREE:
		act_rmtree(r);
		break;
	case A_UNLINK:
		op_simple(r, OP_UNLINK, pick_file(r, true), -1);
		break;
	case A_RENAME:
		s = pick_file(r, true);
		op_rename(r, s, pick_other_file(r, s, below(&r->rng, 2)), 0);
		break;
	case A_RENAME_OVER:
		s = pick_file(r, true);
		op_rename(r, s, pick_other_file(r, s, true), 0);
		break;
	case A_NOREPLACE:
		s = pick_file(r, true);
		op_rename(r, s, pick_other_file(r, s, below(&r->rng, 3) == 0),
			  RENAME_NOREPLACE);
		break;
	case A_EXCHANGE:
		s = pick_file(r, true);
		op_rename(r, s, pick_other_file(r, s, below(&r->rng, 5) != 0),
			  RENAME_EXCHANGE);
		break;
	case A_DIRRENAME:
		s = pick_dir(r, true);
		d = s == S_D0 ? S_D1 : S_D0;
		k = (unsigned)below(&r->rng, 3);
		op_rename(r, s, d, k == 0 ? 0 : k == 1 ? RENAME_NOREPLACE : RENAME_EXCHANGE);
		break;
	case A_LINK:
		s = pick_file(r, true);
		op_simple(r, OP_LINK, s, pick_other_file(r, s, false));
		break;
	case A_CHMOD:
		s = below(&r->rng, 5) ? pick_file(r, true) : pick_dir(r, true);
		o = new_op(OP_CHMOD, s, -1);
		o.mode = is_dir_slot(s) ? dir_modes[below(&r->rng, NELEM(dir_modes))] :
					  file_modes[below(&r->rng, NELEM(file_modes))];
		do_op(r, &o);
		break;
	case A_UTIMES:
		o = new_op(OP_UTIMES, pick_file(r, true), -1);
		o.at.tv_sec = 1000000000 + (time_t)below(&r->rng, 700000000);
		o.at.tv_nsec = (long)below(&r->rng, 1000000000);
		o.mt.tv_sec = 1000000000 + (time_t)below(&r->rng, 700000000);
		o.mt.tv_nsec = (long)below(&r->rng, 1000000000);
		do_op(r, &o);
		break;
	case A_SETXATTR:
	case A_RMXATTR:
		s = below(&r->rng, 5) ? pick_file(r, true) : pick_dir(r, true);
		o = new_op(a == A_SETXATTR ? OP_SETXATTR : OP_REMOVEXATTR, s, -1);
		o.xi = (int)below(&r->rng, NXATTR);
		if (a == A_SETXATTR) {
			k = (unsigned)below(&r->rng, 10);
			o.flags = k < 6 ? 0 : k < 8 ? XATTR_CREATE : XATTR_REPLACE;
			o.len = 1 + below(&r->rng, MAX_XATTR_BYTES);
		}
		do_op(r, &o);
		break;
	case A_MMAP:
		op_mmap(r, pick_file(r, true));
		break;
	case A_CRC:
	default:
		act_crc(r);
		break;
	}
}

/* probe_xattr -- whether DIR takes user xattrs (tmpfs before 6.6 does not):
 * set and remove one on DIR itself, which the checker never looks at; 0,
 * or the errno if the file system went away */
static int
probe_xattr(const struct run *r, bool *xattr)
{
	*xattr = false;
	if (setxattr(r->dir, "user.nvfs_crashload", "1", 1, 0) < 0)
		return gone(r, errno) ? errno : 0;
	*xattr = true;
	removexattr(r->dir, "user.nvfs_crashload");
	return 0;
}

/* dir_empty_or_gone -- 0 if DIR holds nothing, ENOTEMPTY if it holds
 * something, or the errno that says the file system went away */
static int
dir_empty_or_gone(const struct run *r)
{
	DIR *d = opendir(r->dir);
	struct dirent *e;
	int rc = 0;

	if (!d) {
		if (gone(r, errno))
			return errno;
		die("%s: %s", r->dir, strerror(errno));
	}
	errno = 0;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			rc = ENOTEMPTY;
	if (errno && gone(r, errno))
		rc = errno;
	closedir(d);
	return rc;
}

/* cmd_run -- the workload: see the header */
static int
cmd_run(uint64_t seed, bool fsync_mode, int faults, uint32_t maxops, const char *dir,
	const char *statefile)
{
	struct run r;
	bool xattr = false;
	char ftext[64];
	int e;

	memset(&r, 0, sizeof(r));
	umask(0);
	r.dir = dir;
	r.rng = seed;
	r.maxops = maxops;
	r.fsync_mode = fsync_mode;
	r.faults = faults;
	r.fd = -1;
	catch_sigbus();
	r.state_fd = open(statefile, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
			  0644);
	if (r.state_fd < 0)
		die("%s: %s", statefile, strerror(errno));
	/* the daemon may be killed before the first operation: then the
	 * history is empty, and so must DIR be */
	e = dir_empty_or_gone(&r);
	if (e == ENOTEMPTY)
		die("%s: not empty (the model starts from an empty directory)", dir);
	if (!e)
		e = probe_xattr(&r, &xattr);
	if (faults)
		state_line(&r, "H nvfs_crashload 1 seed=%" PRIu64 " mode=%s xattr=%d "
			   "faults=%s", seed, fsync_mode ? "fsync" : "op", xattr,
			   faults_text(faults, ftext, sizeof(ftext)));
	else
		state_line(&r, "H nvfs_crashload 1 seed=%" PRIu64 " mode=%s xattr=%d",
			   seed, fsync_mode ? "fsync" : "op", xattr);
	if (e) {
		state_line(&r, "# the file system went away before the first "
			   "operation (%s)", errname(e));
		fprintf(stderr, PROG " run: seed %" PRIu64 ": the file system went "
			"away before the first operation\n", seed);
		close(r.state_fd);
		return 0;
	}
	r.buf = xcalloc(MAX_WRITE_BYTES, 1);
	model_init(&r.m, seed, xattr);
	while (!r.stop)
		action(&r);
	release(&r);
	state_line(&r, "# end: %u ops, %u ok, %u failed, %u backing faults, %u "
		   "unexpected results%s", r.opno, r.ok, r.failed, r.faulted, r.diverged,
		   r.opno >= r.maxops ? ", MAXOPS reached" : ", stopped");
	fprintf(stderr, PROG " run: seed %" PRIu64 ": %u ops (%u ok, %u failed as "
		"results, %u backing faults, %u unexpected)%s\n", seed, r.opno, r.ok,
		r.failed, r.faulted, r.diverged, r.alive_eio ? "; stopped by an EIO" :
		r.opno >= r.maxops ? "" : "; the file system went away");
	model_free(&r.m);
	free(r.buf);
	close(r.state_fd);
	return r.diverged || r.alive_eio ? 1 : 0;
}

/* ---- verify: reading STATEFILE ------------------------------------------------- */

struct history {
	uint64_t seed;
	bool xattr;
	int faults;                    /* the run's -F */
	char mode[16];                 /* of the run */
	struct op *ops;                /* ops[i].no == i + 1 */
	uint32_t n;
};

/* read_text -- all of path, NUL-terminated */
static char *
read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f)
		die("%s: %s", path, strerror(errno));
	for (;;) {
		if (cap - n < 65536) {
			cap = cap ? 2 * cap : 1 << 20;
			buf = xrealloc(buf, cap);
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);

		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f))
		die("%s: read error", path);
	fclose(f);
	buf[n] = 0;
	return buf;
}

/* load -- parse STATEFILE into h */
static void
load(const char *path, struct history *h)
{
	char *text = read_text(path), *line, *next;
	uint32_t cap = 0, lineno = 0;
	bool header = false;

	memset(h, 0, sizeof(*h));
	for (line = text; *line; line = next) {
		char *tok[12], *save = NULL, *t;
		int n = 0;

		next = strchr(line, '\n');
		if (!next)
			break; /* a torn last line: the writer was killed in it */
		*next++ = 0;
		lineno++;
		if (line[0] == '#' || line[0] == 0)
			continue;
		for (t = strtok_r(line, " ", &save); t && n < 12; t = strtok_r(NULL, " ", &save))
			tok[n++] = t;
		if (n == 0)
			continue;
		if (strcmp(tok[0], "H") == 0) {
			for (int i = 1; i < n; i++) {
				if (strncmp(tok[i], "seed=", 5) == 0)
					h->seed = strtoull(tok[i] + 5, NULL, 10);
				else if (strncmp(tok[i], "xattr=", 6) == 0)
					h->xattr = atoi(tok[i] + 6) != 0;
				else if (strncmp(tok[i], "mode=", 5) == 0)
					snprintf(h->mode, sizeof(h->mode), "%s", tok[i] + 5);
				else if (strncmp(tok[i], "faults=", 7) == 0 &&
					 (h->faults = faults_parse(tok[i] + 7)) < 0)
					die("%s:%u: bad faults=", path, lineno);
			}
			header = true;
			continue;
		}
		if (!header || n < 3)
			die("%s:%u: malformed line", path, lineno);
		uint32_t no = (uint32_t)strtoul(tok[1], NULL, 10);

		if (strcmp(tok[0], "B") == 0) {
			if (no != h->n + 1)
				die("%s:%u: op %u out of order", path, lineno, no);
			if (h->n == cap) {
				cap = cap ? 2 * cap : 1024;
				h->ops = xrealloc(h->ops, cap * sizeof(*h->ops));
			}
			struct op *o = &h->ops[h->n];

			memset(o, 0, sizeof(*o));
			if (op_parse(tok + 2, n - 2, o) < 0)
				die("%s:%u: bad operation", path, lineno);
			o->no = no;
			o->state = ST_STARTED;
			h->n++;
			continue;
		}
		if (no == 0 || no > h->n || h->ops[no - 1].state != ST_STARTED)
			die("%s:%u: result for an unknown op %u", path, lineno, no);
		struct op *o = &h->ops[no - 1];

		if ((o->res = errnum(tok[2])) < 0)
			die("%s:%u: unknown result %s", path, lineno, tok[2]);
		if (strcmp(tok[0], "R") == 0) {
			o->state = ST_DONE;
			for (int i = 3; i < n; i++)
				if (strncmp(tok[i], "partial=", 8) == 0)
					o->partial = strtoull(tok[i] + 8, NULL, 10);
		} else if (strcmp(tok[0], "I") == 0) {
			o->state = ST_INFLIGHT;
			for (int i = 3; i < n; i++) {
				if (strncmp(tok[i], "partial=", 8) == 0)
					o->partial = strtoull(tok[i] + 8, NULL, 10);
				else if (strcmp(tok[i], "alive") == 0)
					o->alive = true;
			}
		} else {
			die("%s:%u: unknown line type %s", path, lineno, tok[0]);
		}
	}
	if (!header)
		die("%s: no header line", path);
	free(text);
}

/* ---- verify: reports ---------------------------------------------------------- */

struct report {
	unsigned n;                    /* mismatches */
	bool quiet;                    /* count only */
};

/* mismatch -- one "MISMATCH PATH: ..." line (the first MAX_MISMATCHES) */
static void __attribute__((format(printf, 3, 4)))
mismatch(struct report *rep, const char *path, const char *fmt, ...)
{
	va_list ap;

	if (!rep->quiet && rep->n < MAX_MISMATCHES) {
		printf("MISMATCH %s: ", path);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		putchar('\n');
	} else if (!rep->quiet && rep->n == MAX_MISMATCHES) {
		printf("MISMATCH ... (more not shown)\n");
	}
	rep->n++;
}

/* build -- the model after the acknowledged operations of h; with_inflight:
 * and the one in flight, as if it succeeded (if the model says it would);
 * rep, if not NULL, gets every result that differs from the model's (O1) */
static void
build(struct model *m, const struct history *h, bool with_inflight, struct report *rep)
{
	char desc[256];

	model_init(m, h->seed, h->xattr);
	for (uint32_t i = 0; i < h->n; i++) {
		const struct op *o = &h->ops[i];
		int pred = predict(m, o);

		if (o->state == ST_DONE && o->res && is_fault(h->faults, o->res)) {
			/* a backing fault the run allowed (-F): a result too */
			if (pred == 0)
				apply_fault(m, o, o->partial);
		} else if (o->state == ST_DONE) {
			if (rep && o->res != pred) {
				op_format(desc, sizeof(desc), o);
				mismatch(rep, slot_names[o->s], "op %u (%s): result: expected %s, "
					 "actual %s", o->no, desc, errname(pred), errname(o->res));
			}
			if (o->res == 0 && pred == 0)
				apply(m, o, true);
		} else {
			if (rep && o->alive) {
				op_format(desc, sizeof(desc), o);
				mismatch(rep, slot_names[o->s], "op %u (%s): result: expected %s, "
					 "actual EIO from a live file system", o->no, desc,
					 errname(pred));
			}
			if (with_inflight && pred == 0)
				apply(m, o, false);
		}
	}
}

/* inflight_of -- the operation with no acknowledged result (the last one,
 * if any), NULL if none */
static const struct op *
inflight_of(const struct history *h)
{
	if (h->n && h->ops[h->n - 1].state != ST_DONE)
		return &h->ops[h->n - 1];
	return NULL;
}

/* read_all -- a file's bytes; 0 or an errno */
static int
read_all(const char *path, uint8_t **buf, uint64_t *len)
{
	struct stat st;
	uint64_t cap, n = 0;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	*buf = NULL;
	*len = 0;
	if (fd < 0)
		return errno;
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		return e;
	}
	cap = (uint64_t)st.st_size + 4096;
	*buf = xcalloc(cap, 1);
	for (;;) {
		ssize_t got;

		if (n == cap) {
			cap *= 2;
			*buf = xrealloc(*buf, cap);
		}
		got = read(fd, *buf + n, cap - n);
		if (got < 0) {
			int e = errno;

			close(fd);
			return e;
		}
		if (got == 0)
			break;
		n += (uint64_t)got;
	}
	close(fd);
	*len = n;
	return 0;
}

/* who_wrote -- text naming the write of x whose byte at off is b */
static const char *
who_wrote(const struct model *m, const struct obj *x, uint64_t off, uint8_t b)
{
	static char buf[64];
	uint8_t g;

	if (b == 0)
		return "a hole (zero)";
	for (size_t i = x->nw; i-- > 0;) {
		const struct wrec *w = &x->w[i];

		if (off >= w->off && off < w->off + w->len) {
			gen_fill(&g, m->seed, w->op, off, 1);
			if (g == b) {
				snprintf(buf, sizeof(buf), "written by op %u", w->op);
				return buf;
			}
		}
	}
	return "not written to this file at this offset";
}

/* ---- verify -m op ----------------------------------------------------------------- */

struct fuzz {                          /* a write in flight: bytes old or new */
	uint32_t id;                   /* the object, 0 if none */
	uint32_t op;
	uint64_t off, len;
};

/* xattrs_check -- DIR's path has exactly the user.* xattrs of x (O2) */
static void
xattrs_check(const struct model *m, const struct obj *x, const char *path,
	     const char *name, struct report *rep)
{
	char list[4096];
	ssize_t n;

	if (!m->xattr)
		return;
	n = llistxattr(path, list, sizeof(list));
	if (n < 0) {
		mismatch(rep, name, "listxattr: %s", strerror(errno));
		return;
	}
	for (char *a = list; a < list + n; a += strlen(a) + 1) {
		if (strncmp(a, "user.", 5) != 0)
			continue;
		if (strncmp(a, "user.x", 6) != 0 || a[6] < '0' || a[6] >= '0' + NXATTR ||
		    a[7] != 0)
			mismatch(rep, name, "xattr %s: expected absent, actual present", a);
	}
	for (int i = 0; i < NXATTR; i++) {
		const char *xn = xnames[i];
		uint8_t want[MAX_XATTR_BYTES], got[MAX_XATTR_BYTES + 1];
		ssize_t len;

		len = lgetxattr(path, xn, got, sizeof(got));
		if (!x->x[i].set) {
			if (len >= 0)
				mismatch(rep, name, "xattr %s: expected absent, actual "
					 "present (%zd bytes)", xn, len);
			continue;
		}
		if (len < 0) {
			mismatch(rep, name, "xattr %s: expected the value of op %u (%u "
				 "bytes), actual %s", xn, x->x[i].op, x->x[i].len,
				 errno == ENODATA ? "absent" : strerror(errno));
			continue;
		}
		xval_fill(want, m->seed, x->x[i].op, x->x[i].len);
		if ((size_t)len != x->x[i].len || memcmp(want, got, (size_t)len))
			mismatch(rep, name, "xattr %s: expected the value of op %u (%u "
				 "bytes), actual another value (%zd bytes)", xn,
				 x->x[i].op, x->x[i].len, len);
	}
}

/* data_check -- the bytes of a file are x's; fz: a write in flight to it */
static void
data_check(const struct model *m, const struct obj *x, const struct fuzz *fz,
	   const char *path, const char *name, struct report *rep)
{
	uint8_t *act, *newb = NULL;
	uint64_t alen, bad = 0, first = 0, hi = x->size;
	int e = read_all(path, &act, &alen);

	if (e) {
		mismatch(rep, name, "read: %s", strerror(e));
		free(act);
		return;
	}
	if (fz) {
		hi = fz->off + fz->len > x->size ? fz->off + fz->len : x->size;
		newb = xcalloc(fz->len, 1);
		gen_fill(newb, m->seed, fz->op, fz->off, fz->len);
		if (alen < x->size || alen > hi)
			mismatch(rep, name, "size: expected %" PRIu64 "..%" PRIu64
				 " (write op %u in flight), actual %" PRIu64,
				 x->size, hi, fz->op, alen);
	} else if (alen != x->size) {
		mismatch(rep, name, "size: expected %" PRIu64 ", actual %" PRIu64,
			 x->size, alen);
	}
	for (uint64_t o = 0; o < alen && o < hi; o++) {
		uint8_t old = o < x->size ? x->data[o] : 0;

		if (act[o] == old)
			continue;
		if (x->alt && o < x->size && x->alt[o] && act[o] == x->alt[o])
			continue; /* a failed mmap write's byte: either */
		if (fz && o >= fz->off && o < fz->off + fz->len && act[o] == newb[o - fz->off])
			continue;
		if (!bad++)
			first = o;
	}
	if (bad) {
		uint8_t old = first < x->size ? x->data[first] : 0;

		mismatch(rep, name, "data: %" PRIu64 " bytes differ, the first at offset %"
			 PRIu64 ": expected 0x%02x (%s), actual 0x%02x (%s)", bad, first,
			 old, who_wrote(m, x, first, old), act[first],
			 who_wrote(m, x, first, act[first]));
	}
	free(newb);
	free(act);
}

/* is_ignored -- name matches one of the -i patterns (fnmatch(3): a name,
 * or a glob such as "zz-*") */
static bool
is_ignored(const char *name, char **ignore, int nignore)
{
	for (int i = 0; i < nignore; i++)
		if (fnmatch(ignore[i], name, FNM_PERIOD) == 0)
			return true;
	return false;
}

/* names_check -- every name in DIR and in d0, d1 is from the pool (O2, F1) */
static void
names_check(const char *dir, char **ignore, int nignore, struct report *rep)
{
	static const char *const subdirs[] = { ".", "d0", "d1" };

	for (size_t i = 0; i < NELEM(subdirs); i++) {
		char path[4096], rel[512];
		struct dirent *e;
		DIR *d;

		snprintf(path, sizeof(path), "%s/%s", dir, subdirs[i]);
		if (!(d = opendir(path))) {
			if (i == 0)
				die("%s: %s", dir, strerror(errno));
			continue; /* missing or not a directory: the slot checks say */
		}
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			if (i == 0 && is_ignored(e->d_name, ignore, nignore))
				continue;
			if (i == 0)
				snprintf(rel, sizeof(rel), "%s", e->d_name);
			else
				snprintf(rel, sizeof(rel), "%s/%s", subdirs[i], e->d_name);
			if (slot_of(rel) < 0)
				mismatch(rep, rel, "name: expected absent (not a name the "
					 "workload uses), actual present");
		}
		closedir(d);
	}
}

/* compare_op -- DIR is exactly model m (O2); fz: a write in flight */
static void
compare_op(const struct model *m, const struct fuzz *fz, const char *dir,
	   char **ignore, int nignore, struct report *rep)
{
	ino_t *st_ino = xcalloc(m->nobj, sizeof(ino_t)); /* per object, as seen */
	int *first = xcalloc(m->nobj, sizeof(int));      /* its first slot */

	names_check(dir, ignore, nignore, rep);
	for (int s = 1; s < NSLOTS; s++) {
		const char *name = slot_names[s];
		uint32_t id = m->slot[s];
		const struct obj *x = id ? &m->objs[id] : NULL;
		char path[4096];
		struct stat st;
		bool exists;

		snprintf(path, sizeof(path), "%s/%s", dir, name);
		exists = lstat(path, &st) == 0;
		if (!exists && errno != ENOENT && errno != ENOTDIR) {
			mismatch(rep, name, "lstat: %s", strerror(errno));
			continue;
		}
		if (!x) {
			if (exists)
				mismatch(rep, name, "expected absent, actual present (%s)",
					 S_ISDIR(st.st_mode) ? "a directory" : "a file");
			continue;
		}
		if (!exists) {
			mismatch(rep, name, "expected a %s, actual absent",
				 x->dir ? "directory" : "file");
			continue;
		}
		if (x->dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
			mismatch(rep, name, "type: expected a %s, actual mode 0%o",
				 x->dir ? "directory" : "regular file", st.st_mode);
			continue;
		}
		/* identity: names share an inode exactly when they share an object */
		for (uint32_t j = 1; j < m->nobj; j++)
			if (j != id && first[j] && st_ino[j] == st.st_ino)
				mismatch(rep, name, "inode: expected another file than %s, "
					 "actual the same (inode %ju)", slot_names[first[j] - 1],
					 (uintmax_t)st.st_ino);
		if (first[id] && st_ino[id] != st.st_ino)
			mismatch(rep, name, "inode: expected the same file as %s (inode "
				 "%ju), actual inode %ju", slot_names[first[id] - 1],
				 (uintmax_t)st_ino[id], (uintmax_t)st.st_ino);
		if ((st.st_mode & 07777) != x->mode)
			mismatch(rep, name, "mode: expected %04o, actual %04o", x->mode,
				 st.st_mode & 07777);
		xattrs_check(m, x, path, name, rep);
		if (!x->dir) {
			if (st.st_nlink != nlink_of(m, id))
				mismatch(rep, name, "link count: expected %u, actual %ju",
					 nlink_of(m, id), (uintmax_t)st.st_nlink);
			if (x->mtime_set && !(fz && fz->id == id) &&
			    (st.st_mtim.tv_sec != x->mtime.tv_sec ||
			     st.st_mtim.tv_nsec != x->mtime.tv_nsec))
				mismatch(rep, name, "mtime: expected %lld.%09ld (utimes), "
					 "actual %lld.%09ld", (long long)x->mtime.tv_sec,
					 x->mtime.tv_nsec, (long long)st.st_mtim.tv_sec,
					 st.st_mtim.tv_nsec);
			/* the bytes once per object */
			if (!first[id])
				data_check(m, x, fz && fz->id == id ? fz : NULL, path, name,
					   rep);
		}
		if (!first[id]) {
			first[id] = s + 1;
			st_ino[id] = st.st_ino;
		}
	}
	free(first);
	free(st_ino);
}

/* verify_op -- -m op: O1, then O2 against S_N, or S_N + F */
static void
verify_op(const struct history *h, const char *dir, char **ignore, int nignore,
	  struct report *rep)
{
	const struct op *f = inflight_of(h);
	struct model a, b;
	struct report ra = { 0, true }, rb = { 0, true };
	char desc[256];
	int pred;

	build(&a, h, false, rep);
	pred = f ? predict(&a, f) : -1;
	/* a sync in flight changes nothing the checker can see */
	if (f && (f->type == OP_FSYNC || f->type == OP_FDATASYNC || f->type == OP_FSYNCDIR))
		pred = pred ? pred : -1;
	if (f) {
		op_format(desc, sizeof(desc), f);
		printf("in flight: op %u (%s)%s: %s\n", f->no, desc,
		       f->state == ST_INFLIGHT ? "" : " (no result line)",
		       pred == 0 ? "may or may not have been applied" :
		       pred < 0 ? "a sync, nothing to apply" :
		       "it would have failed, nothing to apply");
	}
	if (f && pred == 0 && (f->type == OP_WRITE || f->type == OP_APPEND ||
			       f->type == OP_MMAP)) {
		const struct obj *x = obj_at(&a, f->s);
		struct fuzz fz = { a.slot[f->s], f->no,
				   f->type == OP_APPEND ? x->size : f->off, f->len };

		/* the model without the write, each byte of its range either */
		ra.quiet = false;
		compare_op(&a, &fz, dir, ignore, nignore, &ra);
		rep->n += ra.n;
	} else if (f && pred == 0) {
		/* S_N, then S_N + F, quietly; if neither matches, print both */
		compare_op(&a, NULL, dir, ignore, nignore, &ra);
		if (ra.n) {
			build(&b, h, true, NULL);
			compare_op(&b, NULL, dir, ignore, nignore, &rb);
			if (rb.n) {
				printf("-- against the state without op %u:\n", f->no);
				ra = (struct report){ 0, false };
				compare_op(&a, NULL, dir, ignore, nignore, &ra);
				printf("-- against the state with op %u:\n", f->no);
				rb = (struct report){ 0, false };
				compare_op(&b, NULL, dir, ignore, nignore, &rb);
				rep->n += ra.n < rb.n ? ra.n : rb.n;
			} else {
				printf("in flight: op %u was applied\n", f->no);
			}
			model_free(&b);
		} else {
			printf("in flight: op %u was not applied\n", f->no);
		}
	} else {
		ra.quiet = false;
		compare_op(&a, NULL, dir, ignore, nignore, &ra);
		rep->n += ra.n;
	}
	model_free(&a);
}

/* ---- verify -m fsync ------------------------------------------------------------- */

/* attributable -- mark ok[o] for each byte of act[0..len) that write w made */
static void
attributable(const struct model *m, const struct wrec *w, const uint8_t *act,
	     uint64_t len, uint8_t *ok, uint8_t *scratch)
{
	uint64_t lo = w->off, hi = w->off + w->len;

	if (lo >= len)
		return;
	if (hi > len)
		hi = len;
	gen_fill(scratch, m->seed, w->op, lo, hi - lo);
	for (uint64_t o = lo; o < hi; o++)
		if (act[o] == scratch[o - lo])
			ok[o] = 1;
}

/* f2_file -- F2 for the file at slot s with bytes act[0..len), mode mode */
static void
f2_file(const struct model *m, int s, const char *path, const uint8_t *act,
	uint64_t len, unsigned mode, struct report *rep)
{
	const char *name = slot_names[s];
	uint8_t *ok = xcalloc(len, 1), *scratch = xcalloc(MAX_WRITE_BYTES, 1);
	uint64_t max = 0, bad = 0, first = 0, modes = 0;

	for (uint32_t i = 0; i < m->never[s]; i++) {
		const struct obj *x = &m->objs[m->ever[s][i]];

		if (x->max_size > max)
			max = x->max_size;
		modes |= x->modes_seen;
		for (size_t j = 0; j < x->nw; j++)
			attributable(m, &x->w[j], act, len, ok, scratch);
	}
	if (len > max)
		mismatch(rep, name, "size: expected at most %" PRIu64 " (the largest "
			 "of any file ever named so), actual %" PRIu64, max, len);
	for (uint64_t o = 0; o < len; o++)
		if (!ok[o] && act[o] != 0 && !bad++)
			first = o;
	if (bad)
		mismatch(rep, name, "data: expected each byte zero or written at its "
			 "offset to a file once named so, actual %" PRIu64 " bytes that "
			 "were not, the first at offset %" PRIu64 " (0x%02x)", bad, first,
			 act[first]);
	if (!(modes & mode_bit(false, mode)))
		mismatch(rep, name, "mode: expected one a file named so once had, "
			 "actual %04o", mode);
	if (m->xattr) {
		for (int i = 0; i < NXATTR; i++) {
			const char *xn = xnames[i];
			uint8_t got[MAX_XATTR_BYTES + 1], want[MAX_XATTR_BYTES];
			ssize_t n;
			bool found = false;

			if ((n = lgetxattr(path, xn, got, sizeof(got))) < 0)
				continue;
			for (uint32_t k = 0; k < m->never[s] && !found; k++) {
				const struct obj *x = &m->objs[m->ever[s][k]];

				for (size_t j = 0; j < x->nxh && !found; j++) {
					if (x->xh[j].xi != i || x->xh[j].len != (uint32_t)n)
						continue;
					xval_fill(want, m->seed, x->xh[j].op, (size_t)n);
					found = memcmp(want, got, (size_t)n) == 0;
				}
			}
			if (!found)
				mismatch(rep, name, "xattr %s: expected a value once set on a "
					 "file named so, actual another (%zd bytes)", xn, n);
		}
	}
	free(ok);
	free(scratch);
}

/* f3_file -- F3 for object id (last synced at x->sync_op) at slot s */
static void
f3_file(const struct model *m, uint32_t id, int s, const char *path,
	const struct stat *st, const uint8_t *act, uint64_t len, struct report *rep)
{
	const struct obj *x = &m->objs[id];
	const char *name = slot_names[s];
	uint64_t lim = len < x->ssize ? len : x->ssize, bad = 0, first = 0;
	uint8_t *ok = xcalloc(lim, 1), *scratch = xcalloc(MAX_WRITE_BYTES, 1);
	const char *what = x->sync_full ? "fsync" : "fdatasync";

	if (len < x->a_min_size)
		mismatch(rep, name, "size: expected at least %" PRIu64 " (%s op %u), "
			 "actual %" PRIu64, x->a_min_size, what, x->sync_op, len);
	for (uint64_t o = 0; o < lim; o++)
		if (act[o] == x->sdata[o] || (act[o] == 0 && o >= x->a_min_size) ||
		    (x->salt && x->salt[o] && act[o] == x->salt[o]))
			ok[o] = 1;
	for (size_t j = x->a_first_w; j < x->nw; j++)
		attributable(m, &x->w[j], act, lim, ok, scratch);
	for (uint64_t o = 0; o < lim; o++)
		if (!ok[o] && !bad++)
			first = o;
	if (bad)
		mismatch(rep, name, "data: expected the bytes of %s op %u or later "
			 "writes, actual %" PRIu64 " bytes not, the first at offset %"
			 PRIu64 ": expected 0x%02x (%s), actual 0x%02x (%s)", what,
			 x->sync_op, bad, first, x->sdata[first],
			 who_wrote(m, x, first, x->sdata[first]), act[first],
			 who_wrote(m, x, first, act[first]));
	free(ok);
	free(scratch);
	if (!x->sync_full)
		return;
	if (!x->a_chmod && (st->st_mode & 07777) != x->smode)
		mismatch(rep, name, "mode: expected %04o (fsync op %u), actual %04o",
			 x->smode, x->sync_op, st->st_mode & 07777);
	if (x->smtime_set && !x->a_times &&
	    (st->st_mtim.tv_sec != x->smtime.tv_sec || st->st_mtim.tv_nsec != x->smtime.tv_nsec))
		mismatch(rep, name, "mtime: expected %lld.%09ld (fsync op %u), actual "
			 "%lld.%09ld", (long long)x->smtime.tv_sec, x->smtime.tv_nsec,
			 x->sync_op, (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
	for (int i = 0; m->xattr && i < NXATTR; i++) {
		const char *xn = xnames[i];
		uint8_t got[MAX_XATTR_BYTES + 1], want[MAX_XATTR_BYTES];
		ssize_t n;

		if (x->a_x[i])
			continue;
		n = lgetxattr(path, xn, got, sizeof(got));
		if (!x->sx[i].set) {
			if (n >= 0)
				mismatch(rep, name, "xattr %s: expected absent (fsync op %u), "
					 "actual present", xn, x->sync_op);
			continue;
		}
		xval_fill(want, m->seed, x->sx[i].op, x->sx[i].len);
		if (n != (ssize_t)x->sx[i].len || memcmp(want, got, (size_t)n))
			mismatch(rep, name, "xattr %s: expected the value of op %u (fsync "
				 "op %u), actual %s", xn, x->sx[i].op, x->sync_op,
				 n < 0 ? "absent" : "another value");
	}
}

/* ever_both -- some object was, at some time, named both s and t */
static bool
ever_both(const struct model *m, int s, int t)
{
	for (uint32_t i = 0; i < m->never[s]; i++)
		for (uint32_t j = 0; j < m->never[t]; j++)
			if (m->ever[s][i] == m->ever[t][j])
				return true;
	return false;
}

/* verify_fsync -- -m fsync: O1, F1..F4; phantom (-m phantom): O1, F1, F2 */
static void
verify_fsync(const struct history *h, const char *dir, char **ignore, int nignore,
	     bool phantom, struct report *rep)
{
	const struct op *f = inflight_of(h);
	struct model m;
	struct stat st[NSLOTS];
	bool exists[NSLOTS];
	char desc[256];

	build(&m, h, true, rep);
	if (f) {
		op_format(desc, sizeof(desc), f);
		printf("in flight: op %u (%s): counted as made, for what may appear\n",
		       f->no, desc);
	}
	/* F1: names */
	names_check(dir, ignore, nignore, rep);
	for (int s = 1; s < NSLOTS; s++) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s", dir, slot_names[s]);
		exists[s] = lstat(path, &st[s]) == 0;
		if (!exists[s] && errno != ENOENT && errno != ENOTDIR)
			mismatch(rep, slot_names[s], "lstat: %s", strerror(errno));
		if (!exists[s])
			continue;
		if (is_dir_slot(s) ? !S_ISDIR(st[s].st_mode) : !S_ISREG(st[s].st_mode))
			mismatch(rep, slot_names[s], "type: expected a %s, actual mode 0%o",
				 is_dir_slot(s) ? "directory" : "regular file", st[s].st_mode);
		else if (!m.never[s])
			mismatch(rep, slot_names[s], "expected absent (never made), actual "
				 "present");
	}
	/* F2: no phantom data, modes, xattrs; shared inodes */
	for (int s = S_F0; s < NSLOTS; s++) {
		char path[4096];
		uint8_t *act;
		uint64_t len;
		int e;

		if (!exists[s] || !S_ISREG(st[s].st_mode) || !m.never[s])
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, slot_names[s]);
		if ((e = read_all(path, &act, &len))) {
			mismatch(rep, slot_names[s], "read: %s", strerror(e));
			free(act);
			continue;
		}
		f2_file(&m, s, path, act, len, st[s].st_mode & 07777, rep);
		free(act);
		for (int t = S_F0; t < s; t++)
			if (exists[t] && S_ISREG(st[t].st_mode) && st[t].st_ino == st[s].st_ino &&
			    !ever_both(&m, s, t))
				mismatch(rep, slot_names[s], "inode: expected a file of its own, "
					 "actual the same as %s (they never named one file)",
					 slot_names[t]);
	}
	if (phantom) {
		model_free(&m);
		return;
	}
	/* F3: what an fsync covered */
	for (uint32_t id = 2; id < m.nobj; id++) {
		const struct obj *x = &m.objs[id];

		if (x->dir || !x->sync_op)
			continue;
		for (int s = S_F0; s < NSLOTS; s++) {
			char path[4096];
			uint8_t *act;
			uint64_t len;
			int e;

			if (!(x->sslots & (1u << s)) || m.changed[s] > x->sync_op)
				continue;
			if (!exists[s] || !S_ISREG(st[s].st_mode)) {
				mismatch(rep, slot_names[s], "expected the file %s'd by op %u, "
					 "actual %s", x->sync_full ? "fsync" : "fdatasync",
					 x->sync_op, exists[s] ? "not a file" : "absent");
				continue;
			}
			snprintf(path, sizeof(path), "%s/%s", dir, slot_names[s]);
			if ((e = read_all(path, &act, &len))) {
				mismatch(rep, slot_names[s], "read: %s", strerror(e));
				free(act);
				continue;
			}
			f3_file(&m, id, s, path, &st[s], act, len, rep);
			free(act);
		}
	}
	/* F4: what an fsyncdir covered; the newest fsyncdir first, each name
	 * reported once */
	uint32_t reported = 0;

	for (size_t i = m.nds; i-- > 0;) {
		const struct dsync *d = &m.ds[i];

		if (d->s != S_ROOT && m.changed[d->s] > d->op)
			continue;
		if (d->s != S_ROOT && !exists[d->s]) {
			if (!(reported & (1u << d->s)))
				mismatch(rep, slot_names[d->s], "expected the directory "
					 "fsync'd by op %u, actual absent", d->op);
			reported |= 1u << d->s;
			continue;
		}
		for (int c = 1; c < NSLOTS; c++) {
			bool was = d->present & (1u << c);

			if (dir_of(c) != d->s || c == d->s || m.changed[c] > d->op ||
			    (reported & (1u << c)))
				continue;
			if (was != exists[c]) {
				mismatch(rep, slot_names[c], "expected %s (fsyncdir %s op %u), "
					 "actual %s", was ? "present" : "absent",
					 slot_names[d->s], d->op, exists[c] ? "present" : "absent");
				reported |= 1u << c;
			}
		}
	}
	model_free(&m);
}

/* print_model -- -v: what the model (S_N) holds */
static void
print_model(const struct history *h)
{
	struct model m;

	build(&m, h, false, NULL);
	for (int s = 1; s < NSLOTS; s++) {
		const struct obj *x = obj_at(&m, s);

		if (!x)
			continue;
		printf("model: %-5s obj %u %s mode %04o", slot_names[s], m.slot[s],
		       x->dir ? "dir" : "file", x->mode);
		if (!x->dir)
			printf(" size %" PRIu64 " nlink %u", x->size, nlink_of(&m, m.slot[s]));
		if (x->mtime_set)
			printf(" mtime %lld.%09ld", (long long)x->mtime.tv_sec, x->mtime.tv_nsec);
		if (x->sync_op)
			printf(" %s op %u", x->sync_full ? "fsync" : "fdatasync", x->sync_op);
		putchar('\n');
	}
	model_free(&m);
}

/* cmd_verify -- the checker: see the header */
static int
cmd_verify(int vmode, const char *statefile, const char *dir, char **ignore,
	   int nignore, bool verbose)
{
	static const char *const vnames[] = { "op", "fsync", "phantom" };
	char ftext[64];
	struct history h;
	struct report rep = { 0, false };
	unsigned acked = 0, ok = 0;

	load(statefile, &h);
	for (uint32_t i = 0; i < h.n; i++) {
		acked += h.ops[i].state == ST_DONE;
		ok += h.ops[i].state == ST_DONE && h.ops[i].res == 0;
	}
	printf("verify: %s, -m %s (run -m %s), seed %" PRIu64 ", %u ops: %u "
	       "acknowledged (%u ok, %u failed), %s; backing faults allowed: %s\n",
	       dir, vnames[vmode], h.mode, h.seed, h.n, acked, ok, acked - ok,
	       inflight_of(&h) ? "1 in flight" : "none in flight",
	       faults_text(h.faults, ftext, sizeof(ftext)));
	if (verbose)
		print_model(&h);
	if (vmode)
		verify_fsync(&h, dir, ignore, nignore, vmode == 2, &rep);
	else
		verify_op(&h, dir, ignore, nignore, &rep);
	free(h.ops);
	if (rep.n) {
		printf("verify: FAIL (%u mismatches)\n", rep.n);
		return 1;
	}
	printf("verify: OK (%u ops, %u acknowledged)\n", h.n, acked);
	return 0;
}

/* cmd_apply -- make the acknowledged, successful operations among the
 * first n of STATEFILE in DIR (empty): the state the model expects, on
 * disk, to compare by hand or to test the checker with */
static int
cmd_apply(const char *statefile, const char *dir, uint32_t n)
{
	struct history h;
	struct run r;
	uint64_t partial;

	load(statefile, &h);
	memset(&r, 0, sizeof(r));
	umask(0);
	catch_sigbus();
	r.dir = dir;
	r.fd = -1;
	r.buf = xcalloc(MAX_WRITE_BYTES, 1);
	if (dir_empty_or_gone(&r))
		die("%s: not empty", dir);
	model_init(&r.m, h.seed, h.xattr);
	for (uint32_t i = 0; i < h.n && h.ops[i].no <= n; i++) {
		const struct op *o = &h.ops[i];
		char desc[256];
		int e;

		if (o->state != ST_DONE || o->res || predict(&r.m, o))
			continue;
		if ((e = exec_op(&r, o, &partial))) {
			op_format(desc, sizeof(desc), o);
			die("op %u (%s): %s", o->no, desc, strerror(e));
		}
		apply(&r.m, o, true);
	}
	model_free(&r.m);
	free(r.buf);
	free(h.ops);
	return 0;
}

/* ---- main ---------------------------------------------------------------------------- */

/* usage -- the synopsis on stderr, exit 2 */
static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
		"usage: " PROG " run -S SEED -m op|fsync [-F FAULTS] [-n MAXOPS] DIR "
		"STATEFILE\n"
		"       " PROG " verify -m op|fsync|phantom [-i NAME]... [-v] STATEFILE DIR\n"
		"       " PROG " apply [-n OPS] STATEFILE DIR\n");
	exit(2);
}

/* parse_mode -- -m's argument: 0 op, 1 fsync, 2 phantom (verify only) */
static int
parse_mode(const char *arg)
{
	if (strcmp(arg, "fsync") == 0)
		return 1;
	if (strcmp(arg, "phantom") == 0)
		return 2;
	if (strcmp(arg, "op") != 0)
		usage();
	return 0;
}

int
main(int argc, char **argv)
{
	char *ignore[16];
	int nignore = 0, c;
	bool have_seed = false, have_mode = false, have_maxops = false;
	bool verbose = false;
	int vmode = 0, faults = 0;
	uint64_t seed = 0;
	uint32_t maxops = 200000;
	const char *cmd;

	if (argc < 2)
		usage();
	cmd = argv[1];
	optind = 2;
	while ((c = getopt(argc, argv, "S:m:n:i:vF:")) != -1) {
		switch (c) {
		case 'S':
			seed = strtoull(optarg, NULL, 0);
			have_seed = true;
			break;
		case 'm':
			vmode = parse_mode(optarg);
			have_mode = true;
			break;
		case 'F':
			if ((faults = faults_parse(optarg)) < 0)
				usage();
			break;
		case 'n':
			maxops = (uint32_t)strtoul(optarg, NULL, 0);
			have_maxops = true;
			break;
		case 'i':
			if (nignore == (int)NELEM(ignore))
				usage();
			ignore[nignore++] = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2)
		usage();
	if (strcmp(cmd, "apply") == 0)
		return cmd_apply(argv[optind], argv[optind + 1], have_maxops ? maxops :
				 UINT32_MAX);
	if (!have_mode)
		usage();
	if (strcmp(cmd, "run") == 0) {
		if (!have_seed || vmode == 2)
			usage();
		return cmd_run(seed, vmode == 1, faults, maxops, argv[optind],
			       argv[optind + 1]);
	}
	if (strcmp(cmd, "verify") == 0)
		return cmd_verify(vmode, argv[optind], argv[optind + 1], ignore,
				  nignore, verbose);
	usage();
}
