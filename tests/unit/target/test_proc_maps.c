/* test_proc_maps.c - the /proc/PID/maps parser on fixture text fed through
 * fmemopen: the line shapes the kernel prints (file, anonymous with and
 * without the trailing space, names with spaces, " (deleted)", [stack],
 * [vdso]), malformed lines, and the boundaries of proc_maps__find; a live
 * process's maps read through its /proc directory, which reads as gone once
 * the process is. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "target/proc_maps.h"
#include "unit.h"

static const char fixture[] =
	"55d0c0a00000-55d0c0a02000 r--p 00000000 08:01 1311                       /usr/bin/prog\n"
	"55d0c0a02000-55d0c0a05000 r-xp 00002000 08:01 1311                       /usr/bin/prog\n"
	"7f1e2c000000-7f1e2c021000 rw-p 00000000 00:00 0 \n"
	"7f1e2c021000-7f1e2c030000 ---p 00000000 00:00 0\n"
	"7f1e2d000000-7f1e2d001000 r-xp 0001a000 fd:02 4242                       /home/u/my lib.so\n"
	"7f1e2e000000-7f1e2e001000 r-xs 00000000 08:01 77                         /tmp/old.so (deleted)\n"
	"7ffd1a000000-7ffd1a021000 rw-p 00000000 00:00 0                          [stack]\n"
	"7ffd1a1fe000-7ffd1a200000 r-xp 00000000 00:00 0                          [vdso]";

static int parse(const char *text, struct proc_maps **out)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int r;

	if (!f)
		return -errno;
	r = proc_maps__parse(f, out);
	fclose(f);
	return r;
}

TEST(parses_file_mappings)
{
	struct proc_maps *m = NULL;

	EXPECT_EQ(parse(fixture, &m), 0);
	if (!m)
		return;
	EXPECT_EQ(m->count, 8);
	EXPECT_EQ(m->maps[1].start, 0x55d0c0a02000);
	EXPECT_EQ(m->maps[1].end, 0x55d0c0a05000);
	EXPECT_EQ(m->maps[1].offset, 0x2000);
	EXPECT_EQ(m->maps[1].dev_major, 8);
	EXPECT_EQ(m->maps[1].dev_minor, 1);
	EXPECT_EQ(m->maps[1].inode, 1311);
	EXPECT(m->maps[1].readable && !m->maps[1].writable && m->maps[1].executable);
	EXPECT_STREQ(m->maps[1].path, "/usr/bin/prog");
	EXPECT_EQ(m->maps[4].dev_major, 0xfd);
	EXPECT_EQ(m->maps[4].dev_minor, 2);
	EXPECT_EQ(m->maps[4].offset, 0x1a000);
	proc_maps__free(m);
}

TEST(parses_anonymous_mappings)
{
	struct proc_maps *m = NULL;

	EXPECT_EQ(parse(fixture, &m), 0);
	if (!m)
		return;
	EXPECT(m->maps[2].path == NULL);
	EXPECT(m->maps[2].readable && m->maps[2].writable && !m->maps[2].executable);
	EXPECT_EQ(m->maps[2].inode, 0);
	EXPECT(m->maps[3].path == NULL);
	EXPECT(!m->maps[3].readable && !m->maps[3].writable && !m->maps[3].executable);
	proc_maps__free(m);
}

TEST(keeps_names_verbatim)
{
	struct proc_maps *m = NULL;

	EXPECT_EQ(parse(fixture, &m), 0);
	if (!m)
		return;
	EXPECT_STREQ(m->maps[4].path, "/home/u/my lib.so");
	EXPECT_STREQ(m->maps[5].path, "/tmp/old.so (deleted)");
	EXPECT_STREQ(m->maps[6].path, "[stack]");
	EXPECT_STREQ(m->maps[7].path, "[vdso]");
	EXPECT_EQ(m->maps[7].start, 0x7ffd1a1fe000);
	proc_maps__free(m);
}

TEST(parses_empty_input)
{
	struct proc_maps *m = NULL;
	FILE *f = fopen("/dev/null", "r");

	EXPECT(f != NULL);
	if (!f)
		return;
	EXPECT_EQ(proc_maps__parse(f, &m), 0);
	fclose(f);
	if (!m)
		return;
	EXPECT_EQ(m->count, 0);
	EXPECT(proc_maps__find(m, 0x1000) == NULL);
	proc_maps__free(m);
}

TEST(rejects_malformed_lines)
{
	static const char *const bad[] = {
		"garbage\n",
		"00400000-00300000 r-xp 00000000 08:01 1 /bin/x\n",
		"00400000-00500000 r-xp 00000000 08:01\n",
		"00400000 r-xp 00000000 08:01 1 /bin/x\n",
		"00400000-00500000 r-x 00000000 08:01 1 /bin/x\n",
		"00400000-00500000 r-xp 00000000 08:01 1 /bin/x\nnot a mapping\n",
	};
	struct proc_maps sentinel, *m;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m = &sentinel;
		EXPECT_EQ(parse(bad[i], &m), -EINVAL);
		EXPECT(m == &sentinel);
	}
}

TEST(finds_by_address_at_the_boundaries)
{
	struct proc_maps *m = NULL;

	EXPECT_EQ(parse(fixture, &m), 0);
	if (!m)
		return;
	EXPECT(proc_maps__find(m, 0) == NULL);
	EXPECT(proc_maps__find(m, 0x55d0c09fffff) == NULL);
	EXPECT(proc_maps__find(m, 0x55d0c0a00000) == &m->maps[0]);
	EXPECT(proc_maps__find(m, 0x55d0c0a01fff) == &m->maps[0]);
	EXPECT(proc_maps__find(m, 0x55d0c0a02000) == &m->maps[1]);
	EXPECT(proc_maps__find(m, 0x55d0c0a04fff) == &m->maps[1]);
	EXPECT(proc_maps__find(m, 0x55d0c0a05000) == NULL);
	EXPECT(proc_maps__find(m, 0x7f1e2c020fff) == &m->maps[2]);
	EXPECT(proc_maps__find(m, 0x7f1e2c021000) == &m->maps[3]);
	EXPECT(proc_maps__find(m, 0x7f1e2e000800) == &m->maps[5]);
	EXPECT(proc_maps__find(m, 0x7ffd1a1fffff) == &m->maps[7]);
	EXPECT(proc_maps__find(m, 0x7ffd1a200000) == NULL);
	EXPECT(proc_maps__find(m, UINT64_MAX) == NULL);
	proc_maps__free(m);
}

TEST(reads_own_maps)
{
	struct proc_maps *m = NULL;
	const struct proc_map *p;

	EXPECT_EQ(proc_maps__read(getpid(), &m), 0);
	if (!m)
		return;
	p = proc_maps__find(m, (uintptr_t)&proc_maps__find);
	EXPECT(p != NULL);
	if (p) {
		EXPECT(p->executable);
		EXPECT(p->path != NULL && p->path[0] == '/');
	}
	proc_maps__free(m);
	EXPECT(proc_maps__read(-1, &m) < 0);
}

/* Through this process's own /proc directory: the maps, and file paths
 * that go through that descriptor, not through the pid. */
