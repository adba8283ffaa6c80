#!/usr/bin/env bash
# Installs everything aimms_fast needs on a bare Debian/Ubuntu machine, idempotently:
# apt packages (Python venv, Xvfb, Mesa GL/EGL, X libraries GLFW loads, libportaudio2 that sounddevice
# plays take audio through: without it takes play silently) when missing and we are root,
# then a virtual environment in .venv with the package and its test extras.
set -euo pipefail
cd "$(dirname "$0")/.."
APT_PKGS="python3 python3-venv python3-pip xvfb xauth libgl1 libegl1 libgl1-mesa-dri libglx-mesa0 libegl-mesa0 libx11-6 libxrandr2 libxinerama1 libxcursor1 libxi6 libxkbcommon0 ffmpeg libportaudio2"
# Export tests and fonts (issue 10, media): pdftoppm/pdftotext read the PDF boards, headless Chromium opens
# the HTML review page, DejaVu is the font the PDF and animatic burn-in draw with.
APT_PKGS="$APT_PKGS poppler-utils chromium fonts-dejavu-core"
# issue 10 (timeline exports): the Kdenlive/MLT export is rendered with the real MLT engine in tests
APT_PKGS="$APT_PKGS melt"
# UI tests: XTest for real key/mouse input (tests/ui/xinput.py, the tour) and a session DBus daemon
# for the desktop-portal file dialog test; on a desktop both are already there.
APT_PKGS="$APT_PKGS libxtst6 dbus-daemon"
missing=""
if command -v dpkg-query >/dev/null 2>&1; then
  for p in $APT_PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
fi
if [ -n "$missing" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing apt packages:$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "bootstrap: missing apt packages:$missing (run as root or: sudo apt-get install$missing)" >&2
  fi
fi
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[test]"
