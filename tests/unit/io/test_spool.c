/*
 * spool: bodies under the memory cap stay in memory; past it they move to a private (0600),
 * already unlinked temporary file in $TMPDIR; reading back gives the bytes in order, in pieces,
 * again after a rewind; the size cap is refused with a reason, and so is a folder that cannot
 * hold the file.
 */
#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hspy/spool.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/hspy-test-spool-XXXXXX");
    assert_non_null(mkdtemp(dir));
    setenv("TMPDIR", dir, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rmdir(dir);
    return 0;
}

static size_t entries(void)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Reads the whole spool back and compares it with want. */
static void read_back(struct spool *s, const uint8_t *want, size_t n)
{
    size_t got = 0;
    const uint8_t *p;
    char err[200];
    long k;
    while ((k = spool_next(s, &p, err, sizeof err)) > 0) {
        assert_true((size_t)k <= SPOOL_PIECE);
        assert_true(got + (size_t)k <= n);
        assert_memory_equal(p, want + got, (size_t)k);
        got += (size_t)k;
    }
    assert_int_equal(k, 0);
    assert_int_equal(got, n);
}

static uint8_t *pattern(size_t n)
{
    uint8_t *p = malloc(n);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7 + i / 251);
    return p;
}

static void test_memory(void **state)
{
    (void)state;
    struct spool s;
    spool_init(&s, 4096, 1 << 20);
    uint8_t *data = pattern(3000);
    char err[200];
    assert_int_equal(spool_write(&s, data, 1000, err, sizeof err), 0);
    assert_int_equal(spool_write(&s, data + 1000, 2000, err, sizeof err), 0);
    assert_false(spool_on_disk(&s));
    assert_int_equal(entries(), 0);
    read_back(&s, data, 3000);
    spool_rewind(&s);
    read_back(&s, data, 3000);
    spool_cleanup(&s);
    free(data);
}

static void test_spill(void **state)
{
    (void)state;
    struct spool s;
    spool_init(&s, 4096, 1 << 20);
    size_t n = 200000;
    uint8_t *data = pattern(n);
    char err[200];
    for (size_t off = 0; off < n; off += 3000)
        assert_int_equal(
            spool_write(&s, data + off, off + 3000 <= n ? 3000 : n - off, err, sizeof err), 0);
    assert_true(spool_on_disk(&s));
    /* Private and nameless: mode 0600, nothing left in the folder. */
    struct stat st;
    assert_int_equal(fstat(s.fd, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_nlink, 0);
    assert_int_equal(entries(), 0);
    read_back(&s, data, n);
    spool_rewind(&s);
    read_back(&s, data, n);
    spool_cleanup(&s);
    free(data);
}

static void test_limits(void **state)
{
    (void)state;
    struct spool s;
    spool_init(&s, 16, 100);
    uint8_t buf[64] = {0};
    char err[200];
    assert_int_equal(spool_write(&s, buf, 64, err, sizeof err), 0);
    assert_int_equal(spool_write(&s, buf, 64, err, sizeof err), -1);
    assert_non_null(strstr(err, "over the limit of 100 bytes"));
    spool_cleanup(&s);

    /* A folder that cannot take the file: the reason names it. */
    setenv("TMPDIR", "/nonexistent-hspy-folder", 1);
    spool_init(&s, 16, 1000);
    assert_int_equal(spool_write(&s, buf, 64, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot create a temporary file in /nonexistent-hspy-folder"));
    spool_cleanup(&s);
    setenv("TMPDIR", dir, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory),
        cmocka_unit_test(test_spill),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
