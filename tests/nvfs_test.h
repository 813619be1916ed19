/* SPDX-License-Identifier: MIT */
/*
 * nvfs_test.h -- what every CUnit test file uses.
 *
 * A test file tests/<folder>_<file>.c holds one suite, "<folder>/<file>",
 * registered with NVFS_SUITE; tests/main.c runs every registered suite (or
 * those whose name starts with argv[1]).  Test names are
 * test_<function>_<condition>.
 *
 * Scratch files go in nvfs_test_dir(), a fresh directory on tmpfs
 * (/dev/shm, else $TMPDIR or /tmp) removed when the run ends.
 * nvfs_test_scale() is 1 normally and smaller under the sanitizers
 * (NVFS_TEST_SCALE=san), for loops whose length is a cost, not a claim.
 */
#ifndef NVFS_TEST_H
#define NVFS_TEST_H

#include <CUnit/CUnit.h>
#include <stddef.h>
#include <stdint.h>

struct nvfs_test_case {
	const char *name;
	void (*fn)(void);
};

struct nvfs_test_suite {
	const char *name;
	int (*init)(void);
	int (*cleanup)(void);
	const struct nvfs_test_case *cases;
};

void nvfs_test_register(const struct nvfs_test_suite *suite);

#define NVFS_TEST(fn) { #fn, fn }

/*
 * NVFS_SUITE(ident, "folder/file", init, cleanup, NVFS_TEST(a), ...) --
 * define and register a suite (init/cleanup may be NULL).
 */
#define NVFS_SUITE(ident, sname, init_fn, cleanup_fn, ...)                       \
	static const struct nvfs_test_case ident##_cases[] = { __VA_ARGS__,      \
							       { NULL, NULL } }; \
	static const struct nvfs_test_suite ident##_suite = {                    \
		sname, init_fn, cleanup_fn, ident##_cases };                     \
	__attribute__((constructor)) static void ident##_register(void)          \
	{                                                                        \
		nvfs_test_register(&ident##_suite);                              \
	}

/* nvfs_test_dir -- the run's scratch directory (created on first use) */
const char *nvfs_test_dir(void);

/* nvfs_test_path -- "<scratch dir>/<name>" in a static rotating buffer */
const char *nvfs_test_path(const char *name);

/* nvfs_test_scale -- divide long loops by this under the sanitizers */
unsigned nvfs_test_scale_div(void);

/* nvfs_test_rand -- deterministic PRNG (xorshift64*) for reproducible loops */
uint64_t nvfs_test_rand(uint64_t *state);

/* nvfs_test_seed -- the run's seed: $NVFS_TEST_SEED or a fixed default */
uint64_t nvfs_test_seed(void);

/*
 * nvfs_test_mkfile -- create (or truncate) path as a zero-filled file of
 * bytes bytes.  Returns 0 or -errno.
 */
int nvfs_test_mkfile(const char *path, uint64_t bytes);

/* nvfs_test_read_file / write_file -- whole-file copies for crash images */
void *nvfs_test_read_file(const char *path, size_t *len);
int nvfs_test_write_file(const char *path, const void *buf, size_t len);

#endif /* NVFS_TEST_H */
