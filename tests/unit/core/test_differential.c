/*
 * Differential test against Node's original http-parser: thousands of generated valid message
 * sequences (requests and responses; Content-Length, chunked with extensions and trailers,
 * close-delimited; keep-alive and pipelining) fed whole and in random pieces to both parsers.
 * For every valid message both must frame the same: same messages, start lines, headers,
 * payload and persistence. Skipped when libhttp-parser is not installed.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HSPY_HAVE_HTTP_PARSER
#include "differential_peer.h"
#include "hspy/conversation.h"
#include "hspy/dynbuf.h"
#include "hspy/framing.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

static void rand_token(struct dynbuf *b, size_t min, size_t max)
{
    static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
    size_t n = min + rnd((uint32_t)(max - min + 1));
    for (size_t i = 0; i < n; i++)
        dynbuf_addc(b, (uint8_t)chars[rnd(sizeof chars - 1)]);
}

static void rand_value(struct dynbuf *b)
{
    static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789 ;=,/.:\"()!#$%&'*+-^_`|~";
    size_t n = 1 + rnd(40);
    for (size_t i = 0; i < n; i++) {
        char c = chars[rnd(sizeof chars - 1)];
        if ((i == 0 || i == n - 1) && c == ' ')
            c = 'x';
        dynbuf_addc(b, (uint8_t)c);
    }
}

/* Appends a body framed as chosen; returns 1 when it is close-delimited. */
static int rand_body(struct dynbuf *b, int kind, int response)
{
    size_t n = rnd(3000);
    if (kind == 0) {
        dynbuf_adds(b, "\r\n");
        return 0;
    }
    if (kind == 1) {
        dynbuf_printf(b, "Content-Length: %zu\r\n\r\n", n);
        for (size_t i = 0; i < n; i++)
            dynbuf_addc(b, (uint8_t)('a' + rnd(26)));
        return 0;
    }
    if (kind == 2) {
        dynbuf_adds(b, "Transfer-Encoding: chunked\r\n\r\n");
        while (n) {
            size_t c = 1 + rnd((uint32_t)(n < 700 ? n : 700));
            dynbuf_printf(b, rnd(2) ? "%zx" : "%zX", c);
            if (rnd(4) == 0)
                dynbuf_adds(b, ";ext=val");
            dynbuf_adds(b, "\r\n");
            for (size_t i = 0; i < c; i++)
                dynbuf_addc(b, (uint8_t)('A' + rnd(26)));
            dynbuf_adds(b, "\r\n");
            n -= c;
        }
        dynbuf_adds(b, "0\r\n");
        if (rnd(3) == 0)
            dynbuf_adds(b, "X-Trailer: done\r\n");
        dynbuf_adds(b, "\r\n");
        return 0;
    }
    /* close-delimited (responses only) */
    (void)response;
    dynbuf_adds(b, "Connection: close\r\n\r\n");
    for (size_t i = 0; i < n; i++)
        dynbuf_addc(b, (uint8_t)('0' + rnd(10)));
    return 1;
}

static void rand_message(struct dynbuf *b, int response, int last)
{
    static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"};
    static const int statuses[] = {200, 201, 204, 301, 304, 404, 500};
    int v10 = rnd(5) == 0;
    int status = 200;
    if (response) {
        status = statuses[rnd(7)];
        dynbuf_printf(b, "HTTP/1.%d %d ", v10 ? 0 : 1, status);
        rand_token(b, 1, 12);
        dynbuf_adds(b, "\r\n");
    } else {
        dynbuf_printf(b, "%s /", methods[rnd(6)]);
        rand_token(b, 0, 30);
        if (rnd(2)) {
            dynbuf_adds(b, "?q=");
            rand_token(b, 1, 10);
        }
        dynbuf_printf(b, " HTTP/1.%d\r\n", v10 ? 0 : 1);
        if (!v10)
            dynbuf_adds(b, "Host: example.test\r\n");
    }
    if (v10)
        dynbuf_adds(b, "Connection: keep-alive\r\n");
    size_t nh = rnd(12);
    for (size_t i = 0; i < nh; i++) {
        dynbuf_adds(b, "X-");
        rand_token(b, 1, 20);
        dynbuf_adds(b, rnd(4) ? ": " : ":");
        rand_value(b);
        dynbuf_adds(b, "\r\n");
    }
    int kind = rnd(3);
    if (response && (status == 204 || status == 304))
        kind = 0;
    if (response && last && rnd(6) == 0 && status != 204 && status != 304)
        kind = 3;
    if (v10 && kind == 2)
        kind = 1; /* chunked is not HTTP/1.0 */
    rand_body(b, kind, response);
}

struct hspy_side {
    struct exchange *ex[PEER_MAX_MESSAGES * 2];
    size_t n;
};

static int on_event(void *data, struct conversation *c, struct exchange *ex, enum conv_event ev,
                    enum side side, const uint8_t *p, size_t n)
{
    (void)c;
    (void)side;
    (void)p;
    (void)n;
    struct hspy_side *h = data;
    if (ev == CONV_BEGIN && h->n < PEER_MAX_MESSAGES * 2)
        h->ex[h->n++] = ex;
    return CONV_CONTINUE;
}

