/* test_debug_file.c - separate debug files found and adopted for the
 * stripped objects of elf_fixture.h: by debuglink and by build-id, in the
 * tests' own debug directories and fetched, and decoys of another build
 * passed over. */
#include <limits.h>

#include "elf_fixture.h"

static struct elf_object *open_search(const char *path, const struct debug_search *search)
{
	struct elf_object *o = NULL;

	EXPECT(fixture());
	EXPECT_EQ(elf_object__open_debug(AT_FDCWD, path, search, &o), 0);
	return o;
}

static bool has_function(const struct elf_object *o, const char *name)
{
	struct elf_symbol sym;

	return o && elf_object__find_function(o, name, ELF_SYMTAB_ANY, &sym) == 0;
}

TEST(finds_debug_file_by_build_id)
{
	int root = open_root();
	struct elf_object *o = NULL, *link = NULL;
	struct elf_symbol sym = { 0 };

	if (root < 0)
		return;
	o = open_ok(root, "/bin/prog");
	link = open_ok(root, "/bin/abs_link");
	if (o && link) {
		EXPECT_EQ(elf_object__find_function(o, "hidden_helper", ELF_SYMTAB_STATIC, &sym), 0);
		expect_symbol_at(o, sym.vaddr + 1, "hidden_helper");
		EXPECT_STREQ(elf_object__build_id(link), elf_object__build_id(o));
	}
	elf_object__free(link);
	elf_object__free(o);
	close(root);
}

/* The last case is a relative path without a root: the debuglink is looked
 * for relative to the object's directory. */
TEST(finds_debug_file_by_debuglink)
{
	static const struct {
		bool in_root;
		const char *path;
	} cases[] = { { true, "/bin/linked" }, { true, "/bin/linked2" }, { false, "root/bin/linked" } };
	int root = open_root();
	struct elf_symbol sym = { 0 };

	for (size_t i = 0; root >= 0 && i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct elf_object *o = open_ok(cases[i].in_root ? root : AT_FDCWD, cases[i].path);

		if (!o)
			continue;
		EXPECT(elf_object__build_id(o) == NULL);
		EXPECT_EQ(elf_object__find_function(o, "hidden_helper", ELF_SYMTAB_STATIC, &sym), 0);
		expect_symbol_at(o, sym.vaddr + 1, "hidden_helper");
		/* root/bin/linked.debug, found first, is variant's: wrong CRC */
		EXPECT_EQ(elf_object__find_function(o, "variant_only", ELF_SYMTAB_ANY, &sym), -ENOENT);
		elf_object__free(o);
	}
	if (root >= 0)
		close(root);
}

TEST(ignores_debug_file_with_other_build_id)
{
	int root = open_root();
	struct elf_object *o = NULL;
	struct elf_symbol sym = { 0 };

	if (root < 0)
		return;
	o = open_ok(root, "/bin/variant");
	if (o) {
		EXPECT(elf_object__build_id(o) != NULL);
		EXPECT_EQ(elf_object__find_function(o, "hidden_helper", ELF_SYMTAB_ANY, &sym), -ENOENT);
		EXPECT_EQ(elf_object__symbol_at(o, 0x1000, &sym), -ENOENT);
	}
	elf_object__free(o);
	close(root);
}

/* The debuglink is the object's own word on where its debug file went:
 * it wins over the build-id directory, which is still used without it. */
TEST(debuglink_comes_before_build_id)
{
	int root = open_root();
	struct elf_object *o = NULL, *id_only = NULL;
	struct elf_symbol sym = { 0 };

	if (root < 0)
		return;
	o = open_ok(root, "/bin/both");
	id_only = open_ok(root, "/bin/both_id");
	if (o && id_only) {
		EXPECT_EQ(elf_object__find_function(o, "hidden_helper", ELF_SYMTAB_STATIC, &sym), 0);
		EXPECT_EQ(elf_object__find_function(o, "helper_by_build_id", ELF_SYMTAB_ANY, &sym),
			  -ENOENT);
		EXPECT_EQ(elf_object__find_function(id_only, "helper_by_build_id", ELF_SYMTAB_STATIC,
						    &sym), 0);
		EXPECT_EQ(elf_object__find_function(id_only, "hidden_helper", ELF_SYMTAB_ANY, &sym),
			  -ENOENT);
	}
	elf_object__free(id_only);
	elf_object__free(o);
	close(root);
}

