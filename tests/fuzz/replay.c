/* SPDX-License-Identifier: MIT */
/*
 * replay.c -- libFuzzer target: the file system's REPLAY of journal
 * records into SOURCE (fs/replay.c, nvfs_fs_replay), i.e. what replay does
 * with the fields of records the decoder accepted.
 *
 * WHAT IS FUZZED
 *   A list of records is appended to a real journal (in an in-memory
 *   namespace, as the journal target has it) with nvfs_journal_appendv,
 *   then nvfs_fs_replay applies it to a SOURCE directory: both passes
 *   (names: places, orphanage, recreated objects; data: write, setattr,
 *   fallocate, xattrs, cancelled intents), the walk of SOURCE, syncfs and
 *   the checkpoint.  The set and entry parsing itself is the journal
 *   target's; here every entry is well formed and the records are what
 *   varies.
 *
 * ISOLATION
 *   SOURCE is a 16 MiB tmpfs mounted in a private mount namespace (root, or
 *   a user namespace), under build/fuzz; every other mount is made
 *   read-only in that namespace except build/fuzz (libFuzzer's corpus and
 *   crash files): whatever a record says, and whatever a bug in replay
 *   does, nothing outside this process's tmpfs can change, and its size
 *   bounds what fallocate and writes can take.  Without a private
 *   namespace the target refuses to run (exit 1, one line).
 *
 * INPUT
 *   byte 0: flags -- 0x01 SOURCE holds a file "file" (8 KiB) and a
 *   directory "dir" before replay (objects replay may find, move, keep).
 *   then records: [u8 type - 0x4600][u16 length][payload], at most 64.
 *   An identity (ino, btime) in the payload header that reads (1, 0), (2, 0)
 *   or (3, 0) is replaced by that of SOURCE's root, "file" or "dir": the
 *   fuzzer cannot guess birth times.
 *
 * PROPERTIES CHECKED (besides no crash, no ASan/UBSan report)
 *   - replay returns 0 or a negative errno with a one-line message;
 *   - after a replay that returned 0 the journal is empty: a second replay
 *     applies nothing;
 *   - the report's counters are consistent (entries == appended records
 *     when replay succeeded and the journal was not empty).
 */
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <fuse_log.h>

#include "fuzz.h"
#include "nvfs_alloc.h"
#include "nvfs_csum.h"
#include "nvfs_err.h"
#include "nvfs_fs.h"
#include "nvfs_journal.h"
#include "nvfs_ns.h"
#include "rec_check.h"
#include "../../journal/journal_int.h"

#define F_STRANGERS 0x01
#define MAX_RECS    64
#define IMG_BYTES   (NVFS_PAGES_OFF + 3 * NVFS_JOURNAL_BUCKET_BYTES)

static const uint8_t ns_uuid[NVFS_UUID_BYTES] = {
	0x6e, 0x76, 0x66, 0x73, 0x2d, 0x66, 0x75, 0x7a,
	0x7a, 0x2d, 0x72, 0x70, 0x00, 0x00, 0x00, 0x01 };

static uint8_t *img;
static struct nvfs_alloc *alloc;
static uint64_t bucket_off[2], hdr_off;
static uint8_t hdr_page[NVFS_PAGE_BYTES];
static char mnt[PATH_MAX], src[PATH_MAX + 8];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
die(const char *what)
{
	fprintf(stderr, "fuzz replay: %s: %s\n", what, errno ? strerror(errno) : nvfs_errmsg());
	exit(1);
}

static void
quiet_log(enum fuse_log_level level, const char *fmt, va_list ap)
{
	(void)level; (void)fmt; (void)ap;
}

/* ---- the private namespace ---------------------------------------------------- */

static void
unmount_src(void)
{
	if (mnt[0]) {
		umount2(mnt, MNT_DETACH);
		rmdir(mnt);
	}
}

/* write_file -- for the uid maps of a user namespace */
static int
write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/*
 * isolate -- a private mount namespace where everything but keep (the
 * fuzzer's own directory) is read-only, and a tmpfs at mnt under keep
 */
