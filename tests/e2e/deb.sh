#!/usr/bin/env bash
# The Debian package as a user gets it: `cpack -G DEB` builds hspy_<version>_<arch>.deb, its
# control fields are checked (every shared library the packaged binary loads is declared through
# the package that ships it), `apt-get install ./hspy_*.deb` installs it resolving those from
# Debian's packages, the installed /usr/bin/hspy runs (--version, a short lint), man(1) finds
# its page, and `apt-get remove hspy` takes every file away again.
#
# Needs root, dpkg and apt (exit 77 otherwise). The package is never left installed: the EXIT
# trap removes it whatever happens. A lock serialises runs from several build folders, and a
# system that already has hspy in /usr/bin is left alone (skip). The sanitizer build skips:
# its binary needs the sanitizer runtimes, and the normal build checks the package.
source "$(dirname "$0")/lib/common.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root to install a package"
for tool in dpkg dpkg-deb dpkg-query apt-get; do
    command -v "$tool" >/dev/null || skip "$tool not available (not a Debian system?)"
done
# CPack computes Depends with dpkg-shlibdeps (dpkg-dev) and finds binaries with file(1).
command -v dpkg-shlibdeps >/dev/null || skip "dpkg-shlibdeps not available (package dpkg-dev)"
command -v file >/dev/null || skip "file not available (package file)"
command -v readelf >/dev/null || skip "readelf not available (package binutils)"

cache=$HSPY_BUILD_DIR/CMakeCache.txt
grep -q '^HSPY_SANITIZE:BOOL=ON' "$cache" &&
    skip "sanitizer build: the package is built and checked from the normal build"
cpack_cmd=$(sed -n 's/^CMAKE_CPACK_COMMAND:INTERNAL=//p' "$cache")
[ -x "$cpack_cmd" ] || cpack_cmd=$(command -v cpack) || skip "cpack not found"

if command -v flock >/dev/null; then
    exec 9>/run/lock/hspy-deb-test.lock 2>/dev/null || exec 9>/tmp/hspy-deb-test.lock
    flock -w 600 9 || skip "another package test holds the lock for over 10 minutes"
fi
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-y -q -o DPkg::Lock::Timeout=300)
installed_by_us=0
# Written before installing and removed after removing: a run killed outright (no trap runs on
# SIGKILL, which a test timeout sends) leaves it, and the next run knows the package is ours.
marker=/var/tmp/hspy-deb-test.installed

# True when dpkg knows any state of hspy other than "not installed" (config files left count).
pkg_present() {
    local status
    status=$(dpkg-query -W -f='${db:Status-Status}' hspy 2>/dev/null) || return 1
    [ -n "$status" ] && [ "$status" != not-installed ]
}

remove_package() {
    [ "$installed_by_us" -eq 1 ] || return 0
    if pkg_present; then
        apt-get remove "${apt_opts[@]}" hspy >/dev/null 2>&1 || dpkg --purge hspy >/dev/null 2>&1
    fi
    pkg_present || rm -f "$marker"
    installed_by_us=0
}

if [ -f "$marker" ] && pkg_present; then
    echo "note: removing the package an interrupted run of this test left installed"
    installed_by_us=1
    remove_package
fi
pkg_present && skip "an hspy package is already known to dpkg here; not touching it"
[ -e /usr/bin/hspy ] && skip "/usr/bin/hspy exists already; not touching it"
rm -f "$marker"
trap 'remove_package; cleanup' EXIT
trap 'exit 1' INT TERM HUP

# Build the package from this build folder into the private folder.
start=$SECONDS
if ! "$cpack_cmd" -G DEB -B "$WORK/pkg" --config "$HSPY_BUILD_DIR/CPackConfig.cmake" \
    >"$WORK/cpack.log" 2>&1; then
    cat "$WORK/cpack.log"
    fail "cpack -G DEB failed"
    finish
fi
debs=("$WORK"/pkg/hspy_*.deb)
[ -f "${debs[0]}" ] || { fail "cpack wrote no hspy_*.deb"; ls "$WORK/pkg"; finish; }
deb=${debs[0]}
version=$("$HSPY" --version | awk '{ print $2 }')
arch=$(dpkg --print-architecture)
check "package file is hspy_${version}_$arch.deb" test "$(basename "$deb")" = "hspy_${version}_$arch.deb"
echo "ok: package built in $((SECONDS - start))s"

field() { dpkg-deb -f "$deb" "$1"; }
check "Package: hspy" test "$(field Package)" = hspy
check "Version: $version" test "$(field Version)" = "$version"
check "Architecture: $arch" test "$(field Architecture)" = "$arch"
check "Section: net" test "$(field Section)" = net
check "Maintainer is 'Name <email>'" bash -c "[[ '$(field Maintainer)' =~ ^[^\<]+\ \<[^@]+@[^\>]+\>$ ]]"
check "Description has a summary and a long text" \
    test "$(field Description | wc -l)" -ge 3
