/* SPDX-License-Identifier: MIT */
/*
 * journal.c -- libFuzzer target: the JOURNAL REPLAY PARSER and the records
 * replay decodes.
 *
 * WHAT IS FUZZED
 *   The bytes of the journal ring (and, with a flag, its tail copies) of a
 *   real journal made by nvfs_journal_create in an in-memory namespace;
 *   then the open-time scan (jscan_end), nvfs_journal_replay with its set
 *   and entry validation (journal/format.c jset_check: J1..J5; replay.c:
 *   walk and find_damage) and, for every entry replay hands out, the file
 *   system's record decoder (fs/rec.c, tests/fuzz/rec_check.h), as
 *   fs/replay.c does at mount.
 *
 * INPUT
 *   byte 0: flags --
 *     0x01 recompute the checksum of each set on the walk from the tail
 *          (J4), as far as the sets' bounds hold
 *     0x02 recompute each entry's payload checksum on that walk (J5)
 *     0x04 then 16 bytes: tail_lsn, tail_seq, written as tail copy 0 with
 *          a right checksum and a newer gen: replay starts there
 *     0x08 then 128 bytes: both tail copies, raw (T1..T3)
 *   then the ring bytes, from the ring position of the tail onwards (they
 *   wrap from one 4 MiB bucket into the next as the ring does).
 *
 * PROPERTIES CHECKED (besides no crash, no ASan/UBSan report)
 *   - open either succeeds or fails with one line (both tail copies bad);
 *   - every entry replay hands out has a type, a payload that lies inside
 *     one bucket of the ring, consecutive sequence numbers from the tail's,
 *     an lsn within one ring's length of the tail;
 *   - the report agrees with what was handed out (entries, first/last seq,
 *     stop_seq = tail_seq + entries), damage lies after the stop point;
 *   - every fs record among the entries passes rec_check.h (decoded or
 *     refused naming its rule; accepted ones within bounds, round-trip).
 */
#include "fuzz.h"
#include "nvfs_alloc.h"
#include "nvfs_csum.h"
#include "nvfs_err.h"
#include "nvfs_journal.h"
#include "nvfs_ns.h"
#include "rec_check.h"
#include "../../journal/journal_int.h"

#define F_SETCSUM  0x01
#define F_PAYCSUM  0x02
#define F_TAIL     0x04
#define F_RAWTAIL  0x08

/* the namespace: metadata, the header page and 2 buckets, 4 MiB-aligned */
#define IMG_BYTES  (NVFS_PAGES_OFF + 3 * NVFS_JOURNAL_BUCKET_BYTES)
#define JOURNAL_ID UINT64_C(0x6e7666732d667a7a)   /* fixed: seeds match */

static const uint8_t ns_uuid[NVFS_UUID_BYTES] = {
	0x6e, 0x76, 0x66, 0x73, 0x2d, 0x66, 0x75, 0x7a,
	0x7a, 0x2d, 0x6a, 0x6f, 0x00, 0x00, 0x00, 0x01 };

static uint8_t *img;
static struct nvfs_alloc *alloc;          /* open for the whole run */
static uint64_t bucket_off[2], hdr_off, jseed;
static uint64_t ring_bytes;
static uint8_t hdr_page[NVFS_PAGE_BYTES];  /* the header page as created */
static uint64_t dirty_lo, dirty_hi;        /* ring lsns written by this run */

