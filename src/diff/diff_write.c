/* diff_write.c - a diff's two outputs: a table for a person, human sizes
 * next to exact bytes, each stack's frames under its row; and one JSON
 * object with the same figures, whose field names are a contract. */
#include "diff/diff.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "util/human_size.h"
#include "util/json_writer.h"

static const char *const status_names[] = {
	[DIFF_GROWN] = "grown", [DIFF_NEW] = "new", [DIFF_SHRUNK] = "shrunk",
	[DIFF_GONE] = "gone", [DIFF_UNCHANGED] = "unchanged",
};

static const char *const match_names[] = {
	[DIFF_UNMATCHED] = NULL, [DIFF_BY_ADDR] = "addr", [DIFF_BY_NAME] = "name",
};

/* "+9.8 KiB" with sign (then 0 is "0 B"), "9.8 KiB" without: for the eye,
 * the exact figure is printed beside it. */
static void size_text(char *buf, size_t len, int64_t value, bool sign)
{
	uint64_t mag = value < 0 ? -(uint64_t)value : (uint64_t)value;

	human_size(buf, len, !sign || value == 0 ? "" : value < 0 ? "-" : "+", mag);
}

static const char *signed_text(char *buf, size_t len, int64_t v)
{
	snprintf(buf, len, v > 0 ? "+%" PRId64 : "%" PRId64, v);
	return buf;
}

static void text_report(FILE *out, const char *label, const struct saved_report *r)
{
	char size[32];

	size_text(size, sizeof(size), (int64_t)r->outstanding_bytes, false);
	fprintf(out, "%s  %s: ", label, r->path);
	if (r->count == 1)
		fputs("its only complete report", out);
	else
		fprintf(out, "the last complete of its %zu reports", r->count);
	fprintf(out, "%s%s, pid %d at %s\n", r->truncated_tail ? " (an incomplete one after it)" : "",
		r->final ? ", final" : "", r->pid, r->time);
	fprintf(out, "     %s outstanding (%" PRIu64 " bytes) in %" PRIu64 " allocations; "
		"%zu of %" PRIu64 " stacks listed\n", size, r->outstanding_bytes,
		r->outstanding_allocs, r->n_stacks, r->stacks_total);
}

static void text_header(FILE *out, const struct diff *d)
{
	char size[32], bytes[32], allocs[32], rate[32];

	text_report(out, "OLD", d->old);
	text_report(out, "NEW", d->new);
	size_text(size, sizeof(size), d->growth_bytes, true);
	fprintf(out, "growth in %.3f s: %s (%s bytes), %s allocations", d->elapsed_s, size,
		signed_text(bytes, sizeof(bytes), d->growth_bytes),
		signed_text(allocs, sizeof(allocs), d->growth_allocs));
	if (d->elapsed_s > 0) {
		size_text(rate, sizeof(rate), (int64_t)((double)d->growth_bytes / d->elapsed_s), true);
		fprintf(out, ", %s/s", rate);
	}
	fprintf(out, "\nstacks: %zu grown, %zu new, %zu shrunk, %zu gone, %zu unchanged "
		"(matched by address %zu, by name %zu)\n", d->by_status[DIFF_GROWN],
		d->by_status[DIFF_NEW], d->by_status[DIFF_SHRUNK], d->by_status[DIFF_GONE],
		d->by_status[DIFF_UNCHANGED], d->by_addr, d->by_name);
}

/* One frame per line, as the text report prints them. */
static void text_frames(FILE *out, const struct saved_stack *s)
{
	if (s->n_frames == 0)
		fputs("      (stack lost)\n", out);
	for (size_t i = 0; i < s->n_frames; i++) {
		const struct saved_frame *f = &s->frames[i];

		if (f->function)
			fprintf(out, "      %s+0x%" PRIx64, f->function, f->offset);
		else
			fprintf(out, "      0x%" PRIx64, f->addr);
		if (!f->module)
			fputc('\n', out);
		else
			fprintf(out, f->module[0] == '[' ? " %s\n" : " [%s]\n", f->module);
	}
}

#define ROW "%11s %13s %8s  %10s %13s  %10s %13s  %s\n"

static void text_entry(FILE *out, const struct diff_entry *e)
{
	char growth[32], bytes[32], allocs[32], old[32], new[32], old_bytes[32], new_bytes[32];
	uint64_t ob = e->old ? e->old->bytes : 0, nb = e->new ? e->new->bytes : 0;

	size_text(growth, sizeof(growth), e->growth_bytes, true);
	size_text(old, sizeof(old), (int64_t)ob, false);
	size_text(new, sizeof(new), (int64_t)nb, false);
	snprintf(old_bytes, sizeof(old_bytes), "%" PRIu64, ob);
	snprintf(new_bytes, sizeof(new_bytes), "%" PRIu64, nb);
	fprintf(out, ROW, growth, signed_text(bytes, sizeof(bytes), e->growth_bytes),
		signed_text(allocs, sizeof(allocs), e->growth_allocs), e->old ? old : "-",
		e->old ? old_bytes : "-", e->new ? new : "-", e->new ? new_bytes : "-",
		status_names[e->status]);
	text_frames(out, e->new ? e->new : e->old);
	fputc('\n', out);
}

