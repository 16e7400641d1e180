/* unwinder.c - keep the BPF unwinder's view of a target current: one
 * thread scans the mappings, builds the missing tables and publishes. */
#include "unwind/unwinder.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "target/elf_object.h"
#include "util/log.h"
#include "unwind/unwind_table.h"

/* The least time between two readings of the mappings. */
#define RESCAN_PAUSE_NS (20 * 1000 * 1000)

/* One object whose table is in the rows map (or could not be). */
struct unwind_object {
	char *key;             /* build-id, or path and inode when it has none */
	uint64_t dev, inode;   /* the file it was read from */
	bool loaded;           /* false: no table (no CFI, unreadable, no room): frame pointers */
	uint32_t first_row, n_rows;
	uint64_t base;         /* link-time address of row pc 0 */
	uint64_t first_offset; /* file offset of its lowest mapping, */
	uint64_t first_vaddr;  /* and the link-time address there */
};

struct unwinder {
	struct tracer *tracer;
	struct target view;    /* pid, index and root of the target; no maps: the thread reads its own */
	bool full;
	uint32_t capacity, used_rows;
	struct unwind_object *objects;
	size_t n_objects;
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
};

static uint64_t dev_of(const struct proc_map *m)
{
	return (uint64_t)m->dev_major << 32 | m->dev_minor;
}

static struct unwind_object *object_by_file(struct unwinder *u, const struct proc_map *m)
{
	for (size_t i = 0; i < u->n_objects; i++)
		if (u->objects[i].inode == m->inode && u->objects[i].dev == dev_of(m))
			return &u->objects[i];
	return NULL;
}

static struct unwind_object *object_by_key(struct unwinder *u, const char *key)
{
	for (size_t i = 0; i < u->n_objects; i++)
		if (!strcmp(u->objects[i].key, key))
			return &u->objects[i];
	return NULL;
}

static struct unwind_object *object_add(struct unwinder *u, const struct proc_map *m,
					const char *key)
{
	struct unwind_object *objects = realloc(u->objects, (u->n_objects + 1) * sizeof(*objects));
	struct unwind_object *o;

	if (!objects)
		return NULL;
	u->objects = objects;
	o = &objects[u->n_objects];
	*o = (struct unwind_object){ .key = strdup(key), .dev = dev_of(m), .inode = m->inode };
	if (!o->key)
		return NULL;
	u->n_objects++;
	return o;
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

static void copy_table(struct unwind_object *o, const struct unwind_object *from)
{
	o->loaded = from->loaded;
	o->first_row = from->first_row;
	o->n_rows = from->n_rows;
	o->base = from->base;
}

static int load_table(struct unwinder *u, struct unwind_object *o, const struct unwind_table *tab)
{
	uint32_t n = (uint32_t)tab->n_rows;
	int r;

	if (n > u->capacity - u->used_rows)
		return -ENOSPC;
	r = tracer__load_unwind_rows(u->tracer, u->used_rows, tab->rows, n);
	if (r < 0)
		return r;
	o->first_row = u->used_rows;
	o->n_rows = n;
	o->base = tab->base;
	o->loaded = true;
	u->used_rows += n;
	return 0;
}

static double ms_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) * 1e3 + (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

/* Build and load the table of object o, read from elf. A failure leaves
 * the object to frame pointers, said once. */
static void build_object(struct unwinder *u, struct unwind_object *o, Elf *elf,
			 const struct proc_map *m)
{
	struct unwind_table *tab = NULL;
	struct timespec start;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &start);
	r = unwind_table__build(elf, u->full, &u->stop, &tab);
	if (r == 0)
		r = load_table(u, o, tab);
	if (r == 0)
		log_debug("unwind table: %s: %zu rows, %zu bytes (%zu FDEs, %zu left to frame "
			  "pointers, %zu rules not followed), built in %.1f ms", m->path,
			  tab->n_rows, unwind_table__bytes(tab), tab->n_fdes, tab->n_fp_fdes,
			  tab->n_unsupported, ms_since(&start));
	else if (r == -ENOSPC)
		log_warn("unwind table: %s: %zu rows do not fit (%u of %u rows used): its frames "
			 "take the frame-pointer walk", m->path, tab->n_rows, u->used_rows, u->capacity);
	else if (r != -ECANCELED)
		log_warn("unwind table: %s: %s: its frames take the frame-pointer walk", m->path,
			 strerror(-r));
	unwind_table__free(tab);
}

