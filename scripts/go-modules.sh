#!/usr/bin/env bash
# Downloads the Go modules mlrc's build needs, saying so, when they are not
# in the module cache yet (the first build on a machine). While it
# downloads it prints how much has arrived and, from the rate so far, about
# how long is left. Does nothing when the modules are present.
set -euo pipefail

GO=${GO:-go}
TOTAL_MB=${MLRC_MODULES_MB:-100} # what go mod download fetched into an empty cache: 96 MB (Go 1.26, this go.sum)

if GOPROXY=off GOFLAGS=-mod=readonly "$GO" list -deps ./cmd/mlrc >/dev/null 2>&1; then
  exit 0
fi

cache="$("$GO" env GOMODCACHE)/cache/download"
mb() { du -sm "$cache" 2>/dev/null | cut -f1 || echo 0; }
echo "downloading Go modules (first build only, ~${TOTAL_MB} MB)…"
start_mb=$(mb)
start=$(date +%s)
"$GO" mod download &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
  sleep 10
  kill -0 "$pid" 2>/dev/null || break
  got=$(( $(mb) - start_mb ))
  took=$(( $(date +%s) - start ))
  if [ "$got" -gt 0 ] && [ "$got" -lt "$TOTAL_MB" ]; then
    left=$(( (TOTAL_MB - got) * took / got ))
    echo "  ${got} MB of ~${TOTAL_MB} MB after ${took}s; about $(( (left + 59) / 60 )) min left"
  else
    echo "  ${got} MB after ${took}s"
  fi
done
wait "$pid"
echo "Go modules downloaded in $(( $(date +%s) - start ))s; building (the first build compiles them: a few minutes)…"
