/*
 * harimport: HAR entries back into exchanges. Exchanges made by the real engine (keep-alive,
 * chunked, interim responses, tunnels, malformed heads, orphans, capture gaps, truncation,
 * HTTP/0.9, requests still in flight) are written as HAR entries, imported, and written again:
 * the entries must be identical. Entries of other tools become HTTP/1.x bytes with a note. The
 * window keeps recorded ids and completes in file order. Times in ISO 8601 with offsets.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/base64.h"
#include "hspy/conversation.h"
#include "hspy/har.h"
#include "hspy/harimport.h"

static const struct http_limits LIMITS = HTTP_LIMITS_DEFAULT;
static const struct exchange_limits EXL = {HTTP_HEAD_MAX_DEFAULT, 1 << 20};
static const struct har_config HCFG = {&LIMITS, 1 << 20, "hspy"};

struct made {
    struct exchange *ex[8];
    size_t n;
};

static int on_event(void *data, struct conversation *c, struct exchange *ex, enum conv_event ev,
                    enum side side, const uint8_t *p, size_t len)
{
    struct made *m = data;
    (void)c, (void)side, (void)p, (void)len;
    if (ev == CONV_BEGIN && m->n < 8)
        m->ex[m->n++] = ex;
    if (ev == CONV_END)
        ex->flags |= EX_DONE;
    return CONV_CONTINUE;
}

/* Feeds the pieces ("C:" client, "S:" server, "G:n" gap on the next side named, "c"/"s" close)
 * through a capture conversation; returns the first exchange, the others freed. */
static struct exchange *engine(const char *const *steps, size_t body_keep, bool end)
{
    struct made m = {{0}, 0};
    struct conversation_config cc;
    memset(&cc, 0, sizeof cc);
    cc.limits = LIMITS;
    cc.exchange = EXL;
    cc.exchange.body_keep = body_keep;
    cc.conn_id = 4;
    cc.capture = true;
    endpoint_set(&cc.client, "192.0.2.1", 50000);
    endpoint_set(&cc.server, "192.0.2.2", 80);
    struct conversation_events ev = {&m, on_event};
    struct conversation *c = conversation_new(&cc, &ev);
    int64_t ts = 1700000000000000000;
    for (size_t i = 0; steps[i]; i++, ts += 1000) {
        const char *s = steps[i];
        enum side side = s[0] == 'C' || s[0] == 'c' ? SIDE_CLIENT : SIDE_SERVER;
        if (s[0] == 'c' || s[0] == 's') {
            conversation_close(c, side, ts);
        } else if (s[1] == 'G') {
            conversation_gap(c, side, (uint64_t)atoi(s + 2), ts);
        } else {
            size_t n;
            uint8_t *b = tu_unescape(s + 2, &n);
            conversation_feed(c, side, b, n, ts);
            free(b);
        }
    }
    conversation_free(c);
    struct exchange *first = m.ex[0];
    first->id = 7;
    if (!end) /* as a session that ended with it in flight wrote it */
        first->flags &= ~(uint32_t)EX_DONE;
    for (size_t i = 1; i < m.n; i++)
        exchange_free(m.ex[i]);
    return first;
}

static json_t *entry_json(const struct exchange *ex)
{
    struct dynbuf t;
    dynbuf_init(&t, 64 << 20);
    assert_int_equal(har_stream_entry(&t, ex, &HCFG, true), 0);
    json_t *v = json_loadb((const char *)t.data, t.len, 0, NULL);
    assert_non_null(v);
    dynbuf_cleanup(&t);
    return v;
}

static struct harimport *importer(struct store *st, uint64_t *conn)
{
    struct harimport *h = calloc(1, sizeof *h);
    struct harimport_config cfg = {st, &LIMITS, &EXL, conn};
    harimport_init(h, &cfg);
    return h;
}

struct rt_case {
    const char *name;
    const char *steps[10];
    size_t body_keep;
};

