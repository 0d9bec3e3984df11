/*
 * tui: placeholder until the terminal interface lands; it refuses to start.
 */
#include "hspy/tui.h"

#include "hspy/hspy.h"

struct tui *tui_new(struct hspy *h)
{
    hspy_fail(h, "terminal interface: not built yet (use --no-tui or redirect stdout)");
    return NULL;
}

void tui_free(struct tui *t)
{
    (void)t;
}
