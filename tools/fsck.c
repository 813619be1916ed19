/* SPDX-License-Identifier: MIT */
/*
 * fsck.c -- fsck.nvfs: check (and by default repair) an nvfs namespace.
 *
 *     fsck.nvfs [-n] [-y] [-v] [-V|--version] [-h|--help] PMEM
 *     fsck.nvfs -m|--map PMEM
 *
 * -n checks read-only and never writes; the default (also -y, and -a/-p for
 * fsck(8) compatibility) repairs what it finds.  -f is accepted and ignored
 * (every run is a full check).  Each problem is one line
 * "fsck.nvfs: PMEM: <message> (repaired|not repaired)".
 *
 * After the allocator, the journal (if the namespace has one) is opened
 * read-only and its committed entries are counted, as a mount would replay
 * them.  The journal is never written: a journal that cannot be opened or
 * whose log is damaged is an error left uncorrected (a mount replays the
 * valid prefix of a damaged log).
 *
 * -m (--map) checks nothing: it prints where every on-pmem structure of the
 * namespace is, one line "KIND OFFSET LENGTH [key=value...]" each (offsets
 * and lengths in bytes, decimal), for people reading hex dumps and for the
 * corruption tests (tests/torture/corrupt.sh); map_print has the kinds.
 *
 * Exit status, as fsck(8) defines it (the bits may combine):
 *   0 clean, 1 errors corrected, 4 errors left uncorrected,
 *   8 operational error: cannot open, in use, not an nvfs namespace,
 *     unsupported version or feature, usage error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nvfs_alloc.h"
#include "nvfs_bind.h"
#include "nvfs_csum.h"
#include "nvfs_err.h"
#include "nvfs_journal.h"
#include "nvfs_rec.h"
#include "nvfs_ns.h"
#include "nvfs_pmem.h"
#include "nvfs_tool.h"
#include "nvfs_util.h"

#define PROG "fsck.nvfs"
#define USAGE "usage: " PROG " [-n] [-y] [-v] [-m] [-V] [-h] PMEM"

#define EXIT_CLEAN      0
#define EXIT_CORRECTED  1
#define EXIT_LEFT       4
#define EXIT_OPERATION  8

/* owner allocations listed per owner with a single -v */
#define LIST_CAP 50

/* distinct journal entry types counted one by one; the rest is "other" */
#define TYPE_CAP 64

struct type_count {
	uint32_t type;
	uint64_t entries;
	uint64_t bytes;                 /* payload */
};

/* what the journal check found */
struct jcheck {
	bool present;                   /* the journal owner exists */
	bool opened;                    /* nvfs_journal_open succeeded */
	uint64_t hdr_off;               /* the owner's order-0 block */
	uint64_t *buckets;              /* its buckets, sorted: the ring order */
	unsigned nr_buckets, cap;
	bool oom;
	struct nvfs_journal_stats st;
	struct nvfs_journal_report rep;
	struct type_count types[TYPE_CAP];
	unsigned nr_types;
	struct type_count other;        /* entries of types beyond TYPE_CAP */
	uint64_t bad_records;           /* file system records failing R1-R6 */
	uint64_t bad_seq;               /* the first of them */
	char bad_why[200];
	uint64_t foreign;               /* entries that are not file system records */
};

struct fsck {
	const char *path;
	bool no_write;          /* -n */
	bool repair;            /* -y, -a, -p */
	int verbose;            /* number of -v */
	bool map;               /* -m, --map: print the structures, check nothing */
	unsigned left;          /* problems not repaired, beyond the open's */
	unsigned journal_left;  /* journal problems (never repaired) */
};

/* help -- the full usage text, on stdout */
static void
help(void)
{
	printf("%s\n\n"
	       "Check the nvfs namespace on PMEM and repair what is wrong.\n\n"
	       "  -n     check only, open read-only and never write\n"
	       "  -y     repair without asking (the default; -a and -p are synonyms)\n"
	       "  -f     accepted and ignored: every run is a full check\n"
	       "  -v     describe the superblock, free space, every owner and the\n"
	       "         journal; twice: list every allocation (else %d per owner)\n"
	       "  -m, --map  check nothing: print where each on-pmem structure is,\n"
	       "         one line KIND OFFSET LENGTH [DETAIL] each (bytes, decimal);\n"
	       "         kinds: sb sb-copy owner-list owner-head record-page\n"
	       "         alloc-record journal-header journal-tail journal-set\n"
	       "         journal-entry fs-record data bind\n"
	       "  -V, --version  print the version and exit\n"
	       "  -h, --help     print this help and exit\n\n"
	       "The journal is checked read-only and never repaired: a mount replays\n"
	       "its entries up to the first damaged set.\n\n"
	       "Exit status: 0 clean, 1 errors corrected, 4 errors left uncorrected,\n"
	       "8 operational error (cannot open, in use, not nvfs, unsupported,\n"
	       "usage).\n", USAGE, LIST_CAP);
}

