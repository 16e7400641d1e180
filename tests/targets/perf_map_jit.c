/* perf_map_jit.c - a JIT that names its code the way V8, LuaJIT and the JVM
 * agents do: in /tmp/perf-PID.map, one "START SIZE name" line (hex) per
 * function. target_jit_stub()'s stub, in an anonymous executable page,
 * calls jit_leak: malloc(JIT_SIZE), kept, JIT_COUNT times after
 * SIGUSR1. The stack is
 *
 *   jit_leak <- JIT_NAME [anon]
 *
 * 25 x 3131 = 78275 bytes. The map is written after "ready", before the
 * work, with a malformed line and an entry for the code before the stub;
 * it is left behind for the test to remove (target_idle() exits).
 */
#include <sys/mman.h>

#include "target.h"

#define JIT_COUNT 25
#define JIT_SIZE 3131
#define JIT_NAME "LazyCompile:~leakyHandler app.js:42"

__attribute__((noinline)) static void jit_leak(void)
{
	target_keep(malloc(JIT_SIZE));
}

/* The stub sits 0x100 into the page, after the code of another entry. */
static unsigned char *write_stub(void (*fn)(void))
{
	unsigned char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (code == MAP_FAILED)
		target_die("mmap");
	target_jit_stub(code + 0x100, fn);
	return code;
}

static void write_perf_map(const unsigned char *code)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
	f = fopen(path, "w");
	if (!f)
		target_die("perf map");
	fprintf(f, "%lx 100 Builtin:Other\n", (unsigned long)code);
	fprintf(f, "this line is not an entry\n");
	fprintf(f, "%lx 20 %s\n", (unsigned long)code + 0x100, JIT_NAME);
	if (fclose(f))
		target_die("perf map");
}

__attribute__((noinline)) static void run_jit(void (*stub)(void))
{
	for (int i = 0; i < JIT_COUNT; i++)
		stub();
}

int main(void)
{
	unsigned char *code;

	target_ready();
	code = write_stub(jit_leak);
	write_perf_map(code);
	target_wait_start();
	run_jit((void (*)(void))(void *)(code + 0x100));
	target_done();
	target_idle();
	return 0;
}
