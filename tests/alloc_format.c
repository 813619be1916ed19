/* SPDX-License-Identifier: MIT */
/*
 * alloc_format.c -- tests of the namespace format code (alloc/format.c,
 * API in nvfs_ns.h, rules in nvfs_format.h).
 *
 * Every test names in a comment the rule(s) of nvfs_format.h it checks.
 * Every rejection is asserted on the return code AND on the message: the
 * message must contain the rule tag ("(S2)", "(O4, R1)", ...) and the name
 * of the field as spelt in nvfs_format.h (nvfs_ns.h promises that messages
 * name the field).  Two spellings are accepted as naming a field: a csum
 * field may be called "checksum", and reserved0/reserved[] "reserved".
 *
 * Checksums that format.c keeps static are recomputed here from the format
 * description, which the round-trip tests verify against the _init
 * functions:
 *   owner-list header: XXH3-64 (ns seed) over header bytes 16..63
 *                      (owner_slots, owner_bytes, reserved);
 *   record page:       XXH3-64 (ns seed) over header bytes 16..47
 *                      (owner_uuid, owner_slot, nr_recs, self_off);
 *                      next_off (48..55), reserved (56..63) and the record
 *                      words are NOT covered;
 *   superblock:        nvfs_ns_sb_csum(), XXH3-64 seed 0 over bytes 16..255.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nvfs_csum.h"
#include "nvfs_err.h"
#include "nvfs_format.h"
#include "nvfs_ns.h"
#include "nvfs_pmem.h"
#include "nvfs_test.h"

#define MIB        (UINT64_C(1) << 20)
#define NS64       (64 * MIB)                       /* the usual test namespace */
#define NS64_FIRST (NVFS_PAGES_OFF / NVFS_PAGE_BYTES) /* first allocatable page */
#define NS64_PAGES ((NS64 - NVFS_PAGES_OFF) / NVFS_PAGE_BYTES) /* 12288 */

static const uint8_t uuid_a[NVFS_UUID_BYTES] = {
	0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x4d, 0xef,
	0x80, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07 };
static const char uuid_a_str[] = "12345678-9abc-4def-8001-020304050607";
static const uint8_t uuid_b[NVFS_UUID_BYTES] = {
	0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x43, 0x21,
	0x9f, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88 };
static const uint8_t uuid_zero[NVFS_UUID_BYTES];

/* ---- assertion helpers --------------------------------------------------- */

/* msg_has -- true if want is NULL or a substring of msg */
static bool
msg_has(const char *msg, const char *want)
{
	return !want || strstr(msg, want) != NULL;
}

/*
 * EXPECT_ERR(call, want_rc, field, tag) -- call fails with want_rc and the
 * message names field and tag (either may be NULL: not checked).  Prints
 * what was got when it does not.
 */
#define EXPECT_ERR(call, want_rc, field, tag)                                      \
	do {                                                                       \
		nvfs_err_clear();                                                  \
		int rc_ = (call);                                                  \
		const char *m_ = nvfs_errmsg();                                    \
		CU_ASSERT_EQUAL(rc_, (want_rc));                                   \
		CU_ASSERT(msg_has(m_, field));                                     \
		CU_ASSERT(msg_has(m_, tag));                                       \
		if (rc_ != (want_rc) || !msg_has(m_, field) || !msg_has(m_, tag))  \
			fprintf(stderr, "\n    %s:%d: got %d \"%s\"; want %d with " \
				"field \"%s\" and tag \"%s\"", __FILE__, __LINE__,  \
				rc_, m_, (int)(want_rc), (field) ? (field) : "-",   \
				(tag) ? (tag) : "-");                              \
	} while (0)

/* EXPECT_OK(call) -- call returns 0; prints the message when it does not */
#define EXPECT_OK(call)                                                            \
	do {                                                                       \
		nvfs_err_clear();                                                  \
		int rc_ = (call);                                                  \
		CU_ASSERT_EQUAL(rc_, 0);                                           \
		if (rc_ != 0)                                                      \
			fprintf(stderr, "\n    %s:%d: got %d \"%s\"; want 0",       \
				__FILE__, __LINE__, rc_, nvfs_errmsg());           \
	} while (0)

/* all_bytes -- every one of len bytes at p equals v */
static bool
all_bytes(const void *p, size_t len, uint8_t v)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i] != v)
			return false;
	return true;
}

/* ---- builders ------------------------------------------------------------ */

/* make_sb -- a valid superblock for ns_bytes, label "test" */
static void
make_sb(struct nvfs_pm_sb *sb, uint64_t ns_bytes)
{
	CU_ASSERT_EQUAL_FATAL(nvfs_ns_sb_init(sb, ns_bytes, uuid_a, "test"), 0);
}

/* resum_sb -- recompute the superblock checksum after a change */
static void
resum_sb(struct nvfs_pm_sb *sb)
{
	sb->csum = nvfs_ns_sb_csum(sb);
}

/* sb_byte -- byte i of a superblock, for bit flips */
static uint8_t *
sb_byte(struct nvfs_pm_sb *sb, size_t i)
{
	return (uint8_t *)sb + i;
}

/* hdr_csum -- owner-list header checksum: XXH3-64 (seed) over bytes 16..63 */
static uint64_t
hdr_csum(const struct nvfs_pm_owner_list_hdr *hdr, uint64_t seed)
{
	return nvfs_csum((const uint8_t *)hdr + 16, NVFS_OWNER_LIST_HDR_BYTES - 16, seed);
}

/* page_csum -- record-page checksum: XXH3-64 (seed) over bytes 16..47 */
static uint64_t
page_csum(const struct nvfs_pm_recs_page *page, uint64_t seed)
{
	return nvfs_csum((const uint8_t *)page + 16, 32, seed);
}

/* seed_a / seed_b -- the checksum seeds of the two test namespaces */
static uint64_t
seed_a(void)
{
	return nvfs_pm_seed(uuid_a);
}

static uint64_t
seed_b(void)
{
	return nvfs_pm_seed(uuid_b);
}

/* make_head -- a live owner head for slot, committed with seed */
static void
make_head(struct nvfs_pm_owner_head *head, unsigned slot, uint64_t seed,
	  const uint8_t uuid[NVFS_UUID_BYTES], const char *label, uint64_t recs_off)
{
	memset(head, 0, sizeof(*head));
	memcpy(head->uuid, uuid, NVFS_UUID_BYTES);
	if (label)
		memcpy(head->label, label, strlen(label));
	head->recs_off[0] = recs_off;
	head->commit = nvfs_ns_owner_commit(seed, slot, head);
}

/* recommit -- recompute the commit word after a change */
static void
recommit(struct nvfs_pm_owner_head *head, unsigned slot, uint64_t seed)
{
	head->commit = nvfs_ns_owner_commit(seed, slot, head);
}

/* new_page -- a heap record page (8 KiB is too large for comfort on stack) */
static struct nvfs_pm_recs_page *
new_page(uint64_t self_off, unsigned slot, const uint8_t uuid[NVFS_UUID_BYTES],
	 uint64_t next_off, uint64_t seed)
{
	struct nvfs_pm_recs_page *page = malloc(sizeof(*page));

	CU_ASSERT_PTR_NOT_NULL_FATAL(page);
	memset(page, 0xa5, sizeof(*page)); /* garbage init must overwrite */
	nvfs_ns_recs_page_init(page, self_off, slot, uuid, next_off, seed);
	return page;
}

/* now_ns -- CLOCK_REALTIME in ns */
static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ==== 1. encode/decode round trips ======================================== */

