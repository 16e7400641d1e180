/* fuzz_pprof.c - the pprof writer (report_pprof) on snapshots made from the
 * input: stacks of frames with arbitrary names, files, modules and
 * build-ids, inlined calls, mappings, lost stacks and any 64-bit figures.
 * The profile is written into memory, gunzipped, and decoded here by a
 * small protobuf reader of profile.proto's fields
 * (github.com/google/pprof/proto/profile.proto), which checks:
 *
 * - every varint and length stays inside its message, and each field has
 *   the wire type profile.proto gives it;
 * - the string table starts with "" and holds each string once, and every
 *   string index is inside it;
 * - ids of mappings, locations and functions run 1..n, and every id used
 *   is defined;
 * - there are 6 sample types and, in the snapshot's order, one sample per
 *   stack with its 6 values (no mapped space: the stacks are allocations'),
 *   its kind, class and growth labels, and one location
 *   per address, whose lines name the frames' functions, files and lines
 *   and whose mapping is the frame's. */
#include <string.h>
#include <zlib.h>

#include "fuzz.h"
#include "report/report.h"

#define MAX_STACKS 8
#define MAX_FRAMES 24
#define MAX_STRINGS 16

/* The snapshot, made from the input. */
struct made {
	struct snapshot snap;
	struct snapshot_stack stacks[MAX_STACKS];
	struct frame frames[MAX_STACKS][MAX_FRAMES];
	char *strings[MAX_STRINGS];
};

/* One of a few strings cut from the input, or NULL: frames share them, as
 * frames of one function do. */
static const char *pick(struct made *m, const uint8_t **data, size_t *size)
{
	uint8_t i = (uint8_t)fuzz_take(data, size, 1);

	return i < MAX_STRINGS * 2 ? NULL : m->strings[i % MAX_STRINGS];
}

/* The next n bytes of the input as a number (fuzz_take), in the order of
 * the statements: initializers would leave the order to the compiler. */
#define TAKE(n) fuzz_take(&data, &size, (n))

static void make_frame(struct made *m, struct frame *f, const uint8_t **datap, size_t *sizep)
{
	const uint8_t *data = *datap;
	size_t size = *sizep;
	uint8_t flags = (uint8_t)TAKE(1);

	memset(f, 0, sizeof(*f));
	/* Few addresses, so that frames and locations repeat. */
	f->addr = TAKE(flags & 1 ? 8 : 1);
	f->function = pick(m, &data, &size);
	f->mangled = pick(m, &data, &size);
	f->file = pick(m, &data, &size);
	f->line = (unsigned int)TAKE(flags & 2 ? 4 : 1);
	f->inlined = flags & 4;
	f->module = pick(m, &data, &size);
	f->build_id = pick(m, &data, &size);
	if (flags & 8) {
		f->map_start = TAKE(1) << 12;
		f->map_end = f->map_start + (TAKE(1) << 12);
		f->map_offset = TAKE(1) << 12;
	}
	*datap = data;
	*sizep = size;
}

/* Input: 16 strings (a length byte, then the bytes), the snapshot's
 * header, a count of stacks, then each stack: a byte of widths, its
 * figures, its class and growth, its frame count and frames (a byte of
 * flags, then the address, strings picked by index, line and mapping). */
