/* seccomp_check.c - whether a process under seccomp survives a return
 * probe, tried on a child of memleakd (see seccomp_check.h). The child
 * confines itself to exit_group alone, with SECCOMP_RET_KILL_PROCESS for
 * everything else, and calls probed_function() under a perf-event return
 * probe opened for it alone (the uprobe PMU, no BPF program: the event
 * counts the returns it saw). A kernel that filters its uretprobe system
 * call kills the child at that return; one that exempts it, or that
 * returns through a breakpoint instead, lets it exit 0, and the event has
 * counted one return.
 */
#include "probes/seccomp_check.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/perf_event.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "target/proc_maps.h"

#define UPROBE_PMU "/sys/bus/event_source/devices/uprobe/"
/* The child's exit status when it could not confine itself, or when the
 * probed function returned a wrong value. */
#define CHILD_SETUP_FAILED 3
#define CHILD_WRONG_RETURN 4
#define PROBED_ARG 41

int seccomp_check__mode(int proc_fd, enum seccomp_mode *mode)
{
	int fd = openat(proc_fd, "status", O_RDONLY | O_CLOEXEC);
	FILE *f = fd >= 0 ? fdopen(fd, "re") : NULL;
	char line[256];
	int r = -ENODATA;
	unsigned int value;

	if (!f) {
		r = errno == ENOENT ? -ESRCH : -errno;
		if (fd >= 0)
			close(fd);
		return r;
	}
	while (r == -ENODATA && fgets(line, sizeof(line), f))
		if (sscanf(line, "Seccomp: %u", &value) == 1 && value <= SECCOMP_FILTERED) {
			*mode = (enum seccomp_mode)value;
			r = 0;
		}
	fclose(f);
	return r;
}

const char *seccomp_check__mode_name(enum seccomp_mode mode)
{
	switch (mode) {
	case SECCOMP_STRICT: return "strict";
	case SECCOMP_FILTERED: return "filter";
	default: return "none";
	}
}

/* The function the child returns from under the probe: kept out of line
 * and out of every interprocedural optimization, so that the call goes to
 * this very address. */
__attribute__((noipa)) int seccomp_check_probed(int x)
{
	return x + 1;
}

/* One number of the uprobe PMU's sysfs directory: its type, or the bit
 * of config that makes a return probe ("config:0"). */
static int pmu_number(const char *file, const char *format, unsigned int *out)
{
	FILE *f = fopen(file, "re");
	int r;

	if (!f)
		return -errno;
	r = fscanf(f, format, out) == 1 ? 0 : -EINVAL;
	fclose(f);
	return r;
}

/* A return probe on seccomp_check_probed for process pid alone. Returns
 * its descriptor, or -errno. */
static int open_return_probe(pid_t pid)
{
	uint64_t addr = (uint64_t)(uintptr_t)&seccomp_check_probed;
	struct perf_event_attr attr = { .size = sizeof(attr) };
	const struct proc_map *m;
	struct proc_maps *maps;
	unsigned int type, bit;
	int r = pmu_number(UPROBE_PMU "type", "%u", &type);

	if (r >= 0)
		r = pmu_number(UPROBE_PMU "format/retprobe", "config:%u", &bit);
	if (r >= 0 && bit >= 64)
		r = -EINVAL;
	if (r >= 0)
		r = proc_maps__read(getpid(), &maps);
	if (r < 0)
		return r;
	m = proc_maps__find(maps, addr);
	if (!m || !m->executable) {
		proc_maps__free(maps);
		return -ENOENT;
	}
	attr.type = type;
	attr.config = 1ULL << bit;
	/* The kernel resolves the path as memleakd: its own executable. */
	attr.config1 = (uint64_t)(uintptr_t)"/proc/self/exe";
	attr.config2 = addr - m->start + m->offset;
	proc_maps__free(maps);
	r = (int)syscall(SYS_perf_event_open, &attr, pid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	return r < 0 ? -errno : r;
}

/* exit_group itself: the sanitizers' _exit runs their exit checks,
 * whose system calls the child's filter kills. */
static __attribute__((noreturn)) void exit_now(int status)
{
	for (;;)
		syscall(SYS_exit_group, status);
}

/* The child: waits for the probe, confines itself, returns under it. */
static __attribute__((noreturn)) void child(int go_fd)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit_group, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	};
	struct sock_fprog prog = { .len = sizeof(filter) / sizeof(filter[0]), .filter = filter };
	char go;

	/* A child the filter kills leaves no core file behind. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) || read(go_fd, &go, 1) != 1 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
		exit_now(CHILD_SETUP_FAILED);
	exit_now(seccomp_check_probed(PROBED_ARG) == PROBED_ARG + 1 ? 0 : CHILD_WRONG_RETURN);
}

/* Waits for pid; returns its wait status, or -errno. */
static int reap(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return status;
}

int seccomp_check__return_probes(bool *passes)
{
	uint64_t returns = 0;
	int go[2], probe, status;
	pid_t pid;

	if (pipe2(go, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		int r = -errno;

		close(go[0]);
		close(go[1]);
		return r;
	}
	if (!pid) {
		close(go[1]);
		child(go[0]);
	}
	close(go[0]);
	probe = open_return_probe(pid);
	/* Without the go, the child's read ends at the close: it exits. */
	if (probe >= 0 && write(go[1], "g", 1) != 1)
		probe = -errno;
	close(go[1]);
	status = reap(pid);
	if (probe >= 0 && read(probe, &returns, sizeof(returns)) != sizeof(returns))
		returns = 0;
	if (probe >= 0)
		close(probe);
	if (probe < 0)
		return probe;
	if (status < 0)
		return status;
	if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_SETUP_FAILED)
		return -EPERM;
	if (WIFEXITED(status) && !WEXITSTATUS(status)) {
		/* A probe that never fired proves nothing. */
		if (!returns)
			return -ENOENT;
		*passes = true;
		return 0;
	}
	*passes = false;
	return 0;
}
