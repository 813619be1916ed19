/* SPDX-License-Identifier: MIT */
/*
 * nvfs_format.h -- the on-pmem format of an nvfs namespace.
 *
 * This header is the single definition of every byte nvfs keeps in persistent
 * memory.  It is shared by the daemon, mkfs.nvfs and fsck.nvfs and includes
 * nothing beyond <stdint.h>-level headers.  docs/FORMAT.md is the same
 * material as prose; when the two disagree, this file is right.
 *
 * NAMESPACE MAP (namespace 0 of a set; byte offsets from the start of the
 * namespace, which is the start of the pmem file or device)
 *
 *          0 +--------------------------------------+
 *            | unused (left for labels/partitioning)|
 *       4096 +--------------------------------------+ NVFS_SB_OFF
 *            | superblock, primary copy (256 B)     |
 *       6144 +--------------------------------------+ NVFS_SB_BACKUP_OFF
 *            | superblock, backup copy (256 B)      |
 *       8192 +--------------------------------------+ NVFS_OWNER_LIST_OFF
 *            | owner list: 64 B header +            |
 *            |   63 owner heads of 128 B            |
 *      16384 +--------------------------------------+ NVFS_RECS_AREA_OFF
 *            | 2046 allocation-record pages, 8 KiB  |
 *            | each, chained per owner              |
 *   16777216 +--------------------------------------+ NVFS_PAGES_OFF
 *            | allocatable 4 KiB pages, handed out  |
 *            | by the buddy allocator in blocks of  |
 *            | 2^order pages, order < 20            |
 *   ns_bytes +--------------------------------------+
 *
 * CONVENTIONS
 *   - Every field is a fixed-width little-endian integer or a byte array.
 *     There are no bitfields and no pointers: a reference to another
 *     structure is a u64 byte offset from the start of the namespace, and
 *     0 means "none".  Names carry their unit: _off (byte offset), _bytes,
 *     _pgoff (offset in 4 KiB pages), _pages.
 *   - Checksums are XXH3-64.  The superblock's is seeded with 0; every other
 *     checksum is seeded with nvfs_pm_seed(ns_uuid) so that a structure
 *     copied from another namespace never validates here.
 *   - Reserved fields and bytes are written as 0 and must read as 0.
 *   - All sizes and offsets are pinned by the _Static_assert table at the
 *     end of this file.  Changing any of them is an incompatible format
 *     change (bump NVFS_FORMAT_VERSION).
 *
 * PERSISTENCE RULE
 *   Every change to a live structure commits with ONE aligned 8-byte store
 *   followed by a persist.  Whatever that store publishes is written and
 *   persisted before it.  The derived counters a reader may want (pages
 *   used, records used, owners used) are never stored: they are recounted
 *   when the namespace is opened.  The protocols are in docs/ALLOCATOR.md
 *   and in alloc/alloc.c.
 */
#ifndef NVFS_FORMAT_H
#define NVFS_FORMAT_H

#include <stddef.h>
#include <stdint.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "nvfs reads its on-pmem little-endian fields in place");

#define NVFS_FORMAT_VERSION 1u

/* Geometry.  Version 1 fixes it; the superblock records it for tools. */
#define NVFS_PAGE_BYTES        4096u
#define NVFS_PAGE_SHIFT        12u
#define NVFS_SB_OFF            4096u
#define NVFS_SB_BACKUP_OFF     6144u
#define NVFS_OWNER_LIST_OFF    8192u
#define NVFS_OWNER_LIST_BYTES  8192u
#define NVFS_RECS_AREA_OFF     16384u
#define NVFS_RECS_PAGE_BYTES   8192u
#define NVFS_PAGES_OFF         (16u << 20)
#define NVFS_RECS_PAGES        ((NVFS_PAGES_OFF - NVFS_RECS_AREA_OFF) / NVFS_RECS_PAGE_BYTES)
#define NVFS_MAX_ORDER         20u /* valid orders are 0 .. NVFS_MAX_ORDER-1 */
#define NVFS_LABEL_BYTES       32u
#define NVFS_UUID_BYTES        16u
#define NVFS_MAX_NAMESPACES    8u

/* The smallest namespace mkfs makes: the metadata plus 1 MiB of pages. */
#define NVFS_MIN_NS_BYTES      (NVFS_PAGES_OFF + (1u << 20))

