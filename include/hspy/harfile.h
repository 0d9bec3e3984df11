/*
 * harfile: HAR documents written in one go, for the exchanges a user picks (the TUI's `w`: all,
 * filtered or marked) and for --save FILE at exit. The document goes to a temporary file next
 * to FILE that is renamed over it once complete, so FILE always holds either its old content or
 * the whole new document. Entries are those of --har (docs/har.md), in the order of their ids;
 * exchanges still in flight are included (without "done"). `hspy read FILE` restores them.
 */
#ifndef HSPY_HARFILE_H
#define HSPY_HARFILE_H

#include <stddef.h>
#include <stdint.h>

struct hspy;

struct harfile_stats {
    uint64_t written; /* entries in the document */
    uint64_t missing; /* ids that no longer resolve (evicted or deleted) */
    uint64_t dropped; /* exchanges too large for an entry */
};

/*
 * Writes the exchanges with the given ids (n of them, in that order; ids that no longer
 * resolve are counted as missing) to path. stats may be NULL. Returns 0, or -1 with "path: why" in
 * err.
 */
int harfile_write(struct hspy *h, const uint64_t *ids, size_t n, const char *path,
                  struct harfile_stats *stats, char *err, size_t errlen);

/*
 * --save: every exchange the store holds that --filter keeps, written to opt.save_path.
 * Prints a summary line on stderr when exchanges were evicted before the save. Returns 0, or
 * -1 with h->err set.
 */
int harfile_save(struct hspy *h);

#endif