static const struct rt_case ROUND_TRIPS[] = {
    {"get",
     {"C:GET /a HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n",
      "S:HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok"},
     1 << 20},
    {"chunked",
     {"C:POST /p HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n",
      "C:3;x=y\\r\\nabc\\r\\n0\\r\\nT: 1\\r\\n\\r\\n",
      "S:HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n1\\r\\nz\\r\\n",
      "S:0\\r\\n\\r\\n"},
     1 << 20},
    {"continue",
     {"C:PUT /u HTTP/1.1\\r\\nHost: h\\r\\nExpect: 100-continue\\r\\n"
      "Content-Length: 2\\r\\n\\r\\n",
      "S:HTTP/1.1 100 Continue\\r\\n\\r\\n", "C:hi",
      "S:HTTP/1.1 201 Created\\r\\nContent-Length: 0\\r\\n\\r\\n"},
     1 << 20},
    {"tunnel",
     {"C:CONNECT h:443 HTTP/1.1\\r\\nHost: h:443\\r\\n\\r\\n",
      "S:HTTP/1.1 200 Connection established\\r\\n\\r\\n", "C:\\x16\\x03\\x01\\0\\x05",
      "S:\\x16\\x03\\x03", "c", "s"},
     1 << 20},
    {"malformed",
     {"C:GET /x HTTP/1.1\\nHost: h\\nX-Fold: a\\n  b\\nContent-Lenght: 3\\n\\n",
      "S:HTTP/1.1 200 OK\\r\\nContent-Length: 1\\r\\nContent-Length: 1\\r\\n\\r\\n!"},
     1 << 20},
    {"multipart upload, binary file",
     {"C:POST /up HTTP/1.1\\r\\nHost: h\\r\\nContent-Type: multipart/form-data; boundary=b\\r\\n"
      "Content-Length: 126\\r\\n\\r\\n--b\\r\\nContent-Disposition: form-data; "
      "name=\"a\"\\r\\n\\r\\n1"
      "\\r\\n--b\\r\\nContent-Disposition: form-data; name=\"f\"; "
      "filename=\"x\"\\r\\n\\r\\n\\xff\\0"
      "\\r\\n--b--\\r\\n",
      "S:HTTP/1.1 204 No Content\\r\\n\\r\\n"},
     1 << 20},
    /* more size lines with extensions than are kept, one cut at its length, all past the body
     * bytes kept: the kept ones, the count of the others and the cut mark come back from the
     * HAR, not from the raw bytes */
    {"chunk extensions past the list",
     {"C:POST /e HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n",
      "C:2;long=qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
      "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
      "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
      "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
      "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq\\r\\nab\\r\\n",
      "C:1;n=1\\r\\nx\\r\\n1;n=2\\r\\nx\\r\\n1;n=3\\r\\nx\\r\\n1;n=4\\r\\nx\\r\\n1;n="
      "5\\r\\nx\\r\\n1;n=6\\r\\nx\\r\\n1;n=7\\r\\nx\\r\\n1;n=8\\r\\nx\\r\\n1;n=9\\r\\nx\\r\\n0;"
      "end\\r\\n\\r\\n",
      "S:HTTP/1.1 204 No Content\\r\\n\\r\\n"},
     16},
    {"orphan", {"S:HTTP/1.1 408 Request Timeout\\r\\nContent-Length: 0\\r\\n\\r\\n"}, 1 << 20},
    {"gap",
     {"C:GET /g HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n",
      "S:HTTP/1.1 200 OK\\r\\nContent-Length: 10\\r\\n\\r\\nab", "SG5", "S:xyz"},
     1 << 20},
    {"truncated",
     {"C:GET /t HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n",
      "S:HTTP/1.1 200 OK\\r\\nContent-Length: 12\\r\\n\\r\\n0123456789ab"},
     4},
    /* the trailer fields are kept apart from raw, which stopped keeping inside the body */
    {"trailer past the body kept",
     {"C:GET /t HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n",
      "S:HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\nTrailer: X-Sum\\r\\n\\r\\n"
      "a\\r\\n0123456789\\r\\n0\\r\\nX-Sum: 9\\r\\n\\r\\n"},
     4},
    {"unfinished request head",
     {"C:PUT /half?x=1 HTTP/1.1\\r\\nHo",
      "S:HTTP/1.1 408 Request Timeout\\r\\nContent-Length: 0\\r\\nConnection: close\\r\\n\\r\\n",
      "c", "s"},
     1 << 20},
    {"http09", {"C:GET /old\\r\\n", "S:<html>old</html>", "s"}, 1 << 20},
    {"binary",
     {"C:POST /b HTTP/1.1\\r\\nHost: h\\r\\nContent-Length: 4\\r\\n\\r\\n\\xff\\0\\xfe\\x80",
      "S:HTTP/1.1 200 OK\\r\\nContent-Type: application/octet-stream\\r\\n"
      "Content-Length: 3\\r\\n\\r\\n\\x89PN"},
     1 << 20},
    {"close",
     {"C:GET /c HTTP/1.0\\r\\n\\r\\n", "S:HTTP/1.0 200 OK\\r\\n\\r\\nuntil close", "s"},
     1 << 20},
    /* A head ended by a CR alone at the start of a line: the byte after it decided, and that
     * byte is the next message's, not in the entry. */
    {"bare CR ends heads",
     {"C:GET /a HTTP/1.1\\r\\nHost: h\\r\\n\\rGET /b HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n",
      "S:HTTP/1.1 204 No Content\\r\\n\\rHTTP/1.1 204 No Content\\r\\n\\r\\n"},
     1 << 20},
};