static void make_snapshot(struct made *m, const uint8_t *data, size_t size)
{
	struct snapshot *snap = &m->snap;

	for (size_t i = 0; i < MAX_STRINGS; i++) {
		size_t len = TAKE(1) % 24;

		len = len < size ? len : size;
		m->strings[i] = strndup((const char *)data, len);
		FUZZ_CHECK(m->strings[i] != NULL);
		data += len;
		size -= len;
	}
	snap->stacks = m->stacks;
	snap->time.tv_sec = (time_t)TAKE(4);
	snap->time.tv_nsec = (long)(TAKE(4) % 1000000000);
	snap->pid = (int)TAKE(2);
	snap->sample_bytes = TAKE(2);
	snap->since_attach_s = (double)TAKE(4) / 1000;
	snap->report = (unsigned int)TAKE(2);
	snap->n_stacks = snap->n_top = TAKE(1) % (MAX_STACKS + 1);
	for (size_t i = 0; i < snap->n_stacks; i++) {
		struct snapshot_stack *s = &m->stacks[i];
		uint8_t widths = (uint8_t)TAKE(1);

		s->stack_id = (uint32_t)i;
		s->bytes = TAKE(widths & 1 ? 8 : 2);
		s->allocs = TAKE(widths & 1 ? 8 : 1);
		s->total_bytes = TAKE(widths & 2 ? 8 : 2);
		s->total_allocs = TAKE(widths & 2 ? 8 : 1);
		s->trend.cls = (enum stack_class)(TAKE(1) % 3);
		s->trend.growth_bytes = (int64_t)TAKE(widths & 4 ? 8 : 2);
		s->n_frames = TAKE(1) % (MAX_FRAMES + 1);
		s->frames = m->frames[i];
		for (size_t j = 0; j < s->n_frames; j++)
			make_frame(m, &s->frames[j], &data, &size);
	}
}

static void free_snapshot(struct made *m)
{
	for (size_t i = 0; i < MAX_STRINGS; i++)
		free(m->strings[i]);
}

/* --- A protobuf reader: a message is the bytes [p, end). */

enum { WIRE_VARINT = 0, WIRE_LEN = 2 };

struct msg {
	const uint8_t *p, *end;
};

static uint64_t varint(struct msg *m)
{
	uint64_t v = 0;

	for (unsigned int shift = 0;; shift += 7) {
		FUZZ_CHECK(m->p < m->end && shift < 64);
		v |= (uint64_t)(*m->p & 0x7f) << shift;
		if (!(*m->p++ & 0x80))
			return v;
	}
}

/* The next field of m: its number and wire type, and its value (a varint,
 * or the bytes of a length-delimited field in *sub). False at the end. */
static bool next_field(struct msg *m, uint32_t *field, unsigned int *wire, uint64_t *v,
		       struct msg *sub)
{
	uint64_t tag;

	if (m->p == m->end)
		return false;
	tag = varint(m);
	*field = (uint32_t)(tag >> 3);
	*wire = tag & 7;
	FUZZ_CHECK(*field > 0 && (*wire == WIRE_VARINT || *wire == WIRE_LEN));
	if (*wire == WIRE_VARINT) {
		*v = varint(m);
		return true;
	}
	*v = varint(m);
	FUZZ_CHECK(*v <= (uint64_t)(m->end - m->p));
	*sub = (struct msg){ m->p, m->p + *v };
	m->p += *v;
	return true;
}

/* Field numbers of profile.proto's messages; a message of varint fields
 * only is read into an array indexed by them. */
enum { PROFILE_SAMPLE_TYPE = 1, PROFILE_SAMPLE, PROFILE_MAPPING, PROFILE_LOCATION,
       PROFILE_FUNCTION, PROFILE_STRING_TABLE, PROFILE_TIME_NANOS = 9,
       PROFILE_DURATION_NANOS, PROFILE_PERIOD_TYPE, PROFILE_PERIOD, PROFILE_COMMENT,
       PROFILE_DEFAULT_SAMPLE_TYPE };
enum { VALUE_TYPE_TYPE = 1, VALUE_TYPE_UNIT, VALUE_TYPE_FIELDS };
enum { SAMPLE_LOCATION_ID = 1, SAMPLE_VALUE, SAMPLE_LABEL };
enum { LABEL_KEY = 1, LABEL_STR, LABEL_NUM, LABEL_NUM_UNIT, LABEL_FIELDS };
/* 7 to 10: has_functions, has_filenames, has_line_numbers, has_inline_frames */
enum { MAPPING_ID = 1, MAPPING_START, MAPPING_LIMIT, MAPPING_OFFSET, MAPPING_FILENAME,
       MAPPING_BUILD_ID, MAPPING_FIELDS = 11 };
enum { LOCATION_ID = 1, LOCATION_MAPPING_ID, LOCATION_ADDRESS, LOCATION_LINE };
enum { LINE_FUNCTION_ID = 1, LINE_LINE, LINE_FIELDS };
enum { FUNCTION_ID = 1, FUNCTION_NAME, FUNCTION_SYSTEM_NAME, FUNCTION_FILENAME,
       FUNCTION_FIELDS };

