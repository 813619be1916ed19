/* SPDX-License-Identifier: MIT */
/*
 * replay.c -- make SOURCE hold what the journal holds, at mount, before the
 * file system serves anything (docs/FS-JOURNAL.md section 5).
 *
 * WHAT REPLAY MAY FIND
 *   After a crash SOURCE holds any subset of the changes made since the
 *   last checkpoint -- those the backing file system kept -- plus changes
 *   that were applied but never logged (the operation was in flight) or
 *   logged but never committed.  Paths are not identities (create a;
 *   rename a b; create a), so records name objects by identity
 *   (nvfs_rec.h), and replay works in two passes over the journal:
 *
 *   1. NAMES.  The first pass computes, for every place (directory
 *      identity, name) a record touched, the object the log leaves there
 *      (or none), and for every object the log created how to make it
 *      again.  SOURCE is then walked once to find where every object the
 *      log names is now (and every directory, to make paths).  Then:
 *        a. every touched place that holds another object than the log
 *           says is emptied: the object is moved to the orphanage
 *           SOURCE/.nvfs-replay, named by its identity (a second name of
 *           an object already there is just removed);
 *        b. every touched place is given its object: moved back from
 *           the orphanage or from where it is now (a directory, or a
 *           file with more names than the log gives it: an unlogged
 *           rename), or linked (a file keeping its other names), or made
 *           again from its create record if SOURCE lost it; parents are
 *           placed before their children;
 *        c. the orphanage is removed, with what is left in it: objects
 *           whose every name the log removed.
 *   2. DATA.  The second pass applies every data record (write, setattr,
 *      fallocate, xattrs) in log order to the object's current place;
 *      each is an absolute change (bytes at an offset, a size, a mode), so
 *      applying it again changes nothing.  Objects without a name left
 *      are skipped: nobody can see their data.
 *   Then syncfs(SOURCE) and nvfs_journal_checkpoint: only now is the log
 *   released.  A crash anywhere before leaves the log as it was, and the
 *   next replay converges to the same SOURCE: the orphanage is reused by
 *   identity, and an object made again by an interrupted replay is just
 *   another foreign object at a touched place.
 *
 * WHAT IT COSTS
 *   Memory in proportion to the log's names and SOURCE's directories; one
 *   walk of SOURCE (directories, and a statx of the entries whose inode
 *   number the log names).  Nothing at all when the journal is empty (a
 *   clean unmount).
 *
 * WHAT IT CANNOT KNOW
 *   A file with hard links that pre-date the log, given another name by an
 *   unlogged rename, may keep both names (which is then the state with the
 *   in-flight rename half applied, as a crash of the backing file system
 *   could leave it too).  An object the log names, not created by the log,
 *   and missing from SOURCE was removed by an unlogged operation: it is
 *   counted (missing) and logged, not invented.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "fs_int.h"
#include "nvfs_csum.h"
#include "nvfs_err.h"
#include "nvfs_journal.h"

#define ORPHANAGE   NVFS_FS_ORPHANAGE
#define MAX_DEPTH   4096             /* directory nesting replay follows */
#define NO_OBJ      UINT32_MAX

/* a name of an object in SOURCE now: (directory object, name) */
struct loc {
	uint32_t dir;                    /* object index */
	char *name;
};

/* an object: one the log names, or a directory of SOURCE */
struct obj {
	struct nvfs_rec_id id;
	uint32_t next;                   /* hash chain */
	bool is_dir, is_root, orphanage;
	bool referenced;                 /* the log names it */
	bool born;                       /* the log created it */
	bool nlink_known;
	bool recreated;
	uint32_t nlink;                  /* after its last name record */
	uint32_t mode, uid, gid;         /* create record */
	uint64_t rdev;
	char *target;                    /* symlink */
	uint64_t born_seq;
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
	uint32_t root, orph;             /* object indexes; orph NO_OBJ if none */
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
	rp->objs[i].next = nvfs_hmap_get(&rp->obj_idx, h, &head) ? (uint32_t)head - 1 : NO_OBJ;
	if (nvfs_hmap_put(&rp->obj_idx, h, (uint64_t)i + 1) < 0)
		return NO_OBJ;
	rp->nobjs++;
	return i;
}

