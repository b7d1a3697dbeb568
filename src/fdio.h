/* src/fdio.h — writing a whole buffer to a file descriptor (write(2) may write less than asked
 * and be interrupted), and the non-blocking wake-up pipes of signal handlers and cancels. Any
 * thread; no state. Errors as the system calls': -1 with errno (thin wrappers, so the caller,
 * who knows the file, words the one line). */
#ifndef NATTER_FDIO_H
#define NATTER_FDIO_H

#include <stddef.h>

/* Writes the n bytes at p to fd, retrying on EINTR and after short writes. Returns 0, or -1
 * with errno set (a write that wrote nothing counts as an error). */
int fdio_write_all(int fd, const void *p, size_t n);

/* A pipe with both ends non-blocking and close-on-exec (a signal handler's or a cancel's
 * write never blocks). 0, or -1 with errno. */
int fdio_pipe_nonblock(int p[2]);

#endif