/*
 * SUPERBLOCK -- 256 bytes at NVFS_SB_OFF, copied byte for byte at
 * NVFS_SB_BACKUP_OFF.  Written once by mkfs and never changed afterwards,
 * so it needs no commit protocol beyond "magic last" (see mkfs below).
 *
 *   off size field              meaning
 *     0    8 magic              NVFS_SB_MAGIC ("nvfsNS01" in memory order)
 *     8    8 csum               XXH3-64, seed 0, over bytes 16..255
 *    16    4 version            NVFS_FORMAT_VERSION; larger -> refuse
 *    20    4 sb_bytes           256
 *    24    8 feature_compat     unknown bits are ignored
 *    32    8 feature_incompat   unknown bits -> refuse to open
 *    40    8 feature_ro_compat  unknown bits -> open read-only
 *    48   16 ns_uuid            this namespace; seeds every other checksum
 *    64   16 set_uuid           the namespace set this one belongs to
 *    80   32 label              NUL-padded text, optional
 *   112    4 page_bytes         NVFS_PAGE_BYTES
 *   116    4 recs_page_bytes    NVFS_RECS_PAGE_BYTES
 *   120    4 nr_namespaces      1 (multi-namespace sets are reserved)
 *   124    4 this_namespace     0
 *   128    8 ns_bytes           namespace size; <= the file/device size
 *   136    8 owner_list_off     NVFS_OWNER_LIST_OFF
 *   144    8 recs_area_off      NVFS_RECS_AREA_OFF
 *   152    8 recs_area_pages    NVFS_RECS_PAGES (in record pages)
 *   160    4 max_order          NVFS_MAX_ORDER
 *   164    4 reserved0          0
 *   168    8 pages_off          NVFS_PAGES_OFF
 *   176    8 pages_total        allocatable 4 KiB pages:
 *                               (ns_bytes - pages_off) / page_bytes
 *   184    8 format_time_ns     CLOCK_REALTIME at mkfs, informational
 *   192   64 reserved[8]        0
 *
 * A superblock copy is valid iff
 *   (S1) magic == NVFS_SB_MAGIC;
 *   (S2) csum matches.  This rule (XXH3-64, seed 0, bytes 16..255) is the
 *        same in every format version, so that a reader can tell a newer
 *        superblock (S3) from a damaged one (S2);
 *   (S3) 1 <= version <= NVFS_FORMAT_VERSION and sb_bytes == 256 (checked
 *        after S2, so a flipped version bit reads as corruption);
 *   (S4) feature_incompat has no bit unknown to this build;
 *   (S5) every geometry field equals the constant above and
 *        pages_total == (ns_bytes - pages_off) / page_bytes >= 256;
 *   (S6) ns_bytes <= the size of the file or device;
 *   (S7) nr_namespaces == 1, this_namespace == 0, reserved bytes are 0,
 *        label bytes after the first NUL are 0.
 * Open uses the primary if valid, else the backup (fsck rewrites the
 * primary from it).  If both are valid they must be identical.
 */
#define NVFS_SB_MAGIC        UINT64_C(0x3130534e7366766e) /* "nvfsNS01" */
/* The magic of both copies while mkfs runs: an interrupted format is known
 * as such (and may be redone without -f), never taken for a namespace. */
#define NVFS_SB_MAGIC_FORMATTING UINT64_C(0x3f3f534e7366766e) /* "nvfsNS??" */
#define NVFS_SB_BYTES        256u

#define NVFS_FEATURE_COMPAT_SUPP     UINT64_C(0)
#define NVFS_FEATURE_INCOMPAT_SUPP   UINT64_C(0)
#define NVFS_FEATURE_RO_COMPAT_SUPP  UINT64_C(0)

struct nvfs_pm_sb {
	uint64_t magic;
	uint64_t csum;
	uint32_t version;
	uint32_t sb_bytes;
	uint64_t feature_compat;
	uint64_t feature_incompat;
	uint64_t feature_ro_compat;
	uint8_t  ns_uuid[NVFS_UUID_BYTES];
	uint8_t  set_uuid[NVFS_UUID_BYTES];
	uint8_t  label[NVFS_LABEL_BYTES];
	uint32_t page_bytes;
	uint32_t recs_page_bytes;
	uint32_t nr_namespaces;
	uint32_t this_namespace;
	uint64_t ns_bytes;
	uint64_t owner_list_off;
	uint64_t recs_area_off;
	uint64_t recs_area_pages;
	uint32_t max_order;
	uint32_t reserved0;
	uint64_t pages_off;
	uint64_t pages_total;
	uint64_t format_time_ns;
	uint64_t reserved[8];
};

/*
 * OWNER LIST -- NVFS_OWNER_LIST_BYTES at NVFS_OWNER_LIST_OFF: a 64-byte
 * header followed by NVFS_OWNER_SLOTS owner heads of 128 bytes.  The
 * header is written once by mkfs.
 *
 * Owner-list header:
 *   off size field          meaning
 *     0    8 magic          NVFS_OWNER_LIST_MAGIC ("nvfsOL01")
 *     8    8 csum           XXH3-64 (ns seed) over bytes 16..63
 *    16    4 owner_slots    NVFS_OWNER_SLOTS
 *    20    4 owner_bytes    128
 *    24   40 reserved       0
 *
 * Owner head (slot i at NVFS_OWNER_LIST_OFF + 64 + 128*i):
 *   off size field          meaning
 *     0   16 uuid           the owner's identity; not all zero when live
 *    16   32 label          NUL-padded text, bytes after the first NUL are 0
 *    48    8 commit         0: slot free.  Otherwise the slot is live and
 *                           commit == nvfs_pm_owner_commit(ns seed, slot,
 *                           uuid, label); any other value is corruption.
 *    56    8 reserved0      0
 *    64   64 recs_off[8]    per namespace of the set: byte offset of the
 *                           first record page of this owner's chain, 0 =
 *                           none.  Only [0] is used; [1..7] must be 0.
 *
 * An owner head is live iff commit != 0, and a live head is valid iff
 *   (O1) commit equals the checksum of (slot, uuid, label);
 *   (O2) uuid is not all zero and no other live slot has the same uuid;
 *   (O3) label bytes after the first NUL are 0; reserved0 == 0;
 *        recs_off[1..7] == 0;
 *   (O4) recs_off[0] is 0 or a valid record-page offset (R1) whose page
 *        is valid for this slot (P1..P5).
 * The contents of a free slot (commit == 0) are ignored.
 */
