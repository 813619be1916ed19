/* SPDX-License-Identifier: MIT */
/*
 * nvfs_load.c -- nvfs_load: concurrent data and metadata load on a file
 * system, every result checked against a model (issue 5, "torture").
 *
 *     nvfs_load [-j JOBS] [-t SECONDS] [-S SEED] [-m MANIFEST] [-X] DIR
 *     nvfs_load -V MANIFEST DIR
 *
 * JOBS worker threads (default 8) run for SECONDS (default 10).  Worker k
 * owns DIR/w<k> and keeps an exact model of it: which of a fixed pool of
 * names exist (directories d0..d3 in w<k>, files f0..f9 in w<k> and in each
 * d<n>), and for each file object its bytes, size, mode, link count,
 * user.* xattrs and, after utimensat, its mtime.  Objects are shared by
 * their hard links, and outlive their names while a worker holds a
 * descriptor to them.  Its operations, chosen at random from one sequence
 * seeded with SEED + k:
 *
 *   create (O_EXCL, or O_TRUNC), pwrite and O_APPEND writes of 1 B .. 1 MiB
 *   (sizes spread evenly over the powers of two), truncate and ftruncate
 *   (shrink and extend), fsync, fdatasync, fsync of a directory, mmap
 *   write + msync(MS_SYNC), pread (checked), stat (type, size, mode, link
 *   count, mtime), readdir (names and d_type), mkdir, rmdir, rename with no
 *   flag, RENAME_NOREPLACE and RENAME_EXCHANGE (files and directories),
 *   link, unlink, setxattr (no flag, XATTR_CREATE, XATTR_REPLACE),
 *   getxattr, removexattr, listxattr, chmod, utimensat, and writes, reads
 *   and fstat through a descriptor held open across renames and unlinks,
 *   and calls on the wrong type of object (unlink or truncate a directory,
 *   rmdir a file, rename a file over a directory and back, a directory into
 *   itself, link a directory, open a file O_DIRECTORY, a path through a
 *   file, open a directory for writing).
 *
 * The model predicts every result in w<k>, errors included (ENOENT,
 * EEXIST, ENOTEMPTY, ENODATA where Linux gives them); anything else is an
 * UNEXPECTED result, printed with the path, the operation, what was
 * expected and what happened, and the worker stops (its model may no longer
 * describe the tree).  Data comes from a deterministic generator (a tag per
 * write and the file offset), so a differing byte is named with its offset
 * and both values.
 *
 * A quarter of the operations go to DIR/shared, where all workers race on
 * the same few names (files n0..n5 in shared and in m0..m2, directories
 * m0..m2): create, unlink, rename (the three flags), link, mkdir, rmdir,
 * 4 KiB-block writes and reads, truncate, xattrs, stat, readdir, fsync.
 * There ENOENT, EEXIST, ENOTEMPTY and ENODATA are the outcomes of a race;
 * any other error, or a block read back whose header names another offset
 * (data in the wrong place), is UNEXPECTED (counted; the worker goes on).
 *
 * At the end every worker that did not stop checks its whole tree against
 * its model: the names and types of every entry (nothing more, nothing
 * less), sizes, contents, modes, link counts, hard links (one inode), user.*
 * xattrs, mtimes.  With -m the models are written to MANIFEST (content as a
 * 64-bit FNV-1a hash), and `nvfs_load -V MANIFEST DIR` checks the trees
 * again later, e.g. in SOURCE after an unmount.  -X is a self-test: one
 * byte of a model is changed before the final check, which must then fail.
 *
 * Output: the parameters with the seed first; at the end one line per
 * worker (ops, ops/s, unexpected, shared ops and the races seen), the
 * counts of each operation, and
 *   nvfs_load: TOTAL ops=N ops/s=R unexpected=U seed=S OK|FAILED
 * Exit status: 0 no unexpected result; 1 some; 2 a usage or setup error.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define PROG "nvfs_load"
#define USAGE "usage: " PROG " [-j JOBS] [-t SECONDS] [-S SEED] [-m MANIFEST] [-X] DIR\n" \
	"       " PROG " -V MANIFEST DIR"

#define MAX_JOBS   64
#define NDIRS      4                       /* d0..d3 in w<k> */
#define NFILES     10                      /* f0..f9 in w<k> and each d<n> */
#define NPATHS     (NDIRS + NFILES + NDIRS * NFILES)
#define NXATTR     4                       /* user.x0 .. user.x3 */
#define XVAL_MAX   255
#define MAXOBJ     256
#define MAXSZ      (1280 * 1024)           /* a file never grows past this */
#define MAXWR      (1024 * 1024)           /* the longest write */
#define BYTES_SOFT (24u << 20)             /* a worker's files: shrink above */
#define MAX_REPORTS 20                     /* printed per worker */
#define NHELD      2                       /* descriptors held open */

#define SH_NFILES  6                       /* n0..n5 in shared, m0..m2 */
#define SH_NDIRS   3                       /* m0..m2 */
#define SH_BLK     4096
#define SH_BLOCKS  64                      /* shared files stay below 256 KiB */

static const mode_t Modes[] = { 0600, 0644, 0640, 0664, 0700, 0755, 0711, 0660 };
#define NMODES (sizeof(Modes) / sizeof(Modes[0]))

/* ---- operations and their counts ---------------------------------------- */

enum op {
	OP_CREATE, OP_CREAT_TRUNC, OP_WRITE, OP_APPEND, OP_TRUNCATE, OP_FSYNC,
	OP_FSYNCDIR, OP_MMAP, OP_READ, OP_STAT, OP_READDIR, OP_MKDIR, OP_RMDIR,
	OP_RENAME, OP_LINK, OP_UNLINK, OP_SETXATTR, OP_GETXATTR, OP_RMXATTR,
	OP_CHMOD, OP_UTIMENS, OP_HELD, OP_CROSS, OP_SHARED,
	NR_OPS
};

static const struct {
	const char *name;
	unsigned weight;
} Ops[NR_OPS] = {
	[OP_CREATE] = { "create", 6 },
	[OP_CREAT_TRUNC] = { "creat_trunc", 2 },
	[OP_WRITE] = { "write", 12 },
	[OP_APPEND] = { "append", 5 },
	[OP_TRUNCATE] = { "truncate", 4 },
	[OP_FSYNC] = { "fsync", 4 },
	[OP_FSYNCDIR] = { "fsyncdir", 1 },
	[OP_MMAP] = { "mmap", 3 },
	[OP_READ] = { "read", 8 },
	[OP_STAT] = { "stat", 6 },
	[OP_READDIR] = { "readdir", 3 },
	[OP_MKDIR] = { "mkdir", 3 },
	[OP_RMDIR] = { "rmdir", 3 },
	[OP_RENAME] = { "rename", 7 },
	[OP_LINK] = { "link", 3 },
	[OP_UNLINK] = { "unlink", 4 },
	[OP_SETXATTR] = { "setxattr", 3 },
	[OP_GETXATTR] = { "getxattr", 3 },
	[OP_RMXATTR] = { "removexattr", 1 },
	[OP_CHMOD] = { "chmod", 2 },
	[OP_UTIMENS] = { "utimens", 2 },
	[OP_HELD] = { "held_fd", 5 },
	[OP_CROSS] = { "cross_type", 3 },
	[OP_SHARED] = { "shared", 30 },
};

/* ---- the model ------------------------------------------------------------ */

struct xattr {
	bool set;
	uint16_t len;
	uint8_t val[XVAL_MAX];
};

struct obj {
	bool used;
	uint8_t *data;                 /* size bytes (cap allocated) */
	size_t size, cap;
	mode_t mode;
	int nlink;                     /* names in the model */
	int held;                      /* held descriptors */
	struct xattr x[NXATTR];
	bool mtime_known;
	struct timespec mtime;
	ino_t ino;                     /* verify: the inode seen first */
	bool hashed;                   /* from a manifest: only the hash */
	uint64_t hash;
};

struct slot {
	char type;                     /* 0 none, 'd' directory, 'f' file */
	int obj;                       /* 'f': the object */
	mode_t mode;                   /* 'd' */
};

struct held {
	int fd;                        /* -1: free */
	int obj;
};

struct worker {
	int id;
	pthread_t thread;
	uint64_t rng;
	char root[PATH_MAX];           /* DIR/w<k> */
	char shared[PATH_MAX];         /* DIR/shared */
	struct slot s[NPATHS];
	struct obj o[MAXOBJ];
	struct held h[NHELD];
	size_t bytes;                  /* sum of the objects' sizes */
	uint64_t tag;                  /* of the next write */
	uint8_t *buf;                  /* MAXSZ + 2 pages */
	bool stopped;                  /* an unexpected result in w<k> */
	uint64_t ops, sh_ops, unexpected, reports;
	uint64_t count[NR_OPS];
	uint64_t races[5];             /* ENOENT EEXIST ENOTEMPTY ENODATA, other */
	double secs;
};

static struct {
	const char *dir;
	unsigned jobs;
	double secs;
	uint64_t seed;
	const char *manifest;
	bool corrupt;
	struct timespec t0;
	double deadline;
	pthread_mutex_t out_lock;
} G = { .jobs = 8, .secs = 10, .out_lock = PTHREAD_MUTEX_INITIALIZER };

