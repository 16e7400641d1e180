/* unwind_publisher.c - keep the BPF unwinder's view of a target current:
 * one thread scans the mappings, has the missing tables built, publishes,
 * and reclaims the rows of objects unmapped once no BPF program can still
 * read them.
 *
 * Stopping does not wait for a table to be built: the build checks the
 * stop flag as it goes, and a thread that does not end soon (blocked
 * reading a file the target serves, say) is left behind; it makes no
 * call into the tracer once the flag is set. */
#include "unwind/unwind_publisher.h"

#include <errno.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "target/elf_object.h"
#include "unwind/object_tables.h"
#include "util/log.h"

/* The least time between two readings of the mappings. */
#define RESCAN_PAUSE_NS (20 * 1000 * 1000)
/* How long stopping waits for the thread before leaving it behind, in seconds. */
#define STOP_WAIT_S 1
/* Far longer than any BPF program runs: where the kernel cannot say when
 * the programs reading a publication are done, waiting this long does. */
#define READERS_PAUSE_NS (100 * 1000 * 1000)

struct unwind_publisher {
	struct tracer *tracer;
	struct target view;    /* pid, index and root of the target; no maps: the thread reads its own */
	struct object_tables *tables;
	struct unwind_mapping *published; /* MEMLEAKD_MAX_MAPPINGS of them */
	uint32_t n_published;
	bool warned_full;      /* more executable mappings than the BPF side takes */
	struct target_object dl_object; /* ld.so, for the dlopen probe */
	struct ring_buffer *events;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool rescan;           /* under lock */
	bool ready;            /* under lock: the first scan is done */
	volatile bool stop;    /* also cancels a table being built */
	pthread_mutex_t tracer_lock; /* held by the thread around each call into the tracer */
};

/* Call into the tracer only while not stopped: the caller holds
 * tracer_lock from a true return until tracer_done. */
static bool tracer_begin(struct unwind_publisher *u)
{
	pthread_mutex_lock(&u->tracer_lock);
	if (!u->stop)
		return true;
	pthread_mutex_unlock(&u->tracer_lock);
	return false;
}

static void tracer_done(struct unwind_publisher *u)
{
	pthread_mutex_unlock(&u->tracer_lock);
}

/* Rows written in runs of this many: the kernel copies them one by one
 * (about 0.5 us each here), and stopping waits for no more than one run. */
#define LOAD_RUN (64 * 1024)

static int load_rows(void *ctx, uint32_t first, const struct unwind_row *rows, uint32_t n)
{
	struct unwind_publisher *u = ctx;
	int r = 0;

	for (uint32_t done = 0, len; done < n && r == 0; done += len) {
		len = n - done < LOAD_RUN ? n - done : LOAD_RUN;
		if (!tracer_begin(u))
			return -ECANCELED;
		r = tracer__load_unwind_rows(u->tracer, first + done, rows + done, len);
		tracer_done(u);
	}
	return r;
}

/* The frames in mapping m: anonymous and special mappings. */
static bool special_mapping(const struct proc_map *m, struct unwind_mapping *out)
{
	if (m->path && m->path[0] == '/')
		return false;
	*out = (struct unwind_mapping){ .start = m->start, .end = m->end };
	/* The vDSO and vsyscall page keep no table: their few functions are
	 * leaves, the frame-pointer step is right. JIT code ends the walk. */
	if (m->path && (!strcmp(m->path, "[vdso]") || !strcmp(m->path, "[vsyscall]")))
		out->kind = UNWIND_MAP_TABLE;
	else
		out->kind = UNWIND_MAP_ANON;
	return true;
}

static void publish(struct unwind_publisher *u)
{
	int r;

	if (!tracer_begin(u))
		return;
	r = tracer__publish_unwind_mappings(u->tracer, u->view.index, u->published,
					    u->n_published);
	tracer_done(u);
	if (r < 0)
		log_warn("pid %d: cannot publish its mappings to the unwinder: %s", u->view.pid,
			 strerror(-r));
}

/* The executable mappings of maps, described with what is known; objects
 * not seen yet are pending. */
