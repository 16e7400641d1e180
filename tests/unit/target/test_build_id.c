/* test_build_id.c - build-ids read from ELF images in memory: this
 * process's own executable, as memleakd reads a target's, and synthetic
 * images for what a live process rarely shows (no note, a note past the
 * mapping, corrupt sizes, 8-byte aligned notes, no ELF at all); and the
 * rule that compares two build-ids. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>

#include "target/build_id.h"
#include "target/elf_object.h"
#include "target/proc_maps.h"
#include "unit.h"

struct buffer {
	const unsigned char *data;
};

static int buffer_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	memcpy(buf, ((struct buffer *)ctx)->data + off, len);
	return 0;
}

/* An ELF header, one PT_NOTE program header at 64 and its notes at 120. */
struct image {
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	unsigned char notes[64];
};

static struct image make_image(const unsigned char *notes, size_t len, size_t align)
{
	struct image img = { 0 };

	memcpy(img.eh.e_ident, ELFMAG, SELFMAG);
	img.eh.e_ident[EI_CLASS] = ELFCLASS64;
	img.eh.e_phoff = offsetof(struct image, ph);
	img.eh.e_phentsize = sizeof(Elf64_Phdr);
	img.eh.e_phnum = 1;
	img.ph = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = offsetof(struct image, notes),
			       .p_filesz = len, .p_align = align };
	memcpy(img.notes, notes, len);
	return img;
}

static int build_id_of(const struct image *img, uint64_t size, char **out)
{
	struct buffer b = { (const unsigned char *)img };
	struct image_source src = { .read = buffer_read, .ctx = &b, .size = size };

	*out = NULL;
	return build_id_from_image(&src, out);
}

/* A GNU build-id note: namesz 4, descsz 4, type 3, "GNU\0", de ad be ef. */
static const unsigned char gnu_note[] = { 4, 0, 0, 0, 4, 0, 0, 0, 3, 0, 0, 0, 'G', 'N', 'U', 0,
					  0xde, 0xad, 0xbe, 0xef };

TEST(reads_note)
{
	struct image img = make_image(gnu_note, sizeof(gnu_note), 4);
	char *id;

	EXPECT_EQ(build_id_of(&img, sizeof(img), &id), 0);
	EXPECT_STREQ(id, "deadbeef");
	free(id);
}

/* Another note first (an ABI tag), 8-byte aligned as in PT_NOTE segments
 * of align 8: the build-id after it is found. */
TEST(skips_other_notes)
{
	unsigned char notes[64] = { 4, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 'G', 'N', 'U', 0,
				    1, 2, 3, 4, 0, 0, 0, 0 };
	struct image img;
	char *id;

	memcpy(notes + 24, gnu_note, sizeof(gnu_note));
	img = make_image(notes, 24 + sizeof(gnu_note), 8);
	EXPECT_EQ(build_id_of(&img, sizeof(img), &id), 0);
	EXPECT_STREQ(id, "deadbeef");
	free(id);
}

TEST(rejects_what_is_not_there)
{
	unsigned char corrupt[sizeof(gnu_note)];
	struct image img = make_image(gnu_note, sizeof(gnu_note), 4);
	char *id;

	/* The note lies past the mapping: not found, not read out of bounds. */
	EXPECT_EQ(build_id_of(&img, offsetof(struct image, notes) + 8, &id), -ENOENT);
	/* The program headers lie past it. */
	EXPECT_EQ(build_id_of(&img, sizeof(Elf64_Ehdr) + 8, &id), -ENOEXEC);
	EXPECT_EQ(build_id_of(&img, 16, &id), -EFAULT);
	memcpy(corrupt, gnu_note, sizeof(corrupt));
	corrupt[4] = 0xff; /* descsz past the segment */
	img = make_image(corrupt, sizeof(corrupt), 4);
	EXPECT_EQ(build_id_of(&img, sizeof(img), &id), -ENOENT);
	img = make_image(gnu_note, sizeof(gnu_note), 4);
	img.ph.p_type = PT_LOAD;
	EXPECT_EQ(build_id_of(&img, sizeof(img), &id), -ENOENT);
	img.eh.e_ident[EI_CLASS] = ELFCLASS32;
	EXPECT_EQ(build_id_of(&img, sizeof(img), &id), -ENOEXEC);
	img.eh.e_ident[0] = 0;
	EXPECT_EQ(build_id_of(&img, sizeof(img), &id), -ENOEXEC);
	EXPECT(id == NULL);
}

/* This executable's build-id as the kernel mapped it equals the file's. */
TEST(reads_own_mapping)
{
	struct proc_maps *m = NULL;
	const struct proc_map *first;
	struct elf_object *o = NULL;
	char *id = NULL;

	EXPECT_EQ(proc_maps__read(getpid(), &m), 0);
	EXPECT_EQ(elf_object__open(AT_FDCWD, "/proc/self/exe", &o), 0);
	if (!m || !o)
		goto out;
	first = proc_maps__first_of(m, proc_maps__find(m, (uintptr_t)reads_own_mapping));
	EXPECT_EQ(first->offset, 0);
	EXPECT_EQ(build_id_from_mapping(getpid(), -1, first->start, first->end, &id), 0);
	EXPECT(elf_object__build_id(o) != NULL);
	EXPECT_STREQ(id, elf_object__build_id(o));
out:
	free(id);
	elf_object__free(o);
	proc_maps__free(m);
}

/* A known build-id rules out a file with another or none; an unknown one
 * rules out nothing. */
TEST(matches_build_ids)
{
	EXPECT(build_id_matches("deadbeef", "deadbeef"));
	EXPECT(!build_id_matches("deadbeef", "deadbeee"));
	EXPECT(!build_id_matches("deadbeef", NULL));
	EXPECT(build_id_matches(NULL, "deadbeef"));
	EXPECT(build_id_matches(NULL, NULL));
}

RUN_TESTS("build_id", T(reads_note), T(skips_other_notes), T(rejects_what_is_not_there),
	  T(reads_own_mapping), T(matches_build_ids))
