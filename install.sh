#!/usr/bin/env bash
# Everything framing needs on a fresh Debian/Ubuntu machine: Debian's chromium (the report is tested in
# a real headless browser), a virtual environment, and the package with its test dependencies.
set -euo pipefail
cd "$(dirname "$0")"
# chromium, and a colour emoji font so that emoji in articles render in the report.
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "color emoji"; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    # Wait for another apt or dpkg run (an unattended upgrade) instead of failing on its lock.
    lock="-o DPkg::Lock::Timeout=600"
    $sudo apt-get $lock update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get $lock install -y -qq chromium fonts-noto-color-emoji >/dev/null
fi
python3 -m venv .venv
.venv/bin/pip install -q -e ".[dev]"
