/*
 * options owns the command-line grammar: the option table, getopt_long parsing, value
 * validation and the help text. It never opens files or sockets and never prints; callers
 * decide what to do with the result.
 */
#include "hspy/options.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/delivery.h"
#include "hspy/endpoint.h"
#include "hspy/exchange.h"
#include "hspy/export.h"
#include "hspy/filter.h"
#include "hspy/http.h"
#include "hspy/rules.h"
#include "hspy/store.h"
#include "hspy/xmalloc.h"

enum opt_kind {
    OPT_FLAG,     /* bool */
    OPT_STRING,   /* const char * */
    OPT_LIST,     /* struct strlist, repeatable */
    OPT_UINT,     /* uint64_t within [min, max] */
    OPT_SIZE,     /* size_t (or uint64_t), binary suffixes */
    OPT_DURATION, /* uint64_t milliseconds */
};

struct option_def {
    const char *name;
    char short_name;
    uint8_t kind;
    unsigned commands;
    size_t offset;
    size_t width; /* sizeof the field, for numeric kinds */
    const char *metavar;
    const char *help;
    uint64_t min, max;
};

#define FIELD(f) offsetof(struct options, f), sizeof(((struct options *)0)->f)

/* Options common to several subcommands first, then per subcommand. Keep help lines short:
 * they are printed after a 28-column option column. */