/* S1..S7: a fresh superblock is valid and every field is as specified */
static void
test_nvfs_ns_sb_init_round_trip_fields(void)
{
	struct nvfs_pm_sb sb;
	uint8_t want_label[NVFS_LABEL_BYTES] = "hello";

	memset(&sb, 0xff, sizeof(sb)); /* init must overwrite every byte */
	uint64_t t0 = now_ns();
	CU_ASSERT_EQUAL_FATAL(nvfs_ns_sb_init(&sb, NS64, uuid_a, "hello"), 0);
	uint64_t t1 = now_ns();

	EXPECT_OK(nvfs_ns_sb_check(&sb, NS64, NVFS_SB_OFF));
	EXPECT_OK(nvfs_ns_sb_check(&sb, NS64, NVFS_SB_BACKUP_OFF));
	CU_ASSERT_EQUAL(sb.magic, NVFS_SB_MAGIC);
	CU_ASSERT_EQUAL(memcmp(&sb.magic, "nvfsNS01", 8), 0);
	CU_ASSERT_EQUAL(sb.csum, nvfs_ns_sb_csum(&sb));
	CU_ASSERT_EQUAL(sb.version, NVFS_FORMAT_VERSION);
	CU_ASSERT_EQUAL(sb.sb_bytes, NVFS_SB_BYTES);
	CU_ASSERT_EQUAL(sb.feature_compat, 0);
	CU_ASSERT_EQUAL(sb.feature_incompat, 0);
	CU_ASSERT_EQUAL(sb.feature_ro_compat, 0);
	CU_ASSERT_EQUAL(memcmp(sb.ns_uuid, uuid_a, NVFS_UUID_BYTES), 0);
	CU_ASSERT_EQUAL(memcmp(sb.label, want_label, NVFS_LABEL_BYTES), 0);
	CU_ASSERT_EQUAL(sb.page_bytes, NVFS_PAGE_BYTES);
	CU_ASSERT_EQUAL(sb.recs_page_bytes, NVFS_RECS_PAGE_BYTES);
	CU_ASSERT_EQUAL(sb.nr_namespaces, 1);
	CU_ASSERT_EQUAL(sb.this_namespace, 0);
	CU_ASSERT_EQUAL(sb.ns_bytes, NS64);
	CU_ASSERT_EQUAL(sb.owner_list_off, NVFS_OWNER_LIST_OFF);
	CU_ASSERT_EQUAL(sb.recs_area_off, NVFS_RECS_AREA_OFF);
	CU_ASSERT_EQUAL(sb.recs_area_pages, NVFS_RECS_PAGES);
	CU_ASSERT_EQUAL(sb.recs_area_pages, 2046);
	CU_ASSERT_EQUAL(sb.max_order, NVFS_MAX_ORDER);
	CU_ASSERT_EQUAL(sb.reserved0, 0);
	CU_ASSERT_EQUAL(sb.pages_off, NVFS_PAGES_OFF);
	CU_ASSERT_EQUAL(sb.pages_total, (NS64 - NVFS_PAGES_OFF) / 4096);
	CU_ASSERT_EQUAL(sb.pages_total, NS64_PAGES);
	CU_ASSERT(sb.format_time_ns >= t0 && sb.format_time_ns <= t1);
	for (unsigned i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(sb.reserved[i], 0);
	CU_ASSERT_EQUAL(nvfs_ns_seed(&sb), nvfs_pm_seed(uuid_a));
}

/* S5: ns_bytes is rounded down to whole pages, pages_total follows */
static void
test_nvfs_ns_sb_init_rounds_ns_bytes_down(void)
{
	struct nvfs_pm_sb sb;

	CU_ASSERT_EQUAL_FATAL(nvfs_ns_sb_init(&sb, NS64 + 4095, uuid_a, NULL), 0);
	CU_ASSERT_EQUAL(sb.ns_bytes, NS64);
	CU_ASSERT_EQUAL(sb.pages_total, NS64_PAGES);
	EXPECT_OK(nvfs_ns_sb_check(&sb, NS64, NVFS_SB_OFF));

	CU_ASSERT_EQUAL_FATAL(nvfs_ns_sb_init(&sb, NS64 + 4096 + 1, uuid_a, NULL), 0);
	CU_ASSERT_EQUAL(sb.ns_bytes, NS64 + 4096);
	CU_ASSERT_EQUAL(sb.pages_total, NS64_PAGES + 1);

	/* the smallest namespace, and one byte short of a page above it */
	CU_ASSERT_EQUAL_FATAL(nvfs_ns_sb_init(&sb, NVFS_MIN_NS_BYTES + 4095, uuid_a,
					      NULL), 0);
	CU_ASSERT_EQUAL(sb.ns_bytes, NVFS_MIN_NS_BYTES);
	CU_ASSERT_EQUAL(sb.pages_total, 256);
	EXPECT_OK(nvfs_ns_sb_check(&sb, NVFS_MIN_NS_BYTES, NVFS_SB_OFF));
}

/* S7: NULL label -> all zero; a 31-byte label is copied and NUL-terminated */
static void
test_nvfs_ns_sb_init_label_null_and_max(void)
{
	struct nvfs_pm_sb sb;
	const char *l31 = "abcdefghijklmnopqrstuvwxyz01234";

	CU_ASSERT_EQUAL_FATAL(strlen(l31), 31);
	memset(&sb, 0xff, sizeof(sb));
	CU_ASSERT_EQUAL_FATAL(nvfs_ns_sb_init(&sb, NS64, uuid_a, NULL), 0);
	CU_ASSERT_TRUE(all_bytes(sb.label, NVFS_LABEL_BYTES, 0));
	EXPECT_OK(nvfs_ns_sb_check(&sb, NS64, NVFS_SB_OFF));

	memset(&sb, 0xff, sizeof(sb));
	CU_ASSERT_EQUAL_FATAL(nvfs_ns_sb_init(&sb, NS64, uuid_a, l31), 0);
	CU_ASSERT_EQUAL(memcmp(sb.label, l31, 31), 0);
	CU_ASSERT_EQUAL(sb.label[31], 0);
	EXPECT_OK(nvfs_ns_sb_check(&sb, NS64, NVFS_SB_OFF));
}

/* S5: a namespace below NVFS_MIN_NS_BYTES (after rounding) is refused */
static void
test_nvfs_ns_sb_init_rejects_too_small(void)
{
	struct nvfs_pm_sb sb;

	EXPECT_ERR(nvfs_ns_sb_init(&sb, 0, uuid_a, NULL), -EINVAL, "too small", NULL);
	EXPECT_ERR(nvfs_ns_sb_init(&sb, NVFS_PAGES_OFF, uuid_a, NULL), -EINVAL,
		   "too small", NULL);
	EXPECT_ERR(nvfs_ns_sb_init(&sb, NVFS_MIN_NS_BYTES - 1, uuid_a, NULL), -EINVAL,
		   "too small", NULL);
	EXPECT_ERR(nvfs_ns_sb_init(&sb, NVFS_MIN_NS_BYTES - 4096, uuid_a, NULL),
		   -EINVAL, "too small", NULL);
	EXPECT_OK(nvfs_ns_sb_init(&sb, NVFS_MIN_NS_BYTES, uuid_a, NULL));
}

/* S7: a 32-byte label cannot be NUL-terminated in the field */
static void
test_nvfs_ns_sb_init_rejects_long_label(void)
{
	struct nvfs_pm_sb sb;
	const char *l32 = "abcdefghijklmnopqrstuvwxyz012345";

	CU_ASSERT_EQUAL_FATAL(strlen(l32), 32);
	EXPECT_ERR(nvfs_ns_sb_init(&sb, NS64, uuid_a, l32), -EINVAL, "label", NULL);
}

/* S2: the checksum is XXH3-64 seed 0 over bytes 16..255, magic excluded */
static void
test_nvfs_ns_sb_csum_covers_bytes_16_to_255(void)
{
	struct nvfs_pm_sb sb;

	make_sb(&sb, NS64);
	CU_ASSERT_EQUAL(nvfs_ns_sb_csum(&sb),
			nvfs_csum((const uint8_t *)&sb + 16, NVFS_SB_BYTES - 16, 0));
	uint64_t c = nvfs_ns_sb_csum(&sb);
	sb.magic = 0; /* format writes both copies with magic 0 first */
	sb.csum ^= 1;
	CU_ASSERT_EQUAL(nvfs_ns_sb_csum(&sb), c);
	sb.reserved[7] = 1;
	CU_ASSERT_NOT_EQUAL(nvfs_ns_sb_csum(&sb), c);
}

/* O1: the owner-list header round trip; its checksum is seeded by the ns */
static void
test_nvfs_ns_owner_list_hdr_init_round_trip(void)
{
	struct nvfs_pm_owner_list_hdr hdr;

	memset(&hdr, 0xff, sizeof(hdr));
	nvfs_ns_owner_list_hdr_init(&hdr, seed_a());
	CU_ASSERT_EQUAL(hdr.magic, NVFS_OWNER_LIST_MAGIC);
	CU_ASSERT_EQUAL(memcmp(&hdr.magic, "nvfsOL01", 8), 0);
	CU_ASSERT_EQUAL(hdr.owner_slots, NVFS_OWNER_SLOTS);
	CU_ASSERT_EQUAL(hdr.owner_slots, 63);
	CU_ASSERT_EQUAL(hdr.owner_bytes, NVFS_OWNER_HEAD_BYTES);
	for (unsigned i = 0; i < sizeof(hdr.reserved); i++)
		CU_ASSERT_EQUAL(hdr.reserved[i], 0);
	CU_ASSERT_EQUAL(hdr.csum, hdr_csum(&hdr, seed_a())); /* bytes 16..63 */
	EXPECT_OK(nvfs_ns_owner_list_hdr_check(&hdr, seed_a()));
}

/*
 * O1: the commit word is XXH3-64 (seed) over (slot le32, uuid, label), never
 * 0, and changes with slot, uuid, label and seed.
 */
static void
test_nvfs_ns_owner_commit_depends_on_slot_uuid_label(void)
{
	struct nvfs_pm_owner_head h, h2;
	uint8_t buf[4 + NVFS_UUID_BYTES + NVFS_LABEL_BYTES];
	uint32_t slot = 7;

	make_head(&h, 7, seed_a(), uuid_a, "owner", 0);
	memcpy(buf, &slot, 4);
	memcpy(buf + 4, h.uuid, NVFS_UUID_BYTES);
	memcpy(buf + 4 + NVFS_UUID_BYTES, h.label, NVFS_LABEL_BYTES);
	uint64_t want = nvfs_csum(buf, sizeof(buf), seed_a());
	CU_ASSERT_EQUAL(h.commit, want ? want : 1);
	CU_ASSERT_NOT_EQUAL(h.commit, 0);

	uint64_t c = h.commit;
	CU_ASSERT_NOT_EQUAL(nvfs_ns_owner_commit(seed_a(), 8, &h), c);
	CU_ASSERT_NOT_EQUAL(nvfs_ns_owner_commit(seed_a(), 0, &h), c);
	CU_ASSERT_NOT_EQUAL(nvfs_ns_owner_commit(seed_b(), 7, &h), c);
	h2 = h;
	h2.uuid[15] ^= 1;
	CU_ASSERT_NOT_EQUAL(nvfs_ns_owner_commit(seed_a(), 7, &h2), c);
	h2 = h;
	h2.label[31] = 1; /* even a byte after the text */
	CU_ASSERT_NOT_EQUAL(nvfs_ns_owner_commit(seed_a(), 7, &h2), c);

	/* the other fields are not covered: recs_off[0] changes by a store */
	h2 = h;
	h2.recs_off[0] = nvfs_ns_recs_off(5);
	h2.reserved0 = 3;
	h2.commit = 12345;
	CU_ASSERT_EQUAL(nvfs_ns_owner_commit(seed_a(), 7, &h2), c);

	/* never 0, over many heads and slots */
	uint64_t st = nvfs_test_seed();
	unsigned n = 20000 / nvfs_test_scale_div();
	for (unsigned i = 0; i < n; i++) {
		uint64_t r1 = nvfs_test_rand(&st), r2 = nvfs_test_rand(&st);
		memcpy(h2.uuid, &r1, 8);
		memcpy(h2.uuid + 8, &r2, 8);
		uint64_t s = nvfs_test_rand(&st);
		if (nvfs_ns_owner_commit(s, i % NVFS_OWNER_SLOTS, &h2) == 0) {
			CU_FAIL("owner commit is 0");
			break;
		}
	}
}

/* O1..O4: heads built with nvfs_ns_owner_commit pass the head check */
static void
test_nvfs_ns_owner_head_check_accepts_valid_head(void)
{
	struct nvfs_pm_owner_head h;

	for (unsigned slot = 0; slot < NVFS_OWNER_SLOTS; slot++) {
		make_head(&h, slot, seed_a(), uuid_b, "label", 0);
		EXPECT_OK(nvfs_ns_owner_head_check(&h, slot, seed_a()));
	}
	make_head(&h, 0, seed_a(), uuid_b, NULL, nvfs_ns_recs_off(0));
	EXPECT_OK(nvfs_ns_owner_head_check(&h, 0, seed_a()));
	make_head(&h, 62, seed_a(), uuid_b, "abcdefghijklmnopqrstuvwxyz01234",
		  nvfs_ns_recs_off(NVFS_RECS_PAGES - 1));
	EXPECT_OK(nvfs_ns_owner_head_check(&h, 62, seed_a()));
}

/* P1..P5: a fresh record page holds the given fields and no records */
static void
test_nvfs_ns_recs_page_init_round_trip(void)
{
	uint64_t self = nvfs_ns_recs_off(3), next = nvfs_ns_recs_off(9);
	struct nvfs_pm_recs_page *p = new_page(self, 5, uuid_b, next, seed_a());

	CU_ASSERT_EQUAL(p->magic, NVFS_RECS_MAGIC);
	CU_ASSERT_EQUAL(memcmp(&p->magic, "nvfsRP01", 8), 0);
	CU_ASSERT_EQUAL(p->csum, page_csum(p, seed_a())); /* bytes 16..47 */
	CU_ASSERT_EQUAL(memcmp(p->owner_uuid, uuid_b, NVFS_UUID_BYTES), 0);
	CU_ASSERT_EQUAL(p->owner_slot, 5);
	CU_ASSERT_EQUAL(p->nr_recs, NVFS_RECS_PER_PAGE);
	CU_ASSERT_EQUAL(p->nr_recs, 1016);
	CU_ASSERT_EQUAL(p->self_off, self);
	CU_ASSERT_EQUAL(p->next_off, next);
	CU_ASSERT_EQUAL(p->reserved, 0);
	unsigned nonzero = 0;
	for (unsigned i = 0; i < NVFS_RECS_PER_PAGE; i++)
		nonzero += p->recs[i] != 0;
	CU_ASSERT_EQUAL(nonzero, 0);
	EXPECT_OK(nvfs_ns_recs_page_check(p, self, 5, uuid_b, seed_a()));
	free(p);

	p = new_page(nvfs_ns_recs_off(NVFS_RECS_PAGES - 1), 62, uuid_a, 0, seed_b());
	EXPECT_OK(nvfs_ns_recs_page_check(p, nvfs_ns_recs_off(NVFS_RECS_PAGES - 1), 62,
					  uuid_a, seed_b()));
	free(p);
}

/* A1..A3: the record word encodes pgoff (52 bits) and order (6 bits) */
static void
test_nvfs_pm_rec_encode_decode_boundaries(void)
{
	const uint64_t pmax = NVFS_REC_PGOFF_MASK;
	const uint64_t pgoffs[] = { 0, 1, NS64_FIRST, UINT64_C(1) << 32,
				    pmax - 1, pmax };
	const unsigned orders[] = { 0, 1, 12, NVFS_MAX_ORDER - 1 };

	CU_ASSERT_EQUAL(pmax, (UINT64_C(1) << 52) - 1);
	for (unsigned i = 0; i < sizeof(pgoffs) / sizeof(pgoffs[0]); i++)
		for (unsigned j = 0; j < sizeof(orders) / sizeof(orders[0]); j++) {
			uint64_t r = nvfs_pm_rec_encode(pgoffs[i], orders[j]);
			CU_ASSERT_EQUAL(nvfs_pm_rec_pgoff(r), pgoffs[i]);
			CU_ASSERT_EQUAL(nvfs_pm_rec_order(r), orders[j]);
			CU_ASSERT_EQUAL(nvfs_pm_rec_high_bits(r), 0);
		}
	/* exact bit positions */
	CU_ASSERT_EQUAL(nvfs_pm_rec_encode(pmax, 19),
			pmax | (UINT64_C(19) << 52));
	CU_ASSERT_EQUAL(nvfs_pm_rec_encode(1, 0), 1);
	CU_ASSERT_EQUAL(nvfs_pm_rec_encode(0, 1), UINT64_C(1) << 52);
	/* encode never sets the high bits, even for out-of-range arguments */
	CU_ASSERT_EQUAL(nvfs_pm_rec_high_bits(nvfs_pm_rec_encode(UINT64_MAX, 63)), 0);
	CU_ASSERT_EQUAL(nvfs_pm_rec_encode(UINT64_MAX, 63), UINT64_C(0x03ffffffffffffff));
	/* decode of a word with high bits set */
	uint64_t w = UINT64_MAX;
	CU_ASSERT_EQUAL(nvfs_pm_rec_pgoff(w), pmax);
	CU_ASSERT_EQUAL(nvfs_pm_rec_order(w), 63);
	CU_ASSERT_EQUAL(nvfs_pm_rec_high_bits(w), UINT64_C(0xfc00000000000000));
	for (unsigned b = 58; b < 64; b++)
		CU_ASSERT_EQUAL(nvfs_pm_rec_high_bits(UINT64_C(1) << b), UINT64_C(1) << b);
	CU_ASSERT_EQUAL(nvfs_pm_rec_high_bits(UINT64_C(1) << 57), 0);
}

/* uuid text form: canonical lower-case, parse is its inverse */
static void
test_nvfs_ns_uuid_str_parse_round_trip(void)
{
	char buf[37];
	uint8_t u[NVFS_UUID_BYTES];

	memset(buf, 'x', sizeof(buf));
	nvfs_ns_uuid_str(uuid_a, buf);
	CU_ASSERT_STRING_EQUAL(buf, uuid_a_str);
	EXPECT_OK(nvfs_ns_uuid_parse(buf, u));
	CU_ASSERT_EQUAL(memcmp(u, uuid_a, NVFS_UUID_BYTES), 0);

	EXPECT_OK(nvfs_ns_uuid_parse("12345678-9ABC-4DEF-8001-020304050607", u));
	CU_ASSERT_EQUAL(memcmp(u, uuid_a, NVFS_UUID_BYTES), 0);

	nvfs_ns_uuid_str(uuid_zero, buf);
	CU_ASSERT_STRING_EQUAL(buf, "00000000-0000-0000-0000-000000000000");
	uint8_t ff[NVFS_UUID_BYTES];
	memset(ff, 0xff, sizeof(ff));
	nvfs_ns_uuid_str(ff, buf);
	CU_ASSERT_STRING_EQUAL(buf, "ffffffff-ffff-ffff-ffff-ffffffffffff");
	EXPECT_OK(nvfs_ns_uuid_parse(buf, u));
	CU_ASSERT_EQUAL(memcmp(u, ff, NVFS_UUID_BYTES), 0);

	/* random version-4 uuids */
	for (unsigned i = 0; i < 64; i++) {
		uint8_t g[NVFS_UUID_BYTES];
		CU_ASSERT_EQUAL_FATAL(nvfs_ns_uuid_generate(g), 0);
		CU_ASSERT_EQUAL(g[6] >> 4, 4);
		CU_ASSERT_EQUAL(g[8] >> 6, 2);
		nvfs_ns_uuid_str(g, buf);
		CU_ASSERT_EQUAL(strlen(buf), 36);
		EXPECT_OK(nvfs_ns_uuid_parse(buf, u));
		CU_ASSERT_EQUAL(memcmp(u, g, NVFS_UUID_BYTES), 0);
	}
}

/* uuid parse: anything but 8-4-4-4-12 hex digits is -EINVAL */
static void
test_nvfs_ns_uuid_parse_rejects_malformed(void)
{
	static const char *const bad[] = {
		"",
		"12345678-9abc-4def-8001-02030405060",    /* short (35) */
		"12345678-9abc-4def-8001-0203040506",     /* short (34) */
		"12345678-9abc-4def-8001-0203040506070",  /* long (37) */
		"12345678-9abc-4def-8001-020304050607-",  /* trailing dash */
		"12345678-9abc-4def-8001-020304050607 ",  /* trailing space */
		"12345678-9abc-4def-8001-02030405060700", /* long (38) */
		"g2345678-9abc-4def-8001-020304050607",   /* bad hex */
		"12345678-9abc-4def-8001-02030405060z",   /* bad hex, last */
		"12345678-9abc-4dxf-8001-020304050607",   /* bad hex, middle */
		"12345678-9abc-4def-8001 020304050607",   /* space for dash */
		"1234567-89abc-4def-8001-020304050607",   /* dash at 7 */
		"123456789-abc-4def-8001-020304050607",   /* dash at 9 */
		"12345678-9abc4-def-8001-020304050607",   /* dash at 14 */
		"12345678-9abc-4def-80010-20304050607",   /* dash at 24 */
		"123456789abc4def8001020304050607",       /* no dashes (32) */
		"123456789abc4def80010203040506070809",   /* 36 hex digits */
		"12345678--9abc-4def-8001-0203040506",    /* double dash */
		"{2345678-9abc-4def-8001-020304050607",
		"-12345678-9abc-4def-8001-02030405060",
	};
	uint8_t out[2 * NVFS_UUID_BYTES];

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(out, 0xee, sizeof(out));
		EXPECT_ERR(nvfs_ns_uuid_parse(bad[i], out), -EINVAL, "uuid", NULL);
		/* never writes past the 16 bytes */
		for (unsigned j = NVFS_UUID_BYTES; j < sizeof(out); j++)
			CU_ASSERT_EQUAL(out[j], 0xee);
	}
}

