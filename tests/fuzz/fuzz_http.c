/*
 * Fuzzes the head parser. The first byte picks requests or responses and a split point; the
 * rest is the input. Invariants: the result never exceeds the input, every span lies inside
 * it, counts respect the capacity, and parsing whole or in two pieces gives the same result.
 * Requests are also read as an unparsed request line (http_peek_request_line), and every input
 * as an unparsed head's field (http_peek_field) and a trailer section's field lines
 * (http_trailer_check).
 */
#include "fuzzcheck.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/framing.h"
#include "hspy/http.h"

enum { CAP = 32 };

static void check_span(struct http_span s, size_t len)
{
    CHECK((size_t)s.off + s.len <= len);
}

static int parse(const uint8_t *p, size_t n, enum http_kind kind, size_t cut, struct http_head *h,
                 struct http_header *hd, struct http_warnings *w)
{
    static const struct http_limits lim = {4096, CAP, 16, 256};
    memset(h, 0, sizeof *h);
    memset(w, 0, sizeof *w);
    h->headers = hd;
    h->cap = CAP;
    struct http_scan scan = {0};
    int rc = HTTP_NEED_MORE;
    if (cut && cut < n) {
        /* An exact-size copy so that reading past the first piece is caught. */
        uint8_t *first = malloc(cut);
        memcpy(first, p, cut);
        rc = http_head_parse(first, cut, kind, &lim, &scan, h, w);
        free(first);
        if (rc != HTTP_NEED_MORE)
            return rc;
    }
    return http_head_parse(p, n, kind, &lim, &scan, h, w);
}

/*
 * The request line read without parsing: spans inside the input, HEAD only with the line whole,
 * and a prefix that says HEAD (read from an exact-size copy) says what the whole input says.
 */
static void check_peek(const uint8_t *p, size_t n, size_t cut)
{
    struct http_span method, target;
    bool whole = false;
    bool head = http_request_line_is_head(p, n);
    if (http_peek_request_line(p, n, &method, &target, &whole)) {
        check_span(method, n);
        check_span(target, n);
        CHECK(method.len > 0 && target.off > method.off);
    } else {
        CHECK(!head);
    }
    CHECK(!head || whole);
    uint8_t *first = malloc(cut ? cut : 1);
    memcpy(first, p, cut);
    CHECK(!http_request_line_is_head(first, cut) || head);
    free(first);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum http_kind kind = (data[0] & 1) ? HTTP_RESPONSE : HTTP_REQUEST;
    size_t n = size - 1;
    uint8_t *p = malloc(n ? n : 1);
    memcpy(p, data + 1, n);
    struct http_head a, b;
    struct http_header ha[CAP], hb[CAP];
    struct http_warnings wa, wb;
    int ra = parse(p, n, kind, 0, &a, ha, &wa);
    int rb = parse(p, n, kind, n ? (size_t)(data[0] >> 1) % (n + 1) : 0, &b, hb, &wb);
    CHECK(ra == rb);
    CHECK(ra <= (int)n);
    if (ra > 0) {
        CHECK(a.len == (uint32_t)ra && a.nheaders <= CAP && a.nheaders <= a.total_headers);
        check_span(a.method, n);
        check_span(a.target, n);
        check_span(a.version, n);
        check_span(a.reason, n);
        for (uint32_t i = 0; i < a.nheaders; i++) {
            check_span(ha[i].name, n);
            check_span(ha[i].value, n);
            CHECK(ha[i].line < n);
            CHECK(memcmp(&ha[i], &hb[i], sizeof ha[i]) == 0);
        }
        CHECK(a.nheaders == b.nheaders && wa.n == wb.n);
        struct framing f;
        if (kind == HTTP_REQUEST)
            framing_request(p, &a, &f, &wa);
        else
            framing_response(p, &a, NULL, &f, &wa);
        CHECK(f.kind <= BODY_TUNNEL);
    }
    for (uint16_t i = 0; i < wa.n; i++)
        CHECK(wa.w[i].code < W__COUNT && wa.w[i].off <= n);
    if (kind == HTTP_REQUEST)
        check_peek(p, n, n ? (size_t)(data[0] >> 1) % (n + 1) : 0);
    /* A field read from the bytes as from a head not parsed: inside them. */
    struct http_span host;
    if (http_peek_field(p, n, "host", &host))
        check_span(host, n);
    /* The same bytes as a trailer section's field lines: warnings inside them. */
    struct http_warnings wt = {.n = 0};
    http_trailer_check(p, n, &wt);
    for (uint16_t i = 0; i < wt.n; i++)
        CHECK(wt.w[i].code < W__COUNT && wt.w[i].off < n && wt.w[i].code != W_NAME_TYPO);
    free(p);
    return 0;
}
