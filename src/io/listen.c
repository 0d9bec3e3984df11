/*
 * listen: placeholder until the listen subcommand lands. It reports that it is not built and fails;
 * it never pretends to work.
 */
#include "hspy/hspy.h"
#include "hspy/mode.h"

static int run(struct hspy *h)
{
    return hspy_fail(h, "listen: not built yet in this version");
}

const struct mode mode_listen = {CMD_LISTEN, 1, run};
