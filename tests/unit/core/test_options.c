/* Command-line grammar: a table of good and bad command lines and what they must give. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "hspy/options.h"

struct cli_case {
    const char *argv[8];
    int result; /* enum options_result */
    enum command cmd;
    const char *err_has; /* substring of the error for OPTIONS_USAGE */
};

static const struct cli_case CASES[] = {
    {{"hspy"}, OPTIONS_USAGE, CMD_NONE, "missing command"},
    {{"hspy", "--help"}, OPTIONS_HELP, CMD_NONE, NULL},
    {{"hspy", "-h"}, OPTIONS_HELP, CMD_NONE, NULL},
    {{"hspy", "help", "proxy"}, OPTIONS_HELP, CMD_PROXY, NULL},
    {{"hspy", "--version"}, OPTIONS_VERSION, CMD_NONE, NULL},
    {{"hspy", "frob"}, OPTIONS_USAGE, CMD_NONE, "unknown command 'frob'"},
    {{"hspy", "--frob"}, OPTIONS_USAGE, CMD_NONE, "unknown option '--frob'"},
    {{"hspy", "listen", "8000"}, OPTIONS_RUN, CMD_LISTEN, NULL},
    {{"hspy", "listen", "--help"}, OPTIONS_HELP, CMD_LISTEN, NULL},
    {{"hspy", "listen", "-h", "8000"}, OPTIONS_HELP, CMD_LISTEN, NULL},
    {{"hspy", "listen"}, OPTIONS_USAGE, CMD_LISTEN, "missing [HOST:]PORT"},
    {{"hspy", "listen", "99999"}, OPTIONS_USAGE, CMD_LISTEN, "out of range"},
    {{"hspy", "listen", "[::1]:0"}, OPTIONS_RUN, CMD_LISTEN, NULL},
    {{"hspy", "listen", "::1:80"}, OPTIONS_USAGE, CMD_LISTEN, "brackets"},
    {{"hspy", "listen", "8000", "9000"}, OPTIONS_USAGE, CMD_LISTEN, "unexpected argument"},
    {{"hspy", "listen", "--frob", "8000"}, OPTIONS_USAGE, CMD_LISTEN, "unknown option"},
    {{"hspy", "listen", "--max-conns", "x", "8000"}, OPTIONS_USAGE, CMD_LISTEN, "not a number"},
    {{"hspy", "listen", "--max-conns"}, OPTIONS_USAGE, CMD_LISTEN, "needs a value"},
    {{"hspy", "listen", "--body-keep", "2M", "8000"}, OPTIONS_RUN, CMD_LISTEN, NULL},
    {{"hspy", "listen", "--body-keep", "2Q", "8000"}, OPTIONS_USAGE, CMD_LISTEN, "not a size"},
    {{"hspy", "listen", "--idle-timeout", "250ms", "8000"}, OPTIONS_RUN, CMD_LISTEN, NULL},
    {{"hspy", "listen", "--idle-timeout", "soon", "8000"},
     OPTIONS_USAGE,
     CMD_LISTEN,
     "not a duration"},
    {{"hspy", "listen", "--log", "loud", "8000"}, OPTIONS_USAGE, CMD_LISTEN, "--log"},
    {{"hspy", "proxy", "8000"}, OPTIONS_USAGE, CMD_PROXY, "missing UPSTREAM"},
    {{"hspy", "proxy", "8000", "localhost:9000"}, OPTIONS_RUN, CMD_PROXY, NULL},
    {{"hspy", "proxy", "8000", "http://localhost:9000/"}, OPTIONS_RUN, CMD_PROXY, NULL},
    {{"hspy", "proxy", "8000", "https://x:1"}, OPTIONS_USAGE, CMD_PROXY, "only http://"},
    {{"hspy", "proxy", "8000", ":9000"}, OPTIONS_USAGE, CMD_PROXY, "missing host"},
    /* Port 0 picks a free port to listen on, but names no peer to connect to. */
    {{"hspy", "proxy", "0", "localhost:9000"}, OPTIONS_RUN, CMD_PROXY, NULL},
    {{"hspy", "proxy", "8000", "127.0.0.1:0"},
     OPTIONS_USAGE,
     CMD_PROXY,
     "hspy proxy: bad upstream: port 0 in '127.0.0.1:0' (a port to connect to is 1 to 65535)\nTry"},
    {{"hspy", "proxy", "8000", "http://localhost:00/"}, OPTIONS_USAGE, CMD_PROXY, "port 0"},
    {{"hspy", "proxy", "8000", "[::1]:0"}, OPTIONS_USAGE, CMD_PROXY, "port 0"},
    {{"hspy", "listen", "--replay-to", "127.0.0.1:0", "8000"},
     OPTIONS_USAGE,
     CMD_LISTEN,
     "hspy listen: --replay-to: port 0 in '127.0.0.1:0' (a port to connect to is 1 to 65535)\nTry"},
    {{"hspy", "read", "--replay-to", ":80", "x.pcap"}, OPTIONS_USAGE, CMD_READ, "missing host"},
    {{"hspy", "read", "--replay-to", "127.0.0.1:1", "x.pcap"}, OPTIONS_RUN, CMD_READ, NULL},
    {{"hspy", "read", "x.pcap"}, OPTIONS_RUN, CMD_READ, NULL},
    {{"hspy", "read"}, OPTIONS_USAGE, CMD_READ, "missing FILE"},
    {{"hspy", "read", "--bpf", "tcp port 80", "-"}, OPTIONS_RUN, CMD_READ, NULL},
    {{"hspy", "lint", "--request", "--response", "-"}, OPTIONS_USAGE, CMD_LINT, "exclude"},
    {{"hspy", "lint", "--bpf", "x", "-"}, OPTIONS_USAGE, CMD_LINT, "unknown option"},
    {{"hspy", "sniff", "-i", "lo", "tcp", "port", "80"}, OPTIONS_RUN, CMD_SNIFF, NULL},
    {{"hspy", "proxy", "8000", "localhost:9000", "--json"}, OPTIONS_RUN, CMD_PROXY, NULL},
    {{"hspy", "lint", "-", "--request"}, OPTIONS_RUN, CMD_LINT, NULL},
    {{"hspy", "lint", "--", "-x"}, OPTIONS_RUN, CMD_LINT, NULL},
    /* A value given to an option that takes none names the option, never getopt's inner id. */
    {{"hspy", "read", "--json=yes", "x.pcap"},
     OPTIONS_USAGE,
     CMD_READ,
     "hspy read: option '--json' takes no value\nTry 'hspy read --help'."},
    {{"hspy", "proxy", "--xf=1", "8000", "up:80"},
     OPTIONS_USAGE,
     CMD_PROXY,
     "option '--xff' takes no value"},
    {{"hspy", "lint", "--help=x", "-"}, OPTIONS_USAGE, CMD_LINT, "option '--help' takes no value"},
    {{"hspy", "lint", "--frob=1", "-"}, OPTIONS_USAGE, CMD_LINT, "unknown option '--frob=1'"},
    {{"hspy", "sniff", "-q"}, OPTIONS_USAGE, CMD_SNIFF, "unknown option '-q'"},
    /* Bad values of --filter and --body are usage errors, found before anything runs. */
    {{"hspy", "read", "--filter", "~m GET &", "x.pcap"},
     OPTIONS_USAGE,
     CMD_READ,
     "hspy read: --filter: at offset 8: expected a term at the end of the expression\nTry"},
    /* One offset, once: an unclosed '(' is named where it opens, by the offset alone. */
    {{"hspy", "listen", "--intercept", "(~m GET", "0"},
     OPTIONS_USAGE,
     CMD_LISTEN,
     "hspy listen: --intercept: at offset 0: '(' without a matching ')'\nTry"},
    {{"hspy", "read", "--filter", "~c5xx", "x.pcap"},
     OPTIONS_USAGE,
     CMD_READ,
     "hspy read: --filter: at offset 0: unknown term ~c5xx (did you mean ~c 5xx?)\nTry"},
    {{"hspy", "read", "--filter", "~c 5xx | ~e", "x.pcap"}, OPTIONS_RUN, CMD_READ, NULL},
    {{"hspy", "listen", "--body", "x\\q", "0"}, OPTIONS_USAGE, CMD_LISTEN, "--body: bad escape"},
    {{"hspy", "listen", "--body", "a\\tb\\x41\\@", "0"}, OPTIONS_RUN, CMD_LISTEN, NULL},
    {{"hspy", "listen", "--body", "@x\\q", "0"}, OPTIONS_RUN, CMD_LISTEN, NULL},
    {{"hspy", "listen", "--trickle", "16/100ms", "0"}, OPTIONS_RUN, CMD_LISTEN, NULL},
    {{"hspy", "listen", "--trickle", "16", "0"},
     OPTIONS_USAGE,
     CMD_LISTEN,
     "hspy listen: --trickle '16': expected BYTES/TIME (e.g. 16/100ms)\nTry"},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const struct cli_case *c = &CASES[i];
        int argc = 0;
        char *argv[8];
        while (argc < 8 && c->argv[argc]) {
            argv[argc] = (char *)c->argv[argc];
            argc++;
        }
        struct options o;
        options_init(&o);
        char err[512] = "";
        int r = options_parse(&o, argc, argv, err, sizeof err);
        if (r != c->result)
            fail_msg("case %zu (%s %s): result %d, want %d; err=%s", i, c->argv[1],
                     c->argv[2] ? c->argv[2] : "", r, c->result, err);
        if (c->result != OPTIONS_VERSION)
            assert_int_equal(o.cmd, c->cmd);
        if (c->err_has && !strstr(err, c->err_has))
            fail_msg("case %zu: error '%s' lacks '%s'", i, err, c->err_has);
        if (r == OPTIONS_USAGE)
            assert_non_null(strstr(err, "--help"));
        options_cleanup(&o);
    }
}

