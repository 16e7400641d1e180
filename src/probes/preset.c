/* preset.c - find and read preset files. Presets are looked up, in order,
 * in $MEMLEAKD_PRESET_DIR, in presets/ next to the memleakd executable (a
 * build tree), then in share/memleakd/presets of its installation prefix
 * and /usr/share/memleakd/presets. The first line of a preset, a comment,
 * describes it. */
#include "probes/preset.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PRESET_SUFFIX ".preset"
#define MAX_DIRS 4

struct preset_dirs {
	size_t n;
	char *dirs[MAX_DIRS];
};

static void dirs_clear(struct preset_dirs *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->dirs[i]);
	d->n = 0;
}

static int dirs_add(struct preset_dirs *d, const char *fmt, const char *arg)
{
	if (asprintf(&d->dirs[d->n], fmt, arg) < 0)
		return -ENOMEM;
	d->n++;
	return 0;
}

static int dirs_find(struct preset_dirs *d)
{
	const char *env = getenv("MEMLEAKD_PRESET_DIR");
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;
	int r = 0;

	d->n = 0;
	if (env && *env)
		r = dirs_add(d, "%s", env);
	if (!r && len > 0) {
		exe[len] = '\0';
		slash = strrchr(exe, '/');
		*slash = '\0';
		r = dirs_add(d, "%s/presets", exe);
		if (!r)
			r = dirs_add(d, "%s/../share/memleakd/presets", exe);
	}
	if (!r)
		r = dirs_add(d, "%s", "/usr/share/memleakd/presets");
	if (r < 0)
		dirs_clear(d);
	return r;
}

/* "--alloc palloc:size=1" -> a spec. */
static int parse_line(char *line, const char *name, unsigned int lineno, const char *prefix,
		      struct alloc_specs *list, char **error)
{
	char *flag = strtok(line, " \t"), *text = strtok(NULL, " \t"), *extra = strtok(NULL, " \t");
	enum probe_kind kind = flag ? alloc_spec_kind(flag) : 0;
	struct alloc_spec s;
	char *spec_error = NULL, *prefixed = NULL;
	int r;

	if (!kind || !text || extra)
		return asprintf(error, "--preset %s, line %u: expected '--alloc|--free|--realloc|"
			       "--reset SPEC'", name, lineno) < 0 ? -ENOMEM : -EINVAL;
	if (prefix && asprintf(&prefixed, "%s%s", prefix, text) < 0)
		return -ENOMEM;
	r = alloc_spec_parse(kind, prefixed ? prefixed : text, &s, &spec_error);
	free(prefixed);
	if (r == -EINVAL) {
		r = asprintf(error, "--preset %s, line %u: %s", name, lineno, spec_error) < 0
			    ? -ENOMEM : -EINVAL;
		free(spec_error);
	}
	if (r < 0)
		return r;
	s.preset = strdup(name);
	if (!s.preset) {
		alloc_spec_clear(&s);
		return -ENOMEM;
	}
	return alloc_specs_add(list, &s);
}

int preset_parse(FILE *f, const char *name, const char *prefix, struct alloc_specs *list,
		 char **error)
{
	char *line = NULL;
	size_t cap = 0;
	unsigned int lineno = 0;
	int r = 0;

	while (!r && getline(&line, &cap, f) >= 0) {
		char *start = line + strspn(line, " \t");

		lineno++;
		start[strcspn(start, "\r\n")] = '\0';
		if (*start && *start != '#')
			r = parse_line(start, name, lineno, prefix, list, error);
	}
	free(line);
	return r;
}

static FILE *open_in(const struct preset_dirs *d, const char *name)
{
	FILE *f = NULL;

	if (strchr(name, '/'))
		return fopen(name, "re");
	for (size_t i = 0; i < d->n && !f; i++) {
		char *path;

		if (asprintf(&path, "%s/%s" PRESET_SUFFIX, d->dirs[i], name) < 0)
			return NULL;
		f = fopen(path, "re");
		free(path);
	}
	return f;
}

static int not_found(const struct preset_dirs *d, const char *name, char **error)
{
	size_t len = 0;
	char *where = NULL;
	FILE *s = open_memstream(&where, &len);

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < d->n; i++)
		fprintf(s, "%s%s", i ? ", " : "", d->dirs[i]);
	fclose(s);
	if (!where || asprintf(error, "--preset: no preset '%s' (looked in: %s; see "
				"--list-presets)", name, where) < 0) {
		free(where);
		return -ENOMEM;
	}
	free(where);
	return -ENOENT;
}

int preset_load(const char *name, const char *prefix, struct alloc_specs *list, char **error)
{
	struct preset_dirs d;
	FILE *f;
	int r = dirs_find(&d);

	if (r < 0)
		return r;
	f = open_in(&d, name);
	if (!f) {
		r = not_found(&d, name, error);
	} else {
		r = preset_parse(f, name, prefix, list, error);
		fclose(f);
	}
	dirs_clear(&d);
	return r;
}

/* The preset's first line, without its "# ". */
static void print_entry(FILE *out, const char *dir, const char *file)
{
	size_t len = strlen(file) - strlen(PRESET_SUFFIX);
	char *path, *line = NULL;
	size_t cap = 0;
	FILE *f;

	if (asprintf(&path, "%s/%s", dir, file) < 0)
		return;
	f = fopen(path, "re");
	free(path);
	if (f && getline(&line, &cap, f) > 0 && line[0] == '#') {
		line[strcspn(line, "\r\n")] = '\0';
		fprintf(out, "  %-12.*s %s\n", (int)len, file, line + 1 + strspn(line + 1, " "));
	} else {
		fprintf(out, "  %.*s\n", (int)len, file);
	}
	free(line);
	if (f)
		fclose(f);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_preset(const struct dirent *e)
{
	size_t len = strlen(e->d_name), suffix = strlen(PRESET_SUFFIX);

	return len > suffix && !strcmp(e->d_name + len - suffix, PRESET_SUFFIX);
}

int preset_list(FILE *out)
{
	struct preset_dirs d;
	int r = dirs_find(&d);

	if (r < 0)
		return r;
	for (size_t i = 0; i < d.n; i++) {
		struct dirent **entries;
		int n = scandir(d.dirs[i], &entries, is_preset, by_name);

		if (n <= 0)
			continue;
		fprintf(out, "%s:\n", d.dirs[i]);
		for (int e = 0; e < n; e++) {
			print_entry(out, d.dirs[i], entries[e]->d_name);
			free(entries[e]);
		}
		free(entries);
	}
	dirs_clear(&d);
	return 0;
}
