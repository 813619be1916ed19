/* SPDX-License-Identifier: MIT */
/*
 * sqlite_load.c -- SQLite inserts, one transaction each, for bench/fs_bench.sh.
 *
 *   sqlite_load DB wal|delete SECONDS
 *
 * Makes a new database DB (PRAGMA journal_mode=WAL or DELETE, synchronous=
 * FULL: every commit is durable, as SQLite does by default), one table
 * t(id INTEGER PRIMARY KEY, v BLOB), and inserts one row of 100 random bytes
 * per transaction (an autocommit INSERT of a prepared statement) for
 * SECONDS.  Prints inserts, inserts_s, mean_us, p99_us.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
check(sqlite3 *db, int rc, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
		fprintf(stderr, "sqlite_load: %s: %s\n", what, sqlite3_errmsg(db));
		exit(1);
	}
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	sqlite3 *db;
	sqlite3_stmt *ins;
	uint64_t *lat = NULL, start, end, t, sum = 0;
	size_t n = 0, cap = 0;
	char sql[128];
	double secs;

	if (argc != 4 || (strcmp(argv[2], "wal") && strcmp(argv[2], "delete"))) {
		fprintf(stderr, "usage: sqlite_load DB wal|delete SECONDS\n");
		return 2;
	}
	secs = atof(argv[3]);
	check(NULL, sqlite3_open(argv[1], &db), "open");
	snprintf(sql, sizeof(sql), "PRAGMA journal_mode=%s", argv[2]);
	check(db, sqlite3_exec(db, sql, NULL, NULL, NULL), sql);
	check(db, sqlite3_exec(db, "PRAGMA synchronous=FULL", NULL, NULL, NULL), "synchronous");
	check(db, sqlite3_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)", NULL, NULL,
			       NULL), "create table");
	check(db, sqlite3_prepare_v2(db, "INSERT INTO t(v) VALUES (randomblob(100))", -1, &ins,
				     NULL), "prepare");
	start = now_ns();
	end = start + (uint64_t)(secs * 1e9);
	do {
		uint64_t t0 = now_ns();

		check(db, sqlite3_step(ins), "insert");
		sqlite3_reset(ins);
		t = now_ns();
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			if (!(lat = realloc(lat, cap * sizeof(*lat)))) {
				fprintf(stderr, "sqlite_load: out of memory\n");
				return 1;
			}
		}
		lat[n++] = t - t0;
		sum += t - t0;
	} while (t < end);
	sqlite3_finalize(ins);
	check(db, sqlite3_close(db), "close");
	qsort(lat, n, sizeof(*lat), cmp_u64);
	printf("inserts %zu\nsecs %.3f\ninserts_s %.1f\n", n, (double)(t - start) / 1e9,
	       (double)n / ((double)(t - start) / 1e9));
	printf("mean_us %.3f\np99_us %.3f\n", (double)sum / (double)n / 1000.0,
	       (double)lat[(size_t)((double)(n - 1) * 0.99)] / 1000.0);
	free(lat);
	return 0;
}