static void describe_known(struct unwind_publisher *u, const struct proc_maps *maps)
{
	size_t executable = 0;

	u->n_published = 0;
	for (size_t i = 0; i < maps->count; i++) {
		const struct proc_map *m = &maps->maps[i];
		struct unwind_mapping *out = &u->published[u->n_published];

		if (!m->executable || ++executable > MEMLEAKD_MAX_MAPPINGS)
			continue;
		u->n_published++;
		if (special_mapping(m, out) || object_tables__describe(u->tables, maps, m, out))
			continue;
		*out = (struct unwind_mapping){ .start = m->start, .end = m->end,
						.kind = UNWIND_MAP_PENDING };
	}
	if (executable > MEMLEAKD_MAX_MAPPINGS && !u->warned_full)
		log_warn("pid %d has %zu executable mappings: stacks end in code past the "
			 "first %d", u->view.pid, executable, MEMLEAKD_MAX_MAPPINGS);
	u->warned_full |= executable > MEMLEAKD_MAX_MAPPINGS;
}

/* Wait until no BPF program still reads a publication older than the
 * last. Each runs in an RCU read-side section, and membarrier's global
 * command returns after an RCU grace period; where it is refused
 * (nohz_full), a pause far longer than any program runs. */
static void wait_for_readers(void)
{
	static const struct timespec pause = { .tv_nsec = READERS_PAUSE_NS };

	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) < 0)
		nanosleep(&pause, NULL);
}

/* Read the mappings and publish them at once, objects not seen yet marked
 * pending; reclaim the rows of objects unmapped; then build the new
 * objects' tables one by one, publishing after each. Returns 0, or -ESRCH
 * once the target is gone. */
static int scan(struct unwind_publisher *u)
{
	struct unwind_mapping *ms = u->published;
	struct object_table_note note;
	struct proc_maps *maps;
	int r = proc_maps__read(u->view.pid, &maps);

	if (r < 0)
		return -ESRCH;
	describe_known(u, maps);
	publish(u);
	if (object_tables__forget_unmapped(u->tables, maps)) {
		wait_for_readers();
		object_tables__reclaim(u->tables);
		/* Objects that found no room before are pending again. */
		describe_known(u, maps);
		publish(u);
	}
	for (size_t i = 0, n = 0; i < maps->count && n < u->n_published && !u->stop; i++) {
		const struct proc_map *m = &maps->maps[i];

		if (!m->executable)
			continue;
		if (ms[n++].kind != UNWIND_MAP_PENDING)
			continue;
		object_tables__build(u->tables, maps, m, u->view.root_fd, &ms[n - 1], &note);
		publish(u);
		if (note.built)
			log_debug("unwind table: %s: %zu rows, %zu bytes (%zu FDEs, %zu left to frame "
				  "pointers, %zu rules not followed), built in %.1f ms", m->path,
				  note.rows, note.bytes, note.fdes, note.fp_fdes, note.unsupported,
				  note.ms);
	}
	proc_maps__free(maps);
	return 0;
}

/* Unblock unwind_publisher__wait_ready: the first scan is done, or the
 * target is gone before it could be. */
static void set_ready(struct unwind_publisher *u)
{
	pthread_mutex_lock(&u->lock);
	u->ready = true;
	pthread_cond_broadcast(&u->wake);
	pthread_mutex_unlock(&u->lock);
}

static void log_ready(const struct unwind_publisher *u)
{
	size_t objects;
	uint32_t rows, capacity;

	object_tables__usage(u->tables, &objects, &rows, &capacity);
	log_info("unwind tables ready: %zu objects, %u rows (%zu KiB) of %u", objects, rows,
		 (size_t)rows * sizeof(struct unwind_row) / 1024, capacity);
}

static void *thread_main(void *arg)
{
	static const struct timespec rescan_pause = { .tv_nsec = RESCAN_PAUSE_NS };
	struct unwind_publisher *u = arg;
	bool first = true;

	for (;;) {
		pthread_mutex_lock(&u->lock);
		while (!u->rescan && !u->stop)
			pthread_cond_wait(&u->wake, &u->lock);
		u->rescan = false;
		pthread_mutex_unlock(&u->lock);
		if (u->stop)
			break;
		/* Cleared before reading: a change after the read asks again. */
		if (!tracer_begin(u))
			break;
		tracer__clear_rescan(u->tracer, u->view.index);
		tracer_done(u);
		if (scan(u) < 0)
			break;
		if (first && !u->stop)
			log_ready(u);
		first = false;
		set_ready(u);
		/* Requests that keep coming (code in a mapping past the
		 * limit) cost one scan per pause, not a busy thread. */
		nanosleep(&rescan_pause, NULL);
	}
	set_ready(u);
	return NULL;
}

static void request_scan(struct unwind_publisher *u)
{
	pthread_mutex_lock(&u->lock);
	u->rescan = true;
	pthread_cond_signal(&u->wake);
	pthread_mutex_unlock(&u->lock);
}

