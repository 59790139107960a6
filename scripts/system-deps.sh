#!/usr/bin/env bash
# Installs the Debian packages that the tests (and, with "bench", the benchmarks) need, when missing.
# Usage: scripts/system-deps.sh [test|bench]
set -euo pipefail
want=(tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd chromium postgresql)
[ "${1:-test}" = bench ] && want+=(unpaper)

missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing Debian packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
