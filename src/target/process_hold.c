/* process_hold.c - ptrace a starting process to the end of its dynamic
 * linker's loading (process_hold.h). The process is waited for with
 * WNOHANG polls, so that a deadline holds even when it never stops again.
 * x86-64 only, as the BPF programs are: the breakpoint is int3 and the
 * program counter rip. */
#include "target/process_hold.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "target/elf_symbols.h"
#include "target/target.h"
#include "util/clock.h"

/* Between two looks at a process that runs to a stop. */
#define POLL_NS (100 * 1000)
/* How long a seized process takes to stop for PTRACE_INTERRUPT, at most. */
#define STOP_WAIT_MS 1000
/* Objects at start besides the executable and the dynamic linker: none
 * yet means the linker has not loaded them. */
#define LOADER_OBJECTS 2

struct process_hold {
	pid_t pid;
	bool spawned;  /* our child, traced by PTRACE_TRACEME; else seized */
	bool exited;
	int status;    /* waitpid's, once exited */
};

pid_t process_hold__pid(const struct process_hold *h)
{
	return h->pid;
}

int process_hold__status(const struct process_hold *h)
{
	return h->status;
}

/* argv[0] as execvp finds it, resolved before fork: the child of a
 * threaded process may only make async-signal-safe calls. */
static char *find_program(const char *name)
{
	const char *path = getenv("PATH");
	char candidate[PATH_MAX];

	if (strchr(name, '/'))
		return strdup(name);
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");

		if (snprintf(candidate, sizeof(candidate), "%.*s%s%s", (int)len, path,
			     len ? "/" : "", name) < (int)sizeof(candidate) &&
		    access(candidate, X_OK) == 0)
			return strdup(candidate);
		path += len + (path[len] == ':');
	}
	errno = ENOENT;
	return NULL;
}

static void child_exec(const char *program, char *const argv[], uid_t uid, gid_t gid,
		       int error_fd)
{
	sigset_t none;
	int err;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if ((gid == (gid_t)-1 || (setgroups(1, &gid) == 0 && setgid(gid) == 0)) &&
	    (uid == (uid_t)-1 || setuid(uid) == 0) && ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0)
		execv(program, argv);
	err = errno;
	if (write(error_fd, &err, sizeof(err)) < 0)
		_exit(127);
	_exit(127);
}

/* Wait for the next stop or the exit of h's process, at most until
 * deadline_ns (0: no deadline). Returns 0 with *status, -ESRCH once it
 * exited, -ETIMEDOUT, or -errno. */
static int wait_stop(struct process_hold *h, uint64_t deadline_ns, int *status)
{
	static const struct timespec pause = { .tv_nsec = POLL_NS };

	for (;;) {
		pid_t r = waitpid(h->pid, status, __WALL | (deadline_ns ? WNOHANG : 0));

		if (r < 0 && errno != EINTR)
			return -errno;
		if (r == h->pid && (WIFEXITED(*status) || WIFSIGNALED(*status))) {
			h->exited = true;
			h->status = *status;
			return -ESRCH;
		}
		if (r == h->pid)
			return 0;
		if (deadline_ns && monotonic_ns() >= deadline_ns)
			return -ETIMEDOUT;
		nanosleep(&pause, NULL);
	}
}

