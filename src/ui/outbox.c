/*
 * outbox owns the keys that take flows out of hspy (E: export one exchange, w: save exchanges
 * as HAR) and the answers in between: which form, where to, which exchanges. The exchange is
 * looked up again by id when the last answer comes (it may have been evicted meanwhile).
 * Rendering is export.c's and harfile.c's; this module only asks, writes and reports. It never
 * touches a socket and never writes network bytes to the terminal unescaped (the clipboard
 * gets them base64-encoded inside an OSC 52 sequence).
 */
#include "hspy/outbox.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hspy/bodyfiles.h"
#include "hspy/export.h"
#include "hspy/exportfile.h"
#include "hspy/harfile.h"
#include "hspy/idset.h"
#include "hspy/hspy.h"
#include "hspy/plural.h"
#include "hspy/ui.h"
#include "hspy/xmalloc.h"

/* Longest file name a prompt answer gives after "~/" is expanded. */
enum { OUTBOX_PATH_MAX = 4096 };
/* A save's outcome: a file name and an error or three counts (the screen shows what fits). */
enum { OUTBOX_OUTCOME_MAX = OUTBOX_PATH_MAX + UI_MESSAGE_MAX };
/*
 * Time one step of a HAR save takes on the loop (at least one entry). Steps come once a frame
 * interval, so the network is served in between: a million flows take longer to save than in
 * one go, and nothing waits on them meanwhile.
 */
enum { OUTBOX_SAVE_STEP_MS = 10 };

/* Which exchanges w saves. */
enum outbox_scope { SCOPE_ALL = 'a', SCOPE_SHOWN = 'f', SCOPE_MARKED = 'm' };

struct outbox {
    struct ui *ui;
    struct hspy *h;
    FILE *term;
    uint64_t id;               /* the exchange an export question is about */
    enum export_format format; /* the form chosen */
    int scope;                 /* enum outbox_scope chosen for w */
    char labels[3][64];        /* w's answers with their counts (labels must outlive them) */
    char label[128];           /* the open prompt's label (it must outlive the prompt) */
    struct prompt_history paths;
    struct harfile_job *job; /* the HAR file being written by w, or NULL */
    struct save_sync *sync;  /* its fsync on a worker thread, or NULL */
    /* A file that exists is replaced only once the user said y: the path asked about, the
     * write to run then, and whether it is running with that consent. */
    char asked[OUTBOX_PATH_MAX];
    unsigned (*write)(struct ui *ui, const char *path, void *data);
    bool consented;
};

static unsigned overwrite_yes(struct ui *ui, void *data)
{
    struct outbox *o = data;
    o->consented = true;
    unsigned r = o->write(ui, o->asked, o);
    o->consented = false;
    return r;
}

/* True (and the question asked) when path names a regular file that exists and the user has not
 * yet agreed to replace it; write runs with the path once they do. */