/* parse_args -- the command line into *f; exits on a usage error */
static void
parse_args(int argc, char *argv[], struct fsck *f)
{
	int c;

	/* --map is -m (nvfs_tool_getopt knows only --help and --version) */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--map") == 0)
			argv[i] = (char *)"-m";
	while ((c = nvfs_tool_getopt(argc, argv, "nyapfvmVh")) != -1) {
		switch (c) {
		case 'n':
			f->no_write = true;
			break;
		case 'y':
		case 'a':
		case 'p':
			f->repair = true;
			break;
		case 'f':
			break;
		case 'v':
			f->verbose++;
			break;
		case 'm':
			f->map = true;
			break;
		case 'V':
			nvfs_tool_version(); /* exits 0, EXIT_CLEAN */
		case 'h':
			help();
			exit(EXIT_CLEAN);
		default:
			nvfs_die_getopt(c, argv);
		}
	}
	if (f->no_write && f->repair)
		nvfs_die_usage("-n cannot be combined with -y, -a or -p");
	f->path = nvfs_tool_operand(argc, argv, "PMEM");
}

/* problem -- the allocator's report of one problem */
static void
problem(void *arg, const char *msg, bool repaired)
{
	const struct fsck *f = arg;

	nvfs_info("%s: %s (%s)", f->path, msg,
		  repaired ? "repaired" : "not repaired");
}

/* open_fail -- report a failed open; the exit status for it */
static int
open_fail(int rc)
{
	nvfs_warnx("%s", nvfs_errmsg());
	return rc == -EUCLEAN || rc == -EBADMSG ? EXIT_LEFT : EXIT_OPERATION;
}

/* sb_print -- the superblock fields (-v) */
static void
sb_print(const struct nvfs_pm_sb *sb)
{
	char ns_uuid[37], set_uuid[37], when[64];
	time_t secs = (time_t)(sb->format_time_ns / 1000000000u);
	struct tm tm;

	nvfs_ns_uuid_str(sb->ns_uuid, ns_uuid);
	nvfs_ns_uuid_str(sb->set_uuid, set_uuid);
	if (!gmtime_r(&secs, &tm) ||
	    !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(when, sizeof(when), "(invalid: %llu ns)",
			 (unsigned long long)sb->format_time_ns);
	char label[NVFS_LABEL_BYTES + 1];
	nvfs_label_text(label, sb->label, NVFS_LABEL_BYTES);
	printf("superblock:\n"
	       "  version       %u\n"
	       "  features      compat 0x%llx, incompat 0x%llx, ro_compat 0x%llx\n"
	       "  ns uuid       %s\n"
	       "  set uuid      %s\n"
	       "  label         '%s'\n"
	       "  ns_bytes      %llu (%.1f MiB)\n"
	       "  pages_off     %llu\n"
	       "  pages_total   %llu\n"
	       "  format time   %s\n", sb->version,
	       (unsigned long long)sb->feature_compat,
	       (unsigned long long)sb->feature_incompat,
	       (unsigned long long)sb->feature_ro_compat, ns_uuid, set_uuid,
	       label,
	       (unsigned long long)sb->ns_bytes, (double)sb->ns_bytes / (1 << 20),
	       (unsigned long long)sb->pages_off, (unsigned long long)sb->pages_total,
	       when);
}

/* size_str -- bytes as "4 KiB", "2 MiB", ... (exact powers of two) */
static const char *
size_str(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
	unsigned u = 0;

	while (u + 1 < sizeof(units) / sizeof(units[0]) && bytes >= 1024 &&
	       bytes % 1024 == 0) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, len, "%llu %s", (unsigned long long)bytes, units[u]);
	return buf;
}

/* free_print -- free blocks per order, non-zero orders only (-v) */
static void
free_print(const struct nvfs_alloc_stats *st)
{
	char sz[32];

	printf("free space: %llu of %llu pages\n", (unsigned long long)st->pages_free,
	       (unsigned long long)st->pages_total);
	for (unsigned o = 0; o < NVFS_MAX_ORDER; o++)
		if (st->free_blocks[o])
			printf("  order %2u (%s): %llu blocks\n", o,
			       size_str((uint64_t)NVFS_PAGE_BYTES << o, sz, sizeof(sz)),
			       (unsigned long long)st->free_blocks[o]);
}

struct listing {
	uint64_t shown;
	uint64_t more;
	bool all;
};

/* alloc_print -- one allocation of an owner (-v), capped unless -vv */
static int
alloc_print(void *arg, uint64_t off, unsigned order)
{
	struct listing *l = arg;
	char sz[32];

	if (!l->all && l->shown >= LIST_CAP) {
		l->more++;
		return 0;
	}
	l->shown++;
	printf("    %#014llx order %2u %s\n", (unsigned long long)off, order,
	       size_str((uint64_t)NVFS_PAGE_BYTES << order, sz, sizeof(sz)));
	return 0;
}

