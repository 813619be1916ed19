/* SPDX-License-Identifier: MIT */
/*
 * rec_check.h -- the file-system record checks the rec and journal targets
 * share: a payload goes through nvfs_rec_decode (rules R1-R7 of
 * nvfs_rec.h), and a record it accepts must satisfy what fs/replay.c does
 * with its fields without further checks:
 *   - names are NUL-terminated C strings of 1..255 bytes with no '/'
 *     (directory entries) and not "." or ".." -- replay passes them to
 *     *at() calls and hashes them;
 *   - data points inside the payload, data_len bytes long, exactly at its
 *     end (replay pwrite()s it, setxattr()s it, strndup()s a symlink
 *     target, which has no NUL);
 *   - offsets and lengths replay casts to off_t are below 2^63, and so are
 *     offset + length (pwrite, fallocate, ftruncate);
 *   - modes, flags and valid bits are the ones replay hands to mknodat,
 *     renameat2, fallocate and its setattr (R5, R7);
 *   - identities replay looks up are not zero;
 * and the record ROUND-TRIPS: nvfs_rec_encode of the decoded record gives
 * back the payload byte for byte (no field is lost or invented).
 */
#ifndef NVFS_FUZZ_REC_CHECK_H
#define NVFS_FUZZ_REC_CHECK_H

#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "nvfs_rec.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE  (1 << 1)
#endif

/* dir_name_ok -- a directory entry name replay may hand to *at() */
static inline int
fz_dir_name_ok(const char *n)
{
	size_t len = strnlen(n, NVFS_REC_NAME_MAX + 1);

	return len >= 1 && len <= NVFS_REC_NAME_MAX && !strchr(n, '/') &&
	       strcmp(n, ".") != 0 && strcmp(n, "..") != 0;
}

/*
 * fz_rec_check -- decode and check one record; returns 1 if it decoded
 * (and every property held), 0 if nvfs_rec_decode refused it with a reason
 */
static inline int
fz_rec_check(uint32_t type, const void *payload, size_t len)
{
	static struct nvfs_rec r;
	char why[200];
	const uint8_t *p = payload;

	why[0] = '\0';
	int rc = nvfs_rec_decode(type, payload, len, &r, why, sizeof(why));
	if (rc != 0) {
		CHECK(rc == -EBADMSG);
		CHECK(why[0] == 'R' && why[1] >= '1' && why[1] <= '7'); /* names its rule */
		return 0;
	}
	CHECK(r.type == type);
	CHECK(len >= NVFS_REC_HDR_BYTES);
	/* names: NUL-terminated, bounded */
	CHECK(memchr(r.name, 0, sizeof(r.name)) && memchr(r.name2, 0, sizeof(r.name2)));
	/* data: inside the payload, ending where it ends */
	if (r.data_len) {
		CHECK(r.data != NULL);
		CHECK((const uint8_t *)r.data >= p + NVFS_REC_HDR_BYTES);
		CHECK((const uint8_t *)r.data + r.data_len == p + len);
	} else {
		CHECK(r.data == NULL);
	}
	CHECK(r.id.ino != 0);
	switch (type) {
	case NVFS_REC_CREATE:
		CHECK(fz_dir_name_ok(r.name) && r.parent.ino);
		CHECK((r.mode & ~(uint32_t)(S_IFMT | 07777)) == 0);
		CHECK(S_ISREG(r.mode) || S_ISDIR(r.mode) || S_ISLNK(r.mode) ||
		      S_ISCHR(r.mode) || S_ISBLK(r.mode) || S_ISFIFO(r.mode) ||
		      S_ISSOCK(r.mode));
		if (S_ISLNK(r.mode))
			CHECK(r.data_len >= 1 && r.data_len <= NVFS_REC_TARGET_MAX &&
			      !memchr(r.data, 0, r.data_len));
		else
			CHECK(r.data_len == 0);
		break;
	case NVFS_REC_LINK:
	case NVFS_REC_UNLINK:
		CHECK(fz_dir_name_ok(r.name) && r.parent.ino);
		CHECK(type == NVFS_REC_LINK || r.flags <= NVFS_REC_RMDIR);
		break;
	case NVFS_REC_RENAME:
		CHECK(fz_dir_name_ok(r.name) && fz_dir_name_ok(r.name2));
		CHECK(r.parent.ino && r.parent2.ino);
		CHECK((r.flags & ~(uint32_t)(RENAME_NOREPLACE | RENAME_EXCHANGE)) == 0);
		CHECK(!(r.flags & RENAME_EXCHANGE) || r.id2.ino);
		break;
	case NVFS_REC_WRITE:
		CHECK(r.data_len <= NVFS_REC_MAX_DATA);
		CHECK(r.a <= INT64_MAX && r.a + r.data_len <= INT64_MAX);
		break;
	case NVFS_REC_SETATTR:
		CHECK((r.valid & ~NVFS_REC_SET_ALL) == 0 && (r.mode & ~07777u) == 0);
		CHECK(!(r.valid & NVFS_REC_SET_SIZE) || r.a <= INT64_MAX);
		break;
	case NVFS_REC_FALLOCATE:
		CHECK(r.a <= INT64_MAX && r.b <= INT64_MAX && r.a + r.b <= INT64_MAX);
		CHECK(nvfs_rec_falloc_mode_ok(r.flags));
		break;
	case NVFS_REC_SETXATTR:
	case NVFS_REC_REMOVEXATTR: {
		size_t n = strlen(r.name);
		CHECK(n >= 1 && n <= NVFS_REC_NAME_MAX);
		CHECK(type == NVFS_REC_REMOVEXATTR || r.data_len <= NVFS_REC_MAX_XATTR);
		break;
	}
	case NVFS_REC_CANCEL:
		CHECK(r.a >= 1 && r.a <= INT64_MAX);
		break;
	case NVFS_REC_MARK:
		break;
	default:
		CHECK(0); /* decode accepted an unknown type */
	}

	/* round trip: encode(decode(payload)) == payload */
	unsigned char hdr[NVFS_REC_HDR_BYTES];
	struct iovec iov[4];
	int iovcnt = 0;
	CHECK(nvfs_rec_encode(&r, hdr, iov, &iovcnt) == 0);
	size_t off = 0;
	for (int i = 0; i < iovcnt; i++) {
		CHECK(off + iov[i].iov_len <= len);
		CHECK(memcmp(p + off, iov[i].iov_base, iov[i].iov_len) == 0);
		off += iov[i].iov_len;
	}
	CHECK(off == len);
	CHECK(strcmp(nvfs_rec_type_name(type), "?") != 0);
	return 1;
}

