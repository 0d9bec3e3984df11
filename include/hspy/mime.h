/*
 * mime: Content-Type for a file name, by extension (case-insensitive), from a fixed table of
 * the types a developer's static files usually have.
 */
#ifndef HSPY_MIME_H
#define HSPY_MIME_H

/* The media type for name's extension; "application/octet-stream" when unknown. Static. */
const char *mime_type(const char *name);
/* The usual extension for a media type (a Content-Type value, parameters and case ignored):
 * the first of the table's with that type ("application/json" -> "json"); NULL when the table
 * has none (application/octet-stream among them). Static. */
const char *mime_extension(const char *content_type);

#endif
