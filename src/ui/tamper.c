/*
 * tamper owns the keys that act on flows (intercept, accept, kill, edit, answer, replay,
 * duplicate, revert) and the state between a key and its outcome: the editor session, the
 * edited text awaiting "fix the framing or send as typed", the replays in flight. Edits are
 * staged on the exchange (edit.h) and sent by accepting (held messages) or replaying; nothing
 * here touches a socket: holds end through intercept.h, replays go through replay.h.
 */
#include "hspy/tamper.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hspy/edit.h"
#include "hspy/editor.h"
#include "hspy/endpoint.h"
#include "hspy/hspy.h"
#include "hspy/intercept.h"
#include "hspy/plural.h"
#include "hspy/replay.h"
#include "hspy/rules.h"
#include "hspy/ui.h"
#include "hspy/xmalloc.h"

/* Loop turns tamper_free waits for replays' connections to finish closing. */
enum { CLOSE_SPINS = 100 };

/* What the edited text will become once the user chose how to send it. */
struct pending_text {
    uint64_t id;
    uint8_t side;       /* enum side */
    bool replay;        /* R: replay as soon as the edit is staged */
    bool arriving;      /* the held message was still arriving when the editor opened */
    struct dynbuf base; /* what the editor started from (to tell "no change") */
    struct dynbuf text; /* what the editor left */
};

struct tamper {
    struct ui *ui;
    struct hspy *h;
    struct editor *editor; /* running, or NULL */
    struct pending_text edit;
    struct replayer replayer;
    bool replayer_on;
    uint64_t prompt_id; /* the flow an open prompt or question is about */
    uint8_t prompt_side;
    int quick;        /* the quick edit chosen (key) */
    char target[300]; /* the last replay target typed */
    struct prompt_history intercept_history, target_history, quick_history;
};

static struct tamper *of(struct ui *ui)
{
    return ui_key_data(ui);
}