/* owners_print -- every live owner and its allocations (-v) */
static void
owners_print(struct nvfs_alloc *a, const struct nvfs_alloc_stats *st, bool all)
{
	struct nvfs_alloc_owner_info info;
	char uuid[37];

	printf("owners: %u\n", st->owners);
	for (int s = nvfs_alloc_owner_next(a, -1); s >= 0;
	     s = nvfs_alloc_owner_next(a, s)) {
		struct listing l = { .all = all };
		if (nvfs_alloc_owner_info(a, s, &info))
			continue;
		nvfs_ns_uuid_str(info.uuid, uuid);
		char label[NVFS_LABEL_BYTES + 1];
		nvfs_label_text(label, (const uint8_t *)info.label, NVFS_LABEL_BYTES - 1);
		printf("  slot %d: uuid %s, label '%s', %llu allocations, %llu pages, "
		       "%u record pages\n", s, uuid, label,
		       (unsigned long long)info.nr_allocs,
		       (unsigned long long)info.nr_pages, info.nr_recs_pages);
		nvfs_alloc_foreach(a, s, alloc_print, &l);
		if (l.more)
			printf("    ... %llu more\n", (unsigned long long)l.more);
	}
}

/* ---- the journal ----------------------------------------------------------- */

/* journal_block -- foreach callback: the journal owner's header and buckets */
static int
journal_block(void *arg, uint64_t off, unsigned order)
{
	struct jcheck *jc = arg;

	if (order == 0) {
		jc->hdr_off = off;
		return 0;
	}
	if (order != NVFS_JOURNAL_BUCKET_ORDER)
		return 0; /* nvfs_journal_open says what is wrong with it */
	if (jc->nr_buckets == jc->cap) {
		unsigned cap = jc->cap ? jc->cap * 2 : 16;
		uint64_t *p = realloc(jc->buckets, cap * sizeof(*p));
		if (!p) {
			jc->oom = true;
			return -ENOMEM;
		}
		jc->buckets = p;
		jc->cap = cap;
	}
	jc->buckets[jc->nr_buckets++] = off;
	return 0;
}

/* cmp_u64 -- for qsort */
static int
cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

/* lsn_off -- the byte offset in PMEM of a journal lsn (0 if unknown) */
static uint64_t
lsn_off(const struct jcheck *jc, uint64_t lsn)
{
	uint64_t pos;

	if (!jc->nr_buckets || jc->oom)
		return 0;
	pos = lsn % ((uint64_t)jc->nr_buckets * NVFS_JOURNAL_BUCKET_BYTES);
	return jc->buckets[pos / NVFS_JOURNAL_BUCKET_BYTES] +
	       pos % NVFS_JOURNAL_BUCKET_BYTES;
}

/* count_entry -- replay callback: tally an entry by type */
static int
count_entry(void *arg, const struct nvfs_journal_entry *e)
{
	struct jcheck *jc = arg;
	struct type_count *t = NULL;

	for (unsigned i = 0; i < jc->nr_types && !t; i++)
		if (jc->types[i].type == e->type)
			t = &jc->types[i];
	if (!t && jc->nr_types < TYPE_CAP) {
		t = &jc->types[jc->nr_types++];
		t->type = e->type;
	}
	if (!t)
		t = &jc->other;
	t->entries++;
	t->bytes += e->payload_bytes;
	/* what a mount replays must be valid file system records (nvfs_rec.h) */
	struct nvfs_rec r;
	char why[200];
	if (strcmp(nvfs_rec_type_name(e->type), "?") == 0) {
		jc->foreign++;
	} else if (nvfs_rec_decode(e->type, e->payload, e->payload_bytes, &r, why,
				   sizeof(why)) < 0 && jc->bad_records++ == 0) {
		jc->bad_seq = e->seq;
		snprintf(jc->bad_why, sizeof(jc->bad_why), "%s", why);
	}
	return 0;
}

/* journal_damage -- the problem line of a damaged log */
static void
journal_damage(struct fsck *f, const struct jcheck *jc)
{
	const struct nvfs_journal_report *r = &jc->rep;
	char msg[1024];

	snprintf(msg, sizeof(msg), "journal: damaged set at lsn %llu (offset %#llx), "
		 "expected seq %llu: %s; %llu valid set%s after it, from lsn %llu, hold "
		 "entries seq %llu..%llu, which are not replayed: a mount replays only "
		 "the %llu entries before the damage; fsck.nvfs does not repair the "
		 "journal", (unsigned long long)r->stop_lsn,
		 (unsigned long long)lsn_off(jc, r->stop_lsn),
		 (unsigned long long)r->stop_seq, r->reason,
		 (unsigned long long)r->skipped_sets, r->skipped_sets == 1 ? "" : "s",
		 (unsigned long long)r->skipped_from_lsn,
		 (unsigned long long)r->skipped_first_seq,
		 (unsigned long long)r->skipped_last_seq, (unsigned long long)r->entries);
	problem(f, msg, false);
	f->journal_left++;
}

