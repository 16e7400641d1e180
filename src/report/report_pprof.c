/* report_pprof.c - a report as a gzip-compressed profile.proto, the format
 * of pprof (github.com/google/pprof/proto/profile.proto), which `pprof`,
 * `go tool pprof` and speedscope open.
 *
 * One sample per stack, its values [inuse_objects, inuse_space,
 * alloc_objects, alloc_space, mapped_space, heap_mapped_space]: for a stack
 * of allocations, outstanding now, then allocated since attach; for a
 * stack of mapped memory, its bytes in the type of its kind, the others 0,
 * so that no type adds the bytes of an allocator's heap to the allocations
 * in it. Each sample carries its kind (alloc, mapped, heap) and its trend
 * as labels, "kind", "class" (new, steady, suspect) and "growth_bytes", for
 * `-tagfocus class=suspect`.
 * Strings, mappings, functions and locations are each written once,
 * deduplicated through one kind of hash table. The whole profile is built
 * in memory, then deflated onto the stream with a gzip header. */
#include "report/report.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "report/protobuf.h"

/* Field numbers of profile.proto. */
enum {
	PROFILE_SAMPLE_TYPE = 1, PROFILE_SAMPLE, PROFILE_MAPPING, PROFILE_LOCATION,
	PROFILE_FUNCTION, PROFILE_STRING_TABLE, PROFILE_TIME_NANOS = 9,
	PROFILE_DURATION_NANOS, PROFILE_PERIOD_TYPE, PROFILE_PERIOD, PROFILE_COMMENT,
	PROFILE_DEFAULT_SAMPLE_TYPE,
};
enum { VALUE_TYPE_TYPE = 1, VALUE_TYPE_UNIT };
enum { SAMPLE_LOCATION_ID = 1, SAMPLE_VALUE, SAMPLE_LABEL };
enum { LABEL_KEY = 1, LABEL_STR, LABEL_NUM, LABEL_NUM_UNIT };
enum {
	MAPPING_ID = 1, MAPPING_MEMORY_START, MAPPING_MEMORY_LIMIT, MAPPING_FILE_OFFSET,
	MAPPING_FILENAME, MAPPING_BUILD_ID, MAPPING_HAS_FUNCTIONS, MAPPING_HAS_FILENAMES,
	MAPPING_HAS_LINE_NUMBERS, MAPPING_HAS_INLINE_FRAMES,
};
enum { LOCATION_ID = 1, LOCATION_MAPPING_ID, LOCATION_ADDRESS, LOCATION_LINE };
enum { LINE_FUNCTION_ID = 1, LINE_LINE };
enum { FUNCTION_ID = 1, FUNCTION_NAME, FUNCTION_SYSTEM_NAME, FUNCTION_FILENAME };

#define STACK_LOST_NAME "[stack lost]"

/* Items of one kind, each with an id (its index + 1), found again by
 * value through open addressing. Items are plain structs copied in. */
struct table {
	char *items;
	size_t item_size, n, cap;
	uint32_t *slots; /* ids, 0 for an empty slot */
	size_t n_slots;  /* power of two, at least twice n */
	uint64_t (*hash)(const void *item);
	bool (*equal)(const void *a, const void *b);
};

/* A string of the string table is borrowed: from the snapshot, its frames,
 * constants, or struct pprof. Its index in the table is its id - 1. */
struct string_item {
	const char *s;
};

struct mapping_item {
	uint64_t start, limit, offset;
	int64_t filename, build_id; /* string indexes */
	bool has_functions;         /* some frame in it was named */
	bool has_filenames, has_line_numbers, has_inline_frames;
};

struct function_item {
	int64_t name, system_name, filename;
};

/* One Line of a location: a function and the line in it. */
struct line_item {
	uint64_t function;
	uint64_t line;
};

/* One address: its lines, innermost first (the calls inlined there, then
 * the function holding them). No line when the frame was not named: pprof
 * then shows the address. */
struct location_item {
	uint64_t mapping, address;
	size_t n_lines;
	struct line_item lines[SYMBOLIZER_MAX_FRAMES];
};

struct pprof {
	struct table strings, mappings, functions, locations;
	int error;                /* -ENOMEM once an item could not be added */
	uint64_t *ids;            /* one sample's location ids */
	size_t ids_cap;
	char comment[64];
	struct pb_buf buf;
};

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdULL;
}

static uint64_t string_hash(const void *item)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)((const struct string_item *)item)->s;
	     *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	return mix(h, 0);
}

