/* SPDX-License-Identifier: MIT */
/*
 * nvfs_fsx.c -- nvfs_fsx: a random-operation model checker for a file
 * system, after fsx (the File System eXerciser of BSD and xfstests).
 *
 *     nvfs_fsx [-N OPS] [-S SEED] [-l MAXLEN] [-o MAXOPLEN] [-f NFILES] DIR
 *
 * It creates (or truncates) the files DIR/fsx.0 ... DIR/fsx.<NFILES-1>,
 * keeps in memory a model of each -- its bytes and its size -- and does OPS
 * random operations on them.  Every choice (operation, file, offset, length,
 * mode, data) comes from one pseudo-random sequence seeded with SEED, so a
 * seed replays the same run on the same kind of file system.  Each operation
 * is applied to the file and to the model, and what the file returns is
 * compared with the model:
 *
 *   read      pread, compared; 1 in 8 reads start anywhere below MAXLEN, so
 *             reads across and past EOF come often (a short read must end
 *             exactly at EOF)
 *   write     pwrite of pseudo-random bytes anywhere below MAXLEN (a write
 *             past EOF leaves a hole that must read as zeros)
 *   append    write through a second descriptor opened with O_APPEND: the
 *             data must land at the model's EOF
 *   truncate  ftruncate to a random size up to MAXLEN: shrinks and extends
 *   mapread   mmap(PROT_READ) of a range inside the file, compared; when the
 *             range ends in the file's last, partial page, the rest of that
 *             page (past EOF) must read as zeros
 *   mapwrite  stores through mmap(PROT_WRITE, MAP_SHARED), then
 *             msync(MS_SYNC); a range past EOF first extends the file with
 *             ftruncate, since a store past EOF is lost or faults
 *   falloc    fallocate(0 or FALLOC_FL_KEEP_SIZE): data unchanged, the size
 *             grows only without KEEP_SIZE
 *   punch     fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE): zeros
 *   zero      fallocate(FALLOC_FL_ZERO_RANGE, with or without KEEP_SIZE)
 *   copy      copy_file_range between two of the files (or two disjoint
 *             ranges of one), looped until done or EOF of the source
 *   fsync     fsync or fdatasync
 *   reopen    close both descriptors of a file and open them again
 *
 * After each operation fstat must give the model's size for the files it
 * changed.  Every 1000 operations, and at the end, each file is checked whole
 * through a fresh descriptor (fstat size, then read to EOF).  falloc, punch,
 * zero and copy are disabled for the rest of the run the first time they fail
 * with EOPNOTSUPP (or ENOSYS; EXDEV for copy), which is said once; the
 * choices of the other operations stay the same for a seed on a file system.
 *
 * Options:
 *   -N OPS       operations to do (default 10000)
 *   -S SEED      the seed (default: from the clock and the pid); always
 *                printed first
 *   -l MAXLEN    the files never grow beyond MAXLEN bytes (default 256k)
 *   -o MAXOPLEN  the longest read, write, copy or fallocate (default 64k,
 *                at most MAXLEN)
 *   -f NFILES    files, 1 to 16 (default 2)
 *   -X OP        self-test, not for normal use: after operation OP, corrupt
 *                the model of the largest file (flip a byte; an empty file
 *                is given a byte it does not have) and check the files at
 *                once, so the run must fail at OP
 * Sizes take a k, m or g suffix (powers of 1024).
 *
 * Output: on stdout the parameters with the seed, a progress line every
 * 5000 operations, a line for each operation disabled as unsupported, and
 * at the end "nvfs_fsx: N ops, seed S, OK" and the count of each operation.
 * On the first mismatch, or an error the file system should not give, on
 * stderr: the seed and the operation number, the operation, the first
 * differing byte with its expected and actual values, the last 30 operations
 * (those that wrote the differing byte, or changed the size, marked '*') and
 * a command that replays the run up to that operation.
 *
 * The files are left in DIR.  Exit status: 0 every check passed; 1 a
 * mismatch or an unexpected error from the file system; 2 a usage or setup
 * error (one line on stderr).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PROG "nvfs_fsx"
#define USAGE "usage: " PROG " [-N OPS] [-S SEED] [-l MAXLEN] [-o MAXOPLEN] " \
	"[-f NFILES] DIR"

#define MAX_FILES       16
#define HISTORY         30      /* operations shown on a failure */
#define CHECK_EVERY     1000    /* whole-file checks */
#define PROGRESS_EVERY  5000
#define MAX_MAXLEN      (1ULL << 30)    /* the models live in memory */

enum op {
	OP_READ, OP_WRITE, OP_APPEND, OP_TRUNCATE, OP_MAPREAD, OP_MAPWRITE,
	OP_FALLOC, OP_PUNCH, OP_ZERO, OP_COPY, OP_FSYNC, OP_REOPEN,
	NR_RANDOM_OPS,
	/* not chosen at random, but recorded and counted like the others */
	OP_CHECK = NR_RANDOM_OPS, OP_CORRUPT,
	NR_OPS
};

/*
 * The weights favour the data operations, which find the bugs; fsync and
 * reopen are cheap natively but round trips through FUSE, and rarer.
 */
static const struct {
	const char *name;
	unsigned weight;
} Ops[NR_OPS] = {
	[OP_READ] = { "read", 12 },
	[OP_WRITE] = { "write", 12 },
	[OP_APPEND] = { "append", 4 },
	[OP_TRUNCATE] = { "truncate", 4 },
	[OP_MAPREAD] = { "mapread", 6 },
	[OP_MAPWRITE] = { "mapwrite", 6 },
	[OP_FALLOC] = { "falloc", 2 },
	[OP_PUNCH] = { "punch", 2 },
	[OP_ZERO] = { "zero", 2 },
	[OP_COPY] = { "copy", 4 },
	[OP_FSYNC] = { "fsync", 2 },
	[OP_REOPEN] = { "reopen", 1 },
	[OP_CHECK] = { "check", 0 },
	[OP_CORRUPT] = { "corrupt", 0 },
};