/* What was decoded. Ids index the arrays from 1. */
struct location {
	uint64_t f[LOCATION_LINE];
	size_t n_lines;
	uint64_t lines[MAX_FRAMES][LINE_FIELDS];
};

struct sample {
	uint64_t locations[MAX_FRAMES], values[8];
	size_t n_locations, n_values;
	uint64_t labels[3][LABEL_FIELDS]; /* kind, class, growth_bytes */
	size_t n_labels;
};

struct profile {
	const uint8_t **strings;
	size_t *string_lens, n_strings;
	uint64_t (*mappings)[MAPPING_FIELDS];
	struct location *locations;
	uint64_t (*functions)[FUNCTION_FIELDS];
	size_t n_mappings, n_locations, n_functions;
	struct sample samples[MAX_STACKS];
	size_t n_samples, n_sample_types;
	uint64_t string_refs[4096]; /* indexes used, checked once all are read */
	size_t n_string_refs;
};

static void string_ref(struct profile *pr, uint64_t index)
{
	FUZZ_CHECK(pr->n_string_refs < sizeof(pr->string_refs) / sizeof(pr->string_refs[0]));
	pr->string_refs[pr->n_string_refs++] = index;
}

/* A message whose fields are all varints numbered 1 to n - 1: f[field] is
 * each one's value, 0 for one not written. */
static void read_varints(struct msg m, uint64_t *f, uint32_t n)
{
	struct msg sub;
	unsigned int wire;
	uint32_t field;
	uint64_t v;

	memset(f, 0, n * sizeof(*f));
	while (next_field(&m, &field, &wire, &v, &sub)) {
		FUZZ_CHECK(wire == WIRE_VARINT && field < n);
		f[field] = v;
	}
}

/* A repeated varint field, packed or not. */
static void repeated(struct msg *sub, unsigned int wire, uint64_t v, uint64_t *out, size_t *n,
		     size_t cap)
{
	if (wire == WIRE_VARINT) {
		FUZZ_CHECK(*n < cap);
		out[(*n)++] = v;
		return;
	}
	while (sub->p < sub->end) {
		FUZZ_CHECK(*n < cap);
		out[(*n)++] = varint(sub);
	}
}

static void read_sample(struct profile *pr, struct msg m)
{
	struct sample *s;
	struct msg sub;
	unsigned int wire;
	uint32_t field;
	uint64_t v;

	FUZZ_CHECK(pr->n_samples < MAX_STACKS);
	s = &pr->samples[pr->n_samples++];
	while (next_field(&m, &field, &wire, &v, &sub)) {
		if (field == SAMPLE_LOCATION_ID) {
			repeated(&sub, wire, v, s->locations, &s->n_locations, MAX_FRAMES);
		} else if (field == SAMPLE_VALUE) {
			repeated(&sub, wire, v, s->values, &s->n_values, 8);
		} else {
			uint64_t *l = s->labels[s->n_labels];

			FUZZ_CHECK(field == SAMPLE_LABEL && wire == WIRE_LEN && s->n_labels++ < 3);
			read_varints(sub, l, LABEL_FIELDS);
			string_ref(pr, l[LABEL_KEY]);
			string_ref(pr, l[LABEL_STR]);
			string_ref(pr, l[LABEL_NUM_UNIT]);
		}
	}
}

static void *grow(void *items, size_t n, size_t size)
{
	void *p = realloc(items, (n + 1) * size);

	FUZZ_CHECK(p != NULL);
	memset((char *)p + n * size, 0, size);
	return p;
}

