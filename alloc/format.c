/* SPDX-License-Identifier: MIT */
/*
 * format.c -- build and validate the namespace structures of nvfs_format.h
 * (see nvfs_ns.h).  Every check names the rule of nvfs_format.h it enforces.
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "nvfs_csum.h"
#include "nvfs_err.h"
#include "nvfs_ns.h"
#include "nvfs_pmem.h"
#include "nvfs_util.h"

#define SB_FIELD(copy_off, field) \
	((unsigned long long)((copy_off) + offsetof(struct nvfs_pm_sb, field)))

/* nvfs_ns_label_ok -- text, then only NULs (rules S7, O3) */
bool
nvfs_ns_label_ok(const uint8_t label[NVFS_LABEL_BYTES])
{
	size_t n = strnlen((const char *)label, NVFS_LABEL_BYTES);

	return nvfs_mem_is_zero(label + n, NVFS_LABEL_BYTES - n);
}

/* set_label -- copy a C string into a NUL-padded label field */
static int
set_label(uint8_t dst[NVFS_LABEL_BYTES], const char *label)
{
	memset(dst, 0, NVFS_LABEL_BYTES);
	if (!label)
		return 0;
	size_t n = strlen(label);
	if (n >= NVFS_LABEL_BYTES)
		return nvfs_err_set(EINVAL, "label '%s' is longer than %u bytes", label,
				    NVFS_LABEL_BYTES - 1);
	memcpy(dst, label, n);
	return 0;
}

/* nvfs_ns_sb_csum -- XXH3-64, seed 0, over bytes 16..255 */
uint64_t
nvfs_ns_sb_csum(const struct nvfs_pm_sb *sb)
{
	const uint8_t *p = (const uint8_t *)sb;

	return nvfs_csum(p + 16, NVFS_SB_BYTES - 16, 0);
}

/* nvfs_ns_seed -- the namespace's checksum seed */
uint64_t
nvfs_ns_seed(const struct nvfs_pm_sb *sb)
{
	return nvfs_pm_seed(sb->ns_uuid);
}

/* nvfs_ns_sb_init -- a complete superblock for ns_bytes */
int
nvfs_ns_sb_init(struct nvfs_pm_sb *sb, uint64_t ns_bytes,
		const uint8_t ns_uuid[NVFS_UUID_BYTES], const char *label)
{
	struct timespec now;

	ns_bytes &= ~(uint64_t)(NVFS_PAGE_BYTES - 1);
	if (ns_bytes < NVFS_MIN_NS_BYTES)
		return nvfs_err_set(EINVAL, "namespace of %llu bytes is too small: "
				    "nvfs needs at least %u bytes (16 MiB of metadata "
				    "and 1 MiB of pages)",
				    (unsigned long long)ns_bytes, NVFS_MIN_NS_BYTES);
	memset(sb, 0, sizeof(*sb));
	int rc = set_label(sb->label, label);
	if (rc)
		return rc;
	clock_gettime(CLOCK_REALTIME, &now);
	sb->magic = NVFS_SB_MAGIC;
	sb->version = NVFS_FORMAT_VERSION;
	sb->sb_bytes = NVFS_SB_BYTES;
	memcpy(sb->ns_uuid, ns_uuid, NVFS_UUID_BYTES);
	memcpy(sb->set_uuid, ns_uuid, NVFS_UUID_BYTES);
	sb->page_bytes = NVFS_PAGE_BYTES;
	sb->recs_page_bytes = NVFS_RECS_PAGE_BYTES;
	sb->nr_namespaces = 1;
	sb->this_namespace = 0;
	sb->ns_bytes = ns_bytes;
	sb->owner_list_off = NVFS_OWNER_LIST_OFF;
	sb->recs_area_off = NVFS_RECS_AREA_OFF;
	sb->recs_area_pages = NVFS_RECS_PAGES;
	sb->max_order = NVFS_MAX_ORDER;
	sb->pages_off = NVFS_PAGES_OFF;
	sb->pages_total = (ns_bytes - NVFS_PAGES_OFF) / NVFS_PAGE_BYTES;
	sb->format_time_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	sb->csum = nvfs_ns_sb_csum(sb);
	return 0;
}

