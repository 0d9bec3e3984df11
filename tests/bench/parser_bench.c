/*
 * parser_bench: hspy's head parser against Node's original http-parser (Debian's
 * libhttp-parser), measured in the same run on the same messages: a typical ~700-byte browser
 * GET with about ten headers, a 40-byte GET and a ~200-byte response. Both parsers produce
 * what a server needs (start line, every header as name/value, body framing); each is run on
 * the whole buffer and in 16-byte pieces. Prints ns per message and the ratios.
 *
 * The four measurements of a message take turns in short rounds (SECONDS / 25 each, 25 times)
 * and each keeps its fastest round: on a small shared machine a measurement made in one go
 * sometimes lands on a busy moment (another process, a change of clock speed) and only that
 * figure moves, which moved the ratios by 10-20% from run to run. Interleaved, every
 * implementation sees the same moments, and the fastest round is the figure that repeats.
 *
 * Usage: parser_bench [SECONDS]   time each measurement for SECONDS (default 0.5)
 *        parser_bench -n N        run each measurement exactly N times (for callgrind, whose
 *                                 instruction counts do not depend on machine load)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>

#include "hspy/framing.h"
#include "hspy/http.h"

static const char BROWSER_GET[] =
    "GET /wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg HTTP/1.1\r\n"
    "Host: www.kittyhell.com\r\n"
    "User-Agent: Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10.6; ja-JP-mac; rv:1.9.2.3) "
    "Gecko/20100401 Firefox/3.6.3 Pathtraq/0.9\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    "Accept-Language: ja,en-us;q=0.7,en;q=0.3\r\n"
    "Accept-Encoding: gzip,deflate\r\n"
    "Accept-Charset: Shift_JIS,utf-8;q=0.7,*;q=0.7\r\n"
    "Keep-Alive: 115\r\n"
    "Connection: keep-alive\r\n"
    "Cookie: wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx; "
    "__utma=xxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.x; "
    "__utmz=xxxxxxxxx.xxxxxxxxxx.x.x.utmccn=(referral)|utmcsr=reader.livedoor.com|utmcct=/reader/|"
    "utmcmd=referral\r\n"
    "\r\n";

static const char SHORT_GET[] = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";

static const char RESPONSE[] = "HTTP/1.1 200 OK\r\n"
                               "Date: Wed, 25 Nov 2026 10:00:00 GMT\r\n"
                               "Server: nginx/1.22.1\r\n"
                               "Content-Type: application/json; charset=utf-8\r\n"
                               "Content-Length: 0\r\n"
                               "Cache-Control: max-age=60\r\n"
                               "Connection: keep-alive\r\n"
                               "\r\n";

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Keeps results alive so the compiler cannot drop the work. */
static volatile size_t sink;

/* --- hspy --- */

static size_t hspy_whole(const char *msg, size_t len, enum http_kind kind)
{
    /* As a caller sets them up: the parser resets everything in h but headers and cap. */
    struct http_header hd[64];
    struct http_head h;
    h.headers = hd;
    h.cap = 64;
    struct http_warnings w;
    w.n = w.dropped = 0;
    int rc = http_head_parse((const uint8_t *)msg, len, kind, NULL, NULL, &h, &w);
    struct framing f;
    if (kind == HTTP_REQUEST)
        framing_request((const uint8_t *)msg, &h, &f, &w);
    else
        framing_response((const uint8_t *)msg, &h, NULL, &f, &w);
    return (size_t)rc + h.nheaders + f.kind;
}

static size_t hspy_pieces(const char *msg, size_t len, enum http_kind kind, size_t piece)
{
    /* What a server does when reads of `piece` bytes land one after the other in its buffer:
     * ask again after each read. */
    /* As a caller sets them up: the parser resets everything in h but headers and cap. */
    struct http_header hd[64];
    struct http_head h;
    h.headers = hd;
    h.cap = 64;
    struct http_warnings w;
    w.n = w.dropped = 0;
    struct http_scan scan = {0};
    int rc = HTTP_NEED_MORE;
    const uint8_t *buf = (const uint8_t *)msg;
    /* Whole pieces, then the rest: the head ends at the end of each message. */
    for (size_t have = piece; have < len; have += piece) {
        rc = http_head_parse(buf, have, kind, NULL, &scan, &h, &w);
        if (rc != HTTP_NEED_MORE)
            break;
    }
    if (rc == HTTP_NEED_MORE)
        rc = http_head_parse(buf, len, kind, NULL, &scan, &h, &w);
    struct framing f;
    if (kind == HTTP_REQUEST)
        framing_request(buf, &h, &f, &w);
    else
        framing_response(buf, &h, NULL, &f, &w);
    return (size_t)rc + h.nheaders + f.kind;
}

