/* SPDX-License-Identifier: MIT */
/*
 * ops_entry.c -- names: lookup, forget, mknod, mkdir, symlink, link,
 * unlink, rmdir, rename.
 *
 * Every name operation works relative to the parent's O_PATH descriptor
 * (*at system calls), never on a path built from SOURCE, so a name cannot
 * escape SOURCE: the kernel sends one component, symlinks are never
 * followed (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW), and ".." of the root is the
 * root.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs_int.h"

/* stat_fd -- stat an O_PATH descriptor itself (symlinks included) */
static int
stat_fd(int fd, struct stat *st)
{
	return fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

/*
 * lookup_made -- look up a name whose inode is new (this request has just
 * made it, or nvfs_do_lookup found it unknown): open it and stat the
 * descriptor, whose statx reads the btime too.  For a name just made this
 * is two system calls, where nvfs_do_lookup's order -- stat the name, open
 * it if unknown, stat the descriptor -- takes three.
 */
static int
lookup_made(fuse_req_t req, struct nvfs_inode *parent, const char *name,
	    struct fuse_entry_param *e)
{
	struct nvfs_fs *fs = nvfs_fs_of(req);
	struct nvfs_inode *in;
	struct stat st;
	uint64_t stamp;
	int fd, rc;

	fd = openat(parent->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if ((rc = nvfs_stat_stamp(fd, "", &st, &stamp)) < 0) {
		close(fd);
		return rc;
	}
	if ((rc = nvfs_itab_get(&fs->itab, fd, &st, &in)) < 0)
		return rc; /* fd closed */
	nvfs_stamp_set(in, stamp);
	nvfs_entry_init(fs, in, &st, e);
	return 0;
}

/* nvfs_do_lookup -- name in parent -> entry, one more lookup */
int
nvfs_do_lookup(fuse_req_t req, struct nvfs_inode *parent, const char *name,
	       struct fuse_entry_param *e)
{
	struct nvfs_fs *fs = nvfs_fs_of(req);
	struct nvfs_inode *in;
	struct stat st;
	int rc;

	if (strcmp(name, ".") == 0 || (parent == fs->root && strcmp(name, "..") == 0)) {
		if ((rc = stat_fd(parent->fd, &st)) < 0)
			return rc;
		nvfs_itab_lookup_more(&fs->itab, parent);
		nvfs_entry_init(fs, parent, &st, e);
		return 0;
	}
	if (nvfs_reserved(fs, parent, name))
		return -ENOENT; /* replay's orphanage (nvfs_fs.h) */
	/* known inodes (most lookups) cost one fstatat */
	if (fstatat(parent->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	/*
	 * Another file system mounted inside SOURCE is not crossed: the journal
	 * names objects by inode number and the checkpointer syncs SOURCE's
	 * file system only, so its changes could not be made durable.
	 */
	if (st.st_dev != fs->root->dev)
		return -EXDEV;
	in = nvfs_itab_find(&fs->itab, &st);
	if (!in) /* the name may have changed since the fstatat: trust an fd */
		return lookup_made(req, parent, name, e);
	nvfs_entry_init(fs, in, &st, e);
	return 0;
}

/* nvfs_reply_entry -- reply, or take the lookup back if nobody listens */
void
nvfs_reply_entry(fuse_req_t req, struct nvfs_inode *in, const struct fuse_entry_param *e)
{
	struct nvfs_fs *fs = nvfs_fs_of(req);

	if (fuse_reply_entry(req, e) == -ENOENT)
		nvfs_itab_forget(&fs->itab, in, 1); /* request interrupted */
}

/* nvfs_give_to_caller -- chown a new object to the caller (fs.c) */
int
nvfs_give_to_caller(fuse_req_t req, struct nvfs_inode *dir, struct nvfs_inode *in,
		    struct stat *st)
{
	const struct nvfs_fs *fs = nvfs_fs_of(req);
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct stat dst;
	gid_t gid = ctx->gid;
	char path[64];
	int rc;

	if (!fs->chown_new)
		return 0;
	/*
	 * Made by root: owner root, group root or a set-group-ID directory's.
	 * Already the caller's when both match (a set-group-ID directory of
	 * another group would have given its own): no need to look at dir.
	 */
	if (st->st_uid == ctx->uid && st->st_gid == ctx->gid)
		return 0;
	if ((rc = stat_fd(dir->fd, &dst)) < 0)
		return rc;
	if (dst.st_mode & S_ISGID)
		gid = dst.st_gid; /* BSD group semantics of a set-group-ID directory */
	if (st->st_uid == ctx->uid && st->st_gid == gid)
		return 0;
	if (fchownat(in->fd, "", ctx->uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	/* chown clears set-user/group-ID bits of non-directories: put them back */
	if ((st->st_mode & (S_ISUID | S_ISGID)) && !S_ISDIR(st->st_mode) &&
	    !S_ISLNK(st->st_mode)) {
		nvfs_proc_path(in->fd, path);
		if (chmod(path, st->st_mode & 07777) < 0)
			return -errno;
	}
	return stat_fd(in->fd, st);
}

/* ---- lookup, forget -------------------------------------------------------- */

/* lookup_name -- as nvfs_do_lookup; "." may name a stale node id (NFS) */
static int
lookup_name(fuse_req_t req, fuse_ino_t parent, const char *name,
	    struct fuse_entry_param *e)
{
	struct nvfs_fs *fs = nvfs_fs_of(req);
	struct nvfs_inode *in;
	struct stat st;
	int rc;

	if (strcmp(name, ".") != 0)
		return nvfs_do_lookup(req, nvfs_inode_of(req, parent), name, e);
	in = nvfs_itab_validate(&fs->itab, parent, fs->root);
	if (!in)
		return -ESTALE;
	if ((rc = stat_fd(in->fd, &st)) < 0) {
		nvfs_itab_forget(&fs->itab, in, 1);
		return rc;
	}
	nvfs_entry_init(fs, in, &st, e);
	return 0;
}

/* nvfs_ll_lookup -- a name; a missing one is cached as a negative entry */
void
nvfs_ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct nvfs_fs *fs = nvfs_fs_of(req);
	struct fuse_entry_param e;
	struct nvfs_cred c;
	int rc;

	if ((rc = nvfs_cred_enter(req, &c)) == 0) {
		rc = lookup_name(req, parent, name, &e);
		nvfs_cred_leave(&c);
	}
	if (rc == -ENOENT) {
		memset(&e, 0, sizeof(e));
		e.entry_timeout = fs->timeout; /* ino 0: "no such name", cached */
		fuse_reply_entry(req, &e);
	} else if (rc < 0) {
		fuse_reply_err(req, -rc);
	} else {
		nvfs_reply_entry(req, nvfs_inode_of(req, e.ino), &e);
	}
}

/* nvfs_ll_forget -- the kernel dropped nlookup lookups */
void
nvfs_ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	nvfs_itab_forget(&nvfs_fs_of(req)->itab, nvfs_inode_of(req, ino), nlookup);
	fuse_reply_none(req);
}

/* nvfs_ll_forget_multi -- a batch of forgets */
void
nvfs_ll_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct nvfs_fs *fs = nvfs_fs_of(req);

	for (size_t i = 0; i < count; i++)
		nvfs_itab_forget(&fs->itab, nvfs_inode_of(req, forgets[i].ino),
				 forgets[i].nlookup);
	fuse_reply_none(req);
}

/* ---- making names ---------------------------------------------------------- */

/*
 * make_node -- create name in dir (a directory, a symlink to link, or a
 * node of mode/rdev), give it to the caller and look it up into *e.  If
 * it cannot be given to the caller (e.g. the caller's quota), it is
 * removed again and the error returned.
 */
static int
make_node(fuse_req_t req, struct nvfs_inode *dir, const char *name, mode_t mode,
	  dev_t rdev, const char *link, struct fuse_entry_param *e)
{
	struct nvfs_fs *fs = nvfs_fs_of(req);
	struct nvfs_inode *in;
	int rc;

	if (nvfs_reserved(fs, dir, name))
		return -EPERM;
	if (S_ISDIR(mode))
		rc = mkdirat(dir->fd, name, mode & 07777);
	else if (link)
		rc = symlinkat(link, dir->fd, name);
	else
		rc = mknodat(dir->fd, name, mode, rdev);
	if (rc < 0)
		return -errno;
	if ((rc = lookup_made(req, dir, name, e)) < 0)
		return rc;
	in = nvfs_inode_of(req, e->ino);
	if ((rc = nvfs_give_to_caller(req, dir, in, &e->attr)) < 0) {
		nvfs_itab_forget(&fs->itab, in, 1);
		unlinkat(dir->fd, name, S_ISDIR(mode) ? AT_REMOVEDIR : 0);
		return rc;
	}
	struct nvfs_rec r = {
		.type = NVFS_REC_CREATE, .id = nvfs_id_of(in), .parent = nvfs_id_of(dir),
		.a = S_ISCHR(mode) || S_ISBLK(mode) ? (uint64_t)rdev : 0,
		.mode = e->attr.st_mode, .uid = e->attr.st_uid, .gid = e->attr.st_gid,
		.data = link, .data_len = link ? strlen(link) : 0,
	};
	snprintf(r.name, sizeof(r.name), "%s", name);
	if ((rc = nvfs_log(fs, &r)) < 0) {
		nvfs_itab_forget(&fs->itab, in, 1);
		return rc;
	}
	return 0;
}

/* reply_make -- make_node under the caller's credentials, and reply */
static void
reply_make(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	   dev_t rdev, const char *link)
{
	struct fuse_entry_param e;
	struct nvfs_cred c;
	int rc;

	if ((rc = nvfs_cred_enter(req, &c)) == 0) {
		rc = make_node(req, nvfs_inode_of(req, parent), name, mode, rdev, link, &e);
		nvfs_cred_leave(&c);
	}
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		nvfs_reply_entry(req, nvfs_inode_of(req, e.ino), &e);
}

/* nvfs_ll_mknod -- a regular file, FIFO, socket or device node */
void
nvfs_ll_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	      dev_t rdev)
{
	reply_make(req, parent, name, mode, rdev, NULL);
}

/* nvfs_ll_mkdir -- a directory */
void
nvfs_ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	reply_make(req, parent, name, S_IFDIR | mode, 0, NULL);
}

/* nvfs_ll_symlink -- a symbolic link to link */
void
nvfs_ll_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	reply_make(req, parent, name, S_IFLNK | 0777, 0, link);
}