/* One entry imported by a fresh importer into a fresh store: the exchange built (asserted
 * non-NULL), its id and whether the entry said it was done. */
struct imported {
    struct store st;
    uint64_t conn, id;
    bool done;
    struct harimport *h;
    struct exchange *ex;
};

static void import_one(struct imported *im, const json_t *entry)
{
    store_init(&im->st, 100, (size_t)1 << 30);
    im->conn = 0;
    im->h = importer(&im->st, &im->conn);
    char why[200];
    im->ex = harimport_build(im->h, entry, &im->id, &im->done, why, sizeof why);
    assert_non_null(im->ex);
}

static void imported_cleanup(struct imported *im)
{
    exchange_free(im->ex);
    harimport_cleanup(im->h);
    free(im->h);
    store_cleanup(&im->st);
}

static void round_trip(struct exchange *ex, const char *name)
{
    json_t *a = entry_json(ex);
    struct imported im;
    import_one(&im, a);
    struct exchange *back = im.ex;
    assert_int_equal(im.id, 7);
    assert_int_equal(im.done, (ex->flags & EX_DONE) != 0);
    back->id = im.id;
    if (im.done)
        back->flags |= EX_DONE;
    json_t *b = entry_json(back);
    if (!json_equal(a, b)) {
        char *sa = json_dumps(a, JSON_SORT_KEYS | JSON_INDENT(1));
        char *sb = json_dumps(b, JSON_SORT_KEYS | JSON_INDENT(1));
        fail_msg("%s: entries differ\n--- written\n%s\n--- after import\n%s", name, sa, sb);
    }
    assert_int_equal(back->req.raw.len, ex->req.raw.len);
    assert_int_equal(back->resp.raw.len, ex->resp.raw.len);
    assert_int_equal(im.h->counters.differs, 0);
    json_decref(a);
    json_decref(b);
    imported_cleanup(&im);
}

static void test_round_trips(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ROUND_TRIPS / sizeof ROUND_TRIPS[0]; i++) {
        const struct rt_case *c = &ROUND_TRIPS[i];
        struct exchange *ex = engine(c->steps, c->body_keep, true);
        round_trip(ex, c->name);
        exchange_free(ex);
    }
}

/*
 * A message with more gaps than its list holds (MESSAGE_GAPS_MAX): the record lists the first
 * ones, says how many it left out and counts every gap's bytes; the import keeps all three.
 */
static void test_gaps_unlisted(void **state)
{
    (void)state;
    enum { GAPS = MESSAGE_GAPS_MAX + 4 };
    const char *steps[2 * GAPS + 4];
    size_t n = 0;
    steps[n++] = "C:GET /g HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n";
    steps[n++] = "S:HTTP/1.1 200 OK\\r\\nContent-Length: 90\\r\\n\\r\\n";
    for (int i = 0; i < GAPS; i++) {
        steps[n++] = "S:ab";
        steps[n++] = "SG2";
    }
    steps[n++] = "S:0123456789";
    steps[n] = NULL;
    struct exchange *ex = engine(steps, 1 << 20, true);
    assert_int_equal(ex->resp.ngaps, MESSAGE_GAPS_MAX);
    assert_int_equal(ex->resp.gaps_unlisted, 4);
    assert_int_equal(ex->resp.gap_bytes, 2 * GAPS);
    json_t *a = entry_json(ex);
    const json_t *rec =
        json_object_get(json_object_get(json_object_get(a, "_hspy"), "response"), "gaps_unlisted");
    assert_int_equal(json_integer_value(rec), 4);
    json_decref(a);
    round_trip(ex, "gaps past the list");
    exchange_free(ex);
}

/* Negative counts in a record (hostile or damaged) read as 0, and a wire size below what was
 * kept as the kept size: as unsigned numbers they were near 2^64, which a pcapng export then
 * tried to stand for with cut packets without end. */
