/* SPDX-License-Identifier: MIT */
/*
 * rec.c -- the journal records of the file system: encode for an append,
 * decode (and validate, rules R1-R6 of nvfs_rec.h) for replay.
 */
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "nvfs_rec.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE  (1 << 1)
#endif

/* header offsets (nvfs_rec.h) */
enum {
	OFF_ID = 0, OFF_PARENT = 16, OFF_PARENT2 = 32, OFF_ID2 = 48,
	OFF_A = 64, OFF_B = 72, OFF_C = 80,
	OFF_MODE = 88, OFF_UID = 92, OFF_GID = 96, OFF_FLAGS = 100,
	OFF_NLINK = 104, OFF_NLINK2 = 108, OFF_VALID = 112,
	OFF_NAME_LEN = 116, OFF_NAME2_LEN = 118, OFF_DATA_LEN = 120, OFF_RESERVED = 124,
};
_Static_assert(OFF_RESERVED + 4 == NVFS_REC_HDR_BYTES, "record header layout");

static void put64(unsigned char *p, uint64_t v) { v = htole64(v); memcpy(p, &v, 8); }
static void put32(unsigned char *p, uint32_t v) { v = htole32(v); memcpy(p, &v, 4); }
static void put16(unsigned char *p, uint16_t v) { v = htole16(v); memcpy(p, &v, 2); }
static uint64_t get64(const unsigned char *p) { uint64_t v; memcpy(&v, p, 8); return le64toh(v); }
static uint32_t get32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return le32toh(v); }
static uint16_t get16(const unsigned char *p) { uint16_t v; memcpy(&v, p, 2); return le16toh(v); }

static void
put_id(unsigned char *p, struct nvfs_rec_id id)
{
	put64(p, id.ino);
	put64(p + 8, id.stamp);
}

static struct nvfs_rec_id
get_id(const unsigned char *p)
{
	return (struct nvfs_rec_id){ .ino = get64(p), .stamp = get64(p + 8) };
}

/* nvfs_rec_encode -- header plus iovecs for nvfs_journal_appendv */
int
nvfs_rec_encode(const struct nvfs_rec *r, unsigned char hdr[NVFS_REC_HDR_BYTES],
		struct iovec iov[4], int *iovcnt)
{
	size_t n1 = strlen(r->name), n2 = strlen(r->name2);

	if (n1 > NVFS_REC_NAME_MAX || n2 > NVFS_REC_NAME_MAX || r->data_len > NVFS_REC_MAX_DATA)
		return -EINVAL;
	memset(hdr, 0, NVFS_REC_HDR_BYTES);
	put_id(hdr + OFF_ID, r->id);
	put_id(hdr + OFF_PARENT, r->parent);
	put_id(hdr + OFF_PARENT2, r->parent2);
	put_id(hdr + OFF_ID2, r->id2);
	put64(hdr + OFF_A, r->a);
	put64(hdr + OFF_B, r->b);
	put64(hdr + OFF_C, r->c);
	put32(hdr + OFF_MODE, r->mode);
	put32(hdr + OFF_UID, r->uid);
	put32(hdr + OFF_GID, r->gid);
	put32(hdr + OFF_FLAGS, r->flags);
	put32(hdr + OFF_NLINK, r->nlink);
	put32(hdr + OFF_NLINK2, r->nlink2);
	put32(hdr + OFF_VALID, r->valid);
	put16(hdr + OFF_NAME_LEN, (uint16_t)n1);
	put16(hdr + OFF_NAME2_LEN, (uint16_t)n2);
	put32(hdr + OFF_DATA_LEN, (uint32_t)r->data_len);
	*iovcnt = 0;
	iov[(*iovcnt)++] = (struct iovec){ hdr, NVFS_REC_HDR_BYTES };
	if (n1)
		iov[(*iovcnt)++] = (struct iovec){ (void *)r->name, n1 };
	if (n2)
		iov[(*iovcnt)++] = (struct iovec){ (void *)r->name2, n2 };
	if (r->data_len)
		iov[(*iovcnt)++] = (struct iovec){ (void *)r->data, r->data_len };
	return 0;
}

