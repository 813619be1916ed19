/* SPDX-License-Identifier: MIT */
/*
 * main.c -- mount.nvfs, the mount(8) helper.
 *
 *     mount.nvfs SOURCE MOUNTPOINT [-o OPTIONS] [-f] [-n] [-s] [-v]
 *                [--help] [--version]
 *
 * It parses the options, checks SOURCE and MOUNTPOINT, chooses the pmem,
 * creates and formats it, with the default journal, if it is missing or all
 * zero (nvfs_mkpmem, as mkfs.nvfs does) or else validates it
 * (nvfs_alloc_open, then the journal: a pmem without a journal or with a
 * damaged one is refused), replays the journal into SOURCE
 * (nvfs_fs_replay: what a crash left in it), chooses the durability mode,
 * and then mounts the file system (nvfs_fs_run, fs/), which journals every
 * change.  The pmem stays open, and locked, for the life of the mount: a
 * second mount of it is refused.  Without -f the mount daemonizes once
 * mounted and logs to syslog; with -f it stays in the foreground and logs
 * to stderr.  It exits 0 once unmounted, with the journal empty.
 *
 * Errors, usage errors included, are one line "mount.nvfs: ..." on stderr
 * and exit 1 (nvfs_tool.h).
 *
 * The default pmem is <state>/<name>.pmem, <name> being the basename of
 * realpath(SOURCE) ("root" for /), "-" and the first 16 hex digits of the
 * XXH3-64 of that realpath; <state> is /var/lib/nvfs for root and
 * $XDG_STATE_HOME/nvfs (~/.local/state/nvfs) for other users.  The
 * undocumented environment variable NVFS_STATE_DIR overrides <state>, for
 * tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "nvfs_alloc.h"
#include "nvfs_bind.h"
#include "nvfs_csum.h"
#include "nvfs_err.h"
#include "nvfs_fs.h"
#include "nvfs_journal.h"
#include "nvfs_mkpmem.h"
#include "nvfs_ns.h"
#include "nvfs_parse.h"
#include "nvfs_pmem.h"
#include "nvfs_tool.h"
#include "opts.h"

#define PROG "mount.nvfs"
#define USAGE "usage: " PROG " SOURCE MOUNTPOINT [-o OPTIONS] [-f] [-n] [-s] [-v]"
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
	       "                        at least %u bytes: 24 MiB and two pages)\n"
	       "       durability=MODE  op: every operation is durable when it returns\n"
	       "                        (fsync is free); fsync: durable at fsync and\n"
	       "                        fsyncdir, as POSIX says (commits batch); auto\n"
	       "                        (the default): op where a persist is cheap\n"
	       "                        (real pmem, a pmem file on tmpfs), else fsync\n"
	       "       checkpoint_secs=N  sync SOURCE and empty the journal every N\n"
	       "                        seconds (default %u; also when it is half full\n"
	       "                        and at unmount)\n"
	       "       allow_other      let other users than the mounting one in\n"
	       "       default_permissions  the kernel checks permissions (the default)\n"
	       "       no_default_permissions  SOURCE checks them, as the caller\n"
	       "       ro               read-only\n"
	       "       fsname=NAME      the source shown in /proc/mounts (default SOURCE)\n"
	       "       subtype=NAME     the type shown is fuse.NAME (default nvfs)\n"
	       "       auto_unmount     unmount when the daemon dies\n"
	       "       timeout=SECONDS  attribute and name cache timeout (default 1)\n"
	       "       threads=N        worker threads (default %u, at most %u)\n"
	       "       shared_locks     flock and POSIX locks taken on SOURCE's files\n"
	       "                        by the daemon, so that they conflict with\n"
	       "                        SOURCE's own users (default: the kernel\n"
	       "                        keeps them for the mount: faster)\n"
	       "       keep_cache       keep file data cached across opens (only if\n"
	       "                        nothing changes SOURCE behind nvfs's back)\n"
	       "       writeback_cache  the kernel's writeback cache: faster small\n"
	       "                        writes, but O_APPEND is no longer atomic\n"
	       "       debug            print every FUSE request (implies -f)\n"
	       "       passed to the kernel: rw, suid, nosuid, dev, nodev, exec,\n"
	       "       noexec, async, sync, dirsync, atime, noatime\n"
	       "       accepted and ignored: _netdev, noauto, auto, nofail, defaults,\n"
	       "       user, users, nouser, x-*\n"
	       "  -f           stay in the foreground and log to stderr (otherwise:\n"
	       "               run in the background once mounted, log to syslog)\n"
	       "  -n           do not write /etc/mtab (accepted; nvfs never does)\n"
	       "  -s           sloppy: ignore unknown options\n"
	       "  -v           verbose\n"
	       "  --help       print this help and exit\n"
	       "  --version    print the version and exit\n\n"
	       "A missing or all-zero pmem is created and formatted with a journal\n"
	       "of a quarter of its pages (8 MiB to 1 GiB); an existing one must hold\n"
	       "a valid nvfs namespace with an intact journal (see mkfs.nvfs,\n"
	       "fsck.nvfs).  A journal left by a crash is replayed into SOURCE\n"
	       "before the file system serves anything.  Statistics while mounted:\n"
	       "  getfattr -n %s --only-values MOUNTPOINT\n",
	       USAGE, (unsigned)MIN_PMEM_SIZE, NVFS_FS_DEFAULT_CHECKPOINT_MS / 1000,
	       NVFS_FS_DEFAULT_THREADS, NVFS_FS_MAX_THREADS, NVFS_FS_STATS_XATTR);
}

/*
 * parse_args -- the command line into *m; exits on a usage error.  The -o
 * lists are parsed after the flags, so that -s and -v apply to them
 * wherever they appear.
 */
