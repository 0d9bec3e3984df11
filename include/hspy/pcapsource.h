/*
 * pcapsource: frames from libpcap (a pcap or pcapng file, stdin, or a live interface) fed to the
 * capture pipeline in batches, with load progress. Shared by `hspy read` and `hspy sniff`.
 *
 * A file cut inside a record is decoded up to the cut and then reported; a classic pcap record
 * with an impossible header is skipped by searching for the next plausible record header, and
 * reported. Messages about the input (never fatal once reading started) are kept in
 * struct pcapsource's notes for the caller to show.
 */
#ifndef HSPY_PCAPSOURCE_H
#define HSPY_PCAPSOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hspy/capture.h"
#include "hspy/hspy.h"

enum { PCAPSOURCE_NOTES_MAX = 4, PCAPSOURCE_NOTE_LEN = 256, PCAPSOURCE_ERROR_LEN = 512 };
/* Bytes of the stdio buffer a capture file is read through (stdio's own is 4 KiB: one read
 * system call per 4 KiB cost a tenth of reading a large capture). */
enum { PCAPSOURCE_FILE_BUFFER = 256 << 10 };
#define PCAPSOURCE_SNAPLEN    262144           /* live capture snap length */
#define PCAPSOURCE_RESYNC_MAX ((long)16 << 20) /* bytes searched for a record after corruption */

/*
 * A stream's gate: ready(data, taken) says whether libpcap, having returned `taken` packets,
 * can read the next one without waiting (every byte it will read for it is there, or the input
 * ended). Asked before each packet.
 */
struct pcapsource_gate {
    bool (*ready)(const void *data, uint64_t taken);
    const void *data;
};

struct pcapsource {
    void *pcap;       /* pcap_t (kept opaque so users need no pcap include) */
    FILE *file;       /* the input (files and stdin) */
    char *file_buf;   /* file's stdio buffer (PCAPSOURCE_FILE_BUFFER bytes), NULL for stdin */
    const char *name; /* the path, "stdin", or iface below */
    char iface[256];  /* live: the interface's name */
    int linktype;
    bool live;
    bool seekable; /* a regular file: progress and corruption recovery possible */
    bool swapped;  /* classic pcap written in the other byte order */
    bool classic;  /* classic pcap (not pcapng) */
    uint32_t snaplen;
    int64_t last_ts;
    uint32_t last_sec; /* seconds of the last good record (plausibility of a resync) */
    struct capture cap;
    bool started;
    struct hspy_load *load; /* progress (may point at the session's) */
    struct hspy_load own_load;
    char notes[PCAPSOURCE_NOTES_MAX][PCAPSOURCE_NOTE_LEN];
    unsigned nnotes;
    uint64_t skipped_records;    /* corrupt records skipped */
    bool snaplen_noted;          /* the note on packets cut by the snap length was made */
    struct pcapsource_gate gate; /* streams: asked before each packet; ready NULL otherwise */
    uint64_t taken; /* streams: packets libpcap returned (those --bpf dropped included) */
    void *bpf;      /* streams with --bpf: the compiled filter (struct bpf_program), else NULL */
    /* Why reading stopped before the end of a valid input that hspy cannot read on (a pcapng
     * whose interfaces have different link types); empty when it did not. The caller reports it
     * as an error and exits 1. */
    char error[PCAPSOURCE_ERROR_LEN];
};

/*
 * Opens path ("-" = stdin) as a pcap or pcapng file; name is what messages call it (as for
 * infile_open; NULL: "stdin" or the path). Returns 0, or -1 with "<name>: <why>" in err ("not a
 * pcap or pcapng capture", "link type X is not supported", system errors).
 */
int pcapsource_open_file(struct pcapsource *s, const char *path, const char *name, char *err,
                         size_t errlen);
/*
 * Opens a capture arriving through f, a FILE whose reads never wait (a pump's), named name (the
 * caller's string, kept). gate says when the next packet may be read; a BPF filter is then
 * applied per packet. pcapsource_close closes f. Same contract as pcapsource_open_file; on
 * failure f is closed.
 */
int pcapsource_open_stream(struct pcapsource *s, FILE *f, const char *name,
                           const struct pcapsource_gate *gate, char *err, size_t errlen);
/* Opens a live capture on iface (NULL: the first interface libpcap offers). Same contract. */
int pcapsource_open_live(struct pcapsource *s, const char *iface, char *err, size_t errlen);
/* Applies a BPF filter expression. Returns 0, or -1 with the reason in err. */
int pcapsource_filter(struct pcapsource *s, const char *expr, char *err, size_t errlen);
/* The selectable descriptor of a live capture (non-blocking), or -1. */
int pcapsource_fd(const struct pcapsource *s);

/* Starts the pipeline: cfg's linktype is taken from the input. load may be NULL. */
void pcapsource_start(struct pcapsource *s, const struct capture_config *cfg,
                      struct hspy_load *load);
/*
 * Reads and decodes up to max frames. Returns 1 when more may follow, 0 at the end of the input
 * (or when reading had to stop: see the notes). For live captures, 1 also means "nothing now".
 * stop_on_complete: return early once an exchange completed (so a pipe's output is timely).
 */
int pcapsource_read(struct pcapsource *s, unsigned max, bool stop_on_complete);
/* Ends every connection (their exchanges complete) and closes the input. Idempotent. */
void pcapsource_close(struct pcapsource *s);

#endif
