# Makefile - builds ./memleakd: BPF object (clang) -> skeleton (bpftool) ->
# user space (gcc, libbpf, libelf, libdw, libdebuginfod, zlib, liblzma, libmicrohttpd). `make check` builds and runs every
# test; `make demo` shows memleakd on a leaky program; `make bench` measures.
.DELETE_ON_ERROR:
.SUFFIXES:

OUT := build
CLANG ?= clang
BPFTOOL ?= bpftool
CC := gcc
ARCH := x86

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude -Isrc -I$(OUT) -MMD -MP
LDLIBS := -lbpf -lelf -ldw -ldebuginfod -lz -llzma -liberty -lmicrohttpd -lpthread -lm
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Iinclude -Ivmlinux -Wall -Werror

SRCS := $(wildcard src/*.c src/*/*.c)
ASM_SRCS := $(wildcard src/*/*.S)
OBJS := $(SRCS:src/%.c=$(OUT)/%.o) $(ASM_SRCS:src/%.S=$(OUT)/%.o)
LIB_OBJS := $(filter-out $(OUT)/main.o,$(OBJS))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(wildcard tests/unit/test_*.c tests/unit/*/test_*.c))
TARGETS := $(patsubst tests/targets/%.c,$(OUT)/targets/%,$(wildcard tests/targets/*.c))
DEPS_STAMP := $(OUT)/.deps-installed

all: memleakd

# Every Debian package the build and the tests use, installed when missing.
$(DEPS_STAMP): scripts/install-deps.sh
	@mkdir -p $(OUT)
	./scripts/install-deps.sh
	@touch $@

$(OUT)/memleakd.bpf.o: bpf/memleakd.bpf.c $(wildcard bpf/*.h) include/memleakd.h vmlinux/vmlinux.h | $(DEPS_STAMP)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/memleakd.skel.h: $(OUT)/memleakd.bpf.o
	$(BPFTOOL) gen skeleton $< name memleakd_bpf > $@

# Only the tracer sees the skeleton.
$(OUT)/probes/tracer.o: $(OUT)/memleakd.skel.h

$(OUT)/%.o: src/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

# Assembly: files embedded with .incbin (EMBED_FLAGS name them), and the
# functions probed to time a trap (trap_calibration.S).
$(OUT)/%.o: src/%.S | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(EMBED_FLAGS) -c $< -o $@

# The flame graph's style and script as the SVG carries them, for
# flame_graph_assets.S: without comment and blank lines, and refused when
# they hold "]]>", which would end the document's CDATA section early.
# Their paths are given whole: .incbin would search -Isrc first.
FLAME_CSS := $(OUT)/report/flame_graph.css
FLAME_JS := $(OUT)/report/flame_graph.js
$(FLAME_CSS) $(FLAME_JS): $(OUT)/report/%: src/report/%
	@mkdir -p $(@D)
	awk '/^[ \t]*\/\*/ { c = 1 } !c && NF && !/^[ \t]*\/\// { print } c && /\*\// { c = 0 }' $< > $@
	@! grep -n ']]>' $@ || { echo "$<: \"]]>\" would end the SVG's CDATA section" >&2; exit 1; }
$(OUT)/report/flame_graph_assets.o: $(FLAME_CSS) $(FLAME_JS)
$(OUT)/report/flame_graph_assets.o: EMBED_FLAGS := \
	-DFLAME_GRAPH_CSS='"$(FLAME_CSS)"' -DFLAME_GRAPH_JS='"$(FLAME_JS)"'

# The live page of --listen: its skeleton, style and script embedded as
# they are (web_page.c puts the two in the skeleton).
WEB_PAGE_FILES := src/serve/web_page.html src/serve/web_page.css src/serve/web_page.js
$(OUT)/serve/web_page_assets.o: $(WEB_PAGE_FILES)
$(OUT)/serve/web_page_assets.o: EMBED_FLAGS := -DWEB_PAGE_HTML='"src/serve/web_page.html"' \
	-DWEB_PAGE_CSS='"src/serve/web_page.css"' -DWEB_PAGE_JS='"src/serve/web_page.js"'

memleakd: $(OBJS)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# Regenerate the committed vmlinux.h from the running kernel's BTF.
vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/vmlinux.h

$(OUT)/tests/%: tests/unit/%.c tests/unit/unit.h $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/unit $< $(LIB_OBJS) -o $@ $(LDLIBS)

# Integration targets: frame pointers and no inlining so stacks are exact.
TARGET_CFLAGS := -O1 -g -fno-omit-frame-pointer -fno-inline -fno-optimize-sibling-calls -pthread -Wall -Werror
$(OUT)/targets/%: tests/targets/%.c tests/targets/target.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(or $(TARGET_FLAGS_$*),$(TARGET_CFLAGS)) $< -o $@ $(TARGET_LIBS_$*)
TARGET_LIBS_jemalloc_leaks := -ljemalloc
TARGET_LIBS_exe_allocator := -rdynamic
# Deferred (=): pkg-config runs after install-deps.sh has installed libapr1-dev.
TARGET_LIBS_apr_pools = $(shell pkg-config --cflags-only-I --libs apr-1)
# libc first in the search order: it keeps malloc, tc_* and mi_* are called by name.
TARGET_LIBS_direct_allocators := -Wl,--no-as-needed -lc -l:libtcmalloc_minimal.so.4 -l:libmimalloc.so.2
$(OUT)/targets/static_leaks: tests/targets/static_leaks.c tests/targets/target.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(TARGET_CFLAGS) -static $< -o $@
# The mapping benchmark's target, static too: no libc.so for uprobes.
$(OUT)/targets/bench_mappings_static: tests/targets/bench_mappings.c tests/targets/target.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(TARGET_CFLAGS) -static $< -o $@
# jemalloc's archive with its API renamed _rjem_* (as Rust's tikv-jemallocator
# builds it), linked in: the program keeps glibc's malloc.
$(OUT)/targets/prefixed_jemalloc: tests/targets/prefixed_jemalloc.c tests/targets/target.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	objcopy $(foreach s,malloc calloc posix_memalign aligned_alloc realloc free memalign \
		valloc mallocx rallocx xallocx sallocx dallocx sdallocx nallocx mallctl \
		mallctlnametomib mallctlbymib malloc_stats_print malloc_usable_size \
		malloc_message malloc_conf malloc_conf_2_conf_harder,--redefine-sym $(s)=_rjem_$(s)) \
		/usr/lib/x86_64-linux-gnu/libjemalloc_pic.a $(@D)/libjemalloc_rjem.a
	$(CC) $(TARGET_CFLAGS) $< $(@D)/libjemalloc_rjem.a -o $@ -lm -ldl

# Unwinding targets: code without frame pointers, as release
# builds and Debian's libraries are. TARGET_FLAGS_name replaces
# TARGET_CFLAGS for one target.
NOFP_CFLAGS := -O2 -g -fomit-frame-pointer -pthread -Wall -Werror
TARGET_FLAGS_unwind_deep := $(NOFP_CFLAGS)
TARGET_FLAGS_unwind_signal := $(NOFP_CFLAGS)
# -z lazy: calls go through .plt, whose stubs .eh_frame describes with the
# PLT expression.
TARGET_FLAGS_unwind_plt := $(NOFP_CFLAGS) -fno-optimize-sibling-calls -Wl,-z,lazy
# Frame-pointer applications calling frame-pointer-less libraries of
# tests/targets/libs/: linked to one, dlopen()ing the other.
UNWIND_LIBS := $(OUT)/targets/libunwind_lib.so $(OUT)/targets/libunwind_plugin.so
$(UNWIND_LIBS): $(OUT)/targets/lib%.so: tests/targets/libs/%.c tests/targets/libs/unwind_lib.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(NOFP_CFLAGS) -fPIC -shared $< -o $@
$(OUT)/targets/unwind_mixed: $(OUT)/targets/libunwind_lib.so
TARGET_LIBS_unwind_mixed := -L$(OUT)/targets -lunwind_lib -Wl,-rpath,'$$ORIGIN'
$(OUT)/targets/unwind_dlopen: $(OUT)/targets/libunwind_plugin.so
$(OUT)/targets/unwind_pushpop: tests/targets/libs/push_pop.h
# Copied under several names by the test: no build-id, so that each copy is
# an object of its own.
$(OUT)/targets/libunwind_rows_plugin.so: tests/targets/libs/unwind_rows_plugin.c tests/targets/libs/push_pop.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(NOFP_CFLAGS) -fPIC -shared -Wl,--build-id=none $< -o $@
$(OUT)/targets/unwind_dlclose: $(OUT)/targets/libunwind_rows_plugin.so
$(OUT)/targets/unwind_cxx: tests/targets/unwind_cxx.cc tests/targets/target.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CXX) -O2 -g -fomit-frame-pointer -pthread -Wall -Werror $< -o $@
UNWIND_TARGETS := $(UNWIND_LIBS) $(OUT)/targets/libunwind_rows_plugin.so $(OUT)/targets/unwind_cxx
# A C++ target built like the C ones: frame pointers, nothing inlined.
$(OUT)/targets/grow_vector: tests/targets/grow_vector.cc tests/targets/target.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CXX) $(TARGET_CFLAGS) $< -o $@

