/* SPDX-License-Identifier: MIT */
/* journal_testlib.c -- journal test harness (see journal_testlib.h) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_testlib.h"
#include "journal_testlib.h"
#include "nvfs_alloc.h"
#include "nvfs_csum.h"
#include "nvfs_err.h"
#include "nvfs_test.h"

/* jt_list_push -- grow and append */
void
jt_list_push(struct jt_list *l, struct jt_rec r)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		l->r = realloc(l->r, l->cap * sizeof(*l->r));
		CU_ASSERT_FATAL(l->r != NULL);
	}
	l->r[l->n++] = r;
}

/* collect -- replay callback filling t->replayed */
static int
collect(void *arg, const struct nvfs_journal_entry *e)
{
	struct jt *t = arg;
	jt_list_push(&t->replayed, (struct jt_rec){ e->seq, e->type, e->payload_bytes,
						    nvfs_csum(e->payload, e->payload_bytes, 0) });
	return 0;
}

/* jt_open -- allocator, journal, replay */
int
jt_open(struct jt *t)
{
	int rc = nvfs_alloc_open(t->path, NULL, &t->a);
	if (rc)
		return rc;
	rc = nvfs_journal_open(t->a, NULL, 0, &t->j);
	if (rc) {
		nvfs_alloc_close(&t->a);
		return rc;
	}
	t->replayed.n = 0;
	rc = nvfs_journal_replay(t->j, collect, t, &t->report);
	if (!rc && t->report.entries)
		t->next_seq = t->report.last_seq + 1;
	return rc;
}

/* jt_setup -- a fresh namespace with a journal, opened and replayed */
void
jt_setup(struct jt *t, const char *name, unsigned nr_buckets)
{
	memset(t, 0, sizeof(*t));
	t->name = name;
	snprintf(t->path, sizeof(t->path), "%s", nvfs_test_path(name));
	test_ns_make(t->path, NVFS_PAGES_OFF + (uint64_t)(nr_buckets + 1) * NVFS_JOURNAL_BUCKET_BYTES);
	CU_ASSERT_FATAL(nvfs_alloc_open(t->path, NULL, &t->a) == 0);
	CU_ASSERT_FATAL(nvfs_journal_create(t->a, (uint64_t)nr_buckets *
					    NVFS_JOURNAL_BUCKET_BYTES) == 0);
	nvfs_alloc_close(&t->a);
	CU_ASSERT_FATAL(jt_open(t) == 0);
	t->next_seq = 1;
	t->buf = malloc(NVFS_JOURNAL_MAX_PAYLOAD + 64);
	CU_ASSERT_FATAL(t->buf != NULL);
}

/* jt_teardown -- close and free */
void
jt_teardown(struct jt *t)
{
	if (t->j)
		CU_ASSERT_EQUAL(nvfs_journal_close(&t->j), 0);
	nvfs_alloc_close(&t->a);
	free(t->model.r);
	free(t->replayed.r);
	free(t->buf);
	memset(t, 0, sizeof(*t));
}

/* jt_append -- append random bytes, record them */
int64_t
jt_append(struct jt *t, uint64_t *rng, uint32_t type, size_t len)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t r = nvfs_test_rand(rng);
		memcpy(t->buf + i, &r, 8);
	}
	int64_t seq = nvfs_journal_append(t->j, type, t->buf, len);
	if (seq != (int64_t)t->next_seq)
		printf("\n  append: got %lld, expected %llu: %s", (long long)seq,
		       (unsigned long long)t->next_seq, nvfs_errmsg());
	CU_ASSERT_FATAL(seq == (int64_t)t->next_seq);
	t->next_seq++;
	jt_list_push(&t->model, (struct jt_rec){ (uint64_t)seq, type, (uint32_t)len,
						 nvfs_csum(t->buf, len, 0) });
	return seq;
}

/* jt_forget_upto -- drop checkpointed entries from the model */
void
jt_forget_upto(struct jt *t, uint64_t seq)
{
	size_t k = 0;
	for (size_t i = 0; i < t->model.n; i++)
		if (t->model.r[i].seq > seq)
			t->model.r[k++] = t->model.r[i];
	t->model.n = k;
}

/* jt_reopen -- close, reopen, replay */
void
jt_reopen(struct jt *t)
{
	CU_ASSERT_EQUAL(nvfs_journal_close(&t->j), 0);
	nvfs_alloc_close(&t->a);
	int rc = jt_open(t);
	if (rc)
		printf("\n  reopen: %s", nvfs_errmsg());
	CU_ASSERT_FATAL(rc == 0);
}

/* jt_replay_matches -- replayed == model, entry by entry */
bool
jt_replay_matches(const struct jt *t)
{
	if (t->replayed.n != t->model.n) {
		printf("\n  replayed %zu entries, model has %zu", t->replayed.n, t->model.n);
		return false;
	}
	for (size_t i = 0; i < t->model.n; i++) {
		const struct jt_rec *a = &t->replayed.r[i], *b = &t->model.r[i];
		if (a->seq != b->seq || a->type != b->type || a->len != b->len ||
		    a->csum != b->csum) {
			printf("\n  entry %zu: replayed seq %llu type %u len %u, model seq "
			       "%llu type %u len %u", i, (unsigned long long)a->seq, a->type,
			       a->len, (unsigned long long)b->seq, b->type, b->len);
			return false;
		}
	}
	return true;
}

/* jt_payload -- seeded by type and length */
void
jt_payload(uint8_t *buf, uint32_t type, size_t len)
{
	uint64_t rng = (nvfs_test_seed() + type) * UINT64_C(0x9e3779b97f4a7c15) + len;
	for (size_t i = 0; i < len; i += 8) {
		uint64_t r = nvfs_test_rand(&rng);
		memcpy(buf + i, &r, len - i < 8 ? len - i : 8);
	}
}

/* jt_gran_set -- through libpmem2's PMEM2_FORCE_GRANULARITY */
void
jt_gran_set(enum nvfs_pmem_gran gran)
{
	if (gran == NVFS_GRAN_CACHE_LINE)
		setenv("PMEM2_FORCE_GRANULARITY", "cache_line", 1);
	else
		unsetenv("PMEM2_FORCE_GRANULARITY");
}

/* jt_has -- strstr, printing the miss */
bool
jt_has(const char *s, const char *what)
{
	if (strstr(s, what))
		return true;
	printf("\n  '%s' lacks '%s'", s, what);
	return false;
}
