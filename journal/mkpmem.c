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
#include "nvfs_util.h"

struct mk {
	const char *path;
	const struct nvfs_mkpmem_opts *o;
	int lock_fd;            /* holds the use lock from open to the end */
	struct nvfs_pmem *pm;   /* mapped through a dup of lock_fd */
	bool is_reg;            /* a regular file (else a character device) */
	bool created;           /* this call created path */
	bool resized;           /* this call changed an existing file's size */
	uint64_t orig_bytes;    /* its size before */
	uint64_t journal_bytes; /* fit_journal's choice */
	dev_t dev;              /* identity of the file */
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

/* busy -- the error for a pmem someone else holds */
static int
busy(const char *path)
{
	return nvfs_err_set(EBUSY, "%s: pmem is in use by another process (a mounted "
			    "nvfs, mkfs or fsck)", path);
}

/*
 * open_locked -- open (or, with -s, create) path and take the use lock on
 * that descriptor; it is held until nvfs_mkpmem returns, so nobody can get
 * in between the checks, the sizing and the format.  Types are checked on
 * the path first: a FIFO or a device that is not a device-DAX is never
 * opened.
 */
static int
open_locked(struct mk *m)
{
	struct stat st, fst;
	int flags = O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	bool creating = false;

	if (stat(m->path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return nvfs_err_set(EINVAL, "%s: is a directory", m->path);
		if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
			return nvfs_err_set(EINVAL, "%s: not a regular file or a "
					    "device-DAX character device", m->path);
		if (S_ISCHR(st.st_mode)) {
			/* nvfs_pmem_open_fd checks device-DAX; do it before open. */
			struct nvfs_pmem *probe;
			int rc = nvfs_pmem_open(m->path, NVFS_PMEM_RDONLY, &probe);
			if (rc)
				return rc == -EBUSY ? busy(m->path) : rc;
			nvfs_pmem_close(&probe);
		}
		m->lock_fd = open(m->path, flags);
	} else if (errno != ENOENT) {
		return nvfs_err_set(errno, "%s: cannot stat: %s", m->path, strerror(errno));
	} else if (!m->o->size) {
		return nvfs_err_set(ENOENT, "%s: does not exist", m->path);
	} else {
		creating = true;
		m->lock_fd = open(m->path, flags | O_CREAT | O_EXCL, 0600);
		m->created = m->lock_fd >= 0;
	}
	if (m->lock_fd < 0)
		return nvfs_err_set(errno, "%s: cannot %s: %s", m->path,
				    creating ? "create" : "open", strerror(errno));
	if (fstat(m->lock_fd, &fst) < 0)
		return nvfs_err_set(errno, "%s: cannot stat: %s", m->path, strerror(errno));
	m->dev = fst.st_dev;
	m->ino = fst.st_ino;
	m->is_reg = S_ISREG(fst.st_mode);
	m->orig_bytes = m->is_reg ? (uint64_t)fst.st_size : 0;
	if (flock(m->lock_fd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? busy(m->path)
					    : nvfs_err_set(errno, "%s: cannot lock: %s",
							   m->path, strerror(errno));
	if (m->created)
		sync_dir(m->path);
	return 0;
}

/* existing_ns -- the -EEXIST error naming the namespace in sb */
static int
existing_ns(const struct mk *m, const struct nvfs_pm_sb *sb)
{
	char uuid[37], label[NVFS_LABEL_BYTES];

	nvfs_ns_uuid_str(sb->ns_uuid, uuid);
	nvfs_label_text(label, sb->label, sizeof(label) - 1);
	label[sizeof(label) - 1] = '\0';
	return nvfs_err_set(EEXIST, "%s: already holds an nvfs namespace (uuid %s, "
			    "label '%s')", m->path, uuid, label);
}

/* not_ours -- the -ENOTEMPTY error for other data at off */
static int
not_ours(const struct mk *m, uint64_t off)
{
	return nvfs_err_set(ENOTEMPTY, "%s: holds non-zero data that is not an nvfs "
			    "namespace (first at byte %llu; another file system?)",
			    m->path, (unsigned long long)off);
}

/*
 * first_data -- offset of the first non-zero byte of the regular file, or
 * -1 if it is all zero.  Only data extents are read (SEEK_DATA/SEEK_HOLE),
 * so a sparse or freshly reserved file is checked quickly.
 */
static int64_t
first_data(int fd, uint64_t size)
{
	static uint64_t buf[(1u << 20) / 8];
	uint64_t off = 0;

	while (off < size) {
		off_t d = lseek(fd, (off_t)off, SEEK_DATA);
		if (d < 0 && errno == ENXIO)
			return -1;
		if (d < 0)
			d = (off_t)off; /* no SEEK_DATA: read everything */
		off_t h = lseek(fd, d, SEEK_HOLE);
		if (h < 0 || (uint64_t)h > size)
			h = (off_t)size;
		for (uint64_t p = (uint64_t)d; p < (uint64_t)h;) {
			size_t want = (uint64_t)h - p < sizeof(buf) ? (size_t)((uint64_t)h - p)
								    : sizeof(buf);
			ssize_t n = pread(fd, buf, want, (off_t)p);
			if (n <= 0)
				return (int64_t)p; /* unreadable: treat as data */
			for (size_t i = 0; i < (size_t)n; i++)
				if (((uint8_t *)buf)[i])
					return (int64_t)(p + i);
			p += (uint64_t)n;
		}
		off = (uint64_t)h;
	}
	return -1;
}

/*
 * check_content -- refuse to overwrite an nvfs namespace or other data
 * unless forced.  An interrupted format (formatting magic) may be redone.
 * A regular file is checked whole; a device where file systems, partition
 * tables and nvfs keep their signatures (nvfs_ns_probe).
 */
static int
check_content(struct mk *m)
{
	struct nvfs_pm_sb sb[2];

	if (m->o->force || m->created)
		return 0;
	if (!m->is_reg) {
		switch (nvfs_ns_probe(m->pm->base, m->pm->size)) {
		case NVFS_NS_ZERO:
		case NVFS_NS_TORN:
			return 0;
		case NVFS_NS_NVFS:
			memcpy(&sb[0], m->pm->base + NVFS_SB_OFF, sizeof(sb[0]));
			memcpy(&sb[1], m->pm->base + NVFS_SB_BACKUP_OFF, sizeof(sb[1]));
			return existing_ns(m, sb[0].magic == NVFS_SB_MAGIC ? &sb[0] : &sb[1]);
		default:
			return not_ours(m, 0);
		}
	}
	memset(sb, 0, sizeof(sb));
	(void)!pread(m->lock_fd, &sb[0], sizeof(sb[0]), NVFS_SB_OFF);
	(void)!pread(m->lock_fd, &sb[1], sizeof(sb[1]), NVFS_SB_BACKUP_OFF);
	for (unsigned i = 0; i < 2; i++)
		if (sb[i].magic == NVFS_SB_MAGIC)
			return existing_ns(m, &sb[i]);
	if (sb[0].magic == NVFS_SB_MAGIC_FORMATTING || sb[1].magic == NVFS_SB_MAGIC_FORMATTING)
		return 0;
	int64_t at = first_data(m->lock_fd, m->orig_bytes);
	return at < 0 ? 0 : not_ours(m, (uint64_t)at);
}

/*
 * fit_size -- choose the namespace size and map: a regular file is first
 * resized to -s through the locked descriptor; a device's -s must fit it.
 */
static int
fit_size(struct mk *m)
{
	int rc;

	if (m->is_reg && m->o->size && m->o->size != m->orig_bytes) {
		rc = resize(m, m->lock_fd, m->orig_bytes, m->o->size);
		if (rc)
			return rc;
		m->resized = !m->created;
	}
	if (m->is_reg) {
		struct stat st;
		if (fstat(m->lock_fd, &st) < 0)
			return nvfs_err_set(errno, "%s: cannot stat: %s", m->path,
					    strerror(errno));
		if ((uint64_t)st.st_size < NVFS_MIN_NS_BYTES)
			return too_small(m->path, (uint64_t)st.st_size);
	}
	int fd = dup(m->lock_fd); /* shares the lock; the mapping closes it */
	if (fd < 0)
		return nvfs_err_set(errno, "%s: dup: %s", m->path, strerror(errno));
	if ((rc = nvfs_pmem_open_fd(fd, m->path, 0, &m->pm)))
		return rc;
	uint64_t have = m->pm->size;
	if (!m->is_reg && m->o->size > have)
		return nvfs_err_set(EINVAL, "%s: size %llu is larger than the device "
				    "(%llu bytes)", m->path, (unsigned long long)m->o->size,
				    (unsigned long long)have);
	m->ns_bytes = !m->is_reg && m->o->size ? m->o->size : have;
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
 * undo -- after a failure, remove the file this call created, or give an
 * existing file it resized its old size back (it was all zero, or -f).
 * Runs while the lock is still held, so the file is still ours.
 */
static void
undo(const struct mk *m)
{
	char msg[512];

	if (!m->created && !m->resized)
		return;
	if (m->created ? unlink(m->path) == 0
		       : ftruncate(m->lock_fd, (off_t)m->orig_bytes) == 0)
		return;
	snprintf(msg, sizeof(msg), "%s: cannot undo this failed attempt (%s the "
		 "file): %s", m->path, m->created ? "remove" : "restore the size of",
		 strerror(errno));
	warn(m, msg);
}

/* nvfs_mkpmem -- make path an empty nvfs namespace */
int
nvfs_mkpmem(const char *path, const struct nvfs_mkpmem_opts *o,
	    struct nvfs_mkpmem_info *info)
{
	struct mk m = { .path = path, .o = o, .lock_fd = -1 };
	int rc;

	if (o->label && strlen(o->label) >= NVFS_LABEL_BYTES)
		return nvfs_err_set(EINVAL, "label '%s' is longer than %u bytes",
				    o->label, NVFS_LABEL_BYTES - 1);
	if (o->size && o->size < NVFS_MIN_NS_BYTES)
		return too_small(path, o->size);
	if (o->size > (uint64_t)INT64_MAX)
		return nvfs_err_set(EFBIG, "%s: %llu bytes is too large for a file",
				    path, (unsigned long long)o->size);
	rc = open_locked(&m);
	if (!rc && !m.is_reg) {
		/* A device is mapped (it cannot be resized) before its probe. */
		rc = fit_size(&m);
		if (!rc)
			rc = check_content(&m);
	} else if (!rc) {
		rc = check_content(&m);
		if (!rc)
			rc = fit_size(&m);
	}
	if (!rc)
		rc = fit_journal(&m);
	if (!rc)
		rc = format(&m, info);
	if (!rc)
		rc = make_journal(&m, info);
	nvfs_pmem_close(&m.pm);
	if (rc)
		undo(&m);
	if (m.lock_fd >= 0)
		close(m.lock_fd);
	return rc;
}