/* journal_replay -- count the entries a mount would replay; 0 or fn's error */
static int
journal_replay(struct fsck *f, struct nvfs_journal *j, struct jcheck *jc)
{
	int rc = nvfs_journal_replay(j, count_entry, jc, &jc->rep);

	if (rc) {
		char msg[1024];
		snprintf(msg, sizeof(msg), "journal: replay failed: %s", nvfs_errmsg());
		problem(f, msg, false);
		f->journal_left++;
		return rc;
	}
	nvfs_journal_stats(j, &jc->st);
	if (jc->rep.tail_warning[0])
		nvfs_warnx("%s: warning: %s (a torn tail update is harmless; "
			   "a damaged current copy makes a mount replay from the older "
			   "tail)", f->path, jc->rep.tail_warning);
	if (jc->rep.end_warning[0])
		nvfs_warnx("%s: warning: journal: %s (offset %#llx); a mount replays the "
			   "entries before it", f->path, jc->rep.end_warning,
			   (unsigned long long)lsn_off(jc, jc->rep.stop_lsn));
	if (jc->rep.damaged)
		journal_damage(f, jc);
	if (jc->bad_records) {
		char msg[1024];
		snprintf(msg, sizeof(msg), "journal: %llu invalid file system record%s, the "
			 "first at seq %llu: %s; a mount refuses the journal; fsck.nvfs "
			 "does not repair the journal", (unsigned long long)jc->bad_records,
			 jc->bad_records == 1 ? "" : "s", (unsigned long long)jc->bad_seq,
			 jc->bad_why);
		problem(f, msg, false);
		f->journal_left++;
	}
	if (jc->foreign)
		nvfs_warnx("%s: warning: journal: %llu entries are not file system "
			   "records (types outside %#x..%#x): a mount refuses them", f->path,
			   (unsigned long long)jc->foreign, NVFS_REC_CREATE,
			   NVFS_REC_MARK);
	return 0;
}

/*
 * journal_check -- open the journal read-only (it is never written, whatever
 * the mode) and count what a mount would replay; problems are left
 * uncorrected.  A namespace without a journal owner has no journal.
 */
static void
journal_check(struct fsck *f, struct nvfs_alloc *a, struct jcheck *jc)
{
	static const uint8_t uuid[NVFS_UUID_BYTES] = NVFS_JOURNAL_OWNER_UUID;
	struct nvfs_journal *j;
	char msg[1024];
	int owner = nvfs_alloc_owner_find(a, uuid);

	if (owner < 0)
		return;
	jc->present = true;
	nvfs_alloc_foreach(a, owner, journal_block, jc);
	if (jc->nr_buckets)
		qsort(jc->buckets, jc->nr_buckets, sizeof(jc->buckets[0]), cmp_u64);
	if (nvfs_journal_open(a, NULL, NVFS_JOURNAL_RDONLY, &j)) {
		snprintf(msg, sizeof(msg), "cannot open the journal: %s; fsck.nvfs does "
			 "not repair the journal, and a mount refuses it", nvfs_errmsg());
		problem(f, msg, false);
		f->journal_left++;
		return;
	}
	jc->opened = journal_replay(f, j, jc) == 0;
	nvfs_journal_close(&j);
}

/*
 * bind_check -- the SOURCE binding (nvfs_bind.h), read-only: a corrupt one
 * is an error a mount refuses while the journal holds entries; a journal
 * holding entries with no binding at all is warned about: the binding page
 * was lost (a mount binds the pmem to its SOURCE before it logs anything),
 * unless something else appended them
 */
static void
bind_check(struct fsck *f, struct nvfs_alloc *a, const struct jcheck *jc)
{
	struct nvfs_bind_info bi;
	char msg[1024];
	int rc = nvfs_bind_get(a, &bi);

	if (rc == -EUCLEAN) {
		snprintf(msg, sizeof(msg), "SOURCE binding: %s; a mount refuses it while "
			 "the journal holds entries and rewrites it otherwise", nvfs_errmsg());
		problem(f, msg, false);
		f->left++;
	} else if (rc == -ENOENT && jc->opened && (jc->rep.entries || jc->rep.damaged)) {
		/* a warning: entries appended by a tool (or a build before
		 * bindings) look the same */
		nvfs_warnx("%s: warning: SOURCE binding: the pmem is bound to no SOURCE, "
			   "but its journal holds %llu entries: the binding page or its "
			   "record was lost (a mount binds it to the SOURCE it is given; "
			   "replay still checks the SOURCE the journal names)", f->path,
			   (unsigned long long)jc->rep.entries);
	} else if (rc && rc != -ENOENT) {
		snprintf(msg, sizeof(msg), "SOURCE binding: %s", nvfs_errmsg());
		problem(f, msg, false);
		f->left++;
	}
}

/* cmp_type -- for qsort: by type */
static int
cmp_type(const void *x, const void *y)
{
	uint32_t a = ((const struct type_count *)x)->type;
	uint32_t b = ((const struct type_count *)y)->type;
	return a < b ? -1 : a > b;
}

