#!/usr/bin/env bash
# Makes sure a Chromium the browser test can drive (chromedp) is installed:
# Debian's chromium package, installed with apt-get if no Chromium or
# Chrome is found. Safe to run repeatedly; a no-op when one is present.
set -euo pipefail

log() { echo "chromium: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"
	elif command -v sudo >/dev/null; then sudo "$@"
	else die "need root to run: $*"
	fi
}

for name in chromium chromium-browser google-chrome google-chrome-stable; do
	if command -v "$name" >/dev/null; then
		log "found $(command -v "$name")"
		exit 0
	fi
done
command -v apt-get >/dev/null || die "apt-get not found: install Chromium yourself"
log "installing Debian's chromium"
as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
command -v chromium >/dev/null || die "chromium is not on PATH after installation"
log "installed $(chromium --version 2>/dev/null || echo chromium)"
