/* config.c - the command line: flags, their defaults and their checks. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memleakd.h"
#include "probes/preset.h"
#include "report/report.h"
#include "snapshot/growth_rule.h"

#define MEMLEAKD_VERSION "0.1.0"
#define DEFAULT_MAX_ALLOCS (1u << 20)
/* Distinct stacks: the maps take memory only for those in use. */
#define DEFAULT_MAX_STACKS 16384
#define MIN_MAX_STACKS 64
#define MAX_MAX_STACKS (1u << 20)
/* The kernel caps a hash map well below 2^32 entries; this keeps the error
 * ours rather than an opaque -E2BIG at load. */
#define MAX_MAX_ALLOCS (1u << 30)
/* 8 MiB of unwind rows: libc, libstdc++ and postgres together take under
 * 150,000 (../shared/notes/unwinding.md). */
#define DEFAULT_UNWIND_ROWS (1u << 20)
#define MAX_UNWIND_ROWS (1u << UNWIND_MAX_ROWS_LOG2)
/* Mean bytes between samples: up to 1 TiB, far beyond any useful rate. */
#define MAX_SAMPLE_BYTES (1ULL << 40)
#define DEFAULT_TREND 6

static const char usage[] =
	"Usage: memleakd -p PID [-p PID...] [options]\n"
	"       memleakd --exe PATH | --cgroup PATH [options]\n"
	"       memleakd [options] -- COMMAND [ARGS...]\n"
	"       memleakd diff [-f text|json] [-n N] OLD NEW\n"
	"Trace a live process's heap and report the call stacks that hold memory\n"
	"allocated since attach and not yet freed; or compare two saved JSON\n"
	"reports (see memleakd diff -h).\n"
	"\n"
	"  -p, --pid PID           process to trace; repeatable, each reported apart\n"
	"      --exe PATH          trace every process running this executable, those\n"
	"                          started later too; repeatable\n"
	"      --cgroup PATH       trace the processes of this cgroup v2 subtree (with\n"
	"                          --exe: those of them running it); repeatable\n"
	"      --fail-on-leak      exit with status 3 when a final report suspects a\n"
	"                          leak (with -- COMMAND: when the command succeeded)\n"
	"  -i, --interval SECONDS  period between reports (default 10)\n"
	"  -d, --duration SECONDS  stop after this long, with a final report\n"
	"  -n, --top N             stacks per report (default 10)\n"
	"      --min-age SECONDS   only count allocations at least this old\n"
	"  -f, --format FMT        report format: text (default), json, folded,\n"
	"                          pprof or svg\n"
	"  -o, --output PATH       write reports to PATH instead of stdout; to a\n"
	"                          directory (PATH/ or an existing one): one file\n"
	"                          per report and a 'latest' link\n"
	"      --keep N            with -o DIR, keep only the N newest reports\n"
	"      --inverted          svg: icicle graph, the allocating leaf on top\n"
	"      --trend N           intervals a stack's trend is judged over\n"
	"                          (default 6)\n"
	"      --no-demangle       show C++ and Rust symbols as the objects spell them\n"
	"      --debug-dir DIR     look for separate debug files under DIR as under\n"
	"                          /usr/lib/debug (DIR/.build-id/xx/rest.debug, and\n"
	"                          DIR/<object's directory>/<debuglink>); repeatable,\n"
	"                          searched first. With DEBUGINFOD_URLS set, what no\n"
	"                          directory holds is fetched in the background\n"
	"      --max-allocs N      capacity of the outstanding-allocation map\n"
	"                          (default 1048576)\n"
	"      --max-stacks N      distinct stacks held at once (default 16384); the\n"
	"                          ids of stacks that hold nothing are reclaimed\n"
	"      --unwind MODE       how stacks are walked: fp (frame pointers), dwarf\n"
	"                          (.eh_frame tables for every function) or auto\n"
	"                          (tables where frame pointers are missing; default)\n"
	"      --unwind-rows N     capacity of the unwind tables, in 8-byte rows\n"
	"                          (default 1048576)\n"
	"      --sample-bytes N    track a sample of the allocations, one per N bytes\n"
	"                          allocated on average, and report estimates of the\n"
	"                          whole (default: all)\n"
	"      --no-mappings       do not watch the anonymous memory the process\n"
	"                          maps (mmap, mremap, brk, mprotect)\n"
	"      --listen [ADDR:]PORT\n"
	"                          serve /metrics (Prometheus), /debug/pprof/heap,\n"
	"                          /report.json and a live page at / over HTTP, on\n"
	"                          127.0.0.1 unless ADDR is given (IPv4, or [IPv6])\n"
	"\n"
	"Custom allocators (SPEC is SYMBOL[@MODULE][:key=N,...], arguments from 1):\n"
	"      --alloc SPEC        allocates: size=N, nmemb=N, out=N, ctx=N|@GLOBAL\n"
	"                          (default size=1, the pointer is the return value)\n"
	"      --free SPEC         frees: ptr=N (default 1)\n"
	"      --realloc SPEC      reallocates: ptr=N,size=N (default 1,2), nmemb=N\n"
	"      --reset SPEC        resets a context: ctx=N|@GLOBAL (default 1)\n"
	"      --create SPEC       creates a context, an allocation in its parent:\n"
	"                          parent=N|@GLOBAL, size=N, out=N\n"
	"      --delete SPEC       deletes a context: ctx=N|@GLOBAL (default 1)\n"
	"      --reparent SPEC     moves context ctx=N into parent=N|@GLOBAL\n"
	"                          (default 1, 2)\n"
	"      --preset NAME       add the specs of a preset (see --list-presets)\n"
	"      --symbol-prefix P   prefix the presets' symbols with P (e.g. _rjem_)\n"
	"      --no-malloc         do not trace the malloc family, only the specs\n"
	"                          (--no-libc is the same)\n"
	"      --list-presets      list the presets and exit\n"
	"\n"
	"  -q, --quiet             only warnings and errors on stderr: no listing of\n"
	"                          the probes, no attach line\n"
	"  -v, --verbose           say where each probe is placed, what the maps and\n"
	"                          unwind tables cost, how long each report took;\n"
	"                          twice: libbpf's log\n"
	"  -h, --help              show this help\n"
	"  -V, --version           show the version\n"
	"\n"
	"Counts and sizes (N) take a suffix: k or K (x1024), M (x1024^2), G (x1024^3).\n";

