/* SPDX-License-Identifier: MIT */
/*
 * nvfs_fs.h -- the nvfs FUSE file system: a passthrough of a backing
 * directory (SOURCE) through the libfuse3 low-level API.
 *
 * THE FILE SYSTEM
 *   Every operation is applied to SOURCE through one O_PATH descriptor per
 *   inode, the inodes being keyed by the backing (st_dev, st_ino): inode
 *   numbers come from SOURCE and are stable, hard links show one inode.
 *   Nothing is journaled yet: the module is laid out so that the journal can
 *   be called per operation (fs/ops_*.c, one handler per operation).
 *
 * CALLING SEQUENCE
 *     struct nvfs_fs_config cfg = { .source = ..., .mountpoint = ..., ... };
 *     rc = nvfs_fs_run(&cfg);     -- mounts, serves until unmounted
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

/* syslog(3) priorities, for nvfs_fs_config.log */
#define NVFS_FS_LOG_ERR     3
#define NVFS_FS_LOG_WARNING 4
#define NVFS_FS_LOG_INFO    6
#define NVFS_FS_LOG_DEBUG   7

#define NVFS_FS_DEFAULT_THREADS 8
#define NVFS_FS_MAX_THREADS     256
#define NVFS_FS_DEFAULT_TIMEOUT 1.0

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

#endif /* NVFS_FS_H */
