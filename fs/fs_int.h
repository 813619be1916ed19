/* SPDX-License-Identifier: MIT */
/*
 * fs_int.h -- what the files of fs/ share: the file system's state, the
 * inode table, file and directory handles, and the FUSE handlers that
 * fs/ops.c wires into the operations table.
 *
 * CONVENTIONS (the shared STYLE.md, section 2)
 *   - One handler per operation, nvfs_ll_<op>, in ops_entry.c, ops_attr.c,
 *     ops_file.c or ops_dir.c.  A handler replies exactly once on every
 *     path (fuse_reply_*), usually as its last statement.  The handlers are
 *     not static only because fs/ops.c, which holds nothing but the table,
 *     must name them; nothing else calls them.
 *   - Helpers never reply: they return 0 (or a count) or a negative errno.
 *   - Journaling: every mutating handler calls one helper that applies
 *     the change to SOURCE, then logs its record (nvfs_log, log.c), then
 *     replies; nothing else in the module changes SOURCE:
 *       ops_entry.c  make_node (mknod, mkdir, symlink), do_link,
 *                    do_unlink (unlink, rmdir), do_rename
 *       ops_attr.c   nvfs_ll_setattr, setxattr/removexattr
 *       ops_file.c   do_create (also O_TRUNC), nvfs_ll_open (O_TRUNC),
 *                    do_write, fallocate, copy_file_range, and
 *                    nvfs_reply_sync for fsync/fsyncdir
 *
 * LOCKING (outermost first; never take them in another order)
 *   1. nvfs_dir.lock       one directory stream (readdir, readdirplus)
 *   2. nvfs_inode.lock     one inode's POSIX lock owners (plocks)
 *   0. nvfs_inode.data_lock  one inode's data changes and their records
 *                          (never two at once; the journal may block under it
 *                          waiting for a checkpoint, which takes none of these)
 *   3. nvfs_itab.lock      the inode table: hash chains, nlookup, refs,
 *                          generations; innermost, held only around table
 *                          updates, never across a system call that may
 *                          block (descriptors of freed inodes are closed
 *                          after it is dropped)
 *   nvfs_fs.wait_lock (blocked-lock waiters) is a leaf lock of its own.
 */
#ifndef NVFS_FS_INT_H
#define NVFS_FS_INT_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include <dirent.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "nvfs_fs.h"
#include "nvfs_hmap.h"
#include "nvfs_rec.h"

_Static_assert(sizeof(fuse_ino_t) >= sizeof(uintptr_t),
	       "a node id must hold a pointer to its struct nvfs_inode");

/* ---- inodes ---------------------------------------------------------------
 *
 * One struct nvfs_inode per backing inode the kernel knows about.  Its
 * address is the FUSE node id (the root's is FUSE_ROOT_ID); the reply's
 * st_ino is the backing st_ino, so inode numbers are those of SOURCE.  An
 * inode lives while the kernel holds lookups on it (nlookup) or the daemon
 * pins it (refs: the root, open files); then it is unhashed and freed.
 * Each allocation gets a new generation, so (node id, generation) is never
 * reused even when an address is (FUSE's rule for NFS export).
 */

/* a POSIX lock owner on an inode: an OFD-locked descriptor of its own */
struct nvfs_plock {
	struct nvfs_plock *next;       /* inode->lock */
	uint64_t owner;                /* FUSE lock owner; immutable */
	pid_t pid;                     /* of its last lock request; inode->lock */
	int fd;                        /* holds the owner's locks; immutable */
};

struct nvfs_inode {
	struct nvfs_inode *hnext;      /* hash chain; itab.lock */
	dev_t dev;                     /* backing identity; immutable */
	ino_t ino;
	mode_t type;                   /* S_IFMT bits; immutable */
	int fd;                        /* O_PATH|O_NOFOLLOW; immutable */
	uint64_t generation;           /* immutable */
	uint64_t nlookup;              /* the kernel's lookups; itab.lock */
	uint64_t refs;                 /* the daemon's pins; itab.lock */
	/*
	 * btime in ns (0: the file system has none), read when a record first
	 * needs it (nvfs_id_of), NVFS_STAMP_UNSET until then: most lookups
	 * never lead to a record; atomic
	 */
	uint64_t stamp;
	pthread_mutex_t lock;          /* protects plocks */
	struct nvfs_plock *plocks;     /* POSIX lock owners (ops_file.c) */
	/*
	 * Orders the data changes of this inode (write, truncate, fallocate,
	 * copy into it, setattr, xattrs) so that their journal order is their
	 * order in SOURCE: the kernel serializes write(2) calls but not its
	 * write-back of mmap'd pages.  Taken before lock, never with another
	 * inode's data_lock held.
	 */
	pthread_mutex_t data_lock;
};