/* journal_types_print -- the entries to replay, per type (-v) */
static void
journal_types_print(struct jcheck *jc)
{
	if (jc->nr_types)
		qsort(jc->types, jc->nr_types, sizeof(jc->types[0]), cmp_type);
	for (unsigned i = 0; i < jc->nr_types; i++)
		printf("    type %u%s%s%s: %llu entries, %llu payload bytes\n",
		       jc->types[i].type,
		       strcmp(nvfs_rec_type_name(jc->types[i].type), "?") ? " (" : "",
		       strcmp(nvfs_rec_type_name(jc->types[i].type), "?") ?
		       nvfs_rec_type_name(jc->types[i].type) : "",
		       strcmp(nvfs_rec_type_name(jc->types[i].type), "?") ? ")" : "",
		       (unsigned long long)jc->types[i].entries,
		       (unsigned long long)jc->types[i].bytes);
	if (jc->other.entries)
		printf("    other types (beyond %d distinct): %llu entries, %llu payload "
		       "bytes\n", TYPE_CAP, (unsigned long long)jc->other.entries,
		       (unsigned long long)jc->other.bytes);
}

/* journal_end_print -- where and why replay stops; the damage (-v) */
static void
journal_end_print(const struct jcheck *jc)
{
	const struct nvfs_journal_report *r = &jc->rep;

	printf("  log end       lsn %llu (offset %#llx), seq %llu: %s\n",
	       (unsigned long long)r->stop_lsn,
	       (unsigned long long)lsn_off(jc, r->stop_lsn),
	       (unsigned long long)r->stop_seq, r->reason);
	if (r->damaged)
		printf("  damaged       %llu valid sets after the end, from lsn %llu "
		       "(offset %#llx), hold seq %llu..%llu: not replayed\n",
		       (unsigned long long)r->skipped_sets,
		       (unsigned long long)r->skipped_from_lsn,
		       (unsigned long long)lsn_off(jc, r->skipped_from_lsn),
		       (unsigned long long)r->skipped_first_seq,
		       (unsigned long long)r->skipped_last_seq);
}

/* journal_print -- the journal's geometry, tail, head and entries (-v) */
static void
journal_print(struct jcheck *jc)
{
	const struct nvfs_journal_stats *st = &jc->st;
	char sz[32];

	if (!jc->present) {
		printf("journal: no journal (mkfs.nvfs -J 0 makes a namespace without one)\n");
		return;
	}
	if (!jc->opened || !jc->nr_buckets || jc->oom) {
		printf("journal: %s\n", jc->opened ? "out of memory listing its buckets"
						   : "cannot be opened (see above)");
		return;
	}
	printf("journal: %llu MiB\n"
	       "  buckets       %u of %s, ring %llu bytes, first at %#llx, last at %#llx\n"
	       "  header page   %#llx\n"
	       "  tail          lsn %llu, seq %llu\n"
	       "  head          lsn %llu, committed seq %llu\n"
	       "  used          %llu of %llu bytes (%.1f%%)\n"
	       "  to replay     %llu entries in %llu sets, %llu payload bytes\n",
	       (unsigned long long)(st->ring_bytes >> 20), st->nr_buckets,
	       size_str(NVFS_JOURNAL_BUCKET_BYTES, sz, sizeof(sz)),
	       (unsigned long long)st->ring_bytes, (unsigned long long)jc->buckets[0],
	       (unsigned long long)jc->buckets[jc->nr_buckets - 1],
	       (unsigned long long)jc->hdr_off,
	       (unsigned long long)st->tail_lsn, (unsigned long long)st->tail_seq,
	       (unsigned long long)st->head_lsn, (unsigned long long)st->committed_seq,
	       (unsigned long long)st->used_bytes, (unsigned long long)st->ring_bytes,
	       (double)st->used_bytes * 100 / (double)st->ring_bytes,
	       (unsigned long long)jc->rep.entries, (unsigned long long)jc->rep.sets,
	       (unsigned long long)jc->rep.payload_bytes);
	journal_types_print(jc);
	journal_end_print(jc);
}

/* journal_summary -- the journal's part of the summary line */
static const char *
journal_summary(const struct jcheck *jc, char *buf, size_t len)
{
	const struct nvfs_journal_report *r = &jc->rep;

	if (!jc->present)
		snprintf(buf, len, "no journal");
	else if (!jc->opened)
		snprintf(buf, len, "journal unusable");
	else if (r->damaged)
		snprintf(buf, len, "journal %llu MiB, %llu entries to replay, damaged "
			 "after them", (unsigned long long)(jc->st.ring_bytes >> 20),
			 (unsigned long long)r->entries);
	else
		snprintf(buf, len, "journal %llu MiB, %llu entries to replay",
			 (unsigned long long)(jc->st.ring_bytes >> 20),
			 (unsigned long long)r->entries);
	return buf;
}

/* verbose_print -- everything -v describes */
static void
verbose_print(const struct fsck *f, struct nvfs_alloc *a,
	      const struct nvfs_alloc_stats *st, struct jcheck *jc)
{
	char line[1024];

	sb_print(nvfs_alloc_sb(a));
	nvfs_pmem_describe(nvfs_alloc_pmem(a), line, sizeof(line));
	printf("%s\n", line);
	free_print(st);
	owners_print(a, st, f->verbose > 1);
	journal_print(jc);
}

