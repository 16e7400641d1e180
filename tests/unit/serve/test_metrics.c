/* test_metrics.c - the Prometheus text encoder: label values escaped, each
 * family's HELP and TYPE once and before its samples, counters ending in
 * _total, series in a fixed order, the stacks capped by top and merged when
 * their labels coincide, and the stack label stable across address space
 * layouts. That Prometheus itself reads it is
 * tests/integration/serve/test_serve.py's. */
#include <errno.h>
#include <stdlib.h>

#include "memleakd.h"
#include "serve/metrics.h"
#include "unit.h"

/* The same function at two load addresses: the object's offset is equal. */
#define AT(base, off, name) { .addr = (base) + (off), .function = name, .module = "/srv/app", \
	.build_id = "abcd", .map_start = (base), .map_end = (base) + 0x10000, .map_offset = 0x1000 }

#define LEAK "leak \"here\"\\now"
#define APP 0x555500000000ULL
#define LIB 0x7f0000000000ULL
static struct frame leak_a[] = { AT(APP, 0x1234, LEAK), AT(APP, 0x2000, "main") };
static struct frame leak_b[] = { AT(LIB, 0x1234, LEAK), AT(LIB, 0x2000, "main") };
static struct frame other[] = { AT(APP, 0x1500, "other"), AT(APP, 0x2000, "main") };
/* Another call in the same function. */
static struct frame other_moved[] = {
	AT(APP, 0x1510, "other"), AT(APP, 0x2000, "main"),
};

static struct snapshot_stack stacks_1[] = {
	{ .bytes = 5000, .allocs = 5, .n_frames = 2, .frames = leak_a,
	  .trend = { .cls = STACK_SUSPECT } },
	{ .bytes = 300, .allocs = 3, .n_frames = 2, .frames = other },
	/* The same frames as the first, under another stack id: one series. */
	{ .bytes = 200, .allocs = 2, .n_frames = 2, .frames = leak_a },
	{ .stack_id = MEMLEAKD_STACK_LOST, .bytes = 64, .allocs = 1 },
};

static struct snapshot_stack stacks_2[] = {
	{ .bytes = 100, .allocs = 1, .n_frames = 2, .frames = leak_b },
};

static struct snapshot snap_1 = {
	.time = { .tv_sec = 1795320000, .tv_nsec = 500000000 },
	.pid = 4242,
	.report = 7,
	.totals = { .outstanding_bytes = 5564, .outstanding_allocs = 11, .allocs = 20, .frees = 9,
		    .unknown_frees = 1, .dropped_allocs = 2, .stack_errors = 3,
		    .hits = { .entry = 40, .stepped = 9, .ret = 20 } },
	.process = { .rss_bytes = 1 << 20, .verdict = VERDICT_LEAK },
	.cost = { .known = true, .hits = 69, .cpu_share = 0.0125, .ns_per_hit = 1500 },
	.n_stacks = 4,
	.n_top = 4,
	.stacks = stacks_1,
};

static struct snapshot snap_2 = {
	.pid = 99,
	.report = 7,
	.n_stacks = 1,
	.n_top = 1,
	.stacks = stacks_2,
};

static char *encode(const struct metrics_process *procs, size_t n, size_t top)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	int r = out ? metrics_write(out, procs, n, top) : -ENOMEM;

	if (out)
		fclose(out);
	EXPECT_EQ(r, 0);
	return buf;
}

static size_t count(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

TEST(label_values_escaped)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	metrics_write_label_value(out, "a\\b\"c\nd\xff" "\xc3\xa9");
	fclose(out);
	EXPECT_STREQ(buf, "a\\\\b\\\"c\\nd?\xc3\xa9");
	free(buf);
}