static void say(struct ui *ui, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct ui *ui, const char *fmt, ...)
{
    char buf[UI_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ui_message(ui, STYLE_MESSAGE, "%s", buf);
}

static void oops(struct ui *ui, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void oops(struct ui *ui, const char *fmt, ...)
{
    char buf[UI_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ui_message(ui, STYLE_ERROR, "%s", buf);
}

/* The selected flow, or NULL with a message. */
static struct exchange *selected(struct ui *ui)
{
    struct exchange *ex = ui_exchange(ui);
    if (!ex)
        oops(ui, "no flow selected");
    return ex;
}

static struct intercept *holds(const struct tamper *t)
{
    return t->h->intercept;
}

/* The hold of ex, or NULL (with a message when why is given). */
static struct intercept_hold *hold_of(struct tamper *t, const struct exchange *ex, const char *why)
{
    struct intercept_hold *h = holds(t) ? intercept_find(holds(t), ex->id) : NULL;
    if (h || !why)
        return h;
    /* A hold that ended without the user (the client went away, a kill): say how. */
    if ((ex->flags & EX_INTERCEPTED) && ex->error)
        oops(t->ui, "flow #%llu is no longer held: %s", (unsigned long long)ex->id, ex->error);
    else
        oops(t->ui, "flow #%llu is not held%s", (unsigned long long)ex->id, why);
    return NULL;
}

/* The detail view shows staged edits: rebuild it after one changed. */
static void changed(struct tamper *t)
{
    t->ui->detail.built = false;
}

/* ---- what an edit starts from ---- */

/* The message the user's edit of ex replaces: the held message (listen: the response to
 * give), else the request (for a replay). */
static enum side edit_side(struct tamper *t, const struct exchange *ex)
{
    struct intercept_hold *h = hold_of(t, ex, NULL);
    return h ? (enum side)h->edits : SIDE_CLIENT;
}

/*
 * Appends the bytes an edit of side starts from: the staged edit, else the message as it is
 * (editor: its editable text, a chunked body de-chunked; quick edits: its bytes), else the
 * answer the mode would give. Returns false with a message when there is nothing to edit.
 */
static bool base_bytes(struct tamper *t, struct exchange *ex, enum side side, bool editor,
                       struct dynbuf *out)
{
    const struct dynbuf *staged = edit_pending(ex, side);
    const struct message *m = exchange_msg(ex, side);
    if (staged) {
        dynbuf_append(out, staged->data, staged->len);
        return true;
    }
    /* A final head: the message exists (an interim 100 Continue alone is not an answer). */
    if (m->flags & MSG_HEAD) {
        bool whole = editor
                         ? edit_text(m, &t->h->limits, out)
                         : (dynbuf_append(out, m->raw.data + m->head_off, m->raw.len - m->head_off),
                            !(m->flags & (MSG_TRUNCATED | MSG_GAP)));
        if (!whole)
            oops(t->ui, "only part of this message was kept (--body-keep): the rest is not in "
                        "the edit");
        return true;
    }
    const struct intercept *ic = holds(t);
    if (side == SIDE_SERVER && ic && ic->answers) {
        if (ic->answers->preview(ic->answers->data, ex, out) != 0)
            say(t->ui, "the default answer is not fixed bytes: starting from a plain 200");
        return true;
    }
    oops(t->ui, "flow #%llu has no %s to edit", (unsigned long long)ex->id,
         side == SIDE_CLIENT ? "request" : "response");
    return false;
}

/* One line on what the engine makes of bytes about to be sent as side of ex. */
static void describe(struct tamper *t, const struct exchange *ex, enum side side,
                     const struct dynbuf *bytes, char *buf, size_t len)
{
    struct exchange_limits exl = {t->h->limits.head_max, EDIT_MAX};
    struct edit_check c;
    struct exchange *chk = edit_check(bytes->data, bytes->len, side, ex->req.raw.data,
                                      ex->req.raw.len, &t->h->limits, &exl, &c);
    char names[160] = "";
    for (uint16_t i = 0; chk && i < chk->nwarnings; i++) {
        if (chk->warnings[i].side != side)
            continue;
        size_t at = strlen(names);
        snprintf(names + at, sizeof names - at, "%s%s", at ? ", " : ": ",
                 warning_name(chk->warnings[i].code));
    }
    exchange_free(chk);
    snprintf(buf, len, "%s; %u warning%s%s", c.summary, c.warnings, plural(c.warnings, "", "s"),
             names);
}

/* ---- replay ---- */

static struct replayer *replayer(struct tamper *t)
{
    if (!t->replayer_on) {
        struct hspy *h = t->h;
        replayer_init(&t->replayer, &h->loop, &h->store, &h->limits, &h->ex_limits,
                      &h->next_conn_id, h->opt.idle_timeout_ms ? h->opt.idle_timeout_ms : 60000);
        t->replayer_on = true;
    }
    return &t->replayer;
}

/* The request bytes a replay of ex sends: its staged edit, else the request as received. */
static const struct dynbuf *replay_bytes(struct exchange *ex, struct dynbuf *tmp, bool *edited)
{
    const struct dynbuf *staged = edit_pending(ex, SIDE_CLIENT);
    *edited = staged != NULL;
    if (staged)
        return staged;
    dynbuf_append(tmp, ex->req.raw.data, ex->req.raw.len);
    return tmp;
}

static void replay_now(struct tamper *t, struct exchange *ex, const char *host, uint16_t port)
{
    struct ui *ui = t->ui;
    if (!(ex->req.flags & MSG_HEAD) && !edit_pending(ex, SIDE_CLIENT)) {
        oops(ui, "flow #%llu has no request to replay", (unsigned long long)ex->id);
        return;
    }
    if ((ex->req.flags & (MSG_TRUNCATED | MSG_GAP)) && !edit_pending(ex, SIDE_CLIENT)) {
        oops(ui, "the request of #%llu was not kept whole (--body-keep): not replayed",
             (unsigned long long)ex->id);
        return;
    }
    struct dynbuf tmp;
    dynbuf_init(&tmp, EDIT_MAX);
    bool edited;
    const struct dynbuf *req = replay_bytes(ex, &tmp, &edited);
    char err[256];
    if (replayer_send(replayer(t), host, port, req->data, req->len, ex->id, err, sizeof err) != 0)
        oops(ui, "replay: %s", err);
    else
        say(ui, "replaying #%llu%s to %s:%u: the new flow appears at the end",
            (unsigned long long)ex->id, edited ? " (edited)" : "", host, port);
    dynbuf_cleanup(&tmp);
}

static unsigned target_submit(struct ui *ui, const char *text, void *data)
{
    struct tamper *t = data;
    char host[256], why[256];
    uint16_t port;
    if (hostport_peer(text, host, sizeof host, &port, why, sizeof why) != 0) {
        prompt_error(&ui->prompt, why, (size_t)-1);
        return UI_REDRAW;
    }
    snprintf(t->target, sizeof t->target, "%s", text);
    prompt_history_add(&t->target_history, text);
    struct exchange *ex = store_get(&t->h->store, t->prompt_id);
    if (!ex) {
        oops(ui, "flow #%llu is gone", (unsigned long long)t->prompt_id);
        return UI_REDRAW;
    }
    replay_now(t, ex, host, port);
    return UI_REDRAW;
}

/* Replays ex: to the proxy's upstream, to --replay-to, or to a target asked for. */
static void replay(struct tamper *t, struct exchange *ex)
{
    const struct options *o = &t->h->opt;
    char host[256], why[256];
    uint16_t port;
    if (o->cmd == CMD_PROXY && o->upstream &&
        hostport_split(o->upstream, host, sizeof host, &port, 80, why, sizeof why) == 0) {
        replay_now(t, ex, host, port);
        return;
    }
    if (o->replay_to) {
        replay_now(t, ex, o->replay_host, o->replay_port);
        return;
    }
    char initial[300];
    snprintf(initial, sizeof initial, "%s", t->target);
    if (!initial[0])
        exchange_host(ex, initial, sizeof initial);
    t->prompt_id = ex->id;
    ui_prompt(t->ui, "replay to (host:port)", initial, &t->target_history, NULL, target_submit, t);
}

/* ---- the editor ---- */

static void stage(struct tamper *t, struct exchange *ex, enum side side, const struct dynbuf *b,
                  const char *how)
{
    edit_stage(ex, side, b->data, b->len);
    changed(t);
    char check[300];
    describe(t, ex, side, b, check, sizeof check);
    bool held = hold_of(t, ex, NULL) != NULL;
    say(t->ui, "#%llu %s %s (%s); %s; Diff tab shows it, V reverts", (unsigned long long)ex->id,
        side == SIDE_CLIENT ? "request" : "response", how, check,
        held ? "a sends it" : "r replays it");
}

static unsigned fix_choice(struct ui *ui, int key, void *data)
{
    struct tamper *t = data;
    struct pending_text *p = &t->edit;
    struct exchange *ex = store_get(&t->h->store, p->id);
    if (!ex) {
        oops(ui, "flow #%llu is gone: the edit is dropped", (unsigned long long)p->id);
        return UI_REDRAW;
    }
    struct dynbuf out;
    dynbuf_init(&out, EDIT_MAX + 64);
    if (key == 'f') {
        struct edit_fix_report rep;
        if (edit_fix(p->text.data, p->text.len, &out, &rep) != 0) {
            oops(ui, "the edited text is empty: nothing staged");
            dynbuf_cleanup(&out);
            return UI_REDRAW;
        }
    } else {
        dynbuf_append(&out, p->text.data, p->text.len);
    }
    enum side side = (enum side)p->side;
    if (side == SIDE_SERVER && !hold_of(t, ex, NULL)) {
        oops(ui, "flow #%llu is no longer held: the edited response is dropped",
             (unsigned long long)ex->id);
    } else {
        stage(t, ex, side, &out, key == 'f' ? "edited, framing fixed" : "edited, as typed");
        if (p->replay)
            replay(t, ex);
    }
    dynbuf_cleanup(&out);
    return UI_REDRAW;
}

static const struct ui_choice FIX_CHOICES[] = {
    {'f', "fix Content-Length/chunking"},
    {'t', "send as typed"},
};

static void on_edited(void *data, int status, const uint8_t *text, size_t n, const char *err)
{
    struct tamper *t = data;
    struct pending_text *p = &t->edit;
    t->editor = NULL;
    struct ui *ui = t->ui;
    if (!text) {
        oops(ui, "edit: %s", err);
    } else if (status != 0) {
        oops(ui, "the editor exited with status %d: nothing changed", status);
    } else if (n == p->base.len && (!n || memcmp(text, p->base.data, n) == 0)) {
        say(ui, "no change");
    } else {
        dynbuf_reset(&p->text);
        dynbuf_append(&p->text, text, n);
        char q[96];
        snprintf(q, sizeof q, "#%llu edited (%zu %s):", (unsigned long long)p->id, n,
                 plural_bytes(n));
        ui_choose(ui, q, FIX_CHOICES, 2, fix_choice, t);
        if (p->arriving)
            say(ui, "the body was still arriving when the editor opened: the edit replaces the "
                    "whole message with what you wrote");
    }
    /* Follow may have moved the cursor while the editor ran: the flow edited is put back under
     * it (which turns follow off unless it is still the newest), so the next key acts on it. */
    size_t pos = flowlist_find(&ui->list, p->id);
    if (pos != (size_t)-1 && ui->screen != UI_DETAIL)
        flowlist_goto(&ui->list, pos);
    /* Last: taking the terminal back draws a frame, which shows the question. */
    ui_resume(ui);
}

static void start_editor(struct tamper *t, struct exchange *ex, bool replay_after)
{
    struct ui *ui = t->ui;
    if (t->editor)
        return;
    enum side side = replay_after ? SIDE_CLIENT : edit_side(t, ex);
    struct pending_text *p = &t->edit;
    dynbuf_reset(&p->base);
    if (!base_bytes(t, ex, side, true, &p->base))
        return;
    p->id = ex->id;
    p->side = (uint8_t)side;
    p->replay = replay_after;
    const struct message *m = exchange_msg(ex, side);
    p->arriving = hold_of(t, ex, NULL) && (m->flags & MSG_STARTED) && !(m->flags & MSG_COMPLETE);
    char err[512];
    ui_suspend(ui);
    int term_fd = t->h->tty_fd >= 0 ? t->h->tty_fd : STDIN_FILENO;
    t->editor =
        editor_start(&t->h->loop, term_fd, p->base.data ? p->base.data : (const uint8_t *)"",
                     p->base.len, on_edited, t, err, sizeof err);
    if (!t->editor) {
        ui_resume(ui);
        oops(ui, "%s", err);
    }
}

/* ---- key actions ---- */

static void intercept_change(struct ui *ui, struct prompt *p, void *data)
{
    (void)ui, (void)data;
    char err[256];
    size_t pos = (size_t)-1;
    struct filter *f = p->text[0] ? filter_compile(p->text, err, sizeof err, &pos) : NULL;
    prompt_error(p, f || !p->text[0] ? NULL : err, pos);
    filter_free(f);
}

static unsigned intercept_submit(struct ui *ui, const char *text, void *data)
{
    struct tamper *t = data;
    struct intercept *ic = holds(t);
    char err[256];
    size_t pos = (size_t)-1;
    if (!ic) {
        oops(ui, "nothing to intercept here: holds need hspy listen or proxy");
        return UI_REDRAW;
    }
    if (intercept_set_filter(ic, text, err, sizeof err, &pos) != 0) {
        prompt_error(&ui->prompt, err, pos);
        return UI_REDRAW;
    }
    prompt_history_add(&t->intercept_history, text);
    if (!*text)
        say(ui, "intercept off%s", ic->n ? ": flows still held wait for a or A" : "");
    else
        say(ui, "intercepting %s: matching messages are held (a accepts, e edits, x kills)", text);
    return UI_REDRAW;
}

static unsigned act_intercept(struct ui *ui, int arg)
{
    (void)arg;
    struct tamper *t = of(ui);
    if (!holds(t)) {
        oops(ui, "holding messages needs hspy listen or hspy proxy");
        return UI_REDRAW;
    }
    ui_prompt(ui, "intercept", holds(t)->expr, &t->intercept_history, intercept_change,
              intercept_submit, t);
    return UI_REDRAW;
}

static unsigned act_accept(struct ui *ui, int arg)
{
    (void)arg;
    struct tamper *t = of(ui);
    struct exchange *ex = selected(ui);
    if (!ex || !hold_of(t, ex, ": a releases held flows"))
        return UI_REDRAW;
    bool edited = edit_pending(ex, edit_side(t, ex)) != NULL;
    uint64_t id = ex->id;
    intercept_accept(holds(t), id);
    say(ui, "#%llu released%s", (unsigned long long)id, edited ? " with its edit" : "");
    changed(t);
    return UI_REDRAW;
}

static unsigned act_accept_all(struct ui *ui, int arg)
{
    (void)arg;
    struct tamper *t = of(ui);
    if (!holds(t) || !holds(t)->n) {
        say(ui, "nothing is held");
        return UI_REDRAW;
    }
    size_t n = intercept_accept_all(holds(t));
    say(ui, "%zu held flow%s released", n, plural(n, "", "s"));
    changed(t);
    return UI_REDRAW;
}

static unsigned act_kill(struct ui *ui, int arg)
{
    (void)arg;
    struct tamper *t = of(ui);
    struct exchange *ex = selected(ui);
    if (!ex || !hold_of(t, ex, ": x kills held flows"))
        return UI_REDRAW;
    uint64_t id = ex->id;
    intercept_kill(holds(t), id);
    say(ui, "#%llu killed: its connection was reset", (unsigned long long)id);
    changed(t);
    return UI_REDRAW;
}

static unsigned act_edit(struct ui *ui, int arg)
{
    struct tamper *t = of(ui);
    struct exchange *ex = selected(ui);
    if (ex)
        start_editor(t, ex, arg != 0);
    return UI_REDRAW;
}

static unsigned act_revert(struct ui *ui, int arg)
{
    (void)arg;
    struct tamper *t = of(ui);
    struct exchange *ex = selected(ui);
    if (!ex)
        return UI_REDRAW;
    bool any = edit_revert(ex, SIDE_CLIENT);
    any |= edit_revert(ex, SIDE_SERVER);
    struct intercept_hold *h = hold_of(t, ex, NULL);
    if (h && (h->has_plan || h->choice)) {
        h->has_plan = false;
        h->choice = INTERCEPT_AS_IS;
        any = true;
    }
    changed(t);
    if (any)
        say(ui, "#%llu: unsent edits reverted", (unsigned long long)ex->id);
    else
        say(ui, "#%llu has no unsent edit", (unsigned long long)ex->id);
    return UI_REDRAW;
}

static unsigned act_replay(struct ui *ui, int arg)
{
    (void)arg;
    struct tamper *t = of(ui);
    struct exchange *ex = selected(ui);
    if (ex)
        replay(t, ex);
    return UI_REDRAW;
}

static unsigned act_duplicate(struct ui *ui, int arg)
{
    (void)arg;
    struct tamper *t = of(ui);
    struct exchange *ex = selected(ui);
    if (!ex)
        return UI_REDRAW;
    struct hspy *h = t->h;
    struct exchange *copy = edit_exchange(ex->req.raw.data, ex->req.raw.len, ex->resp.raw.data,
                                          ex->resp.raw.len, &h->limits, &h->ex_limits);
    if (!copy) {
        oops(ui, "flow #%llu has no bytes to copy", (unsigned long long)ex->id);
        return UI_REDRAW;
    }
    copy->client = ex->client;
    copy->server = ex->server;
    copy->conn_id = ex->conn_id;
    memcpy(copy->t, ex->t, sizeof copy->t);
    copy->note = arena_printf(&copy->arena, "duplicate of #%llu", (unsigned long long)ex->id);
    const struct dynbuf *staged = edit_pending(ex, SIDE_CLIENT);
    if (staged)
        edit_stage(copy, SIDE_CLIENT, staged->data, staged->len);
    uint64_t id = store_add(&h->store, copy);
    store_complete(&h->store, copy);
    say(ui, "#%llu duplicated as #%llu", (unsigned long long)ex->id, (unsigned long long)id);
    return UI_REDRAW;
}

/* ---- answering held requests (listen) ---- */

static const struct intercept_answers *answers(struct tamper *t)
{
    return holds(t) ? holds(t)->answers : NULL;
}

/* "echo", "default", "last", or a rule's name or number; -1 with err when none fits. */
static int parse_answer(struct tamper *t, const char *text, struct intercept_release *r, char *err,
                        size_t errlen)
{
    const struct intercept_answers *a = answers(t);
    memset(r, 0, sizeof *r);
    if (!strcmp(text, "echo")) {
        r->answer = INTERCEPT_ECHO;
    } else if (!strcmp(text, "default") || !*text) {
        r->answer = INTERCEPT_AS_IS;
    } else if (!strcmp(text, "last")) {
        if (!holds(t)->last_crafted.len)
            return snprintf(err, errlen, "no response was crafted yet"), -1;
        r->answer = INTERCEPT_BYTES;
        r->bytes = holds(t)->last_crafted.data;
        r->len = holds(t)->last_crafted.len;
    } else {
        long k = a->find_rule(a->data, text);
        if (k < 0)
            return snprintf(err, errlen, "not echo, default, last or a rule (name or number)"), -1;
        r->answer = INTERCEPT_RULE;
        r->rule = (size_t)k;
        a->rule(a->data, r->rule, err, errlen);
        return 1;
    }
    return 0;
}

static void answer_change(struct ui *ui, struct prompt *p, void *data)
{
    struct tamper *t = data;
    struct intercept_release r;
    char err[256];
    int rc = parse_answer(t, p->text, &r, err, sizeof err);
    /* A rule found is shown where an error would be, as a preview of the choice. */
    prompt_error(p, rc != 0 ? err : NULL, (size_t)-1);
    (void)ui;
}

static unsigned answer_submit(struct ui *ui, const char *text, void *data)
{
    struct tamper *t = data;
    struct intercept_release r;
    char err[256];
    if (parse_answer(t, text, &r, err, sizeof err) < 0) {
        prompt_error(&ui->prompt, err, (size_t)-1);
        return UI_REDRAW;
    }
    struct intercept_hold *h = holds(t) ? intercept_find(holds(t), t->prompt_id) : NULL;
    if (!h) {
        oops(ui, "flow #%llu is no longer held", (unsigned long long)t->prompt_id);
        return UI_REDRAW;
    }
    struct delivery plan = h->plan;
    if (h->has_plan)
        r.plan = &plan;
    struct dynbuf copy; /* last_crafted changes while the release is recorded */
    dynbuf_init(&copy, EDIT_MAX);
    if (r.answer == INTERCEPT_BYTES) {
        dynbuf_append(&copy, r.bytes, r.len);
        r.bytes = copy.data;
    }
    intercept_release(holds(t), t->prompt_id, &r);
    dynbuf_cleanup(&copy);
    say(ui, "#%llu answered with %s", (unsigned long long)t->prompt_id, *text ? text : "default");
    changed(t);
    return UI_REDRAW;
}

/* A held request of hspy listen under the cursor, or NULL with a message. */
static struct exchange *held_request(struct tamper *t)
{
    struct exchange *ex = selected(t->ui);
    if (!ex)
        return NULL;
    struct intercept_hold *h = hold_of(t, ex, "");
    if (!h)
        return NULL;
    if (!answers(t) || h->edits != SIDE_SERVER) {
        oops(t->ui, "prepared answers exist in hspy listen only: e edits this message");
        return NULL;
    }
    return ex;
}

static unsigned act_pick(struct ui *ui, int arg)
{
    (void)arg;
    struct tamper *t = of(ui);
    struct exchange *ex = held_request(t);
    if (!ex)
        return UI_REDRAW;
    t->prompt_id = ex->id;
    ui_prompt(ui, "answer with (echo, default, last, rule name or number)", NULL, NULL,
              answer_change, answer_submit, t);
    return UI_REDRAW;
}

static unsigned rule_name_submit(struct ui *ui, const char *text, void *data)
{
    struct tamper *t = data;
    struct exchange *ex = store_get(&t->h->store, t->prompt_id);
    const struct intercept_answers *a = answers(t);
    if (!ex || !a) {
        oops(ui, "flow #%llu is gone", (unsigned long long)t->prompt_id);
        return UI_REDRAW;
    }
    if (!*text || strchr(text, '\n')) {
        prompt_error(&ui->prompt, "a rule needs a name", (size_t)-1);
        return UI_REDRAW;
    }
    const struct dynbuf *staged = edit_pending(ex, SIDE_SERVER);
    const struct message *resp = &ex->resp;
    const uint8_t *raw = staged ? staged->data : resp->raw.data + resp->head_off;
    size_t n = staged ? staged->len : resp->raw.len - resp->head_off;
    char method[64], target[4096], err[512];
    exchange_method(ex, method, sizeof method);
    exchange_target(ex, target, sizeof target);
    size_t plen = strcspn(target, "?#");
    struct dynbuf text_buf;
    dynbuf_init(&text_buf, (size_t)1 << 24);
    if (rules_format_response(&text_buf, text, method, (const uint8_t *)target, plen, raw, n, err,
                              sizeof err) != 0 ||
        a->add_rule(a->data, dynbuf_str(&text_buf), err, sizeof err) != 0) {
        oops(ui, "not saved as a rule: %s", err);
    } else {
        const char *file = a->rules_file(a->data);
        say(ui,
            "rule '%s' answers %s %.*s from now on (in front of the others); W writes the "
            "rules%s%s",
            text, method, (int)plen, target, file ? " to " : "", file ? file : " to a file");
    }
    dynbuf_cleanup(&text_buf);
    return UI_REDRAW;
}

static unsigned act_save_rule(struct ui *ui, int arg)
{
    (void)arg;
    struct tamper *t = of(ui);
    struct exchange *ex = selected(ui);
    if (!ex)
        return UI_REDRAW;
    if (!answers(t)) {
        oops(ui, "rules exist in hspy listen only");
        return UI_REDRAW;
    }
    if (!edit_pending(ex, SIDE_SERVER) && !(ex->resp.flags & MSG_HEAD)) {
        oops(ui, "flow #%llu has no response to save (e crafts one)", (unsigned long long)ex->id);
        return UI_REDRAW;
    }
    t->prompt_id = ex->id;
    char name[32];
    snprintf(name, sizeof name, "crafted-%llu", (unsigned long long)ex->id);
    ui_prompt(ui, "save the response as the rule named", name, NULL, NULL, rule_name_submit, t);
    return UI_REDRAW;
}

static void write_rules(struct tamper *t, const char *path)
{
    const struct intercept_answers *a = answers(t);
    char err[512];
    long n = a->write_rules(a->data, path, err, sizeof err);
    if (n < 0)
        oops(t->ui, "rules not written: %s", err);
    else
        say(t->ui, "%ld rule%s written to %s", n, plural(n, "", "s"),
            path ? path : a->rules_file(a->data));
}

static unsigned write_yes(struct ui *ui, void *data)
{
    (void)ui;
    write_rules(data, NULL);
    return UI_REDRAW;
}

static unsigned write_path_submit(struct ui *ui, const char *text, void *data)
{
    if (!*text) {
        prompt_error(&ui->prompt, "name the file to write", (size_t)-1);
        return UI_REDRAW;
    }
    write_rules(data, text);
    return UI_REDRAW;
}

static unsigned act_write_rules(struct ui *ui, int arg)
{
    (void)arg;
    struct tamper *t = of(ui);
    const struct intercept_answers *a = answers(t);
    if (!a) {
        oops(ui, "rules exist in hspy listen only");
        return UI_REDRAW;
    }
    const char *file = a->rules_file(a->data);
    if (file) {
        ui_confirm_name(ui, "write the rules back to ", file, "?", write_yes, t);
    } else {
        ui_prompt(ui, "write the rules to file", "hspy.rules", NULL, NULL, write_path_submit, t);
    }
    return UI_REDRAW;
}

static unsigned act_default(struct ui *ui, int arg)
{
    (void)arg;
    struct tamper *t = of(ui);
    const struct intercept_answers *a = answers(t);
    struct intercept *ic = holds(t);
    if (!a) {
        oops(ui, "the default answer exists in hspy listen only");
        return UI_REDRAW;
    }
    if (ic->default_crafted) {
        a->set_default(a->data, NULL, 0);
        ic->default_crafted = false;
        say(ui, "default answer: as the command line says again");
    } else if (!ic->last_crafted.len) {
        oops(ui, "no response was crafted yet (e on a held request crafts one)");
    } else {
        a->set_default(a->data, ic->last_crafted.data, ic->last_crafted.len);
        ic->default_crafted = true;
        say(ui, "default answer: the last crafted response (%zu %s); T switches back",
            ic->last_crafted.len, plural_bytes(ic->last_crafted.len));
    }
    return UI_REDRAW;
}

/* ---- quick edits ---- */

static unsigned quick_submit(struct ui *ui, const char *text, void *data)
{
    struct tamper *t = data;
    struct exchange *ex = store_get(&t->h->store, t->prompt_id);
    if (!ex) {
        oops(ui, "flow #%llu is gone", (unsigned long long)t->prompt_id);
        return UI_REDRAW;
    }
    enum side side = (enum side)t->prompt_side;
    if (t->quick == 'd') {
        struct intercept_hold *h = hold_of(t, ex, "");
        char rules[PROMPT_MAX + 64], err[256];
        snprintf(rules, sizeof rules, "match * /**\n%s\n", text);
        for (char *c = rules; *c; c++)
            if (*c == ';')
                *c = '\n';
        struct rules r;
        if (rules_parse(&r, rules, strlen(rules), "delivery", err, sizeof err) != 0) {
            prompt_error(&ui->prompt, err, (size_t)-1);
            return UI_REDRAW;
        }
        if (h) {
            h->plan = r.v[0].delivery;
            h->has_plan = delivery_active(&h->plan);
            say(ui, "#%llu will be delivered: %s (a sends it)", (unsigned long long)ex->id,
                h->has_plan ? text : "as usual");
        }
        rules_cleanup(&r);
        return UI_REDRAW;
    }
    struct dynbuf base, out, body;
    dynbuf_init(&base, EDIT_MAX);
    dynbuf_init(&out, EDIT_MAX + 64);
    dynbuf_init(&body, EDIT_MAX);
    char err[512] = "";
    int rc = -1;
    if (base_bytes(t, ex, side, false, &base)) {
        const uint8_t *p = base.data ? base.data : (const uint8_t *)"";
        switch (t->quick) {
        case 's': {
            char *end;
            long v = strtol(text, &end, 10);
            while (*end == ' ')
                end++;
            rc = edit_set_status(p, base.len, (unsigned)(v < 0 ? 0 : v), *end ? end : NULL, &out,
                                 err, sizeof err);
            break;
        }
        case 'h': {
            const char *colon = strchr(text, ':');
            char name[256];
            snprintf(name, sizeof name, "%.*s", colon ? (int)(colon - text) : 0, text);
            const char *v = colon ? colon + 1 : "";
            while (*v == ' ' || *v == '\t')
                v++;
            rc = colon ? edit_set_header(p, base.len, name, v, &out, err, sizeof err)
                       : (snprintf(err, sizeof err, "expected Name: value"), -1);
            break;
        }
        case 'H': {
            size_t k = 0;
            rc = edit_remove_header(p, base.len, text, &out, &k, err, sizeof err);
            if (rc == 0 && !k)
                rc = (snprintf(err, sizeof err, "no %s field", text), -1);
            break;
        }
        case 'b': {
            uint8_t *b = NULL;
            size_t n = 0;
            if (rules_unescape(text, &b, &n) != 0) {
                snprintf(err, sizeof err, "bad escape (use \\n \\r \\t \\\\ \\xNN)");
                break;
            }
            rc = edit_set_body(p, base.len, b, n, &out, err, sizeof err);
            free(b);
            break;
        }
        case 'B':
            rc = editor_load(text, EDIT_MAX, &body, err, sizeof err) == 0
                     ? edit_set_body(p, base.len, body.data ? body.data : (const uint8_t *)"",
                                     body.len, &out, err, sizeof err)
                     : -1;
            break;
        default: break;
        }
    }
    if (rc == 0)
        stage(t, ex, side, &out, "changed");
    else if (err[0])
        prompt_error(&ui->prompt, err, (size_t)-1);
    dynbuf_cleanup(&base);
    dynbuf_cleanup(&out);
    dynbuf_cleanup(&body);
    return UI_REDRAW;
}

static const char *const QUICK_LABELS[] = {
    ['s'] = "status (e.g. 404, or 299 Custom Reason)",
    ['h'] = "set header (Name: value)",
    ['H'] = "remove header (Name)",
    ['b'] = "body text (\\n \\r \\t \\xNN escapes)",
    ['B'] = "body from file",
    ['d'] = "delivery (delay-head 2s; trickle 16/100ms; split 1,1/50ms; close-after N; "
            "reset-after N)",
};

static unsigned quick_choice(struct ui *ui, int key, void *data)
{
    struct tamper *t = data;
    t->quick = key;
    ui_prompt(ui, QUICK_LABELS[key], NULL, &t->quick_history, NULL, quick_submit, t);
    return UI_REDRAW;
}

static unsigned act_change(struct ui *ui, int arg)
{
    (void)arg;
    struct tamper *t = of(ui);
    struct exchange *ex = selected(ui);
    if (!ex)
        return UI_REDRAW;
    struct intercept_hold *h = hold_of(t, ex, NULL);
    enum side side = edit_side(t, ex);
    struct ui_choice c[6];
    size_t n = 0;
    if (side == SIDE_SERVER)
        c[n++] = (struct ui_choice){'s', "status"};
    c[n++] = (struct ui_choice){'h', "set header"};
    c[n++] = (struct ui_choice){'H', "remove header"};
    c[n++] = (struct ui_choice){'b', "body"};
    c[n++] = (struct ui_choice){'B', "body from file"};
    if (h && answers(t) && side == SIDE_SERVER)
        c[n++] = (struct ui_choice){'d', "delivery"};
    t->prompt_id = ex->id;
    t->prompt_side = (uint8_t)side;
    char q[64];
    snprintf(q, sizeof q, "change the %s of #%llu:", side == SIDE_CLIENT ? "request" : "response",
             (unsigned long long)ex->id);
    ui_choose(ui, q, c, n, quick_choice, t);
    return UI_REDRAW;
}

static unsigned act_diff_layout(struct ui *ui, int arg)
{
    (void)arg;
    ui->detail.diff_split = !ui->detail.diff_split;
    ui->detail.built = false;
    say(ui, "Diff tab: %s", ui->detail.diff_split ? "side by side" : "unified");
    return UI_REDRAW;
}

/* clang-format off */
#define L KEYMAP_LIST
#define S KEYMAP_SPLIT
#define D KEYMAP_DETAIL
/* Every mode: edits for replays, replays, duplicates. */
static const struct keymap_binding FLOW_KEYS[] = {
    {'e', L|S|D, act_edit,       0, "edit",      "edit in $EDITOR: the held message (listen: the answer), else the request for a replay", KEYMAP_IF_FLOW},
    {'c', L|S|D, act_change,     0, NULL,        "quick edit: status, a header, the body, delivery", 0},
    {'V', L|S|D, act_revert,     0, NULL,        "revert the unsent edit", 0},
    {'r', L|S|D, act_replay,     0, "replay",    "replay the request (its staged edit if any) as a new flow", KEYMAP_IF_FLOW},
    {'R', L|S|D, act_edit,       1, NULL,        "edit the request in $EDITOR, then replay it", 0},
    {'D', L|S|D, act_duplicate,  0, NULL,        "duplicate the flow", 0},
    {'u', D,     act_diff_layout, 0, NULL,       "Diff tab: side by side or unified", 0},
};
/* Servers (listen, proxy): holds. */
static const struct keymap_binding HOLD_KEYS[] = {
    {'i', L|S|D, act_intercept,  0, "intercept", "set the intercept filter: matching messages are held (empty: none)", 0},
    {'a', L|S|D, act_accept,     0, "accept",    "release the held flow (with its staged edit)", KEYMAP_IF_FLOW},
    {'A', L|S|D, act_accept_all, 0, NULL,        "release every held flow", 0},
    {'x', L|S|D, act_kill,       0, NULL,        "kill the held flow: reset its connection", 0},
};
/* listen: prepared answers and rules. */
static const struct keymap_binding ANSWER_KEYS[] = {
    {'p', L|S|D, act_pick,       0, NULL,        "answer the held request: echo, default, last crafted, a rule", 0},
    {'S', L|S|D, act_save_rule,  0, NULL,        "save the response (crafted or staged) as a rule", 0},
    {'W', L|S|D, act_write_rules, 0, NULL,       "write the rules back to the --rules file", 0},
    {'T', L|S|D, act_default,    0, NULL,        "default answer: the last crafted response, or back", 0},
};
#undef L
#undef S
#undef D
/* clang-format on */

struct tamper *tamper_new(struct ui *ui, struct hspy *h)
{
    struct tamper *t = xcalloc(1, sizeof *t);
    t->ui = ui;
    t->h = h;
    dynbuf_init(&t->edit.base, EDIT_MAX);
    dynbuf_init(&t->edit.text, EDIT_MAX);
    /* Keys only where they can act, so that the hints and the help say what works here. */
    enum command cmd = h->opt.cmd;
    if (cmd == CMD_LISTEN || cmd == CMD_PROXY)
        ui_add_keys_data(ui, HOLD_KEYS, sizeof HOLD_KEYS / sizeof HOLD_KEYS[0], t);
    ui_add_keys_data(ui, FLOW_KEYS, sizeof FLOW_KEYS / sizeof FLOW_KEYS[0], t);
    if (cmd == CMD_LISTEN)
        ui_add_keys_data(ui, ANSWER_KEYS, sizeof ANSWER_KEYS / sizeof ANSWER_KEYS[0], t);
    return t;
}

void tamper_stop(struct tamper *t)
{
    if (!t)
        return;
    if (t->editor) {
        editor_cancel(t->editor);
        t->editor = NULL;
    }
    if (t->replayer_on)
        replayer_close(&t->replayer);
}

void tamper_free(struct tamper *t)
{
    if (!t)
        return;
    tamper_stop(t);
    if (t->replayer_on) {
        for (int i = 0; i < CLOSE_SPINS && (replayer_busy(&t->replayer) || t->replayer.conns.n);
             i++)
            uv_run(&t->h->loop, UV_RUN_NOWAIT);
        replayer_cleanup(&t->replayer);
    }
    dynbuf_cleanup(&t->edit.base);
    dynbuf_cleanup(&t->edit.text);
    prompt_history_cleanup(&t->intercept_history);
    prompt_history_cleanup(&t->target_history);
    prompt_history_cleanup(&t->quick_history);
    free(t);
}