struct nvfs_itab {
	pthread_mutex_t lock;
	struct nvfs_inode **buckets;   /* chains by hash of (dev, ino) */
	size_t nr_buckets;             /* power of two */
	size_t count;                  /* inodes in the table */
	struct nvfs_hmap live;         /* node ids of live inodes (key: address) */
	uint64_t next_generation;
};

/* ---- the file system ------------------------------------------------------ */

/* the checkpointer (ckpt.c) */
struct nvfs_ckpt {
	pthread_t thread;
	bool running;
	bool stopped;                  /* nvfs_ckpt_stop ran */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool kick;                     /* lock: the journal wants a checkpoint */
	bool stop;                     /* lock: unmounting */
	unsigned period_ms;
	bool disabled;                 /* NVFS_TEST_NO_CHECKPOINT: tests only */
	unsigned test_delay_us;        /* NVFS_TEST_CKPT_DELAY_US: tests only */
	unsigned test_fail_syncfs;     /* NVFS_TEST_FAIL_SYNCFS: syncfs fails that
					* many more times (tests only; thread) */
	/* counters, read by the stats (atomic) */
	uint64_t passes, syncfs_errors, last_error;
	uint64_t commits_prev;         /* for commits per second */
	double rate;                   /* commits/s over the last period; lock */
	double rate_at;                /* when rate was measured (monotonic s) */
};

struct nvfs_fs {
	struct nvfs_itab itab;
	struct nvfs_inode *root;       /* SOURCE; pinned, never freed before destroy */
	int proc_fd;                   /* /proc/self/fd of the daemon (opened in init) */
	double timeout;                /* attribute and entry timeout, seconds */
	bool writeback;                /* kernel writeback cache negotiated */
	bool keep_cache;
	bool switch_creds;             /* no default_permissions, daemon is root */
	bool chown_new;                /* daemon is root: give new objects to the caller */
	uid_t uid;                     /* the daemon's euid, egid */
	gid_t gid;
	const struct nvfs_fs_config *cfg;
	struct fuse_session *se;
	/* journaling (log.c, ckpt.c); journal NULL: nothing is logged (ro) */
	struct nvfs_journal *journal;
	bool op_durable;               /* durability=op (nvfs_fs_config) */
	int source_fd;                 /* SOURCE, O_RDONLY: for syncfs */
	struct nvfs_ckpt ckpt;
	uint64_t records, log_errors;  /* atomic */
	bool need_mark;                /* atomic: the next record goes after a MARK */
	uint64_t mark_ns;              /* atomic: the time the last checkpoint ended */
	double started;                /* monotonic seconds at mount */
	/* test hooks (docs/FS-JOURNAL.md section 10); 0: off */
	unsigned test_fail_write;      /* NVFS_TEST_FAIL_SOURCE_WRITE: every N-th
					* data write to SOURCE fails with EIO */
	uint64_t test_writes;          /* atomic: data writes counted for it */
	/* blocked flock/setlkw waiters (ops_file.c) */
	pthread_mutex_t wait_lock;
	pthread_cond_t wait_cond;
	unsigned waiters;              /* wait_lock */
	bool stopping;                 /* wait_lock: teardown, waiters give up */
};

/* open file: fi->fh */
struct nvfs_file {
	int fd;                        /* backing descriptor (never O_APPEND) */
	int accmode;                   /* O_RDONLY, O_WRONLY or O_RDWR */
	bool append;                   /* O_APPEND: each write is RWF_APPEND */
	bool direct;                   /* O_DIRECT: aligned bounce buffers */
	struct nvfs_inode *inode;      /* pinned (refs) until release */
};

/* open directory: fi->fh */
struct nvfs_dir {
	pthread_mutex_t lock;          /* the stream below */
	DIR *dp;
	struct dirent *entry;          /* read but not yet returned, or NULL */
	off_t offset;                  /* position of entry / of the stream */
};

/* nvfs_fs_of -- the file system of a request */
static inline struct nvfs_fs *
nvfs_fs_of(fuse_req_t req)
{
	return (struct nvfs_fs *)fuse_req_userdata(req);
}

/* nvfs_inode_of -- the inode of a node id the kernel sent */
static inline struct nvfs_inode *
nvfs_inode_of(fuse_req_t req, fuse_ino_t ino)
{
	if (ino == FUSE_ROOT_ID)
		return nvfs_fs_of(req)->root;
	return (struct nvfs_inode *)(uintptr_t)ino;
}

