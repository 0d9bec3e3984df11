/*
 * fdio owns the loop every writer of whole buffers needs (sinks, pcapng, exports, body files,
 * the editor's and the rules' files).
 */
#include "hspy/fdio.h"

#include <errno.h>
#include <poll.h>
#include <sys/types.h>
#include <unistd.h>

/* Waits until a non-blocking fd can take more. */
static void wait_writable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    while (poll(&p, 1, -1) < 0 && errno == EINTR)
        continue;
}

int fdio_write_all(int fd, const void *buf, size_t n, int64_t off)
{
    const uint8_t *p = buf;
    while (n > 0) {
        ssize_t k = off >= 0 ? pwrite(fd, p, n, (off_t)off) : write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                wait_writable(fd);
                continue;
            }
            return errno;
        }
        if (k == 0)
            return EIO;
        p += k, n -= (size_t)k;
        if (off >= 0)
            off += k;
    }
    return 0;
}
