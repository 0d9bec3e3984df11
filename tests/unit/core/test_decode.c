/*
 * Content decoding: every coding and stack of codings made here with the real encoders, bombs
 * stopped at the cap, truncated and corrupt streams with their offsets, trailing bytes, curl's
 * compressed-response test cases and libhtp's gzip header vectors from the shared corpus.
 */
#include "testutil.h"

#include <brotli/encode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "hspy/decode.h"
#include "hspy/framing.h"

/* ---- encoders ------------------------------------------------------------------------- */

struct blob {
    uint8_t *p;
    size_t n;
};

static void blob_add(struct blob *b, const void *p, size_t n)
{
    b->p = realloc(b->p, b->n + n + 1);
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

/* window_bits: 31 gzip, 15 zlib, -15 raw deflate. */
static struct blob z_encode(const void *p, size_t n, int window_bits)
{
    struct blob b = {0};
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
    uLong bound = deflateBound(&z, (uLong)n);
    b.p = malloc(bound + 1);
    z.next_in = (Bytef *)p;
    z.avail_in = (uInt)n;
    z.next_out = b.p;
    z.avail_out = (uInt)bound;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    b.n = z.total_out;
    deflateEnd(&z);
    return b;
}

static struct blob br_encode(const void *p, size_t n)
{
    struct blob b = {0};
    size_t cap = BrotliEncoderMaxCompressedSize(n) + 16;
    b.p = malloc(cap);
    b.n = cap;
    assert_true(BrotliEncoderCompress(5, 22, BROTLI_MODE_GENERIC, n, p, &b.n, b.p));
    return b;
}

static struct blob zstd_encode(const void *p, size_t n)
{
    struct blob b = {0};
    size_t cap = ZSTD_compressBound(n);
    b.p = malloc(cap);
    b.n = ZSTD_compress(b.p, cap, p, n, 3);
    assert_false(ZSTD_isError(b.n));
    return b;
}

/* Encodes with one named coding. */
static struct blob encode(const char *coding, const void *p, size_t n)
{
    if (strcmp(coding, "gzip") == 0)
        return z_encode(p, n, 31);
    if (strcmp(coding, "zlib") == 0)
        return z_encode(p, n, 15);
    if (strcmp(coding, "raw") == 0)
        return z_encode(p, n, -15);
    if (strcmp(coding, "br") == 0)
        return br_encode(p, n);
    if (strcmp(coding, "zstd") == 0)
        return zstd_encode(p, n);
    fail_msg("no encoder for %s", coding);
    return (struct blob){0};
}

/* Applies codings left to right, as a server would list them in Content-Encoding. */
static struct blob encode_list(const char *list, const void *p, size_t n)
{
    struct blob cur = {0};
    blob_add(&cur, p, n);
    char buf[128];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        struct blob next = encode(tok, cur.p, cur.n);
        free(cur.p);
        cur = next;
    }
    return cur;
}

static const char TEXT[] = "The quick brown fox jumps over the lazy dog. 0123456789\n";

/* A payload of n bytes of varied text. */
static struct blob payload(size_t n)
{
    struct blob b = {malloc(n + 1), n};
    for (size_t i = 0; i < n; i++)
        b.p[i] = (uint8_t)TEXT[(i * 7 + i / 97) % (sizeof TEXT - 1)];
    return b;
}

/* ---- a decode and its checks ---------------------------------------------------------- */

static enum decode_status run(const char *ce, const struct blob *in, size_t max, struct dynbuf *out,
                              struct decode_result *res)
{
    dynbuf_init(out, max); /* so memory is bounded by exactly the cap */
    return decode_body((const uint8_t *)ce, ce ? strlen(ce) : 0, in->p, in->n, max, out, res);
}

static void expect_bytes(const struct dynbuf *out, const void *p, size_t n)
{
    assert_int_equal(out->len, n);
    if (n)
        assert_memory_equal(out->data, p, n);
}

/* ---- generated round trips ------------------------------------------------------------ */

/* encoder list (left to right) and the Content-Encoding value that names it. */
static const struct {
    const char *encoders;
    const char *ce;
} ROUND_TRIPS[] = {
    {"gzip", "gzip"},
    {"gzip", "x-gzip"},
    {"gzip", "GZip"},
    {"zlib", "deflate"},
    {"raw", "deflate"},
    {"br", "br"},
    {"zstd", "zstd"},
    {"gzip,br", "gzip, br"},
    {"br,gzip", "br,gzip"},
    {"zlib,zstd", "deflate, identity, zstd"},
    {"gzip,gzip,gzip", "gzip,gzip ,\tgzip"},
    {"zstd,raw,br,gzip", " zstd , deflate, br, gzip "},
    {"gzip", "identity, gzip, identity"},
    {"gzip", "gzip,,"},
};

static void test_round_trips(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 100, 70000, 300000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        struct blob plain = payload(sizes[s]);
        for (size_t i = 0; i < sizeof ROUND_TRIPS / sizeof ROUND_TRIPS[0]; i++) {
            struct blob enc = encode_list(ROUND_TRIPS[i].encoders, plain.p, plain.n);
            struct dynbuf out;
            struct decode_result res;
            enum decode_status st = run(ROUND_TRIPS[i].ce, &enc, 1 << 20, &out, &res);
            if (st != DECODE_OK)
                fail_msg("%s (%zu bytes): %s %s", ROUND_TRIPS[i].ce, plain.n,
                         decode_status_label(st), res.message);
            expect_bytes(&out, plain.p, plain.n);
            assert_int_equal(res.consumed, enc.n);
            assert_int_equal(res.trailing, 0);
            assert_string_equal(res.message, "");
            dynbuf_cleanup(&out);
            free(enc.p);
        }
        free(plain.p);
    }
}

/* ---- identity and unknown codings ----------------------------------------------------- */

