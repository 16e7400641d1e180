/* arena_leaks.c - a region (context) allocator of the target's own, traced
 * through custom allocator specs:
 *
 *   --alloc arena_alloc:ctx=1,size=2 --alloc arena_alloc_zero:ctx=1,size=2
 *   --alloc arena_calloc:ctx=1,nmemb=2,size=3
 *   --alloc arena_memalign:out=1,ctx=2,size=4
 *   --alloc current_alloc:size=1,ctx=@current_arena
 *   --realloc arena_realloc:ptr=1,size=2 --free arena_free
 *   --reset arena_reset:ctx=1 --reset arena_destroy:ctx=1
 *
 * With "many-contexts N", the target only resets N contexts once each (see
 * main): more contexts than memleakd keeps reset times for. With "released
 * ROUNDS CHUNKS PAUSE_MS", it only fills arenas and destroys them (see
 * release_rounds): resets that release many more allocations than
 * --max-allocs, at addresses that do not come back soon.
 *
 * Chunks are carved from malloc'd 8 KiB blocks, or get a dedicated malloc'd
 * block over 2 KiB; each has a header naming its arena. arena_reset frees
 * the blocks and arena_destroy()s the children; arena_destroy also frees the
 * header. Nested calls: arena_alloc_zero -> arena_alloc, arena_calloc ->
 * arena_alloc_zero -> arena_alloc, current_alloc -> arena_alloc, children's
 * arena_destroy, and every malloc()/free() of blocks. Arenas "long" and
 * "request" exist before "ready"; current_arena is "long". After SIGUSR1:
 *
 *   stack (frames[0] <- frames[1])              allocs   bytes
 *   leak_arena_alloc <- chain_arena_alloc          50     3600  arena_alloc 72
 *   leak_arena_zero <- chain_arena_zero            40     5440  arena_alloc_zero 136
 *   leak_arena_calloc <- chain_arena_calloc        30     4200  arena_calloc 7 x 20
 *   leak_arena_memalign <- chain_arena_memalign    20     4000  arena_memalign 64, 200
 *   leak_current <- chain_current                  25     2200  current_alloc 88
 *   grow_arena_buffer <- leak_arena_realloc         1     6000  start_arena_buffer's
 *       arena_alloc 24, then arena_realloc to 200, 1500, 6000 (big)
 *   leak_arena_big <- chain_arena_big               6    18000  arena_alloc 3000 (big)
 *   leak_pending_request <- serve_requests          3     1848  arena_alloc 616 in
 *       "request" after its last reset
 *   shallow_arena_leak <- escape_then_shallow      10     2640  arena_alloc 264
 *   deep_arena_leak <- deep_arena                  20     7840  arena_alloc 392
 *
 * The last two each follow an arena_alloc(LONGJMP_SIZE) that longjmps out,
 * never returning; deep_arena_leak's calls come at once, below the abandoned
 * call, whose saved return address deep_arena has overwritten.
 *
 * Zero bytes outstanding: 100 x handle_request in "request", each ended by
 * arena_reset: fill_request (8 x arena_alloc 48 + 16 j, 2 x arena_alloc_zero
 * 80, 2 x arena_memalign 32, 104, 1 x arena_alloc 2500), request_current
 * (5 x current_alloc 96, current_arena = "request"), request_realloc
 * (arena_alloc 32, arena_realloc to 500); every 10th, request_children
 * makes a child of "request" and a grandchild of the child (8 x arena_alloc
 * 120 + 1 x 2200 in the child, 4 x arena_calloc 3 x 50 in the grandchild),
 * released by the arena_reset. scratch_arenas: 5 x (arena_create, 30 x
 * arena_alloc 180 + 1 x 2600, arena_destroy). churn_arena: 1000 x
 * (arena_alloc 16 + i * 37 % 3000, arena_free). failed_arena_allocs: 2 x
 * arena_memalign aligned on 3 (EINVAL, out untouched), 2 x arena_calloc
 * (2^62, 4) (NULL).
 *
 * Outside traced calls, the only malloc() calls after SIGUSR1 are 25 arena
 * headers (arena_create <- arena_create_child 20 times, arena_create <-
 * scratch_arenas 5 times), each freed by arena_destroy, a traced call. No
 * free() is called outside traced calls.
 */
#include "target.h"

#include <errno.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define BLOCK_SIZE 8192
#define BIG_CHUNK 2048
#define MAX_ALIGN 256
#define LONGJMP_SIZE 54321
#define API __attribute__((noinline, noclone, used))

struct arena {
	const char *name;
	struct block *blocks;		/* newest first; only it is carved */
	struct chunk *big;		/* chunks with a dedicated block */
	struct arena *parent, *children, *sibling;
};

struct block {
	struct block *next;
	size_t used;			/* bytes carved after this header */
};