/* nvfs_nodeid -- the node id of an inode */
static inline fuse_ino_t
nvfs_nodeid(const struct nvfs_fs *fs, const struct nvfs_inode *in)
{
	return in == fs->root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)in;
}

/* nvfs_file_of -- the open file of a request */
static inline struct nvfs_file *
nvfs_file_of(const struct fuse_file_info *fi)
{
	return (struct nvfs_file *)(uintptr_t)fi->fh;
}

/* ---- inode.c ----------------------------------------------------------- */

/* nvfs_itab_init -- an empty table; 0 or -ENOMEM */
int nvfs_itab_init(struct nvfs_itab *t);

/* nvfs_itab_fini -- free every inode left (at destroy) and the table */
void nvfs_itab_fini(struct nvfs_itab *t);

/*
 * nvfs_itab_insert_root -- make the root inode from fd (O_PATH, taken
 * over) and st; pinned, nlookup 1 (the kernel's implicit lookup of the
 * root), generation 0.  0 or -ENOMEM (fd closed).
 */
int nvfs_itab_insert_root(struct nvfs_itab *t, int fd, const struct stat *st,
			  struct nvfs_inode **out);

/*
 * nvfs_itab_find -- the inode of (st->st_dev, st->st_ino) with one more
 * lookup, or NULL if there is none.
 */
struct nvfs_inode *nvfs_itab_find(struct nvfs_itab *t, const struct stat *st);

/*
 * nvfs_itab_get -- the inode of (st->st_dev, st->st_ino) with one more
 * lookup: the one in the table (fd is closed), or a new one made from fd
 * (an O_PATH descriptor of that backing inode, taken over).  0, or -ENOMEM
 * (fd closed).
 */
int nvfs_itab_get(struct nvfs_itab *t, int fd, const struct stat *st,
		  struct nvfs_inode **out);

/*
 * nvfs_itab_forget -- drop n of the kernel's lookups; frees the inode when
 * neither lookups nor pins are left.  Aborts if n exceeds the lookups (an
 * internal error: the kernel and the daemon disagree).
 */
void nvfs_itab_forget(struct nvfs_itab *t, struct nvfs_inode *in, uint64_t n);

/* nvfs_itab_lookup_more -- one more kernel lookup on an inode it knows */
void nvfs_itab_lookup_more(struct nvfs_itab *t, struct nvfs_inode *in);

/* nvfs_itab_pin, nvfs_itab_unpin -- the daemon's references (open files) */
void nvfs_itab_pin(struct nvfs_itab *t, struct nvfs_inode *in);
void nvfs_itab_unpin(struct nvfs_itab *t, struct nvfs_inode *in);

/*
 * nvfs_itab_validate -- the inode a node id names if it is live (one more
 * lookup taken), for node ids that may be stale (NFS file handles); NULL if
 * not.
 */
struct nvfs_inode *nvfs_itab_validate(struct nvfs_itab *t, fuse_ino_t nodeid,
				      struct nvfs_inode *root);

/* ---- helpers shared by the handlers (fs.c, ops_entry.c) ------------------ */

/*
 * nvfs_proc_path -- "/proc/self/fd/N" for a descriptor, for the calls that
 * have no form taking an O_PATH descriptor (xattrs, chmod, truncate).
 */
void nvfs_proc_path(int fd, char buf[64]);

/*
 * nvfs_reopen -- open an inode's O_PATH descriptor for I/O with flags
 * (through /proc/self/fd); the new descriptor or -errno.
 */
int nvfs_reopen(const struct nvfs_fs *fs, const struct nvfs_inode *in, int flags);

/*
 * Caller credentials.  With fs->switch_creds, nvfs_cred_enter makes the
 * calling thread act as the request's caller (fsuid, fsgid, supplementary
 * groups) and nvfs_cred_leave makes it root again; otherwise both do
 * nothing.  Every handler that touches SOURCE on a caller's behalf brackets
 * the work with them.  enter returns 0 or -errno (then leave is not needed).
 */
struct nvfs_cred {
	bool switched;
};
int nvfs_cred_enter(fuse_req_t req, struct nvfs_cred *c);
void nvfs_cred_leave(struct nvfs_cred *c);

/* nvfs_entry_init -- an entry reply for an inode (timeouts set) */
void nvfs_entry_init(const struct nvfs_fs *fs, struct nvfs_inode *in,
		     const struct stat *st, struct fuse_entry_param *e);

