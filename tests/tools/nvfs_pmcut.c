/* SPDX-License-Identifier: MIT */
/*
 * nvfs_pmcut.c -- build the pmem image a power loss leaves, for
 * tests/it/t80-crash.sh (variant r).
 *
 *     nvfs_pmcut DURABLE STORED OUT SEED PERMILLE
 *
 * DURABLE is what was made durable (the shadow file of
 * NVFS_TEST_PMEM_SHADOW), STORED every store the daemon made (the pmem
 * file after SIGKILL: the page cache keeps them).  OUT becomes DURABLE plus
 * a random subset of the stores that never were flushed: each aligned
 * 8-byte word in which STORED differs from DURABLE is taken from STORED
 * with probability PERMILLE/1000, from a PRNG seeded with SEED.  That is
 * what may reach the media anyway (cache evictions, in any order); 8-byte
 * aligned stores are not torn, so a word is old or new, never a mix.
 * Prints "N words differ, M taken"; exit 0, or 2 with a message.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void
die(const char *what, const char *path)
{
	fprintf(stderr, "nvfs_pmcut: %s %s: %s\n", what, path, strerror(errno));
	exit(2);
}

/* map -- path mapped (shared when writable); its size in *size */
static uint64_t *
map(const char *path, int flags, size_t *size)
{
	struct stat st;
	int fd = open(path, flags);
	void *p;

	if (fd < 0)
		die("cannot open", path);
	if (fstat(fd, &st) < 0)
		die("cannot stat", path);
	*size = (size_t)st.st_size;
	p = mmap(NULL, *size, flags == O_RDONLY ? PROT_READ : PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("cannot map", path);
	close(fd);
	return p;
}

/* splitmix64: small, seedable, good enough to pick words */
static uint64_t
next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

int
main(int argc, char **argv)
{
	size_t nd, ns, no, differ = 0, taken = 0;
	uint64_t seed, permille;
	const uint64_t *durable, *stored;
	uint64_t *out;
	int fd;

	if (argc != 6) {
		fprintf(stderr, "usage: nvfs_pmcut DURABLE STORED OUT SEED PERMILLE\n");
		return 2;
	}
	seed = strtoull(argv[4], NULL, 10);
	permille = strtoull(argv[5], NULL, 10);
	durable = map(argv[1], O_RDONLY, &nd);
	stored = map(argv[2], O_RDONLY, &ns);
	if (nd != ns || nd % 8) {
		fprintf(stderr, "nvfs_pmcut: %s and %s differ in size (%zu, %zu) or are "
			"not in whole words\n", argv[1], argv[2], nd, ns);
		return 2;
	}
	fd = open(argv[3], O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die("cannot create", argv[3]);
	if (ftruncate(fd, (off_t)nd) < 0)
		die("cannot size", argv[3]);
	close(fd);
	out = map(argv[3], O_RDWR, &no);
	memcpy(out, durable, nd);
	for (size_t i = 0; i < nd / 8; i++) {
		if (durable[i] == stored[i])
			continue;
		differ++;
		if (next(&seed) % 1000 < permille) {
			out[i] = stored[i];
			taken++;
		}
	}
	if (msync(out, no, MS_SYNC) < 0)
		die("cannot write", argv[3]);
	printf("%zu words differ, %zu taken\n", differ, taken);
	return 0;
}