static void test_identity_and_unknown(void **state)
{
    (void)state;
    struct blob body = {(uint8_t *)"plain body", 10};
    struct blob gz = encode("gzip", body.p, body.n);
    static const struct {
        const char *ce;
        int gz; /* body is gzip'ed */
        enum decode_status st;
        const char *coding;
        const char *out;
    } cases[] = {
        {NULL, 0, DECODE_IDENTITY, "", "plain body"},
        {"", 0, DECODE_IDENTITY, "", "plain body"},
        {"identity", 0, DECODE_IDENTITY, "", "plain body"},
        {" , identity ,", 0, DECODE_IDENTITY, "", "plain body"},
        {"compress", 0, DECODE_UNKNOWN, "compress", "plain body"},
        {"none", 0, DECODE_UNKNOWN, "none", "plain body"},
        {"gzip;q=1", 0, DECODE_UNKNOWN, "gzip;q=1", "plain body"},
        {"gzip, x-custom", 1, DECODE_UNKNOWN, "x-custom", NULL}, /* rightmost unknown: as is */
        {"x-custom, gzip", 1, DECODE_UNKNOWN, "x-custom", "plain body"}, /* gzip undone first */
        {"x-a, x-b, gzip", 1, DECODE_UNKNOWN, "x-b", "plain body"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct dynbuf out;
        struct decode_result res;
        enum decode_status st = run(cases[i].ce, cases[i].gz ? &gz : &body, 1000, &out, &res);
        assert_int_equal(st, cases[i].st);
        assert_string_equal(res.coding, cases[i].coding);
        if (cases[i].out)
            expect_bytes(&out, cases[i].out, strlen(cases[i].out));
        else
            expect_bytes(&out, gz.p, gz.n);
        if (st == DECODE_UNKNOWN)
            assert_non_null(strstr(res.message, cases[i].coding));
        dynbuf_cleanup(&out);
    }
    /* The identity cap. */
    struct dynbuf out;
    struct decode_result res;
    assert_int_equal(run(NULL, &body, 4, &out, &res), DECODE_LIMIT);
    expect_bytes(&out, "plai", 4);
    dynbuf_cleanup(&out);
    free(gz.p);
}

static void test_names(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        bool ok;
    } cases[] = {
        {"gzip", true},        {"GZIP", true},   {"x-gzip", true},   {"deflate", true},
        {"br", true},          {"zstd", true},   {"identity", true}, {"compress", false},
        {"x-compress", false}, {"gzip ", false}, {"", false},        {"brotli", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(
            decode_coding_supported((const uint8_t *)cases[i].name, strlen(cases[i].name)),
            cases[i].ok);
    assert_string_equal(decode_status_label(DECODE_OK), "ok");
    assert_string_equal(decode_status_label(DECODE_LIMIT), "limit");
    assert_string_equal(decode_status_label((enum decode_status)99), "?");
}

static void test_too_many_layers(void **state)
{
    (void)state;
    struct blob b = {(uint8_t *)"x", 1};
    struct dynbuf out;
    struct decode_result res;
    assert_int_equal(run("gzip,gzip,gzip,gzip,gzip,gzip,gzip,gzip,gzip", &b, 100, &out, &res),
                     DECODE_ERROR);
    assert_non_null(strstr(res.message, "more than 8"));
    expect_bytes(&out, "x", 1);
    dynbuf_cleanup(&out);
    /* Eight is allowed. */
    struct blob plain = payload(5000);
    struct blob enc = encode_list("gzip,br,zstd,raw,gzip,zlib,br,zstd", plain.p, plain.n);
    assert_int_equal(run("gzip,br,zstd,deflate,gzip,deflate,br,zstd", &enc, 1 << 20, &out, &res),
                     DECODE_OK);
    assert_int_equal(res.layers, 8);
    expect_bytes(&out, plain.p, plain.n);
    dynbuf_cleanup(&out);
    free(enc.p);
    free(plain.p);
}

/* ---- several gzip members, zstd frames; trailing bytes -------------------------------- */

static void test_multi_member_and_frames(void **state)
{
    (void)state;
    struct blob a = {(uint8_t *)"first part, ", 12}, b = {(uint8_t *)"second part", 11};
    const char *codings[] = {"gzip", "zstd"};
    for (int k = 0; k < 2; k++) {
        struct blob ea = encode(codings[k], a.p, a.n), eb = encode(codings[k], b.p, b.n);
        struct blob both = {0};
        blob_add(&both, ea.p, ea.n);
        if (k == 1) /* a skippable frame between the two */
            blob_add(&both, "\x50\x2a\x4d\x18\x03\x00\x00\x00xyz", 11);
        blob_add(&both, eb.p, eb.n);
        struct dynbuf out;
        struct decode_result res;
        assert_int_equal(run(codings[k], &both, 1000, &out, &res), DECODE_OK);
        expect_bytes(&out, "first part, second part", 23);
        dynbuf_cleanup(&out);
        free(ea.p);
        free(eb.p);
        free(both.p);
    }
    /* Many small gzip members inside br: layer buffers end inside headers and trailers. */
    struct blob members = {0};
    struct blob expect = {0};
    for (int i = 0; i < 4000; i++) {
        char line[64];
        int n = snprintf(line, sizeof line, "member %d\n", i);
        struct blob m = encode("gzip", line, (size_t)n);
        blob_add(&members, m.p, m.n);
        blob_add(&expect, line, (size_t)n);
        free(m.p);
    }
    struct blob stacked = encode("br", members.p, members.n);
    struct dynbuf out;
    struct decode_result res;
    assert_int_equal(run("gzip, br", &stacked, 1 << 20, &out, &res), DECODE_OK);
    expect_bytes(&out, expect.p, expect.n);
    dynbuf_cleanup(&out);
    free(stacked.p);
    free(members.p);
    free(expect.p);
}

static void test_trailing_bytes(void **state)
{
    (void)state;
    static const struct {
        const char *enc, *ce;
        const char *junk;
        size_t junk_len;
    } cases[] = {
        {"gzip", "gzip", "garbage", 7},
        {"gzip", "gzip", "\0\0\0\0", 4}, /* padding some servers add */
        {"gzip", "gzip", "\x1f", 1},
        {"gzip", "gzip", "\x1f\x00", 2},
        {"zlib", "deflate", "garbage", 7},
        {"raw", "deflate", "garbage", 7},
        {"br", "br", "garbage", 7},
        {"zstd", "zstd", "garbage", 7},
        {"zstd", "zstd", "ab", 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct blob enc = encode(cases[i].enc, TEXT, sizeof TEXT - 1);
        size_t at = enc.n;
        blob_add(&enc, cases[i].junk, cases[i].junk_len);
        struct dynbuf out;
        struct decode_result res;
        assert_int_equal(run(cases[i].ce, &enc, 1000, &out, &res), DECODE_OK);
        expect_bytes(&out, TEXT, sizeof TEXT - 1);
        assert_int_equal(res.trailing, cases[i].junk_len);
        assert_int_equal(res.error_offset, at);
        assert_string_equal(res.coding, cases[i].ce);
        assert_non_null(strstr(res.message, "ignored"));
        dynbuf_cleanup(&out);
        free(enc.p);
    }
}

/* ---- truncated and corrupt streams ---------------------------------------------------- */

static void test_truncated(void **state)
{
    (void)state;
    static const struct {
        const char *enc, *ce;
    } cases[] = {
        {"gzip", "gzip"}, {"zlib", "deflate"}, {"raw", "deflate"}, {"br", "br"}, {"zstd", "zstd"},
    };
    struct blob plain = payload(100000);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct blob enc = encode(cases[i].enc, plain.p, plain.n);
        /* Cut at several places, including inside headers and trailers. */
        size_t cuts[] = {1, 2, 3, 5, 11, enc.n / 2, enc.n - 5, enc.n - 1};
        for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
            struct blob part = {enc.p, cuts[c]};
            struct dynbuf out;
            struct decode_result res;
            enum decode_status st = run(cases[i].ce, &part, 1 << 20, &out, &res);
            if (st != DECODE_ERROR)
                fail_msg("%s cut at %zu: %s", cases[i].ce, cuts[c], decode_status_label(st));
            assert_true(res.truncated);
            assert_int_equal(res.error_offset, cuts[c]);
            assert_string_equal(res.coding, cases[i].ce);
            /* What decoded before the cut is kept and is a prefix of the payload. */
            assert_true(out.len <= plain.n);
            if (out.len)
                assert_memory_equal(out.data, plain.p, out.len);
            dynbuf_cleanup(&out);
        }
        free(enc.p);
    }
    free(plain.p);
}

static void test_corrupt(void **state)
{
    (void)state;
    struct blob plain = payload(50000);
    /* Formats with a checksum of the output catch every flip in the compressed data; the
       others (raw deflate, brotli, zstd without its optional checksum) catch most, and a flip
       they miss still changes the output. */
    static const struct {
        const char *enc, *ce;
        bool checked;
    } cases[] = {
        {"gzip", "gzip", true}, {"zlib", "deflate", true}, {"raw", "deflate", false},
        {"br", "br", false},    {"zstd", "zstd", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct blob enc = encode(cases[i].enc, plain.p, plain.n);
        int flips = 0, errors = 0, changed = 0;
        for (size_t at = 16; at < enc.n; at += 1 + enc.n / 40) {
            enc.p[at] ^= 0x55;
            struct dynbuf out;
            struct decode_result res;
            enum decode_status st = run(cases[i].ce, &enc, 1 << 20, &out, &res);
            enc.p[at] ^= 0x55;
            flips++;
            if (st == DECODE_ERROR) {
                errors++;
                assert_true(res.error_offset <= enc.n);
                assert_string_equal(res.coding, cases[i].ce);
                assert_true(strlen(res.message) > strlen(cases[i].ce) + 2);
                if (!res.truncated && res.error_offset + 4 < at)
                    fail_msg("%s: flip at %zu reported at %llu (%s)", cases[i].ce, at,
                             (unsigned long long)res.error_offset, res.message);
            } else if (out.len != plain.n || memcmp(out.data, plain.p, plain.n) != 0) {
                changed++;
            }
            dynbuf_cleanup(&out);
        }
        if (cases[i].checked)
            assert_int_equal(errors, flips);
        else
            assert_true(errors > 0 && errors + changed == flips);
        free(enc.p);
    }
    free(plain.p);
}

/* Exact offsets and messages for faults in gzip's own header and trailer fields. */
static void test_gzip_fields(void **state)
{
    (void)state;
    static const struct {
        const char *hex_patch; /* offset:value */
        size_t off;
        uint8_t value;
        uint64_t error_offset;
        const char *msg;
    } cases[] = {
        {"magic0", 0, 0x1e, 0, "no 1f 8b magic"},
        {"magic1", 1, 0x8c, 1, "no 1f 8b magic"},
        {"method", 2, 7, 2, "unknown compression method 7"},
        {"reserved", 3, 0x20, 3, "reserved header flags"},
        {"fhcrc", 3, 0x02, 10, "header CRC mismatch"}, /* FHCRC set: data bytes read as CRC */
    };
    struct blob enc = encode("gzip", TEXT, sizeof TEXT - 1);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t saved = enc.p[cases[i].off];
        enc.p[cases[i].off] = cases[i].value;
        struct dynbuf out;
        struct decode_result res;
        assert_int_equal(run("gzip", &enc, 1000, &out, &res), DECODE_ERROR);
        assert_int_equal(res.error_offset, cases[i].error_offset);
        if (!strstr(res.message, cases[i].msg))
            fail_msg("%s: message \"%s\"", cases[i].hex_patch, res.message);
        assert_false(res.truncated);
        enc.p[cases[i].off] = saved;
        dynbuf_cleanup(&out);
    }
    /* Trailer: CRC-32 at n-8, ISIZE at n-4. */
    for (int which = 0; which < 2; which++) {
        size_t at = enc.n - 8 + (size_t)which * 4;
        enc.p[at] ^= 1;
        struct dynbuf out;
        struct decode_result res;
        assert_int_equal(run("gzip", &enc, 1000, &out, &res), DECODE_ERROR);
        assert_int_equal(res.error_offset, at);
        assert_non_null(strstr(res.message, which ? "length mismatch" : "CRC-32 mismatch"));
        expect_bytes(&out, TEXT, sizeof TEXT - 1);
        enc.p[at] ^= 1;
        dynbuf_cleanup(&out);
    }
    /* A zlib stream labelled gzip: refused, with a hint. */
    struct blob z = encode("zlib", TEXT, sizeof TEXT - 1);
    struct dynbuf out;
    struct decode_result res;
    assert_int_equal(run("gzip", &z, 1000, &out, &res), DECODE_ERROR);
    assert_non_null(strstr(res.message, "zlib"));
    dynbuf_cleanup(&out);
    free(z.p);
    free(enc.p);
}

/* A gzip header with every optional field, built by hand. */
static void test_gzip_optional_fields(void **state)
{
    (void)state;
    struct blob raw = encode("raw", TEXT, sizeof TEXT - 1);
    struct blob gz = {0};
    uint8_t head[] = {0x1f, 0x8b, 8, 0x02 | 0x04 | 0x08 | 0x10, 1, 2, 3, 4, 0, 3};
    blob_add(&gz, head, sizeof head);
    uint8_t xlen[] = {5, 0};
    blob_add(&gz, xlen, 2);
    blob_add(&gz, "AB\x02\0x", 5);
    blob_add(&gz, "name.txt", 9);
    blob_add(&gz, "a comment", 10);
    uint32_t hcrc = (uint32_t)crc32(0, gz.p, (uInt)gz.n);
    uint8_t h16[] = {(uint8_t)hcrc, (uint8_t)(hcrc >> 8)};
    blob_add(&gz, h16, 2);
    blob_add(&gz, raw.p, raw.n);
    uint32_t crc = (uint32_t)crc32(0, (const Bytef *)TEXT, sizeof TEXT - 1);
    uint32_t len = sizeof TEXT - 1;
    uint8_t trailer[8] = {(uint8_t)crc,         (uint8_t)(crc >> 8), (uint8_t)(crc >> 16),
                          (uint8_t)(crc >> 24), (uint8_t)len,        (uint8_t)(len >> 8),
                          (uint8_t)(len >> 16), (uint8_t)(len >> 24)};
    blob_add(&gz, trailer, 8);
    struct dynbuf out;
    struct decode_result res;
    assert_int_equal(run("gzip", &gz, 1000, &out, &res), DECODE_OK);
    expect_bytes(&out, TEXT, sizeof TEXT - 1);
    dynbuf_cleanup(&out);
    /* Every cut inside the header is a truncation at the cut. */
    for (size_t cut = 1; cut < 40; cut++) {
        struct blob part = {gz.p, cut};
        assert_int_equal(run("gzip", &part, 1000, &out, &res), DECODE_ERROR);
        assert_true(res.truncated);
        assert_int_equal(res.error_offset, cut);
        dynbuf_cleanup(&out);
    }
    free(gz.p);
    free(raw.p);
}

static void test_empty_bodies(void **state)
{
    (void)state;
    const char *codings[] = {"gzip", "deflate", "br", "zstd", "gzip, br"};
    struct blob empty = {(uint8_t *)"", 0};
    for (size_t i = 0; i < sizeof codings / sizeof codings[0]; i++) {
        struct dynbuf out;
        struct decode_result res;
        assert_int_equal(run(codings[i], &empty, 100, &out, &res), DECODE_OK);
        assert_int_equal(out.len, 0);
        dynbuf_cleanup(&out);
    }
}

static void test_zstd_window_limit(void **state)
{
    (void)state;
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cc, ZSTD_c_windowLog, 27);
    uint8_t dst[256];
    ZSTD_outBuffer o = {dst, sizeof dst, 0};
    ZSTD_inBuffer in = {TEXT, sizeof TEXT - 1, 0};
    /* The size is not known up front, so the frame header declares the 128 MiB window. */
    assert_false(ZSTD_isError(ZSTD_compressStream2(cc, &o, &in, ZSTD_e_continue)));
    ZSTD_inBuffer none = {NULL, 0, 0};
    while (ZSTD_compressStream2(cc, &o, &none, ZSTD_e_end) != 0)
        ;
    ZSTD_freeCCtx(cc);
    struct blob b = {dst, o.pos};
    struct dynbuf out;
    struct decode_result res;
    assert_int_equal(run("zstd", &b, 1000, &out, &res), DECODE_ERROR);
    assert_non_null(strstr(res.message, "8 MiB"));
    assert_true(res.error_offset >= 5 && res.error_offset < 18); /* within the frame header */
    dynbuf_cleanup(&out);
}