/* dirty -- [lsn, lsn+n) of the ring was written: zero it after the run */
static void
dirty(uint64_t lsn, uint64_t n)
{
	if (dirty_hi == dirty_lo) {
		dirty_lo = lsn;
		dirty_hi = lsn;
	}
	if (lsn < dirty_lo)
		dirty_lo = lsn;
	if (lsn + n > dirty_hi)
		dirty_hi = lsn + n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
must(int rc, const char *what)
{
	if (rc < 0) {
		fprintf(stderr, "fuzz journal: %s: %s\n", what, nvfs_errmsg());
		exit(2);
	}
}

/* ring -- the address of ring position pos (< ring_bytes) */
static uint8_t *
ring(uint64_t pos)
{
	return img + bucket_off[pos / NVFS_JOURNAL_BUCKET_BYTES] +
	       pos % NVFS_JOURNAL_BUCKET_BYTES;
}

/* ring_write -- n bytes at lsn onwards, wrapping at bucket and ring ends */
static void
ring_write(uint64_t lsn, const uint8_t *p, size_t n)
{
	if (n > ring_bytes)
		n = ring_bytes;
	if (p)
		dirty(lsn, n);
	while (n) {
		uint64_t pos = lsn % ring_bytes;
		size_t k = NVFS_JOURNAL_BUCKET_BYTES - pos % NVFS_JOURNAL_BUCKET_BYTES;
		if (k > n)
			k = n;
		if (p)
			memcpy(ring(pos), p, k);
		else
			memset(ring(pos), 0, k);
		lsn += k;
		p = p ? p + k : NULL;
		n -= k;
	}
}

/*
 * fixup -- walk the sets from lsn as replay would (same bounds), and make
 * their checksums right where the flags say so
 */
static void
fixup(unsigned flags, uint64_t lsn)
{
	static struct nvfs_journal fj;   /* jset_csum reads the seed only */
	char why[160];

	fj.seed = jseed;
	if (lsn % NVFS_JOURNAL_ALIGN)
		return; /* no set there: the tail copy is refused (T3) */
	for (uint64_t end = lsn + ring_bytes; lsn < end;) {
		struct nvfs_pm_jset *s = (void *)ring(lsn % ring_bytes);
		uint64_t left = bucket_left(lsn);
		if (s->magic != (NVFS_JOURNAL_SET_MAGIC ^ JOURNAL_ID) ||
		    s->set_bytes < NVFS_JOURNAL_SET_HDR_BYTES ||
		    s->set_bytes % NVFS_JOURNAL_ALIGN || s->set_bytes > left)
			return;
		if (flags & F_PAYCSUM) {
			uint64_t off = NVFS_JOURNAL_SET_HDR_BYTES;
			for (uint32_t i = 0; i < s->nr_entries; i++) {
				if (off + NVFS_JOURNAL_ENTRY_HDR_BYTES > s->set_bytes)
					break;
				struct nvfs_pm_jentry *e = (void *)((char *)s + off);
				if (e->payload_bytes > NVFS_JOURNAL_MAX_PAYLOAD ||
				    off + entry_bytes(e->payload_bytes) > s->set_bytes)
					break;
				e->payload_csum = nvfs_csum((char *)e + NVFS_JOURNAL_ENTRY_HDR_BYTES,
							    e->payload_bytes, jseed);
				off += entry_bytes(e->payload_bytes);
			}
		}
		uint64_t csum;
		if ((flags & F_SETCSUM) && jset_csum(&fj, s, &csum, why, sizeof(why)))
			s->csum = csum;
		dirty(lsn, s->set_bytes);   /* its csums may lie past the input */
		lsn += s->set_bytes;
	}
}

/* what the replay callback saw */
struct seen {
	uint64_t tail_lsn, tail_seq;
	uint64_t entries, next_seq, last_lsn;
};

static int
entry_cb(void *arg, const struct nvfs_journal_entry *e)
{
	struct seen *s = arg;
	const uint8_t *p = e->payload;

	CHECK(e->type != 0);
	CHECK(e->payload_bytes <= NVFS_JOURNAL_MAX_PAYLOAD);
	CHECK(e->seq == s->next_seq);
	CHECK(e->lsn >= s->tail_lsn && e->lsn - s->tail_lsn < ring_bytes);
	CHECK(e->lsn >= s->last_lsn);
	bool in_bucket = false;
	for (unsigned b = 0; b < 2; b++)
		in_bucket |= p >= img + bucket_off[b] &&
			     p + e->payload_bytes <= img + bucket_off[b] +
						      NVFS_JOURNAL_BUCKET_BYTES;
	CHECK(in_bucket);
	s->entries++;
	s->next_seq++;
	s->last_lsn = e->lsn;
	fz_rec_check(e->type, e->payload, e->payload_bytes);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct nvfs_journal *j;
	struct nvfs_journal_report rep;
	uint8_t flags;
	uint64_t start = 0;

	if (!fz_take(&in, &flags, 1))
		return 0;
	uint8_t *hdr = img + hdr_off;
	if (flags & F_TAIL) {
		uint64_t t[2];
		if (!fz_take(&in, t, sizeof(t)))
			return 0;
		jtail_fill((void *)(hdr + NVFS_JOURNAL_TAIL_OFF0), jseed, 2, t[0], t[1]);
		start = t[0];
	}
	if (flags & F_RAWTAIL) {
		if (!fz_take(&in, hdr + NVFS_JOURNAL_TAIL_OFF0, 64) ||
		    !fz_take(&in, hdr + NVFS_JOURNAL_TAIL_OFF1, 64)) {
			memcpy(hdr, hdr_page, sizeof(hdr_page));
			return 0;
		}
	}
	ring_write(start, in.p, in.left);
	fixup(flags, start);

	int rc = nvfs_journal_open(alloc, NULL, NVFS_JOURNAL_RDONLY, &j);
	CHECK(rc == 0 || rc == -EUCLEAN || rc == -EBADMSG);
	if (rc == 0) {
		struct seen s = { j->tail_lsn, j->tail_seq, 0, j->tail_seq, j->tail_lsn };
		CHECK(j->tail_seq >= 1 && j->tail_seq < NVFS_JOURNAL_LIMIT);
		CHECK(j->stop_seq >= j->tail_seq && j->stop_lsn >= j->tail_lsn &&
		      j->stop_lsn - j->tail_lsn <= ring_bytes);
		rc = nvfs_journal_replay(j, entry_cb, &s, &rep);
		CHECK(rc == 0);
		CHECK(rep.entries == s.entries);
		CHECK(rep.entries == 0 || (rep.first_seq == j->tail_seq &&
					   rep.last_seq == j->tail_seq + rep.entries - 1));
		CHECK(rep.stop_seq == j->tail_seq + rep.entries);
		CHECK(rep.stop_lsn == j->stop_lsn && rep.stop_seq == j->stop_seq);
		CHECK(memchr(rep.reason, 0, sizeof(rep.reason)) != NULL);
		if (rep.damaged) {
			CHECK(rep.skipped_sets >= 1);
			CHECK(rep.skipped_first_seq >= rep.stop_seq);
			CHECK(rep.skipped_last_seq + 1 >= rep.skipped_first_seq);
			CHECK(rep.skipped_from_lsn > rep.stop_lsn ||
			      rep.skipped_from_lsn % ring_bytes != rep.stop_lsn % ring_bytes ||
			      rep.skipped_from_lsn != rep.stop_lsn);
		}
		if (getenv("NVFS_FUZZ_DEBUG"))
			fprintf(stderr, "journal: tail %llu/%llu: %llu entries in %llu sets, "
				"stop %llu: %s%s\n", (unsigned long long)j->tail_lsn,
				(unsigned long long)j->tail_seq,
				(unsigned long long)rep.entries, (unsigned long long)rep.sets,
				(unsigned long long)rep.stop_lsn, rep.reason,
				rep.damaged ? " (damaged)" : "");
		nvfs_journal_close(&j);
	} else {
		CHECK(nvfs_errmsg()[0] && !strchr(nvfs_errmsg(), '\n'));
		if (getenv("NVFS_FUZZ_DEBUG"))
			fprintf(stderr, "journal: open: %s\n", nvfs_errmsg());
	}

	/* back to the journal as created: an empty ring, the tail at 0 (a
	 * memset of what was written: the ring stays resident, so that the
	 * scans of the whole ring take no page faults) */
	ring_write(dirty_lo, NULL, dirty_hi - dirty_lo);
	dirty_lo = dirty_hi = 0;
	memcpy(hdr, hdr_page, sizeof(hdr_page));
	return 0;
}

/* ---- setup and seeds ---------------------------------------------------------- */

static void mkcorpus(const char *dir);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct nvfs_journal *j;
	(void)argc; (void)argv;

	img = fz_map(IMG_BYTES);
	struct nvfs_pmem *pm = fz_pmem(img, IMG_BYTES, false);
	must(nvfs_ns_format(pm, IMG_BYTES, ns_uuid, "fuzz-journal"), "format");
	nvfs_pmem_close(&pm);
	must(nvfs_alloc_open_pmem(fz_pmem(img, IMG_BYTES, false), NULL, &alloc), "open");
	must(nvfs_journal_create(alloc, 2 * NVFS_JOURNAL_BUCKET_BYTES), "create");
	must(nvfs_journal_open(alloc, NULL, NVFS_JOURNAL_RDONLY, &j), "journal open");
	if (j->nr_buckets != 2) {
		fprintf(stderr, "fuzz journal: %u buckets\n", j->nr_buckets);
		exit(2);
	}
	bucket_off[0] = j->bucket_off[0];
	bucket_off[1] = j->bucket_off[1];
	ring_bytes = j->ring_bytes;
	hdr_off = j->hdr_off;
	nvfs_journal_close(&j);

	/* a fixed journal id (it is random at create), so that seeds match */
	uint64_t ns_seed = nvfs_ns_seed(nvfs_alloc_sb(alloc));
	struct nvfs_pm_journal_hdr *h = (void *)(img + hdr_off);
	h->journal_id = JOURNAL_ID;
	h->csum = jhdr_csum(h, ns_seed);
	jseed = nvfs_csum(&h->journal_id, 8, ns_seed);
	jtail_fill((void *)(img + hdr_off + NVFS_JOURNAL_TAIL_OFF0), jseed, 1, 0, 1);
	memset(img + hdr_off + NVFS_JOURNAL_TAIL_OFF1, 0, sizeof(struct nvfs_pm_journal_tail));
	memcpy(hdr_page, img + hdr_off, sizeof(hdr_page));
	memset(img + bucket_off[0], 0, NVFS_JOURNAL_BUCKET_BYTES);
	memset(img + bucket_off[1], 0, NVFS_JOURNAL_BUCKET_BYTES);

	if (fz_mkcorpus_dir()) {
		mkcorpus(fz_mkcorpus_dir());
		exit(0);
	}
	/* from here on nothing writes through the allocator: the fuzz input
	 * only changes the ring and the header page, restored after each run */
	return 0;
}