static void test_negative_counts(void **state)
{
    (void)state;
    const char *steps[] = {"C:GET /n HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n",
                           "S:HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok", NULL};
    struct exchange *ex = engine(steps, 1 << 20, true);
    json_t *a = entry_json(ex);
    json_t *hs = json_object_get(a, "_hspy");
    json_t *req = json_object_get(hs, "request"), *resp = json_object_get(hs, "response");
    json_object_set_new(req, "wire_size", json_integer(-130));
    json_object_set_new(resp, "body_size", json_integer(-2));
    json_object_set_new(resp, "body_wire_size", json_integer(-1));
    json_object_set_new(resp, "gap_bytes", json_integer(-5));
    json_t *gap = json_object();
    json_object_set_new(gap, "offset", json_integer(-1));
    json_object_set_new(gap, "size", json_integer(-1));
    json_t *gaps = json_array();
    json_array_append_new(gaps, gap);
    json_object_set_new(resp, "gaps", gaps);
    json_object_set_new(hs, "connection", json_integer(-3));
    struct imported im;
    import_one(&im, a);
    const struct exchange *back = im.ex;
    assert_int_equal(back->req.wire_bytes, back->req.raw.len);
    assert_int_equal(back->resp.body_size, 0);
    assert_int_equal(back->resp.body_wire, 0);
    assert_int_equal(back->resp.gap_bytes, 0);
    assert_int_equal(back->resp.ngaps, 1);
    assert_int_equal(back->resp.gaps[0].off, 0);
    assert_int_equal(back->resp.gaps[0].len, 0);
    assert_true(back->conn_id < 1000);
    json_decref(a);
    exchange_free(ex);
    imported_cleanup(&im);
}

/* Chunk extensions a decoder could not have kept (a CR or LF in them, longer than a kept line,
 * not base64, past the list's length) are counted with the unlisted ones, never kept. */
static void test_hostile_chunk_ext(void **state)
{
    (void)state;
    const char *steps[] = {"C:GET /n HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n",
                           "S:HTTP/1.1 204 No Content\\r\\n\\r\\n", NULL};
    struct exchange *ex = engine(steps, 1 << 20, true);
    json_t *a = entry_json(ex);
    json_t *req = json_object_get(json_object_get(a, "_hspy"), "request");
    char long_ext[CHUNKED_EXT_LINE_MAX + 1];
    memset(long_ext, 'q', sizeof long_ext);
    struct dynbuf b64;
    dynbuf_init(&b64, 4096);
    base64_encode(&b64, (const uint8_t *)long_ext, sizeof long_ext);
    const char *texts[] = {"O2E9MQ==" /* ";a=1" */, "O2EKYg==" /* ";a\\nb" */,
                           "O2ENYg==" /* ";a\\rb" */, "not base64!", dynbuf_str(&b64)};
    json_t *list = json_array();
    for (size_t i = 0; i < CHUNKED_EXT_KEPT_MAX + 3; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "chunk", json_integer((json_int_t)i + 1));
        json_object_set_new(o, "size", json_integer(1));
        json_object_set_new(o, "extensions", json_string(texts[i < 5 ? i : 0]));
        json_array_append_new(list, o);
    }
    json_object_set_new(req, "chunk_extensions", list);
    json_object_set_new(req, "chunk_extensions_unlisted", json_integer(2));
    struct imported im;
    import_one(&im, a);
    /* kept: rows 0 and 5..7 (the 8 first rows less the four bad ones); counted: the four bad
     * ones, the three past the list and the 2 the record counted */
    size_t pos = 0, kept = 0;
    struct chunked_ext e;
    while (message_chunk_ext_next(&im.ex->req, &pos, &e)) {
        assert_int_equal(e.len, 4);
        assert_memory_equal(e.ext, ";a=1", 4);
        kept++;
    }
    assert_int_equal(kept, 4);
    assert_int_equal(message_chunk_ext_unlisted(&im.ex->req), 4 + 3 + 2);
    dynbuf_cleanup(&b64);
    json_decref(a);
    exchange_free(ex);
    imported_cleanup(&im);
}

static void test_in_flight(void **state)
{
    (void)state;
    static const char *const steps[] = {"C:POST /slow HTTP/1.1\\r\\nHost: h\\r\\n"
                                        "Content-Length: 100\\r\\n\\r\\nabc",
                                        NULL};
    struct exchange *ex = engine(steps, 1 << 20, false);
    assert_false(ex->flags & EX_DONE);
    round_trip(ex, "in flight");
    exchange_free(ex);
}

/* A foreign entry's request and response as bytes, and what its note says. */
struct foreign_case {
    const char *entry;
    const char *req;  /* C-escaped */
    const char *resp; /* C-escaped, or NULL for none */
    const char *note; /* substring */
};