/* dbg_wrong, searched first, holds a debug file of another build-id under
 * prog's: it is passed over for dbg's. */
TEST(searches_debug_dirs_by_build_id)
{
	static const char *const dirs[] = { "dbg_wrong", "dbg" };
	struct debug_search search = { .dirs = dirs, .n_dirs = 2 };
	struct elf_object *plain = open_search("stripped/prog", NULL);
	struct elf_object *o = open_search("stripped/prog", &search);

	EXPECT(plain && !has_function(plain, "hidden_helper"));
	EXPECT(plain && !elf_object__has_dwarf(plain));
	EXPECT(has_function(o, "hidden_helper"));
	EXPECT(o && !has_function(o, "variant_only"));
	EXPECT(o && elf_object__has_dwarf(o));
	elf_object__free(o);
	elf_object__free(plain);
}

/* Stripped with --strip-debug: .symtab is the object's, DWARF the debug
 * file's. */
TEST(adopts_debug_file_for_dwarf_only)
{
	static const char *const dirs[] = { "dbg" };
	struct debug_search search = { .dirs = dirs, .n_dirs = 1 };
	struct elf_object *plain = open_search("stripped/prog_symtab", NULL);
	struct elf_object *o = open_search("stripped/prog_symtab", &search);

	if (plain && o) {
		EXPECT(has_function(plain, "hidden_helper"));
		EXPECT(!elf_object__has_dwarf(plain));
		EXPECT(elf_object__dwarf_elf(plain) == elf_object__elf(plain));
		EXPECT(has_function(o, "hidden_helper"));
		EXPECT(elf_object__has_dwarf(o));
		EXPECT(elf_object__dwarf_elf(o) != elf_object__elf(o));
		EXPECT(elf_section_named(elf_object__dwarf_elf(o), ".debug_info") != NULL);
	}
	elf_object__free(o);
	elf_object__free(plain);
}

/* DIR/<the object's directory>/<debuglink>, for an absolute path. */
TEST(searches_debug_dirs_by_debuglink)
{
	static const char *const dirs[] = { "dbg" };
	struct debug_search search = { .dirs = dirs, .n_dirs = 1 };
	char path[PATH_MAX];
	struct elf_object *o, *relative;

	snprintf(path, sizeof(path), "%s/stripped/linked", fixture_dir);
	o = open_search(path, &search);
	relative = open_search("stripped/linked", &search);
	EXPECT(has_function(o, "hidden_helper"));
	EXPECT(relative && !has_function(relative, "hidden_helper"));
	elf_object__free(relative);
	elf_object__free(o);
}

/* A debuglink is a file name: one that climbs out with "../" is not
 * followed, though a debug file that fits waits there; the same link made
 * alike but naming the file beside the object is. */
TEST(debuglink_stays_a_file_name)
{
	struct elf_object *evil = open_search("stripped/evil", NULL);
	struct elf_object *plain = open_search("stripped/evil_plain", NULL);

	EXPECT(evil && !has_function(evil, "hidden_helper"));
	EXPECT(has_function(plain, "hidden_helper"));
	elf_object__free(evil);
	elf_object__free(plain);
}

/* A fetched file is tried last and, like any other, must have the
 * object's build-id. */
TEST(adopts_fetched_file_of_same_build_id)
{
	struct debug_search right = { .fetched = "prog.debug" };
	struct debug_search wrong = { .fetched = "variant.debug" };
	struct elf_object *o = open_search("stripped/prog", &right);
	struct elf_object *other = open_search("stripped/prog", &wrong);

	EXPECT(has_function(o, "hidden_helper"));
	EXPECT(o && elf_object__has_dwarf(o));
	EXPECT(other && !has_function(other, "hidden_helper"));
	EXPECT(other && !elf_object__has_dwarf(other));
	elf_object__free(other);
	elf_object__free(o);
}

RUN_TESTS("debug_file", T(finds_debug_file_by_build_id), T(finds_debug_file_by_debuglink),
	  T(ignores_debug_file_with_other_build_id), T(debuglink_comes_before_build_id),
	  T(searches_debug_dirs_by_build_id), T(adopts_debug_file_for_dwarf_only),
	  T(searches_debug_dirs_by_debuglink), T(adopts_fetched_file_of_same_build_id),
	  T(debuglink_stays_a_file_name))
