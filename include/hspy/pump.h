/*
 * pump: a capture arriving through a pipe (`tcpdump -w - | hspy read -`), read without ever
 * blocking the event loop.
 *
 * libpcap reads a savefile through a FILE with blocking reads, so a pipe that delivers packets
 * slowly would stop the loop (and the interface) between packets. The pump instead makes the
 * descriptor non-blocking, reads what is there whenever the loop says it is readable, keeps it
 * in its own bounded buffer, and frames it (pcapframe). libpcap gets a FILE (pump_file) whose
 * reads are served from that buffer, never past the last whole block; the owner asks for a
 * packet only when pump_ready says every byte libpcap will read for it is buffered, so libpcap
 * never waits. At the end of the input libpcap gets whatever is left, so that a record cut by
 * the end is reported as in a file.
 *
 * The owner counts the packets libpcap returned (`taken`): libpcap reads blocks in order and
 * returns one per packet block, so the next packet is whole when more than `taken` were framed.
 *
 * The pump owns the buffer and the FILE's state; it never touches the loop (the owner polls
 * pump_fd) and never decodes packets.
 */
#ifndef HSPY_PUMP_H
#define HSPY_PUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hspy/pcapframe.h"

/* Bytes asked of the descriptor per read; bytes of the FILE's stdio buffer. */
enum { PUMP_READ_CHUNK = 256 << 10, PUMP_FILE_BUFFER = 64 << 10 };
/* Buffered bytes past which the pump stops reading while a packet is ready: the loop decodes
 * what it has before taking more from a fast writer. */
enum { PUMP_HIGH_WATER = 1 << 20 };
/* The most bytes ever buffered: room for the largest record after a full high-water mark. Blocks
 * that fill it without a packet among them are reported as corruption. */
enum { PUMP_BUFFER_MAX = PUMP_HIGH_WATER + 2 * PCAPFRAME_RECORD_MAX };

struct pump {
    bool open; /* between pump_open and pump_close */
    int fd;
    int fd_flags;   /* the descriptor's flags before, restored by pump_close */
    FILE *file;     /* what libpcap reads (NULL once it closed it) */
    char *file_buf; /* its stdio buffer (PUMP_FILE_BUFFER bytes), freed by pump_close */
    uint8_t *buf;   /* bytes [head, len) are the stream's from offset base + head */
    size_t head, len, cap;
    uint64_t base;
    uint64_t read_total; /* bytes read from the descriptor */
    struct pcapframe frame;
    bool eof;        /* the writer closed the pipe (or reading failed: see err) */
    int err;         /* errno of a failed read, 0 if none */
    char error[192]; /* the stream cannot be framed on (a corrupt length, blocks without end) */
};

/*
 * Takes over in (stdin) for reading a capture: its descriptor becomes non-blocking, and a byte
 * pushed back after a peek is taken first. in must be unbuffered (setvbuf before its first
 * read), so that stdio holds nothing else. Returns 0, or -1 with "name: why" in err.
 */
int pump_open(struct pump *p, FILE *in, const char *name, char *err, size_t errlen);
/*
 * Waits (blocking, before any screen) until what libpcap reads while opening the capture has
 * arrived, or the input ended or cannot be framed. Returns 0, or -1 with "name: why" in err for
 * a read error.
 */
int pump_wait_opening(struct pump *p, const char *name, char *err, size_t errlen);
/* The descriptor to poll for readability, while pump_wants_input. */
int pump_fd(const struct pump *p);
/* False at the end of the input, after an error, and while enough is buffered with a packet
 * ready (the owner stops polling, and polls again once this turns true). */
bool pump_wants_input(const struct pump *p, uint64_t taken);
/* Reads what the descriptor has now (never blocks). Returns the bytes read. */
size_t pump_fill(struct pump *p, uint64_t taken);
/* True when libpcap, having returned `taken` packets, may be asked for the next one without
 * waiting: it is buffered whole, or the input ended (libpcap then reads the rest and reports a
 * cut record). */
bool pump_ready(const struct pump *p, uint64_t taken);
/* True when the stream cannot be framed on (p->error says why) and libpcap returned every whole
 * packet before the point where it stopped. */
bool pump_done(const struct pump *p, uint64_t taken);
/* The FILE libpcap reads. Closing it (pcap_close does) leaves the pump's buffer alone. */
FILE *pump_file(struct pump *p);
/* Bytes handed to libpcap so far (its FILE's buffer included). */
uint64_t pump_consumed(const struct pump *p);
/* Restores the descriptor's flags and frees the buffer. The FILE must be closed. Idempotent. */
void pump_close(struct pump *p);

#endif