int process_hold__spawn(char *const argv[], uid_t uid, gid_t gid, struct process_hold **out)
{
	struct process_hold *h = calloc(1, sizeof(*h));
	char *program = find_program(argv[0]);
	int pipe_fds[2] = { -1, -1 }, err = 0, status, r = 0;
	ssize_t n;

	if (!h || !program || pipe2(pipe_fds, O_CLOEXEC) < 0) {
		r = !h ? -ENOMEM : -errno;
		goto fail;
	}
	h->spawned = true;
	h->pid = fork();
	if (h->pid < 0) {
		r = -errno;
		goto fail;
	}
	if (h->pid == 0)
		child_exec(program, argv, uid, gid, pipe_fds[1]);
	close(pipe_fds[1]);
	pipe_fds[1] = -1;
	/* End of file: the exec closed the pipe. */
	n = read(pipe_fds[0], &err, sizeof(err));
	if (n == sizeof(err)) {
		waitpid(h->pid, &status, 0);
		r = -err;
		goto fail;
	}
	r = wait_stop(h, 0, &status);
	if (r == 0 && ptrace(PTRACE_SETOPTIONS, h->pid, NULL, (void *)PTRACE_O_EXITKILL) < 0)
		r = -errno;
	if (r < 0 && !h->exited) {
		kill(h->pid, SIGKILL);
		waitpid(h->pid, &status, __WALL);
	}
	if (r < 0)
		goto fail;
	close(pipe_fds[0]);
	free(program);
	*out = h;
	return 0;
fail:
	if (pipe_fds[0] >= 0)
		close(pipe_fds[0]);
	if (pipe_fds[1] >= 0)
		close(pipe_fds[1]);
	free(program);
	free(h);
	return r;
}

/* Stop the seized process, passing on the signals that come first. */
static int interrupt(struct process_hold *h)
{
	uint64_t deadline = monotonic_ns() + STOP_WAIT_MS * 1000000ULL;
	int status, r;

	if (h->spawned) {
		if (kill(h->pid, SIGSTOP) < 0)
			return -errno;
	} else if (ptrace(PTRACE_INTERRUPT, h->pid, NULL, NULL) < 0) {
		return -errno;
	}
	for (;;) {
		r = wait_stop(h, deadline, &status);
		if (r < 0)
			return r;
		/* Ours: the interrupt's event stop, or the SIGSTOP we sent. */
		if ((status >> 16) == PTRACE_EVENT_STOP || (h->spawned && WSTOPSIG(status) == SIGSTOP))
			return 0;
		if (ptrace(PTRACE_CONT, h->pid, NULL, (void *)(long)WSTOPSIG(status)) < 0)
			return -errno;
	}
}

int process_hold__seize(pid_t pid, struct process_hold **out)
{
	struct process_hold *h = calloc(1, sizeof(*h));
	int r;

	if (!h)
		return -ENOMEM;
	h->pid = pid;
	if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) < 0) {
		r = -errno;
		free(h);
		return r;
	}
	r = interrupt(h);
	if (r < 0) {
		if (!h->exited)
			ptrace(PTRACE_DETACH, pid, NULL, NULL);
		free(h);
		return r;
	}
	*out = h;
	return 0;
}

/* The run-time address of the dynamic linker's _dl_debug_state when the
 * process is in the linker's code: it is still loading, or has just
 * finished. Returns 0 and *addr, -ENOENT when the program counter is
 * elsewhere, or -errno. */
static int linker_breakpoint(const struct target *t, uint64_t pc, uint64_t *addr)
{
	const struct proc_map *m = proc_maps__find(t->maps, pc);
	struct target_object obj;
	struct elf_symbol sym;
	int r;

	if (!m || !m->path || m->path[0] != '/')
		return -ENOENT;
	r = target__open_object(t, m, &obj);
	if (r < 0)
		return r;
	r = elf_object__find_function(obj.elf, "_dl_debug_state", ELF_SYMTAB_DYNAMIC, &sym);
	if (r == 0)
		*addr = obj.bias + sym.vaddr;
	target_object__clear(&obj);
	return r;
}

/* Has the linker loaded the objects the program starts with? RT_CONSISTENT
 * also holds before it begins, with only itself and the executable listed. */
static bool loaded(const struct target *t)
{
	const struct proc_map **objects;
	size_t n;
	int state;

	if (target__link_state(t, &state) < 0 || state != RT_CONSISTENT)
		return false;
	if (target__search_order(t, &objects, &n) < 0)
		return false;
	free(objects);
	return n > LOADER_OBJECTS;
}

static int get_pc(pid_t pid, uint64_t *pc)
{
	struct user_regs_struct regs;

	if (ptrace(PTRACE_GETREGS, pid, NULL, &regs) < 0)
		return -errno;
	*pc = regs.rip;
	return 0;
}