/* The bias of file mapping m of object o: its lowest-offset mapping is
 * where the object was opened from the first time. */
static bool bias_of(const struct unwind_object *o, const struct proc_maps *maps,
		    const struct proc_map *m, uint64_t *bias)
{
	const struct proc_map *first = proc_maps__first_of(maps, m);

	if (first->offset != o->first_offset)
		return false;
	*bias = first->start - o->first_vaddr;
	return true;
}

/* The ELF file behind file mapping m, without its symbols: the table
 * needs only its sections, the key its build-id. Returns 0, *out and the
 * run-time address of its lowest mapping minus the link-time one, or
 * -errno. */
static int open_file(const struct unwinder *u, const struct proc_maps *maps,
		     const struct proc_map *m, struct elf_object **out, uint64_t *bias)
{
	const struct proc_map *first = proc_maps__first_of(maps, m);
	char buf[PATH_MAX];
	const char *path;
	uint64_t vaddr;
	int dir_fd;
	int r = proc_maps__object_location(maps, m, u->view.root_fd, buf, sizeof(buf), &dir_fd,
					   &path);

	if (r == 0)
		r = elf_object__open_headers(dir_fd, path, out);
	if (r < 0)
		return r;
	r = elf_object__offset_to_vaddr(*out, first->offset, &vaddr);
	if (r < 0) {
		elf_object__free(*out);
		return r;
	}
	*bias = first->start - vaddr;
	return 0;
}

/* Open the object behind file mapping m, not seen before as a file: a
 * known build-id takes the table already loaded, else the table is built.
 * NULL when it cannot be read or on ENOMEM. */
static struct unwind_object *object_open(struct unwinder *u, const struct proc_maps *maps,
					 const struct proc_map *m)
{
	struct unwind_object *o, *same;
	struct elf_object *elf;
	const char *build_id;
	char key[PATH_MAX + 32];
	uint64_t bias;

	if (open_file(u, maps, m, &elf, &bias) < 0)
		return NULL;
	build_id = elf_object__build_id(elf);
	if (build_id)
		snprintf(key, sizeof(key), "%s", build_id);
	else
		snprintf(key, sizeof(key), "%s:%llu", m->path, (unsigned long long)m->inode);
	same = object_by_key(u, key);
	o = object_add(u, m, key);
	if (o) {
		const struct proc_map *first = proc_maps__first_of(maps, m);

		o->first_offset = first->offset;
		o->first_vaddr = first->start - bias;
		if (same)
			copy_table(o, same);
		else
			build_object(u, o, elf_object__elf(elf), m);
	}
	elf_object__free(elf);
	return o;
}

/* Describe file mapping m of object o (NULL: unreadable) for the BPF side. */
static void describe_mapping(const struct unwind_object *o, const struct proc_maps *maps,
			     const struct proc_map *m, struct unwind_mapping *out)
{
	uint64_t bias;

	*out = (struct unwind_mapping){ .start = m->start, .end = m->end, .kind = UNWIND_MAP_TABLE };
	if (o && o->loaded && bias_of(o, maps, m, &bias)) {
		out->first_row = o->first_row;
		out->n_rows = o->n_rows;
		out->table_bias = bias + o->base;
	}
}

static void publish(struct unwinder *u)
{
	int r = tracer__publish_unwind_mappings(u->tracer, u->view.index, u->published,
						u->n_published);

	if (r < 0)
		log_warn("pid %d: cannot publish its mappings to the unwinder: %s", u->view.pid,
			 strerror(-r));
}

/* The executable mappings of maps, described with what is known; objects
 * not seen yet are pending. */
static void describe_known(struct unwinder *u, const struct proc_maps *maps)
{
	size_t executable = 0;

	u->n_published = 0;
	for (size_t i = 0; i < maps->count; i++) {
		const struct proc_map *m = &maps->maps[i];
		struct unwind_mapping *out = &u->published[u->n_published];
		const struct unwind_object *o;

		if (!m->executable || ++executable > MEMLEAKD_MAX_MAPPINGS)
			continue;
		u->n_published++;
		if (special_mapping(m, out))
			continue;
		o = object_by_file(u, m);
		if (o) {
			describe_mapping(o, maps, m, out);
			continue;
		}
		*out = (struct unwind_mapping){ .start = m->start, .end = m->end,
						.kind = UNWIND_MAP_PENDING };
	}
	if (executable > MEMLEAKD_MAX_MAPPINGS && !u->warned_full)
		log_warn("pid %d has %zu executable mappings: stacks end in code past the "
			 "first %d", u->view.pid, executable, MEMLEAKD_MAX_MAPPINGS);
	u->warned_full |= executable > MEMLEAKD_MAX_MAPPINGS;
}

