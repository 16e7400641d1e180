/* test_diff.c - `memleakd diff` on fixture reports: reading saved reports
 * (the last of a stream, a cut-short tail, a directory's `latest`, every
 * way a file is not a report), pairing stacks by address and by name,
 * the figures and order of the result, both outputs against golden files,
 * and diff_main's exit statuses and messages. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "diff/diff.h"
#include "unit.h"

#define GOLDEN_DIR "tests/unit/diff/golden/"

#define FRAME(addr, fn, off) \
	"{\"addr\":\"" addr "\",\"function\":\"" fn "\",\"offset\":" #off ",\"module\":\"/app/bin/server\"}"
#define MAIN(addr, off) FRAME(addr, "main", off)
#define ANON(addr) "{\"addr\":\"" addr "\",\"function\":null,\"offset\":0,\"module\":\"[anon]\"}"
#define STACK(bytes, allocs, frames) \
	"{\"bytes\":" #bytes ",\"allocs\":" #allocs ",\"oldest_age_ms\":5,\"total_bytes\":" #bytes \
	",\"total_allocs\":" #allocs ",\"stack_lost\":false,\"frames\":[" frames "]}"
#define LOST(bytes, allocs) \
	"{\"bytes\":" #bytes ",\"allocs\":" #allocs ",\"stack_lost\":true,\"frames\":[]}"
#define REPORT(time, pid, bytes, allocs, total, stacks) \
	"{\"time\":\"" time "\",\"pid\":" #pid ",\"final\":false,\"min_age_ms\":0,\"totals\":{" \
	"\"outstanding_bytes\":" #bytes ",\"outstanding_allocs\":" #allocs ",\"allocs\":99," \
	"\"stacks\":" #total "},\"stacks\":[" stacks "]}\n"

/* grow grows, steady stays, cache shrinks, gone goes, late comes; the lost
 * stack grows; one stack runs through anonymous code. */
static const char old_text[] = REPORT(
	"2026-11-25T12:00:00.000Z", 100, 6564, 28, 6,
	STACK(4000, 8, FRAME("0x3010", "cache", 16) "," MAIN("0x1120", 48)) ","
	STACK(1000, 10, FRAME("0x1010", "grow", 16) "," MAIN("0x1100", 32)) ","
	STACK(700, 1, FRAME("0x4010", "gone", 16) "," MAIN("0x1130", 64)) ","
	STACK(500, 5, FRAME("0x2010", "steady", 16) "," MAIN("0x1110", 40)) ","
	STACK(300, 3, ANON("0x7f0000001000") "," MAIN("0x1140", 80)) ","
	LOST(64, 1));

static const char new_text[] = REPORT(
	"2026-11-25T12:01:40.500Z", 100, 6976, 44, 9,
	STACK(3000, 30, FRAME("0x1010", "grow", 16) "," MAIN("0x1100", 32)) ","
	STACK(2048, 2, FRAME("0x5010", "late", 16) "," MAIN("0x1150", 96)) ","
	STACK(1000, 2, FRAME("0x3010", "cache", 16) "," MAIN("0x1120", 48)) ","
	STACK(500, 5, FRAME("0x2010", "steady", 16) "," MAIN("0x1110", 40)) ","
	STACK(300, 3, ANON("0x7f0000001000") "," MAIN("0x1140", 80)) ","
	LOST(128, 2));

/* The same program restarted: ASLR moved everything; fields a newer
 * memleakd writes are there too, and must be ignored. */
static const char restarted_text[] =
	"{\"time\":\"2026-11-25T13:00:00.000Z\",\"pid\":200,\"process\":{\"rss_bytes\":1,"
	"\"verdict\":\"leak\"},\"totals\":{\"outstanding_bytes\":5300,\"outstanding_allocs\":46},"
	"\"stacks\":["
	"{\"class\":\"suspect\",\"growth_bytes\":7,\"growth_rate_bps\":1.5,\"bytes\":3000,"
	"\"allocs\":30,\"frames\":[" FRAME("0x55551010", "grow", 16) "," MAIN("0x55551100", 32)
	"]},"
	STACK(1000, 2, FRAME("0x55553010", "cache", 16) "," MAIN("0x55551120", 48)) ","
	STACK(500, 5, FRAME("0x55552010", "steady", 16) "," MAIN("0x55551110", 40)) ","
	STACK(300, 3, ANON("0x7f5500001000") "," MAIN("0x55551140", 80)) ","
	STACK(500, 6, FRAME("0x55552010", "steady", 16) "," MAIN("0x55551110", 40)) "]}\n";