/* do_link -- a new name for in; one more lookup on it */
static int
do_link(fuse_req_t req, struct nvfs_inode *in, struct nvfs_inode *dir,
	const char *name, struct fuse_entry_param *e)
{
	struct nvfs_fs *fs = nvfs_fs_of(req);
	struct stat st;
	char path[64];
	int rc;

	if (nvfs_reserved(fs, dir, name))
		return -EPERM;
	/* linkat(fd, "", AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH; /proc does not */
	nvfs_proc_path(in->fd, path);
	if (linkat(AT_FDCWD, path, dir->fd, name, AT_SYMLINK_FOLLOW) < 0)
		return -errno;
	if ((rc = stat_fd(in->fd, &st)) < 0)
		return rc;
	struct nvfs_rec r = {
		.type = NVFS_REC_LINK, .id = nvfs_id_of(in), .parent = nvfs_id_of(dir),
		.nlink = (uint32_t)st.st_nlink,
	};
	snprintf(r.name, sizeof(r.name), "%s", name);
	if ((rc = nvfs_log(fs, &r)) < 0)
		return rc;
	nvfs_itab_lookup_more(&fs->itab, in);
	nvfs_entry_init(fs, in, &st, e);
	return 0;
}

/* nvfs_ll_link -- a hard link: same inode, same owner */
void
nvfs_ll_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	struct nvfs_inode *in = nvfs_inode_of(req, ino);
	struct fuse_entry_param e;
	struct nvfs_cred c;
	int rc;

	if ((rc = nvfs_cred_enter(req, &c)) == 0) {
		rc = do_link(req, in, nvfs_inode_of(req, newparent), newname, &e);
		nvfs_cred_leave(&c);
	}
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		nvfs_reply_entry(req, in, &e);
}

