/*
 * pcapsource: every capture under captures/ read through libpcap and the capture pipeline,
 * summarised one line per exchange and compared with its golden transcript under
 * tests/golden/read/<capture>.txt. HSPY_UPDATE_GOLDEN=1 rewrites the transcripts instead.
 *
 * Also a tool for the end-to-end scripts: `test_pcapsource --summary FILE...` prints the
 * summaries (the conformance and corruption tests use it), `--counts FILE` prints one line of
 * counts (requests, responses, methods, statuses) in the form the conformance test compares.
 */
#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hspy/capture.h"
#include "hspy/dynbuf.h"
#include "hspy/hspy.h"
#include "hspy/pcapsource.h"
#include "hspy/store.h"

struct summary {
    struct dynbuf out;
};

static void flag_names(struct dynbuf *b, uint32_t flags)
{
    static const char *const NAMES[] = {
        "done",          "incomplete", "truncated",  "gap",    "tunnel",  "held",
        "intercepted",   "edited",     "replay",     "killed", "timeout", "client-abort",
        "upstream-fail", "rejected",   "no-request", "evicted"};
    const char *sep = "";
    for (unsigned i = 1; i < sizeof NAMES / sizeof NAMES[0]; i++) {
        if (flags & (1u << i)) {
            dynbuf_printf(b, "%s%s", sep, NAMES[i]);
            sep = ",";
        }
    }
    if (!*sep)
        dynbuf_adds(b, "-");
}

/* Printable ASCII as is, everything else as \xNN (transcripts stay plain text). */
static void escape(char *out, size_t outlen, const char *in)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 5 < outlen; p++) {
        if (*p > 0x20 && *p < 0x7f)
            out[o++] = (char)*p;
        else
            o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", *p);
    }
    out[o] = 0;
}

static void on_complete(void *data, struct exchange *ex)
{
    struct summary *s = data;
    char method[64], target[256], safe[512];
    exchange_method(ex, method, sizeof method);
    exchange_target(ex, target, sizeof target);
    escape(safe, sizeof safe, target);
    dynbuf_printf(&s->out, "conn=%llu seq=%u %s %s -> %d req=%llu/%llu resp=%llu/%llu",
                  (unsigned long long)ex->conn_id, ex->conn_seq, method[0] ? method : "-",
                  safe[0] ? safe : "-", exchange_status(ex), (unsigned long long)ex->req.wire_bytes,
                  (unsigned long long)ex->req.body_size, (unsigned long long)ex->resp.wire_bytes,
                  (unsigned long long)ex->resp.body_size);
    if (ex->resp.ninterim)
        dynbuf_printf(&s->out, " interim=%u", (unsigned)ex->resp.ninterim);
    if (ex->flags & EX_TUNNEL)
        dynbuf_printf(&s->out, " tunnel=%llu/%llu", (unsigned long long)ex->tunnel_bytes[0],
                      (unsigned long long)ex->tunnel_bytes[1]);
    dynbuf_adds(&s->out, " flags=");
    flag_names(&s->out, ex->flags);
    dynbuf_adds(&s->out, " warnings=");
    if (!ex->nwarnings)
        dynbuf_adds(&s->out, "-");
    for (uint16_t i = 0; i < ex->nwarnings; i++)
        dynbuf_printf(&s->out, "%s%s", i ? "," : "", warning_name(ex->warnings[i].code));
    dynbuf_adds(&s->out, "\n");
}

