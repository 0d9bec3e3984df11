/*
 * framing owns the message-length rules of RFC 9112 section 6 and the connection persistence
 * rules of section 9.3. Input is a parsed head; output is a decision plus warnings. No I/O, no
 * allocation.
 */
#include "hspy/framing.h"

#include <stdint.h>
#include <string.h>

static const char *const BODY_KIND_NAMES[] = {"none",  "length", "chunked",
                                              "close", "tunnel", "unknown"};

const char *body_kind_name(enum body_kind k)
{
    return (unsigned)k < sizeof BODY_KIND_NAMES / sizeof BODY_KIND_NAMES[0] ? BODY_KIND_NAMES[k]
                                                                            : "?";
}

static bool ieq_lit(const uint8_t *p, size_t n, const char *lit)
{
    return http_token_ieq(p, n, lit, strlen(lit));
}

static void add(struct http_warnings *w, enum warning_code code, const struct http_header *hd)
{
    http_warnings_add(w, code, hd ? hd->line : 0, hd ? hd->value : (struct http_span){0, 0}, 0);
}

/* One element of a Content-Length value: 1*DIGIT. */
static enum warning_code parse_digits(const uint8_t *p, size_t n, uint64_t *out)
{
    if (n == 0)
        return W_CL_INVALID;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return W_CL_INVALID;
        if (v > (uint64_t)(INT64_MAX - 9) / 10)
            return W_CL_OVERFLOW;
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    *out = v;
    return W_NONE;
}

enum warning_code framing_parse_length(const uint8_t *v, size_t n, uint64_t *out)
{
    if (!memchr(v, ',', n))
        return parse_digits(v, n, out);
    /* A list is acceptable only when every member is the same number (RFC 9110 8.6). */
    bool have = false, conflict = false;
    uint64_t first = 0;
    const uint8_t *p = v, *end = v + n;
    while (p <= end) {
        const uint8_t *e = memchr(p, ',', (size_t)(end - p));
        if (!e)
            e = end;
        const uint8_t *s = p, *t = e;
        while (s < t && (*s == ' ' || *s == '\t'))
            s++;
        while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        uint64_t x;
        enum warning_code c = parse_digits(s, (size_t)(t - s), &x);
        if (c != W_NONE)
            return c;
        if (have && x != first)
            conflict = true;
        if (!have) {
            first = x;
            have = true;
        }
        p = e + 1;
    }
    if (conflict)
        return W_CL_CONFLICT;
    *out = first;
    return W_CL_LIST;
}

/*
 * Reads every Content-Length header. Returns 1 with *len set when the length is known
 * (possibly after warnings), 0 when there is none, -1 when it cannot be used.
 */
static int content_length(const uint8_t *buf, const struct http_head *h, uint64_t *len,
                          struct http_warnings *w)
{
    if (h->field_index[HF_CONTENT_LENGTH] < 0)
        return 0;
    int seen = 0;
    bool bad = false;
    uint64_t value = 0;
    for (uint32_t i = 0; i < h->nheaders; i++) {
        const struct http_header *hd = &h->headers[i];
        if (hd->field != HF_CONTENT_LENGTH)
            continue;
        uint64_t v = 0;
        enum warning_code c = framing_parse_length(buf + hd->value.off, hd->value.len, &v);
        if (c != W_NONE)
            add(w, c, hd);
        if (c != W_NONE && c != W_CL_LIST) {
            bad = true;
            continue;
        }
        if (seen && v != value) {
            add(w, W_CL_CONFLICT, hd);
            bad = true;
        } else if (seen) {
            add(w, W_CL_DUPLICATE, hd);
        }
        value = v;
        seen++;
    }
    if (bad)
        return -1;
    if (!seen)
        return 0;
    *len = value;
    return 1;
}

static bool tchar_or_param(uint8_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return strchr("!#$%&'*+-.^_`|~;= \t\"", c) != NULL && c != '\0';
}

enum coding_result { TE_ABSENT, TE_CHUNKED_LAST, TE_OTHER_LAST };

/* Reads every Transfer-Encoding header as one list of codings. */
static enum coding_result codings_listed(const uint8_t *buf, const struct http_head *h,
                                         struct http_warnings *w);

/* Inline: most messages have no Transfer-Encoding, and pay one test for it. */
static inline enum coding_result transfer_codings(const uint8_t *buf, const struct http_head *h,
                                                  struct http_warnings *w)
{
    if (h->field_index[HF_TRANSFER_ENCODING] < 0)
        return TE_ABSENT;
    return codings_listed(buf, h, w);
}

