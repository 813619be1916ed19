/* SPDX-License-Identifier: MIT */
/* crash_sim.c -- the crash simulator of the crash suites (see crash_sim.h) */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crash_sim.h"
#include "nvfs_pmem.h"
#include "nvfs_test.h"

#define SIM_PAGE 4096u

struct range {
	size_t off, len;
	pthread_t thread;     /* that flushed it: only its drain makes it durable */
};

struct sim {
	pthread_mutex_t lock;
	uint8_t *shadow;          /* what is durable */
	size_t size, cap;
	struct range *pending;    /* flushed, not yet drained */
	size_t nr_pending, cap_pending;
	bool armed;               /* counting the target operation's drains */
	unsigned drains;          /* drains seen while armed */
	unsigned target;          /* capture before this drain (0: never) */
	bool captured;
	uint8_t *img_kill;        /* (a) */
	uint8_t *img_power;       /* (b) */
	size_t *diff;             /* pages where (a) and (b) differ, ascending */
	size_t nr_diff, cap_diff;
	unsigned long gen;        /* captures so far */
	uint8_t *subset_out;      /* the buffer the last subset was built in ... */
	unsigned long subset_gen; /* ... for this capture */
	void (*observer)(void *arg, bool drain);
	void *observer_arg;
	struct {                  /* failure injection */
		bool on;
		size_t lo, hi;
		unsigned nth;
		int err;
		unsigned matched;
		bool fired;
	} inj;
};

static struct sim sim = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void unmap_all(void);

/*
 * unlock_observe -- (locked) unlock, then tell the observer of the flush or
 * drain, outside the lock
 */
static void
unlock_observe(bool drain)
{
	void (*obs)(void *, bool) = sim.observer;
	void *obs_arg = sim.observer_arg;
	pthread_mutex_unlock(&sim.lock);
	if (obs)
		obs(obs_arg, drain);
}

/* sim_flush -- remember a flushed range until its thread drains */
static void
sim_flush(void *arg, const struct nvfs_pmem *pm, size_t off, size_t len)
{
	(void)arg; (void)pm;
	pthread_mutex_lock(&sim.lock);
	if (sim.nr_pending == sim.cap_pending) {
		sim.cap_pending = sim.cap_pending ? sim.cap_pending * 2 : 64;
		sim.pending = realloc(sim.pending, sim.cap_pending * sizeof(*sim.pending));
		CU_ASSERT_FATAL(sim.pending != NULL);
	}
	sim.pending[sim.nr_pending++] = (struct range){ off, len, pthread_self() };
	unlock_observe(false);
}

/* capture -- (locked) copy the mapping and the shadow, list the pages that differ */
static void
capture(const struct nvfs_pmem *pm)
{
	memcpy(sim.img_kill, pm->base, sim.size);
	/* The shadow becomes the power image: nothing reads it after a capture. */
	uint8_t *t = sim.img_power;
	sim.img_power = sim.shadow;
	sim.shadow = t;
	sim.nr_diff = 0;
	for (size_t off = 0; off < sim.size; off += SIM_PAGE) {
		size_t len = sim.size - off < SIM_PAGE ? sim.size - off : SIM_PAGE;
		if (!memcmp(sim.img_kill + off, sim.img_power + off, len))
			continue;
		if (sim.nr_diff == sim.cap_diff) {
			sim.cap_diff = sim.cap_diff ? sim.cap_diff * 2 : 256;
			sim.diff = realloc(sim.diff, sim.cap_diff * sizeof(*sim.diff));
			CU_ASSERT_FATAL(sim.diff != NULL);
		}
		sim.diff[sim.nr_diff++] = off / SIM_PAGE;
	}
	sim.gen++;
	sim.captured = true;
}

/* sim_drain -- a persist point: maybe capture, then make this thread's ranges durable */
static void
sim_drain(void *arg, const struct nvfs_pmem *pm)
{
	(void)arg;
	pthread_mutex_lock(&sim.lock);
	if (sim.armed && ++sim.drains == sim.target && !sim.captured)
		capture(pm);
	pthread_t self = pthread_self();
	size_t k = 0;
	for (size_t i = 0; i < sim.nr_pending; i++) {
		struct range r = sim.pending[i];
		if (!pthread_equal(r.thread, self)) {
			sim.pending[k++] = r;
			continue;
		}
		if (!sim.captured && r.off < sim.size && r.len <= sim.size - r.off)
			memcpy(sim.shadow + r.off, pm->base + r.off, r.len);
	}
	sim.nr_pending = k;
	unlock_observe(true);
}

/* sim_fail -- the injection: fail the nth matching flush, once */
static int
sim_fail(void *arg, const struct nvfs_pmem *pm, size_t off, size_t len)
{
	int rc = 0;

	(void)arg; (void)pm;
	pthread_mutex_lock(&sim.lock);
	if (sim.inj.on && off < sim.inj.hi && off + len > sim.inj.lo &&
	    sim.inj.matched++ == sim.inj.nth && sim.inj.err) {
		rc = sim.inj.err;
		sim.inj.fired = true;
	}
	pthread_mutex_unlock(&sim.lock);
	return rc;
}

