/*
 * tui owns the interface's life on the event loop: it opens the screen, builds the ui over the
 * session's store, and wires them to h->loop. Keys arrive through a poll on stdin (on the
 * controlling terminal, /dev/tty, when stdin carries the input of `hspy read -`), SIGWINCH
 * through a signal handle; frames are drawn from a prepare hook (before the loop blocks) when
 * the store or the ui changed, at most once per FRAME_MS, with a one-shot timer for a frame
 * that had to wait. Under heavy traffic, frames that only show it are paced further by their own
 * cost, so that drawing takes at most FRAME_SHARE_PERCENT of the process's time; frames the user
 * asked for (a key, a click, a resize) are never delayed. Nothing runs while nothing changes. It
 * never touches a socket: quitting stops the loop and the mode winds down its own connections.
 */
#include "hspy/tui.h"

#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hspy/canvas.h"
#include "hspy/glyphs.h"
#include "hspy/conn.h"
#include "hspy/hspy.h"
#include "hspy/intercept.h"
#include "hspy/listener.h"
#include "hspy/outbox.h"
#include "hspy/screen.h"
#include "hspy/tamper.h"
#include "hspy/ui.h"
#include "hspy/xmalloc.h"

/* At most one frame per this many milliseconds for changes that do not come from the user. */
enum { FRAME_MS = 33 };
/*
 * Under heavy traffic a frame waits until the process has used 100 / FRAME_SHARE_PERCENT times
 * the processor time the last frame took, so drawing costs each request at most that share: a
 * following list at tens of thousands of requests a second costs a few milliseconds per frame,
 * and at 30 frames a second that was a fifth of the process's time. Traffic is heavy when more
 * than FRAME_QUIET_ADDS exchanges arrived since the last frame; below that, frames come every
 * FRAME_MS as ever. However slow frames are, new traffic shows every FRAME_GAP_MAX_MS.
 */
enum { FRAME_SHARE_PERCENT = 1, FRAME_QUIET_ADDS = 64, FRAME_GAP_MAX_MS = 250 };
/* Readable stdin that yields no key this many times in a row means the terminal went away. */
enum { EMPTY_READS_MAX = 64 };

struct tui {
    struct hspy *h;
    struct ui ui;
    struct tamper *tamper; /* intercept, edit and replay keys */
    struct outbox *outbox; /* export and HAR keys */
    struct screen screen;
    FILE *keys; /* /dev/tty when stdin carries the input (owned), else NULL: keys on stdin */
    struct canvas canvas;
    uv_prepare_t prepare;
    uv_timer_t timer;
    uv_poll_t input;
    uv_signal_t winch, sigint, sigterm, sighup;
    int handles;  /* handles not yet closed */
    bool closing; /* handles closed or closing: the interface is finished */
    bool freeing; /* tui_free ran: free when the last handle has closed */
    bool dirty;   /* the ui changed and wants a frame */
    uint64_t last_frame;
    uint64_t frame_cpu_end;  /* this thread's processor time (ns) when the last frame ended */
    uint64_t frame_cpu_need; /* processor time (ns) to be used before a traffic-driven frame */
    uint64_t drawn_added;    /* the store's exchanges ever added, at the last frame */
    uint64_t drawn_generation;
    char drawn_err[64];
    int empty_reads;
    char title[300];             /* used when the mode set no title */
    struct ui_progress progress; /* read mode's load, as the status bar shows it */
    struct ui_server server;     /* listen and proxy: the listener's connections */
    uint64_t drawn_load;         /* bytes loaded at the last frame */
    uint64_t load_start_ms;      /* when loading was first seen */
};

static void on_closed(uv_handle_t *handle)
{
    struct tui *t = handle->data;
    if (--t->handles == 0 && t->freeing)
        free(t);
}

static void close_handle(struct tui *t, uv_handle_t *handle)
{
    if (handle->loop && !uv_is_closing(handle))
        uv_close(handle, on_closed);
}

static void close_handles(struct tui *t)
{
    if (t->closing)
        return;
    t->closing = true;
    close_handle(t, (uv_handle_t *)&t->prepare);
    close_handle(t, (uv_handle_t *)&t->timer);
    close_handle(t, (uv_handle_t *)&t->input);
    close_handle(t, (uv_handle_t *)&t->winch);
    close_handle(t, (uv_handle_t *)&t->sigint);
    close_handle(t, (uv_handle_t *)&t->sigterm);
    close_handle(t, (uv_handle_t *)&t->sighup);
}

