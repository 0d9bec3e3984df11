/*
 * options: hspy's command line, as data.
 *
 * Every option is one row of a table (name, kind, the subcommands that accept it, where its
 * value goes in struct options, help text). Parsing (getopt_long), help screens and the man
 * page check are all generated from that table, so they cannot disagree. Parsing is pure: it
 * reads argv and fills a struct; it opens nothing.
 */
#ifndef HSPY_OPTIONS_H
#define HSPY_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/dynbuf.h"

enum command { CMD_NONE = 0, CMD_LISTEN, CMD_PROXY, CMD_READ, CMD_LINT, CMD_SNIFF, CMD__COUNT };

#define CMD_BIT(c)  (1u << (c))
#define CMD_SERVERS (CMD_BIT(CMD_LISTEN) | CMD_BIT(CMD_PROXY))
#define CMD_VIEWERS (CMD_SERVERS | CMD_BIT(CMD_READ) | CMD_BIT(CMD_SNIFF))
#define CMD_ALL     (CMD_VIEWERS | CMD_BIT(CMD_LINT))

const char *command_name(enum command c);

enum log_style { LOG_LINE = 0, LOG_FULL, LOG_NONE };

/* A repeatable option's values, in command-line order (pointers into argv). */
struct strlist {
    const char **v;
    size_t n;
};

struct options {
    enum command cmd;

    /* positional arguments */
    const char *address;  /* listen/proxy: [HOST:]PORT as typed */
    char host[256];       /* listen/proxy: host part ("127.0.0.1" when omitted) */
    uint16_t port;        /* listen/proxy: port (0 = pick a free one) */
    const char *upstream; /* proxy: UPSTREAM as typed */
    const char *file;     /* read/lint: FILE or "-" */
    const char *bpf;      /* read --bpf, sniff's trailing expression */
    char *bpf_owned;      /* sniff: the words of the expression joined (freed by cleanup) */

    /* output */
    bool no_tui;
    bool json;
    const char *log; /* "line" (default), "full", "none" */
    enum log_style log_style;
    const char *har_path;
    size_t body_limit; /* --log full: body bytes printed per message */
    /* --filter EXPR: only exchanges matching it are printed or written (--har) */
    const char *filter;

    /* engine limits */
    uint64_t head_max;
    uint64_t headers_max;
    uint64_t chunk_digits_max;
    uint64_t chunk_ext_max;
    size_t body_keep;   /* body bytes kept per message */
    size_t decode_max;  /* decoded body cap (decompression bombs) */
    uint64_t max_flows; /* exchanges kept for the UI */
    size_t max_memory;  /* memory for kept exchanges */

    /* servers */
    uint64_t max_conns;
    uint64_t idle_timeout_ms;
    uint64_t head_timeout_ms; /* a request head must be complete this long after its first byte */

    /* listen: what to answer (default: the echo) */
    uint64_t status;          /* --status (0 = not given) */
    struct strlist headers;   /* --header 'Name: value', repeatable */
    const char *body;         /* --body TEXT or @FILE */
    const char *raw;          /* --raw FILE: a raw response sent as written */
    bool fix_length;          /* --fix-length: correct the raw response's Content-Length */
    const char *rules;        /* --rules FILE */
    const char *serve;        /* --serve DIR */
    const char *exec;         /* --exec CMD */
    bool exec_shell;          /* --exec-shell: run CMD through /bin/sh -c */
    uint64_t exec_timeout_ms; /* --exec-timeout */
    uint64_t expect;          /* status answered to Expect: 100-continue (0 = none) */
    /* listen: delivery controls (delays 0 = none; byte counts UINT64_MAX = not given) */
    uint64_t delay_head_ms;
    uint64_t delay_body_ms;
    const char *trickle; /* "BYTES/TIME" */
    const char *split;   /* "A,B,C[/TIME]" */
    uint64_t close_after;
    uint64_t reset_after;
    uint64_t content_length;

    /* lint */
    bool lint_request;
    bool lint_response;

    /* sniff */
    const char *iface;

    /* read and sniff */
    uint64_t capture_conns; /* TCP connections tracked at once (0 = FLOWTABLE_FLOWS_DEFAULT) */

