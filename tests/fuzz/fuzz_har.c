/*
 * Fuzzes HAR reading and what follows it: the document is split (whole, and again cut where
 * byte 0 says), every piece parsed by jansson, entries imported into a store, and each
 * exchange that comes out written again as a HAR entry, as pcapng packets and in every export
 * format. Invariants: both feeds give the same pieces; entries imported never exceed entries
 * split; every exchange's raw bytes stay within its buffer; scripts need no terminal escaping; the
 * HAR entry parses and its raw bytes are the exchange's.
 */
#include "fuzzcheck.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/base64.h"
#include "hspy/export.h"
#include "hspy/har.h"
#include "hspy/harimport.h"
#include "hspy/harsplit.h"
#include "hspy/pcapng.h"
#include "hspy/termsafe.h"

static const struct http_limits LIMITS = {4096, 64, 16, 256};
static const struct exchange_limits EXL = {4096, 8192};

struct run {
    struct harimport imp;
    struct pcapng png;
    uint64_t pieces, entries;
    uint32_t digest; /* of every piece's text, to compare the two feeds */
};

static void check_exports(const struct exchange *ex)
{
    struct export_config cfg = {&LIMITS, 1 << 16, "dir/body.bin", true};
    for (int f = 0; f < EXPORT__COUNT; f++) {
        struct dynbuf out;
        dynbuf_init(&out, 1 << 22);
        struct export_result res;
        /* Scripts are safe on a terminal: what termsafe would escape is escaped already. */
        if (export_render(&out, ex, (enum export_format)f, &cfg, &res) == 0 &&
            !export_format_binary((enum export_format)f))
            CHECK(termsafe_is_clean(out.data, out.len, TERMSAFE_NEWLINES | TERMSAFE_TABS));
        dynbuf_cleanup(&out);
    }
}

static void check_entry(const struct exchange *ex)
{
    struct har_config cfg = {&LIMITS, 1 << 16, "hspy"};
    struct dynbuf text;
    dynbuf_init(&text, 1 << 24);
    CHECK(har_stream_entry(&text, ex, &cfg, true) == 0);
    json_t *e = json_loadb((const char *)text.data, text.len, JSON_ALLOW_NUL, NULL);
    CHECK(e != NULL);
    const char *raw = json_string_value(
        json_object_get(json_object_get(json_object_get(e, "_hspy"), "request"), "raw"));
    if (raw) {
        struct dynbuf bytes;
        dynbuf_init(&bytes, strlen(raw));
        CHECK(base64_decode(&bytes, raw, strlen(raw)) == 0);
        CHECK(bytes.len == ex->req.raw.len &&
              (bytes.len == 0 || memcmp(bytes.data, ex->req.raw.data, bytes.len) == 0));
        dynbuf_cleanup(&bytes);
    }
    json_decref(e);
    dynbuf_cleanup(&text);
}

static void on_complete(void *data, struct exchange *ex)
{
    struct run *r = data;
    CHECK(ex->req.raw.len <= ex->req.raw.max && ex->resp.raw.len <= ex->resp.raw.max);
    CHECK(ex->req.head_off <= ex->req.raw.len && ex->resp.head_off <= ex->resp.raw.len);
    check_entry(ex);
    check_exports(ex);
    struct dynbuf out;
    dynbuf_init(&out, 1 << 24);
    CHECK(pcapng_exchange(&r->png, &out, ex) == 0);
    dynbuf_cleanup(&out);
}

static void piece(struct run *r, enum harsplit_event ev, const struct harsplit_piece *p)
{
    r->pieces++;
    for (size_t i = 0; i < p->len; i++)
        r->digest = r->digest * 31 + p->text[i];
    json_t *v = json_loadb((const char *)p->text, p->len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!v)
        return;
    if (ev == HARSPLIT_ENTRY) {
        r->entries++;
        harimport_entry(&r->imp, v);
    } else if (!p->top) {
        char err[256];
        harimport_log_member(&r->imp, p->key, v, err, sizeof err);
    }
    json_decref(v);
}

/* Feeds data in two parts cut at cut; returns the final event. */
static enum harsplit_event feed(struct run *r, const uint8_t *data, size_t n, size_t cut)
{
    struct harsplit s;
    harsplit_init(&s, 1 << 20);
    enum harsplit_event ev = HARSPLIT_MORE;
    size_t parts[2][2] = {{0, cut}, {cut, n}};
    for (int k = 0; k < 2 && ev != HARSPLIT_ERROR; k++) {
        size_t off = parts[k][0];
        while (off < parts[k][1] && ev != HARSPLIT_ERROR) {
            const struct harsplit_piece *p;
            size_t used = harsplit_feed(&s, data + off, parts[k][1] - off, &ev, &p);
            CHECK(used <= parts[k][1] - off);
            CHECK(used > 0 || ev != HARSPLIT_MORE);
            off += used;
            if (ev == HARSPLIT_MEMBER || ev == HARSPLIT_ENTRY)
                piece(r, ev, p);
        }
    }
    if (ev != HARSPLIT_ERROR)
        ev = harsplit_end(&s);
    CHECK(ev == HARSPLIT_DONE || (ev == HARSPLIT_ERROR && s.error[0]));
    harsplit_cleanup(&s);
    return ev;
}

static enum harsplit_event run_once(const uint8_t *data, size_t n, size_t cut, struct run *r)
{
    struct store st;
    store_init(&st, 0, (size_t)1 << 30);
    store_observe(&st, &(struct store_observer){r, NULL, NULL, on_complete, NULL});
    uint64_t conn = 0;
    struct harimport_config cfg = {&st, &LIMITS, &EXL, &conn};
    harimport_init(&r->imp, &cfg);
    pcapng_init(&r->png, 16);
    enum harsplit_event ev = feed(r, data, n, cut);
    harimport_finish(&r->imp);
    CHECK(r->imp.counters.entries == r->entries);
    CHECK(st.counters.added + r->imp.counters.skipped == r->entries);
    harimport_cleanup(&r->imp);
    pcapng_cleanup(&r->png);
    store_cleanup(&st);
    return ev;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t cut = size > 1 ? data[0] % size : 0;
    struct run a = {0}, b = {0};
    enum harsplit_event ea = run_once(data + 1, size - 1, 0, &a);
    enum harsplit_event eb = run_once(data + 1, size - 1, cut > size - 1 ? 0 : cut, &b);
    CHECK(ea == eb && a.pieces == b.pieces && a.digest == b.digest);
    return 0;
}
