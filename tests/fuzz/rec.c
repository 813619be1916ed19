/* SPDX-License-Identifier: MIT */
/*
 * rec.c -- libFuzzer target: the file system's JOURNAL RECORD decoder and
 * validator (fs/rec.c: nvfs_rec_decode, rules R1-R7 of nvfs_rec.h), alone,
 * on any bytes: what replay does with every journal entry before it
 * trusts a field.
 *
 * INPUT
 *   byte 0: the record type, 0x4600 + byte (so the known types 0x4601..
 *   0x460b and unknown ones are all reached); the rest: the payload.
 *
 * PROPERTIES CHECKED (besides no crash, no ASan/UBSan report)
 *   a refused record names the rule it breaks; an accepted one satisfies
 *   the bounds fs/replay.c relies on and round-trips through
 *   nvfs_rec_encode byte for byte (tests/fuzz/rec_check.h has the list).
 *   The journal target runs the same checks on records found by replay.
 */
#include "rec_check.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seeder {
	const char *dir;
	unsigned n;
};

/* emit -- a record as a seed: type byte, then the encoded payload */
static void
emit(void *arg, const struct nvfs_rec *r)
{
	struct seeder *s = arg;
	unsigned char hdr[NVFS_REC_HDR_BYTES];
	struct iovec iov[4];
	int iovcnt;
	struct fz_buf b = { 0 };
	uint8_t t = (uint8_t)(r->type - 0x4600);
	char name[64];

	if (nvfs_rec_encode(r, hdr, iov, &iovcnt) != 0)
		exit(2);
	fz_put(&b, &t, 1);
	for (int i = 0; i < iovcnt; i++)
		fz_put(&b, iov[i].iov_base, iov[i].iov_len);
	snprintf(name, sizeof(name), "seed-%02u-%s", s->n++, nvfs_rec_type_name(r->type));
	fz_seed_write(s->dir, name, b.p, b.len);
	/* near-valid: the same with a name of the wrong length */
	if (b.len > 1 + 118) {
		b.p[1 + 116] ^= 1;
		snprintf(name, sizeof(name), "near-%02u-%s", s->n - 1,
			 nvfs_rec_type_name(r->type));
		fz_seed_write(s->dir, name, b.p, b.len);
	}
	free(b.p);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc; (void)argv;
	if (fz_mkcorpus_dir()) {
		struct seeder s = { fz_mkcorpus_dir(), 0 };
		fz_rec_seeds(emit, &s);
		exit(0);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	/* a copy of exactly the payload, so ASan sees any read past its end */
	uint8_t *payload = malloc(size - 1 ? size - 1 : 1);
	CHECK(payload != NULL);
	memcpy(payload, data + 1, size - 1);
	int ok = fz_rec_check(0x4600u + data[0], payload, size - 1);
	if (getenv("NVFS_FUZZ_DEBUG"))
		fprintf(stderr, "rec: type %#x, %zu bytes: %s\n", 0x4600u + data[0],
			size - 1, ok ? "valid" : "refused");
	free(payload);
	return 0;
}
