/* SPDX-License-Identifier: MIT */
/*
 * bind.c -- the binding of a pmem to its SOURCE directory (see nvfs_bind.h;
 * the page layout, the rules B1..B6 and the write protocol whose steps are
 * numbered below are in nvfs_format.h, SOURCE BINDING).
 *
 * A call reads every block of the binding owner, sorts each into unwritten
 * (what a crash or a fresh allocation leaves), valid or corrupt, and then
 * decides from the binding (the valid page with the largest gen) and the
 * SOURCE it was given.  Writes never change a committed page: a new page is
 * written and committed, then the others are let go.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nvfs_alloc.h"
#include "nvfs_bind.h"
#include "nvfs_csum.h"
#include "nvfs_err.h"
#include "nvfs_ns.h"
#include "nvfs_pmem.h"
#include "nvfs_util.h"

static const uint8_t bind_uuid[NVFS_UUID_BYTES] = NVFS_BIND_OWNER_UUID;

/* Paths in error messages (512 bytes in all) and in notes are cut to this. */
#define MSG_PATH_BYTES   160
#define NOTE_PATH_BYTES  1024

enum page_state {
	PAGE_UNWRITTEN,  /* magic 0, or a stale page: ignored, reusable */
	PAGE_VALID,      /* B1..B5 hold */
	PAGE_CORRUPT,    /* a rule is broken: why says which */
};

struct bind_block {
	uint64_t off;
	unsigned order;
	enum page_state state;
	uint64_t gen;           /* PAGE_VALID only */
};

/* What the owner holds; filled by scan_owner, read by the decisions. */
struct bind_scan {
	uint64_t seed;          /* checksum seed of the namespace */
	int owner;              /* owner handle, -1: no owner */
	struct bind_block *b;   /* every block of the owner, in record order */
	unsigned n, cap;
	int cur;                /* the binding: valid, largest gen; -1: none */
	int spare;              /* an unwritten order-0 page; -1: none */
	int bad;                /* the first corrupt block; -1: none */
	char why[256];          /* bad >= 0: the broken rule, one line */
};

/* The SOURCE the caller names. */
struct source {
	const char *path;
	uint32_t len;
	uint64_t ino;
	uint64_t btime_ns;      /* 0: unknown */
};

/* show -- path as one printable line of at most size-1 bytes (middle cut) */
static const char *
show(char *out, size_t size, const char *path)
{
	size_t len = strlen(path), head = len, tail = 0;

	if (len > size - 1) {
		head = (size - 4) / 2;
		tail = size - 4 - head;
	}
	size_t o = 0;
	for (size_t i = 0; i < head; i++)
		out[o++] = path[i];
	if (tail) {
		memcpy(out + o, "...", 3);
		o += 3;
		for (size_t i = len - tail; i < len; i++)
			out[o++] = path[i];
	}
	out[o] = '\0';
	for (size_t i = 0; i < o; i++)      /* no control bytes: one line */
		if ((unsigned char)out[i] < ' ' || out[i] == 0x7f)
			out[i] = '?';
	return out;
}

/* note_set -- the caller's note, if it gave a buffer */
static void
note_set(char *note, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!note || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(note, len, fmt, ap);
	va_end(ap);
}

