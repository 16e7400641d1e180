/* unwind.bpf.h - the user-stack walk of --unwind dwarf|auto, included by
 * memleakd.bpf.c.
 *
 * From the registers at the probe, each frame: find the executable mapping
 * that holds pc (a sorted array per target, user space keeps it current),
 * binary-search its object's rows for the rule at pc, compute the CFA and
 * read the return address and the saved rbp; the rules found are cached
 * per CPU by pc, so a stack seen before costs no search. Objects with
 * frame pointers, and addresses no row covers, take the frame-pointer
 * step. One bpf_loop
 * callback per frame keeps the verifier's work independent of depth
 * (../shared/notes/unwinding.md). The stack above sp is copied once into a
 * per-CPU window, clamped to its mapping; a frame past it moves the window
 * up with a smaller copy, and what no copy holds is read word by word.
 */
#ifndef UNWIND_BPF_H
#define UNWIND_BPF_H

/* Set before load: false keeps the kernel's frame-pointer walk (--unwind fp). */
const volatile bool unwind_tables = false;
/* Which of a target's two mapping slots the programs read (the low bit;
 * the whole counts publications), and how many mappings each slot holds. */
volatile __u32 unwind_slot[MEMLEAKD_MAX_TARGETS];
volatile __u32 unwind_count[MEMLEAKD_MAX_TARGETS * 2];
/* Set when a target asked user space to read its mappings again, cleared by
 * user space before it reads them: one event per request. */
volatile __u64 rescan_wanted[MEMLEAKD_MAX_TARGETS];

/* Keyed by UNWIND_MAPPING_KEY(); max_entries set by user space. Entries are
 * read by key, not by index into one big value, so that the verifier need
 * not track the search's bounds precisely: it would explore every path. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct unwind_mapping);
	__uint(max_entries, 1);
} unwind_mappings SEC(".maps");

/* Every object's rows; max_entries set by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct unwind_row);
	__uint(max_entries, 1);
} unwind_rows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} maps_events SEC(".maps");

/* Bytes of stack above sp copied at once: most allocation stacks fit. */
#define UNWIND_WINDOW 4096
#define UNWIND_PAGE 4096
/* A frame whose words lie past the window moves it: the next copy starts
 * this far below the frame's CFA, where its saved rbp is. */
#define UNWIND_BELOW 64
/* Bytes copied when the window moves: the frame and a few callers' on a
 * usual stack, and little more than one word's read on a stack of big
 * frames. */
#define UNWIND_MOVE 512

/* The copy and its place live in the map, not in the walk's state: bounds
 * the verifier cannot follow from one frame to the next keep it from
 * exploring every window position. */
struct stack_window {
	__u64 lo, len; /* the copy holds [lo, lo + len) */
	__u8 bytes[UNWIND_WINDOW];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct stack_window);
	__uint(max_entries, 1);
} unwind_window SEC(".maps");

/* The rules found by searching the tables, per CPU, by pc: allocation
 * stacks repeat, and a hit saves both binary searches. An entry is tagged
 * with the target's publication count, so any change of its mappings or
 * tables retires it. */
#define UNWIND_CACHE_SIZE 4096

struct unwind_cache_entry {
	__u64 pc;
	__u32 tag; /* publication << 7 | target << 1 | exact_pc */
	__u32 rule;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct unwind_cache_entry);
	__uint(max_entries, UNWIND_CACHE_SIZE);
} unwind_cache SEC(".maps");

/* Why a walk ended early, or what it met on the way. */
#define UNWIND_SEEN_NO_TABLE 0x1
#define UNWIND_SEEN_TRUNCATED 0x2
#define UNWIND_SEEN_ANON 0x4

/* The walk's registers and progress: the bpf_loop context, on the stack. */
struct stack_walk {
	__u64 pc, sp, bp;
	__u64 stack_end;       /* end of the stack's mapping: copies stop there */
	__u32 target;
	__u32 n;               /* frames stored */
	bool exact_pc;         /* pc is the next instruction to run, not a return address */
	bool trusted;          /* pc came from a table or the registers, not a frame-pointer guess */
	__u8 seen;             /* UNWIND_SEEN_* */
	bool ended;            /* the walk stopped before MEMLEAKD_MAX_FRAMES */
};