/* one file and its model */
struct file {
	char *path;
	int fd;                 /* O_RDWR */
	int afd;                /* O_WRONLY | O_APPEND */
	unsigned char *model;   /* MAXLEN bytes, zeros past size */
	uint64_t size;
};

/* one operation as done, for the history */
struct oprec {
	uint64_t n;             /* the operation number (checks: the last one's) */
	enum op op;
	unsigned f;             /* the file (copy: the source) */
	unsigned f2;            /* copy: the destination */
	uint64_t off, len;      /* the range asked for (copy: the source's) */
	uint64_t off2;          /* copy: the destination offset */
	uint64_t size0, size1;  /* size of the changed file before and after */
	int mode;               /* falloc, zero: KEEP_SIZE; fsync: datasync */
	uint64_t done;          /* bytes read, written or copied */
	bool skipped;           /* nothing to do (empty file, full file) */
};

/* the first difference found, for the report */
struct diff {
	unsigned f;
	uint64_t off;           /* in the file; UINT64_MAX: the size differs */
	unsigned expected, actual;
	uint64_t ndiff;         /* differing bytes in the range compared */
	uint64_t last;          /* the last differing byte's offset */
};

struct fsx {
	const char *argv0, *dir;
	uint64_t nops, seed, maxlen, maxoplen;
	uint64_t corrupt_at;    /* -X; 0 for none */
	unsigned nfiles;
	uint64_t pagesize;
	struct file files[MAX_FILES];
	unsigned char *rbuf;    /* MAXLEN + a page: reads, whole files (and
				 * one byte more), a last page's tail */
	unsigned char *wbuf;    /* MAXOPLEN: data to write */
	uint64_t rng;           /* the one pseudo-random sequence */
	uint64_t n;             /* the current operation's number */
	bool disabled[NR_OPS];
	uint64_t count[NR_OPS];
	uint64_t skipped[NR_OPS];
	struct oprec hist[HISTORY];
	uint64_t nhist;         /* records made; the newest at (nhist-1) % HISTORY */
	struct timespec t0;
};

/* ---- messages --------------------------------------------------------- */

/* die -- a usage or setup error: one line on stderr, exit 2 */
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

/* fname -- a file's name as shown: the base name, DIR is printed once */
static const char *
fname(const struct fsx *x, unsigned f)
{
	const char *s = strrchr(x->files[f].path, '/');

	return s ? s + 1 : x->files[f].path;
}

/* fmt_op -- one history line for r (without the marker) */
static void
fmt_op(const struct fsx *x, const struct oprec *r, char *s, size_t sz)
{
	int k = snprintf(s, sz, "%7" PRIu64 " %-8s %s", r->n, Ops[r->op].name,
			fname(x, r->f));

	if (k < 0 || (size_t)k >= sz)
		return;
	s += k;
	sz -= (size_t)k;
	switch (r->op) {
	case OP_READ:
	case OP_MAPREAD:
		snprintf(s, sz, " 0x%" PRIx64 " len 0x%" PRIx64 " size 0x%" PRIx64
			 "%s", r->off, r->len, r->size0,
			 r->skipped ? " (empty file, skipped)" : "");
		break;
	case OP_WRITE:
	case OP_APPEND:
	case OP_MAPWRITE:
	case OP_FALLOC:
	case OP_PUNCH:
	case OP_ZERO:
		snprintf(s, sz, " 0x%" PRIx64 " len 0x%" PRIx64 "%s size 0x%" PRIx64
			 " -> 0x%" PRIx64 "%s", r->off, r->len,
			 (r->op == OP_FALLOC || r->op == OP_ZERO) && r->mode ?
			 " keep_size" : "", r->size0, r->size1,
			 r->skipped ? " (file full, skipped)" : "");
		break;
	case OP_TRUNCATE:
		snprintf(s, sz, " 0x%" PRIx64 " -> 0x%" PRIx64, r->size0, r->size1);
		break;
	case OP_COPY:
		snprintf(s, sz, " 0x%" PRIx64 " -> %s 0x%" PRIx64 " len 0x%" PRIx64
			 " copied 0x%" PRIx64 " size 0x%" PRIx64 " -> 0x%" PRIx64,
			 r->off, fname(x, r->f2), r->off2, r->len, r->done,
			 r->size0, r->size1);
		break;
	case OP_FSYNC:
		snprintf(s, sz, "%s", r->mode ? " (fdatasync)" : "");
		break;
	case OP_CHECK:
		snprintf(s, sz, " size 0x%" PRIx64 " (whole file)", r->size0);
		break;
	case OP_CORRUPT:
		snprintf(s, sz, " 0x%" PRIx64 " size 0x%" PRIx64 " -> 0x%" PRIx64
			 " (model only, -X)", r->off, r->size0, r->size1);
		break;
	case OP_REOPEN:
	case NR_OPS:
		break;
	}
}

/*
 * touches -- whether r may explain a difference in file f at off (off
 * UINT64_MAX: in its size), to point at the likely culprits in the history
 */
static bool
touches(const struct oprec *r, unsigned f, uint64_t off)
{
	unsigned dst = r->op == OP_COPY ? r->f2 : r->f;
	uint64_t lo, hi;

	if (dst != f || r->skipped)
		return false;
	if (off == UINT64_MAX)
		return r->size0 != r->size1;
	switch (r->op) {
	case OP_WRITE:
	case OP_MAPWRITE:
	case OP_PUNCH:
	case OP_ZERO:
	case OP_CORRUPT:
		lo = r->off;
		hi = r->off + r->len;
		break;
	case OP_APPEND:
		lo = r->size0;
		hi = r->size1;
		break;
	case OP_COPY:
		lo = r->off2;
		hi = r->off2 + r->done;
		break;
	case OP_TRUNCATE:
		lo = r->size0 < r->size1 ? r->size0 : r->size1;
		hi = r->size0 < r->size1 ? r->size1 : r->size0;
		break;
	default:
		return false;
	}
	/* an extension's new bytes are zeros: it may have put them there */
	if (r->size1 > r->size0 && off >= r->size0 && off < r->size1)
		return true;
	return off >= lo && off < hi;
}

