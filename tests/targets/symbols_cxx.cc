/* symbols_cxx.cc - C++ leaks for symbolization: namespaced,
 * templated and const member functions whose names must come out
 * demangled, an always_inline chain whose calls must come out as frames of
 * their own, and leaks grown inside std::string and std::vector.
 *
 * Built with g++ -O2 -g (its own rule in the Makefile), as release builds
 * with debug info are: the compiler inlines what it likes, so the leaking
 * functions are noipa (not inlined, cloned or merged) and only the helpers
 * meant to be inlined are. Lines the tests look for carry a "LINE: name"
 * comment; the tests read their numbers from this file.
 *
 * After SIGUSR1, run_symbols() (called from main) makes six leaks; the
 * function named is the first frame of the target's own code in the stack
 * (above it: operator new and malloc, or std:: templates):
 *
 *   ns::Registry<int>::add(int)            25 x new Entry (56 bytes)  1400
 *   ns::Shape::clone() const               30 x new Shape (72 bytes)  2160
 *   double* ns::make_array<double, 24u>()  20 x new double[24]        3840
 *       (192 bytes each)
 *   ns::Pool::fill(unsigned long)          15 x malloc(333)           4995
 *       through ns::detail::grab and ns::detail::raw_alloc, both
 *       always_inline: frames raw_alloc (inlined) <- grab (inlined) <-
 *       Pool::fill, all at one address
 *   ns::Journal::write(int)                12 strings x 50 appends of 10
 *       characters: libstdc++ doubles the capacity, 15 (in place) -> 30 ->
 *       ... -> 960, so each string allocates 31, 61, 121, 241, 481 and 961
 *       bytes and frees all but the last: 12 x 961 = 11532 bytes, 72
 *       allocations, 60 frees
 *   ns::Series::record(int)                10 vectors x 100 push_back of a
 *       long: capacity 1 -> 2 -> ... -> 128, blocks of 8, 16, ..., 1024
 *       bytes, all but the last freed: 10 x 1024 = 10240 bytes, 80
 *       allocations, 70 frees
 *
 * Totals: outstanding_allocs 25 + 30 + 20 + 15 + 12 + 10 = 112,
 * outstanding_bytes 34167, allocs 25 + 30 + 20 + 15 + 72 + 80 = 242,
 * frees 130, unknown_frees 0. The objects, strings and vectors stay
 * reachable from static storage. Each leak allocates blocks of sizes no
 * other does, so a debugger can stop on one of them.
 */
#include <string>
#include <vector>

#include "target.h"

#define ENTRIES 25
#define SHAPES 30
#define ARRAYS 20
#define POOL_BLOCKS 15
#define POOL_BLOCK_SIZE 333
#define JOURNALS 12
#define JOURNAL_WRITES 50
#define SERIES 10
#define SAMPLES 100

namespace ns {

template <typename T> class Registry {
public:
	struct Entry {
		T value;
		Entry *next;
		char tag[40];
	};

	__attribute__((noipa)) void add(T value)
	{
		Entry *e = new Entry; // LINE: registry_new

		e->value = value;
		e->next = head_;
		e->tag[0] = '\0';
		head_ = e;
	}

private:
	Entry *head_ = nullptr;
};

/* Explicit instantiation: add() exists as ns::Registry<int>::add(int). */
template class Registry<int>;
static_assert(sizeof(Registry<int>::Entry) == 56, "Entry is 56 bytes");

class Shape {
public:
	explicit Shape(int sides) : sides_(sides) {}

	__attribute__((noipa)) Shape *clone() const
	{
		return new Shape(*this); // LINE: shape_clone
	}

private:
	int sides_;
	double corners[8] = {};
};
static_assert(sizeof(Shape) == 72, "Shape is 72 bytes");

/* The array is used after new[]: a bare "return new T[N]" is a jump to
 * operator new[], which leaves no frame of make_array on the stack. */
template <typename T, unsigned N> __attribute__((noipa)) T *make_array()
{
	T *a = new T[N]; // LINE: make_array_new

	a[0] = T();
	return a;
}

namespace detail {

/* Both helpers are inlined into Pool::fill: the allocation's return
 * address is in fill, inside two inlined calls. */
__attribute__((always_inline)) static inline void *raw_alloc(size_t n)
{
	return malloc(n); // LINE: raw_alloc_malloc
}

__attribute__((always_inline)) static inline void *grab(size_t n)
{
	void *p = raw_alloc(n); // LINE: grab_calls_raw_alloc

	if (!p)
		target_die("allocation failed");
	return p;
}

} // namespace detail

class Pool {
public:
	__attribute__((noipa)) void fill(size_t size)
	{
		for (int i = 0; i < POOL_BLOCKS; i++)
			blocks_[i] = detail::grab(size); // LINE: fill_calls_grab
	}

private:
	void *blocks_[POOL_BLOCKS];
};

class Journal {
public:
	__attribute__((noipa)) void write(int times)
	{
		for (int i = 0; i < times; i++)
			text_.append("0123456789", 10); // LINE: journal_append
	}

private:
	std::string text_;
};

class Series {
public:
	__attribute__((noipa)) void record(int count)
	{
		for (long i = 0; i < count; i++)
			samples_.push_back(i); // LINE: series_push
	}

private:
	std::vector<long> samples_;
};

} // namespace ns

static ns::Registry<int> registry;
static const ns::Shape square(4);
static ns::Pool pool;
static ns::Journal journals[JOURNALS];
static ns::Series series[SERIES];

__attribute__((noipa)) static void leak_named(void)
{
	for (int i = 0; i < ENTRIES; i++)
		registry.add(i);
	for (int i = 0; i < SHAPES; i++)
		target_keep(square.clone());
	for (int i = 0; i < ARRAYS; i++)
		target_keep(ns::make_array<double, 24>());
}

__attribute__((noipa)) static void leak_grown(void)
{
	for (int i = 0; i < JOURNALS; i++)
		journals[i].write(JOURNAL_WRITES);
	for (int i = 0; i < SERIES; i++)
		series[i].record(SAMPLES);
}

/* Counted after the last call, which would otherwise be a tail call (no
 * frame of run_symbols on the stack). */
static volatile int runs;

__attribute__((noipa)) static void run_symbols(void)
{
	leak_named();
	pool.fill(POOL_BLOCK_SIZE);
	leak_grown();
	runs++;
}

int main(void)
{
	target_ready();
	target_wait_start();
	run_symbols();
	target_done();
	target_idle();
	return 0;
}