/* ---- bombs ---------------------------------------------------------------------------- */

enum { MIB = 1 << 20, BOMB_MIBS = 1024 };

/*
 * 1 GiB of zeros in raw deflate, made cheaply: one MiB compressed and flushed to a byte
 * boundary with an empty dictionary, repeated, then an empty final block.
 */
static struct blob raw_zero_bomb(int mibs)
{
    static uint8_t zero[MIB];
    z_stream z;
    memset(&z, 0, sizeof z);
    deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY);
    uint8_t piece[8192];
    z.next_in = zero;
    z.avail_in = MIB;
    z.next_out = piece;
    z.avail_out = sizeof piece;
    assert_int_equal(deflate(&z, Z_FULL_FLUSH), Z_OK);
    assert_int_equal(z.avail_in, 0);
    size_t plen = sizeof piece - z.avail_out;
    deflateEnd(&z);
    struct blob b = {malloc(plen * (size_t)mibs + 2), 0};
    for (int i = 0; i < mibs; i++) {
        memcpy(b.p + b.n, piece, plen);
        b.n += plen;
    }
    b.p[b.n++] = 0x03; /* final fixed-Huffman block holding only end-of-block */
    b.p[b.n++] = 0x00;
    return b;
}

static void le32(struct blob *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    blob_add(b, x, 4);
}