/* Reads a capture; returns the summary text (malloc'ed) or NULL when it cannot be opened. */
static char *summarise(const char *path, char *err, size_t errlen)
{
    struct pcapsource src;
    if (pcapsource_open_file(&src, path, NULL, err, errlen) < 0)
        return NULL;
    struct store store;
    store_init(&store, 0, (size_t)1 << 30);
    struct summary sum;
    dynbuf_init(&sum.out, (size_t)64 << 20);
    store_observe(&store, &(struct store_observer){&sum, NULL, NULL, on_complete, NULL});
    struct http_limits limits = HTTP_LIMITS_DEFAULT;
    struct exchange_limits exl = {limits.head_max, 1 << 20};
    uint64_t conn_id = 0;
    struct capture_config cfg;
    memset(&cfg, 0, sizeof cfg);
    capture_config_defaults(&cfg);
    cfg.store = &store;
    cfg.limits = &limits;
    cfg.ex_limits = &exl;
    cfg.next_conn_id = &conn_id;
    pcapsource_start(&src, &cfg, NULL);
    while (pcapsource_read(&src, 4096, false))
        ;
    pcapsource_close(&src); /* ends the connections: final gaps are counted */
    struct capture_counters c = src.cap.counters;
    struct flowtable_counters fc = src.cap.flows.counters;
    dynbuf_printf(&sum.out,
                  "packets=%llu tcp=%llu other=%llu malformed=%llu snaplen=%llu connections=%llu "
                  "ignored=%llu gaps=%llu gap_bytes=%llu differs=%llu\n",
                  (unsigned long long)c.packets, (unsigned long long)c.tcp,
                  (unsigned long long)c.other, (unsigned long long)c.malformed,
                  (unsigned long long)c.snaplen, (unsigned long long)c.connections,
                  (unsigned long long)c.ignored, (unsigned long long)fc.gaps,
                  (unsigned long long)fc.gap_bytes, (unsigned long long)fc.differs);
    /* Notes begin with the path: only its last part is the same in every checkout. */
    size_t plen = strlen(path);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    for (unsigned i = 0; i < src.nnotes; i++) {
        const char *n = src.notes[i];
        bool named = strncmp(n, path, plen) == 0;
        dynbuf_printf(&sum.out, "note: %s%s\n", named ? base : "", named ? n + plen : n);
    }
    if (src.error[0])
        dynbuf_printf(&sum.out, "error: %s\n", src.error);
    store_cleanup(&store);
    return dynbuf_take(&sum.out);
}

static const char *source_dir(void)
{
    const char *d = getenv("HSPY_SOURCE_DIR");
    return d ? d : ".";
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static void test_golden(void **state)
{
    (void)state;
    char dir[4096], golden_dir[4096];
    snprintf(dir, sizeof dir, "%s/captures", source_dir());
    snprintf(golden_dir, sizeof golden_dir, "%s/tests/golden/read", source_dir());
    DIR *d = opendir(dir);
    if (!d)
        skip();
    bool update = getenv("HSPY_UPDATE_GOLDEN") != NULL;
    int checked = 0, failed = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!has_suffix(e->d_name, ".pcap") && !has_suffix(e->d_name, ".pcapng"))
            continue;
        char path[8192], gpath[8192], err[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        snprintf(gpath, sizeof gpath, "%s/%s.txt", golden_dir, e->d_name);
        char *got = summarise(path, err, sizeof err);
        if (!got) {
            print_error("%s\n", err);
            failed++;
            continue;
        }
        if (update) {
            FILE *f = fopen(gpath, "w");
            assert_non_null(f);
            fputs(got, f);
            fclose(f);
        } else {
            size_t len;
            char *want = (char *)tu_read_file(gpath, &len);
            if (!want || strcmp(want, got) != 0) {
                print_error("%s: differs from %s\n--- got:\n%s", e->d_name, gpath, got);
                failed++;
            }
            free(want);
        }
        checked++;
        free(got);
    }
    closedir(d);
    print_message("%d captures checked against their golden transcripts\n", checked);
    assert_true(checked > 0);
    assert_int_equal(failed, 0);
}

/* Writes len bytes to a new temporary file whose name goes to path (a mkstemp template). */
static void write_temp(char *path, const void *bytes, size_t len)
{
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    fclose(f);
}

