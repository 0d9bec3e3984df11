/*
 * exec: CGI-style answers for `hspy listen --exec CMD` and rules' "exec CMD".
 *
 * For each request the command runs with the CGI/1.1 meta-variables in its environment (see
 * cgi.h), the request body on its stdin (written as it arrives, with backpressure) and its
 * stdout read as the response. The command is started directly from its words, never through
 * a shell, unless the shell is asked for (--exec-shell, rules' exec-shell); even then request
 * data travels only in the environment and on stdin. It runs in its own process group, which
 * is killed when it exceeds its timeout or the client goes away.
 *
 * Output of up to EXEC_BUFFER bytes is collected until the command exits, so a failure (exit
 * status, signal, timeout, no output) can still become a 502 (504 for a timeout) carrying its
 * stderr on the exchange. Longer output streams (chunked to HTTP/1.1 clients); a failure after
 * that point cuts the response short and is recorded on the exchange.
 */
#ifndef HSPY_EXEC_H
#define HSPY_EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "hspy/reply.h"

enum {
    EXEC_BUFFER = 64 * 1024,     /* output held back until the command's fate is known */
    EXEC_STDIN_MAX = 256 * 1024, /* request bytes queued for the command before reading pauses */
    EXEC_STDERR_MAX = 8 * 1024,  /* stderr bytes kept for the exchange; the rest is counted */
};
#define EXEC_TIMEOUT_DEFAULT_MS 30000u

struct exec_cfg {
    char **argv;         /* the command's words (or sh -c CMD) */
    uint64_t timeout_ms; /* 0 = none */
    const char *software;
};

/* Prepares cfg from a command line. Returns 0, or -1 with "exec: reason" in err. */
int exec_cfg_init(struct exec_cfg *cfg, const char *cmd, bool shell, uint64_t timeout_ms,
                  const char *software, char *err, size_t errlen);
void exec_cfg_cleanup(struct exec_cfg *cfg);

/* A reply that runs the command for this request (started at once). */
struct reply *reply_exec_new(const struct reply_env *env, const struct exec_cfg *cfg);

#endif
