/* mappings.bpf.h - the target's anonymous memory mappings: each of its
 * mmap, munmap, mremap, brk and mprotect calls that changed its anonymous
 * memory becomes one event (struct mapping_event) on a ring buffer, which
 * user space reads into ranges (src/snapshot/mappings.c). Included at the
 * end of memleakd.bpf.c, whose stack capture and in-flight records it uses.
 *
 * The programs are BTF-typed tracepoints on every syscall's entry and exit
 * (tp_btf/sys_enter, sys_exit): no tracefs, and they see what uprobes on
 * libc's wrappers would miss, raw syscall(2)s, static binaries, Go's
 * runtime. They run for every syscall on the machine, and return at once
 * for the other syscalls and processes (BENCHMARKS.md has the cost).
 *
 * What counts is private anonymous memory the process can access, from
 * the call that gave it: an mmap that is not PROT_NONE, a brk that moves
 * the heap top up, an mprotect that opens a PROT_NONE anonymous
 * reservation (glibc commits its arenas' heaps and its threads' stacks
 * so). PROT_NONE mappings are sent too, as reservations: their bytes
 * count once opened. munmap, brk down and an mmap MAP_FIXED over it take
 * memory away, mprotect to PROT_NONE reserves it again, mremap moves it.
 * A reservation made before attach is known only by its VMA, looked up as
 * mprotect opens it; when the lookup finds the VMA tree locked (another
 * thread changing it), only the reservations seen being made count. A mapping made while a traced allocator call runs on
 * the thread (its in-flight record says so) is the allocator's own heap,
 * and flagged so.
 */
#ifndef MAPPINGS_BPF_H
#define MAPPINGS_BPF_H

#define MAPPING_PAGE 4096ULL
/* A syscall's return value in [-MAX_ERRNO, -1] is an error. */
#define MAPPING_MAX_ERRNO 4095
/* x86-64's syscall numbers, mmap's flags and the VMA flags: vmlinux.h has
 * no #defines. */
#define NR_MMAP 9
#define NR_MPROTECT 10
#define NR_MUNMAP 11
#define NR_BRK 12
#define NR_MREMAP 25
#define PROT_ACCESS 0x7 /* PROT_READ | PROT_WRITE | PROT_EXEC */
#define MAP_TYPE 0x0f
#define MAP_PRIVATE 0x02
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MREMAP_FIXED 0x2
#define VM_ACCESS 0x7 /* VM_READ | VM_WRITE | VM_EXEC */
#define VM_SHARED 0x8

/* Set before load: events waiting in the ring buffer past which a new one
 * wakes user space; below it, user space reads them at its next report. */
const volatile __u64 mapping_wakeup_bytes = 1;

/* tgid -> target index, the processes whose mappings are traced. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, MEMLEAKD_MAX_TARGETS);
} mapping_targets SEC(".maps");

/* max_entries set by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} mapping_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct mapping_counters);
	__uint(max_entries, MEMLEAKD_MAX_TARGETS);
} mapping_counters SEC(".maps");

/* What a thread's brk or mprotect found at entry, for its exit. */
struct mapping_call {
	__u64 brk;        /* the heap top when brk was entered */
	__u64 start, end; /* mprotect: its range */
	__u64 reserved;   /* mprotect: bytes from start in one PROT_NONE anonymous VMA */
	__u32 op;         /* mprotect: MAPPING_OPEN, MAPPING_CLOSE, 0 (not traced) */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct mapping_call);
} mapping_calls SEC(".maps");

static __always_inline __u64 page_up(__u64 n)
{
	return (n + MAPPING_PAGE - 1) & ~(MAPPING_PAGE - 1);
}

static __always_inline bool syscall_failed(long ret)
{
	return ret < 0 && ret >= -MAPPING_MAX_ERRNO;
}

/* Is the calling process traced? Its target index in *target. */
static __always_inline bool mapping_target(__u32 *target)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 *t;

	if (paused)
		return false;
	t = bpf_map_lookup_elem(&mapping_targets, &tgid);
	if (!t)
		return false;
	*target = *t & (MEMLEAKD_MAX_TARGETS - 1);
	return !target_paused[*target];
}

/* Send ev; MAPPING_MAP, MAPPING_OPEN and a growing MAPPING_MOVE get the
 * stack at regs, and whether a traced allocator call made them. One
 * subprogram for every caller: the stack walk is verified once per
 * program, not per call. The CPU is its own meanwhile (cpu_own). */
