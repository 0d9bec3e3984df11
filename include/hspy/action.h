/*
 * action: what the interface's keys do. ACTION_BINDINGS is the built-in key table (one row
 * per key and context, with hint and help text); each row's action is a function of this
 * module that changes the ui and returns reaction bits. Features that add keys put their own
 * table beside this one with ui_add_keys.
 */
#ifndef HSPY_ACTION_H
#define HSPY_ACTION_H

#include <stddef.h>

#include "hspy/keymap.h"

extern const struct keymap_binding ACTION_BINDINGS[];
extern const size_t ACTION_NBINDINGS;

#endif
