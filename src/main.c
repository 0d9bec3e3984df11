/*
 * main: parses the command line, builds the one struct hspy, runs the chosen mode and turns
 * the outcome into an exit status: 0 success, 1 runtime failure, 2 usage error (found by the
 * parser, or by the mode for values it judges: hspy_usage), 3 (lint only) warnings found.
 * Environment failures are printed as "hspy: <what>: <why>" on stderr.
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hspy/dynbuf.h"
#include "hspy/hspy.h"
#include "hspy/mode.h"
#include "hspy/termsafe.h"
#include "hspy/tui.h"

static const struct mode *const MODES[CMD__COUNT] = {
    [CMD_LISTEN] = &mode_listen, [CMD_PROXY] = &mode_proxy, [CMD_READ] = &mode_read,
    [CMD_LINT] = &mode_lint,     [CMD_SNIFF] = &mode_sniff,
};

/* Prints an error on stderr. It may quote what the user or the network gave (a file name, a
 * filter, a header): shown, never obeyed, with its line breaks kept. */
static void print_error(const char *prefix, const char *msg)
{
    char safe[4 * sizeof((struct hspy *)0)->err];
    termsafe_str(safe, sizeof safe, (const uint8_t *)msg, strlen(msg), TERMSAFE_NEWLINES);
    fprintf(stderr, "%s%s\n", prefix, safe);
}

static void print_help(enum command cmd)
{
    struct dynbuf out;
    dynbuf_init(&out, 1 << 20);
    options_help(&out, cmd);
    fwrite(out.data, 1, out.len, stdout);
    dynbuf_cleanup(&out);
}

int main(int argc, char **argv)
{
    /* A peer closing early must be an error return on that socket, never a dead process. */
    signal(SIGPIPE, SIG_IGN);
    /* Likewise a file size limit reached while writing --har: a failed write, not a death. */
    signal(SIGXFSZ, SIG_IGN);

    /* Bodies pass through buffers of up to a few MB each; keep such blocks in the heap rather
     * than mapping and unmapping fresh (zeroed) pages for every exchange. */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);

    static struct hspy h; /* large; static storage rather than the stack, still one object */
    hspy_init(&h);
    h.tui_open = tui_new;
    h.tui_close = tui_free;
    char err[1024];
    int rc = options_parse(&h.opt, argc, argv, err, sizeof err);
    if (rc != OPTIONS_RUN) {
        int status = 0;
        if (rc == OPTIONS_HELP)
            print_help(h.opt.cmd);
        else if (rc == OPTIONS_VERSION)
            printf("hspy %s\n", HSPY_VERSION);
        else {
            print_error("", err);
            status = 2;
        }
        hspy_cleanup(&h);
        return status;
    }
    hspy_configure(&h);
    int status = MODES[h.opt.cmd]->run(&h);
    hspy_finish(&h);
    /* Output can fail after the mode succeeded: written at the end (an export, --save) or on
     * the way (stdout, --har, --pcapng; the sinks said what was lost). */
    if (h.usage)
        status = 2;
    else if (status == 0 && (h.err[0] || h.write_failed))
        status = 1;
    if (h.err[0])
        print_error(h.usage ? "" : "hspy: ", h.err);
    hspy_cleanup(&h);
    return status;
}
