/*
 * base64 owns the RFC 4648 encoding used by the JSON and HAR writers (and HAR import). It
 * works on the caller's dynbuf and never allocates otherwise.
 */
#include "hspy/base64.h"

#include <stdbool.h>

static const char ALPHABET[64] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Encoded text is produced in blocks of this many characters (a multiple of 4). */
enum { BLOCK = 4096 };

int base64_encode(struct dynbuf *out, const uint8_t *p, size_t n)
{
    if (base64_encoded_len(n) > out->max - out->len)
        return -1;
    char block[BLOCK];
    size_t used = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        block[used++] = ALPHABET[v >> 18];
        block[used++] = ALPHABET[(v >> 12) & 63];
        block[used++] = ALPHABET[(v >> 6) & 63];
        block[used++] = ALPHABET[v & 63];
        if (used == BLOCK) {
            dynbuf_append(out, block, used);
            used = 0;
        }
    }
    if (i < n) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        block[used++] = ALPHABET[v >> 18];
        block[used++] = ALPHABET[(v >> 12) & 63];
        block[used++] = i + 1 < n ? ALPHABET[(v >> 6) & 63] : '=';
        block[used++] = '=';
    }
    dynbuf_append(out, block, used);
    return 0;
}

/* Value of a base64 character, or -1. */
static int value_of(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Characters of text before the padding, or (size_t)-1 when the padding is malformed. */
static size_t unpadded_len(const char *text, size_t n)
{
    size_t pad = 0;
    while (pad < 2 && n > pad && text[n - 1 - pad] == '=')
        pad++;
    if (pad && n % 4 != 0)
        return (size_t)-1;
    return n - pad;
}

int base64_decode(struct dynbuf *out, const char *text, size_t n)
{
    size_t len = unpadded_len(text, n);
    if (len == (size_t)-1 || len % 4 == 1)
        return -1;
    size_t need = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
    if (need > out->max - out->len)
        return -1;
    size_t start = out->len;
    uint8_t block[BLOCK];
    size_t used = 0;
    uint32_t acc = 0;
    for (size_t i = 0; i < len; i++) {
        int v = value_of(text[i]);
        if (v < 0) {
            out->len = start;
            if (out->data)
                out->data[start] = '\0';
            return -1;
        }
        acc = acc << 6 | (uint32_t)v;
        if (i % 4 == 3) {
            block[used++] = (uint8_t)(acc >> 16);
            block[used++] = (uint8_t)(acc >> 8);
            block[used++] = (uint8_t)acc;
            acc = 0;
            if (used + 3 > BLOCK) {
                dynbuf_append(out, block, used);
                used = 0;
            }
        }
    }
    /* A final group of 2 or 3 characters carries 1 or 2 bytes. */
    if (len % 4 == 2) {
        block[used++] = (uint8_t)(acc >> 4);
    } else if (len % 4 == 3) {
        block[used++] = (uint8_t)(acc >> 10);
        block[used++] = (uint8_t)(acc >> 2);
    }
    dynbuf_append(out, block, used);
    return 0;
}