static struct blob zero_bomb(const char *kind, int mibs)
{
    static uint8_t zero[MIB];
    struct blob raw = raw_zero_bomb(mibs);
    struct blob b = {0};
    if (strcmp(kind, "gzip") == 0) {
        blob_add(&b, "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10);
        blob_add(&b, raw.p, raw.n);
        uLong one = crc32(0, zero, MIB), crc = one;
        for (int i = 1; i < mibs; i++)
            crc = crc32_combine(crc, one, MIB);
        le32(&b, (uint32_t)crc);
        le32(&b, (uint32_t)((uint64_t)mibs * MIB));
    } else if (strcmp(kind, "zlib") == 0) {
        blob_add(&b, "\x78\xda", 2);
        blob_add(&b, raw.p, raw.n);
        uLong one = adler32(1, zero, MIB), a = one;
        for (int i = 1; i < mibs; i++)
            a = adler32_combine(a, one, MIB);
        uint8_t be[4] = {(uint8_t)(a >> 24), (uint8_t)(a >> 16), (uint8_t)(a >> 8), (uint8_t)a};
        blob_add(&b, be, 4);
    } else if (strcmp(kind, "zstd") == 0) {
        struct blob one = zstd_encode(zero, MIB);
        for (int i = 0; i < mibs; i++)
            blob_add(&b, one.p, one.n);
        free(one.p);
    } else if (strcmp(kind, "br") == 0) {
        /* 1 GiB through the streaming encoder at quality 0 (about half a second). */
        BrotliEncoderState *e = BrotliEncoderCreateInstance(NULL, NULL, NULL);
        BrotliEncoderSetParameter(e, BROTLI_PARAM_QUALITY, 0);
        uint8_t buf[65536];
        for (int i = 0; i < mibs; i++) {
            size_t avail_in = MIB;
            const uint8_t *next_in = zero;
            BrotliEncoderOperation op =
                i + 1 == mibs ? BROTLI_OPERATION_FINISH : BROTLI_OPERATION_PROCESS;
            do {
                size_t avail_out = sizeof buf;
                uint8_t *next_out = buf;
                assert_true(BrotliEncoderCompressStream(e, op, &avail_in, &next_in, &avail_out,
                                                        &next_out, NULL));
                blob_add(&b, buf, sizeof buf - avail_out);
            } while (avail_in > 0 || BrotliEncoderHasMoreOutput(e) ||
                     (op == BROTLI_OPERATION_FINISH && !BrotliEncoderIsFinished(e)));
        }
        BrotliEncoderDestroyInstance(e);
    }
    free(raw.p);
    return b;
}

static void test_bombs(void **state)
{
    (void)state;
    static const struct {
        const char *kind, *ce;
    } cases[] = {
        {"gzip", "gzip"}, {"zlib", "deflate"}, {"raw", "deflate"}, {"zstd", "zstd"}, {"br", "br"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct blob bomb = strcmp(cases[i].kind, "raw") == 0 ? raw_zero_bomb(BOMB_MIBS)
                                                             : zero_bomb(cases[i].kind, BOMB_MIBS);
        struct dynbuf out;
        struct decode_result res;
        if (strcmp(cases[i].kind, "br") != 0) {
            /* Sanity: the whole bomb really is 1 GiB (checked once without a cap that stores). */
            assert_true(bomb.n < 8 * MIB);
        }
        enum decode_status st = run(cases[i].ce, &bomb, MIB, &out, &res);
        if (st != DECODE_LIMIT)
            fail_msg("%s bomb: %s %s", cases[i].kind, decode_status_label(st), res.message);
        assert_int_equal(out.len, MIB);
        assert_true(out.cap <= (size_t)MIB + 1); /* memory: the cap, never more */
        /* Work: it stopped after reading about 1/1000 of its input, not all of it. */
        if (res.consumed * 10 > bomb.n)
            fail_msg("%s bomb read %llu of %zu input bytes", cases[i].kind,
                     (unsigned long long)res.consumed, bomb.n);
        for (size_t k = 0; k < out.len; k += 4096)
            assert_int_equal(out.data[k], 0);
        dynbuf_cleanup(&out);
        free(bomb.p);
    }
}

/*
 * The bombs are real. Each is built from one compressed MiB repeated (or, for br, streamed):
 * the same construction with 4 MiB must decode whole, checksums and lengths included, to
 * exactly 4 MiB of zeros; with 1024 copies it is 1 GiB.
 */
static void test_bombs_are_real(void **state)
{
    (void)state;
    static const struct {
        const char *kind, *ce;
    } cases[] = {
        {"gzip", "gzip"}, {"zlib", "deflate"}, {"raw", "deflate"}, {"zstd", "zstd"}, {"br", "br"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct blob bomb =
            strcmp(cases[i].kind, "raw") == 0 ? raw_zero_bomb(4) : zero_bomb(cases[i].kind, 4);
        struct dynbuf out;
        struct decode_result res;
        if (run(cases[i].ce, &bomb, 4 * MIB, &out, &res) != DECODE_OK)
            fail_msg("%s: %s", cases[i].kind, res.message);
        assert_int_equal(out.len, 4 * MIB);
        for (size_t k = 0; k < out.len; k += 997)
            assert_int_equal(out.data[k], 0);
        dynbuf_cleanup(&out);
        free(bomb.p);
    }
}

static void test_stacked_bomb(void **state)
{
    (void)state;
    struct blob inner = zero_bomb("gzip", BOMB_MIBS);
    struct blob outer = encode("gzip", inner.p, inner.n);
    struct blob outer_br = encode("br", inner.p, inner.n);
    struct dynbuf out;
    struct decode_result res;
    assert_int_equal(run("gzip, gzip", &outer, MIB, &out, &res), DECODE_LIMIT);
    assert_int_equal(out.len, MIB);
    dynbuf_cleanup(&out);
    assert_int_equal(run("gzip, br", &outer_br, MIB, &out, &res), DECODE_LIMIT);
    assert_int_equal(out.len, MIB);
    dynbuf_cleanup(&out);
    /* A tiny cap stops an intermediate layer that expands past it. */
    assert_int_equal(run("gzip, gzip", &outer, 1000, &out, &res), DECODE_LIMIT);
    assert_true(out.len <= 1000);
    dynbuf_cleanup(&out);
    free(inner.p);
    free(outer.p);
    free(outer_br.p);
}

static void test_cap_edges(void **state)
{
    (void)state;
    struct blob plain = payload(1000);
    const char *codings[] = {"gzip", "br", "zstd", "deflate"};
    const char *encs[] = {"gzip", "br", "zstd", "zlib"};
    for (int i = 0; i < 4; i++) {
        struct blob enc = encode(encs[i], plain.p, plain.n);
        struct dynbuf out;
        struct decode_result res;
        assert_int_equal(run(codings[i], &enc, 1000, &out, &res), DECODE_OK); /* exactly */
        expect_bytes(&out, plain.p, 1000);
        dynbuf_cleanup(&out);
        assert_int_equal(run(codings[i], &enc, 999, &out, &res), DECODE_LIMIT);
        expect_bytes(&out, plain.p, 999);
        assert_non_null(strstr(res.message, "cap"));
        dynbuf_cleanup(&out);
        /* out's own maximum is a cap too. */
        dynbuf_init(&out, 10);
        assert_int_equal(decode_body((const uint8_t *)codings[i], strlen(codings[i]), enc.p, enc.n,
                                     1000, &out, &res),
                         DECODE_LIMIT);
        expect_bytes(&out, plain.p, 10);
        dynbuf_cleanup(&out);
        free(enc.p);
    }
    free(plain.p);
}

/* ---- messages ------------------------------------------------------------------------- */

struct msg {
    struct message m;
    struct http_header hdrs[64];
};

static const struct http_limits LIMITS = HTTP_LIMITS_DEFAULT;

/* Builds a parsed response message from raw bytes, as the conversation would. */
static void msg_build(struct msg *x, const uint8_t *raw, size_t n, size_t keep)
{
    message_init(&x->m, keep);
    dynbuf_append(&x->m.raw, raw, n);
    x->m.wire_bytes = n;
    if (n > keep)
        x->m.flags |= MSG_TRUNCATED;
    x->m.head.headers = x->hdrs;
    x->m.head.cap = 64;
    int r = http_head_parse(x->m.raw.data, x->m.raw.len, HTTP_RESPONSE, &LIMITS, NULL, &x->m.head,
                            NULL);
    assert_true(r > 0);
    x->m.flags |= MSG_STARTED | MSG_HEAD | MSG_COMPLETE;
    x->m.body_off = (uint64_t)r;
    struct framing f;
    struct framing_request req = {.present = true};
    framing_response(x->m.raw.data, &x->m.head, &req, &f, NULL);
    x->m.body_kind = f.kind;
    x->m.content_length = f.length;
}

static void test_message(void **state)
{
    (void)state;
    struct blob gz = encode("gzip", TEXT, sizeof TEXT - 1);
    struct blob both = encode_list("gzip,br", TEXT, sizeof TEXT - 1);
    char head[512];
    struct blob raw = {0};
    /* Two Content-Encoding lines make one list; chunked framing removed first. */
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Encoding: br\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n%zx\r\n",
                     both.n);
    blob_add(&raw, head, (size_t)n);
    blob_add(&raw, both.p, both.n);
    blob_add(&raw, "\r\n0\r\n\r\n", 7);
    struct msg x;
    msg_build(&x, raw.p, raw.n, 1 << 20);
    struct dynbuf out;
    struct decode_result res;
    dynbuf_init(&out, 1 << 20);
    assert_int_equal(decode_message(&x.m, &LIMITS, 1 << 20, &out, &res), DECODE_OK);
    expect_bytes(&out, TEXT, sizeof TEXT - 1);
    assert_int_equal(res.layers, 2);
    dynbuf_cleanup(&out);
    message_cleanup(&x.m);
    free(raw.p);

    /* Transfer-Encoding: gzip, chunked with no Content-Encoding. */
    raw = (struct blob){0};
    n = snprintf(head, sizeof head,
                 "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n%zx\r\n", gz.n);
    blob_add(&raw, head, (size_t)n);
    blob_add(&raw, gz.p, gz.n);
    blob_add(&raw, "\r\n0\r\n\r\n", 7);
    msg_build(&x, raw.p, raw.n, 1 << 20);
    dynbuf_init(&out, 1 << 20);
    assert_int_equal(decode_message(&x.m, &LIMITS, 1 << 20, &out, &res), DECODE_OK);
    expect_bytes(&out, TEXT, sizeof TEXT - 1);
    dynbuf_cleanup(&out);
    message_cleanup(&x.m);
    free(raw.p);

    /* A body cut by the kept-bytes cap: truncated, and the message says why. */
    raw = (struct blob){0};
    n = snprintf(head, sizeof head,
                 "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
                 "Content-Length: %zu\r\n\r\n",
                 gz.n);
    blob_add(&raw, head, (size_t)n);
    blob_add(&raw, gz.p, gz.n);
    msg_build(&x, raw.p, raw.n, (size_t)n + gz.n / 2);
    dynbuf_init(&out, 1 << 20);
    assert_int_equal(decode_message(&x.m, &LIMITS, 1 << 20, &out, &res), DECODE_ERROR);
    assert_true(res.truncated);
    assert_non_null(strstr(res.message, "incomplete"));
    dynbuf_cleanup(&out);
    message_cleanup(&x.m);
    free(raw.p);

    /* No body at all. */
    const char *bare = "HTTP/1.1 204 No Content\r\nContent-Encoding: gzip\r\n\r\n";
    msg_build(&x, (const uint8_t *)bare, strlen(bare), 1 << 20);
    dynbuf_init(&out, 1 << 20);
    assert_int_equal(decode_message(&x.m, &LIMITS, 1 << 20, &out, &res), DECODE_OK);
    assert_int_equal(out.len, 0);
    dynbuf_cleanup(&out);
    message_cleanup(&x.m);
    free(gz.p);
    free(both.p);
}

/* ---- curl's test cases ---------------------------------------------------------------- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Appends s[0..n) with %XX escapes decoded. */
static void add_percent(struct blob *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            uint8_t c = (uint8_t)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            blob_add(b, &c, 1);
            i += 2;
        } else {
            blob_add(b, s + i, 1);
        }
    }
}

