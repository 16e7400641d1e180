/* test_unwind_table.c - unwind_table on real objects. The first test that
 * needs them compiles one small program three ways into a temporary
 * directory (the process works there; it is removed at exit): without frame
 * pointers, with them, and with its CFI in .debug_frame instead of
 * .eh_frame; plus a library with no CFI at all. Rows are checked against
 * what readelf --debug-dump=frames-interp shows for the same FDE, and
 * Debian's libc gives the special rules: PLT, signal frame, outermost frame
 * and the rules the BPF unwinder cannot follow. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <link.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "target/elf_object.h"
#include "unit.h"
#include "unwind/unwind_table.h"

/* pusher keeps more values live across its calls than there are
 * callee-saved registers: it pushes several and makes room for spills.
 * no_frame_caller calls sink knowing (IPA-RA) that it keeps rdi and rdx:
 * without frame pointers gcc makes both calls at CFA = rsp + 8. */
static const char prog_c[] =
	"#include <stdio.h>\n"
	"__attribute__((noinline)) long sink(long x)\n"
	"{\n"
	"	__asm__ volatile(\"\" : \"+r\"(x));\n"
	"	return x;\n"
	"}\n"
	"__attribute__((noinline)) long pusher(long a, long b, long c, long d, long e, long f)\n"
	"{\n"
	"	long s = 0, t = 1;\n"
	"	for (long i = 0; i < a; i++) {\n"
	"		s += sink(i * b) + sink(c) * d;\n"
	"		t ^= sink(s + e) * f;\n"
	"	}\n"
	"	return s + t + a + b + c + d + e + f;\n"
	"}\n"
	"__attribute__((noinline)) long no_frame_caller(long x)\n"
	"{\n"
	"	long y = sink(x);\n"
	"	return sink(y) + x;\n"
	"}\n"
	"int main(int argc, char **argv)\n"
	"{\n"
	"	(void)argv;\n"
	"	printf(\"%ld\\n\", pusher(argc, 2, 3, 4, 5, 6) + no_frame_caller(argc));\n"
	"	return 0;\n"
	"}\n";

static const char build_sh[] =
	"gcc -O2 -fomit-frame-pointer prog.c -o nofp\n"
	"gcc -O2 -fno-omit-frame-pointer prog.c -o fp\n"
	"gcc -O2 -g -fomit-frame-pointer -fno-asynchronous-unwind-tables prog.c -o debug_frame\n"
	"readelf -SW debug_frame | grep -q ' .debug_frame '\n"
	"echo 'int f(int x) { return x + 1; }' > lib.c\n"
	"gcc -O2 -shared -nostdlib -fno-asynchronous-unwind-tables lib.c -o nocfi.so\n"
	"cp nofp arm\n"
	"printf '\\050' | dd of=arm bs=1 seek=18 conv=notrunc 2>/dev/null\n";

static char fixture_dir[] = "/tmp/test_unwind_table.XXXXXX";

/* Builds once; every later call answers from the first. */
static bool fixture(void)
{
	static const struct unit_file files[] = { { "prog.c", prog_c } };
	static int state = -1;

	if (state < 0)
		state = unit_fixture(fixture_dir, files, 1, build_sh);
	return state;
}

/* unwind_table__build of the file at path, opened as the unwinder opens
 * it; -errno from either. */
static int build(const char *path, bool full, const volatile bool *cancel,
		 struct unwind_table **out)
{
	struct elf_object *o;
	int r = elf_object__open_headers(AT_FDCWD, path, &o);

	if (r < 0)
		return r;
	r = unwind_table__build(elf_object__elf(o), full, cancel, out);
	elf_object__free(o);
	return r;
}

static struct unwind_table *build_ok(const char *path, bool full)
{
	struct unwind_table *t = NULL;

	EXPECT(fixture());
	EXPECT_EQ(build(path, full, NULL, &t), 0);
	return t;
}

