/* SPDX-License-Identifier: MIT */
/*
 * recover.c -- validate a namespace at open and rebuild the allocator's DRAM
 * state from the owner lists (nvm-pages' init_owner_info and
 * init_nvm_free_space, with every read bounds-checked).
 *
 * Strict mode stops at the first problem with its message.  CHECK mode
 * reports each problem and drops the invalid object from the DRAM state;
 * with REPAIR it also writes the drop to pmem, each with the same one-word
 * commit the runtime uses:
 *   bad owner head              -> commit word := 0 (slot becomes free)
 *   bad or repeated record page -> the link to it := 0 (chain is cut there)
 *   bad or overlapping record   -> record word := 0
 * Every such drop makes pages free that an owner may still reference; fsck
 * says so for each.  Nothing else is ever written at open.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_int.h"
#include "nvfs_err.h"

/*
 * problem -- a problem was found and described with nvfs_err_set.  Strict:
 * return rc.  CHECK: report it (with what the repair does), store fix_value
 * into *fix_word on pmem if repairing, and return 0 so the caller drops or
 * mends the object in DRAM the same way and goes on.  A failed repair store
 * latches the allocator (a->failed): DRAM and pmem may then disagree.
 */
static int
problem(struct nvfs_alloc *a, struct nvfs_alloc_opts *o, int rc, const char *repair,
	uint64_t *fix_word, uint64_t fix_value)
{
	bool repaired = false;
	char msg[640];

	if (!o || !(o->flags & NVFS_ALLOC_CHECK))
		return rc;
	o->nr_problems++;
	snprintf(msg, sizeof(msg), "%s%s%s", nvfs_errmsg(), repair ? "; " : "",
		 repair ? repair : "");
	if ((o->flags & NVFS_ALLOC_REPAIR) && !a->readonly && fix_word && !a->failed) {
		int prc = nvfs_pmem_store64(a->pm, fix_word, fix_value);
		if (prc)
			a->failed = prc;
		repaired = prc == 0;
		o->nr_repaired += repaired;
	}
	nvfs_err_set(-rc, "%s", msg);
	if (o->problem)
		o->problem(o->arg, msg, repaired);
	return 0;
}

/* copy_repair -- rewrite a bad superblock copy from the good one */
static void
copy_repair(struct nvfs_alloc *a, struct nvfs_alloc_opts *o, uint64_t dst_off)
{
	o->nr_problems++;
	bool repaired = false;
	if ((o->flags & NVFS_ALLOC_REPAIR) && !a->readonly) {
		memcpy(a->pm->base + dst_off, &a->sb, sizeof(a->sb));
		int rc = nvfs_pmem_persist(a->pm, a->pm->base + dst_off, sizeof(a->sb));
		if (rc)
			a->failed = rc;
		repaired = rc == 0;
		o->nr_repaired += repaired;
	}
	if (o->problem)
		o->problem(o->arg, nvfs_errmsg(), repaired);
}

/* sb_copy_check -- check the copy at off; 0 or the error (message set) */
static int
sb_copy_check(struct nvfs_alloc *a, uint64_t off, struct nvfs_pm_sb *copy)
{
	if (a->pm->size < NVFS_MIN_NS_BYTES)
		return nvfs_err_set(EMEDIUMTYPE, "file of %zu bytes is too small to hold "
				    "an nvfs namespace (at least %u bytes)", a->pm->size,
				    NVFS_MIN_NS_BYTES);
	memcpy(copy, a->pm->base + off, sizeof(*copy));
	return nvfs_ns_sb_check(copy, a->pm->size, off);
}

/*
 * alloc_sb_load -- pick the superblock.  The primary if valid, else the
 * backup.  A bad or differing copy is a problem (fsck rewrites it from the
 * good one); if both are bad, the primary's error is returned.
 */
