/* SPDX-License-Identifier: MIT */
/*
 * alloc.c -- the nvm-pages allocator's runtime operations (see
 * nvfs_alloc.h).  The persist protocols below are the ones docs/ALLOCATOR.md
 * describes; each step's number is the persist point the crash tests cut at.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc_int.h"
#include "nvfs_err.h"

/* alloc_owner_reserve_free_recs -- grow an owner's free-slot stack */
int
alloc_owner_reserve_free_recs(struct alloc_owner *o, uint32_t n)
{
	if (o->nr_free_recs + n <= o->cap_free_recs)
		return 0;
	uint32_t cap = o->cap_free_recs ? o->cap_free_recs : NVFS_RECS_PER_PAGE;
	while (cap < o->nr_free_recs + n)
		cap *= 2;
	uint32_t *p = realloc(o->free_recs, cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	o->free_recs = p;
	o->cap_free_recs = cap;
	return 0;
}

/* nvfs_alloc_open_pmem -- validate and rebuild on a mapped, locked pmem */
int
nvfs_alloc_open_pmem(struct nvfs_pmem *pm, struct nvfs_alloc_opts *opts,
		     struct nvfs_alloc **out)
{
	unsigned flags = opts ? opts->flags : 0;
	struct nvfs_alloc *a;
	int rc;

	if ((flags & NVFS_ALLOC_REPAIR) && (flags & NVFS_ALLOC_RDONLY || pm->readonly)) {
		rc = nvfs_err_set(EINVAL, "%s: cannot repair read-only", pm->path);
		nvfs_pmem_close(&pm);
		return rc;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		rc = nvfs_err_set(ENOMEM, "%s: out of memory", pm->path);
		nvfs_pmem_close(&pm);
		return rc;
	}
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	/* A foreach callback calling back in gets -EDEADLK, not a hang. */
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&a->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	a->pm = pm;
	a->readonly = (flags & NVFS_ALLOC_RDONLY) || pm->readonly;
	/* CHECK without REPAIR drops bad objects in DRAM only: never write
	 * through a state that disagrees with pmem. */
	a->check_only = (flags & NVFS_ALLOC_CHECK) && !(flags & NVFS_ALLOC_REPAIR);
	if (opts) {
		opts->nr_problems = 0;
		opts->nr_repaired = 0;
	}
	rc = alloc_sb_load(a, opts);
	if (!rc)
		rc = alloc_rebuild(a, opts);
	if (rc) {
		nvfs_err_prefix(-rc, "%s", pm->path);
		nvfs_alloc_close(&a);
		return rc;
	}
	*out = a;
	return 0;
}

/* nvfs_alloc_open -- open the pmem, then validate and rebuild */
int
nvfs_alloc_open(const char *path, struct nvfs_alloc_opts *opts, struct nvfs_alloc **out)
{
	unsigned flags = opts ? opts->flags : 0;
	struct nvfs_pmem *pm;

	if ((flags & NVFS_ALLOC_REPAIR) && (flags & NVFS_ALLOC_RDONLY))
		return nvfs_err_set(EINVAL, "%s: cannot repair read-only", path);
	int rc = nvfs_pmem_open(path, (flags & NVFS_ALLOC_RDONLY) ? NVFS_PMEM_RDONLY : 0, &pm);
	if (rc)
		return rc;
	return nvfs_alloc_open_pmem(pm, opts, out);
}

/* nvfs_alloc_close -- release everything */
void
nvfs_alloc_close(struct nvfs_alloc **ap)
{
	struct nvfs_alloc *a = *ap;

	if (!a)
		return;
	for (unsigned s = 0; s < NVFS_OWNER_SLOTS; s++)
		free(a->owners[s].free_recs);
	nvfs_buddy_delete(&a->buddy);
	nvfs_hmap_fini(&a->used);
	nvfs_pmem_close(&a->pm);
	pthread_mutex_destroy(&a->lock);
	free(a);
	*ap = NULL;
}

const struct nvfs_pm_sb *
nvfs_alloc_sb(const struct nvfs_alloc *a)
{
	return &a->sb;
}

struct nvfs_pmem *
nvfs_alloc_pmem(struct nvfs_alloc *a)
{
	return a->pm;
}

void *
nvfs_alloc_ptr(struct nvfs_alloc *a, uint64_t off)
{
	return off < a->sb.ns_bytes ? a->pm->base + off : NULL;
}

/*
 * lock -- take the allocator lock; -EDEADLK (with a message) when the
 * calling thread already holds it, i.e. from inside a foreach callback.
 */
static int
lock(struct nvfs_alloc *a)
{
	int rc = pthread_mutex_lock(&a->lock);
	if (rc)
		return nvfs_err_set(rc, "allocator called from inside its own "
				    "nvfs_alloc_foreach callback");
	return 0;
}

bool
nvfs_alloc_readonly(const struct nvfs_alloc *a)
{
	return a->readonly;
}

/* writable -- 0 if mutations are allowed now, else the error (message set) */
static int
writable(const struct nvfs_alloc *a)
{
	if (a->readonly || a->check_only)
		return nvfs_err_set(EROFS, "%s: namespace is open read-only%s", a->pm->path,
				    a->check_only ? " (checked without repair)" : "");
	if (a->failed)
		return nvfs_err_set(-a->failed, "%s: an earlier persist failed; the "
				    "allocator refuses changes until reopened", a->pm->path);
	return 0;
}

/* owner_find -- slot of the live owner with uuid, or -ENOENT (locked) */
static int
owner_find(struct nvfs_alloc *a, const uint8_t uuid[NVFS_UUID_BYTES])
{
	for (unsigned s = 0; s < NVFS_OWNER_SLOTS; s++)
		if (a->owners[s].live &&
		    memcmp(head_of(a, s)->uuid, uuid, NVFS_UUID_BYTES) == 0)
			return (int)s;
	return -ENOENT;
}

int
nvfs_alloc_owner_find(struct nvfs_alloc *a, const uint8_t uuid[NVFS_UUID_BYTES])
{
	int rc = lock(a);
	if (rc)
		return rc;
	rc = owner_find(a, uuid);
	pthread_mutex_unlock(&a->lock);
	return rc;
}

/*
 * owner_create -- add an owner (locked).
 *   1. In a free slot (commit == 0, so its contents are ignored) write uuid,
 *      label and zero links; persist the head.
 *   2. Store the commit word; persist.  The owner exists from here on.
 */
static int
owner_create(struct nvfs_alloc *a, const uint8_t uuid[NVFS_UUID_BYTES], const char *label)
{
	static const uint8_t zero[NVFS_UUID_BYTES];
	int slot = -1, rc;

	if (memcmp(uuid, zero, sizeof(zero)) == 0)
		return nvfs_err_set(EINVAL, "owner uuid must not be zero");
	if (label && strlen(label) >= NVFS_LABEL_BYTES)
		return nvfs_err_set(EINVAL, "owner label '%s' is longer than %u bytes",
				    label, NVFS_LABEL_BYTES - 1);
	if ((rc = writable(a)))
		return rc;
	if (owner_find(a, uuid) >= 0)
		return nvfs_err_set(EEXIST, "owner already exists");
	for (unsigned s = 0; s < NVFS_OWNER_SLOTS && slot < 0; s++)
		if (!a->owners[s].live)
			slot = (int)s;
	if (slot < 0)
		return nvfs_err_set(ENOSPC, "all %u owner slots are in use", NVFS_OWNER_SLOTS);

	struct nvfs_pm_owner_head *h = head_of(a, (unsigned)slot);
	struct nvfs_pm_owner_head fresh;
	memset(&fresh, 0, sizeof(fresh));
	memcpy(fresh.uuid, uuid, NVFS_UUID_BYTES);
	if (label)
		memcpy(fresh.label, label, strlen(label));
	memcpy(h, &fresh, sizeof(fresh));                          /* step 1 */
	rc = nvfs_pmem_persist(a->pm, h, sizeof(*h));
	if (!rc)                                                   /* step 2 */
		rc = nvfs_pmem_store64(a->pm, &h->commit,
				       nvfs_ns_owner_commit(a->seed, (unsigned)slot, &fresh));
	if (rc) {
		a->failed = rc;
		return rc;
	}
	memset(&a->owners[slot], 0, sizeof(a->owners[slot]));
	a->owners[slot].live = true;
	return slot;
}

int
nvfs_alloc_owner_create(struct nvfs_alloc *a, const uint8_t uuid[NVFS_UUID_BYTES],
			const char *label)
{
	int rc = lock(a);
	if (rc)
		return rc;
	rc = owner_create(a, uuid, label);
	pthread_mutex_unlock(&a->lock);
	return rc;
}

int
nvfs_alloc_owner_get(struct nvfs_alloc *a, const uint8_t uuid[NVFS_UUID_BYTES],
		     const char *label)
{
	int rc = lock(a);
	if (rc)
		return rc;
	rc = owner_find(a, uuid);
	if (rc == -ENOENT)
		rc = owner_create(a, uuid, label);
	pthread_mutex_unlock(&a->lock);
	return rc;
}

/* owner_ok -- the handle names a live owner (locked) */
static int
owner_ok(const struct nvfs_alloc *a, int owner)
{
	if (owner < 0 || owner >= (int)NVFS_OWNER_SLOTS || !a->owners[owner].live)
		return nvfs_err_set(EINVAL, "no live owner with handle %d", owner);
	return 0;
}

int
nvfs_alloc_owner_info(struct nvfs_alloc *a, int owner, struct nvfs_alloc_owner_info *info)
{
	int rc = lock(a);
	if (rc)
		return rc;
	rc = owner_ok(a, owner);
	if (!rc) {
		const struct nvfs_pm_owner_head *h = head_of(a, (unsigned)owner);
		const struct alloc_owner *o = &a->owners[owner];
		memset(info, 0, sizeof(*info));
		memcpy(info->uuid, h->uuid, NVFS_UUID_BYTES);
		memcpy(info->label, h->label, NVFS_LABEL_BYTES - 1);
		info->nr_allocs = o->nr_allocs;
		info->nr_pages = o->nr_pages;
		info->nr_recs_pages = o->nr_recs_pages;
	} else {
		rc = -ENOENT;
	}
	pthread_mutex_unlock(&a->lock);
	return rc;
}

int
nvfs_alloc_owner_next(struct nvfs_alloc *a, int prev)
{
	int next = lock(a);

	if (next)
		return next;
	next = -ENOENT;
	for (int s = prev < 0 ? 0 : prev + 1; s < (int)NVFS_OWNER_SLOTS; s++)
		if (a->owners[s].live) {
			next = s;
			break;
		}
	pthread_mutex_unlock(&a->lock);
	return next;
}

/*
 * recs_page_add -- give owner a new, empty record page (locked).
 *   1. Take a page no chain reaches; write its header (next_off = the
 *      current chain head) and zero all records; persist the page.
 *   2. Store the page's offset into the owner head's recs_off[0]; persist.
 * A crash before 2 leaves the page unreachable, i.e. free.  Pages are
 * prepended so that no linked page is ever written again but by its records.
 */
static int
recs_page_add(struct nvfs_alloc *a, unsigned slot)
{
	struct alloc_owner *o = &a->owners[slot];
	struct nvfs_pm_owner_head *h = head_of(a, slot);
	unsigned idx = NVFS_RECS_PAGES;
	int rc;

	for (unsigned w = 0; w < sizeof(a->recs_in_use) / 8 && idx == NVFS_RECS_PAGES; w++)
		if (~a->recs_in_use[w])
			idx = w * 64 + (unsigned)__builtin_ctzll(~a->recs_in_use[w]);
	if (idx >= NVFS_RECS_PAGES)
		return nvfs_err_set(ENOSPC, "all %u record pages are in use: no room "
				    "to record another allocation", NVFS_RECS_PAGES);
	if (alloc_owner_reserve_free_recs(o, NVFS_RECS_PER_PAGE))
		return nvfs_err_set(ENOMEM, "out of memory");

	uint64_t off = nvfs_ns_recs_off(idx);
	struct nvfs_pm_recs_page *p = recs_page(a, idx);
	nvfs_ns_recs_page_init(p, off, slot, h->uuid, h->recs_off[0], a->seed);
	uint64_t old_head = h->recs_off[0];
	rc = nvfs_pmem_persist(a->pm, p, sizeof(*p));              /* step 1 */
	if (!rc)
		rc = nvfs_pmem_store64(a->pm, &h->recs_off[0], off); /* step 2 */
	if (rc) {
		/* Durable or not, the mapping goes back to what DRAM knows. */
		h->recs_off[0] = old_head;
		a->failed = rc;
		return rc;
	}
	recs_page_mark(a, idx, true);
	o->nr_recs_pages++;
	for (unsigned i = NVFS_RECS_PER_PAGE; i-- > 0;)
		o->free_recs[o->nr_free_recs++] = idx * NVFS_RECS_PER_PAGE + i;
	return 0;
}

/*
 * pages_alloc -- (locked)
 *   0. Take a block from the DRAM buddy (nothing on pmem yet).
 *   1-2. If the owner has no empty record slot: recs_page_add.
 *   3. Store the record word; persist.  The block is allocated from here on.
 * The caller then persists its own reference to the block; a crash before
 * that leaks the block to the owner (at most this one allocation).
 */
static int
pages_alloc(struct nvfs_alloc *a, int owner, unsigned order, uint64_t *off)
{
	uint64_t pgoff;
	int rc;

	if ((rc = owner_ok(a, owner)) || (rc = writable(a)))
		return rc;
	if (order >= NVFS_MAX_ORDER)
		return nvfs_err_set(EINVAL, "order %u is not below %u", order, NVFS_MAX_ORDER);
	if (nvfs_hmap_reserve(&a->used, 1))
		return nvfs_err_set(ENOMEM, "out of memory");
	rc = nvfs_buddy_alloc(a->buddy, order, &pgoff);
	if (rc == -ENOSPC)
		return nvfs_err_set(ENOSPC, "no free block of 2^%u pages", order);
	if (rc)
		return nvfs_err_set(-rc, "buddy allocation failed");

	struct alloc_owner *o = &a->owners[owner];
	if (o->nr_free_recs == 0 && (rc = recs_page_add(a, (unsigned)owner))) {
		nvfs_buddy_free(a->buddy, pgoff, order);
		return rc;
	}
	uint32_t r = o->free_recs[--o->nr_free_recs];
	rc = nvfs_pmem_store64(a->pm, rec_word(a, r), nvfs_pm_rec_encode(pgoff, order));
	if (rc) {                                                  /* step 3 */
		/*
		 * The word may or may not be durable: stop all changes, and
		 * leave mapping and DRAM as before the call (a reopen decides).
		 */
		*rec_word(a, r) = 0;
		o->nr_free_recs++;
		nvfs_buddy_free(a->buddy, pgoff, order);
		a->failed = rc;
		return rc;
	}
	nvfs_hmap_put(&a->used, pgoff, used_val(r, (unsigned)owner, order)); /* reserved */
	o->nr_allocs++;
	o->nr_pages += UINT64_C(1) << order;
	*off = pgoff << NVFS_PAGE_SHIFT;
	return 0;
}

int
nvfs_alloc_pages(struct nvfs_alloc *a, int owner, unsigned order, uint64_t *off)
{
	int rc = lock(a);
	if (rc)
		return rc;
	rc = pages_alloc(a, owner, order, off);
	pthread_mutex_unlock(&a->lock);
	return rc;
}

/*
 * pages_free -- (locked; the caller has already made the removal of its
 * reference durable)
 *   1. Store 0 into the record word; persist.  The block is free from here.
 *   2. Return the block to the DRAM buddy and the slot to the owner.
 * A crash before 1 leaves the block allocated (a leak, never a double use).
 */
static int
pages_free(struct nvfs_alloc *a, int owner, uint64_t off)
{
	uint64_t val;
	int rc;

	if ((rc = owner_ok(a, owner)) || (rc = writable(a)))
		return rc;
	uint64_t pgoff = off >> NVFS_PAGE_SHIFT;
	if (off & (NVFS_PAGE_BYTES - 1) || !nvfs_hmap_get(&a->used, pgoff, &val))
		return nvfs_err_set(ENOENT, "no allocated block at offset %#llx",
				    (unsigned long long)off);
	if (used_owner(val) != (unsigned)owner)
		return nvfs_err_set(EPERM, "block at offset %#llx belongs to owner %u, "
				    "not %d", (unsigned long long)off, used_owner(val), owner);
	struct alloc_owner *o = &a->owners[owner];
	if (alloc_owner_reserve_free_recs(o, 1))
		return nvfs_err_set(ENOMEM, "out of memory");
	uint64_t *word = rec_word(a, used_rec(val));
	uint64_t rec = *word;
	rc = nvfs_pmem_store64(a->pm, word, 0);                    /* step 1 */
	if (rc) {
		*word = rec; /* DRAM still has it allocated: so does the mapping */
		a->failed = rc;
		return rc;
	}
	unsigned order = used_order(val);
	nvfs_hmap_del(&a->used, pgoff);
	/* -ENOMEM here only leaks the block in DRAM; the pmem state is right. */
	nvfs_buddy_free(a->buddy, pgoff, order);                   /* step 2 */
	o->free_recs[o->nr_free_recs++] = used_rec(val);
	o->nr_allocs--;
	o->nr_pages -= UINT64_C(1) << order;
	return 0;
}

int
nvfs_alloc_free(struct nvfs_alloc *a, int owner, uint64_t off)
{
	int rc = lock(a);
	if (rc)
		return rc;
	rc = pages_free(a, owner, off);
	pthread_mutex_unlock(&a->lock);
	return rc;
}

int
nvfs_alloc_foreach(struct nvfs_alloc *a, int owner,
		   int (*fn)(void *arg, uint64_t off, unsigned order), void *arg)
{
	int rc = lock(a);
	if (rc)
		return rc;
	rc = owner_ok(a, owner);
	uint64_t next = rc ? 0 : head_of(a, (unsigned)owner)->recs_off[0];

	/*
	 * The chain was validated at open up to its first bad link (CHECK mode
	 * stops there) and only grows by prepending, so its first nr_recs_pages
	 * pages are exactly the loaded ones.
	 */
	unsigned pages = rc ? 0 : a->owners[owner].nr_recs_pages;
	for (unsigned n = 0; !rc && n < pages; n++) {
		unsigned idx = nvfs_ns_recs_index(next);
		const struct nvfs_pm_recs_page *p = recs_page(a, idx);
		for (unsigned i = 0; i < NVFS_RECS_PER_PAGE && !rc; i++) {
			uint64_t rec = p->recs[i];
			uint64_t val;
			/* Only records the DRAM state accepted (CHECK may drop some). */
			if (rec && nvfs_hmap_get(&a->used, nvfs_pm_rec_pgoff(rec), &val) &&
			    used_rec(val) == idx * NVFS_RECS_PER_PAGE + i)
				rc = fn(arg, nvfs_pm_rec_pgoff(rec) << NVFS_PAGE_SHIFT,
					nvfs_pm_rec_order(rec));
		}
		next = p->next_off;
	}
	pthread_mutex_unlock(&a->lock);
	return rc;
}

void
nvfs_alloc_stats(struct nvfs_alloc *a, struct nvfs_alloc_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (lock(a))
		return;
	st->pages_total = a->sb.pages_total;
	st->pages_free = nvfs_buddy_free_pages(a->buddy);
	for (unsigned o = 0; o < NVFS_MAX_ORDER; o++)
		st->free_blocks[o] = nvfs_buddy_free_blocks(a->buddy, o);
	for (unsigned s = 0; s < NVFS_OWNER_SLOTS; s++) {
		if (!a->owners[s].live)
			continue;
		st->owners++;
		st->recs_pages_used += a->owners[s].nr_recs_pages;
		st->records += a->owners[s].nr_allocs;
	}
	pthread_mutex_unlock(&a->lock);
}

int
nvfs_alloc_check(struct nvfs_alloc *a)
{
	uint64_t used_pages = 0, records = 0;
	int rc = lock(a);

	if (rc)
		return rc;
	rc = nvfs_buddy_check(a->buddy);
	for (unsigned s = 0; s < NVFS_OWNER_SLOTS; s++) {
		used_pages += a->owners[s].nr_pages;
		records += a->owners[s].nr_allocs;
	}
	if (!rc && used_pages + nvfs_buddy_free_pages(a->buddy) != a->sb.pages_total)
		rc = nvfs_err_set(EUCLEAN, "allocator: %llu used + %llu free pages != "
				  "%llu total", (unsigned long long)used_pages,
				  (unsigned long long)nvfs_buddy_free_pages(a->buddy),
				  (unsigned long long)a->sb.pages_total);
	if (!rc && records != a->used.count)
		rc = nvfs_err_set(EUCLEAN, "allocator: %llu records but %zu indexed blocks",
				  (unsigned long long)records, a->used.count);
	pthread_mutex_unlock(&a->lock);
	return rc;
}