/* The user (or a signal) ends the session: give the terminal back now and stop the loop. */
static void quit(struct tui *t)
{
    if (t->closing)
        return;
    tamper_stop(t->tamper);
    close_handles(t);
    screen_close(&t->screen);
    uv_stop(&t->h->loop);
}

/* Copies the capture's progress for the status bar, with the rate since loading began. */
static void sync_progress(struct tui *t)
{
    const struct hspy_load *l = &t->h->load;
    struct ui_progress *p = &t->progress;
    uint64_t now = uv_now(&t->h->loop);
    if (l->active && !t->load_start_ms)
        t->load_start_ms = now ? now : 1;
    p->done = l->bytes_read;
    p->total = l->file_size;
    p->gaps = l->gaps;
    p->active = l->active && !l->done;
    p->ended = l->done;
    p->stream = l->stream;
    p->packets = l->packets;
    p->entries = l->entries;
    uint64_t ms = now - t->load_start_ms;
    p->rate = ms >= 200 ? (double)l->bytes_read * 1000.0 / (double)ms : 0;
    t->drawn_load = l->bytes_read;
}

/* Copies the listener's connection counts for the status bar. */
static void sync_server(struct tui *t)
{
    const struct listener *l = t->h->listener;
    t->server.active = l != NULL;
    if (!l)
        return;
    t->server.open = l->conns ? l->conns->n : 0;
    t->server.refused = l->counters.refused;
    t->server.failed = l->counters.failed;
    const struct intercept *ic = t->h->intercept;
    t->server.intercept = ic && ic->filter ? ic->expr : NULL;
}

/* True when the listener's counts differ from what the last frame showed. */
static bool server_changed(const struct tui *t)
{
    const struct listener *l = t->h->listener;
    return l &&
           ((l->conns ? l->conns->n : 0) != t->server.open ||
            l->counters.refused != t->server.refused || l->counters.failed != t->server.failed);
}

/* Processor time this thread has used: what a frame costs, whatever else runs meanwhile. */
static uint64_t cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return uv_hrtime();
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void frame(struct tui *t)
{
    if (t->closing || !t->screen.active)
        return;
    uint64_t start_ns = cpu_ns();
    /* What the last frame allocated (a sort's or a filter's buffers, written over the next
     * frames) gets huge pages before this one writes it, even while no traffic comes in. */
    heap_advice_update(&t->h->heap);
    sync_progress(t);
    sync_server(t);
    ui_update(&t->ui);
    ui_render(&t->ui, &t->canvas);
    screen_draw(&t->screen, &t->canvas);
    t->frame_cpu_end = cpu_ns();
    t->frame_cpu_need = (t->frame_cpu_end - start_ns) * 100 / FRAME_SHARE_PERCENT;
    t->drawn_added = t->h->store.counters.added;
    t->last_frame = uv_now(&t->h->loop);
    t->drawn_generation = t->h->store.generation;
    memcpy(t->drawn_err, t->h->err, sizeof t->drawn_err - 1);
    t->dirty = false;
    uv_timer_stop(&t->timer);
}

/*
 * True when something the user must see came up since the last frame: a key, a click or a
 * resize (dirty), or a new error message. Runs on every turn of the loop: the first bytes
 * decide while no error shows.
 */
static bool news_for_user(const struct tui *t)
{
    return t->dirty || t->h->err[0] != t->drawn_err[0] ||
           (t->h->err[0] && strncmp(t->h->err, t->drawn_err, sizeof t->drawn_err - 1) != 0);
}

/*
 * True when the user is waiting on this frame (as opposed to new traffic only): news, or work
 * the user started that goes on over several frames (a filter being applied, a search).
 */
static bool wanted(const struct tui *t)
{
    return news_for_user(t) || ui_waited_on(&t->ui);
}

/* True when a frame would show something new: what the user waits on, or new traffic. */
static bool changed(const struct tui *t)
{
    return wanted(t) || ui_busy(&t->ui) || server_changed(t) ||
           t->h->store.generation != t->drawn_generation ||
           t->h->load.bytes_read != t->drawn_load ||
           t->progress.active != (t->h->load.active && !t->h->load.done);
}

/*
 * Milliseconds until the next frame may be drawn (0: now). Frames the user waits on come after
 * FRAME_MS; under heavy traffic they wait for the processor time the pacing asks (see
 * FRAME_SHARE_PERCENT). Reads the processor clock only once FRAME_MS has passed.
 */