static __always_inline void request_rescan(__u32 target)
{
	struct maps_event ev = { .target = target };

	target &= MEMLEAKD_MAX_TARGETS - 1;
	if (__sync_val_compare_and_swap(&rescan_wanted[target], 0, 1) == 0)
		bpf_ringbuf_output(&maps_events, &ev, sizeof(ev), 0);
}

/* The word at addr, from the window when it holds it. */
static __always_inline int read_word(const struct stack_walk *st, __u64 addr, __u64 *out)
{
	__u32 zero = 0;
	struct stack_window *win = bpf_map_lookup_elem(&unwind_window, &zero);
	__u64 off;

	if (win && addr >= win->lo && addr - win->lo + 8 <= win->len) {
		off = (addr - win->lo) & (UNWIND_WINDOW - 1);
		if (off <= UNWIND_WINDOW - 8) {
			*out = *(__u64 *)(win->bytes + off);
			return 0;
		}
	}
	return bpf_probe_read_user(out, sizeof(*out), (void *)addr);
}

/* A frame past the window moves it up the stack, where the mapping holds
 * a whole move's worth: one copy of UNWIND_MOVE bytes costs little more
 * than reading one word, and serves the next frames too. */
static __always_inline void move_window(const struct stack_walk *st, __u64 cfa)
{
	__u32 zero = 0;
	struct stack_window *win = bpf_map_lookup_elem(&unwind_window, &zero);
	__u64 lo = cfa - UNWIND_BELOW;

	if (!win || cfa + 8 <= win->lo + win->len || lo < st->sp ||
	    lo + UNWIND_MOVE > st->stack_end)
		return;
	win->len = 0;
	if (!bpf_probe_read_user(win->bytes, UNWIND_MOVE, (void *)lo)) {
		win->lo = lo;
		win->len = UNWIND_MOVE;
	}
}