TEST(stack_hash_stable)
{
	char id[METRICS_STACK_ID_LEN + 1];
	struct snapshot_stack a = { .n_frames = 2, .frames = leak_a };
	struct snapshot_stack b = { .n_frames = 2, .frames = leak_b };
	struct snapshot_stack o = { .n_frames = 2, .frames = other };
	struct snapshot_stack moved = { .n_frames = 2, .frames = other_moved };
	struct snapshot_stack lost = { .stack_id = MEMLEAKD_STACK_LOST };
	struct snapshot_stack lost_mapped = { .kind = STACK_MAPPED };

	/* Another load address, the same object offsets: the same stack. */
	EXPECT(metrics_stack_hash(&a) == metrics_stack_hash(&b));
	EXPECT(metrics_stack_hash(&a) != metrics_stack_hash(&o));
	/* Another call site in the same function: another stack. */
	EXPECT(metrics_stack_hash(&o) != metrics_stack_hash(&moved));
	EXPECT(metrics_stack_hash(&lost) != metrics_stack_hash(&lost_mapped));
	/* Fixed: a change of the hash renames every series users have. */
	metrics_stack_id(metrics_stack_hash(&lost), id);
	EXPECT_EQ(strlen(id), METRICS_STACK_ID_LEN);
	EXPECT_EQ(strspn(id, "0123456789abcdef"), METRICS_STACK_ID_LEN);
	metrics_stack_id(0x0123456789abcdefULL, id);
	EXPECT_STREQ(id, "0123456789ab");
}

/* Every family's # HELP then # TYPE, once, before any of its samples;
 * a counter's name ends in _total. */
TEST(families_in_order)
{
	const struct metrics_process procs[] = { { &snap_1, "app" }, { &snap_2, "two" } };
	char *text = encode(procs, 2, 10);
	char *copy = strdup(text), *save = NULL;
	char family[128] = "";

	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128], type[16], needle[160];

		if (sscanf(line, "# HELP %127s", name) == 1) {
			snprintf(needle, sizeof(needle), "# HELP %s ", name);
			EXPECT_EQ(count(text, needle), 1);
			snprintf(family, sizeof(family), "%s", name);
			continue;
		}
		if (sscanf(line, "# TYPE %127s %15s", name, type) == 2) {
			EXPECT_STREQ(name, family);
			if (!strcmp(type, "counter"))
				EXPECT(strlen(name) > 6 && !strcmp(name + strlen(name) - 6, "_total"));
			else
				EXPECT_STREQ(type, "gauge");
			continue;
		}
		/* A sample of the family: its name, then { or a space. */
		EXPECT(!strncmp(line, family, strlen(family)) &&
		       (line[strlen(family)] == '{' || line[strlen(family)] == ' '));
	}
	EXPECT(strstr(text, "memleakd_allocs_total{pid=\"4242\",comm=\"app\"} 20\n"
			    "memleakd_allocs_total{pid=\"99\",comm=\"two\"} 0\n"));
	EXPECT(strstr(text, "memleakd_dropped_allocs_total{pid=\"4242\",comm=\"app\"} 2\n"));
	EXPECT(strstr(text, "memleakd_stack_errors_total{pid=\"4242\",comm=\"app\"} 3\n"));
	EXPECT(strstr(text, "memleakd_report_timestamp_seconds{pid=\"4242\",comm=\"app\"} "
			    "1795320000.5\n"));
	EXPECT(strstr(text, "memleakd_verdict{pid=\"4242\",comm=\"app\",verdict=\"undecided\"} 0\n"
			    "memleakd_verdict{pid=\"4242\",comm=\"app\",verdict=\"no_leak\"} 0\n"
			    "memleakd_verdict{pid=\"4242\",comm=\"app\",verdict=\"leak_suspected\"} 1\n"));
	/* The cost: NaN where it was not measured. */
	EXPECT(strstr(text, "memleakd_probe_hits_total{pid=\"4242\",comm=\"app\"} 69\n"));
	EXPECT(strstr(text, "memleakd_single_stepped_hits_total{pid=\"4242\",comm=\"app\"} 9\n"));
	EXPECT(strstr(text, "memleakd_tracing_cpu_share{pid=\"4242\",comm=\"app\"} 0.0125\n"
			    "memleakd_tracing_cpu_share{pid=\"99\",comm=\"two\"} NaN\n"));
	EXPECT(strstr(text, "memleakd_probe_hit_seconds{pid=\"4242\",comm=\"app\"} 1.5e-06\n"));
	/* No verdict read: every state 0. */
	EXPECT_EQ(count(text, "memleakd_verdict{pid=\"99\""), 4);
	EXPECT(!strstr(text, "pid=\"99\",comm=\"two\",verdict=\"undecided\"} 1"));
	free(copy);
	free(text);
}

