/* report_names.c - the words reports use for the snapshot's enums. */
#include "report/report_names.h"

const char *end_reason_name(enum end_reason end)
{
	switch (end) {
	case END_SIGNAL: return "signal";
	case END_DURATION: return "duration";
	case END_TARGET_EXITED: return "target exited";
	case END_TARGET_EXEC: return "target called exec";
	default: return NULL;
	}
}

const char *stack_class_name(enum stack_class cls)
{
	switch (cls) {
	case STACK_STEADY: return "steady";
	case STACK_SUSPECT: return "suspect";
	default: return "new";
	}
}

const char *stack_kind_name(enum stack_kind kind)
{
	switch (kind) {
	case STACK_MAPPED: return "mapped";
	case STACK_HEAP: return "heap";
	default: return "alloc";
	}
}

const char *verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_UNDECIDED: return "undecided";
	case VERDICT_NO_LEAK: return "no_leak";
	case VERDICT_LEAK: return "leak_suspected";
	case VERDICT_UNTRACED: return "rss_growth_untraced";
	default: return NULL;
	}
}
