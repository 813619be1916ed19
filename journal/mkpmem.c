/* SPDX-License-Identifier: MIT */
/*
 * mkpmem.c -- create, size and format a pmem file or device (see
 * nvfs_mkpmem.h).  Nothing is written before every check has passed: the
 * size and label are checked first, then the type, then the content, and
 * only then is an existing file resized and formatted.
 */
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "nvfs_err.h"
#include "nvfs_alloc.h"
#include "nvfs_journal.h"
#include "nvfs_mkpmem.h"
#include "nvfs_ns.h"

struct mk {
	const char *path;
	const struct nvfs_mkpmem_opts *o;
	struct nvfs_pmem *pm;
	bool is_reg;            /* a regular file (else a character device) */
	bool created;           /* this call created path */
	bool sized;             /* this call sized an existing empty file */
	uint64_t journal_bytes; /* fit_journal's choice */
	dev_t dev;              /* identity of the created or sized file */
	ino_t ino;
	uint64_t ns_bytes;      /* namespace size to format */
};

/* too_small -- the error for a namespace below the minimum */
static int
too_small(const char *path, uint64_t bytes)
{
	return nvfs_err_set(EINVAL, "%s: %llu bytes is too small: nvfs needs at "
			    "least %u bytes (%u MiB)", path, (unsigned long long)bytes,
			    NVFS_MIN_NS_BYTES, NVFS_MIN_NS_BYTES >> 20);
}

/* warn -- pass a one-line warning to the caller */
static void
warn(const struct mk *m, const char *msg)
{
	if (m->o->warn)
		m->o->warn(m->o->arg, msg);
}

/*
 * resize -- make the open regular file exactly new_bytes long with all of
 * its blocks reserved.  If the file system cannot reserve (EOPNOTSUPP), the
 * file is only truncated to size, with a warning.  On failure the size is
 * set back to old_bytes.
 */
static int
resize(const struct mk *m, int fd, uint64_t old_bytes, uint64_t new_bytes)
{
	char msg[512];
	int err = 0;

	if (new_bytes < old_bytes && ftruncate(fd, (off_t)new_bytes) < 0)
		return nvfs_err_set(errno, "%s: cannot shrink to %llu bytes: %s", m->path,
				    (unsigned long long)new_bytes, strerror(errno));
	err = posix_fallocate(fd, 0, (off_t)new_bytes);
	if (err == EOPNOTSUPP || err == ENOSYS) {
		err = ftruncate(fd, (off_t)new_bytes) < 0 ? errno : 0;
		snprintf(msg, sizeof(msg), "%s: the file system cannot reserve space "
			 "(posix_fallocate), so the file is sparse: if the disk fills "
			 "up, a store to the pmem raises SIGBUS", m->path);
		if (!err)
			warn(m, msg);
	}
	if (!err)
		return 0;
	if (new_bytes > old_bytes && ftruncate(fd, (off_t)old_bytes) < 0)
		snprintf(msg, sizeof(msg), "; the file is left at its new size");
	else
		msg[0] = '\0';
	return nvfs_err_set(err, "%s: cannot size to %llu bytes: %s%s", m->path,
			    (unsigned long long)new_bytes, strerror(err), msg);
}