static const struct option_def OPTIONS[] = {
    {"no-tui", 0, OPT_FLAG, CMD_VIEWERS, FIELD(no_tui), NULL,
     "print to stdout even when it is a terminal", 0, 0},
    {"log", 0, OPT_STRING, CMD_VIEWERS, FIELD(log), "STYLE",
     "line (default): one line per exchange; full: heads and bodies; none", 0, 0},
    {"json", 0, OPT_FLAG, CMD_VIEWERS | CMD_BIT(CMD_LINT), FIELD(json), NULL,
     "print one JSON object per exchange (JSON lines)", 0, 0},
    {"har", 0, OPT_STRING, CMD_VIEWERS, FIELD(har_path), "FILE",
     "write the exchanges as HAR 1.2 to FILE", 0, 0},
    {"body-limit", 0, OPT_SIZE, CMD_VIEWERS, FIELD(body_limit), "SIZE",
     "body bytes shown per message by --log full and --json (default 4k)", 0, UINT64_MAX},
    {"head-max", 0, OPT_SIZE, CMD_ALL, FIELD(head_max), "SIZE",
     "largest head parsed, start line to empty line (default 64k)", 256, UINT32_MAX / 2},
    {"max-headers", 0, OPT_UINT, CMD_ALL, FIELD(headers_max), "N",
     "header fields kept per message (default 256)", 1, 1000000},
    {"chunk-digits", 0, OPT_UINT, CMD_ALL, FIELD(chunk_digits_max), "N",
     "hex digits allowed in a chunk size (default 16)", 1, 1024},
    {"chunk-ext-max", 0, OPT_SIZE, CMD_ALL, FIELD(chunk_ext_max), "SIZE",
     "bytes of chunk extensions per chunk (default 4k)", 0, UINT32_MAX / 2},
    {"body-keep", 0, OPT_SIZE, CMD_ALL, FIELD(body_keep), "SIZE",
     "body bytes kept per message for display; the rest is counted (default 1M)", 0,
     (uint64_t)1 << 40},
    {"decode-max", 0, OPT_SIZE, CMD_ALL, FIELD(decode_max), "SIZE",
     "largest decoded (decompressed) body shown (default 64M)", 1024, (uint64_t)1 << 40},
    {"max-flows", 0, OPT_UINT, CMD_VIEWERS, FIELD(max_flows), "N",
     "exchanges kept in memory for the interface (default 100000)", 0, UINT32_MAX},
    {"max-memory", 0, OPT_SIZE, CMD_VIEWERS, FIELD(max_memory), "SIZE",
     "memory for kept exchanges (default 1G)", 1 << 20, (uint64_t)1 << 44},
    {"max-conns", 0, OPT_UINT, CMD_SERVERS, FIELD(max_conns), "N",
     "concurrent client connections (default 1024); more are refused and counted", 1, 1000000},
    {"idle-timeout", 0, OPT_DURATION, CMD_SERVERS, FIELD(idle_timeout_ms), "TIME",
     "close connections idle this long (default 60s; 0 = never)", 0, UINT32_MAX},
    {"head-timeout", 0, OPT_DURATION, CMD_SERVERS, FIELD(head_timeout_ms), "TIME",
     "a request head must arrive within this time of its first byte (default 10s)", 0, UINT32_MAX},
    {"status", 0, OPT_UINT, CMD_BIT(CMD_LISTEN), FIELD(status), "N",
     "answer every request with this status (a fixed response)", 100, 999},
    {"header", 'H', OPT_LIST, CMD_BIT(CMD_LISTEN), FIELD(headers), "'NAME: VALUE'",
     "add a header to the fixed response (repeatable)", 0, 0},
    {"body", 0, OPT_STRING, CMD_BIT(CMD_LISTEN), FIELD(body), "TEXT|@FILE",
     "body of the fixed response (@FILE reads a file)", 0, 0},
    {"raw", 0, OPT_STRING, CMD_BIT(CMD_LISTEN), FIELD(raw), "FILE",
     "answer with this raw HTTP response, sent exactly as written", 0, 0},
    {"fix-length", 0, OPT_FLAG, CMD_BIT(CMD_LISTEN), FIELD(fix_length), NULL,
     "--raw: set Content-Length to the file's real body size", 0, 0},
    {"rules", 0, OPT_STRING, CMD_BIT(CMD_LISTEN), FIELD(rules), "FILE",
     "answer by the first matching rule of FILE (see the manual); others as usual", 0, 0},
    {"serve", 0, OPT_STRING, CMD_BIT(CMD_LISTEN), FIELD(serve), "DIR",
     "serve static files from DIR (listings, Range, 304), never outside it", 0, 0},
    {"exec", 0, OPT_STRING, CMD_BIT(CMD_LISTEN), FIELD(exec), "CMD",
     "run CMD per request, CGI style (no shell); its output is the response", 0, 0},
    {"exec-shell", 0, OPT_FLAG, CMD_BIT(CMD_LISTEN), FIELD(exec_shell), NULL,
     "--exec: run CMD through /bin/sh -c (request data stays out of the command line)", 0, 0},
    {"exec-timeout", 0, OPT_DURATION, CMD_BIT(CMD_LISTEN), FIELD(exec_timeout_ms), "TIME",
     "--exec: kill the command after this long and answer 504 (default 30s; 0 = never)", 0,
     UINT32_MAX},
    {"expect", 0, OPT_UINT, CMD_BIT(CMD_LISTEN), FIELD(expect), "STATUS",
     "answer to Expect: 100-continue: 100 (default), a final status like 417, 0 = none", 0, 999},
    {"delay-head", 0, OPT_DURATION, CMD_BIT(CMD_LISTEN), FIELD(delay_head_ms), "TIME",
     "wait this long before sending each response", 0, UINT32_MAX},
    {"delay-body", 0, OPT_DURATION, CMD_BIT(CMD_LISTEN), FIELD(delay_body_ms), "TIME",
     "wait this long between a response's head and its body", 0, UINT32_MAX},
    {"trickle", 0, OPT_STRING, CMD_BIT(CMD_LISTEN), FIELD(trickle), "BYTES/TIME",
     "send response bodies BYTES at a time every TIME (e.g. 16/100ms)", 0, 0},
    {"split", 0, OPT_STRING, CMD_BIT(CMD_LISTEN), FIELD(split), "A,B,..[/TIME]",
     "send responses in pieces of these sizes (the rest as one), TIME apart", 0, 0},
    {"close-after", 0, OPT_SIZE, CMD_BIT(CMD_LISTEN), FIELD(close_after), "BYTES",
     "close the connection after this many body bytes of a response", 0, UINT64_MAX - 1},
    {"reset-after", 0, OPT_SIZE, CMD_BIT(CMD_LISTEN), FIELD(reset_after), "BYTES",
     "reset the connection (RST) after this many body bytes of a response", 0, UINT64_MAX - 1},
    {"content-length", 0, OPT_SIZE, CMD_BIT(CMD_LISTEN), FIELD(content_length), "N",
     "state Content-Length: N in responses whatever their body (then close)", 0, UINT64_MAX - 1},
    {"bpf", 0, OPT_STRING, CMD_BIT(CMD_READ), FIELD(bpf), "EXPR",
     "only decode packets matching this capture filter", 0, 0},
    {"request", 0, OPT_FLAG, CMD_BIT(CMD_LINT), FIELD(lint_request), NULL,
     "treat the input as requests", 0, 0},
    {"response", 0, OPT_FLAG, CMD_BIT(CMD_LINT), FIELD(lint_response), NULL,
     "treat the input as responses", 0, 0},
    {"interface", 'i', OPT_STRING, CMD_BIT(CMD_SNIFF), FIELD(iface), "IFACE",
     "capture on IFACE (default: the first one libpcap offers)", 0, 0},
    {"max-connections", 0, OPT_UINT, CMD_BIT(CMD_READ) | CMD_BIT(CMD_SNIFF), FIELD(capture_conns),
     "N", "TCP connections tracked at once (default 16384); the least recently active are evicted",
     1, 1u << 24},
    {"filter", 0, OPT_STRING, CMD_VIEWERS, FIELD(filter), "EXPR",
     "print, write (--har) and list only the exchanges matching EXPR", 0, 0},
    {"preserve-host", 0, OPT_FLAG, CMD_BIT(CMD_PROXY), FIELD(preserve_host), NULL,
     "forward Host as received (default: rewritten to the host connected to)", 0, 0},
    {"xff", 0, OPT_FLAG, CMD_BIT(CMD_PROXY), FIELD(xff), NULL,
     "append the client address to X-Forwarded-For (added when absent)", 0, 0},
    {"forwarded", 0, OPT_FLAG, CMD_BIT(CMD_PROXY), FIELD(forwarded), NULL,
     "append for=/host=/proto= to Forwarded (RFC 7239; added when absent)", 0, 0},
    {"reverse-only", 0, OPT_FLAG, CMD_BIT(CMD_PROXY), FIELD(reverse_only), NULL,
     "refuse absolute-form (http://host/...) requests and CONNECT with 403", 0, 0},
    {"buffer-requests", 0, OPT_FLAG, CMD_BIT(CMD_PROXY), FIELD(buffer_requests), NULL,
     "read each request body whole before contacting the upstream", 0, 0},
    {"buffer-memory", 0, OPT_SIZE, CMD_BIT(CMD_PROXY), FIELD(buffer_memory), "SIZE",
     "--buffer-requests: body bytes kept in memory, then a temp file (default 1M)", 0,
     (uint64_t)1 << 32},
    {"buffer-max", 0, OPT_SIZE, CMD_BIT(CMD_PROXY), FIELD(buffer_max), "SIZE",
     "--buffer-requests: larger bodies are answered 413 (default 1G)", 0, UINT64_MAX - 1},
    {"connect-timeout", 0, OPT_DURATION, CMD_BIT(CMD_PROXY), FIELD(connect_timeout_ms), "TIME",
     "give up connecting upstream after this long and answer 504 (default 10s)", 1, UINT32_MAX},
    {"upstream-timeout", 0, OPT_DURATION, CMD_BIT(CMD_PROXY), FIELD(upstream_timeout_ms), "TIME",
     "upstream silent this long while a response is due: 504 (default 60s; 0 = never)", 0,
     UINT32_MAX},
    {"upstream-keepalive", 0, OPT_UINT, CMD_BIT(CMD_PROXY), FIELD(upstream_keepalive), "N",
     "idle upstream connections kept for reuse (default 32; 0 = none)", 0, 100000},
    {"upstream-per-client", 0, OPT_FLAG, CMD_BIT(CMD_PROXY), FIELD(upstream_per_client), NULL,
     "give each client connection upstream connections of its own (closed with it)", 0, 0},
    {"upstream-idle", 0, OPT_DURATION, CMD_BIT(CMD_PROXY), FIELD(upstream_idle_ms), "TIME",
     "close an idle upstream connection after this long (default 30s)", 1, UINT32_MAX},
    {"hash-bodies", 0, OPT_FLAG, CMD_BIT(CMD_PROXY), FIELD(hash_bodies), NULL,
     "record the SHA-256 of every body (--json, HAR; costs CPU)", 0, 0},
    {"pcapng", 0, OPT_STRING, CMD_VIEWERS, FIELD(pcapng_path), "FILE",
     "write the exchanges as pcapng (synthesized TCP packets) to FILE", 0, 0},
    {"save", 0, OPT_STRING, CMD_VIEWERS, FIELD(save_path), "FILE",
     "save the session's exchanges as HAR to FILE on exit", 0, 0},
    {"save-bodies", 0, OPT_STRING, CMD_VIEWERS, FIELD(bodies_dir), "DIR",
     "write every body whole to a file of its own in DIR (new or empty)", 0, 0},
    {"save-decoded", 0, OPT_FLAG, CMD_VIEWERS, FIELD(save_decoded), NULL,
     "--save-bodies: also write each gzip/br/zstd/deflate body decoded, beside it", 0, 0},
    {"export", 0, OPT_STRING, CMD_BIT(CMD_READ), FIELD(export_format), "FORMAT",
     "export exchange --id as curl, nc, raw-request, raw-response, body, ...", 0, 0},
    {"id", 0, OPT_UINT, CMD_BIT(CMD_READ), FIELD(export_id), "N",
     "the exchange to export (its id, as --json shows it)", 1, UINT64_MAX},
    {"output", 'o', OPT_STRING, CMD_BIT(CMD_READ), FIELD(output_path), "FILE",
     "write the export to FILE instead of stdout", 0, 0},
    {"intercept", 0, OPT_STRING, CMD_SERVERS, FIELD(intercept), "EXPR",
     "hold messages matching EXPR until released in the interface (key i)", 0, 0},
    {"hold-timeout", 0, OPT_DURATION, CMD_SERVERS, FIELD(hold_timeout_ms), "TIME",
     "a held message goes on after this long (default 0 = held until released)", 0, UINT32_MAX},
    {"hold-timeout-action", 0, OPT_STRING, CMD_SERVERS, FIELD(hold_action), "accept|kill",
     "what --hold-timeout does: let the message go on (default) or kill its connection", 0, 0},
    {"replay-to", 0, OPT_STRING, CMD_VIEWERS, FIELD(replay_to), "HOST:PORT",
     "where replayed requests go (key r; proxy: the upstream by default)", 0, 0},
};

