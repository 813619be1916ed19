/* SPDX-License-Identifier: MIT */
/* fs_testlib.c -- SOURCE and journal for the replay suites (see fs_testlib.h) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "alloc_testlib.h"
#include "fs_testlib.h"
#include "nvfs_alloc.h"
#include "nvfs_csum.h"
#include "nvfs_err.h"
#include "nvfs_journal.h"
#include "nvfs_rec.h"
#include "nvfs_test.h"

#define FT_BUCKETS 2u

/* ---- text buffers ---------------------------------------------------------- */

struct sbuf {
	char *p;
	size_t n, cap;
};

__attribute__((format(printf, 2, 3))) static void
sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	CU_ASSERT_FATAL(n >= 0);
	if (b->n + (size_t)n + 1 > b->cap) {
		b->cap = (b->n + (size_t)n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		CU_ASSERT_FATAL(b->p != NULL);
	}
	va_start(ap, fmt);
	vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->n += (size_t)n;
}

/* sb_bytes -- up to 24 bytes, printable or escaped */
static void
sb_bytes(struct sbuf *b, const void *p, size_t n)
{
	const unsigned char *c = p;

	sb_add(b, "\"");
	for (size_t k = 0; k < n && k < 24; k++)
		if (c[k] >= 0x20 && c[k] < 0x7f && c[k] != '"' && c[k] != '\\')
			sb_add(b, "%c", c[k]);
		else
			sb_add(b, "\\x%02x", c[k]);
	sb_add(b, n > 24 ? "\"..." : "\"");
}

/* ---- sparse file images ---------------------------------------------------- */

static void
img_free(struct ft_img *im)
{
	for (size_t k = 0; k < im->n; k++)
		free(im->ext[k].p);
	free(im->ext);
	memset(im, 0, sizeof(*im));
}

#define IMG_PAGE 4096u
#define IMG_CHUNK (16 * IMG_PAGE)

static const unsigned char img_zero[IMG_CHUNK];

/*
 * img_each_page -- call fn for every non-zero page of path's data extents
 * (SEEK_DATA: pages never written are holes; pages only read through a
 * mapping are data to tmpfs, but zero)
 */
static void
img_each_page(int fd, off_t size, void (*fn)(void *arg, off_t at, const unsigned char *p),
	      void *arg)
{
	static unsigned char chunk[IMG_CHUNK];
	off_t off = 0;

	while (off < size) {
		off_t d = lseek(fd, off, SEEK_DATA);
		if (d < 0)
			break;
		off_t h = lseek(fd, d, SEEK_HOLE);
		CU_ASSERT_FATAL(h > d && d % IMG_PAGE == 0);
		for (off_t at = d; at < h; at += IMG_CHUNK) {
			size_t n = (size_t)(h - at) < IMG_CHUNK ? (size_t)(h - at) : IMG_CHUNK;
			CU_ASSERT_FATAL(pread(fd, chunk, n, at) == (ssize_t)n);
			for (size_t k = 0; k < n; k += IMG_PAGE) {
				size_t l = n - k < IMG_PAGE ? n - k : IMG_PAGE;
				if (memcmp(chunk + k, img_zero, l))
					fn(arg, at + (off_t)k, chunk + k);
			}
		}
		off = h;
	}
}

/* img_add_page -- append a page to an image (merged with the last extent) */
static void
img_add_page(void *arg, off_t at, const unsigned char *p)
{
	struct ft_img *im = arg;
	size_t n = (size_t)(im->size - at) < IMG_PAGE ? (size_t)(im->size - at) : IMG_PAGE;
	struct ft_ext *e = im->n ? &im->ext[im->n - 1] : NULL;

	if (!e || e->off + (off_t)e->len != at) {
		im->ext = realloc(im->ext, (im->n + 1) * sizeof(*im->ext));
		CU_ASSERT_FATAL(im->ext != NULL);
		e = &im->ext[im->n++];
		e->off = at;
		e->len = 0;
		e->p = NULL;
	}
	e->p = realloc(e->p, e->len + n);
	CU_ASSERT_FATAL(e->p != NULL);
	memcpy(e->p + e->len, p, n);
	e->len += n;
}

/* img_save -- the non-zero pages of path */
static void
img_save(struct ft_img *im, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	img_free(im);
	CU_ASSERT_FATAL(fd >= 0 && fstat(fd, &st) == 0);
	im->size = st.st_size;
	img_each_page(fd, st.st_size, img_add_page, im);
	close(fd);
}

struct img_zap {
	int fd;
	const struct ft_img *im;
};

/* img_zap_page -- zero a non-zero page the image does not hold */
static void
img_zap_page(void *arg, off_t at, const unsigned char *p)
{
	struct img_zap *z = arg;

	(void)p;
	for (size_t k = 0; k < z->im->n; k++)
		if (at >= z->im->ext[k].off && at < z->im->ext[k].off + (off_t)z->im->ext[k].len)
			return; /* rewritten next */
	size_t n = (size_t)(z->im->size - at) < IMG_PAGE ? (size_t)(z->im->size - at) : IMG_PAGE;
	CU_ASSERT_FATAL(pwrite(z->fd, img_zero, n, at) == (ssize_t)n);
}

/*
 * img_restore -- path holds exactly im again; its pages are not freed (a
 * mapping reading them next need not allocate them again)
 */
