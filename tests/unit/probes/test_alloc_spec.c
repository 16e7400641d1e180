/* test_alloc_spec.c - the spec grammar is a contract: SYMBOL[@MODULE] and
 * its keys, the defaults of each flag, the cookie each spec encodes, and an
 * error naming the flag for each bad spec. */
#include <errno.h>
#include <stdlib.h>

#include "probes/alloc_spec.h"
#include "unit.h"

static struct alloc_spec parse_ok(enum probe_kind kind, const char *text)
{
	struct alloc_spec s = { 0 };
	char *error = NULL;

	EXPECT_EQ(alloc_spec_parse(kind, text, &s, &error), 0);
	if (error)
		fprintf(stderr, "  %s: %s\n", text, error);
	free(error);
	return s;
}

static void expect_error(enum probe_kind kind, const char *text, const char *needle)
{
	struct alloc_spec s = { 0 };
	char *error = NULL;

	EXPECT_EQ(alloc_spec_parse(kind, text, &s, &error), -EINVAL);
	EXPECT(error && strstr(error, needle));
	if (error && !strstr(error, needle))
		fprintf(stderr, "  message was: %s\n", error);
	EXPECT(s.symbol == NULL);
	free(error);
}

TEST(defaults_per_flag)
{
	struct alloc_spec s = parse_ok(PROBE_ALLOC, "palloc");

	EXPECT_STREQ(s.symbol, "palloc");
	EXPECT(s.module == NULL && s.ctx_global == NULL);
	EXPECT_EQ(s.size, 1);
	EXPECT_EQ(s.ptr + s.out + s.nmemb + s.ctx, 0);
	alloc_spec_clear(&s);
	s = parse_ok(PROBE_FREE, "pfree");
	EXPECT_EQ(s.ptr, 1);
	alloc_spec_clear(&s);
	s = parse_ok(PROBE_REALLOC, "repalloc");
	EXPECT_EQ(s.ptr, 1);
	EXPECT_EQ(s.size, 2);
	alloc_spec_clear(&s);
	s = parse_ok(PROBE_RESET, "MemoryContextReset");
	EXPECT_EQ(s.ctx, 1);
	alloc_spec_clear(&s);
}

TEST(keys_and_module)
{
	struct alloc_spec s = parse_ok(PROBE_ALLOC, "my_memalign@libfoo.so.1:out=1,ctx=2,size=4");

	EXPECT_STREQ(s.symbol, "my_memalign");
	EXPECT_STREQ(s.module, "libfoo.so.1");
	EXPECT_EQ(s.out, 1);
	EXPECT_EQ(s.ctx, 2);
	EXPECT_EQ(s.size, 4);
	alloc_spec_clear(&s);
	s = parse_ok(PROBE_ALLOC, "calloc_like:nmemb=1,size=2");
	EXPECT_EQ(s.nmemb, 1);
	EXPECT_EQ(s.size, 2);
	alloc_spec_clear(&s);
	s = parse_ok(PROBE_REALLOC, "reallocarray_like:ptr=1,nmemb=2,size=3");
	EXPECT_EQ(s.ptr, 1);
	EXPECT_EQ(s.nmemb, 2);
	EXPECT_EQ(s.size, 3);
	alloc_spec_clear(&s);
	s = parse_ok(PROBE_ALLOC, "palloc@/usr/lib/postgresql/15/bin/postgres:ctx=@CurrentMemoryContext");
	EXPECT_STREQ(s.module, "/usr/lib/postgresql/15/bin/postgres");
	EXPECT_STREQ(s.ctx_global, "CurrentMemoryContext");
	EXPECT_EQ(s.ctx, 0);
	EXPECT_EQ(s.size, 1);
	alloc_spec_clear(&s);
	s = parse_ok(PROBE_RESET, "pool_clear:ctx=@current_pool");
	EXPECT_STREQ(s.ctx_global, "current_pool");
	EXPECT_EQ(s.ctx, 0);
	alloc_spec_clear(&s);
}

