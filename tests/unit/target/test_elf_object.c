/* test_elf_object.c - elf_object on real files. The first test that needs
 * them compiles a small program and shared library into a temporary
 * directory with gcc, then strips copies and lays out their debug files the
 * way Debian does (by build-id, by .gnu_debuglink), plus decoys with the
 * wrong build-id or CRC, under a fake root opened as an O_PATH directory,
 * and under debug directories of the tests' own (dbg, dbg_wrong) outside
 * it. The process works inside that directory, which is removed at exit. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "target/elf_object.h"
#include "target/proc_maps.h"
#include "unit.h"

/* prog exports exported_name but not its shorter alias ab; sizeless_fn has
 * no .size, as hand-written assembly often does; inner_fn is an entry point
 * in the middle of outer_fn. */
static const char prog_c[] =
	"#include <stdio.h>\n"
	"__attribute__((noinline)) static int hidden_helper(int x)\n"
	"{\n"
	"	volatile int y = x;\n"
	"	return y * 3 + 1;\n"
	"}\n"
	"__attribute__((noinline)) int visible_fn(int x)\n"
	"{\n"
	"	return hidden_helper(x) + 2;\n"
	"}\n"
	"int exported_name(void) { return 5; }\n"
	"int exported_var = 1;\n"
	"static int *volatile hidden_var = &exported_var;\n"
	"__thread int tls_var;\n"
	"int *use_vars(void) { tls_var++; return hidden_var; }\n"
	"int ab(void) __attribute__((alias(\"exported_name\")));\n"
	"__asm__(\".pushsection .text\\n\"\n"
	"	\".globl sizeless_fn\\n.type sizeless_fn, @function\\n\"\n"
	"	\"sizeless_fn:\\n\\tnop\\n\\tnop\\n\\tnop\\n\\tret\\n\"\n"
	"	\".globl outer_fn\\n.type outer_fn, @function\\nouter_fn:\\n\\tnop\\n\\tnop\\n\"\n"
	"	\".globl inner_fn\\n.type inner_fn, @function\\ninner_fn:\\n\\tnop\\n\\tnop\\n\"\n"
	"	\".size inner_fn, .-inner_fn\\n\\tnop\\n\\tret\\n.size outer_fn, .-outer_fn\\n\"\n"
	"	\".popsection\\n\");\n"
	"#ifdef VARIANT\n"
	"int variant_only(void) { return 7; }\n"
	"#endif\n"
	"int main(int argc, char **argv)\n"
	"{\n"
	"	(void)argv;\n"
	"	printf(\"%d\\n\", visible_fn(argc));\n"
	"	return 0;\n"
	"}\n";

/* foo has a hidden old version and a default new one; pick_me has aliases
 * that lose to it under each rule of the alias preference; thing is weak
 * and __libc_thing global, as glibc exports calloc. */
static const char lib_c[] =
	"int foo_v1(void) { return 1; }\n"
	"int foo_v2(void) { return 2; }\n"
	"__asm__(\".symver foo_v1, foo@VER_1\");\n"
	"__asm__(\".symver foo_v2, foo@@VER_2\");\n"
	"int pick_me(void) { return 3; }\n"
	"int __pick_me(void) __attribute__((alias(\"pick_me\")));\n"
	"int pick(void) __attribute__((weak, alias(\"pick_me\")));\n"
	"int pick_me_longer(void) __attribute__((alias(\"pick_me\")));\n"
	"static int pick_local(void) __attribute__((alias(\"pick_me\"), used));\n"
	"int __libc_thing(void) { return 4; }\n"
	"int thing(void) __attribute__((weak, alias(\"__libc_thing\")));\n";

static const char lib_map[] =
	"VER_1 { global: foo; pick_me; __pick_me; pick; pick_me_longer;\n"
	"	__libc_thing; thing; local: *; };\n"
	"VER_2 { global: foo; } VER_1;\n";