/* source_get -- check the caller's path and take the identity from fd */
static int
source_get(const char *path, int fd, struct source *src)
{
	struct statx stx;
	char p[MSG_PATH_BYTES];

	if (!path || path[0] != '/')
		return nvfs_err_set(EINVAL, "SOURCE path '%s' is not absolute",
				    path ? show(p, sizeof(p), path) : "(null)");
	size_t len = strlen(path);
	if (len > NVFS_BIND_PATH_MAX)
		return nvfs_err_set(ENAMETOOLONG, "SOURCE path %s is %zu bytes long: a "
				    "pmem can be bound to paths of at most %u bytes",
				    show(p, sizeof(p), path), len, NVFS_BIND_PATH_MAX);
	if (statx(fd, "", AT_EMPTY_PATH, STATX_TYPE | STATX_INO | STATX_BTIME, &stx) < 0)
		return nvfs_err_set(errno, "SOURCE %s: statx: %s", show(p, sizeof(p), path),
				    strerror(errno));
	if (!S_ISDIR(stx.stx_mode))
		return nvfs_err_set(ENOTDIR, "SOURCE %s is not a directory",
				    show(p, sizeof(p), path));
	src->path = path;
	src->len = (uint32_t)len;
	src->ino = stx.stx_ino;
	src->btime_ns = (stx.stx_mask & STATX_BTIME) ?
		(uint64_t)stx.stx_btime.tv_sec * 1000000000u + stx.stx_btime.tv_nsec : 0;
	return 0;
}

/* bind_csum -- XXH3-64 (ns seed) over bytes 16..4095 of a page */
static uint64_t
bind_csum(const struct nvfs_pm_bind *p, uint64_t seed)
{
	return nvfs_csum((const uint8_t *)p + 16, sizeof(*p) - 16, seed);
}

/*
 * page_classify -- unwritten, valid (B1..B5) or corrupt, with the rule
 * written to why.  The page is read where it is mapped; nothing is copied.
 */
static enum page_state
page_classify(const struct nvfs_pm_bind *p, uint64_t seed, uint64_t off, char *why,
	      size_t len)
{
	unsigned long long at = off;
	uint64_t magic = p->magic, want = nvfs_pm_bind_magic(seed);
	bool csum_ok = p->csum == bind_csum(p, seed);

	if (magic == 0 || (magic != want && !csum_ok))
		return PAGE_UNWRITTEN;
	if (magic != want) {
		snprintf(why, len, "binding page at %#llx: bad magic 0x%016llx, but the "
			 "rest of the page is intact (B1)", at, (unsigned long long)magic);
		return PAGE_CORRUPT;
	}
	if (!csum_ok) {
		snprintf(why, len, "binding page at %#llx: checksum mismatch at offset "
			 "%#llx (B2)", at, at + 8);
		return PAGE_CORRUPT;
	}
	if (p->version != NVFS_BIND_VERSION) {
		snprintf(why, len, "binding page at %#llx: field version at offset %#llx "
			 "is %u, expected %u (B3)", at, at + 24, p->version, NVFS_BIND_VERSION);
		return PAGE_CORRUPT;
	}
	uint32_t n = p->path_bytes;
	if (n < 1 || n > NVFS_BIND_PATH_MAX || p->path[0] != '/' ||
	    memchr(p->path, 0, n) || !nvfs_mem_is_zero(p->path + n, sizeof(p->path) - n)) {
		snprintf(why, len, "binding page at %#llx: field path_bytes at offset "
			 "%#llx is %u, or the path is not absolute, holds a NUL or is not "
			 "NUL-padded (B4)", at, at + 28, n);
		return PAGE_CORRUPT;
	}
	if (p->gen < 1 || p->gen >= NVFS_BIND_GEN_LIMIT ||
	    !nvfs_mem_is_zero(p->reserved, sizeof(p->reserved))) {
		snprintf(why, len, "binding page at %#llx: field gen at offset %#llx is "
			 "%llu, or reserved bytes are set (B5)", at, at + 16,
			 (unsigned long long)p->gen);
		return PAGE_CORRUPT;
	}
	return PAGE_VALID;
}

/* collect_block -- foreach callback: append a block of the owner */
static int
collect_block(void *arg, uint64_t off, unsigned order)
{
	struct bind_scan *s = arg;

	if (s->n == s->cap) {
		unsigned cap = s->cap ? s->cap * 2 : 4;
		struct bind_block *b = realloc(s->b, cap * sizeof(*b));
		if (!b)
			return -ENOMEM;
		s->b = b;
		s->cap = cap;
	}
	s->b[s->n++] = (struct bind_block){ .off = off, .order = order };
	return 0;
}

