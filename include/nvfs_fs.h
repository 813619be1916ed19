/* SPDX-License-Identifier: MIT */
/*
 * nvfs_fs.h -- the nvfs FUSE file system: a passthrough of a backing
 * directory (SOURCE) through the libfuse3 low-level API.
 *
 * THE FILE SYSTEM
 *   Every operation is applied to SOURCE through one O_PATH descriptor per
 *   inode, the inodes being keyed by the backing (st_dev, st_ino): inode
 *   numbers come from SOURCE and are stable, hard links show one inode.
 *   Every mutating operation is applied to SOURCE, then logged in the pmem
 *   journal as a record (nvfs_rec.h) naming objects by identity, then
 *   (durability op) committed, then answered; a checkpointer thread makes
 *   SOURCE durable (syncfs) and releases the journal behind it.  The
 *   protocol, and replay, are docs/FS-JOURNAL.md.
 *
 * CALLING SEQUENCE
 *     nvfs_journal_open(alloc, &ops, 0, &j);   -- ops: nvfs_fs_journal_ops
 *     nvfs_fs_replay(source, j, &report);      -- before serving; checkpoints
 *     struct nvfs_fs_config cfg = { .source = ..., .journal = j, ... };
 *     rc = nvfs_fs_run(&cfg);     -- mounts, serves until unmounted, and
 *                                 -- leaves the journal empty
 *
 * ERRORS are negative errno with a one-line message (nvfs_err.h) for what
 * happens before the file system is mounted (SOURCE cannot be opened, the
 * FUSE session cannot be created or mounted).  Once mounted, messages go
 * through cfg->log.
 *
 * THREADS: nvfs_fs_run runs one file system at a time per process (libfuse's
 * log function and signal handlers are process-wide).
 */
#ifndef NVFS_FS_H
#define NVFS_FS_H

#include <stdbool.h>
#include <stdint.h>

struct nvfs_alloc;
struct nvfs_journal;
struct nvfs_journal_ops;

/* syslog(3) priorities, for nvfs_fs_config.log */
#define NVFS_FS_LOG_ERR     3
#define NVFS_FS_LOG_WARNING 4
#define NVFS_FS_LOG_INFO    6
#define NVFS_FS_LOG_DEBUG   7

#define NVFS_FS_DEFAULT_THREADS 8
#define NVFS_FS_MAX_THREADS     256
#define NVFS_FS_DEFAULT_TIMEOUT 1.0
#define NVFS_FS_DEFAULT_CHECKPOINT_MS 5000u

/* what replay did at mount (nvfs_fs_replay), also shown in the stats */
struct nvfs_fs_replay_report {
	uint64_t entries;          /* journal entries replayed */
	uint64_t last_seq;         /* the last one (checkpointed) */
	uint64_t walked;           /* SOURCE entries looked at to find objects */
	uint64_t moved;            /* names moved back to where the log puts them */
	uint64_t linked;           /* names linked back */
	uint64_t recreated;        /* objects SOURCE had lost, made again */
	uint64_t orphans;          /* names moved aside (.nvfs-replay) and removed */
	uint64_t data_records;     /* data records applied */
	uint64_t missing;          /* objects the log names that SOURCE no longer has */
	uint64_t recovered;        /* strangers moved to SOURCE/nvfs-recovered */
	uint64_t skipped;          /* records that could not be applied (logged) */
	double seconds;
};

