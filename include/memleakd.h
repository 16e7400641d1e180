/* memleakd.h - the one header shared by the BPF programs and user space.
 *
 * It holds the layout of every map key and value, and the encoding of the
 * 64-bit attach cookie that tells the generic BPF programs which argument of
 * the probed function is the size, the pointer, and so on. Plain fixed-width
 * types only: from vmlinux.h on the BPF side, <linux/types.h> in user space.
 */
#ifndef MEMLEAKD_H
#define MEMLEAKD_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#include <stdbool.h>
#endif

/* Targets are numbered from 0; the number rides in the top bits of every
 * outstanding-allocation key, so one set of maps serves several processes. */
#define MEMLEAKD_MAX_TARGETS 64
/* Frames kept of a stack: with its tag, a stacks map entry is 960 bytes,
 * and the kernel's element around it fills a 1 KiB allocation. */
#define MEMLEAKD_MAX_FRAMES 119
/* User-space pointers on x86-64 fit in 47 bits; the key keeps 48. */
#define MEMLEAKD_PTR_BITS 48
#define MEMLEAKD_PTR_MASK ((1ULL << MEMLEAKD_PTR_BITS) - 1)
/* Stack id recorded when the stack could not be captured or stored: the
 * bytes are still tracked, under a stack that reports as lost. */
#define MEMLEAKD_STACK_LOST 0xffffffffu
/* Stack ids of records that hold no allocation: freed, and kept so that the
 * next allocation at the same address overwrites it instead of inserting
 * (struct alloc_info); and being so overwritten. No stack takes them. */
#define MEMLEAKD_STACK_FREED 0xfffffffeu
#define MEMLEAKD_STACK_CLAIMED 0xfffffffdu

static inline bool memleakd_stack_real(__u32 id)
{
	return id != MEMLEAKD_STACK_FREED && id != MEMLEAKD_STACK_CLAIMED;
}

static inline __u64 memleakd_alloc_key(__u32 target, __u64 ptr)
{
	return ((__u64)target << MEMLEAKD_PTR_BITS) | (ptr & MEMLEAKD_PTR_MASK);
}

/* What a probed function does to the heap. */
enum probe_kind {
	PROBE_ALLOC = 1,   /* returns a new pointer (or fills an out-argument) */
	PROBE_FREE = 2,    /* releases the pointer in argument ptr */
	PROBE_REALLOC = 3, /* releases ptr, returns its replacement */
	PROBE_RESIZE = 4,  /* resizes ptr in place, returns the new size (xallocx) */
	PROBE_RESET = 5,   /* releases every allocation of context ctx made so far */
	PROBE_MAPS_CHANGE = 6, /* the dynamic linker's _dl_debug_state: mappings changed */
	PROBE_CREATE = 7,  /* returns a new context (or fills an out-argument): an
			    * allocation of size bytes in its parent, context ctx */
	PROBE_DELETE = 8,  /* a reset of context ctx that also releases the context */
	PROBE_REPARENT = 9, /* moves context ptr, with what it holds, into context ctx */
};

/* Kinds whose call releases what a context holds: frees the allocator makes
 * inside it are its own business (struct inflight_call's release_sp). */
static inline bool memleakd_kind_releases(__u32 kind)
{
	return kind == PROBE_RESET || kind == PROBE_DELETE;
}

/* Flags in the cookie. */
#define PROBE_F_ZERO_SIZE_FREES 0x1 /* realloc(p, 0) frees p and returns NULL */
#define PROBE_F_CTX_GLOBAL 0x2      /* the context is the pointer stored in a global
				     * variable, at ctx_globals[target][COOKIE_GLOBAL] */
#define PROBE_F_NESTS 0x4           /* the function may call other traced functions (a
				     * custom allocator over malloc, realloc(NULL, n)
				     * calling malloc): with --sample-bytes, its return is
				     * watched even when it is not sampled, so that the
				     * calls it makes are known to be nested */
#define PROBE_F_STEPPED 0x8         /* the probed instruction is single-stepped, not
				     * emulated: its hits are counted apart, they cost
				     * 10 to 20 times more (src/probes/probe_cost.c) */

