/*
 * client: one connection of `hspy listen`, from accept to close. It reads requests into the
 * conversation engine, answers each with a reply from the server's answer table (listen.h),
 * writes the replies through a sender and records every byte it sends as the server side of
 * the exchanges. It frees itself when the connection is closed.
 */
#ifndef HSPY_CLIENT_H
#define HSPY_CLIENT_H

struct conn;
struct listen;

/* Takes over an accepted connection (which must not have been started). */
void client_start(struct listen *l, struct conn *c);

#endif