static void
img_restore(const struct ft_img *im, const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	struct img_zap z = { fd, im };
	struct stat st;

	CU_ASSERT_FATAL(fd >= 0 && fstat(fd, &st) == 0);
	if (st.st_size != im->size)
		CU_ASSERT_FATAL(ftruncate(fd, im->size) == 0);
	img_each_page(fd, im->size, img_zap_page, &z);
	for (size_t k = 0; k < im->n; k++)
		CU_ASSERT_FATAL(pwrite(fd, im->ext[k].p, im->ext[k].len, im->ext[k].off) ==
				(ssize_t)im->ext[k].len);
	close(fd);
}

/* ---- removing trees ---------------------------------------------------------- */

/* rm_tree_in -- remove everything below the directory at fd (fd stays open) */
static void
rm_tree_in(int fd)
{
	int dfd = dup(fd);
	DIR *d;
	struct dirent *de;

	CU_ASSERT_FATAL(dfd >= 0);
	d = fdopendir(dfd);
	CU_ASSERT_FATAL(d != NULL);
	rewinddir(d);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int c = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			CU_ASSERT_FATAL(c >= 0);
			rm_tree_in(c);
			close(c);
			CU_ASSERT(unlinkat(fd, de->d_name, AT_REMOVEDIR) == 0);
		} else {
			CU_ASSERT(unlinkat(fd, de->d_name, 0) == 0);
		}
	}
	closedir(d);
}

void
ft_wipe_source(struct ft *t)
{
	rm_tree_in(t->srcfd);
}

void
ft_clear_stash(struct ft *t)
{
	rm_tree_in(t->stashfd);
}

/* ---- set-up ---------------------------------------------------------------- */

void
ft_init(struct ft *t, const char *name)
{
	char path[PATH_MAX];

	memset(t, 0, sizeof(*t));
	t->srcfd = t->stashfd = -1;
	snprintf(path, sizeof(path), "%s", nvfs_test_path(name));
	CU_ASSERT_FATAL(mkdir(path, 0755) == 0 || errno == EEXIST);
	snprintf(t->src, sizeof(t->src), "%s/src", path);
	snprintf(t->stash, sizeof(t->stash), "%s/stash", path);
	snprintf(t->pmem, sizeof(t->pmem), "%s/ns.pmem", path);
	CU_ASSERT_FATAL(mkdir(t->src, 0755) == 0 || errno == EEXIST);
	CU_ASSERT_FATAL(mkdir(t->stash, 0700) == 0 || errno == EEXIST);
	t->srcfd = open(t->src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	t->stashfd = open(t->stash, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CU_ASSERT_FATAL(t->srcfd >= 0 && t->stashfd >= 0);
	test_ns_make(t->pmem, NVFS_PAGES_OFF + (uint64_t)(FT_BUCKETS + 1) *
			      NVFS_JOURNAL_BUCKET_BYTES);
	CU_ASSERT_FATAL(nvfs_alloc_open(t->pmem, NULL, &t->a) == 0);
	CU_ASSERT_FATAL(nvfs_journal_create(t->a, (uint64_t)FT_BUCKETS *
					    NVFS_JOURNAL_BUCKET_BYTES) == 0);
	nvfs_alloc_close(&t->a);
	img_save(&t->blank, t->pmem);
	t->nolog_from = UINT_MAX;
	/* user.* xattrs on tmpfs: Linux 6.6 and later */
	char probe[PATH_MAX + 8];
	snprintf(probe, sizeof(probe), "%s/probe", path);
	CU_ASSERT_FATAL(nvfs_test_mkfile(probe, 0) == 0);
	t->xattr_ok = lsetxattr(probe, "user.probe", "1", 1, 0) == 0;
	unlink(probe);
	if (!t->xattr_ok)
		printf("\n  (no user.* xattrs on %s: xattr operations do nothing)", path);
}

struct ft_undo {
	unsigned op;             /* the operation it undoes */
	enum { UN_UNLINK, UN_RMDIR, UN_RENAME, UN_EXCHANGE, UN_CONTENT, UN_MODE, UN_TIMES,
	       UN_XATTR, UN_OWNER } kind;
	char p1[PATH_MAX], p2[PATH_MAX];
	bool p1_stash;           /* p1 is in the stash */
	unsigned char *buf;      /* old bytes / old xattr value */
	size_t len;
	bool had;                /* the xattr existed */
	mode_t mode;
	uid_t uid;
	gid_t gid;
	struct timespec ts[2];
};

static void
undo_clear(struct ft *t)
{
	for (size_t k = 0; k < t->nundo; k++)
		free(t->undo[k].buf);
	t->nundo = 0;
}

static void
snaps_clear(struct ft *t)
{
	for (unsigned i = 0; i <= FT_MAX_OPS; i++) {
		free(t->snap[i]);
		t->snap[i] = NULL;
	}
}

void
ft_fini(struct ft *t)
{
	if (t->j)
		nvfs_journal_close(&t->j);
	if (t->a)
		nvfs_alloc_close(&t->a);
	undo_clear(t);
	free(t->undo);
	snaps_clear(t);
	img_free(&t->blank);
	img_free(&t->logged);
	if (t->srcfd >= 0)
		close(t->srcfd);
	if (t->stashfd >= 0)
		close(t->stashfd);
	memset(t, 0, sizeof(*t));
}

static void mark(struct ft *t);

void
ft_begin(struct ft *t)
{
	undo_clear(t);
	snaps_clear(t);
	t->nops = 0;
	t->logged_ops = 0;
	mark(t);
	t->snap[0] = ft_capture(t);
}

void
ft_reset(struct ft *t)
{
	struct nvfs_journal_report r;

	if (t->j)
		nvfs_journal_close(&t->j);
	if (t->a)
		nvfs_alloc_close(&t->a);
	ft_wipe_source(t);
	ft_clear_stash(t);
	img_restore(&t->blank, t->pmem);
	CU_ASSERT_FATAL(nvfs_alloc_open(t->pmem, NULL, &t->a) == 0);
	CU_ASSERT_FATAL(nvfs_journal_open(t->a, NULL, 0, &t->j) == 0);
	CU_ASSERT_FATAL(nvfs_journal_replay(t->j, NULL, NULL, &r) == 0);
	CU_ASSERT_FATAL(r.entries == 0);
	t->nolog_from = UINT_MAX;
	t->quiet = false;
	t->logged_ops = 0;
	t->nstash = 0;
	undo_clear(t);
	snaps_clear(t);
	t->nops = 0;
}

void
ft_log_end(struct ft *t)
{
	CU_ASSERT_FATAL(t->j != NULL);
	CU_ASSERT_FATAL(nvfs_journal_commit(t->j, 0) == 0);
	CU_ASSERT_FATAL(nvfs_journal_close(&t->j) == 0);
	nvfs_alloc_close(&t->a);
	img_save(&t->logged, t->pmem);
}

void
ft_journal_restore(struct ft *t)
{
	img_restore(&t->logged, t->pmem);
}

int
ft_replay(struct ft *t, struct nvfs_fs_replay_report *rep)
{
	struct nvfs_journal_report r;
	struct nvfs_alloc *a;
	struct nvfs_journal *j;
	int rc;

	memset(rep, 0, sizeof(*rep));
	if ((rc = nvfs_alloc_open(t->pmem, NULL, &a)) < 0) {
		if (!t->quiet)
			printf("\n  alloc open: %s", nvfs_errmsg());
		return rc;
	}
	if ((rc = nvfs_journal_open(a, NULL, 0, &j)) < 0) {
		if (!t->quiet)
			printf("\n  journal open: %s", nvfs_errmsg());
		nvfs_alloc_close(&a);
		return rc;
	}
	rc = nvfs_journal_replay(j, NULL, NULL, &r);
	if (rc == 0 && r.damaged)
		rc = -EUCLEAN;
	if (rc == 0 && (rc = nvfs_fs_replay(t->src, j, rep)) < 0 && !t->quiet)
		printf("\n  nvfs_fs_replay: %d %s", rc, nvfs_errmsg());
	nvfs_journal_close(&j);
	nvfs_alloc_close(&a);
	return rc;
}

/* ---- identities and records ------------------------------------------------ */

/* id_of -- the identity the mount would log for path (relative to fd) */
static int
id_of(int fd, const char *path, struct nvfs_rec_id *id, uint32_t *nlink, mode_t *mode)
{
	struct statx stx;

	if (statx(fd, path, AT_SYMLINK_NOFOLLOW, STATX_INO | STATX_NLINK | STATX_BTIME |
		  STATX_MODE, &stx) < 0)
		return -errno;
	id->ino = stx.stx_ino;
	id->stamp = stx.stx_mask & STATX_BTIME ?
		    (uint64_t)stx.stx_btime.tv_sec * 1000000000u + stx.stx_btime.tv_nsec : 0;
	if (nlink)
		*nlink = stx.stx_nlink;
	if (mode)
		*mode = stx.stx_mode;
	return 0;
}

static struct nvfs_rec_id
must_id(const struct ft *t, const char *path)
{
	struct nvfs_rec_id id;

	CU_ASSERT_FATAL(id_of(t->srcfd, path, &id, NULL, NULL) == 0);
	return id;
}

/* split -- the directory part of path ("." for a top-level name) and the name */
static void
split(const char *path, char dir[PATH_MAX], char name[NAME_MAX + 1])
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		snprintf(dir, PATH_MAX, ".");
		snprintf(name, NAME_MAX + 1, "%s", path);
	} else {
		snprintf(dir, PATH_MAX, "%.*s", (int)(slash - path), path);
		snprintf(name, NAME_MAX + 1, "%s", slash + 1);
	}
}