/* bad -- a decode failure: the rule and what broke it, in why */
__attribute__((format(printf, 3, 4))) static int
bad(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

/* name_ok -- rule R3 for a directory entry name (xattr: any bytes but NUL) */
static bool
name_ok(const unsigned char *p, size_t n, bool xattr)
{
	if (n == 0 || n > NVFS_REC_NAME_MAX || memchr(p, '\0', n))
		return false;
	if (xattr)
		return true;
	if (memchr(p, '/', n))
		return false;
	return !(n == 1 && p[0] == '.') && !(n == 2 && p[0] == '.' && p[1] == '.');
}

/* uses -- which header fields a type uses (rule R2) */
enum {
	U_ID = 1 << 0, U_PARENT = 1 << 1, U_PARENT2 = 1 << 2, U_ID2 = 1 << 3,
	U_A = 1 << 4, U_B = 1 << 5, U_C = 1 << 6, U_MODE = 1 << 7, U_UID = 1 << 8,
	U_GID = 1 << 9, U_FLAGS = 1 << 10, U_NLINK = 1 << 11, U_NLINK2 = 1 << 12,
	U_VALID = 1 << 13, U_NAME = 1 << 14, U_NAME2 = 1 << 15, U_DATA = 1 << 16,
	U_XNAME = 1 << 17,
};

static unsigned
uses(uint32_t type)
{
	switch (type) {
	case NVFS_REC_CREATE:
		return U_ID | U_PARENT | U_A | U_MODE | U_UID | U_GID | U_NAME | U_DATA;
	case NVFS_REC_LINK:
		return U_ID | U_PARENT | U_NLINK | U_NAME;
	case NVFS_REC_UNLINK:
		return U_ID | U_PARENT | U_FLAGS | U_NLINK | U_NAME;
	case NVFS_REC_RENAME:
		return U_ID | U_PARENT | U_PARENT2 | U_ID2 | U_FLAGS | U_NLINK | U_NLINK2 |
		       U_NAME | U_NAME2;
	case NVFS_REC_WRITE:
		return U_ID | U_A | U_DATA;
	case NVFS_REC_SETATTR:
		return U_ID | U_A | U_B | U_C | U_MODE | U_UID | U_GID | U_VALID;
	case NVFS_REC_FALLOCATE:
		return U_ID | U_A | U_B | U_FLAGS;
	case NVFS_REC_SETXATTR:
		return U_ID | U_FLAGS | U_XNAME | U_DATA;
	case NVFS_REC_REMOVEXATTR:
		return U_ID | U_XNAME;
	case NVFS_REC_CANCEL:
	case NVFS_REC_MARK:
		return U_ID | U_A;
	default:
		return 0;
	}
}

/* nvfs_rec_type_name -- for messages */
const char *
nvfs_rec_type_name(uint32_t type)
{
	static const char *const names[] = {
		"create", "link", "unlink", "rename", "write", "setattr", "fallocate",
		"setxattr", "removexattr", "cancel", "mark",
	};

	if (type < NVFS_REC_CREATE || type > NVFS_REC_MARK)
		return "?";
	return names[type - NVFS_REC_CREATE];
}

/* unused_nonzero -- rule R2 for the fields type does not use; NULL or the field */
static const char *
unused_nonzero(const unsigned char *h, unsigned u)
{
	static const struct { unsigned bit; unsigned off, size; const char *name; } f[] = {
		{ U_ID, OFF_ID, 16, "id" }, { U_PARENT, OFF_PARENT, 16, "parent" },
		{ U_PARENT2, OFF_PARENT2, 16, "parent2" }, { U_ID2, OFF_ID2, 16, "id2" },
		{ U_A, OFF_A, 8, "a" }, { U_B, OFF_B, 8, "b" }, { U_C, OFF_C, 8, "c" },
		{ U_MODE, OFF_MODE, 4, "mode" }, { U_UID, OFF_UID, 4, "uid" },
		{ U_GID, OFF_GID, 4, "gid" }, { U_FLAGS, OFF_FLAGS, 4, "flags" },
		{ U_NLINK, OFF_NLINK, 4, "nlink" }, { U_NLINK2, OFF_NLINK2, 4, "nlink2" },
		{ U_VALID, OFF_VALID, 4, "valid" },
		{ U_NAME | U_XNAME, OFF_NAME_LEN, 2, "name_len" },
		{ U_NAME2, OFF_NAME2_LEN, 2, "name2_len" },
		{ U_DATA, OFF_DATA_LEN, 4, "data_len" },
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (u & f[i].bit)
			continue;
		for (unsigned k = 0; k < f[i].size; k++)
			if (h[f[i].off + k])
				return f[i].name;
	}
	return NULL;
}

/* nvfs_rec_decode -- validate (R1-R6) and decode */
int
nvfs_rec_decode(uint32_t type, const void *payload, size_t len, struct nvfs_rec *r,
		char *why, size_t why_len)
{
	const unsigned char *h = payload;
	unsigned u = uses(type);
	size_t n1, n2, dl;
	const char *field;

	if (!u)
		return bad(why, why_len, "R1: unknown record type %#x", type);
	if (len < NVFS_REC_HDR_BYTES)
		return bad(why, why_len, "R1: %zu payload bytes, below the %u-byte header",
			   len, NVFS_REC_HDR_BYTES);
	n1 = get16(h + OFF_NAME_LEN);
	n2 = get16(h + OFF_NAME2_LEN);
	dl = get32(h + OFF_DATA_LEN);
	if (NVFS_REC_HDR_BYTES + n1 + n2 + dl != len)
		return bad(why, why_len, "R1: %s record of %zu bytes, header says %zu",
			   nvfs_rec_type_name(type), len, NVFS_REC_HDR_BYTES + n1 + n2 + dl);
	if (get32(h + OFF_RESERVED))
		return bad(why, why_len, "R2: reserved field is not zero");
	if ((field = unused_nonzero(h, u)))
		return bad(why, why_len, "R2: %s record has a non-zero %s",
			   nvfs_rec_type_name(type), field);

	memset(r, 0, sizeof(*r));
	r->type = type;
	r->id = get_id(h + OFF_ID);
	r->parent = get_id(h + OFF_PARENT);
	r->parent2 = get_id(h + OFF_PARENT2);
	r->id2 = get_id(h + OFF_ID2);
	r->a = get64(h + OFF_A);
	r->b = get64(h + OFF_B);
	r->c = get64(h + OFF_C);
	r->mode = get32(h + OFF_MODE);
	r->uid = get32(h + OFF_UID);
	r->gid = get32(h + OFF_GID);
	r->flags = get32(h + OFF_FLAGS);
	r->nlink = get32(h + OFF_NLINK);
	r->nlink2 = get32(h + OFF_NLINK2);
	r->valid = get32(h + OFF_VALID);

	const unsigned char *p = h + NVFS_REC_HDR_BYTES;
	if ((u & (U_NAME | U_XNAME)) && !name_ok(p, n1, u & U_XNAME))
		return bad(why, why_len, "R3: %s record has a bad name (%zu bytes)",
			   nvfs_rec_type_name(type), n1);
	if ((u & U_NAME2) && !name_ok(p + n1, n2, false))
		return bad(why, why_len, "R3: rename record has a bad name2 (%zu bytes)", n2);
	memcpy(r->name, p, n1);
	memcpy(r->name2, p + n1, n2);
	r->data = dl ? p + n1 + n2 : NULL;
	r->data_len = dl;

	switch (type) {
	case NVFS_REC_CREATE:
		switch (r->mode & S_IFMT) {
		case S_IFREG: case S_IFDIR: case S_IFLNK: case S_IFCHR: case S_IFBLK:
		case S_IFIFO: case S_IFSOCK:
			break;
		default:
			return bad(why, why_len, "R5: create record without a file type "
				   "(mode %#o)", r->mode);
		}
		if (r->mode & ~(uint32_t)(S_IFMT | 07777))
			return bad(why, why_len, "R5: create record with mode %#o", r->mode);
		if (S_ISLNK(r->mode) ? (dl == 0 || dl > NVFS_REC_TARGET_MAX ||
						       memchr(r->data, '\0', dl)) : dl != 0)
			return bad(why, why_len, "R4: create record with a bad target "
				   "(%zu bytes)", dl);
		break;
	case NVFS_REC_UNLINK:
		if (r->flags > NVFS_REC_RMDIR)
			return bad(why, why_len, "R5: unlink record with flags %#x", r->flags);
		break;
	case NVFS_REC_RENAME:
		if (r->flags & ~(uint32_t)(RENAME_NOREPLACE | RENAME_EXCHANGE))
			return bad(why, why_len, "R5: rename record with flags %#x", r->flags);
		if ((r->flags & RENAME_EXCHANGE) && !r->id2.ino)
			return bad(why, why_len, "R5: exchange record without a second object");
		break;
	case NVFS_REC_WRITE:
		if (dl > NVFS_REC_MAX_DATA)
			return bad(why, why_len, "R4: write record of %zu bytes", dl);
		break;
	case NVFS_REC_SETATTR:
		if (r->valid & ~NVFS_REC_SET_ALL)
			return bad(why, why_len, "R5: setattr record with valid %#x", r->valid);
		if (r->mode & ~07777u)
			return bad(why, why_len, "R5: setattr record with mode %#o", r->mode);
		if ((r->valid & NVFS_REC_SET_SIZE) && r->a > INT64_MAX)
			return bad(why, why_len, "R6: setattr record with size %llu",
				   (unsigned long long)r->a);
		break;
	case NVFS_REC_FALLOCATE:
		if (r->a > INT64_MAX || r->b > INT64_MAX || r->a + r->b > INT64_MAX)
			return bad(why, why_len, "R6: fallocate record beyond 2^63");
		if (!nvfs_rec_falloc_mode_ok(r->flags))
			return bad(why, why_len, "R7: fallocate record with mode %#x", r->flags);
		break;
	case NVFS_REC_CANCEL:
		if (!r->a || r->a > INT64_MAX)
			return bad(why, why_len, "R6: cancel record of seq %llu",
				   (unsigned long long)r->a);
		break;
	case NVFS_REC_SETXATTR:
		if (dl > NVFS_REC_MAX_XATTR)
			return bad(why, why_len, "R4: setxattr record with a %zu-byte value", dl);
		break;
	}
	if (type == NVFS_REC_WRITE && (r->a > INT64_MAX || r->a + dl > INT64_MAX))
		return bad(why, why_len, "R6: write record beyond 2^63");
	if (!r->id.ino || ((u & U_PARENT) && !r->parent.ino) ||
	    ((u & U_PARENT2) && !r->parent2.ino))
		return bad(why, why_len, "R6: %s record with a zero identity",
			   nvfs_rec_type_name(type));
	return 0;
}
