/*
 * Fuzzes the hand-edit functions and the line diff with arbitrary text, as an editor may leave
 * it. Invariants: the fix-up always produces a message, and fixing a fixed message that is not
 * chunked changes nothing; heads found lie inside the text and end in LF; quick edits either
 * fail leaving the output untouched or produce output; the engine's reading of any text stays
 * within it; a diff's script rebuilds both texts exactly.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzcheck.h"
#include "hspy/diff.h"
#include "hspy/edit.h"

static void check_diff(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    struct diff d;
    diff_compute(&d, a, an, b, bn);
    size_t ia = 0, ib = 0, oa = 0, ob = 0;
    for (size_t i = 0; i < d.n; i++) {
        const struct diff_entry *e = &d.v[i];
        CHECK(e->a == ia && e->b == ib);
        if (e->op != DIFF_ADD) {
            CHECK(e->a < d.na && d.a[e->a].p == a + oa);
            oa += d.a[e->a].len;
            ia++;
        }
        if (e->op != DIFF_DEL) {
            CHECK(e->b < d.nb && d.b[e->b].p == b + ob);
            ob += d.b[e->b].len;
            ib++;
        }
        if (e->op == DIFF_SAME)
            CHECK(d.a[e->a].len == d.b[e->b].len &&
                  memcmp(d.a[e->a].p, d.b[e->b].p, d.a[e->a].len) == 0);
    }
    CHECK(oa == an && ob == bn && ia == d.na && ib == d.nb);
    diff_cleanup(&d);
}

static void check_quick(const uint8_t *p, size_t n)
{
    struct dynbuf out;
    dynbuf_init(&out, EDIT_MAX + 64);
    char err[256];
    size_t removed = 0;
    int rc = edit_set_header(p, n, "X-Fuzz", "1", &out, err, sizeof err);
    CHECK(rc == 0 && out.len > 0);
    dynbuf_reset(&out);
    CHECK(edit_remove_header(p, n, "Content-Length", &out, &removed, err, sizeof err) == 0);
    dynbuf_reset(&out);
    rc = edit_set_status(p, n, 404, NULL, &out, err, sizeof err);
    CHECK(rc == 0 ? out.len > 0 : out.len == 0);
    dynbuf_reset(&out);
    if (n) {
        CHECK(edit_set_body(p, n, (const uint8_t *)"body", 4, &out, err, sizeof err) == 0);
        /* The new body is there: last, or as the one chunk of a chunked body. */
        bool found = false;
        for (size_t i = 0; i + 4 <= out.len && !found; i++)
            found = memcmp(out.data + i, "body", 4) == 0;
        CHECK(found);
    }
    dynbuf_cleanup(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    long h = edit_head_len(data, size);
    CHECK(h == -1 || (h > 0 && (size_t)h <= size && data[h - 1] == '\n'));
    struct dynbuf fixed, again;
    dynbuf_init(&fixed, EDIT_MAX + 64);
    dynbuf_init(&again, EDIT_MAX + 64);
    struct edit_fix_report rep;
    int rc = edit_fix(data, size, &fixed, &rep);
    CHECK(size ? rc == 0 && fixed.len > 0 : rc == -1);
    if (rc == 0) {
        struct edit_fix_report rep2;
        CHECK(edit_fix(fixed.data, fixed.len, &again, &rep2) == 0);
        if (!rep.rechunked)
            CHECK(again.len == fixed.len && memcmp(again.data, fixed.data, fixed.len) == 0);
        check_diff(data, size, fixed.data, fixed.len);
    }
    check_quick(data, size);
    static const struct http_limits limits = HTTP_LIMITS_DEFAULT;
    static const struct exchange_limits exl = {HTTP_HEAD_MAX_DEFAULT, 1 << 20};
    for (int s = 0; s < 2; s++) {
        struct edit_check c;
        static const uint8_t REQ[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        struct exchange *ex =
            edit_check(data, size, (enum side)s, REQ, sizeof REQ - 1, &limits, &exl, &c);
        CHECK(c.extra <= size && c.body <= size);
        exchange_free(ex);
    }
    size_t half = size / 2;
    check_diff(data, half, data + half, size - half);
    dynbuf_cleanup(&fixed);
    dynbuf_cleanup(&again);
    return 0;
}