/* The Transfer-Encoding fields of h (there is at least one), judged. */
static enum coding_result codings_listed(const uint8_t *buf, const struct http_head *h,
                                         struct http_warnings *w)
{
    int chunked = 0, codings = 0;
    bool last_chunked = false;
    const struct http_header *first = NULL;
    for (uint32_t i = (uint32_t)h->field_index[HF_TRANSFER_ENCODING]; i < h->nheaders; i++) {
        const struct http_header *hd = &h->headers[i];
        if (hd->field != HF_TRANSFER_ENCODING)
            continue;
        first = first ? first : hd;
        if (hd->flags & (HDR_FOLDED | HDR_BAD_VALUE | HDR_WS_BEFORE_COLON))
            add(w, W_TE_OBFUSCATED, hd);
        const uint8_t *p = buf + hd->value.off, *end = p + hd->value.len;
        bool odd = false;
        while (p < end) {
            const uint8_t *e = memchr(p, ',', (size_t)(end - p));
            if (!e)
                e = end;
            const uint8_t *s = p, *t = e;
            while (s < t && (*s == ' ' || *s == '\t'))
                s++;
            size_t span_len = t > s ? (size_t)(t - s) : 0;
            const uint8_t *semi = span_len ? memchr(s, ';', span_len) : NULL;
            for (const uint8_t *q = semi ? semi : t; q < t; q++)
                odd |= !tchar_or_param(*q);
            if (semi)
                t = semi;
            while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
                t--;
            for (const uint8_t *q = s; q < t; q++)
                odd |= !tchar_or_param(*q) || *q == '"' || *q == ' ' || *q == '\t' || *q == '=';
            if (t > s) {
                codings++;
                size_t n = (size_t)(t - s);
                if (ieq_lit(s, n, "chunked")) {
                    chunked++;
                    last_chunked = true;
                    /* Case-insensitive by RFC 9112 7, but a reader that compares bytes misses
                     * any other spelling: still chunked, and reported. */
                    odd |= memcmp(s, "chunked", n) != 0;
                } else {
                    last_chunked = false;
                    if (!ieq_lit(s, n, "gzip") && !ieq_lit(s, n, "deflate") &&
                        !ieq_lit(s, n, "compress") && !ieq_lit(s, n, "x-gzip") &&
                        !ieq_lit(s, n, "x-compress"))
                        http_warnings_add(w, W_TE_UNKNOWN, hd->line,
                                          (struct http_span){(uint32_t)(s - buf), (uint32_t)n}, 0);
                }
            }
            p = e + 1;
        }
        if (odd)
            add(w, W_TE_OBFUSCATED, hd);
    }
    if (!first)
        return TE_ABSENT;
    if (codings == 0) {
        add(w, W_TE_OBFUSCATED, first);
        return TE_ABSENT;
    }
    if (chunked > 1)
        add(w, W_TE_CHUNKED_TWICE, first);
    if (h->major == 1 && h->minor == 0)
        add(w, W_TE_HTTP10, first);
    if (!last_chunked)
        add(w, W_TE_NOT_CHUNKED_LAST, first);
    return last_chunked ? TE_CHUNKED_LAST : TE_OTHER_LAST;
}

static bool is_http11(const struct http_head *h)
{
    return h->major > 1 || (h->major == 1 && h->minor >= 1);
}

static bool persistent(const uint8_t *buf, const struct http_head *h)
{
    int32_t c = h->field_index[HF_CONNECTION];
    if (c < 0)
        return is_http11(h);
    if ((uint32_t)c + 1 == h->nheaders || h->headers[c + 1].field != HF_CONNECTION) {
        /* One Connection field with a single common token: no list to walk. */
        const uint8_t *v = buf + h->headers[c].value.off;
        size_t n = h->headers[c].value.len;
        if (ieq_lit(v, n, "keep-alive"))
            return true;
        if (ieq_lit(v, n, "close"))
            return false;
    }
    if (http_head_has_token(buf, h, HF_CONNECTION, "close"))
        return false;
    if (is_http11(h))
        return true;
    return http_head_has_token(buf, h, HF_CONNECTION, "keep-alive");
}

static const struct http_header *first_of(const struct http_head *h, enum http_field f)
{
    int32_t i = h->field_index[f];
    return i >= 0 ? &h->headers[i] : NULL;
}

