/* config.h - everything the command line decides, in one struct. The parser
 * fills it and checks option combinations in one place; the rest of the
 * daemon reads it through a const pointer. */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "probes/alloc_spec.h"
#include "serve/listen_address.h"

/* How the BPF side walks user stacks (--unwind). */
enum unwind_mode {
	UNWIND_FP,    /* frame pointers only, the kernel's walk */
	UNWIND_DWARF, /* tables from the call-frame information of every function */
	UNWIND_AUTO,  /* tables for the functions that keep no frame pointer */
};

/* The most processes named by -p, and files and cgroups by --exe and
 * --cgroup. */
#define CONFIG_MAX_PIDS 64
#define CONFIG_MAX_WATCHED 8

struct config {
	int pids[CONFIG_MAX_PIDS]; /* -p, in the order given */
	size_t n_pids;
	const char *exes[CONFIG_MAX_WATCHED];    /* --exe (strings from argv) */
	size_t n_exes;
	const char *cgroups[CONFIG_MAX_WATCHED]; /* --cgroup (strings from argv) */
	size_t n_cgroups;
	char **command;       /* after --: the command to start and trace, NULL-ended
			       * (argv's), or NULL */
	bool fail_on_leak;    /* the exit status says whether leak suspects remained */
	uint64_t interval_ns;
	uint64_t duration_ns; /* 0: run until stopped */
	uint64_t min_age_ns;
	unsigned int top;
	uint32_t max_allocs;
	uint32_t max_stacks; /* distinct stacks the maps hold at once */
	const char *format; /* a report writer's name */
	const char *output; /* NULL: stdout; a directory: one file per report */
	unsigned int keep;  /* with an output directory: the newest reports kept (0: all) */
	bool inverted;      /* svg: icicle graph */
	unsigned int trend; /* intervals a stack's trend is judged over */
	bool no_demangle;   /* frames keep their symbols as the objects spell them */
	/* --debug-dir: roots searched for separate debug files before
	 * /usr/lib/debug, in order (strings from argv, the array malloc'd) */
	const char **debug_dirs;
	size_t n_debug_dirs;
	unsigned int verbose; /* -v: placements and sizes; -vv: libbpf's debug output too */
	bool quiet;           /* -q: warnings and errors only */
	enum unwind_mode unwind;
	uint32_t unwind_rows; /* capacity of the unwind tables (dwarf, auto) */
	uint64_t sample_bytes; /* --sample-bytes: mean bytes between samples, 0: track all */
	bool no_malloc;       /* trace only the custom specs, not the malloc family */
	bool no_mappings;     /* do not watch the process's anonymous memory mappings */
	struct alloc_specs specs; /* --alloc/--free/--realloc/--reset, then the presets' */
	bool listen;          /* --listen: serve the endpoints on listen_addr */
	struct listen_address listen_addr;
};

enum config_result {
	CONFIG_RUN,  /* trace with this configuration */
	CONFIG_EXIT, /* --help or --version was printed: exit 0 */
};

/* Parse argv into *cfg, loading the presets it names. Returns CONFIG_RUN or
 * CONFIG_EXIT, or -EINVAL (-ENOENT for a missing preset) with *error set to
 * a message naming the offending flag (malloc'd, the caller frees it), or
 * -ENOMEM. *cfg is filled only on CONFIG_RUN; config_clear releases it. */
int config_parse(int argc, char **argv, struct config *cfg, char **error);
void config_clear(struct config *cfg);

#endif
