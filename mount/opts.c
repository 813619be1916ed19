/* SPDX-License-Identifier: MIT */
/*
 * opts.c -- mount.nvfs's -o options (see opts.h).  Every bad option is
 * refused with one message, returned to the caller: nothing here exits,
 * so that the parser can be fuzzed (tests/fuzz/mount_opts.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvfs_err.h"
#include "nvfs_parse.h"
#include "nvfs_tool.h"
#include "opts.h"

/* opt_err -- *err := the message (malloc'd; NULL if that fails); -err_no */
__attribute__((format(printf, 3, 4))) static int
opt_err(char **err, int err_no, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(err, fmt, ap) < 0)
		*err = NULL;
	va_end(ap);
	return -err_no;
}

/* opt_in -- true if opt is one of names, or starts with one of prefixes */
static bool
opt_in(const char *opt, const char *const *names, const char *const *prefixes)
{
	for (const char *const *n = names; n && *n; n++)
		if (strcmp(opt, *n) == 0)
			return true;
	for (const char *const *p = prefixes; p && *p; p++)
		if (strncmp(opt, *p, strlen(*p)) == 0)
			return true;
	return false;
}

/* opt_ignored -- true for the mount(8) options this helper ignores */
static bool
opt_ignored(const char *opt)
{
	static const char *const names[] = {
		"_netdev", "noauto", "auto", "nofail", "defaults", "user", "users",
		"nouser", NULL,
	};
	static const char *const prefixes[] = { "x-", NULL };

	return opt_in(opt, names, prefixes);
}

/* opt_kernel -- true for the mount flags handed to libfuse as they are */
static bool
opt_kernel(const char *opt)
{
	static const char *const names[] = {
		"allow_other", "auto_unmount", "rw", "suid", "nosuid", "dev", "nodev",
		"exec", "noexec", "async", "sync", "dirsync", "atime", "noatime", NULL,
	};

	return opt_in(opt, names, NULL);
}

/* fuse_opt_append -- add opt to the options for libfuse */
static int
fuse_opt_append(struct mnt *m, const char *opt, char **err)
{
	size_t n = strlen(m->fuse_opts);

	if (strchr(opt, ',') || strchr(opt, '\\'))
		return opt_err(err, EINVAL, "option '%s': commas and backslashes are not "
			       "supported", opt);
	if (n + strlen(opt) + 2 > sizeof(m->fuse_opts))
		return opt_err(err, EINVAL, "too many options");
	snprintf(m->fuse_opts + n, sizeof(m->fuse_opts) - n, "%s%s", n ? "," : "", opt);
	return 0;
}

/* parse_uint_opt -- N of "name=N", 1..max, into *out */
static int
parse_uint_opt(const char *opt, const char *val, unsigned max, unsigned *out, char **err)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(val, &end, 10);
	if (!*val || *end || errno || v < 1 || v > max || *val == '-' || *val == '+')
		return opt_err(err, EINVAL, "option '%s': want a whole number from 1 to %u",
			       opt, max);
	*out = (unsigned)v;
	return 0;
}

/* parse_seconds_opt -- SECONDS of "name=SECONDS", 0..3600, into *out */
static int
parse_seconds_opt(const char *opt, const char *val, double *out, char **err)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(val, &end);
	if (!*val || *end || errno || !(v >= 0 && v <= 3600) || *val == '-' || *val == '+')
		return opt_err(err, EINVAL, "option '%s': want a number of seconds from 0 "
			       "to 3600", opt);
	*out = v;
	return 0;
}

/* set_copy -- *dst := a copy of val (the old copy freed) */
static int
set_copy(char **dst, const char *val, char **err)
{
	char *c = strdup(val);

	if (!c)
		return opt_err(err, ENOMEM, "out of memory");
	free(*dst);
	*dst = c;
	return 0;
}

/*
 * parse_fs_opt -- a file system option: 1 if opt is one (applied), 0 if it
 * is not, or a negative errno (*err set) if it is one with a bad value
 */
static int
parse_fs_opt(struct mnt *m, const char *opt, char **err)
{
	unsigned secs;
	int rc = 0;

	if (strcmp(opt, "default_permissions") == 0)
		m->no_default_permissions = false;
	else if (strcmp(opt, "no_default_permissions") == 0)
		m->no_default_permissions = true;
	else if (strcmp(opt, "ro") == 0)
		m->ro = true;
	else if (strncmp(opt, "fsname=", 7) == 0 && opt[7])
		rc = set_copy(&m->fsname, opt + 7, err);
	else if (strncmp(opt, "subtype=", 8) == 0 && opt[8])
		rc = set_copy(&m->subtype, opt + 8, err);
	else if (strcmp(opt, "debug") == 0)
		m->debug = true;
	else if (strcmp(opt, "writeback_cache") == 0)
		m->writeback_cache = true;
	else if (strcmp(opt, "keep_cache") == 0)
		m->keep_cache = true;
	else if (strcmp(opt, "shared_locks") == 0)
		m->shared_locks = true;
	else if (strncmp(opt, "threads=", 8) == 0)
		rc = parse_uint_opt(opt, opt + 8, NVFS_FS_MAX_THREADS, &m->threads, err);
	else if (strncmp(opt, "timeout=", 8) == 0)
		rc = parse_seconds_opt(opt, opt + 8, &m->timeout, err);
	else if (strcmp(opt, "durability=op") == 0)
		m->durability = DUR_OP;
	else if (strcmp(opt, "durability=fsync") == 0)
		m->durability = DUR_FSYNC;
	else if (strcmp(opt, "durability=auto") == 0)
		m->durability = DUR_AUTO;
	else if (strncmp(opt, "durability=", 11) == 0)
		rc = opt_err(err, EINVAL, "option '%s': want durability=op, durability=fsync "
			     "or durability=auto", opt);
	else if (strncmp(opt, "checkpoint_secs=", 16) == 0) {
		if ((rc = parse_uint_opt(opt, opt + 16, 3600, &secs, err)) == 0)
			m->checkpoint_ms = 1000 * secs;
	} else if (opt_kernel(opt))
		rc = fuse_opt_append(m, opt, err);
	else if (strcmp(opt, "fsname=") == 0 || strcmp(opt, "subtype=") == 0)
		rc = opt_err(err, EINVAL, "option '%s' needs a value", opt);
	else
		return 0;
	return rc < 0 ? rc : 1;
}

