/* SPDX-License-Identifier: MIT */
/*
 * nvfs_rec.h -- the file system's journal records: what nvfs logs for each
 * mutating operation, byte for byte, and the codec (fs/rec.c).
 *
 * A record is one journal entry (nvfs_journal.h): the entry's type is the
 * record type below and its payload is a fixed 128-byte header followed by
 * name, name2 and data, back to back, with no padding.  The journal
 * checksums the payload; decoding still checks every length and field
 * (rules R below), since nothing read from pmem is trusted.
 *
 * OBJECTS ARE NAMED BY IDENTITY, NOT BY PATH (docs/FS-JOURNAL.md section 3):
 * an identity is the backing (st_ino, btime in nanoseconds since the
 * epoch) pair, btime 0 where the backing file system does not report one.
 *
 * HEADER (all fields little-endian; unused fields are zero)
 *
 *   offset size field        use
 *   0      16   id           the object (CREATE: the new one; RENAME: source)
 *   16     16   parent       CREATE, LINK, UNLINK: the directory; RENAME: from
 *   32     16   parent2      RENAME: the destination directory
 *   48     16   id2          RENAME: the object replaced or exchanged, or 0
 *   64     8    a            CREATE: rdev; WRITE, FALLOCATE: offset;
 *                            SETATTR: size; CANCEL: the cancelled record;
 *                            MARK: the wall-clock time (ns) of a checkpoint
 *   72     8    b            FALLOCATE: length; SETATTR: atime (ns)
 *   80     8    c            SETATTR: mtime (ns)
 *   88     4    mode         CREATE: type and permission bits; SETATTR: mode
 *   92     4    uid          CREATE, SETATTR
 *   96     4    gid          CREATE, SETATTR
 *   100    4    flags        UNLINK: 1 for rmdir; RENAME: renameat2 flags;
 *                            FALLOCATE: mode; SETXATTR: XATTR_* flags
 *   104    4    nlink        LINK, UNLINK: id's link count after the change;
 *                            RENAME: id's link count (a rename keeps it)
 *   108    4    nlink2       RENAME: id2's link count after the change
 *   112    4    valid        SETATTR: NVFS_REC_SET_* bits
 *   116    2    name_len     the name (xattr name for *XATTR)
 *   118    2    name2_len    RENAME: the destination name
 *   120    4    data_len     WRITE: the bytes; CREATE: a symlink's target;
 *                            SETXATTR: the value
 *   124    4    reserved     zero
 *   128    ...  name, name2, data
 *
 * VALIDITY RULES (nvfs_rec_decode; each failure names its rule)
 *   R1  the type is one of NVFS_REC_* (CREATE .. MARK); the payload holds the header and
 *       exactly name_len + name2_len + data_len more bytes
 *   R2  reserved is zero; fields a type does not use are zero
 *   R3  names are 1..255 bytes with no '/' or NUL and are not "." or ".."
 *       (xattr names: 1..255 bytes, no NUL); a type without a name has
 *       name_len 0
 *   R4  data_len is at most NVFS_REC_MAX_DATA for WRITE, below PATH_MAX
 *       and only for a symlink for CREATE, at most NVFS_REC_MAX_XATTR for
 *       SETXATTR, and 0 otherwise
 *   R5  CREATE's mode is one file type (S_IFREG, S_IFDIR, S_IFLNK, S_IFCHR,
 *       S_IFBLK, S_IFIFO, S_IFSOCK) and permission bits (07777), nothing
 *       else; SETATTR's mode has permission bits only and its valid no
 *       unknown bit;
 *       UNLINK's flags are 0 or 1; RENAME's flags are a subset of
 *       RENAME_NOREPLACE | RENAME_EXCHANGE, and EXCHANGE has an id2
 *   R6  identities the type uses are not zero (ino != 0); offsets and
 *       lengths are below 2^63 and offset + length does not overflow
 *   R7  FALLOCATE's mode is 0, KEEP_SIZE, PUNCH_HOLE|KEEP_SIZE or
 *       ZERO_RANGE (with or without KEEP_SIZE): the modes whose replay is
 *       idempotent (COLLAPSE_RANGE and INSERT_RANGE shift data and are
 *       refused by the file system with EOPNOTSUPP)
 *
 * INTENTS AND CANCEL
 *   A change that destroys data (a shrinking or any size change, O_TRUNC,
 *   punching or zeroing a range) is logged and committed BEFORE it is
 *   applied: replaying older writes over a SOURCE that already lost the
 *   bytes to an unlogged truncate would invent zeros where data was.  If
 *   the change then fails, a CANCEL record names the intent (a = its
 *   sequence number) and replay skips it.  With durability=op, a RENAME
 *   that replaces another object (destroying it if that was its last
 *   name) is an intent too; replay reads the CANCELs before its names
 *   pass.  The change is logged once more
 *   after it is made (nvfs_log_destroy): a checkpoint between the intent
 *   and the change may have released the intent before the change was
 *   durable.
 *
 * MARK
 *   The first record after every checkpoint (appended with the next record,
 *   so that an idle file system writes nothing): the SOURCE's identity,
 *   which replay checks, and the time the checkpoint finished, which tells
 *   a reader how old the log is.
 */
