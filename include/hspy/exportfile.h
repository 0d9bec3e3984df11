/*
 * exportfile: `hspy read FILE --export FORMAT --id N [--output PATH]` (export.h builds the
 * output). It watches the store for exchange N and writes its export as soon as it completes
 * (or, for an exchange the input left in flight, at the end). The output goes to PATH (scripts
 * are made executable) or stdout; raw bytes are never written to a terminal. A curl command
 * whose request body is not plain text reads it from a file written beside the output:
 * PATH.body, or hspy-N-request.body in the current directory when the command goes to stdout.
 */
#ifndef HSPY_EXPORTFILE_H
#define HSPY_EXPORTFILE_H

struct hspy;
struct exportfile;

/*
 * Registers with h->store for h->opt's export. Returns NULL with h->err set when the output
 * is a terminal and the format is raw bytes.
 */
struct exportfile *exportfile_open(struct hspy *h);

/*
 * Writes the export if it has not been written yet (the exchange still in flight), unregisters
 * and frees x. Returns 0, or -1 with h->err set (no such exchange, nothing to export, a write
 * failed). NULL is a no-op returning 0.
 */
int exportfile_close(struct exportfile *x);

#endif
