/*
 * mode: what each subcommand does, as a table row. main picks the row for the command; there
 * is no switch on the mode anywhere else.
 */
#ifndef HSPY_MODE_H
#define HSPY_MODE_H

#include "hspy/options.h"

struct hspy;

struct mode {
    enum command cmd;
    /* Whether the subcommand can show the TUI (lint never does). */
    int interactive;
    /*
     * Runs the subcommand to its end. Environment failures before anything was shown are
     * reported in h->err ("<what>: <why>") with a return of 1; otherwise returns the exit
     * status.
     */
    int (*run)(struct hspy *h);
};

extern const struct mode mode_listen;
extern const struct mode mode_proxy;
extern const struct mode mode_read;
extern const struct mode mode_lint;
extern const struct mode mode_sniff;

#endif
