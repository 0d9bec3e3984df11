/*
 * Fuzzes the chunked decoder: the input is a chunked body. Invariants: consumed bytes never
 * exceed the input, payload slices lie inside it, and feeding whole or byte by byte yields the
 * same payload, status, consumed count and warnings (codes and body offsets), and the same
 * chunk extensions kept: at most CHUNKED_EXT_KEPT_MAX lines of at most CHUNKED_EXT_LINE_MAX
 * bytes, inside the list, in the order of their chunks.
 */
#include "fuzzcheck.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/chunked.h"

/* The kept extensions as one string (chunk, size, cut, bytes), checked on the way. */
static void exts_of(const struct chunked *c, struct dynbuf *out)
{
    size_t pos = 0, lines = 0;
    uint32_t last = 0;
    struct chunked_ext e;
    while (chunked_ext_next(c->exts.data, c->exts.len, &pos, &e)) {
        CHECK(e.ext >= c->exts.data && e.ext + e.len <= c->exts.data + c->exts.len);
        CHECK(e.len <= CHUNKED_EXT_LINE_MAX && e.chunk > last && ++lines <= CHUNKED_EXT_KEPT_MAX);
        last = e.chunk;
        dynbuf_printf(out, "%u %llu %d ", e.chunk, (unsigned long long)e.size, e.cut);
        dynbuf_append(out, e.ext, e.len);
        dynbuf_addc(out, '\n');
    }
    CHECK(pos <= c->exts.len);
    dynbuf_printf(out, "+%u", c->ext_unlisted);
}

static size_t run(const uint8_t *p, size_t n, size_t piece, struct dynbuf *out, int *status,
                  struct http_warnings *all, struct dynbuf *exts)
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
    exts_of(&c, exts);
    chunked_cleanup(&c);
    return off;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dynbuf a, b, ea, eb;
    dynbuf_init(&a, 1 << 20);
    dynbuf_init(&b, 1 << 20);
    dynbuf_init(&ea, 1 << 20);
    dynbuf_init(&eb, 1 << 20);
    int sa, sb;
    struct http_warnings wa = {0}, wb = {0};
    size_t ua = run(data, size, 0, &a, &sa, &wa, &ea);
    size_t ub = run(data, size, 1, &b, &sb, &wb, &eb);
    CHECK(ea.len == eb.len && memcmp(ea.data, eb.data, ea.len) == 0);
    dynbuf_cleanup(&ea);
    dynbuf_cleanup(&eb);
    CHECK(ua <= size);
    CHECK(ua == ub && sa == sb && a.len == b.len);
    CHECK(a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
    CHECK(wa.n == wb.n && memcmp(wa.w, wb.w, wa.n * sizeof wa.w[0]) == 0);
    dynbuf_cleanup(&a);
    dynbuf_cleanup(&b);
    return 0;
}
