/* report_pprof.c - a report as a gzip-compressed profile.proto, the format
 * of pprof (github.com/google/pprof/proto/profile.proto), which `pprof`,
 * `go tool pprof` and speedscope open.
 *
 * One sample per stack, its values [inuse_objects, inuse_space,
 * alloc_objects, alloc_space]: outstanding now, then allocated since
 * attach. Each sample carries the stack's trend as labels, "class" (new,
 * steady, suspect) and "growth_bytes", for `-tagfocus class=suspect`.
 * Strings, mappings, functions and locations are each written once,
 * deduplicated through one kind of hash table. The whole profile is built
 * in memory, then deflated onto the stream with a gzip header. */
#include "report.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "protobuf.h"

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
	MAPPING_FILENAME, MAPPING_BUILD_ID, MAPPING_HAS_FUNCTIONS,
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
};

struct function_item {
	int64_t name, filename;
};

/* function is 0 when the frame was not named: the location has no Line,
 * and pprof shows its address. */
struct location_item {
	uint64_t mapping, address, function;
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

	return mix(mix(0, (uint64_t)f->name), (uint64_t)f->filename);
}

static bool function_equal(const void *a, const void *b)
{
	const struct function_item *x = a, *y = b;

	return x->name == y->name && x->filename == y->filename;
}

/* The function is part of the key only so that "[stack lost]", which has
 * no address, stays apart from an unnamed, unmapped frame at 0. */
static uint64_t location_hash(const void *item)
{
	const struct location_item *l = item;

	return mix(mix(mix(0, l->address), l->mapping), l->function);
}

static bool location_equal(const void *a, const void *b)
{
	const struct location_item *x = a, *y = b;

	return x->address == y->address && x->mapping == y->mapping && x->function == y->function;
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

/* Function.filename stays "" (index 0) and Line.line 0 until the
 * symbolizer reads DWARF line tables: no file is better than a wrong one.
 * When frames carry file:line, the file goes here, the line into
 * location_fields()'s Line, has_filenames/has_line_numbers into
 * mapping_fields(). */
static uint64_t function_id(struct pprof *p, const char *name)
{
	struct function_item f = { .name = str(p, name), .filename = 0 };

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
	if (id && f->function)
		((struct mapping_item *)table_item(&p->mappings, id))->has_functions = true;
	return id;
}

static uint64_t frame_location(struct pprof *p, const struct frame *f)
{
	struct location_item l = {
		.mapping = mapping_id(p, f),
		.address = f->addr,
		.function = f->function ? function_id(p, f->function) : 0,
	};

	return intern(p, &p->locations, &l);
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
		struct location_item lost = { .function = function_id(p, STACK_LOST_NAME) };

		p->ids[0] = intern(p, &p->locations, &lost);
	}
	for (size_t i = 0; i < s->n_frames; i++)
		p->ids[i] = frame_location(p, &s->frames[i]);
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

static void sample(struct pprof *p, const struct snapshot_stack *s)
{
	/* In the order of the sample types. */
	const uint64_t values[] = { s->allocs, s->bytes, s->total_allocs, s->total_bytes };
	size_t n = stack_locations(p, s);
	size_t m = pb_message_begin(&p->buf, PROFILE_SAMPLE);

	pb_packed(&p->buf, SAMPLE_LOCATION_ID, p->ids, n);
	pb_packed(&p->buf, SAMPLE_VALUE, values, sizeof(values) / sizeof(values[0]));
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
}

static void location_fields(struct pb_buf *b, uint64_t id, const void *item)
{
	const struct location_item *l = item;

	pb_uint(b, LOCATION_ID, id);
	pb_uint(b, LOCATION_MAPPING_ID, l->mapping);
	pb_uint(b, LOCATION_ADDRESS, l->address);
	if (l->function) {
		size_t line = pb_message_begin(b, LOCATION_LINE);

		pb_uint(b, LINE_FUNCTION_ID, l->function);
		pb_message_end(b, line);
	}
}

/* system_name is the name too: the symbolizer gives one name per symbol. */
static void function_fields(struct pb_buf *b, uint64_t id, const void *item)
{
	const struct function_item *f = item;

	pb_uint(b, FUNCTION_ID, id);
	pb_uint(b, FUNCTION_NAME, (uint64_t)f->name);
	pb_uint(b, FUNCTION_SYSTEM_NAME, (uint64_t)f->name);
	pb_uint(b, FUNCTION_FILENAME, (uint64_t)f->filename);
}

/* Everything whose strings are interned before the string table goes out. */
static void profile_header(struct pprof *p, const struct snapshot *snap)
{
	value_type(p, PROFILE_SAMPLE_TYPE, "inuse_objects", "count");
	value_type(p, PROFILE_SAMPLE_TYPE, "inuse_space", "bytes");
	value_type(p, PROFILE_SAMPLE_TYPE, "alloc_objects", "count");
	value_type(p, PROFILE_SAMPLE_TYPE, "alloc_space", "bytes");
	value_type(p, PROFILE_PERIOD_TYPE, "space", "bytes");
	pb_uint(&p->buf, PROFILE_PERIOD, 1);
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
