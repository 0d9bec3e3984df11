/*
 * fdio: whole writes to a file descriptor. write(2) may take fewer bytes than asked, be
 * interrupted by a signal, or (on a non-blocking descriptor, such as a standard output a libuv
 * handle shares) take nothing for now; fdio_write_all goes on until every byte is written or a
 * real error comes.
 */
#ifndef HSPY_FDIO_H
#define HSPY_FDIO_H

#include <stddef.h>
#include <stdint.h>

/* Writes all of p[0..n) to fd: at offset off with pwrite when off >= 0, else at the file
 * position. Waits (poll) when a non-blocking fd is full. Returns 0, or the errno of the
 * failure (EIO when the descriptor took no byte without saying why). */
int fdio_write_all(int fd, const void *p, size_t n, int64_t off);

#endif