/* The rule in force at link-time address addr: NONE outside the table. */
static uint32_t rule_at(const struct unwind_table *t, uint64_t addr)
{
	size_t lo = 0, hi = t->n_rows;

	if (addr < t->base || addr - t->base > UINT32_MAX)
		return UNWIND_RULE(UNWIND_CFA_NONE, 0, false, 0);
	while (lo < hi) { /* the first row after addr */
		size_t mid = lo + (hi - lo) / 2;

		if (t->rows[mid].pc <= addr - t->base)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? t->rows[lo - 1].rule : UNWIND_RULE(UNWIND_CFA_NONE, 0, false, 0);
}

/* Whether some row in force over [lo, hi) has CFA type cfa. */
static bool range_has(const struct unwind_table *t, uint64_t lo, uint64_t hi, unsigned cfa)
{
	if (UNWIND_RULE_CFA(rule_at(t, lo)) == cfa)
		return true;
	for (size_t i = 0; i < t->n_rows; i++)
		if (t->base + t->rows[i].pc > lo && t->base + t->rows[i].pc < hi &&
		    UNWIND_RULE_CFA(t->rows[i].rule) == cfa)
			return true;
	return false;
}

static void expect_sorted_and_merged(const struct unwind_table *t)
{
	size_t unsupported = 0, disorder = 0;

	EXPECT(t->n_rows > 0);
	EXPECT_EQ(unwind_table__bytes(t), t->n_rows * 8);
	for (size_t i = 0; i < t->n_rows; i++) {
		unsupported += UNWIND_RULE_CFA(t->rows[i].rule) == UNWIND_CFA_UNSUPPORTED;
		disorder += i && (t->rows[i].pc <= t->rows[i - 1].pc ||
				  t->rows[i].rule == t->rows[i - 1].rule);
	}
	EXPECT_EQ(disorder, 0);
	EXPECT_EQ(t->rows[0].pc, 0);
	EXPECT_EQ(t->rows[t->n_rows - 1].rule, UNWIND_RULE(UNWIND_CFA_NONE, 0, false, 0));
	EXPECT_EQ(t->n_unsupported, unsupported);
}

/* A function's link-time range, from its symbol. */
static bool function_range(const char *path, const char *name, uint64_t *lo, uint64_t *hi)
{
	struct elf_object *o = NULL;
	struct elf_symbol sym = { 0 };
	bool ok;

	EXPECT_EQ(elf_object__open(AT_FDCWD, path, &o), 0);
	ok = o && elf_object__find_function(o, name, ELF_SYMTAB_ANY, &sym) == 0 && sym.size;
	EXPECT(ok);
	*lo = sym.vaddr;
	*hi = sym.vaddr + sym.size;
	elf_object__free(o);
	return ok;
}

struct cfi_row {
	uint64_t loc;
	uint32_t rule; /* what unwind_table must make of readelf's row */
};

/* The rule readelf's columns (CFA, rbp, ra) stand for. */
static uint32_t readelf_rule(const char *cfa, const char *rbp, const char *ra)
{
	unsigned off;
	int rbp_off = 0;
	char reg[4];

	if (strcmp(ra, "u") == 0)
		return UNWIND_RULE(UNWIND_CFA_STOP, 0, false, 0);
	if (strcmp(ra, "c-8") != 0 || sscanf(cfa, "%3[a-z]+%u", reg, &off) != 2 ||
	    (strcmp(reg, "rsp") && strcmp(reg, "rbp")) ||
	    (strcmp(rbp, "u") && sscanf(rbp, "c%d", &rbp_off) != 1))
		return UNWIND_RULE(UNWIND_CFA_UNSUPPORTED, 0, false, 0);
	return UNWIND_RULE(strcmp(reg, "rsp") ? UNWIND_CFA_RBP : UNWIND_CFA_RSP, off,
			   strcmp(rbp, "u") != 0, rbp_off / 8);
}

/* The rows readelf --debug-dump=frames-interp shows for the FDE starting at
 * lo (in .eh_frame or .debug_frame). Returns how many, up to max. */
static size_t readelf_rows(const char *path, uint64_t lo, struct cfi_row *rows, size_t max)
{
	char cmd[256], line[512], want[64];
	int rbp_col = -1, ra_col = -1;
	bool in_fde = false;
	size_t n = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "readelf --debug-dump=frames-interp '%s' 2>/dev/null", path);
	snprintf(want, sizeof(want), " pc=%016" PRIx64 "..", lo);
	f = popen(cmd, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *tok[32], *save = NULL;
		int ntok = 0;

		if (strstr(line, " FDE ") || strstr(line, " CIE")) {
			in_fde = n == 0 && strstr(line, want);
			continue;
		}
		for (char *s = strtok_r(line, " \n", &save); s && ntok < 32; s = strtok_r(NULL, " \n", &save))
			tok[ntok++] = s;
		if (!in_fde || ntok < 2)
			continue;
		if (strcmp(tok[0], "LOC") == 0) {
			for (int i = 0; i < ntok; i++) {
				if (strcmp(tok[i], "rbp") == 0)
					rbp_col = i;
				if (strcmp(tok[i], "ra") == 0)
					ra_col = i;
			}
		} else if (strlen(tok[0]) == 16 && ra_col > 0 && ra_col < ntok && n < max) {
			rows[n].loc = strtoull(tok[0], NULL, 16);
			rows[n++].rule = readelf_rule(tok[1], rbp_col > 0 ? tok[rbp_col] : "u", tok[ra_col]);
		}
	}
	pclose(f);
	return n;
}