static int set_pc(pid_t pid, uint64_t pc)
{
	struct user_regs_struct regs;

	if (ptrace(PTRACE_GETREGS, pid, NULL, &regs) < 0)
		return -errno;
	regs.rip = pc;
	return ptrace(PTRACE_SETREGS, pid, NULL, &regs) < 0 ? -errno : 0;
}

static int poke(pid_t pid, uint64_t addr, long word)
{
	return ptrace(PTRACE_POKETEXT, pid, (void *)addr, (void *)word) < 0 ? -errno : 0;
}

/* Execute the instruction at addr, the original put back, and arm the
 * breakpoint again. */
static int step_over(struct process_hold *h, uint64_t addr, long original)
{
	int status, r = poke(h->pid, addr, original);

	if (r == 0 && ptrace(PTRACE_SINGLESTEP, h->pid, NULL, NULL) < 0)
		r = -errno;
	if (r == 0)
		r = wait_stop(h, 0, &status);
	if (r == 0)
		r = poke(h->pid, addr, (original & ~0xffL) | 0xcc);
	return r;
}

/* Continue from breakpoint addr (original: the word it replaced) until
 * a stop there finds the objects loaded, or the deadline. */
static int run_to_loaded(struct process_hold *h, struct target *t, uint64_t addr, long original,
			 uint64_t deadline)
{
	int status, r, sig = 0;
	uint64_t pc;

	for (;;) {
		if (ptrace(PTRACE_CONT, h->pid, NULL, (void *)(long)sig) < 0)
			return -errno;
		sig = 0;
		r = wait_stop(h, deadline, &status);
		if (r == -ETIMEDOUT)
			r = interrupt(h);
		if (r < 0)
			return r;
		if (get_pc(h->pid, &pc) < 0 || WSTOPSIG(status) != SIGTRAP || pc != addr + 1) {
			if (monotonic_ns() >= deadline)
				return -ETIMEDOUT;
			/* Another signal: the process gets it. */
			if ((status >> 16) != PTRACE_EVENT_STOP)
				sig = WSTOPSIG(status);
			continue;
		}
		r = set_pc(h->pid, addr);
		if (r == 0 && target__refresh_maps(t) == 0 && loaded(t))
			return 0;
		if (r == 0)
			r = step_over(h, addr, original);
		if (r < 0)
			return r;
	}
}

int process_hold__until_loaded(struct process_hold *h, unsigned int timeout_ms)
{
	uint64_t deadline = monotonic_ns() + (uint64_t)timeout_ms * 1000000;
	struct target *t;
	uint64_t pc, addr;
	long original;
	int r = target__open(h->pid, 0, &t);

	if (r < 0)
		return r;
	r = get_pc(h->pid, &pc);
	if (r == 0)
		r = linker_breakpoint(t, pc, &addr);
	/* In no linker, or the linker has just finished: nothing to wait for. */
	if (r == -ENOENT || (r == 0 && loaded(t))) {
		target__free(t);
		return 0;
	}
	errno = 0;
	original = r == 0 ? ptrace(PTRACE_PEEKTEXT, h->pid, (void *)addr, NULL) : 0;
	if (r == 0 && errno)
		r = -errno;
	if (r == 0)
		r = poke(h->pid, addr, (original & ~0xffL) | 0xcc);
	if (r == 0) {
		r = run_to_loaded(h, t, addr, original, deadline);
		/* The breakpoint goes, whether it was reached or not. */
		if (!h->exited) {
			if (get_pc(h->pid, &pc) == 0 && pc == addr + 1)
				set_pc(h->pid, addr);
			poke(h->pid, addr, original);
		}
	}
	target__free(t);
	return r;
}

void process_hold__release(struct process_hold *h)
{
	if (!h)
		return;
	if (!h->exited)
		ptrace(PTRACE_DETACH, h->pid, NULL, NULL);
	free(h);
}
