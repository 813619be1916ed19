/* SPDX-License-Identifier: MIT */
/*
 * fs_rec.c -- the file system's journal records (fs/rec.c): the layout of
 * the header, the round trip of every record type through
 * nvfs_rec_encode / nvfs_rec_decode, each validity rule R1-R7 of
 * nvfs_rec.h refusing what breaks it (with -EBADMSG and a reason naming the
 * rule), and a fuzz loop over flipped bytes of valid payloads.
 *
 * The header table below is this file's own copy of nvfs_rec.h's, so that
 * a change of the layout in fs/rec.c alone fails here.
 */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvfs_rec.h"
#include "nvfs_test.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE  (1 << 1)
#endif
#define RENAME_WHITEOUT_ (1 << 2)

/* ---- the header, as nvfs_rec.h documents it --------------------------------- */

enum fld {
	F_ID, F_PARENT, F_PARENT2, F_ID2, F_A, F_B, F_C, F_MODE, F_UID, F_GID, F_FLAGS,
	F_NLINK, F_NLINK2, F_VALID, F_NAME_LEN, F_NAME2_LEN, F_DATA_LEN, F_RESERVED, F_COUNT
};

static const struct { unsigned off, size; const char *name; } fields[F_COUNT] = {
	[F_ID] = { 0, 16, "id" },          [F_PARENT] = { 16, 16, "parent" },
	[F_PARENT2] = { 32, 16, "parent2" }, [F_ID2] = { 48, 16, "id2" },
	[F_A] = { 64, 8, "a" },            [F_B] = { 72, 8, "b" },
	[F_C] = { 80, 8, "c" },            [F_MODE] = { 88, 4, "mode" },
	[F_UID] = { 92, 4, "uid" },        [F_GID] = { 96, 4, "gid" },
	[F_FLAGS] = { 100, 4, "flags" },   [F_NLINK] = { 104, 4, "nlink" },
	[F_NLINK2] = { 108, 4, "nlink2" }, [F_VALID] = { 112, 4, "valid" },
	[F_NAME_LEN] = { 116, 2, "name_len" }, [F_NAME2_LEN] = { 118, 2, "name2_len" },
	[F_DATA_LEN] = { 120, 4, "data_len" }, [F_RESERVED] = { 124, 4, "reserved" },
};

#define B(f) (1u << (f))

static const uint32_t types[] = {
	NVFS_REC_CREATE, NVFS_REC_LINK, NVFS_REC_UNLINK, NVFS_REC_RENAME, NVFS_REC_WRITE,
	NVFS_REC_SETATTR, NVFS_REC_FALLOCATE, NVFS_REC_SETXATTR, NVFS_REC_REMOVEXATTR,
	NVFS_REC_CANCEL, NVFS_REC_MARK,
};
#define LAST_TYPE NVFS_REC_MARK
#define NTYPES (sizeof(types) / sizeof(types[0]))

/* used -- the fields a type uses (the header table's "use" column) */
static unsigned
used(uint32_t type)
{
	switch (type) {
	case NVFS_REC_CREATE:
		return B(F_ID) | B(F_PARENT) | B(F_A) | B(F_MODE) | B(F_UID) | B(F_GID) |
		       B(F_NAME_LEN) | B(F_DATA_LEN);
	case NVFS_REC_LINK:
		return B(F_ID) | B(F_PARENT) | B(F_NLINK) | B(F_NAME_LEN);
	case NVFS_REC_UNLINK:
		return B(F_ID) | B(F_PARENT) | B(F_FLAGS) | B(F_NLINK) | B(F_NAME_LEN);
	case NVFS_REC_RENAME:
		return B(F_ID) | B(F_PARENT) | B(F_PARENT2) | B(F_ID2) | B(F_FLAGS) |
		       B(F_NLINK) | B(F_NLINK2) | B(F_NAME_LEN) | B(F_NAME2_LEN);
	case NVFS_REC_WRITE:
		return B(F_ID) | B(F_A) | B(F_DATA_LEN);
	case NVFS_REC_SETATTR:
		return B(F_ID) | B(F_A) | B(F_B) | B(F_C) | B(F_MODE) | B(F_UID) | B(F_GID) |
		       B(F_VALID);
	case NVFS_REC_FALLOCATE:
		return B(F_ID) | B(F_A) | B(F_B) | B(F_FLAGS);
	case NVFS_REC_SETXATTR:
		return B(F_ID) | B(F_FLAGS) | B(F_NAME_LEN) | B(F_DATA_LEN);
	case NVFS_REC_REMOVEXATTR:
		return B(F_ID) | B(F_NAME_LEN);
	case NVFS_REC_CANCEL:
	case NVFS_REC_MARK:
		return B(F_ID) | B(F_A);
	}
	return 0;
}

static bool
xattr_type(uint32_t type)
{
	return type == NVFS_REC_SETXATTR || type == NVFS_REC_REMOVEXATTR;
}

static uint64_t
le(const unsigned char *p, unsigned size)
{
	uint64_t v = 0;

	for (unsigned k = size; k--;)
		v = v << 8 | p[k];
	return v;
}

static void
put_le(unsigned char *p, unsigned size, uint64_t v)
{
	for (unsigned k = 0; k < size; k++, v >>= 8)
		p[k] = (unsigned char)v;
}

/* ---- building payloads --------------------------------------------------- */

/* a payload in a buffer of its exact size (ASan sees any read past it) */
struct pl {
	unsigned char *p;
	size_t len;
};

static void
pl_free(struct pl *x)
{
	free(x->p);
	x->p = NULL;
	x->len = 0;
}

/* encode -- r through nvfs_rec_encode, the iovecs gathered into x */
static void
encode(const struct nvfs_rec *r, struct pl *x)
{
	unsigned char hdr[NVFS_REC_HDR_BYTES];
	struct iovec iov[4];
	int n = -1;

	CU_ASSERT_FATAL(nvfs_rec_encode(r, hdr, iov, &n) == 0);
	CU_ASSERT_FATAL(n >= 1 && n <= 4);
	CU_ASSERT_FATAL(iov[0].iov_base == (void *)hdr && iov[0].iov_len == NVFS_REC_HDR_BYTES);
	x->len = 0;
	for (int k = 0; k < n; k++) {
		CU_ASSERT(iov[k].iov_len > 0);
		x->len += iov[k].iov_len;
	}
	x->p = malloc(x->len);
	CU_ASSERT_FATAL(x->p != NULL);
	size_t off = 0;
	for (int k = 0; k < n; k++) {
		memcpy(x->p + off, iov[k].iov_base, iov[k].iov_len);
		off += iov[k].iov_len;
	}
}

/* pl_raw -- a payload of a header plus tail bytes, the lengths as given */
static void
pl_raw(struct pl *x, const unsigned char hdr[NVFS_REC_HDR_BYTES], const void *tail,
       size_t tail_len)
{
	x->len = NVFS_REC_HDR_BYTES + tail_len;
	x->p = malloc(x->len);
	CU_ASSERT_FATAL(x->p != NULL);
	memcpy(x->p, hdr, NVFS_REC_HDR_BYTES);
	if (tail_len)
		memcpy(x->p + NVFS_REC_HDR_BYTES, tail, tail_len);
}

static const char target[] = "../some/where else";
static const char wdata[] = "bytes of a write";
static const char xvalue[] = "an xattr value";

