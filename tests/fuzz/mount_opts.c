/* SPDX-License-Identifier: MIT */
/*
 * mount_opts.c -- libFuzzer target: the MOUNT-OPTION PARSER of mount.nvfs
 * (mount/opts.c: mnt_parse_opts, then mnt_fuse_opts_finish as the mount
 * calls it once the mount is decided).
 *
 * INPUT
 *   byte 0: flags -- 0x01 -s (sloppy), 0x02 -v (verbose), 0x04 the mount
 *   ends up read-only (as when the pmem has an unknown ro_compat feature)
 *   then up to 64 -o lists separated by '\n' (a NUL ends a list early: an
 *   argv string cannot hold one), each parsed in turn as mount.nvfs does
 *   with its -o arguments, until one is refused.
 *
 * PROPERTIES CHECKED (besides no crash, no ASan/UBSan report, no exit)
 *   - every list is accepted (0) or refused with a message (-EINVAL or
 *     -ENOMEM and a non-empty one-line message);
 *   - fuse_opts, a fixed 4096-byte buffer, always holds a NUL-terminated
 *     string, and after a successful parse it holds only the kernel options
 *     handed to libfuse as they are (no empty item, no backslash);
 *   - every parsed value is within the bounds the mount relies on
 *     (threads, checkpoint_secs, timeout, pmem path, pmem_size) and
 *     fsname= / subtype= are readable after the list they came from is
 *     freed (they are copies);
 *   - after mnt_fuse_opts_finish: the items are kernel options, "ro",
 *     "subtype=NAME" and last "fsname=NAME" whose escapes (backslash before
 *     ',' and '\') undo to the name given, unless it was cut.
 */
#include "fuzz.h"
#include "nvfs_err.h"
#include "nvfs_tool.h"
#include "../../mount/opts.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const kernel_opts[] = {
	"allow_other", "auto_unmount", "rw", "suid", "nosuid", "dev", "nodev",
	"exec", "noexec", "async", "sync", "dirsync", "atime", "noatime", NULL,
};

static bool
is_kernel_opt(const char *s, size_t n)
{
	for (const char *const *k = kernel_opts; *k; k++)
		if (strlen(*k) == n && memcmp(*k, s, n) == 0)
			return true;
	return false;
}

/* opts_invariants -- what holds of *m after every call */
static void
opts_invariants(const struct mnt *m)
{
	CHECK(memchr(m->fuse_opts, 0, sizeof(m->fuse_opts)) != NULL);
	CHECK(memchr(m->pmem, 0, sizeof(m->pmem)) != NULL);
	CHECK(m->pmem_given == (m->pmem[0] != 0));
	CHECK(m->threads <= NVFS_FS_MAX_THREADS);
	CHECK(m->checkpoint_ms == 0 || (m->checkpoint_ms >= 1000 &&
					m->checkpoint_ms <= 3600 * 1000));
	CHECK(m->timeout == -1 || (m->timeout >= 0 && m->timeout <= 3600));
	/* read them: a dangling pointer into the freed list is an ASan report */
	CHECK(!m->fsname || strlen(m->fsname) > 0);
	CHECK(!m->subtype || strlen(m->subtype) > 0);
}

/* parsed_fuse_opts -- after parsing only: kernel options, comma-separated */
static void
parsed_fuse_opts(const struct mnt *m)
{
	const char *s = m->fuse_opts;

	if (!*s)
		return;
	for (;;) {
		const char *c = strchr(s, ',');
		size_t n = c ? (size_t)(c - s) : strlen(s);
		CHECK(is_kernel_opt(s, n));
		if (!c)
			break;
		s = c + 1;
	}
}

/*
 * finished_fuse_opts -- after mnt_fuse_opts_finish: items split at the
 * commas that are not escaped; see the header
 */
static void
finished_fuse_opts(const struct mnt *m, const char *default_fsname)
{
	const char *s = m->fuse_opts;

	for (;;) {
		const char *e = s;
		while (*e && *e != ',')
			e += (*e == '\\' && e[1]) ? 2 : 1;
		size_t n = (size_t)(e - s);
		if (!*e) {
			/* the last item: fsname=, its escapes undone give the name
			 * (or a prefix of it, if it was cut) */
			const char *want = m->fsname ? m->fsname : default_fsname;
			size_t k = 0;
			CHECK(n > 7 && !memcmp(s, "fsname=", 7));
			for (const char *p = s + 7; *p; p++) {
				if (*p == '\\') {
					p++;
					CHECK(*p == ',' || *p == '\\');
				}
				CHECK(want[k] == *p);
				k++;
			}
			CHECK(k == strlen(want) || k >= PATH_MAX);
			return;
		}
		CHECK(is_kernel_opt(s, n) || (n == 2 && !memcmp(s, "ro", 2)) ||
		      (n > 8 && !memcmp(s, "subtype=", 8) && !memchr(s, '\\', n)));
		s = e + 1;
	}
}