/* ---- removing and renaming names ------------------------------------------ */

/*
 * do_unlink -- remove a name (flags: 0 or AT_REMOVEDIR); the record names
 * the object the name held, taken before (the kernel holds the directory
 * locked, so the name cannot change in between through the mount)
 */
static int
do_unlink(fuse_req_t req, fuse_ino_t parent, const char *name, int flags)
{
	struct nvfs_inode *dir = nvfs_inode_of(req, parent);
	struct nvfs_rec r = { .type = NVFS_REC_UNLINK, .parent = nvfs_id_of(dir) };
	struct nvfs_cred c;
	int rc;

	if ((rc = nvfs_cred_enter(req, &c)) < 0)
		return rc;
	rc = nvfs_id_at(dir->fd, name, &r.id, &r.nlink);
	if (rc == 0)
		rc = unlinkat(dir->fd, name, flags) < 0 ? -errno : 0;
	nvfs_cred_leave(&c);
	if (rc < 0)
		return rc;
	r.flags = flags & AT_REMOVEDIR ? NVFS_REC_RMDIR : 0;
	r.nlink = r.flags || r.nlink == 0 ? 0 : r.nlink - 1;
	snprintf(r.name, sizeof(r.name), "%s", name);
	return nvfs_log(nvfs_fs_of(req), &r);
}

/* nvfs_ll_unlink -- remove a non-directory name */
void
nvfs_ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, -do_unlink(req, parent, name, 0));
}

/* nvfs_ll_rmdir -- remove an empty directory */
void
nvfs_ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, -do_unlink(req, parent, name, AT_REMOVEDIR));
}

