#!/usr/bin/env bash
# The real OpenStack Placement, in its own venv, for benchmarks/placement.py.
#
#   tools/placement-peer/setup.sh [DIR]     (default DIR: .venv-placement)
#
# Installs openstack-placement from PyPI, writes a config with SQLite and
# auth_strategy=noauth2, and syncs the schema. benchmarks/placement.py serves it
# with wsgiref on 127.0.0.1 (loopback only).
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${1:-.venv-placement}
STATE=${PLACEMENT_PEER_STATE:-${TMPDIR:-/tmp}/kumo-placement-peer}
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
if [ ! -x "$VENV/bin/placement-manage" ]; then
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q openstack-placement
fi
mkdir -p "$STATE"
cat > "$STATE/placement.conf" <<CONF
[DEFAULT]
debug = False
[api]
auth_strategy = noauth2
[placement_database]
connection = sqlite:///$STATE/placement.sqlite
CONF
rm -f "$STATE/placement.sqlite"
"$VENV/bin/placement-manage" --config-file "$STATE/placement.conf" db sync
echo "placement peer ready: $VENV, config $STATE/placement.conf"