/* The executable mapping holding pc, or NULL. */
static __always_inline const struct unwind_mapping *find_mapping(const struct stack_walk *st)
{
	__u32 target = st->target & (MEMLEAKD_MAX_TARGETS - 1);
	__u32 slot = unwind_slot[target] & 1;
	__u32 first = UNWIND_MAPPING_KEY(target, slot, 0);
	__u32 count = unwind_count[(target * 2 + slot) & (2 * MEMLEAKD_MAX_TARGETS - 1)];
	__u32 lo = first, hi = first + (count < MEMLEAKD_MAX_MAPPINGS ? count : MEMLEAKD_MAX_MAPPINGS);
	const struct unwind_mapping *m;

	/* lo ends at the first mapping starting above pc. */
	for (int i = 0; i < 10 && lo < hi; i++) {
		__u32 mid = lo + (hi - lo) / 2;

		m = bpf_map_lookup_elem(&unwind_mappings, &mid);
		if (!m)
			return NULL;
		if (m->start <= st->pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == first)
		return NULL;
	lo--;
	m = bpf_map_lookup_elem(&unwind_mappings, &lo);
	return m && st->pc < m->end ? m : NULL;
}

/* The rule for pc in m's table, UNWIND_CFA_NONE where no row covers it. */
static __always_inline __u32 find_rule(const struct stack_walk *st,
				       const struct unwind_mapping *m)
{
	/* A return address may follow a call that ends its function: look up
	 * the call instruction itself. */
	__u64 rel = st->pc - m->table_bias - (st->exact_pc ? 0 : 1);
	__u32 lo = m->first_row, hi = m->first_row + m->n_rows;
	struct unwind_row *row;

	if (!m->n_rows || rel > 0xffffffffULL)
		return UNWIND_CFA_NONE;
	/* lo ends at the last row at or below rel: for the largest table
	 * --unwind-rows allows, after the last step. */
	for (int i = 0; i < UNWIND_MAX_ROWS_LOG2 && hi - lo > 1; i++) {
		__u32 mid = lo + (hi - lo) / 2;

		row = bpf_map_lookup_elem(&unwind_rows, &mid);
		if (!row)
			return UNWIND_CFA_NONE;
		if (row->pc <= rel)
			lo = mid;
		else
			hi = mid;
	}
	row = bpf_map_lookup_elem(&unwind_rows, &lo);
	return row && row->pc <= rel ? row->rule : UNWIND_CFA_NONE;
}

/* Move to the caller's frame; returns 1 to end the walk. */
static __always_inline long frame_pointer_step(struct stack_walk *st)
{
	__u64 bp = st->bp, ra, next_bp;

	/* rbp is 0 in the outermost frame (_start clears it). */
	if (!bp)
		return 1;
	if (bp < st->sp || (bp & 7) || read_word(st, bp + 8, &ra) || read_word(st, bp, &next_bp)) {
		st->seen |= UNWIND_SEEN_TRUNCATED;
		return 1;
	}
	st->pc = ra;
	st->sp = bp + 16;
	st->bp = next_bp;
	st->exact_pc = false;
	st->trusted = false;
	return !ra;
}

/* Where the kernel saved the interrupted registers: the ucontext a signal
 * handler returns through, at sp in __restore_rt (its mcontext's rbp, rsp
 * and rip). */
#define UCONTEXT_RBP 120
#define UCONTEXT_RSP 160
#define UCONTEXT_RIP 168

static __always_inline long signal_step(struct stack_walk *st)
{
	__u64 sp = st->sp;

	if (read_word(st, sp + UCONTEXT_RIP, &st->pc) || read_word(st, sp + UCONTEXT_RSP, &st->sp) ||
	    read_word(st, sp + UCONTEXT_RBP, &st->bp)) {
		st->seen |= UNWIND_SEEN_TRUNCATED;
		return 1;
	}
	/* The interrupted instruction had not run: no call before it. */
	st->exact_pc = true;
	st->trusted = true;
	return !st->pc;
}

static __always_inline long rule_step(struct stack_walk *st, __u32 rule)
{
	__u64 cfa, ra, bp = st->bp;
	__u32 type = UNWIND_RULE_CFA(rule);

	if (type == UNWIND_CFA_NONE)
		return frame_pointer_step(st);
	if (type == UNWIND_CFA_SIGNAL)
		return signal_step(st);
	if (type == UNWIND_CFA_STOP)
		return 1;
	if (type == UNWIND_CFA_RSP)
		cfa = st->sp + UNWIND_RULE_CFA_OFF(rule);
	else if (type == UNWIND_CFA_RBP)
		cfa = st->bp + UNWIND_RULE_CFA_OFF(rule);
	else if (type == UNWIND_CFA_PLT)
		cfa = st->sp + UNWIND_RULE_CFA_OFF(rule) +
		      ((st->pc & 15) >= (__u64)UNWIND_RULE_RBP_OFF8(rule) ? 8 : 0);
	else
		cfa = 0;
	/* The caller's frame is above this one: anything else is a bad rule
	 * or a corrupt stack, and would loop. */
	if (cfa > st->sp)
		move_window(st, cfa);
	if (cfa <= st->sp || read_word(st, cfa - 8, &ra) ||
	    (UNWIND_RULE_RBP_SAVED(rule) && type != UNWIND_CFA_PLT &&
	     read_word(st, cfa + UNWIND_RULE_RBP_OFF8(rule) * 8, &bp))) {
		st->seen |= UNWIND_SEEN_TRUNCATED;
		return 1;
	}
	st->pc = ra;
	st->sp = cfa;
	st->bp = bp;
	st->exact_pc = false;
	st->trusted = true;
	return !ra;
}

/* The cache entry for pc, with the tag it must carry to hold pc's rule. */
static __always_inline struct unwind_cache_entry *cache_entry(const struct stack_walk *st,
							      __u32 *tag)
{
	__u32 target = st->target & (MEMLEAKD_MAX_TARGETS - 1);
	__u32 key = (__u32)((st->pc * 0x9e3779b97f4a7c15ULL) >> 52) & (UNWIND_CACHE_SIZE - 1);

	*tag = unwind_slot[target] << 7 | target << 1 | st->exact_pc;
	return bpf_map_lookup_elem(&unwind_cache, &key);
}

/* Where the kernel's uretprobe trampoline is in this process: the first
 * slot of its uprobe area ("[uprobes]" in its maps). A return probe puts
 * its address in the return slot of the call it watches. */
static __always_inline __u64 uretprobe_trampoline(void)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return BPF_CORE_READ(task, mm, uprobes_state.xol_area, vaddr);
}