TEST(cookie_fields)
{
	struct alloc_spec s = parse_ok(PROBE_ALLOC, "f:out=1,ctx=2,size=4,nmemb=3");
	uint64_t c = alloc_spec_cookie(&s);

	EXPECT_EQ(COOKIE_FIELD(c, COOKIE_KIND_SHIFT), PROBE_ALLOC);
	EXPECT_EQ(COOKIE_FIELD(c, COOKIE_OUT_SHIFT), 1);
	EXPECT_EQ(COOKIE_FIELD(c, COOKIE_CTX_SHIFT), 2);
	EXPECT_EQ(COOKIE_FIELD(c, COOKIE_NMEMB_SHIFT), 3);
	EXPECT_EQ(COOKIE_FIELD(c, COOKIE_SIZE_SHIFT), 4);
	EXPECT_EQ(COOKIE_FIELD(c, COOKIE_FLAGS_SHIFT), PROBE_F_NESTS);
	EXPECT_EQ(COOKIE_TARGET(c), 0);
	alloc_spec_clear(&s);
	s = parse_ok(PROBE_REALLOC, "r");
	c = alloc_spec_cookie(&s);
	EXPECT_EQ(COOKIE_FIELD(c, COOKIE_FLAGS_SHIFT), PROBE_F_ZERO_SIZE_FREES | PROBE_F_NESTS);
	alloc_spec_clear(&s);
	/* Frees and resets make no calls that need to know they are nested. */
	s = parse_ok(PROBE_FREE, "f");
	c = alloc_spec_cookie(&s);
	EXPECT_EQ(COOKIE_FIELD(c, COOKIE_FLAGS_SHIFT), 0);
	alloc_spec_clear(&s);
	s = parse_ok(PROBE_RESET, "r:ctx=@g");
	c = alloc_spec_cookie(&s);
	EXPECT_EQ(COOKIE_FIELD(c, COOKIE_KIND_SHIFT), PROBE_RESET);
	EXPECT_EQ(COOKIE_FIELD(c, COOKIE_FLAGS_SHIFT), PROBE_F_CTX_GLOBAL);
	EXPECT_EQ(COOKIE_FIELD(c, COOKIE_CTX_SHIFT), 0);
	alloc_spec_clear(&s);
}

/* A spec as parsed: its argument fields and its global. */
struct parsed {
	enum probe_kind kind;
	const char *text;
	uint8_t size, ptr, out, ctx;
	const char *global;
};

static void expect_parsed(const struct parsed *p)
{
	struct alloc_spec s = parse_ok(p->kind, p->text);

	EXPECT_EQ(s.size, p->size);
	EXPECT_EQ(s.ptr, p->ptr);
	EXPECT_EQ(s.out, p->out);
	EXPECT_EQ(s.ctx, p->ctx);
	EXPECT_EQ(s.nmemb, 0);
	if (p->global)
		EXPECT_STREQ(s.ctx_global, p->global);
	else
		EXPECT(s.ctx_global == NULL);
	alloc_spec_clear(&s);
}

/* The cookie of kind's spec text has kind, argument n in the field at
 * shift and argument m in the field at shift2. */
static void expect_cookie(enum probe_kind kind, const char *text, int shift, unsigned int n,
			  int shift2, unsigned int m)
{
	struct alloc_spec s = parse_ok(kind, text);
	uint64_t c = alloc_spec_cookie(&s);

	EXPECT_EQ(COOKIE_FIELD(c, COOKIE_KIND_SHIFT), kind);
	EXPECT_EQ(COOKIE_FIELD(c, shift), n);
	EXPECT_EQ(COOKIE_FIELD(c, shift2), m);
	EXPECT_EQ(COOKIE_FIELD(c, COOKIE_FLAGS_SHIFT) & PROBE_F_ZERO_SIZE_FREES, 0);
	alloc_spec_clear(&s);
}

/* Contexts as allocations: --create's parent is the context its record is
 * in (the ctx field), --reparent moves the context ctx= (the ptr field)
 * into parent=. */