    /* proxy */
    bool preserve_host;           /* --preserve-host: forward Host as received */
    bool xff;                     /* --xff: append the client address to X-Forwarded-For */
    bool forwarded;               /* --forwarded: append an RFC 7239 Forwarded element */
    bool reverse_only;            /* --reverse-only: refuse absolute-form targets and CONNECT */
    bool buffer_requests;         /* --buffer-requests: whole request body before upstream */
    uint64_t buffer_memory;       /* --buffer-memory: spooled bytes kept in memory */
    uint64_t buffer_max;          /* --buffer-max: largest spooled request body */
    uint64_t connect_timeout_ms;  /* --connect-timeout */
    uint64_t upstream_timeout_ms; /* --upstream-timeout: upstream silent while a response is due */
    uint64_t upstream_keepalive;  /* --upstream-keepalive: idle upstream connections kept */
    bool upstream_per_client;     /* --upstream-per-client: no upstream connection is shared */
    uint64_t upstream_idle_ms;    /* --upstream-idle: how long an idle one is kept */
    bool hash_bodies;             /* --hash-bodies: SHA-256 of every proxied body */
    /* sessions: files in and out (docs/sessions.md) */
    const char *pcapng_path;   /* --pcapng FILE: the session as synthesized packets */
    const char *bodies_dir;    /* --save-bodies DIR: every body whole, a file each */
    bool save_decoded;         /* --save-decoded: and a decoded copy of each coded one */
    const char *save_path;     /* --save FILE: the session's exchanges as HAR, at exit */
    const char *export_format; /* read --export FORMAT (enum export_format by name) */
    int export_kind;           /* the format, once validated */
    uint64_t export_id;        /* --id N: the exchange to export (0 = not given) */
    const char *output_path;   /* --output FILE for the export ("-" or NULL: stdout) */
    /* intercept and replay */
    const char *intercept;    /* --intercept EXPR: hold matching messages */
    uint64_t hold_timeout_ms; /* --hold-timeout (0 = hold until the user decides) */
    const char *hold_action;  /* --hold-timeout-action: "accept" (default) or "kill" */
    bool hold_kills;          /* hold_action is "kill" */
    const char *replay_to;    /* --replay-to HOST:PORT as typed */
    char replay_host[256];    /* its host part */
    uint16_t replay_port;     /* its port */
};

enum options_result {
    OPTIONS_RUN = 0,     /* run opt->cmd */
    OPTIONS_HELP = 1,    /* print the help text that options_help gives for opt->cmd; exit 0 */
    OPTIONS_VERSION = 2, /* print the version; exit 0 */
    OPTIONS_USAGE = 3,   /* err holds a one-line error and hint; exit 2 */
};

/* Sets every option to its default. */
void options_init(struct options *o);
/* Frees what parsing allocated (repeatable option lists). */
void options_cleanup(struct options *o);

/*
 * Parses argv (argv[0] is the program). Fills o and returns an enum options_result; for
 * OPTIONS_USAGE, err receives "hspy: <problem>\nTry 'hspy <cmd> --help'." style text.
 * The strings in o point into argv.
 */
int options_parse(struct options *o, int argc, char **argv, char *err, size_t errlen);

/*
 * Formats a usage error about cmd's command line into err exactly as options_parse does
 * ("hspy CMD: problem\nTry 'hspy CMD --help'."), for a value that can only be judged once the
 * mode runs (a capture filter against the capture's link type). Returns OPTIONS_USAGE.
 */
int options_usage(char *err, size_t errlen, enum command cmd, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Appends the help text for a subcommand (CMD_NONE: the program overview). */
void options_help(struct dynbuf *out, enum command cmd);

/* Table access for documentation checks: the i-th option's long name, or NULL past the end. */
const char *options_name(size_t i, unsigned *commands);

/* Parses sizes like "64k", "1M", "2GiB", "4096" (binary multiples). Returns 0 or -1. */
int options_parse_size(const char *s, uint64_t *out);
/* Parses durations like "250ms", "5s", "2m", "1h", "30" (seconds). Returns 0 or -1. */
int options_parse_duration_ms(const char *s, uint64_t *out);

#endif