/* Parse text, expecting code and, when failing, message. */
static struct saved_report *parse_as(const char *text, const char *name, int code,
				     const char *message)
{
	struct saved_report *r = NULL;
	char *error = NULL;

	EXPECT_EQ(saved_report__parse(text, strlen(text), name, &r, &error), code);
	if (message)
		EXPECT_STREQ(error, message);
	else if (error)
		fprintf(stderr, "  %s\n", error);
	EXPECT(code < 0 ? r == NULL : r != NULL);
	free(error);
	return r;
}

static struct saved_report *report(const char *text, const char *name)
{
	return parse_as(text, name, 0, NULL);
}

static void expect_parse_error(const char *text, int code, const char *message)
{
	parse_as(text, "f.json", code, message);
}

TEST(read_report)
{
	struct saved_report *r = report(old_text, "old.json");

	if (!r)
		return;
	EXPECT_STREQ(r->path, "old.json");
	EXPECT_EQ(r->pid, 100);
	EXPECT_STREQ(r->time, "2026-11-25T12:00:00.000Z");
	EXPECT_EQ(r->when.tv_sec, 1795608000);
	EXPECT_EQ(r->outstanding_bytes, 6564);
	EXPECT_EQ(r->outstanding_allocs, 28);
	EXPECT_EQ(r->stacks_total, 6);
	EXPECT_EQ(r->n_stacks, 6);
	EXPECT_EQ(r->stacks[1].bytes, 1000);
	EXPECT_EQ(r->stacks[1].frames[0].addr, 0x1010);
	EXPECT_STREQ(r->stacks[1].frames[0].function, "grow");
	EXPECT_EQ(r->stacks[1].frames[0].offset, 16);
	EXPECT_STREQ(r->stacks[1].frames[0].module, "/app/bin/server");
	EXPECT(r->stacks[4].frames[0].function == NULL);
	EXPECT_EQ(r->stacks[5].n_frames, 0);
	EXPECT_EQ(r->count, 1);
	EXPECT(!r->truncated_tail && !r->final);
	saved_report__free(r);
	saved_report__free(NULL);
}

/* Unknown members are skipped; a missing totals.stacks means all listed. */
TEST(newer_fields_ignored)
{
	struct saved_report *r = report(restarted_text, "restarted.json");

	if (!r)
		return;
	EXPECT_EQ(r->n_stacks, 5);
	EXPECT_EQ(r->stacks_total, 5);
	EXPECT_EQ(r->stacks[0].bytes, 3000);
	EXPECT_EQ(r->stacks[0].frames[1].addr, 0x55551100);
	saved_report__free(r);
}

/* A stream (-o FILE): the last report; one cut short after it is skipped. */
TEST(last_of_stream)
{
	char *text = NULL;
	struct saved_report *r;

	if (asprintf(&text, "%s%s\n%s%.100s", old_text, new_text, old_text, new_text) < 0)
		return;
	r = report(text, "stream.json");
	if (r) {
		EXPECT_EQ(r->count, 3);
		EXPECT(r->truncated_tail);
		EXPECT_EQ(r->outstanding_bytes, 6564);
		saved_report__free(r);
	}
	text[strlen(text) - 100] = '\0';
	r = report(text, "stream.json");
	if (r) {
		EXPECT(!r->truncated_tail);
		EXPECT_EQ(r->count, 3);
		saved_report__free(r);
	}
	free(text);
}