static uint64_t frame_wait(const struct tui *t)
{
    uint64_t since = uv_now(&t->h->loop) - t->last_frame;
    if (since < FRAME_MS)
        return FRAME_MS - since;
    if (wanted(t) || t->h->store.counters.added - t->drawn_added <= FRAME_QUIET_ADDS ||
        since >= FRAME_GAP_MAX_MS)
        return 0;
    uint64_t used = cpu_ns() - t->frame_cpu_end;
    if (used >= t->frame_cpu_need)
        return 0;
    /* the processor time cannot pass faster than the clock: wait at least what is missing */
    uint64_t ms = (t->frame_cpu_need - used) / 1000000 + 1;
    return ms < FRAME_GAP_MAX_MS - since ? ms : FRAME_GAP_MAX_MS - since;
}

static void on_timer(uv_timer_t *timer);

/*
 * Draws when allowed, or arms the timer for when it will be. A frame drawn here (from the
 * prepare hook, right before the loop blocks) that leaves work going on over frames (a search
 * of a large body, a filter, a sort) arms the timer for the next one: nothing else would wake
 * the loop while no traffic and no key comes. That happens whenever the frame before took
 * FRAME_MS or more, as a slow step (a regular expression over 8 MB of body) does.
 */
static void frame_soon(struct tui *t)
{
    uint64_t ms = frame_wait(t);
    if (ms == 0) {
        frame(t);
        if (t->closing || !changed(t))
            return;
        ms = frame_wait(t);
    }
    uv_timer_start(&t->timer, on_timer, ms ? ms : 1, 0);
}

static void on_timer(uv_timer_t *timer)
{
    struct tui *t = timer->data;
    if (!t->closing && changed(t))
        frame_soon(t);
}

/*
 * Before the loop blocks: draw what changed, or arm the timer when the last frame is recent.
 * Runs on every turn of the loop, so under traffic it stays short: while the timer is armed,
 * only news for the user (which brings the frame forward) is looked at. Work the user started
 * earlier needs no look here: frame_wait gives it a frame every FRAME_MS.
 */
static void on_prepare(uv_prepare_t *prepare)
{
    struct tui *t = prepare->data;
    if (t->closing)
        return;
    if (uv_is_active((uv_handle_t *)&t->timer)) {
        if (news_for_user(t))
            frame_soon(t);
    } else if (changed(t))
        frame_soon(t);
}

static void resize(struct tui *t)
{
    if (screen_resize(&t->screen)) {
        ui_resize(&t->ui, t->screen.rows, t->screen.cols);
        t->dirty = true;
    }
}

static void on_input(uv_poll_t *poll, int status, int events)
{
    struct tui *t = poll->data;
    (void)events;
    if (status < 0) {
        quit(t);
        return;
    }
    unsigned r = 0;
    bool any = false;
    struct screen_input in;
    enum screen_event ev;
    while (!t->closing && (ev = screen_read(&t->screen, &in)) != SCREEN_NONE) {
        any = true;
        if (ev == SCREEN_KEY)
            r |= ui_key(&t->ui, in.key);
        else if (ev == SCREEN_MOUSE)
            r |= ui_mouse(&t->ui, in.button, in.x, in.y);
        else if (ev == SCREEN_RESIZE)
            resize(t);
        if (r & UI_QUIT) {
            quit(t);
            return;
        }
    }
    t->empty_reads = any ? 0 : t->empty_reads + 1;
    if (t->empty_reads >= EMPTY_READS_MAX) {
        quit(t); /* readable without input again and again: the terminal hung up */
        return;
    }
    if (r & UI_REPAINT)
        screen_repaint(&t->screen);
    if (r & UI_REDRAW || t->dirty)
        frame(t);
}

static void on_winch(uv_signal_t *sig, int signum)
{
    (void)signum;
    struct tui *t = sig->data;
    resize(t);
    frame(t);
}

static void on_quit_signal(uv_signal_t *sig, int signum)
{
    (void)signum;
    quit(sig->data);
}

static void term_suspend(void *data)
{
    struct tui *t = data;
    uv_poll_stop(&t->input);
    screen_suspend(&t->screen);
    /* ^C typed in a child that has the terminal (an editor) is the child's: it reaches the
     * whole foreground process group, so hspy ignores it until it takes the terminal back. */
    uv_signal_stop(&t->sigint);
    signal(SIGINT, SIG_IGN);
}

static void term_resume(void *data)
{
    struct tui *t = data;
    if (!t->closing)
        uv_signal_start(&t->sigint, on_quit_signal, SIGINT);
    screen_resume(&t->screen);
    ui_resize(&t->ui, t->screen.rows, t->screen.cols);
    uv_poll_start(&t->input, UV_READABLE, on_input);
    t->dirty = true;
    frame(t);
}

