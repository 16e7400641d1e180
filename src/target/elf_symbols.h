/* elf_symbols.h - the named things of an elf_object: its functions, found
 * by name (to probe them) or by address (to name a frame), and its
 * variables, found by name. elf_object.h includes this; the tables are
 * read when the object is opened. Library code: returns -errno and never
 * logs. */
#ifndef ELF_SYMBOLS_H
#define ELF_SYMBOLS_H

#include <stdbool.h>
#include <stdint.h>

struct elf_object;

/* Which symbol tables a lookup searches. */
enum elf_symtab {
	ELF_SYMTAB_DYNAMIC = 1, /* .dynsym: what the object exports */
	ELF_SYMTAB_STATIC = 2,  /* .symtab (or the one in its separate debug file) */
	ELF_SYMTAB_ANY = 3,
};

struct elf_symbol {
	const char *name; /* owned by the elf_object */
	uint64_t vaddr;   /* st_value: link-time virtual address */
	uint64_t size;
};

/* The defined function (STT_FUNC or STT_GNU_IFUNC) called name, searching the
 * given tables. For versioned .dynsym entries only the default version
 * (name@@VER or unversioned) counts. Returns 0 and *out, or -ENOENT. */
int elf_object__find_function(const struct elf_object *o, const char *name,
			      enum elf_symtab where, struct elf_symbol *out);
/* The defined variable (STT_OBJECT) called name, searching the given
 * tables. Returns 0 and *out, -ENOENT, or -EOPNOTSUPP when it is
 * thread-local (its address differs per thread). */
int elf_object__find_variable(const struct elf_object *o, const char *name,
			      enum elf_symtab where, struct elf_symbol *out);
/* Does o's .dynsym name name as undefined: does it take it from another
 * object? */
bool elf_object__imports(const struct elf_object *o, const char *name);
/* The function whose [vaddr, vaddr+size) holds addr (or, for symbols of size
 * 0, the closest one below addr within the same section). -ENOENT if none. */
int elf_object__symbol_at(const struct elf_object *o, uint64_t vaddr, struct elf_symbol *out);

#endif