static void test_values(void **state)
{
    (void)state;
    char *argv[] = {"hspy", "listen", "--body-keep", "2M", "--idle-timeout", "1.5s", "[::1]:8080"};
    struct options o;
    options_init(&o);
    char err[256];
    assert_int_equal(options_parse(&o, 7, argv, err, sizeof err), OPTIONS_RUN);
    assert_int_equal(o.body_keep, 2 << 20);
    assert_int_equal(o.idle_timeout_ms, 1500);
    assert_string_equal(o.host, "::1");
    assert_int_equal(o.port, 8080);
    options_cleanup(&o);

    char *sniff[] = {"hspy", "sniff", "-i", "lo", "tcp", "port", "80"};
    options_init(&o);
    assert_int_equal(options_parse(&o, 7, sniff, err, sizeof err), OPTIONS_RUN);
    assert_string_equal(o.iface, "lo");
    assert_string_equal(o.bpf, "tcp port 80");
    options_cleanup(&o);
}

static void test_sizes(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(options_parse_size("64k", &v), 0);
    assert_int_equal(v, 65536);
    assert_int_equal(options_parse_size("1GiB", &v), 0);
    assert_int_equal(v, 1ull << 30);
    assert_int_equal(options_parse_size("12B", &v), 0);
    assert_int_equal(v, 12);
    assert_int_equal(options_parse_size("k", &v), -1);
    assert_int_equal(options_parse_size("-1", &v), -1);
    assert_int_equal(options_parse_size("99999999999999999999", &v), -1);
    assert_int_equal(options_parse_duration_ms("2m", &v), 0);
    assert_int_equal(v, 120000);
    assert_int_equal(options_parse_duration_ms("30", &v), 0);
    assert_int_equal(v, 30000);
    assert_int_equal(options_parse_duration_ms("5x", &v), -1);
}

static void test_help_lists_every_option(void **state)
{
    (void)state;
    for (int c = CMD_LISTEN; c < CMD__COUNT; c++) {
        struct dynbuf out;
        dynbuf_init(&out, 1 << 20);
        options_help(&out, (enum command)c);
        unsigned cmds;
        const char *name;
        for (size_t i = 0; (name = options_name(i, &cmds)) != NULL; i++) {
            if (!(cmds & CMD_BIT(c)))
                continue;
            char want[80];
            snprintf(want, sizeof want, "--%s", name);
            if (!strstr(dynbuf_str(&out), want))
                fail_msg("help of %s lacks %s", command_name((enum command)c), want);
        }
        dynbuf_cleanup(&out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_help_lists_every_option),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
