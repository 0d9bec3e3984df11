/*
 * exportfile: `hspy read FILE --export FORMAT --id N [--output PATH]` (export.h builds the
 * output). It watches the store for exchange N and writes its export as soon as it completes
 * (or, for an exchange the input left in flight, at the end). The output goes to PATH (scripts
 * are made executable) or stdout; raw bytes are never written to a terminal. A curl command
 * whose request body is not plain text reads it from a file written beside the output:
 * PATH.body, or hspy-N-request.body in the current directory when the command goes to stdout.
 * A command in a file names its body file in the script's own directory, so it runs from any.
 */
#ifndef HSPY_EXPORTFILE_H
#define HSPY_EXPORTFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "hspy/dynbuf.h"

struct hspy;
struct exportfile;
struct exchange;
struct export_config;

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
/*
 * Writes b to path (created or truncated; mode 0777 less the umask when executable, else
 * 0666). Returns 0, or -1 with "path: why" in err.
 */
int exportfile_write(const char *path, const struct dynbuf *b, bool executable, char *err,
                     size_t errlen);
/* Room for the largest export of ex (scripts escape a byte in up to 4 characters; a decoded
 * body takes up to decode_max). */
size_t exportfile_room(const struct exchange *ex, size_t decode_max);
/*
 * Writes the file a curl command reads its request body from (the command's export_result said
 * body_file): ex's request body to cfg->body_path, as exportfile_write. Returns 0, or -1 with
 * "path: why" in err.
 */
int exportfile_write_body(const struct exchange *ex, const struct export_config *cfg, char *err,
                          size_t errlen);

#endif
