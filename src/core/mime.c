/*
 * mime owns the extension -> media type table. It never looks at file contents.
 */
#include "hspy/mime.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

struct mime_row {
    const char *ext;
    const char *type;
};

static const struct mime_row MIME_TYPES[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"xml", "application/xml"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/vnd.microsoft.icon"},
    {"bmp", "image/bmp"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    {"wasm", "application/wasm"},
    {"pdf", "application/pdf"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"tgz", "application/gzip"},
    {"tar", "application/x-tar"},
    {"zst", "application/zstd"},
    {"br", "application/octet-stream"},
    {"mp3", "audio/mpeg"},
    {"ogg", "audio/ogg"},
    {"wav", "audio/wav"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"pcap", "application/vnd.tcpdump.pcap"},
    {"har", "application/json"},
    {"yaml", "application/yaml"},
    {"yml", "application/yaml"},
    {"sh", "text/x-shellscript; charset=utf-8"},
    {"c", "text/x-c; charset=utf-8"},
    {"h", "text/x-c; charset=utf-8"},
    {"py", "text/x-python; charset=utf-8"},
};

const char *mime_type(const char *name)
{
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    const char *dot = strrchr(base, '.');
    if (dot && dot != base) {
        for (size_t i = 0; i < sizeof MIME_TYPES / sizeof MIME_TYPES[0]; i++)
            if (strcasecmp(dot + 1, MIME_TYPES[i].ext) == 0)
                return MIME_TYPES[i].type;
    }
    return "application/octet-stream";
}

/* type[0..len) and the table's type up to its parameters are the same media type. */
static bool same_type(const char *type, size_t len, const char *row)
{
    size_t rlen = strcspn(row, ";");
    return len == rlen && strncasecmp(type, row, len) == 0;
}

const char *mime_extension(const char *content_type)
{
    const char *t = content_type + strspn(content_type, " \t");
    size_t len = strcspn(t, "; \t");
    if (len == 0 || same_type(t, len, "application/octet-stream"))
        return NULL;
    for (size_t i = 0; i < sizeof MIME_TYPES / sizeof MIME_TYPES[0]; i++)
        if (same_type(t, len, MIME_TYPES[i].type))
            return MIME_TYPES[i].ext;
    return NULL;
}
