#!/usr/bin/env bash
# Install optviz on a fresh Debian/Ubuntu machine: system libraries for Qt + OpenGL (and Xvfb for running
# without a screen), a virtual environment in .venv, and the Python packages. `--test` adds the test tools.
# Safe to run again: every step skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
[[ "${1:-}" == "--test" ]] && extras="[test]"

# Qt's xcb platform, Mesa's OpenGL, Xvfb; the minimal set found on a bare Debian 12.
packages=(xvfb xauth libgl1 libegl1 libgl1-mesa-dri libglib2.0-0 libfontconfig1 libdbus-1-3 libxkbcommon-x11-0
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-render-util0 libxcb-image0)
python3 -c "import venv, ensurepip" 2>/dev/null || packages+=(python3-venv)
# The study tests start their own PostgreSQL server in a temporary folder (Debian keeps it in /usr/lib/postgresql).
[[ -n "$extras" ]] && packages+=(postgresql)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

[[ -x .venv/bin/python ]] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# torch 2.13 is pinned here (not in pyproject) so machines that keep its CPU wheel locally use it.
.venv/bin/python -m pip install -q "torch==2.13.*" -e ".${extras}"
