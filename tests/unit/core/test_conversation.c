/*
 * The conversation engine: scenarios of client and server bytes (plus capture gaps and closes)
 * and the exchanges they must produce, summarised as text. Every scenario is replayed with
 * each step fed byte by byte and in odd-sized pieces; the summary must not change.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/conversation.h"
#include "hspy/sha256.h"

#define C     "C" /* client bytes */
#define S     "S" /* server bytes */
#define GAPC  "g" /* client gap: text is the byte count */
#define GAPS  "G"
#define ENDC  "x" /* client closes */
#define ENDS  "X"
#define LEFTC "l" /* client bytes left over when the connection closes */
#define SNAPC "n" /* client bytes cut by a snap length: text is the byte count */
#define SNAPS "N"

struct step {
    const char *what;
    const char *bytes;
};

struct recorder {
    struct exchange *ex[512];
    int n;
    int ended[512];
    int events[CONV_UNBLOCK + 1];
    int pause_on; /* event to pause at, or -1 */
    int unblocked;
};

static int on_event(void *data, struct conversation *c, struct exchange *ex, enum conv_event ev,
                    enum side side, const uint8_t *p, size_t n)
{
    (void)c;
    (void)side;
    (void)p;
    (void)n;
    struct recorder *r = data;
    r->events[ev]++;
    if (ev == CONV_BEGIN) {
        assert_true(r->n < 512);
        r->ex[r->n++] = ex;
    }
    if (ev == CONV_END) {
        int i = 0;
        while (i < r->n && r->ex[i] != ex)
            i++;
        assert_true(i < r->n);
        assert_int_equal(r->ended[i], 0);
        r->ended[i] = 1;
    }
    if (ev == CONV_UNBLOCK)
        r->unblocked++;
    return (int)ev == r->pause_on ? CONV_PAUSE : CONV_CONTINUE;
}

/* A conversation whose events r records from empty, pausing at event pause_on (-1: never). */
static struct conversation *recorded(struct recorder *r, const struct conversation_config *cfg,
                                     int pause_on)
{
    memset(r, 0, sizeof *r);
    r->pause_on = pause_on;
    struct conversation_events ev = {r, on_event}; /* conversation_new copies it */
    return conversation_new(cfg, &ev);
}

static void describe(struct recorder *r, struct dynbuf *out)
{
    for (int i = 0; i < r->n; i++) {
        struct exchange *ex = r->ex[i];
        char m[32], t[64];
        exchange_method(ex, m, sizeof m);
        exchange_target(ex, t, sizeof t);
        dynbuf_printf(out, "#%u %s %s -> %d", ex->conn_seq, m[0] ? m : "-", t[0] ? t : "-",
                      exchange_status(ex));
        dynbuf_printf(out, " req[%s %llu/%llu]", body_kind_name((enum body_kind)ex->req.body_kind),
                      (unsigned long long)ex->req.body_size,
                      (unsigned long long)ex->req.wire_bytes);
        dynbuf_printf(out, " resp[%s %llu/%llu i%u]",
                      body_kind_name((enum body_kind)ex->resp.body_kind),
                      (unsigned long long)ex->resp.body_size,
                      (unsigned long long)ex->resp.wire_bytes, ex->resp.ninterim);
        static const struct {
            uint32_t bit;
            const char *name;
        } flags[] = {{EX_INCOMPLETE, "incomplete"},
                     {EX_TUNNEL, "tunnel"},
                     {EX_GAP, "gap"},
                     {EX_NO_REQUEST, "norequest"},
                     {EX_TRUNCATED, "truncated"}};
        for (size_t k = 0; k < sizeof flags / sizeof flags[0]; k++)
            if (ex->flags & flags[k].bit)
                dynbuf_printf(out, " %s", flags[k].name);
        if (ex->req.flags & MSG_LOST)
            dynbuf_adds(out, " reqlost");
        if (ex->flags & EX_TUNNEL)
            dynbuf_printf(out, " t%llu/%llu", (unsigned long long)ex->tunnel_bytes[0],
                          (unsigned long long)ex->tunnel_bytes[1]);
        for (uint16_t k = 0; k < ex->nwarnings; k++)
            dynbuf_printf(out, " !%s@%c%llu", warning_name((enum warning_code)ex->warnings[k].code),
                          ex->warnings[k].side ? 's' : 'c',
                          (unsigned long long)ex->warnings[k].offset);
        if (ex->error)
            dynbuf_printf(out, " error='%s'", ex->error);
        dynbuf_printf(out, "%s\n", r->ended[i] ? "" : " OPEN");
    }
}

/*
 * Feeds the steps; piece = 0 feeds each step whole, else in pieces of that many bytes; cut > 0
 * feeds each step in two pieces, the first cut bytes long.
 */
static void play_cut(const struct step *steps, const struct conversation_config *cfg, size_t piece,
                     size_t cut, struct dynbuf *out, struct recorder *r)
{
    struct conversation *c = recorded(r, cfg, -1);
    int64_t ts = 1000;
    for (const struct step *s = steps; s->what; s++) {
        ts += 1000;
        if (s->what[0] == 'n' || s->what[0] == 'N') {
            /* As capture does: the message is flagged, then the gap. */
            enum side gs = s->what[0] == 'n' ? SIDE_CLIENT : SIDE_SERVER;
            conversation_flag(c, gs, EX_TRUNCATED, MSG_SNAPLEN);
            conversation_gap(c, gs, strtoull(s->bytes, NULL, 10), ts);
            continue;
        }
        if (s->what[0] == 'g' || s->what[0] == 'G') {
            conversation_gap(c, s->what[0] == 'g' ? SIDE_CLIENT : SIDE_SERVER,
                             strtoull(s->bytes, NULL, 10), ts);
            continue;
        }
        if (s->what[0] == 'x' || s->what[0] == 'X') {
            conversation_close(c, s->what[0] == 'x' ? SIDE_CLIENT : SIDE_SERVER, ts);
            continue;
        }
        bool leftover = s->what[0] == 'l';
        enum side side = s->what[0] == 'C' || leftover ? SIDE_CLIENT : SIDE_SERVER;
        /* A capture's step is one TCP segment, however it is cut into pieces below. */
        if (cfg->capture && !leftover)
            conversation_boundary(c, side);
        size_t n;
        uint8_t *b = tu_unescape(s->bytes, &n);
        size_t step = piece ? piece : (n ? n : 1);
        for (size_t off = 0; off < n; off += step) {
            size_t len = n - off < step ? n - off : step;
            if (cut && off == 0 && cut < n)
                step = len = cut;
            else if (cut)
                step = len = n - off;
            uint8_t *exact = malloc(len);
            memcpy(exact, b + off, len);
            if (leftover) {
                conversation_feed_leftover(c, side, exact, len, ts, "not answered");
            } else {
                size_t used = conversation_feed(c, side, exact, len, ts);
                assert_int_equal(used, len);
            }
            free(exact);
        }
        free(b);
    }
    dynbuf_init(out, 1 << 20);
    describe(r, out);
    dynbuf_adds(out, "--\n");
    conversation_free(c);
    describe(r, out);
}

static void play(const struct step *steps, const struct conversation_config *cfg, size_t piece,
                 struct dynbuf *out, struct recorder *r)
{
    play_cut(steps, cfg, piece, 0, out, r);
}

static void check(const struct step *steps, const struct conversation_config *cfg, const char *want)
{
    struct recorder r;
    struct dynbuf whole;
    play(steps, cfg, 0, &whole, &r);
    if (strcmp(dynbuf_str(&whole), want) != 0)
        fail_msg("got:\n%s\nwant:\n%s", dynbuf_str(&whole), want);
    for (int i = 0; i < r.n; i++)
        exchange_free(r.ex[i]);
    static const size_t pieces[] = {1, 2, 3, 7, 13};
    for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
        struct dynbuf split;
        play(steps, cfg, pieces[k], &split, &r);
        if (strcmp(dynbuf_str(&split), want) != 0)
            fail_msg("pieces of %zu:\n%s\nwant:\n%s", pieces[k], dynbuf_str(&split), want);
        for (int i = 0; i < r.n; i++)
            exchange_free(r.ex[i]);
        dynbuf_cleanup(&split);
    }
    /* Every step in two pieces, at every offset of the longest step. */
    size_t longest = 0;
    for (const struct step *st = steps; st->what; st++) {
        size_t n;
        free(tu_unescape(st->bytes, &n));
        longest = n > longest ? n : longest;
    }
    for (size_t cut = 1; cut < longest; cut++) {
        struct dynbuf split;
        play_cut(steps, cfg, 0, cut, &split, &r);
        if (strcmp(dynbuf_str(&split), want) != 0)
            fail_msg("cut at %zu:\n%s\nwant:\n%s", cut, dynbuf_str(&split), want);
        for (int i = 0; i < r.n; i++)
            exchange_free(r.ex[i]);
        dynbuf_cleanup(&split);
    }
    dynbuf_cleanup(&whole);
}

/* As check, for steps after which nothing changes at the close: the table before it and the
 * table after it are both want. */
static void check_settled(const struct step *steps, const struct conversation_config *cfg,
                          const char *want)
{
    size_t n = strlen(want);
    char *full = malloc(2 * n + 4);
    assert_non_null(full);
    snprintf(full, 2 * n + 4, "%s--\n%s", want, want);
    check(steps, cfg, full);
    free(full);
}

