/*
 * Fuzzes the body views. Input: byte 0 picks the mode, byte 1 the width, byte 2 wrapping and
 * horizontal scroll, byte 3 a Content-Type; the rest is the body. Invariants: no row carries a
 * C0 control, DEL or C1 control; spans lie inside their row; the row count is the same however
 * the rows are reached (in order, backwards, by the index); a row's offset maps back to a row;
 * searching forward finds matches in increasing order and ends.
 */
#include "fuzzcheck.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/bodyview.h"

static const char *const TYPES[] = {
    NULL,
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=B",
    "text/plain; charset=iso-8859-1",
    "text/plain; charset=utf-8",
    "application/octet-stream",
    "application/x-ndjson",
    "text/plain; charset=koi8-r",
    "multipart/mixed; boundary=\"a b\"",
};

enum { ROWS_MAX = 4000 };

static void check_row(const struct bodyview_row *r)
{
    const uint8_t *t = r->text.data ? r->text.data : (const uint8_t *)"";
    for (size_t i = 0; i < r->text.len; i++) {
        CHECK(t[i] >= 0x20 && t[i] != 0x7f);
        CHECK(!(t[i] == 0xc2 && i + 1 < r->text.len && t[i + 1] >= 0x80 && t[i + 1] < 0xa0));
    }
    for (uint16_t i = 0; i < r->nspans; i++)
        CHECK(r->span[i].off + r->span[i].len <= r->text.len);
}

static void search(struct bodyview *v, uint64_t rows)
{
    char err[128];
    struct bodyview_query *q = bodyview_query_new("[a-z]+", BODYVIEW_FIND_REGEX, err, sizeof err);
    CHECK(q != NULL);
    struct bodyview_match from, m;
    bodyview_position(v, 0, &from);
    uint64_t last_line = 0;
    for (int k = 0; k < 50 && bodyview_find(v, q, &from, false, 0, &m) == BODYVIEW_FOUND; k++) {
        CHECK(m.match && m.row < rows && m.line >= last_line);
        last_line = m.line;
        from = m;
    }
    bodyview_query_free(q);
}

/* A plain search in steps of a few bytes finds the same first match as one without a budget. */
static void search_in_steps(struct bodyview *v, const char *needle)
{
    char err[128];
    struct bodyview_query *q = bodyview_query_new(needle, BODYVIEW_FIND_ICASE, err, sizeof err);
    CHECK(q != NULL);
    struct bodyview_match start, from, whole, m;
    bodyview_position(v, 0, &start);
    from = start;
    enum bodyview_find_result r0 = bodyview_find(v, q, &from, false, 0, &whole), r;
    from = start;
    size_t calls = 0;
    while ((r = bodyview_find(v, q, &from, false, 7, &m)) == BODYVIEW_MORE) {
        CHECK(!m.match && ++calls < ((size_t)1 << 24));
        from = m;
    }
    CHECK(r == r0);
    if (r == BODYVIEW_FOUND)
        CHECK(m.row == whole.row && m.line == whole.line && m.start == whole.start &&
              m.offset == whole.offset);
    bodyview_query_free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    enum bodyview_mode mode = (enum bodyview_mode)(data[0] % BODYVIEW__COUNT);
    struct bodyview_layout lay = {data[1] % 3 == 0 ? 0 : data[1] % 90 + 1, (data[2] >> 1) % 8,
                                  data[2] & 1};
    const char *ct = TYPES[data[3] % (sizeof TYPES / sizeof TYPES[0])];
    const uint8_t *body = data + 4;
    size_t n = size - 4;

    struct bodyview *v = bodyview_new(body, n, ct, ct ? strlen(ct) : 0, mode);
    CHECK(bodyview_mode(v) != BODYVIEW_AUTO);
    bodyview_set_layout(v, &lay);
    struct bodyview_row r;
    bodyview_row_init(&r);
    uint64_t rows = 0;
    while (rows < ROWS_MAX && bodyview_row(v, rows, &r)) {
        check_row(&r);
        CHECK(r.offset <= n);
        rows++;
    }
    bool complete;
    if (rows < ROWS_MAX) {
        CHECK(bodyview_rows(v, &complete) == rows && complete);
        /* Backwards, from a fresh view (a cold index): the same rows exist. */
        struct bodyview *w = bodyview_new(body, n, ct, ct ? strlen(ct) : 0, mode);
        bodyview_set_layout(w, &lay);
        for (uint64_t k = rows; k-- > 0 && rows - k < 200;) {
            CHECK(bodyview_row(w, k, &r));
            check_row(&r);
        }
        CHECK(!bodyview_row(w, rows, &r));
        CHECK(bodyview_index(w, 0));
        CHECK(bodyview_rows(w, NULL) == rows);
        if (rows) {
            CHECK(bodyview_row_of_offset(w, n / 2) < rows);
            search(w, rows);
            search_in_steps(w, "ab");
        }
        bodyview_free(w);
    }
    CHECK(strlen(bodyview_describe(v)) < 192);
    bodyview_row_cleanup(&r);
    bodyview_free(v);
    return 0;
}