/* http-parser runs in parser_bench_peer.c: its header clashes with hspy's names. */
size_t peer_run(const char *msg, size_t len, int response, size_t piece);

/* --- measurement --- */

enum impl { HSPY_WHOLE, HSPY_16, HP_WHOLE, HP_16 };

/* Rounds per measurement: the four implementations take turns, ROUNDS times. */
enum { ROUNDS = 25 };

static size_t fixed_iters; /* -n N: exact iteration count instead of a time budget */
static int only = -1;      /* -n N IMPL: run only one implementation (0..3) */
static int only_case = -1; /* -n N IMPL CASE: and only one message (0..2) */

static double measure(enum impl which, const char *msg, size_t len, int response, double secs)
{
    enum http_kind kind = response ? HTTP_RESPONSE : HTTP_REQUEST;
    size_t iters = 0, batch = fixed_iters && fixed_iters < 1000 ? fixed_iters : 1000;
    if (only >= 0 && (int)which != only)
        return 1;
    double start = now(), t;
    do {
        for (size_t i = 0; i < batch; i++) {
            switch (which) {
            case HSPY_WHOLE: sink += hspy_whole(msg, len, kind); break;
            case HSPY_16: sink += hspy_pieces(msg, len, kind, 16); break;
            case HP_WHOLE: sink += peer_run(msg, len, response, 0); break;
            case HP_16: sink += peer_run(msg, len, response, 16); break;
            }
        }
        iters += batch;
        t = now() - start;
    } while (fixed_iters ? iters < fixed_iters : t < secs);
    return t * 1e9 / (double)iters;
}

int main(int argc, char **argv)
{
    double secs = 0.5;
    if (argc > 2 && strcmp(argv[1], "-n") == 0) {
        fixed_iters = (size_t)atol(argv[2]);
        if (argc > 3)
            only = atoi(argv[3]);
        if (argc > 4)
            only_case = atoi(argv[4]);
    } else if (argc > 1)
        secs = atof(argv[1]);
    static const struct {
        const char *name;
        const char *msg;
        int response;
    } cases[] = {
        {"browser GET", BROWSER_GET, 0},
        {"short GET", SHORT_GET, 0},
        {"response", RESPONSE, 1},
    };
    /* Both parsers must accept the messages before anything is timed. */
    for (size_t i = 0; i < 3; i++) {
        size_t len = strlen(cases[i].msg);
        if (hspy_whole(cases[i].msg, len, cases[i].response ? HTTP_RESPONSE : HTTP_REQUEST) < len) {
            fprintf(stderr, "hspy failed on %s\n", cases[i].name);
            return 1;
        }
        peer_run(cases[i].msg, len, cases[i].response, 0);
    }
    printf("%-12s %6s %12s %12s %12s %12s %9s %9s\n", "message", "bytes", "hspy ns", "hspy16 ns",
           "hparser ns", "hparser16 ns", "speedup", "16/whole");
    for (size_t i = 0; i < 3; i++) {
        if (only_case >= 0 && (int)i != only_case)
            continue;
        size_t len = strlen(cases[i].msg);
        /* Interleaved rounds, each figure the fastest of its rounds (see the header). */
        double best[4];
        for (int which = 0; which < 4; which++)
            best[which] = HUGE_VAL;
        int rounds = fixed_iters ? 1 : ROUNDS;
        for (int r = 0; r < rounds; r++) {
            for (int which = 0; which < 4; which++) {
                double t =
                    measure((enum impl)which, cases[i].msg, len, cases[i].response, secs / rounds);
                if (t < best[which])
                    best[which] = t;
            }
        }
        double hw = best[HSPY_WHOLE], h16 = best[HSPY_16], pw = best[HP_WHOLE], p16 = best[HP_16];
        printf("%-12s %6zu %12.1f %12.1f %12.1f %12.1f %8.1fx %8.2fx\n", cases[i].name, len, hw,
               h16, pw, p16, pw / hw, h16 / hw);
    }
    return 0;
}