enum { NOPTIONS = sizeof OPTIONS / sizeof OPTIONS[0] };

/* getopt_long returns a long option as OPT_VAL_BASE + its index in OPTIONS, clear of every
 * short option character. */
enum { OPT_VAL_BASE = 1000 };

struct command_def {
    const char *name;
    const char *usage;
    const char *summary;
};

static const struct command_def COMMANDS[CMD__COUNT] = {
    [CMD_NONE] = {"hspy", "hspy COMMAND [OPTIONS] ARGS", "inspect and debug HTTP/1.x traffic"},
    [CMD_LISTEN] = {"listen", "hspy listen [OPTIONS] [HOST:]PORT",
                    "run an echo/mock server and show every request it gets"},
    [CMD_PROXY] = {"proxy", "hspy proxy [OPTIONS] [HOST:]PORT UPSTREAM",
                   "run an inspecting proxy in front of UPSTREAM (host:port or http://host:port)"},
    [CMD_READ] = {"read", "hspy read [OPTIONS] FILE|-",
                  "decode HTTP exchanges from a pcap, pcapng or HAR file (- reads stdin)"},
    [CMD_LINT] = {"lint", "hspy lint [OPTIONS] FILE|-",
                  "check raw HTTP messages and explain every deviation (exit 3 on warnings)"},
    [CMD_SNIFF] = {"sniff", "hspy sniff [OPTIONS] [BPF EXPRESSION]",
                   "capture live from a network interface (needs root or CAP_NET_RAW)"},
};

