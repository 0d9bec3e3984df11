/*
 * pcapngsink: --pcapng FILE, the session written as pcapng as it happens (pcapng.h makes the
 * packets). It observes the store like the HAR sink: each exchange is appended when it
 * completes (--filter applies), exchanges still in flight and FIN segments for the open
 * connections are written at close. The file is a valid pcapng capture after every exchange,
 * so a crash loses no completed exchange. Write failures are reported on stderr, counted and
 * never fatal; they set h->write_failed (exit status 1).
 */
#ifndef HSPY_PCAPNGSINK_H
#define HSPY_PCAPNGSINK_H

#include <stdint.h>

struct hspy;
struct pcapngsink;

/* Creates FILE and writes its header. Returns NULL with h->err set ("FILE: why"). */
struct pcapngsink *pcapngsink_open(struct hspy *h, const char *path);
/* Writes in-flight exchanges and the connections' FINs, closes the file, reports losses on
 * stderr, unregisters from the store and frees s. NULL is a no-op. */
void pcapngsink_close(struct pcapngsink *s);
/* Exchanges written so far. */
uint64_t pcapngsink_written(const struct pcapngsink *s);

#endif
