#!/usr/bin/env bash
# Installs the interop relying parties' pinned dependencies (idempotent, any cwd):
#   node/node_modules  via npm ci (openid-client, from package-lock.json)
#   python/.venv       via venv + pip (Authlib, requests, from requirements.txt)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

(cd node && npm ci --no-audit --no-fund)

python3 -m venv python/.venv
(cd python && .venv/bin/pip install --disable-pip-version-check -q -r requirements.txt)