/* Every row readelf shows for function name gives the same rule in t, up to
 * the function's last byte; returns the number of rows compared. */
static size_t expect_rows_as_readelf(const struct unwind_table *t, const char *path,
				     const char *name)
{
	struct cfi_row rows[64];
	uint64_t lo, hi;
	size_t n;

	if (!function_range(path, name, &lo, &hi))
		return 0;
	n = readelf_rows(path, lo, rows, 64);
	EXPECT(n > 0);
	for (size_t i = 0; i < n; i++) {
		if (rule_at(t, rows[i].loc) != rows[i].rule)
			fprintf(stderr, "  %s %s row at %#" PRIx64 "\n", path, name, rows[i].loc);
		EXPECT_EQ(rule_at(t, rows[i].loc), rows[i].rule);
	}
	if (n)
		EXPECT_EQ(rule_at(t, hi - 1), rows[n - 1].rule);
	return n;
}

TEST(pushes_give_rsp_rows_as_readelf)
{
	struct unwind_table *t = build_ok("nofp", true);
	uint64_t lo, hi, deepest = 0;

	if (!t || !function_range("nofp", "pusher", &lo, &hi))
		goto out;
	EXPECT(expect_rows_as_readelf(t, "nofp", "pusher") >= 6);
	expect_rows_as_readelf(t, "nofp", "main");
	for (uint64_t a = lo; a < hi; a++) {
		uint32_t r = rule_at(t, a);

		EXPECT_EQ(UNWIND_RULE_CFA(r), UNWIND_CFA_RSP);
		if (UNWIND_RULE_CFA_OFF(r) > deepest)
			deepest = UNWIND_RULE_CFA_OFF(r);
	}
	EXPECT(deepest >= 40); /* four pushes at least, on the return address */
	EXPECT_EQ(rule_at(t, lo), UNWIND_RULE(UNWIND_CFA_RSP, 8, false, 0));
	EXPECT_EQ(t->n_fp_fdes, 0);
	expect_sorted_and_merged(t);
out:
	unwind_table__free(t);
}

/* Without frame pointers nothing is left out, not even the functions with
 * no frame at all: a frameless function may call others. */
TEST(auto_keeps_functions_without_frame_pointer)
{
	struct unwind_table *full = build_ok("nofp", true), *aut = build_ok("nofp", false);
	uint64_t lo, hi;

	if (!full || !aut || !function_range("nofp", "no_frame_caller", &lo, &hi))
		goto out;
	for (uint64_t a = lo; a < hi; a++)
		EXPECT_EQ(rule_at(aut, a), UNWIND_RULE(UNWIND_CFA_RSP, 8, false, 0));
	EXPECT(function_range("nofp", "sink", &lo, &hi));
	EXPECT_EQ(rule_at(aut, lo), UNWIND_RULE(UNWIND_CFA_RSP, 8, false, 0));
	expect_rows_as_readelf(aut, "nofp", "pusher");
	EXPECT_EQ(aut->n_fp_fdes, 0);
	EXPECT_EQ(aut->n_fdes, full->n_fdes);
	EXPECT_EQ(aut->n_rows, full->n_rows);
	EXPECT(memcmp(aut->rows, full->rows, unwind_table__bytes(full)) == 0);
	expect_sorted_and_merged(aut);
out:
	unwind_table__free(full);
	unwind_table__free(aut);
}

