/* test_elf_object.c - elf_object on real files (elf_fixture.h): opening
 * them or failing to, their segments and bytes, build-id, and whether they
 * are dynamically linked. */
#include "elf_fixture.h"

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

RUN_TESTS("elf_object", T(reads_unstripped_executable), T(converts_addresses_and_reads_bytes),
	  T(knows_static_executables), T(knows_static_pie_executables), T(opens_headers_only),
	  T(reports_open_errors))