static bool string_equal(const void *a, const void *b)
{
	return !strcmp(((const struct string_item *)a)->s, ((const struct string_item *)b)->s);
}

/* Mappings are told apart by their range, offset and file, not by whether
 * a frame in them was named. */
static uint64_t mapping_hash(const void *item)
{
	const struct mapping_item *m = item;

	return mix(mix(mix(mix(0, m->start), m->limit), m->offset), (uint64_t)m->filename);
}

static bool mapping_equal(const void *a, const void *b)
{
	const struct mapping_item *x = a, *y = b;

	return x->start == y->start && x->limit == y->limit && x->offset == y->offset &&
	       x->filename == y->filename;
}

static uint64_t function_hash(const void *item)
{
	const struct function_item *f = item;

	return mix(mix(mix(0, (uint64_t)f->name), (uint64_t)f->system_name), (uint64_t)f->filename);
}

static bool function_equal(const void *a, const void *b)
{
	const struct function_item *x = a, *y = b;

	return x->name == y->name && x->system_name == y->system_name &&
	       x->filename == y->filename;
}

/* The lines are part of the key only so that "[stack lost]", which has no
 * address, stays apart from an unnamed, unmapped frame at 0. */
static uint64_t location_hash(const void *item)
{
	const struct location_item *l = item;
	uint64_t h = mix(mix(0, l->address), l->mapping);

	for (size_t i = 0; i < l->n_lines; i++)
		h = mix(mix(h, l->lines[i].function), l->lines[i].line);
	return h;
}

static bool location_equal(const void *a, const void *b)
{
	const struct location_item *x = a, *y = b;

	return x->address == y->address && x->mapping == y->mapping && x->n_lines == y->n_lines &&
	       !memcmp(x->lines, y->lines, x->n_lines * sizeof(*x->lines));
}

static void *table_item(const struct table *t, uint64_t id)
{
	return t->items + (id - 1) * t->item_size;
}

static void table_free(struct table *t)
{
	free(t->items);
	free(t->slots);
}

/* Doubles the slots and places every item again. Returns 0 or -ENOMEM. */
static int table_grow_slots(struct table *t)
{
	size_t n_slots = t->n_slots ? t->n_slots * 2 : 64;
	uint32_t *slots = calloc(n_slots, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t id = 1; id <= t->n; id++) {
		size_t s = t->hash(table_item(t, id)) & (n_slots - 1);

		while (slots[s])
			s = (s + 1) & (n_slots - 1);
		slots[s] = id;
	}
	free(t->slots);
	t->slots = slots;
	t->n_slots = n_slots;
	return 0;
}

static int table_grow_items(struct table *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	char *items = reallocarray(t->items, cap, t->item_size);

	if (!items)
		return -ENOMEM;
	t->items = items;
	t->cap = cap;
	return 0;
}

/* The id of the item equal to *key, which is copied in when there is
 * none. Returns 0 on ENOMEM (no item has id 0), the table unchanged. */
static uint64_t table_intern(struct table *t, const void *key)
{
	size_t s;

	if ((t->n + 1) * 2 > t->n_slots && (t->n >= UINT32_MAX / 2 || table_grow_slots(t)))
		return 0;
	for (s = t->hash(key) & (t->n_slots - 1); t->slots[s]; s = (s + 1) & (t->n_slots - 1))
		if (t->equal(table_item(t, t->slots[s]), key))
			return t->slots[s];
	if (t->n == t->cap && table_grow_items(t))
		return 0;
	memcpy(t->items + t->n * t->item_size, key, t->item_size);
	t->slots[s] = ++t->n;
	return t->n;
}

/* Interning fails only on ENOMEM, which p->error keeps: the writer checks
 * it once, before anything reaches the stream. */
static uint64_t intern(struct pprof *p, struct table *t, const void *key)
{
	uint64_t id = table_intern(t, key);

	if (!id)
		p->error = -ENOMEM;
	return id;
}

/* The string table index of s ("" is index 0). */
static int64_t str(struct pprof *p, const char *s)
{
	uint64_t id = intern(p, &p->strings, &(struct string_item){ s });

	return id ? (int64_t)id - 1 : 0;
}

