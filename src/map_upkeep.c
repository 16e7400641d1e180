/* map_upkeep.c - keeping the maps every traced process shares from
 * filling: the ids of stacks that hold nothing given back (stack_reclaim),
 * and the context records that resets released swept out (ctx_sweep),
 * each when the programs say the map fills and after reports. Failures
 * are logged and left to the next round. */
#include <errno.h>
#include <string.h>

#include "daemon.h"
#include "probes/tracer.h"
#include "snapshot/ctx_sweep.h"
#include "snapshot/generations.h"
#include "snapshot/mapping_events.h"
#include "snapshot/mappings.h"
#include "snapshot/stack_reclaim.h"
#include "snapshot/trend.h"
#include "util/log.h"

/* What keeps stacks by id, for the reclaim of their ids. */
static int holders_drain(void *ctx)
{
	struct daemon *d = ctx;

	return d->mapping_events ? mapping_events__drain(d->mapping_events) : 0;
}

static int holders_each_held(void *ctx, int (*hold)(uint32_t stack_id, void *arg), void *arg)
{
	struct daemon *d = ctx;
	int r = 0;

	for (size_t i = 0; i < MEMLEAKD_MAX_TARGETS && !r; i++)
		if (d->traced[i] && d->traced[i]->mappings)
			r = mappings__each_held(d->traced[i]->mappings, hold, arg);
	return r;
}

static void holders_forget(void *ctx, uint32_t stack_id)
{
	struct daemon *d = ctx;

	generations__forget(d->generations, stack_id);
	for (size_t i = 0; i < MEMLEAKD_MAX_TARGETS; i++) {
		struct traced *p = d->traced[i];

		if (!p)
			continue;
		trend__forget(p->trend, stack_id);
		trend__forget(p->mapping_trend, stack_id);
		if (p->mappings)
			mappings__forget(p->mappings, stack_id);
	}
}

/* Give back the ids of stacks that hold nothing, when the stack map
 * fills (stack_reclaim.h): after a report, and when the programs signal.
 * A failure is reported; the next report tries again. */
void reclaim_stacks(struct daemon *d)
{
	const struct stack_holders holders = { .drain = holders_drain,
					       .each_held = holders_each_held,
					       .forget = holders_forget, .ctx = d };
	struct stack_reclaim_stats st;
	int r = stack_reclaim__run(d->reclaim, &holders, &st);

	if (r < 0)
		log_warn("reclaiming stack ids failed: %s", strerror(-r));
	else if (st.ran)
		log_debug("stacks: %llu in the map of %u; %llu ids reclaimed, %llu found in use "
			  "again, in %.1f ms", (unsigned long long)st.in_map, d->cfg->max_stacks,
			  (unsigned long long)st.reclaimed, (unsigned long long)st.revived,
			  st.ns / 1e6);
	if (r == 0 && st.ran && st.full)
		log_debug("stacks: %llu found the stack map full since attach: their bytes are "
			  "under [stack lost] (raise --max-stacks)", (unsigned long long)st.full);
}

/* Do the specs name contexts (ctx= in a spec)? */
bool have_contexts(const struct alloc_specs *specs)
{
	for (size_t i = 0; i < specs->n; i++)
		if (specs->items[i].ctx || specs->items[i].ctx_global)
			return true;
	return false;
}

/* Sweep the context records that resets release, where the kernel can. */
int start_sweep(struct daemon *d, uint32_t capacity)
{
	struct tracer_maps maps;
	int r;

	tracer__maps(d->tracer, &maps);
	if (maps.sweep < 0) {
		log_info("this kernel cannot run the sweep program (Linux 6.10 can): records "
			 "released by context resets stay in the map until their addresses come "
			 "back, and may fill it (dropped_allocs)");
		return 0;
	}
	r = ctx_sweep__new(&maps, capacity, &d->sweep);
	if (r < 0)
		log_error("cannot set up the sweep of context records: %s", strerror(-r));
	return r;
}

int start_reclaim(struct daemon *d)
{
	struct tracer_maps maps;
	int r;

	tracer__maps(d->tracer, &maps);
	r = stack_reclaim__new(&maps, d->cfg->max_stacks, &d->reclaim);
	if (r < 0)
		log_error("cannot set up the reclaim of stack ids: %s", strerror(-r));
	return r;
}

/* Sweep the context records between reports when the map fills
 * (ctx_sweep.h). A failure is reported; the next report sweeps again. */
void sweep_if_due(struct daemon *d)
{
	struct ctx_sweep_stats swept;
	bool due = false;
	int r = ctx_sweep__due(d->sweep, &due);

	if (r == 0 && !due)
		return;
	if (r == 0)
		r = ctx_sweep__run(d->sweep);
	if (r < 0) {
		log_warn("sweeping the context records failed: %s", strerror(-r));
		return;
	}
	ctx_sweep__take_stats(d->sweep, &swept);
	log_debug("swept the context records: %llu released ones retired in %.1f ms",
		  (unsigned long long)swept.retired, swept.ns / 1e6);
}
