/* SPDX-License-Identifier: MIT */
/*
 * ns.c -- libFuzzer target: the on-pmem FORMAT VALIDATOR.
 *
 * WHAT IS FUZZED
 *   Everything nvfs_alloc_open_pmem decides about bytes read from pmem
 *   (alloc/format.c, alloc/recover.c): both superblock copies (S1..S7), the
 *   owner-list header, the 63 owner heads (O1..O4), the chains of
 *   allocation-record pages (P1..P5, R1) and the records (A1..A5); then the
 *   SOURCE binding pages of fs/bind.c (B1..B6) through nvfs_bind_get and a
 *   read-only nvfs_bind_check, and the journal's blocks as its owner's
 *   records give them (H3: nvfs_journal_open, then a replay).  The namespace is an in-memory image (no
 *   file, no libpmem2: tests/fuzz/fuzz.h), so a run costs what the
 *   validation costs.
 *
 * INPUT
 *   byte 0: flags --
 *     0x01 recompute both superblock checksums (S2) after the chunks
 *     0x02 recompute the owner-list header checksum
 *     0x04 recompute the commit word of every live (commit != 0) owner head
 *     0x08 recompute the checksum of every record page a chunk touched
 *          whose magic is right (P2)
 *     0x10 give every binding page a chunk touched, if its magic is not 0,
 *          the namespace's binding magic and a right checksum (B1, B2)
 *     0x20 also open in CHECK|REPAIR mode (fsck -y) and reopen
 *     0x40 the device is 28 MiB (room for a journal), not the smallest
 *          namespace (17 MiB)
 *     0x80 the journal is empty (nvfs_bind_check may rebind)
 *   then chunks [u32 off][u16 len][bytes] written into the zeroed image.
 *   Without the fix-up bits a mutation almost always breaks a checksum; with
 *   them the fuzzer gets past the checksums to the rules behind them.
 *
 * PROPERTIES CHECKED (besides no crash, no ASan/UBSan report, no abort)
 *   - strict open and CHECK open agree: strict succeeds iff CHECK reports no
 *     problem (for the errors CHECK reports rather than returns);
 *   - after any successful open, nvfs_alloc_check() holds, and every block
 *     of every owner lies in the allocatable pages, is aligned to its order
 *     and overlaps no other block (A3..A5 as the caller sees them);
 *   - a binding nvfs_bind_get returns is an absolute, NUL-free path of at
 *     most NVFS_BIND_PATH_MAX bytes on an order-0 page of the page area;
 *   - a journal that opens has >= 2 buckets, sorted, inside the namespace,
 *     and ring_bytes to match;
 *   - after a REPAIR open that repaired every problem it found, the image
 *     opens strictly (fsck -y leaves a namespace that mounts).
 */
#include <limits.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "nvfs_alloc.h"
#include "nvfs_bind.h"
#include "nvfs_csum.h"
#include "nvfs_err.h"
#include "nvfs_journal.h"
#include "nvfs_ns.h"
#include "../../journal/journal_int.h"

#define F_SB     0x01
#define F_OL     0x02
#define F_OWNER  0x04
#define F_RECS   0x08
#define F_BIND   0x10
#define F_REPAIR 0x20
#define F_BIG    0x40
#define F_EMPTY  0x80

/* with F_BIG: room for the smallest journal (2 buckets and its header page) */
#define IMG_MAX  (NVFS_PAGES_OFF + 3 * NVFS_JOURNAL_BUCKET_BYTES)
#define MAX_MARKS 256

static uint8_t *img;
static int src_fd = -1;
static char src_path[PATH_MAX];

/* what the chunks of this input wrote */
struct marks {
	size_t off[MAX_MARKS], len[MAX_MARKS];
	unsigned n;
	size_t hi;              /* end of the highest write */
};

static void
mark(void *arg, size_t off, size_t len)
{
	struct marks *m = arg;

	if (m->n < MAX_MARKS) {
		m->off[m->n] = off;
		m->len[m->n] = len;
		m->n++;
	} else {
		/* more chunks than marks: the last mark grows to cover them all */
		size_t lo = m->off[MAX_MARKS - 1] < off ? m->off[MAX_MARKS - 1] : off;
		size_t hi = m->off[MAX_MARKS - 1] + m->len[MAX_MARKS - 1];
		if (off + len > hi)
			hi = off + len;
		m->off[MAX_MARKS - 1] = lo;
		m->len[MAX_MARKS - 1] = hi - lo;
	}
	if (off + len > m->hi)
		m->hi = off + len;
}

