/* SPDX-License-Identifier: MIT */
/*
 * replay.c -- make SOURCE hold what the journal holds, at mount, before the
 * file system serves anything (docs/FS-JOURNAL.md section 5).
 *
 * WHAT REPLAY MAY FIND
 *   After a crash SOURCE holds any subset of the changes made since the
 *   last checkpoint -- those the backing file system kept -- plus changes
 *   that were applied but never logged (in flight, or after the last
 *   commit with durability=fsync).  Paths are not identities (create a;
 *   rename a b; create a), so records name objects by identity
 *   (nvfs_rec.h), and replay works in two passes over the journal:
 *
 *   1. NAMES.  The first pass computes, for every place (directory
 *      identity, name) a record touched, the object the log leaves there
 *      (or none), and for every object the log created how to make it
 *      again.  SOURCE is then walked once to find where every object the
 *      log names is now (and every directory).  Then:
 *        a. every touched place holding another object than the log says
 *           is emptied: an object the log names, or one an earlier run of
 *           replay made, goes to the orphanage SOURCE/.nvfs-replay, named
 *           by its identity; an object nobody logged (an unlogged rename
 *           or create put it there) stays where it is if the log leaves
 *           the place empty, else goes to SOURCE/nvfs-recovered -- replay
 *           never deletes what it cannot prove deleted;
 *        b. every touched place is given its object, parents first:
 *           moved back from the orphanage, else linked from another of its
 *           names (a file keeping names older than the log), else made
 *           again from its create record (SOURCE lost the create).  An
 *           object found only at a name the log never touched was renamed
 *           there by an unlogged operation: it stays there (the state
 *           with that rename; moving it back could not bring back what
 *           the rename replaced);
 *        c. the orphanage is emptied: objects whose every name the log
 *           removed, and what replay made and no longer needs, are
 *           removed; anything else found in it goes to
 *           SOURCE/nvfs-recovered.  Its marker and the list of what replay
 *           made stay until the checkpoint (a replay after a crash needs
 *           them), then the orphanage goes.
 *   2. DATA.  The second pass applies every data record (write, setattr,
 *      fallocate, xattrs) in log order to the object wherever it is now,
 *      skipping intents that were cancelled; each is an absolute change, so
 *      applying it again changes nothing.  An object without a name left is
 *      skipped: nobody can see its data.
 *   Then syncfs(SOURCE) and nvfs_journal_checkpoint: only now is the log
 *   released.  A crash anywhere before leaves the log as it was, and the
 *   next replay converges to the same SOURCE: the orphanage is reused, and
 *   the identities of the objects replay made are listed in it (file
 *   "made"), so that a second run can tell them from user data.
 *
 * HOW IT TOUCHES SOURCE
 *   Only through directory descriptors opened one component at a time
 *   (O_PATH | O_NOFOLLOW, identity checked) and *at calls on the last
 *   component: no path is ever built, so no PATH_MAX limit and no symlink
 *   followed, wherever SOURCE's tree goes.  Descriptors of directories are
 *   cached (they follow a directory wherever it is moved).
 *
 * WHAT IT COSTS
 *   Memory in proportion to the log's names and SOURCE's directories; one
 *   walk of SOURCE (directories, and a statx of the entries whose inode
 *   number the log names).  Nothing at all when the journal is empty (a
 *   clean unmount).
 *
 * WHAT IT CANNOT KNOW
 *   A file with hard links older than the log, given another name by an
 *   unlogged rename, keeps both names (the rename half applied).  An
 *   unlogged rename or exchange that put an object older than the log on a
 *   journaled name ends with that object in SOURCE/nvfs-recovered, not
 *   where it was (tests/fs_replay.c, NVFS_TEST_KNOWN_BUGS).  An object the
 *   log names, did not create, and SOURCE no longer has was removed by an
 *   unlogged operation: it is counted (missing) and logged, not invented.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "fs_int.h"
#include "nvfs_csum.h"
#include "nvfs_err.h"
#include "nvfs_journal.h"

#define ORPHANAGE     NVFS_FS_ORPHANAGE
#define ORPHANAGE_NEW NVFS_FS_ORPHANAGE ".new"
#define MARK          NVFS_FS_ORPHANAGE_MARK
#define MADE_LIST     "made"
#define MADE_TMP      "made-"        /* in the orphanage: being made again */
#define RECOVERED     "nvfs-recovered"
#define MAX_DEPTH     100000        /* directory nesting replay follows */
#define FD_CACHE_MAX  256           /* cached directory descriptors */
#define NO_OBJ        UINT32_MAX

/* a name of an object in SOURCE now: (directory object, name) */
struct loc {
	uint32_t dir;                    /* object index */
	char *name;
};

/* an object: one the log names, or a directory of SOURCE */
struct obj {
	struct nvfs_rec_id id;
	uint32_t next;                   /* hash chain */
	uint32_t alias_of;               /* made again: the logged object, else NO_OBJ */
	int fd;                          /* directory: cached O_PATH descriptor, or -1 */
	bool is_dir, is_root;
	bool referenced;                 /* the log names it */
	bool born;                       /* the log created it */
	bool made;                       /* replay made it (now or in an earlier run) */
	bool nlink_known;
	bool warned;                     /* missing: said once */
	uint32_t nlink;                  /* after its last name record */
	uint64_t life_seq;               /* its last CREATE: older records are of an
					  * earlier object with the same identity */
	uint32_t mode, uid, gid;         /* create record */
	uint64_t rdev;
	char *target;                    /* symlink */
	struct loc *locs;                /* its names now */
	uint32_t nlocs, caplocs;
	uint32_t nfinal;                 /* touched places the log leaves it at */
};

/* a place a record touched, and what the log leaves there */
struct place {
	uint32_t dir;                    /* object index */
	uint32_t next;
	uint32_t final;                  /* object index or NO_OBJ */
	uint64_t seq;                    /* last record that touched it */
	bool done;                       /* step b placed it */
	char *name;
};

struct replay {
	int src;                         /* SOURCE, O_RDONLY */
	struct nvfs_journal *j;
	struct nvfs_fs_replay_report *rep;
	struct obj *objs;
	uint32_t nobjs, capobjs;
	struct nvfs_hmap obj_idx;        /* hash(id) -> index + 1 of a chain head */
	struct place *places;
	uint32_t nplaces, capplaces;
	struct nvfs_hmap place_idx;
	struct nvfs_hmap inos;           /* inode numbers the log names */
	struct nvfs_hmap cancelled;      /* seqs of cancelled intents */
	struct nvfs_hmap made_ids;       /* hash(id) of what earlier runs made */
	uint32_t root, orph, recov;      /* object indexes; NO_OBJ if none */
	int made_fd;                     /* the orphanage's "made" list, or -1 */
	unsigned cached_fds;
	uint64_t skipped;                /* records that could not be applied */
	unsigned delay_us;               /* NVFS_TEST_REPLAY_DELAY_US */
	uint64_t seq;                    /* the record being applied, for messages */
	int err;
};

/* ---- tables ----------------------------------------------------------------- */

static uint64_t
key_of(uint64_t h)
{
	return h ? h : 1; /* 0 is the hmap's empty key */
}

static uint64_t
id_hash(struct nvfs_rec_id id)
{
	uint64_t k[2] = { id.ino, id.stamp };

	return key_of(nvfs_csum(k, sizeof(k), 0));
}

/* obj_find -- the index of id, or NO_OBJ */
static uint32_t
obj_find(const struct replay *rp, struct nvfs_rec_id id)
{
	uint64_t head;

	if (!nvfs_hmap_get(&rp->obj_idx, id_hash(id), &head))
		return NO_OBJ;
	for (uint32_t i = (uint32_t)head - 1; i != NO_OBJ; i = rp->objs[i].next)
		if (nvfs_rec_id_eq(rp->objs[i].id, id))
			return i;
	return NO_OBJ;
}