struct nvfs_fs_config {
	const char *source;        /* the backing directory (an absolute path) */
	const char *mountpoint;    /* where to mount it (an absolute path) */
	/*
	 * Comma-separated options handed to libfuse as they are: mount
	 * options (allow_other, ro, fsname=, subtype=, auto_unmount, nosuid,
	 * ...) and libfuse's own.  May be NULL.  default_permissions is
	 * added by nvfs_fs_run when default_permissions is set: do not put it
	 * here.
	 */
	const char *fuse_opts;
	/*
	 * The kernel checks permissions (mode bits, owners) before sending a
	 * request.  When false and the daemon runs as root, every request is
	 * run with the caller's fsuid, fsgid and supplementary groups, so that
	 * SOURCE checks them instead.
	 */
	bool default_permissions;
	bool foreground;           /* false: fuse_daemonize after the mount */
	bool debug;                /* libfuse's -d: every request on stderr */
	unsigned max_threads;      /* worker threads; 0: NVFS_FS_DEFAULT_THREADS */
	double timeout;            /* attribute/entry cache, seconds; < 0: default */
	bool writeback_cache;      /* the kernel's writeback cache (see fs.c) */
	bool keep_cache;           /* keep the page cache across opens */
	/*
	 * flock and POSIX locks taken by the daemon on SOURCE's files, so that
	 * they also conflict with processes using SOURCE directly; false: the
	 * kernel keeps them for the mount (a round trip less per lock, unlock
	 * and close)
	 */
	bool shared_locks;
	/*
	 * Where messages go once the file system is mounted (priority is a
	 * syslog level, msg one line without newline); NULL: stderr.
	 */
	void (*log)(void *arg, int priority, const char *msg);
	/*
	 * Called once the mount exists, before daemonizing; may be NULL.
	 * Messages it logs reach stderr in the foreground, cfg->log otherwise.
	 */
	void (*mounted)(void *arg);
	void *arg;                 /* for log and mounted */
	/*
	 * The journal, replayed and checkpointed (nvfs_fs_replay), opened with
	 * nvfs_fs_journal_ops; NULL for a read-only mount: nothing is logged.
	 */
	struct nvfs_journal *journal;
	struct nvfs_alloc *alloc;  /* the journal's namespace, for the stats */
	/*
	 * true: durability=op, every operation is committed before its reply;
	 * false: durability=fsync, fsync/fsyncdir commit.
	 */
	bool op_durable;
	unsigned checkpoint_ms;    /* checkpointer period; 0: the default */
	const struct nvfs_fs_replay_report *replayed; /* for the stats; may be NULL */
	const char *durability_why; /* for the stats: how the mode was chosen */
};

/*
 * nvfs_fs_run -- open SOURCE, create the FUSE session, mount it at
 * mountpoint, daemonize unless cfg->foreground, serve requests with up to
 * cfg->max_threads threads until the file system is unmounted or the
 * process gets SIGINT, SIGTERM or SIGHUP, then unmount and free everything.
 *
 * Returns 0 after a clean unmount, or a negative errno with a message:
 *   -ENOENT/-EACCES/-ENOTDIR...  SOURCE cannot be opened
 *   -EINVAL    bad options (libfuse's message)
 *   -EIO       the session could not be created or mounted (libfuse's
 *              message: e.g. the mount point is not accessible)
 *   -ENOMEM
 * Without cfg->foreground, fuse_daemonize forks once the mount exists: the
 * parent exits 0 inside it as soon as the daemon runs, so nvfs_fs_run
 * returns in the daemon only (after the unmount).  Handles the caller opened
 * before stay open in the daemon (a pmem's lock is kept).
 */
int nvfs_fs_run(const struct nvfs_fs_config *cfg);

/*
 * nvfs_fs_journal_ops -- the callbacks to open the journal with: they wake
 * the checkpointer of the file system this process runs
 */
void nvfs_fs_journal_ops(struct nvfs_journal_ops *ops);

/*
 * nvfs_fs_replay -- make SOURCE hold every operation the journal holds
 * (docs/FS-JOURNAL.md section 5), make SOURCE durable (syncfs) and
 * checkpoint the journal, before the file system serves anything.  The
 * journal must be open, not yet replayed or replayed without appending,
 * and undamaged (the caller refuses a damaged one).  Safe to interrupt at
 * any point: the journal is released only at the end, and a second run
 * converges to the same SOURCE.  0, or a negative errno with a one-line
 * message naming the record and the object (the journal is then left as it
 * is, so nothing is lost).
 */
int nvfs_fs_replay(const char *source, struct nvfs_journal *j,
		   struct nvfs_fs_replay_report *rep);

/*
 * The orphanage replay keeps at the top of SOURCE while it runs
 * (fs/replay.c): a name users cannot make through the mount (EPERM) and do
 * not see in lookups; replay refuses to touch a directory of that name that
 * it did not make (it holds NVFS_FS_ORPHANAGE_MARK).
 */
#define NVFS_FS_ORPHANAGE      ".nvfs-replay"  /* and ".nvfs-replay.new" */
#define NVFS_FS_ORPHANAGE_MARK ".nvfs-orphanage"

/* the name of the root's extended attribute that shows the statistics */
#define NVFS_FS_STATS_XATTR "user.nvfs.stats"

#endif /* NVFS_FS_H */
