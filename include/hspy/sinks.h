/*
 * sinks: where exchanges go besides the screen. Without a terminal (or with --no-tui) a printer
 * writes each completed exchange to stdout as an access-log line (--log line, the default),
 * heads and bodies (--log full) or a JSON object (--json; docs/json.md); --log none prints
 * nothing. --har FILE writes HAR 1.2 (docs/har.md), in every mode and also under the TUI.
 * --filter EXPR limits both to the exchanges that match. The text formats are in docs/log.md.
 *
 * Sinks observe the store; they never touch sockets. Stdout is buffered (modes call
 * sinks_flush once per loop turn so live output stays prompt); the HAR file gets each entry
 * as its exchange completes and is a valid document after every entry, so a crash loses no
 * completed entry. Write failures (a full disk, a closed pipe) are counted and reported on
 * stderr in one line, never fatal: serving goes on; sinks_close then sets h->write_failed
 * (exit status 1), except for stdout's reader going away, which is quiet.
 */
#ifndef HSPY_SINKS_H
#define HSPY_SINKS_H

#include <stdbool.h>
#include <stdint.h>

struct hspy;
struct sinks;

/* Stdout is written once this many bytes are buffered (and at every sinks_flush). */
enum { SINKS_FLUSH_AT = 64 * 1024 };

struct sinks_counters {
    uint64_t printed;      /* exchanges written to stdout */
    uint64_t har_entries;  /* entries written to the HAR file */
    uint64_t filtered;     /* exchanges --filter kept out of every sink */
    uint64_t write_errors; /* failed write calls (stdout and HAR) */
    uint64_t lost;         /* exchanges or entries that could not be written */
    bool stdout_closed;    /* the reader of stdout went away (EPIPE): printing stopped */
};

/*
 * Opens the sinks the options ask for and registers them with h->store. Returns NULL with
 * h->err set ("FILE: why", "--filter: why") when the HAR file cannot be created or written
 * at all, or the filter does not compile.
 */
struct sinks *sinks_open(struct hspy *h);
/* Same, printing to out_fd instead of standard output (tests, exports). */
struct sinks *sinks_open_fd(struct hspy *h, int out_fd);
/* Writes what stdout has buffered. Modes call it once per loop turn. NULL is a no-op. */
void sinks_flush(struct sinks *s);
/*
 * Writes exchanges still in flight (they show without the "done" flag), flushes and finishes
 * every sink (closes the HAR document), reports lost output on stderr, sets h->write_failed when
 * a write failed, unregisters from the store and frees s. NULL is a no-op.
 */
void sinks_close(struct sinks *s);

/* Counters for status lines; valid until sinks_close. */
const struct sinks_counters *sinks_counters(const struct sinks *s);
/* The last write error as "FILE: why" ("" when none); valid until the next sink call. */
const char *sinks_error(const struct sinks *s);

#endif
