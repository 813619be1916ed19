/* SPDX-License-Identifier: MIT */
/*
 * fuzz.h -- what the libFuzzer targets of tests/fuzz share (header only:
 * each target is one .c file plus this).
 *
 *   CHECK(cond)      the target's own invariant: __builtin_trap() when it
 *                    does not hold, so that libFuzzer saves the input.  Used
 *                    only here, never in product code.
 *   chunks           a sparse image as input: [u32 off][u16 len][len bytes]
 *                    repeated (little-endian), so that seeds stay small
 *                    although the image is 17 MiB and more.
 *   fake pmem        an nvfs_pmem over memory the target owns (no file, no
 *                    libpmem2): PAGE granularity on "tmpfs", so that a
 *                    persist is only an ordering and costs nothing.
 *   seed mode        NVFS_FUZZ_MKCORPUS=DIR in the environment: the target
 *                    writes its seed inputs to DIR and exits (make
 *                    fuzz-corpus), so the seeds are regenerated from the
 *                    product's own encoders when the format changes.
 */
#ifndef NVFS_FUZZ_H
#define NVFS_FUZZ_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "nvfs_pmem.h"

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "fuzz: invariant failed at %s:%d: %s\n", \
				__FILE__, __LINE__, #cond);                      \
			__builtin_trap();                                        \
		}                                                                \
	} while (0)

/* ---- input reading -------------------------------------------------------- */

struct fz_in {
	const uint8_t *p;
	size_t left;
};

static inline bool
fz_take(struct fz_in *in, void *out, size_t n)
{
	if (in->left < n)
		return false;
	memcpy(out, in->p, n);
	in->p += n;
	in->left -= n;
	return true;
}

/*
 * fz_chunks -- apply the chunks of in to img (size bytes): each is copied at
 * off % size, clipped at the end of img.  Calls mark(arg, off, len) for
 * each, so that the target knows what it wrote (to fix checksums, to undo).
 */
static inline void
fz_chunks(struct fz_in *in, uint8_t *img, size_t size,
	  void (*mark)(void *arg, size_t off, size_t len), void *arg)
{
	for (;;) {
		uint32_t off;
		uint16_t len;
		if (!fz_take(in, &off, 4) || !fz_take(in, &len, 2))
			return;
		size_t o = off % size, n = len;
		if (n > in->left)
			n = in->left;
		if (n > size - o)
			n = size - o;
		memcpy(img + o, in->p, n);
		in->p += len < in->left ? len : in->left;
		in->left -= len < in->left ? len : in->left;
		if (mark)
			mark(arg, o, n);
	}
}

/* ---- seeds ----------------------------------------------------------------- */

/* fz_buf -- a growing byte buffer, for writing seeds */
struct fz_buf {
	uint8_t *p;
	size_t len, cap;
};

static inline void
fz_put(struct fz_buf *b, const void *data, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p) {
			perror("fuzz: realloc");
			exit(2);
		}
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

/* fz_chunk -- append a chunk of the image [off, off+n) holding data */
static inline void
fz_chunk(struct fz_buf *b, uint32_t off, const void *data, size_t n)
{
	uint16_t len = (uint16_t)n;

	fz_put(b, &off, 4);
	fz_put(b, &len, 2);
	fz_put(b, data, n);
}

/* fz_chunk_nz -- chunks for the non-zero runs of [data, data+n) at off */
static inline void
fz_chunk_nz(struct fz_buf *b, uint32_t off, const uint8_t *data, size_t n)
{
	for (size_t i = 0; i < n;) {
		if (!data[i]) {
			i++;
			continue;
		}
		/* a run ends after 16 zero bytes: short gaps stay in one chunk */
		size_t j = i, zeros = 0;
		while (j < n && zeros < 16 && j - i < 60000) {
			zeros = data[j] ? 0 : zeros + 1;
			j++;
		}
		fz_chunk(b, off + (uint32_t)i, data + i, j - zeros - i);
		i = j;
	}
}

/* fz_seed_write -- write seed DIR/name; exits on failure */
static inline void
fz_seed_write(const char *dir, const char *name, const void *data, size_t n)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

/* fz_mkcorpus_dir -- the seed directory asked for, or NULL */
static inline const char *
fz_mkcorpus_dir(void)
{
	const char *d = getenv("NVFS_FUZZ_MKCORPUS");
	return d && *d ? d : NULL;
}

/* ---- a pmem in memory ------------------------------------------------------ */

/* fz_map -- size bytes of zeroed anonymous memory; exits on failure */
static inline uint8_t *
fz_map(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (p == MAP_FAILED) {
		perror("fuzz: mmap");
		exit(2);
	}
	return p;
}

/* fz_zero -- make [p, p+size) zero again, cheaply (pages dropped) */
static inline void
fz_zero(uint8_t *p, size_t size)
{
	if (madvise(p, size, MADV_DONTNEED) != 0) {
		perror("fuzz: madvise");
		exit(2);
	}
}

/*
 * fz_pmem -- a handle over img for nvfs_alloc_open_pmem (which takes it
 * over: nvfs_pmem_close frees the handle and, with no map, source or fd,
 * leaves img alone)
 */
static inline struct nvfs_pmem *
fz_pmem(uint8_t *img, size_t size, bool readonly)
{
	struct nvfs_pmem *pm = calloc(1, sizeof(*pm));
	if (!pm) {
		perror("fuzz: calloc");
		exit(2);
	}
	pm->base = (char *)img;
	pm->size = size;
	pm->gran = NVFS_GRAN_PAGE;
	pm->on_tmpfs = true;
	pm->readonly = readonly;
	pm->fd = -1;
	snprintf(pm->path, sizeof(pm->path), "fuzz-image");
	return pm;
}

#endif /* NVFS_FUZZ_H */