static void pprof_init(struct pprof *p)
{
	*p = (struct pprof){
		.strings = { .item_size = sizeof(struct string_item), .hash = string_hash,
			     .equal = string_equal },
		.mappings = { .item_size = sizeof(struct mapping_item), .hash = mapping_hash,
			      .equal = mapping_equal },
		.functions = { .item_size = sizeof(struct function_item), .hash = function_hash,
			       .equal = function_equal },
		.locations = { .item_size = sizeof(struct location_item), .hash = location_hash,
			       .equal = location_equal },
	};
	str(p, "");
}

static void pprof_free(struct pprof *p)
{
	table_free(&p->strings);
	table_free(&p->mappings);
	table_free(&p->functions);
	table_free(&p->locations);
	free(p->ids);
	pb_buf__free(&p->buf);
}

/* A function is its name, its symbol and its source file: one name may
 * stand for static functions of several files. */
static uint64_t function_id(struct pprof *p, const char *name, const char *system_name,
			    const char *file)
{
	struct function_item f = {
		.name = str(p, name),
		.system_name = str(p, system_name ? system_name : name),
		.filename = file ? str(p, file) : 0,
	};

	return intern(p, &p->functions, &f);
}

/* The mapping holding frame f, 0 when f is unmapped. */
static uint64_t mapping_id(struct pprof *p, const struct frame *f)
{
	struct mapping_item key;
	uint64_t id;

	if (!f->module)
		return 0;
	key = (struct mapping_item){
		.start = f->map_start,
		.limit = f->map_end,
		.offset = f->map_offset,
		.filename = str(p, f->module),
		.build_id = f->build_id ? str(p, f->build_id) : 0,
	};
	id = intern(p, &p->mappings, &key);
	if (id) {
		struct mapping_item *m = table_item(&p->mappings, id);

		m->has_functions |= f->function != NULL;
		m->has_filenames |= f->file != NULL;
		m->has_line_numbers |= f->line != 0;
		m->has_inline_frames |= f->inlined;
	}
	return id;
}

/* The location of the frames f[0..n), one address: inlined calls, then the
 * function they are in. */
static uint64_t frame_location(struct pprof *p, const struct frame *f, size_t n)
{
	struct location_item l = { .address = f->addr };

	for (size_t i = 0; i < n; i++) {
		l.mapping = mapping_id(p, &f[i]);
		if (!f[i].function)
			continue;
		l.lines[l.n_lines++] = (struct line_item){
			.function = function_id(p, f[i].function, f[i].mangled, f[i].file),
			.line = f[i].line,
		};
	}
	return intern(p, &p->locations, &l);
}

/* How many frames from f[0] share its address: the inlined calls there and
 * their function. */
static size_t same_address(const struct frame *f, size_t left)
{
	size_t n = 1;

	while (n < left && n < SYMBOLIZER_MAX_FRAMES && f[n - 1].inlined && f[n].addr == f->addr)
		n++;
	return n;
}

/* Fills p->ids with the locations of stack s, innermost first; a lost
 * stack gets one location, "[stack lost]". Returns how many, or 0 on
 * ENOMEM (p->error is set). */
static size_t stack_locations(struct pprof *p, const struct snapshot_stack *s)
{
	size_t n = s->n_frames ? s->n_frames : 1;

	if (n > p->ids_cap) {
		uint64_t *ids = reallocarray(p->ids, n, sizeof(*ids));

		if (!ids) {
			p->error = -ENOMEM;
			return 0;
		}
		p->ids = ids;
		p->ids_cap = n;
	}
	if (!s->n_frames) {
		struct location_item lost = {
			.n_lines = 1,
			.lines[0].function = function_id(p, STACK_LOST_NAME, NULL, NULL),
		};

		p->ids[0] = intern(p, &p->locations, &lost);
		return 1;
	}
	n = 0;
	for (size_t i = 0, k; i < s->n_frames; i += k) {
		k = same_address(&s->frames[i], s->n_frames - i);
		p->ids[n++] = frame_location(p, &s->frames[i], k);
	}
	return n;
}

static void value_type(struct pprof *p, uint32_t field, const char *type, const char *unit)
{
	size_t m = pb_message_begin(&p->buf, field);

	pb_uint(&p->buf, VALUE_TYPE_TYPE, str(p, type));
	pb_uint(&p->buf, VALUE_TYPE_UNIT, str(p, unit));
	pb_message_end(&p->buf, m);
}