/* Pending returns a thread may have: its traced calls in flight, each
 * with a return probe. */
#define UNWIND_MAX_RETURNS 16

/* pc is the trampoline, read from the return slot just below sp: a stack
 * taken inside a traced call (a mapping its allocator makes). The
 * kernel's record of that return holds the address the trampoline
 * replaced; pc becomes it, and the frame stored is fixed. */
static __always_inline bool replace_trampoline(struct stack_walk *st)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct return_instance *ri = BPF_CORE_READ(task, utask, return_instances);
	struct stack_frames *f;
	__u32 zero = 0, i;

	for (int k = 0; k < UNWIND_MAX_RETURNS && ri; k++) {
		if (BPF_CORE_READ(ri, stack) == st->sp - 8) {
			st->pc = BPF_CORE_READ(ri, orig_ret_vaddr);
			f = bpf_map_lookup_elem(&stack_scratch, &zero);
			i = st->n - 1;
			if (f && i < MEMLEAKD_MAX_FRAMES)
				f->ips[i] = st->pc;
			return st->pc != 0;
		}
		ri = BPF_CORE_READ(ri, next);
	}
	return false;
}

/* What walk_frame does with pc when the cache does not know it. */
enum rule_search {
	RULE_FOUND = 0,      /* *rule holds pc's rule, now cached */
	RULE_END = 1,        /* the walk ends here */
	RULE_FRAME_POINTER = 2, /* no table (yet): take the frame-pointer step */
};

/* Search the tables for pc's rule. A global function: the verifier checks
 * it once, apart from the walk, whose paths it would multiply. */
__noinline int search_rule(struct stack_walk *st, __u32 *rule)
{
	const struct unwind_mapping *m;
	struct unwind_cache_entry *cached;
	__u32 tag;

	if (!st || !rule)
		return RULE_END;
	m = find_mapping(st);
	/* The trampoline's page is in no mapping user space publishes. */
	if (!m && !st->exact_pc && st->pc == uretprobe_trampoline() && replace_trampoline(st))
		m = find_mapping(st);
	if (!m) {
		/* Code in no mapping user space knows: a new object (dlopen) if
		 * a trusted step led here, a broken frame-pointer chain if not. */
		if (st->trusted) {
			st->seen |= UNWIND_SEEN_NO_TABLE;
			request_rescan(st->target);
			return RULE_FRAME_POINTER;
		}
		st->seen |= UNWIND_SEEN_TRUNCATED;
		return RULE_END;
	}
	if (m->kind == UNWIND_MAP_ANON) {
		st->seen |= UNWIND_SEEN_ANON;
		return RULE_END;
	}
	if (m->kind == UNWIND_MAP_PENDING) {
		st->seen |= UNWIND_SEEN_NO_TABLE;
		return RULE_FRAME_POINTER;
	}
	*rule = find_rule(st, m);
	cached = cache_entry(st, &tag);
	if (cached) {
		cached->pc = st->pc;
		cached->tag = tag;
		cached->rule = *rule;
	}
	return RULE_FOUND;
}