int
alloc_sb_load(struct nvfs_alloc *a, struct nvfs_alloc_opts *o)
{
	struct nvfs_pm_sb primary, backup;
	char primary_msg[512];
	int rc_p = sb_copy_check(a, NVFS_SB_OFF, &primary);
	snprintf(primary_msg, sizeof(primary_msg), "%s", nvfs_errmsg());
	int rc_b = sb_copy_check(a, NVFS_SB_BACKUP_OFF, &backup);

	if (rc_p && rc_b) {
		if (rc_p == -EMEDIUMTYPE && rc_b != -EMEDIUMTYPE)
			return rc_b; /* the backup knows more */
		return nvfs_err_set(-rc_p, "%s", primary_msg);
	}
	bool check = o && (o->flags & NVFS_ALLOC_CHECK);
	a->sb = rc_p ? backup : primary;
	a->seed = nvfs_ns_seed(&a->sb);
	/* Before any repair: unknown ro_compat features forbid all writes. */
	if (a->sb.feature_ro_compat & ~NVFS_FEATURE_RO_COMPAT_SUPP)
		a->readonly = true;
	if (rc_p || rc_b) {
		if (!check) {
			if (rc_p)
				return nvfs_err_set(-rc_p, "%s (the backup copy is "
						    "valid: run fsck.nvfs)", primary_msg);
			return nvfs_err_prefix(-rc_b, "backup superblock corrupt, run "
					       "fsck.nvfs");
		}
		if (rc_p)
			nvfs_err_set(-rc_p, "primary %s; the backup copy is valid and "
				     "used", primary_msg);
		else
			nvfs_err_prefix(-rc_b, "backup copy");
		copy_repair(a, o, rc_p ? NVFS_SB_OFF : NVFS_SB_BACKUP_OFF);
	} else if (memcmp(&primary, &backup, sizeof(primary)) != 0) {
		int rc = nvfs_err_set(EUCLEAN, "superblock copies at %#x and %#x are "
				      "both valid but differ", NVFS_SB_OFF,
				      NVFS_SB_BACKUP_OFF);
		if (!check)
			return rc;
		copy_repair(a, o, NVFS_SB_BACKUP_OFF);
	}
	return 0;
}

/* owner_list_check -- the owner-list header; repaired by rewriting it */
static int
owner_list_check(struct nvfs_alloc *a, struct nvfs_alloc_opts *o)
{
	struct nvfs_pm_owner_list_hdr *hdr =
		(struct nvfs_pm_owner_list_hdr *)(a->pm->base + NVFS_OWNER_LIST_OFF);
	int rc = nvfs_ns_owner_list_hdr_check(hdr, a->seed);

	if (!rc || !o || !(o->flags & NVFS_ALLOC_CHECK))
		return rc;
	o->nr_problems++;
	bool repaired = false;
	if ((o->flags & NVFS_ALLOC_REPAIR) && !a->readonly) {
		nvfs_ns_owner_list_hdr_init(hdr, a->seed);
		rc = nvfs_pmem_persist(a->pm, hdr, sizeof(*hdr));
		if (rc)
			a->failed = rc;
		repaired = rc == 0;
		o->nr_repaired += repaired;
	}
	if (o->problem)
		o->problem(o->arg, nvfs_errmsg(), repaired);
	return 0;
}

/*
 * mend_head -- a live head whose commit and uuid hold (O1, O2) but whose
 * other fields do not (O3): zero each reserved word that is set (one store
 * each), and clear a label's tail (the label is under the commit, so the
 * tail is cleared, persisted, and the commit recomputed: a crash between
 * the two leaves an O1 failure, i.e. the owner is dropped next time).
 */
static int
mend_head(struct nvfs_alloc *a, struct nvfs_alloc_opts *o, unsigned s, int rc)
{
	struct nvfs_pm_owner_head *h = head_of(a, s);

	rc = problem(a, o, rc, "the field is cleared", NULL, 0);
	if (rc)
		return rc; /* strict mode: o may be NULL */
	if (!(o->flags & NVFS_ALLOC_REPAIR) || a->readonly || a->failed)
		return 0;
	int prc = 0;
	if (h->reserved0)
		prc = nvfs_pmem_store64(a->pm, &h->reserved0, 0);
	for (unsigned ns = 1; !prc && ns < NVFS_MAX_NAMESPACES; ns++)
		if (h->recs_off[ns])
			prc = nvfs_pmem_store64(a->pm, &h->recs_off[ns], 0);
	if (!prc && !nvfs_ns_label_ok(h->label)) {
		size_t n = strnlen((const char *)h->label, NVFS_LABEL_BYTES);
		memset(h->label + n, 0, NVFS_LABEL_BYTES - n);
		prc = nvfs_pmem_persist(a->pm, h->label, NVFS_LABEL_BYTES);
		if (!prc)
			prc = nvfs_pmem_store64(a->pm, &h->commit,
						nvfs_ns_owner_commit(a->seed, s, h));
	}
	if (prc)
		a->failed = prc;
	else
		o->nr_repaired++;
	return 0;
}