/* valid -- a valid record of type with recognisable values in every used field */
static void
valid(uint32_t type, struct nvfs_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->type = type;
	r->id = (struct nvfs_rec_id){ 0x1111, 0x2222 };
	switch (type) {
	case NVFS_REC_CREATE:
		r->parent = (struct nvfs_rec_id){ 0x3333, 0 };
		r->mode = 0120777;
		r->uid = 1000;
		r->gid = 100;
		snprintf(r->name, sizeof(r->name), "link");
		r->data = target;
		r->data_len = strlen(target);
		break;
	case NVFS_REC_LINK:
		r->parent = (struct nvfs_rec_id){ 0x3333, 7 };
		r->nlink = 2;
		snprintf(r->name, sizeof(r->name), "second");
		break;
	case NVFS_REC_UNLINK:
		r->parent = (struct nvfs_rec_id){ 0x3333, 7 };
		r->flags = NVFS_REC_RMDIR;
		snprintf(r->name, sizeof(r->name), "gone");
		break;
	case NVFS_REC_RENAME:
		r->parent = (struct nvfs_rec_id){ 0x3333, 7 };
		r->parent2 = (struct nvfs_rec_id){ 0x4444, 8 };
		r->id2 = (struct nvfs_rec_id){ 0x5555, 9 };
		r->flags = RENAME_EXCHANGE;
		r->nlink = 3;
		r->nlink2 = 1;
		snprintf(r->name, sizeof(r->name), "from");
		snprintf(r->name2, sizeof(r->name2), "to");
		break;
	case NVFS_REC_WRITE:
		r->a = 4096;
		r->data = wdata;
		r->data_len = strlen(wdata);
		break;
	case NVFS_REC_SETATTR:
		r->valid = NVFS_REC_SET_ALL;
		r->mode = 04755;
		r->uid = 1;
		r->gid = 2;
		r->a = 12345;
		r->b = 1700000000123456789ull;
		r->c = 1600000000987654321ull;
		break;
	case NVFS_REC_FALLOCATE:
		r->flags = 3; /* FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE */
		r->a = 8192;
		r->b = 65536;
		break;
	case NVFS_REC_SETXATTR:
		r->flags = 1; /* XATTR_CREATE */
		snprintf(r->name, sizeof(r->name), "user.a/b.c");
		r->data = xvalue;
		r->data_len = strlen(xvalue);
		break;
	case NVFS_REC_REMOVEXATTR:
		snprintf(r->name, sizeof(r->name), "trusted..");
		break;
	case NVFS_REC_CANCEL:
		r->a = 77; /* the sequence number of the intent */
		break;
	case NVFS_REC_MARK:
		r->a = 1700000000000000000ull; /* when the checkpoint finished */
		break;
	}
}

/* the fallocate modes of rule R7 */
static const uint32_t falloc_ok[] = {
	0, NVFS_REC_FALLOC_KEEP_SIZE, NVFS_REC_FALLOC_PUNCH_HOLE | NVFS_REC_FALLOC_KEEP_SIZE,
	NVFS_REC_FALLOC_ZERO_RANGE, NVFS_REC_FALLOC_ZERO_RANGE | NVFS_REC_FALLOC_KEEP_SIZE,
};

/* random_valid -- a valid record of type with random field values */
static void
random_valid(uint32_t type, uint64_t *rng, struct nvfs_rec *r, unsigned char *buf,
	     size_t cap)
{
	static const uint32_t ftypes[] = { 0100000, 0040000, 0120000, 0020000, 0060000,
					   0010000, 0140000 };
	unsigned u = used(type);

	memset(r, 0, sizeof(*r));
	r->type = type;
#define RND() nvfs_test_rand(rng)
	r->id = (struct nvfs_rec_id){ RND() | 1, RND() };
	if (u & B(F_PARENT))
		r->parent = (struct nvfs_rec_id){ RND() | 1, RND() };
	if (u & B(F_PARENT2))
		r->parent2 = (struct nvfs_rec_id){ RND() | 1, RND() };
	if (u & B(F_ID2) && RND() % 2)
		r->id2 = (struct nvfs_rec_id){ RND() | 1, RND() };
	if (u & B(F_A))
		r->a = RND() >> 2;
	if (u & B(F_B))
		r->b = RND() >> 2;
	if (u & B(F_C))
		r->c = RND();
	if (u & B(F_MODE))
		r->mode = (uint32_t)RND() & 07777;
	if (u & B(F_UID))
		r->uid = (uint32_t)RND();
	if (u & B(F_GID))
		r->gid = (uint32_t)RND();
	if (u & B(F_NLINK))
		r->nlink = (uint32_t)RND();
	if (u & B(F_NLINK2))
		r->nlink2 = (uint32_t)RND();
	/* names: 1..255 bytes of anything but '/' and NUL ('.' and ".." aside) */
	if (u & B(F_NAME_LEN)) {
		size_t n = 1 + RND() % NVFS_REC_NAME_MAX;
		for (size_t k = 0; k < n; k++)
			r->name[k] = (char)(1 + RND() % 255);
		for (size_t k = 0; k < n && !xattr_type(type); k++)
			if (r->name[k] == '/')
				r->name[k] = 'x';
		if (!xattr_type(type) && (!strcmp(r->name, ".") || !strcmp(r->name, "..")))
			r->name[0] = 'y';
	}
	if (u & B(F_NAME2_LEN)) {
		size_t n = 1 + RND() % NVFS_REC_NAME_MAX;
		for (size_t k = 0; k < n; k++) {
			r->name2[k] = (char)(1 + RND() % 255);
			if (r->name2[k] == '/' || r->name2[k] == '.')
				r->name2[k] = 'z';
		}
	}
	switch (type) {
	case NVFS_REC_CREATE:
		r->mode |= ftypes[RND() % (sizeof(ftypes) / sizeof(ftypes[0]))];
		if ((r->mode & 0170000) == 0120000) {
			r->data_len = 1 + RND() % NVFS_REC_TARGET_MAX;
			for (size_t k = 0; k < r->data_len; k++)
				buf[k] = (unsigned char)(1 + RND() % 255);
			r->data = buf;
		} else if ((r->mode & 0170000) == 0020000 || (r->mode & 0170000) == 0060000) {
			r->a = RND();
		} else {
			r->a = 0;
		}
		break;
	case NVFS_REC_UNLINK:
		r->flags = (uint32_t)(RND() % 2);
		break;
	case NVFS_REC_RENAME:
		r->flags = (uint32_t)(RND() % 3); /* 0, NOREPLACE, EXCHANGE */
		if (r->flags == RENAME_EXCHANGE && !r->id2.ino)
			r->id2 = (struct nvfs_rec_id){ 42, 0 };
		break;
	case NVFS_REC_WRITE:
		r->data_len = RND() % 3 == 0 ? 0 : RND() % (cap < 70000 ? cap : 70000);
		for (size_t k = 0; k < r->data_len; k++)
			buf[k] = (unsigned char)RND();
		r->data = r->data_len ? buf : NULL;
		break;
	case NVFS_REC_SETATTR:
		r->valid = (uint32_t)(RND() & NVFS_REC_SET_ALL);
		break;
	case NVFS_REC_FALLOCATE:
		r->flags = falloc_ok[RND() % (sizeof(falloc_ok) / sizeof(falloc_ok[0]))];
		r->b = RND() >> 3;
		r->a = RND() >> 3;
		break;
	case NVFS_REC_CANCEL:
		r->a = (RND() >> 1) | 1;
		break;
	case NVFS_REC_MARK:
		r->a = RND();
		break;
	case NVFS_REC_SETXATTR:
		r->flags = (uint32_t)(RND() % 3);
		r->data_len = RND() % 300;
		for (size_t k = 0; k < r->data_len; k++)
			buf[k] = (unsigned char)RND();
		r->data = r->data_len ? buf : NULL;
		break;
	}
#undef RND
}

