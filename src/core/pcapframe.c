/*
 * pcapframe owns the record framing of a capture stream: the file header, record and block
 * lengths and byte orders. It never looks inside a packet and never reads or allocates: the
 * caller holds the bytes (see pcapframe.h).
 */
#include "hspy/pcapframe.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Classic pcap magic numbers (microseconds, nanoseconds, the modified format's). */
#define MAGIC_USEC     0xa1b2c3d4u
#define MAGIC_NSEC     0xa1b23c4du
#define MAGIC_MODIFIED 0xa1b2cd34u
/* pcapng block types framed here (a section header's reads the same in either byte order),
 * and the section header's byte-order magic. */
#define BLOCK_SHB        0x0a0d0d0au
#define BLOCK_IDB        0x00000001u
#define BLOCK_PB         0x00000002u /* obsolete packet block */
#define BLOCK_SPB        0x00000003u
#define BLOCK_EPB        0x00000006u
#define BYTE_ORDER_MAGIC 0x1a2b3c4du
/* Bytes of a classic record header (the modified format adds 8), of a pcapng block's type and
 * length, and of the smallest block (type, length, length again). */
enum { RECORD_HEADER = 16, RECORD_HEADER_MODIFIED = 24, BLOCK_HEADER = 8, BLOCK_MIN = 12 };

static uint32_t rd32(const uint8_t *p, bool swapped)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swapped ? __builtin_bswap32(v) : v;
}

void pcapframe_init(struct pcapframe *f)
{
    memset(f, 0, sizeof *f);
}

/* Records why nothing past f->scanned can be framed; returns -1. */
static long fail(struct pcapframe *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static long fail(struct pcapframe *f, const char *fmt, ...)
{
    f->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->error, sizeof f->error, fmt, ap);
    va_end(ap);
    return -1;
}

/* The first four bytes decide the format; classic pcap's also its byte order. */
static void detect(struct pcapframe *f, const uint8_t *p)
{
    uint32_t m = rd32(p, false), s = __builtin_bswap32(m);
    if (m == BLOCK_SHB) {
        f->format = PCAPFRAME_PCAPNG;
        return;
    }
    f->format = PCAPFRAME_PCAP;
    f->swapped = s == MAGIC_USEC || s == MAGIC_NSEC || s == MAGIC_MODIFIED;
    uint32_t v = f->swapped ? s : m;
    if (v == MAGIC_USEC || v == MAGIC_NSEC)
        f->record_header = RECORD_HEADER;
    else if (v == MAGIC_MODIFIED)
        f->record_header = RECORD_HEADER_MODIFIED;
    else
        f->format = PCAPFRAME_OTHER;
}

/* Classic pcap: the file header, then records of a header and caplen bytes. */
static long scan_pcap(struct pcapframe *f, const uint8_t *data, size_t len)
{
    size_t off = 0;
    if (f->scanned == 0) {
        if (len < PCAPFRAME_PCAP_HEADER)
            return 0;
        off = PCAPFRAME_PCAP_HEADER;
        f->header_end = PCAPFRAME_PCAP_HEADER;
    }
    while (len - off >= f->record_header) {
        uint32_t caplen = rd32(data + off + 8, f->swapped);
        if (caplen > PCAPFRAME_RECORD_MAX - f->record_header) {
            f->scanned += off;
            return fail(f, "a record announcing %lu bytes of packet", (unsigned long)caplen);
        }
        size_t rec = f->record_header + (size_t)caplen;
        if (len - off < rec)
            break;
        off += rec;
        f->packets++;
        f->packet_end = f->scanned + off;
    }
    f->scanned += off;
    return (long)off;
}

/*
 * pcapng: one block at data (avail bytes). Returns its length when whole, 0 when more bytes are
 * needed, -1 on a length no block has. *swapped is the order of the block's section, and
 * becomes the new section's at a section header.
 */
static long scan_block(struct pcapframe *f, const uint8_t *data, size_t avail, bool *swapped)
{
    if (avail < BLOCK_HEADER)
        return 0;
    uint32_t type = rd32(data, *swapped);
    bool order = *swapped;
    if (type == BLOCK_SHB) {
        if (avail < BLOCK_MIN)
            return 0;
        uint32_t bom = rd32(data + BLOCK_HEADER, false);
        if (bom == BYTE_ORDER_MAGIC)
            order = false;
        else if (__builtin_bswap32(bom) == BYTE_ORDER_MAGIC)
            order = true;
        else
            return fail(f, "a section header of %lu bytes without its byte-order magic",
                        (unsigned long)rd32(data + 4, false));
    }
    uint32_t blen = rd32(data + 4, order);
    if (blen < BLOCK_MIN || blen % 4 != 0)
        return fail(f, "a block announcing %lu bytes", (unsigned long)blen);
    if (blen > PCAPFRAME_RECORD_MAX)
        return fail(f, "a block of %lu bytes", (unsigned long)blen);
    if (avail < blen)
        return 0;
    *swapped = order;
    return blen;
}

static bool is_packet(uint32_t type)
{
    return type == BLOCK_EPB || type == BLOCK_SPB || type == BLOCK_PB;
}

static long scan_pcapng(struct pcapframe *f, const uint8_t *data, size_t len)
{
    size_t off = 0;
    for (;;) {
        bool swapped = f->swapped;
        long blen = scan_block(f, data + off, len - off, &swapped);
        if (blen < 0) {
            f->scanned += off;
            return -1;
        }
        if (blen == 0)
            break;
        uint32_t type = rd32(data + off, swapped);
        off += (size_t)blen;
        f->swapped = swapped;
        uint64_t end = f->scanned + off;
        if (is_packet(type)) {
            f->packets++;
            f->packet_end = end;
        }
        /* libpcap's open reads on to the first interface description (it needs the link type);
         * a packet before any makes it fail there. */
        if (!f->header_end && (type == BLOCK_IDB || is_packet(type)))
            f->header_end = end;
    }
    f->scanned += off;
    return (long)off;
}

long pcapframe_scan(struct pcapframe *f, const uint8_t *data, size_t len)
{
    if (f->failed)
        return -1;
    if (f->format == PCAPFRAME_UNKNOWN) {
        if (len < 4)
            return 0;
        detect(f, data);
    }
    if (f->format == PCAPFRAME_PCAP)
        return scan_pcap(f, data, len);
    if (f->format == PCAPFRAME_PCAPNG)
        return scan_pcapng(f, data, len);
    return 0;
}
