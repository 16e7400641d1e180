// SPDX-License-Identifier: GPL-2.0
/* memleakd.bpf.c - the probes: allocations in, frees out, totals per stack.
 *
 * Every traced function is attached to one of a few generic programs
 * (allocations, and context resets and deletes: entry and return, or one
 * session program for both; free; a context's move); the attach cookie
 * (include/memleakd.h) says which
 * argument is the size, the pointer, the out-argument or the context, so a
 * new allocator needs no new BPF code. An allocation is recorded at the
 * return probe, where the caller's frame is the first user frame of the
 * stack. Per-stack totals, by generation, are updated here, so a report
 * reads O(stacks) entries, never O(allocations). A context reset costs
 * O(1): it stamps the context with the time; track() retires a released
 * record when its address comes back, or the sweep program, which user
 * space runs, does; until then reports leave it out
 * (src/snapshot/context_resets.c).
 * The maps of outstanding allocations are in alloc_records.bpf.h, the stack
 * walk in unwind.bpf.h, contexts' creation, reset, delete and move in
 * contexts.bpf.h, the sweep program in sweep.bpf.h, the programs that watch
 * the target's memory mappings in mappings.bpf.h, the one that sees a
 * target call exec in exec.bpf.h, those that see processes start (--exe,
 * --cgroup, --follow-forks) in targets.bpf.h.
 *
 * Allocating functions are watched by an entry and a return program, or,
 * where the kernel has uprobe sessions, by one program that sees both and
 * whose entry declines the return of a call it does not track (nested,
 * paused, or not sampled with --sample-bytes): one trap instead of two.
 *
 * A program runs with migration disabled, but a preemptible kernel
 * (PREEMPT_RCU: preempt=full or lazy, RT) may preempt it, and another
 * program then runs on the same CPU: each program's body runs with
 * preemption off (bpf_preempt_disable, Linux 6.10), so that the per-CPU
 * scratch buffers, the unwinder's cache and the per-CPU counters are its
 * own. The totals every CPU shares take atomic adds.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "memleakd.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by user space before the final report: every program stops at once,
 * where detaching probe by probe would see frees without their mallocs. */
volatile bool paused;
/* Per target: set as its process calls exec (exec.bpf.h), since its probes,
 * on files the new program maps too, would see that program's calls. */
volatile bool target_paused[MEMLEAKD_MAX_TARGETS];

static __always_inline bool stopped(__u32 target)
{
	return paused || target_paused[target & (MEMLEAKD_MAX_TARGETS - 1)];
}
/* Run-time addresses of the globals named by ctx=@GLOBAL specs, per target,
 * filled in by user space before attaching; the cookie holds the slot. */
volatile __u64 ctx_globals[MEMLEAKD_MAX_TARGETS][MEMLEAKD_MAX_CTX_GLOBALS];
/* Per target, the code that frees on the allocator's own behalf (struct
 * code_range), filled in by user space before attaching. */
volatile struct code_range allocator_callers[MEMLEAKD_MAX_TARGETS];
/* The generation new allocations join (struct stack_key), set by user space. */
volatile __u16 generation = 1;
/* --sample-bytes: the mean of the countdowns, 0 to track every allocation. */
const volatile __u64 sample_bytes;
/* Countdowns of an exponential distribution of mean sample_bytes (its
 * quantiles, in bytes: no floating point here), set by user space. */
const volatile __u64 sample_countdowns[MEMLEAKD_SAMPLE_TABLE];
/* MEMLEAKD_EMPTY_PROBES: the allocation and free programs return at once,
 * return probes included: what the probes cost before any work
 * (bench/run.py). */
const volatile bool empty_probes;

/* Set by user space: the kernel has bpf_preempt_disable and
 * bpf_preempt_enable (Linux 6.10); without them the calls are left out. */
const volatile bool preempt_kfuncs;

/* Uprobe sessions (Linux 6.10): only the session program calls them, and
 * it is loaded only where the kernel has them. */
extern bool bpf_session_is_return(void) __ksym __weak;
extern void bpf_preempt_disable(void) __ksym __weak;
extern void bpf_preempt_enable(void) __ksym __weak;

/* The CPU is the program's own until cpu_release(): no other program runs
 * on it in between. */
