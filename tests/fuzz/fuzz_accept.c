/*
 * Fuzzes the echo's content negotiation (echo_negotiate) over an Accept field value taken from
 * outside. Checks: the answer is one of the two forms; the value is read in place, to its
 * length and no further (the copy ends flush with its allocation, for ASan); an empty list
 * element in front changes nothing (RFC 9110 5.6.1 lets lists carry them); and a trailing
 * element that names neither form changes nothing either.
 */
#include "fuzzcheck.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/echo.h"

/* Negotiates over a copy of p[0..n) with prefix and suffix around it, in an exact allocation. */
static enum echo_form around(const char *prefix, const uint8_t *p, size_t n, const char *suffix)
{
    size_t a = strlen(prefix), z = strlen(suffix);
    char *buf = malloc(a + n + z + 1);
    memcpy(buf, prefix, a);
    memcpy(buf + a, p, n);
    memcpy(buf + a + n, suffix, z);
    enum echo_form f = echo_negotiate(buf, a + n + z);
    free(buf);
    return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum echo_form f = around("", data, size, "");
    CHECK(f == ECHO_FORM_TEXT || f == ECHO_FORM_JSON);
    CHECK(around(",", data, size, "") == f);
    /* An unclosed quote in the input would swallow the suffix: only then may it matter. */
    if (!memchr(data, '"', size))
        CHECK(around("", data, size, ", image/png") == f);
    return 0;
}