/*
 * Expands curl's test-suite macros (%hex[..]hex%, %repeat[N x S]%, %CR). Returns false when the
 * text needs something not in the corpus (%includetext).
 */
static bool expand(const char *s, size_t n, struct blob *b)
{
    for (size_t i = 0; i < n;) {
        const char *rest = s + i;
        size_t left = n - i;
        if (left >= 5 && strncmp(rest, "%hex[", 5) == 0) {
            const char *end = strstr(rest, "]hex%");
            assert_non_null(end);
            add_percent(b, rest + 5, (size_t)(end - rest - 5));
            i += (size_t)(end - rest) + 5;
        } else if (left >= 8 && strncmp(rest, "%repeat[", 8) == 0) {
            const char *end = strstr(rest, "]%");
            assert_non_null(end);
            char *x;
            unsigned long count = strtoul(rest + 8, &x, 10);
            assert_true(strncmp(x, " x ", 3) == 0);
            struct blob unit = {0};
            add_percent(&unit, x + 3, (size_t)(end - x - 3));
            for (unsigned long k = 0; k < count; k++)
                blob_add(b, unit.p, unit.n);
            free(unit.p);
            i += (size_t)(end - rest) + 2;
        } else if (left >= 3 && strncmp(rest, "%CR", 3) == 0) {
            blob_add(b, "\r", 1);
            i += 3;
        } else if (left >= 12 && strncmp(rest, "%includetext", 12) == 0) {
            return false;
        } else {
            blob_add(b, rest, 1);
            i++;
        }
    }
    return true;
}

