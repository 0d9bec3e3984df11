/*
 * Fuzzes the whole interface without a terminal: the input is a script of steps (keys, mouse
 * events, screen sizes, and traffic whose bytes come from the input itself), each followed by
 * the store's changes and a frame rendered into a canvas, as the terminal layer does.
 * Invariants, after every step: no line is wider than the screen, the screen is text termsafe
 * would pass unchanged (valid UTF-8, no control, bidirectional or invisible character), and the
 * flow list shows each flow at most once, all of them in the store. A key that quits ends the
 * script.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzcheck.h"
#include "hspy/canvas.h"
#include "hspy/glyphs.h"
#include "hspy/keymap.h"
#include "hspy/termsafe.h"
#include "hspy/ui.h"
#include "synth.h"

/* Bounds that keep one input quick: steps, bytes of one message, updates after a step. */
enum { STEPS_MAX = 400, MESSAGE_MAX = 4096, UPDATES_MAX = 8, HISTORY = 48 };

/* Keys beyond printable ASCII: every special key (KEYMAP_SPECIAL + 1 to KEYMAP_F1), then control
 * keys, and characters that are wide, combining or bidirectional once typed into a prompt. */
enum { SPECIAL_KEYS = KEYMAP_F1 - KEYMAP_SPECIAL };
static const int OTHER_KEYS[] = {KEYMAP_CTRL('a'),
                                 KEYMAP_CTRL('e'),
                                 KEYMAP_CTRL('u'),
                                 KEYMAP_CTRL('w'),
                                 KEYMAP_CTRL('k'),
                                 KEYMAP_CTRL('f'),
                                 KEYMAP_CTRL('b'),
                                 KEYMAP_CTRL('l'),
                                 KEYMAP_CTRL('z'),
                                 0xe9,
                                 0x301,
                                 0x202e,
                                 0x4e2d,
                                 0x1f600,
                                 0x7f};

struct script {
    const uint8_t *p, *end;
};

static unsigned next(struct script *s)
{
    return s->p < s->end ? *s->p++ : 0;
}

static int key_of(unsigned b)
{
    if (b >= 0x20 && b < 0x7f)
        return (int)b;
    unsigned i = b % (SPECIAL_KEYS + sizeof OTHER_KEYS / sizeof OTHER_KEYS[0]);
    return i < SPECIAL_KEYS ? KEYMAP_SPECIAL + 1 + (int)i : OTHER_KEYS[i - SPECIAL_KEYS];
}

/* A request and a response cut from the script (either may be empty: then the exchange stays in
 * flight, or has no request line at all). */
static void traffic(struct synth *sy, struct script *s, int64_t t)
{
    size_t hi = next(s);
    size_t n = (hi << 8 | next(s)) % MESSAGE_MAX;
    size_t cut = next(s);
    if (n > (size_t)(s->end - s->p))
        n = (size_t)(s->end - s->p);
    cut = n ? cut % (n + 1) : 0;
    synth_exchange(sy, (const char *)s->p, cut, n > cut ? (const char *)s->p + cut : NULL, n - cut,
                   t, 1000);
    s->p += n;
}

static void check_screen(struct ui *ui, struct canvas *c, struct dynbuf *text)
{
    for (int y = 0; y < c->rows; y++)
        CHECK(c->line[y].cells <= c->cols);
    dynbuf_reset(text);
    canvas_dump(c, text);
    /* What termsafe would pass through unchanged: valid UTF-8 without control, bidirectional or
     * invisible characters (the dump's line breaks aside). */
    CHECK(termsafe_is_clean(text->data, text->len, TERMSAFE_NEWLINES));
    const struct flowlist *fl = &ui->list;
    if (!flowlist_busy(fl)) {
        for (size_t i = 0; i < fl->n; i++) {
            CHECK(store_get(ui->store, fl->ids[i]) != NULL);
            CHECK(i == 0 || fl->ids[i] != fl->ids[i - 1]);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct script s = {data, data + size};
    struct store store;
    store_init(&store, HISTORY, (size_t)1 << 24);
    struct synth sy;
    synth_init(&sy, &store, 1 << 16);
    struct http_limits limits = HTTP_LIMITS_DEFAULT;
    unsigned setup = next(&s);
    struct ui_config cfg = {.title = "fuzz 127.0.0.1:8000",
                            .limits = &limits,
                            .body_max = 1 << 16,
                            .glyphs = setup % 2 ? &GLYPHS_UTF8 : &GLYPHS_ASCII};
    struct ui ui;
    ui_init(&ui, &store, &cfg);
    /* Small budgets, so that filters, re-sorts and searches of the little held run in steps
     * too. */
    if (setup & 2)
        ui.list.scan_budget = 4;
    if (setup & 4)
        ui.list.sort_budget = 16;
    if (setup & 8)
        ui.doc_step_budget = 64;
    int rows = 1 + (int)(next(&s) % 60);
    int cols = 1 + (int)(next(&s) % 220);
    ui_resize(&ui, rows, cols);
    struct canvas c;
    canvas_init(&c, rows, cols);
    struct dynbuf text;
    dynbuf_init(&text, (size_t)1 << 24);
    bool quit = false;
    for (int step = 0; step < STEPS_MAX && s.p < s.end && !quit; step++) {
        unsigned op = next(&s);
        switch (op % 16) {
        case 0: traffic(&sy, &s, 1000000000LL * (step + 1)); break;
        case 1: synth_connect(&sy, next(&s), (uint16_t)(40000 + step)); break;
        case 2:
            rows = 1 + (int)(next(&s) % 60);
            cols = 1 + (int)(next(&s) % 220);
            ui_resize(&ui, rows, cols);
            break;
        case 3: {
            enum ui_button b = (enum ui_button)(UI_CLICK + next(&s) % 3);
            int x = (int)next(&s);
            int y = (int)next(&s);
            quit = ui_mouse(&ui, b, x % (cols + 2) - 1, y % (rows + 2) - 1) & UI_QUIT;
            break;
        }
        default: quit = ui_key(&ui, key_of(next(&s))) & UI_QUIT; break;
        }
        for (int u = 0; u < UPDATES_MAX; u++) {
            ui_update(&ui);
            if (!ui_busy(&ui))
                break;
        }
        ui_render(&ui, &c);
        check_screen(&ui, &c, &text);
    }
    dynbuf_cleanup(&text);
    canvas_cleanup(&c);
    ui_cleanup(&ui);
    synth_cleanup(&sy);
    store_cleanup(&store);
    return 0;
}