const char *command_name(enum command c)
{
    return (unsigned)c < CMD__COUNT ? COMMANDS[c].name : "?";
}

const char *options_name(size_t i, unsigned *commands)
{
    if (i >= NOPTIONS)
        return NULL;
    if (commands)
        *commands = OPTIONS[i].commands;
    return OPTIONS[i].name;
}

void options_init(struct options *o)
{
    memset(o, 0, sizeof *o);
    o->log = "line";
    o->log_style = LOG_LINE;
    o->body_limit = 4096;
    o->head_max = HTTP_HEAD_MAX_DEFAULT;
    o->headers_max = HTTP_HEADERS_MAX_DEFAULT;
    o->chunk_digits_max = HTTP_CHUNK_DIGITS_DEFAULT;
    o->chunk_ext_max = HTTP_CHUNK_EXT_DEFAULT;
    o->body_keep = EXCHANGE_BODY_KEEP_DEFAULT;
    o->decode_max = (size_t)64 << 20;
    o->max_flows = STORE_MAX_FLOWS_DEFAULT;
    o->max_memory = STORE_MAX_MEMORY_DEFAULT;
    o->max_conns = 1024;
    o->idle_timeout_ms = 60000;
    o->head_timeout_ms = 10000;
    o->exec_timeout_ms = 30000;
    o->expect = 100;
    o->delay_head_ms = o->delay_body_ms = 0;
    o->close_after = o->reset_after = o->content_length = UINT64_MAX;
    snprintf(o->host, sizeof o->host, "127.0.0.1");
    o->buffer_memory = (uint64_t)1 << 20;
    o->buffer_max = (uint64_t)1 << 30;
    o->connect_timeout_ms = 10000;
    o->upstream_timeout_ms = 60000;
    o->upstream_keepalive = 32;
    o->upstream_idle_ms = 30000;
}

void options_cleanup(struct options *o)
{
    free(o->bpf_owned);
    o->bpf_owned = NULL;
    for (size_t i = 0; i < NOPTIONS; i++) {
        if (OPTIONS[i].kind != OPT_LIST)
            continue;
        struct strlist *l = (struct strlist *)((char *)o + OPTIONS[i].offset);
        free(l->v);
        l->v = NULL;
        l->n = 0;
    }
}