static __noinline void mapping_send(void *ctx, struct pt_regs *regs, struct mapping_event *ev)
{
	__u32 target = ev->target & (MEMLEAKD_MAX_TARGETS - 1);
	struct mapping_counters *mc = bpf_map_lookup_elem(&mapping_counters, &target);
	struct mapping_event *e;

	if (!mc)
		return;
	cpu_own();
	ev->stack_id = MEMLEAKD_MAPPING_STACK_LOST;
	if (ev->op == MAPPING_MAP || ev->op == MAPPING_OPEN ||
	    (ev->op == MAPPING_MOVE && ev->new_len > ev->len)) {
		struct target_counters *c = counters_of(target);
		struct inflight_call *call = bpf_task_storage_get(&inflight,
								  bpf_get_current_task_btf(), 0,
								  BPF_LOCAL_STORAGE_GET_F_CREATE);
		__u32 stack = MEMLEAKD_STACK_LOST;

		if (c && call) {
			if (nested(call, regs->sp))
				ev->flags |= MAPPING_F_HEAP;
			stack = user_stack_id(ctx, regs, c, target, call);
		}
		if (stack != MEMLEAKD_STACK_LOST)
			ev->stack_id = stack;
		else if (c)
			c->stack_errors++;
	}
	e = bpf_ringbuf_reserve(&mapping_events, sizeof(*e), 0);
	if (e) {
		ev->time_ns = bpf_ktime_get_ns();
		*e = *ev;
		mc->events++;
		bpf_ringbuf_submit(e, bpf_ringbuf_query(&mapping_events, BPF_RB_AVAIL_DATA) >=
					      mapping_wakeup_bytes ? BPF_RB_FORCE_WAKEUP :
								     BPF_RB_NO_WAKEUP);
	} else {
		mc->dropped_events++;
	}
	cpu_release();
}

/* An event of op on [addr, addr + len). */
static __always_inline void mapping_range(void *ctx, struct pt_regs *regs, __u32 target,
					  __u32 op, __u64 addr, __u64 len, __u32 flags)
{
	struct mapping_event ev = { .addr = addr, .len = len, .target = target, .op = op,
				    .flags = flags };

	mapping_send(ctx, regs, &ev);
}

struct vma_found {
	__u64 end;
	__u64 flags;
	bool anonymous; /* no file behind it */
};

static long vma_found_of(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct vma_found *out = data;

	out->end = vma->vm_end;
	out->flags = vma->vm_flags;
	out->anonymous = !vma->vm_file;
	return 0;
}

/* The VMA holding addr in the current process; -1 when none. */
static __always_inline int vma_at(__u64 addr, struct vma_found *out)
{
	return bpf_find_vma(bpf_get_current_task_btf(), addr, vma_found_of, out, 0) ? -1 : 0;
}

static __always_inline void mmap_exit(void *ctx, struct pt_regs *regs, long ret)
{
	__u64 len = page_up(regs->si), prot = regs->dx, flags = regs->r10;
	__u32 target;

	if (syscall_failed(ret) || !len || !mapping_target(&target))
		return;
	if ((flags & MAP_ANONYMOUS) && (flags & MAP_TYPE) == MAP_PRIVATE)
		mapping_range(ctx, regs, target, prot & PROT_ACCESS ? MAPPING_MAP : MAPPING_RESERVE,
			      ret, len, 0);
	else if (flags & MAP_FIXED)
		mapping_range(ctx, regs, target, MAPPING_UNMAP, ret, len, 0);
}

/* At entry, so that the event comes before any new mapping at the same
 * addresses. Arguments munmap refuses change nothing. */
static __always_inline void munmap_enter(void *ctx, struct pt_regs *regs)
{
	__u64 addr = regs->di, len = page_up(regs->si);
	__u32 target;

	if ((addr & (MAPPING_PAGE - 1)) || !len || !mapping_target(&target))
		return;
	mapping_range(ctx, regs, target, MAPPING_UNMAP, addr, len, 0);
}

/* Anonymous private memory moves (and grows or shrinks); a file mapping
 * moved by MREMAP_FIXED replaces what was at its new place. */
