/* config.c - the command line: flags, their defaults and their checks. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "report.h"

#define MEMLEAKD_VERSION "0.1.0"
#define DEFAULT_MAX_ALLOCS (1u << 20)
/* The kernel caps a hash map well below 2^32 entries; this keeps the error
 * ours rather than an opaque -E2BIG at load. */
#define MAX_MAX_ALLOCS (1u << 30)

static const char usage[] =
	"Usage: memleakd -p PID [options]\n"
	"Trace a live process's heap and report the call stacks that hold memory\n"
	"allocated since attach and not yet freed.\n"
	"\n"
	"  -p, --pid PID           process to trace (required)\n"
	"  -i, --interval SECONDS  period between reports (default 10)\n"
	"  -d, --duration SECONDS  stop after this long, with a final report\n"
	"  -n, --top N             stacks per report (default 10)\n"
	"      --min-age SECONDS   only count allocations at least this old\n"
	"  -f, --format FMT        report format: text (default) or json\n"
	"  -o, --output PATH       write reports to PATH instead of stdout\n"
	"      --max-allocs N      capacity of the outstanding-allocation map\n"
	"                          (default 1048576)\n"
	"  -v, --verbose           say where each probe is placed; twice: libbpf's log\n"
	"  -h, --help              show this help\n"
	"  -V, --version           show the version\n";

enum { OPT_MIN_AGE = 256, OPT_MAX_ALLOCS };

static const struct option options[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "interval", required_argument, NULL, 'i' },
	{ "duration", required_argument, NULL, 'd' },
	{ "top", required_argument, NULL, 'n' },
	{ "min-age", required_argument, NULL, OPT_MIN_AGE },
	{ "format", required_argument, NULL, 'f' },
	{ "output", required_argument, NULL, 'o' },
	{ "max-allocs", required_argument, NULL, OPT_MAX_ALLOCS },
	{ "verbose", no_argument, NULL, 'v' },
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

static int parse_option(int opt, const char *arg, struct config *cfg, char **error)
{
	unsigned long long v;

	switch (opt) {
	case 'p':
		if (parse_uint(arg, 1, INT32_MAX, &v))
			return fail(error, "--pid: '%s' is not a process id", arg);
		cfg->pid = (int)v;
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
		if (parse_uint(arg, 1, 1000000, &v))
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
		cfg->output = arg;
		return 0;
	case OPT_MAX_ALLOCS:
		if (parse_uint(arg, 1, MAX_MAX_ALLOCS, &v))
			return fail(error, "--max-allocs: '%s' is not a number from 1 to %u", arg,
				    MAX_MAX_ALLOCS);
		cfg->max_allocs = (uint32_t)v;
		return 0;
	case 'v':
		cfg->verbose++;
		return 0;
	default:
		return fail(error, "unknown option (see memleakd --help)");
	}
}

int config_parse(int argc, char **argv, struct config *cfg, char **error)
{
	struct config c = {
		.interval_ns = 10ULL * 1000000000,
		.top = 10,
		.max_allocs = DEFAULT_MAX_ALLOCS,
		.format = "text",
	};
	int opt, r;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":p:i:d:n:f:o:vhV", options, NULL)) != -1) {
		if (opt == 'h') {
			fputs(usage, stdout);
			return CONFIG_EXIT;
		}
		if (opt == 'V') {
			puts("memleakd " MEMLEAKD_VERSION);
			return CONFIG_EXIT;
		}
		if (opt == ':')
			return fail(error, "%s needs a value", argv[optind - 1]);
		if (opt == '?')
			return fail(error, "unknown option '%s' (see memleakd --help)", argv[optind - 1]);
		r = parse_option(opt, optarg, &c, error);
		if (r < 0)
			return r;
	}
	if (optind < argc)
		return fail(error, "unexpected argument '%s' (see memleakd --help)", argv[optind]);
	if (!c.pid)
		return fail(error, "--pid is required (see memleakd --help)");
	*cfg = c;
	return CONFIG_RUN;
}
