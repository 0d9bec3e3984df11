/*
 * read: placeholder until the read subcommand lands. It reports that it is not built and fails;
 * it never pretends to work.
 */
#include "hspy/hspy.h"
#include "hspy/mode.h"

static int run(struct hspy *h)
{
    return hspy_fail(h, "read: not built yet in this version");
}

const struct mode mode_read = {CMD_READ, 1, run};
