/* fuzz_elf_symbols.c - the ELF reader on an image the target controls: the
 * input is the file. It is opened as the vDSO is (elf_object__open_memory:
 * segments, build-id, .dynsym and .symtab); its MiniDebugInfo, when it has
 * one, is decompressed and opened the same way; its separate debug file is
 * looked for (debug_file_find, by its .gnu_debuglink and build-id) under
 * an empty directory as its root; and its build-id is read again the way
 * a live process's mapping is read (build_id_from_image).
 *
 * Beyond not crashing: a symbol found at an address holds that address and
 * is found again by its name; a function found by name has that name, and
 * a sized one is found at its address; bytes read at a virtual address are
 * the file's bytes at the offset it maps to; a build-id is lowercase hex. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "target/build_id.h"
#include "target/debug_file.h"
#include "target/elf_object.h"
#include "target/elf_object_internal.h"
#include "target/minidebuginfo.h"

/* Functions and variables that objects commonly define. */
static const char *const names[] = { "malloc", "free", "main", "_start", "f", "g",
				     "__vdso_clock_gettime", "environ", "errno" };

struct image {
	const uint8_t *data;
	size_t size;
};

static int read_image(void *ctx, uint64_t off, void *buf, size_t len)
{
	const struct image *img = ctx;

	if (off > img->size || len > img->size - off)
		return -EFAULT;
	memcpy(buf, img->data + off, len);
	return 0;
}

static char empty_root[] = "/tmp/fuzz_elf_symbols.XXXXXX";

static void remove_root(void)
{
	rmdir(empty_root);
}

/* An O_PATH descriptor of an empty directory, made once, removed at exit. */
static int root_fd(void)
{
	static int fd = -1;

	if (fd < 0) {
		FUZZ_CHECK(mkdtemp(empty_root) != NULL);
		atexit(remove_root);
		fd = open(empty_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		FUZZ_CHECK(fd >= 0);
	}
	return fd;
}

/* Nothing is found in an empty root, whatever the object says. */
static void check_debug_file(const struct elf_object *o)
{
	struct elf_image debug = { 0 };

	FUZZ_CHECK(debug_file_find(elf_object__elf(o), root_fd(), "/usr/lib/libfuzz.so",
				   elf_object__build_id(o), NULL, &debug) == 0);
	FUZZ_CHECK(!debug.elf);
}

static void check_build_id(const char *id)
{
	size_t len = id ? strlen(id) : 0;

	FUZZ_CHECK(len % 2 == 0 && strspn(id ? id : "", "0123456789abcdef") == len);
}

/* A symbol found at addr holds it, and its name finds a function. */
static void check_symbol_at(const struct elf_object *o, uint64_t addr)
{
	struct elf_symbol at, named;

	if (elf_object__symbol_at(o, addr, &at) < 0)
		return;
	FUZZ_CHECK(at.name && *at.name && at.vaddr <= addr);
	FUZZ_CHECK(!at.size || addr - at.vaddr < at.size);
	FUZZ_CHECK(elf_object__find_function(o, at.name, ELF_SYMTAB_ANY, &named) == 0);
	FUZZ_CHECK(!strcmp(named.name, at.name));
}

static void check_named(const struct elf_object *o, const char *name)
{
	struct elf_symbol s, at;
	int r;

	if (elf_object__find_function(o, name, ELF_SYMTAB_ANY, &s) == 0) {
		FUZZ_CHECK(!strcmp(s.name, name));
		FUZZ_CHECK(!s.size || elf_object__symbol_at(o, s.vaddr, &at) == 0);
		check_symbol_at(o, s.vaddr);
		check_symbol_at(o, s.vaddr + s.size / 2);
	}
	r = elf_object__find_variable(o, name, ELF_SYMTAB_ANY, &s);
	FUZZ_CHECK(r == 0 || r == -ENOENT || r == -EOPNOTSUPP);
	FUZZ_CHECK(r < 0 || !strcmp(s.name, name));
}

/* Bytes read at vaddr are the file's at the offset vaddr maps to. */
static void check_read(const struct elf_object *o, const uint8_t *data, size_t size,
		       uint64_t vaddr)
{
	uint8_t buf[16];
	uint64_t off, back;
	long n;

	if (elf_object__vaddr_to_offset(o, vaddr, &off) < 0)
		return;
	FUZZ_CHECK(elf_object__offset_to_vaddr(o, off, &back) == 0);
	n = elf_object__read(o, vaddr, buf, sizeof(buf));
	FUZZ_CHECK(n == -ERANGE || (n > 0 && (size_t)n <= sizeof(buf)));
	if (n > 0 && off < size)
		FUZZ_CHECK(!memcmp(buf, data + off, (size_t)n < size - off ? (size_t)n : size - off));
}

static void fuzz_object(const uint8_t *data, size_t size, bool outer)
{
	struct image img = { data, size };
	struct image_source src = { read_image, &img, size };
	struct elf_image mini = { 0 };
	struct elf_object *o = NULL;
	char *id = NULL;
	int r = build_id_from_image(&src, &id);

	FUZZ_CHECK(r == 0 || r == -ENOENT || r == -ENOEXEC || r == -EFAULT);
	check_build_id(id);
	free(id);
	r = elf_object__open_memory(data, size, &o);
	if (r < 0) {
		FUZZ_CHECK(r == -ENOEXEC);
		return;
	}
	check_build_id(elf_object__build_id(o));
	(void)elf_object__is_dynamic(o);
	(void)elf_object__dynamic_vaddr(o);
	(void)elf_object__has_dwarf(o);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		check_named(o, names[i]);
	/* Addresses: the words of the file, up to 256 of them. */
	for (size_t i = 0, step = size / 2048 + 1; i + 8 <= size && i / 8 / step < 256; i += 8 * step) {
		uint64_t addr;

		memcpy(&addr, data + i, sizeof(addr));
		check_symbol_at(o, addr);
		check_symbol_at(o, addr & 0xffffffff);
		check_read(o, data, size, addr);
		check_read(o, data, size, i);
	}
	check_debug_file(o);
	if (outer && minidebuginfo_open(elf_object__elf(o), &mini) == 0) {
		fuzz_object(mini.data, mini.size, false);
		elf_image_close(&mini);
	}
	elf_object__free(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_object(data, size, true);
	return 0;
}