/* S7, O3: label text, then only NULs */
static void
test_nvfs_ns_label_ok_forms(void)
{
	uint8_t l[NVFS_LABEL_BYTES];

	memset(l, 0, sizeof(l));
	CU_ASSERT_TRUE(nvfs_ns_label_ok(l));
	memcpy(l, "abc", 3);
	CU_ASSERT_TRUE(nvfs_ns_label_ok(l));
	l[4] = 'd';                          /* "abc\0d" */
	CU_ASSERT_FALSE(nvfs_ns_label_ok(l));
	memset(l, 0, sizeof(l));
	l[31] = 1;                           /* empty text, garbage at the end */
	CU_ASSERT_FALSE(nvfs_ns_label_ok(l));
	memset(l, 'a', 31);
	l[31] = 0;                           /* 31 bytes of text */
	CU_ASSERT_TRUE(nvfs_ns_label_ok(l));
	/*
	 * 32 bytes of text and no NUL: S7/O3 only constrain bytes after the
	 * first NUL, and there are none.
	 */
	memset(l, 'a', 32);
	CU_ASSERT_TRUE(nvfs_ns_label_ok(l));
}

/* ==== 2. superblock rejections ============================================ */

/* S1: a wrong magic is "not an nvfs namespace" */
static void
test_nvfs_ns_sb_check_bad_magic(void)
{
	struct nvfs_pm_sb sb;

	make_sb(&sb, NS64);
	sb.magic = 0;
	EXPECT_ERR(nvfs_ns_sb_check(&sb, NS64, NVFS_SB_OFF), -EMEDIUMTYPE, "magic", "(S1)");
	sb.magic = NVFS_SB_MAGIC ^ (UINT64_C(1) << 63);
	EXPECT_ERR(nvfs_ns_sb_check(&sb, NS64, NVFS_SB_OFF), -EMEDIUMTYPE, "magic", "(S1)");
	sb.magic = NVFS_OWNER_LIST_MAGIC;
	EXPECT_ERR(nvfs_ns_sb_check(&sb, NS64, NVFS_SB_BACKUP_OFF), -EMEDIUMTYPE,
		   "magic", "(S1)");
	CU_ASSERT(msg_has(nvfs_errmsg(), "0x1800")); /* names the copy */
}

/* S3: version 0 and versions newer than this build, checksum correct */
static void
test_nvfs_ns_sb_check_version_unsupported(void)
{
	const uint32_t bad[] = { 0, NVFS_FORMAT_VERSION + 1, 0x100, UINT32_MAX };
	struct nvfs_pm_sb sb;

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		make_sb(&sb, NS64);
		sb.version = bad[i];
		resum_sb(&sb);
		EXPECT_ERR(nvfs_ns_sb_check(&sb, NS64, NVFS_SB_OFF), -EPROTONOSUPPORT,
			   "version", "(S3)");
	}
}

/* S3: sb_bytes must be 256 */
static void
test_nvfs_ns_sb_check_sb_bytes_wrong(void)
{
	const uint32_t bad[] = { 0, 255, 257, 512, 4096 };
	struct nvfs_pm_sb sb;

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		make_sb(&sb, NS64);
		sb.sb_bytes = bad[i];
		resum_sb(&sb);
		EXPECT_ERR(nvfs_ns_sb_check(&sb, NS64, NVFS_SB_OFF), -EUCLEAN,
			   "sb_bytes", "(S3)");
	}
}

/*
 * S2: one flipped bit in the checksummed bytes (24..255 here; 16..23 in
 * the next test) or in csum itself, with the old checksum -> -EBADMSG.
 */
static void
test_nvfs_ns_sb_check_flipped_bit_old_csum(void)
{
	struct nvfs_pm_sb sb;

	for (size_t off = 8; off < NVFS_SB_BYTES; off++) {
		if (off >= 16 && off < 24)
			continue;
		make_sb(&sb, NS64);
		*sb_byte(&sb, off) ^= (uint8_t)(1u << (off % 8));
		EXPECT_ERR(nvfs_ns_sb_check(&sb, NS64, NVFS_SB_OFF), -EBADMSG,
			   "checksum", "(S2)");
	}
}

/*
 * S2: a flipped bit in version (bytes 16..19, covered by the checksum) with
 * the old checksum is a checksum mismatch, not "format version newer than
 * this build": a field cannot be trusted before the checksum over it is.
 */
static void
test_nvfs_ns_sb_check_flipped_version_bit_old_csum(void)
{
	struct nvfs_pm_sb sb;

	for (size_t off = 16; off < 20; off++) {
		make_sb(&sb, NS64);
		*sb_byte(&sb, off) ^= (uint8_t)(1u << (off % 8)); /* v1 -> 0, 2^8+1, ... */
		EXPECT_ERR(nvfs_ns_sb_check(&sb, NS64, NVFS_SB_OFF), -EBADMSG,
			   "checksum", "(S2)");
	}
}

/* S2: the same for sb_bytes (bytes 20..23): a flip is a checksum mismatch */
static void
test_nvfs_ns_sb_check_flipped_sb_bytes_bit_old_csum(void)
{
	struct nvfs_pm_sb sb;

	for (size_t off = 20; off < 24; off++) {
		make_sb(&sb, NS64);
		*sb_byte(&sb, off) ^= (uint8_t)(1u << (off % 8));
		EXPECT_ERR(nvfs_ns_sb_check(&sb, NS64, NVFS_SB_OFF), -EBADMSG,
			   "checksum", "(S2)");
	}
}

