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
 * on success, 1 on any error (nvfs_tool.h).  The work is done by
 * nvfs_mkpmem.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvfs_err.h"
#include "nvfs_mkpmem.h"
#include "nvfs_ns.h"
#include "nvfs_parse.h"
#include "nvfs_tool.h"

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

/* parse_opt -- one option of the command line; exits on a bad one */
static void
parse_opt(int c, struct args *a)
{
	switch (c) {
	case 's':
		if (nvfs_parse_size(optarg, &a->size))
			nvfs_die("%s", nvfs_errmsg());
		a->size_given = true;
		break;
	case 'f':
		a->force = true;
		break;
	case 'J':
		if (nvfs_parse_size(optarg, &a->journal_bytes))
			nvfs_die("%s", nvfs_errmsg());
		a->no_journal = a->journal_bytes == 0;
		a->journal_given = true;
		break;
	case 'L':
		if (strlen(optarg) >= NVFS_LABEL_BYTES)
			nvfs_die("label '%s' is longer than %u bytes", optarg,
				 NVFS_LABEL_BYTES - 1);
		a->label = *optarg ? optarg : NULL;
		break;
	case 'V':
		nvfs_tool_version();
	case 'h':
		help();
		exit(0);
	}
}

/* parse_args -- the command line into *a; exits on a usage error */
static void
parse_args(int argc, char *argv[], struct args *a)
{
	int c;

	while ((c = nvfs_tool_getopt(argc, argv, ":s:J:fL:Vh")) != -1) {
		if (c == ':' || c == '?')
			nvfs_die_getopt(c, argv);
		parse_opt(c, a);
	}
	a->path = nvfs_tool_operand(argc, argv, "PMEM");
	if (a->size_given && a->size == 0)
		nvfs_die("%s: 0 bytes is too small: nvfs needs at least %u bytes "
			 "(%u MiB)", a->path, NVFS_MIN_NS_BYTES, NVFS_MIN_NS_BYTES >> 20);
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

	nvfs_tool_init(PROG, USAGE, 1);
	parse_args(argc, argv, &a);
	struct nvfs_mkpmem_opts o = {
		.size = a.size, .label = a.label, .force = a.force,
		.warn = nvfs_tool_warn, .no_journal = a.no_journal,
		.journal_bytes = a.journal_bytes,
	};
	rc = nvfs_mkpmem(a.path, &o, &info);
	if (rc == -ENOENT && !a.size_given)
		nvfs_die("%s; give -s SIZE to create it", nvfs_errmsg());
	if (rc == -EEXIST || rc == -ENOTEMPTY)
		nvfs_die("%s; use -f to overwrite it", nvfs_errmsg());
	if (rc == -ENOSPC && !a.journal_given)
		nvfs_die("%s; give a larger -s, or -J 0 for a namespace without a "
			 "journal", nvfs_errmsg());
	if (rc)
		nvfs_die("%s", nvfs_errmsg());
	summary(&a, &info);
	return 0;
}
