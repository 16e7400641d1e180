/* test_config.c - the command-line contract: flag names, defaults, and an
 * error naming the flag for every bad value. */
#include <errno.h>
#include <stdlib.h>

#include "config.h"
#include "unit.h"

/* Parse a command line, expecting -EINVAL and a message containing needle. */
#define EXPECT_ERROR(needle, ...)                                                \
	do {                                                                     \
		char *argv_[] = { "memleakd", __VA_ARGS__, NULL };              \
		expect_error((int)(sizeof(argv_) / sizeof(argv_[0])) - 1, argv_, needle); \
	} while (0)
/* Parse a command line, expecting CONFIG_RUN. */
#define EXPECT_RUN(cfg, ...)                                                     \
	do {                                                                     \
		char *argv_[] = { "memleakd", __VA_ARGS__, NULL };              \
		char *error_ = NULL;                                             \
		EXPECT_EQ(config_parse((int)(sizeof(argv_) / sizeof(argv_[0])) - 1, argv_, \
				       cfg, &error_), CONFIG_RUN);               \
		free(error_);                                                    \
	} while (0)

static void expect_error(int argc, char **argv, const char *needle)
{
	struct config cfg;
	char *error = NULL;

	EXPECT_EQ(config_parse(argc, argv, &cfg, &error), -EINVAL);
	EXPECT(error && strstr(error, needle));
	if (error && !strstr(error, needle))
		fprintf(stderr, "  message was: %s\n", error);
	free(error);
}

TEST(defaults)
{
	struct config cfg;

	EXPECT_RUN(&cfg, "-p", "42");
	EXPECT_EQ(cfg.n_pids, 1); EXPECT_EQ(cfg.pids[0], 42);
	EXPECT_EQ(cfg.interval_ns, 10000000000ULL);
	EXPECT_EQ(cfg.duration_ns, 0);
	EXPECT_EQ(cfg.top, 10);
	EXPECT_EQ(cfg.min_age_ns, 0);
	EXPECT_EQ(cfg.max_allocs, 1048576);
	EXPECT_EQ(cfg.max_stacks, 16384);
	EXPECT_STREQ(cfg.format, "text");
	EXPECT(cfg.output == NULL);
	EXPECT_EQ(cfg.verbose, 0);
	EXPECT_EQ(cfg.unwind, UNWIND_AUTO);
	EXPECT_EQ(cfg.unwind_rows, 1048576);
	EXPECT_EQ(cfg.keep, 0);
	EXPECT(!cfg.inverted);
	EXPECT_EQ(cfg.trend, 6);
}

TEST(long_and_short_flags)
{
	struct config cfg;

	EXPECT_RUN(&cfg, "--pid", "7", "-i", "0.5", "--duration", "3", "-n", "4", "--min-age",
		   "1.25", "-f", "json", "-o", "/tmp/x", "--max-allocs", "10000000", "-v");
	EXPECT_EQ(cfg.n_pids, 1); EXPECT_EQ(cfg.pids[0], 7);
	EXPECT_EQ(cfg.interval_ns, 500000000);
	EXPECT_EQ(cfg.duration_ns, 3000000000ULL);
	EXPECT_EQ(cfg.top, 4);
	EXPECT_EQ(cfg.min_age_ns, 1250000000);
	EXPECT_STREQ(cfg.format, "json");
	EXPECT_STREQ(cfg.output, "/tmp/x");
	EXPECT_EQ(cfg.max_allocs, 10000000);
	EXPECT_EQ(cfg.verbose, 1);
}

TEST(bad_values_name_their_flag)
{
	EXPECT_ERROR("--pid, --exe, --cgroup or -- COMMAND is required", "-v");
	EXPECT_ERROR("--pid", "-p", "abc");
	EXPECT_ERROR("--pid", "-p", "-3");
	EXPECT_ERROR("--pid", "-p", "0");
	EXPECT_ERROR("--interval", "-p", "1", "-i", "0");
	EXPECT_ERROR("--interval", "-p", "1", "-i", "nan");
	EXPECT_ERROR("--interval", "-p", "1", "--interval", "5s");
	EXPECT_ERROR("--duration", "-p", "1", "-d", "-1");
	EXPECT_ERROR("--top", "-p", "1", "-n", "0");
	EXPECT_ERROR("--min-age", "-p", "1", "--min-age", "x");
	EXPECT_ERROR("--format", "-p", "1", "-f", "xml");
	EXPECT_ERROR("--max-allocs", "-p", "1", "--max-allocs", "0");
	EXPECT_ERROR("--max-allocs", "-p", "1", "--max-allocs", "99999999999");
	EXPECT_ERROR("--bogus", "-p", "1", "--bogus");
	EXPECT_ERROR("extra", "-p", "1", "extra");
	EXPECT_ERROR("-i needs a value", "-p", "1", "-i");
}