static const struct foreign_case FOREIGN[] = {
    {"{\"request\":{\"method\":\"GET\",\"url\":\"http://a.example/p?q=1#frag\",\"httpVersion\":"
     "\"HTTP/1.1\",\"headers\":[{\"name\":\"Host\",\"value\":\"a.example\"},{\"name\":\"X-A\","
     "\"value\":\"1\"}]},\"response\":{\"status\":404,\"statusText\":\"Not Found\",\"httpVersion\":"
     "\"HTTP/1.1\",\"headers\":[{\"name\":\"Content-Length\",\"value\":\"2\"}],\"content\":{"
     "\"size\":2,\"text\":\"no\"}}}",
     "GET /p?q=1 HTTP/1.1\\r\\nHost: a.example\\r\\nX-A: 1\\r\\n\\r\\n",
     "HTTP/1.1 404 Not Found\\r\\nContent-Length: 2\\r\\n\\r\\nno", "bytes synthesized"},
    /* HTTP/2: pseudo-headers out, Host from :authority's URL, decoded body, framing fixed. */
    {"{\"request\":{\"method\":\"POST\",\"url\":\"https://b.example/up\",\"httpVersion\":\"h2\","
     "\"headers\":[{\"name\":\":method\",\"value\":\"POST\"},{\"name\":\"content-length\","
     "\"value\":\"9\"}],\"postData\":{\"mimeType\":\"x\",\"text\":\"AAH/"
     "\",\"encoding\":\"base64\"}},"
     "\"response\":{\"status\":200,\"statusText\":\"\",\"httpVersion\":\"h2\",\"headers\":[{"
     "\"name\":\"content-encoding\",\"value\":\"br\"},{\"name\":\"transfer-encoding\",\"value\":"
     "\"chunked\"}],\"content\":{\"size\":3,\"text\":\"abc\"}}}",
     "POST https://b.example/up HTTP/1.1\\r\\nHost: b.example\\r\\ncontent-length: 3\\r\\n"
     "Content-Type: x\\r\\n\\r\\n\\0\\x01\\xff",
     "HTTP/1.1 200 \\r\\nContent-Length: 3\\r\\n\\r\\nabc", "Content-Encoding dropped"},
    /* No response; a header value with a line break cannot stay one. */
    {"{\"request\":{\"method\":\"GET\",\"url\":\"http://c/\",\"headers\":[{\"name\":\"X\","
     "\"value\":\"a\\r\\nEvil: 1\"}]},\"response\":{\"status\":0}}",
     "GET / HTTP/1.1\\r\\nHost: c\\r\\nX: a  Evil: 1\\r\\n\\r\\n", NULL, "replaced by spaces"},
    /* postData.params (decoded names and values) become an urlencoded form, encoded; the
     * request, listed without a Content-Type, has postData.mimeType's. */
    {"{\"request\":{\"method\":\"POST\",\"url\":\"http://f/\",\"headers\":[{\"name\":\"Host\","
     "\"value\":\"f\"}],\"postData\":{\"mimeType\":\"application/x-www-form-urlencoded\","
     "\"params\":[{\"name\":\"a\",\"value\":\"1\"},{\"name\":\"b c\",\"value\":\"2&3\"},"
     "{\"name\":\"\u00e9\",\"value\":\"x=y+z\"}]}},\"response\":{\"status\":0}}",
     "POST / HTTP/1.1\\r\\nHost: f\\r\\nContent-Type: application/x-www-form-urlencoded\\r\\n"
     "Content-Length: 30\\r\\n\\r\\na=1&b+c=2%263&%C3%A9=x%3Dy%2Bz",
     NULL, "Content-Type added from postData.mimeType"},
    /* An empty mimeType (a request sent without a type) adds nothing. */
    {"{\"request\":{\"method\":\"PUT\",\"url\":\"http://f/\",\"headers\":[],\"postData\":{"
     "\"mimeType\":\"\",\"text\":\"hi\"}},\"response\":{\"status\":0}}",
     "PUT / HTTP/1.1\\r\\nHost: f\\r\\nContent-Length: 2\\r\\n\\r\\nhi", NULL, "Host added"},
    /* multipart/form-data params (the boundary from the listed Content-Type) become parts:
     * names and file names quoted, a file part without its value empty and noted. */
    {"{\"request\":{\"method\":\"POST\",\"url\":\"http://m/\",\"headers\":[{\"name\":\"Host\","
     "\"value\":\"m\"},{\"name\":\"Content-Type\",\"value\":\"multipart/form-data; "
     "boundary=\\\"B\\\"\"}],\"postData\":{\"mimeType\":\"multipart/form-data\",\"params\":["
     "{\"name\":\"a\",\"value\":\"1 2\"},{\"name\":\"q\\\"\\r\",\"fileName\":\"f.txt\","
     "\"contentType\":\"text/plain\",\"value\":\"hi\"},{\"name\":\"g\",\"fileName\":\"g.bin\"}]}},"
     "\"response\":{\"status\":0}}",
     "POST / HTTP/1.1\\r\\nHost: m\\r\\nContent-Type: multipart/form-data; boundary=\"B\"\\r\\n"
     "Content-Length: 233\\r\\n\\r\\n"
     "--B\\r\\nContent-Disposition: form-data; name=\"a\"\\r\\n\\r\\n1 2\\r\\n"
     "--B\\r\\nContent-Disposition: form-data; name=\"q%22%0D\"; filename=\"f.txt\"\\r\\n"
     "Content-Type: text/plain\\r\\n\\r\\nhi\\r\\n"
     "--B\\r\\nContent-Disposition: form-data; name=\"g\"; filename=\"g.bin\"\\r\\n\\r\\n\\r\\n"
     "--B--\\r\\n",
     NULL, "1 file part written empty"},
    /* ... the boundary from postData.mimeType when no Content-Type is listed. */
    {"{\"request\":{\"method\":\"POST\",\"url\":\"http://m/\",\"headers\":[],\"postData\":{"
     "\"mimeType\":\"multipart/form-data; boundary=zz\",\"params\":[{\"name\":\"a\",\"value\":"
     "\"\"}]}},\"response\":{\"status\":0}}",
     "POST / HTTP/1.1\\r\\nHost: m\\r\\nContent-Type: multipart/form-data; boundary=zz\\r\\n"
     "Content-Length: 60\\r\\n\\r\\n"
     "--zz\\r\\nContent-Disposition: form-data; name=\"a\"\\r\\n\\r\\n\\r\\n--zz--\\r\\n",
     NULL, "Content-Type added"},
    /* 304: no body whatever the content says. */
    {"{\"request\":{\"method\":\"GET\",\"url\":\"http://d/\",\"headers\":[]},\"response\":{"
     "\"status\":304,\"statusText\":\"Not Modified\",\"headers\":[{\"name\":\"Content-Length\","
     "\"value\":\"10\"}],\"content\":{\"size\":10,\"text\":\"0123456789\"}}}",
     "GET / HTTP/1.1\\r\\nHost: d\\r\\n\\r\\n",
     "HTTP/1.1 304 Not Modified\\r\\nContent-Length: 10\\r\\n\\r\\n", "Host added"},
};

