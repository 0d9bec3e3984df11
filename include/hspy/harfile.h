/*
 * harfile: HAR documents for the exchanges a user picks (the TUI's `w`: all, filtered or marked)
 * and for --save FILE at exit. The document goes to a temporary file next to FILE that is
 * renamed over it once complete, so FILE always holds either its old content or the whole new
 * document. Entries are those of --har (docs/har.md), in the order of their ids; exchanges
 * still in flight are included (without "done"). `hspy read FILE` restores them.
 *
 * A document is written in one go (harfile_write) or as a job whose entries are written a slice
 * of time at a time (harfile_begin, harfile_step, harfile_finish), so that an interface saving a
 * million flows keeps serving the network in between. Each exchange is looked up by id when its
 * entry is written: one evicted or deleted meanwhile is counted as missing.
 */
#ifndef HSPY_HARFILE_H
#define HSPY_HARFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hspy;

struct harfile_stats {
    uint64_t written; /* entries in the document */
    uint64_t missing; /* ids that no longer resolve (evicted or deleted) */
    uint64_t dropped; /* exchanges too large for an entry */
};

/* A document being written. */
struct harfile_job;

/*
 * Starts a document for the exchanges with the given ids (n of them, in that order; copied):
 * opens the temporary file and writes the document's start. Returns NULL with "path: why" in
 * err when the file cannot be created.
 */
struct harfile_job *harfile_begin(struct hspy *h, const uint64_t *ids, size_t n, const char *path,
                                  char *err, size_t errlen);
/*
 * Writes entries until budget_ns of time has passed (at least one entry, however long it
 * takes; UINT64_MAX: all of them). Returns true while entries remain and no write failed.
 */
bool harfile_step(struct harfile_job *j, uint64_t budget_ns);
/* Ids looked at so far; *total gets how many there are. */
size_t harfile_progress(const struct harfile_job *j, size_t *total);
/* The file the job writes. */
const char *harfile_path(const struct harfile_job *j);
/*
 * Writes the entries left and ends the document, without putting it in place. Returns the file
 * descriptor whose fsync harfile_finish would wait for, for a caller that does it elsewhere (a
 * worker thread) and says so with harfile_synced; -1 when none is needed (a pipe or a device,
 * or a write failed).
 */
int harfile_end(struct harfile_job *j);
/* The fsync of harfile_end's descriptor was done elsewhere; err is its errno, or 0. */
void harfile_synced(struct harfile_job *j, int err);
/*
 * Ends the document (harfile_end) and puts it in place (fsync unless harfile_synced said it was
 * done, then the rename), then frees j. stats may be NULL. Returns 0, or -1 with "path: why" in
 * err (the temporary file removed).
 */
int harfile_finish(struct harfile_job *j, struct harfile_stats *stats, char *err, size_t errlen);

/*
 * Writes the exchanges with the given ids (n of them, in that order; ids that no longer
 * resolve are counted as missing) to path. stats may be NULL. Returns 0, or -1 with "path: why" in
 * err.
 */
int harfile_write(struct hspy *h, const uint64_t *ids, size_t n, const char *path,
                  struct harfile_stats *stats, char *err, size_t errlen);

/*
 * Checks, without writing anything at path, that a document can be written there later: the
 * folder must take the temporary file (one is created and removed at once), and path must not
 * be a folder; a pipe or a device must be writable. A session checks its --save FILE at start
 * with it, so that a path it could never write is refused before the session, not at its end.
 * Returns 0, or -1 with "path: why" in err.
 */
int harfile_probe(const char *path, char *err, size_t errlen);

/*
 * --save: every exchange the store holds that --filter keeps, written to opt.save_path.
 * Prints a summary line on stderr when exchanges were evicted before the save. Returns 0, or
 * -1 with h->err set.
 */
int harfile_save(struct hspy *h);

#endif
