/* sha256: FIPS 180-4 test vectors, every padding boundary, and input split at random places. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "hspy/sha256.h"

static void hex_of(const void *p, size_t n, char hex[65])
{
    struct sha256 s;
    uint8_t d[32];
    sha256_init(&s);
    sha256_update(&s, p, n);
    sha256_final(&s, d);
    sha256_hex(d, hex);
}

static void test_vectors(void **state)
{
    (void)state;
    char hex[65];
    hex_of("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    hex_of("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hex_of(two, strlen(two), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char *million = malloc(1000000);
    memset(million, 'a', 1000000);
    hex_of(million, 1000000, hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(million);
}

/* Lengths around the padding boundaries (55, 56, 63, 64, ...), whole and split, agree. */
static void test_splits(void **state)
{
    (void)state;
    uint8_t buf[300];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 131 + 7);
    srand(12345);
    for (size_t n = 0; n < sizeof buf; n++) {
        char whole[65], pieces[65];
        hex_of(buf, n, whole);
        struct sha256 s;
        uint8_t d[32];
        sha256_init(&s);
        for (size_t off = 0; off < n;) {
            size_t k = 1 + (size_t)rand() % 70;
            if (k > n - off)
                k = n - off;
            sha256_update(&s, buf + off, k);
            off += k;
        }
        sha256_final(&s, d);
        sha256_hex(d, pieces);
        assert_string_equal(whole, pieces);
    }
    /* A known value at a boundary: 64 bytes of 'a'. */
    char hex[65];
    memset(buf, 'a', 64);
    hex_of(buf, 64, hex);
    assert_string_equal(hex, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

/* The portable compression gives what the processor's SHA instructions give (when present). */
static void test_portable_agrees(void **state)
{
    (void)state;
    uint8_t buf[1000];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 197 + 3);
    for (size_t n = 0; n < sizeof buf; n += 7) {
        struct sha256 fast, portable;
        uint8_t a[32], b[32];
        sha256_init(&fast);
        sha256_init(&portable);
        portable.ni = false;
        sha256_update(&fast, buf, n);
        sha256_update(&portable, buf, n);
        sha256_final(&fast, a);
        sha256_final(&portable, b);
        assert_memory_equal(a, b, 32);
    }
    struct sha256 s;
    uint8_t d[32];
    char hex[65];
    sha256_init(&s);
    s.ni = false;
    sha256_update(&s, "abc", 3);
    sha256_final(&s, d);
    sha256_hex(d, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_splits),
        cmocka_unit_test(test_portable_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
