/*
 * lint: `hspy lint FILE|-`. Reads raw bytes holding one or more HTTP messages, runs them through
 * the same conversation engine as every other mode, and prints a report per message (text, or
 * JSON lines with --json). Exit status: 0 when every message is HTTP without a warning, 3 when one
 * has a warning or is not HTTP at all, 1 on I/O errors. It reads in bounded pieces, so input of any
 * size runs in constant memory. When the reader of stdout goes away (| head) printing stops
 * quietly, as in every mode, and the rest of the input is still checked for the exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hspy/conversation.h"
#include "hspy/hspy.h"
#include "hspy/jsonout.h"
#include "hspy/lintreport.h"
#include "hspy/mode.h"
#include "hspy/plural.h"

enum { LINT_READ_CHUNK = 64 * 1024 };

struct lint {
    struct hspy *h;
    enum side side; /* which side the input is */
    unsigned index; /* messages reported */
    unsigned with_warnings;
    unsigned not_http;                  /* messages whose start could not be parsed as HTTP */
    unsigned unframed;                  /* messages whose body length could not be known */
    uint64_t offset;                    /* input offset of the next message */
    const struct exchange *unframeable; /* the message whose head event said cannot_frame */
    struct dynbuf out;
    struct lintreport_config cfg;
    bool closed;   /* the reader of stdout went away: nothing more is printed */
    int write_err; /* errno of a failed write to stdout (0: none): exit status 1 */
};

/* Writes the buffered report to stdout; after a failure, or once the reader left, reports are
 * only counted. */
static void flush_out(struct lint *l)
{
    const uint8_t *p = l->out.data;
    size_t n = l->out.len;
    while (n > 0 && !l->closed && !l->write_err) {
        ssize_t k = write(STDOUT_FILENO, p, n);
        if (k >= 0) {
            p += k, n -= (size_t)k;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            struct pollfd pf = {.fd = STDOUT_FILENO, .events = POLLOUT};
            poll(&pf, 1, -1);
        } else if (errno == EPIPE) {
            l->closed = true;
        } else if (errno != EINTR) {
            l->write_err = errno;
        }
    }
    dynbuf_reset(&l->out);
}

static void report(struct lint *l, struct exchange *ex)
{
    const struct message *msg = exchange_msg_const(ex, l->side);
    if (!(msg->flags & MSG_STARTED))
        return;
    bool cannot_frame = ex == l->unframeable && (msg->flags & MSG_HEAD);
    struct lintreport_message m = {ex, l->side, ++l->index, l->offset, cannot_frame};
    l->offset += msg->wire_bytes;
    if (lintreport_warnings(&m))
        l->with_warnings++;
    if (msg->flags & MSG_UNPARSED)
        l->not_http++;
    l->unframed += cannot_frame;
    if (l->closed || l->write_err)
        return;
    if (l->h->opt.json) {
        json_t *o = lintreport_json(&m, &l->cfg);
        jsonout_dump(&l->out, o, 0);
        dynbuf_addc(&l->out, '\n');
        json_decref(o);
    } else {
        lintreport_text(&l->out, &m, &l->cfg);
    }
    flush_out(l);
}

static int on_event(void *data, struct conversation *c, struct exchange *ex, enum conv_event ev,
                    enum side side, const uint8_t *p, size_t n)
{
    (void)p;
    (void)n;
    struct lint *l = data;
    /* The framing is the head's until the next head: ask at the head event. A message that
     * cannot be framed keeps every later byte (the engine reads it as a server would: 400). */
    if ((ev == CONV_REQ_HEAD || ev == CONV_RESP_HEAD) && side == l->side)
        l->unframeable = conversation_framing(c, side)->cannot_frame ? ex : NULL;
    if (ev == CONV_END) {
        report(l, ex);
        if (l->unframeable == ex)
            l->unframeable = NULL;
        exchange_free(ex);
    }
    return CONV_CONTINUE;
}

/* Requests unless the input starts (after empty lines) like a status line. */
static enum side detect(const struct options *o, const uint8_t *p, size_t n)
{
    if (o->lint_request)
        return SIDE_CLIENT;
    if (o->lint_response)
        return SIDE_SERVER;
    size_t i = 0;
    while (i < n && (p[i] == '\r' || p[i] == '\n' || p[i] == ' ' || p[i] == '\t'))
        i++;
    return n - i >= 5 && memcmp(p + i, "HTTP/", 5) == 0 ? SIDE_SERVER : SIDE_CLIENT;
}

static int open_input(struct hspy *h, int *fd)
{
    const char *file = h->opt.file;
    if (strcmp(file, "-") == 0) {
        *fd = STDIN_FILENO;
        return 0;
    }
    *fd = open(file, O_RDONLY | O_CLOEXEC);
    if (*fd < 0)
        return hspy_fail(h, "%s: %s", h->input_name, strerror(errno));
    return 0;
}

/* Reads the input into the conversation; returns 0 or 1 on a read error. */
static int pump(struct lint *l, int fd, struct conversation **conv)
{
    uint8_t buf[LINT_READ_CHUNK];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return hspy_fail(l->h, "%s: %s", l->h->input_name, strerror(errno));
        if (n == 0)
            return 0;
        if (!*conv) {
            l->side = detect(&l->h->opt, buf, (size_t)n);
            struct conversation_config cfg = {
                .limits = l->h->limits,
                .exchange = l->h->ex_limits,
                .conn_id = 1,
                /* Requests alone never get responses: each is reported (and freed) as it ends,
                 * so any number of pipelined requests is read, in constant memory. */
                .one_side = true,
            };
            struct conversation_events ev = {l, on_event};
            *conv = conversation_new(&cfg, &ev);
        }
        conversation_feed(*conv, l->side, buf, (size_t)n, 0);
    }
}

static int run(struct hspy *h)
{
    int fd;
    if (open_input(h, &fd) != 0)
        return 1;
    struct lint l = {.h = h};
    dynbuf_init(&l.out, (size_t)1 << 30);
    l.cfg.limits = &h->limits;
    l.cfg.decode_max = h->opt.decode_max;
    struct conversation *conv = NULL;
    int rc = pump(&l, fd, &conv);
    if (conv) {
        conversation_close(conv, l.side, 0);
        conversation_free(conv);
    }
    if (fd != STDIN_FILENO)
        close(fd);
    if (!h->opt.json && rc == 0) {
        dynbuf_printf(&l.out, "%u message%s, %u with warnings", l.index, plural(l.index, "", "s"),
                      l.with_warnings);
        if (l.unframed)
            dynbuf_printf(&l.out, ", %u that cannot be framed", l.unframed);
        if (l.not_http)
            dynbuf_printf(&l.out, ", %u not HTTP", l.not_http);
        dynbuf_addc(&l.out, '\n');
        flush_out(&l);
    }
    dynbuf_cleanup(&l.out);
    if (l.write_err)
        return hspy_fail(h, "stdout: %s", strerror(l.write_err));
    if (rc != 0)
        return 1;
    if (l.index == 0 && !h->opt.json)
        hspy_say("%s: no HTTP message in the input", h->input_name);
    /* Bytes that are not HTTP at all are the worst finding a script can meet, warning or not. */
    return l.with_warnings || l.not_http ? 3 : 0;
}

const struct mode mode_lint = {CMD_LINT, 0, run};
