/* test_symbolizer.c - the symbolizer on this very process: its own maps, a
 * function of this binary, libc's malloc, anonymous memory, the stack, an
 * unmapped address; then fixture maps for what a live process rarely shows
 * (a deleted file, a file that cannot be opened, a memfd). */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "proc_maps.h"
#include "symbolizer.h"
#include "unit.h"

int symbolizer_test_target(int x);

/* Long enough that +5 stays inside; not static, so it is in .symtab under
 * its own name. */
__attribute__((noinline)) int symbolizer_test_target(int x)
{
	volatile int v = x;

	for (int i = 0; i < 4; i++)
		v = v * 31 + i;
	return v;
}

static struct proc_maps *own_maps(void)
{
	struct proc_maps *m = NULL;

	EXPECT_EQ(proc_maps__read(getpid(), &m), 0);
	return m;
}

static struct proc_maps *fixture_maps(const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	struct proc_maps *m = NULL;

	EXPECT(f != NULL);
	if (!f)
		return NULL;
	EXPECT_EQ(proc_maps__parse(f, &m), 0);
	fclose(f);
	return m;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = s ? strlen(s) : 0, k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

/* Resolves addr into *f, the outermost of its frames (the function, not a
 * call inlined into it); returns how many frames addr has. */
static int resolve_one(struct symbolizer *s, const struct proc_maps *m, uint64_t addr,
		       struct frame *f)
{
	struct frame chain[SYMBOLIZER_MAX_FRAMES];
	int n = symbolizer__resolve(s, m, AT_FDCWD, addr, chain);

	EXPECT(n >= 1 && n <= SYMBOLIZER_MAX_FRAMES);
	*f = n >= 1 ? chain[n - 1] : (struct frame){ 0 };
	return n;
}

/* Resolves addr in a fresh symbolizer against this process. */
static void resolve_own(uint64_t addr, struct frame *f, struct symbolizer **out)
{
	struct proc_maps *m = own_maps();
	struct symbolizer *s = symbolizer__new(&(struct symbolizer_options){ .demangle = true });

	EXPECT(s != NULL);
	*f = (struct frame){ 0 };
	if (m && s)
		EXPECT_EQ(resolve_one(s, m, addr, f), 1);
	proc_maps__free(m);
	*out = s;
}

TEST(names_function_in_own_binary)
{
	uint64_t addr = (uintptr_t)symbolizer_test_target + 5;
	char exe[PATH_MAX];
	struct symbolizer *s;
	struct frame f;

	EXPECT(realpath("/proc/self/exe", exe) != NULL);
	resolve_own(addr, &f, &s);
	EXPECT_EQ(f.addr, addr);
	EXPECT_STREQ(f.function, "symbolizer_test_target");
	EXPECT_EQ(f.offset, 5);
	EXPECT_STREQ(f.module, exe);
	symbolizer__free(s);
}

TEST(names_libc_malloc)
{
	void *fn = dlsym(RTLD_NEXT, "malloc");
	struct symbolizer *s;
	struct frame f;

	EXPECT(fn != NULL);
	resolve_own((uintptr_t)fn + 1, &f, &s);
	EXPECT_STREQ(f.function, "malloc");
	EXPECT_EQ(f.offset, 1);
	EXPECT(ends_with(f.module, "/libc.so.6"));
	symbolizer__free(s);
}

TEST(names_anonymous_memory)
{
	char *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct symbolizer *s;
	struct frame f;

	EXPECT(p != MAP_FAILED);
	if (p == MAP_FAILED)
		return;
	resolve_own((uintptr_t)p + 16, &f, &s);
	EXPECT_STREQ(f.module, "[anon]");
	EXPECT(f.function == NULL);
	EXPECT_EQ(f.offset, 0);
	symbolizer__free(s);
	munmap(p, 4096);
}

TEST(names_the_stack)
{
	volatile int local = 0;
	struct symbolizer *s;
	struct frame f;

	resolve_own((uintptr_t)&local, &f, &s);
	EXPECT_STREQ(f.module, "[stack]");
	EXPECT(f.function == NULL);
	symbolizer__free(s);
}

TEST(leaves_unmapped_addresses_blank)
{
	struct symbolizer *s;
	struct frame f;

	resolve_own(0x1000, &f, &s);
	EXPECT_EQ(f.addr, 0x1000);
	EXPECT(f.module == NULL);
	EXPECT(f.function == NULL);
	EXPECT_EQ(f.offset, 0);
	symbolizer__free(s);
}

/* Strings are the cached ones: the same pointers however often, and across
 * two reads of the maps. */
TEST(reuses_cached_objects_and_names)
{
	uint64_t addr = (uintptr_t)symbolizer_test_target + 5;
	struct proc_maps *m1 = own_maps(), *m2 = own_maps();
	struct symbolizer *s = symbolizer__new(&(struct symbolizer_options){ .demangle = true });
	struct frame a = { 0 }, b = { 0 };

	EXPECT(s != NULL);
	if (m1 && m2 && s) {
		EXPECT_EQ(resolve_one(s, m1, addr, &a), 1);
		for (int i = 0; i < 1000; i++)
			EXPECT_EQ(resolve_one(s, i % 2 ? m1 : m2, addr, &b), 1);
		EXPECT(a.function != NULL && a.function == b.function);
		EXPECT(a.module != NULL && a.module == b.module);
	}
	symbolizer__free(s);
	proc_maps__free(m2);
	proc_maps__free(m1);
}

/* The deleted file is this binary under a made-up device and inode, so it
 * cannot come from the cache: it must be opened without the suffix. */
TEST(opens_deleted_files_by_their_old_name)
{
	uint64_t addr = (uintptr_t)symbolizer_test_target + 5;
	struct proc_maps *own = own_maps(), *m = NULL;
	struct symbolizer *s = symbolizer__new(&(struct symbolizer_options){ .demangle = true });
	const struct proc_map *p = own ? proc_maps__find(own, addr) : NULL;
	char text[PATH_MAX + 128], module[PATH_MAX + 16];
	struct frame f = { 0 };

	EXPECT(p != NULL && p->path != NULL);
	if (p && p->path && s) {
		snprintf(module, sizeof(module), "%s (deleted)", p->path);
		snprintf(text, sizeof(text), "%" PRIx64 "-%" PRIx64 " r-xp %" PRIx64 " 00:00 1 %s\n",
			 p->start, p->end, p->offset, module);
		m = fixture_maps(text);
	}
	if (m) {
		EXPECT_EQ(resolve_one(s, m, addr, &f), 1);
		EXPECT_STREQ(f.function, "symbolizer_test_target");
		EXPECT_EQ(f.offset, 5);
		EXPECT_STREQ(f.module, module);
	}
	proc_maps__free(m);
	symbolizer__free(s);
	proc_maps__free(own);
}

TEST(keeps_module_of_files_it_cannot_read)
{
	struct proc_maps *m = fixture_maps(
		"10000-20000 r-xp 00000000 08:01 99 /nonexistent/libgone.so\n"
		"20000-30000 r-xp 00000000 00:01 98 /memfd:jit (deleted)\n"
		"30000-40000 r-xp 00000000 00:01 97 memfd:jit (deleted)\n");
	struct symbolizer *s = symbolizer__new(&(struct symbolizer_options){ .demangle = true });
	struct frame f = { 0 };

	if (!m || !s)
		goto out;
	for (int i = 0; i < 2; i++) {
		EXPECT_EQ(resolve_one(s, m, 0x10800, &f), 1);
		EXPECT_STREQ(f.module, "/nonexistent/libgone.so");
		EXPECT(f.function == NULL);
	}
	EXPECT_EQ(resolve_one(s, m, 0x20800, &f), 1);
	EXPECT_STREQ(f.module, "/memfd:jit (deleted)");
	EXPECT(f.function == NULL);
	EXPECT_EQ(resolve_one(s, m, 0x30800, &f), 1);
	EXPECT_STREQ(f.module, "memfd:jit (deleted)");
	EXPECT(f.function == NULL);
out:
	symbolizer__free(s);
	proc_maps__free(m);
}

TEST(frees_null)
{
	symbolizer__free(NULL);
}

RUN_TESTS("symbolizer", T(names_function_in_own_binary), T(names_libc_malloc),
	  T(names_anonymous_memory), T(names_the_stack), T(leaves_unmapped_addresses_blank),
	  T(reuses_cached_objects_and_names), T(opens_deleted_files_by_their_old_name),
	  T(keeps_module_of_files_it_cannot_read), T(frees_null))