static __always_inline void cpu_own(void)
{
	if (preempt_kfuncs)
		bpf_preempt_disable();
}

static __always_inline void cpu_release(void)
{
	if (preempt_kfuncs)
		bpf_preempt_enable();
}

/* Stack id -> frames. Our own map rather than a STACK_TRACE map, which
 * refuses a stack whose bucket holds another: here two stacks whose hashes
 * meet are told apart by their frames and the second takes the next id.
 * User space reclaims the ids of stacks that hold nothing (struct
 * stack_frames' tag). Not preallocated, as stack_totals: an entry takes
 * memory once used. Their max_entries are set by user space (--max-stacks). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct stack_frames);
	__uint(max_entries, 1);
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct stack_map_counts);
	__uint(max_entries, 1);
} stack_counts SEC(".maps");

/* Set by user space: an eighth of the stacks map's capacity. */
const volatile __u64 stack_signal_step;

/* The stacks map took another stack_signal_step stacks, or refused its
 * first stack of a step: user space looks whether ids are due for
 * reclaim, between reports. The value is unused. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} stack_events SEC(".maps");

/* Room to capture one stack, per CPU: too big for the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct stack_frames);
	__uint(max_entries, 1);
} stack_scratch SEC(".maps");

/* One value for every CPU: the same bytes, whatever the number of CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct stack_key);
	__type(value, struct stack_totals);
	__uint(max_entries, 1);
} stack_totals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct target_counters);
	__uint(max_entries, MEMLEAKD_MAX_TARGETS);
} counters SEC(".maps");

/* memleakd_alloc_key(target, ctx) -> bpf_ktime_get_ns() of its last reset. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, __u64);
	__uint(max_entries, MEMLEAKD_MAX_CONTEXTS);
} resets SEC(".maps");

/* One record per thread: the outermost traced call it is inside. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct inflight_call);
} inflight SEC(".maps");

#include "unwind.bpf.h"
#include "alloc_records.bpf.h"

static __always_inline struct target_counters *counters_of(__u32 target)
{
	return bpf_map_lookup_elem(&counters, &target);
}

/* Force a ctx field to be loaded here, with its constant offset: left to
 * itself clang merges the loads of a selection into one load at a variable
 * ctx offset, which the verifier rejects. */
#define REG(x) ({ __u64 v_ = (x); asm volatile("" : "+r"(v_)); v_; })

/* The argument at location loc, a cookie argument field (memleakd.h):
 * 1-6 the argument registers, 7-15 those a prologue moved one to; 0 reads
 * as 0. The common case, an argument in its own register, loads six. */
static __always_inline __u64 arg_n(struct pt_regs *ctx, unsigned int loc)
{
	if (loc <= 6) {
		__u64 args[8] = {
			0, REG(PT_REGS_PARM1(ctx)), REG(PT_REGS_PARM2(ctx)), REG(PT_REGS_PARM3(ctx)),
			REG(PT_REGS_PARM4(ctx)), REG(PT_REGS_PARM5(ctx)),
			REG(ctx->r9), /* libbpf 1.1 has no PT_REGS_PARM6 */
		};

		return args[loc & 7];
	}
	__u64 others[16] = {
		[COOKIE_LOC_RAX] = REG(ctx->ax), [COOKIE_LOC_RBX] = REG(ctx->bx),
		[COOKIE_LOC_RBP] = REG(ctx->bp), [COOKIE_LOC_R10] = REG(ctx->r10),
		[COOKIE_LOC_R10 + 1] = REG(ctx->r11), [COOKIE_LOC_R10 + 2] = REG(ctx->r12),
		[COOKIE_LOC_R10 + 3] = REG(ctx->r13), [COOKIE_LOC_R10 + 4] = REG(ctx->r14),
		[COOKIE_LOC_R10 + 5] = REG(ctx->r15),
	};

	return others[loc & COOKIE_LOC_MAX];
}

/* The totals of stack_id in generation gen, created if missing; a full map
 * puts it in generation 0 (*gen says which). NULL: no room at all. */
