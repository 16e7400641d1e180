/* elf_fixture.h - the ELF files the target/ tests open, shared by
 * test_elf_object.c, test_elf_symbols.c and test_debug_file.c. The first
 * test that needs them compiles a small program and shared library into a
 * temporary directory with gcc, then strips copies and lays out their
 * debug files the way Debian does (by build-id, by .gnu_debuglink), plus
 * decoys with the wrong build-id or CRC, under a fake root opened as an
 * O_PATH directory, and under debug directories of the tests' own (dbg,
 * dbg_wrong) outside it. The process works inside that directory, which is
 * removed at exit. */
#ifndef ELF_FIXTURE_H
#define ELF_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <unistd.h>

#include "target/elf_object.h"
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
	/* mini: MiniDebugInfo as Fedora's find-debuginfo adds it, the
	 * function symbols .dynsym lacks xz-compressed in .gnu_debugdata;
	 * mini_bad holds no xz stream there, mini_bomb one that expands
	 * past MINIDEBUGINFO_MAX. None has a build-id or a debuglink. */
	"$cc -Wl,--build-id=none -Wl,--export-dynamic-symbol=exported_name prog.c -o mini\n"
	"nm -D mini --format=posix --defined-only | awk '{print $1}' | sort > mini.dyn\n"
	"nm mini --format=posix --defined-only | awk '$2 ~ /^[Tt]$/ {print $1}' | sort > mini.funcs\n"
	"comm -13 mini.dyn mini.funcs > mini.keep\n"
	"objcopy --only-keep-debug mini mini.debug\n"
	"objcopy -S --remove-section .comment --keep-symbols=mini.keep mini.debug mini.symbols\n"
	"xz -c mini.symbols > mini.xz\n"
	"echo 'not xz' > mini.bad\n"
	"head -c 70000000 /dev/zero | xz -0 -c > mini.bomb\n"
	"objcopy --strip-all mini stripped/mini_none\n"
	"objcopy --add-section .gnu_debugdata=mini.xz stripped/mini_none stripped/mini\n"
	"objcopy --add-section .gnu_debugdata=mini.bad stripped/mini_none stripped/mini_bad\n"
	"objcopy --add-section .gnu_debugdata=mini.bomb stripped/mini_none stripped/mini_bomb\n"
	/* evil: a debuglink naming ../evil.debug, where a debug file that
	 * fits waits, outside the directories searched; evil_plain, the same
	 * section made the same way but naming evil.debug beside it. */
	"$cc -Wl,--build-id=none prog.c -o evil\n"
	"objcopy --only-keep-debug evil evil.debug\n"
	"cp evil.debug stripped/evil.debug\n"
	"link() { python3 -c 'import sys, zlib; n = sys.argv[1].encode() + b\"\\0\"; "
	"n += b\"\\0\" * (-len(n) % 4); crc = zlib.crc32(open(\"evil.debug\", \"rb\").read()); "
	"sys.stdout.buffer.write(n + crc.to_bytes(4, \"little\"))' \"$1\"; }\n"
	"link ../evil.debug > evil.link\n"
	"link evil.debug > plain.link\n"
	"objcopy --strip-all --add-section .gnu_debuglink=evil.link evil stripped/evil\n"
	"objcopy --strip-all --add-section .gnu_debuglink=plain.link evil stripped/evil_plain\n"
	"echo 'not an ELF file' > text\n"
	": > empty\n";

static char fixture_dir[] = "/tmp/elf_fixture.XXXXXX";

/* Builds once; every later call answers from the first. */
static inline bool fixture(void)
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
static inline struct elf_object *open_ok(int dir_fd, const char *path)
{
	struct elf_object *o = NULL;

	EXPECT(fixture());
	EXPECT_EQ(elf_object__open(dir_fd, path, &o), 0);
	return o;
}

/* The fake root, as the symbolizer will pass /proc/PID/root. */
static inline int open_root(void)
{
	int fd = fixture() ? open("root", O_PATH | O_DIRECTORY) : -1;

	EXPECT(fd >= 0);
	return fd;
}

static inline void expect_symbol_at(const struct elf_object *o, uint64_t vaddr, const char *name)
{
	struct elf_symbol sym = { 0 };

	EXPECT_EQ(elf_object__symbol_at(o, vaddr, &sym), 0);
	EXPECT_STREQ(sym.name, name);
}

#endif