static void expect_left_out(const struct unwind_table *t, const char *path, const char *name)
{
	uint64_t lo, hi;

	if (!function_range(path, name, &lo, &hi))
		return;
	for (uint64_t a = lo; a < hi; a++)
		EXPECT_EQ(rule_at(t, a), UNWIND_RULE(UNWIND_CFA_NONE, 0, false, 0));
}

TEST(auto_leaves_frame_pointer_functions_out)
{
	struct unwind_table *full = build_ok("fp", true), *aut = build_ok("fp", false);
	uint64_t lo, hi;
	bool rbp_rows = false;

	if (!full || !aut || !function_range("fp", "pusher", &lo, &hi))
		goto out;
	expect_rows_as_readelf(full, "fp", "pusher");
	for (uint64_t a = lo; a < hi; a++)
		rbp_rows |= rule_at(full, a) == UNWIND_RULE(UNWIND_CFA_RBP, 16, true, -2);
	EXPECT(rbp_rows);
	expect_left_out(aut, "fp", "pusher");
	expect_left_out(aut, "fp", "no_frame_caller");
	expect_left_out(aut, "fp", "main");
	/* A leaf that sets up no frame even here keeps its row. */
	EXPECT(function_range("fp", "sink", &lo, &hi));
	EXPECT_EQ(rule_at(aut, lo), UNWIND_RULE(UNWIND_CFA_RSP, 8, false, 0));
	/* Kept too: _start (outermost) and the PLT. */
	EXPECT_EQ(aut->n_fp_fdes, 3);
	EXPECT_EQ(aut->n_fdes, full->n_fdes);
	EXPECT(range_has(aut, aut->base, aut->base + aut->rows[aut->n_rows - 1].pc, UNWIND_CFA_STOP));
	EXPECT(range_has(aut, aut->base, aut->base + aut->rows[aut->n_rows - 1].pc, UNWIND_CFA_PLT));
	expect_sorted_and_merged(aut);
out:
	unwind_table__free(full);
	unwind_table__free(aut);
}

TEST(reads_debug_frame)
{
	struct unwind_table *t = build_ok("debug_frame", true), *eh = build_ok("nofp", true);

	if (!t || !eh)
		goto out;
	EXPECT(expect_rows_as_readelf(t, "debug_frame", "pusher") >= 6);
	expect_rows_as_readelf(t, "debug_frame", "main");
	/* The same code as nofp: the same FDEs, from the other section. */
	EXPECT_EQ(t->n_fdes, eh->n_fdes);
	expect_sorted_and_merged(t);
out:
	unwind_table__free(t);
	unwind_table__free(eh);
}

TEST(object_without_cfi_has_no_rows)
{
	struct unwind_table *t = build_ok("nocfi.so", true);

	if (!t)
		return;
	EXPECT_EQ(t->n_rows, 0);
	EXPECT(t->rows == NULL);
	EXPECT_EQ(t->n_fdes, 0);
	EXPECT_EQ(unwind_table__bytes(t), 0);
	unwind_table__free(t);
}

/* The runtime address of glibc's signal restorer (__restore_rt, a local
 * symbol) as a link-time address of the libc this process runs. */
static bool restorer_of_libc(uint64_t *vaddr, const char **libc_path)
{
	struct sigaction sa = { .sa_handler = SIG_IGN }, old;
	struct link_map *lm = NULL;
	Dl_info info;

	if (sigaction(SIGUSR2, &sa, NULL) < 0 || sigaction(SIGUSR2, NULL, &old) < 0 ||
	    !old.sa_restorer)
		return false;
	if (!dladdr1((void *)old.sa_restorer, &info, (void **)&lm, RTLD_DL_LINKMAP) || !lm)
		return false;
	*vaddr = (uint64_t)old.sa_restorer - lm->l_addr;
	*libc_path = lm->l_name;
	return strstr(lm->l_name, "libc.so.6") != NULL;
}

