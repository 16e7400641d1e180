/* test_symbolizer.c - the symbolizer on this very process: its own maps, a
 * function of this binary, libc's malloc, anonymous memory, the stack, an
 * unmapped address, its vDSO, JIT code named by its perf map, a library
 * replaced on disk; then fixture maps for what a live process rarely shows
 * (a deleted file, a file that cannot be opened, a memfd). */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "target/elf_object.h"
#include "target/proc_maps.h"
#include "symbols/symbolizer.h"
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

static struct symbolizer *new_symbolizer(void)
{
	return symbolizer__new(&(struct symbolizer_options){ .demangle = true });
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
	struct symbolizer *s = new_symbolizer();

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

/* libc's own malloc, asked of libc itself: the first malloc in the search
 * order (RTLD_NEXT) is a sanitizer runtime's when the test is built with
 * one. */
TEST(names_libc_malloc)
{
	void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
	void *fn = libc ? dlsym(libc, "malloc") : NULL;
	struct symbolizer *s;
	struct frame f;

	EXPECT(fn != NULL);
	resolve_own((uintptr_t)fn + 1, &f, &s);
	EXPECT_STREQ(f.function, "malloc");
	EXPECT_EQ(f.offset, 1);
	EXPECT(ends_with(f.module, "/libc.so.6"));
	symbolizer__free(s);
	if (libc)
		dlclose(libc);
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
	struct symbolizer *s = new_symbolizer();
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
	struct symbolizer *s = new_symbolizer();
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
	struct symbolizer *s = new_symbolizer();
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

/* The address of the vDSO's function name, as the kernel mapped it here. */
static uint64_t vdso_function(const struct proc_maps *m, const char *name)
{
	uint64_t base = getauxval(AT_SYSINFO_EHDR), offset;
	const struct proc_map *p = m ? proc_maps__find(m, base) : NULL;
	struct elf_object *o = NULL;
	struct elf_symbol sym;
	uint64_t addr = 0;

	EXPECT(p != NULL && p->path && !strcmp(p->path, "[vdso]"));
	if (!p)
		return 0;
	EXPECT_EQ(elf_object__open_memory((void *)(uintptr_t)p->start, p->end - p->start, &o), 0);
	if (o && elf_object__find_function(o, name, ELF_SYMTAB_DYNAMIC, &sym) == 0 &&
	    elf_object__vaddr_to_offset(o, sym.vaddr, &offset) == 0)
		addr = p->start + offset;
	EXPECT(addr != 0);
	elf_object__free(o);
	return addr;
}

/* Read from this process's memory, named from the image's .dynsym (where
 * clock_gettime is a weak alias of __vdso_clock_gettime); the
 * image is read once and shared by a second reading of the maps. */
TEST(names_vdso_functions)
{
	struct proc_maps *m1 = own_maps(), *m2 = own_maps();
	uint64_t addr = vdso_function(m1, "__vdso_clock_gettime");
	struct symbolizer *s = new_symbolizer();
	struct frame f = { 0 }, g = { 0 };

	if (addr && s) {
		EXPECT_EQ(resolve_one(s, m1, addr + 4, &f), 1);
		/* The alias elf_object prefers over __vdso_clock_gettime. */
		EXPECT_STREQ(f.function, "clock_gettime");
		EXPECT_EQ(f.offset, 4);
		EXPECT_STREQ(f.module, "[vdso]");
		EXPECT(f.build_id != NULL);
		EXPECT(!f.module_mismatch);
		EXPECT_EQ(resolve_one(s, m2, addr + 4, &g), 1);
		EXPECT(g.function == f.function);
	}
	symbolizer__free(s);
	proc_maps__free(m2);
	proc_maps__free(m1);
}

/* code (a page) named by /tmp/perf-PID.map, re-read when the JIT
 * rewrites it, unnamed once it is gone; the module stays module. */
static void expect_perf_map_names(char *code, const char *module)
{
	struct proc_maps *m = own_maps();
	struct symbolizer *s = new_symbolizer();
	char path[64], text[128];
	struct frame f = { 0 };

	if (!m || !s)
		goto out;
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
	snprintf(text, sizeof(text), "%lx 40 LazyCompile:~handler app.js:3\n", (unsigned long)code);
	unit_write_file(path, text);
	EXPECT_EQ(resolve_one(s, m, (uintptr_t)code + 0x10, &f), 1);
	EXPECT_STREQ(f.function, "LazyCompile:~handler app.js:3");
	EXPECT_EQ(f.offset, 0x10);
	EXPECT_STREQ(f.module, module);
	snprintf(text, sizeof(text), "%lx 40 stub\n%lx 40 handler_v2\n", (unsigned long)code + 0x100,
		 (unsigned long)code);
	unit_write_file(path, text);
	EXPECT_EQ(resolve_one(s, m, (uintptr_t)code + 0x10, &f), 1);
	EXPECT_STREQ(f.function, "handler_v2");
	EXPECT_EQ(resolve_one(s, m, (uintptr_t)code + 0x80, &f), 1);
	EXPECT(f.function == NULL);
	unlink(path);
	EXPECT_EQ(resolve_one(s, m, (uintptr_t)code + 0x10, &f), 1);
	EXPECT(f.function == NULL);
out:
	symbolizer__free(s);
	proc_maps__free(m);
}

TEST(names_jit_code_from_perf_map)
{
	char *code = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	EXPECT(code != MAP_FAILED);
	if (code == MAP_FAILED)
		return;
	expect_perf_map_names(code, "[anon]");
	munmap(code, 4096);
}

/* JIT code in a memfd (no ELF object in it) is named the same way. */
TEST(names_jit_code_in_memfd)
{
	int fd = memfd_create("jit", MFD_CLOEXEC);
	char *code = fd >= 0 && ftruncate(fd, 4096) == 0 ?
		mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0) : MAP_FAILED;

	EXPECT(code != MAP_FAILED);
	if (code != MAP_FAILED) {
		expect_perf_map_names(code, "/memfd:jit (deleted)");
		munmap(code, 4096);
	}
	if (fd >= 0)
		close(fd);
}

/* Two builds of one library: libreplaced.so is dlopen()ed, then the other
 * build (other code before replaced_fn) is renamed over its path, as a
 * package upgrade does. */
static const char replaced_a_c[] =
	"int replaced_fn(int x) { return x * 3 + 1; }\n";
static const char replaced_b_c[] =
	"int padding_fn(int x) { int v = x; for (int i = 0; i < x; i++) v = v * 7 + i; return v; }\n"
	"int replaced_fn(int x) { return x * 5 + 2; }\n"
	"int other_fn(int x) { return x - 1; }\n";
static const char replaced_sh[] =
	"gcc -O1 -shared -fPIC -Wl,--build-id -o libreplaced.so a.c\n"
	"gcc -O1 -shared -fPIC -Wl,--build-id -o libreplaced.new b.c\n";
static char fixture_dir[] = "/tmp/test_symbolizer.XXXXXX";

/* The address of replaced_fn + 4 in the mapped (old) build and its
 * build-id; the new build is in place on disk. 0 on failure. */
static uint64_t map_replaced_library(char *build_id, size_t len)
{
	static const struct unit_file files[] = { { "a.c", replaced_a_c }, { "b.c", replaced_b_c } };
	struct elf_object *o = NULL;
	void *h, *fn;

	if (!unit_fixture(fixture_dir, files, 2, replaced_sh))
		return 0;
	EXPECT_EQ(elf_object__open(AT_FDCWD, "libreplaced.so", &o), 0);
	snprintf(build_id, len, "%s", o && elf_object__build_id(o) ? elf_object__build_id(o) : "");
	elf_object__free(o);
	h = dlopen("./libreplaced.so", RTLD_NOW);
	fn = h ? dlsym(h, "replaced_fn") : NULL;
	EXPECT(fn != NULL);
	EXPECT_EQ(rename("libreplaced.new", "libreplaced.so"), 0);
	return fn ? (uintptr_t)fn + 4 : 0;
}

/* maps with the library's line rewritten without " (deleted)", as if the
 * kernel had not noticed: only the build-id can tell the files apart. */
static struct proc_maps *maps_hiding_replacement(uint64_t addr)
{
	struct proc_maps *m = own_maps();
	const struct proc_map *p = m ? proc_maps__find(m, addr) : NULL;