#ifndef NVFS_REC_H
#define NVFS_REC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

enum nvfs_rec_type {
	NVFS_REC_CREATE      = 0x4601, /* creat, mknod, mkdir, symlink */
	NVFS_REC_LINK        = 0x4602,
	NVFS_REC_UNLINK      = 0x4603, /* unlink, rmdir */
	NVFS_REC_RENAME      = 0x4604,
	NVFS_REC_WRITE       = 0x4605, /* write, copy_file_range (the data copied) */
	NVFS_REC_SETATTR     = 0x4606, /* chmod, chown, truncate, utimens, O_TRUNC */
	NVFS_REC_FALLOCATE   = 0x4607,
	NVFS_REC_SETXATTR    = 0x4608,
	NVFS_REC_REMOVEXATTR = 0x4609,
	NVFS_REC_CANCEL      = 0x460a, /* an intent that failed: id, a = its seq */
	NVFS_REC_MARK        = 0x460b, /* a checkpoint: id = SOURCE, a = time */
};

#define NVFS_REC_HDR_BYTES  128u
#define NVFS_REC_NAME_MAX   255u
#define NVFS_REC_MAX_DATA   (1u << 20)      /* one write record: FUSE's max_write */
#define NVFS_REC_MAX_XATTR  (64u << 10)     /* XATTR_SIZE_MAX */
#define NVFS_REC_TARGET_MAX 4095u           /* PATH_MAX - 1 */

/* SETATTR valid bits */
#define NVFS_REC_SET_MODE  (1u << 0)
#define NVFS_REC_SET_UID   (1u << 1)
#define NVFS_REC_SET_GID   (1u << 2)
#define NVFS_REC_SET_SIZE  (1u << 3)
#define NVFS_REC_SET_ATIME (1u << 4)
#define NVFS_REC_SET_MTIME (1u << 5)
#define NVFS_REC_SET_ALL   0x3fu

/* UNLINK flags */
#define NVFS_REC_RMDIR 1u

struct nvfs_rec_id {
	uint64_t ino;
	uint64_t stamp;            /* btime, ns since the epoch; 0: unknown */
};

/* a record, decoded; the field names follow the header table above */
struct nvfs_rec {
	uint32_t type;
	struct nvfs_rec_id id, parent, parent2, id2;
	uint64_t a, b, c;
	uint32_t mode, uid, gid, flags, nlink, nlink2, valid;
	char name[NVFS_REC_NAME_MAX + 1];   /* NUL-terminated copies */
	char name2[NVFS_REC_NAME_MAX + 1];
	const void *data;                   /* into the payload (decode) */
	size_t data_len;
};

/* fallocate(2) modes (linux/falloc.h), for rule R7 */
#define NVFS_REC_FALLOC_KEEP_SIZE  0x01
#define NVFS_REC_FALLOC_PUNCH_HOLE 0x02
#define NVFS_REC_FALLOC_ZERO_RANGE 0x10

/* nvfs_rec_falloc_mode_ok -- rule R7: a fallocate mode replay can repeat */
static inline int
nvfs_rec_falloc_mode_ok(uint32_t mode)
{
	return mode == 0 || mode == NVFS_REC_FALLOC_KEEP_SIZE ||
	       mode == (NVFS_REC_FALLOC_PUNCH_HOLE | NVFS_REC_FALLOC_KEEP_SIZE) ||
	       mode == NVFS_REC_FALLOC_ZERO_RANGE ||
	       mode == (NVFS_REC_FALLOC_ZERO_RANGE | NVFS_REC_FALLOC_KEEP_SIZE);
}

/* nvfs_rec_falloc_destroys -- fallocate mode that discards data (logged first) */
static inline int
nvfs_rec_falloc_destroys(uint32_t mode)
{
	return (mode & (NVFS_REC_FALLOC_PUNCH_HOLE | NVFS_REC_FALLOC_ZERO_RANGE)) != 0;
}

/* nvfs_rec_id_eq -- the same object */
static inline int
nvfs_rec_id_eq(struct nvfs_rec_id x, struct nvfs_rec_id y)
{
	return x.ino == y.ino && x.stamp == y.stamp;
}

/*
 * nvfs_rec_encode -- lay r out for nvfs_journal_appendv: hdr is filled and
 * iov[0..*iovcnt) points at hdr, r->name, r->name2 and r->data (not
 * copied: they must live until the append returns).  Fields are taken as
 * they are: the caller fills a valid record.  0, or -EINVAL (a name longer
 * than NVFS_REC_NAME_MAX or data longer than NVFS_REC_MAX_DATA).
 */
int nvfs_rec_encode(const struct nvfs_rec *r, unsigned char hdr[NVFS_REC_HDR_BYTES],
		    struct iovec iov[4], int *iovcnt);

/*
 * nvfs_rec_decode -- check a payload against rules R1-R6 and decode it
 * into *r (r->data points into payload).  0, or -EBADMSG with the rule
 * and field that failed in why.
 */
int nvfs_rec_decode(uint32_t type, const void *payload, size_t len, struct nvfs_rec *r,
		    char *why, size_t why_len);

/* nvfs_rec_type_name -- "create", "write"... or "?" */
const char *nvfs_rec_type_name(uint32_t type);

#endif /* NVFS_REC_H */