TEST(stack_series)
{
	const struct metrics_process procs[] = { { &snap_1, "a\"pp" } };
	struct snapshot_stack first = stacks_1[0];
	char id[METRICS_STACK_ID_LEN + 1], want[512];
	char *text = encode(procs, 1, 10), *again = encode(procs, 1, 10);
	char *capped = encode(procs, 1, 1);

	metrics_stack_id(metrics_stack_hash(&first), id);
	/* The two stacks of leak_a are one series, their values summed; the
	 * name and the comm escaped. */
	snprintf(want, sizeof(want),
		 "memleakd_stack_outstanding_bytes{pid=\"4242\",comm=\"a\\\"pp\",stack=\"%s\","
		 "kind=\"alloc\",top_frame=\"leak \\\"here\\\"\\\\now\"} 5200\n", id);
	EXPECT(strstr(text, want));
	EXPECT_EQ(count(text, "memleakd_stack_outstanding_bytes{"), 3);
	EXPECT(strstr(text, "top_frame=\"other\"} 300\n"));
	EXPECT(strstr(text, "top_frame=\"[stack lost]\"} 64\n"));
	EXPECT(strstr(text, "memleakd_stack_outstanding_allocs{pid=\"4242\",comm=\"a\\\"pp\","));
	snprintf(want, sizeof(want), "memleakd_stack_suspect{pid=\"4242\",comm=\"a\\\"pp\","
		 "stack=\"%s\",kind=\"alloc\",top_frame=\"leak \\\"here\\\"\\\\now\"} 1\n", id);
	EXPECT(strstr(text, want));
	/* The same reports, the same bytes. */
	EXPECT_STREQ(text, again);
	/* --top 1: one stack series a family. */
	EXPECT_EQ(count(capped, "memleakd_stack_outstanding_bytes{"), 1);
	EXPECT(strstr(capped, "} 5000\n"));
	free(text);
	free(again);
	free(capped);
}

TEST(self_usage)
{
	struct metrics_self self = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	EXPECT_EQ(metrics_self_read(&self), 0);
	EXPECT(self.resident_bytes > 0);
	EXPECT_EQ(metrics_write_self(out, &(struct metrics_self){ .cpu_seconds = 1.25,
								  .resident_bytes = 4096 }), 0);
	fclose(out);
	EXPECT_STREQ(buf, "# HELP process_cpu_seconds_total User and system CPU time memleakd "
		     "spent, in seconds.\n# TYPE process_cpu_seconds_total counter\n"
		     "process_cpu_seconds_total 1.25\n"
		     "# HELP process_resident_memory_bytes Resident memory of memleakd, in bytes.\n"
		     "# TYPE process_resident_memory_bytes gauge\n"
		     "process_resident_memory_bytes 4096\n");
	free(buf);
}

TEST(write_errors)
{
	const struct metrics_process procs[] = { { &snap_1, "app" } };
	FILE *full = fopen("/dev/full", "w");

	EXPECT(full != NULL);
	if (!full)
		return;
	EXPECT_EQ(metrics_write(full, procs, 1, 10), -EIO);
	fclose(full);
}

RUN_TESTS("metrics", T(label_values_escaped), T(stack_hash_stable), T(families_in_order),
	  T(stack_series), T(self_usage), T(write_errors))
