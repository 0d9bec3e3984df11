/*
 * sinks: where exchanges go besides the screen. Without a terminal (or with --no-tui) a printer
 * writes each completed exchange to stdout as an access-log line (--log line), heads and bodies
 * (--log full) or a JSON object (--json); --har FILE writes HAR 1.2. Sinks observe the store;
 * they never touch sockets.
 */
#ifndef HSPY_SINKS_H
#define HSPY_SINKS_H

struct hspy;
struct sinks;

/* Opens the sinks the options ask for and registers them with h->store. Returns NULL with
 * h->err set when a file cannot be created. */
struct sinks *sinks_open(struct hspy *h);
/* Flushes and finishes every sink (closes the HAR document). NULL is a no-op. */
void sinks_close(struct sinks *s);

#endif
