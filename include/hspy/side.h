/* side: which peer sent some bytes. Shared by every module that deals with one direction. */
#ifndef HSPY_SIDE_H
#define HSPY_SIDE_H

enum side {
    SIDE_CLIENT = 0, /* client -> server: requests */
    SIDE_SERVER = 1, /* server -> client: responses */
};

#define SIDE_OTHER(s) ((enum side)(1 - (s)))

#endif
