#!/usr/bin/env bash
# Renders a report.html in headless Chromium to a PNG screenshot and fails if
# the page made any network request: the report must be self-contained.
#
# usage: scripts/check-report.sh [-o shot.png] [-w width] [-H height] REPORT.html
#        scripts/check-report.sh --self-test
#
#   -o  the screenshot (default: REPORT.png beside the report)
#   -w  the window width in CSS pixels (default 1280)
#   -H  the window height, which is what the screenshot shows (default 6000)
#   --self-test  checks a page that loads an image from the network and
#                expects this script to catch it (run it on a new Chromium)
#
# It installs nothing: it needs /usr/bin/chromium (apt-get install chromium)
# and jq (apt-get install jq); CHROMIUM overrides the browser's path.
#
# How requests are caught: Chromium writes its net log (--log-net-log), where
# every URL request carries its initiator. A request the page made has the
# page's origin ("null" or "file://" for a file); Chromium's own background
# requests (component updates, network time, account lookups), which the
# --disable-* flags do not all stop, have "not an origin" and are ignored.
# Any host name resolved that is not one of those background requests'
# hosts (a preconnect, a DNS prefetch) also fails. So does any Content
# Security Policy violation in the console (--enable-logging=stderr --v=1):
# the report's CSP blocks loads before they reach the network, and a
# blocked load is still a bug in the report.
set -euo pipefail

usage() { sed -n '5,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

chromium=${CHROMIUM:-/usr/bin/chromium}
out="" width=1280 height=6000 selftest=0 pages=()
while [ $# -gt 0 ]; do
  case $1 in
    -o) out=$2; shift 2 ;;
    -w) width=$2; shift 2 ;;
    -H) height=$2; shift 2 ;;
    --self-test) selftest=1; shift ;;
    -h|--help) usage ;;
    -*) echo "check-report: unknown option $1" >&2; usage ;;
    *) pages+=("$1"); shift ;;
  esac
done

if [ ! -x "$chromium" ]; then
  echo "check-report: $chromium not found; install it with: apt-get install chromium" >&2
  exit 2
fi
if ! command -v jq >/dev/null; then
  echo "check-report: jq not found; install it with: apt-get install jq" >&2
  exit 2
fi

work=$(mktemp -d)
keep=0
cleanup() { if [ "$keep" = 0 ]; then rm -rf "$work"; fi; }
trap cleanup EXIT

# check PAGE SHOT: renders PAGE to SHOT; prints what it caught; returns 1 if
# the page made a request, 2 if the check itself could not be made.
check() {
  local page=$1 shot=$2 abs url netlog=$work/netlog.json log=$work/chromium.log
  abs=$(realpath "$page")
  url="file://$(printf '%s' "$abs" | sed 's/%/%25/g; s/ /%20/g; s/#/%23/g; s/?/%3F/g')"
  rm -rf "$work/profile" "$netlog" "$log" "$shot"
  local status=0
  timeout 120 "$chromium" --headless --no-sandbox --disable-gpu \
    --disable-background-networking --disable-component-update --disable-sync \
    --no-first-run --no-default-browser-check --user-data-dir="$work/profile" \
    --enable-logging=stderr --v=1 \
    --log-net-log="$netlog" --net-log-capture-mode=Default \
    --hide-scrollbars --window-size="$width,$height" --screenshot="$shot" \
    "$url" >"$work/chromium.out" 2>"$log" || status=$?
  if [ "$status" != 0 ]; then
    echo "chromium exited with status $status; its log: $log" >&2
    return 2
  fi
  if [ ! -s "$shot" ]; then
    echo "chromium wrote no screenshot; its log: $log" >&2
    return 2
  fi
  local report
  if ! report=$(jq -r '
      (.constants.logEventTypes | to_entries | map({key: (.value | tostring), value: .key}) | from_entries) as $name
      | [.events[] | . + {name: $name[.type | tostring]}] as $events
      | [$events[] | select(.name == "URL_REQUEST_START_JOB" and .params.url != null)] as $requests
      | [$requests[] | select(.params.initiator == "not an origin")] as $own
      | ($own | map(.params.url | capture("^(?<o>[a-z][a-z0-9+.-]*://[^/?#]+)").o) | unique) as $ownOrigins
      | ($requests[]
          | select(.params.initiator != "not an origin")
          | select(.params.url | test("^(file|data|blob|about|chrome|chrome-extension|devtools):") | not)
          | "request \(.params.url) (initiator \(.params.initiator))"),
        ($events[]
          | select(.name == "HOST_RESOLVER_MANAGER_REQUEST" and .params.host != null)
          | .params.host as $h
          | select($ownOrigins | index($h) | not)
          | "host lookup \($h)"),
        "# ignored \($own | length) requests Chromium made on its own"
    ' "$netlog" 2>"$work/jq.err"); then
    echo "could not read the net log $netlog: $(cat "$work/jq.err")" >&2
    return 2
  fi
  local found
  found=$( { printf '%s\n' "$report" | grep -v '^#' | sort -u || true; } | sed '/^$/d')
  local csp
  csp=$(grep -E 'CONSOLE.*(violates the following Content Security Policy|Refused to (load|connect|frame|execute|apply))' "$log" |
    sed 's/^.*CONSOLE[^"]*"//' | cut -c1-200 || true)
  printf '%s\n' "$report" | grep '^#' | sed 's/^# /check-report: /' >&2
  if [ -n "$found$csp" ]; then
    if [ -n "$found" ]; then printf '%s\n' "$found" | sed 's/^/network: /'; fi
    if [ -n "$csp" ]; then printf '%s\n' "$csp" | sed 's/^/blocked by CSP: /'; fi
    return 1
  fi
  if ! grep -q "FileURLLoader::Start: file://" "$log"; then
    echo "check-report: warning: the log does not show the page being loaded; see $log" >&2
  fi
  return 0
}

if [ "$selftest" = 1 ]; then
  page=$work/selftest.html
  cat >"$page" <<'EOF'
<!DOCTYPE html><html><head><meta charset="utf-8"><title>self-test</title>
<link rel="preconnect" href="https://preconnect.example.com"></head>
<body><p>This page loads an image from the network.</p>
<img src="http://img.example.com/pixel.png" alt=""></body></html>
EOF
  status=0
  check "$page" "$work/selftest.png" >"$work/selftest.out" || status=$?
  cat "$work/selftest.out"
  if [ "$status" = 1 ] && grep -q 'img.example.com/pixel.png' "$work/selftest.out" &&
    grep -q 'host lookup https://preconnect.example.com' "$work/selftest.out"; then
    echo "check-report: self-test passed: the image request and the preconnect were caught"
    exit 0
  fi
  keep=1
  echo "check-report: self-test FAILED (status $status): the request was not caught; logs in $work" >&2
  exit 1
fi

[ ${#pages[@]} -eq 1 ] || usage
page=${pages[0]}
[ -f "$page" ] || { echo "check-report: $page: no such file" >&2; exit 2; }
[ -n "$out" ] || out="${page%.html}.png"

status=0
check "$page" "$out" || status=$?
case $status in
  0) echo "check-report: ok: $page made no network request; screenshot $out" ;;
  1) keep=1; echo "check-report: FAIL: $page is not self-contained; logs in $work" >&2 ;;
  *) keep=1; echo "check-report: could not check $page; logs in $work" >&2 ;;
esac
exit "$status"
