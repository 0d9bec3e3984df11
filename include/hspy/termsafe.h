/*
 * termsafe: renders bytes from the network so that a terminal shows them and never obeys them.
 *
 * Printable ASCII and valid, printable UTF-8 pass through. Everything else becomes visible
 * text: C0 controls and DEL as "\xNN" (or "␍", "␊", "␉" symbols with TERMSAFE_SYMBOLS), ESC
 * therefore never reaches the terminal; C1 controls, bidirectional overrides and other
 * format characters as "\u{XXXX}"; invalid or overlong UTF-8 as "\xNN" per byte. The output of
 * every function here contains no byte below 0x20 except the newlines TERMSAFE_NEWLINES keeps,
 * and no DEL. Every text sink and the TUI go through this module.
 */
#ifndef HSPY_TERMSAFE_H
#define HSPY_TERMSAFE_H

#include <stddef.h>
#include <stdint.h>

#include "hspy/dynbuf.h"

enum termsafe_flag {
    TERMSAFE_NEWLINES = 1 << 0, /* keep LF as a real line break (CR before it is dropped unless
                                   TERMSAFE_SYMBOLS shows it) */
    TERMSAFE_SYMBOLS = 1 << 1,  /* show CR, LF and TAB as ␍ ␊ ␉ instead of \r \n \t */
    TERMSAFE_TABS = 1 << 2,     /* keep TAB as a real tab */
    TERMSAFE_ASCII = 1 << 3,    /* escape every non-ASCII byte (no UTF-8 passes through) */
};

/* Appends the safe rendering of p[0..n) to out. Returns bytes appended. */
size_t termsafe_append(struct dynbuf *out, const uint8_t *p, size_t n, unsigned flags);

/*
 * Writes the safe rendering into buf (always NUL-terminated, cut at a character boundary when
 * it does not fit; an ellipsis "…" marks the cut when buflen allows). Returns buf.
 */
char *termsafe_str(char *buf, size_t buflen, const uint8_t *p, size_t n, unsigned flags);

/* True when p[0..n) would pass through unchanged (no escaping needed). */
int termsafe_is_clean(const uint8_t *p, size_t n, unsigned flags);

#endif