static void label(struct pprof *p, const char *key, const char *s, int64_t num, const char *unit)
{
	size_t m = pb_message_begin(&p->buf, SAMPLE_LABEL);

	pb_uint(&p->buf, LABEL_KEY, str(p, key));
	if (s)
		pb_uint(&p->buf, LABEL_STR, str(p, s));
	else
		pb_uint(&p->buf, LABEL_NUM, (uint64_t)num);
	if (unit)
		pb_uint(&p->buf, LABEL_NUM_UNIT, str(p, unit));
	pb_message_end(&p->buf, m);
}

/* The sample types, in the order of a sample's values. */
enum {
	VALUE_INUSE_OBJECTS, VALUE_INUSE_SPACE, VALUE_ALLOC_OBJECTS, VALUE_ALLOC_SPACE,
	VALUE_MAPPED_SPACE, VALUE_HEAP_MAPPED_SPACE, N_VALUES,
};

static void sample(struct pprof *p, const struct snapshot_stack *s)
{
	uint64_t values[N_VALUES] = { 0 };
	size_t n = stack_locations(p, s);
	size_t m = pb_message_begin(&p->buf, PROFILE_SAMPLE);

	if (s->kind == STACK_ALLOC) {
		values[VALUE_INUSE_OBJECTS] = s->allocs;
		values[VALUE_INUSE_SPACE] = s->bytes;
		values[VALUE_ALLOC_OBJECTS] = s->total_allocs;
		values[VALUE_ALLOC_SPACE] = s->total_bytes;
	} else {
		values[s->kind == STACK_MAPPED ? VALUE_MAPPED_SPACE : VALUE_HEAP_MAPPED_SPACE] = s->bytes;
	}
	pb_packed(&p->buf, SAMPLE_LOCATION_ID, p->ids, n);
	pb_packed(&p->buf, SAMPLE_VALUE, values, N_VALUES);
	label(p, "kind", stack_kind_name(s->kind), 0, NULL);
	label(p, "class", stack_class_name(s->trend.cls), 0, NULL);
	label(p, "growth_bytes", NULL, s->trend.growth_bytes, "bytes");
	pb_message_end(&p->buf, m);
}

/* Writes every item of t as an embedded message of field; put writes
 * the fields of one. */
static void items(struct pprof *p, const struct table *t, uint32_t field,
		  void (*put)(struct pb_buf *b, uint64_t id, const void *item))
{
	for (uint64_t id = 1; id <= t->n; id++) {
		size_t m = pb_message_begin(&p->buf, field);

		put(&p->buf, id, table_item(t, id));
		pb_message_end(&p->buf, m);
	}
}

static void mapping_fields(struct pb_buf *b, uint64_t id, const void *item)
{
	const struct mapping_item *m = item;

	pb_uint(b, MAPPING_ID, id);
	pb_uint(b, MAPPING_MEMORY_START, m->start);
	pb_uint(b, MAPPING_MEMORY_LIMIT, m->limit);
	pb_uint(b, MAPPING_FILE_OFFSET, m->offset);
	pb_uint(b, MAPPING_FILENAME, (uint64_t)m->filename);
	pb_uint(b, MAPPING_BUILD_ID, (uint64_t)m->build_id);
	pb_bool(b, MAPPING_HAS_FUNCTIONS, m->has_functions);
	pb_bool(b, MAPPING_HAS_FILENAMES, m->has_filenames);
	pb_bool(b, MAPPING_HAS_LINE_NUMBERS, m->has_line_numbers);
	pb_bool(b, MAPPING_HAS_INLINE_FRAMES, m->has_inline_frames);
}

static void location_fields(struct pb_buf *b, uint64_t id, const void *item)
{
	const struct location_item *l = item;

	pb_uint(b, LOCATION_ID, id);
	pb_uint(b, LOCATION_MAPPING_ID, l->mapping);
	pb_uint(b, LOCATION_ADDRESS, l->address);
	for (size_t i = 0; i < l->n_lines; i++) {
		size_t line = pb_message_begin(b, LOCATION_LINE);

		pb_uint(b, LINE_FUNCTION_ID, l->lines[i].function);
		pb_uint(b, LINE_LINE, l->lines[i].line);
		pb_message_end(b, line);
	}
}

/* name is demangled, system_name the symbol as the object spells it. */
static void function_fields(struct pb_buf *b, uint64_t id, const void *item)
{
	const struct function_item *f = item;

	pb_uint(b, FUNCTION_ID, id);
	pb_uint(b, FUNCTION_NAME, (uint64_t)f->name);
	pb_uint(b, FUNCTION_SYSTEM_NAME, (uint64_t)f->system_name);
	pb_uint(b, FUNCTION_FILENAME, (uint64_t)f->filename);
}

