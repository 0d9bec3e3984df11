/*
 * outbox: the interface's keys that take flows out of hspy. E exports the selected exchange
 * (export.h: a curl command, its raw request or response, an nc script reproducing it, its
 * body) to a file the user names or to the terminal's clipboard through OSC 52; w saves every,
 * the filtered or the marked exchanges to a HAR file (harfile.h).
 *
 * It is one key table added to the ui (ui_add_keys_data) with the state between a key and the
 * answers to its questions. Exports are written at once on the loop; a HAR file is written in
 * steps of OUTBOX_SAVE_STEP_MS, one a frame interval (a ui task), with its progress under the
 * view, so that the network is served while a large history is saved. Quitting during a save
 * finishes it first and reports on stderr.
 */
#ifndef HSPY_OUTBOX_H
#define HSPY_OUTBOX_H

#include <stdio.h>

struct hspy;
struct outbox;
struct ui;

/* Adds the keys to ui (which must outlive the outbox). term is where OSC 52 sequences are
 * written (the terminal curses draws on; NULL: no clipboard). */
struct outbox *outbox_new(struct ui *ui, struct hspy *h, FILE *term);
/* Frees o. NULL: no-op. */
void outbox_free(struct outbox *o);

#endif
