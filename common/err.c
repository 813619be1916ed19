/* SPDX-License-Identifier: MIT */
/* err.c -- per-thread error messages (see nvfs_err.h) */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nvfs_err.h"

#define ERRMSG_BYTES 512

static __thread char errmsg[ERRMSG_BYTES];

/* nvfs_err_set -- record a message, return -err */
int
nvfs_err_set(int err, const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
	va_end(ap);
	errno = saved_errno;
	return -err;
}

/* nvfs_err_prefix -- prepend context to the current message, return -err */
int
nvfs_err_prefix(int err, const char *fmt, ...)
{
	int saved_errno = errno;
	char prefix[ERRMSG_BYTES];
	char old[ERRMSG_BYTES];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, errmsg, sizeof(old));
	if (old[0])
		snprintf(errmsg, sizeof(errmsg), "%s: %s", prefix, old);
	else
		snprintf(errmsg, sizeof(errmsg), "%s: %s", prefix, strerror(err));
	errno = saved_errno;
	return -err;
}

/* nvfs_errmsg -- the current thread's last message */
const char *
nvfs_errmsg(void)
{
	return errmsg;
}

/* nvfs_err_clear -- forget the current thread's message */
void
nvfs_err_clear(void)
{
	errmsg[0] = '\0';
}