/* sb_geometry_check -- rule S5: the layout fields match this format */
static int
sb_geometry_check(const struct nvfs_pm_sb *sb, uint64_t co)
{
#define GEOM(field, want)                                                          \
	if (sb->field != (want))                                                   \
		return nvfs_err_set(EUCLEAN, "superblock at %#llx: corrupt field "   \
				    #field " at offset %#llx: %llu, expected %llu (S5)", \
				    (unsigned long long)co, SB_FIELD(co, field),   \
				    (unsigned long long)sb->field,                 \
				    (unsigned long long)(want))
	GEOM(page_bytes, NVFS_PAGE_BYTES);
	GEOM(recs_page_bytes, NVFS_RECS_PAGE_BYTES);
	GEOM(owner_list_off, NVFS_OWNER_LIST_OFF);
	GEOM(recs_area_off, NVFS_RECS_AREA_OFF);
	GEOM(recs_area_pages, NVFS_RECS_PAGES);
	GEOM(max_order, NVFS_MAX_ORDER);
	GEOM(pages_off, NVFS_PAGES_OFF);
	if (sb->ns_bytes < NVFS_MIN_NS_BYTES || sb->ns_bytes % NVFS_PAGE_BYTES)
		return nvfs_err_set(EUCLEAN, "superblock at %#llx: corrupt field ns_bytes "
				    "at offset %#llx: %llu is not a whole number of "
				    "pages >= %u (S5)", (unsigned long long)co,
				    SB_FIELD(co, ns_bytes),
				    (unsigned long long)sb->ns_bytes, NVFS_MIN_NS_BYTES);
	GEOM(pages_total, (sb->ns_bytes - NVFS_PAGES_OFF) / NVFS_PAGE_BYTES);
#undef GEOM
	return 0;
}

/* sb_misc_check -- rule S7: single namespace, reserved zero, label form */
static int
sb_misc_check(const struct nvfs_pm_sb *sb, uint64_t co)
{
	if (sb->nr_namespaces != 1 || sb->this_namespace != 0)
		return nvfs_err_set(EUCLEAN, "superblock at %#llx: corrupt field "
				    "nr_namespaces/this_namespace at offset %#llx: %u/%u, "
				    "expected 1/0 (S7)", (unsigned long long)co,
				    SB_FIELD(co, nr_namespaces), sb->nr_namespaces,
				    sb->this_namespace);
	if (sb->reserved0 || !nvfs_mem_is_zero(sb->reserved, sizeof(sb->reserved)))
		return nvfs_err_set(EUCLEAN, "superblock at %#llx: reserved bytes at "
				    "offset %#llx are not zero (S7)", (unsigned long long)co,
				    sb->reserved0 ? SB_FIELD(co, reserved0)
						  : SB_FIELD(co, reserved));
	if (!nvfs_ns_label_ok(sb->label))
		return nvfs_err_set(EUCLEAN, "superblock at %#llx: corrupt field label at "
				    "offset %#llx: bytes after the end of the text are "
				    "not zero (S7)", (unsigned long long)co,
				    SB_FIELD(co, label));
	return 0;
}