	EXPECT(p && p->path && strstr(p->path, " (deleted)"));
	for (size_t i = 0; m && p && p->path && i < m->count; i++)
		if (m->maps[i].inode == p->inode && m->maps[i].path)
			*strstr(m->maps[i].path, " (deleted)") = '\0';
	return m;
}

/* In a child without CAP_SYS_ADMIN and CAP_CHECKPOINT_RESTORE map_files
 * is closed: the frame must say mismatch, with no name. Returns the
 * number of failed checks in the child. */
static int mismatch_without_map_files(uint64_t addr, const char *build_id)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct caps[2];
	pid_t child = fork();
	int status = -1;

	if (child == 0) {
		struct proc_maps *m = maps_hiding_replacement(addr);
		struct symbolizer *s = new_symbolizer();
		struct frame f = { 0 };
		int before = unit_failed_checks;

		EXPECT_EQ(syscall(SYS_capget, &hdr, caps), 0);
		caps[0].effective &= ~(1u << CAP_SYS_ADMIN);
		caps[1].effective &= ~(1u << (CAP_CHECKPOINT_RESTORE - 32));
		EXPECT_EQ(syscall(SYS_capset, &hdr, caps), 0);
		if (m && s) {
			EXPECT_EQ(resolve_one(s, m, addr, &f), 1);
			EXPECT(f.module_mismatch);
			EXPECT(f.function == NULL && f.file == NULL);
			EXPECT_STREQ(f.build_id, build_id);
			EXPECT(ends_with(f.module, "/libreplaced.so"));
		}
		_exit(unit_failed_checks != before);
	}
	EXPECT(child > 0);
	if (child > 0)
		waitpid(child, &status, 0);
	return status;
}