#define NVFS_OWNER_LIST_MAGIC  UINT64_C(0x31304c4f7366766e) /* "nvfsOL01" */
#define NVFS_OWNER_LIST_HDR_BYTES 64u
#define NVFS_OWNER_HEAD_BYTES  128u
#define NVFS_OWNER_SLOTS \
	((NVFS_OWNER_LIST_BYTES - NVFS_OWNER_LIST_HDR_BYTES) / NVFS_OWNER_HEAD_BYTES)

struct nvfs_pm_owner_list_hdr {
	uint64_t magic;
	uint64_t csum;
	uint32_t owner_slots;
	uint32_t owner_bytes;
	uint8_t  reserved[40];
};

struct nvfs_pm_owner_head {
	uint8_t  uuid[NVFS_UUID_BYTES];
	uint8_t  label[NVFS_LABEL_BYTES];
	uint64_t commit;
	uint64_t reserved0;
	uint64_t recs_off[NVFS_MAX_NAMESPACES];
};

/*
 * ALLOCATION-RECORD PAGE -- NVFS_RECS_PAGE_BYTES each, page i at
 * NVFS_RECS_AREA_OFF + i * NVFS_RECS_PAGE_BYTES, i < NVFS_RECS_PAGES.
 * A 64-byte header and NVFS_RECS_PER_PAGE record words.  A record page is
 * in use iff it is reachable from a live owner head; all others are free and
 * their contents are ignored.
 *
 *   off size field          meaning
 *     0    8 magic          NVFS_RECS_MAGIC ("nvfsRP01")
 *     8    8 csum           XXH3-64 (ns seed) over bytes 16..47
 *    16   16 owner_uuid     uuid of the owning head
 *    32    4 owner_slot     index of the owning head
 *    36    4 nr_recs        NVFS_RECS_PER_PAGE
 *    40    8 self_off       this page's own byte offset
 *    48    8 next_off       next record page of the chain, 0 = end.  Not
 *                           covered by csum: it is the one header field
 *                           that may be rewritten (by one 8-byte store)
 *                           when a page is unlinked from a chain.
 *    56    8 reserved       0
 *    64 8128 recs[1016]     record words; 0 = empty slot
 *
 * A record-page offset is valid iff (R1) it lies in the record area and is
 * a multiple of NVFS_RECS_PAGE_BYTES from its start.  A page reached from
 * owner slot s is valid iff
 *   (P1) magic matches;          (P2) csum matches;
 *   (P3) owner_slot == s and owner_uuid == the head's uuid;
 *   (P4) nr_recs == NVFS_RECS_PER_PAGE, self_off == its offset,
 *        reserved == 0;
 *   (P5) next_off is 0 or valid (R1), and following next_off from the
 *        head never revisits a page (no cycles, no page in two chains).
 */
#define NVFS_RECS_MAGIC        UINT64_C(0x313050527366766e) /* "nvfsRP01" */
#define NVFS_RECS_HDR_BYTES    64u
#define NVFS_RECS_PER_PAGE \
	((NVFS_RECS_PAGE_BYTES - NVFS_RECS_HDR_BYTES) / (unsigned)sizeof(uint64_t))

struct nvfs_pm_recs_page {
	uint64_t magic;
	uint64_t csum;
	uint8_t  owner_uuid[NVFS_UUID_BYTES];
	uint32_t owner_slot;
	uint32_t nr_recs;
	uint64_t self_off;
	uint64_t next_off;
	uint64_t reserved;
	uint64_t recs[NVFS_RECS_PER_PAGE];
};

/*
 * ALLOCATION RECORD -- one u64 word, encoded with shifts and masks:
 *
 *   bits  0..51  pgoff     first page of the block, in 4 KiB pages from the
 *                          start of the namespace
 *   bits 52..57  order     the block is 2^order pages
 *   bits 58..60  ns_id     namespace of the set; must be 0 (reserved)
 *   bits 61..63  reserved  must be 0
 *
 * The word 0 is an empty slot (pgoff 0 is never allocatable).  A non-zero
 * record is valid iff
 *   (A1) ns_id == 0 and the reserved bits are 0;
 *   (A2) order < NVFS_MAX_ORDER;
 *   (A3) pgoff is a multiple of 2^order (absolute buddy alignment);
 *   (A4) [pgoff, pgoff + 2^order) lies inside the allocatable pages
 *        [pages_off/4096, pages_off/4096 + pages_total);
 *   (A5) no two records in the namespace overlap.
 */
