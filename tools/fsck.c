/* SPDX-License-Identifier: MIT */
/*
 * fsck.c -- fsck.nvfs: check (and by default repair) an nvfs namespace.
 *
 *     fsck.nvfs [-n] [-y] [-v] [-V] [-h] PMEM
 *
 * -n checks read-only and never writes; the default (also -y, and -a/-p for
 * fsck(8) compatibility) repairs what it finds.  -f is accepted and ignored
 * (every run is a full check).  Each problem is one line
 * "fsck.nvfs: PMEM: <message> (repaired|not repaired)".
 *
 * Exit status, as fsck(8) defines it (the bits may combine):
 *   0 clean, 1 errors corrected, 4 errors left uncorrected,
 *   8 operational error: cannot open, in use, not an nvfs namespace,
 *     unsupported version or feature, usage error.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nvfs_alloc.h"
#include "nvfs_err.h"
#include "nvfs_ns.h"
#include "nvfs_pmem.h"

#define PROG "fsck.nvfs"
#define USAGE "usage: " PROG " [-n] [-y] [-v] [-V] [-h] PMEM"

#define EXIT_CLEAN      0
#define EXIT_CORRECTED  1
#define EXIT_LEFT       4
#define EXIT_OPERATION  8

/* owner allocations listed per owner with a single -v */
#define LIST_CAP 50

struct fsck {
	const char *path;
	bool no_write;          /* -n */
	bool repair;            /* -y, -a, -p */
	int verbose;            /* number of -v */
	unsigned left;          /* problems not repaired, beyond the open's */
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
	       "  -v     describe the superblock, free space and every owner;\n"
	       "         twice: list every allocation (else %d per owner)\n"
	       "  -V     print the version and exit\n"
	       "  -h     print this help and exit\n\n"
	       "Exit status: 0 clean, 1 errors corrected, 4 errors left uncorrected,\n"
	       "8 operational error (cannot open, in use, not nvfs, unsupported,\n"
	       "usage).\n", USAGE, LIST_CAP);
}

/* die -- one line "fsck.nvfs: ..." on stderr, exit 8 */
static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_OPERATION);
}

/* parse_args -- the command line into *f; exits on a usage error */
static void
parse_args(int argc, char *argv[], struct fsck *f)
{
	int c;

	opterr = 0;
	while ((c = getopt(argc, argv, "nyapfvVh")) != -1) {
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
		case 'V':
			printf(PROG " (nvfs) %s\n", NVFS_VERSION);
			exit(EXIT_CLEAN);
		case 'h':
			help();
			exit(EXIT_CLEAN);
		default:
			die("unknown option '-%c' (%s)", optopt, USAGE);
		}
	}
	if (f->no_write && f->repair)
		die("-n cannot be combined with -y, -a or -p (%s)", USAGE);
	if (optind == argc)
		die("missing PMEM argument (%s)", USAGE);
	if (optind + 1 < argc)
		die("unexpected argument '%s' (%s)", argv[optind + 1], USAGE);
	f->path = argv[optind];
}

/* problem -- the allocator's report of one problem */
static void
problem(void *arg, const char *msg, bool repaired)
{
	const struct fsck *f = arg;

	printf(PROG ": %s: %s (%s)\n", f->path, msg,
	       repaired ? "repaired" : "not repaired");
}

/* open_fail -- report a failed open; the exit status for it */
static int
open_fail(int rc)
{
	fprintf(stderr, PROG ": %s\n", nvfs_errmsg());
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
	printf("superblock:\n"
	       "  version       %u\n"
	       "  features      compat 0x%llx, incompat 0x%llx, ro_compat 0x%llx\n"
	       "  ns uuid       %s\n"
	       "  set uuid      %s\n"
	       "  label         '%.*s'\n"
	       "  ns_bytes      %llu (%.1f MiB)\n"
	       "  pages_off     %llu\n"
	       "  pages_total   %llu\n"
	       "  format time   %s\n", sb->version,
	       (unsigned long long)sb->feature_compat,
	       (unsigned long long)sb->feature_incompat,
	       (unsigned long long)sb->feature_ro_compat, ns_uuid, set_uuid,
	       (int)NVFS_LABEL_BYTES, (const char *)sb->label,
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
		printf("  slot %d: uuid %s, label '%s', %llu allocations, %llu pages, "
		       "%u record pages\n", s, uuid, info.label,
		       (unsigned long long)info.nr_allocs,
		       (unsigned long long)info.nr_pages, info.nr_recs_pages);
		nvfs_alloc_foreach(a, s, alloc_print, &l);
		if (l.more)
			printf("    ... %llu more\n", (unsigned long long)l.more);
	}
}

/* verbose_print -- everything -v describes */
static void
verbose_print(const struct fsck *f, struct nvfs_alloc *a,
	      const struct nvfs_alloc_stats *st)
{
	char line[1024];

	sb_print(nvfs_alloc_sb(a));
	nvfs_pmem_describe(nvfs_alloc_pmem(a), line, sizeof(line));
	printf("%s\n", line);
	free_print(st);
	owners_print(a, st, f->verbose > 1);
}

/* summary -- the one-line result; returns the exit status */
static int
summary(const struct fsck *f, const struct nvfs_alloc_opts *o,
	const struct nvfs_alloc_stats *st)
{
	unsigned left = o->nr_problems - o->nr_repaired + f->left;
	char what[160];
	int n = 0;

	if (o->nr_repaired)
		n = snprintf(what, sizeof(what), "%u error%s corrected%s",
			     o->nr_repaired, o->nr_repaired == 1 ? "" : "s",
			     left ? ", " : "");
	if (left)
		snprintf(what + n, sizeof(what) - (size_t)n, "%u error%s left "
			 "uncorrected%s", left, left == 1 ? "" : "s", f->no_write ?
			 " (checked with -n; run without -n to repair)" : "");
	if (!left && !o->nr_repaired)
		snprintf(what, sizeof(what), "clean");
	printf("%s: %s, %u owners, %llu records, %llu/%llu pages used\n", f->path,
	       what, st->owners, (unsigned long long)st->records,
	       (unsigned long long)(st->pages_total - st->pages_free),
	       (unsigned long long)st->pages_total);
	return (o->nr_repaired ? EXIT_CORRECTED : 0) | (left ? EXIT_LEFT : 0);
}

/* main -- open in CHECK mode, verify, report */
int
main(int argc, char *argv[])
{
	struct fsck f = { 0 };
	struct nvfs_alloc_stats st;
	struct nvfs_alloc *a;
	int rc;

	parse_args(argc, argv, &f);
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
		printf(PROG ": %s: unknown read-only-compatible features: checked "
		       "read-only, nothing can be repaired\n", f.path);
	rc = nvfs_alloc_check(a);
	if (rc) {
		problem(&f, nvfs_errmsg(), false);
		f.left++;
	}
	nvfs_alloc_stats(a, &st);
	if (f.verbose)
		verbose_print(&f, a, &st);
	rc = summary(&f, &o, &st);
	nvfs_alloc_close(&a);
	return rc;
}