static __always_inline struct stack_totals *stack_entry(__u32 target, __u32 stack_id, __u16 *gen)
{
	struct stack_key key = { .stack_id = stack_id, .target = target, .generation = *gen };
	struct stack_totals zero = {}, *t;

	for (int i = 0; i < 2; i++, key.generation = 0) {
		t = bpf_map_lookup_elem(&stack_totals, &key);
		if (!t) {
			bpf_map_update_elem(&stack_totals, &key, &zero, BPF_NOEXIST);
			t = bpf_map_lookup_elem(&stack_totals, &key);
		}
		if (t) {
			*gen = key.generation;
			return t;
		}
	}
	return NULL;
}

/* Every CPU adds to the same value: atomic adds. born is the allocation's
 * birth, earlier than now for a block realloc moved; first_ns keeps the
 * earliest, by compare-and-swap. */
static __always_inline void stack_add(struct stack_totals *t, __u64 size, __u64 born)
{
	__u64 first = t->first_ns;

	__sync_fetch_and_add(&t->outstanding_bytes, size);
	__sync_fetch_and_add(&t->outstanding_allocs, 1);
	__sync_fetch_and_add(&t->total_bytes, size);
	__sync_fetch_and_add(&t->total_allocs, 1);
	for (int i = 0; i < 4 && (!first || born < first); i++) {
		__u64 seen = __sync_val_compare_and_swap(&t->first_ns, first, born);

		if (seen == first)
			break;
		first = seen;
	}
}

static __always_inline void stack_remove(__u32 target, __u32 stack_id, __u16 gen, __u64 size)
{
	struct stack_totals *t = stack_entry(target, stack_id, &gen);

	if (t) {
		__sync_fetch_and_sub(&t->outstanding_bytes, size);
		__sync_fetch_and_sub(&t->outstanding_allocs, 1);
	}
}

/* FNV-1a over the frames' bytes, 64-bit folded to 32. */
static __always_inline __u32 stack_hash(const struct stack_frames *f, __u32 n)
{
	__u64 h = 0xcbf29ce484222325ULL;

	for (__u32 i = 0; i < MEMLEAKD_MAX_FRAMES && i < n; i++) {
		h ^= f->ips[i];
		h *= 0x100000001b3ULL;
	}
	return (__u32)(h ^ (h >> 32));
}

static __always_inline bool same_frames(const struct stack_frames *a, const struct stack_frames *b)
{
	for (__u32 i = 0; i < MEMLEAKD_MAX_FRAMES; i++) {
		if (a->ips[i] != b->ips[i])
			return false;
		if (!a->ips[i])
			return true;
	}
	return true;
}

/* Capture the current user stack into f, from regs, the thread's user
 * registers, with the unwind tables; else by the kernel's frame-pointer
 * walk, which takes the program's ctx. Returns its number of frames. */
static __always_inline __u32 capture_stack(void *ctx, struct pt_regs *regs,
					   struct target_counters *c, __u32 target,
					   struct inflight_call *call, struct stack_frames *f)
{
	long len;

	if (unwind_tables)
		return unwind_user(regs, c, target, call, f);
	/* The helper zeroes the unused tail, which ends the frame list. */
	len = bpf_get_stack(ctx, f->ips, sizeof(f->ips), BPF_F_USER_STACK);
	return len > 0 ? len / sizeof(__u64) : 0;
}

/* Does the entry under id hold frames f, live? Its tag is read before and
 * after the frames: a deleted entry's memory may go to another key at
 * once, and a tag that held across the comparison vouches for it. */
static __always_inline bool holds_frames(struct stack_frames *known, __u32 id,
					 const struct stack_frames *f)
{
	volatile __u64 *tag = &known->tag;

	if (*tag != MEMLEAKD_STACK_LIVE(id) || !same_frames(known, f))
		return false;
	return *tag == MEMLEAKD_STACK_LIVE(id);
}

/* One more stack inserted, or refused by a full map; every
 * stack_signal_step insertions, and the first refusal of a step, wake user
 * space (stack_events). */
static __always_inline void count_stack(bool full)
{
	__u32 zero = 0, unused = 0;
	struct stack_map_counts *sc = bpf_map_lookup_elem(&stack_counts, &zero);
	__u64 before;

	if (!sc || !stack_signal_step)
		return;
	if (full) {
		before = __sync_fetch_and_add(&sc->full, 1);
		if (before % stack_signal_step)
			return;
	} else {
		before = __sync_fetch_and_add(&sc->inserted, 1);
		if ((before + 1) % stack_signal_step)
			return;
	}
	bpf_ringbuf_output(&stack_events, &unused, sizeof(unused), 0);
}

