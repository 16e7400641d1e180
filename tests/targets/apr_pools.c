/* apr_pools.c - APR memory pools (Debian's libapr-1.so.0), traced with
 * --preset apr:
 *
 *   --alloc apr_palloc:ctx=1,size=2 --alloc apr_pcalloc:ctx=1,size=2
 *   --create apr_pool_create_ex:out=1,parent=2
 *   --create apr_pool_create_unmanaged_ex:out=1
 *   --reset apr_pool_clear:ctx=1 --delete apr_pool_destroy:ctx=1
 *
 * What Debian's libapr 1.7 does (objdump -d):
 * - apr_pcalloc is a real exported function, which calls apr_palloc@plt
 *   and memset, but <apr_pools.h> defines apr_pcalloc(p, size) as the macro
 *   memset(apr_palloc(p, size), 0, size) when APR_POOL_DEBUG is off: a
 *   program's apr_pcalloc() calls apr_palloc. Writing (apr_pcalloc)(p, n)
 *   reaches the function; its apr_palloc is then a nested call.
 * - apr_pool_clear calls apr_pool_destroy@plt for each child pool, and
 *   apr_pool_destroy calls itself (a direct call) for each child: every
 *   subpool's destruction goes through apr_pool_destroy's entry, where the
 *   probe is.
 * - Pool memory comes from APR's allocator, which maps its blocks with mmap
 *   and keeps freed blocks for reuse: neither apr_palloc nor the creation
 *   of a pool that has a parent (apr_pool_create; a pool made with parent
 *   NULL is a child of APR's global pool) calls malloc or free. Only
 *   apr_initialize and the creation of a pool with its own allocator call
 *   calloc; they happen before "ready". So the glibc probes see nothing
 *   after SIGUSR1.
 *
 * Before "ready": apr_initialize, then the pools "long" and "scratch"
 * (children of the global pool).
 *
 * After SIGUSR1, in order; sizes are the requested ones:
 *
 *   stack (frames[0] <- frames[1])              allocs   bytes
 *   leak_palloc <- chain_palloc                    100   100000
 *       100 x apr_palloc(long, 1000)
 *   leak_pcalloc_macro <- chain_pcalloc_macro       50     1200
 *       50 x apr_pcalloc(long, 24): the macro, an apr_palloc call
 *   leak_pcalloc <- chain_pcalloc                   40     2880
 *       40 x (apr_pcalloc)(long, 72): the function (+40 nested apr_palloc)
 *   leak_in_subpool <- chain_subpool                30     6000
 *       a child of "long" created here, never destroyed;
 *       30 x apr_palloc(child, 200)
 *   leak_pending_request <- serve_pending            3     1848
 *       a request pool created here: fill_pending's 5 x apr_palloc(pool,
 *       616), apr_pool_clear(pool), then 3 x apr_palloc(pool, 616), and
 *       the pool is never destroyed
 *   chain_subpool <- run_leaks                       1        0
 *       the child of "long" above, a pool (new_pool is a macro)
 *   serve_pending <- run_leaks                       1        0
 *       the request pool above
 *
 * Zero bytes outstanding:
 *   serve_requests: 100 x handle_request, each:
 *       apr_pool_create(&req, NULL);
 *       fill_request: 10 x apr_palloc(req, 100 + 8 j), 5 x apr_pcalloc(req,
 *           64) (macro), 2 x (apr_pcalloc)(req, 48) (function);
 *       request_child: a child of req, 6 x apr_palloc(child, 128);
 *       apr_pool_clear(req), which destroys the child;
 *       refill_request: 3 x apr_palloc(req, 300);
 *       request_family: a child of req, 4 x apr_palloc(child, 50), and a
 *           grandchild (child of the child), 2 x apr_palloc(grandchild, 40);
 *       apr_pool_destroy(req), which destroys the child, which destroys the
 *           grandchild.
 *     Per request: 32 allocations (2 nested apr_palloc), 5 resets (clear
 *     req, destroy child, destroy req, destroy child, destroy grandchild),
 *     32 allocations released.
 *   use_scratch: 50 x (8 x apr_palloc(scratch, 50), apr_pool_clear(scratch)):
 *     400 allocations, 50 resets.
 *   scratch_subpools: 20 x (a child of "long", 10 x apr_palloc(child, 90),
 *     apr_pool_destroy(child)): 200 allocations, 20 resets.
 *   fill_pending (above): 5 allocations released by the clear, 1 reset.
 *
 * Pools created: 1 + 100 x 4 + 20 + 1 = 422. A pool destroyed is freed
 * (the 100 requests' and the 20 scratch subpools), or released by its
 * parent's clear or destroy, which comes first (3 per request).
 *
 * Totals: outstanding_allocs 225, outstanding_bytes 111928; allocs 4450
 * (220 + 3200 + 400 + 200 + 8 + 422 pools); frees 120, unknown_frees 0;
 * nested_calls 240 (40 + 100 x 2); resets 571 (500 + 50 + 20 + 1);
 * reset_frees 4105 (3200 + 400 + 200 + 5 + 300 pools). Exactly 5 stacks
 * have outstanding bytes, 2 more a pool.
 */
