/* SPDX-License-Identifier: MIT */
/*
 * format.c -- encode and validate the journal's on-pmem structures (header
 * page, tail copies, sets, entries; rules H, T, J of nvfs_format.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "journal_int.h"
#include "nvfs_csum.h"
#include "nvfs_err.h"
#include "nvfs_util.h"

/* jhdr_csum -- XXH3-64 (ns seed) over header bytes 16..63 */
uint64_t
jhdr_csum(const struct nvfs_pm_journal_hdr *h, uint64_t ns_seed)
{
	return nvfs_csum((const uint8_t *)h + 16, sizeof(*h) - 16, ns_seed);
}

/* jhdr_check -- H1, H2, H4 (H3 needs the records: journal.c) */
int
jhdr_check(const struct nvfs_pm_journal_hdr *h, uint64_t ns_seed, uint64_t off)
{
	unsigned long long at = off;

	if (h->magic != NVFS_JOURNAL_MAGIC)
		return nvfs_err_set(EUCLEAN, "journal header at %#llx: bad magic "
				    "0x%016llx: the journal is incomplete or corrupt (H1)",
				    at, (unsigned long long)h->magic);
	if (h->csum != jhdr_csum(h, ns_seed))
		return nvfs_err_set(EBADMSG, "journal header at %#llx: checksum mismatch "
				    "at offset %#llx (H2)", at, at + 8);
	if (h->version != NVFS_JOURNAL_VERSION ||
	    !nvfs_mem_is_zero(h->reserved, sizeof(h->reserved)))
		return nvfs_err_set(EUCLEAN, "journal header at %#llx: field version at "
				    "offset %#llx is %u (expected %u) or reserved bytes are "
				    "set (H4)", at, at + 36, h->version, NVFS_JOURNAL_VERSION);
	if (h->bucket_order != NVFS_JOURNAL_BUCKET_ORDER)
		return nvfs_err_set(EUCLEAN, "journal header at %#llx: field bucket_order "
				    "at offset %#llx is %u, expected %u (H3)", at, at + 32,
				    h->bucket_order, NVFS_JOURNAL_BUCKET_ORDER);
	return 0;
}

/* jtail_fill -- a complete tail copy */
void
jtail_fill(struct nvfs_pm_journal_tail *t, uint64_t seed, uint64_t gen,
	   uint64_t tail_lsn, uint64_t tail_seq)
{
	memset(t, 0, sizeof(*t));
	t->magic = NVFS_JOURNAL_TAIL_MAGIC;
	t->gen = gen;
	t->tail_lsn = tail_lsn;
	t->tail_seq = tail_seq;
	t->csum = nvfs_csum((const uint8_t *)t + 16, sizeof(*t) - 16, seed);
}

/* jtail_check -- T1..T3 */
int
jtail_check(const struct nvfs_pm_journal_tail *t, uint64_t seed, uint64_t off)
{
	unsigned long long at = off;

	if (t->magic != NVFS_JOURNAL_TAIL_MAGIC)
		return nvfs_err_set(EUCLEAN, "journal tail copy at %#llx: bad magic (T1)", at);
	if (t->csum != nvfs_csum((const uint8_t *)t + 16, sizeof(*t) - 16, seed))
		return nvfs_err_set(EBADMSG, "journal tail copy at %#llx: checksum "
				    "mismatch at offset %#llx (T2)", at, at + 8);
	if (t->tail_lsn % NVFS_JOURNAL_ALIGN || t->tail_lsn >= NVFS_JOURNAL_LIMIT ||
	    t->tail_seq == 0 || t->tail_seq >= NVFS_JOURNAL_LIMIT ||
	    !nvfs_mem_is_zero(t->reserved, sizeof(t->reserved)))
		return nvfs_err_set(EUCLEAN, "journal tail copy at %#llx: tail_lsn %llu "
				    "(not aligned or out of range), tail_seq %llu (0 or out "
				    "of range) or reserved bytes set (T3)", at,
				    (unsigned long long)t->tail_lsn,
				    (unsigned long long)t->tail_seq);
	return 0;
}

