/* seccomp_check.h - can a process confined by seccomp survive memleakd's
 * return probes? On x86-64 from Linux 6.11, a return probe sends the
 * thread back through the kernel's own uretprobe system call. Kernels
 * that let seccomp filter that call (6.11 to 6.13 without the stable fix
 * that exempts it) kill or crash a confined process at its first traced
 * return, unless its filter happens to allow the call. Which kind of
 * kernel this is cannot be read from user space, so it is tried on a
 * child of memleakd. Library code: returns -errno and never logs. */
#ifndef SECCOMP_CHECK_H
#define SECCOMP_CHECK_H

#include <stdbool.h>

/* The modes of /proc/PID/status's Seccomp: field. */
enum seccomp_mode {
	SECCOMP_NONE = 0,
	SECCOMP_STRICT = 1,
	SECCOMP_FILTERED = 2,
};

/* The seccomp mode of the process whose /proc directory is proc_fd (an
 * O_PATH descriptor). Returns 0, -ESRCH once the process is gone, -ENODATA
 * for a kernel without the field, or -errno. */
int seccomp_check__mode(int proc_fd, enum seccomp_mode *mode);
/* "strict" or "filter"; "none" for SECCOMP_NONE. */
const char *seccomp_check__mode_name(enum seccomp_mode mode);
/* Whether a return probe gets through a filter that allows nothing else:
 * a child confines itself with such a filter (default: kill the process)
 * and returns from a function of this executable under a perf-event
 * return probe of memleakd's own, opened for that child alone. *passes is
 * true when the child exits normally, false when the filter killed it.
 * Takes a few milliseconds; the probe and the child are gone on return.
 * Returns 0, or -errno when the check cannot be made (no uprobe PMU,
 * fork or perf_event_open failing). */
int seccomp_check__return_probes(bool *passes);

#endif
