/*
 * Output benchmark: how fast the text that reaches terminals and files is produced.
 *   termsafe over clean ASCII, HTTP heads and random binary, against memcpy (the ceiling);
 *   the access-log line, the JSON line and the HAR entry per exchange.
 * Build and run with tests/bench/output.sh (uses an existing build folder). Prints MB/s,
 * exchanges/s and ratios measured in the same run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hspy/framing.h"
#include "hspy/har.h"
#include "hspy/jsonout.h"
#include "hspy/termsafe.h"
#include "hspy/textlog.h"

static const struct http_limits LIMITS = HTTP_LIMITS_DEFAULT;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: fair on a busy machine */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void parse(struct exchange *ex, struct message *m, enum http_kind kind, const char *text)
{
    size_t n = strlen(text);
    dynbuf_append(&m->raw, text, n);
    m->wire_bytes = n;
    m->flags |= MSG_STARTED | MSG_HEAD | MSG_COMPLETE;
    m->head.headers = arena_alloc(&ex->arena, 64 * sizeof *m->head.headers);
    m->head.cap = 64;
    int r = http_head_parse(m->raw.data, n, kind, &LIMITS, NULL, &m->head, NULL);
    m->body_off = (uint64_t)r;
    m->body_kind = n > (size_t)r ? BODY_LENGTH : BODY_NONE;
    m->content_length = m->body_wire = m->body_size = n - (size_t)r;
}

static struct exchange *sample(void)
{
    struct exchange_limits exl = {65536, 1 << 20};
    struct exchange *ex = exchange_new(&exl);
    parse(ex, &ex->req, HTTP_REQUEST,
          "GET /api/v1/items?page=2&sort=name HTTP/1.1\r\nHost: api.example.com\r\n"
          "User-Agent: curl/7.88.1\r\nAccept: application/json\r\n"
          "Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123456789\r\n\r\n");
    parse(ex, &ex->resp, HTTP_RESPONSE,
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 61\r\n"
          "Date: Tue, 14 Nov 2023 22:13:20 GMT\r\nServer: nginx\r\n\r\n"
          "{\"items\":[{\"id\":1,\"name\":\"a\"},{\"id\":2,\"name\":\"b\"}],\"n\":2}\n");
    endpoint_set(&ex->client, "127.0.0.1", 50123);
    endpoint_set(&ex->server, "127.0.0.1", 8080);
    ex->conn_id = 1, ex->conn_seq = 1, ex->id = 1, ex->flags = EX_DONE;
    for (int i = 0; i < T__COUNT; i++)
        ex->t[i] = 1700000000000000000 + i * 100000;
    return ex;
}

static double bytes_rate(const uint8_t *in, size_t n, int copy)
{
    struct dynbuf out;
    dynbuf_init(&out, 8 * n);
    double t0 = now();
    int rounds = 0;
    do {
        dynbuf_reset(&out);
        if (copy)
            dynbuf_append(&out, in, n);
        else
            termsafe_append(&out, in, n, TERMSAFE_SYMBOLS);
        rounds++;
    } while (now() - t0 < 0.5);
    double mbs = (double)n * rounds / (now() - t0) / 1e6;
    dynbuf_cleanup(&out);
    return mbs;
}

static void bench_termsafe(void)
{
    size_t n = 1 << 20;
    uint8_t *ascii = malloc(n), *heads = malloc(n), *binary = malloc(n);
    const char *head = "Content-Type: application/json; charset=utf-8\r\n";
    uint64_t seed = 1;
    for (size_t i = 0; i < n; i++) {
        ascii[i] = (uint8_t)(' ' + i % 95);
        heads[i] = (uint8_t)head[i % strlen(head)];
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        binary[i] = (uint8_t)(seed >> 56);
    }
    double ceiling = bytes_rate(ascii, n, 1);
    double a = bytes_rate(ascii, n, 0), h = bytes_rate(heads, n, 0), b = bytes_rate(binary, n, 0);
    printf("memcpy into a dynbuf (ceiling)  %8.0f MB/s\n", ceiling);
    printf("termsafe clean ASCII            %8.0f MB/s  (%.2f of the ceiling)\n", a, a / ceiling);
    printf("termsafe HTTP head lines        %8.0f MB/s\n", h);
    printf("termsafe random binary          %8.0f MB/s\n", b);
    free(ascii);
    free(heads);
    free(binary);
}

enum kind { LINE, JSON, HAR };

static void bench_records(const struct exchange *ex, enum kind k, const char *name)
{
    struct dynbuf out;
    dynbuf_init(&out, 1 << 26);
    /* The clock a printer keeps between records. */
    struct jsonout_clock clock;
    jsonout_clock_init(&clock);
    struct jsonout_config jc = {&LIMITS, 1 << 20, SIZE_MAX, &clock};
    struct har_config hc = {&LIMITS, 1 << 20, NULL};
    double t0 = now();
    long count = 0;
    size_t bytes = 0;
    do {
        for (int i = 0; i < 1000; i++) {
            if (k == LINE)
                textlog_line(&out, ex, &clock);
            else if (k == JSON)
                jsonout_line(&out, ex, &jc);
            else
                har_stream_entry(&out, ex, &hc, false);
            bytes += out.len;
            dynbuf_reset(&out);
        }
        count += 1000;
    } while (now() - t0 < 1.0);
    double dt = now() - t0;
    printf("%-31s %8.0f exchanges/s  (%.0f bytes each)\n", name, count / dt,
           (double)bytes / (double)count);
    dynbuf_cleanup(&out);
}

int main(void)
{
    bench_termsafe();
    struct exchange *ex = sample();
    bench_records(ex, LINE, "access-log line");
    bench_records(ex, JSON, "JSON line (--json)");
    bench_records(ex, HAR, "HAR entry (--har)");
    exchange_free(ex);
    return 0;
}
