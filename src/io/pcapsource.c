/*
 * pcapsource owns a libpcap handle and the capture pipeline it feeds: opening files, stdin,
 * streams fed through a gate (a pipe's pump) and interfaces, BPF filters, batched reading with
 * progress, and recovery from damaged files. It never draws and never prints: problems with the
 * input become notes for the caller.
 */
#include "hspy/pcapsource.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hspy/infile.h"
#include "hspy/packet.h"
#include "hspy/plural.h"
#include "hspy/xmalloc.h"

/* What libpcap says of a file whose first bytes are no capture format it knows. */
#define PCAPSOURCE_UNKNOWN_FORMAT "unknown file format"

static pcap_t *P(const struct pcapsource *s)
{
    return s->pcap;
}

static void note(struct pcapsource *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct pcapsource *s, const char *fmt, ...)
{
    if (s->nnotes >= PCAPSOURCE_NOTES_MAX)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->notes[s->nnotes++], PCAPSOURCE_NOTE_LEN, fmt, ap);
    va_end(ap);
}

static uint32_t rd32(const uint8_t *p, bool swapped)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swapped ? __builtin_bswap32(v) : v;
}

/* Checks the link type; fills err when hspy cannot decode it. */
static int check_link(struct pcapsource *s, char *err, size_t errlen)
{
    s->linktype = pcap_datalink(P(s));
    if (packet_link_supported(s->linktype))
        return 0;
    const char *name = pcap_datalink_val_to_name(s->linktype);
    const char *desc = pcap_datalink_val_to_description(s->linktype);
    snprintf(err, errlen, "%s: link type %s (%s, %d) is not supported", s->name, name ? name : "?",
             desc ? desc : "unknown", s->linktype);
    return -1;
}

/* Opens the savefile in s->file; on failure closes what it opened (never stdin). */
static int open_offline(struct pcapsource *s, char *err, size_t errlen)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    s->pcap = pcap_fopen_offline_with_tstamp_precision(s->file, PCAP_TSTAMP_PRECISION_NANO, ebuf);
    if (!s->pcap) {
        /* libpcap names a header it recognised but cannot read (cut short, an unknown
         * version); for anything else it says only that the format is unknown. */
        if (ebuf[0] && strcmp(ebuf, PCAPSOURCE_UNKNOWN_FORMAT) != 0)
            snprintf(err, errlen, "%s: damaged or unsupported capture: %s", s->name, ebuf);
        else
            snprintf(err, errlen, "%s: not a pcap, pcapng or HAR file", s->name);
        if (s->file != stdin)
            fclose(s->file);
        s->file = NULL;
        free(s->file_buf);
        s->file_buf = NULL;
        return -1;
    }
    s->swapped = pcap_is_swapped(P(s));
    s->snaplen = (uint32_t)pcap_snapshot(P(s));
    /* Classic pcap: the version is 2.4; pcapng files report 1.0. */
    s->classic = pcap_major_version(P(s)) == 2;
    if (check_link(s, err, errlen) < 0) {
        pcapsource_close(s);
        return -1;
    }
    return 0;
}

int pcapsource_open_file(struct pcapsource *s, const char *path, const char *name, char *err,
                         size_t errlen)
{
    memset(s, 0, sizeof *s);
    struct infile in;
    if (infile_open(&in, path, name, err, errlen) < 0)
        return -1;
    s->file = in.file;
    s->name = in.name;
    s->seekable = in.seekable;
    if (s->file != stdin) {
        /* Before the first read, as stdio requires; stdin may have been read already. */
        s->file_buf = xmalloc(PCAPSOURCE_FILE_BUFFER);
        setvbuf(s->file, s->file_buf, _IOFBF, PCAPSOURCE_FILE_BUFFER);
    }
    s->own_load.file_size = in.size;
    return open_offline(s, err, errlen);
}

int pcapsource_open_stream(struct pcapsource *s, FILE *f, const char *name,
                           const struct pcapsource_gate *gate, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->file = f;
    s->name = name;
    s->gate = *gate;
    return open_offline(s, err, errlen);
}