/* ^Z: the terminal goes back to the shell and the process stops until SIGCONT; the loop (and
 * with it the traffic) waits, as with any program stopped by job control. */
static void term_stop(void *data)
{
    struct tui *t = data;
    term_suspend(t);
    kill(getpid(), SIGTSTP);
    term_resume(t);
}

static void init_handle(struct tui *t, uv_handle_t *handle)
{
    handle->data = t;
    t->handles++;
}

static void start_signals(struct tui *t)
{
    uv_loop_t *loop = &t->h->loop;
    uv_signal_t *sigs[] = {&t->winch, &t->sigint, &t->sigterm, &t->sighup};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        uv_signal_init(loop, sigs[i]);
        init_handle(t, (uv_handle_t *)sigs[i]);
    }
    /* Before curses starts, so that curses leaves SIGWINCH to the loop. */
    uv_signal_start(&t->winch, on_winch, SIGWINCH);
    uv_signal_start(&t->sigint, on_quit_signal, SIGINT);
    uv_signal_start(&t->sigterm, on_quit_signal, SIGTERM);
    uv_signal_start(&t->sighup, on_quit_signal, SIGHUP);
}

static void start_loop_hooks(struct tui *t)
{
    uv_loop_t *loop = &t->h->loop;
    uv_prepare_init(loop, &t->prepare);
    init_handle(t, (uv_handle_t *)&t->prepare);
    uv_prepare_start(&t->prepare, on_prepare);
    uv_timer_init(loop, &t->timer);
    init_handle(t, (uv_handle_t *)&t->timer);
    uv_poll_init(loop, &t->input, fileno(t->screen.in));
    init_handle(t, (uv_handle_t *)&t->input);
    uv_poll_start(&t->input, UV_READABLE, on_input);
}

static void start_ui(struct tui *t)
{
    struct hspy *h = t->h;
    const char *what = h->input_name ? h->input_name : h->opt.address ? h->opt.address : "";
    snprintf(t->title, sizeof t->title, "%s %s", command_name(h->opt.cmd), what);
    struct ui_config cfg = {
        .title = h->title[0] ? h->title : t->title,
        .limits = &h->limits,
        .body_max = h->opt.decode_max,
        .glyphs = t->screen.utf8 ? &GLYPHS_UTF8 : &GLYPHS_ASCII,
        .progress = &t->progress,
        .server = &t->server, /* the mode may set h->listener after the interface opened */
        .error = h->err,
        .filter = h->opt.filter,
        .bodies_dir = h->opt.bodies_dir,
    };
    ui_init(&t->ui, &h->store, &cfg);
    t->ui.term = (struct ui_term){t, term_suspend, term_resume, term_stop};
    t->tamper = tamper_new(&t->ui, h);
    t->outbox = outbox_new(&t->ui, h, t->screen.out);
    ui_resize(&t->ui, t->screen.rows, t->screen.cols);
    canvas_init(&t->canvas, t->screen.rows, t->screen.cols);
}

struct tui *tui_new(struct hspy *h)
{
    struct tui *t = xcalloc(1, sizeof *t);
    t->h = h;
    /* Wide characters need the user's character set; only LC_CTYPE, so that number
     * formatting elsewhere stays in the C locale. */
    setlocale(LC_CTYPE, "");
    start_signals(t);
    int keys_fd = h->tty_fd >= 0 ? dup(h->tty_fd) : -1;
    if (keys_fd >= 0 && !(t->keys = fdopen(keys_fd, "r")))
        close(keys_fd);
    if ((h->tty_fd >= 0 && !t->keys) || screen_open(&t->screen, stdout, t->keys ? t->keys : stdin,
                                                    true, h->err, sizeof h->err) != 0) {
        if (!h->err[0])
            hspy_fail(h, "terminal interface: /dev/tty: %s", strerror(errno));
        if (t->keys)
            fclose(t->keys);
        t->freeing = true;
        close_handles(t);
        return NULL;
    }
    start_ui(t);
    start_loop_hooks(t);
    t->dirty = true;
    return t;
}

void tui_free(struct tui *t)
{
    if (!t)
        return;
    close_handles(t);
    screen_close(&t->screen);
    if (t->keys) /* after curses let go of it */
        fclose(t->keys);
    t->keys = NULL;
    tamper_free(t->tamper);
    t->tamper = NULL;
    outbox_free(t->outbox);
    t->outbox = NULL;
    ui_cleanup(&t->ui);
    canvas_cleanup(&t->canvas);
    t->freeing = true;
    if (t->handles == 0)
        free(t);
}
