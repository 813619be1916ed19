/* SPDX-License-Identifier: MIT */
/*
 * main.c -- run every registered CUnit suite (or those whose name starts
 * with argv[1]) and exit non-zero if any test failed.
 */
#include <CUnit/Basic.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvfs_test.h"

#define MAX_SUITES 128

static const struct nvfs_test_suite *suites[MAX_SUITES];
static unsigned nr_suites;
static char scratch[4096];

/* nvfs_test_register -- called from each suite's constructor */
void
nvfs_test_register(const struct nvfs_test_suite *suite)
{
	if (nr_suites == MAX_SUITES) {
		fprintf(stderr, "tests: more than %d suites\n", MAX_SUITES);
		exit(2);
	}
	suites[nr_suites++] = suite;
}

/* rm_entry -- nftw callback removing one entry */
static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	remove(path);
	return 0;
}

/* remove_scratch -- atexit: delete the scratch directory */
static void
remove_scratch(void)
{
	if (scratch[0])
		nftw(scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* nvfs_test_dir -- the run's scratch directory on tmpfs */
const char *
nvfs_test_dir(void)
{
	if (scratch[0])
		return scratch;
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
	if (!base)
		base = "/tmp";
	snprintf(scratch, sizeof(scratch), "%s/nvfs-test-XXXXXX", base);
	if (!mkdtemp(scratch)) {
		perror("tests: mkdtemp");
		exit(2);
	}
	atexit(remove_scratch);
	return scratch;
}

/* nvfs_test_path -- a path inside the scratch directory */
const char *
nvfs_test_path(const char *name)
{
	static char bufs[4][4096];
	static unsigned next;
	char *buf = bufs[next++ % 4];

	snprintf(buf, sizeof(bufs[0]), "%s/%s", nvfs_test_dir(), name);
	return buf;
}

/* nvfs_test_scale_div -- loop divisor under the sanitizers */
unsigned
nvfs_test_scale_div(void)
{
	const char *s = getenv("NVFS_TEST_SCALE");
	return s && strcmp(s, "san") == 0 ? 5 : 1;
}

/* nvfs_test_rand -- xorshift64* */
uint64_t
nvfs_test_rand(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x2545f4914f6cdd1dULL;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* nvfs_test_seed -- $NVFS_TEST_SEED or 1 */
uint64_t
nvfs_test_seed(void)
{
	const char *s = getenv("NVFS_TEST_SEED");
	return s ? strtoull(s, NULL, 0) : 1;
}

/* nvfs_test_mkfile -- a zero-filled file of the given size */
int
nvfs_test_mkfile(const char *path, uint64_t bytes)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)bytes) < 0) {
		int err = errno;
		close(fd);
		return -err;
	}
	close(fd);
	return 0;
}

/* nvfs_test_read_file -- malloc'ed copy of a whole file */
void *
nvfs_test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	void *buf = malloc(n > 0 ? (size_t)n : 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf)
		*len = (size_t)n;
	return buf;
}

/* nvfs_test_write_file -- replace a file's contents */
int
nvfs_test_write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -errno;
	size_t w = fwrite(buf, 1, len, f);
	if (fclose(f) != 0 || w != len)
		return -EIO;
	return 0;
}

/* cmp_suite -- order suites by name for a stable report */
static int
cmp_suite(const void *a, const void *b)
{
	return strcmp((*(const struct nvfs_test_suite *const *)a)->name,
		      (*(const struct nvfs_test_suite *const *)b)->name);
}

int
main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : "";
	unsigned failures;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	qsort(suites, nr_suites, sizeof(suites[0]), cmp_suite);
	for (unsigned i = 0; i < nr_suites; i++) {
		const struct nvfs_test_suite *s = suites[i];
		if (strncmp(s->name, filter, strlen(filter)) != 0)
			continue;
		CU_pSuite cs = CU_add_suite(s->name, s->init, s->cleanup);
		if (!cs)
			return 2;
		for (const struct nvfs_test_case *c = s->cases; c->name; c++)
			if (!CU_add_test(cs, c->name, c->fn))
				return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
	unsigned ran = CU_get_number_of_tests_run();
	CU_cleanup_registry();
	if (ran == 0) {
		fprintf(stderr, "tests: no test ran (filter '%s')\n", filter);
		return 1;
	}
	return failures ? 1 : 0;
}