/* The id of the user stack at regs (see capture_stack), stored on first
 * sight under the first free id from its hash on: the ids after it are
 * looked at all the same, since a reclaimed id leaves a gap before the
 * stacks that went past it. On failure (no stack, a full map: counted, or
 * no free id within a few of its hash) MEMLEAKD_STACK_LOST. */
static __always_inline __u32 user_stack_id(void *ctx, struct pt_regs *regs,
					   struct target_counters *c, __u32 target,
					   struct inflight_call *call)
{
	__u32 zero = 0, id, n, free_id = MEMLEAKD_STACK_LOST;
	struct stack_frames *f = bpf_map_lookup_elem(&stack_scratch, &zero);
	struct stack_frames *known;
	long r;

	if (!f)
		return MEMLEAKD_STACK_LOST;
	n = capture_stack(ctx, regs, c, target, call, f);
	if (!n)
		return MEMLEAKD_STACK_LOST;
	id = stack_hash(f, n);
	for (int probe = 0; probe < MEMLEAKD_STACK_PROBES; probe++, id++) {
		if (id == MEMLEAKD_STACK_LOST || !memleakd_stack_real(id))
			continue;
		known = bpf_map_lookup_elem(&stacks, &id);
		if (!known && free_id == MEMLEAKD_STACK_LOST)
			free_id = id;
		if (known && holds_frames(known, id, f))
			return id;
	}
	if (free_id == MEMLEAKD_STACK_LOST)
		return MEMLEAKD_STACK_LOST;
	f->tag = MEMLEAKD_STACK_LIVE(free_id);
	r = bpf_map_update_elem(&stacks, &free_id, f, BPF_NOEXIST);
	if (!r) {
		count_stack(false);
		return free_id;
	}
	if (r == -E2BIG) {
		count_stack(true);
		c->stack_map_full++;
		return MEMLEAKD_STACK_LOST;
	}
	/* Inserted by another CPU since the lookup: compare with it. */
	known = bpf_map_lookup_elem(&stacks, &free_id);
	return known && holds_frames(known, free_id, f) ? free_id : MEMLEAKD_STACK_LOST;
}

/* The id of the stack a uprobe stopped: its ctx holds the user registers. */
static __always_inline __u32 stack_id(struct pt_regs *ctx, struct target_counters *c,
				      __u32 target, struct inflight_call *call)
{
	return user_stack_id(ctx, ctx, c, target, call);
}

/* Take ptr's record out of the maps, its stack's totals as they are;
 * returns 0 when it was tracked, with the record in *old. */
static __always_inline int take_record(__u32 target, __u64 ptr, struct tracked *old)
{
	__u64 key = memleakd_alloc_key(target, ptr);

	return take_plain(key, old) && take_ctx(key, old) ? -1 : 0;
}

static __always_inline int untrack(__u32 target, __u64 ptr, struct tracked *old)
{
	if (take_record(target, ptr, old))
		return -1;
	stack_remove(target, old->stack_id, old->generation, old->size);
	return 0;
}

/* Was old released by a reset of its context since it was allocated? */
static __always_inline bool stale(__u32 target, const struct tracked *old)
{
	__u64 key = memleakd_alloc_key(target, old->ctx);
	__u64 *reset_ns;

	if (!old->ctx)
		return false;
	reset_ns = bpf_map_lookup_elem(&resets, &key);
	return reset_ns && old->timestamp_ns < *reset_ns;
}

/* Account old, a record found at an address handed out again. */
static __always_inline void retire(struct target_counters *c, __u32 target, const struct tracked *old)
{
	stack_remove(target, old->stack_id, old->generation, old->size);
	if (stale(target, old))
		c->reset_frees++;
	else
		c->replaced_allocs++;
}

