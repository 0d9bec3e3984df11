/*
 * Fuzzes content decoding. Input: byte 0 picks a Content-Encoding list, byte 1 a cap, the rest
 * is the body. Invariants: output never exceeds the cap (nor out's own maximum); consumed,
 * trailing and, for a single coding, the error offset lie inside the body; the strings in the
 * result are terminated; ignored trailing bytes end the body; identity copies the body; the same
 * input decodes the same way twice; and a smaller cap yields a prefix of what a larger one yields.
 */
#include "fuzzcheck.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/decode.h"

static const char *const CODINGS[] = {
    "gzip",          "deflate",    "br",        "zstd",      "gzip, br",   "deflate, zstd",
    "x-gzip",        "identity",   "",          "x-unknown", "gzip, gzip", "br, gzip",
    "zstd, deflate", "gzip, zstd", "x-a, gzip", "gzip, x-a",
};
static const size_t CAPS[] = {0, 1, 7, 100, 4096, 65536, 1 << 20};

static enum decode_status run(const char *ce, const uint8_t *p, size_t n, size_t max,
                              size_t out_max, struct dynbuf *out, struct decode_result *res)
{
    dynbuf_init(out, out_max);
    enum decode_status st = decode_body((const uint8_t *)ce, strlen(ce), p, n, max, out, res);
    CHECK(st == res->status);
    CHECK(st <= DECODE_LIMIT);
    CHECK(out->len <= max && out->len <= out_max);
    CHECK(res->consumed <= n);
    CHECK(memchr(res->coding, 0, sizeof res->coding) != NULL);
    CHECK(memchr(res->message, 0, sizeof res->message) != NULL);
    CHECK(res->layers <= DECODE_LAYERS_MAX);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const char *ce = CODINGS[data[0] % (sizeof CODINGS / sizeof CODINGS[0])];
    size_t max = CAPS[data[1] % (sizeof CAPS / sizeof CAPS[0])];
    const uint8_t *body = data + 2;
    size_t n = size - 2;
    bool single = strchr(ce, ',') == NULL;

    struct dynbuf a, b, c;
    struct decode_result ra, rb, rc;
    enum decode_status sa = run(ce, body, n, max, SIZE_MAX / 2, &a, &ra);
    if (single && sa == DECODE_ERROR)
        CHECK(ra.error_offset <= n);
    if (single)
        CHECK(ra.trailing <= n && (ra.trailing == 0 || ra.error_offset + ra.trailing == n));
    if (sa == DECODE_IDENTITY)
        CHECK(a.len == n && (n == 0 || memcmp(a.data, body, n) == 0));

    enum decode_status sb = run(ce, body, n, max, SIZE_MAX / 2, &b, &rb);
    CHECK(sa == sb && a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0));
    CHECK(ra.error_offset == rb.error_offset && strcmp(ra.message, rb.message) == 0);

    /* Half the cap, and out's own maximum as the cap: a prefix of the same bytes. */
    size_t half = max / 2;
    run(ce, body, n, half, SIZE_MAX / 2, &c, &rc);
    CHECK(c.len <= a.len && (c.len == 0 || memcmp(c.data, a.data, c.len) == 0));
    if (a.len > half)
        CHECK(rc.status == DECODE_LIMIT || rc.status == DECODE_ERROR);
    dynbuf_cleanup(&c);
    run(ce, body, n, max, half, &c, &rc);
    CHECK(c.len <= a.len && (c.len == 0 || memcmp(c.data, a.data, c.len) == 0));

    dynbuf_cleanup(&a);
    dynbuf_cleanup(&b);
    dynbuf_cleanup(&c);
    return 0;
}
