/* SPDX-License-Identifier: MIT */
/*
 * alloc_testlib.h -- helpers shared by the allocator suites: make a
 * namespace, and capture an allocator's whole persistent state (owners and
 * their blocks) in a comparable form; the owners and blocks the failure and
 * crash suites start their scenarios from.
 */
#ifndef NVFS_ALLOC_TESTLIB_H
#define NVFS_ALLOC_TESTLIB_H

#include <stdbool.h>
#include <stdint.h>

#include "nvfs_alloc.h"

#define TEST_MAX_BLOCKS 8192

struct test_block {
	uint8_t owner_uuid[NVFS_UUID_BYTES];
	uint64_t off;
	unsigned order;
};

struct test_state {
	struct test_block b[TEST_MAX_BLOCKS];
	unsigned n;
	unsigned owners;
	char labels[NVFS_OWNER_SLOTS][NVFS_LABEL_BYTES]; /* by owner rank */
	uint64_t free_blocks[NVFS_MAX_ORDER];
};

/* test_ns_make -- a zero file of bytes formatted as a namespace (asserts) */
void test_ns_make(const char *path, uint64_t bytes);

/* test_state_collect -- every owner's blocks, sorted by offset (asserts) */
void test_state_collect(struct nvfs_alloc *a, struct test_state *st);

/*
 * test_state_equal -- same owners, labels, blocks; with free_too also the
 * same free blocks per order
 */
bool test_state_equal(const struct test_state *x, const struct test_state *y,
		      bool free_too);

/*
 * test_state_disjoint -- no page in two blocks and every block inside the
 * allocatable area of sb
 */
bool test_state_disjoint(const struct test_state *st, const struct nvfs_pm_sb *sb);

/*
 * Scenario set-ups shared by the failure and crash suites (alloc_fail.c,
 * crash_alloc.c): owners a ("journal") and b ("data") by these uuids.
 */
extern const uint8_t test_uuid_a[NVFS_UUID_BYTES];
extern const uint8_t test_uuid_b[NVFS_UUID_BYTES];

/* test_setup_owner -- owner a only */
void test_setup_owner(struct nvfs_alloc *a, uint64_t *arg);

/* test_setup_blocks -- owners a and b with six blocks; *arg is one of a's */
void test_setup_blocks(struct nvfs_alloc *a, uint64_t *arg);

/* test_setup_full_page -- owner a's first record page full; *arg its last block */
void test_setup_full_page(struct nvfs_alloc *a, uint64_t *arg);

#endif /* NVFS_ALLOC_TESTLIB_H */