static __always_inline void track(struct pt_regs *ctx, struct target_counters *c, __u32 target,
				  struct inflight_call *call, __u64 ptr, __u64 size, __u64 context)
{
	__u64 key = memleakd_alloc_key(target, ptr);
	struct tracked t = { .size = size, .ctx = context, .timestamp_ns = call->entry_ns,
			     .stack_id = stack_id(ctx, c, target, call),
			     .generation = generation };
	enum renewal renewed = RENEW_NONE;
	struct stack_totals *totals;
	struct tracked old;

	if (t.stack_id == MEMLEAKD_STACK_LOST)
		c->stack_errors++;
	totals = stack_entry(target, t.stack_id, &t.generation);
	/* A pointer handed out again: its context was reset since (arenas
	 * reuse addresses), or we did not see its free. Retire the old record
	 * so its stack's totals stay exact. Without a context the common case
	 * takes one lookup: the record the address's last free kept, in the
	 * map its hash chose, takes the new one (renew_plain). */
	if (totals && !context) {
		if (!take_elsewhere(key, &old))
			retire(c, target, &old);
		renewed = renew_plain(key, &t, &old);
		if (renewed == RENEW_REPLACED)
			retire(c, target, &old);
	} else if (!take_record(target, ptr, &old)) {
		retire(c, target, &old);
	}
	if (!totals) {
		c->dropped_totals++;
		return;
	}
	if (renewed == RENEW_NONE && record(key, &t)) {
		c->dropped_allocs++;
		return;
	}
	c->allocs++;
	stack_add(totals, size, t.timestamp_ns);
}

/* nmemb * size, saturated: an overflowing request must still read as
 * nonzero, so that its failure is counted. */
static __always_inline __u64 array_bytes(__u64 nmemb, __u64 size)
{
	/* The barrier keeps clang from turning the test into a 128-bit
	 * multiplication, which BPF lacks. */
	__u64 limit = REG(size ? ~0ULL / size : ~0ULL);

	return nmemb > limit ? ~0ULL : nmemb * size;
}

/* The word at sp in the user stack, 0 if unreadable. */
static __always_inline __u64 word_at(__u64 sp)
{
	__u64 word = 0;

	bpf_probe_read_user(&word, sizeof(word), (void *)sp);
	return word;
}

/* Is a free entered at sp called by the allocator itself: does its return
 * address lie in the target's allocator_callers? Asked only of pointers
 * not tracked, so a tracked free never pays the read. */
static __always_inline bool allocator_call(__u32 target, __u64 sp)
{
	volatile struct code_range *own = &allocator_callers[target & (MEMLEAKD_MAX_TARGETS - 1)];
	__u64 start = own->start, end = own->end, ret;

	if (!start)
		return false;
	ret = word_at(sp);
	return ret >= start && ret < end;
}

/* Is the traced call entered at entry_sp, at entry_ns, still running
 * further up this thread's stack than sp, or did it tail-jump here
 * (entered at the same stack pointer)? While a call runs, its return slot
 * holds the trampoline of its return probe. A record whose stack pointer
 * is below ours, whose return slot has been reused, or that is older than
 * any real call, was abandoned by a longjmp out of the allocator. */
static __always_inline bool call_running(__u64 entry_sp, __u64 entry_ns, __u64 sp)
{
	return entry_sp >= sp && word_at(entry_sp) == uretprobe_trampoline() &&
	       bpf_ktime_get_ns() - entry_ns < MEMLEAKD_STALE_CALL_NS;
}

/* Is this thread inside an allocating call? The costly checks come last,
 * so the common case (no call in flight) does not pay for them. A call is
 * in flight only while its return is watched: its return clears it. */
static __always_inline bool nested(struct inflight_call *call, __u64 sp)
{
	return call && call->cookie && call_running(call->entry_sp, call->entry_ns, sp);
}

/* The context of a custom allocator's call: an argument, or the pointer a
 * global variable holds at entry (PostgreSQL's CurrentMemoryContext). */
static __always_inline __u64 context_of(struct pt_regs *ctx, __u64 cookie)
{
	__u32 target = COOKIE_TARGET(cookie) & (MEMLEAKD_MAX_TARGETS - 1);
	__u64 context = 0;

	if (!(COOKIE_FIELD(cookie, COOKIE_FLAGS_SHIFT) & PROBE_F_CTX_GLOBAL))
		return arg_n(ctx, COOKIE_FIELD(cookie, COOKIE_CTX_SHIFT));
	bpf_probe_read_user(&context, sizeof(context),
			    (void *)ctx_globals[target][COOKIE_GLOBAL(cookie)]);
	return context;
}

