/* log.h - the daemon's messages on stderr. Only the top levels (main, the
 * report loop, the unwind tables' thread) log; modules return -errno and let
 * their caller speak. */
#ifndef LOG_H
#define LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum log_level log_level;

__attribute__((format(printf, 2, 3))) void log_print(enum log_level level, const char *fmt, ...);

#define log_error(...) log_print(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_print(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_print(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_print(LOG_DEBUG, __VA_ARGS__)

#endif