/* summary -- the one-line result; returns the exit status */
static int
summary(const struct fsck *f, const struct nvfs_alloc_opts *o,
	const struct nvfs_alloc_stats *st, const struct jcheck *jc)
{
	unsigned repairable = o->nr_problems - o->nr_repaired + f->left;
	unsigned left = repairable + f->journal_left;
	char what[160], journal[128];
	int n = 0;

	if (o->nr_repaired)
		n = snprintf(what, sizeof(what), "%u error%s corrected%s",
			     o->nr_repaired, o->nr_repaired == 1 ? "" : "s",
			     left ? ", " : "");
	if (left)
		snprintf(what + n, sizeof(what) - (size_t)n, "%u error%s left "
			 "uncorrected%s", left, left == 1 ? "" : "s",
			 f->no_write && repairable ?
			 " (checked with -n; run without -n to repair)" : "");
	if (!left && !o->nr_repaired)
		snprintf(what, sizeof(what), "clean");
	printf("%s: %s, %u owners, %llu records, %llu/%llu pages used, %s\n", f->path,
	       what, st->owners, (unsigned long long)st->records,
	       (unsigned long long)(st->pages_total - st->pages_free),
	       (unsigned long long)st->pages_total,
	       journal_summary(jc, journal, sizeof(journal)));
	return (o->nr_repaired ? EXIT_CORRECTED : 0) | (left ? EXIT_LEFT : 0);
}

/* ---- --map: where every structure is ------------------------------------- */

/*
 * The kinds map_print prints, one line each: "KIND OFFSET LENGTH [k=v...]".
 *   sb, sb-copy        the superblock copies (256 bytes)
 *   owner-list         the owner list header (64 bytes)
 *   owner-head         a live owner head (128 bytes): slot=, label=
 *   record-page        the 64-byte header of a record page of a live owner's
 *                      chain: slot=
 *   alloc-record       a non-empty record word (8 bytes): slot=, block=, order=
 *   journal-header     the journal header page's fixed part (64 bytes)
 *   journal-tail       a tail copy (64 bytes): copy=A|B, state=current|older|
 *                      invalid|blank
 *   journal-set        a set header (64 bytes) of the log from the tail:
 *                      lsn=, seq=FIRST..LAST (pad: seq=FIRST, pad), last (the
 *                      set the log ends with)
 *   journal-entry      an entry header (32 bytes): seq=, type=, set=LSN [last]
 *   fs-record          a file system record (nvfs_rec.h): its header, names
 *                      and, but for WRITE, its data: seq=, type=, set= [last]
 *   data               the data of a WRITE record: seq=, ino=, offset=, set=
 *                      [last]
 *   bind               a page of the SOURCE binding (4096 bytes): state=
 *                      current|other, gen=
 * Only what is live is listed: free owner slots, record pages no owner
 * reaches and the ring beyond the end of the log hold nothing.
 */

struct map {
	struct nvfs_alloc *a;
	const struct jcheck *jc;
	uint64_t head_lsn;             /* where the log ends */
	uint64_t bind_cur;             /* offset of the current binding page */
};

/* map_set_bytes -- set_bytes of the (validated) set at lsn */
static uint32_t
map_set_bytes(const struct map *m, uint64_t lsn)
{
	const struct nvfs_pm_jset *s = nvfs_alloc_ptr(m->a, lsn_off(m->jc, lsn));
	return s ? s->set_bytes : 0;
}

/* map_entry -- replay callback: an entry, its record and its data */
static int
map_entry(void *arg, const struct nvfs_journal_entry *e)
{
	const struct map *m = arg;
	const char *base = nvfs_alloc_ptr(m->a, 0);
	uint64_t poff = (uint64_t)((const char *)e->payload - base);
	const char *last = e->lsn + map_set_bytes(m, e->lsn) == m->head_lsn ? " last" : "";
	const char *tname = nvfs_rec_type_name(e->type);
	struct nvfs_rec r;
	char why[200];

	printf("journal-entry %llu %u seq=%llu type=%s set=%llu%s\n",
	       (unsigned long long)(poff - NVFS_JOURNAL_ENTRY_HDR_BYTES),
	       NVFS_JOURNAL_ENTRY_HDR_BYTES, (unsigned long long)e->seq, tname,
	       (unsigned long long)e->lsn, last);
	if (strcmp(tname, "?") == 0 || !e->payload_bytes)
		return 0;
	uint64_t rec_len = e->payload_bytes;
	bool data = false;
	if (e->type == NVFS_REC_WRITE &&
	    nvfs_rec_decode(e->type, e->payload, e->payload_bytes, &r, why, sizeof(why)) == 0 &&
	    r.data_len) {
		rec_len = (uint64_t)((const char *)r.data - (const char *)e->payload);
		data = true;
	}
	printf("fs-record %llu %llu seq=%llu type=%s set=%llu%s\n", (unsigned long long)poff,
	       (unsigned long long)rec_len, (unsigned long long)e->seq, tname,
	       (unsigned long long)e->lsn, last);
	if (data)
		printf("data %llu %llu seq=%llu ino=%llu offset=%llu set=%llu%s\n",
		       (unsigned long long)(poff + rec_len), (unsigned long long)r.data_len,
		       (unsigned long long)e->seq, (unsigned long long)r.id.ino,
		       (unsigned long long)r.a, (unsigned long long)e->lsn, last);
	return 0;
}

