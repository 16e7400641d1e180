/* uprobe_multi.c - BPF_LINK_CREATE with BPF_TRACE_UPROBE_MULTI through the
 * bpf() system call, with the kernel's attribute layout spelled out here:
 * Debian 12's headers predate it. */
#include "uprobe_multi.h"

#include <errno.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#define UPROBE_MULTI_RETURN 1 /* BPF_F_UPROBE_MULTI_RETURN */

/* The link_create member of union bpf_attr, for uprobe_multi. */
struct uprobe_multi_attr {
	uint32_t prog_fd;
	uint32_t target_fd;
	uint32_t attach_type;
	uint32_t flags;
	uint64_t path;
	uint64_t offsets;
	uint64_t ref_ctr_offsets;
	uint64_t cookies;
	uint32_t cnt;
	uint32_t multi_flags;
	uint32_t pid;
};

bool uprobe_multi_supported(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	const struct btf_type *type;
	const struct btf_enum *e;
	bool found = false;
	int id;

	if (!btf)
		return false;
	id = btf__find_by_name_kind(btf, "bpf_attach_type", BTF_KIND_ENUM);
	type = id > 0 ? btf__type_by_id(btf, id) : NULL;
	e = type ? btf_enum(type) : NULL;
	for (int i = 0; e && i < btf_vlen(type) && !found; i++)
		found = !strcmp(btf__name_by_offset(btf, e[i].name_off), "BPF_TRACE_UPROBE_MULTI") &&
			e[i].val == UPROBE_MULTI_ATTACH_TYPE;
	btf__free(btf);
	return found;
}

int uprobe_multi_attach(int prog_fd, int pid, const char *path, const uint64_t *offsets,
			const uint64_t *cookies, size_t n, bool retprobe)
{
	union {
		struct uprobe_multi_attr multi;
		union bpf_attr attr;
	} a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.multi = (struct uprobe_multi_attr){
		.prog_fd = (uint32_t)prog_fd,
		.attach_type = UPROBE_MULTI_ATTACH_TYPE,
		.path = (uint64_t)(uintptr_t)path,
		.offsets = (uint64_t)(uintptr_t)offsets,
		.cookies = (uint64_t)(uintptr_t)cookies,
		.cnt = (uint32_t)n,
		.multi_flags = retprobe ? UPROBE_MULTI_RETURN : 0,
		.pid = (uint32_t)pid,
	};
	fd = (int)syscall(SYS_bpf, BPF_LINK_CREATE, &a.attr, sizeof(a.attr));
	return fd < 0 ? -errno : fd;
}