static bool ask_overwrite(struct outbox *o, const char *path,
                          unsigned (*write)(struct ui *ui, const char *path, void *data))
{
    struct stat st;
    if (o->consented || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return false; /* devices and pipes (/dev/stdout, a FIFO) are written, not replaced */
    snprintf(o->asked, sizeof o->asked, "%s", path);
    o->write = write;
    ui_confirm_name(o->ui, "", path, " exists: replace it?", overwrite_yes, o);
    return true;
}

/*
 * The fsync of a finished HAR document, run on libuv's worker threads so that the loop goes on
 * while the disk catches up (hundreds of milliseconds for a large file). Allocated apart from
 * the outbox: when the outbox is freed first, the request is orphaned (o = NULL) and frees
 * itself when it completes.
 */
struct save_sync {
    uv_fs_t req;
    struct outbox *o;
    bool done;
    int err; /* errno of the fsync, or 0 */
};

static void on_synced(uv_fs_t *req)
{
    struct save_sync *sync = req->data;
    int result = (int)req->result;
    uv_fs_req_cleanup(req);
    if (!sync->o) {
        free(sync);
        return;
    }
    sync->done = true;
    sync->err = result < 0 ? -result : 0;
}

static struct outbox *of(struct ui *ui)
{
    return ui_key_data(ui);
}

/* The forms E offers, with the key that picks each and the file name suggested. */
static const struct {
    int key;
    enum export_format format;
    const char *label, *suffix;
} FORMS[] = {
    {'c', EXPORT_CURL, "curl command", "curl.sh"},
    {'r', EXPORT_RAW_REQUEST, "raw request", "request.http"},
    {'R', EXPORT_RAW_RESPONSE, "raw response", "response.http"},
    {'n', EXPORT_NC, "nc script", "nc.sh"},
    {'b', EXPORT_BODY, "body", "body"},
    {'d', EXPORT_BODY_DECODED, "body decoded", "body-decoded"},
};
enum { NFORMS = sizeof FORMS / sizeof FORMS[0] };

static const char *suffix_of(enum export_format f)
{
    for (size_t i = 0; i < NFORMS; i++)
        if (FORMS[i].format == f)
            return FORMS[i].suffix;
    return "out";
}

/* path with a leading "~/" made the home folder; false when the result does not fit. */
static bool expand_path(const char *path, char *out, size_t outlen)
{
    const char *home = getenv("HOME");
    int k = path[0] == '~' && path[1] == '/' && home && *home
                ? snprintf(out, outlen, "%s%s", home, path + 1)
                : snprintf(out, outlen, "%s", path);
    return k >= 0 && (size_t)k < outlen;
}

/*
 * Renders the chosen form of the exchange into out. Returns the exchange, or NULL with the
 * reason shown (gone, nothing to export in that form).
 */
static const struct exchange *render(struct outbox *o, struct dynbuf *out, const char *body_path,
                                     struct export_result *res)
{
    const struct exchange *ex = store_get(&o->h->store, o->id);
    if (!ex) {
        ui_message(o->ui, STYLE_ERROR, "flow #%" PRIu64 " is gone: nothing exported", o->id);
        return NULL;
    }
    dynbuf_init(out, exportfile_room(ex, o->h->opt.decode_max));
    struct export_config cfg = {&o->h->limits, o->h->opt.decode_max, body_path, body_path != NULL};
    if (export_render(out, ex, o->format, &cfg, res) != 0) {
        ui_message(o->ui, STYLE_ERROR, "export %s of #%" PRIu64 ": %s",
                   export_format_name(o->format), o->id, res->note);
        dynbuf_cleanup(out);
        return NULL;
    }
    return ex;
}

/* A body export of what --save-bodies has whole: where that file is (into path), else false. */
static bool saved_whole(const struct outbox *o, const struct exchange *ex, char *path, size_t len)
{
    enum side s;
    switch (o->format) {
    case EXPORT_BODY:
    case EXPORT_BODY_DECODED: s = SIDE_SERVER; break;
    case EXPORT_REQUEST_BODY:
    case EXPORT_REQUEST_BODY_DECODED: s = SIDE_CLIENT; break;
    default: return false; /* not a body */
    }
    bool whole = false;
    return o->h->opt.bodies_dir && bodyfiles_find(o->h->opt.bodies_dir, ex, s, path, len, &whole) &&
           whole;
}

/* The outcome of an export of ex written to path, its caveats included. */
static void report_file(struct outbox *o, const struct exchange *ex, const char *path,
                        const struct export_result *res, const char *body_path)
{
    char extra[UI_MESSAGE_MAX / 2] = "", saved[PATH_MAX];
    if (!res->body_file && res->partial && saved_whole(o, ex, saved, sizeof saved)) {
        ui_message(o->ui, STYLE_MESSAGE,
                   "%s of #%" PRIu64 " written to %s; the flow kept part of the body: all of it "
                   "is in %s",
                   export_format_name(o->format), o->id, path, saved);
        return;
    }
    if (res->body_file)
        snprintf(extra, sizeof extra, "; the request body is in %s", body_path);
    else if (res->partial)
        snprintf(extra, sizeof extra, "; the flow lacks bytes (cut or missing): so does this");
    ui_message(o->ui, STYLE_MESSAGE, "%s of #%" PRIu64 " written to %s%s",
               export_format_name(o->format), o->id, path, extra);
}

static unsigned export_to_file(struct ui *ui, const char *text, void *data)
{
    struct outbox *o = data;
    char path[OUTBOX_PATH_MAX];
    if (!*text || !expand_path(text, path, sizeof path)) {
        ui_message(ui, STYLE_ERROR, "export: %s", *text ? "file name too long" : "no file named");
        return UI_REDRAW;
    }
    if (ask_overwrite(o, path, export_to_file))
        return UI_REDRAW;
    char *body_path = xasprintf("%s.body", path);
    struct dynbuf out;
    struct export_result res;
    const struct exchange *ex = render(o, &out, body_path, &res);
    if (ex) {
        char err[UI_MESSAGE_MAX];
        bool script = o->format == EXPORT_CURL || o->format == EXPORT_NC;
        int rc = exportfile_write(path, &out, script, err, sizeof err);
        if (rc == 0 && res.body_file) {
            /* The curl command reads a body that is not plain text from the file beside it. */
            struct export_config cfg = {&o->h->limits, o->h->opt.decode_max, body_path, true};
            rc = exportfile_write_body(ex, &cfg, err, sizeof err);
        }
        if (rc == 0)
            report_file(o, ex, path, &res, body_path);
        else
            ui_message(ui, STYLE_ERROR, "export: %s", err);
        dynbuf_cleanup(&out);
    }
    free(body_path);
    return UI_REDRAW;
}

static void export_to_clipboard(struct outbox *o)
{
    struct dynbuf out;
    struct export_result res;
    if (!render(o, &out, NULL, &res))
        return;
    struct dynbuf seq;
    dynbuf_init(&seq, 2 * EXPORT_OSC52_MAX + 64);
    if (res.body_file) {
        ui_message(o->ui, STYLE_ERROR,
                   "the request body of #%" PRIu64 " is not plain text: export the curl command "
                   "to a file (its body is written beside it)",
                   o->id);
    } else if (export_osc52(&seq, out.data, out.len, getenv("TMUX") != NULL) != 0) {
        ui_message(o->ui, STYLE_ERROR,
                   "%zu bytes are too many for the clipboard (at most %d): export to a file",
                   out.len, EXPORT_OSC52_MAX);
    } else {
        fwrite(seq.data, 1, seq.len, o->term);
        fflush(o->term);
        ui_message(o->ui, STYLE_MESSAGE,
                   "%s of #%" PRIu64 " (%zu %s) sent to the clipboard (OSC 52: the terminal "
                   "must allow it)",
                   export_format_name(o->format), o->id, out.len, plural_bytes(out.len));
    }
    dynbuf_cleanup(&seq);
    dynbuf_cleanup(&out);
}

static unsigned where_choice(struct ui *ui, int key, void *data)
{
    struct outbox *o = data;
    if (key == 'y') {
        export_to_clipboard(o);
        return UI_REDRAW;
    }
    char initial[64];
    snprintf(initial, sizeof initial, "hspy-%" PRIu64 "-%s", o->id, suffix_of(o->format));
    snprintf(o->label, sizeof o->label, "write the %s of #%" PRIu64 " to file",
             export_format_name(o->format), o->id);
    ui_prompt(ui, o->label, initial, &o->paths, NULL, export_to_file, o);
    return UI_REDRAW;
}

static const struct ui_choice WHERE[] = {
    {'f', "to a file"},
    {'y', "to the clipboard (OSC 52)"},
};

static unsigned form_choice(struct ui *ui, int key, void *data)
{
    struct outbox *o = data;
    for (size_t i = 0; i < NFORMS; i++)
        if (FORMS[i].key == key)
            o->format = FORMS[i].format;
    size_t n = o->term ? 2 : 1;
    char q[64];
    snprintf(q, sizeof q, "export the %s of #%" PRIu64 ":", export_format_name(o->format), o->id);
    ui_choose(ui, q, WHERE, n, where_choice, o);
    return UI_REDRAW;
}

static unsigned act_export(struct ui *ui, int arg)
{
    (void)arg;
    struct outbox *o = of(ui);
    uint64_t id = ui_selected(ui);
    if (!id) {
        ui_message(ui, STYLE_ERROR, "no flow selected");
        return UI_REDRAW;
    }
    o->id = id;
    struct ui_choice c[NFORMS];
    for (size_t i = 0; i < NFORMS; i++)
        c[i] = (struct ui_choice){FORMS[i].key, FORMS[i].label};
    char q[48];
    snprintf(q, sizeof q, "export #%" PRIu64 " as:", id);
    ui_choose(ui, q, c, NFORMS, form_choice, o);
    return UI_REDRAW;
}

/* ---- w: HAR ---- */

/* The ids of the chosen scope in ascending order (*n of them). */
static uint64_t *scope_ids(const struct outbox *o, size_t *n)
{
    const struct flowlist *fl = &o->ui->list;
    const struct store *st = &o->h->store;
    *n = 0;
    if (o->scope == SCOPE_ALL) {
        uint64_t span = store_end_id(st) - store_first_id(st);
        uint64_t *ids = xmalloc((span ? span : 1) * sizeof *ids);
        for (uint64_t id = store_first_id(st); id < store_end_id(st); id++)
            if (store_get(st, id))
                ids[(*n)++] = id;
        return ids;
    }
    const uint64_t *src = o->scope == SCOPE_MARKED ? fl->marks : fl->ids;
    size_t k = o->scope == SCOPE_MARKED ? fl->nmarks : fl->n;
    uint64_t *ids = xmalloc((k ? k : 1) * sizeof *ids);
    if (k) {
        memcpy(ids, src, k * sizeof *ids);
        idset_sort(ids, k);
    }
    *n = k;
    return ids;
}

/*
 * Puts the document in place and writes how it went into msg (the error, or the count and
 * where). Returns 0, or -1 when the save failed.
 */
static int save_finish(struct outbox *o, char *msg, size_t len)
{
    char path[OUTBOX_PATH_MAX], err[UI_MESSAGE_MAX];
    snprintf(path, sizeof path, "%s", harfile_path(o->job));
    struct harfile_stats st;
    int rc = harfile_finish(o->job, &st, err, sizeof err);
    o->job = NULL;
    if (rc != 0)
        snprintf(msg, len, "save: %s", err);
    else if (st.missing || st.dropped)
        snprintf(msg, len,
                 "%" PRIu64 " %s saved to %s (%" PRIu64 " gone from the store, %" PRIu64
                 " too large for an entry)",
                 st.written, plural(st.written, "flow", "flows"), path, st.missing, st.dropped);
    else
        snprintf(msg, len, "%" PRIu64 " %s saved to %s", st.written,
                 plural(st.written, "flow", "flows"), path);
    return rc;
}

static void save_done(struct ui *ui, struct outbox *o)
{
    char msg[OUTBOX_OUTCOME_MAX];
    int rc = save_finish(o, msg, sizeof msg);
    ui_message(ui, rc ? STYLE_ERROR : STYLE_MESSAGE, "%s", msg);
}

static void save_progress(struct ui *ui, const struct outbox *o)
{
    size_t total, done = harfile_progress(o->job, &total);
    if (o->sync)
        ui_message(ui, STYLE_MESSAGE, "saving %zu %s to %s... writing to disk", total,
                   plural(total, "flow", "flows"), harfile_path(o->job));
    else
        ui_message(ui, STYLE_MESSAGE, "saving %zu %s to %s... %zu%%", total,
                   plural(total, "flow", "flows"), harfile_path(o->job), done * 100 / total);
}

/* Starts the fsync of the ended document on a worker thread; false when it cannot be. */
static bool start_sync(struct outbox *o, int fd)
{
    struct save_sync *sync = xcalloc(1, sizeof *sync);
    sync->o = o;
    sync->req.data = sync;
    if (uv_fs_fsync(&o->h->loop, &sync->req, fd, on_synced) != 0) {
        free(sync);
        return false;
    }
    o->sync = sync;
    return true;
}

/*
 * One step of the save (ui_task_fn): entries for OUTBOX_SAVE_STEP_MS, then the progress; once
 * all are written, the fsync runs on a worker thread and the steps wait for it.
 */
static bool save_step(struct ui *ui, void *data)
{
    struct outbox *o = data;
    if (o->sync) {
        if (!o->sync->done)
            return true;
        harfile_synced(o->job, o->sync->err);
        free(o->sync);
        o->sync = NULL;
    } else if (harfile_step(o->job, (uint64_t)OUTBOX_SAVE_STEP_MS * 1000000u)) {
        save_progress(ui, o);
        return true;
    } else {
        int fd = harfile_end(o->job);
        if (fd >= 0 && start_sync(o, fd)) {
            save_progress(ui, o);
            return true;
        }
    }
    save_done(ui, o);
    return false;
}

static unsigned save_to_file(struct ui *ui, const char *text, void *data)
{
    struct outbox *o = data;
    char path[OUTBOX_PATH_MAX], err[UI_MESSAGE_MAX];
    if (!*text || !expand_path(text, path, sizeof path)) {
        ui_message(ui, STYLE_ERROR, "save: %s", *text ? "file name too long" : "no file named");
        return UI_REDRAW;
    }
    if (ask_overwrite(o, path, save_to_file))
        return UI_REDRAW;
    size_t n;
    uint64_t *ids = scope_ids(o, &n);
    if (n == 0)
        ui_message(ui, STYLE_ERROR, "nothing saved: no %sflows",
                   o->scope == SCOPE_MARKED ? "marked "
                   : o->scope == SCOPE_ALL  ? ""
                                            : "shown ");
    else if (!(o->job = harfile_begin(o->h, ids, n, path, err, sizeof err)))
        ui_message(ui, STYLE_ERROR, "save: %s", err);
    else if (save_step(ui, o)) /* a small save is done at once */
        ui_task_start(ui, save_step, o);
    free(ids);
    return UI_REDRAW;
}

static unsigned scope_choice(struct ui *ui, int key, void *data)
{
    struct outbox *o = data;
    o->scope = key;
    const char *what = key == SCOPE_ALL      ? "all flows"
                       : key == SCOPE_MARKED ? "marked flows"
                                             : "shown flows";
    snprintf(o->label, sizeof o->label, "save %s to HAR file", what);
    ui_prompt(ui, o->label, "hspy.har", &o->paths, NULL, save_to_file, o);
    return UI_REDRAW;
}

static unsigned act_save(struct ui *ui, int arg)
{
    (void)arg;
    struct outbox *o = of(ui);
    if (o->job) { /* one save at a time: w shows how far the running one got */
        save_progress(ui, o);
        return UI_REDRAW;
    }
    const struct flowlist *fl = &ui->list;
    snprintf(o->labels[0], sizeof o->labels[0], "all (%zu)", o->h->store.live);
    snprintf(o->labels[1], sizeof o->labels[1], "shown (%zu)", flowlist_count(fl));
    snprintf(o->labels[2], sizeof o->labels[2], "marked (%zu)", fl->nmarks);
    const struct ui_choice c[] = {
        {SCOPE_ALL, o->labels[0]},
        {SCOPE_SHOWN, o->labels[1]},
        {SCOPE_MARKED, o->labels[2]},
    };
    ui_choose(ui, "save to HAR:", c, sizeof c / sizeof c[0], scope_choice, o);
    return UI_REDRAW;
}

/* clang-format off */
#define L KEYMAP_LIST
#define S KEYMAP_SPLIT
#define D KEYMAP_DETAIL
static const struct keymap_binding KEYS[] = {
    {'E', L|S|D, act_export, 0, "export", "export the flow: curl, raw request or response, nc script, body; to a file or the clipboard", KEYMAP_IF_FLOW},
    {'w', L|S,   act_save,   0, NULL,     "save all, the shown or the marked flows to a HAR file", 0},
};
#undef L
#undef S
#undef D
/* clang-format on */

struct outbox *outbox_new(struct ui *ui, struct hspy *h, FILE *term)
{
    struct outbox *o = xcalloc(1, sizeof *o);
    o->ui = ui;
    o->h = h;
    o->term = term;
    ui_add_keys_data(ui, KEYS, sizeof KEYS / sizeof KEYS[0], o);
    return o;
}

void outbox_free(struct outbox *o)
{
    if (!o)
        return;
    if (o->job) {
        /* The user quit during a save: it is finished, not lost (the terminal is the user's
         * again, so the outcome goes to stderr). */
        ui_task_cancel(o->ui, o);
        if (o->sync && !o->sync->done)
            o->sync->o = NULL; /* frees itself; harfile_finish syncs again, here */
        else
            free(o->sync);
        o->sync = NULL;
        char msg[OUTBOX_OUTCOME_MAX];
        save_finish(o, msg, sizeof msg);
        hspy_say("%s", msg);
    }
    prompt_history_cleanup(&o->paths);
    free(o);
}
