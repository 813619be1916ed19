/* SPDX-License-Identifier: MIT */
/*
 * nvfs_ns.h -- build and validate the namespace structures defined in
 * nvfs_format.h (superblock, owner list, record pages, records), and
 * format a namespace.  Pure functions over memory, except nvfs_ns_format.
 *
 * Every check returns 0 when the structure is valid and otherwise a
 * negative errno with a one-line message (nvfs_err.h) that names the
 * structure, the field, its byte offset in the namespace and the rule
 * (S1.., O1.., P1.., A1..) of nvfs_format.h it breaks:
 *   -EUCLEAN          inconsistent field (corruption)
 *   -EBADMSG          checksum mismatch
 *   -EPROTONOSUPPORT  format version newer than this build
 *   -EOPNOTSUPP       incompatible feature unknown to this build
 */
#ifndef NVFS_NS_H
#define NVFS_NS_H

#include <stdbool.h>
#include <stdint.h>

#include "nvfs_format.h"

struct nvfs_pmem;

/* ---- superblock ---------------------------------------------------------- */

/*
 * nvfs_ns_sb_init -- fill a superblock for a namespace of ns_bytes (rounded
 * down to whole pages), checksum included.  label may be NULL.
 * 0, or -EINVAL (too small, label longer than 31 bytes).
 */
int nvfs_ns_sb_init(struct nvfs_pm_sb *sb, uint64_t ns_bytes,
		    const uint8_t ns_uuid[NVFS_UUID_BYTES], const char *label);

/* nvfs_ns_sb_csum -- the checksum sb->csum must hold */
uint64_t nvfs_ns_sb_csum(const struct nvfs_pm_sb *sb);

/*
 * nvfs_ns_sb_check -- rules S1..S7 for the copy at byte offset copy_off of a
 * device of dev_bytes.
 */
int nvfs_ns_sb_check(const struct nvfs_pm_sb *sb, uint64_t dev_bytes,
		     uint64_t copy_off);

/* nvfs_ns_seed -- the checksum seed of the namespace sb describes */
uint64_t nvfs_ns_seed(const struct nvfs_pm_sb *sb);

/* ---- owner list ---------------------------------------------------------- */

void nvfs_ns_owner_list_hdr_init(struct nvfs_pm_owner_list_hdr *hdr, uint64_t seed);
int nvfs_ns_owner_list_hdr_check(const struct nvfs_pm_owner_list_hdr *hdr,
				 uint64_t seed);

/* nvfs_ns_owner_head_off -- byte offset of owner slot i */
static inline uint64_t
nvfs_ns_owner_head_off(unsigned slot)
{
	return NVFS_OWNER_LIST_OFF + NVFS_OWNER_LIST_HDR_BYTES +
	       (uint64_t)slot * NVFS_OWNER_HEAD_BYTES;
}

/*
 * nvfs_ns_owner_commit -- the commit word of a live head in slot with this
 * uuid and label: XXH3-64 (seed) over (slot as le32, uuid, label), with 0
 * mapped to 1 so that it never reads as "free".
 */
uint64_t nvfs_ns_owner_commit(uint64_t seed, unsigned slot,
			      const struct nvfs_pm_owner_head *head);

/*
 * nvfs_ns_owner_head_check -- rules O1 and O3 (and the O4 offset form) for
 * the live head in slot.  O2 (unique uuid) and the chain (O4) need the
 * whole list and are checked by the allocator.
 */
int nvfs_ns_owner_head_check(const struct nvfs_pm_owner_head *head, unsigned slot,
			     uint64_t seed);

/* ---- record pages and records -------------------------------------------- */

/* nvfs_ns_recs_off_valid -- rule R1: off names a record page */
static inline bool
nvfs_ns_recs_off_valid(uint64_t off)
{
	return off >= NVFS_RECS_AREA_OFF && off < NVFS_PAGES_OFF &&
	       (off - NVFS_RECS_AREA_OFF) % NVFS_RECS_PAGE_BYTES == 0;
}

