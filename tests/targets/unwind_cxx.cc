/* unwind_cxx.cc - C++ leaks whose allocation happens inside libstdc++, in
 * code without frame pointers, for DWARF unwinding.
 *
 * Built with g++ -O2 -g -fomit-frame-pointer (its own rule in the
 * Makefile). Debian builds libstdc++ without frame pointers too, so even
 * an application with frame pointers loses its stack at operator new. The
 * functions the tests look for are extern "C" (plain names: the symbolizer
 * does not demangle yet) and noipa (not inlined, cloned or merged).
 *
 * After SIGUSR1, run_cxx() (called from main) makes three leaks:
 *
 *   _Znwm <- make_widget <- leak_widgets <- run_cxx <- main
 *       40 x new Widget (sizeof(Widget) == 96, checked below): 3840 bytes
 *   _Znwm <- ..._M_create.. <- ...reserve.. <- reserve_strings <- run_cxx
 *       <- main
 *       30 x std::string::reserve(1000) on an empty string: capacity 1000,
 *       a block of 1001 bytes; the 999 characters appended after fit
 *       in it: 30030 bytes
 *   _Znwm <- ..._M_create.. <- ..._M_mutate.. <- ..._M_append.. <-
 *   grow_strings <- run_cxx <- main
 *       20 strings grown by 100 appends of 10 characters: libstdc++ doubles
 *       the capacity, 15 (in place) -> 30 -> 60 -> ... -> 1920, so each
 *       string allocates 31, 61, 121, 241, 481, 961 and 1921 bytes and
 *       frees all but the last: 20 x 1921 = 38420 bytes outstanding,
 *       140 allocations, 120 frees
 *
 * (_Znwm is operator new(unsigned long), in libstdc++; between it and the
 * target's function the frames are libstdc++'s and mangled.) The strings
 * live in static arrays, constructed empty (no allocation) before main.
 * Totals: outstanding_allocs 90, outstanding_bytes 72290, allocs 40 + 30
 * + 140 = 210, frees 120, unknown_frees 0. Each function allocates blocks
 * of sizes no other does, so a debugger can stop on the first of them.
 */
#include <string>

#include "target.h"

#define WIDGETS 40
#define RESERVED 30
#define RESERVE_SIZE 1000
#define GROWN 20
#define GROW_STEPS 100

struct Widget {
	long id;
	double weight;
	char name[80];
};
static_assert(sizeof(Widget) == 96, "Widget is 96 bytes");

static std::string reserved[RESERVED];
static std::string grown[GROWN];

extern "C" {

__attribute__((noipa)) Widget *make_widget(long id)
{
	Widget *w = new Widget;

	w->id = id;
	w->weight = id * 1.5;
	w->name[0] = '\0';
	return w;
}

__attribute__((noipa)) void leak_widgets(void)
{
	for (long i = 0; i < WIDGETS; i++)
		target_keep(make_widget(i));
}

__attribute__((noipa)) void reserve_strings(void)
{
	for (int i = 0; i < RESERVED; i++) {
		reserved[i].reserve(RESERVE_SIZE);
		reserved[i].append(RESERVE_SIZE - 1, 'r');
	}
}

__attribute__((noipa)) void grow_strings(void)
{
	for (int i = 0; i < GROWN; i++)
		for (int step = 0; step < GROW_STEPS; step++)
			grown[i].append("0123456789", 10);
}

/* Counted after the last call, which would otherwise be a tail call: a
 * jump leaves no frame of run_cxx on the stack (gdb shows one anyway,
 * rebuilt from the DWARF call-site information). */
static volatile int runs;

__attribute__((noipa)) void run_cxx(void)
{
	leak_widgets();
	reserve_strings();
	grow_strings();
	runs++;
}

}

int main(void)
{
	target_ready();
	target_wait_start();
	run_cxx();
	target_done();
	target_idle();
	return 0;
}