int options_parse_size(const char *s, uint64_t *out)
{
    char *end;
    if (!isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    uint64_t mult = 1;
    switch (tolower((unsigned char)*end)) {
    case 'k':
        mult = 1024;
        end++;
        break;
    case 'm':
        mult = 1024 * 1024;
        end++;
        break;
    case 'g':
        mult = 1024ull * 1024 * 1024;
        end++;
        break;
    case 't':
        mult = 1024ull * 1024 * 1024 * 1024;
        end++;
        break;
    default: break;
    }
    if (mult > 1 && (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0 || strcmp(end, "b") == 0))
        end += strlen(end);
    else if (mult == 1 && (strcmp(end, "B") == 0 || strcmp(end, "b") == 0))
        end++;
    if (*end != '\0' || (v && mult > UINT64_MAX / v))
        return -1;
    *out = (uint64_t)v * mult;
    return 0;
}

int options_parse_duration_ms(const char *s, uint64_t *out)
{
    char *end;
    if (!isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || v < 0)
        return -1;
    double mult;
    if (strcmp(end, "ms") == 0)
        mult = 1;
    else if (strcmp(end, "s") == 0 || *end == '\0')
        mult = 1000;
    else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
        mult = 60000;
    else if (strcmp(end, "h") == 0)
        mult = 3600000;
    else
        return -1;
    double ms = v * mult;
    if (ms > 1e15)
        return -1;
    *out = (uint64_t)(ms + 0.5);
    return 0;
}

static void store_uint(void *field, size_t width, uint64_t v)
{
    if (width == sizeof(uint64_t))
        *(uint64_t *)field = v;
    else if (width == sizeof(uint32_t))
        *(uint32_t *)field = (uint32_t)v;
    else if (width == sizeof(uint16_t))
        *(uint16_t *)field = (uint16_t)v;
    else
        *(uint8_t *)field = (uint8_t)v;
}

static int apply(struct options *o, const struct option_def *d, const char *arg, char *err,
                 size_t errlen)
{
    void *field = (char *)o + d->offset;
    uint64_t v = 0;
    switch (d->kind) {
    case OPT_FLAG: *(bool *)field = true; return 0;
    case OPT_STRING: *(const char **)field = arg; return 0;
    case OPT_LIST: {
        struct strlist *l = field;
        l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
        l->v[l->n++] = arg;
        return 0;
    }
    case OPT_UINT: {
        char *end;
        errno = 0;
        unsigned long long u = strtoull(arg, &end, 10);
        if (!isdigit((unsigned char)*arg) || *end || errno) {
            snprintf(err, errlen, "--%s: '%s' is not a number", d->name, arg);
            return -1;
        }
        v = u;
        break;
    }
    case OPT_SIZE:
        if (options_parse_size(arg, &v) != 0) {
            snprintf(err, errlen, "--%s: '%s' is not a size (examples: 4096, 64k, 1M, 2G)", d->name,
                     arg);
            return -1;
        }
        break;
    case OPT_DURATION:
        if (options_parse_duration_ms(arg, &v) != 0) {
            snprintf(err, errlen, "--%s: '%s' is not a duration (examples: 250ms, 5s, 2m)", d->name,
                     arg);
            return -1;
        }
        break;
    }
    if (v < d->min || v > d->max) {
        snprintf(err, errlen, "--%s: %s is out of range (%" PRIu64 " to %" PRIu64 ")", d->name, arg,
                 d->min, d->max);
        return -1;
    }
    store_uint(field, d->width, v);
    return 0;
}

static enum command find_command(const char *name)
{
    for (int c = 1; c < CMD__COUNT; c++)
        if (strcmp(COMMANDS[c].name, name) == 0)
            return (enum command)c;
    return CMD_NONE;
}

static int usage(char *err, size_t errlen, enum command cmd, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int vusage(char *err, size_t errlen, enum command cmd, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static int vusage(char *err, size_t errlen, enum command cmd, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (cmd == CMD_NONE)
        snprintf(err, errlen, "hspy: %s\nTry 'hspy --help'.", msg);
    else
        snprintf(err, errlen, "hspy %s: %s\nTry 'hspy %s --help'.", COMMANDS[cmd].name, msg,
                 COMMANDS[cmd].name);
    return OPTIONS_USAGE;
}

static int usage(char *err, size_t errlen, enum command cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vusage(err, errlen, cmd, fmt, ap);
    va_end(ap);
    return rc;
}

int options_usage(char *err, size_t errlen, enum command cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vusage(err, errlen, cmd, fmt, ap);
    va_end(ap);
    return rc;
}

static int positional(struct options *o, int n, char **args, char *err, size_t errlen)
{
    char why[256];
    switch (o->cmd) {
    case CMD_LISTEN:
    case CMD_PROXY: {
        int want = o->cmd == CMD_PROXY ? 2 : 1;
        if (n < want)
            return usage(err, errlen, o->cmd, "missing %s",
                         n == 0 ? "[HOST:]PORT" : "UPSTREAM (host:port)");
        if (n > want)
            return usage(err, errlen, o->cmd, "unexpected argument '%s'", args[want]);
        o->address = args[0];
        char host[sizeof o->host];
        if (hostport_split(args[0], host, sizeof host, &o->port, 0, why, sizeof why) != 0)
            return usage(err, errlen, o->cmd, "bad address: %s", why);
        if (host[0])
            snprintf(o->host, sizeof o->host, "%s", host);
        if (o->cmd == CMD_PROXY) {
            uint16_t up;
            if (hostport_peer(args[1], host, sizeof host, &up, why, sizeof why) != 0)
                return usage(err, errlen, o->cmd, "bad upstream: %s", why);
            o->upstream = args[1];
        }
        return OPTIONS_RUN;
    }
    case CMD_READ:
    case CMD_LINT:
        if (n < 1)
            return usage(err, errlen, o->cmd, "missing FILE (use - for stdin)");
        if (n > 1)
            return usage(err, errlen, o->cmd, "unexpected argument '%s'", args[1]);
        o->file = args[0];
        return OPTIONS_RUN;
    case CMD_SNIFF:
        if (n > 0) {
            /* The capture filter may be given as several words, the way tcpdump takes it. */
            struct dynbuf joined;
            dynbuf_init(&joined, 1 << 16);
            for (int i = 0; i < n; i++)
                dynbuf_printf(&joined, "%s%s", i ? " " : "", args[i]);
            o->bpf_owned = dynbuf_take(&joined);
            o->bpf = o->bpf_owned;
        }
        return OPTIONS_RUN;
    default: return OPTIONS_RUN;
    }
}

/* --save-decoded decodes what --save-bodies writes. */
static int validate_bodies(const struct options *o, char *err, size_t errlen)
{
    if (o->save_decoded && !o->bodies_dir)
        return usage(err, errlen, o->cmd, "--save-decoded needs --save-bodies DIR");
    return OPTIONS_RUN;
}

/* --export, --id and --output go together; the export is then the only thing on stdout. */
static int validate_export(struct options *o, char *err, size_t errlen)
{
    if (!o->export_format) {
        if (o->export_id || o->output_path)
            return usage(err, errlen, o->cmd, "--%s needs --export FORMAT",
                         o->export_id ? "id" : "output");
        return OPTIONS_RUN;
    }
    o->export_kind = export_format_by_name(o->export_format);
    if (o->export_kind < 0) {
        char names[256] = "";
        for (int f = 0; f < EXPORT__COUNT; f++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", f ? ", " : "",
                     export_format_name((enum export_format)f));
        return usage(err, errlen, o->cmd, "--export: '%s' is not one of %s", o->export_format,
                     names);
    }
    if (!o->export_id)
        return usage(err, errlen, o->cmd, "--export needs --id N (the exchange's id)");
    if (o->json)
        return usage(err, errlen, o->cmd, "--export and --json exclude each other");
    o->no_tui = true;
    o->log_style = LOG_NONE;
    return OPTIONS_RUN;
}

/* listen: one default answer at most, and options that only make sense with another. */
static int validate_listen(struct options *o, char *err, size_t errlen)
{
    int answers = (o->status || o->headers.n || o->body) + (o->raw != NULL) + (o->serve != NULL) +
                  (o->exec != NULL);
    if (answers > 1)
        return usage(err, errlen, o->cmd,
                     "choose one of --status/--header/--body, --raw, --serve, --exec");
    if (o->fix_length && !o->raw)
        return usage(err, errlen, o->cmd, "--fix-length goes with --raw");
    if ((o->exec_shell) && !o->exec)
        return usage(err, errlen, o->cmd, "--exec-shell goes with --exec");
    if (o->expect && o->expect < 100)
        return usage(err, errlen, o->cmd, "--expect: %" PRIu64 " is not a status (100-999, or 0)",
                     o->expect);
    for (size_t i = 0; i < o->headers.n; i++) {
        const char *h = o->headers.v[i], *colon = strchr(h, ':');
        if (!colon || colon == h)
            return usage(err, errlen, o->cmd, "--header '%s': expected 'Name: value'", h);
    }
    struct delivery d;
    memset(&d, 0, sizeof d);
    char why[200];
    if (o->trickle && delivery_parse_trickle(o->trickle, &d.trickle_bytes, &d.trickle_ms) != 0)
        return usage(err, errlen, o->cmd, "--trickle '%s': expected BYTES/TIME (e.g. 16/100ms)",
                     o->trickle);
    if (o->split && delivery_parse_split(o->split, &d, why, sizeof why) != 0)
        return usage(err, errlen, o->cmd, "--split '%s': %s", o->split, why);
    uint8_t *text;
    size_t len;
    if (o->body && o->body[0] != '@') {
        if (rules_unescape(o->body, &text, &len) != 0)
            return usage(err, errlen, o->cmd,
                         "--body: bad escape (use \\n \\r \\t \\\\ \\xNN \\@)");
        free(text);
    }
    return OPTIONS_RUN;
}

/* A filter expression given as option --name (NULL: not given) must compile. */
static int validate_filter(enum command cmd, const char *name, const char *expr, char *err,
                           size_t errlen)
{
    if (!expr)
        return OPTIONS_RUN;
    char why[512];
    size_t pos = 0;
    struct filter *f = filter_compile(expr, why, sizeof why, &pos);
    if (!f)
        return usage(err, errlen, cmd, "--%s: at offset %zu: %s", name, pos, why);
    filter_free(f);
    return OPTIONS_RUN;
}

/* --filter, --intercept, --hold-timeout-action and --replay-to. */
static int validate_intercept(struct options *o, char *err, size_t errlen)
{
    char why[512];
    int rc = validate_filter(o->cmd, "filter", o->filter, err, errlen);
    if (rc == OPTIONS_RUN)
        rc = validate_filter(o->cmd, "intercept", o->intercept, err, errlen);
    if (rc != OPTIONS_RUN)
        return rc;
    if (o->hold_action && strcmp(o->hold_action, "accept") != 0 &&
        strcmp(o->hold_action, "kill") != 0)
        return usage(err, errlen, o->cmd, "--hold-timeout-action: '%s' is not accept or kill",
                     o->hold_action);
    o->hold_kills = o->hold_action && strcmp(o->hold_action, "kill") == 0;
    if (o->replay_to && hostport_peer(o->replay_to, o->replay_host, sizeof o->replay_host,
                                      &o->replay_port, why, sizeof why) != 0)
        return usage(err, errlen, o->cmd, "--replay-to: %s", why);
    return OPTIONS_RUN;
}

static int validate(struct options *o, char *err, size_t errlen)
{
    if (strcmp(o->log, "line") == 0)
        o->log_style = LOG_LINE;
    else if (strcmp(o->log, "full") == 0)
        o->log_style = LOG_FULL;
    else if (strcmp(o->log, "none") == 0)
        o->log_style = LOG_NONE;
    else
        return usage(err, errlen, o->cmd, "--log: '%s' is not one of line, full, none", o->log);
    if (o->lint_request && o->lint_response)
        return usage(err, errlen, o->cmd, "--request and --response exclude each other");
    int rc = validate_intercept(o, err, errlen);
    if (rc == OPTIONS_RUN)
        rc = validate_bodies(o, err, errlen);
    if (rc != OPTIONS_RUN)
        return rc;
    if (o->cmd == CMD_LISTEN)
        return validate_listen(o, err, errlen);
    return validate_export(o, err, errlen);
}

/* Builds the getopt_long table for one subcommand; returns the short-option string. */
static void build_getopt(enum command cmd, struct option *longs, char *shorts, int *index_of)
{
    size_t nl = 0, ns = 0;
    /* No leading '+': options may come after the arguments too ("hspy proxy 8000 up:80
     * --har x.har"), as GNU tools allow; "--" ends the options. */
    shorts[ns++] = ':';
    shorts[ns++] = 'h';
    for (size_t i = 0; i < NOPTIONS; i++) {
        const struct option_def *d = &OPTIONS[i];
        if (!(d->commands & CMD_BIT(cmd)))
            continue;
        longs[nl].name = d->name;
        longs[nl].has_arg = d->kind == OPT_FLAG ? no_argument : required_argument;
        longs[nl].flag = NULL;
        longs[nl].val = OPT_VAL_BASE + (int)i;
        index_of[nl] = (int)i;
        nl++;
        if (d->short_name) {
            shorts[ns++] = d->short_name;
            if (d->kind != OPT_FLAG)
                shorts[ns++] = ':';
        }
    }
    longs[nl++] = (struct option){"help", no_argument, NULL, 'h'};
    longs[nl] = (struct option){NULL, 0, NULL, 0};
    shorts[ns] = '\0';
}

static const struct option_def *by_short(enum command cmd, int c)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (OPTIONS[i].short_name == c && (OPTIONS[i].commands & CMD_BIT(cmd)))
            return &OPTIONS[i];
    return NULL;
}

/*
 * What getopt_long refused: an unknown option, or "--name=value" given to an option that takes
 * no value. getopt then puts the option's val in optopt: a table index past OPT_VAL_BASE or
 * 'h' (--help), which only name the option through the table.
 */
static int refused(enum command cmd, const char *bad, char *err, size_t errlen)
{
    bool is_long = strncmp(bad, "--", 2) == 0;
    if (is_long && optopt >= OPT_VAL_BASE && optopt < OPT_VAL_BASE + (int)NOPTIONS)
        return usage(err, errlen, cmd, "option '--%s' takes no value",
                     OPTIONS[optopt - OPT_VAL_BASE].name);
    if (is_long && optopt == 'h')
        return usage(err, errlen, cmd, "option '--help' takes no value");
    if (optopt && !is_long)
        return usage(err, errlen, cmd, "unknown option '-%c'", optopt);
    return usage(err, errlen, cmd, "unknown option '%s'", bad);
}

static int parse_global(struct options *o, int argc, char **argv, char *err, size_t errlen)
{
    if (argc < 2)
        return usage(err, errlen, CMD_NONE, "missing command (listen, proxy, read, lint, sniff)");
    const char *a = argv[1];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0 || strcmp(a, "help") == 0) {
        o->cmd = argc > 2 ? find_command(argv[2]) : CMD_NONE;
        return OPTIONS_HELP;
    }
    if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0 || strcmp(a, "version") == 0)
        return OPTIONS_VERSION;
    if (a[0] == '-')
        return usage(err, errlen, CMD_NONE, "unknown option '%s' (options follow the command)", a);
    o->cmd = find_command(a);
    if (o->cmd == CMD_NONE)
        return usage(err, errlen, CMD_NONE,
                     "unknown command '%s' (expected listen, proxy, read, lint or sniff)", a);
    return -1;
}

