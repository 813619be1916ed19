/* SPDX-License-Identifier: MIT */
/* parse.c -- parsing of user-supplied values (see nvfs_parse.h) */
#include <string.h>

#include "nvfs_err.h"
#include "nvfs_parse.h"

/* suffix_shift -- the shift of a size suffix ("" -> 0, "K"/"KiB" -> 10...) */
static int
suffix_shift(const char *p)
{
	static const char units[] = "kmgt";
	const char *u;

	if (*p == '\0')
		return 0;
	u = strchr(units, *p | 0x20);
	if (!u || (p[1] != '\0' && strcmp(p + 1, "iB") != 0))
		return -1;
	return 10 * (int)(u - units + 1);
}

/* nvfs_parse_size -- decimal bytes with an optional binary suffix */
int
nvfs_parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;
	int shift;

	if (!s || !*s)
		return nvfs_err_set(EINVAL, "invalid size '': empty");
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return nvfs_err_set(EINVAL, "invalid size '%s': too large", s);
		v = v * 10 + d;
	}
	if (p == s)
		return nvfs_err_set(EINVAL, "invalid size '%s': expected a number of "
				    "bytes with an optional suffix K, M, G or T", s);
	shift = suffix_shift(p);
	if (shift < 0)
		return nvfs_err_set(EINVAL, "invalid size '%s': unknown suffix '%s' "
				    "(use K, M, G or T)", s, p);
	if (shift && v > UINT64_MAX >> shift)
		return nvfs_err_set(EINVAL, "invalid size '%s': too large", s);
	*out = v << shift;
	return 0;
}
