/* trap_calibration.S - two functions memleakd probes on its own code to
 * time a uprobe's trap (src/probes/probe_cost.c): one whose first
 * instruction the kernel emulates (push %rbp), one whose first it must
 * single-step (mov). Written here so no compiler adds endbr64 or moves
 * them. */
	.text
	.globl	trap_calibration_emulated
	.type	trap_calibration_emulated, @function
trap_calibration_emulated:
	push	%rbp
	pop	%rbp
	ret
	.size	trap_calibration_emulated, . - trap_calibration_emulated

	.globl	trap_calibration_stepped
	.type	trap_calibration_stepped, @function
trap_calibration_stepped:
	mov	%rdi, %rax
	ret
	.size	trap_calibration_stepped, . - trap_calibration_stepped

	.section .note.GNU-stack, "", @progbits