/*
 * owner_heads_load -- O1..O3 for every live slot.  A head whose commit or
 * uuid does not hold (O1, O2) is dropped: its commit word is cleared and all
 * its blocks become free, which the message says.  Any other problem (O3)
 * is mended field by field and the owner stays.
 */
static int
owner_heads_load(struct nvfs_alloc *a, struct nvfs_alloc_opts *o)
{
	static const uint8_t zero[NVFS_UUID_BYTES];

	for (unsigned s = 0; s < NVFS_OWNER_SLOTS; s++) {
		struct nvfs_pm_owner_head *h = head_of(a, s);
		int rc;

		if (h->commit == 0)
			continue;
		rc = nvfs_ns_owner_head_check(h, s, a->seed);
		bool drop = h->commit != nvfs_ns_owner_commit(a->seed, s, h) ||
			    memcmp(h->uuid, zero, NVFS_UUID_BYTES) == 0;
		for (unsigned t = 0; !drop && t < s; t++)
			if (a->owners[t].live &&
			    memcmp(head_of(a, t)->uuid, h->uuid, NVFS_UUID_BYTES) == 0) {
				rc = nvfs_err_set(EUCLEAN, "owner slot %u at %#llx: same "
						  "uuid as slot %u (O2)", s,
						  (unsigned long long)nvfs_ns_owner_head_off(s), t);
				drop = true;
			}
		if (rc && drop) {
			char uuid[37], what[160];
			nvfs_ns_uuid_str(h->uuid, uuid);
			snprintf(what, sizeof(what), "dropping owner slot %u (uuid %s): every "
				 "block it recorded becomes free", s, uuid);
			if ((rc = problem(a, o, rc, what, &h->commit, 0)))
				return rc;
			continue;
		}
		/* O3 is mended here; O4 (a bad recs_off[0]) by chain_load, which
		 * cuts the link.  The check reports O3 before O4. */
		bool o3 = h->reserved0 || !nvfs_ns_label_ok(h->label);
		for (unsigned ns = 1; ns < NVFS_MAX_NAMESPACES; ns++)
			o3 |= h->recs_off[ns] != 0;
		if (o3 && (rc = mend_head(a, o, s, rc)))
			return rc;
		a->owners[s].live = true;
	}
	return 0;
}

/* record_load -- rules A1..A5 for one non-zero record; enter it */
static int
record_load(struct nvfs_alloc *a, struct nvfs_alloc_opts *o, unsigned slot,
	    uint32_t r, uint64_t *word)
{
	uint64_t rec = *word;
	uint64_t off = (uint64_t)((char *)word - a->pm->base);
	int rc = nvfs_ns_rec_check(rec, off, &a->sb);

	if (!rc) {
		uint64_t pgoff = nvfs_pm_rec_pgoff(rec);
		unsigned order = nvfs_pm_rec_order(rec);
		rc = nvfs_buddy_reserve(a->buddy, pgoff, order);
		if (rc == -EEXIST)
			rc = nvfs_err_set(EUCLEAN, "record at %#llx: pages %llu..%llu "
					  "overlap another record (A5)",
					  (unsigned long long)off, (unsigned long long)pgoff,
					  (unsigned long long)(pgoff + (1ull << order) - 1));
		else if (rc)
			return nvfs_err_prefix(-rc, "record at %#llx", (unsigned long long)off);
		if (!rc) {
			rc = nvfs_hmap_put(&a->used, pgoff, used_val(r, slot, order));
			if (rc)
				return nvfs_err_set(ENOMEM, "out of memory indexing records");
			a->owners[slot].nr_allocs++;
			a->owners[slot].nr_pages += UINT64_C(1) << order;
			return 0;
		}
	}
	rc = problem(a, o, rc, "the record is cleared: its block becomes free", word, 0);
	if (rc)
		return rc;
	/* Dropped: the slot counts as empty from now on. */
	struct alloc_owner *ow = &a->owners[slot];
	ow->free_recs[ow->nr_free_recs++] = r;
	return 0;
}