/* mark_bad -- remember the first corrupt block and its rule */
static void
mark_bad(struct bind_scan *s, int i, const char *why)
{
	s->b[i].state = PAGE_CORRUPT;
	if (s->bad < 0) {
		s->bad = i;
		snprintf(s->why, sizeof(s->why), "%s", why);
	}
}

/* scan_owner -- list and classify every block of the binding owner (B6 too) */
static int
scan_owner(struct nvfs_alloc *a, struct bind_scan *s)
{
	char why[sizeof(s->why)];

	memset(s, 0, sizeof(*s));
	s->cur = s->spare = s->bad = -1;
	s->seed = nvfs_ns_seed(nvfs_alloc_sb(a));
	s->owner = nvfs_alloc_owner_find(a, bind_uuid);
	if (s->owner < 0) {
		s->owner = -1;
		return 0;
	}
	int rc = nvfs_alloc_foreach(a, s->owner, collect_block, s);
	if (rc)
		return nvfs_err_set(-rc, "cannot list the SOURCE binding's pages: %s",
				    strerror(-rc));
	for (int i = 0; i < (int)s->n; i++) {
		struct bind_block *b = &s->b[i];
		const struct nvfs_pm_bind *p = nvfs_alloc_ptr(a, b->off);
		if (b->order != 0) {
			snprintf(why, sizeof(why), "binding owner holds a block of order %u at "
				 "%#llx: binding pages are order 0 (B6)", b->order,
				 (unsigned long long)b->off);
			mark_bad(s, i, why);
			continue;
		}
		b->state = page_classify(p, s->seed, b->off, why, sizeof(why));
		if (b->state == PAGE_CORRUPT)
			mark_bad(s, i, why);
		if (b->state == PAGE_UNWRITTEN && s->spare < 0)
			s->spare = i;
		if (b->state != PAGE_VALID)
			continue;
		b->gen = p->gen;
		for (int k = 0; k < i; k++)
			if (s->b[k].state == PAGE_VALID && s->b[k].gen == b->gen) {
				snprintf(why, sizeof(why), "binding pages at %#llx and %#llx "
					 "both have gen %llu (B6)", (unsigned long long)s->b[k].off,
					 (unsigned long long)b->off, (unsigned long long)b->gen);
				mark_bad(s, i, why);
			}
		if (b->state == PAGE_VALID && (s->cur < 0 || b->gen > s->b[s->cur].gen))
			s->cur = i;
	}
	return 0;
}

/*
 * discard -- protocol step 5: every block of the owner but keep, magic
 * zeroed (persisted) and then freed; keep == 0 keeps none.
 */
static int
discard(struct nvfs_alloc *a, struct bind_scan *s, uint64_t keep)
{
	struct nvfs_pmem *pm = nvfs_alloc_pmem(a);
	int rc;

	for (unsigned i = 0; i < s->n; i++) {
		if (s->b[i].off == keep)
			continue;
		uint64_t *magic = nvfs_alloc_ptr(a, s->b[i].off);
		if (*magic && (rc = nvfs_pmem_store64(pm, magic, 0)))
			return rc;
		if ((rc = nvfs_alloc_free(a, s->owner, s->b[i].off)))
			return rc;
	}
	return 0;
}

/*
 * bind_write -- write a binding of src by the protocol of nvfs_format.h,
 * whose step numbers are the persist points:
 *   1. a page: the spare unwritten page, else a new block (the owner is
 *      created first if absent); the allocator makes its records durable;
 *   2. magic := 0, persisted, unless it is 0: from here on the page reads
 *      as unwritten, whatever a crash keeps of step 3;
 *   3. bytes 8..4095 (gen = the binding's gen + 1), persisted;
 *   4. magic := nvfs_pm_bind_magic(seed), one 8-byte store, persisted: the
 *      commit.  The new page now outranks any old one;
 *   5. discard every other block (zeroed, then freed).
 */