/* Store the frame at pc and step to its caller; returns 1 to end the walk. */
static __always_inline long walk_frame(struct stack_walk *st)
{
	struct unwind_cache_entry *cached;
	struct stack_frames *f;
	__u32 zero = 0, rule = 0, tag;
	int search;

	f = bpf_map_lookup_elem(&stack_scratch, &zero);
	if (!f || st->n >= MEMLEAKD_MAX_FRAMES)
		return 1;
	f->ips[st->n] = st->pc;
	st->n++;
	cached = cache_entry(st, &tag);
	if (cached && cached->pc == st->pc && cached->tag == tag)
		return rule_step(st, cached->rule);
	search = search_rule(st, &rule);
	if (search == RULE_FRAME_POINTER)
		return frame_pointer_step(st);
	if (search != RULE_FOUND)
		return 1;
	return rule_step(st, rule);
}

static long unwind_frame(__u32 i, void *data)
{
	struct stack_walk *st = data;

	if (!walk_frame(st))
		return 0;
	st->ended = true;
	return 1;
}

struct stack_vma {
	__u64 start, end;
};

static long stack_vma_of(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct stack_vma *out = data;

	out->start = vma->vm_start;
	out->end = vma->vm_end;
	return 0;
}

/* Copy the stack from sp up to the end of its mapping or the window's size:
 * a copy that ran past the mapping would fail as a whole. So does one that
 * covers a page never touched, which the kernel may leave at the top of the
 * main thread's stack: then the copy ends with sp's own page. The thread's
 * stack mapping, and the unreadable page, are kept in its in-flight record. */
static __always_inline void fill_window(struct stack_walk *st, struct inflight_call *call)
{
	struct stack_vma vma = { .start = call->stack_start, .end = call->stack_end };
	__u32 zero = 0;
	struct stack_window *win = bpf_map_lookup_elem(&unwind_window, &zero);
	__u64 len, page_len;

	if (!win)
		return;
	win->lo = st->sp;
	win->len = 0;
	if (st->sp < vma.start || st->sp >= vma.end) {
		if (bpf_find_vma(bpf_get_current_task_btf(), st->sp, stack_vma_of, &vma, 0) ||
		    vma.end <= st->sp)
			return;
		call->stack_start = vma.start;
		call->stack_end = vma.end;
	}
	st->stack_end = vma.end;
	len = vma.end - st->sp;
	if (len > UNWIND_WINDOW)
		len = UNWIND_WINDOW;
	page_len = UNWIND_PAGE - (st->sp & (UNWIND_PAGE - 1));
	/* A failed copy costs a fault: once the page above sp's is known
	 * unreadable, copy sp's page alone while sp stays in it. */
	if (call->unreadable_page != st->sp + page_len || len <= page_len) {
		if (!bpf_probe_read_user(win->bytes, len, (void *)st->sp)) {
			win->len = len;
			return;
		}
		call->unreadable_page = st->sp + page_len;
	}
	if (page_len <= UNWIND_WINDOW && !bpf_probe_read_user(win->bytes, page_len, (void *)st->sp))
		win->len = page_len;
}

/* Walk the user stack of the probed thread into f; returns the number of
 * frames, and counts what the walk met in c. */
static __always_inline __u32 unwind_user(struct pt_regs *ctx, struct target_counters *c,
					 __u32 target, struct inflight_call *call,
					 struct stack_frames *f)
{
	struct stack_walk st = {
		.pc = PT_REGS_IP(ctx), .sp = PT_REGS_SP(ctx), .bp = PT_REGS_FP(ctx),
		.target = target, .exact_pc = true, .trusted = true,
	};

	fill_window(&st, call);
	bpf_loop(MEMLEAKD_MAX_FRAMES, unwind_frame, &st, 0);
	if (st.n < MEMLEAKD_MAX_FRAMES)
		f->ips[st.n] = 0;
	if (!st.ended)
		st.seen |= UNWIND_SEEN_TRUNCATED;
	if (st.seen & UNWIND_SEEN_NO_TABLE)
		c->unwind_no_table++;
	if (st.seen & UNWIND_SEEN_TRUNCATED)
		c->unwind_truncated++;
	if (st.seen & UNWIND_SEEN_ANON)
		c->unwind_anon_stops++;
	return st.n;
}

#endif