struct chunk {
	struct arena *arena;
	size_t size;
	void *base;			/* a big chunk's block, else NULL */
	struct chunk *next;		/* the arena's big chunks */
};

struct arena *current_arena;

void arena_destroy(struct arena *a);

static jmp_buf escape;
static volatile int armed;
/* release_rounds takes blocks from this region, in turn, never twice in
 * AREA_SIZE bytes, and gives their pages back with madvise: an allocator
 * whose blocks go back to the system and come back at new addresses. */
#define AREA_SIZE ((size_t)256 << 20)
static char *block_area;
static size_t block_area_next;

static struct block *new_block(void)
{
	struct block *b;

	if (!block_area)
		return malloc(BLOCK_SIZE);
	b = (struct block *)(block_area + block_area_next);
	block_area_next = (block_area_next + BLOCK_SIZE) % AREA_SIZE;
	return b;
}

static void free_block(struct block *b)
{
	if (block_area)
		madvise(b, BLOCK_SIZE, MADV_DONTNEED);
	else
		free(b);
}

static uintptr_t round_up(uintptr_t n, uintptr_t align)
{
	return (n + align - 1) & ~(align - 1);
}

/* size bytes aligned on align (16 to MAX_ALIGN), after a chunk header. */
static void *carve(struct arena *a, size_t size, size_t align)
{
	struct block *b = a->blocks;
	struct chunk *c;
	char *base, *p;

	if (size > BIG_CHUNK) {
		base = malloc(sizeof(*c) + size + align - 16);
		if (!base)
			return NULL;
		p = (char *)round_up((uintptr_t)base + sizeof(*c), align);
		c = (struct chunk *)p - 1;
		c->next = a->big;
		a->big = c;
	} else {
		base = NULL;
		if (!b || round_up((uintptr_t)(b + 1) + b->used + sizeof(*c), align)
			  + size > (uintptr_t)b + BLOCK_SIZE) {
			b = new_block();
			if (!b)
				return NULL;
			b->next = a->blocks;
			b->used = 0;
			a->blocks = b;
		}
		p = (char *)round_up((uintptr_t)(b + 1) + b->used + sizeof(*c), align);
		b->used = p + round_up(size, 16) - (char *)(b + 1);
		c = (struct chunk *)p - 1;
	}
	c->arena = a;
	c->size = size;
	c->base = base;
	return p;
}

/* A small chunk's space is reused only if it was the last one carved. */
static void release_chunk(struct chunk *c)
{
	struct arena *a = c->arena;
	struct block *b = a->blocks;

	if (c->base) {
		struct chunk **link = &a->big;

		while (*link != c)
			link = &(*link)->next;
		*link = c->next;
		free(c->base);
	} else if ((char *)(c + 1) + round_up(c->size, 16)
		   == (char *)(b + 1) + b->used) {
		b->used = (char *)c - (char *)(b + 1);
	}
}

static void release(struct arena *a)
{
	while (a->children)
		arena_destroy(a->children);
	while (a->big) {
		struct chunk *c = a->big;

		a->big = c->next;
		free(c->base);
	}
	while (a->blocks) {
		struct block *b = a->blocks;

		a->blocks = b->next;
		free_block(b);
	}
}

API struct arena *arena_create(const char *name)
{
	struct arena *a = malloc(sizeof(*a));

	if (!a)
		target_die("arena_create failed");
	*a = (struct arena){ .name = name };
	return a;
}

API struct arena *arena_create_child(struct arena *parent, const char *name)
{
	struct arena *a = arena_create(name);

	a->parent = parent;
	a->sibling = parent->children;
	parent->children = a;
	return a;
}

API void *arena_alloc(struct arena *a, size_t size)
{
	if (armed && size == LONGJMP_SIZE) {
		armed = 0;
		longjmp(escape, 1);
	}
	return carve(a, size, 16);
}

API void *arena_alloc_zero(struct arena *a, size_t size)
{
	void *p = arena_alloc(a, size);

	if (p)
		memset(p, 0, size);
	return p;
}

API void *arena_calloc(struct arena *a, size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size)
		return NULL;
	return arena_alloc_zero(a, nmemb * size);
}

