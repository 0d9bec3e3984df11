/*
 * editor: a message edited in the user's text editor, without stopping the loop.
 *
 * The text goes into a private temporary file (mode 0600, an unpredictable name in $TMPDIR or
 * /tmp, ending in .http), the editor ($VISUAL, else $EDITOR, else vi; run through /bin/sh so
 * that "code --wait" works) is started on it as a child process of the loop with the terminal
 * as its standard streams, and the loop goes on serving every connection while it runs. When
 * the editor exits, the file is read back (up to EDIT_MAX bytes), removed, and the owner's
 * callback gets the text. The caller hands the terminal over before (ui_suspend) and takes it
 * back in the callback (ui_resume).
 */
#ifndef HSPY_EDITOR_H
#define HSPY_EDITOR_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "hspy/dynbuf.h"

struct editor;

/*
 * Called once the editor exited: status is its exit status (a signal gives 128 + its number),
 * text the file's contents (valid during the call), or text NULL with err saying why it could
 * not be read. The file is already removed.
 */
typedef void (*editor_done_fn)(void *data, int status, const uint8_t *text, size_t n,
                               const char *err);

/*
 * Starts the editor on a copy of text, with term_fd (the terminal: stdin, or /dev/tty when stdin
 * carries the input) as its standard input. Returns the running editor, or NULL with the reason
 * in err (nothing is left behind: no file, no process).
 */
struct editor *editor_start(uv_loop_t *loop, int term_fd, const uint8_t *text, size_t n,
                            editor_done_fn done, void *data, char *err, size_t errlen);
/* Ends a running editor (SIGTERM) and removes its file; done is not called. */
void editor_cancel(struct editor *e);

/* The editor command that editor_start runs ($VISUAL, $EDITOR or "vi"). */
const char *editor_command(void);

/* Reads a whole regular file of at most max bytes into out. Returns 0, or -1 with err. */
int editor_load(const char *path, size_t max, struct dynbuf *out, char *err, size_t errlen);

#endif