/* Attach cookie: each field is 4 bits wide; argument numbers count from 1 and
 * 0 means "none". The target and the global's slot take the upper half.
 *
 * An argument field says where the argument is read at the probe, which
 * probe placement may move past a prologue that moves arguments between
 * registers (src/probes/probe_placement.c): 1-6 are the argument registers
 * in order (%rdi, %rsi, %rdx, %rcx, %r8, %r9), so at a function's entry
 * an argument's number is its location; 7-15 are the other registers but
 * %rsp (COOKIE_LOC_RAX...). COOKIE_SP_SHIFT: of a free, the 8-byte words the
 * prologue pushed before its probe, so that the stack pointer at entry is
 * known (a probe whose return is hooked is never placed after a push). */
#define COOKIE_LOC_RAX 7
#define COOKIE_LOC_RBX 8
#define COOKIE_LOC_RBP 9
#define COOKIE_LOC_R10 10 /* and so on up to r15, 15 */
#define COOKIE_LOC_MAX 15
#define COOKIE_KIND_SHIFT 0
#define COOKIE_SIZE_SHIFT 4
#define COOKIE_NMEMB_SHIFT 8
#define COOKIE_PTR_SHIFT 12
#define COOKIE_OUT_SHIFT 16
#define COOKIE_FLAGS_SHIFT 20
#define COOKIE_CTX_SHIFT 24
#define COOKIE_SP_SHIFT 28
#define COOKIE_TARGET_SHIFT 32
#define COOKIE_GLOBAL_SHIFT 48
#define COOKIE_FIELD(c, shift) (((c) >> (shift)) & 0xf)
#define COOKIE_TARGET(c) (((c) >> COOKIE_TARGET_SHIFT) & 0xffff)
#define COOKIE_GLOBAL(c) (((c) >> COOKIE_GLOBAL_SHIFT) & (MEMLEAKD_MAX_CTX_GLOBALS - 1))

/* Addresses of the globals that hold a current context (ctx=@GLOBAL): slots
 * per target. Powers of two, like MEMLEAKD_MAX_TARGETS: indexes are masked. */
#define MEMLEAKD_MAX_CTX_GLOBALS 64
/* Contexts whose last reset time the kernel keeps, over every target: user
 * space deletes the times no record needs any more at each report. */
#define MEMLEAKD_MAX_CONTEXTS 65536

/* Time in an allocation record: nanoseconds since the tracer started
 * (the programs' time_base_ns) in units of 2^22 ns (4.2 ms), so 32 bits
 * last 208 days. */
#define MEMLEAKD_TIME_SHIFT 22

/* One outstanding allocation of the malloc family, keyed by
 * memleakd_alloc_key(). 16 bytes: with the 8-byte key a preallocated hash
 * element is 72 bytes (the kernel adds 48), which keeps the map within 96
 * bytes per allocation with its bucket array (src/probes/tracer.c sizes it).
 *
 * A free deletes its record, unless the CPU keeps fewer freed records than
 * its share of MEMLEAKD_FREED_SHARE: then the record stays, its stack id
 * MEMLEAKD_STACK_FREED, and an allocation at the same address (malloc
 * hands the last freed block out first) overwrites it. A delete and an
 * insert each take the map's bucket lock and its free list. The stack id
 * and the time share one 8-byte word, changed by compare-and-swap. */
struct alloc_info {
	__u64 size_gen; /* size in bits 0-47, generation in bits 48-63 */
	__u32 stack_id;
	__u32 time;     /* see MEMLEAKD_TIME_SHIFT */
};

/* The maps get this fraction of their capacity more, for freed records. */
#define MEMLEAKD_FREED_SHARE 64

#define MEMLEAKD_SIZE_BITS 48
#define MEMLEAKD_SIZE_MASK ((1ULL << MEMLEAKD_SIZE_BITS) - 1)

static inline __u64 alloc_info_size(const struct alloc_info *a)
{
	return a->size_gen & MEMLEAKD_SIZE_MASK;
}

static inline __u16 alloc_info_generation(const struct alloc_info *a)
{
	return (__u16)(a->size_gen >> MEMLEAKD_SIZE_BITS);
}