static void test_foreign(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof FOREIGN / sizeof FOREIGN[0]; i++) {
        const struct foreign_case *c = &FOREIGN[i];
        json_error_t err;
        json_t *e = json_loads(c->entry, 0, &err);
        if (!e)
            fail_msg("case %zu: %s", i, err.text);
        struct store st;
        store_init(&st, 100, (size_t)1 << 30);
        uint64_t conn = 0;
        struct harimport *h = importer(&st, &conn);
        uint64_t id;
        bool done;
        char why[200];
        struct exchange *ex = harimport_build(h, e, &id, &done, why, sizeof why);
        assert_non_null(ex);
        assert_int_equal(id, 0);
        assert_true(done);
        size_t n;
        uint8_t *want = tu_unescape(c->req, &n);
        if (ex->req.raw.len != n || memcmp(ex->req.raw.data, want, n) != 0)
            fail_msg("case %zu: request '%.*s'", i, (int)ex->req.raw.len, ex->req.raw.data);
        free(want);
        if (c->resp) {
            want = tu_unescape(c->resp, &n);
            if (ex->resp.raw.len != n || memcmp(ex->resp.raw.data, want, n) != 0)
                fail_msg("case %zu: response '%.*s'", i, (int)ex->resp.raw.len, ex->resp.raw.data);
            free(want);
        } else {
            assert_int_equal(ex->resp.raw.len, 0);
        }
        assert_non_null(ex->note);
        if (!strstr(ex->note, c->note))
            fail_msg("case %zu: note '%s' lacks '%s'", i, ex->note, c->note);
        assert_int_equal(ex->conn_id, 1);
        exchange_free(ex);
        json_decref(e);
        harimport_cleanup(h);
        free(h);
        store_cleanup(&st);
    }
}

static void test_foreign_times_and_gap(void **state)
{
    (void)state;
    const char *entry =
        "{\"startedDateTime\":\"2024-05-01T12:00:00.500+02:00\",\"connection\":\"77\","
        "\"serverIPAddress\":\"[2001:db8::5]\",\"timings\":{\"blocked\":1,\"dns\":-1,\"connect\":2,"
        "\"send\":3,\"wait\":4,\"receive\":5},\"request\":{\"method\":\"GET\",\"url\":"
        "\"http://e:8081/\",\"headers\":[]},\"response\":{\"status\":200,\"statusText\":\"OK\","
        "\"headers\":[],\"content\":{\"size\":1000}}}";
    json_t *e = json_loads(entry, 0, NULL);
    struct store st;
    store_init(&st, 100, (size_t)1 << 30);
    uint64_t conn = 0;
    struct harimport *h = importer(&st, &conn);
    uint64_t id;
    bool done;
    char why[200];
    struct exchange *ex = harimport_build(h, e, &id, &done, why, sizeof why);
    assert_non_null(ex);
    int64_t t0 = 1714557600500000000; /* 10:00:00.5 UTC */
    assert_int_equal(ex->t[T_REQ_FIRST], t0);
    assert_int_equal(ex->t[T_UP_CONNECT], t0 + 1000000);
    assert_int_equal(ex->t[T_UP_CONNECTED], t0 + 3000000);
    assert_int_equal(ex->t[T_REQ_LAST], t0 + 6000000);
    assert_int_equal(ex->t[T_RESP_FIRST], t0 + 10000000);
    assert_int_equal(ex->t[T_RESP_LAST], t0 + 15000000);
    assert_int_equal(ex->conn_id, 77);
    assert_int_equal(ex->server.family, 6);
    assert_int_equal(ex->server.port, 8081);
    /* The body the HAR lacks is a gap of its size: counted, flagged, never invented. */
    assert_true(ex->flags & EX_GAP);
    assert_int_equal(ex->resp.body_size, 1000);
    assert_non_null(strstr(ex->note, "not in the HAR (1000 bytes)"));
    exchange_free(ex);
    json_decref(e);
    harimport_cleanup(h);
    free(h);
    store_cleanup(&st);
}