/* same -- decoded d has every field of r */
static bool
same(const struct nvfs_rec *r, const struct nvfs_rec *d)
{
	bool ok = d->type == r->type && nvfs_rec_id_eq(d->id, r->id) &&
		  nvfs_rec_id_eq(d->parent, r->parent) &&
		  nvfs_rec_id_eq(d->parent2, r->parent2) && nvfs_rec_id_eq(d->id2, r->id2) &&
		  d->a == r->a && d->b == r->b && d->c == r->c && d->mode == r->mode &&
		  d->uid == r->uid && d->gid == r->gid && d->flags == r->flags &&
		  d->nlink == r->nlink && d->nlink2 == r->nlink2 && d->valid == r->valid &&
		  strcmp(d->name, r->name) == 0 && strcmp(d->name2, r->name2) == 0 &&
		  d->data_len == r->data_len &&
		  (r->data_len == 0 || memcmp(d->data, r->data, r->data_len) == 0);

	if (!ok)
		printf("\n  %s record decoded differently", nvfs_rec_type_name(r->type));
	return ok;
}

/* decode_ok -- x decodes as type; *d the record */
static bool
decode_ok(uint32_t type, const struct pl *x, struct nvfs_rec *d)
{
	char why[200] = "";
	int rc = nvfs_rec_decode(type, x->p, x->len, d, why, sizeof(why));

	if (rc != 0)
		printf("\n  %s record refused: %d %s", nvfs_rec_type_name(type), rc, why);
	return rc == 0;
}

/*
 * refused -- x (of type) is refused with -EBADMSG and a reason starting
 * with one of the rules in rules ("R3" or "R2|R3"); prints the reason
 */
static bool
refused(uint32_t type, const struct pl *x, const char *rules, const char *what)
{
	char why[200] = "";
	struct nvfs_rec d;
	int rc = nvfs_rec_decode(type, x->p, x->len, &d, why, sizeof(why));

	if (rc != -EBADMSG) {
		printf("\n  %s (%s): decode gave %d, not -EBADMSG", what,
		       nvfs_rec_type_name(type), rc);
		return false;
	}
	for (const char *r = rules; *r; r += (r[2] == '|') ? 3 : 2) {
		if (strncmp(why, r, 2) == 0 && why[2] == ':')
			return true;
		if (r[2] != '|')
			break;
	}
	printf("\n  %s (%s): reason '%s' does not name %s", what, nvfs_rec_type_name(type),
	       why, rules);
	return false;
}

/* with_name -- x: the valid record of type with name (or name2) of n bytes at p */
static void
with_name(uint32_t type, bool second, const char *p, size_t n, struct pl *x)
{
	struct nvfs_rec r;
	struct pl v;
	unsigned char hdr[NVFS_REC_HDR_BYTES];

	valid(type, &r);
	encode(&r, &v);
	memcpy(hdr, v.p, NVFS_REC_HDR_BYTES);
	size_t n1 = strlen(r.name), n2 = strlen(r.name2);
	size_t t1 = second ? n1 : n, t2 = second ? n : n2;
	size_t tl = t1 + t2 + r.data_len;
	unsigned char *tail = malloc(tl + 1);
	CU_ASSERT_FATAL(tail != NULL);
	memcpy(tail, second ? r.name : p, t1);
	memcpy(tail + t1, second ? p : r.name2, t2);
	if (r.data_len)
		memcpy(tail + t1 + t2, r.data, r.data_len);
	put_le(hdr + fields[second ? F_NAME2_LEN : F_NAME_LEN].off, 2, n);
	pl_raw(x, hdr, tail, tl);
	free(tail);
	pl_free(&v);
}

/* ---- encode --------------------------------------------------------------- */

static void
test_rec_encode_layout_is_the_documented_one(void)
{
	static const char name[] = "nm", name2[] = "other";
	static const char data[] = "DATA";
	struct nvfs_rec r = {
		.type = NVFS_REC_RENAME,
		.id = { 0x0102030405060708ull, 0x1112131415161718ull },
		.parent = { 0x2122232425262728ull, 0x3132333435363738ull },
		.parent2 = { 0x4142434445464748ull, 0x5152535455565758ull },
		.id2 = { 0x6162636465666768ull, 0x7172737475767778ull },
		.a = 0x8182838485868788ull, .b = 0x9192939495969798ull,
		.c = 0xa1a2a3a4a5a6a7a8ull, .mode = 0xb1b2b3b4, .uid = 0xc1c2c3c4,
		.gid = 0xd1d2d3d4, .flags = 0xe1e2e3e4, .nlink = 0xf1f2f3f4,
		.nlink2 = 0x01020304, .valid = 0x05060708,
		.data = data, .data_len = 4,
	};
	unsigned char hdr[NVFS_REC_HDR_BYTES];
	struct iovec iov[4];
	int n;

	memcpy(r.name, name, sizeof(name));
	memcpy(r.name2, name2, sizeof(name2));
	memset(hdr, 0xee, sizeof(hdr));
	CU_ASSERT_FATAL(nvfs_rec_encode(&r, hdr, iov, &n) == 0);
	CU_ASSERT_EQUAL(le(hdr + 0, 8), r.id.ino);
	CU_ASSERT_EQUAL(le(hdr + 8, 8), r.id.stamp);
	CU_ASSERT_EQUAL(le(hdr + 16, 8), r.parent.ino);
	CU_ASSERT_EQUAL(le(hdr + 24, 8), r.parent.stamp);
	CU_ASSERT_EQUAL(le(hdr + 32, 8), r.parent2.ino);
	CU_ASSERT_EQUAL(le(hdr + 40, 8), r.parent2.stamp);
	CU_ASSERT_EQUAL(le(hdr + 48, 8), r.id2.ino);
	CU_ASSERT_EQUAL(le(hdr + 56, 8), r.id2.stamp);
	CU_ASSERT_EQUAL(le(hdr + 64, 8), r.a);
	CU_ASSERT_EQUAL(le(hdr + 72, 8), r.b);
	CU_ASSERT_EQUAL(le(hdr + 80, 8), r.c);
	CU_ASSERT_EQUAL(le(hdr + 88, 4), r.mode);
	CU_ASSERT_EQUAL(le(hdr + 92, 4), r.uid);
	CU_ASSERT_EQUAL(le(hdr + 96, 4), r.gid);
	CU_ASSERT_EQUAL(le(hdr + 100, 4), r.flags);
	CU_ASSERT_EQUAL(le(hdr + 104, 4), r.nlink);
	CU_ASSERT_EQUAL(le(hdr + 108, 4), r.nlink2);
	CU_ASSERT_EQUAL(le(hdr + 112, 4), r.valid);
	CU_ASSERT_EQUAL(le(hdr + 116, 2), 2);
	CU_ASSERT_EQUAL(le(hdr + 118, 2), 5);
	CU_ASSERT_EQUAL(le(hdr + 120, 4), 4);
	CU_ASSERT_EQUAL(le(hdr + 124, 4), 0);
	/* header, name, name2, data: in that order, not copied */
	CU_ASSERT_EQUAL_FATAL(n, 4);
	CU_ASSERT(iov[1].iov_base == (void *)r.name && iov[1].iov_len == 2);
	CU_ASSERT(iov[2].iov_base == (void *)r.name2 && iov[2].iov_len == 5);
	CU_ASSERT(iov[3].iov_base == (const void *)data && iov[3].iov_len == 4);
	/* nothing but the header when there is no name or data */
	struct nvfs_rec w = { .type = NVFS_REC_WRITE, .id = { 1, 0 }, .a = 7 };
	CU_ASSERT_FATAL(nvfs_rec_encode(&w, hdr, iov, &n) == 0);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(le(hdr + 64, 8), 7);
}

