/* SPDX-License-Identifier: MIT */
/* tool.c -- the command-line programs' messages and options (see nvfs_tool.h) */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "nvfs_tool.h"

static struct {
	const char *prog;
	const char *usage;
	int fail_status;
} tool = { "nvfs", "", 1 };

/* nvfs_tool_init -- the program's name, usage line and fatal exit status */
void
nvfs_tool_init(const char *prog, const char *usage, int fail_status)
{
	tool.prog = prog;
	tool.usage = usage;
	tool.fail_status = fail_status;
}

/* nvfs_tool_getopt -- getopt_long with --help and --version, silent */
int
nvfs_tool_getopt(int argc, char *const argv[], const char *optstring)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};

	opterr = 0;
	return getopt_long(argc, argv, optstring, longopts, NULL);
}

/* vline -- "PROG: <fmt...>\n" on f, as one locked unit */
static void
vline(FILE *f, const char *fmt, va_list ap)
{
	flockfile(f);
	fputs(tool.prog, f);
	fputs(": ", f);
	vfprintf(f, fmt, ap);
	fputc('\n', f);
	funlockfile(f);
}

/* nvfs_die -- one line on stderr, exit fail_status */
void
nvfs_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(stderr, fmt, ap);
	va_end(ap);
	exit(tool.fail_status);
}

/* nvfs_die_usage -- msg and the usage on stderr, exit fail_status */
void
nvfs_die_usage(const char *msg)
{
	nvfs_die("%s (%s)", msg, tool.usage);
}

/* nvfs_die_getopt -- the usage error for getopt's ':' or '?' */
void
nvfs_die_getopt(int c, char *const argv[])
{
	if (c == ':')
		nvfs_die("option '-%c' needs an argument (%s)", optopt, tool.usage);
	if (optopt)
		nvfs_die("unknown option '-%c' (%s)", optopt, tool.usage);
	nvfs_die("unknown option '%s' (%s)", argv[optind - 1], tool.usage);
}

/* nvfs_tool_operand -- the one operand after the options */
const char *
nvfs_tool_operand(int argc, char *const argv[], const char *what)
{
	if (optind == argc)
		nvfs_die("missing %s argument (%s)", what, tool.usage);
	if (optind + 1 < argc)
		nvfs_die("unexpected argument '%s' (%s)", argv[optind + 1], tool.usage);
	return argv[optind];
}

/* nvfs_tool_version -- --version: the version on stdout, exit 0 */
void
nvfs_tool_version(void)
{
	printf("%s (nvfs) %s\n", tool.prog, NVFS_VERSION);
	exit(0);
}

/* nvfs_info -- one line on stdout */
void
nvfs_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(stdout, fmt, ap);
	va_end(ap);
}

/* nvfs_warnx -- one line on stderr */
void
nvfs_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(stderr, fmt, ap);
	va_end(ap);
}

/* nvfs_tool_warn -- nvfs_mkpmem's warn callback */
void
nvfs_tool_warn(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "%s: warning: %s\n", tool.prog, msg);
}
