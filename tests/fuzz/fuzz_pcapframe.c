/*
 * Fuzzes the framing of capture streams (pcapframe_scan). The first byte of the input sets the
 * size of the pieces (1 to 256 bytes) in which the rest arrives, as a pipe hands them over.
 * Checks: every call scans only the bytes it is given and never goes back; a failure is final
 * (the records before the bad one are scanned, nothing after it ever is); and however the stream is
 * cut, the framing reached is the one of scanning it whole at once (offsets, packets, the format,
 * the failure).
 */
#include "fuzzcheck.h"
#include <stdint.h>
#include <string.h>

#include "hspy/pcapframe.h"

/* Feeds data[0..n) in pieces of `piece` bytes (0: all at once) and returns the framing. */
static struct pcapframe scan_in_pieces(const uint8_t *data, size_t n, size_t piece)
{
    struct pcapframe f;
    pcapframe_init(&f);
    size_t received = 0;
    while (received < n) {
        size_t more = piece && n - received > piece ? piece : n - received;
        received += more;
        uint64_t before = f.scanned, packets = f.packets;
        long got = pcapframe_scan(&f, data + f.scanned, received - (size_t)f.scanned);
        CHECK(got >= -1);
        CHECK(f.scanned >= before && f.scanned <= received);
        if (got < 0) {
            /* The whole records before the bad one are scanned; nothing after it ever is. */
            CHECK(f.failed && f.error[0]);
            uint64_t at = f.scanned;
            CHECK(pcapframe_scan(&f, data + f.scanned, received - (size_t)f.scanned) == -1);
            CHECK(f.scanned == at);
            break;
        }
        CHECK(!f.failed);
        CHECK(f.scanned == before + (uint64_t)got);
        CHECK(f.scanned <= received);
        CHECK(f.packets >= packets);
        CHECK(f.packet_end <= f.scanned);
    }
    return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t piece = (size_t)data[0] + 1;
    struct pcapframe whole = scan_in_pieces(data + 1, size - 1, 0);
    struct pcapframe cut = scan_in_pieces(data + 1, size - 1, piece);
    CHECK(cut.failed == whole.failed);
    CHECK(cut.format == whole.format);
    CHECK(cut.scanned == whole.scanned);
    CHECK(cut.packets == whole.packets);
    CHECK(cut.packet_end == whole.packet_end);
    CHECK(cut.header_end == whole.header_end);
    return 0;
}