static const char *default_iface(char *buf, size_t len, char *ebuf)
{
    pcap_if_t *all = NULL;
    if (pcap_findalldevs(&all, ebuf) < 0 || !all)
        return NULL;
    snprintf(buf, len, "%s", all->name);
    pcap_freealldevs(all);
    return buf;
}

static void live_error(pcap_t *p, int rc, const char *iface, char *err, size_t errlen)
{
    if (rc == PCAP_ERROR_PERM_DENIED || rc == PCAP_ERROR_PROMISC_PERM_DENIED)
        snprintf(err, errlen,
                 "%s: permission denied: capturing needs root or the CAP_NET_RAW capability",
                 iface);
    else if (rc == PCAP_ERROR_NO_SUCH_DEVICE)
        snprintf(err, errlen, "%s: no such interface (see 'ip link')", iface);
    else
        snprintf(err, errlen, "%s: %s", iface, pcap_geterr(p));
}

int pcapsource_open_live(struct pcapsource *s, const char *iface, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    static const char any[] = "any";
    char first[256];
    if (!iface)
        iface = default_iface(first, sizeof first, ebuf);
    if (!iface)
        iface = any;
    snprintf(s->iface, sizeof s->iface, "%s", iface);
    iface = s->name = s->iface;
    s->live = true;
    pcap_t *p = pcap_create(iface, ebuf);
    if (!p) {
        snprintf(err, errlen, "%s: %s", iface, ebuf);
        return -1;
    }
    pcap_set_snaplen(p, PCAPSOURCE_SNAPLEN);
    pcap_set_promisc(p, 1);
    pcap_set_timeout(p, 100);
    pcap_set_immediate_mode(p, 1);
    pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);
    int rc = pcap_activate(p);
    if (rc < 0) {
        live_error(p, rc, iface, err, errlen);
        pcap_close(p);
        return -1;
    }
    s->pcap = p;
    if (pcap_setnonblock(p, 1, ebuf) < 0) {
        snprintf(err, errlen, "%s: %s", iface, ebuf);
        pcapsource_close(s);
        return -1;
    }
    if (check_link(s, err, errlen) < 0) {
        pcapsource_close(s);
        return -1;
    }
    return 0;
}

