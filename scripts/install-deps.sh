#!/usr/bin/env bash
# Installs the Debian packages mlrc's experiments and tests use, when any is
# missing. Safe to run again: it does nothing when all are present.
set -euo pipefail

packages=(
  bubblewrap            # the experiment sandbox
  git                   # workspace snapshots
  poppler-utils         # pdftotext, the fallback for PDF papers
  python3               # experiments run with /usr/bin/python3
  python3-numpy python3-pandas python3-sklearn python3-torch python3-xgboost python3-scipy
  dataset-fashion-mnist # the fashion-mnist example task
  chromium              # the web UI's browser tests (web/browser_test.go) and scripts/check-report.sh
  slurm-wlm munge       # the Slurm executor's tests start a single-node Slurm (executor/slurm/slurmtest)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "dependencies: all ${#packages[@]} Debian packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "dependencies: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
