/* fuzz_unwind_table.c - the call-frame information compiler
 * (unwind_table__build) on CFI the target controls. Its API takes an ELF
 * file, so the harness makes one in memory around the input: an x86-64
 * shared object with one executable PT_LOAD segment and the input's bytes
 * as its .eh_frame, its .debug_frame, or both.
 *
 * Input, little-endian: a flags byte (bit 0: full, --unwind dwarf),
 * .eh_frame's address (8 bytes: pc-relative pointers count from it), the
 * executable segment's address (8 bytes) and size (4 bytes), the length of
 * .eh_frame (4 bytes), then the bytes of .eh_frame and of .debug_frame.
 * A seed is a real object's sections with their real addresses.
 *
 * Beyond not crashing: a table's rows are sorted by pc, no two neighbours
 * share a rule, the last row is the end marker, and the counts add up. */
#include <errno.h>
#include <gelf.h>
#include <string.h>

#include "fuzz.h"
#include "unwind/unwind_table.h"

enum { SEC_NULL, SEC_SHSTRTAB, SEC_EH_FRAME, SEC_DEBUG_FRAME, N_SECTIONS };

static const char shstrtab[] = "\0.shstrtab\0.eh_frame\0.debug_frame";

struct layout {
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	Elf64_Shdr sh[N_SECTIONS];
};

/* The ELF file around eh[0..eh_len) and debug[0..debug_len), malloc'd. */
static char *make_elf(const uint8_t *eh, size_t eh_len, const uint8_t *debug, size_t debug_len,
		      uint64_t cfi_addr, uint64_t text_addr, uint64_t text_size, size_t *len)
{
	size_t strtab_at = sizeof(struct layout), eh_at = strtab_at + sizeof(shstrtab);
	size_t debug_at = eh_at + eh_len;
	struct layout l = {
		.eh = {
			.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB,
				     EV_CURRENT },
			.e_type = ET_DYN,
			.e_machine = EM_X86_64,
			.e_version = EV_CURRENT,
			.e_phoff = offsetof(struct layout, ph),
			.e_shoff = offsetof(struct layout, sh),
			.e_ehsize = sizeof(Elf64_Ehdr),
			.e_phentsize = sizeof(Elf64_Phdr),
			.e_phnum = 1,
			.e_shentsize = sizeof(Elf64_Shdr),
			.e_shnum = N_SECTIONS,
			.e_shstrndx = SEC_SHSTRTAB,
		},
		.ph = { .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_vaddr = text_addr,
			.p_memsz = text_size, .p_align = 4096 },
		.sh = {
			[SEC_SHSTRTAB] = { .sh_name = 1, .sh_type = SHT_STRTAB,
					   .sh_offset = strtab_at, .sh_size = sizeof(shstrtab),
					   .sh_addralign = 1 },
			[SEC_EH_FRAME] = { .sh_name = 11, .sh_type = SHT_PROGBITS,
					   .sh_flags = SHF_ALLOC, .sh_addr = cfi_addr,
					   .sh_offset = eh_at, .sh_size = eh_len, .sh_addralign = 1 },
			[SEC_DEBUG_FRAME] = { .sh_name = 21, .sh_type = SHT_PROGBITS,
					      .sh_offset = debug_at, .sh_size = debug_len,
					      .sh_addralign = 1 },
		},
	};
	char *elf;

	*len = debug_at + debug_len;
	elf = malloc(*len);
	FUZZ_CHECK(elf != NULL);
	memcpy(elf, &l, sizeof(l));
	memcpy(elf + strtab_at, shstrtab, sizeof(shstrtab));
	if (eh_len)
		memcpy(elf + eh_at, eh, eh_len);
	if (debug_len)
		memcpy(elf + debug_at, debug, debug_len);
	return elf;
}

static void check_table(const struct unwind_table *t)
{
	if (!t->n_rows) {
		FUZZ_CHECK(!t->rows);
		return;
	}
	FUZZ_CHECK(UNWIND_RULE_CFA(t->rows[t->n_rows - 1].rule) == UNWIND_CFA_NONE);
	for (size_t i = 1; i < t->n_rows; i++) {
		FUZZ_CHECK(t->rows[i - 1].pc < t->rows[i].pc);
		FUZZ_CHECK(t->rows[i - 1].rule != t->rows[i].rule);
	}
	FUZZ_CHECK(t->n_unsupported <= t->n_rows && t->n_fp_fdes <= t->n_fdes);
	FUZZ_CHECK(unwind_table__bytes(t) == t->n_rows * sizeof(struct unwind_row));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t flags = (uint8_t)fuzz_take(&data, &size, 1);
	uint64_t cfi_addr = fuzz_take(&data, &size, 8);
	uint64_t text_addr = fuzz_take(&data, &size, 8);
	uint64_t text_size = fuzz_take(&data, &size, 4);
	size_t eh_len = fuzz_take(&data, &size, 4);
	struct unwind_table *t = NULL;
	size_t len;
	char *image;
	Elf *elf;
	int r;

	eh_len = eh_len < size ? eh_len : size;
	image = make_elf(data, eh_len, data + eh_len, size - eh_len, cfi_addr, text_addr,
			 text_size, &len);

	FUZZ_CHECK(elf_version(EV_CURRENT) != EV_NONE);
	elf = elf_memory(image, len);
	FUZZ_CHECK(elf != NULL);
	r = unwind_table__build(elf, flags & 1, NULL, &t);
	FUZZ_CHECK(r == 0 || r == -EFBIG || r == -ENOMEM);
	if (r == 0) {
		check_table(t);
		unwind_table__free(t);
	}
	elf_end(elf);
	free(image);
	return 0;
}
