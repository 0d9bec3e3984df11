/*
 * infile: an input named on the command line, opened for reading: a file, or standard input
 * for "-". One place says why an input cannot be read (missing, unreadable, a directory).
 */
#ifndef HSPY_INFILE_H
#define HSPY_INFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct infile {
    FILE *file;       /* stdin for "-" (never to be closed by the reader) */
    const char *name; /* the name given to infile_open, else "stdin" or the path */
    bool seekable;    /* a regular file: its size is known and it can be read again */
    uint64_t size;    /* bytes, when seekable; 0 otherwise */
};

/*
 * Opens path ("-" = stdin); name is what messages call it (the caller's string, kept), NULL for
 * "stdin" or the path. Returns 0, or -1 with "name: why" in err (nothing left open).
 */
int infile_open(struct infile *f, const char *path, const char *name, char *err, size_t errlen);

/*
 * A named input that can be read only once (a FIFO, the /dev/fd/N of `<(tcpdump -w -)`, a
 * character device other than a terminal) is opened and put on standard input, so that it is
 * read as "-" is: looked at without losing a byte, and pumped as it arrives. Returns true when
 * it did; false when path is to be opened as it is (a regular file, a directory, "-", a path
 * that cannot be opened: the reader says why).
 */
bool infile_stream_to_stdin(const char *path);

#endif
