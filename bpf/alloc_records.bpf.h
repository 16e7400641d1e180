/* alloc_records.bpf.h - where the programs keep outstanding allocations:
 * the records of the malloc family in two maps (a capacity split at a
 * power of two), those with a context in a third, and a free's record kept
 * for the next allocation at the same address. A context record is taken
 * by compare-and-swap of its stack id word, as the sweep program
 * (sweep.bpf.h) takes the stale ones, and only the side whose swap
 * succeeds accounts and deletes it. Included by memleakd.bpf.c; the
 * record layouts are in include/memleakd.h. */
#ifndef ALLOC_RECORDS_BPF_H
#define ALLOC_RECORDS_BPF_H

#define E2BIG 7 /* errno.h is not for BPF programs */
#define EEXIST 17
#define EBUSY 16

/* Inserts of a context record that meet the sweep program deleting the
 * record it claimed at the same key try again, up to this many times. The
 * sweep deletes right after its claim, preemption disabled, but an
 * interrupt or the hypervisor stopping its CPU can stretch that window
 * past a few tries. 2^16 tries wait up to about 10 ms, and only then. */
#define CTX_INSERT_TRIES (1 << 16)

/* Some record went to the other context-free map than its hash chose, that
 * one being full: lookups that miss must try both. */
volatile bool crossed;

/* Set by user space before loading. */
const volatile __u64 time_base_ns;  /* alloc_info.time counts from here */
const volatile __u32 spill_share;   /* keys whose hash is below it go to allocs_spill */
const volatile bool contexts;       /* some allocator has contexts: ctx_allocs is in use */
const volatile __s64 freed_budget;  /* freed records a CPU may keep (struct alloc_info) */
const volatile __s64 ctx_signal_step; /* struct record_counts; 0 without contexts */

/* The outstanding allocations without a context, in two maps: a hash map's
 * bucket array is rounded up to a power of two, so a capacity of 2^k + r
 * is split into allocs (2^k) and allocs_spill (r), each key's place chosen
 * by its hash in proportion (the other map when that one is full, so that
 * every entry serves). Their max_entries, and ctx_allocs', are set by user
 * space. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u64);
	__type(value, struct alloc_info);
	__uint(max_entries, 1);
} allocs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u64);
	__type(value, struct alloc_info);
	__uint(max_entries, 1);
} allocs_spill SEC(".maps");

/* Allocations with a context. Not preallocated: most runs have none. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct ctx_alloc_info);
	__uint(max_entries, 1);
} ctx_allocs SEC(".maps");

/* Freed records kept and context records held, per CPU (user space sums
 * the latter to know when to sweep). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct record_counts);
	__uint(max_entries, 1);
} record_counts SEC(".maps");

/* A CPU's context records grew by ctx_signal_step: the value is unused. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} sweep_events SEC(".maps");

/* Does key's hash choose allocs_spill (other: the map it does not choose)? */
static __always_inline bool spill_map(__u64 key, bool other)
{
	return ((__u32)((key * 0x9e3779b97f4a7c15ULL) >> 32) < spill_share) != other;
}

static __always_inline struct record_counts *record_counts_here(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&record_counts, &zero);
}

/* The word holding a record's stack id (low half) and time (high half). */
static __always_inline __u64 *id_word(struct alloc_info *a)
{
	return (__u64 *)&a->stack_id;
}

/* Swap the record's stack id, read with its time as word, for id; false
 * when another thread changed it first. */
static __always_inline bool swap_id(struct alloc_info *a, __u64 word, __u32 id)
{
	return __sync_val_compare_and_swap(id_word(a), word, (word & ~0xffffffffULL) | id) == word;
}

/* The record a holds, its stack id and time read as word. */
static __always_inline struct tracked record_of(const struct alloc_info *a, __u64 word)
{
	return (struct tracked){ .size = alloc_info_size(a), .stack_id = (__u32)word,
				 .generation = alloc_info_generation(a),
				 .timestamp_ns = time_base_ns + ((word >> 32) << MEMLEAKD_TIME_SHIFT) };
}

/* Write info into a, which the caller claimed: the stack id last, so that
 * readers skip the record until it is whole. */
static __always_inline void fill(struct alloc_info *a, const struct alloc_info *info)
{
	a->size_gen = info->size_gen;
	*id_word(a) = (__u64)info->time << 32 | info->stack_id;
}

/* A freed record kept by a CPU holds an allocation again. */
static __always_inline void freed_reused(void)
{
	struct record_counts *counts = record_counts_here();

	if (counts)
		counts->freed_kept--;
}

/* Take key's record out of map into *old: keep it as freed while the CPU
 * has room for one more, else delete it. 0 on success. */