/*
 * pmem_size_check -- a pmem made by a mount gets the default journal, so it
 * must hold the namespace metadata and at least the smallest journal
 */
static int
pmem_size_check(const char *opt, uint64_t size, char **err)
{
	uint64_t journal = 0; /* the default */

	if (size >= MIN_PMEM_SIZE &&
	    nvfs_journal_fit(size & ~(uint64_t)(NVFS_PAGE_BYTES - 1), &journal) == 0)
		return 0;
	return opt_err(err, EINVAL, "option '%s': %llu bytes is too small: nvfs needs at "
		       "least %u bytes (24 MiB and two pages) for the namespace, its "
		       "journal and its SOURCE binding", opt,
		       (unsigned long long)size, (unsigned)MIN_PMEM_SIZE);
}

/* parse_opt -- one item of -o */
static int
parse_opt(struct mnt *m, const char *opt, char **err)
{
	int rc;

	if (strncmp(opt, "pmem=", 5) == 0) {
		if (!opt[5])
			return opt_err(err, EINVAL, "option 'pmem=' needs a path");
		if (strlen(opt + 5) >= sizeof(m->pmem))
			return opt_err(err, EINVAL, "option 'pmem=': path is too long");
		snprintf(m->pmem, sizeof(m->pmem), "%s", opt + 5);
		m->pmem_given = true;
	} else if (strncmp(opt, "pmem_size=", 10) == 0) {
		uint64_t size;
		if (nvfs_parse_size(opt + 10, &size))
			return opt_err(err, EINVAL, "option 'pmem_size': %s", nvfs_errmsg());
		m->pmem_size = size;
		if ((rc = pmem_size_check(opt, m->pmem_size, err)))
			return rc;
		m->pmem_size_given = true;
	} else if ((rc = parse_fs_opt(m, opt, err)) != 0) {
		return rc < 0 ? rc : 0;
	} else if (!opt_ignored(opt)) {
		if (!m->sloppy)
			return opt_err(err, EINVAL, "unknown option '%s'", opt);
		if (m->verbose)
			nvfs_info("ignoring unknown option '%s' (-s)", opt);
	}
	return 0;
}

/* mnt_parse_opts -- a comma-separated -o list; empty items are skipped */
int
mnt_parse_opts(struct mnt *m, const char *list, char **err)
{
	char *copy = strdup(list), *save = NULL;
	int rc = 0;

	*err = NULL;
	if (!copy)
		return opt_err(err, ENOMEM, "out of memory");
	for (char *o = strtok_r(copy, ",", &save); o && rc == 0;
	     o = strtok_r(NULL, ",", &save))
		rc = parse_opt(m, o, err);
	free(copy);
	return rc;
}

/*
 * fsname_opt -- "fsname=NAME" with the commas and backslashes of NAME
 * escaped for libfuse's option parser
 */
static int
fsname_opt(struct mnt *m, const char *name, char **err)
{
	char buf[2 * PATH_MAX + 16], *o = buf;

	o += sprintf(o, "fsname=");
	for (const char *c = name; *c && o < buf + sizeof(buf) - 3; c++) {
		if (*c == ',' || *c == '\\')
			*o++ = '\\';
		*o++ = *c;
	}
	*o = '\0';
	if (strlen(m->fuse_opts) + strlen(buf) + 2 > sizeof(m->fuse_opts))
		return opt_err(err, EINVAL, "too many options");
	strcat(m->fuse_opts, *m->fuse_opts ? "," : "");
	strcat(m->fuse_opts, buf);
	return 0;
}

/* mnt_fuse_opts_finish -- ro, subtype= and fsname= for libfuse */
int
mnt_fuse_opts_finish(struct mnt *m, const char *default_fsname, char **err)
{
	char subtype[256];
	int rc;

	*err = NULL;
	if (m->ro && (rc = fuse_opt_append(m, "ro", err)))
		return rc;
	snprintf(subtype, sizeof(subtype), "subtype=%s", m->subtype ? m->subtype : "nvfs");
	if ((rc = fuse_opt_append(m, subtype, err)))
		return rc;
	return fsname_opt(m, m->fsname ? m->fsname : default_fsname, err);
}

/* mnt_opts_free -- the parser's allocations */
void
mnt_opts_free(struct mnt *m)
{
	free(m->fsname);
	free(m->subtype);
	m->fsname = m->subtype = NULL;
}
