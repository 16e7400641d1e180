/* targets.bpf.h - the programs that see processes start, so that the
 * daemon traces those it is asked for without polling /proc: with
 * --follow-forks, a fork of a traced process (exec_targets, exec.bpf.h);
 * an exec, fork or move into a cgroup of a process that
 * matches --exe (its executable's file) and --cgroup (a cgroup v2
 * subtree). Each such start is one event (struct process_event) on a ring
 * buffer; user space decides what to do with it. They are BTF-typed
 * tracepoints (tp_btf/sched_process_exec, sched_process_fork,
 * cgroup_attach_task): no tracefs, and the kernel filters, so the daemon
 * wakes only for the processes it wants. They run for every exec, fork
 * and thread creation on the machine and return at once for the others.
 * Included at the end of memleakd.bpf.c, after exec.bpf.h.
 */
#ifndef TARGETS_BPF_H
#define TARGETS_BPF_H

/* Cgroup v2 nesting the match walks: far deeper than systemd's slices. */
#define CGROUP_MAX_DEPTH 32

/* Set by user space before loading: the inodes of the --exe files (their
 * devices are compared in user space, which sees them as stat(2) does,
 * not as the kernel numbers them), the --cgroup ids, and --follow-forks. */
const volatile __u32 n_watched_files;
const volatile __u64 watched_ino[MEMLEAKD_MAX_WATCHED];
const volatile __u32 n_watched_cgroups;
const volatile __u64 watched_cgroups[MEMLEAKD_MAX_WATCHED];
const volatile bool follow_forks;

/* Events the ring buffer had no room for. */
volatile __u64 process_events_dropped;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} process_events SEC(".maps");

static __always_inline bool watching(void)
{
	return n_watched_files || n_watched_cgroups;
}

/* May task run one of the --exe files (any file, without --exe)? */
static __always_inline bool file_matches(struct task_struct *task)
{
	__u64 ino;

	if (!n_watched_files)
		return true;
	ino = BPF_CORE_READ(task, mm, exe_file, f_inode, i_ino);
	for (__u32 i = 0; i < MEMLEAKD_MAX_WATCHED && i < n_watched_files; i++)
		if (ino && watched_ino[i] == ino)
			return true;
	return false;
}

static __always_inline bool cgroup_watched(__u64 id)
{
	for (__u32 i = 0; i < MEMLEAKD_MAX_WATCHED && i < n_watched_cgroups; i++)
		if (watched_cgroups[i] == id)
			return true;
	return false;
}

/* Is task in one of the --cgroup subtrees (anywhere, without --cgroup)?
 * Its cgroup v2 and each ancestor's id are compared. */
static __always_inline bool cgroup_matches(struct task_struct *task)
{
	struct cgroup *cgrp = BPF_CORE_READ(task, cgroups, dfl_cgrp);
	int level;

	if (!n_watched_cgroups)
		return true;
	if (!cgrp)
		return false;
	level = BPF_CORE_READ(cgrp, level);
	for (int l = 0; l < CGROUP_MAX_DEPTH && l <= level; l++) {
		struct cgroup *ancestor = BPF_CORE_READ(cgrp, ancestors[l]);

		if (ancestor && cgroup_watched(BPF_CORE_READ(ancestor, kn, id)))
			return true;
	}
	return false;
}

static __always_inline bool matches(struct task_struct *task)
{
	return watching() && file_matches(task) && cgroup_matches(task);
}

static __always_inline bool is_target(__u32 tgid)
{
	return bpf_map_lookup_elem(&exec_targets, &tgid) != NULL;
}

static __always_inline void send_process(__u32 pid, __u32 parent, __u32 kind, __u32 flags)
{
	struct process_event ev = { .pid = pid, .parent = parent, .kind = kind, .flags = flags };

	if (bpf_ringbuf_output(&process_events, &ev, sizeof(ev), 0))
		__sync_fetch_and_add(&process_events_dropped, 1);
}

/* A target's own exec is exec.bpf.h's: its new program is a new process
 * to trace when it matches. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(process_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	if (matches(task))
		send_process(BPF_CORE_READ(task, tgid), 0, PROCESS_EXEC, PROCESS_F_MATCH);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(process_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 tgid = BPF_CORE_READ(child, tgid), parent_tgid = BPF_CORE_READ(parent, tgid);
	__u32 flags = 0;

	/* A new thread, not a new process. */
	if (tgid == parent_tgid)
		return 0;
	if (follow_forks && is_target(parent_tgid))
		flags |= PROCESS_F_TARGET;
	if (matches(child))
		flags |= PROCESS_F_MATCH;
	if (flags)
		send_process(tgid, parent_tgid, PROCESS_FORK, flags);
	return 0;
}

/* A process moved into a cgroup: it may have entered a --cgroup subtree.
 * Its cgroup has changed by the time the tracepoint fires. */
SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(process_moved, struct cgroup *dst, const char *path, struct task_struct *task,
	     bool threadgroup)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);

	if (n_watched_cgroups && !is_target(tgid) && matches(task))
		send_process(tgid, 0, PROCESS_MOVED, PROCESS_F_MATCH);
	return 0;
}

#endif
