/* test_minidebuginfo.c - the symbols an object carries compressed in
 * .gnu_debugdata (elf_fixture.h's mini, made as Fedora makes it): its
 * static functions named where no debug file is installed, and a section
 * that holds no xz stream, or one that expands past the bound, passed
 * over without losing the object's other symbols. */
#include "elf_fixture.h"
#include "target/elf_object_internal.h"
#include "target/minidebuginfo.h"

static bool has_static(const struct elf_object *o, const char *name, struct elf_symbol *sym)
{
	return o && elf_object__find_function(o, name, ELF_SYMTAB_STATIC, sym) == 0;
}

TEST(names_static_functions)
{
	struct elf_object *plain = open_ok(AT_FDCWD, "stripped/mini_none");
	struct elf_object *o = open_ok(AT_FDCWD, "stripped/mini");
	struct elf_symbol sym, at;

	EXPECT(!has_static(plain, "hidden_helper", &sym));
	EXPECT(has_static(o, "hidden_helper", &sym));
	EXPECT(o && elf_object__symbol_at(o, sym.vaddr + 1, &at) == 0 &&
	       !strcmp(at.name, "hidden_helper"));
	EXPECT(has_static(o, "visible_fn", &sym));
	EXPECT(o && elf_object__find_function(o, "exported_name", ELF_SYMTAB_DYNAMIC, &sym) == 0);
	EXPECT(o && !elf_object__has_dwarf(o));
	elf_object__free(plain);
	elf_object__free(o);
}

TEST(passes_over_unreadable_sections)
{
	static const char *const paths[] = { "stripped/mini_bad", "stripped/mini_bomb" };

	for (size_t i = 0; i < 2; i++) {
		struct elf_object *o = open_ok(AT_FDCWD, paths[i]);
		struct elf_symbol sym;

		EXPECT(!has_static(o, "hidden_helper", &sym));
		EXPECT(o && elf_object__find_function(o, "exported_name", ELF_SYMTAB_DYNAMIC,
						      &sym) == 0);
		elf_object__free(o);
	}
}

/* The reasons, as minidebuginfo_open gives them. */
TEST(says_why)
{
	static const struct {
		const char *path;
		int r;
	} cases[] = {
		{ "stripped/mini", 0 },
		{ "stripped/mini_none", -ENOENT },
		{ "stripped/mini_bad", -ENOEXEC },
		{ "stripped/mini_bomb", -ENOEXEC },
	};

	EXPECT(fixture());
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct elf_image file = { 0 }, mini = { 0 };

		EXPECT_EQ(elf_image_open(AT_FDCWD, cases[i].path, &file), 0);
		EXPECT_EQ(minidebuginfo_open(file.elf, &mini), cases[i].r);
		EXPECT((mini.elf != NULL) == (cases[i].r == 0));
		elf_image_close(&mini);
		elf_image_close(&file);
	}
}

RUN_TESTS("minidebuginfo", T(names_static_functions), T(passes_over_unreadable_sections),
	  T(says_why))