/* An allocation of a custom allocator with a context: its own map, since
 * the context and the exact time (to order it against the context's
 * resets) take 16 bytes more. A context reset releases its allocations
 * without visiting them: the resets map holds, per
 * memleakd_alloc_key(target, ctx), the time of the context's last reset,
 * and an allocation made before it is stale. A stale record is retired
 * when its address is handed out again, or by the sweep program, which
 * user space runs when the map fills and before each report. The stack id
 * word is claimed by compare-and-swap (MEMLEAKD_STACK_CLAIMED) before a
 * record is deleted, so that exactly one side accounts it. */
struct ctx_alloc_info {
	struct alloc_info info;
	__u64 ctx;
	__u64 timestamp_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
};

/* Per CPU: the freed records it keeps (those it made less those it
 * overwrote, so one CPU's count may go below 0, another's above what it
 * holds); the context records the tracing programs inserted less those they
 * deleted, and those the sweep program deleted (the map holds the sums'
 * difference). A CPU whose ctx_records rises ctx_signal_step above its
 * lowest since its last signal (ctx_mark) tells user space through the
 * sweep_events ring buffer that the map may want a sweep. */
struct record_counts {
	__s64 freed_kept;
	__s64 ctx_records;
	__s64 ctx_mark;
	__s64 ctx_swept;
};

/* How many ids after its hash a stack may take when others hold them. */
#define MEMLEAKD_STACK_PROBES 8

/* A user stack, return addresses innermost first, zero after the last;
 * in the stacks map, keyed by its id, with its tag. */
struct stack_frames {
	__u64 ips[MEMLEAKD_MAX_FRAMES];
	/* MEMLEAKD_STACK_LIVE(id), or MEMLEAKD_STACK_DYING(id) while user space
	 * reclaims the id (src/snapshot/stack_reclaim.c): the programs use an
	 * entry only when its tag says live and its own id, before and after
	 * they compare the frames, since the kernel may hand a deleted entry's
	 * memory to another key at once. */
	__u64 tag;
};

#define MEMLEAKD_STACK_LIVE(id) ((__u64)(id))
#define MEMLEAKD_STACK_DYING(id) ((__u64)(id) | 1ULL << 32)

/* The stacks map's insertions, and the stacks that found it full, over
 * every target: user space decides from them when to reclaim ids. */
struct stack_map_counts {
	__u64 inserted;
	__u64 full;
};

/* Key of the per-stack totals map: totals are kept per stack and
 * generation. User space starts a new generation now and then (ever longer
 * ones, src/snapshot/generations.c); an allocation counts in the generation current
 * when it was made, and its free in the same one. The oldest generation
 * still holding allocations dates a stack's oldest allocation without
 * visiting the allocations. Generation 0 takes what finds the map full. */
struct stack_key {
	__u32 stack_id;
	__u16 target;
	__u16 generation;
};

/* Per-stack totals, one value for every CPU, changed by atomic adds. */
struct stack_totals {
	__s64 outstanding_bytes;
	__s64 outstanding_allocs;
	__u64 total_bytes;  /* allocated since attach, freed or not */
	__u64 total_allocs;
	__u64 first_ns;     /* bpf_ktime_get_ns() of the first allocation counted here */
};

/* An allocation as the programs handle it, whichever map its record is in.
 * The timestamp of a record without a context is its time field's, to
 * 4 ms. */
struct tracked {
	__u64 size, ctx, timestamp_ns;
	__u32 stack_id;
	__u16 generation;
};

/* A traced call in flight on one thread, between entry and return, and the
 * thread's last free. */
