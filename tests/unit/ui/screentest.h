/*
 * screentest: the interface's screen as the unit tests read it: rendered into a canvas and
 * dumped as text, checked for a piece of text, driven by typed keys. Header-only, like synth.h,
 * for the tests of the ui and of the parts that plug into it (tamper, outbox).
 */
#ifndef HSPY_TEST_SCREENTEST_H
#define HSPY_TEST_SCREENTEST_H

#include <string.h>

#include "hspy/canvas.h"
#include "hspy/dynbuf.h"
#include "hspy/keymap.h"
#include "hspy/ui.h"

/* Pulls the store's changes, renders ui into c and returns the screen as text, held in out
 * (valid until the next call). */
static inline const char *screentest_text(struct ui *ui, struct canvas *c, struct dynbuf *out)
{
    ui_update(ui);
    ui_render(ui, c);
    dynbuf_reset(out);
    canvas_dump(c, out);
    return dynbuf_str(out);
}

/* Fails the test, naming the caller's line, unless the screen holds text (want) or does not
 * (!want). */
static inline void screentest_check(struct ui *ui, struct canvas *c, struct dynbuf *out,
                                    const char *text, bool want, int line)
{
    const char *s = screentest_text(ui, c, out);
    if ((strstr(s, text) != NULL) != want)
        fail_msg("line %d: screen %s '%s':\n%s", line, want ? "lacks" : "has", text, s);
}

/* Types the characters of k, a newline as Enter. */
static inline void screentest_type(struct ui *ui, const char *k)
{
    for (; *k; k++)
        ui_key(ui, *k == '\n' ? KEYMAP_ENTER : (unsigned char)*k);
}

#endif
