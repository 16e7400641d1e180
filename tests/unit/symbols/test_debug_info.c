/* test_debug_info.c - debug_info on programs the first test compiles into
 * a temporary directory: C++ by g++ -O2 -g (an always_inline function with
 * internal linkage in an anonymous namespace), Rust by Debian's rustc
 * (every function inside its module's DW_TAG_namespace) and C by gcc. The
 * build script writes the address of each program's allocating call,
 * found with objdump, next to it. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/debug_info.h"
#include "target/elf_object.h"
#include "unit.h"

/* Line 5 calls malloc inside inner_alloc, inlined at line 11. */
static const char cxx_src[] =
	"#include <cstdlib>\n"
	"namespace outer {\n"
	"namespace {\n"
	"__attribute__((always_inline)) inline void *inner_alloc(size_t n)\n"
	"{ return malloc(n); }\n"
	"}\n"
	"void *volatile sink;\n"
	"struct Box {\n"
	"	__attribute__((noipa)) void fill(size_t n)\n"
	"	{\n"
	"		sink = inner_alloc(n);\n"
	"	}\n"
	"};\n"
	"}\n"
	"int main() { outer::Box b; b.fill(3); return 0; }\n";

/* Box::new, inlined, allocates on line 4. */
static const char rust_src[] =
	"pub mod shapes {\n"
	"    #[inline(never)]\n"
	"    pub fn make(n: u64) -> Box<u64> {\n"
	"        Box::new(n)\n"
	"    }\n"
	"}\n"
	"fn main() { let b = shapes::make(7); std::process::exit(*b as i32 - 7); }\n";

/* helper's malloc on line 3, inlined at line 4. */
static const char c_src[] =
	"#include <stdlib.h>\n"
	"void *volatile sink;\n"
	"__attribute__((always_inline)) static inline void *helper(size_t n) { return malloc(n); }\n"
	"__attribute__((noinline)) void use_helper(size_t n) { sink = helper(n); }\n"
	"int main(void) { use_helper(3); return 0; }\n";

/* call_in FUNCTION_REGEX PROGRAM: the address of the first call in the
 * function. */
static const char build_sh[] =
	"call_in() {\n"
	"	objdump -d --no-show-raw-insn \"$2\" | awk \"/<$1>:/,/^\\$/\" |\n"
	"		grep -m1 'call' | sed 's/^ *\\([0-9a-f]*\\):.*/\\1/'\n"
	"}\n"
	"g++ -O2 -g -w cxx.cc -o cxx\n"
	"/usr/bin/rustc -C opt-level=1 -g prog.rs -o rust\n"
	"gcc -O2 -g -w c.c -o c\n"
	"call_in _ZN5outer3Box4fillEm cxx > cxx.pc\n"
	"call_in '_ZN4prog6shapes4make[^>]*' rust > rust.pc\n"
	"call_in use_helper c > c.pc\n"
	"for f in cxx rust c; do test -s $f.pc; done\n";

static char fixture_dir[] = "/tmp/test_debug_info.XXXXXX";

static bool fixture(void)
{
	static const struct unit_file files[] = {
		{ "cxx.cc", cxx_src }, { "prog.rs", rust_src }, { "c.c", c_src },
	};
	static int state = -1;

	if (state < 0)
		state = unit_fixture(fixture_dir, files, 3, build_sh);
	return state;
}

struct program {
	struct elf_object *obj;
	struct debug_info *dwarf;
	uint64_t pc;
};

/* Opens the fixture's program name with its DWARF and its call's address;
 * all false on failure. */
static bool open_program(const char *name, struct program *p)
{
	char path[64];
	FILE *f;
	bool ok;

	*p = (struct program){ 0 };
	EXPECT(fixture());
	snprintf(path, sizeof(path), "%s.pc", name);
	f = fopen(path, "r");
	ok = f && fscanf(f, "%" SCNx64, &p->pc) == 1;
	if (f)
		fclose(f);
	EXPECT(ok);
	EXPECT_EQ(elf_object__open(AT_FDCWD, name, &p->obj), 0);
	if (!ok || !p->obj)
		return false;
	EXPECT_EQ(debug_info__open(elf_object__dwarf_elf(p->obj), &p->dwarf), 0);
	return p->dwarf != NULL;
}

static void close_program(struct program *p)
{
	debug_info__free(p->dwarf);
	elf_object__free(p->obj);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = s ? strlen(s) : 0, k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

static void expect_frame(const struct source_frame *f, const char *function, const char *file,
			 unsigned int line, bool inlined)
{
	EXPECT_STREQ(f->function, function);
	EXPECT(ends_with(f->file, file));
	EXPECT_EQ(f->line, line);
	EXPECT_EQ(f->inlined, inlined);
}

TEST(cxx_internal_inline_is_qualified)
{
	struct source_frame f[4];
	struct program p;

	if (!open_program("cxx", &p))
		return;
	EXPECT_EQ(debug_info__lookup(p.dwarf, p.pc, f, 4), 2);
	expect_frame(&f[0], "outer::(anonymous namespace)::inner_alloc", "cxx.cc", 5, true);
	expect_frame(&f[1], "_ZN5outer3Box4fillEm", "cxx.cc", 11, false);
	close_program(&p);
}

TEST(max_keeps_the_outermost_function)
{
	struct source_frame f[1];
	struct program p;

	if (!open_program("cxx", &p))
		return;
	EXPECT_EQ(debug_info__lookup(p.dwarf, p.pc, f, 1), 1);
	expect_frame(&f[0], "_ZN5outer3Box4fillEm", "cxx.cc", 11, false);
	EXPECT_EQ(debug_info__lookup(p.dwarf, p.pc, f, 0), 0);
	close_program(&p);
}

/* dwarf_getscopes finds nothing here: the function is inside the
 * namespaces prog and shapes, which have no addresses. */
TEST(rust_function_inside_namespaces)
{
	struct source_frame f[8];
	struct program p;
	int n;

	if (!open_program("rust", &p))
		return;
	n = debug_info__lookup(p.dwarf, p.pc, f, 8);
	EXPECT(n >= 2);
	if (n >= 2) {
		EXPECT(!strncmp(f[n - 1].function, "_ZN4prog6shapes4make17h", 23));
		EXPECT(ends_with(f[n - 1].file, "prog.rs"));
		EXPECT_EQ(f[n - 1].line, 4);
		EXPECT(!f[n - 1].inlined);
		/* Box::new, inlined where make calls it. */
		EXPECT(strstr(f[n - 2].function, "5boxed") && strstr(f[n - 2].function, "3new"));
		EXPECT(f[n - 2].inlined);
	}
	close_program(&p);
}

TEST(c_names_stay_bare)
{
	struct source_frame f[4];
	struct program p;

	if (!open_program("c", &p))
		return;
	EXPECT_EQ(debug_info__lookup(p.dwarf, p.pc, f, 4), 2);
	expect_frame(&f[0], "helper", "c.c", 3, true);
	expect_frame(&f[1], "use_helper", "c.c", 4, false);
	/* No unit covers address 1. */
	EXPECT_EQ(debug_info__lookup(p.dwarf, 1, f, 4), 0);
	close_program(&p);
}

RUN_TESTS("debug_info", T(cxx_internal_inline_is_qualified), T(max_keeps_the_outermost_function),
	  T(rust_function_inside_namespaces), T(c_names_stay_bare))