static void
test_rec_encode_refuses_oversize_data(void)
{
	static unsigned char big[NVFS_REC_MAX_DATA + 1];
	unsigned char hdr[NVFS_REC_HDR_BYTES];
	struct iovec iov[4];
	struct nvfs_rec r = { .type = NVFS_REC_WRITE, .id = { 1, 0 }, .data = big,
			      .data_len = NVFS_REC_MAX_DATA + 1 };
	int n;

	CU_ASSERT_EQUAL(nvfs_rec_encode(&r, hdr, iov, &n), -EINVAL);
	r.data_len = NVFS_REC_MAX_DATA;
	CU_ASSERT_EQUAL(nvfs_rec_encode(&r, hdr, iov, &n), 0);
}

static void
test_rec_type_name_every_type(void)
{
	static const char *const names[] = { "create", "link", "unlink", "rename", "write",
					     "setattr", "fallocate", "setxattr",
					     "removexattr", "cancel", "mark" };

	for (unsigned t = 0; t < NTYPES; t++)
		CU_ASSERT_STRING_EQUAL(nvfs_rec_type_name(types[t]), names[t]);
	CU_ASSERT_STRING_EQUAL(nvfs_rec_type_name(0), "?");
	CU_ASSERT_STRING_EQUAL(nvfs_rec_type_name(NVFS_REC_CREATE - 1), "?");
	CU_ASSERT_STRING_EQUAL(nvfs_rec_type_name(LAST_TYPE + 1), "?");
}

/* ---- round trip ----------------------------------------------------------- */

static void
test_rec_roundtrip_every_type(void)
{
	struct nvfs_rec r, d;
	struct pl x;

	for (unsigned t = 0; t < NTYPES; t++) {
		valid(types[t], &r);
		encode(&r, &x);
		memset(&d, 0x5a, sizeof(d));
		CU_ASSERT(decode_ok(types[t], &x, &d) && same(&r, &d));
		/* data points into the payload, not at a copy */
		const void *at = r.data_len ? x.p + NVFS_REC_HDR_BYTES + strlen(r.name) +
					      strlen(r.name2) : NULL;
		CU_ASSERT(d.data == at);
		pl_free(&x);
	}
}

static void
test_rec_roundtrip_random_fields(void)
{
	unsigned char *buf = malloc(NVFS_REC_TARGET_MAX + 70000);
	uint64_t rng = nvfs_test_seed() * 77 + 1;
	unsigned rounds = 300 / nvfs_test_scale_div();
	struct nvfs_rec r, d;
	struct pl x;

	CU_ASSERT_FATAL(buf != NULL);
	for (unsigned i = 0; i < rounds; i++) {
		for (unsigned t = 0; t < NTYPES; t++) {
			random_valid(types[t], &rng, &r, buf, NVFS_REC_TARGET_MAX + 70000);
			encode(&r, &x);
			memset(&d, 0xa5, sizeof(d));
			bool ok = decode_ok(types[t], &x, &d) && same(&r, &d);
			CU_ASSERT(ok);
			pl_free(&x);
			if (!ok)
				goto out;
		}
	}
out:
	free(buf);
}

/* the limits themselves are valid */
static void
test_rec_roundtrip_at_the_limits(void)
{
	unsigned char *buf = malloc(NVFS_REC_MAX_DATA);
	struct nvfs_rec r, d;
	struct pl x;

	CU_ASSERT_FATAL(buf != NULL);
	memset(buf, 'q', NVFS_REC_MAX_DATA);
	/* a 255-byte name, a 255-byte name2, a 4095-byte target */
	valid(NVFS_REC_RENAME, &r);
	memset(r.name, 'n', NVFS_REC_NAME_MAX);
	r.name[NVFS_REC_NAME_MAX] = '\0';
	memset(r.name2, '.', NVFS_REC_NAME_MAX); /* "..." names are fine */
	r.name2[NVFS_REC_NAME_MAX] = '\0';
	encode(&r, &x);
	CU_ASSERT(decode_ok(r.type, &x, &d) && same(&r, &d));
	pl_free(&x);
	valid(NVFS_REC_CREATE, &r);
	r.data = buf;
	r.data_len = NVFS_REC_TARGET_MAX;
	encode(&r, &x);
	CU_ASSERT(decode_ok(r.type, &x, &d) && same(&r, &d));
	pl_free(&x);
	/* a 1 MiB write ending at 2^63 */
	valid(NVFS_REC_WRITE, &r);
	r.data = buf;
	r.data_len = NVFS_REC_MAX_DATA;
	r.a = (uint64_t)INT64_MAX - NVFS_REC_MAX_DATA;
	encode(&r, &x);
	CU_ASSERT(decode_ok(r.type, &x, &d) && same(&r, &d));
	pl_free(&x);
	/* a 64 KiB xattr value; xattr names may hold '/' and be "." */
	valid(NVFS_REC_SETXATTR, &r);
	r.data = buf;
	r.data_len = NVFS_REC_MAX_XATTR;
	snprintf(r.name, sizeof(r.name), ".");
	encode(&r, &x);
	CU_ASSERT(decode_ok(r.type, &x, &d) && same(&r, &d));
	pl_free(&x);
	/* a fallocate ending at 2^63; a setattr to size 2^63 - 1 */
	valid(NVFS_REC_FALLOCATE, &r);
	r.a = 1ull << 62;
	r.b = (1ull << 62) - 1;
	encode(&r, &x);
	CU_ASSERT(decode_ok(r.type, &x, &d) && same(&r, &d));
	pl_free(&x);
	valid(NVFS_REC_SETATTR, &r);
	r.a = (uint64_t)INT64_MAX;
	encode(&r, &x);
	CU_ASSERT(decode_ok(r.type, &x, &d) && same(&r, &d));
	pl_free(&x);
	/* a stamp of 0 (no btime) is a valid identity; so is a rename without id2 */
	valid(NVFS_REC_RENAME, &r);
	r.flags = RENAME_NOREPLACE;
	r.id2 = (struct nvfs_rec_id){ 0, 0 };
	r.id.stamp = r.parent.stamp = r.parent2.stamp = 0;
	encode(&r, &x);
	CU_ASSERT(decode_ok(r.type, &x, &d) && same(&r, &d));
	pl_free(&x);
	free(buf);
}

/* ---- R1: type and length --------------------------------------------------- */

static void
test_rec_decode_r1_unknown_type(void)
{
	static const uint32_t bad[] = { 0, 1, NVFS_REC_CREATE - 1, LAST_TYPE + 1,
					0x4600, 0x46ff, 0xffffffffu, 0x00014601 };
	struct nvfs_rec r;
	struct pl x;

	valid(NVFS_REC_WRITE, &r);
	encode(&r, &x);
	for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		CU_ASSERT(refused(bad[k], &x, "R1", "unknown type"));
	pl_free(&x);
}