#define NVFS_REC_PGOFF_BITS   52u
#define NVFS_REC_ORDER_SHIFT  52u
#define NVFS_REC_ORDER_BITS   6u
#define NVFS_REC_NSID_SHIFT   58u
#define NVFS_REC_NSID_BITS    3u
#define NVFS_REC_PGOFF_MASK   ((UINT64_C(1) << NVFS_REC_PGOFF_BITS) - 1)
#define NVFS_REC_ORDER_MASK   ((UINT64_C(1) << NVFS_REC_ORDER_BITS) - 1)
#define NVFS_REC_NSID_MASK    ((UINT64_C(1) << NVFS_REC_NSID_BITS) - 1)
#define NVFS_REC_HIGH_MASK    (~((UINT64_C(1) << NVFS_REC_NSID_SHIFT) - 1))

/* nvfs_pm_rec_encode -- the record word for 2^order pages at pgoff */
static inline uint64_t
nvfs_pm_rec_encode(uint64_t pgoff, unsigned order)
{
	return (pgoff & NVFS_REC_PGOFF_MASK) |
	       ((uint64_t)(order & NVFS_REC_ORDER_MASK) << NVFS_REC_ORDER_SHIFT);
}

static inline uint64_t
nvfs_pm_rec_pgoff(uint64_t rec)
{
	return rec & NVFS_REC_PGOFF_MASK;
}

static inline unsigned
nvfs_pm_rec_order(uint64_t rec)
{
	return (unsigned)((rec >> NVFS_REC_ORDER_SHIFT) & NVFS_REC_ORDER_MASK);
}

/* nvfs_pm_rec_high_bits -- ns_id and reserved bits, all must be 0 (A1) */
static inline uint64_t
nvfs_pm_rec_high_bits(uint64_t rec)
{
	return rec & NVFS_REC_HIGH_MASK;
}

/* nvfs_pm_le64 -- the u64 stored little-endian at p, read byte-wise */
static inline uint64_t
nvfs_pm_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* nvfs_pm_seed -- checksum seed of a namespace, derived from its uuid */
static inline uint64_t
nvfs_pm_seed(const uint8_t ns_uuid[NVFS_UUID_BYTES])
{
	return nvfs_pm_le64(ns_uuid) ^ nvfs_pm_le64(ns_uuid + 8) ^
	       UINT64_C(0x9e3779b97f4a7c15);
}

/*
 * JOURNAL -- the space of the journal is held by the owner whose uuid is
 * NVFS_JOURNAL_OWNER_UUID, and is found only through its records (there is
 * no other copy of its location):
 *   - exactly one order-0 block: the journal header page;
 *   - nr_buckets >= 2 blocks of order NVFS_JOURNAL_BUCKET_ORDER: the ring.
 *     The ring is the buckets in increasing offset order.
 * Everything in the ring is addressed by an LSN, a logical byte offset that
 * only grows: ring position = lsn % ring_bytes, bucket = position /
 * bucket_bytes.  docs/JOURNAL.md has the commit and replay protocols.
 *
 * Journal header page (4096 bytes; written once at creation, except the
 * two tail copies):
 *   off size field          meaning
 *     0    8 magic          NVFS_JOURNAL_MAGIC ("nvfsJH01")
 *     8    8 csum           XXH3-64 (ns seed) over bytes 16..63
 *    16    8 journal_id     random at creation; seeds every journal checksum
 *                           and is xored into every set magic
 *    24    8 ring_bytes     nr_buckets * bucket_bytes: a cross-check of the
 *                           records, which are the source of truth (H3)
 *    32    4 bucket_order   NVFS_JOURNAL_BUCKET_ORDER
 *    36    4 version        1
 *    40   24 reserved       0
 *  1024   64 tail[0]        tail copy A
 *  2048   64 tail[1]        tail copy B (a different cache line and Optane
 *                           256-byte unit than A)
 * The header is valid iff (H1) magic; (H2) csum; (H3) the buckets found add
 * up to ring_bytes, all of order bucket_order; (H4) version 1, reserved 0.
 *
 * Tail copy (64 bytes): the durable start of replay.
 *   off size field          meaning
 *     0    8 magic          NVFS_JOURNAL_TAIL_MAGIC ("nvfsJT01")
 *     8    8 csum           XXH3-64 (journal seed) over bytes 16..63
 *    16    8 gen            incremented by each tail update; the copy with
 *                           the larger gen among valid copies is current
 *    24    8 tail_lsn       LSN of the first set not yet checkpointed,
 *                           a multiple of 64
 *    32    8 tail_seq       sequence number of the first entry in it
 *    40   24 reserved       0
 * A copy is valid iff (T1) magic; (T2) csum; (T3) tail_lsn % 64 == 0,
 * tail_lsn < NVFS_JOURNAL_LIMIT, 1 <= tail_seq < NVFS_JOURNAL_LIMIT;
 * reserved 0.  An update writes the copy that is NOT current
 * (gen + 1), persists it, and only then lets the space before tail_lsn be
 * reused, so a torn update leaves the older copy current and intact.
 *
 * Set (the unit of commit): a 64-byte header, then nr_entries entries, then
 * padding; always 64-byte aligned and never crossing a bucket end.
 *   off size field          meaning
 *     0    8 magic          NVFS_JOURNAL_SET_MAGIC ^ journal_id
 *     8    8 csum           XXH3-64 (journal seed) over header bytes 16..63
 *                           followed by every entry header, in order
 *    16    8 lsn            this set's LSN
 *    24    8 first_seq      sequence number of its first entry (or, for a
 *                           pad set, of the next entry to be written)
 *    32    4 set_bytes      bytes from this header to the next set: a
 *                           multiple of 64, >= 64, not past the bucket end
 *    36    4 nr_entries     0 for a pad set
 *    40    4 flags          NVFS_JSET_PAD: the rest of the bucket is unused
 *    44   20 reserved       0
 * Entry (at the set's start + 64, each 64-byte aligned):
 *   off size field          meaning
 *     0    4 type           caller's type, never 0
 *     4    4 payload_bytes  <= NVFS_JOURNAL_MAX_PAYLOAD
 *     8    8 payload_csum   XXH3-64 (journal seed) of the payload
 *    16   16 reserved       0
 *    32    . payload, then zero padding to the next multiple of 64
 * A set found at the expected (lsn, seq) is valid iff
 *   (J1) magic == NVFS_JOURNAL_SET_MAGIC ^ journal_id;
 *   (J2) lsn == the expected LSN and first_seq == the expected sequence
 *        number (so data left by an earlier pass over the ring, which has an
 *        older lsn, is never taken as new; after damage the log continues
 *        past every sequence number the damaged region can hold);
 *   (J3) set_bytes and nr_entries are in bounds (the set ends within its
 *        bucket, entries fit inside set_bytes; a pad set reaches exactly the
 *        bucket end; lsn + set_bytes and first_seq + nr_entries stay below
 *        NVFS_JOURNAL_LIMIT), flags known, reserved 0;
 *   (J4) csum matches;
 *   (J5) each entry's type != 0, payload fits, payload_csum matches.
 * The expected next set follows at lsn + set_bytes (a pad set's set_bytes
 * reaches the bucket end), with first_seq + nr_entries.
 */
