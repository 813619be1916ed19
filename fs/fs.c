/* SPDX-License-Identifier: MIT */
/*
 * fs.c -- the FUSE session (nvfs_fs_run), the init and destroy handlers,
 * and the helpers the handlers share: /proc/self/fd paths, caller
 * credentials, entry replies.
 *
 * CAPABILITIES (nvfs_ll_init)
 *   max_write 1 MiB (libfuse's buffer limit); replies to reads may be
 *   spliced from the backing file (SPLICE_WRITE), but write data is always
 *   read into memory (no SPLICE_READ): the journal needs the bytes.
 *   flock and POSIX locks are the kernel's, for the mount (no round trip
 *   per lock, and none per close: FLUSH is answered ENOSYS once), unless
 *   cfg->shared_locks asks the daemon to take them on SOURCE's files
 *   (ops_file.c), so that they conflict with SOURCE's own users; readdirplus with
 *   the kernel's adaptive switch, symlink targets are cached (a symlink
 *   never changes in place), NFS export is supported (lookups of "." and
 *   ".." with node ids validated against the live set).
 *   Not negotiated:
 *   - the writeback cache, unless asked for (cfg->writeback_cache): it
 *     coalesces writes before the daemon sees them and breaks O_APPEND;
 *   - HANDLE_KILLPRIV (v1 and v2): the daemon, usually root, writes with
 *     CAP_FSETID, so SOURCE would never clear set-user-ID bits on a write
 *     by an unprivileged user; the kernel must keep doing it (it asks for
 *     security.capability before writes, a getxattr round trip).  libfuse
 *     3.14 does not offer v2 anyway;
 *   - POSIX ACLs (the kernel would then leave umask to the daemon).
 *   keep_cache is off unless asked for: SOURCE may change behind nvfs's
 *   back, and a kept page cache would then serve stale data.
 *
 * OWNERSHIP OF NEW OBJECTS
 *   Files, directories, nodes and symlinks belong to the caller
 *   (fuse_req_ctx uid/gid).  With default_permissions (the default) and a
 *   daemon running as root, an object is created by root and then given to
 *   the caller with fchownat(AT_SYMLINK_NOFOLLOW); its group is the parent
 *   directory's when that directory is set-group-ID (as ext4 does), and
 *   set-user/group-ID bits that chown cleared are put back (ops_entry.c,
 *   give_to_caller).  Without default_permissions a root daemon switches to
 *   the caller's fsuid, fsgid and groups for the request, so SOURCE itself
 *   assigns owner and group and checks permissions.  A daemon that is not
 *   root creates everything as its own user: only that user (or, with
 *   allow_other, others as that user) can reach the file system.  A hard
 *   link is a new name of an existing inode and keeps its owner.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fs_int.h"
#include "nvfs_err.h"

#define MAX_WRITE_BYTES (1u << 20)

/* ---- logging -------------------------------------------------------------
 * libfuse's log function is process-wide, hence these statics.  Until the
 * mount exists, libfuse's error messages are kept (not printed) so that
 * nvfs_fs_run can return the reason as its one-line error.
 */
static const struct nvfs_fs_config *log_cfg;
static bool log_capture;
static char log_last[512];

/* emit -- one message to cfg->log, or stderr */
static void
emit(int priority, const char *msg)
{
	if (log_cfg && log_cfg->log)
		log_cfg->log(log_cfg->arg, priority, msg);
	else
		fprintf(stderr, "nvfs: %s\n", msg);
}

/* fuse_log_fn -- libfuse's messages */
static void
fuse_log_fn(enum fuse_log_level level, const char *fmt, va_list ap)
{
	char msg[1024];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	if (!n)
		return;
	if (log_capture && level <= FUSE_LOG_ERR) {
		/* "fuse: bad mount point `x': ..." -> "bad mount point `x': ..." */
		const char *m = strncmp(msg, "fuse: ", 6) == 0 ? msg + 6 : msg;
		snprintf(log_last, sizeof(log_last), "%s", m);
		return;
	}
	emit((int)level, msg);
}

/* ---- helpers ----------------------------------------------------------- */

/* nvfs_proc_path -- "/proc/self/fd/N" */
void
nvfs_proc_path(int fd, char buf[64])
{
	snprintf(buf, 64, "/proc/self/fd/%d", fd);
}

