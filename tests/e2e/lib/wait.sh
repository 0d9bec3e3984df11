# Bounded waits for the end-to-end and stress scripts (sourced by common.sh and listen.sh, not a
# test). A script waits for what it can observe (a line in a file, a process gone, a socket
# read, a capture open), never for a fixed time: on a quick machine the wait ends at once, on a
# loaded one it lasts as long as the outcome takes. The bound only matters when the outcome
# never comes; the wait then returns 1 and the check after it, which judges what was recorded,
# fails as it would have.
#
#   wait_until SECONDS COMMAND...  runs COMMAND every WAIT_POLL_S until it succeeds, for at most
#                                  SECONDS (whole seconds, on the clock: a slow COMMAND does not
#                                  stretch the bound); one last try after that; 0 or 1
#   at_least N COMMAND...          COMMAND prints a number that is N or more
#   ended PID                      no process PID, or only its zombie
#   socket_drained PORT N          N or more established TCP connections whose local port is
#                                  PORT, and none with bytes not read yet (the server has read
#                                  what its clients sent)
#   capturing PID                  process PID holds a running packet socket (its live capture
#                                  is open: packets from now on reach it, those that came before
#                                  its filter is set are filtered as they are read)
#   capture_closed FILE            the capture FILE (tcpdump -w) holds a FIN from each side of
#                                  every connection it saw start (a SYN without ACK)

WAIT_POLL_S=0.05

wait_until() {
    local limit=$1 now end
    shift
    # EPOCHREALTIME is seconds.microseconds; the separator follows the locale.
    now=${EPOCHREALTIME//[.,]/}
    end=$((now + limit * 1000000))
    while :; do
        "$@" && return 0
        now=${EPOCHREALTIME//[.,]/}
        [ "$now" -ge "$end" ] && break
        sleep "$WAIT_POLL_S"
    done
    "$@"
}

at_least() {
    local n=$1 got
    shift
    got=$("$@" 2>/dev/null)
    [[ $got =~ ^[0-9]+$ ]] && [ "$got" -ge "$n" ]
}

ended() {
    local state
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)
    [ -z "$state" ] || [ "$state" = Z ]
}

socket_drained() {
    ss -Htn state established "( sport = :$1 )" 2>/dev/null |
        awk -v n="$2" '{ all++; if ($1 != 0) unread++ } END { exit !(all >= n && !unread) }'
}

capturing() {
    local link inodes=""
    for link in /proc/"$1"/fd/*; do
        link=$(readlink "$link" 2>/dev/null) || continue
        case $link in socket:*) inodes="$inodes ${link//[^0-9]/}" ;; esac
    done
    [ -n "$inodes" ] || return 1
    # A socket counts once it is bound to a protocol and running (columns Proto and R): before
    # that it receives nothing.
    awk -v want="$inodes" 'BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) s[w[i]] = 1 }
        NR > 1 && ($NF in s) && $4 != "0000" && $6 == 1 { found = 1 } END { exit !found }' /proc/net/packet
}

capture_closed() {
    local syns fins
    syns=$(tcpdump -nr "$1" 'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn' 2>/dev/null | wc -l)
    fins=$(tcpdump -nr "$1" 'tcp[tcpflags] & tcp-fin != 0' 2>/dev/null | wc -l)
    [ "$syns" -gt 0 ] && [ "$fins" -ge $((2 * syns)) ]
}
