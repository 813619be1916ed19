/* SPDX-License-Identifier: MIT */
/*
 * main.c -- mount.nvfs, the mount(8) helper.
 *
 *     mount.nvfs SOURCE MOUNTPOINT [-o OPTIONS] [-f] [-n] [-s] [-v]
 *                [--help] [--version]
 *
 * TEMPORARY: the nvfs file system itself is not implemented yet.  This
 * helper does everything a mount will do before starting the file system:
 * it parses the options, checks SOURCE and MOUNTPOINT, chooses the pmem,
 * creates and formats it, with the default journal, if it is missing or all
 * zero (nvfs_mkpmem, as mkfs.nvfs does) or else validates it
 * (nvfs_alloc_open, then the journal, opened read-only and replayed without
 * applying anything: a pmem without a journal or with a damaged one is
 * refused) -- and then says that nothing was mounted and exits 2.  The FUSE
 * session will take over from mount_fs().
 *
 * Errors, usage errors included, are one line "mount.nvfs: ..." on stderr
 * and exit 1.
 *
 * The default pmem is <state>/<name>.pmem, <name> being the basename of
 * realpath(SOURCE) ("root" for /), "-" and the first 16 hex digits of the
 * XXH3-64 of that realpath; <state> is /var/lib/nvfs for root and
 * $XDG_STATE_HOME/nvfs (~/.local/state/nvfs) for other users.  The
 * undocumented environment variable NVFS_STATE_DIR overrides <state>, for
 * tests.
 */
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nvfs_alloc.h"
#include "nvfs_csum.h"
#include "nvfs_err.h"
#include "nvfs_journal.h"
#include "nvfs_mkpmem.h"
#include "nvfs_ns.h"
#include "nvfs_parse.h"
#include "nvfs_pmem.h"

#define PROG "mount.nvfs"
#define USAGE "usage: " PROG " SOURCE MOUNTPOINT [-o OPTIONS] [-f] [-n] [-s] [-v]"
#define DEFAULT_PMEM_SIZE (UINT64_C(1) << 30)
/* The smallest pmem that holds a namespace and the smallest journal: the
 * metadata, 2 buckets and the journal's header page (nvfs_journal_fit). */
#define MIN_PMEM_SIZE \
	(NVFS_PAGES_OFF + NVFS_JOURNAL_MIN_BUCKETS * NVFS_JOURNAL_BUCKET_BYTES + \
	 NVFS_PAGE_BYTES)
#define EXIT_NOT_MOUNTED 2

struct mnt {
	const char *source;             /* as given */
	const char *mountpoint;
	char src_real[PATH_MAX];        /* their realpaths */
	char mp_real[PATH_MAX];
	char pmem[PATH_MAX];            /* pmem= or the default */
	bool pmem_given;
	uint64_t pmem_size;             /* pmem_size=, for a new pmem */
	bool pmem_size_given;
	bool fake;                      /* -f: check and prepare, do not mount */
	bool sloppy;                    /* -s: ignore unknown options */
	bool verbose;                   /* -v */
};

/* die -- one line "mount.nvfs: ..." on stderr, exit 1 */
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