TEST(min_age_zero_is_allowed)
{
	struct config cfg;

	EXPECT_RUN(&cfg, "-p", "1", "--min-age", "0");
	EXPECT_EQ(cfg.min_age_ns, 0);
}

TEST(verbose_counts)
{
	struct config cfg;

	EXPECT_RUN(&cfg, "-p", "1", "-vv");
	EXPECT_EQ(cfg.verbose, 2);
}

TEST(custom_allocator_flags)
{
	struct config cfg;

	EXPECT_RUN(&cfg, "-p", "1", "--alloc", "my_alloc:ctx=1,size=2", "--free", "my_free",
		   "--realloc", "my_realloc", "--reset", "my_reset", "--no-malloc");
	EXPECT(cfg.no_malloc);
	EXPECT_EQ(cfg.specs.n, 4);
	EXPECT_EQ(cfg.specs.items[0].kind, PROBE_ALLOC);
	EXPECT_EQ(cfg.specs.items[0].ctx, 1);
	EXPECT_EQ(cfg.specs.items[3].kind, PROBE_RESET);
	config_clear(&cfg);
	EXPECT_RUN(&cfg, "-p", "1", "--no-libc", "--alloc", "a");
	EXPECT(cfg.no_malloc);
	EXPECT(!cfg.no_mappings);
	config_clear(&cfg);
	/* Mappings alone. */
	EXPECT_RUN(&cfg, "-p", "1", "--no-malloc");
	EXPECT_EQ(cfg.specs.n, 0);
	config_clear(&cfg);
	EXPECT_RUN(&cfg, "-p", "1", "--no-mappings");
	EXPECT(cfg.no_mappings);
	config_clear(&cfg);
}

TEST(presets_take_the_prefix)
{
	struct config cfg;

	setenv("MEMLEAKD_PRESET_DIR", "presets", 1);
	EXPECT_RUN(&cfg, "-p", "1", "--preset", "jemalloc", "--symbol-prefix", "_rjem_",
		   "--alloc", "plain");
	EXPECT(cfg.specs.n > 2);
	EXPECT_STREQ(cfg.specs.items[0].symbol, "plain");
	EXPECT(cfg.specs.items[0].preset == NULL);
	EXPECT_STREQ(cfg.specs.items[1].symbol, "_rjem_malloc");
	EXPECT_STREQ(cfg.specs.items[1].preset, "jemalloc");
	config_clear(&cfg);
}

TEST(unwind_modes)
{
	static const char *const names[] = { "fp", "dwarf", "auto" };
	static const enum unwind_mode modes[] = { UNWIND_FP, UNWIND_DWARF, UNWIND_AUTO };
	struct config cfg;

	for (size_t i = 0; i < 3; i++) {
		EXPECT_RUN(&cfg, "-p", "1", "--unwind", (char *)names[i]);
		EXPECT_EQ(cfg.unwind, modes[i]);
	}
	EXPECT_RUN(&cfg, "-p", "1", "--unwind-rows", "5000");
	EXPECT_EQ(cfg.unwind_rows, 5000);
	EXPECT_ERROR("--unwind: unknown mode 'frame' (known: fp, dwarf, auto)", "-p", "1",
		     "--unwind", "frame");
	EXPECT_ERROR("--unwind-rows", "-p", "1", "--unwind-rows", "0");
	EXPECT_ERROR("--unwind-rows", "-p", "1", "--unwind-rows", "4294967296");
}