int pcapsource_filter(struct pcapsource *s, const char *expr, char *err, size_t errlen)
{
    struct bpf_program prog;
    if (pcap_compile(P(s), &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
        snprintf(err, errlen, "filter '%s': %s", expr, pcap_geterr(P(s)));
        return -1;
    }
    if (s->gate.ready) {
        /* libpcap's own filter reads on past a packet it rejects, maybe into bytes that have not
         * arrived: a gated source filters each packet itself. */
        s->bpf = xmalloc(sizeof prog);
        memcpy(s->bpf, &prog, sizeof prog);
        return 0;
    }
    int rc = pcap_setfilter(P(s), &prog);
    pcap_freecode(&prog);
    if (rc < 0) {
        snprintf(err, errlen, "filter '%s': %s", expr, pcap_geterr(P(s)));
        return -1;
    }
    return 0;
}

int pcapsource_fd(const struct pcapsource *s)
{
    return s->live ? pcap_get_selectable_fd(P(s)) : -1;
}

void pcapsource_start(struct pcapsource *s, const struct capture_config *cfg,
                      struct hspy_load *load)
{
    struct capture_config c = *cfg;
    c.linktype = s->linktype;
    capture_init(&s->cap, &c);
    s->started = true;
    if (load) {
        uint64_t size = s->own_load.file_size;
        s->load = load;
        memset(load, 0, sizeof *load);
        load->file_size = size;
    } else {
        s->load = &s->own_load;
    }
    s->load->active = true;
}

static void update_load(struct pcapsource *s)
{
    struct hspy_load *l = s->load;
    l->packets = s->cap.counters.packets;
    l->connections = s->cap.counters.connections;
    l->evicted = s->cap.flows.counters.evicted;
    l->gaps = s->cap.flows.counters.gaps;
    if (s->seekable) {
        long pos = ftell(s->file);
        if (pos > 0)
            l->bytes_read = (uint64_t)pos;
    }
}

/*
 * A classic pcap record header is plausible when its lengths fit the snap length and each
 * other and its time is within a day of the last good record.
 */
static bool plausible(const struct pcapsource *s, const uint8_t *h)
{
    uint32_t sec = rd32(h, s->swapped), frac = rd32(h + 4, s->swapped);
    uint32_t cap = rd32(h + 8, s->swapped), len = rd32(h + 12, s->swapped);
    uint32_t snap = s->snaplen ? s->snaplen : PCAPSOURCE_SNAPLEN;
    if (frac >= 1000000000u || cap > len || cap > snap || cap > PCAPSOURCE_SNAPLEN || len == 0)
        return false;
    if (len > (1u << 18))
        return false;
    uint32_t d = sec > s->last_sec ? sec - s->last_sec : s->last_sec - sec;
    return s->last_sec == 0 || d < 86400;
}

/*
 * After a classic pcap record with an impossible header: searches forward for the next
 * plausible header followed by another plausible header (or the end of the file), and positions
 * the file there so libpcap goes on reading. Returns true when found.
 */
static bool resync(struct pcapsource *s)
{
    if (!s->classic || !s->seekable)
        return false;
    long start = ftell(s->file);
    if (start < 0)
        return false;
    enum { WIN = 1 << 20 };
    uint8_t *buf = xmalloc(WIN + 16);
    bool found = false;
    for (long base = start - 15; base < start + PCAPSOURCE_RESYNC_MAX && !found; base += WIN) {
        if (base < 24 || fseek(s->file, base, SEEK_SET) != 0)
            base = 24, fseek(s->file, base, SEEK_SET);
        size_t n = fread(buf, 1, WIN + 16, s->file);
        if (n < 16)
            break;
        for (size_t i = 0; i + 16 <= n && !found; i++) {
            if (base + (long)i <= start - 16 || !plausible(s, buf + i))
                continue;
            uint32_t cap = rd32(buf + i + 8, s->swapped);
            size_t next = i + 16 + cap;
            if (next + 16 <= n ? plausible(s, buf + next) : next == n && n < WIN + 16) {
                found = fseek(s->file, base + (long)i, SEEK_SET) == 0;
            }
        }
        if (n < WIN + 16)
            break;
    }
    free(buf);
    return found;
}

/* A link type's name for a message. */
static const char *link_name(int linktype)
{
    const char *name = pcap_datalink_val_to_name(linktype);
    return name ? name : "?";
}

/* libpcap stopped with an error: note it, and go on when the file can be resynchronised. */
static int read_error(struct pcapsource *s)
{
    const char *msg = pcap_geterr(P(s));
    uint64_t n = s->cap.counters.packets;
    if (strstr(msg, strerror(EINTR)))
        return 0; /* a signal ends the reading: the reader's owner says so, not a file error */
    const char *other = strstr(msg, "has a type ");
    if (other && strstr(msg, "different from the type of the first interface")) {
        /* A valid pcapng that libpcap's reader refuses: not damage, and nothing after it can be
         * read. */
        int type = atoi(other + strlen("has a type "));
        snprintf(s->error, sizeof s->error,
                 "%s: its interfaces have different link types (%s, then %s), which libpcap's "
                 "reader does not support; the %llu %s before %s decoded, the rest was "
                 "not read: split the file by interface (editcap, or tshark -Y "
                 "frame.interface_id==N) and read each part",
                 s->name, link_name(s->linktype), link_name(type), (unsigned long long)n,
                 plural(n, "packet", "packets"), plural(n, "was", "were"));
        return 0;
    }
    if (strstr(msg, "truncated")) {
        note(s,
             "%s: the file is cut short inside a record; the %llu %s before the cut "
             "%s decoded",
             s->name, (unsigned long long)n, plural(n, "packet", "packets"),
             plural(n, "was", "were"));
        return 0;
    }
    if (resync(s)) {
        s->skipped_records++;
        if (s->skipped_records == 1)
            note(s, "%s: corrupt record after packet %llu (%s) skipped", s->name,
                 (unsigned long long)n, msg);
        return 1;
    }
    note(s, "%s: corrupt record after packet %llu (%s); reading stopped there", s->name,
         (unsigned long long)n, msg);
    return 0;
}

/*
 * At the end: packets cut by the snap length are said once, with how much they lost, and where
 * they were cut when that was one size (a snap length; the file header's may say another).
 */
static void note_snaplen(struct pcapsource *s)
{
    const struct capture_counters *k = &s->cap.counters;
    if (k->snaplen == 0 || s->snaplen_noted)
        return;
    s->snaplen_noted = true;
    char at[64] = "short";
    if (k->snaplen_min == k->snaplen_max)
        snprintf(at, sizeof at, "at %llu bytes", (unsigned long long)k->snaplen_min);
    note(s,
         "%s: %llu %s cut %s (the capture's snap length): %llu %s of TCP payload "
         "%s missing; capture with a larger -s (tcpdump -s 0) to have them",
         s->name, (unsigned long long)k->snaplen, plural(k->snaplen, "packet was", "packets were"),
         at, (unsigned long long)k->snaplen_bytes, plural_bytes(k->snaplen_bytes),
         plural(k->snaplen_bytes, "is", "are"));
}

int pcapsource_read(struct pcapsource *s, unsigned max, bool stop_on_complete)
{
    if (!s->pcap)
        return 0;
    uint64_t completed = s->cap.cfg.store->counters.completed;
    int more = 1;
    for (unsigned i = 0; i < max; i++) {
        struct pcap_pkthdr *hdr;
        const u_char *data;
        if (s->gate.ready && !s->gate.ready(s->gate.data, s->taken))
            break; /* the next packet has not arrived whole: libpcap would wait for it */
        int rc = pcap_next_ex(P(s), &hdr, &data);
        s->taken += rc == 1;
        if (rc == 1 && s->bpf && !pcap_offline_filter(s->bpf, hdr, data))
            continue;
        if (rc == 1) {
            int64_t ts = (int64_t)hdr->ts.tv_sec * 1000000000 + hdr->ts.tv_usec;
            s->last_ts = ts;
            s->last_sec = (uint32_t)hdr->ts.tv_sec;
            capture_packet(&s->cap, data, hdr->caplen, hdr->len, ts);
            if (stop_on_complete && s->cap.cfg.store->counters.completed != completed)
                break;
            continue;
        }
        if (rc == 0) /* live: nothing right now */
            break;
        if (rc == PCAP_ERROR_BREAK) {
            more = 0;
            break;
        }
        more = read_error(s);
        if (!more)
            break;
    }
    update_load(s);
    if (!more)
        note_snaplen(s);
    if (s->skipped_records > 1 && s->nnotes > 0 && !more)
        note(s, "%s: %llu corrupt records skipped in all", s->name,
             (unsigned long long)s->skipped_records);
    return more;
}

void pcapsource_close(struct pcapsource *s)
{
    if (s->bpf) {
        pcap_freecode(s->bpf);
        free(s->bpf);
        s->bpf = NULL;
    }
    if (s->started) {
        capture_cleanup(&s->cap, s->last_ts);
        s->started = false;
        update_load(s);
        s->load->done = true;
        s->load->active = false;
    }
    if (s->pcap) {
        /* pcap_close closes the FILE it was given; stdin must stay open for the process. */
        if (s->file == stdin)
            s->file = NULL;
        pcap_close(P(s));
        s->pcap = NULL;
        s->file = NULL;
    }
    if (s->file && s->file != stdin)
        fclose(s->file);
    s->file = NULL;
    free(s->file_buf); /* only once the FILE using it is closed */
    s->file_buf = NULL;
}