/* info -- one line "mount.nvfs: ..." on stdout */
static void __attribute__((format(printf, 1, 2)))
info(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* help -- the full usage text, on stdout */
static void
help(void)
{
	printf("%s\n\n"
	       "Mount the nvfs file system journaling SOURCE (a directory) on\n"
	       "MOUNTPOINT, with its journal in a pmem file or device-DAX.\n\n"
	       "  -o OPTIONS   comma-separated mount options:\n"
	       "       pmem=PATH        the pmem (default: /var/lib/nvfs/NAME.pmem for\n"
	       "                        root, else $XDG_STATE_HOME/nvfs/NAME.pmem)\n"
	       "       pmem_size=SIZE   size of a pmem file created or formatted by\n"
	       "                        this mount (K, M, G, T suffixes; default 1G,\n"
	       "                        at least %u bytes: 24 MiB and a page)\n"
	       "       accepted and ignored: allow_other, default_permissions, ro, rw,\n"
	       "       fsname=, subtype=, auto_unmount, _netdev, noauto, nofail,\n"
	       "       defaults, user, users, x-*\n"
	       "  -f           fake: check and prepare everything but do not mount\n"
	       "  -n           do not write /etc/mtab (accepted; nvfs never does)\n"
	       "  -s           sloppy: ignore unknown options\n"
	       "  -v           verbose\n"
	       "  --help       print this help and exit\n"
	       "  --version    print the version and exit\n\n"
	       "A missing or all-zero pmem is created and formatted with a journal\n"
	       "of a quarter of its pages (8 MiB to 1 GiB); an existing one must hold\n"
	       "a valid nvfs namespace with an intact journal (see mkfs.nvfs,\n"
	       "fsck.nvfs).\n",
	       USAGE, (unsigned)MIN_PMEM_SIZE);
}

/* opt_ignored -- true for the mount/FUSE options this helper ignores */
static bool
opt_ignored(const char *opt)
{
	static const char *const names[] = {
		"allow_other", "default_permissions", "ro", "rw", "auto_unmount",
		"_netdev", "noauto", "nofail", "defaults", "user", "users", NULL,
	};
	static const char *const prefixes[] = { "fsname=", "subtype=", "x-", NULL };

	for (const char *const *n = names; *n; n++)
		if (strcmp(opt, *n) == 0)
			return true;
	for (const char *const *p = prefixes; *p; p++)
		if (strncmp(opt, *p, strlen(*p)) == 0)
			return true;
	return false;
}

/*
 * pmem_size_check -- a pmem made by a mount gets the default journal, so it
 * must hold the namespace metadata and at least the smallest journal
 */
static void
pmem_size_check(const char *opt, uint64_t size)
{
	uint64_t journal = 0; /* the default */

	if (size >= NVFS_MIN_NS_BYTES &&
	    nvfs_journal_fit(size & ~(uint64_t)(NVFS_PAGE_BYTES - 1), &journal) == 0)
		return;
	die("option '%s': %llu bytes is too small: nvfs needs at least %u bytes (24 "
	    "MiB and a page) for the namespace and its journal", opt,
	    (unsigned long long)size, (unsigned)MIN_PMEM_SIZE);
}

/* parse_opt -- one item of -o; exits on a bad one */
static void
parse_opt(struct mnt *m, const char *opt)
{
	if (strncmp(opt, "pmem=", 5) == 0) {
		if (!opt[5])
			die("option 'pmem=' needs a path");
		if (strlen(opt + 5) >= sizeof(m->pmem))
			die("option 'pmem=': path is too long");
		snprintf(m->pmem, sizeof(m->pmem), "%s", opt + 5);
		m->pmem_given = true;
	} else if (strncmp(opt, "pmem_size=", 10) == 0) {
		if (nvfs_parse_size(opt + 10, &m->pmem_size))
			die("option 'pmem_size': %s", nvfs_errmsg());
		pmem_size_check(opt, m->pmem_size);
		m->pmem_size_given = true;
	} else if (!opt_ignored(opt)) {
		if (!m->sloppy)
			die("unknown option '%s'", opt);
		if (m->verbose)
			info("ignoring unknown option '%s' (-s)", opt);
	}
}

/* parse_opts -- a comma-separated -o list; empty items are skipped */
static void
parse_opts(struct mnt *m, const char *list)
{
	char *copy = strdup(list), *save = NULL;

	if (!copy)
		die("out of memory");
	for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save))
		parse_opt(m, o);
	free(copy);
}

/*
 * parse_args -- the command line into *m; exits on a usage error.  The -o
 * lists are parsed after the flags, so that -s and -v apply to them
 * wherever they appear.
 */
static void
parse_args(int argc, char *argv[], struct mnt *m)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *lists[64];
	unsigned nr_lists = 0;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:fnsvh", longopts, NULL)) != -1) {
		if (c == 'o' && nr_lists == sizeof(lists) / sizeof(lists[0]))
			die("too many -o options");
		switch (c) {
		case 'o':
			lists[nr_lists++] = optarg;
			break;
		case 'f':
			m->fake = true;
			break;
		case 'n':
			break;
		case 's':
			m->sloppy = true;
			break;
		case 'v':
			m->verbose = true;
			break;
		case 'h':
			help();
			exit(0);
		case 'V':
			printf(PROG " (nvfs) %s\n", NVFS_VERSION);
			exit(0);
		case ':':
			die("option '-%c' needs an argument (%s)", optopt, USAGE);
		default:
			if (optopt)
				die("unknown option '-%c' (%s)", optopt, USAGE);
			die("unknown option '%s' (%s)", argv[optind - 1], USAGE);
		}
	}
	if (argc - optind != 2)
		die("%s (%s)", argc - optind < 2 ? "missing SOURCE or MOUNTPOINT" :
		    "too many arguments", USAGE);
	m->source = argv[optind];
	m->mountpoint = argv[optind + 1];
	for (unsigned i = 0; i < nr_lists; i++)
		parse_opts(m, lists[i]);
}

