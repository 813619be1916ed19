/* SPDX-License-Identifier: MIT */
/*
 * fs_replay.c -- nvfs_fs_replay (fs/replay.c) against real directories.
 *
 * Each scenario is a short sequence of operations applied to SOURCE (a
 * directory on tmpfs) and logged as the mount logs them (fs_testlib.h).
 * The journal is then replayed, as mount.nvfs does, onto every SOURCE a
 * crash could leave behind it:
 *   all       every operation applied (SOURCE as it is);
 *   none      nothing applied: SOURCE emptied (only for scenarios that start
 *             from an empty SOURCE: an object older than the log is not in
 *             it, so replay cannot make it again);
 *   undo k    the last k operations lost, undone with identities kept
 *             (rename back, re-link a removed name, rewrite old bytes...),
 *             for every k from 1 to the number of operations (under the
 *             sanitizers: 1, half and all);
 *   inflight  the last operation applied but never logged (a change that
 *             destroys data: logged first, never applied): SOURCE must
 *             end as with or as without it.
 * After each replay SOURCE must equal the state after the last logged
 * operation (names, types, modes, owners, bytes, symlink targets, xattrs,
 * hard links; atime/mtime in the scenarios that set them), every file's
 * link count must be its names in SOURCE, nothing of the orphanage may be
 * left, the journal must be empty (a second replay applies nothing), and a
 * replay of the same journal again (restored from its image, with the
 * orphanage's marker and list of what replay made: a replay that did
 * everything but its checkpoint) must change nothing.
 *
 * A replay killed part way (a child process, slowed by
 * NVFS_TEST_REPLAY_DELAY_US, killed at increasing delays) and run again
 * must converge to the same SOURCE.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "fs_testlib.h"
#include "nvfs_alloc.h"
#include "nvfs_err.h"
#include "nvfs_fs.h"
#include "nvfs_journal.h"
#include "nvfs_rec.h"
#include "nvfs_test.h"

struct scn {
	const char *name;
	void (*base)(struct ft *t);  /* SOURCE at the last checkpoint; NULL: empty */
	void (*ops)(struct ft *t);   /* the logged operations */
	bool times;                  /* compare atime/mtime of regular files */
};

enum vkind { V_ALL, V_NONE, V_UNDO, V_INFLIGHT };

static struct ft T;
static bool T_ready;

static struct ft *
ft(void)
{
	if (!T_ready) {
		ft_init(&T, "replay");
		T_ready = true;
	}
	return &T;
}

static int
suite_cleanup(void)
{
	if (T_ready)
		ft_fini(&T);
	T_ready = false;
	return 0;
}

/* start -- SOURCE at the scenario's checkpoint, the journal empty and open */
static void
start(struct ft *t, const struct scn *s)
{
	ft_reset(t);
	t->cap_times = s->times;
	if (s->base) {
		t->nolog_from = 0;
		s->base(t);
		t->nolog_from = UINT_MAX;
	}
	ft_begin(t);
}

/* count_ops -- the number of operations of s */
static unsigned
count_ops(struct ft *t, const struct scn *s)
{
	start(t, s);
	s->ops(t);
	return t->nops;
}

static const char *
vname(enum vkind v, unsigned k, char buf[64])
{
	switch (v) {
	case V_ALL:
		return "every operation applied";
	case V_NONE:
		return "nothing applied (SOURCE emptied)";
	case V_UNDO:
		snprintf(buf, 64, "the last %u operation%s lost", k, k > 1 ? "s" : "");
		return buf;
	case V_INFLIGHT:
		return "the last operation applied, not logged";
	}
	return "?";
}

/* what went wrong in a state, for the summary of a scenario */
enum {
	W_FIRST = 1,      /* the replay failed or left SOURCE wrong */
	W_EMPTY = 2,      /* the journal was not empty after it */
	W_AGAIN = 4,      /* the same journal again changed SOURCE */
};


/* the identities (st_ino, btime) of everything in SOURCE */
struct idset {
	size_t n, cap;
	uint64_t id[][2];
};

static struct idset *idset_cur;

static int
idset_add(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	struct statx stx;
	struct idset *s = idset_cur;

	(void)sb;
	(void)type;
	if (ftw->level == 0 || statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_INO |
				     STATX_BTIME, &stx) < 0)
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct idset *g = realloc(s, sizeof(*s) + cap * sizeof(s->id[0]));
		CU_ASSERT_FATAL(g != NULL);
		idset_cur = s = g;
		s->cap = cap;
	}
	s->id[s->n][0] = stx.stx_ino;
	s->id[s->n][1] = stx.stx_mask & STATX_BTIME ?
			 (uint64_t)stx.stx_btime.tv_sec * 1000000000u + stx.stx_btime.tv_nsec : 0;
	s->n++;
	return 0;
}

/* idset_of -- the identities now in SOURCE */
static struct idset *
idset_of(const struct ft *t)
{
	idset_cur = calloc(1, sizeof(*idset_cur));
	CU_ASSERT_FATAL(idset_cur != NULL);
	nftw(t->src, idset_add, 16, FTW_PHYS);
	return idset_cur;
}

/*
 * made_list_write -- the orphanage as replay leaves it between its syncfs
 * and its checkpoint: marker, and "made": what is in SOURCE now and was
 * not in before (what the replay made)
 */