/* nvfs_ns_sb_check -- rules S1..S7 */
int
nvfs_ns_sb_check(const struct nvfs_pm_sb *sb, uint64_t dev_bytes, uint64_t co)
{
	unsigned long long at = co;

	if (sb->magic == NVFS_SB_MAGIC_FORMATTING)
		return nvfs_err_set(EMEDIUMTYPE, "superblock at %#llx: an interrupted "
				    "mkfs (formatting magic): run mkfs.nvfs again (S1)", at);
	if (sb->magic != NVFS_SB_MAGIC)
		return nvfs_err_set(EMEDIUMTYPE, "superblock at %#llx: bad magic "
				    "0x%016llx: not an nvfs namespace (S1)", at,
				    (unsigned long long)sb->magic);
	/*
	 * Checksum before version, so a flipped version bit reads as corruption.
	 * S2 is defined identically for every format version (see
	 * nvfs_format.h), so a newer superblock still checksums as here.
	 */
	uint64_t want = nvfs_ns_sb_csum(sb);
	if (sb->csum != want)
		return nvfs_err_set(EBADMSG, "superblock at %#llx: checksum mismatch at "
				    "offset %#llx: stored 0x%016llx, computed 0x%016llx (S2)",
				    at, SB_FIELD(co, csum), (unsigned long long)sb->csum,
				    (unsigned long long)want);
	if (sb->version > NVFS_FORMAT_VERSION || sb->version == 0)
		return nvfs_err_set(EPROTONOSUPPORT, "superblock at %#llx: unsupported "
				    "format version %u at offset %#llx (this build reads "
				    "1..%u) (S3)", at, sb->version, SB_FIELD(co, version),
				    NVFS_FORMAT_VERSION);
	if (sb->sb_bytes != NVFS_SB_BYTES)
		return nvfs_err_set(EUCLEAN, "superblock at %#llx: corrupt field sb_bytes "
				    "at offset %#llx: %u, expected %u (S3)", at,
				    SB_FIELD(co, sb_bytes), sb->sb_bytes, NVFS_SB_BYTES);
	if (sb->feature_incompat & ~NVFS_FEATURE_INCOMPAT_SUPP)
		return nvfs_err_set(EOPNOTSUPP, "superblock at %#llx: field "
				    "feature_incompat at offset %#llx has features "
				    "0x%llx unknown to this build (S4)", at,
				    SB_FIELD(co, feature_incompat),
				    (unsigned long long)(sb->feature_incompat &
							 ~NVFS_FEATURE_INCOMPAT_SUPP));
	int rc = sb_geometry_check(sb, co);
	if (rc)
		return rc;
	if (sb->ns_bytes > dev_bytes)
		return nvfs_err_set(EUCLEAN, "superblock at %#llx: field ns_bytes at "
				    "offset %#llx: namespace is %llu bytes but the file or "
				    "device has only %llu (truncated?) (S6)", at,
				    SB_FIELD(co, ns_bytes), (unsigned long long)sb->ns_bytes,
				    (unsigned long long)dev_bytes);
	return sb_misc_check(sb, co);
}

/* owner_list_hdr_csum -- XXH3-64 (ns seed) over bytes 16..63 */
static uint64_t
owner_list_hdr_csum(const struct nvfs_pm_owner_list_hdr *hdr, uint64_t seed)
{
	return nvfs_csum((const uint8_t *)hdr + 16, NVFS_OWNER_LIST_HDR_BYTES - 16, seed);
}

/* nvfs_ns_owner_list_hdr_init -- the owner-list header */
void
nvfs_ns_owner_list_hdr_init(struct nvfs_pm_owner_list_hdr *hdr, uint64_t seed)
{
	memset(hdr, 0, sizeof(*hdr));
	hdr->magic = NVFS_OWNER_LIST_MAGIC;
	hdr->owner_slots = NVFS_OWNER_SLOTS;
	hdr->owner_bytes = NVFS_OWNER_HEAD_BYTES;
	hdr->csum = owner_list_hdr_csum(hdr, seed);
}