# Symbolization targets: C++ built as a release with debug info,
# and Rust built by Debian's rustc (/usr/bin/rustc: a rustup one may come
# first in PATH), once per symbol mangling. Rust's default is legacy; v0 is
# stable as -C symbol-mangling-version=v0 since 1.59 (legacy cannot be
# asked for by name without -Z). opt-level=1 keeps #[inline(never)]
# functions apart while inlining Box::new and Vec::push.
RUSTC := /usr/bin/rustc
RUST_FLAGS := -C opt-level=1 -g
$(OUT)/targets/symbols_cxx: tests/targets/symbols_cxx.cc tests/targets/target.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CXX) -O2 -g -pthread -Wall -Werror $< -o $@
$(OUT)/targets/symbols_rust_legacy: tests/targets/symbols_rust.rs | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(RUSTC) $(RUST_FLAGS) $< -o $@
$(OUT)/targets/symbols_rust_v0: tests/targets/symbols_rust.rs | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(RUSTC) $(RUST_FLAGS) -C symbol-mangling-version=v0 $< -o $@
SYMBOL_TARGETS := $(addprefix $(OUT)/targets/,symbols_cxx symbols_rust_legacy symbols_rust_v0)
# The unwinding benchmark's target, built twice: without frame pointers
# (bench_deep) and with them (bench_deep_fp, for an honest fp walk).
TARGET_FLAGS_bench_deep := $(NOFP_CFLAGS)
$(OUT)/targets/bench_deep_fp: tests/targets/bench_deep.c tests/targets/target.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(TARGET_CFLAGS) $< -o $@