struct inflight_call {
	__u64 cookie;
	__u64 size;
	__u64 old_ptr;  /* realloc: the pointer being replaced */
	__u64 out_addr; /* posix_memalign: where the pointer will be written */
	__u64 ctx;      /* the context allocated from, 0 for none */
	__u64 entry_sp; /* stack pointer at entry: identifies the outermost call */
	__u64 entry_ns; /* bpf_ktime_get_ns() at entry, the allocation's timestamp; a
			 * realloc's is its old block's, the buffer's birth */
	__u64 free_ptr; /* the thread's last traced free, and its stack pointer */
	__u64 free_sp;
	__u64 stack_start, stack_end; /* the thread's stack mapping, as the unwinder last found it */
	__u64 unreadable_page; /* a page above sp's that a stack copy found unreadable */
	/* The outermost context reset or delete in flight, as entry_sp and
	 * entry_ns are for the allocating call: the allocator's frees of its
	 * own blocks inside it are not frees of tracked allocations. */
	__u64 release_sp;
	__u64 release_ns;
	/* --sample-bytes: bytes the thread allocates before its next sampled
	 * allocation; 0 until its first countdown is drawn. */
	__u64 sample_left;
	/* The block the call returns is tracked: always without --sample-bytes;
	 * with it, a realloc whose new block is not sampled still releases a
	 * sampled old one. */
	__u32 sampled;
	/* The call's return does its work. With --sample-bytes, a call neither
	 * sampled nor releasing a sampled block is in flight all the same
	 * while its return is watched (sessions decline the returns of other
	 * calls, but of PROBE_F_NESTS functions): the calls it makes are
	 * nested, and draw nothing from the countdown. */
	__u32 watched;
	/* realloc: old_record holds the old block's record, taken out of the
	 * maps as the call starts. realloc frees the old block before it
	 * returns, and another thread may be handed its address meanwhile:
	 * that thread's record must not be the one retired at the return. A
	 * realloc that fails puts the record back. */
	__u32 old_taken;
	struct tracked old_record;
};

/* --sample-bytes: entries of the table of countdowns user space fills
 * (src/probes/sampling.c), one drawn at random per sample. A power of two. */
#define MEMLEAKD_SAMPLE_TABLE 4096

/* An in-flight record older than this was left by longjmp, not by a call
 * still running: no allocator call takes a second before its nested calls.
 * A backstop: a record whose return slot was overwritten is dropped at
 * once. */
#define MEMLEAKD_STALE_CALL_NS 1000000000ULL

/* DWARF unwinding (--unwind dwarf|auto). User space compiles each object's
 * call-frame information into rows sorted by address; a row's rule holds
 * from its pc up to the next row's. Rows of every object live in one array
 * map (unwind_rows), each object's table a contiguous run of it, shared by
 * every target that maps the object. */
struct unwind_row {
	__u32 pc;   /* link-time address minus the table's base (unwind_mapping.table_bias) */
	__u32 rule; /* UNWIND_RULE_*() below */
};
/* The most rows the map holds (--unwind-rows), as a power of two: a binary
 * search of that many steps finds a row in the largest table. */
#define UNWIND_MAX_ROWS_LOG2 28

/* How to find the canonical frame address (CFA: the stack pointer before
 * the call; the return address is at CFA - 8). */
enum unwind_cfa {
	UNWIND_CFA_NONE = 0,   /* no CFI covers this address: walk the frame pointer */
	UNWIND_CFA_RSP = 1,    /* CFA = rsp + offset */
	UNWIND_CFA_RBP = 2,    /* CFA = rbp + offset */
	UNWIND_CFA_PLT = 3,    /* PLT stub: CFA = rsp + offset + ((pc & 15) >= threshold ? 8 : 0),
				* the threshold in the rbp-offset field */
	UNWIND_CFA_SIGNAL = 4, /* signal trampoline (__restore_rt): the registers are in the
				* ucontext at rsp */
	UNWIND_CFA_STOP = 5,   /* the outermost frame (return address undefined): the stack ends */
	UNWIND_CFA_UNSUPPORTED = 6, /* a rule the BPF unwinder cannot follow (CFA in another
				     * register, a DWARF expression): the stack is cut here */
};

/* rule: bits 0-2 the CFA type, bit 3 set when rbp is saved at CFA + rbp
 * offset (else it keeps its value), bits 4-11 the rbp offset in 8-byte
 * units (signed), bits 12-31 the CFA offset in bytes (unsigned). */