/* The content of <tag ...>...</tag> inside <reply>, with curl's crlf/nonewline attributes. */
static bool curl_section(const char *file, const char *tag, struct blob *out, bool *known)
{
    const char *reply = strstr(file, "<reply>");
    assert_non_null(reply);
    char open[32], close[32];
    snprintf(open, sizeof open, "<%s", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *p = reply;
    while ((p = strstr(p, open)) && p[strlen(open)] != '>' && p[strlen(open)] != ' ')
        p++;
    if (!p)
        return false;
    const char *gt = strchr(p, '>');
    const char *end = strstr(gt, close);
    assert_non_null(end);
    char attrs[256];
    snprintf(attrs, sizeof attrs, "%.*s", (int)(gt - p), p);
    const char *text = gt + 1;
    if (*text == '\n')
        text++;
    /* LF to CRLF where asked: in the head only ("headers") or everywhere ("yes"). */
    struct blob conv = {0};
    bool head_only = strstr(attrs, "crlf=\"headers\"") != NULL;
    bool all = strstr(attrs, "crlf=\"yes\"") != NULL;
    bool in_head = true;
    for (const char *c = text; c < end; c++) {
        if (*c == '\n' && (all || (head_only && in_head)) && (c == text || c[-1] != '\r'))
            blob_add(&conv, "\r", 1);
        if (*c == '\n' && c > text && c[-1] == '\n')
            in_head = false;
        blob_add(&conv, c, 1);
    }
    if (strstr(attrs, "nonewline=\"yes\"") && conv.n && conv.p[conv.n - 1] == '\n') {
        conv.n--;
        if (conv.n && conv.p[conv.n - 1] == '\r')
            conv.n--;
    }
    *known = expand((const char *)conv.p, conv.n, out);
    free(conv.p);
    return true;
}

static size_t head_end(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 3 < n; i++)
        if (memcmp(p + i, "\r\n\r\n", 4) == 0)
            return i + 4;
    fail_msg("no end of head");
    return 0;
}

