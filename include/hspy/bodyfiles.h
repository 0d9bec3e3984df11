/*
 * bodyfiles: --save-bodies DIR, every message body of the session written whole to a file of its
 * own as it streams, whatever --body-keep keeps for display. What is written is the payload as
 * the wire had it: the chunked framing removed, any content coding kept (the file name says
 * which: "12-response.json.gz"). Each piece goes at its offset in the payload, so bytes a capture
 * lost are a hole of zeros.
 *
 * A body is written as DIR/<name>.partial and renamed to DIR/<name> when its exchange ends with
 * that message complete and without gaps: a file without ".partial" holds the whole body. With
 * --filter, the files of an exchange it does not match are removed when the store completes it
 * (the outputs' verdict: after the cache analysis). DIR is
 * created when missing and must be empty otherwise (names start again at exchange 1 each
 * session). At most BODYFILES_OPEN_MAX files are open at once; the least recently written one
 * is closed and opened again if more of it comes. A write failure stops the saving for the rest
 * of the session (bodies in progress stay ".partial"); it is reported on stderr at once, or,
 * under the interface, as the session's error (h->err: its screen shows it, stderr gets it at
 * exit), and sets h->write_failed.
 */
#ifndef HSPY_BODYFILES_H
#define HSPY_BODYFILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hspy/bodytap.h"
#include "hspy/side.h"

struct hspy;
struct exchange;
struct bodyfiles;

enum {
    BODYFILES_OPEN_MAX = 32,    /* body files open at once */
    BODYFILES_NAME_MAX = 80,    /* room for a file name, ".partial" and its NUL included */
    BODYFILES_CODINGS_MAX = 4,  /* content codings named in a file name; more are left out */
    BODYFILES_FAILED_MAX = 1024 /* room for what is said of a write failure (as h->err) */
};

/* Creates DIR when missing (it must be empty otherwise). Returns NULL with h->err set. */
struct bodyfiles *bodyfiles_open(struct hspy *h, const char *dir);
/* The tap the conversations feed (conversation_config.tap, capture_config.tap). */
const struct bodytap *bodyfiles_tap(const struct bodyfiles *b);
/* Closes what is open (bodies still in progress stay ".partial"), says on stderr what was saved
 * and what failed, and frees b. NULL is a no-op. */
void bodyfiles_close(struct bodyfiles *b);

/*
 * The file name of ex's body on side s, without ".partial": "<id>-request" or "<id>-response",
 * then the media type's usual extension (".bin" when none is known), then one extension per
 * content coding in the order applied (".gz", ".zz" for deflate, ".br", ".zst", ".Z", ".enc" for
 * one hspy does not know). Returns buf.
 */
char *bodyfiles_name(const struct exchange *ex, enum side s, char *buf, size_t len);

/*
 * Where ex's body on side s is in dir (a --save-bodies folder): "DIR/NAME" when the whole body
 * is there (*whole set), else "DIR/NAME.partial" when part of it is. Returns false, with path
 * unchanged, when there is no file (or the path does not fit). Looks at the file system.
 */
bool bodyfiles_find(const char *dir, const struct exchange *ex, enum side s, char *path, size_t len,
                    bool *whole);

#endif
