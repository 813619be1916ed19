/* SPDX-License-Identifier: MIT */
/*
 * opts.h -- mount.nvfs's state and its -o option parser (mount/opts.c).
 *
 * The parser returns an error instead of exiting, so that it can be tested
 * and fuzzed (tests/fuzz/mount_opts.c) in a process that lives on; main.c
 * prints the message it returns with nvfs_die, i.e. "mount.nvfs: <msg>"
 * and exit status 1, as before.
 *
 * Error messages are allocated (malloc) rather than kept in nvfs_err.h's
 * 512-byte buffer: they quote the option as given, whatever its length,
 * exactly as the helper always printed them.
 */
#ifndef NVFS_MOUNT_OPTS_H
#define NVFS_MOUNT_OPTS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "nvfs_format.h"
#include "nvfs_fs.h"
#include "nvfs_journal.h"

#define DEFAULT_PMEM_SIZE (UINT64_C(1) << 30)
/* The smallest pmem a mount can use: the namespace metadata, the smallest
 * journal (2 buckets and its header page, nvfs_journal_fit) and the page
 * of the SOURCE binding (nvfs_bind.h). */
#define MIN_PMEM_SIZE \
	(NVFS_PAGES_OFF + NVFS_JOURNAL_MIN_BUCKETS * NVFS_JOURNAL_BUCKET_BYTES + \
	 2 * NVFS_PAGE_BYTES)
#define FUSE_OPTS_BYTES 4096

struct mnt {
	const char *source;             /* as given */
	const char *mountpoint;
	char src_real[PATH_MAX];        /* their realpaths */
	char mp_real[PATH_MAX];
	char pmem[PATH_MAX];            /* pmem= or the default */
	bool pmem_given;
	uint64_t pmem_size;             /* pmem_size=, for a new pmem */
	bool pmem_size_given;
	bool foreground;                /* -f: do not daemonize, log to stderr */
	bool sloppy;                    /* -s: ignore unknown options */
	bool verbose;                   /* -v */
	/* the file system (-o) */
	char fuse_opts[FUSE_OPTS_BYTES];  /* handed to libfuse as they are */
	/* fsname=, subtype=: copies owned by the struct (mnt_opts_free), since
	 * the list they were parsed from is a temporary copy */
	char *fsname;                   /* fsname=, default SOURCE */
	char *subtype;                  /* subtype=, default nvfs */
	bool no_default_permissions;    /* no_default_permissions */
	bool ro;                        /* ro */
	bool debug;                     /* debug: libfuse's -d (implies -f) */
	bool writeback_cache;           /* writeback_cache */
	bool keep_cache;                /* keep_cache */
	bool shared_locks;              /* shared_locks */
	unsigned threads;               /* threads=N, 0: the default */
	enum { DUR_AUTO, DUR_OP, DUR_FSYNC } durability; /* durability= */
	bool op_durable;                /* the mode chosen */
	char durability_why[256];
	unsigned checkpoint_ms;         /* checkpoint_secs=N */
	struct nvfs_fs_replay_report replayed;
	double timeout;                 /* timeout=SECONDS, < 0: the default */
	/* kept open while mounted */
	struct nvfs_alloc *alloc;
	struct nvfs_journal *journal;
	uint64_t replay_entries;        /* entries a replay would apply */
};

/*
 * mnt_parse_opts -- one comma-separated -o list into *m (empty items are
 * skipped; m->sloppy and m->verbose apply).  0, or a negative errno
 * (-EINVAL: a bad option; -ENOMEM) with the message, without the
 * "mount.nvfs: " prefix, in *err (malloc'd, the caller frees it; NULL if
 * even that allocation failed, which means "out of memory").  Options
 * parsed before the bad one stay applied.
 */
int mnt_parse_opts(struct mnt *m, const char *list, char **err);

/*
 * mnt_fuse_opts_finish -- append what nvfs itself adds for libfuse once
 * the mount is decided: "ro" for a read-only mount, subtype= (default
 * "nvfs") and fsname= (default_fsname unless fsname= was given; commas and
 * backslashes escaped).  0, or -EINVAL ("too many options", a subtype
 * with a backslash) with *err as for mnt_parse_opts.
 */
int mnt_fuse_opts_finish(struct mnt *m, const char *default_fsname, char **err);

/* mnt_opts_free -- free what the parser allocated in *m (fsname, subtype) */
void mnt_opts_free(struct mnt *m);

#endif /* NVFS_MOUNT_OPTS_H */
