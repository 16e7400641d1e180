/* unwind_signal.c - a leak from inside a signal handler, in code without
 * frame pointers (-O2 -g -fomit-frame-pointer, TARGET_FLAGS_unwind_signal):
 * the unwinder meets the kernel's signal frame (glibc's __restore_rt) and
 * must not crash or make up frames.
 *
 * SIGUSR2 (not blocked by target.h) runs on_sigusr2, which calls
 * signal_leak: malloc(1717), kept. After SIGUSR1, run_signals() (called
 * from main) calls send_signal() SIGNALS times, which raise()s SIGUSR2: the
 * handler runs on the same stack, above the frames of raise(). So the
 * stack is
 *
 *   signal_leak <- on_sigusr2 <- __restore_rt (signal frame)
 *       <- [raise's internals in libc] <- send_signal <- run_signals
 *       <- main
 *
 * 20 blocks of 1717 bytes, 34340 bytes. Totals: outstanding_allocs 20,
 * outstanding_bytes 34340, allocs 20, frees 0, unknown_frees 0.
 */
#include "target.h"

#define SIGNALS 20
#define SIGNAL_SIZE 1717

static volatile unsigned long signal_sink;

__attribute__((noipa)) static void signal_leak(int sig)
{
	volatile char pad[40];

	pad[0] = (char)sig;
	target_keep(malloc(SIGNAL_SIZE));
	signal_sink += pad[0];
}

__attribute__((noipa)) static void on_sigusr2(int sig)
{
	unsigned long a = sig * 3UL, b = sig ^ 0x22UL;

	signal_leak(sig);
	signal_sink += a * b;
}

__attribute__((noipa)) static void send_signal(int i)
{
	volatile char pad[100];

	pad[i % 100] = (char)i;
	if (raise(SIGUSR2))
		target_die("raise");
	signal_sink += pad[i % 100];
}

__attribute__((noipa)) static void run_signals(void)
{
	for (int i = 0; i < SIGNALS; i++)
		send_signal(i);
}

int main(void)
{
	struct sigaction action = { .sa_handler = on_sigusr2 };

	sigemptyset(&action.sa_mask);
	if (sigaction(SIGUSR2, &action, NULL))
		target_die("sigaction");
	target_ready();
	target_wait_start();
	run_signals();
	target_done();
	target_idle();
	return 0;
}
