/* SPDX-License-Identifier: MIT */
/*
 * mkfs.c -- mkfs.nvfs: make a pmem file or device-DAX an empty nvfs
 * namespace.
 *
 *     mkfs.nvfs [-s SIZE] [-J SIZE] [-f] [-L LABEL] [-V|--version] [-h|--help]
 *               PMEM
 *
 * A missing PMEM is created when -s is given.  Data already on PMEM (an
 * nvfs namespace or anything else non-zero) is only overwritten with -f.
 * The namespace gets a journal of -J SIZE (default: nvfs_journal_fit's),
 * none with -J 0.
 * Every error is one line on stderr starting "mkfs.nvfs: "; exit status 0
 * on success, 1 on any error.  The work is done by nvfs_mkpmem.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvfs_err.h"
#include "nvfs_mkpmem.h"
#include "nvfs_ns.h"
#include "nvfs_parse.h"

#define PROG "mkfs.nvfs"
#define USAGE "usage: " PROG " [-s SIZE] [-J SIZE] [-f] [-L LABEL] [-V] [-h] PMEM"
/* The smallest namespace with a journal: the metadata, 2 buckets and the
 * journal's header page (nvfs_journal_fit). */
#define MIN_JOURNAL_NS_BYTES \
	(NVFS_PAGES_OFF + NVFS_JOURNAL_MIN_BUCKETS * NVFS_JOURNAL_BUCKET_BYTES + \
	 NVFS_PAGE_BYTES)

struct args {
	const char *path;
	const char *label;
	uint64_t size;
	bool size_given;
	bool force;
	uint64_t journal_bytes;
	bool journal_given;
	bool no_journal;
};

/* help -- the full usage text, on stdout */
static void
help(void)
{
	printf("%s\n\n"
	       "Make PMEM (a file or a device-DAX) an empty nvfs namespace.\n\n"
	       "  -s SIZE   size of the namespace in bytes; suffixes K, M, G, T (and\n"
	       "            KiB...) are binary multiples.  A missing PMEM is created\n"
	       "            with this size and an existing file is resized to it.\n"
	       "            Default: the whole file or device.  Minimum: %u bytes\n"
	       "            with -J 0, %u bytes with the smallest journal.\n"
	       "  -f        overwrite an existing nvfs namespace or other data\n"
	       "  -J SIZE   size of the journal, in whole 4 MiB buckets (at least 8 MiB);\n"
	       "            default: a quarter of the namespace, 8 MiB to 1 GiB.\n"
	       "            -J 0 makes a namespace without a journal.\n"
	       "  -L LABEL  a label of at most %u bytes\n"
	       "  -V, --version  print the version and exit\n"
	       "  -h, --help     print this help and exit\n",
	       USAGE, NVFS_MIN_NS_BYTES, (unsigned)MIN_JOURNAL_NS_BYTES,
	       NVFS_LABEL_BYTES - 1);
}

/* die -- print one line "mkfs.nvfs: ..." on stderr and exit 1 */
static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* parse_opt -- one option of the command line; exits on a bad one */
static void
parse_opt(int c, struct args *a)
{
	switch (c) {
	case 's':
		if (nvfs_parse_size(optarg, &a->size))
			die("%s", nvfs_errmsg());
		a->size_given = true;
		break;
	case 'f':
		a->force = true;
		break;
	case 'J':
		if (nvfs_parse_size(optarg, &a->journal_bytes))
			die("%s", nvfs_errmsg());
		a->no_journal = a->journal_bytes == 0;
		a->journal_given = true;
		break;
	case 'L':
		if (strlen(optarg) >= NVFS_LABEL_BYTES)
			die("label '%s' is longer than %u bytes", optarg,
			    NVFS_LABEL_BYTES - 1);
		a->label = *optarg ? optarg : NULL;
		break;
	case 'V':
		printf(PROG " (nvfs) %s\n", NVFS_VERSION);
		exit(0);
	case 'h':
		help();
		exit(0);
	case ':':
		die("option '-%c' needs an argument (%s)", optopt, USAGE);
	default:
		die("unknown option '-%c' (%s)", optopt, USAGE);
	}
}

/* parse_args -- the command line into *a; exits on a usage error */
static void
parse_args(int argc, char *argv[], struct args *a)
{
	static const struct option longopts[] = {
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, idx = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:J:fL:Vh", longopts, &idx)) != -1) {
		if (c == '?' && !optopt)
			die("unknown option '%s' (%s)", argv[optind - 1], USAGE);
		parse_opt(c, a);
	}
	if (optind == argc)
		die("missing PMEM argument (%s)", USAGE);
	if (optind + 1 < argc)
		die("unexpected argument '%s' (%s)", argv[optind + 1], USAGE);
	a->path = argv[optind];
	if (a->size_given && a->size == 0)
		die("%s: 0 bytes is too small: nvfs needs at least %u bytes (%u MiB)",
		    a->path, NVFS_MIN_NS_BYTES, NVFS_MIN_NS_BYTES >> 20);
}

/* warn -- a warning from nvfs_mkpmem */
static void
warn(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, PROG ": warning: %s\n", msg);
}

/* summary -- the one line describing the new namespace */
static void
summary(const struct args *a, const struct nvfs_mkpmem_info *info)
{
	char uuid[37], journal[64];

	nvfs_ns_uuid_str(info->uuid, uuid);
	if (info->journal_bytes)
		snprintf(journal, sizeof(journal), "journal %llu MiB",
			 (unsigned long long)(info->journal_bytes >> 20));
	else
		snprintf(journal, sizeof(journal), "no journal");
	printf("%s: %s nvfs namespace of %llu bytes (%.1f MiB), %llu allocatable "
	       "4 KiB pages, uuid %s, label '%s', store granularity %s, %s\n", a->path,
	       info->created ? "created a new" : "formatted an",
	       (unsigned long long)info->ns_bytes,
	       (double)info->ns_bytes / (1 << 20),
	       (unsigned long long)info->pages_total, uuid,
	       a->label ? a->label : "", nvfs_pmem_gran_name(info->gran), journal);
}

/* main -- parse, make the namespace, report */
int
main(int argc, char *argv[])
{
	struct args a = { 0 };
	struct nvfs_mkpmem_info info;
	int rc;

	parse_args(argc, argv, &a);
	struct nvfs_mkpmem_opts o = {
		.size = a.size, .label = a.label, .force = a.force, .warn = warn,
		.no_journal = a.no_journal, .journal_bytes = a.journal_bytes,
	};
	rc = nvfs_mkpmem(a.path, &o, &info);
	if (rc == -ENOENT && !a.size_given)
		die("%s; give -s SIZE to create it", nvfs_errmsg());
	if (rc == -EEXIST || rc == -ENOTEMPTY)
		die("%s; use -f to overwrite it", nvfs_errmsg());
	if (rc == -ENOSPC && !a.journal_given)
		die("%s; give a larger -s, or -J 0 for a namespace without a journal",
		    nvfs_errmsg());
	if (rc)
		die("%s", nvfs_errmsg());
	summary(&a, &info);
	return 0;
}