static void
parse_args(int argc, char *argv[], struct mnt *m)
{
	const char *lists[64];
	unsigned nr_lists = 0;
	int c;

	while ((c = nvfs_tool_getopt(argc, argv, ":o:fnsvh")) != -1) {
		if (c == 'o' && nr_lists == sizeof(lists) / sizeof(lists[0]))
			nvfs_die("too many -o options");
		switch (c) {
		case 'o':
			lists[nr_lists++] = optarg;
			break;
		case 'f':
			m->foreground = true;
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
			nvfs_tool_version();
		default:
			nvfs_die_getopt(c, argv);
		}
	}
	if (argc - optind != 2)
		nvfs_die_usage(argc - optind < 2 ? "missing SOURCE or MOUNTPOINT" :
			       "too many arguments");
	m->source = argv[optind];
	m->mountpoint = argv[optind + 1];
	for (unsigned i = 0; i < nr_lists; i++) {
		char *err;
		if (mnt_parse_opts(m, lists[i], &err))
			nvfs_die("%s", err ? err : "out of memory");
	}
}

/* resolve_dir -- realpath of an existing directory; exits if it is not one */
static void
resolve_dir(const char *what, const char *path, char real[PATH_MAX])
{
	struct stat st;

	if (!realpath(path, real)) {
		if (errno == ENOENT)
			nvfs_die("%s %s: does not exist", what, path);
		nvfs_die("%s %s: %s", what, path, strerror(errno));
	}
	if (stat(real, &st) < 0)
		nvfs_die("%s %s: %s", what, path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		nvfs_die("%s %s: not a directory", what, path);
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
		nvfs_die("MOUNTPOINT %s is the same directory as SOURCE %s",
			 m->mountpoint, m->source);
	if (inside(m->mp_real, m->src_real))
		nvfs_die("MOUNTPOINT %s is inside SOURCE %s (%s): the file system "
			 "would contain itself", m->mountpoint, m->source, m->src_real);
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
			nvfs_die("cannot create the state directory %s: %s", buf,
				 strerror(errno));
		*p = c;
		if (!c)
			break;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		nvfs_die("state directory %s: not a directory", dir);
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
		nvfs_die("cannot find a home directory for the default pmem; give "
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
		nvfs_die("state directory %s: path is too long", dir);
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
		nvfs_die("pmem %s is inside SOURCE %s", m->pmem, m->source);
	if (strcmp(dir, m->mp_real) == 0 || inside(dir, m->mp_real))
		nvfs_die("pmem %s is inside MOUNTPOINT %s", m->pmem, m->mountpoint);
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
		.warn = nvfs_tool_warn,
	};

	snprintf(label, sizeof(label), "%s", *base ? base : "root");
	int rc = nvfs_mkpmem(m->pmem, &o, &mi);
	if (rc == -EEXIST)
		return;
	if (rc == -ENOTEMPTY)
		nvfs_die("%s; refusing to format it (mkfs.nvfs -f would overwrite it)",
			 nvfs_errmsg());
	if (rc)
		nvfs_die("%s", nvfs_errmsg());
	nvfs_ns_uuid_str(mi.uuid, uuid);
	nvfs_info("%s: %s nvfs namespace of %llu bytes, uuid %s, label '%s', "
		  "journal %llu MiB", m->pmem, mi.created ? "created a new" :
		  "formatted an empty pmem as an", (unsigned long long)mi.ns_bytes,
		  uuid, label, (unsigned long long)(mi.journal_bytes >> 20));
}

/*
 * journal_open -- open the journal (read-only for a read-only mount) and
 * replay it without applying anything: it must exist and its log must be
 * intact.  Kept open in m->journal; *st and *r describe it.  Exits on
 * errors.
 */
static void
journal_open(struct mnt *m, struct nvfs_journal_stats *st, struct nvfs_journal_report *r)
{
	unsigned flags = m->ro ? NVFS_JOURNAL_RDONLY : 0;
	struct nvfs_journal_ops ops;
	int rc;

	nvfs_fs_journal_ops(&ops);
	rc = nvfs_journal_open(m->alloc, &ops, flags, &m->journal);

	if (rc == -ENOENT)
		nvfs_die("%s has no journal (made with mkfs.nvfs -J 0); make it with a "
			 "journal (mkfs.nvfs -f overwrites it)", m->pmem);
	if (rc)
		nvfs_die("%s: %s; run fsck.nvfs", m->pmem, nvfs_errmsg());
	if (nvfs_journal_replay(m->journal, NULL, NULL, r))
		nvfs_die("%s: journal replay: %s", m->pmem, nvfs_errmsg());
	if (r->damaged)
		nvfs_die("%s: the journal is damaged at lsn %llu (seq %llu): %s; "
			 "entries %llu..%llu after it could not be replayed; run "
			 "fsck.nvfs -v", m->pmem, (unsigned long long)r->stop_lsn,
			 (unsigned long long)r->stop_seq, r->reason,
			 (unsigned long long)r->skipped_first_seq,
			 (unsigned long long)r->skipped_last_seq);
	if (r->tail_warning[0])
		nvfs_info("%s: warning: %s: replay starts at the older tail copy (a torn "
			  "tail update is harmless; a damaged one may replay entries "
			  "already applied, which replay tolerates); run fsck.nvfs", m->pmem,
			  r->tail_warning);
	if (r->end_warning[0])
		nvfs_info("%s: warning: journal: %s; run fsck.nvfs -v", m->pmem,
			  r->end_warning);
	nvfs_journal_stats(m->journal, st);
	m->replay_entries = r->entries;
}

/*
 * pmem_open -- open the namespace strictly and keep it open (and locked)
 * for the mount, check its journal, and say what it is and how many
 * entries a mount replays
 */
static void
pmem_open(struct mnt *m)
{
	struct nvfs_alloc_stats st;
	struct nvfs_journal_stats jst;
	struct nvfs_journal_report r;
	char line[1024], uuid[37];
	int shadowed = nvfs_pmem_shadow_from_env(); /* tests: power loss */

	if (shadowed < 0)
		nvfs_die("%s", nvfs_errmsg());
	if (shadowed)
		nvfs_info("NVFS_TEST_PMEM_SHADOW: what is made durable is copied to %s "
			  "(a test setting)", getenv("NVFS_TEST_PMEM_SHADOW"));
	if (nvfs_alloc_open(m->pmem, NULL, &m->alloc))
		nvfs_die("%s", nvfs_errmsg());
	if (nvfs_alloc_readonly(m->alloc)) {
		nvfs_info("%s: has read-only-compatible features unknown to this "
			  "build: it can only be mounted read-only", m->pmem);
		m->ro = true;
	}
	journal_open(m, &jst, &r);
	nvfs_pmem_describe(nvfs_alloc_pmem(m->alloc), line, sizeof(line));
	nvfs_info("%s", line);
	if (m->verbose) {
		nvfs_alloc_stats(m->alloc, &st);
		nvfs_ns_uuid_str(nvfs_alloc_sb(m->alloc)->ns_uuid, uuid);
		nvfs_info("%s: nvfs namespace uuid %s, %u owners, %llu/%llu pages used",
			  m->pmem, uuid, st.owners,
			  (unsigned long long)(st.pages_total - st.pages_free),
			  (unsigned long long)st.pages_total);
	}
	nvfs_info("%s: journal %llu MiB, %llu entries to replay", m->pmem,
		  (unsigned long long)(jst.ring_bytes >> 20),
		  (unsigned long long)r.entries);
}

/*
 * bind_source -- the pmem journals this SOURCE (nvfs_bind.h): a pmem bound to
 * another directory (another path and another root inode) is refused, even
 * with an empty journal, since mounting it is most likely a mistake; a
 * SOURCE that was moved (same root inode) or made again at the same path
 * (with nothing left to replay) is rebound, and the mount says so
 */
static void
bind_source(struct mnt *m)
{
	struct nvfs_bind_info bi;
	char note[1024] = "";
	struct stat st;
	int fd = open(m->src_real, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		nvfs_die("SOURCE %s: %s", m->source, strerror(errno));
	if (nvfs_bind_get(m->alloc, &bi) == 0 && strcmp(bi.path, m->src_real) != 0 &&
	    (fstat(fd, &st) < 0 || (uint64_t)st.st_ino != bi.ino))
		nvfs_die("%s journals SOURCE %s, not %s; mount it with its SOURCE, or give "
			 "this SOURCE its own pmem (mkfs.nvfs -f empties this one)", m->pmem,
			 bi.path, m->src_real);
	if (m->replay_entries && nvfs_bind_get(m->alloc, &bi) == -ENOENT)
		nvfs_info("%s: warning: bound to no SOURCE, but the journal holds %llu "
			  "entries: the binding page or its record was lost; binding it to "
			  "%s (replay checks the SOURCE the journal names); run fsck.nvfs",
			  m->pmem, (unsigned long long)m->replay_entries, m->src_real);
	if (nvfs_bind_check(m->alloc, m->src_real, fd, m->replay_entries == 0, m->ro, note,
			    sizeof(note)) < 0)
		nvfs_die("%s: %s", m->pmem, nvfs_errmsg());
	close(fd);
	if (note[0])
		nvfs_info("%s: %s", m->pmem, note);
}

/*
 * replay -- apply what the journal holds to SOURCE (a crash left it) and
 * empty it; a read-only mount cannot, and refuses if there is anything
 */
static void
replay(struct mnt *m)
{
	struct nvfs_fs_replay_report *rp = &m->replayed;

	if (m->ro) {
		if (m->replay_entries)
			nvfs_die("%s: the journal holds %llu entries not yet applied to "
				 "SOURCE; mount it read-write once to replay them", m->pmem,
				 (unsigned long long)m->replay_entries);
		return;
	}
	if (nvfs_fs_replay(m->src_real, m->journal, rp))
		nvfs_die("%s: %s; the journal was left as it is", m->pmem, nvfs_errmsg());
	if (rp->entries)
		nvfs_info("%s: replayed %llu journal entries into %s in %.3f s (%llu data "
			  "records; %llu names moved back, %llu linked, %llu objects made "
			  "again, %llu orphans removed; %llu SOURCE entries walked)",
			  m->pmem, (unsigned long long)rp->entries, m->src_real, rp->seconds,
			  (unsigned long long)rp->data_records, (unsigned long long)rp->moved,
			  (unsigned long long)rp->linked, (unsigned long long)rp->recreated,
			  (unsigned long long)rp->orphans, (unsigned long long)rp->walked);
	if (rp->missing)
		nvfs_info("%s: %llu objects named by the journal were no longer in SOURCE "
			  "(removed by operations that were in flight at the crash)", m->pmem,
			  (unsigned long long)rp->missing);
	if (rp->recovered)
		nvfs_info("%s: %llu objects nobody journaled were in the way of journaled "
			  "names: kept in %s/nvfs-recovered", m->pmem,
			  (unsigned long long)rp->recovered, m->src_real);
	if (rp->skipped)
		nvfs_info("%s: %llu journal records could not be applied and were skipped "
			  "(see the messages above)", m->pmem, (unsigned long long)rp->skipped);
}

/*
 * btime_check -- replay tells objects apart by inode number and birth time;
 * say so when SOURCE's file system keeps no birth time
 */
static void
btime_check(const struct mnt *m)
{
	struct statx stx;

	if (statx(AT_FDCWD, m->src_real, 0, STATX_BTIME, &stx) == 0 &&
	    !(stx.stx_mask & STATX_BTIME))
		nvfs_info("warning: SOURCE %s keeps no birth times: the journal names "
			  "objects by inode number alone, and a replay may take an object "
			  "for a removed one whose inode number it reuses", m->src_real);
}

/* durability -- choose op or fsync (durability=auto), and say why */
static void
durability(struct mnt *m)
{
	struct nvfs_pmem *pm = nvfs_alloc_pmem(m->alloc);
	bool cheap = nvfs_pmem_persist_is_cheap(pm);

	if (m->durability == DUR_OP) {
		m->op_durable = true;
		snprintf(m->durability_why, sizeof(m->durability_why), "durability=op%s",
			 cheap ? "" : ": every operation waits for an msync of the pmem file");
	} else if (m->durability == DUR_FSYNC) {
		m->op_durable = false;
		snprintf(m->durability_why, sizeof(m->durability_why), "durability=fsync");
	} else {
		m->op_durable = cheap;
		snprintf(m->durability_why, sizeof(m->durability_why),
			 "durability=auto chose %s: a persist %s", cheap ? "op" : "fsync",
			 cheap ? "is a cache flush or a store to tmpfs, so every operation is "
				 "durable when it returns" :
				 "is an msync to disk, so operations are durable at fsync");
	}
	if (m->op_durable && m->writeback_cache) {
		m->op_durable = false;
		snprintf(m->durability_why, sizeof(m->durability_why),
			 "durability=fsync: writeback_cache holds writes in the kernel, so "
			 "they cannot be durable when write returns");
	}
}

/* pmem_close -- at unmount (the file system checkpointed: nothing to commit) */
static void
pmem_close(struct mnt *m)
{
	if (m->journal && nvfs_journal_close(&m->journal) < 0)
		nvfs_warnx("%s: closing the journal: %s", m->pmem, nvfs_errmsg());
	if (m->alloc)
		nvfs_alloc_close(&m->alloc);
}

/* ---- the file system ------------------------------------------------------- */

/* log_line -- a message while mounted: stderr in the foreground, else syslog */
static void
log_line(void *arg, int priority, const char *msg)
{
	const struct mnt *m = arg;

	if (m->foreground)
		fprintf(stderr, PROG ": %s\n", msg);
	else
		syslog(priority, "%s", msg);
}

/* mounted -- the file system is mounted: say what it is and what it is not */
static void
mounted(void *arg)
{
	const struct mnt *m = arg;
	char pm[1024], line[2048];

	nvfs_pmem_describe(nvfs_alloc_pmem(m->alloc), pm, sizeof(pm));
	snprintf(line, sizeof(line), "mounted %s on %s%s; pmem %s; %s", m->src_real,
		 m->mp_real, m->ro ? " read-only" : "", pm,
		 m->ro ? "nothing is journaled (read-only)" : m->durability_why);
	log_line(arg, LOG_INFO, line);
}

/*
 * mount_fs -- run the file system on the open pmem until it is unmounted;
 * the exit status
 */
static int
mount_fs(struct mnt *m)
{
	struct nvfs_fs_config cfg = {
		.source = m->src_real,
		.mountpoint = m->mp_real,
		.fuse_opts = m->fuse_opts,
		.default_permissions = !m->no_default_permissions,
		.foreground = m->foreground || m->debug,
		.debug = m->debug,
		.max_threads = m->threads,
		.timeout = m->timeout,
		.writeback_cache = m->writeback_cache,
		.keep_cache = m->keep_cache,
		.shared_locks = m->shared_locks,
		.log = log_line,
		.mounted = mounted,
		.arg = m,
		.journal = m->ro ? NULL : m->journal,
		.alloc = m->alloc,
		.op_durable = m->op_durable,
		.checkpoint_ms = m->checkpoint_ms,
		.replayed = &m->replayed,
		.durability_why = m->durability_why,
	};
	char *err;
	int rc;

	m->foreground = cfg.foreground;
	if (mnt_fuse_opts_finish(m, m->src_real, &err))
		nvfs_die("%s", err ? err : "out of memory");
	if (!m->foreground)
		openlog(PROG, LOG_PID, LOG_DAEMON);
	fflush(stdout); /* before fuse_daemonize forks, or the lines are lost */
	rc = nvfs_fs_run(&cfg);
	pmem_close(m);
	if (rc < 0)
		nvfs_die("%s", nvfs_errmsg());
	if (!m->foreground)
		closelog();
	return 0;
}

/* main -- check everything, prepare the pmem, mount */
int
main(int argc, char *argv[])
{
	struct mnt m = { .pmem_size = DEFAULT_PMEM_SIZE, .timeout = -1 };

	nvfs_tool_init(PROG, USAGE, 1);
	parse_args(argc, argv, &m);
	check_dirs(&m);
	if (!m.pmem_given)
		default_pmem(&m);
	check_pmem_place(&m);
	if (m.verbose)
		nvfs_info("source %s, mountpoint %s, pmem %s", m.src_real, m.mp_real,
			  m.pmem);
	pmem_make(&m);
	pmem_open(&m);
	bind_source(&m);
	btime_check(&m);
	replay(&m);
	durability(&m);
	int rc = mount_fs(&m);
	mnt_opts_free(&m); /* an ASan daemon checks for leaks at exit */
	return rc;
}
