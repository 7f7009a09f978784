#!/usr/bin/env bash
# Install the real software the integration tests run on loopback (Debian packages):
# the CNCF distribution registry, skopeo, umoci, redis-server and htpasswd; mmdebstrap (a real
# Debian rootfs for the files tests, from the Debian mirror); rpm (real rpmdb.sqlite files for
# diff's rpm reader: rpmbuild, rpm --initdb, rpm -i --justdb); db5.3-util (db5.3_load: real
# Berkeley DB `Packages` files, written by libdb, for the rpm BDB reader); node and npm for the MCP Inspector
# CLI (scripts/install-mcp-inspector.sh).
# Needs root (or sudo). Without it, prints what to install; those tests then skip (or fail
# under CI=true).
set -euo pipefail
packages=(docker-registry skopeo umoci redis-server apache2-utils mmdebstrap rpm db5.3-util)
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
missing=()
for bin in docker-registry skopeo umoci redis-server htpasswd mmdebstrap rpm rpmbuild db5.3_load node npm; do
  command -v "$bin" >/dev/null 2>&1 || missing+=("$bin")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
  echo "install-test-deps: missing ${missing[*]}; run as root: apt-get install ${packages[*]}" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
