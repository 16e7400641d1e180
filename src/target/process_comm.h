/* process_comm.h - the name the kernel gives a process (/proc/PID/comm),
 * which labels it on /metrics and on the live page. */
#ifndef PROCESS_COMM_H
#define PROCESS_COMM_H

/* TASK_COMM_LEN: 15 characters and a NUL. */
#define PROCESS_COMM_LEN 16

/* Read the comm of the process whose /proc directory is proc_fd (an O_PATH
 * descriptor) into out, without its newline. Returns 0, -ESRCH once the
 * process is gone, or -errno; out is untouched on failure. */
int process_comm__read(int proc_fd, char out[static PROCESS_COMM_LEN]);

#endif