static const char build_sh[] =
	"set -e\n"
	"cc='gcc -g -O0 -w'\n"
	"mkdir -p root/bin/.debug root/usr/lib/debug/bin\n"
	"$cc -Wl,--build-id=sha1 -Wl,--export-dynamic-symbol=exported_name -Wl,--export-dynamic-symbol=exported_var prog.c -o prog\n"
	"$cc -Wl,--build-id=sha1 -DVARIANT prog.c -o variant\n"
	"$cc -Wl,--build-id=none prog.c -o linked\n"
	"$cc -Wl,--build-id=none prog.c -o linked2\n"
	"$cc -static prog.c -o static_prog\n"
	"$cc -static-pie prog.c -o static_pie\n"
	"$cc -shared -fPIC -Wl,--version-script=lib.map lib.c -o libver.so\n"
	"for f in prog variant linked linked2; do objcopy --only-keep-debug $f $f.debug; done\n"
	"objcopy --strip-all prog root/bin/prog\n"
	"objcopy --strip-all variant root/bin/variant\n"
	"objcopy --strip-all --add-gnu-debuglink=linked.debug linked root/bin/linked\n"
	"objcopy --strip-all --add-gnu-debuglink=linked2.debug linked2 root/bin/linked2\n"
	"ln -s /bin/prog root/bin/abs_link\n"
	"place_in() {\n"
	"	id=$(readelf -n \"$2\" | sed -n 's/.*Build ID: //p')\n"
	"	d=$1/.build-id/$(echo $id | cut -c1-2)\n"
	"	mkdir -p $d\n"
	"	cp \"$3\" $d/$(echo $id | cut -c3-).debug\n"
	"}\n"
	"place() { place_in root/usr/lib/debug \"$1\" \"$2\"; }\n"
	"place prog prog.debug\n"
	"place variant prog.debug\n"
	"cp variant.debug root/bin/linked.debug\n"
	"cp linked.debug root/bin/.debug/linked.debug\n"
	"cp linked2.debug root/usr/lib/debug/bin/linked2.debug\n"
	/* both: a debuglink and a build-id debug file, told apart by a
	 * renamed symbol in the latter; both_id has only the build-id one. */
	"$cc -Wl,--build-id=md5 prog.c -o both\n"
	"objcopy --only-keep-debug both both.debug\n"
	"objcopy --redefine-sym hidden_helper=helper_by_build_id both.debug both.id.debug\n"
	"objcopy --strip-all --add-gnu-debuglink=both.debug both root/bin/both\n"
	"objcopy --strip-all both root/bin/both_id\n"
	"cp both.debug root/bin/both.debug\n"
	"place both both.id.debug\n"
	/* Outside the root, for the tests' debug directories and fetched files. */
	"mkdir -p stripped dbg$PWD/stripped\n"
	"objcopy --strip-all prog stripped/prog\n"
	"objcopy --strip-debug prog stripped/prog_symtab\n"
	"objcopy --strip-all --add-gnu-debuglink=linked.debug linked stripped/linked\n"
	"place_in dbg prog prog.debug\n"
	"place_in dbg_wrong prog variant.debug\n"
	"cp linked.debug dbg$PWD/stripped/linked.debug\n"
	"echo 'not an ELF file' > text\n"
	": > empty\n";

static char fixture_dir[] = "/tmp/test_elf_object.XXXXXX";

/* Builds once; every later call answers from the first. */
static bool fixture(void)
{
	static const struct unit_file files[] = {
		{ "prog.c", prog_c }, { "lib.c", lib_c }, { "lib.map", lib_map },
	};
	static int state = -1;

	if (state < 0)
		state = unit_fixture(fixture_dir, files, 3, build_sh);
	return state;
}

/* Opens path under dir_fd and checks the build: all tests stop on NULL. */
static struct elf_object *open_ok(int dir_fd, const char *path)
{
	struct elf_object *o = NULL;