#include "target.h"

#include <apr_general.h>
#include <apr_pools.h>

/* The exported function, which the header hides behind its macro. */
APR_DECLARE(void *) (apr_pcalloc)(apr_pool_t *p, apr_size_t size);

static apr_pool_t *long_pool, *scratch;

static void *must(void *p)
{
	if (!p)
		target_die("apr_palloc failed");
	return p;
}

/* A macro, not a function: a pool is an allocation of new_pool's caller. */
#define new_pool(parent) ({ \
	apr_pool_t *pool_; \
	if (apr_pool_create(&pool_, (parent)) != APR_SUCCESS) \
		target_die("apr_pool_create failed"); \
	pool_; \
})

TARGET_LEAK(palloc, 100, apr_palloc(long_pool, 1000))

TARGET_LEAK(pcalloc_macro, 50, apr_pcalloc(long_pool, 24))

TARGET_LEAK(pcalloc, 40, (apr_pcalloc)(long_pool, 72))

__attribute__((noinline)) static void leak_in_subpool(apr_pool_t *child)
{
	for (int i = 0; i < 30; i++)
		target_keep(apr_palloc(child, 200));
}

__attribute__((noinline)) static void chain_subpool(void)
{
	leak_in_subpool(new_pool(long_pool));
}

__attribute__((noinline)) static void fill_request(apr_pool_t *req)
{
	for (int j = 0; j < 10; j++)
		target_touch(must(apr_palloc(req, 100 + 8 * j)));
	for (int j = 0; j < 5; j++)
		target_touch(must(apr_pcalloc(req, 64)));
	for (int j = 0; j < 2; j++)
		target_touch(must((apr_pcalloc)(req, 48)));
}

__attribute__((noinline)) static void request_child(apr_pool_t *req)
{
	apr_pool_t *child = new_pool(req);

	for (int j = 0; j < 6; j++)
		target_touch(must(apr_palloc(child, 128)));
}

__attribute__((noinline)) static void refill_request(apr_pool_t *req)
{
	for (int j = 0; j < 3; j++)
		target_touch(must(apr_palloc(req, 300)));
}

__attribute__((noinline)) static void request_family(apr_pool_t *req)
{
	apr_pool_t *child = new_pool(req), *grandchild = new_pool(child);

	for (int j = 0; j < 4; j++)
		target_touch(must(apr_palloc(child, 50)));
	for (int j = 0; j < 2; j++)
		target_touch(must(apr_palloc(grandchild, 40)));
}

__attribute__((noinline)) static void handle_request(void)
{
	apr_pool_t *req = new_pool(NULL);

	fill_request(req);
	request_child(req);
	apr_pool_clear(req);
	refill_request(req);
	request_family(req);
	apr_pool_destroy(req);
}

__attribute__((noinline)) static void serve_requests(void)
{
	for (int i = 0; i < 100; i++)
		handle_request();
}

__attribute__((noinline)) static void use_scratch(void)
{
	for (int i = 0; i < 50; i++) {
		for (int j = 0; j < 8; j++)
			target_touch(must(apr_palloc(scratch, 50)));
		apr_pool_clear(scratch);
	}
}

__attribute__((noinline)) static void scratch_subpools(void)
{
	for (int i = 0; i < 20; i++) {
		apr_pool_t *child = new_pool(long_pool);

		for (int j = 0; j < 10; j++)
			target_touch(must(apr_palloc(child, 90)));
		apr_pool_destroy(child);
	}
}

__attribute__((noinline)) static void fill_pending(apr_pool_t *pool)
{
	for (int j = 0; j < 5; j++)
		target_touch(must(apr_palloc(pool, 616)));
}

__attribute__((noinline)) static void leak_pending_request(apr_pool_t *pool)
{
	for (int j = 0; j < 3; j++)
		target_keep(apr_palloc(pool, 616));
}

__attribute__((noinline)) static void serve_pending(void)
{
	apr_pool_t *pool = new_pool(NULL);

	fill_pending(pool);
	apr_pool_clear(pool);
	leak_pending_request(pool);
}

__attribute__((noinline)) static void run_leaks(void)
{
	chain_palloc();
	chain_pcalloc_macro();
	chain_pcalloc();
	chain_subpool();
	serve_requests();
	use_scratch();
	scratch_subpools();
	serve_pending();
}

int main(void)
{
	if (apr_initialize() != APR_SUCCESS)
		target_die("apr_initialize failed");
	long_pool = new_pool(NULL);
	scratch = new_pool(NULL);
	target_ready();
	target_wait_start();
	run_leaks();
	target_done();
	target_idle();
	return 0;
}