/* S4: an unknown incompatible feature bit refuses the namespace */
static void
test_nvfs_ns_sb_check_unknown_incompat_feature(void)
{
	const unsigned bits[] = { 0, 1, 17, 63 };
	struct nvfs_pm_sb sb;

	for (unsigned i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		make_sb(&sb, NS64);
		sb.feature_incompat = UINT64_C(1) << bits[i];
		resum_sb(&sb);
		EXPECT_ERR(nvfs_ns_sb_check(&sb, NS64, NVFS_SB_OFF), -EOPNOTSUPP,
			   "feature_incompat", "(S4)");
	}
}

/* S4: unknown compat bits are ignored; ro_compat is the opener's business */
static void
test_nvfs_ns_sb_check_unknown_compat_feature_accepted(void)
{
	struct nvfs_pm_sb sb;

	make_sb(&sb, NS64);
	sb.feature_compat = UINT64_MAX;
	resum_sb(&sb);
	EXPECT_OK(nvfs_ns_sb_check(&sb, NS64, NVFS_SB_OFF));
	make_sb(&sb, NS64);
	sb.feature_ro_compat = UINT64_C(1) << 5;
	resum_sb(&sb);
	EXPECT_OK(nvfs_ns_sb_check(&sb, NS64, NVFS_SB_OFF));
}

/* S5: every geometry field must equal its constant (checksum recomputed) */
static void
test_nvfs_ns_sb_check_geometry_field_changed(void)
{
	struct nvfs_pm_sb sb;

#define GEOM_CASE(field, value)                                                    \
	do {                                                                       \
		make_sb(&sb, NS64);                                                \
		sb.field = (value);                                                \
		resum_sb(&sb);                                                     \
		EXPECT_ERR(nvfs_ns_sb_check(&sb, NS64, NVFS_SB_OFF), -EUCLEAN,     \
			   #field, "(S5)");                                        \
	} while (0)
	GEOM_CASE(page_bytes, 8192);
	GEOM_CASE(page_bytes, 0);
	GEOM_CASE(recs_page_bytes, 4096);
	GEOM_CASE(owner_list_off, 0);
	GEOM_CASE(owner_list_off, NVFS_OWNER_LIST_OFF + 64);
	GEOM_CASE(recs_area_off, NVFS_RECS_AREA_OFF + NVFS_RECS_PAGE_BYTES);
	GEOM_CASE(recs_area_pages, NVFS_RECS_PAGES + 1);
	GEOM_CASE(recs_area_pages, NVFS_RECS_PAGES - 1);
	GEOM_CASE(max_order, NVFS_MAX_ORDER + 1);
	GEOM_CASE(max_order, NVFS_MAX_ORDER - 1);
	GEOM_CASE(pages_off, NVFS_PAGES_OFF + MIB);
	GEOM_CASE(pages_off, 0);
	GEOM_CASE(pages_total, NS64_PAGES + 1);
	GEOM_CASE(pages_total, NS64_PAGES - 1);
	GEOM_CASE(pages_total, 0);
#undef GEOM_CASE
}

/* S5: the offset in the message is that of the field in the given copy */
static void
test_nvfs_ns_sb_check_message_names_field_offset(void)
{
	struct nvfs_pm_sb sb;

	make_sb(&sb, NS64);
	sb.page_bytes = 1;
	resum_sb(&sb);
	/* backup copy at 0x1800, page_bytes at +112 = 0x1870 */
	EXPECT_ERR(nvfs_ns_sb_check(&sb, NS64, NVFS_SB_BACKUP_OFF), -EUCLEAN,
		   "0x1870", "(S5)");
	EXPECT_ERR(nvfs_ns_sb_check(&sb, NS64, NVFS_SB_OFF), -EUCLEAN, "0x1070", "(S5)");
}

/* S5: ns_bytes must be a whole number of pages */
static void
test_nvfs_ns_sb_check_ns_bytes_not_page_multiple(void)
{
	const uint64_t deltas[] = { 1, 512, 4095 };
	struct nvfs_pm_sb sb;

	for (unsigned i = 0; i < sizeof(deltas) / sizeof(deltas[0]); i++) {
		make_sb(&sb, NS64);
		sb.ns_bytes = NS64 - 4096 + deltas[i]; /* pages_total still matches */
		resum_sb(&sb);
		EXPECT_ERR(nvfs_ns_sb_check(&sb, NS64, NVFS_SB_OFF), -EUCLEAN,
			   "ns_bytes", "(S5)");
	}
}

/* S5: ns_bytes below NVFS_MIN_NS_BYTES (pages_total < 256), consistent */
static void
test_nvfs_ns_sb_check_ns_bytes_too_small(void)
{
	const uint64_t bad[] = { NVFS_MIN_NS_BYTES - 4096, NVFS_PAGES_OFF, 4096, 0 };
	struct nvfs_pm_sb sb;

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		make_sb(&sb, NS64);
		sb.ns_bytes = bad[i];
		sb.pages_total = bad[i] > NVFS_PAGES_OFF
				 ? (bad[i] - NVFS_PAGES_OFF) / NVFS_PAGE_BYTES : 0;
		resum_sb(&sb);
		EXPECT_ERR(nvfs_ns_sb_check(&sb, NS64, NVFS_SB_OFF), -EUCLEAN,
			   "ns_bytes", "(S5)");
	}
	/* the smallest valid one, by hand */
	make_sb(&sb, NS64);
	sb.ns_bytes = NVFS_MIN_NS_BYTES;
	sb.pages_total = 256;
	resum_sb(&sb);
	EXPECT_OK(nvfs_ns_sb_check(&sb, NS64, NVFS_SB_OFF));
}

/* S6: the namespace must fit the file or device */
static void
test_nvfs_ns_sb_check_ns_bytes_exceeds_device(void)
{
	struct nvfs_pm_sb sb;

	make_sb(&sb, NS64);
	EXPECT_OK(nvfs_ns_sb_check(&sb, NS64, NVFS_SB_OFF));
	EXPECT_OK(nvfs_ns_sb_check(&sb, NS64 + 1, NVFS_SB_OFF));
	EXPECT_ERR(nvfs_ns_sb_check(&sb, NS64 - 1, NVFS_SB_OFF), -EUCLEAN,
		   "ns_bytes", "(S6)");
	EXPECT_ERR(nvfs_ns_sb_check(&sb, NVFS_MIN_NS_BYTES, NVFS_SB_OFF), -EUCLEAN,
		   "ns_bytes", "(S6)");
	EXPECT_ERR(nvfs_ns_sb_check(&sb, 0, NVFS_SB_OFF), -EUCLEAN, "ns_bytes", "(S6)");
}

/* S7: nr_namespaces == 1 and this_namespace == 0 */
static void
test_nvfs_ns_sb_check_nr_namespaces_this_namespace(void)
{
	struct nvfs_pm_sb sb;

	make_sb(&sb, NS64);
	sb.nr_namespaces = 2;
	resum_sb(&sb);
	EXPECT_ERR(nvfs_ns_sb_check(&sb, NS64, NVFS_SB_OFF), -EUCLEAN,
		   "nr_namespaces", "(S7)");
	make_sb(&sb, NS64);
	sb.nr_namespaces = 0;
	resum_sb(&sb);
	EXPECT_ERR(nvfs_ns_sb_check(&sb, NS64, NVFS_SB_OFF), -EUCLEAN,
		   "nr_namespaces", "(S7)");
	make_sb(&sb, NS64);
	sb.this_namespace = 1;
	resum_sb(&sb);
	EXPECT_ERR(nvfs_ns_sb_check(&sb, NS64, NVFS_SB_OFF), -EUCLEAN,
		   "this_namespace", "(S7)");
}

/* S7: reserved0 and every word of reserved[] must be 0 */
static void
test_nvfs_ns_sb_check_reserved_set(void)
{
	struct nvfs_pm_sb sb;

	make_sb(&sb, NS64);
	sb.reserved0 = 1;
	resum_sb(&sb);
	EXPECT_ERR(nvfs_ns_sb_check(&sb, NS64, NVFS_SB_OFF), -EUCLEAN, "reserved", "(S7)");
	for (unsigned i = 0; i < 8; i++) {
		make_sb(&sb, NS64);
		sb.reserved[i] = UINT64_C(1) << (i * 8 + 7);
		resum_sb(&sb);
		EXPECT_ERR(nvfs_ns_sb_check(&sb, NS64, NVFS_SB_OFF), -EUCLEAN,
			   "reserved", "(S7)");
	}
}

/* S7: label bytes after the first NUL must be 0 */
static void
test_nvfs_ns_sb_check_label_garbage_after_nul(void)
{
	struct nvfs_pm_sb sb;

	make_sb(&sb, NS64); /* "test" */
	sb.label[5] = 'x';
	resum_sb(&sb);
	EXPECT_ERR(nvfs_ns_sb_check(&sb, NS64, NVFS_SB_OFF), -EUCLEAN, "label", "(S7)");
	make_sb(&sb, NS64);
	sb.label[31] = 0x80;
	resum_sb(&sb);
	EXPECT_ERR(nvfs_ns_sb_check(&sb, NS64, NVFS_SB_OFF), -EUCLEAN, "label", "(S7)");
}

/* ==== 3. owner-list header ================================================ */

/* owner-list header: wrong magic (no rule tag in nvfs_format.h) */
static void
test_nvfs_ns_owner_list_hdr_check_bad_magic(void)
{
	struct nvfs_pm_owner_list_hdr hdr;

	nvfs_ns_owner_list_hdr_init(&hdr, seed_a());
	hdr.magic = NVFS_SB_MAGIC;
	EXPECT_ERR(nvfs_ns_owner_list_hdr_check(&hdr, seed_a()), -EUCLEAN, "magic", NULL);
	hdr.magic = 0;
	EXPECT_ERR(nvfs_ns_owner_list_hdr_check(&hdr, seed_a()), -EUCLEAN, "magic", NULL);
}

/* owner-list header: any flipped bit in bytes 8..63 is a checksum error */
static void
test_nvfs_ns_owner_list_hdr_check_bad_csum(void)
{
	struct nvfs_pm_owner_list_hdr hdr;

	for (size_t off = 8; off < NVFS_OWNER_LIST_HDR_BYTES; off++) {
		nvfs_ns_owner_list_hdr_init(&hdr, seed_a());
		((uint8_t *)&hdr)[off] ^= (uint8_t)(1u << (off % 8));
		EXPECT_ERR(nvfs_ns_owner_list_hdr_check(&hdr, seed_a()), -EBADMSG,
			   "checksum", NULL);
	}
}

/* owner-list header: owner_slots / owner_bytes wrong (checksum recomputed) */
static void
test_nvfs_ns_owner_list_hdr_check_wrong_geometry(void)
{
	struct nvfs_pm_owner_list_hdr hdr;

	nvfs_ns_owner_list_hdr_init(&hdr, seed_a());
	hdr.owner_slots = 64;
	hdr.csum = hdr_csum(&hdr, seed_a());
	EXPECT_ERR(nvfs_ns_owner_list_hdr_check(&hdr, seed_a()), -EUCLEAN,
		   "owner_slots", NULL);
	nvfs_ns_owner_list_hdr_init(&hdr, seed_a());
	hdr.owner_slots = 0;
	hdr.csum = hdr_csum(&hdr, seed_a());
	EXPECT_ERR(nvfs_ns_owner_list_hdr_check(&hdr, seed_a()), -EUCLEAN,
		   "owner_slots", NULL);
	nvfs_ns_owner_list_hdr_init(&hdr, seed_a());
	hdr.owner_bytes = 64;
	hdr.csum = hdr_csum(&hdr, seed_a());
	EXPECT_ERR(nvfs_ns_owner_list_hdr_check(&hdr, seed_a()), -EUCLEAN,
		   "owner_bytes", NULL);
}

