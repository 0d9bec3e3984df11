/*
 * sniff: placeholder until the sniff subcommand lands. It reports that it is not built and fails;
 * it never pretends to work.
 */
#include "hspy/hspy.h"
#include "hspy/mode.h"

static int run(struct hspy *h)
{
    return hspy_fail(h, "sniff: not built yet in this version");
}

const struct mode mode_sniff = {CMD_SNIFF, 1, run};