static const struct nvfs_pmem_hook sim_hook = { sim_flush, sim_drain, NULL, sim_fail };

void
crash_sim_inject(size_t lo, size_t hi, unsigned nth, int err)
{
	pthread_mutex_lock(&sim.lock);
	sim.inj.on = true;
	sim.inj.lo = lo;
	sim.inj.hi = hi;
	sim.inj.nth = nth;
	sim.inj.err = err;
	sim.inj.matched = 0;
	sim.inj.fired = false;
	pthread_mutex_unlock(&sim.lock);
}

void
crash_sim_inject_off(void)
{
	pthread_mutex_lock(&sim.lock);
	sim.inj.on = false;
	pthread_mutex_unlock(&sim.lock);
}

unsigned
crash_sim_inject_matched(void)
{
	pthread_mutex_lock(&sim.lock);
	unsigned n = sim.inj.matched;
	pthread_mutex_unlock(&sim.lock);
	return n;
}

bool
crash_sim_inject_fired(void)
{
	pthread_mutex_lock(&sim.lock);
	bool f = sim.inj.fired;
	pthread_mutex_unlock(&sim.lock);
	return f;
}

/* reset -- buffers of size bytes, counters cleared, hook installed */
static void
reset(size_t size, unsigned target)
{
	if (sim.cap < size) {
		free(sim.shadow);
		free(sim.img_kill);
		free(sim.img_power);
		sim.shadow = malloc(size);
		sim.img_kill = malloc(size);
		sim.img_power = malloc(size);
		CU_ASSERT_FATAL(sim.shadow && sim.img_kill && sim.img_power);
		sim.cap = size;
	}
	sim.size = size;
	sim.nr_pending = 0;
	sim.armed = false;
	sim.drains = 0;
	sim.target = target;
	sim.captured = false;
	memset(&sim.inj, 0, sizeof(sim.inj));
	nvfs_pmem_set_hook(&sim_hook);
}

void
crash_sim_start(const char *path, size_t size, unsigned target)
{
	reset(size, target);
	memset(sim.shadow, 0, size);
	/* Zeroed in place, not truncated: the cached mapping keeps its pages. */
	CU_ASSERT_FATAL(crash_sim_write_file(path, sim.shadow, size) == 0);
}

void
crash_sim_start_from(const char *path, const uint8_t *file_img, const uint8_t *durable_img,
		     size_t size, unsigned target)
{
	CU_ASSERT_FATAL(crash_sim_write_file(path, file_img, size) == 0);
	reset(size, target);
	memcpy(sim.shadow, durable_img, size);
}

void
crash_sim_arm(void)
{
	pthread_mutex_lock(&sim.lock);
	sim.armed = true;
	pthread_mutex_unlock(&sim.lock);
}

void
crash_sim_disarm(void)
{
	pthread_mutex_lock(&sim.lock);
	sim.armed = false;
	pthread_mutex_unlock(&sim.lock);
}

unsigned
crash_sim_drains(void)
{
	pthread_mutex_lock(&sim.lock);
	unsigned n = sim.drains;
	pthread_mutex_unlock(&sim.lock);
	return n;
}

bool
crash_sim_captured(void)
{
	return sim.captured;
}

void
crash_sim_capture(const struct nvfs_pmem *pm)
{
	pthread_mutex_lock(&sim.lock);
	if (!sim.captured)
		capture(pm);
	pthread_mutex_unlock(&sim.lock);
}

const uint8_t *
crash_sim_kill(void)
{
	return sim.img_kill;
}

const uint8_t *
crash_sim_power(void)
{
	return sim.img_power;
}

const uint8_t *
crash_sim_shadow(void)
{
	CU_ASSERT_FATAL(!sim.captured);
	return sim.shadow;
}

size_t
crash_sim_size(void)
{
	return sim.size;
}

/* crash_sim_subset -- shadow plus a random subset of the differing words */
void
crash_sim_subset(uint8_t *out, uint64_t *rng)
{
	size_t words = sim.size / 8, per_page = SIM_PAGE / 8;
	const uint64_t *kill = (const uint64_t *)sim.img_kill;
	const uint64_t *power = (const uint64_t *)sim.img_power;
	uint64_t *dst = (uint64_t *)out;

	if (out != sim.subset_out || sim.subset_gen != sim.gen) {
		memcpy(out, sim.img_power, sim.size);
		sim.subset_out = out;
		sim.subset_gen = sim.gen;
	} else {
		/* out holds the last subset of this capture: only its differing pages changed */
		for (size_t i = 0; i < sim.nr_diff; i++) {
			size_t w0 = sim.diff[i] * per_page;
			size_t end = w0 + per_page < words ? w0 + per_page : words;
			memcpy(dst + w0, power + w0, (end - w0) * 8);
		}
	}
	/* Only pages that differ hold differing words (in the same order). */
	for (size_t i = 0; i < sim.nr_diff; i++) {
		size_t w0 = sim.diff[i] * per_page;
		size_t end = w0 + per_page < words ? w0 + per_page : words;
		for (size_t w = w0; w < end; w++)
			if (dst[w] != kill[w] && (nvfs_test_rand(rng) & 1))
				dst[w] = kill[w];
	}
}