/* owner-list header: reserved bytes must be 0 (checksum recomputed) */
static void
test_nvfs_ns_owner_list_hdr_check_reserved_set(void)
{
	struct nvfs_pm_owner_list_hdr hdr;

	for (unsigned i = 0; i < sizeof(hdr.reserved); i++) {
		nvfs_ns_owner_list_hdr_init(&hdr, seed_a());
		hdr.reserved[i] = 1;
		hdr.csum = hdr_csum(&hdr, seed_a());
		EXPECT_ERR(nvfs_ns_owner_list_hdr_check(&hdr, seed_a()), -EUCLEAN,
			   "reserved", NULL);
	}
}

/* owner-list header checksummed with another namespace's seed is refused */
static void
test_nvfs_ns_owner_list_hdr_check_other_namespace_seed(void)
{
	struct nvfs_pm_owner_list_hdr hdr;

	CU_ASSERT_NOT_EQUAL_FATAL(seed_a(), seed_b());
	nvfs_ns_owner_list_hdr_init(&hdr, seed_b());
	EXPECT_OK(nvfs_ns_owner_list_hdr_check(&hdr, seed_b()));
	EXPECT_ERR(nvfs_ns_owner_list_hdr_check(&hdr, seed_a()), -EBADMSG,
		   "checksum", NULL);
	/* the superblock seed (0) is not the owner-list seed either */
	EXPECT_ERR(nvfs_ns_owner_list_hdr_check(&hdr, 0), -EBADMSG, "checksum", NULL);
}

/* ==== 4. owner head ======================================================= */

/* O1: a commit word that does not match (slot, uuid, label) */
static void
test_nvfs_ns_owner_head_check_commit_mismatch(void)
{
	struct nvfs_pm_owner_head h;

	make_head(&h, 4, seed_a(), uuid_b, "own", 0);
	h.commit ^= 1;
	EXPECT_ERR(nvfs_ns_owner_head_check(&h, 4, seed_a()), -EBADMSG, "commit", "(O1)");
	make_head(&h, 4, seed_a(), uuid_b, "own", 0);
	h.uuid[3] ^= 0x10;   /* uuid changed after commit */
	EXPECT_ERR(nvfs_ns_owner_head_check(&h, 4, seed_a()), -EBADMSG, "commit", "(O1)");
	make_head(&h, 4, seed_a(), uuid_b, "own", 0);
	h.label[0] = 'O';    /* label changed after commit */
	EXPECT_ERR(nvfs_ns_owner_head_check(&h, 4, seed_a()), -EBADMSG, "commit", "(O1)");
	make_head(&h, 4, seed_a(), uuid_b, "own", 0);
	h.commit = 0;        /* a free slot checked as live */
	EXPECT_ERR(nvfs_ns_owner_head_check(&h, 4, seed_a()), -EBADMSG, "commit", "(O1)");
}

/* O1: the commit depends on the slot, so a head moved to another slot fails */
static void
test_nvfs_ns_owner_head_check_moved_to_other_slot(void)
{
	struct nvfs_pm_owner_head h;

	make_head(&h, 4, seed_a(), uuid_b, "own", nvfs_ns_recs_off(1));
	EXPECT_OK(nvfs_ns_owner_head_check(&h, 4, seed_a()));
	EXPECT_ERR(nvfs_ns_owner_head_check(&h, 5, seed_a()), -EBADMSG, "commit", "(O1)");
	EXPECT_ERR(nvfs_ns_owner_head_check(&h, 0, seed_a()), -EBADMSG, "commit", "(O1)");
	EXPECT_ERR(nvfs_ns_owner_head_check(&h, 62, seed_a()), -EBADMSG, "commit", "(O1)");
}

/* O1: a head copied from another namespace (other seed) fails */
static void
test_nvfs_ns_owner_head_check_other_namespace(void)
{
	struct nvfs_pm_owner_head h;

	make_head(&h, 4, seed_b(), uuid_b, "own", 0);
	EXPECT_OK(nvfs_ns_owner_head_check(&h, 4, seed_b()));
	EXPECT_ERR(nvfs_ns_owner_head_check(&h, 4, seed_a()), -EBADMSG, "commit", "(O1)");
}

/* O2: a live head needs a non-zero uuid */
static void
test_nvfs_ns_owner_head_check_zero_uuid(void)
{
	struct nvfs_pm_owner_head h;

	make_head(&h, 2, seed_a(), uuid_zero, "own", 0);
	EXPECT_ERR(nvfs_ns_owner_head_check(&h, 2, seed_a()), -EUCLEAN, "uuid", "(O2)");
	/* one non-zero byte is enough */
	make_head(&h, 2, seed_a(), uuid_zero, "own", 0);
	h.uuid[15] = 1;
	recommit(&h, 2, seed_a());
	EXPECT_OK(nvfs_ns_owner_head_check(&h, 2, seed_a()));
}

/* O3: label bytes after the first NUL must be 0 (commit recomputed) */
static void
test_nvfs_ns_owner_head_check_label_garbage_after_nul(void)
{
	struct nvfs_pm_owner_head h;

	make_head(&h, 2, seed_a(), uuid_b, "own", 0);
	h.label[4] = 'x';
	recommit(&h, 2, seed_a());
	EXPECT_ERR(nvfs_ns_owner_head_check(&h, 2, seed_a()), -EUCLEAN, "label", "(O3)");
	make_head(&h, 2, seed_a(), uuid_b, NULL, 0);
	h.label[31] = 0xff;
	recommit(&h, 2, seed_a());
	EXPECT_ERR(nvfs_ns_owner_head_check(&h, 2, seed_a()), -EUCLEAN, "label", "(O3)");
}

/* O3: reserved0 must be 0 (not covered by the commit) */
static void
test_nvfs_ns_owner_head_check_reserved0_set(void)
{
	struct nvfs_pm_owner_head h;

	make_head(&h, 2, seed_a(), uuid_b, "own", 0);
	h.reserved0 = 1;
	EXPECT_ERR(nvfs_ns_owner_head_check(&h, 2, seed_a()), -EUCLEAN, "reserved", "(O3)");
	h.reserved0 = UINT64_C(1) << 63;
	EXPECT_ERR(nvfs_ns_owner_head_check(&h, 2, seed_a()), -EUCLEAN, "reserved", "(O3)");
}

/* O3: recs_off[1..7] (other namespaces of the set) must be 0 */
static void
test_nvfs_ns_owner_head_check_recs_off_other_namespace_set(void)
{
	struct nvfs_pm_owner_head h;

	for (unsigned i = 1; i < NVFS_MAX_NAMESPACES; i++) {
		make_head(&h, 2, seed_a(), uuid_b, "own", nvfs_ns_recs_off(0));
		h.recs_off[i] = nvfs_ns_recs_off(1); /* even a valid-looking one */
		EXPECT_ERR(nvfs_ns_owner_head_check(&h, 2, seed_a()), -EUCLEAN,
			   "recs_off", "(O3)");
	}
}

/* O4, R1: recs_off[0] must be 0 or a record-page offset */
static void
test_nvfs_ns_owner_head_check_recs_off_not_record_page(void)
{
	const uint64_t bad[] = {
		NVFS_RECS_AREA_OFF + 4096,          /* inside, misaligned */
		NVFS_RECS_AREA_OFF + 8,             /* inside, misaligned */
		NVFS_PAGES_OFF - 4096,              /* inside, misaligned */
		NVFS_RECS_AREA_OFF - NVFS_RECS_PAGE_BYTES, /* below: the owner list */
		NVFS_SB_OFF, 1,                     /* below */
		NVFS_PAGES_OFF,                     /* at the page area */
		NVFS_PAGES_OFF + NVFS_RECS_PAGE_BYTES, /* after, "aligned" */
		UINT64_MAX - 8191,                  /* far after */
	};
	struct nvfs_pm_owner_head h;

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		make_head(&h, 9, seed_a(), uuid_b, "own", bad[i]);
		EXPECT_ERR(nvfs_ns_owner_head_check(&h, 9, seed_a()), -EUCLEAN,
			   "recs_off", "(O4, R1)");
	}
	make_head(&h, 9, seed_a(), uuid_b, "own", NVFS_RECS_AREA_OFF);
	EXPECT_OK(nvfs_ns_owner_head_check(&h, 9, seed_a()));
	make_head(&h, 9, seed_a(), uuid_b, "own", NVFS_PAGES_OFF - NVFS_RECS_PAGE_BYTES);
	EXPECT_OK(nvfs_ns_owner_head_check(&h, 9, seed_a()));
}

/* ==== 5. record page ====================================================== */

#define PG_SELF  (NVFS_RECS_AREA_OFF + 10 * NVFS_RECS_PAGE_BYTES)
#define PG_NEXT  (NVFS_RECS_AREA_OFF + 20 * NVFS_RECS_PAGE_BYTES)
#define PG_SLOT  6u

/* pg_check -- check a page built with PG_SELF/PG_SLOT/uuid_b/seed_a */
static int
pg_check(const struct nvfs_pm_recs_page *p)
{
	return nvfs_ns_recs_page_check(p, PG_SELF, PG_SLOT, uuid_b, seed_a());
}

/* P1: wrong magic */
static void
test_nvfs_ns_recs_page_check_bad_magic(void)
{
	struct nvfs_pm_recs_page *p = new_page(PG_SELF, PG_SLOT, uuid_b, PG_NEXT, seed_a());

	p->magic = NVFS_OWNER_LIST_MAGIC;
	EXPECT_ERR(pg_check(p), -EUCLEAN, "magic", "(P1)");
	p->magic = 0;
	EXPECT_ERR(pg_check(p), -EUCLEAN, "magic", "(P1)");
	free(p);
}

/* P2: a flipped bit in csum or in the covered bytes 16..47 */
static void
test_nvfs_ns_recs_page_check_bad_csum(void)
{
	struct nvfs_pm_recs_page *p = new_page(PG_SELF, PG_SLOT, uuid_b, PG_NEXT, seed_a());

	for (size_t off = 8; off < 48; off++) {
		nvfs_ns_recs_page_init(p, PG_SELF, PG_SLOT, uuid_b, PG_NEXT, seed_a());
		((uint8_t *)p)[off] ^= (uint8_t)(1u << (off % 8));
		EXPECT_ERR(pg_check(p), -EBADMSG, "checksum", "(P2)");
	}
	free(p);
}

/* P2: a page checksummed with another namespace's seed */
static void
test_nvfs_ns_recs_page_check_other_namespace_seed(void)
{
	struct nvfs_pm_recs_page *p = new_page(PG_SELF, PG_SLOT, uuid_b, PG_NEXT, seed_b());

	EXPECT_ERR(pg_check(p), -EBADMSG, "checksum", "(P2)");
	free(p);
}

/* P3: owner_slot must be the slot the page is chained from */
static void
test_nvfs_ns_recs_page_check_wrong_owner_slot(void)
{
	struct nvfs_pm_recs_page *p = new_page(PG_SELF, PG_SLOT + 1, uuid_b, PG_NEXT,
					       seed_a());

	EXPECT_ERR(pg_check(p), -EUCLEAN, "owner_slot", "(P3)");
	free(p);
}

/* P3: owner_uuid must be the head's uuid (slot right) */
static void
test_nvfs_ns_recs_page_check_wrong_owner_uuid(void)
{
	struct nvfs_pm_recs_page *p = new_page(PG_SELF, PG_SLOT, uuid_a, PG_NEXT, seed_a());

	EXPECT_ERR(pg_check(p), -EUCLEAN, "owner_uuid", "(P3)");
	free(p);
}

/* P4: nr_recs must be NVFS_RECS_PER_PAGE (checksum recomputed by hand) */
static void
test_nvfs_ns_recs_page_check_wrong_nr_recs(void)
{
	struct nvfs_pm_recs_page *p = new_page(PG_SELF, PG_SLOT, uuid_b, PG_NEXT, seed_a());

	p->nr_recs = NVFS_RECS_PER_PAGE + 1;
	p->csum = page_csum(p, seed_a());
	EXPECT_ERR(pg_check(p), -EUCLEAN, "nr_recs", "(P4)");
	p->nr_recs = 0;
	p->csum = page_csum(p, seed_a());
	EXPECT_ERR(pg_check(p), -EUCLEAN, "nr_recs", "(P4)");
	free(p);
}

