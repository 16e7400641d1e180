/* history.h - the figures of the last reports, for the web page's charts
 * (/history.json): per report and process, its resident memory, its
 * outstanding bytes and the bytes of its top stacks, named by the stable
 * stack hash of metrics.h. Bounded: past its capacity, a new report
 * replaces the oldest. Written by the main loop only. */
#ifndef HISTORY_H
#define HISTORY_H

#include <stddef.h>
#include <stdio.h>

#include "serve/metrics.h"

struct history;

/* Room for capacity reports of up to stacks stacks a process. Returns
 * NULL when out of memory. */
struct history *history__new(size_t capacity, size_t stacks);
/* Add the reports of n processes, taken together (report number and time
 * from the first). Returns 0 or -ENOMEM; the history is as it was on
 * failure. */
int history__add(struct history *h, const struct metrics_process *procs, size_t n);
/* The history as one JSON object: {"report", "interval_s", "processes":
 * [{"pid", "comm", "verdict", "flame", "stacks": {id: top frame},
 * "points": [{"report", "time_s", "since_attach_s", "rss_bytes",
 * "outstanding_bytes", "stacks": {id: bytes}}]}]}, processes in the order
 * they first appear, points oldest first. interval_s tells the page how
 * often to look again. Returns 0, -ENOMEM or -EIO. */
int history__write_json(const struct history *h, FILE *out, double interval_s);
/* Accepts NULL. */
void history__free(struct history *h);

#endif