/* nvfs_ns_owner_list_hdr_check -- magic, checksum, geometry */
int
nvfs_ns_owner_list_hdr_check(const struct nvfs_pm_owner_list_hdr *hdr, uint64_t seed)
{
	if (hdr->magic != NVFS_OWNER_LIST_MAGIC)
		return nvfs_err_set(EUCLEAN, "owner list header at %#x: bad magic 0x%016llx",
				    NVFS_OWNER_LIST_OFF, (unsigned long long)hdr->magic);
	if (hdr->csum != owner_list_hdr_csum(hdr, seed))
		return nvfs_err_set(EBADMSG, "owner list header at %#x: checksum mismatch "
				    "at offset %#x", NVFS_OWNER_LIST_OFF,
				    NVFS_OWNER_LIST_OFF + 8);
	if (hdr->owner_slots != NVFS_OWNER_SLOTS ||
	    hdr->owner_bytes != NVFS_OWNER_HEAD_BYTES ||
	    !nvfs_mem_is_zero(hdr->reserved, sizeof(hdr->reserved)))
		return nvfs_err_set(EUCLEAN, "owner list header at %#x: corrupt geometry "
				    "(owner_slots %u, owner_bytes %u, or reserved bytes set)",
				    NVFS_OWNER_LIST_OFF, hdr->owner_slots, hdr->owner_bytes);
	return 0;
}

/* nvfs_ns_owner_commit -- the commit word of a live owner head */
uint64_t
nvfs_ns_owner_commit(uint64_t seed, unsigned slot, const struct nvfs_pm_owner_head *head)
{
	uint8_t buf[4 + NVFS_UUID_BYTES + NVFS_LABEL_BYTES];
	uint32_t le_slot = slot;

	memcpy(buf, &le_slot, 4);
	memcpy(buf + 4, head->uuid, NVFS_UUID_BYTES);
	memcpy(buf + 4 + NVFS_UUID_BYTES, head->label, NVFS_LABEL_BYTES);
	uint64_t c = nvfs_csum(buf, sizeof(buf), seed);
	return c ? c : 1;
}

/* nvfs_ns_owner_head_check -- rules O1, O3 and the form of recs_off[0] */
int
nvfs_ns_owner_head_check(const struct nvfs_pm_owner_head *head, unsigned slot,
			 uint64_t seed)
{
	unsigned long long at = nvfs_ns_owner_head_off(slot);

	if (head->commit != nvfs_ns_owner_commit(seed, slot, head))
		return nvfs_err_set(EBADMSG, "owner slot %u at %#llx: commit checksum "
				    "mismatch at offset %#llx (O1)", slot, at, at + 48);
	if (nvfs_mem_is_zero(head->uuid, NVFS_UUID_BYTES))
		return nvfs_err_set(EUCLEAN, "owner slot %u at %#llx: live owner with a "
				    "zero uuid (O2)", slot, at);
	if (!nvfs_ns_label_ok(head->label))
		return nvfs_err_set(EUCLEAN, "owner slot %u at %#llx: corrupt field label "
				    "at offset %#llx (O3)", slot, at, at + 16);
	if (head->reserved0)
		return nvfs_err_set(EUCLEAN, "owner slot %u at %#llx: field reserved0 at "
				    "offset %#llx is not zero (O3)", slot, at, at + 56);
	for (unsigned ns = 1; ns < NVFS_MAX_NAMESPACES; ns++)
		if (head->recs_off[ns])
			return nvfs_err_set(EUCLEAN, "owner slot %u at %#llx: field "
					    "recs_off[%u] at offset %#llx is not zero: "
					    "namespace sets are not supported (O3)", slot,
					    at, ns, at + 64 + 8 * ns);
	if (head->recs_off[0] && !nvfs_ns_recs_off_valid(head->recs_off[0]))
		return nvfs_err_set(EUCLEAN, "owner slot %u at %#llx: corrupt field "
				    "recs_off at offset %#llx: %#llx is not a record page "
				    "(O4, R1)", slot, at, at + 64,
				    (unsigned long long)head->recs_off[0]);
	return 0;
}