/* append -- r into the journal; its sequence number */
static uint64_t
append(struct ft *t, const struct nvfs_rec *r)
{
	unsigned char hdr[NVFS_REC_HDR_BYTES];
	struct iovec iov[4];
	int n;

	CU_ASSERT_FATAL(t->j != NULL);
	CU_ASSERT_FATAL(nvfs_rec_encode(r, hdr, iov, &n) == 0);
	int64_t seq = nvfs_journal_appendv(t->j, r->type, iov, n);
	if (seq <= 0)
		printf("\n  append: %s", nvfs_errmsg());
	CU_ASSERT_FATAL(seq > 0);
	t->logged_ops++;
	return (uint64_t)seq;
}

/* in_flight -- the operation being made is not to be logged */
static bool
in_flight(const struct ft *t)
{
	return t->nops >= t->nolog_from;
}

/* op_done -- count the operation, capture SOURCE after it */
static void
op_done(struct ft *t)
{
	t->nops++;
	CU_ASSERT_FATAL(t->nops <= FT_MAX_OPS);
	free(t->snap[t->nops]);
	t->snap[t->nops] = ft_capture(t);
}

/*
 * mark -- what the mount appends after its replay and after every
 * checkpoint: a MARK of SOURCE's identity and the time now (nvfs_rec.h).
 * Then wait for the file system's clock (a coarse one: btime may lag the
 * MARK by a tick) to pass it, as it has by the time anything replays.
 */
