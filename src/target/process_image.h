/* process_image.h - a live process's memory, read without stopping it:
 * the ELF images it maps (for their build-ids), the one image that has no
 * file at all (the vDSO), and the dynamic linker's structures. Library
 * code: it returns -errno and never logs. */
#ifndef PROCESS_IMAGE_H
#define PROCESS_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Copy len bytes at addr of process pid into buf (process_vm_readv). A
 * pid is reused once its process is gone: with pidfd (a pidfd of the
 * process meant; -1 to trust the pid) the bytes are kept only if that
 * process still lives after the read, so they cannot be another's.
 * Returns 0, -EFAULT when fewer were readable, -ESRCH once the process is
 * gone, -EPERM, or another -errno. */
int process_image__read(pid_t pid, int pidfd, uint64_t addr, void *buf, size_t len);

#endif