/* recs_page_csum -- XXH3-64 (ns seed) over header bytes 16..47 */
static uint64_t
recs_page_csum(const struct nvfs_pm_recs_page *page, uint64_t seed)
{
	return nvfs_csum((const uint8_t *)page + 16, 32, seed);
}

/* nvfs_ns_recs_page_init -- a fresh, empty record page */
void
nvfs_ns_recs_page_init(struct nvfs_pm_recs_page *page, uint64_t self_off, unsigned slot,
		       const uint8_t owner_uuid[NVFS_UUID_BYTES], uint64_t next_off,
		       uint64_t seed)
{
	memset(page, 0, sizeof(*page));
	page->magic = NVFS_RECS_MAGIC;
	memcpy(page->owner_uuid, owner_uuid, NVFS_UUID_BYTES);
	page->owner_slot = slot;
	page->nr_recs = NVFS_RECS_PER_PAGE;
	page->self_off = self_off;
	page->next_off = next_off;
	page->csum = recs_page_csum(page, seed);
}

/* nvfs_ns_recs_page_check -- rules P1..P4 and R1 for next_off */
int
nvfs_ns_recs_page_check(const struct nvfs_pm_recs_page *page, uint64_t off,
			unsigned slot, const uint8_t owner_uuid[NVFS_UUID_BYTES],
			uint64_t seed)
{
	unsigned long long at = off;

	if (page->magic != NVFS_RECS_MAGIC)
		return nvfs_err_set(EUCLEAN, "record page at %#llx (owner slot %u): bad "
				    "magic 0x%016llx (P1)", at, slot,
				    (unsigned long long)page->magic);
	if (page->csum != recs_page_csum(page, seed))
		return nvfs_err_set(EBADMSG, "record page at %#llx (owner slot %u): "
				    "checksum mismatch at offset %#llx (P2)", at, slot,
				    at + 8);
	if (page->owner_slot != slot)
		return nvfs_err_set(EUCLEAN, "record page at %#llx: field owner_slot at "
				    "offset %#llx says slot %u, but the page is chained "
				    "from slot %u (P3)", at, at + 32, page->owner_slot, slot);
	if (memcmp(page->owner_uuid, owner_uuid, NVFS_UUID_BYTES) != 0)
		return nvfs_err_set(EUCLEAN, "record page at %#llx: field owner_uuid at "
				    "offset %#llx does not match the uuid of owner slot %u "
				    "(P3)", at, at + 16, slot);
	if (page->nr_recs != NVFS_RECS_PER_PAGE)
		return nvfs_err_set(EUCLEAN, "record page at %#llx: field nr_recs at "
				    "offset %#llx is %u, expected %u (P4)", at, at + 36,
				    page->nr_recs, NVFS_RECS_PER_PAGE);
	if (page->self_off != off)
		return nvfs_err_set(EUCLEAN, "record page at %#llx: field self_off at "
				    "offset %#llx is %#llx: the page was copied from "
				    "elsewhere (P4)", at, at + 40,
				    (unsigned long long)page->self_off);
	if (page->reserved)
		return nvfs_err_set(EUCLEAN, "record page at %#llx: field reserved at "
				    "offset %#llx is not zero (P4)", at, at + 56);
	if (page->next_off && !nvfs_ns_recs_off_valid(page->next_off))
		return nvfs_err_set(EUCLEAN, "record page at %#llx (owner slot %u): "
				    "corrupt field next_off at offset %#llx: %#llx is "
				    "not a record page (P5, R1)", at, slot, at + 48,
				    (unsigned long long)page->next_off);
	return 0;
}