/* Everything whose strings are interned before the string table goes out. */
static void profile_header(struct pprof *p, const struct snapshot *snap)
{
	value_type(p, PROFILE_SAMPLE_TYPE, "inuse_objects", "count");
	value_type(p, PROFILE_SAMPLE_TYPE, "inuse_space", "bytes");
	value_type(p, PROFILE_SAMPLE_TYPE, "alloc_objects", "count");
	value_type(p, PROFILE_SAMPLE_TYPE, "alloc_space", "bytes");
	value_type(p, PROFILE_SAMPLE_TYPE, "mapped_space", "bytes");
	value_type(p, PROFILE_SAMPLE_TYPE, "heap_mapped_space", "bytes");
	value_type(p, PROFILE_PERIOD_TYPE, "space", "bytes");
	/* As Go's heap profiles: the sampling rate, the values already scaled. */
	pb_uint(&p->buf, PROFILE_PERIOD, snap->sample_bytes ? snap->sample_bytes : 1);
	pb_uint(&p->buf, PROFILE_DEFAULT_SAMPLE_TYPE, str(p, "inuse_space"));
	pb_uint(&p->buf, PROFILE_TIME_NANOS,
		(uint64_t)snap->time.tv_sec * 1000000000ULL + (uint64_t)snap->time.tv_nsec);
	pb_uint(&p->buf, PROFILE_DURATION_NANOS, (uint64_t)(snap->since_attach_s * 1e9));
	snprintf(p->comment, sizeof(p->comment), "memleakd: pid %d, report %u", snap->pid,
		 snap->report);
	pb_uint(&p->buf, PROFILE_COMMENT, str(p, p->comment));
}

/* Builds the uncompressed profile in p->buf. Returns 0 or -ENOMEM. */
static int profile_build(struct pprof *p, const struct snapshot *snap)
{
	profile_header(p, snap);
	/* Only the first n_top stacks have frames; all_stacks makes that all. */
	for (size_t i = 0; i < snap->n_top; i++)
		sample(p, &snap->stacks[i]);
	for (size_t i = 0; i < snap->n_top_mappings; i++)
		sample(p, &snap->mappings[i]);
	items(p, &p->mappings, PROFILE_MAPPING, mapping_fields);
	items(p, &p->locations, PROFILE_LOCATION, location_fields);
	items(p, &p->functions, PROFILE_FUNCTION, function_fields);
	for (uint64_t id = 1; id <= p->strings.n; id++)
		pb_string(&p->buf, PROFILE_STRING_TABLE,
			  ((const struct string_item *)table_item(&p->strings, id))->s);
	return p->error ? p->error : p->buf.error;
}

/* Deflates data onto out with a gzip header (windowBits 15 + 16). Returns
 * 0, -ENOMEM when zlib has no memory, or -EIO when the stream fails. */
static int gzip_write(FILE *out, const uint8_t *data, size_t len)
{
	z_stream z = { 0 };
	unsigned char chunk[65536];
	int r = 0, zr;

	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return -ENOMEM;
	z.next_in = (unsigned char *)data;
	do {
		/* avail_in is an unsigned int: feed a larger profile in parts. */
		if (!z.avail_in && len) {
			z.avail_in = len > UINT_MAX ? UINT_MAX : (unsigned int)len;
			len -= z.avail_in;
		}
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		zr = deflate(&z, len ? Z_NO_FLUSH : Z_FINISH);
		if (zr == Z_STREAM_ERROR) {
			r = -EIO;
			break;
		}
		if (fwrite(chunk, 1, sizeof(chunk) - z.avail_out, out) != sizeof(chunk) - z.avail_out) {
			r = -EIO;
			break;
		}
	} while (zr != Z_STREAM_END);
	deflateEnd(&z);
	if (!r && (fflush(out) || ferror(out)))
		r = -EIO;
	return r;
}

static int pprof_write(FILE *out, const struct snapshot *snap, const struct report_options *opt)
{
	struct pprof p;
	int r;

	(void)opt;
	pprof_init(&p);
	r = profile_build(&p, snap);
	if (!r)
		r = gzip_write(out, p.buf.data, p.buf.len);
	pprof_free(&p);
	return r;
}

const struct report_writer report_pprof = {
	.name = "pprof",
	.extension = "pb.gz",
	.document = true,
	.all_stacks = true,
	.write = pprof_write,
};