TEST(not_reports)
{
	expect_parse_error("", -ENODATA, "f.json: empty file: no report");
	expect_parse_error(" \n\n", -ENODATA, "f.json: empty file: no report");
	expect_parse_error("{\"time\":", -EINVAL, "f.json:1:9: unexpected end of input");
	expect_parse_error("{}\n{\"a\" 1}\n", -EINVAL, "f.json:2:6: expected ':'");
	expect_parse_error("== pid 1\n", -EINVAL,
			   "f.json:1:1: expected a value (diff reads reports written with -f json)");
	expect_parse_error("[]", -EINVAL,
			   "f.json:1:1: not a memleakd report: a JSON array, not an object");
	expect_parse_error("{\"pid\":1}", -EINVAL,
			   "f.json:1:1: not a memleakd report: the report has no \"time\"");
	expect_parse_error("{\"time\":1}", -EINVAL,
			   "f.json:1:9: not a memleakd report: the report.time is a number");
	expect_parse_error(REPORT("yesterday", 1, 0, 0, 0, ""), -EINVAL,
			   "f.json:1:9: not a memleakd report: time is not an RFC 3339 UTC time");
	expect_parse_error(REPORT("2026-11-25T12:00:00.000Z", -1, 0, 0, 0, ""), -EINVAL,
			   "f.json:1:42: not a memleakd report: pid is not a process id");
	expect_parse_error(REPORT("2026-11-25T12:00:00.000Z", 1, 9223372036854775808, 0, 0, ""),
			   -EINVAL, "f.json:1:103: not a memleakd report: totals.outstanding_bytes "
			   "is not a count");
	expect_parse_error(REPORT("2026-11-25T12:00:00Z", 1, 0, 0, 0, "7"), -EINVAL,
			   "f.json:1:158: not a memleakd report: stacks[0] is a number");
	expect_parse_error(REPORT("2026-11-25T12:00:00Z", 1, 0, 0, 0,
				  "{\"bytes\":\"1\",\"allocs\":1,\"frames\":[]}"), -EINVAL,
			   "f.json:1:167: not a memleakd report: stacks[0].bytes is a string");
	expect_parse_error(REPORT("2026-11-25T12:00:00Z", 1, 0, 0, 0,
				  "{\"bytes\":1,\"allocs\":1}"), -EINVAL,
			   "f.json:1:158: not a memleakd report: stacks[0] has no \"frames\"");
	expect_parse_error(REPORT("2026-11-25T12:00:00Z", 1, 0, 0, 0,
				  STACK(1, 1, "{\"addr\":\"12\",\"offset\":0}")), -EINVAL,
			   "f.json:1:268: not a memleakd report: stacks[0].frames[0].addr is "
			   "not a hex address");
	expect_parse_error(REPORT("2026-11-25T12:00:00Z", 1, 0, 0, 0,
				  STACK(1, 1, "{\"addr\":\"0x1\",\"function\":3,\"offset\":0}")),
			   -EINVAL, "f.json:1:285: not a memleakd report: stacks[0].frames[0]."
			   "function is a number");
}

static struct diff *compute(const struct saved_report *old, const struct saved_report *new)
{
	struct diff *d = NULL;

	EXPECT_EQ(diff_compute(old, new, &d), 0);
	return d;
}

static void expect_entry(const struct diff_entry *e, enum diff_status status,
			 enum diff_match match, int64_t growth_bytes, int64_t growth_allocs,
			 const char *function)
{
	const struct saved_stack *s = e->new ? e->new : e->old;

	EXPECT_EQ(e->status, status);
	EXPECT_EQ(e->match, match);
	EXPECT_EQ(e->growth_bytes, growth_bytes);
	EXPECT_EQ(e->growth_allocs, growth_allocs);
	if (function)
		EXPECT_STREQ(s->frames[0].function, function);
	else
		EXPECT(s->n_frames == 0 || !s->frames[0].function);
}

/* One process: every stack in both pairs by address, even through
 * anonymous code; sorted by growth, largest first. */
TEST(same_process)
{
	struct saved_report *old = report(old_text, "old.json"), *new = report(new_text, "new.json");
	struct diff *d = old && new ? compute(old, new) : NULL;

	if (d) {
		EXPECT_EQ(d->n, 7);
		expect_entry(&d->entries[0], DIFF_NEW, DIFF_UNMATCHED, 2048, 2, "late");
		expect_entry(&d->entries[1], DIFF_GROWN, DIFF_BY_ADDR, 2000, 20, "grow");
		expect_entry(&d->entries[2], DIFF_GROWN, DIFF_BY_ADDR, 64, 1, NULL);
		expect_entry(&d->entries[3], DIFF_UNCHANGED, DIFF_BY_ADDR, 0, 0, "steady");
		expect_entry(&d->entries[4], DIFF_UNCHANGED, DIFF_BY_ADDR, 0, 0, NULL);
		expect_entry(&d->entries[5], DIFF_GONE, DIFF_UNMATCHED, -700, -1, "gone");
		expect_entry(&d->entries[6], DIFF_SHRUNK, DIFF_BY_ADDR, -3000, -6, "cache");
		EXPECT_EQ(d->by_addr, 5);
		EXPECT_EQ(d->by_name, 0);
		EXPECT_EQ(d->by_status[DIFF_GROWN], 2);
		EXPECT_EQ(d->by_status[DIFF_UNCHANGED], 2);
		EXPECT_EQ(d->growth_bytes, 412);
		EXPECT_EQ(d->growth_allocs, 16);
		EXPECT(d->elapsed_s == 100.5);
	}
	diff_free(d);
	saved_report__free(old);
	saved_report__free(new);
}