static void read_location(struct profile *pr, struct msg m)
{
	struct location *l;
	struct msg sub;
	unsigned int wire;
	uint32_t field;
	uint64_t v;

	pr->locations = grow(pr->locations, pr->n_locations, sizeof(*pr->locations));
	l = &pr->locations[pr->n_locations++];
	while (next_field(&m, &field, &wire, &v, &sub)) {
		if (field == LOCATION_LINE) {
			FUZZ_CHECK(wire == WIRE_LEN && l->n_lines < MAX_FRAMES);
			read_varints(sub, l->lines[l->n_lines++], LINE_FIELDS);
			continue;
		}
		FUZZ_CHECK(wire == WIRE_VARINT && field < LOCATION_LINE);
		l->f[field] = v;
	}
	FUZZ_CHECK(l->f[LOCATION_ID] == pr->n_locations);
}

static void read_profile(struct profile *pr, struct msg m)
{
	uint64_t f[MAPPING_FIELDS];
	struct msg sub;
	unsigned int wire;
	uint32_t field;
	uint64_t v;

	while (next_field(&m, &field, &wire, &v, &sub)) {
		FUZZ_CHECK(wire == (field >= PROFILE_TIME_NANOS && field != PROFILE_PERIOD_TYPE
				    ? WIRE_VARINT : WIRE_LEN));
		switch (field) {
		case PROFILE_SAMPLE_TYPE:
		case PROFILE_PERIOD_TYPE:
			read_varints(sub, f, VALUE_TYPE_FIELDS);
			string_ref(pr, f[VALUE_TYPE_TYPE]);
			string_ref(pr, f[VALUE_TYPE_UNIT]);
			pr->n_sample_types += field == PROFILE_SAMPLE_TYPE;
			break;
		case PROFILE_SAMPLE:
			read_sample(pr, sub);
			break;
		case PROFILE_MAPPING:
			pr->mappings = grow(pr->mappings, pr->n_mappings, sizeof(*pr->mappings));
			read_varints(sub, pr->mappings[pr->n_mappings], MAPPING_FIELDS);
			FUZZ_CHECK(pr->mappings[pr->n_mappings][MAPPING_ID] == pr->n_mappings + 1);
			for (size_t i = MAPPING_BUILD_ID + 1; i < MAPPING_FIELDS; i++)
				FUZZ_CHECK(pr->mappings[pr->n_mappings][i] <= 1);
			string_ref(pr, pr->mappings[pr->n_mappings][MAPPING_FILENAME]);
			string_ref(pr, pr->mappings[pr->n_mappings++][MAPPING_BUILD_ID]);
			break;
		case PROFILE_LOCATION:
			read_location(pr, sub);
			break;
		case PROFILE_FUNCTION:
			pr->functions = grow(pr->functions, pr->n_functions, sizeof(*pr->functions));
			read_varints(sub, pr->functions[pr->n_functions], FUNCTION_FIELDS);
			FUZZ_CHECK(pr->functions[pr->n_functions][FUNCTION_ID] == pr->n_functions + 1);
			for (size_t i = FUNCTION_NAME; i < FUNCTION_FIELDS; i++)
				string_ref(pr, pr->functions[pr->n_functions][i]);
			pr->n_functions++;
			break;
		case PROFILE_STRING_TABLE:
			pr->strings = grow(pr->strings, pr->n_strings, sizeof(*pr->strings));
			pr->string_lens = grow(pr->string_lens, pr->n_strings, sizeof(*pr->string_lens));
			pr->strings[pr->n_strings] = sub.p;
			pr->string_lens[pr->n_strings++] = (size_t)(sub.end - sub.p);
			break;
		case PROFILE_COMMENT:
		case PROFILE_DEFAULT_SAMPLE_TYPE:
			string_ref(pr, v);
			break;
		default:
			FUZZ_CHECK(field == PROFILE_TIME_NANOS || field == PROFILE_DURATION_NANOS ||
				   field == PROFILE_PERIOD);
		}
	}
}

static void free_profile(struct profile *pr)
{
	free(pr->strings);
	free(pr->string_lens);
	free(pr->mappings);
	free(pr->locations);
	free(pr->functions);
}

/* --- Checks of the decoded profile against the snapshot. */

/* String index i is s ("" for NULL). */
static bool is_string(const struct profile *pr, uint64_t i, const char *s)
{
	s = s ? s : "";
	return i < pr->n_strings && pr->string_lens[i] == strlen(s) &&
	       !memcmp(pr->strings[i], s, pr->string_lens[i]);
}