static void
isolate(const char *keep)
{
	uid_t uid = getuid();
	gid_t gid = getgid();

	if (unshare(CLONE_NEWNS) != 0) {
		char map[64];
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
			die("no private mount namespace (needs root or user namespaces)");
		write_file("/proc/self/setgroups", "deny");
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
		if (write_file("/proc/self/uid_map", map))
			die("uid_map");
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
		if (write_file("/proc/self/gid_map", map))
			die("gid_map");
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		die("make / private");
	/* keep stays writable: a mount of its own, skipped below */
	if (mount(keep, keep, NULL, MS_BIND | MS_REC, NULL))
		die("bind build/fuzz");
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[4096];
	if (!f)
		die("mountinfo");
	while (fgets(line, sizeof(line), f)) {
		char mp[PATH_MAX];
		unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
			continue;
		size_t k = strlen(keep);
		if (!strncmp(mp, keep, k) && (mp[k] == '\0' || mp[k] == '/'))
			continue;
		if (!strncmp(mp, "/proc", 5) || !strncmp(mp, "/sys", 4) ||
		    !strncmp(mp, "/dev", 4))
			continue;
		/* keep the flags a user namespace may not drop */
		if (strstr(line, " nosuid") || strstr(line, ",nosuid"))
			flags |= MS_NOSUID;
		if (strstr(line, " nodev") || strstr(line, ",nodev"))
			flags |= MS_NODEV;
		if (strstr(line, " noexec") || strstr(line, ",noexec"))
			flags |= MS_NOEXEC;
		(void)mount(NULL, mp, NULL, flags, NULL); /* best effort per mount */
	}
	fclose(f);
	/* the root itself must have become read-only, or we do not run */
	if (access("/", W_OK) == 0 && mkdir("/.nvfs-fuzz-probe", 0700) == 0) {
		rmdir("/.nvfs-fuzz-probe");
		die("/ is still writable in the private namespace");
	}
	snprintf(mnt, sizeof(mnt), "%s/replay-src-%d", keep, (int)getpid());
	if (mkdir(mnt, 0700) && errno != EEXIST)
		die("mkdir");
	if (mount("nvfs-fuzz", mnt, "tmpfs", MS_NOSUID, "size=16m,nr_inodes=4096,mode=0755"))
		die("mount tmpfs");
	atexit(unmount_src);
	snprintf(src, sizeof(src), "%s/src", mnt);
}

/* ---- SOURCE and journal, reset for every run ------------------------------------ */

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag;
	if (ftw->level > 0)
		remove(path);
	return 0;
}

static struct nvfs_rec_id
id_of(const char *path)
{
	struct statx stx;
	if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_INO | STATX_BTIME, &stx))
		die(path);
	return (struct nvfs_rec_id){ stx.stx_ino, (stx.stx_mask & STATX_BTIME) ?
		(uint64_t)stx.stx_btime.tv_sec * 1000000000u + stx.stx_btime.tv_nsec : 0 };
}

static void
journal_setup(void)
{
	struct nvfs_journal *j = NULL;

	img = fz_map(IMG_BYTES);
	struct nvfs_pmem *pm = fz_pmem(img, IMG_BYTES, false);
	if (nvfs_ns_format(pm, IMG_BYTES, ns_uuid, "fuzz-replay"))
		die("format");
	nvfs_pmem_close(&pm);
	if (nvfs_alloc_open_pmem(fz_pmem(img, IMG_BYTES, false), NULL, &alloc) ||
	    nvfs_journal_create(alloc, 2 * NVFS_JOURNAL_BUCKET_BYTES) ||
	    nvfs_journal_open(alloc, NULL, 0, &j))
		die("journal");
	bucket_off[0] = j->bucket_off[0];
	bucket_off[1] = j->bucket_off[1];
	hdr_off = j->hdr_off;
	nvfs_journal_close(&j);
	memcpy(hdr_page, img + hdr_off, sizeof(hdr_page));
	memset(img + bucket_off[0], 0, NVFS_JOURNAL_BUCKET_BYTES);
	memset(img + bucket_off[1], 0, NVFS_JOURNAL_BUCKET_BYTES);
}

