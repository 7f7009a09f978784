#!/usr/bin/env bash
# Install the MCP Inspector CLI (npm @modelcontextprotocol/inspector) into .mcp-inspector/
# (gitignored) for tests/integration/test_mcp_real.py. Pinned: 2.x exits non-zero (5) when a
# tool returns isError, which the tests rely on; it runs on node 20 despite its engines field.
# Without node/npm this prints what is missing and exits 0: those tests then skip (or fail
# under CI=true).
set -euo pipefail
VERSION="${MCP_INSPECTOR_VERSION:-2.12.0}"
cd "$(dirname "$0")/.."
DEST=.mcp-inspector
BIN="$DEST/node_modules/.bin/mcp-inspector"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "install-mcp-inspector: node and npm are needed (apt-get install nodejs npm)" >&2
  exit 0
fi
if [ -x "$BIN" ] && [ "$(cat "$DEST/.version" 2>/dev/null)" = "$VERSION" ]; then
  exit 0
fi
mkdir -p "$DEST"
if ! npm install --prefix "$DEST" --no-audit --no-fund --loglevel=error \
  "@modelcontextprotocol/inspector@$VERSION" >&2; then
  echo "install-mcp-inspector: npm could not install @modelcontextprotocol/inspector@$VERSION" >&2
  exit 0
fi
echo "$VERSION" > "$DEST/.version"
