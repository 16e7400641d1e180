/* unwind_publisher.c - keep the BPF unwinder's view of every target
 * current: one thread scans each target's mappings when asked, has the
 * missing tables built, publishes, and reclaims the rows of objects no
 * target maps once no BPF program can still read them.
 *
 * Stopping does not wait for a table to be built: the build checks the
 * stop flag as it goes, and a thread that does not end soon (blocked
 * reading a file the target serves, say) is left behind; it makes no
 * call into the tracer once the flag is set. */
#include "unwind/unwind_publisher.h"

#include <errno.h>
#include <fcntl.h>
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
#include "util/clock.h"
#include "util/log.h"

/* The least time between two readings of the mappings. */
#define RESCAN_PAUSE_NS (20 * 1000 * 1000)
/* How long stopping waits for the thread before leaving it behind, in seconds. */
#define STOP_WAIT_S 1
/* Far longer than any BPF program runs: where the kernel cannot say when
 * the programs reading a publication are done, waiting this long does. */
#define READERS_PAUSE_NS (100 * 1000 * 1000)

/* One target whose mappings the thread publishes. The thread alone reads
 * and writes its published mappings and maps; the flags are under the
 * publisher's lock; dl_object is the caller's thread's. */
struct published {
	struct target view;    /* pid, index, and descriptors of its own: /proc and root */
	struct unwind_mapping *published; /* MEMLEAKD_MAX_MAPPINGS of them */
	uint32_t n_published;
	struct proc_maps *maps; /* as the last scan read them */
	bool warned_full;      /* more executable mappings than the BPF side takes */
	uint64_t scanned_ns;   /* CLOCK_MONOTONIC of the last scan */
	bool rescan;           /* under lock */
	bool ready;            /* under lock: the first scan is done */
	bool scanning;         /* under lock: the thread scans it, and frees it once removed */
	bool removed;          /* set under lock and tracer_lock */
	struct target_object dl_object; /* ld.so, for the dlopen probe */
};