static int
bind_write(struct nvfs_alloc *a, struct bind_scan *s, const struct source *src)
{
	struct nvfs_pmem *pm = nvfs_alloc_pmem(a);
	struct nvfs_pm_bind img;
	uint64_t off;
	int rc;

	if (s->owner < 0 && (s->owner = nvfs_alloc_owner_get(a, bind_uuid, "bind")) < 0) {
		rc = s->owner;
		s->owner = -1;
		return nvfs_err_prefix(-rc, "cannot bind the pmem to its SOURCE");
	}
	if (s->spare >= 0)
		off = s->b[s->spare].off;
	else if ((rc = nvfs_alloc_pages(a, s->owner, 0, &off)))          /* step 1 */
		return nvfs_err_prefix(-rc, "no page for the SOURCE binding");
	struct nvfs_pm_bind *p = nvfs_alloc_ptr(a, off);
	if (p->magic && (rc = nvfs_pmem_store64(pm, &p->magic, 0)))     /* step 2 */
		return rc;

	memset(&img, 0, sizeof(img));
	img.gen = s->cur >= 0 ? s->b[s->cur].gen + 1 : 1;
	img.version = NVFS_BIND_VERSION;
	img.path_bytes = src->len;
	img.src_ino = src->ino;
	img.src_btime_ns = src->btime_ns;
	memcpy(img.path, src->path, src->len);
	img.csum = bind_csum(&img, s->seed);
	memcpy((char *)p + 8, (const char *)&img + 8, sizeof(img) - 8);
	if ((rc = nvfs_pmem_persist(pm, p, sizeof(*p))))                 /* step 3 */
		return rc;
	if ((rc = nvfs_pmem_store64(pm, &p->magic, nvfs_pm_bind_magic(s->seed))))
		return rc;                                               /* step 4 */
	return discard(a, s, off);                                       /* step 5 */
}

/* same_identity -- equal inodes and btimes, an unknown (0) btime matching any */
static bool
same_identity(const struct nvfs_pm_bind *p, const struct source *src)
{
	return p->src_ino == src->ino &&
	       (!p->src_btime_ns || !src->btime_ns || p->src_btime_ns == src->btime_ns);
}

/* on_corrupt -- a rule is broken: rewrite only if nothing waits in the journal */
static int
on_corrupt(struct nvfs_alloc *a, struct bind_scan *s, const struct source *src,
	   bool journal_empty, bool ro, char *note, size_t note_len)
{
	char y[MSG_PATH_BYTES];
	int rc;

	if (!journal_empty)
		return nvfs_err_set(EUCLEAN, "%s; the journal holds entries not yet applied "
				    "to a SOURCE this pmem can no longer name, so it is not "
				    "rebound to %s (mkfs.nvfs -f to start over)", s->why,
				    show(y, sizeof(y), src->path));
	if (ro) {
		note_set(note, note_len, "%s; not rewritten (read-only): its journal is "
			 "empty", s->why);
		return 0;
	}
	if ((rc = bind_write(a, s, src)))
		return rc;
	note_set(note, note_len, "%s; rewrote the binding for %s: its journal was empty",
		 s->why, show(y, sizeof(y), src->path));
	return 0;
}

