/*
 * relay: one client connection of `hspy proxy` and the upstream connection serving its current
 * request.
 *
 * Requests are handled one at a time, in order: a request head is parsed before any of it is
 * forwarded (so it can be routed, edited as configured and held), then its body streams to the
 * upstream as it arrives; the response streams back the same way once its head is complete.
 * Pipelined requests wait, unread, until the response before them is out. What is forwarded is
 * exactly what the conversation engine consumed, so the recorded exchange and the bytes on the
 * wire agree; everything sent to the client (hspy's own 502 included) is recorded as the
 * server side. Each direction is flow-controlled: a full output queue stops reading from the
 * other side, so memory per relay stays within the queue caps plus one read per side.
 */
#ifndef HSPY_RELAY_H
#define HSPY_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "hspy/conn.h"
#include "hspy/upstream.h"
#include "hspy/side.h"

struct proxy;
struct relay;

/* Takes over an accepted client connection (from the proxy's listener). */
void relay_start(struct proxy *px, struct conn *c);

/*
 * Lets a message held by a proxy hook go on: side SIDE_CLIENT for a request, SIDE_SERVER for a
 * response. While held, a request's body is read into the spool and a response is fed into a
 * buffer (up to --head-max plus --body-keep; then the upstream waits), nothing of either going
 * on. replacement NULL sends the message as it would have gone; otherwise those len bytes are
 * the whole message that goes instead (copied), exactly as given: the received request body
 * (still read to its end) or the rest of the upstream's response (still read to its end) is
 * dropped, and once the received message has ended the exchange shows the bytes sent, flagged
 * edited, with the received ones kept for the diff (edit_replace). After an edited response the
 * client connection closes (its framing was the user's); after an edited request the upstream
 * connection is not reused. A relay with nothing held ignores the call.
 */
void relay_release(struct relay *r, enum side side, const uint8_t *replacement, size_t len);
/* Closes both connections at once with a reset; the exchange in flight, and one whose response
 * is held, are flagged killed with the warning killed saying which message was not delivered. */
void relay_kill(struct relay *r);
/*
 * The upstream pool's on_stray (data: the proxy; tag: the exchange the connection carried last,
 * its store id and its connection and place there). The bytes are recorded as a warning on that
 * exchange when the store still has it, and, without the interface, a line on stderr says so (its
 * own line was written already).
 */
void relay_stray(void *data, const struct upstream_tag *tag, size_t n);

#endif