static void test_curl_corpus(void **state)
{
    (void)state;
    const char *corpus = tu_corpus();
    if (!corpus) {
        printf("skipped: shared corpus absent ($HSPY_CORPUS)\n");
        skip();
    }
    static const struct {
        const char *name;
        enum decode_status st;
        const char *coding; /* failing coding */
        size_t max;
        bool xml1; /* the decoded body is curl's data-xml1 (not in the corpus): cross-checked */
    } cases[] = {
        {"test220", DECODE_OK, "", 1 << 20, false},
        {"test221", DECODE_ERROR, "gzip", 1 << 20, false},
        {"test222", DECODE_OK, "", 1 << 20, true},
        {"test223", DECODE_ERROR, "deflate", 1 << 20, false},
        {"test224", DECODE_OK, "", 1 << 20, false},
        {"test230", DECODE_OK, "", 1 << 20, true},
        {"test232", DECODE_OK, "", 1 << 20, true},
        {"test314", DECODE_OK, "", 1 << 20, true},
        {"test315", DECODE_ERROR, "br", 1 << 20, false},
        {"test316", DECODE_OK, "", 1 << 20, false},
        {"test396", DECODE_OK, "", 1 << 20, true},
        {"test397", DECODE_OK, "", 1 << 20, false},
        {"test1277", DECODE_OK, "", 1 << 20, true},
        {"test1618", DECODE_LIMIT, "", 1000, false},
        {"test2305", DECODE_OK, "", 1 << 20, false},
    };
    struct blob xml1 = {0};
    int checked = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/raw/curl/%s", corpus, cases[i].name);
        size_t flen;
        char *file = (char *)tu_read_file(path, &flen);
        if (!file)
            fail_msg("%s: cannot read", path);
        struct blob data = {0}, check = {0};
        bool data_known, check_known = false;
        assert_true(curl_section(file, "data", &data, &data_known));
        assert_true(data_known);
        bool has_check = curl_section(file, "datacheck", &check, &check_known);
        struct msg x;
        msg_build(&x, data.p, data.n, data.n + 1);
        struct dynbuf out;
        struct decode_result res;
        dynbuf_init(&out, SIZE_MAX / 2);
        enum decode_status st = decode_message(&x.m, &LIMITS, cases[i].max, &out, &res);
        if (st != cases[i].st)
            fail_msg("%s: %s (%s), expected %s", cases[i].name, decode_status_label(st),
                     res.message, decode_status_label(cases[i].st));
        assert_string_equal(res.coding, cases[i].coding);
        if (st == DECODE_ERROR)
            assert_true(res.error_offset < 16); /* these streams are broken at their start */
        if (st == DECODE_LIMIT)
            assert_int_equal(out.len, cases[i].max);
        if (cases[i].xml1) {
            if (!xml1.p)
                blob_add(&xml1, out.data, out.len);
            expect_bytes(&out, xml1.p, xml1.n);
            assert_true(out.len > 1000 && memcmp(out.data, "<?xml", 5) == 0);
        } else if (has_check && check_known && st == DECODE_OK) {
            /* datacheck = the head as received, then the decoded body. */
            size_t h = head_end(check.p, check.n);
            expect_bytes(&out, check.p + h, check.n - h);
        } else if (strcmp(cases[i].name, "test2305") == 0) {
            expect_bytes(&out, "Hello, World!\n", 14); /* both gzip members */
        }
        checked++;
        dynbuf_cleanup(&out);
        message_cleanup(&x.m);
        free(data.p);
        free(check.p);
        free(file);
    }
    assert_int_equal(checked, 15);
    free(xml1.p);
}