static __always_inline int take_from(void *map, __u64 key, struct tracked *old)
{
	struct alloc_info *a = bpf_map_lookup_elem(map, &key);
	struct record_counts *counts;
	__u64 word;

	if (!a)
		return -1;
	word = *id_word(a);
	if (!memleakd_stack_real((__u32)word))
		return -1;
	*old = record_of(a, word);
	counts = record_counts_here();
	/* Only the thread whose swap or delete succeeds accounts the free. */
	if (!counts || counts->freed_kept >= freed_budget)
		return bpf_map_delete_elem(map, &key) ? -1 : 0;
	if (!swap_id(a, word, MEMLEAKD_STACK_FREED))
		return -1;
	counts->freed_kept++;
	return 0;
}

/* Overwrite key's freed record in map with info; 0 on success. */
static __always_inline int claim(void *map, __u64 key, const struct alloc_info *info)
{
	struct alloc_info *a = bpf_map_lookup_elem(map, &key);
	__u64 word;

	if (!a)
		return -1;
	word = *id_word(a);
	if ((__u32)word != MEMLEAKD_STACK_FREED || !swap_id(a, word, MEMLEAKD_STACK_CLAIMED))
		return -1;
	fill(a, info);
	freed_reused();
	return 0;
}

/* What renew() did. */
enum renewal {
	RENEW_NONE,	/* nothing: the caller takes the long way */
	RENEW_STORED,	/* info stored where no live record was */
	RENEW_REPLACED,	/* info stored over a live record, now in *old */
};

/* Store info under key in map with one lookup, an allocation's common
 * case: it takes the freed record the address's last free kept, or goes
 * in new. A live record there (its free was not seen) is taken into *old
 * and overwritten. Nothing is done when another thread holds the record
 * or the insert fails (a full map, a race). */
static __always_inline enum renewal renew(void *map, __u64 key, const struct alloc_info *info,
					  struct tracked *old)
{
	struct alloc_info *a = bpf_map_lookup_elem(map, &key);
	__u64 word;

	if (!a)
		return bpf_map_update_elem(map, &key, info, BPF_NOEXIST) ? RENEW_NONE : RENEW_STORED;
	word = *id_word(a);
	if ((__u32)word == MEMLEAKD_STACK_CLAIMED || !swap_id(a, word, MEMLEAKD_STACK_CLAIMED))
		return RENEW_NONE;
	/* Claimed: its fields are ours to read and write. */
	if ((__u32)word != MEMLEAKD_STACK_FREED) {
		*old = record_of(a, word);
		fill(a, info);
		return RENEW_REPLACED;
	}
	fill(a, info);
	freed_reused();
	return RENEW_STORED;
}

/* One function per map: the kernel inlines a lookup, and calls the delete
 * and the update directly, when it knows the map as it verifies the
 * program; a map chosen at run time costs a helper call through the map's
 * operations each time. Apart functions, so that clang cannot merge the
 * two maps' calls into one. */
static __noinline int take_from_allocs(__u64 key, struct tracked *old)
{
	return take_from(&allocs, key, old);
}

static __noinline int take_from_spill(__u64 key, struct tracked *old)
{
	return take_from(&allocs_spill, key, old);
}

static __always_inline bool holds(struct alloc_info *a)
{
	return a && memleakd_stack_real(a->stack_id);
}

static __noinline bool in_allocs(__u64 key)
{
	return holds(bpf_map_lookup_elem(&allocs, &key));
}

static __noinline bool in_spill(__u64 key)
{
	return holds(bpf_map_lookup_elem(&allocs_spill, &key));
}

static __noinline long insert_allocs(__u64 key, const struct alloc_info *info)
{
	if (!claim(&allocs, key, info))
		return 0;
	return bpf_map_update_elem(&allocs, &key, info, BPF_NOEXIST);
}

static __noinline long insert_spill(__u64 key, const struct alloc_info *info)
{
	if (!claim(&allocs_spill, key, info))
		return 0;
	return bpf_map_update_elem(&allocs_spill, &key, info, BPF_NOEXIST);
}

static __noinline enum renewal renew_allocs(__u64 key, const struct alloc_info *info,
					     struct tracked *old)
{
	return renew(&allocs, key, info, old);
}

static __noinline enum renewal renew_spill(__u64 key, const struct alloc_info *info,
					   struct tracked *old)
{
	return renew(&allocs_spill, key, info, old);
}

static __always_inline int take_plain_from(bool spill, __u64 key, struct tracked *old)
{
	return spill ? take_from_spill(key, old) : take_from_allocs(key, old);
}

static __always_inline bool in_plain(bool spill, __u64 key)
{
	return spill ? in_spill(key) : in_allocs(key);
}

static __always_inline long insert_plain(bool spill, __u64 key, const struct alloc_info *info)
{
	return spill ? insert_spill(key, info) : insert_allocs(key, info);
}

/* Take key's record out of the context-free maps into *old; 0 on success. */
static __always_inline int take_plain(__u64 key, struct tracked *old)
{
	if (!take_plain_from(spill_map(key, false), key, old))
		return 0;
	return crossed ? take_plain_from(spill_map(key, true), key, old) : -1;
}