/* map_sets -- every set header from the tail to the end of the log */
static void
map_sets(const struct map *m, const struct nvfs_journal_stats *st)
{
	uint64_t seq = st->tail_seq;

	for (uint64_t lsn = st->tail_lsn; lsn < st->head_lsn;) {
		const struct nvfs_pm_jset *s = nvfs_alloc_ptr(m->a, lsn_off(m->jc, lsn));
		if (!s || s->set_bytes < NVFS_JOURNAL_SET_HDR_BYTES)
			break; /* cannot happen: the open's scan validated them */
		bool last = lsn + s->set_bytes == st->head_lsn;
		if (s->flags & NVFS_JSET_PAD)
			printf("journal-set %llu %u lsn=%llu seq=%llu pad%s\n",
			       (unsigned long long)lsn_off(m->jc, lsn), NVFS_JOURNAL_SET_HDR_BYTES,
			       (unsigned long long)lsn, (unsigned long long)seq,
			       last ? " last" : "");
		else
			printf("journal-set %llu %u lsn=%llu seq=%llu..%llu entries=%u%s\n",
			       (unsigned long long)lsn_off(m->jc, lsn), NVFS_JOURNAL_SET_HDR_BYTES,
			       (unsigned long long)lsn, (unsigned long long)seq,
			       (unsigned long long)(seq + s->nr_entries - 1), s->nr_entries,
			       last ? " last" : "");
		seq += s->nr_entries;
		lsn += s->set_bytes;
	}
}

/* map_journal -- the header page, its tail copies, and the log */
static void
map_journal(struct map *m, struct jcheck *jc)
{
	static const uint8_t uuid[NVFS_UUID_BYTES] = NVFS_JOURNAL_OWNER_UUID;
	int owner = nvfs_alloc_owner_find(m->a, uuid);
	struct nvfs_journal_stats st;
	struct nvfs_journal *j;

	if (owner < 0)
		return;
	nvfs_alloc_foreach(m->a, owner, journal_block, jc);
	if (!jc->nr_buckets || !jc->hdr_off || jc->oom)
		return;
	qsort(jc->buckets, jc->nr_buckets, sizeof(jc->buckets[0]), cmp_u64);
	const struct nvfs_pm_journal_hdr *h = nvfs_alloc_ptr(m->a, jc->hdr_off);
	if (!h)
		return;
	printf("journal-header %llu %zu\n", (unsigned long long)jc->hdr_off, sizeof(*h));
	uint64_t seed = nvfs_csum(&h->journal_id, 8, nvfs_ns_seed(nvfs_alloc_sb(m->a)));
	const struct nvfs_pm_journal_tail *t[2] = {
		(const void *)((const char *)h + NVFS_JOURNAL_TAIL_OFF0),
		(const void *)((const char *)h + NVFS_JOURNAL_TAIL_OFF1) };
	bool ok[2];
	for (int i = 0; i < 2; i++)
		ok[i] = t[i]->magic == NVFS_JOURNAL_TAIL_MAGIC &&
			t[i]->csum == nvfs_csum((const uint8_t *)t[i] + 16,
						sizeof(*t[i]) - 16, seed);
	for (int i = 0; i < 2; i++) {
		static const struct nvfs_pm_journal_tail zero;
		const char *state = !ok[i] ? (memcmp(t[i], &zero, sizeof(zero)) ?
					      "invalid" : "blank") :
				    !ok[!i] || t[i]->gen > t[!i]->gen ? "current" : "older";
		printf("journal-tail %llu %zu copy=%c state=%s gen=%llu\n",
		       (unsigned long long)(jc->hdr_off + (i ? NVFS_JOURNAL_TAIL_OFF1 :
							    NVFS_JOURNAL_TAIL_OFF0)),
		       sizeof(*t[i]), i ? 'B' : 'A', state, (unsigned long long)t[i]->gen);
	}
	if (nvfs_journal_open(m->a, NULL, NVFS_JOURNAL_RDONLY, &j))
		return;
	nvfs_journal_stats(j, &st);
	m->head_lsn = st.head_lsn;
	map_sets(m, &st);
	nvfs_journal_replay(j, map_entry, m, NULL);
	nvfs_journal_close(&j);
}

/* map_bind_page -- foreach callback: a page of the binding owner */
static int
map_bind_page(void *arg, uint64_t off, unsigned order)
{
	struct map *m = arg;
	const struct nvfs_pm_bind *p = nvfs_alloc_ptr(m->a, off);

	if (order != 0 || !p)
		return 0;
	printf("bind %llu %u state=%s gen=%llu\n", (unsigned long long)off, NVFS_PAGE_BYTES,
	       off == m->bind_cur ? "current" : "other", (unsigned long long)p->gen);
	return 0;
}