enum {
	OPT_MIN_AGE = 256,
	OPT_MAX_ALLOCS,
	OPT_MAX_STACKS,
	OPT_ALLOC,
	OPT_FREE,
	OPT_REALLOC,
	OPT_RESET,
	OPT_CREATE,
	OPT_DELETE,
	OPT_REPARENT,
	OPT_PRESET,
	OPT_SYMBOL_PREFIX,
	OPT_NO_MALLOC,
	OPT_LIST_PRESETS,
	OPT_UNWIND,
	OPT_UNWIND_ROWS,
	OPT_KEEP,
	OPT_INVERTED,
	OPT_TREND,
	OPT_NO_DEMANGLE,
	OPT_DEBUG_DIR,
	OPT_SAMPLE_BYTES,
	OPT_NO_MAPPINGS,
	OPT_LISTEN,
	OPT_EXE,
	OPT_CGROUP,
	OPT_FAIL_ON_LEAK,
};

static const struct option options[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "interval", required_argument, NULL, 'i' },
	{ "duration", required_argument, NULL, 'd' },
	{ "top", required_argument, NULL, 'n' },
	{ "min-age", required_argument, NULL, OPT_MIN_AGE },
	{ "format", required_argument, NULL, 'f' },
	{ "output", required_argument, NULL, 'o' },
	{ "keep", required_argument, NULL, OPT_KEEP },
	{ "inverted", no_argument, NULL, OPT_INVERTED },
	{ "trend", required_argument, NULL, OPT_TREND },
	{ "no-demangle", no_argument, NULL, OPT_NO_DEMANGLE },
	{ "debug-dir", required_argument, NULL, OPT_DEBUG_DIR },
	{ "max-allocs", required_argument, NULL, OPT_MAX_ALLOCS },
	{ "max-stacks", required_argument, NULL, OPT_MAX_STACKS },
	{ "alloc", required_argument, NULL, OPT_ALLOC },
	{ "free", required_argument, NULL, OPT_FREE },
	{ "realloc", required_argument, NULL, OPT_REALLOC },
	{ "reset", required_argument, NULL, OPT_RESET },
	{ "create", required_argument, NULL, OPT_CREATE },
	{ "delete", required_argument, NULL, OPT_DELETE },
	{ "reparent", required_argument, NULL, OPT_REPARENT },
	{ "preset", required_argument, NULL, OPT_PRESET },
	{ "symbol-prefix", required_argument, NULL, OPT_SYMBOL_PREFIX },
	{ "no-malloc", no_argument, NULL, OPT_NO_MALLOC },
	{ "no-libc", no_argument, NULL, OPT_NO_MALLOC },
	{ "list-presets", no_argument, NULL, OPT_LIST_PRESETS },
	{ "unwind", required_argument, NULL, OPT_UNWIND },
	{ "unwind-rows", required_argument, NULL, OPT_UNWIND_ROWS },
	{ "sample-bytes", required_argument, NULL, OPT_SAMPLE_BYTES },
	{ "no-mappings", no_argument, NULL, OPT_NO_MAPPINGS },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "exe", required_argument, NULL, OPT_EXE },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "fail-on-leak", no_argument, NULL, OPT_FAIL_ON_LEAK },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 },
};