static void
mkcorpus(const char *dir)
{
	static const struct { uint8_t flags; const char *lists; } seeds[] = {
		{ 0, "pmem=/var/lib/nvfs/x.pmem" },
		{ 0, "pmem=/tmp/p.pmem,pmem_size=64M,durability=op,checkpoint_secs=5" },
		{ 0, "durability=fsync,threads=16,timeout=0.5,allow_other,nosuid,nodev" },
		{ 0, "ro,fsname=my,src\\x,subtype=nvfs2,default_permissions" },
		{ 0, "no_default_permissions,debug,writeback_cache,keep_cache,shared_locks" },
		{ 0, "_netdev,noauto,auto,nofail,defaults,user,users,nouser,x-systemd.foo" },
		{ 1, "bogus,size=1,,," },
		{ 3, "bogus\nrw,exec,sync,dirsync,atime,noatime,async,dev,suid,noexec" },
		{ 4, "pmem_size=25174016\npmem_size=1G\nfsname=a\nfsname=b" },
		{ 0, "pmem=\npmem_size=12Q\ndurability=always\ncheckpoint_secs=0" },
		{ 0, "threads=257,timeout=3601,timeout=-1,threads=+1,fsname=,subtype=" },
		{ 0, "subtype=a\\b" },
		{ 0, "auto_unmount,rw,rw,rw,rw,rw,rw,rw,rw,rw,rw,rw,rw,rw,rw,rw,rw,rw,rw" },
	};
	char name[32];

	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		uint8_t buf[256];
		size_t n = strlen(seeds[i].lists);
		buf[0] = seeds[i].flags;
		memcpy(buf + 1, seeds[i].lists, n);
		snprintf(name, sizeof(name), "seed-%02zu", i);
		fz_seed_write(dir, name, buf, n + 1);
	}
	/* a list that fills fuse_opts (4096 bytes) to the brim and past it */
	char big[5000];
	size_t n = 0;
	big[n++] = 0;
	while (n + 8 < sizeof(big)) {
		memcpy(big + n, "noatime,", 8);
		n += 8;
	}
	fz_seed_write(dir, "seed-full", big, n);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc; (void)argv;
	nvfs_tool_init("mount.nvfs", "usage: mount.nvfs SOURCE MOUNTPOINT", 1);
	/* -v prints "ignoring unknown option" lines on stdout */
	if (!freopen("/dev/null", "w", stdout))
		exit(2);
	if (fz_mkcorpus_dir()) {
		mkcorpus(fz_mkcorpus_dir());
		exit(0);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mnt m;
	const char *default_fsname = "/fuzz/src,with\\escapes";
	uint8_t flags;

	if (size < 1)
		return 0;
	flags = data[0];
	memset(&m, 0, sizeof(m));
	m.pmem_size = DEFAULT_PMEM_SIZE;
	m.timeout = -1;
	m.sloppy = flags & 1;
	m.verbose = flags & 2;

	const uint8_t *p = data + 1, *end = data + size;
	int rc = 0;
	for (unsigned lists = 0; p <= end && lists < 64 && rc == 0; lists++) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *list = strndup((const char *)p, n);
		char *err = (char *)1;
		CHECK(list != NULL);
		rc = mnt_parse_opts(&m, list, &err);
		free(list);
		CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
		if (rc == 0) {
			CHECK(err == NULL);
		} else {
			CHECK(err != NULL || rc == -ENOMEM);
			CHECK(!err || (err[0] && !strchr(err, '\n')));
		}
		free(err);
		opts_invariants(&m);
		if (rc == 0)
			parsed_fuse_opts(&m);
		if (!nl)
			break;
		p = nl + 1;
	}
	if (rc == 0) {
		char *err = (char *)1;
		if (m.pmem_size_given)
			CHECK(m.pmem_size >= MIN_PMEM_SIZE);
		m.ro |= (flags & 4) != 0;
		rc = mnt_fuse_opts_finish(&m, default_fsname, &err);
		CHECK(rc == 0 || rc == -EINVAL);
		CHECK(rc == 0 ? err == NULL : (err && err[0]));
		free(err);
		opts_invariants(&m);
		if (rc == 0)
			finished_fuse_opts(&m, default_fsname);
	}
	mnt_opts_free(&m);
	return 0;
}
