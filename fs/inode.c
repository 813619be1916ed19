/* SPDX-License-Identifier: MIT */
/*
 * inode.c -- the inode table: backing (st_dev, st_ino) -> struct nvfs_inode.
 *
 * LIFETIME
 *   An inode enters the table on the first lookup that finds its backing
 *   inode (nlookup 1) and leaves it when the kernel has forgotten every
 *   lookup and the daemon holds no pin (refs 0).  Leaving closes its O_PATH
 *   descriptor and its POSIX lock owners.  While in the table it is found by
 *   (dev, ino): a second name of the same backing inode (a hard link, or a
 *   name that comes back after a rename) gets the same node id.  The O_PATH
 *   descriptor keeps the backing inode alive, so its number cannot be reused
 *   by SOURCE while it is in the table.
 *
 * LOCKING
 *   t->lock protects the chains, count, the live set, the generation
 *   counter and every inode's nlookup and refs.  It is the innermost lock
 *   (fs_int.h) and is never held across a blocking system call: close() of
 *   a freed inode's descriptors happens after it is dropped.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fs_int.h"

#define ITAB_INITIAL_BUCKETS 1024

/* hash -- bucket of (dev, ino) in a table of n (a power of two) buckets */
static size_t
hash(dev_t dev, ino_t ino, size_t n)
{
	uint64_t h = (uint64_t)ino * UINT64_C(0x9e3779b97f4a7c15);

	h ^= (uint64_t)dev * UINT64_C(0xc2b2ae3d27d4eb4f);
	h ^= h >> 29;
	return (size_t)h & (n - 1);
}

/* inode_free -- close and free an inode that left the table */
static void
inode_free(struct nvfs_inode *in)
{
	nvfs_plocks_drop(in);
	if (in->fd >= 0)
		close(in->fd);
	pthread_mutex_destroy(&in->lock);
	pthread_mutex_destroy(&in->data_lock);
	free(in);
}

/* inode_new -- an inode for fd/st, not yet in the table; NULL if no memory */
static struct nvfs_inode *
inode_new(int fd, const struct stat *st)
{
	struct nvfs_inode *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	in->dev = st->st_dev;
	in->ino = st->st_ino;
	in->type = st->st_mode & S_IFMT;
	in->fd = fd;
	in->stamp = NVFS_STAMP_UNSET;
	pthread_mutex_init(&in->lock, NULL);
	pthread_mutex_init(&in->data_lock, NULL);
	return in;
}

/* nvfs_itab_init -- an empty table */
int
nvfs_itab_init(struct nvfs_itab *t)
{
	t->buckets = calloc(ITAB_INITIAL_BUCKETS, sizeof(*t->buckets));
	if (!t->buckets)
		return -ENOMEM;
	if (nvfs_hmap_init(&t->live, ITAB_INITIAL_BUCKETS) < 0) {
		free(t->buckets);
		return -ENOMEM;
	}
	t->nr_buckets = ITAB_INITIAL_BUCKETS;
	t->count = 0;
	t->next_generation = 1;
	pthread_mutex_init(&t->lock, NULL);
	return 0;
}

/* nvfs_itab_fini -- free every inode left and the table */
void
nvfs_itab_fini(struct nvfs_itab *t)
{
	for (size_t b = 0; b < t->nr_buckets; b++) {
		struct nvfs_inode *in = t->buckets[b];
		while (in) {
			struct nvfs_inode *next = in->hnext;
			inode_free(in);
			in = next;
		}
	}
	free(t->buckets);
	t->buckets = NULL;
	nvfs_hmap_fini(&t->live);
	pthread_mutex_destroy(&t->lock);
}

/* grow -- double the buckets (t->lock held); on no memory keep the old ones */
static void
grow(struct nvfs_itab *t)
{
	size_t n = t->nr_buckets * 2;
	struct nvfs_inode **nb = calloc(n, sizeof(*nb));

	if (!nb)
		return; /* longer chains, still correct */
	for (size_t b = 0; b < t->nr_buckets; b++) {
		struct nvfs_inode *in = t->buckets[b];
		while (in) {
			struct nvfs_inode *next = in->hnext;
			size_t h = hash(in->dev, in->ino, n);
			in->hnext = nb[h];
			nb[h] = in;
			in = next;
		}
	}
	free(t->buckets);
	t->buckets = nb;
	t->nr_buckets = n;
}

/* find_locked -- the inode of (dev, ino) or NULL (t->lock held) */
static struct nvfs_inode *
find_locked(const struct nvfs_itab *t, dev_t dev, ino_t ino)
{
	struct nvfs_inode *in = t->buckets[hash(dev, ino, t->nr_buckets)];

	while (in && (in->ino != ino || in->dev != dev))
		in = in->hnext;
	return in;
}

/*
 * insert_locked -- hash a new inode and give it a generation (t->lock
 * held); 0 or -ENOMEM (nothing inserted)
 */
static int
insert_locked(struct nvfs_itab *t, struct nvfs_inode *in, bool root)
{
	size_t h;

	if (!root && nvfs_hmap_put(&t->live, (uint64_t)(uintptr_t)in, 1) < 0)
		return -ENOMEM;
	in->generation = root ? 0 : t->next_generation++;
	if (t->count >= t->nr_buckets)
		grow(t);
	h = hash(in->dev, in->ino, t->nr_buckets);
	in->hnext = t->buckets[h];
	t->buckets[h] = in;
	t->count++;
	return 0;
}