check "no Homepage field" test -z "$(field Homepage)"
depends=$(field Depends)
echo "Depends: $depends"

# Every shared library the packaged binary loads must come from a package named in Depends.
dpkg-deb -x "$deb" "$WORK/root"
check "package holds usr/bin/hspy" test -x "$WORK/root/usr/bin/hspy"
check "package holds the bash completion" \
    test -f "$WORK/root/usr/share/bash-completion/completions/hspy"
if grep -q '^HSPY_MAN_BUILT:INTERNAL=ON' "$cache"; then
    check "package holds the man page" test -f "$WORK/root/usr/share/man/man1/hspy.1.gz"
fi
# The binary's own NEEDED entries (not what those libraries load in turn), located by ldd.
readelf -d "$WORK/root/usr/bin/hspy" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' >"$WORK/needed"
ldd "$WORK/root/usr/bin/hspy" | awk 'NR == FNR { needed[$1] = 1; next }
    $2 == "=>" && $3 ~ /^\// && needed[$1] { print $3 }' "$WORK/needed" - >"$WORK/libs"
check "every NEEDED library located" test "$(wc -l <"$WORK/libs")" -eq "$(wc -l <"$WORK/needed")"
[ -s "$WORK/libs" ] || fail "ldd found no shared libraries in the packaged binary"
while read -r lib; do
    owners=$(dpkg -S "*/$(basename "$lib")" 2>/dev/null | cut -d: -f1 | tr -d ' ' | tr ',' '\n' | sort -u)
    [ -n "$owners" ] || { fail "no package owns $lib"; continue; }
    ok=0
    for pkg in $owners; do
        grep -qE "(^|, )$pkg( |,|$)" <<<"$depends" && ok=1
    done
    if [ "$ok" -eq 1 ]; then
        echo "ok: $(basename "$lib") declared ($(tr '\n' ' ' <<<"$owners"))"
    else
        fail "$(basename "$lib") comes from $(tr '\n' ' ' <<<"$owners")but Depends lacks it"
    fi
done <"$WORK/libs"

# Install it as a user would; apt resolves Depends from Debian's packages.
cd "$WORK/pkg" || exit 1
start=$SECONDS
installed_by_us=1
echo "$deb" >"$marker"
if ! apt-get install "${apt_opts[@]}" "./$(basename "$deb")" >"$WORK/apt.log" 2>&1; then
    if grep -qE 'Unable to locate|unmet dependencies|not installable' "$WORK/apt.log"; then
        echo "note: dependencies unresolved; refreshing the package lists once"
        apt-get update -q >/dev/null 2>&1
        apt-get install "${apt_opts[@]}" "./$(basename "$deb")" >"$WORK/apt.log" 2>&1
    fi
fi
if ! dpkg-query -W -f='${Status}' hspy 2>/dev/null | grep -q 'install ok installed'; then
    tail -20 "$WORK/apt.log"
    fail "apt-get install ./$(basename "$deb") did not install hspy"
    finish
fi
echo "ok: apt-get install took $((SECONDS - start))s"

cd "$WORK" || exit 1
check "installed hspy --version" test "$(/usr/bin/hspy --version)" = "hspy $version"
printf 'GET / HTTP/1.1\r\nHost: a\r\n\r\n' | /usr/bin/hspy lint - >"$WORK/clean.out"
check "installed hspy lint: clean request exits 0" test $? -eq 0
printf 'GET / HTTP/1.1\r\nContent-Lenght: 1\r\n\r\n' | /usr/bin/hspy lint - >"$WORK/bad.out"
check "installed hspy lint: broken request exits 3" test $? -eq 3
check "installed hspy lint explains the typo" grep -q 'header-name-typo' "$WORK/bad.out"
if command -v man >/dev/null && grep -q '^HSPY_MAN_BUILT:INTERNAL=ON' "$cache"; then
    check "man -w hspy finds the packaged page" \
        test "$(man -w hspy 2>/dev/null)" = /usr/share/man/man1/hspy.1.gz
fi
dpkg -L hspy >"$WORK/files"

# Remove it; nothing of it may stay.
start=$SECONDS
apt-get remove "${apt_opts[@]}" hspy >"$WORK/remove.log" 2>&1 || {
    tail -20 "$WORK/remove.log"
    fail "apt-get remove hspy failed"
}
if pkg_present; then
    fail "hspy is still known to dpkg after apt-get remove: $(dpkg-query -W -f='${Status}' hspy)"
else
    installed_by_us=0
    rm -f "$marker"
    echo "ok: apt-get remove took $((SECONDS - start))s"
fi
left=0
while read -r path; do
    [ -f "$path" ] && { fail "$path is left after removal"; left=1; }
done <"$WORK/files"
[ "$left" -eq 0 ] && echo "ok: no file of the package is left"
check "hspy no longer on PATH at /usr/bin" test ! -e /usr/bin/hspy
finish