	EXPECT(fixture());
	EXPECT_EQ(elf_object__open(dir_fd, path, &o), 0);
	return o;
}

/* The fake root, as the symbolizer will pass /proc/PID/root. */
static int open_root(void)
{
	int fd = fixture() ? open("root", O_PATH | O_DIRECTORY) : -1;

	EXPECT(fd >= 0);
	return fd;
}

static void expect_symbol_at(const struct elf_object *o, uint64_t vaddr, const char *name)
{
	struct elf_symbol sym = { 0 };

	EXPECT_EQ(elf_object__symbol_at(o, vaddr, &sym), 0);
	EXPECT_STREQ(sym.name, name);
}

TEST(reads_unstripped_executable)
{
	struct elf_object *o = open_ok(AT_FDCWD, "prog");
	struct elf_symbol vis = { 0 }, hid = { 0 };
	const char *id;

	if (!o)
		return;
	EXPECT_EQ(elf_object__find_function(o, "visible_fn", ELF_SYMTAB_STATIC, &vis), 0);
	EXPECT_EQ(elf_object__find_function(o, "visible_fn", ELF_SYMTAB_DYNAMIC, &vis), -ENOENT);
	EXPECT_EQ(elf_object__find_function(o, "visible_fn", ELF_SYMTAB_ANY, &vis), 0);
	EXPECT(vis.vaddr != 0 && vis.size > 3);
	EXPECT_EQ(elf_object__find_function(o, "hidden_helper", ELF_SYMTAB_ANY, &hid), 0);
	EXPECT_EQ(elf_object__find_function(o, "printf", ELF_SYMTAB_ANY, &hid), -ENOENT);
	expect_symbol_at(o, vis.vaddr, "visible_fn");
	expect_symbol_at(o, vis.vaddr + 3, "visible_fn");
	expect_symbol_at(o, vis.vaddr + vis.size - 1, "visible_fn");
	EXPECT_EQ(elf_object__symbol_at(o, 0, &hid), -ENOENT);
	id = elf_object__build_id(o);
	EXPECT(id && strlen(id) == 40 && strspn(id, "0123456789abcdef") == 40);
	EXPECT(elf_object__is_dynamic(o));
	EXPECT(elf_object__dynamic_vaddr(o) != 0);
	elf_object__free(o);
}

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

TEST(converts_addresses_and_reads_bytes)
{
	struct elf_object *o = open_ok(AT_FDCWD, "prog");
	unsigned char mem[16], disk[16];
	struct elf_symbol sym = { 0 };
	uint64_t offset = 0, vaddr = 0;
	int fd = open("prog", O_RDONLY);

	if (!o || fd < 0)
		goto out;
	EXPECT_EQ(elf_object__find_function(o, "main", ELF_SYMTAB_STATIC, &sym), 0);
	EXPECT_EQ(elf_object__vaddr_to_offset(o, sym.vaddr, &offset), 0);
	EXPECT_EQ(elf_object__offset_to_vaddr(o, offset, &vaddr), 0);
	EXPECT_EQ(vaddr, sym.vaddr);
	EXPECT_EQ(elf_object__read(o, sym.vaddr, mem, sizeof(mem)), sizeof(mem));
	EXPECT_EQ(pread(fd, disk, sizeof(disk), offset), sizeof(disk));
	EXPECT(!memcmp(mem, disk, sizeof(mem)));
	EXPECT_EQ(elf_object__vaddr_to_offset(o, 0x7fff00000000, &offset), -ERANGE);
	EXPECT_EQ(elf_object__offset_to_vaddr(o, 0x7fff00000000, &vaddr), -ERANGE);
	EXPECT_EQ(elf_object__read(o, 0x7fff00000000, mem, sizeof(mem)), -ERANGE);
out:
	if (fd >= 0)
		close(fd);
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

TEST(knows_static_executables)
{
	struct elf_object *o = open_ok(AT_FDCWD, "static_prog");
	struct elf_symbol sym = { 0 };

	if (!o)
		return;
	EXPECT(!elf_object__is_dynamic(o));
	EXPECT_EQ(elf_object__dynamic_vaddr(o), 0);
	EXPECT_EQ(elf_object__find_function(o, "malloc", ELF_SYMTAB_STATIC, &sym), 0);
	elf_object__free(o);
}

/* Statically linked although it has PT_DYNAMIC. */
TEST(knows_static_pie_executables)
{
	struct elf_object *o = open_ok(AT_FDCWD, "static_pie");

	if (!o)
		return;
	EXPECT(!elf_object__is_dynamic(o));
	EXPECT(elf_object__dynamic_vaddr(o) != 0);
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
	}
	EXPECT(o != NULL);
	elf_object__free(o);
	proc_maps__free(maps);
}

