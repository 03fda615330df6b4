#!/usr/bin/env bash
# package-test.sh: build the Debian packages from this tree and take them
# through what a user does (docs/install.md), as far as this machine allows:
# dpkg-buildpackage, lintian, dpkg -i, the programs and man pages from their
# installed paths, systemd-analyze verify/security on the installed unit,
# then remove and purge, and check that nothing is left behind.
# It installs and removes system packages, so it runs only as root (CI does)
# and only when no sunwire package is installed already.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)

if [ "$(id -u)" -ne 0 ]; then
  echo "package test: SKIPPED: it installs and purges packages, which needs root (run it as root, as CI does)"
  exit 0
fi
for p in sunwire libsunwire0 libsunwire-dev; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "installed"; then
    echo "package test: SKIPPED: $p is installed on this machine; it is left alone"
    exit 0
  fi
done
scripts/deps.sh package

fail() { echo "package test: FAILED: $*" >&2; exit 1; }
# Each step line shows the wall time so far and the CPU time (user, system) spent by
# the commands so far: on a shared machine the first says little, the second does.
step() {
  times >"$tmp/times"
  echo "-- package test: [$((SECONDS - t0)) s, CPU $(tail -1 "$tmp/times")] $*"
}
t0=$SECONDS

tmp=$(mktemp -d /tmp/sunwire-package.XXXXXX)
cleanup() {
  # Never leave the packages behind, whatever failed.
  dpkg -P sunwire libsunwire-dev libsunwire0 >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

step "copy the source tree (build directories left out)"
tree="$tmp/sunwire"
mkdir -p "$tree"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # Tracked files and new ones that are not ignored: what a clean clone plus the work in progress holds.
  git -C "$src" ls-files -z --cached --others --exclude-standard |
    (cd "$src" && xargs -0 cp --parents -t "$tree" 2>/dev/null || true)
else
  tar -C "$src" --exclude='./build*' --exclude='./.git' -cf - . | tar -C "$tree" -xf -
fi
[ -f "$tree/debian/control" ] || fail "debian/control did not reach the copy"

step "dpkg-buildpackage -us -uc -b"
(cd "$tree" && DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=$(nproc)" dpkg-buildpackage -us -uc -b >"$tmp/build.log" 2>&1) ||
  { tail -50 "$tmp/build.log" >&2; fail "dpkg-buildpackage"; }
changes=$(ls "$tmp"/sunwire_*.changes)
debs=("$tmp"/sunwire_*.deb "$tmp"/libsunwire0_*.deb "$tmp"/libsunwire-dev_*.deb)
for d in "${debs[@]}"; do [ -f "$d" ] || fail "no $d"; done

step "lintian (errors and warnings fail; overrides in debian/*.lintian-overrides)"
lintian --fail-on error,warning --display-level '>=warning' "$changes" || fail "lintian"

step "dependencies come from dpkg-shlibdeps"
depends=$(dpkg-deb -f "$tmp"/sunwire_*.deb Depends)
echo "   sunwire Depends: $depends"
for lib in libc6 libmosquitto1 libmicrohttpd12 libsqlite3-0 libjansson4 libinih1; do
  grep -q "$lib" <<<"$depends" || fail "sunwire does not depend on $lib"
done

step "dpkg -i"
dpkg -i "${debs[@]}" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; fail "dpkg -i"; }
files=$(dpkg -L sunwire libsunwire0 libsunwire-dev)

step "the programs from their installed paths"
# (Output captured first: grep -q closing the pipe early would fail the pipeline.)
out=$(/usr/bin/taptap --help) && grep -q "Usage: taptap" <<<"$out" || fail "taptap --help"
out=$(/usr/bin/rctclient --help) && grep -q "Usage: rctclient" <<<"$out" || fail "rctclient --help"
out=$(/usr/bin/sunwire features) && grep -q "MQTT and Home Assistant output: enabled" <<<"$out" ||
  fail "sunwire features: $out"
[ "$(readlink -f "$(command -v sunwire)")" = /usr/bin/sunwire ] || fail "sunwire is not the one on PATH"

step "the service's user, configuration and state directory"
grep -qw dialout <<<"$(id -nG sunwire)" || fail "user sunwire is not in group dialout"
[ "$(stat -c '%U:%G %a' /etc/sunwire/sunwire.ini)" = "root:sunwire 640" ] ||
  fail "/etc/sunwire/sunwire.ini: $(stat -c '%U:%G %a' /etc/sunwire/sunwire.ini)"
grep -q " /etc/sunwire/sunwire.ini " <<<"$(dpkg-query -W -f='${Conffiles}\n' sunwire)" ||
  fail "/etc/sunwire/sunwire.ini is not a conffile"
runuser -u sunwire -- /usr/bin/sunwire run --config /etc/sunwire/sunwire.ini --check ||
  fail "the shipped configuration does not pass --check as user sunwire"

step "man pages"
for page in sunwire sunwire-run taptap rctclient sunwire.ini.5; do
  case $page in *.5) path=$(man -w 5 sunwire.ini || true) ;; *) path=$(man -w 1 "$page" || true) ;; esac
  [ -f "$path" ] || fail "man page $page not installed"
  warn=$(MANWIDTH=80 man --warnings -l "$path" 2>&1 >/dev/null)
  [ -z "$warn" ] || fail "man $page: $warn"
done

step "systemd-analyze verify and security on the installed unit"
unit=$(dpkg -L sunwire | grep '/systemd/system/sunwire.service$') || fail "no sunwire.service installed"
systemd-analyze verify "$unit" || fail "systemd-analyze verify"
security=$(systemd-analyze security --offline=true "$unit" | tail -1)
echo "   $security"
grep -Eq "exposure level for sunwire.service: [0-9.]+ (OK|SAFE)" <<<"$security" || fail "security: $security"

step "remove and purge"
dpkg -r sunwire libsunwire-dev libsunwire0 >/dev/null || fail "dpkg -r"
[ -f /etc/sunwire/sunwire.ini ] || fail "dpkg -r removed the configuration (only purge may)"
# The libraries have no configuration: dpkg -r removed them completely already.
dpkg -P sunwire >/dev/null || fail "dpkg -P"
for p in sunwire libsunwire0 libsunwire-dev; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  case $status in ""|"un "*|"pn "*) ;; *) fail "$p still known to dpkg after purge: $status" ;; esac
done
left=""
while IFS= read -r f; do
  # Directories that other packages own too (/usr, /usr/share/man/man1, ...) stay.
  if [ -e "$f" ] && { [ ! -d "$f" ] || [ "$f" = /etc/sunwire ] || [ "$f" = /usr/share/sunwire ] ||
                      [ "$f" = /usr/include/sunwire ]; }; then
    left="$left $f"
  fi
done <<<"$files"
[ -z "$left" ] || fail "left after purge:$left"
[ ! -e /var/lib/sunwire ] || fail "/var/lib/sunwire left after purge"
! getent passwd sunwire >/dev/null || fail "user sunwire left after purge"
times >"$tmp/times"
echo "package test: passed in $((SECONDS - t0)) s, CPU $(tail -1 "$tmp/times") ($(wc -l <<<"$files") installed paths, all gone after purge)"
