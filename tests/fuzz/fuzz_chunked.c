/*
 * Fuzzes the chunked decoder: the input is a chunked body. Invariants: consumed bytes never
 * exceed the input, payload slices lie inside it, and feeding whole or byte by byte yields the
 * same payload, status, consumed count and warnings (codes and body offsets).
 */
#include "fuzzcheck.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/chunked.h"

static size_t run(const uint8_t *p, size_t n, size_t piece, struct dynbuf *out, int *status,
                  struct http_warnings *all)
{
    static const struct http_limits lim = {1024, 64, 16, 64};
    struct chunked c;
    chunked_init(&c, &lim);
    size_t off = 0;
    while (off < n && c.status == CHUNKED_MORE) {
        size_t len = piece && n - off > piece ? piece : n - off;
        size_t pos = 0;
        while (pos < len && c.status == CHUNKED_MORE) {
            struct http_span s;
            struct http_warnings w = {0};
            size_t k = chunked_step(&c, p + off + pos, len - pos, &s, &w);
            CHECK(k <= len - pos);
            CHECK((size_t)s.off + s.len <= k);
            if (s.len)
                dynbuf_append(out, p + off + pos + s.off, s.len);
            for (uint16_t i = 0; i < w.n; i++)
                http_warnings_add(all, (enum warning_code)w.w[i].code, w.w[i].off,
                                  (struct http_span){0, 0}, w.w[i].field);
            if (k == 0)
                break;
            pos += k;
        }
        off += pos;
        if (pos < len)
            break;
    }
    *status = c.status;
    chunked_cleanup(&c);
    return off;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dynbuf a, b;
    dynbuf_init(&a, 1 << 20);
    dynbuf_init(&b, 1 << 20);
    int sa, sb;
    struct http_warnings wa = {0}, wb = {0};
    size_t ua = run(data, size, 0, &a, &sa, &wa);
    size_t ub = run(data, size, 1, &b, &sb, &wb);
    CHECK(ua <= size);
    CHECK(ua == ub && sa == sb && a.len == b.len);
    CHECK(a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
    CHECK(wa.n == wb.n && memcmp(wa.w, wb.w, wa.n * sizeof wa.w[0]) == 0);
    dynbuf_cleanup(&a);
    dynbuf_cleanup(&b);
    return 0;
}