static struct nvfs_journal *seed_j;

static void
append_rec(void *arg, const struct nvfs_rec *r)
{
	unsigned char hdr[NVFS_REC_HDR_BYTES];
	struct iovec iov[4];
	int iovcnt;
	(void)arg;

	if (nvfs_rec_encode(r, hdr, iov, &iovcnt) != 0)
		exit(2);
	must((int)nvfs_journal_appendv(seed_j, r->type, iov, iovcnt) < 0 ? -1 : 0, "append");
}

/* seed_ring -- flags, [tail], and the ring from lsn to head as a seed */
static void
seed_ring(const char *dir, const char *name, uint8_t flags, uint64_t lsn, uint64_t seq,
	  uint64_t head)
{
	struct fz_buf b = { 0 };

	fz_put(&b, &flags, 1);
	if (flags & F_TAIL) {
		fz_put(&b, &lsn, 8);
		fz_put(&b, &seq, 8);
	}
	for (uint64_t l = lsn; l < head; l++)
		fz_put(&b, ring(l % ring_bytes), 1);
	fz_seed_write(dir, name, b.p, b.len);
	free(b.p);
}

static void
mkcorpus(const char *dir)
{
	struct nvfs_journal_stats st;
	struct nvfs_journal_report rep;

	must(nvfs_journal_open(alloc, NULL, 0, &seed_j), "journal open");
	must(nvfs_journal_replay(seed_j, NULL, NULL, &rep), "replay");
	fz_rec_seeds(append_rec, NULL);
	must(nvfs_journal_commit(seed_j, 0), "commit");
	fz_rec_seeds(append_rec, NULL);      /* a second set */
	must(nvfs_journal_commit(seed_j, 0), "commit");
	nvfs_journal_stats(seed_j, &st);
	seed_ring(dir, "records", 0, 0, 1, st.head_lsn);
	seed_ring(dir, "records-fix", F_SETCSUM | F_PAYCSUM, 0, 1, st.head_lsn);

	/* damage: a payload byte of the first set flipped, the second intact */
	uint8_t *p = ring(NVFS_JOURNAL_SET_HDR_BYTES + NVFS_JOURNAL_ENTRY_HDR_BYTES + 3);
	*p ^= 0x40;
	seed_ring(dir, "damaged-first-set", 0, 0, 1, st.head_lsn);
	*p ^= 0x40;
	/* a record that breaks R3 with right checksums: replay must refuse it */
	*p = 0;
	seed_ring(dir, "bad-record-fix", F_SETCSUM | F_PAYCSUM, 0, 1, st.head_lsn);

	/* raw tail copies: copy 0 as is, copy 1 a newer gen pointing further */
	{
		struct fz_buf b = { 0 };
		struct nvfs_pm_journal_tail t[2];
		uint8_t flags = F_RAWTAIL;
		memcpy(&t[0], img + hdr_off + NVFS_JOURNAL_TAIL_OFF0, sizeof(t[0]));
		jtail_fill(&t[1], jseed, 5, 0, 1);
		fz_put(&b, &flags, 1);
		fz_put(&b, t, sizeof(t));
		for (uint64_t l = 0; l < st.head_lsn; l++)
			fz_put(&b, ring(l), 1);
		fz_seed_write(dir, "raw-tails", b.p, b.len);
		free(b.p);
	}

	/* the end of bucket 0: a pad set, then sets in bucket 1 */
	must(nvfs_journal_checkpoint(seed_j, st.committed_seq), "checkpoint");
	static uint8_t big[NVFS_REC_MAX_DATA];
	memset(big, 0xa5, sizeof(big));
	for (;;) {
		nvfs_journal_stats(seed_j, &st);
		uint64_t left = NVFS_JOURNAL_BUCKET_BYTES - st.head_lsn - 768;
		if (st.head_lsn + 768 >= NVFS_JOURNAL_BUCKET_BYTES || left < 512)
			break;
		uint64_t n = left - NVFS_JOURNAL_SET_HDR_BYTES - NVFS_JOURNAL_ENTRY_HDR_BYTES -
			     NVFS_REC_HDR_BYTES - 64;
		if (n > sizeof(big))
			n = sizeof(big) - 4096;
		struct nvfs_rec r = { .type = NVFS_REC_WRITE, .id = { 12, 1 }, .data = big,
				      .data_len = n & ~(uint64_t)63 };
		append_rec(NULL, &r);
		must(nvfs_journal_commit(seed_j, 0), "commit");
	}
	must(nvfs_journal_checkpoint(seed_j, st.committed_seq), "checkpoint");
	nvfs_journal_stats(seed_j, &st);
	uint64_t tail_lsn = st.tail_lsn, tail_seq = st.tail_seq;
	for (int k = 0; k < 3; k++) {
		fz_rec_seeds(append_rec, NULL);
		must(nvfs_journal_commit(seed_j, 0), "commit");
	}
	nvfs_journal_stats(seed_j, &st);
	seed_ring(dir, "bucket-wrap", F_TAIL, tail_lsn, tail_seq, st.head_lsn);
	seed_ring(dir, "bucket-wrap-fix", F_TAIL | F_SETCSUM | F_PAYCSUM, tail_lsn, tail_seq,
		  st.head_lsn);
	nvfs_journal_close(&seed_j);
}