TEST(context_kinds)
{
	static const struct parsed cases[] = {
		{ .kind = PROBE_CREATE, .text = "AllocSetContextCreateInternal:parent=1,size=4", .size = 4, .ctx = 1 },
		{ .kind = PROBE_CREATE, .text = "apr_pool_create_ex:out=1,parent=2", .out = 1, .ctx = 2 },
		{ .kind = PROBE_CREATE, .text = "new_root_pool" },
		{ .kind = PROBE_CREATE, .text = "pool_create:parent=@current_pool", .global = "current_pool" },
		{ .kind = PROBE_DELETE, .text = "MemoryContextDelete", .ctx = 1 },
		{ .kind = PROBE_DELETE, .text = "pool_destroy:ctx=@current_pool", .global = "current_pool" },
		{ .kind = PROBE_REPARENT, .text = "MemoryContextSetParent", .ptr = 1, .ctx = 2 },
		{ .kind = PROBE_REPARENT, .text = "adopt:ctx=2,parent=@top_pool", .ptr = 2, .global = "top_pool" },
		{ .kind = PROBE_REPARENT, .text = "adopt:parent=1,ctx=3", .ptr = 3, .ctx = 1 },
	};
	struct alloc_spec s;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_parsed(&cases[i]);
	expect_cookie(PROBE_CREATE, "c:parent=1,size=4", COOKIE_CTX_SHIFT, 1, COOKIE_SIZE_SHIFT, 4);
	expect_cookie(PROBE_CREATE, "c:out=1,parent=2", COOKIE_OUT_SHIFT, 1, COOKIE_CTX_SHIFT, 2);
	expect_cookie(PROBE_DELETE, "d", COOKIE_CTX_SHIFT, 1, COOKIE_PTR_SHIFT, 0);
	expect_cookie(PROBE_REPARENT, "r", COOKIE_PTR_SHIFT, 1, COOKIE_CTX_SHIFT, 2);
	s = parse_ok(PROBE_CREATE, "c:parent=@g");
	EXPECT_EQ(COOKIE_FIELD(alloc_spec_cookie(&s), COOKIE_FLAGS_SHIFT),
		  PROBE_F_CTX_GLOBAL | PROBE_F_NESTS);
	alloc_spec_clear(&s);
}