static void test_not_a_capture(void **state)
{
    (void)state;
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/captures/README.md", source_dir());
    assert_null(summarise(path, err, sizeof err));
    assert_non_null(strstr(err, ": not a pcap, pcapng or HAR file"));
    assert_null(summarise("/nonexistent/file.pcap", err, sizeof err));
    assert_non_null(strstr(err, "No such file"));

    /* A capture's magic number with a header hspy cannot read: the reason is given. */
    static const struct {
        uint8_t bytes[24];
        size_t len;
        const char *says;
    } damaged[] = {
        {{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0}, 10, "damaged or unsupported capture: truncated"},
        {{0xd4, 0xc3, 0xb2, 0xa1, 9, 0, 4, 0, [16] = 0xff, 0xff, [20] = 1},
         24,
         "damaged or unsupported capture: unsupported pcap savefile version 9.4"},
    };
    for (size_t i = 0; i < sizeof damaged / sizeof *damaged; i++) {
        char tmp[] = "/tmp/hspy-test-damaged-XXXXXX";
        write_temp(tmp, damaged[i].bytes, damaged[i].len);
        char *got = summarise(tmp, err, sizeof err);
        unlink(tmp);
        assert_null(got);
        if (!strstr(err, damaged[i].says))
            fail_msg("row %zu: '%s' lacks '%s'", i, err, damaged[i].says);
    }
}

/* Appends a pcapng block: type, body (padded to 32 bits), total length at both ends. */
static void block(struct dynbuf *b, uint32_t type, const void *body, uint32_t len)
{
    static const uint8_t pad[3];
    uint32_t total = 12 + (len + 3) / 4 * 4;
    dynbuf_append(b, &type, 4);
    dynbuf_append(b, &total, 4);
    dynbuf_append(b, body, len);
    dynbuf_append(b, pad, (len + 3) / 4 * 4 - len);
    dynbuf_append(b, &total, 4);
}

static void interface(struct dynbuf *b, uint16_t linktype)
{
    uint8_t idb[8] = {0};
    uint32_t snap = 65535;
    memcpy(idb, &linktype, 2);
    memcpy(idb + 4, &snap, 4);
    block(b, 1, idb, sizeof idb);
}

static void packet_on(struct dynbuf *b, uint32_t iface)
{
    uint8_t epb[20 + 16] = {0};
    uint32_t len = 16;
    memcpy(epb, &iface, 4);
    memcpy(epb + 12, &len, 4);
    memcpy(epb + 16, &len, 4);
    block(b, 6, epb, sizeof epb);
}

/*
 * A valid pcapng whose second interface has another link type (as mergecap writes from a
 * loopback and an "any" capture): libpcap's reader refuses it. The packets before are decoded,
 * and the source says why the rest was not read, as an error, not as corruption.
 */
static void test_mixed_link_types(void **state)
{
    (void)state;
    struct dynbuf b;
    dynbuf_init(&b, 4096);
    uint8_t shb[16] = {0};
    uint32_t magic = 0x1A2B3C4D;
    uint16_t major = 1;
    memcpy(shb, &magic, 4);
    memcpy(shb + 4, &major, 2);
    memset(shb + 8, 0xff, 8); /* section length unknown */
    block(&b, 0x0A0D0D0A, shb, sizeof shb);
    interface(&b, 1); /* Ethernet */
    packet_on(&b, 0);
    interface(&b, 276); /* Linux cooked v2 */
    packet_on(&b, 1);
    char path[] = "/tmp/hspy-test-mixed-XXXXXX";
    write_temp(path, b.data, b.len);
    dynbuf_cleanup(&b);
    char err[512];
    char *got = summarise(path, err, sizeof err);
    unlink(path);
    assert_non_null(got);
    assert_non_null(strstr(got, "packets=1 "));
    assert_non_null(strstr(got, "error: "));
    assert_non_null(strstr(got, "different link types (EN10MB, then LINUX_SLL2)"));
    assert_non_null(strstr(got, "the 1 packet before was decoded"));
    assert_null(strstr(got, "corrupt"));
    free(got);
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "--summary") == 0) {
        int rc = 0;
        for (int i = 2; i < argc; i++) {
            char err[512];
            char *s = summarise(argv[i], err, sizeof err);
            if (!s) {
                fprintf(stderr, "%s\n", err);
                rc = 1;
                continue;
            }
            fputs(s, stdout);
            free(s);
        }
        return rc;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_not_a_capture),
        cmocka_unit_test(test_mixed_link_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