static void check_strings(const struct profile *pr)
{
	FUZZ_CHECK(pr->n_strings >= 1 && pr->string_lens[0] == 0);
	for (size_t i = 0; i < pr->n_strings; i++)
		for (size_t j = i + 1; j < pr->n_strings; j++)
			FUZZ_CHECK(pr->string_lens[i] != pr->string_lens[j] ||
				   memcmp(pr->strings[i], pr->strings[j], pr->string_lens[i]));
	for (size_t i = 0; i < pr->n_string_refs; i++)
		FUZZ_CHECK(pr->string_refs[i] < pr->n_strings);
}

/* Every id a sample or location uses is defined. */
static void check_ids(const struct profile *pr)
{
	for (size_t i = 0; i < pr->n_samples; i++)
		for (size_t j = 0; j < pr->samples[i].n_locations; j++)
			FUZZ_CHECK(pr->samples[i].locations[j] >= 1 &&
				   pr->samples[i].locations[j] <= pr->n_locations);
	for (size_t i = 0; i < pr->n_locations; i++) {
		FUZZ_CHECK(pr->locations[i].f[LOCATION_MAPPING_ID] <= pr->n_mappings);
		for (size_t j = 0; j < pr->locations[i].n_lines; j++)
			FUZZ_CHECK(pr->locations[i].lines[j][LINE_FUNCTION_ID] >= 1 &&
				   pr->locations[i].lines[j][LINE_FUNCTION_ID] <= pr->n_functions);
	}
}

/* The location of frames f[0..n), one address (inlined calls first). */
static void check_location(const struct profile *pr, uint64_t id, const struct frame *f, size_t n)
{
	const struct location *l;
	size_t k = 0;

	FUZZ_CHECK(id >= 1 && id <= pr->n_locations);
	l = &pr->locations[id - 1];
	FUZZ_CHECK(l->f[LOCATION_ADDRESS] == f[0].addr);
	for (size_t i = 0; i < n; i++) {
		const uint64_t *fn;

		if (!f[i].function)
			continue;
		FUZZ_CHECK(k < l->n_lines && l->lines[k][LINE_LINE] == f[i].line);
		fn = pr->functions[l->lines[k][LINE_FUNCTION_ID] - 1];
		FUZZ_CHECK(is_string(pr, fn[FUNCTION_NAME], f[i].function));
		FUZZ_CHECK(is_string(pr, fn[FUNCTION_SYSTEM_NAME],
				     f[i].mangled ? f[i].mangled : f[i].function));
		FUZZ_CHECK(is_string(pr, fn[FUNCTION_FILENAME], f[i].file));
		k++;
	}
	FUZZ_CHECK(k == l->n_lines);
	/* The mapping is the last frame's: the function holding the calls. */
	if (!f[n - 1].module) {
		FUZZ_CHECK(l->f[LOCATION_MAPPING_ID] == 0);
	} else {
		const uint64_t *mp;

		FUZZ_CHECK(l->f[LOCATION_MAPPING_ID] >= 1);
		mp = pr->mappings[l->f[LOCATION_MAPPING_ID] - 1];
		FUZZ_CHECK(mp[MAPPING_START] == f[n - 1].map_start &&
			   mp[MAPPING_LIMIT] == f[n - 1].map_end &&
			   mp[MAPPING_OFFSET] == f[n - 1].map_offset);
		FUZZ_CHECK(is_string(pr, mp[MAPPING_FILENAME], f[n - 1].module));
	}
}