__attribute__((format(printf, 2, 3))) static int fail(char **error, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(error, fmt, ap);
	va_end(ap);
	return r < 0 ? -ENOMEM : -EINVAL;
}

/* A whole number in [min, max]. */
static int parse_uint(const char *s, unsigned long long min, unsigned long long max,
		      unsigned long long *out)
{
	char *end;
	unsigned long long v;

	if (*s == '-' || *s == '\0')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* A count or a size in [min, max]: a whole number, times 1024 with a k or
 * K suffix, 1024^2 with M, 1024^3 with G. Every count and size flag takes
 * the suffixes alike: --max-allocs 8M as --sample-bytes 512K. */
static int parse_count(const char *s, unsigned long long min, unsigned long long max,
		       unsigned long long *out)
{
	static const char units[] = "kKMG";
	static const unsigned int shifts[] = { 10, 10, 20, 30 };
	size_t len = strlen(s);
	const char *unit = len ? strchr(units, s[len - 1]) : NULL;
	unsigned int shift = unit && *unit ? shifts[unit - units] : 0;
	unsigned long long v;
	char digits[32];

	if (shift)
		len--;
	if (len >= sizeof(digits))
		return -EINVAL;
	memcpy(digits, s, len);
	digits[len] = '\0';
	if (parse_uint(digits, 0, max >> shift, &v) || v << shift < min)
		return -EINVAL;
	*out = v << shift;
	return 0;
}

/* Seconds, possibly fractional, as nanoseconds; zero allowed when allow_zero. */
static int parse_seconds(const char *s, bool allow_zero, uint64_t *out_ns)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || *s == '\0' || !isfinite(v) || v < 0 || (v == 0 && !allow_zero) ||
	    v > 1e9)
		return -EINVAL;
	*out_ns = (uint64_t)(v * 1e9 + 0.5);
	return 0;
}

/* What the command line names but the parser resolves only at the end:
 * presets take the symbol prefix, wherever it is given. */
struct pending {
	const char **presets;
	size_t n_presets;
	const char *symbol_prefix;
};

