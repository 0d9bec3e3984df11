/*
 * lint: placeholder until the engine lands.
 */
#include "hspy/hspy.h"
#include "hspy/mode.h"

static int run(struct hspy *h)
{
    return hspy_fail(h, "lint: not built yet in this version");
}

const struct mode mode_lint = {CMD_LINT, 0, run};
