/* SPDX-License-Identifier: MIT */
/*
 * crash_sim.h -- a crash simulator for the crash suites, built on the
 * persist hook of nvfs_pmem.h.
 *
 * A persist point is a drain (nvfs_pmem_drain): the moment a batch of
 * flushed ranges becomes durable.  The simulator keeps a SHADOW image of
 * what is durable: a flushed range is copied from the mapping into the
 * shadow when the thread that flushed it drains (a fence orders only its
 * own core's flushes, so another thread's drain does not make it durable).
 * While ARMED it counts drains; just before drain number `target` takes
 * effect it captures two images of the namespace:
 *   kill   (a) the process is killed: every store so far (the mapping);
 *   power  (b) power is lost: only what was drained (the shadow);
 * and crash_sim_subset builds a third kind from them:
 *   subset (c) power is lost with some unflushed stores reaching media
 *              anyway: the shadow plus a random subset of the 8-byte words
 *              that differ (8-byte stores are not torn).
 * Target P+1 of an operation that makes P drains is "after the operation":
 * the caller then captures with crash_sim_capture once it has finished.
 *
 * Usage:
 *     crash_sim_start(path, size, target);     -- zero file, zero shadow
 *     ... open the pmem (the hook sees everything from here) ...
 *     crash_sim_arm();  operation;  crash_sim_disarm();
 *     crash_sim_capture(pm);                   -- if target was not reached
 *     crash_sim_stop();                        -- before reopening images
 *     ... crash_sim_kill(), crash_sim_power(), crash_sim_subset() ...
 *     crash_sim_release();                     -- at the end of the suite
 * The simulator is process-global (like the hook).  Its flush and drain
 * may be called from several threads; capture happens under its lock.
 */
#ifndef NVFS_CRASH_SIM_H
#define NVFS_CRASH_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nvfs_pmem;

/*
 * crash_sim_start -- make path a zero file of size bytes, zero the
 * shadow, forget pending flushes, disarm, reset the drain count and
 * install the hook; capture before armed drain `target` (0: never).
 */
void crash_sim_start(const char *path, size_t size, unsigned target);

/*
 * crash_sim_start_from -- the same, but the file holds file_img and the
 * shadow durable_img (a state saved earlier with crash_sim_shadow and the
 * file's contents), both size bytes.
 */
void crash_sim_start_from(const char *path, const uint8_t *file_img,
			  const uint8_t *durable_img, size_t size, unsigned target);

/* crash_sim_arm / disarm -- count (or stop counting) drains; the count stays */
void crash_sim_arm(void);
void crash_sim_disarm(void);

/* crash_sim_drains -- drains counted while armed since crash_sim_start */
unsigned crash_sim_drains(void);

/* crash_sim_captured -- the images were captured */
bool crash_sim_captured(void);

/*
 * crash_sim_capture -- capture the images now from pm (the crash "after the
 * operation"), unless they were captured already
 */
void crash_sim_capture(const struct nvfs_pmem *pm);

/* the captured images (size bytes each) */
const uint8_t *crash_sim_kill(void);
const uint8_t *crash_sim_power(void);
size_t crash_sim_size(void);

/*
 * crash_sim_shadow -- what is durable now, to save a state for
 * crash_sim_start_from; only before a capture (the capture takes the
 * shadow over as the power image, and it is not maintained after)
 */
const uint8_t *crash_sim_shadow(void);

/*
 * crash_sim_subset -- out (crash_sim_size() bytes) = the power image plus
 * a random subset of the words in which the kill image differs.  Calls for
 * the same capture with the same out rebuild only the pages that differ:
 * the caller must not change out in between.
 */
void crash_sim_subset(uint8_t *out, uint64_t *rng);

/* crash_sim_diff_pages -- pages in which the kill and power images differ (0: identical) */
size_t crash_sim_diff_pages(void);

/*
 * crash_sim_set_observer -- fn is called after every flush and drain the
 * hook sees (drain true for a drain), on the calling thread, without the
 * simulator's lock: a scenario may block a thread there to force an
 * interleaving.  NULL removes it; crash_sim_start keeps it.
 */
void crash_sim_set_observer(void (*fn)(void *arg, bool drain), void *arg);

/*
 * FAILURE INJECTION (nvfs_pmem.h: the hook's fail).  crash_sim_inject makes
 * flush number nth (0: the next) among those from now on that intersect
 * [lo, hi) of the namespace fail with err (a negative errno), once: the
 * pmem latches the error and fails the later flushes itself.  With err 0
 * nothing fails, but matching flushes are still counted (to learn how many
 * an operation makes).  A failed flush is not recorded, so its range does
 * not become durable in the shadow (the stores stay in the mapping: the
 * kill image has them).  crash_sim_start and crash_sim_inject_off disarm.
 */
void crash_sim_inject(size_t lo, size_t hi, unsigned nth, int err);
void crash_sim_inject_off(void);

/* crash_sim_inject_matched -- flushes that matched since crash_sim_inject */
unsigned crash_sim_inject_matched(void);

/* crash_sim_inject_fired -- the injected failure happened */
bool crash_sim_inject_fired(void);

/* crash_sim_stop -- remove the hook (images stay) */
void crash_sim_stop(void);

/* crash_sim_release -- free the simulator's memory */
void crash_sim_release(void);

/*
 * crash_sim_write_file -- make the file at path hold img (size bytes),
 * rewriting only the pages that differ; 0 or -errno.  Much cheaper than a
 * truncate-and-write of a whole namespace for each crash image.  The last
 * two files written stay mapped until crash_sim_release.
 */
int crash_sim_write_file(const char *path, const void *img, size_t size);

/* crash_sim_read_file -- the contents of path, size bytes long, into buf; 0 or -errno */
int crash_sim_read_file(const char *path, void *buf, size_t size);

#endif /* NVFS_CRASH_SIM_H */