static bool section_range(const char *path, const char *name, uint64_t *lo, uint64_t *hi)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *elf = NULL;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	size_t shstrndx;
	bool found = false;

	if (fd >= 0 && elf_version(EV_CURRENT) != EV_NONE)
		elf = elf_begin(fd, ELF_C_READ, NULL);
	if (elf && elf_getshdrstrndx(elf, &shstrndx) == 0)
		while (!found && (scn = elf_nextscn(elf, scn)))
			found = gelf_getshdr(scn, &sh) &&
				strcmp(elf_strptr(elf, shstrndx, sh.sh_name), name) == 0;
	if (found) {
		*lo = sh.sh_addr;
		*hi = sh.sh_addr + sh.sh_size;
	}
	elf_end(elf);
	if (fd >= 0)
		close(fd);
	return found;
}

TEST(libc_special_rules)
{
	const char *libc = NULL;
	struct unwind_table *t = NULL;
	uint64_t restorer = 0, lo = 0, hi = 0;

	EXPECT(restorer_of_libc(&restorer, &libc));
	if (!libc)
		return;
	EXPECT_EQ(build(libc, true, NULL, &t), 0);
	if (!t)
		return;
	/* Its FDE starts one byte early, at the nop before it. */
	EXPECT_EQ(rule_at(t, restorer), UNWIND_RULE(UNWIND_CFA_SIGNAL, 0, false, 0));
	EXPECT_EQ(rule_at(t, restorer - 1), UNWIND_RULE(UNWIND_CFA_SIGNAL, 0, false, 0));
	/* PLT0 pushes, then every stub: rsp + 8, + 8 from byte 11 (after its push). */
	EXPECT(section_range(libc, ".plt", &lo, &hi));
	EXPECT_EQ(rule_at(t, lo), UNWIND_RULE(UNWIND_CFA_RSP, 16, false, 0));
	EXPECT_EQ(rule_at(t, lo + 6), UNWIND_RULE(UNWIND_CFA_RSP, 24, false, 0));
	EXPECT_EQ(rule_at(t, lo + 16), UNWIND_RULE(UNWIND_CFA_PLT, 8, false, 11));
	EXPECT_EQ(rule_at(t, hi - 1), UNWIND_RULE(UNWIND_CFA_PLT, 8, false, 11));
	/* The child's side of clone: the return address is undefined. */
	EXPECT(function_range(libc, "clone", &lo, &hi));
	EXPECT(range_has(t, lo, hi, UNWIND_CFA_STOP));
	/* setcontext switches the CFA to rdx; vfork keeps the return address in a register. */
	EXPECT(function_range(libc, "setcontext", &lo, &hi));
	EXPECT(range_has(t, lo, hi, UNWIND_CFA_UNSUPPORTED));
	EXPECT(function_range(libc, "vfork", &lo, &hi));
	EXPECT(range_has(t, lo, hi, UNWIND_CFA_UNSUPPORTED));
	EXPECT_EQ(rule_at(t, lo), UNWIND_RULE(UNWIND_CFA_RSP, 8, false, 0));
	/* ../shared/notes/unwinding.md: 3,713 FDEs, 24,871 rows + 3,404 end markers. */
	EXPECT(t->n_fdes > 3000 && t->n_fdes < 4500);
	EXPECT(t->n_rows > 24000 && t->n_rows < 33000);
	EXPECT(t->n_unsupported > 0 && t->n_unsupported < 50);
	EXPECT_EQ(t->n_fp_fdes, 0);
	expect_sorted_and_merged(t);
	unwind_table__free(t);
}