TEST(report_flags)
{
	struct config cfg;

	EXPECT_RUN(&cfg, "-p", "1", "-o", "reports/", "--keep", "5", "--trend", "12");
	EXPECT_STREQ(cfg.output, "reports/");
	EXPECT_EQ(cfg.keep, 5);
	EXPECT_EQ(cfg.trend, 12);
	EXPECT_ERROR("--keep rotates the reports of -o DIR", "-p", "1", "--keep", "3");
	EXPECT_ERROR("--keep", "-p", "1", "-o", "d/", "--keep", "0");
	EXPECT_ERROR("--trend: '4' is not a number from 5 to 64", "-p", "1", "--trend", "4");
	EXPECT_ERROR("--trend", "-p", "1", "--trend", "65");
	EXPECT_ERROR("--output: the path is empty", "-p", "1", "-o", "");
	EXPECT_ERROR("--inverted applies to --format svg", "-p", "1", "--inverted");
}

/* Repeatable, kept in the order given; none by default. */
TEST(debug_dirs)
{
	struct config cfg;

	EXPECT_RUN(&cfg, "-p", "1");
	EXPECT_EQ(cfg.n_debug_dirs, 0);
	EXPECT(cfg.debug_dirs == NULL);
	config_clear(&cfg);
	EXPECT_RUN(&cfg, "-p", "1", "--debug-dir", "/srv/debug", "--debug-dir=rel/dbg");
	EXPECT_EQ(cfg.n_debug_dirs, 2);
	EXPECT_STREQ(cfg.debug_dirs[0], "/srv/debug");
	EXPECT_STREQ(cfg.debug_dirs[1], "rel/dbg");
	config_clear(&cfg);
	EXPECT_EQ(cfg.n_debug_dirs, 0);
	EXPECT_ERROR("--debug-dir: the directory is empty", "-p", "1", "--debug-dir", "");
	EXPECT_ERROR("--debug-dir needs a value", "-p", "1", "--debug-dir");
}

TEST(spec_errors_name_their_flag)
{
	EXPECT_ERROR("--alloc 'f:sise=1': unknown key 'sise'", "-p", "1", "--alloc", "f:sise=1");
	EXPECT_ERROR("--reset 'r:ctx=9'", "-p", "1", "--reset", "r:ctx=9");
	EXPECT_ERROR("--no-malloc and --no-mappings leave nothing to trace", "-p", "1",
		     "--no-malloc", "--no-mappings");
	EXPECT_ERROR("--symbol-prefix applies to presets", "-p", "1", "--symbol-prefix", "je_");
	EXPECT_ERROR("--symbol-prefix: the prefix is empty", "-p", "1", "--symbol-prefix", "");
}

/* Every count and size flag takes the same suffixes. */
TEST(count_suffixes)
{
	struct config cfg;

	EXPECT_RUN(&cfg, "-p", "1", "--max-allocs", "8M", "--unwind-rows", "2M", "-n", "1k",
		   "-o", "/tmp/x/", "--keep", "4K");
	EXPECT_EQ(cfg.max_allocs, 8u << 20);
	EXPECT_EQ(cfg.unwind_rows, 2u << 20);
	EXPECT_EQ(cfg.top, 1024);
	EXPECT_EQ(cfg.keep, 4096);
	config_clear(&cfg);
	EXPECT_ERROR("--max-allocs: '2G' is not a number from 2 to", "-p", "1", "--max-allocs",
		     "2G");
	EXPECT_ERROR("--top: '1M' is not a number from 1 to 1000000", "-p", "1", "-n", "1M");
	EXPECT_ERROR("--pid: '1K' is not a process id", "-p", "1K");
}

/* -q keeps warnings and errors only; with -v it is a contradiction. */
TEST(quiet)
{
	struct config cfg;

	EXPECT_RUN(&cfg, "-p", "1", "-q");
	EXPECT(cfg.quiet);
	config_clear(&cfg);
	EXPECT_ERROR("--quiet and --verbose contradict", "-p", "1", "-q", "-v");
}

/* --sample-bytes: whole bytes, KiB with k or K, MiB with M, GiB with G;
 * off by default. */