/* ---- small tools ----------------------------------------------------------- */

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t
splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t
rnd(struct worker *w)
{
	w->rng = splitmix(w->rng);
	return w->rng;
}

/* below -- uniform in [0, n) (n > 0) */
static uint64_t
below(struct worker *w, uint64_t n)
{
	return rnd(w) % n;
}

static bool
chance(struct worker *w, unsigned pct)
{
	return below(w, 100) < pct;
}

/* gen -- the bytes [off, off+len) of the stream of write tag */
static void
gen(uint8_t *p, size_t len, uint64_t tag, uint64_t off)
{
	size_t i = 0;

	while (i < len) {
		uint64_t o = off + i, v = splitmix(tag * 0x100000001b3ULL ^ (o >> 3));
		unsigned b = o & 7;

		for (; b < 8 && i < len; b++, i++)
			p[i] = (uint8_t)(v >> (8 * b));
	}
}

static uint64_t
fnv(const uint8_t *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* a length of 1 B .. MAXWR, spread evenly over the powers of two */
static size_t
rlen(struct worker *w)
{
	unsigned bits = (unsigned)below(w, 21);
	size_t n = ((size_t)1 << bits) + below(w, (uint64_t)1 << bits);

	return n > MAXWR ? MAXWR : n;
}

static const char *
ename(int e)
{
	static const struct { int e; const char *n; } N[] = {
		{ 0, "success" }, { ENOENT, "ENOENT" }, { EEXIST, "EEXIST" },
		{ ENOTEMPTY, "ENOTEMPTY" }, { ENODATA, "ENODATA" }, { EIO, "EIO" },
		{ EINVAL, "EINVAL" }, { ENOTDIR, "ENOTDIR" }, { EISDIR, "EISDIR" },
		{ ESTALE, "ESTALE" }, { EACCES, "EACCES" }, { EPERM, "EPERM" },
		{ ENOSPC, "ENOSPC" }, { EBUSY, "EBUSY" }, { EBADF, "EBADF" },
		{ EMFILE, "EMFILE" }, { ENFILE, "ENFILE" }, { ENOMEM, "ENOMEM" },
		{ EXDEV, "EXDEV" }, { ERANGE, "ERANGE" }, { EINTR, "EINTR" },
		{ ENOSYS, "ENOSYS" }, { EOPNOTSUPP, "EOPNOTSUPP" }, { EMLINK, "EMLINK" },
		{ ENAMETOOLONG, "ENAMETOOLONG" }, { E2BIG, "E2BIG" }, { EFBIG, "EFBIG" },
	};
	for (size_t i = 0; i < sizeof(N) / sizeof(N[0]); i++)
		if (N[i].e == e)
			return N[i].n;
	return strerror(e);
}

/* ---- reporting ----------------------------------------------------------- */

/* report -- an unexpected result: printed (the first MAX_REPORTS), counted */
static void __attribute__((format(printf, 4, 5)))
report(struct worker *w, const char *op, const char *path, const char *fmt, ...)
{
	va_list ap;

	w->unexpected++;
	if (w->reports++ >= MAX_REPORTS)
		return;
	pthread_mutex_lock(&G.out_lock);
	fprintf(stderr, PROG ": w%d: UNEXPECTED %s %s: ", w->id, op, path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	pthread_mutex_unlock(&G.out_lock);
}

/*
 * expect -- a private result e (0 or an errno) against the model's want;
 * false (reported, the worker stopped) if they differ
 */
static bool
expect(struct worker *w, const char *op, const char *path, int want, int e)
{
	if (want == e)
		return true;
	report(w, op, path, "expected %s, got %s", ename(want), ename(e));
	w->stopped = true;
	return false;
}

/* fail -- any other private mismatch: reported, the worker stops */
#define fail(w, op, path, ...) \
	do { report(w, op, path, __VA_ARGS__); (w)->stopped = true; } while (0)

/* ---- paths ----------------------------------------------------------------- */

static bool is_dir(int p) { return p < NDIRS; }
static int dir_of(int p) { return p < NDIRS + NFILES ? -1 : (p - NDIRS - NFILES) / NFILES; }
static int file_path(int d, int f) { return d < 0 ? NDIRS + f : NDIRS + NFILES + d * NFILES + f; }

/* name -- the path of p relative to w<k> */
static const char *
name(int p, char buf[16])
{
	if (p < NDIRS)
		snprintf(buf, 16, "d%d", p);
	else if (p < NDIRS + NFILES)
		snprintf(buf, 16, "f%d", p - NDIRS);
	else
		snprintf(buf, 16, "d%d/f%d", dir_of(p), (p - NDIRS - NFILES) % NFILES);
	return buf;
}

/* full -- DIR/w<k>/path */
static const char *
full(struct worker *w, int p, char buf[PATH_MAX])
{
	char n[16];

	snprintf(buf, PATH_MAX, "%s/%s", w->root, name(p, n));
	return buf;
}

static int rand_file(struct worker *w) { return NDIRS + (int)below(w, NFILES + NDIRS * NFILES); }
static int rand_dir(struct worker *w) { return (int)below(w, NDIRS); }

/* parent_ok -- the parent directory of p exists */
static bool
parent_ok(struct worker *w, int p)
{
	int d = dir_of(p);

	return d < 0 || w->s[d].type == 'd';
}

/* existing -- a random existing file path (90 %), else any file path */
static int
pick_file(struct worker *w)
{
	int cand[NPATHS], n = 0;

	if (chance(w, 90)) {
		for (int p = NDIRS; p < NPATHS; p++)
			if (w->s[p].type == 'f')
				cand[n++] = p;
		if (n)
			return cand[below(w, n)];
	}
	return rand_file(w);
}

/* ---- objects ---------------------------------------------------------------- */

static int
obj_new(struct worker *w, mode_t mode)
{
	for (int i = 0; i < MAXOBJ; i++) {
		struct obj *o = &w->o[i];

		if (o->used)
			continue;
		memset(o, 0, sizeof(*o));
		o->used = true;
		o->mode = mode;
		o->nlink = 1;
		return i;
	}
	fprintf(stderr, PROG ": w%d: out of model objects\n", w->id);
	abort();
}

static void
obj_put(struct worker *w, int i)
{
	struct obj *o = &w->o[i];

	if (o->nlink > 0 || o->held > 0)
		return;
	w->bytes -= o->size;
	free(o->data);
	memset(o, 0, sizeof(*o));
}

static void
obj_resize(struct worker *w, struct obj *o, size_t size)
{
	if (size > o->cap) {
		size_t cap = size + size / 2 + 4096;

		if (cap > MAXSZ + 4096)
			cap = MAXSZ + 4096;
		o->data = realloc(o->data, cap);
		if (!o->data)
			die("out of memory");
		o->cap = cap;
	}
	if (size > o->size)
		memset(o->data + o->size, 0, size - o->size);
	w->bytes += size;
	w->bytes -= o->size;
	o->size = size;
}

/* obj_write -- the model of a write of tag's bytes at off */
static void
obj_write(struct worker *w, struct obj *o, uint64_t tag, size_t off, size_t len)
{
	if (off + len > o->size)
		obj_resize(w, o, off + len);
	gen(o->data + off, len, tag, off);
	o->mtime_known = false;
}

/* a write of len bytes somewhere in (or just past) o: the offset */
static size_t
write_off(struct worker *w, const struct obj *o, size_t len)
{
	size_t off;

	switch (below(w, 4)) {
	case 0:  off = 0; break;
	case 1:  off = o->size; break;                           /* at EOF */
	case 2:  off = (size_t)below(w, o->size + 65536) & ~(size_t)4095; break;
	default: off = (size_t)below(w, o->size + 8192); break;  /* anywhere, holes */
	}
	if (off + len > MAXSZ)
		off = MAXSZ - len;
	return off;
}

/* a write's length: shorter when the worker's files are big already */
static size_t
write_len(struct worker *w)
{
	size_t len = rlen(w);

	if (w->bytes > BYTES_SOFT && len > 4096)
		len = 1 + (size_t)below(w, 4096);
	return len;
}

/* ---- checks of what the file system says -------------------------------- */

/* check_data -- got (n bytes read at off) against o; false if it differs */
static bool
check_data(struct worker *w, const char *op, const char *path, const struct obj *o,
	   const uint8_t *got, ssize_t n, size_t off, size_t len)
{
	size_t want = off >= o->size ? 0 : o->size - off;

	if (want > len)
		want = len;
	if (n < 0) {
		fail(w, op, path, "read %zu at %zu: %s", len, off, ename(errno));
		return false;
	}
	if ((size_t)n != want) {
		fail(w, op, path, "read %zu at %zu: expected %zu bytes (size %zu), got %zd",
		     len, off, want, o->size, n);
		return false;
	}
	if (memcmp(got, o->data + off, want) != 0) {
		size_t i = 0;

		while (got[i] == o->data[off + i])
			i++;
		fail(w, op, path, "content differs at offset %zu (read %zu at %zu, size %zu): "
		     "expected 0x%02x, actual 0x%02x", off + i, len, off, o->size,
		     o->data[off + i], got[i]);
		return false;
	}
	return true;
}

/* pread_all -- read up to len at off, looping over short reads */
static ssize_t
pread_all(int fd, uint8_t *p, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, p + done, len - done, off + (off_t)done);

		if (n < 0)
			return -1;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* check_stat -- st against the model of o (type, size, mode, links, mtime) */
static bool
check_stat(struct worker *w, const char *op, const char *path, const struct stat *st,
	   const struct obj *o)
{
	if (!S_ISREG(st->st_mode))
		fail(w, op, path, "expected a regular file, mode 0%o", (unsigned)st->st_mode);
	else if ((size_t)st->st_size != o->size)
		fail(w, op, path, "expected size %zu, got %jd", o->size, (intmax_t)st->st_size);
	else if ((st->st_mode & 07777) != o->mode)
		fail(w, op, path, "expected mode 0%o, got 0%o", (unsigned)o->mode,
		     (unsigned)(st->st_mode & 07777));
	else if ((int)st->st_nlink != o->nlink)
		fail(w, op, path, "expected %d links, got %ju", o->nlink, (uintmax_t)st->st_nlink);
	else if (o->mtime_known && (st->st_mtim.tv_sec != o->mtime.tv_sec ||
				    st->st_mtim.tv_nsec != o->mtime.tv_nsec))
		fail(w, op, path, "expected mtime %jd.%09ld, got %jd.%09ld",
		     (intmax_t)o->mtime.tv_sec, o->mtime.tv_nsec,
		     (intmax_t)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
	else
		return true;
	return false;
}

/* dir_links -- the link count the model gives directory p (-1: w<k>) */
static int
dir_links(struct worker *w, int p)
{
	int n = 2;

	if (p < 0)
		for (int d = 0; d < NDIRS; d++)
			n += w->s[d].type == 'd';
	return n;
}

/* ---- private operations ------------------------------------------------------ */

static void
p_create(struct worker *w, bool trunc)
{
	int p = rand_file(w), fd, want, e;
	mode_t mode = Modes[below(w, NMODES)];
	char path[PATH_MAX];
	const char *op = trunc ? "creat_trunc" : "create";

	full(w, p, path);
	if (!parent_ok(w, p))
		want = ENOENT;
	else if (!trunc && w->s[p].type)
		want = EEXIST;
	else
		want = 0;
	fd = open(path, O_WRONLY | O_CREAT | (trunc ? O_TRUNC : O_EXCL), mode);
	e = fd < 0 ? errno : 0;
	if (!expect(w, op, path, want, e))
		goto out;
	if (fd < 0)
		return;
	if (w->s[p].type == 'f') {             /* O_TRUNC of an existing file */
		struct obj *o = &w->o[w->s[p].obj];

		obj_resize(w, o, 0);
		o->mtime_known = false;
	} else {
		w->s[p].type = 'f';
		w->s[p].obj = obj_new(w, mode);
	}
	if (chance(w, 60)) {                    /* and some first data */
		struct obj *o = &w->o[w->s[p].obj];
		size_t len = write_len(w);
		uint64_t tag = w->tag++;
		ssize_t n;

		gen(w->buf, len, tag, 0);
		n = write(fd, w->buf, len);
		if (n != (ssize_t)len) {
			fail(w, op, path, "write of %zu at 0: %s", len,
			     n < 0 ? ename(errno) : "short");
			goto out;
		}
		obj_write(w, o, tag, 0, len);
	}
out:
	if (fd >= 0 && close(fd) != 0)
		fail(w, op, path, "close: %s", ename(errno));
}

/* open_file -- open p (flags) as the model predicts: the fd, or -1 */
static int
open_file(struct worker *w, const char *op, int p, int flags, char path[PATH_MAX])
{
	int fd, e;

	full(w, p, path);
	fd = open(path, flags);
	e = fd < 0 ? errno : 0;
	if (!expect(w, op, path, w->s[p].type == 'f' ? 0 : ENOENT, e) && fd >= 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
close_file(struct worker *w, const char *op, const char *path, int fd)
{
	if (close(fd) != 0)
		fail(w, op, path, "close: %s", ename(errno));
}

static void
p_write(struct worker *w, bool append)
{
	int p = pick_file(w), fd;
	char path[PATH_MAX];
	const char *op = append ? "append" : "write";
	struct obj *o;
	size_t len = write_len(w), off;
	uint64_t tag = w->tag++;
	ssize_t n;
	struct stat st;

	fd = open_file(w, op, p, (chance(w, 50) ? O_RDWR : O_WRONLY) | (append ? O_APPEND : 0),
		       path);
	if (fd < 0)
		return;
	o = &w->o[w->s[p].obj];
	if (append && o->size + len > MAXSZ) {
		len = 1 + (size_t)below(w, 64);
		if (o->size + len > MAXSZ) {
			close_file(w, op, path, fd);
			return;
		}
	}
	off = append ? o->size : write_off(w, o, len);
	gen(w->buf, len, tag, off);
	n = append ? write(fd, w->buf, len) : pwrite(fd, w->buf, len, (off_t)off);
	if (n != (ssize_t)len) {
		fail(w, op, path, "%zu bytes at %zu: %s", len, off, n < 0 ? ename(errno) : "short");
		close(fd);
		return;
	}
	obj_write(w, o, tag, off, len);
	if (fstat(fd, &st) != 0)
		fail(w, op, path, "fstat: %s", ename(errno));
	else if ((size_t)st.st_size != o->size)
		fail(w, op, path, "after %zu bytes at %zu: size %jd, expected %zu",
		     len, off, (intmax_t)st.st_size, o->size);
	else if (chance(w, 25)) {
		int r = chance(w, 50) ? fsync(fd) : fdatasync(fd);

		expect(w, "fsync after write", path, 0, r ? errno : 0);
	}
	close_file(w, op, path, fd);
}

static void
p_truncate(struct worker *w)
{
	int p = pick_file(w), e, fd = -1;
	char path[PATH_MAX];
	size_t size;
	struct obj *o;

	switch (below(w, 4)) {
	case 0:  size = 0; break;
	case 1:  size = (size_t)below(w, MAXSZ + 1); break;
	case 2:  size = (size_t)below(w, 4096); break;
	default: size = w->s[p].type == 'f' ? (size_t)below(w, w->o[w->s[p].obj].size + 1) : 0;
	}
	if (w->bytes > BYTES_SOFT)
		size /= 4;
	if (chance(w, 50)) {
		full(w, p, path);
		e = truncate(path, (off_t)size) ? errno : 0;
		if (!expect(w, "truncate", path, w->s[p].type == 'f' ? 0 : ENOENT, e) || e)
			return;
	} else {
		fd = open_file(w, "ftruncate", p, O_WRONLY, path);
		if (fd < 0)
			return;
		e = ftruncate(fd, (off_t)size) ? errno : 0;
		if (!expect(w, "ftruncate", path, 0, e)) {
			close(fd);
			return;
		}
	}
	o = &w->o[w->s[p].obj];
	obj_resize(w, o, size);
	o->mtime_known = false;
	if (fd >= 0)
		close_file(w, "ftruncate", path, fd);
}

static void
p_fsync(struct worker *w)
{
	int p = pick_file(w), fd, r;
	char path[PATH_MAX];
	bool data = chance(w, 50);

	fd = open_file(w, data ? "fdatasync" : "fsync", p, chance(w, 50) ? O_RDONLY : O_WRONLY,
		       path);
	if (fd < 0)
		return;
	r = data ? fdatasync(fd) : fsync(fd);
	expect(w, data ? "fdatasync" : "fsync", path, 0, r ? errno : 0);
	close_file(w, "fsync", path, fd);
}

static void
p_fsyncdir(struct worker *w)
{
	int d = chance(w, 30) ? -1 : rand_dir(w), fd, e;
	char path[PATH_MAX];

	if (d < 0)
		snprintf(path, sizeof(path), "%s", w->root);
	else
		full(w, d, path);
	fd = open(path, O_RDONLY | O_DIRECTORY);
	e = fd < 0 ? errno : 0;
	if (!expect(w, "fsyncdir open", path, d < 0 || w->s[d].type == 'd' ? 0 : ENOENT, e) ||
	    fd < 0) {
		if (fd >= 0)
			close(fd);
		return;
	}
	e = fsync(fd) ? errno : 0;
	expect(w, "fsyncdir", path, 0, e);
	close_file(w, "fsyncdir", path, fd);
}

static void
p_mmap(struct worker *w)
{
	int p = pick_file(w), fd;
	char path[PATH_MAX];
	struct obj *o;
	size_t off, len;
	uint8_t *m;
	uint64_t tag = w->tag++;

	fd = open_file(w, "mmap", p, O_RDWR, path);
	if (fd < 0)
		return;
	o = &w->o[w->s[p].obj];
	if (o->size == 0) {
		close_file(w, "mmap", path, fd);
		return;
	}
	off = (size_t)below(w, o->size);
	len = 1 + (size_t)below(w, o->size - off < 65536 ? o->size - off : 65536);
	m = mmap(NULL, o->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		fail(w, "mmap", path, "mmap of %zu bytes: %s", o->size, ename(errno));
		close(fd);
		return;
	}
	if (memcmp(m, o->data, o->size) != 0) {
		size_t i = 0;

		while (m[i] == o->data[i])
			i++;
		fail(w, "mmap", path, "mapped content differs at offset %zu (size %zu): "
		     "expected 0x%02x, actual 0x%02x", i, o->size, o->data[i], m[i]);
	}
	gen(m + off, len, tag, off);
	if (msync(m, o->size, MS_SYNC) != 0)
		fail(w, "msync", path, "%s", ename(errno));
	munmap(m, o->size);
	obj_write(w, o, tag, off, len);
	close_file(w, "mmap", path, fd);
}

static void
p_read(struct worker *w)
{
	int p = pick_file(w), fd;
	char path[PATH_MAX];
	struct obj *o;
	size_t off, len;
	ssize_t n;

	fd = open_file(w, "read", p, O_RDONLY, path);
	if (fd < 0)
		return;
	o = &w->o[w->s[p].obj];
	if (chance(w, 25)) {
		off = 0;
		len = MAXSZ + 1;
	} else {
		off = (size_t)below(w, o->size + 4096);
		len = rlen(w);
	}
	n = pread_all(fd, w->buf, len, (off_t)off);
	check_data(w, "read", path, o, w->buf, n, off, len);
	close_file(w, "read", path, fd);
}

static void
p_stat(struct worker *w)
{
	int p = chance(w, 20) ? rand_dir(w) : pick_file(w), e;
	char path[PATH_MAX];
	struct stat st;

	full(w, p, path);
	e = stat(path, &st) ? errno : 0;
	if (!expect(w, "stat", path, w->s[p].type ? 0 : ENOENT, e) || e)
		return;
	if (is_dir(p)) {
		if (!S_ISDIR(st.st_mode) || (st.st_mode & 07777) != w->s[p].mode ||
		    (int)st.st_nlink != dir_links(w, p))
			fail(w, "stat", path, "expected a directory, mode 0%o, %d links; got "
			     "mode 0%o, %ju links", (unsigned)w->s[p].mode, dir_links(w, p),
			     (unsigned)st.st_mode, (uintmax_t)st.st_nlink);
	} else {
		check_stat(w, "stat", path, &st, &w->o[w->s[p].obj]);
	}
}

/* list_dir -- the names of path's entries into names (a bitmap of paths) */
static int
list_dir(struct worker *w, const char *path, int d, bool seen[NPATHS])
{
	DIR *dp = opendir(path);
	struct dirent *de;
	char n[16];

	if (!dp)
		return errno;
	errno = 0;
	while ((de = readdir(dp))) {
		int p = -1;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		for (int q = 0; q < NPATHS; q++)
			if (dir_of(q) == d && (d >= 0 || q < NDIRS + NFILES)) {
				const char *s = name(q, n);

				if (d >= 0)
					s = strchr(s, '/') + 1;
				if (!strcmp(s, de->d_name))
					p = q;
			}
		if (p < 0 || seen[p]) {
			fail(w, "readdir", path, "%s entry '%s'", p < 0 ? "unexpected" : "duplicate",
			     de->d_name);
			continue;
		}
		seen[p] = true;
		if (de->d_type != DT_UNKNOWN && de->d_type != (is_dir(p) ? DT_DIR : DT_REG))
			fail(w, "readdir", path, "entry '%s' has d_type %d", de->d_name, de->d_type);
	}
	if (errno)
		fail(w, "readdir", path, "%s", ename(errno));
	closedir(dp);
	return 0;
}

static void
p_readdir(struct worker *w)
{
	int d = chance(w, 40) ? -1 : rand_dir(w), e;
	char path[PATH_MAX], n[16];
	bool seen[NPATHS] = { false };

	if (d < 0)
		snprintf(path, sizeof(path), "%s", w->root);
	else
		full(w, d, path);
	e = list_dir(w, path, d, seen);
	if (!expect(w, "readdir", path, d < 0 || w->s[d].type == 'd' ? 0 : ENOENT, e) || e)
		return;
	for (int p = 0; p < NPATHS; p++) {
		bool in = dir_of(p) == d && (d >= 0 || p < NDIRS + NFILES);

		if (in && (w->s[p].type != 0) != seen[p])
			fail(w, "readdir", path, "%s '%s'", seen[p] ? "lists a removed" :
			     "does not list", name(p, n));
	}
}

static void
p_mkdir(struct worker *w)
{
	int d = rand_dir(w), e;
	mode_t mode = chance(w, 50) ? 0755 : 0700;
	char path[PATH_MAX];

	full(w, d, path);
	e = mkdir(path, mode) ? errno : 0;
	if (expect(w, "mkdir", path, w->s[d].type ? EEXIST : 0, e) && !e) {
		w->s[d].type = 'd';
		w->s[d].mode = mode;
	}
}

/* dir_empty -- directory d has no file in the model */
static bool
dir_empty(struct worker *w, int d)
{
	for (int f = 0; f < NFILES; f++)
		if (w->s[file_path(d, f)].type)
			return false;
	return true;
}

static void
p_rmdir(struct worker *w)
{
	int d = rand_dir(w), e, want;
	char path[PATH_MAX];

	full(w, d, path);
	want = !w->s[d].type ? ENOENT : dir_empty(w, d) ? 0 : ENOTEMPTY;
	e = rmdir(path) ? errno : 0;
	if (expect(w, "rmdir", path, want, e) && !e)
		w->s[d].type = 0;
}

/* unname -- path p loses its name (a file's object its link) */
static void
unname(struct worker *w, int p)
{
	if (w->s[p].type == 'f') {
		int i = w->s[p].obj;

		w->o[i].nlink--;
		obj_put(w, i);
	}
	w->s[p].type = 0;
}

static void
p_rename(struct worker *w)
{
	bool dirs = chance(w, 25);
	int a = dirs ? rand_dir(w) : pick_file(w), b = dirs ? rand_dir(w) : rand_file(w);
	unsigned flags = chance(w, 60) ? 0 : chance(w, 50) ? RENAME_NOREPLACE : RENAME_EXCHANGE;
	char pa[PATH_MAX], pb[PATH_MAX], what[2 * PATH_MAX + 40];
	int want, e;
	bool same;

	full(w, a, pa);
	full(w, b, pb);
	snprintf(what, sizeof(what), "%s -> %s%s", pa, pb, flags == RENAME_NOREPLACE ?
		 " (NOREPLACE)" : flags == RENAME_EXCHANGE ? " (EXCHANGE)" : "");
	same = a == b || (!dirs && w->s[a].type == 'f' && w->s[b].type == 'f' &&
			  w->s[a].obj == w->s[b].obj);
	if (!parent_ok(w, a) || !parent_ok(w, b) || !w->s[a].type)
		want = ENOENT;
	else if (flags == RENAME_NOREPLACE && w->s[b].type)
		want = EEXIST;
	else if (flags == RENAME_EXCHANGE && !w->s[b].type)
		want = ENOENT;
	else if (same)
		want = 0;
	else if (dirs && !flags && w->s[b].type && !dir_empty(w, b))
		want = ENOTEMPTY;
	else
		want = 0;
	e = renameat2(AT_FDCWD, pa, AT_FDCWD, pb, flags) ? errno : 0;
	if (!expect(w, "rename", what, want, e) || e || same)
		return;
	if (flags == RENAME_EXCHANGE) {
		struct slot t = w->s[a];

		w->s[a] = w->s[b];
		w->s[b] = t;
		if (dirs)
			for (int f = 0; f < NFILES; f++) {
				struct slot u = w->s[file_path(a, f)];

				w->s[file_path(a, f)] = w->s[file_path(b, f)];
				w->s[file_path(b, f)] = u;
			}
		return;
	}
	unname(w, b);                      /* an empty directory, or a file */
	w->s[b] = w->s[a];
	w->s[a].type = 0;
	if (dirs)
		for (int f = 0; f < NFILES; f++) {
			w->s[file_path(b, f)] = w->s[file_path(a, f)];
			w->s[file_path(a, f)].type = 0;
		}
}

static void
p_link(struct worker *w)
{
	int a = pick_file(w), b = rand_file(w), want, e;
	char pa[PATH_MAX], pb[PATH_MAX], what[2 * PATH_MAX + 8];

	full(w, a, pa);
	full(w, b, pb);
	snprintf(what, sizeof(what), "%s -> %s", pa, pb);
	if (!w->s[a].type || !parent_ok(w, b))
		want = ENOENT;
	else if (w->s[b].type)
		want = EEXIST;
	else
		want = 0;
	e = link(pa, pb) ? errno : 0;
	if (expect(w, "link", what, want, e) && !e) {
		w->s[b] = w->s[a];
		w->o[w->s[a].obj].nlink++;
	}
}

static void
p_unlink(struct worker *w)
{
	int p = pick_file(w), e;
	char path[PATH_MAX];

	full(w, p, path);
	e = unlink(path) ? errno : 0;
	if (expect(w, "unlink", path, w->s[p].type ? 0 : ENOENT, e) && !e)
		unname(w, p);
}

static void
xname(int k, char buf[16])
{
	snprintf(buf, 16, "user.x%d", k);
}

static void
p_setxattr(struct worker *w)
{
	int p = pick_file(w), k = (int)below(w, NXATTR), e, want, fd = -1;
	int flags = chance(w, 50) ? 0 : chance(w, 50) ? XATTR_CREATE : XATTR_REPLACE;
	char path[PATH_MAX], xn[16];
	uint8_t val[XVAL_MAX];
	size_t len = (size_t)below(w, XVAL_MAX + 1);
	struct xattr *x;

	full(w, p, path);
	xname(k, xn);
	gen(val, len, w->tag++, 0);
	if (!w->s[p].type)
		want = ENOENT;
	else if (flags == XATTR_CREATE && w->o[w->s[p].obj].x[k].set)
		want = EEXIST;
	else if (flags == XATTR_REPLACE && !w->o[w->s[p].obj].x[k].set)
		want = ENODATA;
	else
		want = 0;
	if (w->s[p].type && chance(w, 30)) {
		fd = open_file(w, "fsetxattr", p, O_RDONLY, path);
		if (fd < 0)
			return;
		e = fsetxattr(fd, xn, val, len, flags) ? errno : 0;
		close_file(w, "fsetxattr", path, fd);
	} else {
		e = setxattr(path, xn, val, len, flags) ? errno : 0;
	}
	if (!expect(w, flags == XATTR_CREATE ? "setxattr CREATE" : flags == XATTR_REPLACE ?
		    "setxattr REPLACE" : "setxattr", path, want, e) || e)
		return;
	x = &w->o[w->s[p].obj].x[k];
	x->set = true;
	x->len = (uint16_t)len;
	memcpy(x->val, val, len);
}

/* check_xattr -- the value of xattr k of path (fd if >= 0) against o */
static void
check_xattr(struct worker *w, const char *path, int fd, const struct obj *o, int k)
{
	char xn[16];
	uint8_t val[XVAL_MAX + 16];
	ssize_t n;
	const struct xattr *x = &o->x[k];

	xname(k, xn);
	n = fd >= 0 ? fgetxattr(fd, xn, val, sizeof(val)) : getxattr(path, xn, val, sizeof(val));
	if (!expect(w, "getxattr", path, x->set ? 0 : ENODATA, n < 0 ? errno : 0) || n < 0)
		return;
	if ((size_t)n != x->len || memcmp(val, x->val, x->len) != 0)
		fail(w, "getxattr", path, "%s: expected %u bytes, got %zd (or another value)",
		     xn, x->len, n);
}

static void
p_getxattr(struct worker *w)
{
	int p = pick_file(w), k = (int)below(w, NXATTR);
	char path[PATH_MAX], xn[16];
	ssize_t n;

	full(w, p, path);
	xname(k, xn);
	if (!w->s[p].type) {
		n = getxattr(path, xn, NULL, 0);
		expect(w, "getxattr", path, ENOENT, n < 0 ? errno : 0);
		return;
	}
	if (chance(w, 25)) {                    /* the size query */
		const struct xattr *x = &w->o[w->s[p].obj].x[k];

		n = getxattr(path, xn, NULL, 0);
		if (expect(w, "getxattr size", path, x->set ? 0 : ENODATA, n < 0 ? errno : 0) &&
		    n >= 0 && (size_t)n != x->len)
			fail(w, "getxattr size", path, "%s: expected %u, got %zd", xn, x->len, n);
		return;
	}
	check_xattr(w, path, -1, &w->o[w->s[p].obj], k);
}

static void
p_rmxattr(struct worker *w)
{
	int p = pick_file(w), k = (int)below(w, NXATTR), e, want;
	char path[PATH_MAX], xn[16];

	full(w, p, path);
	xname(k, xn);
	want = !w->s[p].type ? ENOENT : w->o[w->s[p].obj].x[k].set ? 0 : ENODATA;
	e = removexattr(path, xn) ? errno : 0;
	if (expect(w, "removexattr", path, want, e) && !e)
		w->o[w->s[p].obj].x[k].set = false;
}

static void
p_chmod(struct worker *w)
{
	int p = pick_file(w), e;
	mode_t mode = Modes[below(w, NMODES)];
	char path[PATH_MAX];

	full(w, p, path);
	e = chmod(path, mode) ? errno : 0;
	if (expect(w, "chmod", path, w->s[p].type ? 0 : ENOENT, e) && !e)
		w->o[w->s[p].obj].mode = mode;
}

static void
p_utimens(struct worker *w)
{
	int p = pick_file(w), e;
	char path[PATH_MAX];
	struct timespec ts[2];

	ts[0].tv_sec = 1600000000 + (time_t)below(w, 100000000);
	ts[0].tv_nsec = (long)below(w, 1000000000);
	ts[1].tv_sec = 1600000000 + (time_t)below(w, 100000000);
	ts[1].tv_nsec = (long)below(w, 1000000000);
	full(w, p, path);
	e = utimensat(AT_FDCWD, path, ts, 0) ? errno : 0;
	if (expect(w, "utimens", path, w->s[p].type ? 0 : ENOENT, e) && !e) {
		w->o[w->s[p].obj].mtime_known = true;
		w->o[w->s[p].obj].mtime = ts[1];
	}
}

/* p_held -- open a descriptor to hold, or use or close a held one */
static void
p_held(struct worker *w)
{
	struct held *h = &w->h[below(w, NHELD)];
	char what[64];
	struct obj *o;

	if (h->fd < 0) {
		char path[PATH_MAX];
		int p = pick_file(w);

		h->fd = open_file(w, "held open", p, O_RDWR, path);
		if (h->fd >= 0) {
			h->obj = w->s[p].obj;
			w->o[h->obj].held++;
		}
		return;
	}
	o = &w->o[h->obj];
	snprintf(what, sizeof(what), "w%d held fd %d (%d names)", w->id, h->fd, o->nlink);
	switch (below(w, 5)) {
	case 0: case 1: {
		size_t len = write_len(w), off = write_off(w, o, len);
		uint64_t tag = w->tag++;
		ssize_t n;

		gen(w->buf, len, tag, off);
		n = pwrite(h->fd, w->buf, len, (off_t)off);
		if (n != (ssize_t)len) {
			fail(w, "held write", what, "%zu at %zu: %s", len, off,
			     n < 0 ? ename(errno) : "short");
			return;
		}
		obj_write(w, o, tag, off, len);
		break;
	}
	case 2: {
		size_t off = (size_t)below(w, o->size + 1), len = rlen(w);

		check_data(w, "held read", what, o, w->buf,
			   pread_all(h->fd, w->buf, len, (off_t)off), off, len);
		break;
	}
	case 3: {
		struct stat st;

		if (fstat(h->fd, &st) != 0)
			fail(w, "held fstat", what, "%s", ename(errno));
		else if ((size_t)st.st_size != o->size || (int)st.st_nlink != o->nlink)
			fail(w, "held fstat", what, "size %jd links %ju, expected %zu and %d",
			     (intmax_t)st.st_size, (uintmax_t)st.st_nlink, o->size, o->nlink);
		break;
	}
	default:
		if (close(h->fd) != 0)
			fail(w, "held close", what, "%s", ename(errno));
		h->fd = -1;
		o->held--;
		obj_put(w, h->obj);
	}
}

/*
 * p_cross -- a call on the wrong type of object, or through one: the error
 * Linux gives (EISDIR, ENOTDIR, EPERM, EINVAL, EEXIST, ENOENT).  Calls that
 * would succeed (and give a directory a file's name) are not made.
 */
static void
p_cross(struct worker *w)
{
	int d = rand_dir(w), f = chance(w, 50) ? pick_file(w) : rand_file(w), want, e, fd;
	bool dx = w->s[d].type == 'd', fx = w->s[f].type == 'f';
	char pd[PATH_MAX], pf[PATH_MAX], what[2 * PATH_MAX + 40], n[16];
	const char *op;

	full(w, d, pd);
	full(w, f, pf);
	switch (below(w, 10)) {
	case 0:
		op = "unlink a directory";
		e = unlink(pd) ? errno : 0;
		expect(w, op, pd, dx ? EISDIR : ENOENT, e);
		break;
	case 1:
		op = "rmdir a file";
		e = rmdir(pf) ? errno : 0;
		expect(w, op, pf, fx ? ENOTDIR : ENOENT, e);
		break;
	case 2: {
		unsigned fl = chance(w, 50) ? 0 : RENAME_NOREPLACE;

		if (fx && !dx)
			return;                 /* it would succeed */
		op = "rename a file over a directory";
		snprintf(what, sizeof(what), "%s -> %s%s", pf, pd, fl ? " (NOREPLACE)" : "");
		/* over its own directory: that target is an ancestor of the source */
		want = !fx ? ENOENT : fl ? EEXIST : dir_of(f) == d ? ENOTEMPTY : EISDIR;
		e = renameat2(AT_FDCWD, pf, AT_FDCWD, pd, fl) ? errno : 0;
		expect(w, op, what, want, e);
		break;
	}
	case 3: {
		unsigned fl = chance(w, 50) ? 0 : RENAME_NOREPLACE;
		bool inside = dir_of(f) == d;

		if (dx && parent_ok(w, f) && !fx && !inside)
			return;                 /* it would succeed */
		op = "rename a directory over a file";
		snprintf(what, sizeof(what), "%s -> %s%s", pd, pf, fl ? " (NOREPLACE)" : "");
		if (!dx || !parent_ok(w, f))
			want = ENOENT;
		else if (fl && fx)
			want = EEXIST;
		else if (inside)
			want = EINVAL;          /* into itself */
		else
			want = ENOTDIR;
		e = renameat2(AT_FDCWD, pd, AT_FDCWD, pf, fl) ? errno : 0;
		expect(w, op, what, want, e);
		break;
	}
	case 4:
		op = "link a directory";
		snprintf(what, sizeof(what), "%s -> %s", pd, pf);
		want = !dx || !parent_ok(w, f) ? ENOENT : fx ? EEXIST : EPERM;
		e = link(pd, pf) ? errno : 0;
		expect(w, op, what, want, e);
		break;
	case 5:
		if (!fx && parent_ok(w, f))
			return;                 /* it would succeed */
		op = "mkdir over a file";
		e = mkdir(pf, 0755) ? errno : 0;
		expect(w, op, pf, fx ? EEXIST : ENOENT, e);
		break;
	case 6:
		op = "open a file O_DIRECTORY";
		fd = open(pf, O_RDONLY | O_DIRECTORY);
		e = fd < 0 ? errno : 0;
		if (fd >= 0)
			close(fd);
		expect(w, op, pf, fx ? ENOTDIR : ENOENT, e);
		break;
	case 7: {
		struct stat st;
		int top = file_path(-1, (int)below(w, NFILES));

		op = "a path through a file";
		snprintf(what, sizeof(what), "%s/%s/f0", w->root, name(top, n));
		if (chance(w, 50)) {
			fd = open(what, O_RDONLY);
			e = fd < 0 ? errno : 0;
			if (fd >= 0)
				close(fd);
		} else {
			e = stat(what, &st) ? errno : 0;
		}
		expect(w, op, what, w->s[top].type ? ENOTDIR : ENOENT, e);
		break;
	}
	case 8: {
		int fl = chance(w, 50) ? O_WRONLY : O_RDWR;

		if (dx)
			fl |= chance(w, 50) ? 0 : chance(w, 50) ? O_CREAT : O_CREAT | O_EXCL;
		op = "open a directory for writing";
		fd = open(pd, fl, 0644);
		e = fd < 0 ? errno : 0;
		if (fd >= 0)
			close(fd);
		expect(w, op, pd, !dx ? ENOENT : (fl & O_EXCL) ? EEXIST : EISDIR, e);
		break;
	}
	default:
		op = "truncate a directory";
		e = truncate(pd, 0) ? errno : 0;
		expect(w, op, pd, dx ? EISDIR : ENOENT, e);
	}
}

/* ---- the shared directory -------------------------------------------------- */

/* a shared path: a file n<i> in shared or in m<d>, or a directory m<d> */
static void
sh_file(struct worker *w, char buf[PATH_MAX])
{
	int d = (int)below(w, SH_NDIRS + 1) - 1, f = (int)below(w, SH_NFILES);

	if (d < 0)
		snprintf(buf, PATH_MAX, "%s/n%d", w->shared, f);
	else
		snprintf(buf, PATH_MAX, "%s/m%d/n%d", w->shared, d, f);
}

static void
sh_dir(struct worker *w, char buf[PATH_MAX])
{
	snprintf(buf, PATH_MAX, "%s/m%d", w->shared, (int)below(w, SH_NDIRS));
}

/* race -- a shared result: 0 and the race errors are fine, the rest counted */
static void
race(struct worker *w, const char *op, const char *path, int r)
{
	int e = r < 0 ? errno : 0;

	switch (e) {
	case 0: return;
	case ENOENT: w->races[0]++; return;
	case EEXIST: w->races[1]++; return;
	case ENOTEMPTY: w->races[2]++; return;
	case ENODATA: w->races[3]++; return;
	}
	w->races[4]++;
	report(w, op, path, "%s (shared: only ENOENT, EEXIST, ENOTEMPTY, ENODATA are races)",
	       ename(e));
}

/* sh_check -- the blocks read: zeros, or a header naming their own offset */
static void
sh_check(struct worker *w, const char *path, const uint8_t *p, size_t n, off_t off)
{
	for (size_t i = 0; i + 24 <= n; i += SH_BLK) {
		uint64_t at;

		if (memcmp(p + i, "NVFSLOAD", 8) != 0)
			continue;
		memcpy(&at, p + i + 8, 8);
		if (at != (uint64_t)off + i)
			report(w, "shared read", path, "the block at %jd says it was written at %ju",
			       (intmax_t)(off + (off_t)i), (uintmax_t)at);
	}
}

static void
shared_op(struct worker *w)
{
	char a[PATH_MAX], b[PATH_MAX];
	int fd;
	unsigned what = (unsigned)below(w, 15);

	w->sh_ops++;
	switch (what) {
	case 0: case 1:
		sh_file(w, a);
		fd = open(a, O_WRONLY | O_CREAT | (chance(w, 50) ? O_EXCL : 0), 0644);
		race(w, "shared create", a, fd);
		if (fd >= 0)
			close(fd);
		break;
	case 2:
		sh_file(w, a);
		race(w, "shared unlink", a, unlink(a));
		break;
	case 3: {
		unsigned flags = chance(w, 60) ? 0 : chance(w, 50) ? RENAME_NOREPLACE : RENAME_EXCHANGE;

		if (chance(w, 25)) {
			sh_dir(w, a);
			sh_dir(w, b);
		} else {
			sh_file(w, a);
			sh_file(w, b);
		}
		race(w, "shared rename", a, renameat2(AT_FDCWD, a, AT_FDCWD, b, flags));
		break;
	}
	case 4:
		sh_file(w, a);
		sh_file(w, b);
		race(w, "shared link", a, link(a, b));
		break;
	case 5:
		sh_dir(w, a);
		race(w, "shared mkdir", a, mkdir(a, 0755));
		break;
	case 6:
		sh_dir(w, a);
		race(w, "shared rmdir", a, rmdir(a));
		break;
	case 7: case 8: {                          /* block writes */
		size_t nb = 1 + (size_t)below(w, 8), blk = (size_t)below(w, SH_BLOCKS - nb);
		uint64_t tag = w->tag++;

		sh_file(w, a);
		fd = open(a, O_WRONLY | O_CREAT, 0644);
		race(w, "shared open", a, fd);
		if (fd < 0)
			break;
		for (size_t i = 0; i < nb; i++) {
			uint8_t *p = w->buf + i * SH_BLK;
			uint64_t at = (blk + i) * SH_BLK;

			gen(p, SH_BLK, tag, at);
			memcpy(p, "NVFSLOAD", 8);
			memcpy(p + 8, &at, 8);
			memcpy(p + 16, &tag, 8);
		}
		race(w, "shared write", a, pwrite(fd, w->buf, nb * SH_BLK,
						  (off_t)(blk * SH_BLK)) < 0 ? -1 : 0);
		if (chance(w, 20))
			race(w, "shared fsync", a, chance(w, 50) ? fsync(fd) : fdatasync(fd));
		close(fd);
		break;
	}
	case 9: {                                  /* block reads */
		ssize_t n;

		sh_file(w, a);
		fd = open(a, O_RDONLY);
		race(w, "shared open", a, fd);
		if (fd < 0)
			break;
		n = pread(fd, w->buf, SH_BLOCKS * SH_BLK, 0);
		race(w, "shared read", a, n < 0 ? -1 : 0);
		if (n > 0)
			sh_check(w, a, w->buf, (size_t)n, 0);
		close(fd);
		break;
	}
	case 10:
		sh_file(w, a);
		race(w, "shared truncate", a, truncate(a, (off_t)(below(w, SH_BLOCKS) * SH_BLK)));
		break;
	case 11: {
		int flags = chance(w, 50) ? 0 : chance(w, 50) ? XATTR_CREATE : XATTR_REPLACE;
		char xn[16];

		sh_file(w, a);
		xname((int)below(w, 2), xn);
		race(w, "shared setxattr", a, setxattr(a, xn, "value", 5, flags));
		break;
	}
	case 12: {
		char xn[16], v[64];

		sh_file(w, a);
		xname((int)below(w, 2), xn);
		if (chance(w, 70))
			race(w, "shared getxattr", a, getxattr(a, xn, v, sizeof(v)) < 0 ? -1 : 0);
		else
			race(w, "shared removexattr", a, removexattr(a, xn));
		break;
	}
	case 13: {
		struct stat st;

		sh_file(w, a);
		race(w, "shared stat", a, stat(a, &st));
		break;
	}
	default: {
		DIR *dp;

		if (chance(w, 50))
			snprintf(a, sizeof(a), "%s", w->shared);
		else
			sh_dir(w, a);
		dp = opendir(a);
		race(w, "shared opendir", a, dp ? 0 : -1);
		if (dp) {
			errno = 0;
			while (readdir(dp))
				;
			race(w, "shared readdir", a, errno ? -1 : 0);
			closedir(dp);
		}
	}
	}
}

/* ---- the final check of a tree ---------------------------------------------- */

/*
 * verify_tree -- w<k> against the model in w (objects with data, or only
 * their hash from a manifest); the mismatches found (each reported)
 */
static uint64_t
verify_tree(struct worker *w)
{
	uint64_t before = w->unexpected;
	bool seen[NPATHS] = { false };
	char path[PATH_MAX], n[16];
	int e;

	w->stopped = false;
	e = list_dir(w, w->root, -1, seen);
	if (e)
		fail(w, "verify", w->root, "opendir: %s", ename(e));
	for (int d = 0; d < NDIRS; d++) {
		if (w->s[d].type == 'd') {
			e = list_dir(w, full(w, d, path), d, seen);
			if (e)
				fail(w, "verify", path, "opendir: %s", ename(e));
		}
	}
	for (int i = 0; i < MAXOBJ; i++)
		w->o[i].ino = 0;
	for (int p = 0; p < NPATHS; p++) {
		struct stat st;

		full(w, p, path);
		if ((w->s[p].type != 0) != seen[p]) {
			fail(w, "verify", path, "%s", seen[p] ? "exists, the model has no such name" :
			     "is missing");
			continue;
		}
		if (!w->s[p].type)
			continue;
		if (lstat(path, &st) != 0) {
			fail(w, "verify", path, "lstat: %s", ename(errno));
			continue;
		}
		if (is_dir(p)) {
			if (!S_ISDIR(st.st_mode) || (st.st_mode & 07777) != w->s[p].mode ||
			    (int)st.st_nlink != dir_links(w, p))
				fail(w, "verify", path, "expected a directory, mode 0%o, %d links; "
				     "got mode 0%o, %ju links", (unsigned)w->s[p].mode,
				     dir_links(w, p), (unsigned)st.st_mode, (uintmax_t)st.st_nlink);
			continue;
		}
		struct obj *o = &w->o[w->s[p].obj];
		char list[1024];
		ssize_t ln;
		int fd;

		if (!check_stat(w, "verify", path, &st, o))
			continue;
		if (o->ino == 0)
			o->ino = st.st_ino;
		else if (o->ino != st.st_ino)
			fail(w, "verify", path, "a hard link of inode %ju, but it is inode %ju",
			     (uintmax_t)o->ino, (uintmax_t)st.st_ino);
		fd = open(path, O_RDONLY);
		if (fd < 0) {
			fail(w, "verify", path, "open: %s", ename(errno));
			continue;
		}
		ssize_t got = pread_all(fd, w->buf, MAXSZ + 1, 0);

		if (!o->hashed) {
			check_data(w, "verify", path, o, w->buf, got, 0, MAXSZ + 1);
		} else if (got != (ssize_t)o->size || fnv(w->buf, (size_t)got) != o->hash) {
			fail(w, "verify", path, "content: %zd bytes, hash %016" PRIx64
			     "; expected %zu bytes, hash %016" PRIx64, got,
			     got < 0 ? 0 : fnv(w->buf, (size_t)got), o->size, o->hash);
		}
		for (int k = 0; k < NXATTR; k++)
			check_xattr(w, path, fd, o, k);
		ln = flistxattr(fd, list, sizeof(list));
		if (ln < 0) {
			fail(w, "verify", path, "listxattr: %s", ename(errno));
		} else {
			for (char *s = list; s < list + ln; s += strlen(s) + 1) {
				int k = -1;

				if (strncmp(s, "user.", 5) != 0)
					continue;
				for (int j = 0; j < NXATTR; j++) {
					char xn[16];

					xname(j, xn);
					if (!strcmp(s, xn))
						k = j;
				}
				if (k < 0 || !o->x[k].set)
					fail(w, "verify", path, "lists xattr %s, not in the model", s);
			}
		}
		close(fd);
	}
	(void)n;
	return w->unexpected - before;
}

/* ---- manifests ---------------------------------------------------------------- */

/*
 * Format (text, one record a line):
 *   nvfs-load-manifest 1 JOBS
 *   W k                               worker k follows
 *   D p mode                          directory at path index p
 *   F p obj                           file at path index p, object obj
 *   O obj size mode nlink hash mtime_sec mtime_nsec|-1
 *   X obj k hexvalue|-                user.x<k> (- : empty value)
 */
static void
write_manifest(struct worker *ws, unsigned n, const char *file)
{
	FILE *f = fopen(file, "w");

	if (!f)
		die("%s: %s", file, strerror(errno));
	fprintf(f, "nvfs-load-manifest 1 %u\n", n);
	for (unsigned k = 0; k < n; k++) {
		struct worker *w = &ws[k];

		fprintf(f, "W %u\n", k);
		for (int p = 0; p < NPATHS; p++)
			if (w->s[p].type == 'd')
				fprintf(f, "D %d %o\n", p, (unsigned)w->s[p].mode);
			else if (w->s[p].type == 'f')
				fprintf(f, "F %d %d\n", p, w->s[p].obj);
		for (int i = 0; i < MAXOBJ; i++) {
			struct obj *o = &w->o[i];

			if (!o->used || o->nlink == 0)
				continue;
			fprintf(f, "O %d %zu %o %d %016" PRIx64 " %jd %ld\n", i, o->size,
				(unsigned)o->mode, o->nlink, fnv(o->data, o->size),
				(intmax_t)o->mtime.tv_sec, o->mtime_known ? o->mtime.tv_nsec : -1L);
			for (int x = 0; x < NXATTR; x++) {
				if (!o->x[x].set)
					continue;
				fprintf(f, "X %d %d ", i, x);
				if (!o->x[x].len)
					fputc('-', f);
				for (unsigned j = 0; j < o->x[x].len; j++)
					fprintf(f, "%02x", o->x[x].val[j]);
				fputc('\n', f);
			}
		}
	}
	if (fclose(f) != 0)
		die("%s: %s", file, strerror(errno));
}

static unsigned
read_manifest(struct worker *ws, const char *file)
{
	FILE *f = fopen(file, "r");
	char line[2 * XVAL_MAX + 64];
	unsigned n = 0, lineno = 1;
	struct worker *w = NULL;

	if (!f)
		die("%s: %s", file, strerror(errno));
	if (!fgets(line, sizeof(line), f) || sscanf(line, "nvfs-load-manifest 1 %u", &n) != 1 ||
	    n == 0 || n > MAX_JOBS)
		die("%s: not an nvfs_load manifest", file);
	while (fgets(line, sizeof(line), f)) {
		int p, i, x, nl, nr;
		unsigned k, mode;
		size_t size;
		uint64_t hash;
		intmax_t sec;
		long nsec;
		char hex[2 * XVAL_MAX + 4];

		lineno++;
		if (sscanf(line, "W %u", &k) == 1 && k < n) {
			w = &ws[k];
		} else if (w && sscanf(line, "D %d %o", &p, &mode) == 2 && p >= 0 && p < NDIRS) {
			w->s[p].type = 'd';
			w->s[p].mode = mode;
		} else if (w && sscanf(line, "F %d %d", &p, &i) == 2 && p >= NDIRS && p < NPATHS &&
			   i >= 0 && i < MAXOBJ) {
			w->s[p].type = 'f';
			w->s[p].obj = i;
		} else if (w && (nr = sscanf(line, "O %d %zu %o %d %" SCNx64 " %jd %ld", &i, &size,
					     &mode, &nl, &hash, &sec, &nsec)) == 7 &&
			   i >= 0 && i < MAXOBJ) {
			struct obj *o = &w->o[i];

			o->used = true;
			o->size = size;
			o->mode = mode;
			o->nlink = nl;
			o->hash = hash;
			o->hashed = true;
			o->mtime_known = nsec >= 0;
			o->mtime.tv_sec = (time_t)sec;
			o->mtime.tv_nsec = nsec;
		} else if (w && sscanf(line, "X %d %d %s", &i, &x, hex) == 3 && i >= 0 &&
			   i < MAXOBJ && x >= 0 && x < NXATTR) {
			struct xattr *xa = &w->o[i].x[x];
			size_t len = strcmp(hex, "-") ? strlen(hex) / 2 : 0;

			xa->set = true;
			xa->len = (uint16_t)len;
			for (size_t j = 0; j < len && j < XVAL_MAX; j++) {
				unsigned v;

				sscanf(hex + 2 * j, "%2x", &v);
				xa->val[j] = (uint8_t)v;
			}
		} else {
			die("%s:%u: bad line", file, lineno);
		}
	}
	fclose(f);
	return n;
}

/* ---- workers -------------------------------------------------------------- */

static enum op
pick_op(struct worker *w)
{
	static unsigned total;
	unsigned r;

	if (!total)
		for (int i = 0; i < NR_OPS; i++)
			__atomic_add_fetch(&total, Ops[i].weight, __ATOMIC_RELAXED);
	r = (unsigned)below(w, __atomic_load_n(&total, __ATOMIC_RELAXED));
	for (int i = 0; i < NR_OPS; i++) {
		if (r < Ops[i].weight)
			return (enum op)i;
		r -= Ops[i].weight;
	}
	return OP_STAT;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	double t0 = now();

	while (!w->stopped) {
		enum op op;

		if ((w->ops & 15) == 0 && now() >= G.deadline)
			break;
		op = pick_op(w);
		w->ops++;
		w->count[op]++;
		switch (op) {
		case OP_CREATE:      p_create(w, false); break;
		case OP_CREAT_TRUNC: p_create(w, true); break;
		case OP_WRITE:       p_write(w, false); break;
		case OP_APPEND:      p_write(w, true); break;
		case OP_TRUNCATE:    p_truncate(w); break;
		case OP_FSYNC:       p_fsync(w); break;
		case OP_FSYNCDIR:    p_fsyncdir(w); break;
		case OP_MMAP:        p_mmap(w); break;
		case OP_READ:        p_read(w); break;
		case OP_STAT:        p_stat(w); break;
		case OP_READDIR:     p_readdir(w); break;
		case OP_MKDIR:       p_mkdir(w); break;
		case OP_RMDIR:       p_rmdir(w); break;
		case OP_RENAME:      p_rename(w); break;
		case OP_LINK:        p_link(w); break;
		case OP_UNLINK:      p_unlink(w); break;
		case OP_SETXATTR:    p_setxattr(w); break;
		case OP_GETXATTR:    p_getxattr(w); break;
		case OP_RMXATTR:     p_rmxattr(w); break;
		case OP_CHMOD:       p_chmod(w); break;
		case OP_UTIMENS:     p_utimens(w); break;
		case OP_HELD:        p_held(w); break;
		case OP_CROSS:       p_cross(w); break;
		case OP_SHARED:      shared_op(w); break;
		case NR_OPS:         break;
		}
	}
	w->secs = now() - t0;
	if (w->stopped) {
		pthread_mutex_lock(&G.out_lock);
		fprintf(stderr, PROG ": w%d: stopped at op %" PRIu64 " (its model no longer "
			"describes %s)\n", w->id, w->ops, w->root);
		pthread_mutex_unlock(&G.out_lock);
	}
	for (int i = 0; i < NHELD; i++) {
		if (w->h[i].fd < 0)
			continue;
		if (close(w->h[i].fd) != 0)
			report(w, "held close", w->root, "%s", ename(errno));
		w->h[i].fd = -1;
		w->o[w->h[i].obj].held--;
		obj_put(w, w->h[i].obj);
	}
	return NULL;
}

static void
worker_init(struct worker *w, unsigned k, const char *dir)
{
	memset(w, 0, sizeof(*w));
	w->id = (int)k;
	w->rng = splitmix(G.seed + k * 0x1000193ULL);
	w->tag = ((uint64_t)k << 48) ^ (G.seed << 8);
	snprintf(w->root, sizeof(w->root), "%s/w%u", dir, k);
	snprintf(w->shared, sizeof(w->shared), "%s/shared", dir);
	for (int i = 0; i < NHELD; i++)
		w->h[i].fd = -1;
	w->buf = malloc(MAXSZ + 8192);
	if (!w->buf)
		die("out of memory");
}

static uint64_t
parse_num(const char *opt, const char *s)
{
	char *end;
	uint64_t v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-')
		die("%s: '%s' is not a number\n%s", opt, s, USAGE);
	return v;
}

static int
verify_main(const char *manifest, const char *dir)
{
	static struct worker ws[MAX_JOBS];
	unsigned n;
	uint64_t bad = 0;

	for (unsigned k = 0; k < MAX_JOBS; k++)
		worker_init(&ws[k], k, dir);
	n = read_manifest(ws, manifest);
	for (unsigned k = 0; k < n; k++) {
		uint64_t b = verify_tree(&ws[k]);

		printf(PROG ": verify w%u: %s (%" PRIu64 " mismatches)\n", k, b ? "FAILED" : "OK", b);
		bad += b;
	}
	printf(PROG ": verify %s: %u trees, %" PRIu64 " mismatches, %s\n", dir, n, bad,
	       bad ? "FAILED" : "OK");
	return bad ? 1 : 0;
}

int
main(int argc, char **argv)
{
	static struct worker ws[MAX_JOBS];
	const char *verify = NULL;
	uint64_t total = 0, bad = 0, counts[NR_OPS] = { 0 }, races[5] = { 0 }, sh = 0;
	struct stat st;
	char path[PATH_MAX];
	double secs;
	int c;
	bool seeded = false;

	while ((c = getopt(argc, argv, ":j:t:S:m:V:X")) != -1) {
		switch (c) {
		case 'j':
			G.jobs = (unsigned)parse_num("-j", optarg);
			if (G.jobs < 1 || G.jobs > MAX_JOBS)
				die("-j: JOBS must be 1 to %d\n%s", MAX_JOBS, USAGE);
			break;
		case 't':
			G.secs = (double)parse_num("-t", optarg);
			break;
		case 'S':
			G.seed = parse_num("-S", optarg);
			seeded = true;
			break;
		case 'm': G.manifest = optarg; break;
		case 'V': verify = optarg; break;
		case 'X': G.corrupt = true; break;
		case ':': die("option -%c needs a value\n%s", optopt, USAGE);
		default:  die("unknown option '-%c'\n%s", optopt, USAGE);
		}
	}
	if (optind != argc - 1)
		die("%s\n%s", optind < argc ? "too many arguments" : "missing DIR argument", USAGE);
	G.dir = argv[optind];
	if (stat(G.dir, &st) != 0)
		die("%s: %s", G.dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		die("%s: not a directory", G.dir);
	umask(0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (verify)
		return verify_main(verify, G.dir);
	if (!seeded)
		G.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
	snprintf(path, sizeof(path), "%s/shared", G.dir);
	if (mkdir(path, 0755) != 0)
		die("%s: %s (DIR must not hold a previous run)", path, strerror(errno));
	for (unsigned k = 0; k < G.jobs; k++) {
		worker_init(&ws[k], k, G.dir);
		if (mkdir(ws[k].root, 0755) != 0)
			die("%s: %s", ws[k].root, strerror(errno));
	}
	printf(PROG ": seed %" PRIu64 ", %u workers, %.0f s, in %s\n", G.seed, G.jobs, G.secs,
	       G.dir);
	G.deadline = now() + G.secs;
	for (unsigned k = 0; k < G.jobs; k++)
		if ((errno = pthread_create(&ws[k].thread, NULL, worker_main, &ws[k])) != 0)
			die("pthread_create: %s", strerror(errno));
	for (unsigned k = 0; k < G.jobs; k++)
		pthread_join(ws[k].thread, NULL);
	secs = now() - (G.deadline - G.secs);
	if (G.corrupt) {                /* the self-test: a byte of a model changes */
		struct worker *w = &ws[0];
		int i;

		for (i = 0; i < MAXOBJ && !(w->o[i].used && w->o[i].nlink && w->o[i].size); i++)
			;
		if (i == MAXOBJ) {              /* none with data: a name more */
			int p = NDIRS;

			while (p < NDIRS + NFILES - 1 && w->s[p].type)
				p++;
			w->s[p].type = 'f';
			w->s[p].obj = obj_new(w, 0644);
		} else {
			w->o[i].data[w->o[i].size / 2] ^= 0x5a;
		}
		printf(PROG ": -X: the model of w0 corrupted\n");
	}
	for (unsigned k = 0; k < G.jobs; k++) {
		struct worker *w = &ws[k];
		bool stopped = w->stopped;
		uint64_t b = 0;

		if (!stopped)
			b = verify_tree(w);
		else
			w->stopped = true;
		printf(PROG ": w%u: %" PRIu64 " ops (%.0f ops/s), %" PRIu64 " unexpected, "
		       "tree %s; shared %" PRIu64 " ops, races ENOENT %" PRIu64 " EEXIST %"
		       PRIu64 " ENOTEMPTY %" PRIu64 " ENODATA %" PRIu64 "\n", k, w->ops,
		       w->ops / (w->secs > 0 ? w->secs : 1), w->unexpected,
		       stopped ? "not checked (stopped)" : b ? "FAILED" : "verified",
		       w->sh_ops, w->races[0], w->races[1], w->races[2], w->races[3]);
		total += w->ops;
		bad += w->unexpected;
		sh += w->sh_ops;
		for (int i = 0; i < NR_OPS; i++)
			counts[i] += w->count[i];
		for (int i = 0; i < 5; i++)
			races[i] += w->races[i];
	}
	printf(PROG ": counts:");
	for (int i = 0; i < NR_OPS; i++)
		printf(" %s %" PRIu64, Ops[i].name, counts[i]);
	printf("\n");
	if (G.manifest && !G.corrupt)
		write_manifest(ws, G.jobs, G.manifest);
	printf(PROG ": TOTAL ops=%" PRIu64 " ops/s=%.0f unexpected=%" PRIu64 " seed=%" PRIu64
	       " %s\n", total, total / (secs > 0 ? secs : 1), bad, G.seed, bad ? "FAILED" : "OK");
	(void)sh;
	(void)races;
	return bad ? 1 : 0;
}