static const struct conversation_config LIVE = {
    .limits = HTTP_LIMITS_DEFAULT, .exchange = {65536, 1 << 20}, .conn_id = 1};
static const struct conversation_config CAPTURE = {
    .limits = HTTP_LIMITS_DEFAULT, .exchange = {65536, 1 << 20}, .conn_id = 1, .capture = true};

static void test_simple(void **state)
{
    (void)state;
    const struct step s[] = {{C, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"},
                             {S, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"},
                             {NULL, NULL}};
    check(s, &LIVE,
          "#1 GET /a -> 200 req[none 0/28] resp[length 5/43 i0]\n--\n"
          "#1 GET /a -> 200 req[none 0/28] resp[length 5/43 i0]\n");
}

static void test_head_warnings_survive_pieces(void **state)
{
    (void)state;
    /* Warnings found on early lines of a head must not be lost when the head arrives in
     * pieces; 30 fields also take the path where a head outgrows the small field array. */
    char req[2048];
    int n = snprintf(req, sizeof req, "GET / HTTP/1.1\nHost: h\r\nContent-Lenght: 1\r\n");
    for (int i = 0; i < 30; i++)
        n += snprintf(req + n, sizeof req - (size_t)n, "X-%d: v\r\n", i);
    snprintf(req + n, sizeof req - (size_t)n, "\r\n");
    const struct step s[] = {{C, req}, {NULL, NULL}};
    check(s, &LIVE,
          "#1 GET / -> 0 req[none 0/305] resp[none 0/0 i0] !bare-lf@c14 "
          "!header-name-typo@c24 OPEN\n--\n"
          "#1 GET / -> 0 req[none 0/305] resp[none 0/0 i0] incomplete !bare-lf@c14 "
          "!header-name-typo@c24\n");
}

/* Bare LF on every line and an empty field value: the warning is the first line's. */
static void test_bare_lf_empty_value(void **state)
{
    (void)state;
    const struct step s[] = {{C, "GET / HTTP/1.0\nUser-Agent:\n\n"},
                             {S, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"},
                             {NULL, NULL}};
    const char *want = "#1 GET / -> 200 req[none 0/28] resp[length 2/40 i0] !bare-lf@c14\n";
    check_settled(s, &LIVE, want);
    check_settled(s, &CAPTURE, want);
}

/*
 * Capture: a head ended by a CR alone, then lines that cannot start a request, then a request.
 * The unreadable message keeps exactly its first line and the rest is skipped up to the
 * request, however the bytes were cut.
 */
static void test_capture_unreadable_line(void **state)
{
    (void)state;
    const struct step s[] = {
        {C,
         "GET /\xd9 HTTP/1.1\r\nA\x01: b\x02\n\\0x\n\r*--\n--\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"},
        {NULL, NULL}};
    check(s, &CAPTURE,
          "#1 GET /\xd9 -> 0 req[none 0/28] resp[none 0/0 i0] !invalid-target@c5 !bare-lf@c23 "
          "!invalid-name-char@c18 !invalid-value-char@c22 !header-without-colon@c24 "
          "!nul-byte@c24 !bare-cr@c27 !host-missing@c0 OPEN\n"
          "#2 - - -> 0 req[none 0/4] resp[none 0/0 i0] OPEN\n"
          "#3 GET / -> 0 req[none 0/27] resp[none 0/0 i0] !capture-gap@c0 OPEN\n--\n"
          "#1 GET /\xd9 -> 0 req[none 0/28] resp[none 0/0 i0] incomplete !invalid-target@c5 "
          "!bare-lf@c23 !invalid-name-char@c18 !invalid-value-char@c22 "
          "!header-without-colon@c24 !nul-byte@c24 !bare-cr@c27 !host-missing@c0\n"
          "#2 - - -> 0 req[none 0/4] resp[none 0/0 i0] incomplete\n"
          "#3 GET / -> 0 req[none 0/27] resp[none 0/0 i0] incomplete !capture-gap@c0\n");
}

/* Capture: a garbage line in front of a request is a message of its own, never the request. */
static void test_capture_garbage_line(void **state)
{
    (void)state;
    const struct step s[] = {{C, "GARBAGE\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"},
                             {S, "HTTX/1.1 200 OK\r\n\r\nHTTP/1.1 204 No\r\n\r\n"},
                             {NULL, NULL}};
    const char *want = "#1 - - -> 0 req[none 0/9] resp[none 0/17 i0] incomplete\n"
                       "#2 GET / -> 204 req[none 0/27] resp[none 0/19 i0] !capture-gap@s0\n";
    check_settled(s, &CAPTURE, want);
}

/* Live: a server that does not answer with a status line sends a body until it closes. */
static void test_live_response_without_status_line(void **state)
{
    (void)state;
    const struct step s[] = {{C, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"},
                             {S, "\x01\nHTTP/1.1 200 OK\r\n\r\n"},
                             {ENDS, ""},
                             {NULL, NULL}};
    const char *want = "#1 GET / -> 0 req[none 0/27] resp[close 21/21 i0] !http09@s0\n";
    check_settled(s, &LIVE, want);
}

/* Heads over 64 bytes are too large. */
static const struct conversation_config SMALL_HEAD = {
    .limits = {.head_max = 64, .headers_max = 256, .chunk_digits_max = 16, .chunk_ext_max = 4096},
    .exchange = {65536, 1 << 20},
    .conn_id = 1};

static void test_head_too_large_warned_once(void **state)
{
    (void)state;
    /* A head over the limit is one warning (with the limit), not the parser's and the
     * conversation's both. */
    const struct step s[] = {
        {C, "GET / HTTP/1.1\r\nHost: h\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
            "aaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"},
        {NULL, NULL}};
    check(s, &SMALL_HEAD,
          "#1 - - -> 0 req[none 0/107] resp[none 0/0 i0] !head-too-large@c0 OPEN\n--\n"
          "#1 - - -> 0 req[none 0/107] resp[none 0/0 i0] incomplete !head-too-large@c0\n");
}

static void test_answer_to_unparsed_head_request(void **state)
{
    (void)state;
    /* A request head never parsed (over the limit, or unfinished when the server gave up)
     * whose whole request line says HEAD: the answer has no body, whatever its Content-Length
     * says. A request line not yet whole says nothing: the answer is framed as for GET. */
    static const char answer[] = "HTTP/1.1 431 Too Large\r\nContent-Length: 5\r\n"
                                 "Connection: close\r\n\r\n";
    const struct step big[] = {
        {C, "HEAD / HTTP/1.1\r\nHost: h\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
            "aaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"},
        {S, answer},
        {NULL, NULL}};
    check(big, &SMALL_HEAD,
          "#1 - - -> 431 req[none 0/107] resp[none 0/64 i0] !head-too-large@c0 OPEN\n--\n"
          "#1 - - -> 431 req[none 0/107] resp[none 0/64 i0] incomplete !head-too-large@c0\n");
    const struct step slow[] = {{C, "HEAD /x HTTP/1.1\r\nHost: h\r\n"}, {S, answer}, {NULL, NULL}};
    check(slow, &LIVE,
          "#1 - - -> 431 req[none 0/27] resp[none 0/64 i0] OPEN\n--\n"
          "#1 - - -> 431 req[none 0/27] resp[none 0/64 i0] incomplete\n");
    const struct step part[] = {{C, "HEAD /x HT"}, {S, answer}, {S, "hello"}, {NULL, NULL}};
    check(part, &LIVE,
          "#1 - - -> 431 req[none 0/10] resp[length 5/69 i0] OPEN\n--\n"
          "#1 - - -> 431 req[none 0/10] resp[length 5/69 i0] incomplete\n");
}

static void test_pipelined_heads_keep_only_their_bytes(void **state)
{
    (void)state;
    /* 200 pipelined requests arriving in one piece: each exchange keeps its own head, not a
     * copy of (and room for) the rest of the input. */
    static char req[200 * 40];
    size_t n = 0;
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(req + n, sizeof req - n, "GET /%03d HTTP/1.1\r\nHost: h\r\n\r\n", i);
    const struct step s[] = {{C, req}, {NULL, NULL}};
    struct recorder r;
    struct dynbuf out;
    play(s, &CAPTURE, 0, &out, &r);
    assert_int_equal(r.n, 200);
    for (int i = 0; i < r.n; i++) {
        assert_int_equal(r.ex[i]->req.raw.len, 30);
        assert_true(r.ex[i]->req.raw.cap <= 64);
        exchange_free(r.ex[i]);
    }
    dynbuf_cleanup(&out);
}

static void test_one_side_requests_end_alone(void **state)
{
    (void)state;
    /* Requests with no server side at all (lint): each exchange ends with its request, so
     * more of them than CONVERSATION_INFLIGHT_MAX are all read. */
    static const struct conversation_config one_side = {.limits = HTTP_LIMITS_DEFAULT,
                                                        .exchange = {65536, 1 << 20},
                                                        .conn_id = 1,
                                                        .one_side = true};
    static char req[400 * 32];
    size_t n = 0;
    for (int i = 0; i < 400; i++)
        n += (size_t)snprintf(req + n, sizeof req - n, "GET /%03d HTTP/1.1\r\nHost: h\r\n\r\n", i);
    const struct step s[] = {{C, req}, {NULL, NULL}};
    struct recorder r;
    struct dynbuf out;
    play(s, &one_side, 0, &out, &r);
    assert_int_equal(r.n, 400);
    for (int i = 0; i < r.n; i++) {
        assert_int_equal(r.ended[i], 1);
        exchange_free(r.ex[i]);
    }
    dynbuf_cleanup(&out);
}

static void test_pipelined_head(void **state)
{
    (void)state;
    const struct step s[] = {
        {C, "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: h\r\n\r\n"
            "GET /3 HTTP/1.1\r\nHost: h\r\n\r\n"},
        {S,
         "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: "
         "100\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
        {NULL, NULL}};
    const char *want = "#1 GET /1 -> 200 req[none 0/28] resp[length 2/40 i0]\n"
                       "#2 HEAD /2 -> 200 req[none 0/29] resp[none 0/40 i0]\n"
                       "#3 GET /3 -> 200 req[none 0/28] resp[chunked 3/60 i0]\n";
    check_settled(s, &LIVE, want);
}

static void test_continue_and_early_hints(void **state)
{
    (void)state;
    const struct step s[] = {
        {C, "POST /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"},
        {S, "HTTP/1.1 100 Continue\r\n\r\n"},
        {C, "abc"},
        {S, "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 201 Created\r\n"
            "Content-Length: 0\r\n\r\n"},
        {NULL, NULL}};
    const char *want = "#1 POST /u -> 201 req[length 3/73] resp[none 0/112 i2]\n";
    check_settled(s, &LIVE, want);
}

static void test_connect_tunnel(void **state)
{
    (void)state;
    const struct step s[] = {{C, "CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n"},
                             {S, "HTTP/1.1 200 Connection established\r\n\r\n"},
                             {C, "\x16\x03\x01hello"},
                             {S, "\x16\x03\x03world!"},
                             {ENDC, ""},
                             {ENDS, ""},
                             {NULL, NULL}};
    check(s, &LIVE,
          "#1 CONNECT x:443 -> 200 req[tunnel 8/47] resp[tunnel 9/48 i0] tunnel t8/9\n--\n"
          "#1 CONNECT x:443 -> 200 req[tunnel 8/47] resp[tunnel 9/48 i0] tunnel t8/9\n");
}

static void test_upgrade_with_early_data(void **state)
{
    (void)state;
    const struct step s[] = {
        {C, "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"},
        {C, "\x81\x02hi"},
        {S,
         "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"},
        {S, "\x81\x02yo"},
        {NULL, NULL}};
    check(s, &LIVE,
          "#1 GET /ws -> 101 req[tunnel 4/74] resp[tunnel 4/81 i0] tunnel t4/4 "
          "!tunnel-early-data@c70 OPEN\n--\n"
          "#1 GET /ws -> 101 req[tunnel 4/74] resp[tunnel 4/81 i0] tunnel t4/4 "
          "!tunnel-early-data@c70\n");
}

static void test_connect_refused_replays_held_bytes(void **state)
{
    (void)state;
    struct recorder r;
    struct conversation *c = recorded(&r, &LIVE, -1);
    const char *req =
        "CONNECT x:443 HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n";
    assert_int_equal(conversation_feed(c, SIDE_CLIENT, (const uint8_t *)req, strlen(req), 1),
                     strlen(req));
    assert_int_equal(r.n, 1); /* the GET waits for the CONNECT's answer */
    const char *resp = "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n";
    conversation_feed(c, SIDE_SERVER, (const uint8_t *)resp, strlen(resp), 2);
    assert_int_equal(r.unblocked, 1);
    assert_int_equal(conversation_feed(c, SIDE_CLIENT, NULL, 0, 3), 0);
    assert_int_equal(r.n, 2);
    char t[32];
    assert_string_equal(exchange_target(r.ex[1], t, sizeof t), "/next");
    conversation_free(c);
    for (int i = 0; i < r.n; i++)
        exchange_free(r.ex[i]);
}

static void test_early_response_and_close(void **state)
{
    (void)state;
    const struct step s[] = {
        {C, "POST /big HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n12345"},
        {S, "HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"},
        {C, "67890"},
        {ENDS, ""},
        {NULL, NULL}};
    const char *want = "#1 POST /big -> 413 req[length 10/61] resp[none 0/72 i0]\n";
    check_settled(s, &LIVE, want);
}

static void test_eof_mid_body(void **state)
{
    (void)state;
    const struct step s[] = {{C, "GET / HTTP/1.1\r\nHost: h\r\n\r\n"},
                             {S, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"},
                             {ENDS, ""},
                             {NULL, NULL}};
    check(s, &CAPTURE,
          "#1 GET / -> 200 req[none 0/27] resp[length 5/45 i0] incomplete "
          "!eof-mid-message@s45\n--\n"
          "#1 GET / -> 200 req[none 0/27] resp[length 5/45 i0] incomplete "
          "!eof-mid-message@s45\n");
}

static void test_http09_and_close_delimited(void **state)
{
    (void)state;
    const struct step s09[] = {
        {C, "GET /old\r\n"}, {S, "<html>hi</html>"}, {ENDS, ""}, {NULL, NULL}};
    check(s09, &LIVE,
          "#1 GET /old -> 0 req[none 0/10] resp[close 15/15 i0] !http09@c0\n--\n"
          "#1 GET /old -> 0 req[none 0/10] resp[close 15/15 i0] !http09@c0\n");
    const struct step sc[] = {{C, "GET / HTTP/1.0\r\n\r\n"},
                              {S, "HTTP/1.0 200 OK\r\n\r\nuntil close"},
                              {ENDS, ""},
                              {NULL, NULL}};
    check(sc, &LIVE,
          "#1 GET / -> 200 req[none 0/18] resp[close 11/30 i0]\n--\n"
          "#1 GET / -> 200 req[none 0/18] resp[close 11/30 i0]\n");
}

static void test_body_on_204(void **state)
{
    (void)state;
    const struct step s[] = {{C, "GET / HTTP/1.1\r\nHost: h\r\n\r\n"},
                             {S, "HTTP/1.1 204 No Content\r\nContent-Length: 4\r\n\r\nbody"},
                             {ENDS, ""},
                             {NULL, NULL}};
    check(s, &LIVE,
          "#1 GET / -> 204 req[none 0/27] resp[none 0/46 i0]\n"
          "#2 - - -> 0 req[none 0/0] resp[close 4/4 i0] norequest "
          "!body-on-bodiless-response@s0\n--\n"
          "#1 GET / -> 204 req[none 0/27] resp[none 0/46 i0]\n"
          "#2 - - -> 0 req[none 0/0] resp[close 4/4 i0] norequest "
          "!body-on-bodiless-response@s0\n");
}

static void test_smuggling_cl_te(void **state)
{
    (void)state;
    const struct step s[] = {
        {C, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n"
            "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n"},
        {NULL, NULL}};
    check(
        s, &LIVE,
        "#1 POST / -> 0 req[chunked 0/80] resp[none 0/0 i0] !cl-and-te@c26 OPEN\n"
        "#2 GET /smuggled -> 0 req[none 0/35] resp[none 0/0 i0] !bytes-after-message@c0 OPEN\n--\n"
        "#1 POST / -> 0 req[chunked 0/80] resp[none 0/0 i0] incomplete !cl-and-te@c26\n"
        "#2 GET /smuggled -> 0 req[none 0/35] resp[none 0/0 i0] incomplete "
        "!bytes-after-message@c0\n");
}

/*
 * A chunked body's trailer section is judged as a head's field lines are, once it has ended (so
 * however its bytes came): the warnings count from the side's first byte, and the NUL bytes'
 * warning lists where they are, as a head's does. The trailer starts at offset 65 of the
 * request, after the head (56 bytes), a chunk (6) and the last chunk (3).
 */
static void test_trailer_warnings(void **state)
{
    (void)state;
#define TRAILER_REQ                                                                                \
    "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n"
#define TRAILER_RESP "HTTP/1.1 204 No Content\r\n\r\n"
    static const struct {
        const char *trailer;
        const char *warnings;
        const char *nul_detail; /* the nul-byte warning's detail, or NULL */
    } cases[] = {
        {"X-Sum: 1\r\n\r\n", "", NULL},
        {"X-Sum : 1\r\n\r\n", " !ws-before-colon@c70", NULL},
        {"X-Sum: 1\r\n  more\r\n\r\n", " !obs-fold@c75", NULL},
        {"  first\r\n\r\n", " !obs-fold@c65", NULL},
        {"X-Sum: a\\0b\\0\r\nY: \\0\r\n\r\n", " !nul-byte@c73", "3 NUL bytes: at 73, 75, 81"},
        {"X-Sum: a\rb\r\n\r\n", " !bare-cr@c73", NULL},
        {"X-Sum: a\x01z\x02\r\n\r\n", " !invalid-value-char@c73 !invalid-value-char@c75", NULL},
        {"X(y): 1\r\n\r\n", " !invalid-name-char@c66", NULL},
        {": 1\r\n\r\n", " !empty-header-name@c65", NULL},
        {"junk\r\n\r\n", " !header-without-colon@c65", NULL},
        /* the decoder's own findings stay as they were; a name near a framing field is no
         * warning in a trailer, which frames nothing */
        {"X-Sum: 1\nContent-Lenght: 2\r\n\r\n", " !bare-lf@c73", NULL},
        {"Content-Length: 2\r\n\r\n", " !trailer-forbidden@c65", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char req[256], want[512];
        snprintf(req, sizeof req, "%s%s", TRAILER_REQ, cases[i].trailer);
        size_t n;
        free(tu_unescape(req, &n));
        snprintf(want, sizeof want, "#1 POST / -> 204 req[chunked 1/%zu] resp[none 0/27 i0]%s\n", n,
                 cases[i].warnings);
        const struct step s[] = {{C, req}, {S, TRAILER_RESP}, {NULL, NULL}};
        check_settled(s, &LIVE, want);
        struct recorder r;
        struct dynbuf out;
        play(s, &LIVE, 0, &out, &r);
        const char *detail = NULL;
        for (uint16_t k = 0; k < r.ex[0]->nwarnings; k++)
            if (r.ex[0]->warnings[k].code == W_NUL_BYTE)
                detail = r.ex[0]->warnings[k].detail;
        if (cases[i].nul_detail)
            assert_string_equal(detail, cases[i].nul_detail);
        else
            assert_null(detail);
        exchange_free(r.ex[0]);
        dynbuf_cleanup(&out);
    }
#undef TRAILER_REQ
#undef TRAILER_RESP
}

/*
 * A stream that ends inside a trailer section: what arrived of it is kept (the line cut by the
 * end too), and its complete lines are judged as an ended section's are. The trailer starts at
 * offset 65, as above: its first line's NUL (at 72) is found; the line the end cut is not judged
 * (its space before the colon would be, were the line complete).
 */
static void test_trailer_cut_by_eof(void **state)
{
    (void)state;
    const struct step s[] = {
        {C, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n"
            "X-Sum: \\0\r\nX-Cut : 1"},
        {ENDC, ""},
        {NULL, NULL}};
    check(s, &CAPTURE,
          "#1 POST / -> 0 req[chunked 1/84] resp[none 0/0 i0] !nul-byte@c72 "
          "!eof-mid-message@c84 OPEN\n--\n"
          "#1 POST / -> 0 req[chunked 1/84] resp[none 0/0 i0] incomplete !nul-byte@c72 "
          "!eof-mid-message@c84\n");
    struct recorder r;
    struct dynbuf out;
    play(s, &CAPTURE, 0, &out, &r);
    const struct message *m = &r.ex[0]->req;
    assert_int_equal(m->trailer_off, 65);
    assert_int_equal(m->trailer_len, 19);
    assert_memory_equal(m->trailer, "X-Sum: \0\r\nX-Cut : 1", 19);
    exchange_free(r.ex[0]);
    dynbuf_cleanup(&out);
}

/*
 * Which request heads another reader may split or frame differently (exchange_desync_warning,
 * the proxy's reason to end both connections after the exchange): the first such warning's
 * name, or "" for a head every reader frames alike.
 */
static void test_desync_risk(void **state)
{
    (void)state;
    static const struct {
        const char *head;
        const char *code;
    } cases[] = {
        {"GET / HTTP/1.1\r\nHost: h\r\n\r\n", ""},
        {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", ""},
        {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:  gzip , chunked \r\n\r\n", ""},
        {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n", ""},
        {"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", ""},
        {"\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", ""},
        {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n",
         "cl-duplicate"},
        {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\n", "cl-list"},
        {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
         "Transfer-Encoding: chunked\r\n\r\n",
         "te-chunked-twice"},
        {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n", "te-obfuscated"},
        {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding : chunked\r\n\r\n", "ws-before-colon"},
        {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n chunked\r\n\r\n", "obs-fold"},
        {"POST / HTTP/1.1\r\nHost: h\nTransfer-Encoding: chunked\r\n\r\n", "bare-lf"},
        {"POST / HTTP/1.1\r\n Transfer-Encoding: chunked\r\nHost: h\r\n\r\n",
         "ws-after-start-line"},
        {"POST / HTTP/1.1\r\nHost: h\r\nTransfer_Encoding: chunked\r\n\r\n", "header-name-typo"},
        {"POST / HTTP/1.1\r\nHost: h\r\nX(y): chunked\r\n\r\n", "invalid-name-char"},
        {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encodng: chunked\r\n\r\n", "header-name-typo"},
        {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\x0b\r\n\r\n", "invalid-value-char"},
        /* A trailer section is framed by its lines as a head is. */
        {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-A: 1\r\n\r\n", ""},
        {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-A : 1\r\n\r\n",
         "ws-before-colon"},
        {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-A: 1\r\n "
         "b\r\n\r\n",
         "obs-fold"},
        {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-A: 1\rX\r\n\r\n",
         "bare-cr"},
        {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-A: 1\nX-B: "
         "2\r\n\r\n",
         "bare-lf"},
        /* So are chunk size lines: readers differ on what they allow there. */
        {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;a=1\r\nhello\r\n"
         "0\r\n\r\n",
         ""},
        {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n",
         "chunk-ext-invalid"},
        {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
         "00000000000000005\r\nhello\r\n0\r\n\r\n",
         "chunk-size-too-long"},
        {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: "
         "chunked\r\n\r\n5\r\nhelloXX\r\n0\r\n\r\n",
         "chunk-missing-crlf"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct step s[] = {{C, cases[i].head}, {NULL, NULL}};
        struct recorder r;
        struct dynbuf out;
        play(s, &LIVE, 0, &out, &r);
        assert_int_equal(r.n, 1);
        const struct warning *w = exchange_desync_warning(r.ex[0]);
        const char *got = w ? warning_name((enum warning_code)w->code) : "";
        if (strcmp(got, cases[i].code) != 0)
            fail_msg("case %zu (%s): desync warning '%s', want '%s'\n%s", i, cases[i].head, got,
                     cases[i].code, dynbuf_str(&out));
        exchange_free(r.ex[0]);
        dynbuf_cleanup(&out);
    }
}

/*
 * Requests that waited behind a response after which the connection closes are still read:
 * each is an exchange of its own, never answered, saying why; bytes that cannot start a request
 * are kept too.
 */
static void test_leftover_requests_after_close(void **state)
{
    (void)state;
    const struct step s[] = {{C, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"},
                             {S, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi"},
                             {LEFTC, "GET /b HTTP/1.1\r\nHost: h\r\n\r\nHEAD /c HTTP/1.1\r\n\r\n"
                                     "\r\nnot http\r\nmore"},
                             {ENDS, ""},
                             {ENDC, ""},
                             {NULL, NULL}};
    /* Without a version "not http" reads as an HTTP/0.9 request, as it would have if fed. */
    check(s, &LIVE,
          "#1 GET /a -> 200 req[none 0/28] resp[length 2/40 i0]\n"
          "#2 GET /b -> 0 req[none 0/28] resp[none 0/0 i0] incomplete !bytes-after-message@c0 "
          "error='not answered'\n"
          "#3 HEAD /c -> 0 req[none 0/20] resp[none 0/0 i0] incomplete !bytes-after-message@c0 "
          "!host-missing@c0 error='not answered'\n"
          "#4 not http -> 0 req[none 0/12] resp[none 0/0 i0] incomplete !bytes-after-message@c0 "
          "!leading-empty-lines@c0 !http09@c2 error='not answered'\n"
          "#5 - - -> 0 req[none 0/4] resp[none 0/0 i0] incomplete !bytes-after-message@c0 "
          "!eof-mid-message@c4 error='not answered' OPEN\n--\n"
          "#1 GET /a -> 200 req[none 0/28] resp[length 2/40 i0]\n"
          "#2 GET /b -> 0 req[none 0/28] resp[none 0/0 i0] incomplete !bytes-after-message@c0 "
          "error='not answered'\n"
          "#3 HEAD /c -> 0 req[none 0/20] resp[none 0/0 i0] incomplete !bytes-after-message@c0 "
          "!host-missing@c0 error='not answered'\n"
          "#4 not http -> 0 req[none 0/12] resp[none 0/0 i0] incomplete !bytes-after-message@c0 "
          "!leading-empty-lines@c0 !http09@c2 error='not answered'\n"
          "#5 - - -> 0 req[none 0/4] resp[none 0/0 i0] incomplete !bytes-after-message@c0 "
          "!eof-mid-message@c4 error='not answered'\n");
}

/* Leftover bytes finish the request in progress first; a request cut short ends at the close. */
static void test_leftover_ends_body_then_partial_head(void **state)
{
    (void)state;
    const struct step s[] = {
        {C, "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nab"},
        {S, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"},
        {LEFTC, "cdGET /b HTTP/1.1\r\nHo"},
        {ENDC, ""},
        {ENDS, ""},
        {NULL, NULL}};
    check(s, &LIVE,
          "#1 POST /up -> 502 req[length 4/53] resp[none 0/66 i0]\n"
          "#2 - - -> 0 req[none 0/19] resp[none 0/0 i0] incomplete !bytes-after-message@c0 "
          "!eof-mid-message@c19 error='not answered' OPEN\n--\n"
          "#1 POST /up -> 502 req[length 4/53] resp[none 0/66 i0]\n"
          "#2 - - -> 0 req[none 0/19] resp[none 0/0 i0] incomplete !bytes-after-message@c0 "
          "!eof-mid-message@c19 error='not answered'\n");
}

static void test_capture_gap_in_length_body(void **state)
{
    (void)state;
    const struct step s[] = {{C, "GET / HTTP/1.1\r\nHost: h\r\n\r\n"},
                             {S, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab"},
                             {GAPS, "5"},
                             {S, "fgh"},
                             {C, "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n"},
                             {S, "HTTP/1.1 304 Not Modified\r\n\r\n"},
                             {NULL, NULL}};
    const char *want = "#1 GET / -> 200 req[none 0/27] resp[length 10/49 i0] gap !capture-gap@s41\n"
                       "#2 GET /2 -> 304 req[none 0/28] resp[none 0/29 i0]\n";
    check_settled(s, &CAPTURE, want);
}

static void test_capture_gap_in_chunked_resyncs(void **state)
{
    (void)state;
    const struct step s[] = {
        {C, "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"},
        {S, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"},
        {GAPS, "40"},
        {S, "tail of lost stuff\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
        {NULL, NULL}};
    check(s, &CAPTURE,
          "#1 GET /1 -> 200 req[none 0/28] resp[chunked 2/92 i0] incomplete gap "
          "!capture-gap@s52\n"
          "#2 GET /2 -> 200 req[none 0/28] resp[length 2/40 i0] !capture-gap@s0\n--\n"
          "#1 GET /1 -> 200 req[none 0/28] resp[chunked 2/92 i0] incomplete gap "
          "!capture-gap@s52\n"
          "#2 GET /2 -> 200 req[none 0/28] resp[length 2/40 i0] !capture-gap@s0\n");
}

/*
 * Packets cut by a snap length: each step is one segment, cut after its first bytes. The
 * heads cut short still give method, target and status (the start line and the field lines
 * before the cut); what follows a cut head is a body of unknown length that ends where the
 * next message starts at a segment's start (a gap, not the start of a message of its own); a
 * Content-Length read before the cut frames it.
 */
static void test_snaplen_cut_heads(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        struct step steps[12];
        const char *want;
    } cases[] = {
        {"keep-alive, heads cut, bodies in segments of their own",
         {{C, "GET /a HTTP/1.1\r\nHo"},
          {SNAPC, "30"},
          {S, "HTTP/1.1 200 OK\r\nServer: x\r\nConte"},
          {SNAPS, "40"},
          {S, "0123456789"},
          {SNAPS, "1000"},
          {S, "abcd"},
          {C, "GET /b HTTP/1.1\r\nHo"},
          {SNAPC, "30"},
          {S, "HTTP/1.1 404 Not Found\r\nSe"},
          {SNAPS, "60"},
          {NULL, NULL}},
         "#1 GET /a -> 200 req[unknown 0/49] resp[unknown 1014/1087 i0] gap truncated "
         "!capture-gap@c19 !capture-gap@s33\n"
         "#2 GET /b -> 404 req[unknown 0/49] resp[unknown 0/86 i0] gap truncated "
         "!capture-gap@c19 !capture-gap@s26 OPEN\n--\n"
         "#1 GET /a -> 200 req[unknown 0/49] resp[unknown 1014/1087 i0] gap truncated "
         "!capture-gap@c19 !capture-gap@s33\n"
         "#2 GET /b -> 404 req[unknown 0/49] resp[unknown 0/86 i0] incomplete gap truncated "
         "!capture-gap@c19 !capture-gap@s26\n"},
        {"Content-Length read before the cut frames the body: the next response follows it",
         {{C, "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n"},
          {S, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nDa"},
          {SNAPS, "20"},
          {S, "0123456789HTTP/1.1 204 No Content\r\n\r\n"},
          {NULL, NULL}},
         "#1 GET /a -> 200 req[none 0/28] resp[unknown 10/69 i0] gap truncated !capture-gap@s39\n"
         "#2 GET /b -> 204 req[none 0/28] resp[none 0/27 i0]\n"
         "--\n"
         "#1 GET /a -> 200 req[none 0/28] resp[unknown 10/69 i0] gap truncated !capture-gap@s39\n"
         "#2 GET /b -> 204 req[none 0/28] resp[none 0/27 i0]\n"},
        {"a bodiless response cut: done at the cut, the next one parsed",
         {{C, "HEAD /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n"},
          {S, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nDa"},
          {SNAPS, "20"},
          {S, "HTTP/1.1 304 Not Modified\r\n\r\n"},
          {ENDS, ""},
          {NULL, NULL}},
         "#1 HEAD /a -> 200 req[none 0/29] resp[none 0/59 i0] gap truncated !capture-gap@s39\n"
         "#2 GET /b -> 304 req[none 0/28] resp[none 0/29 i0]\n"
         "--\n"
         "#1 HEAD /a -> 200 req[none 0/29] resp[none 0/59 i0] gap truncated !capture-gap@s39\n"
         "#2 GET /b -> 304 req[none 0/28] resp[none 0/29 i0]\n"},
        {"a request line cut inside its target; the response ends at the close",
         {{C, "GET /a/very/long/pa"},
          {SNAPC, "300"},
          {S, "HTTP/1.1 200 OK\r\nServer: x\r\n"},
          {SNAPS, "40"},
          {S, "body"},
          {ENDS, ""},
          {ENDC, ""},
          {NULL, NULL}},
         "#1 GET /a/very/long/pa -> 200 req[unknown 0/319] resp[unknown 4/72 i0] gap truncated "
         "!capture-gap@c19 !capture-gap@s28\n"
         "--\n"
         "#1 GET /a/very/long/pa -> 200 req[unknown 0/319] resp[unknown 4/72 i0] gap truncated "
         "!capture-gap@c19 !capture-gap@s28\n"},
        {"a body line that looks like a request at a segment's start is body",
         {{C, "POST /up HTTP/1.1\r\nHost: h\r\nCont"},
          {SNAPC, "30"},
          {C, "THE END OF IT\r\n"},
          {C, "GET /b HTTP/1.1\r\nHost: h\r\n\r\n"},
          {NULL, NULL}},
         "#1 POST /up -> 0 req[unknown 15/77] resp[none 0/0 i0] gap truncated !capture-gap@c32 "
         "OPEN\n"
         "#2 GET /b -> 0 req[none 0/28] resp[none 0/0 i0] OPEN\n"
         "--\n"
         "#1 POST /up -> 0 req[unknown 15/77] resp[none 0/0 i0] incomplete gap truncated "
         "!capture-gap@c32\n"
         "#2 GET /b -> 0 req[none 0/28] resp[none 0/0 i0] incomplete\n"},
        {"a chunked body cut by the snap length ends where the next response starts",
         {{C, "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n"},
          {S, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n400\r\nab"},
          {SNAPS, "1000"},
          {S, "0\r\n\r\n"},
          {S, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
          {NULL, NULL}},
         "#1 GET /a -> 200 req[none 0/28] resp[chunked 1007/1059 i0] gap truncated "
         "!capture-gap@s54\n"
         "#2 GET /b -> 200 req[none 0/28] resp[length 2/40 i0]\n"
         "--\n"
         "#1 GET /a -> 200 req[none 0/28] resp[chunked 1007/1059 i0] gap truncated "
         "!capture-gap@s54\n"
         "#2 GET /b -> 200 req[none 0/28] resp[length 2/40 i0]\n"},
        {"a loss (no snap length) cutting a head: the head is shown, then resynchronisation",
         {{C, "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n"},
          {S, "HTTP/1.1 200 OK\r\nContent-Le"},
          {GAPS, "100"},
          {S, "lost body\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
          {NULL, NULL}},
         "#1 GET /a -> 200 req[none 0/28] resp[unknown 0/127 i0] incomplete gap !capture-gap@s27\n"
         "#2 GET /b -> 200 req[none 0/28] resp[length 2/40 i0] !capture-gap@s0\n"
         "--\n"
         "#1 GET /a -> 200 req[none 0/28] resp[unknown 0/127 i0] incomplete gap !capture-gap@s27\n"
         "#2 GET /b -> 200 req[none 0/28] resp[length 2/40 i0] !capture-gap@s0\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("%s\n", cases[i].name);
        check(cases[i].steps, &CAPTURE, cases[i].want);
    }
}

/* Feeds one capture segment of side s: its bytes, then n bytes the snap length cut (if any). */
static void segment(struct conversation *c, enum side s, const char *bytes, uint64_t cut,
                    int64_t ts)
{
    conversation_boundary(c, s);
    size_t len = strlen(bytes);
    assert_int_equal(conversation_feed(c, s, (const uint8_t *)bytes, len, ts), len);
    if (cut) {
        conversation_flag(c, s, EX_TRUNCATED, MSG_SNAPLEN);
        conversation_gap(c, s, cut, ts);
    }
}

/* The warnings of ex with this code. */
static int count_code(const struct exchange *ex, enum warning_code code, const struct warning **w)
{
    int n = 0;
    for (uint16_t i = 0; i < ex->nwarnings; i++)
        if (ex->warnings[i].code == code) {
            *w = &ex->warnings[i];
            n++;
        }
    return n;
}

/*
 * A head with NUL bytes gets one nul-byte warning, at the first, whose detail counts them all
 * and places the first HTTP_NUL_SHOWN_MAX (side offsets): the same whether the head came whole
 * or byte by byte, for a request and a response.
 */
static void test_nul_bytes_counted(void **state)
{
    (void)state;
    static const char req[] = "GET /a\0b HTTP/1.1\r\nHost: h\r\nX: 1\0\0\r\n\r\n";
    static const char resp[] = "HTTP/1.1 200 OK\r\nX: \0\0\0\0\0\0\0\0\0\0\r\n"
                               "Content-Length: 0\r\n\r\n";
    for (size_t step = 0; step < 2; step++) {
        struct recorder r;
        struct conversation *c = recorded(&r, &LIVE, -1);
        const char *msg[2] = {req, resp};
        size_t len[2] = {sizeof req - 1, sizeof resp - 1};
        for (int s = 0; s < 2; s++) {
            size_t piece = step ? 1 : len[s];
            for (size_t off = 0; off < len[s]; off += piece)
                conversation_feed(c, s ? SIDE_SERVER : SIDE_CLIENT, (const uint8_t *)msg[s] + off,
                                  piece, 1);
        }
        conversation_close(c, SIDE_CLIENT, 2);
        conversation_close(c, SIDE_SERVER, 2);
        conversation_free(c);
        assert_int_equal(r.n, 1);
        int seen = 0;
        for (uint16_t i = 0; i < r.ex[0]->nwarnings; i++) {
            const struct warning *w = &r.ex[0]->warnings[i];
            if (w->code != W_NUL_BYTE)
                continue;
            seen++;
            if (w->side == SIDE_CLIENT) {
                assert_int_equal(w->offset, 6);
                assert_string_equal(w->detail, "3 NUL bytes: at 6, 32, 33");
            } else {
                assert_int_equal(w->offset, 20);
                assert_string_equal(w->detail,
                                    "10 NUL bytes: at 20, 21, 22, 23, 24, 25, 26, 27, ...");
            }
        }
        assert_int_equal(seen, 2);
        exchange_free(r.ex[0]);
    }
}

/*
 * A message gets one capture-gap warning however many gaps it has (a long body the snap length
 * cut packet by packet, a body with several losses): at the first gap's offset, its detail
 * counting the bytes missing and the packets (or gaps) in all. The exchange keeps its room for
 * other warnings (EXCHANGE_WARNINGS_MAX): nothing is dropped.
 */
static void test_capture_gaps_one_warning(void **state)
{
    (void)state;
    struct recorder r;
    struct conversation *c = recorded(&r, &CAPTURE, -1);
    int64_t ts = 1000;
    segment(c, SIDE_CLIENT, "GET /big HTTP/1.1\r\nHost: h\r\n\r\nGET /two HTTP/1.1\r\n\r\n", 0, ts);
    segment(c, SIDE_SERVER, "HTTP/1.1 200 OK\r\nServer: x\r\nConte", 100, ts);
    for (int i = 0; i < 200; i++)
        segment(c, SIDE_SERVER, "0123456789", 1000, ts += 1000);
    segment(c, SIDE_SERVER, "HTTP/1.1 200 OK\r\nContent-Length: 300\r\n\r\n", 0, ts += 1000);
    for (int i = 0; i < 3; i++) {
        segment(c, SIDE_SERVER, "0123456789012345678901234567890123456789012345678901", 0, ts);
        conversation_gap(c, SIDE_SERVER, 48, ts += 1000);
    }
    conversation_close(c, SIDE_CLIENT, ts);
    conversation_close(c, SIDE_SERVER, ts);
    conversation_free(c);
    assert_int_equal(r.n, 2);
    const struct warning *w = NULL;
    assert_int_equal(count_code(r.ex[0], W_CAPTURE_GAP, &w), 1);
    assert_int_equal(w->offset, 33);
    assert_string_equal(w->detail,
                        "200100 bytes missing in 201 packets cut by the snap length (185 not "
                        "listed: 16 at most), the first 100 here: the head was cut after 33 bytes "
                        "(1 field line read); the body's "
                        "length is unknown: it ends where the next message starts");
    assert_int_equal(r.ex[0]->warnings_dropped, 0);
    /* Every gap's bytes are counted; the list holds the first MESSAGE_GAPS_MAX, the rest are
     * counted as not listed, and the detail says so. */
    assert_int_equal(r.ex[0]->resp.gap_bytes, 200100);
    assert_int_equal(r.ex[0]->resp.ngaps, MESSAGE_GAPS_MAX);
    assert_int_equal(r.ex[0]->resp.gaps_unlisted, 201 - MESSAGE_GAPS_MAX);
    uint64_t listed = 0;
    for (uint16_t i = 0; i < r.ex[0]->resp.ngaps; i++)
        listed += r.ex[0]->resp.gaps[i].len;
    assert_int_equal(listed + 1000 * (201 - MESSAGE_GAPS_MAX), r.ex[0]->resp.gap_bytes);
    assert_int_equal(count_code(r.ex[1], W_CAPTURE_GAP, &w), 1);
    assert_int_equal(w->offset, 40 + 52);
    assert_string_equal(w->detail, "144 bytes missing in 3 gaps, the first 48 here");
    assert_int_equal(r.ex[1]->resp.ngaps, 3);
    assert_int_equal(r.ex[1]->resp.gaps_unlisted, 0);
    assert_true(r.ex[1]->resp.flags & MSG_COMPLETE);
    for (int i = 0; i < r.n; i++)
        exchange_free(r.ex[i]);
}

/*
 * The one capture-gap warning of a message whose gaps did different things says each: a cut
 * 100 Continue (the first gap, at the warning's offset), then the final head cut too (a later
 * gap, with its own offset).
 */
static void test_capture_gaps_later_reason(void **state)
{
    (void)state;
    struct recorder r;
    struct conversation *c = recorded(&r, &CAPTURE, -1);
    int64_t ts = 1000;
    segment(c, SIDE_CLIENT,
            "PUT /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n", 0,
            ts);
    segment(c, SIDE_SERVER, "HTTP/1.1 100 Continue\r\nX-A: b", 7, ts += 1000);
    segment(c, SIDE_CLIENT, "abcd", 0, ts += 1000);
    segment(c, SIDE_SERVER, "HTTP/1.1 201 Created\r\nServer: x\r\nCont", 60, ts += 1000);
    segment(c, SIDE_SERVER, "done", 0, ts += 1000);
    conversation_close(c, SIDE_CLIENT, ts);
    conversation_close(c, SIDE_SERVER, ts);
    conversation_free(c);
    assert_int_equal(r.n, 1);
    const struct warning *w = NULL;
    assert_int_equal(count_code(r.ex[0], W_CAPTURE_GAP, &w), 1);
    assert_int_equal(w->offset, 29);
    assert_string_equal(w->detail,
                        "67 bytes missing in 2 packets cut by the snap length, the first 7 here: "
                        "the interim 100 response's head was cut after 29 bytes; at offset 73: "
                        "the head was cut after 37 bytes (1 field line read); the body's length "
                        "is unknown: it ends where the next message starts");
    assert_int_equal(r.ex[0]->resp.ngaps, 2);
    assert_int_equal(r.ex[0]->resp.gap_bytes, 67);
    exchange_free(r.ex[0]);
}

/*
 * Requests pipelined in a client packet the snap length cut are lost whole; the responses that
 * answer them, finding no request waiting, pair in order with a request recorded as lost
 * (reqlost, snaplen-truncated on the request side), never with none. Only a snap length's cut
 * with room for a request does this: a loss, or a cut too short to hold one, leaves a response
 * without a request. A visible request sent while responses were pending (pipelining) after such
 * a cut may not be the one answered: the response says so. A cut 100 Continue stays the
 * exchange's interim; the final response follows at the next segment.
 */
static void test_snaplen_lost_requests(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        struct step steps[14];
        const char *want;
    } cases[] = {
        {"three requests in one cut packet: the two after the first are lost",
         {{C, "GET /a HTTP/1.1\r\nHo"},
          {SNAPC, "100"},
          {S, "HTTP/1.1 200 OK\r\nConte"},
          {SNAPS, "30"},
          {S, "aaaa"},
          {S, "HTTP/1.1 200 OK\r\nConte"},
          {SNAPS, "30"},
          {S, "bbbb"},
          {S, "HTTP/1.1 404 Not Found\r\nCo"},
          {SNAPS, "30"},
          {S, "cc"},
          {ENDS, ""},
          {ENDC, ""},
          {NULL, NULL}},
         "#1 GET /a -> 200 req[unknown 0/119] resp[unknown 4/56 i0] gap truncated !capture-gap@c19 "
         "!capture-gap@s22\n"
         "#2 - - -> 200 req[none 0/0] resp[unknown 4/56 i0] gap truncated reqlost "
         "!snaplen-truncated@c0 !capture-gap@s22\n"
         "#3 - - -> 404 req[none 0/0] resp[unknown 2/58 i0] gap truncated reqlost "
         "!snaplen-truncated@c0 !capture-gap@s26\n"
         "--\n"
         "#1 GET /a -> 200 req[unknown 0/119] resp[unknown 4/56 i0] gap truncated !capture-gap@c19 "
         "!capture-gap@s22\n"
         "#2 - - -> 200 req[none 0/0] resp[unknown 4/56 i0] gap truncated reqlost "
         "!snaplen-truncated@c0 !capture-gap@s22\n"
         "#3 - - -> 404 req[none 0/0] resp[unknown 2/58 i0] gap truncated reqlost "
         "!snaplen-truncated@c0 !capture-gap@s26\n"},
        {"a loss, not a snap length: the second response has no request",
         {{C, "GET /a HTTP/1.1\r\nHo"},
          {GAPC, "100"},
          {S, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"},
          {S, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"},
          {NULL, NULL}},
         "#1 GET /a -> 200 req[unknown 0/119] resp[length 1/39 i0] incomplete gap "
         "!capture-gap@c19\n"
         "#2 - - -> 200 req[none 0/0] resp[length 1/39 i0] norequest !response-without-request@s0\n"
         "--\n"
         "#1 GET /a -> 200 req[unknown 0/119] resp[length 1/39 i0] incomplete gap "
         "!capture-gap@c19\n"
         "#2 - - -> 200 req[none 0/0] resp[length 1/39 i0] norequest "
         "!response-without-request@s0\n"},
        {"a cut too short to hold a request: the second response has no request",
         {{C, "GET /a HTTP/1.1\r\nHost: h\r\n"},
          {SNAPC, "10"},
          {S, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"},
          {S, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"},
          {NULL, NULL}},
         "#1 GET /a -> 200 req[unknown 0/36] resp[length 1/39 i0] gap truncated !capture-gap@c26 "
         "OPEN\n"
         "#2 - - -> 200 req[none 0/0] resp[length 1/39 i0] norequest !response-without-request@s0\n"
         "--\n"
         "#1 GET /a -> 200 req[unknown 0/36] resp[length 1/39 i0] incomplete gap truncated "
         "!capture-gap@c26\n"
         "#2 - - -> 200 req[none 0/0] resp[length 1/39 i0] norequest "
         "!response-without-request@s0\n"},
        {"a request pipelined behind the cut one: its pairing is in doubt",
         {{C, "GET /a HTTP/1.1\r\nHo"},
          {SNAPC, "100"},
          {C, "GET /d HTTP/1.1\r\nHost: h\r\n\r\n"},
          {S, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"},
          {S, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"},
          {NULL, NULL}},
         "#1 GET /a -> 200 req[unknown 0/119] resp[length 1/39 i0] gap truncated !capture-gap@c19\n"
         "#2 GET /d -> 200 req[none 0/28] resp[length 1/39 i0] !snaplen-truncated@s0\n"
         "--\n"
         "#1 GET /a -> 200 req[unknown 0/119] resp[length 1/39 i0] gap truncated !capture-gap@c19\n"
         "#2 GET /d -> 200 req[none 0/28] resp[length 1/39 i0] !snaplen-truncated@s0\n"},
        {"a request sent after the response to the cut one: paired without doubt",
         {{C, "GET /a HTTP/1.1\r\nHo"},
          {SNAPC, "100"},
          {S, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"},
          {C, "GET /d HTTP/1.1\r\nHost: h\r\n\r\n"},
          {S, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"},
          {NULL, NULL}},
         "#1 GET /a -> 200 req[unknown 0/119] resp[length 1/39 i0] gap truncated !capture-gap@c19\n"
         "#2 GET /d -> 200 req[none 0/28] resp[length 1/39 i0]\n"
         "--\n"
         "#1 GET /a -> 200 req[unknown 0/119] resp[length 1/39 i0] gap truncated !capture-gap@c19\n"
         "#2 GET /d -> 200 req[none 0/28] resp[length 1/39 i0]\n"},
        {"an upload whose 100 Continue the snap length cut: one exchange, interim kept",
         {{C, "POST /up HTTP/1.1\r\nHo"},
          {SNAPC, "40"},
          {S, "HTTP/1.1 100 Con"},
          {SNAPS, "9"},
          {C, "0123456789"},
          {SNAPC, "1000"},
          {S, "HTTP/1.1 201 Created\r\nCo"},
          {SNAPS, "30"},
          {S, "ok"},
          {ENDC, ""},
          {ENDS, ""},
          {NULL, NULL}},
         "#1 POST /up -> 201 req[unknown 1010/1071] resp[unknown 2/81 i1] gap truncated "
         "!capture-gap@c21 !capture-gap@s16\n"
         "--\n"
         "#1 POST /up -> 201 req[unknown 1010/1071] resp[unknown 2/81 i1] gap truncated "
         "!capture-gap@c21 !capture-gap@s16\n"},
        {"a whole 100 Continue in front of a cut final head",
         {{C, "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\n"},
          {S, "HTTP/1.1 100 Continue\r\n\r\n"},
          {C, "data"},
          {S, "HTTP/1.1 201 Created\r\nCo"},
          {SNAPS, "30"},
          {S, "ok"},
          {ENDS, ""},
          {NULL, NULL}},
         "#1 POST /up -> 201 req[length 4/53] resp[unknown 2/81 i1] gap truncated "
         "!capture-gap@s49\n"
         "--\n"
         "#1 POST /up -> 201 req[length 4/53] resp[unknown 2/81 i1] gap truncated "
         "!capture-gap@s49\n"},
        {"a request line cut inside its version: the target is read whole",
         {{C, "POST /upload H"},
          {SNAPC, "200"},
          {S, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"},
          {ENDS, ""},
          {ENDC, ""},
          {NULL, NULL}},
         "#1 POST /upload -> 201 req[unknown 0/214] resp[none 0/43 i0] gap truncated "
         "!capture-gap@c14\n"
         "--\n"
         "#1 POST /upload -> 201 req[unknown 0/214] resp[none 0/43 i0] gap truncated "
         "!capture-gap@c14\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("%s\n", cases[i].name);
        check(cases[i].steps, &CAPTURE, cases[i].want);
    }
}

/*
 * The same gap on a live connection (only a capture has gaps, but the engine takes them from any
 * source): the response's framing is lost, so the server side stays dead on that exchange, as
 * after any other framing it cannot follow. What follows is kept as bytes of that response and
 * never parsed as another head of it (which once wrote past the end of its raw buffer).
 */
static void test_live_gap_in_chunked_stays_dead(void **state)
{
    (void)state;
    const struct step s[] = {
        {C, "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"},
        {S, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"},
        {GAPS, "40"},
        {S, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
        {NULL, NULL}};
    check(s, &LIVE,
          "#1 GET /1 -> 200 req[none 0/28] resp[chunked 2/132 i0] gap !capture-gap@s52 OPEN\n"
          "#2 GET /2 -> 0 req[none 0/28] resp[none 0/0 i0] OPEN\n--\n"
          "#1 GET /1 -> 200 req[none 0/28] resp[chunked 2/132 i0] incomplete gap "
          "!capture-gap@s52\n"
          "#2 GET /2 -> 0 req[none 0/28] resp[none 0/0 i0] incomplete\n");
}

/* Bytes skipped at the end of a stream are reported, never dropped silently. */
static void test_capture_skipped_tail(void **state)
{
    (void)state;
    const struct step s[] = {{C, "GET / HTTP/1.1\r\nHost: h\r\n\r\n"},
                             {S, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
                             {C, "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n"},
                             {GAPS, "7"},
                             {S, "lost tail\r\n"},
                             {GAPC, "3"},
                             {C, "junk"},
                             {ENDC, ""},
                             {ENDS, ""},
                             {NULL, NULL}};
    const char *want =
        "#1 GET / -> 200 req[none 0/27] resp[length 2/40 i0]\n"
        "#2 GET /2 -> 0 req[none 0/28] resp[none 0/0 i0] incomplete gap !capture-gap@s0\n"
        "#3 - - -> 0 req[none 0/0] resp[none 0/0 i0] incomplete gap !capture-gap@c0\n";
    check_settled(s, &CAPTURE, want);
}

/*
 * Capture: bytes a server sends right after a response that cannot have a body (a 304 with a
 * Content-Length, say) are that body, as live use says (body-on-bodiless-response), not a loss of
 * the capture: no gap flag. With a gap among them, they are a capture gap as before.
 */
static void test_capture_bodiless_stray(void **state)
{
    (void)state;
    static const char REQ_A[] = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
    static const char R304[] = "HTTP/1.1 304 Not Modified\r\nContent-Length: 4\r\n\r\n";
    const struct step tail[] = {{C, REQ_A}, {S, R304}, {S, "ok\r\n"}, {ENDS, ""}, {NULL, NULL}};
    const char *want_tail = "#1 GET /a -> 304 req[none 0/28] resp[none 0/48 i0]\n"
                            "#2 - - -> 0 req[none 0/0] resp[none 0/0 i0] incomplete norequest "
                            "!body-on-bodiless-response@s0\n";
    const struct step before[] = {{C, REQ_A},
                                  {S, R304},
                                  {S, "ok\r\n"},
                                  {C, "GET /b HTTP/1.1\r\nHost: h\r\n\r\n"},
                                  {S, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"},
                                  {NULL, NULL}};
    const char *want_before = "#1 GET /a -> 304 req[none 0/28] resp[none 0/48 i0]\n"
                              "#2 GET /b -> 200 req[none 0/28] resp[none 0/38 i0] "
                              "!body-on-bodiless-response@s0\n";
    const struct step lost[] = {{C, REQ_A},  {S, R304},  {S, "ok\r\n"},
                                {GAPS, "5"}, {ENDS, ""}, {NULL, NULL}};
    const char *want_lost = "#1 GET /a -> 304 req[none 0/28] resp[none 0/48 i0]\n"
                            "#2 - - -> 0 req[none 0/0] resp[none 0/0 i0] incomplete gap norequest "
                            "!capture-gap@s0\n";
    check_settled(tail, &CAPTURE, want_tail);
    check_settled(before, &CAPTURE, want_before);
    check_settled(lost, &CAPTURE, want_lost);
}

static void test_midstream(void **state)
{
    (void)state;
    struct conversation_config cfg = CAPTURE;
    cfg.midstream = true;
    const struct step s[] = {{C, "y body bytes\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n"},
                             {S, "rest of a body\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"},
                             {NULL, NULL}};
    check(s, &cfg,
          "#1 GET /next -> 200 req[none 0/31] resp[none 0/38 i0] !capture-gap@c0 "
          "!capture-gap@s0\n--\n"
          "#1 GET /next -> 200 req[none 0/31] resp[none 0/38 i0] !capture-gap@c0 "
          "!capture-gap@s0\n");
}

static void test_unframeable_request_live(void **state)
{
    (void)state;
    const struct step s[] = {
        {C, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef"},
        {NULL, NULL}};
    check(s, &LIVE,
          "#1 POST / -> 0 req[none 0/72] resp[none 0/0 i0] !cl-conflict@c45 OPEN\n--\n"
          "#1 POST / -> 0 req[none 0/72] resp[none 0/0 i0] incomplete !cl-conflict@c45\n");
}

static void test_response_without_request(void **state)
{
    (void)state;
    const struct step s[] = {{S, "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n"},
                             {NULL, NULL}};
    check(s, &LIVE,
          "#1 - - -> 408 req[none 0/0] resp[none 0/51 i0] norequest "
          "!response-without-request@s0\n--\n"
          "#1 - - -> 408 req[none 0/0] resp[none 0/51 i0] norequest "
          "!response-without-request@s0\n");
}

static void test_pause_at_request_head(void **state)
{
    (void)state;
    struct recorder r;
    struct conversation *c = recorded(&r, &LIVE, CONV_REQ_HEAD);
    const char *in = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\n"
                     "Host: h\r\n\r\n";
    size_t used = conversation_feed(c, SIDE_CLIENT, (const uint8_t *)in, strlen(in), 1);
    assert_int_equal(used, 47); /* exactly the first head */
    assert_int_equal(r.events[CONV_REQ_BODY], 0);
    /* The body, then the second head, which pauses again right at its end. */
    used += conversation_feed(c, SIDE_CLIENT, (const uint8_t *)in + used, strlen(in) - used, 2);
    assert_int_equal(used, strlen(in));
    assert_int_equal(r.events[CONV_REQ_BODY], 1);
    assert_int_equal(conversation_feed(c, SIDE_CLIENT, NULL, 0, 3), 0);
    assert_int_equal(r.n, 2);
    conversation_free(c);
    for (int i = 0; i < r.n; i++)
        exchange_free(r.ex[i]);
}

/* A caller that pauses at every request's end still gets every leftover request read. */
static void test_leftover_ignores_pauses(void **state)
{
    (void)state;
    struct recorder r;
    struct conversation *c = recorded(&r, &LIVE, CONV_REQ_DONE);
    const char *in = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"
                     "GET /3 HTTP/1.1\r\nHost: h\r\n\r\n";
    size_t used = conversation_feed(c, SIDE_CLIENT, (const uint8_t *)in, strlen(in), 1);
    assert_int_equal(used, 28);
    const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    conversation_feed(c, SIDE_SERVER, (const uint8_t *)resp, strlen(resp), 2);
    conversation_feed_leftover(c, SIDE_CLIENT, (const uint8_t *)in + used, strlen(in) - used, 3,
                               "why");
    assert_int_equal(r.n, 3);
    for (int i = 0; i < r.n; i++)
        assert_int_equal(r.ended[i], 1);
    assert_string_equal(r.ex[2]->error, "why");
    conversation_free(c);
    for (int i = 0; i < r.n; i++)
        exchange_free(r.ex[i]);
}

static void test_inflight_cap_blocks_and_unblocks(void **state)
{
    (void)state;
    struct recorder r;
    struct conversation *c = recorded(&r, &LIVE, -1);
    const char *one = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    size_t n1 = strlen(one);
    struct dynbuf many;
    dynbuf_init(&many, 1 << 20);
    for (int i = 0; i < CONVERSATION_INFLIGHT_MAX + 10; i++)
        dynbuf_adds(&many, one);
    size_t used = conversation_feed(c, SIDE_CLIENT, many.data, many.len, 1);
    assert_int_equal(used, n1 * CONVERSATION_INFLIGHT_MAX);
    const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    conversation_feed(c, SIDE_SERVER, (const uint8_t *)resp, strlen(resp), 2);
    assert_int_equal(r.unblocked, 1);
    size_t more = conversation_feed(c, SIDE_CLIENT, many.data + used, many.len - used, 3);
    assert_int_equal(more, n1);
    conversation_free(c);
    for (int i = 0; i < r.n; i++)
        exchange_free(r.ex[i]);
    dynbuf_cleanup(&many);
}

static void test_body_hash(void **state)
{
    (void)state;
    struct recorder r;
    struct conversation_config cfg = LIVE;
    cfg.hash_bodies = true;
    cfg.exchange.body_keep = 4; /* only 4 bytes kept, the hash covers all */
    struct conversation *c = recorded(&r, &cfg, -1);
    const char *in = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n";
    conversation_feed(c, SIDE_CLIENT, (const uint8_t *)in, strlen(in), 1);
    struct exchange *ex = r.ex[0];
    assert_true(ex->req.flags & MSG_HASHED);
    assert_true(ex->req.flags & MSG_TRUNCATED);
    char hex[65];
    uint8_t sum[32];
    assert_true(message_sha256(&ex->req, sum));
    sha256_hex(sum, hex);
    /* sha256("abcdef") */
    assert_string_equal(hex, "bef57ec7f53a6d40beb640a780a639c83bc29ac8a9816f1fc6c5c6dcd93c4721");
    conversation_free(c);
    exchange_free(ex);
}

/*
 * Length-framed bodies: one kept whole is hashed only when asked (from raw); one past the kept
 * size, fed in pieces of every size, streams its hash from the piece raw could not keep.
 */
static void test_body_hash_deferred(void **state)
{
    (void)state;
    static const char *want = /* sha256("abcdefghij") */
        "72399361da6a7754fec986dca5b7cbaf1c810a28ded4abaf56b2106d06cb78b0";
    const char *in = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabcdefghij";
    size_t len = strlen(in);
    for (size_t keep = 4; keep <= 64; keep += 60) {
        for (size_t piece = 1; piece <= len; piece++) {
            struct recorder r;
            struct conversation_config cfg = LIVE;
            cfg.hash_bodies = true;
            cfg.exchange.body_keep = keep;
            struct conversation *c = recorded(&r, &cfg, -1);
            for (size_t off = 0; off < len; off += piece)
                conversation_feed(c, SIDE_CLIENT, (const uint8_t *)in + off,
                                  off + piece < len ? piece : len - off, 1);
            struct exchange *ex = r.ex[0];
            assert_true(ex->req.flags & MSG_HASHED);
            /* Hashed on demand from raw while the body is whole there, else stored. */
            assert_int_equal(ex->req.sha256 == NULL, keep >= 10);
            uint8_t sum[32];
            char hex[65];
            assert_true(message_sha256(&ex->req, sum));
            sha256_hex(sum, hex);
            assert_string_equal(hex, want);
            conversation_free(c);
            exchange_free(ex);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple),
        cmocka_unit_test(test_head_warnings_survive_pieces),
        cmocka_unit_test(test_bare_lf_empty_value),
        cmocka_unit_test(test_capture_unreadable_line),
        cmocka_unit_test(test_capture_garbage_line),
        cmocka_unit_test(test_live_response_without_status_line),
        cmocka_unit_test(test_head_too_large_warned_once),
        cmocka_unit_test(test_answer_to_unparsed_head_request),
        cmocka_unit_test(test_pipelined_heads_keep_only_their_bytes),
        cmocka_unit_test(test_one_side_requests_end_alone),
        cmocka_unit_test(test_pipelined_head),
        cmocka_unit_test(test_continue_and_early_hints),
        cmocka_unit_test(test_connect_tunnel),
        cmocka_unit_test(test_upgrade_with_early_data),
        cmocka_unit_test(test_connect_refused_replays_held_bytes),
        cmocka_unit_test(test_early_response_and_close),
        cmocka_unit_test(test_eof_mid_body),
        cmocka_unit_test(test_http09_and_close_delimited),
        cmocka_unit_test(test_body_on_204),
        cmocka_unit_test(test_smuggling_cl_te),
        cmocka_unit_test(test_trailer_warnings),
        cmocka_unit_test(test_trailer_cut_by_eof),
        cmocka_unit_test(test_desync_risk),
        cmocka_unit_test(test_leftover_requests_after_close),
        cmocka_unit_test(test_leftover_ends_body_then_partial_head),
        cmocka_unit_test(test_capture_gap_in_length_body),
        cmocka_unit_test(test_capture_gap_in_chunked_resyncs),
        cmocka_unit_test(test_snaplen_cut_heads),
        cmocka_unit_test(test_snaplen_lost_requests),
        cmocka_unit_test(test_capture_gaps_one_warning),
        cmocka_unit_test(test_capture_gaps_later_reason),
        cmocka_unit_test(test_nul_bytes_counted),
        cmocka_unit_test(test_live_gap_in_chunked_stays_dead),
        cmocka_unit_test(test_capture_skipped_tail),
        cmocka_unit_test(test_capture_bodiless_stray),
        cmocka_unit_test(test_midstream),
        cmocka_unit_test(test_unframeable_request_live),
        cmocka_unit_test(test_response_without_request),
        cmocka_unit_test(test_pause_at_request_head),
        cmocka_unit_test(test_leftover_ignores_pauses),
        cmocka_unit_test(test_inflight_cap_blocks_and_unblocks),
        cmocka_unit_test(test_body_hash),
        cmocka_unit_test(test_body_hash_deferred),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