/* fixup -- recompute the checksums the flags ask for (see INPUT) */
static void
fixup(unsigned flags, const struct marks *m, size_t size)
{
	struct nvfs_pm_sb *sb = (struct nvfs_pm_sb *)(img + NVFS_SB_OFF);
	uint64_t seed = nvfs_ns_seed(sb);

	/* per chunk, the record pages and binding pages it overlaps */
	for (unsigned i = 0; i < m->n; i++) {
		size_t lo = m->off[i], hi = m->off[i] + m->len[i];
		if ((flags & F_RECS) && lo < NVFS_PAGES_OFF && hi > NVFS_RECS_AREA_OFF) {
			size_t first = lo < NVFS_RECS_AREA_OFF ? 0 :
				(lo - NVFS_RECS_AREA_OFF) / NVFS_RECS_PAGE_BYTES;
			for (size_t k = first; k < NVFS_RECS_PAGES &&
			     nvfs_ns_recs_off((unsigned)k) < hi; k++) {
				struct nvfs_pm_recs_page *p =
					(void *)(img + nvfs_ns_recs_off((unsigned)k));
				if (p->magic == NVFS_RECS_MAGIC)
					p->csum = nvfs_csum((uint8_t *)p + 16, 32, seed);
			}
		}
		if ((flags & F_BIND) && hi > NVFS_PAGES_OFF) {
			size_t off = lo < NVFS_PAGES_OFF ? NVFS_PAGES_OFF :
				lo & ~(size_t)(NVFS_PAGE_BYTES - 1);
			for (; off < hi && off < size; off += NVFS_PAGE_BYTES) {
				struct nvfs_pm_bind *p = (void *)(img + off);
				if (!p->magic || p->magic == NVFS_JOURNAL_MAGIC)
					continue; /* unwritten, or the journal's header */
				p->magic = nvfs_pm_bind_magic(seed);
				p->csum = nvfs_csum((uint8_t *)p + 16, sizeof(*p) - 16, seed);
			}
		}
	}
	if (flags & F_OWNER) {
		for (unsigned s = 0; s < NVFS_OWNER_SLOTS; s++) {
			struct nvfs_pm_owner_head *h =
				(void *)(img + nvfs_ns_owner_head_off(s));
			if (h->commit)
				h->commit = nvfs_ns_owner_commit(seed, s, h);
		}
	}
	if (flags & F_OL) {
		struct nvfs_pm_owner_list_hdr *h = (void *)(img + NVFS_OWNER_LIST_OFF);
		h->csum = nvfs_csum((uint8_t *)h + 16, NVFS_OWNER_LIST_HDR_BYTES - 16, seed);
	}
	if (flags & F_SB) {
		struct nvfs_pm_sb *b = (struct nvfs_pm_sb *)(img + NVFS_SB_BACKUP_OFF);
		sb->csum = nvfs_ns_sb_csum(sb);
		b->csum = nvfs_ns_sb_csum(b);
	}
}

/* ---- invariants of an open namespace --------------------------------------- */

struct blocks {
	const struct nvfs_pm_sb *sb;
	uint8_t used[(IMG_MAX - NVFS_PAGES_OFF) / NVFS_PAGE_BYTES];
};

static int
block_check(void *arg, uint64_t off, unsigned order)
{
	struct blocks *b = arg;
	uint64_t first = b->sb->pages_off / NVFS_PAGE_BYTES;
	uint64_t pg = off / NVFS_PAGE_BYTES, n = UINT64_C(1) << order;

	CHECK(order < NVFS_MAX_ORDER);
	CHECK(off % NVFS_PAGE_BYTES == 0);
	CHECK(pg % n == 0);
	CHECK(pg >= first && pg - first + n <= b->sb->pages_total);
	CHECK(off + (n << NVFS_PAGE_SHIFT) <= b->sb->ns_bytes);
	for (uint64_t i = pg - first; i < pg - first + n; i++) {
		CHECK(!b->used[i]);
		b->used[i] = 1;
	}
	return 0;
}