TEST(libc_auto_mode)
{
	const char *libc = NULL;
	struct unwind_table *full = NULL, *aut = NULL;
	uint64_t restorer;

	EXPECT(restorer_of_libc(&restorer, &libc));
	if (!libc)
		return;
	EXPECT_EQ(build(libc, true, NULL, &full), 0);
	EXPECT_EQ(build(libc, false, NULL, &aut), 0);
	if (!full || !aut)
		goto out;
	EXPECT_EQ(rule_at(aut, restorer), UNWIND_RULE(UNWIND_CFA_SIGNAL, 0, false, 0));
	EXPECT_EQ(aut->n_fdes, full->n_fdes);
	EXPECT(aut->n_fp_fdes > 0 && aut->n_fp_fdes < aut->n_fdes);
	EXPECT(aut->n_rows < full->n_rows);
	EXPECT_EQ(aut->n_unsupported, full->n_unsupported);
	expect_sorted_and_merged(aut);
out:
	unwind_table__free(full);
	unwind_table__free(aut);
}

TEST(errors)
{
	static struct unwind_table untouched;
	struct unwind_table *t = &untouched; /* stays as it was */
	volatile bool cancel = true;

	EXPECT(fixture());
	/* An ELF file for another machine (EM_ARM in e_machine). */
	EXPECT_EQ(build("arm", true, NULL, &t), -ENOEXEC);
	EXPECT_EQ(build("nofp", true, &cancel, &t), -ECANCELED);
	EXPECT_EQ(build("nofp", false, &cancel, &t), -ECANCELED);
	EXPECT(t == &untouched);
	unwind_table__free(NULL);
	EXPECT_EQ(unwind_table__bytes(NULL), 0);
}

/* unwind_fde_covering on the file at path, and the function name's
 * symbol there: the FDE of a C function covers exactly its symbol. */
static void expect_fde_is_function(const char *path, const char *name)
{
	uint64_t lo = 1, hi = 2;
	struct elf_symbol sym = { 0 };
	struct elf_object *o = NULL;

	EXPECT_EQ(elf_object__open(AT_FDCWD, path, &o), 0);
	if (!o)
		return;
	EXPECT_EQ(elf_object__find_function(o, name, ELF_SYMTAB_ANY, &sym), 0);
	EXPECT_EQ(unwind_fde_covering(elf_object__elf(o), sym.vaddr + sym.size / 2, &lo, &hi), 0);
	EXPECT_EQ(lo, sym.vaddr);
	EXPECT_EQ(hi, sym.vaddr + sym.size);
	EXPECT_EQ(unwind_fde_covering(elf_object__elf(o), sym.vaddr, &lo, &hi), 0);
	EXPECT_EQ(lo, sym.vaddr);
	elf_object__free(o);
}

TEST(fde_covering_bounds_a_function)
{
	struct elf_object *o = NULL;
	uint64_t lo = 7, hi = 8;

	EXPECT(fixture());
	expect_fde_is_function("nofp", "pusher");
	expect_fde_is_function("fp", "no_frame_caller");
	/* No FDE covers address 0 (the ELF header), nor anything in an
	 * object without CFI; another machine's file is refused. */
	EXPECT_EQ(elf_object__open_headers(AT_FDCWD, "nofp", &o), 0);
	if (o)
		EXPECT_EQ(unwind_fde_covering(elf_object__elf(o), 0, &lo, &hi), -ENOENT);
	elf_object__free(o);
	EXPECT_EQ(elf_object__open_headers(AT_FDCWD, "nocfi.so", &o), 0);
	if (o)
		EXPECT_EQ(unwind_fde_covering(elf_object__elf(o), 0x1000, &lo, &hi), -ENOENT);
	elf_object__free(o);
	EXPECT_EQ(elf_object__open_headers(AT_FDCWD, "arm", &o), 0);
	if (o)
		EXPECT_EQ(unwind_fde_covering(elf_object__elf(o), 0x1000, &lo, &hi), -ENOEXEC);
	elf_object__free(o);
	EXPECT_EQ(lo, 7);
	EXPECT_EQ(hi, 8);
}

RUN_TESTS("unwind_table", T(pushes_give_rsp_rows_as_readelf),
	  T(auto_keeps_functions_without_frame_pointer), T(auto_leaves_frame_pointer_functions_out),
	  T(reads_debug_frame), T(object_without_cfi_has_no_rows), T(libc_special_rules),
	  T(libc_auto_mode), T(fde_covering_bounds_a_function), T(errors))