# The real pprof client, from Debian's Go sources (golang-github-google-pprof-
# dev), which the pprof format's integration test reads reports with. Its
# own build cache: as root on a fresh machine there is no usable default.
PPROF := $(OUT)/tools/pprof
$(PPROF): | $(DEPS_STAMP)
	@mkdir -p $(@D)
	GOPATH=/usr/share/gocode GO111MODULE=off GOCACHE=$(abspath $(OUT))/gocache \
		go build -o $@ github.com/google/pprof

# The flame graph tests' consumers (tests/js): playwright-core, which drives
# Debian's chromium, and speedscope; and eslint. Installed at their locked
# versions into $(OUT)/js by npm ci. The stamp is rewritten by every install.
JS_DEPS := $(OUT)/js/node_modules/.package-lock.json
$(JS_DEPS): tests/js/package.json tests/js/package-lock.json
	@mkdir -p $(OUT)/js
	cp tests/js/package.json tests/js/package-lock.json $(OUT)/js/
	npm ci --prefix $(OUT)/js --no-audit --no-fund

# The flame graph's and the live page's scripts linted as the browser
# scripts they are: a failure stops `make check` before any test runs, and
# adds none to the count. The config sits beside node_modules, where its
# import of @eslint/js resolves.
JS_LINTED := $(OUT)/js/flame_graph.linted
$(JS_LINTED): src/report/flame_graph.js src/serve/web_page.js tests/js/eslint.config.js $(JS_DEPS)
	cp tests/js/eslint.config.js $(OUT)/js/
	$(OUT)/js/node_modules/.bin/eslint --max-warnings 0 --config $(OUT)/js/eslint.config.js \
		src/report/flame_graph.js src/serve/web_page.js
	@touch $@

