#!/usr/bin/env bash
# The whole test suite: install, then pytest under Xvfb (UI tests need a display; Mesa renders GL).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/bootstrap.sh
exec xvfb-run -a -s "-screen 0 1920x1080x24 +extension GLX" .venv/bin/python -m pytest "$@"
