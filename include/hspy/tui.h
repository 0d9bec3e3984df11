/*
 * tui: the ncursesw interface. It reads the store and draws; it never touches a socket.
 */
#ifndef HSPY_TUI_H
#define HSPY_TUI_H

struct hspy;
struct tui;

/* Takes over the terminal and hooks into h->loop. Returns NULL with h->err set on failure. */
struct tui *tui_new(struct hspy *h);
/* Restores the terminal and unhooks from the loop. NULL is a no-op. */
void tui_free(struct tui *t);

#endif