int diff_write_text(FILE *out, const struct diff *d, size_t limit)
{
	size_t n = limit && limit < d->n ? limit : d->n;

	text_header(out, d);
	fputc('\n', out);
	fprintf(out, ROW, "growth", "bytes", "allocs", "old", "bytes", "new", "bytes", "status");
	for (size_t i = 0; i < n; i++)
		text_entry(out, &d->entries[i]);
	if (n < d->n)
		fprintf(out, "(%zu more stacks not shown; see -n)\n", d->n - n);
	return fflush(out) || ferror(out) ? -EIO : 0;
}

static void json_report(FILE *out, const char *key, const struct saved_report *r)
{
	fprintf(out, "\"%s\":{\"file\":", key);
	json_write_string(out, r->path);
	fprintf(out, ",\"reports\":%zu,\"time\":", r->count);
	json_write_string(out, r->time);
	fprintf(out, ",\"pid\":%d,\"final\":%s,\"outstanding_bytes\":%" PRIu64
		",\"outstanding_allocs\":%" PRIu64 ",\"stacks\":%" PRIu64 ",\"stacks_listed\":%zu}",
		r->pid, r->final ? "true" : "false", r->outstanding_bytes, r->outstanding_allocs,
		r->stacks_total, r->n_stacks);
}

static void json_frames(FILE *out, const struct saved_stack *s)
{
	fputs("\"frames\":[", out);
	for (size_t i = 0; i < s->n_frames; i++) {
		const struct saved_frame *f = &s->frames[i];

		fprintf(out, "%s{\"addr\":\"0x%" PRIx64 "\",\"function\":", i ? "," : "", f->addr);
		json_write_string(out, f->function);
		fprintf(out, ",\"offset\":%" PRIu64 ",\"module\":", f->offset);
		json_write_string(out, f->module);
		fputc('}', out);
	}
	fputc(']', out);
}

static void json_entry(FILE *out, const struct diff_entry *e)
{
	fprintf(out, "{\"status\":\"%s\",\"growth_bytes\":%" PRId64 ",\"growth_allocs\":%" PRId64
		",\"old_bytes\":%" PRIu64 ",\"new_bytes\":%" PRIu64 ",\"old_allocs\":%" PRIu64
		",\"new_allocs\":%" PRIu64 ",\"matched_by\":", status_names[e->status],
		e->growth_bytes, e->growth_allocs, e->old ? e->old->bytes : 0,
		e->new ? e->new->bytes : 0, e->old ? e->old->allocs : 0,
		e->new ? e->new->allocs : 0);
	json_write_string(out, match_names[e->match]);
	fputc(',', out);
	json_frames(out, e->new ? e->new : e->old);
	fputc('}', out);
}

int diff_write_json(FILE *out, const struct diff *d, size_t limit)
{
	size_t n = limit && limit < d->n ? limit : d->n;

	fputc('{', out);
	json_report(out, "old", d->old);
	fputc(',', out);
	json_report(out, "new", d->new);
	fprintf(out, ",\"elapsed_s\":%.3f,\"growth_bytes\":%" PRId64 ",\"growth_allocs\":%" PRId64
		",\"growth_rate_bps\":", d->elapsed_s, d->growth_bytes, d->growth_allocs);
	if (d->elapsed_s > 0)
		fprintf(out, "%.1f", (double)d->growth_bytes / d->elapsed_s);
	else
		fputs("null", out);
	fprintf(out, ",\"grown\":%zu,\"new_stacks\":%zu,\"shrunk\":%zu,\"gone\":%zu,"
		"\"unchanged\":%zu,\"matched_by_addr\":%zu,\"matched_by_name\":%zu,"
		"\"stacks_compared\":%zu,\"stacks\":[", d->by_status[DIFF_GROWN], d->by_status[DIFF_NEW],
		d->by_status[DIFF_SHRUNK], d->by_status[DIFF_GONE], d->by_status[DIFF_UNCHANGED],
		d->by_addr, d->by_name, d->n);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', out);
		json_entry(out, &d->entries[i]);
	}
	fputs("]}\n", out);
	return fflush(out) || ferror(out) ? -EIO : 0;
}