int options_parse(struct options *o, int argc, char **argv, char *err, size_t errlen)
{
    int rc = parse_global(o, argc, argv, err, errlen);
    if (rc >= 0)
        return rc;
    struct option longs[NOPTIONS + 2];
    int index_of[NOPTIONS + 1];
    char shorts[2 * NOPTIONS + 8];
    build_getopt(o->cmd, longs, shorts, index_of);

    int sub_argc = argc - 1;
    char **sub_argv = argv + 1;
    optind = 0; /* glibc: full reset, so options_parse can run more than once (tests) */
    opterr = 0;
    int c, li = -1;
    while ((c = getopt_long(sub_argc, sub_argv, shorts, longs, &li)) != -1) {
        const struct option_def *d = NULL;
        if (c == 'h')
            return OPTIONS_HELP;
        if (c == '?')
            return refused(o->cmd, sub_argv[optind - 1], err, errlen);
        if (c == ':') {
            const char *bad = sub_argv[optind - 1];
            return usage(err, errlen, o->cmd, "option '%s' needs a value", bad);
        }
        if (c >= OPT_VAL_BASE)
            d = &OPTIONS[c - OPT_VAL_BASE];
        else
            d = by_short(o->cmd, c);
        if (!d)
            return usage(err, errlen, o->cmd, "unknown option");
        char why[512];
        if (apply(o, d, optarg, why, sizeof why) != 0)
            return usage(err, errlen, o->cmd, "%s", why);
        li = -1;
    }
    rc = positional(o, sub_argc - optind, sub_argv + optind, err, errlen);
    if (rc != OPTIONS_RUN)
        return rc;
    return validate(o, err, errlen);
}