/* why_set -- record a reason, return 1 ("invalid") */
static int
why_set(char *why, size_t why_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
why_set(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return 1;
}

/* jset_csum -- checksum of header bytes 16..63 and every entry header */
bool
jset_csum(const struct nvfs_journal *j, const struct nvfs_pm_jset *s, uint64_t *csum,
	  char *why, size_t why_len)
{
	XXH3_state_t st;
	const char *base = (const char *)s;
	uint64_t off = NVFS_JOURNAL_SET_HDR_BYTES;

	nvfs_csum_begin(&st, j->seed);
	XXH3_64bits_update(&st, base + 16, NVFS_JOURNAL_SET_HDR_BYTES - 16);
	for (uint32_t i = 0; i < s->nr_entries; i++) {
		if (off + NVFS_JOURNAL_ENTRY_HDR_BYTES > s->set_bytes) {
			why_set(why, why_len, "entry %u header at set offset %llu is past "
				"set_bytes %u (J3)", i, (unsigned long long)off, s->set_bytes);
			return false;
		}
		const struct nvfs_pm_jentry *e = (const void *)(base + off);
		if (e->payload_bytes > NVFS_JOURNAL_MAX_PAYLOAD ||
		    off + entry_bytes(e->payload_bytes) > s->set_bytes) {
			why_set(why, why_len, "entry %u payload of %u bytes does not fit "
				"the set (J3)", i, e->payload_bytes);
			return false;
		}
		XXH3_64bits_update(&st, e, NVFS_JOURNAL_ENTRY_HDR_BYTES);
		off += entry_bytes(e->payload_bytes);
	}
	*csum = XXH3_64bits_digest(&st);
	return true;
}

/* entries_check -- J5: every entry's type, reserved bytes and payload */
static int
entries_check(const struct nvfs_journal *j, const struct nvfs_pm_jset *s, char *why,
	      size_t why_len)
{
	const char *base = (const char *)s;
	uint64_t off = NVFS_JOURNAL_SET_HDR_BYTES;

	for (uint32_t i = 0; i < s->nr_entries; i++) {
		const struct nvfs_pm_jentry *e = (const void *)(base + off);
		if (e->type == 0 || !nvfs_mem_is_zero(e->reserved, sizeof(e->reserved)))
			return why_set(why, why_len, "entry %u (seq %llu): type 0 or "
				       "reserved bytes set (J5)", i,
				       (unsigned long long)(s->first_seq + i));
		const char *payload = base + off + NVFS_JOURNAL_ENTRY_HDR_BYTES;
		if (nvfs_csum(payload, e->payload_bytes, j->seed) != e->payload_csum)
			return why_set(why, why_len, "entry %u (seq %llu): payload "
				       "checksum mismatch (J5)", i,
				       (unsigned long long)(s->first_seq + i));
		off += entry_bytes(e->payload_bytes);
	}
	return 0;
}

/* jset_check -- J1..J5 for the set expected at (lsn, seq) */
int
jset_check(const struct nvfs_journal *j, uint64_t lsn, uint64_t seq, char *why,
	   size_t why_len)
{
	const struct nvfs_pm_jset *s = jset_at(j, lsn);
	uint64_t left = bucket_left(lsn);
	uint64_t csum;

	if (s->magic != jset_magic(j))
		return why_set(why, why_len, "no set: bad magic (J1)");
	if (s->lsn != lsn || s->first_seq != seq)
		return why_set(why, why_len, "set of lsn %llu seq %llu where lsn %llu "
			       "seq %llu was expected (J2)", (unsigned long long)s->lsn,
			       (unsigned long long)s->first_seq, (unsigned long long)lsn,
			       (unsigned long long)seq);
	if (s->set_bytes < NVFS_JOURNAL_SET_HDR_BYTES || s->set_bytes % NVFS_JOURNAL_ALIGN ||
	    s->set_bytes > left)
		return why_set(why, why_len, "set_bytes %u is not a multiple of 64 "
			       "within the %llu bytes left in the bucket (J3)",
			       s->set_bytes, (unsigned long long)left);
	if (lsn >= NVFS_JOURNAL_LIMIT || seq + s->nr_entries >= NVFS_JOURNAL_LIMIT)
		return why_set(why, why_len, "lsn %llu or sequence numbers out of range "
			       "(J3)", (unsigned long long)lsn);
	if (s->flags & ~NVFS_JSET_FLAGS_KNOWN ||
	    !nvfs_mem_is_zero(s->reserved, sizeof(s->reserved)) ||
	    ((s->flags & NVFS_JSET_PAD) && (s->nr_entries || s->set_bytes != left)) ||
	    s->nr_entries > (s->set_bytes - NVFS_JOURNAL_SET_HDR_BYTES) / NVFS_JOURNAL_ALIGN)
		return why_set(why, why_len, "flags 0x%x, nr_entries %u, a pad short of "
			       "the bucket end, or reserved bytes (J3)", s->flags,
			       s->nr_entries);
	if (!jset_csum(j, s, &csum, why, why_len))
		return 1;
	if (csum != s->csum)
		return why_set(why, why_len, "set checksum mismatch (J4)");
	return entries_check(j, s, why, why_len);
}
