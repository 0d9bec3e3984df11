/*
 * intercept: messages held for the user in `hspy listen` and `hspy proxy`.
 *
 * The intercept filter (the filter language: `i` in the interface, --intercept on the command
 * line) says which messages are held. A mode asks intercept_wants at its hold points (listen: a
 * request whose head arrived waits for the user's answer; proxy: a request head before it goes
 * upstream, a response head before it goes back) and, when told yes, registers the hold with
 * the operations that let the message go on or kill its connection. The user (through the
 * interface) or the hold timeout then decides: release as it was, with an edit, with another
 * answer, or kill. Every other connection keeps being served meanwhile: nothing here blocks.
 *
 * A held exchange is pinned in the store and flagged EX_HELD (EX_INTERCEPTED stays once the
 * hold ends); the store's held counter follows the holds. At most INTERCEPT_HOLDS_MAX holds
 * exist at once (a mode holds at most one message per connection, so --max-conns bounds them
 * first); past that, messages go on unheld and are counted.
 */
#ifndef HSPY_INTERCEPT_H
#define HSPY_INTERCEPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "hspy/delivery.h"
#include "hspy/dynbuf.h"
#include "hspy/exchange.h"
#include "hspy/filter.h"
#include "hspy/store.h"

enum { INTERCEPT_HOLDS_MAX = 65536 };

/* What a released message becomes. */
enum intercept_answer {
    INTERCEPT_AS_IS = 0, /* as it would have gone (listen: the answer the request would get) */
    INTERCEPT_BYTES,     /* exactly these bytes (an edit, a crafted response) */
    INTERCEPT_ECHO,      /* listen: the echo */
    INTERCEPT_RULE,      /* listen: the answer of rule number `rule` */
};

struct intercept_release {
    uint8_t answer; /* enum intercept_answer */
    size_t rule;    /* INTERCEPT_RULE: index in the mode's rules */
    const uint8_t *bytes;
    size_t len;                  /* INTERCEPT_BYTES (the mode copies them) */
    const struct delivery *plan; /* listen: how to deliver (copied); NULL = the answer's own */
};

/* What a mode does when one of its holds ends. ex is the held exchange (pinned). */
struct intercept_hold_ops {
    /* Lets the message go on as r says; called once, after the hold was removed. */
    void (*release)(void *data, struct exchange *ex, const struct intercept_release *r);
    /* Closes the connection (reset); the mode flags ex killed. Called once. */
    void (*kill)(void *data, struct exchange *ex);
};

struct intercept_hold {
    uint64_t id;       /* the held exchange */
    uint8_t side;      /* enum side: the message held */
    uint8_t edits;     /* enum side: the message a user's edit replaces (listen: the response) */
    uint64_t since_ms; /* loop time the hold began */
    const struct intercept_hold_ops *ops;
    void *data;
    struct delivery plan; /* listen: delivery controls chosen while held */
    bool has_plan;
    uint8_t choice; /* enum intercept_answer chosen while held (AS_IS: none) */
    size_t rule;    /* INTERCEPT_RULE choice */
    struct intercept_hold *prev, *next;
};

/*
 * A mode's prepared answers (listen); NULL for a mode without them (proxy). The interface
 * offers them for held requests.
 */
struct intercept_answers {
    void *data;
    /*
     * Appends the bytes the default answer to ex would be (the editor's starting point).
     * Returns 0, or -1 when that answer is not fixed bytes (static files, a command): out then
     * holds a plain 200 response to start from.
     */
    int (*preview)(void *data, const struct exchange *ex, struct dynbuf *out);
    size_t (*nrules)(void *data);
    /* One line describing rule i ("webhook-ok: POST /hooks/... -> 200"), written into buf. */
    const char *(*rule)(void *data, size_t i, char *buf, size_t len);
    /* The index of the rule named name (or numbered, 1-based), or -1. */
    long (*find_rule)(void *data, const char *name);
    /* Adds a rule (rules-file text, one rule) in front of the others. 0, or -1 with err. */
    int (*add_rule)(void *data, const char *text, char *err, size_t errlen);
    /* Writes the rules to path (NULL: the --rules file): rules added here, then the file's own
     * text. Returns the number of rules written, or -1 with err. */
    long (*write_rules)(void *data, const char *path, char *err, size_t errlen);
    const char *(*rules_file)(void *data); /* the --rules file, or NULL */
    /* Makes raw (copied) the answer to requests no rule matches; NULL restores the default. */
    void (*set_default)(void *data, const uint8_t *raw, size_t n);
};