static void help_overview(struct dynbuf *out)
{
    dynbuf_printf(out, "hspy %s - %s\n\nUsage: %s\n\nCommands:\n", HSPY_VERSION,
                  COMMANDS[CMD_NONE].summary, COMMANDS[CMD_NONE].usage);
    for (int c = 1; c < CMD__COUNT; c++)
        dynbuf_printf(out, "  %-8s %s\n", COMMANDS[c].name, COMMANDS[c].summary);
    dynbuf_adds(out, "\nExamples:\n"
                     "  hspy listen 8000                  echo server on 127.0.0.1:8000\n"
                     "  hspy proxy 8000 localhost:9000    inspecting proxy in front of :9000\n"
                     "  hspy read dump.pcap               HTTP exchanges out of a capture\n"
                     "  hspy lint request.txt             explain what is wrong with a message\n"
                     "\nGlobal options:\n"
                     "  -h, --help                 show this help ('hspy COMMAND --help' for one "
                     "command)\n"
                     "  -V, --version              show the version\n"
                     "\nWithout a terminal on stdout (or with --no-tui) exchanges are printed one "
                     "per line.\nSee hspy(1) for keys, filters, formats and limits.\n");
}

/*
 * The headings of a subcommand's help, each with the options it gathers (in the table's
 * order). An option no group names is listed under the last heading, so none is ever lost.
 */