/* They use untrack(), stale(), record() and context_of(). */
#include "contexts.bpf.h"
#include "sweep.bpf.h"

/* The countdown to a thread's next sample, from the table. */
static __always_inline __u64 draw_countdown(void)
{
	return sample_countdowns[bpf_get_prandom_u32() & (MEMLEAKD_SAMPLE_TABLE - 1)];
}

/* Is an allocation of size bytes sampled? The thread's countdown loses
 * size bytes; the allocation that takes it to zero or below is sampled,
 * and a new countdown starts. The gaps between samples are exponential:
 * each allocation is sampled with probability 1 - exp(-size / mean)
 * whatever came before it, which is what the reports' estimates assume. */
static __always_inline bool sampled(struct inflight_call *call, __u64 size)
{
	if (!call->sample_left)
		call->sample_left = draw_countdown();
	if (call->sample_left > size) {
		call->sample_left -= size;
		return false;
	}
	call->sample_left = draw_countdown();
	return true;
}

/* With --sample-bytes, does the call need its return? Its new block is
 * sampled, or it releases or resizes a block that was (realloc, xallocx),
 * whose record must follow. */
static __always_inline bool wanted(struct inflight_call *call, __u64 cookie, __u64 old_ptr)
{
	__u64 key = memleakd_alloc_key(COOKIE_TARGET(cookie), old_ptr);

	if (COOKIE_FIELD(cookie, COOKIE_KIND_SHIFT) != PROBE_RESIZE &&
	    sampled(call, call->size)) {
		call->sampled = 1;
		return true;
	}
	call->sampled = 0;
	return old_ptr && has_record(key);
}

/* An allocating function's entry: records the call in flight on the
 * thread; returns whether the call's return must be seen. session: the
 * program is a session's, whose false declines the return. */
static __always_inline bool enter_call(struct pt_regs *ctx, bool session)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u64 sp = PT_REGS_SP(ctx);
	struct inflight_call *call;
	__u32 size_arg = COOKIE_FIELD(cookie, COOKIE_SIZE_SHIFT);
	__u32 nmemb_arg = COOKIE_FIELD(cookie, COOKIE_NMEMB_SHIFT);
	__u64 old_ptr;

	if (stopped(COOKIE_TARGET(cookie)))
		return false;
	call = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!call)
		return false;
	if (memleakd_kind_releases(COOKIE_FIELD(cookie, COOKIE_KIND_SHIFT)))
		return enter_release(ctx, cookie, call, sp);
	if (nested(call, sp)) {
		struct target_counters *c = counters_of(COOKIE_TARGET(cookie));

		if (c)
			c->nested_calls++;
		return false;
	}
	call->size = size_arg ? arg_n(ctx, size_arg) : 0;
	if (nmemb_arg)
		call->size = array_bytes(arg_n(ctx, nmemb_arg), call->size);
	old_ptr = arg_n(ctx, COOKIE_FIELD(cookie, COOKIE_PTR_SHIFT));
	call->sampled = 1;
	call->watched = !sample_bytes || wanted(call, cookie, old_ptr);
	/* Not in flight: a record longjmp left must not stay armed. A session
	 * declines the return of a call that needs none, unless the function
	 * may call traced ones: those must know that they are nested. */
	if (!call->watched && session &&
	    !(COOKIE_FIELD(cookie, COOKIE_FLAGS_SHIFT) & PROBE_F_NESTS)) {
		call->cookie = 0;
		return false;
	}
	call->cookie = cookie;
	call->entry_sp = sp;
	call->entry_ns = bpf_ktime_get_ns();
	if (!call->watched)
		return true;
	call->ctx = context_of(ctx, cookie);
	call->old_ptr = old_ptr;
	/* realloc: see inflight_call.old_taken. */
	call->old_taken = COOKIE_FIELD(cookie, COOKIE_KIND_SHIFT) == PROBE_REALLOC && old_ptr &&
			  !take_record(COOKIE_TARGET(cookie), old_ptr, &call->old_record);
	call->out_addr = arg_n(ctx, COOKIE_FIELD(cookie, COOKIE_OUT_SHIFT));
	return true;
}

