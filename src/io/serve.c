/*
 * serve owns the static file answers: mapping a target to a file under the root, the checks
 * that keep requests inside it, conditional and range requests, directory listings, and
 * streaming file contents. It never follows a path out of the root and never writes files.
 */
#include "hspy/serve.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hspy/byterange.h"
#include "hspy/httpdate.h"
#include "hspy/mime.h"
#include "hspy/response.h"
#include "hspy/url.h"
#include "hspy/xmalloc.h"

enum { SERVE_LISTING_MAX = 100000 }; /* directory entries listed; more are counted */

int serve_open(struct serve *s, const char *dir, char *err, size_t errlen)
{
    char *real = realpath(dir, NULL);
    struct stat st;
    if (!real || stat(real, &st) != 0) {
        snprintf(err, errlen, "serve %s: %s", dir, strerror(errno));
        free(real);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "serve %s: not a directory", dir);
        free(real);
        return -1;
    }
    s->root = real;
    s->rootlen = strlen(real);
    if (s->rootlen == 1)
        s->rootlen = 0; /* "/": every absolute path lies under it */
    return 0;
}

void serve_close(struct serve *s)
{
    free(s->root);
    s->root = NULL;
}

struct served {
    struct reply base;
    const struct serve *srv;
    struct reply *inner; /* a fixed reply for everything but file contents */
    int fd;
    uint64_t off, left; /* file bytes still to send */
    uint8_t *buf;
    bool ended;
};

/* ---- answers that are not file contents ---- */

static void answer(struct served *s, uint16_t status, const char *const *headers, size_t n,
                   uint8_t *body, size_t len)
{
    struct reply_fixed_spec spec = {status, NULL, headers, n, body, len, true};
    s->inner = reply_fixed_new(&s->base.env, &spec);
    s->inner->ops->done(s->inner);
    s->base.close_after |= s->inner->close_after;
}

static void answer_error(struct served *s, uint16_t status, const char *why)
{
    static const char *const TEXT[] = {"Content-Type: text/plain; charset=utf-8"};
    char *text = xasprintf("%u %s\n", status, why);
    answer(s, status, TEXT, 1, (uint8_t *)text, strlen(text));
}

