/*
 * reply: one response being produced by `hspy listen` for one request.
 *
 * A reply is created when its request's head has been parsed and is told about the request's
 * body and end. It writes the response through the connection's sender (head, body, end) and
 * respects backpressure: while env.full() is true it stops and waits for its room callback.
 * Kinds are rows of operations (fixed bytes, a raw response file, the echo, static files, a
 * CGI command); the connection code treats them all alike.
 *
 * The exchange pointer in the env is valid until the connection clears it (reply_forget) when
 * the conversation releases the exchange; replies check it before writing notes or errors.
 */
#ifndef HSPY_REPLY_H
#define HSPY_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "hspy/delivery.h"
#include "hspy/exchange.h"
#include "hspy/framing.h"
#include "hspy/http.h"
#include "hspy/sender.h"

/* Body bytes a reply hands to the sender per step before checking for room again. */
enum {
    REPLY_STEP = 64 * 1024,     /* body bytes handed to the sender per step */
    REPLY_HEAD_MEMO_MAX = 4096, /* a fixed reply keeps its last head (and what it was made of)
                                   up to this size for the connection's next request */
    REPLY_ERROR_MAX = 2048,     /* an error response hspy gives itself, head and text */
};

struct reply_env {
    uv_loop_t *loop;
    struct sender *sender;
    struct exchange *ex; /* the request's exchange; NULL once released */
    const struct http_limits *limits;
    struct framing framing; /* the request's framing */
    const char *date;       /* Date header value for this response */
    struct dynbuf *scratch; /* the connection's buffer for composing heads (reset before use) */
    const char *software;   /* "hspy/VERSION" */
    bool head_request;      /* HEAD: headers only */
    bool http11;            /* the client speaks HTTP/1.1 (chunked responses possible) */
    bool http09;            /* HTTP/0.9 request: the response has no head */
    bool close;             /* the connection closes after this response */
    bool keep_alive10;      /* HTTP/1.0 client asked for keep-alive */
    void *data;             /* the connection */
    /* True while output should stop (sender or socket queue over its cap). */
    bool (*full)(void *data);
    /* Stops (on) or restarts reading the request (a reply that cannot take the body yet). */
    void (*hold)(void *data, bool on);
    /* Called by replies that progressed outside a connection callback (child output, timers). */
    void (*wake)(void *data);
};

struct reply;

struct reply_ops {
    const char *name;
    /* The request body is complete (the request may have had none). */
    void (*done)(struct reply *r);
    /* Request payload bytes (de-chunked); valid only during the call. May be NULL. */
    void (*body)(struct reply *r, const uint8_t *p, size_t n);
    /* Output has room again. May be NULL. */
    void (*room)(struct reply *r);
    /* Stops at once and releases everything (possibly later, for child processes). */
    void (*free)(struct reply *r);
};

struct reply {
    const struct reply_ops *ops;
    struct reply_env env;
    bool close_after; /* set by the reply when its framing ends the connection */
};

/* A fixed response: status, reason (NULL = standard), header lines, body (not copied: it must
 * outlive the reply unless owned is set, in which case the reply frees it). */
struct reply_fixed_spec {
    uint16_t status;
    const char *reason;
    const char *const *headers;
    size_t nheaders;
    const uint8_t *body;
    size_t body_len;
    bool owned;
};

struct reply *reply_fixed_new(const struct reply_env *env, const struct reply_fixed_spec *spec);
/* An error response hspy itself gives (400, 431, 408, 502...) with a one-line text body, left
 * out for a HEAD request (response_error); closes the connection after it. */
struct reply *reply_error_new(const struct reply_env *env, uint16_t status, const char *why);
/* A raw response sent as written (bytes not copied; they outlive the reply). */
struct reply *reply_raw_new(const struct reply_env *env, const uint8_t *raw, size_t n);
/* The same, taking ownership of raw (a malloc'ed buffer freed with the reply). */
struct reply *reply_raw_take(const struct reply_env *env, uint8_t *raw, size_t n);
/* The echo of the request (text, or JSON when the request asks for it). Streams bodies. */
struct reply *reply_echo_new(const struct reply_env *env);

/* The exchange was released: the reply must not touch it any more. */
static inline void reply_forget(struct reply *r, const struct exchange *ex)
{
    if (r && r->env.ex == ex)
        r->env.ex = NULL;
}

/* Frees r (NULL is a no-op). */
static inline void reply_free(struct reply *r)
{
    if (r)
        r->ops->free(r);
}

/*
 * Ends a finished reply: frees it, or returns it when its memory can serve the connection's
 * next fixed reply (a fixed reply owning nothing), to be passed to reply_fixed_reuse or freed
 * with reply_free. NULL gives NULL.
 */
struct reply *reply_retire(struct reply *r);
/*
 * As reply_fixed_new, in the memory of spare when reply_retire kept it (spare is consumed
 * either way; NULL is fine): a connection answering request after request with the same fixed
 * response then allocates nothing per request.
 */
struct reply *reply_fixed_reuse(struct reply *spare, const struct reply_env *env,
                                const struct reply_fixed_spec *spec);

#endif