/* Read the mappings and publish them at once, objects not seen yet marked
 * pending; then build their tables one by one, publishing after each.
 * Returns 0, or -ESRCH once the target is gone. */
static int scan(struct unwinder *u)
{
	struct unwind_mapping *ms = u->published;
	struct proc_maps *maps;
	int r = proc_maps__read(u->view.pid, &maps);

	if (r < 0)
		return -ESRCH;
	describe_known(u, maps);
	publish(u);
	for (size_t i = 0, n = 0; i < maps->count && n < u->n_published && !u->stop; i++) {
		const struct proc_map *m = &maps->maps[i];
		struct unwind_object *o;

		if (!m->executable)
			continue;
		if (ms[n++].kind != UNWIND_MAP_PENDING)
			continue;
		o = object_by_file(u, m);
		if (!o)
			o = object_open(u, maps, m);
		describe_mapping(o, maps, m, &ms[n - 1]);
		publish(u);
	}
	proc_maps__free(maps);
	return 0;
}

/* Unblock unwinder__wait_ready: the first scan is done, or the target is
 * gone before it could be. */
static void set_ready(struct unwinder *u)
{
	pthread_mutex_lock(&u->lock);
	u->ready = true;
	pthread_cond_broadcast(&u->wake);
	pthread_mutex_unlock(&u->lock);
}

static void *thread_main(void *arg)
{
	static const struct timespec rescan_pause = { .tv_nsec = RESCAN_PAUSE_NS };
	struct unwinder *u = arg;
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
		tracer__clear_rescan(u->tracer, u->view.index);
		if (scan(u) < 0)
			break;
		if (first)
			log_info("unwind tables ready: %zu objects, %u rows (%zu KiB) of %u",
				 u->n_objects, u->used_rows,
				 (size_t)u->used_rows * sizeof(struct unwind_row) / 1024, u->capacity);
		first = false;
		set_ready(u);
		/* Requests that keep coming (code in a mapping past the
		 * limit) cost one scan per pause, not a busy thread. */
		nanosleep(&rescan_pause, NULL);
	}
	set_ready(u);
	return NULL;
}

static void request_scan(struct unwinder *u)
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

int unwinder__new(struct tracer *tr, const struct target *t, bool full, uint32_t capacity,
		  struct unwinder **out)
{
	struct unwinder *u = calloc(1, sizeof(*u));
	struct tracer_maps maps;
	int r = -ENOMEM;

	if (!u)
		return -ENOMEM;
	*u = (struct unwinder){ .tracer = tr, .view = *t, .full = full, .capacity = capacity };
	u->view.maps = NULL;
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->wake, NULL);
	u->published = calloc(MEMLEAKD_MAX_MAPPINGS, sizeof(*u->published));
	tracer__maps(tr, &maps);
	u->events = ring_buffer__new(maps.maps_events, on_event, u, NULL);
	if (!u->published || !u->events)
		goto fail;
	u->rescan = true;
	r = -pthread_create(&u->thread, NULL, thread_main, u);
	if (r < 0)
		goto fail;
	u->started = true;
	*out = u;
	return 0;
fail:
	unwinder__free(u);
	return r;
}

int unwinder__wait_ready(struct unwinder *u, unsigned int timeout_ms)
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

int unwinder__dlopen_probe(struct unwinder *u, const struct target *t, struct allocator_probe *p)
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

int unwinder__events_fd(const struct unwinder *u)
{
	return ring_buffer__epoll_fd(u->events);
}

void unwinder__handle_events(struct unwinder *u)
{
	ring_buffer__consume(u->events);
}

void unwinder__free(struct unwinder *u)
{
	if (!u)
		return;
	if (u->started) {
		pthread_mutex_lock(&u->lock);
		u->stop = true;
		pthread_cond_signal(&u->wake);
		pthread_mutex_unlock(&u->lock);
		pthread_join(u->thread, NULL);
	}
	ring_buffer__free(u->events);
	for (size_t i = 0; i < u->n_objects; i++)
		free(u->objects[i].key);
	free(u->objects);
	free(u->published);
	target_object__clear(&u->dl_object);
	pthread_mutex_destroy(&u->lock);
	pthread_cond_destroy(&u->wake);
	free(u);
}