/* put_quoted -- s on f, single-quoted for sh if it needs it */
static void
put_quoted(FILE *f, const char *s)
{
	const char *p;

	if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		   "0123456789_./-=:,+@%") == strlen(s)) {
		fputs(s, f);
		return;
	}
	fputc('\'', f);
	for (p = s; *p; p++) {
		if (*p == '\'')
			fputs("'\\''", f);
		else
			fputc(*p, f);
	}
	fputc('\'', f);
}

/*
 * fail -- the run failed at the current operation: print the operation,
 * the difference d (if any), the history and how to replay, and exit 1
 */
static void __attribute__((noreturn, format(printf, 3, 4)))
fail(struct fsx *x, const struct diff *d, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	uint64_t i, first;

	fflush(stdout);
	fprintf(stderr, PROG ": FAILED at op %" PRIu64 " of %" PRIu64 ", seed %"
		PRIu64 ", DIR ", x->n, x->nops, x->seed);
	put_quoted(stderr, x->dir);
	fputc('\n', stderr);
	if (x->nhist) {
		fmt_op(x, &x->hist[(x->nhist - 1) % HISTORY], line, sizeof(line));
		fprintf(stderr, PROG ": op %s\n", line);
	}
	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (d && d->off == UINT64_MAX)
		fprintf(stderr, PROG ": MISMATCH: %s size: expected 0x%" PRIx64
			", actual 0x%" PRIx64 "\n", fname(x, d->f),
			(uint64_t)d->expected, (uint64_t)d->actual);
	else if (d)
		fprintf(stderr, PROG ": MISMATCH: %s first differing byte at offset "
			"0x%" PRIx64 ": expected 0x%02x, actual 0x%02x (%" PRIu64
			" byte(s) differ, the last at 0x%" PRIx64 ")\n", fname(x, d->f),
			d->off, d->expected, d->actual, d->ndiff, d->last);

	first = x->nhist > HISTORY ? x->nhist - HISTORY : 0;
	fprintf(stderr, PROG ": the last %" PRIu64 " ops, oldest first%s:\n",
		x->nhist - first, d ? (d->off == UINT64_MAX ?
		" ('*': changed that file's size)" : " ('*': wrote that byte)") : "");
	for (i = first; i < x->nhist; i++) {
		const struct oprec *r = &x->hist[i % HISTORY];

		fmt_op(x, r, line, sizeof(line));
		fprintf(stderr, "%c%s\n", d && touches(r, d->f, d->off) ? '*' : ' ',
			line);
	}
	fprintf(stderr, PROG ": reproduce: %s -N %" PRIu64 " -S %" PRIu64 " -l %"
		PRIu64 " -o %" PRIu64 " -f %u", x->argv0, x->n, x->seed,
		x->maxlen, x->maxoplen, x->nfiles);
	if (x->corrupt_at)
		fprintf(stderr, " -X %" PRIu64, x->corrupt_at);
	fputc(' ', stderr);
	put_quoted(stderr, x->dir);
	fputc('\n', stderr);
	exit(1);
}

/* fail_sys -- the current operation's system call failed unexpectedly */
static void __attribute__((noreturn))
fail_sys(struct fsx *x, const char *call)
{
	int e = errno;

	fail(x, NULL, "ERROR: %s: %s (errno %d)", call, strerror(e), e);
}

/* ---- pseudo-random numbers -------------------------------------------- */

/*
 * splitmix64 -- the next number of the sequence at *s.  Any seed, 0
 * included, gives a full-period sequence, and the generator is a few
 * instructions: data for 100000 writes costs nothing next to the I/O.
 */
static uint64_t
splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* rnd -- uniform in [0, n), 0 for n 0 (multiply-shift: no modulo bias) */
static uint64_t
rnd(struct fsx *x, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)splitmix64(&x->rng) * n) >> 64);
}

/*
 * fill -- len pseudo-random bytes into x->wbuf.  They come from a sequence
 * of their own, seeded from the main one, so the main sequence advances by
 * one number whatever the length.
 */
static void
fill(struct fsx *x, uint64_t len)
{
	uint64_t s = splitmix64(&x->rng), v;
	uint64_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		v = splitmix64(&s);
		memcpy(x->wbuf + i, &v, 8);
	}
	if (i < len) {
		v = splitmix64(&s);
		memcpy(x->wbuf + i, &v, len - i);
	}
}

/* ---- I/O that retries what the kernel may legitimately split ------------ */

/* pread_all -- pread until len bytes or EOF: the bytes read, or -1 */
static ssize_t
pread_all(int fd, unsigned char *b, uint64_t len, uint64_t off)
{
	uint64_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pread(fd, b + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		done += (uint64_t)n;
	}
	return (ssize_t)done;
}

/*
 * write_all -- pwrite (off >= 0) or write (off < 0, the O_APPEND
 * descriptor) of all len bytes: 0, or -1 with errno (EIO for a write that
 * makes no progress)
 */
