/*
 * message owns one side of an exchange: its raw buffer and the views into it. It does not
 * parse (the conversation fills the fields); it answers questions about what was parsed.
 */
#include "hspy/message.h"

#include <assert.h>
#include <string.h>

#include "hspy/chunked.h"
#include "hspy/plural.h"
#include "hspy/sha256.h"
#include "hspy/termsafe.h"

static const char *const FLAG_NAMES[] = {
    "started",    "head",    "complete", "truncated", "gap",      "http09", "unparsed",
    "head-limit", "snaplen", "edited",   "hashed",    "head-cut", "lost",
};

const char *message_flag_name(uint32_t flag)
{
    for (size_t i = 0; i < sizeof FLAG_NAMES / sizeof FLAG_NAMES[0]; i++)
        if (flag == (uint32_t)1 << i)
            return FLAG_NAMES[i];
    return "?";
}

void message_init(struct message *m, size_t raw_max)
{
    memset(m, 0, sizeof *m);
    dynbuf_init(&m->raw, raw_max);
}

void message_cleanup(struct message *m)
{
    dynbuf_cleanup(&m->raw);
}

const uint8_t *message_header(const struct message *m, const char *name, size_t *len)
{
    const uint8_t *base = message_head_base(m);
    if (!base) {
        *len = 0;
        return NULL;
    }
    return http_head_find(base, &m->head, name, len);
}

char *message_header_str(const struct message *m, const char *name, char *buf, size_t buflen)
{
    size_t len;
    const uint8_t *v = message_header(m, name, &len);
    if (!v)
        return NULL;
    if (len >= buflen)
        len = buflen - 1;
    memcpy(buf, v, len);
    buf[len] = '\0';
    return buf;
}

bool message_peek_request_line(const struct message *m, struct http_span *method,
                               struct http_span *target)
{
    bool whole;
    if (m->flags & MSG_HEAD || !m->raw.data)
        return false;
    return http_peek_request_line(m->raw.data, m->raw.len, method, target, &whole);
}

const uint8_t *message_peek_header(const struct message *m, const char *name, size_t *len)
{
    struct http_span v;
    *len = 0;
    if (m->flags & MSG_HEAD || !m->raw.data || !http_peek_field(m->raw.data, m->raw.len, name, &v))
        return NULL;
    *len = v.len;
    return m->raw.data + v.off;
}

size_t message_chunk_ext_size(const struct message *m)
{
    if (!m->chunk_ext)
        return 0;
    uint32_t len;
    memcpy(&len, m->chunk_ext, sizeof len);
    return MESSAGE_CHUNK_EXT_HEAD + (size_t)len;
}

bool message_chunk_ext_next(const struct message *m, size_t *pos, struct chunked_ext *e)
{
    size_t n = message_chunk_ext_size(m);
    if (n == 0)
        return false;
    return chunked_ext_next(m->chunk_ext + MESSAGE_CHUNK_EXT_HEAD, n - MESSAGE_CHUNK_EXT_HEAD, pos,
                            e);
}

void message_keep_chunk_ext(struct message *m, struct arena *a, const uint8_t *list, size_t len,
                            uint32_t unlisted)
{
    if (len == 0 && unlisted == 0)
        return;
    assert(len <= UINT32_MAX);
    uint32_t head[2] = {(uint32_t)len, unlisted};
    uint8_t *p = arena_alloc(a, MESSAGE_CHUNK_EXT_HEAD + len);
    memcpy(p, head, sizeof head);
    if (len)
        memcpy(p + MESSAGE_CHUNK_EXT_HEAD, list, len);
    m->chunk_ext = p;
}

uint32_t message_chunk_ext_unlisted(const struct message *m)
{
    uint32_t n = 0;
    if (m->chunk_ext)
        memcpy(&n, m->chunk_ext + 4, sizeof n);
    return n;
}

unsigned message_chunk_ext_text(const struct message *m, const char *prefix, const char *eol,
                                struct dynbuf *out)
{
    unsigned lines = 0;
    size_t pos = 0;
    struct chunked_ext e;
    while (message_chunk_ext_next(m, &pos, &e)) {
        dynbuf_adds(out, prefix);
        if (e.size == 0)
            dynbuf_adds(out, "last chunk: ");
        else
            dynbuf_printf(out, "chunk %u (%llu %s): ", e.chunk, (unsigned long long)e.size,
                          plural_bytes(e.size));
        termsafe_append(out, e.ext, e.len, 0);
        dynbuf_adds(out, e.cut ? " [cut]" : "");
        dynbuf_adds(out, eol);
        lines++;
    }
    uint32_t more = message_chunk_ext_unlisted(m);
    if (more) {
        dynbuf_printf(out, "%s%u more size line%s with extensions, not kept%s", prefix, more,
                      plural(more, "", "s"), eol);
        lines++;
    }
    return lines;
}

