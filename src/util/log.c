/* log.c - prefix every message with the program name, filter by level. */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>

enum log_level log_level = LOG_INFO;

void log_print(enum log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = {
		[LOG_ERROR] = "memleakd: error: ",
		[LOG_WARN] = "memleakd: warning: ",
		[LOG_INFO] = "memleakd: ",
		[LOG_DEBUG] = "memleakd: debug: ",
	};
	va_list ap;

	if (level > log_level)
		return;
	/* The unwind tables' thread logs too: one message, one line. */
	flockfile(stderr);
	fputs(prefix[level], stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}