TEST(opens_headers_only)
{
	struct elf_object *full = open_ok(AT_FDCWD, "prog"), *o = NULL;
	struct elf_symbol sym;
	uint64_t vaddr = 0, ref = 1;
	int root = open_root();

	if (!full || root < 0)
		goto out;
	/* Through the root as the unwinder opens objects: the stripped copy. */
	EXPECT_EQ(elf_object__open_headers(root, "/bin/abs_link", &o), 0);
	if (!o)
		goto out;
	EXPECT_STREQ(elf_object__build_id(o), elf_object__build_id(full));
	EXPECT_EQ(elf_object__offset_to_vaddr(o, 0x1000, &vaddr), 0);
	EXPECT_EQ(elf_object__offset_to_vaddr(full, 0x1000, &ref), 0);
	EXPECT_EQ(vaddr, ref);
	EXPECT(elf_object__elf(o) && elf_kind(elf_object__elf(o)) == ELF_K_ELF);
	EXPECT_EQ(elf_object__find_function(o, "exported_name", ELF_SYMTAB_ANY, &sym), -ENOENT);
	EXPECT_EQ(elf_object__symbol_at(o, vaddr, &sym), -ENOENT);
	elf_object__free(o);
	o = NULL;
	EXPECT_EQ(elf_object__open_headers(root, "/bin/missing", &o), -ENOENT);
	EXPECT_EQ(elf_object__open_headers(AT_FDCWD, "text", &o), -ENOEXEC);
	EXPECT(o == NULL);
out:
	if (root >= 0)
		close(root);
	elf_object__free(full);
}

TEST(reports_open_errors)
{
	struct elf_object *o = NULL;

	EXPECT(fixture());
	EXPECT_EQ(elf_object__open(AT_FDCWD, "no-such-file", &o), -ENOENT);
	EXPECT_EQ(elf_object__open(AT_FDCWD, "text", &o), -ENOEXEC);
	EXPECT_EQ(elf_object__open(AT_FDCWD, "empty", &o), -ENOEXEC);
	EXPECT_EQ(elf_object__open(AT_FDCWD, "root", &o), -ENOEXEC);
	EXPECT(o == NULL);
	elf_object__free(NULL);
}

RUN_TESTS("elf_object", T(reads_unstripped_executable), T(prefers_exported_alias),
	  T(bounds_sizeless_symbols_by_section), T(finds_the_innermost_of_nested_symbols),
	  T(converts_addresses_and_reads_bytes), T(finds_variables),
	  T(finds_debug_file_by_build_id),
	  T(finds_debug_file_by_debuglink), T(ignores_debug_file_with_other_build_id),
	  T(debuglink_comes_before_build_id), T(searches_debug_dirs_by_build_id),
	  T(adopts_debug_file_for_dwarf_only), T(searches_debug_dirs_by_debuglink),
	  T(adopts_fetched_file_of_same_build_id),
	  T(prefers_default_version_and_best_alias), T(knows_static_executables),
	  T(knows_static_pie_executables), T(names_libc_malloc), T(opens_headers_only),
	  T(reports_open_errors))