static void check_sample(const struct profile *pr, const struct sample *smp,
			 const struct snapshot_stack *s)
{
	/* The stacks made here are allocations: no mapped space. */
	const uint64_t values[] = { s->allocs, s->bytes, s->total_allocs, s->total_bytes, 0, 0 };
	size_t loc = 0;

	FUZZ_CHECK(smp->n_values == 6 && !memcmp(smp->values, values, sizeof(values)));
	FUZZ_CHECK(smp->n_labels == 3);
	FUZZ_CHECK(is_string(pr, smp->labels[0][LABEL_KEY], "kind") &&
		   is_string(pr, smp->labels[0][LABEL_STR], stack_kind_name(s->kind)) &&
		   !smp->labels[0][LABEL_NUM] && !smp->labels[0][LABEL_NUM_UNIT]);
	FUZZ_CHECK(is_string(pr, smp->labels[1][LABEL_KEY], "class") &&
		   is_string(pr, smp->labels[1][LABEL_STR], stack_class_name(s->trend.cls)) &&
		   !smp->labels[1][LABEL_NUM] && !smp->labels[1][LABEL_NUM_UNIT]);
	FUZZ_CHECK(is_string(pr, smp->labels[2][LABEL_KEY], "growth_bytes") &&
		   !smp->labels[2][LABEL_STR] &&
		   smp->labels[2][LABEL_NUM] == (uint64_t)s->trend.growth_bytes &&
		   is_string(pr, smp->labels[2][LABEL_NUM_UNIT], "bytes"));
	if (!s->n_frames) {
		const struct location *l;

		FUZZ_CHECK(smp->n_locations == 1);
		l = &pr->locations[smp->locations[0] - 1];
		FUZZ_CHECK(l->n_lines == 1 &&
			   is_string(pr, pr->functions[l->lines[0][LINE_FUNCTION_ID] - 1][FUNCTION_NAME],
				     "[stack lost]"));
		return;
	}
	/* One location per address: a frame inlined at the address of the
	 * next shares its location, up to SYMBOLIZER_MAX_FRAMES frames. */
	for (size_t i = 0, n; i < s->n_frames; i += n) {
		for (n = 1; i + n < s->n_frames && n < SYMBOLIZER_MAX_FRAMES &&
			    s->frames[i + n - 1].inlined && s->frames[i + n].addr == s->frames[i].addr;
		     n++)
			;
		FUZZ_CHECK(loc < smp->n_locations);
		check_location(pr, smp->locations[loc++], &s->frames[i], n);
	}
	FUZZ_CHECK(loc == smp->n_locations);
}

/* The gzip stream data[0..len) inflated into *out (malloc'd). */
static size_t gunzip(const uint8_t *data, size_t len, uint8_t **out)
{
	z_stream z = { 0 };
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap);
	int zr;

	FUZZ_CHECK(buf && inflateInit2(&z, 15 + 16) == Z_OK);
	z.next_in = (unsigned char *)data;
	z.avail_in = (unsigned int)len;
	do {
		if (n == cap) {
			buf = realloc(buf, cap *= 2);
			FUZZ_CHECK(buf != NULL);
		}
		z.next_out = buf + n;
		z.avail_out = (unsigned int)(cap - n);
		zr = inflate(&z, Z_NO_FLUSH);
		FUZZ_CHECK(zr == Z_OK || zr == Z_STREAM_END);
		n = cap - z.avail_out;
	} while (zr != Z_STREAM_END);
	/* One gzip member, nothing after it. */
	FUZZ_CHECK(z.avail_in == 0);
	inflateEnd(&z);
	*out = buf;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct made m;
	static struct profile pr;
	struct report_options opt = { 0 };
	uint8_t *gz = NULL, *raw;
	size_t gz_len = 0, raw_len;
	FILE *f;

	memset(&m, 0, sizeof(m));
	memset(&pr, 0, sizeof(pr));
	make_snapshot(&m, data, size);
	f = open_memstream((char **)&gz, &gz_len);
	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(report_pprof.write(f, &m.snap, &opt) == 0);
	FUZZ_CHECK(fclose(f) == 0);
	raw_len = gunzip(gz, gz_len, &raw);
	read_profile(&pr, (struct msg){ raw, raw + raw_len });
	check_strings(&pr);
	check_ids(&pr);
	FUZZ_CHECK(pr.n_sample_types == 6 && pr.n_samples == m.snap.n_stacks);
	for (size_t i = 0; i < pr.n_samples; i++)
		check_sample(&pr, &pr.samples[i], &m.stacks[i]);
	free_profile(&pr);
	free(raw);
	free(gz);
	free_snapshot(&m);
	return 0;
}