size_t
crash_sim_diff_pages(void)
{
	return sim.nr_diff;
}

void
crash_sim_set_observer(void (*fn)(void *arg, bool drain), void *arg)
{
	pthread_mutex_lock(&sim.lock);
	sim.observer = fn;
	sim.observer_arg = arg;
	pthread_mutex_unlock(&sim.lock);
}

void
crash_sim_stop(void)
{
	nvfs_pmem_set_hook(NULL);
}

void
crash_sim_release(void)
{
	crash_sim_stop();
	unmap_all();
	free(sim.shadow);
	free(sim.img_kill);
	free(sim.img_power);
	free(sim.pending);
	free(sim.diff);
	sim.shadow = sim.img_kill = sim.img_power = NULL;
	sim.pending = NULL;
	sim.diff = NULL;
	sim.nr_diff = sim.cap_diff = 0;
	sim.subset_out = NULL;
	sim.size = sim.cap = 0;
	sim.nr_pending = sim.cap_pending = 0;
	sim.observer = NULL;
	sim.observer_arg = NULL;
	sim.captured = false;
	memset(&sim.inj, 0, sizeof(sim.inj));
}

/*
 * Files written by crash_sim_write_file stay mapped (a work file and a
 * check file per suite), so that rewriting one costs a compare, not a
 * mapping's worth of page faults.  An entry is reused only for the same
 * path, inode and size.
 */
#define MAP_CACHE 2u

struct file_map {
	char path[4096];
	dev_t dev;
	ino_t ino;
	size_t size;
	uint8_t *map;
	unsigned long used;
};

static struct file_map maps[MAP_CACHE];
static unsigned long map_clock;

/* unmap_all -- forget every cached mapping */
static void
unmap_all(void)
{
	for (unsigned i = 0; i < MAP_CACHE; i++) {
		if (maps[i].map)
			munmap(maps[i].map, maps[i].size);
		memset(&maps[i], 0, sizeof(maps[i]));
	}
}

/* file_map -- a shared mapping of path, which holds size bytes; NULL with errno */
static uint8_t *
file_map(const char *path, size_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	struct stat st;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || ((size_t)st.st_size != size && ftruncate(fd, (off_t)size) < 0)) {
		int err = errno;
		close(fd);
		errno = err;
		return NULL;
	}
	struct file_map *victim = &maps[0];
	for (unsigned i = 0; i < MAP_CACHE; i++) {
		struct file_map *m = &maps[i];
		if (m->map && m->dev == st.st_dev && m->ino == st.st_ino && m->size == size &&
		    strcmp(m->path, path) == 0) {
			close(fd);
			m->used = ++map_clock;
			return m->map;
		}
		if (m->used < victim->used)
			victim = m;
	}
	uint8_t *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int err = errno;
	close(fd);
	if (map == MAP_FAILED) {
		errno = err;
		return NULL;
	}
	if (victim->map)
		munmap(victim->map, victim->size);
	snprintf(victim->path, sizeof(victim->path), "%s", path);
	victim->dev = st.st_dev;
	victim->ino = st.st_ino;
	victim->size = size;
	victim->map = map;
	victim->used = ++map_clock;
	return map;
}

/* crash_sim_read_file -- size bytes of path into buf (read: holes cost no faults) */
int
crash_sim_read_file(const char *path, void *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t done = 0;

	if (fd < 0)
		return -errno;
	while (done < size) {
		ssize_t n = pread(fd, (uint8_t *)buf + done, size - done, (off_t)done);
		if (n <= 0) {
			int err = n < 0 ? errno : EIO;
			close(fd);
			return -err;
		}
		done += (size_t)n;
	}
	close(fd);
	return 0;
}

/* crash_sim_write_file -- rewrite the pages of path that differ from img */
int
crash_sim_write_file(const char *path, const void *img, size_t size)
{
	uint8_t *map = file_map(path, size);
	const uint8_t *src = img;

	if (!map)
		return -errno;
	for (size_t off = 0; off < size; off += SIM_PAGE) {
		size_t len = size - off < SIM_PAGE ? size - off : SIM_PAGE;
		if (memcmp(map + off, src + off, len))
			memcpy(map + off, src + off, len);
	}
	return 0;
}