/* obj_get -- the index of id, added if new; NO_OBJ if out of memory */
static uint32_t
obj_get(struct replay *rp, struct nvfs_rec_id id)
{
	uint32_t i = obj_find(rp, id);
	uint64_t h = id_hash(id), head;

	if (i != NO_OBJ)
		return i;
	if (rp->nobjs == rp->capobjs) {
		uint32_t cap = rp->capobjs ? rp->capobjs * 2 : 1024;
		struct obj *o = realloc(rp->objs, cap * sizeof(*o));
		if (!o)
			return NO_OBJ;
		rp->objs = o;
		rp->capobjs = cap;
	}
	i = rp->nobjs;
	memset(&rp->objs[i], 0, sizeof(rp->objs[i]));
	rp->objs[i].id = id;
	rp->objs[i].fd = -1;
	rp->objs[i].alias_of = NO_OBJ;
	rp->objs[i].made = nvfs_hmap_get(&rp->made_ids, id_hash(id), &head);
	rp->objs[i].next = nvfs_hmap_get(&rp->obj_idx, h, &head) ? (uint32_t)head - 1 : NO_OBJ;
	if (nvfs_hmap_put(&rp->obj_idx, h, (uint64_t)i + 1) < 0)
		return NO_OBJ;
	rp->nobjs++;
	return i;
}

/* real -- the object an index stands for (an object made again: the logged one) */
static uint32_t
real(const struct replay *rp, uint32_t i)
{
	return i != NO_OBJ && rp->objs[i].alias_of != NO_OBJ ? rp->objs[i].alias_of : i;
}

static uint64_t
place_hash(uint32_t dir, const char *name)
{
	return key_of(nvfs_csum(name, strlen(name), dir));
}

/* place_find -- the index of (dir, name), or NO_OBJ */
static uint32_t
place_find(const struct replay *rp, uint32_t dir, const char *name)
{
	uint64_t head;

	if (!nvfs_hmap_get(&rp->place_idx, place_hash(dir, name), &head))
		return NO_OBJ;
	for (uint32_t i = (uint32_t)head - 1; i != NO_OBJ; i = rp->places[i].next)
		if (rp->places[i].dir == dir && strcmp(rp->places[i].name, name) == 0)
			return i;
	return NO_OBJ;
}

/* place_set -- the log leaves obj (or NO_OBJ) at (dir, name); 0 or -ENOMEM */
static int
place_set(struct replay *rp, uint32_t dir, const char *name, uint32_t obj, uint64_t seq)
{
	uint32_t i = place_find(rp, dir, name);
	uint64_t h = place_hash(dir, name), head;

	if (i == NO_OBJ) {
		if (rp->nplaces == rp->capplaces) {
			uint32_t cap = rp->capplaces ? rp->capplaces * 2 : 1024;
			struct place *p = realloc(rp->places, cap * sizeof(*p));
			if (!p)
				return -ENOMEM;
			rp->places = p;
			rp->capplaces = cap;
		}
		char *copy = strdup(name);
		if (!copy)
			return -ENOMEM;
		i = rp->nplaces;
		rp->places[i] = (struct place){
			.dir = dir, .name = copy,
			.next = nvfs_hmap_get(&rp->place_idx, h, &head) ? (uint32_t)head - 1
									: NO_OBJ,
		};
		rp->nplaces++;
		if (nvfs_hmap_put(&rp->place_idx, h, (uint64_t)i + 1) < 0)
			return -ENOMEM;
	}
	rp->places[i].final = obj;
	rp->places[i].seq = seq;
	return 0;
}

/* loc_add -- obj is now also at (dir, name); 0 or -ENOMEM */
static int
loc_add(struct replay *rp, uint32_t obj, uint32_t dir, const char *name)
{
	struct obj *o = &rp->objs[obj];

	for (uint32_t k = 0; k < o->nlocs; k++)
		if (o->locs[k].dir == dir && strcmp(o->locs[k].name, name) == 0)
			return 0;
	if (o->nlocs == o->caplocs) {
		uint32_t cap = o->caplocs ? o->caplocs * 2 : 2;
		struct loc *l = realloc(o->locs, cap * sizeof(*l));
		if (!l)
			return -ENOMEM;
		o->locs = l;
		o->caplocs = cap;
	}
	if (!(o->locs[o->nlocs].name = strdup(name)))
		return -ENOMEM;
	o->locs[o->nlocs++].dir = dir;
	return 0;
}

/* loc_del -- obj is no longer at (dir, name) */
static void
loc_del(struct replay *rp, uint32_t obj, uint32_t dir, const char *name)
{
	struct obj *o = &rp->objs[obj];

	for (uint32_t k = 0; k < o->nlocs; k++) {
		if (o->locs[k].dir == dir && strcmp(o->locs[k].name, name) == 0) {
			free(o->locs[k].name);
			o->locs[k] = o->locs[--o->nlocs];
			return;
		}
	}
}

/* ---- messages ----------------------------------------------------------------- */

/* id_text -- "ino-btime": messages, and names in the orphanage */
static void
id_text(struct nvfs_rec_id id, char buf[48])
{
	snprintf(buf, 48, "%" PRIu64 "-%" PRIu64, id.ino, id.stamp);
}

/*
 * name_of -- a path of object i in SOURCE for messages ("?" where a name is
 * unknown; the beginning cut when long)
 */
static const char *
name_of(const struct replay *rp, uint32_t i, char *buf, size_t len)
{
	size_t at = len - 1;
	unsigned depth = 0;

	buf[at] = '\0';
	while (i != NO_OBJ && !rp->objs[i].is_root && depth++ < 64) {
		const struct obj *o = &rp->objs[i];
		const char *n = o->nlocs ? o->locs[0].name : "?";
		size_t l = strlen(n);
		if (l + 2 > at)
			break;
		if (at < len - 1)
			buf[--at] = '/';
		at -= l;
		memcpy(buf + at, n, l);
		i = o->nlocs ? o->locs[0].dir : NO_OBJ;
	}
	if (at == len - 1)
		buf[--at] = '.'; /* SOURCE itself */
	return buf + at;
}

/* fail -- remember the first error, with a message; returns it */
__attribute__((format(printf, 3, 4))) static int
fail(struct replay *rp, int err, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!rp->err)
		rp->err = nvfs_err_set(err, "replay of entry %" PRIu64 ": %s", rp->seq, msg);
	return rp->err;
}

/* ---- directories: descriptors instead of paths -------------------------------- */

/* statx_id -- the identity of an open descriptor, or of name in it */
static int
statx_id(int fd, const char *name, struct nvfs_rec_id *id, mode_t *mode)
{
	struct statx stx;
	int flags = AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH);

	if (statx(fd, name, flags, STATX_INO | STATX_TYPE | STATX_BTIME, &stx) < 0)
		return -errno;
	id->ino = stx.stx_ino;
	id->stamp = stx.stx_mask & STATX_BTIME ?
		    (uint64_t)stx.stx_btime.tv_sec * 1000000000u + stx.stx_btime.tv_nsec : 0;
	if (mode)
		*mode = stx.stx_mode;
	return 0;
}

/*
 * flush_fds -- close every cached directory descriptor; only between two
 * steps (trim_fds), never while a caller holds one
 */
static void
flush_fds(struct replay *rp)
{
	for (uint32_t i = 0; i < rp->nobjs; i++) {
		if (rp->objs[i].fd >= 0 && !rp->objs[i].is_root)
			close(rp->objs[i].fd);
		if (!rp->objs[i].is_root)
			rp->objs[i].fd = -1;
	}
	rp->cached_fds = 0;
}

/*
 * dir_fd -- a descriptor of directory object d, opened one name at a time
 * from the nearest directory with one (O_PATH, no symlink followed, the
 * identity checked at each step); cached, not to be closed.  -ENOENT: d or
 * a directory above it has no name; -ESTALE: a name holds another object.
 */