static void html_escape(struct dynbuf *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': dynbuf_adds(out, "&lt;"); break;
        case '>': dynbuf_adds(out, "&gt;"); break;
        case '&': dynbuf_adds(out, "&amp;"); break;
        case '"': dynbuf_adds(out, "&quot;"); break;
        case '\'': dynbuf_adds(out, "&#39;"); break;
        default: dynbuf_addc(out, (uint8_t)*s);
        }
    }
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void answer_listing(struct served *s, const char *dirpath, const char *urlpath)
{
    DIR *d = opendir(dirpath);
    if (!d) {
        answer_error(s, errno == EACCES ? 403 : 404, errno == EACCES ? "Forbidden" : "Not Found");
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0, more = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (n >= SERVE_LISTING_MAX) {
            more++;
            continue;
        }
        bool isdir = e->d_type == DT_DIR;
        if (e->d_type == DT_UNKNOWN || e->d_type == DT_LNK) {
            struct stat st;
            isdir = fstatat(dirfd(d), e->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode);
        }
        names = xgrow(names, &cap, n + 1, sizeof *names);
        names[n++] = xasprintf("%s%s", e->d_name, isdir ? "/" : "");
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    struct dynbuf html;
    dynbuf_init(&html, (size_t)1 << 30);
    dynbuf_adds(&html,
                "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>Index of ");
    html_escape(&html, urlpath);
    dynbuf_adds(&html, "</title>\n</head>\n<body>\n<h1>Index of ");
    html_escape(&html, urlpath);
    dynbuf_adds(&html, "</h1>\n<hr>\n<ul>\n");
    if (strcmp(urlpath, "/") != 0)
        dynbuf_adds(&html, "<li><a href=\"../\">../</a></li>\n");
    for (size_t i = 0; i < n; i++) {
        struct dynbuf href;
        dynbuf_init(&href, 4 * strlen(names[i]) + 1);
        url_encode_path((const uint8_t *)names[i], strlen(names[i]), &href);
        dynbuf_adds(&html, "<li><a href=\"");
        html_escape(&html, dynbuf_str(&href));
        dynbuf_adds(&html, "\">");
        html_escape(&html, names[i]);
        dynbuf_adds(&html, "</a></li>\n");
        dynbuf_cleanup(&href);
        free(names[i]);
    }
    free(names);
    if (more)
        dynbuf_printf(&html, "<li>(%zu more entries not listed)</li>\n", more);
    dynbuf_adds(&html, "</ul>\n<hr>\n</body>\n</html>\n");
    static const char *const HTML[] = {"Content-Type: text/html; charset=utf-8"};
    size_t len = html.len;
    answer(s, 200, HTML, 1, (uint8_t *)dynbuf_take(&html), len);
}

static void answer_redirect(struct served *s, const struct url_parts *u)
{
    struct dynbuf loc;
    dynbuf_init(&loc, u->path_len + u->query_len + 32);
    dynbuf_adds(&loc, "Location: ");
    dynbuf_append(&loc, u->path, u->path_len);
    dynbuf_addc(&loc, '/');
    if (u->query) {
        dynbuf_addc(&loc, '?');
        dynbuf_append(&loc, u->query, u->query_len);
    }
    /* The target's bytes go into a header: refuse control characters there. */
    for (size_t i = 0; i < loc.len; i++)
        if (loc.data[i] < 0x20 || loc.data[i] == 0x7f)
            loc.data[i] = '_';
    char *line = dynbuf_take(&loc);
    const char *headers[] = {line, "Content-Type: text/plain; charset=utf-8"};
    char *text = xstrdup("301 Moved Permanently\n");
    answer(s, 301, headers, 2, (uint8_t *)text, strlen(text));
    free(line);
}

/* ---- files ---- */

static void file_push(struct served *s)
{
    struct reply *r = &s->base;
    while (s->left && !r->env.full(r->env.data)) {
        size_t want = s->left < REPLY_STEP ? (size_t)s->left : REPLY_STEP;
        ssize_t got = pread(s->fd, s->buf, want, (off_t)s->off);
        if (got <= 0) {
            /* The file shrank or failed under us: the promised length cannot be kept. */
            if (r->env.ex)
                exchange_fail(r->env.ex, 0, "serve: reading the file failed: %s",
                              got < 0 ? strerror(errno) : "file shorter than its size");
            r->close_after = true;
            s->left = 0;
            break;
        }
        sender_body(r->env.sender, s->buf, (size_t)got);
        s->off += (uint64_t)got;
        s->left -= (uint64_t)got;
    }
    if (!s->left && !s->ended) {
        s->ended = true;
        sender_end(r->env.sender);
    }
}

/* Answers 304 when the client's validators say it has this version. */
static bool not_modified(struct served *s, const struct message *req, const char *etag,
                         int64_t mtime)
{
    size_t n;
    const uint8_t *inm = message_header(req, "if-none-match", &n);
    if (inm) {
        bool match = n == 1 && inm[0] == '*';
        size_t el = strlen(etag);
        for (size_t i = 0; !match && i + el <= n; i++)
            match = memcmp(inm + i, etag, el) == 0;
        if (!match)
            return false;
    } else {
        const uint8_t *ims = message_header(req, "if-modified-since", &n);
        int64_t t;
        if (!ims || httpdate_parse((const char *)ims, n, &t) != 0 || mtime > t)
            return false;
    }
    return true;
}

static void serve_file(struct served *s, const char *path, const struct message *req, bool get)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        answer_error(s, e == EACCES ? 403 : 404, e == EACCES ? "Forbidden" : "Not Found");
        return;
    }
    char etag[80], lm[HTTPDATE_LEN], ct[160], cr[128], et[100], lmh[64];
    snprintf(etag, sizeof etag, "\"%" PRIx64 "-%" PRIx64 "\"", (uint64_t)st.st_size,
             (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec);
    httpdate_format(st.st_mtim.tv_sec, lm);
    snprintf(et, sizeof et, "ETag: %s", etag);
    snprintf(lmh, sizeof lmh, "Last-Modified: %s", lm);
    snprintf(ct, sizeof ct, "Content-Type: %s", mime_type(path));
    if (not_modified(s, req, etag, st.st_mtim.tv_sec)) {
        close(fd);
        const char *h[] = {et, lmh};
        answer(s, 304, h, 2, NULL, 0);
        return;
    }
    uint64_t size = (uint64_t)st.st_size, start = 0, len = size;
    uint16_t status = 200;
    size_t rn;
    const uint8_t *range = get ? message_header(req, "range", &rn) : NULL;
    size_t irn;
    const uint8_t *ifr = message_header(req, "if-range", &irn);
    if (range && ifr && !(irn == strlen(etag) && memcmp(ifr, etag, irn) == 0))
        range = NULL; /* the client's copy is stale: send everything */
    cr[0] = '\0';
    if (range) {
        enum byterange_result br = byterange_parse(range, rn, size, &start, &len);
        if (br == BYTERANGE_UNSATISFIABLE) {
            close(fd);
            snprintf(cr, sizeof cr, "Content-Range: bytes */%" PRIu64, size);
            const char *h[] = {cr, "Content-Type: text/plain; charset=utf-8"};
            char *text = xstrdup("416 Range Not Satisfiable\n");
            answer(s, 416, h, 2, (uint8_t *)text, strlen(text));
            return;
        }
        if (br == BYTERANGE_OK) {
            status = 206;
            snprintf(cr, sizeof cr, "Content-Range: bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, start,
                     start + len - 1, size);
        } else {
            start = 0;
            len = size;
        }
    }
    const char *h[] = {ct, lmh, et, "Accept-Ranges: bytes", cr};
    struct reply *r = &s->base;
    s->fd = fd;
    s->off = start;
    s->left = r->env.head_request ? 0 : len;
    s->buf = xmalloc(REPLY_STEP);
    struct response_spec rs = {
        .status = status,
        .headers = h,
        .nheaders = cr[0] ? 5u : 4u,
        .date = r->env.date,
        .framing = RESPONSE_NO_BODY, /* the length is stated; the body follows from the file */
        .has_length = true,
        .length = len,
        .close = r->env.close,
        .keep_alive = r->env.keep_alive10 && !r->env.close,
    };
    struct dynbuf *head = r->env.scratch;
    dynbuf_reset(head);
    response_head(head, &rs);
    if (!r->env.http09)
        sender_head(r->env.sender, head->data, head->len);
    else
        r->close_after = true;
    file_push(s);
}