/* resolve_dir -- realpath of an existing directory; exits if it is not one */
static void
resolve_dir(const char *what, const char *path, char real[PATH_MAX])
{
	struct stat st;

	if (!realpath(path, real)) {
		if (errno == ENOENT)
			die("%s %s: does not exist", what, path);
		die("%s %s: %s", what, path, strerror(errno));
	}
	if (stat(real, &st) < 0)
		die("%s %s: %s", what, path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		die("%s %s: not a directory", what, path);
}

/* inside -- true if the (real) path lies strictly below the (real) dir */
static bool
inside(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return strcmp(path, "/") != 0;
	return strncmp(path, dir, n) == 0 && path[n] == '/';
}

/* check_dirs -- SOURCE and MOUNTPOINT exist, are directories, and apart */
static void
check_dirs(struct mnt *m)
{
	resolve_dir("SOURCE", m->source, m->src_real);
	resolve_dir("MOUNTPOINT", m->mountpoint, m->mp_real);
	if (strcmp(m->src_real, m->mp_real) == 0)
		die("MOUNTPOINT %s is the same directory as SOURCE %s", m->mountpoint,
		    m->source);
	if (inside(m->mp_real, m->src_real))
		die("MOUNTPOINT %s is inside SOURCE %s (%s): the file system would "
		    "contain itself", m->mountpoint, m->source, m->src_real);
}

/* mkdir_p -- create dir and its missing parents, mode 0700 */
static void
mkdir_p(const char *dir)
{
	char buf[PATH_MAX];
	struct stat st;

	snprintf(buf, sizeof(buf), "%s", dir);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			die("cannot create the state directory %s: %s", buf,
			    strerror(errno));
		*p = c;
		if (!c)
			break;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		die("state directory %s: not a directory", dir);
}

/* state_dir -- the directory of default pmem files (see the top) */
static void
state_dir(char *buf, size_t len)
{
	const char *env = getenv("NVFS_STATE_DIR"); /* undocumented, for tests */
	const char *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return;
	}
	if (geteuid() == 0) {
		snprintf(buf, len, "/var/lib/nvfs");
		return;
	}
	if (xdg && xdg[0] == '/') { /* the XDG spec ignores relative values */
		snprintf(buf, len, "%s/nvfs", xdg);
		return;
	}
	if (!home || !*home) {
		struct passwd *pw = getpwuid(geteuid());
		home = pw ? pw->pw_dir : NULL;
	}
	if (!home || !*home)
		die("cannot find a home directory for the default pmem; give "
		    "-o pmem=PATH");
	snprintf(buf, len, "%s/.local/state/nvfs", home);
}

/* default_pmem -- <state>/<basename>-<hash>.pmem; creates <state> */
static void
default_pmem(struct mnt *m)
{
	char dir[PATH_MAX];
	const char *base = strrchr(m->src_real, '/') + 1;
	uint64_t h = nvfs_csum(m->src_real, strlen(m->src_real), 0);

	if (!*base)
		base = "root";
	state_dir(dir, sizeof(dir));
	mkdir_p(dir);
	/* %.200s keeps the name below NAME_MAX. */
	if (snprintf(m->pmem, sizeof(m->pmem), "%s/%.200s-%016llx.pmem", dir, base,
		     (unsigned long long)h) >= (int)sizeof(m->pmem))
		die("state directory %s: path is too long", dir);
}

/*
 * check_pmem_place -- the pmem must not live inside SOURCE or MOUNTPOINT:
 * it would be visible (or hidden) through the file system it journals.
 */
static void
check_pmem_place(const struct mnt *m)
{
	char buf[PATH_MAX], dir[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", m->pmem);
	if (!realpath(dirname(buf), dir))
		return; /* creating it will say what is wrong */
	if (strcmp(dir, m->src_real) == 0 || inside(dir, m->src_real))
		die("pmem %s is inside SOURCE %s", m->pmem, m->source);
	if (strcmp(dir, m->mp_real) == 0 || inside(dir, m->mp_real))
		die("pmem %s is inside MOUNTPOINT %s", m->pmem, m->mountpoint);
}

/* warn -- a warning from nvfs_mkpmem */
static void
warn(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, PROG ": warning: %s\n", msg);
}

/*
 * pmem_make -- create and format the pmem if it is missing or all zero;
 * leave it alone if it holds an nvfs namespace.  Exits on errors.
 */