TEST(bad_context_specs)
{
	static const struct {
		enum probe_kind kind;
		const char *text, *message;
	} cases[] = {
		{ PROBE_CREATE, "f:ctx=1", "unknown key 'ctx' (--create takes: size, out, parent)" },
		{ PROBE_CREATE, "f:ptr=1", "unknown key 'ptr'" },
		{ PROBE_CREATE, "f:out=2,parent=2", "argument 2 is both out and parent" },
		{ PROBE_CREATE, "f:parent=@", "(or parent=@GLOBAL)" },
		{ PROBE_CREATE, "f:parent=@1x y", "parent=@1x y is not a variable name" },
		{ PROBE_CREATE, "f:parent=1,parent=@g", "parent is given twice" },
		{ PROBE_DELETE, "f:ptr=1", "unknown key 'ptr' (--delete takes: ctx)" },
		{ PROBE_DELETE, "f:parent=2", "unknown key 'parent'" },
		{ PROBE_REPARENT, "f:size=1", "unknown key 'size' (--reparent takes: ctx, parent)" },
		{ PROBE_REPARENT, "f:ctx=1,parent=1", "argument 1 is both ctx and parent" },
		{ PROBE_REPARENT, "f:ctx=2", "argument 2 is both ctx and parent" },
		{ PROBE_REPARENT, "f:ctx=@g", "ctx=@g: arguments are numbered from 1 to 6" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_error(cases[i].kind, cases[i].text, cases[i].message);
}

TEST(bad_specs_name_flag_and_problem)
{
	expect_error(PROBE_ALLOC, "palloc:sise=1", "--alloc 'palloc:sise=1': unknown key 'sise'");
	expect_error(PROBE_FREE, "pfree:size=1", "--free 'pfree:size=1': unknown key 'size' (--free takes: ptr, methods)");
	expect_error(PROBE_RESET, "r:ptr=1", "unknown key 'ptr' (--reset takes: ctx)");
	expect_error(PROBE_REALLOC, "r:ctx=1", "unknown key 'ctx'");
	expect_error(PROBE_ALLOC, "f:size=0", "size=0: arguments are numbered from 1 to 6");
	expect_error(PROBE_ALLOC, "f:size=7", "arguments are numbered from 1 to 6");
	expect_error(PROBE_ALLOC, "f:size=12", "arguments are numbered from 1 to 6");
	expect_error(PROBE_ALLOC, "f:size=x", "arguments are numbered");
	expect_error(PROBE_ALLOC, "f:size=", "arguments are numbered");
	expect_error(PROBE_ALLOC, "f:size=1,size=2", "size is given twice");
	expect_error(PROBE_ALLOC, "f:ctx=1,ctx=@g", "ctx is given twice");
	expect_error(PROBE_ALLOC, "f:ctx=@", "(or ctx=@GLOBAL)");
	expect_error(PROBE_ALLOC, "f:ctx=@a b", "ctx=@a b is not a variable name");
	expect_error(PROBE_ALLOC, "f:out=1", "argument 1 is both size and out");
	expect_error(PROBE_ALLOC, "f:ctx=1", "argument 1 is both size and ctx");
	expect_error(PROBE_REALLOC, "f:size=1", "argument 1 is both size and ptr");
	expect_error(PROBE_ALLOC, "f:size", "'size' is not key=value");
	expect_error(PROBE_ALLOC, "f:", "'' is not key=value");
	expect_error(PROBE_ALLOC, "", "no symbol name");
	expect_error(PROBE_ALLOC, "@libc.so.6", "no symbol name");
	expect_error(PROBE_ALLOC, "malloc@", "no module after '@'");
}

/* --free methods=FUNCTION:N: a free that jumps through methods tables,
 * each passed to FUNCTION as argument N. */
TEST(free_methods)
{
	struct alloc_spec s = parse_ok(PROBE_FREE, "pfree:methods=MemoryContextCreate:3");

	EXPECT_STREQ(s.methods_callee, "MemoryContextCreate");
	EXPECT_EQ(s.methods_arg, 3);
	EXPECT_EQ(s.ptr, 1);
	alloc_spec_clear(&s);
	s = parse_ok(PROBE_FREE, "my_free@libfoo.so:ptr=2,methods=make_ctx:1");
	EXPECT_STREQ(s.methods_callee, "make_ctx");
	EXPECT_EQ(s.methods_arg, 1);
	EXPECT_EQ(s.ptr, 2);
	alloc_spec_clear(&s);
	expect_error(PROBE_FREE, "pfree:methods=MemoryContextCreate",
		     "methods=MemoryContextCreate is not FUNCTION:N");
	expect_error(PROBE_FREE, "pfree:methods=MemoryContextCreate:7", "from 1 to 6");
	expect_error(PROBE_FREE, "pfree:methods=MemoryContextCreate:33", "is not FUNCTION:N");
	expect_error(PROBE_FREE, "pfree:methods=:3", "is not FUNCTION:N");
	expect_error(PROBE_FREE, "pfree:methods=a-b:3", "is not FUNCTION:N");
	expect_error(PROBE_FREE, "pfree:methods=a:1,methods=b:2", "methods is given twice");
	expect_error(PROBE_ALLOC, "palloc:methods=a:1", "unknown key 'methods'");
}

TEST(flags_and_formatting)
{
	struct alloc_spec s = parse_ok(PROBE_REALLOC, "xrealloc@libx.so:ptr=2,size=3");
	char *text = NULL;

	EXPECT_STREQ(alloc_spec_flag(PROBE_RESET), "--reset");
	EXPECT_EQ(alloc_spec_kind("--free"), PROBE_FREE);
	EXPECT_EQ(alloc_spec_kind("--frees"), 0);
	EXPECT_EQ(alloc_spec_kind("--create"), PROBE_CREATE);
	EXPECT_EQ(alloc_spec_kind("--delete"), PROBE_DELETE);
	EXPECT_EQ(alloc_spec_kind("--reparent"), PROBE_REPARENT);
	EXPECT(alloc_spec_flag(PROBE_MAPS_CHANGE) == NULL);
	EXPECT_EQ(alloc_spec_format(&s, &text), 0);
	EXPECT_STREQ(text, "--realloc xrealloc@libx.so");
	free(text);
	alloc_spec_clear(&s);
}

TEST(list_takes_over_strings)
{
	struct alloc_specs list = { 0 };
	struct alloc_spec a = parse_ok(PROBE_ALLOC, "a"), b = parse_ok(PROBE_FREE, "b");

	EXPECT_EQ(alloc_specs_add(&list, &a), 0);
	EXPECT_EQ(alloc_specs_add(&list, &b), 0);
	EXPECT_EQ(list.n, 2);
	EXPECT_STREQ(list.items[0].symbol, "a");
	EXPECT_EQ(list.items[1].kind, PROBE_FREE);
	alloc_specs_clear(&list);
	EXPECT_EQ(list.n, 0);
}

RUN_TESTS("alloc_spec", T(defaults_per_flag), T(keys_and_module), T(cookie_fields),
	  T(context_kinds), T(bad_context_specs), T(bad_specs_name_flag_and_problem),
	  T(free_methods), T(flags_and_formatting), T(list_takes_over_strings))