/* The new pointer, or 0 when the call failed. */
static __always_inline __u64 returned_ptr(struct pt_regs *ctx, struct inflight_call *call)
{
	__u64 ret = PT_REGS_RC(ctx);
	__u64 ptr = 0;

	if (!call->out_addr)
		return ret;
	if ((int)ret != 0)
		return 0;
	if (bpf_probe_read_user(&ptr, sizeof(ptr), (void *)call->out_addr))
		return 0;
	return ptr;
}

/* A realloc that failed leaves its old block as it was: its record goes
 * back into the maps, where the address is still its own. */
static __always_inline void put_back_old(struct target_counters *c, __u32 target,
					 struct inflight_call *call)
{
	struct tracked *old = &call->old_record;

	if (!call->old_taken)
		return;
	call->old_taken = 0;
	if (record(memleakd_alloc_key(target, call->old_ptr), old)) {
		stack_remove(target, old->stack_id, old->generation, old->size);
		c->dropped_allocs++;
	}
}

/* An allocating function's return: tracks what the outermost call did. */
static __always_inline void leave_call(struct pt_regs *ctx)
{
	struct inflight_call *call;
	struct target_counters *c;
	struct tracked old;
	__u64 cookie, ptr;
	__u32 target, kind;

	if (paused)
		return;
	call = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0, 0);
	if (!call || leave_release(ctx, call))
		return;
	/* The outermost call returns with the stack pointer just above the
	 * return address it was entered with; anything else is a nested return. */
	if (!call->cookie || call->entry_sp + 8 != PT_REGS_SP(ctx))
		return;
	cookie = call->cookie;
	call->cookie = 0;
	/* The address of the thread's last free may come back now. */
	call->free_ptr = 0;
	if (!call->watched)
		return;
	target = COOKIE_TARGET(cookie);
	kind = COOKIE_FIELD(cookie, COOKIE_KIND_SHIFT);
	c = counters_of(target);
	if (!c)
		return;

	if (kind == PROBE_RESIZE) {
		/* xallocx: same pointer, new size, same allocation site and age. */
		if (!untrack(target, call->old_ptr, &old)) {
			call->entry_ns = old.timestamp_ns;
			track(ctx, c, target, call, call->old_ptr, PT_REGS_RC(ctx), old.ctx);
		}
		return;
	}
	ptr = returned_ptr(ctx, call);
	if (kind == PROBE_REALLOC && call->old_ptr) {
		bool freed = ptr || (call->size == 0 &&
			     (COOKIE_FIELD(cookie, COOKIE_FLAGS_SHIFT) & PROBE_F_ZERO_SIZE_FREES));

		if (!freed) {
			c->failed_allocs++;
			put_back_old(c, target, call);
			return;
		}
		/* The new block stays in the old one's context, and keeps its
		 * birth: a buffer that realloc moves as it grows is as old as
		 * its first block. A sampled run does not count frees of blocks
		 * it did not track (free_enter). */
		if (call->old_taken) {
			old = call->old_record;
			call->old_taken = 0;
			stack_remove(target, old.stack_id, old.generation, old.size);
			c->frees++;
			call->ctx = old.ctx;
			call->entry_ns = old.timestamp_ns;
		} else if (!sample_bytes) {
			c->frees++;
			c->unknown_frees++;
		}
	}
	if (!ptr) {
		if (call->size)
			c->failed_allocs++;
		return;
	}
	if (call->sampled)
		track(ctx, c, target, call, ptr, call->size, call->ctx);
}

/* One trap into a probe of the cookie's target, for the cost of tracing
 * it: entries by the kind of instruction probed, and returns. */
static __always_inline void count_hit(struct pt_regs *ctx, bool ret)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);
	struct target_counters *c = counters_of(COOKIE_TARGET(cookie));

	if (!c)
		return;
	if (ret)
		c->return_hits++;
	else if (COOKIE_FIELD(cookie, COOKIE_FLAGS_SHIFT) & PROBE_F_STEPPED)
		c->stepped_hits++;
	else
		c->entry_hits++;
}