#define UNWIND_RULE(cfa, cfa_off, rbp_saved, rbp_off8)                                   \
	((__u32)(cfa) | ((rbp_saved) ? 0x8u : 0u) | (((__u32)(rbp_off8) & 0xffu) << 4) | \
	 ((__u32)(cfa_off) << 12))
#define UNWIND_RULE_CFA(r) ((r) & 0x7u)
#define UNWIND_RULE_RBP_SAVED(r) (((r) >> 3) & 1u)
#define UNWIND_RULE_RBP_OFF8(r) ((__s32)(__s8)(((r) >> 4) & 0xffu))
#define UNWIND_RULE_CFA_OFF(r) ((r) >> 12)
#define UNWIND_MAX_CFA_OFF ((1u << 20) - 1)

/* What the unwinder does in one executable mapping of a target. */
enum unwind_mapping_kind {
	UNWIND_MAP_TABLE = 1,   /* search its rows; an address no row covers walks the frame pointer */
	UNWIND_MAP_PENDING = 2, /* its table is being built: frame pointer, and the stack is counted */
	UNWIND_MAP_ANON = 3,    /* JIT or anonymous code: the stack ends here */
};

/* Executable mappings per target that the unwinder knows. */
#define MEMLEAKD_MAX_MAPPINGS 512

struct unwind_mapping {
	__u64 start, end;  /* run-time [start, end) */
	__u64 table_bias;  /* run-time address minus a row's pc */
	__u32 first_row;   /* the object's rows: unwind_rows[first_row, first_row + n_rows) */
	__u32 n_rows;
	__u32 kind;        /* enum unwind_mapping_kind */
	__u32 reserved;
};

/* A target's executable mappings, sorted by start, are entries
 * [0, unwind_count) of its slot in the unwind_mappings map: key
 * UNWIND_MAPPING_KEY(target, slot, i). User space fills the slot the
 * programs do not read, then flips unwind_slot[target]. */
#define UNWIND_MAPPING_KEY(target, slot, i) \
	((((target) * 2 + (slot)) * MEMLEAKD_MAX_MAPPINGS) + (i))

/* Event from the probe on the dynamic linker's _dl_debug_state (called
 * around every dlopen and dlclose), or from an unwinder that met code in no
 * known mapping: the target's mappings must be read again. */
struct maps_event {
	__u32 target;
};

/* Per-target event counters, a per-CPU array indexed by target. */
struct target_counters {
	__u64 allocs;
	__u64 frees;
	__u64 unknown_frees;    /* frees of pointers not tracked (allocated before attach) */
	__u64 dropped_allocs;   /* the outstanding map was full (or insert_ctx outwaited) */
	__u64 stack_errors;     /* stack capture failed or collided */
	__u64 stack_map_full;   /* of stack_errors: the stacks map was full (--max-stacks) */
	__u64 dropped_totals;   /* allocations not tracked: the per-stack totals map was full */
	__u64 failed_allocs;    /* NULL or error returns: nothing to track */
	__u64 nested_calls;     /* calls made from inside another traced call, and the
				 * allocator's frees of its own blocks in a reset or delete */
	__u64 replaced_allocs;  /* a pointer returned again before its free was seen */
	__u64 resets;           /* context resets and deletes seen */
	__u64 reset_frees;      /* allocations released by a reset, retired on reuse of the
				 * pointer, by a delete or by the sweep program */
	__u64 dropped_resets;   /* resets not recorded: the resets map was full */
	__u64 unwind_no_table;  /* stacks that met an object whose table was not loaded yet
				 * (or code in no known mapping), walked by frame pointer there */
	__u64 unwind_truncated; /* stacks cut short: unreadable stack, unsupported rule,
				 * deeper than MEMLEAKD_MAX_FRAMES */
	__u64 unwind_anon_stops; /* stacks that ended in JIT or anonymous code */
	/* Frees the allocator made of its own accord, not the program's
	 * (allocator_callers): neither frees nor unknown_frees. */
	__u64 allocator_frees;
	/* Traps into the target's probes, what tracing costs it: entries at
	 * emulated instructions, entries single-stepped, returns. */
	__u64 entry_hits;
	__u64 stepped_hits;
	__u64 return_hits;
};

