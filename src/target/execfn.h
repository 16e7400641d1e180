/* execfn.h - the path a process ran its executable by, when the kernel
 * names the file otherwise (a symbolic link to it). */
#ifndef EXECFN_H
#define EXECFN_H

struct target;

/* The name the process gave execve for its executable (AT_EXECFN), into
 * *out (to free), when it is absolute, differs from /proc/PID/exe, and
 * resolves under the process's root to the very file /proc/PID/exe is.
 * Returns 0 and *out; -ENOENT when there is no such other name (or it
 * does not resolve to that file); -ESRCH once the process is gone;
 * -ENOMEM; or another -errno. */
int execfn_read(const struct target *t, const char *exe, char **out);

#endif