bool message_trailer_next(const struct message *m, size_t *i, struct http_span *name,
                          struct http_span *value)
{
    const uint8_t *p = m->trailer;
    size_t n = m->trailer_len;
    if (!p || *i >= n)
        return false;
    size_t start = *i, end = start;
    /* The line, and the folded lines after it (those starting with a space or a tab). */
    do {
        const uint8_t *lf = memchr(p + end, '\n', n - end);
        end = lf ? (size_t)(lf - p) + 1 : n;
    } while (end < n && (p[end] == ' ' || p[end] == '\t'));
    *i = end;
    size_t stop = end;
    while (stop > start && (p[stop - 1] == '\n' || p[stop - 1] == '\r' || p[stop - 1] == ' ' ||
                            p[stop - 1] == '\t'))
        stop--;
    const uint8_t *colon = memchr(p + start, ':', stop - start);
    size_t v = colon ? (size_t)(colon - p) + 1 : start, ne = colon ? (size_t)(colon - p) : start;
    while (ne > start && (p[ne - 1] == ' ' || p[ne - 1] == '\t'))
        ne--;
    while (v < stop && (p[v] == ' ' || p[v] == '\t'))
        v++;
    *name = (struct http_span){(uint32_t)start, (uint32_t)(ne - start)};
    *value = (struct http_span){(uint32_t)v, (uint32_t)(stop - v)};
    return true;
}

bool message_is_head_request(const struct message *m)
{
    if (m->flags & MSG_HEAD)
        return http_span_eq(message_head_base(m), m->head.method, "HEAD");
    return m->raw.data && http_request_line_is_head(m->raw.data, m->raw.len);
}

char *message_span_str(const struct message *m, struct http_span s, char *buf, size_t buflen)
{
    buf[0] = '\0';
    if (!(m->flags & MSG_HEAD) || buflen == 0)
        return buf;
    size_t len = s.len < buflen - 1 ? s.len : buflen - 1;
    memcpy(buf, message_at(m, s), len);
    buf[len] = '\0';
    return buf;
}

bool message_has_body(const struct message *m)
{
    if (m->flags & MSG_HEAD)
        return m->body_kind != BODY_NONE && m->body_kind != BODY_TUNNEL;
    return (m->flags & MSG_HTTP09) && m->body_kind == BODY_CLOSE;
}

const char *message_framing_name(const struct message *m)
{
    /* An HTTP/0.9 response has no head, and its body runs to the close. */
    if ((m->flags & MSG_HEAD) || message_has_body(m))
        return body_kind_name(m->body_kind);
    return NULL;
}

bool message_declares_length(const struct message *m)
{
    if (!(m->flags & MSG_HEAD))
        return false;
    size_t n;
    return m->body_kind == BODY_LENGTH ||
           (m->body_kind == BODY_UNKNOWN && message_header(m, "Content-Length", &n));
}

bool message_body(const struct message *m, struct dynbuf *out, const struct http_limits *limits)
{
    if (m->body_kind == BODY_NONE && !(m->flags & (MSG_HTTP09 | MSG_UNPARSED)))
        return true; /* bytes kept after a bodiless message are not its body */
    if (m->body_off >= m->raw.len) {
        return m->body_size == 0 && !(m->flags & (MSG_TRUNCATED | MSG_GAP));
    }
    const uint8_t *body = m->raw.data + m->body_off;
    size_t n = m->raw.len - (size_t)m->body_off;
    bool whole = !(m->flags & (MSG_TRUNCATED | MSG_GAP));
    dynbuf_reserve(out, n); /* one allocation rather than doubling steps */
    if (m->body_kind == BODY_CHUNKED) {
        size_t used;
        enum chunked_status st = chunked_decode_all(body, n, out, &used, limits);
        return whole && st == CHUNKED_DONE;
    }
    if (m->body_kind == BODY_LENGTH && n > m->content_length)
        n = (size_t)m->content_length;
    size_t stored = dynbuf_append(out, body, n);
    return whole && stored == n;
}

const uint8_t *message_body_view(const struct message *m, size_t *len, bool *whole)
{
    static const uint8_t empty[1];
    *len = 0;
    *whole = true;
    if (m->body_kind == BODY_CHUNKED && m->body_off < m->raw.len)
        return NULL;
    if ((m->body_kind == BODY_NONE && !(m->flags & (MSG_HTTP09 | MSG_UNPARSED))) ||
        m->body_off >= m->raw.len) {
        *whole = m->body_size == 0 && !(m->flags & (MSG_TRUNCATED | MSG_GAP));
        return empty;
    }
    size_t n = m->raw.len - (size_t)m->body_off;
    if (m->body_kind == BODY_LENGTH && n > m->content_length)
        n = (size_t)m->content_length;
    *len = n;
    *whole = !(m->flags & (MSG_TRUNCATED | MSG_GAP));
    return m->raw.data + m->body_off;
}

bool message_sha256(const struct message *m, uint8_t out[SHA256_DIGEST_LEN])
{
    if (!(m->flags & MSG_HASHED))
        return false;
    if (m->sha256) {
        memcpy(out, m->sha256, SHA256_DIGEST_LEN);
        return true;
    }
    size_t len;
    bool whole;
    const uint8_t *view = message_body_view(m, &len, &whole);
    if (!view || !whole || len != m->body_size)
        return false; /* raw changed since: the hash is no longer known */
    struct sha256 h;
    sha256_init(&h);
    sha256_update(&h, view, len);
    sha256_final(&h, out);
    return true;
}