static int
dir_fd(struct replay *rp, uint32_t d)
{
	uint32_t *chain = NULL, n = 0, cap = 0, i = d;
	int rc = 0;

	/* the names from d up to the first directory already open */
	while (rp->objs[i].fd < 0) {
		if (!rp->objs[i].nlocs) {
			rc = -ENOENT;
			goto out;
		}
		if (n == cap) {
			uint32_t *c = realloc(chain, (cap = cap ? cap * 2 : 16) * sizeof(*c));
			if (!c) {
				rc = -ENOMEM;
				goto out;
			}
			chain = c;
		}
		if (n > rp->nobjs) {
			rc = -ELOOP;
			goto out;
		}
		chain[n++] = i;
		i = rp->objs[i].locs[0].dir;
	}
	/* and down again, opening each */
	while (n--) {
		struct obj *o = &rp->objs[chain[n]];
		int parent = rp->objs[o->locs[0].dir].fd;
		struct nvfs_rec_id id;
		int fd = openat(parent, o->locs[0].name,
				O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			rc = -errno;
			goto out;
		}
		if ((rc = statx_id(fd, "", &id, NULL)) < 0 ||
		    (!nvfs_rec_id_eq(id, o->id) && real(rp, obj_find(rp, id)) != real(rp, chain[n]))) {
			close(fd);
			rc = rc < 0 ? rc : -ESTALE;
			goto out;
		}
		o->fd = fd;
		rp->cached_fds++;
	}
	rc = rp->objs[d].fd;
out:
	free(chain);
	return rc;
}

/* trim_fds -- keep the cache of directory descriptors bounded (between steps) */
static void
trim_fds(struct replay *rp)
{
	if (rp->cached_fds > FD_CACHE_MAX)
		flush_fds(rp);
}

/* dir_fd_or_fail -- dir_fd with a message on failure */
static int
dir_fd_or_fail(struct replay *rp, uint32_t d)
{
	char buf[512];
	int fd = dir_fd(rp, d);

	if (fd >= 0)
		return fd;
	return fail(rp, -fd, "cannot reach directory %s of SOURCE: %s",
		    name_of(rp, d, buf, sizeof(buf)), strerror(-fd));
}

/* forget_fd -- a directory is gone (removed): drop its descriptor */
static void
forget_fd(struct replay *rp, uint32_t d)
{
	if (rp->objs[d].fd >= 0 && !rp->objs[d].is_root) {
		close(rp->objs[d].fd);
		rp->objs[d].fd = -1;
		rp->cached_fds--;
	}
}

/* ---- pass 1: the names the log leaves ----------------------------------- */

/* ref -- the object of id, marked as named by the log; NO_OBJ: no memory */
static uint32_t
ref(struct replay *rp, struct nvfs_rec_id id)
{
	uint32_t i = obj_get(rp, id);

	if (i != NO_OBJ) {
		rp->objs[i].referenced = true;
		if (nvfs_hmap_put(&rp->inos, key_of(id.ino), 1) < 0)
			return NO_OBJ;
	}
	return i;
}

/* decode -- the record of an entry, with an error set if it is invalid */
static int
decode(struct replay *rp, const struct nvfs_journal_entry *e, struct nvfs_rec *r)
{
	char why[200];

	rp->seq = e->seq;
	if (nvfs_rec_decode(e->type, e->payload, e->payload_bytes, r, why, sizeof(why)) < 0)
		return fail(rp, EBADMSG, "invalid %s record: %s",
			    nvfs_rec_type_name(e->type), why);
	return 0;
}

/* nlink_set -- the log says obj has n names after this record */
static void
nlink_set(struct replay *rp, uint32_t obj, uint32_t n)
{
	rp->objs[obj].nlink = n;
	rp->objs[obj].nlink_known = true;
}

/*
 * cancels_fn -- pass 0: the intents whose change failed (CANCEL records),
 * before pass 1, which must skip a cancelled name intent (a rename that
 * replaces: ops_entry.c) though its CANCEL comes after it
 */
static int
cancels_fn(void *arg, const struct nvfs_journal_entry *e)
{
	struct replay *rp = arg;
	struct nvfs_rec r;

	if (e->type != NVFS_REC_CANCEL)
		return 0;
	if (decode(rp, e, &r) < 0)
		return rp->err;
	if (nvfs_hmap_put(&rp->cancelled, key_of(r.a), 1) < 0)
		return fail(rp, ENOMEM, "out of memory");
	return 0;
}

/* names_fn -- pass 1 over one entry */
static int
names_fn(void *arg, const struct nvfs_journal_entry *e)
{
	struct replay *rp = arg;
	struct nvfs_rec r;
	uint32_t x, y, p, p2;
	uint64_t one;
	int rc = 0;

	if (decode(rp, e, &r) < 0)
		return rp->err;
	rp->rep->entries++;
	if (nvfs_hmap_get(&rp->cancelled, key_of(e->seq), &one))
		return 0; /* an intent whose change failed */
	if ((x = ref(rp, r.id)) == NO_OBJ)
		return fail(rp, ENOMEM, "out of memory");
	switch (r.type) {
	case NVFS_REC_CREATE:
		if ((p = ref(rp, r.parent)) == NO_OBJ)
			return fail(rp, ENOMEM, "out of memory");
		struct obj *o = &rp->objs[x];
		/*
		 * An identity can come back: a file system may give a new object
		 * the inode number (and, with a coarse clock, the btime) of one
		 * the log removed.  The records before this CREATE are the old
		 * one's.
		 */
		o->life_seq = e->seq;
		o->born = true;
		o->is_dir = S_ISDIR(r.mode);
		o->mode = r.mode;
		o->uid = r.uid;
		o->gid = r.gid;
		o->rdev = r.a;
		free(o->target);
		o->target = r.data_len ? strndup(r.data, r.data_len) : NULL;
		if (r.data_len && !o->target)
			return fail(rp, ENOMEM, "out of memory");
		nlink_set(rp, x, 1);
		rc = place_set(rp, p, r.name, x, e->seq);
		break;
	case NVFS_REC_LINK:
	case NVFS_REC_UNLINK:
		if ((p = ref(rp, r.parent)) == NO_OBJ)
			return fail(rp, ENOMEM, "out of memory");
		nlink_set(rp, x, r.nlink);
		rc = place_set(rp, p, r.name, r.type == NVFS_REC_LINK ? x : NO_OBJ, e->seq);
		break;
	case NVFS_REC_RENAME:
		p = ref(rp, r.parent);
		p2 = ref(rp, r.parent2);
		y = r.id2.ino ? ref(rp, r.id2) : NO_OBJ;
		if (p == NO_OBJ || p2 == NO_OBJ || (r.id2.ino && y == NO_OBJ))
			return fail(rp, ENOMEM, "out of memory");
		if (r.nlink)
			nlink_set(rp, x, r.nlink);
		if (y != NO_OBJ && !(r.flags & RENAME_EXCHANGE))
			nlink_set(rp, y, r.nlink2);
		rc = place_set(rp, p, r.name, r.flags & RENAME_EXCHANGE ? y : NO_OBJ, e->seq);
		if (rc == 0)
			rc = place_set(rp, p2, r.name2, x, e->seq);
		break;
	case NVFS_REC_CANCEL:
		break; /* pass 0 took it */
	case NVFS_REC_MARK:
		if (real(rp, x) != rp->root)
			return fail(rp, EXDEV, "the journal was written for another SOURCE "
				    "directory (its root is not this one)");
		break;
	default:
		break; /* data: pass 2 */
	}
	return rc < 0 ? fail(rp, ENOMEM, "out of memory") : 0;
}

/* ---- the walk: where things are now ---------------------------------------- */

/*
 * orphanage_check -- if SOURCE/.nvfs-replay exists, it must be replay's
 * own (its marker); read the identities an earlier run made ("made").
 * Before the walk, so that every object the walk finds knows whether it
 * was made by replay.  *exists says whether there is one.
 */
