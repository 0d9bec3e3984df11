/*
 * screen owns the terminal through ncursesw: its modes, colours, drawing, input translation,
 * size and restoration. It draws only finished canvases and never decides what to show.
 */
#include "hspy/screen.h"

#include <curses.h>
#include <langinfo.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "hspy/keymap.h"
#include "hspy/ui.h"
#include "hspy/xmalloc.h"

/* Milliseconds curses waits for the rest of an escape sequence after ESC. */
enum { ESC_DELAY_MS = 25 };

struct look {
    short fg, bg; /* -1 = terminal default, else COLOR_* */
    attr_t attr;  /* with colours */
    attr_t mono;  /* without */
};

/* clang-format off */
static const struct look LOOKS[STYLE__COUNT] = {
    [STYLE_NORMAL]        = {-1,            -1,         0,                     0},
    [STYLE_DIM]           = {-1,            -1,         A_DIM,                 A_DIM},
    [STYLE_BOLD]          = {-1,            -1,         A_BOLD,                A_BOLD},
    [STYLE_BAR]           = {COLOR_WHITE,   COLOR_BLUE, 0,                     A_REVERSE},
    [STYLE_BAR_HI]        = {COLOR_YELLOW,  COLOR_BLUE, A_BOLD,                A_REVERSE | A_BOLD},
    [STYLE_COLHEAD]       = {-1,            -1,         A_BOLD | A_UNDERLINE,  A_BOLD | A_UNDERLINE},
    [STYLE_CURSOR]        = {-1,            -1,         A_REVERSE,             A_REVERSE},
    [STYLE_MARKED]        = {COLOR_MAGENTA, -1,         A_BOLD,                A_BOLD},
    [STYLE_KEY]           = {COLOR_CYAN,    -1,         A_BOLD,                A_BOLD},
    [STYLE_HINT]          = {-1,            -1,         0,                     0},
    [STYLE_ERROR]         = {COLOR_RED,     -1,         A_BOLD,                A_BOLD},
    [STYLE_WARN]          = {COLOR_YELLOW,  -1,         A_BOLD,                A_BOLD},
    [STYLE_MESSAGE]       = {COLOR_CYAN,    -1,         0,                     A_BOLD},
    [STYLE_STATUS1]       = {COLOR_BLUE,    -1,         A_BOLD,                0},
    [STYLE_STATUS2]       = {COLOR_GREEN,   -1,         0,                     0},
    [STYLE_STATUS3]       = {COLOR_CYAN,    -1,         0,                     0},
    [STYLE_STATUS4]       = {COLOR_YELLOW,  -1,         A_BOLD,                A_BOLD},
    [STYLE_STATUS5]       = {COLOR_RED,     -1,         A_BOLD,                A_BOLD | A_UNDERLINE},
    [STYLE_METHOD_GET]    = {COLOR_CYAN,    -1,         0,                     0},
    [STYLE_METHOD_POST]   = {COLOR_YELLOW,  -1,         0,                     0},
    [STYLE_METHOD_PUT]    = {COLOR_MAGENTA, -1,         0,                     0},
    [STYLE_METHOD_DELETE] = {COLOR_RED,     -1,         0,                     A_BOLD},
    [STYLE_METHOD_OTHER]  = {-1,            -1,         A_BOLD,                A_BOLD},
    [STYLE_BOUNDARY]      = {COLOR_MAGENTA, -1,         0,                     A_DIM},
    [STYLE_HNAME]         = {COLOR_BLUE,    -1,         A_BOLD,                A_BOLD},
    [STYLE_MATCH]         = {COLOR_BLACK,   COLOR_YELLOW, 0,                   A_REVERSE | A_UNDERLINE},
    [STYLE_TAB]           = {-1,            -1,         0,                     0},
    [STYLE_TAB_ON]        = {COLOR_BLACK,   COLOR_CYAN, A_BOLD,                A_REVERSE | A_BOLD},
    [STYLE_HELD]          = {COLOR_MAGENTA, -1,         A_BOLD,                A_BOLD | A_REVERSE},
    [STYLE_PROGRESS]      = {COLOR_GREEN,   -1,         0,                     0},
    [STYLE_PROMPT]        = {-1,            -1,         A_BOLD,                A_BOLD},
    [STYLE_STRING]        = {COLOR_GREEN,   -1,         0,                     0},
    [STYLE_NUMBER]        = {COLOR_CYAN,    -1,         0,                     0},
    [STYLE_LITERAL]       = {COLOR_MAGENTA, -1,         0,                     A_BOLD},
    [STYLE_LINE_END]      = {COLOR_CYAN,    -1,         A_BOLD,                A_BOLD},
    [STYLE_ESCAPE]        = {COLOR_MAGENTA, -1,         A_REVERSE,             A_UNDERLINE},
};
/* clang-format on */