static int add_spec(struct config *cfg, enum probe_kind kind, const char *arg, char **error)
{
	struct alloc_spec s;
	int r = alloc_spec_parse(kind, arg, &s, error);

	return r < 0 ? r : alloc_specs_add(&cfg->specs, &s);
}

static int add_preset(struct pending *p, const char *name)
{
	const char **n = realloc(p->presets, (p->n_presets + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	n[p->n_presets++] = name;
	p->presets = n;
	return 0;
}

static int parse_spec_option(int opt, const char *arg, struct config *cfg, struct pending *p,
			     char **error)
{
	/* The spec options, in their order in the enum above. */
	static const enum probe_kind spec_kinds[] = {
		PROBE_ALLOC, PROBE_FREE, PROBE_REALLOC, PROBE_RESET,
		PROBE_CREATE, PROBE_DELETE, PROBE_REPARENT,
	};

	switch (opt) {
	case OPT_ALLOC:
	case OPT_FREE:
	case OPT_REALLOC:
	case OPT_RESET:
	case OPT_CREATE:
	case OPT_DELETE:
	case OPT_REPARENT:
		return add_spec(cfg, spec_kinds[opt - OPT_ALLOC], arg, error);
	case OPT_PRESET:
		return add_preset(p, arg);
	case OPT_SYMBOL_PREFIX:
		if (!*arg)
			return fail(error, "--symbol-prefix: the prefix is empty");
		p->symbol_prefix = arg;
		return 0;
	case OPT_NO_MALLOC:
		cfg->no_malloc = true;
		return 0;
	case OPT_NO_MAPPINGS:
		cfg->no_mappings = true;
		return 0;
	default:
		return fail(error, "unknown option (see memleakd --help)");
	}
}

static int parse_unwind_option(int opt, const char *arg, struct config *cfg, char **error)
{
	static const char *const modes[] = {
		[UNWIND_FP] = "fp", [UNWIND_DWARF] = "dwarf", [UNWIND_AUTO] = "auto",
	};
	unsigned long long v;

	if (opt == OPT_UNWIND_ROWS) {
		if (parse_count(arg, 1, MAX_UNWIND_ROWS, &v))
			return fail(error, "--unwind-rows: '%s' is not a number from 1 to %u", arg,
				    MAX_UNWIND_ROWS);
		cfg->unwind_rows = (uint32_t)v;
		return 0;
	}
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(arg, modes[i])) {
			cfg->unwind = (enum unwind_mode)i;
			return 0;
		}
	return fail(error, "--unwind: unknown mode '%s' (known: fp, dwarf, auto)", arg);
}

static int add_debug_dir(struct config *cfg, const char *dir, char **error)
{
	const char **n;

	if (!*dir)
		return fail(error, "--debug-dir: the directory is empty");
	n = realloc(cfg->debug_dirs, (cfg->n_debug_dirs + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	n[cfg->n_debug_dirs++] = dir;
	cfg->debug_dirs = n;
	return 0;
}

static int parse_option(int opt, const char *arg, struct config *cfg, struct pending *p,
			char **error)
{
	unsigned long long v;

	switch (opt) {
	case 'p':
		if (parse_uint(arg, 1, INT32_MAX, &v))
			return fail(error, "--pid: '%s' is not a process id", arg);
		for (size_t i = 0; i < cfg->n_pids; i++)
			if (cfg->pids[i] == (int)v)
				return fail(error, "--pid: %s is given twice", arg);
		if (cfg->n_pids == CONFIG_MAX_PIDS)
			return fail(error, "--pid: at most %d processes", CONFIG_MAX_PIDS);
		cfg->pids[cfg->n_pids++] = (int)v;
		return 0;
	case OPT_EXE:
		if (cfg->n_exes == CONFIG_MAX_WATCHED)
			return fail(error, "--exe: at most %d files", CONFIG_MAX_WATCHED);
		cfg->exes[cfg->n_exes++] = arg;
		return 0;
	case OPT_CGROUP:
		if (cfg->n_cgroups == CONFIG_MAX_WATCHED)
			return fail(error, "--cgroup: at most %d cgroups", CONFIG_MAX_WATCHED);
		cfg->cgroups[cfg->n_cgroups++] = arg;
		return 0;
	case OPT_FAIL_ON_LEAK:
		cfg->fail_on_leak = true;
		return 0;
	case 'i':
		if (parse_seconds(arg, false, &cfg->interval_ns))
			return fail(error, "--interval: '%s' is not a positive number of seconds", arg);
		return 0;
	case 'd':
		if (parse_seconds(arg, false, &cfg->duration_ns))
			return fail(error, "--duration: '%s' is not a positive number of seconds", arg);
		return 0;
	case 'n':
		if (parse_count(arg, 1, 1000000, &v))
			return fail(error, "--top: '%s' is not a number from 1 to 1000000", arg);
		cfg->top = (unsigned int)v;
		return 0;
	case OPT_MIN_AGE:
		if (parse_seconds(arg, true, &cfg->min_age_ns))
			return fail(error, "--min-age: '%s' is not a number of seconds", arg);
		return 0;
	case 'f':
		if (!report_writer_find(arg))
			return fail(error, "--format: unknown format '%s' (known: %s)", arg,
				    report_writer_names());
		cfg->format = arg;
		return 0;
	case 'o':
		if (!*arg)
			return fail(error, "--output: the path is empty");
		cfg->output = arg;
		return 0;
	case OPT_KEEP:
		if (parse_count(arg, 1, 1000000, &v))
			return fail(error, "--keep: '%s' is not a number from 1 to 1000000", arg);
		cfg->keep = (unsigned int)v;
		return 0;
	case OPT_INVERTED:
		cfg->inverted = true;
		return 0;
	case OPT_NO_DEMANGLE:
		cfg->no_demangle = true;
		return 0;
	case OPT_DEBUG_DIR:
		return add_debug_dir(cfg, arg, error);
	case OPT_TREND:
		if (parse_uint(arg, GROWTH_MIN_INTERVALS, GROWTH_MAX_INTERVALS, &v))
			return fail(error, "--trend: '%s' is not a number from %u to %u", arg,
				    GROWTH_MIN_INTERVALS, GROWTH_MAX_INTERVALS);
		cfg->trend = (unsigned int)v;
		return 0;
	case OPT_MAX_ALLOCS:
		if (parse_count(arg, 2, MAX_MAX_ALLOCS, &v))
			return fail(error, "--max-allocs: '%s' is not a number from 2 to %u", arg,
				    MAX_MAX_ALLOCS);
		cfg->max_allocs = (uint32_t)v;
		return 0;
	case OPT_MAX_STACKS:
		if (parse_count(arg, MIN_MAX_STACKS, MAX_MAX_STACKS, &v))
			return fail(error, "--max-stacks: '%s' is not a number from %u to %u", arg,
				    MIN_MAX_STACKS, MAX_MAX_STACKS);
		cfg->max_stacks = (uint32_t)v;
		return 0;
	case 'v':
		cfg->verbose++;
		return 0;
	case 'q':
		cfg->quiet = true;
		return 0;
	case OPT_UNWIND:
	case OPT_UNWIND_ROWS:
		return parse_unwind_option(opt, arg, cfg, error);
	case OPT_SAMPLE_BYTES:
		if (parse_count(arg, 1, MAX_SAMPLE_BYTES, &v))
			return fail(error, "--sample-bytes: '%s' is not a byte count from 1 to %llu", arg,
				    MAX_SAMPLE_BYTES);
		cfg->sample_bytes = v;
		return 0;
	case OPT_LISTEN:
		if (listen_address_parse(arg, &cfg->listen_addr))
			return fail(error, "--listen: '%s' is not [ADDR:]PORT (a port from 0 to 65535, "
				    "ADDR a numeric IPv4 address or an IPv6 one in brackets)", arg);
		cfg->listen = true;
		return 0;
	default:
		return parse_spec_option(opt, arg, cfg, p, error);
	}
}

static int load_presets(struct config *cfg, const struct pending *p, char **error)
{
	int r = 0;

	for (size_t i = 0; i < p->n_presets && !r; i++)
		r = preset_load(p->presets[i], p->symbol_prefix, &cfg->specs, error);
	return r;
}

/* Option combinations, once every flag is read. */
static int check(const struct config *cfg, const struct pending *p, char **error)
{
	if (!cfg->n_pids && !cfg->n_exes && !cfg->n_cgroups && !cfg->command)
		return fail(error, "--pid, --exe, --cgroup or -- COMMAND is required (see "
			    "memleakd --help)");
	if (cfg->command && (cfg->n_pids || cfg->n_exes || cfg->n_cgroups))
		return fail(error, "-- COMMAND traces the command it starts: drop --pid, --exe "
			    "and --cgroup");
	if (p->symbol_prefix && !p->n_presets)
		return fail(error, "--symbol-prefix applies to presets: add --preset");
	if (cfg->no_malloc && cfg->no_mappings && !cfg->specs.n)
		return fail(error, "--no-malloc and --no-mappings leave nothing to trace: add "
			    "--alloc or --preset");
	if (cfg->keep && !cfg->output)
		return fail(error, "--keep rotates the reports of -o DIR: add --output");
	if (cfg->quiet && cfg->verbose)
		return fail(error, "--quiet and --verbose contradict each other: choose one");
	if (cfg->inverted && strcmp(cfg->format, "svg"))
		return fail(error, "--inverted applies to --format svg");
	return 0;
}

static int parse_args(int argc, char **argv, struct config *c, struct pending *p,
		      char **error)
{
	int opt, r;

	/* Everything after "--" is the command, never an option. */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			c->command = i + 1 < argc ? argv + i + 1 : NULL;
			if (!c->command)
				return fail(error, "-- needs a command after it");
			argc = i;
			break;
		}
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":p:i:d:n:f:o:qvhV", options, NULL)) != -1) {
		if (opt == 'h') {
			fputs(usage, stdout);
			return CONFIG_EXIT;
		}
		if (opt == 'V') {
			puts("memleakd " MEMLEAKD_VERSION);
			return CONFIG_EXIT;
		}
		if (opt == OPT_LIST_PRESETS)
			return preset_list(stdout) < 0 ? -ENOMEM : CONFIG_EXIT;
		if (opt == ':')
			return fail(error, "%s needs a value", argv[optind - 1]);
		if (opt == '?')
			return fail(error, "unknown option '%s' (see memleakd --help)", argv[optind - 1]);
		r = parse_option(opt, optarg, c, p, error);
		if (r < 0)
			return r;
	}
	if (optind < argc)
		return fail(error, "unexpected argument '%s' (see memleakd --help)", argv[optind]);
	r = load_presets(c, p, error);
	if (r < 0)
		return r;
	r = check(c, p, error);
	return r < 0 ? r : CONFIG_RUN;
}

int config_parse(int argc, char **argv, struct config *cfg, char **error)
{
	struct config c = {
		.interval_ns = 10ULL * 1000000000,
		.top = 10,
		.max_allocs = DEFAULT_MAX_ALLOCS,
		.max_stacks = DEFAULT_MAX_STACKS,
		.format = "text",
		.unwind = UNWIND_AUTO,
		.unwind_rows = DEFAULT_UNWIND_ROWS,
		.trend = DEFAULT_TREND,
	};
	struct pending p = { 0 };
	int r = parse_args(argc, argv, &c, &p, error);

	free(p.presets);
	if (r == CONFIG_RUN)
		*cfg = c;
	else
		config_clear(&c);
	return r;
}

void config_clear(struct config *cfg)
{
	alloc_specs_clear(&cfg->specs);
	free(cfg->debug_dirs);
	cfg->debug_dirs = NULL;
	cfg->n_debug_dirs = 0;
}