static void
test_rec_decode_r1_truncated_payload(void)
{
	struct nvfs_rec r, d;
	struct pl x;
	char why[200];

	for (unsigned t = 0; t < NTYPES; t++) {
		valid(types[t], &r);
		encode(&r, &x);
		/* every shorter length: below the header, or short of its tail */
		for (size_t len = 0; len < x.len; len++) {
			struct pl y = { malloc(len ? len : 1), len };
			CU_ASSERT_FATAL(y.p != NULL);
			memcpy(y.p, x.p, len);
			CU_ASSERT(refused(types[t], &y, "R1", "truncated"));
			pl_free(&y);
		}
		/* a NULL payload of 0 bytes too */
		CU_ASSERT_EQUAL(nvfs_rec_decode(types[t], NULL, 0, &d, why, sizeof(why)),
				-EBADMSG);
		CU_ASSERT_NSTRING_EQUAL(why, "R1:", 3);
		pl_free(&x);
	}
}

static void
test_rec_decode_r1_length_mismatch(void)
{
	struct nvfs_rec r;
	struct pl x, y;

	for (unsigned t = 0; t < NTYPES; t++) {
		valid(types[t], &r);
		encode(&r, &x);
		/* one byte more than the header says */
		y.len = x.len + 1;
		y.p = malloc(y.len);
		CU_ASSERT_FATAL(y.p != NULL);
		memcpy(y.p, x.p, x.len);
		y.p[x.len] = 'x';
		CU_ASSERT(refused(types[t], &y, "R1", "trailing byte"));
		pl_free(&y);
		/* lengths in the header beyond the payload, each at its maximum */
		for (unsigned f = F_NAME_LEN; f <= F_DATA_LEN; f++) {
			if (!(used(types[t]) & B(f)))
				continue;
			y.len = x.len;
			y.p = malloc(y.len);
			CU_ASSERT_FATAL(y.p != NULL);
			memcpy(y.p, x.p, x.len);
			put_le(y.p + fields[f].off, fields[f].size, UINT64_MAX);
			CU_ASSERT(refused(types[t], &y, "R1", fields[f].name));
			/* one byte more than the payload holds */
			put_le(y.p + fields[f].off, fields[f].size,
			       le(x.p + fields[f].off, fields[f].size) + 1);
			CU_ASSERT(refused(types[t], &y, "R1", fields[f].name));
			pl_free(&y);
		}
		pl_free(&x);
	}
}

/* ---- R2: reserved and unused fields ------------------------------------ */

static void
test_rec_decode_r2_reserved_nonzero(void)
{
	struct nvfs_rec r;
	struct pl x;

	for (unsigned t = 0; t < NTYPES; t++) {
		valid(types[t], &r);
		encode(&r, &x);
		for (unsigned k = 0; k < 4; k++) {
			x.p[124 + k] = 0x80;
			CU_ASSERT(refused(types[t], &x, "R2", "reserved"));
			x.p[124 + k] = 0;
		}
		pl_free(&x);
	}
}

static void
test_rec_decode_r2_unused_field_nonzero(void)
{
	struct nvfs_rec r;
	struct pl x;
	char what[64];

	for (unsigned t = 0; t < NTYPES; t++) {
		valid(types[t], &r);
		encode(&r, &x);
		for (unsigned f = 0; f < F_NAME_LEN; f++) {
			if (used(types[t]) & B(f))
				continue;
			snprintf(what, sizeof(what), "unused %s", fields[f].name);
			/* its first and its last byte */
			for (unsigned k = 0; k < fields[f].size; k += fields[f].size - 1) {
				x.p[fields[f].off + k] = 1;
				CU_ASSERT(refused(types[t], &x, "R2", what));
				x.p[fields[f].off + k] = 0;
			}
		}
		pl_free(&x);
	}
}

/*
 * A type without a name, name2 or data given one (the lengths consistent):
 * nvfs_rec.h puts it under R3 (names) and R4 (data) as well as R2 (unused
 * fields); any of them is a correct reason.
 */
static void
test_rec_decode_r2_unused_length_nonzero(void)
{
	unsigned char hdr[NVFS_REC_HDR_BYTES];
	struct nvfs_rec r;
	struct pl x, y;

	for (unsigned t = 0; t < NTYPES; t++) {
		valid(types[t], &r);
		encode(&r, &x);
		for (unsigned f = F_NAME_LEN; f <= F_DATA_LEN; f++) {
			if (used(types[t]) & B(f))
				continue;
			memcpy(hdr, x.p, NVFS_REC_HDR_BYTES);
			put_le(hdr + fields[f].off, fields[f].size, 3);
			unsigned char *tail = malloc(x.len - NVFS_REC_HDR_BYTES + 3);
			CU_ASSERT_FATAL(tail != NULL);
			memcpy(tail, x.p + NVFS_REC_HDR_BYTES, x.len - NVFS_REC_HDR_BYTES);
			memcpy(tail + x.len - NVFS_REC_HDR_BYTES, "abc", 3);
			pl_raw(&y, hdr, tail, x.len - NVFS_REC_HDR_BYTES + 3);
			free(tail);
			CU_ASSERT(refused(types[t], &y, f == F_DATA_LEN ? "R2|R4" : "R2|R3",
					  fields[f].name));
			pl_free(&y);
		}
		pl_free(&x);
	}
}

/* ---- R3: names ------------------------------------------------------------ */

static void
test_rec_decode_r3_bad_names(void)
{
	static const struct { const char *p; size_t n; bool xattr_ok; } bad[] = {
		{ "", 0, false }, { ".", 1, true }, { "..", 2, true }, { "a/b", 3, true },
		{ "/", 1, true }, { "a\0b", 3, false }, { "\0", 1, false }, { "ab\0", 3, false },
		{ NULL, 256, false }, { NULL, 65535, false },
	};
	char *longname = malloc(65536);
	struct pl x;
	char what[64];

	CU_ASSERT_FATAL(longname != NULL);
	memset(longname, 'l', 65536);
	for (unsigned t = 0; t < NTYPES; t++) {
		if (!(used(types[t]) & B(F_NAME_LEN)))
			continue;
		for (unsigned second = 0; second < 2; second++) {
			if (second && !(used(types[t]) & B(F_NAME2_LEN)))
				continue;
			for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
				const char *p = bad[k].p ? bad[k].p : longname;
				with_name(types[t], second, p, bad[k].n, &x);
				snprintf(what, sizeof(what), "%s of %zu bytes '%.8s'",
					 second ? "name2" : "name", bad[k].n, p);
				if (xattr_type(types[t]) && bad[k].xattr_ok) {
					struct nvfs_rec d;
					CU_ASSERT(decode_ok(types[t], &x, &d));
				} else {
					CU_ASSERT(refused(types[t], &x, "R3", what));
				}
				pl_free(&x);
			}
		}
	}
	free(longname);
}

/* names that look odd but are names */
static void
test_rec_decode_r3_good_names(void)
{
	static const char *const good[] = { "...", ".a", "a.", " ", "\xff\xfe", "\\", "-" };
	struct nvfs_rec d;
	struct pl x;

	for (unsigned t = 0; t < NTYPES; t++) {
		if (!(used(types[t]) & B(F_NAME_LEN)))
			continue;
		for (unsigned k = 0; k < sizeof(good) / sizeof(good[0]); k++) {
			with_name(types[t], false, good[k], strlen(good[k]), &x);
			CU_ASSERT(decode_ok(types[t], &x, &d));
			CU_ASSERT_STRING_EQUAL(d.name, good[k]);
			pl_free(&x);
		}
	}
}

/* ---- R4: data lengths ----------------------------------------------------- */

