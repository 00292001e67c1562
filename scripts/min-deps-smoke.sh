#!/usr/bin/env bash
# Install screenloop with every direct dependency at its declared lower bound
# (uv --resolution lowest-direct; extras pytest and lightcone) into a throwaway venv
# under /tmp, then smoke it: imports (yaml parses; the tzafon SDK imports),
# `screenloop --version`, every command's --help (typer reads the `str | None`
# options), mss.MSS, and the example UI suite replayed from its cassettes
# (Playwright + Chromium, the pytest plugin, pydantic, httpx, pillow).
#
#   scripts/min-deps-smoke.sh            (PYTHON=3.10 to pick another interpreter)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/screenloop-min-deps.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
uv venv -q --python "${PYTHON:-3.11}" "$WORK/venv"
PY="$WORK/venv/bin/python"
uv pip install -q --python "$PY" --resolution lowest-direct "$ROOT[pytest,lightcone]"
uv pip list --python "$PY" 2>/dev/null \
  | grep -Ei '^(httpx|pydantic|playwright|python-xlib|mss|pillow|typer|rich|pyyaml|pytest|tzafon) '
cd "$WORK"  # not the repository: the installed package is what is imported
"$PY" - <<'PY'
import mss
import tzafon
import yaml

import agent
import executors
import sandbox
from agent import Agent
from executors import PlaywrightComputer

assert hasattr(mss, "MSS"), "mss.MSS is missing"
assert yaml.safe_load("task: [a, b]") == {"task": ["a", "b"]}  # batch task files
assert hasattr(tzafon, "Lightcone") and hasattr(tzafon, "AsyncLightcone"), "tzafon SDK"
print("imports ok, agent", agent.__version__, Agent.__name__, PlaywrightComputer.__name__,
      executors.__name__, sandbox.__name__)
PY
"$WORK/venv/bin/screenloop" --version
for cmd in run demo replay report doctor serve-script; do
  "$WORK/venv/bin/screenloop" "$cmd" --help >/dev/null
done
echo "every command's --help ok"
cp -r "$ROOT/examples/ui-tests" "$WORK/ui-tests"
cd "$WORK/ui-tests"
env -u TZAFON_API_KEY -u OPENAI_API_KEY -u LIGHTCONE_BASE_URL -u OPENAI_BASE_URL CI=true \
  "$PY" -m pytest -q -p no:cacheprovider --screenloop-run-dir="$WORK/runs"
echo "min-deps smoke: ok"