/*
 * nvfs_give_to_caller -- make a new object (in, just made in dir) belong
 * to the request's caller (fs.c, OWNERSHIP); *st is its stat, refreshed.
 * 0 or -errno.  Does nothing unless fs->chown_new.
 */
int nvfs_give_to_caller(fuse_req_t req, struct nvfs_inode *dir,
			struct nvfs_inode *in, struct stat *st);

/*
 * nvfs_reply_entry -- reply with *e for inode in; if the kernel has
 * dropped the request meanwhile, take back the lookup the entry carried
 */
void nvfs_reply_entry(fuse_req_t req, struct nvfs_inode *in,
		      const struct fuse_entry_param *e);

/*
 * nvfs_do_lookup -- look name up in parent and fill *e: the inode gets one
 * more kernel lookup (the caller must reply with *e, or forget it).
 * "." is parent itself and ".." its parent (the root's ".." is the root:
 * SOURCE is never left).  0 or -errno (-ENOENT: no such name).
 */
int nvfs_do_lookup(fuse_req_t req, struct nvfs_inode *parent, const char *name,
		   struct fuse_entry_param *e);

/* nvfs_reserved -- name in dir is replay's (NVFS_FS_ORPHANAGE...) */
static inline bool
nvfs_reserved(const struct nvfs_fs *fs, const struct nvfs_inode *dir, const char *name)
{
	return dir == fs->root && name[0] == '.' &&
	       strncmp(name, NVFS_FS_ORPHANAGE, sizeof(NVFS_FS_ORPHANAGE) - 1) == 0;
}

/* ---- journaling (log.c) -----------------------------------------------------
 * The order of every mutating handler (docs/FS-JOURNAL.md section 2):
 * apply the change to SOURCE; if that failed, reply the error (nothing is
 * logged); else fill a struct nvfs_rec from the result and nvfs_log it;
 * reply nvfs_log's error if it failed, else success.
 */

#define NVFS_STAMP_UNSET UINT64_MAX

/* nvfs_stamp_of -- btime (ns) of name in dirfd ("" for dirfd itself), 0 if none */
uint64_t nvfs_stamp_of(int dirfd, const char *name);

/*
 * nvfs_stat_stamp -- stat of name in dirfd ("" for dirfd itself; never
 * followed) and its btime (ns, 0 if none) in one statx: where an inode is
 * met for the first time, its identity costs no extra system call.  0 or
 * -errno.
 */
int nvfs_stat_stamp(int dirfd, const char *name, struct stat *st, uint64_t *stamp);

/* nvfs_stamp_set -- the btime read with the stat that made in (if unset) */
static inline void
nvfs_stamp_set(struct nvfs_inode *in, uint64_t stamp)
{
	uint64_t unset = NVFS_STAMP_UNSET;

	__atomic_compare_exchange_n(&in->stamp, &unset, stamp, false, __ATOMIC_RELEASE,
				    __ATOMIC_RELAXED);
}

/* nvfs_id_of -- the identity of an inode (its btime read on first use) */
static inline struct nvfs_rec_id
nvfs_id_of(struct nvfs_inode *in)
{
	uint64_t s = __atomic_load_n(&in->stamp, __ATOMIC_ACQUIRE);

	if (s == NVFS_STAMP_UNSET) {
		s = nvfs_stamp_of(in->fd, ""); /* the same value whoever reads it */
		__atomic_store_n(&in->stamp, s, __ATOMIC_RELEASE);
	}
	return (struct nvfs_rec_id){ .ino = in->ino, .stamp = s };
}

/*
 * nvfs_id_at -- the identity and link count of name in dirfd (not
 * followed); 0 or -errno (-ENOENT: no such name)
 */
int nvfs_id_at(int dirfd, const char *name, struct nvfs_rec_id *id, uint32_t *nlink);

/*
 * nvfs_log -- append r to the journal and, with durability=op, commit it.
 * 0 (also when nothing is logged: a read-only mount), or -EIO: the change
 * is in SOURCE but not journaled, the caller must not report success (the
 * reason is logged, once).
 */
int nvfs_log(struct nvfs_fs *fs, const struct nvfs_rec *r);

/*
 * nvfs_log_destroy -- make a change that destroys data (r describes it)
 * the safe way, under in's data_lock: r appended and committed first (an
 * intent, nvfs_rec.h), change(arg) (0 or -errno), then r again with
 * nvfs_log (a checkpoint between the intent and the change may have
 * released the intent before the change was durable), or a CANCEL of the
 * intent, committed, if the change failed.  0 or -errno (the
 * change's, or -EIO from the journal).  nvfs_log_destroy_id names the
 * object of the CANCEL by its identity (a rename: no inode at hand).
 */