/* data_rec -- the valid record of type with data of n bytes (pattern c) */
static void
data_rec(uint32_t type, uint32_t mode, size_t n, int c, struct pl *x)
{
	unsigned char hdr[NVFS_REC_HDR_BYTES];
	struct nvfs_rec r;
	struct pl v;

	valid(type, &r);
	if (mode)
		r.mode = mode;
	r.data = NULL;
	r.data_len = 0;
	encode(&r, &v);
	memcpy(hdr, v.p, NVFS_REC_HDR_BYTES);
	put_le(hdr + fields[F_DATA_LEN].off, 4, n);
	size_t names = v.len - NVFS_REC_HDR_BYTES;
	unsigned char *tail = malloc(names + n + 1);
	CU_ASSERT_FATAL(tail != NULL);
	memcpy(tail, v.p + NVFS_REC_HDR_BYTES, names);
	memset(tail + names, c, n);
	pl_raw(x, hdr, tail, names + n);
	free(tail);
	pl_free(&v);
}

static void
test_rec_decode_r4_oversize_write_and_xattr(void)
{
	struct nvfs_rec d;
	struct pl x;

	data_rec(NVFS_REC_WRITE, 0, NVFS_REC_MAX_DATA + 1, 'w', &x);
	CU_ASSERT(refused(NVFS_REC_WRITE, &x, "R4", "write of 1 MiB + 1"));
	pl_free(&x);
	data_rec(NVFS_REC_WRITE, 0, NVFS_REC_MAX_DATA, 'w', &x);
	CU_ASSERT(decode_ok(NVFS_REC_WRITE, &x, &d));
	pl_free(&x);
	data_rec(NVFS_REC_SETXATTR, 0, NVFS_REC_MAX_XATTR + 1, 'v', &x);
	CU_ASSERT(refused(NVFS_REC_SETXATTR, &x, "R4", "xattr of 64 KiB + 1"));
	pl_free(&x);
	data_rec(NVFS_REC_SETXATTR, 0, NVFS_REC_MAX_XATTR, 'v', &x);
	CU_ASSERT(decode_ok(NVFS_REC_SETXATTR, &x, &d));
	pl_free(&x);
	/* an empty xattr value is a value */
	data_rec(NVFS_REC_SETXATTR, 0, 0, 'v', &x);
	CU_ASSERT(decode_ok(NVFS_REC_SETXATTR, &x, &d));
	CU_ASSERT_EQUAL(d.data_len, 0);
	pl_free(&x);
}

static void
test_rec_decode_r4_symlink_target(void)
{
	static const uint32_t others[] = { 0100644, 0040755, 0010644, 0020600, 0060600,
					   0140755 };
	struct nvfs_rec d;
	struct pl x;

	/* a symlink needs a target of 1..4095 bytes without NUL */
	data_rec(NVFS_REC_CREATE, 0120777, 0, 't', &x);
	CU_ASSERT(refused(NVFS_REC_CREATE, &x, "R4", "symlink without target"));
	pl_free(&x);
	data_rec(NVFS_REC_CREATE, 0120777, NVFS_REC_TARGET_MAX + 1, 't', &x);
	CU_ASSERT(refused(NVFS_REC_CREATE, &x, "R4", "target of 4096 bytes"));
	pl_free(&x);
	data_rec(NVFS_REC_CREATE, 0120777, 1, 't', &x);
	CU_ASSERT(decode_ok(NVFS_REC_CREATE, &x, &d));
	pl_free(&x);
	data_rec(NVFS_REC_CREATE, 0120777, 10, 't', &x);
	x.p[x.len - 5] = '\0';
	CU_ASSERT(refused(NVFS_REC_CREATE, &x, "R4", "target with a NUL"));
	x.p[x.len - 5] = 't';
	x.p[x.len - 1] = '\0';
	CU_ASSERT(refused(NVFS_REC_CREATE, &x, "R4", "target ending in NUL"));
	pl_free(&x);
	/* only a symlink has a target */
	for (unsigned k = 0; k < sizeof(others) / sizeof(others[0]); k++) {
		data_rec(NVFS_REC_CREATE, others[k], 5, 't', &x);
		CU_ASSERT(refused(NVFS_REC_CREATE, &x, "R4", "target of a non-symlink"));
		pl_free(&x);
		data_rec(NVFS_REC_CREATE, others[k], 0, 't', &x);
		CU_ASSERT(decode_ok(NVFS_REC_CREATE, &x, &d));
		pl_free(&x);
	}
}

/* ---- R5: modes and flags -------------------------------------------------- */

/* patched -- the valid record of type with field f set to v */
static void
patched(uint32_t type, enum fld f, uint64_t v, struct pl *x)
{
	struct nvfs_rec r;

	valid(type, &r);
	encode(&r, x);
	put_le(x->p + fields[f].off, fields[f].size, v);
}

static void
test_rec_decode_r5_create_without_file_type(void)
{
	struct pl x;

	patched(NVFS_REC_CREATE, F_MODE, 0644, &x);
	CU_ASSERT(refused(NVFS_REC_CREATE, &x, "R5", "create mode 0644"));
	pl_free(&x);
	patched(NVFS_REC_CREATE, F_MODE, 0, &x);
	CU_ASSERT(refused(NVFS_REC_CREATE, &x, "R5", "create mode 0"));
	pl_free(&x);
}

/* one of the seven file types, and permission bits: nothing else */
static void
test_rec_decode_r5_create_mode_not_a_file_type(void)
{
	static const uint32_t bad[] = { 0030644, 0050644, 0070644, 0110644, 0130644,
					0150644, 0160644, 0170644, 0100644 | 0200000,
					0040755 | 0x80000000u, 0100644 | 0400000 };
	static const uint32_t good[] = { 0100644, 0040755, 0010600, 0020600, 0060600,
					 0140777, 0107777 };
	struct nvfs_rec d;
	struct pl x;

	for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		data_rec(NVFS_REC_CREATE, bad[k], 0, 't', &x);
		CU_ASSERT(refused(NVFS_REC_CREATE, &x, "R5", "create mode"));
		pl_free(&x);
	}
	for (unsigned k = 0; k < sizeof(good) / sizeof(good[0]); k++) {
		data_rec(NVFS_REC_CREATE, good[k], 0, 't', &x);
		CU_ASSERT(decode_ok(NVFS_REC_CREATE, &x, &d) && d.mode == good[k]);
		pl_free(&x);
	}
}

/* a setattr mode is permission bits only */
static void
test_rec_decode_r5_setattr_mode_beyond_permissions(void)
{
	static const uint32_t bad[] = { 010000, 0100644, 0170000, 0x80000000u };
	struct nvfs_rec d;
	struct pl x;

	for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		patched(NVFS_REC_SETATTR, F_MODE, bad[k], &x);
		CU_ASSERT(refused(NVFS_REC_SETATTR, &x, "R5", "setattr mode"));
		pl_free(&x);
	}
	patched(NVFS_REC_SETATTR, F_MODE, 07777, &x);
	CU_ASSERT(decode_ok(NVFS_REC_SETATTR, &x, &d) && d.mode == 07777);
	pl_free(&x);
}

static void
test_rec_decode_r5_bad_setattr_valid(void)
{
	struct nvfs_rec d;
	struct pl x;

	for (unsigned bit = 6; bit < 32; bit++) {
		patched(NVFS_REC_SETATTR, F_VALID, NVFS_REC_SET_ALL | (1ull << bit), &x);
		CU_ASSERT(refused(NVFS_REC_SETATTR, &x, "R5", "setattr valid bit"));
		pl_free(&x);
	}
	for (unsigned v = 0; v <= NVFS_REC_SET_ALL; v++) {
		patched(NVFS_REC_SETATTR, F_VALID, v, &x);
		CU_ASSERT(decode_ok(NVFS_REC_SETATTR, &x, &d));
		pl_free(&x);
	}
}