API int arena_memalign(void **out, struct arena *a, size_t align, size_t size)
{
	void *p;

	if (align < sizeof(void *) || align > MAX_ALIGN || (align & (align - 1)))
		return EINVAL;
	p = carve(a, size, align < 16 ? 16 : align);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

API void *current_alloc(size_t size)
{
	return arena_alloc(current_arena, size);
}

/* Grows into a new chunk of the same arena; never shrinks. */
API void *arena_realloc(void *p, size_t size)
{
	struct chunk *c = (struct chunk *)p - 1;
	void *q;

	if (size <= c->size)
		return p;
	q = carve(c->arena, size, 16);
	if (q) {
		memcpy(q, p, c->size);
		release_chunk(c);
	}
	return q;
}

API void arena_free(void *p)
{
	if (p)
		release_chunk((struct chunk *)p - 1);
}

API void arena_reset(struct arena *a)
{
	release(a);
}

API void arena_destroy(struct arena *a)
{
	struct arena **link = a->parent ? &a->parent->children : NULL;

	release(a);
	while (link && *link != a)
		link = &(*link)->sibling;
	if (link)
		*link = a->sibling;
	free(a);
}

/* ---- the work ---- */

static struct arena *long_arena, *req_arena;
static volatile size_t bad_alignment = 3;
static volatile size_t huge_nmemb = (size_t)1 << 62;

/* A site keeps n allocations made by call; chain_X calls leak_X. */
#define SITE(fn, n, call) \
	__attribute__((noinline)) static void fn(void) \
	{ \
		for (int i = 0; i < (n); i++) \
			target_keep(call); \
	}
#define CHAIN(x) \
	__attribute__((noinline)) static void chain_##x(void) { leak_##x(); }
/* Allocates n times with call, each block touched (and later reset). */
#define TOUCH(n, call) \
	for (int j = 0; j < (n); j++) \
		target_touch(call)

SITE(leak_arena_alloc, 50, arena_alloc(long_arena, 72))
CHAIN(arena_alloc)
SITE(leak_arena_zero, 40, arena_alloc_zero(long_arena, 136))
CHAIN(arena_zero)
SITE(leak_arena_calloc, 30, arena_calloc(long_arena, 7, 20))
CHAIN(arena_calloc)
SITE(leak_current, 25, current_alloc(88))
CHAIN(current)
SITE(leak_arena_big, 6, arena_alloc(long_arena, 3000))
CHAIN(arena_big)
SITE(leak_pending_request, 3, arena_alloc(req_arena, 616))
SITE(shallow_arena_leak, 10, arena_alloc(long_arena, 264))
SITE(deep_arena_leak, 20, arena_alloc(long_arena, 392))

__attribute__((noinline)) static void leak_arena_memalign(void)
{
	for (int i = 0; i < 20; i++) {
		void *p = NULL;

		if (arena_memalign(&p, long_arena, 64, 200) || (uintptr_t)p % 64)
			target_die("arena_memalign failed");
		target_keep(p);
	}
}
CHAIN(arena_memalign)

__attribute__((noinline)) static void *start_arena_buffer(void)
{
	return arena_alloc(long_arena, 24);
}

__attribute__((noinline)) static void *grow_arena_buffer(void *p, size_t size)
{
	void *q = arena_realloc(p, size);

	if (!q)
		target_die("arena_realloc failed");
	return q;
}

__attribute__((noinline)) static void leak_arena_realloc(void)
{
	void *p = start_arena_buffer();

	target_touch(p);
	p = grow_arena_buffer(p, 200);
	p = grow_arena_buffer(p, 1500);
	target_keep(grow_arena_buffer(p, 6000));
}
CHAIN(arena_realloc)

__attribute__((noinline)) static void failed_arena_allocs(void)
{
	for (int i = 0; i < 2; i++) {
		void *p = (void *)0x1000;

		if (arena_memalign(&p, long_arena, bad_alignment, 100) != EINVAL
		    || p != (void *)0x1000)
			target_die("arena_memalign(align 3) succeeded");
		if (arena_calloc(long_arena, huge_nmemb, 4))
			target_die("arena_calloc(2^62, 4) succeeded");
	}
}

__attribute__((noinline)) static void fill_request(struct arena *a)
{
	void *p;

	TOUCH(8, arena_alloc(a, 48 + 16 * j));
	TOUCH(2, arena_alloc_zero(a, 80));
	TOUCH(2, arena_memalign(&p, a, 32, 104) ? NULL : p);
	target_touch(arena_alloc(a, 2500));
}

__attribute__((noinline)) static void request_current(struct arena *a)
{
	struct arena *saved = current_arena;

	current_arena = a;
	TOUCH(5, current_alloc(96));
	current_arena = saved;
}

__attribute__((noinline)) static void request_realloc(struct arena *a)
{
	void *p = arena_alloc(a, 32);

	target_touch(p);
	target_touch(arena_realloc(p, 500));
}

__attribute__((noinline)) static void request_children(struct arena *a)
{
	struct arena *child = arena_create_child(a, "child");
	struct arena *grandchild = arena_create_child(child, "grandchild");

	TOUCH(8, arena_alloc(child, 120));
	target_touch(arena_alloc(child, 2200));
	TOUCH(4, arena_calloc(grandchild, 3, 50));
}

__attribute__((noinline)) static void handle_request(struct arena *a, int i)
{
	fill_request(a);
	request_current(a);
	request_realloc(a);
	if (i % 10 == 0)
		request_children(a);
	arena_reset(a);
}

__attribute__((noinline)) static void serve_requests(void)
{
	for (int i = 0; i < 100; i++)
		handle_request(req_arena, i);
	leak_pending_request();
}

__attribute__((noinline)) static void scratch_arenas(void)
{
	for (int i = 0; i < 5; i++) {
		struct arena *a = arena_create("scratch");

		TOUCH(30, arena_alloc(a, 180));
		target_touch(arena_alloc(a, 2600));
		arena_destroy(a);
	}
}

__attribute__((noinline)) static void churn_arena(void)
{
	for (int i = 0; i < 1000; i++) {
		void *p = arena_alloc(long_arena, 16 + i * 37 % 3000);

		target_touch(p);
		arena_free(p);
	}
}

/* The padding puts the abandoned call below shallow_arena_leak's calls. */
__attribute__((noinline)) static void escape_from_arena(void)
{
	char pad[1024];

	memset(pad, 0, sizeof(pad));
	target_sink = pad;
	armed = 1;
	target_keep(arena_alloc(long_arena, LONGJMP_SIZE));
}

__attribute__((noinline)) static void escape_then_shallow(void)
{
	if (!setjmp(escape))
		escape_from_arena();
	shallow_arena_leak();
}

/* The pad overwrites the abandoned call's frame, return address included,
 * and puts deep_arena_leak's calls below it. */
__attribute__((noinline)) static void deep_arena(void)
{
	char pad[8192];

	memset(pad, 0, sizeof(pad));
	target_sink = pad;
	deep_arena_leak();
}

__attribute__((noinline)) static void escape_then_deep(void)
{
	if (!setjmp(escape))
		escape_from_arena();
	deep_arena();
}

__attribute__((noinline)) static void run_arenas(void)
{
	chain_arena_alloc();
	chain_arena_zero();
	chain_arena_calloc();
	chain_arena_memalign();
	chain_current();
	chain_arena_realloc();
	chain_arena_big();
	failed_arena_allocs();
	serve_requests();
	scratch_arenas();
	churn_arena();
	escape_then_shallow();
	escape_then_deep();
}

/* "many-contexts N": N arenas, made before "ready"; after SIGUSR1 each gets
 * one 16-byte chunk from fill_context <- many_contexts and is reset. */
static struct arena **many;

__attribute__((noinline)) static void fill_context(struct arena *a)
{
	target_touch(arena_alloc(a, 16));
}

__attribute__((noinline)) static void many_contexts(long n)
{
	for (long i = 0; i < n; i++) {
		fill_context(many[i]);
		arena_reset(many[i]);
	}
}

/* "released ROUNDS CHUNKS PAUSE_MS": after SIGUSR1, ROUNDS times: an arena
 * gets CHUNKS chunks of 48 bytes from fill_released <- release_rounds and
 * is destroyed, then the target sleeps PAUSE_MS. The blocks come from
 * block_area, 100 chunks each: the addresses a reset released come back
 * only after 3.3 million chunks. Nothing is outstanding at the end; the
 * only malloc and free calls after SIGUSR1 are the arenas' headers.
 * "kept ROUNDS CHUNKS PAUSE_MS" keeps the arenas instead: ROUNDS x CHUNKS
 * outstanding (bench/sweep_cost.py). */
__attribute__((noinline)) static void fill_released(struct arena *a, long chunks)
{
	for (long i = 0; i < chunks; i++)
		target_touch(arena_alloc(a, 48));
}

__attribute__((noinline)) static void release_rounds(long rounds, long chunks, long pause_ms,
						    int keep)
{
	const struct timespec pause = { .tv_sec = pause_ms / 1000,
					 .tv_nsec = pause_ms % 1000 * 1000000 };

	block_area = mmap(NULL, AREA_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (block_area == MAP_FAILED)
		target_die("mmap failed");
	for (long r = 0; r < rounds; r++) {
		struct arena *a = arena_create("released");

		fill_released(a, chunks);
		if (!keep)
			arena_destroy(a);
		nanosleep(&pause, NULL);
	}
}

int main(int argc, char **argv)
{
	long n = argc == 3 && !strcmp(argv[1], "many-contexts") ? atol(argv[2]) : 0;
	int kept = argc == 5 && !strcmp(argv[1], "kept");
	int released = argc == 5 && (kept || !strcmp(argv[1], "released"));

	long_arena = arena_create("long");
	req_arena = arena_create("request");
	current_arena = long_arena;
	many = calloc((size_t)n + 1, sizeof(*many));
	for (long i = 0; many && i < n; i++)
		many[i] = arena_create("many");
	target_ready();
	target_wait_start();
	if (released)
		release_rounds(atol(argv[2]), atol(argv[3]), atol(argv[4]), kept);
	else if (n)
		many_contexts(n);
	else
		run_arenas();
	target_done();
	target_idle();
}