/* nvfs_ns_rec_check -- rules A1..A4 */
int
nvfs_ns_rec_check(uint64_t rec, uint64_t rec_off, const struct nvfs_pm_sb *sb)
{
	uint64_t pgoff = nvfs_pm_rec_pgoff(rec);
	unsigned order = nvfs_pm_rec_order(rec);
	uint64_t first = sb->pages_off / NVFS_PAGE_BYTES;
	unsigned long long at = rec_off;

	if (nvfs_pm_rec_high_bits(rec))
		return nvfs_err_set(EUCLEAN, "record at %#llx: 0x%016llx has reserved or "
				    "namespace-id bits set (A1)", at,
				    (unsigned long long)rec);
	if (order >= NVFS_MAX_ORDER)
		return nvfs_err_set(EUCLEAN, "record at %#llx: 0x%016llx has order %u >= "
				    "%u (A2)", at, (unsigned long long)rec, order,
				    NVFS_MAX_ORDER);
	if (pgoff & ((UINT64_C(1) << order) - 1))
		return nvfs_err_set(EUCLEAN, "record at %#llx: page %llu is not aligned "
				    "to its order %u (A3)", at, (unsigned long long)pgoff,
				    order);
	if (pgoff < first || pgoff - first > sb->pages_total ||
	    (UINT64_C(1) << order) > sb->pages_total - (pgoff - first))
		return nvfs_err_set(EUCLEAN, "record at %#llx: pages %llu..%llu lie "
				    "outside the allocatable pages %llu..%llu (A4)", at,
				    (unsigned long long)pgoff,
				    (unsigned long long)(pgoff + (UINT64_C(1) << order) - 1),
				    (unsigned long long)first,
				    (unsigned long long)(first + sb->pages_total - 1));
	return 0;
}

/* range_zero -- [off, off+len) clipped to dev_bytes is all zero */
static bool
range_zero(const uint8_t *base, uint64_t dev_bytes, uint64_t off, uint64_t len)
{
	if (off >= dev_bytes)
		return true;
	if (len > dev_bytes - off)
		len = dev_bytes - off;
	return nvfs_mem_is_zero(base + off, len);
}

/* nvfs_ns_probe -- zero, nvfs, or someone else's data */
enum nvfs_ns_kind
nvfs_ns_probe(const void *base, uint64_t dev_bytes)
{
	const uint8_t *b = base;
	const uint64_t mib = 1u << 20;
	bool torn = false;

	for (uint64_t co = NVFS_SB_OFF; co <= NVFS_SB_BACKUP_OFF;
	     co += NVFS_SB_BACKUP_OFF - NVFS_SB_OFF) {
		uint64_t magic;
		if (co + sizeof(magic) > dev_bytes)
			break;
		memcpy(&magic, b + co, sizeof(magic));
		if (magic == NVFS_SB_MAGIC)
			return NVFS_NS_NVFS;
		torn |= magic == NVFS_SB_MAGIC_FORMATTING;
	}
	if (torn)
		return NVFS_NS_TORN;
	if (!range_zero(b, dev_bytes, 0, NVFS_PAGES_OFF + mib))
		return NVFS_NS_UNKNOWN;
	if (dev_bytes > mib && !range_zero(b, dev_bytes, dev_bytes - mib, mib))
		return NVFS_NS_UNKNOWN;
	return NVFS_NS_ZERO;
}

/*
 * nvfs_ns_format -- write an empty namespace.
 *
 * Persist steps:
 *   1. primary magic := FORMATTING, persisted; 2. backup magic :=
 *      FORMATTING, persisted.  From here no copy can validate, whatever
 *      else a crash keeps or drops (before 2, the backup is the old
 *      namespace's, intact: fsck restores it).
 *   3. both superblock copies, complete with the FORMATTING magic, and
 *      the owner-list header with 63 free (zero) owner heads, persisted;
 *   4. backup magic := NVFS_SB_MAGIC, persisted; 5. primary magic, persisted.
 * Record pages need no initialisation: a page no live owner reaches is free
 * and its contents are ignored.  A crash after 2 and before 4 leaves the
 * formatting magic: the tools redo the format without -f.  After 4, the
 * backup is valid and fsck restores the primary from it.
 */