struct intercept_counters {
    uint64_t held;      /* holds ever begun */
    uint64_t released;  /* released (as they were or edited) */
    uint64_t edited;    /* released with other bytes or another answer */
    uint64_t killed;    /* killed by the user or the timeout */
    uint64_t timed_out; /* ended by the hold timeout */
    uint64_t dropped;   /* the connection went away while held */
    uint64_t overflow;  /* not held because INTERCEPT_HOLDS_MAX holds existed */
};

struct intercept {
    uv_loop_t *loop;
    struct store *store;
    struct filter *filter; /* NULL: nothing is held */
    char expr[FILTER_EXPR_MAX + 1];
    uint64_t timeout_ms; /* 0: holds last until the user decides */
    bool timeout_kills;  /* the timeout kills instead of releasing */
    struct intercept_hold *first, *last;
    size_t n;
    uv_timer_t timer;
    bool timer_open;
    const struct intercept_answers *answers;
    struct dynbuf last_crafted; /* listen: the last response sent as crafted bytes */
    bool default_crafted;       /* listen: last_crafted answers requests no rule matches */
    struct intercept_counters counters;
};

/* Prepares ic on loop over store (both outlive it). timeout_ms 0: no hold timeout. */
void intercept_init(struct intercept *ic, uv_loop_t *loop, struct store *store, uint64_t timeout_ms,
                    bool timeout_kills);
/* Closes the timer (the loop must run afterwards to finish the close). Idempotent. */
void intercept_close(struct intercept *ic);
/* Frees the filter and buffers; every hold must have ended (the mode's connections closed). */
void intercept_cleanup(struct intercept *ic);

/* Sets the intercept filter ("" holds nothing). Returns 0, or -1 with err and *errpos. */
int intercept_set_filter(struct intercept *ic, const char *expr, char *err, size_t errlen,
                         size_t *errpos);
/* True when ex should be held now (a filter is set and ex matches it). Counts an overflow. */
bool intercept_wants(struct intercept *ic, const struct exchange *ex);

/*
 * Holds ex: side is the message held, edits the message a user's edit replaces. The hold ends
 * through ops (release or kill) or intercept_drop. Returns the hold (owned by ic).
 */
struct intercept_hold *intercept_hold(struct intercept *ic, struct exchange *ex, enum side side,
                                      enum side edits, const struct intercept_hold_ops *ops,
                                      void *data);
/* The mode's connection went away while held: ends the hold without calling its ops. */
void intercept_drop(struct intercept *ic, struct intercept_hold *h);

/* The hold of exchange id, or NULL. */
struct intercept_hold *intercept_find(const struct intercept *ic, uint64_t id);
/*
 * Ends the hold of exchange id with r; a staged edit is dropped from the exchange (r carries
 * what goes out). An INTERCEPT_BYTES answer to a held request (listen) records the answer the
 * mode would have given, for the diff; a mode replacing a message that arrived records it
 * itself (edit_replace) once it has all of it. Returns 0, or -1 when id is not held.
 */
int intercept_release(struct intercept *ic, uint64_t id, const struct intercept_release *r);
/* Releases id with what was chosen while held: the staged edit, else the answer picked, else
 * as it was; the delivery controls chosen apply. Returns 0, or -1 when id is not held. */
int intercept_accept(struct intercept *ic, uint64_t id);
/* intercept_accept for every hold that exists now; returns how many. */
size_t intercept_accept_all(struct intercept *ic);
/* Kills the connection of held exchange id. Returns 0, or -1 when id is not held. */
int intercept_kill(struct intercept *ic, uint64_t id);

#endif