/* Another process: named stacks pair by name, equal ones one to one; the
 * stack through anonymous code cannot pair (its address moved). */
TEST(restarted_process)
{
	struct saved_report *old = report(old_text, "old.json");
	struct saved_report *new = report(restarted_text, "restarted.json");
	struct diff *d = old && new ? compute(old, new) : NULL;

	if (d) {
		EXPECT_EQ(d->n, 8);
		expect_entry(&d->entries[0], DIFF_GROWN, DIFF_BY_NAME, 2000, 20, "grow");
		expect_entry(&d->entries[1], DIFF_NEW, DIFF_UNMATCHED, 500, 6, "steady");
		expect_entry(&d->entries[2], DIFF_NEW, DIFF_UNMATCHED, 300, 3, NULL);
		expect_entry(&d->entries[3], DIFF_UNCHANGED, DIFF_BY_NAME, 0, 0, "steady");
		expect_entry(&d->entries[4], DIFF_GONE, DIFF_UNMATCHED, -64, -1, NULL);
		expect_entry(&d->entries[5], DIFF_GONE, DIFF_UNMATCHED, -300, -3, NULL);
		expect_entry(&d->entries[6], DIFF_GONE, DIFF_UNMATCHED, -700, -1, "gone");
		expect_entry(&d->entries[7], DIFF_SHRUNK, DIFF_BY_NAME, -3000, -6, "cache");
		EXPECT_EQ(d->by_addr, 0);
		EXPECT_EQ(d->by_name, 3);
	}
	diff_free(d);
	saved_report__free(old);
	saved_report__free(new);
}

/* Write d as text or JSON into memory and compare with a golden file. */
static void expect_golden(const struct diff *d, bool json, size_t limit, const char *golden)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	EXPECT(out != NULL);
	if (!out)
		return;
	EXPECT_EQ(json ? diff_write_json(out, d, limit) : diff_write_text(out, d, limit), 0);
	fclose(out);
	unit_expect_golden(buf, golden);
	free(buf);
}

TEST(golden_outputs)
{
	struct saved_report *old = report(old_text, "old.json"), *new = report(new_text, "new.json");
	struct diff *d = old && new ? compute(old, new) : NULL;

	if (d) {
		expect_golden(d, false, 0, GOLDEN_DIR "diff.txt");
		expect_golden(d, true, 0, GOLDEN_DIR "diff.json");
		expect_golden(d, false, 2, GOLDEN_DIR "diff_top2.txt");
	}
	diff_free(d);
	saved_report__free(old);
	saved_report__free(new);
}

static char dir_template[] = "/tmp/test_diff.XXXXXX";

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir_template, name);
	f = fopen(path, "w");
	EXPECT(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void remove_dir(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir_template);
	if (system(cmd) != 0)
		fprintf(stderr, "  could not remove %s\n", dir_template);
}

/* The fixture files, once: old.json, new.json, and reports/ as -o DIR/
 * leaves it, with `latest` naming new.json's twin. */
static bool fixture_dir(void)
{
	static bool made;
	char path[256];

	if (made)
		return true;
	if (!mkdtemp(dir_template))
		return false;
	atexit(remove_dir);
	write_file("old.json", old_text);
	write_file("new.json", new_text);
	snprintf(path, sizeof(path), "%s/reports", dir_template);
	mkdir(path, 0755);
	mkdir(strcat(path, "/../empty"), 0755);
	write_file("reports/memleakd-100-x.json", new_text);
	snprintf(path, sizeof(path), "%s/reports/latest", dir_template);
	made = symlink("memleakd-100-x.json", path) == 0;
	return made;
}