SEC("uprobe")
int BPF_KPROBE(alloc_enter)
{
	if (empty_probes)
		return 0;
	cpu_own();
	count_hit(ctx, false);
	enter_call(ctx, false);
	cpu_release();
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(alloc_return)
{
	if (empty_probes)
		return 0;
	cpu_own();
	count_hit(ctx, true);
	leave_call(ctx);
	cpu_release();
	return 0;
}

/* Entry and return of a call in one program: a nonzero return at entry
 * tells the kernel to skip the call's return. */
SEC("uprobe")
int BPF_KPROBE(alloc_session)
{
	int decline = 0;

	if (empty_probes)
		return 0;
	cpu_own();
	count_hit(ctx, bpf_session_is_return());
	if (bpf_session_is_return())
		leave_call(ctx);
	else
		decline = !enter_call(ctx, true);
	cpu_release();
	return decline;
}

/* A free: forgets the block's record, its stack's totals less. */
static __always_inline void free_call(struct pt_regs *ctx)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u64 ptr = arg_n(ctx, COOKIE_FIELD(cookie, COOKIE_PTR_SHIFT));
	/* The stack pointer at entry: the probe may follow pushes. */
	__u64 sp = PT_REGS_SP(ctx) + 8 * COOKIE_FIELD(cookie, COOKIE_SP_SHIFT);
	__u32 target = COOKIE_TARGET(cookie);
	struct inflight_call *call;
	struct target_counters *c;
	struct tracked old;

	if (!ptr || stopped(target))
		return;
	c = counters_of(target);
	if (!c)
		return;
	/* A free inside a traced call (realloc releasing the old block through
	 * the public free) is the outer call's business. */
	call = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!call)
		return;
	if (nested(call, sp)) {
		c->nested_calls++;
		return;
	}
	if (untrack(target, ptr, &old)) {
		/* Sampled: a block not tracked was not sampled, or allocated
		 * before attach; which, nothing tells. Not counted at all. */
		if (sample_bytes)
			return;
		/* The same pointer, just freed at this depth or above, with no
		 * allocation on the thread since: a traced free calling or
		 * tail-jumping into another (mi_free_size into mi_free). Or the
		 * allocator freeing its own block in a context reset or delete. */
		if ((ptr == call->free_ptr && sp <= call->free_sp) || in_release(call, sp)) {
			c->nested_calls++;
			return;
		}
		/* glibc emptying an exiting thread's cache: blocks the program
		 * freed already, and the cache, which malloc never returned. */
		if (allocator_call(target, sp)) {
			c->allocator_frees++;
			return;
		}
		c->unknown_frees++;
	}
	c->frees++;
	call->free_ptr = ptr;
	call->free_sp = sp;
}

SEC("uprobe")
int BPF_KPROBE(free_enter)
{
	if (empty_probes)
		return 0;
	cpu_own();
	count_hit(ctx, false);
	free_call(ctx);
	cpu_release();
	return 0;
}

/* A context moved to another parent (MemoryContextSetParent). */
SEC("uprobe")
int BPF_KPROBE(context_enter)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u64 context = arg_n(ctx, COOKIE_FIELD(cookie, COOKIE_PTR_SHIFT));
	__u32 target = COOKIE_TARGET(cookie);
	struct target_counters *c;

	if (empty_probes)
		return 0;
	cpu_own();
	count_hit(ctx, false);
	c = counters_of(target);
	if (context && !stopped(target) && c)
		reparent(c, target, context, context_of(ctx, cookie));
	cpu_release();
	return 0;
}

/* The dynamic linker's _dl_debug_state, called as dlopen and dlclose change
 * the mappings: user space reads them again and loads the new tables. */
SEC("uprobe")
int BPF_KPROBE(maps_change)
{
	__u32 target = COOKIE_TARGET(bpf_get_attach_cookie(ctx));

	if (unwind_tables && !stopped(target))
		request_rescan(target);
	return 0;
}

/* Attached only while user space times a probe's trap on its own code
 * (src/probes/probe_cost.c): does nothing, at the least cost. */
SEC("uprobe")
int BPF_KPROBE(calibrate)
{
	return 0;
}

#include "mappings.bpf.h"
#include "exec.bpf.h"
#include "targets.bpf.h"
