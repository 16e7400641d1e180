/* test_elf_symbols.c - the symbols of elf_objects (elf_fixture.h, and
 * this process's libc): aliases, symbol versions, size-0 and nested
 * symbols, variables. */
#include "elf_fixture.h"
#include "target/proc_maps.h"

TEST(prefers_exported_alias)
{
	struct elf_object *o = open_ok(AT_FDCWD, "prog");
	struct elf_symbol sym = { 0 };

	if (!o)
		return;
	EXPECT_EQ(elf_object__find_function(o, "ab", ELF_SYMTAB_DYNAMIC, &sym), -ENOENT);
	EXPECT_EQ(elf_object__find_function(o, "ab", ELF_SYMTAB_STATIC, &sym), 0);
	EXPECT_EQ(elf_object__find_function(o, "exported_name", ELF_SYMTAB_DYNAMIC, &sym), 0);
	expect_symbol_at(o, sym.vaddr + 1, "exported_name");
	elf_object__free(o);
}

TEST(bounds_sizeless_symbols_by_section)
{
	struct elf_object *o = open_ok(AT_FDCWD, "prog");
	struct elf_symbol sym = { 0 };

	if (!o)
		return;
	EXPECT_EQ(elf_object__find_function(o, "sizeless_fn", ELF_SYMTAB_STATIC, &sym), 0);
	EXPECT_EQ(sym.size, 0);
	expect_symbol_at(o, sym.vaddr + 2, "sizeless_fn");
	elf_object__free(o);
}

TEST(finds_the_innermost_of_nested_symbols)
{
	struct elf_object *o = open_ok(AT_FDCWD, "prog");
	struct elf_symbol outer = { 0 };

	if (!o)
		return;
	EXPECT_EQ(elf_object__find_function(o, "outer_fn", ELF_SYMTAB_STATIC, &outer), 0);
	EXPECT_EQ(outer.size, 6);
	expect_symbol_at(o, outer.vaddr + 1, "outer_fn");
	expect_symbol_at(o, outer.vaddr + 3, "inner_fn");
	expect_symbol_at(o, outer.vaddr + 5, "outer_fn");
	elf_object__free(o);
}

TEST(finds_variables)
{
	struct elf_object *o = open_ok(AT_FDCWD, "prog");
	int root = open_root();
	struct elf_object *stripped = root >= 0 ? open_ok(root, "/bin/prog") : NULL;
	struct elf_symbol var = { 0 }, hidden = { 0 }, in_debug = { 0 };

	if (o && stripped) {
		EXPECT_EQ(elf_object__find_variable(o, "exported_var", ELF_SYMTAB_DYNAMIC, &var), 0);
		EXPECT_STREQ(var.name, "exported_var");
		EXPECT_EQ(var.size, sizeof(int));
		EXPECT_EQ(elf_object__find_variable(o, "hidden_var", ELF_SYMTAB_DYNAMIC, &hidden),
			  -ENOENT);
		EXPECT_EQ(elf_object__find_variable(o, "hidden_var", ELF_SYMTAB_STATIC, &hidden), 0);
		EXPECT(hidden.vaddr && hidden.vaddr != var.vaddr);
		EXPECT_EQ(elf_object__find_variable(o, "tls_var", ELF_SYMTAB_ANY, &var), -EOPNOTSUPP);
		EXPECT_EQ(elf_object__find_variable(o, "visible_fn", ELF_SYMTAB_ANY, &var), -ENOENT);
		/* Stripped: .symtab comes from the debug file found by build-id. */
		EXPECT_EQ(elf_object__find_variable(stripped, "hidden_var", ELF_SYMTAB_STATIC,
						    &in_debug), 0);
		EXPECT_EQ(in_debug.vaddr, hidden.vaddr);
	}
	elf_object__free(stripped);
	elf_object__free(o);
	if (root >= 0)
		close(root);
}

TEST(prefers_default_version_and_best_alias)
{
	struct elf_object *o = open_ok(AT_FDCWD, "./libver.so");
	struct elf_symbol foo = { 0 }, v2 = { 0 }, pick = { 0 }, thing = { 0 };

	if (!o)
		return;
	EXPECT_EQ(elf_object__find_function(o, "foo", ELF_SYMTAB_DYNAMIC, &foo), 0);
	EXPECT_EQ(elf_object__find_function(o, "foo_v2", ELF_SYMTAB_STATIC, &v2), 0);
	EXPECT_EQ(foo.vaddr, v2.vaddr);
	EXPECT_EQ(elf_object__find_function(o, "pick_me", ELF_SYMTAB_DYNAMIC, &pick), 0);
	expect_symbol_at(o, pick.vaddr, "pick_me");
	expect_symbol_at(o, pick.vaddr + 1, "pick_me");
	EXPECT_EQ(elf_object__find_function(o, "__libc_thing", ELF_SYMTAB_DYNAMIC, &thing), 0);
	expect_symbol_at(o, thing.vaddr, "thing");
	EXPECT(elf_object__is_dynamic(o));
	elf_object__free(o);
}

TEST(names_libc_malloc)
{
	struct proc_maps *maps = NULL;
	struct elf_object *o = NULL;
	struct elf_symbol sym = { 0 };
	const char *libc = NULL;

	EXPECT_EQ(proc_maps__read(getpid(), &maps), 0);
	for (size_t i = 0; maps && !libc && i < maps->count; i++) {
		const char *p = maps->maps[i].path;

		if (p && strlen(p) > 10 && !strcmp(p + strlen(p) - 10, "/libc.so.6"))
			libc = p;
	}
	EXPECT(libc != NULL);
	if (libc && elf_object__open(AT_FDCWD, libc, &o) == 0) {
		EXPECT_EQ(elf_object__find_function(o, "malloc", ELF_SYMTAB_DYNAMIC, &sym), 0);
		expect_symbol_at(o, sym.vaddr + 1, "malloc");
		EXPECT_EQ(elf_object__find_function(o, "calloc", ELF_SYMTAB_DYNAMIC, &sym), 0);
		expect_symbol_at(o, sym.vaddr + 1, "calloc");
		EXPECT_EQ(elf_object__find_function(o, "memcpy", ELF_SYMTAB_DYNAMIC, &sym), 0);
		EXPECT(elf_object__build_id(o) != NULL);
		/* libc takes __tls_get_addr from ld.so, and defines malloc. */
		EXPECT(elf_object__imports(o, "__tls_get_addr"));
		EXPECT(!elf_object__imports(o, "malloc"));
		EXPECT(!elf_object__imports(o, "no_such_function"));
	}
	EXPECT(o != NULL);
	elf_object__free(o);
	proc_maps__free(maps);
}

RUN_TESTS("elf_symbols", T(prefers_exported_alias), T(bounds_sizeless_symbols_by_section),
	  T(finds_the_innermost_of_nested_symbols), T(finds_variables),
	  T(prefers_default_version_and_best_alias), T(names_libc_malloc))
