/* map_cleanup.c - delete from the BPF maps what a snapshot found they no
 * longer need. */
#include "snapshot/map_cleanup.h"

#include <errno.h>

#include <bpf/bpf.h>

int map_cleanup_retired(int stack_totals_fd, const struct stack_key *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (bpf_map_delete_elem(stack_totals_fd, &keys[i]) && errno != ENOENT)
			return -errno;
	return 0;
}

/* Deleted and read at once: if a reset came since the load, its time goes
 * back, unless a still newer reset has already put one there. */
static int forget_reset(uint64_t key, uint64_t reset_ns, void *ctx)
{
	int resets_fd = *(const int *)ctx;
	uint64_t now;

	if (bpf_map_lookup_and_delete_elem(resets_fd, &key, &now))
		return errno == ENOENT ? 0 : -errno;
	if (now != reset_ns && bpf_map_update_elem(resets_fd, &key, &now, BPF_NOEXIST) &&
	    errno != EEXIST)
		return -errno;
	return 0;
}

int map_cleanup_resets(int resets_fd, const struct context_resets *r)
{
	return context_resets__each_unneeded(r, forget_reset, &resets_fd);
}