TEST(load_files)
{
	struct saved_report *r = NULL;
	char path[256], *error = NULL;

	EXPECT(fixture_dir());
	snprintf(path, sizeof(path), "%s/reports/", dir_template);
	EXPECT_EQ(saved_report__load(path, &r, &error), 0);
	if (r) {
		char want[300];

		snprintf(want, sizeof(want), "%s/reports/latest", dir_template);
		EXPECT_STREQ(r->path, want);
		EXPECT_EQ(r->outstanding_bytes, 6976);
		saved_report__free(r);
		r = NULL;
	}
	snprintf(path, sizeof(path), "%s/empty", dir_template);
	EXPECT_EQ(saved_report__load(path, &r, &error), -ENOENT);
	EXPECT(error && strstr(error, "empty: a directory without a `latest` report"));
	free(error);
	snprintf(path, sizeof(path), "%s/missing.json", dir_template);
	EXPECT_EQ(saved_report__load(path, &r, &error), -ENOENT);
	EXPECT(error && strstr(error, "missing.json: No such file or directory"));
	free(error);
	EXPECT(r == NULL);
}

/* Run diff_main with stdout and stderr in files; returns its status and
 * what it wrote on stderr (malloc'd) in *err. */
static int run_diff(int argc, const char **argv, char **err)
{
	char out_path[256], err_path[256];
	int saved_out = dup(1), saved_err = dup(2), status;
	FILE *f;
	size_t n = 0;

	snprintf(out_path, sizeof(out_path), "%s/stdout", dir_template);
	snprintf(err_path, sizeof(err_path), "%s/stderr", dir_template);
	fflush(stdout);
	fflush(stderr);
	dup2(open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), 1);
	dup2(open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), 2);
	status = diff_main(argc, (char **)argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	*err = NULL;
	f = fopen(err_path, "r");
	if (f && getdelim(err, &n, '\0', f) < 0) {
		free(*err);
		*err = strdup("");
	}
	if (f)
		fclose(f);
	return status;
}

static void expect_status(int argc, const char **argv, int status, const char *message)
{
	char *err = NULL;

	EXPECT_EQ(run_diff(argc, argv, &err), status);
	if (!err || !strstr(err, message))
		fprintf(stderr, "  stderr lacks \"%s\": %s\n", message, err ? err : "(none)");
	EXPECT(err && strstr(err, message));
	free(err);
}

TEST(exit_statuses)
{
	char old[256], new[256], missing[256];

	EXPECT(fixture_dir());
	snprintf(old, sizeof(old), "%s/old.json", dir_template);
	snprintf(new, sizeof(new), "%s/new.json", dir_template);
	snprintf(missing, sizeof(missing), "%s/missing.json", dir_template);
	expect_status(3, (const char *[]){ "diff", old, new, NULL }, 0, "lists 6 of 9 stacks");
	expect_status(5, (const char *[]){ "diff", "-f", "json", old, new, NULL }, 0, "");
	expect_status(5, (const char *[]){ "diff", "-n", "0", new, old, NULL }, 0,
		      "NEW (2026-11-25T12:00:00.000Z) is older than OLD");
	expect_status(3, (const char *[]){ "diff", missing, new, NULL }, 1, "No such file");
	expect_status(3, (const char *[]){ "diff", old, missing, NULL }, 1, "No such file");
	expect_status(2, (const char *[]){ "diff", old, NULL }, 2, "expected two reports");
	expect_status(4, (const char *[]){ "diff", old, new, new, NULL }, 2, "got 3");
	expect_status(5, (const char *[]){ "diff", "-f", "svg", old, new, NULL }, 2,
		      "--format: 'svg' is not text or json");
	expect_status(5, (const char *[]){ "diff", "-n", "-1", old, new, NULL }, 2,
		      "--top: '-1' is not a number");
	expect_status(4, (const char *[]){ "diff", "-x", old, new, NULL }, 2, "unknown option '-x'");
	expect_status(2, (const char *[]){ "diff", "-f", NULL }, 2, "missing argument to option");
	expect_status(2, (const char *[]){ "diff", "--help", NULL }, 0, "");
}

RUN_TESTS("diff",
	  T(read_report), T(newer_fields_ignored), T(last_of_stream), T(not_reports),
	  T(same_process), T(restarted_process), T(golden_outputs), T(load_files),
	  T(exit_statuses))