/* a rename, as nvfs_log_destroy_id's change */
struct rename_args {
	int from, to;
	const char *name, *newname;
	unsigned flags;
};

static int
do_renameat(void *arg)
{
	const struct rename_args *a = arg;

	return renameat2(a->from, a->name, a->to, a->newname, a->flags) < 0 ? -errno : 0;
}

/* do_rename -- rename(2) and renameat2(2) in SOURCE */
static int
do_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
	  const char *newname, unsigned int flags)
{
	struct nvfs_inode *from = nvfs_inode_of(req, parent);
	struct nvfs_inode *to = nvfs_inode_of(req, newparent);
	struct nvfs_rec r = {
		.type = NVFS_REC_RENAME, .parent = nvfs_id_of(from), .parent2 = nvfs_id_of(to),
		.flags = flags,
	};
	struct nvfs_cred c;
	int rc;

	if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL; /* RENAME_WHITEOUT: replay could not make a whiteout */
	if (nvfs_reserved(nvfs_fs_of(req), to, newname) ||
	    nvfs_reserved(nvfs_fs_of(req), from, name))
		return -EPERM;
	snprintf(r.name, sizeof(r.name), "%s", name);
	snprintf(r.name2, sizeof(r.name2), "%s", newname);
	if ((rc = nvfs_cred_enter(req, &c)) < 0)
		return rc;
	/*
	 * The moved object is identified before anything changes, so that a
	 * rename is never made without the record naming it.  A plain rename
	 * is then tried as RENAME_NOREPLACE: when it replaces nothing (most
	 * renames), the target needs no stat, and "nothing replaced" is
	 * exact.  EEXIST (a target), EINVAL or EOPNOTSUPP (a SOURCE without
	 * the flag) take the general path.
	 */
	rc = nvfs_id_at(from->fd, name, &r.id, &r.nlink);
	if (rc == 0 && flags == 0) {
		if (renameat2(from->fd, name, to->fd, newname, RENAME_NOREPLACE) == 0) {
			nvfs_cred_leave(&c);
			r.id2 = (struct nvfs_rec_id){ 0, 0 };
			r.nlink2 = 0;
			goto log;
		}
		if (errno != EEXIST && errno != EINVAL && errno != EOPNOTSUPP && errno != ENOSYS) {
			rc = -errno; /* what rename(2) says too: EXDEV, EACCES, ... */
			nvfs_cred_leave(&c);
			return rc;
		}
	}
	if (rc == 0 && nvfs_id_at(to->fd, newname, &r.id2, &r.nlink2) < 0)
		r.id2 = (struct nvfs_rec_id){ 0, 0 }; /* no such name: renameat2 says */
	if (!r.id2.ino)
		r.nlink2 = 0;
	else if (!(flags & RENAME_EXCHANGE))
		r.nlink2 = r.nlink2 > 1 ? r.nlink2 - 1 : 0; /* replaced: one name less */
	/*
	 * A rename that replaces another object destroys it if that was its
	 * last name.  Made before its record is durable, a crash in between
	 * would leave the old object gone and the log naming it there:
	 * neither the state before the rename nor after.  So with
	 * durability=op it is an intent (nvfs_log_destroy_id): the record
	 * committed first, replay makes the rename if the crash came before.
	 * (With durability=fsync nothing after the last sync is promised.)
	 */
	if (rc == 0 && nvfs_fs_of(req)->op_durable && r.id2.ino &&
	    !(flags & RENAME_EXCHANGE) && !nvfs_rec_id_eq(r.id, r.id2)) {
		struct rename_args a = { from->fd, to->fd, name, newname, flags };
		rc = nvfs_log_destroy_id(nvfs_fs_of(req), r.id, &r, do_renameat, &a);
		nvfs_cred_leave(&c);
		return rc;
	}
	if (rc == 0)
		rc = renameat2(from->fd, name, to->fd, newname, flags) < 0 ? -errno : 0;
	nvfs_cred_leave(&c);
	if (rc < 0)
		return rc;
	if (nvfs_rec_id_eq(r.id, r.id2) && !(flags & RENAME_EXCHANGE))
		return 0; /* two names of one inode: rename(2) changes nothing */
log:
	return nvfs_log(nvfs_fs_of(req), &r);
}

/*
 * nvfs_ll_rename -- RENAME_NOREPLACE and RENAME_EXCHANGE are SOURCE's to
 * honour or refuse; RENAME_WHITEOUT (overlayfs) is refused: EINVAL
 */
void
nvfs_ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
	       fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	fuse_reply_err(req, -do_rename(req, parent, name, newparent, newname, flags));
}
