/*
 * xmalloc: the one way hspy allocates. Out of memory is not recoverable here: these print
 * "hspy: out of memory" and call exit(1), so atexit handlers (the UI's terminal restore) run.
 * They never return NULL.
 */
#ifndef HSPY_XMALLOC_H
#define HSPY_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/* Grows an array of count elements of size each to at least need elements; returns it. */
void *xgrow(void *p, size_t *count, size_t need, size_t size);
/* Returns p; a NULL p (a library's allocation failure, e.g. jansson's) is out of memory. */
void *xnonnull(void *p);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