static void
open_invariants(struct nvfs_alloc *a, unsigned flags)
{
	static struct blocks b;
	struct nvfs_alloc_stats st;
	struct nvfs_bind_info bi;
	char note[512];

	CHECK(nvfs_alloc_check(a) == 0);
	memset(&b, 0, sizeof(b));
	b.sb = nvfs_alloc_sb(a);
	CHECK(b.sb->ns_bytes <= IMG_MAX);
	uint64_t used = 0;
	for (int o = nvfs_alloc_owner_next(a, -1); o >= 0; o = nvfs_alloc_owner_next(a, o)) {
		struct nvfs_alloc_owner_info oi;
		CHECK(nvfs_alloc_owner_info(a, o, &oi) == 0);
		CHECK(memchr(oi.label, 0, sizeof(oi.label)) != NULL);
		CHECK(nvfs_alloc_foreach(a, o, block_check, &b) == 0);
		used += oi.nr_pages;
	}
	nvfs_alloc_stats(a, &st);
	CHECK(st.pages_total == b.sb->pages_total);
	CHECK(st.pages_free + used == st.pages_total);

	int rc = nvfs_bind_get(a, &bi);
	CHECK(rc == 0 || rc == -ENOENT || rc == -EUCLEAN);
	if (rc == 0) {
		size_t n = strnlen(bi.path, sizeof(bi.path));
		CHECK(n >= 1 && n <= NVFS_BIND_PATH_MAX && bi.path[0] == '/');
		CHECK(bi.page_off % NVFS_PAGE_BYTES == 0 && bi.page_off >= NVFS_PAGES_OFF &&
		      bi.page_off + NVFS_PAGE_BYTES <= b.sb->ns_bytes);
		CHECK(bi.gen >= 1 && bi.gen < NVFS_BIND_GEN_LIMIT);
	}
	/* read-only: decides, writes nothing (the image is not repaired here) */
	rc = nvfs_bind_check(a, src_path, src_fd, flags & F_EMPTY, true, note, sizeof(note));
	CHECK(rc == 0 || rc == -EUCLEAN || rc == -EXDEV);
	CHECK(memchr(note, 0, sizeof(note)) != NULL);
	CHECK(strchr(note, '\n') == NULL);

	/* the journal is found through its owner's records (H3): whatever
	 * they say, its blocks are inside the namespace */
	struct nvfs_journal *j;
	rc = nvfs_journal_open(a, NULL, NVFS_JOURNAL_RDONLY, &j);
	CHECK(rc == 0 || rc == -ENOENT || rc == -EUCLEAN || rc == -EBADMSG);
	if (rc == 0) {
		CHECK(j->nr_buckets >= NVFS_JOURNAL_MIN_BUCKETS);
		CHECK(j->ring_bytes == (uint64_t)j->nr_buckets * NVFS_JOURNAL_BUCKET_BYTES);
		for (unsigned i = 0; i < j->nr_buckets; i++) {
			CHECK(j->bucket_off[i] >= NVFS_PAGES_OFF &&
			      j->bucket_off[i] + NVFS_JOURNAL_BUCKET_BYTES <= b.sb->ns_bytes);
			CHECK(i == 0 || j->bucket_off[i] > j->bucket_off[i - 1]);
		}
		CHECK(j->hdr_off >= NVFS_PAGES_OFF &&
		      j->hdr_off + NVFS_PAGE_BYTES <= b.sb->ns_bytes);
		CHECK(nvfs_journal_replay(j, NULL, NULL, NULL) == 0);
		nvfs_journal_close(&j);
	}
}

/* one_open -- open img with opts (NULL: strict); invariants if it opened */
static int
one_open(size_t size, struct nvfs_alloc_opts *opts, bool readonly, unsigned flags,
	 bool *ro_out)
{
	struct nvfs_alloc *a;
	int rc = nvfs_alloc_open_pmem(fz_pmem(img, size, readonly), opts, &a);

	CHECK(rc <= 0);
	if (rc == 0) {
		if (ro_out)
			*ro_out = nvfs_alloc_readonly(a);
		open_invariants(a, flags);
		nvfs_alloc_close(&a);
	} else {
		/* one line, never empty */
		CHECK(nvfs_errmsg()[0] != '\0' && !strchr(nvfs_errmsg(), '\n'));
	}
	return rc;
}

