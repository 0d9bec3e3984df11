/*
 * sha256: incremental SHA-256 (FIPS 180-4) for body hashes, so a streamed body of any size can
 * be compared with `sha256sum` without being kept.
 */
#ifndef HSPY_SHA256_H
#define HSPY_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    SHA256_DIGEST_LEN = 32,                     /* bytes of a digest */
    SHA256_HEX_SIZE = 2 * SHA256_DIGEST_LEN + 1 /* its hex digits and a NUL */
};

struct sha256 {
    uint32_t h[8];
    uint64_t len; /* bytes hashed */
    uint8_t block[64];
    size_t fill;
    bool ni; /* use the processor's SHA instructions (decided by sha256_init) */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *p, size_t n);
/* Writes the 32-byte digest; s must be re-initialised before reuse. */
void sha256_final(struct sha256 *s, uint8_t out[SHA256_DIGEST_LEN]);
/* Writes the digest as 64 lower-case hex digits and a NUL into hex (65 bytes). */
void sha256_hex(const uint8_t digest[SHA256_DIGEST_LEN], char hex[SHA256_HEX_SIZE]);

#endif
