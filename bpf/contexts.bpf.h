/* contexts.bpf.h - the life of a custom allocator's contexts (pools,
 * arenas, PostgreSQL's memory contexts), seen as allocations.
 *
 * Creating a context (PROBE_CREATE) is an allocation in its parent
 * context, recorded by enter_call and leave_call like any: the allocator's
 * own malloc of the context's header inside the call is nested, so the
 * context is counted once, under the stack that asked for it, even when
 * the allocator hands out a context it kept from an earlier delete. A
 * reset stamps the context's time in the resets map, which releases what
 * it holds; a delete does that and retires the context's own record. A
 * reset or delete is a call in flight, as allocating calls are: the
 * allocator's frees of its own blocks (and of the headers of contexts it
 * kept for reuse) inside it are not frees of tracked allocations. A
 * context moved to another parent (PROBE_REPARENT) takes its record along,
 * so that its old parent's resets no longer release it. Included by
 * memleakd.bpf.c after the functions it uses. */
#ifndef CONTEXTS_BPF_H
#define CONTEXTS_BPF_H

/* Stamp context's reset; a delete also retires the context's own record,
 * as a free, or as a reset free when its parent's reset released it. */
static __always_inline void release_context(struct target_counters *c, __u32 target,
					    __u64 context, __u32 kind)
{
	__u64 key = memleakd_alloc_key(target, context);
	__u64 now = bpf_ktime_get_ns();
	struct tracked old;

	if (bpf_map_update_elem(&resets, &key, &now, BPF_ANY))
		c->dropped_resets++;
	else
		c->resets++;
	if (kind != PROBE_DELETE || untrack(target, context, &old))
		return;
	if (stale(target, &old))
		c->reset_frees++;
	else
		c->frees++;
}

/* Is the thread inside a reset or delete further up its stack? */
static __always_inline bool in_release(struct inflight_call *call, __u64 sp)
{
	return call->release_sp && call_running(call->release_sp, call->release_ns, sp);
}

/* A reset or delete's entry: does its work, nested or not (a delete
 * deletes the children first), and returns whether its return must be
 * seen: it is the outermost on the thread. */
static __always_inline bool enter_release(struct pt_regs *ctx, __u64 cookie,
					  struct inflight_call *call, __u64 sp)
{
	__u32 target = COOKIE_TARGET(cookie);
	struct target_counters *c = counters_of(target);
	__u64 context = context_of(ctx, cookie);

	if (c && context)
		release_context(c, target, context, COOKIE_FIELD(cookie, COOKIE_KIND_SHIFT));
	if (in_release(call, sp))
		return false;
	call->release_sp = sp;
	call->release_ns = bpf_ktime_get_ns();
	return true;
}

/* Is this the return of the outermost reset or delete in flight? Ends it.
 * The attach cookie is read only at its stack pointer, off the
 * allocating calls' path. */
static __always_inline bool leave_release(struct pt_regs *ctx, struct inflight_call *call)
{
	if (!call->release_sp || call->release_sp + 8 != PT_REGS_SP(ctx) ||
	    !memleakd_kind_releases(COOKIE_FIELD(bpf_get_attach_cookie(ctx), COOKIE_KIND_SHIFT)))
		return false;
	call->release_sp = 0;
	return true;
}

/* timestamp_ns, or just after parent's last reset if that came later: a
 * context that moves into parent is not released by resets before. */
static __always_inline __u64 after_reset(__u32 target, __u64 parent, __u64 timestamp_ns)
{
	__u64 key = memleakd_alloc_key(target, parent);
	__u64 *reset_ns = parent ? bpf_map_lookup_elem(&resets, &key) : NULL;

	return reset_ns && timestamp_ns <= *reset_ns ? *reset_ns + 1 : timestamp_ns;
}

/* Context record rec, keyed key, is now in parent: changed in place while
 * claimed, so that neither a take nor the sweep program sees it half done. */
static __always_inline void move_ctx_record(struct ctx_alloc_info *rec, __u32 target,
					    __u64 parent)
{
	__u64 word = *id_word(&rec->info);

	if (!memleakd_stack_real((__u32)word) || !swap_id(&rec->info, word, MEMLEAKD_STACK_CLAIMED))
		return;
	rec->ctx = parent;
	rec->timestamp_ns = after_reset(target, parent, rec->timestamp_ns);
	__sync_val_compare_and_swap(id_word(&rec->info),
				    (word & ~0xffffffffULL) | MEMLEAKD_STACK_CLAIMED, word);
}

/* Move context's record into parent. A context made without a parent has
 * its record in the context-free maps: it goes to ctx_allocs, its stack's
 * totals unchanged (dropped, and taken out of them, when that map is full). */
static __always_inline void reparent(struct target_counters *c, __u32 target, __u64 context,
				     __u64 parent)
{
	__u64 key = memleakd_alloc_key(target, context);
	struct ctx_alloc_info *rec = contexts ? bpf_map_lookup_elem(&ctx_allocs, &key) : NULL;
	struct tracked old;

	if (rec) {
		move_ctx_record(rec, target, parent);
		return;
	}
	if (!parent || take_plain(key, &old))
		return;
	old.ctx = parent;
	old.timestamp_ns = after_reset(target, parent, old.timestamp_ns);
	if (record(key, &old)) {
		stack_remove(target, old.stack_id, old.generation, old.size);
		c->dropped_allocs++;
	}
}

#endif
