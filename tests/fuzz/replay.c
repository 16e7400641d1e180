/* replay.c - a main for one fuzz harness without libFuzzer, for `make
 * check`: every file of the harness's seed corpus, tests/fuzz/corpus/NAME
 * (FUZZ_NAME, set by the Makefile), is passed to LLVMFuzzerTestOneInput
 * once, in name order. Built with the sanitizers, so the corpus, and the
 * crashes saved into it, keep proving the fixes. Prints "PASS
 * fuzz.NAME.corpus" as the unit tests print theirs; a crash, or memory
 * left allocated after an input, prints FAIL and the file that caused it
 * before the sanitizer's report. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

#define CORPUS "tests/fuzz/corpus/" FUZZ_NAME

static const char *current;

/* Runs before a sanitizer or FUZZ_CHECK ends the process. */
static void say_which(void)
{
	printf("FAIL fuzz.%s.corpus: %s\n", FUZZ_NAME, current ? current : "(none)");
	fflush(stdout);
}

static void on_abort(int sig)
{
	(void)sig;
	say_which();
	_exit(1);
}

/* The whole file at path, malloc'd (so that a read past its end is a
 * sanitizer's finding), into *out and *len. */
static int read_whole(const char *path, uint8_t **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *buf;
	ssize_t n;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	buf = malloc(st.st_size ? st.st_size : 1);
	n = buf ? read(fd, buf, st.st_size) : -1;
	close(fd);
	if (n != st.st_size) {
		free(buf);
		return -EIO;
	}
	*out = buf;
	*len = st.st_size;
	return 0;
}

int main(void)
{
	struct dirent **names;
	int n = scandir(CORPUS, &names, NULL, alphasort), inputs = 0, leaks = 0;

	if (n < 0) {
		printf("FAIL fuzz.%s.corpus: %s: %s\n", FUZZ_NAME, CORPUS, strerror(errno));
		return 1;
	}
	__sanitizer_set_death_callback(say_which);
	signal(SIGABRT, on_abort);
	for (int i = 0; i < n; i++) {
		char path[512];
		uint8_t *data;
		size_t len;

		snprintf(path, sizeof(path), "%s/%s", CORPUS, names[i]->d_name);
		if (names[i]->d_name[0] != '.' && read_whole(path, &data, &len) == 0) {
			current = path;
			LLVMFuzzerTestOneInput(data, len);
			free(data);
			if (__lsan_do_recoverable_leak_check()) {
				say_which();
				leaks++;
			}
			inputs++;
		}
		free(names[i]);
	}
	free(names);
	current = NULL;
	if (!inputs)
		printf("FAIL fuzz.%s.corpus: no input in %s\n", FUZZ_NAME, CORPUS);
	else if (!leaks)
		printf("PASS fuzz.%s.corpus\n", FUZZ_NAME);
	return inputs && !leaks ? 0 : 1;
}