/*
 * fz_rec_seeds -- one valid record of every type (and the variants replay
 * treats apart: a symlink, a directory, an exchange, a punch), for the
 * seeds of the rec and journal targets; emit is called with each
 */
static inline void
fz_rec_seeds(void (*emit)(void *arg, const struct nvfs_rec *r), void *arg)
{
	static const char data[] = "hello, journal";
	const struct nvfs_rec_id root = { 2, 1700000000000000000ull };
	const struct nvfs_rec_id f = { 12, 1700000000000000001ull };
	const struct nvfs_rec_id d = { 13, 1700000000000000002ull };
	const struct nvfs_rec_id l = { 14, 0 };
	struct nvfs_rec r;

#define SEED(...) do { memset(&r, 0, sizeof(r)); r = (struct nvfs_rec){ __VA_ARGS__ }; \
		       emit(arg, &r); } while (0)
	SEED(.type = NVFS_REC_MARK, .id = root, .a = 1700000000123456789ull);
	SEED(.type = NVFS_REC_CREATE, .id = f, .parent = root, .mode = S_IFREG | 0644,
	     .uid = 1000, .gid = 1000, .name = "file");
	SEED(.type = NVFS_REC_CREATE, .id = d, .parent = root, .mode = S_IFDIR | 0755,
	     .name = "dir");
	SEED(.type = NVFS_REC_CREATE, .id = l, .parent = d, .mode = S_IFLNK | 0777,
	     .name = "link", .data = "../file", .data_len = 7);
	SEED(.type = NVFS_REC_CREATE, .id = { 15, 0 }, .parent = d, .mode = S_IFCHR | 0600,
	     .a = 0x0103, .name = "null");
	SEED(.type = NVFS_REC_WRITE, .id = f, .a = 4096, .data = data,
	     .data_len = sizeof(data) - 1);
	SEED(.type = NVFS_REC_SETATTR, .id = f, .valid = NVFS_REC_SET_ALL, .a = 100,
	     .b = 1700000000000000000ull, .c = (uint64_t)-1, .mode = 0600, .uid = 1,
	     .gid = 2);
	SEED(.type = NVFS_REC_FALLOCATE, .id = f, .a = 0, .b = 8192,
	     .flags = NVFS_REC_FALLOC_PUNCH_HOLE | NVFS_REC_FALLOC_KEEP_SIZE);
	SEED(.type = NVFS_REC_SETXATTR, .id = f, .name = "user.k", .data = data,
	     .data_len = 5, .flags = 1);
	SEED(.type = NVFS_REC_REMOVEXATTR, .id = f, .name = "user.k");
	SEED(.type = NVFS_REC_LINK, .id = f, .parent = d, .nlink = 2, .name = "hard");
	SEED(.type = NVFS_REC_RENAME, .id = f, .parent = root, .parent2 = d, .id2 = l,
	     .flags = RENAME_EXCHANGE, .nlink = 2, .nlink2 = 1, .name = "file",
	     .name2 = "link");
	SEED(.type = NVFS_REC_RENAME, .id = f, .parent = d, .parent2 = root,
	     .flags = RENAME_NOREPLACE, .nlink = 2, .name = "hard", .name2 = "moved");
	SEED(.type = NVFS_REC_UNLINK, .id = d, .parent = root, .flags = NVFS_REC_RMDIR,
	     .name = "dir");
	SEED(.type = NVFS_REC_CANCEL, .id = f, .a = 7);
#undef SEED
}

#endif /* NVFS_FUZZ_REC_CHECK_H */
