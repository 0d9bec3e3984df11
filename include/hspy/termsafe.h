/*
 * termsafe: renders bytes from the network so that a terminal shows them and never obeys them.
 *
 * Printable ASCII (0x20..0x7e) and valid, printable UTF-8 pass through unchanged. Everything
 * else becomes visible text:
 *   - C0 controls and DEL as "\xNN" (lowercase hex), so ESC never reaches the terminal; CR, LF
 *     and TAB as "\r", "\n", "\t" (or the symbols ␍ ␊ ␉ with TERMSAFE_SYMBOLS);
 *   - C1 controls (U+0080..U+009F), line/paragraph separators, bidirectional controls and other
 *     invisible format characters (U+00AD, U+061C, U+180E, U+200B..U+200F, U+2028..U+202E,
 *     U+2060..U+2064, U+2066..U+206F, U+FEFF, U+FFF9..U+FFFB, U+FFFE, U+FFFF, U+1D173..U+1D17A,
 *     U+E0000..U+E007F) as "\u{XXXX}" (lowercase hex, at least four digits);
 *   - bytes that do not start valid UTF-8 (stray continuation bytes, overlong forms, surrogates,
 *     code points past U+10FFFF, sequences cut short) as "\xNN", one escape per byte, after
 *     which rendering resumes at the next byte.
 * A backslash in the input is not doubled: the rendering is for eyes, not for parsing back.
 *
 * The output of every function here is valid UTF-8 and contains no byte below 0x20 other than
 * the LF that TERMSAFE_NEWLINES keeps and the TAB that TERMSAFE_TABS keeps, no DEL and no C1
 * control. Every text sink and the TUI go through this module.
 */
#ifndef HSPY_TERMSAFE_H
#define HSPY_TERMSAFE_H

#include <stddef.h>
#include <stdint.h>

#include "hspy/dynbuf.h"

enum termsafe_flag {
    TERMSAFE_NEWLINES = 1 << 0, /* keep LF as a real line break; the CR of a CRLF is dropped
                                   (with TERMSAFE_SYMBOLS: CR shows as ␍, LF as ␊ followed by
                                   the real line break) */
    TERMSAFE_SYMBOLS = 1 << 1,  /* show CR, LF and TAB as ␍ ␊ ␉ instead of \r \n \t */
    TERMSAFE_TABS = 1 << 2,     /* keep TAB as a real tab */
    TERMSAFE_ASCII = 1 << 3,    /* escape every non-ASCII byte (no UTF-8 passes through) */
};

/*
 * Appends the safe rendering of p[0..n) to out. Returns bytes appended. When out reaches its
 * maximum, rendering stops at the last whole escape or character that fit (never half of one).
 */
size_t termsafe_append(struct dynbuf *out, const uint8_t *p, size_t n, unsigned flags);

/*
 * Writes the safe rendering into buf (buflen bytes; always NUL-terminated when buflen > 0). When
 * it does not fit it is cut at an escape or character boundary and ends in an ellipsis "…"
 * (when buflen allows its 3 bytes). Returns buf.
 */
char *termsafe_str(char *buf, size_t buflen, const uint8_t *p, size_t n, unsigned flags);

/*
 * Marks: where the rendering holds text termsafe wrote in place of a byte or a character
 * (an escape such as "\x1b", "\r" or "\u{202e}", or a symbol ␍ ␊ ␉), so that an interface
 * can draw it apart from the same characters sent literally (a peer that sends the four
 * characters \x1b is shown exactly like one that sends ESC). Each escape or symbol is reported
 * once, in order, as bytes [off, off + len) of the output: of out->data for
 * termsafe_append_marked, of buf for termsafe_str_marked. Only what the output keeps is
 * reported (nothing past a cut, nothing under the ellipsis). A real line break or tab kept by
 * TERMSAFE_NEWLINES or TERMSAFE_TABS is not a mark; the LF after a ␊ is not part of it.
 */
enum termsafe_mark_kind {
    TERMSAFE_MARK_ESCAPE = 0, /* "\xNN", "\r", "\n", "\t", "\u{XXXX}" */
    TERMSAFE_MARK_SYMBOL,     /* ␍ ␊ ␉ (TERMSAFE_SYMBOLS) */
};

struct termsafe_marks {
    void (*mark)(void *data, size_t off, size_t len, enum termsafe_mark_kind kind);
    void *data;
};

/* termsafe_append, telling marks (may be NULL) of every escape and symbol written. */
size_t termsafe_append_marked(struct dynbuf *out, const uint8_t *p, size_t n, unsigned flags,
                              const struct termsafe_marks *marks);

/* termsafe_str, telling marks (may be NULL) of every escape and symbol kept. */
char *termsafe_str_marked(char *buf, size_t buflen, const uint8_t *p, size_t n, unsigned flags,
                          const struct termsafe_marks *marks);

/* True when p[0..n) would pass through unchanged (no escaping needed) under these flags. */
int termsafe_is_clean(const uint8_t *p, size_t n, unsigned flags);

#endif