static void
pmem_make(const struct mnt *m)
{
	struct nvfs_mkpmem_info mi;
	struct stat st;
	char label[NVFS_LABEL_BYTES], uuid[37];
	bool is_dev = stat(m->pmem, &st) == 0 && S_ISCHR(st.st_mode);
	const char *base = strrchr(m->src_real, '/') + 1;
	struct nvfs_mkpmem_opts o = {
		/* a device-DAX is used whole unless pmem_size= says otherwise */
		.size = is_dev && !m->pmem_size_given ? 0 : m->pmem_size,
		.label = label,
		.warn = warn,
	};

	snprintf(label, sizeof(label), "%s", *base ? base : "root");
	int rc = nvfs_mkpmem(m->pmem, &o, &mi);
	if (rc == -EEXIST)
		return;
	if (rc == -ENOTEMPTY)
		die("%s; refusing to format it (mkfs.nvfs -f would overwrite it)",
		    nvfs_errmsg());
	if (rc)
		die("%s", nvfs_errmsg());
	nvfs_ns_uuid_str(mi.uuid, uuid);
	info("%s: %s nvfs namespace of %llu bytes, uuid %s, label '%s', journal "
	     "%llu MiB", m->pmem, mi.created ? "created a new" :
	     "formatted an empty pmem as an", (unsigned long long)mi.ns_bytes, uuid,
	     label, (unsigned long long)(mi.journal_bytes >> 20));
}

/*
 * journal_validate -- open the journal read-only and replay it without
 * applying anything: it must exist and its log must be intact.  *st and *r
 * describe it.  Exits on errors.
 */
static void
journal_validate(const struct mnt *m, struct nvfs_alloc *a,
		 struct nvfs_journal_stats *st, struct nvfs_journal_report *r)
{
	struct nvfs_journal *j;
	int rc = nvfs_journal_open(a, NULL, NVFS_JOURNAL_RDONLY, &j);

	if (rc == -ENOENT)
		die("%s has no journal (made with mkfs.nvfs -J 0); make it with a "
		    "journal (mkfs.nvfs -f overwrites it)", m->pmem);
	if (rc)
		die("%s: %s; run fsck.nvfs", m->pmem, nvfs_errmsg());
	if (nvfs_journal_replay(j, NULL, NULL, r))
		die("%s: journal replay: %s", m->pmem, nvfs_errmsg());
	if (r->damaged)
		die("%s: the journal is damaged at lsn %llu (seq %llu): %s; entries "
		    "%llu..%llu after it could not be replayed; run fsck.nvfs -v",
		    m->pmem, (unsigned long long)r->stop_lsn,
		    (unsigned long long)r->stop_seq, r->reason,
		    (unsigned long long)r->skipped_first_seq,
		    (unsigned long long)r->skipped_last_seq);
	nvfs_journal_stats(j, st);
	nvfs_journal_close(&j);
}

/*
 * pmem_validate -- open the namespace strictly, check its journal, and log
 * what it is and how many entries a mount replays
 */
static void
pmem_validate(const struct mnt *m)
{
	struct nvfs_alloc *a;
	struct nvfs_alloc_stats st;
	struct nvfs_journal_stats jst;
	struct nvfs_journal_report r;
	char line[1024], uuid[37];

	if (nvfs_alloc_open(m->pmem, NULL, &a))
		die("%s", nvfs_errmsg());
	journal_validate(m, a, &jst, &r);
	nvfs_pmem_describe(nvfs_alloc_pmem(a), line, sizeof(line));
	info("%s", line);
	if (nvfs_alloc_readonly(a))
		info("%s: has read-only-compatible features unknown to this build: "
		     "it can only be mounted read-only", m->pmem);
	if (m->verbose) {
		nvfs_alloc_stats(a, &st);
		nvfs_ns_uuid_str(nvfs_alloc_sb(a)->ns_uuid, uuid);
		info("%s: nvfs namespace uuid %s, %u owners, %llu/%llu pages used",
		     m->pmem, uuid, st.owners,
		     (unsigned long long)(st.pages_total - st.pages_free),
		     (unsigned long long)st.pages_total);
	}
	info("%s: journal %llu MiB, %llu entries to replay", m->pmem,
	     (unsigned long long)(jst.ring_bytes >> 20), (unsigned long long)r.entries);
	nvfs_alloc_close(&a);
}

/*
 * mount_fs -- start the file system on the validated pmem.  Not implemented
 * yet; a real mount will honour -f (fake) here, after every check.
 */
static int
mount_fs(const struct mnt *m)
{
	(void)m->fake;
	fprintf(stderr, PROG ": pmem %s is ready; the nvfs file system itself is "
		"not implemented yet, nothing was mounted\n", m->pmem);
	return EXIT_NOT_MOUNTED;
}

/* main -- check everything, prepare the pmem, mount */
int
main(int argc, char *argv[])
{
	struct mnt m = { .pmem_size = DEFAULT_PMEM_SIZE };

	parse_args(argc, argv, &m);
	check_dirs(&m);
	if (!m.pmem_given)
		default_pmem(&m);
	check_pmem_place(&m);
	if (m.verbose)
		info("source %s, mountpoint %s, pmem %s", m.src_real, m.mp_real,
		     m.pmem);
	pmem_make(&m);
	pmem_validate(&m);
	return mount_fs(&m);
}
