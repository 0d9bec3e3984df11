/*
 * response owns the formatting of response heads hspy writes and the Content-Length surgery on
 * raw responses. It never decides what to answer (listen does) and never sends anything.
 */
#include "hspy/response.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "hspy/http.h"

struct reason_row {
    uint16_t status;
    const char *reason;
};

static const struct reason_row REASONS[] = {
    {100, "Continue"},
    {101, "Switching Protocols"},
    {102, "Processing"},
    {103, "Early Hints"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {203, "Non-Authoritative Information"},
    {204, "No Content"},
    {205, "Reset Content"},
    {206, "Partial Content"},
    {300, "Multiple Choices"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {303, "See Other"},
    {304, "Not Modified"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {402, "Payment Required"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {407, "Proxy Authentication Required"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Range Not Satisfiable"},
    {417, "Expectation Failed"},
    {418, "I'm a teapot"},
    {421, "Misdirected Request"},
    {422, "Unprocessable Content"},
    {425, "Too Early"},
    {426, "Upgrade Required"},
    {428, "Precondition Required"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {451, "Unavailable For Legal Reasons"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
};

const char *response_reason(int status)
{
    /* The table is sorted by status: a binary search (every response hspy writes asks). */
    size_t lo = 0, hi = sizeof REASONS / sizeof REASONS[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (REASONS[mid].status == status)
            return REASONS[mid].reason;
        if (REASONS[mid].status < status)
            lo = mid + 1;
        else
            hi = mid;
    }
    return "Unknown";
}

bool response_header_is(const char *line, const char *name)
{
    size_t n = strlen(name);
    if (strncasecmp(line, name, n) != 0)
        return false;
    const char *p = line + n;
    while (*p == ' ' || *p == '\t')
        p++;
    return *p == ':';
}

enum user_header {
    USER_DATE = 1 << 0,
    USER_FRAMING = 1 << 1, /* Content-Length or Transfer-Encoding */
    USER_CONNECTION = 1 << 2,
};

/* Which of the headers hspy would add the user's headers already have (one pass). */
static unsigned user_headers(const struct response_spec *s)
{
    unsigned have = 0;
    for (size_t i = 0; i < s->nheaders; i++) {
        const char *h = s->headers[i];
        switch (h[0] | 0x20) {
        case 'd': have |= response_header_is(h, "date") ? USER_DATE : 0; break;
        case 'c':
            if (response_header_is(h, "content-length"))
                have |= USER_FRAMING;
            else if (response_header_is(h, "connection"))
                have |= USER_CONNECTION;
            break;
        case 't': have |= response_header_is(h, "transfer-encoding") ? USER_FRAMING : 0; break;
        default: break;
        }
    }
    return have;
}

static void put(struct dynbuf *out, const char *s)
{
    dynbuf_append(out, s, strlen(s));
}

void response_head(struct dynbuf *out, const struct response_spec *s)
{
    char status[4] = {(char)('0' + s->status / 100 % 10), (char)('0' + s->status / 10 % 10),
                      (char)('0' + s->status % 10), ' '};
    dynbuf_append(out, "HTTP/1.1 ", 9);
    dynbuf_append(out, status, 4);
    put(out, s->reason ? s->reason : response_reason(s->status));
    dynbuf_append(out, "\r\n", 2);
    unsigned have = user_headers(s);
    if (s->date && !(have & USER_DATE)) {
        dynbuf_append(out, "Date: ", 6);
        put(out, s->date);
        dynbuf_append(out, "\r\n", 2);
    }
    for (size_t i = 0; i < s->nheaders; i++) {
        put(out, s->headers[i]);
        dynbuf_append(out, "\r\n", 2);
    }
    if (!(have & USER_FRAMING)) {
        if (s->framing == RESPONSE_LENGTH || (s->framing == RESPONSE_NO_BODY && s->has_length)) {
            dynbuf_append(out, "Content-Length: ", 16);
            dynbuf_add_u64(out, s->length);
            dynbuf_append(out, "\r\n", 2);
        } else if (s->framing == RESPONSE_CHUNKED) {
            put(out, "Transfer-Encoding: chunked\r\n");
        }
    }
    if (!(have & USER_CONNECTION)) {
        if (s->close)
            put(out, "Connection: close\r\n");
        else if (s->keep_alive)
            put(out, "Connection: keep-alive\r\n");
    }
    dynbuf_append(out, "\r\n", 2);
}

/* The reason of an error response fits in its body; a longer one is cut there. */
enum { ERROR_BODY_MAX = 640, ERROR_HEADERS_MAX = 8 };

void response_error(struct dynbuf *out, const struct response_error *e)
{
    char body[ERROR_BODY_MAX];
    int n = snprintf(body, sizeof body, "%u %s: %s\n", e->status, response_reason(e->status),
                     e->why ? e->why : "");
    size_t len = n < 0 ? 0 : (size_t)n < sizeof body ? (size_t)n : sizeof body - 1;
    const char *headers[1 + ERROR_HEADERS_MAX] = {"Content-Type: text/plain; charset=utf-8"};
    size_t nheaders = 1;
    for (size_t i = 0; i < e->nheaders && nheaders < sizeof headers / sizeof headers[0]; i++)
        headers[nheaders++] = e->headers[i];
    struct response_spec spec = {
        .status = e->status,
        .headers = headers,
        .nheaders = nheaders,
        .date = e->date,
        .framing = e->head_request ? RESPONSE_NO_BODY : RESPONSE_LENGTH,
        .length = len,
        .has_length = true,
        .close = true,
    };
    response_head(out, &spec);
    if (!e->head_request)
        dynbuf_append(out, body, len);
}

void response_refusal(struct dynbuf *out, const uint8_t *sent, size_t n)
{
    struct response_error e = {
        .status = 503,
        .why = "too many connections (--max-conns)",
        .head_request = http_request_line_is_head(sent, n),
    };
    response_error(out, &e);
}

/* Parses the head at raw (one message); returns its length or -1. */
static long one_head(const uint8_t *raw, size_t n, struct http_head *h, struct http_header *hdrs,
                     uint32_t cap)
{
    struct http_limits lim = HTTP_LIMITS_DEFAULT;
    lim.head_max = n > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)n + 1;
    lim.headers_max = cap;
    h->headers = hdrs;
    h->cap = cap;
    int r = http_head_parse(raw, n, HTTP_RESPONSE, &lim, NULL, h, NULL);
    return r > 0 ? r : -1;
}

enum { RAW_HEADERS_MAX = 512 };

/* Offset of the final head and its length, skipping interim responses. */
static long final_head(const uint8_t *raw, size_t n, size_t *off, struct http_head *h,
                       struct http_header *hdrs)
{
    size_t pos = 0;
    for (;;) {
        long len = one_head(raw + pos, n - pos, h, hdrs, RAW_HEADERS_MAX);
        if (len < 0)
            return -1;
        if (h->status < 100 || h->status >= 200 || h->status == 101) {
            *off = pos;
            return len;
        }
        pos += (size_t)len;
    }
}

long response_head_len(const uint8_t *raw, size_t n)
{
    struct http_head h;
    struct http_header hdrs[RAW_HEADERS_MAX];
    size_t off;
    long len = final_head(raw, n, &off, &h, hdrs);
    return len < 0 ? -1 : (long)off + len;
}

int response_set_length(const uint8_t *raw, size_t n, uint64_t value, struct dynbuf *out)
{
    struct http_head h;
    struct http_header hdrs[RAW_HEADERS_MAX];
    size_t off;
    long len = final_head(raw, n, &off, &h, hdrs);
    if (len < 0)
        return -1;
    const uint8_t *base = raw + off;
    /* The empty line ends the head: CRLF or a bare LF as the file has it. */
    size_t end = (size_t)len;
    size_t blank = end >= 2 && base[end - 2] == '\r' ? end - 2 : end - 1;
    const char *eol = blank + 2 == end ? "\r\n" : "\n";
    size_t pos = 0;
    dynbuf_append(out, raw, off);
    for (uint32_t i = 0; i < h.nheaders; i++) {
        if (h.headers[i].field != HF_CONTENT_LENGTH)
            continue;
        /* Drop the whole field line, through its line end. */
        size_t line = h.headers[i].line;
        const uint8_t *lf = memchr(base + line, '\n', blank - line);
        size_t after = lf ? (size_t)(lf - base) + 1 : blank;
        dynbuf_append(out, base + pos, line - pos);
        pos = after;
    }
    dynbuf_append(out, base + pos, blank - pos);
    dynbuf_append(out, "Content-Length: ", 16);
    dynbuf_add_u64(out, value);
    put(out, eol);
    dynbuf_append(out, base + blank, n - off - blank);
    return 0;
}
