/*
 * own_context.c - a PostgreSQL 15 C module that creates memory contexts of
 * its own kind, as an extension with a context type of its own does: it
 * passes its own methods table to MemoryContextCreate. memleakd finds
 * pfree's methods in the tables postgres's calls pass; a module that calls
 * MemoryContextCreate too may pass others, so once one is loaded pfree is
 * probed itself. The tests only LOAD it: own_context_create is not called.
 */
#include "postgres.h"

#include "fmgr.h"
#include "nodes/memnodes.h"
#include "utils/memutils.h"

PG_MODULE_MAGIC;

void own_context_create(MemoryContext node, const MemoryContextMethods *methods,
						MemoryContext parent);

void
own_context_create(MemoryContext node, const MemoryContextMethods *methods,
				   MemoryContext parent)
{
	MemoryContextCreate(node, T_AllocSetContext, methods, parent, "own_context");
}