void framing_request(const uint8_t *buf, const struct http_head *req, struct framing *f,
                     struct http_warnings *w)
{
    memset(f, 0, sizeof *f);
    if (req->flags & HEAD_HTTP09)
        return;
    f->keep_alive = persistent(buf, req);
    size_t n;
    const uint8_t *e = http_head_field(buf, req, HF_EXPECT, &n);
    f->expect_continue = e && ieq_lit(e, n, "100-continue");
    f->upgrade =
        first_of(req, HF_UPGRADE) && http_head_has_token(buf, req, HF_CONNECTION, "upgrade");
    /* A CONNECT request has no content (RFC 9110 9.3.6): what follows its head belongs to the
     * tunnel, whatever Content-Length says. */
    if (http_span_eq(buf, req->method, "CONNECT"))
        return;
    enum coding_result te = transfer_codings(buf, req, w);
    bool has_cl = first_of(req, HF_CONTENT_LENGTH) != NULL;
    if (te != TE_ABSENT) {
        if (has_cl)
            add(w, W_CL_AND_TE, first_of(req, HF_CONTENT_LENGTH));
        if (has_cl || !is_http11(req))
            f->keep_alive = false; /* RFC 9112 6.1: close after a message framed this way */
        if (te == TE_CHUNKED_LAST) {
            f->kind = BODY_CHUNKED;
        } else {
            f->cannot_frame = true;
            f->keep_alive = false;
        }
        return;
    }
    uint64_t len;
    int cl = content_length(buf, req, &len, w);
    if (cl < 0) {
        f->cannot_frame = true;
        f->keep_alive = false;
    } else if (cl > 0 && len > 0) {
        f->kind = BODY_LENGTH;
        f->length = len;
    }
}

void framing_request_facts_from(const uint8_t *buf, const struct http_head *req,
                                const struct framing *framing, struct framing_request *facts)
{
    memset(facts, 0, sizeof *facts);
    facts->present = true;
    facts->http09 = (req->flags & HEAD_HTTP09) != 0;
    facts->head = http_span_eq(buf, req->method, "HEAD");
    facts->connect = http_span_eq(buf, req->method, "CONNECT");
    facts->upgrade = framing->upgrade;
    /* The request's framing says whether its connection persists: not after HTTP/0.9, a close
     * asked for, or a length framing another reader may take differently (Content-Length next
     * to Transfer-Encoding, Transfer-Encoding in HTTP/1.0) or that cannot be known (RFC 9112
     * 6.1, 6.3). Whoever read such a body otherwise is out of step with us after it, so no
     * response to it may leave the connection open for another request. */
    facts->close = !framing->keep_alive;
}

void framing_request_facts(const uint8_t *buf, const struct http_head *req,
                           struct framing_request *facts)
{
    struct framing f;
    framing_request(buf, req, &f, NULL);
    framing_request_facts_from(buf, req, &f, facts);
}

void framing_response(const uint8_t *buf, const struct http_head *resp,
                      const struct framing_request *req, struct framing *f, struct http_warnings *w)
{
    memset(f, 0, sizeof *f);
    unsigned status = resp->status;
    f->keep_alive = persistent(buf, resp) && !(req && req->close);
    if (status >= 100 && status < 200) {
        if (status == 101) {
            f->kind = BODY_TUNNEL;
            f->keep_alive = false;
        } else {
            f->interim = true;
            f->keep_alive = true;
        }
        return;
    }
    if (req && req->connect && status >= 200 && status < 300) {
        f->kind = BODY_TUNNEL;
        f->keep_alive = false;
        return;
    }
    if ((req && req->head) || status == 204 || status == 304)
        return;
    enum coding_result te = transfer_codings(buf, resp, w);
    bool has_cl = first_of(resp, HF_CONTENT_LENGTH) != NULL;
    if (te != TE_ABSENT) {
        if (has_cl) {
            add(w, W_CL_AND_TE, first_of(resp, HF_CONTENT_LENGTH));
            f->keep_alive = false;
        }
        if (te == TE_CHUNKED_LAST) {
            f->kind = BODY_CHUNKED;
            if (!is_http11(resp))
                f->keep_alive = false;
        } else {
            f->kind = BODY_CLOSE;
            f->keep_alive = false;
        }
        return;
    }
    uint64_t len;
    int cl = content_length(buf, resp, &len, w);
    if (cl > 0) {
        f->kind = len ? BODY_LENGTH : BODY_NONE;
        f->length = len;
        return;
    }
    /* No usable length: the body runs until the server closes (RFC 9112 6.3 items 5 and 8). */
    f->kind = BODY_CLOSE;
    f->keep_alive = false;
}
