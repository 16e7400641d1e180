/* bench_forms.c - what a uprobe costs on each instruction form a function
 * may start with, for bench/emulation.py: the kernel emulates some forms
 * and single-steps the others out of line, at about five times the cost.
 *
 * Usage: bench_forms N [--wait]
 *
 * Each form_NAME function below starts with the instruction of its name
 * and then undoes what it did and returns; memleakd is attached with a
 * probe at each function's first byte (MEMLEAKD_PROBES_AT_ENTRY) and
 * programs that return at once (MEMLEAKD_EMPTY_PROBES), so the time a call
 * takes traced, less untraced, is the probe's. Every form is called N
 * times and one line per form is printed:
 *
 *   form NAME ns_per_call X.XX
 *
 * The functions are called with the address of form_return_here in %rdi,
 * which the indirect jump and call forms go to. With --wait, "ready <pid>"
 * first and SIGUSR1 to start (target.h).
 */
#include "target.h"

#include <stdbool.h>
#include <string.h>

/* Every form, as "name: bytes; what undoes them; ret". The names are the
 * functions' without form_. */
#define FORMS(X)                                                                         \
	X(push_rbp, ".byte 0x55; pop %rbp")                                              \
	X(push_r12, ".byte 0x41, 0x54; pop %r12")                                        \
	X(push_rex40_rbp, ".byte 0x40, 0x55; pop %rbp")                                  \
	X(push_rexw_rbp, ".byte 0x48, 0x55; pop %rbp")                                   \
	X(jmp_rel8, ".byte 0xeb, 0x00")                                                  \
	X(jmp_rel32, ".byte 0xe9, 0, 0, 0, 0")                                           \
	X(je_rel8, ".byte 0x74, 0x00")                                                   \
	X(je_rel32, ".byte 0x0f, 0x84, 0, 0, 0, 0")                                      \
	X(call_rel32, ".byte 0xe8; .long form_return_here - . - 4")                      \
	X(nop1, ".byte 0x90")                                                            \
	X(nop2, ".byte 0x66, 0x90")                                                      \
	X(nop3, ".byte 0x0f, 0x1f, 0x00")                                                \
	X(nop4, ".byte 0x0f, 0x1f, 0x40, 0x00")                                          \
	X(nop5, ".byte 0x0f, 0x1f, 0x44, 0x00, 0x00")                                    \
	X(nop6, ".byte 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00")                              \
	X(nop7, ".byte 0x0f, 0x1f, 0x80, 0, 0, 0, 0")                                    \
	X(nop8, ".byte 0x0f, 0x1f, 0x84, 0x00, 0, 0, 0, 0")                              \
	X(nop9_66, ".byte 0x66, 0x0f, 0x1f, 0x84, 0x00, 0, 0, 0, 0")                     \
	X(nop10_66_66, ".byte 0x66, 0x66, 0x0f, 0x1f, 0x84, 0x00, 0, 0, 0, 0")           \
	X(nop11_66_66_66, ".byte 0x66, 0x66, 0x66, 0x0f, 0x1f, 0x84, 0x00, 0, 0, 0, 0")  \
	X(nop4_sib, ".byte 0x0f, 0x1f, 0x04, 0x00")                                      \
	X(nop5_disp8, ".byte 0x0f, 0x1f, 0x44, 0x00, 0x08")                              \
	X(data16_data16_nop, ".byte 0x66, 0x66, 0x90")                                   \
	X(pause, ".byte 0xf3, 0x90")                                                     \
	X(xchg_eax_r8d, ".byte 0x41, 0x90; .byte 0x41, 0x90")                            \
	X(endbr64, ".byte 0xf3, 0x0f, 0x1e, 0xfa")                                       \
	X(test_rdi, "test %rdi, %rdi")                                                   \
	X(cmp_imm_rdi, "cmp $0x400, %rdi")                                               \
	X(cmpb_rip, "cmpb $0, form_return_here(%rip)")                                   \
	X(mov_rdi_rax, "mov %rdi, %rax")                                                 \
	X(mov_rip_rax, "mov form_return_here(%rip), %rax")                               \
	X(mov_fs_rax, "mov %fs:0, %rax")                                                 \
	X(mov_imm_eax, "mov $1, %eax")                                                   \
	X(sub_rsp, "sub $8, %rsp; add $8, %rsp")                                         \
	X(lea_rdi_rax, "lea 8(%rdi), %rax")                                              \
	X(xor_eax, "xor %eax, %eax")                                                     \
	X(ret, "")                                                                       \
	X(jmp_reg, "jmp *%rdi")                                                          \
	X(call_reg, "call *%rdi")

#define DEFINE_FORM(name, body)                                                          \
	__asm__(".text\n.globl form_" #name "\n.type form_" #name ", @function\n"        \
		".p2align 4\nform_" #name ":\n" body "\nret\n.size form_" #name              \
		", . - form_" #name "\n");
FORMS(DEFINE_FORM)
__asm__(".text\n.globl form_return_here\n.type form_return_here, @function\n"
	"form_return_here:\nret\n.size form_return_here, . - form_return_here\n");

#define DECLARE_FORM(name, body) void form_##name(void (*)(void));
FORMS(DECLARE_FORM)
void form_return_here(void);

static const struct {
	const char *name;
	void (*call)(void (*)(void));
} forms[] = {
#define LIST_FORM(name, body) { #name, form_##name },
	FORMS(LIST_FORM)
};

static void usage(void)
{
	fprintf(stderr, "usage: bench_forms N [--wait]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long n;
	bool wait = argc > 2 && !strcmp(argv[2], "--wait");

	if (argc < 2 || (argc > 2 && !wait) || argc > 3)
		usage();
	n = target_count(argv[1], usage);
	if (wait) {
		target_ready();
		target_wait_start();
	}
	for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
		double start = target_clock_ns(CLOCK_MONOTONIC);

		for (unsigned long i = 0; i < n; i++)
			forms[f].call(form_return_here);
		printf("form %s ns_per_call %.2f\n", forms[f].name,
		       (target_clock_ns(CLOCK_MONOTONIC) - start) / n);
	}
	fflush(stdout);
	return 0;
}
