/* process_hold.h - keep a process that is just starting from running its
 * allocations before memleakd has attached: stopped with ptrace where its
 * dynamic linker has loaded every object and run none of their code (the
 * linker's _dl_debug_state, called with r_debug saying RT_CONSISTENT, the
 * stop debuggers use for the same purpose), then let go. A process found
 * past its loading (a fork child, a static executable) is held where it
 * is. Its parent sees none of it: ptrace stops are the tracer's, not
 * job-control stops.
 *
 * The process is started here (process_hold__spawn: the child asks to be
 * traced and execs), or taken as it is found, just after it exec'd or
 * forked (process_hold__seize), having run for as long as memleakd took
 * to hear of it. While its loading runs to its end, a breakpoint (int3)
 * sits on _dl_debug_state; it is gone before the process goes on. */
#ifndef PROCESS_HOLD_H
#define PROCESS_HOLD_H

#include <sys/types.h>

struct process_hold;

/* Start argv as a child of ours, held at its exec; argv[0] is looked up in
 * PATH as execvp does. The child starts with no signal blocked or ignored
 * (whatever memleakd blocks), as group gid and user uid when they are not
 * -1, and is killed if memleakd dies holding it.
 * Returns 0 and *out; -errno from fork, or the errno of the child's exec
 * (-ENOENT: no such program), the child then reaped. */
#include <sys/types.h>

int process_hold__spawn(char *const argv[], uid_t uid, gid_t gid, struct process_hold **out);
/* Stop process pid where it is. Returns 0 and *out, -ESRCH when it is gone,
 * -EPERM when it cannot be traced (another tracer has it), or -errno. */
int process_hold__seize(pid_t pid, struct process_hold **out);
pid_t process_hold__pid(const struct process_hold *h);
/* Let the held process run until its objects are loaded, at most
 * timeout_ms. Returns 0, stopped there (or where it was, when it had
 * nothing left to load); -ETIMEDOUT, stopped elsewhere; -ESRCH when it
 * exited meanwhile (process_hold__status says how); or -errno, stopped. */
int process_hold__until_loaded(struct process_hold *h, unsigned int timeout_ms);
/* The wait status of a process that exited while held (waitpid's). */
int process_hold__status(const struct process_hold *h);
/* Let the process go on, and free h. Accepts NULL. */
void process_hold__release(struct process_hold *h);

#endif