static void hspy_parse(const uint8_t *data, size_t len, int response, size_t piece,
                       struct hspy_side *out)
{
    static const struct http_limits lim = HTTP_LIMITS_DEFAULT;
    struct conversation_config cfg = {.limits = lim, .exchange = {65536, 1 << 20}, .conn_id = 1};
    struct conversation_events ev = {out, on_event};
    out->n = 0;
    struct conversation *c = conversation_new(&cfg, &ev);
    enum side s = response ? SIDE_SERVER : SIDE_CLIENT;
    for (size_t off = 0; off < len;) {
        size_t n = piece && len - off > piece ? piece : len - off;
        assert_int_equal(conversation_feed(c, s, data + off, n, 1), n);
        off += n;
    }
    conversation_close(c, s, 2);
    conversation_free(c);
}

static int span_is(const struct message *m, struct http_span s, const char *text, size_t n)
{
    return s.len == n && memcmp(message_at(m, s), text, n) == 0;
}

static void compare(const struct peer_result *ref, const struct hspy_side *got, int response,
                    const char *input, int round)
{
    if (got->n != ref->n)
        fail_msg("round %d: %zu messages, reference %zu\n%s", round, got->n, ref->n, input);
    for (size_t i = 0; i < ref->n; i++) {
        const struct peer_message *pm = &ref->m[i];
        const struct exchange *ex = got->ex[i];
        const struct message *m = response ? &ex->resp : &ex->req;
        assert_true(m->flags & MSG_HEAD);
        if (response) {
            if (m->head.status != pm->status)
                fail_msg("round %d msg %zu: status %u vs %d", round, i, m->head.status, pm->status);
        } else {
            const char *meth = peer_method_name(pm->method);
            if (!span_is(m, m->head.method, meth, strlen(meth)) ||
                !span_is(m, m->head.target, pm->url, pm->url_len))
                fail_msg("round %d msg %zu: start line differs", round, i);
        }
        if (m->head.nheaders != pm->nheaders)
            fail_msg("round %d msg %zu: %u headers vs %zu\n%s", round, i, m->head.nheaders,
                     pm->nheaders, input);
        for (size_t k = 0; k < pm->nheaders; k++) {
            const struct http_header *h = &m->head.headers[k];
            const struct peer_header *ph = &pm->headers[k];
            if (!span_is(m, h->name, ph->name, ph->name_len) ||
                !span_is(m, h->value, ph->value, ph->value_len))
                fail_msg("round %d msg %zu: header %zu differs", round, i, k);
        }
        struct dynbuf body;
        dynbuf_init(&body, 1 << 20);
        static const struct http_limits lim = HTTP_LIMITS_DEFAULT;
        message_body(m, &body, &lim);
        if (body.len != pm->body_len || (body.len && memcmp(body.data, pm->body, body.len)))
            fail_msg("round %d msg %zu: body %zu bytes vs %zu", round, i, body.len, pm->body_len);
        dynbuf_cleanup(&body);
        if (!(m->flags & MSG_COMPLETE) != !pm->complete)
            fail_msg("round %d msg %zu: complete %d vs %d", round, i, !!(m->flags & MSG_COMPLETE),
                     pm->complete);
        struct framing f;
        if (response)
            framing_response(message_head_base(m), &m->head, NULL, &f, NULL);
        else
            framing_request(message_head_base(m), &m->head, &f, NULL);
        if (f.keep_alive != (pm->keep_alive != 0))
            fail_msg("round %d msg %zu: keep-alive %d vs %d", round, i, f.keep_alive,
                     pm->keep_alive);
    }
}

static void test_generated(void **state)
{
    (void)state;
    static struct peer_result ref;
    unsigned rounds = 3000;
    for (unsigned r = 0; r < rounds; r++) {
        int response = r & 1;
        struct dynbuf in;
        dynbuf_init(&in, 1 << 20);
        size_t nm = 1 + rnd(5);
        for (size_t i = 0; i < nm; i++)
            rand_message(&in, response, i == nm - 1);
        /* A close-delimited response ends the input. */
        size_t piece = rnd(3) == 0 ? 0 : 1 + rnd(64);
        if (peer_parse((const char *)in.data, in.len, response, piece, 1, &ref) != 0)
            fail_msg("round %u: the reference rejects the generated input:\n%s", r,
                     dynbuf_str(&in));
        struct hspy_side got;
        hspy_parse(in.data, in.len, response, piece, &got);
        compare(&ref, &got, response, dynbuf_str(&in), (int)r);
        for (size_t i = 0; i < got.n; i++)
            exchange_free(got.ex[i]);
        dynbuf_cleanup(&in);
    }
    printf("differential: %u generated inputs framed the same by both parsers\n", rounds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_generated)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
#else
int main(void)
{
    printf("SKIP: libhttp-parser-dev is not installed; differential test not run\n");
    return 77;
}
#endif
