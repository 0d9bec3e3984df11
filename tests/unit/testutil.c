/* Helpers shared by the unit tests; see testutil.h. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

uint8_t *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0, k;
    uint8_t *buf = malloc(cap + 1);
    while ((k = fread(buf + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
    }
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

static int hexdigit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

uint8_t *tu_unescape(const char *s, size_t *len)
{
    size_t n = strlen(s), o = 0;
    uint8_t *out = malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\' || i + 1 == n) {
            out[o++] = (uint8_t)s[i];
            continue;
        }
        char c = s[++i];
        switch (c) {
        case 'r': out[o++] = '\r'; break;
        case 'n': out[o++] = '\n'; break;
        case 't': out[o++] = '\t'; break;
        case '0': out[o++] = 0; break;
        case 'x':
            if (i + 2 < n + 1 && hexdigit(s[i + 1]) >= 0 && hexdigit(s[i + 2]) >= 0) {
                out[o++] = (uint8_t)(hexdigit(s[i + 1]) * 16 + hexdigit(s[i + 2]));
                i += 2;
            }
            break;
        default: out[o++] = (uint8_t)c; break;
        }
    }
    out[o] = 0;
    *len = o;
    return out;
}

const char *tu_corpus(void)
{
    const char *c = getenv("HSPY_CORPUS");
    struct stat st;
    if (!c || stat(c, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    return c;
}

const char *tu_path(const char *dir, const char *name)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}