static __always_inline void mremap_exit(void *ctx, struct pt_regs *regs, long ret)
{
	__u64 old = regs->di, old_len = page_up(regs->si), new_len = page_up(regs->dx);
	struct vma_found vma;
	__u32 target;

	if (syscall_failed(ret) || !old_len || !mapping_target(&target))
		return;
	if (!vma_at(ret, &vma) && vma.anonymous && !(vma.flags & VM_SHARED)) {
		struct mapping_event ev = { .addr = old, .len = old_len, .new_addr = ret,
					    .new_len = new_len, .target = target,
					    .op = MAPPING_MOVE };

		mapping_send(ctx, regs, &ev);
	} else if (regs->r10 & MREMAP_FIXED) {
		mapping_range(ctx, regs, target, MAPPING_UNMAP, ret, new_len, 0);
	}
}

static __always_inline void brk_enter(void)
{
	struct mapping_call *call;
	__u32 target;

	if (!mapping_target(&target))
		return;
	call = bpf_task_storage_get(&mapping_calls, bpf_get_current_task_btf(), 0,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (call)
		call->brk = BPF_CORE_READ(bpf_get_current_task_btf(), mm, brk);
}

/* brk returns the new heap top, the old one when it fails. */
static __always_inline void brk_exit(void *ctx, struct pt_regs *regs, long ret)
{
	struct mapping_call *call;
	__u64 old, new;
	__u32 target;

	if (!mapping_target(&target))
		return;
	call = bpf_task_storage_get(&mapping_calls, bpf_get_current_task_btf(), 0, 0);
	if (!call || !call->brk)
		return;
	old = page_up(call->brk);
	new = page_up(ret);
	call->brk = 0;
	if (new > old)
		mapping_range(ctx, regs, target, MAPPING_MAP, old, new - old, MAPPING_F_GROW);
	else if (new < old)
		mapping_range(ctx, regs, target, MAPPING_UNMAP, new, old - new, 0);
}

/* What the call will do, noted before it changes the VMAs: PROT_NONE
 * closes its range; anything else opens it, and the lookup of the VMA at
 * addr says whether a PROT_NONE anonymous reservation made before attach
 * lies there. */
static __always_inline void mprotect_enter(struct pt_regs *regs)
{
	__u64 addr = regs->di, len = page_up(regs->si), prot = regs->dx;
	struct mapping_call *call;
	struct vma_found vma;
	__u32 target;

	if ((addr & (MAPPING_PAGE - 1)) || !len || !mapping_target(&target))
		return;
	call = bpf_task_storage_get(&mapping_calls, bpf_get_current_task_btf(), 0,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!call)
		return;
	call->start = addr;
	call->end = addr + len;
	call->reserved = 0;
	call->op = prot & PROT_ACCESS ? MAPPING_OPEN : MAPPING_CLOSE;
	if (call->op == MAPPING_CLOSE || vma_at(addr, &vma) || !vma.anonymous ||
	    (vma.flags & (VM_SHARED | VM_ACCESS)))
		return;
	call->reserved = (vma.end < call->end ? vma.end : call->end) - addr;
}

static __always_inline void mprotect_exit(void *ctx, struct pt_regs *regs, long ret)
{
	struct mapping_call *call;
	struct mapping_event ev;
	__u32 target;

	if (!mapping_target(&target))
		return;
	call = bpf_task_storage_get(&mapping_calls, bpf_get_current_task_btf(), 0, 0);
	if (!call || !call->op)
		return;
	ev = (struct mapping_event){ .addr = call->start, .len = call->end - call->start,
				     .new_len = call->reserved, .target = target, .op = call->op,
				     .flags = call->op == MAPPING_OPEN ? MAPPING_F_GROW : 0 };
	call->op = 0;
	if (!ret && ev.len)
		mapping_send(ctx, regs, &ev);
}

/* Every syscall's entry and exit, with the user registers it was made
 * with: the others' return at once. */
SEC("tp_btf/sys_enter")
int BPF_PROG(mapping_sys_enter, struct pt_regs *regs, long id)
{
	if (id == NR_MUNMAP)
		munmap_enter(ctx, regs);
	else if (id == NR_BRK)
		brk_enter();
	else if (id == NR_MPROTECT)
		mprotect_enter(regs);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(mapping_sys_exit, struct pt_regs *regs, long ret)
{
	long id = regs->orig_ax;

	if (id == NR_MMAP)
		mmap_exit(ctx, regs, ret);
	else if (id == NR_MREMAP)
		mremap_exit(ctx, regs, ret);
	else if (id == NR_BRK)
		brk_exit(ctx, regs, ret);
	else if (id == NR_MPROTECT)
		mprotect_exit(ctx, regs, ret);
	return 0;
}

#endif
