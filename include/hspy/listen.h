/*
 * listen: `hspy listen`, the echo and mock server.
 *
 * struct listen is the server: what it answers (the default answer from the command line,
 * optional rules in front of it, the delivery plan) and the plumbing it runs on (a listener,
 * its conn group, the signal watchers). Each accepted connection is a struct client (client.c)
 * that feeds the conversation engine, asks the answer table for a reply per request and writes
 * that reply through a sender, recording every byte it sends as the server side of the
 * exchange.
 */
#ifndef HSPY_LISTEN_H
#define HSPY_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/conn.h"
#include "hspy/delivery.h"
#include "hspy/exec.h"
#include "hspy/flusher.h"
#include "hspy/httpdate.h"
#include "hspy/intercept.h"
#include "hspy/listener.h"
#include "hspy/reply.h"
#include "hspy/rules.h"
#include "hspy/serve.h"
#include "hspy/signals.h"

struct hspy;

/* Files given on the command line or named by rules are read whole, up to this size. */
#define LISTEN_FILE_MAX ((size_t)256 << 20)

/* What to answer: the default (command line) or one rule's. */
struct answer {
    uint8_t action; /* enum rule_action */
    uint16_t status;
    const char *reason;
    const char *const *headers;
    size_t nheaders;
    const uint8_t *body;
    size_t body_len;
    const uint8_t *raw; /* RULE_RAW: bytes as they will be sent (length fixed when asked) */
    size_t raw_len;
    const struct serve *serve;
    const struct exec_cfg *exec;
    int expect;                  /* status for Expect: 100-continue; -1 = the server's */
    const struct delivery *plan; /* NULL = none */
    const char *name;            /* rule name for the exchange note, or NULL */
    bool raw_copy;               /* RULE_RAW: each reply sends its own copy of raw (the bytes
                                    may be replaced while replies are in flight) */
};

/* A rule added from the interface (a crafted response saved as a rule). */
struct listen_added {
    struct rules rules; /* one rule */
    struct answer answer;
    char *text;   /* its rules-file text */
    bool written; /* already written to the --rules file */
    struct listen_added *next;
};

struct listen_counters {
    uint64_t idle_closed; /* keep-alive connections closed after the idle timeout */
    uint64_t timed_out;   /* connections closed by a timeout with a request in flight */
    uint64_t rejected;    /* requests answered 400/431 because framing was impossible */
};

struct listen {
    struct hspy *h;
    struct listener listener;
    struct conn_group conns;
    struct signals signals;
    struct flusher flusher; /* printed records out within FLUSHER_MS */
    struct listen_counters counters;
    bool stopping;

    struct answer fallback; /* the command line's answer */
    struct delivery plan;   /* the command line's delivery plan */
    uint16_t expect;        /* --expect */
    /* resources of the fallback */
    uint8_t *body, *raw;
    size_t body_len, raw_len;
    struct serve serve;
    struct exec_cfg exec;
    bool have_serve, have_exec;
    /* rules and their resources, indexed like rules.v */
    struct rules rules;
    struct answer *rule_answers;
    struct serve *rule_serve;
    struct exec_cfg *rule_exec;
    uint8_t **rule_raw;
    /* from the interface: rules added (newest first, in front of the file's), the crafted
     * response made the default answer */
    struct listen_added *added;
    size_t nadded;
    struct answer crafted;
    uint8_t *crafted_raw;
    bool use_crafted;
    struct intercept intercept;
    struct intercept_answers answers;

    char software[32]; /* "hspy/VERSION" */
    char date[HTTPDATE_LEN];
    int64_t date_sec;
};

/* The answer for a request whose head was parsed: a matching rule's (rules added from the
 * interface first), else the crafted default when one was chosen, else the fallback. */
const struct answer *listen_answer(const struct listen *l, const struct message *req);
/* The answer of rule i, counting the added rules (newest first) and then the file's; NULL past
 * the last. */
const struct answer *listen_rule_answer(const struct listen *l, size_t i);
/* The Date header value for a response made at now_ns (formatted once a second). */
const char *listen_date(struct listen *l, int64_t now_ns);

#endif