static void
test_rec_decode_r5_bad_unlink_flags(void)
{
	static const uint32_t bad[] = { 2, 3, 0x200 /* AT_REMOVEDIR */, 0x80000000u };
	struct nvfs_rec d;
	struct pl x;

	for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		patched(NVFS_REC_UNLINK, F_FLAGS, bad[k], &x);
		CU_ASSERT(refused(NVFS_REC_UNLINK, &x, "R5", "unlink flags"));
		pl_free(&x);
	}
	for (uint32_t f = 0; f <= NVFS_REC_RMDIR; f++) {
		patched(NVFS_REC_UNLINK, F_FLAGS, f, &x);
		CU_ASSERT(decode_ok(NVFS_REC_UNLINK, &x, &d) && d.flags == f);
		pl_free(&x);
	}
}

static void
test_rec_decode_r5_bad_rename_flags(void)
{
	static const uint32_t bad[] = { RENAME_WHITEOUT_, RENAME_WHITEOUT_ | RENAME_EXCHANGE,
					8, 0x80000000u };
	struct nvfs_rec d;
	struct pl x;

	for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		patched(NVFS_REC_RENAME, F_FLAGS, bad[k], &x);
		CU_ASSERT(refused(NVFS_REC_RENAME, &x, "R5", "rename flags"));
		pl_free(&x);
	}
	for (uint32_t f = 0; f <= RENAME_EXCHANGE; f++) {
		patched(NVFS_REC_RENAME, F_FLAGS, f, &x);
		CU_ASSERT(decode_ok(NVFS_REC_RENAME, &x, &d) && d.flags == f);
		pl_free(&x);
	}
}

static void
test_rec_decode_r5_exchange_without_id2(void)
{
	struct nvfs_rec r, d;
	struct pl x;

	valid(NVFS_REC_RENAME, &r);
	r.flags = RENAME_EXCHANGE;
	r.id2 = (struct nvfs_rec_id){ 0, 12345 }; /* a stamp is no identity */
	encode(&r, &x);
	CU_ASSERT(refused(NVFS_REC_RENAME, &x, "R5", "exchange without id2"));
	pl_free(&x);
	/* without EXCHANGE, no id2 is fine: nothing was replaced */
	r.flags = 0;
	r.id2 = (struct nvfs_rec_id){ 0, 0 };
	encode(&r, &x);
	CU_ASSERT(decode_ok(NVFS_REC_RENAME, &x, &d));
	pl_free(&x);
}

/* ---- R6: identities, offsets ----------------------------------------------- */

static void
test_rec_decode_r6_zero_identity(void)
{
	struct nvfs_rec r;
	struct pl x;
	char what[64];

	for (unsigned t = 0; t < NTYPES; t++) {
		for (unsigned f = F_ID; f <= F_PARENT2; f++) {
			if (!(used(types[t]) & B(f)))
				continue;
			valid(types[t], &r);
			struct nvfs_rec_id *id = f == F_ID ? &r.id : f == F_PARENT ? &r.parent
									   : &r.parent2;
			id->ino = 0; /* the stamp alone does not make an identity */
			id->stamp = 99;
			encode(&r, &x);
			snprintf(what, sizeof(what), "zero %s", fields[f].name);
			CU_ASSERT(refused(types[t], &x, "R6", what));
			pl_free(&x);
		}
	}
}

static void
test_rec_decode_r6_offset_overflow(void)
{
	const uint64_t top = (uint64_t)INT64_MAX;
	struct nvfs_rec r, d;
	struct pl x;

	/* write: offset at or past 2^63, or offset + length past it */
	static const uint64_t bad_off[] = { 1ull << 63, UINT64_MAX, UINT64_MAX - 3 };
	for (unsigned k = 0; k < 3; k++) {
		valid(NVFS_REC_WRITE, &r);
		r.a = bad_off[k];
		encode(&r, &x);
		CU_ASSERT(refused(NVFS_REC_WRITE, &x, "R6", "write offset"));
		pl_free(&x);
	}
	valid(NVFS_REC_WRITE, &r);
	r.a = top - r.data_len + 1;
	encode(&r, &x);
	CU_ASSERT(refused(NVFS_REC_WRITE, &x, "R6", "write end past 2^63"));
	pl_free(&x);
	r.a = top - r.data_len;
	encode(&r, &x);
	CU_ASSERT(decode_ok(NVFS_REC_WRITE, &x, &d));
	pl_free(&x);
	/* fallocate: either past 2^63, or the sum (also one that wraps) */
	static const uint64_t bad_fa[][2] = {
		{ 1ull << 63, 1 }, { 0, 1ull << 63 }, { top, 1 }, { 1ull << 62, 1ull << 62 },
		{ UINT64_MAX, UINT64_MAX }, { UINT64_MAX, 2 },
	};
	for (unsigned k = 0; k < sizeof(bad_fa) / sizeof(bad_fa[0]); k++) {
		valid(NVFS_REC_FALLOCATE, &r);
		r.a = bad_fa[k][0];
		r.b = bad_fa[k][1];
		encode(&r, &x);
		CU_ASSERT(refused(NVFS_REC_FALLOCATE, &x, "R6", "fallocate range"));
		pl_free(&x);
	}
	valid(NVFS_REC_FALLOCATE, &r);
	r.a = top;
	r.b = 0;
	encode(&r, &x);
	CU_ASSERT(decode_ok(NVFS_REC_FALLOCATE, &x, &d));
	pl_free(&x);
	/* setattr: a size of 2^63 or more */
	valid(NVFS_REC_SETATTR, &r);
	r.valid = NVFS_REC_SET_SIZE;
	r.a = 1ull << 63;
	encode(&r, &x);
	CU_ASSERT(refused(NVFS_REC_SETATTR, &x, "R6", "setattr size"));
	pl_free(&x);
}

/* a cancel names an intent by its sequence number: 1 .. 2^63 - 1 */
static void
test_rec_decode_r6_cancel_seq(void)
{
	static const uint64_t bad[] = { 0, 1ull << 63, UINT64_MAX };
	static const uint64_t good[] = { 1, (uint64_t)INT64_MAX };
	struct nvfs_rec d;
	struct pl x;

	for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		patched(NVFS_REC_CANCEL, F_A, bad[k], &x);
		CU_ASSERT(refused(NVFS_REC_CANCEL, &x, "R6", "cancel seq"));
		pl_free(&x);
	}
	for (unsigned k = 0; k < sizeof(good) / sizeof(good[0]); k++) {
		patched(NVFS_REC_CANCEL, F_A, good[k], &x);
		CU_ASSERT(decode_ok(NVFS_REC_CANCEL, &x, &d) && d.a == good[k]);
		pl_free(&x);
	}
}

/* ---- R7: fallocate modes ------------------------------------------------------ */

static void
test_rec_decode_r7_fallocate_mode(void)
{
	static const uint32_t bad[] = {
		0x02 /* PUNCH_HOLE without KEEP_SIZE */, 0x04 /* NO_HIDE_STALE */,
		0x08 /* COLLAPSE_RANGE */, 0x20 /* INSERT_RANGE */, 0x40 /* UNSHARE_RANGE */,
		0x12 /* ZERO_RANGE | PUNCH_HOLE */, 0x23, 0x80, 0x80000000u,
	};
	struct nvfs_rec d;
	struct pl x;

	for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		patched(NVFS_REC_FALLOCATE, F_FLAGS, bad[k], &x);
		CU_ASSERT(refused(NVFS_REC_FALLOCATE, &x, "R7", "fallocate mode"));
		pl_free(&x);
	}
	for (unsigned k = 0; k < sizeof(falloc_ok) / sizeof(falloc_ok[0]); k++) {
		patched(NVFS_REC_FALLOCATE, F_FLAGS, falloc_ok[k], &x);
		CU_ASSERT(decode_ok(NVFS_REC_FALLOCATE, &x, &d) && d.flags == falloc_ok[k]);
		pl_free(&x);
	}
}