/* P4: self_off -- a valid page copied to another offset */
static void
test_nvfs_ns_recs_page_check_copied_to_other_offset(void)
{
	struct nvfs_pm_recs_page *p = new_page(PG_SELF, PG_SLOT, uuid_b, PG_NEXT, seed_a());

	EXPECT_OK(pg_check(p));
	EXPECT_ERR(nvfs_ns_recs_page_check(p, PG_SELF + NVFS_RECS_PAGE_BYTES, PG_SLOT,
					   uuid_b, seed_a()), -EUCLEAN, "self_off", "(P4)");
	EXPECT_ERR(nvfs_ns_recs_page_check(p, NVFS_RECS_AREA_OFF, PG_SLOT, uuid_b,
					   seed_a()), -EUCLEAN, "self_off", "(P4)");
	free(p);
}

/* P4: reserved must be 0 (it is not covered by the checksum) */
static void
test_nvfs_ns_recs_page_check_reserved_set(void)
{
	struct nvfs_pm_recs_page *p = new_page(PG_SELF, PG_SLOT, uuid_b, PG_NEXT, seed_a());

	p->reserved = 1;
	EXPECT_ERR(pg_check(p), -EUCLEAN, "reserved", "(P4)");
	p->reserved = UINT64_C(1) << 63;
	EXPECT_ERR(pg_check(p), -EUCLEAN, "reserved", "(P4)");
	free(p);
}

/* P5, R1: next_off must be 0 or a record-page offset */
static void
test_nvfs_ns_recs_page_check_next_off_not_record_page(void)
{
	const uint64_t bad[] = {
		PG_NEXT + 4096, PG_NEXT + 1,            /* misaligned */
		NVFS_OWNER_LIST_OFF, 8,                 /* below the area */
		NVFS_PAGES_OFF,                         /* at the page area */
		NVFS_PAGES_OFF + NVFS_RECS_PAGE_BYTES,  /* after */
		UINT64_MAX,
	};
	struct nvfs_pm_recs_page *p = new_page(PG_SELF, PG_SLOT, uuid_b, 0, seed_a());

	EXPECT_OK(pg_check(p));
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p->next_off = bad[i]; /* not covered: no checksum to redo */
		EXPECT_ERR(pg_check(p), -EUCLEAN, "next_off", "(P5, R1)");
	}
	free(p);
}

/*
 * P2, P5: next_off is NOT covered by the checksum -- unlinking rewrites it
 * with one 8-byte store and the page must stay valid.  The record words are
 * not covered either (they are validated one by one, A1..A4).
 */
static void
test_nvfs_ns_recs_page_check_next_off_not_in_csum(void)
{
	struct nvfs_pm_recs_page *p = new_page(PG_SELF, PG_SLOT, uuid_b, PG_NEXT, seed_a());
	uint64_t csum = p->csum;
	const uint64_t nexts[] = { 0, NVFS_RECS_AREA_OFF,
				   NVFS_PAGES_OFF - NVFS_RECS_PAGE_BYTES, PG_NEXT + 8192 };

	for (unsigned i = 0; i < sizeof(nexts) / sizeof(nexts[0]); i++) {
		p->next_off = nexts[i];
		CU_ASSERT_EQUAL(page_csum(p, seed_a()), csum);
		EXPECT_OK(pg_check(p));
	}
	/* init with a different next_off computes the same checksum */
	struct nvfs_pm_recs_page *q = new_page(PG_SELF, PG_SLOT, uuid_b, 0, seed_a());
	CU_ASSERT_EQUAL(q->csum, csum);
	/* record words */
	p->recs[0] = nvfs_pm_rec_encode(NS64_FIRST, 0);
	p->recs[NVFS_RECS_PER_PAGE - 1] = UINT64_MAX;
	EXPECT_OK(pg_check(p));
	free(q);
	free(p);
}

/* ==== 6. record-page offsets ============================================== */

/* R1: the record area is [16384, NVFS_PAGES_OFF) in 8 KiB steps */
static void
test_nvfs_ns_recs_off_valid_boundaries(void)
{
	CU_ASSERT_TRUE(nvfs_ns_recs_off_valid(16384));
	CU_ASSERT_TRUE(nvfs_ns_recs_off_valid(16384 + 8192));
	CU_ASSERT_TRUE(nvfs_ns_recs_off_valid(NVFS_PAGES_OFF - 8192));
	CU_ASSERT_FALSE(nvfs_ns_recs_off_valid(NVFS_PAGES_OFF));
	CU_ASSERT_FALSE(nvfs_ns_recs_off_valid(NVFS_PAGES_OFF + 8192));
	CU_ASSERT_FALSE(nvfs_ns_recs_off_valid(16384 + 4096));
	CU_ASSERT_FALSE(nvfs_ns_recs_off_valid(16384 + 1));
	CU_ASSERT_FALSE(nvfs_ns_recs_off_valid(16384 - 8192));
	CU_ASSERT_FALSE(nvfs_ns_recs_off_valid(16383));
	CU_ASSERT_FALSE(nvfs_ns_recs_off_valid(0));
	CU_ASSERT_FALSE(nvfs_ns_recs_off_valid(NVFS_PAGES_OFF - 4096));
	CU_ASSERT_FALSE(nvfs_ns_recs_off_valid(UINT64_MAX));
}