static uint64_t
place_hash(uint32_t dir, const char *name)
{
	uint64_t h = nvfs_csum(name, strlen(name), dir);

	return key_of(h);
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
		i = rp->nplaces;
		rp->places[i] = (struct place){
			.dir = dir, .name = strdup(name),
			.next = nvfs_hmap_get(&rp->place_idx, h, &head) ? (uint32_t)head - 1
									: NO_OBJ,
		};
		if (!rp->places[i].name || nvfs_hmap_put(&rp->place_idx, h, (uint64_t)i + 1) < 0)
			return -ENOMEM;
		rp->nplaces++;
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

/* id_text -- "ino:stamp" for messages and orphan names */
static void
id_text(struct nvfs_rec_id id, char buf[48])
{
	snprintf(buf, 48, "%" PRIu64 "-%" PRIu64, id.ino, id.stamp);
}

/* ---- paths ---------------------------------------------------------------- */

/*
 * path_of -- the path of object i relative to SOURCE (its first name), in
 * buf; 0, -ENOENT (it has no name, or a directory above it has none),
 * -ENAMETOOLONG or -ELOOP
 */
static int
path_of(const struct replay *rp, uint32_t i, char *buf, size_t len)
{
	const char *parts[MAX_DEPTH];
	size_t n = 0, used = 0;

	while (!rp->objs[i].is_root) {
		const struct obj *o = &rp->objs[i];
		if (!o->nlocs)
			return -ENOENT;
		if (n == MAX_DEPTH)
			return -ELOOP;
		parts[n++] = o->locs[0].name;
		i = o->locs[0].dir;
	}
	if (!n) {
		snprintf(buf, len, ".");
		return 0;
	}
	buf[0] = '\0';
	while (n--) {
		size_t l = strlen(parts[n]);
		if (used + l + 2 > len)
			return -ENAMETOOLONG;
		if (used)
			buf[used++] = '/';
		memcpy(buf + used, parts[n], l + 1);
		used += l;
	}
	return 0;
}

/* dir_path -- the path of a directory object, with an error set if none */
static int
dir_path(struct replay *rp, uint32_t dir, char *buf, size_t len)
{
	char idt[48];
	int rc = path_of(rp, dir, buf, len);

	if (rc < 0) {
		id_text(rp->objs[dir].id, idt);
		return fail(rp, -rc, "directory %s has no path in SOURCE: %s", idt,
			    strerror(-rc));
	}
	return 0;
}

/* at -- "dirpath/name" */
static int
join(char *buf, size_t len, const char *dirpath, const char *name)
{
	if ((size_t)snprintf(buf, len, "%s/%s", dirpath, name) >= len)
		return -ENAMETOOLONG;
	return 0;
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

/* names_fn -- pass 1 over one entry */
static int
names_fn(void *arg, const struct nvfs_journal_entry *e)
{
	struct replay *rp = arg;
	struct nvfs_rec r;
	uint32_t x, y, p, p2;

	if (decode(rp, e, &r) < 0)
		return rp->err;
	rp->rep->entries++;
	if ((x = ref(rp, r.id)) == NO_OBJ)
		return fail(rp, ENOMEM, "out of memory");
	switch (r.type) {
	case NVFS_REC_CREATE:
		if ((p = ref(rp, r.parent)) == NO_OBJ)
			return fail(rp, ENOMEM, "out of memory");
		struct obj *o = &rp->objs[x];
		o->born = true;
		o->born_seq = e->seq;
		o->is_dir = S_ISDIR(r.mode);
		o->mode = r.mode;
		o->uid = r.uid;
		o->gid = r.gid;
		o->rdev = r.a;
		o->nlink = 1;
		o->nlink_known = true;
		free(o->target);
		o->target = r.data_len ? strndup(r.data, r.data_len) : NULL;
		if (r.data_len && !o->target)
			return fail(rp, ENOMEM, "out of memory");
		return place_set(rp, p, r.name, x, e->seq) < 0 ? fail(rp, ENOMEM, "no memory") : 0;
	case NVFS_REC_LINK:
	case NVFS_REC_UNLINK:
		if ((p = ref(rp, r.parent)) == NO_OBJ)
			return fail(rp, ENOMEM, "out of memory");
		rp->objs[x].nlink = r.nlink;
		rp->objs[x].nlink_known = true;
		return place_set(rp, p, r.name, r.type == NVFS_REC_LINK ? x : NO_OBJ, e->seq) < 0 ?
		       fail(rp, ENOMEM, "out of memory") : 0;
	case NVFS_REC_RENAME:
		p = ref(rp, r.parent);
		p2 = ref(rp, r.parent2);
		y = r.id2.ino ? ref(rp, r.id2) : NO_OBJ;
		if (p == NO_OBJ || p2 == NO_OBJ || (r.id2.ino && y == NO_OBJ))
			return fail(rp, ENOMEM, "out of memory");
		if (y != NO_OBJ && !(r.flags & RENAME_EXCHANGE)) {
			rp->objs[y].nlink = r.nlink2;
			rp->objs[y].nlink_known = true;
		}
		if (place_set(rp, p, r.name, r.flags & RENAME_EXCHANGE ? y : NO_OBJ, e->seq) < 0 ||
		    place_set(rp, p2, r.name2, x, e->seq) < 0)
			return fail(rp, ENOMEM, "out of memory");
		return 0;
	default:
		return 0; /* data: pass 2 */
	}
}

/* ---- the walk: where things are now ---------------------------------------- */

/* walk_dir -- register dir's entries (dir: an open O_RDONLY descriptor) */
static int
walk_dir(struct replay *rp, int fd, uint32_t dir, unsigned depth)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int rc = 0;

	if (!d) {
		close(fd);
		return fail(rp, errno, "cannot read a directory of SOURCE: %s",
			    strerror(errno));
	}
	while (rc == 0 && (errno = 0, de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		rp->rep->walked++;
		bool is_dir = de->d_type == DT_DIR;
		if (de->d_type == DT_UNKNOWN) {
			struct stat st;
			if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue; /* gone meanwhile */
			is_dir = S_ISDIR(st.st_mode);
		}
		uint64_t one;
		if (!is_dir && !nvfs_hmap_get(&rp->inos, key_of(de->d_ino), &one))
			continue; /* not an object the log names */
		struct nvfs_rec_id id;
		if (nvfs_id_at(dirfd(d), de->d_name, &id, NULL) < 0)
			continue;
		uint32_t i = obj_get(rp, id);
		if (i == NO_OBJ || loc_add(rp, i, dir, de->d_name) < 0) {
			rc = fail(rp, ENOMEM, "out of memory");
			break;
		}
		rp->objs[i].is_dir = is_dir;
		if (depth == 0 && strcmp(de->d_name, ORPHANAGE) == 0) {
			/* never take (and remove) a directory replay did not make */
			if (!is_dir || faccessat(dirfd(d), ORPHANAGE "/" NVFS_FS_ORPHANAGE_MARK,
						 F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
				rc = fail(rp, EEXIST, "SOURCE/%s exists and was not made by "
					  "nvfs: rename it, replay needs that name", ORPHANAGE);
				break;
			}
			rp->orph = i;
			rp->objs[i].orphanage = true;
		}
		if (!is_dir)
			continue;
		if (depth + 1 >= MAX_DEPTH) {
			rc = fail(rp, ELOOP, "SOURCE is nested deeper than %d directories",
				  MAX_DEPTH);
			break;
		}
		int cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				 O_CLOEXEC);
		if (cfd < 0)
			continue; /* unreadable: nothing of the log can be below it */
		rc = walk_dir(rp, cfd, i, depth + 1);
	}
	if (rc == 0 && errno)
		rc = fail(rp, errno, "cannot read a directory of SOURCE: %s", strerror(errno));
	closedir(d);
	return rc;
}

/* ---- pass 1 applied: names --------------------------------------------------- */

/* occupant -- the object at (dir, name) now: index (added if new), NO_OBJ if none */
static int
occupant(struct replay *rp, uint32_t dir, const char *name, uint32_t *out)
{
	char dp[PATH_MAX], path[PATH_MAX];
	struct nvfs_rec_id id;
	struct stat st;
	int rc;

	*out = NO_OBJ;
	if (path_of(rp, dir, dp, sizeof(dp)) < 0)
		return 0; /* the directory is not there: nor is the name */
	if ((rc = join(path, sizeof(path), dp, name)) < 0)
		return fail(rp, -rc, "path too long: %s/%s", dp, name);
	if (nvfs_id_at(rp->src, path, &id, NULL) < 0)
		return 0;
	if ((*out = obj_get(rp, id)) == NO_OBJ)
		return fail(rp, ENOMEM, "out of memory");
	if (fstatat(rp->src, path, &st, AT_SYMLINK_NOFOLLOW) == 0)
		rp->objs[*out].is_dir = S_ISDIR(st.st_mode);
	/* an object the walk skipped (not named by the log): learn this name */
	struct obj *o = &rp->objs[*out];
	for (uint32_t k = 0; k < o->nlocs; k++)
		if (o->locs[k].dir == dir && strcmp(o->locs[k].name, name) == 0)
			return 0;
	return loc_add(rp, *out, dir, name) < 0 ? fail(rp, ENOMEM, "out of memory") : 0;
}

/* orphanage -- the orphanage's object index, made if needed */
static int
orphanage(struct replay *rp, uint32_t *out)
{
	struct nvfs_rec_id id;

	if (rp->orph == NO_OBJ) {
		if (mkdirat(rp->src, ORPHANAGE, 0700) < 0)
			return fail(rp, errno, "cannot make SOURCE/%s: %s", ORPHANAGE,
				    strerror(errno));
		int fd = openat(rp->src, ORPHANAGE "/" NVFS_FS_ORPHANAGE_MARK,
				O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || close(fd) < 0)
			return fail(rp, errno, "cannot mark SOURCE/%s as nvfs's: %s",
				    ORPHANAGE, strerror(errno));
		if (nvfs_id_at(rp->src, ORPHANAGE, &id, NULL) < 0)
			return fail(rp, errno, "SOURCE/%s: %s", ORPHANAGE, strerror(errno));
		uint32_t i = obj_get(rp, id);
		if (i == NO_OBJ || loc_add(rp, i, rp->root, ORPHANAGE) < 0)
			return fail(rp, ENOMEM, "out of memory");
		rp->objs[i].is_dir = true;
		rp->objs[i].orphanage = true;
		rp->orph = i;
	}
	*out = rp->orph;
	return 0;
}

/* move -- rename (fdir, fname) of obj to (tdir, tname) in SOURCE and the tables */
static int
move(struct replay *rp, uint32_t obj, uint32_t fdir, const char *fname, uint32_t tdir,
     const char *tname)
{
	char fp[PATH_MAX], tp[PATH_MAX], a[PATH_MAX], b[PATH_MAX];
	char *name;

	if (dir_path(rp, fdir, fp, sizeof(fp)) < 0 || dir_path(rp, tdir, tp, sizeof(tp)) < 0)
		return rp->err;
	if (join(a, sizeof(a), fp, fname) < 0 || join(b, sizeof(b), tp, tname) < 0)
		return fail(rp, ENAMETOOLONG, "path too long under %s", fp);
	if (renameat(rp->src, a, rp->src, b) < 0)
		return fail(rp, errno, "cannot move %s to %s: %s", a, b, strerror(errno));
	/* fname may be the very string loc_del frees */
	if (!(name = strdup(tname)))
		return fail(rp, ENOMEM, "out of memory");
	loc_del(rp, obj, fdir, fname);
	int rc = loc_add(rp, obj, tdir, name);
	free(name);
	return rc < 0 ? fail(rp, ENOMEM, "out of memory") : 0;
}

/* has_loc -- obj is at (dir, name) */
static bool
has_loc(const struct obj *o, uint32_t dir, const char *name)
{
	for (uint32_t k = 0; k < o->nlocs; k++)
		if (o->locs[k].dir == dir && strcmp(o->locs[k].name, name) == 0)
			return true;
	return false;
}

/* orphan -- empty the place (dir, name) holding obj: into the orphanage */
static int
orphan(struct replay *rp, uint32_t obj, uint32_t dir, const char *name)
{
	char dp[PATH_MAX], path[PATH_MAX], idt[48];
	uint32_t orph = NO_OBJ;
	int rc;

	if ((rc = orphanage(rp, &orph)) < 0)
		return rc;
	id_text(rp->objs[obj].id, idt);
	rp->rep->orphans++;
	if (!has_loc(&rp->objs[obj], orph, idt))
		return move(rp, obj, dir, name, orph, idt);
	/* a second name of a file already in the orphanage */
	if (dir_path(rp, dir, dp, sizeof(dp)) < 0 || join(path, sizeof(path), dp, name) < 0)
		return rp->err ? rp->err : fail(rp, ENAMETOOLONG, "path too long");
	if (unlinkat(rp->src, path, 0) < 0)
		return fail(rp, errno, "cannot remove %s: %s", path, strerror(errno));
	loc_del(rp, obj, dir, name);
	return 0;
}

/* is_final_loc -- (dir, name) is a touched place the log leaves obj at */
static bool
is_final_loc(const struct replay *rp, uint32_t obj, uint32_t dir, const char *name)
{
	uint32_t p = place_find(rp, dir, name);

	return p != NO_OBJ && rp->places[p].final == obj;
}

/* make_again -- make the object the log created (SOURCE lost it) at path */
static int
make_again(struct replay *rp, uint32_t obj, uint32_t dir, const char *name, const char *path)
{
	struct obj *o = &rp->objs[obj];
	struct nvfs_rec_id id;
	int rc = 0, fd;

	switch (o->mode & S_IFMT) {
	case S_IFDIR:
		rc = mkdirat(rp->src, path, o->mode & 07777);
		break;
	case S_IFLNK:
		rc = symlinkat(o->target ? o->target : "", rp->src, path);
		break;
	case S_IFREG:
		fd = openat(rp->src, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    o->mode & 07777);
		rc = fd < 0 ? -1 : close(fd);
		break;
	default:
		rc = mknodat(rp->src, path, o->mode, (dev_t)o->rdev);
		break;
	}
	if (rc < 0)
		return fail(rp, errno, "cannot make %s again: %s", path, strerror(errno));
	/* owner first: chown clears set-ID bits, the mode puts them back */
	if (geteuid() == 0 &&
	    fchownat(rp->src, path, o->uid, o->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(rp, errno, "cannot give %s to %u:%u: %s", path, o->uid, o->gid,
			    strerror(errno));
	if (!S_ISLNK(o->mode) && fchmodat(rp->src, path, o->mode & 07777, 0) < 0)
		return fail(rp, errno, "cannot chmod %s: %s", path, strerror(errno));
	if (nvfs_id_at(rp->src, path, &id, NULL) < 0)
		return fail(rp, errno, "%s: %s", path, strerror(errno));
	o->recreated = true;
	rp->rep->recreated++;
	return loc_add(rp, obj, dir, name) < 0 ? fail(rp, ENOMEM, "out of memory") : 0;
}

static int place_obj(struct replay *rp, uint32_t p, unsigned depth);

/*
 * parent_ready -- the directory object dir has a path: if SOURCE lost it,
 * place it first where the log leaves it
 */
static int
parent_ready(struct replay *rp, uint32_t dir, unsigned depth)
{
	char buf[PATH_MAX], idt[48];

	if (path_of(rp, dir, buf, sizeof(buf)) == 0)
		return 0;
	if (depth >= MAX_DEPTH)
		return fail(rp, ELOOP, "directories nested too deep");
	for (uint32_t q = 0; q < rp->nplaces; q++)
		if (rp->places[q].final == dir)
			return place_obj(rp, q, depth + 1);
	id_text(rp->objs[dir].id, idt);
	return fail(rp, ENOENT, "directory %s, which the journal needs, is not in SOURCE "
		    "(is SOURCE the directory this journal was written for?)", idt);
}

/* place_obj -- give the touched place p the object the log leaves there */
static int
place_obj(struct replay *rp, uint32_t p, unsigned depth)
{
	struct place *pl = &rp->places[p];
	uint32_t x = pl->final, cur, dir = pl->dir;
	char dp[PATH_MAX], path[PATH_MAX], from[PATH_MAX], fp[PATH_MAX], idt[48];
	const char *name = pl->name;
	int rc;

	if (x == NO_OBJ)
		return 0;
	rp->seq = pl->seq;
	if ((rc = parent_ready(rp, dir, depth)) < 0)
		return rc;
	if ((rc = occupant(rp, dir, name, &cur)) < 0)
		return rc;
	if (cur == x)
		return 0;
	if (cur != NO_OBJ && (rc = orphan(rp, cur, dir, name)) < 0)
		return rc;
	if (rp->delay_us)
		usleep(rp->delay_us);
	struct obj *o = &rp->objs[x];
	if (dir_path(rp, dir, dp, sizeof(dp)) < 0)
		return rp->err;
	if (join(path, sizeof(path), dp, name) < 0)
		return fail(rp, ENAMETOOLONG, "path too long: %s/%s", dp, name);
	if (!o->nlocs) {
		if (o->born)
			return make_again(rp, x, dir, name, path);
		id_text(o->id, idt);
		rp->rep->missing++;
		fuse_log(FUSE_LOG_WARNING, "replay: object %s, which the journal puts at %s, "
			 "is not in SOURCE: an operation that removed it was not journaled; "
			 "%s stays empty\n", idt, path, path);
		return 0;
	}
	/*
	 * Which name to take it from: the orphanage's, else one that is not
	 * where the log leaves it -- moved if the log says the object has no
	 * such names left (an unlogged rename), else linked.
	 */
	uint32_t src = NO_OBJ, spare = 0, keep;
	for (uint32_t k = 0; k < o->nlocs; k++) {
		if (o->locs[k].dir == rp->orph && rp->orph != NO_OBJ) {
			src = k;
			break;
		}
		if (!is_final_loc(rp, x, o->locs[k].dir, o->locs[k].name)) {
			spare++;
			if (src == NO_OBJ)
				src = k;
		}
	}
	keep = o->nlink_known && o->nlink > o->nfinal ? o->nlink - o->nfinal : 0;
	bool from_orphanage = src != NO_OBJ && o->locs[src].dir == rp->orph;
	if (o->is_dir || from_orphanage || (src != NO_OBJ && spare > keep)) {
		if (src == NO_OBJ)
			src = 0;
		rp->rep->moved++;
		return move(rp, x, o->locs[src].dir, o->locs[src].name, dir, name);
	}
	if (src == NO_OBJ)
		src = 0;
	if (dir_path(rp, o->locs[src].dir, fp, sizeof(fp)) < 0)
		return rp->err;
	if (join(from, sizeof(from), fp, o->locs[src].name) < 0)
		return fail(rp, ENAMETOOLONG, "path too long under %s", fp);
	if (linkat(rp->src, from, rp->src, path, 0) < 0)
		return fail(rp, errno, "cannot link %s to %s: %s", from, path, strerror(errno));
	rp->rep->linked++;
	return loc_add(rp, x, dir, name) < 0 ? fail(rp, ENOMEM, "out of memory") : 0;
}

/* remove_tree -- remove name in at and everything below it */
static int
remove_tree(int at, const char *name, unsigned depth)
{
	struct stat st;
	int fd;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(at, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	if (depth >= MAX_DEPTH)
		return -ELOOP;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int rc = 0;
	if (!d) {
		close(fd);
		return -errno;
	}
	while (rc == 0 && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			rc = remove_tree(dirfd(d), de->d_name, depth + 1);
	closedir(d);
	if (rc == 0 && unlinkat(at, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = -errno;
	return rc;
}

/* names -- steps a-c of pass 1 (see the top of the file) */
static int
names(struct replay *rp)
{
	uint32_t cur;
	int rc;

	for (uint32_t p = 0; p < rp->nplaces; p++) {
		if (rp->places[p].dir == rp->root && strcmp(rp->places[p].name, ORPHANAGE) == 0)
			return fail(rp, EINVAL, "the journal uses the name %s at the top of "
				    "SOURCE, which replay needs for itself", ORPHANAGE);
		if (rp->places[p].final != NO_OBJ)
			rp->objs[rp->places[p].final].nfinal++;
	}
	/* a. empty the places that hold something else */
	for (uint32_t p = 0; p < rp->nplaces; p++) {
		rp->seq = rp->places[p].seq;
		if ((rc = occupant(rp, rp->places[p].dir, rp->places[p].name, &cur)) < 0)
			return rc;
		if (cur != NO_OBJ && cur != rp->places[p].final &&
		    (rc = orphan(rp, cur, rp->places[p].dir, rp->places[p].name)) < 0)
			return rc;
	}
	/* b. give every place its object, parents first */
	for (uint32_t p = 0; p < rp->nplaces; p++)
		if ((rc = place_obj(rp, p, 0)) < 0)
			return rc;
	/* c. what is left in the orphanage has no name in the log's SOURCE */
	if (rp->orph != NO_OBJ) {
		if ((rc = remove_tree(rp->src, ORPHANAGE, 0)) < 0)
			return fail(rp, -rc, "cannot remove SOURCE/%s: %s", ORPHANAGE,
				    strerror(-rc));
		for (uint32_t i = 0; i < rp->nobjs; i++) {
			struct obj *o = &rp->objs[i];
			for (uint32_t k = 0; k < o->nlocs;) {
				if (o->locs[k].dir == rp->orph || i == rp->orph) {
					free(o->locs[k].name);
					o->locs[k] = o->locs[--o->nlocs];
				} else {
					k++;
				}
			}
		}
	}
	return 0;
}

/* ---- pass 2: data ------------------------------------------------------------ */

/* open_obj -- a descriptor of the object for writing; -errno */
static int
open_obj(struct replay *rp, const char *path)
{
	struct stat st;
	int fd = openat(rp->src, path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0 || errno != EACCES || fstatat(rp->src, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return fd < 0 ? -errno : fd;
	/* a read-only file of the daemon's own user: writable for the replay */
	if (fchmodat(rp->src, path, (st.st_mode & 07777) | S_IWUSR, 0) < 0)
		return -EACCES;
	fd = openat(rp->src, path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	int err = errno;
	fchmodat(rp->src, path, st.st_mode & 07777, 0);
	return fd < 0 ? -err : fd;
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

/* apply_setattr -- a SETATTR record on path */
static int
apply_setattr(struct replay *rp, const struct nvfs_rec *r, const char *path, bool symlink)
{
	if ((r->valid & (NVFS_REC_SET_UID | NVFS_REC_SET_GID)) &&
	    fchownat(rp->src, path, r->valid & NVFS_REC_SET_UID ? r->uid : (uid_t)-1,
		     r->valid & NVFS_REC_SET_GID ? r->gid : (gid_t)-1, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if ((r->valid & NVFS_REC_SET_MODE) && !symlink &&
	    fchmodat(rp->src, path, r->mode & 07777, 0) < 0)
		return -errno;
	if (r->valid & NVFS_REC_SET_SIZE) {
		int fd = open_obj(rp, path);
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
		if (utimensat(rp->src, path, ts, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
	}
	return 0;
}

/* apply_data -- one data record on the object at path */
static int
apply_data(struct replay *rp, const struct nvfs_rec *r, const char *path, bool symlink)
{
	char xpath[64];
	int fd, rc = 0;

	switch (r->type) {
	case NVFS_REC_WRITE:
	case NVFS_REC_FALLOCATE:
		if ((fd = open_obj(rp, path)) < 0)
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
		return apply_setattr(rp, r, path, symlink);
	case NVFS_REC_SETXATTR:
	case NVFS_REC_REMOVEXATTR:
		/* the xattr calls have no *at form: through an O_PATH descriptor */
		if ((fd = openat(rp->src, path, O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0)
			return -errno;
		nvfs_proc_path(fd, xpath);
		if (r->type == NVFS_REC_SETXATTR)
			rc = setxattr(xpath, r->name, r->data, r->data_len, 0) < 0 ? -errno : 0;
		else if (removexattr(xpath, r->name) < 0 && errno != ENODATA)
			rc = -errno;
		close(fd);
		return rc;
	default:
		return 0;
	}
}

/* data_fn -- pass 2 over one entry */
static int
data_fn(void *arg, const struct nvfs_journal_entry *e)
{
	struct replay *rp = arg;
	char path[PATH_MAX], idt[48];
	struct nvfs_rec r;
	uint32_t x;
	int rc;

	if (e->type == NVFS_REC_CREATE || e->type == NVFS_REC_LINK ||
	    e->type == NVFS_REC_UNLINK || e->type == NVFS_REC_RENAME)
		return 0;
	if (decode(rp, e, &r) < 0)
		return rp->err;
	x = obj_find(rp, r.id);
	if (x == NO_OBJ || path_of(rp, x, path, sizeof(path)) < 0)
		return 0; /* no name left: nobody can see its data */
	if (rp->delay_us)
		usleep(rp->delay_us);
	rc = apply_data(rp, &r, path, S_ISLNK(rp->objs[x].mode) && rp->objs[x].born);
	if (rc < 0) {
		id_text(r.id, idt);
		return fail(rp, -rc, "cannot apply a %s record to %s (object %s): %s",
			    nvfs_rec_type_name(r.type), path, idt, strerror(-rc));
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
	}
	for (uint32_t p = 0; p < rp->nplaces; p++)
		free(rp->places[p].name);
	free(rp->objs);
	free(rp->places);
	nvfs_hmap_fini(&rp->obj_idx);
	nvfs_hmap_fini(&rp->place_idx);
	nvfs_hmap_fini(&rp->inos);
	if (rp->src >= 0)
		close(rp->src);
}

/* run -- passes 1 and 2 on an open SOURCE; 0 or -errno with a message */
static int
run(struct replay *rp)
{
	struct nvfs_journal_report jr;
	struct nvfs_rec_id root_id;
	int rc, fd;

	if (nvfs_id_at(rp->src, ".", &root_id, NULL) < 0)
		return nvfs_err_set(errno, "SOURCE: %s", strerror(errno));
	if ((rp->root = obj_get(rp, root_id)) == NO_OBJ)
		return nvfs_err_set(ENOMEM, "out of memory");
	rp->objs[rp->root].is_root = rp->objs[rp->root].is_dir = true;
	rc = nvfs_journal_replay(rp->j, names_fn, rp, &jr);
	if (rc)
		return rp->err ? rp->err : rc;
	if (jr.damaged)
		return nvfs_err_set(EUCLEAN, "the journal is damaged at seq %" PRIu64 ": %s",
				    jr.stop_seq, jr.reason);
	rp->rep->last_seq = jr.last_seq;
	if (!jr.entries)
		return 0;
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
	struct replay rp = { .j = j, .rep = rep, .orph = NO_OBJ, .src = -1 };
	const char *delay = getenv("NVFS_TEST_REPLAY_DELAY_US");
	struct timespec t0, t1;
	mode_t um;
	int rc;

	memset(rep, 0, sizeof(*rep));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (delay)
		rp.delay_us = (unsigned)strtoul(delay, NULL, 10);
	if (nvfs_hmap_init(&rp.obj_idx, 1024) < 0 || nvfs_hmap_init(&rp.place_idx, 1024) < 0 ||
	    nvfs_hmap_init(&rp.inos, 1024) < 0) {
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
	replay_free(&rp);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	rep->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	return rc;
}