/* on_bound -- compare the binding with src and act (see nvfs_bind_check) */
static int
on_bound(struct nvfs_alloc *a, struct bind_scan *s, const struct source *src,
	 bool journal_empty, bool ro, char *note, size_t note_len)
{
	const struct nvfs_pm_bind *p = nvfs_alloc_ptr(a, s->b[s->cur].off);
	bool same_path = p->path_bytes == src->len && !memcmp(p->path, src->path, src->len);
	char *x = malloc(NOTE_PATH_BYTES), *y = malloc(NOTE_PATH_BYTES);
	int rc = 0;

	if (!x || !y) {
		rc = nvfs_err_set(ENOMEM, "out of memory checking the SOURCE binding");
	} else if (same_identity(p, src) && same_path) {
		rc = ro ? 0 : discard(a, s, s->b[s->cur].off);  /* leftovers of a crash */
	} else if (same_identity(p, src)) {
		show(x, NOTE_PATH_BYTES, (const char *)p->path);
		show(y, NOTE_PATH_BYTES, src->path);
		if (!ro && (rc = bind_write(a, s, src)) == 0)
			note_set(note, note_len, "SOURCE moved from %s to %s", x, y);
		else if (ro)
			note_set(note, note_len, "SOURCE moved from %s to %s (not recorded: "
				 "read-only)", x, y);
	} else if (!journal_empty && same_path) {
		rc = nvfs_err_set(EXDEV, "pmem journals the directory that was at %s, and "
				  "holds entries not yet applied to it, but %s is another "
				  "directory now (made again?); mount the old one, or "
				  "mkfs.nvfs -f to start over (the entries are lost)",
				  show(x, MSG_PATH_BYTES, (const char *)p->path),
				  show(y, MSG_PATH_BYTES, src->path));
	} else if (!journal_empty) {
		rc = nvfs_err_set(EXDEV, "pmem journals SOURCE %s, not %s, and holds entries "
				  "not yet applied to it; mount it with its SOURCE (or "
				  "mkfs.nvfs -f to start over)",
				  show(x, MSG_PATH_BYTES, (const char *)p->path),
				  show(y, MSG_PATH_BYTES, src->path));
	} else {
		show(x, NOTE_PATH_BYTES, (const char *)p->path);
		show(y, NOTE_PATH_BYTES, src->path);
		if (!ro && (rc = bind_write(a, s, src)) == 0)
			note_set(note, note_len, "pmem was bound to %s (another directory); "
				 "rebound to %s: its journal was empty", x, y);
		else if (ro)
			note_set(note, note_len, "pmem is bound to %s (another directory), not "
				 "to %s; not rebound (read-only): its journal is empty", x, y);
	}
	free(x);
	free(y);
	return rc;
}

/* nvfs_bind_check -- see nvfs_bind.h */
int
nvfs_bind_check(struct nvfs_alloc *a, const char *source_realpath, int source_fd,
		bool journal_empty, bool readonly, char *note, size_t note_len)
{
	struct bind_scan s;
	struct source src;
	int rc;

	if (note && note_len)
		note[0] = '\0';
	if ((rc = source_get(source_realpath, source_fd, &src)))
		return rc;
	bool ro = readonly || nvfs_alloc_readonly(a);
	if ((rc = scan_owner(a, &s)) == 0) {
		if (s.bad >= 0)
			rc = on_corrupt(a, &s, &src, journal_empty, ro, note, note_len);
		else if (s.cur < 0)
			rc = ro ? 0 : bind_write(a, &s, &src);  /* not bound (yet) */
		else
			rc = on_bound(a, &s, &src, journal_empty, ro, note, note_len);
	}
	free(s.b);
	return rc;
}

/* nvfs_bind_get -- see nvfs_bind.h */
int
nvfs_bind_get(struct nvfs_alloc *a, struct nvfs_bind_info *info)
{
	struct bind_scan s;
	int rc;

	if ((rc = scan_owner(a, &s)) == 0) {
		if (s.bad >= 0) {
			rc = nvfs_err_set(EUCLEAN, "%s", s.why);
		} else if (s.cur < 0) {
			rc = nvfs_err_set(ENOENT, "the pmem is not bound to a SOURCE");
		} else {
			const struct nvfs_pm_bind *p = nvfs_alloc_ptr(a, s.b[s.cur].off);
			memset(info, 0, sizeof(*info));
			memcpy(info->path, p->path, p->path_bytes);
			info->ino = p->src_ino;
			info->btime_ns = p->src_btime_ns;
			info->gen = p->gen;
			info->page_off = s.b[s.cur].off;
		}
	}
	free(s.b);
	return rc;
}
