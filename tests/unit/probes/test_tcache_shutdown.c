/* test_tcache_shutdown.c - finding glibc's tcache_thread_shutdown. The
 * first test that needs them compiles two small libraries into a temporary
 * directory (the process works there; it is removed at exit): one whose
 * drain() uses glibc's message, as the inlined tcache_thread_shutdown does,
 * built as it is and stripped of .symtab; one with a static function named
 * tcache_thread_shutdown and no message. And the libc this test runs on
 * (Debian 12's glibc 2.36), whose code must be found by its message and
 * must call free from the range found. */
#include <dlfcn.h>
#include <gnu/libc-version.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

#include "probes/tcache_shutdown.h"
#include "unit.h"

static const char drain_c[] =
	"#include <stdint.h>\n"
	"#include <stdlib.h>\n"
	"__attribute__((noinline)) void complain(const char *m)\n"
	"{\n"
	"	__asm__ volatile(\"\" : : \"r\"(m));\n"
	"}\n"
	"void before(void) { }\n"
	"void drain(void **cache, int n)\n"
	"{\n"
	"	for (int i = 0; i < n; i++) {\n"
	"		if ((uintptr_t)cache[i] & 15)\n"
	"			complain(\"tcache_thread_shutdown(): unaligned tcache chunk detected\");\n"
	"		free(cache[i]);\n"
	"	}\n"
	"	free(cache);\n"
	"}\n"
	"void after(void) { }\n";

static const char named_c[] =
	"#include <stdlib.h>\n"
	"__attribute__((noinline, used)) static void tcache_thread_shutdown(void **c)\n"
	"{\n"
	"	free(c[0]);\n"
	"	free(c);\n"
	"}\n"
	"void freeres(void **c) { tcache_thread_shutdown(c); }\n";

static const char build_sh[] =
	"gcc -O2 -fPIC -shared drain.c -o drain.so\n"
	"strip --strip-all drain.so -o drain_stripped.so\n"
	"! readelf -SW drain_stripped.so | grep -q ' .symtab '\n"
	"gcc -O2 -fPIC -shared named.c -o named.so\n"
	"strip --strip-all named.so -o named_stripped.so\n"
	"echo 'int f(int x) { return x + 1; }' > plain.c\n"
	"gcc -O2 -fPIC -shared plain.c -o plain.so\n";

static char fixture_dir[] = "/tmp/test_tcache_shutdown.XXXXXX";

/* Builds once; every later call answers from the first. */
static bool fixture(void)
{
	static const struct unit_file files[] = { { "drain.c", drain_c }, { "named.c", named_c } };
	static int state = -1;

	if (state < 0)
		state = unit_fixture(fixture_dir, files, 2, build_sh);
	return state;
}

/* tcache_shutdown_find on the file at path. */
static int find(const char *path, struct tcache_shutdown *out)
{
	struct elf_object *o;
	int r = elf_object__open(AT_FDCWD, path, &o);

	if (r < 0)
		return r;
	r = tcache_shutdown_find(o, out);
	elf_object__free(o);
	return r;
}

/* [*lo, *hi) of the function name in the file at path. */
static void function_range(const char *path, const char *name, uint64_t *lo, uint64_t *hi)
{
	struct elf_symbol sym = { 0 };
	struct elf_object *o = NULL;

	EXPECT_EQ(elf_object__open(AT_FDCWD, path, &o), 0);
	if (o)
		EXPECT_EQ(elf_object__find_function(o, name, ELF_SYMTAB_ANY, &sym), 0);
	*lo = sym.vaddr;
	*hi = sym.vaddr + sym.size;
	elf_object__free(o);
}

/* tcache_shutdown_find on the file at path finds, by source, the range of
 * function as the file named_in (the same object, unstripped) has it. */
static void expect_found(const char *path, const char *named_in, const char *function,
			 enum tcache_shutdown_source source)
{
	struct tcache_shutdown ts = { 0 };
	uint64_t lo, hi;

	function_range(named_in, function, &lo, &hi);
	EXPECT(hi > lo);
	EXPECT_EQ(find(path, &ts), 0);
	EXPECT_EQ(ts.source, source);
	EXPECT_EQ(ts.start, lo);
	EXPECT_EQ(ts.end, hi);
}

TEST(message_finds_the_function_without_symbols)
{
	EXPECT(fixture());
	/* Its FDE bounds it, with or without .symtab. */
	expect_found("drain_stripped.so", "drain.so", "drain", TCACHE_SHUTDOWN_MESSAGE);
	expect_found("drain.so", "drain.so", "drain", TCACHE_SHUTDOWN_MESSAGE);
	EXPECT_STREQ(tcache_shutdown_source_name(TCACHE_SHUTDOWN_MESSAGE), "message");
}

TEST(symbol_names_the_function)
{
	struct tcache_shutdown ts = { 1, 2, TCACHE_SHUTDOWN_SYMBOL };

	EXPECT(fixture());
	expect_found("named.so", "named.so", "tcache_thread_shutdown", TCACHE_SHUTDOWN_SYMBOL);
	EXPECT_STREQ(tcache_shutdown_source_name(TCACHE_SHUTDOWN_SYMBOL), "symbol");
	/* Stripped, with no message to go by; and an object that is no glibc. */
	EXPECT_EQ(find("named_stripped.so", &ts), -ENOENT);
	EXPECT_EQ(find("plain.so", &ts), -ENOENT);
	EXPECT(ts.start == 1 && ts.end == 2);
}

/* Direct calls (e8 rel32) to free in [lo, hi) of o. */
static unsigned int calls_to(const struct elf_object *o, uint64_t lo, uint64_t hi, uint64_t fn)
{
	uint8_t code[4096];
	unsigned int calls = 0;
	long len;

	if (hi - lo > sizeof(code))
		return 0;
	len = elf_object__read(o, lo, code, hi - lo);
	for (long k = 0; k + 5 <= len; k++) {
		int32_t rel;

		memcpy(&rel, code + k + 1, sizeof(rel));
		calls += code[k] == 0xe8 && lo + (uint64_t)k + 5 + (uint64_t)(int64_t)rel == fn;
	}
	return calls;
}

TEST(this_libc_frees_from_the_range_found)
{
	struct tcache_shutdown ts = { 0 };
	struct elf_symbol free_sym = { 0 };
	struct elf_object *o = NULL;
	Dl_info info = { 0 };

	/* Not free: under ASan, free is the sanitizer's. */
	EXPECT(dladdr((void *)gnu_get_libc_version, &info) && info.dli_fname);
	if (!info.dli_fname)
		return;
	EXPECT_EQ(elf_object__open(AT_FDCWD, info.dli_fname, &o), 0);
	if (!o)
		return;
	/* Inlined into __malloc_arena_thread_freeres: no symbol of its own,
	 * even in Debian's debug file. */
	EXPECT_EQ(tcache_shutdown_find(o, &ts), 0);
	EXPECT_EQ(ts.source, TCACHE_SHUTDOWN_MESSAGE);
	EXPECT(ts.end > ts.start && ts.end - ts.start < 4096);
	EXPECT_EQ(elf_object__find_function(o, "free", ELF_SYMTAB_DYNAMIC, &free_sym), 0);
	/* One call in the loop over the cached blocks, one for the cache. */
	EXPECT_EQ(calls_to(o, ts.start, ts.end, free_sym.vaddr), 2);
	elf_object__free(o);
}

RUN_TESTS("tcache_shutdown", T(message_finds_the_function_without_symbols),
	  T(symbol_names_the_function), T(this_libc_frees_from_the_range_found))
