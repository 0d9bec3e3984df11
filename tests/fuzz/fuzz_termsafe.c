/*
 * Fuzzes termsafe: input byte 0 selects the flags, byte 1 the size of the fixed buffer, the
 * rest is rendered. Aborts when an output breaks the invariants of termsafe.h: valid UTF-8, no
 * control byte but the kept LF/TAB, no DEL, no C1 control; the fixed-buffer rendering is
 * NUL-terminated within its buffer; is_clean agrees with the rendering.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/termsafe.h"
#include "hspy/utf8.h"

static void check(const uint8_t *out, size_t n, unsigned flags)
{
    if (!utf8_valid(out, n))
        abort();
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = utf8_decode(out + i, n - i, &cp);
        bool kept =
            (cp == '\n' && (flags & TERMSAFE_NEWLINES)) || (cp == '\t' && (flags & TERMSAFE_TABS));
        if ((cp < 0x20 && !kept) || (cp >= 0x7f && cp <= 0x9f))
            abort();
        i += k;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned flags = data[0] & 15;
    size_t buflen = data[1];
    const uint8_t *p = data + 2;
    size_t n = size - 2;

    struct dynbuf out;
    dynbuf_init(&out, 8 * n + 16);
    termsafe_append(&out, p, n, flags);
    check(out.data, out.len, flags);
    bool same = out.len == n && (n == 0 || memcmp(out.data, p, n) == 0);
    if (termsafe_is_clean(p, n, flags) != same)
        abort();

    char *small = malloc(buflen + 1);
    small[buflen] = 'Z'; /* guard byte: must survive */
    termsafe_str(small, buflen, p, n, flags);
    if (buflen) {
        size_t sl = strnlen(small, buflen);
        if (sl == buflen)
            abort();
        check((const uint8_t *)small, sl, flags);
    }
    if (small[buflen] != 'Z')
        abort();
    free(small);
    dynbuf_cleanup(&out);
    return 0;
}
