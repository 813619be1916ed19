/* SPDX-License-Identifier: MIT */
/*
 * nvfs_tool.h -- what the command-line programs (mkfs.nvfs, fsck.nvfs,
 * mount.nvfs) share: their one-line messages, their --help/--version long
 * options and their usage errors.
 *
 * Every message is one line "PROG: <message>\n", PROG being the name given
 * to nvfs_tool_init: errors and warnings on stderr, information on stdout.
 * Each line is written under flockfile(3), so it is never interleaved with
 * another thread's stdio output to the same stream.
 *
 * The exit status of a fatal error is the program's, set once by
 * nvfs_tool_init: mkfs.nvfs and mount.nvfs exit 1, fsck.nvfs exits 8 (an
 * operational error, as fsck(8) defines it).  Usage errors are fatal errors
 * like any other and exit with the same status.  --version exits 0.
 *
 * Call nvfs_tool_init first, before any other function here.  The state it
 * sets is process-wide and is not meant to change afterwards.
 */
#ifndef NVFS_TOOL_H
#define NVFS_TOOL_H

/*
 * nvfs_tool_init -- set the program name prog (the "PROG: " of every line
 * and of --version), its usage line usage ("usage: PROG ...", appended in
 * parentheses to usage errors) and fail_status, the exit status of every
 * fatal error (nvfs_die and the nvfs_die_* functions).  The strings are
 * kept, not copied: they must outlive the program (string literals).
 */
void nvfs_tool_init(const char *prog, const char *usage, int fail_status);

/*
 * nvfs_tool_getopt -- getopt_long(3) over optstring and the long options
 * every program takes, --help (returned as 'h') and --version (returned as
 * 'V'), with opterr = 0: getopt prints nothing and the caller reports its
 * ':' and '?' with nvfs_die_getopt.  Returns what getopt_long returns.
 */
int nvfs_tool_getopt(int argc, char *const argv[], const char *optstring);

/* nvfs_die -- print "PROG: <fmt...>" on stderr and exit with fail_status */
void nvfs_die(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));

/*
 * nvfs_die_usage -- a usage error: print "PROG: <msg> (USAGE)" on stderr
 * and exit with fail_status
 */
void nvfs_die_usage(const char *msg) __attribute__((noreturn));

/*
 * nvfs_die_getopt -- the usage error for getopt(3)'s return value c, ':' or
 * '?' (with opterr = 0), followed by " (USAGE)": ':' is "option '-X' needs
 * an argument"; '?' is "unknown option '-X'" for a short option, or
 * "unknown option 'ARG'" (the argument as given, argv[optind - 1]) for an
 * unknown long one (optopt 0).  Exits with fail_status.
 */
void nvfs_die_getopt(int c, char *const argv[]) __attribute__((noreturn));

/*
 * nvfs_tool_operand -- the single operand left after getopt(3): argv[optind]
 * if it is the last argument; otherwise a usage error "missing WHAT
 * argument (USAGE)" (none left) or "unexpected argument 'ARG' (USAGE)" (ARG
 * the first extra one), which exits with fail_status.
 */
const char *nvfs_tool_operand(int argc, char *const argv[], const char *what);

/*
 * nvfs_tool_version -- print "PROG (nvfs) NVFS_VERSION" on stdout and exit
 * 0 (--version)
 */
void nvfs_tool_version(void) __attribute__((noreturn));

/* nvfs_info -- print "PROG: <fmt...>" on stdout */
void nvfs_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * nvfs_warnx -- print "PROG: <fmt...>" on stderr, without exiting (like
 * warnx(3)); the caller says in fmt whether it is a warning or an error
 */
void nvfs_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * nvfs_tool_warn -- a warn callback for nvfs_mkpmem_opts (nvfs_mkpmem.h):
 * prints "PROG: warning: <msg>" on stderr; arg is ignored
 */
void nvfs_tool_warn(void *arg, const char *msg);

#endif /* NVFS_TOOL_H */