/* nvfs_ns_recs_index -- record page number of a valid record-page offset */
static inline unsigned
nvfs_ns_recs_index(uint64_t off)
{
	return (unsigned)((off - NVFS_RECS_AREA_OFF) / NVFS_RECS_PAGE_BYTES);
}

/* nvfs_ns_recs_off -- byte offset of record page i */
static inline uint64_t
nvfs_ns_recs_off(unsigned i)
{
	return NVFS_RECS_AREA_OFF + (uint64_t)i * NVFS_RECS_PAGE_BYTES;
}

/*
 * nvfs_ns_recs_page_init -- a fresh record page at self_off for the head in
 * slot, chained to next_off, with every record slot empty.
 */
void nvfs_ns_recs_page_init(struct nvfs_pm_recs_page *page, uint64_t self_off,
			    unsigned slot, const uint8_t owner_uuid[NVFS_UUID_BYTES],
			    uint64_t next_off, uint64_t seed);

/* nvfs_ns_recs_page_check -- rules P1..P4 and the form of next_off (R1) */
int nvfs_ns_recs_page_check(const struct nvfs_pm_recs_page *page, uint64_t self_off,
			    unsigned slot, const uint8_t owner_uuid[NVFS_UUID_BYTES],
			    uint64_t seed);

/*
 * nvfs_ns_rec_check -- rules A1..A4 for the non-zero record word rec stored
 * at byte offset rec_off, against the allocatable area of sb.
 */
int nvfs_ns_rec_check(uint64_t rec, uint64_t rec_off, const struct nvfs_pm_sb *sb);

/* ---- whole namespace ----------------------------------------------------- */

enum nvfs_ns_kind {
	NVFS_NS_ZERO,     /* the probed ranges are all zero */
	NVFS_NS_NVFS,     /* an nvfs superblock magic in either copy */
	NVFS_NS_UNKNOWN,  /* non-zero data of some other kind */
	NVFS_NS_TORN,     /* an interrupted nvfs format (formatting magic) */
};

/*
 * nvfs_ns_probe -- what the device holds, judged from the metadata area
 * (first 16 MiB), the first MiB of the page area and the last MiB, which is
 * where file systems, partition tables and nvfs keep their signatures.
 */
enum nvfs_ns_kind nvfs_ns_probe(const void *base, uint64_t dev_bytes);

/*
 * nvfs_ns_format -- write a new, empty namespace of ns_bytes (<= the mapping)
 * onto pm.  Crash-safe in the sense that a torn format never looks valid,
 * whatever subset of unflushed stores a crash keeps: both magics first
 * become NVFS_SB_MAGIC_FORMATTING (each its own commit point), then every
 * structure is written and persisted, and the real magics come last.
 * 0, -EINVAL (size/label), or the persist error.
 */
int nvfs_ns_format(struct nvfs_pmem *pm, uint64_t ns_bytes,
		   const uint8_t ns_uuid[NVFS_UUID_BYTES], const char *label);

/* nvfs_ns_uuid_generate -- a random (version 4) uuid; 0 or -errno */
int nvfs_ns_uuid_generate(uint8_t uuid[NVFS_UUID_BYTES]);

/* nvfs_ns_uuid_str -- "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" into buf[37] */
void nvfs_ns_uuid_str(const uint8_t uuid[NVFS_UUID_BYTES], char buf[37]);

/* nvfs_ns_uuid_parse -- the inverse; 0 or -EINVAL */
int nvfs_ns_uuid_parse(const char *s, uint8_t uuid[NVFS_UUID_BYTES]);

/*
 * nvfs_ns_label_check -- label bytes: text up to the first NUL, zero after
 * it (rules S7, O3).  true if well-formed.
 */
bool nvfs_ns_label_ok(const uint8_t label[NVFS_LABEL_BYTES]);

#endif /* NVFS_NS_H */
