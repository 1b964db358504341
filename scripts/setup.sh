#!/usr/bin/env bash
# Idempotent install of everything pbx-control needs on Debian 12 (run as root):
# Debian packages, the Python virtual environment, and the Asterisk 22 root.
# --python-only: the virtual environment alone (no root needed), enough for lint, fmt and unit tests.
set -euo pipefail
cd "$(dirname "$0")/.."

python_only=0
case "${1:-}" in
    "") ;;
    --python-only) python_only=1 ;;
    *) echo "usage: $0 [--python-only]" >&2; exit 2 ;;
esac

APT_PACKAGES=(debootstrap sip-tester postgresql-15 postgresql-client-15 espeak-ng sox make
              python3-venv ca-certificates procps iproute2
              wrk   # wrk: make bench's HTTP load
              chromium chromium-driver nodejs)  # the web app's build; browser tests (Playwright drives Debian's Chromium)

missing=()
if ((!python_only)); then
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
fi
if ((${#missing[@]})); then
    echo "setup: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Python 3.11 virtual environment, reinstalled when pyproject.toml changes.
PYTHON="${PBX_PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))'; then
    echo "setup: Python 3.11 or newer is needed ($PYTHON is $("$PYTHON" -V 2>&1))" >&2
    exit 1
fi
if [[ ! -x .venv/bin/python ]]; then
    "$PYTHON" -m venv .venv || {
        rm -rf .venv  # a half-made one would be taken as ready next time
        echo "setup: '$PYTHON -m venv' failed (on Debian: apt-get install python3-venv)" >&2
        exit 1
    }
fi
stamp=.venv/.pbx-control-installed
if [[ ! -f "$stamp" || pyproject.toml -nt "$stamp" ]]; then
    echo "setup: installing Python packages into .venv"
    .venv/bin/pip install -q --upgrade pip
    .venv/bin/pip install -q -e '.[dev]'
    touch "$stamp"
fi

if ((python_only)); then
    echo "setup: Python environment ready"
    exit 0
fi

# The web app (webapp/): npm ci from the lockfile and the Vite build into webapp/dist, served at "/".
# Rebuilt when a source is newer than the build.
if [[ ! -d webapp/node_modules || webapp/package-lock.json -nt webapp/node_modules ]]; then
    echo "setup: installing the web app's npm packages"
    command -v npm >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends npm
    (cd webapp && npm ci --no-audit --no-fund)
    touch webapp/node_modules
fi
if [[ ! -f webapp/dist/index.html ]] || [[ -n "$(find webapp/src webapp/index.html webapp/vite.config.js -newer webapp/dist/index.html 2>/dev/null | head -1)" ]]; then
    echo "setup: building the web app"
    (cd webapp && npm run build --silent)
fi

# Asterisk 22: a Debian sid root, unless a native Asterisk is configured.
if [[ "${PBX_ASTERISK_ROOT:-}" != "native" ]]; then
    bash scripts/build-asterisk-root.sh
fi
echo "setup: ready"