static void mkcorpus(const char *dir);

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc; (void)argv;
	img = fz_map(IMG_MAX);
	/* a SOURCE for nvfs_bind_check: any directory (only its identity is read) */
	snprintf(src_path, sizeof(src_path), "/");
	src_fd = open(src_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (src_fd < 0) {
		perror("fuzz: open /");
		exit(2);
	}
	if (fz_mkcorpus_dir()) {
		mkcorpus(fz_mkcorpus_dir());
		exit(0);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct marks m = { .n = 0 };
	uint8_t flags;

	if (!fz_take(&in, &flags, 1))
		return 0;
	size_t img_size = (flags & F_BIG) ? IMG_MAX : NVFS_MIN_NS_BYTES;
	fz_chunks(&in, img, img_size, mark, &m);
	fixup(flags, &m, img_size);

	bool ro = false;
	int strict = one_open(img_size, NULL, true, flags, NULL);
	struct nvfs_alloc_opts co = { .flags = NVFS_ALLOC_CHECK | NVFS_ALLOC_RDONLY };
	int check = one_open(img_size, &co, true, flags, NULL);
	if (getenv("NVFS_FUZZ_DEBUG"))
		fprintf(stderr, "ns: flags %#x: strict %d, check %d with %u problems: %s\n",
			flags, strict, check, co.nr_problems, nvfs_errmsg());
	/* CHECK mode returns only what it cannot go past: a bad superblock */
	if (strict == 0)
		CHECK(check == 0 && co.nr_problems == 0);
	if (check == 0 && co.nr_problems == 0)
		CHECK(strict == 0);
	if (check != 0)
		CHECK(strict != 0);

	if (flags & F_REPAIR) {
		struct nvfs_alloc_opts ro_opts = { .flags = NVFS_ALLOC_CHECK | NVFS_ALLOC_REPAIR };
		int rc = one_open(img_size, &ro_opts, false, flags, &ro);
		if (rc == 0 && !ro && ro_opts.nr_repaired == ro_opts.nr_problems) {
			struct nvfs_alloc_opts again = { .flags = NVFS_ALLOC_CHECK |
							  NVFS_ALLOC_RDONLY };
			CHECK(one_open(img_size, NULL, true, flags, NULL) == 0);
			CHECK(one_open(img_size, &again, true, flags, NULL) == 0 &&
			      again.nr_problems == 0);
		}
	}
	fz_zero(img, IMG_MAX);
	return 0;
}

/* ---- seeds (NVFS_FUZZ_MKCORPUS) ---------------------------------------------- */

static const uint8_t ns_uuid[NVFS_UUID_BYTES] = {
	0x6e, 0x76, 0x66, 0x73, 0x2d, 0x66, 0x75, 0x7a,
	0x7a, 0x2d, 0x6e, 0x73, 0x00, 0x00, 0x00, 0x01 };

/* seed -- the current image as an input with flags */
static void
seed(const char *dir, const char *name, uint8_t flags)
{
	struct fz_buf b = { 0 };

	fz_put(&b, &flags, 1);
	fz_chunk_nz(&b, NVFS_SB_OFF, img + NVFS_SB_OFF, IMG_MAX - NVFS_SB_OFF);
	fz_seed_write(dir, name, b.p, b.len);
	free(b.p);
}

static struct nvfs_alloc *
seed_open(void)
{
	struct nvfs_alloc *a;

	if (nvfs_alloc_open_pmem(fz_pmem(img, IMG_MAX, false), NULL, &a)) {
		fprintf(stderr, "mkcorpus: %s\n", nvfs_errmsg());
		exit(2);
	}
	return a;
}

static void
must(int rc, const char *what)
{
	if (rc < 0) {
		fprintf(stderr, "mkcorpus: %s: %s\n", what, nvfs_errmsg());
		exit(2);
	}
}

static void
mkcorpus(const char *dir)
{
	static const uint8_t u1[NVFS_UUID_BYTES] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
						     13, 14, 15, 16 };
	static const uint8_t u2[NVFS_UUID_BYTES] = { 0xaa, 0xbb, 0xcc, 0xdd };
	const uint8_t all = F_SB | F_OL | F_OWNER | F_RECS | F_BIND | F_BIG;
	struct nvfs_alloc *a;
	uint64_t off;

	/* 1. an empty namespace, as mkfs makes it */
	struct nvfs_pmem *pm = fz_pmem(img, IMG_MAX, false);
	must(nvfs_ns_format(pm, IMG_MAX, ns_uuid, "fuzz"), "format");
	nvfs_pmem_close(&pm);
	seed(dir, "empty", F_BIG);
	seed(dir, "empty-fix-repair", all | F_REPAIR);

	/* 2. a journal, owners with blocks of several orders, and a binding */
	a = seed_open();
	must(nvfs_journal_create(a, 2 * NVFS_JOURNAL_BUCKET_BYTES), "journal");
	int o1 = nvfs_alloc_owner_create(a, u1, "one");
	int o2 = nvfs_alloc_owner_create(a, u2, NULL);
	must(o1, "owner");
	must(o2, "owner");
	for (unsigned order = 0; order < 6; order++)
		must(nvfs_alloc_pages(a, order & 1 ? o1 : o2, order, &off), "alloc");
	must(nvfs_alloc_pages(a, o1, 0, &off), "alloc");
	must(nvfs_alloc_free(a, o1, off), "free");
	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	char note[256];
	must(nvfs_bind_check(a, "/fuzz/source", fd, true, false, note, sizeof(note)),
	     "bind");
	must(nvfs_bind_check(a, "/fuzz/moved", fd, true, false, note, sizeof(note)),
	     "rebind");
	close(fd);
	nvfs_alloc_close(&a);
	seed(dir, "owners-bound", F_BIG);
	seed(dir, "owners-bound-fix", all | F_EMPTY);
	seed(dir, "owners-bound-repair", all | F_REPAIR);

	/* 3. near-valid: the primary superblock damaged (the backup is used) */
	uint8_t save[NVFS_SB_BYTES];
	memcpy(save, img + NVFS_SB_OFF, sizeof(save));
	img[NVFS_SB_OFF + 130] ^= 1;  /* ns_bytes */
	seed(dir, "sb-primary-bad", F_BIG | F_REPAIR);
	seed(dir, "sb-primary-geometry-fixed", all | F_REPAIR);
	memcpy(img + NVFS_SB_OFF, save, sizeof(save));

	/* 4. near-valid: an owner head's label tail not zero (O3, mended) */
	struct nvfs_pm_owner_head *h = (void *)(img + nvfs_ns_owner_head_off(0));
	h->label[20] = 'x';
	seed(dir, "owner-label-tail", all | F_REPAIR);
	h->label[20] = 0;

	/* 5. near-valid: a record overlapping another one (A5) */
	struct nvfs_pm_recs_page *rp = (void *)(img + nvfs_ns_recs_off(0));
	uint64_t save_rec = rp->recs[1];
	rp->recs[1] = rp->recs[0];
	seed(dir, "record-overlap", all | F_REPAIR);
	rp->recs[1] = save_rec;

	/* 6. near-valid: a record page chained twice (P5) */
	uint64_t save_next = rp->next_off;
	rp->next_off = nvfs_ns_recs_off(0);
	seed(dir, "recs-cycle", all | F_REPAIR);
	rp->next_off = save_next;

	/* 7. near-valid: the binding's path not NUL-padded (B4), and a binding
	 * page of order 1 (B6) */
	for (uint64_t p = NVFS_PAGES_OFF; p < IMG_MAX; p += NVFS_PAGE_BYTES) {
		struct nvfs_pm_bind *bp = (void *)(img + p);
		if (bp->magic != nvfs_pm_bind_magic(nvfs_ns_seed((void *)(img + NVFS_SB_OFF))))
			continue;
		bp->path[bp->path_bytes + 1] = 'x';
		seed(dir, "bind-path-unpadded", all | F_EMPTY);
		bp->path[bp->path_bytes + 1] = 0;
		bp->gen = 0;
		seed(dir, "bind-gen-zero", all);
		break;
	}
}
