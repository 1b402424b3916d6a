#!/usr/bin/env bash
# Install the benchmark peer: the real OpenStack Keystone, served by uWSGI, in its
# own virtualenv so that its pins never meet Kumo's.  Idempotent: a second run
# only checks that both packages import.
#
#   tools/keystone-peer/setup.sh            # creates /work/main/.venv-keystone
#   KEYSTONE_VENV=/somewhere tools/keystone-peer/setup.sh
#
# Everything comes from PyPI through pip; nothing is downloaded at run time.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${KEYSTONE_VENV:-$repo/.venv-keystone}"
python="${KEYSTONE_PYTHON:-/root/.pyenv/versions/3.11.7/bin/python}"
if [[ ! -x "$python" ]]; then
    python="$(command -v python3.11 || command -v python3)"
fi

if [[ -x "$venv/bin/keystone-manage" && -x "$venv/bin/uwsgi" ]] \
    && "$venv/bin/python" -c 'import keystone.server.wsgi' 2>/dev/null; then
    echo "keystone peer already installed in $venv ($("$venv/bin/pip" show keystone | sed -n 's/^Version: //p'))"
    exit 0
fi

if [[ ! -x "$venv/bin/python" ]]; then
    echo "creating $venv with $python"
    "$python" -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --upgrade pip setuptools wheel
# uwsgi builds from source: it needs a C compiler and the Python headers (pyenv
# ships them); if the build fails, install build-essential with apt-get.
"$venv/bin/pip" install --quiet keystone uwsgi
"$venv/bin/python" -W ignore -c 'import keystone.server.wsgi'
echo "keystone peer installed in $venv ($("$venv/bin/pip" show keystone | sed -n 's/^Version: //p'), uwsgi $("$venv/bin/uwsgi" --version))"
