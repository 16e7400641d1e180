/* exec.bpf.h - a traced process that calls exec: its address space goes,
 * and with it every allocation memleakd tracks there, while the probes,
 * which are on files, would go on counting the new program's calls into
 * the same libraries, from code memleakd has not read. As the new program
 * is installed, before it runs an instruction, the program below stops
 * that target's probes (target_paused) and tells user space, which writes
 * the final report of what the old program held and lets the target go.
 * Included at the end of memleakd.bpf.c, whose target_paused it sets.
 */
#ifndef EXEC_BPF_H
#define EXEC_BPF_H

/* tgid -> target index: the processes whose exec ends the run. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, MEMLEAKD_MAX_TARGETS);
} exec_targets SEC(".maps");

/* The target index of each traced process that called exec; user space
 * polls the map, and needs not read it. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} exec_events SEC(".maps");

/* Every exec on the machine; the others return at once. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(target_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 *target = bpf_map_lookup_elem(&exec_targets, &tgid);

	if (!target)
		return 0;
	target_paused[*target & (MEMLEAKD_MAX_TARGETS - 1)] = true;
	bpf_ringbuf_output(&exec_events, target, sizeof(*target), 0);
	return 0;
}

#endif