/* R1: index <-> offset, first and last page, every page */
static void
test_nvfs_ns_recs_index_off_round_trip(void)
{
	CU_ASSERT_EQUAL(nvfs_ns_recs_off(0), 16384);
	CU_ASSERT_EQUAL(nvfs_ns_recs_index(16384), 0);
	CU_ASSERT_EQUAL(nvfs_ns_recs_off(NVFS_RECS_PAGES - 1), NVFS_PAGES_OFF - 8192);
	CU_ASSERT_EQUAL(nvfs_ns_recs_index(NVFS_PAGES_OFF - 8192), 2045);
	CU_ASSERT_EQUAL(nvfs_ns_recs_off(NVFS_RECS_PAGES), NVFS_PAGES_OFF);
	CU_ASSERT_FALSE(nvfs_ns_recs_off_valid(nvfs_ns_recs_off(NVFS_RECS_PAGES)));
	unsigned bad = 0;
	for (unsigned i = 0; i < NVFS_RECS_PAGES; i++) {
		uint64_t off = nvfs_ns_recs_off(i);
		bad += !nvfs_ns_recs_off_valid(off) || nvfs_ns_recs_index(off) != i;
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* owner-head offsets: 63 heads of 128 B after the 64 B header */
static void
test_nvfs_ns_owner_head_off_layout(void)
{
	CU_ASSERT_EQUAL(nvfs_ns_owner_head_off(0), NVFS_OWNER_LIST_OFF + 64);
	CU_ASSERT_EQUAL(nvfs_ns_owner_head_off(1), NVFS_OWNER_LIST_OFF + 64 + 128);
	CU_ASSERT_EQUAL(nvfs_ns_owner_head_off(NVFS_OWNER_SLOTS - 1) + NVFS_OWNER_HEAD_BYTES,
			NVFS_RECS_AREA_OFF - 64);
	CU_ASSERT(nvfs_ns_owner_head_off(NVFS_OWNER_SLOTS - 1) + NVFS_OWNER_HEAD_BYTES <=
		  NVFS_RECS_AREA_OFF);
}

/* ==== 7. records ========================================================== */

/* A1..A4: valid records at the edges of a 64 MiB namespace */
static void
test_nvfs_ns_rec_check_valid_records(void)
{
	struct nvfs_pm_sb sb;
	const uint64_t last = NS64_FIRST + NS64_PAGES - 1; /* 16383 */

	make_sb(&sb, NS64);
	EXPECT_OK(nvfs_ns_rec_check(nvfs_pm_rec_encode(NS64_FIRST, 0), 64, &sb));
	EXPECT_OK(nvfs_ns_rec_check(nvfs_pm_rec_encode(last, 0), 64, &sb));
	EXPECT_OK(nvfs_ns_rec_check(nvfs_pm_rec_encode(last - 1, 1), 64, &sb));
	EXPECT_OK(nvfs_ns_rec_check(nvfs_pm_rec_encode(NS64_FIRST, 12), 64, &sb));
	EXPECT_OK(nvfs_ns_rec_check(nvfs_pm_rec_encode(8192, 13), 64, &sb));
	EXPECT_OK(nvfs_ns_rec_check(nvfs_pm_rec_encode(12288, 12), 64, &sb));
}

/* A1: each of the ns_id/reserved bits 58..63 */
static void
test_nvfs_ns_rec_check_high_bits_set(void)
{
	struct nvfs_pm_sb sb;

	make_sb(&sb, NS64);
	for (unsigned b = 58; b < 64; b++) {
		uint64_t rec = nvfs_pm_rec_encode(NS64_FIRST, 0) | (UINT64_C(1) << b);
		EXPECT_ERR(nvfs_ns_rec_check(rec, 0x4040, &sb), -EUCLEAN, "record", "(A1)");
	}
}

/* A2: order must be < NVFS_MAX_ORDER */
static void
test_nvfs_ns_rec_check_order_too_large(void)
{
	struct nvfs_pm_sb sb;

	make_sb(&sb, NS64);
	EXPECT_ERR(nvfs_ns_rec_check(nvfs_pm_rec_encode(0, 20), 64, &sb), -EUCLEAN,
		   "order", "(A2)");
	EXPECT_ERR(nvfs_ns_rec_check(nvfs_pm_rec_encode(NS64_FIRST, 20), 64, &sb),
		   -EUCLEAN, "order", "(A2)");
	EXPECT_ERR(nvfs_ns_rec_check(nvfs_pm_rec_encode(NS64_FIRST, 63), 64, &sb),
		   -EUCLEAN, "order", "(A2)");
}

/* A3: pgoff must be a multiple of 2^order */
static void
test_nvfs_ns_rec_check_misaligned(void)
{
	struct nvfs_pm_sb sb;

	make_sb(&sb, NS64);
	EXPECT_ERR(nvfs_ns_rec_check(nvfs_pm_rec_encode(NS64_FIRST + 1, 3), 64, &sb),
		   -EUCLEAN, "aligned", "(A3)");
	EXPECT_ERR(nvfs_ns_rec_check(nvfs_pm_rec_encode(NS64_FIRST + 4, 3), 64, &sb),
		   -EUCLEAN, "aligned", "(A3)");
	EXPECT_OK(nvfs_ns_rec_check(nvfs_pm_rec_encode(NS64_FIRST + 8, 3), 64, &sb));
	EXPECT_ERR(nvfs_ns_rec_check(nvfs_pm_rec_encode(NS64_FIRST + 2048, 12), 64, &sb),
		   -EUCLEAN, "aligned", "(A3)");
}

/* A4: blocks that start before the allocatable pages */
static void
test_nvfs_ns_rec_check_before_page_area(void)
{
	struct nvfs_pm_sb sb;

	make_sb(&sb, NS64);
	EXPECT_ERR(nvfs_ns_rec_check(nvfs_pm_rec_encode(NS64_FIRST - 1, 0), 64, &sb),
		   -EUCLEAN, "outside", "(A4)");
	EXPECT_ERR(nvfs_ns_rec_check(nvfs_pm_rec_encode(1, 0), 64, &sb),
		   -EUCLEAN, "outside", "(A4)");
	EXPECT_ERR(nvfs_ns_rec_check(nvfs_pm_rec_encode(0, 0), 64, &sb),
		   -EUCLEAN, "outside", "(A4)");
	EXPECT_ERR(nvfs_ns_rec_check(nvfs_pm_rec_encode(0, 12), 64, &sb),
		   -EUCLEAN, "outside", "(A4)");
}

/* A4: blocks that end past the last page; the last page itself is valid */
static void
test_nvfs_ns_rec_check_past_end(void)
{
	struct nvfs_pm_sb sb;
	const uint64_t end = NS64_FIRST + NS64_PAGES; /* first page past the end */

	make_sb(&sb, NS64);
	EXPECT_OK(nvfs_ns_rec_check(nvfs_pm_rec_encode(end - 1, 0), 64, &sb));
	EXPECT_ERR(nvfs_ns_rec_check(nvfs_pm_rec_encode(end, 0), 64, &sb),
		   -EUCLEAN, "outside", "(A4)");
	EXPECT_ERR(nvfs_ns_rec_check(nvfs_pm_rec_encode(end, 12), 64, &sb),
		   -EUCLEAN, "outside", "(A4)");

	/* one page less: a block that starts inside and ends outside */
	make_sb(&sb, NS64 - 4096);
	CU_ASSERT_EQUAL_FATAL(sb.pages_total, NS64_PAGES - 1);
	EXPECT_OK(nvfs_ns_rec_check(nvfs_pm_rec_encode(end - 2, 0), 64, &sb));
	EXPECT_ERR(nvfs_ns_rec_check(nvfs_pm_rec_encode(end - 2, 1), 64, &sb),
		   -EUCLEAN, "outside", "(A4)");
	EXPECT_ERR(nvfs_ns_rec_check(nvfs_pm_rec_encode(end - 4, 2), 64, &sb),
		   -EUCLEAN, "outside", "(A4)");
	EXPECT_ERR(nvfs_ns_rec_check(nvfs_pm_rec_encode(end - 4096, 12), 64, &sb),
		   -EUCLEAN, "outside", "(A4)");
	EXPECT_ERR(nvfs_ns_rec_check(nvfs_pm_rec_encode(end - 1, 0), 64, &sb),
		   -EUCLEAN, "outside", "(A4)");
}

/* A4: an order-19 block is larger than a 64 MiB namespace */
static void
test_nvfs_ns_rec_check_order19_does_not_fit(void)
{
	struct nvfs_pm_sb sb;
	const uint64_t o19 = UINT64_C(1) << 19;

	make_sb(&sb, NS64);
	EXPECT_ERR(nvfs_ns_rec_check(nvfs_pm_rec_encode(0, 19), 64, &sb),
		   -EUCLEAN, "outside", "(A4)");
	EXPECT_ERR(nvfs_ns_rec_check(nvfs_pm_rec_encode(o19, 19), 64, &sb),
		   -EUCLEAN, "outside", "(A4)");

	/* in a namespace just large enough: pages [4096, 2^20) */
	make_sb(&sb, UINT64_C(1) << 32);
	EXPECT_OK(nvfs_ns_rec_check(nvfs_pm_rec_encode(o19, 19), 64, &sb));
	EXPECT_ERR(nvfs_ns_rec_check(nvfs_pm_rec_encode(2 * o19, 19), 64, &sb),
		   -EUCLEAN, "outside", "(A4)");
}

/* A4: pgoff near 2^52 -- the range check must not overflow */
static void
test_nvfs_ns_rec_check_huge_pgoff(void)
{
	struct nvfs_pm_sb sb;
	const uint64_t pmax = NVFS_REC_PGOFF_MASK, o19 = UINT64_C(1) << 19;

	make_sb(&sb, NS64);
	EXPECT_ERR(nvfs_ns_rec_check(nvfs_pm_rec_encode(pmax, 0), 64, &sb),
		   -EUCLEAN, "outside", "(A4)");
	EXPECT_ERR(nvfs_ns_rec_check(nvfs_pm_rec_encode(pmax + 1 - o19, 19), 64, &sb),
		   -EUCLEAN, "outside", "(A4)");

	/* a 4 EiB namespace: pages [4096, 2^50) */
	make_sb(&sb, UINT64_C(1) << 62);
	CU_ASSERT_EQUAL_FATAL(sb.pages_total, (UINT64_C(1) << 50) - NS64_FIRST);
	EXPECT_OK(nvfs_ns_rec_check(nvfs_pm_rec_encode((UINT64_C(1) << 50) - o19, 19), 64,
				    &sb));
	EXPECT_ERR(nvfs_ns_rec_check(nvfs_pm_rec_encode(UINT64_C(1) << 50, 19), 64, &sb),
		   -EUCLEAN, "outside", "(A4)");
	EXPECT_ERR(nvfs_ns_rec_check(nvfs_pm_rec_encode(pmax + 1 - o19, 19), 64, &sb),
		   -EUCLEAN, "outside", "(A4)");
	EXPECT_ERR(nvfs_ns_rec_check(nvfs_pm_rec_encode(pmax, 0), 64, &sb),
		   -EUCLEAN, "outside", "(A4)");
}

/* ==== 8. probe ============================================================ */

/* new_buf -- a zeroed heap buffer of exactly n bytes (ASan sees overreads) */
static uint8_t *
new_buf(size_t n)
{
	uint8_t *b = calloc(1, n);

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	return b;
}

/* put_magic -- an nvfs superblock magic at off */
static void
put_magic(uint8_t *b, size_t off)
{
	uint64_t m = NVFS_SB_MAGIC;

	memcpy(b + off, &m, sizeof(m));
}

/* probe: an all-zero device (S1: no magic) is NVFS_NS_ZERO */
static void
test_nvfs_ns_probe_all_zero(void)
{
	uint8_t *b = new_buf(NS64);

	CU_ASSERT_EQUAL(nvfs_ns_probe(b, NS64), NVFS_NS_ZERO);
	free(b);
}

/* probe (S1): a superblock magic in the primary copy */
static void
test_nvfs_ns_probe_magic_primary(void)
{
	uint8_t *b = new_buf(NS64);

	put_magic(b, NVFS_SB_OFF);
	CU_ASSERT_EQUAL(nvfs_ns_probe(b, NS64), NVFS_NS_NVFS);
	b[0] = 0xff; /* other non-zero data does not matter */
	b[NS64 - 1] = 0xff;
	CU_ASSERT_EQUAL(nvfs_ns_probe(b, NS64), NVFS_NS_NVFS);
	free(b);
}

/* probe (S1): a magic only in the backup copy (a torn format's step 3) */
static void
test_nvfs_ns_probe_magic_backup_only(void)
{
	uint8_t *b = new_buf(NS64);

	put_magic(b, NVFS_SB_BACKUP_OFF);
	CU_ASSERT_EQUAL(nvfs_ns_probe(b, NS64), NVFS_NS_NVFS);
	free(b);
}

/* probe: non-zero data in a probed range is NVFS_NS_UNKNOWN */
static void
test_nvfs_ns_probe_nonzero_probed_ranges(void)
{
	const uint64_t offs[] = {
		0, 4095, NVFS_SB_OFF + 8, NVFS_RECS_AREA_OFF + 5,
		NVFS_PAGES_OFF + 100, NVFS_PAGES_OFF + MIB - 1, /* first MiB of pages */
		NS64 - MIB, NS64 - MIB + 12345, NS64 - 1,       /* last MiB */
	};
	uint8_t *b = new_buf(NS64);

	for (unsigned i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		b[offs[i]] = 1;
		CU_ASSERT_EQUAL(nvfs_ns_probe(b, NS64), NVFS_NS_UNKNOWN);
		b[offs[i]] = 0;
	}
	/* a partial or misplaced magic is not nvfs */
	b[NVFS_SB_OFF] = 'n';
	CU_ASSERT_EQUAL(nvfs_ns_probe(b, NS64), NVFS_NS_UNKNOWN);
	b[NVFS_SB_OFF] = 0;
	put_magic(b, NVFS_SB_OFF + 8);
	CU_ASSERT_EQUAL(nvfs_ns_probe(b, NS64), NVFS_NS_UNKNOWN);
	free(b);
}

/* probe: data between the first 17 MiB and the last MiB is not looked at */
static void
test_nvfs_ns_probe_nonzero_unprobed_range(void)
{
	const uint64_t offs[] = { NVFS_PAGES_OFF + MIB, NVFS_PAGES_OFF + 2 * MIB,
				  32 * MIB, NS64 - MIB - 1 };
	uint8_t *b = new_buf(NS64);

	for (unsigned i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		b[offs[i]] = 0xff;
		CU_ASSERT_EQUAL(nvfs_ns_probe(b, NS64), NVFS_NS_ZERO);
		b[offs[i]] = 0;
	}
	free(b);
}

/* probe: buffers smaller than the probed ranges (ASan checks the bounds) */
static void
test_nvfs_ns_probe_small_buffer(void)
{
	const size_t sizes[] = { 1, 4096, 4100, 4104, 6144, 6150, 6152, 8192,
				 MIB - 1, MIB, MIB + 1, 8 * MIB, 16 * MIB,
				 16 * MIB + 512 * 1024 };

	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		uint8_t *b = new_buf(n);

		CU_ASSERT_EQUAL(nvfs_ns_probe(b, n), NVFS_NS_ZERO);
		b[n - 1] = 1;
		CU_ASSERT_EQUAL(nvfs_ns_probe(b, n), NVFS_NS_UNKNOWN);
		b[n - 1] = 0;
		if (n >= NVFS_SB_OFF + 8) {
			put_magic(b, NVFS_SB_OFF);
			CU_ASSERT_EQUAL(nvfs_ns_probe(b, n), NVFS_NS_NVFS);
			memset(b + NVFS_SB_OFF, 0, 8);
		}
		if (n >= NVFS_SB_BACKUP_OFF + 8) {
			put_magic(b, NVFS_SB_BACKUP_OFF);
			CU_ASSERT_EQUAL(nvfs_ns_probe(b, n), NVFS_NS_NVFS);
		}
		free(b);
	}
	/* a magic cut off by the end of the device is not a magic */
	uint8_t *b = new_buf(NVFS_SB_BACKUP_OFF + 4);
	memcpy(b + NVFS_SB_BACKUP_OFF, "nvfs", 4);
	CU_ASSERT_EQUAL(nvfs_ns_probe(b, NVFS_SB_BACKUP_OFF + 4), NVFS_NS_UNKNOWN);
	free(b);
	/* an empty device */
	b = new_buf(1);
	CU_ASSERT_EQUAL(nvfs_ns_probe(b, 0), NVFS_NS_ZERO);
	free(b);
}

/* ==== 9. format on a real mapping ========================================= */

#define FMT_BYTES (20 * MIB)

/* open_garbage -- a FMT_BYTES file mapped and filled with 0xff */
static struct nvfs_pmem *
open_garbage(const char *name)
{
	struct nvfs_pmem *pm = NULL;
	const char *path = nvfs_test_path(name);

	CU_ASSERT_EQUAL_FATAL(nvfs_test_mkfile(path, FMT_BYTES), 0);
	CU_ASSERT_EQUAL_FATAL(nvfs_pmem_open(path, 0, &pm), 0);
	CU_ASSERT_EQUAL_FATAL(pm->size, FMT_BYTES);
	memset(pm->base, 0xff, pm->size);
	return pm;
}

/* S1..S7, O1: format writes two identical valid copies and a free owner list */
static void
test_nvfs_ns_format_writes_valid_namespace(void)
{
	struct nvfs_pmem *pm = open_garbage("fmt.pmem");
	struct nvfs_pm_sb primary, backup;

	EXPECT_OK(nvfs_ns_format(pm, FMT_BYTES, uuid_a, "fmt"));
	memcpy(&primary, pm->base + NVFS_SB_OFF, sizeof(primary));
	memcpy(&backup, pm->base + NVFS_SB_BACKUP_OFF, sizeof(backup));
	CU_ASSERT_EQUAL(memcmp(&primary, &backup, sizeof(primary)), 0);
	EXPECT_OK(nvfs_ns_sb_check(&primary, pm->size, NVFS_SB_OFF));
	EXPECT_OK(nvfs_ns_sb_check(&backup, pm->size, NVFS_SB_BACKUP_OFF));
	CU_ASSERT_EQUAL(primary.ns_bytes, FMT_BYTES);
	CU_ASSERT_EQUAL(primary.pages_total, (FMT_BYTES - NVFS_PAGES_OFF) / 4096);
	CU_ASSERT_EQUAL(memcmp(primary.ns_uuid, uuid_a, NVFS_UUID_BYTES), 0);
	CU_ASSERT_STRING_EQUAL((const char *)primary.label, "fmt");
	CU_ASSERT_TRUE(all_bytes(primary.label + 3, NVFS_LABEL_BYTES - 3, 0));

	const struct nvfs_pm_owner_list_hdr *hdr =
		(const void *)(pm->base + NVFS_OWNER_LIST_OFF);
	EXPECT_OK(nvfs_ns_owner_list_hdr_check(hdr, nvfs_ns_seed(&primary)));
	CU_ASSERT_EQUAL(nvfs_ns_seed(&primary), seed_a());
	unsigned live = 0;
	for (unsigned i = 0; i < NVFS_OWNER_SLOTS; i++) {
		const struct nvfs_pm_owner_head *h =
			(const void *)(pm->base + nvfs_ns_owner_head_off(i));
		live += h->commit != 0;
	}
	CU_ASSERT_EQUAL(live, 0);
	/* the free heads are written as zero (format.c: "63 zero owner heads") */
	CU_ASSERT_TRUE(all_bytes(pm->base + nvfs_ns_owner_head_off(0),
				 NVFS_OWNER_SLOTS * NVFS_OWNER_HEAD_BYTES, 0));
	CU_ASSERT_EQUAL(nvfs_ns_probe(pm->base, pm->size), NVFS_NS_NVFS);
	nvfs_pmem_close(&pm);
	CU_ASSERT_PTR_NULL(pm);
}

/* S5, S6: a namespace smaller than the file; ns_bytes rounded down */
static void
test_nvfs_ns_format_smaller_than_mapping(void)
{
	struct nvfs_pmem *pm = open_garbage("fmt-small.pmem");
	struct nvfs_pm_sb sb;

	EXPECT_OK(nvfs_ns_format(pm, 18 * MIB + 100, uuid_b, NULL));
	memcpy(&sb, pm->base + NVFS_SB_OFF, sizeof(sb));
	CU_ASSERT_EQUAL(sb.ns_bytes, 18 * MIB);
	CU_ASSERT_EQUAL(sb.pages_total, 2 * MIB / 4096);
	EXPECT_OK(nvfs_ns_sb_check(&sb, pm->size, NVFS_SB_OFF));
	CU_ASSERT_EQUAL(memcmp(pm->base + NVFS_SB_OFF, pm->base + NVFS_SB_BACKUP_OFF,
			       NVFS_SB_BYTES), 0);
	EXPECT_OK(nvfs_ns_owner_list_hdr_check(
		(const void *)(pm->base + NVFS_OWNER_LIST_OFF), seed_b()));
	nvfs_pmem_close(&pm);
}

/* S5, S6: sizes that do not fit or are too small are -EINVAL, nothing written */
static void
test_nvfs_ns_format_rejects_bad_size(void)
{
	struct nvfs_pmem *pm = open_garbage("fmt-bad.pmem");

	EXPECT_ERR(nvfs_ns_format(pm, FMT_BYTES + 4096, uuid_a, NULL), -EINVAL,
		   NULL, NULL);
	EXPECT_ERR(nvfs_ns_format(pm, FMT_BYTES + 1, uuid_a, NULL), -EINVAL, NULL, NULL);
	EXPECT_ERR(nvfs_ns_format(pm, UINT64_MAX, uuid_a, NULL), -EINVAL, NULL, NULL);
	EXPECT_ERR(nvfs_ns_format(pm, NVFS_MIN_NS_BYTES - 4096, uuid_a, NULL), -EINVAL,
		   "too small", NULL);
	EXPECT_ERR(nvfs_ns_format(pm, 0, uuid_a, NULL), -EINVAL, "too small", NULL);
	EXPECT_ERR(nvfs_ns_format(pm, FMT_BYTES, uuid_a,
				  "abcdefghijklmnopqrstuvwxyz012345"), -EINVAL, "label",
		   NULL);
	/* a refused format writes nothing: the metadata is still garbage */
	CU_ASSERT_TRUE(all_bytes(pm->base, NVFS_RECS_AREA_OFF, 0xff));
	CU_ASSERT_EQUAL(nvfs_ns_probe(pm->base, pm->size), NVFS_NS_UNKNOWN);
	nvfs_pmem_close(&pm);
}

NVFS_SUITE(alloc_format, "alloc/format", NULL, NULL,
	   /* 1. round trips */
	   NVFS_TEST(test_nvfs_ns_sb_init_round_trip_fields),
	   NVFS_TEST(test_nvfs_ns_sb_init_rounds_ns_bytes_down),
	   NVFS_TEST(test_nvfs_ns_sb_init_label_null_and_max),
	   NVFS_TEST(test_nvfs_ns_sb_init_rejects_too_small),
	   NVFS_TEST(test_nvfs_ns_sb_init_rejects_long_label),
	   NVFS_TEST(test_nvfs_ns_sb_csum_covers_bytes_16_to_255),
	   NVFS_TEST(test_nvfs_ns_owner_list_hdr_init_round_trip),
	   NVFS_TEST(test_nvfs_ns_owner_commit_depends_on_slot_uuid_label),
	   NVFS_TEST(test_nvfs_ns_owner_head_check_accepts_valid_head),
	   NVFS_TEST(test_nvfs_ns_recs_page_init_round_trip),
	   NVFS_TEST(test_nvfs_pm_rec_encode_decode_boundaries),
	   NVFS_TEST(test_nvfs_ns_uuid_str_parse_round_trip),
	   NVFS_TEST(test_nvfs_ns_uuid_parse_rejects_malformed),
	   NVFS_TEST(test_nvfs_ns_label_ok_forms),
	   /* 2. superblock */
	   NVFS_TEST(test_nvfs_ns_sb_check_bad_magic),
	   NVFS_TEST(test_nvfs_ns_sb_check_version_unsupported),
	   NVFS_TEST(test_nvfs_ns_sb_check_sb_bytes_wrong),
	   NVFS_TEST(test_nvfs_ns_sb_check_flipped_bit_old_csum),
	   NVFS_TEST(test_nvfs_ns_sb_check_flipped_version_bit_old_csum),
	   NVFS_TEST(test_nvfs_ns_sb_check_flipped_sb_bytes_bit_old_csum),
	   NVFS_TEST(test_nvfs_ns_sb_check_unknown_incompat_feature),
	   NVFS_TEST(test_nvfs_ns_sb_check_unknown_compat_feature_accepted),
	   NVFS_TEST(test_nvfs_ns_sb_check_geometry_field_changed),
	   NVFS_TEST(test_nvfs_ns_sb_check_message_names_field_offset),
	   NVFS_TEST(test_nvfs_ns_sb_check_ns_bytes_not_page_multiple),
	   NVFS_TEST(test_nvfs_ns_sb_check_ns_bytes_too_small),
	   NVFS_TEST(test_nvfs_ns_sb_check_ns_bytes_exceeds_device),
	   NVFS_TEST(test_nvfs_ns_sb_check_nr_namespaces_this_namespace),
	   NVFS_TEST(test_nvfs_ns_sb_check_reserved_set),
	   NVFS_TEST(test_nvfs_ns_sb_check_label_garbage_after_nul),
	   /* 3. owner-list header */
	   NVFS_TEST(test_nvfs_ns_owner_list_hdr_check_bad_magic),
	   NVFS_TEST(test_nvfs_ns_owner_list_hdr_check_bad_csum),
	   NVFS_TEST(test_nvfs_ns_owner_list_hdr_check_wrong_geometry),
	   NVFS_TEST(test_nvfs_ns_owner_list_hdr_check_reserved_set),
	   NVFS_TEST(test_nvfs_ns_owner_list_hdr_check_other_namespace_seed),
	   /* 4. owner head */
	   NVFS_TEST(test_nvfs_ns_owner_head_check_commit_mismatch),
	   NVFS_TEST(test_nvfs_ns_owner_head_check_moved_to_other_slot),
	   NVFS_TEST(test_nvfs_ns_owner_head_check_other_namespace),
	   NVFS_TEST(test_nvfs_ns_owner_head_check_zero_uuid),
	   NVFS_TEST(test_nvfs_ns_owner_head_check_label_garbage_after_nul),
	   NVFS_TEST(test_nvfs_ns_owner_head_check_reserved0_set),
	   NVFS_TEST(test_nvfs_ns_owner_head_check_recs_off_other_namespace_set),
	   NVFS_TEST(test_nvfs_ns_owner_head_check_recs_off_not_record_page),
	   /* 5. record page */
	   NVFS_TEST(test_nvfs_ns_recs_page_check_bad_magic),
	   NVFS_TEST(test_nvfs_ns_recs_page_check_bad_csum),
	   NVFS_TEST(test_nvfs_ns_recs_page_check_other_namespace_seed),
	   NVFS_TEST(test_nvfs_ns_recs_page_check_wrong_owner_slot),
	   NVFS_TEST(test_nvfs_ns_recs_page_check_wrong_owner_uuid),
	   NVFS_TEST(test_nvfs_ns_recs_page_check_wrong_nr_recs),
	   NVFS_TEST(test_nvfs_ns_recs_page_check_copied_to_other_offset),
	   NVFS_TEST(test_nvfs_ns_recs_page_check_reserved_set),
	   NVFS_TEST(test_nvfs_ns_recs_page_check_next_off_not_record_page),
	   NVFS_TEST(test_nvfs_ns_recs_page_check_next_off_not_in_csum),
	   /* 6. offsets */
	   NVFS_TEST(test_nvfs_ns_recs_off_valid_boundaries),
	   NVFS_TEST(test_nvfs_ns_recs_index_off_round_trip),
	   NVFS_TEST(test_nvfs_ns_owner_head_off_layout),
	   /* 7. records */
	   NVFS_TEST(test_nvfs_ns_rec_check_valid_records),
	   NVFS_TEST(test_nvfs_ns_rec_check_high_bits_set),
	   NVFS_TEST(test_nvfs_ns_rec_check_order_too_large),
	   NVFS_TEST(test_nvfs_ns_rec_check_misaligned),
	   NVFS_TEST(test_nvfs_ns_rec_check_before_page_area),
	   NVFS_TEST(test_nvfs_ns_rec_check_past_end),
	   NVFS_TEST(test_nvfs_ns_rec_check_order19_does_not_fit),
	   NVFS_TEST(test_nvfs_ns_rec_check_huge_pgoff),
	   /* 8. probe */
	   NVFS_TEST(test_nvfs_ns_probe_all_zero),
	   NVFS_TEST(test_nvfs_ns_probe_magic_primary),
	   NVFS_TEST(test_nvfs_ns_probe_magic_backup_only),
	   NVFS_TEST(test_nvfs_ns_probe_nonzero_probed_ranges),
	   NVFS_TEST(test_nvfs_ns_probe_nonzero_unprobed_range),
	   NVFS_TEST(test_nvfs_ns_probe_small_buffer),
	   /* 9. format */
	   NVFS_TEST(test_nvfs_ns_format_writes_valid_namespace),
	   NVFS_TEST(test_nvfs_ns_format_smaller_than_mapping),
	   NVFS_TEST(test_nvfs_ns_format_rejects_bad_size))