# The daemon, the unit tests and the fuzz harnesses under AddressSanitizer and
# UndefinedBehaviorSanitizer (LeakSanitizer included), built by gcc from the
# same sources into $(SAN): any report fails the program that made it.
SAN := $(OUT)/sanitize
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# The assembly holds nothing to sanitize: every build links build/'s.
SAN_OBJS := $(SRCS:src/%.c=$(SAN)/%.o) $(ASM_SRCS:src/%.S=$(OUT)/%.o)
SAN_LIB_OBJS := $(filter-out $(SAN)/main.o,$(SAN_OBJS))
SAN_UNIT_TESTS := $(UNIT_TESTS:$(OUT)/%=$(SAN)/%)

$(SAN)/%.o: src/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -c $< -o $@
$(SAN)/probes/tracer.o: $(OUT)/memleakd.skel.h

# presets/ beside it, where a build tree's memleakd finds the presets.
$(SAN)/memleakd: $(SAN_OBJS)
	$(CC) $(CFLAGS) $(SAN_FLAGS) $^ -o $@ $(LDLIBS)
	ln -sfn ../../presets $(SAN)/presets

$(SAN)/tests/%: tests/unit/%.c tests/unit/unit.h $(SAN_LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -Itests/unit $< $(SAN_LIB_OBJS) -o $@ $(LDLIBS)

# Fuzzing (tests/fuzz): one harness per parser of hostile input, each with
# a seed corpus in tests/fuzz/corpus/NAME. `make check` replays every corpus
# file through its harness, sanitized, with a small main of our own;
# `make fuzz` runs each harness under libFuzzer (clang) for FUZZ_TIME
# seconds, growing a working corpus in $(FUZZ)/corpus/NAME and leaving what
# crashes in $(FUZZ)/crashes/NAME.
FUZZ := $(OUT)/fuzz
FUZZ_TIME ?= 60
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REPLAYS := $(FUZZ_NAMES:%=$(SAN)/fuzz/replay_%)
FUZZERS := $(FUZZ_NAMES:%=$(FUZZ)/fuzz_%)
FUZZ_CFLAGS := $(CFLAGS) -Itests/fuzz \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_OBJS := $(filter-out $(FUZZ)/main.o,$(SRCS:src/%.c=$(FUZZ)/%.o)) $(ASM_SRCS:src/%.S=$(OUT)/%.o)

$(SAN)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c tests/fuzz/fuzz.h $(SAN_LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(filter-out -MMD -MP,$(CFLAGS)) $(SAN_FLAGS) -Itests/fuzz -DFUZZ_NAME='"$*"' \
		$< tests/fuzz/replay.c \
		$(SAN_LIB_OBJS) -o $@ $(LDLIBS)

$(FUZZ)/%.o: src/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@
$(FUZZ)/probes/tracer.o: $(OUT)/memleakd.skel.h

# Kept once built: only pattern rules name them, and make would delete them.
.SECONDARY: $(FUZZ_OBJS) $(FUZZERS)
$(FUZZ)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_OBJS)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_OBJS) -o $@ $(LDLIBS)

# Options of one harness: perf maps are read in 64 KiB blocks and lines
# longer than 4096 bytes are skipped, which only longer inputs reach.
FUZZ_OPTIONS_perf_map := -max_len=150000

# `make fuzz-NAME` runs one harness; `make -j2 fuzz`, two at a time.
fuzz: $(FUZZ_NAMES:%=fuzz-%)
fuzz-%: $(FUZZ)/fuzz_%
	@mkdir -p $(FUZZ)/corpus/$* $(FUZZ)/crashes/$*
	@echo "fuzz: $* for $(FUZZ_TIME) s"
	@$< -max_total_time=$(FUZZ_TIME) -print_final_stats=1 $(FUZZ_OPTIONS_$*) \
		-artifact_prefix=$(FUZZ)/crashes/$*/ $(FUZZ)/corpus/$* tests/fuzz/corpus/$* \
		2>$(FUZZ)/$*.log || { tail -40 $(FUZZ)/$*.log; exit 1; }
	@grep -E '^#[0-9]+[[:space:]]+DONE|^stat::(number_of_executed_units|peak_rss_mb)' $(FUZZ)/$*.log