/* recs_page_load -- enter one chained record page and its records */
static int
recs_page_load(struct nvfs_alloc *a, struct nvfs_alloc_opts *o, unsigned slot,
	       unsigned idx)
{
	struct nvfs_pm_recs_page *p = recs_page(a, idx);
	struct alloc_owner *ow = &a->owners[slot];

	if (alloc_owner_reserve_free_recs(ow, NVFS_RECS_PER_PAGE))
		return nvfs_err_set(ENOMEM, "out of memory loading record pages");
	recs_page_mark(a, idx, true);
	ow->nr_recs_pages++;
	/* Push empty slots high to low so allocation fills pages from the start. */
	for (unsigned i = NVFS_RECS_PER_PAGE; i-- > 0;) {
		uint32_t r = idx * NVFS_RECS_PER_PAGE + i;
		if (p->recs[i] == 0) {
			ow->free_recs[ow->nr_free_recs++] = r;
			continue;
		}
		int rc = record_load(a, o, slot, r, &p->recs[i]);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * chain_load -- walk one owner's chain of record pages.  The walk visits
 * each record page at most once (the in-use bitmap for good pages, a local
 * one for bad pages), so cycles and pages shared by two chains are caught
 * and the walk is bounded by the area size.  A bad page is unlinked alone:
 * the link to it takes its next_off (when that at least names a record
 * page not seen yet), so the pages after it are still checked and kept.
 */
static int
chain_load(struct nvfs_alloc *a, struct nvfs_alloc_opts *o, unsigned slot)
{
	struct nvfs_pm_owner_head *h = head_of(a, slot);
	uint64_t bad_seen[(NVFS_RECS_PAGES + 63) / 64] = { 0 };
	uint64_t *link = &h->recs_off[0];
	uint64_t next = *link;

	while (next) {
		uint64_t off = next;
		unsigned idx = nvfs_ns_recs_off_valid(off) ? nvfs_ns_recs_index(off) : 0;
		bool seen = nvfs_ns_recs_off_valid(off) &&
			    (recs_page_used(a, idx) || bad_seen[idx / 64] >> (idx % 64) & 1);
		int rc = 0;
		if (!nvfs_ns_recs_off_valid(off))
			rc = nvfs_err_set(EUCLEAN, "owner slot %u: link at %#llx names "
					  "%#llx, not a record page (O4, R1)", slot,
					  (unsigned long long)((char *)link - a->pm->base),
					  (unsigned long long)off);
		else if (seen)
			rc = nvfs_err_set(EUCLEAN, "owner slot %u: record page %#llx is "
					  "reached twice (cycle or shared page) (P5)", slot,
					  (unsigned long long)off);
		else
			rc = nvfs_ns_recs_page_check(recs_page(a, idx), off, slot, h->uuid,
						     a->seed);
		if (!rc) {
			if ((rc = recs_page_load(a, o, slot, idx)))
				return rc;
			link = &recs_page(a, idx)->next_off;
			next = *link;
			continue;
		}
		uint64_t after = 0;
		if (nvfs_ns_recs_off_valid(off) && !seen) {
			bad_seen[idx / 64] |= UINT64_C(1) << (idx % 64);
			after = recs_page(a, idx)->next_off;
			if (!nvfs_ns_recs_off_valid(after))
				after = 0;
		}
		rc = problem(a, o, rc, after ? "the page is unlinked: the blocks its "
			     "records name become free" : "the chain is cut here: the "
			     "blocks its records name become free", link, after);
		if (rc)
			return rc;
		next = after;
	}
	return 0;
}

/* alloc_rebuild -- validate the owner lists and build buddy, map, owners */
int
alloc_rebuild(struct nvfs_alloc *a, struct nvfs_alloc_opts *o)
{
	int rc = owner_list_check(a, o);
	if (rc)
		return rc;
	rc = nvfs_buddy_new(a->sb.pages_off / NVFS_PAGE_BYTES, a->sb.pages_total,
			    NVFS_MAX_ORDER, &a->buddy);
	if (rc)
		return nvfs_err_set(-rc, "cannot create the buddy allocator");
	rc = nvfs_hmap_init(&a->used, 1024);
	if (rc)
		return nvfs_err_set(ENOMEM, "out of memory");
	rc = owner_heads_load(a, o);
	if (rc)
		return rc;
	for (unsigned s = 0; s < NVFS_OWNER_SLOTS; s++) {
		if (!a->owners[s].live)
			continue;
		rc = chain_load(a, o, s);
		if (rc)
			return rc;
	}
	return 0;
}
