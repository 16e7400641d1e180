/* fuzz.h - what the fuzz harnesses share. Each tests/fuzz/fuzz_NAME.c
 * defines LLVMFuzzerTestOneInput, the entry point libFuzzer calls with one
 * input; `make fuzz` links it with libFuzzer, `make check` with replay.c,
 * which feeds it every file of tests/fuzz/corpus/NAME. A harness checks
 * what the code under test promises with FUZZ_CHECK: a broken promise
 * aborts, and the fuzzer keeps the input that broke it, as it keeps one
 * that a sanitizer stopped. */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond)                                                          \
	do {                                                                      \
		if (!(cond)) {                                                    \
			fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                  \
		}                                                                 \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads a little-endian integer of n bytes (up to 8) from the front of
 * data[0..*size), 0 for bytes past its end, and consumes them: the
 * harnesses draw their choices from the input this way. */
static inline uint64_t fuzz_take(const uint8_t **data, size_t *size, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		if (i < *size)
			v |= (uint64_t)(*data)[i] << (8 * i);
	n = n < *size ? n : *size;
	*data += n;
	*size -= n;
	return v;
}

#endif
