/* process_select.h - the processes --exe and --cgroup name: the files and
 * cgroup v2 subtrees as the kernel identifies them, for the programs that
 * see processes start (struct process_filter, bpf/targets.bpf.h); whether
 * a process runs one of the files; and the processes running already that
 * match, read from /proc and the cgroups' cgroup.procs files. */
#ifndef PROCESS_SELECT_H
#define PROCESS_SELECT_H

#include <stdbool.h>
#include <stddef.h>

#include "probes/tracer.h"

/* Fill f's files from exes[0..n_exes) (each path followed to the file it
 * names: a link's target is what the kernel runs) and its cgroups from
 * cgroups[0..n_cgroups) (directories of a cgroup v2 hierarchy). At most
 * MEMLEAKD_MAX_WATCHED of each. Returns 0, or -errno with *error
 * (malloc'd) naming the path and what is wrong with it. */
int process_select_resolve(const char *const *exes, size_t n_exes, const char *const *cgroups,
			   size_t n_cgroups, struct process_filter *f, char **error);
/* Does process pid run one of f's files (true without files)? Its
 * executable is looked at through proc_fd, its /proc directory. */
bool process_select_runs_file(const struct process_filter *f, int proc_fd);
/* The processes running now that match f, memleakd aside: those in the
 * subtrees of cgroups[0..n_cgroups) (the paths f was made from), or all,
 * that run one of f's files. Returns 0 with *pids (malloc'd) and *n, or
 * -errno. */
int process_select_scan(const struct process_filter *f, const char *const *cgroups,
			size_t n_cgroups, int **pids, size_t *n);

#endif
