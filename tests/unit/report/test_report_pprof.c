/* test_report_pprof.c - the protobuf encoder against known bytes, and the
 * pprof writer against the real decoder: a fixed snapshot is written,
 * gunzipped, decoded by protoc with pprof's own profile.proto, and the
 * decoded text compared with a golden file. */
#include <stdlib.h>
#include <zlib.h>

#include "memleakd.h"
#include "report/protobuf.h"
#include "report/report.h"
#include "unit.h"

#define GOLDEN "tests/unit/report/golden/profile.txt"
#define PROTO_DIR "/usr/share/gocode/src/github.com/google/pprof/proto"

/* The profile's interesting cases: a mapping shared by two stacks and two
 * objects, an unnamed frame in [anon] (no Line, has_functions false), an
 * unmapped frame (mapping_id 0), a function at two addresses (one
 * Function, two Locations), a lost stack, negative growth. */
#define SERVER "/opt/app/bin/server"
#define SERVER_MAP .map_start = 0x400000, .map_end = 0x402000, .map_offset = 0, \
		   .build_id = "98f35af6263f2eb33740d8481fb266b4b6649ddb"
#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"
#define LIBC_MAP .map_start = 0x7f1000000000, .map_end = 0x7f1000100000, .map_offset = 0x28000, \
		 .build_id = "0123456789abcdef0123456789abcdef01234567"

/* ns::helper is inlined into leak_here: one location, two lines. */
static struct frame leak_frames[] = {
	{ .addr = 0x401136, .function = "ns::helper(int)", .mangled = "_ZN2ns6helperEi",
	  .file = "src/helper.h", .line = 12, .inlined = true, .module = SERVER, SERVER_MAP },
	{ .addr = 0x401136, .function = "leak_here", .mangled = "leak_here", .offset = 0x16,
	  .file = "src/server.c", .line = 40, .module = SERVER, SERVER_MAP },
	{ .addr = 0x7f0000001000, .module = "[anon]", .map_start = 0x7f0000000000,
	  .map_end = 0x7f0000010000 },
	{ .addr = 0x401200, .function = "main", .offset = 0x40, .module = SERVER, SERVER_MAP },
	{ .addr = 0x7f1000029d90, .function = "__libc_start_main", .offset = 0x80, .module = LIBC,
	  LIBC_MAP },
};

static struct frame other_frames[] = {
	{ .addr = 0x401180, .function = "other_leak", .offset = 0x10, .module = SERVER, SERVER_MAP },
	{ .addr = 0xdead0000 },
	{ .addr = 0x401250, .function = "main", .offset = 0x90, .module = SERVER, SERVER_MAP },
	{ .addr = 0x7f1000029d90, .function = "__libc_start_main", .offset = 0x80, .module = LIBC,
	  LIBC_MAP },
};

static struct snapshot_stack stacks[] = {
	{ .stack_id = 3, .bytes = 1048576, .allocs = 1024, .total_bytes = 2097152,
	  .total_allocs = 2048, .n_frames = 5, .frames = leak_frames,
	  .trend = { .cls = STACK_SUSPECT, .growth_bytes = 4096 } },
	{ .stack_id = MEMLEAKD_STACK_LOST, .bytes = 64, .allocs = 1, .total_bytes = 64,
	  .total_allocs = 1, .trend = { .cls = STACK_NEW, .growth_bytes = 64 } },
	{ .stack_id = 9, .bytes = 8, .allocs = 1, .total_bytes = 800, .total_allocs = 100,
	  .n_frames = 4, .frames = other_frames,
	  .trend = { .cls = STACK_STEADY, .growth_bytes = -512 } },
};

static struct snapshot fixture(void)
{
	struct snapshot s = {
		.time = { .tv_sec = 1795320000, .tv_nsec = 123456789 },
		.pid = 4242,
		.since_attach_s = 12.5,
		.report = 3,
		.n_stacks = 3,
		.n_top = 3,
		.stacks = stacks,
	};
	return s;
}

static void expect_bytes(const struct pb_buf *b, const uint8_t *want, size_t n)
{
	EXPECT_EQ(b->error, 0);
	EXPECT_EQ(b->len, n);
	EXPECT(b->len == n && !memcmp(b->data, want, n));
}

TEST(varints)
{
	struct pb_buf b = { 0 };

	pb_varint(&b, 0);
	pb_varint(&b, 1);
	pb_varint(&b, 127);
	pb_varint(&b, 128);
	pb_varint(&b, 300);
	pb_varint(&b, UINT64_MAX);
	expect_bytes(&b, (const uint8_t[]){ 0x00, 0x01, 0x7f, 0x80, 0x01, 0xac, 0x02, 0xff, 0xff,
					    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 },
		     17);
	pb_buf__free(&b);
	pb_buf__free(NULL);
}