/* ---- libhtp's gzip header vectors ----------------------------------------------------- */

static void test_libhtp_gzip(void **state)
{
    (void)state;
    const char *corpus = tu_corpus();
    if (!corpus) {
        printf("skipped: shared corpus absent ($HSPY_CORPUS)\n");
        skip();
    }
    static const char FIVE[] = "The five boxing wizards jump quickly.";
    static const struct {
        const char *file;
        enum decode_status st;
        const char *out; /* NULL: no check */
        long offset;     /* error offset; -1 = file length - n */
        const char *msg;
    } cases[] = {
        {"gztest-01-minimal.gz", DECODE_OK, FIVE, 0, ""},
        {"gztest-02-fname.gz", DECODE_OK, FIVE, 0, ""},
        /* flags 0x16 with an XLEN of 20291: the extra field runs past the end */
        {"gztest-03-fcomment.gz", DECODE_ERROR, "", -0, "ends early"},
        {"gztest-04-fhcrc.gz", DECODE_ERROR, "", 10, "header CRC mismatch"},
        {"gztest-05-fextra.gz", DECODE_OK, FIVE, 0, ""},
        {"gztest-06-ftext.gz", DECODE_OK, FIVE, 0, ""},
        {"gztest-07-freserved1.gz", DECODE_ERROR, "", 3, "reserved"},
        {"gztest-08-freserved2.gz", DECODE_ERROR, "", 3, "reserved"},
        {"gztest-09-freserved3.gz", DECODE_ERROR, "", 3, "reserved"},
        {"gztest-10-multipart.gz", DECODE_OK,
         "The five boxing wizards jump quickly.The quick brown fox jumps over the lazy dog.", 0,
         ""},
        {"gztest-11-invalid-method.gz", DECODE_ERROR, "", 2, "method"},
        {"gztest-12-invalid-crc32.gz", DECODE_ERROR, FIVE, -8, "CRC-32 mismatch"},
        {"gztest-13-invalid-isize.gz", DECODE_ERROR, NULL, -4, "length mismatch"},
        {"gztest-14-invalid-xfl.gz", DECODE_OK, FIVE, 0, ""},
        {"gztest-15-invalid-fhcrc.gz", DECODE_OK, FIVE, 0, ""}, /* its header CRC is right */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/raw/libhtp/gzip/%s", corpus, cases[i].file);
        struct blob b;
        b.p = tu_read_file(path, &b.n);
        if (!b.p)
            fail_msg("%s: cannot read", path);
        struct dynbuf out;
        struct decode_result res;
        enum decode_status st = run("gzip", &b, 4096, &out, &res);
        if (st != cases[i].st)
            fail_msg("%s: %s (%s)", cases[i].file, decode_status_label(st), res.message);
        if (cases[i].out)
            expect_bytes(&out, cases[i].out, strlen(cases[i].out));
        if (st == DECODE_ERROR) {
            uint64_t want =
                cases[i].offset > 0 ? (uint64_t)cases[i].offset : b.n - (size_t)(-cases[i].offset);
            assert_int_equal(res.error_offset, want);
            if (!strstr(res.message, cases[i].msg))
                fail_msg("%s: message \"%s\"", cases[i].file, res.message);
        }
        dynbuf_cleanup(&out);
        free(b.p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_identity_and_unknown),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_too_many_layers),
        cmocka_unit_test(test_multi_member_and_frames),
        cmocka_unit_test(test_trailing_bytes),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_gzip_fields),
        cmocka_unit_test(test_gzip_optional_fields),
        cmocka_unit_test(test_empty_bodies),
        cmocka_unit_test(test_zstd_window_limit),
        cmocka_unit_test(test_bombs),
        cmocka_unit_test(test_bombs_are_real),
        cmocka_unit_test(test_stacked_bomb),
        cmocka_unit_test(test_cap_edges),
        cmocka_unit_test(test_message),
        cmocka_unit_test(test_curl_corpus),
        cmocka_unit_test(test_libhtp_gzip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