static int on_event(void *ctx, void *data, size_t size)
{
	(void)data;
	(void)size;
	request_scan(ctx);
	return 0;
}

int unwind_publisher__new(struct tracer *tr, const struct target *t, bool full, uint32_t capacity,
			  struct unwind_publisher **out)
{
	struct unwind_publisher *u = calloc(1, sizeof(*u));
	struct tracer_maps maps;
	int r = -ENOMEM;

	if (!u)
		return -ENOMEM;
	*u = (struct unwind_publisher){ .tracer = tr, .view = *t };
	u->view.maps = NULL;
	pthread_mutex_init(&u->lock, NULL);
	pthread_mutex_init(&u->tracer_lock, NULL);
	pthread_cond_init(&u->wake, NULL);
	u->tables = object_tables__new(load_rows, u, full, capacity, &u->stop);
	u->published = calloc(MEMLEAKD_MAX_MAPPINGS, sizeof(*u->published));
	tracer__maps(tr, &maps);
	u->events = ring_buffer__new(maps.maps_events, on_event, u, NULL);
	if (!u->tables || !u->published || !u->events)
		goto fail;
	u->rescan = true;
	r = -pthread_create(&u->thread, NULL, thread_main, u);
	if (r < 0)
		goto fail;
	u->started = true;
	*out = u;
	return 0;
fail:
	unwind_publisher__free(u);
	return r;
}

int unwind_publisher__wait_ready(struct unwind_publisher *u, unsigned int timeout_ms)
{
	struct timespec until;
	int r = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&u->lock);
	while (!u->ready && r == 0)
		r = pthread_cond_timedwait(&u->wake, &u->lock, &until);
	r = u->ready ? 0 : -ETIMEDOUT;
	pthread_mutex_unlock(&u->lock);
	return r;
}

int unwind_publisher__dlopen_probe(struct unwind_publisher *u, const struct target *t,
				   struct allocator_probe *p)
{
	const struct proc_map **objects;
	struct elf_symbol sym;
	size_t n;
	int r = target__search_order(t, &objects, &n);

	if (r < 0)
		return r;
	r = -ENOENT;
	/* Backwards: the dynamic linker comes after the libraries it loaded at
	 * start, so this usually opens one object, not every one. */
	for (size_t i = n; i-- > 0 && r == -ENOENT;) {
		r = target__open_object(t, objects[i], &u->dl_object);
		if (r < 0)
			break;
		r = elf_object__find_function(u->dl_object.elf, "_dl_debug_state", ELF_SYMTAB_DYNAMIC,
					      &sym);
		if (r == 0)
			r = allocator_probe_place(p, &u->dl_object, "_dl_debug_state", &sym,
						  PROBE_MAPS_CHANGE |
						  (uint64_t)t->index << COOKIE_TARGET_SHIFT);
		else
			target_object__clear(&u->dl_object);
	}
	free(objects);
	return r;
}

int unwind_publisher__events_fd(const struct unwind_publisher *u)
{
	return ring_buffer__epoll_fd(u->events);
}

void unwind_publisher__handle_events(struct unwind_publisher *u)
{
	ring_buffer__consume(u->events);
}

/* Stop the thread: it ends within STOP_WAIT_S, or it is left behind and
 * makes no more calls into the tracer. Returns whether it ended. */
static bool stop_thread(struct unwind_publisher *u)
{
	struct timespec until;

	pthread_mutex_lock(&u->lock);
	u->stop = true;
	pthread_cond_signal(&u->wake);
	pthread_mutex_unlock(&u->lock);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += STOP_WAIT_S;
	if (pthread_timedjoin_np(u->thread, NULL, &until) == 0)
		return true;
	/* A call under way ends before the tracer goes; none follows. */
	pthread_mutex_lock(&u->tracer_lock);
	pthread_mutex_unlock(&u->tracer_lock);
	log_warn("pid %d: the unwind tables' thread did not stop within %d s: left behind",
		 u->view.pid, STOP_WAIT_S);
	return false;
}

void unwind_publisher__free(struct unwind_publisher *u)
{
	if (!u)
		return;
	if (u->started && !stop_thread(u)) {
		/* What the thread still uses stays. */
		ring_buffer__free(u->events);
		target_object__clear(&u->dl_object);
		return;
	}
	ring_buffer__free(u->events);
	object_tables__free(u->tables);
	free(u->published);
	target_object__clear(&u->dl_object);
	pthread_mutex_destroy(&u->lock);
	pthread_mutex_destroy(&u->tracer_lock);
	pthread_cond_destroy(&u->wake);
	free(u);
}
