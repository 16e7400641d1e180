/* clock.h - the time memleakd and its BPF programs share: CLOCK_MONOTONIC,
 * which bpf_ktime_get_ns() reads too. */
#ifndef CLOCK_H
#define CLOCK_H

#include <stdint.h>

uint64_t monotonic_ns(void);

#endif