/* Code that calls free on the allocator's own behalf, as run-time
 * [start, end) in one target, 0 when unknown: glibc's
 * tcache_thread_shutdown(), which, as a thread exits, frees every block
 * left in the thread's cache (blocks the program freed already) and the
 * cache itself (src/probes/tcache_shutdown.c). A free of an untracked
 * pointer that returns into it is no call the program made. */
struct code_range {
	__u64 start, end;
};

/* Anonymous memory mappings (bpf/mappings.bpf.h): what the target's mmap,
 * munmap, mremap, brk and mprotect did to its anonymous memory, one event
 * per call that changed it. User space keeps the ranges
 * (src/snapshot/mapping_ranges.c), so that a partial munmap or a move
 * takes exactly the bytes it touched, whichever mapping they came from. */
enum mapping_op {
	MAPPING_MAP = 1,     /* [addr, addr + len) is new anonymous memory of stack_id; it
			      * replaces whatever it overlaps */
	MAPPING_UNMAP = 2,   /* [addr, addr + len) is gone */
	MAPPING_MOVE = 3,    /* mremap: [addr, addr + len) is now [new_addr, new_addr +
			      * new_len), its bytes keep their stacks; bytes past len are
			      * new, of stack_id */
	MAPPING_RESERVE = 4, /* [addr, addr + len) is new PROT_NONE anonymous memory:
			      * not counted until opened; it replaces what it overlaps */
	MAPPING_OPEN = 5,    /* mprotect made [addr, addr + len) accessible: what of it was
			      * reserved is counted from now on, of stack_id; so is
			      * [addr, addr + new_len), which was one PROT_NONE anonymous
			      * mapping, reserved before attach perhaps */
	MAPPING_CLOSE = 6,   /* mprotect made [addr, addr + len) PROT_NONE: reserved again */
};

#define MAPPING_F_HEAP 0x1 /* made inside a traced allocator call: the allocator's own */
#define MAPPING_F_GROW 0x2 /* a heap top moved up (brk, or mprotect committing a
			    * reservation): one range with the range below when that is
			    * the same stack's */

/* Stack id of mappings whose stack was lost. Never a stack's id (stack_id()
 * skips it), so that the lost stacks of allocations and of mappings stay
 * apart in reports and trends. */
#define MEMLEAKD_MAPPING_STACK_LOST MEMLEAKD_STACK_CLAIMED

struct mapping_event {
	__u64 addr, len;
	__u64 new_addr, new_len; /* MAPPING_MOVE; new_len for MAPPING_OPEN */
	__u64 time_ns;           /* bpf_ktime_get_ns() */
	__u32 stack_id;          /* MAPPING_MAP, MAPPING_MOVE, MAPPING_OPEN */
	__u16 target;
	__u8 op;                 /* enum mapping_op */
	__u8 flags;              /* MAPPING_F_* */
};

/* Processes starting (bpf/targets.bpf.h): an exec or fork of a traced
 * process, or of one that matches --exe and --cgroup. User space decides
 * whether to trace it. */
enum process_event_kind {
	PROCESS_EXEC = 1,  /* pid runs a new image */
	PROCESS_FORK = 2,  /* pid is a new child of parent */
	PROCESS_MOVED = 3, /* pid was moved into a watched cgroup */
};

#define PROCESS_F_TARGET 0x1 /* pid (for a fork: its parent, with --follow-forks) is traced */
#define PROCESS_F_MATCH 0x2  /* pid matches --exe and --cgroup */

struct process_event {
	__u32 pid;    /* the process (tgid) */
	__u32 parent; /* PROCESS_FORK: the parent's tgid */
	__u32 kind;   /* enum process_event_kind */
	__u32 flags;  /* PROCESS_F_* */
};

/* The most --exe files, and the most --cgroup subtrees, looked for. */
#define MEMLEAKD_MAX_WATCHED 8

/* Per-target mapping counters, a per-CPU array indexed by target. */
struct mapping_counters {
	__u64 events;         /* events sent */
	__u64 dropped_events; /* events lost: the ring buffer was full */
};

#endif
