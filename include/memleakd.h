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
#define MEMLEAKD_MAX_FRAMES 127
/* User-space pointers on x86-64 fit in 47 bits; the key keeps 48. */
#define MEMLEAKD_PTR_BITS 48
#define MEMLEAKD_PTR_MASK ((1ULL << MEMLEAKD_PTR_BITS) - 1)
/* Stack id recorded when the stack could not be captured or stored: the
 * bytes are still tracked, under a stack that reports as lost. */
#define MEMLEAKD_STACK_LOST 0xffffffffu

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
};

/* Flags in the cookie. */
#define PROBE_F_ZERO_SIZE_FREES 0x1 /* realloc(p, 0) frees p and returns NULL */
#define PROBE_F_CTX_GLOBAL 0x2      /* the context is the pointer stored in a global
				     * variable, at ctx_globals[target][COOKIE_GLOBAL] */

/* Attach cookie: each field is 4 bits wide; argument numbers count from 1 and
 * 0 means "none". The target and the global's slot take the upper half. */
#define COOKIE_KIND_SHIFT 0
#define COOKIE_SIZE_SHIFT 4
#define COOKIE_NMEMB_SHIFT 8
#define COOKIE_PTR_SHIFT 12
#define COOKIE_OUT_SHIFT 16
#define COOKIE_FLAGS_SHIFT 20
#define COOKIE_CTX_SHIFT 24
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

/* One outstanding allocation, keyed by memleakd_alloc_key(). */
struct alloc_info {
	__u64 size;
	__u64 timestamp_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u64 ctx;          /* its context (custom allocators), 0 for none */
	__u32 stack_id;
	__u32 reserved;
};

/* A context reset releases its allocations without visiting them: the
 * resets map holds, per memleakd_alloc_key(target, ctx), the time of the
 * context's last reset, and an allocation made before it is stale. A stale
 * record stays until its address is handed out again. */
static inline bool memleakd_alloc_stale(const struct alloc_info *info, __u64 reset_ns)
{
	return info->ctx && info->timestamp_ns < reset_ns;
}

/* How many ids after its hash a stack may take when others hold them. */
#define MEMLEAKD_STACK_PROBES 8

/* A user stack, return addresses innermost first, zero after the last. */
struct stack_frames {
	__u64 ips[MEMLEAKD_MAX_FRAMES];
};

/* Key of the per-stack totals map. */
struct stack_key {
	__u32 target;
	__u32 stack_id;
};

/* Per-stack totals, a per-CPU value: user space sums the CPUs. Outstanding
 * figures can be negative on one CPU (freed there, allocated elsewhere). */
struct stack_totals {
	__s64 outstanding_bytes;
	__s64 outstanding_allocs;
	__u64 total_bytes;  /* allocated since attach, freed or not */
	__u64 total_allocs;
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
	__u64 entry_ns; /* bpf_ktime_get_ns() at entry, the allocation's timestamp */
	__u64 free_ptr; /* the thread's last traced free, and its stack pointer */
	__u64 free_sp;
};

/* An in-flight record older than this was left by longjmp, not by a call
 * still running: no allocator call takes a second before its nested calls.
 * A backstop: a record whose return slot was overwritten is dropped at
 * once. */
#define MEMLEAKD_STALE_CALL_NS 1000000000ULL

/* Per-target event counters, a per-CPU array indexed by target. */
struct target_counters {
	__u64 allocs;
	__u64 frees;
	__u64 unknown_frees;    /* frees of pointers not tracked (allocated before attach) */
	__u64 dropped_allocs;   /* the outstanding map was full */
	__u64 stack_errors;     /* stack capture failed or collided */
	__u64 failed_allocs;    /* NULL or error returns: nothing to track */
	__u64 nested_calls;     /* calls made from inside another traced call */
	__u64 replaced_allocs;  /* a pointer returned again before its free was seen */
	__u64 resets;           /* context resets and deletes seen */
	__u64 reset_frees;      /* allocations released by a reset, seen on reuse of the pointer */
	__u64 dropped_resets;   /* resets not recorded: the resets map was full */
};

#endif