static int
write_all(int fd, const unsigned char *b, uint64_t len, int64_t off)
{
	uint64_t done = 0;
	ssize_t n;

	while (done < len) {
		n = off < 0 ? write(fd, b + done, len - done) :
			pwrite(fd, b + done, len - done, (off_t)((uint64_t)off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		done += (uint64_t)n;
	}
	return 0;
}

/*
 * A store to or load from a mapping past the file's EOF raises SIGBUS.
 * The checker must not die of it silently: map_copy catches it, so that a
 * file system that loses size or pages shows as a failed operation.
 */
static sigjmp_buf Bus_jmp;
static volatile sig_atomic_t In_map;

/* on_sigbus -- back into map_copy, or the default action outside it */
static void
on_sigbus(int sig)
{
	if (In_map)
		siglongjmp(Bus_jmp, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* map_copy -- memcpy that returns -1 on SIGBUS (no locals change after setjmp) */
static int
map_copy(void *dst, const void *src, size_t len)
{
	if (sigsetjmp(Bus_jmp, 1)) {
		In_map = 0;
		return -1;
	}
	In_map = 1;
	memcpy(dst, src, len);
	In_map = 0;
	return 0;
}

/* ---- checks ----------------------------------------------------------- */

/*
 * compare -- got (len bytes read from file f at off) against the model;
 * fails the run at the first difference, naming what read it
 */
static void
compare(struct fsx *x, unsigned f, uint64_t off, const unsigned char *got,
	uint64_t len, const char *what)
{
	const unsigned char *m = x->files[f].model + off;
	struct diff d = { .f = f };
	uint64_t i;

	if (memcmp(m, got, len) == 0)
		return;
	for (i = 0; i < len; i++) {
		if (m[i] == got[i])
			continue;
		if (!d.ndiff) {
			d.off = off + i;
			d.expected = m[i];
			d.actual = got[i];
		}
		d.ndiff++;
		d.last = off + i;
	}
	fail(x, &d, "%s of %s 0x%" PRIx64 " len 0x%" PRIx64 " returned other data "
	     "than written", what, fname(x, f), off, len);
}

/* check_size -- fstat of file f gives the model's size */
static void
check_size(struct fsx *x, unsigned f, int fd, const char *what)
{
	struct stat st;
	struct diff d = { .f = f, .off = UINT64_MAX };

	if (fstat(fd, &st) < 0)
		fail_sys(x, "fstat");
	if ((uint64_t)st.st_size == x->files[f].size)
		return;
	d.expected = (unsigned)x->files[f].size;
	d.actual = (unsigned)st.st_size;
	fail(x, &d, "%s: fstat size of %s is 0x%" PRIx64 ", the model's 0x%" PRIx64,
	     what, fname(x, f), (uint64_t)st.st_size, x->files[f].size);
}

/* ---- the history -------------------------------------------------------- */

/* record -- a new history record for op on file f, filled in by the op */
static struct oprec *
record(struct fsx *x, enum op op, unsigned f)
{
	struct oprec *r = &x->hist[x->nhist++ % HISTORY];

	memset(r, 0, sizeof(*r));
	r->n = x->n;
	r->op = op;
	r->f = r->f2 = f;
	r->size0 = r->size1 = x->files[f].size;
	x->count[op]++;
	return r;
}

/* ---- the operations ----------------------------------------------------- */

/*
 * pick -- an offset below limit and a length of at least 1 that keeps the
 * range below limit, at most MAXOPLEN (both 0 for limit 0).  1 in 8
 * offsets are page-aligned and 1 in 8 lengths whole pages, 1 in 8 lengths
 * are tiny: the edges of pages and single bytes are where caches go wrong.
 */
static void
pick(struct fsx *x, uint64_t limit, uint64_t *off, uint64_t *len)
{
	uint64_t o, l, max;

	*off = *len = 0;
	if (limit == 0)
		return;
	o = rnd(x, limit);
	if (rnd(x, 8) == 0)
		o &= ~(x->pagesize - 1);
	max = limit - o < x->maxoplen ? limit - o : x->maxoplen;
	switch (rnd(x, 8)) {
	case 0:
		l = 1 + rnd(x, max < 16 ? max : 16);
		break;
	case 1:
		l = 1 + rnd(x, max);
		if (l >= x->pagesize)
			l &= ~(x->pagesize - 1);
		break;
	default:
		l = 1 + rnd(x, max);
		break;
	}
	*off = o;
	*len = l;
}

/* grow -- the model of f after bytes up to end were written */
static void
grow(struct file *fl, uint64_t end)
{
	if (end > fl->size)
		fl->size = end;
}

/* do_read -- pread and compare, up to and past EOF */
static void
do_read(struct fsx *x, unsigned f)
{
	struct file *fl = &x->files[f];
	struct oprec *r = record(x, OP_READ, f);
	uint64_t want;
	ssize_t n;

	if (rnd(x, 8) == 0)
		pick(x, x->maxlen, &r->off, &r->len);
	else
		pick(x, fl->size, &r->off, &r->len);
	if (r->len == 0)        /* an empty file: read a little from 0 */
		r->len = 1 + rnd(x, x->maxoplen);
	want = r->off >= fl->size ? 0 :
		(fl->size - r->off < r->len ? fl->size - r->off : r->len);
	n = pread_all(fl->fd, x->rbuf, r->len, r->off);
	if (n < 0)
		fail_sys(x, "pread");
	r->done = (uint64_t)n;
	compare(x, f, r->off, x->rbuf, r->done < want ? r->done : want, "pread");
	if (r->done != want) {
		struct diff d = { .f = f, .off = UINT64_MAX,
			.expected = (unsigned)fl->size,
			.actual = (unsigned)(r->off + r->done) };

		fail(x, &d, "pread at 0x%" PRIx64 " returned 0x%" PRIx64 " bytes, "
		     "expected 0x%" PRIx64 " (EOF at 0x%" PRIx64 ")", r->off, r->done,
		     want, fl->size);
	}
}

/* do_write -- pwrite new data anywhere below MAXLEN */
static void
do_write(struct fsx *x, unsigned f)
{
	struct file *fl = &x->files[f];
	struct oprec *r = record(x, OP_WRITE, f);

	pick(x, x->maxlen, &r->off, &r->len);
	fill(x, r->len);
	if (write_all(fl->fd, x->wbuf, r->len, (int64_t)r->off) < 0)
		fail_sys(x, "pwrite");
	memcpy(fl->model + r->off, x->wbuf, r->len);
	grow(fl, r->off + r->len);
	r->size1 = fl->size;
	r->done = r->len;
	check_size(x, f, fl->fd, "pwrite");
}

/* do_append -- write through the O_APPEND descriptor: lands at EOF */
static void
do_append(struct fsx *x, unsigned f)
{
	struct file *fl = &x->files[f];
	struct oprec *r = record(x, OP_APPEND, f);
	uint64_t room = x->maxlen - fl->size, max;

	r->off = fl->size;
	if (room == 0) {
		r->skipped = true;
		x->skipped[OP_APPEND]++;
		return;
	}
	max = room < x->maxoplen ? room : x->maxoplen;
	r->len = rnd(x, 8) == 0 ? 1 + rnd(x, max < 16 ? max : 16) : 1 + rnd(x, max);
	fill(x, r->len);
	if (write_all(fl->afd, x->wbuf, r->len, -1) < 0)
		fail_sys(x, "write (O_APPEND)");
	memcpy(fl->model + fl->size, x->wbuf, r->len);
	fl->size += r->len;
	r->size1 = fl->size;
	r->done = r->len;
	check_size(x, f, fl->afd, "write (O_APPEND)");
}

/* set_size -- ftruncate f and its model (shrinking zeros the model's tail) */
static void
set_size(struct fsx *x, unsigned f, uint64_t size)
{
	struct file *fl = &x->files[f];

	if (ftruncate(fl->fd, (off_t)size) < 0)
		fail_sys(x, "ftruncate");
	if (size < fl->size)
		memset(fl->model + size, 0, fl->size - size);
	fl->size = size;
}

/* do_truncate -- shrink or extend; 1 in 4 new sizes page-aligned */
static void
do_truncate(struct fsx *x, unsigned f)
{
	struct oprec *r = record(x, OP_TRUNCATE, f);
	uint64_t size = rnd(x, x->maxlen + 1);

	if (rnd(x, 4) == 0)
		size &= ~(x->pagesize - 1);
	set_size(x, f, size);
	r->size1 = size;
	check_size(x, f, x->files[f].fd, "ftruncate");
}

/* map -- mmap the pages of f that hold [off, off + len): the mapping, *delta
 * is off's place in it and *mlen its length */
static unsigned char *
map(struct fsx *x, unsigned f, uint64_t off, uint64_t len, int prot,
    uint64_t *delta, size_t *mlen)
{
	uint64_t pg = off & ~(x->pagesize - 1);
	void *p;

	*delta = off - pg;
	*mlen = (size_t)(off + len - pg);
	p = mmap(NULL, *mlen, prot, MAP_SHARED, x->files[f].fd, (off_t)pg);
	if (p == MAP_FAILED)
		fail_sys(x, "mmap");
	return p;
}

/*
 * do_mapread -- read a range inside the file through mmap and compare.
 * When the range ends in the file's last page and that page is partial,
 * the bytes past EOF up to the page's end are mapped too and must be
 * zeros: a file system that leaves stale data there (after a truncate, a
 * punch, a write through another path) shows it to every mmap user.
 */
static void
do_mapread(struct fsx *x, unsigned f)
{
	struct file *fl = &x->files[f];
	struct oprec *r = record(x, OP_MAPREAD, f);
	uint64_t delta, i, tail, eof_in_page;
	unsigned char *p;
	size_t mlen;

	if (fl->size == 0) {    /* nothing to map: mapping past EOF is SIGBUS */
		r->skipped = true;
		x->skipped[OP_MAPREAD]++;
		return;
	}
	pick(x, fl->size, &r->off, &r->len);
	p = map(x, f, r->off, r->len, PROT_READ, &delta, &mlen);
	if (map_copy(x->rbuf, p + delta, r->len) < 0)
		fail(x, NULL, "ERROR: SIGBUS reading the mapping of %s 0x%" PRIx64
		     " len 0x%" PRIx64 " inside EOF 0x%" PRIx64, fname(x, f), r->off,
		     r->len, fl->size);
	r->done = r->len;
	compare(x, f, r->off, x->rbuf, r->len, "mmap read");

	eof_in_page = fl->size & (x->pagesize - 1);
	if (eof_in_page && (r->off + r->len - 1) / x->pagesize ==
	    (fl->size - 1) / x->pagesize) {
		tail = x->pagesize - eof_in_page;
		if (map_copy(x->rbuf, p + (fl->size - (r->off - delta)), tail) < 0)
			fail(x, NULL, "ERROR: SIGBUS reading %s's last page past EOF "
			     "0x%" PRIx64, fname(x, f), fl->size);
		for (i = 0; i < tail && x->rbuf[i] == 0; i++)
			;
		if (i < tail) {
			struct diff d = { .f = f, .off = fl->size + i,
				.actual = x->rbuf[i] };
			uint64_t j;

			for (j = i; j < tail; j++) {
				if (x->rbuf[j]) {
					d.ndiff++;
					d.last = fl->size + j;
				}
			}
			fail(x, &d, "mmap read of %s: the last page past EOF 0x%" PRIx64
			     " is not zeros", fname(x, f), fl->size);
		}
	}
	if (munmap(p, mlen) < 0)
		fail_sys(x, "munmap");
}

/* do_mapwrite -- store through mmap, msync(MS_SYNC); extend first if needed */
static void
do_mapwrite(struct fsx *x, unsigned f)
{
	struct file *fl = &x->files[f];
	struct oprec *r = record(x, OP_MAPWRITE, f);
	uint64_t delta;
	unsigned char *p;
	size_t mlen;

	pick(x, x->maxlen, &r->off, &r->len);
	fill(x, r->len);
	if (r->off + r->len > fl->size)
		set_size(x, f, r->off + r->len);
	p = map(x, f, r->off, r->len, PROT_READ | PROT_WRITE, &delta, &mlen);
	if (map_copy(p + delta, x->wbuf, r->len) < 0)
		fail(x, NULL, "ERROR: SIGBUS writing the mapping of %s 0x%" PRIx64
		     " len 0x%" PRIx64 " inside EOF 0x%" PRIx64, fname(x, f), r->off,
		     r->len, fl->size);
	if (msync(p, mlen, MS_SYNC) < 0)
		fail_sys(x, "msync");
	if (munmap(p, mlen) < 0)
		fail_sys(x, "munmap");
	memcpy(fl->model + r->off, x->wbuf, r->len);
	r->size1 = fl->size;
	r->done = r->len;
	check_size(x, f, fl->fd, "mmap write");
}

/*
 * unsupported -- whether fallocate or copy_file_range failed because the
 * file system lacks it (not a bug): if so, op is disabled and said once
 */
static bool
unsupported(struct fsx *x, enum op op, const char *call, int e)
{
	if (e != EOPNOTSUPP && e != ENOSYS && !(op == OP_COPY && e == EXDEV))
		return false;
	x->disabled[op] = true;
	printf(PROG ": op %" PRIu64 ": %s: %s: %s not supported here, disabled\n",
	       x->n, call, strerror(e), Ops[op].name);
	return true;
}

/* do_fallocate -- falloc, punch or zero */
static void
do_fallocate(struct fsx *x, unsigned f, enum op op)
{
	struct file *fl = &x->files[f];
	struct oprec *r = record(x, op, f);
	uint64_t end, zend;
	int mode;
	const char *call;

	pick(x, x->maxlen, &r->off, &r->len);
	end = r->off + r->len;
	switch (op) {
	case OP_FALLOC:
		r->mode = (int)rnd(x, 2);
		mode = r->mode ? FALLOC_FL_KEEP_SIZE : 0;
		call = r->mode ? "fallocate(KEEP_SIZE)" : "fallocate(0)";
		break;
	case OP_PUNCH:
		r->mode = 1;
		mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
		call = "fallocate(PUNCH_HOLE|KEEP_SIZE)";
		break;
	default:
		r->mode = (int)rnd(x, 2);
		mode = FALLOC_FL_ZERO_RANGE | (r->mode ? FALLOC_FL_KEEP_SIZE : 0);
		call = r->mode ? "fallocate(ZERO_RANGE|KEEP_SIZE)" :
			"fallocate(ZERO_RANGE)";
		break;
	}
	if (fallocate(fl->fd, mode, (off_t)r->off, (off_t)r->len) < 0) {
		if (unsupported(x, op, call, errno)) {
			r->skipped = true;
			return;
		}
		fail_sys(x, call);
	}
	if (op != OP_FALLOC) {
		zend = end < fl->size ? end : fl->size;
		if (r->off < zend)
			memset(fl->model + r->off, 0, zend - r->off);
	}
	if (!r->mode)
		grow(fl, end);
	r->size1 = fl->size;
	check_size(x, f, fl->fd, call);
}

/* overlap -- whether [a, a + len) and [b, b + len) overlap */
static bool
overlap(uint64_t a, uint64_t b, uint64_t len)
{
	return a < b + len && b < a + len;
}

/*
 * do_copy -- copy_file_range from file f (1 in 16 times starting past its
 * EOF) into a random file; within one file the ranges must not overlap
 * (EINVAL), so the destination is drawn again, then moved after or before
 * the source, else the copy is of 0 bytes
 */
static void
do_copy(struct fsx *x, unsigned f)
{
	struct file *src = &x->files[f], *dst;
	struct oprec *r = record(x, OP_COPY, f);
	uint64_t want, len;
	loff_t pin, pout;
	ssize_t n;
	int tries;

	r->f2 = (unsigned)rnd(x, x->nfiles);
	dst = &x->files[r->f2];
	r->size0 = r->size1 = dst->size;
	if (rnd(x, 16) == 0 || src->size == 0)
		pick(x, x->maxlen, &r->off, &r->len);
	else
		pick(x, src->size, &r->off, &r->len);
	len = r->len;           /* >= 1: both limits are */
	r->off2 = rnd(x, x->maxlen - len + 1);
	for (tries = 0; r->f2 == f && overlap(r->off, r->off2, len) && tries < 4;
	     tries++)
		r->off2 = rnd(x, x->maxlen - len + 1);
	if (r->f2 == f && overlap(r->off, r->off2, len)) {
		if (r->off + 2 * len <= x->maxlen)
			r->off2 = r->off + len;
		else if (r->off >= len)
			r->off2 = r->off - len;
		else
			r->len = len = 0;
	}
	want = r->off >= src->size ? 0 :
		(src->size - r->off < len ? src->size - r->off : len);

	/*
	 * The first call asks for the whole range, across the source's EOF; a
	 * short copy is continued only up to where EOF was, since within one
	 * file a copy past EOF extends the file and makes more to copy.
	 */
	pin = (loff_t)r->off;
	pout = (loff_t)r->off2;
	for (;;) {
		n = copy_file_range(src->fd, &pin, dst->fd, &pout,
				    (size_t)(r->done ? want - r->done : len), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && r->done == 0 && unsupported(x, OP_COPY,
							 "copy_file_range", errno)) {
			r->skipped = true;
			return;
		}
		if (n < 0)
			fail_sys(x, "copy_file_range");
		r->done += (uint64_t)n;
		if (n == 0 || r->done >= want)
			break;
	}
	if (r->done != want) {
		struct diff d = { .f = r->f2, .off = UINT64_MAX,
			.expected = (unsigned)(r->off2 + want),
			.actual = (unsigned)(r->off2 + r->done) };

		fail(x, &d, "copy_file_range copied 0x%" PRIx64 " bytes, expected "
		     "0x%" PRIx64 " (source EOF at 0x%" PRIx64 ")", r->done, want,
		     src->size);
	}
	/* the ranges are disjoint, but memmove costs nothing more */
	memmove(dst->model + r->off2, src->model + r->off, r->done);
	if (r->done)            /* copying nothing extends nothing */
		grow(dst, r->off2 + r->done);
	r->size1 = dst->size;
	check_size(x, r->f2, dst->fd, "copy_file_range");
}

/* do_fsync -- fsync or fdatasync */
static void
do_fsync(struct fsx *x, unsigned f)
{
	struct oprec *r = record(x, OP_FSYNC, f);

	r->mode = (int)rnd(x, 2);
	if ((r->mode ? fdatasync(x->files[f].fd) : fsync(x->files[f].fd)) < 0)
		fail_sys(x, r->mode ? "fdatasync" : "fsync");
}

/* open_file -- f's two descriptors; setup says whether errors are usage */
static void
open_file(struct fsx *x, unsigned f, int flags, bool setup)
{
	struct file *fl = &x->files[f];

	fl->fd = open(fl->path, O_RDWR | flags, 0644);
	if (fl->fd >= 0)
		fl->afd = open(fl->path, O_WRONLY | O_APPEND);
	if (fl->fd >= 0 && fl->afd >= 0)
		return;
	if (setup)
		die("%s: %s", fl->path, strerror(errno));
	fail_sys(x, "open");
}

/* do_reopen -- close both descriptors and open them again */
static void
do_reopen(struct fsx *x, unsigned f)
{
	struct file *fl = &x->files[f];

	record(x, OP_REOPEN, f);
	if (close(fl->fd) < 0 || close(fl->afd) < 0)
		fail_sys(x, "close");
	open_file(x, f, 0, false);
	check_size(x, f, fl->fd, "reopen");
}

/*
 * check_file -- f whole through a new descriptor: its fstat size and its
 * bytes up to EOF (one byte more is asked for, to see EOF where the model
 * has it)
 */
static void
check_file(struct fsx *x, unsigned f)
{
	struct file *fl = &x->files[f];
	struct oprec *r = record(x, OP_CHECK, f);
	int fd = open(fl->path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		fail_sys(x, "open (whole-file check)");
	check_size(x, f, fd, "whole-file check");
	n = pread_all(fd, x->rbuf, fl->size + 1, 0);
	if (n < 0)
		fail_sys(x, "pread (whole-file check)");
	r->done = (uint64_t)n;
	compare(x, f, 0, x->rbuf, r->done < fl->size ? r->done : fl->size,
		"whole-file read");
	if (r->done != fl->size) {
		struct diff d = { .f = f, .off = UINT64_MAX,
			.expected = (unsigned)fl->size, .actual = (unsigned)r->done };

		fail(x, &d, "whole-file read of %s returned 0x%" PRIx64 " bytes, "
		     "fstat and the model say 0x%" PRIx64, fname(x, f), r->done,
		     fl->size);
	}
	close(fd);
}

/* check_all -- every file whole */
static void
check_all(struct fsx *x)
{
	unsigned f;

	for (f = 0; f < x->nfiles; f++)
		check_file(x, f);
}

/*
 * corrupt -- -X: change the model of the largest file so that the next
 * check must fail: flip the bits of its middle byte, or for all-empty
 * files claim a byte file 0 does not have
 */
static void
corrupt(struct fsx *x)
{
	unsigned f, big = 0;
	struct oprec *r;
	struct file *fl;

	for (f = 1; f < x->nfiles; f++)
		if (x->files[f].size > x->files[big].size)
			big = f;
	r = record(x, OP_CORRUPT, big);
	fl = &x->files[big];
	if (fl->size == 0) {
		fl->model[0] = 0xa5;
		fl->size = 1;
		r->size1 = 1;
	} else {
		r->off = fl->size / 2;
		fl->model[r->off] ^= 0xff;
	}
	r->len = 1;
	printf(PROG ": -X: corrupted the model of %s at op %" PRIu64 " (offset 0x%"
	       PRIx64 "), the check must fail\n", fname(x, big), x->n, r->off);
}

/* choose -- an enabled operation by weight */
static enum op
choose(struct fsx *x)
{
	unsigned total = 0, i;
	uint64_t v;

	for (i = 0; i < NR_RANDOM_OPS; i++)
		if (!x->disabled[i])
			total += Ops[i].weight;
	v = rnd(x, total);
	for (i = 0; i < NR_RANDOM_OPS; i++) {
		if (x->disabled[i])
			continue;
		if (v < Ops[i].weight)
			break;
		v -= Ops[i].weight;
	}
	return (enum op)i;
}

/* one_op -- choose an operation and a file, and do it */
static void
one_op(struct fsx *x)
{
	enum op op = choose(x);
	unsigned f = (unsigned)rnd(x, x->nfiles);

	switch (op) {
	case OP_READ: do_read(x, f); break;
	case OP_WRITE: do_write(x, f); break;
	case OP_APPEND: do_append(x, f); break;
	case OP_TRUNCATE: do_truncate(x, f); break;
	case OP_MAPREAD: do_mapread(x, f); break;
	case OP_MAPWRITE: do_mapwrite(x, f); break;
	case OP_FALLOC:
	case OP_PUNCH:
	case OP_ZERO: do_fallocate(x, f, op); break;
	case OP_COPY: do_copy(x, f); break;
	case OP_FSYNC: do_fsync(x, f); break;
	case OP_REOPEN: do_reopen(x, f); break;
	default: break;
	}
}

/* ---- setup and the run -------------------------------------------------- */

/* elapsed -- seconds since the start */
static double
elapsed(const struct fsx *x)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - x->t0.tv_sec) +
		(double)(t.tv_nsec - x->t0.tv_nsec) / 1e9;
}

/* progress -- one line: where the run is */
static void
progress(const struct fsx *x)
{
	unsigned f;

	printf(PROG ": %" PRIu64 " ops, %.1f s, sizes", x->n, elapsed(x));
	for (f = 0; f < x->nfiles; f++)
		printf(" 0x%" PRIx64, x->files[f].size);
	putchar('\n');
	fflush(stdout);
}

/* report -- the last lines: OK and the count of each operation */
static void
report(const struct fsx *x)
{
	unsigned i;

	printf(PROG ": %" PRIu64 " ops, seed %" PRIu64 ", OK\n", x->nops, x->seed);
	printf(PROG ": counts:");
	for (i = 0; i < NR_OPS; i++) {
		printf(" %s %" PRIu64, Ops[i].name, x->count[i]);
		if (x->skipped[i])
			printf(" (%" PRIu64 " skipped)", x->skipped[i]);
		if (x->disabled[i])
			printf(" (disabled)");
	}
	printf(", %.1f s\n", elapsed(x));
}

/* parse_num -- an option's number in [min, max], with k/m/g (1024s) */
static uint64_t
parse_num(int opt, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	uint64_t v, mul = 1;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (end != s) {
		switch (*end) {
		case 'k': case 'K': mul = 1ULL << 10; end++; break;
		case 'm': case 'M': mul = 1ULL << 20; end++; break;
		case 'g': case 'G': mul = 1ULL << 30; end++; break;
		default: break;
		}
	}
	if (end == s || *end || errno || *s == '-' || v > max / mul ||
	    v * mul < min)
		die("-%c: '%s' is not a number from %" PRIu64 " to %" PRIu64 " (%s)",
		    opt, s, min, max, USAGE);
	return v * mul;
}

/* setup -- the buffers, the models and the files, all new and empty */
static void
setup(struct fsx *x)
{
	struct stat st;
	struct sigaction sa;
	unsigned f;

	if (stat(x->dir, &st) < 0)
		die("%s: %s", x->dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		die("%s: not a directory", x->dir);
	x->rbuf = malloc(x->maxlen + x->pagesize);
	x->wbuf = malloc(x->maxoplen);
	if (!x->rbuf || !x->wbuf)
		die("out of memory for MAXLEN %" PRIu64, x->maxlen);
	for (f = 0; f < x->nfiles; f++) {
		struct file *fl = &x->files[f];

		fl->model = calloc(1, x->maxlen);
		if (!fl->model || asprintf(&fl->path, "%s/fsx.%u", x->dir, f) < 0)
			die("out of memory for MAXLEN %" PRIu64, x->maxlen);
		open_file(x, f, O_CREAT | O_TRUNC, true);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigbus;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) < 0)
		die("sigaction: %s", strerror(errno));
}

/* default_seed -- from the clock and the pid: runs started together differ */
static uint64_t
default_seed(void)
{
	struct timespec t;
	uint64_t s;

	clock_gettime(CLOCK_REALTIME, &t);
	s = (uint64_t)t.tv_sec * 1000003ULL ^ (uint64_t)t.tv_nsec ^
		((uint64_t)getpid() << 32);
	/* keep it short enough to type */
	return splitmix64(&s) % 1000000000ULL;
}

int
main(int argc, char *argv[])
{
	static struct fsx fsx;
	struct fsx *x = &fsx;
	bool have_seed = false;
	long ps = sysconf(_SC_PAGESIZE);
	int c;

	x->argv0 = argv[0];
	x->nops = 10000;
	x->maxlen = 256 << 10;
	x->maxoplen = 64 << 10;
	x->nfiles = 2;
	x->pagesize = ps > 0 ? (uint64_t)ps : 4096;
	opterr = 0;
	while ((c = getopt(argc, argv, ":N:S:l:o:f:X:h")) != -1) {
		switch (c) {
		case 'N': x->nops = parse_num(c, optarg, 0, UINT64_MAX / 2); break;
		case 'S':
			x->seed = parse_num(c, optarg, 0, UINT64_MAX);
			have_seed = true;
			break;
		case 'l': x->maxlen = parse_num(c, optarg, 1, MAX_MAXLEN); break;
		case 'o': x->maxoplen = parse_num(c, optarg, 1, MAX_MAXLEN); break;
		case 'f': x->nfiles = (unsigned)parse_num(c, optarg, 1, MAX_FILES); break;
		case 'X': x->corrupt_at = parse_num(c, optarg, 1, UINT64_MAX / 2); break;
		case 'h':
			printf("%s\n", USAGE);
			return 0;
		case ':':
			die("option '-%c' needs an argument (%s)", optopt, USAGE);
		default:
			die("unknown option '-%c' (%s)", optopt, USAGE);
		}
	}
	if (optind == argc)
		die("missing DIR argument (%s)", USAGE);
	if (optind + 1 < argc)
		die("unexpected argument '%s' (%s)", argv[optind + 1], USAGE);
	x->dir = argv[optind];
	if (x->maxoplen > x->maxlen)
		die("MAXOPLEN %" PRIu64 " is larger than MAXLEN %" PRIu64 " (%s)",
		    x->maxoplen, x->maxlen, USAGE);
	if (x->corrupt_at > x->nops)
		die("-X %" PRIu64 " is past the last op, %" PRIu64 " (%s)",
		    x->corrupt_at, x->nops, USAGE);
	if (!have_seed)
		x->seed = default_seed();
	x->rng = x->seed;
	setup(x);
	clock_gettime(CLOCK_MONOTONIC, &x->t0);

	printf(PROG ": seed %" PRIu64 ", %" PRIu64 " ops, %u file(s) in %s, "
	       "maxlen %" PRIu64 ", maxoplen %" PRIu64 "%s\n", x->seed, x->nops,
	       x->nfiles, x->dir, x->maxlen, x->maxoplen,
	       x->corrupt_at ? ", self-test -X" : "");
	fflush(stdout);

	for (x->n = 1; x->n <= x->nops; x->n++) {
		one_op(x);
		if (x->n == x->corrupt_at) {
			corrupt(x);
			check_all(x);
		}
		if (x->n % CHECK_EVERY == 0)
			check_all(x);
		if (x->n % PROGRESS_EVERY == 0)
			progress(x);
	}
	x->n = x->nops;
	if (x->nops == 0 || x->nops % CHECK_EVERY)     /* else just done */
		check_all(x);
	report(x);
	return 0;
}