#define NVFS_JOURNAL_MAGIC        UINT64_C(0x3130484a7366766e) /* "nvfsJH01" */
#define NVFS_JOURNAL_TAIL_MAGIC   UINT64_C(0x3130544a7366766e) /* "nvfsJT01" */
#define NVFS_JOURNAL_SET_MAGIC    UINT64_C(0x3130534a7366766e) /* "nvfsJS01" */
#define NVFS_JOURNAL_VERSION      1u
/* LSNs and sequence numbers stay below this: no arithmetic on them can
 * overflow (2^62 bytes or entries outlast any device). */
#define NVFS_JOURNAL_LIMIT        (UINT64_C(1) << 62)
#define NVFS_JOURNAL_BUCKET_ORDER 10u                 /* 4 MiB buckets */
#define NVFS_JOURNAL_BUCKET_BYTES (NVFS_PAGE_BYTES << NVFS_JOURNAL_BUCKET_ORDER)
#define NVFS_JOURNAL_MIN_BUCKETS  2u
#define NVFS_JOURNAL_ALIGN        64u
#define NVFS_JOURNAL_TAIL_OFF0    1024u
#define NVFS_JOURNAL_TAIL_OFF1    2048u
#define NVFS_JSET_PAD             (1u << 0)
#define NVFS_JSET_FLAGS_KNOWN     NVFS_JSET_PAD
#define NVFS_JOURNAL_SET_HDR_BYTES   64u
#define NVFS_JOURNAL_ENTRY_HDR_BYTES 32u
/* The largest payload: one entry alone in an empty bucket. */
#define NVFS_JOURNAL_MAX_PAYLOAD \
	(NVFS_JOURNAL_BUCKET_BYTES - NVFS_JOURNAL_SET_HDR_BYTES - NVFS_JOURNAL_ENTRY_HDR_BYTES)

/* The journal owner: a fixed uuid, label "journal". */
#define NVFS_JOURNAL_OWNER_UUID \
	{ 0x6e, 0x76, 0x66, 0x73, 0x2d, 0x6a, 0x6f, 0x75, \
	  0x72, 0x6e, 0x61, 0x6c, 0x00, 0x00, 0x00, 0x01 }

/* The SOURCE-binding owner ("nvfs-bind"): a fixed uuid, label "bind".  Its
 * page is described under SOURCE BINDING below. */
#define NVFS_BIND_OWNER_UUID \
	{ 0x6e, 0x76, 0x66, 0x73, 0x2d, 0x62, 0x69, 0x6e, \
	  0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01 }

struct nvfs_pm_journal_hdr {
	uint64_t magic;
	uint64_t csum;
	uint64_t journal_id;
	uint64_t ring_bytes;
	uint32_t bucket_order;
	uint32_t version;
	uint8_t  reserved[24];
};

struct nvfs_pm_journal_tail {
	uint64_t magic;
	uint64_t csum;
	uint64_t gen;
	uint64_t tail_lsn;
	uint64_t tail_seq;
	uint8_t  reserved[24];
};

struct nvfs_pm_jset {
	uint64_t magic;
	uint64_t csum;
	uint64_t lsn;
	uint64_t first_seq;
	uint32_t set_bytes;
	uint32_t nr_entries;
	uint32_t flags;
	uint8_t  reserved[20];
};

