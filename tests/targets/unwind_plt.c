/* unwind_plt.c - a leak from a signal that interrupts a PLT stub, in code
 * without frame pointers (-O2 -g -fomit-frame-pointer -Wl,-z,lazy,
 * TARGET_FLAGS_unwind_plt). A PLT stub is only ever a non-leaf frame when
 * something interrupts it: this target makes its own GOT unreadable, so
 * the stub's `jmp *GOT(%rip)` faults, and the SIGSEGV handler leaks. The
 * unwinder must take the stub's CFA expression (.eh_frame's PLT rule) to
 * get from the interrupted stub to its caller.
 *
 * Per call: call_through_plt() calls getppid through its PLT stub with the
 * GOT's pages PROT_NONE; on_sigsegv calls plt_leak: malloc(2323), kept,
 * and makes the pages readable again, so the jmp runs when the handler
 * returns. The stack is
 *
 *   plt_leak <- on_sigsegv <- __restore_rt (signal frame)
 *       <- getppid@plt (the interrupted stub) <- call_through_plt
 *       <- run_plt <- main
 *
 * 15 blocks of 2323 bytes, 34845 bytes. Totals: outstanding_allocs 15,
 * outstanding_bytes 34845, allocs 15, frees 0, unknown_frees 0.
 *
 * The GOT's pages hold this program's globals too, so from protect_got()
 * to the handler's return nothing touches a global: what the handler
 * needs is thread-local (addressed through %fs, not the GOT).
 */
#include "target.h"

#include <link.h>
#include <sys/mman.h>

#define PLT_CALLS 15
#define PLT_SIZE 2323

struct got_pages {
	void *start;
	size_t len;
	void *(*malloc)(size_t);
	int (*mprotect)(void *, size_t, int);
	unsigned int nkept;
	void *kept[PLT_CALLS];
};

static __thread struct got_pages got;

/* This program's .got.plt: DT_PLTGOT, three reserved slots, one per
 * DT_PLTRELSZ relocation. */
static int find_got(struct dl_phdr_info *info, size_t size, void *data)
{
	const ElfW(Phdr) *ph = info->dlpi_phdr;
	uintptr_t start = 0, relsz = 0, page = (uintptr_t)sysconf(_SC_PAGESIZE);

	(void)size;
	(void)data;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		if (ph[i].p_type != PT_DYNAMIC)
			continue;
		for (const ElfW(Dyn) *d = (void *)(info->dlpi_addr + ph[i].p_vaddr); d->d_tag != DT_NULL; d++) {
			if (d->d_tag == DT_PLTGOT)
				start = d->d_un.d_ptr;
			else if (d->d_tag == DT_PLTRELSZ)
				relsz = d->d_un.d_val;
		}
	}
	if (!start)
		target_die("no DT_PLTGOT");
	got.start = (void *)(start & ~(page - 1));
	got.len = ((start + 8 * (3 + relsz / sizeof(ElfW(Rela))) + page - 1) & ~(page - 1)) -
		  (uintptr_t)got.start;
	return 1; /* the first object is the program */
}

__attribute__((noipa)) static void plt_leak(void)
{
	volatile char pad[24];

	pad[0] = 1;
	got.kept[got.nkept++ % PLT_CALLS] = got.malloc(PLT_SIZE + pad[0] - 1);
}

static void on_sigsegv(int sig, siginfo_t *info, void *uctx)
{
	(void)sig;
	(void)uctx;
	if ((char *)info->si_addr < (char *)got.start ||
	    (char *)info->si_addr >= (char *)got.start + got.len)
		abort();
	plt_leak();
	if (got.mprotect(got.start, got.len, PROT_READ | PROT_WRITE))
		abort();
}

__attribute__((noipa)) static void protect_got(void)
{
	if (mprotect(got.start, got.len, PROT_NONE))
		target_die("mprotect");
}

__attribute__((noipa)) static pid_t call_through_plt(void)
{
	protect_got();
	return getppid();
}

__attribute__((noipa)) static void run_plt(void)
{
	for (int i = 0; i < PLT_CALLS; i++)
		if (call_through_plt() <= 0)
			target_die("getppid");
}

int main(void)
{
	struct sigaction action = { .sa_sigaction = on_sigsegv, .sa_flags = SA_SIGINFO };

	sigemptyset(&action.sa_mask);
	if (sigaction(SIGSEGV, &action, NULL))
		target_die("sigaction");
	dl_iterate_phdr(find_got, NULL);
	got.malloc = malloc;
	got.mprotect = mprotect;
	/* Bind getppid now: lazy binding's first call would write the GOT. */
	if (getppid() <= 0)
		target_die("getppid");
	target_ready();
	target_wait_start();
	run_plt();
	target_done();
	target_idle();
	return 0;
}
