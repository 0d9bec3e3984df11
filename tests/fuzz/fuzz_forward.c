/*
 * Fuzzes a proxy's decisions about a request head: routing (forward_route) and the head edits
 * (forward_head). The first byte picks the edits; the rest is parsed as a request head. For
 * every head the parser accepts: routing either succeeds with a host that is a C string and a
 * port, or gives a status and a reason; an edited head, followed by the bytes that followed the
 * original, is again one complete head of exactly the edited length, keeps the number of Host
 * fields (or adds one when asked), and every Host value is the one asked for.
 */
#include "fuzzcheck.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/forward.h"
#include "hspy/http.h"

enum { CAP = 64 };

static int parse(const uint8_t *p, size_t n, uint32_t head_max, struct http_head *h,
                 struct http_header *hd)
{
    const struct http_limits lim = {head_max, CAP, 16, 256};
    memset(h, 0, sizeof *h);
    h->headers = hd;
    h->cap = CAP;
    return http_head_parse(p, n, HTTP_REQUEST, &lim, NULL, h, NULL);
}

static uint32_t hosts(const uint8_t *base, const struct http_head *h, const char *want, bool *same)
{
    uint32_t n = 0;
    *same = true;
    for (uint32_t i = 0; i < h->nheaders; i++) {
        if (h->headers[i].field != HF_HOST)
            continue;
        n++;
        *same &= want && h->headers[i].value.len == strlen(want) &&
                 memcmp(base + h->headers[i].value.off, want, strlen(want)) == 0;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t pick = data[0];
    size_t n = size - 1;
    uint8_t *p = malloc(n ? n : 1);
    memcpy(p, data + 1, n);
    struct http_head h;
    struct http_header hd[CAP];
    int rc = parse(p, n, 4096, &h, hd);
    if (rc <= 0 || h.total_headers > CAP) {
        free(p);
        return 0;
    }
    struct forward_route route;
    char why[200] = "";
    int status = forward_route(p, &h, &route, why, sizeof why);
    if (status == 0) {
        CHECK(route.kind <= FORWARD_CONNECT);
        CHECK(memchr(route.host, '\0', sizeof route.host) != NULL);
        CHECK(route.kind == FORWARD_UPSTREAM || (route.host[0] && route.port));
    } else {
        CHECK(status >= 400 && status < 600 && why[0]);
    }
    struct forward_edits e = {
        .host = (pick & 1) ? "upstream.example:8080" : NULL,
        .host_add = (pick & 2) != 0,
        .origin_form = (pick & 4) != 0,
        .xff = (pick & 8) ? "192.0.2.1" : NULL,
        .forwarded = (pick & 16) ? "for=192.0.2.1;proto=http" : NULL,
    };
    struct dynbuf out;
    dynbuf_init(&out, 1 << 16);
    if (forward_head(p, &h, &e, &out)) {
        /* The upstream sees the edited head followed by what came after the original one
         * (a lone CR can end a head only once the next byte is known). */
        size_t head_len = out.len;
        dynbuf_append(&out, p + h.len, n - h.len);
        CHECK(!(h.flags & HEAD_HTTP09));
        struct http_head h2;
        struct http_header hd2[CAP + 4];
        memset(&h2, 0, sizeof h2);
        h2.headers = hd2;
        h2.cap = CAP + 4;
        const struct http_limits lim = {1 << 16, CAP + 4, 16, 256};
        int rc2 = http_head_parse(out.data, out.len, HTTP_REQUEST, &lim, NULL, &h2, NULL);
        CHECK(rc2 == (int)head_len);
        bool same_before, same_after;
        uint32_t before = hosts(p, &h, e.host, &same_before);
        uint32_t after = hosts(out.data, &h2, e.host, &same_after);
        if (e.host) {
            CHECK(after == before || (before == 0 && e.host_add && after == 1));
            CHECK(after == 0 || same_after);
        } else {
            CHECK(after == before);
        }
    } else {
        CHECK(out.len == 0);
    }
    dynbuf_cleanup(&out);
    free(p);
    return 0;
}
