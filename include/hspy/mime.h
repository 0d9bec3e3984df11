/*
 * mime: Content-Type for a file name, by extension (case-insensitive), from a fixed table of
 * the types a developer's static files usually have.
 */
#ifndef HSPY_MIME_H
#define HSPY_MIME_H

/* The media type for name's extension; "application/octet-stream" when unknown. Static. */
const char *mime_type(const char *name);

#endif