/* map_owners -- live owner heads, their record pages and records */
static void
map_owners(struct map *m)
{
	static bool seen[NVFS_RECS_PAGES];

	memset(seen, 0, sizeof(seen));
	for (unsigned s = 0; s < NVFS_OWNER_SLOTS; s++) {
		uint64_t hoff = NVFS_OWNER_LIST_OFF + NVFS_OWNER_LIST_HDR_BYTES +
				(uint64_t)s * NVFS_OWNER_HEAD_BYTES;
		const struct nvfs_pm_owner_head *h = nvfs_alloc_ptr(m->a, hoff);
		char label[NVFS_LABEL_BYTES + 1];
		if (!h || !h->commit)
			continue;
		nvfs_label_text(label, h->label, NVFS_LABEL_BYTES);
		for (char *c = label; *c; c++)
			if (*c == ' ' || *c < 0x21 || *c > 0x7e)
				*c = '_';
		printf("owner-head %llu %u slot=%u label=%s\n", (unsigned long long)hoff,
		       NVFS_OWNER_HEAD_BYTES, s, label);
		for (uint64_t off = h->recs_off[0]; off;) {
			if (off < NVFS_RECS_AREA_OFF || off >= NVFS_PAGES_OFF ||
			    (off - NVFS_RECS_AREA_OFF) % NVFS_RECS_PAGE_BYTES)
				break;
			uint64_t i = (off - NVFS_RECS_AREA_OFF) / NVFS_RECS_PAGE_BYTES;
			const struct nvfs_pm_recs_page *p = nvfs_alloc_ptr(m->a, off);
			if (seen[i] || !p)
				break;
			seen[i] = true;
			printf("record-page %llu %u slot=%u\n", (unsigned long long)off,
			       NVFS_RECS_HDR_BYTES, s);
			for (unsigned r = 0; r < NVFS_RECS_PER_PAGE; r++)
				if (p->recs[r])
					printf("alloc-record %llu 8 slot=%u block=%#llx order=%u\n",
					       (unsigned long long)(off + NVFS_RECS_HDR_BYTES + 8u * r),
					       s, (unsigned long long)(nvfs_pm_rec_pgoff(p->recs[r]) *
								       NVFS_PAGE_BYTES),
					       nvfs_pm_rec_order(p->recs[r]));
			off = p->next_off;
		}
	}
}

/*
 * map_print -- the --map listing (see above); the namespace is opened as
 * fsck -n opens it, and what cannot be found (a damaged owner list, a
 * journal that does not open) is left out.  Exit status: 0, or fsck's.
 */
static int
map_print(const char *path)
{
	static const uint8_t bind_uuid[NVFS_UUID_BYTES] = NVFS_BIND_OWNER_UUID;
	struct nvfs_alloc_opts o = { .flags = NVFS_ALLOC_CHECK | NVFS_ALLOC_RDONLY };
	struct jcheck jc = { 0 };
	struct nvfs_bind_info bi;
	struct map m = { .jc = &jc };
	int rc = nvfs_alloc_open(path, &o, &m.a);

	if (rc)
		return open_fail(rc);
	printf("sb %u %u\nsb-copy %u %u\nowner-list %u %u\n", NVFS_SB_OFF, NVFS_SB_BYTES,
	       NVFS_SB_BACKUP_OFF, NVFS_SB_BYTES, NVFS_OWNER_LIST_OFF,
	       NVFS_OWNER_LIST_HDR_BYTES);
	map_owners(&m);
	map_journal(&m, &jc);
	int owner = nvfs_alloc_owner_find(m.a, bind_uuid);
	if (owner >= 0) {
		if (nvfs_bind_get(m.a, &bi) == 0)
			m.bind_cur = bi.page_off;
		nvfs_alloc_foreach(m.a, owner, map_bind_page, &m);
	}
	nvfs_alloc_close(&m.a);
	free(jc.buckets);
	return o.nr_problems ? EXIT_LEFT : EXIT_CLEAN;
}

/* main -- open in CHECK mode, verify, check the journal, report */
int
main(int argc, char *argv[])
{
	struct fsck f = { 0 };
	struct jcheck jc = { 0 };
	struct nvfs_alloc_stats st;
	struct nvfs_alloc *a;
	int rc;

	nvfs_tool_init(PROG, USAGE, EXIT_OPERATION);
	parse_args(argc, argv, &f);
	if (f.map)
		return map_print(f.path);
	struct nvfs_alloc_opts o = {
		.flags = NVFS_ALLOC_CHECK |
			 (f.no_write ? NVFS_ALLOC_RDONLY : NVFS_ALLOC_REPAIR),
		.problem = problem,
		.arg = &f,
	};
	rc = nvfs_alloc_open(f.path, &o, &a);
	if (rc)
		return open_fail(rc);
	if (!f.no_write && nvfs_alloc_readonly(a))
		nvfs_info("%s: unknown read-only-compatible features: checked "
			  "read-only, nothing can be repaired", f.path);
	rc = nvfs_alloc_check(a);
	if (rc) {
		problem(&f, nvfs_errmsg(), false);
		f.left++;
	}
	journal_check(&f, a, &jc);
	bind_check(&f, a, &jc);
	nvfs_alloc_stats(a, &st);
	if (f.verbose)
		verbose_print(&f, a, &st, &jc);
	rc = summary(&f, &o, &st, &jc);
	nvfs_alloc_close(&a);
	free(jc.buckets);
	return rc;
}
