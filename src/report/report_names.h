/* report_names.h - the words reports use for the snapshot's enums: the
 * values of the JSON "end_reason", "verdict", "class" and "kind" fields, and what
 * the text, pprof and svg writers show. Tools read them in saved reports,
 * so they are part of the formats, spelled in one place. The snapshot
 * stage deals in the enums only. */
#ifndef REPORT_NAMES_H
#define REPORT_NAMES_H

#include "snapshot/snapshot.h"

/* "signal", "duration", "target exited", "target called exec"; NULL for
 * END_NONE. */
const char *end_reason_name(enum end_reason end);
/* "new", "steady", "suspect". */
const char *stack_class_name(enum stack_class cls);
/* "alloc", "mapped", "heap". */
const char *stack_kind_name(enum stack_kind kind);
/* "undecided", "no_leak", "leak_suspected", "rss_growth_untraced"; NULL
 * for VERDICT_NONE. */
const char *verdict_name(enum verdict v);

#endif
