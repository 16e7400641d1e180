/*
 * leaky_ext.c - a PostgreSQL 15 C extension that allocates in known ways,
 * for the integration tests that trace a real backend. Every SQL function
 * takes (n int4, size int4), is STRICT and returns void; n must be >= 0 and
 * size from 0 to 1 GB - 1 (MaxAllocSize), else it raises an ERROR before
 * allocating anything. Bytes below are the sizes asked of the allocator
 * entry point (what a probe on it sees), n allocations of size bytes each;
 * an AllocSet rounds each chunk up (1000 -> 1024 plus a 16-byte header).
 *
 *   leaky_remember(n, size): leaky_remember -> leaky_store(n, size) ->
 *     leaky_keep(size), n times -> MemoryContextAlloc(TopMemoryContext,
 *     size). Keeps every pointer in a static array and never frees one: it
 *     leaves n * size bytes in n allocations in TopMemoryContext for the
 *     rest of the backend's life, added to what earlier calls left. The
 *     leaking stack starts leaky_keep, leaky_store, leaky_remember. At most
 *     LEAKY_KEPT_MAX allocations over the backend's life.
 *
 *   leaky_scratch(n, size): leaky_scratch -> leaky_scratch_chunk(size), n
 *     times -> palloc(size) in CurrentMemoryContext (the expression
 *     context of the query running the function). Never pfree'd: the
 *     query's contexts are reset or deleted when it ends, which releases
 *     them all. Leaves nothing after the query.
 *
 *   leaky_error(n, size): leaky_error -> leaky_error_chunk(size), n times
 *     -> palloc(size), then elog(ERROR, "leaky_error: raised on purpose").
 *     The transaction aborts and error recovery releases the chunks with
 *     the aborted query's contexts. Always raises; leaves nothing.
 *
 *   leaky_oversize(n, size): as leaky_error, but the ERROR comes from inside
 *     palloc: leaky_oversize_chunk asks it for MaxAllocSize + 1 bytes ("invalid
 *     memory alloc request size"), so elog longjmps out of a traced allocator
 *     call that never returns. Always raises; leaves nothing.
 *
 *   leaky_pfree(n, size): leaky_pfree -> leaky_pfree_chunk(size), n times
 *     -> palloc(size) then pfree of it at once: n allocations and n frees,
 *     at most one chunk outstanding at a time. Leaves nothing.
 *
 * tests/postgres/Makefile builds it with PGXS without inlining or sibling
 * calls and with frame pointers, so that stacks are exact.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/memutils.h"

PG_MODULE_MAGIC;

/* Bound of leaky_remember's allocations over the life of a backend. */
#define LEAKY_KEPT_MAX (1 << 20)

/* Not static, so that the compiler cannot drop the stores nobody reads. */
extern void *leaky_kept[LEAKY_KEPT_MAX];
extern int	leaky_kept_count;
void	   *leaky_kept[LEAKY_KEPT_MAX];
int			leaky_kept_count;

/* Non-static so that they have symbols; noinline so that they have frames. */
void *leaky_keep(Size size) __attribute__((noinline));
void leaky_store(int n, Size size) __attribute__((noinline));
void *leaky_scratch_chunk(Size size) __attribute__((noinline));
void *leaky_error_chunk(Size size) __attribute__((noinline));
void *leaky_oversize_chunk(void) __attribute__((noinline));
void leaky_pfree_chunk(Size size) __attribute__((noinline));

PG_FUNCTION_INFO_V1(leaky_remember);
PG_FUNCTION_INFO_V1(leaky_scratch);
PG_FUNCTION_INFO_V1(leaky_error);
PG_FUNCTION_INFO_V1(leaky_oversize);
PG_FUNCTION_INFO_V1(leaky_pfree);

/* The function's (n, size) arguments, checked. */
static void
leaky_args(FunctionCallInfo fcinfo, int *n, Size *size)
{
	int32		n_arg = PG_GETARG_INT32(0);
	int32		size_arg = PG_GETARG_INT32(1);

	if (n_arg < 0 || size_arg < 0 || !AllocSizeIsValid((Size) size_arg))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("leaky_ext: n (%d) and size (%d) must not be negative",
						n_arg, size_arg)));
	*n = n_arg;
	*size = (Size) size_arg;
}

void *
leaky_keep(Size size)
{
	void	   *chunk = MemoryContextAlloc(TopMemoryContext, size);

	leaky_kept[leaky_kept_count++] = chunk;
	return chunk;
}

void
leaky_store(int n, Size size)
{
	int			i;

	if (n > LEAKY_KEPT_MAX - leaky_kept_count)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("leaky_remember: %d kept already, %d more is past %d",
						leaky_kept_count, n, LEAKY_KEPT_MAX)));
	for (i = 0; i < n; i++)
		leaky_keep(size);
}

Datum
leaky_remember(PG_FUNCTION_ARGS)
{
	int			n;
	Size		size;

	leaky_args(fcinfo, &n, &size);
	leaky_store(n, size);
	PG_RETURN_VOID();
}

void *
leaky_scratch_chunk(Size size)
{
	return palloc(size);
}

Datum
leaky_scratch(PG_FUNCTION_ARGS)
{
	int			n;
	Size		size;
	int			i;

	leaky_args(fcinfo, &n, &size);
	for (i = 0; i < n; i++)
		leaky_scratch_chunk(size);
	PG_RETURN_VOID();
}

void *
leaky_error_chunk(Size size)
{
	return palloc(size);
}

/* leaky_error's and leaky_oversize's chunks, before their ERROR. */
static void
leaky_error_chunks(FunctionCallInfo fcinfo)
{
	int			n;
	Size		size;
	int			i;

	leaky_args(fcinfo, &n, &size);
	for (i = 0; i < n; i++)
		leaky_error_chunk(size);
}

Datum
leaky_error(PG_FUNCTION_ARGS)
{
	leaky_error_chunks(fcinfo);
	elog(ERROR, "leaky_error: raised on purpose");
	PG_RETURN_VOID();
}

void *
leaky_oversize_chunk(void)
{
	return palloc(MaxAllocSize + 1);
}

Datum
leaky_oversize(PG_FUNCTION_ARGS)
{
	leaky_error_chunks(fcinfo);
	leaky_oversize_chunk();
	PG_RETURN_VOID();
}

void
leaky_pfree_chunk(Size size)
{
	pfree(palloc(size));
}

Datum
leaky_pfree(PG_FUNCTION_ARGS)
{
	int			n;
	Size		size;
	int			i;

	leaky_args(fcinfo, &n, &size);
	for (i = 0; i < n; i++)
		leaky_pfree_chunk(size);
	PG_RETURN_VOID();
}
