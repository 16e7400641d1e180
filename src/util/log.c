/* log.c - prefix every message with the program name, filter by level.
 * When stderr is the journal (systemd sets JOURNAL_STREAM to its device
 * and inode), each line also starts with its syslog priority, <3> to <7>,
 * which journald reads as the message's priority and strips. */
#include "util/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

enum log_level log_level = LOG_INFO;

static bool stderr_is_journal(void)
{
	const char *stream = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	return stream && sscanf(stream, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &st) == 0 &&
	       st.st_dev == dev && st.st_ino == ino;
}

void log_print(enum log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = {
		[LOG_ERROR] = "memleakd: error: ",
		[LOG_WARN] = "memleakd: warning: ",
		[LOG_INFO] = "memleakd: ",
		[LOG_DEBUG] = "memleakd: debug: ",
	};
	static const char priority[] = { [LOG_ERROR] = '3', [LOG_WARN] = '4', [LOG_INFO] = '6',
					 [LOG_DEBUG] = '7' };
	static int journal = -1;
	va_list ap;

	if (level > log_level)
		return;
	/* The unwind tables' thread logs too: one message, one line. */
	flockfile(stderr);
	if (journal < 0)
		journal = stderr_is_journal();
	if (journal)
		fprintf(stderr, "<%c>", priority[level]);
	fputs(prefix[level], stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}
