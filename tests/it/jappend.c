/* SPDX-License-Identifier: MIT */
/*
 * jappend.c -- a test helper for the shell tests (built by them at run time
 * against build/lib*.a): append entries to the journal of a pmem, as a
 * mount will, and list what is in the journal.
 *
 *     jappend PMEM [SPEC...]
 *
 * Each SPEC is one of
 *     T:N:BYTES   append N entries of type T with BYTES payload bytes each
 *     c           commit what was appended: the next append starts a set
 *     k           commit, then checkpoint everything committed
 * The journal is opened (read-only if no SPEC is given) and replayed first,
 * without a checkpoint.  After the SPECs everything is committed and the
 * journal closed, reopened read-only and replayed, printing a line per set
 * and per entry with its byte offset in PMEM:
 *     set lsn L seq S off O
 *     entry seq S type T bytes B lsn L payload_off O
 * and a last line
 *     replay N entries in M sets, tail lsn L seq S, head lsn L[, damaged ...]
 * Exit status 0, or 1 with a message on stderr.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvfs_alloc.h"
#include "nvfs_err.h"
#include "nvfs_journal.h"

struct lister {
	const char *base;       /* the start of the namespace */
	uint64_t last_lsn;
};

/* fail -- print the current nvfs error with context, exit 1 */
static void __attribute__((noreturn))
fail(const char *what)
{
	fprintf(stderr, "jappend: %s: %s\n", what, nvfs_errmsg());
	exit(1);
}

/* print_entry -- replay callback: one line per set and per entry */
static int
print_entry(void *arg, const struct nvfs_journal_entry *e)
{
	struct lister *l = arg;
	uint64_t off = (uint64_t)((const char *)e->payload - l->base);

	if (e->lsn != l->last_lsn) {
		printf("set lsn %" PRIu64 " seq %" PRIu64 " off %" PRIu64 "\n", e->lsn,
		       e->seq, off - NVFS_JOURNAL_SET_HDR_BYTES - NVFS_JOURNAL_ENTRY_HDR_BYTES);
		l->last_lsn = e->lsn;
	}
	printf("entry seq %" PRIu64 " type %u bytes %u lsn %" PRIu64 " payload_off %"
	       PRIu64 "\n", e->seq, e->type, e->payload_bytes, e->lsn, off);
	return 0;
}

/* list -- reopen read-only, replay and print everything */
static void
list(struct nvfs_alloc *a)
{
	struct lister l = { nvfs_alloc_ptr(a, 0), UINT64_MAX };
	struct nvfs_journal_report rep;
	struct nvfs_journal_stats st;
	struct nvfs_journal *j;

	if (nvfs_journal_open(a, NULL, NVFS_JOURNAL_RDONLY, &j))
		fail("open the journal");
	if (nvfs_journal_replay(j, print_entry, &l, &rep))
		fail("replay");
	nvfs_journal_stats(j, &st);
	printf("replay %" PRIu64 " entries in %" PRIu64 " sets, tail lsn %" PRIu64
	       " seq %" PRIu64 ", head lsn %" PRIu64, rep.entries, rep.sets, st.tail_lsn,
	       st.tail_seq, st.head_lsn);
	if (rep.damaged)
		printf(", damaged at lsn %" PRIu64 ": %s", rep.stop_lsn, rep.reason);
	printf("\n");
	nvfs_journal_close(&j);
}

/* append -- N entries of a type and size, the payload a pattern */
static void
append(struct nvfs_journal *j, uint32_t type, unsigned long n, size_t bytes)
{
	char *buf = malloc(bytes ? bytes : 1);

	if (!buf) {
		fprintf(stderr, "jappend: out of memory\n");
		exit(1);
	}
	for (unsigned long i = 0; i < n; i++) {
		for (size_t b = 0; b < bytes; b++)
			buf[b] = (char)(type + i + b);
		if (nvfs_journal_append(j, type, buf, bytes) < 0)
			fail("append");
	}
	free(buf);
}

/* checkpoint -- commit, then checkpoint every committed entry */
static void
checkpoint(struct nvfs_journal *j)
{
	struct nvfs_journal_stats st;

	if (nvfs_journal_commit(j, 0))
		fail("commit");
	nvfs_journal_stats(j, &st);
	if (nvfs_journal_checkpoint(j, st.committed_seq))
		fail("checkpoint");
}

/* spec -- carry out one SPEC */
static void
spec(struct nvfs_journal *j, const char *s)
{
	unsigned long type, n, bytes;
	char end;

	if (strcmp(s, "c") == 0) {
		if (nvfs_journal_commit(j, 0))
			fail("commit");
	} else if (strcmp(s, "k") == 0) {
		checkpoint(j);
	} else if (sscanf(s, "%lu:%lu:%lu%c", &type, &n, &bytes, &end) == 3 &&
		   type > 0 && type <= UINT32_MAX) {
		append(j, (uint32_t)type, n, bytes);
	} else {
		fprintf(stderr, "jappend: bad SPEC '%s' (T:N:BYTES, c or k)\n", s);
		exit(1);
	}
}

int
main(int argc, char *argv[])
{
	struct nvfs_alloc_opts o = { .flags = argc > 2 ? 0 : NVFS_ALLOC_RDONLY };
	struct nvfs_journal_report rep;
	struct nvfs_journal *j;
	struct nvfs_alloc *a;

	if (argc < 2) {
		fprintf(stderr, "usage: jappend PMEM [T:N:BYTES|c|k]...\n");
		return 1;
	}
	if (nvfs_alloc_open(argv[1], &o, &a))
		fail(argv[1]);
	if (argc > 2) {
		if (nvfs_journal_open(a, NULL, 0, &j))
			fail("open the journal");
		if (nvfs_journal_replay(j, NULL, NULL, &rep))
			fail("replay");
		for (int i = 2; i < argc; i++)
			spec(j, argv[i]);
		if (nvfs_journal_close(&j))
			fail("close (commit)");
	}
	list(a);
	nvfs_alloc_close(&a);
	return 0;
}