TEST(sample_bytes)
{
	static const struct {
		const char *arg;
		uint64_t bytes;
	} good[] = { { "1", 1 }, { "4096", 4096 }, { "512K", 524288 }, { "64k", 65536 },
		     { "2M", 2097152 }, { "2G", 2147483648ULL } };
	struct config cfg;

	EXPECT_RUN(&cfg, "-p", "1");
	EXPECT_EQ(cfg.sample_bytes, 0);
	config_clear(&cfg);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		EXPECT_RUN(&cfg, "-p", "1", "--sample-bytes", (char *)good[i].arg);
		EXPECT_EQ(cfg.sample_bytes, good[i].bytes);
		config_clear(&cfg);
	}
	EXPECT_ERROR("--sample-bytes: '0' is not a byte count", "-p", "1", "--sample-bytes", "0");
	EXPECT_ERROR("--sample-bytes: '-4' is not", "-p", "1", "--sample-bytes", "-4");
	EXPECT_ERROR("--sample-bytes: 'K' is not", "-p", "1", "--sample-bytes", "K");
	EXPECT_ERROR("--sample-bytes: '1.5K' is not", "-p", "1", "--sample-bytes", "1.5K");
	EXPECT_ERROR("--sample-bytes: '2T' is not", "-p", "1", "--sample-bytes", "2T");
	EXPECT_ERROR("--sample-bytes: '4KK' is not", "-p", "1", "--sample-bytes", "4KK");
	EXPECT_ERROR("--sample-bytes: '' is not", "-p", "1", "--sample-bytes", "");
	EXPECT_ERROR("--sample-bytes: '2000000M' is not", "-p", "1", "--sample-bytes", "2000000M");
	EXPECT_ERROR("--sample-bytes needs a value", "-p", "1", "--sample-bytes");
}

/* --max-stacks: a count, with the size suffixes of --sample-bytes, from 64
 * to 1M. */
TEST(max_stacks)
{
	static const struct {
		const char *arg;
		uint32_t stacks;
	} good[] = { { "64", 64 }, { "100000", 100000 }, { "64K", 65536 }, { "1M", 1048576 } };
	struct config cfg;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		EXPECT_RUN(&cfg, "-p", "1", "--max-stacks", (char *)good[i].arg);
		EXPECT_EQ(cfg.max_stacks, good[i].stacks);
		config_clear(&cfg);
	}
	EXPECT_ERROR("--max-stacks: '63' is not a number from 64 to 1048576", "-p", "1",
		     "--max-stacks", "63");
	EXPECT_ERROR("--max-stacks: '2M' is not", "-p", "1", "--max-stacks", "2M");
	EXPECT_ERROR("--max-stacks: '1.5K' is not", "-p", "1", "--max-stacks", "1.5K");
	EXPECT_ERROR("--max-stacks: '-1' is not", "-p", "1", "--max-stacks", "-1");
	EXPECT_ERROR("--max-stacks needs a value", "-p", "1", "--max-stacks");
}

/* --listen: off by default, loopback without an address. */
TEST(listen_flag)
{
	struct config cfg;
	char where[64];

	EXPECT_RUN(&cfg, "-p", "1");
	EXPECT(!cfg.listen);
	config_clear(&cfg);
	EXPECT_RUN(&cfg, "-p", "1", "--listen", "9464");
	EXPECT(cfg.listen);
	EXPECT_STREQ(listen_address_format(&cfg.listen_addr, where, sizeof(where)),
		     "127.0.0.1:9464");
	config_clear(&cfg);
	EXPECT_RUN(&cfg, "-p", "1", "--listen", "[::1]:9464");
	EXPECT_STREQ(listen_address_format(&cfg.listen_addr, where, sizeof(where)), "[::1]:9464");
	config_clear(&cfg);
	EXPECT_ERROR("--listen: 'localhost:9464' is not [ADDR:]PORT", "-p", "1", "--listen",
		     "localhost:9464");
	EXPECT_ERROR("--listen needs a value", "-p", "1", "--listen");
}

RUN_TESTS("config", T(defaults), T(long_and_short_flags), T(bad_values_name_their_flag),
	  T(min_age_zero_is_allowed), T(verbose_counts), T(custom_allocator_flags),
	  T(presets_take_the_prefix), T(unwind_modes), T(report_flags),
	  T(debug_dirs), T(spec_errors_name_their_flag), T(count_suffixes), T(quiet),
	  T(sample_bytes), T(max_stacks), T(listen_flag))
