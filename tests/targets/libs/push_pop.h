/* push_pop.h - a function whose call-frame information has many rows, as
 * assembly for __asm__: PUSH_POP_FUNCTION(name, callee, pairs) defines
 * name(x), which runs pairs pairs of push %rbx; pop %rbx (each instruction
 * with its CFI: 4 x pairs rows), calls callee(x) at CFA = rsp + 16, runs as
 * many pairs again and returns what callee returned. pairs is a number
 * literal; callee must be called directly (defined in the same object,
 * not preemptible). */
#ifndef PUSH_POP_H
#define PUSH_POP_H

#define PUSH_POP_PAIRS(pairs)                                                      \
	"	.rept " #pairs "\n"                                                \
	"	push %rbx\n"                                                       \
	"	.cfi_adjust_cfa_offset 8\n"                                        \
	"	pop %rbx\n"                                                        \
	"	.cfi_adjust_cfa_offset -8\n"                                       \
	"	.endr\n"

#define PUSH_POP_FUNCTION(name, callee, pairs)                                     \
	".text\n"                                                                  \
	".globl " #name "\n"                                                       \
	".type " #name ", @function\n"                                             \
	#name ":\n"                                                                \
	"	.cfi_startproc\n"                                                  \
	PUSH_POP_PAIRS(pairs)                                                      \
	"	sub $8, %rsp\n"                                                    \
	"	.cfi_adjust_cfa_offset 8\n"                                        \
	"	call " #callee "\n"                                                \
	"	add $8, %rsp\n"                                                    \
	"	.cfi_adjust_cfa_offset -8\n"                                       \
	PUSH_POP_PAIRS(pairs)                                                      \
	"	ret\n"                                                             \
	"	.cfi_endproc\n"                                                    \
	".size " #name ", . - " #name "\n"

#endif