int nvfs_log_destroy_id(struct nvfs_fs *fs, struct nvfs_rec_id id, const struct nvfs_rec *r,
			int (*change)(void *arg), void *arg);
int nvfs_log_destroy(struct nvfs_fs *fs, struct nvfs_inode *in, const struct nvfs_rec *r,
		     int (*change)(void *arg), void *arg);



/*
 * nvfs_log_sync -- fsync/fsyncdir with durability=fsync: commit everything
 * appended so far.  0 or -EIO.
 */
int nvfs_log_sync(struct nvfs_fs *fs);

/* ---- the checkpointer and the statistics (ckpt.c) ------------------------- */

/* nvfs_ckpt_start -- start the thread (in the daemon, at init); 0 or -errno */
int nvfs_ckpt_start(struct nvfs_fs *fs);

/* nvfs_ckpt_stop -- stop it after a last checkpoint: the journal is empty */
void nvfs_ckpt_stop(struct nvfs_fs *fs);

/* nvfs_stats_text -- the statistics as "key: value" lines; the length */
size_t nvfs_stats_text(struct nvfs_fs *fs, char *buf, size_t len);

/* ---- handlers (ops_*.c), wired in ops.c -------------------------------- */

/* fs.c */
void nvfs_ll_init(void *userdata, struct fuse_conn_info *conn);
void nvfs_ll_destroy(void *userdata);

/* ops_entry.c */
void nvfs_ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void nvfs_ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void nvfs_ll_forget_multi(fuse_req_t req, size_t count,
			  struct fuse_forget_data *forgets);
void nvfs_ll_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		   mode_t mode, dev_t rdev);
void nvfs_ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void nvfs_ll_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		     const char *name);
void nvfs_ll_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		  const char *newname);
void nvfs_ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void nvfs_ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void nvfs_ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		    fuse_ino_t newparent, const char *newname, unsigned int flags);

/* ops_attr.c */
void nvfs_ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void nvfs_ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		     struct fuse_file_info *fi);
void nvfs_ll_readlink(fuse_req_t req, fuse_ino_t ino);
void nvfs_ll_statfs(fuse_req_t req, fuse_ino_t ino);
void nvfs_ll_access(fuse_req_t req, fuse_ino_t ino, int mask);
void nvfs_ll_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		      const char *value, size_t size, int flags);
void nvfs_ll_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size);
void nvfs_ll_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void nvfs_ll_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);

/* ops_file.c */
void nvfs_ll_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		    mode_t mode, struct fuse_file_info *fi);
void nvfs_ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void nvfs_ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		  struct fuse_file_info *fi);
void nvfs_ll_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *bufv,
		       off_t off, struct fuse_file_info *fi);
void nvfs_ll_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void nvfs_ll_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void nvfs_ll_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		   struct fuse_file_info *fi);
void nvfs_ll_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset,
		       off_t length, struct fuse_file_info *fi);
void nvfs_ll_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			     struct fuse_file_info *fi_in, fuse_ino_t ino_out,
			     off_t off_out, struct fuse_file_info *fi_out,
			     size_t len, int flags);
void nvfs_ll_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		   struct fuse_file_info *fi);
void nvfs_ll_flock(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, int op);
void nvfs_ll_getlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		   struct flock *lock);
void nvfs_ll_setlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		   struct flock *lock, int sleep);

/*
 * nvfs_reply_sync -- reply to fsync/fsyncdir (fd: the backing
 * descriptor, -1 if none) as the durability mode wants (ops_file.c)
 */
void nvfs_reply_sync(fuse_req_t req, int fd, int datasync);

/*
 * nvfs_set_size -- truncate or extend in to size (ops_attr.c), journaled
 * before it is made (nvfs_log_destroy), through fd (open for writing) or,
 * with fd -1, a descriptor opened for writing with the thread's
 * credentials, so that a caller who may not do it fails before anything is
 * logged.  in's data_lock held.  0 or -errno.
 */
int nvfs_set_size(struct nvfs_fs *fs, struct nvfs_inode *in, int fd, off_t size);

/* nvfs_plocks_drop -- close every POSIX lock owner of an inode being freed */
void nvfs_plocks_drop(struct nvfs_inode *in);

/* ops_dir.c */
void nvfs_ll_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void nvfs_ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     struct fuse_file_info *fi);
void nvfs_ll_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			 struct fuse_file_info *fi);
void nvfs_ll_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void nvfs_ll_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
		      struct fuse_file_info *fi);

extern const struct fuse_lowlevel_ops nvfs_ll_ops;

#endif /* NVFS_FS_INT_H */
