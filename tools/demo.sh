#!/usr/bin/env bash
# The main job: install, build the demo project, open the viewer.
# Without a display, run the scripted tour under Xvfb and write screenshots to ./demo_screenshots.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/bootstrap.sh
DEMO=${AIMMS_DEMO_PATH:-demo_project}
if [ -n "${DISPLAY:-}" ]; then
  .venv/bin/aimms demo "$DEMO"
  exec .venv/bin/aimms open "$DEMO"
else
  exec xvfb-run -a -s "-screen 0 1920x1080x24 +extension GLX" .venv/bin/aimms demo "$DEMO" --screenshots demo_screenshots
fi
