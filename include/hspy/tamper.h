/*
 * tamper: the interface's keys for acting on flows: the intercept filter, accepting and killing
 * held messages, editing them in the user's editor or with quick edits (status, a header, the
 * body, delivery controls), answering held requests of `hspy listen` (the echo, a rule, the
 * last crafted response, saved as a rule, the rules written back, the crafted response made
 * the default), replaying requests, duplicating flows and reverting unsent edits.
 *
 * It is one key table added to the ui (ui_add_keys_data) with the state those keys need: the
 * editor session, the edited text waiting for the user's choice (fix the framing or send as
 * typed), the replays. It reaches the holds through h->intercept, which the mode sets once it
 * runs; modes without holds (read) still replay and duplicate.
 */
#ifndef HSPY_TAMPER_H
#define HSPY_TAMPER_H

struct hspy;
struct tamper;
struct ui;

/* Adds the keys to ui (which must outlive the tamper). */
struct tamper *tamper_new(struct ui *ui, struct hspy *h);
/* The session ends: a running editor is stopped (its file removed), replays are cut. */
void tamper_stop(struct tamper *t);
/* Frees t after tamper_stop (waiting briefly for replays' connections to close). NULL: no-op. */
void tamper_free(struct tamper *t);

#endif