/* ---- fuzz ----------------------------------------------------------------- */

/*
 * Random byte changes of valid payloads (and of their lengths) never crash
 * and either decode or are refused with a reason naming a rule; what
 * decodes encodes back to exactly the same bytes (nothing is dropped or
 * normalised), with names that obey R3.
 */
static void
test_rec_decode_fuzz_flipped_bytes(void)
{
	unsigned char *buf = malloc(NVFS_REC_TARGET_MAX + 70000);
	uint64_t rng = nvfs_test_seed() * 1000003 + 17;
	unsigned rounds = 40000 / nvfs_test_scale_div();
	unsigned accepted = 0, refused_n = 0, bad = 0;
	unsigned rules[8] = { 0 };
	struct nvfs_rec r, d;
	struct pl v;

	CU_ASSERT_FATAL(buf != NULL);
	for (unsigned i = 0; i < rounds && bad < 5; i++) {
		uint32_t type = types[i % NTYPES];
		if (i % 3)
			valid(type, &r);
		else
			random_valid(type, &rng, &r, buf, 512);
		encode(&r, &v);
		/* 1..4 changes, mostly in the header; sometimes the length too */
		size_t len = v.len;
		uint64_t x = nvfs_test_rand(&rng);
		if (x % 8 == 0)
			len = (size_t)(nvfs_test_rand(&rng) % (v.len + 8));
		unsigned char *p = malloc(len ? len : 1);
		CU_ASSERT_FATAL(p != NULL);
		memcpy(p, v.p, len < v.len ? len : v.len);
		for (size_t k = v.len; k < len; k++)
			p[k] = (unsigned char)nvfs_test_rand(&rng);
		/*
		 * 1..4 changes: half in a field the type uses, a quarter
		 * anywhere in the header, a quarter anywhere; a bit flip, a
		 * random byte, or a byte that names care about
		 */
		static const unsigned char special[] = { 0, '/', '.', 0xff, 1 };
		unsigned flips = 1 + (unsigned)(x >> 8) % 4;
		for (unsigned f = 0; f < flips && len; f++) {
			uint64_t y = nvfs_test_rand(&rng);
			size_t at, hdr = len < NVFS_REC_HDR_BYTES ? len : NVFS_REC_HDR_BYTES;
			if (y % 4 < 2) {
				unsigned fl;
				do
					fl = (unsigned)(nvfs_test_rand(&rng) % F_COUNT);
				while (!(used(type) & B(fl)));
				at = fields[fl].off + (size_t)(y >> 8) % fields[fl].size;
				at = at < len ? at : (size_t)(y >> 8) % len;
			} else if (y % 4 == 2) {
				at = (size_t)(y >> 8) % hdr;
			} else {
				at = (size_t)(y >> 8) % len;
			}
			switch ((y >> 32) % 4) {
			case 0:
				p[at] ^= (unsigned char)(1u << ((y >> 40) % 8));
				break;
			case 1:
				p[at] = special[(y >> 40) % sizeof(special)];
				break;
			default:
				p[at] = (unsigned char)(y >> 48);
			}
		}
		uint32_t dtype = x % 50 == 1 ? (uint32_t)(nvfs_test_rand(&rng) % 16) + 0x4600 : type;
		char why[200] = "";
		memset(&d, 0x77, sizeof(d));
		int rc = nvfs_rec_decode(dtype, p, len, &d, why, sizeof(why));
		if (rc == 0) {
			accepted++;
			struct pl back;
			encode(&d, &back);
			bool same_bytes = back.len == len && memcmp(back.p, p, len) == 0;
			bool names_ok = strlen(d.name) <= NVFS_REC_NAME_MAX &&
					(xattr_type(dtype) ||
					 (!strchr(d.name, '/') && strcmp(d.name, ".") &&
					  strcmp(d.name, ".."))) &&
					!strchr(d.name2, '/') && strcmp(d.name2, ".") &&
					strcmp(d.name2, "..");
			if (!same_bytes || !names_ok || !d.id.ino) {
				printf("\n  round %u: accepted %s record does not re-encode "
				       "the same (%d) or breaks a rule (%d)", i,
				       nvfs_rec_type_name(dtype), same_bytes, names_ok);
				bad++;
			}
			pl_free(&back);
		} else if (rc == -EBADMSG && why[0] == 'R' && why[1] >= '1' && why[1] <= '7' &&
			   why[2] == ':') {
			refused_n++;
			rules[why[1] - '0']++;
		} else {
			printf("\n  round %u: decode gave %d '%s'", i, rc, why);
			bad++;
		}
		free(p);
		pl_free(&v);
	}
	printf("\n  %u rounds: %u decoded, %u refused (R1 %u, R2 %u, R3 %u, R4 %u, R5 %u, "
	       "R6 %u, R7 %u)", rounds, accepted, refused_n, rules[1], rules[2], rules[3],
	       rules[4], rules[5], rules[6], rules[7]);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(accepted > 0 && refused_n > 0);
	free(buf);
}

NVFS_SUITE(fs_rec, "fs/rec", NULL, NULL,
	   NVFS_TEST(test_rec_encode_layout_is_the_documented_one),
	   NVFS_TEST(test_rec_encode_refuses_oversize_data),
	   NVFS_TEST(test_rec_type_name_every_type),
	   NVFS_TEST(test_rec_roundtrip_every_type),
	   NVFS_TEST(test_rec_roundtrip_random_fields),
	   NVFS_TEST(test_rec_roundtrip_at_the_limits),
	   NVFS_TEST(test_rec_decode_r1_unknown_type),
	   NVFS_TEST(test_rec_decode_r1_truncated_payload),
	   NVFS_TEST(test_rec_decode_r1_length_mismatch),
	   NVFS_TEST(test_rec_decode_r2_reserved_nonzero),
	   NVFS_TEST(test_rec_decode_r2_unused_field_nonzero),
	   NVFS_TEST(test_rec_decode_r2_unused_length_nonzero),
	   NVFS_TEST(test_rec_decode_r3_bad_names),
	   NVFS_TEST(test_rec_decode_r3_good_names),
	   NVFS_TEST(test_rec_decode_r4_oversize_write_and_xattr),
	   NVFS_TEST(test_rec_decode_r4_symlink_target),
	   NVFS_TEST(test_rec_decode_r5_create_without_file_type),
	   NVFS_TEST(test_rec_decode_r5_create_mode_not_a_file_type),
	   NVFS_TEST(test_rec_decode_r5_setattr_mode_beyond_permissions),
	   NVFS_TEST(test_rec_decode_r5_bad_setattr_valid),
	   NVFS_TEST(test_rec_decode_r5_bad_unlink_flags),
	   NVFS_TEST(test_rec_decode_r5_bad_rename_flags),
	   NVFS_TEST(test_rec_decode_r5_exchange_without_id2),
	   NVFS_TEST(test_rec_decode_r6_zero_identity),
	   NVFS_TEST(test_rec_decode_r6_offset_overflow),
	   NVFS_TEST(test_rec_decode_r6_cancel_seq),
	   NVFS_TEST(test_rec_decode_r7_fallocate_mode),
	   NVFS_TEST(test_rec_decode_fuzz_flipped_bytes))
