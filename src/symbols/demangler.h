/* demangler.h - C++ (Itanium ABI) and Rust (legacy and v0) symbol names
 * made readable, with libiberty's demangler. */
#ifndef DEMANGLER_H
#define DEMANGLER_H

/* The demangled form of name, malloc'd (the caller frees it), or NULL when
 * name is not a mangled name (C symbols) or on ENOMEM. */
char *demangle(const char *name);

#endif
