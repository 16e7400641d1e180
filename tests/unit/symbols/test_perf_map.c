/* test_perf_map.c - perf maps: the format perf's JIT interface documents,
 * malformed lines skipped and counted, overlaps (the later line wins), and
 * a process's file re-read when it changes and dropped when it goes. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "symbols/perf_map.h"
#include "unit.h"

static struct perf_map *parse(const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	struct perf_map *m = NULL;

	EXPECT(f != NULL);
	if (!f)
		return NULL;
	EXPECT_EQ(perf_map__parse(f, &m), 0);
	fclose(f);
	return m;
}

static const char *name_at(const struct perf_map *m, uint64_t addr)
{
	const struct perf_map_entry *e = m ? perf_map__find(m, addr) : NULL;

	return e ? e->name : NULL;
}

TEST(parses_entries)
{
	struct perf_map *m = parse("7f0000001000 40 LazyCompile:~handler server.js:12\n"
				   "7f0000000000 1000 stub\r\n"
				   "0x7f0000002000 0x10 prefixed\n");
	const struct perf_map_entry *e;

	EXPECT_EQ(perf_map__entries(m), 3);
	EXPECT_EQ(perf_map__skipped(m), 0);
	e = perf_map__find(m, 0x7f000000103f);
	EXPECT(e != NULL);
	if (e) {
		EXPECT_STREQ(e->name, "LazyCompile:~handler server.js:12");
		EXPECT_EQ(e->start, 0x7f0000001000);
		EXPECT_EQ(e->size, 0x40);
	}
	EXPECT_STREQ(name_at(m, 0x7f0000000000), "stub");
	EXPECT_STREQ(name_at(m, 0x7f0000000fff), "stub");
	EXPECT_STREQ(name_at(m, 0x7f000000200f), "prefixed");
	EXPECT(name_at(m, 0x7f0000001040) == NULL);
	EXPECT(name_at(m, 0x7f0000002010) == NULL);
	EXPECT(name_at(m, 0x1000) == NULL);
	perf_map__free(m);
}

TEST(skips_malformed_lines)
{
	struct perf_map *m = parse("\n"
				   "zz 10 not_hex\n"
				   "1000 10\n"
				   "1000 10 \n"
				   "1000\n"
				   "2000 0 empty\n"
				   "ffffffffffffff00 200 wraps\n"
				   "1000-10 dash\n"
				   "10000000000000000 10 too_big\n"
				   "3000 10 good\n");

	EXPECT_EQ(perf_map__entries(m), 1);
	EXPECT_EQ(perf_map__skipped(m), 9);
	EXPECT_STREQ(name_at(m, 0x3008), "good");
	EXPECT(name_at(m, 0x1008) == NULL);
	perf_map__free(m);
}

/* Code freed and reused: the later line names it, and a long entry still
 * covers addresses past later, shorter ones. */
TEST(later_lines_win_overlaps)
{
	struct perf_map *m = parse("1000 1000 old_big\n"
				   "1100 10 new_small\n"
				   "1000 10 first\n"
				   "1000 10 second\n");

	EXPECT_STREQ(name_at(m, 0x1108), "new_small");
	EXPECT_STREQ(name_at(m, 0x1200), "old_big");
	EXPECT_STREQ(name_at(m, 0x1fff), "old_big");
	EXPECT_STREQ(name_at(m, 0x1004), "second");
	EXPECT(name_at(m, 0x2000) == NULL);
	perf_map__free(m);
}

TEST(empty_map)
{
	struct perf_map *m = parse("");

	EXPECT_EQ(perf_map__entries(m), 0);
	EXPECT(name_at(m, 0) == NULL);
	perf_map__free(m);
	perf_map__free(NULL);
}

/* This process's own /tmp/perf-PID.map, through "/" as its root: read,
 * kept while unchanged, re-read when it grows, dropped when removed. */
TEST(file_follows_changes)
{
	struct perf_map_file f = { 0 };
	char path[64];
	int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct perf_map *first;

	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
	unlink(path);
	EXPECT_EQ(perf_map_file__refresh(&f, root, getpid()), 0);
	EXPECT(f.map == NULL);
	unit_write_file(path, "5000 10 one\nbad line\n");
	EXPECT_EQ(perf_map_file__refresh(&f, root, getpid()), 1);
	EXPECT_STREQ(name_at(f.map, 0x5004), "one");
	EXPECT(f.map && perf_map__skipped(f.map) == 1);
	first = f.map;
	EXPECT_EQ(perf_map_file__refresh(&f, root, getpid()), 0);
	EXPECT(f.map == first);
	unit_write_file(path, "5000 10 one\nbad line\n6000 20 two\n");
	EXPECT_EQ(perf_map_file__refresh(&f, root, getpid()), 1);
	EXPECT_STREQ(name_at(f.map, 0x6010), "two");
	unlink(path);
	EXPECT_EQ(perf_map_file__refresh(&f, root, getpid()), 0);
	EXPECT(f.map == NULL);
	perf_map_file__clear(&f);
	close(root);
}

/* A line past PERF_MAP_LINE_MAX is skipped whole, the next one read; a
 * last line without its newline counts. */
TEST(bounds_lines)
{
	size_t n = PERF_MAP_LINE_MAX + 100;
	char *text = malloc(n + 64);

	EXPECT(text != NULL);
	if (!text)
		return;
	strcpy(text, "1000 10 ");
	memset(text + 8, 'x', n);
	strcpy(text + 8 + n, "\n2000 10 two");
	{
		struct perf_map *m = parse(text);

		EXPECT_EQ(perf_map__entries(m), 1);
		EXPECT_EQ(perf_map__skipped(m), 1);
		EXPECT(name_at(m, 0x1004) == NULL);
		EXPECT_STREQ(name_at(m, 0x2004), "two");
		EXPECT(m && !perf_map__cut(m));
		perf_map__free(m);
	}
	free(text);
}

/* A 64 GiB file without a newline (sparse: nothing on disk) is read up to
 * PERF_MAP_BYTES_MAX and no further; a FIFO in its place is no file and
 * does not block. */
TEST(bounds_the_file)
{
	struct perf_map_file f = { 0 };
	char path[64];
	int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int fd;

	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	EXPECT(fd >= 0 && ftruncate(fd, 64ULL << 30) == 0);
	close(fd);
	EXPECT_EQ(perf_map_file__refresh(&f, root, getpid()), 1);
	EXPECT(f.map && perf_map__cut(f.map) && perf_map__entries(f.map) == 0);
	unlink(path);
	EXPECT_EQ(mkfifo(path, 0600), 0);
	EXPECT_EQ(perf_map_file__refresh(&f, root, getpid()), 0);
	EXPECT(f.map == NULL);
	unlink(path);
	perf_map_file__clear(&f);
	close(root);
}

RUN_TESTS("perf_map", T(parses_entries), T(skips_malformed_lines), T(later_lines_win_overlaps),
	  T(empty_map), T(file_follows_changes), T(bounds_lines), T(bounds_the_file))
