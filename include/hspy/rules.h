/*
 * rules: the ordered response rules of `hspy listen --rules FILE`.
 *
 * A rules file is a list of rules; the first rule whose match fits a request answers it. Each
 * rule starts with "match METHODS PATTERN" and continues with directives (one per line) until
 * the next "match": conditions on headers, what to answer (status/headers/body, a raw response
 * file, the echo, a directory to serve, a command to run) and how to deliver it. The format is
 * documented with examples in docs/listen.md. Parsing is pure and reports the first problem as
 * "FILE:LINE: reason"; files named by rules are read through a loader the caller supplies.
 */
#ifndef HSPY_RULES_H
#define HSPY_RULES_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/delivery.h"
#include "hspy/message.h"

enum { RULES_MAX = 10000, RULES_LINE_MAX = 8192, RULES_HEADERS_MAX = 128 };

enum rule_action {
    RULE_FIXED = 0, /* status, headers, body */
    RULE_RAW,       /* a raw response file, sent as written (optionally length-fixed) */
    RULE_ECHO,      /* the echo response */
    RULE_SERVE,     /* static files from a directory */
    RULE_EXEC,      /* a CGI command */
};

struct rule_header {
    char *name;  /* header name (matched case-insensitively) */
    char *glob;  /* value glob, NULL = presence only */
    bool absent; /* "!Name": the header must not be there */
};

struct rule {
    unsigned line; /* where the rule starts */
    /* The line of the directive naming what the answer needs from outside the rules file (body
     * @FILE, raw, serve, exec), for messages about it; 0 when there is none. */
    unsigned answer_line;
    char *name;     /* shown on exchanges as "rule: NAME"; defaults to "LINE" */
    char **methods; /* NULL: any method */
    size_t nmethods;
    char *pattern; /* path glob, or the regular expression text */
    bool is_regex;
    regex_t re;
    struct rule_header *when;
    size_t nwhen;

    uint8_t action; /* enum rule_action */
    uint16_t status;
    char *reason;   /* NULL: the standard phrase */
    char **headers; /* "Name: value" */
    size_t nheaders;
    uint8_t *body; /* body bytes (from text or, after rules_load, from body_file) */
    size_t body_len;
    char *body_file; /* path to read the body from (resolved against the rules file's folder) */
    char *raw_file;  /* RULE_RAW: path of the raw response */
    uint8_t *raw;    /* RULE_RAW: its bytes after rules_load */
    size_t raw_len;
    bool fix_length;
    char *dir;  /* RULE_SERVE */
    char *cmd;  /* RULE_EXEC: the command line */
    bool shell; /* RULE_EXEC: run through /bin/sh -c */
    int expect; /* status answered to Expect: 100-continue; -1 = the default */
    struct delivery delivery;
};

struct rules {
    struct rule *v;
    size_t n;
    char *file; /* the file name, for messages */
};

/*
 * Parses a rules file's text (n bytes; file is its name for messages and the base of relative
 * paths). Returns 0, or -1 with "FILE:LINE: reason" in err (r is then empty). r must be
 * released with rules_cleanup either way.
 */
int rules_parse(struct rules *r, const char *text, size_t n, const char *file, char *err,
                size_t errlen);
void rules_cleanup(struct rules *r);

/*
 * Reads every file the rules name through load (which returns 0 and a malloc'ed buffer, or -1
 * with a reason in why). Returns 0, or -1 with "FILE:LINE: cannot read 'PATH': why" in err,
 * LINE being that of the directive naming PATH.
 */
int rules_load(struct rules *r,
               int (*load)(void *data, const char *path, uint8_t **buf, size_t *len, char *why,
                           size_t whylen),
               void *data, char *err, size_t errlen);

/* The first rule matching the request (its head must be parsed), or NULL. */
const struct rule *rules_match(const struct rules *r, const struct message *req);

/*
 * Glob matching of a path: '*' matches within a segment (no '/'), '**' across segments, '?'
 * one character other than '/', '\' escapes the next character. Exposed for tests.
 */
bool rules_glob(const char *pattern, const uint8_t *s, size_t n);
/* The same for header values, where '*' and '?' match any character, '/' included. */
bool rules_glob_value(const char *pattern, const uint8_t *s, size_t n);

/* Decodes C escapes (\n \r \t \\ \xNN \@) of a body text into out. Returns 0 or -1. */
int rules_unescape(const char *text, uint8_t **out, size_t *len);

/*
 * Appends the rules-file text of one rule (its match line, then one directive per line) that
 * rules_parse reads back as the same rule: body bytes are escaped and split into several body
 * lines at newlines; file paths (body-file, raw, serve) are written as stored, that is
 * resolved against the folder of the file the rule came from. Returns 0, or -1 with a reason
 * in err when a line would pass RULES_LINE_MAX (out is then unchanged).
 */
int rules_format(struct dynbuf *out, const struct rule *r, char *err, size_t errlen);

/*
 * Appends the text of a rule named name that answers method and path (matched exactly: glob
 * characters are escaped) with the response raw[0..n): its status (and reason when it is not
 * the standard one), every header field as written, and its body. Returns 0, or -1 with a
 * reason in err when raw has no response head a rule can express (obs-fold, a field without a
 * name) or a line would be too long.
 */
int rules_format_response(struct dynbuf *out, const char *name, const char *method,
                          const uint8_t *path, size_t pathlen, const uint8_t *raw, size_t n,
                          char *err, size_t errlen);

#endif