/* sync_dir -- make the directory entry of a created file durable */
static void
sync_dir(const char *path)
{
	char buf[4096];
	int fd;

	snprintf(buf, sizeof(buf), "%s", path);
	fd = open(dirname(buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/*
 * lock_and_size -- take the use lock on fd, as nvfs_pmem_open would, and
 * size the file; for a file that cannot be mapped yet (new or empty).
 */
static int
lock_and_size(struct mk *m, int fd, uint64_t old_bytes)
{
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			return nvfs_err_set(EBUSY, "%s: pmem is in use by another "
					    "process (a mounted nvfs, mkfs or fsck)",
					    m->path);
		return nvfs_err_set(errno, "%s: cannot lock: %s", m->path,
				    strerror(errno));
	}
	return resize(m, fd, old_bytes, m->o->size);
}

/* create_file -- create path (exclusively) and size it */
static int
create_file(struct mk *m)
{
	struct stat st;
	int fd, rc;

	fd = open(m->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return nvfs_err_set(errno, "%s: cannot create: %s", m->path,
				    strerror(errno));
	if (fstat(fd, &st) < 0) {
		rc = nvfs_err_set(errno, "%s: cannot stat: %s", m->path, strerror(errno));
		close(fd);
		(void)unlink(m->path); /* just made by O_EXCL, still empty */
		return rc;
	}
	m->created = true;
	m->dev = st.st_dev;
	m->ino = st.st_ino;
	m->is_reg = true;
	rc = lock_and_size(m, fd, 0);
	close(fd);
	if (!rc)
		sync_dir(m->path);
	return rc;
}

/*
 * not_devdax -- true if the character device st is known not to be a
 * device-DAX (its sysfs subsystem is not "dax"), for a clearer message than
 * libpmem2's.  Unknown (no sysfs) counts as "maybe", left to libpmem2.
 */
static bool
not_devdax(const struct stat *st)
{
	char link[128], target[256];
	ssize_t n;

	snprintf(link, sizeof(link), "/sys/dev/char/%u:%u/subsystem",
		 major(st->st_rdev), minor(st->st_rdev));
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	const char *base = strrchr(target, '/');
	return strcmp(base ? base + 1 : target, "dax") != 0;
}

/* check_existing -- file type and size of an existing path */
static int
check_existing(struct mk *m, const struct stat *st)
{
	int fd, rc;

	if (S_ISCHR(st->st_mode) && not_devdax(st))
		return nvfs_err_set(EINVAL, "%s: a character device that is not a "
				    "device-DAX", m->path);
	if (S_ISCHR(st->st_mode))
		return 0; /* the size is known once mapped */
	if (S_ISDIR(st->st_mode))
		return nvfs_err_set(EINVAL, "%s: is a directory", m->path);
	if (!S_ISREG(st->st_mode))
		return nvfs_err_set(EINVAL, "%s: not a regular file or a device-DAX "
				    "character device", m->path);
	m->is_reg = true;
	if (!m->o->size && (uint64_t)st->st_size < NVFS_MIN_NS_BYTES)
		return too_small(m->path, (uint64_t)st->st_size);
	if (st->st_size > 0)
		return 0;
	/* An empty file cannot be mapped: it holds nothing, so size it now. */
	fd = open(m->path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return nvfs_err_set(errno, "%s: cannot open: %s", m->path,
				    strerror(errno));
	rc = lock_and_size(m, fd, 0);
	close(fd);
	m->sized = rc == 0;
	m->dev = st->st_dev;
	m->ino = st->st_ino;
	return rc;
}

/* existing_ns -- the -EEXIST error naming the namespace already there */
static int
existing_ns(const struct mk *m)
{
	struct nvfs_pm_sb sb;
	char uuid[37], label[NVFS_LABEL_BYTES];

	memcpy(&sb, m->pm->base + NVFS_SB_OFF, sizeof(sb));
	if (sb.magic != NVFS_SB_MAGIC)
		memcpy(&sb, m->pm->base + NVFS_SB_BACKUP_OFF, sizeof(sb));
	nvfs_ns_uuid_str(sb.ns_uuid, uuid);
	for (size_t i = 0; i < sizeof(label); i++) {
		char c = (char)sb.label[i];
		label[i] = (c && (c < ' ' || c > '~')) ? '?' : c;
	}
	label[sizeof(label) - 1] = '\0';
	return nvfs_err_set(EEXIST, "%s: already holds an nvfs namespace (uuid %s, "
			    "label '%s')", m->path, uuid, label);
}

/* check_content -- refuse to overwrite data unless forced */
static int
check_content(const struct mk *m)
{
	if (m->o->force)
		return 0;
	switch (nvfs_ns_probe(m->pm->base, m->pm->size)) {
	case NVFS_NS_ZERO:
		return 0;
	case NVFS_NS_NVFS:
		return existing_ns(m);
	default:
		return nvfs_err_set(ENOTEMPTY, "%s: holds non-zero data that is not an "
				    "nvfs namespace (another file system?)", m->path);
	}
}

/*
 * fit_size -- choose the namespace size: a device's -s must fit it; a
 * regular file is resized to -s (through the locked fd, then remapped).
 */
static int
fit_size(struct mk *m)
{
	uint64_t have = m->pm->size;
	int rc;

	if (!m->is_reg) {
		if (m->o->size > have)
			return nvfs_err_set(EINVAL, "%s: size %llu is larger than the "
					    "device (%llu bytes)", m->path,
					    (unsigned long long)m->o->size,
					    (unsigned long long)have);
		m->ns_bytes = m->o->size ? m->o->size : have;
		return m->ns_bytes < NVFS_MIN_NS_BYTES ? too_small(m->path, m->ns_bytes) : 0;
	}
	if (m->o->size && m->o->size != have) {
		rc = resize(m, m->pm->fd, have, m->o->size);
		nvfs_pmem_close(&m->pm);
		if (rc)
			return rc;
		rc = nvfs_pmem_open(m->path, 0, &m->pm);
		if (rc)
			return rc;
	}
	m->ns_bytes = m->pm->size;
	return m->ns_bytes < NVFS_MIN_NS_BYTES ? too_small(m->path, m->ns_bytes) : 0;
}

/* fit_journal -- the journal's size, checked before anything is written */
static int
fit_journal(struct mk *m)
{
	m->journal_bytes = m->o->journal_bytes;
	if (m->o->no_journal)
		return 0;
	int rc = nvfs_journal_fit(m->ns_bytes & ~(uint64_t)(NVFS_PAGE_BYTES - 1),
				  &m->journal_bytes);
	return rc ? nvfs_err_prefix(-rc, "%s", m->path) : 0;
}

/* make_journal -- create the journal; the allocator takes over the mapping */
static int
make_journal(struct mk *m, struct nvfs_mkpmem_info *info)
{
	struct nvfs_alloc *a;
	int rc;

	if (m->o->no_journal)
		return 0;
	rc = nvfs_alloc_open_pmem(m->pm, NULL, &a);
	m->pm = NULL;
	if (rc)
		return rc;
	rc = nvfs_journal_create(a, m->journal_bytes);
	nvfs_alloc_close(&a);
	if (rc)
		return nvfs_err_prefix(-rc, "%s: cannot create the journal", m->path);
	if (info)
		info->journal_bytes = m->journal_bytes;
	return 0;
}

/* format -- write the namespace and describe it */
static int
format(const struct mk *m, struct nvfs_mkpmem_info *info)
{
	uint8_t uuid[NVFS_UUID_BYTES];
	int rc;

	rc = nvfs_ns_uuid_generate(uuid);
	if (!rc)
		rc = nvfs_ns_format(m->pm, m->ns_bytes, uuid, m->o->label);
	if (rc)
		return nvfs_err_prefix(-rc, "%s: cannot format", m->path);
	/* The pmem stores are persisted; make the file's size durable too. */
	if (m->is_reg && fsync(m->pm->fd) < 0)
		return nvfs_err_set(errno, "%s: fsync: %s", m->path, strerror(errno));
	if (info) {
		memset(info, 0, sizeof(*info));
		memcpy(info->uuid, uuid, NVFS_UUID_BYTES);
		info->ns_bytes = m->ns_bytes & ~(uint64_t)(NVFS_PAGE_BYTES - 1);
		info->pages_total = (info->ns_bytes - NVFS_PAGES_OFF) / NVFS_PAGE_BYTES;
		info->gran = m->pm->gran;
		info->created = m->created;
	}
	return 0;
}

/*
 * undo -- after a failure, remove the file this call created, or empty
 * again the empty file it sized, if path is still that file.
 */
static void
undo(const struct mk *m)
{
	struct stat st;
	char msg[512];

	if (lstat(m->path, &st) < 0 || st.st_dev != m->dev || st.st_ino != m->ino)
		return;
	if (m->created ? unlink(m->path) == 0 : truncate(m->path, 0) == 0)
		return;
	snprintf(msg, sizeof(msg), "%s: cannot undo this failed attempt (%s the "
		 "file): %s", m->path, m->created ? "remove" : "empty",
		 strerror(errno));
	warn(m, msg);
}

/* nvfs_mkpmem -- make path an empty nvfs namespace */
int
nvfs_mkpmem(const char *path, const struct nvfs_mkpmem_opts *o,
	    struct nvfs_mkpmem_info *info)
{
	struct mk m = { .path = path, .o = o };
	struct stat st;
	int rc;

	if (o->label && strlen(o->label) >= NVFS_LABEL_BYTES)
		return nvfs_err_set(EINVAL, "label '%s' is longer than %u bytes",
				    o->label, NVFS_LABEL_BYTES - 1);
	if (o->size && o->size < NVFS_MIN_NS_BYTES)
		return too_small(path, o->size);
	if (o->size > (uint64_t)INT64_MAX)
		return nvfs_err_set(EFBIG, "%s: %llu bytes is too large for a file",
				    path, (unsigned long long)o->size);
	if (stat(path, &st) == 0)
		rc = check_existing(&m, &st);
	else if (errno != ENOENT)
		rc = nvfs_err_set(errno, "%s: cannot stat: %s", path, strerror(errno));
	else if (!o->size)
		rc = nvfs_err_set(ENOENT, "%s: does not exist", path);
	else
		rc = create_file(&m);
	if (!rc)
		rc = nvfs_pmem_open(path, 0, &m.pm);
	if (!rc && !m.created)
		rc = check_content(&m);
	if (!rc)
		rc = fit_size(&m);
	if (!rc)
		rc = fit_journal(&m);
	if (!rc)
		rc = format(&m, info);
	if (!rc)
		rc = make_journal(&m, info);
	nvfs_pmem_close(&m.pm);
	/* -EBUSY: someone else opened the file meanwhile; it is theirs now. */
	if (rc && (m.created || m.sized) && rc != -EBUSY)
		undo(&m);
	return rc;
}
