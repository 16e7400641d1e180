/* target_file.h - opening a file the target controls. memleakd reads the
 * target's objects, debug files and perf map as root, while an unprivileged
 * user may own them: a path is resolved under the target's root (its
 * container's absolute links stay inside it), the open never blocks (a FIFO
 * planted where a file was expected), and only regular files are kept.
 * Library code: returns -errno and never logs. */
#ifndef TARGET_FILE_H
#define TARGET_FILE_H

/* Open path for reading, resolved under root_fd (an O_PATH descriptor of
 * /proc/PID/root) as the root, or as it is for AT_FDCWD (memleakd's own
 * paths: --debug-dir, a fetched debug file). The descriptor is blocking
 * again once it is known to be a regular file. Returns it, or -errno:
 * -EINVAL when the file is not a regular file, -ENOSYS when the kernel
 * cannot confine the lookup to a root other than memleakd's own (openat2
 * is missing), -ENOENT, -ELOOP, ... */
int target_file_open(int root_fd, const char *path);

#endif