/* nvfs_reopen -- open an inode's O_PATH descriptor for I/O */
int
nvfs_reopen(const struct nvfs_fs *fs, const struct nvfs_inode *in, int flags)
{
	char name[16];
	int fd;

	flags &= ~O_NOFOLLOW; /* the /proc entry is a (magic) link */
	snprintf(name, sizeof(name), "%d", in->fd);
	fd = openat(fs->proc_fd, name, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* nvfs_entry_init -- an entry reply for an inode */
void
nvfs_entry_init(const struct nvfs_fs *fs, struct nvfs_inode *in,
		const struct stat *st, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = nvfs_nodeid(fs, in);
	e->generation = in->generation;
	e->attr = *st;
	e->attr_timeout = fs->timeout;
	e->entry_timeout = fs->timeout;
}

/*
 * Credentials: set*fs*id and setgroups through syscall(2), which, unlike
 * the glibc wrappers of setgroups, change the calling thread only.  A
 * thread serves one request at a time, from enter to leave.
 */
static gid_t daemon_groups[NGROUPS_MAX];
static int daemon_nr_groups;

/* nvfs_cred_enter -- act as the caller (fs->switch_creds only) */
int
nvfs_cred_enter(fuse_req_t req, struct nvfs_cred *c)
{
	const struct nvfs_fs *fs = nvfs_fs_of(req);
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	gid_t groups[256], *g = groups;
	int n;

	c->switched = false;
	if (!fs->switch_creds)
		return 0;
	n = fuse_req_getgroups(req, 256, groups);
	if (n > 256) {
		g = malloc((size_t)n * sizeof(*g));
		if (!g)
			return -ENOMEM;
		n = fuse_req_getgroups(req, n, g);
	}
	if (n < 0)
		n = 0; /* the caller is gone: no supplementary groups */
	if (syscall(SYS_setgroups, (size_t)n, g) < 0) {
		int err = errno;
		if (g != groups)
			free(g);
		return -err;
	}
	if (g != groups)
		free(g);
	syscall(SYS_setfsgid, ctx->gid);
	syscall(SYS_setfsuid, ctx->uid);
	c->switched = true;
	return 0;
}

/* nvfs_cred_leave -- act as the daemon again */
void
nvfs_cred_leave(struct nvfs_cred *c)
{
	if (!c->switched)
		return;
	syscall(SYS_setfsuid, 0);
	syscall(SYS_setfsgid, 0);
	syscall(SYS_setgroups, (size_t)daemon_nr_groups, daemon_groups);
	c->switched = false;
}

/* ---- init and destroy ------------------------------------------------------ */

/* want -- ask for a capability if the kernel offers it */
static void
want(struct fuse_conn_info *conn, unsigned cap)
{
	if (conn->capable & cap)
		conn->want |= cap;
}

/* nvfs_ll_init -- negotiate (see the top of the file) */
void
nvfs_ll_init(void *userdata, struct fuse_conn_info *conn)
{
	struct nvfs_fs *fs = userdata;

	/* opened here, in the daemon: /proc/self is the serving process */
	fs->proc_fd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fs->proc_fd < 0)
		fuse_log(FUSE_LOG_ERR, "cannot open /proc/self/fd: %s: files cannot "
			 "be opened\n", strerror(errno));
	conn->max_write = MAX_WRITE_BYTES;
	want(conn, FUSE_CAP_SPLICE_WRITE);
	conn->want &= ~(unsigned)(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_MOVE);
	if (fs->cfg->shared_locks) {
		want(conn, FUSE_CAP_FLOCK_LOCKS);
		want(conn, FUSE_CAP_POSIX_LOCKS);
	} else {
		conn->want &= ~(unsigned)(FUSE_CAP_FLOCK_LOCKS | FUSE_CAP_POSIX_LOCKS);
	}
	want(conn, FUSE_CAP_READDIRPLUS);
	want(conn, FUSE_CAP_READDIRPLUS_AUTO);
	want(conn, FUSE_CAP_EXPORT_SUPPORT);
	want(conn, FUSE_CAP_CACHE_SYMLINKS);
	want(conn, FUSE_CAP_ATOMIC_O_TRUNC);
	want(conn, FUSE_CAP_PARALLEL_DIROPS);
	want(conn, FUSE_CAP_AUTO_INVAL_DATA);
	conn->want &= ~(unsigned)(FUSE_CAP_HANDLE_KILLPRIV | FUSE_CAP_POSIX_ACL |
				  FUSE_CAP_DONT_MASK);
	conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
	if (fs->cfg->writeback_cache && (conn->capable & FUSE_CAP_WRITEBACK_CACHE)) {
		conn->want |= FUSE_CAP_WRITEBACK_CACHE;
		fs->writeback = true;
	}
	/* here, in the daemon: a thread started before fuse_daemonize is lost */
	int rc = nvfs_ckpt_start(fs);
	if (rc < 0) {
		/* without it a full journal would block every writer for good */
		fuse_log(FUSE_LOG_ERR, "cannot start the checkpointer: %s; unmounting\n",
			 strerror(-rc));
		fuse_session_exit(fs->se);
	}
}

/* nvfs_ll_destroy -- the session ends: free every inode */
void
nvfs_ll_destroy(void *userdata)
{
	struct nvfs_fs *fs = userdata;

	nvfs_ckpt_stop(fs); /* every request is answered: checkpoint the rest */
	if (fs->itab.buckets)
		nvfs_itab_fini(&fs->itab);
	fs->root = NULL;
	if (fs->proc_fd >= 0)
		close(fs->proc_fd);
	fs->proc_fd = -1;
	if (fs->source_fd >= 0)
		close(fs->source_fd);
	fs->source_fd = -1;
}

/* ---- the session ----------------------------------------------------------- */

/* fs_open -- the state and the root inode; 0 or -errno with a message */
static int
fs_open(const struct nvfs_fs_config *cfg, struct nvfs_fs *fs)
{
	struct stat st;
	int fd, rc;

	fs->cfg = cfg;
	fs->proc_fd = -1;
	fs->source_fd = -1;
	fs->journal = cfg->journal;
	fs->op_durable = cfg->op_durable && !cfg->writeback_cache;
	fs->timeout = cfg->timeout < 0 ? NVFS_FS_DEFAULT_TIMEOUT : cfg->timeout;
	fs->keep_cache = cfg->keep_cache;
	fs->uid = geteuid();
	fs->gid = getegid();
	fs->switch_creds = fs->uid == 0 && !cfg->default_permissions;
	fs->chown_new = fs->uid == 0 && !fs->switch_creds;
	daemon_nr_groups = getgroups(NGROUPS_MAX, daemon_groups);
	if (daemon_nr_groups < 0)
		daemon_nr_groups = 0;
	pthread_mutex_init(&fs->wait_lock, NULL);
	pthread_cond_init(&fs->wait_cond, NULL);
	/* tests only: a failing backing file system (docs/FS-JOURNAL.md 10) */
	const char *fail = getenv("NVFS_TEST_FAIL_SOURCE_WRITE");
	if (fail && (fs->test_fail_write = (unsigned)strtoul(fail, NULL, 10)))
		fuse_log(FUSE_LOG_WARNING, "NVFS_TEST_FAIL_SOURCE_WRITE=%u: every %u-th "
			 "data write to SOURCE fails with EIO (a test setting)\n",
			 fs->test_fail_write, fs->test_fail_write);

	fd = open(cfg->source, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		return nvfs_err_set(-rc, "SOURCE %s: %s", cfg->source, strerror(-rc));
	}
	fs->source_fd = open(cfg->source, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fs->source_fd < 0) {
		rc = -errno;
		close(fd);
		return nvfs_err_set(-rc, "SOURCE %s: %s", cfg->source, strerror(-rc));
	}
	if (nvfs_itab_init(&fs->itab) < 0) {
		close(fd);
		close(fs->source_fd);
		return nvfs_err_set(ENOMEM, "out of memory");
	}
	if (nvfs_itab_insert_root(&fs->itab, fd, &st, &fs->root) < 0) {
		nvfs_itab_fini(&fs->itab);
		close(fs->source_fd);
		return nvfs_err_set(ENOMEM, "out of memory");
	}
	return 0;
}

/* fuse_args_make -- libfuse's command line: options, -d */
static int
fuse_args_make(const struct nvfs_fs_config *cfg, struct fuse_args *args)
{
	char *opts = NULL;
	int rc = 0;

	if (asprintf(&opts, "%s%s%s", cfg->default_permissions ? "default_permissions" : "",
		     cfg->default_permissions && cfg->fuse_opts && *cfg->fuse_opts ? "," : "",
		     cfg->fuse_opts ? cfg->fuse_opts : "") < 0)
		return nvfs_err_set(ENOMEM, "out of memory");
	if (fuse_opt_add_arg(args, "nvfs") < 0 ||
	    (*opts && (fuse_opt_add_arg(args, "-o") < 0 || fuse_opt_add_arg(args, opts) < 0)) ||
	    (cfg->debug && fuse_opt_add_arg(args, "-d") < 0))
		rc = nvfs_err_set(ENOMEM, "out of memory");
	free(opts);
	return rc;
}

/* waiters_stop -- make blocked lock waiters give up, and wait for them */
static void
waiters_stop(struct nvfs_fs *fs)
{
	pthread_mutex_lock(&fs->wait_lock);
	fs->stopping = true;
	while (fs->waiters)
		pthread_cond_wait(&fs->wait_cond, &fs->wait_lock);
	pthread_mutex_unlock(&fs->wait_lock);
}

/* serve -- the multithreaded loop; 0 or -errno */
static int
serve(const struct nvfs_fs_config *cfg, struct fuse_session *se)
{
	struct fuse_loop_config *lc = fuse_loop_cfg_create();
	unsigned threads = cfg->max_threads ? cfg->max_threads : NVFS_FS_DEFAULT_THREADS;
	int rc;

	if (!lc)
		return -ENOMEM;
	fuse_loop_cfg_set_max_threads(lc, threads);
	fuse_loop_cfg_set_idle_threads(lc, threads);
	fuse_loop_cfg_set_clone_fd(lc, 0);
	rc = fuse_session_loop_mt(se, lc);
	fuse_loop_cfg_destroy(lc);
	/* > 0: ended by a signal (SIGINT, SIGTERM, SIGHUP): a clean stop */
	return rc < 0 ? rc : 0;
}

/*
 * fd_limit_max -- the soft limit on descriptors raised to the hard one: the
 * daemon holds an O_PATH descriptor for every inode the kernel remembers
 * (nvfs_inode.fd) and one per open file, so a soft limit of 1024 (a
 * shell's usual) failed lookups and creates with EMFILE, which no local
 * file system gives, once the kernel cached about a thousand inodes
 */
static void
fd_limit_max(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* nvfs_fs_run -- mount, serve, unmount */
int
nvfs_fs_run(const struct nvfs_fs_config *cfg)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_session *se = NULL;
	struct nvfs_fs *fs = calloc(1, sizeof(*fs));
	bool mounted = false, handlers = false;
	char msg[256];
	int rc;

	if (!fs)
		return nvfs_err_set(ENOMEM, "out of memory");
	if ((rc = fs_open(cfg, fs)) < 0) {
		free(fs);
		return rc;
	}
	umask(0); /* the kernel applied the caller's umask already */
	fd_limit_max();
	log_cfg = cfg;
	log_capture = true;
	log_last[0] = '\0';
	fuse_set_log_func(fuse_log_fn);
	if ((rc = fuse_args_make(cfg, &args)) < 0)
		goto out;
	se = fuse_session_new(&args, &nvfs_ll_ops, sizeof(nvfs_ll_ops), fs);
	fs->se = se;
	if (!se) {
		rc = nvfs_err_set(EINVAL, "cannot start the FUSE session: %s",
				  log_last[0] ? log_last : "libfuse refused the options");
		goto out;
	}
	if (fuse_set_signal_handlers(se) < 0) {
		rc = nvfs_err_set(EIO, "cannot install signal handlers");
		goto out;
	}
	handlers = true;
	if (fuse_session_mount(se, cfg->mountpoint) < 0) {
		rc = nvfs_err_set(EIO, "cannot mount on %s: %s", cfg->mountpoint,
				  log_last[0] ? log_last : "see the message above");
		goto out;
	}
	mounted = true;
	log_capture = false;
	if (cfg->mounted)
		cfg->mounted(cfg->arg);
	if (fuse_daemonize(cfg->foreground) < 0) {
		rc = nvfs_err_set(EIO, "cannot run in the background");
		goto out;
	}
	rc = serve(cfg, se);
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "the FUSE loop failed: %s; unmounting",
			 strerror(-rc));
		emit(NVFS_FS_LOG_ERR, msg);
		rc = nvfs_err_set(-rc, "%s", msg);
	}
out:
	log_capture = false;
	if (mounted)
		fuse_session_unmount(se);
	if (handlers)
		fuse_remove_signal_handlers(se);
	waiters_stop(fs);
	if (se)
		fuse_session_destroy(se); /* calls nvfs_ll_destroy after an init */
	nvfs_ll_destroy(fs);
	fuse_opt_free_args(&args);
	pthread_cond_destroy(&fs->wait_cond);
	pthread_mutex_destroy(&fs->wait_lock);
	free(fs);
	fuse_set_log_func(NULL);
	log_cfg = NULL;
	return rc;
}