/* Under the root: the root itself or a path below it. */
static bool inside(const struct serve *srv, const char *real)
{
    return strncmp(real, srv->root, srv->rootlen) == 0 &&
           (real[srv->rootlen] == '/' || real[srv->rootlen] == '\0');
}

/* The real path of an existing file under the root, or NULL with the status to answer. */
static char *locate(const struct serve *srv, const char *rel, uint16_t *status)
{
    char *joined = xasprintf("%s/%s", srv->rootlen ? srv->root : "", rel);
    char *real = realpath(joined, NULL);
    int e = errno;
    free(joined);
    if (!real) {
        *status = e == EACCES ? 403 : 404;
        return NULL;
    }
    if (!inside(srv, real)) {
        /* A symlink leads out of the root. */
        free(real);
        *status = 403;
        return NULL;
    }
    return real;
}

static void serve_done(struct reply *r)
{
    struct served *s = (struct served *)r;
    const struct exchange *ex = r->env.ex;
    if (!ex || !(ex->req.flags & MSG_HEAD)) {
        answer_error(s, 400, "Bad Request");
        return;
    }
    const struct message *req = &ex->req;
    const uint8_t *base = message_head_base(req);
    bool get = http_span_eq(base, req->head.method, "GET");
    if (!get && !r->env.head_request) {
        static const char *const H[] = {"Allow: GET, HEAD",
                                        "Content-Type: text/plain; charset=utf-8"};
        char *text = xstrdup("405 Method Not Allowed\n");
        answer(s, 405, H, 2, (uint8_t *)text, strlen(text));
        return;
    }
    struct url_parts u;
    url_split(message_at(req, req->head.target), req->head.target.len, &u);
    struct dynbuf rel;
    dynbuf_init(&rel, u.path_len + 1);
    bool slash = false;
    enum url_path_result pr = url_path_clean(u.path, u.path_len, &rel, &slash);
    if (pr != URL_PATH_OK) {
        dynbuf_cleanup(&rel);
        if (ex && pr == URL_PATH_TRAVERSAL)
            r->env.ex->note = arena_strdup(&r->env.ex->arena, "serve: '..' in path refused");
        answer_error(s, pr == URL_PATH_TRAVERSAL ? 403 : 400,
                     pr == URL_PATH_TRAVERSAL ? "Forbidden" : "Bad Request");
        return;
    }
    uint16_t status = 404;
    char *real = locate(s->srv, dynbuf_str(&rel), &status);
    dynbuf_cleanup(&rel);
    if (!real) {
        if (status == 403 && r->env.ex)
            r->env.ex->note =
                arena_strdup(&r->env.ex->arena, "serve: path leads outside the directory");
        answer_error(s, status, status == 403 ? "Forbidden" : "Not Found");
        return;
    }
    struct stat st;
    if (stat(real, &st) == 0 && S_ISDIR(st.st_mode)) {
        if (!slash && u.path_len > 0) {
            answer_redirect(s, &u);
        } else {
            char *index = xasprintf("%s/index.html", real);
            uint16_t ist;
            char *ireal = locate(s->srv, index + (s->srv->rootlen ? s->srv->rootlen + 1 : 1), &ist);
            struct stat is;
            if (ireal && stat(ireal, &is) == 0 && S_ISREG(is.st_mode)) {
                serve_file(s, ireal, req, get);
            } else {
                struct dynbuf path;
                dynbuf_init(&path, u.path_len + 1);
                url_decode(u.path, u.path_len, 0, &path);
                answer_listing(s, real, dynbuf_str(&path));
                dynbuf_cleanup(&path);
            }
            free(ireal);
            free(index);
        }
    } else {
        serve_file(s, real, req, get);
    }
    free(real);
}

static void serve_room(struct reply *r)
{
    struct served *s = (struct served *)r;
    if (s->inner) {
        s->inner->ops->room(s->inner);
        r->close_after |= s->inner->close_after;
    } else if (s->fd >= 0) {
        file_push(s);
    }
}

static void serve_free(struct reply *r)
{
    struct served *s = (struct served *)r;
    reply_free(s->inner);
    if (s->fd >= 0)
        close(s->fd);
    free(s->buf);
    free(s);
}

static const struct reply_ops SERVE_OPS = {"serve", serve_done, NULL, serve_room, serve_free};

struct reply *reply_serve_new(const struct reply_env *env, const struct serve *srv)
{
    struct served *s = xcalloc(1, sizeof *s);
    s->base.ops = &SERVE_OPS;
    s->base.env = *env;
    s->srv = srv;
    s->fd = -1;
    return &s->base;
}