static int
orphanage_check(struct replay *rp, bool *exists)
{
	uint64_t k[2];
	int fd, mfd;

	fd = openat(rp->src, ORPHANAGE, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	*exists = fd >= 0 || errno != ENOENT;
	if (!*exists)
		return 0;
	if (fd < 0 || faccessat(fd, MARK, F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
		if (fd >= 0)
			close(fd);
		return fail(rp, EEXIST, "SOURCE/%s exists and was not made by nvfs: rename "
			    "it, replay needs that name", ORPHANAGE);
	}
	mfd = openat(fd, MADE_LIST, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	close(fd);
	/* an earlier run's list: 16-byte identities; a torn last one is ignored */
	while (mfd >= 0 && read(mfd, k, sizeof(k)) == (ssize_t)sizeof(k)) {
		struct nvfs_rec_id id = { k[0], k[1] };
		if (nvfs_hmap_put(&rp->made_ids, id_hash(id), 1) < 0) {
			close(mfd);
			return fail(rp, ENOMEM, "out of memory");
		}
	}
	if (mfd >= 0)
		close(mfd);
	return 0;
}

/*
 * walk_dir -- register dir's entries (fd: dir, O_RDONLY, taken over):
 * every directory, and every object whose inode number the log names.  A
 * directory that cannot be read stops replay: what the log names might be
 * in it.
 */
static int
walk_dir(struct replay *rp, int fd, uint32_t dir, unsigned depth)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	char buf[512];
	int rc = 0;

	if (!d) {
		close(fd);
		return fail(rp, errno, "cannot read directory %s of SOURCE: %s",
			    name_of(rp, dir, buf, sizeof(buf)), strerror(errno));
	}
	while (rc == 0 && (errno = 0, de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		rp->rep->walked++;
		bool is_dir = de->d_type == DT_DIR;
		uint64_t one;
		struct nvfs_rec_id id;
		mode_t mode;
		if (!is_dir && de->d_type != DT_UNKNOWN &&
		    !nvfs_hmap_get(&rp->inos, key_of(de->d_ino), &one) &&
		    !(depth == 0 && strcmp(de->d_name, ORPHANAGE) == 0))
			continue; /* not an object the log names */
		if ((rc = statx_id(dirfd(d), de->d_name, &id, &mode)) < 0) {
			if (rc == -ENOENT) {
				rc = 0;
				continue; /* gone meanwhile */
			}
			rc = fail(rp, -rc, "cannot stat %s in %s: %s", de->d_name,
				  name_of(rp, dir, buf, sizeof(buf)), strerror(-rc));
			break;
		}
		is_dir = S_ISDIR(mode);
		if (!is_dir && !nvfs_hmap_get(&rp->inos, key_of(id.ino), &one))
			continue;
		uint32_t i = obj_get(rp, id);
		if (i == NO_OBJ || loc_add(rp, i, dir, de->d_name) < 0) {
			rc = fail(rp, ENOMEM, "out of memory");
			break;
		}
		rp->objs[i].is_dir = is_dir;
		if (depth == 0 && strcmp(de->d_name, ORPHANAGE) == 0)
			rp->orph = i; /* checked by orphanage_check */
		if (depth == 0 && strcmp(de->d_name, RECOVERED) == 0 && is_dir)
			rp->recov = i;
		if (!is_dir)
			continue;
		if (depth + 1 >= MAX_DEPTH) {
			rc = fail(rp, ELOOP, "SOURCE is nested deeper than %d directories",
				  MAX_DEPTH);
			break;
		}
		int cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				 O_CLOEXEC);
		if (cfd < 0) {
			rc = fail(rp, errno, "cannot read directory %s/%s of SOURCE: %s",
				  name_of(rp, dir, buf, sizeof(buf)), de->d_name, strerror(errno));
			break;
		}
		rc = walk_dir(rp, cfd, i, depth + 1);
	}
	if (rc == 0 && errno)
		rc = fail(rp, errno, "cannot read directory %s of SOURCE: %s",
			  name_of(rp, dir, buf, sizeof(buf)), strerror(errno));
	closedir(d);
	return rc;
}

/* ---- step a and b: names --------------------------------------------------- */

/*
 * occupant -- the object at (dir, name) now, NO_OBJ if none; an object
 * the walk skipped (not named by the log) is added with this name.  A
 * directory that is not there has no occupants.
 */
static int
occupant(struct replay *rp, uint32_t dir, const char *name, uint32_t *out)
{
	struct nvfs_rec_id id;
	mode_t mode;
	int fd, rc;

	*out = NO_OBJ;
	if ((fd = dir_fd(rp, dir)) == -ENOENT)
		return 0;
	if (fd < 0)
		return dir_fd_or_fail(rp, dir);
	if ((rc = statx_id(fd, name, &id, &mode)) == -ENOENT)
		return 0;
	if (rc < 0)
		return fail(rp, -rc, "cannot stat %s: %s", name, strerror(-rc));
	uint32_t i = obj_get(rp, id);
	if (i == NO_OBJ || loc_add(rp, i, dir, name) < 0)
		return fail(rp, ENOMEM, "out of memory");
	rp->objs[i].is_dir = S_ISDIR(mode);
	*out = real(rp, i);
	return 0;
}

/* top_dir -- the directory name at the top of SOURCE, made (mode) if needed */
static int
top_dir(struct replay *rp, const char *name, uint32_t *out)
{
	struct nvfs_rec_id id;

	if (mkdirat(rp->src, name, 0700) < 0 && errno != EEXIST)
		return fail(rp, errno, "cannot make SOURCE/%s: %s", name, strerror(errno));
	if (statx_id(rp->src, name, &id, NULL) < 0)
		return fail(rp, errno, "SOURCE/%s: %s", name, strerror(errno));
	uint32_t i = obj_get(rp, id);
	if (i == NO_OBJ || loc_add(rp, i, rp->root, name) < 0)
		return fail(rp, ENOMEM, "out of memory");
	rp->objs[i].is_dir = true;
	*out = i;
	return 0;
}

/*
 * orphanage -- the orphanage, made if needed: built as .nvfs-replay.new
 * with its marker, then renamed into place, so that a crash never leaves a
 * .nvfs-replay without the marker (which replay would refuse to touch)
 */
static int
orphanage(struct replay *rp, uint32_t *out)
{
	int fd;

	if (rp->orph == NO_OBJ) {
		(void)unlinkat(rp->src, ORPHANAGE_NEW "/" MARK, 0);
		(void)unlinkat(rp->src, ORPHANAGE_NEW, AT_REMOVEDIR); /* an earlier try */
		if (mkdirat(rp->src, ORPHANAGE_NEW, 0700) < 0)
			return fail(rp, errno, "cannot make SOURCE/%s: %s", ORPHANAGE_NEW,
				    strerror(errno));
		fd = openat(rp->src, ORPHANAGE_NEW "/" MARK,
			    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || close(fd) < 0 ||
		    renameat2(rp->src, ORPHANAGE_NEW, rp->src, ORPHANAGE, RENAME_NOREPLACE) < 0)
			return fail(rp, errno, "cannot make SOURCE/%s: %s", ORPHANAGE,
				    strerror(errno));
		int rc = top_dir(rp, ORPHANAGE, &rp->orph);
		if (rc < 0)
			return rc;
	}
	*out = rp->orph;
	return 0;
}

/* made_note -- remember that replay made id (for a later run after a crash) */
static int
made_note(struct replay *rp, struct nvfs_rec_id id)
{
	uint64_t k[2] = { id.ino, id.stamp };
	uint32_t orph;
	int rc, fd;

	if (rp->made_fd < 0) {
		if ((rc = orphanage(rp, &orph)) < 0)
			return rc;
		if ((fd = dir_fd_or_fail(rp, orph)) < 0)
			return fd;
		rp->made_fd = openat(fd, MADE_LIST, O_WRONLY | O_APPEND | O_CREAT |
				     O_NOFOLLOW | O_CLOEXEC, 0600);
		if (rp->made_fd < 0)
			return fail(rp, errno, "cannot write SOURCE/%s/%s: %s", ORPHANAGE,
				    MADE_LIST, strerror(errno));
	}
	/*
	 * Not synced: after a daemon crash the page cache has it; after a
	 * power loss an object whose entry was lost is merely taken for a
	 * stranger and kept in nvfs-recovered.
	 */
	ssize_t n = write(rp->made_fd, k, sizeof(k));
	if (n != (ssize_t)sizeof(k)) {
		int e = n < 0 ? errno : ENOSPC; /* a short write: no room */
		return fail(rp, e, "cannot write SOURCE/%s/%s: %s", ORPHANAGE, MADE_LIST,
			    strerror(e));
	}
	return 0;
}

/* move -- rename (fdir, fname) of obj to (tdir, tname), never over a name */
static int
move(struct replay *rp, uint32_t obj, uint32_t fdir, const char *fname, uint32_t tdir,
     const char *tname)
{
	char b1[512], b2[512];
	int ffd = dir_fd_or_fail(rp, fdir), tfd;
	char *from, *to;

	if (ffd < 0 || (tfd = dir_fd_or_fail(rp, tdir)) < 0)
		return rp->err;
	if (renameat2(ffd, fname, tfd, tname, RENAME_NOREPLACE) < 0)
		return fail(rp, errno, "cannot move %s/%s to %s/%s: %s",
			    name_of(rp, fdir, b1, sizeof(b1)), fname,
			    name_of(rp, tdir, b2, sizeof(b2)), tname, strerror(errno));
	/* the names may be the very strings loc_del frees */
	from = strdup(fname);
	to = strdup(tname);
	int rc = from && to ? 0 : -ENOMEM;
	if (rc == 0) {
		loc_del(rp, obj, fdir, from);
		rc = loc_add(rp, obj, tdir, to);
	}
	free(from);
	free(to);
	return rc < 0 ? fail(rp, ENOMEM, "out of memory") : 0;
}

/* unlink_name -- remove one name of a non-directory */
static int
unlink_name(struct replay *rp, uint32_t obj, uint32_t dir, const char *name)
{
	char buf[512];
	int fd = dir_fd_or_fail(rp, dir);
	char *copy;

	if (fd < 0)
		return fd;
	if (unlinkat(fd, name, 0) < 0 && errno != ENOENT)
		return fail(rp, errno, "cannot remove %s/%s: %s",
			    name_of(rp, dir, buf, sizeof(buf)), name, strerror(errno));
	if (!(copy = strdup(name)))
		return fail(rp, ENOMEM, "out of memory");
	loc_del(rp, obj, dir, copy);
	free(copy);
	return 0;
}

/* known -- obj is one replay may remove: the log names it, or replay made it */
static bool
known(const struct replay *rp, uint32_t obj)
{
	return rp->objs[obj].referenced || rp->objs[obj].made;
}


/* orphan -- move obj away from (dir, name): to the orphanage, or (a stranger) to
 * nvfs-recovered */
static int
orphan(struct replay *rp, uint32_t obj, uint32_t dir, const char *name)
{
	char idt[48], nm[NVFS_REC_NAME_MAX + 64], buf[512];
	uint32_t to;
	int rc;

	id_text(rp->objs[obj].id, idt);
	if (known(rp, obj)) {
		if ((rc = orphanage(rp, &to)) < 0)
			return rc;
		rp->rep->orphans++;
		for (uint32_t k = 0; k < rp->objs[obj].nlocs; k++)
			if (rp->objs[obj].locs[k].dir == to)
				return unlink_name(rp, obj, dir, name); /* already there */
		return move(rp, obj, dir, name, to, idt);
	}
	if (rp->recov == NO_OBJ && (rc = top_dir(rp, RECOVERED, &rp->recov)) < 0)
		return rc;
	snprintf(nm, sizeof(nm), "%s-%.200s", idt, name);
	fuse_log(FUSE_LOG_WARNING, "replay: %s/%s was not journaled and is in the way of "
		 "a journaled name: kept as SOURCE/%s/%s\n", name_of(rp, dir, buf, sizeof(buf)),
		 name, RECOVERED, nm);
	rp->rep->recovered++;
	return move(rp, obj, dir, name, rp->recov, nm);
}

/* in_orphanage -- (dir) is the orphanage or below it */
static bool
in_orphanage(const struct replay *rp, uint32_t dir)
{
	for (unsigned depth = 0; dir != NO_OBJ && depth < MAX_DEPTH; depth++) {
		if (dir == rp->orph && dir != NO_OBJ)
			return true;
		if (rp->objs[dir].is_root || !rp->objs[dir].nlocs)
			return false;
		dir = rp->objs[dir].locs[0].dir;
	}
	return false;
}

/* is_final_loc -- (dir, name) is a touched place the log leaves obj at */
static bool
is_final_loc(const struct replay *rp, uint32_t obj, uint32_t dir, const char *name)
{
	uint32_t p = place_find(rp, dir, name);

	return p != NO_OBJ && rp->places[p].final == obj;
}

/* make_again -- make the object the log created (SOURCE lost it) at (dir, name) */
static int
make_again(struct replay *rp, uint32_t obj, uint32_t dir, const char *name)
{
	const struct obj *o = &rp->objs[obj];
	uint32_t mode = o->mode, uid = o->uid, gid = o->gid, orph;
	uint64_t rdev = o->rdev;
	char *target = o->target;
	struct nvfs_rec_id id;
	char buf[512], tmp[64];
	int rc = 0, fd, at, ofd;

	/*
	 * Made in the orphanage under a MADE_TMP name, listed, then renamed
	 * into place: a crash at any point leaves either a MADE_TMP entry or
	 * a listed identity, both replay's own, never a stranger.
	 */
	if ((rc = orphanage(rp, &orph)) < 0 || (ofd = dir_fd_or_fail(rp, orph)) < 0)
		return rp->err;
	/* unique per run: a killed run's leftovers are purged with the rest */
	snprintf(tmp, sizeof(tmp), MADE_TMP "%ld-%" PRIu64, (long)getpid(),
		 rp->rep->recreated);
	switch (mode & S_IFMT) {
	case S_IFDIR:
		rc = mkdirat(ofd, tmp, mode & 07777);
		break;
	case S_IFLNK:
		rc = symlinkat(target ? target : "", ofd, tmp);
		break;
	case S_IFREG:
		fd = openat(ofd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    mode & 07777);
		rc = fd < 0 ? -1 : close(fd);
		break;
	default:
		rc = mknodat(ofd, tmp, mode, (dev_t)rdev);
		break;
	}
	if (rc < 0)
		return fail(rp, errno, "cannot make %s/%s again: %s",
			    name_of(rp, dir, buf, sizeof(buf)), name, strerror(errno));
	if (statx_id(ofd, tmp, &id, NULL) < 0)
		return fail(rp, errno, "%s: %s", tmp, strerror(errno));
	if ((rc = made_note(rp, id)) < 0)
		return rc;
	/* owner first: chown clears set-ID bits, the mode puts them back */
	if (geteuid() == 0 && fchownat(ofd, tmp, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(rp, errno, "cannot give %s to %u:%u: %s", name, uid, gid,
			    strerror(errno));
	if (!S_ISLNK(mode) && fchmodat(ofd, tmp, mode & 07777, 0) < 0)
		return fail(rp, errno, "cannot chmod %s: %s", name, strerror(errno));
	if ((at = dir_fd_or_fail(rp, dir)) < 0)
		return at;
	if (renameat2(ofd, tmp, at, name, RENAME_NOREPLACE) < 0)
		return fail(rp, errno, "cannot move %s made again to %s/%s: %s", tmp,
			    name_of(rp, dir, buf, sizeof(buf)), name, strerror(errno));
	/* the new backing object stands for the logged one */
	uint32_t alias = obj_get(rp, id);
	if (alias == NO_OBJ)
		return fail(rp, ENOMEM, "out of memory");
	rp->objs[alias].alias_of = obj;
	rp->objs[alias].made = true;
	rp->objs[obj].made = true;
	rp->rep->recreated++;
	return loc_add(rp, obj, dir, name) < 0 ? fail(rp, ENOMEM, "out of memory") : 0;
}

/* dir_ready -- directory object d has a name all the way up to SOURCE */
static bool
dir_ready(const struct replay *rp, uint32_t d)
{
	for (uint32_t n = 0; n <= rp->nobjs; n++) {
		if (rp->objs[d].is_root)
			return true;
		if (!rp->objs[d].nlocs)
			return false;
		d = rp->objs[d].locs[0].dir;
	}
	return false;
}

/* place_obj -- give the touched place p the object the log leaves there */
static int
place_obj(struct replay *rp, uint32_t p)
{
	uint32_t x = rp->places[p].final, dir = rp->places[p].dir, cur;
	char name[NVFS_REC_NAME_MAX + 1], idt[48], buf[512];
	int rc;

	snprintf(name, sizeof(name), "%s", rp->places[p].name);
	rp->seq = rp->places[p].seq;
	if ((rc = occupant(rp, dir, name, &cur)) < 0)
		return rc;
	if (cur == x)
		return 0;
	if (cur != NO_OBJ && (rc = orphan(rp, cur, dir, name)) < 0)
		return rc;
	if (rp->delay_us)
		usleep(rp->delay_us);
	const struct obj *o = &rp->objs[x];
	if (!o->nlocs) {
		if (o->born)
			return make_again(rp, x, dir, name);
		id_text(o->id, idt);
		rp->rep->missing++;
		fuse_log(FUSE_LOG_WARNING, "replay: object %s, which the journal puts at "
			 "%s/%s, is not in SOURCE: an operation that removed it was not "
			 "journaled; the name stays empty\n", idt,
			 name_of(rp, dir, buf, sizeof(buf)), name);
		return 0;
	}
	/*
	 * Which name to take it from: one in the orphanage (or below it); else
	 * one the log does not give it -- moved when the log's link count
	 * says it has no such names left (an unlogged rename), linked when it
	 * says it has, or does not say.
	 */
	uint32_t src = NO_OBJ, spare = 0, orphaned = NO_OBJ;
	for (uint32_t k = 0; k < o->nlocs; k++) {
		if (in_orphanage(rp, o->locs[k].dir)) {
			orphaned = k;
		} else if (!is_final_loc(rp, x, o->locs[k].dir, o->locs[k].name)) {
			spare++;
			if (src == NO_OBJ)
				src = k;
		}
	}
	uint32_t keep = o->nlink > o->nfinal ? o->nlink - o->nfinal : 0;
	bool move_it = o->is_dir || orphaned != NO_OBJ || (o->nlink_known && spare > keep);
	/*
	 * Found only at names the log never touched, beyond those it keeps:
	 * an unlogged rename.  Leave it applied (the state with it): moving
	 * it back cannot bring back what it replaced there (a file older
	 * than the log: the atomic-replace idiom, rename(b.tmp, b)).
	 */
	if (move_it && orphaned == NO_OBJ && src != NO_OBJ)
		return 0;
	if (orphaned != NO_OBJ)
		src = orphaned;
	if (src == NO_OBJ)
		src = 0; /* only names where the log wants it: link one */
	uint32_t sdir = o->locs[src].dir;
	char sname[NVFS_REC_NAME_MAX + 64];
	snprintf(sname, sizeof(sname), "%s", o->locs[src].name);
	if (move_it) {
		rp->rep->moved++;
		return move(rp, x, sdir, sname, dir, name);
	}
	int sfd = dir_fd_or_fail(rp, sdir), tfd;
	if (sfd < 0 || (tfd = dir_fd_or_fail(rp, dir)) < 0)
		return rp->err;
	if (linkat(sfd, sname, tfd, name, 0) < 0)
		return fail(rp, errno, "cannot link %s/%s to %s: %s",
			    name_of(rp, sdir, buf, sizeof(buf)), sname, name, strerror(errno));
	rp->rep->linked++;
	return loc_add(rp, x, dir, name) < 0 ? fail(rp, ENOMEM, "out of memory") : 0;
}

/*
 * purge -- remove name in directory object dir (in the orphanage) and what
 * is below it; objects replay cannot prove dead (neither named by the log
 * nor made by replay) go to nvfs-recovered instead
 */
static int
purge(struct replay *rp, int at, const char *name, unsigned depth)
{
	char idt[48], nm[NVFS_REC_NAME_MAX + 64];
	struct nvfs_rec_id id;
	mode_t mode;
	int rc, fd;

	if ((rc = statx_id(at, name, &id, &mode)) == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	uint32_t i = real(rp, obj_find(rp, id));
	/* kept until the checkpoint: a replay after a crash needs the list */
	if (depth == 1 && (!strcmp(name, MARK) || !strcmp(name, MADE_LIST)))
		return 0;
	uint64_t one;
	bool made_before = nvfs_hmap_get(&rp->made_ids, id_hash(id), &one) ||
			   (depth == 1 && !strncmp(name, MADE_TMP, strlen(MADE_TMP)));
	if (depth > 0 && !made_before && (i == NO_OBJ || !known(rp, i))) {
		int rfd;
		if (rp->recov == NO_OBJ && (rc = top_dir(rp, RECOVERED, &rp->recov)) < 0)
			return rc;
		if ((rfd = dir_fd_or_fail(rp, rp->recov)) < 0)
			return rfd;
		id_text(id, idt);
		snprintf(nm, sizeof(nm), "%s-%.200s", idt, name);
		fuse_log(FUSE_LOG_WARNING, "replay: %s, not journaled, was in a directory "
			 "replay moved aside and removes: kept as SOURCE/%s/%s\n", name,
			 RECOVERED, nm);
		rp->rep->recovered++;
		return renameat2(at, name, rfd, nm, RENAME_NOREPLACE) < 0 ? -errno : 0;
	}
	if (!S_ISDIR(mode))
		return unlinkat(at, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	if (depth >= MAX_DEPTH)
		return -ELOOP;
	if ((fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	struct dirent *de;
	if (!d) {
		close(fd);
		return -errno;
	}
	rc = 0;
	while (rc == 0 && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			rc = purge(rp, dirfd(d), de->d_name, depth + 1);
	closedir(d);
	if (rc == 0 && depth > 0 && unlinkat(at, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = -errno;
	if (rc == 0 && depth > 0 && i != NO_OBJ)
		forget_fd(rp, i);
	return rc;
}

/*
 * orphanage_remove -- after the checkpoint: the orphanage holds only its
 * marker and the list of what replay made, which no replay needs now
 */
static void
orphanage_remove(int src)
{
	(void)unlinkat(src, ORPHANAGE "/" MADE_LIST, 0);
	(void)unlinkat(src, ORPHANAGE "/" MARK, 0);
	if (unlinkat(src, ORPHANAGE, AT_REMOVEDIR) < 0 && errno != ENOENT)
		fuse_log(FUSE_LOG_WARNING, "replay: cannot remove SOURCE/%s: %s\n", ORPHANAGE,
			 strerror(errno));
}

/* names -- steps a-c of pass 1 (see the top of the file) */
static int
names(struct replay *rp)
{
	char buf[512];
	uint32_t cur;
	int rc;

	for (uint32_t p = 0; p < rp->nplaces; p++) {
		if (rp->places[p].dir == rp->root &&
		    strncmp(rp->places[p].name, ORPHANAGE, strlen(ORPHANAGE)) == 0)
			return fail(rp, EINVAL, "the journal uses the name %s at the top of "
				    "SOURCE, which replay needs for itself",
				    rp->places[p].name);
		if (rp->places[p].final != NO_OBJ)
			rp->objs[rp->places[p].final].nfinal++;
	}
	/* a. empty the places that hold something else */
	for (uint32_t p = 0; p < rp->nplaces; p++) {
		trim_fds(rp);
		struct place *pl = &rp->places[p];
		rp->seq = pl->seq;
		if ((rc = occupant(rp, pl->dir, pl->name, &cur)) < 0)
			return rc;
		if (cur == NO_OBJ || cur == pl->final)
			continue;
		if (!known(rp, cur) && pl->final == NO_OBJ) {
			pl->done = true; /* an unlogged change put it there: it stays */
			continue;
		}
		/*
		 * The log leaves here an object it did not create and SOURCE no
		 * longer has: an unlogged operation removed it (often the very
		 * rename that put cur here).  It cannot come back: cur stays,
		 * the state with that operation.
		 */
		uint32_t fin = pl->final;
		if (fin != NO_OBJ && !rp->objs[fin].nlocs && !rp->objs[fin].born) {
			pl->done = true;
			continue;
		}
		char name[NVFS_REC_NAME_MAX + 1];
		snprintf(name, sizeof(name), "%s", pl->name);
		if ((rc = orphan(rp, cur, pl->dir, name)) < 0)
			return rc;
	}
	/* b. give every place its object, parents first: passes until done */
	for (bool progress = true; progress;) {
		uint32_t pending = NO_OBJ;
		progress = false;
		for (uint32_t p = 0; p < rp->nplaces; p++) {
			struct place *pl = &rp->places[p];
			if (pl->done || pl->final == NO_OBJ)
				continue;
			if (!dir_ready(rp, pl->dir)) {
				pending = p;
				continue;
			}
			trim_fds(rp);
			if ((rc = place_obj(rp, p)) < 0)
				return rc;
			rp->places[p].done = progress = true;
		}
		if (pending != NO_OBJ && !progress) {
			char idt[48];
			rp->seq = rp->places[pending].seq;
			id_text(rp->objs[rp->places[pending].dir].id, idt);
			return fail(rp, ENOENT, "directory %s (%s), which the journal needs for "
				    "%s, is not in SOURCE (is SOURCE the directory this journal "
				    "was written for?)", idt,
				    name_of(rp, rp->places[pending].dir, buf, sizeof(buf)),
				    rp->places[pending].name);
		}
	}
	/* c. what is left in the orphanage has no name in the log's SOURCE (the
	 * directory itself goes after the checkpoint: orphanage_remove) */
	if (rp->orph != NO_OBJ) {
		if (rp->made_fd >= 0) {
			close(rp->made_fd);
			rp->made_fd = -1;
		}
		rc = purge(rp, rp->src, ORPHANAGE, 0);
		if (rc < 0)
			return fail(rp, -rc, "cannot remove SOURCE/%s: %s", ORPHANAGE,
				    strerror(-rc));
		for (uint32_t i = 0; i < rp->nobjs; i++) {
			struct obj *o = &rp->objs[i];
			for (uint32_t k = 0; k < o->nlocs;) {
				if (in_orphanage(rp, o->locs[k].dir) || i == rp->orph) {
					free(o->locs[k].name);
					o->locs[k] = o->locs[--o->nlocs];
				} else {
					k++;
				}
			}
		}
		rp->orph = NO_OBJ;
	}
	return 0;
}

/* ---- pass 2: data ------------------------------------------------------------ */

/*
 * writable -- fn(arg) on name in at; a read-only file of the daemon's own
 * user (not a symlink) that refuses it (EACCES) is made writable for a
 * second try, then given its mode back.  fn's result (0 or -errno).
 */
static int
writable(int at, const char *name, int (*fn)(void *arg), void *arg)
{
	struct stat st;
	int rc = fn(arg);

	if (rc != -EACCES || fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    S_ISLNK(st.st_mode) || st.st_uid != geteuid() ||
	    fchmodat(at, name, (st.st_mode & 07777) | S_IWUSR, 0) < 0)
		return rc;
	rc = fn(arg);
	if (fchmodat(at, name, st.st_mode & 07777, 0) < 0 && rc >= 0)
		rc = -errno;
	return rc;
}

/* the open of open_obj, for writable() */
struct open_arg {
	int at, fd;
	const char *name;
};

static int
open_try(void *arg)
{
	struct open_arg *o = arg;

	o->fd = openat(o->at, o->name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	return o->fd < 0 ? -errno : 0;
}

/* open_obj -- name in at for writing (a regular file); -errno */
static int
open_obj(int at, const char *name)
{
	struct open_arg o = { .at = at, .name = name, .fd = -1 };
	int rc = writable(at, name, open_try, &o);

	if (rc < 0 && o.fd >= 0) {
		close(o.fd); /* opened, but its mode could not be put back */
		o.fd = -1;
	}
	return rc < 0 ? rc : o.fd;
}

/* ts_of -- a record's time (ns since the epoch) as a timespec */
static struct timespec
ts_of(uint64_t ns)
{
	int64_t v = (int64_t)ns;
	struct timespec ts = { .tv_sec = v / 1000000000, .tv_nsec = v % 1000000000 };

	if (ts.tv_nsec < 0) {
		ts.tv_sec--;
		ts.tv_nsec += 1000000000;
	}
	return ts;
}

/* apply_setattr -- a SETATTR record on name in at (no symlink ever followed) */
static int
apply_setattr(const struct nvfs_rec *r, int at, const char *name, mode_t type)
{
	if ((r->valid & (NVFS_REC_SET_UID | NVFS_REC_SET_GID)) &&
	    fchownat(at, name, r->valid & NVFS_REC_SET_UID ? r->uid : (uid_t)-1,
		     r->valid & NVFS_REC_SET_GID ? r->gid : (gid_t)-1, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if ((r->valid & NVFS_REC_SET_MODE) && !S_ISLNK(type) &&
	    fchmodat(at, name, r->mode & 07777, 0) < 0)
		return -errno;
	if ((r->valid & NVFS_REC_SET_SIZE) && S_ISREG(type)) {
		int fd = open_obj(at, name);
		if (fd < 0)
			return fd;
		int rc = ftruncate(fd, (off_t)r->a) < 0 ? -errno : 0;
		close(fd);
		if (rc < 0)
			return rc;
	}
	if (r->valid & (NVFS_REC_SET_ATIME | NVFS_REC_SET_MTIME)) {
		struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_nsec = UTIME_OMIT } };
		if (r->valid & NVFS_REC_SET_ATIME)
			ts[0] = ts_of(r->b);
		if (r->valid & NVFS_REC_SET_MTIME)
			ts[1] = ts_of(r->c);
		if (utimensat(at, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
	}
	return 0;
}

/* the xattr change of an xattr record, for writable() */
struct xattr_arg {
	const struct nvfs_rec *r;
	const char *path;      /* /proc/self/fd/N of an O_PATH descriptor */
};

static int
xattr_try(void *arg)
{
	const struct xattr_arg *x = arg;

	if (x->r->type == NVFS_REC_SETXATTR)
		return setxattr(x->path, x->r->name, x->r->data, x->r->data_len, 0) < 0 ?
		       -errno : 0;
	return removexattr(x->path, x->r->name) < 0 && errno != ENODATA ? -errno : 0;
}

/* xattr_call -- set or remove an xattr of name in at (writable()) */
static int
xattr_call(const struct nvfs_rec *r, int at, const char *name)
{
	char xpath[64];
	struct xattr_arg x = { .r = r, .path = xpath };
	int fd, rc;

	/* the xattr calls have no *at form: through an O_PATH descriptor */
	if ((fd = openat(at, name, O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -errno;
	nvfs_proc_path(fd, xpath);
	rc = writable(at, name, xattr_try, &x);
	close(fd);
	return rc;
}

/* apply_data -- one data record on name in directory at */
static int
apply_data(const struct nvfs_rec *r, int at, const char *name)
{
	struct stat st;
	int fd, rc = 0;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	switch (r->type) {
	case NVFS_REC_WRITE:
	case NVFS_REC_FALLOCATE:
		if (!S_ISREG(st.st_mode))
			return -EINVAL; /* another object now has the identity */
		if ((fd = open_obj(at, name)) < 0)
			return fd;
		if (r->type == NVFS_REC_WRITE) {
			ssize_t n = pwrite(fd, r->data, r->data_len, (off_t)r->a);
			rc = n < 0 ? -errno : (size_t)n != r->data_len ? -ENOSPC : 0;
		} else if (fallocate(fd, (int)r->flags, (off_t)r->a, (off_t)r->b) < 0) {
			rc = -errno;
		}
		close(fd);
		return rc;
	case NVFS_REC_SETATTR:
		return apply_setattr(r, at, name, st.st_mode & S_IFMT);
	case NVFS_REC_SETXATTR:
	case NVFS_REC_REMOVEXATTR:
		return xattr_call(r, at, name);
	default:
		return 0;
	}
}

/*
 * transient -- an error that may go away (space, I/O, memory): replay
 * stops and keeps the journal; any other (permissions, a type that is not
 * the record's) is the record's and is skipped, loudly
 */
static bool
transient(int err)
{
	return err == -ENOSPC || err == -EIO || err == -ENOMEM || err == -EDQUOT ||
	       err == -EROFS || err == -EMFILE || err == -ENFILE;
}

/* data_fn -- pass 2 over one entry */
static int
data_fn(void *arg, const struct nvfs_journal_entry *e)
{
	struct replay *rp = arg;
	char idt[48], buf[512];
	struct nvfs_rec r;
	uint64_t one;
	uint32_t x;
	int rc, at;

	if (e->type == NVFS_REC_CREATE || e->type == NVFS_REC_LINK ||
	    e->type == NVFS_REC_UNLINK || e->type == NVFS_REC_RENAME ||
	    e->type == NVFS_REC_CANCEL || e->type == NVFS_REC_MARK)
		return 0;
	if (nvfs_hmap_get(&rp->cancelled, key_of(e->seq), &one))
		return 0; /* an intent whose change failed */
	if (decode(rp, e, &r) < 0)
		return rp->err;
	trim_fds(rp);
	x = obj_find(rp, r.id);
	id_text(r.id, idt);
	if (x == NO_OBJ)
		return 0;
	struct obj *o = &rp->objs[x];
	/*
	 * Records of an earlier object with this identity (before its last
	 * CREATE), or of one the log leaves with no name: whatever has the
	 * identity now is another object (an inode number reused), or nothing
	 */
	if (e->seq < o->life_seq || (o->nlink_known && o->nlink == 0 && !o->nfinal))
		return 0;
	if (!o->nlocs) {
		/* no name left: removed by an operation that was not journaled */
		if (!o->nfinal && !o->warned) {
			o->warned = true;
			rp->rep->missing++;
			fuse_log(FUSE_LOG_WARNING, "replay: object %s, which the journal "
				 "writes to, is not in SOURCE: an operation that removed it "
				 "was not journaled; its records are skipped\n", idt);
		}
		return 0;
	}
	if (rp->delay_us)
		usleep(rp->delay_us);
	if (o->is_root) {
		rc = apply_data(&r, rp->src, ".");
	} else {
		if ((at = dir_fd_or_fail(rp, o->locs[0].dir)) < 0)
			return at;
		rc = apply_data(&r, at, o->locs[0].name);
	}
	if (rc < 0 && transient(rc))
		return fail(rp, -rc, "cannot apply a %s record to %s (object %s): %s; the "
			    "journal is kept, mount again once that is fixed",
			    nvfs_rec_type_name(r.type), name_of(rp, x, buf, sizeof(buf)),
			    idt, strerror(-rc));
	if (rc < 0) {
		rp->skipped++;
		fuse_log(FUSE_LOG_WARNING, "replay: entry %" PRIu64 ": cannot apply a %s "
			 "record to %s (object %s): %s; skipped, that change is lost\n",
			 e->seq, nvfs_rec_type_name(r.type), name_of(rp, x, buf, sizeof(buf)),
			 idt, strerror(-rc));
		return 0;
	}
	rp->rep->data_records++;
	return 0;
}

/* ---- the whole ----------------------------------------------------------- */

static void
replay_free(struct replay *rp)
{
	for (uint32_t i = 0; i < rp->nobjs; i++) {
		for (uint32_t k = 0; k < rp->objs[i].nlocs; k++)
			free(rp->objs[i].locs[k].name);
		free(rp->objs[i].locs);
		free(rp->objs[i].target);
		if (rp->objs[i].fd >= 0 && !rp->objs[i].is_root)
			close(rp->objs[i].fd);
	}
	for (uint32_t p = 0; p < rp->nplaces; p++)
		free(rp->places[p].name);
	free(rp->objs);
	free(rp->places);
	nvfs_hmap_fini(&rp->obj_idx);
	nvfs_hmap_fini(&rp->place_idx);
	nvfs_hmap_fini(&rp->inos);
	nvfs_hmap_fini(&rp->cancelled);
	nvfs_hmap_fini(&rp->made_ids);
	if (rp->made_fd >= 0)
		close(rp->made_fd);
	if (rp->src >= 0)
		close(rp->src);
}

/* more_fds -- as many descriptors as allowed: the walk holds one per level */
static void
more_fds(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* run -- passes 1 and 2 on an open SOURCE; 0 or -errno with a message */
static int
run(struct replay *rp)
{
	struct nvfs_journal_report jr;
	struct nvfs_rec_id root_id;
	int rc, fd;

	if (statx_id(rp->src, "", &root_id, NULL) < 0)
		return nvfs_err_set(errno, "SOURCE: %s", strerror(errno));
	if ((rp->root = obj_get(rp, root_id)) == NO_OBJ)
		return nvfs_err_set(ENOMEM, "out of memory");
	rp->objs[rp->root].is_root = rp->objs[rp->root].is_dir = true;
	rp->objs[rp->root].fd = rp->src;
	rc = nvfs_journal_replay(rp->j, cancels_fn, rp, &jr);
	if (rc)
		return rp->err ? rp->err : rc;
	rc = nvfs_journal_replay(rp->j, names_fn, rp, &jr);
	if (rc)
		return rp->err ? rp->err : rc;
	if (jr.damaged)
		return nvfs_err_set(EUCLEAN, "the journal is damaged at seq %" PRIu64 ": %s",
				    jr.stop_seq, jr.reason);
	rp->rep->last_seq = jr.last_seq;
	if (!jr.entries)
		return 0;
	more_fds();
	bool orph;
	if ((rc = orphanage_check(rp, &orph)) < 0)
		return rc;
	if ((fd = openat(rp->src, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return nvfs_err_set(errno, "SOURCE: %s", strerror(errno));
	if ((rc = walk_dir(rp, fd, rp->root, 0)) < 0)
		return rc;
	if ((rc = names(rp)) < 0)
		return rc;
	rc = nvfs_journal_replay(rp->j, data_fn, rp, &jr);
	return rp->err ? rp->err : rc;
}

/* nvfs_fs_replay -- apply the journal to SOURCE, sync it, checkpoint */
int
nvfs_fs_replay(const char *source, struct nvfs_journal *j, struct nvfs_fs_replay_report *rep)
{
	struct replay rp = {
		.j = j, .rep = rep, .orph = NO_OBJ, .recov = NO_OBJ, .src = -1, .made_fd = -1,
	};
	const char *delay = getenv("NVFS_TEST_REPLAY_DELAY_US");
	struct timespec t0, t1;
	mode_t um;
	int rc;

	memset(rep, 0, sizeof(*rep));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (delay)
		rp.delay_us = (unsigned)strtoul(delay, NULL, 10);
	if (nvfs_hmap_init(&rp.obj_idx, 1024) < 0 || nvfs_hmap_init(&rp.place_idx, 1024) < 0 ||
	    nvfs_hmap_init(&rp.inos, 1024) < 0 || nvfs_hmap_init(&rp.cancelled, 16) < 0 ||
	    nvfs_hmap_init(&rp.made_ids, 16) < 0) {
		replay_free(&rp);
		return nvfs_err_set(ENOMEM, "out of memory");
	}
	rp.src = open(source, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rp.src < 0) {
		rc = nvfs_err_set(errno, "SOURCE %s: %s", source, strerror(errno));
		replay_free(&rp);
		return rc;
	}
	um = umask(0); /* modes are the records' */
	rc = run(&rp);
	umask(um);
	if (rc == 0 && rep->entries && syncfs(rp.src) < 0)
		rc = nvfs_err_set(errno, "replay: syncfs of SOURCE: %s", strerror(errno));
	if (rc == 0)
		rc = nvfs_journal_checkpoint(j, rep->last_seq);
	if (rc == 0)
		orphanage_remove(rp.src);
	rep->skipped = rp.skipped;
	replay_free(&rp);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	rep->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	return rc;
}