struct nvfs_pm_jentry {
	uint32_t type;
	uint32_t payload_bytes;
	uint64_t payload_csum;
	uint8_t  reserved[16];
};

/*
 * SOURCE BINDING -- the directory (SOURCE) whose changes the journal holds,
 * so that a pmem is never replayed into, or mounted over, another directory.
 * It is held by the owner NVFS_BIND_OWNER_UUID in order-0 blocks, found
 * only through its records: one page normally, two for the moment of an
 * update (the new page is committed before the old one is let go).
 * fs/bind.c (nvfs_bind.h) reads and writes it.
 *
 * A directory is identified by (src_ino, src_btime_ns): st_dev is not
 * stable across reboots (device numbers are handed out at probe time), but
 * an inode number and a birth time are properties of the file system.  A
 * btime of 0 is "unknown" (no STATX_BTIME) and then only the inodes are
 * compared.  The path is kept for messages and to notice a moved SOURCE.
 *
 * Binding page (4096 bytes):
 *   off  size field          meaning
 *     0     8 magic          nvfs_pm_bind_magic(ns seed) ("nvfsBD01" xor
 *                            the seed, never 0) once complete; 0 while
 *                            it is being written (see the protocol below)
 *     8     8 csum           XXH3-64 (ns seed) over bytes 16..4095
 *    16     8 gen            1 for the first binding, +1 for each rewrite
 *    24     4 version        NVFS_BIND_VERSION
 *    28     4 path_bytes     length of path, 1..NVFS_BIND_PATH_MAX
 *    32     8 src_ino        st_ino of the SOURCE directory
 *    40     8 src_btime_ns   its birth time in ns since the epoch, 0 = unknown
 *    48    16 reserved       0
 *    64  4032 path           realpath(SOURCE), absolute, NUL-padded
 *
 * A page of the owner is UNWRITTEN -- left by a crash before its commit
 * store, or allocated and not yet written, and ignored (reused or freed by
 * the next writer) -- iff its magic is 0, or its magic is not the expected
 * value and csum does not match either.  Otherwise it is valid iff
 *   (B1) magic == nvfs_pm_bind_magic(seed) (a page with another non-zero
 *        magic but a matching csum is a damaged magic);
 *   (B2) csum matches;
 *   (B3) version == NVFS_BIND_VERSION (checked after B2);
 *   (B4) 1 <= path_bytes <= NVFS_BIND_PATH_MAX, path[0] == '/', no NUL in
 *        the first path_bytes bytes and only NULs after them;
 *   (B5) 1 <= gen < NVFS_BIND_GEN_LIMIT, reserved == 0;
 * and the owner is valid iff
 *   (B6) it holds order-0 blocks only, and no two valid pages have the
 *        same gen.
 * The binding is the valid page with the largest gen; an owner without a
 * valid page (or no owner) is "not bound".  Any page that is neither
 * unwritten nor valid, or a B6 violation, makes the binding corrupt.
 *
 * Writing a binding (first bind, a moved SOURCE, a rebind); the steps are
 * the persist points the crash test cuts:
 *   1. Take a page: an unwritten page of the owner, else a new block
 *      (owner created first if absent; the allocator makes both durable).
 *   2. If its magic is not 0: magic := 0, persisted.  From here on the page
 *      reads as unwritten whatever a crash keeps of the next step.
 *   3. Bytes 8..4095 (csum, gen = largest valid gen + 1, the rest),
 *      persisted.
 *   4. magic := nvfs_pm_bind_magic(seed): one aligned 8-byte store,
 *      persisted.  The commit point: the new binding outranks the old one.
 *   5. Each other block of the owner: magic := 0 if not 0, persisted; then
 *      freed.  A crash here leaves the old page valid with a smaller gen.
 * Step 5 zeroes before freeing so that no page ever returns to the free
 * pool with a valid magic: a block a later step 1 allocates may hold any
 * stale data but never reads as a binding.
 */
#define NVFS_BIND_MAGIC       UINT64_C(0x313044427366766e) /* "nvfsBD01" */
#define NVFS_BIND_VERSION     1u
#define NVFS_BIND_HDR_BYTES   64u
#define NVFS_BIND_PATH_BYTES  (NVFS_PAGE_BYTES - NVFS_BIND_HDR_BYTES)
/* The longest path: the field always ends with a NUL. */
#define NVFS_BIND_PATH_MAX    (NVFS_BIND_PATH_BYTES - 1)
#define NVFS_BIND_GEN_LIMIT   (UINT64_C(1) << 62)

struct nvfs_pm_bind {
	uint64_t magic;
	uint64_t csum;
	uint64_t gen;
	uint32_t version;
	uint32_t path_bytes;
	uint64_t src_ino;
	uint64_t src_btime_ns;
	uint8_t  reserved[16];
	uint8_t  path[NVFS_BIND_PATH_BYTES];
};