/* journal_reset -- the journal as created: empty ring, first tail copy */
static void
journal_reset(uint64_t head)
{
	for (unsigned b = 0; b < 2 && head; b++) {
		uint64_t n = head < NVFS_JOURNAL_BUCKET_BYTES ? head : NVFS_JOURNAL_BUCKET_BYTES;
		memset(img + bucket_off[b], 0, n);
		head -= n;
	}
	memcpy(img + hdr_off, hdr_page, sizeof(hdr_page));
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char self[PATH_MAX], keep[PATH_MAX];

	if (fz_mkcorpus_dir()) {
		void mkcorpus(const char *dir);
		mkcorpus(fz_mkcorpus_dir());
		exit(0);
	}
	if (!realpath((*argv)[0], self))
		die("realpath");
	snprintf(keep, sizeof(keep), "%s", dirname(self));
	(void)argc;
	isolate(keep);
	journal_setup();
	fuse_set_log_func(quiet_log);
	return 0;
}

/* the identity placeholders of the input: (1,0) root, (2,0) file, (3,0) dir */
static struct nvfs_rec_id ids[4];

static void
substitute(uint8_t *p, size_t len)
{
	for (size_t off = 0; off + 16 <= len && off < 64; off += 16) {
		uint64_t ino, stamp;
		memcpy(&ino, p + off, 8);
		memcpy(&stamp, p + off + 8, 8);
		if (stamp == 0 && ino >= 1 && ino <= 3) {
			memcpy(p + off, &ids[ino].ino, 8);
			memcpy(p + off + 8, &ids[ino].stamp, 8);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t payload[65536 + 8];
	struct fz_in in = { data, size };
	struct nvfs_journal *j;
	struct nvfs_journal_report jr;
	struct nvfs_journal_stats st;
	struct nvfs_fs_replay_report rep;
	uint8_t flags;
	unsigned nrecs = 0;

	if (!fz_take(&in, &flags, 1))
		return 0;
	/* SOURCE: empty, or with two strangers */
	nftw(mnt, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (mkdir(src, 0755))
		die("mkdir SOURCE");
	ids[1] = id_of(src);
	if (flags & F_STRANGERS) {
		char path[PATH_MAX + 16];
		snprintf(path, sizeof(path), "%s/file", src);
		int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		if (fd < 0 || ftruncate(fd, 8192))
			die("file");
		close(fd);
		ids[2] = id_of(path);
		snprintf(path, sizeof(path), "%s/dir", src);
		if (mkdir(path, 0755))
			die("dir");
		ids[3] = id_of(path);
	} else {
		ids[2] = (struct nvfs_rec_id){ 2, 0 };
		ids[3] = (struct nvfs_rec_id){ 3, 0 };
	}

	/* the records, appended as the file system does */
	if (nvfs_journal_open(alloc, NULL, 0, &j) || nvfs_journal_replay(j, NULL, NULL, &jr))
		die("journal open");
	while (nrecs < MAX_RECS) {
		uint8_t t;
		uint16_t len;
		if (!fz_take(&in, &t, 1) || !fz_take(&in, &len, 2))
			break;
		size_t n = len < in.left ? len : in.left;
		memcpy(payload, in.p, n);
		in.p += n;
		in.left -= n;
		substitute(payload, n);
		int64_t seq = nvfs_journal_append(j, 0x4600u + t, payload, n);
		CHECK(seq > 0);
		nrecs++;
	}
	CHECK(nvfs_journal_commit(j, 0) == 0);
	nvfs_journal_stats(j, &st);
	uint64_t head = st.head_lsn;
	nvfs_journal_close(&j);

	/* replay into SOURCE */
	if (nvfs_journal_open(alloc, NULL, 0, &j))
		die("journal reopen");
	int rc = nvfs_fs_replay(src, j, &rep);
	CHECK(rc <= 0);
	if (getenv("NVFS_FUZZ_DEBUG"))
		fprintf(stderr, "replay: %u records: rc %d (%s), %llu entries, %llu data, "
			"%llu recreated, %llu skipped\n", nrecs, rc, rc ? nvfs_errmsg() : "",
			(unsigned long long)rep.entries, (unsigned long long)rep.data_records,
			(unsigned long long)rep.recreated, (unsigned long long)rep.skipped);

	if (rc == 0) {
		CHECK(rep.entries == nrecs);
		CHECK(rep.data_records <= rep.entries && rep.skipped <= rep.entries);
		nvfs_journal_close(&j);
		/* the journal is empty now: a second replay applies nothing */
		if (nvfs_journal_open(alloc, NULL, 0, &j))
			die("journal reopen");
		CHECK(nvfs_fs_replay(src, j, &rep) == 0);
		CHECK(rep.entries == 0);
	} else {
		CHECK(nvfs_errmsg()[0] && !strchr(nvfs_errmsg(), '\n'));
	}
	nvfs_journal_close(&j);
	journal_reset(head);
	return 0;
}

/* ---- seeds ------------------------------------------------------------------------ */

struct seeder {
	struct fz_buf b;
};

/* emit -- a record into the seed, identities mapped to the placeholders */
static void
emit(void *arg, const struct nvfs_rec *r0)
{
	struct seeder *s = arg;
	struct nvfs_rec r = *r0;
	unsigned char hdr[NVFS_REC_HDR_BYTES];
	struct iovec iov[4];
	int iovcnt;

	/* fz_rec_seeds names the root (2, btime): the root's placeholder */
	struct nvfs_rec_id *idp[] = { &r.id, &r.parent, &r.parent2, &r.id2 };
	/* fz_rec_seeds ends with an rmdir of a directory it left files in:
	 * not a history replay can make (it says so); left out here */
	if (r.type == NVFS_REC_UNLINK && r.flags == NVFS_REC_RMDIR && r.id.ino == 13)
		return;
	for (int i = 0; i < 4; i++) {
		if (idp[i]->ino == 2 && idp[i]->stamp)
			*idp[i] = (struct nvfs_rec_id){ 1, 0 };
	}
	if (nvfs_rec_encode(&r, hdr, iov, &iovcnt))
		exit(2);
	uint8_t t = (uint8_t)(r.type - 0x4600);
	uint16_t len = 0;
	for (int i = 0; i < iovcnt; i++)
		len = (uint16_t)(len + iov[i].iov_len);
	fz_put(&s->b, &t, 1);
	fz_put(&s->b, &len, 2);
	for (int i = 0; i < iovcnt; i++)
		fz_put(&s->b, iov[i].iov_base, iov[i].iov_len);
}

void mkcorpus(const char *dir);

void
mkcorpus(const char *dir)
{
	struct seeder s = { { 0 } };
	uint8_t flags = 0;

	fz_put(&s.b, &flags, 1);
	fz_rec_seeds(emit, &s);
	fz_seed_write(dir, "records", s.b.p, s.b.len);
	s.b.p[0] = F_STRANGERS;
	fz_seed_write(dir, "records-strangers", s.b.p, s.b.len);
	free(s.b.p);

	/* the strangers renamed and written by the log */
	struct fz_buf b = { 0 };
	struct seeder s2 = { { 0 } };
	flags = F_STRANGERS;
	fz_put(&s2.b, &flags, 1);
	struct nvfs_rec r = { .type = NVFS_REC_RENAME, .id = { 2, 0 }, .parent = { 1, 0 },
			      .parent2 = { 3, 0 }, .nlink = 1, .name = "file",
			      .name2 = "moved" };
	emit(&s2, &r);
	r = (struct nvfs_rec){ .type = NVFS_REC_WRITE, .id = { 2, 0 }, .a = 100,
			       .data = "abc", .data_len = 3 };
	emit(&s2, &r);
	r = (struct nvfs_rec){ .type = NVFS_REC_FALLOCATE, .id = { 2, 0 }, .a = 0,
			       .b = 1 << 20, .flags = NVFS_REC_FALLOC_KEEP_SIZE };
	emit(&s2, &r);
	r = (struct nvfs_rec){ .type = NVFS_REC_SETATTR, .id = { 3, 0 },
			       .valid = NVFS_REC_SET_MODE | NVFS_REC_SET_MTIME, .mode = 0700,
			       .c = 1000000000ull };
	emit(&s2, &r);
	fz_seed_write(dir, "strangers-moved", s2.b.p, s2.b.len);
	free(s2.b.p);
	free(b.p);
}