static void
made_list_write(const struct ft *t, const struct idset *before)
{
	char path[PATH_MAX + 64];
	struct idset *now = idset_of(t);
	int fd;

	snprintf(path, sizeof(path), "%s/.nvfs-replay", t->src);
	CU_ASSERT_FATAL(mkdir(path, 0700) == 0);
	snprintf(path, sizeof(path), "%s/.nvfs-replay/.nvfs-orphanage", t->src);
	CU_ASSERT_FATAL((fd = open(path, O_WRONLY | O_CREAT, 0600)) >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/.nvfs-replay/made", t->src);
	CU_ASSERT_FATAL((fd = open(path, O_WRONLY | O_CREAT, 0600)) >= 0);
	for (size_t i = 0; i < now->n; i++) {
		bool old = false;
		for (size_t k = 0; k < before->n && !old; k++)
			old = before->id[k][0] == now->id[i][0] && before->id[k][1] == now->id[i][1];
		if (!old)
			CU_ASSERT(write(fd, now->id[i], 16) == 16);
	}
	close(fd);
	free(now);
}

/*
 * variant -- run s, bring SOURCE to state v, replay, check; 0 or W_* bits
 * of what was wrong (the failure is printed)
 */
static unsigned
variant(struct ft *t, const struct scn *s, unsigned n, enum vkind v, unsigned k)
{
	struct nvfs_fs_replay_report rep;
	char what[256], vb[64];
	unsigned wrong = 0;
	int rc;

	snprintf(what, sizeof(what), "%s, %s", s->name, vname(v, k, vb));
	start(t, s);
	if (v == V_INFLIGHT)
		t->nolog_from = n - 1;
	s->ops(t);
	CU_ASSERT_FATAL(t->nops == n);
	ft_log_end(t);
	unsigned records = t->logged_ops;
	char *expect = strdup(t->snap[n]);
	char *alt = v == V_INFLIGHT ? strdup(t->snap[n - 1]) : NULL;

	if (v == V_NONE)
		ft_wipe_source(t);
	else if (v == V_UNDO)
		ft_undo_last(t, k);
	ft_clear_stash(t);

	/* replay */
	struct idset *before = idset_of(t);
	rc = ft_replay(t, &rep);
	if (rc != 0) {
		printf("\n  %s: replay failed", what);
		wrong |= W_FIRST;
		goto out;
	}
	if (rep.entries != records) {
		printf("\n  %s: replayed %llu entries, logged %u", what,
		       (unsigned long long)rep.entries, records);
		wrong |= W_FIRST;
	}
	/* with everything applied, no name is wrong and nothing is missing */
	if (v == V_ALL && (rep.moved || rep.linked || rep.recreated || rep.orphans ||
			   rep.missing)) {
		printf("\n  %s: replay reports %llu moved, %llu linked, %llu made again, "
		       "%llu orphans, %llu missing", what, (unsigned long long)rep.moved,
		       (unsigned long long)rep.linked, (unsigned long long)rep.recreated,
		       (unsigned long long)rep.orphans, (unsigned long long)rep.missing);
		wrong |= W_FIRST;
	}
	char *got = ft_capture(t);
	if (alt && strcmp(got, alt) == 0) {
		/* the state without the operation in flight */
	} else if (!ft_same(what, expect, got)) {
		if (alt) {
			printf("\n  (nor the state without the operation in flight:");
			ft_same(what, alt, got);
			printf(")");
		}
		wrong |= W_FIRST;
	}
	if (!ft_nlink_ok(t)) {
		printf("\n  %s: link counts differ from the names in SOURCE", what);
		wrong |= W_FIRST;
	}

	/* the journal is empty now */
	rc = ft_replay(t, &rep);
	char *again = ft_capture(t);
	if (rc != 0 || rep.entries != 0 || strcmp(again, got) != 0) {
		printf("\n  %s: second replay: rc %d, %llu entries, SOURCE %s", what, rc,
		       (unsigned long long)rep.entries,
		       strcmp(again, got) ? "changed" : "unchanged");
		wrong |= W_EMPTY;
	}
	free(again);

	/*
	 * the same journal once more, as a crash after the replay's syncfs and
	 * before its checkpoint leaves it: the journal whole, and the
	 * orphanage holding its marker and the list of what replay made (the
	 * identities SOURCE did not have before the replay): replay converged,
	 * nothing changes
	 */
	char what2[300];
	snprintf(what2, sizeof(what2), "%s, then the same journal again", what);
	made_list_write(t, before);
	ft_journal_restore(t);
	rc = ft_replay(t, &rep);
	again = ft_capture(t);
	if (rc != 0 || rep.entries != records || !ft_same(what2, got, again)) {
		printf("\n  %s: rc %d, %llu entries", what2, rc,
		       (unsigned long long)rep.entries);
		wrong |= W_AGAIN;
	}
	free(again);
	free(got);
out:
	free(expect);
	free(alt);
	free(before);
	return wrong;
}

/* run -- every state of s; counts the failed ones */
static void
run(const struct scn *s)
{
	struct ft *t = ft();
	unsigned n = count_ops(t, s), failed = 0, states = 0, first = 0, empty = 0, again = 0;
	unsigned w;

#define STATE(v, k)                                                  \
	do {                                                         \
		w = variant(t, s, n, v, k);                          \
		states++;                                            \
		failed += w != 0;                                    \
		first += !!(w & W_FIRST);                            \
		empty += !!(w & W_EMPTY);                            \
		again += !!(w & W_AGAIN);                            \
	} while (0)
	CU_ASSERT_FATAL(n > 0);
	STATE(V_ALL, 0);
	if (!s->base)
		STATE(V_NONE, 0);
	/* every k; under the sanitizers 1, half and all */
	for (unsigned k = 1; k <= n; k++)
		if (nvfs_test_scale_div() == 1 || k == 1 || k == n || k == (n + 1) / 2)
			STATE(V_UNDO, k);
	STATE(V_INFLIGHT, 0);
#undef STATE
	if (failed)
		printf("\n  %s: %u of %u states replayed wrong (first replay wrong: %u; "
		       "journal not empty after: %u; same journal again changed SOURCE: %u)",
		       s->name, failed, states, first, empty, again);
	CU_ASSERT_EQUAL(failed, 0);
}

/* ---- scenarios ------------------------------------------------------------- */

/* paths are not identities: the second "a" is another file */
static void
ops_create_rename_create(struct ft *t)
{
	ft_create(t, "a", 0644);
	ft_write_str(t, "a", 0, "one");
	ft_rename(t, "a", "b", 0);
	ft_create(t, "a", 0600);
	ft_write_str(t, "a", 0, "two");
}

static void
ops_rename_over_file(struct ft *t)
{
	ft_create(t, "a", 0644);
	ft_write_str(t, "a", 0, "new contents");
	ft_create(t, "b", 0640);
	ft_write_str(t, "b", 0, "old");
	ft_rename(t, "a", "b", 0);
	ft_write_str(t, "b", 12, "+");
}

/* the replaced file keeps its other name */
static void
ops_rename_over_linked_file(struct ft *t)
{
	ft_create(t, "x", 0644);
	ft_write_str(t, "x", 0, "x's bytes");
	ft_link(t, "x", "y");
	ft_create(t, "z", 0600);
	ft_write_str(t, "z", 0, "z's bytes");
	ft_rename(t, "z", "x", 0);
	ft_write_str(t, "y", 0, "X");
}

static void
ops_rename_over_dir(struct ft *t)
{
	ft_mkdir(t, "d1", 0755);
	ft_mkdir(t, "d2", 0700);
	ft_create(t, "d1/f", 0644);
	ft_write_str(t, "d1/f", 0, "f");
	ft_rename(t, "d1", "d2", 0);
	ft_create(t, "d2/g", 0644);
}

static void
ops_exchange_files(struct ft *t)
{
	ft_create(t, "a", 0644);
	ft_write_str(t, "a", 0, "AAAA");
	ft_create(t, "b", 0600);
	ft_write_str(t, "b", 0, "BB");
	ft_rename(t, "a", "b", RENAME_EXCHANGE);
	ft_write_str(t, "a", 2, "bb");
}

static void
ops_exchange_file_dir(struct ft *t)
{
	ft_create(t, "f", 0644);
	ft_write_str(t, "f", 0, "file");
	ft_mkdir(t, "d", 0755);
	ft_create(t, "d/x", 0644);
	ft_write_str(t, "d/x", 0, "x");
	ft_rename(t, "f", "d", RENAME_EXCHANGE);
	ft_create(t, "f/y", 0600);
	ft_write_str(t, "d", 4, "!");
}

static void
ops_exchange_across_dirs(struct ft *t)
{
	ft_mkdir(t, "p", 0755);
	ft_mkdir(t, "q", 0755);
	ft_create(t, "p/a", 0644);
	ft_write_str(t, "p/a", 0, "a");
	ft_mkdir(t, "q/b", 0711);
	ft_create(t, "q/b/in", 0644);
	ft_rename(t, "p/a", "q/b", RENAME_EXCHANGE);
	ft_rename(t, "p/a", "p/c", 0);
}

static void
ops_noreplace(struct ft *t)
{
	ft_create(t, "a", 0644);
	ft_write_str(t, "a", 0, "first");
	ft_rename(t, "a", "b", RENAME_NOREPLACE);
	ft_create(t, "a", 0644);
	ft_write_str(t, "a", 0, "second");
	ft_rename(t, "a", "c", RENAME_NOREPLACE);
}

static void
ops_link_unlink(struct ft *t)
{
	ft_create(t, "a", 0644);
	ft_write_str(t, "a", 0, "data");
	ft_mkdir(t, "d", 0755);
	ft_link(t, "a", "d/b");
	ft_link(t, "a", "c");
	ft_unlink(t, "a");
	ft_write_str(t, "c", 4, "more");
	ft_unlink(t, "c");
}

static void
ops_dir_lifecycle(struct ft *t)
{
	ft_mkdir(t, "d", 0755);
	ft_rename(t, "d", "e", 0);
	ft_create(t, "e/f", 0644);
	ft_write_str(t, "e/f", 0, "inside");
	ft_rename(t, "e/f", "g", 0);
	ft_rmdir(t, "e");
	ft_mkdir(t, "e", 0700);
}

static void
ops_tree_move(struct ft *t)
{
	ft_mkdir(t, "a", 0755);
	ft_mkdir(t, "a/b", 0755);
	ft_create(t, "a/b/f", 0644);
	ft_write_str(t, "a/b/f", 0, "deep");
	ft_mkdir(t, "c", 0755);
	ft_rename(t, "a", "c/a2", 0);
	ft_create(t, "c/a2/b/g", 0644);
	ft_write_str(t, "c/a2/b/g", 0, "g");
	ft_rename(t, "c/a2/b", "b", 0);
	ft_rmdir(t, "c/a2");
}

static void
ops_data(struct ft *t)
{
	static unsigned char big[200 << 10];

	for (size_t k = 0; k < sizeof(big); k++)
		big[k] = (unsigned char)(k * 7 + k / 251);
	ft_create(t, "f", 0644);
	ft_write_str(t, "f", 0, "hello, world");
	ft_truncate(t, "f", 5);
	ft_write_str(t, "f", 100, "tail");
	ft_truncate(t, "f", 200);
	ft_fallocate(t, "f", 0, 300, 100);
	ft_write(t, "f", 4096, big, sizeof(big));
	ft_fallocate(t, "f", FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 8192, 8192);
	ft_write_str(t, "f", 1, "X");
	ft_truncate(t, "f", 4096 + 100000);
	ft_create(t, "g", 0644);
	ft_truncate(t, "g", 10);
}

/* a truncate that failed: its intent is cancelled, replay must not make it */
static void
ops_cancelled_intent(struct ft *t)
{
	ft_create(t, "f", 0644);
	ft_write_str(t, "f", 0, "hello world");
	ft_truncate_fails(t, "f", 0);
	ft_write_str(t, "f", 11, " again");
	ft_truncate_fails(t, "f", 3);
}

/* punches (intents: logged first), the last in flight: logged, not made (tmpfs has no ZERO_RANGE) */
static void
ops_punch_in_flight(struct ft *t)
{
	static unsigned char bytes[3 * 4096];

	memset(bytes, 'p', sizeof(bytes));
	ft_create(t, "f", 0644);
	ft_write(t, "f", 0, bytes, sizeof(bytes));
	ft_fallocate(t, "f", FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100, 50);
	ft_fallocate(t, "f", FALLOC_FL_KEEP_SIZE, 3 * 4096, 4096);
	ft_fallocate(t, "f", FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 4096);
}

static void
ops_attrs_times(struct ft *t)
{
	ft_create(t, "f", 0644);
	ft_write_str(t, "f", 0, "x");
	ft_chmod(t, "f", 0600);
	ft_mkdir(t, "d", 0755);
	ft_chmod(t, "d", 0700);
	ft_chmod(t, "f", 04751);
	ft_utimens(t, "f", 1000000000123456789ll, 1100000000987654321ll);
	ft_create(t, "d/g", 0644);
	ft_utimens(t, "d/g", 5, 999999999);
}

static void
ops_xattrs(struct ft *t)
{
	ft_create(t, "f", 0644);
	ft_setxattr(t, "f", "user.a", "1", 0);
	ft_setxattr(t, "f", "user.b", "two", XATTR_CREATE);
	ft_setxattr(t, "f", "user.a", "three", XATTR_REPLACE);
	ft_removexattr(t, "f", "user.b");
	ft_mkdir(t, "d", 0755);
	ft_setxattr(t, "d", "user.dir", "", 0);
	ft_rename(t, "f", "d/f", 0);
	ft_setxattr(t, "d/f", "user.b", "back", 0);
}

static void
ops_symlink_fifo(struct ft *t)
{
	ft_symlink(t, "../target/x", "l");
	ft_mknod(t, "p", S_IFIFO | 0640, 0);
	ft_mkdir(t, "d", 0755);
	ft_rename(t, "l", "d/l", 0);
	ft_link(t, "p", "d/p2");
	ft_chmod(t, "p", 0600);
	ft_symlink(t, "p", "l");
	ft_mknod(t, "s", S_IFSOCK | 0644, 0);
	ft_mknod(t, "r", S_IFREG | 0600, 0);
}

static void
ops_chr_device(struct ft *t)
{
	if (geteuid() != 0) { /* mknod of a device needs CAP_MKNOD */
		ft_create(t, "n", 0644);
		return;
	}
	ft_mknod(t, "null", S_IFCHR | 0666, makedev(1, 3));
	ft_rename(t, "null", "n", 0);
}

static void
ops_inflight_rename_file(struct ft *t)
{
	ft_create(t, "f", 0644);
	ft_write_str(t, "f", 0, "data");
	ft_rename(t, "f", "g", 0);
}

static void
ops_inflight_rename_dir(struct ft *t)
{
	ft_mkdir(t, "d", 0755);
	ft_create(t, "d/f", 0644);
	ft_write_str(t, "d/f", 0, "x");
	ft_mkdir(t, "d/sub", 0755);
	ft_rename(t, "d", "e", 0);
}

static void
ops_inflight_rename_over(struct ft *t)
{
	ft_create(t, "a", 0644);
	ft_write_str(t, "a", 0, "A");
	ft_create(t, "b", 0644);
	ft_write_str(t, "b", 0, "B");
	ft_rename(t, "a", "b", 0);
}

static void
ops_inflight_unlink_linked(struct ft *t)
{
	ft_create(t, "a", 0644);
	ft_write_str(t, "a", 0, "A");
	ft_link(t, "a", "b");
	ft_unlink(t, "a");
}

/*
 * The smallest case of a directory made again, then renamed: replay must
 * place the child's parent first, making "d" again at "e", and then know
 * the directory at "e" for its own when it reaches that place.  (Replay at
 * a2f6bd1 took it for a foreign object, moved it to the orphanage and
 * failed with ENOENT: SOURCE emptied, here and in tree_move,
 * exchange_across_dirs, exchange_dirs, links_across_dirs,
 * inflight_rename_dir.)
 */
static void
ops_made_again_dir_renamed(struct ft *t)
{
	ft_mkdir(t, "d", 0755);
	ft_create(t, "d/f", 0644);
	ft_rename(t, "d", "e", 0);
}

static void
ops_swap_via_temp(struct ft *t)
{
	ft_create(t, "a", 0644);
	ft_write_str(t, "a", 0, "A");
	ft_create(t, "b", 0644);
	ft_write_str(t, "b", 0, "B");
	ft_rename(t, "a", "t", 0);
	ft_rename(t, "b", "a", 0);
	ft_rename(t, "t", "b", 0);
	ft_write_str(t, "a", 1, "b");
}

static void
ops_rename_cycle(struct ft *t)
{
	ft_mkdir(t, "d", 0755);
	ft_create(t, "a", 0644);
	ft_write_str(t, "a", 0, "A");
	ft_rename(t, "a", "d/b", 0);
	ft_rename(t, "d/b", "c", 0);
	ft_rename(t, "c", "a", 0);
	ft_write_str(t, "a", 1, "2");
}

/* a name taken by objects of other types in turn */
static void
ops_name_changes_type(struct ft *t)
{
	ft_create(t, "n", 0644);
	ft_write_str(t, "n", 0, "file");
	ft_unlink(t, "n");
	ft_mkdir(t, "n", 0750);
	ft_create(t, "n/x", 0644);
	ft_unlink(t, "n/x");
	ft_rmdir(t, "n");
	ft_symlink(t, "somewhere", "n");
	ft_unlink(t, "n");
	ft_create(t, "n", 0600);
	ft_truncate(t, "n", 0);
}

static void
ops_exchange_dirs(struct ft *t)
{
	ft_mkdir(t, "x", 0755);
	ft_mkdir(t, "x/sub", 0755);
	ft_create(t, "x/sub/f", 0644);
	ft_mkdir(t, "y", 0700);
	ft_create(t, "y/g", 0644);
	ft_rename(t, "x", "y", RENAME_EXCHANGE);
	ft_rename(t, "x/g", "y/sub/g", 0);
	ft_rename(t, "y/sub", "x/sub", 0);
}

static void
ops_links_across_dirs(struct ft *t)
{
	ft_mkdir(t, "a", 0755);
	ft_mkdir(t, "b", 0755);
	ft_create(t, "a/f", 0644);
	ft_write_str(t, "a/f", 0, "shared");
	ft_link(t, "a/f", "b/f");
	ft_link(t, "b/f", "b/g");
	ft_rename(t, "a", "b/a", 0);
	ft_unlink(t, "b/f");
	ft_rename(t, "b/g", "b/a/g", 0);
	ft_write_str(t, "b/a/g", 6, "!");
}

/* ---- scenarios on a SOURCE with objects older than the journal -------------- */

static void
ops_owners(struct ft *t)
{
	if (geteuid() != 0) { /* chown needs CAP_CHOWN */
		ft_create(t, "f", 04755);
		return;
	}
	ft_create(t, "f", 04755);
	ft_write_str(t, "f", 0, "#!");
	ft_chown(t, "f", 1000, 1000); /* clears the set-user-ID bit */
	ft_chmod(t, "f", 02750);
	ft_mkdir(t, "d", 02775);
	ft_chown(t, "d", 0, 1000);
	ft_symlink(t, "f", "d/l");
	ft_chown(t, "d/l", 1000, 1000);
	ft_mknod(t, "d/p", S_IFIFO | 0644, 0);
	ft_chown(t, "d/p", 1000, 0);
}

static void
base_files(struct ft *t)
{
	ft_mkdir(t, "old", 0755);
	ft_create(t, "old/f", 0644);
	ft_write_str(t, "old/f", 0, "old f");
	ft_create(t, "keep", 0644);
	ft_write_str(t, "keep", 0, "kept");
	ft_link(t, "keep", "old/keep2");
	ft_create(t, "b", 0644);
	ft_write_str(t, "b", 0, "old b");
}

/*
 * A write to a file older than the journal, then a truncate: with the
 * truncate in flight (logged before it is made), replay must not rewrite
 * the write over the bytes the truncate removed (zeros where data was).
 */
static void
ops_truncate_old_file(struct ft *t)
{
	ft_write_str(t, "old/f", 3, "x");
	ft_truncate(t, "old/f", 0);
}

static void
ops_on_old_objects(struct ft *t)
{
	ft_write_str(t, "old/f", 0, "new");
	ft_rename(t, "old/f", "f", 0);
	ft_rename(t, "old", "older", 0);
	ft_create(t, "older/f", 0600);
	ft_unlink(t, "older/keep2");
	ft_link(t, "keep", "older/k3");
	ft_setxattr(t, "keep", "user.k", "v", 0);
}

/*
 * The atomic-replace idiom over a file older than the journal, with the
 * rename in flight: an intent (it replaces b), logged before it is made,
 * so replay makes it whether SOURCE had it or not.
 */
static void
ops_replace_old_file(struct ft *t)
{
	ft_create(t, "b.tmp", 0644);
	ft_write_str(t, "b.tmp", 0, "new b");
	ft_rename(t, "b.tmp", "b", 0);
}

/*
 * Found by make torture (t80 variant x, seed 962548633): a rename, in
 * flight, of an object whose link count the log does not know over a file
 * older than the log.  Made before its record, a crash between left the
 * old file gone and the log naming the moved object at its old place:
 * replay linked it back there, and both names held it -- neither the
 * state with the rename nor without.  The rename is an intent now (logged
 * first), so replay completes it.
 */
static void
ops_rename_over_journaled_old_file(struct ft *t)
{
	ft_create(t, "c", 0600);
	ft_write_str(t, "c", 0, "new c");
	/* old/f (older than the log) to c: the log never learns its link count */
	ft_rename(t, "c", "old/f", RENAME_EXCHANGE);
	ft_rename(t, "c", "b", 0); /* replaces b, older than the log too */
}

static void
ops_rename_old_dir_inflight(struct ft *t)
{
	ft_create(t, "old/g", 0644);
	ft_rename(t, "old", "new", 0);
}

/*
 * KNOWN LIMITATIONS: an operation in flight that moves an object older
 * than the journal (one the journal never names) into a place the journal
 * touches.  Replay takes it for a foreign object there, moves it to the
 * orphanage and removes it with the orphanage: SOURCE ends with neither
 * the state with the operation nor the one without it (the old object is
 * lost).  Run with NVFS_TEST_KNOWN_BUGS=1.
 */
static void
ops_exchange_old_file(struct ft *t)
{
	ft_create(t, "a", 0644);
	ft_write_str(t, "a", 0, "A");
	ft_rename(t, "a", "b", RENAME_EXCHANGE); /* b: older than the journal */
}

static void
ops_rename_old_over_new(struct ft *t)
{
	ft_create(t, "a", 0644);
	ft_write_str(t, "a", 0, "A");
	ft_rename(t, "b", "a", 0); /* b: older than the journal */
}

static void
run_known_bug(const struct scn *s)
{
	if (!getenv("NVFS_TEST_KNOWN_BUGS")) {
		printf("\n  skipped: a known limitation of replay (NVFS_TEST_KNOWN_BUGS=1 runs it)");
		return;
	}
	run(s);
}

#define KNOWN_BUG(n, ...) \
	static void test_replay_##n(void) { static const struct scn s = { #n, __VA_ARGS__ }; run_known_bug(&s); }

#define SCN(n, ...) \
	static void test_replay_##n(void) { static const struct scn s = { #n, __VA_ARGS__ }; run(&s); }

SCN(create_rename_create, NULL, ops_create_rename_create, false)
SCN(rename_over_file, NULL, ops_rename_over_file, false)
SCN(rename_over_linked_file, NULL, ops_rename_over_linked_file, false)
SCN(rename_over_dir, NULL, ops_rename_over_dir, false)
SCN(exchange_files, NULL, ops_exchange_files, false)
SCN(exchange_file_dir, NULL, ops_exchange_file_dir, false)
SCN(exchange_across_dirs, NULL, ops_exchange_across_dirs, false)
SCN(noreplace, NULL, ops_noreplace, false)
SCN(made_again_dir_renamed, NULL, ops_made_again_dir_renamed, false)
SCN(swap_via_temp, NULL, ops_swap_via_temp, false)
SCN(rename_cycle, NULL, ops_rename_cycle, false)
SCN(name_changes_type, NULL, ops_name_changes_type, false)
SCN(exchange_dirs, NULL, ops_exchange_dirs, false)
SCN(links_across_dirs, NULL, ops_links_across_dirs, false)
SCN(link_unlink, NULL, ops_link_unlink, false)
SCN(dir_lifecycle, NULL, ops_dir_lifecycle, false)
SCN(tree_move, NULL, ops_tree_move, false)
SCN(data, NULL, ops_data, false)
SCN(cancelled_intent, NULL, ops_cancelled_intent, false)
SCN(punch_in_flight, NULL, ops_punch_in_flight, false)
SCN(attrs_times, NULL, ops_attrs_times, true)
SCN(xattrs, NULL, ops_xattrs, false)
SCN(owners, NULL, ops_owners, false)
SCN(symlink_fifo, NULL, ops_symlink_fifo, false)
SCN(chr_device, NULL, ops_chr_device, false)
SCN(inflight_rename_file, NULL, ops_inflight_rename_file, false)
SCN(inflight_rename_dir, NULL, ops_inflight_rename_dir, false)
SCN(inflight_rename_over, NULL, ops_inflight_rename_over, false)
SCN(inflight_unlink_linked, NULL, ops_inflight_unlink_linked, false)
SCN(old_objects, base_files, ops_on_old_objects, false)
SCN(truncate_old_file, base_files, ops_truncate_old_file, false)
SCN(replace_old_file, base_files, ops_replace_old_file, false)
SCN(rename_old_dir_inflight, base_files, ops_rename_old_dir_inflight, false)
SCN(rename_over_journaled_old_file, base_files, ops_rename_over_journaled_old_file, false)
KNOWN_BUG(inflight_exchange_with_old_file, base_files, ops_exchange_old_file, false)
KNOWN_BUG(inflight_rename_old_over_new, base_files, ops_rename_old_over_new, false)

/* ---- replay itself ------------------------------------------------------------ */

/* an empty journal changes nothing, and costs no walk */
static void
test_replay_empty_journal_changes_nothing(void)
{
	struct ft *t = ft();
	struct nvfs_fs_replay_report rep;

	ft_reset(t);
	t->nolog_from = 0;
	base_files(t);
	ft_log_end(t);
	ft_clear_stash(t);
	char *before = ft_capture(t);
	CU_ASSERT_EQUAL(ft_replay(t, &rep), 0);
	CU_ASSERT_EQUAL(rep.entries, 0);
	CU_ASSERT_EQUAL(rep.walked, 0);
	char *after = ft_capture(t);
	CU_ASSERT(ft_same("empty journal", before, after));
	free(before);
	free(after);
}

/* an invalid record: replay fails, names it, and leaves the journal as it is */
static void
test_replay_invalid_record_refused(void)
{
	struct ft *t = ft();
	struct nvfs_fs_replay_report rep;
	unsigned char hdr[NVFS_REC_HDR_BYTES] = { 0 };

	ft_reset(t);
	t->quiet = true;
	ft_begin(t);
	ft_create(t, "a", 0644);
	hdr[0] = 1;          /* id 1 */
	hdr[124] = 1;        /* reserved: R2 */
	CU_ASSERT(nvfs_journal_append(t->j, NVFS_REC_WRITE, hdr, sizeof(hdr)) > 0);
	ft_log_end(t);
	ft_wipe_source(t);
	CU_ASSERT_EQUAL(ft_replay(t, &rep), -EBADMSG);
	CU_ASSERT_PTR_NOT_NULL(strstr(nvfs_errmsg(), "R2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(nvfs_errmsg(), "entry 3")); /* MARK, create, it */
	/* still there: a replay finds the entries again */
	CU_ASSERT_EQUAL(ft_replay(t, &rep), -EBADMSG);
	CU_ASSERT_EQUAL(rep.entries, 2);
}

/* the journal may not use the orphanage's name at the top of SOURCE */
static void
test_replay_orphanage_name_refused(void)
{
	struct ft *t = ft();
	struct nvfs_fs_replay_report rep;

	ft_reset(t);
	t->quiet = true;
	ft_begin(t);
	ft_create(t, NVFS_FS_ORPHANAGE, 0644); /* the mount refuses to (EPERM) */
	ft_log_end(t);
	ft_wipe_source(t);
	CU_ASSERT_EQUAL(ft_replay(t, &rep), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(nvfs_errmsg(), NVFS_FS_ORPHANAGE));
	CU_ASSERT_EQUAL(ft_replay(t, &rep), -EINVAL); /* the journal is kept */
}

/* a .nvfs-replay that replay did not make is never taken (nor removed) */
static void
test_replay_foreign_orphanage_kept(void)
{
	struct ft *t = ft();
	struct nvfs_fs_replay_report rep;

	ft_reset(t);
	t->quiet = true;
	ft_begin(t);
	ft_create(t, "a", 0644);
	ft_write_str(t, "a", 0, "A");
	ft_rename(t, "a", "b", 0);
	ft_log_end(t);
	ft_undo_last(t, 1);
	/* someone's own directory of that name, and someone's own file */
	CU_ASSERT_FATAL(mkdirat(t->srcfd, NVFS_FS_ORPHANAGE, 0755) == 0);
	CU_ASSERT_FATAL(mknodat(t->srcfd, NVFS_FS_ORPHANAGE "/mine", S_IFREG | 0644, 0) == 0);
	char *before = ft_capture(t);
	CU_ASSERT_EQUAL(ft_replay(t, &rep), -EEXIST);
	CU_ASSERT_PTR_NOT_NULL(strstr(nvfs_errmsg(), "not made by nvfs"));
	char *after = ft_capture(t);
	CU_ASSERT(ft_same("foreign orphanage", before, after));
	free(before);
	free(after);
	/*
	 * a file of that name: kept, whether replay needs no orphanage (all
	 * applied) or needs one (a foreign file where the log leaves "a" empty)
	 */
	ft_wipe_source(t);
	CU_ASSERT_FATAL(mknodat(t->srcfd, NVFS_FS_ORPHANAGE, S_IFREG | 0644, 0) == 0);
	CU_ASSERT_FATAL(mknodat(t->srcfd, "a", S_IFREG | 0644, 0) == 0);
	CU_ASSERT_EQUAL(ft_replay(t, &rep), -EEXIST);
	CU_ASSERT_EQUAL(faccessat(t->srcfd, NVFS_FS_ORPHANAGE, F_OK, AT_SYMLINK_NOFOLLOW), 0);
	CU_ASSERT_EQUAL(faccessat(t->srcfd, "a", F_OK, AT_SYMLINK_NOFOLLOW), 0);
	/* with nothing in the way, replay may go on or refuse: the file stays */
	CU_ASSERT_FATAL(unlinkat(t->srcfd, "a", 0) == 0);
	int rc = ft_replay(t, &rep);
	CU_ASSERT(rc == 0 || rc == -EEXIST);
	CU_ASSERT_EQUAL(faccessat(t->srcfd, NVFS_FS_ORPHANAGE, F_OK, AT_SYMLINK_NOFOLLOW), 0);
	if (rc == 0)
		CU_ASSERT_EQUAL(faccessat(t->srcfd, "b", F_OK, AT_SYMLINK_NOFOLLOW), 0);
}

/*
 * a directory the journal needs, older than the journal and gone from
 * SOURCE (a journal written for another SOURCE): refused, journal kept
 */
static void
test_replay_missing_parent_refused(void)
{
	struct ft *t = ft();
	struct nvfs_fs_replay_report rep;
	static const struct scn s = { "missing parent", base_files, NULL, false };

	start(t, &s);
	t->quiet = true;
	ft_create(t, "old/new", 0644);
	ft_log_end(t);
	ft_wipe_source(t);
	ft_clear_stash(t);
	CU_ASSERT_EQUAL(ft_replay(t, &rep), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(nvfs_errmsg(), "not in SOURCE"));
	CU_ASSERT_EQUAL(ft_replay(t, &rep), -ENOENT);
	CU_ASSERT_EQUAL(rep.entries, 2); /* MARK, create */
}

/*
 * an object older than the journal that the journal names, gone from
 * SOURCE (an unlogged removal): counted as missing, not invented
 */
static void
test_replay_missing_old_object_counted(void)
{
	struct ft *t = ft();
	struct nvfs_fs_replay_report rep;
	static const struct scn s = { "missing object", base_files, NULL, false };

	start(t, &s);
	ft_link(t, "b", "c");
	ft_write_str(t, "c", 0, "new");
	ft_log_end(t);
	CU_ASSERT_FATAL(unlinkat(t->srcfd, "b", 0) == 0);
	CU_ASSERT_FATAL(unlinkat(t->srcfd, "c", 0) == 0);
	ft_clear_stash(t);
	CU_ASSERT_EQUAL(ft_replay(t, &rep), 0);
	if (rep.missing != 1)
		printf("\n  missing %llu, recreated %llu, entries %llu",
		       (unsigned long long)rep.missing, (unsigned long long)rep.recreated,
		       (unsigned long long)rep.entries);
	CU_ASSERT_EQUAL(rep.missing, 1);
	CU_ASSERT_EQUAL(rep.recreated, 0);
	CU_ASSERT_EQUAL(faccessat(t->srcfd, "c", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	CU_ASSERT_EQUAL(faccessat(t->srcfd, "b", F_OK, AT_SYMLINK_NOFOLLOW), -1);
}

/*
 * kill -- replay s's journal from state v in a child slowed by delay_us per
 * step, killed after kill_us (0: let it finish); true if the child finished
 */
static bool
killed_replay(struct ft *t, unsigned delay_us, unsigned kill_us)
{
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		char d[32];
		struct nvfs_fs_replay_report rep;
		struct nvfs_alloc *a;
		struct nvfs_journal *j;
		struct nvfs_journal_report r;
		snprintf(d, sizeof(d), "%u", delay_us);
		setenv("NVFS_TEST_REPLAY_DELAY_US", d, 1);
		if (nvfs_alloc_open(t->pmem, NULL, &a) || nvfs_journal_open(a, NULL, 0, &j) ||
		    nvfs_journal_replay(j, NULL, NULL, &r))
			_exit(2);
		_exit(nvfs_fs_replay(t->src, j, &rep) ? 1 : 0);
	}
	if (kill_us) {
		struct timespec ts = { kill_us / 1000000, (long)(kill_us % 1000000) * 1000 };
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
	}
	CU_ASSERT_FATAL(waitpid(pid, &status, 0) == pid);
	if (WIFEXITED(status))
		CU_ASSERT_EQUAL(WEXITSTATUS(status), 0);
	return WIFEXITED(status);
}

static void
test_replay_killed_and_run_again(void)
{
	static const struct scn scns[] = {
		{ "create_rename_create", NULL, ops_create_rename_create, false },
		{ "exchange_file_dir", NULL, ops_exchange_file_dir, false },
		{ "tree_move", NULL, ops_tree_move, false },
		{ "link_unlink", NULL, ops_link_unlink, false },
		{ "old_objects", base_files, ops_on_old_objects, false },
	};
	const unsigned delay = 2000;
	struct ft *t = ft();
	unsigned kills = 0, bad = 0;

	unsigned nscns = sizeof(scns) / sizeof(scns[0]);
	if (nvfs_test_scale_div() > 1)
		nscns = 2; /* under the sanitizers */
	for (unsigned i = 0; i < nscns; i++) {
		const struct scn *s = &scns[i];
		unsigned n = count_ops(t, s);
		for (unsigned state = 0; state < 2; state++) {
			/* state 0: nothing (or, with a base, every operation) lost; 1: half */
			for (unsigned kill_us = 1; kill_us < 200000; kill_us += delay * 3 / 2) {
				start(t, s);
				s->ops(t);
				ft_log_end(t);
				char *expect = strdup(t->snap[n]);
				if (state == 0 && !s->base)
					ft_wipe_source(t);
				else
					ft_undo_last(t, state == 0 ? n : n / 2);
				ft_clear_stash(t);
				bool finished = killed_replay(t, delay, kill_us);
				kills += !finished;
				/*
				 * then a mount replays the journal as the child left it:
				 * as it was, or checkpointed if the child got that far
				 */
				struct nvfs_fs_replay_report rep;
				char what[128];
				snprintf(what, sizeof(what), "%s, state %u, killed after %u us",
					 s->name, state, kill_us);
				int rc = ft_replay(t, &rep);
				char *got = ft_capture(t);
				if (rc != 0 || !ft_same(what, expect, got) || !ft_nlink_ok(t))
					bad++;
				free(got);
				free(expect);
				if (finished || bad)
					break;
			}
		}
	}
	printf("\n  %u replays killed part way, %u wrong after the next", kills, bad);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(kills > 0);
}

NVFS_SUITE(fs_replay, "fs/replay", NULL, suite_cleanup,
	   NVFS_TEST(test_replay_create_rename_create),
	   NVFS_TEST(test_replay_rename_over_file),
	   NVFS_TEST(test_replay_rename_over_linked_file),
	   NVFS_TEST(test_replay_rename_over_dir),
	   NVFS_TEST(test_replay_exchange_files),
	   NVFS_TEST(test_replay_exchange_file_dir),
	   NVFS_TEST(test_replay_exchange_across_dirs),
	   NVFS_TEST(test_replay_noreplace),
	   NVFS_TEST(test_replay_made_again_dir_renamed),
	   NVFS_TEST(test_replay_swap_via_temp),
	   NVFS_TEST(test_replay_rename_cycle),
	   NVFS_TEST(test_replay_name_changes_type),
	   NVFS_TEST(test_replay_exchange_dirs),
	   NVFS_TEST(test_replay_links_across_dirs),
	   NVFS_TEST(test_replay_link_unlink),
	   NVFS_TEST(test_replay_dir_lifecycle),
	   NVFS_TEST(test_replay_tree_move),
	   NVFS_TEST(test_replay_data),
	   NVFS_TEST(test_replay_cancelled_intent),
	   NVFS_TEST(test_replay_punch_in_flight),
	   NVFS_TEST(test_replay_attrs_times),
	   NVFS_TEST(test_replay_xattrs),
	   NVFS_TEST(test_replay_owners),
	   NVFS_TEST(test_replay_symlink_fifo),
	   NVFS_TEST(test_replay_chr_device),
	   NVFS_TEST(test_replay_inflight_rename_file),
	   NVFS_TEST(test_replay_inflight_rename_dir),
	   NVFS_TEST(test_replay_inflight_rename_over),
	   NVFS_TEST(test_replay_inflight_unlink_linked),
	   NVFS_TEST(test_replay_old_objects),
	   NVFS_TEST(test_replay_truncate_old_file),
	   NVFS_TEST(test_replay_replace_old_file),
	   NVFS_TEST(test_replay_rename_over_journaled_old_file),
	   NVFS_TEST(test_replay_rename_old_dir_inflight),
	   NVFS_TEST(test_replay_inflight_exchange_with_old_file),
	   NVFS_TEST(test_replay_inflight_rename_old_over_new),
	   NVFS_TEST(test_replay_empty_journal_changes_nothing),
	   NVFS_TEST(test_replay_invalid_record_refused),
	   NVFS_TEST(test_replay_orphanage_name_refused),
	   NVFS_TEST(test_replay_foreign_orphanage_kept),
	   NVFS_TEST(test_replay_missing_parent_refused),
	   NVFS_TEST(test_replay_missing_old_object_counted),
	   NVFS_TEST(test_replay_killed_and_run_again))