/*
 * nvfs_pm_bind_magic -- the magic of a complete binding page of the
 * namespace with this checksum seed: xored with the seed, as bcache xors
 * its magics with the set uuid, so that a binding page left by an earlier
 * format of the same device (mkfs -f makes a new ns_uuid) reads as
 * unwritten, not as a corrupt binding.  Never 0 (0 marks a page being
 * written): the one seed that would give 0 gets NVFS_BIND_MAGIC itself.
 */
static inline uint64_t
nvfs_pm_bind_magic(uint64_t seed)
{
	uint64_t m = NVFS_BIND_MAGIC ^ seed;
	return m ? m : NVFS_BIND_MAGIC;
}

/*
 * LAYOUT ASSERT TABLE.  Any change here is an incompatible format change.
 * It also serves as the cross-reference for reading hex dumps.
 */
#define NVFS_PIN(type, field, off) \
	_Static_assert(offsetof(struct type, field) == (off), #type "." #field)

_Static_assert(sizeof(struct nvfs_pm_sb) == NVFS_SB_BYTES, "sb size");
NVFS_PIN(nvfs_pm_sb, magic,              0);
NVFS_PIN(nvfs_pm_sb, csum,               8);
NVFS_PIN(nvfs_pm_sb, version,           16);
NVFS_PIN(nvfs_pm_sb, sb_bytes,          20);
NVFS_PIN(nvfs_pm_sb, feature_compat,    24);
NVFS_PIN(nvfs_pm_sb, feature_incompat,  32);
NVFS_PIN(nvfs_pm_sb, feature_ro_compat, 40);
NVFS_PIN(nvfs_pm_sb, ns_uuid,           48);
NVFS_PIN(nvfs_pm_sb, set_uuid,          64);
NVFS_PIN(nvfs_pm_sb, label,             80);
NVFS_PIN(nvfs_pm_sb, page_bytes,       112);
NVFS_PIN(nvfs_pm_sb, recs_page_bytes,  116);
NVFS_PIN(nvfs_pm_sb, nr_namespaces,    120);
NVFS_PIN(nvfs_pm_sb, this_namespace,   124);
NVFS_PIN(nvfs_pm_sb, ns_bytes,         128);
NVFS_PIN(nvfs_pm_sb, owner_list_off,   136);
NVFS_PIN(nvfs_pm_sb, recs_area_off,    144);
NVFS_PIN(nvfs_pm_sb, recs_area_pages,  152);
NVFS_PIN(nvfs_pm_sb, max_order,        160);
NVFS_PIN(nvfs_pm_sb, reserved0,        164);
NVFS_PIN(nvfs_pm_sb, pages_off,        168);
NVFS_PIN(nvfs_pm_sb, pages_total,      176);
NVFS_PIN(nvfs_pm_sb, format_time_ns,   184);
NVFS_PIN(nvfs_pm_sb, reserved,         192);

_Static_assert(sizeof(struct nvfs_pm_owner_list_hdr) == NVFS_OWNER_LIST_HDR_BYTES,
	       "owner list header size");
NVFS_PIN(nvfs_pm_owner_list_hdr, magic,        0);
NVFS_PIN(nvfs_pm_owner_list_hdr, csum,         8);
NVFS_PIN(nvfs_pm_owner_list_hdr, owner_slots, 16);
NVFS_PIN(nvfs_pm_owner_list_hdr, owner_bytes, 20);
NVFS_PIN(nvfs_pm_owner_list_hdr, reserved,    24);

_Static_assert(sizeof(struct nvfs_pm_owner_head) == NVFS_OWNER_HEAD_BYTES,
	       "owner head size");
NVFS_PIN(nvfs_pm_owner_head, uuid,       0);
NVFS_PIN(nvfs_pm_owner_head, label,     16);
NVFS_PIN(nvfs_pm_owner_head, commit,    48);
NVFS_PIN(nvfs_pm_owner_head, reserved0, 56);
NVFS_PIN(nvfs_pm_owner_head, recs_off,  64);
_Static_assert(NVFS_OWNER_SLOTS == 63, "owner slots");
_Static_assert(NVFS_OWNER_LIST_HDR_BYTES + NVFS_OWNER_SLOTS * NVFS_OWNER_HEAD_BYTES
	       <= NVFS_OWNER_LIST_BYTES, "owner heads fit");

_Static_assert(sizeof(struct nvfs_pm_recs_page) == NVFS_RECS_PAGE_BYTES,
	       "record page size");
NVFS_PIN(nvfs_pm_recs_page, magic,       0);
NVFS_PIN(nvfs_pm_recs_page, csum,        8);
NVFS_PIN(nvfs_pm_recs_page, owner_uuid, 16);
NVFS_PIN(nvfs_pm_recs_page, owner_slot, 32);
NVFS_PIN(nvfs_pm_recs_page, nr_recs,    36);
NVFS_PIN(nvfs_pm_recs_page, self_off,   40);
NVFS_PIN(nvfs_pm_recs_page, next_off,   48);
NVFS_PIN(nvfs_pm_recs_page, reserved,   56);
NVFS_PIN(nvfs_pm_recs_page, recs,       64);
_Static_assert(NVFS_RECS_PER_PAGE == 1016, "records per page");
_Static_assert(NVFS_RECS_PAGES == 2046, "record pages");

_Static_assert(sizeof(struct nvfs_pm_journal_hdr) == 64, "journal header size");
NVFS_PIN(nvfs_pm_journal_hdr, magic,         0);
NVFS_PIN(nvfs_pm_journal_hdr, csum,          8);
NVFS_PIN(nvfs_pm_journal_hdr, journal_id,   16);
NVFS_PIN(nvfs_pm_journal_hdr, ring_bytes,   24);
NVFS_PIN(nvfs_pm_journal_hdr, bucket_order, 32);
NVFS_PIN(nvfs_pm_journal_hdr, version,      36);
NVFS_PIN(nvfs_pm_journal_hdr, reserved,     40);
_Static_assert(sizeof(struct nvfs_pm_journal_tail) == 64, "tail copy size");
NVFS_PIN(nvfs_pm_journal_tail, magic,     0);
NVFS_PIN(nvfs_pm_journal_tail, csum,      8);
NVFS_PIN(nvfs_pm_journal_tail, gen,      16);
NVFS_PIN(nvfs_pm_journal_tail, tail_lsn, 24);
NVFS_PIN(nvfs_pm_journal_tail, tail_seq, 32);
NVFS_PIN(nvfs_pm_journal_tail, reserved, 40);
_Static_assert(sizeof(struct nvfs_pm_jset) == NVFS_JOURNAL_SET_HDR_BYTES, "set header size");
NVFS_PIN(nvfs_pm_jset, magic,       0);
NVFS_PIN(nvfs_pm_jset, csum,        8);
NVFS_PIN(nvfs_pm_jset, lsn,        16);
NVFS_PIN(nvfs_pm_jset, first_seq,  24);
NVFS_PIN(nvfs_pm_jset, set_bytes,  32);
NVFS_PIN(nvfs_pm_jset, nr_entries, 36);
NVFS_PIN(nvfs_pm_jset, flags,      40);
NVFS_PIN(nvfs_pm_jset, reserved,   44);
_Static_assert(sizeof(struct nvfs_pm_jentry) == NVFS_JOURNAL_ENTRY_HDR_BYTES, "entry size");
NVFS_PIN(nvfs_pm_jentry, type,          0);
NVFS_PIN(nvfs_pm_jentry, payload_bytes, 4);
NVFS_PIN(nvfs_pm_jentry, payload_csum,  8);
NVFS_PIN(nvfs_pm_jentry, reserved,     16);
_Static_assert(NVFS_JOURNAL_TAIL_OFF0 % 256 == 0 && NVFS_JOURNAL_TAIL_OFF1 % 256 == 0 &&
	       NVFS_JOURNAL_TAIL_OFF1 + 64 <= NVFS_PAGE_BYTES, "tail copies apart");
_Static_assert(NVFS_JOURNAL_BUCKET_BYTES % NVFS_JOURNAL_ALIGN == 0, "bucket alignment");
_Static_assert(NVFS_JOURNAL_MAX_PAYLOAD >= (1u << 20), "1 MiB payloads fit");
_Static_assert(NVFS_JOURNAL_BUCKET_ORDER < NVFS_MAX_ORDER, "bucket is one block");

_Static_assert(sizeof(struct nvfs_pm_bind) == NVFS_PAGE_BYTES, "binding page size");
NVFS_PIN(nvfs_pm_bind, magic,         0);
NVFS_PIN(nvfs_pm_bind, csum,          8);
NVFS_PIN(nvfs_pm_bind, gen,          16);
NVFS_PIN(nvfs_pm_bind, version,      24);
NVFS_PIN(nvfs_pm_bind, path_bytes,   28);
NVFS_PIN(nvfs_pm_bind, src_ino,      32);
NVFS_PIN(nvfs_pm_bind, src_btime_ns, 40);
NVFS_PIN(nvfs_pm_bind, reserved,     48);
NVFS_PIN(nvfs_pm_bind, path,         NVFS_BIND_HDR_BYTES);
_Static_assert(NVFS_BIND_PATH_BYTES == 4032 && NVFS_BIND_PATH_MAX == 4031, "path field");

_Static_assert(NVFS_SB_OFF + NVFS_SB_BYTES <= NVFS_SB_BACKUP_OFF, "sb copies");
_Static_assert(NVFS_SB_BACKUP_OFF + NVFS_SB_BYTES <= NVFS_OWNER_LIST_OFF, "sb fits");
_Static_assert(NVFS_OWNER_LIST_OFF + NVFS_OWNER_LIST_BYTES == NVFS_RECS_AREA_OFF,
	       "owner list then record area");
_Static_assert((NVFS_PAGES_OFF - NVFS_RECS_AREA_OFF) % NVFS_RECS_PAGE_BYTES == 0,
	       "record area holds whole pages");
_Static_assert((1u << NVFS_PAGE_SHIFT) == NVFS_PAGE_BYTES, "page shift");
_Static_assert(NVFS_MAX_ORDER - 1 <= NVFS_REC_ORDER_MASK, "order fits the record");
_Static_assert(NVFS_REC_NSID_SHIFT + NVFS_REC_NSID_BITS <= 64, "record bits");

#undef NVFS_PIN

#endif /* NVFS_FORMAT_H */
