/*
 * pcapframe: where the records of a capture stream end, so that a reader handed the stream
 * through a buffer knows, before it asks libpcap for a packet, that libpcap will find every byte
 * it reads without waiting.
 *
 * It follows the framing only, never the contents: classic pcap (a 24-byte file header, then
 * records of a 16-byte header, 24 bytes in the modified format, and caplen bytes; either byte
 * order) and pcapng (blocks of type, total length, body and the length again; each section
 * header block's byte-order magic sets the order of its section). A pcapng packet is an
 * enhanced, simple or obsolete packet block; any other block (interface descriptions, name
 * resolution, statistics, custom blocks, a new section) is read by libpcap on its way to the
 * next packet, so it counts towards the bytes that must be buffered before that packet.
 *
 * Pure: the caller keeps the bytes and passes those from f->scanned onwards; nothing here
 * allocates or reads.
 */
#ifndef HSPY_PCAPFRAME_H
#define HSPY_PCAPFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The longest record (classic: header and caplen) or block (pcapng) accepted. libpcap itself
 * refuses pcapng blocks above 16 MiB and classic records above the link type's largest snap
 * length (256 KiB for every link type hspy decodes), so a larger length is corruption, and
 * buffering it would only wait for bytes that never make a packet.
 */
enum { PCAPFRAME_RECORD_MAX = 16 << 20 };
/* Bytes of a classic pcap file header. */
enum { PCAPFRAME_PCAP_HEADER = 24 };

enum pcapframe_format {
    PCAPFRAME_UNKNOWN = 0, /* fewer than 4 bytes seen */
    PCAPFRAME_PCAP,        /* classic pcap */
    PCAPFRAME_PCAPNG,
    PCAPFRAME_OTHER, /* neither: libpcap will say it is not a capture */
};

struct pcapframe {
    enum pcapframe_format format;
    bool swapped; /* the bytes at f->scanned are in the other byte order than the host's */
    uint32_t record_header; /* classic: bytes of a record header (16, or 24 when modified) */
    uint64_t scanned;       /* stream offset up to which every record is whole and was scanned */
    /* Stream offset where what libpcap reads while opening ends (classic: the file header;
     * pcapng: every block up to the first interface description or packet), 0 until known. */
    uint64_t header_end;
    uint64_t packet_end; /* stream offset just past the last whole packet scanned (0: none) */
    uint64_t packets;    /* whole packets scanned */
    bool failed;         /* a length no capture has: nothing past f->scanned is framed */
    char error[128];     /* failed: what the record at f->scanned announced */
};

/* Prepares f for a stream that starts at offset 0. */
void pcapframe_init(struct pcapframe *f);

/*
 * Scans whole records in data, the len bytes of the stream from offset f->scanned. Advances
 * f->scanned past each whole record (and past the file header), updating the other fields;
 * bytes of a record not yet whole are left, to be passed again with more after them. Returns
 * the bytes scanned (0 when nothing is whole yet), or -1 when a record announces a length that
 * no capture has: f->failed is set and f->error says why, and later calls return -1 at once.
 * A stream that is not a capture (PCAPFRAME_OTHER) scans nothing and returns 0.
 */
long pcapframe_scan(struct pcapframe *f, const uint8_t *data, size_t len);

/*
 * True when a reader that has taken `taken` packets (libpcap returns them in stream order) has
 * the next one whole, with every block before it, among the bytes scanned.
 */
static inline bool pcapframe_ready(const struct pcapframe *f, uint64_t taken)
{
    return f->packets > taken;
}

/* True once what libpcap reads while opening the stream is scanned (or it is not a capture). */
static inline bool pcapframe_opened(const struct pcapframe *f)
{
    return f->format == PCAPFRAME_OTHER || (f->header_end && f->scanned >= f->header_end);
}

#endif