/* Ends curses if a process exits with it active (exit paths that skip screen_close). */
static void restore_at_exit(void)
{
    if (!isendwin())
        endwin();
}

static void setup_modes(void)
{
    raw(); /* ^C, ^Z, ^S arrive as keys: the interface decides what they do */
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    leaveok(stdscr, TRUE);
    curs_set(0);
    set_escdelay(ESC_DELAY_MS);
    mousemask(BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
    mouseinterval(0);
}

/* Forgets what was drawn: the next frame hands every line to curses. */
static void forget_lines(struct screen *s)
{
    free(s->drawn);
    s->drawn = NULL;
    s->ndrawn = 0;
}

int screen_open(struct screen *s, FILE *out, FILE *in, bool color, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->out = out;
    s->in = in;
    const char *cs = nl_langinfo(CODESET);
    s->utf8 = cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
    const char *t = getenv("TERM");
    SCREEN *term = newterm(NULL, out, in);
    if (!term) {
        snprintf(err, errlen,
                 "terminal interface: cannot use terminal type '%s' (--no-tui prints "
                 "lines instead)",
                 t ? t : "(TERM unset)");
        return -1;
    }
    /* A terminal that cannot place the cursor (dumb, an editor's shell buffer) cannot show a
     * full-screen interface: say so rather than draw garbage. */
    const char *cup = tigetstr("cup");
    if (!cup || cup == (char *)-1) {
        endwin();
        delscreen(term);
        snprintf(err, errlen,
                 "terminal interface: terminal type '%s' cannot move the cursor "
                 "(--no-tui prints lines instead)",
                 t ? t : "(TERM unset)");
        return -1;
    }
    s->term = term;
    s->active = true;
    atexit(restore_at_exit);
    setup_modes();
    const char *no_color = getenv("NO_COLOR");
    s->color = color && has_colors() && !(no_color && *no_color);
    if (s->color) {
        start_color();
        use_default_colors();
    }
    getmaxyx(stdscr, s->rows, s->cols);
    return 0;
}

void screen_close(struct screen *s)
{
    if (!s->term)
        return;
    if (s->active) {
        curs_set(1);
        endwin();
    }
    delscreen(s->term);
    s->term = NULL;
    s->active = false;
    forget_lines(s);
}

static short pair_for(struct screen *s, short fg, short bg)
{
    short *p = &s->pairs[fg + 1][bg + 1];
    if (*p)
        return *p > 0 ? *p : 0;
    if (s->npairs + 1 >= COLOR_PAIRS) {
        *p = -1; /* out of pairs: this combination stays uncoloured */
        return 0;
    }
    *p = ++s->npairs;
    init_pair(*p, fg, bg);
    return *p;
}

/* The attributes for text in style over a line whose base style is base. */
static attr_t attr_for(struct screen *s, uint8_t style, uint8_t base)
{
    const struct look *l = &LOOKS[style], *b = &LOOKS[base];
    if (!s->color)
        return l->mono | (style != base ? b->mono : 0);
    short fg = l->fg >= 0 ? l->fg : b->fg;
    short bg = l->bg >= 0 ? l->bg : b->bg;
    attr_t a = l->attr | (style != base ? b->attr : 0);
    short pair = fg < 0 && bg < 0 ? 0 : pair_for(s, fg, bg);
    return a | COLOR_PAIR(pair);
}

/* Styles of a line's bytes: the base style, then every span over it in order (later wins). */
static void byte_styles(const struct canvas_line *l, uint8_t *styles)
{
    memset(styles, l->style, l->text.len);
    for (uint32_t k = 0; k < l->nspans; k++) {
        const struct canvas_span *sp = &l->spans[k];
        size_t end = (size_t)sp->off + sp->len;
        if (end > l->text.len)
            end = l->text.len;
        for (size_t i = sp->off; i < end; i++)
            styles[i] = sp->style;
    }
}

/* A line's content, hashed (FNV-1a): an unchanged line is not handed to curses again. */
static uint64_t line_hash(const struct canvas_line *l)
{
    uint64_t h = 1469598103934665603u;
    const uint8_t *p = l->text.data;
    for (size_t i = 0; i < l->text.len; i++)
        h = (h ^ p[i]) * 1099511628211u;
    const uint8_t *sp = (const uint8_t *)l->spans;
    for (size_t i = 0; i < l->nspans * sizeof *l->spans; i++)
        h = (h ^ sp[i]) * 1099511628211u;
    return (h ^ l->style) * 1099511628211u;
}

/* Cells handed to curses per call by put_cells. */
enum { CELLS_BATCH = 256 };

static bool printable_ascii(char c)
{
    return c >= 0x20 && c < 0x7f;
}

/*
 * Puts n cells at (y, *x) with attributes a: the printable ASCII text[0..n), or n spaces when
 * text is NULL. They go to curses as finished cells (waddchnstr), which skips the per-character
 * work of addnstr; nothing here can be a control character.
 */
static void put_cells(struct screen *s, int y, int *x, const char *text, size_t n, attr_t a)
{
    chtype cells[CELLS_BATCH];
    while (n > 0 && *x < s->cols) {
        size_t k = n < CELLS_BATCH ? n : CELLS_BATCH;
        for (size_t i = 0; i < k; i++)
            cells[i] = (text ? (chtype)(unsigned char)text[i] : (chtype)' ') | a;
        mvaddchnstr(y, *x, cells, (int)k);
        *x += (int)k;
        if (text)
            text += k;
        n -= k;
    }
}

/*
 * Draws [text, end) (one style) from (y, *x): printable ASCII as cells, anything else (UTF-8
 * characters) through addnstr. Returns false when the text reached the end of the line.
 */
static bool draw_run(struct screen *s, int y, int *x, const char *text, const char *end, attr_t a)
{
    while (text < end) {
        const char *e = text;
        while (e < end && printable_ascii(*e))
            e++;
        put_cells(s, y, x, text, (size_t)(e - text), a);
        if (*x >= s->cols)
            return false;
        text = e;
        while (e < end && !printable_ascii(*e))
            e++;
        if (e == text)
            continue;
        move(y, *x);
        attrset(a);
        addnstr(text, (int)(e - text));
        if (getcury(stdscr) != y)
            return false; /* the last cell was written: curses went on to the next line */
        *x = getcurx(stdscr);
        text = e;
    }
    return true;
}

static void draw_line(struct screen *s, int y, const struct canvas_line *l)
{
    const char *text = l->text.data ? (const char *)l->text.data : "";
    size_t n = l->text.len, i = 0;
    uint8_t local[SCREEN_LINE_STYLES];
    uint8_t *styles = n <= sizeof local ? local : xmalloc(n);
    byte_styles(l, styles);
    int x = 0;
    bool room = true;
    while (i < n && room) {
        size_t j = i;
        while (j < n && styles[j] == styles[i])
            j++;
        /* Runs end on character boundaries: spans are made from whole characters. */
        room = draw_run(s, y, &x, text + i, text + j, attr_for(s, styles[i], l->style));
        i = j;
    }
    if (styles != local)
        free(styles);
    if (room && x < s->cols)
        put_cells(s, y, &x, NULL, (size_t)(s->cols - x), attr_for(s, l->style, l->style));
}

void screen_draw(struct screen *s, const struct canvas *c)
{
    if (!s->active)
        return;
    if (s->ndrawn != c->rows) {
        forget_lines(s);
        s->drawn = xcalloc((size_t)(c->rows ? c->rows : 1), sizeof *s->drawn);
        s->ndrawn = c->rows;
    }
    for (int y = 0; y < c->rows && y < s->rows; y++) {
        uint64_t h = line_hash(&c->line[y]) | 1; /* 0 means "not drawn" */
        if (s->drawn[y] == h)
            continue;
        s->drawn[y] = h;
        draw_line(s, y, &c->line[y]);
    }
    attrset(A_NORMAL);
    refresh();
}

void screen_repaint(struct screen *s)
{
    forget_lines(s);
    if (s->active)
        clearok(curscr, TRUE);
}

/* clang-format off */
static const struct { int curses, key; } KEYS[] = {
    {KEY_UP, KEYMAP_UP},         {KEY_DOWN, KEYMAP_DOWN},     {KEY_LEFT, KEYMAP_LEFT},
    {KEY_RIGHT, KEYMAP_RIGHT},   {KEY_HOME, KEYMAP_HOME},     {KEY_END, KEYMAP_END},
    {KEY_PPAGE, KEYMAP_PGUP},    {KEY_NPAGE, KEYMAP_PGDN},    {KEY_ENTER, KEYMAP_ENTER},
    {KEY_BTAB, KEYMAP_BTAB},     {KEY_BACKSPACE, KEYMAP_BACKSPACE}, {KEY_DC, KEYMAP_DELETE},
    {KEY_F(1), KEYMAP_F1},       {KEY_A1, KEYMAP_HOME},       {KEY_C1, KEYMAP_END},
    {KEY_A3, KEYMAP_PGUP},       {KEY_C3, KEYMAP_PGDN},
};
/* clang-format on */

static int translate_char(wint_t c)
{
    switch (c) {
    case '\r':
    case '\n': return KEYMAP_ENTER;
    case '\t': return KEYMAP_TAB;
    case 27: return KEYMAP_ESC;
    case 127:
    case 8: return KEYMAP_BACKSPACE;
    default: return (int)c;
    }
}

static enum screen_event read_mouse(struct screen_input *in)
{
    MEVENT ev;
    if (getmouse(&ev) != OK)
        return SCREEN_OTHER;
    in->x = ev.x;
    in->y = ev.y;
    if (ev.bstate & BUTTON1_PRESSED)
        in->button = UI_CLICK;
    else if (ev.bstate & BUTTON4_PRESSED)
        in->button = UI_WHEEL_UP;
    else if (ev.bstate & BUTTON5_PRESSED)
        in->button = UI_WHEEL_DOWN;
    else
        return SCREEN_OTHER;
    return SCREEN_MOUSE;
}

enum screen_event screen_read(struct screen *s, struct screen_input *in)
{
    if (!s->active)
        return SCREEN_NONE;
    wint_t c;
    int r = get_wch(&c);
    if (r == ERR)
        return SCREEN_NONE;
    if (r == OK) {
        in->key = translate_char(c);
        return SCREEN_KEY;
    }
    if (c == KEY_MOUSE)
        return read_mouse(in);
    if (c == KEY_RESIZE)
        return SCREEN_RESIZE;
    for (size_t i = 0; i < sizeof KEYS / sizeof KEYS[0]; i++) {
        if (KEYS[i].curses == (int)c) {
            in->key = KEYS[i].key;
            return SCREEN_KEY;
        }
    }
    return SCREEN_OTHER;
}

bool screen_resize(struct screen *s)
{
    if (!s->active)
        return false;
    struct winsize ws;
    if (ioctl(fileno(s->out), TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0 || ws.ws_col == 0)
        return false;
    if (ws.ws_row == s->rows && ws.ws_col == s->cols)
        return false;
    resizeterm(ws.ws_row, ws.ws_col);
    s->rows = ws.ws_row;
    s->cols = ws.ws_col;
    forget_lines(s);
    clearok(curscr, TRUE);
    return true;
}

void screen_suspend(struct screen *s)
{
    if (!s->active)
        return;
    def_prog_mode();
    endwin();
    s->active = false;
}

void screen_resume(struct screen *s)
{
    if (s->active || !s->term)
        return;
    reset_prog_mode();
    s->active = true;
    forget_lines(s);
    screen_resize(s);
    clearok(curscr, TRUE);
    refresh();
}