struct order {
    uint64_t ids[16];
    size_t n;
};

static void on_complete(void *data, struct exchange *ex)
{
    struct order *o = data;
    o->ids[o->n++] = ex->id;
}

/* An entry of hspy's own with the given id (and done or not). */
static json_t *hspy_entry(uint64_t id, bool done)
{
    static const char *const steps[] = {"C:GET / HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n",
                                        "S:HTTP/1.1 204 No Content\\r\\n\\r\\n", NULL};
    struct exchange *ex = engine(steps, 1 << 20, true);
    ex->id = id;
    if (!done)
        ex->flags &= ~(uint32_t)EX_DONE;
    json_t *e = entry_json(ex);
    exchange_free(ex);
    return e;
}

static void test_window_ids_and_order(void **state)
{
    (void)state;
    struct store st;
    store_init(&st, 100, (size_t)1 << 30);
    struct order o = {{0}, 0};
    store_observe(&st, &(struct store_observer){&o, NULL, NULL, on_complete, NULL});
    uint64_t conn = 0;
    struct harimport *h = importer(&st, &conn);
    /* Completion order 3, 1, 2, then 9 still in flight, then 5 (too late to keep its id). */
    static const uint64_t IDS[] = {3, 1, 2, 9, 5};
    for (size_t i = 0; i < 5; i++) {
        json_t *e = hspy_entry(IDS[i], IDS[i] != 9);
        harimport_entry(h, e);
        json_decref(e);
    }
    harimport_finish(h);
    assert_int_equal(o.n, 4);
    assert_int_equal(o.ids[0], 3);
    assert_int_equal(o.ids[1], 1);
    assert_int_equal(o.ids[2], 2);
    assert_int_equal(o.ids[3], 5);
    assert_non_null(store_get(&st, 9));
    assert_false(store_get(&st, 9)->flags & EX_DONE);
    assert_int_equal(h->counters.renumbered, 0);
    assert_int_equal(h->counters.hspy, 5);
    harimport_cleanup(h);
    free(h);
    store_cleanup(&st);
}

/*
 * harimport_settle (a quiet pipe) after every entry: what it lets through at once, and that the
 * store ends up exactly as without it (the same ids, completions in the same order, the same
 * renumbering). Entries are ids, negative for one still in flight, 0 ending the list.
 */
static const struct settle_case {
    int64_t ids[8];
    size_t early[8]; /* completions seen after settling each entry */
} SETTLES[] = {
    {{1, 2, 3, 0}, {1, 2, 3}},       {{3, 1, 2, -9, 5, 0}, {0, 0, 3, 3, 3}},
    {{2, 1, 3, 4, 0}, {0, 2, 3, 4}}, {{1, -2, 3, 0}, {1, 1, 2}},
    {{1, 5, 6, 2, 0}, {1, 1, 1, 1}}, {{1, 4, 2, 3, 0}, {1, 1, 1, 4}},
    {{1, 2, 1, 0}, {1, 2, 2}}, /* the same id twice: renumbered, as without settling */
};

/* Imports c's entries (settling after each when settle is set): completions in o. */
static void settle_run(const struct settle_case *c, bool settle, struct order *o,
                       uint64_t *renumbered, size_t case_no)
{
    struct store st;
    store_init(&st, 100, (size_t)1 << 30);
    store_observe(&st, &(struct store_observer){o, NULL, NULL, on_complete, NULL});
    uint64_t conn = 0;
    struct harimport *h = importer(&st, &conn);
    for (size_t i = 0; c->ids[i]; i++) {
        int64_t id = c->ids[i];
        json_t *e = hspy_entry((uint64_t)(id < 0 ? -id : id), id > 0);
        harimport_entry(h, e);
        json_decref(e);
        if (!settle)
            continue;
        harimport_settle(h);
        if (o->n != c->early[i])
            fail_msg("case %zu: %zu completions after entry %zu, expected %zu", case_no, o->n, i,
                     c->early[i]);
    }
    harimport_finish(h);
    *renumbered = h->counters.renumbered;
    harimport_cleanup(h);
    free(h);
    store_cleanup(&st);
}