int
nvfs_ns_format(struct nvfs_pmem *pm, uint64_t ns_bytes,
	       const uint8_t ns_uuid[NVFS_UUID_BYTES], const char *label)
{
	struct nvfs_pm_sb sb;
	int rc;

	if (ns_bytes > pm->size)
		return nvfs_err_set(EINVAL, "namespace of %llu bytes does not fit the "
				    "%zu-byte file", (unsigned long long)ns_bytes, pm->size);
	rc = nvfs_ns_sb_init(&sb, ns_bytes, ns_uuid, label);
	if (rc)
		return rc;
	char *primary = pm->base + NVFS_SB_OFF;
	char *backup = pm->base + NVFS_SB_BACKUP_OFF;
	if ((rc = nvfs_pmem_store64(pm, (uint64_t *)primary, NVFS_SB_MAGIC_FORMATTING)) ||
	    (rc = nvfs_pmem_store64(pm, (uint64_t *)backup, NVFS_SB_MAGIC_FORMATTING)))
		return rc;

	sb.magic = NVFS_SB_MAGIC_FORMATTING;
	memset(primary, 0, NVFS_OWNER_LIST_OFF - NVFS_SB_OFF);
	memcpy(primary, &sb, sizeof(sb));
	memcpy(backup, &sb, sizeof(sb));
	char *ol = pm->base + NVFS_OWNER_LIST_OFF;
	memset(ol, 0, NVFS_OWNER_LIST_BYTES);
	nvfs_ns_owner_list_hdr_init((struct nvfs_pm_owner_list_hdr *)ol,
				    nvfs_ns_seed(&sb));
	if ((rc = nvfs_pmem_flush(pm, primary, NVFS_OWNER_LIST_OFF - NVFS_SB_OFF)) ||
	    (rc = nvfs_pmem_flush(pm, ol, NVFS_OWNER_LIST_BYTES)))
		return rc;
	nvfs_pmem_drain(pm);

	rc = nvfs_pmem_store64(pm, (uint64_t *)backup, NVFS_SB_MAGIC);
	if (rc)
		return rc;
	return nvfs_pmem_store64(pm, (uint64_t *)primary, NVFS_SB_MAGIC);
}

/* nvfs_ns_uuid_generate -- a random version-4 uuid */
int
nvfs_ns_uuid_generate(uint8_t uuid[NVFS_UUID_BYTES])
{
	ssize_t n = getrandom(uuid, NVFS_UUID_BYTES, 0);

	if (n != NVFS_UUID_BYTES)
		return nvfs_err_set(n < 0 ? errno : EIO, "cannot get random bytes for "
				    "a uuid");
	uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40);
	uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);
	return 0;
}

/* nvfs_ns_uuid_str -- canonical text form */
void
nvfs_ns_uuid_str(const uint8_t u[NVFS_UUID_BYTES], char buf[37])
{
	snprintf(buf, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4], u[5], u[6],
		 u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

/* hexval -- value of one hex digit, -1 if none */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* nvfs_ns_uuid_parse -- canonical text form to bytes */
int
nvfs_ns_uuid_parse(const char *s, uint8_t u[NVFS_UUID_BYTES])
{
	unsigned n = 0;

	for (const char *p = s; *p; p++) {
		if (*p == '-' && (p - s == 8 || p - s == 13 || p - s == 18 || p - s == 23))
			continue;
		int hi = hexval(p[0]), lo = hi < 0 ? -1 : hexval(p[1]);
		if (hi < 0 || lo < 0 || n == NVFS_UUID_BYTES)
			return nvfs_err_set(EINVAL, "'%s' is not a uuid", s);
		u[n++] = (uint8_t)(hi << 4 | lo);
		p++;
	}
	if (n != NVFS_UUID_BYTES || strlen(s) != 36)
		return nvfs_err_set(EINVAL, "'%s' is not a uuid", s);
	return 0;
}