/* The examples of protobuf's encoding guide, and int64 -1 (ten bytes). */
TEST(fields)
{
	struct pb_buf b = { 0 };

	pb_uint(&b, 1, 150);
	pb_uint(&b, 7, 0);
	pb_string(&b, 2, "testing");
	pb_string(&b, 6, "");
	pb_uint(&b, 3, (uint64_t)(int64_t)-1);
	pb_bool(&b, 7, true);
	expect_bytes(&b, (const uint8_t[]){ 0x08, 0x96, 0x01, 0x12, 0x07, 't', 'e', 's', 't', 'i',
					    'n', 'g', 0x32, 0x00, 0x18, 0xff, 0xff, 0xff, 0xff,
					    0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x38, 0x01 },
		     27);
	pb_buf__free(&b);
}

TEST(packed_and_messages)
{
	struct pb_buf b = { 0 };
	size_t m;

	pb_packed(&b, 4, (const uint64_t[]){ 3, 270, 86942 }, 3);
	pb_packed(&b, 5, NULL, 0);
	m = pb_message_begin(&b, 3);
	pb_uint(&b, 1, 150);
	pb_message_end(&b, m);
	expect_bytes(&b, (const uint8_t[]){ 0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05, 0x1a,
					    0x03, 0x08, 0x96, 0x01 },
		     13);
	pb_buf__free(&b);
}

/* A message longer than 127 bytes: its length takes two bytes, inserted
 * in front of the fields already written. */
TEST(long_message)
{
	struct pb_buf b = { 0 };
	char text[201];
	size_t m;

	memset(text, 'x', 200);
	text[200] = '\0';
	m = pb_message_begin(&b, 1);
	pb_string(&b, 2, text);
	pb_message_end(&b, m);
	EXPECT_EQ(b.error, 0);
	EXPECT_EQ(b.len, 1 + 2 + 1 + 2 + 200);
	EXPECT(b.len > 6 && !memcmp(b.data, (const uint8_t[]){ 0x0a, 0xcb, 0x01, 0x12, 0xc8, 0x01 },
				    6));
	EXPECT(b.len > 6 && b.data[6] == 'x' && b.data[b.len - 1] == 'x');
	pb_buf__free(&b);
}

/* Gunzips in[0..n) into *out (malloc'ed). Returns the length, or -1. */
static ssize_t gunzip(const unsigned char *in, size_t n, unsigned char **out)
{
	z_stream z = { .next_in = (unsigned char *)in, .avail_in = n };
	size_t cap = 1 << 20;
	ssize_t len = -1;

	*out = malloc(cap);
	if (!*out || inflateInit2(&z, 15 + 16) != Z_OK)
		return -1;
	z.next_out = *out;
	z.avail_out = cap;
	if (inflate(&z, Z_FINISH) == Z_STREAM_END)
		len = (ssize_t)z.total_out;
	inflateEnd(&z);
	return len;
}

/* protoc's text decoding of the profile in data, or NULL. */
static char *protoc_decode(const unsigned char *data, size_t n)
{
	char path[] = "/tmp/test_report_pprof.XXXXXX", cmd[256], *text = NULL;
	size_t cap = 0;
	int fd = mkstemp(path);
	FILE *p;

	if (fd < 0)
		return NULL;
	if (write(fd, data, n) != (ssize_t)n) {
		close(fd);
		unlink(path);
		return NULL;
	}
	close(fd);
	snprintf(cmd, sizeof(cmd),
		 "protoc --decode=perftools.profiles.Profile --proto_path=" PROTO_DIR
		 " profile.proto <%s",
		 path);
	p = popen(cmd, "r");
	if (p) {
		if (getdelim(&text, &cap, '\0', p) < 0 || pclose(p) != 0) {
			free(text);
			text = NULL;
		}
	}
	unlink(path);
	return text;
}

static char *read_golden(void)
{
	FILE *in = fopen(GOLDEN, "r");
	char *text = NULL;
	size_t cap = 0;

	if (in && getdelim(&text, &cap, '\0', in) < 0) {
		free(text);
		text = NULL;
	}
	if (in)
		fclose(in);
	return text;
}

TEST(profile_decodes_to_golden)
{
	struct snapshot s = fixture();
	unsigned char *gz = NULL, *raw = NULL;
	char *decoded = NULL, *want = read_golden();
	size_t gz_len = 0;
	ssize_t raw_len;
	FILE *out = open_memstream((char **)&gz, &gz_len);

	EXPECT(out && want);
	if (!out || !want)
		goto done;
	EXPECT_EQ(report_pprof.write(out, &s, &(struct report_options){ 0 }), 0);
	fclose(out);
	EXPECT(gz_len > 2 && gz[0] == 0x1f && gz[1] == 0x8b);
	raw_len = gunzip(gz, gz_len, &raw);
	EXPECT(raw_len > 0);
	if (raw_len <= 0)
		goto done;
	decoded = protoc_decode(raw, raw_len);
	EXPECT(decoded != NULL);
	EXPECT_STREQ(decoded, want);
done:
	free(gz);
	free(raw);
	free(decoded);
	free(want);
}

TEST(writer_declares_document)
{
	EXPECT_STREQ(report_pprof.name, "pprof");
	EXPECT_STREQ(report_pprof.extension, "pb.gz");
	EXPECT(report_pprof.document);
	EXPECT(report_pprof.all_stacks);
}

RUN_TESTS("report_pprof", T(varints), T(fields), T(packed_and_messages), T(long_message),
	  T(profile_decodes_to_golden), T(writer_declares_document))
