/*
 * proxy: placeholder until the proxy subcommand lands. It reports that it is not built and fails;
 * it never pretends to work.
 */
#include "hspy/hspy.h"
#include "hspy/mode.h"

static int run(struct hspy *h)
{
    return hspy_fail(h, "proxy: not built yet in this version");
}

const struct mode mode_proxy = {CMD_PROXY, 1, run};