static void test_settle(void **state)
{
    (void)state;
    bool checked_renumbering = false;
    for (size_t i = 0; i < sizeof SETTLES / sizeof SETTLES[0]; i++) {
        struct order a = {{0}, 0}, b = {{0}, 0};
        uint64_t ra, rb;
        settle_run(&SETTLES[i], true, &a, &ra, i);
        settle_run(&SETTLES[i], false, &b, &rb, i);
        assert_int_equal(a.n, b.n);
        assert_memory_equal(a.ids, b.ids, a.n * sizeof a.ids[0]);
        assert_int_equal(ra, rb);
        checked_renumbering |= ra > 0;
    }
    assert_true(checked_renumbering);
}

static void test_window_renumbers(void **state)
{
    (void)state;
    struct store st;
    store_init(&st, 100, (size_t)1 << 30);
    uint64_t conn = 0;
    struct harimport *h = importer(&st, &conn);
    /* More entries than the window holds: the late small id cannot be kept. */
    for (uint64_t i = 0; i < HARIMPORT_WINDOW + 5; i++) {
        json_t *e = hspy_entry(i == HARIMPORT_WINDOW + 2 ? 1 : i + 10, true);
        harimport_entry(h, e);
        json_decref(e);
    }
    json_t *bad = json_loads("[1]", 0, NULL);
    harimport_entry(h, bad);
    json_decref(bad);
    harimport_finish(h);
    assert_int_equal(h->counters.renumbered, 1);
    assert_int_equal(h->counters.skipped, 1);
    assert_non_null(strstr(h->problem, "not an object"));
    harimport_cleanup(h);
    free(h);
    store_cleanup(&st);
}

static void test_times(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int64_t ns;
    } T[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"1970-01-01T00:00:01.5Z", 1500000000},
        {"1970-01-01T01:00:00+01:00", 0},
        {"1970-01-01T00:00:00.123456789-0030", 1800123456789},
        {"2024-05-01T10:00:00.000", 1714557600000000000},
        {"2024-05-01 10:00:00Z", 1714557600000000000},
    };
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++) {
        int64_t ns = -1;
        assert_int_equal(harsynth_parse_time(T[i].text, &ns), 0);
        assert_int_equal(ns, T[i].ns);
    }
    int64_t ns;
    assert_int_equal(harsynth_parse_time("yesterday", &ns), -1);
    assert_int_equal(harsynth_parse_time("2024-05-01T10:00:00X", &ns), -1);
    assert_int_equal(harsynth_parse_time(NULL, &ns), -1);
}

static void test_log_members(void **state)
{
    (void)state;
    struct store st;
    store_init(&st, 10, (size_t)1 << 30);
    uint64_t conn = 0;
    struct harimport *h = importer(&st, &conn);
    char err[256];
    json_t *v = json_string("1.2");
    assert_int_equal(harimport_log_member(h, "version", v, err, sizeof err), 0);
    json_decref(v);
    v = json_string("");
    assert_int_equal(harimport_log_member(h, "version", v, err, sizeof err), 0);
    json_decref(v);
    v = json_string("2.0");
    assert_int_equal(harimport_log_member(h, "version", v, err, sizeof err), -1);
    assert_string_equal(err, "not a HAR 1.2 file: log.version is \"2.0\"");
    json_decref(v);
    v = json_integer(12);
    assert_int_equal(harimport_log_member(h, "version", v, err, sizeof err), -1);
    json_decref(v);
    v = json_pack("{s:s,s:s}", "name", "Firefox", "version", "126.0");
    assert_int_equal(harimport_log_member(h, "creator", v, err, sizeof err), 0);
    assert_string_equal(h->synth.creator, "Firefox 126.0");
    json_decref(v);
    harimport_cleanup(h);
    free(h);
    store_cleanup(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_gaps_unlisted),
        cmocka_unit_test(test_negative_counts),
        cmocka_unit_test(test_hostile_chunk_ext),
        cmocka_unit_test(test_in_flight),
        cmocka_unit_test(test_foreign),
        cmocka_unit_test(test_foreign_times_and_gap),
        cmocka_unit_test(test_window_ids_and_order),
        cmocka_unit_test(test_window_renumbers),
        cmocka_unit_test(test_settle),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_log_members),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
