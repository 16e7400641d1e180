/* unwind_jit.c - an allocation called from code in anonymous memory, as a
 * JIT compiler's output calls into its runtime: no object, no table, no
 * symbol. The unwinder must stop there cleanly and count it.
 *
 * After SIGUSR1, main -> run_jit calls JIT_COUNT times a stub written into
 * an anonymous executable page, which calls jit_leak: malloc(JIT_SIZE),
 * kept. The stack is
 *
 *   jit_leak <- [anon]
 *
 * and ends there (unwind_anon_stops counts each of the 30 allocations):
 * 30 x 2121 = 63630 bytes. Nothing else is allocated after SIGUSR1.
 */
#include <sys/mman.h>

#include "target.h"

#define JIT_COUNT 30
#define JIT_SIZE 2121

__attribute__((noinline)) static void jit_leak(void)
{
	target_keep(malloc(JIT_SIZE));
}

static void (*write_stub(void (*fn)(void)))(void)
{
	unsigned char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (code == MAP_FAILED)
		target_die("mmap");
	return target_jit_stub(code, fn);
}

__attribute__((noinline)) static void run_jit(void (*stub)(void))
{
	for (int i = 0; i < JIT_COUNT; i++)
		stub();
}

int main(void)
{
	void (*stub)(void);

	target_ready();
	stub = write_stub(jit_leak);
	target_wait_start();
	run_jit(stub);
	target_done();
	target_idle();
	return 0;
}