/* unhash_locked -- take an inode out of the table (t->lock held) */
static void
unhash_locked(struct nvfs_itab *t, struct nvfs_inode *in)
{
	struct nvfs_inode **pp = &t->buckets[hash(in->dev, in->ino, t->nr_buckets)];

	while (*pp != in)
		pp = &(*pp)->hnext;
	*pp = in->hnext;
	t->count--;
	nvfs_hmap_del(&t->live, (uint64_t)(uintptr_t)in);
}

/* nvfs_itab_insert_root -- the pinned root inode */
int
nvfs_itab_insert_root(struct nvfs_itab *t, int fd, const struct stat *st,
		      struct nvfs_inode **out)
{
	struct nvfs_inode *in = inode_new(fd, st);

	if (!in) {
		close(fd);
		return -ENOMEM;
	}
	in->nlookup = 1;
	in->refs = 1;
	pthread_mutex_lock(&t->lock);
	insert_locked(t, in, true); /* cannot fail for the root */
	pthread_mutex_unlock(&t->lock);
	*out = in;
	return 0;
}

/* nvfs_itab_find -- an inode already in the table, one more lookup */
struct nvfs_inode *
nvfs_itab_find(struct nvfs_itab *t, const struct stat *st)
{
	struct nvfs_inode *in;

	pthread_mutex_lock(&t->lock);
	in = find_locked(t, st->st_dev, st->st_ino);
	if (in)
		in->nlookup++;
	pthread_mutex_unlock(&t->lock);
	return in;
}

/* nvfs_itab_get -- the inode of st, made from fd if it is new */
int
nvfs_itab_get(struct nvfs_itab *t, int fd, const struct stat *st,
	      struct nvfs_inode **out)
{
	struct nvfs_inode *in, *fresh = NULL;

	for (;;) {
		pthread_mutex_lock(&t->lock);
		in = find_locked(t, st->st_dev, st->st_ino);
		if (in) {
			in->nlookup++;
			break;
		}
		if (fresh && insert_locked(t, fresh, false) == 0) {
			in = fresh;
			fresh = NULL;
			in->nlookup = 1;
			break;
		}
		pthread_mutex_unlock(&t->lock);
		if (fresh) { /* no memory for the live set */
			inode_free(fresh);
			return -ENOMEM;
		}
		/* allocate outside the lock, then look again */
		fresh = inode_new(fd, st);
		if (!fresh) {
			close(fd);
			return -ENOMEM;
		}
		fd = -1;
	}
	pthread_mutex_unlock(&t->lock);
	if (fresh)
		inode_free(fresh); /* another thread inserted it meanwhile */
	else if (fd >= 0)
		close(fd);
	*out = in;
	return 0;
}

/*
 * put_locked -- if an inode has neither lookups nor pins, unhash it and
 * return it for the caller to free after dropping the lock
 */
static struct nvfs_inode *
put_locked(struct nvfs_itab *t, struct nvfs_inode *in)
{
	if (in->nlookup || in->refs)
		return NULL;
	unhash_locked(t, in);
	return in;
}

/* nvfs_itab_forget -- drop n of the kernel's lookups */
void
nvfs_itab_forget(struct nvfs_itab *t, struct nvfs_inode *in, uint64_t n)
{
	struct nvfs_inode *dead;

	pthread_mutex_lock(&t->lock);
	if (in->nlookup < n) {
		fprintf(stderr, "nvfs: INTERNAL ERROR: forget %llu lookups of inode %llu "
			"which has %llu\n", (unsigned long long)n,
			(unsigned long long)in->ino, (unsigned long long)in->nlookup);
		abort();
	}
	in->nlookup -= n;
	dead = put_locked(t, in);
	pthread_mutex_unlock(&t->lock);
	if (dead)
		inode_free(dead);
}

/* nvfs_itab_lookup_more -- one more kernel lookup */
void
nvfs_itab_lookup_more(struct nvfs_itab *t, struct nvfs_inode *in)
{
	pthread_mutex_lock(&t->lock);
	in->nlookup++;
	pthread_mutex_unlock(&t->lock);
}

/* nvfs_itab_pin -- one more daemon reference */
void
nvfs_itab_pin(struct nvfs_itab *t, struct nvfs_inode *in)
{
	pthread_mutex_lock(&t->lock);
	in->refs++;
	pthread_mutex_unlock(&t->lock);
}

/* nvfs_itab_unpin -- drop a daemon reference */
void
nvfs_itab_unpin(struct nvfs_itab *t, struct nvfs_inode *in)
{
	struct nvfs_inode *dead;

	pthread_mutex_lock(&t->lock);
	assert(in->refs > 0);
	in->refs--;
	dead = put_locked(t, in);
	pthread_mutex_unlock(&t->lock);
	if (dead)
		inode_free(dead);
}

/* nvfs_itab_validate -- a possibly stale node id, checked against the live set */
struct nvfs_inode *
nvfs_itab_validate(struct nvfs_itab *t, fuse_ino_t nodeid, struct nvfs_inode *root)
{
	struct nvfs_inode *in = NULL;
	uint64_t one;

	pthread_mutex_lock(&t->lock);
	if (nodeid == FUSE_ROOT_ID)
		in = root;
	else if (nvfs_hmap_get(&t->live, (uint64_t)nodeid, &one))
		in = (struct nvfs_inode *)(uintptr_t)nodeid;
	if (in)
		in->nlookup++;
	pthread_mutex_unlock(&t->lock);
	return in;
}