static const struct {
    const char *title;
    const char *const *names;
} HELP_GROUPS[] = {
    {"Output", (const char *const[]){"no-tui", "log", "json", "har", "body-limit", "filter", "save",
                                     "pcapng", "save-bodies", "save-decoded", "hash-bodies", NULL}},
    {"Intercept and replay",
     (const char *const[]){"intercept", "hold-timeout", "hold-timeout-action", "replay-to", NULL}},
    {"Answers",
     (const char *const[]){"status", "header", "body", "raw", "fix-length", "rules", "serve",
                           "exec", "exec-shell", "exec-timeout", "expect", NULL}},
    {"Delivery of answers",
     (const char *const[]){"delay-head", "delay-body", "trickle", "split", "close-after",
                           "reset-after", "content-length", NULL}},
    {"Upstream",
     (const char *const[]){"preserve-host", "xff", "forwarded", "reverse-only", "buffer-requests",
                           "buffer-memory", "buffer-max", "connect-timeout", "upstream-timeout",
                           "upstream-keepalive", "upstream-per-client", "upstream-idle", NULL}},
    {"Input",
     (const char *const[]){"interface", "bpf", "max-connections", "request", "response", NULL}},
    {"Export", (const char *const[]){"export", "id", "output", NULL}},
    {"Connections", (const char *const[]){"max-conns", "idle-timeout", "head-timeout", NULL}},
    {"Limits", NULL},
};
enum { HELP_GROUP_OTHER = sizeof HELP_GROUPS / sizeof HELP_GROUPS[0] - 1 };

static size_t help_group(const struct option_def *d)
{
    for (size_t g = 0; g < HELP_GROUP_OTHER; g++)
        for (const char *const *n = HELP_GROUPS[g].names; *n; n++)
            if (strcmp(*n, d->name) == 0)
                return g;
    return HELP_GROUP_OTHER;
}

static void help_option(struct dynbuf *out, const struct option_def *d)
{
    char left[64];
    if (d->short_name)
        snprintf(left, sizeof left, "-%c, --%s%s%s", d->short_name, d->name, d->metavar ? " " : "",
                 d->metavar ? d->metavar : "");
    else
        snprintf(left, sizeof left, "    --%s%s%s", d->name, d->metavar ? " " : "",
                 d->metavar ? d->metavar : "");
    if (strlen(left) > 26)
        dynbuf_printf(out, "  %s\n  %-26s %s\n", left, "", d->help);
    else
        dynbuf_printf(out, "  %-26s %s\n", left, d->help);
}

void options_help(struct dynbuf *out, enum command cmd)
{
    if (cmd == CMD_NONE || cmd >= CMD__COUNT) {
        help_overview(out);
        return;
    }
    dynbuf_printf(out, "Usage: %s\n\n%s.\n", COMMANDS[cmd].usage, COMMANDS[cmd].summary);
    for (size_t g = 0; g <= HELP_GROUP_OTHER; g++) {
        bool titled = false;
        for (size_t i = 0; i < NOPTIONS; i++) {
            const struct option_def *d = &OPTIONS[i];
            if (!(d->commands & CMD_BIT(cmd)) || help_group(d) != g)
                continue;
            if (!titled)
                dynbuf_printf(out, "\n%s:\n", HELP_GROUPS[g].title);
            titled = true;
            help_option(out, d);
        }
    }
    dynbuf_printf(out, "\n  %-26s %s\n", "-h, --help", "show this help");
}
