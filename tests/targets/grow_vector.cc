/* grow_vector.cc - one std::vector that keeps growing, for the verdict on
 * buffers (tests/integration/snapshot/test_growing_buffers.py).
 *
 * libstdc++ grows a vector by allocating a block twice as large (operator
 * new), moving the elements and deleting the old block: the vector is one
 * allocation, never older than its last growth, that keeps getting larger.
 *
 * After SIGUSR1, half a phase's wait, then PHASES phases of PHASE_MS: the
 * first appends FIRST_ELEMENTS, each later one as many elements as the
 * vector holds, so every phase doubles it, half way between two reports
 * taken PHASE_MS apart. Its stack:
 *
 *   operator new <- (libstdc++'s allocate and _M_realloc_insert, in this
 *   program) <- push_back <- append_records <- grow_log <- main
 *
 * holds FIRST_ELEMENTS << (PHASES - 1) elements of 8 bytes at the end:
 * 1024 << 9 = 524288 elements, 4 MiB, in one allocation (capacity equals
 * size: doubling from a power of two). Each phase writes its elements, so
 * the process's resident memory grows with the vector.
 */
#include <cstdint>
#include <vector>

#include "target.h"

#define PHASES 10
#define PHASE_MS 1000
#define FIRST_ELEMENTS 1024

static std::vector<uint64_t> records;

extern "C" __attribute__((noipa)) void append_records(size_t n)
{
	for (size_t i = 0; i < n; i++)
		records.push_back(records.size() * 2654435761u);
}

/* How many elements a phase appends. Out of line, so that every phase
 * appends from the one call site: one stack. */
extern "C" __attribute__((noipa)) size_t phase_elements(void)
{
	return records.empty() ? FIRST_ELEMENTS : records.size();
}

extern "C" __attribute__((noipa)) void grow_log(void)
{
	target_sleep_ms(PHASE_MS / 2);
	for (int phase = 0; phase < PHASES; phase++) {
		append_records(phase_elements());
		target_sleep_ms(PHASE_MS);
	}
}

int main(void)
{
	target_ready();
	target_wait_start();
	grow_log();
	target_done();
	target_idle();
	return 0;
}
