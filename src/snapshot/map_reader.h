/* map_reader.h - read whole BPF maps from user space in batches, the way a
 * report needs them: every entry once, per-CPU values laid out CPU by CPU. */
#ifndef MAP_READER_H
#define MAP_READER_H

#include <stddef.h>
#include <stdint.h>

/* Called once per entry; value points to value_size bytes, or for per-CPU
 * maps to ncpus values, each rounded up to 8 bytes. Nonzero stops the walk. */
typedef int (*map_entry_fn)(const void *key, const void *value, void *ctx);

/* Walk every entry of the hash map fd with bpf_map_lookup_batch. value_size
 * is the size of the whole value as the syscall returns it. Returns 0, the
 * callback's nonzero return, or -errno. */
int map_read_all(int fd, size_t key_size, size_t value_size, map_entry_fn fn, void *ctx);

/* Bytes of one per-CPU value of value_size as lookups return it. */
size_t map_percpu_value_size(size_t value_size);
/* Number of possible CPUs (the per-CPU value count), or -errno. */
int map_ncpus(void);
/* The kernel memory map fd is charged, as /proc/self/fdinfo says
 * ("memlock"). Returns 0 and *bytes, or -errno (-ENOENT: no such line). */
int map_memlock(int fd, uint64_t *bytes);

#endif
