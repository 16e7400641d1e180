/* uprobe_multi.c - BPF_LINK_CREATE with BPF_TRACE_UPROBE_MULTI or
 * BPF_TRACE_UPROBE_SESSION through the bpf() system call, with the
 * kernel's attribute layout spelled out here: Debian 12's headers predate
 * it. Both take the same attributes. */
#include "probes/uprobe_multi.h"

#include <errno.h>
#include <linux/bpf.h>
#include <stdbool.h>
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

/* Does the kernel's enum bpf_attach_type have name, with this value? */
static bool has_attach_type(const struct btf *btf, const struct btf_type *type,
			    const char *name, uint32_t value)
{
	const struct btf_enum *e = btf_enum(type);

	for (int i = 0; i < btf_vlen(type); i++)
		if (!strcmp(btf__name_by_offset(btf, e[i].name_off), name))
			return (uint32_t)e[i].val == value;
	return false;
}

enum uprobe_links uprobe_links_supported(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	const struct btf_type *type;
	enum uprobe_links links = UPROBE_LINKS_NONE;
	int id;

	if (!btf)
		return links;
	id = btf__find_by_name_kind(btf, "bpf_attach_type", BTF_KIND_ENUM);
	type = id > 0 ? btf__type_by_id(btf, id) : NULL;
	if (type && has_attach_type(btf, type, "BPF_TRACE_UPROBE_MULTI", UPROBE_MULTI_ATTACH_TYPE))
		links = has_attach_type(btf, type, "BPF_TRACE_UPROBE_SESSION",
					UPROBE_SESSION_ATTACH_TYPE) ?
			UPROBE_LINKS_SESSION : UPROBE_LINKS_MULTI;
	btf__free(btf);
	return links;
}

int uprobe_multi_attach(int prog_fd, int pid, const char *path, const uint64_t *offsets,
			const uint64_t *cookies, size_t n, enum uprobe_link_kind kind)
{
	union {
		struct uprobe_multi_attr multi;
		union bpf_attr attr;
	} a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.multi = (struct uprobe_multi_attr){
		.prog_fd = (uint32_t)prog_fd,
		.attach_type = kind == UPROBE_LINK_SESSION ? UPROBE_SESSION_ATTACH_TYPE :
			       UPROBE_MULTI_ATTACH_TYPE,
		.path = (uint64_t)(uintptr_t)path,
		.offsets = (uint64_t)(uintptr_t)offsets,
		.cookies = (uint64_t)(uintptr_t)cookies,
		.cnt = (uint32_t)n,
		.multi_flags = kind == UPROBE_LINK_RETURN ? UPROBE_MULTI_RETURN : 0,
		.pid = (uint32_t)pid,
	};
	fd = (int)syscall(SYS_bpf, BPF_LINK_CREATE, &a.attr, sizeof(a.attr));
	return fd < 0 ? -errno : fd;
}