static void
mark(struct ft *t)
{
	struct nvfs_rec r = { .type = NVFS_REC_MARK };
	struct timespec now, tick = { 0, 200000 };

	CU_ASSERT_FATAL(id_of(t->srcfd, ".", &r.id, NULL, NULL) == 0);
	clock_gettime(CLOCK_REALTIME, &now);
	r.a = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	append(t, &r);
	for (unsigned n = 0; n < 1000; n++) {
		clock_gettime(CLOCK_REALTIME_COARSE, &now);
		if ((uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec > r.a)
			break;
		nanosleep(&tick, NULL);
	}
}

/* log_op -- log r (may be NULL) unless the operation is in flight; op_done */
static void
log_op(struct ft *t, const struct nvfs_rec *r)
{
	if (r && !in_flight(t))
		append(t, r);
	op_done(t);
}

static void undo_one(struct ft *t, const struct ft_undo *u);

static struct ft_undo *
undo_push(struct ft *t, int kind)
{
	if (t->nundo == t->capundo) {
		t->capundo = t->capundo ? t->capundo * 2 : 64;
		t->undo = realloc(t->undo, t->capundo * sizeof(*t->undo));
		CU_ASSERT_FATAL(t->undo != NULL);
	}
	struct ft_undo *u = &t->undo[t->nundo++];
	memset(u, 0, sizeof(*u));
	u->op = t->nops;
	u->kind = kind;
	return u;
}

/* stash_name -- a fresh name in the stash */
static void
stash_name(struct ft *t, char out[PATH_MAX])
{
	snprintf(out, PATH_MAX, "s%u", t->nstash++);
}

/* read_all -- a file's bytes (malloc'ed, may be NULL when empty) */
static unsigned char *
read_all(int fd, const char *path, size_t *len)
{
	int f = openat(fd, path, O_RDONLY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC);
	struct stat st;
	unsigned char *p;

	CU_ASSERT_FATAL(f >= 0 && fstat(f, &st) == 0);
	*len = (size_t)st.st_size;
	p = malloc(*len ? *len : 1);
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_FATAL(pread(f, p, *len, 0) == (ssize_t)*len);
	close(f);
	return p;
}

/* ---- operations ------------------------------------------------------------- */

/* made -- the CREATE record of the new object at path, and its undo */
static void
made(struct ft *t, const char *path, const char *target, dev_t dev)
{
	char dir[PATH_MAX], name[NAME_MAX + 1];
	struct nvfs_rec r = { .type = NVFS_REC_CREATE };
	struct stat st;

	split(path, dir, name);
	CU_ASSERT_FATAL(fstatat(t->srcfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0);
	r.id = must_id(t, path);
	r.parent = must_id(t, dir);
	r.mode = st.st_mode;
	r.uid = st.st_uid;
	r.gid = st.st_gid;
	r.a = S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? (uint64_t)dev : 0;
	r.data = target;
	r.data_len = target ? strlen(target) : 0;
	snprintf(r.name, sizeof(r.name), "%s", name);
	struct ft_undo *u = undo_push(t, S_ISDIR(st.st_mode) ? UN_RMDIR : UN_UNLINK);
	snprintf(u->p1, sizeof(u->p1), "%s", path);
	log_op(t, &r);
}

void
ft_create(struct ft *t, const char *path, mode_t mode)
{
	int fd = openat(t->srcfd, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);

	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	made(t, path, NULL, 0);
}

void
ft_mkdir(struct ft *t, const char *path, mode_t mode)
{
	CU_ASSERT_FATAL(mkdirat(t->srcfd, path, mode) == 0);
	made(t, path, NULL, 0);
}

void
ft_symlink(struct ft *t, const char *target, const char *path)
{
	CU_ASSERT_FATAL(symlinkat(target, t->srcfd, path) == 0);
	made(t, path, target, 0);
}

void
ft_mknod(struct ft *t, const char *path, mode_t mode, dev_t dev)
{
	CU_ASSERT_FATAL(mknodat(t->srcfd, path, mode, dev) == 0);
	made(t, path, NULL, dev);
}

void
ft_link(struct ft *t, const char *from, const char *to)
{
	char dir[PATH_MAX], name[NAME_MAX + 1];
	struct nvfs_rec r = { .type = NVFS_REC_LINK };

	CU_ASSERT_FATAL(linkat(t->srcfd, from, t->srcfd, to, 0) == 0);
	split(to, dir, name);
	CU_ASSERT_FATAL(id_of(t->srcfd, from, &r.id, &r.nlink, NULL) == 0);
	r.parent = must_id(t, dir);
	snprintf(r.name, sizeof(r.name), "%s", name);
	struct ft_undo *u = undo_push(t, UN_UNLINK);
	snprintf(u->p1, sizeof(u->p1), "%s", to);
	log_op(t, &r);
}

/* removed -- unlink or rmdir path: the name goes to the stash */
static void
removed(struct ft *t, const char *path, bool rmdir_)
{
	char dir[PATH_MAX], name[NAME_MAX + 1], sn[PATH_MAX];
	struct nvfs_rec r = { .type = NVFS_REC_UNLINK };
	mode_t mode;

	split(path, dir, name);
	CU_ASSERT_FATAL(id_of(t->srcfd, path, &r.id, &r.nlink, &mode) == 0);
	CU_ASSERT_FATAL(S_ISDIR(mode) == rmdir_);
	if (rmdir_) { /* only an empty directory */
		int fd = openat(t->srcfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *d = fdopendir(fd);
		struct dirent *de;
		unsigned n = 0;
		CU_ASSERT_FATAL(d != NULL);
		while ((de = readdir(d)))
			n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
		closedir(d);
		CU_ASSERT_FATAL(n == 0);
	}
	r.parent = must_id(t, dir);
	stash_name(t, sn);
	CU_ASSERT_FATAL(renameat(t->srcfd, path, t->stashfd, sn) == 0);
	r.flags = rmdir_ ? NVFS_REC_RMDIR : 0;
	r.nlink = r.flags || r.nlink == 0 ? 0 : r.nlink - 1;
	snprintf(r.name, sizeof(r.name), "%s", name);
	struct ft_undo *u = undo_push(t, UN_RENAME);
	snprintf(u->p1, sizeof(u->p1), "%s", sn);
	u->p1_stash = true;
	snprintf(u->p2, sizeof(u->p2), "%s", path);
	log_op(t, &r);
}

void
ft_unlink(struct ft *t, const char *path)
{
	removed(t, path, false);
}

void
ft_rmdir(struct ft *t, const char *path)
{
	removed(t, path, true);
}

void
ft_rename(struct ft *t, const char *from, const char *to, unsigned flags)
{
	char d1[PATH_MAX], n1[NAME_MAX + 1], d2[PATH_MAX], n2[NAME_MAX + 1], sn[PATH_MAX];
	struct nvfs_rec r = { .type = NVFS_REC_RENAME, .flags = flags };
	mode_t mode2 = 0;
	bool replaced;

	split(from, d1, n1);
	split(to, d2, n2);
	r.parent = must_id(t, d1);
	r.parent2 = must_id(t, d2);
	CU_ASSERT_FATAL(id_of(t->srcfd, from, &r.id, &r.nlink, NULL) == 0);
	if (id_of(t->srcfd, to, &r.id2, &r.nlink2, &mode2) < 0)
		r.id2 = (struct nvfs_rec_id){ 0, 0 };
	replaced = r.id2.ino && !(flags & RENAME_EXCHANGE) && !nvfs_rec_id_eq(r.id, r.id2);
	if (r.id2.ino && !(flags & RENAME_EXCHANGE))
		r.nlink2 = r.nlink2 > 1 ? r.nlink2 - 1 : 0;
	if (!r.id2.ino)
		r.nlink2 = 0;
	snprintf(r.name, sizeof(r.name), "%s", n1);
	snprintf(r.name2, sizeof(r.name2), "%s", n2);
	/* one that replaces is an intent (ops_entry.c): logged before, in flight too */
	if (replaced)
		append(t, &r);
	if (replaced) {
		/* keep what the rename replaces, to put it back */
		stash_name(t, sn);
		int rc = S_ISDIR(mode2) ? renameat(t->srcfd, to, t->stashfd, sn)
					: linkat(t->srcfd, to, t->stashfd, sn, 0);
		CU_ASSERT_FATAL(rc == 0);
		struct ft_undo *u = undo_push(t, UN_RENAME);
		snprintf(u->p1, sizeof(u->p1), "%s", sn);
		u->p1_stash = true;
		snprintf(u->p2, sizeof(u->p2), "%s", to);
	}
	CU_ASSERT_FATAL(renameat2(t->srcfd, from, t->srcfd, to, flags) == 0);
	if (nvfs_rec_id_eq(r.id, r.id2) && !(flags & RENAME_EXCHANGE)) {
		log_op(t, NULL); /* two names of one inode: nothing happened */
		return;
	}
	struct ft_undo *u = undo_push(t, flags & RENAME_EXCHANGE ? UN_EXCHANGE : UN_RENAME);
	snprintf(u->p1, sizeof(u->p1), "%s", to);
	snprintf(u->p2, sizeof(u->p2), "%s", from);
	if (!replaced) {
		log_op(t, &r);
		return;
	}
	bool flying = in_flight(t);
	if (!flying)
		append(t, &r); /* again, after the change (nvfs_log_destroy_id) */
	op_done(t);
	if (flying) { /* the crash came between the intent and the rename: put it back */
		undo_one(t, &t->undo[t->nundo - 1]);
		undo_one(t, &t->undo[t->nundo - 2]);
		t->nundo -= 2;
	}
}

/* content_undo -- remember path's bytes, to rewrite them in place */
static void
content_undo(struct ft *t, const char *path)
{
	struct ft_undo *u = undo_push(t, UN_CONTENT);

	snprintf(u->p1, sizeof(u->p1), "%s", path);
	u->buf = read_all(t->srcfd, path, &u->len);
}

void
ft_write(struct ft *t, const char *path, off_t off, const void *buf, size_t len)
{
	struct nvfs_rec r = { .type = NVFS_REC_WRITE, .a = (uint64_t)off, .data = buf,
			      .data_len = len };
	int fd;

	content_undo(t, path);
	fd = openat(t->srcfd, path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(pwrite(fd, buf, len, off) == (ssize_t)len);
	close(fd);
	r.id = must_id(t, path);
	log_op(t, &r);
}

void
ft_write_str(struct ft *t, const char *path, off_t off, const char *s)
{
	ft_write(t, path, off, s, strlen(s));
}

/*
 * data_change -- a truncate or fallocate of path, its record r (id filled
 * here).  A change that destroys data is an intent (nvfs_rec.h): logged
 * before it is made, so in flight it is logged but not made (SOURCE is
 * captured with it made, then put back).
 */
static void
data_change(struct ft *t, const char *path, struct nvfs_rec *r, bool intent)
{
	bool flying = in_flight(t);
	int fd;

	r->id = must_id(t, path);
	content_undo(t, path);
	if (intent)
		append(t, r);
	fd = openat(t->srcfd, path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	CU_ASSERT_FATAL(fd >= 0);
	int rc = r->type == NVFS_REC_SETATTR ? ftruncate(fd, (off_t)r->a)
					     : fallocate(fd, (int)r->flags, (off_t)r->a, (off_t)r->b);
	CU_ASSERT_FATAL(rc == 0);
	close(fd);
	if (!intent && !flying)
		append(t, r);
	op_done(t);
	if (intent && flying) /* the crash came between the record and the change */
		undo_one(t, &t->undo[t->nundo - 1]);
}

void
ft_truncate(struct ft *t, const char *path, off_t size)
{
	struct nvfs_rec r = { .type = NVFS_REC_SETATTR, .valid = NVFS_REC_SET_SIZE,
			      .a = (uint64_t)size };

	data_change(t, path, &r, true); /* any size change is an intent */
}

void
ft_fallocate(struct ft *t, const char *path, int mode, off_t off, off_t len)
{
	struct nvfs_rec r = { .type = NVFS_REC_FALLOCATE, .flags = (uint32_t)mode,
			      .a = (uint64_t)off, .b = (uint64_t)len };

	data_change(t, path, &r, nvfs_rec_falloc_destroys((uint32_t)mode));
}

void
ft_truncate_fails(struct ft *t, const char *path, off_t size)
{
	struct nvfs_rec r = { .type = NVFS_REC_SETATTR, .valid = NVFS_REC_SET_SIZE,
			      .a = (uint64_t)size };
	struct nvfs_rec c = { .type = NVFS_REC_CANCEL };

	if (in_flight(t)) { /* the crash came before the truncate failed: an intent */
		ft_truncate(t, path, size);
		return;
	}
	r.id = c.id = must_id(t, path);
	c.a = append(t, &r);
	append(t, &c);
	op_done(t);
}

void
ft_chmod(struct ft *t, const char *path, mode_t mode)
{
	struct nvfs_rec r = { .type = NVFS_REC_SETATTR, .valid = NVFS_REC_SET_MODE };
	struct stat st;

	CU_ASSERT_FATAL(fstatat(t->srcfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0);
	struct ft_undo *u = undo_push(t, UN_MODE);
	snprintf(u->p1, sizeof(u->p1), "%s", path);
	u->mode = st.st_mode & 07777;
	CU_ASSERT_FATAL(fchmodat(t->srcfd, path, mode, 0) == 0);
	CU_ASSERT_FATAL(fstatat(t->srcfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0);
	r.mode = st.st_mode & 07777;
	r.id = must_id(t, path);
	log_op(t, &r);
}

/* ft_chown -- logged as log_setattr does: the mode too (set-ID bits may go) */
void
ft_chown(struct ft *t, const char *path, uid_t uid, gid_t gid)
{
	struct nvfs_rec r = { .type = NVFS_REC_SETATTR,
			      .valid = NVFS_REC_SET_UID | NVFS_REC_SET_GID | NVFS_REC_SET_MODE };
	struct stat st;

	CU_ASSERT_FATAL(fstatat(t->srcfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0);
	struct ft_undo *u = undo_push(t, UN_OWNER);
	snprintf(u->p1, sizeof(u->p1), "%s", path);
	u->mode = st.st_mode;
	u->uid = st.st_uid;
	u->gid = st.st_gid;
	CU_ASSERT_FATAL(fchownat(t->srcfd, path, uid, gid, AT_SYMLINK_NOFOLLOW) == 0);
	CU_ASSERT_FATAL(fstatat(t->srcfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0);
	r.uid = st.st_uid;
	r.gid = st.st_gid;
	r.mode = st.st_mode & 07777;
	if (S_ISLNK(st.st_mode)) { /* a symlink has no mode of its own */
		r.valid &= ~NVFS_REC_SET_MODE;
		r.mode = 0;
	}
	r.id = must_id(t, path);
	log_op(t, &r);
}

static uint64_t
ns_of(struct timespec ts)
{
	return (uint64_t)((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
}

void
ft_utimens(struct ft *t, const char *path, int64_t atime_ns, int64_t mtime_ns)
{
	struct nvfs_rec r = { .type = NVFS_REC_SETATTR,
			      .valid = NVFS_REC_SET_ATIME | NVFS_REC_SET_MTIME };
	struct timespec ts[2] = {
		{ atime_ns / 1000000000, atime_ns % 1000000000 },
		{ mtime_ns / 1000000000, mtime_ns % 1000000000 },
	};
	struct stat st;

	CU_ASSERT_FATAL(fstatat(t->srcfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0);
	struct ft_undo *u = undo_push(t, UN_TIMES);
	snprintf(u->p1, sizeof(u->p1), "%s", path);
	u->ts[0] = st.st_atim;
	u->ts[1] = st.st_mtim;
	CU_ASSERT_FATAL(utimensat(t->srcfd, path, ts, AT_SYMLINK_NOFOLLOW) == 0);
	CU_ASSERT_FATAL(fstatat(t->srcfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0);
	r.b = ns_of(st.st_atim);
	r.c = ns_of(st.st_mtim);
	r.id = must_id(t, path);
	log_op(t, &r);
}

/* xattr_undo -- remember path's value of name */
static void
xattr_undo(struct ft *t, const char *path, const char *name, const char *abs)
{
	struct ft_undo *u = undo_push(t, UN_XATTR);
	ssize_t n;

	snprintf(u->p1, sizeof(u->p1), "%s", path);
	snprintf(u->p2, sizeof(u->p2), "%s", name);
	u->buf = malloc(NVFS_REC_MAX_XATTR);
	CU_ASSERT_FATAL(u->buf != NULL);
	n = lgetxattr(abs, name, u->buf, NVFS_REC_MAX_XATTR);
	u->had = n >= 0;
	u->len = n >= 0 ? (size_t)n : 0;
}

void
ft_setxattr(struct ft *t, const char *path, const char *name, const char *value, int flags)
{
	struct nvfs_rec r = { .type = NVFS_REC_SETXATTR, .flags = (uint32_t)flags,
			      .data = value, .data_len = strlen(value) };
	char abs[PATH_MAX * 2];

	if (!t->xattr_ok) {
		log_op(t, NULL);
		return;
	}
	snprintf(abs, sizeof(abs), "%s/%s", t->src, path);
	xattr_undo(t, path, name, abs);
	CU_ASSERT_FATAL(lsetxattr(abs, name, value, strlen(value), flags) == 0);
	snprintf(r.name, sizeof(r.name), "%s", name);
	r.id = must_id(t, path);
	log_op(t, &r);
}

void
ft_removexattr(struct ft *t, const char *path, const char *name)
{
	struct nvfs_rec r = { .type = NVFS_REC_REMOVEXATTR };
	char abs[PATH_MAX * 2];

	if (!t->xattr_ok) {
		log_op(t, NULL);
		return;
	}
	snprintf(abs, sizeof(abs), "%s/%s", t->src, path);
	xattr_undo(t, path, name, abs);
	CU_ASSERT_FATAL(lremovexattr(abs, name) == 0);
	snprintf(r.name, sizeof(r.name), "%s", name);
	r.id = must_id(t, path);
	log_op(t, &r);
}

/* ---- undo ------------------------------------------------------------------ */

static void
undo_one(struct ft *t, const struct ft_undo *u)
{
	char abs[PATH_MAX * 2];
	int fd;

	switch (u->kind) {
	case UN_UNLINK:
		CU_ASSERT_FATAL(unlinkat(t->srcfd, u->p1, 0) == 0);
		break;
	case UN_RMDIR:
		CU_ASSERT_FATAL(unlinkat(t->srcfd, u->p1, AT_REMOVEDIR) == 0);
		break;
	case UN_RENAME:
		CU_ASSERT_FATAL(renameat2(u->p1_stash ? t->stashfd : t->srcfd, u->p1, t->srcfd,
					  u->p2, RENAME_NOREPLACE) == 0);
		break;
	case UN_EXCHANGE:
		CU_ASSERT_FATAL(renameat2(t->srcfd, u->p1, t->srcfd, u->p2,
					  RENAME_EXCHANGE) == 0);
		break;
	case UN_CONTENT:
		fd = openat(t->srcfd, u->p1, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		CU_ASSERT_FATAL(fd >= 0);
		CU_ASSERT_FATAL(ftruncate(fd, 0) == 0); /* holes as they were: none */
		CU_ASSERT_FATAL(pwrite(fd, u->buf, u->len, 0) == (ssize_t)u->len);
		close(fd);
		break;
	case UN_MODE:
		CU_ASSERT_FATAL(fchmodat(t->srcfd, u->p1, u->mode, 0) == 0);
		break;
	case UN_OWNER:
		CU_ASSERT_FATAL(fchownat(t->srcfd, u->p1, u->uid, u->gid, AT_SYMLINK_NOFOLLOW) == 0);
		if (!S_ISLNK(u->mode))
			CU_ASSERT_FATAL(fchmodat(t->srcfd, u->p1, u->mode & 07777, 0) == 0);
		break;
	case UN_TIMES:
		CU_ASSERT_FATAL(utimensat(t->srcfd, u->p1, u->ts, AT_SYMLINK_NOFOLLOW) == 0);
		break;
	case UN_XATTR:
		snprintf(abs, sizeof(abs), "%s/%s", t->src, u->p1);
		fd = u->had ? lsetxattr(abs, u->p2, u->buf, u->len, 0) : lremovexattr(abs, u->p2);
		CU_ASSERT_FATAL(fd == 0);
		break;
	}
}

void
ft_undo_last(struct ft *t, unsigned k)
{
	CU_ASSERT_FATAL(k <= t->nops);
	unsigned first = t->nops - k;
	while (t->nundo && t->undo[t->nundo - 1].op >= first) {
		struct ft_undo *u = &t->undo[--t->nundo];
		undo_one(t, u);
		free(u->buf);
	}
	t->nops = first;
}

/* ---- captures ----------------------------------------------------------------- */

struct cap_ent {
	char *path;
	struct stat st;
	unsigned names;      /* names of this inode in SOURCE */
	const char *first;   /* the first of them */
};

struct cap {
	struct cap_ent *e;
	size_t n, cap;
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* cap_walk -- the entries below the directory at fd, sorted, depth first */
static void
cap_walk(struct cap *c, int fd, const char *prefix, unsigned depth)
{
	int dfd = dup(fd);
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;

	CU_ASSERT_FATAL(dfd >= 0 && depth < 64);
	d = fdopendir(dfd);
	CU_ASSERT_FATAL(d != NULL);
	rewinddir(d);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		CU_ASSERT_FATAL(names != NULL);
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t k = 0; k < n; k++) {
		if (c->n == c->cap) {
			c->cap = c->cap ? c->cap * 2 : 64;
			c->e = realloc(c->e, c->cap * sizeof(*c->e));
			CU_ASSERT_FATAL(c->e != NULL);
		}
		struct cap_ent *e = &c->e[c->n++];
		memset(e, 0, sizeof(*e));
		size_t l = strlen(prefix) + strlen(names[k]) + 2;
		e->path = malloc(l);
		CU_ASSERT_FATAL(e->path != NULL);
		snprintf(e->path, l, "%s%s%s", prefix, *prefix ? "/" : "", names[k]);
		CU_ASSERT_FATAL(fstatat(fd, names[k], &e->st, AT_SYMLINK_NOFOLLOW) == 0);
		if (S_ISDIR(e->st.st_mode)) {
			char *sub = strdup(e->path);
			int cfd = openat(fd, names[k], O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					 O_CLOEXEC);
			CU_ASSERT_FATAL(cfd >= 0);
			cap_walk(c, cfd, sub, depth + 1);
			close(cfd);
			free(sub);
		}
		free(names[k]);
	}
	free(names);
}

char *
ft_capture(const struct ft *t)
{
	struct cap c = { 0 };
	struct sbuf b = { 0 };

	cap_walk(&c, t->srcfd, "", 0);
	for (size_t i = 0; i < c.n; i++) {
		if (S_ISDIR(c.e[i].st.st_mode))
			continue;
		for (size_t k = 0; k < c.n; k++) {
			if (c.e[k].st.st_ino == c.e[i].st.st_ino &&
			    c.e[k].st.st_dev == c.e[i].st.st_dev) {
				if (!c.e[i].first)
					c.e[i].first = c.e[k].path;
				c.e[i].names++;
			}
		}
	}
	sb_add(&b, "%s", "");
	for (size_t i = 0; i < c.n; i++) {
		const struct cap_ent *e = &c.e[i];
		const struct stat *st = &e->st;
		char abs[PATH_MAX * 2];
		snprintf(abs, sizeof(abs), "%s/%s", t->src, e->path);
		sb_add(&b, "%s %06o %u:%u", e->path, (unsigned)st->st_mode, (unsigned)st->st_uid,
		       (unsigned)st->st_gid);
		if (S_ISREG(st->st_mode)) {
			size_t len;
			unsigned char *p = read_all(t->srcfd, e->path, &len);
			sb_add(&b, " size %zu csum %016" PRIx64 " ", len, nvfs_csum(p, len, 0));
			sb_bytes(&b, p, len);
			free(p);
			if (t->cap_times)
				sb_add(&b, " atime %lld.%09ld mtime %lld.%09ld",
				       (long long)st->st_atim.tv_sec, st->st_atim.tv_nsec,
				       (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
		} else if (S_ISLNK(st->st_mode)) {
			char tg[PATH_MAX];
			ssize_t n = readlinkat(t->srcfd, e->path, tg, sizeof(tg));
			CU_ASSERT_FATAL(n >= 0);
			sb_add(&b, " -> ");
			sb_bytes(&b, tg, (size_t)n);
		} else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
			sb_add(&b, " rdev %u,%u", major(st->st_rdev), minor(st->st_rdev));
		}
		/* extended attributes, sorted */
		char list[4096];
		ssize_t ln = llistxattr(abs, list, sizeof(list));
		if (ln > 0) {
			char *xn[256];
			size_t nx = 0;
			for (char *p = list; p < list + ln && nx < 256; p += strlen(p) + 1)
				xn[nx++] = p;
			qsort(xn, nx, sizeof(*xn), cmp_str);
			for (size_t k = 0; k < nx; k++) {
				unsigned char v[256];
				ssize_t vn = lgetxattr(abs, xn[k], v, sizeof(v));
				sb_add(&b, " xattr %s=", xn[k]);
				if (vn >= 0)
					sb_bytes(&b, v, (size_t)vn);
				else
					sb_add(&b, "?%d", errno);
			}
		}
		if (!S_ISDIR(st->st_mode))
			sb_add(&b, " names %u first %s", e->names, e->first);
		sb_add(&b, "\n");
	}
	for (size_t i = 0; i < c.n; i++)
		free(c.e[i].path);
	free(c.e);
	return b.p;
}

bool
ft_nlink_ok(const struct ft *t)
{
	struct cap c = { 0 };
	bool ok = true;

	cap_walk(&c, t->srcfd, "", 0);
	for (size_t i = 0; i < c.n; i++) {
		if (S_ISDIR(c.e[i].st.st_mode))
			continue;
		unsigned names = 0;
		for (size_t k = 0; k < c.n; k++)
			names += c.e[k].st.st_ino == c.e[i].st.st_ino;
		if (c.e[i].st.st_nlink != names) {
			printf("\n  %s: st_nlink %lu, %u names in SOURCE", c.e[i].path,
			       (unsigned long)c.e[i].st.st_nlink, names);
			ok = false;
		}
	}
	for (size_t i = 0; i < c.n; i++)
		free(c.e[i].path);
	free(c.e);
	return ok;
}

/* has_line -- text holds line (n bytes, without its newline) as a line */
static bool
has_line(const char *text, const char *line, size_t n)
{
	for (const char *p = text; *p;) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == n && memcmp(p, line, n) == 0)
			return true;
		p += l + (e ? 1 : 0);
	}
	return false;
}

/* diff_lines -- print the lines of a that b lacks, with mark */
static void
diff_lines(const char *a, const char *b, const char *mark)
{
	for (const char *p = a; *p;) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (!has_line(b, p, l))
			printf("\n    %s %.*s", mark, (int)l, p);
		p += l + (e ? 1 : 0);
	}
}

bool
ft_same(const char *what, const char *expect, const char *got)
{
	if (strcmp(expect, got) == 0)
		return true;
	printf("\n  %s: SOURCE differs from the expected state (- expected, + got):", what);
	diff_lines(expect, got, "-");
	diff_lines(got, expect, "+");
	return false;
}