# `make check-sanitize` runs every suite under the sanitizers: the unit
# tests, the corpus replays, and the integration suite tracing with the
# sanitized daemon ($MEMLEAKD). `make check`, which CI runs, is that and the
# leak tests once more with ./memleakd, the build users run: each suite runs
# once, sanitized, and the plain build is checked on the core of it. An
# AddressSanitizer or LeakSanitizer report exits 23, a status no test
# expects; UndefinedBehaviorSanitizer aborts; the integration harness fails
# a test whose processes printed a report.
SAN_ENV := ASAN_OPTIONS=detect_leaks=1:exitcode=23:strict_string_checks=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1 \
	LSAN_OPTIONS=exitcode=23 MEMLEAKD=$(abspath $(SAN)/memleakd)
CHECK_DEPS := $(SAN)/memleakd $(SAN_UNIT_TESTS) $(FUZZ_REPLAYS) $(TARGETS) $(OUT)/targets/grow_vector \
	$(UNWIND_TARGETS) \
	$(SYMBOL_TARGETS) $(PPROF) $(JS_DEPS) $(JS_LINTED)

check-sanitize: $(CHECK_DEPS)
	@$(SAN_ENV) tests/run-all.sh $(SAN_UNIT_TESTS) $(FUZZ_REPLAYS)

check: memleakd $(CHECK_DEPS)
	@$(SAN_ENV) PLAIN_TESTS=test_leaks. tests/run-all.sh $(SAN_UNIT_TESTS) $(FUZZ_REPLAYS)

demo: memleakd $(OUT)/targets/demo_leaky
	@scripts/demo.sh

# Naming frames, measured on the benchmark's own objects.
$(OUT)/bench/symbolize_bench: bench/symbolize_bench.c $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< $(LIB_OBJS) -o $@ $(LDLIBS)

bench: memleakd $(OUT)/bench/symbolize_bench $(OUT)/targets/bench_pairs $(OUT)/targets/bench_deep $(OUT)/targets/bench_deep_fp \
		$(OUT)/targets/unwind_cxx $(OUT)/targets/bench_outstanding $(OUT)/targets/arena_leaks \
		$(OUT)/targets/bench_mappings $(OUT)/targets/bench_mappings_static $(OUT)/targets/bench_forms \
		$(OUT)/targets/stress_churn
	@$(OUT)/bench/symbolize_bench
	@python3 bench/run.py
	@python3 bench/allocators.py
	@python3 bench/prog_cost.py
	@python3 bench/report_cost.py
	@python3 bench/redis_bench.py
	@python3 bench/pg_preset.py
	@python3 bench/mappings.py
	@python3 bench/sweep_cost.py
	@python3 bench/false_alarms.py
	@python3 bench/emulation.py
	@python3 bench/stress.py
	@python3 bench/tracing_cost.py

# `make install PREFIX=/usr DESTDIR=pkg/`: the binary in sbin (it needs
# root), the presets where it looks for them (../share/memleakd/presets
# from the binary), the man page, and the systemd unit memleakd@.service.
PREFIX ?= /usr/local
SBINDIR := $(PREFIX)/sbin
install: memleakd
	install -D -m 0755 memleakd $(DESTDIR)$(SBINDIR)/memleakd
	install -d $(DESTDIR)$(PREFIX)/share/memleakd/presets
	install -m 0644 presets/*.preset $(DESTDIR)$(PREFIX)/share/memleakd/presets/
	install -D -m 0644 docs/memleakd.8 $(DESTDIR)$(PREFIX)/share/man/man8/memleakd.8
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system
	sed 's|@SBINDIR@|$(SBINDIR)|g' dist/memleakd@.service.in \
		>$(DESTDIR)$(PREFIX)/lib/systemd/system/memleakd@.service

clean:
	rm -rf $(OUT) memleakd

.PHONY: all check check-sanitize fuzz demo bench install clean vmlinux
-include $(OBJS:.o=.d) $(UNIT_TESTS:=.d) $(SAN_OBJS:.o=.d) $(SAN_UNIT_TESTS:=.d) $(FUZZ_OBJS:.o=.d)
