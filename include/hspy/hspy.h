/*
 * hspy: the one session object. main builds it from the command line and passes it to the
 * mode; callbacks reach it through their data pointers. There are no other globals.
 */
#ifndef HSPY_HSPY_H
#define HSPY_HSPY_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "hspy/http.h"
#include "hspy/exchange.h"
#include "hspy/heap.h"
#include "hspy/options.h"
#include "hspy/store.h"

struct bodyfiles;
struct bodytap;
struct capture_config;
struct exportfile;
struct intercept;
struct listener;
struct pcapngsink;
struct sinks;
struct tui;

/* Progress of reading a capture (read and sniff modes), for status lines. */
struct hspy_load {
    uint64_t bytes_read;  /* bytes of the input consumed so far */
    uint64_t file_size;   /* 0 when unknown (stdin, pipes, live capture) */
    uint64_t packets;     /* frames read (HAR: entries) */
    uint64_t connections; /* HTTP connections found */
    uint64_t evicted;     /* open connections dropped by the connection table cap */
    uint64_t gaps;        /* stretches of TCP bytes missing from the capture */
    bool stream;          /* the input is a stream (a pipe): no size, bytes as they come */
    bool entries;         /* packets counts a HAR document's entries */
    bool active;          /* a capture is being read */
    bool done;            /* the whole input was read (or reading stopped at an error) */
};

struct hspy {
    struct options opt;
    /* What messages and the status bar call the input of read and lint: the path as given,
     * also when a FIFO or /dev/fd/N was put on stdin (opt.file is then "-"), or "stdin" for
     * "-". NULL for the other commands. */
    const char *input_name;
    struct http_limits limits;        /* from the options */
    struct exchange_limits ex_limits; /* from the options */
    struct store store;
    struct exchange_pool pool; /* exchanges the store dropped, for the sources to reuse */
    struct heap_advice heap;   /* huge pages for the heap while a history grows (heap.h) */
    uv_loop_t loop;
    bool interactive;    /* the TUI owns the terminal */
    struct sinks *sinks; /* stdout printers and file writers */
    struct tui *tui;     /* NULL without a terminal */
    /* The controlling terminal (/dev/tty), open when the input comes on stdin ("-") and the
     * interface runs: keys are read from it, and children that need the terminal get it as
     * their stdin. -1 otherwise: keys come from stdin. */
    int tty_fd;
    /* The UI layer's entry points, set by main (the I/O layer does not link the UI). */
    struct tui *(*tui_open)(struct hspy *h);
    void (*tui_close)(struct tui *t);
    uint64_t next_conn_id; /* connection numbers, 1-based */
    char title[640]; /* "listen 127.0.0.1:8000" etc. for status lines; "" until a mode sets it */
    /* listen, proxy: the listening socket with its connection counters (accepted, refused at
     * --max-conns, accept failures, peak) and open connections (listener.h); NULL otherwise. */
    const struct listener *listener;
    /* listen, proxy: the intercept holds (intercept.h), set by the mode once it runs; NULL
     * otherwise. */
    struct intercept *intercept;
    struct hspy_load load; /* read/sniff: how far the capture got */
    char err[1024];        /* "<what>: <why>" of an environment failure */
    bool usage;            /* err is a usage error, with its hint (exit status 2) */
    /* An output (stdout, --har, --pcapng) lost records to a write error, reported on stderr by
     * the sink; the exit status is then 1. A closed pipe on stdout is not a write error. */
    bool write_failed;
    /* Session files (docs/sessions.md). */
    struct pcapngsink *pcapng; /* --pcapng writer, or NULL */
    struct exportfile *export; /* read --export, or NULL */
    struct bodyfiles *bodies;  /* --save-bodies writer, or NULL */
    const struct bodytap *tap; /* its tap for the conversations, or NULL */
    bool started;              /* hspy_start succeeded (--save is written at the end) */
    int64_t started_ns;        /* when it started */
};

/* The wall clock in ns since the epoch. */
int64_t hspy_now(void);

/* Prepares h with defaults (before option parsing). */
void hspy_init(struct hspy *h);
/* Derives limits and store caps from h->opt and decides whether the TUI runs. */
void hspy_configure(struct hspy *h);
/*
 * Opens the sinks (stdout printers, HAR file) and the TUI when interactive. Modes call it once
 * their own environment checks (bind, open) passed, so errors come before any screen. Returns
 * 0, or -1 with h->err set.
 */
int hspy_start(struct hspy *h);
/*
 * Closes the TUI (restoring the terminal), finishes the sinks (HAR and pcapng closed), writes
 * the export and the --save file. A failure of the last two is left in h->err. Idempotent.
 */
void hspy_finish(struct hspy *h);
/* The capture settings of read and sniff, from the session's options (capture.h). */
void hspy_capture_config(struct hspy *h, struct capture_config *cfg);
/* Frees everything; the loop must have stopped. */
void hspy_cleanup(struct hspy *h);
/* Records an environment failure ("what: why") for main to print; returns 1. */
/* The longest message hspy_say prints before escaping (longer ones end in an ellipsis). */
enum { HSPY_SAY_MAX = 2048 };
/*
 * Prints "hspy: " and the formatted message on stderr as one line. The message may quote what
 * the user, a file or the network gave (a path, a HAR's creator, an interface): every byte a
 * terminal could obey is shown escaped (termsafe), line breaks included.
 */
void hspy_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hspy_vsay(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
int hspy_fail(struct hspy *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Records a usage error found once the mode runs (a bad value that parsing could not judge)
 * for main to print as options_parse's are, with the "Try" line; returns 2, the exit status.
 */
int hspy_usage(struct hspy *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#endif
