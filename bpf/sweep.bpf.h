/* sweep.bpf.h - the sweep program, which retires context records that
 * resets released.
 *
 * A reset releases its context's records without visiting them (the resets
 * map), and the programs retire a released record when its address is
 * handed out again; an address that never comes back (a deleted context's
 * blocks gone back to malloc) would keep its slot in ctx_allocs for good.
 * User space runs this program (BPF_PROG_TEST_RUN) when the map fills and
 * before each report; it walks the map in the kernel, where a record is
 * neither copied out nor looked up again, and where it can be claimed
 * safely: user space cannot delete a record itself, the address may have
 * been handed out anew since it read it. A stale record (against the
 * resets map as it is now) is claimed by compare-and-swap of its stack id
 * word, as take_ctx_record claims one: whichever side swaps first
 * accounts it. The claim, the accounting and the delete run with
 * preemption disabled (bpf_preempt_disable: user space loads this program
 * only where the kernel has it, Linux 6.10), which keeps short the window
 * in which insert_ctx meets a claimed record, and keeps the per-CPU
 * counters' plain adds safe from the tracing programs on this CPU. The
 * walk itself is preemptible (bpf_for_each_map_elem holds RCU per
 * bucket). Included by memleakd.bpf.c after the functions it uses. */
#ifndef SWEEP_BPF_H
#define SWEEP_BPF_H

/* Retire record rec, under key, if a reset released it: 0 when it did. */
static __noinline int retire_stale(__u64 key, struct ctx_alloc_info *rec)
{
	__u32 target = key >> MEMLEAKD_PTR_BITS;
	struct record_counts *counts;
	struct target_counters *c;
	struct tracked seen;
	__u64 word, size;
	__u16 generation;
	bool deleted;

	if (!rec)
		return -1;
	word = *id_word(&rec->info);
	seen = (struct tracked){ .ctx = rec->ctx, .timestamp_ns = rec->timestamp_ns };
	if (!memleakd_stack_real((__u32)word) || !stale(target, &seen) ||
	    !swap_id(&rec->info, word, MEMLEAKD_STACK_CLAIMED))
		return -1;
	/* Moved to another parent between the reads and the swap: not stale. */
	if (rec->ctx != seen.ctx || rec->timestamp_ns != seen.timestamp_ns) {
		__sync_val_compare_and_swap(id_word(&rec->info),
					    (word & ~0xffffffffULL) | MEMLEAKD_STACK_CLAIMED, word);
		return -1;
	}
	/* Deleted before it is accounted: an insert at this key waits meanwhile. */
	size = alloc_info_size(&rec->info);
	generation = alloc_info_generation(&rec->info);
	deleted = !bpf_map_delete_elem(&ctx_allocs, &key);
	counts = record_counts_here();
	if (deleted && counts)
		counts->ctx_swept++;
	stack_remove(target, (__u32)word, generation, size);
	c = counters_of(target);
	if (c)
		c->reset_frees++;
	return 0;
}

struct sweep_loop {
	__u32 retired;
};

static long sweep_one(struct bpf_map *map, __u64 *key, struct ctx_alloc_info *rec,
		      struct sweep_loop *loop)
{
	bpf_preempt_disable();
	if (!retire_stale(*key, rec))
		loop->retired++;
	bpf_preempt_enable();
	return 0;
}

/* Returns the number of records retired. */
SEC("syscall")
int sweep(void *args)
{
	struct sweep_loop loop = {};

	bpf_for_each_map_elem(&ctx_allocs, sweep_one, &loop, 0);
	return loop.retired;
}

#endif
