/* json_writer.h - what the JSON writers (reports, memleakd diff) share. */
#ifndef JSON_WRITER_H
#define JSON_WRITER_H

#include <stdio.h>

/* s as a JSON string, quoted and escaped; null for NULL. */
void json_write_string(FILE *out, const char *s);

#endif