TEST(checks_build_id_of_replaced_files)
{
	char build_id[128];
	uint64_t addr = map_replaced_library(build_id, sizeof(build_id));
	struct proc_maps *deleted = addr ? own_maps() : NULL, *hidden = NULL;
	struct symbolizer *s = new_symbolizer();
	struct frame f = { 0 };

	if (!addr || !deleted || !s)
		goto out;
	/* Marked deleted by the kernel: opened through map_files. */
	EXPECT_EQ(resolve_one(s, deleted, addr, &f), 1);
	EXPECT_STREQ(f.function, "replaced_fn");
	EXPECT(ends_with(f.module, "/libreplaced.so (deleted)"));
	EXPECT(!f.module_mismatch);
	symbolizer__free(s);
	/* Opened by its path, the new build: caught by its build-id and
	 * reopened through map_files. */
	s = new_symbolizer();
	hidden = maps_hiding_replacement(addr);
	if (s && hidden) {
		EXPECT_EQ(resolve_one(s, hidden, addr, &f), 1);
		EXPECT_STREQ(f.function, "replaced_fn");
		EXPECT_STREQ(f.build_id, build_id);
		EXPECT(!f.module_mismatch);
	}
	EXPECT_EQ(mismatch_without_map_files(addr, build_id), 0);
out:
	symbolizer__free(s);
	proc_maps__free(hidden);
	proc_maps__free(deleted);
}

TEST(frees_null)
{
	symbolizer__free(NULL);
}

RUN_TESTS("symbolizer", T(names_function_in_own_binary), T(names_libc_malloc),
	  T(names_anonymous_memory), T(names_the_stack), T(leaves_unmapped_addresses_blank),
	  T(reuses_cached_objects_and_names), T(opens_deleted_files_by_their_old_name),
	  T(keeps_module_of_files_it_cannot_read), T(names_vdso_functions),
	  T(names_jit_code_from_perf_map),
	  T(names_jit_code_in_memfd), T(checks_build_id_of_replaced_files), T(frees_null))