TEST(reads_through_proc_fd)
{
	int proc_fd = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct proc_maps *m = NULL;
	char path[64], expected[64];

	EXPECT_EQ(proc_maps__read_at(proc_fd, getpid(), -1, &m), 0);
	EXPECT(m && m->count > 0 && m->proc_fd == proc_fd && m->pid == getpid());
	if (m) {
		EXPECT_EQ(proc_maps__proc_path(m, "status", path, sizeof(path)), 0);
		snprintf(expected, sizeof(expected), "/proc/self/fd/%d/status", proc_fd);
		EXPECT_STREQ(path, expected);
		EXPECT_EQ(access(path, R_OK), 0);
		EXPECT_EQ(proc_maps__proc_path(m, "status", path, 8), -ENAMETOOLONG);
	}
	proc_maps__free(m);
	close(proc_fd);
}

/* The /proc directory of a process that is gone reads as gone, even
 * though its pid may be another's now. */
TEST(gone_process_reads_as_gone)
{
	pid_t child = fork();
	struct proc_maps *m = NULL;
	char path[64];
	int proc_fd;

	if (child == 0) {
		pause();
		_exit(0);
	}
	EXPECT(child > 0);
	snprintf(path, sizeof(path), "/proc/%d", (int)child);
	proc_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	EXPECT(proc_fd >= 0);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	EXPECT(proc_maps__read_at(proc_fd, child, -1, &m) < 0);
	EXPECT(m == NULL);
	close(proc_fd);
}

RUN_TESTS("proc_maps", T(parses_file_mappings), T(parses_anonymous_mappings),
	  T(keeps_names_verbatim), T(parses_empty_input), T(rejects_malformed_lines),
	  T(finds_by_address_at_the_boundaries), T(reads_own_maps), T(reads_through_proc_fd),
	  T(gone_process_reads_as_gone))
