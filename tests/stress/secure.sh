#!/usr/bin/env bash
# Secure defaults: servers bind loopback unless told otherwise and warn when an address is
# reachable from the network; --serve never answers with a file outside its folder, however the
# path is spelled; request data never reaches a shell through --exec (or --exec-shell); hspy
# leaves no file of its own behind in $TMPDIR.
. "$(dirname "$0")/lib/common.sh"
command -v ss >/dev/null || skip "ss (iproute2) is not installed"
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"

scene bind "where servers listen, and what they say about it"
hs_start bind-default listen 0
bound=$(ss -Hltn "sport = :$HS_PORT" | awk '{print $4}' | tr '\n' ' ')
check "PORT alone binds 127.0.0.1 only ($bound)" test "$bound" = "127.0.0.1:$HS_PORT "
other=$(hostname -I 2>/dev/null | awk '{print $1}')
if [ -n "$other" ]; then
    check "not reachable on $other" test "$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://$other:$HS_PORT/")" = 000
fi
check "no warning for loopback" test -z "$(grep warning "$WORK/bind-default.err")"
hs_stop "$HS_PID" bind-default
warned=0 quiet=0
for addr in 0.0.0.0 "[::]" ${other:+"$other"}; do
    hs_start bind-public listen "$addr:0"
    if grep -q "warning: .*reachable from the network" "$WORK/bind-public.err"; then
        warned=$((warned + 1))
    else
        fail "no warning when bound to $addr"
    fi
    hs_stop "$HS_PID" bind-public
done
for addr in 127.0.0.1 "[::1]" localhost; do
    hs_start bind-local listen "$addr:0"
    grep -q warning "$WORK/bind-local.err" && fail "a warning for $addr" || quiet=$((quiet + 1))
    hs_stop "$HS_PID" bind-local
done
sent "listen 0, then 0.0.0.0, [::]${other:+, $other}, then 127.0.0.1, [::1], localhost"
back "default bound to $bound; public addresses warned: $warned; loopback addresses quiet: $quiet"
verdict

scene serve "--serve: traversal in every spelling, symbolic links out of the folder"
mkdir -p "$WORK/site/root/sub" "$WORK/site/outside"
echo "SECRET-$$-OUTSIDE" >"$WORK/site/outside/secret.txt"
echo "inside" >"$WORK/site/root/sub/page.txt"
ln -s "$WORK/site/outside" "$WORK/site/root/link-out"
ln -s "$WORK/site/outside/secret.txt" "$WORK/site/root/link-file"
hs_start serve listen --json --serve "$WORK/site/root" 0
stress traversal "$HS_PORT" secret.txt "SECRET-$$-OUTSIDE" >"$WORK/traversal.json"
inside=$(curl -s --max-time 5 "http://127.0.0.1:$HS_PORT/sub/page.txt")
sent "$(lastjson "$WORK/traversal.json" targets) request targets aiming outside the folder"
back "statuses $(lastjson "$WORK/traversal.json" statuses); answers holding a file from outside: $(lastjson "$WORK/traversal.json" leaked) $(lastjson "$WORK/traversal.json" leaks)"
mem "$HS_PID"
check "nothing from outside the folder was served" test "$(lastjson "$WORK/traversal.json" leaked)" = 0
check "files inside are still served" test "$inside" = inside
hs_stop "$HS_PID" serve
verdict

scene exec "--exec and --exec-shell given shell metacharacters in every part of the request"
# A control: the payloads do create their files when a shell evaluates them.
sh -c "echo \$(touch $WORK/control-a) \`touch $WORK/control-b\`" >/dev/null
check "control: a shell would act on the payloads" test -e "$WORK/control-a" -a -e "$WORK/control-b"
cat >"$WORK/handler.sh" <<'SH'
#!/bin/sh
echo "Content-Type: text/plain"
echo
echo "argc=$# args=$*"
cat >/dev/null
SH
chmod +x "$WORK/handler.sh"
hs_start exec listen --json --exec "$WORK/handler.sh fixed 'two words'" 0
stress shellmeta "$HS_PORT" "$WORK/pwned" >"$WORK/shell.exec.json"
args=$(curl -s --max-time 5 "http://127.0.0.1:$HS_PORT/x%24(id)?q=%60id%60" -H 'X-A: $(id)')
hs_stop "$HS_PID" exec
hs_start exec-shell listen --json --exec-shell --exec 'echo "Content-Type: text/plain"; echo; echo "$HTTP_X_EVIL|$QUERY_STRING|$HTTP_COOKIE|$CONTENT_TYPE|$PATH_INFO|$HTTP_HOST"; cat' 0
stress shellmeta "$HS_PORT" "$WORK/pwned" >"$WORK/shell.sh.json"
hs_stop "$HS_PID" exec-shell
sent "$(lastjson "$WORK/shell.exec.json" requests) requests to --exec and $(lastjson "$WORK/shell.sh.json" requests) to --exec-shell, $(lastjson "$WORK/shell.exec.json" payloads) payloads in the target, query, header names and values, cookies, Host and body"
back "statuses $(lastjson "$WORK/shell.exec.json" statuses) and $(lastjson "$WORK/shell.sh.json" statuses); the command saw: $args"
check "no payload ran (no $WORK/pwned-* file)" test -z "$(ls "$WORK"/pwned-* 2>/dev/null)"
check "the command's arguments are exactly the configured ones" test "$args" = "argc=2 args=fixed two words"
check "every request answered" test "$(lastjson "$WORK/shell.exec.json" statuses)$(lastjson "$WORK/shell.sh.json" statuses)" = '{"200": 48}{"200": 48}'
verdict

scene tmpfiles "files hspy leaves in \$TMPDIR after every run of this scenario"
left=$(find "$TMPDIR" -mindepth 1 | head -5)
sent "TMPDIR=$TMPDIR for every hspy started above"
back "${left:-nothing left}"
check "TMPDIR is empty" test -z "$left"
verdict

finish
