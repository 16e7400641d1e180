/* test_method_tables.c - finding the functions a free reaches through its
 * methods tables. The first test that needs them compiles a small library
 * into a temporary directory (the process works there; it is removed at
 * exit), shaped as PostgreSQL's memory contexts are: two static tables of
 * static functions, passed as argument 3 of context_create by three
 * callers, then stripped of .symtab; and the same with a fourth caller
 * whose table comes from a variable. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

#include "probes/method_tables.h"
#include "unit.h"

static const char methods_c[] =
	"struct ctx;\n"
	"struct methods {\n"
	"	void *(*alloc)(struct ctx *, unsigned long);\n"
	"	void (*free_p)(struct ctx *, void *);\n"
	"};\n"
	"struct ctx { int tag; const struct methods *methods; };\n"
	"int freed_a, freed_b;\n"
	"static void *alloc_a(struct ctx *c, unsigned long n) { return (char *)c + n; }\n"
	"static void *alloc_b(struct ctx *c, unsigned long n) { return (char *)c - n; }\n"
	"static void free_a(struct ctx *c, void *p) { freed_a += c->tag + (p != 0); }\n"
	"static void free_b(struct ctx *c, void *p) { freed_b -= c->tag * 3 + (p == 0); }\n"
	"static const struct methods table_a = { alloc_a, free_a };\n"
	"static const struct methods table_b = { alloc_b, free_b };\n"
	"__attribute__((noinline)) void context_create(struct ctx *c, int tag,\n"
	"		const struct methods *m, struct ctx *parent)\n"
	"{\n"
	"	c->tag = tag;\n"
	"	c->methods = m;\n"
	"	__asm__ volatile(\"\" : : \"r\"(parent) : \"memory\");\n"
	"}\n"
	"void create_a(struct ctx *c) { context_create(c, 1, &table_a, 0); }\n"
	"void create_b(struct ctx *c, struct ctx *p) { context_create(c, 2, &table_b, p); }\n"
	"void create_again(struct ctx *c) { context_create(c, 3, &table_a, c); }\n"
	"void release(void *p)\n"
	"{\n"
	"	struct ctx *c = *(struct ctx **)((char *)p - 8);\n"
	"	c->methods->free_p(c, p);\n"
	"}\n"
	"#ifdef CHOSEN\n"
	"const struct methods *chosen = &table_b;\n"
	"void create_chosen(struct ctx *c) { context_create(c, 4, chosen, 0); }\n"
	"#endif\n";

static const char build_sh[] =
	"gcc -O2 -fPIC -shared -fno-semantic-interposition methods.c -o methods.so\n"
	"strip --strip-all methods.so -o methods_stripped.so\n"
	"gcc -O2 -fPIC -shared -fno-semantic-interposition -DCHOSEN methods.c -o chosen.so\n";

static char fixture_dir[] = "/tmp/test_method_tables.XXXXXX";

/* Builds once; every later call answers from the first. */
static bool fixture(void)
{
	static const struct unit_file files[] = { { "methods.c", methods_c } };
	static int state = -1;

	if (state < 0)
		state = unit_fixture(fixture_dir, files, 1, build_sh);
	return state;
}

/* The link-time address of function name in the unstripped file at path. */
static uint64_t address_of(const char *path, const char *name)
{
	struct elf_symbol sym = { 0 };
	struct elf_object *o = NULL;

	EXPECT_EQ(elf_object__open(AT_FDCWD, path, &o), 0);
	if (o)
		EXPECT_EQ(elf_object__find_function(o, name, ELF_SYMTAB_ANY, &sym), 0);
	elf_object__free(o);
	return sym.vaddr;
}

/* method_tables_find on the file at path, the callee context_create. */
static int find(const char *path, unsigned int arg, int32_t slot, struct method_tables *t)
{
	uint64_t callee = address_of("chosen.so", "context_create");
	struct elf_object *o;
	int r;

	if (strcmp(path, "chosen.so"))
		callee = address_of("methods.so", "context_create");
	r = elf_object__open(AT_FDCWD, path, &o);
	if (r < 0)
		return r;
	r = method_tables_find(o, callee, arg, slot, t);
	elf_object__free(o);
	return r;
}

static bool has_function(const struct method_tables *t, uint64_t vaddr)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->functions[i].vaddr == vaddr && t->functions[i].size)
			return true;
	return false;
}

TEST(tables_of_every_call_without_symbols)
{
	struct method_tables t;

	EXPECT(fixture());
	EXPECT_EQ(find("methods_stripped.so", 3, 8, &t), 0);
	EXPECT_EQ(t.n_calls, 3);
	EXPECT_EQ(t.n, 2);
	EXPECT(has_function(&t, address_of("methods.so", "free_a")));
	EXPECT(has_function(&t, address_of("methods.so", "free_b")));
	/* Another slot, other functions. */
	EXPECT_EQ(find("methods_stripped.so", 3, 0, &t), 0);
	EXPECT_EQ(t.n, 2);
	EXPECT(has_function(&t, address_of("methods.so", "alloc_a")));
	EXPECT(has_function(&t, address_of("methods.so", "alloc_b")));
}

TEST(a_call_not_understood_fails_the_search)
{
	struct method_tables t;

	EXPECT(fixture());
	/* create_chosen loads its table from a variable. */
	EXPECT_EQ(find("chosen.so", 3, 8, &t), -ENOENT);
	EXPECT_STREQ(t.why, "the table argument of a call is not loaded by a lea");
	/* Argument 2 is an immediate; 7 is no register's. */
	EXPECT_EQ(find("methods.so", 2, 8, &t), -ENOENT);
	EXPECT_STREQ(t.why, "the table argument of a call is not loaded by a lea");
	EXPECT_EQ(find("methods.so", 7, 8, &t), -ENOENT);
	/* A slot past the tables' ends holds no function's start. */
	EXPECT_EQ(find("methods.so", 3, 4, &t), -ENOENT);
	EXPECT_STREQ(t.why, "a table's slot holds no function's start");
}

TEST(no_call_no_tables)
{
	struct method_tables t;
	struct elf_object *o = NULL;

	EXPECT(fixture());
	EXPECT_EQ(elf_object__open(AT_FDCWD, "methods.so", &o), 0);
	if (!o)
		return;
	EXPECT_EQ(method_tables_find(o, address_of("methods.so", "release"), 3, 8, &t), -ENOENT);
	EXPECT_EQ(t.n_calls, 0);
	EXPECT_STREQ(t.why, "no direct call passes a table");
	elf_object__free(o);
}

RUN_TESTS("method_tables", T(tables_of_every_call_without_symbols),
	  T(a_call_not_understood_fails_the_search), T(no_call_no_tables))