/* Delete key's context record, claimed by the caller. */
static __always_inline void delete_ctx(__u64 key)
{
	struct record_counts *counts;

	if (bpf_map_delete_elem(&ctx_allocs, &key))
		return;
	counts = record_counts_here();
	if (counts && --counts->ctx_records < counts->ctx_mark)
		counts->ctx_mark = counts->ctx_records;
}

/* One more context record: a CPU whose records grew by a step since their
 * lowest wakes user space, which looks whether the map needs a sweep. */
static __always_inline void count_ctx_insert(void)
{
	struct record_counts *counts = record_counts_here();
	__u32 unused = 0;

	if (!counts || ++counts->ctx_records < counts->ctx_mark + ctx_signal_step)
		return;
	counts->ctx_mark = counts->ctx_records;
	bpf_ringbuf_output(&sweep_events, &unused, sizeof(unused), 0);
}

/* Take key's context record into *old; 0 on success. Fields are read once
 * the record is claimed: no one else changes it then. */
static __noinline int take_ctx_record(__u64 key, struct tracked *old)
{
	struct ctx_alloc_info *c = bpf_map_lookup_elem(&ctx_allocs, &key);
	__u64 word;

	if (!c)
		return -1;
	word = *id_word(&c->info);
	if (!memleakd_stack_real((__u32)word) ||
	    !swap_id(&c->info, word, MEMLEAKD_STACK_CLAIMED))
		return -1;
	*old = (struct tracked){ .size = alloc_info_size(&c->info), .stack_id = (__u32)word,
				 .generation = alloc_info_generation(&c->info), .ctx = c->ctx,
				 .timestamp_ns = c->timestamp_ns };
	delete_ctx(key);
	return 0;
}

static __always_inline int take_ctx(__u64 key, struct tracked *old)
{
	return contexts ? take_ctx_record(key, old) : -1;
}

struct ctx_insert {
	__u64 key;
	const struct ctx_alloc_info *rec;
	long result;
};

/* One try of insert_ctx: 1 (stop) once it is decided. */
static long try_insert_ctx(__u32 i, struct ctx_insert *ins)
{
	struct ctx_alloc_info *there;

	ins->result = bpf_map_update_elem(&ctx_allocs, &ins->key, ins->rec, BPF_NOEXIST);
	if (ins->result != -EEXIST)
		return 1;
	there = bpf_map_lookup_elem(&ctx_allocs, &ins->key);
	if (there && there->info.stack_id != MEMLEAKD_STACK_CLAIMED)
		return 1;
	ins->result = -EBUSY;
	return 0;
}

/* Insert a context record. A record the sweep program has claimed and not
 * yet deleted is waited for; a live one makes it fail (-EEXIST). */
static __noinline long insert_ctx(__u64 key, const struct ctx_alloc_info *c)
{
	struct ctx_insert ins = { .key = key, .rec = c, .result = -EBUSY };

	bpf_loop(CTX_INSERT_TRIES, try_insert_ctx, &ins, 0);
	if (ins.result == 0)
		count_ctx_insert();
	return ins.result;
}

/* Is there a record under key, in any of the maps? */
static __always_inline bool has_record(__u64 key)
{
	return in_plain(spill_map(key, false), key) ||
	       (crossed && in_plain(spill_map(key, true), key)) ||
	       (contexts && bpf_map_lookup_elem(&ctx_allocs, &key));
}

/* t as the maps hold it, its context apart. */
static __always_inline struct alloc_info info_of(const struct tracked *t)
{
	return (struct alloc_info){
		.size_gen = (t->size & MEMLEAKD_SIZE_MASK) | ((__u64)t->generation << MEMLEAKD_SIZE_BITS),
		.stack_id = t->stack_id,
		.time = (__u32)((t->timestamp_ns - time_base_ns) >> MEMLEAKD_TIME_SHIFT),
	};
}

/* Take key's record out of the maps its hash does not choose (the other
 * context-free map once some record crossed, and the context records)
 * into *old; 0 on success. */
static __always_inline int take_elsewhere(__u64 key, struct tracked *old)
{
	if (crossed && !take_plain_from(spill_map(key, true), key, old))
		return 0;
	return take_ctx(key, old);
}

/* renew() the record of t, which has no context, in the map key's hash
 * chooses. The caller took key's records out of the other maps first. */
static __always_inline enum renewal renew_plain(__u64 key, const struct tracked *t,
						struct tracked *old)
{
	struct alloc_info info = info_of(t);

	return spill_map(key, false) ? renew_spill(key, &info, old) : renew_allocs(key, &info, old);
}

/* Store the record of t under key; 0 on success. */
static __always_inline int record(__u64 key, const struct tracked *t)
{
	struct ctx_alloc_info c = { .info = info_of(t), .ctx = t->ctx,
				    .timestamp_ns = t->timestamp_ns };
	long r;

	if (t->ctx)
		return insert_ctx(key, &c);
	r = insert_plain(spill_map(key, false), key, &c.info);
	if (r != -E2BIG) /* full */
		return r;
	crossed = true;
	return insert_plain(spill_map(key, true), key, &c.info);
}

#endif