struct unwind_publisher {
	struct tracer *tracer;
	struct object_tables *tables;
	struct ring_buffer *events;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct published *targets[MEMLEAKD_MAX_TARGETS]; /* under lock */
	bool forget;           /* under lock: a target went, its objects may be unmapped */
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

static void publish(struct unwind_publisher *u, struct published *p)
{
	int r;

	if (!tracer_begin(u))
		return;
	/* Removed: its index may serve another target already. */
	if (__atomic_load_n(&p->removed, __ATOMIC_ACQUIRE)) {
		tracer_done(u);
		return;
	}
	r = tracer__publish_unwind_mappings(u->tracer, p->view.index, p->published,
					    p->n_published);
	tracer_done(u);
	if (r < 0)
		log_warn("pid %d: cannot publish its mappings to the unwinder: %s", p->view.pid,
			 strerror(-r));
}

/* The executable mappings of maps, described with what is known; objects
 * not seen yet are pending. */
static void describe_known(struct unwind_publisher *u, struct published *p,
			   const struct proc_maps *maps)
{
	size_t executable = 0;

	p->n_published = 0;
	for (size_t i = 0; i < maps->count; i++) {
		const struct proc_map *m = &maps->maps[i];
		struct unwind_mapping *out = &p->published[p->n_published];

		if (!m->executable || ++executable > MEMLEAKD_MAX_MAPPINGS)
			continue;
		p->n_published++;
		if (special_mapping(m, out) || object_tables__describe(u->tables, maps, m, out))
			continue;
		*out = (struct unwind_mapping){ .start = m->start, .end = m->end,
						.kind = UNWIND_MAP_PENDING };
	}
	if (executable > MEMLEAKD_MAX_MAPPINGS && !p->warned_full)
		log_warn("pid %d has %zu executable mappings: stacks end in code past the "
			 "first %d", p->view.pid, executable, MEMLEAKD_MAX_MAPPINGS);
	p->warned_full |= executable > MEMLEAKD_MAX_MAPPINGS;
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

/* Forget the objects no target maps any more, by the mappings each last
 * read. Returns whether rows wait to be reclaimed. */
static bool forget_unmapped(struct unwind_publisher *u)
{
	const struct proc_maps *maps[MEMLEAKD_MAX_TARGETS];
	size_t n = 0;
	bool retiring;

	pthread_mutex_lock(&u->lock);
	for (size_t i = 0; i < MEMLEAKD_MAX_TARGETS; i++)
		if (u->targets[i] && u->targets[i]->maps)
			maps[n++] = u->targets[i]->maps;
	retiring = object_tables__forget_unmapped(u->tables, maps, n);
	pthread_mutex_unlock(&u->lock);
	return retiring;
}

/* Once rows are reclaimed, the objects that found no room before are
 * pending again, in every target: each reads its mappings again. */
static void reclaim_rows(struct unwind_publisher *u)
{
	wait_for_readers();
	object_tables__reclaim(u->tables);
	pthread_mutex_lock(&u->lock);
	for (size_t i = 0; i < MEMLEAKD_MAX_TARGETS; i++)
		if (u->targets[i])
			u->targets[i]->rescan = true;
	pthread_mutex_unlock(&u->lock);
}

/* Read p's mappings and publish them at once, objects not seen yet marked
 * pending; reclaim the rows of objects no target maps; then build the new
 * objects' tables one by one, publishing after each. Returns 0, or -ESRCH
 * once the target is gone. */
static int scan(struct unwind_publisher *u, struct published *p)
{
	struct unwind_mapping *ms = p->published;
	struct object_table_note note;
	struct proc_maps *maps;
	int r = proc_maps__read_at(p->view.proc_fd, p->view.pid, -1, &maps);

	if (r < 0)
		return -ESRCH;
	describe_known(u, p, maps);
	publish(u, p);
	pthread_mutex_lock(&u->lock);
	proc_maps__free(p->maps);
	p->maps = maps;
	pthread_mutex_unlock(&u->lock);
	if (forget_unmapped(u)) {
		reclaim_rows(u);
		describe_known(u, p, maps);
		publish(u, p);
	}
	for (size_t i = 0, n = 0; i < maps->count && n < p->n_published && !u->stop; i++) {
		const struct proc_map *m = &maps->maps[i];

		if (!m->executable)
			continue;
		if (ms[n++].kind != UNWIND_MAP_PENDING)
			continue;
		object_tables__build(u->tables, maps, m, p->view.root_fd, &ms[n - 1], &note);
		publish(u, p);
		if (note.built)
			log_debug("unwind table: %s: %zu rows, %zu bytes (%zu FDEs, %zu left to frame "
				  "pointers, %zu rules not followed), built in %.1f ms", m->path,
				  note.rows, note.bytes, note.fdes, note.fp_fdes, note.unsupported,
				  note.ms);
	}
	return 0;
}

static void log_ready(const struct unwind_publisher *u, int pid)
{
	size_t objects;
	uint32_t rows, capacity;

	object_tables__usage(u->tables, &objects, &rows, &capacity);
	log_info("unwind tables ready: %zu objects, %u rows (%zu KiB) of %u (pid %d)", objects,
		 rows, (size_t)rows * sizeof(struct unwind_row) / 1024, capacity, pid);
}

static void published_free(struct published *p)
{
	if (!p)
		return;
	if (p->view.proc_fd >= 0)
		close(p->view.proc_fd);
	if (p->view.root_fd >= 0)
		close(p->view.root_fd);
	proc_maps__free(p->maps);
	free(p->published);
	target_object__clear(&p->dl_object);
	free(p);
}

/* The next target to scan, marked scanning, or NULL; under lock. A target
 * scanned less than RESCAN_PAUSE_NS ago waits: requests that keep coming
 * (code in a mapping past the limit) cost one scan per pause, not a busy
 * thread. *wait_ns says how long until one is due, 0 when none waits. */
static struct published *next_due(struct unwind_publisher *u, uint64_t now, uint64_t *wait_ns)
{
	*wait_ns = 0;
	for (size_t i = 0; i < MEMLEAKD_MAX_TARGETS; i++) {
		struct published *p = u->targets[i];
		uint64_t due;

		if (!p || !p->rescan)
			continue;
		due = p->scanned_ns ? p->scanned_ns + RESCAN_PAUSE_NS : 0;
		if (due <= now) {
			p->rescan = false;
			p->scanning = true;
			return p;
		}
		if (!*wait_ns || due - now < *wait_ns)
			*wait_ns = due - now;
	}
	return NULL;
}

static void wait_wake(struct unwind_publisher *u, uint64_t wait_ns)
{
	struct timespec until;

	if (!wait_ns) {
		pthread_cond_wait(&u->wake, &u->lock);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)(wait_ns / 1000000000);
	until.tv_nsec += (long)(wait_ns % 1000000000);
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(&u->wake, &u->lock, &until);
}

/* The scan of p is over: it is ready, or freed if it was removed meanwhile. */
static void scanned(struct unwind_publisher *u, struct published *p)
{
	bool first, removed;

	pthread_mutex_lock(&u->lock);
	p->scanning = false;
	p->scanned_ns = monotonic_ns();
	first = !p->ready;
	p->ready = true;
	removed = p->removed;
	pthread_cond_broadcast(&u->wake);
	pthread_mutex_unlock(&u->lock);
	if (first && !removed && !u->stop)
		log_ready(u, p->view.pid);
	if (removed)
		published_free(p);
}

static void *thread_main(void *arg)
{
	struct unwind_publisher *u = arg;

	for (;;) {
		struct published *p = NULL;
		uint64_t wait_ns = 0;
		bool forget;

		pthread_mutex_lock(&u->lock);
		while (!u->stop && !u->forget && !(p = next_due(u, monotonic_ns(), &wait_ns)))
			wait_wake(u, wait_ns);
		forget = u->forget;
		u->forget = false;
		pthread_mutex_unlock(&u->lock);
		if (u->stop) {
			if (p)
				scanned(u, p);
			break;
		}
		if (forget && forget_unmapped(u))
			reclaim_rows(u);
		if (!p)
			continue;
		/* Cleared before reading: a change after the read asks again. */
		if (tracer_begin(u)) {
			if (!__atomic_load_n(&p->removed, __ATOMIC_ACQUIRE))
				tracer__clear_rescan(u->tracer, p->view.index);
			tracer_done(u);
			scan(u, p);
		}
		scanned(u, p);
	}
	return NULL;
}

static void request_scan(struct unwind_publisher *u, uint32_t target)
{
	pthread_mutex_lock(&u->lock);
	if (target < MEMLEAKD_MAX_TARGETS && u->targets[target]) {
		u->targets[target]->rescan = true;
		pthread_cond_signal(&u->wake);
	}
	pthread_mutex_unlock(&u->lock);
}

static int on_event(void *ctx, void *data, size_t size)
{
	const struct maps_event *ev = data;

	if (size >= sizeof(*ev))
		request_scan(ctx, ev->target);
	return 0;
}

int unwind_publisher__new(struct tracer *tr, bool full, uint32_t capacity,
			  struct unwind_publisher **out)
{
	struct unwind_publisher *u = calloc(1, sizeof(*u));
	struct tracer_maps maps;
	int r = -ENOMEM;

	if (!u)
		return -ENOMEM;
	u->tracer = tr;
	pthread_mutex_init(&u->lock, NULL);
	pthread_mutex_init(&u->tracer_lock, NULL);
	pthread_cond_init(&u->wake, NULL);
	u->tables = object_tables__new(load_rows, u, full, capacity, &u->stop);
	tracer__maps(tr, &maps);
	u->events = ring_buffer__new(maps.maps_events, on_event, u, NULL);
	if (!u->tables || !u->events)
		goto fail;
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

int unwind_publisher__add(struct unwind_publisher *u, const struct target *t)
{
	struct published *p;

	if (t->index >= MEMLEAKD_MAX_TARGETS)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->view = (struct target){ .pid = t->pid, .index = t->index, .pidfd = -1 };
	p->view.proc_fd = fcntl(t->proc_fd, F_DUPFD_CLOEXEC, 0);
	p->view.root_fd = fcntl(t->root_fd, F_DUPFD_CLOEXEC, 0);
	p->published = calloc(MEMLEAKD_MAX_MAPPINGS, sizeof(*p->published));
	if (p->view.proc_fd < 0 || p->view.root_fd < 0 || !p->published) {
		int r = p->published ? -errno : -ENOMEM;

		published_free(p);
		return r;
	}
	p->rescan = true;
	pthread_mutex_lock(&u->lock);
	if (u->targets[t->index]) {
		pthread_mutex_unlock(&u->lock);
		published_free(p);
		return -EEXIST;
	}
	u->targets[t->index] = p;
	pthread_cond_signal(&u->wake);
	pthread_mutex_unlock(&u->lock);
	return 0;
}

void unwind_publisher__remove(struct unwind_publisher *u, uint32_t target)
{
	struct published *p;
	bool scanning;

	if (target >= MEMLEAKD_MAX_TARGETS)
		return;
	pthread_mutex_lock(&u->tracer_lock);
	pthread_mutex_lock(&u->lock);
	p = u->targets[target];
	u->targets[target] = NULL;
	if (p) {
		__atomic_store_n(&p->removed, true, __ATOMIC_RELEASE);
		target_object__clear(&p->dl_object);
		u->forget = true;
		pthread_cond_signal(&u->wake);
	}
	/* A scan under way frees it when it ends; no scan starts now. */
	scanning = p && p->scanning;
	pthread_mutex_unlock(&u->lock);
	if (p)
		tracer__publish_unwind_mappings(u->tracer, target, NULL, 0);
	pthread_mutex_unlock(&u->tracer_lock);
	if (p && !scanning)
		published_free(p);
}

int unwind_publisher__wait_ready(struct unwind_publisher *u, uint32_t target,
				 unsigned int timeout_ms)
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
	while (target < MEMLEAKD_MAX_TARGETS && u->targets[target] && !u->targets[target]->ready &&
	       r == 0)
		r = pthread_cond_timedwait(&u->wake, &u->lock, &until);
	r = target < MEMLEAKD_MAX_TARGETS && u->targets[target] && !u->targets[target]->ready ?
	    -ETIMEDOUT : 0;
	pthread_mutex_unlock(&u->lock);
	return r;
}

int unwind_publisher__dlopen_probe(struct unwind_publisher *u, const struct target *t,
				   struct allocator_probe *p)
{
	const struct proc_map **objects;
	struct target_object *dl;
	struct elf_symbol sym;
	size_t n;
	int r;

	/* Only this thread adds and removes targets: no lock to read it. */
	if (t->index >= MEMLEAKD_MAX_TARGETS || !u->targets[t->index])
		return -EINVAL;
	dl = &u->targets[t->index]->dl_object;
	target_object__clear(dl);
	r = target__search_order(t, &objects, &n);
	if (r < 0)
		return r;
	r = -ENOENT;
	/* Backwards: the dynamic linker comes after the libraries it loaded at
	 * start, so this usually opens one object, not every one. */
	for (size_t i = n; i-- > 0 && r == -ENOENT;) {
		r = target__open_object(t, objects[i], dl);
		if (r < 0)
			break;
		r = elf_object__find_function(dl->elf, "_dl_debug_state", ELF_SYMTAB_DYNAMIC, &sym);
		if (r == 0)
			r = allocator_probe_place(p, dl, "_dl_debug_state", &sym,
						  PROBE_MAPS_CHANGE |
						  (uint64_t)t->index << COOKIE_TARGET_SHIFT);
		else
			target_object__clear(dl);
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
	log_warn("the unwind tables' thread did not stop within %d s: left behind", STOP_WAIT_S);
	return false;
}

void unwind_publisher__free(struct unwind_publisher *u)
{
	if (!u)
		return;
	if (u->started && !stop_thread(u)) {
		/* What the thread still uses stays. */
		ring_buffer__free(u->events);
		for (size_t i = 0; i < MEMLEAKD_MAX_TARGETS; i++)
			if (u->targets[i])
				target_object__clear(&u->targets[i]->dl_object);
		return;
	}
	ring_buffer__free(u->events);
	object_tables__free(u->tables);
	for (size_t i = 0; i < MEMLEAKD_MAX_TARGETS; i++)
		published_free(u->targets[i]);
	pthread_mutex_destroy(&u->lock);
	pthread_mutex_destroy(&u->tracer_lock);
	pthread_cond_destroy(&u->wake);
	free(u);
}
